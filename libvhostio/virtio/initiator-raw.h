/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test hook, not exported from libvhostio.so: raw access to one of an
 * initiator's virtqueues, for tools built against vhostio_internal that
 * write malformed descriptor chains on purpose (tests/vm/tools/vhostio-io-hostile.c).
 * Whoever uses it owns that queue: the library's own calls on it are off.
 */
#ifndef VHOSTIO_INITIATOR_RAW_H
#define VHOSTIO_INITIATOR_RAW_H

#include <vhostio/initiator.h>

#include "virtqueue.h"

/* vhost vq index: 0 control, 1 event, 2.. request queues. */
struct vhostio_raw_vq {
	struct vq *vq;
	int kick_fd;
	int call_fd;
};

/* 0, or -EINVAL for an index past the last queue. */
int vhostio_initiator_raw_vq(struct vhostio_initiator *ini, unsigned idx, struct vhostio_raw_vq *out);

/* The /dev/vhost-scsi fd, for ioctls the library does not make
 * (tests/vm/tools/dirty-log.c, vhostio-io-evtctl.c). */
int vhostio_initiator_raw_fd(const struct vhostio_initiator *ini);
/* The arena: the one memory region, identity mapped (guest address = ours). */
void vhostio_initiator_raw_arena(const struct vhostio_initiator *ini, void **base, size_t *size);

#endif
