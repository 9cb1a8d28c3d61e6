/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vhost fabric's configfs tree:
 *   target/vhost/<wwpn>/tpgt_<n>/nexus        initiator name, "NULL" drops it
 *   target/vhost/<wwpn>/tpgt_<n>/lun/lun_<m>/ symlink to target/core/<hba>/<dev>
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vhostio/vhost_fabric.h>

#include "configfs.h"
#include "log.h"

/* The kernel accepts naa., fc. and iqn. names; refuse anything that could
 * walk out of the tree. */
static int check_wwn(const char *wwn)
{
	if (!wwn || !*wwn || strlen(wwn) >= 224 || strchr(wwn, '/') || !strcmp(wwn, ".") ||
	    !strcmp(wwn, ".."))
		return -EINVAL;
	if (strncmp(wwn, "naa.", 4) && strncmp(wwn, "fc.", 3) && strncmp(wwn, "iqn.", 4))
		return -EINVAL;
	return 0;
}

static int tpg_path(char *buf, size_t len, const char *wwpn, uint16_t tpgt, const char *tail)
{
	int n = snprintf(buf, len, "%s/vhost/%s/tpgt_%u%s%s", configfs_target_root(), wwpn, tpgt, tail ? "/" : "",
			 tail ? tail : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int mkdir_ok(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST) {
		int err = errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "vhost fabric: mkdir %s: %s", path, strerror(err));
		return -err;
	}
	return 0;
}

static int rmdir_logged(const char *path)
{
	if (rmdir(path)) {
		int err = errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "vhost fabric: rmdir %s: %s", path, strerror(err));
		return -err;
	}
	return 0;
}

static int write_attr(const char *path, const char *val)
{
	int ret = write_text_file(path, val);
	if (ret < 0)
		vhostio_log(VHOSTIO_LOG_ERROR, "vhost fabric: write '%s' to %s: %s", val, path, strerror(-ret));
	return ret;
}

/* The attribute's first line, "" when empty or unreadable. */
static void read_attr(const char *path, char *buf, size_t len)
{
	if (read_text_file(path, buf, len) < 0)
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

int vhostio_vhost_target_create(const char *wwpn, uint16_t tpgt, const char *nexus_wwn)
{
	char path[PATH_MAX];
	int ret;
	if (!nexus_wwn)
		nexus_wwn = wwpn;
	if ((ret = check_wwn(wwpn)) || (ret = check_wwn(nexus_wwn)))
		return ret;
	/* The first mkdir under target/vhost makes LIO look up the fabric. */
	snprintf(path, sizeof(path), "%s/vhost", configfs_target_root());
	if ((ret = mkdir_ok(path)))
		return ret;
	snprintf(path, sizeof(path), "%s/vhost/%s", configfs_target_root(), wwpn);
	if ((ret = mkdir_ok(path)))
		return ret;
	if ((ret = tpg_path(path, sizeof(path), wwpn, tpgt, NULL)) || (ret = mkdir_ok(path)))
		return ret;
	if ((ret = tpg_path(path, sizeof(path), wwpn, tpgt, "nexus")))
		return ret;
	char cur[256];
	read_attr(path, cur, sizeof(cur));
	if (cur[0] && strcmp(cur, "NULL")) /* the kernel reports no nexus as empty */
		return strcmp(cur, nexus_wwn) ? -EEXIST : 0;
	return write_attr(path, nexus_wwn);
}

int vhostio_vhost_lun_add(const char *wwpn, uint16_t tpgt, uint16_t lun, const char *backstore)
{
	char dir[PATH_MAX], link[PATH_MAX + 64], target[PATH_MAX];
	int ret;
	if ((ret = check_wwn(wwpn)))
		return ret;
	if (!backstore || !*backstore || backstore[0] == '/' || strstr(backstore, "..") || lun > 0x3fff)
		return -EINVAL;
	const char *name = strrchr(backstore, '/');
	if (!name || name == backstore || !name[1])
		return -EINVAL; /* "<hba>/<device>" */
	name++;
	char sub[32];
	snprintf(sub, sizeof(sub), "lun/lun_%u", lun);
	if ((ret = tpg_path(dir, sizeof(dir), wwpn, tpgt, sub)))
		return ret;
	if (snprintf(target, sizeof(target), "%s/core/%s", configfs_target_root(), backstore) >= (int)sizeof(target))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755)) {
		ret = -errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "vhost fabric: mkdir %s: %s", dir, strerror(-ret));
		return ret;
	}
	snprintf(link, sizeof(link), "%s/%s", dir, name);
	/* Linking is what exports the LUN (and hotplugs it to an attached
	 * initiator). */
	if (symlink(target, link)) {
		ret = -errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "vhost fabric: link %s -> %s: %s", link, target, strerror(-ret));
		rmdir(dir);
		return ret;
	}
	return 0;
}

static int lun_dir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		int err = errno;
		if (err != ENOENT)
			vhostio_log(VHOSTIO_LOG_ERROR, "vhost fabric: open %s: %s", dir, strerror(err));
		return -err;
	}
	int ret = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[PATH_MAX + 256];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && unlink(p)) {
			ret = -errno;
			vhostio_log(VHOSTIO_LOG_ERROR, "vhost fabric: unlink %s: %s", p, strerror(-ret));
		}
	}
	closedir(d);
	if (ret)
		return ret;
	return rmdir_logged(dir);
}

int vhostio_vhost_lun_remove(const char *wwpn, uint16_t tpgt, uint16_t lun)
{
	char dir[PATH_MAX], sub[32];
	int ret;
	if ((ret = check_wwn(wwpn)))
		return ret;
	snprintf(sub, sizeof(sub), "lun/lun_%u", lun);
	if ((ret = tpg_path(dir, sizeof(dir), wwpn, tpgt, sub)))
		return ret;
	return lun_dir_remove(dir);
}

int vhostio_vhost_target_remove(const char *wwpn, uint16_t tpgt)
{
	char path[PATH_MAX];
	int ret;
	if ((ret = check_wwn(wwpn)))
		return ret;
	if ((ret = tpg_path(path, sizeof(path), wwpn, tpgt, "lun")))
		return ret;
	DIR *d = opendir(path);
	if (!d) {
		ret = -errno;
		return ret == -ENOENT ? -ENOENT : ret;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "lun_", 4))
			continue;
		char p[PATH_MAX + 256];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		int r = lun_dir_remove(p);
		if (r && !ret)
			ret = r;
	}
	closedir(d);
	if (ret)
		return ret;

	if ((ret = tpg_path(path, sizeof(path), wwpn, tpgt, "nexus")))
		return ret;
	char cur[256];
	read_attr(path, cur, sizeof(cur));
	if (cur[0] && strcmp(cur, "NULL") && (ret = write_attr(path, "NULL")))
		return ret;
	if ((ret = tpg_path(path, sizeof(path), wwpn, tpgt, NULL)))
		return ret;
	if ((ret = rmdir_logged(path)))
		return ret;
	/* The WWN goes when its last TPG does; another TPG keeps it. */
	snprintf(path, sizeof(path), "%s/vhost/%s", configfs_target_root(), wwpn);
	if (rmdir(path) && errno != ENOTEMPTY && errno != EBUSY) {
		ret = -errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "vhost fabric: rmdir %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}
