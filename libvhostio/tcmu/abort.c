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

void device_abort_locked(struct vhostio_device *dev, struct abort_batch *b)
{
	const struct vhostio_ring *ring = &dev->ring;
	bool tell_handler = dev->opened && dev->handler->abort;
	uint64_t named[65536 / 64];

	/* One pass over the in-flight list against a bitmap of the ids, so a
	 * hostile entry with millions of ids costs no more than one scan
	 * (duplicates fold away). */
	memset(named, 0, sizeof(named));
	for (uint32_t i = 0; i < ring->tmr_cnt; i++)
		named[ring->tmr_ids[i] / 64] |= 1ull << (ring->tmr_ids[i] % 64);
	unsigned found = 0;
	for (struct device_io *d = dev->inflight; d; d = d->inflight_next) {
		uint16_t id = (uint16_t)d->io.cmd.tag;
		/* Not named, or already aborted by an earlier TMR.  An id not in
		 * flight at all (completed before the kernel saw it, or a lie)
		 * simply matches nothing. */
		if (!(named[id / 64] & (1ull << (id % 64))) || scsi_io_aborted(&d->io))
			continue;
		scsi_io_mark_aborted(&d->io);
		found++;
		if (b->n_ids < sizeof(b->ids) / sizeof(b->ids[0]))
			b->ids[b->n_ids] = id;
		b->n_ids++;
		if (tell_handler && !d->abort_pinned) {
			d->abort_pinned = true;
			d->put_when_unpinned = false;
			d->abort_next = b->list;
			b->list = d;
		}
	}
	dev->stats.aborted += found;
	b->tmrs++;
	b->last_type = ring->tmr_type;
	b->named += ring->tmr_cnt;
}

void device_deliver_aborts(struct vhostio_device *dev, struct abort_batch *b)
{
	if (!b->tmrs)
		return;
	/* Rare, and worth knowing about; a flood of them is rate-limited. */
	char ids[96] = "";
	size_t used = 0;
	unsigned shown = b->n_ids < sizeof(b->ids) / sizeof(b->ids[0]) ? b->n_ids : sizeof(b->ids) / sizeof(b->ids[0]);
	for (unsigned i = 0; i < shown && used < sizeof(ids); i++) {
		int n = snprintf(ids + used, sizeof(ids) - used, "%s%u", i ? " " : "", b->ids[i]);
		used = n < 0 ? sizeof(ids) : used + (size_t)n;
	}
	log_ratelimited_dev(dev, VHOSTIO_LOG_INFO, "%s%s: %u command(s) named, %u in flight aborted%s%s%s",
			    tmr_name(b->last_type), b->tmrs > 1 ? " (and earlier TMRs)" : "", b->named, b->n_ids,
			    b->n_ids ? " (cmd_id " : "", ids, b->n_ids ? (shown < b->n_ids ? " ...)" : ")") : "");

	/* Steps that completions made inside abort() start are queued and run
	 * after it, never inside the handler's callback. */
	device_enter_callback();
	while (b->list) {
		struct device_io *d = b->list;
		b->list = d->abort_next;
		/* The io stays ours until unpinned, even if the handler completes
		 * it from another thread while this runs. */
		dev->handler->abort(dev, &d->io);
		pthread_mutex_lock(&dev->lock);
		d->abort_pinned = false;
		d->abort_next = NULL;
		if (d->put_when_unpinned) {
			d->put_when_unpinned = false;
			device_io_put(dev, &d->io);
		}
		pthread_mutex_unlock(&dev->lock);
	}
	device_leave_callback();
	device_run_deferred(dev);
}
