/* COMPARE AND WRITE: match writes the second half, a miscompare reports
 * the offset of the first differing byte and writes nothing, limits and
 * ranges, FUA, and concurrent commands queue on the device's CAW lock
 * without eating a unit attention meant for someone else. */
#include <errno.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define LBAS 1024
#define BS 512

static uint16_t caw(struct fixture *f, uint8_t byte1, uint64_t lba, uint8_t blocks, const uint8_t *data)
{
	uint8_t cdb[16] = { OP_COMPARE_AND_WRITE, byte1 };
	for (int k = 0; k < 8; k++)
		cdb[2 + k] = (uint8_t)(lba >> (56 - 8 * k));
	cdb[13] = blocks;
	return fx_run(f, cdb, 2u * blocks * BS, data);
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, LBAS, BS, true);
	uint8_t a[4 * BS], b[4 * BS], data[16 * BS] = { 0 };
	uint16_t id;
	fill_pattern(a, sizeof(a), 51);
	fill_pattern(b, sizeof(b), 52);
	memcpy(f->disk.mem + 5 * BS, a, 2 * BS);

	/* Match: the write half lands. */
	memcpy(data, a, 2 * BS);
	memcpy(data + 2 * BS, b, 2 * BS);
	id = caw(f, 0, 5, 2, data);
	CHECK_GOOD(f, id);
	CHECK(memcmp(f->disk.mem + 5 * BS, b, 2 * BS) == 0, "CAW did not write");

	/* Miscompare in the second block: INFORMATION = 512 + 7, nothing written. */
	memcpy(data, b, 2 * BS);
	data[BS + 7] ^= 0xff;
	memcpy(data + 2 * BS, a, 2 * BS);
	id = caw(f, 0, 5, 2, data);
	CHECK_SENSE(f, id, 0x0e1d00);
	const struct sim_result *r = fx_result(f, id);
	CHECK(r && (r->sense[0] & 0x80) && r->sense[3] == 0 && r->sense[4] == 0 && r->sense[5] == 0x02 &&
	      r->sense[6] == 0x07, "INFORMATION must be 519 with VALID");
	CHECK(memcmp(f->disk.mem + 5 * BS, b, 2 * BS) == 0, "a miscompare wrote");
	/* First byte differs: offset 0 (VALID still set). */
	memcpy(data, b, 2 * BS);
	data[0] ^= 1;
	id = caw(f, 0, 5, 1, data);
	CHECK_SENSE(f, id, 0x0e1d00);
	r = fx_result(f, id);
	CHECK(r && (r->sense[0] & 0x80) && r->sense[6] == 0, "offset 0");

	/* FUA behind the write cache: write, then flush. */
	memcpy(data, b, BS);
	memcpy(data + BS, a, BS);
	unsigned flushes = f->disk.flushes;
	id = caw(f, 0x08, 5, 1, data);
	CHECK_GOOD(f, id);
	CHECK(f->disk.flushes == flushes + 1, "FUA CAW did not flush");

	/* Zero blocks: nothing to do; more than the advertised maximum; range. */
	id = caw(f, 0, 5, 0, NULL);
	CHECK_GOOD(f, id);
	f->dev->lun.max_sectors = 8; /* maximum COMPARE AND WRITE length 4 */
	id = caw(f, 0, 0, 5, data);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 13, -1);
	id = caw(f, 0, LBAS - 1, 2, data);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	id = caw(f, 0, UINT64_MAX, 1, data);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	id = caw(f, 0x20, 5, 1, data); /* WRPROTECT */
	CHECK_FIELD(f, id, true, 1, 7);

	/* A read error ends the command as one. */
	f->disk.fail_read = -EIO;
	id = caw(f, 0, 5, 1, data);
	CHECK_SENSE(f, id, 0x031100);
	f->disk.fail_read = 0;

	/* Two at once: the second waits for the first's read and write. */
	memcpy(f->disk.mem + 100 * BS, a, BS);
	uint8_t d1[2 * BS], d2[2 * BS];
	memcpy(d1, a, BS);
	memcpy(d1 + BS, b, BS);      /* a -> b */
	memcpy(d2, b, BS);
	memcpy(d2 + BS, a, BS);      /* b -> a: only works after the first */
	f->disk.async = true;
	unsigned p = f->disk.n_pending;
	uint16_t id1 = caw(f, 0, 100, 1, d1);
	uint16_t id2 = caw(f, 0, 100, 1, d2);
	CHECK(f->disk.n_pending == p + 1 && !f->disk.pending[p].is_write, "only the first CAW reads");
	/* A UA raised meanwhile belongs to the next new command, not to the re-run. */
	scsi_lun_set_unit_attention(&f->dev->lun, 0x2a09);
	fx_finish(f, p, 0);                       /* first: read done, compare, write */
	CHECK(f->disk.n_pending == p + 2 && f->disk.pending[p + 1].is_write, "first CAW writes");
	CHECK(!fx_result(f, id1) && !fx_result(f, id2), "both still running");
	fx_finish(f, p + 1, 0);                   /* first done; lock to the second */
	CHECK_GOOD(f, id1);
	CHECK(f->disk.n_pending == p + 3 && !f->disk.pending[p + 2].is_write, "second CAW reads after the first");
	fx_finish(f, p + 2, 0);
	CHECK(f->disk.n_pending == p + 4 && f->disk.pending[p + 3].is_write, "second CAW writes");
	fx_finish(f, p + 3, 0);
	CHECK_GOOD(f, id2);
	CHECK(memcmp(f->disk.mem + 100 * BS, a, BS) == 0, "second CAW did not see the first's write");
	f->disk.async = false;
	uint8_t tur[6] = { OP_TEST_UNIT_READY };
	id = fx_run(f, tur, 0, NULL);
	CHECK_SENSE(f, id, 0x062a09);

	/* The lock is free again. */
	memcpy(data, a, BS);
	memcpy(data + BS, b, BS);
	id = caw(f, 0, 100, 1, data);
	CHECK_GOOD(f, id);

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
