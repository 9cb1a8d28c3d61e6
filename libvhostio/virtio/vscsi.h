/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio-scsi request/response encoding, apart from the rings so the unit
 * tests can check it byte by byte. */
#ifndef VHOSTIO_VSCSI_H
#define VHOSTIO_VSCSI_H

#include <stdint.h>
#include <linux/virtio_scsi.h>

#include <vhostio/initiator.h>

/* Flat space addressing (SAM-5) in byte 2's top bits: 14-bit LUNs. */
#define VSCSI_MAX_LUN 0x3fffu
#define VSCSI_MAX_TPGT 255u /* vhost_scsi indexes its TPGs by lun[1] */

_Static_assert(sizeof(struct virtio_scsi_cmd_req) == 51, "virtio_scsi_cmd_req layout");
_Static_assert(sizeof(struct virtio_scsi_cmd_resp) == 108, "virtio_scsi_cmd_resp layout");
_Static_assert(sizeof(struct virtio_scsi_event) == 16, "virtio_scsi_event layout");

void vscsi_encode_lun(uint8_t out[8], uint8_t tpgt, uint16_t lun);
/* LUN of an 8-byte address; *tpgt gets byte 1. */
uint16_t vscsi_decode_lun(const uint8_t in[8], uint8_t *tpgt);
/* 0, or -EINVAL for a LUN or CDB the transport can't carry. */
int vscsi_encode_cmd(struct virtio_scsi_cmd_req *req, uint8_t tpgt, uint64_t tag,
		     const struct vhostio_scsi_cmd *cmd);
void vscsi_decode_resp(const struct virtio_scsi_cmd_resp *resp, struct vhostio_scsi_cmd *cmd);
/* A TMF request; 'tag' is the task it names (ABORT TASK, QUERY TASK). */
void vscsi_encode_tmf(struct virtio_scsi_ctrl_tmf_req *req, uint8_t tpgt, uint32_t subtype, uint16_t lun,
		      uint64_t tag);
void vscsi_encode_lun_reset(struct virtio_scsi_ctrl_tmf_req *req, uint8_t tpgt, uint16_t lun, uint64_t tag);
void vscsi_decode_event(const struct virtio_scsi_event *in, struct vhostio_scsi_event *out);

#endif
