/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the inotify watch on a device's wwn/ directory read: was vpd_unit_serial written? */
#ifndef VHOSTIO_TCMU_INOTIFY_H
#define VHOSTIO_TCMU_INOTIFY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether the 'len' bytes at 'buf' (what one read() of an inotify fd
 * returned, any alignment) hold an event on "vpd_unit_serial" or an
 * IN_Q_OVERFLOW (events were lost, so the serial may have changed).  The
 * name is the event's name bytes up to the first NUL or ev->len, whichever
 * comes first: the kernel always NUL-pads, and for anything else a false
 * "yes" only costs one configfs read.  Parsing stops at the first event
 * whose header or name does not fit in what is left, so nothing past
 * buf + len is read, whatever ev->len says.
 */
bool inotify_names_serial(const void *buf, size_t len);

#endif
