// SPDX-License-Identifier: GPL-2.0
/* Ring configuration: size a power of 2 up to 32768, alignment of the
 * three rings, no wrap past 2^64; nothing works before start, start takes
 * used->idx from the ring and fails cleanly on an inaccessible ring. */
#include "vsim.h"

static int setup(struct vhio_vq *vq, u32 num, u64 desc, u64 avail, u64 used)
{
	struct vhio_vq_config cfg = {
		.num = num, .desc = desc, .avail = avail, .used = used, .last_avail_idx = 7,
	};

	return vhio_vq_setup(vq, &cfg, &vsim_ops, NULL);
}

int main(void)
{
	struct vtest t;
	struct vhio_vq vq;
	struct vhio_vq_req req;
	u32 id, len;

	CHECK(setup(&vq, 0, 0x1000, 0x2000, 0x3000) == -EINVAL, "num 0");
	CHECK(setup(&vq, 3, 0x1000, 0x2000, 0x3000) == -EINVAL, "num 3");
	CHECK(setup(&vq, 65536, 0x1000, 0x2000, 0x3000) == -EINVAL, "num 65536");
	CHECK(setup(&vq, 32768 * 2 + 1, 0x1000, 0x2000, 0x3000) == -EINVAL, "num odd");
	CHECK(setup(&vq, 32768, 0x1000, 0x2000, 0x3000) == 0, "num 32768");
	CHECK(setup(&vq, 1, 0x1000, 0x2000, 0x3000) == 0, "num 1");
	CHECK(vhio_vq_get_base(&vq) == 7, "base %u", vhio_vq_get_base(&vq));
	CHECK(setup(&vq, 8, 0x1008, 0x2000, 0x3000) == -EINVAL, "desc 8-aligned");
	CHECK(setup(&vq, 8, 0x1000, 0x2001, 0x3000) == -EINVAL, "avail odd");
	CHECK(setup(&vq, 8, 0x1000, 0x2000, 0x3002) == -EINVAL, "used 2-aligned");
	CHECK(setup(&vq, 8, ~0ULL - 0x6f, 0x2000, 0x3000) == -EINVAL, "desc wraps");
	CHECK(setup(&vq, 8, ~0ULL - 0x7f, 0x2000, 0x3000) == 0, "desc ends at 2^64 - 1");
	CHECK(setup(&vq, 8, 0x1000, ~0ULL - 0x13, 0x3000) == -EINVAL, "avail + used_event wraps");
	CHECK(setup(&vq, 8, 0x1000, 0x2000, ~0ULL - 0x43) == -EINVAL, "used + avail_event wraps");

	/* Not started. */
	CHECK(setup(&vq, 8, 0x1000, 0x2000, 0x3000) == 0, "setup");
	req = (struct vhio_vq_req){ 0 };
	CHECK(vhio_vq_pop(&vq, NULL, &req) == -EIO, "pop before start");
	CHECK(vhio_vq_push(&vq, 0, 0) == -EIO, "push before start");
	CHECK(vhio_vq_avail_count(&vq) == -EIO, "count before start");
	CHECK(!vhio_vq_need_signal(&vq), "no signal before start");

	/* Start on an inaccessible ring (priv NULL: use a simulator with no mappings). */
	{
		struct vsim empty = { .fail_after = -1 };
		struct vhio_vq_config cfg = { .num = 8, .desc = 0x1000, .avail = 0x2000,
					      .used = 0x3000 };

		CHECK(vhio_vq_setup(&vq, &cfg, &vsim_ops, &empty) == 0, "setup");
		CHECK(vhio_vq_start(&vq) == -EFAULT, "start faults");
		CHECK(!vq.started && vhio_vq_push(&vq, 0, 0) == -EIO, "still not started");
	}

	/* used->idx comes from the ring (here 0x1234), used->flags is reset. */
	vt_init(&t, 8, 0, 0, 0x1234);
	CHECK(vhio_vq_push(&t.vq, 5, 77) == 0, "push");
	vt_used_elem(&t, 0x1234 % 8, &id, &len);
	CHECK(id == 5 && len == 77 && vt_used_idx(&t) == 0x1235, "slot from used->idx");
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
