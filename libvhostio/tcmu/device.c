/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A device's life cycle (create, open and close the handler, destroy) and
 * the accessors a handler uses.  The I/O path is in io.c, the command
 * loop in loop.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "clock.h"
#include "device.h"
#include "discovery.h"
#include "log.h"

/* ---- accessors (public) ---- */

const char *vhostio_device_config(const struct vhostio_device *dev)
{
	return dev->handler_config;
}

const char *vhostio_device_name(const struct vhostio_device *dev)
{
	return dev->info.name;
}

uint32_t vhostio_device_block_size(const struct vhostio_device *dev)
{
	return dev->lun.block_size;
}

uint64_t vhostio_device_num_lbas(const struct vhostio_device *dev)
{
	return scsi_lun_num_lbas(&dev->lun);
}

uint64_t vhostio_device_size(const struct vhostio_device *dev)
{
	return scsi_lun_num_lbas(&dev->lun) * dev->lun.block_size;
}

void vhostio_device_set_private(struct vhostio_device *dev, void *priv)
{
	dev->priv = priv;
}

void *vhostio_device_private(const struct vhostio_device *dev)
{
	return dev->priv;
}

int vhostio_device_write_cache(const struct vhostio_device *dev)
{
	return scsi_lun_write_cache(&dev->lun);
}

void vhostio_device_disable_caps(struct vhostio_device *dev, uint32_t caps)
{
	scsi_lun_disable_caps(&dev->lun, caps);
}

uint32_t vhostio_device_caps(const struct vhostio_device *dev)
{
	return dev->lun.caps;
}

int vhostio_device_watch_fd(struct vhostio_device *dev, int fd,
			    void (*ready)(struct vhostio_device *dev, void *arg), void *arg)
{
	if (fd < 0 || !ready)
		return -EINVAL;
	if (dev->watch_fd >= 0)
		return -EBUSY;
	dev->watch_fd = fd;
	dev->watch_ready = ready;
	dev->watch_arg = arg;
	return 0;
}

void vhostio_device_log(const struct vhostio_device *dev, int level, const char *fmt, ...)
{
	if (level < VHOSTIO_LOG_ERROR || !log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_emitv(level, dev ? dev->info.name : NULL, fmt, ap);
	va_end(ap);
}

int vhostio_device_log_ratelimited(const struct vhostio_device *dev, struct vhostio_ratelimit *rl, int level,
				   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool logged = log_ratelimited_emitv(&rl->state, &rl->missed, level, dev ? dev->info.name : NULL, fmt, ap);
	va_end(ap);
	return logged;
}

/* ---- the handler ---- */

int device_open_handler(struct vhostio_device *dev)
{
	const char *slash = strchr(dev->info.cfgstring, '/');
	dev->handler_config = slash ? slash + 1 : "";
	scsi_lun_resolve_caps(&dev->lun);
	dev->watch_fd = -1;
	dev->watch_ready = NULL;
	int ret = dev->handler->open(dev);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "handler %s cannot open '%s': %s",
				   dev->handler->subtype, dev->handler_config, strerror(-ret));
		dev->watch_fd = -1;
		return ret;
	}
	dev->opened = true;
	return 0;
}

void device_close_handler(struct vhostio_device *dev)
{
	if (dev->opened && dev->handler->close)
		dev->handler->close(dev);
	dev->opened = false;
	dev->watch_fd = -1;
	dev->watch_ready = NULL;
	dev->priv = NULL;
}

/* ---- life cycle ---- */

/*
 * Learn of serial changes made after attach (no kernel event tells us).
 * The watch is on the wwn/ directory, not the attribute: configfs drops an
 * attribute's dentry and inode after each use, so a watch on the file
 * would sit on an inode nobody opens again; a directory's stays while the
 * device exists, and writes to its files are reported on it by name.
 */
static void watch_serial(struct vhostio_device *dev)
{
	char path[PATH_MAX + 32];
	if (!dev->info.configfs_dir[0])
		return;
	snprintf(path, sizeof(path), "%s/wwn", dev->info.configfs_dir);
	dev->serial_watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (dev->serial_watch_fd < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_WARN,
				   "no inotify instance (%s; fs.inotify.max_user_instances?): the serial is "
				   "read from configfs at each INQUIRY for it instead", strerror(errno));
		return;
	}
	if (inotify_add_watch(dev->serial_watch_fd, path, IN_MODIFY | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_WARN,
				   "cannot watch %s (%s): the serial is read from configfs at each INQUIRY for it instead",
				   path, strerror(errno));
		close(dev->serial_watch_fd);
		dev->serial_watch_fd = -1;
		return;
	}
	/* Set between the attach-time read and the watch? */
	char serial[SCSI_SERIAL_MAX];
	if (read_configfs_serial(&dev->info, serial, sizeof(serial)) > 0)
		scsi_lun_set_serial(&dev->lun, serial);
}

int device_create(struct vhostio_device **devp, const struct device_info *info,
		  const struct device_attributes *attrs, const struct vhostio_handler *handler, void *map,
		  size_t map_size, struct device_transport transport)
{
	struct vhostio_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->info = *info;
	dev->handler = handler;
	dev->map = map;
	dev->map_size = map_size;
	dev->transport = transport;
	dev->uio_fd = -1;
	dev->stop_fd = -1;
	dev->wake_fd = -1;
	dev->watch_fd = -1;
	dev->serial_watch_fd = -1;
	dev->overdue_ns = (uint64_t)(attrs->cmd_time_out ? attrs->cmd_time_out : 30) * 1000000000u;

	struct scsi_lun_params params = {
		.block_size = attrs->block_size,
		.num_lbas = attrs->num_lbas,
		.max_sectors = attrs->max_sectors,
		.write_cache = attrs->write_cache,
		.subtype = info->subtype,
		/* No serial set (yet): the device name stands in for it. */
		.serial = attrs->serial[0] ? attrs->serial : info->name,
	};
	int ret = scsi_lun_init(&dev->lun, handler, dev, &device_lun_ops, &params);
	if (ret < 0) {
		free(dev);
		return ret;
	}
	pthread_mutex_init(&dev->lock, NULL);
	clock_cond_init(&dev->drained);
	pthread_cond_init(&dev->work_cond, NULL);

	ret = ring_init(&dev->ring, map, map_size);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "unusable command ring");
		goto fail;
	}
	dev->kicked_tail = dev->ring.tail;

	ret = device_open_handler(dev);
	if (ret < 0)
		goto fail;
	watch_serial(dev);
	*devp = dev;
	return 0;
fail:
	pthread_cond_destroy(&dev->work_cond);
	pthread_cond_destroy(&dev->drained);
	pthread_mutex_destroy(&dev->lock);
	scsi_lun_destroy(&dev->lun);
	free(dev);
	return ret;
}

static void log_stats(struct vhostio_device *dev)
{
	uint64_t n = dev->stats.commands, kicks = __atomic_load_n(&dev->stats.kicks, __ATOMIC_RELAXED);
	if (!n)
		return;
	vhostio_device_log(dev, VHOSTIO_LOG_INFO,
			   "served %" PRIu64 " commands: %.2f per wake-up, %.2f per kick, %.1f%% found by busy-polling, "
			   "%" PRIu64 " ring recoveries, %" PRIu64 " aborted by task management",
			   n, dev->stats.wakeups ? (double)n / (double)dev->stats.wakeups : 0.0,
			   kicks ? (double)n / (double)kicks : 0.0, 100.0 * (double)dev->stats.polled / (double)n,
			   dev->stats.recoveries, dev->stats.aborted);
}

bool device_destroy(struct vhostio_device *dev, int give_up_ms)
{
	if (!device_stop(dev, give_up_ms)) {
		pthread_mutex_lock(&dev->lock);
		unsigned stuck = dev->ring.outstanding;
		pthread_mutex_unlock(&dev->lock);
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR,
				   "%u command(s) never completed by the handler after %d ms: the device is left as a "
				   "zombie (handler open, memory and mapping kept) and the kernel is answered", stuck,
				   give_up_ms);
		return false;
	}
	log_stats(dev);
	device_close_handler(dev);
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);
	if (dev->serial_watch_fd >= 0)
		close(dev->serial_watch_fd);
	device_io_free_all(dev);
	ring_destroy(&dev->ring);
	pthread_cond_destroy(&dev->work_cond);
	pthread_cond_destroy(&dev->drained);
	pthread_mutex_destroy(&dev->lock);
	scsi_lun_destroy(&dev->lun);
	free(dev);
	return true;
}
