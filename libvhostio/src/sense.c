/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sense data formatting (SPC-4 4.5): fixed (0x70) and descriptor (0x72) format. */
#include <string.h>

#include "ring.h"
#include "scsi_defs.h"

#define FIXED_SENSE_LEN 18
/* Header, information descriptor, sense-key specific descriptor. */
#define DESC_SENSE_MAX (8 + 12 + 8)

static size_t copy_out(const uint8_t *s, size_t len, uint8_t *buf, size_t buf_len)
{
	size_t n = buf_len < len ? buf_len : len;
	memcpy(buf, s, n);
	return n;
}

size_t sense_format_fixed(const struct vhostio_scsi_status *st, uint8_t *buf, size_t buf_len)
{
	uint8_t s[FIXED_SENSE_LEN] = { 0 };

	s[0] = 0x70; /* current error, fixed format */
	s[2] = st->sense_key & 0x0f;
	/* The fixed INFORMATION field has 32 bits: a larger value cannot be
	 * reported here, so VALID stays clear (descriptor format can carry it). */
	if (st->info_valid && st->info <= UINT32_MAX) {
		s[0] |= 0x80;
		put_be32(&s[3], (uint32_t)st->info);
	}
	s[7] = FIXED_SENSE_LEN - 8; /* additional sense length */
	s[12] = st->asc;
	s[13] = st->ascq;
	if (st->sks_valid) {
		memcpy(&s[15], st->sks, 3);
		s[15] |= 0x80; /* SKSV */
	}
	return copy_out(s, sizeof(s), buf, buf_len);
}

size_t sense_format_descriptor(const struct vhostio_scsi_status *st, uint8_t *buf, size_t buf_len)
{
	uint8_t s[DESC_SENSE_MAX] = { 0 };
	size_t len = 8;

	s[0] = 0x72; /* current error, descriptor format */
	s[1] = st->sense_key & 0x0f;
	s[2] = st->asc;
	s[3] = st->ascq;
	if (st->info_valid) {
		uint8_t *d = &s[len];
		d[0] = 0x00;  /* information descriptor */
		d[1] = 0x0a;
		d[2] = 0x80;  /* VALID */
		put_be64(&d[4], st->info);
		len += 12;
	}
	if (st->sks_valid) {
		uint8_t *d = &s[len];
		d[0] = 0x02;  /* sense key specific descriptor */
		d[1] = 0x06;
		memcpy(&d[4], st->sks, 3);
		d[4] |= 0x80; /* SKSV */
		len += 8;
	}
	s[7] = (uint8_t)(len - 8); /* additional sense length */
	return copy_out(s, len, buf, buf_len);
}

size_t sense_format(const struct vhostio_scsi_status *st, bool descriptor, uint8_t *buf, size_t buf_len)
{
	return descriptor ? sense_format_descriptor(st, buf, buf_len) : sense_format_fixed(st, buf, buf_len);
}
