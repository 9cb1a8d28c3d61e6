// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vhostio-io run: a workload of one thread per request queue, each keeping
 * --qd commands in flight with one kick per batch; sequential or random
 * reads and writes, or verify passes (write the pattern, read it back),
 * optionally with a task management function (LUN reset, abort ...) from
 * the main thread while I/O is in flight
 * and a hang check on every queue.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <vhostio/initiator.h>

#include "vhostio-io.h"

#define SAM_TASK_ABORTED 0x40

/*
 * The data pattern: each 512-byte sector starts with a header naming what
 * should be there (magic, byte offset / 512, generation, seed), so a
 * misdirected or stale block says where it came from; the rest is a
 * keyed pseudo-random stream.
 */
#define PATTERN_MAGIC 0x76686f7374696f21ull /* "vhostio!" */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void pattern_fill(uint64_t *w, uint64_t byte_off, uint32_t len, uint32_t gen, uint64_t seed)
{
	for (uint32_t s = 0; s < len / 512; s++, w += 64) {
		uint64_t sector = byte_off / 512 + s;
		w[0] = PATTERN_MAGIC;
		w[1] = sector;
		w[2] = gen;
		w[3] = seed;
		uint64_t k = splitmix(seed ^ (sector * 0x2545f4914f6cdd1dull) ^ ((uint64_t)gen << 48));
		for (unsigned i = 4; i < 64; i++)
			w[i] = k ^ splitmix(k + i);
	}
}

/* Shared by the workers of a run; set up by the main thread between phases. */
struct run {
	const struct config *cfg;
	struct vhostio_initiator *ini;
	uint32_t lbsize;
	uint64_t nblocks;         /* blocks of cfg->bs in the working set */
	uint64_t base;            /* byte offset of the working set */
	atomic_uint_fast64_t next;/* next I/O number to hand out */
	uint64_t limit;           /* I/O numbers < limit are handed out (UINT64_MAX: none) */
	uint64_t perm_a, perm_c;  /* random order, each block once: (a*i + c) mod n */
	bool write_phase;         /* verify: writing, else reading */
	uint32_t gen;
	uint64_t deadline;        /* ns; 0: none */
	atomic_uint reported;     /* miscompare lines printed */
	atomic_bool interrupted;  /* SIGINT or SIGTERM */
	sigset_t sigs;            /* those two, blocked in every thread */
};

struct slot {
	struct vhostio_scsi_cmd cmd;
	struct iovec iov;
	uint8_t *buf;
	uint64_t *expect;        /* verify/check: the pattern to compare with */
	uint64_t byte_off;
	uint64_t t0;
	bool busy, write;
	bool held;                /* refused for room: waits for another command to complete */
	uint8_t retries;          /* UNIT ATTENTION retries of this command */
	uint16_t full_retries;    /* TASK SET FULL / BUSY retries of this command */
};

/* Retries of one command the target refused for room, each after another
 * command completed: a bound, as an initiator's retry time is. */
#define FULL_RETRY_MAX 1000

struct worker {
	struct run *run;
	pthread_t thread;
	uint32_t queue;
	uint64_t rng;
	struct slot *slots;
	struct stats st;
	bool hung, ua_said;
	bool held;                /* a command waits for a completion before its retry */
	int err;
	/* Tag of the command submitted last, for ABORT/QUERY TASK; 0: none yet. */
	atomic_uint_fast64_t last_tag;
	atomic_bool has_tag;
};

/*
 * A handler could reach the run only through a global: instead SIGINT and
 * SIGTERM stay blocked and this thread takes them with sigwait().
 */
static void *signal_main(void *arg)
{
	struct run *run = arg;
	for (;;) {
		int sig;
		if (!sigwait(&run->sigs, &sig))
			atomic_store(&run->interrupted, true);
	}
	return NULL;
}

/* Block the signals here, before the workers inherit the mask, and take them. */
static pthread_t signals_start(struct run *run)
{
	pthread_t t;
	sigemptyset(&run->sigs);
	sigaddset(&run->sigs, SIGINT);
	sigaddset(&run->sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &run->sigs, NULL);
	int r = pthread_create(&t, NULL, signal_main, run);
	if (r)
		die(1, "pthread_create: %s", strerror(r));
	return t;
}

/* sigwait() is a cancellation point; the signals stay blocked, as ignored. */
static void signals_stop(pthread_t t)
{
	pthread_cancel(t);
	pthread_join(t, NULL);
}

static bool interrupted(struct run *run)
{
	return atomic_load_explicit(&run->interrupted, memory_order_relaxed);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b, b = t;
	}
	return a;
}

/* Pick a, c so that i -> (a*i + c) mod n visits every block once. */
static void perm_init(struct run *run, uint64_t seed)
{
	uint64_t n = run->nblocks;
	uint64_t a = n > 2 ? (splitmix(seed) % (n - 1)) + 1 : 1;
	while (gcd(a, n) != 1)
		a++;
	run->perm_a = a % n ? a % n : 1;
	run->perm_c = splitmix(seed + 1) % n;
}

/* a * b mod n without overflow; ISO C has no 128-bit type, GCC does. */
static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t n)
{
	__extension__ typedef unsigned __int128 u128;
	return (uint64_t)((u128)a * b % n);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return *s = x;
}

/* The next block for a worker, or false when its work is done. */
static bool next_block(struct worker *w, uint64_t *block)
{
	struct run *run = w->run;
	const struct config *cfg = run->cfg;
	uint64_t i = atomic_fetch_add_explicit(&run->next, 1, memory_order_relaxed);
	if (i >= run->limit)
		return false;
	if (cfg->rw == RW_VERIFY)
		/* Every block exactly once per phase; randverify in a permuted order. */
		*block = cfg->random ? mulmod(run->perm_a, i % run->nblocks, run->nblocks) + run->perm_c
				     : i % run->nblocks;
	else
		*block = cfg->random ? xorshift(&w->rng) % run->nblocks : i % run->nblocks;
	*block %= run->nblocks;
	return true;
}

static void report_miscompare(struct run *run, struct slot *s)
{
	const struct config *cfg = run->cfg;
	const uint64_t *got = (const uint64_t *)s->buf;
	for (uint32_t sec = 0; sec < cfg->bs / 512; sec++) {
		const uint64_t *g = got + sec * 64, *e = s->expect + sec * 64;
		if (!memcmp(g, e, 512))
			continue;
		uint64_t lba = (s->byte_off + (uint64_t)sec * 512) / run->lbsize;
		unsigned at = 0;
		while (((const uint8_t *)g)[at] == ((const uint8_t *)e)[at])
			at++;
		if (atomic_fetch_add(&run->reported, 1) < 20) {
			if (g[0] == PATTERN_MAGIC)
				fprintf(stderr, "vhostio-io: miscompare at LBA %" PRIu64 " (sector %" PRIu64
					"), first differing byte %u: holds sector %" PRIu64 " generation %" PRIu64
					" seed %" PRIu64 ", expected generation %u seed %" PRIu64 "\n",
					lba, e[1], at, g[1], g[2], g[3], run->gen, cfg->seed);
			else
				fprintf(stderr, "vhostio-io: miscompare at LBA %" PRIu64 " (sector %" PRIu64
					"): no pattern header (first word 0x%016" PRIx64 ")\n", lba, e[1], g[0]);
		}
		return;
	}
}

static void prepare(const struct run *run, struct slot *s, uint64_t block, bool write)
{
	const struct config *cfg = run->cfg;
	struct vhostio_scsi_cmd *c = &s->cmd;
	uint64_t off = run->base + block * cfg->bs;
	void *opaque = c->opaque;
	memset(c, 0, sizeof(*c));
	c->opaque = opaque;
	c->lun = cfg->lun;
	c->cdb_len = 16;
	c->cdb[0] = write ? 0x8a : 0x88; /* WRITE(16) / READ(16) */
	put_be64(c->cdb + 2, off / run->lbsize);
	put_be32(c->cdb + 10, cfg->bs / run->lbsize);
	s->iov.iov_base = s->buf;
	s->iov.iov_len = cfg->bs;
	if (write) {
		pattern_fill((uint64_t *)s->buf, off, cfg->bs, run->gen, cfg->seed);
		c->data_out = &s->iov;
		c->data_out_cnt = 1;
	} else {
		c->data_in = &s->iov;
		c->data_in_cnt = 1;
	}
	s->byte_off = off;
	s->write = write;
	s->retries = 0;
	s->full_retries = 0;
	s->held = false;
}

/* TASK SET FULL or BUSY: the target had no room for it now; not executed. */
static bool is_queue_full(const struct vhostio_scsi_cmd *c)
{
	return c->response == VHOSTIO_VIRTIO_S_OK &&
	       (c->status == VHOSTIO_SAM_TASK_SET_FULL || c->status == VHOSTIO_SAM_BUSY);
}

static void complete(struct worker *w, struct slot *s, uint64_t t)
{
	struct run *run = w->run;
	const struct config *cfg = run->cfg;
	struct vhostio_scsi_cmd *c = &s->cmd;
	uint64_t lat = t - s->t0;
	if (is_unit_attention(c) && s->retries < 5) {
		/* Not executed: resubmit as is (t0 == 0 marks it for the retry loop). */
		s->retries++;
		w->st.ua_retries++;
		c->response = c->status = 0;
		c->sense_len = 0;
		c->residual = 0;
		s->t0 = 0;
		return;
	}
	if (is_queue_full(c) && s->full_retries < FULL_RETRY_MAX) {
		/* Resubmitted once some other command completes (or none is left). */
		s->full_retries++;
		w->st.full_retries++;
		c->response = c->status = 0;
		c->residual = 0;
		s->t0 = 0;
		s->held = w->held = true;
		return;
	}
	w->held = false; /* room was made: held commands go again */
	w->st.ios++;
	stats_latency(&w->st, lat);
	s->busy = false;
	if (c->response == VHOSTIO_VIRTIO_S_OK && c->status == VHOSTIO_SAM_GOOD && c->residual == 0) {
		w->st.ok++;
		w->st.bytes += cfg->bs;
		if (!s->write && (cfg->rw == RW_VERIFY || cfg->check)) {
			pattern_fill(s->expect, s->byte_off, cfg->bs, run->gen, cfg->seed);
			if (memcmp(s->buf, s->expect, cfg->bs)) {
				if (!w->st.miscompares)
					w->st.first_bad_lba = s->byte_off / run->lbsize;
				w->st.miscompares++;
				report_miscompare(run, s);
			}
		}
		return;
	}
	/* Aborted by a task management function: virtio said so, or LIO's TAS. */
	if (c->response == VHOSTIO_VIRTIO_S_ABORTED || c->response == VHOSTIO_VIRTIO_S_RESET ||
	    (c->response == VHOSTIO_VIRTIO_S_OK && c->status == SAM_TASK_ABORTED)) {
		w->st.aborted++;
		return;
	}
	w->st.other++;
	if (w->st.other <= 5) {
		char d[96];
		describe_failure(c, d, sizeof(d));
		if (c->response == VHOSTIO_VIRTIO_S_OK && c->status == VHOSTIO_SAM_GOOD)
			snprintf(d, sizeof(d), "residual %u", c->residual);
		fprintf(stderr, "vhostio-io: queue %u: %s at LBA %" PRIu64 ": %s\n", w->queue,
			s->write ? "WRITE" : "READ", s->byte_off / run->lbsize, d);
	}
}

static void note_tag(struct worker *w, uint64_t tag)
{
	atomic_store_explicit(&w->last_tag, tag, memory_order_relaxed);
	atomic_store_explicit(&w->has_tag, true, memory_order_release);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	const struct config *cfg = run->cfg;
	struct vhostio_initiator *ini = run->ini;
	struct vhostio_scsi_cmd *done[256];
	uint32_t inflight = 0;
	uint64_t last_progress = clock_now_ns();
	bool more = true;
	for (;;) {
		/* Fill every idle slot, then one kick for the batch. */
		uint32_t queued = 0;
		if (run->deadline && clock_now_ns() >= run->deadline)
			more = false;
		for (uint32_t i = 0; more && i < cfg->qd; i++) {
			struct slot *s = &w->slots[i];
			uint64_t block;
			if (s->busy)
				continue;
			if (!next_block(w, &block)) {
				more = false;
				break;
			}
			bool write = cfg->rw == RW_WRITE || (cfg->rw == RW_VERIFY && run->write_phase);
			prepare(run, s, block, write);
			s->t0 = clock_now_ns();
			uint64_t tag = vhostio_initiator_next_tag(ini, w->queue);
			int r = vhostio_initiator_submit(ini, w->queue, &s->cmd);
			if (r == 0)
				note_tag(w, tag);
			if (r == -EAGAIN) {
				/* Out of descriptors: keep the command, resubmit after a reap. */
				s->busy = true;
				s->t0 = 0;
				break;
			}
			if (r < 0) {
				w->err = r;
				more = false;
				break;
			}
			s->busy = true;
			inflight++, queued++;
		}
		if (queued) {
			int r = vhostio_initiator_kick(ini, w->queue);
			if (r < 0) {
				w->err = r;
				more = false;
			}
		}
		/* Retry commands that found no descriptors (t0 == 0 marks them). */
		uint32_t retried = 0;
		for (uint32_t i = 0; queued == 0 && i < cfg->qd; i++) {
			struct slot *s = &w->slots[i];
			if (!s->busy || s->t0)
				continue;
			if (s->held && w->held && inflight)
				continue;
			s->held = false;
			s->t0 = clock_now_ns();
			uint64_t tag = vhostio_initiator_next_tag(ini, w->queue);
			if (vhostio_initiator_submit(ini, w->queue, &s->cmd) < 0) {
				s->t0 = 0;
				break;
			}
			note_tag(w, tag);
			inflight++, retried++;
		}
		if (retried)
			vhostio_initiator_kick(ini, w->queue);
		if (!inflight) {
			bool pending = false;
			for (uint32_t i = 0; i < cfg->qd; i++)
				pending |= w->slots[i].busy;
			if (!more && !pending)
				break;
		}
		int n = vhostio_initiator_reap(ini, w->queue, done, 256);
		if (n < 0) {
			w->err = n;
			break;
		}
		if (n == 0) {
			int r = vhostio_initiator_wait(ini, w->queue, 100);
			if (r < 0 && r != -ETIMEDOUT && r != -EINTR) {
				w->err = r;
				break;
			}
			if (inflight && clock_now_ns() - last_progress > (uint64_t)cfg->hang_ms * 1000000u) {
				w->hung = true;
				break;
			}
			if (interrupted(run))
				more = false;
			continue;
		}
		uint64_t t = clock_now_ns();
		last_progress = t;
		for (int i = 0; i < n; i++) {
			complete(w, done[i]->opaque, t);
			inflight--;
		}
		if (w->st.ua_retries == 1 && !w->ua_said) {
			w->ua_said = true;
			fprintf(stderr, "vhostio-io: queue %u: unit attention, retrying the command(s)\n", w->queue);
		}
	}
	return NULL;
}

/* One phase: workers on every queue until the I/O count or the deadline. */
/* One TMF of --tmf; ABORT/QUERY TASK name queue 0's latest command, in flight on a slow LUN. */
static void send_tmf(struct run *run, struct worker *ws, uint32_t tmf, struct tmf_result *tr)
{
	const struct config *cfg = run->cfg;
	uint64_t r0 = clock_now_ns();
	if (tmf == VHOSTIO_VIRTIO_T_TMF_ABORT_TASK || tmf == VHOSTIO_VIRTIO_T_TMF_QUERY_TASK) {
		tr->has_tag = atomic_load_explicit(&ws[0].has_tag, memory_order_acquire);
		tr->tag = atomic_load_explicit(&ws[0].last_tag, memory_order_relaxed);
	}
	uint8_t resp;
	int r = vhostio_initiator_tmf(run->ini, tmf, cfg->lun, tr->tag, cfg->hang_ms, &resp);
	tr->response = r < 0 ? r : resp;
	tr->took_ns = clock_now_ns() - r0;
	tr->done = true;
}

static bool run_phase(struct run *run, struct worker *ws, struct phase *into, struct tmf_result *tr)
{
	const struct config *cfg = run->cfg;
	atomic_store(&run->next, 0);
	uint64_t t0 = clock_now_ns();
	run->deadline = cfg->runtime > 0 && (cfg->rw != RW_VERIFY) ? t0 + (uint64_t)(cfg->runtime * 1e9) : 0;
	for (uint32_t q = 0; q < cfg->queues; q++) {
		memset(&ws[q].st, 0, sizeof(ws[q].st));
		ws[q].hung = false;
		atomic_store(&ws[q].has_tag, false);
		int r = pthread_create(&ws[q].thread, NULL, worker_main, &ws[q]);
		if (r)
			die(1, "pthread_create: %s", strerror(r));
	}
	if (tr && !tr->done) {
		/*
		 * The TMFs from this thread while the workers keep I/O in
		 * flight; a signal cuts the wait short, as it did a sleep.
		 */
		struct timespec d = { cfg->tmf_after_ms / 1000, (long)(cfg->tmf_after_ms % 1000) * 1000000 };
		if (sigtimedwait(&run->sigs, NULL, &d) > 0)
			atomic_store(&run->interrupted, true);
		for (uint32_t i = 0; i < cfg->ntmf; i++) {
			send_tmf(run, ws, cfg->tmf[i], &tr[i]);
			tr[i].at_ns = clock_now_ns() - t0;
		}
	}
	bool hung = false;
	for (uint32_t q = 0; q < cfg->queues; q++) {
		pthread_join(ws[q].thread, NULL);
		stats_merge(&into->st, &ws[q].st);
		hung |= ws[q].hung;
		if (ws[q].err)
			fprintf(stderr, "vhostio-io: queue %u: %s\n", q, strerror(-ws[q].err));
	}
	into->secs += (double)(clock_now_ns() - t0) / 1e9;
	for (uint32_t q = 0; q < cfg->queues; q++)
		if (ws[q].err)
			into->st.other++; /* an initiator error is an error of the run */
	return !hung;
}

static uint32_t pow2_at_least(uint64_t v)
{
	uint32_t p = 1;
	while (p < v && p < 32768)
		p <<= 1;
	return p;
}

int cmd_run(struct vio *v)
{
	const struct config *cfg = &v->cfg;
	if (cfg->bs < 512 || cfg->bs % 512)
		die(EXIT_USAGE, "--bs must be a multiple of 512");
	if (cfg->qd < 1 || cfg->qd > 4096)
		die(EXIT_USAGE, "--qd must be 1..4096");
	if (cfg->rw == RW_VERIFY && cfg->ios)
		die(EXIT_USAGE, "verify covers the working set: use --passes or --runtime, not --ios");
	/* A command takes up to 3 descriptors (header, data, response) without INDIRECT_DESC. */
	uint32_t qsize = cfg->queue_size ? cfg->queue_size : pow2_at_least((uint64_t)cfg->qd * 3 < 128 ? 128 : (uint64_t)cfg->qd * 3);
	uint64_t arena = (uint64_t)cfg->queues * cfg->qd * cfg->bs * 2 + (1 << 20);
	ini_open(v, cfg->queues, qsize, arena < (64u << 20) ? 0 : arena);
	struct vhostio_initiator *ini = v->ini;
	if (vhostio_initiator_num_queues(ini) < cfg->queues)
		die(1, "only %u request queue(s)", vhostio_initiator_num_queues(ini));

	struct run run = { .cfg = cfg, .ini = ini };
	uint64_t nlbas;
	bool lbpme;
	if (read_capacity(v, &nlbas, &run.lbsize, &lbpme) < 0)
		return 1;
	if (!run.lbsize || cfg->bs % run.lbsize)
		die(EXIT_USAGE, "--bs %u is not a multiple of the LUN's block size %u", cfg->bs, run.lbsize);
	uint64_t cap = nlbas * run.lbsize;
	if (cfg->offset % run.lbsize || cfg->offset >= cap)
		die(EXIT_USAGE, "--offset must be block aligned and below the capacity (%" PRIu64 ")", cap);
	uint64_t size = cfg->size ? cfg->size : cap - cfg->offset;
	if (size > cap - cfg->offset)
		die(EXIT_USAGE, "--offset + --size beyond the capacity (%" PRIu64 " bytes)", cap);
	run.base = cfg->offset;
	run.nblocks = size / cfg->bs;
	if (!run.nblocks)
		die(EXIT_USAGE, "the working set is smaller than one block of %u bytes", cfg->bs);
	run.gen = cfg->generation;
	perm_init(&run, cfg->seed);

	struct worker *ws = calloc(cfg->queues, sizeof(*ws));
	if (!ws)
		die(1, "out of memory");
	for (uint32_t q = 0; q < cfg->queues; q++) {
		ws[q].run = &run;
		ws[q].queue = q;
		ws[q].rng = splitmix(cfg->seed * 1000003u + q) | 1;
		ws[q].slots = calloc(cfg->qd, sizeof(struct slot));
		if (!ws[q].slots)
			die(1, "out of memory");
		for (uint32_t i = 0; i < cfg->qd; i++) {
			struct slot *s = &ws[q].slots[i];
			s->buf = vhostio_initiator_alloc(ini, cfg->bs);
			s->expect = malloc(cfg->bs);
			if (!s->buf || !s->expect)
				die(1, "no I/O memory for %u x %u x %u bytes", cfg->queues, cfg->qd, cfg->bs);
			s->cmd.opaque = s;
		}
	}
	pthread_t sig_thread = signals_start(&run);

	struct cpu_times cpu0, cpu1;
	cpu_times_now(&cpu0);
	struct phase wr = { 0 }, rd = { 0 }, all = { 0 };
	struct tmf_result tr[MAX_TMFS] = { 0 };
	struct tmf_result *trp = cfg->tmf_after_ms >= 0 ? tr : NULL;
	bool ok = true;
	uint32_t passes = 0;
	if (cfg->rw == RW_VERIFY) {
		/* Passes of write-all then read-all; --runtime repeats them with a new generation. */
		uint64_t t_end = cfg->runtime > 0 ? clock_now_ns() + (uint64_t)(cfg->runtime * 1e9) : 0;
		do {
			run.limit = run.nblocks;
			run.write_phase = true;
			ok = run_phase(&run, ws, &wr, trp);
			if (!ok || interrupted(&run))
				break;
			run.write_phase = false;
			ok = run_phase(&run, ws, &rd, NULL);
			passes++;
			run.gen++;
		} while (ok && !interrupted(&run) && (t_end ? clock_now_ns() < t_end : passes < cfg->passes));
		stats_merge(&all.st, &wr.st);
		stats_merge(&all.st, &rd.st);
		all.secs = wr.secs + rd.secs;
		all.st.miscompares = rd.st.miscompares;
	} else {
		run.limit = cfg->ios ? cfg->ios : cfg->runtime > 0 ? UINT64_MAX : run.nblocks;
		ok = run_phase(&run, ws, &all, trp);
	}

	cpu_times_now(&cpu1);
	char feat[256];
	features_string(ini, feat, sizeof(feat));
	struct run_report rep = {
		.cfg = cfg,
		.queue_size = qsize,
		.lbsize = run.lbsize,
		.base = run.base,
		.bytes = run.nblocks * cfg->bs,
		.features = feat,
		.features_bits = vhostio_initiator_features(ini),
		.passes = passes,
		.total = &all,
		.write = &wr,
		.read = &rd,
		.tmf = trp,
		.cpu = { cpu1.process_s - cpu0.process_s, cpu1.workers_s - cpu0.workers_s, cpu1.workers },
		.hung = !ok,
	};
	print_run_report(&rep);
	fflush(stdout);
	if (!ok) {
		/* Commands the kernel still owns: don't release their memory, just go. */
		fprintf(stderr, "vhostio-io: hang: commands outstanding for more than %d ms\n", cfg->hang_ms);
		_exit(EXIT_HANG);
	}
	/* run is on this stack: its signal thread goes first. */
	signals_stop(sig_thread);
	/*
	 * A LUN reset must succeed (as --lun-reset-after always required);
	 * any other TMF's answer is reported for the caller to judge, but it
	 * must have got one.
	 */
	bool tmf_bad = false;
	for (uint32_t i = 0; trp && i < cfg->ntmf; i++) {
		if (tr[i].done && tr[i].response >= 0 &&
		    (cfg->tmf[i] != VHOSTIO_VIRTIO_T_TMF_LOGICAL_UNIT_RESET ||
		     tr[i].response == VHOSTIO_VIRTIO_S_FUNCTION_SUCCEEDED))
			continue;
		fprintf(stderr, "vhostio-io: %s failed: %s\n", tmf_name(cfg->tmf[i]),
			tr[i].response < 0 ? strerror(-tr[i].response) : "not FUNCTION_SUCCEEDED");
		tmf_bad = true;
	}
	if (tmf_bad)
		return 1;
	if (all.st.miscompares)
		fprintf(stderr, "vhostio-io: %" PRIu64 " miscompare(s), first at LBA %" PRIu64 "\n",
			all.st.miscompares, all.st.first_bad_lba);
	for (uint32_t q = 0; q < cfg->queues; q++) {
		for (uint32_t i = 0; i < cfg->qd; i++) {
			vhostio_initiator_free(ini, ws[q].slots[i].buf);
			free(ws[q].slots[i].expect);
		}
		free(ws[q].slots);
	}
	free(ws);
	/* Aborted commands are expected under a TMF, and only there. */
	bool aborted_bad = all.st.aborted && !trp;
	return all.st.miscompares || all.st.other || aborted_bad || interrupted(&run) ? 1 : 0;
}
