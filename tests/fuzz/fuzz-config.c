/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: the parsers of configuration text.  The first byte picks
 * one, the rest is its input:
 *   0  handler_ram's check_config()  (handlers/ram.c, compiled in)
 *   1  handler_file's check_config() (handlers/file.c, compiled in) on a
 *      path under a scratch directory made at start (a file, a directory,
 *      a FIFO, links), so only that directory is looked at; with bit 2 set
 *      the string goes in as it is if it is not absolute (the refusals)
 *   2  parse_uio_name() (tcmu/discovery.c); bit 2 prepends "tcm-user/"
 *   3  the runner's settings file (daemon/config.c, a GLib key file),
 *      written to the scratch directory and read with config_load(), and
 *      parse_log_level() / parse_poll_us() on the same bytes
 * The handlers are compiled into the target (their entry points renamed,
 * see CMakeLists.txt) and called through their handler structs, as the
 * library calls a loaded plugin.  Checked: results are 0 or -errno, values
 * within their documented ranges, strings terminated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vhostio/handler.h>
#include <vhostio/vhostio.h>

#include "config.h"
#include "configfs.h"
#include "discovery.h"
#include "fuzz.h"

const struct vhostio_handler *fuzz_ram_handler_entry(void);
const struct vhostio_handler *fuzz_file_handler_entry(void);

static char scratch[4096];
static char settings[4200];

static void drop_log(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void rm_scratch(void)
{
	static const char *const entries[] = { "dir/inner", "dir", "disk", "fifo", "link", "dangling", "settings.conf" };
	char path[4200];
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", scratch, entries[i]);
		remove(path);
	}
	rmdir(scratch);
}

static void make(const char *name, int kind)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	int ret = 0;
	switch (kind) {
	case 0: {
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		ret = fd < 0 ? -1 : ftruncate(fd, 1 << 20);
		if (fd >= 0)
			close(fd);
		break;
	}
	case 1:
		ret = mkdir(path, 0700);
		break;
	case 2:
		ret = mkfifo(path, 0600);
		break;
	}
	if (ret < 0) {
		perror(path);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *tmp = getenv("TMPDIR");
	snprintf(scratch, sizeof(scratch), "%s/vhostio-fuzz-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		abort();
	}
	atexit(rm_scratch);
	make("disk", 0);
	make("dir", 1);
	make("dir/inner", 0);
	make("fifo", 2);
	char path[4200];
	snprintf(path, sizeof(path), "%s/link", scratch);
	if (symlink("disk", path) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/dangling", scratch);
	if (symlink("missing", path) < 0)
		abort();
	snprintf(settings, sizeof(settings), "%s/settings.conf", scratch);
	/* The uio parser builds configfs paths under the root; never touched. */
	configfs_set_target_root(scratch);
	vhostio_set_log_fn(drop_log, NULL);
	return 0;
}

static void check_result(const char *what, int ret, char *reason)
{
	if (ret > 0)
		fuzz_fail("%s returned %d", what, ret);
	if (reason)
		(void)strlen(reason); /* terminated: ASan sees an overrun */
	free(reason);
}

static void fuzz_ram(const char *s)
{
	const struct vhostio_handler *h = fuzz_ram_handler_entry();
	char *reason = NULL;
	int r = h->check_config(s, &reason);
	check_result("ram check_config", r, reason);
	uint64_t v;
	int ret = vhostio_parse_size(s, strlen(s), &v);
	if (ret != 0 && ret != -EINVAL && ret != -ERANGE)
		fuzz_fail("vhostio_parse_size returned %d", ret);
}

static void fuzz_file(const char *s, bool raw)
{
	const struct vhostio_handler *h = fuzz_file_handler_entry();
	char *cfg;
	if (raw) {
		if (s[0] == '/')
			return; /* absolute paths only under the scratch directory */
		cfg = strdup(s);
	} else {
		/* Stay inside the scratch directory: no ".." in the path part. */
		size_t path_len = strcspn(s, ";");
		for (size_t i = 0; i + 1 < path_len; i++)
			if (s[i] == '.' && s[i + 1] == '.')
				return;
		size_t n = strlen(scratch) + strlen(s) + 2;
		cfg = malloc(n);
		if (cfg)
			snprintf(cfg, n, "%s/%s", scratch, s);
	}
	if (!cfg)
		abort();
	char *reason = NULL;
	int ret = h->check_config(cfg, &reason);
	check_result("file check_config", ret, reason);
	free(cfg);
}

static void fuzz_uio(const char *s, bool prefix)
{
	char *name = malloc(strlen(s) + sizeof(UIO_NAME_PREFIX));
	if (!name)
		abort();
	strcpy(name, prefix ? UIO_NAME_PREFIX : "");
	strcat(name, s);
	struct device_info *info = malloc(sizeof(*info));
	if (!info)
		abort();
	memset(info, 0xa5, sizeof(*info));
	int ret = parse_uio_name(name, info);
	if (ret > 0)
		fuzz_fail("parse_uio_name returned %d", ret);
	if (ret == 0) {
		if (strnlen(info->name, sizeof(info->name)) == sizeof(info->name) ||
		    strnlen(info->subtype, sizeof(info->subtype)) == sizeof(info->subtype) ||
		    strnlen(info->cfgstring, sizeof(info->cfgstring)) == sizeof(info->cfgstring) ||
		    strnlen(info->configfs_dir, sizeof(info->configfs_dir)) == sizeof(info->configfs_dir))
			fuzz_fail("parse_uio_name left a field unterminated");
		size_t sub = strlen(info->subtype);
		if (!sub || strchr(info->subtype, '/') || strncmp(info->cfgstring, info->subtype, sub) != 0 ||
		    (info->cfgstring[sub] && info->cfgstring[sub] != '/'))
			fuzz_fail("uio name '%s': subtype '%s', config '%s'", name, info->subtype, info->cfgstring);
		if (!strchr(info->name, '/') || strncmp(info->configfs_dir, scratch, strlen(scratch)) != 0)
			fuzz_fail("uio name '%s': name '%s', configfs dir '%s'", name, info->name, info->configfs_dir);
	}
	free(info);
	free(name);
}

static void fuzz_settings(const uint8_t *data, size_t size, const char *s)
{
	int level = parse_log_level(s);
	if (level < -1 || level > 3)
		fuzz_fail("parse_log_level('%s') = %d", s, level);
	int poll = parse_poll_us(s);
	if (poll < -1 || poll > (int)VHOSTIO_MAX_POLL_US)
		fuzz_fail("parse_poll_us('%s') = %d", s, poll);

	int fd = open(settings, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
	struct runner_config cfg;
	int ret = config_load(settings, &cfg);
	if (ret != 0 && ret != -EINVAL)
		fuzz_fail("config_load returned %d", ret);
	if (cfg.log_level < -1 || cfg.log_level > 3 || cfg.poll_us < -1 || cfg.poll_us > (int)VHOSTIO_MAX_POLL_US ||
	    (cfg.handler_dir && cfg.handler_dir[0] != '/'))
		fuzz_fail("config_load: log-level %d, poll-us %d, handler-dir '%s'", cfg.log_level, cfg.poll_us,
			  cfg.handler_dir ? cfg.handler_dir : "(none)");
	if (ret < 0 && (cfg.log_level != -1 || cfg.poll_us != -1 || cfg.handler_dir))
		fuzz_fail("config_load failed but left settings behind");
	config_clear(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!scratch[0])
		LLVMFuzzerInitialize(NULL, NULL);
	if (size == 0)
		return 0;
	uint8_t sel = data[0];
	/* The parsers take C strings: cut at the first NUL, as configfs would. */
	char *s = malloc(size);
	if (!s)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (sel & 3) {
	case 0:
		fuzz_ram(s);
		break;
	case 1:
		fuzz_file(s, sel & 4);
		break;
	case 2:
		fuzz_uio(s, sel & 4);
		break;
	case 3:
		fuzz_settings(data + 1, size - 1, s);
		break;
	}
	free(s);
	return 0;
}
