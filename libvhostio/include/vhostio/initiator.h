/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vhostio initiator: a userspace virtio-scsi driver for the kernel's
 * vhost-scsi fabric.
 *
 * The process plays the part QEMU plays for a guest: it owns /dev/vhost-scsi,
 * hands the kernel a memory table that maps its own I/O memory one to one
 * (guest physical address == process virtual address), and lays out split
 * virtqueues in that memory: control (0), event (1) and request queues
 * (2..).  SCSI commands submitted here travel the same path a QEMU guest's
 * do -- vhost_scsi -> LIO core -> the LUN's backstore (rd_mcp, fileio,
 * user:* served by vhostio-runner) -- without a guest.
 *
 * Buffers named in commands must come from vhostio_initiator_alloc(): only
 * that memory is in the table the kernel translates through.
 *
 * Threads: one thread at a time per request queue (submit/kick/reap);
 * different queues may be driven from different threads.  Control and
 * event calls take an internal lock.
 *
 * Every function returning int returns 0 (or a count) or -errno.
 */
#ifndef VHOSTIO_INITIATOR_H
#define VHOSTIO_INITIATOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vhostio/common.h>
/* The fabric management calls lived here until 1.2; kept visible for
 * programs written against 1.1. */
#include <vhostio/vhost_fabric.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vhostio_initiator;

/* Options; zero-initialise and set struct_size, fields are only appended. */
struct vhostio_initiator_opts {
	uint32_t struct_size;     /* sizeof(struct vhostio_initiator_opts) */
	const char *device;       /* NULL: "/dev/vhost-scsi" */
	uint32_t num_queues;      /* request queues; 0: 1 */
	uint32_t queue_size;      /* descriptors per queue, a power of two <= 32768; 0: 128 */
	uint64_t arena_size;      /* bytes of I/O memory for vhostio_initiator_alloc(); 0: 64 MiB */
	uint64_t features_mask;   /* virtio feature bits NOT to negotiate (tests) */
	/* Appended (an older struct_size leaves it 0): which kernel threads serve the request queues, through
	 * the worker ioctls of Linux 6.5 (and vhostio's fabric on 6.1); see
	 * enum vhostio_initiator_workers, or N > 0: N new workers shared by
	 * the request queues in turn. */
	int32_t workers;
};

enum vhostio_initiator_workers {
	VHOSTIO_INITIATOR_WORKERS_DEFAULT = 0,    /* no worker ioctl: the device's choice */
	VHOSTIO_INITIATOR_WORKERS_SHARED = -1,    /* every queue on the device's first worker */
	VHOSTIO_INITIATOR_WORKERS_PER_QUEUE = -2, /* a new worker per request queue */
};

/*
 * Open the device, take ownership, negotiate features (VERSION_1, and
 * EVENT_IDX, INDIRECT_DESC and the hotplug feature where offered), set up
 * the memory table, the workers asked for and every virtqueue.  No target
 * yet: see vhostio_initiator_attach().  -EOPNOTSUPP: workers asked for and
 * the device has no worker ioctls (stock vhost_scsi before 6.5).
 */
VHOSTIO_EXPORT int vhostio_initiator_open(struct vhostio_initiator **inip,
					  const struct vhostio_initiator_opts *opts);
/*
 * VHOST_SCSI_SET_ENDPOINT on a target port ("naa.<16 hex digits>"); the
 * kernel binds every TPG of that WWPN with a nexus; commands address
 * 'tpgt' (<= 255).  Submitting before attach gives -ENOTCONN.
 */
VHOSTIO_EXPORT int vhostio_initiator_attach(struct vhostio_initiator *ini, const char *wwpn, uint16_t tpgt);
/*
 * CLEAR_ENDPOINT (the kernel finishes what is in flight), then release the
 * queues, the device and the memory: nothing stays pinned, and the LUNs'
 * backstores can be removed.  Commands not yet reaped are dropped unseen.
 */
VHOSTIO_EXPORT void vhostio_initiator_close(struct vhostio_initiator *ini);

/* Negotiated virtio feature bits. */
VHOSTIO_EXPORT uint64_t vhostio_initiator_features(const struct vhostio_initiator *ini);
VHOSTIO_EXPORT uint32_t vhostio_initiator_num_queues(const struct vhostio_initiator *ini);

/*
 * I/O memory the kernel can reach: zeroed, page aligned, in whole 4 KiB
 * pages; NULL when the arena is exhausted.  Thread-safe.
 */
VHOSTIO_EXPORT void *vhostio_initiator_alloc(struct vhostio_initiator *ini, size_t len);
VHOSTIO_EXPORT void vhostio_initiator_free(struct vhostio_initiator *ini, void *buf);

/* virtio-scsi response codes (VIRTIO_SCSI_S_*) seen in completions. */
enum vhostio_virtio_response {
	VHOSTIO_VIRTIO_S_OK = 0,
	VHOSTIO_VIRTIO_S_OVERRUN = 1,
	VHOSTIO_VIRTIO_S_ABORTED = 2,
	VHOSTIO_VIRTIO_S_BAD_TARGET = 3,
	VHOSTIO_VIRTIO_S_RESET = 4,
	VHOSTIO_VIRTIO_S_BUSY = 5,
	VHOSTIO_VIRTIO_S_TRANSPORT_FAILURE = 6,
	VHOSTIO_VIRTIO_S_TARGET_FAILURE = 7,
	VHOSTIO_VIRTIO_S_NEXUS_FAILURE = 8,
	VHOSTIO_VIRTIO_S_FAILURE = 9,
	VHOSTIO_VIRTIO_S_FUNCTION_SUCCEEDED = 10,
	VHOSTIO_VIRTIO_S_FUNCTION_REJECTED = 11,
	VHOSTIO_VIRTIO_S_INCORRECT_LUN = 12,
	/* TMF answer: done, nothing to report (QUERY TASK: not in flight) */
	VHOSTIO_VIRTIO_S_FUNCTION_COMPLETE = 0,
};

/* Task management functions (VIRTIO_SCSI_T_TMF_*), for vhostio_initiator_tmf(). */
enum vhostio_virtio_tmf {
	VHOSTIO_VIRTIO_T_TMF_ABORT_TASK = 0,
	VHOSTIO_VIRTIO_T_TMF_ABORT_TASK_SET = 1,
	VHOSTIO_VIRTIO_T_TMF_CLEAR_ACA = 2,
	VHOSTIO_VIRTIO_T_TMF_CLEAR_TASK_SET = 3,
	VHOSTIO_VIRTIO_T_TMF_I_T_NEXUS_RESET = 4,
	VHOSTIO_VIRTIO_T_TMF_LOGICAL_UNIT_RESET = 5,
	VHOSTIO_VIRTIO_T_TMF_QUERY_TASK = 6,
	VHOSTIO_VIRTIO_T_TMF_QUERY_TASK_SET = 7,
};

/* One SCSI command.  Owned by the caller; must stay valid until reaped. */
struct vhostio_scsi_cmd {
	/* in */
	uint16_t lun;
	uint8_t cdb_len;          /* <= 32 */
	uint8_t task_attr;        /* 0: SIMPLE */
	uint8_t cdb[32];
	const struct iovec *data_out;  /* from the arena; NULL/0 for none */
	uint32_t data_out_cnt;
	const struct iovec *data_in;   /* from the arena; NULL/0 for none */
	uint32_t data_in_cnt;
	void *opaque;             /* for the caller */
	/* out, valid once reaped */
	uint8_t response;         /* enum vhostio_virtio_response */
	uint8_t status;           /* SAM status */
	uint16_t sense_len;
	uint32_t residual;        /* bytes of the data buffers not transferred */
	uint8_t sense[96];
};

/*
 * Queue a command on request queue 'queue' (0 .. num_queues-1).  It is
 * visible to the kernel only after vhostio_initiator_kick().  -EAGAIN: no
 * descriptors left until something is reaped; -ENOTCONN: not attached;
 * -EFAULT: a data buffer is not arena memory; -EINVAL: LUN > 16383, CDB
 * length 0 or > 32, or more than 1022 data segments.  Chains of 5 or
 * more descriptors go through an indirect table (one arena page) when
 * INDIRECT_DESC was negotiated.
 */
VHOSTIO_EXPORT int vhostio_initiator_submit(struct vhostio_initiator *ini, uint32_t queue,
					    struct vhostio_scsi_cmd *cmd);
/* Publish what was submitted and notify the kernel once (if it wants it). */
VHOSTIO_EXPORT int vhostio_initiator_kick(struct vhostio_initiator *ini, uint32_t queue);
/*
 * Completed commands, up to 'max'; never blocks.  Returns how many.  It
 * drains the queue's call eventfd and re-arms the notification, except when
 * it returns 'max': then more may be waiting and the caller calls again
 * before sleeping on vhostio_initiator_queue_fd().
 */
VHOSTIO_EXPORT int vhostio_initiator_reap(struct vhostio_initiator *ini, uint32_t queue,
					  struct vhostio_scsi_cmd **done, int max);
/* Wait up to timeout_ms (-1: forever) for completions on 'queue'; 0 or -ETIMEDOUT. */
VHOSTIO_EXPORT int vhostio_initiator_wait(struct vhostio_initiator *ini, uint32_t queue, int timeout_ms);
/* The queue's call eventfd, to poll for POLLIN in the caller's own loop. */
VHOSTIO_EXPORT int vhostio_initiator_queue_fd(const struct vhostio_initiator *ini, uint32_t queue);
/* Commands submitted on 'queue' and not yet reaped. */
VHOSTIO_EXPORT uint32_t vhostio_initiator_in_flight(const struct vhostio_initiator *ini, uint32_t queue);
/*
 * Submit, kick and wait for one command on queue 0 (management commands).
 * -EBUSY when queue 0 has other commands in flight (their completions would
 * be taken here); -ETIMEDOUT leaves the command in flight, to be reaped.
 */
VHOSTIO_EXPORT int vhostio_initiator_run(struct vhostio_initiator *ini, struct vhostio_scsi_cmd *cmd,
					 int timeout_ms);

/*
 * LOGICAL UNIT RESET through the control queue.  Returns the virtio
 * response (VHOSTIO_VIRTIO_S_FUNCTION_SUCCEEDED ...) or -errno.
 */
VHOSTIO_EXPORT int vhostio_initiator_lun_reset(struct vhostio_initiator *ini, uint16_t lun, int timeout_ms);
/*
 * A task management function (enum vhostio_virtio_tmf) on the control
 * queue; 'tag' names the command for ABORT TASK / QUERY TASK (see
 * vhostio_initiator_next_tag()), ignored by the others.  Waits up to
 * timeout_ms (-1: forever); 0 with the virtio response in *response
 * (FUNCTION_SUCCEEDED, FUNCTION_COMPLETE, FUNCTION_REJECTED ...), or
 * -EINVAL (subtype > 7, LUN > 16383), -ENOTCONN, -ETIMEDOUT (the TMF
 * stays queued) or -EBUSY (an earlier one timed out and is still queued).
 * Thread-safe against request queue traffic.
 */
VHOSTIO_EXPORT int vhostio_initiator_tmf(struct vhostio_initiator *ini, uint32_t subtype, uint16_t lun,
					 uint64_t tag, int timeout_ms, uint8_t *response);
/*
 * The tag the next vhostio_initiator_submit() on 'queue' gives its command
 * (ABORT TASK / QUERY TASK name commands by it); call it from the thread
 * driving the queue.  0 for a bad queue.
 */
VHOSTIO_EXPORT uint64_t vhostio_initiator_next_tag(const struct vhostio_initiator *ini, uint32_t queue);

/* An event from the event queue (VIRTIO_SCSI_T_TRANSPORT_RESET: hotplug). */
struct vhostio_scsi_event {
	uint32_t event;           /* VIRTIO_SCSI_T_*; bit 31 = events were missed */
	uint16_t lun;
	uint16_t tpgt;            /* target (lun[1] of the event's address) */
	uint32_t reason;          /* VIRTIO_SCSI_EVT_RESET_RESCAN / _REMOVED */
};
/*
 * Events received so far, up to 'max'; never blocks.  Each buffer is given
 * back to the device at once.  Only with VIRTIO_SCSI_F_HOTPLUG negotiated.
 */
VHOSTIO_EXPORT int vhostio_initiator_events(struct vhostio_initiator *ini, struct vhostio_scsi_event *ev, int max);
VHOSTIO_EXPORT int vhostio_initiator_event_fd(const struct vhostio_initiator *ini);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTIO_INITIATOR_H */
