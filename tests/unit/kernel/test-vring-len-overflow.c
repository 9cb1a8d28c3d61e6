// SPDX-License-Identifier: GPL-2.0
/* A chain whose lengths add up to more than U32_MAX fails with -EOVERFLOW
 * (readable and writable counted together), found before translating the
 * descriptor that overflows; a total of exactly U32_MAX is no overflow. */
#include "vfail.h"

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	int ret;

	vt_init(&t, 8, 0, 0, 0);
	vt_desc(&t, 0, VT_GPA0, 0x80000000u, VRING_DESC_F_NEXT, 1);
	vt_desc(&t, 1, VT_GPA0, 0x80000000u, VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 0);
	ret = vt_pop(&t, &req, 8);
	/* The first descriptor does not fit in guest RAM: that is found first. */
	vfail_expect(&t, &req, ret, -EFAULT, VHIO_VQ_E_UNMAPPED, 0, 7);

	/* Small mapped buffers, then one whose length overflows the total. */
	vt_desc(&t, 0, VT_GPA0, 16, VRING_DESC_F_NEXT, 1);
	vt_desc(&t, 1, VT_GPA0, 0xfffffff0u, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	vt_desc(&t, 2, VT_GPA0, 16, VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 0);
	ret = vt_pop(&t, &req, 8);
	vfail_expect(&t, &req, ret, -EOVERFLOW, VHIO_VQ_E_LEN_OVERFLOW, 0, 7);

	/* One byte less: a total of exactly U32_MAX is no overflow (unmapped instead). */
	vt_desc(&t, 1, VT_GPA0, 0xffffffefu, VRING_DESC_F_WRITE, 0);
	vt_publish(&t, 0);
	ret = vt_pop(&t, &req, 8);
	vfail_expect(&t, &req, ret, -EFAULT, VHIO_VQ_E_UNMAPPED, 0, 7);
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
