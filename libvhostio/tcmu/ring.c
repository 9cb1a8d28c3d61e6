/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TCMU command ring: parse entries defensively, complete out of order. */
#include <errno.h>
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

static uint32_t read_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
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
	vhostio_log(VHOSTIO_LOG_ERROR, "cmd_id %u: %s; failing it", cmd->tag, what);
	*bad = (struct vhostio_scsi_status){
		.status = VHOSTIO_SAM_CHECK_CONDITION,
		.sense_key = VHOSTIO_SENSE_HARDWARE_ERROR,
		.asc = ASC_INTERNAL_TARGET_FAILURE >> 8,
		.ascq = ASC_INTERNAL_TARGET_FAILURE & 0xff,
	};
}

/* Fill cmd from the CMD entry at 'ent' of length 'len'. */
static enum ring_fetch_result parse_cmd(struct vhostio_ring *ring, const uint8_t *ent, uint32_t len,
					struct scsi_cmd *cmd, struct vhostio_scsi_status *bad, struct iovec *iov,
					uint32_t iov_max)
{
	const struct tcmu_cmd_entry *e = (const struct tcmu_cmd_entry *)ent;

	memset(cmd, 0, sizeof(*cmd));
	cmd->tag = e->hdr.cmd_id;

	if (len < sizeof(struct tcmu_cmd_entry)) {
		bad_cmd(cmd, bad, "entry shorter than a command");
		return RING_BAD_CMD;
	}
	uint64_t n_iov = (uint64_t)e->req.iov_cnt + e->req.iov_bidi_cnt + e->req.iov_dif_cnt;
	if (n_iov > (len - ENT_REQ_IOV_OFF) / ENT_IOV_SIZE) {
		bad_cmd(cmd, bad, "iov count overruns its entry");
		return RING_BAD_CMD;
	}

	/* The CDB: an offset from the start of the mapping, past the mailbox. */
	uint64_t cdb_off = e->req.cdb_off;
	if (!range_ok(cdb_off, 1, sizeof(struct tcmu_mailbox), ring->map_size)) {
		bad_cmd(cmd, bad, "cdb offset outside the mapping");
		return RING_BAD_CMD;
	}
	uint32_t cdb_len = scsi_cdb_length(ring->map[cdb_off]);
	if (cdb_len > SCSI_MAX_CDB || !range_ok(cdb_off, cdb_len, sizeof(struct tcmu_mailbox), ring->map_size)) {
		bad_cmd(cmd, bad, "cdb runs outside the mapping");
		return RING_BAD_CMD;
	}
	cmd->cdb_len = (uint8_t)cdb_len;
	memcpy(cmd->cdb, ring->map + cdb_off, cdb_len);

	/* Every data iov must lie inside the data area. */
	cmd->iov_cnt = e->req.iov_cnt;
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
		struct tcmu_cmd_entry_hdr *hdr = (struct tcmu_cmd_entry_hdr *)ent;
		uint32_t len_op = read_u32(ent);
		uint32_t len = tcmu_hdr_get_len(len_op);
		/* Entries never wrap and never pass head; a length that does is garbage. */
		if (len < ENT_HDR_SIZE || len % TCMU_OP_ALIGN_SIZE || len > to_end || len > available) {
			ring_mark_broken(ring, "entry length invalid", pos);
			return RING_BROKEN;
		}
		ring->next_fetch = ring_advance(ring, pos, len);

		switch (tcmu_hdr_get_op(len_op)) {
		case TCMU_OP_PAD:
			break;
		case TCMU_OP_TMR:
			/* Informational: aborted commands still complete normally. */
			vhostio_log(VHOSTIO_LOG_DEBUG, "TMR notification (type %u)",
				    ((struct tcmu_tmr_entry *)ent)->tmr_type);
			break;
		case TCMU_OP_CMD:
			ring->outstanding++;
			ring->last_cmd_pos = pos;
			return parse_cmd(ring, ent, len, cmd, bad, iov, iov_max);
		default:
			hdr->uflags |= TCMU_UFLAG_UNKNOWN_OP;
			vhostio_log(VHOSTIO_LOG_WARN, "unknown ring entry op %u at %u, flagged",
				    tcmu_hdr_get_op(len_op), pos);
			break;
		}
		/* Nothing outstanding before a non-command entry: release it now. */
		if (ring->outstanding == 0) {
			ring->tail = ring->next_fetch;
			__atomic_store_n(&mb->cmd_tail, ring->tail, __ATOMIC_RELEASE);
		}
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
	const uint8_t *ent = ring->cmdr + ring->last_cmd_pos;
	const struct tcmu_cmd_entry *e = (const struct tcmu_cmd_entry *)ent;
	const uint8_t *iovp = ent + ENT_REQ_IOV_OFF;
	/* Already validated by ring_fetch(). */
	for (uint32_t i = 0; i < e->req.iov_cnt; i++) {
		iov[i].iov_base = ring->map + read_u64(iovp + i * ENT_IOV_SIZE);
		iov[i].iov_len = read_u64(iovp + i * ENT_IOV_SIZE + 8);
	}
}

static uint32_t skip_non_cmd(const struct vhostio_ring *ring, uint32_t pos)
{
	while (pos != ring->next_fetch) {
		uint32_t len_op = read_u32(ring->cmdr + pos);
		if (tcmu_hdr_get_op(len_op) == TCMU_OP_CMD)
			break;
		pos = ring_advance(ring, pos, tcmu_hdr_get_len(len_op));
	}
	return pos;
}

void ring_complete(struct vhostio_ring *ring, uint16_t cmd_id,
		   const struct vhostio_scsi_status *st, uint32_t read_len, bool descriptor_sense)
{
	if (ring->outstanding == 0) {
		vhostio_log(VHOSTIO_LOG_ERROR, "completion of cmd_id %u with nothing outstanding", cmd_id);
		return;
	}
	/*
	 * The kernel reclaims slots in ring order and reads the cmd_id from
	 * each, so the answer goes into the oldest CMD slot whatever command
	 * it first held.  Lengths were validated when the slots were fetched.
	 */
	uint32_t pos = skip_non_cmd(ring, ring->tail);
	uint8_t *ent = ring->cmdr + pos;
	struct tcmu_cmd_entry *e = (struct tcmu_cmd_entry *)ent;
	uint32_t len = tcmu_hdr_get_len(read_u32(ent));

	e->hdr.cmd_id = cmd_id;
	e->hdr.uflags &= (uint8_t)~(TCMU_UFLAG_READ_LEN | TCMU_UFLAG_KEEP_BUF | TCMU_UFLAG_UNKNOWN_OP);
	e->rsp.scsi_status = st->status;
	e->rsp.read_len = 0;
	if (read_len != UINT32_MAX && (ring->mb_flags & TCMU_MAILBOX_FLAG_CAP_READ_LEN)) {
		e->hdr.uflags |= TCMU_UFLAG_READ_LEN;
		e->rsp.read_len = read_len;
	}
	if (st->status == VHOSTIO_SAM_CHECK_CONDITION)
		sense_format(st, descriptor_sense, (uint8_t *)e->rsp.sense_buffer, TCMU_SENSE_BUFFERSIZE);

	ring->outstanding--;
	pos = ring_advance(ring, pos, len);
	/* Trailing PAD/TMR slots that are already consumed need no answer. */
	pos = skip_non_cmd(ring, pos);
	ring->tail = pos;
	/* Publish the response before the kernel can see the new tail. */
	__atomic_store_n(&mailbox(ring)->cmd_tail, pos, __ATOMIC_RELEASE);
}
