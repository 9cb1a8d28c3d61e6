/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Task management.  When an initiator aborts commands (ABORT TASK, a LUN
 * reset, ...) LIO waits for the backend to finish each one that is in the
 * ring, and with tmr_notification set the kernel says which: a TMR entry
 * naming their cmd_ids.  Those commands are marked aborted, so that no
 * further step of theirs starts, and the handler is asked to cut short
 * what it is doing for them (its optional abort()).  Each still gets its
 * one answer in the ring, TASK ABORTED, which lets the reset finish now
 * rather than when a slow or stuck handler gets round to it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "discovery.h"
#include "log.h"
#include "tcmu_abi.h"

void device_enable_tmr_notification(struct vhostio_device *dev)
{
	if (!dev->info.configfs_dir[0])
		return;
	if (!(dev->ring.mb_flags & TCMU_MAILBOX_FLAG_CAP_TMR)) {
		vhostio_device_log(dev, VHOSTIO_LOG_INFO,
				   "kernel sends no TMR notifications: aborted commands end when their handler finishes");
		return;
	}
	int ret = write_configfs_attribute(&dev->info, "attrib/tmr_notification", "1");
	if (ret < 0)
		vhostio_device_log(dev, VHOSTIO_LOG_WARN,
				   "cannot enable attrib/tmr_notification: %s; aborted commands end when their "
				   "handler finishes",
				   strerror(-ret));
}

static const char *tmr_name(uint8_t type)
{
	switch (type) {
	case TCMU_TMR_ABORT_TASK:
		return "ABORT TASK";
	case TCMU_TMR_ABORT_TASK_SET:
		return "ABORT TASK SET";
	case TCMU_TMR_CLEAR_ACA:
		return "CLEAR ACA";
	case TCMU_TMR_CLEAR_TASK_SET:
		return "CLEAR TASK SET";
	case TCMU_TMR_LUN_RESET:
		return "LOGICAL UNIT RESET";
	case TCMU_TMR_TARGET_WARM_RESET:
		return "TARGET WARM RESET";
	case TCMU_TMR_TARGET_COLD_RESET:
		return "TARGET COLD RESET";
	case TCMU_TMR_LUN_RESET_PRO:
		return "LUN reset for a PERSISTENT RESERVE OUT";
	default:
		return "unknown task management function";
	}
}

static struct device_io *find_inflight(struct vhostio_device *dev, uint16_t cmd_id)
{
	for (struct device_io *d = dev->inflight; d; d = d->inflight_next)
		if ((uint16_t)d->io.cmd.tag == cmd_id)
			return d;
	return NULL;
}

void device_abort_locked(struct vhostio_device *dev, struct device_io **list)
{
	const struct vhostio_ring *ring = &dev->ring;
	unsigned found = 0;
	char ids[80] = "";
	size_t used = 0;
	bool tell_handler = dev->opened && dev->handler->abort;

	for (uint32_t i = 0; i < ring->tmr_cnt; i++) {
		/* Not in flight: completed by us before the kernel saw it, or an
		 * id the kernel never gave us (a hostile ring).  Nothing to do. */
		struct device_io *d = find_inflight(dev, ring->tmr_ids[i]);
		if (!d || scsi_io_aborted(&d->io))
			continue;
		scsi_io_mark_aborted(&d->io);
		found++;
		if (used < sizeof(ids)) {
			int n = snprintf(ids + used, sizeof(ids) - used, "%s%u", used ? " " : "", ring->tmr_ids[i]);
			used = n < 0 ? sizeof(ids) : used + (size_t)n;
		}
		if (tell_handler && !d->abort_pinned) {
			d->abort_pinned = true;
			d->put_when_unpinned = false;
			d->abort_next = *list;
			*list = d;
		}
	}
	dev->stats.aborted += found;
	/* Rare, and worth knowing about; a flood of them is rate-limited. */
	log_ratelimited_dev(dev, VHOSTIO_LOG_INFO, "%s: %u command(s) named, %u in flight aborted%s%s%s",
			    tmr_name(ring->tmr_type), ring->tmr_cnt, found, found ? " (cmd_id " : "", ids,
			    found ? (used >= sizeof(ids) ? " ...)" : ")") : "");
}

void device_deliver_aborts(struct vhostio_device *dev, struct device_io *list)
{
	while (list) {
		struct device_io *d = list;
		list = d->abort_next;
		/* The io stays ours until unpinned, even if the handler completes
		 * it from another thread while this runs. */
		dev->handler->abort(dev, &d->io);
		pthread_mutex_lock(&dev->lock);
		d->abort_pinned = false;
		d->abort_next = NULL;
		if (d->put_when_unpinned)
			device_io_put(dev, &d->io);
		pthread_mutex_unlock(&dev->lock);
	}
}
