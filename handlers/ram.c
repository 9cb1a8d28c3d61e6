/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * handler_ram: a thin-provisioned LUN held in process memory.
 *
 * Memory is handed out in fixed-size chunks, each allocated on its first
 * write.  A table of chunk pointers (NULL: never written, reads as zeroes)
 * maps the LUN; the table itself is an anonymous NORESERVE mapping, so the
 * pages of it that only hold NULLs cost nothing either, and a multi-TiB,
 * mostly empty LUN stays cheap.  UNMAP gives chunks back.
 *
 * Config: ram/[<label>][;chunk=<size>][;limit=<size>]
 *
 * Without limit= a LUN may hold at most half of the machine's memory (the
 * default size of a tmpfs), so that one LUN an initiator fills cannot take
 * the daemon, and every other LUN it serves, down with it.
 *
 * Thread model SERIALIZE: every callback runs on the device's command
 * thread, so the table needs no lock.
 */
#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <vhostio/handler.h>

#include "util.h"

#define RAM_CHUNK_DEFAULT (64u << 10)
#define RAM_CHUNK_MIN (4u << 10)
#define RAM_CHUNK_MAX (1u << 20)

struct ram_opts {
	size_t chunk;    /* bytes, power of two */
	uint64_t limit;  /* most bytes of chunks allocated at once; 0: not given (the default applies) */
};

struct ram_lun {
	uint8_t **table;     /* one pointer per chunk; NULL: unallocated */
	size_t table_bytes;  /* size of the table mapping (page multiple) */
	uint64_t nchunks;
	uint64_t size;       /* LUN bytes */
	size_t chunk;
	unsigned shift;      /* log2(chunk) */
	uint64_t limit;      /* never 0: limit= or the default */
	uint64_t allocated;  /* bytes in allocated chunks */
};

/* ---- config ---- */

/* Parse the options after the label.  0, or -EINVAL and a reason. */
static int ram_parse(const char *config, struct ram_opts *o, char **reason)
{
	o->chunk = RAM_CHUNK_DEFAULT;
	o->limit = 0;

	const char *p = strchr(config, ';');
	while (p) {
		const char *opt = p + 1;
		const char *end = strchrnul(opt, ';');
		size_t len = (size_t)(end - opt);
		const char *eq = memchr(opt, '=', len);
		size_t key_len = eq ? (size_t)(eq - opt) : len;
		const char *val = eq ? eq + 1 : NULL;
		size_t val_len = eq ? (size_t)(end - val) : 0;
		uint64_t v;

		p = *end ? end : NULL;
		if (len == 0)
			continue; /* "label;" or ";;" */
		if (key_len == 5 && strncmp(opt, "chunk", 5) == 0 && val) {
			if (vhostio_parse_size(val, val_len, &v) < 0 || v < RAM_CHUNK_MIN || v > RAM_CHUNK_MAX ||
			    (v & (v - 1))) {
				vhostio_set_reason(reason, "ram option 'chunk=%.*s': want a power of two from 4k to 1m",
					   (int)val_len, val);
				return -EINVAL;
			}
			o->chunk = (size_t)v;
		} else if (key_len == 5 && strncmp(opt, "limit", 5) == 0 && val) {
			if (vhostio_parse_size(val, val_len, &v) < 0 || v == 0) {
				vhostio_set_reason(reason, "ram option 'limit=%.*s': want a size such as 512m or 2g",
					   (int)val_len, val);
				return -EINVAL;
			}
			o->limit = v;
		} else {
			vhostio_set_reason(reason, "unknown ram option '%.*s' (known: chunk=<size>, limit=<size>)",
				   (int)len, opt);
			return -EINVAL;
		}
	}
	if (o->limit && o->limit < o->chunk) {
		vhostio_set_reason(reason, "ram option 'limit=%" PRIu64 "' is smaller than one chunk (%zu bytes)",
			   o->limit, o->chunk);
		return -EINVAL;
	}
	return 0;
}

static int ram_check_config(const char *config, char **reason)
{
	struct ram_opts o;
	return ram_parse(config, &o, reason);
}

/*
 * The limit without limit=: half of physical memory, rounded down to whole
 * chunks (at least one).  get_phys_pages() rather than sysconf(): the same
 * figure, and a name the unit tests can interpose to fake a small machine.
 */
static uint64_t default_limit(size_t chunk)
{
	long pages = get_phys_pages();
	long page = sysconf(_SC_PAGESIZE);
	uint64_t half = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 2 : UINT64_MAX;
	half &= ~(uint64_t)(chunk - 1);
	return half ? half : chunk;
}

static uint64_t effective_limit(const struct ram_opts *o)
{
	return o->limit ? o->limit : default_limit(o->chunk);
}

/* ---- chunk table ---- */

static size_t table_bytes_for(uint64_t nchunks)
{
	size_t page = 4096;
	return (size_t)((nchunks * sizeof(uint8_t *) + page - 1) & ~(uint64_t)(page - 1));
}

static uint64_t chunks_for(const struct ram_lun *lun, uint64_t size)
{
	return (size + lun->chunk - 1) >> lun->shift;
}

static void chunk_free(struct ram_lun *lun, uint64_t idx)
{
	if (lun->table[idx]) {
		free(lun->table[idx]);
		lun->table[idx] = NULL;
		lun->allocated -= lun->chunk;
	}
}

/* Resize the table; chunks past the new end must already be freed. */
static int table_resize(struct ram_lun *lun, uint64_t nchunks)
{
	if (nchunks > SIZE_MAX / sizeof(uint8_t *))
		return -EFBIG;
	size_t bytes = table_bytes_for(nchunks);
	if (bytes == 0)
		bytes = 4096;
	void *t;
	if (!lun->table)
		t = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	else if (bytes != lun->table_bytes)
		/* Growing an anonymous mapping adds zero pages: new entries are NULL. */
		t = mremap(lun->table, lun->table_bytes, bytes, MREMAP_MAYMOVE);
	else
		t = lun->table;
	if (t == MAP_FAILED)
		return -errno;
	lun->table = t;
	lun->table_bytes = bytes;
	lun->nchunks = nchunks;
	return 0;
}

/* ---- open / close ---- */

static int ram_open(struct vhostio_device *dev)
{
	struct ram_opts o;
	char *reason = NULL;
	int ret = ram_parse(vhostio_device_config(dev), &o, &reason);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "%s", reason ? reason : "bad ram config");
		free(reason);
		return ret;
	}

	struct ram_lun *lun = calloc(1, sizeof(*lun));
	if (!lun)
		return -ENOMEM;
	lun->chunk = o.chunk;
	lun->shift = (unsigned)__builtin_ctzll(o.chunk);
	lun->limit = effective_limit(&o);
	lun->size = vhostio_device_size(dev);
	if (!o.limit && lun->size > lun->limit)
		vhostio_device_log(dev, VHOSTIO_LOG_INFO,
				   "LUN of %" PRIu64 " bytes without limit=: at most %" PRIu64
				   " bytes (half of physical memory) can be in use",
				   lun->size, lun->limit);
	ret = table_resize(lun, chunks_for(lun, lun->size));
	if (ret < 0) {
		free(lun);
		return ret;
	}
	vhostio_device_set_private(dev, lun);
	return 0;
}

static void ram_close(struct vhostio_device *dev)
{
	struct ram_lun *lun = vhostio_device_private(dev);
	for (uint64_t i = 0; i < lun->nchunks; i++)
		chunk_free(lun, i);
	munmap(lun->table, lun->table_bytes);
	free(lun);
}

/* ---- data path ---- */

/* Walks an iovec array; copies to or from it. */
struct iov_cursor {
	const struct iovec *iov;
	int cnt;
	int idx;
	size_t off;
};

/* Move n bytes between 'mem' and the iovs; mem NULL with !to_mem: zeroes. */
static void iov_xfer(struct iov_cursor *c, uint8_t *mem, size_t n, bool to_mem)
{
	while (n && c->idx < c->cnt) {
		const struct iovec *v = &c->iov[c->idx];
		size_t k = v->iov_len - c->off;
		if (k > n)
			k = n;
		uint8_t *buf = (uint8_t *)v->iov_base + c->off;
		if (to_mem)
			memcpy(mem, buf, k);
		else if (mem)
			memcpy(buf, mem, k);
		else
			memset(buf, 0, k);
		if (mem)
			mem += k;
		n -= k;
		c->off += k;
		if (c->off == v->iov_len) {
			c->idx++;
			c->off = 0;
		}
	}
}

static int ram_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		    int iovcnt, size_t length, uint64_t offset)
{
	struct ram_lun *lun = vhostio_device_private(dev);
	struct iov_cursor c = { iov, iovcnt, 0, 0 };
	(void)io;

	while (length) {
		uint64_t idx = offset >> lun->shift;
		size_t in = (size_t)(offset & (lun->chunk - 1));
		size_t n = lun->chunk - in;
		if (n > length)
			n = length;
		/* An unallocated chunk reads as zeroes and stays unallocated. */
		iov_xfer(&c, lun->table[idx] ? lun->table[idx] + in : NULL, n, false);
		offset += n;
		length -= n;
	}
	return 0;
}

/*
 * Allocate every missing chunk of [offset, offset + length) up front, so a
 * write that would cross the limit fails before it has changed anything.
 */
static int ensure_chunks(struct ram_lun *lun, uint64_t offset, uint64_t length)
{
	uint64_t first = offset >> lun->shift;
	uint64_t last = (offset + length - 1) >> lun->shift;
	uint64_t missing = 0;

	for (uint64_t i = first; i <= last; i++)
		missing += !lun->table[i];
	if (!missing)
		return 0;
	if (lun->allocated + missing * lun->chunk > lun->limit)
		return -ENOSPC;
	for (uint64_t i = first; i <= last; i++) {
		if (lun->table[i])
			continue;
		/* calloc: a partly written chunk must read zeroes elsewhere. */
		lun->table[i] = calloc(1, lun->chunk);
		if (!lun->table[i])
			return -ENOMEM; /* chunks taken so far hold zeroes: nothing visible changed */
		lun->allocated += lun->chunk;
	}
	return 0;
}

static int ram_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		     int iovcnt, size_t length, uint64_t offset)
{
	struct ram_lun *lun = vhostio_device_private(dev);
	struct iov_cursor c = { iov, iovcnt, 0, 0 };
	(void)io;

	if (!length)
		return 0;
	int ret = ensure_chunks(lun, offset, length);
	if (ret < 0)
		return ret;
	while (length) {
		uint64_t idx = offset >> lun->shift;
		size_t in = (size_t)(offset & (lun->chunk - 1));
		size_t n = lun->chunk - in;
		if (n > length)
			n = length;
		iov_xfer(&c, lun->table[idx] + in, n, true);
		offset += n;
		length -= n;
	}
	return 0;
}

/* Free chunks wholly inside the range, zero the covered part of the others. */
static void deallocate(struct ram_lun *lun, uint64_t offset, uint64_t length)
{
	while (length) {
		uint64_t idx = offset >> lun->shift;
		size_t in = (size_t)(offset & (lun->chunk - 1));
		size_t n = lun->chunk - in;
		if (n > length)
			n = length;
		if (n == lun->chunk)
			chunk_free(lun, idx);
		else if (lun->table[idx])
			memset(lun->table[idx] + in, 0, n);
		offset += n;
		length -= n;
	}
}

static int ram_unmap(struct vhostio_device *dev, struct vhostio_io *io, const struct vhostio_range *ranges,
		     unsigned nr_ranges)
{
	struct ram_lun *lun = vhostio_device_private(dev);
	(void)io;
	for (unsigned i = 0; i < nr_ranges; i++)
		deallocate(lun, ranges[i].offset, ranges[i].length);
	return 0;
}

static int ram_write_same(struct vhostio_device *dev, struct vhostio_io *io, const void *block,
			  size_t length, uint64_t offset)
{
	struct ram_lun *lun = vhostio_device_private(dev);
	size_t bs = vhostio_device_block_size(dev);
	(void)io;

	if (!length)
		return 0;
	if (is_zero(block, bs)) {
		/* Zeroes are what an unallocated chunk holds: free instead of fill. */
		deallocate(lun, offset, length);
		return 0;
	}
	int ret = ensure_chunks(lun, offset, length);
	if (ret < 0)
		return ret;
	/* Offsets are block aligned and chunks are a power of two >= 4k, so a
	 * block never straddles two chunks unless it is larger than a chunk. */
	for (uint64_t pos = offset; pos < offset + length;) {
		for (size_t done = 0; done < bs;) {
			uint64_t idx = pos >> lun->shift;
			size_t in = (size_t)(pos & (lun->chunk - 1));
			size_t n = lun->chunk - in;
			if (n > bs - done)
				n = bs - done;
			memcpy(lun->table[idx] + in, (const uint8_t *)block + done, n);
			done += n;
			pos += n;
		}
	}
	return 0;
}

static int ram_lba_status(struct vhostio_device *dev, uint64_t offset, uint64_t *length)
{
	struct ram_lun *lun = vhostio_device_private(dev);
	uint64_t idx = offset >> lun->shift;
	bool mapped = lun->table[idx] != NULL;
	uint64_t end = (idx + 1) << lun->shift;

	/* Extend over following chunks in the same state, up to what was asked. */
	while (end - offset < *length && idx + 1 < lun->nchunks && (lun->table[idx + 1] != NULL) == mapped) {
		idx++;
		end += lun->chunk;
	}
	if (end - offset < *length)
		*length = end - offset;
	return mapped ? VHOSTIO_LBA_MAPPED : VHOSTIO_LBA_DEALLOCATED;
}

/* ---- reconfig ---- */

static int ram_resize(struct vhostio_device *dev, struct ram_lun *lun, uint64_t size)
{
	uint64_t nchunks = chunks_for(lun, size);
	if (size < lun->size) {
		for (uint64_t i = nchunks; i < lun->nchunks; i++)
			chunk_free(lun, i);
		/* What lay beyond the new end must not come back on a later grow. */
		size_t in = (size_t)(size & (lun->chunk - 1));
		if (in && lun->table[nchunks - 1])
			memset(lun->table[nchunks - 1] + in, 0, lun->chunk - in);
	}
	int ret = table_resize(lun, nchunks);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "cannot resize the chunk table: %s", strerror(-ret));
		return ret;
	}
	lun->size = size;
	return 0;
}

static int ram_reconfig(struct vhostio_device *dev, const struct vhostio_reconfig *rc)
{
	struct ram_lun *lun = vhostio_device_private(dev);
	uint64_t limit = lun->limit;

	if (rc->changed & VHOSTIO_RECONFIG_CONFIG) {
		struct ram_opts o;
		if (ram_parse(rc->config, &o, NULL) < 0)
			return -EINVAL;
		/* Another chunk size needs a new table: let the library reopen
		 * (which starts from an empty LUN). */
		if (o.chunk != lun->chunk)
			return -EOPNOTSUPP;
		/* A new config string without limit= gets the default again. */
		limit = effective_limit(&o);
	}
	if (rc->changed & VHOSTIO_RECONFIG_SIZE) {
		int ret = ram_resize(dev, lun, rc->size);
		if (ret < 0)
			return ret;
	}
	/* A lower limit than what is in use only stops further allocation. */
	lun->limit = limit;
	return 0;
}

static const struct vhostio_handler ram_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "ram",
	.config_desc =
		"RAM-backed, thin-provisioned LUN of the backstore's size; contents are lost\n"
		"when the daemon stops.  Config string: [label][;chunk=<size>][;limit=<size>]\n"
		"  label         free text, e.g. the backstore name\n"
		"  chunk=<size>  allocation unit, a power of two from 4k to 1m (default 64k)\n"
		"  limit=<size>  most memory to allocate (k/m/g suffixes; default half of\n"
		"                physical memory); a write that needs more fails with\n"
		"                SPACE ALLOCATION FAILED\n"
		"Memory is taken on first write and given back by UNMAP.  Changing the label\n"
		"or limit keeps the data; changing chunk= restarts the LUN empty.",
	.check_config = ram_check_config,
	.open = ram_open,
	.close = ram_close,
	.read = ram_read,
	.write = ram_write,
	.unmap = ram_unmap,
	.write_same = ram_write_same,
	.lba_status = ram_lba_status,
	.reconfig = ram_reconfig,
	.thread_model = VHOSTIO_THREAD_SERIALIZE,
};

VHOSTIO_REGISTER_HANDLER(ram_handler)
