/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host microbenchmark of the ring loop: the real libvhostio ring and SCSI
 * code (device_process_ring) on the in-process ring simulator of the unit
 * tests, with a null handler that completes synchronously without touching
 * the data.  Measures commands/s on one pinned CPU at several batch sizes
 * (commands queued before one device_process_ring() call; the simulator
 * reaps completions on the kick), for READ(10) of 4 KiB and for TEST UNIT
 * READY, plus a "ring only" baseline: the simulator's own submit + reap
 * with a fake completion and no libvhostio involved.
 *
 * Not a test: it passes or fails nothing.  See bench/README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#define TARGET_CMDS_PER_S 2.5e6 /* issue #6: 2.5M commands/s/core */
#define CMDR_SIZE (1u << 20)
#define BLOCK_SIZE 512
#define NUM_LBAS 2048u          /* 1 MiB: the fixture allocates it; the null handler never touches it */
#define XFER_BLOCKS 8           /* 4 KiB */

static const unsigned batches[] = { 1, 8, 32, 128 };
#define N_BATCHES (sizeof(batches) / sizeof(batches[0]))

enum workload { W_READ, W_TUR, W_RING_READ, W_RING_TUR, W_COUNT };
static const char *const workload_names[W_COUNT] = {
	[W_READ] = "read10-4k",
	[W_TUR] = "tur",
	[W_RING_READ] = "ring-only-read10-4k",
	[W_RING_TUR] = "ring-only-tur",
};

struct point {
	unsigned batch;
	unsigned long long cmds;
	double wall_s, cpu_s;
	unsigned long long bad;  /* completions that were not GOOD (should be 0) */
};

/* ---- the null handler ---- */

static int null_open(struct vhostio_device *dev)
{
	(void)dev;
	return 0;
}

static void null_close(struct vhostio_device *dev)
{
	(void)dev;
}

static int null_rw(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		   size_t length, uint64_t offset)
{
	(void)dev, (void)io, (void)iov, (void)iovcnt, (void)length, (void)offset;
	return 0;
}

static const struct vhostio_handler null_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "null",
	.config_desc = "benchmark null handler",
	.open = null_open,
	.close = null_close,
	.read = null_rw,
	.write = null_rw,
};

/* ---- clocks ---- */

static double now(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- one batch of each workload ---- */

struct bench {
	struct fixture *fx;      /* library workloads */
	struct ringsim *sim;     /* ring-only workloads (own instance) */
	uint32_t sim_tail;       /* ring-only: where the fake completer is */
	uint32_t lba;
	uint8_t cdb_read[10];
	uint8_t cdb_tur[6];
};

static void next_read_cdb(struct bench *b)
{
	cdb_rw10(b->cdb_read, 0x28, b->lba, XFER_BLOCKS);
	b->lba = (b->lba + XFER_BLOCKS) % NUM_LBAS;
}

/* Queue 'batch' commands, then one device_process_ring(); returns non-GOOD completions. */
static unsigned lib_batch(struct bench *b, bool read, unsigned batch)
{
	struct ringsim *s = &b->fx->sim;
	uint16_t last = 0;
	for (unsigned i = 0; i < batch; i++) {
		if (read)
			next_read_cdb(b);
		last = read ? ringsim_submit(s, b->cdb_read, 4096, NULL) : ringsim_submit(s, b->cdb_tur, 0, NULL);
		if (!last) {
			fprintf(stderr, "ring-bench: the simulated ring is full\n");
			exit(1);
		}
	}
	if (device_process_ring(b->fx->dev) != (int)batch) {
		fprintf(stderr, "ring-bench: device_process_ring did not take the whole batch\n");
		exit(1);
	}
	/* The kick reaped everything: cheap spot check on the last one. */
	const struct sim_result *r = &s->results[last];
	return r->done && r->status == 0 ? 0 : 1;
}

/* What the library's completion does to a slot, minimally: status GOOD
 * into each CMD entry from our tail up to head, then cmd_tail and a kick. */
static void fake_complete_all(struct bench *b)
{
	struct ringsim *s = b->sim;
	uint32_t head = __atomic_load_n(&s->mb->cmd_head, __ATOMIC_ACQUIRE);
	uint32_t pos = b->sim_tail;
	while (pos != head) {
		struct tcmu_cmd_entry *e = (struct tcmu_cmd_entry *)(s->cmdr + pos);
		if (tcmu_hdr_get_op(e->hdr.len_op) == TCMU_OP_CMD)
			e->rsp.scsi_status = 0;
		pos = (pos + tcmu_hdr_get_len(e->hdr.len_op)) % s->cmdr_size;
	}
	b->sim_tail = pos;
	__atomic_store_n(&s->mb->cmd_tail, pos, __ATOMIC_RELEASE);
	ringsim_kick(s);
}

static unsigned ring_batch(struct bench *b, bool read, unsigned batch)
{
	struct ringsim *s = b->sim;
	uint16_t last = 0;
	for (unsigned i = 0; i < batch; i++) {
		if (read)
			next_read_cdb(b);
		last = read ? ringsim_submit(s, b->cdb_read, 4096, NULL) : ringsim_submit(s, b->cdb_tur, 0, NULL);
		if (!last) {
			fprintf(stderr, "ring-bench: the simulated ring is full\n");
			exit(1);
		}
	}
	fake_complete_all(b);
	const struct sim_result *r = &s->results[last];
	return r->done && r->status == 0 ? 0 : 1;
}

static unsigned one_batch(struct bench *b, enum workload w, unsigned batch)
{
	switch (w) {
	case W_READ:
		return lib_batch(b, true, batch);
	case W_TUR:
		return lib_batch(b, false, batch);
	case W_RING_READ:
		return ring_batch(b, true, batch);
	default:
		return ring_batch(b, false, batch);
	}
}

static struct point run_point(struct bench *b, enum workload w, unsigned batch, double warmup_s, double run_s)
{
	struct point p = { .batch = batch };
	/* Read the clock about every 256 commands. */
	unsigned check_every = batch >= 256 ? 1 : 256 / batch;

	double end = now(CLOCK_MONOTONIC) + warmup_s;
	while (now(CLOCK_MONOTONIC) < end)
		for (unsigned i = 0; i < check_every; i++)
			p.bad += one_batch(b, w, batch);
	p.bad = 0;

	double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
	end = w0 + run_s;
	double w1;
	do {
		for (unsigned i = 0; i < check_every; i++)
			p.bad += one_batch(b, w, batch);
		p.cmds += (unsigned long long)check_every * batch;
		w1 = now(CLOCK_MONOTONIC);
	} while (w1 < end);
	double c1 = now(CLOCK_THREAD_CPUTIME_ID);
	p.wall_s = w1 - w0;
	p.cpu_s = c1 - c0;
	return p;
}

/* ---- setup ---- */

static int pin_to_one_cpu(int want)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -1;
	int cpu = want;
	if (cpu < 0) {
		/* Default: the highest CPU we may run on (CPU 0 takes more interrupts). */
		for (int i = CPU_SETSIZE - 1; i >= 0; i--)
			if (CPU_ISSET(i, &allowed)) {
				cpu = i;
				break;
			}
	}
	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed))
		return -1;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0)
		return -1;
	return cpu;
}

static void usage(FILE *out)
{
	fputs("usage: ring-bench [--json] [--quick] [--seconds S] [--cpu N]\n"
	      "  Ring-loop microbenchmark on the in-process ring simulator (null handler).\n"
	      "  --json       print one JSON object instead of the table\n"
	      "  --quick      0.05 s per point (smoke run)\n"
	      "  --seconds S  seconds per point (default 1)\n"
	      "  --cpu N      pin to CPU N (default: the highest allowed CPU)\n"
	      "  --workload W, --batch B  run only these points (for profiling; the\n"
	      "               ratios of skipped points print as 0)\n"
	      "  workloads: read10-4k tur ring-only-read10-4k ring-only-tur; batches: 1 8 32 128\n",
	      out);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static double per_cpu_rate(const struct point *p)
{
	return p->cpu_s > 0 ? (double)p->cmds / p->cpu_s : 0;
}

static double wall_rate(const struct point *p)
{
	return p->wall_s > 0 ? (double)p->cmds / p->wall_s : 0;
}

static double ns_per_cmd(const struct point *p)
{
	return p->cmds ? p->cpu_s * 1e9 / (double)p->cmds : 0;
}

int main(int argc, char **argv)
{
	bool json = false;
	double run_s = 1.0, warmup_s = 0.2;
	int want_cpu = -1;
	const char *only_workload = NULL;
	unsigned only_batch = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--quick")) {
			run_s = 0.05;
			warmup_s = 0.01;
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			run_s = strtod(argv[++i], NULL);
			if (!(run_s > 0 && run_s < 3600)) {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "--cpu") && i + 1 < argc) {
			want_cpu = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--workload") && i + 1 < argc) {
			only_workload = argv[++i];
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			only_batch = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}

	int cpu = pin_to_one_cpu(want_cpu);
	if (cpu < 0) {
		fprintf(stderr, "ring-bench: cannot pin to one CPU: %s\n", strerror(errno));
		return 1;
	}

	struct bench b = { 0 };
	b.fx = fx_new_with(&null_handler, CMDR_SIZE, NUM_LBAS, BLOCK_SIZE, false);
	b.sim = calloc(1, sizeof(*b.sim));
	if (!b.sim || ringsim_init(b.sim, CMDR_SIZE, 4u << 20) < 0) {
		fprintf(stderr, "ring-bench: cannot set up the ring simulator\n");
		return 1;
	}
	/* Not ready after open? Clear any unit attention the device starts with. */
	scsi_lun_take_unit_attention(&b.fx->dev->lun);

	struct point pts[W_COUNT][N_BATCHES] = { 0 };
	unsigned long long bad = 0;
	for (int w = 0; w < W_COUNT; w++)
		for (size_t i = 0; i < N_BATCHES; i++) {
			pts[w][i].batch = batches[i];
			if ((only_workload && strcmp(only_workload, workload_names[w])) ||
			    (only_batch && only_batch != batches[i]))
				continue;
			pts[w][i] = run_point(&b, (enum workload)w, batches[i], warmup_s, run_s);
			bad += pts[w][i].bad;
		}

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (json) {
		printf("{\"benchmark\":\"ring-bench\",\"cpu\":%d,\"online_cpus\":%ld,\"seconds_per_point\":%g,"
		       "\"target_cmds_per_s_per_core\":%.0f,\"handler\":\"null (synchronous, data untouched)\","
		       "\"results\":[",
		       cpu, ncpu, run_s, TARGET_CMDS_PER_S);
		bool first = true;
		for (int w = 0; w < W_COUNT; w++)
			for (size_t i = 0; i < N_BATCHES; i++) {
				const struct point *p = &pts[w][i];
				if (!p->cmds)
					continue;
				printf("%s{\"workload\":\"%s\",\"batch\":%u,\"commands\":%llu,\"wall_s\":%.6f,"
				       "\"cpu_s\":%.6f,\"cmds_per_s_wall\":%.0f,\"cmds_per_cpu_s\":%.0f,"
				       "\"ns_per_cmd\":%.1f,\"ratio_to_target\":%.3f,\"ratio_to_batch1\":%.3f,"
				       "\"not_good\":%llu}",
				       first ? "" : ",", workload_names[w], p->batch, p->cmds, p->wall_s, p->cpu_s,
				       wall_rate(p), per_cpu_rate(p), ns_per_cmd(p), per_cpu_rate(p) / TARGET_CMDS_PER_S,
				       ratio(per_cpu_rate(p), per_cpu_rate(&pts[w][0])), p->bad);
				first = false;
			}
		printf("],\"library_ns_per_cmd\":[");
		first = true;
		for (int w = W_READ; w <= W_TUR; w++)
			for (size_t i = 0; i < N_BATCHES; i++) {
				if (!pts[w][i].cmds || !pts[w + 2][i].cmds)
					continue;
				printf("%s{\"workload\":\"%s\",\"batch\":%u,\"ns\":%.1f}", first ? "" : ",",
				       workload_names[w], batches[i],
				       ns_per_cmd(&pts[w][i]) - ns_per_cmd(&pts[w + 2][i]));
				first = false;
			}
		printf("]}\n");
	} else {
		printf("ring-bench: pinned to CPU %d of %ld online, %g s per point, null handler\n", cpu, ncpu,
		       run_s);
		printf("%-20s %6s %14s %14s %10s %10s %9s\n", "workload", "batch", "cmds/s wall", "cmds/CPU-s",
		       "ns/cmd", "vs 2.5M", "vs b=1");
		for (int w = 0; w < W_COUNT; w++)
			for (size_t i = 0; i < N_BATCHES; i++) {
				const struct point *p = &pts[w][i];
				if (!p->cmds)
					continue;
				printf("%-20s %6u %14.0f %14.0f %10.1f %9.3fx %8.2fx\n", workload_names[w], p->batch,
				       wall_rate(p), per_cpu_rate(p), ns_per_cmd(p),
				       per_cpu_rate(p) / TARGET_CMDS_PER_S, ratio(per_cpu_rate(p), per_cpu_rate(&pts[w][0])));
			}
		printf("\nlibrary share (ns/cmd, full minus ring-only at the same batch):\n");
		for (int w = W_READ; w <= W_TUR; w++) {
			printf("  %-10s", workload_names[w]);
			for (size_t i = 0; i < N_BATCHES; i++)
				if (pts[w][i].cmds && pts[w + 2][i].cmds)
					printf("  b=%-3u %6.1f", batches[i], ns_per_cmd(&pts[w][i]) - ns_per_cmd(&pts[w + 2][i]));
			printf("\n");
		}
	}
	if (bad)
		fprintf(stderr, "ring-bench: %llu spot-checked completions were not GOOD\n", bad);

	ringsim_free(b.sim);
	free(b.sim);
	fx_free(b.fx);
	return bad ? 1 : 0;
}
