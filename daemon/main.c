/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhostio-runner: serves LIO user backstores (target_core_user) with
 * handler plugins, and the org.kernel.TCMUService1 D-Bus service that
 * targetcli uses.  A drop-in for tcmu-runner.
 *
 * One GMainLoop on the main thread carries netlink, D-Bus and signals.
 * libvhostio opens and closes devices on per-device worker threads, so
 * dispatching netlink never waits for a handler.  SIGPIPE is ignored.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <glib.h>
#include <vhostio/vhostio.h>

#include "config.h"
#include "dbus.h"
#include "plugins.h"

#ifndef VHOSTIO_DEFAULT_HANDLER_DIR
#define VHOSTIO_DEFAULT_HANDLER_DIR "/usr/lib/vhostio"
#endif
#ifndef VHOSTIO_DEFAULT_CONFIG
#define VHOSTIO_DEFAULT_CONFIG "/etc/vhostio/vhostio.conf"
#endif
#define DEFAULT_LOG_LEVEL VHOSTIO_LOG_INFO

struct runner {
	GMainLoop *loop;
	struct vhostio_ctx *ctx;
	struct plugin_set *plugins;
	struct dbus_service *dbus;
	const char *config_path;
	bool config_explicit;
	int cli_log_level;         /* -1: not given */
	const char *cli_handler_dir; /* NULL: not given */
	int cli_poll_us;           /* -1: not given */
	int poll_us;               /* in effect */
	int log_level;             /* in effect */
	char *handler_dir;         /* in effect */
	int exit_code;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vhostio-runner [OPTIONS]\n"
		"Serve LIO user backstores (target_core_user) with vhostio handler plugins.\n\n"
		"  -H, --handler-dir DIR  load handler_*.so from DIR (default %s)\n"
		"  -l, --log-level N      0 error, 1 warn, 2 info (default), 3 debug;\n"
		"                         or the names error, warn, info, debug\n"
		"  -c, --config FILE      settings file (default %s; options win)\n"
		"      --poll-us N        after each batch, spin up to N microseconds for\n"
		"                         the next command before sleeping (default 0)\n"
		"      --no-dbus          do not offer org.kernel.TCMUService1 on D-Bus\n"
		"      --bus system|session  the bus for it (default system)\n"
		"  -V, --version          print the version and exit\n"
		"  -h, --help             this text\n",
		VHOSTIO_DEFAULT_HANDLER_DIR, VHOSTIO_DEFAULT_CONFIG);
}

/*
 * Read the settings file and work out what is in effect: an option beats
 * the file, the file beats the built-in default.  0, or -errno when the
 * file is bad (or missing although named with --config).
 */
static int read_settings(const struct runner *r, int *level, char **dir, int *poll_us)
{
	struct runner_config cfg;
	int ret = config_load(r->config_path, &cfg);
	if (ret == -ENOENT && !r->config_explicit) {
		ret = 0;
	} else if (ret == -ENOENT) {
		vhostio_log(VHOSTIO_LOG_ERROR, "configuration file %s: %s", r->config_path, strerror(ENOENT));
	}
	if (ret < 0)
		return ret;
	*level = r->cli_log_level >= 0 ? r->cli_log_level
		 : cfg.log_level >= 0  ? cfg.log_level
				       : DEFAULT_LOG_LEVEL;
	*dir = g_strdup(r->cli_handler_dir	? r->cli_handler_dir
			: cfg.handler_dir ? cfg.handler_dir
					  : VHOSTIO_DEFAULT_HANDLER_DIR);
	*poll_us = r->cli_poll_us >= 0 ? r->cli_poll_us : cfg.poll_us >= 0 ? cfg.poll_us : 0;
	if (cfg.log_level >= 0 && r->cli_log_level >= 0 && cfg.log_level != r->cli_log_level)
		vhostio_log(VHOSTIO_LOG_DEBUG, "--log-level overrides log-level in %s", r->config_path);
	if (cfg.handler_dir && r->cli_handler_dir && strcmp(cfg.handler_dir, r->cli_handler_dir) != 0)
		vhostio_log(VHOSTIO_LOG_DEBUG, "--handler-dir overrides handler-dir in %s", r->config_path);
	config_clear(&cfg);
	return 0;
}

/* Load what is new in the handler directory; export it on D-Bus. */
static int load_handlers(struct runner *r)
{
	int n = plugins_load_dir(r->ctx, r->handler_dir, r->plugins);
	if (n > 0 && r->dbus)
		dbus_service_sync_handlers(r->dbus);
	return n;
}

/*
 * SIGHUP: re-read the file, apply a new log level and handler directory,
 * and load handlers that appeared.  Handlers already loaded stay (devices
 * may be using them) until the daemon restarts.
 */
static gboolean on_sighup(gpointer data)
{
	struct runner *r = data;
	int level, poll_us;
	char *dir;
	vhostio_log(VHOSTIO_LOG_INFO, "SIGHUP: re-reading %s", r->config_path);
	if (read_settings(r, &level, &dir, &poll_us) < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "SIGHUP: keeping the current settings");
		return G_SOURCE_CONTINUE;
	}
	/* Say what changed at a level both the old and the new setting show. */
	vhostio_set_log_level(MAX(level, r->log_level));
	bool changed = false;
	if (level != r->log_level) {
		vhostio_log(VHOSTIO_LOG_INFO, "SIGHUP: log level %s -> %s", log_level_name(r->log_level),
			    log_level_name(level));
		changed = true;
	}
	if (strcmp(dir, r->handler_dir) != 0) {
		vhostio_log(VHOSTIO_LOG_INFO, "SIGHUP: handler directory %s -> %s", r->handler_dir, dir);
		changed = true;
	}
	if (poll_us != r->poll_us) {
		vhostio_log(VHOSTIO_LOG_INFO, "SIGHUP: poll window %d -> %d us", r->poll_us, poll_us);
		vhostio_ctx_set_poll_us(r->ctx, (unsigned)poll_us);
		r->poll_us = poll_us;
		changed = true;
	}
	if (!changed)
		vhostio_log(VHOSTIO_LOG_INFO, "SIGHUP: settings unchanged");
	vhostio_set_log_level(level);
	r->log_level = level;
	g_free(r->handler_dir);
	r->handler_dir = dir;

	int n = load_handlers(r);
	if (n > 0)
		vhostio_log(VHOSTIO_LOG_INFO, "SIGHUP: %d new handler(s) from %s", n, r->handler_dir);
	return G_SOURCE_CONTINUE;
}

static gboolean on_stop_signal(gpointer data)
{
	struct runner *r = data;
	vhostio_log(VHOSTIO_LOG_INFO, "signal: finishing in-flight commands and exiting");
	g_main_loop_quit(r->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean on_netlink(gint fd, GIOCondition cond, gpointer data)
{
	(void)fd;
	struct runner *r = data;
	if (cond & (G_IO_IN | G_IO_ERR)) {
		/* A failed receive (e.g. ENOBUFS after an overrun) loses at most
		 * those messages and clears the error; keep serving. */
		vhostio_ctx_dispatch(r->ctx);
		return G_SOURCE_CONTINUE;
	}
	vhostio_log(VHOSTIO_LOG_ERROR, "netlink socket closed; exiting");
	r->exit_code = 1;
	g_main_loop_quit(r->loop);
	return G_SOURCE_REMOVE;
}

static void on_dbus_lost(void *opaque)
{
	struct runner *r = opaque;
	r->exit_code = 1;
	g_main_loop_quit(r->loop);
}

/*
 * A write to a pipe or socket whose reader is gone (stderr piped into a
 * pager or log collector that quit, a D-Bus peer that went away while a
 * reply was being sent, a handler's socket) must fail with EPIPE where it
 * is handled, not kill the daemon and every device it serves.  Before
 * anything is written, and before any thread starts, so all inherit it.
 */
static void ignore_sigpipe(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

enum { OPT_NO_DBUS = 256, OPT_BUS, OPT_POLL_US };

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "handler-dir", required_argument, NULL, 'H' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "no-dbus", no_argument, NULL, OPT_NO_DBUS },
		{ "bus", required_argument, NULL, OPT_BUS },
		{ "poll-us", required_argument, NULL, OPT_POLL_US },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct runner r = {
		.config_path = VHOSTIO_DEFAULT_CONFIG,
		.cli_log_level = -1,
		.cli_poll_us = -1,
	};
	bool use_dbus = true;
	GBusType bus = G_BUS_TYPE_SYSTEM;
	int opt;

	ignore_sigpipe();
	while ((opt = getopt_long(argc, argv, "H:l:c:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'H':
			r.cli_handler_dir = optarg;
			break;
		case 'l':
			r.cli_log_level = parse_log_level(optarg);
			if (r.cli_log_level < 0) {
				fprintf(stderr, "vhostio-runner: bad log level '%s' (0-3 or error/warn/info/debug)\n", optarg);
				return 2;
			}
			break;
		case 'c':
			r.config_path = optarg;
			r.config_explicit = true;
			break;
		case OPT_POLL_US:
			r.cli_poll_us = parse_poll_us(optarg);
			if (r.cli_poll_us < 0) {
				fprintf(stderr, "vhostio-runner: bad --poll-us '%s' (microseconds, 0-%u)\n", optarg,
					VHOSTIO_MAX_POLL_US);
				return 2;
			}
			break;
		case OPT_NO_DBUS:
			use_dbus = false;
			break;
		case OPT_BUS:
			if (strcmp(optarg, "system") == 0) {
				bus = G_BUS_TYPE_SYSTEM;
			} else if (strcmp(optarg, "session") == 0) {
				bus = G_BUS_TYPE_SESSION;
			} else {
				fprintf(stderr, "vhostio-runner: bad bus '%s' (system or session)\n", optarg);
				return 2;
			}
			break;
		case 'V':
			printf("vhostio-runner %s\n", vhostio_version());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vhostio-runner: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* The command line's level applies to messages about the file too. */
	if (r.cli_log_level >= 0)
		vhostio_set_log_level(r.cli_log_level);
	if (read_settings(&r, &r.log_level, &r.handler_dir, &r.poll_us) < 0)
		return 1;
	vhostio_set_log_level(r.log_level);

	/* Signal sources first: a SIGTERM while devices are being taken over
	 * must wait for the loop and stop in order, not kill the daemon with
	 * the kernel still waiting for its answers. */
	r.loop = g_main_loop_new(NULL, FALSE);
	guint sources[4] = { 0 };
	sources[1] = g_unix_signal_add(SIGTERM, on_stop_signal, &r);
	sources[2] = g_unix_signal_add(SIGINT, on_stop_signal, &r);
	sources[3] = g_unix_signal_add(SIGHUP, on_sighup, &r);

	r.exit_code = 1;
	int ret = vhostio_ctx_new(&r.ctx);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s", strerror(-ret));
		goto out;
	}
	vhostio_ctx_set_poll_us(r.ctx, (unsigned)r.poll_us);
	if (r.poll_us)
		vhostio_log(VHOSTIO_LOG_INFO, "busy-poll window %d us after each batch", r.poll_us);
	r.plugins = plugins_new();
	if (!r.plugins)
		goto out;
	if (load_handlers(&r) <= 0) {
		/* A runner that can serve nothing is a failed start. */
		vhostio_log(VHOSTIO_LOG_ERROR, "no handler could be loaded from %s", r.handler_dir);
		goto out;
	}
	if (use_dbus && dbus_name_taken(bus) == 1) {
		vhostio_log(VHOSTIO_LOG_ERROR, "D-Bus: %s is owned by another process (vhostio-runner or "
			    "tcmu-runner?); not touching its devices", TCMU_BUS_NAME);
		goto out;
	}
	ret = vhostio_ctx_start(r.ctx);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot start: %s", strerror(-ret));
		goto out;
	}
	r.exit_code = 0;
	sources[0] = g_unix_fd_add(vhostio_ctx_fd(r.ctx), G_IO_IN | G_IO_ERR | G_IO_HUP | G_IO_NVAL, on_netlink, &r);
	/* Only now: D-Bus activation waits for the name, and the name means
	 * ready to serve. */
	if (use_dbus)
		r.dbus = dbus_service_start(r.ctx, bus, on_dbus_lost, &r);
	vhostio_log(VHOSTIO_LOG_INFO, "vhostio-runner %s ready, %d device(s)%s", vhostio_version(),
		    vhostio_ctx_device_count(r.ctx), use_dbus ? "" : ", without D-Bus");

	g_main_loop_run(r.loop);

	/* Before the ctx goes: D-Bus calls in flight may be using it. */
	dbus_service_stop(r.dbus);
out:
	for (int i = 0; i < 4; i++)
		if (sources[i])
			g_source_remove(sources[i]);
	if (r.ctx)
		vhostio_ctx_free(r.ctx);
	plugins_unload(r.plugins);
	g_main_loop_unref(r.loop);
	if (r.exit_code == 0)
		vhostio_log(VHOSTIO_LOG_INFO, "stopped");
	g_free(r.handler_dir);
	return r.exit_code;
}
