/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context: handler registry, netlink event handling, and the set of
 * devices being served.  vhostio_ctx_dispatch() only queues each event
 * for its device; a lifecycle worker per device attaches, removes or
 * reconfigures it and answers the kernel.  ctx->lock guards the shared
 * lists; a device itself is only touched by its own worker.
 */
#define _GNU_SOURCE /* asprintf */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
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

/* A subtype served by another process: its devices are acknowledged only. */
struct external_subtype {
	struct external_subtype *next;
	char name[];
};

/* A netlink event copied for a device worker. */
struct queued_event {
	struct queued_event *next;
	struct tcmu_event ev;     /* uio_name and dev_cfg point into strings */
	char strings[];
};

/*
 * The lifecycle work of one device (uio minor): its events run in order on
 * a thread of their own, so a slow open never holds up other devices or
 * the caller's event loop.
 */
struct device_work {
	struct device_work *next;
	unsigned minor;
	struct queued_event *head, *tail;
};

struct vhostio_ctx {
	/* Guards everything below except nl and reply_mode. */
	pthread_mutex_t lock;
	pthread_cond_t workers_idle;
	/* Each handler is allocated on its own: devices keep pointers to it. */
	struct vhostio_handler **handlers;
	size_t n_handlers;
	struct external_subtype *externals;
	struct vhostio_device *devices;
	int n_devices;
	struct device_work *work;
	unsigned n_workers;

	struct tcmu_netlink *nl;
	bool reply_mode;
	uint64_t poll_ns;            /* busy-poll window of every device */
};

const char *vhostio_version(void)
{
	return VHOSTIO_VERSION_STRING;
}

int vhostio_ctx_set_poll_us(struct vhostio_ctx *ctx, unsigned int us)
{
	if (us > VHOSTIO_MAX_POLL_US)
		return -EINVAL;
	pthread_mutex_lock(&ctx->lock);
	ctx->poll_ns = (uint64_t)us * 1000;
	for (struct vhostio_device *dev = ctx->devices; dev; dev = dev->next)
		device_set_poll_ns(dev, (uint64_t)us * 1000);
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

int vhostio_ctx_new(struct vhostio_ctx **ctxp)
{
	struct vhostio_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->workers_idle, NULL);
	*ctxp = ctx;
	return 0;
}

/* ---- handlers ---- */

/* Caller holds ctx->lock. */
static const struct vhostio_handler *find_handler(const struct vhostio_ctx *ctx, const char *subtype)
{
	for (size_t i = 0; i < ctx->n_handlers; i++)
		if (strcmp(ctx->handlers[i]->subtype, subtype) == 0)
			return ctx->handlers[i];
	return NULL;
}

/* Caller holds ctx->lock. */
static struct external_subtype **find_external(struct vhostio_ctx *ctx, const char *subtype)
{
	struct external_subtype **pp;
	for (pp = &ctx->externals; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, subtype) == 0)
			break;
	return pp;
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
	struct vhostio_handler *copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	int ret = handler_import(copy, h);
	if (ret < 0) {
		free(copy);
		return ret;
	}

	pthread_mutex_lock(&ctx->lock);
	if (find_handler(ctx, copy->subtype) || *find_external(ctx, copy->subtype)) {
		ret = -EEXIST;
	} else {
		struct vhostio_handler **grown = realloc(ctx->handlers, (ctx->n_handlers + 1) * sizeof(*grown));
		if (grown) {
			ctx->handlers = grown;
			ctx->handlers[ctx->n_handlers++] = copy;
		} else {
			ret = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	if (ret == -EEXIST)
		vhostio_log(VHOSTIO_LOG_ERROR, "a handler for subtype '%s' is already registered", copy->subtype);
	if (ret < 0) {
		free(copy);
		return ret;
	}
	vhostio_log(VHOSTIO_LOG_INFO, "handler '%s' registered (API %u)", copy->subtype, copy->api_version);
	return 0;
}

int vhostio_ctx_handler_count(const struct vhostio_ctx *ctx)
{
	pthread_mutex_lock((pthread_mutex_t *)&ctx->lock);
	int n = (int)ctx->n_handlers;
	pthread_mutex_unlock((pthread_mutex_t *)&ctx->lock);
	return n;
}

static const struct vhostio_handler *handler_at(const struct vhostio_ctx *ctx, int index)
{
	pthread_mutex_lock((pthread_mutex_t *)&ctx->lock);
	const struct vhostio_handler *h =
		index >= 0 && (size_t)index < ctx->n_handlers ? ctx->handlers[index] : NULL;
	pthread_mutex_unlock((pthread_mutex_t *)&ctx->lock);
	return h;
}

const char *vhostio_ctx_handler_subtype(const struct vhostio_ctx *ctx, int index)
{
	const struct vhostio_handler *h = handler_at(ctx, index);
	return h ? h->subtype : NULL;
}

const char *vhostio_ctx_handler_config_desc(const struct vhostio_ctx *ctx, int index)
{
	const struct vhostio_handler *h = handler_at(ctx, index);
	return h ? (h->config_desc ? h->config_desc : "") : NULL;
}

static char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/*
 * The handler for a "<subtype>/<config>" string and its check_config()
 * verdict.  *hp is NULL when the subtype has no handler here.
 */
static int check_cfgstring(struct vhostio_ctx *ctx, const char *cfgstring, const struct vhostio_handler **hp,
			   char **reason)
{
	char subtype[64];
	const char *slash = strchr(cfgstring, '/');
	size_t len = slash ? (size_t)(slash - cfgstring) : strlen(cfgstring);

	*hp = NULL;
	if (!slash || len == 0 || len >= sizeof(subtype)) {
		if (reason && asprintf(reason, "'%s' is not <subtype>/<config>", cfgstring) < 0)
			*reason = NULL;
		return -EINVAL;
	}
	memcpy(subtype, cfgstring, len);
	subtype[len] = '\0';

	pthread_mutex_lock(&ctx->lock);
	const struct vhostio_handler *h = find_handler(ctx, subtype);
	pthread_mutex_unlock(&ctx->lock);
	if (!h) {
		if (reason && asprintf(reason, "no handler for subtype '%s'", subtype) < 0)
			*reason = NULL;
		return -ENOENT;
	}
	*hp = h;
	if (!h->check_config)
		return 0;
	char *why = NULL;
	int ret = h->check_config(slash + 1, &why);
	if (ret > 0)
		ret = 0;
	if (ret < 0 && reason)
		*reason = why ? why : strdup_or_null(strerror(-ret));
	else
		free(why);
	return ret;
}

int vhostio_ctx_check_config(struct vhostio_ctx *ctx, const char *cfgstring, char **reason)
{
	const struct vhostio_handler *h;
	if (reason)
		*reason = NULL;
	return check_cfgstring(ctx, cfgstring, &h, reason);
}

int vhostio_ctx_add_external_subtype(struct vhostio_ctx *ctx, const char *subtype)
{
	if (!subtype[0] || strchr(subtype, '/'))
		return -EINVAL;
	size_t len = strlen(subtype) + 1;
	struct external_subtype *e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	memcpy(e->name, subtype, len);

	pthread_mutex_lock(&ctx->lock);
	int ret = find_handler(ctx, subtype) || *find_external(ctx, subtype) ? -EEXIST : 0;
	if (ret == 0) {
		e->next = ctx->externals;
		ctx->externals = e;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (ret < 0)
		free(e);
	else
		vhostio_log(VHOSTIO_LOG_INFO, "subtype '%s' is served by another process", subtype);
	return ret;
}

int vhostio_ctx_remove_external_subtype(struct vhostio_ctx *ctx, const char *subtype)
{
	pthread_mutex_lock(&ctx->lock);
	struct external_subtype **pp = find_external(ctx, subtype);
	struct external_subtype *e = *pp;
	if (e)
		*pp = e->next;
	pthread_mutex_unlock(&ctx->lock);
	if (!e)
		return -ENOENT;
	free(e);
	vhostio_log(VHOSTIO_LOG_INFO, "subtype '%s' is no longer served by another process", subtype);
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
	struct vhostio_device *found = NULL;
	pthread_mutex_lock(&ctx->lock);
	for (struct vhostio_device *d = ctx->devices; d && !found; d = d->next)
		if (d->info.uio_minor == minor)
			found = d;
	pthread_mutex_unlock(&ctx->lock);
	return found;
}

static bool is_external(struct vhostio_ctx *ctx, const char *subtype)
{
	pthread_mutex_lock(&ctx->lock);
	bool external = *find_external(ctx, subtype) != NULL;
	pthread_mutex_unlock(&ctx->lock);
	return external;
}

static int attach_device(struct vhostio_ctx *ctx, const char *uio_name, unsigned minor)
{
	struct device_info info = { .uio_minor = minor };
	int ret = parse_uio_name(uio_name, &info);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "uio%u: '%s' is not a TCMU device name", minor, uio_name);
		return ret;
	}
	if (is_external(ctx, info.subtype)) {
		vhostio_log(VHOSTIO_LOG_INFO, "%s: subtype '%s' is served by another process", info.name,
			    info.subtype);
		return 0;
	}
	const struct vhostio_handler *h;
	char *reason = NULL;
	ret = check_cfgstring(ctx, info.cfgstring, &h, &reason);
	if (ret < 0) {
		if (h)
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: bad config '%s': %s", info.name, info.cfgstring,
				    reason ? reason : strerror(-ret));
		else
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: no handler for subtype '%s'; refusing the device",
				    info.name, info.subtype);
		free(reason);
		return ret;
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
	pthread_mutex_lock(&ctx->lock);
	dev->next = ctx->devices;
	ctx->devices = dev;
	/* Under the lock that vhostio_ctx_set_poll_us() takes: no update is lost.
	 * (Until here the thread serves without a window, which is harmless.) */
	device_set_poll_ns(dev, ctx->poll_ns);
	pthread_mutex_unlock(&ctx->lock);
	__atomic_add_fetch(&ctx->n_devices, 1, __ATOMIC_RELAXED);
	vhostio_device_log(dev, VHOSTIO_LOG_INFO, "serving %s: %" PRIu64 " blocks of %u bytes, uio%u, ring %u bytes",
			   info.cfgstring, info.num_lbas, info.block_size, minor, dev->ring.cmdr_size);
	return 0;
}

static void detach_device(struct vhostio_ctx *ctx, struct vhostio_device *dev)
{
	pthread_mutex_lock(&ctx->lock);
	for (struct vhostio_device **pp = &ctx->devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
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

static int handle_event(struct vhostio_ctx *ctx, const struct tcmu_event *ev)
{
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
		if (!dev) {
			/* Served elsewhere (external subtype): not ours to refuse. */
			struct device_info info;
			if (parse_uio_name(ev->uio_name, &info) == 0 && is_external(ctx, info.subtype))
				return 0;
			return -ENODEV;
		}
		return reconfig_device(dev, ev);
	default:
		return -EOPNOTSUPP;
	}
}

static struct queued_event *copy_event(const struct tcmu_event *ev)
{
	size_t name_len = strlen(ev->uio_name) + 1;
	size_t cfg_len = ev->dev_cfg ? strlen(ev->dev_cfg) + 1 : 0;
	struct queued_event *q = malloc(sizeof(*q) + name_len + cfg_len);
	if (!q)
		return NULL;
	q->next = NULL;
	q->ev = *ev;
	memcpy(q->strings, ev->uio_name, name_len);
	q->ev.uio_name = q->strings;
	if (ev->dev_cfg) {
		memcpy(q->strings + name_len, ev->dev_cfg, cfg_len);
		q->ev.dev_cfg = q->strings + name_len;
	}
	return q;
}

struct worker_args {
	struct vhostio_ctx *ctx;
	struct device_work *work;
};

/* Run one device's queued events in order, answering the kernel after each. */
static void *device_worker(void *arg)
{
	struct worker_args a = *(struct worker_args *)arg;
	struct vhostio_ctx *ctx = a.ctx;
	struct device_work *w = a.work;
	free(arg);

	for (;;) {
		pthread_mutex_lock(&ctx->lock);
		struct queued_event *q = w->head;
		if (q) {
			w->head = q->next;
			if (!w->head)
				w->tail = NULL;
		} else {
			/* Done: unlink; the next event for this minor starts afresh. */
			for (struct device_work **pp = &ctx->work; *pp; pp = &(*pp)->next) {
				if (*pp == w) {
					*pp = w->next;
					break;
				}
			}
			if (--ctx->n_workers == 0)
				pthread_cond_broadcast(&ctx->workers_idle);
		}
		pthread_mutex_unlock(&ctx->lock);
		if (!q)
			break;
		int status = handle_event(ctx, &q->ev);
		tcmu_netlink_reply(ctx->nl, &q->ev, status);
		free(q);
	}
	free(w);
	return NULL;
}

/* Netlink callback (dispatch thread): queue the event for its device's worker. */
static int on_tcmu_event(void *opaque, const struct tcmu_event *ev)
{
	struct vhostio_ctx *ctx = opaque;
	struct queued_event *q = copy_event(ev);
	if (!q)
		return -ENOMEM;

	pthread_mutex_lock(&ctx->lock);
	struct device_work *w;
	for (w = ctx->work; w; w = w->next)
		if (w->minor == ev->minor)
			break;
	struct worker_args *args = NULL;
	if (!w) {
		w = calloc(1, sizeof(*w));
		args = malloc(sizeof(*args));
		if (!w || !args) {
			pthread_mutex_unlock(&ctx->lock);
			free(w);
			free(args);
			free(q);
			return -ENOMEM;
		}
		w->minor = ev->minor;
		w->next = ctx->work;
		ctx->work = w;
		ctx->n_workers++;
		*args = (struct worker_args){ ctx, w };
	}
	if (w->tail)
		w->tail->next = q;
	else
		w->head = q;
	w->tail = q;
	pthread_mutex_unlock(&ctx->lock);

	if (args) {
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		int ret = pthread_create(&t, &attr, device_worker, args);
		pthread_attr_destroy(&attr);
		if (ret) {
			/* No thread: do the work here rather than leave the kernel waiting. */
			vhostio_log(VHOSTIO_LOG_WARN, "no worker thread (%s); handling uio%u inline", strerror(ret),
				    ev->minor);
			device_worker(args);
		}
	}
	return TCMU_REPLY_LATER;
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
	/* Let device workers finish what they started (and answer it). */
	pthread_mutex_lock(&ctx->lock);
	while (ctx->n_workers)
		pthread_cond_wait(&ctx->workers_idle, &ctx->lock);
	pthread_mutex_unlock(&ctx->lock);
	while (ctx->devices)
		detach_device(ctx, ctx->devices);
	tcmu_netlink_close(ctx->nl);
	for (size_t i = 0; i < ctx->n_handlers; i++)
		free(ctx->handlers[i]);
	free(ctx->handlers);
	while (ctx->externals) {
		struct external_subtype *e = ctx->externals;
		ctx->externals = e->next;
		free(e);
	}
	pthread_cond_destroy(&ctx->workers_idle);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

/* ---- change medium (management API) ---- */

static void set_reason(char **reason, const char *fmt, ...) VHOSTIO_PRINTF(2, 3);
static void set_reason(char **reason, const char *fmt, ...)
{
	if (!reason)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(reason, fmt, ap) < 0)
		*reason = NULL;
	va_end(ap);
}

/* configfs .../core/user_<N>/<name> of a user backstore, by name. */
static int find_user_backstore(const char *name, char *dir, size_t len)
{
	if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	DIR *d = opendir(CONFIGFS_CORE);
	if (!d)
		return -ENOENT;
	int ret = -ENOENT;
	struct dirent *de;
	while ((de = readdir(d)) && ret == -ENOENT) {
		if (strncmp(de->d_name, "user_", 5) != 0)
			continue;
		int n = snprintf(dir, len, CONFIGFS_CORE "/%s/%s", de->d_name, name);
		if (n > 0 && (size_t)n < len && access(dir, F_OK) == 0)
			ret = 0;
	}
	closedir(d);
	return ret;
}

static int write_attrib(const char *dir, const char *attr, const char *value)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/attrib/%s", dir, attr);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The kernel answers only after the runner serving the device has. */
	ssize_t n = write(fd, value, strlen(value));
	int ret = n < 0 ? -errno : 0;
	close(fd);
	return ret;
}

int vhostio_ctx_change_medium(struct vhostio_ctx *ctx, const char *name, uint64_t size, const char *cfgstring,
			      char **reason)
{
	char dir[PATH_MAX];
	char current[4096];
	int ret;

	if (reason)
		*reason = NULL;
	ret = find_user_backstore(name, dir, sizeof(dir));
	if (ret < 0) {
		set_reason(reason, "no user backstore named '%s'", name);
		return ret;
	}
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/attrib/dev_config", dir);
	ret = read_text_file(path, current, sizeof(current));
	if (ret < 0) {
		set_reason(reason, "cannot read the config of '%s': %s", name, strerror(-ret));
		return ret;
	}
	bool new_config = cfgstring && cfgstring[0] && strcmp(cfgstring, current) != 0;
	if (new_config) {
		const char *cur_slash = strchr(current, '/');
		size_t sub_len = cur_slash ? (size_t)(cur_slash - current) : strlen(current);
		if (strncmp(cfgstring, current, sub_len) != 0 || cfgstring[sub_len] != '/') {
			set_reason(reason, "'%s' names another handler than '%s'; a backstore keeps its subtype",
				   cfgstring, current);
			return -EINVAL;
		}
		/* External subtypes are checked by their own process on RECONFIG. */
		const struct vhostio_handler *h;
		ret = check_cfgstring(ctx, cfgstring, &h, reason);
		if (ret < 0 && h)
			return ret;
		if (reason) {
			free(*reason);
			*reason = NULL;
		}
	}

	uint64_t old_size = 0;
	snprintf(path, sizeof(path), "%s/attrib/dev_size", dir);
	char size_text[32];
	if (read_text_file(path, size_text, sizeof(size_text)) > 0)
		old_size = strtoull(size_text, NULL, 0);
	snprintf(size_text, sizeof(size_text), "%" PRIu64, size);
	bool new_size = size && size != old_size;

	/*
	 * Two RECONFIGs, ordered so that neither medium is grown beyond what
	 * it ends up with: growing, the new medium comes first (opened at the
	 * old size, then grown); shrinking, the size first (on the old one).
	 */
	bool size_first = new_size && size < old_size;
	if (size_first && (ret = write_attrib(dir, "dev_size", size_text)) < 0) {
		set_reason(reason, "the new size was refused: %s (see the runner's log)", strerror(-ret));
		return ret;
	}
	if (new_config && (ret = write_attrib(dir, "dev_config", cfgstring)) < 0) {
		set_reason(reason, "the new config was refused: %s (see the runner's log)", strerror(-ret));
		return ret;
	}
	if (new_size && !size_first && (ret = write_attrib(dir, "dev_size", size_text)) < 0) {
		set_reason(reason, "the new size was refused: %s (see the runner's log)", strerror(-ret));
		return ret;
	}
	vhostio_log(VHOSTIO_LOG_INFO, "%s: medium changed (%s, %s bytes)", name, new_config ? cfgstring : current,
		    new_size ? size_text : "same size");
	return 0;
}
