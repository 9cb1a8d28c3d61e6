/* handler_ram: data round-trips at 4k and 1M through many iovs, never-written
 * chunks read as zeroes without being allocated, and lba_status follows
 * what was written. */
#include <stdlib.h>
#include <string.h>

#include "scsi_defs.h"
#include "test-handler-plugin.h"

#define BS 512
#define LBAS (64u << 11) /* 64 MiB */

int main(void)
{
	const struct vhostio_handler *h = load_handler("ram");
	struct fixture *f = fx_new_cfg(h, "ram/sparse;chunk=64k", 256 * 1024, LBAS, BS, true);
	uint8_t *buf = malloc(1 << 20);
	uint16_t id;

	/* Nothing is allocated, everything reads as zeroes. */
	uint64_t len;
	CHECK(lba_state(f, 0, &len) == VHOSTIO_LBA_DEALLOCATED && len == (uint64_t)LBAS * BS,
	      "fresh LUN should be one deallocated extent (len %llu)", (unsigned long long)len);
	id = read_blocks(f, 1000, 2048);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), 1 << 20), "unwritten 1M read not zero");
	CHECK(lba_state(f, 0, &len) == VHOSTIO_LBA_DEALLOCATED && len == (uint64_t)LBAS * BS,
	      "a read allocated memory");

	/* 4k write in the middle of a chunk; the rest of the chunk reads zero. */
	fill_pattern(buf, 4096, 1);
	id = write_blocks(f, 128 + 16, 8, buf, false); /* byte 73728: chunk 1 */
	CHECK_GOOD(f, id);
	id = read_blocks(f, 128, 128);                 /* all of chunk 1 */
	CHECK_GOOD(f, id);
	uint8_t *d = ringsim_data(&f->sim, id);
	CHECK(is_zero(d, 16 * BS) && check_pattern(d + 16 * BS, 4096, 1) &&
	      is_zero(d + 24 * BS, 64 * 1024 - 24 * BS), "4k write in chunk 1 read back wrong");
	CHECK(lba_state(f, 0, &len) == VHOSTIO_LBA_DEALLOCATED && len == 65536, "chunk 0 (len %llu)",
	      (unsigned long long)len);
	CHECK(lba_state(f, 65536 + 512, &len) == VHOSTIO_LBA_MAPPED && len == 65536 - 512,
	      "chunk 1 should be mapped to its end (len %llu)", (unsigned long long)len);
	CHECK(lba_state(f, 131072, &len) == VHOSTIO_LBA_DEALLOCATED && len == (uint64_t)LBAS * BS - 131072,
	      "after chunk 1 (len %llu)", (unsigned long long)len);

	/* 1M unaligned to chunks (256 iovs of 4k), crossing 17 chunks. */
	fill_pattern(buf, 1 << 20, 2);
	id = write_blocks(f, 10000 + 3, 2048, buf, false);
	CHECK_GOOD(f, id);
	id = read_blocks(f, 10000 + 3, 2048);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), 1 << 20, 2), "1M read back wrong");
	/* Neighbours untouched. */
	id = read_blocks(f, 10000, 3);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), 3 * BS), "bytes before the 1M write changed");
	id = read_blocks(f, 10000 + 3 + 2048, 8);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), 8 * BS), "bytes after the 1M write changed");

	/* The last block of the LUN. */
	fill_pattern(buf, BS, 3);
	id = write_blocks(f, LBAS - 1, 1, buf, true);
	CHECK_GOOD(f, id);
	id = read_blocks(f, LBAS - 1, 1);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), BS, 3), "last block read back wrong");

	/* SYNCHRONIZE CACHE: nothing to flush, succeeds. */
	uint8_t sync[10] = { OP_SYNCHRONIZE_CACHE_10 };
	id = fx_run_wait(f, sync, 0, NULL, 1000);
	CHECK_GOOD(f, id);

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	free(buf);
	fx_free(f);
	return test_exit();
}
