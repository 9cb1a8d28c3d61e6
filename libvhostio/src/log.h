/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VHOSTIO_LOG_H
#define VHOSTIO_LOG_H

#include <vhostio/handler.h>

/* Cheap check so hot paths skip formatting for suppressed levels. */
int log_enabled(int level);

#endif
