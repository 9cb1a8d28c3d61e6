/* Out-of-order completion: the handler finishes commands in reverse and
 * shuffled order, from another thread; the kernel side, reclaiming in
 * ring order, still finds every cmd_id with its own status and data. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define N 48

struct finisher {
	struct fixture *f;
	unsigned order[N];
};

static void *finish_all(void *arg)
{
	struct finisher *fin = arg;
	for (unsigned i = 0; i < N; i++)
		fx_finish(fin->f, fin->order[i], 0);
	return NULL;
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 4096, 512, false);
	uint8_t cdb[10];
	uint16_t ids[N];

	/* Known content, written synchronously. */
	for (uint32_t i = 0; i < N; i++)
		fill_pattern(f->disk.mem + i * 8 * 512, 8 * 512, 100 + i);

	f->disk.async = true;
	for (uint32_t i = 0; i < N; i++) {
		cdb_rw10(cdb, OP_READ_10, i * 8, 8);
		ids[i] = ringsim_submit(&f->sim, cdb, 8 * 512, NULL);
	}
	device_process_ring(f->dev);
	CHECK(f->disk.n_pending == N, "handler holds %u of %u", f->disk.n_pending, N);
	CHECK(f->sim.kicks == 0, "nothing completed, so no kick expected (got %u)", f->sim.kicks);

	/* Reverse for the first half, a fixed shuffle for the rest. */
	struct finisher fin = { .f = f };
	for (unsigned i = 0; i < N / 2; i++)
		fin.order[i] = N / 2 - 1 - i;
	for (unsigned i = N / 2; i < N; i++)
		fin.order[i] = N / 2 + (i * 7) % (N / 2);
	pthread_t t;
	pthread_create(&t, NULL, finish_all, &fin);
	pthread_join(t, NULL);

	ringsim_reap(&f->sim);
	for (uint32_t i = 0; i < N; i++) {
		CHECK_GOOD(f, ids[i]);
		CHECK(check_pattern(ringsim_data(&f->sim, ids[i]), 8 * 512, 100 + i), "cmd %u data", ids[i]);
	}
	CHECK(!f->sim.broken, "kernel side saw an unknown cmd_id");
	CHECK(f->sim.last_cleaned == f->sim.head, "ring not fully reclaimed");
	CHECK(f->sim.kicks >= 1, "completions from another thread must kick");

	/* Mixed: a later command completes while an earlier one is still held. */
	f->disk.n_pending = 0;
	cdb_rw10(cdb, OP_READ_10, 0, 8);
	uint16_t slow = ringsim_submit(&f->sim, cdb, 8 * 512, NULL);
	device_process_ring(f->dev);
	f->disk.async = false;
	uint8_t tur[6] = { OP_TEST_UNIT_READY };
	uint16_t fast = fx_run(f, tur, 0, NULL);
	CHECK_GOOD(f, fast);
	CHECK(fx_result(f, slow) == NULL, "held command reported done");
	fx_finish(f, 0, 0);
	CHECK_GOOD(f, slow);
	CHECK(check_pattern(ringsim_data(&f->sim, slow), 8 * 512, 100), "held command data");
	CHECK(!f->sim.broken, "kernel side saw an unknown cmd_id");

	fx_free(f);
	return test_exit();
}
