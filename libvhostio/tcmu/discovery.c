/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "configfs.h"
#include "discovery.h"
#include "log.h"

int parse_uio_name(const char *uio_name, struct device_info *info)
{
	if (strncmp(uio_name, UIO_NAME_PREFIX, strlen(UIO_NAME_PREFIX)) != 0)
		return -EINVAL;
	const char *hba = uio_name + strlen(UIO_NAME_PREFIX);
	const char *dev = strchr(hba, '/');
	if (!dev)
		return -EINVAL;
	dev++;
	const char *cfg = strchr(dev, '/');
	if (!cfg || cfg == dev || dev - hba < 2)
		return -EINVAL;
	cfg++;
	const char *cfg_slash = strchr(cfg, '/');
	size_t subtype_len = cfg_slash ? (size_t)(cfg_slash - cfg) : strlen(cfg);
	if (subtype_len == 0 || subtype_len >= sizeof(info->subtype))
		return -EINVAL;

	int n = snprintf(info->name, sizeof(info->name), "%.*s/%.*s",
			 (int)(dev - 1 - hba), hba, (int)(cfg - 1 - dev), dev);
	if (n < 0 || (size_t)n >= sizeof(info->name))
		return -ENAMETOOLONG;
	if (strlen(cfg) >= sizeof(info->cfgstring))
		return -ENAMETOOLONG;
	strcpy(info->cfgstring, cfg);
	memcpy(info->subtype, cfg, subtype_len);
	info->subtype[subtype_len] = '\0';
	return configfs_path(info->configfs_dir, sizeof(info->configfs_dir), "core/user_%.*s/%.*s",
			     (int)(dev - 1 - hba), hba, (int)(cfg - 1 - dev), dev);
}

static int attr_path(const struct device_info *info, const char *attr, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s", info->configfs_dir, attr);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int read_configfs_attributes(const struct device_info *info, struct device_attributes *attrs)
{
	char path[PATH_MAX + 64];
	uint64_t v;

	memset(attrs, 0, sizeof(*attrs));

	attrs->block_size = 512;
	attrs->max_sectors = 128;
	if (attr_path(info, "attrib/hw_block_size", path, sizeof(path)) == 0 &&
	    read_u64_file(path, &v) == 0 && v >= 512 && v <= 65536 && !(v & (v - 1)))
		attrs->block_size = (uint32_t)v;
	if (attr_path(info, "attrib/hw_max_sectors", path, sizeof(path)) == 0 &&
	    read_u64_file(path, &v) == 0 && v > 0 && v <= UINT32_MAX)
		attrs->max_sectors = (uint32_t)v;
	if (attr_path(info, "attrib/cmd_time_out", path, sizeof(path)) == 0 &&
	    read_u64_file(path, &v) == 0 && v <= UINT32_MAX)
		attrs->cmd_time_out = (uint32_t)v;
	if (attr_path(info, "attrib/emulate_write_cache", path, sizeof(path)) == 0 &&
	    read_u64_file(path, &v) == 0)
		attrs->write_cache = v != 0;

	int ret = attr_path(info, "attrib/dev_size", path, sizeof(path));
	if (ret == 0)
		ret = read_u64_file(path, &v);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: cannot read dev_size: %s", info->name, strerror(-ret));
		return ret;
	}
	if (v < attrs->block_size) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s: dev_size %" PRIu64 " is smaller than one %u-byte block",
			    info->name, v, attrs->block_size);
		return -EINVAL;
	}
	attrs->num_lbas = v / attrs->block_size;

	attrs->serial[0] = '\0';
	read_configfs_serial(info, attrs->serial, sizeof(attrs->serial));
	return 0;
}

int read_configfs_serial(const struct device_info *info, char *serial, size_t len)
{
	char path[PATH_MAX + 64], buf[512];
	int ret = attr_path(info, "wwn/vpd_unit_serial", path, sizeof(path));
	if (ret == 0)
		ret = read_text_file(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	/* "T10 VPD Unit Serial Number: <serial>": the serial may hold ':' itself. */
	static const char prefix[] = "T10 VPD Unit Serial Number:";
	const char *colon = strchr(buf, ':');
	const char *p = strncmp(buf, prefix, sizeof(prefix) - 1) == 0 ? buf + sizeof(prefix) - 1
			: colon ? colon + 1 : buf;
	while (*p == ' ')
		p++;
	snprintf(serial, len, "%s", p);
	return (int)strlen(serial);
}

int write_configfs_attribute(const struct device_info *info, const char *attr, const char *value)
{
	char path[PATH_MAX + 64];
	int ret = attr_path(info, attr, path, sizeof(path));
	return ret < 0 ? ret : write_text_file(path, value);
}

int read_uio_info(unsigned minor, char *name, size_t name_len, size_t *map_size)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/uio/uio%u/name", minor);
	int ret = read_text_file(path, name, name_len);
	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "/sys/class/uio/uio%u/maps/map0/size", minor);
	uint64_t size;
	ret = read_u64_file(path, &size);
	if (ret < 0)
		return ret;
	if (size == 0 || size > SIZE_MAX)
		return -EINVAL;
	*map_size = (size_t)size;
	return 0;
}
