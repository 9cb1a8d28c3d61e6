/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SCSI command emulation shared by every handler (SPC-4 / SBC-3 subset).
 * TCMU passes everything but REPORT LUNS and reservations to userspace, so
 * this is what makes a handler look like a disk.  Every CDB field we act on
 * is validated first; handlers only see in-range byte I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vhostio/vhostio.h>

#include "device.h"
#include "discovery.h"
#include "log.h"
#include "scsi_defs.h"

#define VENDOR_ID "VHOSTIO"
#define PRODUCT_PREFIX "vhostio-"
/* IEEE company ID that LIO uses in NAA designators of its LUNs. */
#define LIO_OUI 0x001405

#define MAX_RESPONSE 512

/* ---- completion helpers ---- */

static void complete_good(struct vhostio_io *io)
{
	static const struct vhostio_scsi_status good = { .status = VHOSTIO_SAM_GOOD };
	device_complete(io, &good, UINT32_MAX);
}

static void complete_sense(struct vhostio_io *io, uint8_t key, uint16_t asc)
{
	struct vhostio_scsi_status st = {
		.status = VHOSTIO_SAM_CHECK_CONDITION,
		.sense_key = key,
		.asc = asc >> 8,
		.ascq = asc & 0xff,
	};
	device_complete(io, &st, UINT32_MAX);
}

/* ILLEGAL REQUEST, INVALID FIELD IN CDB, pointing at the offending byte/bit. */
static void complete_invalid_cdb_field(struct vhostio_io *io, uint16_t byte, int bit)
{
	struct vhostio_scsi_status st = {
		.status = VHOSTIO_SAM_CHECK_CONDITION,
		.sense_key = VHOSTIO_SENSE_ILLEGAL_REQUEST,
		.asc = ASC_INVALID_FIELD_IN_CDB >> 8,
		.ascq = ASC_INVALID_FIELD_IN_CDB & 0xff,
		.sks_valid = 1,
		/* C/D = 1: the error is in the CDB; BPV when a bit is named. */
		.sks = { (uint8_t)(0x40 | (bit >= 0 ? 0x08 | (bit & 7) : 0)),
			 (uint8_t)(byte >> 8), (uint8_t)byte },
	};
	device_complete(io, &st, UINT32_MAX);
}

static void complete_invalid_opcode(struct vhostio_io *io)
{
	complete_sense(io, VHOSTIO_SENSE_ILLEGAL_REQUEST, ASC_INVALID_COMMAND_OPERATION_CODE);
}

/* Copy a response into the data-in buffer, truncated to what fits. */
static size_t copy_to_data_in(struct vhostio_io *io, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	if (len > io->cmd.data_len)
		len = io->cmd.data_len;
	for (uint32_t i = 0; i < io->cmd.iov_cnt && done < len; i++) {
		size_t n = io->iov[i].iov_len;
		if (n > len - done)
			n = len - done;
		memcpy(io->iov[i].iov_base, buf + done, n);
		done += n;
	}
	return done;
}

/*
 * Return a response of 'len' bytes, honouring the CDB allocation length.
 * A transfer shorter than the buffer is reported so the initiator sees the
 * right residual.
 */
static void complete_data_in(struct vhostio_io *io, const uint8_t *buf, size_t len, size_t alloc_len)
{
	static const struct vhostio_scsi_status good = { .status = VHOSTIO_SAM_GOOD };
	if (len > alloc_len)
		len = alloc_len;
	size_t done = copy_to_data_in(io, buf, len);
	device_complete(io, &good, done < io->cmd.data_len ? (uint32_t)done : UINT32_MAX);
}

/* ---- INQUIRY ---- */

static void pad_ascii(uint8_t *dst, size_t width, const char *src)
{
	size_t n = strlen(src);
	memset(dst, ' ', width);
	memcpy(dst, src, n < width ? n : width);
}

/* The unit serial as configfs has it now; the device name if none is set. */
static void unit_serial(const struct vhostio_device *dev, char *buf, size_t len)
{
	if (dev->info.configfs_dir[0] && read_configfs_serial(&dev->info, buf, len) > 0)
		return;
	snprintf(buf, len, "%s", dev->info.serial[0] ? dev->info.serial : dev->info.name);
}

static size_t inquiry_standard(const struct vhostio_device *dev, uint8_t *b)
{
	/* PRODUCT IDENTIFICATION is 16 bytes: longer subtypes are cut. */
	char product[sizeof(PRODUCT_PREFIX) + sizeof(dev->info.subtype)];
	snprintf(product, sizeof(product), PRODUCT_PREFIX "%s", dev->info.subtype);

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

static const uint8_t supported_vpd_pages[] = { 0x00, 0x80, 0x83, 0xb0 };

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

static size_t vpd_block_limits(const struct vhostio_device *dev, uint8_t *b)
{
	put_be16(&b[2], 0x3c);
	put_be16(&b[6], 1);                      /* optimal transfer granularity */
	put_be32(&b[8], dev->info.max_sectors);  /* maximum transfer length */
	put_be32(&b[12], dev->info.max_sectors); /* optimal transfer length */
	return 0x3c + 4;
}

static void emulate_inquiry(struct vhostio_device *dev, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	uint8_t b[MAX_RESPONSE];
	size_t len;
	size_t alloc_len = get_be16(&cdb[3]);

	if (cdb[1] & 0xfe)
		return complete_invalid_cdb_field(io, 1, cdb[1] & 0x02 ? 1 : -1);
	if (!(cdb[1] & 0x01)) {
		if (cdb[2])
			return complete_invalid_cdb_field(io, 2, -1);
		len = inquiry_standard(dev, b);
		return complete_data_in(io, b, len, alloc_len);
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
		unit_serial(dev, serial, sizeof(serial));
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
		unit_serial(dev, serial, sizeof(serial));
		len = vpd_designators(serial, b);
		break;
	}
	case 0xb0:
		len = vpd_block_limits(dev, b);
		break;
	default:
		return complete_invalid_cdb_field(io, 2, -1);
	}
	complete_data_in(io, b, len, alloc_len);
}

/* ---- MODE SENSE ---- */

enum mode_page_control { PC_CURRENT = 0, PC_CHANGEABLE = 1, PC_DEFAULT = 2, PC_SAVED = 3 };

static size_t mode_page_error_recovery(const struct vhostio_device *dev, int pc, uint8_t *p)
{
	(void)dev;
	(void)pc;
	memset(p, 0, 12);
	p[0] = 0x01;
	p[1] = 10;
	return 12;
}

static size_t mode_page_caching(const struct vhostio_device *dev, int pc, uint8_t *p)
{
	memset(p, 0, 20);
	p[0] = 0x08;
	p[1] = 18;
	if (pc != PC_CHANGEABLE && dev->info.write_cache)
		p[2] |= 0x04; /* WCE */
	return 20;
}

static size_t mode_page_control(const struct vhostio_device *dev, int pc, uint8_t *p)
{
	(void)dev;
	memset(p, 0, 12);
	p[0] = 0x0a;
	p[1] = 10;
	if (pc != PC_CHANGEABLE) {
		p[3] = 0x10;              /* queue algorithm: unrestricted reordering */
		put_be16(&p[8], 0xffff);  /* busy timeout period: unlimited */
	}
	return 12;
}

static const struct {
	uint8_t code;
	size_t (*fill)(const struct vhostio_device *dev, int pc, uint8_t *p);
} mode_pages[] = {
	{ 0x01, mode_page_error_recovery },
	{ 0x08, mode_page_caching },
	{ 0x0a, mode_page_control },
};

static void emulate_mode_sense(struct vhostio_device *dev, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	bool ten = cdb[0] == OP_MODE_SENSE_10;
	bool dbd = cdb[1] & 0x08;
	int pc = cdb[2] >> 6;
	uint8_t page = cdb[2] & 0x3f;
	uint8_t subpage = cdb[3];
	size_t alloc_len = ten ? get_be16(&cdb[7]) : cdb[4];
	size_t hdr = ten ? 8 : 4;
	uint8_t b[MAX_RESPONSE];

	if (pc == PC_SAVED)
		return complete_sense(io, VHOSTIO_SENSE_ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
	if (subpage != 0x00 && !(page == 0x3f && subpage == 0xff))
		return complete_invalid_cdb_field(io, 3, -1);

	memset(b, 0, sizeof(b));
	size_t len = hdr;
	if (!dbd) {
		/* Short block descriptor: capacity (saturated) and block length. */
		uint64_t lbas = dev->info.num_lbas;
		put_be32(&b[len], lbas > 0xffffffffULL ? 0xffffffffU : (uint32_t)lbas);
		put_be32(&b[len + 4], dev->info.block_size & 0xffffff);
		len += 8;
	}
	bool found = false;
	for (size_t i = 0; i < sizeof(mode_pages) / sizeof(mode_pages[0]); i++) {
		if (page == 0x3f || page == mode_pages[i].code) {
			len += mode_pages[i].fill(dev, pc, &b[len]);
			found = true;
		}
	}
	if (!found)
		return complete_invalid_cdb_field(io, 2, 5);

	if (ten) {
		put_be16(&b[0], (uint16_t)(len - 2));
		b[7] = dbd ? 0 : 8;
	} else {
		b[0] = (uint8_t)(len - 1);
		b[3] = dbd ? 0 : 8;
	}
	complete_data_in(io, b, len, alloc_len);
}

/* ---- READ CAPACITY ---- */

static void emulate_read_capacity_10(struct vhostio_device *dev, struct vhostio_io *io)
{
	uint8_t b[8];
	uint64_t last = dev->info.num_lbas - 1;
	put_be32(&b[0], last > 0xffffffffULL ? 0xffffffffU : (uint32_t)last);
	put_be32(&b[4], dev->info.block_size);
	complete_data_in(io, b, sizeof(b), sizeof(b));
}

static void emulate_service_action_in(struct vhostio_device *dev, struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	if ((cdb[1] & 0x1f) != SAI_READ_CAPACITY_16)
		return complete_invalid_cdb_field(io, 1, 4);

	uint8_t b[32] = { 0 };
	put_be64(&b[0], dev->info.num_lbas - 1);
	put_be32(&b[8], dev->info.block_size);
	complete_data_in(io, b, sizeof(b), get_be32(&cdb[10]));
}

/* ---- data commands ---- */

struct rw_args {
	uint64_t lba;
	uint32_t blocks;
	bool fua;
	uint8_t protect;   /* RDPROTECT / WRPROTECT */
};

static struct rw_args decode_rw(const uint8_t *cdb)
{
	struct rw_args a = { 0 };
	switch (cdb[0]) {
	case OP_READ_6:
	case OP_WRITE_6:
		a.lba = get_be24(&cdb[1]) & 0x1fffff;
		a.blocks = cdb[4] ? cdb[4] : 256;  /* 0 means 256 in 6-byte CDBs */
		return a;
	case OP_READ_10:
	case OP_WRITE_10:
	case OP_SYNCHRONIZE_CACHE_10:
		a.lba = get_be32(&cdb[2]);
		a.blocks = get_be16(&cdb[7]);
		break;
	case OP_READ_12:
	case OP_WRITE_12:
		a.lba = get_be32(&cdb[2]);
		a.blocks = get_be32(&cdb[6]);
		break;
	default: /* 16-byte */
		a.lba = get_be64(&cdb[2]);
		a.blocks = get_be32(&cdb[10]);
		break;
	}
	a.fua = cdb[1] & 0x08;
	a.protect = cdb[1] >> 5;
	return a;
}

static bool lba_range_ok(const struct vhostio_device *dev, uint64_t lba, uint64_t blocks)
{
	return lba <= dev->info.num_lbas && blocks <= dev->info.num_lbas - lba;
}

static void finish_handler_call(struct vhostio_io *io, int ret)
{
	if (ret != VHOSTIO_IO_ASYNC)
		vhostio_io_complete(io, ret);
}

static void emulate_read_write(struct vhostio_device *dev, struct vhostio_io *io, bool is_write)
{
	struct rw_args a = decode_rw(io->cmd.cdb);
	uint32_t bs = dev->info.block_size;

	io->is_write = is_write;
	if (a.protect)
		return complete_invalid_cdb_field(io, 1, 7);
	if (!lba_range_ok(dev, a.lba, a.blocks))
		return complete_sense(io, VHOSTIO_SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if (a.blocks == 0)
		return complete_good(io);

	uint64_t length = (uint64_t)a.blocks * bs;
	if (io->cmd.data_len < length) {
		/* The kernel sized the buffer from the CDB; a shorter one is a bad entry. */
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "cmd_id %u: %zu-byte buffer for %llu-byte transfer",
				   io->cmd.cmd_id, io->cmd.data_len, (unsigned long long)length);
		return complete_sense(io, VHOSTIO_SENSE_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	}
	/* FUA: write then flush, needed only behind a volatile write cache. */
	io->flush_after = is_write && a.fua && dev->info.write_cache && dev->handler->flush;

	int ret;
	if (is_write)
		ret = dev->handler->write(dev, io, io->iov, (int)io->cmd.iov_cnt, length, a.lba * bs);
	else
		ret = dev->handler->read(dev, io, io->iov, (int)io->cmd.iov_cnt, length, a.lba * bs);
	finish_handler_call(io, ret);
}

static void emulate_synchronize_cache(struct vhostio_device *dev, struct vhostio_io *io)
{
	struct rw_args a = decode_rw(io->cmd.cdb);
	uint64_t blocks = a.blocks ? a.blocks : dev->info.num_lbas - (a.lba < dev->info.num_lbas ? a.lba : 0);
	if (!lba_range_ok(dev, a.lba, blocks))
		return complete_sense(io, VHOSTIO_SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	io->is_write = true;
	if (!dev->handler->flush)
		return complete_good(io);
	finish_handler_call(io, dev->handler->flush(dev, io));
}

static void emulate_request_sense(struct vhostio_io *io)
{
	const uint8_t *cdb = io->cmd.cdb;
	if (cdb[1] & 0x01)  /* DESC: descriptor format is not offered */
		return complete_invalid_cdb_field(io, 1, 0);
	/* No deferred errors are kept: report NO SENSE. */
	struct vhostio_scsi_status none = { 0 };
	uint8_t b[18];
	size_t n = sense_format_fixed(&none, b, sizeof(b));
	complete_data_in(io, b, n, cdb[4]);
}

void scsi_execute(struct vhostio_device *dev, struct vhostio_io *io)
{
	io->is_write = false;
	io->flush_after = false;
	if (log_enabled(VHOSTIO_LOG_DEBUG))
		vhostio_device_log(dev, VHOSTIO_LOG_DEBUG, "cmd_id %u: opcode 0x%02x, %zu bytes", io->cmd.cmd_id,
				   io->cmd.cdb[0], io->cmd.data_len);
	switch (io->cmd.cdb[0]) {
	case OP_TEST_UNIT_READY:
	case OP_START_STOP_UNIT:
		return complete_good(io);
	case OP_REQUEST_SENSE:
		return emulate_request_sense(io);
	case OP_INQUIRY:
		return emulate_inquiry(dev, io);
	case OP_MODE_SENSE_6:
	case OP_MODE_SENSE_10:
		return emulate_mode_sense(dev, io);
	case OP_READ_CAPACITY_10:
		return emulate_read_capacity_10(dev, io);
	case OP_SERVICE_ACTION_IN_16:
		return emulate_service_action_in(dev, io);
	case OP_READ_6:
	case OP_READ_10:
	case OP_READ_12:
	case OP_READ_16:
		return emulate_read_write(dev, io, false);
	case OP_WRITE_6:
	case OP_WRITE_10:
	case OP_WRITE_12:
	case OP_WRITE_16:
		return emulate_read_write(dev, io, true);
	case OP_SYNCHRONIZE_CACHE_10:
	case OP_SYNCHRONIZE_CACHE_16:
		return emulate_synchronize_cache(dev, io);
	default:
		if (log_enabled(VHOSTIO_LOG_DEBUG))
			vhostio_device_log(dev, VHOSTIO_LOG_DEBUG, "unsupported opcode 0x%02x", io->cmd.cdb[0]);
		return complete_invalid_opcode(io);
	}
}
