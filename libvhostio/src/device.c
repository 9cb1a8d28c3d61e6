/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device command loop.  One thread per device waits for the uio interrupt,
 * drains the ring and runs each command; completions (from that thread or
 * any other) write the response into the ring and, once per batch, kick
 * the kernel.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "log.h"
#include "scsi_defs.h"

/* Set while a device thread is draining its ring: completions made inside
 * the batch leave the kick to the end of the batch. */
static __thread struct vhostio_device *batch_device;

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
	return dev->info.block_size;
}

uint64_t vhostio_device_num_lbas(const struct vhostio_device *dev)
{
	return dev->info.num_lbas;
}

uint64_t vhostio_device_size(const struct vhostio_device *dev)
{
	return dev->info.num_lbas * dev->info.block_size;
}

void vhostio_device_set_private(struct vhostio_device *dev, void *priv)
{
	dev->priv = priv;
}

void *vhostio_device_private(const struct vhostio_device *dev)
{
	return dev->priv;
}

/* ---- io pool ---- */

static struct vhostio_io *io_get(struct vhostio_device *dev)
{
	struct vhostio_io *io = dev->free_ios;
	if (io) {
		dev->free_ios = io->next_free;
		return io;
	}
	io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	io->dev = dev;
	io->iov = io->iov_inline;
	io->iov_cap = IO_INLINE_IOVS;
	return io;
}

static void io_put(struct vhostio_device *dev, struct vhostio_io *io)
{
	io->next_free = dev->free_ios;
	dev->free_ios = io;
}

static int io_grow_iovs(struct vhostio_io *io, uint32_t n)
{
	struct iovec *iov = malloc((size_t)n * sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	if (io->iov != io->iov_inline)
		free(io->iov);
	io->iov = iov;
	io->iov_cap = n;
	return 0;
}

/* ---- completion ---- */

/* Caller holds dev->lock.  Returns true if the kernel must be kicked. */
static bool tail_moved_locked(struct vhostio_device *dev)
{
	if (dev->ring.tail == dev->kicked_tail)
		return false;
	dev->kicked_tail = dev->ring.tail;
	return true;
}

static void kick(struct vhostio_device *dev)
{
	int ret = dev->transport.kick(dev->transport.opaque);
	if (ret < 0)
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "cannot notify the kernel: %s", strerror(-ret));
}

void device_complete(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len)
{
	struct vhostio_device *dev = io->dev;

	pthread_mutex_lock(&dev->lock);
	ring_complete(&dev->ring, io->cmd.cmd_id, st, read_len);
	io_put(dev, io);
	bool need_kick = batch_device != dev && tail_moved_locked(dev);
	if (dev->ring.outstanding == 0)
		pthread_cond_broadcast(&dev->drained);
	pthread_mutex_unlock(&dev->lock);

	if (need_kick)
		kick(dev);
}

static struct vhostio_scsi_status status_from_errno(int err, bool is_write)
{
	struct vhostio_scsi_status st = { .status = VHOSTIO_SAM_CHECK_CONDITION };
	uint16_t asc;

	switch (err) {
	case 0:
		return (struct vhostio_scsi_status){ .status = VHOSTIO_SAM_GOOD };
	case -EAGAIN:
	case -EBUSY:
		return (struct vhostio_scsi_status){ .status = VHOSTIO_SAM_BUSY };
	case -EIO:
	case -ENODATA:
		st.sense_key = VHOSTIO_SENSE_MEDIUM_ERROR;
		asc = is_write ? ASC_WRITE_ERROR : ASC_UNRECOVERED_READ_ERROR;
		break;
	case -ENOSPC:
	case -EDQUOT:
		st.sense_key = VHOSTIO_SENSE_DATA_PROTECT;
		asc = ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT;
		break;
	case -EROFS:
	case -EPERM:
	case -EACCES:
		st.sense_key = VHOSTIO_SENSE_DATA_PROTECT;
		asc = ASC_WRITE_PROTECTED;
		break;
	default:
		st.sense_key = VHOSTIO_SENSE_HARDWARE_ERROR;
		asc = ASC_INTERNAL_TARGET_FAILURE;
		break;
	}
	st.asc = asc >> 8;
	st.ascq = asc & 0xff;
	return st;
}

void vhostio_io_complete(struct vhostio_io *io, int result)
{
	if (result > 0)
		result = 0;
	if (result == 0 && io->flush_after) {
		io->flush_after = false;
		result = io->dev->handler->flush(io->dev, io);
		if (result == VHOSTIO_IO_ASYNC)
			return;
		if (result > 0)
			result = 0;
	}
	if (result < 0)
		vhostio_device_log(io->dev, VHOSTIO_LOG_WARN, "%s failed: %s",
				   io->is_write ? "write" : "read", strerror(-result));
	struct vhostio_scsi_status st = status_from_errno(result, io->is_write);
	device_complete(io, &st, UINT32_MAX);
}

void vhostio_io_complete_scsi(struct vhostio_io *io, const struct vhostio_scsi_status *st)
{
	device_complete(io, st, UINT32_MAX);
}

/* ---- the ring loop ---- */

int device_process_ring(struct vhostio_device *dev)
{
	int taken = 0;

	batch_device = dev;
	for (;;) {
		pthread_mutex_lock(&dev->lock);
		struct vhostio_io *io = io_get(dev);
		if (!io) {
			/* Leave the rest queued; the next wake-up retries. */
			pthread_mutex_unlock(&dev->lock);
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "out of memory for commands");
			break;
		}
		enum ring_fetch_result r = ring_fetch(&dev->ring, &io->cmd, io->iov, io->iov_cap);
		if (r == RING_CMD && io->cmd.iov_cnt > io->iov_cap) {
			/* Copy the iovs now: once unlocked the slot can be overwritten. */
			if (io_grow_iovs(io, io->cmd.iov_cnt) == 0) {
				ring_fetch_iovs(&dev->ring, io->iov);
			} else {
				r = RING_BAD_CMD;
				io->cmd.bad = status_from_errno(-ENOMEM, false);
			}
		}
		if (r == RING_EMPTY || r == RING_BROKEN)
			io_put(dev, io);
		pthread_mutex_unlock(&dev->lock);

		if (r == RING_EMPTY || r == RING_BROKEN)
			break;
		taken++;
		if (r == RING_BAD_CMD)
			device_complete(io, &io->cmd.bad, UINT32_MAX);
		else
			scsi_execute(dev, io);
	}
	batch_device = NULL;

	/* One kick per batch, and also when only PAD/TMR slots were consumed. */
	pthread_mutex_lock(&dev->lock);
	bool need_kick = tail_moved_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	if (need_kick)
		kick(dev);
	return taken;
}

static void *device_thread(void *arg)
{
	struct vhostio_device *dev = arg;
	int event_fd = dev->uio_fd;
	struct pollfd pfd[2] = {
		{ .fd = event_fd, .events = POLLIN },
		{ .fd = dev->stop_fd, .events = POLLIN },
	};

	/* Commands may already be queued (reattach after a restart). */
	device_process_ring(dev);
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN) {
			/* uio requires exactly 4 bytes: the interrupt count. */
			uint32_t count;
			if (read(event_fd, &count, sizeof(count)) != sizeof(count) && errno != EAGAIN) {
				vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "uio read: %s", strerror(errno));
				break;
			}
		} else if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "uio device went away");
			break;
		}
		device_process_ring(dev);
	}
	return NULL;
}

/* ---- lifecycle ---- */

int device_create(struct vhostio_device **devp, const struct device_info *info,
		  const struct vhostio_handler *handler, void *map, size_t map_size,
		  struct device_transport transport)
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
	pthread_mutex_init(&dev->lock, NULL);
	pthread_cond_init(&dev->drained, NULL);

	const char *slash = strchr(dev->info.cfgstring, '/');
	dev->handler_config = slash ? slash + 1 : "";

	int ret = ring_init(&dev->ring, map, map_size);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "unusable command ring");
		goto fail;
	}
	dev->kicked_tail = dev->ring.tail;

	ret = handler->open(dev);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "handler %s cannot open '%s': %s",
				   handler->subtype, dev->handler_config, strerror(-ret));
		goto fail;
	}
	dev->opened = true;
	*devp = dev;
	return 0;
fail:
	pthread_cond_destroy(&dev->drained);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return ret;
}

int device_start_thread(struct vhostio_device *dev, int event_fd)
{
	dev->uio_fd = event_fd;
	dev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->stop_fd < 0)
		return -errno;
	int ret = pthread_create(&dev->thread, NULL, device_thread, dev);
	if (ret) {
		close(dev->stop_fd);
		dev->stop_fd = -1;
		return -ret;
	}
	dev->thread_started = true;
	return 0;
}

static void wait_drained(struct vhostio_device *dev, int timeout_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&dev->lock);
	while (dev->ring.outstanding > 0) {
		if (pthread_cond_timedwait(&dev->drained, &dev->lock, &deadline) == ETIMEDOUT) {
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR,
					   "%u commands still in flight after %d ms; abandoning them",
					   dev->ring.outstanding, timeout_ms);
			break;
		}
	}
	pthread_mutex_unlock(&dev->lock);
}

void device_destroy(struct vhostio_device *dev, int timeout_ms)
{
	if (dev->thread_started) {
		uint64_t one = 1;
		if (write(dev->stop_fd, &one, sizeof(one)) < 0)
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "cannot stop command thread");
		pthread_join(dev->thread, NULL);
	}
	/* No new commands are fetched now; let the ones in flight finish. */
	wait_drained(dev, timeout_ms);
	pthread_mutex_lock(&dev->lock);
	bool need_kick = !dev->ring.broken && tail_moved_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	if (need_kick)
		kick(dev);

	if (dev->opened && dev->handler->close)
		dev->handler->close(dev);
	if (dev->stop_fd >= 0)
		close(dev->stop_fd);

	while (dev->free_ios) {
		struct vhostio_io *io = dev->free_ios;
		dev->free_ios = io->next_free;
		if (io->iov != io->iov_inline)
			free(io->iov);
		free(io);
	}
	pthread_cond_destroy(&dev->drained);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}
