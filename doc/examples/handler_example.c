/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * handler_example: a LUN in memory whose reads and writes are finished on
 * a helper thread, to show asynchronous completion.  Config: example/[label]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vhostio/handler.h>

struct req {
	struct vhostio_io *io;
	const struct iovec *iov;
	int iovcnt;
	uint64_t offset;
	bool write;
	struct req *next;
};

struct lun {
	uint8_t *mem;
	size_t size;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct req *head, **tailp;
	bool stop;
};

static void *worker(void *arg)
{
	struct lun *lun = arg;

	pthread_mutex_lock(&lun->lock);
	for (;;) {
		while (!lun->head && !lun->stop)
			pthread_cond_wait(&lun->cond, &lun->lock);
		struct req *r = lun->head;
		if (!r)
			break;
		if (!(lun->head = r->next))
			lun->tailp = &lun->head;
		pthread_mutex_unlock(&lun->lock);

		uint8_t *p = lun->mem + r->offset;
		for (int i = 0; i < r->iovcnt; p += r->iov[i].iov_len, i++) {
			if (r->write)
				memcpy(p, r->iov[i].iov_base, r->iov[i].iov_len);
			else
				memcpy(r->iov[i].iov_base, p, r->iov[i].iov_len);
		}
		vhostio_io_complete(r->io, 0); /* any thread may complete */
		free(r);
		pthread_mutex_lock(&lun->lock);
	}
	pthread_mutex_unlock(&lun->lock);
	return NULL;
}

static int ex_check_config(const char *config, char **reason)
{
	if (strchr(config, ';')) {
		*reason = strdup("the example handler takes no options");
		return -EINVAL;
	}
	return 0;
}

static int ex_open(struct vhostio_device *dev)
{
	struct lun *lun = calloc(1, sizeof(*lun));
	if (!lun)
		return -ENOMEM;
	lun->size = vhostio_device_size(dev);
	lun->mem = mmap(NULL, lun->size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (lun->mem == MAP_FAILED) {
		free(lun);
		return -ENOMEM;
	}
	lun->tailp = &lun->head;
	pthread_mutex_init(&lun->lock, NULL);
	pthread_cond_init(&lun->cond, NULL);
	int ret = pthread_create(&lun->thread, NULL, worker, lun);
	if (ret) {
		munmap(lun->mem, lun->size);
		free(lun);
		return -ret;
	}
	vhostio_device_set_private(dev, lun);
	return 0;
}

static void ex_close(struct vhostio_device *dev)
{
	struct lun *lun = vhostio_device_private(dev);

	pthread_mutex_lock(&lun->lock);
	lun->stop = true;
	pthread_cond_signal(&lun->cond);
	pthread_mutex_unlock(&lun->lock);
	pthread_join(lun->thread, NULL);
	munmap(lun->mem, lun->size);
	free(lun);
}

static int queue(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		 int iovcnt, uint64_t offset, bool write)
{
	struct lun *lun = vhostio_device_private(dev);
	struct req *r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM; /* HARDWARE ERROR for the initiator */
	*r = (struct req){ .io = io, .iov = iov, .iovcnt = iovcnt, .offset = offset, .write = write };

	pthread_mutex_lock(&lun->lock);
	*lun->tailp = r;
	lun->tailp = &r->next;
	pthread_cond_signal(&lun->cond);
	pthread_mutex_unlock(&lun->lock);
	return VHOSTIO_IO_ASYNC; /* the worker owns io now */
}

static int ex_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		   int iovcnt, size_t length, uint64_t offset)
{
	(void)length; /* the iovs add up to exactly 'length' */
	return queue(dev, io, iov, iovcnt, offset, false);
}

static int ex_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov,
		    int iovcnt, size_t length, uint64_t offset)
{
	(void)length;
	return queue(dev, io, iov, iovcnt, offset, true);
}

static const struct vhostio_handler example_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "example",
	.config_desc = "In-memory LUN, completed on a helper thread.  Config: [label]",
	.check_config = ex_check_config,
	.open = ex_open,
	.close = ex_close,
	.read = ex_read,
	.write = ex_write,
};

VHOSTIO_REGISTER_HANDLER(example_handler)
