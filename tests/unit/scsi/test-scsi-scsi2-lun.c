/* The obsolete SCSI-2 LUN field (CDB byte 1 bits 7-5) is ignored where
 * SPC-4 left it reserved: Linux sets it in the INQUIRY that probes a LUN
 * >= 1 before it knows the device's SCSI level (seen as "12 20 00 00 24
 * 00" for LUN 1), and refusing it loses the LUN.  Where those bits mean
 * something now (RDPROTECT), they are still checked. */
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 1024, 512, false);

	/* Linux's probe of LUN 1: standard INQUIRY, 36 bytes, LUN bits = 1. */
	uint8_t inq[6] = { OP_INQUIRY, 0x20, 0, 0, 36, 0 };
	uint16_t id = fx_run(f, inq, 36, NULL);
	CHECK_GOOD(f, id);
	const uint8_t *d = ringsim_data(&f->sim, id);
	CHECK(d[0] == 0x00 && memcmp(d + 8, "VHOSTIO ", 8) == 0, "INQUIRY data with the LUN bits set");
	for (uint8_t lun = 0; lun < 8; lun++) {
		inq[1] = (uint8_t)(lun << 5);
		CHECK_GOOD(f, fx_run(f, inq, 36, NULL));
	}
	/* EVPD still works next to the LUN bits; a reserved bit does not. */
	uint8_t vpd[6] = { OP_INQUIRY, 0x21, 0x80, 0, 255, 0 };
	CHECK_GOOD(f, fx_run(f, vpd, 255, NULL));
	vpd[1] = 0x22;
	CHECK_SENSE(f, fx_run(f, vpd, 255, NULL), SENSE_INVALID_FIELD_IN_CDB);

	uint8_t tur[6] = { OP_TEST_UNIT_READY, 0xe0 };
	CHECK_GOOD(f, fx_run(f, tur, 0, NULL));
	uint8_t rc10[10] = { OP_READ_CAPACITY_10, 0x40 };
	CHECK_GOOD(f, fx_run(f, rc10, 8, NULL));
	uint8_t ms6[6] = { OP_MODE_SENSE_6, 0x20 | 0x08, 0x3f, 0, 255, 0 };
	CHECK_GOOD(f, fx_run(f, ms6, 255, NULL));

	/* READ(10) byte 1 bits 7-5 are RDPROTECT now: still refused. */
	uint8_t r10[10];
	cdb_rw10(r10, OP_READ_10, 0, 1);
	r10[1] = 0x20;
	CHECK_SENSE(f, fx_run(f, r10, 512, NULL), SENSE_INVALID_FIELD_IN_CDB);
	fx_free(f);
	return test_exit();
}
