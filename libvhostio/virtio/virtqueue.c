/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((size_t)(a) - 1))

static size_t avail_off(uint16_t num)
{
	return sizeof(struct vring_desc) * num;
}

static size_t used_off(uint16_t num)
{
	/* flags, idx, ring[num], used_event; the used ring needs 4-byte
	 * alignment, 64 keeps the device's writes off our cache line. */
	return ALIGN_UP(avail_off(num) + 2 * (3 + (size_t)num), 64);
}

size_t vq_ring_size(uint16_t num)
{
	return ALIGN_UP(used_off(num) + 2 * 3 + sizeof(struct vring_used_elem) * (size_t)num, 4096);
}

int vq_init(struct vq *vq, void *mem, uint16_t num, bool event_idx, bool indirect, vq_alloc_fn alloc,
	    vq_free_fn free_fn, void *opaque)
{
	memset(vq, 0, sizeof(*vq));
	if (num == 0 || (num & (num - 1)) || ((uintptr_t)mem & 15))
		return -EINVAL;
	vq->state = calloc(num, sizeof(*vq->state));
	if (!vq->state)
		return -ENOMEM;
	vq->num = num;
	vq->desc = mem;
	vq->avail = (struct vring_avail *)((uint8_t *)mem + avail_off(num));
	vq->used = (struct vring_used *)((uint8_t *)mem + used_off(num));
	vq->event_idx = event_idx;
	vq->indirect = indirect && alloc && free_fn;
	vq->alloc = alloc;
	vq->free = free_fn;
	vq->opaque = opaque;
	memset(mem, 0, vq_ring_size(num));
	/* The free list threads through the descriptors' next fields. */
	for (uint16_t i = 0; i + 1 < num; i++)
		vq->desc[i].next = htole16(i + 1);
	vq->num_free = num;
	return 0;
}

void vq_fini(struct vq *vq)
{
	if (!vq->state)
		return;
	for (unsigned i = 0; i < vq->num; i++)
		if (vq->state[i].indirect)
			vq->free(vq->opaque, vq->state[i].indirect);
	free(vq->state);
	vq->state = NULL;
}

static void fill(struct vring_desc *d, const struct iovec *iov, bool writable)
{
	d->addr = htole64((uint64_t)(uintptr_t)iov->iov_base);
	d->len = htole32((uint32_t)iov->iov_len);
	d->flags = htole16(writable ? VRING_DESC_F_WRITE : 0);
}

int vq_add(struct vq *vq, const struct iovec *const groups[], const unsigned counts[], unsigned ngroups,
	   unsigned nreadable, void *token)
{
	unsigned total = 0;
	for (unsigned g = 0; g < ngroups; g++)
		for (unsigned i = 0; i < counts[g]; i++) {
			if (groups[g][i].iov_len > UINT32_MAX)
				return -EINVAL;
			total += groups[g][i].iov_len != 0;
		}
	if (total == 0 || total > VQ_MAX_SEGS || !token)
		return -EINVAL;
	if (!vq->indirect && total > vq->num)
		return -EINVAL;

	struct vring_desc *table = NULL;
	if (vq->indirect && total > 1 && (total >= VQ_INDIRECT_MIN || total > vq->num_free)) {
		if (vq->num_free < 1)
			return -EAGAIN;
		table = vq->alloc(vq->opaque, total * sizeof(*table));
		/* Without a table a chain that fits the ring still goes direct. */
		if (!table && total > vq->num)
			return -ENOMEM;
	}
	if (!table && total > vq->num_free)
		return -EAGAIN;

	uint16_t head = vq->free_head;
	if (table) {
		unsigned n = 0;
		for (unsigned g = 0; g < ngroups; g++)
			for (unsigned i = 0; i < counts[g]; i++) {
				if (!groups[g][i].iov_len)
					continue;
				fill(&table[n], &groups[g][i], g >= nreadable);
				if (n + 1 < total) {
					table[n].flags |= htole16(VRING_DESC_F_NEXT);
					table[n].next = htole16((uint16_t)(n + 1));
				}
				n++;
			}
		struct vring_desc *d = &vq->desc[head];
		d->addr = htole64((uint64_t)(uintptr_t)table);
		d->len = htole32(total * (uint32_t)sizeof(*table));
		d->flags = htole16(VRING_DESC_F_INDIRECT);
		vq->free_head = le16toh(d->next);
		vq->num_free--;
		vq->state[head].ndesc = 1;
		vq->indirect_used++;
	} else {
		uint16_t i = head, last = head;
		unsigned n = 0;
		for (unsigned g = 0; g < ngroups; g++)
			for (unsigned k = 0; k < counts[g]; k++) {
				if (!groups[g][k].iov_len)
					continue;
				struct vring_desc *d = &vq->desc[i];
				/* 'next' already names the next free descriptor: keep it. */
				fill(d, &groups[g][k], g >= nreadable);
				last = i;
				if (++n < total)
					d->flags |= htole16(VRING_DESC_F_NEXT);
				i = le16toh(d->next);
			}
		vq->free_head = le16toh(vq->desc[last].next);
		vq->num_free -= (uint16_t)total;
		vq->state[head].ndesc = (uint16_t)total;
	}
	vq->state[head].token = token;
	vq->state[head].indirect = table;
	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = htole16(head);
	vq->avail_idx++;
	vq->in_flight++;
	return 0;
}

bool vq_kick_prepare(struct vq *vq)
{
	uint16_t new_idx = vq->avail_idx, old = vq->kicked;
	/* Descriptors and ring entries before the index the device polls. */
	__atomic_store_n(&vq->avail->idx, htole16(new_idx), __ATOMIC_RELEASE);
	/* The index must be visible before we read the device's wishes, or
	 * the device may go to sleep on an index we then fail to kick. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->kicked = new_idx;
	if (new_idx == old)
		return false;
	bool kick;
	if (vq->event_idx)
		kick = vring_need_event(le16toh(__atomic_load_n(vq_avail_event_p(vq), __ATOMIC_RELAXED)), new_idx, old);
	else
		kick = !(le16toh(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED)) & VRING_USED_F_NO_NOTIFY);
	if (kick)
		vq->kicks++;
	else
		vq->kicks_suppressed++;
	return kick;
}

bool vq_has_used(const struct vq *vq)
{
	return le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE)) != vq->last_used;
}

int vq_get_used(struct vq *vq, void **token, uint32_t *len)
{
	/* Acquire: the entry and the data it covers are read after the index. */
	uint16_t idx = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
	if (idx == vq->last_used)
		return 0;
	if ((uint16_t)(idx - vq->last_used) > vq->in_flight) {
		vhostio_log(VHOSTIO_LOG_ERROR, "virtqueue: used idx %u runs %u past %u in flight", idx,
			    (uint16_t)(idx - vq->last_used), vq->in_flight);
		return -EIO;
	}
	struct vring_used_elem *e = &vq->used->ring[vq->last_used & (vq->num - 1)];
	uint32_t id = le32toh(e->id);
	if (id >= vq->num || !vq->state[id].token) {
		vhostio_log(VHOSTIO_LOG_ERROR, "virtqueue: used entry names descriptor %u, not in flight", id);
		return -EIO;
	}
	struct vq_head_state *st = &vq->state[id];
	*token = st->token;
	if (len)
		*len = le32toh(e->len);
	/* Give the chain back to the free list: its last descriptor points at
	 * the old free head. */
	uint16_t last = (uint16_t)id;
	for (uint16_t n = 1; n < st->ndesc; n++)
		last = le16toh(vq->desc[last].next);
	vq->desc[last].next = htole16(vq->free_head);
	vq->free_head = (uint16_t)id;
	vq->num_free += st->ndesc;
	if (st->indirect)
		vq->free(vq->opaque, st->indirect);
	st->token = NULL;
	st->indirect = NULL;
	st->ndesc = 0;
	vq->last_used++;
	vq->in_flight--;
	return 1;
}

bool vq_enable_cb(struct vq *vq)
{
	if (vq->event_idx)
		__atomic_store_n(vq_used_event_p(vq), htole16(vq->last_used), __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->avail->flags, 0, __ATOMIC_RELAXED);
	/* The device must see our wish before we look at used->idx again, or
	 * a completion landing in between would go unsignalled. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq_has_used(vq);
}
