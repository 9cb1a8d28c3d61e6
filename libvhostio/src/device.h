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

struct vhostio_io {
	struct vhostio_device *dev;
	struct ring_cmd cmd;
	struct iovec *iov;       /* cmd.iov_cnt entries: iov_inline or heap */
	uint32_t iov_cap;
	bool is_write;           /* for mapping -EIO to the right sense */
	bool flush_after;        /* FUA write: flush once the write succeeds */
	struct vhostio_io *next_free;
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
	struct vhostio_ring ring;
	struct vhostio_io *free_ios;
	uint32_t kicked_tail;

	pthread_t thread;
	bool thread_started;
	int stop_fd;                     /* eventfd: ask the command thread to stop */

	struct vhostio_device *next;     /* ctx's device list */
};

/*
 * Bind a handler to a mapped ring.  Calls handler->open().  The map and
 * transport stay owned by the caller until device_destroy().
 */
int device_create(struct vhostio_device **devp, const struct device_info *info,
		  const struct vhostio_handler *handler, void *map, size_t map_size,
		  struct device_transport transport);
/* Serve the ring on a new thread that waits on 'event_fd' (uio). */
int device_start_thread(struct vhostio_device *dev, int event_fd);
/* Drain everything the kernel has queued; returns commands taken. */
int device_process_ring(struct vhostio_device *dev);
/*
 * Stop the thread, wait (up to timeout_ms) for in-flight commands,
 * close the handler and free.  Does not unmap.
 */
void device_destroy(struct vhostio_device *dev, int timeout_ms);

/* Finish a command with a SCSI status; read_len < UINT32_MAX: short data-in. */
void device_complete(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len);

/*
 * Validate a handler struct of any size this library knows and copy it
 * into a full-size one, newer fields zeroed.  (ctx.c)
 */
int handler_import(struct vhostio_handler *dst, const struct vhostio_handler *src);

/* Run one command: emulate, or call the handler.  (scsi.c) */
void scsi_execute(struct vhostio_device *dev, struct vhostio_io *io);

#endif
