// SPDX-License-Identifier: GPL-2.0
/* Host test support for kernel/vring.c; see vsim.h. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "vsim.h"

int check_failures;

void vsim_add(struct vsim *s, u64 uaddr, u64 size, void *mem)
{
	if (s->nmaps == VSIM_MAPS) {
		fprintf(stderr, "vsim: too many mappings\n");
		exit(T_EXIT_FAIL);
	}
	s->map[s->nmaps++] = (struct vsim_map){ uaddr, size, mem };
}

void *vsim_ptr(struct vsim *s, u64 uaddr, size_t len)
{
	for (unsigned int i = 0; i < s->nmaps; i++) {
		const struct vsim_map *m = &s->map[i];

		if (uaddr >= m->uaddr && uaddr - m->uaddr <= m->size &&
		    len <= m->size - (uaddr - m->uaddr))
			return m->mem + (uaddr - m->uaddr);
	}
	return NULL;
}

static void *vsim_access(struct vsim *s, u64 uaddr, size_t len, bool write,
			 struct vsim_access *a)
{
	void *p;

	if (s->fail_after == 0) {
		s->faults++;
		return NULL;
	}
	if (s->fail_after > 0)
		s->fail_after--;
	p = vsim_ptr(s, uaddr, len);
	if (!p || !len) {
		/* The engine never asks for 0 bytes: count it as a fault too. */
		s->faults++;
		return NULL;
	}
	*a = (struct vsim_access){ uaddr, len, write };
	if (s->nlog < VSIM_LOG)
		s->log[s->nlog++] = *a;
	return p;
}

static int vsim_read(void *priv, void *dst, u64 uaddr, size_t len)
{
	struct vsim *s = priv;
	struct vsim_access a;
	void *p = vsim_access(s, uaddr, len, false, &a);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	s->reads++;
	if (s->hook)
		s->hook(s, &a);
	return 0;
}

static int vsim_write(void *priv, u64 uaddr, const void *src, size_t len)
{
	struct vsim *s = priv;
	struct vsim_access a;
	void *p = vsim_access(s, uaddr, len, true, &a);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	s->writes++;
	if (s->hook)
		s->hook(s, &a);
	return 0;
}

const struct vhio_vq_ops vsim_ops = { .read = vsim_read, .write = vsim_write };

static void put16(void *p, u16 v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static u16 get16(const void *p)
{
	u16 v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static void *ring_ptr(struct vtest *t, u64 uaddr, size_t len)
{
	void *p = vsim_ptr(&t->sim, uaddr, len);

	if (!p) {
		fprintf(stderr, "vtest: ring address 0x%llx outside ring memory\n",
			(unsigned long long)uaddr);
		exit(T_EXIT_FAIL);
	}
	return p;
}

void vt_init(struct vtest *t, u32 num, u64 features, u16 base, u16 used_base)
{
	struct vhost_memory_region regions[2] = {
		/* Given in descending order: the table sorts them. */
		{ .guest_phys_addr = VT_GPA1, .memory_size = VT_REGION, .userspace_addr = VT_UA1 },
		{ .guest_phys_addr = VT_GPA0, .memory_size = VT_REGION, .userspace_addr = VT_UA0 },
	};
	struct vhio_vq_config cfg;

	memset(t, 0, sizeof(*t));
	t->sim.fail_after = -1;
	t->ring = calloc(1, VT_RING_BYTES);
	t->guest = calloc(2, VT_REGION);
	t->mt = malloc(vhio_mem_bytes(2));
	if (!t->ring || !t->guest || !t->mt) {
		fprintf(stderr, "vtest: out of memory\n");
		exit(T_EXIT_FAIL);
	}
	vsim_add(&t->sim, VT_RING_UA, VT_RING_BYTES, t->ring);
	vsim_add(&t->sim, VT_UA0, VT_REGION, t->guest);
	vsim_add(&t->sim, VT_UA1, VT_REGION, t->guest + VT_REGION);
	if (vhio_mem_build(t->mt, regions, 2, VHIO_MEM_REGIONS_DEFAULT)) {
		fprintf(stderr, "vtest: memory table refused\n");
		exit(T_EXIT_FAIL);
	}

	t->num = num;
	t->features = features;
	t->desc = VT_RING_UA;
	t->avail = t->desc + 16ULL * num;
	t->used = (t->avail + 6 + 2ULL * num + 3) & ~3ULL;
	if (t->used + 6 + 8ULL * num > VT_RING_UA + VT_RING_BYTES) {
		fprintf(stderr, "vtest: ring of %u does not fit\n", num);
		exit(T_EXIT_FAIL);
	}
	t->drv_avail = base;
	put16(ring_ptr(t, t->avail + 2, 2), base);
	put16(ring_ptr(t, t->used + 2, 2), used_base);

	cfg = (struct vhio_vq_config){
		.num = num, .index = 2, .features = features,
		.desc = t->desc, .avail = t->avail, .used = t->used,
		.last_avail_idx = base,
	};
	if (vhio_vq_setup(&t->vq, &cfg, &vsim_ops, &t->sim) || vhio_vq_start(&t->vq)) {
		fprintf(stderr, "vtest: vq setup/start failed\n");
		exit(T_EXIT_FAIL);
	}
}

void vt_fini(struct vtest *t)
{
	free(t->ring);
	free(t->guest);
	free(t->mt);
}

static void put_desc(void *p, u64 addr, u32 len, u16 flags, u16 next)
{
	struct vring_desc d = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	memcpy(p, &d, sizeof(d));
}

void vt_desc(struct vtest *t, u32 i, u64 addr, u32 len, u16 flags, u16 next)
{
	put_desc(ring_ptr(t, t->desc + 16ULL * i, 16), addr, len, flags, next);
}

void *vt_gptr(struct vtest *t, u64 gpa, size_t len)
{
	if (gpa < VT_GPA0 || gpa - VT_GPA0 > 2ULL * VT_REGION ||
	    len > 2ULL * VT_REGION - (gpa - VT_GPA0)) {
		fprintf(stderr, "vtest: gpa 0x%llx outside guest RAM\n", (unsigned long long)gpa);
		exit(T_EXIT_FAIL);
	}
	return t->guest + (gpa - VT_GPA0);
}

void vt_gdesc(struct vtest *t, u64 table, u32 i, u64 addr, u32 len, u16 flags, u16 next)
{
	put_desc(vt_gptr(t, table + 16ULL * i, 16), addr, len, flags, next);
}

void vt_publish(struct vtest *t, u16 head)
{
	put16(ring_ptr(t, t->avail + 4 + 2ULL * (t->drv_avail & (t->num - 1)), 2), head);
	t->drv_avail++;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	put16(ring_ptr(t, t->avail + 2, 2), t->drv_avail);
}

void vt_set_avail_idx(struct vtest *t, u16 idx)
{
	t->drv_avail = idx;
	put16(ring_ptr(t, t->avail + 2, 2), idx);
}

void vt_set_avail_flags(struct vtest *t, u16 flags)
{
	put16(ring_ptr(t, t->avail, 2), flags);
}

void vt_set_used_event(struct vtest *t, u16 v)
{
	put16(ring_ptr(t, t->avail + 4 + 2ULL * t->num, 2), v);
}

u16 vt_avail_event(struct vtest *t)
{
	return get16(ring_ptr(t, t->used + 4 + 8ULL * t->num, 2));
}

u16 vt_used_flags(struct vtest *t)
{
	return get16(ring_ptr(t, t->used, 2));
}

u16 vt_used_idx(struct vtest *t)
{
	return get16(ring_ptr(t, t->used + 2, 2));
}

void vt_used_elem(struct vtest *t, u32 slot, u32 *id, u32 *len)
{
	struct vring_used_elem e;

	memcpy(&e, ring_ptr(t, t->used + 4 + 8ULL * slot, 8), 8);
	*id = le32toh(e.id);
	*len = le32toh(e.len);
}

int vt_pop(struct vtest *t, struct vhio_vq_req *req, unsigned int cap)
{
	static struct iovec out[64], in[64];

	if (cap > 64)
		cap = 64;
	memset(out, 0xa5, sizeof(out));
	memset(in, 0xa5, sizeof(in));
	*req = (struct vhio_vq_req){ .out = out, .out_max = cap, .in = in, .in_max = cap };
	return vhio_vq_pop(&t->vq, t->mt, req);
}
