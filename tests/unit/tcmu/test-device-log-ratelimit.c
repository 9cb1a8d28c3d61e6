/* vhostio_device_log_ratelimited(), the plugins' rate-limited log: a burst of calls on one limit logs at most
 * the library's burst, the first message of the next interval is preceded by the count of those suppressed,
 * a disabled level spends nothing, and each limit (each call site of VHOSTIO_DEVICE_LOG_RATELIMITED()) is
 * separate. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <vhostio/handler.h>

#include "clock.h"
#include "fixture.h"
#include "log.h"

#define IV LOG_RATELIMIT_INTERVAL_NS
#define BURST LOG_RATELIMIT_BURST
#define FLOOD 1000

/* ---- what reaches the sink ---- */

static unsigned lines;            /* "1/test: message ..." */
static unsigned suppressed_lines; /* "1/test: N similar messages suppressed" */
static unsigned suppressed_total;
static int last_level;
static char last[256];

static void sink(void *opaque, int level, const char *msg)
{
	(void)opaque;
	unsigned n;
	if (strncmp(msg, "1/test: ", 8) != 0)
		return; /* the fixture's own lines */
	if (sscanf(msg + 8, "%u similar messages suppressed", &n) == 1) {
		suppressed_lines++;
		suppressed_total += n;
	} else {
		lines++;
	}
	last_level = level;
	snprintf(last, sizeof(last), "%s", msg + 8);
}

static void reset(void)
{
	lines = suppressed_lines = suppressed_total = 0;
	last[0] = '\0';
}

static uint64_t window(void)
{
	return clock_now_ns() / IV;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / LOG_NS_PER_S), (long)(ns % LOG_NS_PER_S) };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Into the next interval, a little past its start. */
static void next_window(void)
{
	uint64_t now = clock_now_ns();
	sleep_ns(IV - now % IV + 20000000);
}

/* Far enough from the end of the interval that a flood fits in it. */
static void roomy_window(void)
{
	if (IV - clock_now_ns() % IV < 2 * LOG_NS_PER_S)
		next_window();
}

static void site_one(struct vhostio_device *dev)
{
	VHOSTIO_DEVICE_LOG_RATELIMITED(dev, VHOSTIO_LOG_WARN, "site one %d", 1);
}

static void site_two(struct vhostio_device *dev)
{
	VHOSTIO_DEVICE_LOG_RATELIMITED(dev, VHOSTIO_LOG_WARN, "site two");
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 64, 512, false);
	struct vhostio_device *dev = f->dev;
	vhostio_set_log_fn(sink, NULL);
	vhostio_set_log_level(VHOSTIO_LOG_INFO);

	/* A flood inside one interval: exactly the burst passes, nothing says "suppressed" yet. */
	struct vhostio_ratelimit rl = VHOSTIO_RATELIMIT_INIT;
	roomy_window();
	uint64_t w = window();
	unsigned logged = 0;
	reset();
	for (int i = 0; i < FLOOD; i++)
		logged += (unsigned)vhostio_device_log_ratelimited(dev, &rl, VHOSTIO_LOG_WARN, "read %d failed", i);
	bool one_window = window() == w;
	CHECK(logged == lines, "returned 1 %u times, %u lines logged", logged, lines);
	if (one_window)
		CHECK(lines == BURST, "%u of %d messages in one interval logged, want %u", lines, FLOOD, BURST);
	else /* the machine stalled past the interval's end: a second burst may pass */
		CHECK(lines >= BURST && lines <= 2 * BURST, "%u of %d messages over two intervals logged", lines,
		      FLOOD);
	CHECK(suppressed_lines == (one_window ? 0u : 1u), "%u 'suppressed' lines during the flood", suppressed_lines);
	if (one_window)
		CHECK(strcmp(last, "read 9 failed") == 0, "last message logged: '%s'", last);
	CHECK(last_level == VHOSTIO_LOG_WARN, "level %d", last_level);

	/* The next interval: the first message passes, after one line with the count of those dropped. */
	next_window();
	unsigned flood_lines = lines, before_lines = suppressed_lines;
	CHECK(vhostio_device_log_ratelimited(dev, &rl, VHOSTIO_LOG_WARN, "read %d failed", FLOOD) == 1,
	      "first message of the next interval suppressed");
	CHECK(suppressed_lines == before_lines + 1, "%u 'suppressed' lines before it", suppressed_lines - before_lines);
	CHECK(suppressed_total == FLOOD - flood_lines, "reported %u suppressed (in all), want %u", suppressed_total,
	      FLOOD - flood_lines);
	CHECK(strcmp(last, "read 1000 failed") == 0, "the message after the count: '%s'", last);
	CHECK(vhostio_device_log_ratelimited(dev, &rl, VHOSTIO_LOG_WARN, "again") == 1 &&
		      suppressed_lines == before_lines + 1,
	      "the count reported twice");

	/* A level that is not enabled: nothing logged, nothing counted, no budget spent. */
	struct vhostio_ratelimit quiet = VHOSTIO_RATELIMIT_INIT;
	reset();
	for (int i = 0; i < 100; i++)
		CHECK(vhostio_device_log_ratelimited(dev, &quiet, VHOSTIO_LOG_DEBUG, "debug %d", i) == 0,
		      "debug message %d logged at level info", i);
	CHECK(vhostio_device_log_ratelimited(dev, &quiet, -1, "no level") == 0, "level -1 logged");
	CHECK(vhostio_device_log_ratelimited(dev, &quiet, VHOSTIO_LOG_DEBUG + 1, "no level") == 0, "level 4 logged");
	CHECK(lines == 0 && suppressed_lines == 0, "%u lines at a disabled level", lines + suppressed_lines);
	vhostio_set_log_level(VHOSTIO_LOG_DEBUG);
	roomy_window();
	w = window();
	logged = 0;
	for (int i = 0; i < (int)BURST; i++)
		logged += (unsigned)vhostio_device_log_ratelimited(dev, &quiet, VHOSTIO_LOG_DEBUG, "debug %d", i);
	if (window() == w)
		CHECK(logged == BURST, "after 100 disabled calls only %u of a burst passed", logged);
	CHECK(suppressed_lines == 0, "disabled calls counted as suppressed (%u lines)", suppressed_lines);
	vhostio_set_log_level(VHOSTIO_LOG_INFO);

	/* Each limit is its own: one flooded limit (one LUN's, one call site's) does not silence another. */
	struct vhostio_ratelimit other = VHOSTIO_RATELIMIT_INIT;
	roomy_window();
	w = window();
	reset();
	for (int i = 0; i < FLOOD; i++)
		site_one(dev);
	unsigned site_one_lines = lines;
	site_two(dev);
	CHECK(strcmp(last, "site two") == 0, "the second call site was silenced by the first: last '%s'", last);
	CHECK(vhostio_device_log_ratelimited(dev, &other, VHOSTIO_LOG_WARN, "other") == 1, "a fresh limit refused");
	site_one(dev);
	if (window() == w) {
		CHECK(site_one_lines == BURST, "site one logged %u of %d", site_one_lines, FLOOD);
		CHECK(strcmp(last, "other") == 0, "site one passed again in the same interval: '%s'", last);
	}

	vhostio_set_log_fn(NULL, NULL);
	fx_free(f);
	return test_exit();
}
