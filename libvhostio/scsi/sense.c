/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sense data formatting (SPC-4 4.5): fixed (0x70) and descriptor (0x72) format. */
#include <errno.h>
#include <string.h>

#include "scsi_defs.h"
#include "sense.h"

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

struct vhostio_scsi_status scsi_status_from_errno(int err, bool is_write)
{
	struct vhostio_scsi_status st = { .status = VHOSTIO_SAM_CHECK_CONDITION };
	uint16_t asc;

	switch (err) {
	case 0:
		return (struct vhostio_scsi_status){ .status = VHOSTIO_SAM_GOOD };
	case -EAGAIN:
	case -EBUSY:
		return (struct vhostio_scsi_status){ .status = VHOSTIO_SAM_BUSY };
	case -EIO:
	case -ENODATA:
		st.sense_key = VHOSTIO_SENSE_MEDIUM_ERROR;
		asc = is_write ? ASC_WRITE_ERROR : ASC_UNRECOVERED_READ_ERROR;
		break;
	case -ENOSPC:
	case -EDQUOT:
		st.sense_key = VHOSTIO_SENSE_DATA_PROTECT;
		asc = ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT;
		break;
	case -EROFS:
	case -EPERM:
	case -EACCES:
		st.sense_key = VHOSTIO_SENSE_DATA_PROTECT;
		asc = ASC_WRITE_PROTECTED;
		break;
	default:
		st.sense_key = VHOSTIO_SENSE_HARDWARE_ERROR;
		asc = ASC_INTERNAL_TARGET_FAILURE;
		break;
	}
	st.asc = asc >> 8;
	st.ascq = asc & 0xff;
	return st;
}

/* Descriptors of descriptor-format sense, walked within 'len'. */
static void decode_descriptors(const uint8_t *s, size_t len, struct vhostio_scsi_status *st)
{
	size_t end = 8 + (size_t)s[7];
	if (end > len)
		end = len;
	for (size_t off = 8; off + 2 <= end;) {
		const uint8_t *d = &s[off];
		size_t dlen = 2 + (size_t)d[1];
		if (off + dlen > end)
			break;
		if (d[0] == 0x00 && dlen >= 12 && (d[2] & 0x80)) { /* information, VALID */
			st->info_valid = 1;
			st->info = get_be64(&d[4]);
		} else if (d[0] == 0x02 && dlen >= 7 && (d[4] & 0x80)) { /* sense key specific, SKSV */
			st->sks_valid = 1;
			memcpy(st->sks, &d[4], 3);
			st->sks[0] &= 0x7f;
		}
		off += dlen;
	}
}

int vhostio_sense_decode(const uint8_t *s, size_t len, struct vhostio_scsi_status *st)
{
	if (!s || !st || len < 1)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->status = VHOSTIO_SAM_CHECK_CONDITION;
	uint8_t code = s[0] & 0x7f;
	if (code == 0x72 || code == 0x73) {
		if (len < 8)
			return -EINVAL;
		st->sense_key = s[1] & 0x0f;
		st->asc = s[2];
		st->ascq = s[3];
		decode_descriptors(s, len, st);
		return 0;
	}
	if (code != 0x70 && code != 0x71)
		return -EINVAL;
	if (len < 3)
		return -EINVAL;
	st->sense_key = s[2] & 0x0f;
	if ((s[0] & 0x80) && len >= 7) {
		st->info_valid = 1;
		st->info = get_be32(&s[3]);
	}
	/* ASC/ASCQ and the sense-key specific bytes, where the additional length reaches them. */
	size_t avail = len < 8 ? len : 8 + (size_t)s[7];
	if (avail > len)
		avail = len;
	if (avail >= 14) {
		st->asc = s[12];
		st->ascq = s[13];
	}
	if (avail >= 18 && (s[15] & 0x80)) {
		st->sks_valid = 1;
		memcpy(st->sks, &s[15], 3);
		st->sks[0] &= 0x7f;
	}
	return 0;
}
