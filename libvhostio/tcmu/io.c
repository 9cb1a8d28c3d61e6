/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device's I/O path: the pool of ios, steps of multi-step emulations
 * scheduled on the command thread, and completions (from any thread) into
 * the ring with one kick per batch.  SCSI reaches all of it through
 * device_lun_ops.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "discovery.h"
#include "log.h"

/* Set while a thread drains a device's ring or serves its events:
 * completions made meanwhile leave the kick to the end of the batch. */
static __thread struct vhostio_device *batch_device;
/* The device whose command thread this is (or that a test drives by hand). */
static __thread struct vhostio_device *command_thread_of;
/* >0 while a step runs: nested steps are queued, not recursed into. */
static __thread int step_depth;

static struct vhostio_device *device_of(struct vhostio_io *io)
{
	return (struct vhostio_device *)((char *)io->lun - offsetof(struct vhostio_device, lun));
}

struct vhostio_device *device_enter_batch(struct vhostio_device *dev)
{
	struct vhostio_device *prev = command_thread_of;
	command_thread_of = dev;
	batch_device = dev;
	return prev;
}

void device_leave_batch(struct vhostio_device *prev)
{
	batch_device = NULL;
	command_thread_of = prev;
}

void device_become_command_thread(struct vhostio_device *dev)
{
	command_thread_of = dev;
}

/* ---- io pool ---- */

struct vhostio_io *device_io_get(struct vhostio_device *dev)
{
	struct vhostio_io *io = dev->free_ios;
	if (io) {
		dev->free_ios = io->next;
		scsi_io_reset(io);
		device_io_of(io)->queued_step = NULL;
		return io;
	}
	struct device_io *dio = calloc(1, sizeof(*dio));
	if (!dio)
		return NULL;
	dio->io.lun = &dev->lun;
	dio->io.iov = dio->iov_inline;
	dio->iov_cap = IO_INLINE_IOVS;
	scsi_io_reset(&dio->io); /* SCSI's defaults are not all zero */
	return &dio->io;
}

void device_io_put(struct vhostio_device *dev, struct vhostio_io *io)
{
	io->next = dev->free_ios;
	dev->free_ios = io;
}

void device_io_free_all(struct vhostio_device *dev)
{
	while (dev->free_ios) {
		struct device_io *dio = device_io_of(dev->free_ios);
		dev->free_ios = dio->io.next;
		if (dio->io.iov != dio->iov_inline)
			free(dio->io.iov);
		free(dio);
	}
}

int device_io_grow_iovs(struct vhostio_io *io, uint32_t n)
{
	struct device_io *dio = device_io_of(io);
	struct iovec *iov = malloc((size_t)n * sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	if (io->iov != dio->iov_inline)
		free(io->iov);
	io->iov = iov;
	dio->iov_cap = n;
	return 0;
}

void device_inflight_add(struct vhostio_device *dev, struct device_io *dio, uint64_t now_ns)
{
	dio->fetched_ns = now_ns;
	dio->overdue_logged = false;
	dio->inflight_prev = NULL;
	dio->inflight_next = dev->inflight;
	if (dev->inflight)
		dev->inflight->inflight_prev = dio;
	__atomic_store_n(&dev->inflight, dio, __ATOMIC_RELAXED); /* the thread loop peeks without the lock */
}

void device_inflight_remove(struct vhostio_device *dev, struct device_io *dio)
{
	if (dio->inflight_prev)
		dio->inflight_prev->inflight_next = dio->inflight_next;
	else if (dev->inflight == dio)
		__atomic_store_n(&dev->inflight, dio->inflight_next, __ATOMIC_RELAXED);
	else
		return; /* never added (a stand-alone io of a test) */
	if (dio->inflight_next)
		dio->inflight_next->inflight_prev = dio->inflight_prev;
	dio->inflight_prev = dio->inflight_next = NULL;
}

void device_watchdog(struct vhostio_device *dev, uint64_t now_ns)
{
	unsigned overdue = 0, reported = 0;
	uint16_t oldest_tag = 0;
	uint8_t oldest_op = 0;
	uint64_t oldest_ns = now_ns;

	pthread_mutex_lock(&dev->lock);
	for (struct device_io *d = dev->inflight; d; d = d->inflight_next) {
		if (now_ns - d->fetched_ns < dev->overdue_ns)
			continue;
		overdue++;
		if (!d->overdue_logged) {
			d->overdue_logged = true;
			reported++;
		}
		if (d->fetched_ns <= oldest_ns) {
			oldest_ns = d->fetched_ns;
			oldest_tag = (uint16_t)d->io.cmd.tag;
			oldest_op = d->io.cmd.cdb[0];
		}
	}
	pthread_mutex_unlock(&dev->lock);
	if (reported)
		vhostio_device_log(dev, VHOSTIO_LOG_WARN,
				   "%u command(s) in flight past %" PRIu64 " s (cmd_time_out); oldest: cmd_id %u, "
				   "opcode 0x%02x, %" PRIu64 " s: the handler has not completed them",
				   overdue, dev->overdue_ns / 1000000000u, oldest_tag, oldest_op,
				   (now_ns - oldest_ns) / 1000000000u);
}

void device_wake_command_thread(struct vhostio_device *dev)
{
	uint64_t one = 1;
	if (dev->wake_fd >= 0 && write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_ratelimited_dev(dev, VHOSTIO_LOG_ERROR, "cannot wake the command thread: %s", strerror(errno));
}

/* ---- steps: multi-step emulation on the command thread ---- */

void device_run_deferred(struct vhostio_device *dev)
{
	/* Cheap test first: this runs after every command. */
	if (!__atomic_load_n(&dev->n_deferred, __ATOMIC_ACQUIRE))
		return;
	for (;;) {
		pthread_mutex_lock(&dev->lock);
		struct vhostio_io *io = io_fifo_pop(&dev->deferred);
		if (io)
			__atomic_sub_fetch(&dev->n_deferred, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&dev->lock);
		if (!io)
			return;
		struct device_io *dio = device_io_of(io);
		io_step_fn step = dio->queued_step;
		dio->queued_step = NULL;
		step_depth++;
		step(io);
		step_depth--;
	}
}

void device_enter_callback(void)
{
	step_depth++;
}

void device_leave_callback(void)
{
	step_depth--;
}

void device_run_step(struct vhostio_io *io, io_step_fn step)
{
	struct vhostio_device *dev = device_of(io);
	bool here = command_thread_of == dev || dev->handler->thread_model == VHOSTIO_THREAD_PARALLEL;

	if (here && step_depth == 0) {
		step_depth++;
		step(io);
		step_depth--;
		device_run_deferred(dev);
		return;
	}
	/* Another thread, or nested in a step (a synchronous handler): queue,
	 * so a long emulation loops instead of recursing. */
	device_io_of(io)->queued_step = step;
	pthread_mutex_lock(&dev->lock);
	io_fifo_push(&dev->deferred, io);
	__atomic_add_fetch(&dev->n_deferred, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dev->lock);
	if (!here)
		device_wake_command_thread(dev);
}

/* ---- completion ---- */

bool device_tail_moved_locked(struct vhostio_device *dev)
{
	if (dev->ring.tail == dev->kicked_tail)
		return false;
	dev->kicked_tail = dev->ring.tail;
	return true;
}

void device_kick(struct vhostio_device *dev)
{
	__atomic_add_fetch(&dev->stats.kicks, 1, __ATOMIC_RELAXED);
	int ret = dev->transport.kick(dev->transport.opaque);
	if (ret < 0)
		log_ratelimited_dev(dev, VHOSTIO_LOG_ERROR, "cannot notify the kernel: %s", strerror(-ret));
}

/*
 * The kernel copies a command's data area back to the initiator unless it
 * is answered CHECK CONDITION, and reads READ_LEN 0 as "no READ_LEN": all
 * of the buffer.  An answer with no data of ours in it (TASK ABORTED, BUSY,
 * or a GOOD transfer of 0 bytes) would so return what earlier commands,
 * perhaps another initiator's, left there.  Zero the buffer for those.
 */
static void scrub_unanswered_data_in(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len)
{
	if (st->status == VHOSTIO_SAM_CHECK_CONDITION || !io->cmd.data_len)
		return;
	if (st->status == VHOSTIO_SAM_GOOD && read_len != 0)
		return;
	for (uint32_t i = 0; i < io->cmd.iov_cnt; i++)
		memset(io->iov[i].iov_base, 0, io->iov[i].iov_len);
}

/* The LUN's completion callback: the response goes into the ring. */
static void complete_into_ring(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len)
{
	struct vhostio_device *dev = device_of(io);

	struct device_io *dio = device_io_of(io);
	pthread_mutex_lock(&dev->lock);
	if (dio->put_when_unpinned) {
		/* Completed twice (a handler that finished it from abort() and
		 * again on its own): the first answer stands. */
		pthread_mutex_unlock(&dev->lock);
		log_ratelimited_dev(dev, VHOSTIO_LOG_ERROR, "cmd_id %u completed twice by the handler; ignored",
				    io->cmd.tag);
		return;
	}
	device_inflight_remove(dev, dio);
	scrub_unanswered_data_in(io, st, read_len);
	ring_complete(&dev->ring, (uint16_t)io->cmd.tag, st, read_len, scsi_lun_descriptor_sense(&dev->lun));
	if (dio->abort_pinned)
		dio->put_when_unpinned = true; /* the handler's abort() still runs */
	else
		device_io_put(dev, io);
	bool need_kick = batch_device != dev && device_tail_moved_locked(dev);
	if (dev->ring.outstanding == 0 && dev->drain_waiters)
		pthread_cond_broadcast(&dev->drained);
	/* A broken ring is recovered once drained, by the command thread. */
	bool wake = dev->ring.broken && dev->ring.outstanding == 0 && batch_device != dev;
	pthread_mutex_unlock(&dev->lock);

	if (need_kick)
		device_kick(dev);
	if (wake)
		device_wake_command_thread(dev);
}

void device_fail(struct vhostio_io *io, const struct vhostio_scsi_status *st)
{
	complete_into_ring(io, st, UINT32_MAX);
}

/*
 * Without the inotify watch (none could be set up: e.g. the user's inotify
 * instances ran out) the serial is read when an initiator asks for it,
 * as a cold-path fallback, so a serial set after attach is not lost.
 */
static void refresh_serial_unwatched(struct scsi_lun *lun)
{
	struct vhostio_device *dev = (struct vhostio_device *)((char *)lun - offsetof(struct vhostio_device, lun));
	char serial[SCSI_SERIAL_MAX];
	if (dev->serial_watch_fd < 0 && dev->info.configfs_dir[0] &&
	    read_configfs_serial(&dev->info, serial, sizeof(serial)) > 0)
		scsi_lun_set_serial(lun, serial);
}

const struct scsi_lun_ops device_lun_ops = {
	.complete = complete_into_ring,
	.run_step = device_run_step,
	.refresh_serial = refresh_serial_unwatched,
};
