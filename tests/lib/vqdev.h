/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A tiny in-process "device side" for the virtqueue tests: it consumes the
 * avail ring the way vhost does and produces used entries. */
#ifndef VHOSTIO_TEST_VQDEV_H
#define VHOSTIO_TEST_VQDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtqueue.h"

struct vqdev_seg {
	void *addr;
	uint32_t len;
	bool write;
};

struct vqdev_chain {
	uint16_t head;
	bool indirect;
	unsigned n;
	struct vqdev_seg seg[VQ_MAX_SEGS];
};

struct vqdev {
	struct vq *vq;          /* only its ring pointers and num are read */
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled;     /* used idx at the last call decision */
	bool event_idx;
	unsigned errors;        /* malformed chains seen */
};

void vqdev_init(struct vqdev *d, struct vq *vq, bool event_idx);
/* 1 and the next chain, 0 if the driver published nothing new. */
int vqdev_pop(struct vqdev *d, struct vqdev_chain *c);
/* Used entry for 'head', published with a release store. */
void vqdev_push(struct vqdev *d, uint16_t head, uint32_t len);
/* Whether the driver wants a call for what was pushed since the last decision. */
bool vqdev_should_call(struct vqdev *d);
/* EVENT_IDX: "kick me once you publish past idx". */
void vqdev_set_avail_event(struct vqdev *d, uint16_t idx);
/* Without EVENT_IDX: VRING_USED_F_NO_NOTIFY on or off. */
void vqdev_set_no_notify(struct vqdev *d, bool on);

#endif
