/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TCMU command ring: parse entries defensively, complete out of order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcmu_abi.h"

#include "log.h"
#include "ring.h"
#include "scsi_defs.h"
#include "sense.h"

/* Byte offsets inside struct tcmu_cmd_entry (x86-64 layout, checked below). */
#define ENT_HDR_SIZE sizeof(struct tcmu_cmd_entry_hdr)
#define ENT_REQ_IOV_OFF offsetof(struct tcmu_cmd_entry, req.iov)
#define ENT_IOV_SIZE 16u

_Static_assert(sizeof(struct tcmu_mailbox) == 128, "mailbox layout");
_Static_assert(offsetof(struct tcmu_mailbox, cmd_tail) == 64, "mailbox layout");
_Static_assert(sizeof(struct tcmu_cmd_entry) == 112, "cmd entry layout");
_Static_assert(offsetof(struct tcmu_cmd_entry, req.iov) == 48, "cmd entry layout");
_Static_assert(offsetof(struct tcmu_cmd_entry, rsp.sense_buffer) == 16, "cmd entry layout");
#define TMR_IDS_OFF offsetof(struct tcmu_tmr_entry, cmd_ids)
_Static_assert(offsetof(struct tcmu_tmr_entry, tmr_type) == 8, "tmr entry layout");
_Static_assert(offsetof(struct tcmu_tmr_entry, cmd_cnt) == 12, "tmr entry layout");
_Static_assert(offsetof(struct tcmu_tmr_entry, cmd_ids) == 32, "tmr entry layout");

static struct tcmu_mailbox *mailbox(const struct vhostio_ring *ring)
{
	return (struct tcmu_mailbox *)ring->map;
}

static uint32_t ring_advance(const struct vhostio_ring *ring, uint32_t pos, uint32_t len)
{
	uint64_t next = (uint64_t)pos + len;
	return (uint32_t)(next % ring->cmdr_size);
}

/* Bytes from 'from' to 'to' going forward around the ring. */
static uint32_t ring_distance(const struct vhostio_ring *ring, uint32_t from, uint32_t to)
{
	return to >= from ? to - from : ring->cmdr_size - from + to;
}

static void ring_mark_broken(struct vhostio_ring *ring, const char *why, uint32_t pos)
{
	if (!ring->broken)
		vhostio_log(VHOSTIO_LOG_ERROR,
			    "command ring corrupt at offset %u: %s; no further commands are taken from it",
			    pos, why);
	ring->broken = true;
}

int ring_init(struct vhostio_ring *ring, void *map, size_t map_size)
{
	memset(ring, 0, sizeof(*ring));
	if (map_size < sizeof(struct tcmu_mailbox))
		return -EINVAL;
	ring->map = map;
	ring->map_size = map_size;

	struct tcmu_mailbox *mb = mailbox(ring);
	uint16_t version = mb->version;
	uint32_t cmdr_off = mb->cmdr_off;
	uint32_t cmdr_size = mb->cmdr_size;

	if (version != TCMU_MAILBOX_VERSION) {
		vhostio_log(VHOSTIO_LOG_ERROR, "unsupported TCMU mailbox version %u (want %u)",
			    version, TCMU_MAILBOX_VERSION);
		return -EPROTO;
	}
	if (cmdr_off < sizeof(struct tcmu_mailbox) || cmdr_size < 2 * sizeof(struct tcmu_cmd_entry) ||
	    cmdr_size % TCMU_OP_ALIGN_SIZE || (uint64_t)cmdr_off + cmdr_size > map_size) {
		vhostio_log(VHOSTIO_LOG_ERROR, "bad ring geometry: cmdr_off %u cmdr_size %u map %zu",
			    cmdr_off, cmdr_size, map_size);
		return -EPROTO;
	}
	ring->cmdr = ring->map + cmdr_off;
	ring->cmdr_size = cmdr_size;
	ring->data_off = (size_t)cmdr_off + cmdr_size;
	ring->mb_flags = mb->flags;

	/* Resume where the previous owner (if any) left the ring. */
	uint32_t tail = __atomic_load_n(&mb->cmd_tail, __ATOMIC_ACQUIRE);
	if (tail >= cmdr_size || tail % TCMU_OP_ALIGN_SIZE) {
		vhostio_log(VHOSTIO_LOG_ERROR, "bad cmd_tail %u in mailbox", tail);
		return -EPROTO;
	}
	ring->tail = tail;
	ring->next_fetch = tail;
	return 0;
}

static uint64_t read_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static bool range_ok(uint64_t off, uint64_t len, uint64_t lo, uint64_t hi)
{
	return off >= lo && off <= hi && len <= hi - off;
}

static void bad_cmd(const struct scsi_cmd *cmd, struct vhostio_scsi_status *bad, const char *what)
{
	log_ratelimited(VHOSTIO_LOG_ERROR, "cmd_id %u: %s; failing it", cmd->tag, what);
	*bad = (struct vhostio_scsi_status){
		.status = VHOSTIO_SAM_CHECK_CONDITION,
		.sense_key = VHOSTIO_SENSE_HARDWARE_ERROR,
		.asc = ASC_INTERNAL_TARGET_FAILURE >> 8,
		.ascq = ASC_INTERNAL_TARGET_FAILURE & 0xff,
	};
}

/*
 * The ring is shared with whoever else maps the uio device (the kernel,
 * but also a stale or second runner), so an entry may change under us at
 * any time.  Each entry is therefore read once: its header word, then the
 * whole entry (bounded by the validated length) into a private copy, from
 * which the command is parsed; completion uses the private record of
 * where each entry lies, never the lengths in the shared ring.
 */

/* Room for the private copy of an entry of 'len' bytes. */
static bool reserve_entry(struct vhostio_ring *ring, uint32_t len)
{
	if (len <= ring->entry_cap)
		return true;
	uint8_t *p = realloc(ring->entry, len);
	if (!p)
		return false;
	ring->entry = p;
	ring->entry_cap = len;
	return true;
}

/* Record an entry of [tail, next_fetch); adjacent non-command entries merge. */
static bool push_slot(struct vhostio_ring *ring, uint32_t pos, uint32_t len, bool cmd)
{
	if (!cmd && ring->slot_count) {
		struct ring_slot *last = &ring->slots[(ring->slot_head + ring->slot_count - 1) % ring->slot_cap];
		if (!last->cmd && ring_advance(ring, last->pos, last->len) == pos) {
			last->len += len;
			return true;
		}
	}
	if (ring->slot_count == ring->slot_cap) {
		uint32_t cap = ring->slot_cap ? ring->slot_cap * 2 : 64;
		struct ring_slot *grown = malloc((size_t)cap * sizeof(*grown));
		if (!grown)
			return false;
		for (uint32_t i = 0; i < ring->slot_count; i++)
			grown[i] = ring->slots[(ring->slot_head + i) % ring->slot_cap];
		free(ring->slots);
		ring->slots = grown;
		ring->slot_cap = cap;
		ring->slot_head = 0;
	}
	ring->slots[(ring->slot_head + ring->slot_count) % ring->slot_cap] =
		(struct ring_slot){ .pos = pos, .len = len, .cmd = cmd };
	ring->slot_count++;
	return true;
}

static struct ring_slot pop_slot(struct vhostio_ring *ring)
{
	struct ring_slot s = ring->slots[ring->slot_head];
	ring->slot_head = (ring->slot_head + 1) % ring->slot_cap;
	ring->slot_count--;
	return s;
}

/* Fill cmd from the private copy of the CMD entry that lies at 'pos'. */
static enum ring_fetch_result parse_cmd(struct vhostio_ring *ring, uint32_t pos, uint32_t len,
					struct scsi_cmd *cmd, struct vhostio_scsi_status *bad, struct iovec *iov,
					uint32_t iov_max)
{
	const uint8_t *ent = ring->entry;
	struct tcmu_cmd_entry e;

	memset(cmd, 0, sizeof(*cmd));
	memcpy(&e, ent, len < sizeof(e) ? len : sizeof(e));
	cmd->tag = e.hdr.cmd_id;

	if (len < sizeof(struct tcmu_cmd_entry)) {
		bad_cmd(cmd, bad, "entry shorter than a command");
		return RING_BAD_CMD;
	}
	uint64_t n_iov = (uint64_t)e.req.iov_cnt + e.req.iov_bidi_cnt + e.req.iov_dif_cnt;
	if (n_iov > (len - ENT_REQ_IOV_OFF) / ENT_IOV_SIZE) {
		bad_cmd(cmd, bad, "iov count overruns its entry");
		return RING_BAD_CMD;
	}

	/* The CDB: an offset from the start of the mapping; the kernel puts it
	 * inside the entry, after the iovs, and only there is it ours to read. */
	uint64_t ent_off = (uint64_t)(ring->cmdr - ring->map) + pos;
	uint64_t cdb_off = e.req.cdb_off;
	if (!range_ok(cdb_off, 1, ent_off, ent_off + len)) {
		bad_cmd(cmd, bad, "cdb offset outside its entry");
		return RING_BAD_CMD;
	}
	const uint8_t *cdb = ent + (cdb_off - ent_off);
	uint32_t cdb_len = scsi_cdb_length(cdb[0]);
	if (cdb_len > SCSI_MAX_CDB || !range_ok(cdb_off, cdb_len, ent_off, ent_off + len)) {
		bad_cmd(cmd, bad, "cdb runs outside its entry");
		return RING_BAD_CMD;
	}
	cmd->cdb_len = (uint8_t)cdb_len;
	memcpy(cmd->cdb, cdb, cdb_len);

	/* Every data iov must lie inside the data area. */
	cmd->iov_cnt = e.req.iov_cnt;
	const uint8_t *iovp = ent + ENT_REQ_IOV_OFF;
	uint64_t total = 0;
	for (uint32_t i = 0; i < cmd->iov_cnt; i++) {
		uint64_t base = read_u64(iovp + i * ENT_IOV_SIZE);
		uint64_t ilen = read_u64(iovp + i * ENT_IOV_SIZE + 8);
		if (!range_ok(base, ilen, ring->data_off, ring->map_size)) {
			bad_cmd(cmd, bad, "data iov outside the data area");
			return RING_BAD_CMD;
		}
		total += ilen;
		if (i < iov_max) {
			iov[i].iov_base = ring->map + base;
			iov[i].iov_len = ilen;
		}
	}
	cmd->data_len = total;
	return RING_CMD;
}

/*
 * Read the TMR entry just copied into ring->entry.  The kernel sizes the
 * entry for its cmd_ids; a count that overruns the entry is clamped to
 * what it holds (those ids are all there is to read).  false: ignored,
 * and the aborted commands simply complete when their handler finishes.
 */
static bool parse_tmr(struct vhostio_ring *ring, uint32_t pos, uint32_t len)
{
	const uint8_t *ent = ring->entry;
	if (len < TMR_IDS_OFF) {
		log_ratelimited(VHOSTIO_LOG_WARN, "TMR entry at %u shorter than its header; ignored", pos);
		return false;
	}
	uint32_t cnt;
	memcpy(&cnt, ent + offsetof(struct tcmu_tmr_entry, cmd_cnt), sizeof(cnt));
	uint32_t fits = (len - (uint32_t)TMR_IDS_OFF) / sizeof(uint16_t);
	if (cnt > fits) {
		log_ratelimited(VHOSTIO_LOG_WARN, "TMR entry at %u names %u commands but has room for %u; reading %u",
				pos, cnt, fits, fits);
		cnt = fits;
	}
	/* cmd_ids are 16 bits: more than that many cannot all be distinct. */
	if (cnt > 65536)
		cnt = 65536;
	if (cnt > ring->tmr_cap) {
		uint16_t *ids = realloc(ring->tmr_ids, (size_t)cnt * sizeof(*ids));
		if (!ids) {
			vhostio_log(VHOSTIO_LOG_ERROR, "out of memory for a TMR of %u commands; ignored", cnt);
			return false;
		}
		ring->tmr_ids = ids;
		ring->tmr_cap = cnt;
	}
	if (cnt)
		memcpy(ring->tmr_ids, ent + TMR_IDS_OFF, (size_t)cnt * sizeof(uint16_t));
	ring->tmr_cnt = cnt;
	ring->tmr_type = ent[offsetof(struct tcmu_tmr_entry, tmr_type)];
	return true;
}

enum ring_fetch_result ring_fetch(struct vhostio_ring *ring, struct scsi_cmd *cmd,
				  struct vhostio_scsi_status *bad, struct iovec *iov, uint32_t iov_max)
{
	if (ring->broken)
		return RING_BROKEN;

	struct tcmu_mailbox *mb = mailbox(ring);
	/* Pairs with the kernel's release of cmd_head after writing the entry. */
	uint32_t head = __atomic_load_n(&mb->cmd_head, __ATOMIC_ACQUIRE);
	if (head >= ring->cmdr_size || head % TCMU_OP_ALIGN_SIZE) {
		ring_mark_broken(ring, "cmd_head out of range", head);
		return RING_BROKEN;
	}

	while (ring->next_fetch != head) {
		uint32_t pos = ring->next_fetch;
		uint32_t to_end = ring->cmdr_size - pos;
		uint32_t available = ring_distance(ring, pos, head);
		if (to_end < ENT_HDR_SIZE) {
			ring_mark_broken(ring, "entry header crosses the ring end", pos);
			return RING_BROKEN;
		}
		uint8_t *ent = ring->cmdr + pos;
		uint32_t len_op = __atomic_load_n((uint32_t *)ent, __ATOMIC_RELAXED);
		uint32_t len = tcmu_hdr_get_len(len_op);
		uint8_t op = tcmu_hdr_get_op(len_op);
		/* Entries never wrap and never pass head; a length that does is garbage. */
		if (len < ENT_HDR_SIZE || len % TCMU_OP_ALIGN_SIZE || len > to_end || len > available) {
			ring_mark_broken(ring, "entry length invalid", pos);
			return RING_BROKEN;
		}
		bool is_cmd = op == TCMU_OP_CMD;
		bool copy = is_cmd || op == TCMU_OP_TMR;
		/* A non-command entry with nothing outstanding is released at once. */
		bool record = is_cmd || ring->outstanding > 0;
		if ((copy && !reserve_entry(ring, len)) || (record && !push_slot(ring, pos, len, is_cmd))) {
			vhostio_log(VHOSTIO_LOG_ERROR, "out of memory for ring entry at %u; retrying later", pos);
			return RING_EMPTY;
		}
		ring->next_fetch = ring_advance(ring, pos, len);
		bool tmr = false;

		switch (op) {
		case TCMU_OP_PAD:
			break;
		case TCMU_OP_TMR:
			/* The aborted commands still need their answer; the caller
			 * only hurries them along. */
			memcpy(ring->entry, ent, len);
			tmr = parse_tmr(ring, pos, len);
			break;
		case TCMU_OP_CMD:
			ring->outstanding++;
			memcpy(ring->entry, ent, len);
			ring->entry_len = len;
			ring->entry_pos = pos;
			return parse_cmd(ring, pos, len, cmd, bad, iov, iov_max);
		default:
			((struct tcmu_cmd_entry_hdr *)ent)->uflags |= TCMU_UFLAG_UNKNOWN_OP;
			log_ratelimited(VHOSTIO_LOG_WARN, "unknown ring entry op %u at %u, flagged", op, pos);
			break;
		}
		if (!record) {
			ring->tail = ring->next_fetch;
			__atomic_store_n(&mb->cmd_tail, ring->tail, __ATOMIC_RELEASE);
		}
		if (tmr)
			return RING_TMR;
	}
	return RING_EMPTY;
}

bool ring_has_entries(const struct vhostio_ring *ring)
{
	return !ring->broken &&
	       __atomic_load_n(&mailbox(ring)->cmd_head, __ATOMIC_ACQUIRE) != ring->next_fetch;
}

void ring_fetch_iovs(struct vhostio_ring *ring, struct iovec *iov)
{
	/* From the private copy ring_fetch() validated, never the shared slot. */
	const uint8_t *ent = ring->entry;
	struct tcmu_cmd_entry e;
	memcpy(&e, ent, sizeof(e));
	const uint8_t *iovp = ent + ENT_REQ_IOV_OFF;
	for (uint32_t i = 0; i < e.req.iov_cnt; i++) {
		iov[i].iov_base = ring->map + read_u64(iovp + i * ENT_IOV_SIZE);
		iov[i].iov_len = read_u64(iovp + i * ENT_IOV_SIZE + 8);
	}
}

void ring_complete(struct vhostio_ring *ring, uint16_t cmd_id,
		   const struct vhostio_scsi_status *st, uint32_t read_len, bool descriptor_sense)
{
	if (ring->outstanding == 0) {
		log_ratelimited(VHOSTIO_LOG_ERROR, "completion of cmd_id %u with nothing outstanding", cmd_id);
		return;
	}
	/*
	 * The kernel reclaims slots in ring order and reads the cmd_id from
	 * each, so the answer goes into the oldest CMD slot whatever command
	 * it first held.  Where the slots lie comes from our own record.
	 */
	struct ring_slot slot;
	do
		slot = pop_slot(ring);
	while (!slot.cmd);
	struct tcmu_cmd_entry *e = (struct tcmu_cmd_entry *)(ring->cmdr + slot.pos);

	e->hdr.cmd_id = cmd_id;
	uint8_t uflags = 0;
	e->rsp.scsi_status = st->status;
	e->rsp.read_len = 0;
	if (read_len != UINT32_MAX && (ring->mb_flags & TCMU_MAILBOX_FLAG_CAP_READ_LEN)) {
		uflags |= TCMU_UFLAG_READ_LEN;
		e->rsp.read_len = read_len;
	}
	e->hdr.uflags = uflags;
	if (st->status == VHOSTIO_SAM_CHECK_CONDITION)
		sense_format(st, descriptor_sense, (uint8_t *)e->rsp.sense_buffer, TCMU_SENSE_BUFFERSIZE);

	ring->outstanding--;
	uint32_t pos = ring_advance(ring, slot.pos, slot.len);
	/* Trailing PAD/TMR slots that are already consumed need no answer. */
	while (ring->slot_count && !ring->slots[ring->slot_head].cmd) {
		slot = pop_slot(ring);
		pos = ring_advance(ring, slot.pos, slot.len);
	}
	ring->tail = pos;
	/* Publish the response before the kernel can see the new tail. */
	__atomic_store_n(&mailbox(ring)->cmd_tail, pos, __ATOMIC_RELEASE);
}

void ring_destroy(struct vhostio_ring *ring)
{
	free(ring->entry);
	free(ring->slots);
	free(ring->tmr_ids);
	ring->entry = NULL;
	ring->slots = NULL;
	ring->tmr_ids = NULL;
	ring->entry_cap = ring->slot_cap = ring->slot_count = ring->tmr_cap = ring->tmr_cnt = 0;
}
