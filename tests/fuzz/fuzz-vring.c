// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the kernel module's virtqueue engine (kernel/vring.c,
 * compiled for the host) on a ring image and a memory table made from the
 * input, popped and answered by a script until the input ends, then
 * drained.
 *
 * Checked: every access the engine makes through its ops lies inside one
 * of the three rings or inside the owner range of a region of the table it
 * was given (nothing else is ever touched); every pop answers 1, 0, -EIO
 * (queue error, the queue then stays broken) or a request error with the
 * matching reason and a head < num; a popped chain's segments fit the
 * caller's arrays, lie in the table's owner ranges and add up to its
 * lengths; used->idx counts the answers; draining an unchanged ring ends
 * within num + 1 pops.
 *
 * Input: one byte with bits 0-3 log2 of the ring size (at most 256), bit 4
 * EVENT_IDX, bit 5 INDIRECT_DESC, bit 6 NOTIFY_ON_EMPTY; last_avail_idx and
 * used->idx (16 bits each); a region count byte (% 5), each region a kind
 * byte then, kind odd, gpa, size, uaddr (64 bits each, raw), else gpa (32
 * bits), size - 1 (16 bits) and an offset into guest RAM (16 bits); the
 * descriptor table (num x 16 bytes); avail flags, idx, ring[num],
 * used_event (16 bits each); a 16-bit length and that many bytes of guest
 * RAM (indirect tables); then ops until the input ends (MAX_OPS at most),
 * each an op byte (op % 8):
 *   0-2 pop with (a byte % 9) out and (another % 9) in segments of room;
 *       the chain is answered now (op 0) or held for op 3
 *   3   answer the held chains in one batch push
 *   4   vhio_vq_need_signal()
 *   5   vhio_vq_enable_kicks() / 6 vhio_vq_disable_kicks()
 *   7   the guest rewrites a 16-bit word of the descriptor table or the
 *       avail ring: offset (16 bits, modulo their size), value
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vring.h"

#define MAX_NUM		256u
#define MAX_OPS		512
#define MAX_REGIONS	4
#define MAX_SEGS	8
#define RING_UA		0x7f0000000000ULL
#define RING_BYTES	(16 * MAX_NUM + 8 + 2 * MAX_NUM + 8 + 8 * MAX_NUM)
#define GUEST_UA	0x500000000000ULL
#define GUEST_BYTES	0x10000u

static struct {
	u8 ring[RING_BYTES];
	u8 guest[GUEST_BYTES];
	u64 desc, avail, used;
	u32 num;
	struct vhio_memtable *mt;
	struct vhio_vq vq;
	struct vhio_vq_used held[MAX_NUM];
	unsigned int nheld;
	u16 pushed;
} F;

static bool in_range(u64 a, size_t len, u64 base, u64 bytes)
{
	return a >= base && a - base <= bytes && len <= bytes - (a - base);
}

/* Where the engine may go: its rings and the owner ranges of its table. */
static void check_access(u64 uaddr, size_t len)
{
	if (!len)
		fuzz_fail("zero-length access at 0x%llx", (unsigned long long)uaddr);
	if (in_range(uaddr, len, F.desc, 16ULL * F.num) ||
	    in_range(uaddr, len, F.avail, 6 + 2ULL * F.num) ||
	    in_range(uaddr, len, F.used, 6 + 8ULL * F.num))
		return;
	for (u32 i = 0; i < F.mt->nregions; i++) {
		const struct vhio_mem_region *r = &F.mt->r[i];

		if (in_range(uaddr, len, r->uaddr, r->last - r->gpa + 1))
			return;
	}
	fuzz_fail("access 0x%llx+%zu outside the rings and the table",
		  (unsigned long long)uaddr, len);
}

/* Backed memory: the rings and guest RAM; the rest of a region faults. */
static u8 *backing(u64 uaddr, size_t len)
{
	if (in_range(uaddr, len, RING_UA, RING_BYTES))
		return F.ring + (uaddr - RING_UA);
	if (in_range(uaddr, len, GUEST_UA, GUEST_BYTES))
		return F.guest + (uaddr - GUEST_UA);
	return NULL;
}

static int f_read(void *priv, void *dst, u64 uaddr, size_t len)
{
	u8 *p;

	(void)priv;
	check_access(uaddr, len);
	p = backing(uaddr, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

static int f_write(void *priv, u64 uaddr, const void *src, size_t len)
{
	u8 *p;

	(void)priv;
	check_access(uaddr, len);
	p = backing(uaddr, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

static const struct vhio_vq_ops f_ops = { .read = f_read, .write = f_write };

static int expected_errno(enum vhio_vq_err err)
{
	switch (err) {
	case VHIO_VQ_E_NEXT_RANGE:
	case VHIO_VQ_E_INDIRECT_FEATURE:
	case VHIO_VQ_E_INDIRECT_NEXT:
	case VHIO_VQ_E_INDIRECT_NESTED:
	case VHIO_VQ_E_INDIRECT_LEN:
	case VHIO_VQ_E_ORDER:
		return -EINVAL;
	case VHIO_VQ_E_LOOP:
		return -ELOOP;
	case VHIO_VQ_E_INDIRECT_FAULT:
	case VHIO_VQ_E_UNMAPPED:
		return -EFAULT;
	case VHIO_VQ_E_LEN_OVERFLOW:
		return -EOVERFLOW;
	case VHIO_VQ_E_NOBUFS:
		return -ENOBUFS;
	default:
		return 0;
	}
}

static void check_segs(const struct iovec *iov, unsigned int n, unsigned int max, u32 total)
{
	u64 sum = 0;

	if (n > max)
		fuzz_fail("%u segments in room for %u", n, max);
	for (unsigned int i = 0; i < n; i++) {
		bool found = false;

		if (!iov[i].iov_len)
			fuzz_fail("empty segment");
		for (u32 k = 0; k < F.mt->nregions && !found; k++) {
			const struct vhio_mem_region *r = &F.mt->r[k];

			found = in_range(vp_iov_addr(&iov[i]), iov[i].iov_len, r->uaddr,
					 r->last - r->gpa + 1);
		}
		if (!found)
			fuzz_fail("segment outside the table's owner ranges");
		sum += iov[i].iov_len;
	}
	if (sum != total)
		fuzz_fail("segments add up to %llu, length says %u", (unsigned long long)sum, total);
}

/* Pop once; returns the engine's answer after checking it. */
static int pop(unsigned int out_max, unsigned int in_max, bool hold)
{
	struct iovec out[MAX_SEGS], in[MAX_SEGS];
	struct vhio_vq_req req = { .out = out, .out_max = out_max, .in = in, .in_max = in_max };
	bool was_broken = vhio_vq_broken(&F.vq);
	int ret = vhio_vq_pop(&F.vq, F.mt, &req);

	if (ret == 0)
		return 0;
	if (ret == -EIO) {
		if (!vhio_vq_broken(&F.vq) || req.err < VHIO_VQ_E_HEAD_RANGE ||
		    req.err >= VHIO_VQ_E_COUNT)
			fuzz_fail("-EIO without a broken queue (err %d)", req.err);
		return ret;
	}
	if (was_broken || vhio_vq_broken(&F.vq))
		fuzz_fail("a broken queue answered %d", ret);
	if (req.head >= F.num)
		fuzz_fail("head %u >= num %u", req.head, F.num);
	if (req.ndesc > 2 * F.num)
		fuzz_fail("%u descriptors walked", req.ndesc);
	if (ret == 1) {
		if (req.err != VHIO_VQ_OK)
			fuzz_fail("success with err %d", req.err);
	} else if (ret != expected_errno(req.err) || !ret) {
		fuzz_fail("pop returned %d with err %d", ret, req.err);
	}
	check_segs(out, req.nout, out_max, req.out_len);
	check_segs(in, req.nin, in_max, req.in_len);

	if (hold && F.nheld < F.num) {
		F.held[F.nheld++] = (struct vhio_vq_used){ req.head, req.in_len };
	} else if (vhio_vq_push(&F.vq, req.head, ret == 1 ? req.in_len : 0) == 0) {
		F.pushed++;
	}
	return ret;
}

static void push_held(void)
{
	if (!F.nheld)
		return;
	if (vhio_vq_push_n(&F.vq, F.held, F.nheld) == 0)
		F.pushed += F.nheld;
	F.nheld = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = fuzz_in(data, size);
	struct vhost_memory_region regions[MAX_REGIONS];
	struct vhio_vq_config cfg;
	u8 flags = fuzz_u8(&in);
	u16 base, used_base, glen;
	u32 nregions;
	size_t got;
	const u8 *p;
	int ret;

	memset(&F, 0, sizeof(F));
	F.num = 1u << min(flags & 15u, 8u);
	F.desc = RING_UA;
	F.avail = F.desc + 16ULL * F.num;
	F.used = (F.avail + 6 + 2ULL * F.num + 3) & ~3ULL;
	base = fuzz_u16(&in);
	used_base = fuzz_u16(&in);

	nregions = fuzz_u8(&in) % (MAX_REGIONS + 1);
	for (u32 i = 0; i < nregions; i++) {
		if (fuzz_u8(&in) & 1) {
			fuzz_take(&in, &regions[i].guest_phys_addr, 8);
			fuzz_take(&in, &regions[i].memory_size, 8);
			fuzz_take(&in, &regions[i].userspace_addr, 8);
		} else {
			regions[i].guest_phys_addr = fuzz_u32(&in);
			regions[i].memory_size = (u64)fuzz_u16(&in) + 1;
			regions[i].userspace_addr = GUEST_UA + fuzz_u16(&in);
		}
		regions[i].flags_padding = 0;
	}
	F.mt = malloc(vhio_mem_bytes(MAX_REGIONS));
	if (!F.mt)
		abort();
	ret = vhio_mem_build(F.mt, regions, nregions, VHIO_MEM_REGIONS_DEFAULT);
	if (ret && (ret != -EINVAL || F.mt->nregions))
		fuzz_fail("memory table build answered %d, %u regions", ret, F.mt->nregions);

	fuzz_take(&in, F.ring + (F.desc - RING_UA), 16 * F.num);
	fuzz_take(&in, F.ring + (F.avail - RING_UA), 6 + 2 * F.num);
	glen = fuzz_u16(&in);
	p = fuzz_bytes(&in, glen, &got);
	memcpy(F.guest, p, got);
	/* The used ring as the device left it: its index. */
	F.ring[F.used - RING_UA + 2] = (u8)used_base;
	F.ring[F.used - RING_UA + 3] = (u8)(used_base >> 8);
	F.pushed = used_base;

	cfg = (struct vhio_vq_config){
		.num = F.num,
		.features = ((flags & 0x10) ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0) |
			    ((flags & 0x20) ? 1ULL << VIRTIO_RING_F_INDIRECT_DESC : 0) |
			    ((flags & 0x40) ? 1ULL << VIRTIO_F_NOTIFY_ON_EMPTY : 0),
		.desc = F.desc, .avail = F.avail, .used = F.used,
		.last_avail_idx = base,
	};
	if (vhio_vq_setup(&F.vq, &cfg, &f_ops, NULL) || vhio_vq_start(&F.vq))
		fuzz_fail("setup/start of a valid ring failed");

	for (int op = 0; op < MAX_OPS && in.left; op++) {
		u8 o = fuzz_u8(&in) % 8;

		switch (o) {
		case 0:
		case 1:
		case 2: {
			unsigned int om = fuzz_u8(&in) % (MAX_SEGS + 1);
			unsigned int im = fuzz_u8(&in) % (MAX_SEGS + 1);

			pop(om, im, o != 0);
			break;
		}
		case 3:
			push_held();
			break;
		case 4:
			vhio_vq_need_signal(&F.vq);
			break;
		case 5:
			ret = vhio_vq_enable_kicks(&F.vq);
			if (ret != 0 && ret != 1 && ret != -EIO)
				fuzz_fail("enable_kicks answered %d", ret);
			break;
		case 6:
			ret = vhio_vq_disable_kicks(&F.vq);
			if (ret != 0 && ret != -EIO)
				fuzz_fail("disable_kicks answered %d", ret);
			break;
		case 7: {
			/* Guest-owned memory only: the descriptors and the avail ring. */
			u32 off = fuzz_u16(&in) % (u32)(F.avail + 6 + 2 * F.num - RING_UA - 1);
			u16 v = fuzz_u16(&in);

			memcpy(F.ring + off, &v, 2);
			break;
		}
		}
	}

	/*
	 * Drain: the ring no longer changes.  At most num entries remain of the
	 * avail->idx the engine last read, and at most num more of the next read.
	 */
	push_held();
	for (u32 i = 0;; i++) {
		if (i > 2 * F.num + 1)
			fuzz_fail("still popping after %u pops", i);
		ret = pop(MAX_SEGS, MAX_SEGS, false);
		if (ret == 0 || ret == -EIO)
			break;
	}
	if (!vhio_vq_broken(&F.vq)) {
		u16 idx = (u16)(F.ring[F.used - RING_UA + 2] | F.ring[F.used - RING_UA + 3] << 8);

		if (idx != F.pushed)
			fuzz_fail("used->idx %u, %u answers", idx, F.pushed);
	}
	free(F.mt);
	return 0;
}
