/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A served TCMU device: its mapping, ring, command thread and handler. */
#ifndef VHOSTIO_DEVICE_H
#define VHOSTIO_DEVICE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <vhostio/handler.h>

#include "ring.h"

#define IO_INLINE_IOVS 8

/* What the kernel and configfs tell us about a device. */
struct device_info {
	char name[256];          /* "<hba>/<dev>", for logs and the handler */
	char cfgstring[4096];    /* full dev_config: "<subtype>/<handler config>" */
	char subtype[64];
	char serial[256];        /* VPD unit serial from configfs, may be empty */
	char configfs_dir[PATH_MAX];  /* .../core/user_<hba>/<dev>, may be empty */
	uint32_t block_size;
	uint64_t num_lbas;
	uint32_t max_sectors;    /* largest transfer, in blocks */
	bool write_cache;        /* emulate_write_cache: WCE in the caching page */
	unsigned uio_minor;
};

typedef void (*io_step_fn)(struct vhostio_io *io);

struct vhostio_io {
	struct vhostio_device *dev;
	struct ring_cmd cmd;
	struct iovec *iov;       /* cmd.iov_cnt entries: iov_inline or heap */
	uint32_t iov_cap;
	bool is_write;           /* for mapping -EIO to the right sense */
	bool flush_after;        /* emulated FUA: flush once the write succeeds */
	uint32_t flags;          /* VHOSTIO_IO_* as the handler sees them */

	/*
	 * Multi-step emulation (COMPARE AND WRITE, emulated WRITE SAME, VERIFY,
	 * ...): when set, the next vhostio_io_complete() stores its result in
	 * step_result and runs 'next_step' on the command thread instead of
	 * finishing the command.
	 */
	io_step_fn next_step;
	int step_result;
	io_step_fn queued_step;  /* what device_run_step() queued */
	void *bounce;            /* scratch buffer, freed when the command finishes */
	size_t bounce_len;
	uint64_t emul_pos;       /* emulation cursor, e.g. next byte offset */
	uint64_t emul_end;
	struct iovec emul_iov;   /* an iov the emulation hands to the handler */
	bool holds_caw_lock;     /* this command owns the device's COMPARE AND WRITE lock */

	struct vhostio_io *next; /* free list, deferred queue, work queue or CAW waiters */
	struct iovec iov_inline[IO_INLINE_IOVS];
};

/* How a device signals the kernel; uio in production, a simulator in tests. */
struct device_transport {
	int (*kick)(void *opaque);  /* tell the kernel that cmd_tail moved */
	void *opaque;
};

struct vhostio_device {
	struct device_info info;
	const char *handler_config;      /* points into info.cfgstring */
	const struct vhostio_handler *handler;
	void *priv;
	bool opened;                     /* handler->open() succeeded */

	void *map;
	size_t map_size;
	struct device_transport transport;
	int uio_fd;                      /* -1 when not backed by uio */

	/* Guards ring, free_ios and kicked_tail: completions come from any thread. */
	pthread_mutex_t lock;
	pthread_cond_t drained;
	unsigned drain_waiters;          /* threads in wait_drained(): broadcast only then */
	struct vhostio_ring ring;
	struct vhostio_io *free_ios;
	uint32_t kicked_tail;

	pthread_t thread;
	bool thread_started;
	int stop_fd;                     /* eventfd: ask the command thread to stop */
	int wake_fd;                     /* eventfd: deferred steps are queued */

	/* Steps to run on the command thread (under lock). */
	struct vhostio_io *deferred_head, *deferred_tail;
	unsigned n_deferred;             /* queue length, read without the lock */

	/* Capabilities, resolved at open: offered at all / done by the handler. */
	uint32_t caps;
	uint32_t native_caps;

	/* COMPARE AND WRITE lock: one at a time per device (under lock). */
	bool caw_busy;
	struct vhostio_io *caw_waiters_head, *caw_waiters_tail;

	/* Unit attention to report on the next command, (asc << 8 | ascq), 0: none. */
	uint16_t pending_ua;
	/* D_SENSE of the control mode page: descriptor-format sense. */
	bool descriptor_sense;

	/* fd watched by the command thread for the handler (vhostio_device_watch_fd). */
	int watch_fd;
	void (*watch_ready)(struct vhostio_device *dev, void *arg);
	void *watch_arg;

	/* PARALLEL thread model: workers running scsi_execute(). */
	pthread_t *workers;
	unsigned n_workers;
	pthread_cond_t work_cond;
	struct vhostio_io *work_head, *work_tail;
	bool workers_stop;
	bool paused;                     /* quiescing: fetch no new commands */

	/* After a batch, spin this long for the next command before sleeping (atomic). */
	uint64_t poll_ns;

	/* How the ring was served, logged when the device goes (what batching
	 * and polling achieve).  Only the command thread writes them, except
	 * kicks (atomic: completions on other threads kick too). */
	struct {
		uint64_t commands;       /* taken off the ring */
		uint64_t wakeups;        /* returns from poll() */
		uint64_t polled;         /* commands found while busy-polling */
		uint64_t kicks;          /* notifications to the kernel */
	} stats;

	struct vhostio_device *next;     /* ctx's device list */
};

/*
 * Bind a handler to a mapped ring.  Calls handler->open().  The map and
 * transport stay owned by the caller until device_destroy().
 */
int device_create(struct vhostio_device **devp, const struct device_info *info,
		  const struct vhostio_handler *handler, void *map, size_t map_size,
		  struct device_transport transport);
/* The busy-poll window (0: sleep at once); any thread, any time. */
static inline void device_set_poll_ns(struct vhostio_device *dev, uint64_t ns)
{
	__atomic_store_n(&dev->poll_ns, ns, __ATOMIC_RELAXED);
}
/* Serve the ring on a new thread that waits on 'event_fd' (uio). */
int device_start_thread(struct vhostio_device *dev, int event_fd);
/* Drain everything the kernel has queued; returns commands taken. */
int device_process_ring(struct vhostio_device *dev);
/*
 * One turn of the command thread's loop, for tests that have no thread:
 * wait up to timeout_ms for the watched fd or a deferred step, run what is
 * ready, then drain the ring.  Returns commands taken or -errno.
 */
int device_serve_once(struct vhostio_device *dev, int timeout_ms);

/*
 * Apply a kernel reconfig: quiesce (stop the thread, wait for in-flight
 * commands), let the handler accept it or reopen, update the geometry,
 * queue CAPACITY DATA HAS CHANGED for a new size, restart.  Here
 * rc->config is the full dev_config, "<subtype>/<handler config>", as the
 * kernel sends it.  (reconfig.c)
 */
int device_reconfig(struct vhostio_device *dev, const struct vhostio_reconfig *rc);

/*
 * Stop taking commands, wait up to timeout_ms for those in flight, then
 * stop the threads.  false: still busy after the timeout; the device keeps
 * serving as before.
 */
bool device_quiesce(struct vhostio_device *dev, int timeout_ms);
/* Restart what device_quiesce() stopped. */
int device_unquiesce(struct vhostio_device *dev);

/* Open the handler on the current config and resolve capabilities. */
int device_open_handler(struct vhostio_device *dev);
void device_close_handler(struct vhostio_device *dev);

/*
 * Run 'step' for this io on the command thread (inline when already there
 * and not nested in another step; queued otherwise).  In the PARALLEL
 * model it may run on the calling thread.
 */
void device_run_step(struct vhostio_io *io, io_step_fn step);

/* Grab the COMPARE AND WRITE lock, or queue 'io' to be re-run by scsi_execute when it is free. */
bool device_caw_lock(struct vhostio_io *io);
/*
 * Stop taking commands, wait for those in flight (logging every
 * timeout_ms), close the handler and free.  Does not unmap.
 */
void device_destroy(struct vhostio_device *dev, int timeout_ms);

/*
 * Finish a command with a SCSI status; read_len < UINT32_MAX: short
 * data-in.  Frees the bounce buffer, releases the COMPARE AND WRITE lock.
 */
void device_complete(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len);

/*
 * Validate a handler struct of any size this library knows and copy it
 * into a full-size one, newer fields zeroed.  (ctx.c)
 */
int handler_import(struct vhostio_handler *dst, const struct vhostio_handler *src);

/* SCSI status for a handler's 0 / -errno result (e.g. -EIO -> MEDIUM ERROR). */
struct vhostio_scsi_status device_status_from_errno(int err, bool is_write);
/* The unit attention to report now, if any; reporting it clears it. */
uint16_t device_take_unit_attention(struct vhostio_device *dev);

/* Run one command: emulate, or call the handler.  (scsi.c) */
void scsi_execute(struct vhostio_device *dev, struct vhostio_io *io);

#endif
