/* log_ratelimit_ok(): 'burst' messages per interval, the rest counted and reported by the next one that
 * passes; exact under contention from many threads; log_ratelimited() emits the "suppressed" line. */
#include <pthread.h>
#include <string.h>

#include "fixture.h" /* CHECK */
#include "log.h"

#define S LOG_NS_PER_S

/* ---- threads: one interval, many callers ---- */

#define THREADS 8
#define CALLS 20000
#define BURST 7

static struct log_ratelimit shared_rl;
static unsigned passed[THREADS];

static void *hammer(void *arg)
{
	unsigned *mine = arg;
	for (int i = 0; i < CALLS; i++) {
		unsigned dropped;
		/* Every call in the same interval: now fixed at 3.5 s. */
		if (log_ratelimit_ok(&shared_rl, 3 * S + S / 2, BURST, S, &dropped))
			(*mine)++;
	}
	return NULL;
}

/* ---- log_ratelimited(): what reaches the sink ---- */

static int lines, suppressed_lines, debug_lines;
static unsigned suppressed_total;

static void sink(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	unsigned n;
	if (sscanf(msg, "%u similar messages suppressed", &n) == 1) {
		suppressed_lines++;
		suppressed_total += n;
	} else if (strcmp(msg, "bad entry") == 0) {
		lines++;
	} else if (strcmp(msg, "debug 1") == 0) {
		debug_lines++;
	}
}

static void noisy(void)
{
	log_ratelimited(VHOSTIO_LOG_WARN, "bad entry");
}

static void quiet(void)
{
	log_ratelimited(VHOSTIO_LOG_DEBUG, "debug %d", 1);
}

int main(void)
{
	struct log_ratelimit rl;
	unsigned dropped = 99;

	/* A zeroed struct: the first 'burst' messages pass, the rest do not. */
	memset(&rl, 0, sizeof(rl));
	for (int i = 0; i < 3; i++) {
		CHECK(log_ratelimit_ok(&rl, 100 + (uint64_t)i, 3, S, &dropped), "message %d of the burst refused", i);
		CHECK(dropped == 0, "message %d: %u suppressed before it", i, dropped);
	}
	for (int i = 0; i < 5; i++) {
		dropped = 99;
		CHECK(!log_ratelimit_ok(&rl, S - 1, 3, S, &dropped), "message %d past the burst passed", i);
		CHECK(dropped == 0, "a refused message sets *suppressed to 0, got %u", dropped);
	}
	/* The next interval: a new burst, the first message carries the count. */
	CHECK(log_ratelimit_ok(&rl, S, 3, S, &dropped) && dropped == 5, "next interval: got %u suppressed, want 5",
	      dropped);
	CHECK(log_ratelimit_ok(&rl, S + 1, 3, S, &dropped) && dropped == 0, "count reported twice (%u)", dropped);
	CHECK(log_ratelimit_ok(&rl, S + 2, 3, S, &dropped), "third of the new burst");
	CHECK(!log_ratelimit_ok(&rl, S + 3, 3, S, &dropped), "fourth of the new burst");
	/* A long quiet spell (many intervals, or the interval number wrapping) starts afresh. */
	CHECK(log_ratelimit_ok(&rl, 1000 * S, 3, S, &dropped) && dropped == 1, "after a pause: %u suppressed", dropped);
	CHECK(log_ratelimit_ok(&rl, (1ull << 32) * S + 1000 * S + 1, 3, S, &dropped), "after 2^32 intervals");

	/* interval 0: no limit at all. */
	memset(&rl, 0, sizeof(rl));
	for (int i = 0; i < 1000; i++)
		CHECK(log_ratelimit_ok(&rl, 5, 1, 0, &dropped) && dropped == 0, "interval 0 limited message %d", i);

	/* Many threads in one interval: exactly 'burst' pass, every other call is counted. */
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, hammer, &passed[i]) == 0, "pthread_create");
	unsigned total = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		total += passed[i];
	}
	CHECK(total == BURST, "%u messages passed from %d threads, want %d", total, THREADS, BURST);
	CHECK(log_ratelimit_ok(&shared_rl, 4 * S, BURST, S, &dropped), "next interval after the threads");
	CHECK(dropped == THREADS * CALLS - BURST, "%u suppressed reported, want %d", dropped, THREADS * CALLS - BURST);

	/* The macro: a flood gives at most two bursts (an interval boundary may fall inside it) and one line
	 * with the count before the first message after the drops. */
	vhostio_set_log_fn(sink, NULL);
	vhostio_set_log_level(VHOSTIO_LOG_INFO);
	for (int i = 0; i < 1000; i++)
		noisy();
	CHECK(lines >= (int)LOG_RATELIMIT_BURST && lines <= 2 * (int)LOG_RATELIMIT_BURST,
	      "%d of 1000 messages logged, want %u to %u", lines, LOG_RATELIMIT_BURST, 2 * LOG_RATELIMIT_BURST);
	CHECK(suppressed_lines <= 1, "%d 'suppressed' lines", suppressed_lines);
	/* A disabled level neither logs nor spends the budget. */
	for (int i = 0; i < 100; i++)
		quiet();
	CHECK(debug_lines == 0, "%d debug lines at level info", debug_lines);
	vhostio_set_log_level(VHOSTIO_LOG_DEBUG);
	int before = suppressed_lines;
	quiet();
	CHECK(debug_lines == 1 && suppressed_lines == before,
	      "after 100 calls at a disabled level: %d debug lines, %d 'suppressed' lines", debug_lines,
	      suppressed_lines - before);
	vhostio_set_log_fn(NULL, NULL);
	return test_exit();
}
