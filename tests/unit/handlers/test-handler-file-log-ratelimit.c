/* handler_file under a burst of failing I/O (what a hostile initiator hammering a failing LUN causes) does not
 * log once per request: its "write of ... failed" lines are rate-limited, and the next interval says how many
 * were suppressed.  The writes fail with EFBIG: RLIMIT_FSIZE, lowered after open(), is below their offset. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "test-handler-plugin.h"

#define BS 4096
#define LBAS 1024         /* a 4 MiB LUN */
#define LIMIT (1u << 20)  /* RLIMIT_FSIZE: the first MiB stays writable */
#define BURST_WRITES 200

static unsigned handler_lines;     /* handler_file's own "write of N bytes at offset O: ..." */
static unsigned suppressed_total;  /* any "N similar messages suppressed" of the device */
static unsigned device_lines;      /* everything with the device's prefix */

static void sink(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	unsigned n;
	if (strncmp(msg, "1/test: ", 8) != 0)
		return;
	device_lines++;
	if (strncmp(msg + 8, "write of ", 9) == 0 && strstr(msg, "File too large"))
		handler_lines++;
	else if (sscanf(msg + 8, "%u similar messages suppressed", &n) == 1)
		suppressed_total += n;
}

static void next_window(void)
{
	uint64_t ns = LOG_RATELIMIT_INTERVAL_NS - clock_now_ns() % LOG_RATELIMIT_INTERVAL_NS + 20000000;
	struct timespec ts = { (time_t)(ns / LOG_NS_PER_S), (long)(ns % LOG_NS_PER_S) };
	while (nanosleep(&ts, &ts) != 0)
		;
}

int main(void)
{
	const struct vhostio_handler *h = load_handler("file");
	char *dir = make_tmpdir();
	char path[4200], cfg[4300];
	snprintf(path, sizeof(path), "%s/lun.img", dir);
	snprintf(cfg, sizeof(cfg), "file/%s;create;direct=off", path);
	struct fixture *f = fx_new_cfg(h, cfg, 256 * 1024, LBAS, BS, true);

	/* The file is sized at open(); from now on nothing may be written past LIMIT, and the signal for such a
	 * write is ignored so that it fails with EFBIG instead. */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = { LIMIT, LIMIT };
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < LIMIT) {
		fprintf(stderr, "RLIMIT_FSIZE is already below 1 MiB here\n");
		fx_free(f);
		rm_tree(dir);
		return T_EXIT_SKIP;
	}
	rl.rlim_cur = LIMIT;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0, "setrlimit: %s", strerror(errno));

	uint8_t *buf = malloc(BS);
	fill_pattern(buf, BS, 7);
	uint16_t id = write_blocks(f, 0, 1, buf, false);
	CHECK_GOOD(f, id); /* below the limit: fine */

	vhostio_set_log_fn(sink, NULL);
	vhostio_set_log_level(VHOSTIO_LOG_INFO);
	unsigned failed = 0;
	uint64_t first = clock_now_ns() / LOG_RATELIMIT_INTERVAL_NS;
	for (int i = 0; i < BURST_WRITES; i++) {
		id = write_blocks(f, LIMIT / BS + (uint64_t)(i % 256), 1, buf, false);
		const struct sim_result *r = fx_result(f, id);
		failed += r && r->status == 2;
	}
	uint64_t spanned = clock_now_ns() / LOG_RATELIMIT_INTERVAL_NS - first + 1;
	CHECK(failed == BURST_WRITES, "only %u of %d writes past RLIMIT_FSIZE failed", failed, BURST_WRITES);
	CHECK(handler_lines >= 1, "handler_file logged none of its failed writes");
	CHECK(handler_lines <= spanned * LOG_RATELIMIT_BURST,
	      "handler_file logged %u of %u failed writes over %llu interval(s)", handler_lines, failed,
	      (unsigned long long)spanned);
	/* The library's own "write failed" is limited too: all told a few lines, not one or two per request. */
	CHECK(device_lines <= spanned * 4 * LOG_RATELIMIT_BURST, "%u log lines for %u failed writes", device_lines,
	      failed);

	/* The next interval: one more failure is logged, after the count of those left out. */
	unsigned before = handler_lines;
	next_window();
	suppressed_total = 0;
	id = write_blocks(f, LIMIT / BS, 1, buf, false);
	CHECK(fx_result(f, id) && fx_result(f, id)->status == 2, "write past the limit succeeded");
	CHECK(handler_lines == before + 1, "the next interval's failure was not logged");
	CHECK(suppressed_total > 0, "no 'similar messages suppressed' line in the next interval");

	vhostio_set_log_fn(NULL, NULL);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_FSIZE, &rl);
	free(buf);
	fx_free(f);
	rm_tree(dir);
	return test_exit();
}
