// SPDX-License-Identifier: GPL-2.0
/*
 * vhostio's virtqueue engine: guest memory table and split virtqueue
 * (device side).  See vring.h for the contract.
 *
 * Ring layout (owner addresses, little endian):
 *   desc:  num x struct vring_desc (16 bytes)
 *   avail: flags, idx, ring[num], used_event        (2-byte fields)
 *   used:  flags, idx, ring[num] (8 bytes each), avail_event
 */
#include "vring.h"

#define VHIO_DESC_SIZE		16u
#define VHIO_USED_ELEM_SIZE	8u
/* Descriptors fetched per read (a small window: chains are often sequential). */
#define VHIO_DESC_WINDOW	8u
/* Used elements converted per write. */
#define VHIO_USED_BATCH		16u

/* ---- Guest memory table ---- */

size_t vhio_mem_bytes(u32 nregions)
{
	if (nregions > VHIO_MEM_REGIONS_CAP)
		return 0;
	return sizeof(struct vhio_memtable) + (size_t)nregions * sizeof(struct vhio_mem_region);
}

static void vhio_mem_swap(struct vhio_mem_region *a, struct vhio_mem_region *b)
{
	struct vhio_mem_region t = *a;

	*a = *b;
	*b = t;
}

/* Move r[i] down the max-heap r[0..n) to its place (by gpa). */
static void vhio_mem_sift(struct vhio_mem_region *r, u32 i, u32 n)
{
	/* Each step doubles i: at most 32 steps for u32 indices. */
	while (2 * (u64)i + 1 < n) {
		u32 c = 2 * i + 1;

		if (c + 1 < n && r[c + 1].gpa > r[c].gpa)
			c++;
		if (r[i].gpa >= r[c].gpa)
			break;
		vhio_mem_swap(&r[i], &r[c]);
		i = c;
	}
}

/* Heapsort by gpa: no recursion, O(n log n) for up to the cap. */
static void vhio_mem_sort(struct vhio_mem_region *r, u32 n)
{
	u32 i;

	for (i = n / 2; i > 0; i--)
		vhio_mem_sift(r, i - 1, n);
	for (i = n; i > 1; i--) {
		vhio_mem_swap(&r[0], &r[i - 1]);
		vhio_mem_sift(r, 0, i - 1);
	}
}

int vhio_mem_build(struct vhio_memtable *mt, const struct vhost_memory_region *regions,
		   u32 n, u32 max_regions)
{
	u32 i;

	mt->nregions = 0;
	if (n > max_regions || n > VHIO_MEM_REGIONS_CAP)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		u64 gpa = regions[i].guest_phys_addr;
		u64 size = regions[i].memory_size;
		u64 uaddr = regions[i].userspace_addr;

		if (!size || gpa + (size - 1) < gpa || uaddr + (size - 1) < uaddr)
			return -EINVAL;
		mt->r[i].gpa = gpa;
		mt->r[i].last = gpa + (size - 1);
		mt->r[i].uaddr = uaddr;
	}
	vhio_mem_sort(mt->r, n);
	for (i = 1; i < n; i++) {
		if (mt->r[i].gpa <= mt->r[i - 1].last)
			return -EINVAL;
	}
	mt->nregions = n;
	return 0;
}

/* The region holding gpa, or NULL. */
static const struct vhio_mem_region *vhio_mem_find(const struct vhio_memtable *mt, u64 gpa)
{
	u32 lo = 0, hi = mt->nregions;

	/* Find the last region starting at or below gpa; halves each step. */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (mt->r[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || gpa > mt->r[lo - 1].last)
		return NULL;
	return &mt->r[lo - 1];
}

int vhio_mem_translate(const struct vhio_memtable *mt, u64 gpa, u32 len,
		       struct iovec *iov, unsigned int max)
{
	unsigned int n = 0;

	if (!len)
		return 0;
	if (gpa + (len - 1) < gpa)
		return -EFAULT;
	/* Each step consumes a whole region or ends: bounded by nregions. */
	while (len) {
		const struct vhio_mem_region *r = vhio_mem_find(mt, gpa);
		u64 left;
		u32 chunk;

		if (!r)
			return -EFAULT;
		if (n == max)
			return -ENOBUFS;
		left = r->last - gpa;	/* bytes after gpa in the region */
		chunk = left >= len - 1 ? len : (u32)(left + 1);
		vp_iov_set(&iov[n++], r->uaddr + (gpa - r->gpa), chunk);
		gpa += chunk;
		len -= chunk;
	}
	return n;
}

/* Whether every byte of [gpa, gpa + len) is in some region. */
static bool vhio_mem_mapped(const struct vhio_memtable *mt, u64 gpa, u32 len)
{
	if (len && gpa + (len - 1) < gpa)
		return false;
	/* Each step passes a whole region or ends: bounded by nregions. */
	while (len) {
		const struct vhio_mem_region *r = vhio_mem_find(mt, gpa);
		u64 left;

		if (!r)
			return false;
		left = r->last - gpa;
		if (left >= len - 1)
			return true;
		gpa += left + 1;
		len -= (u32)(left + 1);
	}
	return true;
}

/* Read [gpa, gpa + len) of guest memory, region by region. */
static int vhio_guest_read(const struct vhio_vq *vq, const struct vhio_memtable *mt,
			   u64 gpa, void *dst, u32 len)
{
	u8 *p = dst;

	if (len && gpa + (len - 1) < gpa)
		return -EFAULT;
	while (len) {
		const struct vhio_mem_region *r = vhio_mem_find(mt, gpa);
		u64 left;
		u32 chunk;

		if (!r)
			return -EFAULT;
		left = r->last - gpa;
		chunk = left >= len - 1 ? len : (u32)(left + 1);
		if (vq->ops->read(vq->priv, p, r->uaddr + (gpa - r->gpa), chunk))
			return -EFAULT;
		p += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

/* ---- Split virtqueue ---- */

static const char * const vhio_vq_errstr[VHIO_VQ_E_COUNT] = {
	[VHIO_VQ_OK] = "ok",
	[VHIO_VQ_E_NEXT_RANGE] = "descriptor next index out of range",
	[VHIO_VQ_E_LOOP] = "descriptor chain loops or is longer than its table",
	[VHIO_VQ_E_INDIRECT_FEATURE] = "indirect descriptor without INDIRECT_DESC",
	[VHIO_VQ_E_INDIRECT_NEXT] = "indirect descriptor with NEXT",
	[VHIO_VQ_E_INDIRECT_NESTED] = "nested indirect descriptor",
	[VHIO_VQ_E_INDIRECT_LEN] = "bad indirect table length",
	[VHIO_VQ_E_INDIRECT_FAULT] = "indirect table not in guest memory",
	[VHIO_VQ_E_ORDER] = "device-readable descriptor after a writable one",
	[VHIO_VQ_E_LEN_OVERFLOW] = "chain length overflows 32 bits",
	[VHIO_VQ_E_UNMAPPED] = "buffer not in guest memory",
	[VHIO_VQ_E_NOBUFS] = "too many segments",
	[VHIO_VQ_E_HEAD_RANGE] = "available head out of range",
	[VHIO_VQ_E_AVAIL_IDX] = "available index moved more than the ring size",
	[VHIO_VQ_E_RING_FAULT] = "ring not accessible",
};

const char *vhio_vq_strerror(enum vhio_vq_err err)
{
	if ((unsigned int)err >= VHIO_VQ_E_COUNT)
		return "unknown";
	return vhio_vq_errstr[err];
}

static u64 vhio_avail_ring(const struct vhio_vq *vq, u32 slot)
{
	return vq->avail + 4 + 2 * (u64)slot;
}

static u64 vhio_used_ring(const struct vhio_vq *vq, u32 slot)
{
	return vq->used + 4 + VHIO_USED_ELEM_SIZE * (u64)slot;
}

/* Break the queue (once, logged once); returns -EIO. */
static int vhio_vq_break(struct vhio_vq *vq, enum vhio_vq_err why)
{
	if (!vq->broken) {
		vq->broken = true;
		vq->broken_reason = why;
		vp_warn("vq %u broken: %s\n", vq->index, vhio_vq_strerror(why));
	}
	return -EIO;
}

/* A ring end within the owner's address space: base + bytes must not wrap. */
static bool vhio_range_ok(u64 base, u64 bytes)
{
	return base + (bytes - 1) >= base;
}

int vhio_vq_setup(struct vhio_vq *vq, const struct vhio_vq_config *cfg,
		  const struct vhio_vq_ops *ops, void *priv)
{
	u64 num = cfg->num;

	if (!num || num > VHIO_VQ_MAX_NUM || (num & (num - 1)))
		return -EINVAL;
	if ((cfg->desc & (VRING_DESC_ALIGN_SIZE - 1)) ||
	    (cfg->avail & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (cfg->used & (VRING_USED_ALIGN_SIZE - 1)))
		return -EINVAL;
	if (!vhio_range_ok(cfg->desc, VHIO_DESC_SIZE * num) ||
	    !vhio_range_ok(cfg->avail, 6 + 2 * num) ||
	    !vhio_range_ok(cfg->used, 6 + VHIO_USED_ELEM_SIZE * num))
		return -EINVAL;

	*vq = (struct vhio_vq) {
		.ops = ops,
		.priv = priv,
		.desc = cfg->desc,
		.avail = cfg->avail,
		.used = cfg->used,
		.num = cfg->num,
		.index = cfg->index,
		.last_avail = cfg->last_avail_idx,
		.avail_idx = cfg->last_avail_idx,
		.event_idx = !!(cfg->features & (1ULL << VIRTIO_RING_F_EVENT_IDX)),
		.indirect = !!(cfg->features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC)),
		.notify_on_empty = !!(cfg->features & (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY)),
	};
	return 0;
}

int vhio_vq_start(struct vhio_vq *vq)
{
	__virtio16 v = vp_to16(0);

	vq->started = false;
	if (vq->ops->write(vq->priv, vq->used, &v, sizeof(v)))
		return -EFAULT;
	if (vq->ops->read(vq->priv, &v, vq->used + 2, sizeof(v)))
		return -EFAULT;
	vq->last_used = vp_from16(v);
	vq->signalled_used = vq->last_used;
	vq->signalled_used_valid = false;
	vq->kicks_off = false;
	vq->broken = false;
	vq->broken_reason = VHIO_VQ_OK;
	vq->started = true;
	return 0;
}

/* Read avail->idx once; it may not run more than num ahead of what we popped. */
static int vhio_vq_read_avail_idx(struct vhio_vq *vq)
{
	__virtio16 v;
	u16 idx;

	if (vq->ops->read(vq->priv, &v, vq->avail + 2, sizeof(v)))
		return vhio_vq_break(vq, VHIO_VQ_E_RING_FAULT);
	idx = vp_from16(v);
	if ((u16)(idx - vq->last_avail) > vq->num)
		return vhio_vq_break(vq, VHIO_VQ_E_AVAIL_IDX);
	vq->avail_idx = idx;
	/* The ring entries and descriptors are read after the index. */
	vp_rmb();
	return 0;
}

int vhio_vq_avail_count(struct vhio_vq *vq)
{
	int ret;

	if (unlikely(vq->broken || !vq->started))
		return -EIO;
	ret = vhio_vq_read_avail_idx(vq);
	if (ret)
		return ret;
	return (u16)(vq->avail_idx - vq->last_avail);
}

/* CPU-order copy of one descriptor. */
struct vhio_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

/* The table a chain is being read from, with a window of fetched entries. */
struct vhio_table {
	bool guest;		/* indirect: gpa, through the memory table */
	u64 base;		/* owner address (ring) or gpa (indirect) */
	u32 count;		/* entries */
	u32 win_first;		/* index of win[0] */
	u32 win_n;		/* entries in win (0: empty) */
	struct vring_desc win[VHIO_DESC_WINDOW];
};

static void vhio_table_set(struct vhio_table *t, bool guest, u64 base, u32 count)
{
	t->guest = guest;
	t->base = base;
	t->count = count;
	t->win_first = 0;
	t->win_n = 0;
}

/* Copy entry i (< t->count) to d, fetching a window starting at i if needed. */
static int vhio_table_get(const struct vhio_vq *vq, const struct vhio_memtable *mt,
			  struct vhio_table *t, u32 i, struct vhio_desc *d)
{
	const struct vring_desc *e;

	if (i < t->win_first || i - t->win_first >= t->win_n) {
		u32 n = min(t->count - i, VHIO_DESC_WINDOW);
		u64 off = (u64)i * VHIO_DESC_SIZE;
		int ret;

		t->win_n = 0;
		if (t->guest)
			ret = vhio_guest_read(vq, mt, t->base + off, t->win, n * VHIO_DESC_SIZE);
		else
			ret = vq->ops->read(vq->priv, t->win, t->base + off, n * VHIO_DESC_SIZE);
		if (ret)
			return -EFAULT;
		t->win_first = i;
		t->win_n = n;
	}
	e = &t->win[i - t->win_first];
	d->addr = vp_from64(e->addr);
	d->len = vp_from32(e->len);
	d->flags = vp_from16(e->flags);
	d->next = vp_from16(e->next);
	return 0;
}

static int vhio_req_fail(struct vhio_vq_req *req, enum vhio_vq_err err, int ret)
{
	req->err = err;
	return ret;
}

/* Translate one buffer descriptor into req's out or in segments. */
static int vhio_req_add(const struct vhio_memtable *mt, struct vhio_vq_req *req,
			const struct vhio_desc *d, bool writable)
{
	int n;

	if (writable) {
		n = vhio_mem_translate(mt, d->addr, d->len, req->in + req->nin,
				       req->in_max - req->nin);
		if (n >= 0) {
			req->nin += n;
			req->in_len += d->len;
		}
	} else {
		n = vhio_mem_translate(mt, d->addr, d->len, req->out + req->nout,
				       req->out_max - req->nout);
		if (n >= 0) {
			req->nout += n;
			req->out_len += d->len;
		}
	}
	if (n == -ENOBUFS)
		return vhio_req_fail(req, VHIO_VQ_E_NOBUFS, -ENOBUFS);
	if (n < 0)
		return vhio_req_fail(req, VHIO_VQ_E_UNMAPPED, -EFAULT);
	return 0;
}

/* Walk the chain at req->head: direct descriptors, then at most one indirect table. */
static int vhio_vq_walk(struct vhio_vq *vq, const struct vhio_memtable *mt,
			struct vhio_vq_req *req)
{
	struct vhio_table t;
	struct vhio_desc d;
	bool indirect = false, writable_seen = false;
	u32 i = req->head, seen = 0;
	u64 total = 0;
	int ret;

	vhio_table_set(&t, false, vq->desc, vq->num);
	/* Each step takes one descriptor; seen bounds it by the table size. */
	for (;;) {
		bool writable;

		if (++seen > t.count)
			return vhio_req_fail(req, VHIO_VQ_E_LOOP, -ELOOP);
		if (vhio_table_get(vq, mt, &t, i, &d)) {
			if (!indirect)
				return vhio_vq_break(vq, VHIO_VQ_E_RING_FAULT);
			return vhio_req_fail(req, VHIO_VQ_E_INDIRECT_FAULT, -EFAULT);
		}
		req->ndesc++;

		if (d.flags & VRING_DESC_F_INDIRECT) {
			u32 entries = d.len / VHIO_DESC_SIZE;

			if (indirect)
				return vhio_req_fail(req, VHIO_VQ_E_INDIRECT_NESTED, -EINVAL);
			if (!vq->indirect)
				return vhio_req_fail(req, VHIO_VQ_E_INDIRECT_FEATURE, -EINVAL);
			if (d.flags & VRING_DESC_F_NEXT)
				return vhio_req_fail(req, VHIO_VQ_E_INDIRECT_NEXT, -EINVAL);
			if (!d.len || d.len % VHIO_DESC_SIZE || entries > vq->num)
				return vhio_req_fail(req, VHIO_VQ_E_INDIRECT_LEN, -EINVAL);
			/* The guest declared the whole table: all of it must be mapped. */
			if (!vhio_mem_mapped(mt, d.addr, d.len))
				return vhio_req_fail(req, VHIO_VQ_E_INDIRECT_FAULT, -EFAULT);
			vhio_table_set(&t, true, d.addr, entries);
			indirect = true;
			i = 0;
			seen = 0;
			continue;
		}

		/* The WRITE flag of an indirect descriptor itself is ignored (above). */
		writable = d.flags & VRING_DESC_F_WRITE;
		if (!writable && writable_seen)
			return vhio_req_fail(req, VHIO_VQ_E_ORDER, -EINVAL);
		writable_seen |= writable;
		total += d.len;
		if (total > U32_MAX)
			return vhio_req_fail(req, VHIO_VQ_E_LEN_OVERFLOW, -EOVERFLOW);
		ret = vhio_req_add(mt, req, &d, writable);
		if (ret)
			return ret;

		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= t.count)
			return vhio_req_fail(req, VHIO_VQ_E_NEXT_RANGE, -EINVAL);
	}
}

int vhio_vq_pop(struct vhio_vq *vq, const struct vhio_memtable *mt, struct vhio_vq_req *req)
{
	__virtio16 v;
	u16 head;
	int ret;

	req->head = 0;
	req->nout = 0;
	req->nin = 0;
	req->out_len = 0;
	req->in_len = 0;
	req->ndesc = 0;
	req->err = VHIO_VQ_OK;

	if (unlikely(vq->broken || !vq->started)) {
		req->err = vq->broken ? vq->broken_reason : VHIO_VQ_E_RING_FAULT;
		return -EIO;
	}
	if (vq->last_avail == vq->avail_idx) {
		ret = vhio_vq_read_avail_idx(vq);
		if (ret) {
			req->err = vq->broken_reason;
			return ret;
		}
		if (vq->last_avail == vq->avail_idx)
			return 0;
	}

	if (vq->ops->read(vq->priv, &v, vhio_avail_ring(vq, vq->last_avail & (vq->num - 1)),
			  sizeof(v))) {
		req->err = VHIO_VQ_E_RING_FAULT;
		return vhio_vq_break(vq, VHIO_VQ_E_RING_FAULT);
	}
	head = vp_from16(v);
	if (head >= vq->num) {
		req->err = VHIO_VQ_E_HEAD_RANGE;
		return vhio_vq_break(vq, VHIO_VQ_E_HEAD_RANGE);
	}
	vq->last_avail++;
	req->head = head;

	ret = vhio_vq_walk(vq, mt, req);
	if (ret == -EIO)
		req->err = vq->broken_reason;
	return ret ? ret : 1;
}

void vhio_vq_discard(struct vhio_vq *vq, u16 n)
{
	vq->last_avail -= n;
}

int vhio_vq_push_n(struct vhio_vq *vq, const struct vhio_vq_used *elems, unsigned int n)
{
	struct vring_used_elem buf[VHIO_USED_BATCH];
	u16 old = vq->last_used, next = old;
	__virtio16 v;
	unsigned int i, done = 0;

	if (unlikely(vq->broken || !vq->started))
		return -EIO;
	if (n > vq->num)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (elems[i].id >= vq->num)
			return -EINVAL;
	}
	/* Runs of at most VHIO_USED_BATCH elements that do not cross the ring's end. */
	while (done < n) {
		u32 slot = next & (vq->num - 1);
		u32 run = min(n - done, vq->num - slot);

		run = min(run, VHIO_USED_BATCH);
		for (i = 0; i < run; i++) {
			buf[i].id = vp_to32(elems[done + i].id);
			buf[i].len = vp_to32(elems[done + i].len);
		}
		if (vq->ops->write(vq->priv, vhio_used_ring(vq, slot), buf,
				   run * VHIO_USED_ELEM_SIZE))
			return vhio_vq_break(vq, VHIO_VQ_E_RING_FAULT);
		done += run;
		next += run;
	}
	if (!n)
		return 0;
	/* The elements are visible before the index that publishes them. */
	vp_wmb();
	v = vp_to16(next);
	if (vq->ops->write(vq->priv, vq->used + 2, &v, sizeof(v)))
		return vhio_vq_break(vq, VHIO_VQ_E_RING_FAULT);
	vq->last_used = next;
	/*
	 * If the used index ran a full 2^16 past the last signal, the stored
	 * signal point is ambiguous: signal at the next check.
	 */
	if (unlikely((u16)(next - vq->signalled_used) < (u16)(next - old)))
		vq->signalled_used_valid = false;
	return 0;
}

int vhio_vq_push(struct vhio_vq *vq, u16 id, u32 len)
{
	struct vhio_vq_used e = { .id = id, .len = len };

	return vhio_vq_push_n(vq, &e, 1);
}

bool vhio_vq_need_signal(struct vhio_vq *vq)
{
	__virtio16 v;
	u16 old, now;
	bool valid;

	if (unlikely(vq->broken || !vq->started))
		return false;
	/* The published used->idx is ordered before reading the guest's wishes. */
	vp_mb();
	if (vq->notify_on_empty && vq->avail_idx == vq->last_avail)
		return true;
	if (!vq->event_idx) {
		if (vq->ops->read(vq->priv, &v, vq->avail, sizeof(v)))
			return true;
		return !(vp_from16(v) & VRING_AVAIL_F_NO_INTERRUPT);
	}
	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	now = vq->last_used;
	vq->signalled_used = now;
	vq->signalled_used_valid = true;
	if (unlikely(!valid))
		return true;
	if (vq->ops->read(vq->priv, &v, vhio_avail_ring(vq, vq->num), sizeof(v)))
		return true;
	return vring_need_event(vp_from16(v), now, old);
}

static int vhio_vq_write_flags(struct vhio_vq *vq, u16 flags)
{
	__virtio16 v = vp_to16(flags);

	if (vq->ops->write(vq->priv, vq->used, &v, sizeof(v)))
		return vhio_vq_break(vq, VHIO_VQ_E_RING_FAULT);
	return 0;
}

int vhio_vq_disable_kicks(struct vhio_vq *vq)
{
	int ret;

	if (unlikely(vq->broken || !vq->started))
		return -EIO;
	if (vq->event_idx || vq->kicks_off)
		return 0;
	ret = vhio_vq_write_flags(vq, VRING_USED_F_NO_NOTIFY);
	if (!ret)
		vq->kicks_off = true;
	return ret;
}

int vhio_vq_enable_kicks(struct vhio_vq *vq)
{
	int ret;

	if (unlikely(vq->broken || !vq->started))
		return -EIO;
	if (vq->event_idx) {
		__virtio16 v = vp_to16(vq->avail_idx);

		if (vq->ops->write(vq->priv, vhio_used_ring(vq, vq->num), &v, sizeof(v)))
			return vhio_vq_break(vq, VHIO_VQ_E_RING_FAULT);
	} else if (vq->kicks_off) {
		ret = vhio_vq_write_flags(vq, 0);
		if (ret)
			return ret;
		vq->kicks_off = false;
	}
	/* The request to kick is visible before we look for what slipped in. */
	vp_mb();
	ret = vhio_vq_read_avail_idx(vq);
	if (ret)
		return ret;
	return vq->avail_idx != vq->last_avail;
}
