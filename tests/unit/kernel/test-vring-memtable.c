// SPDX-License-Identifier: GPL-2.0
/* The memory table: what VHOST_SET_MEM_TABLE regions are refused, that
 * regions given in any order are found (many, in a scrambled order), and
 * translation into segments: one per region crossed, -EFAULT for holes,
 * ends and wraps, -ENOBUFS when the segments do not fit. */
#include <stdlib.h>

#include "vsim.h"

static struct vhio_memtable *table(u32 n)
{
	struct vhio_memtable *mt = malloc(vhio_mem_bytes(n));

	if (!mt)
		exit(T_EXIT_FAIL);
	return mt;
}

#define R(g, s, u) { .guest_phys_addr = (g), .memory_size = (s), .userspace_addr = (u) }

int main(void)
{
	struct vhio_memtable *mt = table(600);
	struct vhost_memory_region *many = calloc(509, sizeof(*many));
	struct iovec iov[4];
	int ret;

	/* Refused. */
	{
		struct vhost_memory_region zero[] = { R(0x1000, 0, 0x1000) };
		struct vhost_memory_region gwrap[] = { R(~0ULL - 0xfff, 0x2000, 0x1000) };
		struct vhost_memory_region uwrap[] = { R(0x1000, 0x2000, ~0ULL - 0xfff) };
		struct vhost_memory_region overlap[] = { R(0x10000, 0x1000, 0x1000),
							 R(0x0, 0x10001, 0x9000) };
		struct vhost_memory_region same[] = { R(0x10000, 0x1000, 0x1000),
						      R(0x10000, 0x1000, 0x5000) };

		CHECK(vhio_mem_build(mt, zero, 1, 64) == -EINVAL, "size 0");
		CHECK(mt->nregions == 0, "left empty");
		CHECK(vhio_mem_build(mt, gwrap, 1, 64) == -EINVAL, "gpa + size wraps");
		CHECK(vhio_mem_build(mt, uwrap, 1, 64) == -EINVAL, "uaddr + size wraps");
		CHECK(vhio_mem_build(mt, overlap, 2, 64) == -EINVAL, "overlap by one byte");
		CHECK(vhio_mem_build(mt, same, 2, 64) == -EINVAL, "same start");
		CHECK(vhio_mem_build(mt, many, 65, 64) == -E2BIG, "more than max_regions");
		CHECK(vhio_mem_build(mt, many, 70000, 100000) == -E2BIG, "more than the cap");
		CHECK(vhio_mem_bytes(70000) == 0, "no size beyond the cap");
	}

	/* Accepted: the top of the address space, and an empty table. */
	{
		struct vhost_memory_region top[] = { R(~0ULL - 0xfff, 0x1000, 0x1000) };

		CHECK(vhio_mem_build(mt, top, 1, 64) == 0, "a region ending at 2^64 - 1");
		ret = vhio_mem_translate(mt, ~0ULL - 0xf, 16, iov, 4);
		CHECK(ret == 1 && vp_iov_addr(&iov[0]) == 0x1000 + 0xff0 && iov[0].iov_len == 16,
		      "last 16 bytes: %d", ret);
		CHECK(vhio_mem_translate(mt, ~0ULL - 0xf, 17, iov, 4) == -EFAULT, "wraps");
		CHECK(vhio_mem_build(mt, top, 0, 64) == 0 && mt->nregions == 0, "empty table");
		CHECK(vhio_mem_translate(mt, 0, 1, iov, 4) == -EFAULT, "nothing maps");
		CHECK(vhio_mem_translate(mt, 0, 0, iov, 4) == 0, "len 0 maps to nothing");
	}

	/* Adjacent regions, given out of order; a hole after them. */
	{
		struct vhost_memory_region r[] = {
			R(0x30000, 0x1000, 0xc000), R(0x10000, 0x1000, 0xa000),
			R(0x11000, 0x1000, 0xb000),
		};

		CHECK(vhio_mem_build(mt, r, 3, 64) == 0, "adjacent accepted");
		ret = vhio_mem_translate(mt, 0x10ff0, 0x20, iov, 4);
		CHECK(ret == 2, "two regions, two segments: %d", ret);
		CHECK(vp_iov_addr(&iov[0]) == 0xaff0 && iov[0].iov_len == 0x10, "segment 0");
		CHECK(vp_iov_addr(&iov[1]) == 0xb000 && iov[1].iov_len == 0x10, "segment 1");
		CHECK(vhio_mem_translate(mt, 0x10ff0, 0x20, iov, 1) == -ENOBUFS, "no room for two");
		CHECK(vhio_mem_translate(mt, 0x11ff0, 0x20, iov, 4) == -EFAULT, "into the hole");
		CHECK(vhio_mem_translate(mt, 0x0fff, 2, iov, 4) == -EFAULT, "from below");
		ret = vhio_mem_translate(mt, 0x30fff, 1, iov, 4);
		CHECK(ret == 1 && vp_iov_addr(&iov[0]) == 0xcfff, "last byte of the last region");
		CHECK(vhio_mem_translate(mt, 0x31000, 1, iov, 4) == -EFAULT, "just past it");
		ret = vhio_mem_translate(mt, 0x10000, 0x2000, iov, 4);
		CHECK(ret == 2 && iov[0].iov_len == 0x1000 && iov[1].iov_len == 0x1000,
		      "both whole regions");
	}

	/* 509 regions of 4 KiB every 8 KiB, scrambled: each found, the gaps not. */
	for (u32 i = 0; i < 509; i++) {
		u32 k = (i * 263) % 509; /* 263 is prime to 509: a permutation */

		many[i] = (struct vhost_memory_region)R(0x100000 + 0x2000ULL * k, 0x1000,
							 0x40000000ULL + 0x1000ULL * k);
	}
	CHECK(vhio_mem_build(mt, many, 509, 509) == 0, "509 regions");
	for (u32 i = 1; i < mt->nregions; i++)
		CHECK(mt->r[i - 1].gpa < mt->r[i].gpa, "sorted at %u", i);
	for (u32 k = 0; k < 509; k++) {
		u64 gpa = 0x100000 + 0x2000ULL * k;

		ret = vhio_mem_translate(mt, gpa + 0x800, 0x800, iov, 4);
		CHECK(ret == 1 && vp_iov_addr(&iov[0]) == 0x40000000ULL + 0x1000ULL * k + 0x800,
		      "region %u", k);
		CHECK(vhio_mem_translate(mt, gpa + 0x1000, 1, iov, 4) == -EFAULT, "gap %u", k);
	}
	free(many);
	free(mt);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
