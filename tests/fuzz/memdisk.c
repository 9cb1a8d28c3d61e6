/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fuzz targets' memory handler: see memdisk.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "memdisk.h"

#define MAX_HELD 4096

enum held_op { H_READ, H_WRITE, H_FLUSH, H_UNMAP, H_WRITE_SAME };

struct held {
	struct vhostio_io *io;
	enum held_op op;
	const struct iovec *iov;
	int iovcnt;
	size_t length;
	uint64_t offset;
	const void *block;
	const struct vhostio_range *ranges;
	unsigned nr_ranges;
	int result;
};

static struct {
	struct fuzz_disk_opts o;
	uint8_t *mem;
	uint64_t size;
	unsigned calls;          /* data callbacks so far, for fail_at */
	unsigned ws_calls;
	struct held held[MAX_HELD];
	unsigned n_held;
} disk;

int fuzz_errno(unsigned k)
{
	static const int errs[] = { EIO, ENOSPC, EROFS, EBUSY, ENOMEM, EINVAL, ENODATA, EACCES };
	return -errs[k % (sizeof(errs) / sizeof(errs[0]))];
}

void fuzz_disk_init(const struct fuzz_disk_opts *o)
{
	/* One medium for the whole run, cleared as far as it is used: a fresh
	 * allocation of a few MiB per input costs more in page faults than the
	 * input itself.  check_range() keeps every access inside 'size'. */
	static uint8_t *medium;
	disk.o = *o;
	disk.size = o->num_lbas * o->block_size;
	if (disk.size > FUZZ_DISK_MAX)
		fuzz_fail("a %llu-byte medium", (unsigned long long)disk.size);
	if (!medium && !(medium = malloc(FUZZ_DISK_MAX)))
		abort();
	disk.mem = medium;
	memset(disk.mem, 0, disk.size);
	disk.calls = 0;
	disk.ws_calls = 0;
	disk.n_held = 0;
}

void fuzz_disk_free(void)
{
	if (disk.n_held)
		fuzz_fail("%u handler requests still held when the medium goes", disk.n_held);
	disk.mem = NULL;
}

unsigned fuzz_disk_held(void)
{
	return disk.n_held;
}

static void check_range(const char *what, uint64_t offset, uint64_t length)
{
	if (offset > disk.size || length > disk.size - offset)
		fuzz_fail("%s of %llu bytes at %llu on a %llu-byte medium", what, (unsigned long long)length,
			  (unsigned long long)offset, (unsigned long long)disk.size);
}

static void check_iov(const char *what, const struct iovec *iov, int iovcnt, size_t length)
{
	if (iovcnt < 0 || (length && (!iov || iovcnt == 0)))
		fuzz_fail("%s of %zu bytes with %d iovs", what, length, iovcnt);
	uint64_t total = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len && !iov[i].iov_base)
			fuzz_fail("%s: iov %d has no base", what, i);
		total += iov[i].iov_len;
	}
	if (total < length)
		fuzz_fail("%s of %zu bytes with iovs covering only %llu", what, length, (unsigned long long)total);
}

static void copy_iov(const struct iovec *iov, int iovcnt, size_t length, uint64_t offset, bool to_disk)
{
	uint8_t *p = disk.mem + offset;
	for (int i = 0; i < iovcnt && length; i++) {
		size_t n = iov[i].iov_len < length ? iov[i].iov_len : length;
		if (to_disk)
			memcpy(p, iov[i].iov_base, n);
		else
			memcpy(iov[i].iov_base, p, n);
		p += n;
		length -= n;
	}
}

static int run(struct held *h)
{
	uint32_t bs = disk.o.block_size;
	switch (h->op) {
	case H_READ:
	case H_WRITE:
		copy_iov(h->iov, h->iovcnt, h->length, h->offset, h->op == H_WRITE);
		break;
	case H_FLUSH:
		break;
	case H_UNMAP:
		for (unsigned i = 0; i < h->nr_ranges; i++)
			memset(disk.mem + h->ranges[i].offset, 0, h->ranges[i].length);
		break;
	case H_WRITE_SAME:
		for (size_t off = 0; off < h->length; off += bs)
			memcpy(disk.mem + h->offset + off, h->block, bs);
		break;
	}
	return 0;
}

/* Do it now, fail it, or hold it. */
static int submit(struct held h)
{
	if (++disk.calls == disk.o.fail_at)
		h.result = disk.o.fail_errno;
	if (!disk.o.async)
		return h.result ? h.result : run(&h);
	if (disk.n_held == MAX_HELD)
		return -ENOMEM;
	disk.held[disk.n_held++] = h;
	return VHOSTIO_IO_ASYNC;
}

unsigned fuzz_disk_complete_held(bool newest_first)
{
	/* Take the batch first: completions may start new requests. */
	unsigned n = disk.n_held;
	struct held *batch = malloc((n ? n : 1) * sizeof(*batch));
	if (!batch)
		abort();
	memcpy(batch, disk.held, n * sizeof(*batch));
	disk.n_held = 0;
	for (unsigned k = 0; k < n; k++) {
		struct held *h = &batch[newest_first ? n - 1 - k : k];
		int ret = h->result ? h->result : run(h);
		vhostio_io_complete(h->io, ret);
	}
	free(batch);
	return n;
}

static int mem_open(struct vhostio_device *dev)
{
	(void)dev;
	return 0;
}

static int mem_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		    size_t length, uint64_t offset)
{
	(void)dev;
	check_range("read", offset, length);
	check_iov("read", iov, iovcnt, length);
	return submit((struct held){ .io = io, .op = H_READ, .iov = iov, .iovcnt = iovcnt, .length = length,
				     .offset = offset });
}

static int mem_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		     size_t length, uint64_t offset)
{
	(void)dev;
	check_range("write", offset, length);
	check_iov("write", iov, iovcnt, length);
	return submit((struct held){ .io = io, .op = H_WRITE, .iov = iov, .iovcnt = iovcnt, .length = length,
				     .offset = offset });
}

static int mem_flush(struct vhostio_device *dev, struct vhostio_io *io)
{
	(void)dev;
	return submit((struct held){ .io = io, .op = H_FLUSH });
}

static int mem_unmap(struct vhostio_device *dev, struct vhostio_io *io, const struct vhostio_range *ranges,
		     unsigned nr_ranges)
{
	uint32_t bs = disk.o.block_size;
	(void)dev;
	if (nr_ranges == 0 || !ranges)
		fuzz_fail("unmap of %u ranges", nr_ranges);
	for (unsigned i = 0; i < nr_ranges; i++) {
		check_range("unmap", ranges[i].offset, ranges[i].length);
		if (ranges[i].offset % bs || ranges[i].length % bs)
			fuzz_fail("unmap range %llu+%llu not aligned to %u-byte blocks",
				  (unsigned long long)ranges[i].offset, (unsigned long long)ranges[i].length, bs);
	}
	return submit((struct held){ .io = io, .op = H_UNMAP, .ranges = ranges, .nr_ranges = nr_ranges });
}

static int mem_write_same(struct vhostio_device *dev, struct vhostio_io *io, const void *block, size_t length,
			  uint64_t offset)
{
	uint32_t bs = disk.o.block_size;
	(void)dev;
	check_range("write_same", offset, length);
	if (!block || !length || length % bs || offset % bs)
		fuzz_fail("write_same of %zu bytes at %llu, %u-byte blocks", length, (unsigned long long)offset, bs);
	volatile uint8_t touch = ((const uint8_t *)block)[bs - 1]; /* the whole block must be readable */
	(void)touch;
	return submit((struct held){ .io = io, .op = H_WRITE_SAME, .block = block, .length = length,
				     .offset = offset });
}

static int mem_write_same_declining(struct vhostio_device *dev, struct vhostio_io *io, const void *block,
				    size_t length, uint64_t offset)
{
	if (++disk.ws_calls % 2)
		return -EOPNOTSUPP; /* the library emulates this one */
	return mem_write_same(dev, io, block, length, offset);
}

static bool block_is_zero(uint64_t offset)
{
	static const uint8_t zeroes[65536];
	return disk.o.block_size <= sizeof(zeroes) ? memcmp(disk.mem + offset, zeroes, disk.o.block_size) == 0
						   : false;
}

static int mem_lba_status(struct vhostio_device *dev, uint64_t offset, uint64_t *length)
{
	uint32_t bs = disk.o.block_size;
	(void)dev;
	if (!length || *length == 0 || offset % bs)
		fuzz_fail("lba_status at %llu for %llu bytes", (unsigned long long)offset,
			  length ? (unsigned long long)*length : 0ULL);
	check_range("lba_status", offset, *length);
	if (++disk.calls == disk.o.fail_at)
		return disk.o.fail_errno;
	bool zero = block_is_zero(offset);
	uint64_t len = bs;
	while (len < *length && block_is_zero(offset + len) == zero)
		len += bs;
	/* An extent that ends inside a block: the library must round it up. */
	if (disk.o.odd_extents && len > 1)
		len--;
	*length = len;
	return zero ? VHOSTIO_LBA_DEALLOCATED : VHOSTIO_LBA_MAPPED;
}

#define BASE                               \
	VHOSTIO_HANDLER_INIT,              \
	.subtype = "mem",                  \
	.config_desc = "fuzz memory disk", \
	.open = mem_open,                  \
	.read = mem_read,                  \
	.write = mem_write

static const struct vhostio_handler variants[FD_VARIANTS] = {
	[FD_PLAIN] = { BASE },
	[FD_FLUSH] = { BASE, .flush = mem_flush },
	[FD_UNMAP] = { BASE, .flush = mem_flush, .unmap = mem_unmap, .lba_status = mem_lba_status },
	[FD_WRITE_SAME] = { BASE, .flush = mem_flush, .write_same = mem_write_same },
	[FD_WS_DECLINE] = { BASE, .flush = mem_flush, .write_same = mem_write_same_declining },
	[FD_FUA] = { BASE, .flush = mem_flush, .native_caps = VHOSTIO_CAP_FUA },
	[FD_ALL] = { BASE, .flush = mem_flush, .unmap = mem_unmap, .lba_status = mem_lba_status,
		     .write_same = mem_write_same_declining, .native_caps = VHOSTIO_CAP_FUA },
};

const struct vhostio_handler *fuzz_disk_handler(unsigned variant)
{
	return &variants[variant % FD_VARIANTS];
}
