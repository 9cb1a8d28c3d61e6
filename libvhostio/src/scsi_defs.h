/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SCSI constants (SPC-4, SBC-3) and big-endian field helpers. */
#ifndef VHOSTIO_SCSI_DEFS_H
#define VHOSTIO_SCSI_DEFS_H

#include <stdint.h>

enum scsi_opcode {
	OP_TEST_UNIT_READY = 0x00,
	OP_REQUEST_SENSE = 0x03,
	OP_READ_6 = 0x08,
	OP_WRITE_6 = 0x0a,
	OP_INQUIRY = 0x12,
	OP_MODE_SELECT_6 = 0x15,
	OP_MODE_SENSE_6 = 0x1a,
	OP_START_STOP_UNIT = 0x1b,
	OP_READ_CAPACITY_10 = 0x25,
	OP_READ_10 = 0x28,
	OP_WRITE_10 = 0x2a,
	OP_WRITE_AND_VERIFY_10 = 0x2e,
	OP_VERIFY_10 = 0x2f,
	OP_PRE_FETCH_10 = 0x34,
	OP_SYNCHRONIZE_CACHE_10 = 0x35,
	OP_WRITE_SAME_10 = 0x41,
	OP_UNMAP = 0x42,
	OP_MODE_SELECT_10 = 0x55,
	OP_MODE_SENSE_10 = 0x5a,
	OP_READ_16 = 0x88,
	OP_COMPARE_AND_WRITE = 0x89,
	OP_WRITE_16 = 0x8a,
	OP_WRITE_AND_VERIFY_16 = 0x8e,
	OP_VERIFY_16 = 0x8f,
	OP_PRE_FETCH_16 = 0x90,
	OP_SYNCHRONIZE_CACHE_16 = 0x91,
	OP_WRITE_SAME_16 = 0x93,
	OP_SERVICE_ACTION_IN_16 = 0x9e,
	OP_REPORT_LUNS = 0xa0,
	OP_MAINTENANCE_IN = 0xa3,
	OP_READ_12 = 0xa8,
	OP_WRITE_12 = 0xaa,
};

/* Service actions of SERVICE ACTION IN(16) and MAINTENANCE IN. */
#define SAI_READ_CAPACITY_16 0x10
#define SAI_GET_LBA_STATUS 0x12
#define MI_REPORT_SUPPORTED_OPCODES 0x0c

/* Additional sense code and qualifier, as (ASC << 8) | ASCQ. */
enum scsi_asc {
	ASC_NONE = 0x0000,
	ASC_LUN_NOT_READY_MANUAL_INTERVENTION = 0x0403,
	ASC_WRITE_ERROR = 0x0c00,
	ASC_UNRECOVERED_READ_ERROR = 0x1100,
	ASC_PARAMETER_LIST_LENGTH_ERROR = 0x1a00,
	ASC_MISCOMPARE_DURING_VERIFY = 0x1d00,
	ASC_INVALID_COMMAND_OPERATION_CODE = 0x2000,
	ASC_LBA_OUT_OF_RANGE = 0x2100,
	ASC_INVALID_FIELD_IN_CDB = 0x2400,
	ASC_INVALID_FIELD_IN_PARAMETER_LIST = 0x2600,
	ASC_WRITE_PROTECTED = 0x2700,
	ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT = 0x2707,
	ASC_MEDIUM_MAY_HAVE_CHANGED = 0x2800,
	ASC_MODE_PARAMETERS_CHANGED = 0x2a01,
	ASC_CAPACITY_DATA_HAS_CHANGED = 0x2a09,
	ASC_SAVING_PARAMETERS_NOT_SUPPORTED = 0x3900,
	ASC_INTERNAL_TARGET_FAILURE = 0x4400,
};

/* CDB length by opcode group, as the kernel's scsi_command_size() has it. */
static inline uint32_t scsi_cdb_length(uint8_t opcode)
{
	static const uint8_t by_group[8] = { 6, 10, 10, 12, 16, 12, 10, 10 };
	return by_group[opcode >> 5];
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

#endif
