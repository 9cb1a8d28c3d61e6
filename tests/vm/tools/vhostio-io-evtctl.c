// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vhostio-io-evtctl: the event and control queues of /dev/vhost-scsi
 * written by hand, for claims of vhostio_scsi that the library's own
 * calls never exercise: hotplug events with no buffer posted (the
 * 128-event bound, EVENTS_MISSED), VHOST_SCSI_SET/GET_EVENTS_MISSED,
 * malformed event buffers, hostile control requests (LUN bytes,
 * subtypes, lengths, AN, unknown types) and the task-set TMFs the fabric
 * performs itself, on a LUN whose commands never end.
 *
 * A test tool built against vhostio_internal (initiator-raw.h).  Prints
 * "ok - ..." or "not ok - ..." per check; exit 0 only if all passed.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_scsi.h>

#include <vhostio/initiator.h>

#include "initiator-raw.h"

#define VQ_CTRL_IDX 0u
#define VQ_EVT_IDX 1u
#define ANSWER_MS 15000
#define QUIET_MS 3000
#define EVBUF_STRIDE 32u /* 16 bytes of event, 16 of guard */
#define GUARD 0xa5

static int failures;
static const char *wwpn, *tpg_dir, *backstore;
static uint8_t tpgt = 1;
static uint16_t lun = 0, hotplug_lun = 5, absent_lun = 7, other_lun = 1;

#define CHECK(cond, ...)                                                                                               \
	do {                                                                                                           \
		bool ok_ = (cond);                                                                                     \
		printf("%s - ", ok_ ? "ok" : "not ok");                                                                \
		printf(__VA_ARGS__);                                                                                   \
		putchar('\n');                                                                                         \
		fflush(stdout);                                                                                        \
		if (!ok_)                                                                                              \
			failures++;                                                                                    \
	} while (0)

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One raw queue: our own avail and used counters. */
struct rq {
	struct vhostio_raw_vq raw;
	uint16_t avail;
	uint16_t used;
};

struct ctx {
	struct vhostio_initiator *ini;
	int fd;
	struct rq q;
	uint8_t *mem; /* 16 pages: requests, responses, event buffers */
};

static void set_desc(struct vring_desc *d, uint16_t i, const void *addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d[i].addr = htole64((uint64_t)(uintptr_t)addr);
	d[i].len = htole32(len);
	d[i].flags = htole16(flags);
	d[i].next = htole16(next);
}

static void rq_publish(struct rq *q, uint16_t head)
{
	struct vq *vq = q->raw.vq;
	vq->avail->ring[q->avail & (vq->num - 1)] = htole16(head);
	q->avail++;
	__atomic_store_n(&vq->avail->idx, htole16(q->avail), __ATOMIC_RELEASE);
}

static void rq_kick(struct rq *q)
{
	uint64_t one = 1;
	if (write(q->raw.kick_fd, &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

/* 1 and the used entry, or 0 when none came within ms. */
static int rq_wait(struct rq *q, int ms, uint32_t *id, uint32_t *len)
{
	struct vq *vq = q->raw.vq;
	int64_t end = now_ms() + ms;
	for (;;) {
		uint16_t idx = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
		if (idx != q->used) {
			struct vring_used_elem *e = &vq->used->ring[q->used & (vq->num - 1)];
			*id = le32toh(e->id);
			*len = le32toh(e->len);
			q->used++;
			return 1;
		}
		if (now_ms() >= end)
			return 0;
		usleep(2000);
	}
}

/*
 * Open and attach; with raw_idx >= 0 that queue is ours.  The library
 * posts event buffers at open: for the event queue they are taken back
 * (avail index 0 again) before attach lets the device look at it.
 */
static int setup(struct ctx *c, int raw_idx, uint32_t nq)
{
	struct vhostio_initiator_opts o = { .struct_size = sizeof(o), .num_queues = nq, .queue_size = 64,
					     .arena_size = 4u << 20 };
	memset(c, 0, sizeof(*c));
	int ret = vhostio_initiator_open(&c->ini, &o);
	if (!ret && raw_idx >= 0)
		ret = vhostio_initiator_raw_vq(c->ini, (unsigned)raw_idx, &c->q.raw);
	if (!ret && raw_idx == (int)VQ_EVT_IDX)
		__atomic_store_n(&c->q.raw.vq->avail->idx, 0, __ATOMIC_RELEASE);
	if (!ret)
		ret = vhostio_initiator_attach(c->ini, wwpn, tpgt);
	if (!ret && !(c->mem = vhostio_initiator_alloc(c->ini, 16 * 4096)))
		ret = -ENOMEM;
	c->fd = vhostio_initiator_raw_fd(c->ini);
	CHECK(ret == 0, "setup: open, attach %s/%u (%s)", wwpn, tpgt, strerror(-ret));
	return ret;
}

/* INQUIRY through the library on request queue 0: the device still serves. */
static bool inquiry_ok(struct ctx *c)
{
	uint8_t *buf = vhostio_initiator_alloc(c->ini, 4096);
	if (!buf)
		return false;
	struct iovec iov = { buf, 96 };
	struct vhostio_scsi_cmd cmd = { .lun = lun, .cdb_len = 6, .cdb = { 0x12, 0, 0, 0, 96, 0 },
					 .data_in = &iov, .data_in_cnt = 1 };
	int ret = vhostio_initiator_run(c->ini, &cmd, ANSWER_MS);
	bool ok = !ret && cmd.response == 0 && cmd.status == 0 && cmd.residual < 96 && (buf[0] & 0x1f) == 0;
	vhostio_initiator_free(c->ini, buf);
	return ok;
}

static int ev_ioctl(struct ctx *c, unsigned long req, uint32_t *v)
{
	return ioctl(c->fd, req, v) ? -errno : 0;
}

static uint32_t get_missed(struct ctx *c)
{
	uint32_t v = 0xdeadbeef;
	ev_ioctl(c, VHOST_SCSI_GET_EVENTS_MISSED, &v);
	return v;
}

/* Wait until GET_EVENTS_MISSED reads want (the worker sets it on its own time). */
static bool wait_missed(struct ctx *c, uint32_t want)
{
	int64_t end = now_ms() + ANSWER_MS;
	while (get_missed(c) != want) {
		if (now_ms() >= end)
			return false;
		usleep(10000);
	}
	return true;
}

/* ---- hotplug through configfs ---- */

static char lun_dir[512], link_path[600];

static bool hotplug_prepare(void)
{
	snprintf(lun_dir, sizeof(lun_dir), "%s/lun/lun_%u", tpg_dir, hotplug_lun);
	snprintf(link_path, sizeof(link_path), "%s/hp", lun_dir);
	return mkdir(lun_dir, 0755) == 0 || errno == EEXIST;
}

/* n events: link (RESCAN) and unlink (REMOVED) in turn, starting with a link. */
static int hotplug(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int r = i % 2 == 0 ? symlink(backstore, link_path) : unlink(link_path);
		if (r) {
			fprintf(stderr, "hotplug %u: %s: %s\n", i, link_path, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static void hotplug_done(void)
{
	unlink(link_path);
	rmdir(lun_dir);
}

/* ---- the event queue ---- */

static uint8_t *evbuf(struct ctx *c, unsigned i)
{
	return c->mem + 8192 + i * EVBUF_STRIDE;
}

/* Post event buffer i (descriptor i) as a plain writable 16-byte buffer. */
static void ev_post(struct ctx *c, uint16_t i)
{
	memset(evbuf(c, i), GUARD, EVBUF_STRIDE);
	set_desc(c->q.raw.vq->desc, i, evbuf(c, i), sizeof(struct virtio_scsi_event), VRING_DESC_F_WRITE, 0);
	rq_publish(&c->q, i);
}

struct got_ev {
	uint32_t id, len, event, reason;
	uint8_t lun[8];
	bool guard_ok;
};

static bool guard_ok(const uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p[i] != GUARD)
			return false;
	return true;
}

/* Take used event buffers until none comes for QUIET_MS (or max); repost each when repost. */
static unsigned ev_collect(struct ctx *c, struct got_ev *g, unsigned max, bool repost)
{
	unsigned n = 0;
	uint32_t id, len;
	while (n < max && rq_wait(&c->q, n ? QUIET_MS : ANSWER_MS, &id, &len)) {
		struct got_ev *e = &g[n++];
		e->id = id;
		e->len = len;
		if (id < c->q.raw.vq->num) {
			struct virtio_scsi_event ev;
			memcpy(&ev, evbuf(c, id), sizeof(ev));
			e->event = le32toh(ev.event);
			e->reason = le32toh(ev.reason);
			memcpy(e->lun, ev.lun, 8);
			e->guard_ok = guard_ok(evbuf(c, id), sizeof(ev), EVBUF_STRIDE);
			if (repost) {
				ev_post(c, (uint16_t)id);
				rq_kick(&c->q);
			}
		}
	}
	return n;
}

static bool lun_is(const uint8_t *l, uint16_t want)
{
	return l[0] == 1 && l[1] == tpgt && l[2] == (want >= 256 ? (0x40 | (want >> 8)) : 0) &&
	       l[3] == (want & 0xff) && !l[4] && !l[5] && !l[6] && !l[7];
}

/* The k-th event of a hotplug() run, as the module must deliver it. */
static bool ev_is_hotplug(const struct got_ev *e, unsigned k, bool missed)
{
	uint32_t want = VIRTIO_SCSI_T_TRANSPORT_RESET | (missed ? VIRTIO_SCSI_T_EVENTS_MISSED : 0);
	return e->len == sizeof(struct virtio_scsi_event) && e->event == want &&
	       e->reason == (k % 2 == 0 ? VIRTIO_SCSI_EVT_RESET_RESCAN : VIRTIO_SCSI_EVT_RESET_REMOVED) &&
	       lun_is(e->lun, hotplug_lun) && e->guard_ok;
}

#define MAX_GOT 400

/* (a) more than 128 events with no buffer posted. */
static void mode_events_overflow(void)
{
	struct ctx c;
	static struct got_ev g[MAX_GOT];
	const unsigned made = 140;
	if (setup(&c, VQ_EVT_IDX, 1))
		return;
	CHECK(hotplug_prepare(), "mkdir %s", lun_dir);
	CHECK(get_missed(&c) == 0, "GET_EVENTS_MISSED 0 before any event");
	int64_t t0 = now_ms();
	CHECK(hotplug(made) == 0, "%u hotplug events (link/unlink lun_%u) with no event buffer posted, %lld ms", made,
	      hotplug_lun, (long long)(now_ms() - t0));
	CHECK(wait_missed(&c, 1), "GET_EVENTS_MISSED reads 1 once events were dropped (got %u)", get_missed(&c));
	for (uint16_t i = 0; i < c.q.raw.vq->num; i++)
		ev_post(&c, i);
	rq_kick(&c.q);
	unsigned n = ev_collect(&c, g, MAX_GOT, true);
	CHECK(n == 128, "events delivered after posting buffers: %u (want the 128 kept, of %u)", n, made);
	CHECK(n > 0 && ev_is_hotplug(&g[0], 0, true),
	      "first event TRANSPORT_RESET|EVENTS_MISSED (event %#x reason %u lun %02x %02x %02x %02x len %u)",
	      n ? g[0].event : 0, n ? g[0].reason : 0, g[0].lun[0], g[0].lun[1], g[0].lun[2], g[0].lun[3],
	      n ? g[0].len : 0);
	unsigned bad = 0;
	for (unsigned k = 1; k < n; k++)
		if (!ev_is_hotplug(&g[k], k, false)) {
			if (!bad)
				printf("# event %u: event %#x reason %u len %u\n", k, g[k].event, g[k].reason, g[k].len);
			bad++;
		}
	CHECK(n > 1 && bad == 0, "events 2..%u: the first events made, in order (RESCAN/REMOVED), no EVENTS_MISSED, "
				  "nothing written past 16 bytes (%u wrong)", n, bad);
	CHECK(get_missed(&c) == 0, "GET_EVENTS_MISSED 0 after the EVENTS_MISSED event (got %u)", get_missed(&c));

	/* Fewer than the bound, buffers posted: delivered as they come, no flag. */
	CHECK(hotplug(4) == 0, "4 more events with buffers posted");
	n = ev_collect(&c, g, MAX_GOT, true);
	bad = 0;
	for (unsigned k = 0; k < n; k++)
		bad += !ev_is_hotplug(&g[k], k, false);
	CHECK(n == 4 && bad == 0, "4 events delivered, in order, without EVENTS_MISSED (%u delivered, %u wrong)", n, bad);
	hotplug_done();
	CHECK(inquiry_ok(&c), "INQUIRY on LUN %u answered GOOD afterwards", lun);
	vhostio_initiator_close(c.ini);
}

static int endpoint_ioctl(struct ctx *c, unsigned long req)
{
	struct vhost_scsi_target t = { .abi_version = VHOST_SCSI_ABI_VERSION, .vhost_tpgt = tpgt };
	snprintf(t.vhost_wwpn, sizeof(t.vhost_wwpn), "%s", wwpn);
	return ioctl(c->fd, req, &t) ? -errno : 0;
}

/*
 * (a) Dropped events, and then nothing pending: the pending ones go with
 * CLEAR_ENDPOINT, the missed flag stays, and the next buffer gets
 * NO_EVENT|EVENTS_MISSED.
 */
static void mode_events_cleared(void)
{
	struct ctx c;
	static struct got_ev g[MAX_GOT];
	if (setup(&c, VQ_EVT_IDX, 1))
		return;
	CHECK(hotplug_prepare(), "mkdir %s", lun_dir);
	CHECK(hotplug(130) == 0, "130 hotplug events with no event buffer posted");
	CHECK(wait_missed(&c, 1), "GET_EVENTS_MISSED reads 1 (got %u)", get_missed(&c));
	hotplug_done();
	int r1 = endpoint_ioctl(&c, VHOST_SCSI_CLEAR_ENDPOINT);
	int r2 = endpoint_ioctl(&c, VHOST_SCSI_SET_ENDPOINT);
	CHECK(!r1 && !r2, "CLEAR_ENDPOINT then SET_ENDPOINT (%d, %d): the 128 pending events dropped", r1, r2);
	CHECK(get_missed(&c) == 1, "GET_EVENTS_MISSED still 1 (got %u)", get_missed(&c));
	for (uint16_t i = 0; i < c.q.raw.vq->num; i++)
		ev_post(&c, i);
	rq_kick(&c.q);
	unsigned n = ev_collect(&c, g, MAX_GOT, true);
	CHECK(n == 1 && g[0].len == sizeof(struct virtio_scsi_event) && g[0].event == VIRTIO_SCSI_T_EVENTS_MISSED &&
		      g[0].reason == 0 && g[0].guard_ok,
	      "exactly one event, NO_EVENT|EVENTS_MISSED (%u delivered, first %#x reason %u len %u)", n,
	      n ? g[0].event : 0, n ? g[0].reason : 0, n ? g[0].len : 0);
	CHECK(get_missed(&c) == 0, "GET_EVENTS_MISSED 0 afterwards (got %u)", get_missed(&c));
	CHECK(inquiry_ok(&c), "INQUIRY on LUN %u answered GOOD afterwards", lun);
	vhostio_initiator_close(c.ini);
}

/* (a) VHOST_SCSI_SET_EVENTS_MISSED / GET_EVENTS_MISSED. */
static void mode_events_ioctl(void)
{
	struct ctx c;
	struct got_ev g[8];
	uint32_t v;
	int r;
	if (setup(&c, VQ_EVT_IDX, 1))
		return;
	CHECK(hotplug_prepare(), "mkdir %s", lun_dir);
	CHECK(get_missed(&c) == 0, "GET_EVENTS_MISSED 0 on a new device");
	r = ioctl(c.fd, VHOST_SCSI_SET_EVENTS_MISSED, NULL) ? -errno : 0;
	CHECK(r == -EFAULT, "SET_EVENTS_MISSED from a NULL pointer: EFAULT (got %d)", r);
	r = ioctl(c.fd, VHOST_SCSI_GET_EVENTS_MISSED, (void *)8) ? -errno : 0;
	CHECK(r == -EFAULT, "GET_EVENTS_MISSED to address 8: EFAULT (got %d)", r);
	CHECK(get_missed(&c) == 0, "still 0 after the faulting SET");

	static const uint32_t vals[] = { 1, 0xffffffffu, 0x80000000u };
	for (unsigned i = 0; i < 3; i++) {
		v = vals[i];
		r = ev_ioctl(&c, VHOST_SCSI_SET_EVENTS_MISSED, &v);
		/* Stock keeps a bool: any value but 0 reads back as 1. */
		CHECK(r == 0 && get_missed(&c) == 1, "SET_EVENTS_MISSED %#x: 0, GET reads 1 (%d, %#x)", vals[i], r,
		      get_missed(&c));
		ev_post(&c, (uint16_t)i);
		rq_kick(&c.q);
		unsigned n = ev_collect(&c, g, 8, false);
		CHECK(n == 1 && g[0].id == i && g[0].len == sizeof(struct virtio_scsi_event) &&
			      g[0].event == VIRTIO_SCSI_T_EVENTS_MISSED && g[0].reason == 0 && !memcmp(g[0].lun, "\0\0\0\0\0\0\0\0", 8) &&
			      g[0].guard_ok,
		      "  the next buffer: NO_EVENT|EVENTS_MISSED, nothing else (%u delivered, event %#x len %u)", n,
		      n ? g[0].event : 0, n ? g[0].len : 0);
		CHECK(get_missed(&c) == 0, "  GET_EVENTS_MISSED 0 after delivery (got %#x)", get_missed(&c));
	}

	/* Set, then cleared again: nothing to deliver; a buffer stays posted. */
	v = 1;
	ev_ioctl(&c, VHOST_SCSI_SET_EVENTS_MISSED, &v);
	v = 0;
	r = ev_ioctl(&c, VHOST_SCSI_SET_EVENTS_MISSED, &v);
	CHECK(r == 0 && get_missed(&c) == 0, "SET_EVENTS_MISSED 1 then 0: GET reads 0");
	ev_post(&c, 3);
	rq_kick(&c.q);
	uint32_t id, len;
	CHECK(!rq_wait(&c.q, QUIET_MS, &id, &len), "  a buffer posted after clearing it stays unused");

	/* SET kicks the queue: a buffer already posted takes the flag at once. */
	v = 1;
	ev_ioctl(&c, VHOST_SCSI_SET_EVENTS_MISSED, &v);
	unsigned n = ev_collect(&c, g, 8, false);
	CHECK(n == 1 && g[0].id == 3 && g[0].event == VIRTIO_SCSI_T_EVENTS_MISSED,
	      "SET_EVENTS_MISSED 1 with that buffer posted: NO_EVENT|EVENTS_MISSED in it at once (%u, event %#x)", n,
	      n ? g[0].event : 0);

	/* The flag rides on the first real event pending. */
	CHECK(hotplug(1) == 0, "no buffer posted: a LUN linked (RESCAN pending)");
	v = 1;
	ev_ioctl(&c, VHOST_SCSI_SET_EVENTS_MISSED, &v);
	ev_post(&c, 10);
	rq_kick(&c.q);
	n = ev_collect(&c, g, 8, false);
	CHECK(n == 1 && ev_is_hotplug(&g[0], 0, true),
	      "SET_EVENTS_MISSED 1, then a buffer: TRANSPORT_RESET|EVENTS_MISSED, RESCAN (%u, event %#x reason %u)", n,
	      n ? g[0].event : 0, n ? g[0].reason : 0);
	ev_post(&c, 11);
	rq_kick(&c.q);
	CHECK(unlink(link_path) == 0, "the LUN unlinked");
	n = ev_collect(&c, g, 8, false);
	CHECK(n == 1 && ev_is_hotplug(&g[0], 1, false), "  next event REMOVED, without the flag (%u, event %#x reason %u)",
	      n, n ? g[0].event : 0, n ? g[0].reason : 0);
	hotplug_done();
	CHECK(inquiry_ok(&c), "INQUIRY on LUN %u answered GOOD afterwards", lun);
	vhostio_initiator_close(c.ini);
}

/* (b) Malformed event buffers: given back with length 0, the event goes to the next good one. */
static void mode_event_buffers(void)
{
	struct ctx c;
	struct got_ev g[16];
	if (setup(&c, VQ_EVT_IDX, 1))
		return;
	CHECK(hotplug_prepare(), "mkdir %s", lun_dir);
	struct vring_desc *d = c.q.raw.vq->desc;
	for (unsigned i = 0; i < 12; i++)
		memset(evbuf(&c, i), GUARD, EVBUF_STRIDE);
	/* 0: device-readable only */
	set_desc(d, 0, evbuf(&c, 0), 16, 0, 0);
	/* 1: writable but 15 bytes */
	set_desc(d, 1, evbuf(&c, 1), 15, VRING_DESC_F_WRITE, 0);
	/* 2: writable, outside guest memory (page 1 of the address space) */
	d[2] = (struct vring_desc){ .addr = htole64(0x1000), .len = htole32(16), .flags = htole16(VRING_DESC_F_WRITE) };
	/* 3: readable 4 then writable 16 */
	set_desc(d, 3, evbuf(&c, 3), 4, VRING_DESC_F_NEXT, 4);
	set_desc(d, 4, evbuf(&c, 4), 16, VRING_DESC_F_WRITE, 0);
	/* 5: writable, ends past the end of the arena region */
	uint8_t *end = (uint8_t *)c.mem; /* page-aligned; region end unknown here: use a huge length */
	set_desc(d, 5, end, 0x7fffffff, VRING_DESC_F_WRITE, 0);
	/* 6: a good one */
	set_desc(d, 6, evbuf(&c, 6), 16, VRING_DESC_F_WRITE, 0);
	/* 7: good, split 8 + 8 over two descriptors */
	set_desc(d, 7, evbuf(&c, 7), 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 8);
	set_desc(d, 8, evbuf(&c, 7) + 8, 8, VRING_DESC_F_WRITE, 0);
	static const uint16_t heads[] = { 0, 1, 2, 3, 5, 6, 7 };
	for (unsigned i = 0; i < 7; i++)
		rq_publish(&c.q, heads[i]);
	rq_kick(&c.q);
	uint32_t id, len;
	CHECK(!rq_wait(&c.q, 1000, &id, &len), "buffers posted, no event pending: none used");
	CHECK(hotplug(2) == 0, "2 hotplug events");
	unsigned n = ev_collect(&c, g, 16, false);
	CHECK(n == 7, "7 used entries for the 7 chains (got %u)", n);
	static const char *const what[] = { "device-readable", "15 bytes", "outside guest memory",
					    "readable before writable", "length past the region" };
	for (unsigned i = 0; i < 5 && i < n; i++)
		CHECK(g[i].id == heads[i] && g[i].len == 0, "%s buffer: given back, used len 0 (head %u len %u)",
		      what[i], g[i].id, g[i].len);
	CHECK(guard_ok(evbuf(&c, 0), 0, EVBUF_STRIDE) && guard_ok(evbuf(&c, 1), 0, EVBUF_STRIDE) &&
		      guard_ok(evbuf(&c, 3), 0, EVBUF_STRIDE) && guard_ok(evbuf(&c, 4), 0, EVBUF_STRIDE),
	      "nothing written into the refused buffers");
	CHECK(n > 5 && g[5].id == 6 && ev_is_hotplug(&g[5], 0, false),
	      "the first good buffer gets the first event (RESCAN, head %u event %#x len %u)", n > 5 ? g[5].id : 0,
	      n > 5 ? g[5].event : 0, n > 5 ? g[5].len : 0);
	CHECK(n > 6 && g[6].id == 7 && g[6].len == 16 && g[6].event == VIRTIO_SCSI_T_TRANSPORT_RESET &&
		      g[6].reason == VIRTIO_SCSI_EVT_RESET_REMOVED && lun_is(g[6].lun, hotplug_lun) &&
		      guard_ok(evbuf(&c, 7), 16, EVBUF_STRIDE),
	      "the split (8 + 8) buffer gets the second (REMOVED, head %u len %u)", n > 6 ? g[6].id : 0,
	      n > 6 ? g[6].len : 0);
	hotplug_done();
	/* Still an event queue: one more event into a good buffer. */
	ev_post(&c, 9);
	rq_kick(&c.q);
	CHECK(hotplug_prepare() && hotplug(1) == 0, "one more event");
	n = ev_collect(&c, g, 16, false);
	CHECK(n == 1 && g[0].id == 9 && ev_is_hotplug(&g[0], 0, false), "delivered into the next buffer (%u)", n);
	hotplug_done();
	CHECK(inquiry_ok(&c), "INQUIRY on LUN %u answered GOOD afterwards", lun);
	vhostio_initiator_close(c.ini);
}

/* ---- (c) the control queue ---- */

#define C_REQ 0u
#define C_RESP 1024u

struct ctl_case {
	const char *name;
	uint32_t type, subtype;
	uint8_t lunb[8];  /* all 0: the address of LUN 'lun' on our target */
	uint32_t req_len; /* bytes of request offered (0: the full struct) */
	uint32_t resp_len;
	bool split;       /* the request in two descriptors */
	int want_len;     /* used length */
	int want_resp;    /* the response byte (-1: none) */
};

static bool lun_zero(const uint8_t *l)
{
	return !memcmp(l, "\0\0\0\0\0\0\0\0", 8);
}

static void run_ctl(struct ctx *c, const struct ctl_case *k)
{
	struct vring_desc *d = c->q.raw.vq->desc;
	uint8_t *req = c->mem + C_REQ, *resp = c->mem + C_RESP;
	bool an = k->type == VIRTIO_SCSI_T_AN_QUERY || k->type == VIRTIO_SCSI_T_AN_SUBSCRIBE;
	uint32_t full = an ? sizeof(struct virtio_scsi_ctrl_an_req) : sizeof(struct virtio_scsi_ctrl_tmf_req);
	uint32_t rl = k->req_len ? k->req_len : full;

	memset(req, 0, 256);
	memset(resp, 0xff, 64);
	uint32_t type = htole32(k->type), sub = htole32(k->subtype);
	memcpy(req, &type, 4);
	uint8_t *lp = req + (an ? 4 : 8);
	if (lun_zero(k->lunb)) {
		uint8_t l[8] = { 1, tpgt, 0x40 | (lun >> 8), lun & 0xff };
		memcpy(lp, l, 8);
	} else {
		memcpy(lp, k->lunb, 8);
	}
	if (an) {
		uint32_t ev = htole32(k->subtype);
		memcpy(req + 12, &ev, 4);
	} else {
		memcpy(req + 4, &sub, 4);
		uint64_t tag = htole64(0x123456789abcull);
		memcpy(req + 16, &tag, 8);
	}
	uint16_t next = 1;
	if (k->split && rl > 10) {
		set_desc(d, 0, req, 10, VRING_DESC_F_NEXT, 1);
		set_desc(d, 1, req + 10, rl - 10, k->resp_len ? VRING_DESC_F_NEXT : 0, 2);
		next = 2;
	} else {
		set_desc(d, 0, req, rl, k->resp_len ? VRING_DESC_F_NEXT : 0, 1);
	}
	if (k->resp_len)
		set_desc(d, next, resp, k->resp_len, VRING_DESC_F_WRITE, 0);
	rq_publish(&c->q, 0);
	rq_kick(&c->q);
	uint32_t id = 0, len = 0;
	int got = rq_wait(&c->q, ANSWER_MS, &id, &len);
	bool ok = got && id == 0 && (int)len == k->want_len;
	if (ok && k->want_resp >= 0) {
		/* AN: event_actual (0) then the response byte; TMF: the response byte. */
		uint32_t at = an ? 4 : 0;
		ok = resp[at] == k->want_resp && (!an || !memcmp(resp, "\0\0\0\0", 4));
	}
	/* Nothing past what was used (and never past the buffer). */
	bool guard = true;
	for (uint32_t i = len; i < 64; i++)
		if (resp[i] != 0xff)
			guard = false;
	CHECK(ok && guard, "control %-24s used len %u (want %d), response %d (want %d)%s", k->name, len, k->want_len,
	      got && len ? resp[an ? (len > 4 ? 4 : 0) : 0] : -1, k->want_resp, guard ? "" : ", wrote past its length");
}

static void mode_ctl(void)
{
	struct ctx c;
	if (setup(&c, VQ_CTRL_IDX, 1))
		return;
	const uint8_t T = tpgt;
	const uint32_t TMF = VIRTIO_SCSI_T_TMF, QTS = VIRTIO_SCSI_T_TMF_QUERY_TASK_SET,
		       QT = VIRTIO_SCSI_T_TMF_QUERY_TASK, LR = VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET,
		       ATS = VIRTIO_SCSI_T_TMF_ABORT_TASK_SET;
	const int S_OK = VIRTIO_SCSI_S_OK, BT = VIRTIO_SCSI_S_BAD_TARGET, IL = VIRTIO_SCSI_S_INCORRECT_LUN,
		  REJ = VIRTIO_SCSI_S_FUNCTION_REJECTED, SUCC = VIRTIO_SCSI_S_FUNCTION_SUCCEEDED;
	uint8_t lo = lun & 0xff;
	const struct ctl_case cases[] = {
		{ "tmf-valid", TMF, QTS, {0}, 0, 1, false, 1, S_OK },
		{ "tmf-lun-byte0-0", TMF, QTS, { 0, T, 0x40, lo }, 0, 1, false, 1, BT },
		{ "tmf-lun-byte0-2", TMF, QTS, { 2, T, 0x40, lo }, 0, 1, false, 1, BT },
		{ "tmf-lun-byte0-ff", TMF, LR, { 0xff, T, 0x40, lo }, 0, 1, false, 1, BT },
		{ "tmf-other-target", TMF, QTS, { 1, (uint8_t)(T + 1), 0x40, lo }, 0, 1, false, 1, BT },
		{ "tmf-target-255", TMF, LR, { 1, 255, 0x40, lo }, 0, 1, false, 1, BT },
		{ "tmf-lun-256", TMF, QTS, { 1, T, 0x41, 0x00 }, 0, 1, false, 1, IL },
		{ "tmf-lun-16383", TMF, QT, { 1, T, 0x7f, 0xff }, 0, 1, false, 1, IL },
		{ "tmf-lun-256-ats", TMF, ATS, { 1, T, 0x41, 0x00 }, 0, 1, false, 1, IL },
		{ "tmf-lun-256-lun-reset", TMF, LR, { 1, T, 0x41, 0x00 }, 0, 1, false, 1, IL },
		/* The address method bits are not looked at (masked, as stock does): LUN 'lun'. */
		{ "tmf-lun-no-flat-bit", TMF, QTS, { 1, T, 0x00, lo }, 0, 1, false, 1, S_OK },
		{ "tmf-lun-method-11b", TMF, QTS, { 1, T, 0xc0, lo }, 0, 1, false, 1, S_OK },
		{ "tmf-lun-bytes4-7-set", TMF, QTS, { 1, T, 0x40, lo, 0xff, 0xff, 0xff, 0xff }, 0, 1, false, 1, S_OK },
		{ "tmf-subtype-8", TMF, 8, {0}, 0, 1, false, 1, REJ },
		{ "tmf-subtype-ffffffff", TMF, 0xffffffffu, {0}, 0, 1, false, 1, REJ },
		{ "tmf-clear-aca", TMF, VIRTIO_SCSI_T_TMF_CLEAR_ACA, {0}, 0, 1, false, 1, REJ },
		{ "tmf-req-23-bytes", TMF, QTS, {0}, 23, 1, false, 0, -1 },
		{ "tmf-req-type-only", TMF, QTS, {0}, 4, 1, false, 0, -1 },
		{ "tmf-no-response-buffer", TMF, QTS, {0}, 0, 0, false, 0, -1 },
		{ "tmf-response-16-bytes", TMF, QTS, {0}, 0, 16, false, 1, S_OK },
		{ "tmf-req-split-10+14", TMF, QTS, {0}, 0, 1, true, 1, S_OK },
		{ "tmf-lun-reset-valid", TMF, LR, {0}, 0, 1, false, 1, SUCC },
		{ "an-query", VIRTIO_SCSI_T_AN_QUERY, 0xffffffffu, {0}, 0, 8, false, 5, S_OK },
		{ "an-subscribe", VIRTIO_SCSI_T_AN_SUBSCRIBE, 0x7e, {0}, 0, 8, false, 5, S_OK },
		{ "an-query-bad-lun", VIRTIO_SCSI_T_AN_QUERY, 0, { 9, 9, 9, 9 }, 0, 8, false, 5, S_OK },
		{ "an-query-type-only", VIRTIO_SCSI_T_AN_QUERY, 0, {0}, 4, 8, false, 5, S_OK },
		{ "an-subscribe-resp-2", VIRTIO_SCSI_T_AN_SUBSCRIBE, 0, {0}, 0, 2, false, 2, -1 },
		{ "an-query-no-response", VIRTIO_SCSI_T_AN_QUERY, 0, {0}, 0, 0, false, 0, -1 },
		{ "type-3", 3, 0, {0}, 0, 8, false, 0, -1 },
		{ "type-ffffffff", 0xffffffffu, 0, {0}, 0, 8, false, 0, -1 },
		{ "type-2-bytes", TMF, 0, {0}, 2, 8, false, 0, -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_ctl(&c, &cases[i]);
	run_ctl(&c, &cases[0]);
	CHECK(inquiry_ok(&c), "INQUIRY on LUN %u answered GOOD afterwards", lun);
	vhostio_initiator_close(c.ini);
}

/* ---- (d) TMF claims on a LUN whose reads of block 0 never end ---- */

#define NQ 2u
#define PER_Q 8u

static int tmf(struct ctx *c, uint32_t sub, uint16_t l, uint64_t tag)
{
	uint8_t r = 0xff;
	int ret = vhostio_initiator_tmf(c->ini, sub, l, tag, ANSWER_MS, &r);
	return ret ? ret : r;
}

static void mode_tmf(void)
{
	struct ctx c;
	if (setup(&c, -1, NQ))
		return;
	static const char *const names[] = { "ABORT TASK", "ABORT TASK SET", "CLEAR ACA", "CLEAR TASK SET",
					     "I_T NEXUS RESET", "LOGICAL UNIT RESET", "QUERY TASK", "QUERY TASK SET" };
	int r;
	r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK, lun, 0x4242);
	CHECK(r == VIRTIO_SCSI_S_OK, "QUERY TASK, nothing in flight: FUNCTION COMPLETE 0 (got %d)", r);
	r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, lun, 0);
	CHECK(r == VIRTIO_SCSI_S_OK, "QUERY TASK SET, nothing in flight: FUNCTION COMPLETE 0 (got %d)", r);
	/* A LUN the nexus does not have: every LUN-addressed TMF says so. */
	for (uint32_t s = 0; s < 8; s++) {
		if (s == VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET)
			continue;
		r = tmf(&c, s, absent_lun, 1);
		CHECK(r == VIRTIO_SCSI_S_INCORRECT_LUN, "%s to LUN %u (not mapped): INCORRECT LUN 12 (got %d)",
		      names[s], absent_lun, r);
	}

	/* A unit attention (the LUN map changed when the second LUN was
	 * linked) would answer the first READ at once: take it now. */
	bool good = false;
	for (int i = 0; i < 4 && !good; i++) {
		struct vhostio_scsi_cmd tur = { .lun = lun, .cdb_len = 6 };
		good = vhostio_initiator_run(c.ini, &tur, ANSWER_MS) == 0 && tur.response == 0 && tur.status == 0;
	}
	CHECK(good, "TEST UNIT READY on LUN %u: GOOD (pending unit attentions taken)", lun);

	/* 16 reads of block 0, never answered by the backstore. */
	uint8_t *buf = vhostio_initiator_alloc(c.ini, NQ * PER_Q * 4096);
	static struct vhostio_scsi_cmd cmds[NQ * PER_Q];
	static struct iovec iov[NQ * PER_Q];
	uint64_t tags[NQ * PER_Q];
	bool sub_ok = buf != NULL;
	for (uint32_t q = 0; q < NQ && sub_ok; q++) {
		for (uint32_t i = 0; i < PER_Q; i++) {
			uint32_t k = q * PER_Q + i;
			iov[k] = (struct iovec){ buf + k * 4096, 4096 };
			cmds[k] = (struct vhostio_scsi_cmd){ .lun = lun, .cdb_len = 10,
							     .cdb = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 },
							     .data_in = &iov[k], .data_in_cnt = 1 };
			tags[k] = vhostio_initiator_next_tag(c.ini, q);
			if (vhostio_initiator_submit(c.ini, q, &cmds[k]))
				sub_ok = false;
		}
		if (vhostio_initiator_kick(c.ini, q))
			sub_ok = false;
	}
	CHECK(sub_ok, "%u READs of block 0 submitted on %u queues", NQ * PER_Q, NQ);
	/* Every one with LIO before the TMFs look. */
	int64_t end = now_ms() + ANSWER_MS;
	unsigned seen = 0;
	for (unsigned k = 0; k < NQ * PER_Q; k++) {
		while ((r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK, lun, tags[k])) != VIRTIO_SCSI_S_FUNCTION_SUCCEEDED &&
		       now_ms() < end)
			usleep(20000);
		seen += r == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED;
	}
	CHECK(seen == NQ * PER_Q, "QUERY TASK on each in-flight tag: FUNCTION SUCCEEDED 10 (%u of %u)", seen,
	      NQ * PER_Q);
	r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK, lun, 0x7fff00000001ull);
	CHECK(r == VIRTIO_SCSI_S_OK, "QUERY TASK on a tag never sent, with 16 in flight: FUNCTION COMPLETE 0 (got %d)",
	      r);
	r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK, other_lun, tags[0]);
	CHECK(r == VIRTIO_SCSI_S_OK, "QUERY TASK on an in-flight tag but LUN %u: FUNCTION COMPLETE 0 (got %d)",
	      other_lun, r);
	r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, lun, 0);
	CHECK(r == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED, "QUERY TASK SET: FUNCTION SUCCEEDED 10 (got %d)", r);
	r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, other_lun, 0);
	CHECK(r == VIRTIO_SCSI_S_OK, "QUERY TASK SET on LUN %u (idle): FUNCTION COMPLETE 0 (got %d)", other_lun, r);
	r = tmf(&c, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, absent_lun, 0);
	CHECK(r == VIRTIO_SCSI_S_INCORRECT_LUN, "ABORT TASK SET to LUN %u under load: INCORRECT LUN (got %d)",
	      absent_lun, r);
	r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK, lun, tags[0]);
	CHECK(r == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED, "  and the commands are still there (got %d)", r);

	int64_t t0 = now_ms();
	r = tmf(&c, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, lun, 0);
	int64_t t_tmf = now_ms() - t0;
	CHECK(r == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED, "ABORT TASK SET with %u in flight: FUNCTION SUCCEEDED 10 (got %d) "
						   "in %lld ms", NQ * PER_Q, r, (long long)t_tmf);
	unsigned reaped = 0, aborted = 0;
	end = now_ms() + ANSWER_MS;
	while (reaped < NQ * PER_Q && now_ms() < end) {
		for (uint32_t q = 0; q < NQ; q++) {
			struct vhostio_scsi_cmd *done[PER_Q];
			int n = vhostio_initiator_reap(c.ini, q, done, PER_Q);
			for (int i = 0; i < n; i++) {
				reaped++;
				aborted += done[i]->response == VIRTIO_SCSI_S_ABORTED;
				if (done[i]->response != VIRTIO_SCSI_S_ABORTED)
					printf("# command answered response %u status %u sense %02x/%02x/%02x\n",
					       done[i]->response, done[i]->status, done[i]->sense[2] & 0xf,
					       done[i]->sense[12], done[i]->sense[13]);
			}
		}
		usleep(10000);
	}
	CHECK(reaped == NQ * PER_Q && aborted == reaped,
	      "every command answered ABORTED 2 (%u answered, %u ABORTED) %lld ms after the TMF was sent", reaped,
	      aborted, (long long)(now_ms() - t0));
	r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, lun, 0);
	CHECK(r == VIRTIO_SCSI_S_OK, "QUERY TASK SET afterwards: FUNCTION COMPLETE 0 (got %d)", r);
	r = tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK, lun, tags[3]);
	CHECK(r == VIRTIO_SCSI_S_OK, "QUERY TASK on an aborted tag: FUNCTION COMPLETE 0 (got %d)", r);
	r = tmf(&c, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, lun, 0);
	CHECK(r == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED, "ABORT TASK SET with nothing in flight: FUNCTION SUCCEEDED (got %d)",
	      r);

	/* The LUN serves on: a read of another block. */
	struct iovec one = { buf, 4096 };
	struct vhostio_scsi_cmd rd = { .lun = lun, .cdb_len = 10, .cdb = { 0x28, 0, 0, 0, 0, 64, 0, 0, 1, 0 },
				       .data_in = &one, .data_in_cnt = 1 };
	r = vhostio_initiator_run(c.ini, &rd, ANSWER_MS);
	CHECK(r == 0 && rd.response == 0 && rd.status == 0, "READ of block 64 on LUN %u afterwards: GOOD (%d, %u/%u)",
	      lun, r, rd.response, rd.status);
	vhostio_initiator_close(c.ini);
}

int main(int argc, char **argv)
{
	const char *mode = NULL;
	static const struct option opts[] = {
		{ "wwpn", required_argument, NULL, 'w' },      { "tpgt", required_argument, NULL, 't' },
		{ "lun", required_argument, NULL, 'l' },       { "mode", required_argument, NULL, 'm' },
		{ "tpg-dir", required_argument, NULL, 'g' },   { "backstore", required_argument, NULL, 'b' },
		{ "hotplug-lun", required_argument, NULL, 'h' }, { "absent-lun", required_argument, NULL, 'a' },
		{ "other-lun", required_argument, NULL, 'o' }, { 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'w': wwpn = optarg; break;
		case 't': tpgt = (uint8_t)strtoul(optarg, NULL, 0); break;
		case 'l': lun = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'm': mode = optarg; break;
		case 'g': tpg_dir = optarg; break;
		case 'b': backstore = optarg; break;
		case 'h': hotplug_lun = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'a': absent_lun = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'o': other_lun = (uint16_t)strtoul(optarg, NULL, 0); break;
		default: goto usage;
		}
	}
	if (!wwpn || !mode || optind != argc)
		goto usage;
	bool needs_hotplug = !strncmp(mode, "event", 5);
	if (needs_hotplug && (!tpg_dir || !backstore))
		goto usage;
	if (!strcmp(mode, "events-overflow"))
		mode_events_overflow();
	else if (!strcmp(mode, "events-cleared"))
		mode_events_cleared();
	else if (!strcmp(mode, "events-ioctl"))
		mode_events_ioctl();
	else if (!strcmp(mode, "event-buffers"))
		mode_event_buffers();
	else if (!strcmp(mode, "ctl"))
		mode_ctl();
	else if (!strcmp(mode, "tmf"))
		mode_tmf();
	else
		goto usage;
	printf("# %d failed\n", failures);
	return failures ? 1 : 0;
usage:
	fputs("usage: vhostio-io-evtctl --wwpn naa.X [--tpgt N] [--lun L] --mode "
	      "events-overflow|events-cleared|events-ioctl|event-buffers|ctl|tmf\n"
	      "       [--tpg-dir CONFIGFS_TPG --backstore CONFIGFS_CORE_DIR --hotplug-lun N] [--absent-lun N] "
	      "[--other-lun N]\n",
	      stderr);
	return 2;
}
