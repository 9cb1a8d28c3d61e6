/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One open /dev/vhost-scsi: its owner, memory table, virtqueues, worker
 * and endpoint.  main.c handles the ioctls, io.c the virtqueues.
 *
 * Locking: dev->lock (a mutex) guards the configuration and is held by
 * the worker for each pass over the queues, so an ioctl never changes a
 * ring under it.  LIO answers commands from its own contexts: those only
 * add the command to its queue's lock-free done list and wake the worker,
 * which alone touches the rings, in the owner's address space.
 */
#ifndef VHOSTIO_SCSI_DEV_H
#define VHOSTIO_SCSI_DEV_H

#include <linux/eventfd.h>
#include <linux/llist.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/vhost.h>
#include <linux/wait.h>

#include "vhostio_scsi.h"
#include "vring.h"

/* Queues: 0 control, 1 event, 2.. requests (stock's max_io_vqs is 128). */
#define VHOSTIO_MAX_VQS (128 + 2)
#define VHOSTIO_VQ_CTL 0
#define VHOSTIO_VQ_EVT 1
/* The TPGs one endpoint may hold (stock: every TPG of the WWN). */
#define VHOSTIO_ENDPOINT_TPGS 64
/* Segments a request may have in each direction. */
#define VHOSTIO_MAX_SEGS 1024
/* The largest data transfer of one request (bounced through kernel pages):
 * a guest cannot make the host allocate more for one command. */
#define VHOSTIO_MAX_DATA_PAGES 16384

struct vhostio_vq {
	struct vhostio_dev *dev;
	unsigned int index;
	/* What the ioctls set (under dev->lock). */
	u32 num;
	u16 base;
	bool addr_set;
	struct vhost_vring_addr addr;
	struct file *kick;
	struct eventfd_ctx *call;
	struct eventfd_ctx *err;         /* SET_VRING_ERR: a broken queue, a failed dirty-log write */
	/* The engine, set up when the queue first runs with an endpoint. */
	struct vhio_vq vq;
	bool running;                    /* the engine is set up: answers go into the ring */
	bool paused;                     /* GET_VRING_BASE: no new request is taken */
	bool err_told;                   /* the error eventfd was told the engine broke */
	/* Kicks: a wait queue entry on the kick eventfd. */
	poll_table pt;
	wait_queue_head_t *wqh;
	wait_queue_entry_t wait;
	/* Answered by LIO, to complete into the ring (any context). */
	struct llist_head done;
	/* Aborted by LIO, which frees the command: what is left to answer. */
	struct llist_head aborted;
	/* Worker scratch for one request's segments. */
	struct iovec *out, *in;
};

/* Bounce memory a device may hold for its commands (io.c), in MiB, and
 * its statistics (debugfs). */
extern unsigned int vhostio_max_bounce_mb;
extern atomic64_t vhostio_bounce_full;
extern u64 vhostio_bounce_peak;

struct vhostio_dev {
	/* Held for a whole ioctl (and by release): one reconfiguration at a
	 * time, even across the waits that drop 'lock'. */
	struct mutex ioctl_lock;
	struct mutex lock;
	struct mm_struct *owner_mm;      /* SET_OWNER: the address space rings live in */
	struct task_struct *worker;
	wait_queue_head_t worker_wait;
	/* A bit per queue with a kick or completions to serve. */
	unsigned long work_bits[BITS_TO_LONGS(VHOSTIO_MAX_VQS)];
	u64 features;
	u32 events_missed;
	struct vhio_memtable *mem;
	struct vhostio_vq *vqs[VHOSTIO_MAX_VQS];
	/* Dirty logging (log.c): the owner's bitmap and its eventfd. */
	u64 log_base;
	struct eventfd_ctx *log_ctx;
	bool logged;                     /* bits set in this worker pass */
	/* Bounce pages held by commands (worker only, under 'lock'). */
	size_t bounce_bytes;
	/* SCSI commands LIO holds, for the TMFs that name a set of them. */
	spinlock_t cmds_lock;
	struct list_head cmds;
	/* Commands submitted and not yet answered into a ring. */
	atomic_t inflight;
	wait_queue_head_t inflight_wait;
	/* Hotplug events (event.c): queued by the fabric in any order of
	 * contexts, pending under 'lock' until the guest posts a buffer. */
	struct llist_head evt_new;
	struct list_head evt_pending;
	atomic_t evt_count;              /* queued, not yet delivered or dropped */
	atomic_t evt_dropped;            /* one was dropped: tell the guest */
	bool endpoint_set;
	char endpoint_wwpn[sizeof(((struct vhost_scsi_target *)0)->vhost_wwpn)];
	unsigned int n_tpgs;
	struct vhostio_tpg *tpgs[VHOSTIO_ENDPOINT_TPGS];
};

/* io.c */
int vhostio_worker_start(struct vhostio_dev *dev);
void vhostio_worker_stop(struct vhostio_dev *dev);
void vhostio_kick_queue(struct vhostio_dev *dev, unsigned int index);
int vhostio_vq_set_kick(struct vhostio_vq *vq, struct file *kick);
/* Stop a queue's engine (kicks off, base kept); caller holds dev->lock. */
void vhostio_vq_stop(struct vhostio_vq *vq);
void vhostio_vq_free(struct vhostio_vq *vq);
/* Wait, without dev->lock, until every submitted command is answered. */
void vhostio_wait_inflight(struct vhostio_dev *dev);

/*
 * Answers (io.c, also for event.c): write into the start of a request's
 * device-writable segments (the bytes written), hand a chain back used
 * with 'len' such bytes (dirty-logged first), signal the guest if it
 * wants it.
 */
size_t vhostio_copy_out(const struct iovec *in, unsigned int nin, const void *src, size_t len);
void vhostio_push(struct vhostio_vq *vq, u16 head, const struct iovec *in, unsigned int nin, u32 len);
void vhostio_signal_guest(struct vhostio_vq *vq);

/* log.c: caller holds dev->lock */
bool vhostio_log_enabled(const struct vhostio_dev *dev);
bool vhostio_log_covers(const struct vhostio_dev *dev, u64 base, const struct vhio_memtable *mt);
void vhostio_log_iov(struct vhostio_vq *vq, const struct iovec *iov, unsigned int n, size_t len);
void vhostio_log_used(struct vhostio_vq *vq, u64 uaddr, size_t len);
void vhostio_log_signal(struct vhostio_dev *dev);

/* event.c */
void vhostio_queue_event(struct vhostio_dev *dev, u16 tpgt, u64 lun, u32 reason);
void vhostio_deliver_events(struct vhostio_vq *vq);
void vhostio_drop_events(struct vhostio_dev *dev);

#endif
