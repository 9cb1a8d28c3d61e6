// SPDX-License-Identifier: GPL-2.0
/*
 * The threads that serve the rings.  A worker is a kthread, "vhost-<owner
 * pid>" as stock names it, in the owner's address space and cgroups (its
 * memory and CPU accounting cover the bounce buffers and the work done for
 * it).  Each ring is attached to exactly one worker, which alone handles
 * it: pops, submissions to LIO, answers.  Rings on different workers run
 * in parallel.  Worker passes hold dev->lock for reading; an ioctl holds
 * it for writing, so it never changes a ring, the memory table or the
 * endpoint under a pass.
 *
 * Which worker serves which ring:
 * - "per_vq" (module parameter workers=, the default): worker 0, the
 *   device's own (created at SET_OWNER), serves the control and event
 *   queues, and each I/O queue gets a worker of its own when its kick is
 *   set, up to auto_workers of them (default: the online CPUs), further
 *   queues sharing those (the least loaded first).  A multi-queue guest of QEMU 7.2, which knows no worker ioctls,
 *   so spreads its queues over CPUs; stock 6.1 serves all of them from
 *   one thread and stops near 500k IOPS however many queues there are.
 * - "single": worker 0 serves every queue, as stock 6.1 does.
 * - The worker ioctls of Linux 6.5 (VHOST_NEW_WORKER, VHOST_FREE_WORKER,
 *   VHOST_ATTACH_VRING_WORKER, VHOST_GET_VRING_WORKER) let the owner
 *   decide, as QEMU >= 8.2's worker_per_virtqueue does: from its first
 *   NEW_WORKER or ATTACH_VRING_WORKER on no worker is made for it, and one
 *   made automatically goes when its last queue leaves.  Unlike 6.5, a ring may move to
 *   another worker while it runs (the move happens between passes).
 *
 * Optional busy polling (poll_us=, off by default): a worker that drained
 * its rings keeps them with kicks off and polls them for up to poll_us
 * before it turns kicks back on and sleeps, which saves the guest a VM
 * exit per kick and the worker a wakeup per request at low queue depth.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dev.h"

enum vhostio_worker_mode {
	VHOSTIO_WORKERS_PER_VQ,
	VHOSTIO_WORKERS_SINGLE,
};

static const char *const mode_names[] = {
	[VHOSTIO_WORKERS_PER_VQ] = "per_vq",
	[VHOSTIO_WORKERS_SINGLE] = "single",
};

static int worker_mode = VHOSTIO_WORKERS_PER_VQ;

static int mode_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(mode_names, val);

	/* "per-vq" too, as vhostio-io spells its option. */
	if (i < 0 && sysfs_streq(val, "per-vq"))
		i = VHOSTIO_WORKERS_PER_VQ;
	if (i < 0)
		return -EINVAL;
	WRITE_ONCE(worker_mode, i);
	return 0;
}

static int mode_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", mode_names[READ_ONCE(worker_mode)]);
}

static const struct kernel_param_ops mode_ops = {
	.set = mode_set,
	.get = mode_get,
};
module_param_cb(workers, &mode_ops, NULL, 0644);
MODULE_PARM_DESC(workers, "per_vq (default): a worker thread per I/O virtqueue; single: one per device, as stock 6.1 (taken when a device's rings are set up)");

/* The most one poll may spin: a worker is not meant to own a CPU. */
#define VHOSTIO_POLL_US_MAX 1000
static unsigned int poll_us;

static int poll_us_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret)
		return ret;
	if (v > VHOSTIO_POLL_US_MAX)
		return -ERANGE;
	WRITE_ONCE(poll_us, v);
	return 0;
}

static const struct kernel_param_ops poll_us_ops = {
	.set = poll_us_set,
	.get = param_get_uint,
};
module_param_cb(poll_us, &poll_us_ops, &poll_us, 0644);
MODULE_PARM_DESC(poll_us, "microseconds a worker keeps polling its drained rings, kicks off, before it sleeps (0: off, the default; at most 1000)");

/*
 * Workers beyond the host's CPUs run nothing more in parallel and cost
 * wake-ups and context switches (measured: 8 queues on 2 CPUs were served
 * slower by 8 workers than by one); past this many a device's automatic
 * workers are shared by its further queues.  0: the online CPUs.
 */
static unsigned int auto_workers;
module_param(auto_workers, uint, 0644);
MODULE_PARM_DESC(auto_workers, "per_vq mode: the most automatic workers a device gets, further queues share them (0, the default: one per online CPU)");

/* ---- kicks ---- */

static void worker_wake(struct vhostio_worker *w, unsigned int bit)
{
	set_bit(bit, w->work_bits);
	/* Pairs with the worker's set_current_state() before it looks at the bits. */
	smp_mb__after_atomic();
	wake_up_process(w->task);
}

/* From any context: the queue has a kick, completions or work to redo. */
void vhostio_kick_vq(struct vhostio_vq *vq)
{
	struct vhostio_worker *w;

	/* The worker is freed only after a grace period once no ring points to it. */
	rcu_read_lock();
	w = rcu_dereference(vq->worker);
	if (w)
		worker_wake(w, vq->index);
	rcu_read_unlock();
}

void vhostio_kick_queue(struct vhostio_dev *dev, unsigned int index)
{
	struct vhostio_vq *vq = smp_load_acquire(&dev->vqs[index]);

	if (vq)
		vhostio_kick_vq(vq);
}

/* ---- the worker's loop ---- */

static bool has_work(struct vhostio_worker *w)
{
	return !bitmap_empty(w->work_bits, VHOSTIO_WORK_BITS);
}

static struct vhostio_worker *vq_worker(struct vhostio_vq *vq)
{
	return rcu_dereference_protected(vq->worker, lockdep_is_held(&vq->dev->lock));
}

/* One pass over the rings with work, under dev->lock for reading. */
static void worker_pass(struct vhostio_worker *w)
{
	struct vhostio_dev *dev = w->dev;
	struct vhostio_vq *ctl;
	unsigned int i;
	u64 ticket;

	down_read(&dev->lock);
	clear_bit(VHOSTIO_FLUSH_BIT, w->work_bits);
	/* Answers LIO gave before this TMF ticket are on the lists this pass reads. */
	smp_mb__after_atomic();
	ticket = READ_ONCE(dev->tmf_ticket);
	smp_rmb();
	for_each_set_bit(i, w->work_bits, VHOSTIO_MAX_VQS) {
		struct vhostio_vq *vq = dev->vqs[i];
		enum vhostio_queue_state st;

		clear_bit(i, w->work_bits);
		/* A stale kick for a ring that moved to another worker. */
		if (!vq || vq_worker(vq) != w)
			continue;
		clear_bit(i, w->polled);
		st = vhostio_handle_queue(vq, READ_ONCE(poll_us) != 0);
		if (st == VHOSTIO_QUEUE_MORE)
			set_bit(i, w->work_bits);
		else if (st == VHOSTIO_QUEUE_POLL)
			set_bit(i, w->polled);
	}
	vhostio_log_signal(dev);
	/* This pass answered everything LIO completed before 'ticket'. */
	smp_store_release(&w->flushed, ticket);
	ctl = dev->vqs[VHOSTIO_VQ_CTL];
	if (ctl && READ_ONCE(dev->tmf_waiting)) {
		if (vq_worker(ctl) == w)
			vhostio_answer_tmfs(ctl);
		else
			vhostio_kick_vq(ctl); /* its worker may answer now */
	}
	up_read(&dev->lock);
}

/*
 * Busy-poll the rings this worker left with kicks off until one has
 * requests, a completion or kick arrives, the owner's time is up or the
 * CPU is wanted; then ask for kicks again on those still idle.
 */
static void worker_poll(struct vhostio_worker *w)
{
	struct vhostio_dev *dev = w->dev;
	unsigned int i;
	bool found = false;

	/* One window per idle spell: yielding the CPU does not extend it. */
	if (!w->poll_end)
		w->poll_end = local_clock() + (u64)READ_ONCE(poll_us) * NSEC_PER_USEC;
	while (!found && !has_work(w) && !kthread_should_stop() && local_clock() < w->poll_end) {
		if (need_resched())
			return; /* the caller yields, then polls on */
		down_read(&dev->lock);
		for_each_set_bit(i, w->polled, VHOSTIO_MAX_VQS) {
			struct vhostio_vq *vq = dev->vqs[i];

			if (!vq || vq_worker(vq) != w || !vq->running) {
				clear_bit(i, w->polled);
				continue;
			}
			if (vhio_vq_avail_count(&vq->vq) != 0) {
				set_bit(i, w->work_bits); /* requests, or a broken ring to report */
				found = true;
			}
		}
		up_read(&dev->lock);
		if (bitmap_empty(w->polled, VHOSTIO_MAX_VQS)) {
			w->poll_end = 0;
			return;
		}
		cpu_relax();
	}
	w->poll_end = 0;
	if (found || has_work(w))
		return; /* the next pass drains them and polls again */
	down_read(&dev->lock);
	for_each_set_bit(i, w->polled, VHOSTIO_MAX_VQS) {
		struct vhostio_vq *vq = dev->vqs[i];

		clear_bit(i, w->polled);
		if (vq && vq_worker(vq) == w && vq->running && vhio_vq_enable_kicks(&vq->vq) != 0)
			set_bit(i, w->work_bits); /* raced the guest, or broke */
	}
	up_read(&dev->lock);
}

static int worker_fn(void *data)
{
	struct vhostio_worker *w = data;

	kthread_use_mm(w->dev->owner_mm);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		/* Stopped only once every command is answered (or, for a freed
		 * worker, with no ring left): what is left is kicks. */
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		if (!has_work(w)) {
			if (bitmap_empty(w->polled, VHOSTIO_MAX_VQS)) {
				schedule();
				continue;
			}
			__set_current_state(TASK_RUNNING);
			worker_poll(w);
			cond_resched();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		worker_pass(w);
		cond_resched();
	}
	kthread_unuse_mm(w->dev->owner_mm);
	return 0;
}

/* ---- creating, attaching, freeing (ioctl context, dev->lock held for writing) ---- */

static int worker_new(struct vhostio_dev *dev, bool automatic, struct vhostio_worker **out)
{
	struct vhostio_worker *w;
	struct task_struct *t;
	unsigned int id;
	int ret;

	for (id = 0; id < VHOSTIO_MAX_WORKERS && dev->workers[id]; id++)
		;
	if (id == VHOSTIO_MAX_WORKERS)
		return -ENOSPC;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->dev = dev;
	w->id = id;
	w->automatic = automatic;
	w->flushed = dev->tmf_ticket;
	t = kthread_create(worker_fn, w, "vhost-%d", current->pid);
	if (IS_ERR(t)) {
		kfree(w);
		return PTR_ERR(t);
	}
	ret = cgroup_attach_task_all(current, t);
	if (ret) {
		kthread_stop(t);
		kfree(w);
		return ret;
	}
	/* Kicks may wake it until a grace period after it is unlinked. */
	get_task_struct(t);
	w->task = t;
	dev->workers[id] = w;
	wake_up_process(t);
	*out = w;
	return 0;
}

/* Unlinked workers are stopped once dev->lock is dropped: a worker may be
 * waiting for it to run one last pass. */
static void worker_unlink(struct vhostio_dev *dev, struct vhostio_worker *w)
{
	dev->workers[w->id] = NULL;
	w->reap_next = dev->reap;
	dev->reap = w;
}

void vhostio_workers_reap(struct vhostio_dev *dev)
{
	struct vhostio_worker *w, *list, *next;

	down_write(&dev->lock);
	list = dev->reap;
	dev->reap = NULL;
	up_write(&dev->lock);
	if (!list)
		return;
	for (w = list; w; w = w->reap_next)
		kthread_stop(w->task);
	/* A kick may still hold a pointer to one, from before its rings moved. */
	synchronize_rcu();
	for (w = list; w; w = next) {
		next = w->reap_next;
		put_task_struct(w->task);
		kfree(w);
	}
}

/* Move vq to worker to (ring state is not touched: it runs on, between passes). */
static void attach(struct vhostio_vq *vq, struct vhostio_worker *to)
{
	struct vhostio_worker *from = vq_worker(vq);

	if (from == to)
		return;
	if (from) {
		from->attached--;
		/* A TMF waits for the queue's answers: the new worker inherits the wait. */
		to->flushed = min(to->flushed, from->flushed);
		if (from->automatic && !from->attached)
			worker_unlink(vq->dev, from);
	}
	to->attached++;
	rcu_assign_pointer(vq->worker, to);
	/* Work the old worker would have done (and a polled ring's kicks,
	 * left off) is the new one's now. */
	vhostio_kick_vq(vq);
}

int vhostio_workers_init(struct vhostio_dev *dev)
{
	struct vhostio_worker *w;

	return worker_new(dev, false, &w);
}

/* A new ring starts on worker 0. */
void vhostio_worker_attach_default(struct vhostio_vq *vq)
{
	attach(vq, vq->dev->workers[0]);
}

/*
 * SET_VRING_KICK on an I/O queue, in per_vq mode: a worker of its own, or,
 * with auto_workers automatic workers already, the one of those that serves
 * the fewest queues.
 */
void vhostio_worker_auto(struct vhostio_vq *vq)
{
	unsigned int i, n = 0, most = READ_ONCE(auto_workers) ?: num_online_cpus();
	struct vhostio_worker *w, *least = NULL;
	struct vhostio_dev *dev = vq->dev;
	int ret;

	if (vq->index < VHOSTIO_VQ_IO || dev->user_workers ||
	    READ_ONCE(worker_mode) != VHOSTIO_WORKERS_PER_VQ || vq_worker(vq) != dev->workers[0])
		return;
	for (i = 0; i < VHOSTIO_MAX_WORKERS; i++) {
		w = dev->workers[i];
		if (!w || !w->automatic)
			continue;
		n++;
		if (!least || w->attached < least->attached)
			least = w;
	}
	if (least && n >= most) {
		attach(vq, least);
		return;
	}
	ret = worker_new(dev, true, &w);
	if (ret) {
		/* Served, only not in parallel. */
		pr_warn_ratelimited("vq %u: no worker of its own (%d): served by the device's worker\n",
				    vq->index, ret);
		return;
	}
	attach(vq, w);
}

/* Release, RESET_OWNER: every worker, once nothing is in flight. */
void vhostio_workers_stop(struct vhostio_dev *dev)
{
	unsigned int i;

	down_write(&dev->lock);
	for (i = 0; i < VHOSTIO_MAX_VQS; i++)
		if (dev->vqs[i])
			RCU_INIT_POINTER(dev->vqs[i]->worker, NULL);
	for (i = 0; i < VHOSTIO_MAX_WORKERS; i++)
		if (dev->workers[i])
			worker_unlink(dev, dev->workers[i]);
	up_write(&dev->lock);
	vhostio_workers_reap(dev);
}

/* Ask every worker but 'self' for a pass: it answers what LIO completed before. */
void vhostio_workers_flush(struct vhostio_dev *dev, struct vhostio_worker *self)
{
	unsigned int i;

	for (i = 0; i < VHOSTIO_MAX_WORKERS; i++) {
		struct vhostio_worker *w = dev->workers[i];

		if (w && w != self && w->attached)
			worker_wake(w, VHOSTIO_FLUSH_BIT);
	}
}

/*
 * Whether every worker but 'self' with rings has had a pass that started
 * after 'ticket'.  One that has not is asked for one (again): it may not
 * have been asked when the ticket was given, e.g. when it then served the
 * control queue, which has since moved; its pass ends with a kick of the
 * control queue, whose worker then asks here again.
 */
bool vhostio_workers_flushed(struct vhostio_dev *dev, struct vhostio_worker *self, u64 ticket)
{
	bool flushed = true;
	unsigned int i;

	for (i = 0; i < VHOSTIO_MAX_WORKERS; i++) {
		struct vhostio_worker *w = dev->workers[i];

		if (w && w != self && w->attached && smp_load_acquire(&w->flushed) < ticket) {
			worker_wake(w, VHOSTIO_FLUSH_BIT);
			flushed = false;
		}
	}
	return flushed;
}

/* ---- the 6.5 worker ioctls ---- */

long vhostio_worker_ioctl(struct vhostio_dev *dev, unsigned int cmd, void __user *argp)
{
	struct vhostio_vring_worker vw;
	struct vhostio_worker_state ws;
	struct vhostio_worker *w;
	struct vhostio_vq *vq;
	int ret;

	switch (cmd) {
	case VHOSTIO_NEW_WORKER:
		ret = worker_new(dev, false, &w);
		if (ret)
			return ret;
		dev->user_workers = true;
		ws.worker_id = w->id;
		/* A worker the caller never learns of is still freed at release. */
		return copy_to_user(argp, &ws, sizeof(ws)) ? -EFAULT : 0;
	case VHOSTIO_FREE_WORKER:
		if (copy_from_user(&ws, argp, sizeof(ws)))
			return -EFAULT;
		w = ws.worker_id < VHOSTIO_MAX_WORKERS ? dev->workers[ws.worker_id] : NULL;
		if (!w)
			return -ENODEV;
		/* Worker 0 also serves the rings yet to be set up. */
		if (w->attached || !w->id)
			return -EBUSY;
		worker_unlink(dev, w);
		return 0;
	case VHOSTIO_ATTACH_VRING_WORKER:
	case VHOSTIO_GET_VRING_WORKER:
		if (copy_from_user(&vw, argp, sizeof(vw)))
			return -EFAULT;
		vq = vhostio_get_vq(dev, vw.index);
		if (IS_ERR(vq))
			return PTR_ERR(vq);
		if (cmd == VHOSTIO_GET_VRING_WORKER) {
			w = vq_worker(vq);
			if (!w)
				return -ENODEV;
			vw.worker_id = w->id;
			return copy_to_user(argp, &vw, sizeof(vw)) ? -EFAULT : 0;
		}
		w = vw.worker_id < VHOSTIO_MAX_WORKERS ? dev->workers[vw.worker_id] : NULL;
		if (!w)
			return -ENODEV;
		/* The owner places its rings itself from now on. */
		dev->user_workers = true;
		attach(vq, w);
		return 0;
	}
	return -ENOTTY;
}
