/* A hostile or corrupt ring: offsets and lengths pointing outside the
 * mapping fail that command with sense; a corrupt entry length stops the
 * device taking commands; the process survives all of it. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scsi_defs.h"

static void bad_cdb_off(struct ringsim *s, struct tcmu_cmd_entry *e, void *arg)
{
	e->req.cdb_off = *(uint64_t *)arg;
	(void)s;
}

static void bad_iov(struct ringsim *s, struct tcmu_cmd_entry *e, void *arg)
{
	uint64_t base = *(uint64_t *)arg;
	memcpy((uint8_t *)e + 48, &base, 8);
	(void)s;
}

static void huge_iov_len(struct ringsim *s, struct tcmu_cmd_entry *e, void *arg)
{
	uint64_t len = UINT64_MAX - 4095;
	memcpy((uint8_t *)e + 56, &len, 8);
	(void)s;
	(void)arg;
}

static void iov_cnt_overrun(struct ringsim *s, struct tcmu_cmd_entry *e, void *arg)
{
	e->req.iov_cnt = 0x40000000u;
	(void)s;
	(void)arg;
}

static void bad_len(struct ringsim *s, struct tcmu_cmd_entry *e, void *arg)
{
	e->hdr.len_op = (e->hdr.len_op & 7) | *(uint32_t *)arg;
	(void)s;
}

/* Submit with a mutation, then prove the device still works. */
static void expect_failed_then_alive(struct fixture *f, sim_mutate_fn fn, void *arg, const char *what)
{
	uint8_t cdb[10];
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	uint16_t id = ringsim_submit_mutated(&f->sim, cdb, 512, NULL, fn, arg);
	device_process_ring(f->dev);
	const struct sim_result *r = fx_result(f, id);
	CHECK(r && r->status == 2 && sim_sense_triple(r) == SENSE_INTERNAL_TARGET_FAILURE,
	      "%s: want HARDWARE ERROR/INTERNAL TARGET FAILURE, got %s 0x%x %06x", what, r ? "status" : "nothing",
	      r ? r->status : 0, r ? sim_sense_triple(r) : 0);
	uint8_t tur[6] = { OP_TEST_UNIT_READY };
	id = fx_run(f, tur, 0, NULL);
	CHECK_GOOD(f, id);
}

int main(void)
{
	struct fixture *f = fx_new(8192, 1024, 512, false);

	uint64_t off = f->sim.map_size + 100;
	expect_failed_then_alive(f, bad_cdb_off, &off, "cdb_off past the map");
	off = 4; /* inside the mailbox */
	expect_failed_then_alive(f, bad_cdb_off, &off, "cdb_off in the mailbox");
	off = f->sim.map_size - 2; /* a 10-byte CDB would cross the end */
	expect_failed_then_alive(f, bad_cdb_off, &off, "cdb crossing the end");
	off = 200; /* inside the command ring, not the data area */
	expect_failed_then_alive(f, bad_iov, &off, "iov in the ring");
	off = f->sim.map_size;
	expect_failed_then_alive(f, bad_iov, &off, "iov past the map");
	expect_failed_then_alive(f, huge_iov_len, NULL, "iov length wrapping 64 bits");
	expect_failed_then_alive(f, iov_cnt_overrun, NULL, "iov count overrunning the entry");

	/* An entry op the library does not know is flagged and skipped. */
	ringsim_put_entry(&f->sim, 5, 64);
	uint8_t tur[6] = { OP_TEST_UNIT_READY };
	uint16_t id = fx_run(f, tur, 0, NULL);
	CHECK_GOOD(f, id);
	CHECK(!f->sim.broken, "kernel side saw a broken ring");

	/* An entry length that runs past head: the ring is unusable. */
	uint32_t len = 4096;
	uint8_t cdb[10];
	cdb_rw10(cdb, OP_READ_10, 0, 1);
	id = ringsim_submit_mutated(&f->sim, cdb, 512, NULL, bad_len, &len);
	CHECK(device_process_ring(f->dev) == 0, "a corrupt entry must not run");
	CHECK(f->dev->ring.broken, "ring not marked broken");
	CHECK(fx_result(f, id) == NULL, "nothing can be answered in a broken ring");
	/* Later wake-ups do nothing rather than crash. */
	id = ringsim_submit(&f->sim, tur, 0, NULL);
	CHECK(device_process_ring(f->dev) == 0, "broken ring kept running");

	fx_free(f);

	/* A zero-length entry would loop forever if trusted. */
	f = fx_new(8192, 1024, 512, false);
	len = 0;
	ringsim_submit_mutated(&f->sim, cdb, 512, NULL, bad_len, &len);
	CHECK(device_process_ring(f->dev) == 0 && f->dev->ring.broken, "zero-length entry");
	fx_free(f);

	/* A mailbox that is not version 2 or whose ring overruns the map is refused. */
	struct ringsim *s = malloc(sizeof(*s)); /* too big for the stack */
	ringsim_init(s, 8192, 1 << 20);
	struct vhostio_ring ring;
	CHECK(ring_init(&ring, s->map, s->map_size) == 0, "good mailbox refused");
	s->mb->version = 1;
	CHECK(ring_init(&ring, s->map, s->map_size) < 0, "mailbox version 1 accepted");
	s->mb->version = 2;
	s->mb->cmdr_size = (uint32_t)s->map_size;
	CHECK(ring_init(&ring, s->map, s->map_size) < 0, "ring larger than the map accepted");
	s->mb->cmdr_size = 8192;
	s->mb->cmd_tail = 3;
	CHECK(ring_init(&ring, s->map, s->map_size) < 0, "unaligned cmd_tail accepted");
	ringsim_free(s);
	free(s);

	return test_exit();
}
