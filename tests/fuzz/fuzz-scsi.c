/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: scsi_execute() with fuzzed CDBs and data-out on a struct
 * scsi_lun with the memory handler (memdisk.c), no ring and no threads,
 * as tests/unit/scsi/test-scsi-standalone.c drives it.  Several commands
 * per input, so MODE SELECT, unit attentions and the COMPARE AND WRITE
 * lock carry over from one to the next; an async handler keeps them in
 * flight together.
 *
 * Checked: every command completes exactly once (a second completion, or
 * none, is a crash), the library touches no io, iov or buffer after it
 * completed (they are freed right then, so ASan sees it), the handler gets
 * only requests inside the medium covered by their iovs (memdisk.c),
 * read_len never exceeds the buffer, sense round-trips through
 * vhostio_sense_decode(), and the COMPARE AND WRITE lock is free at the end.
 *
 * Input:
 *   8 header bytes:
 *     [0] bits 0-2: block size 512 << n; bits 3-5: handler variant
 *         (enum fuzz_disk_variant); bit 6: write cache; bit 7: a unit
 *         attention pending
 *     [1] number of blocks - 1 (at most 256, and at most MAX_MEDIUM)
 *     [2] max_sectors, an index into max_sectors_table
 *     [3] bit 0: async handler; bit 1: held requests complete newest
 *         first; bits 2-7: the data call that fails (0: none)
 *     [4] bits 0-4: no_caps; bits 5-7: the -errno of the failing call
 *     [5] bit 0: lba_status extents end short of a block; bit 1: D_SENSE
 *     [6], [7] unused
 *   then up to MAX_CMDS commands:
 *     [0] bits 0-4: CDB length - 1; bits 5-6: iovs - 1 the buffer is split
 *         into; bit 7: let everything in flight finish first
 *     CDB bytes
 *     2 bytes buffer length (little endian; with bit 15 set, bits 0-14
 *         count 512-byte units; MAX_BUFFER for all buffers), then the buffer
 *         (data-out; zeroes where the input ends)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lun.h"
#include "memdisk.h"
#include "scsi_defs.h"
#include "sense.h"

#define MAX_CMDS 8
/* Larger than SCSI_EMUL_CHUNK (1 MiB) for blocks of 8 KiB and more, so that the
 * VERIFY and WRITE SAME loops take two steps; small enough to stay fast. */
#define MAX_MEDIUM FUZZ_DISK_MAX
/* The buffers of all commands of one input together. */
#define MAX_BUFFER (MAX_MEDIUM + (64u << 10))
#define MAX_STEPS 100000

static const uint32_t max_sectors_table[8] = { 1, 2, 8, 64, 128, 1024, 65535, UINT32_MAX };
static const uint16_t ua_table[4] = { 0x2a09, 0x2800, 0x2a01, 0x2900 };

/* Buffers above this come from an arena reused by every input, not from
 * malloc: page faults on fresh multi-MiB allocations would dominate the
 * run.  Smaller ones are malloc'd and freed at completion (ASan sees a
 * use after completion). */
#define BIG_BUFFER (64u << 10)

struct fcmd {
	struct vhostio_io io;
	struct iovec *iov;
	uint8_t *buf;        /* malloc'd, or in the arena when big */
	bool big;
	unsigned idx;
};

static bool verbose; /* FUZZ_VERBOSE=1: each command's outcome on stderr */

static struct {
	struct scsi_lun lun;
	bool issued[MAX_CMDS];
	bool done[MAX_CMDS];
	size_t data_len[MAX_CMDS];
	/* Steps the library asked to run (ops->run_step), run from the loop. */
	struct step {
		struct vhostio_io *io;
		io_step_fn fn;
	} *steps;
	size_t n_steps, cap_steps;
	unsigned steps_run;
} S;

static void check_sense(const struct vhostio_scsi_status *st)
{
	for (int desc = 0; desc < 2; desc++) {
		uint8_t sense[96];
		struct vhostio_scsi_status back;
		memset(sense, 0, sizeof(sense));
		size_t n = sense_format(st, desc, sense, sizeof(sense));
		if (n == 0 || n > sizeof(sense))
			fuzz_fail("sense of %zu bytes", n);
		if (vhostio_sense_decode(sense, n, &back) < 0)
			fuzz_fail("sense we formatted does not decode (%s format)", desc ? "descriptor" : "fixed");
		if (back.sense_key != st->sense_key || back.asc != st->asc || back.ascq != st->ascq)
			fuzz_fail("sense %x/%02x/%02x came back as %x/%02x/%02x", st->sense_key, st->asc, st->ascq,
				  back.sense_key, back.asc, back.ascq);
	}
}

static void complete(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len)
{
	struct fcmd *c = (struct fcmd *)io;
	unsigned idx = c->idx;
	if (idx >= MAX_CMDS || !S.issued[idx])
		fuzz_fail("completion of an io that was never issued");
	if (S.done[idx])
		fuzz_fail("command %u completed twice", idx);
	S.done[idx] = true;
	if (io->lun != &S.lun)
		fuzz_fail("command %u completed with its lun changed", idx);
	if (read_len != UINT32_MAX && read_len > S.data_len[idx])
		fuzz_fail("command %u: read_len %u with a %zu-byte buffer", idx, read_len, S.data_len[idx]);
	if (st->status == VHOSTIO_SAM_CHECK_CONDITION) {
		if (st->sense_key > 0xf)
			fuzz_fail("sense key %u", st->sense_key);
		check_sense(st);
	} else if (st->status != VHOSTIO_SAM_GOOD && st->status != VHOSTIO_SAM_BUSY) {
		fuzz_fail("command %u: status 0x%x", idx, st->status);
	}
	if (io->bounce)
		fuzz_fail("command %u completed with its scratch buffer still attached", idx);
	if (verbose)
		fprintf(stderr, "fuzz-scsi: command %u (opcode 0x%02x): status 0x%02x sense %x/%02x/%02x read_len %d\n",
			idx, io->cmd.cdb[0], st->status, st->sense_key, st->asc, st->ascq,
			read_len == UINT32_MAX ? -1 : (int)read_len);
	/* The transport's from here on: anything the library still touches is a use after free. */
	free(c->iov);
	if (!c->big)
		free(c->buf);
	free(c);
}

static void run_step(struct vhostio_io *io, io_step_fn fn)
{
	if (S.n_steps == S.cap_steps) {
		S.cap_steps = S.cap_steps ? 2 * S.cap_steps : 16;
		S.steps = realloc(S.steps, S.cap_steps * sizeof(*S.steps));
		if (!S.steps)
			abort();
	}
	S.steps[S.n_steps++] = (struct step){ io, fn };
}

static const struct scsi_lun_ops ops = {
	.complete = complete,
	.run_step = run_step,
};

/* Run queued steps, oldest first; steps may queue more. */
static void run_steps(void)
{
	size_t i = 0;
	while (i < S.n_steps) {
		struct step s = S.steps[i++];
		if (++S.steps_run > MAX_STEPS)
			fuzz_fail("more than %u emulation steps: the command never finishes", MAX_STEPS);
		s.fn(s.io);
		if (i == S.n_steps)
			i = S.n_steps = 0;
	}
	S.n_steps = 0;
}

static void settle(bool newest_first)
{
	run_steps();
	while (fuzz_disk_held()) {
		fuzz_disk_complete_held(newest_first);
		run_steps();
	}
}

static void drop_log(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	if (verbose)
		fprintf(stderr, "fuzz-scsi: log: %s\n", msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *v = getenv("FUZZ_VERBOSE");
	verbose = v && *v && strcmp(v, "0") != 0;
	vhostio_set_log_fn(drop_log, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialized;
	if (!initialized) {
		LLVMFuzzerInitialize(NULL, NULL);
		initialized = true;
	}
	struct fuzz_in in = fuzz_in(data, size);
	uint8_t h[8];
	fuzz_take(&in, h, sizeof(h));

	uint32_t bs = 512u << (h[0] & 7);
	struct vhostio_handler handler = *fuzz_disk_handler(h[0] >> 3 & 7);
	handler.no_caps = h[4] & 0x1f;
	uint64_t max_lbas = MAX_MEDIUM / bs;
	struct fuzz_disk_opts o = {
		.block_size = bs,
		.num_lbas = 1 + h[1] % (max_lbas < 256 ? max_lbas : 256),
		.async = h[3] & 1,
		.fail_at = h[3] >> 2,
		.fail_errno = fuzz_errno(h[4] >> 5),
		.odd_extents = h[5] & 1,
	};
	bool newest_first = h[3] & 2;
	struct scsi_lun_params p = {
		.block_size = bs,
		.num_lbas = o.num_lbas,
		.max_sectors = max_sectors_table[h[2] & 7],
		.write_cache = h[0] & 0x40,
		.subtype = "mem",
		.serial = "fuzz-serial",
	};

	memset(S.issued, 0, sizeof(S.issued));
	memset(S.done, 0, sizeof(S.done));
	S.n_steps = 0;
	S.steps_run = 0;
	fuzz_disk_init(&o);
	if (scsi_lun_init(&S.lun, &handler, NULL, &ops, &p) < 0)
		abort();
	scsi_lun_resolve_caps(&S.lun);
	if (h[0] & 0x80)
		scsi_lun_set_unit_attention(&S.lun, ua_table[h[1] & 3]);
	__atomic_store_n(&S.lun.descriptor_sense, (h[5] & 2) != 0, __ATOMIC_RELAXED);

	unsigned n_cmds = 0;
	size_t buffered = 0;
	while (in.left && n_cmds < MAX_CMDS) {
		uint8_t c0 = fuzz_u8(&in);
		if (c0 & 0x80)
			settle(newest_first);
		struct fcmd *c = calloc(1, sizeof(*c));
		if (!c)
			abort();
		c->idx = n_cmds;
		c->io.lun = &S.lun;
		c->io.cmd.tag = n_cmds + 1;
		c->io.cmd.cdb_len = (uint8_t)((c0 & 0x1f) + 1);
		fuzz_take(&in, c->io.cmd.cdb, c->io.cmd.cdb_len);
		size_t len = fuzz_u16(&in);
		if (len & 0x8000) /* in 512-byte units: room for a multi-chunk VERIFY */
			len = (len & 0x7fff) * 512;
		if (len > MAX_BUFFER - buffered)
			len = MAX_BUFFER - buffered;
		buffered += len;
		unsigned n_iov = len ? ((c0 >> 5) & 3) + 1 : 0;
		static uint8_t *arena;
		if (!arena && !(arena = malloc(MAX_BUFFER)))
			abort();
		c->big = len > BIG_BUFFER;
		/* 'buffered' counts this one already: it ends where the arena's used part does. */
		c->buf = c->big ? arena + buffered - len : malloc(len ? len : 1);
		c->iov = malloc((n_iov ? n_iov : 1) * sizeof(*c->iov));
		if (!c->buf || !c->iov)
			abort();
		fuzz_take(&in, c->buf, len);
		for (unsigned i = 0; i < n_iov; i++) {
			size_t from = len * i / n_iov, to = len * (i + 1) / n_iov;
			c->iov[i].iov_base = c->buf + from;
			c->iov[i].iov_len = to - from;
		}
		c->io.iov = c->iov;
		c->io.cmd.iov_cnt = n_iov;
		c->io.cmd.data_len = len;
		scsi_io_reset(&c->io);
		S.issued[n_cmds] = true;
		S.data_len[n_cmds] = len;
		n_cmds++;
		scsi_execute(&c->io);
		run_steps();
	}
	settle(newest_first);

	for (unsigned i = 0; i < n_cmds; i++)
		if (!S.done[i])
			fuzz_fail("command %u never completed", i);
	if (S.lun.caw_busy || S.lun.caw_waiters.head)
		fuzz_fail("COMPARE AND WRITE lock still held after every command finished");
	scsi_lun_destroy(&S.lun);
	fuzz_disk_free();
	return 0;
}
