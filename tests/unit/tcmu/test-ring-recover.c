/*
 * A ring that fails validation is recovered: once what was taken from it
 * has completed, the kernel resets it (the simulator here: queued commands
 * fail back BUSY, head and tail to 0), the device starts afresh and serves
 * again, counting the recovery.  Without a way to reset, it says so and
 * stays stalled (as before) instead of looping.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

static void garbage_len(struct ringsim *s, struct tcmu_cmd_entry *e, void *arg)
{
	(void)s;
	(void)arg;
	e->hdr.len_op = (e->hdr.len_op & 7) | 0x7ffff000u; /* longer than the ring */
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 1024, 512, false);
	f->dev->transport.reset_ring = ringsim_reset_ring;
	uint8_t cdb[10];

	/* A command in flight (held by the handler) when the ring breaks. */
	f->disk.async = true;
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	uint16_t held = fx_run(f, cdb, 512, NULL);
	CHECK(f->disk.n_pending == 1, "held read");
	uint16_t bad = ringsim_submit_mutated(&f->sim, cdb, 512, NULL, garbage_len, NULL);
	device_process_ring(f->dev);
	CHECK(f->dev->ring.broken, "garbage length not detected");
	CHECK(f->sim.resets == 0, "ring reset while a command it holds is in flight");

	/* The held command completes: the ring is drained, then reset. */
	fx_finish(f, 0, 0);
	f->disk.async = false;
	CHECK_GOOD(f, held);
	device_process_ring(f->dev);
	CHECK(f->sim.resets == 1, "ring reset %u times, want 1", f->sim.resets);
	CHECK(!f->dev->ring.broken && f->dev->stats.recoveries == 1, "device recovered (recoveries %llu)",
	      (unsigned long long)f->dev->stats.recoveries);
	const struct sim_result *r = fx_result(f, bad);
	CHECK(r && r->status == 0x08, "the corrupt command fails back BUSY for a retry");

	/* Served again, from the new head. */
	for (int i = 0; i < 3; i++) {
		cdb_rw10(cdb, OP_READ_10, (uint32_t)i, 1);
		uint16_t id = fx_run(f, cdb, 512, NULL);
		CHECK_GOOD(f, id);
	}
	/* And again when it breaks a second time. */
	ringsim_submit_mutated(&f->sim, cdb, 512, NULL, garbage_len, NULL);
	device_process_ring(f->dev);
	device_process_ring(f->dev);
	CHECK(f->dev->stats.recoveries == 2, "second recovery (%llu)", (unsigned long long)f->dev->stats.recoveries);
	uint16_t id = fx_run(f, cdb, 512, NULL);
	CHECK_GOOD(f, id);
	fx_free(f);

	/* No way to reset it (no configfs, no transport hook): logged, stays broken, no loop. */
	f = fx_new(64 * 1024, 1024, 512, false);
	ringsim_submit_mutated(&f->sim, cdb, 512, NULL, garbage_len, NULL);
	device_process_ring(f->dev);
	device_process_ring(f->dev);
	CHECK(f->dev->ring.broken && f->dev->recovery_failed && f->dev->stats.recoveries == 0,
	      "unrecoverable ring state");
	fx_free(f);
	return test_exit();
}
