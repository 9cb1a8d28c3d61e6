/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device command loop.  One thread per device waits for the uio interrupt,
 * drains the ring and runs each command; completions (from that thread or
 * any other) write the response into the ring and, once per batch, kick
 * the kernel.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "log.h"
#include "scsi_defs.h"

/* Set while a thread drains a device's ring or serves its events:
 * completions made meanwhile leave the kick to the end of the batch. */
static __thread struct vhostio_device *batch_device;
/* The device whose command thread this is (or that a test drives by hand). */
static __thread struct vhostio_device *command_thread_of;
/* >0 while a step runs: nested steps are queued, not recursed into. */
static __thread int step_depth;

/* ---- accessors (public) ---- */

const char *vhostio_device_config(const struct vhostio_device *dev)
{
	return dev->handler_config;
}

const char *vhostio_device_name(const struct vhostio_device *dev)
{
	return dev->info.name;
}

uint32_t vhostio_device_block_size(const struct vhostio_device *dev)
{
	return dev->info.block_size;
}

uint64_t vhostio_device_num_lbas(const struct vhostio_device *dev)
{
	return dev->info.num_lbas;
}

uint64_t vhostio_device_size(const struct vhostio_device *dev)
{
	return dev->info.num_lbas * dev->info.block_size;
}

void vhostio_device_set_private(struct vhostio_device *dev, void *priv)
{
	dev->priv = priv;
}

void *vhostio_device_private(const struct vhostio_device *dev)
{
	return dev->priv;
}

int vhostio_device_write_cache(const struct vhostio_device *dev)
{
	return __atomic_load_n(&dev->info.write_cache, __ATOMIC_ACQUIRE);
}

void vhostio_device_disable_caps(struct vhostio_device *dev, uint32_t caps)
{
	dev->caps &= ~caps;
	dev->native_caps &= ~caps;
}

uint32_t vhostio_device_caps(const struct vhostio_device *dev)
{
	return dev->caps;
}

uint32_t vhostio_io_flags(const struct vhostio_io *io)
{
	return io->flags;
}

int vhostio_device_watch_fd(struct vhostio_device *dev, int fd,
			    void (*ready)(struct vhostio_device *dev, void *arg), void *arg)
{
	if (fd < 0 || !ready)
		return -EINVAL;
	if (dev->watch_fd >= 0)
		return -EBUSY;
	dev->watch_fd = fd;
	dev->watch_ready = ready;
	dev->watch_arg = arg;
	return 0;
}

/* ---- io pool ---- */

static void io_reset(struct vhostio_io *io)
{
	io->is_write = false;
	io->flush_after = false;
	io->flags = 0;
	io->next_step = NULL;
	io->queued_step = NULL;
	io->bounce = NULL;
	io->bounce_len = 0;
	io->holds_caw_lock = false;
	io->next = NULL;
}

static struct vhostio_io *io_get(struct vhostio_device *dev)
{
	struct vhostio_io *io = dev->free_ios;
	if (io) {
		dev->free_ios = io->next;
		io_reset(io);
		return io;
	}
	io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	io->dev = dev;
	io->iov = io->iov_inline;
	io->iov_cap = IO_INLINE_IOVS;
	return io;
}

static void io_put(struct vhostio_device *dev, struct vhostio_io *io)
{
	io->next = dev->free_ios;
	dev->free_ios = io;
}

/* Singly linked FIFO of ios through io->next. */
static void io_queue_push(struct vhostio_io **head, struct vhostio_io **tail, struct vhostio_io *io)
{
	io->next = NULL;
	if (*tail)
		(*tail)->next = io;
	else
		*head = io;
	*tail = io;
}

static struct vhostio_io *io_queue_pop(struct vhostio_io **head, struct vhostio_io **tail)
{
	struct vhostio_io *io = *head;
	if (io) {
		*head = io->next;
		if (!*head)
			*tail = NULL;
		io->next = NULL;
	}
	return io;
}

static void wake_command_thread(struct vhostio_device *dev)
{
	uint64_t one = 1;
	if (dev->wake_fd >= 0 && write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "cannot wake the command thread: %s", strerror(errno));
}

/* ---- steps: multi-step emulation on the command thread ---- */

static void run_deferred(struct vhostio_device *dev)
{
	/* Cheap test first: this runs after every command. */
	if (!__atomic_load_n(&dev->n_deferred, __ATOMIC_ACQUIRE))
		return;
	for (;;) {
		pthread_mutex_lock(&dev->lock);
		struct vhostio_io *io = io_queue_pop(&dev->deferred_head, &dev->deferred_tail);
		if (io)
			__atomic_sub_fetch(&dev->n_deferred, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&dev->lock);
		if (!io)
			return;
		io_step_fn step = io->queued_step;
		io->queued_step = NULL;
		step_depth++;
		step(io);
		step_depth--;
	}
}

void device_run_step(struct vhostio_io *io, io_step_fn step)
{
	struct vhostio_device *dev = io->dev;
	bool here = command_thread_of == dev || dev->handler->thread_model == VHOSTIO_THREAD_PARALLEL;

	if (here && step_depth == 0) {
		step_depth++;
		step(io);
		step_depth--;
		run_deferred(dev);
		return;
	}
	/* Another thread, or nested in a step (a synchronous handler): queue,
	 * so a long emulation loops instead of recursing. */
	io->queued_step = step;
	pthread_mutex_lock(&dev->lock);
	io_queue_push(&dev->deferred_head, &dev->deferred_tail, io);
	__atomic_add_fetch(&dev->n_deferred, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dev->lock);
	if (!here)
		wake_command_thread(dev);
}

static void reexecute(struct vhostio_io *io)
{
	scsi_execute(io->dev, io);
}

bool device_caw_lock(struct vhostio_io *io)
{
	struct vhostio_device *dev = io->dev;
	if (io->holds_caw_lock)
		return true;
	pthread_mutex_lock(&dev->lock);
	bool got = !dev->caw_busy;
	if (got) {
		dev->caw_busy = true;
		io->holds_caw_lock = true;
	} else {
		io_queue_push(&dev->caw_waiters_head, &dev->caw_waiters_tail, io);
	}
	pthread_mutex_unlock(&dev->lock);
	return got;
}

uint16_t device_take_unit_attention(struct vhostio_device *dev)
{
	if (!__atomic_load_n(&dev->pending_ua, __ATOMIC_RELAXED))
		return 0;
	return __atomic_exchange_n(&dev->pending_ua, 0, __ATOMIC_ACQ_REL);
}

static int io_grow_iovs(struct vhostio_io *io, uint32_t n)
{
	struct iovec *iov = malloc((size_t)n * sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	if (io->iov != io->iov_inline)
		free(io->iov);
	io->iov = iov;
	io->iov_cap = n;
	return 0;
}

/* ---- completion ---- */

/* Caller holds dev->lock.  Returns true if the kernel must be kicked. */
static bool tail_moved_locked(struct vhostio_device *dev)
{
	if (dev->ring.tail == dev->kicked_tail)
		return false;
	dev->kicked_tail = dev->ring.tail;
	return true;
}

static void kick(struct vhostio_device *dev)
{
	__atomic_add_fetch(&dev->stats.kicks, 1, __ATOMIC_RELAXED);
	int ret = dev->transport.kick(dev->transport.opaque);
	if (ret < 0)
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "cannot notify the kernel: %s", strerror(-ret));
}

void device_complete(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len)
{
	struct vhostio_device *dev = io->dev;
	struct vhostio_io *caw_next = NULL;

	if (io->bounce) {
		free(io->bounce);
		io->bounce = NULL;
	}
	pthread_mutex_lock(&dev->lock);
	if (io->holds_caw_lock) {
		/* Hand the lock straight to the next COMPARE AND WRITE. */
		caw_next = io_queue_pop(&dev->caw_waiters_head, &dev->caw_waiters_tail);
		if (caw_next)
			caw_next->holds_caw_lock = true;
		else
			dev->caw_busy = false;
	}
	ring_complete(&dev->ring, io->cmd.cmd_id, st, read_len,
		      __atomic_load_n(&dev->descriptor_sense, __ATOMIC_RELAXED));
	io_put(dev, io);
	bool need_kick = batch_device != dev && tail_moved_locked(dev);
	if (dev->ring.outstanding == 0 && dev->drain_waiters)
		pthread_cond_broadcast(&dev->drained);
	pthread_mutex_unlock(&dev->lock);

	if (need_kick)
		kick(dev);
	if (caw_next)
		device_run_step(caw_next, reexecute);
}

struct vhostio_scsi_status device_status_from_errno(int err, bool is_write)
{
	struct vhostio_scsi_status st = { .status = VHOSTIO_SAM_CHECK_CONDITION };
	uint16_t asc;

	switch (err) {
	case 0:
		return (struct vhostio_scsi_status){ .status = VHOSTIO_SAM_GOOD };
	case -EAGAIN:
	case -EBUSY:
		return (struct vhostio_scsi_status){ .status = VHOSTIO_SAM_BUSY };
	case -EIO:
	case -ENODATA:
		st.sense_key = VHOSTIO_SENSE_MEDIUM_ERROR;
		asc = is_write ? ASC_WRITE_ERROR : ASC_UNRECOVERED_READ_ERROR;
		break;
	case -ENOSPC:
	case -EDQUOT:
		st.sense_key = VHOSTIO_SENSE_DATA_PROTECT;
		asc = ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT;
		break;
	case -EROFS:
	case -EPERM:
	case -EACCES:
		st.sense_key = VHOSTIO_SENSE_DATA_PROTECT;
		asc = ASC_WRITE_PROTECTED;
		break;
	default:
		st.sense_key = VHOSTIO_SENSE_HARDWARE_ERROR;
		asc = ASC_INTERNAL_TARGET_FAILURE;
		break;
	}
	st.asc = asc >> 8;
	st.ascq = asc & 0xff;
	return st;
}

static void flush_after_write(struct vhostio_io *io)
{
	if (io->step_result < 0)
		return vhostio_io_complete(io, io->step_result);
	int ret = io->dev->handler->flush(io->dev, io);
	if (ret != VHOSTIO_IO_ASYNC)
		vhostio_io_complete(io, ret);
}

void vhostio_io_complete(struct vhostio_io *io, int result)
{
	static const struct vhostio_scsi_status good = { .status = VHOSTIO_SAM_GOOD };

	if (result > 0)
		result = 0;
	/* The common case: a plain READ or WRITE that succeeded. */
	if (result == 0 && !io->next_step && !io->flush_after)
		return device_complete(io, &good, UINT32_MAX);
	if (io->next_step) {
		io_step_fn step = io->next_step;
		io->next_step = NULL;
		io->step_result = result;
		return device_run_step(io, step);
	}
	if (result == 0 && io->flush_after) {
		/* Emulated FUA: the write is done, now the flush, on the command thread. */
		io->flush_after = false;
		io->step_result = 0;
		return device_run_step(io, flush_after_write);
	}
	if (result < 0)
		vhostio_device_log(io->dev, VHOSTIO_LOG_WARN, "%s failed: %s",
				   io->is_write ? "write" : "read", strerror(-result));
	struct vhostio_scsi_status st = device_status_from_errno(result, io->is_write);
	device_complete(io, &st, UINT32_MAX);
}

void vhostio_io_complete_scsi(struct vhostio_io *io, const struct vhostio_scsi_status *st)
{
	/* GOOD is plain success: whatever follows (a FUA flush, the next
	 * emulation step) still has to run. */
	if (st->status == VHOSTIO_SAM_GOOD)
		return vhostio_io_complete(io, 0);
	device_complete(io, st, UINT32_MAX);
}

/* ---- the ring loop ---- */

static void not_ready(struct vhostio_device *dev, struct vhostio_io *io)
{
	/* The handler could not be reopened after a reconfig: nothing to serve. */
	struct vhostio_scsi_status st = {
		.status = VHOSTIO_SAM_CHECK_CONDITION,
		.sense_key = VHOSTIO_SENSE_NOT_READY,
		.asc = ASC_LUN_NOT_READY_MANUAL_INTERVENTION >> 8,
		.ascq = ASC_LUN_NOT_READY_MANUAL_INTERVENTION & 0xff,
	};
	(void)dev;
	device_complete(io, &st, UINT32_MAX);
}

static void dispatch(struct vhostio_device *dev, struct vhostio_io *io)
{
	if (!dev->opened)
		return not_ready(dev, io);
	if (dev->n_workers) {
		pthread_mutex_lock(&dev->lock);
		io_queue_push(&dev->work_head, &dev->work_tail, io);
		pthread_cond_signal(&dev->work_cond);
		pthread_mutex_unlock(&dev->lock);
		return;
	}
	scsi_execute(dev, io);
}

/* Commands taken off the ring under one hold of dev->lock. */
enum { FETCH_BATCH = 32 };

/*
 * Move up to FETCH_BATCH commands from the ring into ios[] under one lock
 * (the lock orders us against completions from other threads, which move
 * the tail).  results[i] says whether ios[i] is a command or a malformed
 * entry to fail.  Returns how many were taken.
 */
static unsigned fetch_batch(struct vhostio_device *dev, struct vhostio_io **ios,
			    enum ring_fetch_result *results)
{
	unsigned n = 0;
	bool out_of_memory = false;

	pthread_mutex_lock(&dev->lock);
	while (n < FETCH_BATCH) {
		struct vhostio_io *io = io_get(dev);
		if (!io) {
			/* Leave the rest queued; the next wake-up retries. */
			out_of_memory = true;
			break;
		}
		enum ring_fetch_result r = ring_fetch(&dev->ring, &io->cmd, io->iov, io->iov_cap);
		if (r == RING_EMPTY || r == RING_BROKEN) {
			io_put(dev, io);
			break;
		}
		if (r == RING_CMD && io->cmd.iov_cnt > io->iov_cap) {
			/* Copy the iovs now: once unlocked the slot can be overwritten. */
			if (io_grow_iovs(io, io->cmd.iov_cnt) == 0) {
				ring_fetch_iovs(&dev->ring, io->iov);
			} else {
				r = RING_BAD_CMD;
				io->cmd.bad = device_status_from_errno(-ENOMEM, false);
			}
		}
		results[n] = r;
		ios[n++] = io;
	}
	pthread_mutex_unlock(&dev->lock);
	if (out_of_memory)
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "out of memory for commands");
	return n;
}

int device_process_ring(struct vhostio_device *dev)
{
	int taken = 0;
	struct vhostio_device *prev_thread = command_thread_of;
	struct vhostio_io *ios[FETCH_BATCH];
	enum ring_fetch_result results[FETCH_BATCH];

	command_thread_of = dev;
	batch_device = dev;
	run_deferred(dev);
	while (!__atomic_load_n(&dev->paused, __ATOMIC_ACQUIRE)) {
		unsigned n = fetch_batch(dev, ios, results);
		if (n == 0)
			break;
		taken += (int)n;
		dev->stats.commands += n;
		for (unsigned i = 0; i < n; i++) {
			if (results[i] == RING_BAD_CMD)
				device_complete(ios[i], &ios[i]->cmd.bad, UINT32_MAX);
			else
				dispatch(dev, ios[i]);
			run_deferred(dev);
		}
	}
	if (dev->opened && dev->handler->end_batch && !dev->n_workers)
		dev->handler->end_batch(dev);
	batch_device = NULL;
	command_thread_of = prev_thread;

	/* One kick per batch, and also when only PAD/TMR slots were consumed. */
	pthread_mutex_lock(&dev->lock);
	bool need_kick = tail_moved_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	if (need_kick)
		kick(dev);
	return taken;
}

/*
 * Serve what is ready: the handler's watched fd (when 'watch'), deferred
 * steps, then the ring (which kicks for every completion made here).
 * Returns commands taken.
 */
static int serve_ready(struct vhostio_device *dev, bool watch)
{
	struct vhostio_device *prev_thread = command_thread_of;
	command_thread_of = dev;
	batch_device = dev;
	if (watch && dev->watch_ready)
		dev->watch_ready(dev, dev->watch_arg);
	run_deferred(dev);
	batch_device = NULL;
	command_thread_of = prev_thread;
	return device_process_ring(dev);
}

enum { PFD_UIO, PFD_STOP, PFD_WAKE, PFD_WATCH, PFD_COUNT };

/* Wait for events and serve them.  Returns commands taken, or -errno to stop. */
static int serve_events(struct vhostio_device *dev, int timeout_ms)
{
	struct pollfd pfd[PFD_COUNT] = {
		[PFD_UIO] = { .fd = dev->uio_fd, .events = POLLIN },
		[PFD_STOP] = { .fd = dev->stop_fd, .events = POLLIN },
		[PFD_WAKE] = { .fd = dev->wake_fd, .events = POLLIN },
		[PFD_WATCH] = { .fd = dev->watch_fd, .events = POLLIN },
	};

	if (poll(pfd, PFD_COUNT, timeout_ms) < 0)
		return errno == EINTR ? 0 : -errno;
	dev->stats.wakeups++;
	if (pfd[PFD_STOP].revents)
		return -ECANCELED;
	if (pfd[PFD_UIO].revents & POLLIN) {
		/* uio requires exactly 4 bytes: the interrupt count. */
		uint32_t count;
		if (read(dev->uio_fd, &count, sizeof(count)) != sizeof(count) && errno != EAGAIN) {
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "uio read: %s", strerror(errno));
			return -EIO;
		}
	} else if (pfd[PFD_UIO].revents & (POLLERR | POLLHUP | POLLNVAL)) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "uio device went away");
		return -ENODEV;
	}
	if (pfd[PFD_WAKE].revents & POLLIN) {
		uint64_t n;
		if (read(dev->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			return -errno;
	}
	return serve_ready(dev, pfd[PFD_WATCH].revents != 0);
}

int device_serve_once(struct vhostio_device *dev, int timeout_ms)
{
	if (dev->wake_fd < 0) {
		dev->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (dev->wake_fd < 0)
			return -errno;
	}
	return serve_events(dev, timeout_ms);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

static bool fd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

/*
 * Spin up to poll_ns for the next command instead of sleeping in poll():
 * at queue depth > 1 the initiator usually sends more within microseconds,
 * and each sleep costs a poll(), a read() of the uio count and two context
 * switches.  The uio events counted meanwhile make the next poll() return
 * at once; that turn finds the ring empty and costs one pass.  Handler
 * completions (the watched fd, e.g. io_uring's eventfd) are served while
 * spinning too, or they would wait for the window to close.
 */
static void busy_poll(struct vhostio_device *dev, uint64_t poll_ns)
{
	uint64_t deadline = now_ns() + poll_ns;
	unsigned spins = 0;

	while (!__atomic_load_n(&dev->paused, __ATOMIC_ACQUIRE)) {
		bool ready = ring_has_entries(&dev->ring) || __atomic_load_n(&dev->n_deferred, __ATOMIC_ACQUIRE);
		bool watch = false;
		if (!ready) {
			cpu_relax();
			/* The system calls below only every few spins. */
			if (++spins % 64)
				continue;
			watch = dev->watch_fd >= 0 && dev->watch_ready && fd_readable(dev->watch_fd);
			if (!watch && now_ns() >= deadline)
				break;
		}
		if (ready || watch) {
			dev->stats.polled += (uint64_t)serve_ready(dev, watch);
			deadline = now_ns() + poll_ns;
		}
	}
}

static void *device_thread(void *arg)
{
	struct vhostio_device *dev = arg;

	command_thread_of = dev;
	/* Commands may already be queued (reattach after a restart, reconfig). */
	device_process_ring(dev);
	for (;;) {
		int ret = serve_events(dev, -1);
		if (ret == -ECANCELED)
			break;
		if (ret < 0) {
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "command thread stops: %s", strerror(-ret));
			break;
		}
		uint64_t poll_ns = __atomic_load_n(&dev->poll_ns, __ATOMIC_RELAXED);
		if (ret > 0 && poll_ns)
			busy_poll(dev, poll_ns);
	}
	return NULL;
}

static void *worker_thread(void *arg)
{
	struct vhostio_device *dev = arg;

	for (;;) {
		pthread_mutex_lock(&dev->lock);
		while (!dev->work_head && !dev->workers_stop)
			pthread_cond_wait(&dev->work_cond, &dev->lock);
		struct vhostio_io *io = io_queue_pop(&dev->work_head, &dev->work_tail);
		pthread_mutex_unlock(&dev->lock);
		if (!io)
			return NULL;
		scsi_execute(dev, io);
	}
}

/* ---- lifecycle ---- */

/* Which features are offered, and which the handler does itself. */
static void resolve_caps(struct vhostio_device *dev)
{
	const struct vhostio_handler *h = dev->handler;
	uint32_t caps = VHOSTIO_CAP_FUA | VHOSTIO_CAP_WRITE_SAME | VHOSTIO_CAP_COMPARE_AND_WRITE;
	uint32_t native = h->native_caps & VHOSTIO_CAP_FUA;

	if (h->flush) {
		caps |= VHOSTIO_CAP_FLUSH;
		native |= VHOSTIO_CAP_FLUSH;
	}
	if (h->unmap) {
		caps |= VHOSTIO_CAP_UNMAP;
		native |= VHOSTIO_CAP_UNMAP;
	}
	if (h->write_same)
		native |= VHOSTIO_CAP_WRITE_SAME;
	dev->caps = caps & ~h->no_caps;
	dev->native_caps = native & dev->caps;
}

int device_open_handler(struct vhostio_device *dev)
{
	const char *slash = strchr(dev->info.cfgstring, '/');
	dev->handler_config = slash ? slash + 1 : "";
	resolve_caps(dev);
	dev->watch_fd = -1;
	dev->watch_ready = NULL;
	int ret = dev->handler->open(dev);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "handler %s cannot open '%s': %s",
				   dev->handler->subtype, dev->handler_config, strerror(-ret));
		dev->watch_fd = -1;
		return ret;
	}
	dev->opened = true;
	return 0;
}

void device_close_handler(struct vhostio_device *dev)
{
	if (dev->opened && dev->handler->close)
		dev->handler->close(dev);
	dev->opened = false;
	dev->watch_fd = -1;
	dev->watch_ready = NULL;
	dev->priv = NULL;
}

int device_create(struct vhostio_device **devp, const struct device_info *info,
		  const struct vhostio_handler *handler, void *map, size_t map_size,
		  struct device_transport transport)
{
	struct vhostio_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->info = *info;
	dev->handler = handler;
	dev->map = map;
	dev->map_size = map_size;
	dev->transport = transport;
	dev->uio_fd = -1;
	dev->stop_fd = -1;
	dev->wake_fd = -1;
	dev->watch_fd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_cond_init(&dev->drained, NULL);
	pthread_cond_init(&dev->work_cond, NULL);

	int ret = ring_init(&dev->ring, map, map_size);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "unusable command ring");
		goto fail;
	}
	dev->kicked_tail = dev->ring.tail;

	ret = device_open_handler(dev);
	if (ret < 0)
		goto fail;
	*devp = dev;
	return 0;
fail:
	pthread_cond_destroy(&dev->work_cond);
	pthread_cond_destroy(&dev->drained);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return ret;
}

static void stop_threads(struct vhostio_device *dev)
{
	if (dev->thread_started) {
		uint64_t one = 1;
		if (write(dev->stop_fd, &one, sizeof(one)) < 0)
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "cannot stop command thread");
		pthread_join(dev->thread, NULL);
		dev->thread_started = false;
	}
	if (dev->stop_fd >= 0) {
		close(dev->stop_fd);
		dev->stop_fd = -1;
	}
	if (dev->n_workers) {
		pthread_mutex_lock(&dev->lock);
		dev->workers_stop = true;
		pthread_cond_broadcast(&dev->work_cond);
		pthread_mutex_unlock(&dev->lock);
		for (unsigned i = 0; i < dev->n_workers; i++)
			pthread_join(dev->workers[i], NULL);
		free(dev->workers);
		dev->workers = NULL;
		dev->n_workers = 0;
		dev->workers_stop = false;
	}
}

static int start_threads(struct vhostio_device *dev)
{
	int ret;

	dev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->wake_fd < 0)
		dev->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->stop_fd < 0 || dev->wake_fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (dev->handler->thread_model == VHOSTIO_THREAD_PARALLEL) {
		unsigned n = dev->handler->max_parallel ? dev->handler->max_parallel : 4;
		dev->workers = calloc(n, sizeof(*dev->workers));
		if (!dev->workers) {
			ret = -ENOMEM;
			goto fail;
		}
		for (; dev->n_workers < n; dev->n_workers++) {
			ret = -pthread_create(&dev->workers[dev->n_workers], NULL, worker_thread, dev);
			if (ret)
				goto fail;
		}
	}
	ret = -pthread_create(&dev->thread, NULL, device_thread, dev);
	if (ret)
		goto fail;
	dev->thread_started = true;
	return 0;
fail:
	stop_threads(dev);
	return ret;
}

int device_start_thread(struct vhostio_device *dev, int event_fd)
{
	dev->uio_fd = event_fd;
	return start_threads(dev);
}

/* Wait until nothing is in flight; false on timeout. */
static bool wait_drained(struct vhostio_device *dev, int timeout_ms)
{
	struct timespec deadline;
	bool drained = true;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&dev->lock);
	dev->drain_waiters++;
	while (dev->ring.outstanding > 0) {
		if (pthread_cond_timedwait(&dev->drained, &dev->lock, &deadline) == ETIMEDOUT) {
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "%u commands still in flight after %d ms",
					   dev->ring.outstanding, timeout_ms);
			drained = false;
			break;
		}
	}
	dev->drain_waiters--;
	pthread_mutex_unlock(&dev->lock);
	return drained;
}

static void finish_quiesce(struct vhostio_device *dev)
{
	stop_threads(dev);
	pthread_mutex_lock(&dev->lock);
	bool need_kick = !dev->ring.broken && tail_moved_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	if (need_kick)
		kick(dev);
}

bool device_quiesce(struct vhostio_device *dev, int timeout_ms)
{
	/* The thread keeps running so that handler completions (watched fd,
	 * deferred steps) still get served while we wait. */
	__atomic_store_n(&dev->paused, true, __ATOMIC_RELEASE);
	if (!wait_drained(dev, timeout_ms)) {
		__atomic_store_n(&dev->paused, false, __ATOMIC_RELEASE);
		wake_command_thread(dev);
		return false;
	}
	finish_quiesce(dev);
	return true;
}

int device_unquiesce(struct vhostio_device *dev)
{
	__atomic_store_n(&dev->paused, false, __ATOMIC_RELEASE);
	if (dev->uio_fd < 0)
		return 0; /* driven by hand (tests) */
	return start_threads(dev);
}

static void log_stats(struct vhostio_device *dev)
{
	uint64_t n = dev->stats.commands, kicks = __atomic_load_n(&dev->stats.kicks, __ATOMIC_RELAXED);
	if (!n)
		return;
	vhostio_device_log(dev, VHOSTIO_LOG_INFO,
			   "served %" PRIu64 " commands: %.2f per wake-up, %.2f per kick, %.1f%% found by busy-polling",
			   n, dev->stats.wakeups ? (double)n / (double)dev->stats.wakeups : 0.0,
			   kicks ? (double)n / (double)kicks : 0.0, 100.0 * (double)dev->stats.polled / (double)n);
}

void device_destroy(struct vhostio_device *dev, int timeout_ms)
{
	/* Closing the handler under requests it still owns would let their
	 * completions touch freed memory: wait as long as it takes. */
	__atomic_store_n(&dev->paused, true, __ATOMIC_RELEASE);
	while (!wait_drained(dev, timeout_ms))
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "still waiting for the handler to finish");
	finish_quiesce(dev);
	log_stats(dev);
	device_close_handler(dev);
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);

	while (dev->free_ios) {
		struct vhostio_io *io = dev->free_ios;
		dev->free_ios = io->next;
		if (io->iov != io->iov_inline)
			free(io->iov);
		free(io);
	}
	pthread_cond_destroy(&dev->work_cond);
	pthread_cond_destroy(&dev->drained);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}
