/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VHOSTIO_RUNNER_PLUGINS_H
#define VHOSTIO_RUNNER_PLUGINS_H

#include <vhostio/vhostio.h>

struct plugin_set;

struct plugin_set *plugins_new(void);
/*
 * dlopen every handler_*.so in 'dir' that this set has not loaded yet (by
 * path) and register it with ctx.  The directory and each file must be
 * owned by root (or the daemon's effective uid) and not be writable by
 * group or others; one that is not is refused with a log line.  A plugin
 * that fails to load or is refused is skipped (and tried again by the
 * next call).  Returns the number newly registered, -EPERM when the
 * directory itself is refused, or -errno when it cannot be read.
 */
int plugins_load_dir(struct vhostio_ctx *ctx, const char *dir, struct plugin_set *set);
/* dlclose them; only after the ctx that uses them is freed. */
void plugins_unload(struct plugin_set *set);

#endif
