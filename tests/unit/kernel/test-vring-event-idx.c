// SPDX-License-Identifier: GPL-2.0
/* EVENT_IDX interrupts: the first check signals; afterwards only when the
 * used entries published since the last signal pass used_event
 * (vring_need_event), across the 16-bit wrap of used->idx; after 2^16
 * entries without a check the stored signal point is stale: signal. */
#include "vsim.h"

int main(void)
{
	struct vtest t;
	struct vhio_vq_used e[8] = { { 0, 0 } };

	vt_init(&t, 8, 1ULL << VIRTIO_RING_F_EVENT_IDX, 0, 0xfffe);
	vt_set_used_event(&t, 0x1234); /* far away */
	CHECK(vhio_vq_push(&t.vq, 0, 1) == 0, "push");
	CHECK(vt_used_idx(&t) == 0xffff, "used idx %#x", vt_used_idx(&t));
	CHECK(vhio_vq_need_signal(&t.vq), "first check signals");
	CHECK(!vhio_vq_need_signal(&t.vq), "nothing new: no signal");

	/* The guest asks for an interrupt once entry 0 (after the wrap) is used. */
	vt_set_used_event(&t, 0x0000);
	CHECK(vhio_vq_push(&t.vq, 1, 1) == 0, "push to idx 0");
	CHECK(vt_used_idx(&t) == 0x0000, "wrapped");
	CHECK(!vhio_vq_need_signal(&t.vq), "used idx reached used_event, not past it");
	CHECK(vhio_vq_push(&t.vq, 2, 1) == 0, "push to idx 1");
	CHECK(vhio_vq_need_signal(&t.vq), "passed used_event");

	/* used_event behind the signalled point (stale): no signal. */
	vt_set_used_event(&t, 0xfff0);
	CHECK(vhio_vq_push(&t.vq, 3, 1) == 0, "push");
	CHECK(!vhio_vq_need_signal(&t.vq), "stale used_event");

	/* A batch across used_event: one signal. */
	vt_set_used_event(&t, 0x0003);
	CHECK(vhio_vq_push_n(&t.vq, e, 3) == 0, "batch of 3 to idx 5");
	CHECK(vt_used_idx(&t) == 5, "used idx %u", vt_used_idx(&t));
	CHECK(vhio_vq_need_signal(&t.vq), "batch passed used_event");
	CHECK(!vhio_vq_need_signal(&t.vq), "once");

	/* used_event = the next index to be published minus one, exactly the boundary. */
	vt_set_used_event(&t, 5);
	CHECK(vhio_vq_push(&t.vq, 0, 0) == 0, "push to 6");
	CHECK(vhio_vq_need_signal(&t.vq), "entry 5 used: signal");

	/* 2^16 entries without a check: used->idx is back where it was. */
	vt_set_used_event(&t, 0x4000);
	for (u32 i = 0; i < 65536 / 8; i++)
		CHECK(vhio_vq_push_n(&t.vq, e, 8) == 0, "push %u", i);
	CHECK(vt_used_idx(&t) == 6, "used idx %u", vt_used_idx(&t));
	CHECK(!t.vq.signalled_used_valid, "signal point invalidated");
	CHECK(vhio_vq_need_signal(&t.vq), "signal after a full wrap");
	CHECK(t.sim.faults == 0, "%lu faults", t.sim.faults);
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
