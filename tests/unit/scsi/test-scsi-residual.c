/*
 * Data-in buffers that do not match the transfer (the fabric's expected
 * length is the initiator's to choose, and TCMU passes it through):
 * larger, the READ reports READ_LEN so the kernel returns only the data
 * read (not what the data area held from earlier commands) and a
 * residual, and the handler sees exactly the transfer; shorter, the READ
 * returns what fits, GOOD, as LIO's own backstores do.  A transfer of no
 * bytes at all zeroes the buffer (READ_LEN 0 means "absent" to the kernel).
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

#define BS 512

int main(void)
{
	struct fixture *f = fx_new(256 * 1024, 1024, BS, false);
	fill_pattern(f->disk.mem, 16 * BS, 5);
	uint8_t cdb[10];

	/* One block into a 4 KiB buffer that holds another command's bytes. */
	cdb_rw10(cdb, OP_WRITE_10, 100, 8);
	uint8_t junk[8 * BS];
	memset(junk, 0xee, sizeof(junk));
	uint16_t id = fx_run(f, cdb, sizeof(junk), junk);
	CHECK_GOOD(f, id);
	f->disk.async = true;
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	id = ringsim_submit(&f->sim, cdb, 4096, NULL);
	device_process_ring(f->dev);
	CHECK(f->disk.n_pending == 1, "read not handed to the handler");
	size_t seen = 0;
	for (int i = 0; i < f->disk.pending[0].iovcnt; i++)
		seen += f->disk.pending[0].iov[i].iov_len;
	CHECK(f->disk.pending[0].length == BS && seen == BS, "handler saw %zu bytes of iov for a %zu-byte read",
	      seen, f->disk.pending[0].length);
	fx_finish(f, 0, 0);
	f->disk.async = false;
	const struct sim_result *r = fx_result(f, id);
	CHECK(r && r->status == 0, "READ into a larger buffer: GOOD");
	CHECK(r && (r->uflags & TCMU_UFLAG_READ_LEN) && r->read_len == BS,
	      "READ_LEN %u (uflags 0x%x), want %u: the kernel would return 4096 bytes", r ? r->read_len : 0,
	      r ? r->uflags : 0, BS);
	CHECK(check_pattern(ringsim_data(&f->sim, id), BS, 5), "the block read");

	/* The buffer holds 4 of 8 blocks: what fits comes back, GOOD, full buffer. */
	cdb_rw10(cdb, OP_READ_10, 0, 8);
	id = fx_run(f, cdb, 4 * BS, NULL);
	CHECK_GOOD(f, id);
	r = fx_result(f, id);
	CHECK(r && !(r->uflags & TCMU_UFLAG_READ_LEN), "a full short buffer needs no READ_LEN");
	CHECK(check_pattern(ringsim_data(&f->sim, id), 4 * BS, 5), "the 4 blocks that fit");

	/* A buffer that ends inside a block: the bytes that fit, exactly. */
	cdb_rw10(cdb, OP_READ_10, 0, 2);
	id = fx_run(f, cdb, 700, NULL);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), 700, 5), "700 bytes of a 2-block READ");

	/* WRITE from a larger buffer: exactly the transfer is written. */
	uint8_t data[4096];
	fill_pattern(data, sizeof(data), 9);
	f->disk.async = true;
	cdb_rw10(cdb, OP_WRITE_10, 200, 1);
	id = ringsim_submit(&f->sim, cdb, sizeof(data), data);
	unsigned w = f->disk.n_pending;
	device_process_ring(f->dev);
	CHECK(f->disk.n_pending == w + 1, "write not handed to the handler");
	seen = 0;
	for (int i = 0; i < f->disk.pending[w].iovcnt; i++)
		seen += f->disk.pending[w].iov[i].iov_len;
	CHECK(f->disk.pending[w].is_write && seen == BS, "the handler's write iov covers %zu bytes, want %u", seen,
	      BS);
	fx_finish(f, w, 0);
	f->disk.async = false;
	CHECK_GOOD(f, id);
	CHECK(check_pattern(f->disk.mem + 200 * BS, BS, 9), "block 200 written");
	CHECK(f->disk.mem[201 * BS] == 0, "block 201 untouched");

	/* No data at all into a buffer (ALLOCATION LENGTH 0, READ of 0 blocks,
	 * commands that never transfer data):
	 * the kernel reads READ_LEN 0 as "the whole buffer", so the buffer is
	 * zeroed rather than returned with what the data area held (the
	 * simulator's 0xee poison). */
	uint8_t inq[6] = { OP_INQUIRY, 0, 0, 0, 0, 0 };
	uint8_t tur[6] = { OP_TEST_UNIT_READY, 0, 0, 0, 0, 0 };
	uint8_t sync[10] = { OP_SYNCHRONIZE_CACHE_10 };
	cdb_rw10(cdb, OP_READ_10, 0, 0);
	const uint8_t *zero_cdbs[] = { inq, cdb, tur, sync };
	for (int i = 0; i < 4; i++) {
		id = fx_run(f, zero_cdbs[i], 1024, NULL);
		CHECK_GOOD(f, id);
		const uint8_t *buf = ringsim_data(&f->sim, id);
		bool zeroed = true;
		for (int b = 0; b < 1024; b++)
			zeroed &= buf[b] == 0;
		CHECK(zeroed, "opcode 0x%02x with no data left stale bytes in its buffer", zero_cdbs[i][0]);
	}

	/* WRITE from a shorter buffer is still refused: data we were not given. */
	cdb_rw10(cdb, OP_WRITE_10, 300, 2);
	id = fx_run(f, cdb, BS, data);
	CHECK_SENSE(f, id, SENSE_INTERNAL_TARGET_FAILURE);

	fx_free(f);
	return test_exit();
}
