/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Driver side of a virtio 1.x split virtqueue in memory the device reads
 * through vhost (little endian, identity-mapped: a descriptor's address is
 * the process virtual address).  Single producer/consumer: the caller
 * serialises all calls on one vq.
 */
#ifndef VHOSTIO_VIRTQUEUE_H
#define VHOSTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>

/* vhost_scsi gathers at most UIO_MAXIOV segments per request. */
#define VQ_MAX_SEGS 1024u
/* Chains of more descriptors than this go indirect when negotiated. */
#define VQ_INDIRECT_MIN 5u

/* Memory for indirect tables (must be device-reachable). */
typedef void *(*vq_alloc_fn)(void *opaque, size_t len);
typedef void (*vq_free_fn)(void *opaque, void *p);

struct vq_head_state {
	void *token;       /* NULL: head not in flight */
	void *indirect;    /* the indirect table, or NULL */
	uint16_t ndesc;    /* ring descriptors the chain holds */
};

struct vq {
	uint16_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	bool event_idx;
	bool indirect;
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;   /* next avail slot (ours, published by vq_kick_prepare) */
	uint16_t kicked;      /* avail idx at the last kick decision */
	uint16_t last_used;   /* next used slot to read */
	uint16_t in_flight;   /* chains added and not yet reaped */
	struct vq_head_state *state;
	vq_alloc_fn alloc;
	vq_free_fn free;
	void *opaque;
	/* statistics, for tests and debugging */
	uint64_t kicks, kicks_suppressed, indirect_used;
};

/* EVENT_IDX words: used_event after avail->ring[num], avail_event after
 * used->ring[num] (computed in bytes: they lie past the arrays). */
static inline uint16_t *vq_used_event_p(const struct vq *vq)
{
	return (uint16_t *)((uint8_t *)vq->avail + 4 + 2 * (size_t)vq->num);
}

static inline uint16_t *vq_avail_event_p(const struct vq *vq)
{
	return (uint16_t *)((uint8_t *)vq->used + 4 + sizeof(struct vring_used_elem) * (size_t)vq->num);
}

/* Bytes of ring memory for 'num' entries (desc, avail, used; 4 KiB aligned size). */
size_t vq_ring_size(uint16_t num);
/*
 * Lay out a ring in 'mem' (zeroed, 16-byte aligned, vq_ring_size(num)
 * bytes).  num: a power of two, 1..32768.  alloc/free may be NULL (no
 * indirect tables).  0 or -errno.
 */
int vq_init(struct vq *vq, void *mem, uint16_t num, bool event_idx, bool indirect, vq_alloc_fn alloc,
	    vq_free_fn free_fn, void *opaque);
/* Frees indirect tables still outstanding and the bookkeeping. */
void vq_fini(struct vq *vq);

/*
 * Add one chain: 'ngroups' iovec arrays, the first 'nreadable' of them
 * device-readable, the rest device-writable (virtio wants readable first).
 * Zero-length segments are skipped.  Not visible until vq_kick_prepare().
 * 0; -EAGAIN: not enough free descriptors now; -EINVAL: can never fit.
 */
int vq_add(struct vq *vq, const struct iovec *const groups[], const unsigned counts[], unsigned ngroups,
	   unsigned nreadable, void *token);
/*
 * Publish the added chains (release store of avail->idx) and say whether
 * the device wants a notification for them (EVENT_IDX or NO_NOTIFY).
 */
bool vq_kick_prepare(struct vq *vq);
/* 1 and the next completion's token/len, 0 if none, -EIO on a bad used entry. */
int vq_get_used(struct vq *vq, void **token, uint32_t *len);
/*
 * Ask for a notification on the next completion (used_event = last_used,
 * or clear NO_INTERRUPT) and return true if completions are already
 * pending, in which case the caller must not sleep.
 */
bool vq_enable_cb(struct vq *vq);
/* Completions pending right now (acquire load of used->idx). */
bool vq_has_used(const struct vq *vq);

#endif
