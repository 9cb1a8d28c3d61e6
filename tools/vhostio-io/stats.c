// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vhostio-io: the workload's statistics (latency histogram, percentiles)
 * and the run's report, as JSON or text.  VM tests and the benchmark
 * parse both: their fields, order and number formats are an interface.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vhostio-io.h"

static unsigned bucket_of(uint64_t v)
{
	if (v < SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned sub = (unsigned)(v >> (msb - SUB_BITS)) & (SUB - 1);
	return (msb - SUB_BITS + 1) * SUB + sub;
}

/* Upper bound of a bucket's values (what percentiles report). */
static uint64_t bucket_top(unsigned b)
{
	if (b < SUB)
		return b;
	unsigned msb = b / SUB + SUB_BITS - 1, sub = b % SUB;
	uint64_t lo = (1ull << msb) | ((uint64_t)sub << (msb - SUB_BITS));
	return lo + (1ull << (msb - SUB_BITS)) - 1;
}

void stats_latency(struct stats *s, uint64_t lat)
{
	s->hist[bucket_of(lat)]++;
	if (lat > s->lat_max)
		s->lat_max = lat;
}

void stats_merge(struct stats *into, const struct stats *s)
{
	into->ios += s->ios, into->bytes += s->bytes, into->ok += s->ok;
	into->aborted += s->aborted, into->other += s->other, into->ua_retries += s->ua_retries;
	into->full_retries += s->full_retries;
	if (s->miscompares && !into->miscompares)
		into->first_bad_lba = s->first_bad_lba;
	into->miscompares += s->miscompares;
	if (s->lat_max > into->lat_max)
		into->lat_max = s->lat_max;
	for (unsigned b = 0; b < NBUCKETS; b++)
		into->hist[b] += s->hist[b];
}

static uint64_t percentile(const struct stats *s, double p)
{
	uint64_t total = 0, seen = 0;
	for (unsigned b = 0; b < NBUCKETS; b++)
		total += s->hist[b];
	if (!total)
		return 0;
	uint64_t want = (uint64_t)(p * (double)total + 0.999999);
	if (want < 1)
		want = 1;
	for (unsigned b = 0; b < NBUCKETS; b++) {
		seen += s->hist[b];
		if (seen >= want) {
			uint64_t t = bucket_top(b);
			return t < s->lat_max ? t : s->lat_max;
		}
	}
	return s->lat_max;
}

static const char *rw_name(const struct config *cfg)
{
	static const char *const n[2][3] = { { "read", "write", "verify" }, { "randread", "randwrite", "randverify" } };
	return n[cfg->random][cfg->rw];
}

/* The latency object last: a phase stays easy to pick apart with sed. */
static void print_phase_json(const char *name, const struct phase *ph, bool comma)
{
	const struct stats *s = &ph->st;
	double secs = ph->secs;
	printf("%s\"%s\": {\"ios\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"seconds\": %.3f, "
	       "\"iops\": %.1f, \"mbps\": %.2f, \"ok\": %" PRIu64 ", \"aborted\": %" PRIu64 ", \"errors\": %" PRIu64
	       ", \"miscompares\": %" PRIu64 ", \"ua_retries\": %" PRIu64 ", \"full_retries\": %" PRIu64
	       ", \"lat_us\": {\"p50\": %.1f, \"p99\": %.1f, \"p99.9\": %.1f, \"max\": %.1f}}",
	       comma ? ", " : "", name, s->ios, s->bytes, secs, secs > 0 ? (double)s->ios / secs : 0,
	       secs > 0 ? (double)s->bytes / secs / 1e6 : 0, s->ok, s->aborted, s->other, s->miscompares,
	       s->ua_retries, s->full_retries, percentile(s, .5) / 1e3, percentile(s, .99) / 1e3, percentile(s, .999) / 1e3,
	       s->lat_max / 1e3);
}

static void print_phase_text(const char *name, const struct phase *ph)
{
	const struct stats *s = &ph->st;
	double secs = ph->secs;
	printf("%-6s ios=%" PRIu64 " bytes=%" PRIu64 " time=%.3fs iops=%.0f MB/s=%.2f\n", name, s->ios, s->bytes,
	       secs, secs > 0 ? (double)s->ios / secs : 0, secs > 0 ? (double)s->bytes / secs / 1e6 : 0);
	printf("       lat(us) p50=%.1f p99=%.1f p99.9=%.1f max=%.1f\n", percentile(s, .5) / 1e3,
	       percentile(s, .99) / 1e3, percentile(s, .999) / 1e3, s->lat_max / 1e3);
	printf("       ok=%" PRIu64 " aborted=%" PRIu64 " errors=%" PRIu64 " miscompares=%" PRIu64
	       " ua_retries=%" PRIu64 " full_retries=%" PRIu64 "\n", s->ok, s->aborted, s->other, s->miscompares,
	       s->ua_retries, s->full_retries);
}

static const char *const tmf_names[] = {
	[VHOSTIO_VIRTIO_T_TMF_ABORT_TASK] = "abort-task",
	[VHOSTIO_VIRTIO_T_TMF_ABORT_TASK_SET] = "abort-task-set",
	[VHOSTIO_VIRTIO_T_TMF_CLEAR_TASK_SET] = "clear-task-set",
	[VHOSTIO_VIRTIO_T_TMF_I_T_NEXUS_RESET] = "it-nexus-reset",
	[VHOSTIO_VIRTIO_T_TMF_LOGICAL_UNIT_RESET] = "lun-reset",
	[VHOSTIO_VIRTIO_T_TMF_QUERY_TASK] = "query-task",
	[VHOSTIO_VIRTIO_T_TMF_QUERY_TASK_SET] = "query-task-set",
};

const char *tmf_name(uint32_t tmf)
{
	return tmf < sizeof(tmf_names) / sizeof(tmf_names[0]) ? tmf_names[tmf] : NULL;
}

int tmf_parse(const char *list, uint32_t *tmf, int max)
{
	int n = 0;
	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		size_t i = 0;
		while (i < sizeof(tmf_names) / sizeof(tmf_names[0]) &&
		       !(tmf_names[i] && strlen(tmf_names[i]) == len && !strncmp(p, tmf_names[i], len)))
			i++;
		if (i == sizeof(tmf_names) / sizeof(tmf_names[0]) || n == max)
			return -1;
		tmf[n++] = (uint32_t)i;
		p += len;
		if (!*p)
			return n;
	}
}

/* A TMF's 0 is FUNCTION COMPLETE, not a command's OK. */
static const char *tmf_response(const struct tmf_result *tr)
{
	if (tr->response < 0)
		return strerror(-tr->response);
	return tr->response == VHOSTIO_VIRTIO_S_FUNCTION_COMPLETE ? "FUNCTION_COMPLETE"
								   : response_name((unsigned)tr->response);
}

void print_run_report(const struct run_report *r)
{
	const struct config *cfg = r->cfg;
	const struct tmf_result *tr = r->tmf;
	bool verify = cfg->rw == RW_VERIFY;
	if (cfg->json) {
		printf("{\"rw\": \"%s\", \"lun\": %u, \"bs\": %u, \"qd\": %u, \"queues\": %u, \"queue_size\": %u, "
		       "\"offset\": %" PRIu64 ", \"size\": %" PRIu64 ", \"block_size\": %u, \"seed\": %" PRIu64
		       ", \"generation\": %u, \"features\": \"%s\", \"features_bits\": \"0x%" PRIx64 "\"",
		       rw_name(cfg), cfg->lun, cfg->bs, cfg->qd, cfg->queues, r->queue_size, r->base, r->bytes,
		       r->lbsize, cfg->seed, cfg->generation, r->features, r->features_bits);
		if (verify)
			printf(", \"passes\": %u", r->passes);
		print_phase_json("total", r->total, true);
		if (verify) {
			print_phase_json("write", r->write, true);
			print_phase_json("read", r->read, true);
		}
		for (uint32_t i = 0; tr && i < cfg->ntmf; i++) {
			const struct tmf_result *t = &tr[i];
			printf("%s{\"name\": \"%s\", \"done\": %s, \"response\": \"%s\", \"code\": %d",
			       i ? ", " : ", \"tmf\": [", tmf_name(cfg->tmf[i]), t->done ? "true" : "false",
			       tmf_response(t), t->response);
			if (t->has_tag)
				printf(", \"tag\": \"0x%" PRIx64 "\"", t->tag);
			printf(", \"at_ms\": %.1f, \"took_ms\": %.1f}%s", t->at_ns / 1e6, t->took_ns / 1e6,
			       i + 1 == cfg->ntmf ? "]" : "");
		}
		/* The key --lun-reset-after has always printed. */
		if (tr && cfg->ntmf == 1 && cfg->tmf[0] == VHOSTIO_VIRTIO_T_TMF_LOGICAL_UNIT_RESET)
			printf(", \"lun_reset\": {\"done\": %s, \"response\": \"%s\", \"at_ms\": %.1f, \"took_ms\": %.1f}",
			       tr->done ? "true" : "false", tmf_response(tr), tr->at_ns / 1e6, tr->took_ns / 1e6);
		printf(", \"cpu\": {\"process_s\": %.3f, \"workers_s\": %.3f, \"workers\": %u}", r->cpu.process_s,
		       r->cpu.workers_s, r->cpu.workers);
		printf(", \"hang\": %s}\n", r->hung ? "true" : "false");
	} else {
		printf("%s lun=%u bs=%u qd=%u queues=%u size=%" PRIu64 " offset=%" PRIu64 " lbsize=%u\n",
		       rw_name(cfg), cfg->lun, cfg->bs, cfg->qd, cfg->queues, r->bytes, r->base, r->lbsize);
		printf("features: %s\n", r->features);
		if (verify) {
			printf("passes: %u\n", r->passes);
			print_phase_text("write", r->write);
			print_phase_text("read", r->read);
		}
		print_phase_text("total", r->total);
		for (uint32_t i = 0; tr && i < cfg->ntmf; i++)
			printf("tmf %s: %s (%d) at %.1f ms, took %.1f ms\n", tmf_name(cfg->tmf[i]),
			       tmf_response(&tr[i]), tr[i].response, tr[i].at_ns / 1e6, tr[i].took_ns / 1e6);
		printf("cpu: process %.3fs, %u kernel worker(s) %.3fs\n", r->cpu.process_s, r->cpu.workers,
		       r->cpu.workers_s);
	}
}

/* utime + stime of /proc/<pid>/stat, in seconds; -1 if unreadable.  *comm gets its name. */
static double proc_cpu(const char *pid, char *comm, size_t len)
{
	char path[300], buf[1024];
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (!open || !close || close < open)
		return -1;
	snprintf(comm, len, "%.*s", (int)(close - open - 1), open + 1);
	/* After "(comm) ": state is field 3; utime and stime are 14 and 15. */
	unsigned long long ut, st;
	if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

void cpu_times_now(struct cpu_times *t)
{
	char want[32], comm[64];
	snprintf(want, sizeof(want), "vhost-%d", getpid());
	*t = (struct cpu_times){ 0 };
	double self = proc_cpu("self", comm, sizeof(comm));
	t->process_s = self > 0 ? self : 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		double c = proc_cpu(e->d_name, comm, sizeof(comm));
		if (c >= 0 && !strcmp(comm, want)) {
			t->workers_s += c;
			t->workers++;
		}
	}
	if (d)
		closedir(d);
}
