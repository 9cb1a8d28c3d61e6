// SPDX-License-Identifier: GPL-2.0
/* More segments than the caller's arrays hold fails with -ENOBUFS (out
 * and in counted separately; a buffer across two regions takes two); the
 * caller may instead discard the pop and pop again with more room. */
#include <string.h>

#include "vfail.h"

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	struct iovec out[4], in[4];
	int ret;

	vt_init(&t, 8, 0, 0, 0);
	vt_desc(&t, 0, VT_GPA0, 16, VRING_DESC_F_NEXT, 1);
	vt_desc(&t, 1, VT_GPA0 + 16, 16, VRING_DESC_F_NEXT, 2);
	vt_desc(&t, 2, VT_GPA1 - 8, 16, VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 0);

	/* Room for 2 out, 1 in: the writable buffer needs two segments. */
	req = (struct vhio_vq_req){ .out = out, .out_max = 2, .in = in, .in_max = 1 };
	ret = vhio_vq_pop(&t.vq, t.mt, &req);
	CHECK(ret == -ENOBUFS && req.err == VHIO_VQ_E_NOBUFS, "ret %d err %d", ret, req.err);
	/* What was gathered: the readable buffers, not the one that did not fit. */
	CHECK(req.nout == 2 && req.nin == 0 && req.in_len == 0, "gathered %u/%u", req.nout, req.nin);
	CHECK(vhio_vq_get_base(&t.vq) == 1, "consumed");

	/* Discard and retry with room. */
	vhio_vq_discard(&t.vq, 1);
	CHECK(vhio_vq_get_base(&t.vq) == 0, "given back");
	req = (struct vhio_vq_req){ .out = out, .out_max = 2, .in = in, .in_max = 2 };
	ret = vhio_vq_pop(&t.vq, t.mt, &req);
	CHECK(ret == 1 && req.nin == 2, "retry: %d, %u in", ret, req.nin);
	CHECK(vp_iov_addr(&in[0]) == VT_UA0 + VT_REGION - 8 && in[0].iov_len == 8, "in 0");
	CHECK(vp_iov_addr(&in[1]) == VT_UA1 && in[1].iov_len == 8, "in 1");
	CHECK(vhio_vq_push(&t.vq, req.head, 0) == 0, "answered");

	/* Out side too small; zero capacity. */
	vt_publish(&t, 0);
	req = (struct vhio_vq_req){ .out = out, .out_max = 1, .in = in, .in_max = 4 };
	ret = vhio_vq_pop(&t.vq, t.mt, &req);
	vfail_expect(&t, &req, ret, -ENOBUFS, VHIO_VQ_E_NOBUFS, 0, 7);
	vt_publish(&t, 0);
	req = (struct vhio_vq_req){ .out = NULL, .out_max = 0, .in = NULL, .in_max = 0 };
	ret = vhio_vq_pop(&t.vq, t.mt, &req);
	vfail_expect(&t, &req, ret, -ENOBUFS, VHIO_VQ_E_NOBUFS, 0, 7);

	/* Zero-length descriptors take no segment. */
	vt_desc(&t, 0, VT_GPA0, 0, VRING_DESC_F_NEXT, 1);
	vt_desc(&t, 1, 0, 0, VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 0);
	req = (struct vhio_vq_req){ .out = NULL, .out_max = 0, .in = NULL, .in_max = 0 };
	ret = vhio_vq_pop(&t.vq, t.mt, &req);
	CHECK(ret == 1 && req.nout == 0 && req.nin == 0 && req.ndesc == 2, "empty buffers: %d", ret);
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
