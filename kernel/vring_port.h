/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the virtqueue engine (vring.c) needs from its environment, for the
 * two places it is compiled: the kernel module (__KERNEL__) and the host
 * unit tests and fuzz target (plain C, gnu11, -Wall -Wextra -Wpedantic).
 *
 * Both sides take the ring layouts (struct vring_desc, vring_avail,
 * vring_used_elem, the flag bits, vring_need_event()) and struct
 * vhost_memory_region from the uapi headers.  The ring is little endian:
 * VIRTIO_F_VERSION_1 makes it so, and a legacy guest on an x86 host is too.
 */
#ifndef VHOSTIO_KERNEL_VRING_PORT_H
#define VHOSTIO_KERNEL_VRING_PORT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/printk.h>
#include <linux/uio.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/vhost_types.h>
#include <asm/barrier.h>

/* avail->idx before the entries and descriptors it publishes */
#define vp_rmb()	smp_rmb()
/* used elements before the used->idx that publishes them */
#define vp_wmb()	smp_wmb()
/* used->idx or a kick request before reading the guest's fields */
#define vp_mb()		smp_mb()

#define vp_warn(fmt, ...)	pr_warn_ratelimited("vhostio: " fmt, __VA_ARGS__)

static inline u16 vp_from16(__virtio16 v)
{
	return __virtio16_to_cpu(true, v);
}

static inline u32 vp_from32(__virtio32 v)
{
	return __virtio32_to_cpu(true, v);
}

static inline u64 vp_from64(__virtio64 v)
{
	return __virtio64_to_cpu(true, v);
}

static inline __virtio16 vp_to16(u16 v)
{
	return __cpu_to_virtio16(true, v);
}

static inline __virtio32 vp_to32(u32 v)
{
	return __cpu_to_virtio32(true, v);
}

/* An owner (userspace) address as the base of an iovec. */
static inline void vp_iov_set(struct iovec *iov, u64 uaddr, u32 len)
{
	iov->iov_base = u64_to_user_ptr(uaddr);
	iov->iov_len = len;
}

#else /* !__KERNEL__: host userspace */

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include <linux/types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/vhost_types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#ifndef U16_MAX
#define U16_MAX		((u16)~0U)
#endif
#ifndef U32_MAX
#define U32_MAX		((u32)~0U)
#endif

#define __force
#define __user

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* The engine uses it only on operands of one type. */
#define min(a, b)	(__extension__ ({		\
	__typeof__(a) _min_a = (a);			\
	__typeof__(b) _min_b = (b);			\
	_min_a < _min_b ? _min_a : _min_b;		\
}))

/* The same three barriers, as C11 fences. */
#define vp_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define vp_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define vp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

/* VHIO_VRING_QUIET (the fuzz target): no log lines. */
#ifdef VHIO_VRING_QUIET
#define vp_warn(fmt, ...)	((void)0)
#else
#define vp_warn(fmt, ...)	fprintf(stderr, "vhostio: " fmt, __VA_ARGS__)
#endif

static inline u16 vp_from16(__virtio16 v)
{
	return le16toh(v);
}

static inline u32 vp_from32(__virtio32 v)
{
	return le32toh(v);
}

static inline u64 vp_from64(__virtio64 v)
{
	return le64toh(v);
}

static inline __virtio16 vp_to16(u16 v)
{
	return htole16(v);
}

static inline __virtio32 vp_to32(u32 v)
{
	return htole32(v);
}

static inline void vp_iov_set(struct iovec *iov, u64 uaddr, u32 len)
{
	iov->iov_base = (void *)(uintptr_t)uaddr;
	iov->iov_len = len;
}

#endif /* __KERNEL__ */

static inline u64 vp_iov_addr(const struct iovec *iov)
{
	return (u64)(uintptr_t)(void __force *)iov->iov_base;
}

#endif /* VHOSTIO_KERNEL_VRING_PORT_H */
