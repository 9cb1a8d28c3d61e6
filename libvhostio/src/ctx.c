/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context: handler registry, netlink event handling, and the set of
 * devices being served.  Devices are added and removed only from the
 * thread that calls vhostio_ctx_dispatch().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libkmod.h>
#include "tcmu_abi.h"

#include <vhostio/vhostio.h>

#include "discovery.h"
#include "log.h"
#include "netlink.h"

/* A stopping device waits for its in-flight commands, logging at this interval. */
#define DRAIN_TIMEOUT_MS 30000

struct vhostio_ctx {
	struct vhostio_handler *handlers;
	size_t n_handlers;
	struct tcmu_netlink *nl;
	bool reply_mode;
	struct vhostio_device *devices;
	int n_devices;
};

const char *vhostio_version(void)
{
	return VHOSTIO_VERSION_STRING;
}

int vhostio_ctx_new(struct vhostio_ctx **ctxp)
{
	struct vhostio_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	*ctxp = ctx;
	return 0;
}

/* ---- handlers ---- */

static const struct vhostio_handler *find_handler(const struct vhostio_ctx *ctx, const char *subtype)
{
	for (size_t i = 0; i < ctx->n_handlers; i++)
		if (strcmp(ctx->handlers[i].subtype, subtype) == 0)
			return &ctx->handlers[i];
	return NULL;
}

int handler_import(struct vhostio_handler *dst, const struct vhostio_handler *h)
{
	/* The first two fields must be there to know what else is. */
	if (!h || h->struct_size < offsetof(struct vhostio_handler, subtype))
		return -EINVAL;
	if (h->api_version < 1 || h->api_version > VHOSTIO_API_VERSION) {
		vhostio_log(VHOSTIO_LOG_ERROR, "handler built for API version %u, this library speaks 1..%u",
			    h->api_version, VHOSTIO_API_VERSION);
		return -EINVAL;
	}
	/* Built against a newer library: what we don't know must be unused. */
	if (h->struct_size > sizeof(*dst)) {
		const uint8_t *extra = (const uint8_t *)h + sizeof(*dst);
		for (size_t i = 0; i < h->struct_size - sizeof(*dst); i++) {
			if (extra[i]) {
				vhostio_log(VHOSTIO_LOG_ERROR,
					    "handler '%s' uses fields this libvhostio (%s) does not know; it needs a newer one",
					    h->subtype ? h->subtype : "?", VHOSTIO_VERSION_STRING);
				return -E2BIG;
			}
		}
	}
	/* Copy what the handler was built with; newer fields stay zero. */
	memset(dst, 0, sizeof(*dst));
	memcpy(dst, h, h->struct_size < sizeof(*dst) ? h->struct_size : sizeof(*dst));
	dst->struct_size = sizeof(*dst);
	if (!dst->subtype || !dst->subtype[0] || strchr(dst->subtype, '/') || !dst->open ||
	    !dst->read || !dst->write) {
		vhostio_log(VHOSTIO_LOG_ERROR, "handler '%s' lacks a subtype or open/read/write",
			    dst->subtype ? dst->subtype : "?");
		return -EINVAL;
	}
	return 0;
}

int vhostio_ctx_add_handler(struct vhostio_ctx *ctx, const struct vhostio_handler *h)
{
	struct vhostio_handler copy;
	int ret = handler_import(&copy, h);
	if (ret < 0)
		return ret;
	if (find_handler(ctx, copy.subtype)) {
		vhostio_log(VHOSTIO_LOG_ERROR, "a handler for subtype '%s' is already registered",
			    copy.subtype);
		return -EEXIST;
	}

	struct vhostio_handler *grown = realloc(ctx->handlers, (ctx->n_handlers + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	ctx->handlers = grown;
	ctx->handlers[ctx->n_handlers++] = copy;
	vhostio_log(VHOSTIO_LOG_INFO, "handler '%s' registered (API %u)", copy.subtype, copy.api_version);
	return 0;
}

/* ---- attaching devices ---- */

static int uio_kick(void *opaque)
{
	int fd = (int)(intptr_t)opaque;
	uint32_t v = 0;
	/* Any 4-byte write makes the kernel reap completions. */
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -errno;
}

static struct vhostio_device *find_device(struct vhostio_ctx *ctx, unsigned minor)
{
	for (struct vhostio_device *d = ctx->devices; d; d = d->next)
		if (d->info.uio_minor == minor)
			return d;
	return NULL;
}

static int attach_device(struct vhostio_ctx *ctx, const char *uio_name, unsigned minor)
{
	struct device_info info = { .uio_minor = minor };
	int ret = parse_uio_name(uio_name, &info);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "uio%u: '%s' is not a TCMU device name", minor, uio_name);
		return ret;
	}
	const struct vhostio_handler *h = find_handler(ctx, info.subtype);
	if (!h) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: no handler for subtype '%s'; refusing the device",
			    info.name, info.subtype);
		return -ENOENT;
	}
	if (h->check_config) {
		char *reason = NULL;
		const char *cfg = strchr(info.cfgstring, '/');
		ret = h->check_config(cfg ? cfg + 1 : "", &reason);
		if (ret < 0) {
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: bad config '%s': %s", info.name, info.cfgstring,
				    reason ? reason : strerror(-ret));
			free(reason);
			return ret;
		}
		free(reason);
	}
	ret = read_configfs_attributes(&info);
	if (ret < 0)
		return ret;

	char dev_path[64];
	snprintf(dev_path, sizeof(dev_path), "/dev/uio%u", minor);
	int fd = open(dev_path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: open %s: %s", info.name, dev_path, strerror(-ret));
		return ret;
	}
	char name_check[8192];
	size_t map_size = 0;
	ret = read_uio_info(minor, name_check, sizeof(name_check), &map_size);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: uio%u map size: %s", info.name, minor, strerror(-ret));
		close(fd);
		return ret;
	}
	void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: mmap %zu bytes: %s", info.name, map_size, strerror(-ret));
		close(fd);
		return ret;
	}

	struct vhostio_device *dev;
	struct device_transport transport = { .kick = uio_kick, .opaque = (void *)(intptr_t)fd };
	ret = device_create(&dev, &info, h, map, map_size, transport);
	if (ret == 0) {
		ret = device_start_thread(dev, fd);
		if (ret < 0)
			device_destroy(dev, 0);
	}
	if (ret < 0) {
		munmap(map, map_size);
		close(fd);
		return ret;
	}
	dev->next = ctx->devices;
	ctx->devices = dev;
	__atomic_add_fetch(&ctx->n_devices, 1, __ATOMIC_RELAXED);
	vhostio_device_log(dev, VHOSTIO_LOG_INFO, "serving %s: %" PRIu64 " blocks of %u bytes, uio%u, ring %u bytes",
			   info.cfgstring, info.num_lbas, info.block_size, minor, dev->ring.cmdr_size);
	return 0;
}

static void detach_device(struct vhostio_ctx *ctx, struct vhostio_device *dev)
{
	for (struct vhostio_device **pp = &ctx->devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	__atomic_sub_fetch(&ctx->n_devices, 1, __ATOMIC_RELAXED);

	void *map = dev->map;
	size_t map_size = dev->map_size;
	int fd = dev->uio_fd;
	char name[sizeof(dev->info.name)];
	memcpy(name, dev->info.name, sizeof(name));

	device_destroy(dev, DRAIN_TIMEOUT_MS);
	munmap(map, map_size);
	close(fd);
	vhostio_log(VHOSTIO_LOG_INFO, "%s: removed", name);
}

/* ---- netlink events ---- */

static int reconfig_device(struct vhostio_device *dev, const struct tcmu_event *ev)
{
	struct vhostio_reconfig rc = { 0 };
	if (ev->has_dev_size) {
		rc.changed |= VHOSTIO_RECONFIG_SIZE;
		rc.size = ev->dev_size;
	}
	if (ev->has_write_cache) {
		rc.changed |= VHOSTIO_RECONFIG_WRITE_CACHE;
		rc.write_cache = ev->write_cache;
	}
	if (ev->dev_cfg) {
		rc.changed |= VHOSTIO_RECONFIG_CONFIG;
		rc.config = ev->dev_cfg; /* full "<subtype>/<config>"; device_reconfig splits it */
	}
	return device_reconfig(dev, &rc);
}

static int on_tcmu_event(void *opaque, const struct tcmu_event *ev)
{
	struct vhostio_ctx *ctx = opaque;
	struct vhostio_device *dev = find_device(ctx, ev->minor);

	switch (ev->cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		vhostio_log(VHOSTIO_LOG_INFO, "kernel added %s (uio%u)", ev->uio_name, ev->minor);
		if (dev)
			return 0; /* already attached by the start-up scan */
		return attach_device(ctx, ev->uio_name, ev->minor);
	case TCMU_CMD_REMOVED_DEVICE:
		vhostio_log(VHOSTIO_LOG_INFO, "kernel removes %s (uio%u)", ev->uio_name, ev->minor);
		if (dev)
			detach_device(ctx, dev);
		return 0;
	case TCMU_CMD_RECONFIG_DEVICE:
		if (!dev)
			return -ENODEV;
		return reconfig_device(dev, ev);
	default:
		return -EOPNOTSUPP;
	}
}

/* ---- start-up ---- */

static int load_target_core_user(void)
{
	if (access("/sys/module/target_core_user", F_OK) == 0)
		return 0;

	struct kmod_ctx *kctx = kmod_new(NULL, NULL);
	if (!kctx)
		return -ENOMEM;
	struct kmod_module *mod;
	int ret = kmod_module_new_from_name(kctx, "target_core_user", &mod);
	if (ret == 0) {
		ret = kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
		kmod_module_unref(mod);
	}
	kmod_unref(kctx);
	if (ret < 0)
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot load target_core_user: %s", strerror(-ret));
	else
		vhostio_log(VHOSTIO_LOG_INFO, "loaded kernel module target_core_user");
	return ret;
}

/*
 * Take over devices that exist already (created before we started, or
 * served by a previous instance that died).  Commands the old owner left
 * on the ring are failed back with BUSY by reset_ring, so the initiator
 * retries them: nothing acknowledged is lost.
 */
static void attach_existing(struct vhostio_ctx *ctx)
{
	DIR *d = opendir("/sys/class/uio");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned minor;
		if (sscanf(de->d_name, "uio%u", &minor) != 1 || find_device(ctx, minor))
			continue;
		char name[8192];
		size_t map_size;
		if (read_uio_info(minor, name, sizeof(name), &map_size) < 0 ||
		    strncmp(name, UIO_NAME_PREFIX, strlen(UIO_NAME_PREFIX)) != 0)
			continue;

		struct device_info info;
		if (parse_uio_name(name, &info) < 0)
			continue;
		vhostio_log(VHOSTIO_LOG_INFO, "found existing device %s (uio%u)", info.name, minor);
		write_configfs_attribute(&info, "action/block_dev", "1");
		write_configfs_attribute(&info, "action/reset_ring", "1");
		attach_device(ctx, name, minor);
		write_configfs_attribute(&info, "action/block_dev", "0");
	}
	closedir(d);
}

int vhostio_ctx_start(struct vhostio_ctx *ctx)
{
	if (ctx->nl)
		return -EALREADY;
	int ret = load_target_core_user();
	if (ret < 0)
		return ret;
	ret = tcmu_netlink_open(&ctx->nl, on_tcmu_event, ctx);
	if (ret < 0)
		return ret;
	/* From now on the kernel waits for our verdict on every device. */
	ret = tcmu_netlink_set_reply_mode(ctx->nl, true);
	if (ret < 0)
		vhostio_log(VHOSTIO_LOG_WARN, "kernel does not take SET_FEATURES (%s); configfs will not wait for us",
			    strerror(-ret));
	else
		ctx->reply_mode = true;
	attach_existing(ctx);
	return 0;
}

int vhostio_ctx_fd(const struct vhostio_ctx *ctx)
{
	return ctx->nl ? tcmu_netlink_fd(ctx->nl) : -EBADF;
}

int vhostio_ctx_dispatch(struct vhostio_ctx *ctx)
{
	return ctx->nl ? tcmu_netlink_dispatch(ctx->nl) : -EBADF;
}

int vhostio_ctx_device_count(const struct vhostio_ctx *ctx)
{
	return __atomic_load_n(&ctx->n_devices, __ATOMIC_RELAXED);
}

void vhostio_ctx_free(struct vhostio_ctx *ctx)
{
	if (!ctx)
		return;
	/* Without us nobody would answer: don't let the kernel wait. */
	if (ctx->reply_mode)
		tcmu_netlink_set_reply_mode(ctx->nl, false);
	while (ctx->devices)
		detach_device(ctx, ctx->devices);
	tcmu_netlink_close(ctx->nl);
	free(ctx->handlers);
	free(ctx);
}
