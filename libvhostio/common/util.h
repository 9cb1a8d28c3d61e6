/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by the library's subsystems. */
#ifndef VHOSTIO_COMMON_UTIL_H
#define VHOSTIO_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether all 'len' bytes at 'p' are zero. */
static inline bool is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	/* Compare the buffer with itself shifted by one: no per-byte branch. */
	return len == 0 || (b[0] == 0 && __builtin_memcmp(b, b + 1, len - 1) == 0);
}

#endif
