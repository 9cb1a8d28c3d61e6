/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test-only handler: config "delay/<seconds>[;hang=<lba>]".  open() sleeps
 * that long, standing in for a handler whose storage is slow to reach (a
 * network volume); data reads as zeroes and writes are dropped.  With
 * hang=, a read or write that touches that block is taken and never
 * completed (a handler that swallows a command), unless the initiator
 * aborts it: abort() then cancels it.  Lets the VM tests show that one
 * slow open or stuck command stalls neither other devices, nor removal,
 * nor the daemon's stop, and that a task management abort reaches the
 * handler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vhostio/handler.h>

/* "<seconds>[;hang=<lba>]": seconds, and the block to hang on (-1: none). */
static int parse(const char *config, long *seconds, long long *hang)
{
	char *end;
	*seconds = strtol(config, &end, 10);
	*hang = -1;
	if (end == config || *seconds < 0 || *seconds > 600)
		return -EINVAL;
	if (*end == ';') {
		if (strncmp(end + 1, "hang=", 5) != 0)
			return -EINVAL;
		char *num = end + 6;
		*hang = strtoll(num, &end, 10);
		if (end == num || *hang < 0)
			return -EINVAL;
	}
	return *end ? -EINVAL : 0;
}

static int delay_check_config(const char *config, char **reason)
{
	long s;
	long long hang;
	(void)reason;
	return parse(config, &s, &hang);
}

/* What a device keeps: the block to hang on and the commands swallowed. */
struct delay_dev {
	long long hang; /* -1: none */
	pthread_mutex_t lock;
	unsigned n_held;
	struct vhostio_io *held[64];
};

static int delay_open(struct vhostio_device *dev)
{
	long s;
	long long hang;
	if (parse(vhostio_device_config(dev), &s, &hang) < 0)
		return -EINVAL;
	struct delay_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->hang = hang;
	pthread_mutex_init(&d->lock, NULL);
	sleep((unsigned)s);
	vhostio_device_set_private(dev, d);
	return 0;
}

static void delay_close(struct vhostio_device *dev)
{
	struct delay_dev *d = vhostio_device_private(dev);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* Swallow the io if it touches the hang block: kept, never completed. */
static bool swallows(struct vhostio_device *dev, struct vhostio_io *io, size_t length, uint64_t offset)
{
	struct delay_dev *d = vhostio_device_private(dev);
	uint32_t bs = vhostio_device_block_size(dev);
	if (d->hang < 0 || offset / bs > (uint64_t)d->hang || (uint64_t)d->hang >= (offset + length + bs - 1) / bs)
		return false;
	pthread_mutex_lock(&d->lock);
	bool room = d->n_held < sizeof(d->held) / sizeof(d->held[0]);
	if (room)
		d->held[d->n_held++] = io;
	pthread_mutex_unlock(&d->lock);
	if (!room)
		return false; /* served, rather than swallowed beyond recall */
	vhostio_device_log(dev, VHOSTIO_LOG_INFO, "delay: swallowed a %zu-byte request at block %llu", length,
			   (unsigned long long)(offset / bs));
	return true;
}

static void delay_abort(struct vhostio_device *dev, struct vhostio_io *io)
{
	struct delay_dev *d = vhostio_device_private(dev);
	bool found = false;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->n_held; i++) {
		if (d->held[i] == io) {
			d->held[i] = d->held[--d->n_held];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	vhostio_device_log(dev, VHOSTIO_LOG_INFO, "delay: abort of %s", found ? "a swallowed request: cancelled" :
			   "a request it does not hold: ignored");
	if (found)
		vhostio_io_complete(io, -ECANCELED);
}

static int delay_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		      size_t length, uint64_t offset)
{
	if (swallows(dev, io, length, offset))
		return VHOSTIO_IO_ASYNC;
	for (int i = 0; i < iovcnt; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
	return 0;
}

static int delay_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		       size_t length, uint64_t offset)
{
	(void)iov, (void)iovcnt;
	return swallows(dev, io, length, offset) ? VHOSTIO_IO_ASYNC : 0;
}

static const struct vhostio_handler delay_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "delay",
	.config_desc = "test handler: <seconds> that open() takes[;hang=<lba> never completes I/O there unless aborted]",
	.check_config = delay_check_config,
	.open = delay_open,
	.close = delay_close,
	.read = delay_read,
	.write = delay_write,
	.abort = delay_abort,
};

VHOSTIO_REGISTER_HANDLER(delay_handler)
