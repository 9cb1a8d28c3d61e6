/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Management calls that act on a backstore through configfs (change medium). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "configfs.h"
#include "ctx.h"
#include "log.h"

/* configfs .../core/user_<N>/<name> of a user backstore, by name. */
static int find_user_backstore(const char *name, char *dir, size_t len)
{
	if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	char core[PATH_MAX];
	int ret = configfs_path(core, sizeof(core), "core");
	if (ret < 0)
		return ret;
	DIR *d = opendir(core);
	if (!d)
		return -ENOENT;
	ret = -ENOENT;
	struct dirent *de;
	while ((de = readdir(d)) && ret == -ENOENT) {
		if (strncmp(de->d_name, "user_", 5) != 0)
			continue;
		int n = snprintf(dir, len, "%s/%s/%s", core, de->d_name, name);
		if (n > 0 && (size_t)n < len && access(dir, F_OK) == 0)
			ret = 0;
	}
	closedir(d);
	return ret;
}

static int write_attrib(const char *dir, const char *attr, const char *value)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/attrib/%s", dir, attr);
	/* The kernel answers only after the runner serving the device has. */
	return write_text_file(path, value);
}

int vhostio_ctx_change_medium(struct vhostio_ctx *ctx, const char *name, uint64_t size, const char *cfgstring,
			      char **reason)
{
	char dir[PATH_MAX];
	char current[4096];
	int ret;

	if (reason)
		*reason = NULL;
	ret = find_user_backstore(name, dir, sizeof(dir));
	if (ret < 0) {
		vhostio_set_reason(reason, "no user backstore named '%s'", name);
		return ret;
	}
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/attrib/dev_config", dir);
	ret = read_text_file(path, current, sizeof(current));
	if (ret < 0) {
		vhostio_set_reason(reason, "cannot read the config of '%s': %s", name, strerror(-ret));
		return ret;
	}
	bool new_config = cfgstring && cfgstring[0] && strcmp(cfgstring, current) != 0;
	if (new_config) {
		const char *cur_slash = strchr(current, '/');
		size_t sub_len = cur_slash ? (size_t)(cur_slash - current) : strlen(current);
		if (strncmp(cfgstring, current, sub_len) != 0 || cfgstring[sub_len] != '/') {
			vhostio_set_reason(reason, "'%s' names another handler than '%s'; a backstore keeps its subtype",
				   cfgstring, current);
			return -EINVAL;
		}
		/* External subtypes are checked by their own process on RECONFIG. */
		const struct vhostio_handler *h;
		ret = ctx_check_cfgstring(ctx, cfgstring, &h, reason);
		if (ret < 0 && h)
			return ret;
		if (reason) {
			free(*reason);
			*reason = NULL;
		}
	}

	uint64_t old_size = 0;
	snprintf(path, sizeof(path), "%s/attrib/dev_size", dir);
	char size_text[32];
	if (read_text_file(path, size_text, sizeof(size_text)) > 0)
		old_size = strtoull(size_text, NULL, 0);
	snprintf(size_text, sizeof(size_text), "%" PRIu64, size);
	bool new_size = size && size != old_size;

	/*
	 * Two RECONFIGs, ordered so that neither medium is grown beyond what
	 * it ends up with: growing, the new medium comes first (opened at the
	 * old size, then grown); shrinking, the size first (on the old one).
	 */
	bool size_first = new_size && size < old_size;
	if (size_first && (ret = write_attrib(dir, "dev_size", size_text)) < 0) {
		vhostio_set_reason(reason, "the new size was refused: %s (see the runner's log)", strerror(-ret));
		return ret;
	}
	if (new_config && (ret = write_attrib(dir, "dev_config", cfgstring)) < 0) {
		vhostio_set_reason(reason, "the new config was refused: %s (see the runner's log)", strerror(-ret));
		return ret;
	}
	if (new_size && !size_first && (ret = write_attrib(dir, "dev_size", size_text)) < 0) {
		vhostio_set_reason(reason, "the new size was refused: %s (see the runner's log)", strerror(-ret));
		return ret;
	}
	vhostio_log(VHOSTIO_LOG_INFO, "%s: medium changed (%s, %s bytes)", name, new_config ? cfgstring : current,
		    new_size ? size_text : "same size");
	return 0;
}
