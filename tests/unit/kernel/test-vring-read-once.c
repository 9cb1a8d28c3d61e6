// SPDX-License-Identifier: GPL-2.0
/* A guest that rewrites every byte right after the device read it (to
 * 0xff: head 0xffff, lengths and addresses huge, next out of range, avail
 * idx far ahead): pops still see the values as first read, so the engine
 * reads each shared field once; and no byte is read twice in one pop. */
#include <string.h>

#include "vsim.h"

#define TABLE	(VT_GPA0 + 0x1000)

static void scribble(struct vsim *s, const struct vsim_access *a)
{
	if (!a->write)
		memset(vsim_ptr(s, a->uaddr, a->len), 0xff, a->len);
}

/* No two reads logged since 'from' overlap. */
static void check_no_reread(struct vtest *t, unsigned int from)
{
	for (unsigned int i = from; i < t->sim.nlog; i++) {
		for (unsigned int j = i + 1; j < t->sim.nlog; j++) {
			const struct vsim_access *a = &t->sim.log[i], *b = &t->sim.log[j];

			if (a->write || b->write)
				continue;
			CHECK(a->uaddr + a->len <= b->uaddr || b->uaddr + b->len <= a->uaddr,
			      "read twice: 0x%llx+%zu and 0x%llx+%zu",
			      (unsigned long long)a->uaddr, a->len,
			      (unsigned long long)b->uaddr, b->len);
		}
	}
}

int main(void)
{
	struct vtest t;
	struct vhio_vq_req req;
	unsigned int mark;
	int ret;

	vt_init(&t, 16, 1ULL << VIRTIO_RING_F_INDIRECT_DESC, 0, 0);
	vt_desc(&t, 9, VT_GPA0 + 0x100, 10, VRING_DESC_F_NEXT, 10);
	vt_desc(&t, 10, VT_GPA0 + 0x200, 20, VRING_DESC_F_NEXT, 11);
	vt_desc(&t, 11, VT_GPA0 + 0x300, 30, VRING_DESC_F_WRITE, 0);
	vt_gdesc(&t, TABLE, 0, VT_GPA1 + 0x100, 40, VRING_DESC_F_NEXT, 1);
	vt_gdesc(&t, TABLE, 1, VT_GPA1 + 0x200, 50, VRING_DESC_F_WRITE, 0);
	vt_desc(&t, 3, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	vt_publish(&t, 9);
	vt_publish(&t, 3);
	t.sim.hook = scribble;

	mark = t.sim.nlog;
	ret = vt_pop(&t, &req, 4);
	CHECK(ret == 1 && req.head == 9, "direct: %d err %d head %u", ret, req.err, req.head);
	CHECK(req.out_len == 30 && req.in_len == 30 && req.ndesc == 3, "lengths %u/%u",
	      req.out_len, req.in_len);
	CHECK(vp_iov_addr(&req.in[0]) == VT_UA0 + 0x300, "address as first read");
	check_no_reread(&t, mark);

	mark = t.sim.nlog;
	ret = vt_pop(&t, &req, 4);
	CHECK(ret == 1 && req.head == 3, "indirect: %d err %d head %u", ret, req.err, req.head);
	CHECK(req.out_len == 40 && req.in_len == 50 && req.ndesc == 3, "lengths %u/%u",
	      req.out_len, req.in_len);
	check_no_reread(&t, mark);

	/* Now avail->idx reads 0xffff: the next pop re-reads it and breaks. */
	CHECK(vt_pop(&t, &req, 4) == -EIO && req.err == VHIO_VQ_E_AVAIL_IDX, "avail idx scribbled");
	CHECK(t.sim.faults == 0, "%lu faults", t.sim.faults);
	vt_fini(&t);
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}
