/* CDB validation common to all commands: NACA and other CONTROL bits,
 * reserved bits with field pointers, START STOP UNIT, SYNCHRONIZE CACHE
 * and PRE-FETCH ranges, READ/WRITE FUA native and emulated. */
#include <errno.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define LBAS 1024
#define BS 512

static uint32_t native_fua_flags;

static int fua_write(struct vhostio_device *dev, struct vhostio_io *io, const struct iovec *iov, int iovcnt,
		     size_t length, uint64_t offset)
{
	native_fua_flags |= vhostio_io_flags(io);
	return memdisk_handler.write(dev, io, iov, iovcnt, length, offset);
}

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, LBAS, BS, true);
	uint8_t cdb[16];
	uint8_t buf[BS] = { 0 };
	uint16_t id;

	/* NACA in the CONTROL byte, for 6-, 10-, 12- and 16-byte CDBs. */
	uint8_t tur[6] = { OP_TEST_UNIT_READY, 0, 0, 0, 0, 0x04 };
	id = fx_run(f, tur, 0, NULL);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 5, 2);
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	cdb[9] = 0x04;
	id = fx_run(f, cdb, BS, NULL);
	CHECK_FIELD(f, id, true, 9, 2);
	memset(cdb, 0, 12);
	cdb[0] = OP_READ_12;
	cdb[9] = 1;
	cdb[11] = 0x04;
	id = fx_run(f, cdb, BS, NULL);
	CHECK_FIELD(f, id, true, 11, 2);
	cdb_rw16(cdb, OP_READ_16, 0, 1);
	cdb[15] = 0x01; /* LINK */
	id = fx_run(f, cdb, BS, NULL);
	CHECK_FIELD(f, id, true, 15, 0);

	/* Reserved bits: TUR byte 2, READ 10 group byte high bits, INQUIRY CMDDT. */
	uint8_t tur2[6] = { OP_TEST_UNIT_READY, 0, 0x80, 0, 0, 0 };
	id = fx_run(f, tur2, 0, NULL);
	CHECK_FIELD(f, id, true, 2, 7);
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	cdb[6] = 0x20;
	id = fx_run(f, cdb, BS, NULL);
	CHECK_FIELD(f, id, true, 6, 5);
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	cdb[6] = 0x1f; /* group number is fine */
	id = fx_run(f, cdb, BS, NULL);
	CHECK_GOOD(f, id);
	uint8_t inq[6] = { OP_INQUIRY, 0x02, 0, 0, 36, 0 };
	id = fx_run(f, inq, 36, NULL);
	CHECK_FIELD(f, id, true, 1, 1);

	/* START STOP UNIT: start is a no-op; stop flushes unless NO_FLUSH; LOEJ and power conditions refused. */
	unsigned flushes = f->disk.flushes;
	uint8_t ssu[6] = { OP_START_STOP_UNIT, 0, 0, 0, 0x01, 0 };
	id = fx_run(f, ssu, 0, NULL);
	CHECK_GOOD(f, id);
	CHECK(f->disk.flushes == flushes, "START flushed");
	ssu[4] = 0x00;
	id = fx_run(f, ssu, 0, NULL);
	CHECK_GOOD(f, id);
	CHECK(f->disk.flushes == flushes + 1, "STOP did not flush");
	ssu[4] = 0x04;
	id = fx_run(f, ssu, 0, NULL);
	CHECK(f->disk.flushes == flushes + 1, "STOP with NO_FLUSH flushed");
	ssu[4] = 0x02;
	id = fx_run(f, ssu, 0, NULL);
	CHECK_FIELD(f, id, true, 4, 1);
	ssu[4] = 0x11;
	id = fx_run(f, ssu, 0, NULL);
	CHECK_FIELD(f, id, true, 4, 7);
	ssu[4] = 0x01;
	ssu[3] = 0x02;
	id = fx_run(f, ssu, 0, NULL);
	CHECK_FIELD(f, id, true, 3, 3);
	ssu[3] = 0;
	ssu[1] = 0x01; /* IMMED is fine */
	id = fx_run(f, ssu, 0, NULL);
	CHECK_GOOD(f, id);
	f->disk.fail_write = 0;

	/* SYNCHRONIZE CACHE 16 and PRE-FETCH 10/16: ranges, blocks 0 = to the end. */
	cdb_rw16(cdb, OP_SYNCHRONIZE_CACHE_16, LBAS - 1, 0);
	id = fx_run(f, cdb, 0, NULL);
	CHECK_GOOD(f, id);
	cdb_rw16(cdb, OP_SYNCHRONIZE_CACHE_16, LBAS, 0);
	id = fx_run(f, cdb, 0, NULL);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	cdb_rw16(cdb, OP_SYNCHRONIZE_CACHE_16, 1, 0xffffffff);
	id = fx_run(f, cdb, 0, NULL);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	cdb_rw10(cdb, OP_PRE_FETCH_10, 10, 10);
	cdb[1] = 0x02;
	id = fx_run(f, cdb, 0, NULL);
	CHECK_GOOD(f, id);
	cdb_rw16(cdb, OP_PRE_FETCH_16, UINT64_MAX, 1);
	id = fx_run(f, cdb, 0, NULL);
	CHECK_SENSE(f, id, SENSE_LBA_OUT_OF_RANGE);
	/* A failing flush is reported. */
	cdb_rw10(cdb, OP_SYNCHRONIZE_CACHE_10, 0, 0);
	f->disk.async = true;
	unsigned p = f->disk.n_pending;
	id = fx_run(f, cdb, 0, NULL);
	fx_finish(f, p, -EIO);
	CHECK_SENSE(f, id, 0x030c00);
	f->disk.async = false;

	/* Emulated FUA: only behind the write cache. */
	flushes = f->disk.flushes;
	cdb_rw16(cdb, OP_WRITE_16, 0, 1);
	cdb[1] = 0x08;
	id = fx_run(f, cdb, BS, buf);
	CHECK_GOOD(f, id);
	CHECK(f->disk.flushes == flushes + 1, "FUA WRITE 16 did not flush");
	cdb[0] = OP_READ_16; /* FUA READ: nothing to do */
	id = fx_run(f, cdb, BS, NULL);
	CHECK_GOOD(f, id);
	CHECK(f->disk.flushes == flushes + 1, "FUA READ flushed");
	fx_free(f);

	/* Native FUA: the flag reaches the handler, no flush. */
	struct vhostio_handler h = memdisk_handler;
	h.write = fua_write;
	h.native_caps = VHOSTIO_CAP_FUA;
	f = fx_new_with(&h, 64 * 1024, LBAS, BS, true);
	flushes = f->disk.flushes;
	cdb_rw10(cdb, OP_WRITE_10, 0, 1);
	id = fx_run(f, cdb, BS, buf);
	CHECK(native_fua_flags == 0, "FUA flag without FUA");
	cdb[1] = 0x18; /* DPO + FUA */
	id = fx_run(f, cdb, BS, buf);
	CHECK_GOOD(f, id);
	CHECK(native_fua_flags == VHOSTIO_IO_FUA && f->disk.flushes == flushes, "native FUA");
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
