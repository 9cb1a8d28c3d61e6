/*
 * Quiesce and fetch are one decision under the device lock.  Once the
 * command thread had read 'paused' as false without the lock, a quiesce
 * could see nothing outstanding and return (reconfig then ran with I/O in
 * flight; destroy freed the device under it) while the thread went on to
 * fetch.  The fetch hook holds the thread exactly in that window.
 */
#include <pthread.h>
#include <stdlib.h>

#include "fixture.h"
#include "scsi_defs.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool armed, in_hook, released;

static void hold_before_fetch(struct vhostio_device *dev)
{
	(void)dev;
	pthread_mutex_lock(&lock);
	if (armed) {
		armed = false;
		in_hook = true;
		pthread_cond_broadcast(&cond);
		while (!released)
			pthread_cond_wait(&cond, &lock);
	}
	pthread_mutex_unlock(&lock);
}

static void *command_thread(void *arg)
{
	device_process_ring(arg);
	return NULL;
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 1024, 512, false);
	uint8_t cdb[10];
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	uint16_t id = ringsim_submit(&f->sim, cdb, 512, NULL);
	CHECK(id != 0, "submit");

	f->dev->fetch_hook = hold_before_fetch;
	armed = true;
	pthread_t t;
	pthread_create(&t, NULL, command_thread, f->dev);
	pthread_mutex_lock(&lock);
	while (!in_hook)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);

	/* The thread is past its check of 'paused' and about to fetch. */
	CHECK(device_quiesce(f->dev, 2000), "quiesce of an idle device");
	pthread_mutex_lock(&lock);
	released = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	CHECK(!fx_result(f, id), "a command was fetched and run after the quiesce returned");
	CHECK(f->dev->ring.outstanding == 0, "%u commands in flight while quiesced", f->dev->ring.outstanding);

	/* Lifting the quiesce serves it. */
	f->dev->fetch_hook = NULL;
	CHECK(device_unquiesce(f->dev) == 0, "unquiesce");
	device_process_ring(f->dev);
	CHECK_GOOD(f, id);

	fx_free(f);
	return test_exit();
}
