// SPDX-License-Identifier: GPL-2.0
/* A device-readable descriptor after a writable one fails the request
 * (virtio: readable buffers first), in a direct chain and in a table. */
#include "vfail.h"

#define TABLE	(VT_GPA0 + 0x1000)

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	int ret;

	vt_init(&t, 8, 1ULL << VIRTIO_RING_F_INDIRECT_DESC, 0, 0);
	vt_desc(&t, 0, VT_GPA0, 16, VRING_DESC_F_NEXT, 1);
	vt_desc(&t, 1, VT_GPA0 + 0x100, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	vt_desc(&t, 2, VT_GPA0 + 0x200, 16, 0, 0);
	vt_publish(&t, 0);
	ret = vt_pop(&t, &req, 8);
	vfail_expect(&t, &req, ret, -EINVAL, VHIO_VQ_E_ORDER, 0, 5);

	/* A zero-length readable one after a writable one is out of order too. */
	vt_desc(&t, 2, VT_GPA0 + 0x200, 0, 0, 0);
	vt_publish(&t, 1);
	ret = vt_pop(&t, &req, 8);
	vfail_expect(&t, &req, ret, -EINVAL, VHIO_VQ_E_ORDER, 1, 5);

	vt_gdesc(&t, TABLE, 0, VT_GPA0, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vt_gdesc(&t, TABLE, 1, VT_GPA0, 16, 0, 0);
	vt_desc(&t, 3, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	vt_publish(&t, 3);
	ret = vt_pop(&t, &req, 8);
	vfail_expect(&t, &req, ret, -EINVAL, VHIO_VQ_E_ORDER, 3, 5);

	/* Writable only, and readable only, are both fine. */
	vt_desc(&t, 0, VT_GPA0, 16, VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 0);
	ret = vt_pop(&t, &req, 8);
	CHECK(ret == 1 && req.nin == 1 && req.nout == 0, "writable only: %d", ret);
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
