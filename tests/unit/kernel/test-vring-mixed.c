// SPDX-License-Identifier: GPL-2.0
/* A chain of several readable then several writable buffers, one across
 * the two guest regions (two segments, uaddrs of both regions), zero-length
 * ones skipped; the data the owner sees at the segments is the guest's. */
#include <string.h>

#include "vsim.h"

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	u8 *g;
	int ret;

	vt_init(&t, 4, 0, 0, 0);
	g = vt_gptr(&t, VT_GPA1 - 4, 8);
	memcpy(g, "ABCDEFGH", 8);

	vt_desc(&t, 3, VT_GPA0 + 0x10, 20, VRING_DESC_F_NEXT, 0);
	vt_desc(&t, 0, VT_GPA1 - 4, 8, VRING_DESC_F_NEXT, 2);	/* across regions */
	vt_desc(&t, 2, VT_GPA0 + 0x999, 0, VRING_DESC_F_NEXT, 1);	/* empty */
	vt_desc(&t, 1, VT_GPA1 + 0x100, 96, VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 3);

	ret = vt_pop(&t, &req, 8);
	CHECK(ret == 1, "pop %d err %d", ret, req.err);
	CHECK(req.head == 3 && req.ndesc == 4, "head %u ndesc %u", req.head, req.ndesc);
	CHECK(req.nout == 3 && req.nin == 1, "segments %u/%u", req.nout, req.nin);
	CHECK(vp_iov_addr(&req.out[0]) == VT_UA0 + 0x10 && req.out[0].iov_len == 20, "out 0");
	CHECK(vp_iov_addr(&req.out[1]) == VT_UA0 + VT_REGION - 4 && req.out[1].iov_len == 4,
	      "out 1: end of region 0");
	CHECK(vp_iov_addr(&req.out[2]) == VT_UA1 && req.out[2].iov_len == 4,
	      "out 2: start of region 1");
	CHECK(vp_iov_addr(&req.in[0]) == VT_UA1 + 0x100 && req.in[0].iov_len == 96, "in 0");
	CHECK(req.out_len == 28 && req.in_len == 96, "lengths %u/%u", req.out_len, req.in_len);
	CHECK(memcmp(vsim_ptr(&t.sim, vp_iov_addr(&req.out[1]), 4), "ABCD", 4) == 0 &&
	      memcmp(vsim_ptr(&t.sim, vp_iov_addr(&req.out[2]), 4), "EFGH", 4) == 0,
	      "the bytes behind the two segments");

	/* Around the ring several times: slots wrap, heads come back. */
	for (u32 round = 0; round < 10; round++) {
		u16 head = (u16)(round % 4);

		vt_desc(&t, head, VT_GPA0 + round, 1 + round, 0, 0);
		vt_publish(&t, head);
		ret = vt_pop(&t, &req, 8);
		CHECK(ret == 1 && req.head == head && req.out_len == 1 + round,
		      "round %u: %d head %u", round, ret, req.head);
		CHECK(vhio_vq_push(&t.vq, head, 0) == 0, "push round %u", round);
	}
	CHECK(vhio_vq_get_base(&t.vq) == 11 && vt_used_idx(&t) == 10, "indices");
	CHECK(t.sim.faults == 0, "%lu faults", t.sim.faults);
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
