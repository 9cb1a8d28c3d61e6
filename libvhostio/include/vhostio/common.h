/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every libvhostio header shares: the export and printf-format
 * macros, logging, and the SCSI status types used both by handlers (which
 * report a status) and by initiators (which receive one).
 *
 * Included by <vhostio/handler.h>, <vhostio/vhostio.h> and
 * <vhostio/initiator.h>; it is not the plugin API and pulls none of it in.
 */
#ifndef VHOSTIO_COMMON_H
#define VHOSTIO_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define VHOSTIO_EXPORT __attribute__((visibility("default")))
#define VHOSTIO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define VHOSTIO_EXPORT
#define VHOSTIO_PRINTF(fmt, args)
#endif

/* SAM status codes used on the command path. */
enum vhostio_sam_status {
	VHOSTIO_SAM_GOOD = 0x00,
	VHOSTIO_SAM_CHECK_CONDITION = 0x02,
	VHOSTIO_SAM_BUSY = 0x08,
	VHOSTIO_SAM_TASK_SET_FULL = 0x28,
	VHOSTIO_SAM_TASK_ABORTED = 0x40,
};

/* SPC sense keys. */
enum vhostio_sense_key {
	VHOSTIO_SENSE_NO_SENSE = 0x0,
	VHOSTIO_SENSE_NOT_READY = 0x2,
	VHOSTIO_SENSE_MEDIUM_ERROR = 0x3,
	VHOSTIO_SENSE_HARDWARE_ERROR = 0x4,
	VHOSTIO_SENSE_ILLEGAL_REQUEST = 0x5,
	VHOSTIO_SENSE_UNIT_ATTENTION = 0x6,
	VHOSTIO_SENSE_DATA_PROTECT = 0x7,
	VHOSTIO_SENSE_ABORTED_COMMAND = 0xb,
	VHOSTIO_SENSE_MISCOMPARE = 0xe,
};

/*
 * The outcome of a SCSI command: a SAM status and, for CHECK CONDITION,
 * the sense data that explains it.  The library formats the sense bytes.
 */
struct vhostio_scsi_status {
	uint8_t status;      /* enum vhostio_sam_status */
	uint8_t sense_key;   /* enum vhostio_sense_key */
	uint8_t asc;         /* additional sense code */
	uint8_t ascq;        /* additional sense code qualifier */
	uint8_t info_valid;  /* 1: 'info' goes into the INFORMATION field */
	uint8_t sks_valid;   /* 1: 'sks' holds sense-key specific bytes 15..17 */
	uint8_t sks[3];      /* e.g. field pointer: C/D, BPV, bit, byte (SPC-4 4.5.2.4.2) */
	uint64_t info;       /* e.g. LBA of a medium error, miscompare offset */
};

/* Log levels for vhostio_log() and vhostio_set_log_level(). */
enum vhostio_log_level {
	VHOSTIO_LOG_ERROR = 0,
	VHOSTIO_LOG_WARN = 1,
	VHOSTIO_LOG_INFO = 2,
	VHOSTIO_LOG_DEBUG = 3,
};

/* Library version, "MAJOR.MINOR.PATCH". */
VHOSTIO_EXPORT const char *vhostio_version(void);

/* Messages at or below 'level' (enum vhostio_log_level) are emitted. */
VHOSTIO_EXPORT void vhostio_set_log_level(int level);
VHOSTIO_EXPORT int vhostio_get_log_level(void);
/* Replace the default sink (stderr).  fn == NULL restores it. */
typedef void (*vhostio_log_fn)(void *opaque, int level, const char *msg);
VHOSTIO_EXPORT void vhostio_set_log_fn(vhostio_log_fn fn, void *opaque);
VHOSTIO_EXPORT void vhostio_log(int level, const char *fmt, ...) VHOSTIO_PRINTF(2, 3);

/* ---- Helpers (VHOSTIO_1.3) ---- */

/*
 * A size such as "512", "4k", "64M", "2g", "1T", "4KiB" or "0x1000":
 * digits (or 0x and hex digits), then optionally a binary unit k, m, g or
 * t in either case, optionally followed by "i" and "B".  Exactly 'len'
 * characters of 's' are read (strlen(s) for a whole string).  0, -EINVAL
 * for anything else, -ERANGE when it does not fit 64 bits.
 */
VHOSTIO_EXPORT int vhostio_parse_size(const char *s, size_t len, uint64_t *out);

/*
 * For check_config() and friends: *reason = a malloc'd formatted string,
 * or NULL when out of memory.  *reason must be NULL or an earlier reason,
 * which is freed afterwards (the last, most precise reason wins; the
 * arguments may use it: vhostio_set_reason(r, "%s; more", *r)).  Does
 * nothing when reason is NULL.
 */
VHOSTIO_EXPORT void vhostio_set_reason(char **reason, const char *fmt, ...) VHOSTIO_PRINTF(2, 3);

/*
 * Decode sense data in fixed (0x70/0x71) or descriptor (0x72/0x73)
 * format into a status (CHECK CONDITION, key, ASC/ASCQ, INFORMATION,
 * sense-key specific bytes with SKSV cleared).  0, or -EINVAL when the
 * buffer holds no sense data it understands.
 */
VHOSTIO_EXPORT int vhostio_sense_decode(const uint8_t *sense, size_t len, struct vhostio_scsi_status *st);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTIO_COMMON_H */
