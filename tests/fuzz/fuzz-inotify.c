/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: inotify_names_serial() (tcmu/inotify.c), the parser of what
 * a device's inotify watch on wwn/ reads, on the input as the bytes of one
 * read(): any event lengths, masks and names, truncated anywhere.  Also on
 * the input less its first byte, so that the buffer itself is misaligned.
 *
 * Checked: nothing outside the input is read (ASan: the input is an
 * exact-size copy), no misaligned access (UBSan), and the answer is that
 * of a reference parser written differently (fields read byte-wise at
 * their offsets, bounds in 64-bit arithmetic that cannot wrap).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>

#include "fuzz.h"
#include "inotify.h"

_Static_assert(sizeof(struct inotify_event) == 16 && offsetof(struct inotify_event, mask) == 4 &&
		       offsetof(struct inotify_event, len) == 12,
	       "the reference parser's idea of struct inotify_event");

static bool reference(const uint8_t *p, size_t n)
{
	uint64_t off = 0;
	while (off + 16 <= n) {
		uint32_t mask, len;
		memcpy(&mask, p + off + 4, 4);
		memcpy(&len, p + off + 12, 4);
		if (off + 16 + (uint64_t)len > n)
			return false;
		if (mask & IN_Q_OVERFLOW)
			return true;
		const uint8_t *name = p + off + 16;
		uint32_t k = 0;
		while (k < len && name[k])
			k++;
		if (k == 15 && memcmp(name, "vpd_unit_serial", 15) == 0)
			return true;
		off += 16 + (uint64_t)len;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t skip = 0; skip < 2 && skip <= size; skip++) {
		bool got = inotify_names_serial(data + skip, size - skip);
		bool want = reference(data + skip, size - skip);
		if (got != want)
			fuzz_fail("inotify_names_serial() on %zu bytes (+%zu) says %d, the reference %d", size - skip, skip,
				  got, want);
	}
	return 0;
}
