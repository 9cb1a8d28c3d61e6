/* INQUIRY: standard data, VPD 0x00/0x80/0x83/0xB0, allocation-length
 * truncation reported as a short read, and bad fields refused with a
 * field pointer. */
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

static uint16_t inquiry(struct fixture *f, int evpd, uint8_t page, uint16_t alloc)
{
	uint8_t cdb[6] = { OP_INQUIRY, (uint8_t)evpd, page, (uint8_t)(alloc >> 8), (uint8_t)alloc, 0 };
	return fx_run(f, cdb, alloc, NULL);
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 4096, 512, false);

	uint16_t id = inquiry(f, 0, 0, 96);
	CHECK_GOOD(f, id);
	const uint8_t *d = ringsim_data(&f->sim, id);
	CHECK(d[0] == 0x00, "peripheral device type %u", d[0]);
	CHECK(d[2] == 0x06, "version %u, want SPC-4", d[2]);
	CHECK((d[3] & 0x0f) == 2, "response data format");
	CHECK(memcmp(&d[8], "VHOSTIO ", 8) == 0, "vendor '%.8s'", &d[8]);
	CHECK(memcmp(&d[16], "vhostio-mem     ", 16) == 0, "product '%.16s'", &d[16]);
	CHECK(d[4] + 5 == 66, "additional length %u", d[4]);
	const struct sim_result *r = fx_result(f, id);
	CHECK(r && (r->uflags & 0x2) && r->read_len == 66, "short response must report read_len 66, got %u",
	      r ? r->read_len : 0);

	/* Allocation length smaller than the data: exactly that many bytes. */
	id = inquiry(f, 0, 0, 5);
	CHECK_GOOD(f, id);
	CHECK(!(fx_result(f, id)->uflags & 0x2), "a full 5-byte transfer is not short");

	id = inquiry(f, 1, 0x00, 255);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(d[1] == 0x00 && d[3] == 6 && d[4] == 0x00 && d[5] == 0x80 && d[6] == 0x83 && d[7] == 0xb0 &&
	      d[8] == 0xb1 && d[9] == 0xb2, "supported VPD page list");

	id = inquiry(f, 1, 0x80, 255);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(d[1] == 0x80 && d[3] == 32 && memcmp(&d[4], "0123456789abcdef0123456789abcdef", 32) == 0,
	      "unit serial page");

	id = inquiry(f, 1, 0x83, 255);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	/* First designator: NAA 6 with LIO's OUI, then the serial's nibbles. */
	CHECK(d[4] == 0x01 && d[5] == 0x03 && d[7] == 16, "NAA designator header");
	CHECK(d[8] == 0x60 && d[9] == 0x01 && d[10] == 0x40 && d[11] == 0x50 && d[12] == 0x12 && d[13] == 0x34,
	      "NAA 6 + OUI 001405 + serial digits: %02x %02x %02x %02x %02x %02x", d[8], d[9], d[10], d[11], d[12], d[13]);
	/* Second: T10 vendor ID "VHOSTIO " + serial. */
	CHECK(d[24] == 0x02 && d[25] == 0x01 && d[27] == 8 + 32 && memcmp(&d[28], "VHOSTIO 0123", 12) == 0,
	      "T10 vendor designator");
	CHECK(((d[2] << 8) | d[3]) == 20 + 44, "page length %u", (d[2] << 8) | d[3]);

	id = inquiry(f, 1, 0xb0, 255);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(d[1] == 0xb0 && d[3] == 0x3c, "block limits header");
	CHECK(((uint32_t)d[8] << 24 | d[9] << 16 | d[10] << 8 | d[11]) == 1024, "maximum transfer length");

	/* Unsupported page, page code without EVPD, CMDDT: INVALID FIELD IN CDB. */
	id = inquiry(f, 1, 0xc7, 255);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK(fx_result(f, id)->sense[17] == 2, "field pointer should name byte 2");
	id = inquiry(f, 0, 0x80, 255);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	id = inquiry(f, 2, 0, 255);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);

	fx_free(f);
	return test_exit();
}
