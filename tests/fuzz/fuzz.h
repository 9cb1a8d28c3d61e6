/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the fuzz targets share: libFuzzer's entry points (also called by
 * the plain-C replay driver, replay.c), a cursor that takes fields off the
 * front of an input and runs dry into zeroes, and fuzz_fail() for a broken
 * invariant (a crash the fuzzer records).
 */
#ifndef VHOSTIO_FUZZ_H
#define VHOSTIO_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional; the replay driver calls it when a target defines it. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the library does not hold: report and abort, so that
 * libFuzzer (or the replay) records the input as a crash. */
static inline __attribute__((noreturn, format(printf, 1, 2))) void fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz: invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline struct fuzz_in fuzz_in(const uint8_t *data, size_t size)
{
	return (struct fuzz_in){ data, size };
}

/* Copy up to n bytes, zero-filling what the input lacks. */
static inline void fuzz_take(struct fuzz_in *in, void *out, size_t n)
{
	size_t k = n < in->left ? n : in->left;
	if (k)
		memcpy(out, in->p, k);
	if (k < n)
		memset((uint8_t *)out + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v;
	fuzz_take(in, &v, 1);
	return v;
}

/* Little endian, as the ring and virtqueue fields are. */
static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint8_t b[2];
	fuzz_take(in, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint8_t b[4];
	fuzz_take(in, b, 4);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Point at the next n bytes (fewer if the input ends); advances past them. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;
	*got = n < in->left ? n : in->left;
	in->p += *got;
	in->left -= *got;
	return p;
}

#endif
