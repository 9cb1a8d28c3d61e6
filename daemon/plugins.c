/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Handler plugin discovery: handler_<subtype>.so in one directory. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins.h"

struct plugin_set {
	void **handles;
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

int plugins_load_dir(struct vhostio_ctx *ctx, const char *dir, struct plugin_set **setp)
{
	struct plugin_set *set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	*setp = set;

	struct dirent **entries;
	int n = scandir(dir, &entries, keep_handler_files, name_order);
	if (n < 0) {
		int err = errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot read handler directory %s: %s", dir, strerror(err));
		return -err;
	}
	set->handles = calloc((size_t)n + 1, sizeof(void *));

	int registered = set->handles ? 0 : -ENOMEM;
	for (int i = 0; i < n && set->handles; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name);
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			vhostio_log(VHOSTIO_LOG_ERROR, "cannot load %s: %s", path, dlerror());
			continue;
		}
		vhostio_handler_entry_fn entry = (vhostio_handler_entry_fn)dlsym(h, VHOSTIO_HANDLER_ENTRY_NAME);
		const struct vhostio_handler *handler = entry ? entry() : NULL;
		int ret = handler ? vhostio_ctx_add_handler(ctx, handler) : -ENOENT;
		if (ret < 0) {
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: not a usable vhostio handler (%s)", path,
				    entry ? strerror(-ret) : "no " VHOSTIO_HANDLER_ENTRY_NAME " symbol");
			dlclose(h);
			continue;
		}
		vhostio_log(VHOSTIO_LOG_DEBUG, "loaded %s", path);
		set->handles[set->count++] = h;
		registered++;
	}
	for (int i = 0; i < n; i++)
		free(entries[i]);
	free(entries);
	return registered;
}

void plugins_unload(struct plugin_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		dlclose(set->handles[i]);
	free(set->handles);
	free(set);
}
