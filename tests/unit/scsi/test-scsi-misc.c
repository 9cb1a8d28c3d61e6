/* TEST UNIT READY, READ CAPACITY 10/16, MODE SENSE 6/10, SYNCHRONIZE
 * CACHE, REQUEST SENSE and the answer to an unknown opcode. */
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 8192, 4096, true);
	uint16_t id;

	uint8_t tur[6] = { OP_TEST_UNIT_READY };
	id = fx_run(f, tur, 0, NULL);
	CHECK_GOOD(f, id);

	uint8_t rc10[10] = { OP_READ_CAPACITY_10 };
	id = fx_run(f, rc10, 8, NULL);
	CHECK_GOOD(f, id);
	const uint8_t *d = ringsim_data(&f->sim, id);
	CHECK(be32(d) == 8191 && be32(d + 4) == 4096, "READ CAPACITY 10: %u %u", be32(d), be32(d + 4));

	uint8_t rc16[16] = { OP_SERVICE_ACTION_IN_16, SAI_READ_CAPACITY_16 };
	rc16[13] = 32;
	id = fx_run(f, rc16, 32, NULL);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(be32(d) == 0 && be32(d + 4) == 8191 && be32(d + 8) == 4096, "READ CAPACITY 16");
	rc16[1] = 0x11; /* READ LONG 16, a SERVICE ACTION IN(16) action deliberately unsupported */
	id = fx_run(f, rc16, 32, NULL);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);

	/* MODE SENSE 6, caching page, current values: WCE follows write_cache. */
	uint8_t ms6[6] = { OP_MODE_SENSE_6, 0x00, 0x08, 0, 255, 0 };
	id = fx_run(f, ms6, 255, NULL);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(d[0] == 3 + 8 + 20 && d[3] == 8, "mode data length %u, bd length %u", d[0], d[3]);
	CHECK(be32(d + 4) == 8192 && (be32(d + 8) & 0xffffff) == 4096, "block descriptor");
	CHECK(d[12] == 0x08 && d[13] == 18 && (d[14] & 0x04), "caching page with WCE");
	/* Changeable values: WCE is (MODE SELECT can switch the cache), nothing else in page 8. */
	ms6[2] = 0x48;
	id = fx_run(f, ms6, 255, NULL);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(d[14] == 0x04, "WCE must read as changeable, byte 2 is 0x%02x", d[14]);
	for (int i = 15; i < 32; i++)
		CHECK(d[i] == 0, "caching page byte %d changeable: 0x%02x", i - 12, d[i]);
	/* Saved values are not supported. */
	ms6[2] = 0xc8;
	id = fx_run(f, ms6, 255, NULL);
	CHECK_SENSE(f, id, 0x053900);
	/* Unknown page. */
	ms6[2] = 0x19;
	id = fx_run(f, ms6, 255, NULL);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);

	/* MODE SENSE 10, all pages, DBD: header 8 + pages 12 + 20 + 12. */
	uint8_t ms10[10] = { OP_MODE_SENSE_10, 0x08, 0x3f, 0, 0, 0, 0, 0x01, 0x00, 0 };
	id = fx_run(f, ms10, 256, NULL);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(((d[0] << 8) | d[1]) == 8 + 44 - 2 && d[7] == 0, "MODE SENSE 10 lengths");
	CHECK(d[8] == 0x01 && d[20] == 0x08 && d[40] == 0x0a, "page order 01 08 0a");
	/* Allocation length 4 truncates. */
	ms10[7] = 0; ms10[8] = 4;
	id = fx_run(f, ms10, 4, NULL);
	CHECK_GOOD(f, id);

	/* SYNCHRONIZE CACHE calls the handler's flush. */
	unsigned flushes = f->disk.flushes;
	uint8_t sc10[10] = { OP_SYNCHRONIZE_CACHE_10 };
	id = fx_run(f, sc10, 0, NULL);
	CHECK_GOOD(f, id);
	CHECK(f->disk.flushes == flushes + 1, "flush not called");
	sc10[5] = 0xff; sc10[4] = 0xff; /* LBA past the end */
	id = fx_run(f, sc10, 0, NULL);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);

	/* WRITE 10 with FUA behind a write cache: write, then flush. */
	uint8_t w10[10];
	uint8_t buf[4096];
	fill_pattern(buf, sizeof(buf), 3);
	cdb_rw10(w10, OP_WRITE_10, 5, 1);
	w10[1] = 0x08;
	flushes = f->disk.flushes;
	id = fx_run(f, w10, sizeof(buf), buf);
	CHECK_GOOD(f, id);
	CHECK(f->disk.flushes == flushes + 1, "FUA write did not flush");

	uint8_t rs[6] = { OP_REQUEST_SENSE, 0, 0, 0, 18, 0 };
	id = fx_run(f, rs, 18, NULL);
	CHECK_GOOD(f, id);
	CHECK(ringsim_data(&f->sim, id)[0] == 0x70 && ringsim_data(&f->sim, id)[2] == 0, "REQUEST SENSE: NO SENSE");

	/* Unknown opcode: ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE, with sense. */
	uint8_t vendor[10] = { TEST_OP_UNSUPPORTED };
	id = fx_run(f, vendor, 0, NULL);
	CHECK_SENSE(f, id, SENSE_INVALID_OPCODE);
	CHECK(!(fx_result(f, id)->uflags & 0x1), "UNKNOWN_OP flag would drop the sense");

	fx_free(f);
	return test_exit();
}
