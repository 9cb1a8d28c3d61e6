/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vhostio handler plugin API.
 *
 * A handler serves the storage behind one TCMU subtype ("ram", "file", ...).
 * It is a shared object named handler_<subtype>.so that links against
 * libvhostio.so and exports exactly one symbol, defined by
 * VHOSTIO_REGISTER_HANDLER().  The library does all SCSI emulation; a
 * handler only moves bytes.
 *
 * ABI rules (the way nbdkit versions its plugin struct):
 *  - struct vhostio_handler records its own size and the API version it was
 *    built against; fields are only ever appended, so a handler built
 *    against an older, smaller struct keeps working: the loader copies the
 *    bytes it was given and treats the rest as NULL/0.
 *  - Functions are only ever added to libvhostio, never changed.
 */
#ifndef VHOSTIO_HANDLER_H
#define VHOSTIO_HANDLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VHOSTIO_API_VERSION 1

#if defined(__GNUC__) || defined(__clang__)
#define VHOSTIO_EXPORT __attribute__((visibility("default")))
#define VHOSTIO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define VHOSTIO_EXPORT
#define VHOSTIO_PRINTF(fmt, args)
#endif

/* A TCMU device being served.  Owned by the library. */
struct vhostio_device;
/* One SCSI command's data request handed to a handler.  Owned by the library. */
struct vhostio_io;

/* SAM status codes used on the command path. */
enum vhostio_sam_status {
	VHOSTIO_SAM_GOOD = 0x00,
	VHOSTIO_SAM_CHECK_CONDITION = 0x02,
	VHOSTIO_SAM_BUSY = 0x08,
	VHOSTIO_SAM_TASK_SET_FULL = 0x28,
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

/*
 * Returned by a data callback that has taken ownership of the request and
 * will finish it later, from any thread, with vhostio_io_complete*().
 */
#define VHOSTIO_IO_ASYNC 1

struct vhostio_handler {
	/* ---- API version 1 ---- */
	uint32_t struct_size;    /* sizeof(struct vhostio_handler) as built */
	uint32_t api_version;    /* VHOSTIO_API_VERSION as built */
	const char *subtype;     /* TCMU subtype: dev_config=<subtype>/<config> */
	const char *config_desc; /* help text for the config string (targetcli) */

	/*
	 * Validate a config string (the part after "<subtype>/") without
	 * opening anything.  Return 0 if it is acceptable; otherwise -errno and,
	 * optionally, a malloc'd one-line reason in *reason (freed by caller).
	 * May be NULL: every config is then accepted until open().
	 */
	int (*check_config)(const char *config, char **reason);

	/*
	 * Open the storage for a device.  vhostio_device_config() and the
	 * geometry accessors are valid.  Return 0 or -errno.
	 */
	int (*open)(struct vhostio_device *dev);
	/* Release everything open() took.  No data callback runs after this. */
	void (*close)(struct vhostio_device *dev);

	/*
	 * Data callbacks.  'offset' and 'length' are bytes, already checked
	 * against the device capacity; 'iov' describes exactly 'length' bytes.
	 * Return 0 (done), -errno (failed: the library turns it into sense,
	 * e.g. -EIO -> MEDIUM ERROR, -ENOSPC -> SPACE ALLOCATION FAILED), or
	 * VHOSTIO_IO_ASYNC and complete the io later.  The iov memory stays
	 * valid until completion.
	 */
	int (*read)(struct vhostio_device *dev, struct vhostio_io *io,
		    const struct iovec *iov, int iovcnt, size_t length,
		    uint64_t offset);
	int (*write)(struct vhostio_device *dev, struct vhostio_io *io,
		     const struct iovec *iov, int iovcnt, size_t length,
		     uint64_t offset);
	/* Make every completed write durable.  NULL: nothing to flush. */
	int (*flush)(struct vhostio_device *dev, struct vhostio_io *io);
};

/* Designated-initializer prefix that stamps size and version. */
#define VHOSTIO_HANDLER_INIT                                 \
	.struct_size = sizeof(struct vhostio_handler),       \
	.api_version = VHOSTIO_API_VERSION

/* Name of the one symbol a handler plugin exports. */
#define VHOSTIO_HANDLER_ENTRY_NAME "vhostio_handler_entry"
typedef const struct vhostio_handler *(*vhostio_handler_entry_fn)(void);

/* Define the plugin entry point returning the given handler struct. */
#define VHOSTIO_REGISTER_HANDLER(handler_struct)                              \
	VHOSTIO_EXPORT const struct vhostio_handler *vhostio_handler_entry(void); \
	VHOSTIO_EXPORT const struct vhostio_handler *vhostio_handler_entry(void)  \
	{                                                                     \
		return &(handler_struct);                                     \
	}

/* ---- Device accessors (valid from open() until close() returns) ---- */

/* The handler's part of dev_config, after "<subtype>/". */
VHOSTIO_EXPORT const char *vhostio_device_config(const struct vhostio_device *dev);
/* "<hba>/<name>" as in configfs core/user_<hba>/<name>. */
VHOSTIO_EXPORT const char *vhostio_device_name(const struct vhostio_device *dev);
VHOSTIO_EXPORT uint32_t vhostio_device_block_size(const struct vhostio_device *dev);
VHOSTIO_EXPORT uint64_t vhostio_device_num_lbas(const struct vhostio_device *dev);
/* Capacity in bytes: block size times number of blocks. */
VHOSTIO_EXPORT uint64_t vhostio_device_size(const struct vhostio_device *dev);
VHOSTIO_EXPORT void vhostio_device_set_private(struct vhostio_device *dev, void *priv);
VHOSTIO_EXPORT void *vhostio_device_private(const struct vhostio_device *dev);

/* ---- Completion of asynchronous data requests ---- */

/* Finish an io: 0 or -errno, mapped to SCSI status and sense as above. */
VHOSTIO_EXPORT void vhostio_io_complete(struct vhostio_io *io, int result);
/* Finish an io with an explicit SCSI status and sense. */
VHOSTIO_EXPORT void vhostio_io_complete_scsi(struct vhostio_io *io,
					     const struct vhostio_scsi_status *st);

/* ---- Logging ---- */

VHOSTIO_EXPORT void vhostio_log(int level, const char *fmt, ...) VHOSTIO_PRINTF(2, 3);
VHOSTIO_EXPORT void vhostio_device_log(const struct vhostio_device *dev, int level,
				       const char *fmt, ...) VHOSTIO_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTIO_HANDLER_H */
