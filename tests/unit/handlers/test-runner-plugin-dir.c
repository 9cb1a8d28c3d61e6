/* vhostio-runner's plugin loading (daemon/plugins.c): handlers load only from a directory owned by root (or
 * the daemon's own uid) that group and others cannot write, and only files of the same kind; a refused
 * directory or file is logged.  A symbolic link in a good directory is followed and its target checked
 * (the VM tests' handler directory is made of such links). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugins.h"
#include "test-handler-plugin.h"

static char logged[8192];

static void sink(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	size_t n = strlen(logged);
	snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(in >= 0 && out >= 0, "copy %s to %s", from, to);
	char buf[65536];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		CHECK(write(out, buf, (size_t)n) == n, "write %s", to);
	close(in);
	close(out);
	CHECK(chmod(to, mode) == 0, "chmod %s", to); /* not through the umask */
}

/* a/b into out, which must hold it. */
static void join(char *out, size_t cap, const char *a, const char *b)
{
	int n = snprintf(out, cap, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr, "path too long: %s/%s\n", a, b);
		exit(T_EXIT_FAIL);
	}
}

/* Load 'dir' into a fresh ctx: plugins_load_dir()'s result; 'subtype' registered or not as 'want_loaded'. */
static int load(const char *dir, bool want_loaded, const char *want_log, const char *what)
{
	struct vhostio_ctx *ctx;
	CHECK(vhostio_ctx_new(&ctx) == 0, "vhostio_ctx_new");
	struct plugin_set *set = plugins_new();
	logged[0] = 0;
	int ret = plugins_load_dir(ctx, dir, set);
	bool found = false;
	for (int i = 0; i < vhostio_ctx_handler_count(ctx); i++)
		found |= strcmp(vhostio_ctx_handler_subtype(ctx, i), "ram") == 0;
	CHECK(found == want_loaded, "%s: handler 'ram' %s (returned %d; log: %s)", what,
	      found ? "registered" : "not registered", ret, logged);
	if (want_log)
		CHECK(strstr(logged, want_log), "%s: want '%s' in the log, got: %s", what, want_log, logged);
	vhostio_ctx_free(ctx);
	plugins_unload(set);
	return ret;
}

int main(void)
{
	char src[4096], dir[4096], file[4096], other[4096], link_path[4096];
	join(src, sizeof(src), VHOSTIO_HANDLER_BUILD_DIR, "handler_ram.so");
	char *tmp = make_tmpdir();
	vhostio_set_log_fn(sink, NULL);

	join(dir, sizeof(dir), tmp, "handlers");
	join(file, sizeof(file), dir, "handler_ram.so");
	CHECK(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0, "mkdir %s", dir);
	copy_file(src, file, 0755);

	/* The good case: loads (and the returned count says so). */
	CHECK(load(dir, true, NULL, "0755 directory, 0755 file") == 1, "one handler registered");
	CHECK(chmod(file, 0444) == 0, "chmod");
	load(dir, true, NULL, "read-only file");

	/* A group- or world-writable file is refused, with a line naming it. */
	CHECK(chmod(file, 0757) == 0, "chmod");
	CHECK(load(dir, false, "handler_ram.so refused: writable by others (mode 0757)", "world-writable file") == 0,
	      "nothing registered");
	CHECK(chmod(file, 0775) == 0, "chmod");
	load(dir, false, "refused: writable by group (mode 0775)", "group-writable file");
	CHECK(chmod(file, 0755) == 0, "chmod");

	/* A group- or world-writable directory is refused whole, even with good files in it. */
	CHECK(chmod(dir, 0775) == 0, "chmod");
	CHECK(load(dir, false, "handler directory", "group-writable directory") == -EPERM, "-EPERM");
	CHECK(strstr(logged, "refused: writable by group (mode 0775)"), "log: %s", logged);
	CHECK(chmod(dir, 01777) == 0, "chmod");
	load(dir, false, "refused: writable by group and others (mode 1777)", "sticky world-writable directory");
	CHECK(chmod(dir, 0755) == 0, "chmod");

	/* A link in the good directory to a good file elsewhere loads; to a writable one, it does not. */
	join(other, sizeof(other), tmp, "elsewhere.so");
	copy_file(src, other, 0755);
	CHECK(unlink(file) == 0 && symlink(other, file) == 0, "symlink");
	load(dir, true, NULL, "symlink to a 0755 file");
	CHECK(chmod(other, 0757) == 0, "chmod");
	load(dir, false, "refused: writable by others", "symlink to a world-writable file");
	CHECK(chmod(other, 0755) == 0, "chmod");

	/* A symlinked directory path is fine: what counts is the directory it reaches. */
	join(link_path, sizeof(link_path), tmp, "dir-link");
	CHECK(symlink(dir, link_path) == 0, "symlink to the directory");
	load(link_path, true, NULL, "directory reached through a symlink");

	/* Files of another user: only when the test runs as root can it make them. */
	if (geteuid() == 0) {
		CHECK(unlink(file) == 0, "unlink");
		copy_file(src, file, 0755);
		CHECK(chown(file, 4242, 4242) == 0, "chown");
		load(dir, false, "owned by uid 4242, not by root", "file of another user");
		CHECK(chown(file, 0, 4242) == 0, "chown");
		load(dir, true, NULL, "root's file, another group, not group-writable");
		CHECK(chown(dir, 4242, 0) == 0, "chown");
		CHECK(load(dir, false, "handler directory", "directory of another user") == -EPERM, "-EPERM");
		CHECK(strstr(logged, "owned by uid 4242"), "log: %s", logged);
		CHECK(chown(dir, 0, 0) == 0, "chown");
	}

	/* Many loads in one set: every file loaded is the one in its directory, also when the descriptor
	 * numbers of earlier loads are reused (the dynamic linker matches names before files). */
	{
		char d2[4096], f2[4096];
		join(d2, sizeof(d2), tmp, "second");
		CHECK(mkdir(d2, 0755) == 0 && chmod(d2, 0755) == 0, "mkdir");
		join(f2, sizeof(f2), d2, "handler_file.so");
		char src2[4096];
		join(src2, sizeof(src2), VHOSTIO_HANDLER_BUILD_DIR, "handler_file.so");
		copy_file(src2, f2, 0755);
		struct vhostio_ctx *ctx;
		CHECK(vhostio_ctx_new(&ctx) == 0, "vhostio_ctx_new");
		struct plugin_set *set = plugins_new();
		logged[0] = 0;
		/* The same file twice (dir and its link): the second is a duplicate subtype and dropped. */
		CHECK(plugins_load_dir(ctx, dir, set) == 1, "first directory: %s", logged);
		CHECK(plugins_load_dir(ctx, link_path, set) == 0, "same handler again: %s", logged);
		CHECK(plugins_load_dir(ctx, d2, set) == 1, "second directory: %s", logged);
		int n = vhostio_ctx_handler_count(ctx);
		bool ram = false, filer = false;
		for (int i = 0; i < n; i++) {
			ram |= strcmp(vhostio_ctx_handler_subtype(ctx, i), "ram") == 0;
			filer |= strcmp(vhostio_ctx_handler_subtype(ctx, i), "file") == 0;
		}
		CHECK(ram && filer, "want ram and file registered, got ram %d file %d (log: %s)", ram, filer, logged);
		vhostio_ctx_free(ctx);
		plugins_unload(set);
	}

	/* Not a regular file: refused without hanging on it. */
	CHECK(unlink(file) == 0 && mkfifo(file, 0644) == 0, "mkfifo");
	load(dir, false, "refused: not a regular file", "FIFO");

	/* A directory that is not there. */
	join(dir, sizeof(dir), tmp, "missing");
	CHECK(load(dir, false, "cannot read handler directory", "missing directory") == -ENOENT, "-ENOENT");

	vhostio_set_log_fn(NULL, NULL);
	rm_tree(tmp);
	return test_exit();
}
