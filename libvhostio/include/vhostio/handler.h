/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vhostio handler plugin API.
 *
 * A handler serves the storage behind one TCMU subtype ("ram", "file", ...).
 * It is a shared object named handler_<subtype>.so that links against
 * libvhostio.so and exports exactly one symbol, defined by
 * VHOSTIO_REGISTER_HANDLER().  The library does all SCSI emulation; a
 * handler only moves bytes.
 *
 * ABI rules (the way nbdkit versions its plugin struct):
 *  - struct vhostio_handler records its own size and the API version it was
 *    built against; fields are only ever appended, so a handler built
 *    against an older, smaller struct keeps working: the loader copies the
 *    bytes it was given and treats the rest as NULL/0.
 *  - A handler built against a newer, larger struct loads into an older
 *    library only if every field the library does not know is zero (as
 *    the kernel's extensible structs do): an unknown callback is never
 *    silently dropped.
 *  - VHOSTIO_API_VERSION changes only when the meaning of an existing field
 *    or function changes; appending does not need a new version.
 *  - Functions are only ever added to libvhostio, never changed.
 */
#ifndef VHOSTIO_HANDLER_H
#define VHOSTIO_HANDLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vhostio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VHOSTIO_API_VERSION 1

/* A TCMU device being served.  Owned by the library. */
struct vhostio_device;
/* One SCSI command's data request handed to a handler.  Owned by the library. */
struct vhostio_io;

/*
 * Returned by a data callback that has taken ownership of the request and
 * will finish it later, from any thread, with vhostio_io_complete*().
 */
#define VHOSTIO_IO_ASYNC 1

/*
 * How the library may call a handler's callbacks for one device.
 *
 * SERIALIZE (the default): every callback of a device runs on that
 * device's command thread, one at a time.  A handler that wants
 * concurrency goes asynchronous (returns VHOSTIO_IO_ASYNC and completes
 * from its own event loop or threads).
 *
 * PARALLEL: data callbacks (read, write, flush, unmap, write_same) of one
 * device may run at the same time on the library's worker threads
 * (max_parallel of them, 0 meaning 4).  For handlers whose calls block,
 * e.g. a synchronous network client.  lba_status may overlap them too;
 * open, close and reconfig never overlap anything.  The steps of a
 * multi-step emulation run on whichever thread completed the previous
 * step, and end_batch is not called.
 */
enum vhostio_thread_model {
	VHOSTIO_THREAD_SERIALIZE = 0,
	VHOSTIO_THREAD_PARALLEL = 1,
};

/*
 * Optional SCSI features.  For each one the library decides, per device,
 * whether it is NATIVE (the handler does it), EMULATED (the library builds
 * it from read/write/flush) or ABSENT (not advertised; the command is
 * refused with ILLEGAL REQUEST).  The defaults:
 *
 *   FLUSH              native when .flush is set, else absent (nothing to
 *                      flush: SYNCHRONIZE CACHE succeeds at once)
 *   FUA                native when in native_caps (the write callback then
 *                      honours VHOSTIO_IO_FUA), else write + flush
 *   UNMAP              native when .unmap is set, else absent
 *   WRITE_SAME         native when .write_same is set, else a loop of writes
 *   COMPARE_AND_WRITE  always emulated: read, compare, write, with COMPARE
 *                      AND WRITEs of one device serialised
 *
 * Any of them can be switched off in no_caps, or at open() time with
 * vhostio_device_disable_caps() (e.g. a file system without hole punching).
 */
enum vhostio_capability {
	VHOSTIO_CAP_FLUSH = 1u << 0,
	VHOSTIO_CAP_FUA = 1u << 1,
	VHOSTIO_CAP_UNMAP = 1u << 2,
	VHOSTIO_CAP_WRITE_SAME = 1u << 3,
	VHOSTIO_CAP_COMPARE_AND_WRITE = 1u << 4,
};

/* Flags of a data request, from vhostio_io_flags(). */
enum vhostio_io_flag {
	VHOSTIO_IO_FUA = 1u << 0, /* write: durable before completion (native FUA only) */
	/* The initiator aborted the command (libvhostio 1.4): finish it soon.
	 * Set at any time from another thread; see abort(). */
	VHOSTIO_IO_ABORTED = 1u << 1,
};

/* A byte range of the device, for unmap. */
struct vhostio_range {
	uint64_t offset;
	uint64_t length;
};

/* Results of lba_status(). */
enum vhostio_lba_state {
	VHOSTIO_LBA_MAPPED = 0,
	VHOSTIO_LBA_DEALLOCATED = 1,
};

/* What changed in a reconfig() call (bits of vhostio_reconfig.changed). */
enum vhostio_reconfig_what {
	VHOSTIO_RECONFIG_SIZE = 1u << 0,
	VHOSTIO_RECONFIG_CONFIG = 1u << 1,
	VHOSTIO_RECONFIG_WRITE_CACHE = 1u << 2,
};

struct vhostio_reconfig {
	uint32_t changed;        /* VHOSTIO_RECONFIG_* */
	uint64_t size;           /* new capacity in bytes (SIZE) */
	const char *config;      /* new handler config, after "<subtype>/" (CONFIG) */
	int write_cache;         /* new emulate_write_cache, 0 or 1 (WRITE_CACHE) */
};

struct vhostio_handler {
	/* ---- API version 1 ---- */
	uint32_t struct_size;    /* sizeof(struct vhostio_handler) as built */
	uint32_t api_version;    /* VHOSTIO_API_VERSION as built */
	const char *subtype;     /* TCMU subtype: dev_config=<subtype>/<config> */
	const char *config_desc; /* help text for the config string (targetcli) */

	/*
	 * Validate a config string (the part after "<subtype>/") without
	 * opening anything.  Return 0 if it is acceptable; otherwise -errno and,
	 * optionally, a malloc'd one-line reason in *reason (freed by caller).
	 * May be NULL: every config is then accepted until open().  Called
	 * from any thread, concurrently (device workers, the runner's D-Bus
	 * CheckConfig): look only at the string and the file system.
	 */
	int (*check_config)(const char *config, char **reason);

	/*
	 * Open the storage for a device.  vhostio_device_config() and the
	 * geometry accessors are valid.  Return 0 or -errno.
	 */
	int (*open)(struct vhostio_device *dev);
	/* Release everything open() took.  No data callback runs after this. */
	void (*close)(struct vhostio_device *dev);

	/*
	 * Data callbacks.  'offset' and 'length' are bytes, already checked
	 * against the device capacity; 'iov' describes exactly 'length' bytes.
	 * Return 0 (done), -errno (failed: the library turns it into sense,
	 * e.g. -EIO -> MEDIUM ERROR, -ENOSPC -> SPACE ALLOCATION FAILED), or
	 * VHOSTIO_IO_ASYNC and complete the io later.  The iov memory stays
	 * valid until completion.
	 */
	int (*read)(struct vhostio_device *dev, struct vhostio_io *io,
		    const struct iovec *iov, int iovcnt, size_t length,
		    uint64_t offset);
	int (*write)(struct vhostio_device *dev, struct vhostio_io *io,
		     const struct iovec *iov, int iovcnt, size_t length,
		     uint64_t offset);
	/* Make every completed write durable.  NULL: nothing to flush. */
	int (*flush)(struct vhostio_device *dev, struct vhostio_io *io);

	/* Thread model (enum vhostio_thread_model) and, for PARALLEL, how many
	 * callbacks of one device may run at once (0: 4). */
	uint32_t thread_model;
	uint32_t max_parallel;
	/* VHOSTIO_CAP_* done by the handler beyond what its callbacks imply
	 * (only VHOSTIO_CAP_FUA needs saying). */
	uint32_t native_caps;
	/* VHOSTIO_CAP_* never to offer, neither natively nor emulated. */
	uint32_t no_caps;

	/*
	 * Deallocate byte ranges (UNMAP, WRITE SAME with UNMAP).  Ranges are
	 * block aligned, in range and sorted by nothing in particular.  After
	 * success the blocks read back as zeroes (LBPRZ is advertised).
	 * Returns like the data callbacks.  NULL: UNMAP is absent.
	 */
	int (*unmap)(struct vhostio_device *dev, struct vhostio_io *io,
		     const struct vhostio_range *ranges, unsigned nr_ranges);
	/*
	 * Write 'length' bytes at 'offset' as copies of the one logical block
	 * at 'block' (vhostio_device_block_size() bytes).  Returns like the
	 * data callbacks.  NULL: the library loops over write().
	 */
	int (*write_same)(struct vhostio_device *dev, struct vhostio_io *io,
			  const void *block, size_t length, uint64_t offset);
	/*
	 * Provisioning state at 'offset' (GET LBA STATUS): return
	 * VHOSTIO_LBA_MAPPED or VHOSTIO_LBA_DEALLOCATED and shrink *length
	 * (on entry: bytes to the end of the device) to the extent that has
	 * that state, or -errno.  Synchronous.  NULL: everything is mapped.
	 */
	int (*lba_status)(struct vhostio_device *dev, uint64_t offset, uint64_t *length);
	/*
	 * The kernel changed the device (configfs dev_size, dev_config or
	 * emulate_write_cache).  Called with the device quiesced: no command
	 * in flight, no other callback running.  The accessors still give the
	 * old values; rc has the new ones.  Return 0 to accept, -errno to
	 * refuse.  For a CONFIG change, -EOPNOTSUPP (or a NULL reconfig) makes
	 * the library reopen the device: close(), then open() on the new
	 * config (and size), back to the old one if that fails.  A NULL
	 * reconfig accepts WRITE_CACHE changes and refuses a SIZE change on
	 * its own: storage sized at open() must not be addressed beyond its end.
	 */
	int (*reconfig)(struct vhostio_device *dev, const struct vhostio_reconfig *rc);
	/*
	 * SERIALIZE only: called on the command thread each time it has
	 * served its events (new commands, the watched fd, deferred steps),
	 * possibly with no new request: the moment to submit work queued
	 * meanwhile (one io_uring_submit() for many requests).
	 */
	void (*end_batch)(struct vhostio_device *dev);

	/* ---- appended in libvhostio 1.4 (API version 1 still) ---- */

	/*
	 * A hint: the initiator aborted the command behind 'io' (ABORT TASK
	 * or a LUN reset), and the kernel cannot report the task management
	 * function done until the command is answered.  Cut short what you
	 * are doing for it if you can.  The io is still completed exactly
	 * once, as always: by your data callback's return value, or, for an
	 * io you hold after VHOSTIO_IO_ASYNC, by vhostio_io_complete*() once
	 * your I/O into its buffers has stopped (-ECANCELED, or its result).
	 * Never complete from here an io whose data callback has not
	 * returned.  The library answers TASK ABORTED unless the command
	 * finished successfully; it does not cut emulation short itself.
	 *
	 * Called on the device's command thread, outside any callback of
	 * the SERIALIZE model; in the PARALLEL model possibly while a data
	 * callback for 'io' runs, or just before it starts: a handler that
	 * can block records the io first, then tests VHOSTIO_IO_ABORTED in
	 * vhostio_io_flags(), which is set before abort() is called.  'io'
	 * may be one you already completed or never received: ignore it
	 * then.  It stays valid until abort() returns.  NULL: aborted
	 * commands end when the handler completes them.
	 */
	void (*abort)(struct vhostio_device *dev, struct vhostio_io *io);
};

/* Designated-initializer prefix that stamps size and version. */
#define VHOSTIO_HANDLER_INIT                                 \
	.struct_size = sizeof(struct vhostio_handler),       \
	.api_version = VHOSTIO_API_VERSION

/* Name of the one symbol a handler plugin exports. */
#define VHOSTIO_HANDLER_ENTRY_NAME "vhostio_handler_entry"
typedef const struct vhostio_handler *(*vhostio_handler_entry_fn)(void);

/* Define the plugin entry point returning the given handler struct. */
#define VHOSTIO_REGISTER_HANDLER(handler_struct)                              \
	VHOSTIO_EXPORT const struct vhostio_handler *vhostio_handler_entry(void); \
	VHOSTIO_EXPORT const struct vhostio_handler *vhostio_handler_entry(void)  \
	{                                                                     \
		return &(handler_struct);                                     \
	}

/* ---- Device accessors (valid from open() until close() returns) ---- */

/* The handler's part of dev_config, after "<subtype>/". */
VHOSTIO_EXPORT const char *vhostio_device_config(const struct vhostio_device *dev);
/* "<hba>/<name>" as in configfs core/user_<hba>/<name>. */
VHOSTIO_EXPORT const char *vhostio_device_name(const struct vhostio_device *dev);
VHOSTIO_EXPORT uint32_t vhostio_device_block_size(const struct vhostio_device *dev);
VHOSTIO_EXPORT uint64_t vhostio_device_num_lbas(const struct vhostio_device *dev);
/* Capacity in bytes: block size times number of blocks. */
VHOSTIO_EXPORT uint64_t vhostio_device_size(const struct vhostio_device *dev);
VHOSTIO_EXPORT void vhostio_device_set_private(struct vhostio_device *dev, void *priv);
VHOSTIO_EXPORT void *vhostio_device_private(const struct vhostio_device *dev);
/* Whether the kernel emulates a volatile write cache (WCE) right now. */
VHOSTIO_EXPORT int vhostio_device_write_cache(const struct vhostio_device *dev);
/* Only from open(): withdraw capabilities this particular device cannot offer. */
VHOSTIO_EXPORT void vhostio_device_disable_caps(struct vhostio_device *dev, uint32_t caps);
/* VHOSTIO_CAP_* the device offers, native or emulated. */
VHOSTIO_EXPORT uint32_t vhostio_device_caps(const struct vhostio_device *dev);

/*
 * From open(): have the device's command thread watch 'fd' and call
 * ready(dev, arg) on that thread when it is readable (an io_uring
 * eventfd, a socket).  One fd per device; dropped when the device closes.
 * Completions made from ready() are batched into one kernel notification.
 */
VHOSTIO_EXPORT int vhostio_device_watch_fd(struct vhostio_device *dev, int fd,
					   void (*ready)(struct vhostio_device *dev, void *arg),
					   void *arg);

/* VHOSTIO_IO_* flags of a data request. */
VHOSTIO_EXPORT uint32_t vhostio_io_flags(const struct vhostio_io *io);

/* ---- Completion of asynchronous data requests ---- */

/* Finish an io: 0 or -errno, mapped to SCSI status and sense as above. */
VHOSTIO_EXPORT void vhostio_io_complete(struct vhostio_io *io, int result);
/*
 * Finish an io with an explicit SCSI status and sense.  A GOOD status
 * counts as success (0): the library still runs what follows, e.g. the
 * flush of an emulated FUA write; any other status ends the command.
 */
VHOSTIO_EXPORT void vhostio_io_complete_scsi(struct vhostio_io *io,
					     const struct vhostio_scsi_status *st);

/* ---- Logging (vhostio_log() and the levels are in <vhostio/common.h>) ---- */

VHOSTIO_EXPORT void vhostio_device_log(const struct vhostio_device *dev, int level,
				       const char *fmt, ...) VHOSTIO_PRINTF(3, 4);

/* ---- Rate-limited logging (VHOSTIO_1.4) ---- */

/*
 * The state of one rate limit, owned by the caller: a static per call site
 * (VHOSTIO_DEVICE_LOG_RATELIMITED() makes one), or a member of the
 * handler's per-device state, so that one failing LUN does not hide
 * another's errors.  Start it as VHOSTIO_RATELIMIT_INIT (or all zero: a
 * calloc'd struct is ready); after that its members are the library's,
 * not to be read or written.  Several threads may use one at the same time.
 */
struct vhostio_ratelimit {
	uint64_t state;
	uint32_t missed;
	uint32_t reserved;
};
#define VHOSTIO_RATELIMIT_INIT { 0, 0, 0 }

/*
 * vhostio_device_log(), rate-limited: for messages an initiator can cause
 * as often as it likes, such as a failed read or write.  Per 'rl', at most
 * a burst of messages pass per interval, with the library's own policy
 * (now 10 per 5 s of CLOCK_MONOTONIC, as the kernel's printk_ratelimit();
 * after a quiet spell up to twice that may pass around an interval's
 * end); the others are counted, and the next one that passes is preceded
 * by a line "N similar messages suppressed" at its level.  A message whose
 * level is not enabled neither logs nor uses up the budget.  Thread-safe
 * without a lock.  'rl' must not be NULL.  Returns 1 when the message was
 * logged, 0 when it was not.
 */
VHOSTIO_EXPORT int vhostio_device_log_ratelimited(const struct vhostio_device *dev, struct vhostio_ratelimit *rl,
						  int level, const char *fmt, ...) VHOSTIO_PRINTF(4, 5);

/* vhostio_device_log_ratelimited() with a limit of its own for this call site. */
#define VHOSTIO_DEVICE_LOG_RATELIMITED(dev, level, ...)                                                    \
	do {                                                                                               \
		static struct vhostio_ratelimit vhostio_call_site_rl_ = VHOSTIO_RATELIMIT_INIT;            \
		(void)vhostio_device_log_ratelimited((dev), &vhostio_call_site_rl_, (level), __VA_ARGS__); \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif /* VHOSTIO_HANDLER_H */
