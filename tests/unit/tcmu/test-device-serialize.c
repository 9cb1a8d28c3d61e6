/* Thread model SERIALIZE: even when a handler completes from its own
 * thread, the library's follow-up call for the same command (the flush of
 * an emulated FUA write) is made on the device's command thread. */
#include <pthread.h>
#include <unistd.h>

#include "fixture.h"
#include "scsi_defs.h"

static pthread_t write_thread, flush_thread;
static struct vhostio_io *held;
static int flushes;

static int async_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		       int iovcnt, size_t length, uint64_t offset)
{
	(void)dev, (void)iov, (void)iovcnt, (void)length, (void)offset;
	write_thread = pthread_self();
	__atomic_store_n(&held, io, __ATOMIC_RELEASE);
	return VHOSTIO_IO_ASYNC;
}

static int sync_flush(struct vhostio_device *dev, struct vhostio_io *io)
{
	(void)dev, (void)io;
	flush_thread = pthread_self();
	__atomic_add_fetch(&flushes, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void *completer(void *arg)
{
	(void)arg;
	struct vhostio_io *io;
	while (!(io = __atomic_load_n(&held, __ATOMIC_ACQUIRE)))
		usleep(1000);
	vhostio_io_complete(io, 0);
	return NULL;
}

int main(void)
{
	struct vhostio_handler h = memdisk_handler;
	h.write = async_write;
	h.flush = sync_flush;
	struct fixture *f = fx_new_with(&h, 64 * 1024, 1024, 512, true);

	uint8_t cdb[10], buf[512] = { 0 };
	cdb_rw10(cdb, OP_WRITE_10, 0, 1);
	cdb[1] = 0x08; /* FUA */
	uint16_t id = ringsim_submit(&f->sim, cdb, sizeof(buf), buf);

	int irq[2];
	CHECK(pipe(irq) == 0, "pipe");
	pthread_t t;
	pthread_create(&t, NULL, completer, NULL);
	CHECK(device_start_thread(f->dev, irq[0]) == 0, "start");
	uint32_t one = 1;
	CHECK(write(irq[1], &one, sizeof(one)) == sizeof(one), "interrupt");
	pthread_join(t, NULL);
	for (int i = 0; i < 500 && !__atomic_load_n(&f->sim.results[id].done, __ATOMIC_ACQUIRE); i++)
		usleep(10000);

	CHECK_GOOD(f, id);
	CHECK(flushes == 1, "%d flushes for one FUA write", flushes);
	CHECK(pthread_equal(write_thread, flush_thread), "flush ran on another thread than the command thread");
	CHECK(!pthread_equal(flush_thread, t), "flush ran on the handler's completion thread");
	fx_free(f);
	close(irq[0]);
	close(irq[1]);
	return test_exit();
}
