// SPDX-License-Identifier: GPL-2.0
/* Buffers not wholly in guest memory fail the request with -EFAULT:
 * below, above, in a hole between regions, straddling the end, wrapping
 * past 2^64.  The engine never reaches the owner memory for them. */
#include <stdlib.h>

#include "vfail.h"

int main(void)
{
	static const struct { u64 addr; u32 len; } bad[] = {
		{ 0, 16 },
		{ VT_GPA0 - 1, 2 },
		{ VT_GPA1 + VT_REGION, 1 },
		{ VT_GPA1 + VT_REGION - 8, 16 },
		{ ~0ULL - 7, 16 },
		{ ~0ULL, 1 },
	};
	struct vtest t;
	struct vhio_vq_req req;
	int ret;

	vt_init(&t, 8, 0, 0, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned long reads = t.sim.reads;

		vt_desc(&t, 0, VT_GPA0, 16, VRING_DESC_F_NEXT, 1);
		vt_desc(&t, 1, bad[i].addr, bad[i].len, VRING_DESC_F_WRITE, 0);
		vt_publish(&t, 0);
		ret = vt_pop(&t, &req, 8);
		CHECK(req.nout == 1 && req.out_len == 16, "case %zu: the readable part gathered", i);
		CHECK(t.sim.reads - reads == 3, "case %zu: only avail idx, head, descriptors read (%lu)",
		      i, t.sim.reads - reads);
		vfail_expect(&t, &req, ret, -EFAULT, VHIO_VQ_E_UNMAPPED, 0, 7);
	}

	/* A hole: drop region 1 from the table, so [VT_GPA1, ...) is unmapped. */
	{
		struct vhost_memory_region r = {
			.guest_phys_addr = VT_GPA0, .memory_size = VT_REGION, .userspace_addr = VT_UA0,
		};

		CHECK(vhio_mem_build(t.mt, &r, 1, 64) == 0, "one region");
		vt_desc(&t, 0, VT_GPA1 - 8, 16, 0, 0);
		vt_publish(&t, 0);
		ret = vt_pop(&t, &req, 8);
		vfail_expect(&t, &req, ret, -EFAULT, VHIO_VQ_E_UNMAPPED, 0, 7);
	}
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
