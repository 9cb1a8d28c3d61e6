/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two sockets: 'events' joins the multicast group and never sends, so that
 * acks for our own requests can never be mistaken for events; 'requests'
 * sends SET_FEATURES and *_DONE and waits for each ack.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tcmu_abi.h"
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "log.h"
#include "netlink.h"

#define TCMU_GENL_NAME "TCM-USER"
#define TCMU_GENL_GROUP "config"
#define TCMU_GENL_VERSION 2

struct tcmu_netlink {
	struct nl_sock *events;
	struct nl_sock *requests;
	/* Replies come from device workers too; one request/ack at a time. */
	pthread_mutex_t requests_lock;
	int family;
	tcmu_event_fn fn;
	void *opaque;
};

static struct nla_policy tcmu_policy[TCMU_ATTR_MAX + 1] = {
	[TCMU_ATTR_DEVICE] = { .type = NLA_STRING },
	[TCMU_ATTR_MINOR] = { .type = NLA_U32 },
	[TCMU_ATTR_DEV_CFG] = { .type = NLA_STRING },
	[TCMU_ATTR_DEV_SIZE] = { .type = NLA_U64 },
	[TCMU_ATTR_WRITECACHE] = { .type = NLA_U8 },
	[TCMU_ATTR_CMD_STATUS] = { .type = NLA_S32 },
	[TCMU_ATTR_DEVICE_ID] = { .type = NLA_U32 },
	[TCMU_ATTR_SUPP_KERN_CMD_REPLY] = { .type = NLA_U8 },
};

static int nl_to_errno(int nlerr)
{
	/* libnl errors are their own space; keep ours -errno. */
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int send_request_unlocked(struct tcmu_netlink *nl, int cmd, int (*fill)(struct nl_msg *, const void *),
			const void *arg)
{
	struct nl_msg *msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	int ret = -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0, (uint8_t)cmd, TCMU_GENL_VERSION))
		goto out;
	if (fill(msg, arg) < 0)
		goto out;
	/* nl_send_sync waits for the kernel's ack and frees msg. */
	ret = nl_send_sync(nl->requests, msg);
	return ret < 0 ? nl_to_errno(ret) : 0;
out:
	nlmsg_free(msg);
	return ret;
}

static int send_request(struct tcmu_netlink *nl, int cmd, int (*fill)(struct nl_msg *, const void *),
			const void *arg)
{
	pthread_mutex_lock(&nl->requests_lock);
	int ret = send_request_unlocked(nl, cmd, fill, arg);
	pthread_mutex_unlock(&nl->requests_lock);
	return ret;
}

struct done_args {
	uint32_t device_id;
	int32_t status;
};

static int fill_done(struct nl_msg *msg, const void *arg)
{
	const struct done_args *a = arg;
	if (nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, a->device_id) < 0 ||
	    nla_put_s32(msg, TCMU_ATTR_CMD_STATUS, a->status) < 0)
		return -1;
	return 0;
}

static int fill_features(struct nl_msg *msg, const void *arg)
{
	return nla_put_u8(msg, TCMU_ATTR_SUPP_KERN_CMD_REPLY, *(const uint8_t *)arg) < 0 ? -1 : 0;
}

int tcmu_netlink_set_reply_mode(struct tcmu_netlink *nl, bool reply)
{
	uint8_t v = reply;
	return send_request(nl, TCMU_CMD_SET_FEATURES, fill_features, &v);
}

static int done_cmd_for(int cmd)
{
	switch (cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		return TCMU_CMD_ADDED_DEVICE_DONE;
	case TCMU_CMD_REMOVED_DEVICE:
		return TCMU_CMD_REMOVED_DEVICE_DONE;
	case TCMU_CMD_RECONFIG_DEVICE:
		return TCMU_CMD_RECONFIG_DEVICE_DONE;
	default:
		return -1;
	}
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct tcmu_netlink *nl = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gnlh = nlmsg_data(nlh);
	struct nlattr *attrs[TCMU_ATTR_MAX + 1];

	int ret = genlmsg_parse(nlh, 0, attrs, TCMU_ATTR_MAX, tcmu_policy);
	if (ret < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "malformed TCMU netlink message: %s", nl_geterror(ret));
		return NL_SKIP;
	}
	int done_cmd = done_cmd_for(gnlh->cmd);
	if (done_cmd < 0) {
		vhostio_log(VHOSTIO_LOG_DEBUG, "ignoring TCMU netlink command %u", gnlh->cmd);
		return NL_SKIP;
	}
	if (!attrs[TCMU_ATTR_DEVICE] || !attrs[TCMU_ATTR_MINOR]) {
		vhostio_log(VHOSTIO_LOG_ERROR, "TCMU netlink command %u without device or minor", gnlh->cmd);
		return NL_SKIP;
	}

	struct tcmu_event ev = {
		.cmd = gnlh->cmd,
		.uio_name = nla_get_string(attrs[TCMU_ATTR_DEVICE]),
		.minor = nla_get_u32(attrs[TCMU_ATTR_MINOR]),
		.has_device_id = attrs[TCMU_ATTR_DEVICE_ID] != NULL,
	};
	if (ev.has_device_id)
		ev.device_id = nla_get_u32(attrs[TCMU_ATTR_DEVICE_ID]);
	if (attrs[TCMU_ATTR_DEV_CFG])
		ev.dev_cfg = nla_get_string(attrs[TCMU_ATTR_DEV_CFG]);
	if (attrs[TCMU_ATTR_DEV_SIZE]) {
		ev.has_dev_size = true;
		ev.dev_size = nla_get_u64(attrs[TCMU_ATTR_DEV_SIZE]);
	}
	if (attrs[TCMU_ATTR_WRITECACHE]) {
		ev.has_write_cache = true;
		ev.write_cache = nla_get_u8(attrs[TCMU_ATTR_WRITECACHE]) != 0;
	}

	int status = nl->fn(nl->opaque, &ev);
	if (status != TCMU_REPLY_LATER)
		tcmu_netlink_reply(nl, &ev, status);
	return NL_OK;
}

void tcmu_netlink_reply(struct tcmu_netlink *nl, const struct tcmu_event *ev, int status)
{
	/* The kernel matches the reply by device id; without one it is not waiting. */
	if (!ev->has_device_id)
		return;
	struct done_args done = { .device_id = ev->device_id, .status = status };
	int ret = send_request(nl, done_cmd_for(ev->cmd), fill_done, &done);
	if (ret < 0)
		/* Expected when the kernel is not in reply mode for this device. */
		vhostio_log(VHOSTIO_LOG_DEBUG, "reply to command %d for uio%u not taken: %s", ev->cmd, ev->minor,
			    strerror(-ret));
}

int tcmu_netlink_open(struct tcmu_netlink **nlp, tcmu_event_fn fn, void *opaque)
{
	struct tcmu_netlink *nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->fn = fn;
	nl->opaque = opaque;
	pthread_mutex_init(&nl->requests_lock, NULL);

	int ret = -ENOMEM;
	nl->events = nl_socket_alloc();
	nl->requests = nl_socket_alloc();
	if (!nl->events || !nl->requests)
		goto fail;

	if ((ret = genl_connect(nl->events)) < 0 || (ret = genl_connect(nl->requests)) < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "generic netlink connect: %s", nl_geterror(ret));
		ret = nl_to_errno(ret);
		goto fail;
	}
	nl->family = genl_ctrl_resolve(nl->requests, TCMU_GENL_NAME);
	if (nl->family < 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "netlink family %s not found (is target_core_user loaded?)",
			    TCMU_GENL_NAME);
		ret = nl_to_errno(nl->family);
		goto fail;
	}
	int group = genl_ctrl_resolve_grp(nl->requests, TCMU_GENL_NAME, TCMU_GENL_GROUP);
	if (group < 0) {
		ret = nl_to_errno(group);
		goto fail;
	}

	/* Multicast events carry no sequence numbers we chose. */
	nl_socket_disable_seq_check(nl->events);
	nl_socket_modify_cb(nl->events, NL_CB_VALID, NL_CB_CUSTOM, on_event, nl);
	if ((ret = nl_socket_add_membership(nl->events, group)) < 0 ||
	    (ret = nl_socket_set_nonblocking(nl->events)) < 0) {
		ret = nl_to_errno(ret);
		goto fail;
	}
	/* Don't lose events under a burst of device creations. */
	nl_socket_set_buffer_size(nl->events, 1 << 20, 0);
	*nlp = nl;
	return 0;
fail:
	tcmu_netlink_close(nl);
	return ret;
}

void tcmu_netlink_close(struct tcmu_netlink *nl)
{
	if (!nl)
		return;
	if (nl->events)
		nl_socket_free(nl->events);
	if (nl->requests)
		nl_socket_free(nl->requests);
	pthread_mutex_destroy(&nl->requests_lock);
	free(nl);
}

int tcmu_netlink_fd(const struct tcmu_netlink *nl)
{
	return nl_socket_get_fd(nl->events);
}

int tcmu_netlink_dispatch(struct tcmu_netlink *nl)
{
	for (;;) {
		int ret = nl_recvmsgs_default(nl->events);
		if (ret >= 0)
			continue;
		if (ret == -NLE_AGAIN)
			return 0;
		vhostio_log(VHOSTIO_LOG_ERROR, "netlink receive: %s", nl_geterror(ret));
		return nl_to_errno(ret);
	}
}
