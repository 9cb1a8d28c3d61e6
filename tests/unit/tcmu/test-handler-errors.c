/* Handler errors become the right sense, and the device keeps serving. */
#include <errno.h>

#include "fixture.h"
#include "scsi_defs.h"

int main(void)
{
	struct fixture *f = fx_new(64 * 1024, 1024, 512, false);
	uint8_t cdb[10], buf[512] = { 0 };
	uint16_t id;

	f->disk.fail_read = -EIO;
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	id = fx_run(f, cdb, 512, NULL);
	CHECK_SENSE(f, id, 0x031100); /* MEDIUM ERROR, UNRECOVERED READ ERROR */
	f->disk.fail_read = 0;

	f->disk.fail_write = -EIO;
	cdb_rw10(cdb, OP_WRITE_10, 0, 1);
	id = fx_run(f, cdb, 512, buf);
	CHECK_SENSE(f, id, 0x030c00); /* MEDIUM ERROR, WRITE ERROR */
	f->disk.fail_write = -ENOSPC;
	id = fx_run(f, cdb, 512, buf);
	CHECK_SENSE(f, id, 0x072707); /* DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT */
	f->disk.fail_write = -EROFS;
	id = fx_run(f, cdb, 512, buf);
	CHECK_SENSE(f, id, 0x072700); /* DATA PROTECT, WRITE PROTECTED */
	f->disk.fail_write = -EBUSY;
	id = fx_run(f, cdb, 512, buf);
	CHECK(fx_result(f, id) && fx_result(f, id)->status == 0x08, "-EBUSY should be BUSY status");
	f->disk.fail_write = -EINVAL;
	id = fx_run(f, cdb, 512, buf);
	CHECK_SENSE(f, id, SENSE_INTERNAL_TARGET_FAILURE);
	f->disk.fail_write = 0;

	/* Asynchronous failure with explicit sense. */
	f->disk.async = true;
	id = fx_run(f, cdb, 512, buf);
	struct vhostio_scsi_status st = { .status = 2, .sense_key = 0x3, .asc = 0x0c, .ascq = 0x00,
					  .info_valid = 1, .info = 0x1234 };
	vhostio_io_complete_scsi(f->disk.pending[0].io, &st);
	CHECK_SENSE(f, id, 0x030c00);
	const struct sim_result *r = fx_result(f, id);
	CHECK(r && (r->sense[0] & 0x80) && r->sense[5] == 0x12 && r->sense[6] == 0x34, "INFORMATION field");
	f->disk.async = false;

	id = fx_run(f, cdb, 512, buf);
	CHECK_GOOD(f, id);
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
