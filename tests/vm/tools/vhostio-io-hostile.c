// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vhostio-io-hostile: malformed descriptor chains on /dev/vhost-scsi, on
 * purpose, one case at a time, each on a fresh device open.  Every case
 * knows what the kernel must do with it: give the chain back with a used
 * length of 0, answer it with a virtio-scsi error response, or mark the
 * queue broken (no used entry).  After each case the same queue (unless
 * broken) and a second request queue must still serve commands.
 *
 * A test tool built against vhostio_internal: it needs the raw rings
 * (initiator-raw.h), which libvhostio.so does not export.  One JSON line
 * per case; exit 0 only if every case matched.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_scsi.h>

#include <vhostio/initiator.h>

#include "initiator-raw.h"

#define QSIZE 16u
#define VQ_CTRL_IDX 0u
#define VQ_REQ0_IDX 2u
/* Under TCG an answer can take a while; a broken queue never answers. */
#define ANSWER_MS 10000
#define BROKEN_MS 2000

enum expect { EXP_EMPTY, EXP_FAILURE, EXP_BAD_TARGET, EXP_BROKEN };
static const char *const expect_name[] = { "empty", "failure", "bad_target", "broken" };

struct ctx {
	struct vhostio_initiator *ini;
	struct vhostio_raw_vq raw;
	uint8_t *mem;      /* 4 pages of arena: headers, responses, tables */
	uint8_t tpgt;
	uint16_t lun;
	uint16_t avail;    /* our avail idx */
	uint16_t used;     /* next used entry to read */
};

/* Scratch layout inside ctx.mem. */
#define M_REQ 0u
#define M_RESP 256u
#define M_IND 1024u
#define M_IND2 2048u
#define M_DATA 4096u

static void set_desc(struct vring_desc *d, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d[i].addr = htole64(addr);
	d[i].len = htole32(len);
	d[i].flags = htole16(flags);
	d[i].next = htole16(next);
}

static uint64_t A(struct ctx *c, unsigned off)
{
	return (uint64_t)(uintptr_t)(c->mem + off);
}

static void enc_req(struct ctx *c, uint8_t tpgt, uint8_t cdb0)
{
	struct virtio_scsi_cmd_req *r = (void *)(c->mem + M_REQ);
	memset(r, 0, sizeof(*r));
	r->lun[0] = 1;
	r->lun[1] = tpgt;
	r->lun[2] = 0x40 | (c->lun >> 8);
	r->lun[3] = c->lun & 0xff;
	r->tag = htole64(++c->avail);
	r->cdb[0] = cdb0;
	memset(c->mem + M_RESP, 0xff, sizeof(struct virtio_scsi_cmd_resp));
}

/* Publish 'head' (or a raw avail idx when idx_override) and kick. */
static void publish(struct ctx *c, uint16_t head, int idx_override)
{
	struct vq *vq = c->raw.vq;
	uint16_t slot = (uint16_t)(c->used) & (vq->num - 1);
	vq->avail->ring[slot] = htole16(head);
	uint16_t idx = idx_override >= 0 ? (uint16_t)idx_override : (uint16_t)(c->used + 1);
	__atomic_store_n(&vq->avail->idx, htole16(idx), __ATOMIC_RELEASE);
	uint64_t one = 1;
	if (write(c->raw.kick_fd, &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 and the used entry, or 0 when none came within ms. */
static int wait_used(struct ctx *c, int ms, uint32_t *id, uint32_t *len)
{
	struct vq *vq = c->raw.vq;
	int64_t end = now_ms() + ms;
	for (;;) {
		uint16_t idx = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
		if (idx != c->used) {
			struct vring_used_elem *e = &vq->used->ring[c->used & (vq->num - 1)];
			*id = le32toh(e->id);
			*len = le32toh(e->len);
			c->used++;
			return 1;
		}
		if (now_ms() >= end)
			return 0;
		usleep(5000);
	}
}

/* Request header + response: a well-formed chain at descriptors 0 and 1. */
static void good_chain(struct ctx *c, uint8_t cdb0)
{
	struct vring_desc *d = c->raw.vq->desc;
	enc_req(c, c->tpgt, cdb0);
	set_desc(d, 0, A(c, M_REQ), sizeof(struct virtio_scsi_cmd_req), VRING_DESC_F_NEXT, 1);
	set_desc(d, 1, A(c, M_RESP), sizeof(struct virtio_scsi_cmd_resp), VRING_DESC_F_WRITE, 0);
}

/* Each case writes its chain, returns the head (or publishes itself: -1). */
typedef int (*case_fn)(struct ctx *c);

static int c_head_range(struct ctx *c)
{
	good_chain(c, 0);
	publish(c, QSIZE, -1);
	return -1;
}

static int c_avail_jump(struct ctx *c)
{
	good_chain(c, 0);
	publish(c, 0, QSIZE + 1);
	return -1;
}

static int c_next_loop(struct ctx *c)
{
	struct vring_desc *d = c->raw.vq->desc;
	enc_req(c, c->tpgt, 0);
	set_desc(d, 0, A(c, M_REQ), sizeof(struct virtio_scsi_cmd_req), VRING_DESC_F_NEXT, 1);
	set_desc(d, 1, A(c, M_DATA), 16, VRING_DESC_F_NEXT, 0);
	return 0;
}

static int c_chain_too_long(struct ctx *c)
{
	struct vring_desc *d = c->raw.vq->desc;
	enc_req(c, c->tpgt, 0);
	set_desc(d, 0, A(c, M_REQ), sizeof(struct virtio_scsi_cmd_req), VRING_DESC_F_NEXT, 1);
	/* Every descriptor of the ring in one chain, and the last goes on. */
	for (uint16_t i = 1; i < QSIZE; i++)
		set_desc(d, i, A(c, M_DATA), 16, VRING_DESC_F_NEXT, (uint16_t)((i + 1) % QSIZE));
	return 0;
}

/* An indirect table at M_IND: header, response; then the ring descriptor. */
static void ind_table(struct ctx *c)
{
	struct vring_desc *t = (void *)(c->mem + M_IND);
	enc_req(c, c->tpgt, 0);
	set_desc(t, 0, A(c, M_REQ), sizeof(struct virtio_scsi_cmd_req), VRING_DESC_F_NEXT, 1);
	set_desc(t, 1, A(c, M_RESP), sizeof(struct virtio_scsi_cmd_resp), VRING_DESC_F_WRITE, 0);
}

static int ind_len(struct ctx *c, uint32_t len)
{
	ind_table(c);
	set_desc(c->raw.vq->desc, 0, A(c, M_IND), len, VRING_DESC_F_INDIRECT, 0);
	return 0;
}

static int c_ind_len_unaligned(struct ctx *c) { return ind_len(c, 24); }
static int c_ind_len_zero(struct ctx *c) { return ind_len(c, 0); }
static int c_ind_len_huge(struct ctx *c) { return ind_len(c, 0xfffffff0u); }

static int c_ind_nested(struct ctx *c)
{
	struct vring_desc *t = (void *)(c->mem + M_IND2);
	ind_table(c);
	set_desc(t, 0, A(c, M_IND), 32, VRING_DESC_F_INDIRECT, 0);
	set_desc(c->raw.vq->desc, 0, A(c, M_IND2), 16, VRING_DESC_F_INDIRECT, 0);
	return 0;
}

static int c_ind_loop(struct ctx *c)
{
	struct vring_desc *t = (void *)(c->mem + M_IND);
	ind_table(c);
	set_desc(t, 1, A(c, M_DATA), 16, VRING_DESC_F_NEXT, 0);
	set_desc(c->raw.vq->desc, 0, A(c, M_IND), 32, VRING_DESC_F_INDIRECT, 0);
	return 0;
}

static int c_ind_with_next(struct ctx *c)
{
	ind_table(c);
	set_desc(c->raw.vq->desc, 0, A(c, M_IND), 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	set_desc(c->raw.vq->desc, 1, A(c, M_DATA), 16, VRING_DESC_F_WRITE, 0);
	return 0;
}

static int c_len_overflow(struct ctx *c)
{
	struct vring_desc *d = c->raw.vq->desc;
	good_chain(c, 0);
	d[1].flags = htole16(VRING_DESC_F_WRITE | VRING_DESC_F_NEXT);
	d[1].next = htole16(2);
	set_desc(d, 2, A(c, M_DATA), 0xffffffffu, VRING_DESC_F_WRITE, 0);
	return 0;
}

static int c_resp_too_small(struct ctx *c)
{
	good_chain(c, 0);
	c->raw.vq->desc[1].len = htole32(sizeof(struct virtio_scsi_cmd_resp) - 1);
	return 0;
}

static int c_out_short(struct ctx *c)
{
	good_chain(c, 0);
	c->raw.vq->desc[0].len = htole32(20);
	return 0;
}

static int c_unmapped(struct ctx *c)
{
	good_chain(c, 0);
	/* Page 1 of the address space: never in the memory table. */
	c->raw.vq->desc[0].addr = htole64(0x1000);
	return 0;
}

static int c_write_before_read(struct ctx *c)
{
	struct vring_desc *d = c->raw.vq->desc;
	enc_req(c, c->tpgt, 0);
	set_desc(d, 0, A(c, M_RESP), sizeof(struct virtio_scsi_cmd_resp), VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(d, 1, A(c, M_REQ), sizeof(struct virtio_scsi_cmd_req), 0, 0);
	return 0;
}

static int c_bad_target(struct ctx *c)
{
	good_chain(c, 0);
	((struct virtio_scsi_cmd_req *)(c->mem + M_REQ))->lun[1] = (uint8_t)(c->tpgt + 5);
	return 0;
}

/* Control queue: the TMF type word and nothing of the rest. */
static int c_tmf_short(struct ctx *c)
{
	struct vring_desc *d = c->raw.vq->desc;
	uint32_t type = htole32(VIRTIO_SCSI_T_TMF);
	memcpy(c->mem + M_REQ, &type, sizeof(type));
	memset(c->mem + M_RESP, 0xff, sizeof(struct virtio_scsi_ctrl_tmf_resp));
	set_desc(d, 0, A(c, M_REQ), sizeof(type), VRING_DESC_F_NEXT, 1);
	set_desc(d, 1, A(c, M_RESP), sizeof(struct virtio_scsi_ctrl_tmf_resp), VRING_DESC_F_WRITE, 0);
	return 0;
}

static const struct hcase {
	const char *name;
	case_fn fn;
	enum expect expect;
	bool ctrl;
} cases[] = {
	{ "head-range", c_head_range, EXP_BROKEN, false },
	{ "avail-jump", c_avail_jump, EXP_BROKEN, false },
	{ "next-loop", c_next_loop, EXP_EMPTY, false },
	{ "chain-too-long", c_chain_too_long, EXP_EMPTY, false },
	{ "indirect-len-unaligned", c_ind_len_unaligned, EXP_EMPTY, false },
	{ "indirect-len-zero", c_ind_len_zero, EXP_EMPTY, false },
	{ "indirect-len-huge", c_ind_len_huge, EXP_EMPTY, false },
	{ "indirect-nested", c_ind_nested, EXP_EMPTY, false },
	{ "indirect-loop", c_ind_loop, EXP_EMPTY, false },
	{ "indirect-with-next", c_ind_with_next, EXP_EMPTY, false },
	{ "len-overflow", c_len_overflow, EXP_EMPTY, false },
	{ "resp-too-small", c_resp_too_small, EXP_EMPTY, false },
	{ "out-short", c_out_short, EXP_FAILURE, false },
	{ "unmapped", c_unmapped, EXP_EMPTY, false },
	{ "write-before-read", c_write_before_read, EXP_EMPTY, false },
	{ "bad-target", c_bad_target, EXP_BAD_TARGET, false },
	{ "tmf-short", c_tmf_short, EXP_EMPTY, true },
};

/* INQUIRY on request queue 1, through the library: the device still serves. */
static bool other_queue_ok(struct ctx *c)
{
	struct iovec *iov = (void *)(c->mem + M_DATA + 1024);
	iov->iov_base = c->mem + M_DATA + 2048;
	iov->iov_len = 96;
	struct vhostio_scsi_cmd cmd = { .lun = c->lun, .cdb_len = 6, .cdb = { 0x12, 0, 0, 0, 96, 0 },
					 .data_in = iov, .data_in_cnt = 1 };
	struct vhostio_scsi_cmd *done = NULL;
	if (vhostio_initiator_submit(c->ini, 1, &cmd) || vhostio_initiator_kick(c->ini, 1))
		return false;
	int64_t end = now_ms() + ANSWER_MS;
	while (now_ms() < end) {
		if (vhostio_initiator_reap(c->ini, 1, &done, 1) == 1)
			return cmd.response == 0 && cmd.status == 0 && iov->iov_len == 96 &&
			       cmd.residual < 96;
		vhostio_initiator_wait(c->ini, 1, 100);
	}
	return false;
}

static int run_case(const struct hcase *hc, const char *device, const char *wwpn, uint8_t tpgt, uint16_t lun)
{
	struct vhostio_initiator_opts o = { .struct_size = sizeof(o), .device = device, .num_queues = 2,
					     .queue_size = QSIZE, .arena_size = 1u << 20 };
	struct ctx c = { .tpgt = tpgt, .lun = lun };
	int ret = vhostio_initiator_open(&c.ini, &o);
	if (!ret)
		ret = vhostio_initiator_attach(c.ini, wwpn, tpgt);
	if (!ret)
		ret = vhostio_initiator_raw_vq(c.ini, hc->ctrl ? VQ_CTRL_IDX : VQ_REQ0_IDX, &c.raw);
	if (!ret && !(c.mem = vhostio_initiator_alloc(c.ini, 8 * 4096)))
		ret = -ENOMEM;
	if (ret) {
		printf("{\"case\": \"%s\", \"error\": \"setup: %s\", \"match\": false}\n", hc->name, strerror(-ret));
		vhostio_initiator_close(c.ini);
		return 1;
	}
	int64_t t0 = now_ms();
	const char *observed;
	uint32_t id = 0, len = 0;
	int resp = -1;
	bool match, same_ok = true;

	int head = hc->fn(&c);
	if (head >= 0)
		publish(&c, (uint16_t)head, -1);
	int got = wait_used(&c, hc->expect == EXP_BROKEN ? BROKEN_MS : ANSWER_MS, &id, &len);
	if (!got) {
		observed = "broken";
	} else if (len == 0) {
		observed = "empty";
	} else {
		resp = c.mem[M_RESP + (hc->ctrl ? 0 : offsetof(struct virtio_scsi_cmd_resp, response))];
		observed = resp == VIRTIO_SCSI_S_FAILURE ? "failure" :
			   resp == VIRTIO_SCSI_S_BAD_TARGET ? "bad_target" : "other";
	}
	match = !strcmp(observed, expect_name[hc->expect]) && (!got || id == (uint32_t)(head < 0 ? 0 : head));
	/* A chain given back must leave its queue working: TEST UNIT READY. */
	if (got && !hc->ctrl) {
		uint32_t id2, len2;
		good_chain(&c, 0);
		publish(&c, 0, -1);
		same_ok = wait_used(&c, ANSWER_MS, &id2, &len2) == 1 && id2 == 0 &&
			  len2 >= sizeof(struct virtio_scsi_cmd_resp) - VIRTIO_SCSI_SENSE_SIZE &&
			  ((struct virtio_scsi_cmd_resp *)(c.mem + M_RESP))->response == VIRTIO_SCSI_S_OK &&
			  ((struct virtio_scsi_cmd_resp *)(c.mem + M_RESP))->status == 0;
	}
	bool other_ok = other_queue_ok(&c);
	match = match && same_ok && other_ok;
	printf("{\"case\": \"%s\", \"queue\": \"%s\", \"expect\": \"%s\", \"observed\": \"%s\", \"used_id\": %u, "
	       "\"used_len\": %u, \"response\": %d, \"same_queue_ok\": %s, \"other_queue_ok\": %s, \"ms\": %lld, "
	       "\"match\": %s}\n",
	       hc->name, hc->ctrl ? "control" : "request0", expect_name[hc->expect], observed, id, len, resp,
	       same_ok ? "true" : "false", other_ok ? "true" : "false", (long long)(now_ms() - t0),
	       match ? "true" : "false");
	fflush(stdout);
	vhostio_initiator_close(c.ini);
	return match ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *device = NULL, *wwpn = NULL, *which = "all";
	long tpgt = 1, lun = 0;
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' }, { "wwpn", required_argument, NULL, 'w' },
		{ "tpgt", required_argument, NULL, 't' },   { "lun", required_argument, NULL, 'l' },
		{ "case", required_argument, NULL, 'c' },   { "list", no_argument, NULL, 'L' },
		{ 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'd': device = optarg; break;
		case 'w': wwpn = optarg; break;
		case 't': tpgt = strtol(optarg, NULL, 0); break;
		case 'l': lun = strtol(optarg, NULL, 0); break;
		case 'c': which = optarg; break;
		case 'L':
			for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
				puts(cases[i].name);
			return 0;
		default: goto usage;
		}
	}
	if (!wwpn || optind != argc || tpgt < 0 || tpgt > 250 || lun < 0 || lun > 16383)
		goto usage;
	int fails = 0, ran = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(which, "all") && strcmp(which, cases[i].name))
			continue;
		ran++;
		fails += run_case(&cases[i], device, wwpn, (uint8_t)tpgt, (uint16_t)lun);
	}
	if (!ran) {
		fprintf(stderr, "vhostio-io-hostile: no case '%s' (--list)\n", which);
		return 2;
	}
	return fails ? 1 : 0;
usage:
	fputs("usage: vhostio-io-hostile --wwpn naa.X [--tpgt N] [--lun L] [--device PATH] [--case NAME|all] | --list\n",
	      stderr);
	return 2;
}
