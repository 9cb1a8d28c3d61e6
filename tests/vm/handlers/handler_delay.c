/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test-only handler: config "delay/<seconds>".  open() sleeps that long,
 * standing in for a handler whose storage is slow to reach (a network
 * volume); data reads as zeroes and writes are dropped.  Lets the VM tests
 * show that one slow open stalls neither other devices nor the daemon.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vhostio/handler.h>

static int delay_check_config(const char *config, char **reason)
{
	(void)reason;
	char *end;
	long s = strtol(config, &end, 10);
	return *config && !*end && s >= 0 && s <= 600 ? 0 : -EINVAL;
}

static int delay_open(struct vhostio_device *dev)
{
	sleep((unsigned)atoi(vhostio_device_config(dev)));
	return 0;
}

static int delay_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		      size_t length, uint64_t offset)
{
	(void)dev, (void)io, (void)length, (void)offset;
	for (int i = 0; i < iovcnt; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
	return 0;
}

static int delay_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		       size_t length, uint64_t offset)
{
	(void)dev, (void)io, (void)iov, (void)iovcnt, (void)length, (void)offset;
	return 0;
}

static const struct vhostio_handler delay_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "delay",
	.config_desc = "test handler: <seconds> that open() takes",
	.check_config = delay_check_config,
	.open = delay_open,
	.read = delay_read,
	.write = delay_write,
};

VHOSTIO_REGISTER_HANDLER(delay_handler)
