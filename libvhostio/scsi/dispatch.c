/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SCSI command dispatch shared by every handler (SPC-4 / SBC-3).
 * TCMU passes everything but REPORT LUNS and reservations to userspace, so
 * this is what makes a handler look like a disk.
 *
 * One table lists every command we execute: its CDB length, the bits of
 * the CDB we use and the capability it needs.  Dispatch refuses any bit
 * outside that map before an emulator runs, and REPORT SUPPORTED
 * OPERATION CODES prints the same table, so the two cannot disagree.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "scsi_internal.h"

/* ---- limits ---- */

/* WRITE SAME and UNMAP are bounded so that one command cannot keep a
 * device busy for long (1 GiB worth of blocks). */
#define BULK_LIMIT_BYTES (1u << 30)
/*
 * UNMAP is also held to 2^20 blocks: libiscsi's conformance test
 * (SCSI.Inquiry.BlockLimits) fails a MAXIMUM UNMAP LBA COUNT above that
 * unless it is FFFFFFFFh (no limit), and 1 GiB of 512-byte blocks is 2^21.
 * Only 512-byte LUNs are affected (512 MiB); Linux, Windows and ESXi split
 * their discards by whatever is advertised.
 */
#define UNMAP_LIMIT_BLOCKS (1u << 20)

uint32_t scsi_max_write_same_blocks(const struct scsi_lun *lun)
{
	return BULK_LIMIT_BYTES / lun->block_size;
}

uint32_t scsi_max_unmap_blocks(const struct scsi_lun *lun)
{
	uint32_t n = BULK_LIMIT_BYTES / lun->block_size;
	return n < UNMAP_LIMIT_BLOCKS ? n : UNMAP_LIMIT_BLOCKS;
}

/* Both halves of the data-out buffer must fit in one transfer. */
uint32_t scsi_max_caw_blocks(const struct scsi_lun *lun)
{
	uint32_t n = lun->max_sectors / 2;
	if (n > SCSI_MAX_CAW_BLOCKS)
		n = SCSI_MAX_CAW_BLOCKS;
	return n ? n : 1;
}

/* ---- the command table ---- */

/* Usage maps: byte 0 the opcode, then one byte per CDB byte; the last is
 * the CONTROL byte, of which we use nothing (NACA and LINK are refused). */
#define LBA4 0xff, 0xff, 0xff, 0xff
#define LBA8 LBA4, LBA4
#define GROUP 0x1f
#define CONTROL 0x00

const struct scsi_command scsi_commands[] = {
	{ OP_TEST_UNIT_READY, 0, 6, CMD_SCSI2_LUN | CMD_NO_DATA, 0, scsi_test_unit_ready,
	  { OP_TEST_UNIT_READY, 0, 0, 0, 0, CONTROL } },
	{ OP_REQUEST_SENSE, 0, 6, CMD_SCSI2_LUN, 0, scsi_request_sense,
	  { OP_REQUEST_SENSE, 0x01 /* DESC */, 0, 0, 0xff, CONTROL } },
	{ OP_READ_6, 0, 6, CMD_SCSI2_LUN, 0, scsi_read,
	  { OP_READ_6, 0x1f, 0xff, 0xff, 0xff, CONTROL } },
	{ OP_WRITE_6, 0, 6, CMD_SCSI2_LUN, 0, scsi_write,
	  { OP_WRITE_6, 0x1f, 0xff, 0xff, 0xff, CONTROL } },
	{ OP_INQUIRY, 0, 6, CMD_SCSI2_LUN, 0, scsi_inquiry,
	  { OP_INQUIRY, 0x01 /* EVPD */, 0xff, 0xff, 0xff, CONTROL } },
	{ OP_MODE_SELECT_6, 0, 6, CMD_SCSI2_LUN, 0, scsi_mode_select,
	  { OP_MODE_SELECT_6, 0x10 /* PF */, 0, 0, 0xff, CONTROL } },
	{ OP_MODE_SENSE_6, 0, 6, CMD_SCSI2_LUN, 0, scsi_mode_sense,
	  { OP_MODE_SENSE_6, 0x08 /* DBD */, 0xff, 0xff, 0xff, CONTROL } },
	{ OP_START_STOP_UNIT, 0, 6, CMD_SCSI2_LUN | CMD_NO_DATA, 0, scsi_start_stop_unit,
	  { OP_START_STOP_UNIT, 0x01 /* IMMED */, 0, 0, 0x05 /* NO_FLUSH, START */, CONTROL } },
	{ OP_READ_CAPACITY_10, 0, 10, CMD_SCSI2_LUN, 0, scsi_read_capacity_10,
	  { OP_READ_CAPACITY_10, 0, 0, 0, 0, 0, 0, 0, 0, CONTROL } },
	{ OP_READ_10, 0, 10, CMD_FUA_BIT, 0, scsi_read,
	  { OP_READ_10, 0x1a /* DPO, FUA, FUA_NV (accepted, nothing to do) */, LBA4, GROUP, 0xff, 0xff, CONTROL } },
	{ OP_WRITE_10, 0, 10, CMD_FUA_BIT, 0, scsi_write,
	  { OP_WRITE_10, 0x1a, LBA4, GROUP, 0xff, 0xff, CONTROL } },
	{ OP_WRITE_AND_VERIFY_10, 0, 10, 0, 0, scsi_write_and_verify,
	  { OP_WRITE_AND_VERIFY_10, 0x12 /* DPO, BYTCHK */, LBA4, GROUP, 0xff, 0xff, CONTROL } },
	{ OP_VERIFY_10, 0, 10, 0, 0, scsi_verify,
	  { OP_VERIFY_10, 0x16 /* DPO, BYTCHK */, LBA4, GROUP, 0xff, 0xff, CONTROL } },
	{ OP_PRE_FETCH_10, 0, 10, CMD_SCSI2_LUN | CMD_NO_DATA, 0, scsi_pre_fetch,
	  { OP_PRE_FETCH_10, 0x02 /* IMMED */, LBA4, GROUP, 0xff, 0xff, CONTROL } },
	{ OP_SYNCHRONIZE_CACHE_10, 0, 10, CMD_SCSI2_LUN | CMD_NO_DATA, 0, scsi_synchronize_cache,
	  { OP_SYNCHRONIZE_CACHE_10, 0x02 /* IMMED */, LBA4, GROUP, 0xff, 0xff, CONTROL } },
	{ OP_WRITE_SAME_10, 0, 10, 0, VHOSTIO_CAP_WRITE_SAME, scsi_write_same,
	  { OP_WRITE_SAME_10, 0x08 /* UNMAP */, LBA4, GROUP, 0xff, 0xff, CONTROL } },
	{ OP_UNMAP, 0, 10, 0, VHOSTIO_CAP_UNMAP, scsi_unmap,
	  { OP_UNMAP, 0, 0, 0, 0, 0, GROUP, 0xff, 0xff, CONTROL } },
	{ OP_MODE_SELECT_10, 0, 10, CMD_SCSI2_LUN, 0, scsi_mode_select,
	  { OP_MODE_SELECT_10, 0x10 /* PF */, 0, 0, 0, 0, 0, 0xff, 0xff, CONTROL } },
	{ OP_MODE_SENSE_10, 0, 10, CMD_SCSI2_LUN, 0, scsi_mode_sense,
	  { OP_MODE_SENSE_10, 0x18 /* LLBAA, DBD */, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, CONTROL } },
	{ OP_READ_16, 0, 16, CMD_FUA_BIT, 0, scsi_read,
	  { OP_READ_16, 0x1a, LBA8, LBA4, GROUP, CONTROL } },
	{ OP_COMPARE_AND_WRITE, 0, 16, CMD_FUA_BIT, VHOSTIO_CAP_COMPARE_AND_WRITE, scsi_compare_and_write,
	  { OP_COMPARE_AND_WRITE, 0x18, LBA8, 0, 0, 0, 0xff, GROUP, CONTROL } },
	{ OP_WRITE_16, 0, 16, CMD_FUA_BIT, 0, scsi_write,
	  { OP_WRITE_16, 0x1a, LBA8, LBA4, GROUP, CONTROL } },
	{ OP_WRITE_AND_VERIFY_16, 0, 16, 0, 0, scsi_write_and_verify,
	  { OP_WRITE_AND_VERIFY_16, 0x12, LBA8, LBA4, GROUP, CONTROL } },
	{ OP_VERIFY_16, 0, 16, 0, 0, scsi_verify,
	  { OP_VERIFY_16, 0x16, LBA8, LBA4, GROUP, CONTROL } },
	{ OP_PRE_FETCH_16, 0, 16, CMD_NO_DATA, 0, scsi_pre_fetch,
	  { OP_PRE_FETCH_16, 0x02, LBA8, LBA4, GROUP, CONTROL } },
	{ OP_SYNCHRONIZE_CACHE_16, 0, 16, CMD_NO_DATA, 0, scsi_synchronize_cache,
	  { OP_SYNCHRONIZE_CACHE_16, 0x02, LBA8, LBA4, GROUP, CONTROL } },
	{ OP_WRITE_SAME_16, 0, 16, 0, VHOSTIO_CAP_WRITE_SAME, scsi_write_same,
	  { OP_WRITE_SAME_16, 0x09 /* UNMAP, NDOB */, LBA8, LBA4, GROUP, CONTROL } },
	{ OP_SERVICE_ACTION_IN_16, SAI_READ_CAPACITY_16, 16, CMD_HAS_SA, 0, scsi_read_capacity_16,
	  { OP_SERVICE_ACTION_IN_16, SAI_READ_CAPACITY_16, 0, 0, 0, 0, 0, 0, 0, 0, LBA4, 0, CONTROL } },
	{ OP_SERVICE_ACTION_IN_16, SAI_GET_LBA_STATUS, 16, CMD_HAS_SA, 0, scsi_get_lba_status,
	  { OP_SERVICE_ACTION_IN_16, SAI_GET_LBA_STATUS, LBA8, LBA4, 0, CONTROL } },
	{ OP_MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPCODES, 12, CMD_HAS_SA, 0, scsi_report_supported_opcodes,
	  { OP_MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPCODES, 0x87 /* RCTD, REPORTING OPTIONS */,
	    0xff, 0xff, 0xff, LBA4, 0, CONTROL } },
	{ OP_READ_12, 0, 12, CMD_FUA_BIT, 0, scsi_read,
	  { OP_READ_12, 0x1a, LBA4, LBA4, GROUP, CONTROL } },
	{ OP_WRITE_12, 0, 12, CMD_FUA_BIT, 0, scsi_write,
	  { OP_WRITE_12, 0x1a, LBA4, LBA4, GROUP, CONTROL } },
};

const size_t scsi_command_count = sizeof(scsi_commands) / sizeof(scsi_commands[0]);

bool scsi_command_offered(const struct scsi_lun *lun, const struct scsi_command *c)
{
	return (lun->caps & c->needs_caps) == c->needs_caps;
}

void scsi_command_usage(const struct scsi_lun *lun, const struct scsi_command *c, uint8_t usage[16])
{
	memcpy(usage, c->usage, 16);
	/* FUA is refused, and not reported, when the device does not offer it. */
	if ((c->flags & CMD_FUA_BIT) && !(lun->caps & VHOSTIO_CAP_FUA))
		usage[1] &= (uint8_t)~0x08;
}

/*
 * Per-opcode index into the table and, per command, the CDB bits it accepts
 * as two 64-bit words, so that dispatch is a lookup and two ANDs instead of
 * a table scan and a per-byte loop.  Built once from the table itself.
 */
_Static_assert(sizeof(scsi_commands) / sizeof(scsi_commands[0]) < 255, "table indexed by uint8_t");
static struct {
	uint8_t first[256];     /* 1 + index of the opcode's first entry, 0: none */
	uint8_t next[sizeof(scsi_commands) / sizeof(scsi_commands[0])]; /* same opcode, likewise */
	uint64_t accept[sizeof(scsi_commands) / sizeof(scsi_commands[0])][2];
} scsi_index;
static pthread_once_t scsi_index_once = PTHREAD_ONCE_INIT;

static void build_scsi_index(void)
{
	for (size_t i = scsi_command_count; i-- > 0;) {
		const struct scsi_command *c = &scsi_commands[i];
		uint8_t accept[16];

		scsi_index.next[i] = scsi_index.first[c->opcode];
		scsi_index.first[c->opcode] = (uint8_t)(i + 1);
		/* Byte 0 and the bytes past the CDB are not checked. */
		memset(accept, 0xff, sizeof(accept));
		memcpy(&accept[1], &c->usage[1], c->cdb_len - 1u);
		if (c->flags & CMD_HAS_SA)
			accept[1] |= 0x1f; /* matched when the command was looked up */
		if (c->flags & CMD_SCSI2_LUN)
			accept[1] |= 0xe0;
		memcpy(scsi_index.accept[i], accept, sizeof(accept));
	}
}

const struct scsi_command *scsi_find_command(const struct scsi_lun *lun, uint8_t opcode,
					     uint16_t service_action)
{
	pthread_once(&scsi_index_once, build_scsi_index);
	for (size_t i = scsi_index.first[opcode]; i; i = scsi_index.next[i - 1]) {
		const struct scsi_command *c = &scsi_commands[i - 1];
		if ((c->flags & CMD_HAS_SA) && c->service_action != service_action)
			continue;
		return scsi_command_offered(lun, c) ? c : NULL;
	}
	return NULL;
}

static bool opcode_has_service_actions(uint8_t opcode)
{
	for (size_t i = 0; i < scsi_command_count; i++)
		if (scsi_commands[i].opcode == opcode)
			return scsi_commands[i].flags & CMD_HAS_SA;
	return false;
}

static int highest_bit(uint8_t v)
{
	int bit = 7;
	while (!(v & (1u << bit)))
		bit--;
	return bit;
}

/*
 * SPC-4 wants a field pointer to a multi-bit field to name its most
 * significant bit.  The refused multi-bit fields are RDPROTECT/WRPROTECT/
 * VRPROTECT (byte 1, bits 7-5) and START STOP UNIT's POWER CONDITION
 * (byte 4, bits 7-4) and POWER CONDITION MODIFIER (byte 3, bits 3-0).
 */
static int field_msb(uint8_t opcode, unsigned byte, int bit, uint8_t allowed)
{
	if (byte == 1 && bit >= 5 && !(allowed & 0xe0))
		return 7;
	if (opcode == OP_START_STOP_UNIT && byte == 4 && bit >= 4)
		return 7;
	if (opcode == OP_START_STOP_UNIT && byte == 3 && bit <= 3)
		return 3;
	return bit;
}

/* Refuse any CDB bit the command does not use, naming the highest one. */
static bool cdb_bits_ok(const struct scsi_lun *lun, struct vhostio_io *io, const struct scsi_command *c)
{
	/* Fast path: two ANDs over the first 16 CDB bytes (bytes past the
	 * command's length are accepted by its mask). */
	_Static_assert(sizeof(io->cmd.cdb) >= 16, "CDB buffer holds 16 bytes");
	const uint64_t *accept = scsi_index.accept[c - scsi_commands];
	uint64_t lo, hi, fua_off = 0;
	memcpy(&lo, &io->cmd.cdb[0], 8);
	memcpy(&hi, &io->cmd.cdb[8], 8);
	/* FUA is refused, and not reported, when the device does not offer it. */
	if ((c->flags & CMD_FUA_BIT) && !(lun->caps & VHOSTIO_CAP_FUA))
		fua_off = (uint64_t)0x08 << (8 * (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 1 : 6));
	if (!(lo & ~(accept[0] & ~fua_off)) && !(hi & ~accept[1]))
		return true;

	uint8_t usage[16];
	scsi_command_usage(lun, c, usage);
	for (unsigned i = 1; i < c->cdb_len; i++) {
		uint8_t allowed = usage[i];
		if (i == 1 && (c->flags & CMD_HAS_SA))
			allowed |= 0x1f; /* matched when the command was looked up */
		if (i == 1 && (c->flags & CMD_SCSI2_LUN))
			allowed |= 0xe0;
		uint8_t bad = io->cmd.cdb[i] & (uint8_t)~allowed;
		if (!bad)
			continue;
		int bit = field_msb(c->opcode, i, highest_bit(bad), allowed);
		scsi_complete_invalid_cdb_field(io, (uint16_t)i, bit);
		return false;
	}
	return true;
}

/* Commands a pending unit attention does not stop (SAM-5 5.14, SPC-4 7.5). */
static bool ua_exempt(uint8_t opcode)
{
	return opcode == OP_INQUIRY || opcode == OP_REPORT_LUNS || opcode == OP_REQUEST_SENSE;
}

void scsi_execute(struct vhostio_io *io)
{
	struct scsi_lun *lun = io->lun;
	const uint8_t *cdb = io->cmd.cdb;

	io->is_write = false;
	io->flush_after = false;
	io->flags = 0;
	if (log_enabled(VHOSTIO_LOG_DEBUG))
		vhostio_device_log(lun->dev, VHOSTIO_LOG_DEBUG, "cmd_id %u: opcode 0x%02x, %zu bytes", io->cmd.tag,
				   cdb[0], io->cmd.data_len);

	/* A COMPARE AND WRITE re-run after waiting for the lock already passed this point. */
	if (!io->holds_caw_lock && !ua_exempt(cdb[0])) {
		uint16_t ua = scsi_lun_take_unit_attention(lun);
		if (ua) {
			scsi_complete_sense(io, VHOSTIO_SENSE_UNIT_ATTENTION, ua);
			return;
		}
	}

	const struct scsi_command *c = scsi_find_command(lun, cdb[0], cdb[1] & 0x1f);
	if (!c) {
		if (log_enabled(VHOSTIO_LOG_DEBUG))
			vhostio_device_log(lun->dev, VHOSTIO_LOG_DEBUG, "unsupported opcode 0x%02x/0x%02x", cdb[0],
					   cdb[1] & 0x1f);
		if (opcode_has_service_actions(cdb[0])) {
			scsi_complete_invalid_cdb_field(io, 1, 4);
			return;
		}
		scsi_complete_sense(io, VHOSTIO_SENSE_ILLEGAL_REQUEST, ASC_INVALID_COMMAND_OPERATION_CODE);
		return;
	}
	if (io->cmd.cdb_len < c->cdb_len) {
		scsi_complete_sense(io, VHOSTIO_SENSE_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
		return;
	}
	if (!cdb_bits_ok(lun, io, c))
		return;
	if (c->flags & CMD_NO_DATA)
		io->data_in_len = 0;
	c->run(lun, io);
}

/* ---- REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) ---- */

/* Command timeouts descriptor: zero timeouts mean "not specified". */
#define TIMEOUTS_DESC_LEN 12

static size_t put_timeouts_descriptor(uint8_t *p)
{
	memset(p, 0, TIMEOUTS_DESC_LEN);
	put_be16(p, TIMEOUTS_DESC_LEN - 2);
	return TIMEOUTS_DESC_LEN;
}

static size_t report_all(const struct scsi_lun *lun, bool rctd, uint8_t *b)
{
	size_t len = 4;
	for (size_t i = 0; i < scsi_command_count; i++) {
		const struct scsi_command *c = &scsi_commands[i];
		if (!scsi_command_offered(lun, c))
			continue;
		uint8_t *d = &b[len];
		memset(d, 0, 8);
		d[0] = c->opcode;
		if (c->flags & CMD_HAS_SA) {
			put_be16(&d[2], c->service_action);
			d[5] |= 0x01; /* SERVACTV */
		}
		if (rctd)
			d[5] |= 0x02; /* CTDP */
		put_be16(&d[6], c->cdb_len);
		len += 8;
		if (rctd)
			len += put_timeouts_descriptor(&b[len]);
	}
	put_be32(&b[0], (uint32_t)(len - 4));
	return len;
}

static size_t report_one(const struct scsi_lun *lun, const struct scsi_command *c, bool rctd, uint8_t *b)
{
	memset(b, 0, 4);
	if (!c) {
		b[1] = 0x01; /* SUPPORT: not supported */
		return 4;
	}
	b[1] = (uint8_t)((rctd ? 0x80 : 0) | 0x03); /* CTDP, SUPPORT: as the standard says */
	put_be16(&b[2], c->cdb_len);
	scsi_command_usage(lun, c, &b[4]);
	size_t len = 4 + c->cdb_len;
	if (rctd)
		len += put_timeouts_descriptor(&b[len]);
	return len;
}

void scsi_report_supported_opcodes(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	bool rctd = cdb[2] & 0x80;
	uint8_t options = cdb[2] & 0x07;
	uint8_t opcode = cdb[3];
	uint16_t sa = get_be16(&cdb[4]);
	uint8_t b[SCSI_MAX_RESPONSE];
	size_t len;

	bool has_sa = opcode_has_service_actions(opcode);
	switch (options) {
	case 0:
		len = report_all(lun, rctd, b);
		break;
	case 1: /* opcode only: one that has service actions needs option 2 */
		if (has_sa) {
			scsi_complete_invalid_cdb_field(io, 2, 2);
			return;
		}
		len = report_one(lun, scsi_find_command(lun, opcode, 0), rctd, b);
		break;
	case 2: /* opcode and service action */
		if (!has_sa) {
			scsi_complete_invalid_cdb_field(io, 2, 2);
			return;
		}
		len = report_one(lun, sa > 0x1f ? NULL : scsi_find_command(lun, opcode, sa), rctd, b);
		break;
	case 3: /* either: the service action counts only where there are some */
		len = report_one(lun, has_sa && sa > 0x1f ? NULL : scsi_find_command(lun, opcode, has_sa ? sa : 0),
				 rctd, b);
		break;
	default:
		scsi_complete_invalid_cdb_field(io, 2, 2);
		return;
	}
	scsi_complete_data_in(io, b, len, get_be32(&cdb[6]));
}
