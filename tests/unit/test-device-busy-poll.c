/* The busy-poll window: within it, a command queued without an interrupt
 * is still served; with the window at 0 the command thread sleeps until
 * the next interrupt. */
#include <time.h>
#include <unistd.h>

#include "fixture.h"

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

static uint16_t submit_read(struct fixture *f, uint32_t lba)
{
	uint8_t cdb[10];
	cdb_rw10(cdb, 0x28, lba, 1);
	return ringsim_submit(&f->sim, cdb, 512, NULL);
}

int main(void)
{
	struct fixture *f = fx_new(256 * 1024, 1024, 512, false);
	/* A pipe stands in for the uio fd: 4 bytes = one interrupt. */
	int irq[2];
	uint32_t one = 1;
	CHECK(pipe(irq) == 0, "pipe");

	/* A window far longer than this test's gaps. */
	device_set_poll_ns(f->dev, 2000ull * 1000 * 1000);
	CHECK(device_start_thread(f->dev, irq[0]) == 0, "start");
	usleep(50 * 1000); /* the thread's first pass over the empty ring is over */

	uint16_t first = submit_read(f, 1);
	CHECK(write(irq[1], &one, sizeof(one)) == sizeof(one), "interrupt");
	CHECK(completed_within(f, first, 2000), "first command served after its interrupt");
	CHECK_GOOD(f, first);

	/* No interrupt: only a thread still polling the ring can see it. */
	usleep(20 * 1000);
	uint16_t polled = submit_read(f, 2);
	CHECK(completed_within(f, polled, 1000), "command served inside the poll window without an interrupt");
	CHECK_GOOD(f, polled);

	/* Window 0: after the pending wake-ups are consumed the thread sleeps. */
	device_set_poll_ns(f->dev, 0);
	usleep(2100 * 1000); /* let the running window end */
	uint16_t slept = submit_read(f, 3);
	CHECK(!completed_within(f, slept, 200), "without a window the thread sleeps until an interrupt");
	CHECK(write(irq[1], &one, sizeof(one)) == sizeof(one), "interrupt");
	CHECK(completed_within(f, slept, 2000), "served after the interrupt");
	CHECK_GOOD(f, slept);

	fx_free(f);
	close(irq[0]);
	close(irq[1]);
	return test_exit();
}
