/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhostio's vhost-scsi fabric for Linux 6.1: shared declarations.
 *
 * Two halves meet here: the LIO fabric (fabric.c: the configfs tree
 * target/vhost/<wwn>/tpgt_N with its nexus and LUNs, as stock vhost_scsi
 * lays it out) and the misc device /dev/vhost-scsi (main.c: the vhost
 * ioctls a QEMU or vhostio-io owner drives).  An endpoint ties one open
 * device to the TPGs of one WWN.
 */
#ifndef VHOSTIO_SCSI_H
#define VHOSTIO_SCSI_H

#include <linux/list.h>
#include <linux/llist.h>
#include <linux/uio.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/scatterlist.h>
#include <target/target_core_base.h>

#define VHOSTIO_SCSI_VERSION "0.1"
#define VHOSTIO_SCSI_NAMELEN 256

struct vhostio_dev;

/* One WWN directory, target/vhost/<name>. */
struct vhostio_tport {
	u8 proto_id;                  /* SCSI_PROTOCOL_* from the name's prefix */
	char name[VHOSTIO_SCSI_NAMELEN];
	struct se_wwn wwn;
};

/* The one initiator nexus a TPG may have (stock allows one). */
struct vhostio_nexus {
	struct se_session *se_sess;
};

/* One TPG, target/vhost/<wwn>/tpgt_<tag>. */
struct vhostio_tpg {
	u16 tag;
	struct vhostio_tport *tport;
	struct se_portal_group se_tpg;
	/* Guards nexus, port_count and dev (the endpoint using it). */
	struct mutex lock;
	struct vhostio_nexus *nexus;
	int port_count;               /* LUNs linked */
	struct vhostio_dev *dev;      /* the /dev/vhost-scsi endpoint, or NULL */
	struct list_head node;        /* vhostio_tpgs */
};

/* Every TPG, for SET_ENDPOINT's lookup by WWN (under vhostio_tpgs_lock). */
extern struct mutex vhostio_tpgs_lock;
extern struct list_head vhostio_tpgs;

struct vhostio_vq;
struct vhostio_tmf_group;
struct vhostio_orphan;

/* The command a session's tag pool holds (one per tag, reset on use). */
struct vhostio_scsi_cmd {
	struct se_cmd se_cmd;
	unsigned char sense[TRANSPORT_SENSE_BUFFER];
	struct vhostio_vq *vq;        /* answered on the queue it came from */
	u16 head;                     /* its descriptor chain */
	u32 data_len;                 /* bytes after the request/response headers */
	u32 bounce;                   /* bytes of bounce memory accounted to the device */
	struct scatterlist *sgl;      /* the bounce buffer LIO reads or fills */
	unsigned int sgl_nents;
	struct vhostio_orphan *orphan; /* device-writable segments (response, data-in),
					* and what is left to answer if LIO aborts it */
	bool tmf;                     /* a task management request of the control queue */
	struct vhostio_tmf_group *group; /* an ABORT TASK the fabric sent for a task-set TMF */
	struct list_head node;        /* a SCSI command on its device's cmds while LIO has it */
	struct llist_node done;       /* on vq->done once LIO has answered */
};

int vhostio_fabric_register(void);
void vhostio_fabric_unregister(void);

/* io.c: LIO answered a command (queue_data_in/queue_status/queue_tm_rsp). */
void vhostio_cmd_done(struct vhostio_scsi_cmd *cmd);
/* io.c: LIO aborted a command and will release it itself (aborted_task). */
void vhostio_cmd_aborted(struct vhostio_scsi_cmd *cmd);

#endif
