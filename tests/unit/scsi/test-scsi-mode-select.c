/* MODE SELECT 6/10: WCE switches the write cache (no configfs write),
 * block descriptors must restate the geometry, anything else changed is
 * INVALID FIELD IN PARAMETER LIST with a field pointer (C/D = 0), bad
 * lengths are PARAMETER LIST LENGTH ERROR, PF=0 and SP=1 are refused. */
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define SENSE_INVALID_FIELD_IN_PARAM 0x052600
#define SENSE_PARAM_LIST_LENGTH 0x051a00

static uint16_t mode_select6(struct fixture *f, uint8_t byte1, const uint8_t *list, uint8_t len)
{
	uint8_t cdb[6] = { OP_MODE_SELECT_6, byte1, 0, 0, len, 0 };
	return fx_run(f, cdb, len, list);
}

static uint16_t mode_select10(struct fixture *f, const uint8_t *list, uint16_t len)
{
	uint8_t cdb[10] = { OP_MODE_SELECT_10, 0x10, 0, 0, 0, 0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0 };
	return fx_run(f, cdb, len, list);
}

/* Caching page (current values) behind a 6-byte header and a short block descriptor. */
static size_t caching_list6(struct fixture *f, uint8_t *list)
{
	uint8_t cdb[6] = { OP_MODE_SENSE_6, 0x00, 0x08, 0, 255, 0 };
	uint16_t id = fx_run(f, cdb, 255, NULL);
	const uint8_t *d = ringsim_data(&f->sim, id);
	size_t len = (size_t)d[0] + 1;
	memcpy(list, d, len);
	list[0] = 0;
	return len;
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 2048, 512, true);
	uint8_t list[64];
	uint16_t id;

	size_t len = caching_list6(f, list);
	CHECK(len == 4 + 8 + 20 && list[3] == 8 && (list[14] & 0x04), "caching page with WCE, block descriptor");

	/* Unchanged parameters are accepted as they are. */
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_GOOD(f, id);
	CHECK(vhostio_device_write_cache(f->dev) == 1, "WCE still on");

	/* WCE off: the cache is flushed, the device follows. */
	unsigned flushes = f->disk.flushes;
	list[14] &= (uint8_t)~0x04;
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_GOOD(f, id);
	CHECK(vhostio_device_write_cache(f->dev) == 0, "WCE off not applied");
	CHECK(f->disk.flushes == flushes + 1, "turning the cache off must flush");
	uint8_t ms[6] = { OP_MODE_SENSE_6, 0x08, 0x08, 0, 255, 0 };
	id = fx_run(f, ms, 255, NULL);
	CHECK(!(ringsim_data(&f->sim, id)[6] & 0x04), "MODE SENSE shows WCE off");
	/* An emulated FUA write no longer flushes: nothing is cached. */
	uint8_t w10[10], blk[512] = { 1 };
	cdb_rw10(w10, OP_WRITE_10, 0, 1);
	w10[1] = 0x08;
	flushes = f->disk.flushes;
	id = fx_run(f, w10, 512, blk);
	CHECK_GOOD(f, id);
	CHECK(f->disk.flushes == flushes, "FUA flushed without a write cache");
	list[14] |= 0x04;
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_GOOD(f, id);
	CHECK(vhostio_device_write_cache(f->dev) == 1, "WCE on again");

	/* A non-changeable bit of the caching page: byte 2 bit 0 (RCD) at list offset 12 + 2. */
	list[14] |= 0x01;
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 14, 0);
	list[14] &= (uint8_t)~0x01;
	/* Byte 12 of the page (list offset 24). */
	list[24] = 0x20;
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 24, 5);
	list[24] = 0;
	/* Wrong page length. */
	list[13] = 10;
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 13, -1);
	list[13] = 18;
	/* Unknown page code. */
	list[12] = 0x19;
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 12, 5);
	list[12] = 0x08;
	/* Block descriptor with another block length. */
	list[10] = 0x04; /* 512 -> 1024 */
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 9, 7);
	list[10] = 0x02;
	/* Block descriptor with another capacity; 0 means "unchanged". */
	list[7] = 0x01;
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 4, 7);
	memset(&list[4], 0, 4);
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_GOOD(f, id);
	caching_list6(f, list);
	/* Medium type. */
	list[1] = 1;
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 1, 7);
	list[1] = 0;
	/* Nothing applied by any refused list. */
	CHECK(vhostio_device_write_cache(f->dev) == 1, "a refused list changed WCE");

	/* Lengths: a page cut short, a list shorter than its header, a bad descriptor length. */
	id = mode_select6(f, 0x10, list, (uint8_t)(len - 1));
	CHECK_SENSE(f, id, SENSE_PARAM_LIST_LENGTH);
	id = mode_select6(f, 0x10, list, 3);
	CHECK_SENSE(f, id, SENSE_PARAM_LIST_LENGTH);
	list[3] = 4;
	id = mode_select6(f, 0x10, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 3, -1);
	list[3] = 8;
	id = mode_select6(f, 0x10, list, 13); /* page header cut: one byte */
	CHECK_SENSE(f, id, SENSE_PARAM_LIST_LENGTH);
	/* Zero-length list: nothing to do. */
	id = mode_select6(f, 0x10, list, 0);
	CHECK_GOOD(f, id);

	/* PF=0 and SP=1 are refused in the CDB. */
	id = mode_select6(f, 0x00, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 1, 4);
	id = mode_select6(f, 0x11, list, (uint8_t)len);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 1, 0);

	/* MODE SELECT 10 with a long block descriptor and the control page. */
	uint8_t l10[8 + 16 + 12] = { 0 };
	l10[4] = 0x01; /* LONGLBA */
	l10[7] = 16;
	l10[8 + 7] = 0; /* number of blocks 0: unchanged */
	l10[8 + 14] = 0x02; /* block length 512 */
	uint8_t *cp = &l10[24];
	cp[0] = 0x0a; cp[1] = 10; cp[2] = 0x04; cp[3] = 0x10; cp[8] = 0xff; cp[9] = 0xff;
	id = mode_select10(f, l10, sizeof(l10));
	CHECK_GOOD(f, id);
	CHECK(f->dev->lun.descriptor_sense, "D_SENSE via MODE SELECT 10");
	cp[3] = 0x00; /* queue algorithm modifier is not changeable */
	id = mode_select10(f, l10, sizeof(l10));
	CHECK(fx_sense_triple(f, id) == SENSE_INVALID_FIELD_IN_PARAM, "queue algorithm change accepted");
	CHECK_FIELD(f, id, false, 27, 4);
	cp[3] = 0x10;
	/* A 16-byte descriptor without LONGLBA is a bad length. */
	l10[4] = 0;
	id = mode_select10(f, l10, sizeof(l10));
	CHECK(fx_sense_triple(f, id) == SENSE_INVALID_FIELD_IN_PARAM, "16-byte short descriptor accepted");
	CHECK_FIELD(f, id, false, 6, -1);
	/* Descriptor length past the list. */
	l10[4] = 1;
	l10[7] = 16;
	id = mode_select10(f, l10, 20);
	CHECK(fx_sense_triple(f, id) == SENSE_PARAM_LIST_LENGTH, "descriptor past the list");

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
