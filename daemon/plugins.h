/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VHOSTIO_RUNNER_PLUGINS_H
#define VHOSTIO_RUNNER_PLUGINS_H

#include <vhostio/vhostio.h>

struct plugin_set;

/*
 * dlopen every handler_*.so in 'dir' and register it with ctx.  A plugin
 * that fails to load is logged and skipped.  Returns the number registered.
 */
int plugins_load_dir(struct vhostio_ctx *ctx, const char *dir, struct plugin_set **setp);
/* dlclose them; only after the ctx that uses them is freed. */
void plugins_unload(struct plugin_set *set);

#endif
