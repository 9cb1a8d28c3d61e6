// SPDX-License-Identifier: GPL-2.0
/* Guest kicks on and off: used->flags NO_NOTIFY without EVENT_IDX (written
 * only when it changes), avail_event with it; enabling re-reads avail->idx
 * after the write, so a buffer the guest added while kicks were off (and
 * did not kick for) is found: enable answers 1. */
#include "vsim.h"

static struct vtest t;
static u64 race_at;	/* owner address whose write triggers the guest */
static u16 race_head;

/* The guest publishes a buffer just as the device writes race_at: it had
 * looked before and seen kicks off, so it does not kick. */
static void guest_races(struct vsim *s, const struct vsim_access *a)
{
	(void)s;
	if (a->write && a->uaddr == race_at) {
		race_at = 0;
		vt_desc(&t, race_head, VT_GPA0, 1, 0, 0);
		vt_publish(&t, race_head);
	}
}

/* The write of the kick request comes before the re-read of avail->idx. */
static void check_order(u64 kick_field)
{
	int w = -1, r = -1;

	for (unsigned int i = 0; i < t.sim.nlog; i++) {
		if (t.sim.log[i].write && t.sim.log[i].uaddr == kick_field)
			w = (int)i;
		if (!t.sim.log[i].write && t.sim.log[i].uaddr == t.avail + 2)
			r = (int)i;
	}
	CHECK(w >= 0 && r > w, "kick request written (%d) before avail idx read (%d)", w, r);
}

int main(void)
{
	struct vhio_vq_req req;
	unsigned long writes;

	vt_init(&t, 8, 0, 0, 0);
	CHECK(vhio_vq_disable_kicks(&t.vq) == 0, "disable");
	CHECK(vt_used_flags(&t) == VRING_USED_F_NO_NOTIFY, "NO_NOTIFY set");
	writes = t.sim.writes;
	CHECK(vhio_vq_disable_kicks(&t.vq) == 0 && t.sim.writes == writes, "no rewrite");
	t.sim.nlog = 0;
	CHECK(vhio_vq_enable_kicks(&t.vq) == 0, "enable, empty: 0");
	CHECK(vt_used_flags(&t) == 0, "NO_NOTIFY cleared");
	check_order(t.used);
	writes = t.sim.writes;
	CHECK(vhio_vq_enable_kicks(&t.vq) == 0 && t.sim.writes == writes, "no rewrite");

	/* The race. */
	CHECK(vhio_vq_disable_kicks(&t.vq) == 0, "disable");
	race_at = t.used;
	race_head = 4;
	t.sim.hook = guest_races;
	CHECK(vhio_vq_enable_kicks(&t.vq) == 1, "enable sees the buffer that slipped in");
	CHECK(vhio_vq_avail_count(&t.vq) == 1, "one available");
	CHECK(vt_pop(&t, &req, 4) == 1 && req.head == 4, "and it pops");
	CHECK(vhio_vq_enable_kicks(&t.vq) == 0, "then empty");
	t.sim.hook = NULL;
	vt_fini(&t);

	/* EVENT_IDX: avail_event, never used->flags. */
	vt_init(&t, 8, 1ULL << VIRTIO_RING_F_EVENT_IDX, 0x7ffe, 0);
	writes = t.sim.writes;
	CHECK(vhio_vq_disable_kicks(&t.vq) == 0 && t.sim.writes == writes, "disable writes nothing");
	CHECK(vt_used_flags(&t) == 0, "flags untouched");
	for (u16 i = 0; i < 3; i++) {
		vt_desc(&t, i, VT_GPA0, 1, 0, 0);
		vt_publish(&t, i);
	}
	CHECK(vhio_vq_enable_kicks(&t.vq) == 1, "entries available");
	for (int i = 0; i < 3; i++)
		CHECK(vt_pop(&t, &req, 4) == 1, "pop %d", i);
	t.sim.nlog = 0;
	CHECK(vhio_vq_enable_kicks(&t.vq) == 0, "empty");
	CHECK(vt_avail_event(&t) == 0x8001, "avail_event %#x", vt_avail_event(&t));
	check_order(t.used + 4 + 8 * 8);

	race_at = t.used + 4 + 8 * 8;
	race_head = 5;
	t.sim.hook = guest_races;
	CHECK(vhio_vq_enable_kicks(&t.vq) == 1, "enable sees the buffer that slipped in");
	CHECK(vt_pop(&t, &req, 4) == 1 && req.head == 5, "and it pops");
	t.sim.hook = NULL;
	CHECK(vhio_vq_enable_kicks(&t.vq) == 0 && vt_avail_event(&t) == 0x8002,
	      "avail_event follows: %#x", vt_avail_event(&t));
	CHECK(t.sim.faults == 0, "%lu faults", t.sim.faults);
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
