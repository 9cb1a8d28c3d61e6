/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How a command ends: the handler's result becomes the next emulation
 * step, an emulated FUA flush, or a status; the status goes back to the
 * transport through the LUN's completion callback.  Also the per-LUN
 * state: capabilities, unit attentions, the serial, the COMPARE AND WRITE
 * lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_internal.h"

/* ---- the LUN ---- */

int scsi_lun_init(struct scsi_lun *lun, const struct vhostio_handler *handler, struct vhostio_device *dev,
		  const struct scsi_lun_ops *ops, const struct scsi_lun_params *p)
{
	memset(lun, 0, sizeof(*lun));
	lun->handler = handler;
	lun->dev = dev;
	lun->ops = ops;
	lun->block_size = p->block_size;
	lun->num_lbas = p->num_lbas;
	lun->max_sectors = p->max_sectors;
	lun->write_cache = p->write_cache;
	snprintf(lun->subtype, sizeof(lun->subtype), "%s", p->subtype ? p->subtype : "");
	snprintf(lun->serial, sizeof(lun->serial), "%s", p->serial ? p->serial : "");
	int ret = pthread_mutex_init(&lun->serial_lock, NULL);
	if (ret)
		return -ret;
	ret = pthread_mutex_init(&lun->caw_lock, NULL);
	if (ret) {
		pthread_mutex_destroy(&lun->serial_lock);
		return -ret;
	}
	return 0;
}

void scsi_lun_destroy(struct scsi_lun *lun)
{
	pthread_mutex_destroy(&lun->caw_lock);
	pthread_mutex_destroy(&lun->serial_lock);
}

void scsi_lun_resolve_caps(struct scsi_lun *lun)
{
	const struct vhostio_handler *h = lun->handler;
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
	lun->caps = caps & ~h->no_caps;
	lun->native_caps = native & lun->caps;
}

void scsi_lun_disable_caps(struct scsi_lun *lun, uint32_t caps)
{
	lun->caps &= ~caps;
	lun->native_caps &= ~caps;
}

void scsi_lun_set_serial(struct scsi_lun *lun, const char *serial)
{
	if (!serial || !serial[0])
		return;
	pthread_mutex_lock(&lun->serial_lock);
	snprintf(lun->serial, sizeof(lun->serial), "%s", serial);
	pthread_mutex_unlock(&lun->serial_lock);
}

uint16_t scsi_lun_take_unit_attention(struct scsi_lun *lun)
{
	if (!__atomic_load_n(&lun->pending_ua, __ATOMIC_RELAXED))
		return 0;
	return __atomic_exchange_n(&lun->pending_ua, 0, __ATOMIC_ACQ_REL);
}

/* ---- COMPARE AND WRITE lock ---- */

static void reexecute(struct vhostio_io *io)
{
	scsi_execute(io);
}

bool scsi_caw_lock(struct vhostio_io *io)
{
	struct scsi_lun *lun = io->lun;
	if (io->holds_caw_lock)
		return true;
	pthread_mutex_lock(&lun->caw_lock);
	bool got = !lun->caw_busy;
	if (got) {
		lun->caw_busy = true;
		io->holds_caw_lock = true;
	} else {
		io_fifo_push(&lun->caw_waiters, io);
	}
	pthread_mutex_unlock(&lun->caw_lock);
	return got;
}

/* Hand the lock straight to the next COMPARE AND WRITE; returns it, or NULL. */
static struct vhostio_io *caw_unlock(struct scsi_lun *lun)
{
	pthread_mutex_lock(&lun->caw_lock);
	struct vhostio_io *next = io_fifo_pop(&lun->caw_waiters);
	if (next) {
		next->holds_caw_lock = true;
	} else {
		lun->caw_busy = false;
	}
	pthread_mutex_unlock(&lun->caw_lock);
	return next;
}

/* ---- completion ---- */

void scsi_complete(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len)
{
	struct scsi_lun *lun = io->lun;
	struct vhostio_io *caw_next = NULL;

	if (io->bounce) {
		free(io->bounce);
		io->bounce = NULL;
	}
	if (io->holds_caw_lock) {
		io->holds_caw_lock = false;
		caw_next = caw_unlock(lun);
	}
	/* An aborted command that did not finish reports that, not the error
	 * its cut-short handler call produced (SAM: TASK ABORTED). */
	static const struct vhostio_scsi_status aborted = { .status = VHOSTIO_SAM_TASK_ABORTED };
	if (st->status != VHOSTIO_SAM_GOOD && scsi_io_aborted(io))
		st = &aborted;
	/* A transfer shorter than the buffer says so: the kernel then returns
	 * only those bytes and a residual, not what the data area held before. */
	if (read_len == UINT32_MAX && st->status == VHOSTIO_SAM_GOOD)
		read_len = io->data_in_len;
	if (io->trimmed_iov >= 0) {
		io->iov[io->trimmed_iov].iov_len = io->trimmed_iov_len;
		io->trimmed_iov = -1;
	}
	/* The io belongs to the transport from here on. */
	lun->ops->complete(io, st, read_len);
	if (caw_next)
		lun->ops->run_step(caw_next, reexecute);
}

uint32_t vhostio_io_flags(const struct vhostio_io *io)
{
	return io->flags | (scsi_io_aborted(io) ? VHOSTIO_IO_ABORTED : 0);
}

static void flush_after_write(struct vhostio_io *io)
{
	if (io->step_result < 0) {
		vhostio_io_complete(io, io->step_result);
		return;
	}
	struct scsi_lun *lun = io->lun;
	int ret = lun->handler->flush(lun->dev, io);
	if (ret != VHOSTIO_IO_ASYNC)
		vhostio_io_complete(io, ret);
}

void vhostio_io_complete(struct vhostio_io *io, int result)
{
	static const struct vhostio_scsi_status good = { .status = VHOSTIO_SAM_GOOD };

	if (result > 0)
		result = 0;
	/* The common case: a plain READ or WRITE that succeeded. */
	if (result == 0 && !io->next_step && !io->flush_after) {
		scsi_complete(io, &good, UINT32_MAX);
		return;
	}
	if (io->next_step) {
		io_step_fn step = io->next_step;
		io->next_step = NULL;
		io->step_result = result;
		io->lun->ops->run_step(io, step);
		return;
	}
	if (result == 0 && io->flush_after) {
		/* Emulated FUA: the write is done, now the flush, where the handler may be called. */
		io->flush_after = false;
		io->step_result = 0;
		io->lun->ops->run_step(io, flush_after_write);
		return;
	}
	if (result < 0 && !scsi_io_aborted(io))
		log_ratelimited_dev(io->lun->dev, VHOSTIO_LOG_WARN, "%s failed: %s",
				    io->is_write ? "write" : "read", strerror(-result));
	struct vhostio_scsi_status st = scsi_status_from_errno(result, io->is_write);
	scsi_complete(io, &st, UINT32_MAX);
}

void vhostio_io_complete_scsi(struct vhostio_io *io, const struct vhostio_scsi_status *st)
{
	/* GOOD is plain success: whatever follows (a FUA flush, the next
	 * emulation step) still has to run. */
	if (st->status == VHOSTIO_SAM_GOOD)
		vhostio_io_complete(io, 0);
	else
		scsi_complete(io, st, UINT32_MAX);
}

/* ---- completion helpers for the emulators ---- */

void scsi_complete_status(struct vhostio_io *io, const struct vhostio_scsi_status *st)
{
	scsi_complete(io, st, UINT32_MAX);
}

void scsi_complete_good(struct vhostio_io *io)
{
	static const struct vhostio_scsi_status good = { .status = VHOSTIO_SAM_GOOD };
	scsi_complete(io, &good, UINT32_MAX);
}

void scsi_complete_sense(struct vhostio_io *io, uint8_t key, uint16_t asc)
{
	struct vhostio_scsi_status st = {
		.status = VHOSTIO_SAM_CHECK_CONDITION,
		.sense_key = key,
		.asc = asc >> 8,
		.ascq = asc & 0xff,
	};
	scsi_complete(io, &st, UINT32_MAX);
}

/* SPC-4 4.5.2.4.2 field pointer: C/D says CDB (1) or parameter list (0). */
static void complete_invalid_field(struct vhostio_io *io, uint16_t asc, bool in_cdb, uint16_t byte, int bit)
{
	struct vhostio_scsi_status st = {
		.status = VHOSTIO_SAM_CHECK_CONDITION,
		.sense_key = VHOSTIO_SENSE_ILLEGAL_REQUEST,
		.asc = asc >> 8,
		.ascq = asc & 0xff,
		.sks_valid = 1,
		.sks = { (uint8_t)((in_cdb ? 0x40 : 0) | (bit >= 0 ? 0x08 | (bit & 7) : 0)),
			 (uint8_t)(byte >> 8), (uint8_t)byte },
	};
	scsi_complete(io, &st, UINT32_MAX);
}

void scsi_complete_invalid_cdb_field(struct vhostio_io *io, uint16_t byte, int bit)
{
	complete_invalid_field(io, ASC_INVALID_FIELD_IN_CDB, true, byte, bit);
}

void scsi_complete_invalid_param_field(struct vhostio_io *io, uint16_t byte, int bit)
{
	complete_invalid_field(io, ASC_INVALID_FIELD_IN_PARAMETER_LIST, false, byte, bit);
}

void scsi_complete_lba_out_of_range(struct vhostio_io *io)
{
	scsi_complete_sense(io, VHOSTIO_SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
}

void scsi_complete_param_list_length_error(struct vhostio_io *io)
{
	scsi_complete_sense(io, VHOSTIO_SENSE_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
}

void scsi_complete_miscompare(struct vhostio_io *io, uint64_t offset)
{
	struct vhostio_scsi_status st = {
		.status = VHOSTIO_SAM_CHECK_CONDITION,
		.sense_key = VHOSTIO_SENSE_MISCOMPARE,
		.asc = ASC_MISCOMPARE_DURING_VERIFY >> 8,
		.ascq = ASC_MISCOMPARE_DURING_VERIFY & 0xff,
		.info_valid = 1,
		.info = offset,
	};
	scsi_complete(io, &st, UINT32_MAX);
}

/* Copy a response into the data-in buffer, truncated to what fits. */
static size_t copy_to_data_in(struct vhostio_io *io, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	if (len > io->cmd.data_len)
		len = io->cmd.data_len;
	for (uint32_t i = 0; i < io->cmd.iov_cnt && done < len; i++) {
		size_t n = io->iov[i].iov_len;
		if (n > len - done)
			n = len - done;
		memcpy(io->iov[i].iov_base, buf + done, n);
		done += n;
	}
	return done;
}

/*
 * A transfer shorter than the kernel's buffer is reported (READ_LEN) so
 * the initiator sees the right residual.
 */
void scsi_complete_data_in(struct vhostio_io *io, const uint8_t *buf, size_t len, size_t alloc_len)
{
	static const struct vhostio_scsi_status good = { .status = VHOSTIO_SAM_GOOD };
	if (len > alloc_len)
		len = alloc_len;
	size_t done = copy_to_data_in(io, buf, len);
	scsi_complete(io, &good, done < io->cmd.data_len ? (uint32_t)done : UINT32_MAX);
}

void scsi_finish_handler_call(struct vhostio_io *io, int ret)
{
	if (ret != VHOSTIO_IO_ASYNC)
		vhostio_io_complete(io, ret);
}

size_t scsi_data_out_copy(const struct vhostio_io *io, size_t offset, void *dst, size_t len)
{
	uint8_t *out = dst;
	size_t done = 0;
	for (uint32_t i = 0; i < io->cmd.iov_cnt && done < len; i++) {
		size_t n = io->iov[i].iov_len;
		if (offset >= n) {
			offset -= n;
			continue;
		}
		n -= offset;
		if (n > len - done)
			n = len - done;
		memcpy(out + done, (const uint8_t *)io->iov[i].iov_base + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

bool scsi_buffer_covers(struct scsi_lun *lun, struct vhostio_io *io, uint64_t need)
{
	if (io->cmd.data_len >= need)
		return true;
	/* The kernel sized the buffer from the CDB; a shorter one is a bad entry. */
	log_ratelimited_dev(lun->dev, VHOSTIO_LOG_ERROR, "cmd_id %u: %zu-byte buffer for %llu-byte transfer",
			    io->cmd.tag, io->cmd.data_len, (unsigned long long)need);
	scsi_complete_sense(io, VHOSTIO_SENSE_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	return false;
}

