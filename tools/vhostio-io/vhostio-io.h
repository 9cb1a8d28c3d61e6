/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vhostio-io's private interface: the options, the session every command
 * gets (options and the open initiator), the SCSI helpers the commands
 * share, and the workload statistics.  No state lives outside these
 * structs: each command reaches it through the session it is handed.
 */
#ifndef VHOSTIO_IO_H
#define VHOSTIO_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <vhostio/initiator.h>

#include "byteorder.h" /* libvhostio/common, header only */
#include "clock.h"

#define EXIT_MISCOMPARE 1 /* also SCSI errors */
#define EXIT_USAGE 2
#define EXIT_HANG 3

enum rw_mode { RW_READ, RW_WRITE, RW_VERIFY };

#define MAX_TMFS 4

struct config {
	const char *device;
	const char *wwpn;
	const char *nexus;
	const char *backstore;
	uint16_t tpgt;
	uint16_t lun;
	bool json;
	int timeout_ms;          /* management commands, events */
	/* workload */
	enum rw_mode rw;
	bool random;
	bool check;              /* compare reads with the pattern */
	uint32_t bs;
	uint32_t qd;
	uint32_t queues;
	uint32_t queue_size;
	double runtime;          /* 0: not time bound */
	uint64_t ios;            /* 0: not count bound */
	uint64_t size;           /* 0: capacity - offset */
	uint64_t offset;
	uint64_t seed;
	uint32_t generation;
	uint32_t passes;
	int tmf_after_ms;        /* -1: no task management function */
	uint32_t tmf[MAX_TMFS];  /* enum vhostio_virtio_tmf, sent in turn after tmf_after_ms */
	uint32_t ntmf;
	int hang_ms;             /* no completion this long with I/O in flight: hang */
	int count;               /* events to wait for */
	uint64_t features_mask;
	int32_t workers;         /* vhostio_initiator_opts.workers (--workers) */
};

/* One invocation: its options and, once a command opened it, the initiator. */
struct vio {
	struct config cfg;
	struct vhostio_initiator *ini; /* NULL: not opened (closed by main) */
};

void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* ---- scsi.c: the initiator and the SCSI helpers of every command ---- */

/* Open the device into v->ini and attach to --wwpn/--tpgt; dies on failure. */
void ini_open(struct vio *v, uint32_t queues, uint32_t queue_size, uint64_t arena);
const char *response_name(unsigned r);
bool is_unit_attention(const struct vhostio_scsi_cmd *c);
void describe_failure(const struct vhostio_scsi_cmd *c, char *buf, size_t len);
/* The negotiated feature bits by name, comma separated. */
void features_string(const struct vhostio_initiator *ini, char *buf, size_t len);
int mgmt_cmd(struct vio *v, const uint8_t *cdb, int cdb_len, void *buf, uint32_t len, const char *what);
int read_capacity(struct vio *v, uint64_t *nlbas, uint32_t *lbsize, bool *lbpme);

/* ---- manage.c: one-shot commands and the vhost fabric's configfs ---- */

int cmd_inquiry(struct vio *v);
int cmd_readcap(struct vio *v);
int cmd_report_luns(struct vio *v);
int cmd_events(struct vio *v);
int cmd_target_create(struct vio *v);
int cmd_target_remove(struct vio *v);
int cmd_lun_add(struct vio *v);
int cmd_lun_remove(struct vio *v);

/* ---- workload.c: the run command ---- */

int cmd_run(struct vio *v);

/* ---- stats.c: latency histogram and the run's report ---- */

/*
 * Latency histogram, log2-linear: values below 2^SUB_BITS ns get a bucket
 * each; above, each power of two is split into 2^SUB_BITS linear buckets,
 * so any reported percentile is within 1/2^SUB_BITS of the truth.
 */
#define SUB_BITS 5
#define SUB (1u << SUB_BITS)
#define NBUCKETS ((64 - SUB_BITS) * SUB + SUB)

struct stats {
	uint64_t ios, bytes, ok, aborted, other, miscompares, first_bad_lba, ua_retries, full_retries;
	uint64_t lat_max;
	uint64_t hist[NBUCKETS];
};

/* What one or more runs of a phase did, and for how long. */
struct phase {
	struct stats st;
	double secs;
};

/* The TMF sent during a run (--tmf-after). */
struct tmf_result {
	bool done;
	bool has_tag;             /* ABORT/QUERY TASK: a command was in flight to name */
	uint64_t tag;
	int response;             /* virtio response or -errno */
	uint64_t at_ns;           /* when it returned, from the start */
	uint64_t took_ns;
};

/* Everything the run's report prints besides the options. */
/*
 * CPU time of this process and of the kernel threads that serve its
 * device: "vhost-<pid>", as stock vhost_scsi and vhostio's fabric name
 * their workers (CPU per I/O of the kernel side, for benchmarks).
 */
struct cpu_times {
	double process_s;
	double workers_s;
	unsigned workers;
};
void cpu_times_now(struct cpu_times *t);

struct run_report {
	const struct config *cfg;
	uint32_t queue_size;
	uint32_t lbsize;
	uint64_t base;            /* byte offset of the working set */
	uint64_t bytes;           /* its size */
	const char *features;
	uint64_t features_bits;
	uint32_t passes;          /* verify only */
	const struct phase *total, *write, *read; /* write, read: verify only */
	const struct tmf_result *tmf; /* cfg->ntmf of them; NULL: no TMF asked for */
	struct cpu_times cpu;     /* used during the workload; workers: how many at its end */
	bool hung;
};

/* --tmf names; NULL for an unknown one. */
const char *tmf_name(uint32_t tmf);
/* "NAME[,NAME...]" into tmf[], up to max; the count, or -1 for a bad list. */
int tmf_parse(const char *list, uint32_t *tmf, int max);
void stats_latency(struct stats *s, uint64_t lat);
void stats_merge(struct stats *into, const struct stats *s);
void print_run_report(const struct run_report *r);

#endif
