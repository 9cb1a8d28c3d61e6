// SPDX-License-Identifier: GPL-2.0
/*
 * vhostio's vhost-scsi fabric for Linux 6.1: module life and the misc
 * device /dev/vhost-scsi, with the userspace ABI of stock vhost_scsi
 * (<linux/vhost.h>), so that QEMU's vhost-scsi-pci, libvirt, targetcli
 * and vhostio-io use it unchanged.
 *
 * Here: ownership, features, the memory table, the rings' configuration
 * and endpoints (a device bound to the TPGs of one WWN); the virtqueues
 * and the command path are in io.c, the threads serving them in worker.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/sched/mm.h>
#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_scsi.h>
#include <target/target_core_base.h>
#include <target/target_core_fabric.h>

#include "dev.h"
#include "vhostio_scsi.h"

/* What this device offers.  Stock 6.1 also offers T10_PI and NOTIFY_ON_EMPTY. */
#define VHOSTIO_SCSI_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | \
			       (1ULL << VHOST_F_LOG_ALL) | \
			       (1ULL << VIRTIO_F_ANY_LAYOUT) | \
			       (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
			       (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
			       (1ULL << VIRTIO_SCSI_F_HOTPLUG))

/* The ABI version stock reports for VHOST_SCSI_GET_ABI_VERSION. */
#define VHOSTIO_SCSI_ABI_VERSION 1

static int vhostio_open(struct inode *inode, struct file *f)
{
	struct vhostio_dev *vs = kzalloc(sizeof(*vs), GFP_KERNEL);

	if (!vs)
		return -ENOMEM;
	mutex_init(&vs->ioctl_lock);
	init_rwsem(&vs->lock);
	init_waitqueue_head(&vs->inflight_wait);
	atomic_set(&vs->inflight, 0);
	atomic_long_set(&vs->bounce_bytes, 0);
	init_llist_head(&vs->evt_new);
	INIT_LIST_HEAD(&vs->evt_pending);
	atomic_set(&vs->evt_count, 0);
	atomic_set(&vs->evt_dropped, 0);
	f->private_data = vs;
	return 0;
}

/* Stop taking requests and wait for LIO to answer those it holds (their
 * answers still go into the rings).  Caller holds vs->lock; drops it
 * while waiting. */
static void quiesce(struct vhostio_dev *vs)
{
	vs->endpoint_set = false;
	up_write(&vs->lock);
	vhostio_wait_inflight(vs);
	down_write(&vs->lock);
}

/* Release every TPG the endpoint holds.  Caller holds vs->lock. */
static void endpoint_clear(struct vhostio_dev *vs)
{
	unsigned int i;

	for (i = 0; i < vs->n_tpgs; i++) {
		struct vhostio_tpg *tpg = vs->tpgs[i];

		mutex_lock(&tpg->lock);
		tpg->dev = NULL;
		mutex_unlock(&tpg->lock);
		target_undepend_item(&tpg->se_tpg.tpg_group.cg_item);
		vs->tpgs[i] = NULL;
	}
	vs->n_tpgs = 0;
	/* No TPG can queue an event any more: those of the old endpoint go. */
	vhostio_drop_events(vs);
	vs->endpoint_set = false;
	memset(vs->endpoint_wwpn, 0, sizeof(vs->endpoint_wwpn));
}

static void free_vqs(struct vhostio_dev *vs)
{
	unsigned int i;

	for (i = 0; i < VHOSTIO_MAX_VQS; i++) {
		if (vs->vqs[i])
			vhostio_vq_free(vs->vqs[i]);
		vs->vqs[i] = NULL;
	}
	kvfree(vs->mem);
	vs->mem = NULL;
	if (vs->log_ctx)
		eventfd_ctx_put(vs->log_ctx);
	vs->log_ctx = NULL;
	vs->log_base = 0;
}

static int vhostio_release(struct inode *inode, struct file *f)
{
	struct vhostio_dev *vs = f->private_data;

	mutex_lock(&vs->ioctl_lock);
	down_write(&vs->lock);
	quiesce(vs);
	endpoint_clear(vs);
	up_write(&vs->lock);
	/* After a grace period: LIO's last vhostio_cmd_done() may still be
	 * kicking a queue. */
	vhostio_workers_stop(vs);
	free_vqs(vs);
	mutex_unlock(&vs->ioctl_lock);
	if (vs->owner_mm)
		mmput(vs->owner_mm);
	kfree(vs);
	return 0;
}

/* The caller must own the device for everything but SET_OWNER. */
static int check_owner(struct vhostio_dev *vs)
{
	return vs->owner_mm == current->mm ? 0 : -EPERM;
}

static long set_owner(struct vhostio_dev *vs)
{
	int ret;

	if (vs->owner_mm)
		return -EBUSY;
	vs->owner_mm = get_task_mm(current);
	if (!vs->owner_mm)
		return -EINVAL;
	ret = vhostio_workers_init(vs);
	if (ret) {
		mmput(vs->owner_mm);
		vs->owner_mm = NULL;
	}
	return ret;
}

static long reset_owner(struct vhostio_dev *vs)
{
	quiesce(vs);
	endpoint_clear(vs);
	up_write(&vs->lock);
	vhostio_workers_stop(vs);
	down_write(&vs->lock);
	free_vqs(vs);
	mmput(vs->owner_mm);
	vs->owner_mm = NULL;
	vs->features = 0;
	vs->user_workers = false;
	return 0;
}

/*
 * Also while rings run: QEMU turns LOG_ALL on and off around a migration.
 * The rings' layout features are taken when each ring starts.
 */
static long set_features(struct vhostio_dev *vs, u64 features)
{
	if (features & ~VHOSTIO_SCSI_FEATURES)
		return -EOPNOTSUPP;
	if ((features & (1ULL << VHOST_F_LOG_ALL)) && vs->log_base &&
	    !vhostio_log_covers(vs, vs->log_base, vs->mem))
		return -EFAULT;
	vs->features = features;
	return 0;
}

/* VHOST_SET_LOG_BASE: the owner's dirty bitmap (see log.c). */
static long set_log_base(struct vhostio_dev *vs, u64 __user *argp)
{
	u64 base;

	if (copy_from_user(&base, argp, sizeof(base)))
		return -EFAULT;
	if (!vhostio_log_covers(vs, base, vs->mem))
		return -EFAULT;
	vs->log_base = base;
	return 0;
}

/* VHOST_SET_LOG_FD: an eventfd signalled after bits were set; -1 unbinds. */
static long set_log_fd(struct vhostio_dev *vs, int __user *argp)
{
	struct eventfd_ctx *ctx = NULL;
	int fd;

	if (get_user(fd, argp))
		return -EFAULT;
	if (fd != VHOST_FILE_UNBIND) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	if (vs->log_ctx)
		eventfd_ctx_put(vs->log_ctx);
	vs->log_ctx = ctx;
	return 0;
}

/* VHOST_SET_MEM_TABLE: the guest's memory as regions of the owner's. */
static long set_mem_table(struct vhostio_dev *vs, struct vhost_memory __user *um)
{
	struct vhost_memory_region *regions;
	struct vhio_memtable *mt;
	struct vhost_memory hdr;
	u32 i;
	int ret;

	if (copy_from_user(&hdr, um, sizeof(hdr)))
		return -EFAULT;
	if (hdr.padding)
		return -EOPNOTSUPP;
	if (hdr.nregions > VHIO_MEM_REGIONS_DEFAULT)
		return -E2BIG;
	regions = kvmalloc_array(hdr.nregions ? hdr.nregions : 1, sizeof(*regions), GFP_KERNEL);
	mt = kvzalloc(vhio_mem_bytes(hdr.nregions), GFP_KERNEL);
	if (!regions || !mt) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(regions, um->regions, hdr.nregions * sizeof(*regions))) {
		ret = -EFAULT;
		goto out;
	}
	for (i = 0; i < hdr.nregions; i++) {
		if (!access_ok(u64_to_user_ptr(regions[i].userspace_addr), regions[i].memory_size)) {
			ret = -EFAULT;
			goto out;
		}
	}
	ret = vhio_mem_build(mt, regions, hdr.nregions, VHIO_MEM_REGIONS_DEFAULT);
	if (ret)
		goto out;
	/* While logging, the bitmap must cover the new memory too. */
	if (vhostio_log_enabled(vs) && !vhostio_log_covers(vs, vs->log_base, mt)) {
		ret = -EFAULT;
		goto out;
	}
	swap(vs->mem, mt);
out:
	kvfree(mt);
	kvfree(regions);
	return ret;
}

struct vhostio_vq *vhostio_get_vq(struct vhostio_dev *vs, unsigned int index)
{
	struct vhostio_vq *vq;

	if (index >= VHOSTIO_MAX_VQS)
		return ERR_PTR(-ENOBUFS);
	if (vs->vqs[index])
		return vs->vqs[index];
	/* Allocated on first use: an idle device costs no per-queue memory. */
	vq = kzalloc(sizeof(*vq), GFP_KERNEL);
	if (!vq)
		return ERR_PTR(-ENOMEM);
	vq->out = kmalloc_array(VHOSTIO_MAX_SEGS, sizeof(*vq->out), GFP_KERNEL);
	vq->in = kmalloc_array(VHOSTIO_MAX_SEGS, sizeof(*vq->in), GFP_KERNEL);
	if (!vq->out || !vq->in) {
		kfree(vq->out);
		kfree(vq->in);
		kfree(vq);
		return ERR_PTR(-ENOMEM);
	}
	vq->dev = vs;
	vq->index = index;
	init_llist_head(&vq->done);
	init_llist_head(&vq->aborted);
	spin_lock_init(&vq->cmds_lock);
	INIT_LIST_HEAD(&vq->cmds);
	spin_lock_init(&vq->pool_lock);
	INIT_LIST_HEAD(&vq->pool);
	INIT_LIST_HEAD(&vq->tmf_wait);
	vhostio_worker_attach_default(vq);
	/* Complete before the fabric's event path can see it. */
	smp_store_release(&vs->vqs[index], vq);
	return vq;
}

/*
 * With a log set, whether it still covers every ring and the memory once
 * vq has these ring addresses (NULL: unchanged) and size.
 */
static bool log_covers_ring(struct vhostio_dev *vs, struct vhostio_vq *vq,
			    const struct vhost_vring_addr *addr, u32 num)
{
	struct vhost_vring_addr old_addr = vq->addr;
	bool old_set = vq->addr_set, ok;
	u32 old_num = vq->num;

	if (!vs->log_base)
		return true;
	if (addr) {
		vq->addr = *addr;
		vq->addr_set = true;
	}
	vq->num = num;
	ok = vhostio_log_covers(vs, vs->log_base, vs->mem);
	vq->addr = old_addr;
	vq->addr_set = old_set;
	vq->num = old_num;
	return ok;
}

/* The per-ring ioctls.  A ring is reconfigured only while it is stopped:
 * the workers are out (a pass holds vs->lock for reading), and a running
 * engine is stopped first, keeping its position. */
static long vring_ioctl(struct vhostio_dev *vs, unsigned int cmd, void __user *argp)
{
	struct vhost_vring_state st;
	struct vhost_vring_addr addr;
	struct vhost_vring_file vf;
	struct vhostio_vq *vq;
	struct file *kick;

	switch (cmd) {
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
		if (copy_from_user(&st, argp, sizeof(st)))
			return -EFAULT;
		vq = vhostio_get_vq(vs, st.index);
		if (IS_ERR(vq))
			return PTR_ERR(vq);
		if (cmd == VHOST_GET_VRING_BASE) {
			/* No new request from here on; answers still go in. */
			if (vq->running) {
				vq->base = vhio_vq_get_base(&vq->vq);
				vq->paused = true;
			}
			st.num = vq->base;
			return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
		}
		/* Rings change only with no endpoint: nothing in flight on them. */
		if (vs->endpoint_set || vq->running)
			return -EBUSY;
		if (cmd == VHOST_SET_VRING_NUM) {
			if (!st.num || st.num > VHIO_VQ_MAX_NUM || (st.num & (st.num - 1)))
				return -EINVAL;
			if (!log_covers_ring(vs, vq, NULL, st.num))
				return -EFAULT;
			vq->num = st.num;
		} else {
			if (st.num > 0xffff)
				return -EINVAL;
			vq->base = st.num;
		}
		return 0;
	case VHOST_SET_VRING_ADDR:
		if (copy_from_user(&addr, argp, sizeof(addr)))
			return -EFAULT;
		vq = vhostio_get_vq(vs, addr.index);
		if (IS_ERR(vq))
			return PTR_ERR(vq);
		if (addr.flags & ~(1U << VHOST_VRING_F_LOG))
			return -EOPNOTSUPP;
		/* As stock: refused here, not only when the ring first starts. */
		if ((addr.desc_user_addr & (VRING_DESC_ALIGN_SIZE - 1)) ||
		    (addr.avail_user_addr & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
		    (addr.used_user_addr & (VRING_USED_ALIGN_SIZE - 1)))
			return -EINVAL;
		/* A running ring keeps its place; QEMU sets the same addresses
		 * with the log flag on or off around a migration. */
		if (vq->running && (addr.desc_user_addr != vq->addr.desc_user_addr ||
				    addr.avail_user_addr != vq->addr.avail_user_addr ||
				    addr.used_user_addr != vq->addr.used_user_addr))
			return -EBUSY;
		if (!log_covers_ring(vs, vq, &addr, vq->num))
			return -EFAULT;
		vq->addr = addr;
		vq->addr_set = true;
		return 0;
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		if (copy_from_user(&vf, argp, sizeof(vf)))
			return -EFAULT;
		vq = vhostio_get_vq(vs, vf.index);
		if (IS_ERR(vq))
			return PTR_ERR(vq);
		if (cmd == VHOST_SET_VRING_CALL || cmd == VHOST_SET_VRING_ERR) {
			struct eventfd_ctx **slot = cmd == VHOST_SET_VRING_CALL ? &vq->call : &vq->err;
			struct eventfd_ctx *ctx = NULL;

			if (vf.fd != VHOST_FILE_UNBIND) {
				ctx = eventfd_ctx_fdget(vf.fd);
				if (IS_ERR(ctx))
					return PTR_ERR(ctx);
			}
			if (*slot)
				eventfd_ctx_put(*slot);
			*slot = ctx;
			return 0;
		}
		kick = NULL;
		if (vf.fd != VHOST_FILE_UNBIND) {
			kick = eventfd_fget(vf.fd);
			if (IS_ERR(kick))
				return PTR_ERR(kick);
		}
		vhostio_vq_set_kick(vq, kick);
		if (kick)
			vhostio_worker_auto(vq);
		return 0;
	}
	return -ENOTTY;
}

/*
 * Bind the device to every TPG of the WWN that has a nexus (ABI 1 ignores
 * vhost_tpgt, as stock does); configfs then keeps them until the endpoint
 * is cleared.
 */
static long set_endpoint(struct vhostio_dev *vs, const struct vhost_scsi_target *t)
{
	struct vhostio_tpg *tpg;
	unsigned int i;
	int ret = 0;

	if (vs->endpoint_set)
		return -EEXIST;
	mutex_lock(&vhostio_tpgs_lock);
	list_for_each_entry(tpg, &vhostio_tpgs, node) {
		mutex_lock(&tpg->lock);
		if (strcmp(tpg->tport->name, t->vhost_wwpn) || !tpg->nexus) {
			mutex_unlock(&tpg->lock);
			continue;
		}
		if (tpg->dev) {
			mutex_unlock(&tpg->lock);
			ret = -EBUSY;
			break;
		}
		if (vs->n_tpgs == VHOSTIO_ENDPOINT_TPGS) {
			mutex_unlock(&tpg->lock);
			ret = -ENOSPC;
			break;
		}
		ret = target_depend_item(&tpg->se_tpg.tpg_group.cg_item);
		if (ret) {
			mutex_unlock(&tpg->lock);
			break;
		}
		tpg->dev = vs;
		vs->tpgs[vs->n_tpgs++] = tpg;
		mutex_unlock(&tpg->lock);
	}
	mutex_unlock(&vhostio_tpgs_lock);
	if (!ret && !vs->n_tpgs)
		ret = -ENODEV; /* no TPG with a nexus under that WWN */
	if (ret) {
		endpoint_clear(vs);
		return ret;
	}
	memcpy(vs->endpoint_wwpn, t->vhost_wwpn, sizeof(vs->endpoint_wwpn));
	vs->endpoint_set = true;
	/* Requests queued before the endpoint was there. */
	for (i = 0; i < VHOSTIO_MAX_VQS; i++)
		if (vs->vqs[i])
			vhostio_kick_queue(vs, i);
	return 0;
}

static long clear_endpoint(struct vhostio_dev *vs, const struct vhost_scsi_target *t)
{
	unsigned int i;

	if (!vs->endpoint_set)
		return 0;
	if (strcmp(vs->endpoint_wwpn, t->vhost_wwpn))
		return -EINVAL;
	/* Everything LIO holds is answered before the TPGs go. */
	quiesce(vs);
	for (i = 0; i < VHOSTIO_MAX_VQS; i++) {
		if (vs->vqs[i]) {
			vhostio_vq_stop(vs->vqs[i]);
			vhostio_pool_drain(vs->vqs[i]);
		}
	}
	endpoint_clear(vs);
	return 0;
}

static long scsi_target_ioctl(struct vhostio_dev *vs, unsigned int cmd, void __user *argp)
{
	struct vhost_scsi_target t;

	if (copy_from_user(&t, argp, sizeof(t)))
		return -EFAULT;
	if (t.reserved)
		return -EOPNOTSUPP;
	/* A name that fills the field is not terminated: no WWN matches it. */
	if (strnlen(t.vhost_wwpn, sizeof(t.vhost_wwpn)) == sizeof(t.vhost_wwpn))
		return -EINVAL;
	return cmd == VHOST_SCSI_SET_ENDPOINT ? set_endpoint(vs, &t) : clear_endpoint(vs, &t);
}

static long vhostio_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct vhostio_dev *vs = f->private_data;
	void __user *argp = (void __user *)arg;
	u64 __user *featurep = argp;
	u64 features = VHOSTIO_SCSI_FEATURES;
	int abi = VHOSTIO_SCSI_ABI_VERSION;
	u32 events;
	long ret;

	/* Needs no owner, as with stock. */
	if (cmd == VHOST_GET_FEATURES)
		return copy_to_user(featurep, &features, sizeof(features)) ? -EFAULT : 0;
	if (cmd == VHOST_SCSI_GET_ABI_VERSION)
		return copy_to_user(argp, &abi, sizeof(abi)) ? -EFAULT : 0;

	mutex_lock(&vs->ioctl_lock);
	down_write(&vs->lock);
	if (cmd == VHOST_SET_OWNER) {
		ret = set_owner(vs);
		goto out;
	}
	ret = check_owner(vs);
	if (ret)
		goto out;
	switch (cmd) {
	case VHOST_RESET_OWNER:
		ret = reset_owner(vs);
		break;
	case VHOST_SET_FEATURES:
		ret = copy_from_user(&features, featurep, sizeof(features)) ? -EFAULT
									     : set_features(vs, features);
		break;
	case VHOST_SCSI_SET_ENDPOINT:
	case VHOST_SCSI_CLEAR_ENDPOINT:
		ret = scsi_target_ioctl(vs, cmd, argp);
		break;
	case VHOST_SCSI_SET_EVENTS_MISSED:
		ret = get_user(events, (u32 __user *)argp);
		if (!ret) {
			/* A flag, as stock's bool: GET reads back 0 or 1. */
			vs->events_missed = !!events;
			vhostio_kick_queue(vs, VHOSTIO_VQ_EVT);
		}
		break;
	case VHOST_SCSI_GET_EVENTS_MISSED:
		ret = put_user(vs->events_missed, (u32 __user *)argp);
		break;
	case VHOST_SET_MEM_TABLE:
		ret = set_mem_table(vs, argp);
		break;
	case VHOST_SET_LOG_BASE:
		ret = set_log_base(vs, argp);
		break;
	case VHOST_SET_LOG_FD:
		ret = set_log_fd(vs, argp);
		break;
	case VHOSTIO_NEW_WORKER:
	case VHOSTIO_FREE_WORKER:
	case VHOSTIO_ATTACH_VRING_WORKER:
	case VHOSTIO_GET_VRING_WORKER:
		ret = vhostio_worker_ioctl(vs, cmd, argp);
		break;
	default:
		ret = vring_ioctl(vs, cmd, argp);
		break;
	}
out:
	up_write(&vs->lock);
	/* Workers freed or left without rings stop now, the lock dropped. */
	vhostio_workers_reap(vs);
	mutex_unlock(&vs->ioctl_lock);
	return ret;
}

static const struct file_operations vhostio_fops = {
	.owner = THIS_MODULE,
	.open = vhostio_open,
	.release = vhostio_release,
	.unlocked_ioctl = vhostio_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vhostio_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vhost-scsi",
	.fops = &vhostio_fops,
};

/*
 * Stock vhost_scsi and this module claim the same names (/dev/vhost-scsi,
 * the fabric "vhost"), and LIO does not check for a second "vhost"
 * template: refuse to load beside it, rather than collide.  (The other
 * way round, stock's misc_register() finds the name taken and fails.)
 */
static bool stock_vhost_scsi_loaded(void)
{
	struct path path;

	if (kern_path("/sys/module/vhost_scsi", LOOKUP_FOLLOW, &path))
		return false;
	path_put(&path);
	return true;
}

/* <debugfs>/vhostio_scsi/: statistics for tests and tuning, not an ABI. */
static struct dentry *vhostio_debugfs;

static int bounce_full_get(void *data, u64 *val)
{
	*val = atomic64_read(&vhostio_bounce_full);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(bounce_full_fops, bounce_full_get, NULL, "%llu\n");

static void debugfs_init(void)
{
	vhostio_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file_unsafe("bounce_full", 0444, vhostio_debugfs, NULL, &bounce_full_fops);
	debugfs_create_u64("bounce_peak_bytes", 0644, vhostio_debugfs, &vhostio_bounce_peak);
}

static int __init vhostio_scsi_init(void)
{
	int ret;

	if (stock_vhost_scsi_loaded()) {
		pr_err("the kernel's vhost_scsi is loaded and owns /dev/vhost-scsi and the fabric \"vhost\": unload it first (rmmod vhost_scsi)\n");
		return -EBUSY;
	}
	ret = misc_register(&vhostio_misc);
	if (ret) {
		pr_err("cannot register /dev/vhost-scsi: %d\n", ret);
		return ret;
	}
	ret = vhostio_fabric_register();
	if (ret) {
		pr_err("cannot register the fabric \"vhost\": %d\n", ret);
		misc_deregister(&vhostio_misc);
		return ret;
	}
	debugfs_init();
	pr_info("vhost-scsi fabric " VHOSTIO_SCSI_VERSION " ready: /dev/vhost-scsi, configfs target/vhost\n");
	return 0;
}

static void __exit vhostio_scsi_exit(void)
{
	debugfs_remove_recursive(vhostio_debugfs);
	vhostio_fabric_unregister();
	misc_deregister(&vhostio_misc);
}

module_init(vhostio_scsi_init);
module_exit(vhostio_scsi_exit);
MODULE_DESCRIPTION("vhostio vhost-scsi fabric (drop-in for vhost_scsi on Linux 6.1)");
MODULE_LICENSE("GPL");
MODULE_VERSION(VHOSTIO_SCSI_VERSION);
