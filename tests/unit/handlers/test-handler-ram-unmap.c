/* handler_ram: unmap frees wholly covered chunks and zeroes the covered
 * part of the others; write_same of a zero block deallocates, of another
 * pattern fills; lba_status reports the result. */
#include <stdlib.h>
#include <string.h>

#include "test-handler-plugin.h"

#define BS 512
#define LBAS 8192 /* 4 MiB */
#define CB 8 /* 4k chunks = 8 blocks */

int main(void)
{
	const struct vhostio_handler *h = load_handler("ram");
	struct fixture *f = fx_new_cfg(h, "ram/u;chunk=4k;limit=1m", 256 * 1024, LBAS, BS, false);
	uint8_t *buf = malloc(1 << 20);
	uint16_t id;
	uint64_t len;

	/* Fill the first 1M (256 chunks = the limit). */
	fill_pattern(buf, 1 << 20, 5);
	id = write_blocks(f, 0, 2048, buf, false);
	CHECK_GOOD(f, id);
	CHECK(lba_state(f, 0, &len) == VHOSTIO_LBA_MAPPED && len == 1 << 20, "mapped 1M (len %llu)",
	      (unsigned long long)len);

	/* Unmap blocks 4..27: chunk 0 half, chunks 1 and 2 whole, chunk 3 half. */
	int64_t u = unmap_blocks(f, 4, 24);
	CHECK(u == 0, "unmap: %lld", (long long)u);
	id = read_blocks(f, 0, 32);
	CHECK_GOOD(f, id);
	uint8_t *d = ringsim_data(&f->sim, id);
	CHECK(check_pattern(d, 4 * BS, 5), "blocks before the unmap changed");
	CHECK(is_zero(d + 4 * BS, 24 * BS), "unmapped blocks not zero");
	uint8_t *want = malloc(4 * BS);
	fill_pattern(buf, 1 << 20, 5);
	memcpy(want, buf + 28 * BS, 4 * BS);
	CHECK(memcmp(d + 28 * BS, want, 4 * BS) == 0, "blocks after the unmap changed");
	CHECK(lba_state(f, 0, &len) == VHOSTIO_LBA_MAPPED && len == 4096, "chunk 0 stays mapped");
	CHECK(lba_state(f, 4096, &len) == VHOSTIO_LBA_DEALLOCATED && len == 8192,
	      "chunks 1-2 deallocated (len %llu)", (unsigned long long)len);
	CHECK(lba_state(f, 3 * 4096, &len) == VHOSTIO_LBA_MAPPED && len == (1 << 20) - 3 * 4096,
	      "chunk 3 on mapped (len %llu)", (unsigned long long)len);

	/* Two chunks were given back: two new ones fit, a third does not. */
	id = write_blocks(f, 4096, 2 * CB, buf, false);
	CHECK_GOOD(f, id);
	id = write_blocks(f, 6000, 1, buf, false);
	CHECK_SENSE(f, id, 0x072707);

	/* write_same of a zero block over chunks 10..19 deallocates them. */
	struct shim_io s;
	uint8_t block[BS];
	memset(block, 0, sizeof(block));
	shim_init(&s, f, 0);
	int ret = shim_wait(f, &s, h->write_same(f->dev, &s.dio.io, block, 10 * 4096, 10 * 4096), 1000);
	CHECK(ret == 0, "write_same zero: %d", ret);
	CHECK(lba_state(f, 10 * 4096, &len) == VHOSTIO_LBA_DEALLOCATED && len == 10 * 4096,
	      "zero write_same should deallocate (len %llu)", (unsigned long long)len);
	id = read_blocks(f, 10 * CB, 10 * CB);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), 10 * 4096), "zeroed range not zero");

	/* write_same of a pattern fills block by block (room for 10 chunks now). */
	fill_pattern(block, BS, 77);
	shim_init(&s, f, 0);
	ret = shim_wait(f, &s, h->write_same(f->dev, &s.dio.io, block, 10 * 4096, 3000 * BS), 1000);
	CHECK(ret == 0, "write_same pattern: %d", ret);
	id = read_blocks(f, 3000, 10 * CB);
	CHECK_GOOD(f, id);
	d = ringsim_data(&f->sim, id);
	bool ok = true;
	for (int i = 0; i < 10 * CB; i++)
		ok = ok && memcmp(d + i * BS, block, BS) == 0;
	CHECK(ok, "write_same pattern read back wrong");
	/* Over the limit now: write_same fails whole with -ENOSPC. */
	shim_init(&s, f, 0);
	ret = shim_wait(f, &s, h->write_same(f->dev, &s.dio.io, block, 4096, 7000 * BS), 1000);
	CHECK(ret == -ENOSPC, "write_same over the limit: %d", ret);

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	free(want);
	free(buf);
	fx_free(f);
	return test_exit();
}
