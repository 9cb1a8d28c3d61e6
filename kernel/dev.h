/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One open /dev/vhost-scsi: its owner, memory table, virtqueues, workers
 * and endpoint.  main.c handles the ioctls, io.c the virtqueues, worker.c
 * the threads that serve them.
 *
 * Locking: dev->lock (a rw_semaphore) guards the configuration.  Each
 * worker holds it for reading for a pass over its queues, so workers run
 * in parallel and an ioctl, which holds it for writing, never changes a
 * ring under one.  A queue is served by one worker at a time: its state
 * needs no other lock.  LIO answers commands from its own contexts: those
 * only add the command to its queue's lock-free done list and wake the
 * queue's worker, which alone touches the ring, in the owner's address
 * space.
 */
#ifndef VHOSTIO_SCSI_DEV_H
#define VHOSTIO_SCSI_DEV_H

#include <linux/eventfd.h>
#include <linux/llist.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rwsem.h>
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
#define VHOSTIO_VQ_IO 2
/* Workers one device may have: a queue needs no more than one. */
#define VHOSTIO_MAX_WORKERS VHOSTIO_MAX_VQS
/* A worker's work bits: one per queue, and one that asks for a pass. */
#define VHOSTIO_FLUSH_BIT VHOSTIO_MAX_VQS
#define VHOSTIO_WORK_BITS (VHOSTIO_MAX_VQS + 1)
/* The TPGs one endpoint may hold (stock: every TPG of the WWN). */
#define VHOSTIO_ENDPOINT_TPGS 64
/* Segments a request may have in each direction. */
#define VHOSTIO_MAX_SEGS 1024
/* The largest data transfer of one request (bounced through kernel pages):
 * a guest cannot make the host allocate more for one command. */
#define VHOSTIO_MAX_DATA_PAGES 16384

struct vhostio_worker;

struct vhostio_vq {
	struct vhostio_dev *dev;
	unsigned int index;
	/* The worker that serves it: changed under dev->lock held for
	 * writing, read by kicks under RCU. */
	struct vhostio_worker __rcu *worker;
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
	/* The SCSI commands of this queue LIO holds, for the TMFs that name them. */
	spinlock_t cmds_lock;
	struct list_head cmds;
	/* Control queue: TMF answers waiting for the I/O queues' (io.c). */
	struct list_head tmf_wait;
	/* Worker scratch for one request's segments. */
	struct iovec *out, *in;
	/* Bounce pages kept for the next commands (io.c): a new page costs a
	 * clear (Debian's init_on_alloc) as much as the copy into it. */
	spinlock_t pool_lock;
	struct list_head pool;           /* linked through page->lru */
	unsigned int pool_pages;
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
	struct rw_semaphore lock;
	struct mm_struct *owner_mm;      /* SET_OWNER: the address space rings live in */
	/* Workers by id (worker.c); worker 0 is the device's own. */
	struct vhostio_worker *workers[VHOSTIO_MAX_WORKERS];
	bool user_workers;               /* the owner made one: none is made for it */
	struct vhostio_worker *reap;     /* unlinked, to stop once the lock is dropped */
	/* TMF answers wait until the I/O queues have answered what LIO completed before them. */
	u64 tmf_ticket;
	bool tmf_waiting;
	u64 features;
	u32 events_missed;
	struct vhio_memtable *mem;
	struct vhostio_vq *vqs[VHOSTIO_MAX_VQS];
	/* Dirty logging (log.c): the owner's bitmap and its eventfd. */
	u64 log_base;
	struct eventfd_ctx *log_ctx;
	bool logged;                     /* bits set since the eventfd was last told */
	/* Bounce bytes held by commands (page-rounded), of all queues. */
	atomic_long_t bounce_bytes;
	atomic_long_t pool_bytes;        /* bounce pages the queues keep for reuse (io.c) */
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

struct vhostio_worker {
	struct vhostio_dev *dev;
	unsigned int id;
	struct task_struct *task;
	/* A bit per queue with a kick or completions, and VHOSTIO_FLUSH_BIT. */
	unsigned long work_bits[BITS_TO_LONGS(VHOSTIO_WORK_BITS)];
	/* Drained queues left with kicks off while it polls (worker only). */
	unsigned long polled[BITS_TO_LONGS(VHOSTIO_MAX_VQS)];
	u64 poll_end;                    /* local_clock() the poll window ends at; 0: none */
	unsigned int attached;           /* queues it serves (under dev->lock) */
	bool automatic;                  /* made for one queue in per_vq mode */
	u64 flushed;                     /* the TMF ticket its last pass covered */
	struct vhostio_worker *reap_next;
};

/* The 6.5 worker ioctls (<linux/vhost.h> of 6.5; not in 6.1's headers). */
struct vhostio_worker_state {
	unsigned int worker_id;
};

struct vhostio_vring_worker {
	unsigned int index;
	unsigned int worker_id;
};

#define VHOSTIO_NEW_WORKER _IOR(VHOST_VIRTIO, 0x8, struct vhostio_worker_state)
#define VHOSTIO_FREE_WORKER _IOW(VHOST_VIRTIO, 0x9, struct vhostio_worker_state)
#define VHOSTIO_ATTACH_VRING_WORKER _IOW(VHOST_VIRTIO, 0x15, struct vhostio_vring_worker)
#define VHOSTIO_GET_VRING_WORKER _IOWR(VHOST_VIRTIO, 0x16, struct vhostio_vring_worker)

/* worker.c: the ioctl ones with dev->lock held for writing */
int vhostio_workers_init(struct vhostio_dev *dev);
void vhostio_worker_attach_default(struct vhostio_vq *vq);
void vhostio_worker_auto(struct vhostio_vq *vq);
long vhostio_worker_ioctl(struct vhostio_dev *dev, unsigned int cmd, void __user *argp);
/* Without dev->lock: stop and free unlinked workers, or all of them. */
void vhostio_workers_reap(struct vhostio_dev *dev);
void vhostio_workers_stop(struct vhostio_dev *dev);
/* Any context. */
void vhostio_kick_vq(struct vhostio_vq *vq);
void vhostio_kick_queue(struct vhostio_dev *dev, unsigned int index);
/* In a pass: TMF answers wait for the other workers' passes. */
void vhostio_workers_flush(struct vhostio_dev *dev, struct vhostio_worker *self);
bool vhostio_workers_flushed(struct vhostio_dev *dev, struct vhostio_worker *self, u64 ticket);

/* main.c: a queue by index, made on first use (dev->lock held for writing). */
struct vhostio_vq *vhostio_get_vq(struct vhostio_dev *dev, unsigned int index);

/* io.c */
enum vhostio_queue_state {
	VHOSTIO_QUEUE_IDLE,              /* drained, kicks on */
	VHOSTIO_QUEUE_MORE,              /* budget spent: another pass */
	VHOSTIO_QUEUE_POLL,              /* drained, kicks left off: poll it */
};

/* A worker's turn for one of its queues; 'poll': leave it drained with kicks off. */
enum vhostio_queue_state vhostio_handle_queue(struct vhostio_vq *vq, bool poll);
/* The control queue's worker, at the end of a pass: TMF answers now due. */
void vhostio_answer_tmfs(struct vhostio_vq *ctl);
int vhostio_vq_set_kick(struct vhostio_vq *vq, struct file *kick);
/* Stop a queue's engine (kicks off, base kept); caller holds dev->lock. */
void vhostio_vq_stop(struct vhostio_vq *vq);
void vhostio_vq_free(struct vhostio_vq *vq);
void vhostio_pool_drain(struct vhostio_vq *vq);
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

/* log.c: caller holds dev->lock (a worker pass, or an ioctl) */
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
