/* handler_file on a small private tmpfs: a write the file system has no
 * room for fails with DATA PROTECT / SPACE ALLOCATION FAILED (27/07), the
 * device keeps serving, and after UNMAP gives space back writes succeed;
 * check_config on a read-only file system says so.  The tmpfs lives in a
 * mount namespace of this process only (a user namespace when not root);
 * where namespaces are not allowed the test skips. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "scsi_defs.h"
#include "test-handler-plugin.h"

#define BS 4096
#define LBAS 1024 /* 4 MiB LUN on a 1 MiB file system */

static bool write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	bool ok = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool private_mounts(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (uid != 0) {
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return false;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", map))
			return false;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		if (!write_file("/proc/self/gid_map", map))
			return false;
	} else if (unshare(CLONE_NEWNS) < 0) {
		return false;
	}
	/* Nothing mounted here may show up outside this process. */
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

int main(void)
{
	const struct vhostio_handler *h = load_handler("file");
	char *tmp = make_tmpdir();
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s", tmp);

	if (!private_mounts() || mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700") < 0) {
		fprintf(stderr, "no private mount namespace here: ENOSPC/EROFS are left to the VM tests\n");
		rm_tree(dir);
		return T_EXIT_SKIP;
	}

	char path[4300], cfg[4400];
	snprintf(path, sizeof(path), "%s/full.img", dir);
	snprintf(cfg, sizeof(cfg), "file/%s;create", path);
	struct fixture *f = fx_new_cfg(h, cfg, 256 * 1024, LBAS, BS, true);
	uint8_t *buf = malloc(1 << 20);
	uint16_t id;

	/* 512k fits, the next 1M does not. */
	fill_pattern(buf, 512 << 10, 1);
	id = write_blocks(f, 0, 128, buf, false);
	CHECK_GOOD(f, id);
	fill_pattern(buf, 1 << 20, 2);
	id = write_blocks(f, 512, 256, buf, false);
	CHECK_SENSE(f, id, 0x072707);
	const struct sim_result *r = fx_result(f, id);
	CHECK(r && (r->sense[2] & 0xf) == 7 && r->sense[12] == 0x27 && r->sense[13] == 0x07, "sense bytes");

	/* Still serving: the first 512k reads back. */
	id = read_blocks(f, 0, 128);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), 512 << 10, 1), "data lost after ENOSPC");

	/* UNMAP the whole LUN (tmpfs punches holes), then 1M fits. */
	if (vhostio_device_caps(f->dev) & VHOSTIO_CAP_UNMAP) {
		int64_t u = unmap_blocks(f, 0, LBAS);
		CHECK(u == 0, "unmap: %llx", (long long)u);
		id = write_blocks(f, 512, 200, buf, false);
		CHECK_GOOD(f, id);
		id = read_blocks(f, 512, 200);
		CHECK_GOOD(f, id);
		CHECK(check_pattern(ringsim_data(&f->sim, id), 200 * BS, 2), "write after unmap");
	} else {
		fprintf(stderr, "note: tmpfs without hole punching here\n");
	}
	/* tmpfs has no ZERO_RANGE: WRITE SAME of zeroes still works (emulated). */
	memset(buf, 0, BS);
	uint8_t ws[16];
	cdb_rw16(ws, OP_WRITE_SAME_16, 600, 8);
	id = fx_run_wait(f, ws, BS, buf, 5000);
	CHECK_GOOD(f, id);
	id = read_blocks(f, 600, 8);
	CHECK_GOOD(f, id);
	CHECK(is_zero(ringsim_data(&f->sim, id), 8 * BS), "WRITE SAME zero on tmpfs");
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);

	/* Read-only file system: check_config says so. */
	CHECK(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0, "remount read-only");
	char *reason = NULL;
	snprintf(cfg, sizeof(cfg), "%s", path);
	int ret = h->check_config(cfg, &reason);
	CHECK(ret == -EROFS && reason && strstr(reason, "Read-only file system"), "read-only: %d %s", ret,
	      reason ? reason : "(none)");
	free(reason);

	free(buf);
	umount(dir);
	rm_tree(dir);
	return test_exit();
}
