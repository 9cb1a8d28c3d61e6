/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvhostio: serve Linux target_core_user (TCMU) devices from userspace.
 *
 * A vhostio_ctx listens on the TCMU generic netlink family, attaches to
 * every user backstore whose subtype has a registered handler, and runs one
 * thread per device that drains the command ring, emulates SCSI and calls
 * the handler for data.  The caller owns the event loop: poll
 * vhostio_ctx_fd() for POLLIN and call vhostio_ctx_dispatch().  Opening,
 * closing and reconfiguring a device happen on a per-device worker thread,
 * so a slow handler never stalls the caller's loop or other devices; the
 * kernel gets its netlink answer when the work is done.
 *
 * Every function returning int returns 0 (or a count) on success and
 * -errno on failure; none of them relies on errno.
 */
#ifndef VHOSTIO_VHOSTIO_H
#define VHOSTIO_VHOSTIO_H

#include <vhostio/handler.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vhostio_ctx;

/* vhostio_version() and the log settings are in <vhostio/common.h>. */

VHOSTIO_EXPORT int vhostio_ctx_new(struct vhostio_ctx **ctxp);

/*
 * Register a handler.  The struct is copied (up to its struct_size), so the
 * caller's copy may be read-only.  -EINVAL: malformed struct or unknown API
 * version; -EEXIST: subtype taken.
 */
VHOSTIO_EXPORT int vhostio_ctx_add_handler(struct vhostio_ctx *ctx,
					   const struct vhostio_handler *handler);

/*
 * Load target_core_user if needed, join the TCMU netlink family, ask the
 * kernel to wait for our replies, and attach to user devices that already
 * exist.
 */
VHOSTIO_EXPORT int vhostio_ctx_start(struct vhostio_ctx *ctx);

/* File descriptor to poll for POLLIN; valid after vhostio_ctx_start(). */
VHOSTIO_EXPORT int vhostio_ctx_fd(const struct vhostio_ctx *ctx);

/* Handle pending netlink events (device added, removed, reconfigured). */
VHOSTIO_EXPORT int vhostio_ctx_dispatch(struct vhostio_ctx *ctx);

/* Number of devices being served. */
VHOSTIO_EXPORT int vhostio_ctx_device_count(const struct vhostio_ctx *ctx);

/*
 * Registered handlers, for a management API (the runner's D-Bus objects):
 * index 0 .. count-1, in registration order.  The strings live as long as
 * the ctx.  NULL for an index out of range.
 */
VHOSTIO_EXPORT int vhostio_ctx_handler_count(const struct vhostio_ctx *ctx);
VHOSTIO_EXPORT const char *vhostio_ctx_handler_subtype(const struct vhostio_ctx *ctx, int index);
VHOSTIO_EXPORT const char *vhostio_ctx_handler_config_desc(const struct vhostio_ctx *ctx, int index);

/*
 * Validate a full dev_config string, "<subtype>/<config>", as enabling a
 * backstore with it would: the subtype needs a handler here and the
 * handler's check_config() must accept the rest.  0, or -errno and a
 * malloc'd one-line reason in *reason (the caller frees it).  Thread-safe.
 */
VHOSTIO_EXPORT int vhostio_ctx_check_config(struct vhostio_ctx *ctx, const char *cfgstring, char **reason);

/*
 * A subtype served by another process (which opens its uio devices
 * itself, e.g. registered over D-Bus): devices of it are acknowledged to
 * the kernel but not attached here.  -EEXIST if a handler of this ctx has
 * that subtype.  Thread-safe.
 */
VHOSTIO_EXPORT int vhostio_ctx_add_external_subtype(struct vhostio_ctx *ctx, const char *subtype);
VHOSTIO_EXPORT int vhostio_ctx_remove_external_subtype(struct vhostio_ctx *ctx, const char *subtype);

/*
 * Change the medium of the user backstore named 'name' (the configfs
 * directory name under core/user_<N>/, as targetcli shows it): new size in
 * bytes (0: keep) and new full dev_config "<subtype>/<config>" (NULL or
 * "": keep), validated first like vhostio_ctx_check_config().  Written
 * through configfs, so the kernel sends RECONFIG and the device is
 * reconfigured by whoever serves it.  Blocks until the kernel has the
 * answer: never call it from the thread that calls vhostio_ctx_dispatch().
 * 0, or -errno and a malloc'd reason in *reason.
 */
VHOSTIO_EXPORT int vhostio_ctx_change_medium(struct vhostio_ctx *ctx, const char *name, uint64_t size,
					     const char *cfgstring, char **reason);

/*
 * Busy-poll window: after serving a batch, each device's command thread
 * keeps checking its ring for up to 'us' microseconds before it sleeps in
 * poll().  A command that arrives meanwhile skips the wake-up (interrupt,
 * poll, read, two context switches): lower latency at queue depth 1 and
 * fewer system calls per command, for up to 'us' of CPU after each batch.
 * 0 (the default) never spins.  Applies to served devices at once and to
 * later ones.  -EINVAL above VHOSTIO_MAX_POLL_US.
 */
#define VHOSTIO_MAX_POLL_US 1000000u
VHOSTIO_EXPORT int vhostio_ctx_set_poll_us(struct vhostio_ctx *ctx, unsigned int us);

/*
 * Stop: every device stops fetching, finishes its in-flight commands,
 * unmaps; the kernel is told not to wait for replies any more (so that
 * configfs operations never hang on a daemon that is gone).  Then free.
 */
VHOSTIO_EXPORT void vhostio_ctx_free(struct vhostio_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTIO_VHOSTIO_H */
