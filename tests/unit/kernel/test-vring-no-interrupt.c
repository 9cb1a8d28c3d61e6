// SPDX-License-Identifier: GPL-2.0
/* Without EVENT_IDX: signal unless the guest set VRING_AVAIL_F_NO_INTERRUPT;
 * with NOTIFY_ON_EMPTY also when every available entry was popped; a fault
 * reading avail->flags errs on the side of signalling. */
#include "vsim.h"

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;

	vt_init(&t, 8, 0, 0, 0);
	CHECK(vhio_vq_push(&t.vq, 0, 0) == 0, "push");
	CHECK(vhio_vq_need_signal(&t.vq), "flags 0: signal");
	vt_set_avail_flags(&t, VRING_AVAIL_F_NO_INTERRUPT);
	CHECK(!vhio_vq_need_signal(&t.vq), "NO_INTERRUPT: none");
	vt_set_avail_flags(&t, 0);
	CHECK(vhio_vq_need_signal(&t.vq), "cleared again");
	vt_set_avail_flags(&t, VRING_AVAIL_F_NO_INTERRUPT);
	t.sim.fail_after = 0;
	CHECK(vhio_vq_need_signal(&t.vq), "unreadable flags: signal");
	t.sim.fail_after = -1;
	CHECK(!vhio_vq_broken(&t.vq), "a failed flags read does not break the queue");
	vt_fini(&t);

	vt_init(&t, 8, 1ULL << VIRTIO_F_NOTIFY_ON_EMPTY, 0, 0);
	vt_set_avail_flags(&t, VRING_AVAIL_F_NO_INTERRUPT);
	vt_desc(&t, 0, VT_GPA0, 1, 0, 0);
	vt_desc(&t, 1, VT_GPA0, 1, 0, 0);
	vt_publish(&t, 0);
	vt_publish(&t, 1);
	CHECK(vt_pop(&t, &req, 4) == 1, "pop 1 of 2");
	CHECK(vhio_vq_push(&t.vq, req.head, 0) == 0, "push");
	CHECK(!vhio_vq_need_signal(&t.vq), "entries left: NO_INTERRUPT holds");
	CHECK(vt_pop(&t, &req, 4) == 1, "pop 2 of 2");
	CHECK(vhio_vq_push(&t.vq, req.head, 0) == 0, "push");
	CHECK(vhio_vq_need_signal(&t.vq), "empty: NOTIFY_ON_EMPTY signals");
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
