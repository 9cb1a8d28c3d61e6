/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VHOSTIO_VHOST_FABRIC_H
#define VHOSTIO_VHOST_FABRIC_H

/* Where configfs' target/ directory is; tests point it at a scratch tree.
 * NULL restores /sys/kernel/config/target.  Not thread-safe. */
void vhost_fabric_set_root(const char *root);

#endif
