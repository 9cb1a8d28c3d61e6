/* Allocation lengths 0..255 for every data-in command we build: exactly
 * min(allocation length, response length) bytes arrive, never one more
 * (the buffer is bigger than asked and poisoned), and the residual is
 * reported through read_len. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

typedef void (*cdb_fn)(uint8_t *cdb, uint32_t alloc, uint8_t arg);

static void inquiry(uint8_t *c, uint32_t a, uint8_t page)
{
	memset(c, 0, 6);
	c[0] = OP_INQUIRY;
	c[1] = page == 0xff ? 0 : 1;
	c[2] = page == 0xff ? 0 : page;
	c[3] = (uint8_t)(a >> 8);
	c[4] = (uint8_t)a;
}

static void mode_sense6(uint8_t *c, uint32_t a, uint8_t pc)
{
	memset(c, 0, 6);
	c[0] = OP_MODE_SENSE_6;
	c[2] = (uint8_t)(pc << 6 | 0x3f);
	c[4] = (uint8_t)(a > 255 ? 255 : a); /* the reference call asks for all it can */
}

static void mode_sense10(uint8_t *c, uint32_t a, uint8_t llbaa)
{
	memset(c, 0, 10);
	c[0] = OP_MODE_SENSE_10;
	c[1] = llbaa ? 0x10 : 0;
	c[2] = 0x3f;
	c[7] = (uint8_t)(a >> 8);
	c[8] = (uint8_t)a;
}

static void request_sense(uint8_t *c, uint32_t a, uint8_t desc)
{
	memset(c, 0, 6);
	c[0] = OP_REQUEST_SENSE;
	c[1] = desc;
	c[4] = (uint8_t)(a > 255 ? 255 : a);
}

static void rsoc(uint8_t *c, uint32_t a, uint8_t options)
{
	memset(c, 0, 12);
	c[0] = OP_MAINTENANCE_IN;
	c[1] = MI_REPORT_SUPPORTED_OPCODES;
	c[2] = options;
	c[3] = OP_READ_10;
	for (int k = 0; k < 4; k++)
		c[6 + k] = (uint8_t)(a >> (24 - 8 * k));
}

static void sai16(uint8_t *c, uint32_t a, uint8_t sa)
{
	memset(c, 0, 16);
	c[0] = OP_SERVICE_ACTION_IN_16;
	c[1] = sa;
	for (int k = 0; k < 4; k++)
		c[10 + k] = (uint8_t)(a >> (24 - 8 * k));
}

#define SLACK 64

static void sweep(struct fixture *f, const char *what, cdb_fn make, uint8_t arg)
{
	uint8_t cdb[16];
	make(cdb, 4096, arg);
	uint16_t id = fx_run(f, cdb, 4096, NULL);
	CHECK_GOOD(f, id);
	const struct sim_result *r = fx_result(f, id);
	size_t full = r && (r->uflags & 2) ? r->read_len : 4096;
	uint8_t *ref = malloc(full);
	memcpy(ref, ringsim_data(&f->sim, id), full);

	for (uint32_t alloc = 0; alloc < 256; alloc++) {
		make(cdb, alloc, arg);
		id = fx_run(f, cdb, alloc + SLACK, NULL);
		r = fx_result(f, id);
		if (!r || r->status != 0) {
			CHECK(0, "%s alloc %u: status %u", what, alloc, r ? r->status : 0xff);
			continue;
		}
		size_t want = alloc < full ? alloc : full;
		const uint8_t *d = ringsim_data(&f->sim, id);
		CHECK((r->uflags & 2) && r->read_len == want, "%s alloc %u: read_len %u, want %zu", what, alloc,
		      r->read_len, want);
		CHECK(memcmp(d, ref, want) == 0, "%s alloc %u: data differs", what, alloc);
		/* Past the data the buffer is untouched (only READ_LEN goes back),
		 * except with no data at all: the kernel reads READ_LEN 0 as "the
		 * whole buffer", so the stale bytes are zeroed instead. */
		uint8_t untouched = want ? 0xee : 0x00;
		for (size_t i = want; i < alloc + SLACK; i++) {
			if (d[i] != untouched) {
				CHECK(0, "%s alloc %u: byte %zu overwritten", what, alloc, i);
				break;
			}
		}
	}
	free(ref);
}

int main(void)
{
	struct fixture *f = fx_new_with(&memdisk_unmap_handler, 64 * 1024, 4096, 512, true);
	static const uint8_t pages[] = { 0xff, 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
	for (size_t i = 0; i < sizeof(pages); i++)
		sweep(f, "INQUIRY", inquiry, pages[i]);
	for (uint8_t pc = 0; pc < 3; pc++)
		sweep(f, "MODE SENSE 6", mode_sense6, pc);
	sweep(f, "MODE SENSE 10", mode_sense10, 0);
	sweep(f, "MODE SENSE 10 LLBAA", mode_sense10, 1);
	sweep(f, "REQUEST SENSE", request_sense, 0);
	sweep(f, "REQUEST SENSE DESC", request_sense, 1);
	sweep(f, "REPORT SUPPORTED OPCODES all", rsoc, 0);
	sweep(f, "REPORT SUPPORTED OPCODES all RCTD", rsoc, 0x80);
	sweep(f, "REPORT SUPPORTED OPCODES one", rsoc, 1);
	sweep(f, "REPORT SUPPORTED OPCODES one RCTD", rsoc, 0x81);
	sweep(f, "READ CAPACITY 16", sai16, SAI_READ_CAPACITY_16);
	/* GET LBA STATUS with several extents: alternate written and unwritten blocks. */
	for (int i = 0; i < 40; i += 2)
		memset(f->disk.mem + (size_t)i * 512, 0x5a, 512);
	sweep(f, "GET LBA STATUS", sai16, SAI_GET_LBA_STATUS);
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
