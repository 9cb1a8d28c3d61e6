/* handler_file: check_config accepts good strings and refuses bad ones with
 * -errno and a one-line reason: missing file (with the ';create' hint), a
 * directory, not a regular file or block device, relative path, unknown or
 * malformed options, no permission (as non-root), a missing directory for
 * 'create'.  open() on a missing file fails too, and 'create' makes one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test-handler-plugin.h"

static const struct vhostio_handler *h;

static void expect(const char *cfg, int want, const char *in_reason)
{
	char *reason = NULL;
	int ret = h->check_config(cfg, &reason);
	CHECK(ret == want, "'%s': got %d, want %d (%s)", cfg, ret, want, reason ? reason : "no reason");
	if (in_reason)
		CHECK(reason && strstr(reason, in_reason) && !strchr(reason, '\n'),
		      "'%s': reason '%s' should be one line containing '%s'", cfg, reason ? reason : "(none)",
		      in_reason);
	free(reason);
}

int main(void)
{
	h = load_handler("file");
	char *dir = make_tmpdir();
	char file[4200], cfg[8600];
	snprintf(file, sizeof(file), "%s/disk.img", dir);
	int fd = open(file, O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0, "create %s", file);
	close(fd);

	CHECK(strcmp(h->subtype, "file") == 0, "subtype");
	CHECK(h->config_desc && strstr(h->config_desc, "direct=") && strstr(h->config_desc, "create") &&
	      strstr(h->config_desc, "queue_depth="), "config_desc should document the options");
	CHECK(h->thread_model == VHOSTIO_THREAD_SERIALIZE && (h->native_caps & VHOSTIO_CAP_FUA), "model/caps");

#define CFG(...) (snprintf(cfg, sizeof(cfg), __VA_ARGS__), cfg)
	expect(CFG("%s", file), 0, NULL);
	expect(CFG("%s;", file), 0, NULL);
	expect(CFG("%s;direct=auto;queue_depth=1", file), 0, NULL);
	expect(CFG("%s;direct=on;queue_depth=4096;create", file), 0, NULL);
	expect(CFG("%s;direct=off", file), 0, NULL);
	expect(CFG("%s/new.img;create", dir), 0, NULL);

	expect(CFG("%s/missing.img", dir), -ENOENT, "No such file or directory (add ';create' to create it)");
	expect(CFG("%s/no/such/dir.img;create", dir), -ENOENT, "directory");
	expect(CFG("%s", dir), -EISDIR, "is a directory");
	expect("/dev/null", -EINVAL, "not a regular file or block device");
	expect("", -EINVAL, "missing file path");
	expect(";create", -EINVAL, "missing file path");
	expect("disk.img", -EINVAL, "not absolute");
	expect(CFG("%s;direct=maybe", file), -EINVAL, "direct=maybe");
	expect(CFG("%s;direct", file), -EINVAL, "unknown file option 'direct'");
	expect(CFG("%s;queue_depth=0", file), -EINVAL, "queue_depth=0");
	expect(CFG("%s;queue_depth=4097", file), -EINVAL, "1..4096");
	expect(CFG("%s;queue_depth=12x", file), -EINVAL, "queue_depth=12x");
	expect(CFG("%s;queue_depth=99999999999999999999", file), -EINVAL, "queue_depth=");
	expect(CFG("%s;create=yes", file), -EINVAL, "unknown file option 'create=yes'");
	expect(CFG("%s;size=1g", file), -EINVAL, "unknown file option 'size=1g'");

	if (geteuid() != 0) {
		/* Permission: a file under a directory with mode 0, a file with mode 0400. */
		char locked[4200], ro[4200];
		snprintf(locked, sizeof(locked), "%s/locked", dir);
		snprintf(ro, sizeof(ro), "%s/ro.img", dir);
		CHECK(mkdir(locked, 0700) == 0, "mkdir");
		snprintf(cfg, sizeof(cfg), "%s/x.img", locked);
		fd = open(cfg, O_RDWR | O_CREAT, 0600);
		close(fd);
		CHECK(chmod(locked, 0) == 0, "chmod");
		expect(CFG("%s/x.img", locked), -EACCES, "Permission denied");
		expect(CFG("%s/y.img;create", locked), -EACCES, "Permission denied");
		fd = open(ro, O_RDWR | O_CREAT, 0400);
		close(fd);
		expect(CFG("%s", ro), -EACCES, "need read and write access");
		chmod(locked, 0700);
	} else {
		fprintf(stderr, "note: running as root: permission cases skipped\n");
	}

	/* open(): 'create' makes the file and sizes it; without it, no device. */
	struct fixture *f = fx_new_cfg(h, CFG("file/%s/made.img;create", dir), 64 * 1024, 2048, 512, true);
	struct stat st;
	snprintf(file, sizeof(file), "%s/made.img", dir);
	CHECK(stat(file, &st) == 0 && st.st_size == 2048 * 512 && (st.st_mode & 0777) == 0600,
	      "created file: size %lld mode %o", (long long)st.st_size, st.st_mode & 0777);
	fx_free(f);
	/* A longer existing file keeps its length. */
	CHECK(truncate(file, 4 << 20) == 0, "truncate");
	f = fx_new_cfg(h, CFG("file/%s", file), 64 * 1024, 2048, 512, true);
	CHECK(stat(file, &st) == 0 && st.st_size == 4 << 20, "longer file was cut");
	fx_free(f);

	rm_tree(dir);
	return test_exit();
}
