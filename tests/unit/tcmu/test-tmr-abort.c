/*
 * Task management: a TMR entry in the ring aborts the commands it names.
 * The handler's abort() hears of each one in flight and cuts it short;
 * the command is answered TASK ABORTED unless it finished well (it runs
 * to its end: a fabric may return an aborted READ's buffer as data), and
 * ids not in flight or a lying cmd_cnt change nothing.  A handler without abort() is unaffected.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"
#include "tcmu_abi.h"

#define STATUS_TASK_ABORTED 0x40

static struct fixture *fx;
static unsigned abort_calls, abort_unknown;
static bool cancel_in_abort = true;
static bool finished[FX_MAX_PENDING];

/* The test handler's abort(): find the held request, cancel it. */
static void mem_abort(struct vhostio_device *dev, struct vhostio_io *io)
{
	(void)dev;
	abort_calls++;
	for (unsigned i = 0; i < fx->disk.n_pending; i++) {
		if (fx->disk.pending[i].io == io && !finished[i]) {
			if (cancel_in_abort) {
				finished[i] = true;
				vhostio_io_complete(io, -ECANCELED);
			}
			return;
		}
	}
	abort_unknown++; /* queued in the library, or already completed */
}

static void finish(unsigned idx, int result)
{
	CHECK(!finished[idx], "request %u finished twice", idx);
	finished[idx] = true;
	fx_finish(fx, idx, result);
}

static uint8_t status_of(uint16_t id)
{
	const struct sim_result *r = fx_result(fx, id);
	return r ? r->status : 0xff;
}

static struct fixture *new_fixture(bool with_abort, bool write_cache)
{
	static struct vhostio_handler h;
	h = memdisk_handler;
	if (with_abort)
		h.abort = mem_abort;
	memset(finished, 0, sizeof(finished));
	abort_calls = abort_unknown = 0;
	cancel_in_abort = true;
	fx = fx_new_with(&h, 256 * 1024, 16384, 512, write_cache);
	fx->disk.async = true;
	return fx;
}

static uint16_t read_held(uint32_t lba)
{
	uint8_t cdb[10];
	cdb_rw10(cdb, OP_READ_10, lba, 1);
	return fx_run(fx, cdb, 512, NULL);
}

static void tmr(uint8_t type, const uint16_t *ids, uint32_t cnt)
{
	CHECK(ringsim_put_tmr(&fx->sim, type, ids, cnt) != NULL, "no room for the TMR");
	device_process_ring(fx->dev);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int main(void)
{
	uint8_t cdb[16];

	/* A LUN reset naming one of two held commands. */
	new_fixture(true, false);
	uint16_t a = read_held(1), b = read_held(2);
	CHECK(fx->disk.n_pending == 2, "two requests held (%u)", fx->disk.n_pending);
	tmr(TCMU_TMR_LUN_RESET, &a, 1);
	CHECK(abort_calls == 1 && abort_unknown == 0, "abort() calls %u (unknown %u), want 1", abort_calls,
	      abort_unknown);
	CHECK(status_of(a) == STATUS_TASK_ABORTED, "aborted READ answered 0x%x, want TASK ABORTED", status_of(a));
	/* No data of ours in its buffer: it is zeroed, or the kernel would hand
	 * the initiator what earlier commands left in the data area (the
	 * simulator poisoned it with 0xee). */
	const uint8_t *abuf = ringsim_data(&fx->sim, a);
	bool scrubbed = true;
	for (unsigned i = 0; i < 512; i++)
		scrubbed &= abuf[i] == 0;
	CHECK(scrubbed, "aborted READ's buffer holds stale bytes (0x%02x)", abuf[0]);
	CHECK(!fx_result(fx, b), "the other command was answered by the reset");
	finish(1, 0);
	CHECK_GOOD(fx, b);
	CHECK(fx->dev->stats.aborted == 1, "aborted count %llu", (unsigned long long)fx->dev->stats.aborted);
	/* The pool still works after the pinned io went back. */
	fx->disk.async = false;
	for (uint32_t i = 0; i < 8; i++) {
		uint16_t id = read_held(i);
		CHECK_GOOD(fx, id);
	}
	fx_free(fx);

	/* Ids not in flight: one completed before the TMR, one never issued. */
	new_fixture(true, false);
	uint16_t done = read_held(3);
	finish(0, 0);
	CHECK_GOOD(fx, done);
	uint16_t ids[] = { done, 4242 };
	tmr(TCMU_TMR_ABORT_TASK_SET, ids, 2);
	CHECK(abort_calls == 0, "abort() called for a command not in flight");
	CHECK(fx->dev->stats.aborted == 0, "nothing in flight was aborted");
	fx_free(fx);

	/* The handler ignores the abort and finishes later: success is GOOD,
	 * failure is TASK ABORTED (not the error of a cut-short call). */
	new_fixture(true, false);
	cancel_in_abort = false;
	uint16_t ok = read_held(6), bad = read_held(7);
	uint16_t both[] = { ok, bad };
	tmr(TCMU_TMR_LUN_RESET, both, 2);
	CHECK(abort_calls == 2 && !fx_result(fx, ok) && !fx_result(fx, bad), "ignored aborts left them running");
	finish(0, 0);
	finish(1, -EIO);
	CHECK_GOOD(fx, ok);
	CHECK(status_of(bad) == STATUS_TASK_ABORTED, "failed aborted command answered 0x%x", status_of(bad));
	fx_free(fx);

	/* Hostile TMR entries: a count far beyond the entry, and an entry
	 * shorter than a TMR header.  Read within bounds (ASan), the device
	 * goes on serving. */
	new_fixture(true, false);
	uint16_t h1 = read_held(8);
	struct tcmu_tmr_entry *t = ringsim_put_tmr(&fx->sim, TCMU_TMR_LUN_RESET, &h1, 1);
	t->cmd_cnt = 0xffffffffu;
	device_process_ring(fx->dev);
	CHECK(status_of(h1) == STATUS_TASK_ABORTED, "the one id the entry holds is still read");
	ringsim_put_entry(&fx->sim, TCMU_OP_TMR, 16);
	device_process_ring(fx->dev);
	CHECK(!fx->dev->ring.broken, "a short TMR entry broke the ring");
	fx->disk.async = false;
	uint16_t after = read_held(9);
	CHECK_GOOD(fx, after);
	fx_free(fx);

	/* A READ into a buffer larger than its transfer (the handler sees a
	 * trimmed iov), aborted: all of the buffer is zeroed, not only the
	 * part the handler was given. */
	new_fixture(true, false);
	cdb_rw10(cdb, OP_READ_10, 11, 1);
	uint16_t big = ringsim_submit(&fx->sim, cdb, 4096, NULL);
	device_process_ring(fx->dev);
	CHECK(fx->disk.n_pending == 1 && fx->disk.pending[0].length == 512, "trimmed READ held");
	tmr(TCMU_TMR_ABORT_TASK, &big, 1);
	CHECK(status_of(big) == STATUS_TASK_ABORTED, "aborted trimmed READ answered 0x%x", status_of(big));
	CHECK(all_zero(ringsim_data(&fx->sim, big), 4096), "stale bytes left past the trimmed transfer");
	fx_free(fx);

	/* The handler can see the abort in the io's flags (a PARALLEL handler
	 * that records the io after abort() ran); a second TMR naming it does
	 * not call abort() again. */
	new_fixture(true, false);
	cancel_in_abort = false;
	uint16_t seen = read_held(12);
	CHECK(!(vhostio_io_flags(fx->disk.pending[0].io) & VHOSTIO_IO_ABORTED), "flag set before any TMR");
	tmr(TCMU_TMR_ABORT_TASK, &seen, 1);
	CHECK(vhostio_io_flags(fx->disk.pending[0].io) & VHOSTIO_IO_ABORTED, "VHOSTIO_IO_ABORTED not set");
	tmr(TCMU_TMR_LUN_RESET, &seen, 1);
	CHECK(abort_calls == 1, "abort() called %u times for one command", abort_calls);
	finish(0, -ECANCELED);
	CHECK(status_of(seen) == STATUS_TASK_ABORTED, "answered 0x%x", status_of(seen));
	fx_free(fx);

	/* A TMR naming every possible id, many twice over: one pass, the held
	 * command aborted once, the others untouched. */
	new_fixture(true, false);
	uint16_t keep = read_held(13), victim = read_held(14);
	enum { MANY = 3000 };
	static uint16_t many[MANY];
	for (unsigned i = 0; i < MANY; i++)
		many[i] = (uint16_t)(i % 1000 + 100);
	many[MANY - 1] = victim;
	tmr(TCMU_TMR_LUN_RESET, many, MANY);
	CHECK(abort_calls == 1 && status_of(victim) == STATUS_TASK_ABORTED && !fx_result(fx, keep),
	      "big TMR: %u abort() calls", abort_calls);
	finish(0, 0);
	CHECK_GOOD(fx, keep);
	fx_free(fx);

	/* A handler without abort(): the command is marked, runs to its end. */
	new_fixture(false, false);
	uint16_t n = read_held(10);
	tmr(TCMU_TMR_LUN_RESET, &n, 1);
	CHECK(abort_calls == 0 && !fx_result(fx, n), "no abort(): nothing is cut short");
	finish(0, 0);
	CHECK_GOOD(fx, n);
	fx_free(fx);

	return test_exit();
}
