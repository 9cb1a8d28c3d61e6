/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A served TCMU device: its mapping, ring, command thread and handler,
 * and the SCSI logical unit it feeds.  Three files share this struct:
 * device.c (life cycle and the handler's accessors), io.c (the I/O path:
 * io pool, steps, completion into the ring) and loop.c (the command
 * loop: fetch, serve, busy-poll, threads).
 */
#ifndef VHOSTIO_TCMU_DEVICE_H
#define VHOSTIO_TCMU_DEVICE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <vhostio/handler.h>

#include "lun.h"
#include "ring.h"

#define IO_INLINE_IOVS 8

/* What the kernel (uio name, netlink) tells us about a device. */
struct device_info {
	char name[256];          /* "<hba>/<dev>", for logs and the handler */
	char cfgstring[4096];    /* full dev_config: "<subtype>/<handler config>" */
	char subtype[64];
	char configfs_dir[PATH_MAX];  /* .../core/user_<hba>/<dev>, may be empty */
	unsigned uio_minor;
};

/* What configfs says about the LUN at attach (discovery.c). */
struct device_attributes {
	uint32_t block_size;
	uint64_t num_lbas;
	uint32_t max_sectors;    /* largest transfer, in blocks */
	bool write_cache;        /* emulate_write_cache */
	uint32_t cmd_time_out;   /* seconds the kernel gives a command; 0: unlimited */
	char serial[SCSI_SERIAL_MAX];  /* wwn/vpd_unit_serial, may be empty */
};

/* A command of this device: the SCSI io and what the ring loop adds. */
struct device_io {
	struct vhostio_io io;
	io_step_fn queued_step;           /* what device_run_step() queued */
	/* In flight (under dev->lock): taken off the ring, not completed. */
	struct device_io *inflight_prev, *inflight_next;
	uint64_t fetched_ns;              /* CLOCK_MONOTONIC */
	bool overdue_logged;              /* the watchdog reported it */
	/* A TMR aborted it and the handler's abort() is (about to be) called:
	 * a completion meanwhile leaves the io out of the pool until the call
	 * returns, so the handler never sees it reused (under dev->lock). */
	bool abort_pinned, put_when_unpinned;
	struct device_io *abort_next;     /* the aborts to deliver after a fetch */
	struct vhostio_scsi_status bad;   /* why the ring entry is refused (RING_BAD_CMD) */
	uint32_t iov_cap;
	struct iovec iov_inline[IO_INLINE_IOVS];
};

static inline struct device_io *device_io_of(struct vhostio_io *io)
{
	return (struct device_io *)((char *)io - offsetof(struct device_io, io));
}

/* How a device signals the kernel; uio in production, a simulator in tests. */
struct device_transport {
	int (*kick)(void *opaque);  /* tell the kernel that cmd_tail moved */
	/*
	 * Optional: have the kernel reset a ring we cannot parse (pending
	 * commands fail back to the initiator, head and tail go to 0) and
	 * keep it from queueing more until unblock.  NULL: configfs
	 * action/block_dev and action/reset_ring of the device.
	 */
	int (*reset_ring)(void *opaque);
	int (*unblock)(void *opaque);
	void *opaque;
};

struct vhostio_device {
	struct device_info info;
	struct scsi_lun lun;
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
	pthread_cond_t drained;          /* CLOCK_MONOTONIC */
	unsigned drain_waiters;          /* threads in wait_drained(): broadcast only then */
	struct vhostio_ring ring;
	struct vhostio_io *free_ios;
	uint32_t kicked_tail;
	struct device_io *inflight;      /* commands taken and not completed, newest first */
	/* A command in flight longer than this is logged (the kernel's
	 * cmd_time_out, or 30 s when it has none). */
	uint64_t overdue_ns;
	uint64_t watchdog_next_ns;       /* command thread: next scan */

	pthread_t thread;
	bool thread_started;
	int stop_fd;                     /* eventfd: ask the command thread to stop */
	int wake_fd;                     /* eventfd: deferred steps are queued */
	/* inotify on the wwn/ directory (writes to vpd_unit_serial): management
	 * tools set the serial after enable.  -1: no watch, see device_lun_ops. */
	int serial_watch_fd;

	/* Steps to run on the command thread (under lock). */
	struct io_fifo deferred;
	unsigned n_deferred;             /* queue length, read without the lock */

	/* fd watched by the command thread for the handler (vhostio_device_watch_fd). */
	int watch_fd;
	void (*watch_ready)(struct vhostio_device *dev, void *arg);
	void *watch_arg;

	/* PARALLEL thread model: workers running scsi_execute(). */
	pthread_t *workers;
	unsigned n_workers;
	pthread_cond_t work_cond;
	struct io_fifo work;
	bool workers_stop;
	bool paused;                     /* quiescing: fetch no new commands (set under lock) */
	/* Tests only: called just before each fetch takes the lock, to widen
	 * the window a quiesce must not slip through.  NULL in production. */
	void (*fetch_hook)(struct vhostio_device *dev);

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
		uint64_t recoveries;     /* broken rings reset and served again */
		uint64_t aborted;        /* commands aborted by task management */
	} stats;
	bool recovery_failed;            /* gave up on a broken ring: logged once */

	struct vhostio_device *next;     /* ctx's device list */
};

/* ---- life cycle (device.c) ---- */

/*
 * Bind a handler to a mapped ring.  Calls handler->open().  The map and
 * transport stay owned by the caller until device_destroy().
 */
int device_create(struct vhostio_device **devp, const struct device_info *info,
		  const struct device_attributes *attrs, const struct vhostio_handler *handler, void *map,
		  size_t map_size, struct device_transport transport);
/*
 * Stop taking commands, wait up to give_up_ms for those in flight (logging
 * every few seconds), close the handler and free; true.  Does not unmap.
 * false: the handler never finished some command; the device is left as a
 * logged zombie (handler open, memory kept) so that a late completion
 * touches nothing freed, and the caller must keep its mapping too.
 */
bool device_destroy(struct vhostio_device *dev, int give_up_ms);
/* Open the handler on the current config and resolve capabilities. */
int device_open_handler(struct vhostio_device *dev);
void device_close_handler(struct vhostio_device *dev);

/*
 * Apply a kernel reconfig: quiesce (stop the thread, wait for in-flight
 * commands), let the handler accept it or reopen, update the geometry,
 * queue CAPACITY DATA HAS CHANGED for a new size, restart.  Here
 * rc->config is the full dev_config, "<subtype>/<handler config>", as the
 * kernel sends it.  (reconfig.c)
 */
int device_reconfig(struct vhostio_device *dev, const struct vhostio_reconfig *rc);

/*
 * Validate a handler struct of any size this library knows and copy it
 * into a full-size one, newer fields zeroed.  (handlers.c)
 */
int handler_import(struct vhostio_handler *dst, const struct vhostio_handler *src);

/* ---- the I/O path (io.c) ---- */

/* What the device layer does for its SCSI LUN: completion into the ring, steps. */
extern const struct scsi_lun_ops device_lun_ops;

struct vhostio_io *device_io_get(struct vhostio_device *dev);
/* Caller holds dev->lock. */
void device_io_put(struct vhostio_device *dev, struct vhostio_io *io);
void device_io_free_all(struct vhostio_device *dev);
/* Give io room for n iovs (they are copied out of the ring later). */
int device_io_grow_iovs(struct vhostio_io *io, uint32_t n);
/*
 * Run 'step' for this io on the command thread (inline when already there
 * and not nested in another step; queued otherwise).  In the PARALLEL
 * model it may run on the calling thread.
 */
void device_run_step(struct vhostio_io *io, io_step_fn step);
/* Run the steps queued for the command thread. */
void device_run_deferred(struct vhostio_device *dev);
/* Around a handler callback the library makes outside a step (abort()):
 * steps that completions start meanwhile are queued, not run inside it. */
void device_enter_callback(void);
void device_leave_callback(void);
/* Finish a command whose ring entry was refused, or that cannot run. */
void device_fail(struct vhostio_io *io, const struct vhostio_scsi_status *st);
/* The in-flight list; caller holds dev->lock. */
void device_inflight_add(struct vhostio_device *dev, struct device_io *dio, uint64_t now_ns);
void device_inflight_remove(struct vhostio_device *dev, struct device_io *dio);
/* Caller holds dev->lock.  Returns true if the kernel must be kicked. */
bool device_tail_moved_locked(struct vhostio_device *dev);
void device_kick(struct vhostio_device *dev);
void device_wake_command_thread(struct vhostio_device *dev);
/*
 * Mark this thread as serving 'dev' (NULL: none): completions made
 * meanwhile leave the kick to the end of the batch, and steps run inline.
 * Returns the previous value, to restore.
 */
struct vhostio_device *device_enter_batch(struct vhostio_device *dev);
void device_leave_batch(struct vhostio_device *prev);
/* Make this thread the device's command thread for good. */
void device_become_command_thread(struct vhostio_device *dev);

/* ---- the command loop (loop.c) ---- */

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
 * Stop taking commands, wait up to timeout_ms for those in flight, then
 * stop the threads.  false: still busy after the timeout; the device keeps
 * serving as before.
 */
bool device_quiesce(struct vhostio_device *dev, int timeout_ms);
/* Restart what device_quiesce() stopped. */
int device_unquiesce(struct vhostio_device *dev);
/*
 * For good: stop taking commands, wait up to give_up_ms for those in
 * flight (logging every few seconds), stop the threads.  false: some are
 * still in flight; fetching stays stopped, the threads run on.
 */
bool device_stop(struct vhostio_device *dev, int give_up_ms);
/* Log the commands in flight past dev->overdue_ns (command thread, ~1/s). */
void device_watchdog(struct vhostio_device *dev, uint64_t now_ns);

/* ---- task management (abort.c) ---- */

/*
 * Ask the kernel to put a TMR entry in the ring when an initiator aborts
 * commands (attrib/tmr_notification), if this kernel can.  Logged.
 */
void device_enable_tmr_notification(struct vhostio_device *dev);
/* What the TMRs of one fetch batch did, for the handler and the log. */
struct abort_batch {
	struct device_io *list;  /* pinned for the handler's abort() */
	unsigned tmrs, named, n_ids;
	uint8_t last_type;
	uint16_t ids[8];         /* the first aborted cmd_ids, for the log */
};
/*
 * The ring held a TMR naming ring->tmr_ids: mark those in flight aborted
 * and pin each for the handler's abort(), recording it in *b.  Caller
 * holds dev->lock.
 */
void device_abort_locked(struct vhostio_device *dev, struct abort_batch *b);
/* Log the batch's TMRs, call the handler's abort() for each pinned io,
 * unpin them (command thread, without the lock). */
void device_deliver_aborts(struct vhostio_device *dev, struct abort_batch *b);

#endif
