/* Unit attention (reported once, not to INQUIRY, as REQUEST SENSE data),
 * REQUEST SENSE in both formats, and descriptor-format sense on every
 * command once MODE SELECT sets D_SENSE. */
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

static uint16_t mode_select6(struct fixture *f, const uint8_t *list, uint8_t len)
{
	uint8_t cdb[6] = { OP_MODE_SELECT_6, 0x10, 0, 0, len, 0 };
	return fx_run(f, cdb, len, list);
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 1024, 512, false);
	uint8_t tur[6] = { OP_TEST_UNIT_READY };
	uint8_t inq[6] = { OP_INQUIRY, 0, 0, 0, 36, 0 };
	uint8_t rs[6] = { OP_REQUEST_SENSE, 0, 0, 0, 252, 0 };
	uint16_t id;

	/* A pending UA: INQUIRY passes it by, the next TUR reports it, once. */
	scsi_lun_set_unit_attention(&f->dev->lun, 0x2a09);
	id = fx_run(f, inq, 36, NULL);
	CHECK_GOOD(f, id);
	id = fx_run(f, tur, 0, NULL);
	CHECK_SENSE(f, id, 0x062a09);
	id = fx_run(f, tur, 0, NULL);
	CHECK_GOOD(f, id);

	/* Unknown opcodes also report a pending UA first. */
	scsi_lun_set_unit_attention(&f->dev->lun, 0x2800);
	uint8_t vendor[10] = { TEST_OP_UNSUPPORTED };
	id = fx_run(f, vendor, 0, NULL);
	CHECK_SENSE(f, id, 0x062800);
	id = fx_run(f, vendor, 0, NULL);
	CHECK_SENSE(f, id, SENSE_INVALID_OPCODE);

	/* REQUEST SENSE returns the UA as its data (fixed format) and clears it. */
	scsi_lun_set_unit_attention(&f->dev->lun, 0x2a09);
	id = fx_run(f, rs, 252, NULL);
	CHECK_GOOD(f, id);
	const uint8_t *d = ringsim_data(&f->sim, id);
	CHECK(d[0] == 0x70 && d[2] == 0x06 && d[7] == 10 && d[12] == 0x2a && d[13] == 0x09,
	      "REQUEST SENSE fixed UA: %02x %02x %02x %02x", d[0], d[2], d[12], d[13]);
	CHECK(fx_result(f, id)->read_len == 18, "fixed sense is 18 bytes, got %u", fx_result(f, id)->read_len);
	id = fx_run(f, tur, 0, NULL);
	CHECK_GOOD(f, id);
	id = fx_run(f, rs, 252, NULL);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(d[0] == 0x70 && d[2] == 0 && d[12] == 0 && d[13] == 0, "NO SENSE once the UA is gone");

	/* DESC=1: descriptor format, 8 bytes without descriptors. */
	scsi_lun_set_unit_attention(&f->dev->lun, 0x2a09);
	rs[1] = 0x01;
	id = fx_run(f, rs, 252, NULL);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(d[0] == 0x72 && d[1] == 0x06 && d[2] == 0x2a && d[3] == 0x09 && d[7] == 0,
	      "REQUEST SENSE descriptor UA: %02x %02x %02x %02x %02x", d[0], d[1], d[2], d[3], d[7]);
	CHECK(fx_result(f, id)->read_len == 8, "descriptor sense is 8 bytes, got %u", fx_result(f, id)->read_len);
	rs[1] = 0x02; /* reserved bit */
	id = fx_run(f, rs, 252, NULL);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 1, 1);
	rs[1] = 0;

	/* MODE SELECT the control page with D_SENSE set (round trip of MODE SENSE). */
	uint8_t ms[6] = { OP_MODE_SENSE_6, 0x08, 0x0a, 0, 255, 0 };
	id = fx_run(f, ms, 255, NULL);
	CHECK_GOOD(f, id);
	uint8_t list[16];
	memcpy(list, ringsim_data(&f->sim, id), sizeof(list));
	CHECK(list[3] == 0 && list[4] == 0x0a && !(list[6] & 0x04), "control page, D_SENSE clear");
	list[0] = 0;          /* MODE DATA LENGTH is reserved in MODE SELECT */
	list[6] |= 0x04;      /* D_SENSE */
	id = mode_select6(f, list, sizeof(list));
	CHECK_GOOD(f, id);
	CHECK(f->dev->lun.descriptor_sense, "D_SENSE not applied");
	id = fx_run(f, ms, 255, NULL);
	CHECK(ringsim_data(&f->sim, id)[6] & 0x04, "MODE SENSE must show D_SENSE now");

	/* Now an error carries descriptor-format sense with a sense-key specific descriptor. */
	uint8_t r10[10];
	cdb_rw10(r10, OP_READ_10, 0, 1);
	r10[1] = 0x40; /* RDPROTECT */
	id = fx_run(f, r10, 512, NULL);
	const struct sim_result *r = fx_result(f, id);
	CHECK(r && r->status == 2 && r->sense[0] == 0x72 && r->sense[1] == 0x05 && r->sense[2] == 0x24,
	      "descriptor sense expected: %02x %02x %02x", r ? r->sense[0] : 0, r ? r->sense[1] : 0,
	      r ? r->sense[2] : 0);
	CHECK(r && r->sense[7] == 8 && r->sense[8] == 0x02 && r->sense[9] == 0x06 && r->sense[12] == (0x80 | 0x40 | 0x08 | 7) &&
	      r->sense[13] == 0 && r->sense[14] == 1, "sense key specific descriptor");
	CHECK(fx_sense_triple(f, id) == SENSE_INVALID_FIELD_IN_CDB, "parsed triple");
	CHECK_FIELD(f, id, true, 1, 7);

	/* A UA in descriptor format too. */
	scsi_lun_set_unit_attention(&f->dev->lun, 0x2a09);
	id = fx_run(f, tur, 0, NULL);
	r = fx_result(f, id);
	CHECK(r && r->sense[0] == 0x72 && fx_sense_triple(f, id) == 0x062a09, "UA in descriptor format");

	/* And back to fixed. */
	list[6] &= (uint8_t)~0x04;
	id = mode_select6(f, list, sizeof(list));
	CHECK_GOOD(f, id);
	id = fx_run(f, r10, 512, NULL);
	CHECK(fx_result(f, id)->sense[0] == 0x70, "fixed sense again");
	CHECK_FIELD(f, id, true, 1, 7);

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
