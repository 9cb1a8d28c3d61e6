/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory handler of the ring and SCSI fuzz targets.  Its callbacks
 * check every promise the handler API makes (offset and length inside the
 * capacity, the iovs cover the length, unmap ranges block aligned, ...)
 * and fuzz_fail() when one is broken.  It can answer at once or hold every
 * request until fuzz_disk_complete_held(), fail the n-th data call with a
 * chosen -errno, and come in variants with flush, unmap + lba_status,
 * native write_same (or one that declines) and native FUA.
 */
#ifndef VHOSTIO_FUZZ_MEMDISK_H
#define VHOSTIO_FUZZ_MEMDISK_H

#include <stdbool.h>
#include <stdint.h>

#include <vhostio/handler.h>

enum fuzz_disk_variant {
	FD_PLAIN,          /* read, write */
	FD_FLUSH,          /* + flush */
	FD_UNMAP,          /* + flush, unmap, lba_status */
	FD_WRITE_SAME,     /* + flush, native write_same */
	FD_WS_DECLINE,     /* + flush, write_same that declines every other request (-EOPNOTSUPP) */
	FD_FUA,            /* + flush, native FUA */
	FD_ALL,            /* everything */
	FD_VARIANTS,
};

/* The largest medium (num_lbas * block_size). */
#define FUZZ_DISK_MAX (2u << 20)

struct fuzz_disk_opts {
	uint32_t block_size;
	uint64_t num_lbas;
	bool async;        /* hold requests until fuzz_disk_complete_held() */
	unsigned fail_at;  /* 1-based data call that fails with fail_errno; 0: none */
	int fail_errno;
	bool odd_extents;  /* lba_status extents end one byte short of a block */
};

/* The handler struct of a variant (as a plugin would hand it over). */
const struct vhostio_handler *fuzz_disk_handler(unsigned variant);
/* Fresh zeroed medium for one input. */
void fuzz_disk_init(const struct fuzz_disk_opts *o);
void fuzz_disk_free(void);
/* Requests held by an async disk. */
unsigned fuzz_disk_held(void);
/* Finish the held requests, oldest or newest first; returns how many. */
unsigned fuzz_disk_complete_held(bool newest_first);
/* -errno for selector 'k' (EIO, ENOSPC, EROFS, EBUSY, ENOMEM, EINVAL, ...). */
int fuzz_errno(unsigned k);

#endif
