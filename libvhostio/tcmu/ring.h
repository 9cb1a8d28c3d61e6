/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TCMU mailbox and command ring, as laid out by
 * <linux/target_core_user.h>.  The ring is shared with the kernel and, from
 * our side, untrusted: every offset and length read from it is checked
 * against the mapping before it is used.
 *
 * Not thread-safe: the caller serialises ring_fetch() and ring_complete().
 */
#ifndef VHOSTIO_RING_H
#define VHOSTIO_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vhostio/common.h>

#include "lun.h" /* struct scsi_cmd */

/* Where an entry of [tail, next_fetch) lies, as parsed (never re-read). */
struct ring_slot {
	uint32_t pos;
	uint32_t len;          /* adjacent non-command entries are merged */
	bool cmd;
};

struct vhostio_ring {
	uint8_t *map;          /* start of the uio mapping (the mailbox) */
	size_t map_size;
	uint8_t *cmdr;         /* command ring */
	uint32_t cmdr_size;
	size_t data_off;       /* first byte of the data area */
	uint16_t mb_flags;

	uint32_t next_fetch;   /* next entry to parse; runs ahead of tail */
	uint32_t tail;         /* last value published in mailbox cmd_tail */
	uint32_t outstanding;  /* CMD slots in [tail, next_fetch) not yet completed */
	/* Private copy of the command entry fetched last. */
	uint8_t *entry;
	uint32_t entry_cap, entry_len, entry_pos;
	/* FIFO of the entries between tail and next_fetch. */
	struct ring_slot *slots;
	uint32_t slot_head, slot_count, slot_cap;
	bool broken;           /* ring layout unusable: stop touching it */
	/* The TMR entry fetched last (RING_TMR), copied: its TCMU_TMR_* type
	 * and the cmd_ids of the aborted commands it names. */
	uint8_t tmr_type;
	uint32_t tmr_cnt, tmr_cap;
	uint16_t *tmr_ids;
};

enum ring_fetch_result {
	RING_EMPTY = 0,   /* nothing new */
	RING_CMD,         /* a command to run */
	RING_BAD_CMD,     /* a command whose fields are bad: complete it with *bad */
	RING_BROKEN,      /* the ring itself is corrupt; see ring->broken */
	RING_TMR,         /* a task management notification: ring->tmr_* */
};

/* Validate the mailbox in a fresh mapping and start at the kernel's tail. */
int ring_init(struct vhostio_ring *ring, void *map, size_t map_size);

/*
 * Parse the next entry.  PAD and unknown entries are consumed silently
 * (unknown ones are flagged TCMU_UFLAG_UNKNOWN_OP).  A TMR entry is
 * consumed too and returned as RING_TMR, its cmd_ids copied into
 * ring->tmr_ids (valid until the next fetch).  On RING_CMD
 * the data iovs are written, as pointers into the mapping, to 'iov' when
 * cmd->iov_cnt <= iov_max; otherwise the caller must grow its array and
 * call ring_fetch_iovs().
 */
enum ring_fetch_result ring_fetch(struct vhostio_ring *ring, struct scsi_cmd *cmd,
				  struct vhostio_scsi_status *bad, struct iovec *iov, uint32_t iov_max);
/* Copy the data iovs of the command fetched last (needs iov_cnt slots),
 * from ring_fetch()'s private copy of the entry. */
void ring_fetch_iovs(struct vhostio_ring *ring, struct iovec *iov);
/* Free what ring_fetch() allocated (the private copies). */
void ring_destroy(struct vhostio_ring *ring);
/* Has the kernel queued entries not fetched yet?  Command thread only. */
bool ring_has_entries(const struct vhostio_ring *ring);

/*
 * Complete one fetched command: its id and response go into the oldest CMD
 * slot at the tail (out-of-order completion), and cmd_tail moves past it.
 * read_len < UINT32_MAX reports a short data-in transfer.  Sense is in
 * descriptor format when 'descriptor_sense' (D_SENSE), fixed otherwise.
 */
void ring_complete(struct vhostio_ring *ring, uint16_t cmd_id,
		   const struct vhostio_scsi_status *st, uint32_t read_len, bool descriptor_sense);

#endif
