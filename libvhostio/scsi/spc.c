/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SPC-4 commands: TEST UNIT READY, REQUEST SENSE, INQUIRY and its VPD
 * pages, MODE SENSE / MODE SELECT, START STOP UNIT.  CDB bits outside the
 * command's usage map were refused by dispatch already.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "scsi_internal.h"

#define VENDOR_ID "VHOSTIO"
#define PRODUCT_PREFIX "vhostio-"
/* IEEE company ID that LIO uses in NAA designators of its LUNs. */
#define LIO_OUI 0x001405

static bool offers(const struct scsi_lun *lun, uint32_t cap)
{
	return lun->caps & cap;
}

void scsi_test_unit_ready(struct scsi_lun *lun, struct vhostio_io *io)
{
	(void)lun;
	scsi_complete_good(io);
}

/* ---- REQUEST SENSE ---- */

/*
 * No deferred errors are kept, so the only sense to report is a pending
 * unit attention, which reporting here clears (SPC-4 5.12).
 */
void scsi_request_sense(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	bool descriptor = cdb[1] & 0x01;
	struct vhostio_scsi_status st = { 0 };
	uint16_t ua = scsi_lun_take_unit_attention(lun);
	if (ua) {
		st.sense_key = VHOSTIO_SENSE_UNIT_ATTENTION;
		st.asc = ua >> 8;
		st.ascq = ua & 0xff;
	}
	uint8_t b[64];
	size_t n = sense_format(&st, descriptor, b, sizeof(b));
	scsi_complete_data_in(io, b, n, cdb[4]);
}

/* ---- INQUIRY ---- */

static void pad_ascii(uint8_t *dst, size_t width, const char *src)
{
	size_t n = strlen(src);
	memset(dst, ' ', width);
	memcpy(dst, src, n < width ? n : width);
}

/* The serial under its lock: the transport may re-set it at any time. */
static void unit_serial(struct scsi_lun *lun, char *buf, size_t len)
{
	if (lun->ops->refresh_serial)
		lun->ops->refresh_serial(lun);
	pthread_mutex_lock(&lun->serial_lock);
	snprintf(buf, len, "%s", lun->serial);
	pthread_mutex_unlock(&lun->serial_lock);
}

static size_t inquiry_standard(const struct scsi_lun *lun, uint8_t *b)
{
	/* PRODUCT IDENTIFICATION is 16 bytes: longer subtypes are cut. */
	char product[sizeof(PRODUCT_PREFIX) + sizeof(lun->subtype)];
	snprintf(product, sizeof(product), PRODUCT_PREFIX "%s", lun->subtype);

	memset(b, 0, 66);
	b[0] = 0x00;          /* peripheral qualifier 0, direct-access block device */
	b[2] = 0x06;          /* SPC-4 */
	b[3] = 0x12;          /* HISUP, response data format 2 */
	b[4] = 66 - 5;        /* additional length */
	b[7] = 0x02;          /* CMDQUE */
	pad_ascii(&b[8], 8, VENDOR_ID);
	pad_ascii(&b[16], 16, product);
	pad_ascii(&b[32], 4, "0001");
	/* Version descriptors: SAM-5, SPC-4, SBC-3. */
	put_be16(&b[58], 0x00a0);
	put_be16(&b[60], 0x0460);
	put_be16(&b[62], 0x04c0);
	return 66;
}

static size_t vpd_designators(const char *serial, uint8_t *b)
{
	size_t len = 4;

	/* NAA IEEE Registered Extended: OUI, then the serial's hex digits. */
	uint8_t *d = b + len;
	d[0] = 0x01;                /* binary */
	d[1] = 0x03;                /* LU association, NAA */
	d[3] = 16;
	uint8_t *naa = d + 4;
	memset(naa, 0, 16);
	naa[0] = 0x60 | (LIO_OUI >> 20 & 0x0f);
	naa[1] = LIO_OUI >> 12 & 0xff;
	naa[2] = LIO_OUI >> 4 & 0xff;
	naa[3] = (LIO_OUI & 0x0f) << 4;
	unsigned nibble = 7;        /* next free nibble: low half of naa[3] */
	for (const char *p = serial; *p && nibble < 32; p++) {
		if (!isxdigit((unsigned char)*p))
			continue;
		unsigned v = (unsigned)(isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10);
		naa[nibble / 2] |= (uint8_t)(nibble % 2 ? v : v << 4);
		nibble++;
	}
	len += 4 + 16;

	/* T10 vendor ID: vendor, then the unit serial. */
	d = b + len;
	size_t serial_len = strlen(serial);
	if (serial_len > 200)
		serial_len = 200;
	d[0] = 0x02;                /* ASCII */
	d[1] = 0x01;                /* LU association, T10 vendor ID */
	d[3] = (uint8_t)(8 + serial_len);
	pad_ascii(d + 4, 8, VENDOR_ID);
	memcpy(d + 12, serial, serial_len);
	len += 4 + 8 + serial_len;

	put_be16(&b[2], (uint16_t)(len - 4));
	return len;
}

/* Block Limits (SBC-3 6.5.3). */
static size_t vpd_block_limits(const struct scsi_lun *lun, uint8_t *b)
{
	put_be16(&b[2], 0x3c);
	b[4] = 0x01;                             /* WSNZ: WRITE SAME of 0 blocks is refused */
	if (offers(lun, VHOSTIO_CAP_COMPARE_AND_WRITE))
		b[5] = (uint8_t)scsi_max_caw_blocks(lun);
	put_be16(&b[6], 1);                      /* optimal transfer granularity */
	put_be32(&b[8], lun->max_sectors);  /* maximum transfer length */
	put_be32(&b[12], lun->max_sectors); /* optimal transfer length */
	if (offers(lun, VHOSTIO_CAP_UNMAP)) {
		put_be32(&b[20], scsi_max_unmap_blocks(lun));
		put_be32(&b[24], SCSI_MAX_UNMAP_DESCRIPTORS);
		put_be32(&b[28], 1);             /* optimal unmap granularity: one block */
	}
	if (offers(lun, VHOSTIO_CAP_WRITE_SAME))
		put_be64(&b[36], scsi_max_write_same_blocks(lun));
	return 0x3c + 4;
}

/* Block Device Characteristics (SBC-3 6.5.2). */
static size_t vpd_block_characteristics(uint8_t *b)
{
	put_be16(&b[2], 0x3c);
	put_be16(&b[4], 0x0001);                 /* non-rotating medium */
	return 0x3c + 4;
}

/* Logical Block Provisioning (SBC-3 6.5.4). */
static size_t vpd_provisioning(const struct scsi_lun *lun, uint8_t *b)
{
	put_be16(&b[2], 4);
	if (offers(lun, VHOSTIO_CAP_UNMAP)) {
		b[5] = 0x80 | 0x04;              /* LBPU, LBPRZ */
		if (offers(lun, VHOSTIO_CAP_WRITE_SAME))
			b[5] |= 0x40 | 0x20;     /* LBPWS, LBPWS10 */
		b[6] = 0x02;                     /* thin provisioned */
	}
	return 8;
}

static const uint8_t supported_vpd_pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };

void scsi_inquiry(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	uint8_t b[SCSI_MAX_RESPONSE];
	size_t len;
	size_t alloc_len = get_be16(&cdb[3]);

	if (!(cdb[1] & 0x01)) {
		if (cdb[2]) {
			scsi_complete_invalid_cdb_field(io, 2, -1);
			return;
		}
		len = inquiry_standard(lun, b);
		scsi_complete_data_in(io, b, len, alloc_len);
		return;
	}

	memset(b, 0, sizeof(b));
	b[0] = 0x00;      /* direct-access block device */
	b[1] = cdb[2];    /* page code */
	switch (cdb[2]) {
	case 0x00:
		put_be16(&b[2], sizeof(supported_vpd_pages));
		memcpy(&b[4], supported_vpd_pages, sizeof(supported_vpd_pages));
		len = 4 + sizeof(supported_vpd_pages);
		break;
	case 0x80: {
		char serial[256];
		unit_serial(lun, serial, sizeof(serial));
		size_t n = strlen(serial);
		if (n > 250)
			n = 250;
		put_be16(&b[2], (uint16_t)n);
		memcpy(&b[4], serial, n);
		len = 4 + n;
		break;
	}
	case 0x83: {
		char serial[256];
		unit_serial(lun, serial, sizeof(serial));
		len = vpd_designators(serial, b);
		break;
	}
	case 0xb0:
		len = vpd_block_limits(lun, b);
		break;
	case 0xb1:
		len = vpd_block_characteristics(b);
		break;
	case 0xb2:
		len = vpd_provisioning(lun, b);
		break;
	default:
		scsi_complete_invalid_cdb_field(io, 2, -1);
		return;
	}
	scsi_complete_data_in(io, b, len, alloc_len);
}

/* ---- mode pages ---- */

enum mode_page_control { PC_CURRENT = 0, PC_CHANGEABLE = 1, PC_DEFAULT = 2, PC_SAVED = 3 };

#define CACHING_WCE 0x04       /* caching page byte 2 */
#define CONTROL_D_SENSE 0x04   /* control page byte 2 */

static size_t mode_page_error_recovery(const struct scsi_lun *lun, int pc, uint8_t *p)
{
	(void)lun;
	(void)pc;
	memset(p, 0, 12);
	p[0] = 0x01;
	p[1] = 10;
	return 12;
}

static size_t mode_page_caching(const struct scsi_lun *lun, int pc, uint8_t *p)
{
	memset(p, 0, 20);
	p[0] = 0x08;
	p[1] = 18;
	if (pc == PC_CHANGEABLE || scsi_lun_write_cache(lun))
		p[2] |= CACHING_WCE;
	return 20;
}

static size_t mode_page_control(const struct scsi_lun *lun, int pc, uint8_t *p)
{
	memset(p, 0, 12);
	p[0] = 0x0a;
	p[1] = 10;
	if (pc == PC_CHANGEABLE) {
		p[2] = CONTROL_D_SENSE;
		return 12;
	}
	if (pc == PC_CURRENT && scsi_lun_descriptor_sense(lun))
		p[2] |= CONTROL_D_SENSE;
	p[3] = 0x10;              /* queue algorithm: unrestricted reordering */
	put_be16(&p[8], 0xffff);  /* busy timeout period: unlimited */
	return 12;
}

static const struct mode_page {
	uint8_t code;
	uint8_t len;
	size_t (*fill)(const struct scsi_lun *lun, int pc, uint8_t *p);
} mode_pages[] = {
	{ 0x01, 12, mode_page_error_recovery },
	{ 0x08, 20, mode_page_caching },
	{ 0x0a, 12, mode_page_control },
};

#define N_MODE_PAGES (sizeof(mode_pages) / sizeof(mode_pages[0]))

static const struct mode_page *find_mode_page(uint8_t code)
{
	for (size_t i = 0; i < N_MODE_PAGES; i++)
		if (mode_pages[i].code == code)
			return &mode_pages[i];
	return NULL;
}

/* DEVICE-SPECIFIC PARAMETER of the mode parameter header (SBC-3 6.4.1). */
static uint8_t device_specific_parameter(const struct scsi_lun *lun)
{
	return offers(lun, VHOSTIO_CAP_FUA) ? 0x10 : 0x00; /* DPOFUA */
}

void scsi_mode_sense(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	bool ten = cdb[0] == OP_MODE_SENSE_10;
	bool dbd = cdb[1] & 0x08;
	bool llbaa = ten && (cdb[1] & 0x10);
	int pc = cdb[2] >> 6;
	uint8_t page = cdb[2] & 0x3f;
	uint8_t subpage = cdb[3];
	size_t alloc_len = ten ? get_be16(&cdb[7]) : cdb[4];
	size_t hdr = ten ? 8 : 4;
	uint8_t b[SCSI_MAX_RESPONSE];

	if (pc == PC_SAVED) {
		scsi_complete_sense(io, VHOSTIO_SENSE_ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
		return;
	}
	/* No subpages: subpage 0, or 0xff (all subpages) which then means just those. */
	if (subpage != 0x00 && subpage != 0xff) {
		scsi_complete_invalid_cdb_field(io, 3, -1);
		return;
	}

	memset(b, 0, sizeof(b));
	size_t len = hdr;
	size_t bd_len = 0;
	if (!dbd) {
		uint64_t lbas = scsi_lun_num_lbas(lun);
		if (llbaa) {
			put_be64(&b[len], lbas);
			put_be32(&b[len + 12], lun->block_size);
			bd_len = 16;
		} else {
			/* Short block descriptor: a capacity that does not fit reads as all ones. */
			put_be32(&b[len], lbas > 0xffffffffULL ? 0xffffffffU : (uint32_t)lbas);
			put_be32(&b[len + 4], lun->block_size & 0xffffff);
			bd_len = 8;
		}
		len += bd_len;
	}
	bool found = false;
	for (size_t i = 0; i < N_MODE_PAGES; i++) {
		if (page == 0x3f || page == mode_pages[i].code) {
			len += mode_pages[i].fill(lun, pc, &b[len]);
			found = true;
		}
	}
	if (!found) {
		scsi_complete_invalid_cdb_field(io, 2, 5);
		return;
	}

	if (ten) {
		put_be16(&b[0], (uint16_t)(len - 2));
		b[3] = device_specific_parameter(lun);
		b[4] = llbaa && bd_len ? 0x01 : 0x00; /* LONGLBA */
		put_be16(&b[6], (uint16_t)bd_len);
	} else {
		b[0] = (uint8_t)(len - 1);
		b[2] = device_specific_parameter(lun);
		b[3] = (uint8_t)bd_len;
	}
	scsi_complete_data_in(io, b, len, alloc_len);
}

/* ---- MODE SELECT ---- */

/* Highest bit set in a nonzero byte. */
static int top_bit(uint8_t v)
{
	int bit = 7;
	while (!(v & (1u << bit)))
		bit--;
	return bit;
}

/* The block descriptor may only restate the current geometry. */
static bool block_descriptor_ok(struct scsi_lun *lun, struct vhostio_io *io, const uint8_t *bd,
				size_t bd_off, bool long_lba)
{
	uint64_t lbas = scsi_lun_num_lbas(lun);
	if (long_lba) {
		uint64_t n = get_be64(bd);
		if (n && n != lbas) {
			scsi_complete_invalid_param_field(io, (uint16_t)bd_off, 7);
			return false;
		}
		if (get_be32(&bd[8])) {
			scsi_complete_invalid_param_field(io, (uint16_t)(bd_off + 8), 7);
			return false;
		}
		if (get_be32(&bd[12]) != lun->block_size) {
			scsi_complete_invalid_param_field(io, (uint16_t)(bd_off + 12), 7);
			return false;
		}
		return true;
	}
	uint32_t n = get_be32(bd);
	uint32_t cur = lbas > 0xffffffffULL ? 0xffffffffU : (uint32_t)lbas;
	if (n && n != cur) {
		scsi_complete_invalid_param_field(io, (uint16_t)bd_off, 7);
		return false;
	}
	if (bd[4]) { /* density code */
		scsi_complete_invalid_param_field(io, (uint16_t)(bd_off + 4), 7);
		return false;
	}
	if (get_be24(&bd[5]) != lun->block_size) {
		scsi_complete_invalid_param_field(io, (uint16_t)(bd_off + 5), 7);
		return false;
	}
	return true;
}

/*
 * The parameter list is validated whole before anything is applied, so a
 * refused list changes nothing.  Every byte of a page must equal its
 * current value except the bits the changeable mask allows.
 */
void scsi_mode_select(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	bool ten = cdb[0] == OP_MODE_SELECT_10;
	size_t param_len = ten ? get_be16(&cdb[7]) : cdb[4];
	size_t hdr = ten ? 8 : 4;
	uint8_t list[0x10000];

	if (!(cdb[1] & 0x10)) { /* PF: only the SPC page format is understood */
		scsi_complete_invalid_cdb_field(io, 1, 4);
		return;
	}
	if (param_len == 0) {
		scsi_complete_good(io);
		return;
	}
	if (param_len < hdr) {
		scsi_complete_param_list_length_error(io);
		return;
	}
	if (!scsi_buffer_covers(lun, io, param_len))
		return;
	scsi_data_out_copy(io, 0, list, param_len);

	/* Header: MODE DATA LENGTH is reserved here; medium type must be 0. */
	if (list[1]) {
		scsi_complete_invalid_param_field(io, 1, 7);
		return;
	}
	uint8_t dsp = ten ? list[3] : list[2];
	if (dsp && dsp != device_specific_parameter(lun)) { /* WP may not be set, DPOFUA may be echoed */
		scsi_complete_invalid_param_field(io, ten ? 3 : 2, top_bit(dsp));
		return;
	}
	bool long_lba = ten && (list[4] & 0x01);
	if (ten && (list[4] & 0xfe)) {
		scsi_complete_invalid_param_field(io, 4, top_bit(list[4] & 0xfe));
		return;
	}
	size_t bd_len = ten ? get_be16(&list[6]) : list[3];
	size_t bd_len_off = ten ? 6 : 3;
	if (bd_len != 0 && bd_len != (long_lba ? 16u : 8u)) {
		scsi_complete_invalid_param_field(io, (uint16_t)bd_len_off, -1);
		return;
	}
	if (bd_len > param_len - hdr) {
		scsi_complete_param_list_length_error(io);
		return;
	}
	if (bd_len && !block_descriptor_ok(lun, io, &list[hdr], hdr, long_lba))
		return;

	int new_wce = scsi_lun_write_cache(lun);
	int new_dsense = scsi_lun_descriptor_sense(lun);
	size_t off = hdr + bd_len;
	while (off < param_len) {
		const uint8_t *p = &list[off];
		if (param_len - off < 2) {
			scsi_complete_param_list_length_error(io);
			return;
		}
		if (p[0] & 0x40) { /* SPF: no subpages here */
			scsi_complete_invalid_param_field(io, (uint16_t)off, 6);
			return;
		}
		const struct mode_page *mp = find_mode_page(p[0] & 0x3f);
		if (!mp) {
			scsi_complete_invalid_param_field(io, (uint16_t)off, 5);
			return;
		}
		if (p[1] != mp->len - 2) {
			scsi_complete_invalid_param_field(io, (uint16_t)(off + 1), -1);
			return;
		}
		if (param_len - off < mp->len) {
			scsi_complete_param_list_length_error(io);
			return;
		}

		uint8_t cur[32], changeable[32];
		mp->fill(lun, PC_CURRENT, cur);
		mp->fill(lun, PC_CHANGEABLE, changeable);
		/* Byte 0 holds PS, reserved in MODE SELECT: only the page code counts. */
		for (size_t i = 2; i < mp->len; i++) {
			uint8_t diff = (uint8_t)((p[i] ^ cur[i]) & ~changeable[i]);
			if (diff) {
				scsi_complete_invalid_param_field(io, (uint16_t)(off + i), top_bit(diff));
				return;
			}
		}
		if (mp->code == 0x08)
			new_wce = !!(p[2] & CACHING_WCE);
		if (mp->code == 0x0a)
			new_dsense = !!(p[2] & CONTROL_D_SENSE);
		off += mp->len;
	}

	__atomic_store_n(&lun->descriptor_sense, (bool)new_dsense, __ATOMIC_RELAXED);
	bool cache_was_on = scsi_lun_write_cache(lun);
	scsi_lun_set_write_cache(lun, new_wce);
	/* Turning the cache off: what it held must be durable from now on. */
	if (cache_was_on && !new_wce && offers(lun, VHOSTIO_CAP_FLUSH)) {
		io->is_write = true;
		scsi_finish_handler_call(io, lun->handler->flush(lun->dev, io));
		return;
	}
	scsi_complete_good(io);
}

/* ---- START STOP UNIT ---- */

/*
 * There is no medium to spin: START is a no-op and STOP makes cached
 * writes durable unless NO_FLUSH says not to (SBC-3 5.25).  Power
 * conditions and LOEJ were refused by the usage map.
 */
void scsi_start_stop_unit(struct scsi_lun *lun, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	bool start = cdb[4] & 0x01;
	bool no_flush = cdb[4] & 0x04;

	if (start || no_flush || !offers(lun, VHOSTIO_CAP_FLUSH)) {
		scsi_complete_good(io);
		return;
	}
	io->is_write = true;
	scsi_finish_handler_call(io, lun->handler->flush(lun->dev, io));
}
