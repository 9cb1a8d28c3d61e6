/* handler_ram: reconfig SIZE keeps the data below the old size, a shrink
 * drops what lies beyond the new end; a CONFIG change of label or limit
 * keeps the data, a new chunk size reopens the LUN empty. */
#include <stdlib.h>
#include <string.h>

#include "test-handler-plugin.h"

#define BS 4096

static int resize(struct fixture *f, uint64_t lbas)
{
	struct vhostio_reconfig rc = { .changed = VHOSTIO_RECONFIG_SIZE, .size = lbas * BS };
	return device_reconfig(f->dev, &rc);
}

static int reconfig_string(struct fixture *f, const char *cfg)
{
	struct vhostio_reconfig rc = { .changed = VHOSTIO_RECONFIG_CONFIG, .config = cfg };
	return device_reconfig(f->dev, &rc);
}

int main(void)
{
	const struct vhostio_handler *h = load_handler("ram");
	struct fixture *f = fx_new_cfg(h, "ram/r;chunk=64k", 256 * 1024, 256, BS, false);
	uint8_t *buf = malloc(1 << 20);
	uint16_t id;
	int ret;

	fill_pattern(buf, 1 << 20, 30);
	id = write_blocks(f, 0, 256, buf, false);
	CHECK_GOOD(f, id);

	/* Grow 1M -> 64M: old data kept, the new part reads zero. */
	ret = resize(f, 16384);
	CHECK(ret == 0, "grow: %d", ret);
	CHECK(vhostio_device_num_lbas(f->dev) == 16384, "capacity not applied");
	id = read_blocks(f, 0, 1); /* eats the CAPACITY DATA HAS CHANGED unit attention */
	id = read_blocks(f, 0, 256);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), 1 << 20, 30), "data lost by grow");
	id = read_blocks(f, 256, 256);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), 1 << 20), "grown part not zero");
	fill_pattern(buf, BS, 31);
	id = write_blocks(f, 16383, 1, buf, false);
	CHECK_GOOD(f, id);

	/* Shrink to 100 blocks (mid-chunk), grow back: blocks < 100 kept, the rest zero. */
	ret = resize(f, 100);
	CHECK(ret == 0, "shrink: %d", ret);
	id = read_blocks(f, 0, 1);
	ret = resize(f, 16384);
	CHECK(ret == 0, "regrow: %d", ret);
	id = read_blocks(f, 0, 1);
	id = read_blocks(f, 0, 256);
	CHECK_GOOD(f, id);
	uint8_t *d = ringsim_data(&f->sim, id);
	fill_pattern(buf, 1 << 20, 30);
	CHECK(memcmp(d, buf, 100 * BS) == 0, "data below the shrunk size lost");
	CHECK(is_zero(d + 100 * BS, 156 * BS), "data beyond the shrunk size came back");
	id = read_blocks(f, 16383, 1);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), BS), "last block survived the shrink");
	CHECK(lba_state(f, 2 << 20, NULL) == VHOSTIO_LBA_DEALLOCATED, "chunks beyond the shrink not freed");

	/* New label and limit: applied in place, data kept. */
	ret = reconfig_string(f, "ram/renamed;chunk=64k;limit=8m");
	CHECK(ret == 0, "label/limit change: %d", ret);
	id = read_blocks(f, 0, 100);
	CHECK_GOOD(f, id);
	CHECK(memcmp(ringsim_data(&f->sim, id), buf, 100 * BS) == 0, "label change lost data");
	/* The new limit holds: 8M is 128 chunks, 2 are in use. */
	uint8_t *big = calloc(1, 1 << 20);
	fill_pattern(big, 1 << 20, 32);
	for (int i = 1; i < 8; i++) {
		id = write_blocks(f, (uint64_t)i * 256, 256, big, false);
		CHECK_GOOD(f, id);
	}
	id = write_blocks(f, 8 * 256, 256, big, false);
	CHECK_SENSE(f, id, 0x072707);

	/* A bad new config is refused, the device unchanged. */
	ret = reconfig_string(f, "ram/x;chunk=5k");
	CHECK(ret < 0, "bad config accepted");
	id = read_blocks(f, 0, 100);
	CHECK_GOOD(f, id);
	CHECK(memcmp(ringsim_data(&f->sim, id), buf, 100 * BS) == 0, "refused config lost data");

	/* A new chunk size reopens: the LUN starts empty (documented). */
	ret = reconfig_string(f, "ram/renamed;chunk=4k");
	CHECK(ret == 0, "chunk change: %d", ret);
	/* Reopened storage: the first command reports MEDIUM MAY HAVE CHANGED. */
	id = read_blocks(f, 0, 100);
	CHECK_SENSE(f, id, 0x062800);
	id = read_blocks(f, 0, 100);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), 100 * BS), "reopened LUN not empty");

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	free(big);
	free(buf);
	fx_free(f);
	return test_exit();
}
