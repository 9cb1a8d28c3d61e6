/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command loop.  One thread per device waits for the uio interrupt
 * (and its other fds), drains the ring in batches and runs each command;
 * after a batch it may busy-poll for the next.  PARALLEL handlers get a
 * pool of workers that run the commands instead.  Quiescing stops the
 * fetching and waits for what is in flight.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "device.h"
#include "discovery.h"
#include "inotify.h"
#include "log.h"
#include "scsi_defs.h"
#include "sense.h"

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
	device_fail(io, &st);
}

static void dispatch(struct vhostio_device *dev, struct vhostio_io *io)
{
	if (!dev->opened) {
		not_ready(dev, io);
		return;
	}
	if (dev->n_workers) {
		pthread_mutex_lock(&dev->lock);
		io_fifo_push(&dev->work, io);
		pthread_cond_signal(&dev->work_cond);
		pthread_mutex_unlock(&dev->lock);
		return;
	}
	scsi_execute(io);
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
			    enum ring_fetch_result *results, struct abort_batch *aborts, bool *more)
{
	unsigned n = 0, tmrs = 0;
	bool out_of_memory = false;
	uint64_t now = clock_now_ns(); /* one clock read per batch, for the watchdog */

	if (dev->fetch_hook)
		dev->fetch_hook(dev);
	pthread_mutex_lock(&dev->lock);
	/* Decided under the lock that quiesce sets it under: a command is
	 * either fetched (and counted as outstanding) before the quiesce
	 * looks, or not at all until it is lifted. */
	while (n < FETCH_BATCH && !__atomic_load_n(&dev->paused, __ATOMIC_RELAXED)) {
		struct vhostio_io *io = device_io_get(dev);
		if (!io) {
			/* Leave the rest queued; the next wake-up retries. */
			out_of_memory = true;
			break;
		}
		struct device_io *dio = device_io_of(io);
		enum ring_fetch_result r = ring_fetch(&dev->ring, &io->cmd, &dio->bad, io->iov, dio->iov_cap);
		if (r == RING_EMPTY || r == RING_BROKEN) {
			device_io_put(dev, io);
			break;
		}
		if (r == RING_TMR) {
			/* Marked here, in ring order: every command the TMR names
			 * was fetched before it, none fetched after it is meant.
			 * (A TMR the kernel had to park for ring space names ids
			 * as they were then; an id is reused only after the
			 * 16-bit allocator wraps.) */
			device_io_put(dev, io);
			device_abort_locked(dev, aborts);
			/* TMRs count toward the batch: a ring full of them is not
			 * drained in one hold of the lock. */
			if (++tmrs + n >= FETCH_BATCH) {
				*more = true;
				break;
			}
			continue;
		}
		if (r == RING_CMD && io->cmd.iov_cnt > dio->iov_cap) {
			/* Copy the iovs now: once unlocked the slot can be overwritten. */
			if (device_io_grow_iovs(io, io->cmd.iov_cnt) == 0) {
				ring_fetch_iovs(&dev->ring, io->iov);
			} else {
				r = RING_BAD_CMD;
				dio->bad = scsi_status_from_errno(-ENOMEM, false);
			}
		}
		device_inflight_add(dev, device_io_of(io), now);
		results[n] = r;
		ios[n++] = io;
	}
	pthread_mutex_unlock(&dev->lock);
	if (out_of_memory)
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "out of memory for commands");
	return n;
}

static int reset_via_configfs(struct vhostio_device *dev)
{
	if (!dev->info.configfs_dir[0])
		return -ENODEV;
	int ret = write_configfs_attribute(&dev->info, "action/block_dev", "1");
	if (ret == 0)
		ret = write_configfs_attribute(&dev->info, "action/reset_ring", "1");
	return ret;
}

/*
 * A ring that failed validation is not left to stall until the kernel's
 * timeouts fire: once what we had taken from it has completed, the kernel
 * resets it (its pending commands fail back to the initiator, which
 * retries them), we start afresh at its new tail, and it may queue again.
 */
static void recover_ring(struct vhostio_device *dev)
{
	if (dev->recovery_failed)
		return;
	pthread_mutex_lock(&dev->lock);
	bool drained = dev->ring.outstanding == 0;
	pthread_mutex_unlock(&dev->lock);
	if (!drained)
		return; /* the last completion wakes us */

	const struct device_transport *t = &dev->transport;
	int ret = t->reset_ring ? t->reset_ring(t->opaque) : reset_via_configfs(dev);
	if (ret == 0) {
		pthread_mutex_lock(&dev->lock);
		ring_destroy(&dev->ring);
		ret = ring_init(&dev->ring, dev->map, dev->map_size);
		dev->kicked_tail = dev->ring.tail;
		pthread_mutex_unlock(&dev->lock);
		int unblocked = t->reset_ring ? (t->unblock ? t->unblock(t->opaque) : 0)
					      : write_configfs_attribute(&dev->info, "action/block_dev", "0");
		if (ret == 0 && unblocked < 0)
			ret = unblocked;
	}
	if (ret < 0) {
		dev->recovery_failed = true;
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "cannot recover the broken command ring: %s; the LUN stalls",
				   strerror(-ret));
		return;
	}
	dev->stats.recoveries++;
	vhostio_device_log(dev, VHOSTIO_LOG_WARN,
			   "command ring recovered (reset by the kernel; its pending commands are retried), recovery %" PRIu64,
			   dev->stats.recoveries);
}

int device_process_ring(struct vhostio_device *dev)
{
	int taken = 0;
	struct vhostio_io *ios[FETCH_BATCH];
	enum ring_fetch_result results[FETCH_BATCH];
	struct vhostio_device *prev_thread = device_enter_batch(dev);

	device_run_deferred(dev);
	while (!__atomic_load_n(&dev->paused, __ATOMIC_ACQUIRE)) {
		struct abort_batch aborts = { 0 };
		bool more = false;
		unsigned n = fetch_batch(dev, ios, results, &aborts, &more);
		taken += (int)n;
		dev->stats.commands += n;
		for (unsigned i = 0; i < n; i++) {
			if (results[i] == RING_BAD_CMD)
				device_fail(ios[i], &device_io_of(ios[i])->bad);
			else
				dispatch(dev, ios[i]);
			device_run_deferred(dev);
		}
		/* After the batch's own commands: an aborted one among them has
		 * ended at dispatch without reaching the handler. */
		device_deliver_aborts(dev, &aborts);
		if (n == 0 && !more)
			break;
	}
	if (dev->opened && dev->handler->end_batch && !dev->n_workers)
		dev->handler->end_batch(dev);
	device_leave_batch(prev_thread);

	if (dev->ring.broken)
		recover_ring(dev);

	/* One kick per batch, and also when only PAD/TMR slots were consumed. */
	pthread_mutex_lock(&dev->lock);
	bool need_kick = device_tail_moved_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	if (need_kick)
		device_kick(dev);
	return taken;
}

/*
 * Serve what is ready: the handler's watched fd (when 'watch'), deferred
 * steps, then the ring (which kicks for every completion made here).
 * Returns commands taken.
 */
static int serve_ready(struct vhostio_device *dev, bool watch)
{
	struct vhostio_device *prev_thread = device_enter_batch(dev);
	if (watch && dev->watch_ready)
		dev->watch_ready(dev, dev->watch_arg);
	device_run_deferred(dev);
	device_leave_batch(prev_thread);
	return device_process_ring(dev);
}

/*
 * Something in wwn/ was written (rtslib sets the serial after enabling the
 * device, and the kernel sends no event): if it was vpd_unit_serial, take
 * the new serial.  Only when an administrator wrote it, so no configfs
 * read is on the command path.
 */
static void serial_changed(struct vhostio_device *dev)
{
	char buf[4096];
	bool serial = false;
	ssize_t n;

	/* Read until it is empty (each read returns whole events), so that poll() stops reporting it. */
	while ((n = read(dev->serial_watch_fd, buf, sizeof(buf))) > 0)
		if (inotify_names_serial(buf, (size_t)n))
			serial = true;
	char text[SCSI_SERIAL_MAX];
	if (serial && read_configfs_serial(&dev->info, text, sizeof(text)) > 0) {
		scsi_lun_set_serial(&dev->lun, text);
		vhostio_device_log(dev, VHOSTIO_LOG_INFO, "unit serial is now '%s'", text);
	}
}

enum { PFD_UIO, PFD_STOP, PFD_WAKE, PFD_WATCH, PFD_SERIAL, PFD_COUNT };

/* Wait for events and serve them.  Returns commands taken, or -errno to stop. */
static int serve_events(struct vhostio_device *dev, int timeout_ms)
{
	struct pollfd pfd[PFD_COUNT] = {
		[PFD_UIO] = { .fd = dev->uio_fd, .events = POLLIN },
		[PFD_STOP] = { .fd = dev->stop_fd, .events = POLLIN },
		[PFD_WAKE] = { .fd = dev->wake_fd, .events = POLLIN },
		[PFD_WATCH] = { .fd = dev->watch_fd, .events = POLLIN },
		[PFD_SERIAL] = { .fd = dev->serial_watch_fd, .events = POLLIN },
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
	if (pfd[PFD_SERIAL].revents & POLLIN)
		serial_changed(dev);
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
	uint64_t deadline = clock_now_ns() + poll_ns;
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
			if (!watch && clock_now_ns() >= deadline)
				break;
		}
		if (ready || watch) {
			dev->stats.polled += (uint64_t)serve_ready(dev, watch);
			deadline = clock_now_ns() + poll_ns;
		}
	}
}

static void *device_thread(void *arg)
{
	struct vhostio_device *dev = arg;

	device_become_command_thread(dev);
	/* Commands may already be queued (reattach after a restart, reconfig). */
	device_process_ring(dev);
	for (;;) {
		/* While commands are in flight, wake at least once a second for the watchdog. */
		int ret = serve_events(dev, __atomic_load_n(&dev->inflight, __ATOMIC_RELAXED) ? 1000 : -1);
		uint64_t now = clock_now_ns();
		if (now >= dev->watchdog_next_ns) {
			device_watchdog(dev, now);
			dev->watchdog_next_ns = now + 1000000000u;
		}
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
		while (!dev->work.head && !dev->workers_stop)
			pthread_cond_wait(&dev->work_cond, &dev->lock);
		struct vhostio_io *io = io_fifo_pop(&dev->work);
		pthread_mutex_unlock(&dev->lock);
		if (!io)
			return NULL;
		scsi_execute(io);
	}
}

/* ---- threads ---- */

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
	/* dev->drained waits on CLOCK_MONOTONIC: a wall-clock step does not
	 * cut the wait short or stretch it. */
	struct timespec deadline = clock_deadline_ms(timeout_ms);
	bool drained = true;

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
	bool need_kick = !dev->ring.broken && device_tail_moved_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	if (need_kick)
		device_kick(dev);
}

/* Stop or resume fetching, under the lock fetch_batch() decides under. */
static void set_paused(struct vhostio_device *dev, bool paused)
{
	pthread_mutex_lock(&dev->lock);
	__atomic_store_n(&dev->paused, paused, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dev->lock);
}

bool device_stop(struct vhostio_device *dev, int give_up_ms)
{
	/* Closing the handler under requests it still owns would let their
	 * completions touch freed memory, but removal and shutdown must not
	 * hang on a handler that never answers: wait a bounded time. */
	enum { LOG_EVERY_MS = 5000 };
	set_paused(dev, true);
	for (int waited = 0; !wait_drained(dev, give_up_ms - waited < LOG_EVERY_MS ? give_up_ms - waited : LOG_EVERY_MS);) {
		waited += LOG_EVERY_MS;
		if (waited >= give_up_ms)
			return false;
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "still waiting for the handler to finish (%d of %d ms)",
				   waited, give_up_ms);
	}
	finish_quiesce(dev);
	return true;
}

bool device_quiesce(struct vhostio_device *dev, int timeout_ms)
{
	/* The thread keeps running so that handler completions (watched fd,
	 * deferred steps) still get served while we wait. */
	set_paused(dev, true);
	if (!wait_drained(dev, timeout_ms)) {
		set_paused(dev, false);
		device_wake_command_thread(dev);
		return false;
	}
	finish_quiesce(dev);
	return true;
}

int device_unquiesce(struct vhostio_device *dev)
{
	set_paused(dev, false);
	if (dev->uio_fd < 0)
		return 0; /* driven by hand (tests) */
	return start_threads(dev);
}

