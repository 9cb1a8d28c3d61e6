/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhostio's virtqueue engine: the guest memory table (VHOST_SET_MEM_TABLE)
 * and the device side of a split virtqueue (virtio 1.x, little endian),
 * written without vhost.ko's private structures.  The same file compiles
 * into the kernel module and into the host unit tests (vring_port.h).
 *
 * Address spaces.  The ring addresses (VHOST_SET_VRING_ADDR) and the
 * memory table's userspace_addr are addresses in the owner's address space
 * ("uaddr"); descriptor addresses and indirect tables are guest physical
 * ("gpa") and are translated through the memory table.  The engine never
 * dereferences either: every access goes through struct vhio_vq_ops,
 * copy_from_user()/copy_to_user() under kthread_use_mm() in the module.
 *
 * The guest is not trusted and may rewrite the ring while the engine reads
 * it: every shared field is read once into a local copy, every index is
 * bounds-checked before use, every loop is bounded by the ring size.
 *
 * Locking is the caller's: one vhio_vq is used by one context at a time.
 * A memory table is immutable once built; the caller keeps the one it
 * passes to vhio_vq_pop() alive for the duration of the call.
 */
#ifndef VHOSTIO_KERNEL_VRING_H
#define VHOSTIO_KERNEL_VRING_H

#include "vring_port.h"

/* ---- Guest memory table ---- */

/* Stock vhost's default for its max_mem_regions module parameter. */
#define VHIO_MEM_REGIONS_DEFAULT	64
/* The most any caller may allow (max_mem_regions is a ushort in vhost). */
#define VHIO_MEM_REGIONS_CAP		U16_MAX

struct vhio_mem_region {
	u64 gpa;	/* first guest physical byte */
	u64 last;	/* last guest physical byte (inclusive) */
	u64 uaddr;	/* owner address of gpa */
};

struct vhio_memtable {
	u32 nregions;
	struct vhio_mem_region r[];	/* sorted by gpa, disjoint */
};

/* Bytes to allocate for a table of nregions (0 if nregions > the cap). */
size_t vhio_mem_bytes(u32 nregions);

/*
 * Fill mt (vhio_mem_bytes(n) bytes) from the n regions of a
 * VHOST_SET_MEM_TABLE, refusing: n > max_regions or > the cap (-E2BIG); a
 * region of size 0, one whose guest or owner range wraps past 2^64, two
 * regions whose guest ranges overlap (-EINVAL).  flags_padding is ignored,
 * as stock vhost ignores it.  n == 0 gives an empty table (nothing maps).
 * Checking that the owner ranges are accessible (access_ok) is the
 * caller's.  mt is left empty on error.
 */
int vhio_mem_build(struct vhio_memtable *mt, const struct vhost_memory_region *regions,
		   u32 n, u32 max_regions);

/*
 * Translate the guest range [gpa, gpa + len) into at most max owner
 * segments (one per region it crosses), stored in iov[0..].  Returns the
 * number of segments (0 for len 0), -EFAULT if any byte is unmapped or the
 * range wraps past 2^64, -ENOBUFS if it needs more than max segments.
 */
int vhio_mem_translate(const struct vhio_memtable *mt, u64 gpa, u32 len,
		       struct iovec *iov, unsigned int max);

/* ---- Split virtqueue ---- */

/* Ring accesses: 0 or a negative errno (any failure counts as a fault). */
struct vhio_vq_ops {
	int (*read)(void *priv, void *dst, u64 uaddr, size_t len);
	int (*write)(void *priv, u64 uaddr, const void *src, size_t len);
};

#define VHIO_VQ_MAX_NUM		32768

/*
 * Why a pop failed (req->err) or the queue broke (vq->broken_reason).
 * Request errors: the avail entry is consumed, req->head is valid and the
 * caller answers it (an error response if it can, else used len 0).
 * Queue errors: vhio_vq_pop() returns -EIO, the queue is broken (logged
 * once), and every later pop, push or notify check fails or does nothing.
 */
enum vhio_vq_err {
	VHIO_VQ_OK = 0,
	/* request errors */
	VHIO_VQ_E_NEXT_RANGE,		/* -EINVAL: next index outside its table */
	VHIO_VQ_E_LOOP,			/* -ELOOP: more descriptors than the table holds */
	VHIO_VQ_E_INDIRECT_FEATURE,	/* -EINVAL: INDIRECT_DESC not negotiated */
	VHIO_VQ_E_INDIRECT_NEXT,	/* -EINVAL: INDIRECT together with NEXT */
	VHIO_VQ_E_INDIRECT_NESTED,	/* -EINVAL: INDIRECT inside an indirect table */
	VHIO_VQ_E_INDIRECT_LEN,		/* -EINVAL: table length 0, not 16*k or > num entries */
	VHIO_VQ_E_INDIRECT_FAULT,	/* -EFAULT: table unmapped or unreadable */
	VHIO_VQ_E_ORDER,		/* -EINVAL: readable descriptor after a writable one */
	VHIO_VQ_E_LEN_OVERFLOW,		/* -EOVERFLOW: chain longer than U32_MAX bytes */
	VHIO_VQ_E_UNMAPPED,		/* -EFAULT: buffer not in guest memory */
	VHIO_VQ_E_NOBUFS,		/* -ENOBUFS: more segments than req->out_max/in_max */
	/* queue errors (-EIO) */
	VHIO_VQ_E_HEAD_RANGE,		/* avail ring names a head >= num */
	VHIO_VQ_E_AVAIL_IDX,		/* avail->idx moved more than num ahead */
	VHIO_VQ_E_RING_FAULT,		/* a ring address could not be read or written */
	VHIO_VQ_E_COUNT
};

const char *vhio_vq_strerror(enum vhio_vq_err err);

struct vhio_vq_config {
	u32 num;		/* VHOST_SET_VRING_NUM: power of 2, 1..32768 */
	u32 index;		/* vq number, for log lines */
	u64 features;		/* negotiated; EVENT_IDX, INDIRECT_DESC, NOTIFY_ON_EMPTY used */
	u64 desc;		/* VHOST_SET_VRING_ADDR, owner addresses */
	u64 avail;
	u64 used;
	u16 last_avail_idx;	/* VHOST_SET_VRING_BASE */
};

struct vhio_vq {
	const struct vhio_vq_ops *ops;
	void *priv;
	u64 desc, avail, used;
	u32 num;
	u32 index;
	u16 last_avail;		/* next avail entry to pop */
	u16 avail_idx;		/* avail->idx as last read */
	u16 last_used;		/* used->idx as last published */
	u16 signalled_used;	/* last_used when the guest was last signalled */
	bool signalled_used_valid;
	bool event_idx;
	bool indirect;
	bool notify_on_empty;
	bool kicks_off;		/* VRING_USED_F_NO_NOTIFY is set in used->flags */
	bool started;
	bool broken;
	enum vhio_vq_err broken_reason;
};

/*
 * Check and store a ring's configuration; touches no ring memory.
 * -EINVAL: num not a power of 2 in 1..32768, desc not 16-, avail not 2-,
 * used not 4-byte aligned, or a ring (with its event index) wrapping past
 * 2^64.  Not started: pops and pushes fail until vhio_vq_start().
 */
int vhio_vq_setup(struct vhio_vq *vq, const struct vhio_vq_config *cfg,
		  const struct vhio_vq_ops *ops, void *priv);

/*
 * First access to the ring (when the backend is attached): reads used->idx
 * as the next used index and writes used->flags (kicks on).  -EFAULT if
 * the ring is not accessible; the queue is then not started.
 */
int vhio_vq_start(struct vhio_vq *vq);

/* VHOST_GET_VRING_BASE: the next avail entry to pop. */
static inline u16 vhio_vq_get_base(const struct vhio_vq *vq)
{
	return vq->last_avail;
}

static inline bool vhio_vq_broken(const struct vhio_vq *vq)
{
	return vq->broken;
}

/*
 * Entries the guest made available and not popped yet (re-reads
 * avail->idx), or -EIO if the queue is (now) broken or not started.
 */
int vhio_vq_avail_count(struct vhio_vq *vq);

/*
 * A popped chain.  The caller sets out/out_max and in/in_max (the
 * capacity of the segment arrays); pop sets the rest.
 */
struct vhio_vq_req {
	struct iovec *out;	/* device-readable segments (owner addresses) */
	unsigned int out_max;
	struct iovec *in;	/* device-writable segments */
	unsigned int in_max;

	u16 head;		/* descriptor id to answer in the used ring */
	unsigned int nout, nin;	/* segments filled */
	u32 out_len, in_len;	/* bytes in each direction */
	u32 ndesc;		/* descriptors walked, direct and indirect */
	enum vhio_vq_err err;
};

/*
 * Pop the next available chain.  1: req describes it.  0: nothing
 * available.  -EIO: the queue is broken (queue error in req->err).  Any
 * other negative errno: a request error (req->err), the entry is consumed
 * and req->head must be answered; nout/nin/out_len/in_len then tell what
 * was gathered before the error and may be used to place an error response.
 * On -ENOBUFS the caller may instead vhio_vq_discard(vq, 1) and pop again
 * with larger arrays.
 */
int vhio_vq_pop(struct vhio_vq *vq, const struct vhio_memtable *mt, struct vhio_vq_req *req);

/* Give back the last n popped entries (not answered), to be popped again. */
void vhio_vq_discard(struct vhio_vq *vq, u16 n);

struct vhio_vq_used {
	u32 id;
	u32 len;
};

/*
 * Add n used elements and publish used->idx once, after a write barrier.
 * -EINVAL (nothing written): n > num or an id >= num.  -EIO: the queue is
 * broken or not started, or a ring write failed (the queue breaks).
 */
int vhio_vq_push_n(struct vhio_vq *vq, const struct vhio_vq_used *elems, unsigned int n);
int vhio_vq_push(struct vhio_vq *vq, u16 id, u32 len);

/*
 * After pushing: whether the guest wants an interrupt (call eventfd) now.
 * EVENT_IDX: vring_need_event() on used_event (the last avail ring slot)
 * against the used entries published since the last signal; else unless
 * the guest set VRING_AVAIL_F_NO_INTERRUPT.  NOTIFY_ON_EMPTY: also when
 * every available entry has been popped.  A fault reading the guest's
 * fields answers true.  Records the signal; false on a broken queue.
 */
bool vhio_vq_need_signal(struct vhio_vq *vq);

/*
 * Guest kicks.  disable: tell the guest not to kick (used->flags
 * NO_NOTIFY; with EVENT_IDX nothing to write: avail_event is simply not
 * advanced).  enable: ask for kicks again (used->flags 0, or avail_event
 * set to avail->idx as last seen), then, after a full barrier, re-read
 * avail->idx: 1 if entries are available (the guest may have added them
 * before seeing the request and not kicked: process them, and normally
 * disable again), 0 if the queue is empty and the caller may sleep.
 * Both: -EIO if the queue is broken, not started or a write faults.
 */
int vhio_vq_disable_kicks(struct vhio_vq *vq);
int vhio_vq_enable_kicks(struct vhio_vq *vq);

#endif /* VHOSTIO_KERNEL_VRING_H */
