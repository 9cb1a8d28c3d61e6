// SPDX-License-Identifier: GPL-2.0
/* Descriptor loops (direct, self, indirect) and chains longer than their
 * table fail the request with -ELOOP after at most num descriptors; a
 * chain of exactly num descriptors is fine. */
#include "vfail.h"

#define TABLE	(VT_GPA0 + 0x1000)

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	int ret;

	vt_init(&t, 8, 1ULL << VIRTIO_RING_F_INDIRECT_DESC, 0, 0);
	/* 0 -> 1 -> 2 -> 0 ... */
	vt_desc(&t, 0, VT_GPA0, 1, VRING_DESC_F_NEXT, 1);
	vt_desc(&t, 1, VT_GPA0, 1, VRING_DESC_F_NEXT, 2);
	vt_desc(&t, 2, VT_GPA0, 1, VRING_DESC_F_NEXT, 0);
	vt_publish(&t, 0);
	ret = vt_pop(&t, &req, 64);
	CHECK(req.ndesc == 8, "stopped after %u descriptors", req.ndesc);
	vfail_expect(&t, &req, ret, -ELOOP, VHIO_VQ_E_LOOP, 0, 7);

	/* Self loop. */
	vt_desc(&t, 5, VT_GPA0, 1, VRING_DESC_F_NEXT, 5);
	vt_publish(&t, 5);
	ret = vt_pop(&t, &req, 64);
	vfail_expect(&t, &req, ret, -ELOOP, VHIO_VQ_E_LOOP, 5, 7);

	/* Loop inside an indirect table of 3 entries: 0 -> 1 -> 0. */
	vt_gdesc(&t, TABLE, 0, VT_GPA0, 1, VRING_DESC_F_NEXT, 1);
	vt_gdesc(&t, TABLE, 1, VT_GPA0, 1, VRING_DESC_F_NEXT, 0);
	vt_desc(&t, 4, TABLE, 48, VRING_DESC_F_INDIRECT, 0);
	vt_publish(&t, 4);
	ret = vt_pop(&t, &req, 64);
	CHECK(req.ndesc == 4, "1 direct + 3 indirect walked, got %u", req.ndesc);
	vfail_expect(&t, &req, ret, -ELOOP, VHIO_VQ_E_LOOP, 4, 7);

	/* Exactly num descriptors: 0 -> 1 -> ... -> 7. */
	for (u32 i = 0; i < 8; i++)
		vt_desc(&t, i, VT_GPA0 + i, 1, i < 7 ? VRING_DESC_F_NEXT : 0, (u16)(i + 1));
	vt_publish(&t, 0);
	ret = vt_pop(&t, &req, 64);
	CHECK(ret == 1 && req.ndesc == 8 && req.nout == 8, "a chain of num: %d, %u", ret, req.ndesc);
	CHECK(t.sim.faults == 0, "%lu faults", t.sim.faults);

	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
