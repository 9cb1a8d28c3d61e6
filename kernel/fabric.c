// SPDX-License-Identifier: GPL-2.0
/*
 * The LIO fabric "vhost": the configfs tree that targetcli's /vhost and
 * rtslib expect of stock vhost_scsi, target/vhost/<wwn>/tpgt_N with
 * 'nexus', 'lun/lun_M' and 'attrib/fabric_prot_type'.  WWN names carry
 * the SCSI protocol of the emulated port in their prefix (naa. = SAS,
 * fc. = FCP, iqn. = iSCSI), and a TPG's nexus must use the same one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio_scsi.h>
#include <scsi/scsi_proto.h>
#include <target/target_core_base.h>
#include <target/target_core_fabric.h>

#include "dev.h"
#include "vhostio_scsi.h"

/* Commands a nexus can have in flight: a tag each (stock uses 128 per vq). */
#define VHOSTIO_SESSION_TAGS 1024

/* Every TPG, for SET_ENDPOINT's lookup by WWN, and the lock of that list. */
DEFINE_MUTEX(vhostio_tpgs_lock);
LIST_HEAD(vhostio_tpgs);

static const struct target_core_fabric_ops vhostio_fabric_ops;

static struct vhostio_tpg *vtpg(struct se_portal_group *se_tpg)
{
	return container_of(se_tpg, struct vhostio_tpg, se_tpg);
}

static const char *proto_prefix(u8 proto_id)
{
	switch (proto_id) {
	case SCSI_PROTOCOL_SAS:
		return "naa.";
	case SCSI_PROTOCOL_FCP:
		return "fc.";
	default:
		return "iqn.";
	}
}

/* The protocol a WWN or nexus name announces; -EINVAL for none. */
static int name_proto(const char *name)
{
	if (!strncmp(name, "naa.", 4))
		return SCSI_PROTOCOL_SAS;
	if (!strncmp(name, "fc.", 3))
		return SCSI_PROTOCOL_FCP;
	if (!strncmp(name, "iqn.", 4))
		return SCSI_PROTOCOL_ISCSI;
	return -EINVAL;
}

static char *vhostio_get_fabric_wwn(struct se_portal_group *se_tpg)
{
	return vtpg(se_tpg)->tport->name;
}

static u16 vhostio_get_tag(struct se_portal_group *se_tpg)
{
	return vtpg(se_tpg)->tag;
}

/* Demo mode: the one nexus sees every LUN, with no ACLs (as stock). */
static int vhostio_check_true(struct se_portal_group *se_tpg)
{
	return 1;
}

static int vhostio_check_false(struct se_portal_group *se_tpg)
{
	return 0;
}

static u32 vhostio_tpg_get_inst_index(struct se_portal_group *se_tpg)
{
	return 1;
}

static int vhostio_check_stop_free(struct se_cmd *se_cmd)
{
	return target_put_sess_cmd(se_cmd);
}

static void vhostio_release_cmd(struct se_cmd *se_cmd)
{
	target_free_tag(se_cmd->se_sess, se_cmd);
}

static u32 vhostio_sess_get_index(struct se_session *se_sess)
{
	return 0;
}

/* The data-out is in the command's SGL before submission. */
static int vhostio_write_pending(struct se_cmd *se_cmd)
{
	target_execute_cmd(se_cmd);
	return 0;
}

static void vhostio_set_default_node_attrs(struct se_node_acl *nacl)
{
}

static int vhostio_get_cmd_state(struct se_cmd *se_cmd)
{
	return 0;
}

/* The response goes back on the virtqueue the command came from, from the
 * device's worker (which has the owner's address space). */
static int vhostio_queue_data_in(struct se_cmd *se_cmd)
{
	vhostio_cmd_done(container_of(se_cmd, struct vhostio_scsi_cmd, se_cmd));
	return 0;
}

static int vhostio_queue_status(struct se_cmd *se_cmd)
{
	vhostio_cmd_done(container_of(se_cmd, struct vhostio_scsi_cmd, se_cmd));
	return 0;
}

static void vhostio_queue_tm_rsp(struct se_cmd *se_cmd)
{
	vhostio_cmd_done(container_of(se_cmd, struct vhostio_scsi_cmd, se_cmd));
}

/* The guest's request is still answered (VIRTIO_SCSI_S_ABORTED). */
static void vhostio_aborted_task(struct se_cmd *se_cmd)
{
	vhostio_cmd_aborted(container_of(se_cmd, struct vhostio_scsi_cmd, se_cmd));
}

/* ---- LUNs ---- */

static int vhostio_port_link(struct se_portal_group *se_tpg, struct se_lun *lun)
{
	struct vhostio_tpg *tpg = vtpg(se_tpg);

	mutex_lock(&tpg->lock);
	tpg->port_count++;
	if (tpg->dev)
		vhostio_queue_event(tpg->dev, tpg->tag, lun->unpacked_lun, VIRTIO_SCSI_EVT_RESET_RESCAN);
	mutex_unlock(&tpg->lock);
	return 0;
}

static void vhostio_port_unlink(struct se_portal_group *se_tpg, struct se_lun *lun)
{
	struct vhostio_tpg *tpg = vtpg(se_tpg);

	mutex_lock(&tpg->lock);
	tpg->port_count--;
	if (tpg->dev)
		vhostio_queue_event(tpg->dev, tpg->tag, lun->unpacked_lun, VIRTIO_SCSI_EVT_RESET_REMOVED);
	mutex_unlock(&tpg->lock);
}

/* ---- the nexus ---- */

static int make_nexus(struct vhostio_tpg *tpg, const char *name)
{
	struct vhostio_nexus *nexus;

	mutex_lock(&tpg->lock);
	if (tpg->nexus) {
		mutex_unlock(&tpg->lock);
		pr_err("%s/tpgt_%u already has a nexus\n", tpg->tport->name, tpg->tag);
		return -EEXIST;
	}
	nexus = kzalloc(sizeof(*nexus), GFP_KERNEL);
	if (!nexus) {
		mutex_unlock(&tpg->lock);
		return -ENOMEM;
	}
	nexus->se_sess = target_setup_session(&tpg->se_tpg, VHOSTIO_SESSION_TAGS,
					      sizeof(struct vhostio_scsi_cmd),
					      TARGET_PROT_NORMAL,
					      name, nexus, NULL);
	if (IS_ERR(nexus->se_sess)) {
		int ret = PTR_ERR(nexus->se_sess);

		kfree(nexus);
		mutex_unlock(&tpg->lock);
		return ret;
	}
	tpg->nexus = nexus;
	mutex_unlock(&tpg->lock);
	return 0;
}

static int drop_nexus(struct vhostio_tpg *tpg)
{
	struct vhostio_nexus *nexus;

	mutex_lock(&tpg->lock);
	nexus = tpg->nexus;
	if (!nexus) {
		mutex_unlock(&tpg->lock);
		return -ENODEV;
	}
	/* As stock: LUNs and an endpoint keep the nexus. */
	if (tpg->port_count || tpg->dev) {
		mutex_unlock(&tpg->lock);
		pr_err("%s/tpgt_%u: cannot drop the nexus with %d LUN(s)%s\n", tpg->tport->name,
		       tpg->tag, tpg->port_count, tpg->dev ? " and an endpoint" : "");
		return -EBUSY;
	}
	/* LIO may still be releasing the last commands of an endpoint. */
	target_stop_session(nexus->se_sess);
	target_wait_for_sess_cmds(nexus->se_sess);
	target_remove_session(nexus->se_sess);
	tpg->nexus = NULL;
	mutex_unlock(&tpg->lock);
	kfree(nexus);
	return 0;
}

static ssize_t vhostio_tpg_nexus_show(struct config_item *item, char *page)
{
	struct vhostio_tpg *tpg = vtpg(to_tpg(item));
	ssize_t ret = 0;

	mutex_lock(&tpg->lock);
	if (tpg->nexus)
		ret = sysfs_emit(page, "%s\n", tpg->nexus->se_sess->se_node_acl->initiatorname);
	mutex_unlock(&tpg->lock);
	return ret ? ret : -ENODEV;
}

static ssize_t vhostio_tpg_nexus_store(struct config_item *item, const char *page, size_t count)
{
	struct vhostio_tpg *tpg = vtpg(to_tpg(item));
	char name[VHOSTIO_SCSI_NAMELEN];
	char *p, *q;
	int ret;

	if (count >= sizeof(name) - 1) {
		pr_err("nexus name longer than %zu\n", sizeof(name) - 2);
		return -EINVAL;
	}
	memcpy(name, page, count);
	name[count] = '\0';
	p = strim(name);
	if (!strcmp(p, "NULL")) {
		ret = drop_nexus(tpg);
		return ret ? ret : count;
	}
	/* The name goes into the session and the logs: one printable word. */
	for (q = p; *q; q++) {
		if (!isgraph(*q)) {
			pr_err("nexus name has a space or control character at offset %td\n", q - p);
			return -EINVAL;
		}
	}
	if (name_proto(p) != tpg->tport->proto_id) {
		pr_err("nexus '%s' does not match %s: it must start with \"%s\"\n", p,
		       tpg->tport->name, proto_prefix(tpg->tport->proto_id));
		return -EINVAL;
	}
	ret = make_nexus(tpg, p);
	return ret ? ret : count;
}

CONFIGFS_ATTR(vhostio_tpg_, nexus);

static struct configfs_attribute *vhostio_tpg_attrs[] = {
	&vhostio_tpg_attr_nexus,
	NULL,
};

/* attrib/fabric_prot_type: accepted as stock does, T10-PI is not offered. */
static ssize_t vhostio_tpg_attrib_fabric_prot_type_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "0\n");
}

static ssize_t vhostio_tpg_attrib_fabric_prot_type_store(struct config_item *item,
							  const char *page, size_t count)
{
	unsigned long val;
	int ret = kstrtoul(page, 0, &val);

	if (ret)
		return ret;
	if (val != 0) {
		pr_err("fabric_prot_type %lu: T10-PI is not supported\n", val);
		return -EINVAL;
	}
	return count;
}

CONFIGFS_ATTR(vhostio_tpg_attrib_, fabric_prot_type);

static struct configfs_attribute *vhostio_tpg_attrib_attrs[] = {
	&vhostio_tpg_attrib_attr_fabric_prot_type,
	NULL,
};

/* ---- TPGs and WWNs ---- */

static struct se_portal_group *vhostio_make_tpg(struct se_wwn *wwn, const char *name)
{
	struct vhostio_tport *tport = container_of(wwn, struct vhostio_tport, wwn);
	struct vhostio_tpg *tpg;
	u16 tag;
	int ret;

	if (strncmp(name, "tpgt_", 5) || kstrtou16(name + 5, 10, &tag))
		return ERR_PTR(-EINVAL);
	tpg = kzalloc(sizeof(*tpg), GFP_KERNEL);
	if (!tpg)
		return ERR_PTR(-ENOMEM);
	mutex_init(&tpg->lock);
	INIT_LIST_HEAD(&tpg->node);
	tpg->tport = tport;
	tpg->tag = tag;
	ret = core_tpg_register(wwn, &tpg->se_tpg, tport->proto_id);
	if (ret < 0) {
		kfree(tpg);
		return ERR_PTR(ret);
	}
	mutex_lock(&vhostio_tpgs_lock);
	list_add_tail(&tpg->node, &vhostio_tpgs);
	mutex_unlock(&vhostio_tpgs_lock);
	return &tpg->se_tpg;
}

static void vhostio_drop_tpg(struct se_portal_group *se_tpg)
{
	struct vhostio_tpg *tpg = vtpg(se_tpg);

	mutex_lock(&vhostio_tpgs_lock);
	list_del(&tpg->node);
	mutex_unlock(&vhostio_tpgs_lock);
	/* configfs removed the LUNs first; an endpoint holds the TPG busy. */
	drop_nexus(tpg);
	core_tpg_deregister(se_tpg);
	kfree(tpg);
}

static struct se_wwn *vhostio_make_tport(struct target_fabric_configfs *tf,
					 struct config_group *group, const char *name)
{
	struct vhostio_tport *tport;
	int proto = name_proto(name);

	if (proto < 0) {
		pr_err("WWN '%s' must start with naa., fc. or iqn.\n", name);
		return ERR_PTR(-EINVAL);
	}
	if (strlen(name) >= VHOSTIO_SCSI_NAMELEN) {
		pr_err("WWN longer than %d\n", VHOSTIO_SCSI_NAMELEN - 1);
		return ERR_PTR(-EINVAL);
	}
	tport = kzalloc(sizeof(*tport), GFP_KERNEL);
	if (!tport)
		return ERR_PTR(-ENOMEM);
	tport->proto_id = proto;
	strscpy(tport->name, name, sizeof(tport->name));
	return &tport->wwn;
}

static void vhostio_drop_tport(struct se_wwn *wwn)
{
	kfree(container_of(wwn, struct vhostio_tport, wwn));
}

static ssize_t vhostio_wwn_version_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "vhostio vhost-scsi fabric " VHOSTIO_SCSI_VERSION "\n");
}

CONFIGFS_ATTR_RO(vhostio_wwn_, version);

static struct configfs_attribute *vhostio_wwn_attrs[] = {
	&vhostio_wwn_attr_version,
	NULL,
};

static const struct target_core_fabric_ops vhostio_fabric_ops = {
	.module = THIS_MODULE,
	.fabric_name = "vhost",
	.max_data_sg_nents = VHOSTIO_MAX_DATA_PAGES,
	.tpg_get_wwn = vhostio_get_fabric_wwn,
	.tpg_get_tag = vhostio_get_tag,
	.tpg_check_demo_mode = vhostio_check_true,
	.tpg_check_demo_mode_cache = vhostio_check_true,
	.tpg_check_demo_mode_write_protect = vhostio_check_false,
	.tpg_check_prod_mode_write_protect = vhostio_check_false,
	.tpg_get_inst_index = vhostio_tpg_get_inst_index,
	.check_stop_free = vhostio_check_stop_free,
	.release_cmd = vhostio_release_cmd,
	.sess_get_index = vhostio_sess_get_index,
	.write_pending = vhostio_write_pending,
	.set_default_node_attributes = vhostio_set_default_node_attrs,
	.get_cmd_state = vhostio_get_cmd_state,
	.queue_data_in = vhostio_queue_data_in,
	.queue_status = vhostio_queue_status,
	.queue_tm_rsp = vhostio_queue_tm_rsp,
	.aborted_task = vhostio_aborted_task,
	.fabric_make_wwn = vhostio_make_tport,
	.fabric_drop_wwn = vhostio_drop_tport,
	.fabric_make_tpg = vhostio_make_tpg,
	.fabric_drop_tpg = vhostio_drop_tpg,
	.fabric_post_link = vhostio_port_link,
	.fabric_pre_unlink = vhostio_port_unlink,
	.tfc_wwn_attrs = vhostio_wwn_attrs,
	.tfc_tpg_base_attrs = vhostio_tpg_attrs,
	.tfc_tpg_attrib_attrs = vhostio_tpg_attrib_attrs,
};

int vhostio_fabric_register(void)
{
	return target_register_template(&vhostio_fabric_ops);
}

void vhostio_fabric_unregister(void)
{
	target_unregister_template(&vhostio_fabric_ops);
}
