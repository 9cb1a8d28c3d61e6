/* Block Limits, Block Device Characteristics and Logical Block
 * Provisioning VPD pages, READ CAPACITY 16 provisioning bits, and MODE
 * SENSE's block descriptors (short, long, none), DPOFUA and page controls,
 * with and without UNMAP. */
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static const uint8_t *vpd(struct fixture *f, uint8_t page)
{
	uint8_t cdb[6] = { OP_INQUIRY, 1, page, 0, 255, 0 };
	uint16_t id = fx_run(f, cdb, 255, NULL);
	CHECK_GOOD(f, id);
	return ringsim_data(&f->sim, id);
}

static const uint8_t *mode_sense10(struct fixture *f, uint8_t byte1, uint8_t page_byte, uint16_t *id)
{
	uint8_t cdb[10] = { OP_MODE_SENSE_10, byte1, page_byte, 0, 0, 0, 0, 1, 0, 0 };
	*id = fx_run(f, cdb, 256, NULL);
	return ringsim_data(&f->sim, *id);
}

int main(void)
{
	/* ---- with UNMAP (memdisk_unmap_handler), 4 KiB blocks ---- */
	struct fixture *f = fx_new_with(&memdisk_unmap_handler, 64 * 1024, 1 << 16, 4096, true);
	const uint8_t *d = vpd(f, 0xb0);
	CHECK(d[1] == 0xb0 && d[3] == 0x3c && (d[4] & 1), "B0 header and WSNZ");
	CHECK(d[5] == 255, "MAXIMUM COMPARE AND WRITE LENGTH %u", d[5]);
	CHECK(be32(d + 8) == 1024, "MAXIMUM TRANSFER LENGTH");
	CHECK(be32(d + 20) == (1u << 30) / 4096 && be32(d + 24) == 256 && be32(d + 28) == 1,
	      "unmap limits %u %u %u", be32(d + 20), be32(d + 24), be32(d + 28));
	CHECK(be64(d + 36) == (1u << 30) / 4096, "MAXIMUM WRITE SAME LENGTH");
	d = vpd(f, 0xb1);
	CHECK(d[1] == 0xb1 && d[3] == 0x3c && d[4] == 0 && d[5] == 1, "non-rotating medium");
	d = vpd(f, 0xb2);
	CHECK(d[1] == 0xb2 && d[3] == 4 && d[5] == (0x80 | 0x40 | 0x20 | 0x04) && (d[6] & 7) == 2,
	      "LBPU LBPWS LBPWS10 LBPRZ, thin: %02x %02x", d[5], d[6]);
	uint8_t rc16[16] = { OP_SERVICE_ACTION_IN_16, SAI_READ_CAPACITY_16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0 };
	uint16_t id = fx_run(f, rc16, 32, NULL);
	d = ringsim_data(&f->sim, id);
	CHECK(be64(d) == (1 << 16) - 1 && be32(d + 8) == 4096 && d[14] == 0xc0, "READ CAPACITY 16 LBPME LBPRZ");
	rc16[14] = 0x01; /* PMI is obsolete: refused */
	id = fx_run(f, rc16, 32, NULL);
	CHECK_FIELD(f, id, true, 14, 0);
	uint8_t rc10[10] = { OP_READ_CAPACITY_10, 0, 0, 0, 0, 1 }; /* LBA without PMI */
	id = fx_run(f, rc10, 8, NULL);
	CHECK_FIELD(f, id, true, 5, 0);

	/* MODE SENSE 10 with LLBAA: long descriptor; DPOFUA (FUA is offered). */
	d = mode_sense10(f, 0x10, 0x08, &id);
	CHECK_GOOD(f, id);
	CHECK((d[3] & 0x10) && (d[4] & 1) && d[7] == 16, "DPOFUA, LONGLBA, 16-byte descriptor");
	CHECK(be64(d + 8) == 1 << 16 && be32(d + 20) == 4096, "long block descriptor");
	CHECK(d[24] == 0x08 && (d[26] & 0x04), "caching page after it, WCE");
	d = mode_sense10(f, 0x00, 0x08, &id);
	CHECK(!(d[4] & 1) && d[7] == 8 && be32(d + 8) == 1 << 16 && (be32(d + 12) & 0xffffff) == 4096,
	      "short block descriptor");
	/* Default values of the control page: D_SENSE off even when current is on. */
	f->dev->lun.descriptor_sense = true;
	d = mode_sense10(f, 0x08, 0x0a, &id);
	CHECK((d[10] & 0x04) && d[11] == 0x10, "current control page: D_SENSE");
	d = mode_sense10(f, 0x08, 0x8a, &id);
	CHECK(!(d[10] & 0x04) && d[11] == 0x10 && d[16] == 0xff, "default control page");
	d = mode_sense10(f, 0x08, 0x4a, &id);
	CHECK(d[10] == 0x04 && d[11] == 0 && d[16] == 0, "changeable control page: only D_SENSE");
	d = mode_sense10(f, 0x08, 0xca, &id);
	CHECK(fx_sense_triple(f, id) == 0x053900, "saved values");
	f->dev->lun.descriptor_sense = false;
	/* All pages, all subpages; a subpage of its own is refused. */
	uint8_t ms6[6] = { OP_MODE_SENSE_6, 0x08, 0x3f, 0xff, 255, 0 };
	id = fx_run(f, ms6, 255, NULL);
	CHECK_GOOD(f, id);
	CHECK(ringsim_data(&f->sim, id)[0] == 3 + 12 + 20 + 12, "all pages");
	ms6[2] = 0x08;
	ms6[3] = 0x01;
	id = fx_run(f, ms6, 255, NULL);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 3, -1);
	ms6[1] = 0x10; /* LLBAA does not exist in MODE SENSE 6 */
	ms6[3] = 0;
	id = fx_run(f, ms6, 255, NULL);
	CHECK_FIELD(f, id, true, 1, 4);
	fx_free(f);

	/* ---- with UNMAP, 512-byte blocks: UNMAP held to 2^20 blocks, WRITE SAME to 1 GiB ---- */
	f = fx_new_with(&memdisk_unmap_handler, 64 * 1024, 1024, 512, false);
	d = vpd(f, 0xb0);
	CHECK(be32(d + 20) == 1u << 20 && be32(d + 24) == 256 && be32(d + 28) == 1 && be32(d + 32) == 0,
	      "512-byte unmap limits %u %u %u %08x", be32(d + 20), be32(d + 24), be32(d + 28), be32(d + 32));
	CHECK(be64(d + 36) == (1u << 30) / 512, "512-byte MAXIMUM WRITE SAME LENGTH");
	CHECK(be32(d + 12) == be32(d + 8) && d[6] == 0 && d[7] == 1 && be32(d + 16) == 0,
	      "OPTIMAL TRANSFER LENGTH = MAXIMUM, granularity 1, no prefetch limit");
	fx_free(f);

	/* ---- without UNMAP: no unmap limits, no provisioning ---- */
	f = fx_new(64 * 1024, 1024, 512, false);
	d = vpd(f, 0xb0);
	CHECK(be32(d + 20) == 0 && be32(d + 24) == 0 && be32(d + 28) == 0, "unmap limits without UNMAP");
	CHECK(be64(d + 36) == (1u << 30) / 512, "WRITE SAME is emulated, so it has a limit");
	d = vpd(f, 0xb2);
	CHECK(d[5] == 0 && d[6] == 0, "no provisioning without UNMAP");
	id = fx_run(f, rc16, 32, NULL);
	rc16[14] = 0;
	id = fx_run(f, rc16, 32, NULL);
	CHECK(ringsim_data(&f->sim, id)[14] == 0, "LBPME without UNMAP");
	d = mode_sense10(f, 0x08, 0x08, &id);
	CHECK(!(d[6] & 0x04), "WCE off");
	fx_free(f);

	/* ---- capped transfers: CAW length follows max_sectors; no CAW, no length ---- */
	struct vhostio_handler h = memdisk_handler;
	h.no_caps = VHOSTIO_CAP_COMPARE_AND_WRITE | VHOSTIO_CAP_WRITE_SAME;
	f = fx_new_with(&h, 64 * 1024, 1024, 512, false);
	d = vpd(f, 0xb0);
	CHECK(d[5] == 0 && be64(d + 36) == 0, "no CAW / WRITE SAME: zero limits");
	fx_free(f);
	return test_exit();
}
