// SPDX-License-Identifier: GPL-2.0
/*
 * Hotplug events on the event queue.  When a LUN is linked to or unlinked
 * from a TPG an endpoint holds, the fabric queues a TRANSPORT_RESET event
 * (reason RESCAN or REMOVED) for the device; the worker writes it into
 * the next buffer the guest left on the event queue.
 *
 * Events wait for a buffer, up to VHOSTIO_MAX_EVENTS per device: a guest
 * that posts none cannot make the host allocate without end.  Past that
 * an event is dropped and the next one delivered carries EVENTS_MISSED
 * (a NO_EVENT if nothing else is pending), on which a guest rescans the
 * whole target.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_scsi.h>

#include "dev.h"

#define VHOSTIO_MAX_EVENTS 128

struct vhostio_event {
	struct llist_node lnode;         /* on dev->evt_new */
	struct list_head node;           /* on dev->evt_pending */
	struct virtio_scsi_event ev;
};

static bool hotplug_negotiated(u64 features)
{
	return features & (1ULL << VIRTIO_SCSI_F_HOTPLUG);
}

/*
 * From the fabric, with the TPG's lock held (the device stays until the
 * endpoint lets the TPG go, which takes that lock).  Never takes dev->lock:
 * the ioctls take a TPG's lock under it.
 */
void vhostio_queue_event(struct vhostio_dev *dev, u16 tpgt, u64 lun, u32 reason)
{
	struct vhostio_event *e = NULL;

	if (!hotplug_negotiated(READ_ONCE(dev->features)))
		return;
	if (atomic_inc_return(&dev->evt_count) <= VHOSTIO_MAX_EVENTS)
		e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e) {
		atomic_dec(&dev->evt_count);
		atomic_set(&dev->evt_dropped, 1);
		pr_warn_ratelimited("event for %u/%llu dropped: the guest will be told events were missed\n",
				    tpgt, lun);
	} else {
		/* The LUN addressing of requests: 1, target, then the LUN
		 * flat-space (0x40) when it does not fit in one byte. */
		e->ev.event = __cpu_to_virtio32(true, VIRTIO_SCSI_T_TRANSPORT_RESET);
		e->ev.reason = __cpu_to_virtio32(true, reason);
		e->ev.lun[0] = 1;
		e->ev.lun[1] = tpgt;
		if (lun >= 256)
			e->ev.lun[2] = (lun >> 8) | 0x40;
		e->ev.lun[3] = lun & 0xff;
		llist_add(&e->lnode, &dev->evt_new);
	}
	vhostio_kick_queue(dev, VHOSTIO_VQ_EVT);
}

static void free_event(struct vhostio_dev *dev, struct vhostio_event *e)
{
	list_del(&e->node);
	kfree(e);
	atomic_dec(&dev->evt_count);
}

/* Move what the fabric queued, in order, onto the pending list. */
static void collect_events(struct vhostio_dev *dev)
{
	struct llist_node *n = llist_reverse_order(llist_del_all(&dev->evt_new));
	struct vhostio_event *e, *next;

	llist_for_each_entry_safe(e, next, n, lnode)
		list_add_tail(&e->node, &dev->evt_pending);
	if (atomic_xchg(&dev->evt_dropped, 0))
		dev->events_missed = 1;
}

/* Caller holds dev->lock; events not yet delivered are dropped. */
void vhostio_drop_events(struct vhostio_dev *dev)
{
	struct vhostio_event *e, *next;

	collect_events(dev);
	list_for_each_entry_safe(e, next, &dev->evt_pending, node)
		free_event(dev, e);
}

/* Write one event into the buffer popped as req; true if it was. */
static bool write_event(struct vhostio_vq *vq, struct vhio_vq_req *req,
			const struct virtio_scsi_event *ev)
{
	size_t n;

	if (req->out_len || req->in_len < sizeof(*ev)) {
		pr_warn_ratelimited("vq %u: head %u is no event buffer (%u readable, %u writable bytes)\n",
				    vq->index, req->head, req->out_len, req->in_len);
		vhio_vq_push(&vq->vq, req->head, 0);
		return false;
	}
	n = vhostio_copy_out(req->in, req->nin, ev, sizeof(*ev));
	/* A part-written event is none (used length 0), but what landed is logged. */
	if (n != sizeof(*ev) && n && vhostio_log_enabled(vq->dev))
		vhostio_log_iov(vq, req->in, req->nin, n);
	vhostio_push(vq, req->head, req->in, req->nin, n == sizeof(*ev) ? n : 0);
	return n == sizeof(*ev);
}

/* The worker, on the event queue's turn (dev->lock held, engine running). */
void vhostio_deliver_events(struct vhostio_vq *vq)
{
	struct vhostio_dev *dev = vq->dev;
	bool pushed = false;
	u32 budget;

	collect_events(dev);
	if (!hotplug_negotiated(dev->features)) {
		vhostio_drop_events(dev);
		return;
	}
	/* Bounded: a guest posting malformed buffers does not keep the worker. */
	for (budget = vq->vq.num; budget && (!list_empty(&dev->evt_pending) || dev->events_missed);
	     budget--) {
		struct vhio_vq_req req = {
			.out = vq->out, .out_max = VHOSTIO_MAX_SEGS,
			.in = vq->in, .in_max = VHOSTIO_MAX_SEGS,
		};
		struct vhostio_event *e;
		struct virtio_scsi_event ev = {
			.event = __cpu_to_virtio32(true, VIRTIO_SCSI_T_NO_EVENT),
		};
		int ret = vhio_vq_pop(&vq->vq, dev->mem, &req);

		if (ret == -EIO)
			break; /* broken (logged by the request path's rules): events wait for release */
		if (ret < 0) {
			pr_warn_ratelimited("vq %u: head %u: %s\n", vq->index, req.head,
					    vhio_vq_strerror(req.err));
			vhio_vq_push(&vq->vq, req.head, 0);
			pushed = true;
			continue;
		}
		if (ret == 0) {
			/* No buffer: wait for the guest to post one. */
			if (vhio_vq_enable_kicks(&vq->vq) == 1)
				continue;
			break;
		}
		e = list_first_entry_or_null(&dev->evt_pending, struct vhostio_event, node);
		if (e)
			ev = e->ev;
		if (dev->events_missed)
			ev.event |= __cpu_to_virtio32(true, VIRTIO_SCSI_T_EVENTS_MISSED);
		pushed = true;
		if (!write_event(vq, &req, &ev))
			continue;
		dev->events_missed = 0;
		if (e)
			free_event(dev, e);
	}
	if (pushed)
		vhostio_signal_guest(vq);
	if (!budget)
		vhostio_kick_queue(dev, VHOSTIO_VQ_EVT); /* the rest on the next pass */
}
