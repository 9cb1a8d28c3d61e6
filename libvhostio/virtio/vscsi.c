/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vscsi.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

void vscsi_encode_lun(uint8_t out[8], uint8_t tpgt, uint16_t lun)
{
	memset(out, 0, 8);
	out[0] = 1; /* virtio-scsi: a single-level LUN behind target lun[1] */
	out[1] = tpgt;
	out[2] = (uint8_t)(0x40 | (lun >> 8 & 0x3f));
	out[3] = (uint8_t)lun;
}

uint16_t vscsi_decode_lun(const uint8_t in[8], uint8_t *tpgt)
{
	if (tpgt)
		*tpgt = in[1];
	return (uint16_t)(((in[2] << 8) | in[3]) & VSCSI_MAX_LUN);
}

int vscsi_encode_cmd(struct virtio_scsi_cmd_req *req, uint8_t tpgt, uint64_t tag,
		     const struct vhostio_scsi_cmd *cmd)
{
	if (cmd->lun > VSCSI_MAX_LUN || cmd->cdb_len == 0 || cmd->cdb_len > VIRTIO_SCSI_CDB_SIZE)
		return -EINVAL;
	memset(req, 0, sizeof(*req));
	vscsi_encode_lun(req->lun, tpgt, cmd->lun);
	req->tag = htole64(tag);
	req->task_attr = cmd->task_attr;
	memcpy(req->cdb, cmd->cdb, cmd->cdb_len);
	return 0;
}

void vscsi_decode_resp(const struct virtio_scsi_cmd_resp *resp, struct vhostio_scsi_cmd *cmd)
{
	uint32_t sl = le32toh(resp->sense_len);
	if (sl > sizeof(cmd->sense))
		sl = sizeof(cmd->sense);
	cmd->response = resp->response;
	cmd->status = resp->status;
	cmd->residual = le32toh(resp->resid);
	cmd->sense_len = (uint16_t)sl;
	memcpy(cmd->sense, resp->sense, sl);
}

void vscsi_encode_tmf(struct virtio_scsi_ctrl_tmf_req *req, uint8_t tpgt, uint32_t subtype, uint16_t lun,
		      uint64_t tag)
{
	memset(req, 0, sizeof(*req));
	req->type = htole32(VIRTIO_SCSI_T_TMF);
	req->subtype = htole32(subtype);
	vscsi_encode_lun(req->lun, tpgt, lun);
	req->tag = htole64(tag);
}

void vscsi_encode_lun_reset(struct virtio_scsi_ctrl_tmf_req *req, uint8_t tpgt, uint16_t lun, uint64_t tag)
{
	vscsi_encode_tmf(req, tpgt, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, lun, tag);
}

void vscsi_decode_event(const struct virtio_scsi_event *in, struct vhostio_scsi_event *out)
{
	uint8_t tpgt;
	memset(out, 0, sizeof(*out));
	out->event = le32toh(in->event);
	out->lun = vscsi_decode_lun(in->lun, &tpgt);
	out->tpgt = tpgt;
	out->reason = le32toh(in->reason);
}
