/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sense data (SPC-4 4.5) and the status a handler's -errno stands for. */
#ifndef VHOSTIO_SCSI_SENSE_H
#define VHOSTIO_SCSI_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vhostio/common.h>

/* Sense bytes for a status; each returns the length used. */
size_t sense_format_fixed(const struct vhostio_scsi_status *st, uint8_t *buf, size_t buf_len);
size_t sense_format_descriptor(const struct vhostio_scsi_status *st, uint8_t *buf, size_t buf_len);
size_t sense_format(const struct vhostio_scsi_status *st, bool descriptor, uint8_t *buf, size_t buf_len);

/* SCSI status for a handler's 0 / -errno result (e.g. -EIO -> MEDIUM ERROR). */
struct vhostio_scsi_status scsi_status_from_errno(int err, bool is_write);

#endif
