/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Leveled logging to stderr or an application-supplied sink. */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int log_level = VHOSTIO_LOG_INFO;
static vhostio_log_fn log_sink;
static void *log_sink_opaque;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void vhostio_set_log_level(int level)
{
	if (level < VHOSTIO_LOG_ERROR)
		level = VHOSTIO_LOG_ERROR;
	if (level > VHOSTIO_LOG_DEBUG)
		level = VHOSTIO_LOG_DEBUG;
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int vhostio_get_log_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int log_enabled(int level)
{
	return level <= vhostio_get_log_level();
}

void vhostio_set_log_fn(vhostio_log_fn fn, void *opaque)
{
	pthread_mutex_lock(&log_lock);
	log_sink = fn;
	log_sink_opaque = opaque;
	pthread_mutex_unlock(&log_lock);
}

void log_emitv(int level, const char *prefix, const char *fmt, va_list ap)
{
	char msg[1024];
	int n = 0;
	if (prefix)
		n = snprintf(msg, sizeof(msg), "%s: ", prefix);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);

	pthread_mutex_lock(&log_lock);
	if (log_sink) {
		log_sink(log_sink_opaque, level, msg);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		struct tm tm;
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld vhostio %-5s %s\n", tm.tm_hour, tm.tm_min,
			tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], msg);
	}
	pthread_mutex_unlock(&log_lock);
}

void vhostio_log(int level, const char *fmt, ...)
{
	if (level < VHOSTIO_LOG_ERROR || !log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_emitv(level, NULL, fmt, ap);
	va_end(ap);
}

/* log_ratelimit_ok() on the two words of a limit, wherever they live: a struct log_ratelimit inside the
 * library, or a plugin's struct vhostio_ratelimit (<vhostio/handler.h>). */
static bool ratelimit_pass(uint64_t *state, unsigned *missed, uint64_t now_ns, unsigned burst, uint64_t interval_ns,
			   unsigned *suppressed)
{
	*suppressed = 0;
	if (interval_ns) {
		/* Only equality matters: the number wraps after 2^32 intervals. */
		uint64_t interval = (uint32_t)(now_ns / interval_ns);
		uint64_t old = __atomic_load_n(state, __ATOMIC_RELAXED);
		for (;;) {
			uint64_t next;
			if (old >> 32 != interval)
				next = interval << 32 | 1;
			else if ((uint32_t)old < burst)
				next = old + 1; /* < burst <= UINT32_MAX: never carries into the interval */
			else {
				__atomic_fetch_add(missed, 1, __ATOMIC_RELAXED);
				return false;
			}
			/* A failed CAS reloads 'old': another thread passed or a new interval began. */
			if (__atomic_compare_exchange_n(state, &old, next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				break;
		}
	}
	*suppressed = __atomic_exchange_n(missed, 0, __ATOMIC_RELAXED);
	return true;
}

bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ns, unsigned burst, uint64_t interval_ns,
		      unsigned *suppressed)
{
	return ratelimit_pass(&rl->state, &rl->missed, now_ns, burst, interval_ns, suppressed);
}

static void log_emit(int level, const char *prefix, const char *fmt, ...) VHOSTIO_PRINTF(3, 4);
static void log_emit(int level, const char *prefix, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emitv(level, prefix, fmt, ap);
	va_end(ap);
}

bool log_ratelimited_emitv(uint64_t *state, unsigned *missed, int level, const char *prefix, const char *fmt,
			   va_list ap)
{
	unsigned dropped;
	if (level < VHOSTIO_LOG_ERROR || !log_enabled(level) ||
	    !ratelimit_pass(state, missed, clock_now_ns(), LOG_RATELIMIT_BURST, LOG_RATELIMIT_INTERVAL_NS, &dropped))
		return false;
	if (dropped)
		log_emit(level, prefix, LOG_SUPPRESSED_FMT, dropped);
	log_emitv(level, prefix, fmt, ap);
	return true;
}
