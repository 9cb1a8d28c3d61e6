/* virtio-scsi headers byte by byte: 51/108-byte layouts, the LUN address
 * (1, tpgt, 0x4000|lun flat space), little-endian tag, CDB and task
 * attribute; response, TMF and event decoding. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"
#include "vscsi.h"

int main(void)
{
	uint8_t lun[8];
	vscsi_encode_lun(lun, 3, 0x123);
	static const uint8_t want[8] = { 1, 3, 0x41, 0x23, 0, 0, 0, 0 };
	CHECK(!memcmp(lun, want, 8), "lun 0x123: %02x %02x %02x %02x", lun[0], lun[1], lun[2], lun[3]);
	vscsi_encode_lun(lun, 1, 0);
	CHECK(lun[2] == 0x40 && lun[3] == 0, "lun 0: %02x %02x", lun[2], lun[3]);
	vscsi_encode_lun(lun, 255, VSCSI_MAX_LUN);
	uint8_t tpgt = 0;
	CHECK(lun[2] == 0x7f && lun[3] == 0xff && vscsi_decode_lun(lun, &tpgt) == VSCSI_MAX_LUN && tpgt == 255,
	      "max lun");

	struct virtio_scsi_cmd_req req;
	struct vhostio_scsi_cmd cmd = { .lun = 7, .cdb_len = 10, .task_attr = VIRTIO_SCSI_S_ORDERED };
	static const uint8_t cdb[10] = { OP_READ_10, 0, 0, 0, 0x10, 0, 0, 0, 8, 0 };
	memcpy(cmd.cdb, cdb, 10);
	memset(&req, 0x5a, sizeof(req));
	CHECK(vscsi_encode_cmd(&req, 1, 0x0102030405060708ull, &cmd) == 0, "encode");
	const uint8_t *r = (const uint8_t *)&req;
	static const uint8_t hdr[19] = { 1, 1, 0x40, 7, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1, VIRTIO_SCSI_S_ORDERED, 0, 0 };
	CHECK(!memcmp(r, hdr, 19), "lun/tag/attr bytes wrong");
	CHECK(offsetof(struct virtio_scsi_cmd_req, cdb) == 19 && !memcmp(r + 19, cdb, 10), "cdb at 19");
	for (int i = 29; i < 51; i++)
		CHECK(r[i] == 0, "cdb tail byte %d not zero", i);
	cmd.lun = VSCSI_MAX_LUN + 1;
	CHECK(vscsi_encode_cmd(&req, 1, 1, &cmd) == -EINVAL, "lun over 14 bits");
	cmd.lun = 0;
	cmd.cdb_len = 33;
	CHECK(vscsi_encode_cmd(&req, 1, 1, &cmd) == -EINVAL, "33-byte cdb");
	cmd.cdb_len = 0;
	CHECK(vscsi_encode_cmd(&req, 1, 1, &cmd) == -EINVAL, "empty cdb");

	struct virtio_scsi_cmd_resp resp;
	memset(&resp, 0, sizeof(resp));
	uint8_t *p = (uint8_t *)&resp;
	p[0] = 18;           /* sense_len le32 */
	p[4] = 0x00;
	p[5] = 0x0e;         /* resid 3584 */
	p[10] = 2;           /* status: CHECK CONDITION */
	p[11] = VIRTIO_SCSI_S_OK;
	p[12] = 0x70;
	p[14] = 5;
	memset(&cmd, 0xee, sizeof(cmd));
	vscsi_decode_resp(&resp, &cmd);
	CHECK(cmd.status == 2 && cmd.response == 0 && cmd.residual == 3584 && cmd.sense_len == 18, "decode resp");
	CHECK(cmd.sense[0] == 0x70 && cmd.sense[2] == 5, "sense copied");
	p[0] = 200; /* a bogus length is clamped */
	vscsi_decode_resp(&resp, &cmd);
	CHECK(cmd.sense_len == 96, "sense_len clamped to %u", cmd.sense_len);

	struct virtio_scsi_ctrl_tmf_req tmf;
	vscsi_encode_lun_reset(&tmf, 2, 5, 9);
	const uint8_t *t = (const uint8_t *)&tmf;
	static const uint8_t tmf_want[24] = { 0, 0, 0, 0, 5, 0, 0, 0, 1, 2, 0x40, 5, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0 };
	CHECK(sizeof(tmf) == 24 && !memcmp(t, tmf_want, 24), "LUN RESET request bytes");
	/* ABORT TASK names a queue-1 command by its tag, little endian. */
	vscsi_encode_tmf(&tmf, 1, VHOSTIO_VIRTIO_T_TMF_ABORT_TASK, 300, (1ull << 48) | 0x0102);
	static const uint8_t abort_want[24] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x41, 0x2c, 0, 0, 0, 0,
						0x02, 0x01, 0, 0, 0, 0, 1, 0 };
	CHECK(!memcmp(t, abort_want, 24), "ABORT TASK request bytes");
	/* The public subtypes are the wire's. */
	CHECK(VHOSTIO_VIRTIO_T_TMF_ABORT_TASK_SET == VIRTIO_SCSI_T_TMF_ABORT_TASK_SET &&
	      VHOSTIO_VIRTIO_T_TMF_CLEAR_TASK_SET == VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET &&
	      VHOSTIO_VIRTIO_T_TMF_I_T_NEXUS_RESET == VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET &&
	      VHOSTIO_VIRTIO_T_TMF_LOGICAL_UNIT_RESET == VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET &&
	      VHOSTIO_VIRTIO_T_TMF_QUERY_TASK == VIRTIO_SCSI_T_TMF_QUERY_TASK &&
	      VHOSTIO_VIRTIO_T_TMF_QUERY_TASK_SET == VIRTIO_SCSI_T_TMF_QUERY_TASK_SET &&
	      VHOSTIO_VIRTIO_S_FUNCTION_COMPLETE == VIRTIO_SCSI_S_OK, "TMF constants");

	struct virtio_scsi_event ev;
	memset(&ev, 0, sizeof(ev));
	uint8_t *e = (uint8_t *)&ev;
	e[0] = 1;
	e[3] = 0x80; /* TRANSPORT_RESET | EVENTS_MISSED */
	vscsi_encode_lun(ev.lun, 4, 9);
	e[12] = 2;   /* REMOVED */
	struct vhostio_scsi_event out;
	vscsi_decode_event(&ev, &out);
	CHECK(out.event == (VIRTIO_SCSI_T_TRANSPORT_RESET | VIRTIO_SCSI_T_EVENTS_MISSED) && out.tpgt == 4 &&
	      out.lun == 9 && out.reason == VIRTIO_SCSI_EVT_RESET_REMOVED, "event decode");
	return test_exit();
}
