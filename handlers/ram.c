/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * handler_ram: a LUN held in anonymous memory.  Pages are allocated by the
 * kernel on first write, so a large, mostly unwritten LUN costs little and
 * never-written blocks read back as zeroes.
 *
 * Config: ram/[<label>]   (the label is free text, e.g. the backstore name)
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vhostio/handler.h>

struct ram_lun {
	uint8_t *mem;
	size_t size;
};

static int ram_check_config(const char *config, char **reason)
{
	/* Options are ';'-separated after the label; none exist yet. */
	const char *opt = strchr(config, ';');
	if (opt && opt[1]) {
		if (reason && asprintf(reason, "unknown ram option '%s'", opt + 1) < 0)
			*reason = NULL;
		return -EINVAL;
	}
	return 0;
}

static int ram_open(struct vhostio_device *dev)
{
	uint64_t size = vhostio_device_size(dev);
	if (size > SIZE_MAX)
		return -EFBIG;

	struct ram_lun *lun = calloc(1, sizeof(*lun));
	if (!lun)
		return -ENOMEM;
	/* NORESERVE: the LUN may be larger than RAM as long as it is not filled. */
	lun->mem = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (lun->mem == MAP_FAILED) {
		int err = errno;
		free(lun);
		return -err;
	}
	lun->size = (size_t)size;
	vhostio_device_set_private(dev, lun);
	return 0;
}

static void ram_close(struct vhostio_device *dev)
{
	struct ram_lun *lun = vhostio_device_private(dev);
	munmap(lun->mem, lun->size);
	free(lun);
}

static int ram_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		    int iovcnt, size_t length, uint64_t offset)
{
	(void)io;
	const uint8_t *src = ((struct ram_lun *)vhostio_device_private(dev))->mem + offset;
	for (int i = 0; i < iovcnt && length; i++) {
		size_t n = iov[i].iov_len < length ? iov[i].iov_len : length;
		memcpy(iov[i].iov_base, src, n);
		src += n;
		length -= n;
	}
	return 0;
}

static int ram_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		     int iovcnt, size_t length, uint64_t offset)
{
	(void)io;
	uint8_t *dst = ((struct ram_lun *)vhostio_device_private(dev))->mem + offset;
	for (int i = 0; i < iovcnt && length; i++) {
		size_t n = iov[i].iov_len < length ? iov[i].iov_len : length;
		memcpy(dst, iov[i].iov_base, n);
		dst += n;
		length -= n;
	}
	return 0;
}

static const struct vhostio_handler ram_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "ram",
	.config_desc = "RAM-backed LUN of the backstore's size; contents are lost when the daemon stops.\n"
		       "Config string: [label] (free text)",
	.check_config = ram_check_config,
	.open = ram_open,
	.close = ram_close,
	.read = ram_read,
	.write = ram_write,
};

VHOSTIO_REGISTER_HANDLER(ram_handler)
