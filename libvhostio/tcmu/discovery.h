/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding TCMU devices and their attributes: uio sysfs and LIO configfs. */
#ifndef VHOSTIO_DISCOVERY_H
#define VHOSTIO_DISCOVERY_H

#include <stddef.h>

#include "device.h"

#define UIO_NAME_PREFIX "tcm-user/"


/*
 * Split a uio name "tcm-user/<hba>/<dev>/<subtype>/<config>" into 'info'
 * (name, subtype, cfgstring, configfs_dir under configfs_target_root()).
 * -EINVAL if it is not one.
 */
int parse_uio_name(const char *uio_name, struct device_info *info);

/* Geometry, cache mode and serial from configfs; defaults where absent. */
int read_configfs_attributes(const struct device_info *info, struct device_attributes *attrs);

/*
 * The LUN's unit serial from wwn/vpd_unit_serial: at attach, and when the
 * watch on wwn/ reports a write to it (management tools such as rtslib set
 * it after the device is enabled).  Returns its length, 0 when unset.
 */
int read_configfs_serial(const struct device_info *info, char *serial, size_t len);

/* The uio device's name and map0 size from /sys/class/uio/uio<minor>. */
int read_uio_info(unsigned minor, char *name, size_t name_len, size_t *map_size);

/* Write a configfs attribute of the device (e.g. "action/block_dev"). */
int write_configfs_attribute(const struct device_info *info, const char *attr, const char *value);

#endif
