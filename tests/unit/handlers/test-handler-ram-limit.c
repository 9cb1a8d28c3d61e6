/* handler_ram: limit=<size> caps allocated memory.  A write that needs more
 * fails with DATA PROTECT / SPACE ALLOCATION FAILED (27/07) and changes
 * nothing; reads never allocate; unmapping frees room for new writes. */
#include <stdlib.h>
#include <string.h>

#include "test-handler-plugin.h"

#define BS 4096
#define LBAS 4096 /* 16 MiB */
#define CHUNK_BLOCKS 16 /* 64k chunks */

int main(void)
{
	const struct vhostio_handler *h = load_handler("ram");
	struct fixture *f = fx_new_cfg(h, "ram/lim;limit=256k", 256 * 1024, LBAS, BS, false);
	uint8_t *buf = malloc(1 << 20);
	uint16_t id;

	/* Reading the whole LUN costs nothing. */
	for (uint32_t lba = 0; lba < LBAS; lba += 256) {
		id = read_blocks(f, lba, 256);
		CHECK_GOOD(f, id);
	}

	/* Four chunks fit (chunks 0, 2, 4, 6). */
	for (int i = 0; i < 4; i++) {
		fill_pattern(buf, BS, 10 + i);
		id = write_blocks(f, (uint64_t)i * 2 * CHUNK_BLOCKS, 1, buf, false);
		CHECK_GOOD(f, id);
	}
	/* Rewriting allocated chunks still works at the limit. */
	fill_pattern(buf, CHUNK_BLOCKS * BS, 20);
	id = write_blocks(f, 0, CHUNK_BLOCKS, buf, false);
	CHECK_GOOD(f, id);

	/* A write spanning chunk 2 (allocated) and chunk 3 (new) fails whole. */
	fill_pattern(buf, 4 * BS, 21);
	id = write_blocks(f, 3 * CHUNK_BLOCKS - 2, 4, buf, false);
	CHECK_SENSE(f, id, 0x072707);
	id = read_blocks(f, 2 * CHUNK_BLOCKS, 2 * CHUNK_BLOCKS);
	CHECK_GOOD(f, id);
	uint8_t *d = ringsim_data(&f->sim, id);
	uint8_t *want = calloc(1, 2 * CHUNK_BLOCKS * BS);
	fill_pattern(want, BS, 11);
	CHECK(memcmp(d, want, 2 * CHUNK_BLOCKS * BS) == 0, "failed write changed data");
	CHECK(lba_state(f, 3 * CHUNK_BLOCKS * BS, NULL) == VHOSTIO_LBA_DEALLOCATED, "failed write allocated");

	/* A 1M write needing 16 new chunks fails too. */
	fill_pattern(buf, 1 << 20, 22);
	id = write_blocks(f, 1024, 256, buf, false);
	CHECK_SENSE(f, id, 0x072707);
	const struct sim_result *r = fx_result(f, id);
	CHECK(r && (r->sense[2] & 0x0f) == 0x7 && r->sense[12] == 0x27 && r->sense[13] == 0x07,
	      "sense bytes: key 7, 27/07");

	/* Unmap chunk 4 whole and half of chunk 6; chunk 4 is free again. */
	int64_t u = unmap_blocks(f, 4 * CHUNK_BLOCKS, CHUNK_BLOCKS);
	CHECK(u == 0, "unmap chunk 4: %lld", (long long)u);
	u = unmap_blocks(f, 6 * CHUNK_BLOCKS, CHUNK_BLOCKS / 2);
	CHECK(u == 0, "unmap half of chunk 6: %lld", (long long)u);
	CHECK(lba_state(f, 4 * CHUNK_BLOCKS * BS, NULL) == VHOSTIO_LBA_DEALLOCATED, "chunk 4 still allocated");
	CHECK(lba_state(f, 6 * CHUNK_BLOCKS * BS, NULL) == VHOSTIO_LBA_MAPPED, "half-unmapped chunk 6 freed");
	id = read_blocks(f, 6 * CHUNK_BLOCKS, 1);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), BS), "unmapped part of chunk 6 not zero");

	fill_pattern(buf, 4 * BS, 23);
	id = write_blocks(f, 3 * CHUNK_BLOCKS - 2, 4, buf, false);
	CHECK_GOOD(f, id);
	id = read_blocks(f, 3 * CHUNK_BLOCKS - 2, 4);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), 4 * BS, 23), "write after unmap read back wrong");
	/* ...and now the limit is reached again. */
	id = write_blocks(f, 10 * CHUNK_BLOCKS, 1, buf, false);
	CHECK_SENSE(f, id, 0x072707);

	/* The device keeps serving. */
	id = read_blocks(f, 0, CHUNK_BLOCKS);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), CHUNK_BLOCKS * BS, 20), "chunk 0 lost");

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	free(want);
	free(buf);
	fx_free(f);
	return test_exit();
}
