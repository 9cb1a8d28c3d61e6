/* REPORT SUPPORTED OPERATION CODES agrees with what is executed: every
 * listed command runs, every other opcode is unknown, every CDB bit
 * outside a command's usage map is refused with a field pointer to it,
 * and commands whose capability is absent are neither listed nor run. */
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

/* Commands whose byte 1 bits 7-5 are the obsolete SCSI-2 LUN field. */
static bool scsi2_lun_ignored(uint8_t opcode)
{
	static const uint8_t ops[] = {
		OP_TEST_UNIT_READY, OP_REQUEST_SENSE, OP_READ_6, OP_WRITE_6, OP_INQUIRY,
		OP_MODE_SELECT_6, OP_MODE_SENSE_6, OP_START_STOP_UNIT, OP_READ_CAPACITY_10,
		OP_PRE_FETCH_10, OP_SYNCHRONIZE_CACHE_10, OP_MODE_SELECT_10, OP_MODE_SENSE_10,
	};
	for (size_t i = 0; i < sizeof(ops); i++)
		if (ops[i] == opcode)
			return true;
	return false;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rsoc(struct fixture *f, uint8_t options, uint8_t opcode, uint16_t sa, uint32_t alloc)
{
	uint8_t cdb[12] = { OP_MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPCODES, options, opcode, (uint8_t)(sa >> 8), (uint8_t)sa,
			    (uint8_t)(alloc >> 24), (uint8_t)(alloc >> 16), (uint8_t)(alloc >> 8), (uint8_t)alloc };
	return fx_run(f, cdb, alloc, NULL);
}

struct listed {
	uint8_t opcode;
	bool has_sa;
	uint16_t sa;
	uint16_t cdb_len;
};

static unsigned list_all(struct fixture *f, struct listed *out)
{
	uint16_t id = rsoc(f, 0, 0, 0, 4096);
	CHECK_GOOD(f, id);
	const uint8_t *d = ringsim_data(&f->sim, id);
	uint32_t len = be32(d);
	CHECK(len % 8 == 0 && fx_result(f, id)->read_len == 4 + len, "command data length %u", len);
	unsigned n = 0;
	for (uint32_t off = 4; off < 4 + len; off += 8) {
		const uint8_t *e = d + off;
		out[n].opcode = e[0];
		out[n].has_sa = e[5] & 0x01;
		out[n].sa = (uint16_t)(e[2] << 8 | e[3]);
		out[n].cdb_len = (uint16_t)(e[6] << 8 | e[7]);
		CHECK(!(e[5] & 0x02), "CTDP without RCTD");
		n++;
	}
	return n;
}

static bool is_listed(const struct listed *l, unsigned n, uint8_t opcode)
{
	for (unsigned i = 0; i < n; i++)
		if (l[i].opcode == opcode)
			return true;
	return false;
}

int main(void)
{
	struct fixture *f = fx_new_with(&memdisk_unmap_handler, 64 * 1024, 1024, 512, false);
	struct listed l[64];
	uint16_t id;

	unsigned n = list_all(f, l);
	CHECK(n >= 30, "only %u commands listed", n);
	CHECK(is_listed(l, n, OP_UNMAP) && is_listed(l, n, OP_COMPARE_AND_WRITE) &&
	      is_listed(l, n, OP_WRITE_SAME_16), "UNMAP, CAW, WRITE SAME");

	/* Every opcode without service actions: listed <=> not INVALID COMMAND OPERATION CODE. */
	for (unsigned op = 0; op < 256; op++) {
		if (op == OP_SERVICE_ACTION_IN_16 || op == OP_MAINTENANCE_IN)
			continue;
		uint8_t cdb[16] = { (uint8_t)op };
		id = fx_run(f, cdb, 0, NULL);
		bool unknown = fx_sense_triple(f, id) == SENSE_INVALID_OPCODE;
		CHECK(unknown != is_listed(l, n, (uint8_t)op), "opcode 0x%02x: listed %d, unknown %d", op,
		      is_listed(l, n, (uint8_t)op), unknown);
	}
	/* Service actions not listed: INVALID FIELD IN CDB at the service action. */
	for (unsigned sa = 0; sa < 32; sa++) {
		bool listed = false;
		for (unsigned i = 0; i < n; i++)
			listed |= l[i].opcode == OP_SERVICE_ACTION_IN_16 && l[i].has_sa && l[i].sa == sa;
		uint8_t cdb[16] = { OP_SERVICE_ACTION_IN_16, (uint8_t)sa };
		id = fx_run(f, cdb, 0, NULL);
		bool refused = fx_sense_triple(f, id) == SENSE_INVALID_FIELD_IN_CDB &&
			       fx_field_pointer_is(f, id, true, 1, 4);
		CHECK(refused != listed, "SERVICE ACTION IN 0x%02x: listed %d refused %d", sa, listed, refused);
	}

	/* Each command's usage map: a bit outside it is refused, pointing at it. */
	for (unsigned i = 0; i < n; i++) {
		id = l[i].has_sa ? rsoc(f, 2, l[i].opcode, l[i].sa, 512) : rsoc(f, 1, l[i].opcode, 0, 512);
		CHECK_GOOD(f, id);
		const uint8_t *d = ringsim_data(&f->sim, id);
		CHECK((d[1] & 0x07) == 3 && (d[2] << 8 | d[3]) == l[i].cdb_len, "opcode 0x%02x: support %u, cdb size %u",
		      l[i].opcode, d[1] & 7, d[2] << 8 | d[3]);
		uint8_t usage[16];
		memcpy(usage, d + 4, l[i].cdb_len);
		CHECK(usage[0] == l[i].opcode, "usage byte 0 is the opcode");
		if (l[i].has_sa)
			CHECK((usage[1] & 0x1f) == l[i].sa, "usage byte 1 holds the service action");
		for (unsigned byte = 1; byte < l[i].cdb_len; byte++) {
			for (int bit = 0; bit < 8; bit++) {
				if (usage[byte] & (1u << bit))
					continue;
				if (l[i].has_sa && byte == 1 && bit < 5)
					continue;
				if (byte == 1 && bit >= 5 && scsi2_lun_ignored(l[i].opcode))
					continue; /* tested in test-scsi-scsi2-lun */
				uint8_t cdb[16] = { l[i].opcode };
				if (l[i].has_sa)
					cdb[1] = (uint8_t)l[i].sa;
				cdb[byte] |= (uint8_t)(1u << bit);
				id = fx_run(f, cdb, 0, NULL);
				CHECK(fx_sense_triple(f, id) == SENSE_INVALID_FIELD_IN_CDB,
				      "opcode 0x%02x byte %u bit %d accepted", l[i].opcode, byte, bit);
				struct sense_info si;
				sense_parse(fx_result(f, id)->sense, 96, &si);
				CHECK(si.sks_valid && (si.sks[0] & 0x48) == 0x48 && si.sks[2] == byte &&
				      (si.sks[0] & 7) >= bit, "opcode 0x%02x byte %u bit %d: pointer %02x %02x",
				      l[i].opcode, byte, bit, si.sks[0], si.sks[2]);
			}
		}
	}

	/* One command, by hand: READ 10, with the timeouts descriptor. */
	id = rsoc(f, 0x81, OP_READ_10, 0, 512);
	CHECK_GOOD(f, id);
	const uint8_t *d = ringsim_data(&f->sim, id);
	static const uint8_t read10[10] = { OP_READ_10, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00 };
	CHECK(d[1] == 0x83 && d[3] == 10 && memcmp(d + 4, read10, 10) == 0, "READ 10 usage");
	CHECK(d[14] == 0 && d[15] == 10 && fx_result(f, id)->read_len == 4 + 10 + 12, "timeouts descriptor");
	/* Not supported: SUPPORT 001b, no usage data. */
	id = rsoc(f, 1, TEST_OP_UNSUPPORTED, 0, 512);
	d = ringsim_data(&f->sim, id);
	CHECK_GOOD(f, id);
	CHECK((d[1] & 7) == 1 && d[3] == 0 && fx_result(f, id)->read_len == 4, "unsupported opcode report");
	/* Option 1 on an opcode with service actions, option 2 on one without, options 4..7. */
	id = rsoc(f, 1, OP_SERVICE_ACTION_IN_16, 0, 512);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 2, 2);
	id = rsoc(f, 2, OP_READ_10, 0, 512);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	id = rsoc(f, 4, 0, 0, 512);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	/* Option 3 takes either; an unknown service action is "not supported". */
	id = rsoc(f, 3, OP_SERVICE_ACTION_IN_16, SAI_READ_CAPACITY_16, 512);
	CHECK((ringsim_data(&f->sim, id)[1] & 7) == 3, "option 3 with SA");
	id = rsoc(f, 3, OP_SERVICE_ACTION_IN_16, 0x1f, 512); /* deliberately unsupported SA */
	CHECK((ringsim_data(&f->sim, id)[1] & 7) == 1, "option 3 with an unknown SA");
	id = rsoc(f, 3, OP_READ_10, 0x1234, 512);
	CHECK((ringsim_data(&f->sim, id)[1] & 7) == 3, "option 3 without SA");
	/* RCTD on the whole list: 20-byte descriptors with CTDP. */
	id = rsoc(f, 0x80, 0, 0, 4096);
	d = ringsim_data(&f->sim, id);
	CHECK(be32(d) == 20 * n && (d[4 + 5] & 0x02) && d[4 + 8] == 0 && d[4 + 9] == 10, "RCTD list");
	fx_free(f);

	/* Capabilities switched off are not listed, and FUA leaves the usage maps. */
	struct vhostio_handler h = memdisk_handler;
	h.no_caps = VHOSTIO_CAP_WRITE_SAME | VHOSTIO_CAP_COMPARE_AND_WRITE | VHOSTIO_CAP_FUA;
	f = fx_new_with(&h, 64 * 1024, 1024, 512, false);
	n = list_all(f, l);
	CHECK(!is_listed(l, n, OP_WRITE_SAME_10) && !is_listed(l, n, OP_WRITE_SAME_16) &&
	      !is_listed(l, n, OP_COMPARE_AND_WRITE) && !is_listed(l, n, OP_UNMAP),
	      "absent capabilities listed");
	id = rsoc(f, 1, OP_WRITE_10, 0, 512);
	CHECK(ringsim_data(&f->sim, id)[5] == 0x12, "WRITE 10 usage without FUA (DPO, FUA_NV): 0x%02x", ringsim_data(&f->sim, id)[5]);
	uint8_t w10[10], blk[512] = { 0 };
	cdb_rw10(w10, OP_WRITE_10, 0, 1);
	w10[1] = 0x08;
	id = fx_run(f, w10, 512, blk);
	CHECK_SENSE(f, id, SENSE_INVALID_FIELD_IN_CDB);
	CHECK_FIELD(f, id, true, 1, 3);
	uint8_t ms[6] = { OP_MODE_SENSE_6, 0x08, 0x3f, 0, 255, 0 };
	id = fx_run(f, ms, 255, NULL);
	CHECK(!(ringsim_data(&f->sim, id)[2] & 0x10), "DPOFUA without FUA");
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);
	return test_exit();
}
