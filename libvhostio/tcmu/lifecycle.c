/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device life cycle driven by the kernel's netlink events.
 * vhostio_ctx_dispatch() only queues each event for its device; a worker
 * per device (uio minor) attaches, removes or reconfigures it and answers
 * the kernel, so a slow open never holds up other devices or the caller's
 * event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tcmu_abi.h"

#include "ctx.h"
#include "discovery.h"
#include "log.h"

static int uio_kick(void *opaque)
{
	int fd = (int)(intptr_t)opaque;
	uint32_t v = 0;
	/* Any 4-byte write makes the kernel reap completions. */
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -errno;
}

struct vhostio_device *ctx_find_device(struct vhostio_ctx *ctx, unsigned minor)
{
	struct vhostio_device *found = NULL;
	pthread_mutex_lock(&ctx->lock);
	for (struct vhostio_device *d = ctx->devices; d && !found; d = d->next)
		if (d->info.uio_minor == minor)
			found = d;
	pthread_mutex_unlock(&ctx->lock);
	return found;
}

int ctx_check_device(struct vhostio_ctx *ctx, const char *uio_name, unsigned minor, bool refuse,
		     struct device_info *info, const struct vhostio_handler **hp)
{
	*hp = NULL;
	memset(info, 0, sizeof(*info));
	info->uio_minor = minor;
	int ret = parse_uio_name(uio_name, info);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "uio%u: '%s' is not a TCMU device name", minor, uio_name);
		return ret;
	}
	if (ctx_is_external(ctx, info->subtype)) {
		vhostio_log(VHOSTIO_LOG_INFO, "%s: subtype '%s' is served by another process", info->name,
			    info->subtype);
		return 0;
	}
	const char *verdict = refuse ? "refusing the device" : "leaving it alone";
	char *reason = NULL;
	ret = ctx_check_cfgstring(ctx, info->cfgstring, hp, &reason);
	if (ret < 0) {
		if (*hp)
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: bad config '%s': %s; %s", info->name, info->cfgstring,
				    reason ? reason : strerror(-ret), verdict);
		else
			vhostio_log(refuse ? VHOSTIO_LOG_ERROR : VHOSTIO_LOG_INFO,
				    "%s: no handler for subtype '%s'; %s", info->name, info->subtype, verdict);
		free(reason);
		*hp = NULL;
		return ret;
	}
	return 1;
}

int ctx_attach_device(struct vhostio_ctx *ctx, const char *uio_name, unsigned minor)
{
	struct device_info info;
	const struct vhostio_handler *h;
	int ret = ctx_check_device(ctx, uio_name, minor, true, &info, &h);
	return ret <= 0 ? ret : ctx_attach_checked(ctx, &info, h);
}

int ctx_attach_checked(struct vhostio_ctx *ctx, const struct device_info *info, const struct vhostio_handler *h)
{
	unsigned minor = info->uio_minor;
	struct device_attributes attrs;
	int ret = read_configfs_attributes(info, &attrs);
	if (ret < 0)
		return ret;

	char dev_path[64];
	snprintf(dev_path, sizeof(dev_path), "/dev/uio%u", minor);
	int fd = open(dev_path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: open %s: %s", info->name, dev_path, strerror(-ret));
		return ret;
	}
	char name_check[8192];
	size_t map_size = 0;
	ret = read_uio_info(minor, name_check, sizeof(name_check), &map_size);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: uio%u map size: %s", info->name, minor, strerror(-ret));
		close(fd);
		return ret;
	}
	void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: mmap %zu bytes: %s", info->name, map_size, strerror(-ret));
		close(fd);
		return ret;
	}

	struct vhostio_device *dev;
	struct device_transport transport = { .kick = uio_kick, .opaque = (void *)(intptr_t)fd };
	ret = device_create(&dev, info, &attrs, h, map, map_size, transport);
	if (ret == 0) {
		device_enable_tmr_notification(dev);
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
			   info->cfgstring, attrs.num_lbas, attrs.block_size, minor, dev->ring.cmdr_size);
	return 0;
}

void ctx_detach_device(struct vhostio_ctx *ctx, struct vhostio_device *dev)
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

	if (!device_destroy(dev, DRAIN_TIMEOUT_MS)) {
		/* A zombie: its handler may still complete into the mapping. */
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: removed, but left as a zombie", name);
		return;
	}
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
	struct vhostio_device *dev = ctx_find_device(ctx, ev->minor);

	switch (ev->cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		vhostio_log(VHOSTIO_LOG_INFO, "kernel added %s (uio%u)", ev->uio_name, ev->minor);
		if (dev)
			return 0; /* already attached by the start-up scan */
		return ctx_attach_device(ctx, ev->uio_name, ev->minor);
	case TCMU_CMD_REMOVED_DEVICE:
		vhostio_log(VHOSTIO_LOG_INFO, "kernel removes %s (uio%u)", ev->uio_name, ev->minor);
		if (dev)
			ctx_detach_device(ctx, dev);
		return 0;
	case TCMU_CMD_RECONFIG_DEVICE:
		if (!dev) {
			/* Served elsewhere (external subtype): not ours to refuse. */
			struct device_info info;
			if (parse_uio_name(ev->uio_name, &info) == 0 && ctx_is_external(ctx, info.subtype))
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
int ctx_on_tcmu_event(void *opaque, const struct tcmu_event *ev)
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

