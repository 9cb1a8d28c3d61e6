// SPDX-License-Identifier: GPL-2.0
/* Indirect tables: followed in next order (not table order), the WRITE flag
 * of the indirect descriptor itself ignored, direct descriptors before an
 * indirect one allowed; refused when INDIRECT_DESC was not negotiated. */
#include "vsim.h"

#define TABLE	(VT_GPA0 + 0x1000)
#define TABLE2	(VT_GPA0 + 0x2000)

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	int ret;

	vt_init(&t, 16, 1ULL << VIRTIO_RING_F_INDIRECT_DESC, 0, 0);
	vt_gdesc(&t, TABLE, 0, VT_GPA0 + 0x4000, 16, VRING_DESC_F_NEXT, 2);
	vt_gdesc(&t, TABLE, 2, VT_GPA0 + 0x5000, 32, VRING_DESC_F_NEXT, 1);
	vt_gdesc(&t, TABLE, 1, VT_GPA0 + 0x6000, 100, VRING_DESC_F_WRITE, 0);
	vt_desc(&t, 5, TABLE, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 5);

	ret = vt_pop(&t, &req, 4);
	CHECK(ret == 1, "pop %d err %d", ret, req.err);
	CHECK(req.head == 5, "head %u", req.head);
	CHECK(req.ndesc == 4, "ndesc %u", req.ndesc);
	CHECK(req.nout == 2 && req.nin == 1, "segments %u/%u", req.nout, req.nin);
	CHECK(vp_iov_addr(&req.out[0]) == VT_UA0 + 0x4000 && req.out[0].iov_len == 16, "out 0");
	CHECK(vp_iov_addr(&req.out[1]) == VT_UA0 + 0x5000 && req.out[1].iov_len == 32, "out 1");
	CHECK(vp_iov_addr(&req.in[0]) == VT_UA0 + 0x6000 && req.in[0].iov_len == 100, "in 0");
	CHECK(req.out_len == 48 && req.in_len == 100, "lengths");
	CHECK(vhio_vq_push(&t.vq, req.head, 100) == 0, "push");

	/* Direct readable descriptor, then an indirect table with one writable entry. */
	vt_desc(&t, 1, VT_GPA0 + 0x7000, 8, VRING_DESC_F_NEXT, 2);
	vt_desc(&t, 2, TABLE2, 16, VRING_DESC_F_INDIRECT, 0);
	vt_gdesc(&t, TABLE2, 0, VT_GPA1 + 0x10, 512, VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 1);
	ret = vt_pop(&t, &req, 4);
	CHECK(ret == 1, "direct then indirect: %d err %d", ret, req.err);
	CHECK(req.nout == 1 && req.nin == 1 && req.ndesc == 3, "segments %u/%u ndesc %u",
	      req.nout, req.nin, req.ndesc);
	CHECK(vp_iov_addr(&req.in[0]) == VT_UA1 + 0x10 && req.in_len == 512, "in segment");
	CHECK(t.sim.faults == 0, "%lu faults", t.sim.faults);
	vt_fini(&t);

	/* Not negotiated: the request fails, the queue goes on. */
	vt_init(&t, 16, 0, 0, 0);
	vt_gdesc(&t, TABLE, 0, VT_GPA0 + 0x4000, 16, 0, 0);
	vt_desc(&t, 3, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	vt_publish(&t, 3);
	vt_desc(&t, 4, VT_GPA0 + 0x4000, 16, 0, 0);
	vt_publish(&t, 4);
	ret = vt_pop(&t, &req, 4);
	CHECK(ret == -EINVAL && req.err == VHIO_VQ_E_INDIRECT_FEATURE, "ret %d err %d", ret, req.err);
	CHECK(req.head == 3, "failed request's head %u", req.head);
	CHECK(!vhio_vq_broken(&t.vq), "one request, not the queue");
	CHECK(vhio_vq_push(&t.vq, req.head, 0) == 0, "answered");
	ret = vt_pop(&t, &req, 4);
	CHECK(ret == 1 && req.head == 4, "next request pops: %d head %u", ret, req.head);
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
