/*
 * A handler that never completes a command must not hang removal or
 * shutdown: destroy waits a bounded time, then leaves the device as a
 * logged zombie (nothing freed that a late completion could touch).  The
 * watchdog reports commands in flight past cmd_time_out, once each.
 */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "fixture.h"
#include "scsi_defs.h"

static char last_log[1024];
static unsigned overdue_logs, zombie_logs;

static void capture(void *opaque, int level, const char *msg)
{
	(void)opaque, (void)level;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	if (strstr(msg, "in flight past"))
		overdue_logs++;
	if (strstr(msg, "zombie"))
		zombie_logs++;
}

int main(void)
{
	vhostio_set_log_fn(capture, NULL);
	struct fixture *f = fx_new(64 * 1024, 1024, 512, false);
	f->disk.async = true;
	uint8_t cdb[10];
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	uint16_t id = fx_run(f, cdb, 512, NULL);
	CHECK(f->disk.n_pending == 1, "held by the handler");

	/* The watchdog: past the (shortened) cmd_time_out, reported once. */
	f->dev->overdue_ns = 1000000; /* 1 ms */
	struct timespec ts = { 0, 5000000 };
	nanosleep(&ts, NULL);
	device_watchdog(f->dev, clock_now_ns());
	CHECK(overdue_logs == 1, "overdue command logged %u times: '%s'", overdue_logs, last_log);
	device_watchdog(f->dev, clock_now_ns());
	CHECK(overdue_logs == 1, "the same command logged again");

	/* Destroy gives up after its bound instead of waiting forever. */
	uint64_t t0 = clock_now_ns();
	bool freed = device_destroy(f->dev, 300);
	uint64_t ms = (clock_now_ns() - t0) / 1000000u;
	CHECK(!freed, "destroyed under a command the handler still owns");
	CHECK(ms >= 250 && ms < 5000, "gave up after %llu ms, want ~300", (unsigned long long)ms);
	CHECK(zombie_logs == 1, "zombie not logged: '%s'", last_log);

	/* The late completion lands in memory that is still there (ASan). */
	fx_finish(f, 0, 0);
	CHECK_GOOD(f, id);
	vhostio_set_log_fn(NULL, NULL);
	fx_free(f); /* now drained: freed for real */
	return test_exit();
}
