/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SBC-3 commands: capacity, reads and writes, cache control, and the
 * multi-step emulations (VERIFY, WRITE AND VERIFY, WRITE SAME, COMPARE
 * AND WRITE) built from the handler's read/write/flush.
 *
 * Multi-step commands keep their state in io->bounce (freed when the
 * command completes) and io->emul_pos/emul_end; each handler call sets
 * io->next_step, and the library runs that step on the command thread
 * once the handler has finished, however it finishes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vhostio/vhostio.h>

#include "scsi_internal.h"

static bool offers(const struct scsi_lun *lun, uint32_t cap)
{
	return lun->caps & cap;
}

/* ---- READ CAPACITY, GET LBA STATUS ---- */

void scsi_read_capacity_10(struct scsi_lun *lun, struct vhostio_io *io)
{
	uint8_t b[8];
	uint64_t last = scsi_lun_num_lbas(lun) - 1;
	/* All ones tells the initiator to ask READ CAPACITY (16). */
	put_be32(&b[0], last > 0xffffffffULL ? 0xffffffffU : (uint32_t)last);
	put_be32(&b[4], lun->block_size);
	scsi_complete_data_in(io, b, sizeof(b), sizeof(b));
}

void scsi_read_capacity_16(struct scsi_lun *lun, struct vhostio_io *io)
{
	uint8_t b[32] = { 0 };
	put_be64(&b[0], scsi_lun_num_lbas(lun) - 1);
	put_be32(&b[8], lun->block_size);
	if (offers(lun, VHOSTIO_CAP_UNMAP))
		b[14] = 0x80 | 0x40; /* LBPME, LBPRZ: unmapped blocks read as zeroes */
	scsi_complete_data_in(io, b, sizeof(b), get_be32(&io->cmd.cdb[10]));
}

#define LBA_STATUS_MAX_DESCRIPTORS 64

void scsi_get_lba_status(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	uint64_t lba = get_be64(&cdb[2]);
	uint32_t alloc_len = get_be32(&cdb[10]);
	uint32_t bs = lun->block_size;
	uint8_t b[8 + 16 * LBA_STATUS_MAX_DESCRIPTORS];

	if (lba >= scsi_lun_num_lbas(lun)) {
		scsi_complete_lba_out_of_range(io);
		return;
	}

	/* The same descriptors whatever the allocation length, so that a
	 * truncated answer is a prefix of the full one and its PARAMETER
	 * DATA LENGTH tells the initiator how much to ask for. */
	const unsigned want = LBA_STATUS_MAX_DESCRIPTORS;

	memset(b, 0, sizeof(b));
	unsigned n = 0;
	uint64_t pos = lba;
	while (n < want && pos < scsi_lun_num_lbas(lun)) {
		uint64_t remaining = scsi_lun_num_lbas(lun) - pos;
		uint64_t blocks = remaining;
		int state = VHOSTIO_LBA_MAPPED;
		if (lun->handler->lba_status) {
			uint64_t len = remaining * bs;
			state = lun->handler->lba_status(lun->dev, pos * bs, &len);
			if (state < 0) {
				struct vhostio_scsi_status st = scsi_status_from_errno(state, false);
				scsi_complete_status(io, &st);
				return;
			}
			/* A partial block belongs to the extent: round up, never stall. */
			blocks = len / bs + (len % bs != 0);
			if (blocks == 0)
				blocks = 1;
			if (blocks > remaining)
				blocks = remaining;
		}
		if (blocks > UINT32_MAX)
			blocks = UINT32_MAX;
		uint8_t *d = &b[8 + 16 * n];
		put_be64(&d[0], pos);
		put_be32(&d[8], (uint32_t)blocks);
		d[12] = state == VHOSTIO_LBA_DEALLOCATED ? 0x01 : 0x00;
		pos += blocks;
		n++;
	}
	put_be32(&b[0], 4 + 16 * n); /* parameter data length: what follows this field */
	scsi_complete_data_in(io, b, 8 + 16 * (size_t)n, alloc_len);
}

/* ---- LBA and length fields ---- */

struct lba_args {
	uint64_t lba;
	uint32_t blocks;
	uint8_t blocks_byte;  /* CDB byte of the length field, for field pointers */
};

static struct lba_args decode_lba(const uint8_t *cdb)
{
	struct lba_args a = { 0 };
	switch (cdb[0]) {
	case OP_READ_6:
	case OP_WRITE_6:
		a.lba = get_be24(&cdb[1]) & 0x1fffff;
		a.blocks = cdb[4] ? cdb[4] : 256;  /* 0 means 256 in 6-byte CDBs */
		a.blocks_byte = 4;
		break;
	case OP_READ_12:
	case OP_WRITE_12:
		a.lba = get_be32(&cdb[2]);
		a.blocks = get_be32(&cdb[6]);
		a.blocks_byte = 6;
		break;
	default:
		if (cdb[0] >= 0x80) { /* 16-byte CDBs */
			a.lba = get_be64(&cdb[2]);
			a.blocks = get_be32(&cdb[10]);
			a.blocks_byte = 10;
		} else {
			a.lba = get_be32(&cdb[2]);
			a.blocks = get_be16(&cdb[7]);
			a.blocks_byte = 7;
		}
		break;
	}
	return a;
}

/* FUA on a write: the handler's own, or write then flush behind a volatile cache. */
static void set_write_fua(struct scsi_lun *lun, struct vhostio_io *io, bool fua)
{
	if (!fua)
		return;
	if (lun->native_caps & VHOSTIO_CAP_FUA)
		io->flags |= VHOSTIO_IO_FUA;
	else
		io->flush_after = scsi_lun_write_cache(lun) && offers(lun, VHOSTIO_CAP_FLUSH);
}

/* ---- READ / WRITE ---- */

/*
 * What every data transfer checks first: the range, a zero length (GOOD
 * at once), the kernel's buffer.  false: the command is finished already.
 */
static bool transfer_ok(struct scsi_lun *lun, struct vhostio_io *io, const struct lba_args *a, uint64_t *length)
{
	if (!scsi_lba_range_ok(lun, a->lba, a->blocks)) {
		scsi_complete_lba_out_of_range(io);
		return false;
	}
	if (a->blocks == 0) {
		scsi_complete_good(io);
		return false;
	}
	*length = (uint64_t)a->blocks * lun->block_size;
	return scsi_buffer_covers(lun, io, *length);
}

/* Shorten io->iov to 'length' bytes (the private array, not the ring); returns its count. */
static int trim_iovs(struct vhostio_io *io, uint64_t length)
{
	uint32_t n = 0;
	for (uint64_t left = length; n < io->cmd.iov_cnt && left; n++) {
		if (io->iov[n].iov_len > left) {
			io->trimmed_iov = (int32_t)n;
			io->trimmed_iov_len = io->iov[n].iov_len;
			io->iov[n].iov_len = (size_t)left;
		}
		left -= io->iov[n].iov_len;
	}
	return (int)n;
}

/* A short buffer's partial last block: the blocks were read into a bounce buffer. */
static void short_read_copy(struct vhostio_io *io)
{
	if (io->step_result < 0) {
		vhostio_io_complete(io, io->step_result);
		return;
	}
	scsi_complete_data_in(io, io->bounce, io->cmd.data_len, SIZE_MAX);
}

/*
 * A READ into a data-in buffer shorter than its transfer (the fabric's
 * expected length is the initiator's choice): like LIO's own backstores,
 * return the data that fits, GOOD.  (The overflow residual cannot travel
 * back through TCMU: READ_LEN only shortens.)
 */
static void read_short_buffer(struct scsi_lun *lun, struct vhostio_io *io, uint64_t offset)
{
	uint32_t bs = lun->block_size;
	size_t fit = io->cmd.data_len;
	if (fit == 0) {
		scsi_complete_good(io);
		return;
	}
	if (fit % bs == 0) {
		scsi_finish_handler_call(io, lun->handler->read(lun->dev, io, io->iov, (int)io->cmd.iov_cnt, fit,
								 offset));
		return;
	}
	/* Handlers move whole blocks: read them aside, copy what fits. */
	size_t blen = (fit / bs + 1) * bs;
	io->bounce = malloc(blen);
	if (!io->bounce) {
		vhostio_io_complete(io, -ENOMEM);
		return;
	}
	io->emul_iov.iov_base = io->bounce;
	io->emul_iov.iov_len = blen;
	io->next_step = short_read_copy;
	scsi_finish_handler_call(io, lun->handler->read(lun->dev, io, &io->emul_iov, 1, blen, offset));
}

static void read_write(struct scsi_lun *lun, struct vhostio_io *io, bool is_write)
{
	struct lba_args a = decode_lba(io->cmd.cdb);
	uint32_t bs = lun->block_size;

	io->is_write = is_write;
	if (!scsi_lba_range_ok(lun, a.lba, a.blocks)) {
		scsi_complete_lba_out_of_range(io);
		return;
	}
	if (a.blocks == 0) {
		/* No transfer: a buffer it came with anyway gets no stale bytes. */
		if (!is_write)
			io->data_in_len = 0;
		scsi_complete_good(io);
		return;
	}
	uint64_t length = (uint64_t)a.blocks * bs;
	if (io->cmd.data_len < length) {
		if (is_write) {
			scsi_buffer_covers(lun, io, length); /* fails it: data we were not given */
			return;
		}
		read_short_buffer(lun, io, a.lba * bs);
		return;
	}
	/* A larger buffer: the handler sees exactly the transfer, and a READ
	 * reports its length so no stale byte of the data area goes out. */
	int iovcnt = (int)io->cmd.iov_cnt;
	if (io->cmd.data_len > length) {
		iovcnt = trim_iovs(io, length);
		if (!is_write && length < UINT32_MAX)
			io->data_in_len = (uint32_t)length;
	}
	/* 6-byte CDBs have no FUA; for reads FUA needs nothing: a read sees every completed write. */
	if (is_write && io->cmd.cdb[0] != OP_WRITE_6)
		set_write_fua(lun, io, io->cmd.cdb[1] & 0x08);

	int ret;
	if (is_write)
		ret = lun->handler->write(lun->dev, io, io->iov, iovcnt, length, a.lba * bs);
	else
		ret = lun->handler->read(lun->dev, io, io->iov, iovcnt, length, a.lba * bs);
	scsi_finish_handler_call(io, ret);
}

void scsi_read(struct scsi_lun *lun, struct vhostio_io *io)
{
	read_write(lun, io, false);
}

void scsi_write(struct scsi_lun *lun, struct vhostio_io *io)
{
	read_write(lun, io, true);
}

/* ---- SYNCHRONIZE CACHE, PRE-FETCH ---- */

/* NUMBER OF LOGICAL BLOCKS 0 means "to the end of the medium". */
static bool cache_range_ok(const struct scsi_lun *lun, const struct lba_args *a)
{
	if (a->blocks == 0)
		return a->lba < scsi_lun_num_lbas(lun);
	return scsi_lba_range_ok(lun, a->lba, a->blocks);
}

void scsi_synchronize_cache(struct scsi_lun *lun, struct vhostio_io *io)
{
	struct lba_args a = decode_lba(io->cmd.cdb);
	if (!cache_range_ok(lun, &a)) {
		scsi_complete_lba_out_of_range(io);
		return;
	}
	io->is_write = true;
	/* Without FLUSH the handler has nothing volatile: done. */
	if (!offers(lun, VHOSTIO_CAP_FLUSH)) {
		scsi_complete_good(io);
		return;
	}
	scsi_finish_handler_call(io, lun->handler->flush(lun->dev, io));
}

/* Nothing to prefetch into: the range is checked and that is all. */
void scsi_pre_fetch(struct scsi_lun *lun, struct vhostio_io *io)
{
	struct lba_args a = decode_lba(io->cmd.cdb);
	if (!cache_range_ok(lun, &a)) {
		scsi_complete_lba_out_of_range(io);
		return;
	}
	scsi_complete_good(io);
}

/* ---- comparing with the data-out buffer ---- */

/*
 * Compare 'len' bytes of 'buf' with the data-out buffer from 'data_off'.
 * Returns true and the offset (relative to 'buf') of the first differing
 * byte when they differ.
 */
static bool data_out_differs(const struct vhostio_io *io, size_t data_off, const uint8_t *buf, size_t len,
			     size_t *first)
{
	size_t done = 0;
	for (uint32_t i = 0; i < io->cmd.iov_cnt && done < len; i++) {
		size_t n = io->iov[i].iov_len;
		if (data_off >= n) {
			data_off -= n;
			continue;
		}
		const uint8_t *p = (const uint8_t *)io->iov[i].iov_base + data_off;
		n -= data_off;
		data_off = 0;
		if (n > len - done)
			n = len - done;
		if (memcmp(p, buf + done, n) != 0) {
			size_t k = 0;
			while (p[k] == buf[done + k])
				k++;
			*first = done + k;
			return true;
		}
		done += n;
	}
	return false;
}

static bool buffers_differ(const uint8_t *a, const uint8_t *b, size_t len, size_t *first)
{
	if (memcmp(a, b, len) == 0)
		return false;
	size_t k = 0;
	while (a[k] == b[k])
		k++;
	*first = k;
	return true;
}

/* Chunk for loop emulations: a whole number of blocks, at most SCSI_EMUL_CHUNK. */
static size_t emul_chunk(uint32_t bs, uint64_t total)
{
	size_t chunk = SCSI_EMUL_CHUNK / bs * bs;
	if (chunk == 0)
		chunk = bs;
	return total < chunk ? (size_t)total : chunk;
}

/* ---- VERIFY loop: read the range in chunks, compare as asked ---- */

enum verify_mode {
	VERIFY_MEDIUM,     /* BYTCHK 0: read and discard */
	VERIFY_DATA_OUT,   /* BYTCHK 1: compare with the data-out buffer */
	VERIFY_ONE_BLOCK,  /* BYTCHK 3: compare every block with the one sent */
};

struct verify_state {
	enum verify_mode mode;
	uint64_t start;     /* device byte offset of the range */
	size_t chunk;
	uint8_t *buf;       /* what the medium holds */
	uint8_t *expect;    /* VERIFY_ONE_BLOCK: chunk filled with copies of the block */
};

static void verify_next(struct vhostio_io *io);

static void verify_check(struct vhostio_io *io)
{
	struct verify_state *st = io->bounce;
	if (io->step_result < 0) {
		vhostio_io_complete(io, io->step_result);
		return;
	}

	size_t n = io->emul_end - io->emul_pos < st->chunk ? (size_t)(io->emul_end - io->emul_pos) : st->chunk;
	uint64_t rel = io->emul_pos - st->start;
	size_t first;
	bool differs = false;
	if (st->mode == VERIFY_DATA_OUT)
		differs = data_out_differs(io, rel, st->buf, n, &first);
	else if (st->mode == VERIFY_ONE_BLOCK)
		differs = buffers_differ(st->buf, st->expect, n, &first);
	if (differs) {
		/* INFORMATION: offset of the first differing byte from the start of the data. */
		scsi_complete_miscompare(io, rel + first);
		return;
	}
	io->emul_pos += n;
	verify_next(io);
}

static void verify_next(struct vhostio_io *io)
{
	struct scsi_lun *lun = io->lun;
	struct verify_state *st = io->bounce;
	if (io->emul_pos == io->emul_end) {
		scsi_complete_good(io);
		return;
	}
	size_t n = io->emul_end - io->emul_pos < st->chunk ? (size_t)(io->emul_end - io->emul_pos) : st->chunk;
	io->emul_iov.iov_base = st->buf;
	io->emul_iov.iov_len = n;
	io->next_step = verify_check;
	scsi_finish_handler_call(io, lun->handler->read(lun->dev, io, &io->emul_iov, 1, n, io->emul_pos));
}

/* Start verifying [offset, offset + length) of the device. */
static void verify_start(struct vhostio_io *io, enum verify_mode mode, uint64_t offset, uint64_t length)
{
	struct scsi_lun *lun = io->lun;
	uint32_t bs = lun->block_size;
	size_t chunk = emul_chunk(bs, length);
	size_t need = sizeof(struct verify_state) + chunk * (mode == VERIFY_ONE_BLOCK ? 2 : 1);

	free(io->bounce);
	io->bounce = malloc(need);
	if (!io->bounce) {
		vhostio_io_complete(io, -ENOMEM);
		return;
	}
	struct verify_state *st = io->bounce;
	st->mode = mode;
	st->start = offset;
	st->chunk = chunk;
	st->buf = (uint8_t *)(st + 1);
	st->expect = NULL;
	if (mode == VERIFY_ONE_BLOCK) {
		/* Chunks start on block boundaries, so one prepared chunk serves them all. */
		st->expect = st->buf + chunk;
		scsi_data_out_copy(io, 0, st->expect, bs);
		for (size_t off = bs; off < chunk; off += bs)
			memcpy(st->expect + off, st->expect, bs);
	}
	io->is_write = false; /* a failure from here on is a read error */
	io->emul_pos = offset;
	io->emul_end = offset + length;
	verify_next(io);
}

void scsi_verify(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	struct lba_args a = decode_lba(cdb);
	uint32_t bs = lun->block_size;
	unsigned bytchk = (cdb[1] >> 1) & 0x03;

	if (bytchk == 2) {
		scsi_complete_invalid_cdb_field(io, 1, 2);
		return;
	}
	if (!scsi_lba_range_ok(lun, a.lba, a.blocks)) {
		scsi_complete_lba_out_of_range(io);
		return;
	}
	/* Bounded as Block Limits promises (MAXIMUM TRANSFER LENGTH): without a
	 * bound one VERIFY could read the whole LUN, unabortable, while reconfig
	 * and removal wait for it. */
	if (a.blocks > lun->max_sectors) {
		scsi_complete_invalid_cdb_field(io, cdb[0] == OP_VERIFY_16 ? 10 : 7, -1);
		return;
	}
	if (a.blocks == 0) {
		scsi_complete_good(io);
		return;
	}
	uint64_t length = (uint64_t)a.blocks * bs;
	enum verify_mode mode = VERIFY_MEDIUM;
	if (bytchk == 1) {
		if (!scsi_buffer_covers(lun, io, length))
			return;
		mode = VERIFY_DATA_OUT;
	} else if (bytchk == 3) {
		if (!scsi_buffer_covers(lun, io, bs))
			return;
		mode = VERIFY_ONE_BLOCK;
	}
	verify_start(io, mode, a.lba * bs, length);
}

/* ---- WRITE AND VERIFY ----
 *
 * Write, flush when the handler has a cache, then: BYTCHK 0 (verify the
 * medium) is satisfied by the flush; BYTCHK 1 reads the blocks back and
 * compares them with what was sent, so a handler that lost or mangled
 * the write gets a MISCOMPARE.
 */

static void write_verify_compare(struct vhostio_io *io)
{
	if (io->step_result < 0) {
		vhostio_io_complete(io, io->step_result);
		return;
	}
	if (!io->emul_iov.iov_len) { /* BYTCHK 0 */
		scsi_complete_good(io);
		return;
	}
	verify_start(io, VERIFY_DATA_OUT, io->emul_pos, io->emul_end - io->emul_pos);
}

static void write_verify_flush(struct vhostio_io *io)
{
	struct scsi_lun *lun = io->lun;
	if (io->step_result < 0) {
		vhostio_io_complete(io, io->step_result);
		return;
	}
	if (!offers(lun, VHOSTIO_CAP_FLUSH)) {
		io->step_result = 0;
		write_verify_compare(io);
		return;
	}
	io->next_step = write_verify_compare;
	scsi_finish_handler_call(io, lun->handler->flush(lun->dev, io));
}

void scsi_write_and_verify(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	struct lba_args a = decode_lba(cdb);
	uint32_t bs = lun->block_size;

	io->is_write = true;
	uint64_t length;
	if (!transfer_ok(lun, io, &a, &length))
		return;
	io->emul_pos = a.lba * bs;
	io->emul_end = io->emul_pos + length;
	/* emul_iov is free until the verify loop: it remembers BYTCHK. */
	io->emul_iov.iov_base = NULL;
	io->emul_iov.iov_len = (cdb[1] & 0x02) ? 1 : 0;
	io->next_step = write_verify_flush;
	scsi_finish_handler_call(io, lun->handler->write(lun->dev, io, io->iov, (int)io->cmd.iov_cnt, length,
							  io->emul_pos));
}

/* ---- WRITE SAME ---- */

struct write_same_state {
	struct vhostio_range range;  /* for unmap: must live until completion */
	size_t fill_len;             /* bytes of 'fill' holding copies of the block */
	uint8_t fill[];              /* the block, then (emulation) more copies */
};

static void write_same_emulate_next(struct vhostio_io *io);

static void write_same_emulate_step(struct vhostio_io *io)
{
	struct write_same_state *st = io->bounce;
	if (io->step_result < 0) {
		vhostio_io_complete(io, io->step_result);
		return;
	}
	uint64_t left = io->emul_end - io->emul_pos;
	io->emul_pos += left < st->fill_len ? left : st->fill_len;
	write_same_emulate_next(io);
}

static void write_same_emulate_next(struct vhostio_io *io)
{
	struct scsi_lun *lun = io->lun;
	struct write_same_state *st = io->bounce;
	if (io->emul_pos == io->emul_end) {
		scsi_complete_good(io);
		return;
	}
	uint64_t left = io->emul_end - io->emul_pos;
	size_t n = left < st->fill_len ? (size_t)left : st->fill_len;
	io->emul_iov.iov_base = st->fill;
	io->emul_iov.iov_len = n;
	io->next_step = write_same_emulate_step;
	scsi_finish_handler_call(io, lun->handler->write(lun->dev, io, &io->emul_iov, 1, n, io->emul_pos));
}

/* A loop of writes from a buffer of up to SCSI_EMUL_CHUNK bytes of copies. */
static void write_same_emulate(struct vhostio_io *io)
{
	uint32_t bs = io->lun->block_size;
	size_t fill_len = emul_chunk(bs, io->emul_end - io->emul_pos);
	struct write_same_state *st = realloc(io->bounce, sizeof(*st) + fill_len);
	if (!st) {
		vhostio_io_complete(io, -ENOMEM);
		return;
	}
	io->bounce = st;
	for (size_t off = bs; off < fill_len; off += bs)
		memcpy(st->fill + off, st->fill, bs);
	st->fill_len = fill_len;
	write_same_emulate_next(io);
}

static void write_same_after_native(struct vhostio_io *io)
{
	/* The handler may decline this particular request: emulate it then. */
	if (io->step_result == -EOPNOTSUPP) {
		write_same_emulate(io);
		return;
	}
	vhostio_io_complete(io, io->step_result);
}

void scsi_write_same(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	struct lba_args a = decode_lba(cdb);
	uint32_t bs = lun->block_size;
	bool unmap = cdb[1] & 0x08;
	bool ndob = cdb[0] == OP_WRITE_SAME_16 && (cdb[1] & 0x01);

	io->is_write = true;
	/* WSNZ is advertised: 0 blocks ("to the end") is refused, as is more than the limit. */
	if (a.blocks == 0 || a.blocks > scsi_max_write_same_blocks(lun)) {
		scsi_complete_invalid_cdb_field(io, a.blocks_byte, -1);
		return;
	}
	if (!scsi_lba_range_ok(lun, a.lba, a.blocks)) {
		scsi_complete_lba_out_of_range(io);
		return;
	}
	if (!ndob && !scsi_buffer_covers(lun, io, bs))
		return;

	struct write_same_state *st = calloc(1, sizeof(*st) + bs);
	if (!st) {
		vhostio_io_complete(io, -ENOMEM);
		return;
	}
	io->bounce = st;
	st->fill_len = bs;
	if (!ndob) /* NDOB: no data-out, the block is zeroes */
		scsi_data_out_copy(io, 0, st->fill, bs);
	io->emul_pos = a.lba * bs;
	io->emul_end = io->emul_pos + (uint64_t)a.blocks * bs;

	/* UNMAP may deallocate only when that reads back as this block (LBPRZ: zeroes). */
	if (unmap && offers(lun, VHOSTIO_CAP_UNMAP) && is_zero(st->fill, bs)) {
		st->range.offset = io->emul_pos;
		st->range.length = io->emul_end - io->emul_pos;
		scsi_finish_handler_call(io, lun->handler->unmap(lun->dev, io, &st->range, 1));
		return;
	}
	if (lun->native_caps & VHOSTIO_CAP_WRITE_SAME) {
		io->next_step = write_same_after_native;
		scsi_finish_handler_call(io, lun->handler->write_same(lun->dev, io, st->fill,
								      io->emul_end - io->emul_pos, io->emul_pos));
		return;
	}
	write_same_emulate(io);
}

/* ---- UNMAP ---- */

#define UNMAP_HEADER_LEN 8
#define UNMAP_DESCRIPTOR_LEN 16

void scsi_unmap(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	size_t param_len = get_be16(&cdb[7]);
	uint32_t bs = lun->block_size;
	uint8_t hdr[UNMAP_HEADER_LEN];

	io->is_write = true;
	if (param_len == 0) {
		scsi_complete_good(io);
		return;
	}
	if (param_len < UNMAP_HEADER_LEN) {
		scsi_complete_param_list_length_error(io);
		return;
	}
	if (!scsi_buffer_covers(lun, io, param_len))
		return;
	scsi_data_out_copy(io, 0, hdr, sizeof(hdr));
	size_t data_len = get_be16(&hdr[0]);
	size_t desc_len = get_be16(&hdr[2]);
	/* Lengths that claim more than was sent. */
	if (data_len > param_len - 2 || desc_len > param_len - UNMAP_HEADER_LEN) {
		scsi_complete_param_list_length_error(io);
		return;
	}
	size_t count = desc_len / UNMAP_DESCRIPTOR_LEN;
	if (count > SCSI_MAX_UNMAP_DESCRIPTORS) {
		scsi_complete_invalid_param_field(io, 2, -1);
		return;
	}
	if (count == 0) {
		scsi_complete_good(io);
		return;
	}

	struct vhostio_range *ranges = malloc(count * sizeof(*ranges));
	if (!ranges) {
		vhostio_io_complete(io, -ENOMEM);
		return;
	}
	io->bounce = ranges;
	unsigned n = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < count; i++) {
		size_t off = UNMAP_HEADER_LEN + i * UNMAP_DESCRIPTOR_LEN;
		uint8_t d[UNMAP_DESCRIPTOR_LEN];
		scsi_data_out_copy(io, off, d, sizeof(d));
		uint64_t lba = get_be64(&d[0]);
		uint32_t blocks = get_be32(&d[8]);
		if (!scsi_lba_range_ok(lun, lba, blocks)) {
			scsi_complete_lba_out_of_range(io);
			return;
		}
		total += blocks;
		if (total > scsi_max_unmap_blocks(lun)) {
			scsi_complete_invalid_param_field(io, (uint16_t)(off + 8), -1);
			return;
		}
		if (blocks == 0)
			continue;
		ranges[n].offset = lba * bs;
		ranges[n].length = (uint64_t)blocks * bs;
		n++;
	}
	if (n == 0) {
		scsi_complete_good(io);
		return;
	}
	scsi_finish_handler_call(io, lun->handler->unmap(lun->dev, io, ranges, n));
}

/* ---- COMPARE AND WRITE ----
 *
 * Data-out holds N blocks to compare, then N blocks to write.  Holding the
 * device's CAW lock makes read-compare-write atomic against other COMPARE
 * AND WRITEs; the lock goes with the completion.
 */

static void caw_compare(struct vhostio_io *io)
{
	struct scsi_lun *lun = io->lun;
	if (io->step_result < 0) {
		vhostio_io_complete(io, io->step_result);
		return;
	}

	size_t len = (size_t)(io->emul_end - io->emul_pos);
	size_t first;
	if (data_out_differs(io, 0, io->bounce, len, &first)) {
		scsi_complete_miscompare(io, first);
		return;
	}

	/* The write half: the data-out iovs from byte 'len' on, kept after the read buffer. */
	struct iovec *iov = (struct iovec *)((uint8_t *)io->bounce + io->bounce_len);
	int cnt = 0;
	size_t skip = len, left = len;
	for (uint32_t i = 0; i < io->cmd.iov_cnt && left; i++) {
		size_t n = io->iov[i].iov_len;
		if (skip >= n) {
			skip -= n;
			continue;
		}
		n -= skip;
		if (n > left)
			n = left;
		iov[cnt].iov_base = (uint8_t *)io->iov[i].iov_base + skip;
		iov[cnt].iov_len = n;
		cnt++;
		left -= n;
		skip = 0;
	}
	io->is_write = true;
	set_write_fua(lun, io, io->cmd.cdb[1] & 0x08);
	scsi_finish_handler_call(io, lun->handler->write(lun->dev, io, iov, cnt, len, io->emul_pos));
}

void scsi_compare_and_write(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	uint64_t lba = get_be64(&cdb[2]);
	uint32_t blocks = cdb[13];
	uint32_t bs = lun->block_size;

	if (blocks > scsi_max_caw_blocks(lun)) {
		scsi_complete_invalid_cdb_field(io, 13, -1);
		return;
	}
	if (!scsi_lba_range_ok(lun, lba, blocks)) {
		scsi_complete_lba_out_of_range(io);
		return;
	}
	if (blocks == 0) { /* SBC-3: not an error, nothing to do */
		scsi_complete_good(io);
		return;
	}
	size_t len = (size_t)blocks * bs;
	if (!scsi_buffer_covers(lun, io, 2 * (uint64_t)len))
		return;
	/* Queued behind another COMPARE AND WRITE: re-run from the top when it is done. */
	if (!scsi_caw_lock(io))
		return;

	/* Read buffer, then room for the write half's iovs (aligned for struct iovec). */
	size_t buf_len = (len + 15) & ~(size_t)15;
	io->bounce = malloc(buf_len + (io->cmd.iov_cnt + 1) * sizeof(struct iovec));
	if (!io->bounce) {
		vhostio_io_complete(io, -ENOMEM);
		return;
	}
	io->bounce_len = buf_len;
	io->emul_pos = lba * bs;
	io->emul_end = io->emul_pos + len;
	io->emul_iov.iov_base = io->bounce;
	io->emul_iov.iov_len = len;
	io->next_step = caw_compare;
	scsi_finish_handler_call(io, lun->handler->read(lun->dev, io, &io->emul_iov, 1, len, io->emul_pos));
}
