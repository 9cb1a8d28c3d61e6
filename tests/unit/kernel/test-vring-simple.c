// SPDX-License-Identifier: GPL-2.0
/* A direct chain of one readable and one writable descriptor: popped with
 * its segments translated to owner addresses, answered, used ring right. */
#include "vsim.h"

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	u32 id, len;
	int ret;

	vt_init(&t, 8, 1ULL << VIRTIO_F_VERSION_1, 0, 0);
	CHECK(vt_used_flags(&t) == 0, "start leaves kicks on");
	CHECK(vt_pop(&t, &req, 4) == 0, "empty ring pops nothing");
	CHECK(vhio_vq_avail_count(&t.vq) == 0, "empty count");

	vt_desc(&t, 0, VT_GPA0 + 0x100, 64, VRING_DESC_F_NEXT, 3);
	vt_desc(&t, 3, VT_GPA0 + 0x200, 96, VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 0);
	CHECK(vhio_vq_avail_count(&t.vq) == 1, "one available");

	ret = vt_pop(&t, &req, 4);
	CHECK(ret == 1, "pop returned %d", ret);
	CHECK(req.err == VHIO_VQ_OK, "err %d", req.err);
	CHECK(req.head == 0, "head %u", req.head);
	CHECK(req.ndesc == 2, "ndesc %u", req.ndesc);
	CHECK(req.nout == 1 && req.nin == 1, "segments %u/%u", req.nout, req.nin);
	CHECK(vp_iov_addr(&req.out[0]) == VT_UA0 + 0x100 && req.out[0].iov_len == 64,
	      "out segment");
	CHECK(vp_iov_addr(&req.in[0]) == VT_UA0 + 0x200 && req.in[0].iov_len == 96,
	      "in segment");
	CHECK(req.out_len == 64 && req.in_len == 96, "lengths %u/%u", req.out_len, req.in_len);
	CHECK(vhio_vq_get_base(&t.vq) == 1, "base %u", vhio_vq_get_base(&t.vq));
	CHECK(vt_pop(&t, &req, 4) == 0, "nothing more");

	CHECK(vhio_vq_push(&t.vq, 0, 96) == 0, "push");
	CHECK(vt_used_idx(&t) == 1, "used idx %u", vt_used_idx(&t));
	vt_used_elem(&t, 0, &id, &len);
	CHECK(id == 0 && len == 96, "used elem %u/%u", id, len);
	CHECK(vhio_vq_push(&t.vq, 8, 0) == -EINVAL, "id >= num refused");
	CHECK(vt_used_idx(&t) == 1, "refused push wrote nothing");
	CHECK(!vhio_vq_broken(&t.vq), "not broken");
	CHECK(t.sim.faults == 0, "%lu faults", t.sim.faults);

	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
