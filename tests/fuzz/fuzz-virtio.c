/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the initiator's side of what vhost writes back.
 *
 * Mode 0 (first byte even): a split virtqueue (virtio/virtqueue.c) whose
 * device is the input.  A script adds chains (direct or indirect), kicks,
 * has the device write used entries, used->idx, used->flags and
 * avail_event as it likes, completes chains honestly, and reaps the way
 * vhostio_initiator_reap() does: vq_get_used() until it is empty or says
 * -EIO, each token's response header decoded with vscsi_decode_resp() from
 * input bytes.  Checked: only tokens in flight come back, each once; the
 * free count, the in-flight count and the free list (its length, no index
 * twice, none of a chain in flight) stay consistent; indirect tables are
 * freed once (ASan).
 *
 * Mode 1 (first byte odd): vscsi_decode_resp(), vscsi_decode_event() and
 * vscsi_decode_lun() on raw bytes; the sense length stays within the
 * buffer, the LUN within 14 bits, and encoding a decoded LUN gives it back.
 *
 * Script of mode 0, after the first byte: one byte with bits 0-3 log2 of
 * the ring size (at most 256), bit 4 EVENT_IDX, bit 5 INDIRECT_DESC, then
 * ops until the input ends (MAX_OPS at most), each an op byte (op % 8):
 *   0 add: a byte n, chain of (n & 7) + 1 segments, bits 4-6 of which are
 *     readable; a 16-bit length (0: skipped) for each
 *   1 kick: vq_kick_prepare()
 *   2 used entry: slot (16 bits), id (32 bits), len (32 bits)
 *   3 used->idx (16 bits)
 *   4 used->flags and avail_event (16 bits each)
 *   5 reap: vq_get_used() until 0 or -EIO; 108 bytes of response per token
 *   6 honest completion of the chain in flight picked by a byte
 *   7 vq_enable_cb() / vq_has_used()
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vhostio/common.h>

#include "fuzz.h"
#include "virtqueue.h"
#include "vscsi.h"

#define MAX_NUM 256u
#define MAX_OPS 256
#define MAX_CHAINS MAX_NUM /* never more in flight than descriptors */

struct chain {
	bool live;
	uint16_t head;
	uint16_t ndesc;     /* ring descriptors it holds */
};

static struct {
	struct vq vq;
	struct chain chains[MAX_CHAINS];
	unsigned n_chains;
	unsigned live;
	unsigned tables;    /* indirect tables allocated and not freed */
	uint16_t dev_used;  /* the honest device's next used index */
} V;

static uint8_t segbuf[65536];

static void drop_log(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vhostio_set_log_fn(drop_log, NULL);
	return 0;
}

static void *table_alloc(void *opaque, size_t len)
{
	(void)opaque;
	void *p = malloc(len);
	if (p)
		V.tables++;
	return p;
}

static void table_free(void *opaque, void *p)
{
	(void)opaque;
	if (!V.tables)
		fuzz_fail("an indirect table freed that was never allocated");
	V.tables--;
	free(p);
}

/* The driver's books must agree with ours, whatever the device wrote. */
static void check_books(void)
{
	struct vq *vq = &V.vq;
	unsigned held = 0;
	for (unsigned i = 0; i < V.n_chains; i++)
		if (V.chains[i].live)
			held += V.chains[i].ndesc;
	if (vq->in_flight != V.live)
		fuzz_fail("in_flight %u, %u chains live", vq->in_flight, V.live);
	if (vq->num_free + held != vq->num)
		fuzz_fail("%u descriptors free + %u held in a ring of %u", vq->num_free, held, vq->num);
	uint8_t seen[MAX_NUM] = { 0 };
	for (unsigned i = 0; i < V.n_chains; i++) {
		const struct chain *c = &V.chains[i];
		if (!c->live)
			continue;
		uint16_t d = c->head;
		for (unsigned k = 0; k < c->ndesc; k++) {
			if (d >= vq->num || seen[d]++)
				fuzz_fail("chain %u: descriptor %u out of range or shared", i, d);
			d = le16toh(vq->desc[d].next);
		}
	}
	uint16_t d = vq->free_head;
	for (unsigned k = 0; k < vq->num_free; k++) {
		if (d >= vq->num || seen[d]++)
			fuzz_fail("free list: descriptor %u out of range, repeated or in flight", d);
		d = le16toh(vq->desc[d].next);
	}
}

static void op_add(struct fuzz_in *in)
{
	uint8_t n = fuzz_u8(in);
	unsigned nseg = (n & 7u) + 1, nread = (n >> 4) & 7u;
	if (nread > nseg)
		nread = nseg;
	struct iovec iov[8];
	unsigned nonzero = 0;
	for (unsigned i = 0; i < nseg; i++) {
		uint16_t len = fuzz_u16(in);
		iov[i].iov_base = segbuf + (len ? (size_t)(i * 512u) % (sizeof(segbuf) - len) : 0);
		iov[i].iov_len = len;
		nonzero += len != 0;
	}
	const struct iovec *groups[2] = { iov, iov + nread };
	unsigned counts[2] = { nread, nseg - nread };
	/* A finished chain's record is reused: its token is not in flight any more. */
	unsigned slot = 0;
	while (slot < V.n_chains && V.chains[slot].live)
		slot++;
	if (slot == MAX_CHAINS)
		return;
	struct chain *c = &V.chains[slot];
	uint16_t idx = V.vq.avail_idx;
	unsigned free_before = V.vq.num_free;
	int ret = vq_add(&V.vq, groups, counts, 2, 1, c);
	if (ret == 0) {
		c->live = true;
		c->head = le16toh(V.vq.avail->ring[idx & (V.vq.num - 1)]);
		c->ndesc = (uint16_t)(free_before - V.vq.num_free);
		if (c->ndesc != 1 && c->ndesc != nonzero)
			fuzz_fail("a chain of %u segments took %u descriptors", nonzero, c->ndesc);
		if (slot == V.n_chains)
			V.n_chains++;
		V.live++;
	} else if (ret != -EAGAIN && ret != -EINVAL && ret != -ENOMEM) {
		fuzz_fail("vq_add returned %d", ret);
	}
}

static void decode_resp(struct fuzz_in *in)
{
	struct virtio_scsi_cmd_resp resp;
	struct vhostio_scsi_cmd cmd;
	fuzz_take(in, &resp, sizeof(resp));
	memset(&cmd, 0, sizeof(cmd));
	vscsi_decode_resp(&resp, &cmd);
	if (cmd.sense_len > sizeof(cmd.sense))
		fuzz_fail("sense_len %u", cmd.sense_len);
	if (cmd.response != resp.response || cmd.status != resp.status)
		fuzz_fail("response/status not copied");
}

static void op_reap(struct fuzz_in *in)
{
	for (unsigned k = 0; k <= V.vq.num; k++) {
		void *tok = NULL;
		uint32_t len;
		int r = vq_get_used(&V.vq, &tok, &len);
		if (r < 0) {
			if (r != -EIO)
				fuzz_fail("vq_get_used returned %d", r);
			return;
		}
		if (r == 0)
			return;
		struct chain *c = tok;
		if (c < V.chains || c >= V.chains + V.n_chains || !c->live)
			fuzz_fail("vq_get_used returned a token not in flight");
		c->live = false;
		V.live--;
		decode_resp(in);
		check_books();
	}
}

static void op_honest(struct fuzz_in *in)
{
	uint8_t pick = fuzz_u8(in);
	if (!V.live)
		return;
	unsigned want = pick % V.live, seen = 0;
	for (unsigned i = 0; i < V.n_chains; i++) {
		if (!V.chains[i].live || seen++ != want)
			continue;
		struct vring_used_elem *e = &V.vq.used->ring[V.dev_used & (V.vq.num - 1)];
		e->id = htole32(V.chains[i].head);
		e->len = 0;
		V.dev_used++;
		__atomic_store_n(&V.vq.used->idx, htole16(V.dev_used), __ATOMIC_RELEASE);
		return;
	}
}

static void run_vq(struct fuzz_in *in)
{
	uint8_t g = fuzz_u8(in);
	unsigned shift = g & 15u;
	uint16_t num = (uint16_t)(1u << (shift > 8 ? 8 : shift));
	size_t ring_size = vq_ring_size(num);
	void *mem = aligned_alloc(4096, ring_size);
	if (!mem)
		abort();
	memset(&V, 0, sizeof(V));
	if (vq_init(&V.vq, mem, num, g & 0x10, g & 0x20, table_alloc, table_free, NULL) < 0)
		fuzz_fail("vq_init refused a ring of %u", num);
	check_books();

	for (int ops = 0; in->left && ops < MAX_OPS; ops++) {
		switch (fuzz_u8(in) & 7) {
		case 0:
			op_add(in);
			break;
		case 1:
			vq_kick_prepare(&V.vq);
			break;
		case 2: {
			uint16_t slot = fuzz_u16(in);
			struct vring_used_elem *e = &V.vq.used->ring[slot & (num - 1)];
			e->id = htole32(fuzz_u32(in));
			e->len = htole32(fuzz_u32(in));
			break;
		}
		case 3:
			V.dev_used = fuzz_u16(in);
			__atomic_store_n(&V.vq.used->idx, htole16(V.dev_used), __ATOMIC_RELEASE);
			break;
		case 4:
			V.vq.used->flags = htole16(fuzz_u16(in));
			*vq_avail_event_p(&V.vq) = htole16(fuzz_u16(in));
			break;
		case 5:
			op_reap(in);
			break;
		case 6:
			op_honest(in);
			break;
		case 7:
			vq_enable_cb(&V.vq);
			vq_has_used(&V.vq);
			break;
		}
		check_books();
	}
	vq_fini(&V.vq);
	if (V.tables)
		fuzz_fail("%u indirect tables not freed by vq_fini", V.tables);
	free(mem);
}

static void run_decoders(struct fuzz_in *in)
{
	while (in->left) {
		decode_resp(in);

		struct virtio_scsi_event ev;
		struct vhostio_scsi_event out;
		fuzz_take(in, &ev, sizeof(ev));
		vscsi_decode_event(&ev, &out);
		if (out.lun > VSCSI_MAX_LUN || out.tpgt != ev.lun[1])
			fuzz_fail("event LUN %u tpgt %u", out.lun, out.tpgt);

		uint8_t lun[8], again[8], tpgt;
		fuzz_take(in, lun, sizeof(lun));
		uint16_t l = vscsi_decode_lun(lun, &tpgt);
		if (l > VSCSI_MAX_LUN || tpgt != lun[1])
			fuzz_fail("LUN %u tpgt %u", l, tpgt);
		vscsi_encode_lun(again, tpgt, l);
		uint8_t t2;
		if (vscsi_decode_lun(again, &t2) != l || t2 != tpgt)
			fuzz_fail("LUN %u does not survive encoding", l);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialized;
	if (!initialized) {
		LLVMFuzzerInitialize(NULL, NULL);
		initialized = true;
	}
	struct fuzz_in in = fuzz_in(data, size);
	if (fuzz_u8(&in) & 1)
		run_decoders(&in);
	else
		run_vq(&in);
	return 0;
}
