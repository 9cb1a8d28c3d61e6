/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An in-process stand-in for the kernel side of TCMU: it lays out the
 * mailbox, command ring and data area exactly as target_core_user.h
 * defines them, queues commands the way target_core_user.c does (PAD at
 * the ring's end, CDB after the iovs, offsets instead of pointers, one
 * byte kept free) and reaps completions in ring order.
 */
#ifndef RINGSIM_H
#define RINGSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcmu_abi.h"

#define SIM_MAX_IDS 65536
#define SIM_BLOCK 4096  /* data is handed out in blocks, one iov each */

struct sim_result {
	bool done;
	uint8_t status;
	uint8_t uflags;
	uint32_t read_len;
	uint8_t sense[TCMU_SENSE_BUFFERSIZE];
};

struct ringsim {
	uint8_t *map;
	size_t map_size;
	struct tcmu_mailbox *mb;
	uint8_t *cmdr;
	uint32_t cmdr_size;
	size_t data_off;
	size_t data_size;

	uint32_t head;
	uint32_t last_cleaned;
	uint16_t next_id;
	size_t data_next;       /* bump allocator in the data area */
	bool broken;            /* a completion named an unknown cmd_id */
	unsigned kicks;
	unsigned pads;
	unsigned resets;        /* ringsim_reset_ring() calls */

	struct {
		bool live;
		size_t data;    /* offset of this command's buffer in the map */
		size_t len;
	} cmds[SIM_MAX_IDS];
	struct sim_result results[SIM_MAX_IDS];
};

/* Called on the freshly written entry before head is published. */
typedef void (*sim_mutate_fn)(struct ringsim *s, struct tcmu_cmd_entry *ent, void *arg);

int ringsim_init(struct ringsim *s, uint32_t cmdr_size, size_t data_size);
void ringsim_free(struct ringsim *s);

/*
 * Queue a command.  For data-out, 'data' (len bytes) is copied into the
 * data area; for data-in pass data == NULL.  Returns the cmd_id, or 0 if
 * the ring has no room.
 */
uint16_t ringsim_submit(struct ringsim *s, const uint8_t *cdb, size_t len, const void *data);
uint16_t ringsim_submit_mutated(struct ringsim *s, const uint8_t *cdb, size_t len, const void *data,
				sim_mutate_fn mutate, void *arg);
/* Put a raw non-command entry (PAD, TMR, or a bogus op) of 'len' bytes. */
void ringsim_put_entry(struct ringsim *s, uint8_t op, uint32_t len);
/*
 * Queue a TMR entry as the kernel's tmr_notification does (sized for its
 * ids, 8-byte aligned, a PAD first if it does not fit before the ring's
 * end).  Returns the entry, for a test to tamper with before it is read;
 * NULL if the ring has no room.
 */
struct tcmu_tmr_entry *ringsim_put_tmr(struct ringsim *s, uint8_t type, const uint16_t *ids, uint32_t cnt);

/* What the kernel does on the uio write: reclaim up to cmd_tail.  Returns completions seen. */
int ringsim_reap(struct ringsim *s);
/* The data buffer of a command (data-in results land here). */
uint8_t *ringsim_data(struct ringsim *s, uint16_t id);
/* Kick callback for device_transport. */
int ringsim_kick(void *opaque);
/* reset_ring callback for device_transport: queued commands fail with BUSY, head = tail = 0. */
int ringsim_reset_ring(void *opaque);

/* Sense key / ASC / ASCQ of a fixed-format sense buffer. */
static inline uint32_t sim_sense_triple(const struct sim_result *r)
{
	return (uint32_t)(r->sense[2] & 0x0f) << 16 | (uint32_t)r->sense[12] << 8 | r->sense[13];
}

#endif
