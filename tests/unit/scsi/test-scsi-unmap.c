/* UNMAP: descriptors become handler ranges; header lengths, descriptor
 * counts, ranges and the Block Limits maxima are checked before anything
 * is unmapped; ANCHOR is refused; without an unmap callback the opcode
 * does not exist. */
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define LBAS 8192
#define BS 512
#define SENSE_INVALID_FIELD_IN_PARAM 0x052600
#define SENSE_PARAM_LIST_LENGTH 0x051a00

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static void put_desc(uint8_t *list, unsigned i, uint64_t lba, uint32_t blocks)
{
	uint8_t *d = list + 8 + 16 * i;
	memset(d, 0, 16);
	for (int k = 0; k < 8; k++)
		d[k] = (uint8_t)(lba >> (56 - 8 * k));
	for (int k = 0; k < 4; k++)
		d[8 + k] = (uint8_t)(blocks >> (24 - 8 * k));
}

static void put_header(uint8_t *list, unsigned n)
{
	put16(list, (uint16_t)(6 + 16 * n));
	put16(list + 2, (uint16_t)(16 * n));
	list[4] = list[5] = list[6] = list[7] = 0;
}

static uint16_t unmap(struct fixture *f, uint8_t byte1, const uint8_t *list, uint16_t len)
{
	uint8_t cdb[10] = { OP_UNMAP, byte1, 0, 0, 0, 0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0 };
	return fx_run(f, cdb, len, list);
}

static bool zero(struct fixture *f, uint64_t lba, uint64_t n)
{
	for (size_t i = 0; i < n * BS; i++)
		if (f->disk.mem[lba * BS + i])
			return false;
	return true;
}

int main(void)
{
	struct fixture *f = fx_new_with(&memdisk_unmap_handler, 64 * 1024, LBAS, BS, false);
	static uint8_t list[8 + 16 * 300];
	uint16_t id;

	memset(f->disk.mem, 0xa5, (size_t)LBAS * BS);
	put_header(list, 3);
	put_desc(list, 0, 10, 5);
	put_desc(list, 1, 50, 0);     /* empty: skipped */
	put_desc(list, 2, 100, 20);
	id = unmap(f, 0, list, 8 + 48);
	CHECK_GOOD(f, id);
	CHECK(f->disk.unmap_calls == 1 && f->disk.unmap_ranges == 2, "one call, two ranges: %u %u",
	      f->disk.unmap_calls, f->disk.unmap_ranges);
	CHECK(zero(f, 10, 5) && zero(f, 100, 20) && !zero(f, 9, 1) && !zero(f, 15, 1) && !zero(f, 120, 1),
	      "unmapped exactly the ranges");

	/* The last block, and nothing at all. */
	put_header(list, 1);
	put_desc(list, 0, LBAS - 1, 1);
	id = unmap(f, 0, list, 24);
	CHECK_GOOD(f, id);
	CHECK(zero(f, LBAS - 1, 1), "last block");
	id = unmap(f, 0, list, 0);
	CHECK_GOOD(f, id);
	put_header(list, 0);
	id = unmap(f, 0, list, 8);
	CHECK_GOOD(f, id);
	unsigned calls = f->disk.unmap_calls;

	/* ANCHOR. */
	put_header(list, 1);
	put_desc(list, 0, 0, 1);
	id = unmap(f, 0x01, list, 24);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 1, 0);

	/* Lengths: list shorter than the header, descriptor or data length past the list. */
	id = unmap(f, 0, list, 7);
	CHECK_SENSE(f, id, SENSE_PARAM_LIST_LENGTH);
	put16(list + 2, 0xfff0); /* hostile: 4095 descriptors claimed in a 24-byte list */
	id = unmap(f, 0, list, 24);
	CHECK_SENSE(f, id, SENSE_PARAM_LIST_LENGTH);
	put_header(list, 1);
	put16(list, 0xffff);
	id = unmap(f, 0, list, 24);
	CHECK_SENSE(f, id, SENSE_PARAM_LIST_LENGTH);

	/* More descriptors than MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT (256). */
	put_header(list, 257);
	for (unsigned i = 0; i < 257; i++)
		put_desc(list, i, i, 1);
	id = unmap(f, 0, list, 8 + 16 * 257);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 2, -1);
	put_header(list, 256);
	id = unmap(f, 0, list, 8 + 16 * 256);
	CHECK_GOOD(f, id);
	CHECK(f->disk.unmap_calls == calls + 1, "256 descriptors are fine");
	calls = f->disk.unmap_calls;

	/* Out of range, in the second descriptor: nothing is unmapped. */
	memset(f->disk.mem, 0xa5, 64 * BS);
	put_header(list, 2);
	put_desc(list, 0, 0, 8);
	put_desc(list, 1, LBAS - 4, 5);
	id = unmap(f, 0, list, 40);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	put_desc(list, 1, UINT64_MAX, 1);
	id = unmap(f, 0, list, 40);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	put_desc(list, 1, UINT64_MAX - 1, 0xffffffff);
	id = unmap(f, 0, list, 40);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	CHECK(f->disk.unmap_calls == calls && !zero(f, 0, 1), "a refused list unmapped something");
	fx_free(f);

	/* MAXIMUM UNMAP LBA COUNT: 1 GiB of 4 KiB blocks = 262144, over several descriptors. */
	f = fx_new_with(&memdisk_unmap_handler, 64 * 1024, 8192, 4096, false);
	put_header(list, 33);
	for (unsigned i = 0; i < 33; i++)
		put_desc(list, i, 0, 8192);
	id = unmap(f, 0, list, 8 + 16 * 33);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 8 + 16 * 32 + 8, -1);
	CHECK(f->disk.unmap_calls == 0, "over the limit yet unmapped");
	fx_free(f);

	/* 512-byte blocks: 2^20 (not 1 GiB = 2^21), exactly at the boundary. */
	f = fx_new_with(&memdisk_unmap_handler, 64 * 1024, LBAS, BS, false);
	put_header(list, 129);
	for (unsigned i = 0; i < 128; i++)
		put_desc(list, i, 0, LBAS);   /* 128 * 8192 = 2^20 */
	put_desc(list, 128, 0, 1);
	id = unmap(f, 0, list, 8 + 16 * 129);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_FIELD(f, id, false, 8 + 16 * 128 + 8, -1);
	CHECK(f->disk.unmap_calls == 0, "2^20 + 1 blocks yet unmapped");
	put_header(list, 128);
	id = unmap(f, 0, list, 8 + 16 * 128);
	CHECK_GOOD(f, id);
	CHECK(f->disk.unmap_calls == 1, "2^20 blocks are fine");
	fx_free(f);

	/* No unmap callback: UNMAP is not a command of this device. */
	f = fx_new(64 * 1024, LBAS, BS, false);
	put_header(list, 1);
	put_desc(list, 0, 0, 1);
	id = unmap(f, 0, list, 24);
	CHECK_SENSE(f, id, SENSE_INVALID_OPCODE);
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
