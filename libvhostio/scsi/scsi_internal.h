/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the SCSI emulation sources: the command table that drives both
 * dispatch and REPORT SUPPORTED OPERATION CODES (dispatch.c), completion
 * helpers (io.c), and the emulators of SPC (spc.c) and SBC (sbc.c).
 */
#ifndef VHOSTIO_SCSI_INTERNAL_H
#define VHOSTIO_SCSI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "lun.h"
#include "scsi_defs.h"
#include "sense.h"
#include "util.h"

/* Largest emulated response (INQUIRY, MODE SENSE, REPORT SUPPORTED OPCODES...). */
#define SCSI_MAX_RESPONSE 1024
/* Bounce buffers of loop emulations (WRITE SAME, VERIFY) stay below this. */
#define SCSI_EMUL_CHUNK (1u << 20)

/* Limits advertised in the Block Limits VPD page and enforced on the CDBs. */
#define SCSI_MAX_UNMAP_DESCRIPTORS 256u
#define SCSI_MAX_CAW_BLOCKS 255u
uint32_t scsi_max_write_same_blocks(const struct scsi_lun *lun);
uint32_t scsi_max_unmap_blocks(const struct scsi_lun *lun);
uint32_t scsi_max_caw_blocks(const struct scsi_lun *lun);

typedef void (*scsi_run_fn)(struct scsi_lun *lun, struct vhostio_io *io);

enum scsi_command_flag {
	CMD_HAS_SA = 1u << 0,   /* service action in byte 1, bits 4-0 */
	CMD_FUA_BIT = 1u << 1,  /* byte 1 bit 3 is FUA: usable only when FUA is offered */
	/*
	 * Byte 1 bits 7-5 are the SCSI-2 LUN field (obsolete, reserved now):
	 * ignored, not refused.  Linux fills it in the INQUIRY that probes a
	 * LUN >= 1 before it knows the device's SCSI level.
	 */
	CMD_SCSI2_LUN = 1u << 2,
	/*
	 * Transfers no data at all.  A data-in buffer it arrives with anyway
	 * (the fabric's expected length is the initiator's choice) is reported
	 * empty, so the kernel returns none of the data area's old bytes.
	 */
	CMD_NO_DATA = 1u << 3,
};

/*
 * One supported command.  'usage' is the CDB USAGE DATA of REPORT
 * SUPPORTED OPERATION CODES: byte 0 the opcode, the service action in its
 * field, and elsewhere a 1 for every bit the device server looks at.  Any
 * other bit set in a CDB is refused before the command runs, so what we
 * report and what we accept cannot drift apart.
 */
struct scsi_command {
	uint8_t opcode;
	uint8_t service_action;
	uint8_t cdb_len;
	uint8_t flags;          /* enum scsi_command_flag */
	uint32_t needs_caps;    /* VHOSTIO_CAP_* that must be offered */
	scsi_run_fn run;
	uint8_t usage[16];
};

extern const struct scsi_command scsi_commands[];
extern const size_t scsi_command_count;

/* The command as this device offers it, or NULL. */
const struct scsi_command *scsi_find_command(const struct scsi_lun *lun, uint8_t opcode,
					     uint16_t service_action);
bool scsi_command_offered(const struct scsi_lun *lun, const struct scsi_command *c);
/* The usage map as this device reports and enforces it. */
void scsi_command_usage(const struct scsi_lun *lun, const struct scsi_command *c, uint8_t usage[16]);

/* ---- completion helpers (io.c) ---- */
/* Grab the COMPARE AND WRITE lock, or queue the io to be re-run when it is free. */
bool scsi_caw_lock(struct vhostio_io *io);
void scsi_complete_good(struct vhostio_io *io);
void scsi_complete_status(struct vhostio_io *io, const struct vhostio_scsi_status *st);
void scsi_complete_sense(struct vhostio_io *io, uint8_t key, uint16_t asc);
/* ILLEGAL REQUEST, INVALID FIELD IN CDB / PARAMETER LIST, with a field
 * pointer to 'byte' and, when bit >= 0, that bit. */
void scsi_complete_invalid_cdb_field(struct vhostio_io *io, uint16_t byte, int bit);
void scsi_complete_invalid_param_field(struct vhostio_io *io, uint16_t byte, int bit);
void scsi_complete_lba_out_of_range(struct vhostio_io *io);
void scsi_complete_param_list_length_error(struct vhostio_io *io);
/* MISCOMPARE DURING VERIFY OPERATION, INFORMATION = offset of the first difference. */
void scsi_complete_miscompare(struct vhostio_io *io, uint64_t offset);
/* Return 'len' bytes of 'buf', cut to the allocation length and the buffer. */
void scsi_complete_data_in(struct vhostio_io *io, const uint8_t *buf, size_t len, size_t alloc_len);
/* A handler callback's return value: finish now unless it went async. */
void scsi_finish_handler_call(struct vhostio_io *io, int ret);

/* ---- data-out buffer access ---- */
/* Copy up to 'len' bytes of the data-out buffer from 'offset'; returns bytes copied. */
size_t scsi_data_out_copy(const struct vhostio_io *io, size_t offset, void *dst, size_t len);
/* False (and the command failed) when the kernel's buffer is shorter than 'need'. */
bool scsi_buffer_covers(struct scsi_lun *lun, struct vhostio_io *io, uint64_t need);

/* Range checks that cannot overflow: lba + blocks <= capacity. */
static inline bool scsi_lba_range_ok(const struct scsi_lun *lun, uint64_t lba, uint64_t blocks)
{
	return lba <= scsi_lun_num_lbas(lun) && blocks <= scsi_lun_num_lbas(lun) - lba;
}

/* ---- SPC emulation (scsi_spc.c) ---- */
void scsi_test_unit_ready(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_request_sense(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_inquiry(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_mode_sense(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_mode_select(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_start_stop_unit(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_report_supported_opcodes(struct scsi_lun *lun, struct vhostio_io *io);

/* ---- SBC emulation (scsi_sbc.c) ---- */
void scsi_read_capacity_10(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_read_capacity_16(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_get_lba_status(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_read(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_write(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_synchronize_cache(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_pre_fetch(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_verify(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_write_and_verify(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_write_same(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_unmap(struct scsi_lun *lun, struct vhostio_io *io);
void scsi_compare_and_write(struct scsi_lun *lun, struct vhostio_io *io);

#endif
