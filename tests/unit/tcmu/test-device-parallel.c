/* Thread model PARALLEL: a blocking handler's callbacks for one device run
 * concurrently on the library's workers, max_parallel at a time. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "scsi_defs.h"

#define WORKERS 4
#define COMMANDS 12

static int inflight, max_inflight;

static int blocking_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
			 int iovcnt, size_t length, uint64_t offset)
{
	(void)dev, (void)io, (void)iov, (void)iovcnt, (void)length, (void)offset;
	int now = __atomic_add_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
	int seen = __atomic_load_n(&max_inflight, __ATOMIC_SEQ_CST);
	while (now > seen && !__atomic_compare_exchange_n(&max_inflight, &seen, now, false,
							    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
	/* Block until all workers are in here (or 2 s: then the test fails). */
	for (int i = 0; i < 200 && __atomic_load_n(&max_inflight, __ATOMIC_SEQ_CST) < WORKERS; i++)
		usleep(10000);
	__atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int main(void)
{
	struct vhostio_handler h = memdisk_handler;
	h.thread_model = VHOSTIO_THREAD_PARALLEL;
	h.max_parallel = WORKERS;
	h.read = blocking_read;
	struct fixture *f = fx_new_with(&h, 256 * 1024, 1024, 512, false);

	uint16_t ids[COMMANDS];
	for (int i = 0; i < COMMANDS; i++) {
		uint8_t cdb[10];
		cdb_rw10(cdb, OP_READ_10, (uint32_t)i, 1);
		ids[i] = ringsim_submit(&f->sim, cdb, 512, NULL);
	}
	/* A pipe stands in for the uio fd: 4 bytes = one interrupt. */
	int irq[2];
	CHECK(pipe(irq) == 0, "pipe");
	CHECK(device_start_thread(f->dev, irq[0]) == 0, "start");
	uint32_t one = 1;
	CHECK(write(irq[1], &one, sizeof(one)) == sizeof(one), "interrupt");

	int done = 0;
	for (int waited = 0; waited < 5000 && done < COMMANDS; waited += 10) {
		usleep(10000);
		done = 0;
		for (int i = 0; i < COMMANDS; i++)
			done += __atomic_load_n(&f->sim.results[ids[i]].done, __ATOMIC_ACQUIRE);
	}
	CHECK(done == COMMANDS, "%d of %d commands completed", done, COMMANDS);
	CHECK(max_inflight == WORKERS, "at most %d callbacks ran at once, want %d", max_inflight, WORKERS);
	for (int i = 0; i < COMMANDS; i++)
		CHECK_GOOD(f, ids[i]);
	fx_free(f);
	close(irq[0]);
	close(irq[1]);
	return test_exit();
}
