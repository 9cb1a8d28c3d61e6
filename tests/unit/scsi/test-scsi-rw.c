/* READ/WRITE 6/10/12/16: data round-trips, unwritten blocks read as zero,
 * range checks give LBA OUT OF RANGE, protection bits are refused. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define LBAS 2048
#define BS 512

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, LBAS, BS, false);
	uint8_t cdb[16];
	uint8_t *buf = malloc(64 * 1024);

	/* WRITE 10 of 40 blocks spanning several 4 KiB iovs, then READ 16 back. */
	fill_pattern(buf, 40 * BS, 7);
	cdb_rw10(cdb, OP_WRITE_10, 100, 40);
	uint16_t id = fx_run(f, cdb, 40 * BS, buf);
	CHECK_GOOD(f, id);
	CHECK(memcmp(f->disk.mem + 100 * BS, buf, 40 * BS) == 0, "write did not reach the disk");
	cdb_rw16(cdb, OP_READ_16, 100, 40);
	id = fx_run(f, cdb, 40 * BS, NULL);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), 40 * BS, 7), "READ 16 data differs");
	CHECK(!(fx_result(f, id)->uflags & 0x2), "full read must not set READ_LEN");

	/* Never-written blocks read as zero (the sim poisons buffers with 0xee). */
	cdb_rw10(cdb, OP_READ_10, 1000, 8);
	id = fx_run(f, cdb, 8 * BS, NULL);
	CHECK_GOOD(f, id);
	uint8_t zero[8 * BS] = { 0 };
	CHECK(memcmp(ringsim_data(&f->sim, id), zero, sizeof(zero)) == 0, "unwritten blocks not zero");

	/* WRITE 12 / READ 12 at the last block. */
	fill_pattern(buf, BS, 9);
	memset(cdb, 0, 12);
	cdb[0] = OP_WRITE_12;
	cdb[2] = (LBAS - 1) >> 24; cdb[3] = (LBAS - 1) >> 16; cdb[4] = (LBAS - 1) >> 8; cdb[5] = (LBAS - 1) & 0xff;
	cdb[9] = 1;
	id = fx_run(f, cdb, BS, buf);
	CHECK_GOOD(f, id);
	cdb[0] = OP_READ_12;
	id = fx_run(f, cdb, BS, NULL);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), BS, 9), "READ 12 data differs");

	/* READ 6: transfer length 0 means 256 blocks. */
	uint8_t r6[6] = { OP_READ_6, 0, 0, 0, 0, 0 };
	id = fx_run(f, r6, 256 * BS, NULL);
	CHECK_GOOD(f, id);

	/* Out of range: one block past the end, and an LBA that would wrap 64 bits. */
	cdb_rw10(cdb, OP_READ_10, LBAS - 1, 2);
	id = fx_run(f, cdb, 2 * BS, NULL);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	cdb_rw16(cdb, OP_WRITE_16, UINT64_MAX - 1, 4);
	id = fx_run(f, cdb, 4 * BS, buf);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	cdb_rw10(cdb, OP_READ_10, LBAS, 0);
	id = fx_run(f, cdb, 0, NULL);
	CHECK_GOOD(f, id); /* zero blocks at the end is legal */
	cdb_rw10(cdb, OP_READ_10, LBAS + 1, 0);
	id = fx_run(f, cdb, 0, NULL);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);

	/* RDPROTECT set: no protection information here. */
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	cdb[1] = 0x20;
	id = fx_run(f, cdb, BS, NULL);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK(fx_result(f, id)->sense[15] == (0x80 | 0x40 | 0x08 | 7) && fx_result(f, id)->sense[17] == 1,
	      "field pointer should name CDB byte 1 bit 7");

	/* A buffer shorter than the CDB asks for is a bad ring entry, not a crash. */
	cdb_rw10(cdb, OP_WRITE_10, 0, 8);
	id = fx_run(f, cdb, 4 * BS, buf);
	CHECK_SENSE(f, id, SENSE_INTERNAL_TARGET_FAILURE);

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	free(buf);
	fx_free(f);
	return test_exit();
}
