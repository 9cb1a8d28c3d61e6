/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * handler_file: a LUN backed by a regular file or a block device, with
 * asynchronous I/O through io_uring.
 *
 * Config: file/<absolute path>[;direct=auto|on|off][;create][;queue_depth=N]
 *
 * Each device owns one ring, driven only by its command thread (thread
 * model SERIALIZE): the data callbacks queue SQEs that point straight at
 * the command's iovecs and return VHOSTIO_IO_ASYNC, end_batch submits them
 * with one system call, and the ring's eventfd, watched by the command
 * thread, brings us back to reap completions.  Nothing is shared with
 * another thread, so there are no locks.
 */
#define _GNU_SOURCE /* O_DIRECT, fallocate, statx, strchrnul */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <vhostio/handler.h>

#include "util.h"

#define FILE_QD_DEFAULT 128
#define FILE_QD_MAX 4096
/* readv/writev take at most UIO_MAXIOV vectors; longer requests go in pieces. */
#define FILE_MAX_IOVS 1024
/* How many times a request is resubmitted after -EAGAIN/-EINTR before failing. */
#define FILE_MAX_RETRIES 100
/* How long close() waits for requests the kernel still holds. */
#define FILE_CLOSE_WAIT_S 60

enum direct_mode { DIRECT_AUTO, DIRECT_ON, DIRECT_OFF };

struct file_opts {
	char *path;
	enum direct_mode direct;
	bool create;
	unsigned queue_depth;
};

enum req_op { REQ_READ, REQ_WRITE, REQ_FSYNC, REQ_FALLOC, REQ_GROUP };

/*
 * One SQE's worth of work.  An UNMAP with several ranges is a REQ_GROUP
 * that owns the io, plus one REQ_FALLOC part per range.
 */
struct file_req {
	struct vhostio_io *io;      /* NULL for the parts of a group */
	struct file_req *group;     /* a part: the group it belongs to */
	unsigned parts;             /* group: parts still running */
	int result;                 /* group: first error of its parts */
	enum req_op op;
	bool exact;                 /* iov/iovcnt describe exactly 'length' bytes */
	bool no_direct;             /* O_DIRECT refused this request: stay buffered */
	bool direct;                /* the last submission used the O_DIRECT fd */
	unsigned retries;
	int rw_flags;               /* RWF_DSYNC for FUA writes */
	int mode;                   /* fallocate mode */
	const struct iovec *iov;
	int iovcnt;
	struct iovec *rest;         /* the part of iov still to transfer */
	size_t length;
	size_t done;                /* bytes transferred so far */
	uint64_t offset;
	struct file_req *next;      /* free list or backlog */
};

struct file_lun {
	struct vhostio_device *dev;
	char *path;
	int fd;                     /* buffered */
	int dfd;                    /* O_DIRECT, or -1 */
	bool is_blk;
	size_t mem_align;           /* O_DIRECT buffer address alignment */
	size_t off_align;           /* O_DIRECT offset and length alignment */
	bool punch_ok;              /* fallocate(PUNCH_HOLE) works: UNMAP */
	bool zero_ok;               /* fallocate(ZERO_RANGE) works: WRITE SAME of zeroes */
	bool async_falloc;          /* IORING_OP_FALLOCATE exists */
	bool warned_direct;
	struct io_uring ring;
	int efd;
	unsigned inflight;          /* requests holding an SQE or CQE slot */
	struct file_req *free_reqs;
	struct file_req *backlog_head, *backlog_tail; /* waiting for an SQE */
	/* Per-command errors are the initiator's to cause at will: rate-limited,
	 * per LUN so that one failing LUN does not hide another's errors. */
	struct vhostio_ratelimit io_error_rl;    /* a request failed */
	struct vhostio_ratelimit submit_rl;      /* io_uring_submit() failed */
	struct vhostio_ratelimit submit_full_rl; /* ... while making room in a full SQ */
	struct vhostio_ratelimit efd_rl;         /* the ring's eventfd could not be read */
};

/* ---- config ---- */

static bool token_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && strncmp(tok, word, len) == 0;
}

/* Split "<path>[;option...]".  0, or -errno and a reason. */
static int parse_config(const char *config, struct file_opts *o, char **reason)
{
	const char *semi = strchrnul(config, ';');

	memset(o, 0, sizeof(*o));
	o->direct = DIRECT_AUTO;
	o->queue_depth = FILE_QD_DEFAULT;
	if (semi == config) {
		vhostio_set_reason(reason, "missing file path: the config is file/<path>[;option...]");
		return -EINVAL;
	}
	if (config[0] != '/') {
		vhostio_set_reason(reason, "file path '%.*s' is not absolute", (int)(semi - config), config);
		return -EINVAL;
	}
	o->path = strndup(config, (size_t)(semi - config));
	if (!o->path)
		return -ENOMEM;

	for (const char *p = semi; *p;) {
		const char *opt = p + 1;
		const char *end = strchrnul(opt, ';');
		size_t len = (size_t)(end - opt);
		const char *eq = memchr(opt, '=', len);
		size_t key_len = eq ? (size_t)(eq - opt) : len;
		const char *val = eq ? eq + 1 : NULL;
		size_t val_len = eq ? (size_t)(end - val) : 0;

		p = end;
		if (len == 0)
			continue;
		if (token_is(opt, key_len, "direct") && val) {
			if (token_is(val, val_len, "auto"))
				o->direct = DIRECT_AUTO;
			else if (token_is(val, val_len, "on"))
				o->direct = DIRECT_ON;
			else if (token_is(val, val_len, "off"))
				o->direct = DIRECT_OFF;
			else
				goto bad_value;
		} else if (token_is(opt, len, "create")) {
			o->create = true;
		} else if (token_is(opt, key_len, "queue_depth") && val) {
			unsigned long v = 0;
			size_t i;
			for (i = 0; i < val_len && val[i] >= '0' && val[i] <= '9' && v <= FILE_QD_MAX; i++)
				v = v * 10 + (unsigned long)(val[i] - '0');
			if (i == 0 || i != val_len || v < 1 || v > FILE_QD_MAX)
				goto bad_value;
			o->queue_depth = (unsigned)v;
		} else {
			vhostio_set_reason(reason,
				   "unknown file option '%.*s' (known: direct=auto|on|off, create, queue_depth=N)",
				   (int)len, opt);
			goto fail;
		}
		continue;
bad_value:
		vhostio_set_reason(reason, "file option '%.*s': %s", (int)len, opt,
			   opt[0] == 'd' ? "want direct=auto, direct=on or direct=off"
					 : "want queue_depth=1..4096");
		goto fail;
	}
	return 0;
fail:
	free(o->path);
	o->path = NULL;
	return -EINVAL;
}

/* What open() would say about the path, without opening it. */
static int check_path(const struct file_opts *o, char **reason)
{
	struct stat st;

	if (stat(o->path, &st) < 0) {
		int err = errno;
		if (err != ENOENT) {
			vhostio_set_reason(reason, "file '%s': %s", o->path, strerror(err));
			return -err;
		}
		if (!o->create) {
			vhostio_set_reason(reason, "file '%s': %s (add ';create' to create it)", o->path, strerror(err));
			return -err;
		}
		/* It will be created: its directory must exist and take a new file. */
		char *dir = strdup(o->path);
		if (!dir)
			return -ENOMEM;
		char *slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		int ret = 0;
		if (stat(dir, &st) < 0)
			ret = -errno;
		else if (!S_ISDIR(st.st_mode))
			ret = -ENOTDIR;
		if (ret < 0)
			vhostio_set_reason(reason, "cannot create file '%s': directory '%s': %s", o->path, dir,
				   strerror(-ret));
		else if (access(dir, W_OK | X_OK) < 0) {
			ret = -errno;
			vhostio_set_reason(reason, "cannot create file '%s' in '%s': %s", o->path, dir, strerror(-ret));
		}
		free(dir);
		return ret;
	}
	if (S_ISDIR(st.st_mode)) {
		vhostio_set_reason(reason, "file '%s' is a directory", o->path);
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		vhostio_set_reason(reason, "file '%s' is not a regular file or block device", o->path);
		return -EINVAL;
	}
	if (access(o->path, R_OK | W_OK) < 0) {
		int err = errno;
		vhostio_set_reason(reason, "file '%s': %s (need read and write access)", o->path, strerror(err));
		return -err;
	}
	return 0;
}

static int file_check_config(const char *config, char **reason)
{
	struct file_opts o;
	int ret = parse_config(config, &o, reason);
	if (ret == 0)
		ret = check_path(&o, reason);
	free(o.path);
	return ret;
}

/* ---- request bookkeeping ---- */

static struct file_req *req_get(struct file_lun *lun)
{
	struct file_req *req = lun->free_reqs;
	if (req)
		lun->free_reqs = req->next;
	else if (!(req = malloc(sizeof(*req))))
		return NULL;
	memset(req, 0, sizeof(*req));
	return req;
}

static void req_put(struct file_lun *lun, struct file_req *req)
{
	free(req->rest);
	req->rest = NULL;
	req->next = lun->free_reqs;
	lun->free_reqs = req;
}

/* Complete the io: the request is recycled first, since completing may
 * run library steps that come straight back with new requests. */
static void req_finish(struct file_lun *lun, struct file_req *req, int result)
{
	struct vhostio_io *io = req->io;
	if (result < 0)
		vhostio_device_log_ratelimited(lun->dev, &lun->io_error_rl, VHOSTIO_LOG_WARN,
					       "%s of %zu bytes at offset %" PRIu64 ": %s",
					       req->op == REQ_READ ? "read" : req->op == REQ_WRITE ? "write"
								    : req->op == REQ_FSYNC ? "flush" : "unmap/zero",
					       req->length, req->offset, strerror(-result));
	req_put(lun, req);
	vhostio_io_complete(io, result);
}

/* Skip 'skip' bytes of the iovs and describe at most 'len' more in 'out'. */
static int iov_slice(const struct iovec *iov, int cnt, size_t skip, size_t len, struct iovec *out, int max)
{
	int n = 0;
	for (int i = 0; i < cnt && len && n < max; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - skip;
		if (k > len)
			k = len;
		out[n].iov_base = (uint8_t *)iov[i].iov_base + skip;
		out[n].iov_len = k;
		n++;
		len -= k;
		skip = 0;
	}
	return n;
}

static void iov_zero(const struct iovec *iov, int cnt, size_t skip, size_t len)
{
	for (int i = 0; i < cnt && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - skip;
		if (k > len)
			k = len;
		memset((uint8_t *)iov[i].iov_base + skip, 0, k);
		len -= k;
		skip = 0;
	}
}

/* Whether O_DIRECT takes this transfer as it is. */
static bool direct_ok(const struct file_lun *lun, const struct iovec *v, int n, uint64_t offset)
{
	if (offset & (lun->off_align - 1))
		return false;
	for (int i = 0; i < n; i++)
		if (((uintptr_t)v[i].iov_base & (lun->mem_align - 1)) || (v[i].iov_len & (lun->off_align - 1)))
			return false;
	return true;
}

/* Fill an SQE for what is left of the request.  0, or -ENOMEM. */
static int req_prep(struct file_lun *lun, struct file_req *req, struct io_uring_sqe *sqe)
{
	switch (req->op) {
	case REQ_READ:
	case REQ_WRITE: {
		const struct iovec *v = req->iov;
		int n = req->iovcnt;
		if (!req->exact || req->done) {
			if (!req->rest) {
				int cap = req->iovcnt < FILE_MAX_IOVS ? req->iovcnt : FILE_MAX_IOVS;
				req->rest = malloc((size_t)cap * sizeof(*req->rest));
				if (!req->rest)
					return -ENOMEM;
			}
			n = iov_slice(req->iov, req->iovcnt, req->done, req->length - req->done, req->rest,
				      req->iovcnt < FILE_MAX_IOVS ? req->iovcnt : FILE_MAX_IOVS);
			v = req->rest;
		}
		uint64_t off = req->offset + req->done;
		req->direct = lun->dfd >= 0 && !req->no_direct && direct_ok(lun, v, n, off);
		int fd = req->direct ? lun->dfd : lun->fd;
		if (req->op == REQ_READ) {
			io_uring_prep_readv(sqe, fd, v, (unsigned)n, off);
		} else {
			io_uring_prep_writev(sqe, fd, v, (unsigned)n, off);
			sqe->rw_flags = req->rw_flags;
		}
		break;
	}
	case REQ_FSYNC:
		io_uring_prep_fsync(sqe, lun->fd, IORING_FSYNC_DATASYNC);
		break;
	case REQ_FALLOC:
		io_uring_prep_fallocate(sqe, lun->fd, req->mode, req->offset, req->length);
		break;
	case REQ_GROUP:
		return -EINVAL;
	}
	io_uring_sqe_set_data(sqe, req);
	return 0;
}

static struct io_uring_sqe *get_sqe(struct file_lun *lun)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&lun->ring);
	if (!sqe) {
		/* The SQ is full: hand it to the kernel to make room. */
		int ret = io_uring_submit(&lun->ring);
		if (ret < 0)
			vhostio_device_log_ratelimited(lun->dev, &lun->submit_full_rl, VHOSTIO_LOG_DEBUG,
						       "io_uring_submit: %s", strerror(-ret));
		sqe = io_uring_get_sqe(&lun->ring);
	}
	return sqe;
}

/* Queue the request on the ring, or on the backlog when the ring is full. */
static int req_submit(struct file_lun *lun, struct file_req *req)
{
	struct io_uring_sqe *sqe = lun->backlog_head ? NULL : get_sqe(lun);
	if (!sqe) {
		req->next = NULL;
		if (lun->backlog_tail)
			lun->backlog_tail->next = req;
		else
			lun->backlog_head = req;
		lun->backlog_tail = req;
		return 0;
	}
	int ret = req_prep(lun, req, sqe);
	if (ret < 0) {
		io_uring_prep_nop(sqe); /* the SQE is taken: make it harmless */
		io_uring_sqe_set_data(sqe, NULL);
		return ret;
	}
	lun->inflight++;
	return 0;
}

static void drain_backlog(struct file_lun *lun)
{
	while (lun->backlog_head) {
		struct io_uring_sqe *sqe = get_sqe(lun);
		if (!sqe)
			return;
		struct file_req *req = lun->backlog_head;
		lun->backlog_head = req->next;
		if (!lun->backlog_head)
			lun->backlog_tail = NULL;
		if (req_prep(lun, req, sqe) < 0) {
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data(sqe, NULL);
			req_finish(lun, req, -ENOMEM);
			continue;
		}
		lun->inflight++;
	}
}

static void submit_queued(struct file_lun *lun)
{
	if (!io_uring_sq_ready(&lun->ring))
		return;
	int ret = io_uring_submit(&lun->ring);
	if (ret < 0 && ret != -EAGAIN && ret != -EBUSY)
		vhostio_device_log_ratelimited(lun->dev, &lun->submit_rl, VHOSTIO_LOG_ERROR, "io_uring_submit: %s",
					       strerror(-ret));
	/* -EAGAIN/-EBUSY: the SQEs stay queued and go with the next submit,
	 * after completions (which are pending, or the kernel would not say
	 * busy) have been reaped. */
}

/* ---- completion ---- */

static void group_part_done(struct file_lun *lun, struct file_req *part, int res)
{
	struct file_req *group = part->group;
	if (res < 0 && !group->result)
		group->result = res;
	req_put(lun, part);
	if (--group->parts)
		return;
	if (!group->result && !vhostio_device_write_cache(lun->dev)) {
		/* No volatile cache is advertised: the new allocation state must
		 * be durable before GOOD, as writes are with RWF_DSYNC. */
		group->op = REQ_FSYNC;
		if (req_submit(lun, group) == 0)
			return;
		group->result = -ENOMEM;
	}
	req_finish(lun, group, group->result);
}

static void req_done(struct file_lun *lun, struct file_req *req, int res)
{
	if ((res == -EAGAIN || res == -EINTR) && req->retries++ < FILE_MAX_RETRIES) {
		if (req_submit(lun, req) == 0)
			return;
		res = -ENOMEM;
	}
	if (req->op == REQ_FALLOC) {
		group_part_done(lun, req, res);
		return;
	}
	if (req->op == REQ_FSYNC) {
		req_finish(lun, req, res < 0 ? res : 0);
		return;
	}

	if (res == -EINVAL && req->direct) {
		/* Our alignment guess was wrong for this one: go buffered. */
		if (!lun->warned_direct) {
			vhostio_device_log(lun->dev, VHOSTIO_LOG_WARN,
					   "O_DIRECT refused a request; such requests use the page cache");
			lun->warned_direct = true;
		}
		req->no_direct = true;
		if (req_submit(lun, req) == 0)
			return;
		res = -ENOMEM;
	}
	if (res < 0) {
		req_finish(lun, req, res);
		return;
	}
	if (res == 0) {
		if (req->op == REQ_WRITE || lun->is_blk) {
			req_finish(lun, req, -EIO); /* no progress: never loop */
			return;
		}
		/* Past the end of a file that was cut short behind our back. */
		iov_zero(req->iov, req->iovcnt, req->done, req->length - req->done);
		req->done = req->length;
	}
	req->done += (size_t)res;
	if (req->done < req->length) {
		/* Short transfer: carry on from where it stopped. */
		req->retries = 0;
		if (req_submit(lun, req) == 0)
			return;
		req_finish(lun, req, -ENOMEM);
		return;
	}
	req_finish(lun, req, 0);
}

static void drain_cqes(struct file_lun *lun)
{
	struct io_uring_cqe *cqe;

	/* One CQE at a time, marked seen before it is acted on: completing an
	 * io may run library steps that submit (and reap) again. */
	while (io_uring_peek_cqe(&lun->ring, &cqe) == 0) {
		struct file_req *req = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&lun->ring, cqe);
		if (!req)
			continue; /* a NOP standing in for a failed prep, or a cancel */
		lun->inflight--;
		req_done(lun, req, res);
	}
}

/* The ring's eventfd is readable: completions are waiting. */
static void file_reap(struct vhostio_device *dev, void *arg)
{
	struct file_lun *lun = arg;
	uint64_t n;
	(void)dev;

	/* Clear the eventfd first: a CQE posted after this read signals again. */
	if (read(lun->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		vhostio_device_log_ratelimited(lun->dev, &lun->efd_rl, VHOSTIO_LOG_ERROR, "io_uring eventfd: %s",
					       strerror(errno));
	drain_cqes(lun);
	drain_backlog(lun);
	submit_queued(lun);
}

static void file_end_batch(struct vhostio_device *dev)
{
	struct file_lun *lun = vhostio_device_private(dev);
	drain_backlog(lun);
	submit_queued(lun);
}

/* ---- data callbacks ---- */

static int start_rw(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		    size_t length, uint64_t offset, enum req_op op)
{
	struct file_lun *lun = vhostio_device_private(dev);
	if (!length)
		return 0;
	struct file_req *req = req_get(lun);
	if (!req)
		return -ENOMEM;
	size_t sum = 0;
	for (int i = 0; i < iovcnt; i++)
		sum += iov[i].iov_len;
	req->io = io;
	req->op = op;
	req->iov = iov;
	req->iovcnt = iovcnt;
	req->length = length;
	req->offset = offset;
	req->exact = sum == length && iovcnt <= FILE_MAX_IOVS;
	/* Without a volatile write cache (WCE=0) a completed write must be
	 * durable, exactly as with FUA. */
	if (op == REQ_WRITE && ((vhostio_io_flags(io) & VHOSTIO_IO_FUA) || !vhostio_device_write_cache(dev)))
		req->rw_flags = RWF_DSYNC;
	int ret = req_submit(lun, req);
	if (ret < 0) {
		req_put(lun, req);
		return ret;
	}
	return VHOSTIO_IO_ASYNC;
}

static int file_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		     size_t length, uint64_t offset)
{
	return start_rw(dev, io, iov, iovcnt, length, offset, REQ_READ);
}

static int file_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		      size_t length, uint64_t offset)
{
	return start_rw(dev, io, iov, iovcnt, length, offset, REQ_WRITE);
}

static int file_flush(struct vhostio_device *dev, struct vhostio_io *io)
{
	struct file_lun *lun = vhostio_device_private(dev);
	struct file_req *req = req_get(lun);
	if (!req)
		return -ENOMEM;
	req->io = io;
	req->op = REQ_FSYNC;
	int ret = req_submit(lun, req);
	if (ret < 0) {
		req_put(lun, req);
		return ret;
	}
	return VHOSTIO_IO_ASYNC;
}

/* fallocate() each range with 'mode'; one io completes when all are done. */
static int start_falloc(struct file_lun *lun, struct vhostio_io *io, const struct vhostio_range *ranges,
			unsigned n, int mode)
{
	if (!n)
		return 0;
	if (!lun->async_falloc) {
		/* Kernel without IORING_OP_FALLOCATE: do it here, synchronously. */
		for (unsigned i = 0; i < n; i++)
			if (fallocate(lun->fd, mode, (off_t)ranges[i].offset, (off_t)ranges[i].length) < 0)
				return -errno;
		if (!vhostio_device_write_cache(lun->dev) && fdatasync(lun->fd) < 0)
			return -errno;
		return 0;
	}
	struct file_req *group = req_get(lun);
	if (!group)
		return -ENOMEM;
	group->io = io;
	group->op = REQ_GROUP;
	group->length = ranges[0].length;
	group->offset = ranges[0].offset;
	struct file_req *parts = NULL;
	for (unsigned i = 0; i < n; i++) {
		struct file_req *part = req_get(lun);
		if (!part) {
			while (parts) {
				struct file_req *next = parts->next;
				req_put(lun, parts);
				parts = next;
			}
			req_put(lun, group);
			return -ENOMEM;
		}
		part->group = group;
		part->op = REQ_FALLOC;
		part->mode = mode;
		part->offset = ranges[i].offset;
		part->length = ranges[i].length;
		part->next = parts;
		parts = part;
	}
	group->parts = n;
	while (parts) {
		struct file_req *part = parts;
		parts = part->next;
		if (req_submit(lun, part) < 0) /* cannot happen: a fallocate prep allocates nothing */
			group_part_done(lun, part, -ENOMEM);
	}
	return VHOSTIO_IO_ASYNC;
}

static int file_unmap(struct vhostio_device *dev, struct vhostio_io *io, const struct vhostio_range *ranges,
		      unsigned nr_ranges)
{
	struct file_lun *lun = vhostio_device_private(dev);
	if (!lun->punch_ok)
		return -EOPNOTSUPP;
	return start_falloc(lun, io, ranges, nr_ranges, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
}

static int file_write_same(struct vhostio_device *dev, struct vhostio_io *io, const void *block, size_t length,
			   uint64_t offset)
{
	struct file_lun *lun = vhostio_device_private(dev);
	const uint8_t *b = block;
	size_t bs = vhostio_device_block_size(dev);

	/* Only zeroes have a fast path; the library loops writes for the rest. */
	if (!lun->zero_ok || !is_zero(b, bs))
		return -EOPNOTSUPP;
	struct vhostio_range r = { offset, length };
	/* ZERO_RANGE keeps the blocks allocated, as WRITE SAME without UNMAP asks. */
	return start_falloc(lun, io, &r, 1, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
}

static int file_lba_status(struct vhostio_device *dev, uint64_t offset, uint64_t *length)
{
	struct file_lun *lun = vhostio_device_private(dev);
	uint64_t bs = vhostio_device_block_size(dev);
	uint64_t ext;
	int state;

	if (lun->is_blk)
		return VHOSTIO_LBA_MAPPED;
	off_t data = lseek(lun->fd, (off_t)offset, SEEK_DATA);
	if (data < 0) {
		if (errno != ENXIO)
			return -errno;
		return VHOSTIO_LBA_DEALLOCATED; /* no data from here to the end of the file */
	}
	if ((uint64_t)data > offset) {
		/* A hole up to 'data'; a block that is partly data counts as mapped. */
		ext = ((uint64_t)data - offset) / bs * bs;
		state = VHOSTIO_LBA_DEALLOCATED;
		if (!ext) {
			ext = bs;
			state = VHOSTIO_LBA_MAPPED;
		}
	} else {
		off_t hole = lseek(lun->fd, (off_t)offset, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		ext = ((uint64_t)hole - offset + bs - 1) / bs * bs;
		state = VHOSTIO_LBA_MAPPED;
	}
	if (ext < *length)
		*length = ext;
	return state;
}

/* ---- open / close ---- */

static int blk_size(int fd, uint64_t *size)
{
	if (ioctl(fd, BLKGETSIZE64, size) < 0)
		return -errno;
	return 0;
}

/* A block device's queue limit from sysfs (partitions read their disk's). */
static uint64_t blk_queue_limit(dev_t rdev, const char *name)
{
	char path[128];
	unsigned long long v = 0;
	for (int up = 0; up < 2; up++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%squeue/%s", major(rdev), minor(rdev),
			 up ? "../" : "", name);
		FILE *fp = fopen(path, "re");
		if (!fp)
			continue;
		int ok = fscanf(fp, "%llu", &v) == 1;
		fclose(fp);
		if (ok)
			return v;
	}
	return 0;
}

/* Which fallocate modes the file system takes, tried past the end of the
 * file (and past the LUN) so that no data is touched. */
static void probe_fallocate(struct file_lun *lun, const struct stat *st, uint64_t lun_size)
{
	if (lun->is_blk) {
		/* PUNCH_HOLE on a block device is a zeroing discard (it must read
		 * back as zeroes, as LBPRZ promises) and needs WRITE ZEROES;
		 * ZERO_RANGE falls back to writing zeroes in the kernel. */
		lun->punch_ok = blk_queue_limit(st->st_rdev, "write_zeroes_max_bytes") > 0;
		lun->zero_ok = true;
		return;
	}
	uint64_t end = (uint64_t)st->st_size > lun_size ? (uint64_t)st->st_size : lun_size;
	off_t probe = (off_t)((end + 4095) & ~(uint64_t)4095);
	lun->punch_ok = fallocate(lun->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, probe, 4096) == 0;
	lun->zero_ok = fallocate(lun->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, probe, 4096) == 0;
	if (lun->zero_ok) {
		/* The probe left blocks past EOF; a punch there is a no-op on
		 * some file systems, moving EOF over them and back frees them. */
		if (ftruncate(lun->fd, probe + 4096) < 0 || ftruncate(lun->fd, (off_t)end) < 0)
			vhostio_device_log(lun->dev, VHOSTIO_LOG_WARN, "file '%s': 4 KiB past its end stay allocated",
					   lun->path);
	}
}

/* Open the O_DIRECT twin of fd and learn its alignment.  0, or -errno. */
static int open_direct(struct file_lun *lun, enum direct_mode mode)
{
	char self[64];

	lun->dfd = -1;
	lun->mem_align = lun->off_align = 4096; /* safe guess without statx */
	if (mode == DIRECT_OFF)
		return 0;
	/* Through /proc, to get the very inode we opened, even if the path moved. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", lun->fd);
	int dfd = open(self, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT)
		dfd = open(lun->path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (dfd < 0) {
		int err = errno;
		if (mode == DIRECT_ON) {
			vhostio_device_log(lun->dev, VHOSTIO_LOG_ERROR, "file '%s': O_DIRECT: %s (direct=on)",
					   lun->path, strerror(err));
			return -err;
		}
		vhostio_device_log(lun->dev, VHOSTIO_LOG_INFO, "file '%s': no O_DIRECT (%s); using the page cache",
				   lun->path, strerror(err));
		return 0;
	}
	if (lun->is_blk) {
		int lbs;
		if (ioctl(dfd, BLKSSZGET, &lbs) == 0 && lbs > 0)
			lun->mem_align = lun->off_align = (size_t)lbs;
	}
#ifdef STATX_DIOALIGN
	struct statx sx;
	if (statx(dfd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN)) {
		if (!sx.stx_dio_offset_align || !sx.stx_dio_mem_align) {
			close(dfd);
			if (mode == DIRECT_ON) {
				vhostio_device_log(lun->dev, VHOSTIO_LOG_ERROR,
						   "file '%s': the file system does no direct I/O (direct=on)", lun->path);
				return -EINVAL;
			}
			return 0;
		}
		lun->mem_align = sx.stx_dio_mem_align;
		lun->off_align = sx.stx_dio_offset_align;
	}
#endif
	lun->dfd = dfd;
	return 0;
}

static void lun_free(struct file_lun *lun)
{
	while (lun->free_reqs) {
		struct file_req *req = lun->free_reqs;
		lun->free_reqs = req->next;
		free(req->rest);
		free(req);
	}
	if (lun->dfd >= 0)
		close(lun->dfd);
	if (lun->fd >= 0)
		close(lun->fd);
	free(lun->path);
	free(lun);
}

static int file_open(struct vhostio_device *dev)
{
	struct file_opts o;
	char *reason = NULL;
	int ret = parse_config(vhostio_device_config(dev), &o, &reason);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "%s", reason ? reason : "bad file config");
		free(reason);
		return ret;
	}

	struct file_lun *lun = calloc(1, sizeof(*lun));
	if (!lun) {
		free(o.path);
		return -ENOMEM;
	}
	lun->dev = dev;
	lun->path = o.path;
	lun->dfd = -1;
	lun->efd = -1;
	uint64_t lun_size = vhostio_device_size(dev);

	/* The checks check_config made may be stale by now: open() has the last word. */
	lun->fd = open(o.path, O_RDWR | O_CLOEXEC | (o.create ? O_CREAT : 0), 0600);
	if (lun->fd < 0) {
		ret = -errno;
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "file '%s': %s%s", o.path, strerror(-ret),
				   ret == -ENOENT && !o.create ? " (add ';create' to create it)" : "");
		goto fail;
	}
	struct stat st;
	if (fstat(lun->fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t bsize;
		lun->is_blk = true;
		ret = blk_size(lun->fd, &bsize);
		if (ret < 0)
			goto fail;
		if (bsize < lun_size) {
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR,
					   "block device '%s' has %" PRIu64 " bytes, the LUN needs %" PRIu64, o.path,
					   bsize, lun_size);
			ret = -ENOSPC;
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		/* Extend, sparse; a longer file keeps its tail, unused. */
		if ((uint64_t)st.st_size < lun_size && ftruncate(lun->fd, (off_t)lun_size) < 0) {
			ret = -errno;
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "file '%s': cannot extend to %" PRIu64 " bytes: %s",
					   o.path, lun_size, strerror(-ret));
			goto fail;
		}
	} else {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "file '%s' is not a regular file or block device", o.path);
		ret = -EINVAL;
		goto fail;
	}

	ret = open_direct(lun, o.direct);
	if (ret < 0)
		goto fail;
	if (!lun->is_blk && fstat(lun->fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	probe_fallocate(lun, &st, lun_size);
	if (!lun->punch_ok) {
		vhostio_device_log(dev, VHOSTIO_LOG_INFO, "'%s' cannot punch holes: UNMAP is not offered", o.path);
		vhostio_device_disable_caps(dev, VHOSTIO_CAP_UNMAP);
	}

	ret = io_uring_queue_init(o.queue_depth, &lun->ring, 0);
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "io_uring_queue_init(%u): %s", o.queue_depth,
				   strerror(-ret));
		goto fail;
	}
	struct io_uring_probe *probe = io_uring_get_probe_ring(&lun->ring);
	lun->async_falloc = probe && io_uring_opcode_supported(probe, IORING_OP_FALLOCATE);
	if (probe)
		io_uring_free_probe(probe);

	lun->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (lun->efd < 0) {
		ret = -errno;
		goto fail_ring;
	}
	ret = io_uring_register_eventfd(&lun->ring, lun->efd);
	if (ret < 0)
		goto fail_efd;
	ret = vhostio_device_watch_fd(dev, lun->efd, file_reap, lun);
	if (ret < 0)
		goto fail_efd;

	vhostio_device_set_private(dev, lun);
	vhostio_device_log(dev, VHOSTIO_LOG_INFO, "file '%s': %s, %s I/O, queue depth %u%s", o.path,
			   lun->is_blk ? "block device" : "regular file", lun->dfd >= 0 ? "direct" : "buffered",
			   o.queue_depth, lun->punch_ok ? ", unmap" : "");
	return 0;

fail_efd:
	close(lun->efd);
fail_ring:
	io_uring_queue_exit(&lun->ring);
fail:
	lun_free(lun);
	return ret;
}

static void file_close(struct vhostio_device *dev)
{
	struct file_lun *lun = vhostio_device_private(dev);

	/* The library drains commands before close; anything still here was
	 * abandoned.  The kernel may still write into those buffers, so ask it
	 * to cancel and wait: after close() returns, nothing may touch them. */
	while (lun->backlog_head) {
		struct file_req *req = lun->backlog_head;
		lun->backlog_head = req->next;
		req_finish(lun, req, -ECANCELED);
	}
	lun->backlog_tail = NULL;
	if (lun->inflight) {
		vhostio_device_log(dev, VHOSTIO_LOG_WARN, "closing with %u requests in flight; cancelling",
				   lun->inflight);
#ifdef IORING_ASYNC_CANCEL_ANY
		struct io_uring_sqe *sqe = get_sqe(lun);
		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
			io_uring_sqe_set_data(sqe, NULL);
		}
#endif
		io_uring_submit(&lun->ring);
		for (int waited = 0; lun->inflight && waited < FILE_CLOSE_WAIT_S;) {
			struct io_uring_cqe *cqe;
			struct __kernel_timespec ts = { .tv_sec = 1 };
			int ret = io_uring_wait_cqe_timeout(&lun->ring, &cqe, &ts);
			if (ret == -ETIME) {
				waited++;
				continue;
			}
			if (ret < 0 && ret != -EINTR)
				break;
			struct file_req *req = ret == 0 ? io_uring_cqe_get_data(cqe) : NULL;
			int res = ret == 0 ? cqe->res : 0;
			if (ret == 0)
				io_uring_cqe_seen(&lun->ring, cqe);
			if (!req)
				continue;
			lun->inflight--;
			/* Finish what completed, but start nothing new. */
			if (req->op == REQ_FALLOC)
				group_part_done(lun, req, res < 0 ? res : 0);
			else
				req_finish(lun, req, res < 0 ? res : (req->done + (size_t)res < req->length ? -EIO : 0));
		}
		if (lun->inflight)
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "%u requests never completed; giving up on them",
					   lun->inflight);
	}
	io_uring_unregister_eventfd(&lun->ring);
	io_uring_queue_exit(&lun->ring);
	close(lun->efd);
	lun_free(lun);
}

/* ---- reconfig ---- */

static int file_reconfig(struct vhostio_device *dev, const struct vhostio_reconfig *rc)
{
	struct file_lun *lun = vhostio_device_private(dev);

	if (rc->changed & VHOSTIO_RECONFIG_CONFIG)
		return -EOPNOTSUPP; /* a new path or options: the library reopens */
	if (rc->changed & VHOSTIO_RECONFIG_SIZE) {
		if (lun->is_blk) {
			uint64_t bsize;
			int ret = blk_size(lun->fd, &bsize);
			if (ret < 0)
				return ret;
			if (bsize < rc->size) {
				vhostio_device_log(dev, VHOSTIO_LOG_ERROR,
						   "block device '%s' has %" PRIu64 " bytes, too few for %" PRIu64,
						   lun->path, bsize, rc->size);
				return -ENOSPC;
			}
		} else {
			/* Grow only: shrinking the LUN leaves the file's data alone. */
			struct stat st;
			if (fstat(lun->fd, &st) < 0)
				return -errno;
			if ((uint64_t)st.st_size < rc->size && ftruncate(lun->fd, (off_t)rc->size) < 0) {
				int err = errno;
				vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "file '%s': cannot grow to %" PRIu64 ": %s",
						   lun->path, rc->size, strerror(err));
				return -err;
			}
		}
	}
	return 0; /* WRITE_CACHE: each write reads the current setting */
}

static const struct vhostio_handler file_handler = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "file",
	.config_desc =
		"LUN backed by a regular file or block device, with io_uring I/O.\n"
		"Config string: <absolute path>[;direct=auto|on|off][;create][;queue_depth=N]\n"
		"  direct=auto     O_DIRECT when the file system supports it, page cache for\n"
		"                  unaligned requests (default); on: fail unless O_DIRECT\n"
		"                  works; off: always the page cache\n"
		"  create          create a missing regular file (mode 0600)\n"
		"  queue_depth=N   io_uring entries, 1-4096 (default 128)\n"
		"A shorter regular file is extended (sparse) to the LUN size; a block device\n"
		"must be at least that large.  UNMAP punches holes when the file system can.",
	.check_config = file_check_config,
	.open = file_open,
	.close = file_close,
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.thread_model = VHOSTIO_THREAD_SERIALIZE,
	.native_caps = VHOSTIO_CAP_FUA,
	.unmap = file_unmap,
	.write_same = file_write_same,
	.lba_status = file_lba_status,
	.reconfig = file_reconfig,
	.end_batch = file_end_batch,
};

VHOSTIO_REGISTER_HANDLER(file_handler)
