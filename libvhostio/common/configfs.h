/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Access to LIO's configfs tree (and small sysfs files) for every
 * subsystem: one root, which tests point at a scratch directory.
 */
#ifndef VHOSTIO_COMMON_CONFIGFS_H
#define VHOSTIO_COMMON_CONFIGFS_H

#include <stddef.h>
#include <stdint.h>

/* configfs' target/ directory: /sys/kernel/config/target unless overridden. */
const char *configfs_target_root(void);
/*
 * Point every configfs path of the library at 'root' (a scratch tree in
 * tests); NULL restores the default.  Only before any thread uses it.
 */
void configfs_set_target_root(const char *root);

/* "<root>/<fmt...>" into buf: 0, or -ENAMETOOLONG. */
int configfs_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Read a small text file, trailing newlines and blanks stripped: its length or -errno. */
int read_text_file(const char *path, char *buf, size_t len);
/* An unsigned number (decimal, 0x hex) from a small file: 0 or -errno. */
int read_u64_file(const char *path, uint64_t *out);
/*
 * Write 'value' to an attribute in one write(): 0 or -errno (a configfs
 * store that refuses the value fails the write).  The file must exist:
 * configfs attributes cannot be created.
 */
int write_text_file(const char *path, const char *value);

#endif
