/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VHOSTIO_RUNNER_CONFIG_H
#define VHOSTIO_RUNNER_CONFIG_H

#include <stdbool.h>

/*
 * The runner's configuration file (GKeyFile syntax):
 *
 *   [runner]
 *   log-level = info          # 0-3 or error, warn, info, debug
 *   handler-dir = /usr/lib/vhostio
 *   poll-us = 0               # busy-poll window after each batch, microseconds
 *
 * A key that is absent keeps its built-in default (or the command line's).
 */
struct runner_config {
	int log_level;     /* -1: not set */
	char *handler_dir; /* NULL: not set */
	int poll_us;       /* -1: not set */
};

/* 0..VHOSTIO_MAX_POLL_US for a valid poll-us value, -1 otherwise. */
int parse_poll_us(const char *s);

/* 0-3 for a level number or name, -1 for anything else. */
int parse_log_level(const char *s);
const char *log_level_name(int level);

/*
 * Read 'path' into *cfg (zeroed first; free with config_clear()).  A file
 * that does not exist is -ENOENT, which a caller reading the default path
 * treats as "no settings".  Bad syntax or a bad value: -EINVAL, logged.
 */
int config_load(const char *path, struct runner_config *cfg);
void config_clear(struct runner_config *cfg);

#endif
