/*
 * The SCSI layer on its own: a struct scsi_lun with a memory handler and a
 * completion callback of the test's, no ring, no device, no threads.  Proves
 * SCSI depends only on what a transport gives it (lun, cmd, iov, ops).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h" /* CHECK */
#include "lun.h"
#include "scsi_defs.h"
#include "sense.h"

#define BS 512u
#define NUM_LBAS 64u

static uint8_t disk[BS * NUM_LBAS];

struct done {
	bool called;
	struct vhostio_scsi_status st;
	uint32_t read_len;
};

struct test_io {
	struct vhostio_io io;
	struct iovec iov;
	struct done done;
};

static void record_completion(struct vhostio_io *io, const struct vhostio_scsi_status *st, uint32_t read_len)
{
	struct test_io *t = (struct test_io *)io;
	t->done.called = true;
	t->done.st = *st;
	t->done.read_len = read_len;
}

/* One thread, no queue: steps run where they are asked for. */
static void run_step_inline(struct vhostio_io *io, io_step_fn step)
{
	step(io);
}

static const struct scsi_lun_ops test_ops = {
	.complete = record_completion,
	.run_step = run_step_inline,
};

static int mem_read(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		    size_t length, uint64_t offset)
{
	(void)dev;
	(void)io;
	(void)iovcnt;
	memcpy(iov[0].iov_base, disk + offset, length);
	return 0;
}

static int mem_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		     size_t length, uint64_t offset)
{
	(void)dev;
	(void)io;
	(void)iovcnt;
	memcpy(disk + offset, iov[0].iov_base, length);
	return 0;
}

static int mem_open(struct vhostio_device *dev)
{
	(void)dev;
	return 0;
}

static const struct vhostio_handler mem = {
	VHOSTIO_HANDLER_INIT,
	.subtype = "mem",
	.open = mem_open,
	.read = mem_read,
	.write = mem_write,
};

static struct done run(struct scsi_lun *lun, const uint8_t *cdb, size_t cdb_len, void *buf, size_t len)
{
	struct test_io t;
	memset(&t, 0, sizeof(t));
	t.io.lun = lun;
	t.io.cmd.tag = 1;
	t.io.cmd.cdb_len = (uint8_t)cdb_len;
	memcpy(t.io.cmd.cdb, cdb, cdb_len);
	t.iov.iov_base = buf;
	t.iov.iov_len = len;
	t.io.iov = &t.iov;
	t.io.cmd.iov_cnt = len ? 1 : 0;
	t.io.cmd.data_len = len;
	scsi_io_reset(&t.io);
	scsi_execute(&t.io);
	CHECK(t.done.called, "opcode 0x%02x did not complete", cdb[0]);
	return t.done;
}

static uint32_t triple(const struct done *d)
{
	return (uint32_t)d->st.sense_key << 16 | (uint32_t)d->st.asc << 8 | d->st.ascq;
}

int main(void)
{
	struct scsi_lun lun;
	struct scsi_lun_params p = {
		.block_size = BS,
		.num_lbas = NUM_LBAS,
		.max_sectors = 128,
		.subtype = "mem",
		.serial = "feedc0de",
	};
	/* No device: the handle the handler gets is never dereferenced by SCSI. */
	CHECK(scsi_lun_init(&lun, &mem, NULL, &test_ops, &p) == 0, "lun init");
	scsi_lun_resolve_caps(&lun);

	uint8_t buf[4096];
	uint8_t inq[6] = { OP_INQUIRY, 0, 0, 0, 96, 0 };
	struct done d = run(&lun, inq, sizeof(inq), buf, 96);
	CHECK(d.st.status == VHOSTIO_SAM_GOOD && d.read_len == 66, "INQUIRY: status %u read_len %u", d.st.status,
	      d.read_len);
	CHECK(memcmp(&buf[16], "vhostio-mem     ", 16) == 0, "product '%.16s'", &buf[16]);

	uint8_t serial[6] = { OP_INQUIRY, 1, 0x80, 0, 255, 0 };
	d = run(&lun, serial, sizeof(serial), buf, 255);
	CHECK(d.st.status == VHOSTIO_SAM_GOOD && buf[3] == 8 && memcmp(&buf[4], "feedc0de", 8) == 0,
	      "VPD 0x80 from the LUN's identity");
	scsi_lun_set_serial(&lun, "0ddba11");
	d = run(&lun, serial, sizeof(serial), buf, 255);
	CHECK(buf[3] == 7 && memcmp(&buf[4], "0ddba11", 7) == 0, "VPD 0x80 after the transport re-set the serial");

	uint8_t w10[10];
	cdb_rw10(w10, OP_WRITE_10, 5, 2);
	uint8_t data[2 * BS];
	fill_pattern(data, sizeof(data), 11);
	d = run(&lun, w10, sizeof(w10), data, sizeof(data));
	CHECK(d.st.status == VHOSTIO_SAM_GOOD, "WRITE(10)");
	CHECK(check_pattern(disk + 5 * BS, 2 * BS, 11), "data reached the handler at LBA 5");

	uint8_t r10[10];
	cdb_rw10(r10, OP_READ_10, 5, 2);
	memset(buf, 0, sizeof(buf));
	d = run(&lun, r10, sizeof(r10), buf, 2 * BS);
	CHECK(d.st.status == VHOSTIO_SAM_GOOD && check_pattern(buf, 2 * BS, 11), "READ(10) returns it");

	/* COMPARE AND WRITE: a two-step emulation through ops->run_step. */
	uint8_t caw[16] = { OP_COMPARE_AND_WRITE };
	caw[9] = 5;
	caw[13] = 1;
	uint8_t cw[2 * BS];
	memcpy(cw, disk + 5 * BS, BS);
	memset(cw + BS, 0xab, BS);
	d = run(&lun, caw, sizeof(caw), cw, sizeof(cw));
	CHECK(d.st.status == VHOSTIO_SAM_GOOD && disk[5 * BS] == 0xab, "COMPARE AND WRITE match writes");
	d = run(&lun, caw, sizeof(caw), cw, sizeof(cw)); /* the compare half is stale now */
	CHECK(triple(&d) == 0x0e1d00 && d.st.info_valid && d.st.info == 0, "miscompare at offset 0, got %06x",
	      triple(&d));
	CHECK(!lun.caw_busy, "the COMPARE AND WRITE lock is free again");

	cdb_rw10(r10, OP_READ_10, NUM_LBAS - 1, 2);
	d = run(&lun, r10, sizeof(r10), buf, 2 * BS);
	CHECK(triple(&d) == 0x052100, "READ past the end: LBA OUT OF RANGE, got %06x", triple(&d));

	uint8_t bad[6] = { TEST_OP_UNSUPPORTED };
	d = run(&lun, bad, sizeof(bad), NULL, 0);
	CHECK(triple(&d) == 0x052000, "unknown opcode, got %06x", triple(&d));

	scsi_lun_set_unit_attention(&lun, ASC_CAPACITY_DATA_HAS_CHANGED);
	uint8_t tur[6] = { OP_TEST_UNIT_READY };
	d = run(&lun, tur, sizeof(tur), NULL, 0);
	CHECK(triple(&d) == 0x062a09, "pending UNIT ATTENTION reported once, got %06x", triple(&d));
	d = run(&lun, tur, sizeof(tur), NULL, 0);
	CHECK(d.st.status == VHOSTIO_SAM_GOOD, "and only once");

	/* The errno mapping lives with sense. */
	struct vhostio_scsi_status st = scsi_status_from_errno(-ENOSPC, true);
	CHECK(st.sense_key == VHOSTIO_SENSE_DATA_PROTECT && st.asc == 0x27 && st.ascq == 0x07, "ENOSPC");

	scsi_lun_destroy(&lun);
	return test_exit();
}
