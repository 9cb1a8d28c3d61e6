// SPDX-License-Identifier: GPL-2.0
/* A next index outside the descriptor table (direct: >= num; indirect:
 * >= the table's entries) fails the request with -EINVAL. */
#include "vfail.h"

#define TABLE	(VT_GPA0 + 0x1000)

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	int ret;

	vt_init(&t, 8, 1ULL << VIRTIO_RING_F_INDIRECT_DESC, 0, 0);
	vt_desc(&t, 2, VT_GPA0, 16, VRING_DESC_F_NEXT, 8);
	vt_publish(&t, 2);
	ret = vt_pop(&t, &req, 8);
	vfail_expect(&t, &req, ret, -EINVAL, VHIO_VQ_E_NEXT_RANGE, 2, 6);

	vt_desc(&t, 3, VT_GPA0, 16, VRING_DESC_F_NEXT, 0xffff);
	vt_publish(&t, 3);
	ret = vt_pop(&t, &req, 8);
	vfail_expect(&t, &req, ret, -EINVAL, VHIO_VQ_E_NEXT_RANGE, 3, 6);

	/* A 2-entry indirect table whose entry 1 points at entry 2. */
	vt_gdesc(&t, TABLE, 0, VT_GPA0, 16, VRING_DESC_F_NEXT, 1);
	vt_gdesc(&t, TABLE, 1, VT_GPA0, 16, VRING_DESC_F_NEXT, 2);
	vt_gdesc(&t, TABLE, 2, VT_GPA0, 16, 0, 0);
	vt_desc(&t, 4, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	vt_publish(&t, 4);
	ret = vt_pop(&t, &req, 8);
	vfail_expect(&t, &req, ret, -EINVAL, VHIO_VQ_E_NEXT_RANGE, 4, 6);
	CHECK(req.nout == 2, "gathered before the error: %u", req.nout);

	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
