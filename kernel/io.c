// SPDX-License-Identifier: GPL-2.0
/*
 * The data path: a queue's worker (worker.c), in the owner's address
 * space, takes its kicks, pops requests with the virtqueue engine
 * (vring.c), copies data-out into a buffer of kernel pages and submits
 * the command to LIO; LIO's answers come back through vhostio_cmd_done()
 * from any context onto the queue the command came from, and the queue's
 * worker writes response and data-in into the guest's buffers, pushes
 * them used and signals the call eventfd.
 *
 * Data is bounced, not pinned: a buffer of any alignment or size (up to
 * what LIO accepts) works, memory is taken per command as it comes (from a
 * small per-queue pool of pages first), and nothing of the guest's is
 * mapped while LIO holds a command.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_scsi.h>
#include <scsi/scsi_proto.h>
#include <target/target_core_base.h>
#include <target/target_core_fabric.h>

#include "dev.h"

/* Requests one queue may take per pass before the others get a turn. */
#define VHOSTIO_BUDGET 256

/*
 * Bounce memory is allocated per command as requests come; this bounds
 * what one device (one guest) holds at a time.  Past it a request is
 * answered TASK SET FULL at once: the guest's SCSI layer requeues it (and
 * lowers its queue depth), nothing is lost and nothing waits unseen by
 * task management.  One command is always let in, so any size up to the
 * per-request cap makes progress.  0: no bound.
 */
unsigned int vhostio_max_bounce_mb = 256;
module_param_named(max_bounce_mb, vhostio_max_bounce_mb, uint, 0644);
MODULE_PARM_DESC(max_bounce_mb, "MiB of bounce buffers one /dev/vhost-scsi open may hold (0: no limit; default 256)");

/* For tests and tuning (debugfs, main.c): requests answered TASK SET FULL
 * for bounce memory, and the most one device held (writable, to reset). */
atomic64_t vhostio_bounce_full = ATOMIC64_INIT(0);
u64 vhostio_bounce_peak;

/*
 * The ring's indexes, flags and event fields are 16-bit words the guest
 * reads and writes while we do: each is accessed with one load or store.
 * copy_{from,to}_user may move bytes one at a time (rep movsb), and a torn
 * avail->idx read across a 256 boundary showed as the index run 256 past
 * the ring (vm/fabric-workers, busy polling, ~4% of runs).
 */
static int vq_read(void *priv, void *dst, u64 uaddr, size_t len)
{
	if (len == sizeof(u16))
		return get_user(*(u16 *)dst, (u16 __user *)u64_to_user_ptr(uaddr));
	return copy_from_user(dst, u64_to_user_ptr(uaddr), len) ? -EFAULT : 0;
}

/* The engine writes only the used ring. */
static int vq_write(void *priv, u64 uaddr, const void *src, size_t len)
{
	struct vhostio_vq *vq = priv;

	if (len == sizeof(u16)) {
		if (put_user(*(const u16 *)src, (u16 __user *)u64_to_user_ptr(uaddr)))
			return -EFAULT;
	} else if (copy_to_user(u64_to_user_ptr(uaddr), src, len)) {
		return -EFAULT;
	}
	if (vhostio_log_enabled(vq->dev))
		vhostio_log_used(vq, uaddr, len);
	return 0;
}

static const struct vhio_vq_ops vq_ops = {
	.read = vq_read,
	.write = vq_write,
};

/* ---- kicks ---- */

static int kick_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct vhostio_vq *vq = container_of(wait, struct vhostio_vq, wait);

	if (key && !(key_to_poll(key) & EPOLLIN))
		return 0;
	vhostio_kick_vq(vq);
	return 0;
}

static void kick_queue_proc(struct file *file, wait_queue_head_t *wqh, poll_table *pt)
{
	struct vhostio_vq *vq = container_of(pt, struct vhostio_vq, pt);

	vq->wqh = wqh;
	add_wait_queue(wqh, &vq->wait);
}

static void kick_unpoll(struct vhostio_vq *vq)
{
	if (vq->wqh) {
		remove_wait_queue(vq->wqh, &vq->wait);
		vq->wqh = NULL;
	}
}

int vhostio_vq_set_kick(struct vhostio_vq *vq, struct file *kick)
{
	__poll_t mask;

	kick_unpoll(vq);
	if (vq->kick)
		fput(vq->kick);
	vq->kick = kick;
	if (!kick)
		return 0;
	init_waitqueue_func_entry(&vq->wait, kick_wakeup);
	init_poll_funcptr(&vq->pt, kick_queue_proc);
	mask = vfs_poll(kick, &vq->pt);
	if (mask & EPOLLIN)
		vhostio_kick_vq(vq);
	return 0;
}

void vhostio_vq_stop(struct vhostio_vq *vq)
{
	if (vq->running)
		vq->base = vhio_vq_get_base(&vq->vq);
	vq->running = false;
	vq->paused = false;
}

void vhostio_vq_free(struct vhostio_vq *vq)
{
	vhostio_vq_set_kick(vq, NULL);
	if (vq->call)
		eventfd_ctx_put(vq->call);
	if (vq->err)
		eventfd_ctx_put(vq->err);
	vhostio_pool_drain(vq);
	kfree(vq->out);
	kfree(vq->in);
	kfree(vq);
}

/* First use with an endpoint and a complete configuration: start the engine. */
static bool vq_ready(struct vhostio_vq *vq)
{
	struct vhostio_dev *dev = vq->dev;
	struct vhio_vq_config cfg = {
		.num = vq->num,
		.index = vq->index,
		.features = dev->features,
		.desc = vq->addr.desc_user_addr,
		.avail = vq->addr.avail_user_addr,
		.used = vq->addr.used_user_addr,
		.last_avail_idx = vq->base,
	};

	/* No endpoint (never set, or being cleared), or the owner asked for the
	 * ring's position: no new request. */
	if (!dev->endpoint_set || vq->paused)
		return false;
	if (vq->running)
		return !vhio_vq_broken(&vq->vq);
	if (!vq->num || !vq->addr_set || !dev->mem)
		return false;
	if (vhio_vq_setup(&vq->vq, &cfg, &vq_ops, vq) || vhio_vq_start(&vq->vq)) {
		pr_warn_ratelimited("vq %u: ring not accessible; not started\n", vq->index);
		return false;
	}
	vq->running = true;
	vq->err_told = false;
	return true;
}

void vhostio_signal_guest(struct vhostio_vq *vq)
{
	if (vq->call && vhio_vq_need_signal(&vq->vq))
		eventfd_signal(vq->call, 1);
}

/* An iterator over a request's device-writable segments. */
static void in_iter(struct iov_iter *it, const struct iovec *iov, unsigned int n)
{
	size_t total = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	iov_iter_init(it, ITER_DEST, iov, n, total);
}

size_t vhostio_copy_out(const struct iovec *iov, unsigned int n, const void *src, size_t len)
{
	struct iov_iter it;

	in_iter(&it, iov, n);
	return copy_to_iter(src, len, &it);
}

void vhostio_push(struct vhostio_vq *vq, u16 head, const struct iovec *in, unsigned int nin, u32 len)
{
	if (len && vhostio_log_enabled(vq->dev))
		vhostio_log_iov(vq, in, nin, len);
	vhio_vq_push(&vq->vq, head, len);
}

/* Write a small answer and hand the chain back with what was written. */
static void reply(struct vhostio_vq *vq, u16 head, const struct iovec *in, unsigned int nin,
		  const void *r, size_t len)
{
	vhostio_push(vq, head, in, nin, vhostio_copy_out(in, nin, r, len));
}

/* Answer a request that never reached LIO: a virtio-scsi response and SAM status. */
static void respond_status(struct vhostio_vq *vq, u16 head, const struct iovec *in, unsigned int nin,
			   u8 response, u8 status)
{
	struct virtio_scsi_cmd_resp resp = { .response = response, .status = status };
	size_t n = vhostio_copy_out(in, nin, &resp, sizeof(resp));

	/* A partial response is no response: used length 0 (but what landed is logged). */
	if (n != sizeof(resp) && n && vhostio_log_enabled(vq->dev))
		vhostio_log_iov(vq, in, nin, n);
	vhostio_push(vq, head, in, nin, n == sizeof(resp) ? n : 0);
}

static void respond(struct vhostio_vq *vq, u16 head, const struct iovec *in, unsigned int nin, u8 response)
{
	respond_status(vq, head, in, nin, response, SAM_STAT_GOOD);
}

/* ---- completion ---- */

/*
 * From LIO's contexts.  The worker may answer the command, and release
 * free the queue, as soon as it is on the list: the RCU read section keeps
 * the queue and device alive until the kick (release waits a grace period).
 */
void vhostio_cmd_done(struct vhostio_scsi_cmd *cmd)
{
	struct vhostio_vq *vq = cmd->vq;

	rcu_read_lock();
	llist_add(&cmd->done, &vq->done);
	vhostio_kick_vq(vq);
	rcu_read_unlock();
}

/*
 * What a command needs to be answered, allocated with it: its
 * device-writable segments, and, should LIO abort it (and free the
 * command itself), what is left to answer then, with no allocation in
 * LIO's context.
 */
struct vhostio_orphan {
	struct llist_node node;
	/* A TMF answer waiting on the control queue for the I/O queues'. */
	struct list_head wait;
	u64 ticket;
	u8 response;
	u16 head;
	bool tmf;
	struct vhostio_tmf_group *group;
	struct scatterlist *sgl;
	unsigned int sgl_nents;
	u32 bounce;
	unsigned int nin;
	struct iovec in[];
};

/* The orphan of a command answered on req's head, its segments copied. */
static struct vhostio_orphan *orphan_alloc(const struct vhio_vq_req *req, unsigned int nin)
{
	struct vhostio_orphan *o = kmalloc(struct_size(o, in, nin), GFP_KERNEL);

	if (!o)
		return NULL;
	o->head = req->head;
	o->nin = nin;
	memcpy(o->in, req->in, nin * sizeof(*req->in));
	return o;
}

static void group_put(struct vhostio_vq *vq, struct vhostio_tmf_group *g);

/* ---- the SCSI commands LIO holds ---- */

/* Per queue: the queues' workers do not share a lock for it. */
static void track_cmd(struct vhostio_vq *vq, struct vhostio_scsi_cmd *cmd)
{
	unsigned long flags;

	spin_lock_irqsave(&vq->cmds_lock, flags);
	list_add_tail(&cmd->node, &vq->cmds);
	spin_unlock_irqrestore(&vq->cmds_lock, flags);
}

/* Also for a command never tracked (its node points to itself). */
static void untrack_cmd(struct vhostio_scsi_cmd *cmd)
{
	unsigned long flags;

	spin_lock_irqsave(&cmd->vq->cmds_lock, flags);
	list_del_init(&cmd->node);
	spin_unlock_irqrestore(&cmd->vq->cmds_lock, flags);
}

void vhostio_cmd_aborted(struct vhostio_scsi_cmd *cmd)
{
	struct vhostio_vq *vq = cmd->vq;
	struct vhostio_orphan *o = cmd->orphan;

	untrack_cmd(cmd);
	o->tmf = cmd->tmf;
	o->group = cmd->group;
	o->sgl = cmd->sgl;
	o->sgl_nents = cmd->sgl_nents;
	o->bounce = cmd->bounce;
	cmd->orphan = NULL;
	cmd->sgl = NULL;
	cmd->bounce = 0;
	rcu_read_lock();
	llist_add(&o->node, &vq->aborted);
	vhostio_kick_vq(vq);
	rcu_read_unlock();
}

/* ---- bounce memory ---- */

/* Account 'bytes' of bounce buffer to the device, unless it is at its
 * bound (shared by the device's workers: one atomic add when it fits). */
static bool bounce_reserve(struct vhostio_dev *dev, u32 bytes)
{
	long cap = (long)READ_ONCE(vhostio_max_bounce_mb) << 20;
	long now = atomic_long_add_return(bytes, &dev->bounce_bytes);

	if (cap && now > cap && now != bytes) {
		atomic_long_sub(bytes, &dev->bounce_bytes);
		atomic64_inc(&vhostio_bounce_full);
		return false;
	}
	if (now > READ_ONCE(vhostio_bounce_peak))
		WRITE_ONCE(vhostio_bounce_peak, now); /* racy: a statistic */
	return true;
}

/*
 * Pages a queue keeps for reuse, at most: 2 MiB, what 32 commands of 64 KiB
 * need; and a device, all queues together: 8 MiB, on top of max_bounce_mb.
 * Past that pages go back to the allocator.
 */
#define VHOSTIO_POOL_PAGES 512
#define VHOSTIO_DEV_POOL_BYTES (8L << 20)

static void bounce_free(struct vhostio_vq *vq, struct scatterlist *sgl, unsigned int nents, u32 bytes);

/*
 * The buffer of a command of 'len' bytes: pages of the queue's pool first.
 * A new page is always zeroed (free with Debian's init_on_alloc, and no
 * host memory ever reaches a guest); a reused one only if 'zero': a READ's
 * buffer (not 'zero') holds nothing older than this queue's own earlier
 * commands since its endpoint was set, and its backend overwrites it.
 */
static int bounce_alloc(struct vhostio_vq *vq, struct scatterlist **sglp, unsigned int *nentsp,
			u32 len, bool zero)
{
	unsigned int n = DIV_ROUND_UP(len, PAGE_SIZE), i, reused = 0;
	struct scatterlist *sgl;
	struct page *page;

	sgl = kmalloc_array(n, sizeof(*sgl), GFP_KERNEL);
	if (!sgl)
		return -ENOMEM;
	sg_init_table(sgl, n);
	spin_lock(&vq->pool_lock);
	for (; reused < n && vq->pool_pages; reused++, vq->pool_pages--) {
		page = list_first_entry(&vq->pool, struct page, lru);
		list_del(&page->lru);
		sg_set_page(&sgl[reused], page, 0, 0);
	}
	spin_unlock(&vq->pool_lock);
	if (reused)
		atomic_long_sub(reused * PAGE_SIZE, &vq->dev->pool_bytes);
	for (i = 0; i < n; i++, len -= PAGE_SIZE) {
		if (i < reused) {
			page = sg_page(&sgl[i]);
			if (zero)
				clear_highpage(page);
		} else {
			page = alloc_page(GFP_KERNEL | __GFP_ZERO);
			if (!page) {
				bounce_free(vq, sgl, i, 0); /* also frees sgl */
				return -ENOMEM;
			}
		}
		sg_set_page(&sgl[i], page, min_t(u32, len, PAGE_SIZE), 0);
	}
	*sglp = sgl;
	*nentsp = n;
	return 0;
}

static void bounce_free(struct vhostio_vq *vq, struct scatterlist *sgl, unsigned int nents, u32 bytes)
{
	struct vhostio_dev *dev = vq->dev;
	struct scatterlist *sg;
	unsigned int i, kept = 0;
	long room;

	if (sgl) {
		/* Racy across queues, by at most one command's pages each. */
		room = (VHOSTIO_DEV_POOL_BYTES - atomic_long_read(&dev->pool_bytes)) >> PAGE_SHIFT;
		spin_lock(&vq->pool_lock);
		for_each_sg(sgl, sg, nents, i) {
			struct page *page = sg_page(sg);

			/* Only a page nothing else holds (a backend may still
			 * have a reference to it) is handed out again. */
			if (kept < room && vq->pool_pages < VHOSTIO_POOL_PAGES && page_count(page) == 1) {
				list_add(&page->lru, &vq->pool);
				vq->pool_pages++;
				kept++;
			} else {
				put_page(page);
			}
		}
		spin_unlock(&vq->pool_lock);
		if (kept)
			atomic_long_add(kept * PAGE_SIZE, &dev->pool_bytes);
		kfree(sgl);
	}
	if (bytes)
		atomic_long_sub(bytes, &dev->bounce_bytes);
}

/* Free what a queue keeps: when it is freed, and when its endpoint goes (a
 * new one must not see the old one's data). */
void vhostio_pool_drain(struct vhostio_vq *vq)
{
	struct page *page, *next;
	unsigned int n;
	LIST_HEAD(pages);

	spin_lock(&vq->pool_lock);
	list_splice_init(&vq->pool, &pages);
	n = vq->pool_pages;
	vq->pool_pages = 0;
	spin_unlock(&vq->pool_lock);
	list_for_each_entry_safe(page, next, &pages, lru)
		put_page(page);
	if (n)
		atomic_long_sub(n * PAGE_SIZE, &vq->dev->pool_bytes);
}

static void inflight_put(struct vhostio_dev *dev)
{
	if (atomic_dec_and_test(&dev->inflight))
		wake_up(&dev->inflight_wait);
}

/*
 * A TMF's answer goes into the control queue only once every other worker
 * has had a pass that began after LIO finished the TMF: the commands it
 * aborted were answered on their own queues before, and the guest never
 * sees a TMF done while the answers to what it aborted are still to come
 * (and their tags, which it may reuse, still held).  The control queue's
 * worker answers at the end of its own pass, after its other queues.
 * Takes o (an orphan with the TMF's head and segments).
 */
static void tmf_answer(struct vhostio_vq *vq, struct vhostio_orphan *o, u8 response)
{
	struct vhostio_dev *dev = vq->dev;

	if (!vq->running) {
		kfree(o);
		return;
	}
	o->response = response;
	o->ticket = dev->tmf_ticket + 1;
	/* Before the ticket: a pass that reads it reads the lists after. */
	smp_wmb();
	WRITE_ONCE(dev->tmf_ticket, o->ticket);
	atomic_inc(&dev->inflight);
	list_add_tail(&o->wait, &vq->tmf_wait);
	WRITE_ONCE(dev->tmf_waiting, true);
	smp_mb();
	vhostio_workers_flush(dev, rcu_dereference_protected(vq->worker, 1));
}

void vhostio_answer_tmfs(struct vhostio_vq *vq)
{
	struct vhostio_worker *self = rcu_dereference_protected(vq->worker, 1);
	struct vhostio_dev *dev = vq->dev;
	struct vhostio_orphan *o, *next;
	bool answered = false;

	list_for_each_entry_safe(o, next, &vq->tmf_wait, wait) {
		if (vq->running && !vhostio_workers_flushed(dev, self, o->ticket))
			break;
		list_del(&o->wait);
		if (vq->running) {
			struct virtio_scsi_ctrl_tmf_resp r = { .response = o->response };

			vhostio_push(vq, o->head, o->in, o->nin,
				     vhostio_copy_out(o->in, o->nin, &r, sizeof(r)));
			answered = true;
		}
		kfree(o);
		inflight_put(dev);
	}
	if (list_empty(&vq->tmf_wait))
		WRITE_ONCE(dev->tmf_waiting, false);
	if (answered)
		vhostio_signal_guest(vq);
}

static void answer_orphan(struct vhostio_vq *vq, struct vhostio_orphan *o)
{
	/*
	 * A TMF LIO aborted was drained by a LUN RESET on the same LUN, which
	 * aborted what the TMF was after: its function is done.  A group's
	 * ABORT TASK has no head of its own; the group answers.
	 */
	bounce_free(vq, o->sgl, o->sgl_nents, o->bounce);
	if (o->group) {
		group_put(vq, o->group);
		kfree(o);
	} else if (o->tmf) {
		tmf_answer(vq, o, VIRTIO_SCSI_S_FUNCTION_SUCCEEDED);
	} else {
		if (vq->running)
			respond(vq, o->head, o->in, o->nin, VIRTIO_SCSI_S_ABORTED);
		kfree(o);
	}
	inflight_put(vq->dev);
}

static void release_cmd(struct vhostio_dev *dev, struct vhostio_scsi_cmd *cmd)
{
	untrack_cmd(cmd);
	bounce_free(cmd->vq, cmd->sgl, cmd->sgl_nents, cmd->bounce);
	cmd->sgl = NULL;
	cmd->bounce = 0;
	kfree(cmd->orphan);
	cmd->orphan = NULL;
	transport_generic_free_cmd(&cmd->se_cmd, 0);
	inflight_put(dev);
}

static u8 tmf_response(u8 tmr)
{
	switch (tmr) {
	case TMR_FUNCTION_COMPLETE:
	case TMR_TASK_DOES_NOT_EXIST: /* SAM: nothing left to abort is done */
		/* What stock answers for a completed function (guests take it
		 * as they take FUNCTION COMPLETE, 0). */
		return VIRTIO_SCSI_S_FUNCTION_SUCCEEDED;
	case TMR_LUN_DOES_NOT_EXIST:
		return VIRTIO_SCSI_S_INCORRECT_LUN;
	case TMR_FUNCTION_REJECTED:
	case TMR_TASK_MGMT_FUNCTION_NOT_SUPPORTED:
		return VIRTIO_SCSI_S_FUNCTION_REJECTED;
	default:
		return VIRTIO_SCSI_S_FAILURE;
	}
}

static void complete_tmf(struct vhostio_vq *vq, struct vhostio_scsi_cmd *cmd)
{
	u8 response = tmf_response(cmd->se_cmd.se_tmr_req->response);
	struct vhostio_orphan *o = cmd->orphan;

	cmd->orphan = NULL;
	/* The answer's inflight reference is taken before the command's goes:
	 * the count never touches 0 while the TMF is still to be answered. */
	tmf_answer(vq, o, response);
	release_cmd(vq->dev, cmd);
}

static void complete_cmd(struct vhostio_vq *vq, struct vhostio_scsi_cmd *cmd)
{
	struct se_cmd *se_cmd = &cmd->se_cmd;
	struct virtio_scsi_cmd_resp resp = {
		.response = VIRTIO_SCSI_S_OK,
		.status = se_cmd->scsi_status,
	};
	struct iov_iter it;
	size_t written, want;

	if (se_cmd->se_cmd_flags & (SCF_UNDERFLOW_BIT | SCF_OVERFLOW_BIT))
		resp.resid = __cpu_to_virtio32(true, se_cmd->residual_count);
	if (se_cmd->scsi_sense_length) {
		u32 n = min_t(u32, se_cmd->scsi_sense_length, VIRTIO_SCSI_SENSE_SIZE);

		memcpy(resp.sense, cmd->sense, n);
		resp.sense_len = __cpu_to_virtio32(true, n);
	}
	/* One pass over the segments: the response, then the data after it. */
	in_iter(&it, cmd->orphan->in, cmd->orphan->nin);
	written = copy_to_iter(&resp, sizeof(resp), &it);
	want = sizeof(resp);
	/* Data only with a status that carries it: the pages of a refused or
	 * failed READ hold nothing of the LUN's. */
	if (se_cmd->data_direction == DMA_FROM_DEVICE && written == want && cmd->sgl &&
	    (se_cmd->scsi_status == SAM_STAT_GOOD || (se_cmd->se_cmd_flags & SCF_TREAT_READ_AS_NORMAL))) {
		u32 data = cmd->data_len;
		struct scatterlist *sg;
		size_t copied;
		unsigned int i;

		if (se_cmd->se_cmd_flags & SCF_UNDERFLOW_BIT)
			data -= min(data, se_cmd->residual_count);
		for_each_sg(cmd->sgl, sg, cmd->sgl_nents, i) {
			size_t n = min_t(size_t, sg->length, data - (want - sizeof(resp)));

			if (!n)
				break;
			copied = copy_page_to_iter(sg_page(sg), sg->offset, n, &it);
			written += copied;
			want += n;
			if (copied != n)
				break; /* a fault: the rest would not land either */
		}
	}
	if (written != want)
		pr_warn_ratelimited("vq %u: response for head %u not fully written (%zu of %zu bytes)\n",
				    vq->index, cmd->head, written, want);
	vhostio_push(vq, cmd->head, cmd->orphan->in, cmd->orphan->nin, written);
	release_cmd(vq->dev, cmd);
}

/* ---- requests ---- */

static int task_attr(u8 attr)
{
	switch (attr) {
	case VIRTIO_SCSI_S_ORDERED:
		return TCM_ORDERED_TAG;
	case VIRTIO_SCSI_S_HEAD:
		return TCM_HEAD_TAG;
	case VIRTIO_SCSI_S_ACA:
		return TCM_ACA_TAG;
	default:
		return TCM_SIMPLE_TAG;
	}
}

static struct vhostio_tpg *find_tpg(struct vhostio_dev *dev, u8 tag)
{
	unsigned int i;

	for (i = 0; i < dev->n_tpgs; i++)
		if (dev->tpgs[i]->tag == tag)
			return dev->tpgs[i];
	return NULL;
}

/* Copy the data-out that follows the request header into the bounce pages. */
static int copy_data_out(struct vhio_vq_req *req, struct vhostio_scsi_cmd *cmd)
{
	struct scatterlist *sg;
	struct iov_iter it;
	unsigned int i;

	iov_iter_init(&it, ITER_SOURCE, req->out, req->nout, req->out_len);
	iov_iter_advance(&it, sizeof(struct virtio_scsi_cmd_req));
	for_each_sg(cmd->sgl, sg, cmd->sgl_nents, i)
		if (copy_page_from_iter(sg_page(sg), sg->offset, sg->length, &it) != sg->length)
			return -EFAULT;
	return 0;
}

/* A command slot of the session's tag pool, reset; NULL if none is free. */
static struct vhostio_scsi_cmd *cmd_get(struct se_session *se_sess, struct vhostio_vq *vq)
{
	struct vhostio_scsi_cmd *cmd;
	int tag, cpu;

	tag = sbitmap_queue_get(&se_sess->sess_tag_pool, &cpu);
	if (tag < 0)
		return NULL;
	cmd = &((struct vhostio_scsi_cmd *)se_sess->sess_cmd_map)[tag];
	memset(cmd, 0, sizeof(*cmd));
	cmd->se_cmd.map_tag = tag;
	cmd->se_cmd.map_cpu = cpu;
	cmd->vq = vq;
	INIT_LIST_HEAD(&cmd->node);
	return cmd;
}

/* Give back a slot LIO never saw, with what was allocated for it. */
static void cmd_put_unused(struct se_session *se_sess, struct vhostio_scsi_cmd *cmd)
{
	bounce_free(cmd->vq, cmd->sgl, cmd->sgl_nents, cmd->bounce);
	kfree(cmd->orphan);
	target_free_tag(se_sess, &cmd->se_cmd);
}

static bool is_read(u8 opcode)
{
	return opcode == READ_6 || opcode == READ_10 || opcode == READ_12 || opcode == READ_16;
}

static void handle_cmd(struct vhostio_vq *vq, struct vhio_vq_req *req)
{
	struct vhostio_dev *dev = vq->dev;
	struct virtio_scsi_cmd_req vreq;
	struct vhostio_scsi_cmd *cmd;
	struct se_session *se_sess;
	struct vhostio_tpg *tpg;
	struct iov_iter it;
	u32 out_data, in_data, bounce;
	int dir;
	u64 lun;

	if (req->in_len < sizeof(struct virtio_scsi_cmd_resp)) {
		pr_warn_ratelimited("vq %u: head %u has no room for a response\n", vq->index, req->head);
		vhio_vq_push(&vq->vq, req->head, 0);
		return;
	}
	iov_iter_init(&it, ITER_SOURCE, req->out, req->nout, req->out_len);
	if (req->out_len < sizeof(vreq) || copy_from_iter(&vreq, sizeof(vreq), &it) != sizeof(vreq)) {
		respond(vq, req->head, req->in, req->nin, VIRTIO_SCSI_S_FAILURE);
		return;
	}
	tpg = vreq.lun[0] == 1 ? find_tpg(dev, vreq.lun[1]) : NULL;
	if (!tpg || !tpg->nexus) {
		respond(vq, req->head, req->in, req->nin, VIRTIO_SCSI_S_BAD_TARGET);
		return;
	}
	lun = ((vreq.lun[2] << 8) | vreq.lun[3]) & 0x3fff;
	out_data = req->out_len - sizeof(vreq);
	in_data = req->in_len - sizeof(struct virtio_scsi_cmd_resp);
	if (out_data && in_data) {
		/* Bidirectional commands are not offered. */
		respond(vq, req->head, req->in, req->nin, VIRTIO_SCSI_S_FAILURE);
		return;
	}
	dir = out_data ? DMA_TO_DEVICE : in_data ? DMA_FROM_DEVICE : DMA_NONE;
	/* The guest sizes the bounce buffer: bounded, as LIO bounds the SGL. */
	if (out_data + in_data > VHOSTIO_MAX_DATA_PAGES * PAGE_SIZE) {
		pr_warn_ratelimited("vq %u: head %u: %u-byte transfer, more than %lu\n", vq->index,
				    req->head, out_data + in_data, VHOSTIO_MAX_DATA_PAGES * PAGE_SIZE);
		respond(vq, req->head, req->in, req->nin, VIRTIO_SCSI_S_OVERRUN);
		return;
	}

	/* Whole pages are what the buffer takes. */
	bounce = PAGE_ALIGN(out_data + in_data);
	if (bounce && !bounce_reserve(dev, bounce)) {
		respond_status(vq, req->head, req->in, req->nin, VIRTIO_SCSI_S_OK, SAM_STAT_TASK_SET_FULL);
		return;
	}
	se_sess = tpg->nexus->se_sess;
	cmd = cmd_get(se_sess, vq);
	if (!cmd) {
		bounce_free(vq, NULL, 0, bounce);
		respond(vq, req->head, req->in, req->nin, VIRTIO_SCSI_S_BUSY);
		return;
	}
	cmd->bounce = bounce;
	cmd->se_cmd.tag = __virtio64_to_cpu(true, vreq.tag);
	cmd->head = req->head;
	cmd->data_len = out_data + in_data;
	cmd->orphan = orphan_alloc(req, req->nin);
	/*
	 * Data-in pages start zeroed, so what LIO does not fill is not old
	 * memory (an emulated command may answer GOOD having written less
	 * than the buffer), except for a READ: every backend fills all of it
	 * or fails the command, and a failed command's data is not copied.
	 * Zeroing a READ's pages cost as much as copying them (profiled).
	 */
	if (!cmd->orphan || (cmd->data_len &&
			 bounce_alloc(vq, &cmd->sgl, &cmd->sgl_nents, cmd->data_len,
				      dir == DMA_FROM_DEVICE && !is_read(vreq.cdb[0])))) {
		cmd_put_unused(se_sess, cmd);
		respond(vq, req->head, req->in, req->nin, VIRTIO_SCSI_S_BUSY);
		return;
	}
	if (dir == DMA_TO_DEVICE && copy_data_out(req, cmd)) {
		cmd_put_unused(se_sess, cmd);
		respond(vq, req->head, req->in, req->nin, VIRTIO_SCSI_S_FAILURE);
		return;
	}

	atomic_inc(&dev->inflight);
	if (target_init_cmd(&cmd->se_cmd, se_sess, cmd->sense, lun, cmd->data_len,
			    task_attr(vreq.task_attr), dir, TARGET_SCF_ACK_KREF) < 0) {
		/* The session is going away. */
		cmd_put_unused(se_sess, cmd);
		inflight_put(dev);
		respond(vq, req->head, req->in, req->nin, VIRTIO_SCSI_S_ABORTED);
		return;
	}
	track_cmd(vq, cmd);
	/* A refusal here is answered through queue_status, like any other. */
	if (target_submit_prep(&cmd->se_cmd, vreq.cdb, cmd->sgl, cmd->sgl_nents, NULL, 0, NULL, 0,
			       GFP_KERNEL))
		return;
	/* On LIO's submission workqueue: the backend's I/O does not run on
	 * this worker under dev->lock. */
	target_queue_submission(&cmd->se_cmd);
}

static void tmf_reply(struct vhostio_vq *vq, struct vhio_vq_req *req, u8 response)
{
	struct virtio_scsi_ctrl_tmf_resp r = { .response = response };

	reply(vq, req->head, req->in, req->nin, &r, sizeof(r));
}

/*
 * A task-set TMF the fabric carries out itself (LIO 6.1 performs only
 * ABORT TASK and LUN RESET): an ABORT TASK to LIO for each command it
 * names, answered once LIO has answered them all.
 */
struct vhostio_tmf_group {
	struct vhostio_orphan *reply;    /* the guest's TMF: head and segments */
	atomic_t pending;                /* ABORT TASKs unanswered, +1 while submitting */
	u8 response;                     /* VIRTIO_SCSI_S_*: the first failure, or success */
};

/* A command a task-set TMF names, as LIO knows it. */
struct vhostio_victim {
	u64 tag;
	u64 lun;
};

static void group_fail(struct vhostio_tmf_group *g, u8 response)
{
	if (g->response == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED)
		g->response = response;
}

/* The last ABORT TASK is answered: answer the guest's TMF. */
static void group_put(struct vhostio_vq *vq, struct vhostio_tmf_group *g)
{
	if (!atomic_dec_and_test(&g->pending))
		return;
	tmf_answer(vq, g->reply, g->response);
	kfree(g);
	inflight_put(vq->dev);
}

/* One of a group's ABORT TASKs answered by LIO (also with the ring gone). */
static void complete_group_child(struct vhostio_vq *vq, struct vhostio_scsi_cmd *cmd)
{
	struct vhostio_tmf_group *g = cmd->group;
	u8 response = tmf_response(cmd->se_cmd.se_tmr_req->response);

	/* A command that ended before its ABORT TASK is not a failure. */
	if (response != VIRTIO_SCSI_S_FUNCTION_SUCCEEDED)
		group_fail(g, response);
	release_cmd(vq->dev, cmd);
	group_put(vq, g);
}

/* Whether the nexus sees the LUN, looked up as LIO looks up a command's. */
static bool lun_exists(struct se_session *se_sess, u64 lun)
{
	struct se_dev_entry *deve;
	bool found = false;

	rcu_read_lock();
	hlist_for_each_entry_rcu(deve, &se_sess->se_node_acl->lun_entry_hlist, link) {
		if (deve->mapped_lun == lun) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * Copy out the commands of this session (on one LUN, or all) that LIO
 * holds now: at most 'max'.  Commands the guest sends after the TMF was
 * taken are not among them (the worker takes one request at a time), but
 * LIO aborts by tag: a victim that ends before its ABORT TASK runs frees
 * its tag, and a new command the guest sends with that tag meanwhile is
 * aborted instead (answered ABORTED; the guest retries it).
 */
static unsigned int find_victims(struct vhostio_dev *dev, struct se_session *se_sess, bool all_luns,
				 u64 lun, struct vhostio_victim *v, unsigned int max)
{
	struct vhostio_scsi_cmd *cmd;
	unsigned long flags;
	unsigned int i, n = 0;

	for (i = VHOSTIO_VQ_IO; i < VHOSTIO_MAX_VQS && n < max; i++) {
		struct vhostio_vq *vq = dev->vqs[i];

		if (!vq)
			continue;
		spin_lock_irqsave(&vq->cmds_lock, flags);
		list_for_each_entry(cmd, &vq->cmds, node) {
			if (n == max)
				break;
			if (cmd->se_cmd.se_sess != se_sess ||
			    (!all_luns && cmd->se_cmd.orig_fe_lun != lun))
				continue;
			v[n].tag = cmd->se_cmd.tag;
			v[n].lun = cmd->se_cmd.orig_fe_lun;
			n++;
		}
		spin_unlock_irqrestore(&vq->cmds_lock, flags);
	}
	return n;
}

/*
 * ABORT TASK SET, CLEAR TASK SET (a vhost TPG has one I_T nexus, so the
 * task set of the LUN as this fabric sees it is the nexus's) and I_T
 * NEXUS RESET (every LUN).  Never waits: the answer comes from
 * complete_group_child().
 */
static void tmf_abort_set(struct vhostio_vq *vq, struct vhio_vq_req *req, struct se_session *se_sess,
			  bool all_luns, u64 lun)
{
	struct vhostio_dev *dev = vq->dev;
	struct vhostio_tmf_group *g;
	struct vhostio_victim *v;
	unsigned int i, n;

	if (!all_luns && !lun_exists(se_sess, lun)) {
		tmf_reply(vq, req, VIRTIO_SCSI_S_INCORRECT_LUN);
		return;
	}
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	v = kmalloc_array(se_sess->sess_tag_pool.sb.depth, sizeof(*v), GFP_KERNEL);
	if (g)
		g->reply = orphan_alloc(req, req->nin);
	if (!g || !v || !g->reply) {
		kfree(g);
		kfree(v);
		tmf_reply(vq, req, VIRTIO_SCSI_S_BUSY);
		return;
	}
	g->response = VIRTIO_SCSI_S_FUNCTION_SUCCEEDED;
	atomic_set(&g->pending, 1);
	atomic_inc(&dev->inflight);
	n = find_victims(dev, se_sess, all_luns, lun, v, se_sess->sess_tag_pool.sb.depth);
	for (i = 0; i < n; i++) {
		struct vhostio_scsi_cmd *cmd = cmd_get(se_sess, vq);

		if (!cmd) {
			/* Every tag in use: the guest learns the function failed. */
			group_fail(g, VIRTIO_SCSI_S_FAILURE);
			break;
		}
		cmd->tmf = true;
		cmd->group = g;
		/* No segments: should LIO abort this ABORT TASK, the group answers. */
		cmd->orphan = orphan_alloc(req, 0);
		if (!cmd->orphan) {
			cmd_put_unused(se_sess, cmd);
			group_fail(g, VIRTIO_SCSI_S_FAILURE);
			break;
		}
		atomic_inc(&g->pending);
		atomic_inc(&dev->inflight);
		if (target_submit_tmr(&cmd->se_cmd, se_sess, NULL, v[i].lun, NULL, TMR_ABORT_TASK,
				      GFP_KERNEL, v[i].tag, TARGET_SCF_ACK_KREF) < 0) {
			cmd_put_unused(se_sess, cmd);
			atomic_dec(&dev->inflight); /* g still counts: never zero here */
			atomic_dec(&g->pending);
			group_fail(g, VIRTIO_SCSI_S_FAILURE);
			break;
		}
	}
	kfree(v);
	group_put(vq, g);
}

/* QUERY TASK (is 'tag' in the task set?) and QUERY TASK SET (is anything?). */
static void tmf_query(struct vhostio_vq *vq, struct vhio_vq_req *req, struct se_session *se_sess,
		      u64 lun, bool any, u64 tag)
{
	struct vhostio_dev *dev = vq->dev;
	struct vhostio_scsi_cmd *cmd;
	unsigned long flags;
	bool found = false;
	unsigned int i;

	if (!lun_exists(se_sess, lun)) {
		tmf_reply(vq, req, VIRTIO_SCSI_S_INCORRECT_LUN);
		return;
	}
	for (i = VHOSTIO_VQ_IO; i < VHOSTIO_MAX_VQS && !found; i++) {
		struct vhostio_vq *ivq = dev->vqs[i];

		if (!ivq)
			continue;
		spin_lock_irqsave(&ivq->cmds_lock, flags);
		list_for_each_entry(cmd, &ivq->cmds, node) {
			if (cmd->se_cmd.se_sess == se_sess && cmd->se_cmd.orig_fe_lun == lun &&
			    (any || cmd->se_cmd.tag == tag)) {
				found = true;
				break;
			}
		}
		spin_unlock_irqrestore(&ivq->cmds_lock, flags);
	}
	/* Not found: FUNCTION COMPLETE, which is 0 (VIRTIO_SCSI_S_OK) in virtio-scsi. */
	tmf_reply(vq, req, found ? VIRTIO_SCSI_S_FUNCTION_SUCCEEDED : VIRTIO_SCSI_S_OK);
}

/* The TMFs LIO performs (it refuses CLEAR ACA itself). */
static int tmr_type(u32 subtype)
{
	switch (subtype) {
	case VIRTIO_SCSI_T_TMF_ABORT_TASK:
		return TMR_ABORT_TASK;
	case VIRTIO_SCSI_T_TMF_CLEAR_ACA:
		return TMR_CLEAR_ACA;
	case VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
		return TMR_LUN_RESET;
	default:
		return -1;
	}
}

/* A task management request: LIO's answered in queue_tm_rsp, the
 * fabric's own in tmf_abort_set() and tmf_query(). */
static void handle_tmf(struct vhostio_vq *vq, struct vhio_vq_req *req)
{
	struct vhostio_dev *dev = vq->dev;
	struct virtio_scsi_ctrl_tmf_req tmf;
	struct vhostio_scsi_cmd *cmd;
	struct se_session *se_sess;
	struct vhostio_tpg *tpg;
	struct iov_iter it;
	u32 subtype;
	u64 lun;
	int type;

	iov_iter_init(&it, ITER_SOURCE, req->out, req->nout, req->out_len);
	if (req->in_len < sizeof(struct virtio_scsi_ctrl_tmf_resp) ||
	    copy_from_iter(&tmf, sizeof(tmf), &it) != sizeof(tmf)) {
		vhio_vq_push(&vq->vq, req->head, 0);
		return;
	}
	tpg = tmf.lun[0] == 1 ? find_tpg(dev, tmf.lun[1]) : NULL;
	if (!tpg || !tpg->nexus) {
		tmf_reply(vq, req, VIRTIO_SCSI_S_BAD_TARGET);
		return;
	}
	se_sess = tpg->nexus->se_sess;
	lun = ((tmf.lun[2] << 8) | tmf.lun[3]) & 0x3fff;
	subtype = __virtio32_to_cpu(true, tmf.subtype);
	switch (subtype) {
	case VIRTIO_SCSI_T_TMF_ABORT_TASK_SET:
	case VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET:
		tmf_abort_set(vq, req, se_sess, false, lun);
		return;
	case VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET:
		tmf_abort_set(vq, req, se_sess, true, 0);
		return;
	case VIRTIO_SCSI_T_TMF_QUERY_TASK:
	case VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
		tmf_query(vq, req, se_sess, lun, subtype == VIRTIO_SCSI_T_TMF_QUERY_TASK_SET,
			  __virtio64_to_cpu(true, tmf.tag));
		return;
	}
	type = tmr_type(subtype);
	if (type < 0) {
		tmf_reply(vq, req, VIRTIO_SCSI_S_FUNCTION_REJECTED);
		return;
	}
	cmd = cmd_get(se_sess, vq);
	if (!cmd) {
		tmf_reply(vq, req, VIRTIO_SCSI_S_BUSY);
		return;
	}
	cmd->head = req->head;
	cmd->tmf = true;
	cmd->orphan = orphan_alloc(req, req->nin);
	if (!cmd->orphan) {
		cmd_put_unused(se_sess, cmd);
		tmf_reply(vq, req, VIRTIO_SCSI_S_BUSY);
		return;
	}
	atomic_inc(&dev->inflight);
	if (target_submit_tmr(&cmd->se_cmd, se_sess, NULL, lun, NULL, type, GFP_KERNEL,
			      __virtio64_to_cpu(true, tmf.tag), TARGET_SCF_ACK_KREF) < 0) {
		cmd_put_unused(se_sess, cmd);
		inflight_put(dev);
		tmf_reply(vq, req, VIRTIO_SCSI_S_FAILURE);
	}
}

/* The control queue: task management, and asynchronous notification,
 * which has nothing to report. */
static void handle_ctl(struct vhostio_vq *vq, struct vhio_vq_req *req)
{
	struct iov_iter it;
	__virtio32 type;

	iov_iter_init(&it, ITER_SOURCE, req->out, req->nout, req->out_len);
	if (copy_from_iter(&type, sizeof(type), &it) != sizeof(type)) {
		vhio_vq_push(&vq->vq, req->head, 0);
		return;
	}
	switch (__virtio32_to_cpu(true, type)) {
	case VIRTIO_SCSI_T_TMF:
		handle_tmf(vq, req);
		break;
	case VIRTIO_SCSI_T_AN_QUERY:
	case VIRTIO_SCSI_T_AN_SUBSCRIBE: {
		struct virtio_scsi_ctrl_an_resp r = { .response = VIRTIO_SCSI_S_OK };

		reply(vq, req->head, req->in, req->nin, &r, sizeof(r));
		break;
	}
	default:
		vhio_vq_push(&vq->vq, req->head, 0);
		break;
	}
}

/* Take what the guest made available, up to the budget. */
static enum vhostio_queue_state drain_queue(struct vhostio_vq *vq, bool poll)
{
	unsigned int budget = VHOSTIO_BUDGET;
	struct vhio_vq_req req;
	int ret;

	for (;;) {
		if (vhio_vq_disable_kicks(&vq->vq) < 0)
			return VHOSTIO_QUEUE_IDLE;
		for (;;) {
			req = (struct vhio_vq_req){
				.out = vq->out, .out_max = VHOSTIO_MAX_SEGS,
				.in = vq->in, .in_max = VHOSTIO_MAX_SEGS,
			};
			ret = vhio_vq_pop(&vq->vq, vq->dev->mem, &req);
			if (ret == 0 || ret == -EIO)
				break;
			if (ret < 0) {
				/* A malformed chain: answered empty, the queue goes on. */
				pr_warn_ratelimited("vq %u: head %u: %s\n", vq->index, req.head,
						    vhio_vq_strerror(req.err));
				vhio_vq_push(&vq->vq, req.head, 0);
			} else if (vq->index == VHOSTIO_VQ_CTL) {
				handle_ctl(vq, &req);
			} else {
				handle_cmd(vq, &req);
			}
			if (!--budget) {
				vhostio_signal_guest(vq);
				return VHOSTIO_QUEUE_MORE;
			}
		}
		if (ret == -EIO) {
			pr_err_ratelimited("vq %u: broken (%s): no further requests are taken from it\n",
					   vq->index, vhio_vq_strerror(vq->vq.broken_reason));
			return VHOSTIO_QUEUE_IDLE;
		}
		/* Empty.  Polled: kicks stay off, the worker looks again. */
		if (poll) {
			vhostio_signal_guest(vq);
			return VHOSTIO_QUEUE_POLL;
		}
		/* Ask for kicks, and look once more for what raced it. */
		if (vhio_vq_enable_kicks(&vq->vq) != 1)
			break;
	}
	vhostio_signal_guest(vq);
	return VHOSTIO_QUEUE_IDLE;
}

enum vhostio_queue_state vhostio_handle_queue(struct vhostio_vq *vq, bool poll)
{
	struct llist_node *done = llist_reverse_order(llist_del_all(&vq->done));
	enum vhostio_queue_state st = VHOSTIO_QUEUE_IDLE;
	struct vhostio_scsi_cmd *cmd, *next;
	bool completed = false;

	struct llist_node *orphans = llist_del_all(&vq->aborted);
	struct vhostio_orphan *o, *onext;

	llist_for_each_entry_safe(cmd, next, done, done) {
		cond_resched(); /* a long list, each answer maybe dirty-logged */
		if (cmd->group)
			complete_group_child(vq, cmd); /* answers the TMF if it is the last */
		else if (!vq->running)
			release_cmd(vq->dev, cmd); /* the ring is gone: nothing to answer into */
		else if (cmd->tmf)
			complete_tmf(vq, cmd);
		else
			complete_cmd(vq, cmd);
		completed = true;
	}
	llist_for_each_entry_safe(o, onext, orphans, node) {
		answer_orphan(vq, o);
		completed = true;
	}
	if (completed && vq->running)
		vhostio_signal_guest(vq);
	if (vq_ready(vq)) {
		if (vq->index == VHOSTIO_VQ_EVT)
			vhostio_deliver_events(vq); /* buffers wait there for events */
		else
			st = drain_queue(vq, poll);
	}
	/* However it broke (a pop, a push, a notification write): tell the owner once. */
	if (vq->running && vhio_vq_broken(&vq->vq) && !vq->err_told) {
		vq->err_told = true;
		if (vq->err)
			eventfd_signal(vq->err, 1);
	}
	return st;
}

void vhostio_wait_inflight(struct vhostio_dev *dev)
{
	wait_event(dev->inflight_wait, !atomic_read(&dev->inflight));
}
