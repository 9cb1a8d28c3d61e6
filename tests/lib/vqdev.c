/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vqdev.h"

#include <endian.h>
#include <stddef.h>
#include <string.h>

void vqdev_init(struct vqdev *d, struct vq *vq, bool event_idx)
{
	memset(d, 0, sizeof(*d));
	d->vq = vq;
	d->event_idx = event_idx;
}

static bool add_seg(struct vqdev *d, struct vqdev_chain *c, const struct vring_desc *desc, bool *seen_write)
{
	uint16_t flags = le16toh(desc->flags);
	bool w = flags & VRING_DESC_F_WRITE;
	if (c->n >= VQ_MAX_SEGS || (*seen_write && !w)) {
		d->errors++; /* virtio: readable descriptors come first */
		return false;
	}
	*seen_write |= w;
	c->seg[c->n].addr = (void *)(uintptr_t)le64toh(desc->addr);
	c->seg[c->n].len = le32toh(desc->len);
	c->seg[c->n].write = w;
	c->n++;
	return true;
}

int vqdev_pop(struct vqdev *d, struct vqdev_chain *c)
{
	struct vq *vq = d->vq;
	uint16_t avail = le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
	if (avail == d->last_avail)
		return 0;
	uint16_t head = le16toh(vq->avail->ring[d->last_avail & (vq->num - 1)]);
	d->last_avail++;
	memset(c, 0, offsetof(struct vqdev_chain, seg));
	c->head = head;
	bool seen_write = false;
	uint16_t i = head;
	for (unsigned hops = 0; hops <= vq->num; hops++) {
		const struct vring_desc *desc = &vq->desc[i];
		uint16_t flags = le16toh(desc->flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (hops || (flags & VRING_DESC_F_NEXT)) {
				d->errors++;
				return 1;
			}
			c->indirect = true;
			const struct vring_desc *t = (const void *)(uintptr_t)le64toh(desc->addr);
			unsigned n = le32toh(desc->len) / sizeof(*t);
			for (unsigned k = 0; k < n; k++) {
				if (!add_seg(d, c, &t[k], &seen_write))
					return 1;
				bool next = le16toh(t[k].flags) & VRING_DESC_F_NEXT;
				if (next != (k + 1 < n) || (next && le16toh(t[k].next) != k + 1))
					d->errors++;
			}
			return 1;
		}
		if (!add_seg(d, c, desc, &seen_write))
			return 1;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = le16toh(desc->next);
	}
	if (d->event_idx) /* like vhost: ask for a kick past what we consumed */
		vqdev_set_avail_event(d, d->last_avail);
	return 1;
}

void vqdev_push(struct vqdev *d, uint16_t head, uint32_t len)
{
	struct vq *vq = d->vq;
	struct vring_used_elem *e = &vq->used->ring[d->used_idx & (vq->num - 1)];
	e->id = htole32(head);
	e->len = htole32(len);
	d->used_idx++;
	__atomic_store_n(&vq->used->idx, htole16(d->used_idx), __ATOMIC_RELEASE);
}

bool vqdev_should_call(struct vqdev *d)
{
	struct vq *vq = d->vq;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old = d->signalled, now = d->used_idx;
	d->signalled = now;
	if (d->event_idx) {
		uint16_t ev = le16toh(__atomic_load_n(vq_used_event_p(vq), __ATOMIC_RELAXED));
		return vring_need_event(ev, now, old);
	}
	return !(le16toh(vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

void vqdev_set_avail_event(struct vqdev *d, uint16_t idx)
{
	__atomic_store_n(vq_avail_event_p(d->vq), htole16(idx), __ATOMIC_RELAXED);
}

void vqdev_set_no_notify(struct vqdev *d, bool on)
{
	d->vq->used->flags = htole16(on ? VRING_USED_F_NO_NOTIFY : 0);
}
