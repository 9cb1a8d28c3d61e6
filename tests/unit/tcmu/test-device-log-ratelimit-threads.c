/* vhostio_device_log_ratelimited() from many threads on one limit (a PARALLEL handler's workers): no message
 * is lost from the accounting, every call either logs or is counted and reported once, and in one interval no
 * more than the burst pass however the threads race. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <vhostio/handler.h>

#include "clock.h"
#include "fixture.h"
#include "log.h"

#define IV LOG_RATELIMIT_INTERVAL_NS
#define BURST LOG_RATELIMIT_BURST
#define THREADS 8
#define CALLS 5000

static struct vhostio_ratelimit shared_rl = VHOSTIO_RATELIMIT_INIT;
static struct vhostio_device *dev;
static pthread_barrier_t start;

/* The library calls the sink under its log lock: these need no lock of their own. */
static unsigned lines, suppressed_lines, suppressed_total;

static void sink(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	unsigned n;
	if (strncmp(msg, "1/test: ", 8) != 0)
		return;
	if (sscanf(msg + 8, "%u similar messages suppressed", &n) == 1) {
		suppressed_lines++;
		suppressed_total += n;
	} else if (strncmp(msg + 8, "worker ", 7) == 0) {
		lines++;
	}
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / LOG_NS_PER_S), (long)(ns % LOG_NS_PER_S) };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void next_window(void)
{
	sleep_ns(IV - clock_now_ns() % IV + 20000000);
}

struct worker {
	pthread_t t;
	int id;
	unsigned logged;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < CALLS; i++)
		w->logged += (unsigned)vhostio_device_log_ratelimited(dev, &shared_rl, VHOSTIO_LOG_WARN,
								      "worker %d: request %d failed", w->id, i);
	return NULL;
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 64, 512, false);
	dev = f->dev;
	vhostio_set_log_fn(sink, NULL);
	vhostio_set_log_level(VHOSTIO_LOG_INFO);

	struct worker w[THREADS];
	CHECK(pthread_barrier_init(&start, NULL, THREADS + 1) == 0, "pthread_barrier_init");
	for (int i = 0; i < THREADS; i++) {
		w[i].id = i;
		w[i].logged = 0;
		CHECK(pthread_create(&w[i].t, NULL, hammer, &w[i]) == 0, "pthread_create");
	}
	if (IV - clock_now_ns() % IV < 2 * LOG_NS_PER_S)
		next_window();
	uint64_t first = clock_now_ns() / IV;
	pthread_barrier_wait(&start);
	unsigned logged = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(w[i].t, NULL);
		logged += w[i].logged;
	}
	uint64_t spanned = clock_now_ns() / IV - first + 1;

	CHECK(logged == lines, "the calls returned 1 %u times, %u lines reached the sink", logged, lines);
	CHECK(lines >= BURST && lines <= spanned * BURST, "%u of %d messages logged over %llu interval(s)", lines,
	      THREADS * CALLS, (unsigned long long)spanned);
	if (spanned == 1)
		CHECK(suppressed_lines == 0, "%u 'suppressed' lines inside one interval", suppressed_lines);

	/* Afterwards every call is accounted for: logged, or reported as suppressed exactly once. */
	next_window();
	CHECK(vhostio_device_log_ratelimited(dev, &shared_rl, VHOSTIO_LOG_WARN, "worker %d: after", -1) == 1,
	      "first message after the flood suppressed");
	CHECK(lines - 1 + suppressed_total == THREADS * CALLS, "%u logged + %u reported suppressed != %d calls",
	      lines - 1, suppressed_total, THREADS * CALLS);

	pthread_barrier_destroy(&start);
	vhostio_set_log_fn(NULL, NULL);
	fx_free(f);
	return test_exit();
}
