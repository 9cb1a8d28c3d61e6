/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhostio-runner: serves LIO user backstores (target_core_user) with
 * handler plugins.  A drop-in for tcmu-runner.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <vhostio/vhostio.h>

#include "plugins.h"

#ifndef VHOSTIO_DEFAULT_HANDLER_DIR
#define VHOSTIO_DEFAULT_HANDLER_DIR "/usr/lib/vhostio"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vhostio-runner [OPTIONS]\n"
		"Serve LIO user backstores (target_core_user) with vhostio handler plugins.\n\n"
		"  -H, --handler-dir DIR  load handler_*.so from DIR (default %s)\n"
		"  -l, --log-level N      0 error, 1 warn, 2 info (default), 3 debug;\n"
		"                         or the names error, warn, info, debug\n"
		"  -V, --version          print the version and exit\n"
		"  -h, --help             this text\n",
		VHOSTIO_DEFAULT_HANDLER_DIR);
}

static int parse_log_level(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	char *end;
	long v = strtol(s, &end, 10);
	if (*s && !*end && v >= 0 && v <= 3)
		return (int)v;
	return -1;
}

/* Block the stop signals and receive them through a descriptor in the loop. */
static int stop_signal_fd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "handler-dir", required_argument, NULL, 'H' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *handler_dir = VHOSTIO_DEFAULT_HANDLER_DIR;
	int opt;

	while ((opt = getopt_long(argc, argv, "H:l:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'H':
			handler_dir = optarg;
			break;
		case 'l': {
			int level = parse_log_level(optarg);
			if (level < 0) {
				fprintf(stderr, "vhostio-runner: bad log level '%s' (0-3 or error/warn/info/debug)\n", optarg);
				return 2;
			}
			vhostio_set_log_level(level);
			break;
		}
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

	int sig_fd = stop_signal_fd();
	if (sig_fd < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "signal setup: %s", strerror(-sig_fd));
		return 1;
	}

	struct vhostio_ctx *ctx;
	int ret = vhostio_ctx_new(&ctx);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "%s", strerror(-ret));
		return 1;
	}
	struct plugin_set *plugins = NULL;
	ret = plugins_load_dir(ctx, handler_dir, &plugins);
	if (ret <= 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "no handler could be loaded from %s", handler_dir);
		if (ret == 0)
			ret = -ENOENT; /* a runner that can serve nothing is a failed start */
		goto out;
	}
	ret = vhostio_ctx_start(ctx);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "cannot start: %s", strerror(-ret));
		goto out;
	}
	vhostio_log(VHOSTIO_LOG_INFO, "vhostio-runner %s ready, %d device(s)", vhostio_version(),
		    vhostio_ctx_device_count(ctx));

	struct pollfd pfd[2] = {
		{ .fd = vhostio_ctx_fd(ctx), .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			vhostio_log(VHOSTIO_LOG_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				vhostio_log(VHOSTIO_LOG_INFO, "%s: finishing in-flight commands and exiting",
					    strsignal((int)si.ssi_signo));
			ret = 0;
			break;
		}
		if (pfd[0].revents & (POLLIN | POLLERR)) {
			/* A failed receive (e.g. ENOBUFS after an overrun) loses at
			 * most those messages and clears the error; keep serving. */
			vhostio_ctx_dispatch(ctx);
		} else if (pfd[0].revents & (POLLHUP | POLLNVAL)) {
			ret = -EPIPE;
			vhostio_log(VHOSTIO_LOG_ERROR, "netlink socket closed; exiting");
			break;
		}
	}
out:
	vhostio_ctx_free(ctx);
	plugins_unload(plugins);
	close(sig_fd);
	if (ret >= 0)
		vhostio_log(VHOSTIO_LOG_INFO, "stopped");
	return ret < 0 ? 1 : 0;
}
