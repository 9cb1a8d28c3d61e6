/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: a TCMU mapping (mailbox, command ring, data area, laid out
 * as <linux/target_core_user.h> says) whose bytes come from the input,
 * served by the real device loop: device_create() on it with the memory
 * handler (memdisk.c), then device_process_ring() until everything is
 * completed.  The input plays a hostile kernel: it writes the mailbox
 * (version, flags, cmdr_off, cmdr_size, cmd_head, cmd_tail), the entries
 * (lengths, ops, cmd_ids, cdb_off, iov counts, bases and lengths) and the
 * data, and between rounds of the loop it may write anything again.
 *
 * The mapping lies between PROT_NONE pages, so any access outside it
 * faults.  Checked besides: every command taken off the ring is completed
 * (none left outstanding, none completed twice: the library logs a
 * completion with nothing outstanding), cmd_tail stays inside the ring and
 * aligned, the library never writes the mailbox except cmd_tail, the
 * handler gets only requests inside the medium covered by their iovs, and
 * the loop ends.
 *
 * Input:
 *   8 control bytes:
 *     [0] bits 0-3: mapping size in 4 KiB pages - 1; bit 4: async handler;
 *         bit 5: held requests complete newest first; bit 6: write cache
 *     [1] bits 0-2: handler variant (enum fuzz_disk_variant); bits 3-4:
 *         block size 512 << n
 *     [2] number of blocks - 1 (the medium is at most 256 KiB)
 *     [3] bits 0-5: the data call that fails (0: none); bits 6-7: its -errno
 *     [4] max_sectors, an index into max_sectors_table
 *     [5] unused
 *     [6], [7] length of the image (little endian)
 *   the image: the first bytes of the mapping (the mailbox first; the rest
 *     of the mapping is zero)
 *   then up to MAX_ROUNDS rounds, each: a flags byte (bit 0: finish the
 *     held requests first), 2 bytes offset, 1 byte length, that many
 *     bytes written into the mapping at offset; the device drains the
 *     ring after each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tcmu_abi.h"

#include "device.h"
#include "fuzz.h"
#include "memdisk.h"

#define PAGE 4096u
#define MAX_PAGES 16u
#define MAX_MEDIUM (256u << 10) /* <= FUZZ_DISK_MAX */
#define MAX_ROUNDS 16
#define MAX_SETTLE 10000

static const uint32_t max_sectors_table[8] = { 1, 2, 8, 64, 128, 1024, 65535, UINT32_MAX };

static struct {
	uint8_t *region;               /* MAX_PAGES pages between two PROT_NONE pages */
	uint8_t *map;                  /* this input's mapping, ending at the guard */
	size_t map_size;
	uint32_t cmdr_size;            /* as the device saw it at attach */
	uint32_t last_tail;            /* verbose: the slots up to here were printed */
	uint8_t mailbox[sizeof(struct tcmu_mailbox)]; /* as the kernel last wrote it */
	struct vhostio_handler handlers[FD_VARIANTS];
	bool verbose;                  /* FUZZ_VERBOSE=1: what the device did, on stderr */
} R;

static void log_sink(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	if (R.verbose)
		fprintf(stderr, "fuzz-ring: log: %s\n", msg);
	/* ring_complete() with nothing outstanding: a command completed twice. */
	if (strstr(msg, "with nothing outstanding"))
		fuzz_fail("%s", msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A guard page, MAX_PAGES pages for the mapping, a guard page. */
	uint8_t *m = mmap(NULL, (MAX_PAGES + 2) * PAGE, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		abort();
	R.region = m + PAGE;
	for (unsigned v = 0; v < FD_VARIANTS; v++)
		if (handler_import(&R.handlers[v], fuzz_disk_handler(v)) < 0)
			abort();
	const char *v = getenv("FUZZ_VERBOSE");
	R.verbose = v && *v && strcmp(v, "0") != 0;
	vhostio_set_log_level(R.verbose ? VHOSTIO_LOG_DEBUG : VHOSTIO_LOG_ERROR);
	vhostio_set_log_fn(log_sink, NULL);
	return 0;
}

/* The kernel's side of a kick: reclaim up to cmd_tail, which must make sense. */
static int kick(void *opaque)
{
	(void)opaque;
	const struct tcmu_mailbox *mb = (const struct tcmu_mailbox *)R.map;
	uint32_t tail = __atomic_load_n(&mb->cmd_tail, __ATOMIC_ACQUIRE);
	if (R.verbose) {
		fprintf(stderr, "fuzz-ring: kick, cmd_tail %u\n", tail);
		/* What the kernel would read back (bounded: the slots are the input's). */
		for (unsigned n = 0; R.last_tail != tail && n < 1024; n++) {
			const uint8_t *ent = R.map + mb->cmdr_off + R.last_tail;
			if ((uint64_t)mb->cmdr_off + R.last_tail + 112 > R.map_size)
				break;
			uint32_t len_op;
			memcpy(&len_op, ent, 4);
			if (tcmu_hdr_get_op(len_op) == TCMU_OP_CMD)
				fprintf(stderr, "fuzz-ring:   slot %u: cmd_id %u status 0x%02x sense key %x asc %02x/%02x\n",
					R.last_tail, ent[4] | ent[5] << 8, ent[8], ent[18] & 0xf, ent[28], ent[29]);
			if (tcmu_hdr_get_len(len_op) == 0)
				break;
			R.last_tail = (R.last_tail + tcmu_hdr_get_len(len_op)) % R.cmdr_size;
		}
	}
	if (tail >= R.cmdr_size || tail % TCMU_OP_ALIGN_SIZE)
		fuzz_fail("cmd_tail %u in a %u-byte ring", tail, R.cmdr_size);
	return 0;
}

/* The library writes only cmd_tail of the mailbox. */
static void check_mailbox(void)
{
	uint8_t now[sizeof(struct tcmu_mailbox)];
	memcpy(now, R.map, sizeof(now));
	size_t tail_off = offsetof(struct tcmu_mailbox, cmd_tail);
	memcpy(now + tail_off, R.mailbox + tail_off, sizeof(uint32_t));
	if (memcmp(now, R.mailbox, sizeof(now)) != 0)
		fuzz_fail("the library wrote a mailbox field other than cmd_tail");
}

static void snapshot_mailbox(void)
{
	memcpy(R.mailbox, R.map, sizeof(R.mailbox));
}

static void finish_held(struct vhostio_device *dev, bool newest_first)
{
	for (unsigned i = 0; fuzz_disk_held(); i++) {
		if (i == MAX_SETTLE)
			fuzz_fail("commands still running after %u rounds of completions", MAX_SETTLE);
		fuzz_disk_complete_held(newest_first);
		/* Continuations were queued for the command thread: this one. */
		device_process_ring(dev);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!R.region)
		LLVMFuzzerInitialize(NULL, NULL);
	struct fuzz_in in = fuzz_in(data, size);
	uint8_t c[8];
	fuzz_take(&in, c, sizeof(c));

	/* The mapping ends at the trailing guard; the pages before it are made
	 * inaccessible too, so a stray access on either side faults. */
	R.map_size = ((c[0] & 15u) + 1) * PAGE;
	R.map = R.region + MAX_PAGES * PAGE - R.map_size;
	if (mprotect(R.region, MAX_PAGES * PAGE - R.map_size, PROT_NONE) < 0 ||
	    mprotect(R.map, R.map_size, PROT_READ | PROT_WRITE) < 0)
		abort();
	memset(R.map, 0, R.map_size);
	size_t image_len;
	const uint8_t *image = fuzz_bytes(&in, (size_t)(c[6] | c[7] << 8), &image_len);
	memcpy(R.map, image, image_len < R.map_size ? image_len : R.map_size);
	R.cmdr_size = ((const struct tcmu_mailbox *)R.map)->cmdr_size;
	R.last_tail = ((const struct tcmu_mailbox *)R.map)->cmd_tail;
	snapshot_mailbox();

	uint32_t bs = 512u << (c[1] >> 3 & 3);
	uint64_t max_lbas = MAX_MEDIUM / bs;
	struct fuzz_disk_opts o = {
		.block_size = bs,
		.num_lbas = 1 + c[2] % (max_lbas < 256 ? max_lbas : 256),
		.async = c[0] & 0x10,
		.fail_at = c[3] & 0x3f,
		.fail_errno = fuzz_errno(c[3] >> 6),
	};
	bool newest_first = c[0] & 0x20;
	fuzz_disk_init(&o);

	struct device_info info = { .name = "fuzz/ring", .cfgstring = "mem/fuzz", .subtype = "mem" };
	struct device_attributes attrs = {
		.block_size = bs,
		.num_lbas = o.num_lbas,
		.max_sectors = max_sectors_table[c[4] & 7],
		.write_cache = c[0] & 0x40,
		.serial = "fuzz-serial",
	};
	struct device_transport t = { .kick = kick };
	struct vhostio_device *dev;
	if (device_create(&dev, &info, &attrs, &R.handlers[(c[1] & 7) % FD_VARIANTS], R.map, R.map_size, t) < 0) {
		/* A mailbox ring_init() refused: nothing else may have happened. */
		check_mailbox();
		fuzz_disk_free();
		return 0;
	}

	int taken = device_process_ring(dev);
	if (R.verbose)
		fprintf(stderr, "fuzz-ring: first drain took %d entries\n", taken);
	check_mailbox();
	for (int round = 0; in.left && round < MAX_ROUNDS; round++) {
		uint8_t flags = fuzz_u8(&in);
		if (flags & 1)
			finish_held(dev, newest_first);
		size_t off = fuzz_u16(&in) % R.map_size, len;
		const uint8_t *patch = fuzz_bytes(&in, fuzz_u8(&in), &len);
		if (len > R.map_size - off)
			len = R.map_size - off;
		check_mailbox();
		memcpy(R.map + off, patch, len);
		snapshot_mailbox();
		device_process_ring(dev);
		check_mailbox();
	}
	finish_held(dev, newest_first);
	check_mailbox();

	pthread_mutex_lock(&dev->lock);
	uint32_t outstanding = dev->ring.outstanding;
	pthread_mutex_unlock(&dev->lock);
	if (outstanding)
		fuzz_fail("%u commands taken off the ring were never completed", outstanding);
	device_destroy(dev, 1000);
	check_mailbox();
	fuzz_disk_free();
	return 0;
}
