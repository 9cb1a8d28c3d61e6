/* handler_file: writes and reads at 4k and 1M, through many iovs, land in
 * the backing file (checked with pread) and read back; never-written
 * regions read as zeroes; direct=auto/on/off and 512/4096-byte blocks;
 * a read past the end of a file cut short behind our back reads zeroes. */
#define _GNU_SOURCE /* O_DIRECT */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scsi_defs.h"
#include "test-handler-plugin.h"

#define LUN_BYTES (64u << 20)

static void run(const struct vhostio_handler *h, const char *dir, const char *opts, uint32_t bs)
{
	char path[4200], cfg[4400];
	snprintf(path, sizeof(path), "%s/lun-%u%s", dir, bs, opts);
	for (char *p = path + strlen(dir) + 1; *p; p++)
		if (*p == ';' || *p == '=')
			*p = '_';
	snprintf(cfg, sizeof(cfg), "file/%s;create%s", path, opts);
	uint64_t lbas = LUN_BYTES / bs;
	struct fixture *f = fx_new_cfg(h, cfg, 256 * 1024, lbas, bs, true);
	uint8_t *buf = malloc(1 << 20), *chk = malloc(1 << 20);
	int fd = open(path, O_RDONLY);
	struct stat st;
	uint16_t id;

	CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == LUN_BYTES && (st.st_mode & 0777) == 0600,
	      "%s: created file should be 0600 and LUN-sized (size %lld)", cfg, (long long)st.st_size);
	CHECK(st.st_blocks == 0, "%s: created file should be sparse", cfg);

	/* Never-written region reads as zeroes (the sim poisons buffers). */
	id = read_blocks(f, 0, (1 << 20) / bs);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), 1 << 20), "%s: sparse read not zero", cfg);

	/* 4k */
	fill_pattern(buf, 4096, 100 + bs);
	uint64_t lba4k = (3u << 20) / bs + 7 * (4096 / bs);
	id = write_blocks(f, lba4k, 4096 / bs, buf, false);
	CHECK_GOOD(f, id);
	CHECK(pread(fd, chk, 4096, (off_t)(lba4k * bs)) == 4096 && memcmp(chk, buf, 4096) == 0,
	      "%s: 4k write not in the file", cfg);
	id = read_blocks(f, lba4k, 4096 / bs);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), 4096, 100 + bs), "%s: 4k read back wrong", cfg);

	/* 1M: 256 iovs of 4k, several in a row, overlapping the 4k one. */
	for (int i = 0; i < 4; i++) {
		uint64_t lba = (uint64_t)(2 + i) * (1 << 20) / bs + 5 * (4096 / bs);
		fill_pattern(buf, 1 << 20, 200 + i);
		id = write_blocks(f, lba, (1 << 20) / bs, buf, i == 3);
		CHECK_GOOD(f, id);
	}
	for (int i = 0; i < 4; i++) {
		uint64_t lba = (uint64_t)(2 + i) * (1 << 20) / bs + 5 * (4096 / bs);
		id = read_blocks(f, lba, (1 << 20) / bs);
		CHECK_GOOD(f, id);
		CHECK(check_pattern(ringsim_data(&f->sim, id), 1 << 20, 200 + i), "%s: 1M #%d read back wrong", cfg, i);
		fill_pattern(buf, 1 << 20, 200 + i);
		CHECK(pread(fd, chk, 1 << 20, (off_t)(lba * bs)) == 1 << 20 && memcmp(chk, buf, 1 << 20) == 0,
		      "%s: 1M #%d not in the file", cfg, i);
	}

	/* Several commands in one batch: submitted together, completed out of order. */
	uint16_t ids[8];
	for (int i = 0; i < 8; i++) {
		fill_pattern(buf, 64 * 1024, 300 + i);
		uint8_t cdb[16];
		cdb_rw16(cdb, OP_WRITE_16, (uint64_t)(20 << 20) / bs + (uint64_t)i * (64 * 1024 / bs), 64 * 1024 / bs);
		ids[i] = ringsim_submit(&f->sim, cdb, 64 * 1024, buf);
	}
	device_process_ring(f->dev);
	for (int waited = 0; waited < 5000; waited += 10) {
		bool all = true;
		for (int i = 0; i < 8; i++)
			all = all && fx_result(f, ids[i]);
		if (all)
			break;
		fx_serve(f, 10);
	}
	for (int i = 0; i < 8; i++) {
		CHECK_GOOD(f, ids[i]);
		fill_pattern(buf, 64 * 1024, 300 + i);
		CHECK(pread(fd, chk, 64 * 1024, (off_t)(20 << 20) + i * 64 * 1024) == 64 * 1024 &&
		      memcmp(chk, buf, 64 * 1024) == 0, "%s: batched write %d not in the file", cfg, i);
	}

	/* Last block of the LUN. */
	fill_pattern(buf, bs, 400);
	id = write_blocks(f, lbas - 1, 1, buf, false);
	CHECK_GOOD(f, id);
	id = read_blocks(f, lbas - 1, 1);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), bs, 400), "%s: last block wrong", cfg);

	/* Someone truncates the file under us: reads past its end give zeroes. */
	uint64_t lba_eof = (40u << 20) / bs;
	fill_pattern(buf, 4096, 500);
	id = write_blocks(f, lba_eof, 4096 / bs, buf, false);
	CHECK_GOOD(f, id);
	CHECK(truncate(path, (off_t)(lba_eof * bs + 2048)) == 0, "truncate");
	id = read_blocks(f, lba_eof, 4096 / bs);
	CHECK_GOOD(f, id);
	uint8_t *d = ringsim_data(&f->sim, id);
	CHECK(check_pattern(d, 2048, 500) && is_zero(d + 2048, 2048), "%s: read across EOF wrong", cfg);

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	close(fd);
	free(buf);
	free(chk);
	fx_free(f);
}

int main(void)
{
	const struct vhostio_handler *h = load_handler("file");
	char *dir = make_tmpdir();

	run(h, dir, "", 512);
	run(h, dir, "", 4096);
	run(h, dir, ";direct=off", 4096);
	run(h, dir, ";direct=off;queue_depth=4", 512);
	run(h, dir, ";queue_depth=1", 4096);
	/* direct=on only where the file system does O_DIRECT. */
	char probe[4200];
	snprintf(probe, sizeof(probe), "%s/probe", dir);
	int pfd = open(probe, O_RDWR | O_CREAT | O_DIRECT, 0600);
	if (pfd >= 0) {
		close(pfd);
		run(h, dir, ";direct=on", 4096);
	} else {
		fprintf(stderr, "note: %s takes no O_DIRECT; direct=on not tested\n", dir);
	}
	rm_tree(dir);
	return test_exit();
}
