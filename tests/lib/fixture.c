/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "configfs.h"
#include "fixture.h"

int check_failures;

static struct memdisk *disk_of(struct vhostio_device *dev)
{
	return vhostio_device_private(dev);
}

/* The disk of the fixture being set up: open() and reopen() attach it. */
static struct memdisk *current_disk;

static int mem_open(struct vhostio_device *dev)
{
	struct memdisk *d = current_disk;
	d->opens++;
	if (d->fail_open)
		return d->fail_open;
	vhostio_device_set_private(dev, d);
	return 0;
}

static void mem_close(struct vhostio_device *dev)
{
	disk_of(dev)->closes++;
}

static void copy_iov(struct memdisk *d, const struct iovec *iov, int iovcnt, size_t length,
		     uint64_t offset, bool to_disk)
{
	uint8_t *p = d->mem + offset;
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

static int hold(struct memdisk *d, struct pending_io p)
{
	if (d->n_pending == FX_MAX_PENDING)
		return -ENOMEM;
	d->pending[d->n_pending++] = p;
	return VHOSTIO_IO_ASYNC;
}

static int mem_rw(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		  int iovcnt, size_t length, uint64_t offset, bool is_write)
{
	struct memdisk *d = disk_of(dev);
	if (offset + length > d->size)
		abort(); /* the library must never pass an out-of-range request */
	if (d->async)
		return hold(d, (struct pending_io){ io, is_write, false, iov, iovcnt, length, offset });
	int fail = is_write ? d->fail_write : d->fail_read;
	if (fail)
		return fail;
	copy_iov(d, iov, iovcnt, length, offset, is_write);
	return 0;
}

static int mem_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		    int iovcnt, size_t length, uint64_t offset)
{
	return mem_rw(dev, io, iov, iovcnt, length, offset, false);
}

static int mem_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		     int iovcnt, size_t length, uint64_t offset)
{
	return mem_rw(dev, io, iov, iovcnt, length, offset, true);
}

static int mem_flush(struct vhostio_device *dev, struct vhostio_io *io)
{
	struct memdisk *d = disk_of(dev);
	d->flushes++;
	if (d->async)
		return hold(d, (struct pending_io){ .io = io, .is_flush = true });
	return 0;
}

const struct vhostio_handler memdisk_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "mem",
	.config_desc = "test memory disk",
	.open = mem_open,
	.close = mem_close,
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
};

struct fixture *fx_new_with(const struct vhostio_handler *h, uint32_t cmdr_size, uint64_t num_lbas,
			    uint32_t block_size, bool write_cache)
{
	return fx_new_cfg(h, "mem/unit-test", cmdr_size, num_lbas, block_size, write_cache);
}

static struct fixture *fx_create(const struct vhostio_handler *h, const char *cfgstring, const char *configfs_name,
				 uint32_t cmdr_size, uint64_t num_lbas, uint32_t block_size, bool write_cache)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || ringsim_init(&f->sim, cmdr_size, 4u << 20) < 0)
		abort();
	if (handler_import(&f->handler, h) < 0)
		abort();
	f->disk.size = num_lbas * block_size;
	f->disk.mem = calloc(1, f->disk.size);

	struct device_info info = { .name = "1/test" };
	struct device_attributes attrs = {
		.serial = "0123456789abcdef0123456789abcdef",
		.block_size = block_size,
		.num_lbas = num_lbas,
		.max_sectors = 1024,
		.write_cache = write_cache,
	};
	snprintf(info.cfgstring, sizeof(info.cfgstring), "%s", cfgstring);
	snprintf(info.subtype, sizeof(info.subtype), "%s", f->handler.subtype);
	if (configfs_name) {
		const char *slash = strchr(configfs_name, '/');
		if (!slash || configfs_path(info.configfs_dir, sizeof(info.configfs_dir), "core/user_%.*s/%s",
					    (int)(slash - configfs_name), configfs_name, slash + 1) < 0)
			abort();
	}
	struct device_transport t = { .kick = ringsim_kick, .opaque = &f->sim };
	current_disk = &f->disk;
	if (device_create(&f->dev, &info, &attrs, &f->handler, f->sim.map, f->sim.map_size, t) < 0) {
		fprintf(stderr, "fixture: cannot open a '%s' device on '%s'\n", f->handler.subtype, cfgstring);
		exit(T_EXIT_FAIL);
	}
	return f;
}

struct fixture *fx_new_cfg(const struct vhostio_handler *h, const char *cfgstring, uint32_t cmdr_size,
			   uint64_t num_lbas, uint32_t block_size, bool write_cache)
{
	return fx_create(h, cfgstring, NULL, cmdr_size, num_lbas, block_size, write_cache);
}

struct fixture *fx_new_configfs(uint32_t cmdr_size, uint64_t num_lbas, uint32_t block_size, const char *name)
{
	return fx_create(&memdisk_handler, "mem/unit-test", name, cmdr_size, num_lbas, block_size, false);
}

struct fixture *fx_new(uint32_t cmdr_size, uint64_t num_lbas, uint32_t block_size, bool write_cache)
{
	return fx_new_with(&memdisk_handler, cmdr_size, num_lbas, block_size, write_cache);
}

void fx_free(struct fixture *f)
{
	device_destroy(f->dev, 1000);
	ringsim_free(&f->sim);
	free(f->disk.mem);
	free(f);
}

uint16_t fx_run(struct fixture *f, const uint8_t *cdb, size_t len, const void *data_out)
{
	uint16_t id = ringsim_submit(&f->sim, cdb, len, data_out);
	if (!id)
		abort();
	device_process_ring(f->dev);
	return id;
}

const struct sim_result *fx_result(struct fixture *f, uint16_t id)
{
	return f->sim.results[id].done ? &f->sim.results[id] : NULL;
}

void fx_finish(struct fixture *f, unsigned idx, int result)
{
	struct pending_io *p = &f->disk.pending[idx];
	if (result == 0 && !p->is_flush)
		copy_iov(&f->disk, p->iov, p->iovcnt, p->length, p->offset, p->is_write);
	vhostio_io_complete(p->io, result);
	/* Multi-step emulations resume on the "command thread": this one. */
	device_process_ring(f->dev);
}

int fx_serve(struct fixture *f, int timeout_ms)
{
	return device_serve_once(f->dev, timeout_ms);
}

uint16_t fx_run_wait(struct fixture *f, const uint8_t *cdb, size_t len, const void *data_out, int timeout_ms)
{
	uint16_t id = fx_run(f, cdb, len, data_out);
	for (int waited = 0; !fx_result(f, id) && waited < timeout_ms; waited += 10)
		fx_serve(f, 10);
	return id;
}

void cdb_rw10(uint8_t cdb[10], uint8_t opcode, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 10);
	cdb[0] = opcode;
	cdb[2] = (uint8_t)(lba >> 24);
	cdb[3] = (uint8_t)(lba >> 16);
	cdb[4] = (uint8_t)(lba >> 8);
	cdb[5] = (uint8_t)lba;
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
}

void cdb_rw16(uint8_t cdb[16], uint8_t opcode, uint64_t lba, uint32_t blocks)
{
	memset(cdb, 0, 16);
	cdb[0] = opcode;
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(blocks >> (24 - 8 * i));
}

static uint8_t pattern_byte(size_t i, uint32_t seed)
{
	uint32_t x = (uint32_t)i * 2654435761u ^ seed * 40503u;
	return (uint8_t)(x >> 13 ^ x);
}

void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(i, seed);
}

bool check_pattern(const uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern_byte(i, seed))
			return false;
	return true;
}

/* ---- memdisk variants: unmap + lba_status, native write_same ---- */

static int mem_unmap(struct vhostio_device *dev, struct vhostio_io *io, const struct vhostio_range *ranges,
		     unsigned nr_ranges)
{
	struct memdisk *d = disk_of(dev);
	(void)io;
	d->unmap_calls++;
	for (unsigned i = 0; i < nr_ranges; i++) {
		if (ranges[i].offset > d->size || ranges[i].length > d->size - ranges[i].offset)
			abort(); /* the library must never pass an out-of-range request */
		memset(d->mem + ranges[i].offset, 0, ranges[i].length);
		d->unmap_ranges++;
	}
	return 0;
}

static bool block_is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Extents of all-zero blocks are "deallocated", the rest mapped. */
static int mem_lba_status(struct vhostio_device *dev, uint64_t offset, uint64_t *length)
{
	struct memdisk *d = disk_of(dev);
	uint32_t bs = vhostio_device_block_size(dev);
	bool zero = block_is_zero(d->mem + offset, bs);
	uint64_t len = bs;
	while (len < *length && block_is_zero(d->mem + offset + len, bs) == zero)
		len += bs;
	*length = len;
	return zero ? VHOSTIO_LBA_DEALLOCATED : VHOSTIO_LBA_MAPPED;
}

static int mem_write_same(struct vhostio_device *dev, struct vhostio_io *io, const void *block, size_t length,
			  uint64_t offset)
{
	struct memdisk *d = disk_of(dev);
	uint32_t bs = vhostio_device_block_size(dev);
	(void)io;
	d->write_same_calls++;
	if (d->write_same_result)
		return d->write_same_result;
	if (offset > d->size || length > d->size - offset || length % bs)
		abort();
	for (size_t off = 0; off < length; off += bs)
		memcpy(d->mem + offset + off, block, bs);
	return 0;
}

const struct vhostio_handler memdisk_unmap_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "mem",
	.config_desc = "test memory disk with unmap",
	.open = mem_open,
	.close = mem_close,
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.unmap = mem_unmap,
	.lba_status = mem_lba_status,
};

const struct vhostio_handler memdisk_ws_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "mem",
	.config_desc = "test memory disk with write_same",
	.open = mem_open,
	.close = mem_close,
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.write_same = mem_write_same,
};

bool sense_parse(const uint8_t *s, size_t len, struct sense_info *out)
{
	struct vhostio_scsi_status st;
	memset(out, 0, sizeof(*out));
	if (vhostio_sense_decode(s, len, &st) < 0)
		return false;
	out->descriptor = (s[0] & 0x7f) >= 0x72;
	out->key = st.sense_key;
	out->asc = st.asc;
	out->ascq = st.ascq;
	out->info_valid = st.info_valid;
	out->info = st.info;
	out->sks_valid = st.sks_valid;
	memcpy(out->sks, st.sks, sizeof(out->sks));
	return true;
}

uint32_t fx_sense_triple(struct fixture *f, uint16_t id)
{
	const struct sim_result *r = fx_result(f, id);
	struct sense_info si;
	if (!r || r->status != 2 || !sense_parse(r->sense, sizeof(r->sense), &si))
		return 0xffffffffu;
	return (uint32_t)si.key << 16 | (uint32_t)si.asc << 8 | si.ascq;
}

bool fx_field_pointer_is(struct fixture *f, uint16_t id, bool in_cdb, unsigned byte, int bit)
{
	const struct sim_result *r = fx_result(f, id);
	struct sense_info si;
	if (!r || !sense_parse(r->sense, sizeof(r->sense), &si) || !si.sks_valid)
		return false;
	uint8_t want = (uint8_t)((in_cdb ? 0x40 : 0) | (bit >= 0 ? 0x08 | bit : 0));
	if (si.sks[0] != want || ((unsigned)si.sks[1] << 8 | si.sks[2]) != byte) {
		fprintf(stderr, "field pointer: sks %02x %02x %02x\n", si.sks[0], si.sks[1], si.sks[2]);
		return false;
	}
	return true;
}
