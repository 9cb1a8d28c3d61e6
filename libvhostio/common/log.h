/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Leveled logging inside the library (the public half is in <vhostio/common.h>). */
#ifndef VHOSTIO_COMMON_LOG_H
#define VHOSTIO_COMMON_LOG_H

#include <stdarg.h>

#include <vhostio/common.h>

/* Cheap check so hot paths skip formatting for suppressed levels. */
int log_enabled(int level);
/* Emit one message, "<prefix>: <message>" when prefix is not NULL. */
void log_emitv(int level, const char *prefix, const char *fmt, va_list ap) VHOSTIO_PRINTF(3, 0);

#endif
