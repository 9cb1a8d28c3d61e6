/* handler_file: a SIZE reconfig grows the file (never shrinks it, data
 * kept); a CONFIG change reopens on the new file; a new config naming a
 * missing file is refused and the old file keeps serving. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test-handler-plugin.h"

#define BS 4096

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

int main(void)
{
	const struct vhostio_handler *h = load_handler("file");
	char *dir = make_tmpdir();
	char a[4200], b[4200], cfg[4400];
	snprintf(a, sizeof(a), "%s/a.img", dir);
	snprintf(b, sizeof(b), "%s/b.img", dir);
	snprintf(cfg, sizeof(cfg), "file/%s;create", a);
	struct fixture *f = fx_new_cfg(h, cfg, 256 * 1024, 256, BS, true);
	uint8_t *buf = malloc(1 << 20);
	uint16_t id;
	int ret;

	fill_pattern(buf, 1 << 20, 90);
	id = write_blocks(f, 0, 256, buf, false);
	CHECK_GOOD(f, id);

	/* Grow 1M -> 8M: the file follows. */
	struct vhostio_reconfig rc = { .changed = VHOSTIO_RECONFIG_SIZE, .size = 8 << 20 };
	ret = device_reconfig(f->dev, &rc);
	CHECK(ret == 0, "grow: %d", ret);
	CHECK(file_size(a) == 8 << 20, "file not grown (%lld)", file_size(a));
	read_blocks(f, 0, 1); /* unit attention */
	fill_pattern(buf, BS, 91);
	id = write_blocks(f, 2047, 1, buf, false);
	CHECK_GOOD(f, id);

	/* Shrink to 512k: the file keeps its length and its data. */
	rc.size = 512 << 10;
	ret = device_reconfig(f->dev, &rc);
	CHECK(ret == 0, "shrink: %d", ret);
	CHECK(file_size(a) == 8 << 20, "file shrunk (%lld)", file_size(a));
	read_blocks(f, 0, 1);
	id = read_blocks(f, 0, 128);
	CHECK_GOOD(f, id);
	fill_pattern(buf, 1 << 20, 90);
	CHECK(memcmp(ringsim_data(&f->sim, id), buf, 512 << 10) == 0, "data lost by shrink");

	/* Write cache change: accepted. */
	rc = (struct vhostio_reconfig){ .changed = VHOSTIO_RECONFIG_WRITE_CACHE, .write_cache = 0 };
	CHECK(device_reconfig(f->dev, &rc) == 0, "write cache off refused");
	CHECK(vhostio_device_write_cache(f->dev) == 0, "write cache still on");
	read_blocks(f, 0, 1);
	fill_pattern(buf, BS, 92);
	id = write_blocks(f, 5, 1, buf, false); /* durable without a cache (RWF_DSYNC) */
	CHECK_GOOD(f, id);

	/* New config on a missing file without create: refused, a.img keeps serving. */
	snprintf(cfg, sizeof(cfg), "file/%s", b);
	rc = (struct vhostio_reconfig){ .changed = VHOSTIO_RECONFIG_CONFIG, .config = cfg };
	ret = device_reconfig(f->dev, &rc);
	CHECK(ret < 0, "config on a missing file accepted");
	id = read_blocks(f, 5, 1);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), BS, 92), "old file no longer served");

	/* Reopen on b.img, prepared with its own data. */
	int fd = open(b, O_RDWR | O_CREAT, 0600);
	fill_pattern(buf, 1 << 20, 93);
	CHECK(fd >= 0 && pwrite(fd, buf, 1 << 20, 0) == 1 << 20, "prepare b.img");
	close(fd);
	snprintf(cfg, sizeof(cfg), "file/%s;direct=off", b);
	rc = (struct vhostio_reconfig){ .changed = VHOSTIO_RECONFIG_CONFIG, .config = cfg };
	ret = device_reconfig(f->dev, &rc);
	CHECK(ret == 0, "reopen on b.img: %d", ret);
	read_blocks(f, 0, 1);
	id = read_blocks(f, 0, 128);
	CHECK_GOOD(f, id);
	CHECK(memcmp(ringsim_data(&f->sim, id), buf, 512 << 10) == 0, "not serving b.img after reopen");
	CHECK(file_size(b) == 1 << 20, "b.img resized (%lld)", file_size(b));

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	free(buf);
	fx_free(f);
	rm_tree(dir);
	return test_exit();
}
