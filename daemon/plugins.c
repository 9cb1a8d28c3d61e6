/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Handler plugin discovery: handler_<subtype>.so in one directory, loaded
 * only when neither the directory nor the file can have been written by
 * anyone but root (or the daemon's own user).
 *
 * A plugin runs as the daemon, usually root, so whoever can write the
 * directory or a plugin in it owns the machine.  The checks are made on
 * open file descriptors, and the file is loaded through its descriptor
 * (/proc/self/fd/N), so what was checked is what is loaded: renaming
 * another file into place between the check and dlopen() changes nothing.
 */
#define _GNU_SOURCE /* scandirat */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugins.h"

struct plugin {
	char *path;
	void *handle;
	int fd;          /* what it was loaded through, open while it is loaded (see fd_release) */
};

struct plugin_set {
	struct plugin *items;
	size_t count;
};

static int has_handler_name(const char *name)
{
	size_t n = strlen(name);
	return strncmp(name, "handler_", 8) == 0 && n > 11 && strcmp(name + n - 3, ".so") == 0;
}

static int name_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int keep_handler_files(const struct dirent *de)
{
	return has_handler_name(de->d_name);
}

/*
 * May code be loaded from the directory or file open at fd?  0, or -EPERM
 * (or fstat's -errno) with the reason logged.
 *
 * Owner: root, or the daemon's effective uid.  For a daemon running as
 * root that is root only; one run by another user (development, the unit
 * tests) also takes that user's own files, which grants nothing: that
 * user can already change what its own processes run.  Mode: not
 * writable by group or others, whatever the group is.  Ancestors of the
 * directory are not checked: through the descriptor, swapping a directory
 * above it after the open changes nothing, and one swapped in before it
 * must pass the same checks.
 */
static int check_trusted(int fd, const char *path, bool is_dir)
{
	const char *what = is_dir ? "handler directory" : "handler";
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "%s %s: %s", what, path, strerror(err));
		return -err;
	}
	if (is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s %s refused: not a %s", what, path,
			    is_dir ? "directory" : "regular file");
		return -EPERM;
	}
	uid_t me = geteuid();
	if (st.st_uid != 0 && st.st_uid != me) {
		if (me == 0)
			vhostio_log(VHOSTIO_LOG_ERROR, "%s %s refused: owned by uid %u, not by root", what, path,
				    (unsigned)st.st_uid);
		else
			vhostio_log(VHOSTIO_LOG_ERROR, "%s %s refused: owned by uid %u, not by root or uid %u",
				    what, path, (unsigned)st.st_uid, (unsigned)me);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s %s refused: writable by %s (mode %04o); only its owner may write it",
			    what, path, st.st_mode & S_IWGRP ? (st.st_mode & S_IWOTH ? "group and others" : "group")
							     : "others",
			    (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static void fd_name(int fd, char name[static 32])
{
	snprintf(name, 32, "/proc/self/fd/%d", fd);
}

/*
 * dlopen() the checked file open at fd: through /proc/self/fd/N, the very
 * file; without /proc, by path after making sure that the path still
 * names that file (a narrow race is left there).  NULL and a log line if
 * it cannot be loaded.
 */
static void *dlopen_fd(int fd, const char *path)
{
	char name[32];
	fd_name(fd, name);
	void *h = NULL;
	if (access(name, F_OK) == 0) {
		h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	} else {
		struct stat by_fd, by_path;
		if (fstat(fd, &by_fd) < 0 || stat(path, &by_path) < 0 || by_fd.st_dev != by_path.st_dev ||
		    by_fd.st_ino != by_path.st_ino) {
			vhostio_log(VHOSTIO_LOG_ERROR, "%s changed while being loaded; not loading it", path);
			return NULL;
		}
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	if (!h)
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot load %s: %s", path, dlerror());
	return h;
}

/*
 * Close the descriptor of a plugin that is not, or no longer, loaded by
 * this set.  The dynamic linker finds an object by the name it was
 * opened under before it looks at any file, so as long as an object
 * loaded as /proc/self/fd/N stays mapped (the same file loaded under
 * another name too, or a plugin linked -z nodelete), N must not come to
 * name another file: then the descriptor is kept open, for good.
 */
static void fd_release(int fd)
{
	char name[32];
	fd_name(fd, name);
	void *still = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
	if (still) {
		dlclose(still);
		return;
	}
	close(fd);
}

struct plugin_set *plugins_new(void)
{
	return calloc(1, sizeof(struct plugin_set));
}

static int loaded(const struct plugin_set *set, const char *path)
{
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(set->items[i].path, path) == 0)
			return 1;
	return 0;
}

/*
 * Load and register 'name' of the directory open at dfd ('path' for the
 * logs and the set): 1 registered, 0 skipped (logged).  A symbolic link is
 * followed (only the directory's owner can have made it) and the file it
 * leads to is checked like any other.
 */
static int load_one(struct vhostio_ctx *ctx, int dfd, const char *name, const char *path, struct plugin_set *set)
{
	struct plugin *grown = realloc(set->items, (set->count + 1) * sizeof(*grown));
	char *copy = strdup(path);
	if (grown)
		set->items = grown;
	if (!grown || !copy) {
		free(copy);
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot load %s: %s", path, strerror(ENOMEM));
		return 0;
	}
	/* O_NONBLOCK: a FIFO by that name must not hang the daemon before it is refused. */
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot load %s: %s", path, strerror(errno));
		free(copy);
		return 0;
	}
	void *h = check_trusted(fd, path, false) == 0 ? dlopen_fd(fd, path) : NULL;
	if (!h) {
		close(fd);
		free(copy);
		return 0;
	}
	/* POSIX lets dlsym's object pointer hold a function; ISO C casts may not convert it. */
	void *sym = dlsym(h, VHOSTIO_HANDLER_ENTRY_NAME);
	vhostio_handler_entry_fn entry;
	memcpy(&entry, &sym, sizeof(entry));
	const struct vhostio_handler *handler = entry ? entry() : NULL;
	int ret = handler ? vhostio_ctx_add_handler(ctx, handler) : -ENOENT;
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: not a usable vhostio handler (%s)", path,
			    entry ? strerror(-ret) : "no " VHOSTIO_HANDLER_ENTRY_NAME " symbol");
		dlclose(h);
		fd_release(fd);
		free(copy);
		return 0;
	}
	vhostio_log(VHOSTIO_LOG_DEBUG, "loaded %s", path);
	set->items[set->count++] = (struct plugin){ .path = copy, .handle = h, .fd = fd };
	return 1;
}

int plugins_load_dir(struct vhostio_ctx *ctx, const char *dir, struct plugin_set *set)
{
	/* The directory's own path may be a symbolic link (e.g. lib -> lib64): what is checked is the
	 * directory reached, and every later lookup is relative to it. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		int err = errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot read handler directory %s: %s", dir, strerror(err));
		return -err;
	}
	int ret = check_trusted(dfd, dir, true);
	if (ret < 0) {
		close(dfd);
		return ret;
	}
	struct dirent **entries;
	int n = scandirat(dfd, ".", &entries, keep_handler_files, name_order);
	if (n < 0) {
		int err = errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot read handler directory %s: %s", dir, strerror(err));
		close(dfd);
		return -err;
	}
	int registered = 0;
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name);
		if (!loaded(set, path))
			registered += load_one(ctx, dfd, entries[i]->d_name, path, set);
		free(entries[i]);
	}
	free(entries);
	close(dfd);
	return registered;
}

void plugins_unload(struct plugin_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++) {
		dlclose(set->items[i].handle);
		fd_release(set->items[i].fd);
		free(set->items[i].path);
	}
	free(set->items);
	free(set);
}
