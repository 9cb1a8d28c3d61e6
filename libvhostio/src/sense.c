/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sense data formatting (SPC-4 4.5.3, fixed format). */
#include <string.h>

#include "ring.h"
#include "scsi_defs.h"

#define FIXED_SENSE_LEN 18

size_t sense_format_fixed(const struct vhostio_scsi_status *st, uint8_t *buf, size_t buf_len)
{
	uint8_t s[FIXED_SENSE_LEN] = { 0 };

	s[0] = 0x70; /* current error, fixed format */
	s[2] = st->sense_key & 0x0f;
	if (st->info_valid) {
		s[0] |= 0x80; /* VALID: INFORMATION field is meaningful */
		put_be32(&s[3], (uint32_t)st->info);
	}
	s[7] = FIXED_SENSE_LEN - 8; /* additional sense length */
	s[12] = st->asc;
	s[13] = st->ascq;
	if (st->sks_valid) {
		memcpy(&s[15], st->sks, 3);
		s[15] |= 0x80; /* SKSV */
	}
	size_t n = buf_len < sizeof(s) ? buf_len : sizeof(s);
	memcpy(buf, s, n);
	return n;
}
