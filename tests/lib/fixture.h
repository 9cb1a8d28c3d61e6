/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test fixture: a device served by the real libvhostio ring and SCSI code,
 * on the ring simulator, with an in-memory test handler that can answer
 * synchronously or hold requests to complete them later.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "device.h"
#include "ringsim.h"

#define FX_MAX_PENDING 1024

/* liburing-style test results. */
#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

extern int check_failures;
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			check_failures++;                                      \
		}                                                              \
	} while (0)

struct pending_io {
	struct vhostio_io *io;
	bool is_write;
	bool is_flush;
	const struct iovec *iov;
	int iovcnt;
	size_t length;
	uint64_t offset;
};

struct memdisk {
	uint8_t *mem;
	size_t size;
	bool async;             /* hold requests until fx_finish() */
	int fail_read;          /* -errno to return from read, 0 = succeed */
	int fail_write;
	unsigned flushes;
	unsigned opens, closes;
	int fail_open;          /* -errno to return from open, 0 = succeed */
	struct pending_io pending[FX_MAX_PENDING];
	unsigned n_pending;
	/* memdisk_unmap_handler / memdisk_ws_handler bookkeeping */
	unsigned unmap_calls, unmap_ranges, write_same_calls;
	int write_same_result;  /* e.g. -EOPNOTSUPP: decline after counting the call */
};

struct fixture {
	struct ringsim sim;
	struct vhostio_handler handler;
	struct memdisk disk;
	struct vhostio_device *dev;
};

/* The test handler (subtype "mem"); flush may be cleared to test its absence. */
extern const struct vhostio_handler memdisk_handler;

struct fixture *fx_new(uint32_t cmdr_size, uint64_t num_lbas, uint32_t block_size, bool write_cache);
/* Same, with a caller-supplied handler struct (imported as the loader would). */
struct fixture *fx_new_with(const struct vhostio_handler *h, uint32_t cmdr_size, uint64_t num_lbas,
			    uint32_t block_size, bool write_cache);
/* Any handler on any config string ("<subtype>/<config>"); exits 1 if open fails. */
struct fixture *fx_new_cfg(const struct vhostio_handler *h, const char *cfgstring, uint32_t cmdr_size,
			   uint64_t num_lbas, uint32_t block_size, bool write_cache);
/* A device whose configfs directory is core/user_<hba>/<dev> for name "<hba>/<dev>"
 * under configfs_target_root() (a scratch tree the test made). */
struct fixture *fx_new_configfs(uint32_t cmdr_size, uint64_t num_lbas, uint32_t block_size, const char *name);
void fx_free(struct fixture *f);
/* One turn of the command thread: watched fd, deferred steps, ring. */
int fx_serve(struct fixture *f, int timeout_ms);
/* fx_run, then serve until the command completes or timeout_ms passes
 * (for handlers that complete through a watched fd, e.g. io_uring). */
uint16_t fx_run_wait(struct fixture *f, const uint8_t *cdb, size_t len, const void *data_out, int timeout_ms);

/* Submit one command and let the device drain the ring; returns cmd_id. */
uint16_t fx_run(struct fixture *f, const uint8_t *cdb, size_t len, const void *data_out);
/* Result of a command the device has completed (NULL if not done yet). */
const struct sim_result *fx_result(struct fixture *f, uint16_t id);
/* Finish a held request (index into disk.pending) with 'result'. */
void fx_finish(struct fixture *f, unsigned idx, int result);

/* CHECK that a command completed GOOD / with this sense key, ASC, ASCQ. */
#define CHECK_GOOD(f, id)                                                                       \
	do {                                                                                     \
		const struct sim_result *r_ = fx_result((f), (id));                              \
		CHECK(r_ && r_->status == 0, "cmd %u: status 0x%x sense %06x", (id),             \
		      r_ ? r_->status : 0xff, r_ ? sim_sense_triple(r_) : 0);                    \
	} while (0)
#define CHECK_SENSE(f, id, triple)                                                              \
	do {                                                                                     \
		const struct sim_result *r_ = fx_result((f), (id));                              \
		CHECK(r_ && r_->status == 2 && sim_sense_triple(r_) == (triple),                 \
		      "cmd %u: want CHECK CONDITION %06x, got status 0x%x sense %06x", (id),     \
		      (unsigned)(triple), r_ ? r_->status : 0xff, r_ ? sim_sense_triple(r_) : 0); \
	} while (0)

/* Common sense triples (key << 16 | asc << 8 | ascq). */
#define SENSE_INVALID_OPCODE 0x052000
#define SENSE_LBA_OUT_OF_RANGE 0x052100
#define SENSE_INVALID_FIELD_IN_CDB 0x052400
#define SENSE_INTERNAL_TARGET_FAILURE 0x044400

/* A vendor-specific opcode the library deliberately does not support:
 * it draws INVALID COMMAND OPERATION CODE (the named ones are OP_* in
 * scsi_defs.h). */
#define TEST_OP_UNSUPPORTED 0xc5

static inline int test_exit(void)
{
	return check_failures ? T_EXIT_FAIL : T_EXIT_PASS;
}


/* memdisk plus unmap (zeroes the ranges) and lba_status (all-zero blocks
 * read as deallocated); and memdisk plus a native write_same. */
extern const struct vhostio_handler memdisk_unmap_handler;
extern const struct vhostio_handler memdisk_ws_handler;

/* Sense data in either format, as an initiator would decode it. */
struct sense_info {
	bool descriptor;       /* response code 0x72 */
	uint8_t key, asc, ascq;
	bool info_valid;
	uint64_t info;
	bool sks_valid;
	uint8_t sks[3];        /* SKSV cleared */
};
/* Returns false if the buffer holds no current-error sense (0x70 or 0x72). */
bool sense_parse(const uint8_t *sense, size_t len, struct sense_info *out);
/* Key/ASC/ASCQ of a completed command's sense in either format, 0xffffffff if none. */
uint32_t fx_sense_triple(struct fixture *f, uint16_t id);
/* Whether the sense has a field pointer to (C/D, byte, bit); bit < 0: BPV clear. */
bool fx_field_pointer_is(struct fixture *f, uint16_t id, bool in_cdb, unsigned byte, int bit);
#define CHECK_FIELD(f, id, in_cdb, byte, bit)                                                   \
	CHECK(fx_field_pointer_is((f), (id), (in_cdb), (byte), (bit)),                           \
	      "cmd %u: want field pointer %s byte %u bit %d", (id), (in_cdb) ? "CDB" : "param",  \
	      (unsigned)(byte), (int)(bit))

/* CDB builders. */
void cdb_rw10(uint8_t cdb[10], uint8_t opcode, uint32_t lba, uint16_t blocks);
void cdb_rw16(uint8_t cdb[16], uint8_t opcode, uint64_t lba, uint32_t blocks);
/* Fill a buffer with a pattern that encodes (seed, byte offset). */
void fill_pattern(uint8_t *buf, size_t len, uint32_t seed);
bool check_pattern(const uint8_t *buf, size_t len, uint32_t seed);

#endif
