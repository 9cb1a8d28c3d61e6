// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * worker-ioctls: the worker ioctls of Linux 6.5 (VHOST_NEW_WORKER,
 * VHOST_FREE_WORKER, VHOST_ATTACH_VRING_WORKER, VHOST_GET_VRING_WORKER) on
 * vhostio_scsi, and the workers it makes by itself:
 *
 *  - before SET_OWNER every one is refused (EPERM);
 *  - the threads: one "vhost-<pid>" per device in single mode, one more per
 *    request queue in per_vq mode (--expect-auto), and GET_VRING_WORKER
 *    names them (control queue on worker 0, each request queue on its own);
 *  - errors: an unknown worker (ENODEV), a queue index past the last
 *    (ENOBUFS), freeing a worker that serves a queue or worker 0 (EBUSY);
 *  - under verified I/O on every queue: queues moved to new workers, all
 *    onto one, back to worker 0, the new workers freed, for many rounds;
 *    a worker made automatically goes when its queue leaves it; no I/O
 *    fails or miscompares, and the threads freed are gone.
 *
 * A test tool built against vhostio_internal (the raw device fd).  PASS/FAIL
 * lines; exit 0 only if all pass.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/vhost.h>

#include <vhostio/initiator.h>

#include "initiator-raw.h"

struct worker_state {
	unsigned int worker_id;
};
struct vring_worker {
	unsigned int index;
	unsigned int worker_id;
};
#define NEW_WORKER _IOR(VHOST_VIRTIO, 0x8, struct worker_state)
#define FREE_WORKER _IOW(VHOST_VIRTIO, 0x9, struct worker_state)
#define ATTACH_VRING_WORKER _IOW(VHOST_VIRTIO, 0x15, struct vring_worker)
#define GET_VRING_WORKER _IOWR(VHOST_VIRTIO, 0x16, struct vring_worker)

#define QUEUES 4u
#define VQ_REQ0 2u
#define IO_BLOCKS 8u            /* 4 KiB per command */
#define BLOCKS_PER_QUEUE 512u   /* each queue writes its own 256 KiB */
#define TIMEOUT_MS 20000

static int failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	printf("%s: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

static int new_worker(int fd, unsigned *id)
{
	struct worker_state ws = { 0 };
	if (ioctl(fd, NEW_WORKER, &ws))
		return -errno;
	*id = ws.worker_id;
	return 0;
}

static int free_worker(int fd, unsigned id)
{
	struct worker_state ws = { .worker_id = id };
	return ioctl(fd, FREE_WORKER, &ws) ? -errno : 0;
}

static int attach(int fd, unsigned vq, unsigned id)
{
	struct vring_worker vw = { .index = vq, .worker_id = id };
	return ioctl(fd, ATTACH_VRING_WORKER, &vw) ? -errno : 0;
}

static int get_worker(int fd, unsigned vq, unsigned *id)
{
	struct vring_worker vw = { .index = vq };
	if (ioctl(fd, GET_VRING_WORKER, &vw))
		return -errno;
	*id = vw.worker_id;
	return 0;
}

/* Kernel threads named "vhost-<our pid>": the device's workers. */
static int count_threads(void)
{
	char want[32], path[300], comm[64];
	snprintf(want, sizeof(want), "vhost-%d\n", getpid());
	DIR *d = opendir("/proc");
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f) && !strcmp(comm, want))
			n++;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

/* ---- verified I/O, one thread per request queue ---- */

struct io_thread {
	struct vhostio_initiator *ini;
	uint32_t queue;
	uint16_t lun;
	uint8_t *buf, *rbuf;
	atomic_bool *stop;
	uint64_t ios, errors, miscompares;
	pthread_t tid;
};

/* One command on the thread's own queue, waited for. */
static int qrun(struct io_thread *t, struct vhostio_scsi_cmd *cmd)
{
	int ret = vhostio_initiator_submit(t->ini, t->queue, cmd);
	if (!ret)
		ret = vhostio_initiator_kick(t->ini, t->queue);
	if (ret)
		return ret;
	for (;;) {
		struct vhostio_scsi_cmd *done;
		int n = vhostio_initiator_reap(t->ini, t->queue, &done, 1);
		if (n < 0)
			return n;
		if (n == 1)
			return done == cmd && cmd->response == 0 && cmd->status == 0 ? 0 : -EIO;
		if ((ret = vhostio_initiator_wait(t->ini, t->queue, TIMEOUT_MS)))
			return ret;
	}
}

static void rw10(struct vhostio_scsi_cmd *cmd, bool write, uint32_t lba, struct iovec *iov)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->cdb_len = 10;
	cmd->cdb[0] = write ? 0x2a : 0x28;
	cmd->cdb[2] = lba >> 24;
	cmd->cdb[3] = lba >> 16;
	cmd->cdb[4] = lba >> 8;
	cmd->cdb[5] = lba;
	cmd->cdb[8] = IO_BLOCKS;
	if (write) {
		cmd->data_out = iov;
		cmd->data_out_cnt = 1;
	} else {
		cmd->data_in = iov;
		cmd->data_in_cnt = 1;
	}
}

static void *io_main(void *arg)
{
	struct io_thread *t = arg;
	uint32_t base = t->queue * BLOCKS_PER_QUEUE, i = 0;
	while (!atomic_load(t->stop)) {
		uint32_t lba = base + (i * IO_BLOCKS) % BLOCKS_PER_QUEUE;
		struct iovec w = { t->buf, IO_BLOCKS * 512 }, r = { t->rbuf, IO_BLOCKS * 512 };
		struct vhostio_scsi_cmd cmd;
		/* Each write a new pattern: a stale read cannot pass for it. */
		for (size_t k = 0; k < IO_BLOCKS * 512; k += 8) {
			uint64_t v = ((uint64_t)t->queue << 56) ^ ((uint64_t)i << 20) ^ k;
			memcpy(t->buf + k, &v, 8);
		}
		rw10(&cmd, true, lba, &w);
		cmd.lun = t->lun;
		if (qrun(t, &cmd)) {
			t->errors++;
			break;
		}
		memset(t->rbuf, 0, IO_BLOCKS * 512);
		rw10(&cmd, false, lba, &r);
		cmd.lun = t->lun;
		if (qrun(t, &cmd)) {
			t->errors++;
			break;
		}
		if (memcmp(t->buf, t->rbuf, IO_BLOCKS * 512))
			t->miscompares++;
		t->ios += 2;
		i++;
	}
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	const char *wwpn = NULL;
	long tpgt = 1, lun = 0, rounds = 20;
	int expect_auto = -1;
	static const struct option opts[] = {
		{ "wwpn", required_argument, NULL, 'w' },   { "tpgt", required_argument, NULL, 't' },
		{ "lun", required_argument, NULL, 'l' },    { "rounds", required_argument, NULL, 'r' },
		{ "expect-auto", required_argument, NULL, 'a' }, { 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'w': wwpn = optarg; break;
		case 't': tpgt = strtol(optarg, NULL, 0); break;
		case 'l': lun = strtol(optarg, NULL, 0); break;
		case 'r': rounds = strtol(optarg, NULL, 0); break;
		case 'a': expect_auto = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!wwpn || expect_auto < 0) {
		fprintf(stderr, "usage: worker-ioctls --wwpn naa.X --expect-auto 0|1 [--tpgt N] [--lun L] [--rounds N]\n");
		return 2;
	}

	/* Not the owner: every worker ioctl refused. */
	int raw = open("/dev/vhost-scsi", O_RDWR | O_CLOEXEC);
	check(raw >= 0, "open /dev/vhost-scsi");
	if (raw >= 0) {
		unsigned id;
		check(new_worker(raw, &id) == -EPERM, "NEW_WORKER before SET_OWNER: EPERM");
		check(free_worker(raw, 0) == -EPERM, "FREE_WORKER before SET_OWNER: EPERM");
		check(attach(raw, VQ_REQ0, 0) == -EPERM, "ATTACH_VRING_WORKER before SET_OWNER: EPERM");
		check(get_worker(raw, 0, &id) == -EPERM, "GET_VRING_WORKER before SET_OWNER: EPERM");
		close(raw);
	}

	struct vhostio_initiator *ini;
	struct vhostio_initiator_opts io = { .struct_size = sizeof(io), .num_queues = QUEUES };
	int ret = vhostio_initiator_open(&ini, &io);
	if (ret) {
		check(false, "initiator open: %s", strerror(-ret));
		return 1;
	}
	if ((ret = vhostio_initiator_attach(ini, wwpn, (uint16_t)tpgt))) {
		check(false, "attach %s: %s", wwpn, strerror(-ret));
		return 1;
	}
	int fd = vhostio_initiator_raw_fd(ini);

	/* Who serves what, as the device set it up. */
	unsigned ctl = 99, q[QUEUES];
	ret = get_worker(fd, 0, &ctl);
	check(ret == 0 && ctl == 0, "control queue on worker 0 (got %u)", ctl);
	bool own = true, distinct = true;
	for (unsigned i = 0; i < QUEUES; i++) {
		q[i] = 99;
		get_worker(fd, VQ_REQ0 + i, &q[i]);
		own &= q[i] != 0;
		for (unsigned j = 0; j < i; j++)
			distinct &= q[i] != q[j];
	}
	int threads = count_threads();
	if (expect_auto) {
		check(own && distinct, "per_vq: each request queue on a worker of its own (%u %u %u %u)", q[0], q[1],
		      q[2], q[3]);
		check(threads == 1 + (int)QUEUES, "per_vq: %d vhost-%d threads (want %u)", threads, getpid(),
		      1 + QUEUES);
	} else {
		check(!q[0] && !q[1] && !q[2] && !q[3], "single: every request queue on worker 0");
		check(threads == 1, "single: %d vhost-%d thread(s) (want 1)", threads, getpid());
	}

	/* Errors. */
	unsigned id = 0, w1 = 0;
	check(free_worker(fd, 9999) == -ENODEV, "FREE_WORKER of an unknown id: ENODEV");
	check(attach(fd, VQ_REQ0, 9999) == -ENODEV, "ATTACH_VRING_WORKER to an unknown worker: ENODEV");
	check(attach(fd, 200, 0) == -ENOBUFS, "ATTACH_VRING_WORKER of queue 200: ENOBUFS");
	check(get_worker(fd, 200, &id) == -ENOBUFS, "GET_VRING_WORKER of queue 200: ENOBUFS");
	check(free_worker(fd, 0) == -EBUSY, "FREE_WORKER of worker 0: EBUSY");
	ret = new_worker(fd, &w1);
	check(ret == 0 && w1 != 0, "NEW_WORKER: id %u", w1);
	check(free_worker(fd, w1) == 0, "FREE_WORKER of an idle worker");
	check(free_worker(fd, w1) == -ENODEV, "FREE_WORKER again: ENODEV");

	/* Under I/O. */
	void *arena_base;
	size_t arena_size;
	vhostio_initiator_raw_arena(ini, &arena_base, &arena_size);
	atomic_bool stop = false;
	struct io_thread t[QUEUES];
	for (unsigned i = 0; i < QUEUES; i++) {
		t[i] = (struct io_thread){ .ini = ini, .queue = i, .lun = (uint16_t)lun, .stop = &stop };
		t[i].buf = vhostio_initiator_alloc(ini, IO_BLOCKS * 512);
		t[i].rbuf = vhostio_initiator_alloc(ini, IO_BLOCKS * 512);
		if (!t[i].buf || !t[i].rbuf || pthread_create(&t[i].tid, NULL, io_main, &t[i])) {
			check(false, "I/O thread %u", i);
			return 1;
		}
	}
	sleep_ms(200);
	int bad = 0;
	/* The automatic workers go as their queues leave them. */
	unsigned nw[QUEUES];
	if (new_worker(fd, &w1))
		bad++;
	for (unsigned i = 0; i < QUEUES; i++)
		bad += attach(fd, VQ_REQ0 + i, w1) != 0;
	if (expect_auto) {
		int gone = 0;
		for (unsigned i = 0; i < QUEUES; i++)
			gone += free_worker(fd, q[i]) == -ENODEV;
		check(gone == (int)QUEUES, "the automatic workers went when their queues left (%d of %u)", gone,
		      QUEUES);
	}
	check(free_worker(fd, w1) == -EBUSY, "FREE_WORKER of a worker serving queues: EBUSY");
	ret = get_worker(fd, VQ_REQ0 + 1, &id);
	check(ret == 0 && id == w1, "GET_VRING_WORKER names the new worker (%u)", id);
	for (long r = 0; r < rounds; r++) {
		/* a worker per queue, then all on one, then back to worker 0 */
		for (unsigned i = 0; i < QUEUES; i++) {
			if (new_worker(fd, &nw[i]))
				bad++;
			else
				bad += attach(fd, VQ_REQ0 + i, nw[i]) != 0;
		}
		sleep_ms(20);
		for (unsigned i = 0; i < QUEUES; i++)
			bad += attach(fd, VQ_REQ0 + i, w1) != 0;
		for (unsigned i = 0; i < QUEUES; i++)
			bad += free_worker(fd, nw[i]) != 0;
		sleep_ms(20);
		for (unsigned i = 0; i < QUEUES; i++)
			bad += attach(fd, VQ_REQ0 + i, r % 2 ? 0 : w1) != 0;
		sleep_ms(10);
	}
	check(bad == 0, "%ld rounds of attach, move and free under I/O: %d ioctl(s) failed", rounds, bad);
	for (unsigned i = 0; i < QUEUES; i++)
		attach(fd, VQ_REQ0 + i, 0);
	check(free_worker(fd, w1) == 0, "FREE_WORKER once its queues left");
	sleep_ms(200);
	atomic_store(&stop, true);
	uint64_t ios = 0, errors = 0, mis = 0, least = UINT64_MAX;
	for (unsigned i = 0; i < QUEUES; i++) {
		pthread_join(t[i].tid, NULL);
		ios += t[i].ios;
		errors += t[i].errors;
		mis += t[i].miscompares;
		if (t[i].ios < least)
			least = t[i].ios;
	}
	check(errors == 0 && mis == 0, "I/O meanwhile: %" PRIu64 " commands, %" PRIu64 " failed, %" PRIu64
	      " miscompared", ios, errors, mis);
	check(least > 0, "every queue made progress (least %" PRIu64 ")", least);
	threads = count_threads();
	check(threads == 1, "the freed workers' threads are gone: %d vhost-%d thread(s) left", threads, getpid());
	vhostio_initiator_close(ini);
	printf("%s\n", failures ? "some checks failed" : "all checks passed");
	return failures ? 1 : 0;
}
