// SPDX-License-Identifier: GPL-2.0
/* Batch push: elements written in runs that split at the ring's end, then
 * used->idx written once, last; a bad id or n > num writes nothing; a
 * write fault breaks the queue. */
#include "vsim.h"

int main(void)
{
	struct vtest t;
	struct vhio_vq_used e[32];
	unsigned long writes;
	u32 id, len;

	for (u32 i = 0; i < 32; i++)
		e[i] = (struct vhio_vq_used){ .id = i % 8, .len = 1000 + i };

	vt_init(&t, 8, 0, 0, 6);
	t.sim.nlog = 0;
	CHECK(vhio_vq_push_n(&t.vq, e, 5) == 0, "push 5 from slot 6");
	CHECK(vt_used_idx(&t) == 11, "used idx %u", vt_used_idx(&t));
	for (u32 i = 0; i < 5; i++) {
		vt_used_elem(&t, (6 + i) % 8, &id, &len);
		CHECK(id == e[i].id && len == e[i].len, "element %u: %u/%u", i, id, len);
	}
	CHECK(t.sim.nlog == 3, "two runs and the index: %u writes", t.sim.nlog);
	CHECK(t.sim.log[0].uaddr == t.used + 4 + 8 * 6 && t.sim.log[0].len == 16, "run 1");
	CHECK(t.sim.log[1].uaddr == t.used + 4 && t.sim.log[1].len == 24, "run 2");
	CHECK(t.sim.log[2].uaddr == t.used + 2 && t.sim.log[2].len == 2, "index last");

	writes = t.sim.writes;
	e[2].id = 8;
	CHECK(vhio_vq_push_n(&t.vq, e, 3) == -EINVAL, "id >= num");
	e[2].id = 2;
	CHECK(vhio_vq_push_n(&t.vq, e, 9) == -EINVAL, "more than num");
	CHECK(vhio_vq_push_n(&t.vq, e, 0) == 0, "nothing");
	CHECK(t.sim.writes == writes && vt_used_idx(&t) == 11, "nothing written");
	vt_fini(&t);

	/* More than a conversion batch at once. */
	vt_init(&t, 32, 0, 0, 0);
	for (u32 i = 0; i < 32; i++)
		e[i].id = i;
	t.sim.nlog = 0;
	CHECK(vhio_vq_push_n(&t.vq, e, 32) == 0, "push 32");
	CHECK(t.sim.nlog == 3 && t.sim.log[2].uaddr == t.used + 2, "16 + 16 + index");
	vt_used_elem(&t, 31, &id, &len);
	CHECK(id == 31 && len == 1031 && vt_used_idx(&t) == 32, "last element");

	t.sim.fail_after = 1; /* the elements, not the index */
	CHECK(vhio_vq_push_n(&t.vq, e, 2) == -EIO, "index write faults");
	t.sim.fail_after = -1;
	CHECK(vhio_vq_broken(&t.vq) && t.vq.broken_reason == VHIO_VQ_E_RING_FAULT, "broken");
	CHECK(vt_used_idx(&t) == 32, "not published");
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
