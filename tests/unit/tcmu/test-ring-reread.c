/*
 * The shared ring is read once per entry.  Whoever else maps the uio
 * device may rewrite an entry after we validated it: the iov count and
 * bases (once a heap overflow and wild pointers when the iovs were re-read
 * for a command with many of them) and the entry length (once an endless
 * loop under the device lock when completion re-read it).  Parsing and
 * completion use only the private copy and record.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "ring.h"
#include "scsi_defs.h"

/* The CMD entry the simulator wrote for the command just submitted at 'pos'. */
static struct tcmu_cmd_entry *cmd_entry_at(struct ringsim *s, uint32_t pos)
{
	struct tcmu_cmd_entry *e = (struct tcmu_cmd_entry *)(s->cmdr + pos);
	if (tcmu_hdr_get_op(e->hdr.len_op) == TCMU_OP_PAD)
		e = (struct tcmu_cmd_entry *)s->cmdr; /* wrapped after a PAD */
	return e;
}

int main(void)
{
	struct ringsim *sim = calloc(1, sizeof(*sim)); /* too large for the stack */
	if (!sim || ringsim_init(sim, 64 * 1024, 4u << 20) < 0)
		return T_EXIT_FAIL;
	struct vhostio_ring ring;
	CHECK(ring_init(&ring, sim->map, sim->map_size) == 0, "ring_init");

	/* A 40 KiB READ: ten 4 KiB iovs, more than the caller's first array holds. */
	uint8_t cdb[10];
	cdb_rw10(cdb, OP_READ_10, 0, 80);
	uint32_t pos = sim->head;
	uint16_t id = ringsim_submit(sim, cdb, 40960, NULL);
	CHECK(id != 0, "submit");
	struct scsi_cmd cmd;
	struct vhostio_scsi_status bad;
	struct iovec small[8];
	CHECK(ring_fetch(&ring, &cmd, &bad, small, 8) == RING_CMD, "fetch");
	CHECK(cmd.iov_cnt == 10 && cmd.data_len == 40960, "iov_cnt %u data_len %zu", cmd.iov_cnt, cmd.data_len);
	struct tcmu_cmd_entry *e = cmd_entry_at(sim, pos);
	void *first_base = small[0].iov_base;

	/* Rewritten after validation: a count that would overflow the array,
	 * a base outside the mapping. */
	e->req.iov_cnt = 4000;
	uint64_t wild = 0x4141414141414141ull;
	memcpy((uint8_t *)e + 48, &wild, 8);
	struct iovec *iov = calloc(cmd.iov_cnt, sizeof(*iov)); /* exactly 10: ASan sees an overrun */
	ring_fetch_iovs(&ring, iov);
	CHECK(iov[0].iov_base == first_base, "iov 0 re-read from the shared entry: %p, want %p", iov[0].iov_base,
	      first_base);
	for (uint32_t i = 0; i < cmd.iov_cnt; i++)
		CHECK((uint8_t *)iov[i].iov_base >= sim->map + ring.data_off &&
		      (uint8_t *)iov[i].iov_base + iov[i].iov_len <= sim->map + sim->map_size,
		      "iov %u outside the data area", i);
	free(iov);

	/* The entry's length rewritten to 0 (and its op to PAD) before it completes. */
	e->hdr.len_op = TCMU_OP_PAD;
	struct vhostio_scsi_status good = { .status = VHOSTIO_SAM_GOOD };
	uint32_t want_tail = ring.next_fetch;
	ring_complete(&ring, cmd.tag, &good, UINT32_MAX, false); /* an endless loop before */
	CHECK(ring.tail == want_tail, "tail %u, want %u", ring.tail, want_tail);
	CHECK(sim->mb->cmd_tail == want_tail, "published tail %u, want %u", sim->mb->cmd_tail, want_tail);
	CHECK(ring.outstanding == 0 && !ring.broken, "ring state after completion");

	/* The CDB is read from the entry's private copy: one outside the entry is refused. */
	pos = sim->head;
	id = ringsim_submit(sim, cdb, 512, NULL);
	(void)id;
	e = cmd_entry_at(sim, pos);
	e->req.cdb_off = sizeof(struct tcmu_mailbox) + 8; /* inside the mapping, outside the entry */
	CHECK(ring_fetch(&ring, &cmd, &bad, small, 8) == RING_BAD_CMD, "CDB outside its entry accepted");
	CHECK(bad.sense_key == VHOSTIO_SENSE_HARDWARE_ERROR, "sense key %u", bad.sense_key);
	ring_complete(&ring, cmd.tag, &bad, UINT32_MAX, false);
	CHECK(ring.outstanding == 0 && ring.tail == ring.next_fetch, "bad command completed");

	ring_destroy(&ring);
	ringsim_free(sim);
	free(sim);
	return test_exit();
}
