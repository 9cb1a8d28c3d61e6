/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TCMU generic netlink family ("TCM-USER", group "config"). */
#ifndef VHOSTIO_NETLINK_H
#define VHOSTIO_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

struct tcmu_netlink;

/* One event from the kernel: a device was added, removed or reconfigured. */
struct tcmu_event {
	int cmd;                 /* TCMU_CMD_ADDED_DEVICE, ... */
	const char *uio_name;    /* TCMU_ATTR_DEVICE */
	uint32_t minor;
	uint32_t device_id;
	bool has_device_id;
	/* RECONFIG_DEVICE carries one of these. */
	const char *dev_cfg;
	bool has_dev_size;
	uint64_t dev_size;
	bool has_write_cache;
	bool write_cache;
};

/*
 * Returns the status to send back in the matching *_DONE message, or
 * TCMU_REPLY_LATER: the callee has copied the event and will answer with
 * tcmu_netlink_reply() (from any thread).  The event's strings live only
 * during the call.
 */
#define TCMU_REPLY_LATER 1
typedef int (*tcmu_event_fn)(void *opaque, const struct tcmu_event *ev);

/* Send the *_DONE answer to 'ev' (only cmd, minor and device id are read). */
void tcmu_netlink_reply(struct tcmu_netlink *nl, const struct tcmu_event *ev, int status);

int tcmu_netlink_open(struct tcmu_netlink **nlp, tcmu_event_fn fn, void *opaque);
void tcmu_netlink_close(struct tcmu_netlink *nl);
int tcmu_netlink_fd(const struct tcmu_netlink *nl);
/* Receive and handle everything pending; never blocks. */
int tcmu_netlink_dispatch(struct tcmu_netlink *nl);
/*
 * SET_FEATURES: with 'reply' the kernel blocks enable/remove/reconfig
 * until our *_DONE.  Module-global until changed or the module reloads.
 */
int tcmu_netlink_set_reply_mode(struct tcmu_netlink *nl, bool reply);

#endif
