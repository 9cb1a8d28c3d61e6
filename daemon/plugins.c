/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Handler plugin discovery: handler_<subtype>.so in one directory. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins.h"

struct plugin {
	char *path;
	void *handle;
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

/* Load and register one file: 1 registered, 0 skipped (logged). */
static int load_one(struct vhostio_ctx *ctx, const char *path, struct plugin_set *set)
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
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot load %s: %s", path, dlerror());
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
		free(copy);
		return 0;
	}
	vhostio_log(VHOSTIO_LOG_DEBUG, "loaded %s", path);
	set->items[set->count++] = (struct plugin){ .path = copy, .handle = h };
	return 1;
}

int plugins_load_dir(struct vhostio_ctx *ctx, const char *dir, struct plugin_set *set)
{
	struct dirent **entries;
	int n = scandir(dir, &entries, keep_handler_files, name_order);
	if (n < 0) {
		int err = errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot read handler directory %s: %s", dir, strerror(err));
		return -err;
	}
	int registered = 0;
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name);
		if (!loaded(set, path))
			registered += load_one(ctx, path, set);
		free(entries[i]);
	}
	free(entries);
	return registered;
}

void plugins_unload(struct plugin_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++) {
		dlclose(set->items[i].handle);
		free(set->items[i].path);
	}
	free(set->items);
	free(set);
}
