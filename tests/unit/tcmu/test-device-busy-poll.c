/* The busy-poll window: within it, a command queued without an interrupt
 * is still served, and so is the handler's watched fd (its completions must
 * not wait for the window to close); with the window at 0 the command
 * thread sleeps until the next interrupt. */
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "scsi_defs.h"

/* Wait up to ms for the command to complete. */
static bool completed_within(struct fixture *f, uint16_t id, int ms)
{
	for (int waited = 0; waited < ms; waited++) {
		if (__atomic_load_n(&f->sim.results[id].done, __ATOMIC_ACQUIRE))
			return true;
		usleep(1000);
	}
	return __atomic_load_n(&f->sim.results[id].done, __ATOMIC_ACQUIRE);
}

static int watch_calls;

static void watch_ready(struct vhostio_device *dev, void *arg)
{
	uint64_t n;
	(void)dev;
	if (read(*(int *)arg, &n, sizeof(n)) == sizeof(n))
		__atomic_add_fetch(&watch_calls, 1, __ATOMIC_RELEASE);
}

static bool watch_called_within(int calls, int ms)
{
	for (int waited = 0; waited < ms; waited++, usleep(1000))
		if (__atomic_load_n(&watch_calls, __ATOMIC_ACQUIRE) >= calls)
			return true;
	return false;
}

static uint16_t submit_read(struct fixture *f, uint32_t lba)
{
	uint8_t cdb[10];
	cdb_rw10(cdb, OP_READ_10, lba, 1);
	return ringsim_submit(&f->sim, cdb, 512, NULL);
}

int main(void)
{
	struct fixture *f = fx_new(256 * 1024, 1024, 512, false);
	/* A pipe stands in for the uio fd: 4 bytes = one interrupt. */
	int irq[2];
	uint32_t one = 1;
	CHECK(pipe(irq) == 0, "pipe");

	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK(efd >= 0 && vhostio_device_watch_fd(f->dev, efd, watch_ready, &efd) == 0, "watch an eventfd");

	/* A window far longer than this test's gaps, even on a loaded machine
	 * (2 s was seen to run out under a load of 20 on 2 CPUs). */
	device_set_poll_ns(f->dev, 6000ull * 1000 * 1000);
	CHECK(device_start_thread(f->dev, irq[0]) == 0, "start");
	usleep(50 * 1000); /* the thread's first pass over the empty ring is over */

	uint16_t first = submit_read(f, 1);
	CHECK(write(irq[1], &one, sizeof(one)) == sizeof(one), "interrupt");
	CHECK(completed_within(f, first, 2000), "first command served after its interrupt");
	CHECK_GOOD(f, first);

	/* No interrupt: only a thread still polling the ring can see it. */
	usleep(20 * 1000);
	uint16_t polled = submit_read(f, 2);
	CHECK(completed_within(f, polled, 3000), "command served inside the poll window without an interrupt");
	CHECK_GOOD(f, polled);

	/* Still inside the window (it restarted with that command). */
	uint64_t tick = 1;
	CHECK(write(efd, &tick, sizeof(tick)) == sizeof(tick), "signal the watched fd");
	CHECK(watch_called_within(1, 500), "watched fd served while spinning (%d calls)", watch_calls);

	/* Window 0: after the pending wake-ups are consumed the thread sleeps. */
	device_set_poll_ns(f->dev, 0);
	usleep(6100 * 1000); /* let the running window end */
	uint16_t slept = submit_read(f, 3);
	CHECK(!completed_within(f, slept, 200), "without a window the thread sleeps until an interrupt");
	CHECK(write(irq[1], &one, sizeof(one)) == sizeof(one), "interrupt");
	CHECK(completed_within(f, slept, 2000), "served after the interrupt");
	CHECK_GOOD(f, slept);

	fx_free(f);
	close(efd);
	close(irq[0]);
	close(irq[1]);
	return test_exit();
}
