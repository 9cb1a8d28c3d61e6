/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Leveled logging inside the library (the public half is in <vhostio/common.h>). */
#ifndef VHOSTIO_COMMON_LOG_H
#define VHOSTIO_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <vhostio/common.h>

#include "clock.h"

/* Cheap check so hot paths skip formatting for suppressed levels. */
int log_enabled(int level);
/* Emit one message, "<prefix>: <message>" when prefix is not NULL. */
void log_emitv(int level, const char *prefix, const char *fmt, va_list ap) VHOSTIO_PRINTF(3, 0);

/*
 * Rate limit for a message that a peer can cause as often as it likes:
 * every error an initiator's command can provoke (a failed read or write,
 * a malformed ring entry, a short buffer).  Unlimited, a hostile or broken
 * initiator fills the journal, and since every message takes log_lock, it
 * slows the command threads of every other device too.
 *
 * At most 'burst' messages pass per 'interval_ns' (intervals are fixed
 * slices of the monotonic clock, so after a quiet spell up to twice 'burst'
 * may pass around a boundary); the others are only counted, and the next
 * message that passes gets that count in *suppressed, for one "N similar
 * messages suppressed" line before it.  interval_ns 0: no limit.
 *
 * Thread-safe without a lock: one atomic compare-and-swap for a message
 * that passes, one atomic add for one that does not.  A zeroed struct is
 * ready to use; keep one per call site (a static, as log_ratelimited()
 * below does), or one per device and call site (a member of the LUN's or
 * device's state) so that one noisy LUN does not hide another's errors.
 *
 * Use it for per-command errors in tcmu/ and scsi/, e.g. in scsi/io.c:
 *
 *	if (result < 0)
 *		log_ratelimited_dev(io->lun->dev, VHOSTIO_LOG_WARN, "%s failed: %s",
 *				    io->is_write ? "write" : "read", strerror(-result));
 *
 * or, with state of one's own (here per LUN) and other figures:
 *
 *	unsigned dropped;
 *	if (log_enabled(VHOSTIO_LOG_WARN) &&
 *	    log_ratelimit_ok(&lun->io_error_rl, clock_now_ns(), 5, 10 * LOG_NS_PER_S, &dropped)) {
 *		if (dropped)
 *			vhostio_device_log(lun->dev, VHOSTIO_LOG_WARN, "%u similar messages suppressed", dropped);
 *		vhostio_device_log(lun->dev, VHOSTIO_LOG_WARN, ...);
 *	}
 *
 * Not for messages about the daemon's own state (start, stop, a device
 * added or removed): those are rare and each one matters.
 *
 * Handler plugins get the same limit, on state of their own, through the
 * public vhostio_device_log_ratelimited() (<vhostio/handler.h>).
 */
struct log_ratelimit {
	uint64_t state;     /* interval number (low 32 bits of now / interval) << 32 | messages passed in it */
	unsigned missed;    /* suppressed since the last message that passed */
};

#define LOG_NS_PER_S 1000000000ull
/* The kernel's printk_ratelimit() figures: 10 messages per 5 seconds. */
#define LOG_RATELIMIT_BURST 10u
#define LOG_RATELIMIT_INTERVAL_NS (5 * LOG_NS_PER_S)

/*
 * true: log the message now, after a line for *suppressed messages when
 * that is not 0.  false: drop it (counted for the next one that passes).
 * now_ns is CLOCK_MONOTONIC time (clock_now_ns()).
 */
bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ns, unsigned burst, uint64_t interval_ns,
		      unsigned *suppressed);

/* The line that precedes the first message to pass after some were dropped. */
#define LOG_SUPPRESSED_FMT "%u similar messages suppressed"

/*
 * Rate-limited log_emitv() on the words of a limit held elsewhere (the
 * public struct vhostio_ratelimit of vhostio_device_log_ratelimited()):
 * LOG_RATELIMIT_BURST per LOG_RATELIMIT_INTERVAL_NS, as the macros below.
 * A level that is not enabled uses up nothing.  true: the message was
 * emitted, after a LOG_SUPPRESSED_FMT line when some had been dropped.
 */
bool log_ratelimited_emitv(uint64_t *state, unsigned *missed, int level, const char *prefix, const char *fmt,
			   va_list ap) VHOSTIO_PRINTF(5, 0);

/* One rate limit per call site, LOG_RATELIMIT_BURST per LOG_RATELIMIT_INTERVAL_NS. */
#define LOG_RATELIMITED_(level, emit_dropped, emit)                                                         \
	do {                                                                                                \
		static struct log_ratelimit log_rl_;                                                        \
		unsigned log_dropped_;                                                                      \
		if (log_enabled(level) && log_ratelimit_ok(&log_rl_, clock_now_ns(), LOG_RATELIMIT_BURST,   \
							   LOG_RATELIMIT_INTERVAL_NS, &log_dropped_)) {     \
			if (log_dropped_)                                                                   \
				emit_dropped;                                                               \
			emit;                                                                               \
		}                                                                                           \
	} while (0)
/* vhostio_log(level, fmt, ...), rate-limited. */
#define log_ratelimited(level, ...)                                                                         \
	LOG_RATELIMITED_(level, vhostio_log(level, LOG_SUPPRESSED_FMT, log_dropped_),                       \
			 vhostio_log(level, __VA_ARGS__))
/* vhostio_device_log(dev, level, fmt, ...), rate-limited (<vhostio/handler.h> declares it). */
#define log_ratelimited_dev(dev, level, ...)                                                                \
	LOG_RATELIMITED_(level,                                                                             \
			 vhostio_device_log(dev, level, LOG_SUPPRESSED_FMT, log_dropped_),                  \
			 vhostio_device_log(dev, level, __VA_ARGS__))

#endif
