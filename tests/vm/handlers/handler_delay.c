/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test-only handler: config "delay/<seconds>[;hang=<lba>]".  open() sleeps
 * that long, standing in for a handler whose storage is slow to reach (a
 * network volume); data reads as zeroes and writes are dropped.  With
 * hang=, a read or write that touches that block is taken and never
 * completed (a handler that swallows a command).  Lets the VM tests show
 * that one slow open or stuck command stalls neither other devices, nor
 * removal, nor the daemon's stop.
 */
#include <errno.h>
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

static int delay_open(struct vhostio_device *dev)
{
	long s;
	long long hang;
	if (parse(vhostio_device_config(dev), &s, &hang) < 0)
		return -EINVAL;
	sleep((unsigned)s);
	vhostio_device_set_private(dev, (void *)(intptr_t)(hang + 1));
	return 0;
}

/* Never completed: the io is simply kept. */
static bool swallows(struct vhostio_device *dev, size_t length, uint64_t offset)
{
	long long hang = (long long)(intptr_t)vhostio_device_private(dev) - 1;
	uint32_t bs = vhostio_device_block_size(dev);
	return hang >= 0 && offset / bs <= (uint64_t)hang && (uint64_t)hang < (offset + length + bs - 1) / bs;
}

static int delay_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		      size_t length, uint64_t offset)
{
	(void)io;
	if (swallows(dev, length, offset))
		return VHOSTIO_IO_ASYNC;
	for (int i = 0; i < iovcnt; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
	return 0;
}

static int delay_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		       size_t length, uint64_t offset)
{
	(void)io, (void)iov, (void)iovcnt;
	return swallows(dev, length, offset) ? VHOSTIO_IO_ASYNC : 0;
}

static const struct vhostio_handler delay_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "delay",
	.config_desc = "test handler: <seconds> that open() takes[;hang=<lba> never completes I/O there]",
	.check_config = delay_check_config,
	.open = delay_open,
	.read = delay_read,
	.write = delay_write,
};

VHOSTIO_REGISTER_HANDLER(delay_handler)
