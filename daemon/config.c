/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The runner's configuration file, read at start and on SIGHUP. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <vhostio/vhostio.h>

#include "config.h"

#define GROUP "runner"

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int parse_log_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	char *end;
	long v = strtol(s, &end, 10);
	if (*s && !*end && v >= 0 && v <= 3)
		return (int)v;
	return -1;
}

const char *log_level_name(int level)
{
	return level >= 0 && level <= 3 ? level_names[level] : "?";
}

int parse_poll_us(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10); /* an overflow saturates, and is refused below */
	if (!*s || *end || v < 0 || v > (long)VHOSTIO_MAX_POLL_US)
		return -1;
	return (int)v;
}

void config_clear(struct runner_config *cfg)
{
	g_free(cfg->handler_dir);
	cfg->handler_dir = NULL;
	cfg->log_level = -1;
	cfg->poll_us = -1;
}

/* A key's value, or NULL when the key is absent; a stray error is logged. */
static char *get_string(GKeyFile *kf, const char *path, const char *key, int *ret)
{
	GError *err = NULL;
	char *v = g_key_file_get_string(kf, GROUP, key, &err);
	if (!v) {
		if (!g_error_matches(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) &&
		    !g_error_matches(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND)) {
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: [%s] %s: %s", path, GROUP, key, err->message);
			*ret = -EINVAL;
		}
		g_clear_error(&err);
		return NULL;
	}
	g_strstrip(v);
	return v;
}

int config_load(const char *path, struct runner_config *cfg)
{
	cfg->log_level = -1;
	cfg->handler_dir = NULL;
	cfg->poll_us = -1;

	GKeyFile *kf = g_key_file_new();
	GError *err = NULL;
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
		int ret = g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ENOENT : -EINVAL;
		if (ret != -ENOENT)
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: %s", path, err->message);
		g_error_free(err);
		g_key_file_free(kf);
		return ret;
	}

	int ret = 0;
	/* Unknown keys are most likely typos of known ones: say so rather than
	 * silently running on defaults. */
	char **groups = g_key_file_get_groups(kf, NULL);
	for (char **g = groups; *g; g++) {
		if (strcmp(*g, GROUP) != 0) {
			vhostio_log(VHOSTIO_LOG_WARN, "%s: unknown group [%s] ignored", path, *g);
			continue;
		}
		char **keys = g_key_file_get_keys(kf, GROUP, NULL, NULL);
		for (char **k = keys; k && *k; k++)
			if (strcmp(*k, "log-level") != 0 && strcmp(*k, "handler-dir") != 0 && strcmp(*k, "poll-us") != 0)
				vhostio_log(VHOSTIO_LOG_WARN, "%s: unknown key '%s' ignored", path, *k);
		g_strfreev(keys);
	}
	g_strfreev(groups);

	char *level = get_string(kf, path, "log-level", &ret);
	if (level) {
		cfg->log_level = parse_log_level(level);
		if (cfg->log_level < 0) {
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: bad log-level '%s' (0-3 or error/warn/info/debug)", path,
				    level);
			ret = -EINVAL;
		}
		g_free(level);
	}
	char *dir = get_string(kf, path, "handler-dir", &ret);
	if (dir) {
		if (dir[0] != '/') {
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: handler-dir '%s' is not an absolute path", path, dir);
			ret = -EINVAL;
			g_free(dir);
		} else {
			cfg->handler_dir = dir;
		}
	}
	char *poll = get_string(kf, path, "poll-us", &ret);
	if (poll) {
		cfg->poll_us = parse_poll_us(poll);
		if (cfg->poll_us < 0) {
			vhostio_log(VHOSTIO_LOG_ERROR, "%s: bad poll-us '%s' (microseconds, 0-%u)", path, poll,
				    VHOSTIO_MAX_POLL_US);
			ret = -EINVAL;
		}
		g_free(poll);
	}
	g_key_file_free(kf);
	if (ret < 0)
		config_clear(cfg);
	return ret;
}
