/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing the events read from a device's inotify watch on wwn/ (see serial_changed() in loop.c). */
#include <string.h>
#include <sys/inotify.h>

#include "inotify.h"

#define SERIAL_NAME "vpd_unit_serial"

bool inotify_names_serial(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;

	/* Invariant: off <= len, so len - off never wraps. */
	while (len - off >= sizeof(struct inotify_event)) {
		struct inotify_event ev;
		/* A copy: after a hostile ev.len the next header need not be aligned. */
		memcpy(&ev, p + off, sizeof(ev));
		size_t rest = len - off - sizeof(ev);
		/* Not off + sizeof(ev) + ev.len <= len: that sum could wrap. */
		if (ev.len > rest)
			break; /* the kernel writes whole events; this is not one */
		/* Lost events: re-read rather than miss one. */
		if (ev.mask & IN_Q_OVERFLOW)
			return true;
		const char *name = (const char *)p + off + sizeof(ev);
		if (strnlen(name, ev.len) == sizeof(SERIAL_NAME) - 1 &&
		    memcmp(name, SERIAL_NAME, sizeof(SERIAL_NAME) - 1) == 0)
			return true;
		off += sizeof(ev) + ev.len;
	}
	return false;
}
