// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty logging for live migration (VHOST_F_LOG_ALL).  While the owner
 * has negotiated it and set a log base, every byte the device writes into
 * guest memory is recorded in the owner's bitmap, one bit per 4 KiB page
 * of guest-physical memory: data-in, responses and events by the guest
 * addresses their owner addresses map back to (through every region that
 * maps them), the used ring by the guest address the owner gave for it
 * (VHOST_VRING_F_LOG).  The migration source copies the pages the bitmap
 * names again, so a READ that completes during migration reaches the
 * destination.  (Stock 6.1 logs only the used ring: data-in written
 * during migration is lost on the destination.)
 *
 * Runs in the workers (dev->lock held for reading, in the owner's mm), as
 * the writes do; bits are set atomically, so workers log in parallel.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/virtio_ring.h>

#include "dev.h"

/* A bit covers this much guest memory whatever PAGE_SIZE is: QEMU's
 * VHOST_LOG_PAGE, part of the ABI. */
#define VHOSTIO_LOG_PAGE 0x1000ULL

bool vhostio_log_enabled(const struct vhostio_dev *dev)
{
	return (dev->features & (1ULL << VHOST_F_LOG_ALL)) && dev->log_base;
}

/* Bytes of the used ring, with the avail event after it. */
static u64 used_ring_bytes(u32 num)
{
	return sizeof(struct vring_used) + (u64)num * sizeof(struct vring_used_elem) + sizeof(__virtio16);
}

/* Whether the bitmap at base can hold the bits of [gpa, gpa + len). */
static bool bitmap_ok(u64 base, u64 gpa, u64 len)
{
	u64 first, last;

	if (!len)
		return true;
	if (gpa + (len - 1) < gpa)
		return false;
	first = base + gpa / VHOSTIO_LOG_PAGE / 8;
	last = base + (gpa + (len - 1)) / VHOSTIO_LOG_PAGE / 8;
	if (first < base || last < first || (unsigned long)last != last)
		return false;
	return access_ok(u64_to_user_ptr(first), last - first + 1);
}

/*
 * Whether a log at base covers the memory table mt and the used rings the
 * queues log: checked when either changes, as stock checks it.
 */
bool vhostio_log_covers(const struct vhostio_dev *dev, u64 base, const struct vhio_memtable *mt)
{
	unsigned int i;

	if ((unsigned long)base != base)
		return false;
	for (i = 0; mt && i < mt->nregions; i++)
		if (!bitmap_ok(base, mt->r[i].gpa, mt->r[i].last - mt->r[i].gpa + 1))
			return false;
	for (i = 0; i < VHOSTIO_MAX_VQS; i++) {
		const struct vhostio_vq *vq = dev->vqs[i];

		if (vq && vq->addr_set && (vq->addr.flags & (1U << VHOST_VRING_F_LOG)) &&
		    !bitmap_ok(base, vq->addr.log_guest_addr, used_ring_bytes(vq->num)))
			return false;
	}
	return true;
}

/* Set the bits of the guest range [gpa, gpa + len), one bitmap page at a time. */
static int log_gpa(struct vhostio_dev *dev, u64 gpa, u64 len)
{
	u64 bit, last;

	if (!len)
		return 0;
	if (gpa + (len - 1) < gpa)
		return -EFAULT;
	bit = gpa / VHOSTIO_LOG_PAGE;
	last = (gpa + (len - 1)) / VHOSTIO_LOG_PAGE;
	while (bit <= last) {
		u64 byte = dev->log_base + bit / 8;
		unsigned long page_addr = byte & PAGE_MASK;
		/* The last bit this bitmap page holds. */
		u64 page_last = (page_addr + PAGE_SIZE - dev->log_base) * 8 - 1;
		u64 end = min(last, page_last);
		struct page *page;
		void *kaddr;

		if (byte < dev->log_base || (unsigned long)byte != byte)
			return -EFAULT;
		if (pin_user_pages_fast(page_addr, 1, FOLL_WRITE, &page) != 1)
			return -EFAULT;
		kaddr = kmap_local_page(page);
		/* Atomic: the owner clears bits of the same words as it copies.
		 * Indexed as stock indexes it (a byte, then its bit). */
		for (; bit <= end; bit++)
			set_bit((dev->log_base + bit / 8 - page_addr) * 8 + bit % 8, kaddr);
		kunmap_local(kaddr);
		unpin_user_pages_dirty_lock(&page, 1, true);
	}
	if (!READ_ONCE(dev->logged))
		WRITE_ONCE(dev->logged, true);
	return 0;
}

static void log_failed(struct vhostio_vq *vq, int ret)
{
	pr_err_ratelimited("vq %u: dirty log write failed (%d): migration would miss guest writes\n",
			   vq->index, ret);
	if (vq->err)
		eventfd_signal(vq->err, 1);
}

/* The owner range [uaddr, uaddr + len) as every guest range that maps it. */
static int log_hva(struct vhostio_dev *dev, u64 uaddr, u64 len)
{
	const struct vhio_memtable *mt = dev->mem;
	unsigned int i;
	int ret;

	for (i = 0; mt && i < mt->nregions; i++) {
		const struct vhio_mem_region *r = &mt->r[i];
		u64 r_end = r->uaddr + (r->last - r->gpa); /* inclusive */
		u64 start = max(uaddr, r->uaddr);
		u64 end = min(uaddr + (len - 1), r_end);

		if (start > end)
			continue;
		ret = log_gpa(dev, r->gpa + (start - r->uaddr), end - start + 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* The first len bytes of a request's device-writable segments were written. */
void vhostio_log_iov(struct vhostio_vq *vq, const struct iovec *iov, unsigned int n, size_t len)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n && len; i++) {
		size_t l = min(len, iov[i].iov_len);

		if (l) {
			ret = log_hva(vq->dev, (u64)(uintptr_t)iov[i].iov_base, l);
			if (ret) {
				log_failed(vq, ret);
				return;
			}
		}
		len -= l;
	}
}

/* The engine wrote len bytes of the used ring at owner address uaddr. */
void vhostio_log_used(struct vhostio_vq *vq, u64 uaddr, size_t len)
{
	int ret;

	if (!(vq->addr.flags & (1U << VHOST_VRING_F_LOG)))
		return;
	ret = log_gpa(vq->dev, vq->addr.log_guest_addr + (uaddr - vq->addr.used_user_addr), len);
	if (ret)
		log_failed(vq, ret);
}

/* After a worker pass: tell the owner's log eventfd that bits were set
 * (by this worker or another: one of them tells it). */
void vhostio_log_signal(struct vhostio_dev *dev)
{
	if (READ_ONCE(dev->logged) && xchg(&dev->logged, false) && dev->log_ctx)
		eventfd_signal(dev->log_ctx, 1);
}
