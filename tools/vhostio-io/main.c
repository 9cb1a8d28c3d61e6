// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vhostio-io: SCSI commands and I/O workloads through the kernel's
 * vhost-scsi fabric, with libvhostio's userspace virtio-scsi initiator.
 *
 * It is the test client of the vhost path (INQUIRY, READ CAPACITY, REPORT
 * LUNS, pattern verify, LUN reset under I/O, hotplug events) and its
 * benchmark (IOPS, MB/s, latency percentiles).  See vhostio-io(1).
 *
 * This file: options, the command table and the usage text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vhostio/initiator.h>

#include "vhostio-io.h"

void die(int status, const char *fmt, ...)
{
	va_list ap;
	fputs("vhostio-io: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* "4k", "1M", "512": bytes; -EINVAL on garbage or overflow. */
static uint64_t size_arg(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;
	if (vhostio_parse_size(s, strlen(s), &v) < 0 || v < min || v > max)
		die(EXIT_USAGE, "%s: bad value '%s'", opt, s);
	return v;
}

static const struct command {
	const char *name;
	int (*fn)(struct vio *v);
} commands[] = {
	{ "inquiry", cmd_inquiry },
	{ "readcap", cmd_readcap },
	{ "report-luns", cmd_report_luns },
	{ "run", cmd_run },
	{ "events", cmd_events },
	{ "target-create", cmd_target_create },
	{ "target-remove", cmd_target_remove },
	{ "lun-add", cmd_lun_add },
	{ "lun-remove", cmd_lun_remove },
};

static void usage(FILE *f)
{
	fputs("usage: vhostio-io COMMAND --wwpn naa.X [--tpgt N] [--lun L] [options]\n"
	      "commands:\n"
	      "  inquiry | readcap | report-luns     one command, decoded (--json)\n"
	      "  run                                 a workload (below)\n"
	      "  events [--count N] [--timeout MS]   wait for hotplug events\n"
	      "  target-create [--nexus NAME] | target-remove\n"
	      "  lun-add --backstore HBA/NAME | lun-remove   (configfs, target/vhost)\n"
	      "run options:\n"
	      "  --rw read|write|randread|randwrite|verify|randverify   (default read)\n"
	      "  --bs SIZE --qd N --queues N --queue-size N\n"
	      "  --workers per-vq|shared|N   kernel threads for the queues (6.5 worker ioctls)\n"
	      "  --runtime SECONDS | --ios COUNT   (default: one pass over the working set)\n"
	      "  --size BYTES --offset BYTES --seed N --generation N --passes N --check\n"
	      "  --tmf-after MS [--tmf TMF[,TMF...]]   sent in turn (up to 4; default lun-reset)\n"
	      "      TMF: abort-task|abort-task-set|clear-task-set|it-nexus-reset|lun-reset|\n"
	      "           query-task|query-task-set\n"
	      "  --lun-reset-after MS (= --tmf-after MS --tmf lun-reset) --hang-timeout MS\n"
	      "common: --device PATH --timeout MS --json --features-mask BITS\n",
	      f);
}

/* Options into cfg; -1 to go on with the command, else the exit status. */
static int parse_options(struct config *cfg, int argc, char **argv)
{
	enum {
		O_WWPN = 256, O_TPGT, O_LUN, O_DEVICE, O_JSON, O_TIMEOUT, O_RW, O_BS, O_QD, O_QUEUES, O_QSIZE,
		O_RUNTIME, O_IOS, O_SIZE, O_OFFSET, O_SEED, O_GEN, O_PASSES, O_CHECK, O_RESET, O_HANG,
		O_COUNT, O_NEXUS, O_BACKSTORE, O_FMASK, O_TMF_AFTER, O_TMF, O_WORKERS,
	};
	static const struct option opts[] = {
		{ "wwpn", required_argument, NULL, O_WWPN },
		{ "tpgt", required_argument, NULL, O_TPGT },
		{ "lun", required_argument, NULL, O_LUN },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "json", no_argument, NULL, O_JSON },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "rw", required_argument, NULL, O_RW },
		{ "bs", required_argument, NULL, O_BS },
		{ "qd", required_argument, NULL, O_QD },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "queue-size", required_argument, NULL, O_QSIZE },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "runtime", required_argument, NULL, O_RUNTIME },
		{ "ios", required_argument, NULL, O_IOS },
		{ "size", required_argument, NULL, O_SIZE },
		{ "offset", required_argument, NULL, O_OFFSET },
		{ "seed", required_argument, NULL, O_SEED },
		{ "generation", required_argument, NULL, O_GEN },
		{ "passes", required_argument, NULL, O_PASSES },
		{ "check", no_argument, NULL, O_CHECK },
		{ "lun-reset-after", required_argument, NULL, O_RESET },
		{ "hang-timeout", required_argument, NULL, O_HANG },
		{ "tmf-after", required_argument, NULL, O_TMF_AFTER },
		{ "tmf", required_argument, NULL, O_TMF },
		{ "count", required_argument, NULL, O_COUNT },
		{ "nexus", required_argument, NULL, O_NEXUS },
		{ "backstore", required_argument, NULL, O_BACKSTORE },
		{ "features-mask", required_argument, NULL, O_FMASK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case O_WWPN: cfg->wwpn = optarg; break;
		case O_TPGT: cfg->tpgt = (uint16_t)size_arg("--tpgt", optarg, 0, 65535); break;
		case O_LUN: cfg->lun = (uint16_t)size_arg("--lun", optarg, 0, 16383); break;
		case O_DEVICE: cfg->device = optarg; break;
		case O_JSON: cfg->json = true; break;
		case O_TIMEOUT: cfg->timeout_ms = (int)size_arg("--timeout", optarg, 1, INT_MAX); break;
		case O_RW: {
			const char *m = optarg;
			cfg->random = !strncmp(m, "rand", 4);
			if (cfg->random)
				m += 4;
			if (!strcmp(m, "read")) cfg->rw = RW_READ;
			else if (!strcmp(m, "write")) cfg->rw = RW_WRITE;
			else if (!strcmp(m, "verify")) cfg->rw = RW_VERIFY;
			else die(EXIT_USAGE, "--rw: unknown mode '%s'", optarg);
			break;
		}
		/* Up to twice the fabric's 64 MiB per-command limit, so that a test can
		 * send one request beyond it. */
		case O_BS: cfg->bs = (uint32_t)size_arg("--bs", optarg, 512, 128u << 20); break;
		case O_QD: cfg->qd = (uint32_t)size_arg("--qd", optarg, 1, 4096); break;
		case O_QUEUES: cfg->queues = (uint32_t)size_arg("--queues", optarg, 1, 128); break;
		case O_WORKERS:
			if (!strcmp(optarg, "per-vq"))
				cfg->workers = VHOSTIO_INITIATOR_WORKERS_PER_QUEUE;
			else if (!strcmp(optarg, "shared"))
				cfg->workers = VHOSTIO_INITIATOR_WORKERS_SHARED;
			else
				cfg->workers = (int32_t)size_arg("--workers", optarg, 1, 128);
			break;
		case O_QSIZE: cfg->queue_size = (uint32_t)size_arg("--queue-size", optarg, 1, 32768); break;
		case O_RUNTIME: {
			char *end;
			cfg->runtime = strtod(optarg, &end);
			if (*end || cfg->runtime <= 0)
				die(EXIT_USAGE, "--runtime: bad value '%s'", optarg);
			break;
		}
		case O_IOS: cfg->ios = size_arg("--ios", optarg, 1, UINT64_MAX); break;
		case O_SIZE: cfg->size = size_arg("--size", optarg, 512, UINT64_MAX); break;
		case O_OFFSET: cfg->offset = size_arg("--offset", optarg, 0, UINT64_MAX); break;
		case O_SEED: cfg->seed = size_arg("--seed", optarg, 0, UINT64_MAX); break;
		case O_GEN: cfg->generation = (uint32_t)size_arg("--generation", optarg, 0, UINT32_MAX); break;
		case O_PASSES: cfg->passes = (uint32_t)size_arg("--passes", optarg, 1, UINT32_MAX); break;
		case O_CHECK: cfg->check = true; break;
		case O_RESET:
			cfg->tmf_after_ms = (int)size_arg("--lun-reset-after", optarg, 0, INT_MAX);
			cfg->tmf[0] = VHOSTIO_VIRTIO_T_TMF_LOGICAL_UNIT_RESET;
			cfg->ntmf = 1;
			break;
		case O_TMF_AFTER: cfg->tmf_after_ms = (int)size_arg("--tmf-after", optarg, 0, INT_MAX); break;
		case O_TMF: {
			int n = tmf_parse(optarg, cfg->tmf, MAX_TMFS);
			if (n < 0)
				die(EXIT_USAGE, "--tmf: '%s' is not a list of up to %d known functions", optarg,
				    MAX_TMFS);
			cfg->ntmf = (uint32_t)n;
			break;
		}
		case O_HANG: cfg->hang_ms = (int)size_arg("--hang-timeout", optarg, 1, INT_MAX); break;
		case O_COUNT: cfg->count = (int)size_arg("--count", optarg, 1, INT_MAX); break;
		case O_NEXUS: cfg->nexus = optarg; break;
		case O_BACKSTORE: cfg->backstore = optarg; break;
		case O_FMASK: cfg->features_mask = size_arg("--features-mask", optarg, 0, UINT64_MAX); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct vio v = {
		.cfg = {
			.tpgt = 1,
			.timeout_ms = 10000,
			.bs = 4096,
			.qd = 1,
			.queues = 1,
			.seed = 1,
			.generation = 1,
			.passes = 1,
			.tmf_after_ms = -1,
			.tmf = { VHOSTIO_VIRTIO_T_TMF_LOGICAL_UNIT_RESET },
			.ntmf = 1,
			.hang_ms = 30000,
			.count = 1,
		},
	};
	int rc = parse_options(&v.cfg, argc, argv);
	if (rc >= 0)
		return rc;
	const char *c = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(c, commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "vhostio-io: unknown command '%s'\n", c);
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = cmd->fn(&v);
	if (v.ini)
		vhostio_initiator_close(v.ini);
	return rc;
}
