// SPDX-License-Identifier: GPL-2.0
/* Malformed indirect descriptors fail the request: table length 0, not a
 * multiple of 16, more than num entries (-EINVAL, INDIRECT_LEN); INDIRECT
 * with NEXT; an INDIRECT entry inside a table (nested); a table not in
 * guest memory, wholly or in part, or wrapping past 2^64, or in a region
 * whose owner memory cannot be read (-EFAULT, INDIRECT_FAULT). */
#include <stdlib.h>

#include "vfail.h"

#define TABLE	(VT_GPA0 + 0x1000)

static void one(struct vtest *t, u64 addr, u32 len, u16 flags, int want, enum vhio_vq_err err)
{
	struct vhio_vq_req req;
	int ret;

	vt_desc(t, 1, addr, len, flags, 2);
	vt_publish(t, 1);
	ret = vt_pop(t, &req, 8);
	vfail_expect(t, &req, ret, want, err, 1, 3);
	CHECK(req.nout == 0 && req.nin == 0, "nothing gathered");
}

int main(void)
{
	struct vtest t;

	vt_init(&t, 8, 1ULL << VIRTIO_RING_F_INDIRECT_DESC, 0, 0);
	for (u32 i = 0; i < 9; i++)
		vt_gdesc(&t, TABLE, i, VT_GPA0, 16, 0, 0);

	one(&t, TABLE, 0, VRING_DESC_F_INDIRECT, -EINVAL, VHIO_VQ_E_INDIRECT_LEN);
	one(&t, TABLE, 24, VRING_DESC_F_INDIRECT, -EINVAL, VHIO_VQ_E_INDIRECT_LEN);
	one(&t, TABLE, 15, VRING_DESC_F_INDIRECT, -EINVAL, VHIO_VQ_E_INDIRECT_LEN);
	one(&t, TABLE, 9 * 16, VRING_DESC_F_INDIRECT, -EINVAL, VHIO_VQ_E_INDIRECT_LEN);
	one(&t, TABLE, 0xfffffff0u, VRING_DESC_F_INDIRECT, -EINVAL, VHIO_VQ_E_INDIRECT_LEN);
	one(&t, TABLE, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, -EINVAL,
	    VHIO_VQ_E_INDIRECT_NEXT);
	/* 8 entries (= num) is the most allowed. */
	{
		struct vhio_vq_req req;
		int ret;

		vt_desc(&t, 1, TABLE, 8 * 16, VRING_DESC_F_INDIRECT, 0);
		vt_publish(&t, 1);
		ret = vt_pop(&t, &req, 8);
		CHECK(ret == 1 && req.nout == 1, "a table of num entries: %d", ret);
	}

	/* Unmapped tables: beyond guest RAM, straddling its end, wrapping. */
	one(&t, VT_GPA0 - 0x1000, 16, VRING_DESC_F_INDIRECT, -EFAULT, VHIO_VQ_E_INDIRECT_FAULT);
	one(&t, VT_GPA1 + VT_REGION - 16, 32, VRING_DESC_F_INDIRECT, -EFAULT,
	    VHIO_VQ_E_INDIRECT_FAULT);
	one(&t, ~0ULL - 15, 32, VRING_DESC_F_INDIRECT, -EFAULT, VHIO_VQ_E_INDIRECT_FAULT);

	/* Nested: entry 1 of the table is itself indirect. */
	vt_gdesc(&t, TABLE, 0, VT_GPA0, 16, VRING_DESC_F_NEXT, 1);
	vt_gdesc(&t, TABLE, 1, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	{
		struct vhio_vq_req req;
		int ret;

		vt_desc(&t, 1, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
		vt_publish(&t, 1);
		ret = vt_pop(&t, &req, 8);
		vfail_expect(&t, &req, ret, -EINVAL, VHIO_VQ_E_INDIRECT_NESTED, 1, 3);
	}

	/* A table straddling the two regions is fine (read in two parts). */
	vt_gdesc(&t, VT_GPA1 - 16, 0, VT_GPA0 + 0x10, 16, VRING_DESC_F_NEXT, 1);
	vt_gdesc(&t, VT_GPA1 - 16, 1, VT_GPA1 + 0x10, 32, VRING_DESC_F_WRITE, 0);
	{
		struct vhio_vq_req req;
		int ret;

		vt_desc(&t, 1, VT_GPA1 - 16, 32, VRING_DESC_F_INDIRECT, 0);
		vt_publish(&t, 1);
		ret = vt_pop(&t, &req, 8);
		CHECK(ret == 1 && req.out_len == 16 && req.in_len == 32,
		      "a table across two regions: %d err %d", ret, req.err);
	}
	CHECK(t.sim.faults == 0, "%lu faults", t.sim.faults);

	/* A region whose owner range the owner did not map: reading the table faults. */
	{
		struct vhost_memory_region r[3] = {
			{ .guest_phys_addr = VT_GPA0, .memory_size = VT_REGION, .userspace_addr = VT_UA0 },
			{ .guest_phys_addr = VT_GPA1, .memory_size = VT_REGION, .userspace_addr = VT_UA1 },
			{ .guest_phys_addr = 0x900000, .memory_size = 0x1000,
			  .userspace_addr = 0x300000000000ULL },
		};
		struct vhio_vq_req req;
		int ret;

		free(t.mt);
		t.mt = malloc(vhio_mem_bytes(3));
		CHECK(t.mt && vhio_mem_build(t.mt, r, 3, 64) == 0, "three regions");
		vt_desc(&t, 1, 0x900000, 16, VRING_DESC_F_INDIRECT, 0);
		vt_publish(&t, 1);
		ret = vt_pop(&t, &req, 8);
		CHECK(t.sim.faults == 1, "the one read of the table faulted: %lu", t.sim.faults);
		t.sim.faults = 0;
		vfail_expect(&t, &req, ret, -EFAULT, VHIO_VQ_E_INDIRECT_FAULT, 1, 3);
	}
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
