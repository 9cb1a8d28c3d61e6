/* GET LBA STATUS: extents from the handler's lba_status, one mapped
 * extent without it, the allocation length honoured, LBA range checked. */
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define LBAS 4096
#define BS 512

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get_lba_status(struct fixture *f, uint64_t lba, uint32_t alloc, size_t buf_len)
{
	uint8_t cdb[16] = { OP_SERVICE_ACTION_IN_16, SAI_GET_LBA_STATUS };
	for (int k = 0; k < 8; k++)
		cdb[2 + k] = (uint8_t)(lba >> (56 - 8 * k));
	for (int k = 0; k < 4; k++)
		cdb[10 + k] = (uint8_t)(alloc >> (24 - 8 * k));
	return fx_run(f, cdb, buf_len, NULL);
}

static bool desc_is(const uint8_t *d, uint64_t lba, uint32_t blocks, uint8_t state)
{
	return be64(d) == lba && be32(d + 8) == blocks && (d[12] & 0x0f) == state;
}

int main(void)
{
	struct fixture *f = fx_new_with(&memdisk_unmap_handler, 64 * 1024, LBAS, BS, false);
	uint16_t id;

	memset(f->disk.mem + 10 * BS, 0x11, 10 * BS);
	id = get_lba_status(f, 0, 1024, 1024);
	CHECK_GOOD(f, id);
	const uint8_t *d = ringsim_data(&f->sim, id);
	CHECK(be32(d) == 4 + 3 * 16, "parameter data length %u", be32(d));
	CHECK(desc_is(d + 8, 0, 10, 1) && desc_is(d + 24, 10, 10, 0) && desc_is(d + 40, 20, LBAS - 20, 1),
	      "three extents: deallocated, mapped, deallocated");
	CHECK(fx_result(f, id)->read_len == 8 + 48, "read_len %u", fx_result(f, id)->read_len);

	id = get_lba_status(f, 15, 1024, 1024);
	d = ringsim_data(&f->sim, id);
	CHECK(be32(d) == 4 + 2 * 16 && desc_is(d + 8, 15, 5, 0) && desc_is(d + 24, 20, LBAS - 20, 1),
	      "from LBA 15");

	/* Room for one descriptor: the header still counts all three; 20 bytes: cut inside it. */
	id = get_lba_status(f, 0, 24, 1024);
	d = ringsim_data(&f->sim, id);
	CHECK(be32(d) == 4 + 3 * 16 && desc_is(d + 8, 0, 10, 1) && fx_result(f, id)->read_len == 24,
	      "one descriptor");
	CHECK(d[24] == 0xee, "wrote past the allocation length");
	id = get_lba_status(f, 0, 20, 1024);
	d = ringsim_data(&f->sim, id);
	CHECK(fx_result(f, id)->read_len == 20 && d[20] == 0xee, "cut at 20 bytes");
	id = get_lba_status(f, 0, 0, 64);
	CHECK_GOOD(f, id);
	/* Nothing written, and the stale bytes (0xee) zeroed: the kernel reads
	 * READ_LEN 0 as "the whole buffer". */
	CHECK(fx_result(f, id)->read_len == 0 && ringsim_data(&f->sim, id)[0] == 0, "allocation length 0");

	/* The last LBA is fine, one past it is not. */
	id = get_lba_status(f, LBAS - 1, 1024, 1024);
	d = ringsim_data(&f->sim, id);
	CHECK(desc_is(d + 8, LBAS - 1, 1, 1) && be32(d) == 20, "last LBA");
	id = get_lba_status(f, LBAS, 1024, 1024);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	id = get_lba_status(f, UINT64_MAX, 1024, 1024);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	fx_free(f);

	/* No lba_status: everything is mapped, one extent to the end. */
	f = fx_new(64 * 1024, LBAS, BS, false);
	id = get_lba_status(f, 100, 1024, 1024);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	CHECK(be32(d) == 20 && desc_is(d + 8, 100, LBAS - 100, 0), "one mapped extent");
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
