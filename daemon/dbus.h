/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VHOSTIO_RUNNER_DBUS_H
#define VHOSTIO_RUNNER_DBUS_H

#include <gio/gio.h>
#include <vhostio/vhostio.h>

/*
 * The org.kernel.TCMUService1 service targetcli talks to: an object
 * manager at /org/kernel/TCMUService1 with one object per handler
 * (ConfigDesc, CheckConfig, ChangeMedium) and HandlerManager1 for handlers
 * served by other processes.  Everything runs on the thread-default main
 * context of the caller (the runner's main loop); blocking work goes to
 * GTask threads.
 */
struct dbus_service;

/*
 * Called on the main loop when another process owns the name (another
 * vhostio-runner or tcmu-runner: both would answer for every device).
 * No bus, a policy that denies the name or a bus that goes away later are
 * logged, and devices go on being served without the service.
 */
typedef void (*dbus_lost_fn)(void *opaque);

#define TCMU_BUS_NAME "org.kernel.TCMUService1"

/*
 * Before touching any device: does another process own the name already?
 * 1 yes, 0 no, -errno when there is no bus to ask.  (A second daemon would
 * take over the first one's devices in vhostio_ctx_start() before its own
 * name request could fail.)
 */
int dbus_name_taken(GBusType bus);

/* Export ctx's handlers and request the name on 'bus'.  Returns at once;
 * the connection and the name arrive from the main loop. */
struct dbus_service *dbus_service_start(struct vhostio_ctx *ctx, GBusType bus, dbus_lost_fn on_lost,
					void *opaque);
/* Export objects for handlers registered with ctx since the last call. */
void dbus_service_sync_handlers(struct dbus_service *svc);
/* Cancel forwarded calls and wait (iterating the
 * thread-default main context, so netlink is still served) for the
 * ChangeMedium/CheckConfig threads in flight; then free.  Call it before
 * vhostio_ctx_free(). */
void dbus_service_stop(struct dbus_service *svc);

#endif
