/* SPDX-License-Identifier: GPL-2.0 */
/* What every "fails one request" test checks after the failure. */
#ifndef VHOSTIO_TEST_VFAIL_H
#define VHOSTIO_TEST_VFAIL_H

#include "vsim.h"

/*
 * The pop of the chain at head failed with ret/err as expected; the queue
 * is not broken, the request can be answered with used len 0, nothing was
 * accessed outside the simulated memory, and a good chain (descriptor
 * good_desc, readable, 16 bytes) published next pops.
 */
static inline void vfail_expect(struct vtest *t, const struct vhio_vq_req *req, int ret,
				int want_ret, enum vhio_vq_err want_err, u16 head, u32 good_desc)
{
	struct vhio_vq_req r2;
	u16 used = vt_used_idx(t);
	int ret2;

	CHECK(ret == want_ret, "pop returned %d, want %d", ret, want_ret);
	CHECK(req->err == want_err, "err %d (%s), want %d (%s)", req->err,
	      vhio_vq_strerror(req->err), want_err, vhio_vq_strerror(want_err));
	CHECK(req->head == head, "head %u, want %u", req->head, head);
	CHECK(!vhio_vq_broken(&t->vq), "the queue broke on a request error");
	CHECK(vhio_vq_push(&t->vq, req->head, 0) == 0, "answering the failed request");
	CHECK(vt_used_idx(t) == (u16)(used + 1), "used idx after the answer");
	CHECK(t->sim.faults == 0, "%lu accesses outside simulated memory", t->sim.faults);

	vt_desc(t, good_desc, VT_GPA0 + 0x8000, 16, 0, 0);
	vt_publish(t, (u16)good_desc);
	ret2 = vt_pop(t, &r2, 8);
	CHECK(ret2 == 1 && r2.head == good_desc && r2.out_len == 16,
	      "the next good request: ret %d head %u", ret2, r2.head);
}

#endif
