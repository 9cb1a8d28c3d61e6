// SPDX-License-Identifier: GPL-2.0
/* Queue errors: avail->idx more than num ahead (or behind), a head >= num,
 * an unreadable ring: -EIO, the queue is broken with its reason, and every
 * later pop, push, count and kick call fails, no signal is asked for. */
#include "vsim.h"

static void expect_broken(struct vtest *t, enum vhio_vq_err why)
{
	struct vhio_vq_req req;

	CHECK(vhio_vq_broken(&t->vq), "broken");
	CHECK(t->vq.broken_reason == why, "reason %d (%s), want %d", t->vq.broken_reason,
	      vhio_vq_strerror(t->vq.broken_reason), why);
	CHECK(vt_pop(t, &req, 8) == -EIO && req.err == why, "pop after: err %d", req.err);
	CHECK(vhio_vq_push(&t->vq, 0, 0) == -EIO, "push after");
	CHECK(vhio_vq_avail_count(&t->vq) == -EIO, "count after");
	CHECK(vhio_vq_enable_kicks(&t->vq) == -EIO, "enable after");
	CHECK(vhio_vq_disable_kicks(&t->vq) == -EIO, "disable after");
	CHECK(!vhio_vq_need_signal(&t->vq), "no signal on a broken queue");
}

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	int ret;

	/* avail idx jumps num + 1 ahead. */
	vt_init(&t, 8, 0, 100, 0);
	vt_set_avail_idx(&t, 100 + 9);
	ret = vt_pop(&t, &req, 8);
	CHECK(ret == -EIO && req.err == VHIO_VQ_E_AVAIL_IDX, "jump: %d err %d", ret, req.err);
	expect_broken(&t, VHIO_VQ_E_AVAIL_IDX);
	CHECK(vhio_vq_get_base(&t.vq) == 100, "nothing consumed");
	vt_fini(&t);

	/* Exactly num ahead is fine; then it moves backwards. */
	vt_init(&t, 8, 0, 0xfffc, 0);
	for (int i = 0; i < 8; i++) {
		vt_desc(&t, (u32)i, VT_GPA0, 1, 0, 0);
		vt_publish(&t, (u16)i);
	}
	CHECK(vhio_vq_avail_count(&t.vq) == 8, "a full ring, across the 16-bit wrap");
	CHECK(vt_pop(&t, &req, 8) == 1, "pop one");
	vt_set_avail_idx(&t, 0xfffc);
	/* Pops use the index read before while entries remain. */
	for (int i = 0; i < 7; i++)
		CHECK(vt_pop(&t, &req, 8) == 1, "pop %d", i);
	ret = vt_pop(&t, &req, 8);
	CHECK(ret == -EIO && req.err == VHIO_VQ_E_AVAIL_IDX, "backwards: %d err %d", ret, req.err);
	expect_broken(&t, VHIO_VQ_E_AVAIL_IDX);
	vt_fini(&t);

	/* Head out of range. */
	vt_init(&t, 8, 0, 0, 0);
	vt_publish(&t, 8);
	ret = vt_pop(&t, &req, 8);
	CHECK(ret == -EIO && req.err == VHIO_VQ_E_HEAD_RANGE, "head: %d err %d", ret, req.err);
	expect_broken(&t, VHIO_VQ_E_HEAD_RANGE);
	CHECK(t.sim.faults == 0, "%lu faults", t.sim.faults);
	vt_fini(&t);

	/* The ring becomes unreadable (the owner unmapped it). */
	vt_init(&t, 8, 0, 0, 0);
	vt_desc(&t, 0, VT_GPA0, 1, 0, 0);
	vt_publish(&t, 0);
	t.sim.fail_after = 2; /* avail idx and head succeed, the descriptor read faults */
	ret = vt_pop(&t, &req, 8);
	CHECK(ret == -EIO && req.err == VHIO_VQ_E_RING_FAULT, "fault: %d err %d", ret, req.err);
	t.sim.fail_after = -1;
	expect_broken(&t, VHIO_VQ_E_RING_FAULT);

	/* A restart (new backend) clears it. */
	CHECK(vhio_vq_start(&t.vq) == 0 && !vhio_vq_broken(&t.vq), "restart");

	/* Writes that fault: the kick flag, avail_event, a used element. */
	t.sim.fail_after = 0;
	CHECK(vhio_vq_disable_kicks(&t.vq) == -EIO, "used->flags write faults");
	t.sim.fail_after = -1;
	expect_broken(&t, VHIO_VQ_E_RING_FAULT);
	CHECK(vhio_vq_start(&t.vq) == 0, "restart");
	t.sim.fail_after = 0;
	CHECK(vhio_vq_push(&t.vq, 0, 0) == -EIO, "used element write faults");
	t.sim.fail_after = -1;
	expect_broken(&t, VHIO_VQ_E_RING_FAULT);
	vt_fini(&t);

	vt_init(&t, 8, 1ULL << VIRTIO_RING_F_EVENT_IDX, 0, 0);
	t.sim.fail_after = 0;
	CHECK(vhio_vq_enable_kicks(&t.vq) == -EIO, "avail_event write faults");
	t.sim.fail_after = -1;
	expect_broken(&t, VHIO_VQ_E_RING_FAULT);
	/* A restart (new backend) clears it. */
	CHECK(vhio_vq_start(&t.vq) == 0 && !vhio_vq_broken(&t.vq), "restart");
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
