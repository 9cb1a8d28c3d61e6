/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ringsim.h"

#define CMDR_OFF sizeof(struct tcmu_mailbox)

int ringsim_init(struct ringsim *s, uint32_t cmdr_size, size_t data_size)
{
	memset(s, 0, sizeof(*s));
	s->cmdr_size = cmdr_size;
	s->data_off = CMDR_OFF + cmdr_size;
	s->data_size = data_size;
	s->map_size = s->data_off + data_size;
	s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->map == MAP_FAILED)
		return -errno;
	s->mb = (struct tcmu_mailbox *)s->map;
	s->mb->version = TCMU_MAILBOX_VERSION;
	s->mb->flags = TCMU_MAILBOX_FLAG_CAP_OOOC | TCMU_MAILBOX_FLAG_CAP_READ_LEN |
		       TCMU_MAILBOX_FLAG_CAP_TMR | TCMU_MAILBOX_FLAG_CAP_KEEP_BUF;
	s->mb->cmdr_off = CMDR_OFF;
	s->mb->cmdr_size = cmdr_size;
	s->cmdr = s->map + CMDR_OFF;
	s->next_id = 1;
	return 0;
}

void ringsim_free(struct ringsim *s)
{
	munmap(s->map, s->map_size);
}

static uint32_t space_free(const struct ringsim *s)
{
	/* One byte stays free so that head == tail means empty. */
	return (s->last_cleaned + s->cmdr_size - s->head - 1) % s->cmdr_size;
}

static void publish_head(struct ringsim *s)
{
	__atomic_store_n(&s->mb->cmd_head, s->head, __ATOMIC_RELEASE);
}

static void write_hdr(struct ringsim *s, uint32_t pos, uint8_t op, uint32_t len, uint16_t id)
{
	struct tcmu_cmd_entry_hdr *h = (struct tcmu_cmd_entry_hdr *)(s->cmdr + pos);
	memset(h, 0, sizeof(*h));
	h->len_op = (len & ~(uint32_t)TCMU_OP_MASK) | (op & TCMU_OP_MASK);
	h->cmd_id = id;
}

void ringsim_put_entry(struct ringsim *s, uint8_t op, uint32_t len)
{
	write_hdr(s, s->head, op, len, 0);
	s->head = (s->head + len) % s->cmdr_size;
	publish_head(s);
}

struct tcmu_tmr_entry *ringsim_put_tmr(struct ringsim *s, uint8_t type, const uint16_t *ids, uint32_t cnt)
{
	uint32_t size = (uint32_t)((offsetof(struct tcmu_tmr_entry, cmd_ids) + cnt * sizeof(uint16_t) + 7) & ~7u);
	uint32_t to_end = s->cmdr_size - s->head;
	uint32_t needed = to_end >= size ? size : size + to_end;
	if (space_free(s) < needed)
		return NULL;
	if (to_end < size) {
		write_hdr(s, s->head, TCMU_OP_PAD, to_end, 0);
		s->head = 0;
		s->pads++;
	}
	struct tcmu_tmr_entry *t = (struct tcmu_tmr_entry *)(s->cmdr + s->head);
	memset(t, 0, size);
	write_hdr(s, s->head, TCMU_OP_TMR, size, 0);
	t->tmr_type = type;
	t->cmd_cnt = cnt;
	if (cnt)
		memcpy(t->cmd_ids, ids, cnt * sizeof(uint16_t));
	s->head = (s->head + size) % s->cmdr_size;
	publish_head(s);
	return t;
}

static uint16_t alloc_id(struct ringsim *s)
{
	for (int tries = 0; tries < SIM_MAX_IDS; tries++) {
		uint16_t id = s->next_id++;
		if (s->next_id == 0)
			s->next_id = 1;
		if (id && !s->cmds[id].live)
			return id;
	}
	return 0;
}

static size_t alloc_data(struct ringsim *s, size_t len)
{
	size_t blocks = (len + SIM_BLOCK - 1) / SIM_BLOCK;
	if (s->data_next + blocks * SIM_BLOCK > s->data_size)
		s->data_next = 0;
	size_t off = s->data_off + s->data_next;
	s->data_next += blocks * SIM_BLOCK;
	return off;
}

/* Submission and reaping both move the ring's bookkeeping: one lock, as the kernel's cmdr_lock. */
static pthread_mutex_t kick_lock = PTHREAD_MUTEX_INITIALIZER;

static uint16_t submit_locked(struct ringsim *s, const uint8_t *cdb, size_t len, const void *data,
			      sim_mutate_fn mutate, void *arg);

uint16_t ringsim_submit_mutated(struct ringsim *s, const uint8_t *cdb, size_t len, const void *data,
				sim_mutate_fn mutate, void *arg)
{
	pthread_mutex_lock(&kick_lock);
	uint16_t id = submit_locked(s, cdb, len, data, mutate, arg);
	pthread_mutex_unlock(&kick_lock);
	return id;
}

static uint16_t submit_locked(struct ringsim *s, const uint8_t *cdb, size_t len, const void *data,
			      sim_mutate_fn mutate, void *arg)
{
	static const uint8_t group_len[8] = { 6, 10, 10, 12, 16, 12, 10, 10 };
	uint32_t cdb_len = group_len[cdb[0] >> 5];
	uint32_t n_iov = (uint32_t)((len + SIM_BLOCK - 1) / SIM_BLOCK);
	size_t base = offsetof(struct tcmu_cmd_entry, req.iov) + n_iov * sizeof(struct iovec);
	if (base < sizeof(struct tcmu_cmd_entry))
		base = sizeof(struct tcmu_cmd_entry);
	uint32_t cmd_size = (uint32_t)(base + ((cdb_len + 7) & ~7u));

	uint32_t to_end = s->cmdr_size - s->head;
	uint32_t needed = to_end >= cmd_size ? cmd_size : cmd_size + to_end;
	if (space_free(s) < needed)
		return 0;
	uint16_t id = alloc_id(s);
	if (!id)
		return 0;
	if (to_end < cmd_size) {
		write_hdr(s, s->head, TCMU_OP_PAD, to_end, 0);
		s->head = 0;
		s->pads++;
	}

	size_t data_off = len ? alloc_data(s, len) : 0;
	if (data)
		memcpy(s->map + data_off, data, len);
	else if (len)
		memset(s->map + data_off, 0xee, len); /* poison: reads must overwrite it */

	struct tcmu_cmd_entry *ent = (struct tcmu_cmd_entry *)(s->cmdr + s->head);
	memset(ent, 0, cmd_size);
	write_hdr(s, s->head, TCMU_OP_CMD, cmd_size, id);
	ent->req.iov_cnt = n_iov;
	ent->req.cdb_off = CMDR_OFF + s->head + base;
	memcpy(s->map + ent->req.cdb_off, cdb, cdb_len);
	uint8_t *iovp = (uint8_t *)ent + offsetof(struct tcmu_cmd_entry, req.iov);
	for (uint32_t i = 0; i < n_iov; i++) {
		uint64_t ibase = data_off + (uint64_t)i * SIM_BLOCK;
		uint64_t ilen = i + 1 < n_iov ? SIM_BLOCK : len - (size_t)i * SIM_BLOCK;
		memcpy(iovp + i * 16, &ibase, 8);
		memcpy(iovp + i * 16 + 8, &ilen, 8);
	}
	if (mutate)
		mutate(s, ent, arg);

	s->cmds[id].live = true;
	s->cmds[id].data = data_off;
	s->cmds[id].len = len;
	memset(&s->results[id], 0, sizeof(s->results[id]));
	s->head = (s->head + cmd_size) % s->cmdr_size;
	publish_head(s);
	return id;
}

uint16_t ringsim_submit(struct ringsim *s, const uint8_t *cdb, size_t len, const void *data)
{
	return ringsim_submit_mutated(s, cdb, len, data, NULL, NULL);
}

int ringsim_reap(struct ringsim *s)
{
	int n = 0;
	uint32_t tail = __atomic_load_n(&s->mb->cmd_tail, __ATOMIC_ACQUIRE);
	while (s->last_cleaned != tail && !s->broken) {
		struct tcmu_cmd_entry *ent = (struct tcmu_cmd_entry *)(s->cmdr + s->last_cleaned);
		uint32_t len = tcmu_hdr_get_len(ent->hdr.len_op);
		uint8_t op = tcmu_hdr_get_op(ent->hdr.len_op);
		if (op == TCMU_OP_CMD) {
			uint16_t id = ent->hdr.cmd_id;
			if (!s->cmds[id].live) {
				s->broken = true; /* what the kernel calls "ring is broken" */
				break;
			}
			struct sim_result *r = &s->results[id];
			r->status = ent->rsp.scsi_status;
			r->uflags = ent->hdr.uflags;
			r->read_len = ent->rsp.read_len;
			memcpy(r->sense, ent->rsp.sense_buffer, sizeof(r->sense));
			/* Last, released: the tests poll 'done' from another thread, then read the rest. */
			__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
			s->cmds[id].live = false;
			n++;
		}
		s->last_cleaned = (s->last_cleaned + len) % s->cmdr_size;
	}
	return n;
}

uint8_t *ringsim_data(struct ringsim *s, uint16_t id)
{
	return s->map + s->cmds[id].data;
}

int ringsim_kick(void *opaque)
{
	/* Like the kernel's uio write handler, safe to call from any thread:
	 * PARALLEL workers complete and kick concurrently. */
	struct ringsim *s = opaque;
	pthread_mutex_lock(&kick_lock);
	s->kicks++;
	ringsim_reap(s);
	pthread_mutex_unlock(&kick_lock);
	return 0;
}

int ringsim_reset_ring(void *opaque)
{
	/* As target_core_user's reset_ring: what is queued fails back (BUSY, so
	 * the initiator retries), and the ring starts over at 0. */
	struct ringsim *s = opaque;
	for (size_t id = 0; id < SIM_MAX_IDS; id++) {
		if (!s->cmds[id].live)
			continue;
		s->cmds[id].live = false;
		s->results[id].done = true;
		s->results[id].status = 0x08;
	}
	s->head = 0;
	s->last_cleaned = 0;
	s->data_next = 0;
	s->broken = false;
	s->resets++;
	__atomic_store_n(&s->mb->cmd_tail, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->mb->cmd_head, 0, __ATOMIC_RELEASE);
	return 0;
}
