/* Reconfiguration as the kernel sends it: a resize needs a handler that
 * can resize and raises CAPACITY DATA HAS CHANGED; a new config reopens
 * the handler (MEDIUM MAY HAVE CHANGED), falls back to the old one when
 * the new one cannot open, and reports NOT READY when neither opens; a
 * config for another subtype is refused; the write cache just changes. */
#include <errno.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

static int resizes;

static int accept_reconfig(struct vhostio_device *dev, const struct vhostio_reconfig *rc)
{
	(void)dev;
	if (rc->changed & VHOSTIO_RECONFIG_CONFIG)
		return -EOPNOTSUPP; /* reopen, please */
	if (rc->changed & VHOSTIO_RECONFIG_SIZE)
		resizes++;
	return 0;
}

static uint16_t tur(struct fixture *f)
{
	static const uint8_t cdb[6] = { OP_TEST_UNIT_READY };
	return fx_run(f, cdb, 0, NULL);
}

int main(void)
{
	struct vhostio_reconfig rc = { 0 };

	/* A handler without reconfig(): the resize is refused, nothing changes. */
	struct fixture *f = fx_new(64 * 1024, 1024, 512, false);
	rc = (struct vhostio_reconfig){ .changed = VHOSTIO_RECONFIG_SIZE, .size = 2048 * 512 };
	CHECK(device_reconfig(f->dev, &rc) == -EOPNOTSUPP, "resize without reconfig() accepted");
	CHECK(vhostio_device_num_lbas(f->dev) == 1024, "capacity changed anyway");
	CHECK_GOOD(f, tur(f));

	/* The write cache needs no handler help. */
	rc = (struct vhostio_reconfig){ .changed = VHOSTIO_RECONFIG_WRITE_CACHE, .write_cache = 1 };
	CHECK(device_reconfig(f->dev, &rc) == 0, "write cache change refused");
	CHECK(vhostio_device_write_cache(f->dev) == 1, "write cache not on");
	fx_free(f);

	struct vhostio_handler h = memdisk_handler;
	h.reconfig = accept_reconfig;
	f = fx_new_with(&h, 64 * 1024, 1024, 512, false);

	/* Resize: new capacity, one unit attention, then GOOD again. */
	rc = (struct vhostio_reconfig){ .changed = VHOSTIO_RECONFIG_SIZE, .size = 1536 * 512 };
	CHECK(device_reconfig(f->dev, &rc) == 0 && resizes == 1, "resize refused");
	CHECK(vhostio_device_num_lbas(f->dev) == 1536, "capacity %llu", (unsigned long long)vhostio_device_num_lbas(f->dev));
	CHECK_SENSE(f, tur(f), 0x062a09);
	CHECK_GOOD(f, tur(f));
	/* The same size again is no change: no unit attention. */
	CHECK(device_reconfig(f->dev, &rc) == 0 && resizes == 1, "no-op resize reached the handler");
	CHECK_GOOD(f, tur(f));
	rc.size = 100; /* less than a block */
	CHECK(device_reconfig(f->dev, &rc) == -EINVAL, "sub-block size accepted");

	/* New config: reopen on it. */
	unsigned opens = f->disk.opens, closes = f->disk.closes;
	rc = (struct vhostio_reconfig){ .changed = VHOSTIO_RECONFIG_CONFIG, .config = "mem/other" };
	CHECK(device_reconfig(f->dev, &rc) == 0, "config change refused");
	CHECK(f->disk.closes == closes + 1 && f->disk.opens == opens + 1, "not reopened");
	CHECK(strcmp(vhostio_device_config(f->dev), "other") == 0, "config now '%s'", vhostio_device_config(f->dev));
	CHECK_SENSE(f, tur(f), 0x062800);
	CHECK_GOOD(f, tur(f));

	/* Another subtype is never accepted. */
	rc.config = "file/x";
	CHECK(device_reconfig(f->dev, &rc) == -EINVAL, "subtype change accepted");
	rc.config = "memx/x";
	CHECK(device_reconfig(f->dev, &rc) == -EINVAL, "subtype prefix accepted");

	/* The new config cannot open: back on the old one, still serving. */
	f->disk.fail_open = -EIO;
	opens = f->disk.opens;
	rc.config = "mem/broken";
	CHECK(device_reconfig(f->dev, &rc) == -EIO, "failed reopen reported success");
	CHECK(strcmp(vhostio_device_config(f->dev), "other") == 0, "config not restored");
	CHECK(f->disk.opens == opens + 2, "old config not reopened");
	/* Neither opens: the LUN reports NOT READY instead of crashing. */
	CHECK_SENSE(f, tur(f), 0x020403);
	f->disk.fail_open = 0;
	rc.config = "mem/fixed";
	CHECK(device_reconfig(f->dev, &rc) == 0, "recovery reopen refused");
	CHECK_SENSE(f, tur(f), 0x062800);
	CHECK_GOOD(f, tur(f));
	fx_free(f);
	return test_exit();
}
