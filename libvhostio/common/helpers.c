/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exported helpers for handlers and tools (<vhostio/common.h>). */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <vhostio/common.h>

static int digit_value(char c, unsigned base)
{
	unsigned v;
	if (c >= '0' && c <= '9')
		v = (unsigned)(c - '0');
	else if (c >= 'a' && c <= 'f')
		v = (unsigned)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		v = (unsigned)(c - 'A' + 10);
	else
		return -1;
	return v < base ? (int)v : -1;
}

int vhostio_parse_size(const char *s, size_t len, uint64_t *out)
{
	unsigned base = 10;
	size_t i = 0, digits;
	uint64_t v = 0;

	if (!s)
		return -EINVAL;
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (digits = i; i < len; i++) {
		int d = digit_value(s[i], base);
		if (d < 0)
			break;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return -ERANGE;
		v = v * base + (unsigned)d;
	}
	if (i == digits)
		return -EINVAL;
	unsigned shift = 0;
	if (i < len) {
		switch (s[i]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		}
		if (shift) {
			i++;
			if (i < len && s[i] == 'i')
				i++;
		}
		if (i < len && (s[i] == 'B' || s[i] == 'b') && (shift || base == 10))
			i++;
	}
	if (i != len)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

void vhostio_set_reason(char **reason, const char *fmt, ...)
{
	if (!reason)
		return;
	/* Format first: the arguments may point into the earlier reason. */
	char *text;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	free(*reason);
	*reason = text;
}
