/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace virtio-scsi initiator over /dev/vhost-scsi: this process is the
 * "guest".  Its I/O arena is the guest memory, mapped one to one, and it
 * drives the control, event and request virtqueues itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_scsi.h>

#include <vhostio/initiator.h>

#include "arena.h"
#include "clock.h"
#include "initiator-raw.h"
#include "log.h"
#include "virtqueue.h"
#include "vscsi.h"

#define VQ_CTRL 0u
#define VQ_EVENT 1u
#define VQ_REQ0 2u
#define SMALL_QUEUE 32u   /* control and event queues */
#define EVENT_BUFS 16u
/* Per request slot: the 51-byte request, then the 108-byte response. */
#define SLOT_REQ_OFF 0u
#define SLOT_RESP_OFF 64u
#define SLOT_BYTES 192u

struct ini_slot {
	struct virtio_scsi_cmd_req *req;
	struct virtio_scsi_cmd_resp *resp;
	struct vhostio_scsi_cmd *cmd;
};

struct ini_queue {
	struct vq vq;
	void *ring;
	int kick_fd;
	int call_fd;
	struct ini_slot *slots;  /* request queues only */
	uint16_t *free_slots;
	uint32_t nfree;
	void *hdrs;              /* arena memory behind the slots */
	uint64_t next_tag;
};

struct vhostio_initiator {
	int fd;
	uint64_t features;
	struct arena arena;
	uint32_t nq;             /* request queues */
	uint16_t qsize;
	struct ini_queue *q;     /* nq + 2, indexed by vhost vq index */
	pthread_mutex_t ctrl_lock;
	pthread_mutex_t evt_lock;
	bool attached;
	char wwpn[sizeof(((struct vhost_scsi_target *)0)->vhost_wwpn)];
	uint8_t tpgt;
	/* control queue: one TMF at a time */
	struct virtio_scsi_ctrl_tmf_req *tmf_req;
	struct virtio_scsi_ctrl_tmf_resp *tmf_resp;
	bool tmf_busy;           /* a timed-out TMF still owns tmf_req/resp */
	/* event queue buffers */
	struct virtio_scsi_event *evbufs;
};

/* Every ioctl goes through here so a failure names the request. */
static int vioctl(struct vhostio_initiator *ini, unsigned long req, const char *name, int vq, void *arg)
{
	if (ioctl(ini->fd, req, arg) < 0) {
		int err = errno;
		if (vq >= 0)
			vhostio_log(VHOSTIO_LOG_ERROR, "initiator: %s (vq %d): %s", name, vq, strerror(err));
		else
			vhostio_log(VHOSTIO_LOG_ERROR, "initiator: %s: %s", name, strerror(err));
		return -err;
	}
	return 0;
}
#define VIOCTL(ini, req, vq, arg) vioctl((ini), (req), #req, (vq), (arg))

static void *arena_alloc_cb(void *opaque, size_t len)
{
	return arena_alloc(opaque, len);
}

static void arena_free_cb(void *opaque, void *p)
{
	arena_free(opaque, p);
}

static int kick_fd_write(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

static void drain_fd(int fd)
{
	uint64_t v;
	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

static int64_t now_ms(void)
{
	return (int64_t)(clock_now_ns() / 1000000u);
}

/* Sleep until the queue has completions: 0, -ETIMEDOUT or -errno. */
static int queue_wait(struct ini_queue *q, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	for (;;) {
		if (vq_enable_cb(&q->vq))
			return 0;
		int left = -1;
		if (timeout_ms >= 0) {
			int64_t l = deadline - now_ms();
			left = l < 0 ? 0 : (int)l;
		}
		struct pollfd p = { .fd = q->call_fd, .events = POLLIN };
		int r = poll(&p, 1, left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			drain_fd(q->call_fd);
		if (vq_has_used(&q->vq))
			return 0;
		if (r == 0 && timeout_ms >= 0)
			return -ETIMEDOUT;
	}
}

static int setup_queue(struct vhostio_initiator *ini, unsigned idx, uint16_t num)
{
	struct ini_queue *q = &ini->q[idx];
	bool event_idx = ini->features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	bool indirect = ini->features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);

	q->ring = arena_alloc(&ini->arena, vq_ring_size(num));
	if (!q->ring)
		return -ENOMEM;
	int ret = vq_init(&q->vq, q->ring, num, event_idx, indirect, arena_alloc_cb, arena_free_cb, &ini->arena);
	if (ret)
		return ret;

	struct vhost_vring_state st = { .index = idx, .num = num };
	if ((ret = VIOCTL(ini, VHOST_SET_VRING_NUM, (int)idx, &st)))
		return ret;
	st.num = 0; /* the device starts reading avail at 0, like us */
	if ((ret = VIOCTL(ini, VHOST_SET_VRING_BASE, (int)idx, &st)))
		return ret;
	struct vhost_vring_addr addr = {
		.index = idx,
		.desc_user_addr = (uint64_t)(uintptr_t)q->vq.desc,
		.avail_user_addr = (uint64_t)(uintptr_t)q->vq.avail,
		.used_user_addr = (uint64_t)(uintptr_t)q->vq.used,
	};
	if ((ret = VIOCTL(ini, VHOST_SET_VRING_ADDR, (int)idx, &addr)))
		return ret;
	q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick_fd < 0 || q->call_fd < 0)
		return -errno;
	struct vhost_vring_file f = { .index = idx, .fd = q->kick_fd };
	if ((ret = VIOCTL(ini, VHOST_SET_VRING_KICK, (int)idx, &f)))
		return ret;
	f.fd = q->call_fd;
	if ((ret = VIOCTL(ini, VHOST_SET_VRING_CALL, (int)idx, &f)))
		return ret;
	return 0;
}

static int setup_slots(struct vhostio_initiator *ini, struct ini_queue *q, uint16_t num)
{
	q->slots = calloc(num, sizeof(*q->slots));
	q->free_slots = calloc(num, sizeof(*q->free_slots));
	q->hdrs = arena_alloc(&ini->arena, (size_t)num * SLOT_BYTES);
	if (!q->slots || !q->free_slots || !q->hdrs)
		return -ENOMEM;
	for (uint32_t i = 0; i < num; i++) {
		uint8_t *h = (uint8_t *)q->hdrs + (size_t)i * SLOT_BYTES;
		q->slots[i].req = (struct virtio_scsi_cmd_req *)(h + SLOT_REQ_OFF);
		q->slots[i].resp = (struct virtio_scsi_cmd_resp *)(h + SLOT_RESP_OFF);
		q->free_slots[i] = (uint16_t)(num - 1 - i);
	}
	q->nfree = num;
	return 0;
}

/* Hand every event buffer the device does not hold back to it. */
static int post_event_bufs(struct vhostio_initiator *ini, struct virtio_scsi_event *ev, unsigned n)
{
	struct ini_queue *q = &ini->q[VQ_EVENT];
	for (unsigned i = 0; i < n; i++) {
		memset(&ev[i], 0, sizeof(ev[i]));
		struct iovec iov = { &ev[i], sizeof(ev[i]) };
		const struct iovec *g[] = { &iov };
		unsigned c[] = { 1 };
		int ret = vq_add(&q->vq, g, c, 1, 0, &ev[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* The worker ioctls of Linux 6.5 (<linux/vhost.h> there; Debian 12's headers are 6.1's). */
struct ini_worker_state {
	unsigned int worker_id;
};
struct ini_vring_worker {
	unsigned int index;
	unsigned int worker_id;
};
#define INI_NEW_WORKER _IOR(VHOST_VIRTIO, 0x8, struct ini_worker_state)
#define INI_ATTACH_VRING_WORKER _IOW(VHOST_VIRTIO, 0x15, struct ini_vring_worker)
#define INI_GET_VRING_WORKER _IOWR(VHOST_VIRTIO, 0x16, struct ini_vring_worker)

/*
 * Before the rings are set up, as QEMU >= 8.2 does for worker_per_virtqueue.
 * SHARED attaches the request queues to the worker the control queue has
 * (the device's first): on vhostio's fabric in per_vq mode that is how a
 * program asks for one thread.
 */
static int setup_workers(struct vhostio_initiator *ini, int32_t workers)
{
	struct ini_vring_worker vw = { .index = VQ_CTRL };
	int ret;

	if (workers == VHOSTIO_INITIATOR_WORKERS_DEFAULT)
		return 0;
	if (ioctl(ini->fd, INI_GET_VRING_WORKER, &vw) < 0) {
		ret = -errno;
		if (ret == -ENOTTY) {
			vhostio_log(VHOSTIO_LOG_ERROR, "initiator: the device has no worker ioctls (stock vhost_scsi before Linux 6.5)");
			return -EOPNOTSUPP;
		}
		vhostio_log(VHOSTIO_LOG_ERROR, "initiator: VHOST_GET_VRING_WORKER: %s", strerror(-ret));
		return ret;
	}
	unsigned int shared = vw.worker_id;
	unsigned int nnew = workers == VHOSTIO_INITIATOR_WORKERS_PER_QUEUE ? ini->nq
			    : workers > 0 ? (unsigned int)workers : 0;
	unsigned int *ids = calloc(nnew ? nnew : 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (unsigned int i = 0; i < nnew; i++) {
		struct ini_worker_state ws = { 0 };
		if ((ret = VIOCTL(ini, INI_NEW_WORKER, -1, &ws)))
			goto out;
		ids[i] = ws.worker_id;
	}
	for (uint32_t q = 0; q < ini->nq; q++) {
		vw.index = VQ_REQ0 + q;
		vw.worker_id = nnew ? ids[q % nnew] : shared;
		if ((ret = VIOCTL(ini, INI_ATTACH_VRING_WORKER, (int)vw.index, &vw)))
			goto out;
	}
	vhostio_log(VHOSTIO_LOG_DEBUG, "initiator: %u request queue(s) on %u worker(s)", ini->nq, nnew ? nnew : 1);
	ret = 0;
out:
	free(ids);
	return ret;
}

static size_t overhead(uint32_t nq, uint16_t qsize)
{
	size_t pg = ARENA_PAGE;
	size_t per_req = vq_ring_size(qsize) + (((size_t)qsize * SLOT_BYTES + pg - 1) / pg) * pg;
	return nq * per_req + 2 * vq_ring_size(SMALL_QUEUE) + 2 * pg;
}

int vhostio_initiator_open(struct vhostio_initiator **inip, const struct vhostio_initiator_opts *opts)
{
	struct vhostio_initiator_opts o = { 0 };
	if (!inip)
		return -EINVAL;
	*inip = NULL;
	if (opts) {
		if (opts->struct_size < offsetof(struct vhostio_initiator_opts, features_mask) + sizeof(uint64_t))
			return -EINVAL;
		memcpy(&o, opts, opts->struct_size < sizeof(o) ? opts->struct_size : sizeof(o));
	}
	const char *device = o.device ? o.device : "/dev/vhost-scsi";
	uint32_t nq = o.num_queues ? o.num_queues : 1;
	uint32_t qsize = o.queue_size ? o.queue_size : 128;
	uint64_t arena_size = o.arena_size ? o.arena_size : 64ull << 20;
	if (o.workers < VHOSTIO_INITIATOR_WORKERS_PER_QUEUE || o.workers > (int32_t)nq)
		return -EINVAL;
	if (nq > 65535 - VQ_REQ0 || qsize > 32768 || (qsize & (qsize - 1)) || arena_size > SIZE_MAX / 2)
		return -EINVAL;

	struct vhostio_initiator *ini = calloc(1, sizeof(*ini));
	if (!ini)
		return -ENOMEM;
	ini->fd = -1;
	ini->nq = nq;
	ini->qsize = (uint16_t)qsize;
	pthread_mutex_init(&ini->ctrl_lock, NULL);
	pthread_mutex_init(&ini->evt_lock, NULL);
	ini->q = calloc(nq + VQ_REQ0, sizeof(*ini->q));
	if (!ini->q) {
		vhostio_initiator_close(ini);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nq + VQ_REQ0; i++)
		ini->q[i].kick_fd = ini->q[i].call_fd = -1;

	int ret;
	ini->fd = open(device, O_RDWR | O_CLOEXEC);
	if (ini->fd < 0) {
		ret = -errno;
		vhostio_log(VHOSTIO_LOG_ERROR, "initiator: open %s: %s", device, strerror(-ret));
		goto fail;
	}
	if ((ret = VIOCTL(ini, VHOST_SET_OWNER, -1, NULL)))
		goto fail;

	uint64_t offered;
	if ((ret = VIOCTL(ini, VHOST_GET_FEATURES, -1, &offered)))
		goto fail;
	uint64_t want = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
			(1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_SCSI_F_HOTPLUG);
	want &= ~o.features_mask;
	/* The rings here are little endian only: a legacy device is not driven. */
	if (!(offered & want & (1ULL << VIRTIO_F_VERSION_1))) {
		vhostio_log(VHOSTIO_LOG_ERROR, "initiator: %s does not offer VIRTIO_F_VERSION_1 (features %#llx)",
			    device, (unsigned long long)offered);
		ret = -EOPNOTSUPP;
		goto fail;
	}
	ini->features = offered & want;
	if ((ret = VIOCTL(ini, VHOST_SET_FEATURES, -1, &ini->features)))
		goto fail;

	if ((ret = arena_init(&ini->arena, arena_size + overhead(nq, ini->qsize)))) {
		vhostio_log(VHOSTIO_LOG_ERROR, "initiator: %llu bytes of I/O memory: %s",
			    (unsigned long long)arena_size, strerror(-ret));
		goto fail;
	}
	/* One region, identity mapped: "guest physical" addresses in the rings
	 * are our own virtual addresses. */
	_Alignas(struct vhost_memory) uint8_t table[sizeof(struct vhost_memory) + sizeof(struct vhost_memory_region)];
	memset(table, 0, sizeof(table));
	struct vhost_memory *mem = (struct vhost_memory *)table;
	mem->nregions = 1;
	mem->regions[0].guest_phys_addr = (uint64_t)(uintptr_t)ini->arena.base;
	mem->regions[0].userspace_addr = (uint64_t)(uintptr_t)ini->arena.base;
	mem->regions[0].memory_size = ini->arena.size;
	if ((ret = VIOCTL(ini, VHOST_SET_MEM_TABLE, -1, mem)))
		goto fail;
	if ((ret = setup_workers(ini, o.workers)))
		goto fail;

	for (uint32_t i = 0; i < nq + VQ_REQ0; i++) {
		uint16_t num = i < VQ_REQ0 ? SMALL_QUEUE : ini->qsize;
		if ((ret = setup_queue(ini, i, num)))
			goto fail;
		if (i >= VQ_REQ0 && (ret = setup_slots(ini, &ini->q[i], num)))
			goto fail;
	}
	void *ctl = arena_alloc(&ini->arena, ARENA_PAGE);
	ini->evbufs = arena_alloc(&ini->arena, EVENT_BUFS * sizeof(*ini->evbufs));
	if (!ctl || !ini->evbufs) {
		ret = -ENOMEM;
		goto fail;
	}
	ini->tmf_req = ctl;
	ini->tmf_resp = (void *)((uint8_t *)ctl + 128);
	/* Posted now, seen by the device once attach() kicks the queue. */
	if ((ret = post_event_bufs(ini, ini->evbufs, EVENT_BUFS)))
		goto fail;
	vq_kick_prepare(&ini->q[VQ_EVENT].vq);

	int abi = 0;
	if ((ret = VIOCTL(ini, VHOST_SCSI_GET_ABI_VERSION, -1, &abi)))
		goto fail;
	if (abi != VHOST_SCSI_ABI_VERSION) {
		vhostio_log(VHOSTIO_LOG_ERROR, "initiator: vhost-scsi ABI %d, want %d", abi, VHOST_SCSI_ABI_VERSION);
		ret = -EPROTO;
		goto fail;
	}
	vhostio_log(VHOSTIO_LOG_DEBUG, "initiator: %s open, features %#llx, %u request queues of %u",
		    device, (unsigned long long)ini->features, nq, qsize);
	*inip = ini;
	return 0;
fail:
	vhostio_initiator_close(ini);
	return ret;
}

static int target_struct(struct vhost_scsi_target *t, const char *wwpn, uint16_t tpgt)
{
	memset(t, 0, sizeof(*t));
	if (!wwpn || strlen(wwpn) >= sizeof(t->vhost_wwpn))
		return -EINVAL;
	t->abi_version = VHOST_SCSI_ABI_VERSION;
	memcpy(t->vhost_wwpn, wwpn, strlen(wwpn) + 1);
	t->vhost_tpgt = tpgt;
	return 0;
}

int vhostio_initiator_attach(struct vhostio_initiator *ini, const char *wwpn, uint16_t tpgt)
{
	struct vhost_scsi_target t;
	if (!ini || tpgt > VSCSI_MAX_TPGT || target_struct(&t, wwpn, tpgt))
		return -EINVAL;
	pthread_mutex_lock(&ini->ctrl_lock);
	if (ini->attached) {
		pthread_mutex_unlock(&ini->ctrl_lock);
		return -EBUSY;
	}
	int ret = VIOCTL(ini, VHOST_SCSI_SET_ENDPOINT, -1, &t);
	if (!ret) {
		memcpy(ini->wwpn, t.vhost_wwpn, sizeof(ini->wwpn));
		ini->tpgt = (uint8_t)tpgt;
		ini->attached = true;
	}
	pthread_mutex_unlock(&ini->ctrl_lock);
	if (ret)
		return ret;
	/* Kicks before the endpoint existed were dropped: tell the device about
	 * the event buffers posted at open. */
	pthread_mutex_lock(&ini->evt_lock);
	ret = kick_fd_write(ini->q[VQ_EVENT].kick_fd);
	pthread_mutex_unlock(&ini->evt_lock);
	return ret;
}

void vhostio_initiator_close(struct vhostio_initiator *ini)
{
	if (!ini)
		return;
	if (ini->attached) {
		struct vhost_scsi_target t;
		target_struct(&t, ini->wwpn, ini->tpgt);
		/* The kernel flushes what is in flight before it returns. */
		VIOCTL(ini, VHOST_SCSI_CLEAR_ENDPOINT, -1, &t);
		ini->attached = false;
	}
	/* Closing the device stops its worker and drops the memory table before
	 * the arena goes away. */
	if (ini->fd >= 0)
		close(ini->fd);
	for (uint32_t i = 0; ini->q && i < ini->nq + VQ_REQ0; i++) {
		struct ini_queue *q = &ini->q[i];
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		if (q->call_fd >= 0)
			close(q->call_fd);
		vq_fini(&q->vq);
		free(q->slots);
		free(q->free_slots);
	}
	free(ini->q);
	arena_destroy(&ini->arena);
	pthread_mutex_destroy(&ini->ctrl_lock);
	pthread_mutex_destroy(&ini->evt_lock);
	free(ini);
}

uint64_t vhostio_initiator_features(const struct vhostio_initiator *ini)
{
	return ini ? ini->features : 0;
}

uint32_t vhostio_initiator_num_queues(const struct vhostio_initiator *ini)
{
	return ini ? ini->nq : 0;
}

void *vhostio_initiator_alloc(struct vhostio_initiator *ini, size_t len)
{
	return ini ? arena_alloc(&ini->arena, len) : NULL;
}

void vhostio_initiator_free(struct vhostio_initiator *ini, void *buf)
{
	if (ini)
		arena_free(&ini->arena, buf);
}

static struct ini_queue *req_queue(struct vhostio_initiator *ini, uint32_t queue)
{
	if (!ini || queue >= ini->nq)
		return NULL;
	return &ini->q[VQ_REQ0 + queue];
}

static bool iovs_in_arena(const struct arena *a, const struct iovec *iov, uint32_t cnt)
{
	if (cnt && !iov)
		return false;
	for (uint32_t i = 0; i < cnt; i++)
		if (iov[i].iov_len && !arena_contains(a, iov[i].iov_base, iov[i].iov_len))
			return false;
	return true;
}

int vhostio_initiator_submit(struct vhostio_initiator *ini, uint32_t queue, struct vhostio_scsi_cmd *cmd)
{
	struct ini_queue *q = req_queue(ini, queue);
	if (!q || !cmd)
		return -EINVAL;
	if (!ini->attached)
		return -ENOTCONN;
	/* The device would fault on memory outside the table; say so here. */
	if (!iovs_in_arena(&ini->arena, cmd->data_out, cmd->data_out_cnt) ||
	    !iovs_in_arena(&ini->arena, cmd->data_in, cmd->data_in_cnt))
		return -EFAULT;
	if (!q->nfree)
		return -EAGAIN;
	uint16_t s = q->free_slots[q->nfree - 1];
	struct ini_slot *slot = &q->slots[s];
	uint64_t tag = ((uint64_t)queue << 48) | (q->next_tag++ & 0xffffffffffffull);
	int ret = vscsi_encode_cmd(slot->req, ini->tpgt, tag, cmd);
	if (ret)
		return ret;
	memset(slot->resp, 0, sizeof(*slot->resp));
	struct iovec req = { slot->req, sizeof(*slot->req) };
	struct iovec resp = { slot->resp, sizeof(*slot->resp) };
	const struct iovec *g[] = { &req, cmd->data_out, &resp, cmd->data_in };
	unsigned c[] = { 1, cmd->data_out ? cmd->data_out_cnt : 0, 1, cmd->data_in ? cmd->data_in_cnt : 0 };
	ret = vq_add(&q->vq, g, c, 4, 2, slot);
	if (ret)
		return ret;
	slot->cmd = cmd;
	q->nfree--;
	return 0;
}

int vhostio_initiator_kick(struct vhostio_initiator *ini, uint32_t queue)
{
	struct ini_queue *q = req_queue(ini, queue);
	if (!q)
		return -EINVAL;
	return vq_kick_prepare(&q->vq) ? kick_fd_write(q->kick_fd) : 0;
}

int vhostio_initiator_reap(struct vhostio_initiator *ini, uint32_t queue, struct vhostio_scsi_cmd **done, int max)
{
	struct ini_queue *q = req_queue(ini, queue);
	if (!q || max < 0 || (max && !done))
		return -EINVAL;
	/* Drain first: a completion after this read signals again. */
	drain_fd(q->call_fd);
	int n = 0;
	for (;;) {
		while (n < max) {
			void *tok;
			int r = vq_get_used(&q->vq, &tok, NULL);
			if (r < 0)
				return n ? n : r;
			if (r == 0)
				break;
			struct ini_slot *slot = tok;
			vscsi_decode_resp(slot->resp, slot->cmd);
			done[n++] = slot->cmd;
			slot->cmd = NULL;
			q->free_slots[q->nfree++] = (uint16_t)(slot - q->slots);
		}
		/* A full 'done' leaves notifications off: the caller comes back. */
		if (n == max || !vq_enable_cb(&q->vq))
			return n;
	}
}

int vhostio_initiator_wait(struct vhostio_initiator *ini, uint32_t queue, int timeout_ms)
{
	struct ini_queue *q = req_queue(ini, queue);
	if (!q)
		return -EINVAL;
	return queue_wait(q, timeout_ms);
}

int vhostio_initiator_queue_fd(const struct vhostio_initiator *ini, uint32_t queue)
{
	if (!ini || queue >= ini->nq)
		return -EINVAL;
	return ini->q[VQ_REQ0 + queue].call_fd;
}

uint32_t vhostio_initiator_in_flight(const struct vhostio_initiator *ini, uint32_t queue)
{
	if (!ini || queue >= ini->nq)
		return 0;
	return ini->q[VQ_REQ0 + queue].vq.in_flight;
}

int vhostio_initiator_run(struct vhostio_initiator *ini, struct vhostio_scsi_cmd *cmd, int timeout_ms)
{
	struct ini_queue *q = req_queue(ini, 0);
	if (!q || !cmd)
		return -EINVAL;
	/* Reaping here must not swallow someone else's completions. */
	if (q->vq.in_flight)
		return -EBUSY;
	int ret = vhostio_initiator_submit(ini, 0, cmd);
	if (ret)
		return ret;
	if ((ret = vhostio_initiator_kick(ini, 0)))
		return ret;
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		struct vhostio_scsi_cmd *done;
		int n = vhostio_initiator_reap(ini, 0, &done, 1);
		if (n < 0)
			return n;
		if (n == 1)
			return 0;
		int left = -1;
		if (timeout_ms >= 0) {
			int64_t l = deadline - now_ms();
			if (l <= 0)
				return -ETIMEDOUT;
			left = (int)l;
		}
		ret = queue_wait(q, left);
		if (ret && ret != -ETIMEDOUT)
			return ret;
	}
}

/* Take back a finished TMF, if any; called with ctrl_lock held. */
static void reap_ctrl(struct vhostio_initiator *ini)
{
	struct ini_queue *q = &ini->q[VQ_CTRL];
	void *tok;
	while (vq_get_used(&q->vq, &tok, NULL) == 1)
		ini->tmf_busy = false;
}

int vhostio_initiator_tmf(struct vhostio_initiator *ini, uint32_t subtype, uint16_t lun, uint64_t tag,
			  int timeout_ms, uint8_t *response)
{
	if (!ini || !response || lun > VSCSI_MAX_LUN || subtype > VHOSTIO_VIRTIO_T_TMF_QUERY_TASK_SET)
		return -EINVAL;
	struct ini_queue *q = &ini->q[VQ_CTRL];
	pthread_mutex_lock(&ini->ctrl_lock);
	int ret;
	if (!ini->attached) {
		ret = -ENOTCONN;
		goto out;
	}
	reap_ctrl(ini);
	if (ini->tmf_busy) { /* an earlier TMF timed out and is still queued */
		ret = -EBUSY;
		goto out;
	}
	vscsi_encode_tmf(ini->tmf_req, ini->tpgt, subtype, lun, tag);
	memset(ini->tmf_resp, 0xff, sizeof(*ini->tmf_resp));
	struct iovec req = { ini->tmf_req, sizeof(*ini->tmf_req) };
	struct iovec resp = { ini->tmf_resp, sizeof(*ini->tmf_resp) };
	const struct iovec *g[] = { &req, &resp };
	unsigned c[] = { 1, 1 };
	if ((ret = vq_add(&q->vq, g, c, 2, 1, ini->tmf_req)))
		goto out;
	ini->tmf_busy = true;
	if (vq_kick_prepare(&q->vq) && (ret = kick_fd_write(q->kick_fd)))
		goto out;
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		reap_ctrl(ini);
		if (!ini->tmf_busy) {
			*response = ini->tmf_resp->response;
			ret = 0;
			break;
		}
		int left = -1;
		if (timeout_ms >= 0) {
			int64_t l = deadline - now_ms();
			if (l <= 0) {
				ret = -ETIMEDOUT;
				break;
			}
			left = (int)l;
		}
		ret = queue_wait(q, left);
		if (ret && ret != -ETIMEDOUT)
			break;
	}
out:
	pthread_mutex_unlock(&ini->ctrl_lock);
	return ret;
}

int vhostio_initiator_lun_reset(struct vhostio_initiator *ini, uint16_t lun, int timeout_ms)
{
	uint8_t response;
	/* A LUN RESET names no task: its tag is unused. */
	int ret = vhostio_initiator_tmf(ini, VHOSTIO_VIRTIO_T_TMF_LOGICAL_UNIT_RESET, lun, 0, timeout_ms,
					&response);
	return ret ? ret : response;
}

uint64_t vhostio_initiator_next_tag(const struct vhostio_initiator *ini, uint32_t queue)
{
	if (!ini || queue >= ini->nq)
		return 0;
	const struct ini_queue *q = &ini->q[VQ_REQ0 + queue];
	return ((uint64_t)queue << 48) | (q->next_tag & 0xffffffffffffull);
}

int vhostio_initiator_events(struct vhostio_initiator *ini, struct vhostio_scsi_event *ev, int max)
{
	if (!ini || max < 0 || (max && !ev))
		return -EINVAL;
	struct ini_queue *q = &ini->q[VQ_EVENT];
	pthread_mutex_lock(&ini->evt_lock);
	drain_fd(q->call_fd);
	int n = 0, ret = 0;
	bool reposted = false;
	for (;;) {
		while (n < max) {
			void *tok;
			int r = vq_get_used(&q->vq, &tok, NULL);
			if (r <= 0) {
				ret = r;
				break;
			}
			struct virtio_scsi_event *e = tok;
			vscsi_decode_event(e, &ev[n]);
			/* Skip placeholders: the kernel may hand a buffer back empty. */
			if (ev[n].event != VIRTIO_SCSI_T_NO_EVENT)
				n++;
			if ((ret = post_event_bufs(ini, e, 1)))
				break;
			reposted = true;
		}
		if (ret || n == max || !vq_enable_cb(&q->vq))
			break;
	}
	if (reposted && vq_kick_prepare(&q->vq) && ini->attached) {
		int r = kick_fd_write(q->kick_fd);
		if (!ret)
			ret = r;
	}
	pthread_mutex_unlock(&ini->evt_lock);
	return n ? n : ret;
}

int vhostio_initiator_event_fd(const struct vhostio_initiator *ini)
{
	return ini ? ini->q[VQ_EVENT].call_fd : -EINVAL;
}

void vhostio_initiator_raw_arena(const struct vhostio_initiator *ini, void **base, size_t *size)
{
	*base = ini->arena.base;
	*size = ini->arena.size;
}

int vhostio_initiator_raw_vq(struct vhostio_initiator *ini, unsigned idx, struct vhostio_raw_vq *out)
{
	if (!ini || !out || idx >= ini->nq + VQ_REQ0)
		return -EINVAL;
	out->vq = &ini->q[idx].vq;
	out->kick_fd = ini->q[idx].kick_fd;
	out->call_fd = ini->q[idx].call_fd;
	return 0;
}

int vhostio_initiator_raw_fd(const struct vhostio_initiator *ini)
{
	return ini ? ini->fd : -EINVAL;
}
