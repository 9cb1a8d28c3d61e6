/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host test support for kernel/vring.c: a simulated owner address space
 * (a few mappings of host buffers at fake userspace addresses, every access
 * bounds-checked and logged), a guest whose RAM is two adjacent guest
 * physical regions mapped at unrelated owner addresses, and a guest-driver
 * side that writes descriptors and publishes them like a virtio driver.
 *
 * Layout (vt_init):
 *   ring memory    owner VT_RING_UA, desc / avail / used of the ring
 *   guest region 0 gpa VT_GPA0, VT_REGION bytes, owner VT_UA0
 *   guest region 1 gpa VT_GPA1 = VT_GPA0 + VT_REGION, owner VT_UA1
 *
 * Self-contained (no vhostio test fixture): liburing-style exit codes.
 */
#ifndef VHOSTIO_TEST_VSIM_H
#define VHOSTIO_TEST_VSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vring.h"

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

extern int check_failures;
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			check_failures++;                                      \
		}                                                              \
	} while (0)

#define VT_RING_UA	0x7f0000000000ULL
#define VT_RING_BYTES	(1u << 20)
#define VT_GPA0		0x100000ULL
#define VT_REGION	0x10000u
#define VT_GPA1		(VT_GPA0 + VT_REGION)
#define VT_UA0		0x500000000000ULL
#define VT_UA1		0x600000001000ULL

#define VSIM_MAPS	8
#define VSIM_LOG	4096

struct vsim_map {
	u64 uaddr;
	u64 size;
	u8 *mem;
};

struct vsim_access {
	u64 uaddr;
	size_t len;
	bool write;
};

struct vsim;
/* Called after each successful access; may rewrite memory (a hostile guest). */
typedef void (*vsim_hook)(struct vsim *s, const struct vsim_access *a);

struct vsim {
	struct vsim_map map[VSIM_MAPS];
	unsigned int nmaps;
	unsigned long reads, writes, faults;
	struct vsim_access log[VSIM_LOG];
	unsigned int nlog;	/* accesses logged (saturates at VSIM_LOG) */
	vsim_hook hook;
	void *hook_arg;
	long fail_after;	/* >= 0: accesses to allow before every one faults */
};

/* The ops handed to the engine; priv is the struct vsim. */
extern const struct vhio_vq_ops vsim_ops;

void vsim_add(struct vsim *s, u64 uaddr, u64 size, void *mem);
/* Host pointer of [uaddr, uaddr + len) if it lies in one mapping, else NULL. */
void *vsim_ptr(struct vsim *s, u64 uaddr, size_t len);

struct vtest {
	struct vsim sim;
	u8 *ring;		/* VT_RING_BYTES */
	u8 *guest;		/* 2 * VT_REGION: region 0 then region 1 */
	struct vhio_memtable *mt;
	struct vhio_vq vq;
	u32 num;
	u64 features;
	u64 desc, avail, used;	/* owner addresses */
	u16 drv_avail;		/* the driver's avail->idx */
};

/*
 * Set up ring memory, guest RAM, the two-region memory table and the vq
 * (setup + start) of num entries with these features, last_avail_idx
 * base and used->idx preset to used_base.  Exits 1 on failure.
 */
void vt_init(struct vtest *t, u32 num, u64 features, u16 base, u16 used_base);
void vt_fini(struct vtest *t);

/* Driver side.  All fields little endian in memory. */
void vt_desc(struct vtest *t, u32 i, u64 addr, u32 len, u16 flags, u16 next);
/* A descriptor in guest memory (indirect table entry i at table gpa). */
void vt_gdesc(struct vtest *t, u64 table, u32 i, u64 addr, u32 len, u16 flags, u16 next);
/* avail->ring[drv_avail % num] = head; then publish drv_avail + 1. */
void vt_publish(struct vtest *t, u16 head);
void vt_set_avail_idx(struct vtest *t, u16 idx);
void vt_set_avail_flags(struct vtest *t, u16 flags);
void vt_set_used_event(struct vtest *t, u16 v);
u16 vt_avail_event(struct vtest *t);
u16 vt_used_flags(struct vtest *t);
u16 vt_used_idx(struct vtest *t);
void vt_used_elem(struct vtest *t, u32 slot, u32 *id, u32 *len);
/* Host pointer to guest memory (gpa range inside one region). */
void *vt_gptr(struct vtest *t, u64 gpa, size_t len);

/* Pop into fresh arrays of cap segments each (static storage). */
int vt_pop(struct vtest *t, struct vhio_vq_req *req, unsigned int cap);

#endif
