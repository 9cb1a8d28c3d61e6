/* A small ring wraps many times: the kernel side writes PAD entries at the
 * end, the library skips them, and every command's data is right. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

int main(void)
{
	/* 1000 bytes: entries of 128..176 bytes leave odd gaps at the end. */
	struct fixture *f = fx_new(1000, 4096, 512, false);
	uint8_t cdb[16];
	uint8_t *buf = malloc(16 * 512);

	for (uint32_t i = 0; i < 500; i++) {
		uint32_t blocks = 1 + i % 16; /* 1..4 iovs: entry size varies */
		uint32_t lba = (i * 37) % (4096 - 16);
		fill_pattern(buf, blocks * 512, i);
		cdb_rw10(cdb, OP_WRITE_10, lba, (uint16_t)blocks);
		uint16_t w = fx_run(f, cdb, blocks * 512, buf);
		CHECK_GOOD(f, w);
		cdb_rw16(cdb, OP_READ_16, lba, blocks);
		uint16_t r = fx_run(f, cdb, blocks * 512, NULL);
		CHECK_GOOD(f, r);
		CHECK(check_pattern(ringsim_data(&f->sim, r), blocks * 512, i), "round %u: data differs", i);
		if (check_failures)
			break;
	}
	CHECK(f->sim.pads > 10, "only %u PAD entries: the ring did not wrap", f->sim.pads);
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	CHECK(f->sim.last_cleaned == f->sim.head, "kernel reclaimed up to %u, head %u", f->sim.last_cleaned,
	      f->sim.head);
	CHECK(f->dev->ring.outstanding == 0, "commands left outstanding");

	free(buf);
	fx_free(f);
	return test_exit();
}
