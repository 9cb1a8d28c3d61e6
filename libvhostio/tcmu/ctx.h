/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context, shared by its four files: ctx.c (create, start, free, the
 * caller's event loop), handlers.c (the handler registry and config
 * checks), lifecycle.c (netlink events and the per-device workers that
 * attach, reconfigure and remove devices) and manage.c (management calls
 * such as change medium).  ctx->lock guards the shared lists; a device
 * itself is only touched by its own lifecycle worker.
 */
#ifndef VHOSTIO_TCMU_CTX_H
#define VHOSTIO_TCMU_CTX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <vhostio/vhostio.h>

#include "device.h"
#include "netlink.h"

struct handler_entry {
	struct handler_entry *next;
	struct vhostio_handler handler;
};

/* A removed device waits at most this long for its in-flight commands, then is left as a zombie. */
#define DRAIN_TIMEOUT_MS 30000

/* A subtype served by another process: its devices are acknowledged only. */
struct external_subtype {
	struct external_subtype *next;
	char name[];
};

/* A netlink event copied for a device worker. */
struct queued_event {
	struct queued_event *next;
	struct tcmu_event ev;     /* uio_name and dev_cfg point into strings */
	char strings[];
};

/*
 * The lifecycle work of one device (uio minor): its events run in order on
 * a thread of their own, so a slow open never holds up other devices or
 * the caller's event loop.
 */
struct device_work {
	struct device_work *next;
	unsigned minor;
	struct queued_event *head, *tail;
};

struct vhostio_ctx {
	/* Guards the lists below and writers of the handler list (readers
	 * need no lock, see there); n_handlers and n_devices are atomic. */
	pthread_mutex_t lock;
	pthread_cond_t workers_idle;
	/*
	 * Registered handlers, append-only: an entry is published (release)
	 * complete and never moves or goes before the ctx does, so readers
	 * walk the list without the lock and devices keep pointers into it.
	 */
	struct handler_entry *handlers, *handlers_tail;
	int n_handlers;
	struct external_subtype *externals;
	struct vhostio_device *devices;
	int n_devices;
	struct device_work *work;
	unsigned n_workers;

	struct tcmu_netlink *nl;
	bool reply_mode;
	uint64_t poll_ns;            /* busy-poll window of every device */
};

/* ---- handlers.c ---- */

/* Any thread, no lock needed (the handler list is append-only). */
const struct vhostio_handler *ctx_find_handler(const struct vhostio_ctx *ctx, const char *subtype);
/* Whether another process serves this subtype (takes ctx->lock). */
bool ctx_is_external(struct vhostio_ctx *ctx, const char *subtype);
/*
 * The handler for a "<subtype>/<config>" string and its check_config()
 * verdict.  *hp is NULL when the subtype has no handler here.
 */
int ctx_check_cfgstring(struct vhostio_ctx *ctx, const char *cfgstring, const struct vhostio_handler **hp,
			char **reason);
void ctx_free_handlers(struct vhostio_ctx *ctx);

/* ---- lifecycle.c ---- */

/* Netlink callback (dispatch thread): queue the event for its device's worker. */
int ctx_on_tcmu_event(void *opaque, const struct tcmu_event *ev);
struct vhostio_device *ctx_find_device(struct vhostio_ctx *ctx, unsigned minor);
/*
 * Attaching is two steps, so that the start-up scan touches (blocks,
 * resets) only the devices it will serve.  The check step parses the uio
 * name into *info and decides, without touching the device: 1 with *hp
 * set when a local handler serves it (its check_config() accepted the
 * config); 0 when a process registered as external serves its subtype;
 * -errno when nobody here can serve it (no handler for the subtype, a
 * config check_config() refuses, a name that is not TCMU's).  'refuse'
 * only words the log line: an ADDED_DEVICE event refuses such a device,
 * the start-up scan leaves it alone.
 */
int ctx_check_device(struct vhostio_ctx *ctx, const char *uio_name, unsigned minor, bool refuse,
		     struct device_info *info, const struct vhostio_handler **hp);
/* The attach step: map the device ctx_check_device() accepted and serve it with h. */
int ctx_attach_checked(struct vhostio_ctx *ctx, const struct device_info *info, const struct vhostio_handler *h);
/* Both steps, for ADDED_DEVICE: its return value is the kernel's verdict. */
int ctx_attach_device(struct vhostio_ctx *ctx, const char *uio_name, unsigned minor);
void ctx_detach_device(struct vhostio_ctx *ctx, struct vhostio_device *dev);

#endif
