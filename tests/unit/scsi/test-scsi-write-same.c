/* WRITE SAME 10/16: emulated from writes (sync and async, across several
 * bounce-buffer chunks), native write_same with the -EOPNOTSUPP fallback,
 * NDOB, the UNMAP bit, and the refused fields and lengths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define LBAS 8192
#define BS 512

static bool blocks_are(struct fixture *f, uint64_t lba, uint64_t n, const uint8_t *block)
{
	for (uint64_t i = 0; i < n; i++)
		if (memcmp(f->disk.mem + (lba + i) * BS, block, BS) != 0)
			return false;
	return true;
}

static bool blocks_zero(struct fixture *f, uint64_t lba, uint64_t n)
{
	static const uint8_t zero[BS];
	return blocks_are(f, lba, n, zero);
}

static uint16_t ws16(struct fixture *f, uint8_t byte1, uint64_t lba, uint32_t blocks, const uint8_t *block)
{
	uint8_t cdb[16];
	cdb_rw16(cdb, OP_WRITE_SAME_16, lba, blocks);
	cdb[1] = byte1;
	return fx_run(f, cdb, (byte1 & 0x01) ? 0 : BS, (byte1 & 0x01) ? NULL : block);
}

int main(void)
{
	uint8_t block[BS], other[BS], cdb[16];
	uint16_t id;
	fill_pattern(block, BS, 41);
	fill_pattern(other, BS, 42);

	/* ---- emulated (memdisk has no write_same) ---- */
	struct fixture *f = fx_new(64 * 1024, LBAS, BS, false);
	cdb_rw10(cdb, OP_WRITE_SAME_10, 10, 100);
	id = fx_run(f, cdb, BS, block);
	CHECK_GOOD(f, id);
	CHECK(blocks_are(f, 10, 100, block), "WRITE SAME 10 content");
	CHECK(blocks_zero(f, 9, 1) && blocks_zero(f, 110, 1), "WRITE SAME 10 wrote outside its range");

	/* 5000 blocks = 2.4 MiB: three chunks of the 1 MiB bounce buffer. */
	id = ws16(f, 0, 1000, 5000, other);
	CHECK_GOOD(f, id);
	CHECK(blocks_are(f, 1000, 5000, other), "multi-chunk WRITE SAME content");
	CHECK(blocks_zero(f, 6000, 1), "past the range");

	/* Asynchronous writes: each chunk waits for the previous one. */
	f->disk.async = true;
	unsigned first = f->disk.n_pending;
	id = ws16(f, 0, 0, 4096, block);
	CHECK(!fx_result(f, id) && f->disk.n_pending == first + 1, "first chunk held");
	fx_finish(f, first, 0);
	CHECK(!fx_result(f, id) && f->disk.n_pending == first + 2, "second chunk after the first");
	CHECK(f->disk.pending[first + 1].offset == 2048 * BS && f->disk.pending[first + 1].length == 2048 * BS,
	      "second chunk at %llu", (unsigned long long)f->disk.pending[first + 1].offset);
	fx_finish(f, first + 1, 0);
	CHECK_GOOD(f, id);
	CHECK(blocks_are(f, 0, 4096, block), "async WRITE SAME content");
	/* A failing chunk fails the command. */
	first = f->disk.n_pending;
	id = ws16(f, 0, 0, 4096, other);
	fx_finish(f, first, -EIO);
	CHECK_SENSE(f, id, 0x030c00);
	CHECK(f->disk.n_pending == first + 1, "no chunk after a failure");
	f->disk.async = false;

	/* NDOB: zeroes, no data-out buffer. */
	id = ws16(f, 0x01, 20, 10, NULL);
	CHECK_GOOD(f, id);
	CHECK(blocks_zero(f, 20, 10) && blocks_are(f, 30, 1, block), "NDOB writes zeroes");
	/* UNMAP bit without UNMAP capability: written as asked. */
	id = ws16(f, 0x08, 40, 2, other);
	CHECK_GOOD(f, id);
	CHECK(blocks_are(f, 40, 2, other), "UNMAP bit, no unmap: written");

	/* Refused: 0 blocks (WSNZ), more than MAXIMUM WRITE SAME LENGTH, range, bits. */
	id = ws16(f, 0, 0, 0, block);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 10, -1);
	cdb_rw10(cdb, OP_WRITE_SAME_10, 0, 0);
	id = fx_run(f, cdb, BS, block);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 7, -1);
	id = ws16(f, 0, 0, (1u << 30) / BS + 1, block);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 10, -1);
	id = ws16(f, 0, LBAS - 1, 2, block);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	id = ws16(f, 0, UINT64_MAX, 1, block);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	id = ws16(f, 0, UINT64_MAX - 2, 8, block);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	id = ws16(f, 0x02, 0, 1, block); /* LBDATA */
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 1, 1);
	id = ws16(f, 0x04, 0, 1, block); /* PBDATA */
	CHECK_FIELD(f, id, true, 1, 2);
	id = ws16(f, 0x10, 0, 1, block); /* ANCHOR */
	CHECK_FIELD(f, id, true, 1, 4);
	id = ws16(f, 0x20, 0, 1, block); /* WRPROTECT */
	CHECK_FIELD(f, id, true, 1, 7);
	cdb_rw10(cdb, OP_WRITE_SAME_10, 0, 1);
	cdb[1] = 0x01; /* NDOB does not exist in WRITE SAME 10 */
	id = fx_run(f, cdb, BS, block);
	CHECK_FIELD(f, id, true, 1, 0);
	CHECK(blocks_are(f, 0, 1, block), "a refused WRITE SAME wrote");
	fx_free(f);

	/* ---- native write_same, and its -EOPNOTSUPP fallback ---- */
	f = fx_new_with(&memdisk_ws_handler, 64 * 1024, LBAS, BS, false);
	id = ws16(f, 0, 100, 50, block);
	CHECK_GOOD(f, id);
	CHECK(f->disk.write_same_calls == 1 && blocks_are(f, 100, 50, block), "native write_same");
	f->disk.write_same_result = -EOPNOTSUPP;
	id = ws16(f, 0, 200, 3000, other);
	CHECK_GOOD(f, id);
	CHECK(f->disk.write_same_calls == 2 && blocks_are(f, 200, 3000, other), "fallback after -EOPNOTSUPP");
	f->disk.write_same_result = -EIO;
	id = ws16(f, 0, 200, 1, block);
	CHECK_SENSE(f, id, 0x030c00);
	fx_free(f);

	/* ---- UNMAP bit with an unmapping handler ---- */
	f = fx_new_with(&memdisk_unmap_handler, 64 * 1024, LBAS, BS, false);
	id = ws16(f, 0, 0, 64, block);
	CHECK_GOOD(f, id);
	static const uint8_t zero[BS];
	id = ws16(f, 0x08, 8, 16, zero);
	CHECK_GOOD(f, id);
	CHECK(f->disk.unmap_calls == 1 && blocks_zero(f, 8, 16) && blocks_are(f, 24, 1, block), "unmapped");
	id = ws16(f, 0x09, 30, 4, NULL); /* UNMAP + NDOB */
	CHECK_GOOD(f, id);
	CHECK(f->disk.unmap_calls == 2 && blocks_zero(f, 30, 4), "NDOB + UNMAP unmaps");
	id = ws16(f, 0x08, 40, 4, other); /* not zeroes: must be written, not unmapped */
	CHECK_GOOD(f, id);
	CHECK(f->disk.unmap_calls == 2 && blocks_are(f, 40, 4, other), "nonzero block with UNMAP was unmapped");
	cdb_rw10(cdb, OP_WRITE_SAME_10, 50, 4);
	cdb[1] = 0x08;
	id = fx_run(f, cdb, BS, zero);
	CHECK_GOOD(f, id);
	CHECK(f->disk.unmap_calls == 3 && blocks_zero(f, 50, 4), "WRITE SAME 10 with UNMAP");
	fx_free(f);

	/* ---- WRITE SAME switched off: the opcodes are unknown ---- */
	struct vhostio_handler h = memdisk_handler;
	h.no_caps = VHOSTIO_CAP_WRITE_SAME;
	f = fx_new_with(&h, 64 * 1024, LBAS, BS, false);
	id = ws16(f, 0, 0, 1, block);
	CHECK_SENSE(f, id, SENSE_INVALID_OPCODE);
	cdb_rw10(cdb, OP_WRITE_SAME_10, 0, 1);
	id = fx_run(f, cdb, BS, block);
	CHECK_SENSE(f, id, SENSE_INVALID_OPCODE);
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
