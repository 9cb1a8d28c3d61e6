/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context: create, start (load the module, join netlink, take over
 * existing devices), the caller's event loop, free.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkmod.h>

#include "ctx.h"
#include "discovery.h"
#include "log.h"

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
 *
 * Only a device a local handler will serve is blocked and reset, after
 * the handler is found and its check_config() accepted the config.  Any
 * other tcm-user device may have an owner of its own: a process that
 * registers its subtype over D-Bus (HandlerManager1, which can only
 * happen after this scan) or one we do not know of at all.  Resetting
 * its ring would fail the commands that owner holds and make its next
 * completions name cmd_ids the kernel no longer knows, which marks the
 * ring broken.  So such a device is logged and left as it is.  (There is
 * no netlink event here, hence no verdict to send: the kernel keeps the
 * device enabled either way.)
 */
static void attach_existing(struct vhostio_ctx *ctx)
{
	DIR *d = opendir("/sys/class/uio");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned minor;
		if (sscanf(de->d_name, "uio%u", &minor) != 1 || ctx_find_device(ctx, minor))
			continue;
		char name[8192];
		size_t map_size;
		if (read_uio_info(minor, name, sizeof(name), &map_size) < 0 ||
		    strncmp(name, UIO_NAME_PREFIX, strlen(UIO_NAME_PREFIX)) != 0)
			continue;

		struct device_info info;
		const struct vhostio_handler *h;
		if (parse_uio_name(name, &info) < 0)
			continue;
		vhostio_log(VHOSTIO_LOG_INFO, "found existing device %s (uio%u)", info.name, minor);
		if (ctx_check_device(ctx, name, minor, false, &info, &h) <= 0)
			continue; /* not ours to serve: not blocked, not reset */
		write_configfs_attribute(&info, "action/block_dev", "1");
		write_configfs_attribute(&info, "action/reset_ring", "1");
		ctx_attach_checked(ctx, &info, h);
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
	ret = tcmu_netlink_open(&ctx->nl, ctx_on_tcmu_event, ctx);
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
		ctx_detach_device(ctx, ctx->devices);
	tcmu_netlink_close(ctx->nl);
	ctx_free_handlers(ctx);
	pthread_cond_destroy(&ctx->workers_idle);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

