/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SCSI logical unit: what the SCSI emulation keeps per LUN, and the
 * interface between it and the transport that feeds it commands (the
 * TCMU device layer in production, a unit test on its own).
 *
 * SCSI knows nothing of rings, configfs or threads.  A transport fills a
 * struct scsi_lun at attach, hands each command over in a vhostio_io
 * (scsi_execute()), and gets it back through the completion callback it
 * installed.  Multi-step emulations ask the transport to schedule their
 * next step (ops->run_step), since only the transport knows on which
 * thread the handler may be called.
 */
#ifndef VHOSTIO_SCSI_LUN_H
#define VHOSTIO_SCSI_LUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vhostio/handler.h>

/* The largest CDB a transport hands over (LIO's TCM_MAX_COMMAND_SIZE). */
#define SCSI_MAX_CDB 32

/* A command as the transport received it. */
struct scsi_cmd {
	uint32_t tag;            /* the transport's id, for logs (TCMU cmd_id) */
	uint8_t cdb_len;
	uint8_t cdb[SCSI_MAX_CDB];
	uint32_t iov_cnt;        /* data iovs in vhostio_io.iov */
	size_t data_len;         /* sum of their lengths */
};

typedef void (*io_step_fn)(struct vhostio_io *io);

/*
 * One command in flight.  The transport owns the memory (it may embed
 * this in a larger struct of its own), calls scsi_io_reset() before it
 * reuses one for a new command and fills lun, cmd and iov; the rest is
 * SCSI's.
 */
struct vhostio_io {
	struct scsi_lun *lun;
	struct scsi_cmd cmd;
	struct iovec *iov;       /* cmd.iov_cnt entries */

	bool is_write;           /* for mapping -EIO to the right sense */
	bool flush_after;        /* emulated FUA: flush once the write succeeds */
	uint32_t flags;          /* VHOSTIO_IO_* as the handler sees them */

	/*
	 * Multi-step emulation (COMPARE AND WRITE, emulated WRITE SAME, VERIFY,
	 * ...): when set, the next vhostio_io_complete() stores its result in
	 * step_result and has the transport run 'next_step' instead of
	 * finishing the command.
	 */
	io_step_fn next_step;
	int step_result;
	void *bounce;            /* scratch buffer, freed when the command finishes */
	size_t bounce_len;
	uint64_t emul_pos;       /* emulation cursor, e.g. next byte offset */
	uint64_t emul_end;
	struct iovec emul_iov;   /* an iov the emulation hands to the handler */
	bool holds_caw_lock;     /* this command owns the LUN's COMPARE AND WRITE lock */
	/* Data-in bytes a GOOD completion reports (TCMU READ_LEN) when fewer
	 * than the buffer holds; UINT32_MAX: the whole buffer. */
	uint32_t data_in_len;
	/* Atomic: a task management function aborted the command (set by the
	 * transport, scsi_io_mark_aborted()).  It runs no further step. */
	bool aborted;
	/* The iov the transfer ends inside, shortened for the handler
	 * (-1: none), and its length as the transport gave it: restored when
	 * the command ends, so the transport sees its whole buffer again. */
	int32_t trimmed_iov;
	size_t trimmed_iov_len;

	/* Queue link: the transport's queues, or the LUN's COMPARE AND WRITE
	 * waiters (never both at once). */
	struct vhostio_io *next;
};

/* A FIFO of ios linked through io->next (the COMPARE AND WRITE waiters,
 * the transport's queues).  Not locked: its owner's lock guards it. */
struct io_fifo {
	struct vhostio_io *head, *tail;
};

static inline void io_fifo_push(struct io_fifo *q, struct vhostio_io *io)
{
	io->next = NULL;
	if (q->tail)
		q->tail->next = io;
	else
		q->head = io;
	q->tail = io;
}

static inline struct vhostio_io *io_fifo_pop(struct io_fifo *q)
{
	struct vhostio_io *io = q->head;
	if (io) {
		q->head = io->next;
		if (!q->head)
			q->tail = NULL;
		io->next = NULL;
	}
	return io;
}

/* What the transport does for the SCSI layer. */
struct scsi_lun_ops {
	/*
	 * Deliver a command's status (and sense, formatted by the transport
	 * with scsi_lun_descriptor_sense()); read_len < UINT32_MAX: a short
	 * data-in transfer.  The io is the transport's again afterwards.
	 */
	void (*complete)(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len);
	/* Run 'step' for this io where the handler may be called. */
	void (*run_step)(struct vhostio_io *io, io_step_fn step);
	/*
	 * Optional: about to report the unit serial (INQUIRY VPD 0x80/0x83, a
	 * cold path).  A transport that cannot learn of serial changes by
	 * itself fetches the current one here (scsi_lun_set_serial()).
	 */
	void (*refresh_serial)(struct scsi_lun *lun);
};

/* What the transport knows of a LUN when it attaches it. */
struct scsi_lun_params {
	uint32_t block_size;
	uint64_t num_lbas;
	uint32_t max_sectors;    /* largest transfer, in blocks */
	bool write_cache;        /* WCE in the caching mode page */
	const char *subtype;     /* in the INQUIRY product name */
	const char *serial;      /* VPD unit serial; never empty */
};

#define SCSI_SERIAL_MAX 256

struct scsi_lun {
	const struct vhostio_handler *handler;
	struct vhostio_device *dev;      /* the handle the handler's callbacks get */
	const struct scsi_lun_ops *ops;

	uint32_t block_size;
	uint64_t num_lbas;               /* changed only while quiesced; read atomically */
	uint32_t max_sectors;
	bool write_cache;                /* atomic: MODE SELECT and reconfig change it */
	bool descriptor_sense;           /* atomic: D_SENSE of the control mode page */
	uint16_t pending_ua;             /* atomic: (asc << 8 | ascq) to report next, 0: none */

	/* Capabilities, resolved at open: offered at all / done by the handler. */
	uint32_t caps;
	uint32_t native_caps;

	char subtype[64];
	pthread_mutex_t serial_lock;     /* the serial may be re-set while commands run */
	char serial[SCSI_SERIAL_MAX];

	/* COMPARE AND WRITE: one at a time per LUN. */
	pthread_mutex_t caw_lock;
	bool caw_busy;
	struct io_fifo caw_waiters;
};

int scsi_lun_init(struct scsi_lun *lun, const struct vhostio_handler *handler, struct vhostio_device *dev,
		  const struct scsi_lun_ops *ops, const struct scsi_lun_params *params);
void scsi_lun_destroy(struct scsi_lun *lun);

/* Which features the handler's callbacks offer, before its open(). */
void scsi_lun_resolve_caps(struct scsi_lun *lun);
/* Withdraw capabilities (vhostio_device_disable_caps, from open()). */
void scsi_lun_disable_caps(struct scsi_lun *lun, uint32_t caps);

/* A new unit serial (the transport saw it change); "" keeps the old one. */
void scsi_lun_set_serial(struct scsi_lun *lun, const char *serial);
/* Report (asc << 8 | ascq) as a UNIT ATTENTION on the next command. */
static inline void scsi_lun_set_unit_attention(struct scsi_lun *lun, uint16_t asc)
{
	__atomic_store_n(&lun->pending_ua, asc, __ATOMIC_RELEASE);
}
/* The unit attention to report now, if any; reporting it clears it. */
uint16_t scsi_lun_take_unit_attention(struct scsi_lun *lun);

static inline bool scsi_lun_write_cache(const struct scsi_lun *lun)
{
	return __atomic_load_n(&lun->write_cache, __ATOMIC_ACQUIRE);
}
static inline void scsi_lun_set_write_cache(struct scsi_lun *lun, bool on)
{
	__atomic_store_n(&lun->write_cache, on, __ATOMIC_RELEASE);
}
static inline uint64_t scsi_lun_num_lbas(const struct scsi_lun *lun)
{
	return __atomic_load_n(&lun->num_lbas, __ATOMIC_ACQUIRE);
}
/* Only while no command runs (the transport quiesced the LUN). */
static inline void scsi_lun_set_num_lbas(struct scsi_lun *lun, uint64_t n)
{
	__atomic_store_n(&lun->num_lbas, n, __ATOMIC_RELEASE);
}
/* Sense in descriptor format (D_SENSE) rather than fixed. */
static inline bool scsi_lun_descriptor_sense(const struct scsi_lun *lun)
{
	return __atomic_load_n(&lun->descriptor_sense, __ATOMIC_RELAXED);
}

/* Clear SCSI's part of an io before the transport reuses it for a new command. */
static inline void scsi_io_reset(struct vhostio_io *io)
{
	io->is_write = false;
	io->flush_after = false;
	io->flags = 0;
	io->next_step = NULL;
	io->bounce = NULL;
	io->bounce_len = 0;
	io->holds_caw_lock = false;
	io->data_in_len = UINT32_MAX;
	io->aborted = false;
	io->trimmed_iov = -1;
	io->next = NULL;
}

/*
 * The initiator aborted this command (a TMR).  It still runs to its end,
 * since a fabric may hand the initiator whatever the buffer holds (stock
 * vhost_scsi 6.1 returns an aborted READ as GOOD); an error it ends with
 * is answered TASK ABORTED.
 * Any thread; the transport asks the handler to hurry separately.
 */
static inline void scsi_io_mark_aborted(struct vhostio_io *io)
{
	__atomic_store_n(&io->aborted, true, __ATOMIC_RELEASE);
}
static inline bool scsi_io_aborted(const struct vhostio_io *io)
{
	return __atomic_load_n(&io->aborted, __ATOMIC_ACQUIRE);
}


/*
 * Run one command: check the CDB, emulate, or call the handler.  io->lun,
 * io->cmd and io->iov are set; the command ends in ops->complete, now or
 * later, from any thread.
 */
void scsi_execute(struct vhostio_io *io);

/* Finish with a status: frees the scratch buffer, hands on the COMPARE
 * AND WRITE lock, then ops->complete. */
void scsi_complete(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len);

#endif
