/* VERIFY 10/16 (BYTCHK 0: read the medium; 1: compare with data-out;
 * 3: compare every block with the one sent) and WRITE AND VERIFY 10/16
 * (write, flush, and with BYTCHK read back and compare). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define LBAS 8192
#define BS 512

static uint16_t verify(struct fixture *f, bool sixteen, uint8_t bytchk, uint64_t lba, uint32_t blocks,
		       const uint8_t *data, size_t len)
{
	uint8_t cdb[16];
	if (sixteen)
		cdb_rw16(cdb, OP_VERIFY_16, lba, blocks);
	else
		cdb_rw10(cdb, OP_VERIFY_10, (uint32_t)lba, (uint16_t)blocks);
	cdb[1] = (uint8_t)(bytchk << 1);
	return fx_run(f, cdb, len, data);
}

static uint32_t info_of(struct fixture *f, uint16_t id)
{
	struct sense_info si;
	const struct sim_result *r = fx_result(f, id);
	if (!r || !sense_parse(r->sense, sizeof(r->sense), &si) || !si.info_valid)
		return 0xffffffffu;
	return (uint32_t)si.info;
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, LBAS, BS, false);
	uint8_t *buf = malloc(100 * BS);
	uint8_t block[BS];
	uint16_t id;

	fill_pattern(buf, 100 * BS, 61);
	memcpy(f->disk.mem, buf, 100 * BS);

	/* The length is bounded by MAXIMUM TRANSFER LENGTH (Block Limits). */
	f->dev->lun.max_sectors = 1024;
	id = verify(f, false, 0, 0, 1025, NULL, 0);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 7, -1);
	id = verify(f, true, 0, 0, LBAS, NULL, 0);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 10, -1);
	id = verify(f, true, 0, LBAS - 1024, 1024, NULL, 0);
	CHECK_GOOD(f, id);
	/* The rest of this test reads the whole LUN in one VERIFY (several chunks). */
	f->dev->lun.max_sectors = LBAS;

	/* BYTCHK 0: a read of the whole range, multi-chunk; read errors show. */
	id = verify(f, true, 0, 0, LBAS, NULL, 0);
	CHECK_GOOD(f, id);
	f->disk.fail_read = -EIO;
	id = verify(f, false, 0, 0, 1, NULL, 0);
	CHECK_SENSE(f, id, 0x031100);
	f->disk.fail_read = 0;

	/* BYTCHK 1: equal, then one byte off at 1000. */
	id = verify(f, false, 1, 0, 100, buf, 100 * BS);
	CHECK_GOOD(f, id);
	buf[1000] ^= 0x40;
	id = verify(f, false, 1, 0, 100, buf, 100 * BS);
	CHECK_SENSE(f, id, 0x0e1d00);
	CHECK(info_of(f, id) == 1000, "INFORMATION %u, want 1000", info_of(f, id));
	buf[1000] ^= 0x40;
	/* From LBA 10: offsets count from the start of the data-out buffer. */
	f->disk.mem[12 * BS + 5] ^= 1;
	id = verify(f, true, 1, 10, 10, buf + 10 * BS, 10 * BS);
	CHECK_SENSE(f, id, 0x0e1d00);
	CHECK(info_of(f, id) == 2 * BS + 5, "INFORMATION %u, want %u", info_of(f, id), 2 * BS + 5);
	f->disk.mem[12 * BS + 5] ^= 1;

	/* BYTCHK 3: every block equal to the one sent; 3000 blocks span chunks. */
	fill_pattern(block, BS, 62);
	for (unsigned i = 0; i < 3000; i++)
		memcpy(f->disk.mem + (size_t)(1000 + i) * BS, block, BS);
	id = verify(f, true, 3, 1000, 3000, block, BS);
	CHECK_GOOD(f, id);
	f->disk.mem[(size_t)(1000 + 2500) * BS + 3] ^= 0x80;
	id = verify(f, true, 3, 1000, 3000, block, BS);
	CHECK_SENSE(f, id, 0x0e1d00);
	CHECK(info_of(f, id) == 2500 * BS + 3, "BYTCHK 3 INFORMATION %u", info_of(f, id));

	/* Fields and ranges. */
	id = verify(f, false, 2, 0, 1, NULL, 0);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 1, 2);
	id = verify(f, false, 0, 0, 0, NULL, 0);
	CHECK_GOOD(f, id);
	id = verify(f, false, 0, LBAS - 1, 2, NULL, 0);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	id = verify(f, true, 0, UINT64_MAX - 1, 0xffffffff, NULL, 0);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	uint8_t cdb[16];
	cdb_rw10(cdb, OP_VERIFY_10, 0, 1);
	cdb[1] = 0x20; /* VRPROTECT */
	id = fx_run(f, cdb, 0, NULL);
	CHECK_FIELD(f, id, true, 1, 7);

	/* WRITE AND VERIFY 10, BYTCHK 0: write and flush. */
	fill_pattern(buf, 100 * BS, 63);
	unsigned flushes = f->disk.flushes;
	cdb_rw10(cdb, OP_WRITE_AND_VERIFY_10, 200, 10);
	id = fx_run(f, cdb, 10 * BS, buf);
	CHECK_GOOD(f, id);
	CHECK(memcmp(f->disk.mem + 200 * BS, buf, 10 * BS) == 0 && f->disk.flushes == flushes + 1,
	      "WRITE AND VERIFY: write + flush");
	/* WRITE AND VERIFY 16, BYTCHK 1: read back and compare. */
	cdb_rw16(cdb, OP_WRITE_AND_VERIFY_16, 300, 20);
	cdb[1] = 0x02;
	id = fx_run(f, cdb, 20 * BS, buf);
	CHECK_GOOD(f, id);
	CHECK(memcmp(f->disk.mem + 300 * BS, buf, 20 * BS) == 0, "WRITE AND VERIFY 16 content");
	/* A medium that loses the write between flush and read-back: MISCOMPARE. */
	f->disk.async = true;
	unsigned p = f->disk.n_pending;
	id = fx_run(f, cdb, 20 * BS, buf);
	fx_finish(f, p, 0);                         /* the write */
	CHECK(f->disk.n_pending == p + 2 && f->disk.pending[p + 1].is_flush, "flush after the write");
	f->disk.mem[300 * BS + 777] ^= 0x10;
	fx_finish(f, p + 1, 0);                     /* the flush */
	CHECK(f->disk.n_pending == p + 3 && !f->disk.pending[p + 2].is_write, "read back after the flush");
	fx_finish(f, p + 2, 0);                     /* the read */
	CHECK_SENSE(f, id, 0x0e1d00);
	CHECK(info_of(f, id) == 777, "WRITE AND VERIFY INFORMATION %u", info_of(f, id));
	f->disk.async = false;
	/* A failed write is a write error; range; WRPROTECT. */
	f->disk.fail_write = -EIO;
	id = fx_run(f, cdb, 20 * BS, buf);
	CHECK_SENSE(f, id, 0x030c00);
	f->disk.fail_write = 0;
	cdb_rw16(cdb, OP_WRITE_AND_VERIFY_16, LBAS, 1);
	id = fx_run(f, cdb, BS, buf);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	cdb_rw10(cdb, OP_WRITE_AND_VERIFY_10, 0, 1);
	cdb[1] = 0x04; /* BYTCHK is one bit in SBC-3's WRITE AND VERIFY */
	id = fx_run(f, cdb, BS, buf);
	CHECK_FIELD(f, id, true, 1, 2);

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	free(buf);
	fx_free(f);
	return test_exit();
}
