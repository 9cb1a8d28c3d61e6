// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vhostio-io: SCSI commands and I/O workloads through the kernel's
 * vhost-scsi fabric, with libvhostio's userspace virtio-scsi initiator.
 *
 * It is the test client of the vhost path (INQUIRY, READ CAPACITY, REPORT
 * LUNS, pattern verify, LUN reset under I/O, hotplug events) and its
 * benchmark (IOPS, MB/s, latency percentiles).  See vhostio-io(1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vhostio/initiator.h>

#define EXIT_MISCOMPARE 1 /* also SCSI errors */
#define EXIT_USAGE 2
#define EXIT_HANG 3

#define SAM_TASK_ABORTED 0x40

/* virtio feature bits worth naming in the report */
static const struct {
	unsigned bit;
	const char *name;
} feature_names[] = {
	{0, "INOUT"},           {1, "HOTPLUG"},        {2, "CHANGE"},
	{3, "T10_PI"},          {24, "NOTIFY_ON_EMPTY"}, {27, "ANY_LAYOUT"},
	{28, "INDIRECT_DESC"},  {29, "EVENT_IDX"},     {30, "LOG_ALL"},
	{32, "VERSION_1"},
};

enum rw_mode { RW_READ, RW_WRITE, RW_VERIFY };

static struct config {
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
	int reset_after_ms;      /* -1: no LUN reset */
	int hang_ms;             /* no completion this long with I/O in flight: hang */
	int count;               /* events to wait for */
	uint64_t features_mask;
} cfg = {
	.tpgt = 1,
	.timeout_ms = 10000,
	.bs = 4096,
	.qd = 1,
	.queues = 1,
	.seed = 1,
	.generation = 1,
	.passes = 1,
	.reset_after_ms = -1,
	.hang_ms = 30000,
	.count = 1,
};

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...)
{
	va_list ap;
	fputs("vhostio-io: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "4k", "1M", "512": bytes; -EINVAL on garbage or overflow. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' && shift) /* accept KiB-style "4Ki" too */
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static uint64_t size_arg(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;
	if (parse_size(s, &v) || v < min || v > max)
		die(EXIT_USAGE, "%s: bad value '%s'", opt, s);
	return v;
}

/* ---- SCSI helpers ---- */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}
static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}
static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static const char *response_name(unsigned r)
{
	static const char *const names[] = {
		"OK", "OVERRUN", "ABORTED", "BAD_TARGET", "RESET", "BUSY",
		"TRANSPORT_FAILURE", "TARGET_FAILURE", "NEXUS_FAILURE", "FAILURE",
		"FUNCTION_SUCCEEDED", "FUNCTION_REJECTED", "INCORRECT_LUN",
	};
	return r < sizeof(names) / sizeof(names[0]) ? names[r] : "UNKNOWN";
}

/* Sense key/ASC/ASCQ of fixed or descriptor format sense; false if none. */
static bool sense_triplet(const struct vhostio_scsi_cmd *c, unsigned *key, unsigned *asc, unsigned *ascq)
{
	const uint8_t *s = c->sense;
	if (c->sense_len < 3)
		return false;
	if ((s[0] & 0x7f) >= 0x72) {
		*key = s[1] & 0xf, *asc = s[2], *ascq = c->sense_len > 3 ? s[3] : 0;
		return true;
	}
	if (c->sense_len < 14)
		return false;
	*key = s[2] & 0xf, *asc = s[12], *ascq = s[13];
	return true;
}

/* One line describing a failed command, for stderr. */
static void describe_failure(const struct vhostio_scsi_cmd *c, char *buf, size_t len)
{
	unsigned k, a, q;
	if (c->response != VHOSTIO_VIRTIO_S_OK)
		snprintf(buf, len, "virtio response %s", response_name(c->response));
	else if (sense_triplet(c, &k, &a, &q))
		snprintf(buf, len, "status 0x%02x sense %x/%02x/%02x", c->status, k, a, q);
	else
		snprintf(buf, len, "status 0x%02x", c->status);
}

static struct vhostio_initiator *ini;

static void ini_open(uint32_t queues, uint32_t queue_size, uint64_t arena)
{
	struct vhostio_initiator_opts o = {
		.struct_size = sizeof(o),
		.device = cfg.device,
		.num_queues = queues,
		.queue_size = queue_size,
		.arena_size = arena,
		.features_mask = cfg.features_mask,
	};
	int r = vhostio_initiator_open(&ini, &o);
	if (r < 0)
		die(1, "open %s: %s", cfg.device ? cfg.device : "/dev/vhost-scsi", strerror(-r));
	if (!cfg.wwpn)
		die(EXIT_USAGE, "--wwpn is required");
	r = vhostio_initiator_attach(ini, cfg.wwpn, cfg.tpgt);
	if (r < 0)
		die(1, "attach %s tpgt %u: %s", cfg.wwpn, cfg.tpgt, strerror(-r));
}

static void features_string(char *buf, size_t len)
{
	uint64_t f = vhostio_initiator_features(ini);
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (f & (1ull << feature_names[i].bit) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", feature_names[i].name);
}

/*
 * Run one management command on queue 0 with a data-in buffer; returns the
 * bytes transferred, or -EIO (message printed) on any failure.
 */
static bool is_unit_attention(const struct vhostio_scsi_cmd *c)
{
	unsigned k, a, q;
	return c->response == VHOSTIO_VIRTIO_S_OK && c->status == VHOSTIO_SAM_CHECK_CONDITION &&
	       sense_triplet(c, &k, &a, &q) && k == 6;
}

static int mgmt_cmd(const uint8_t *cdb, int cdb_len, void *buf, uint32_t len, const char *what)
{
	struct iovec iov = { buf, len };
	struct vhostio_scsi_cmd c;
	/*
	 * A new nexus, a LUN change or a reset leaves a UNIT ATTENTION that
	 * the next command of the LUN receives instead of running; retry as
	 * the Linux SCSI midlayer does.
	 */
	for (int attempt = 0;; attempt++) {
		c = (struct vhostio_scsi_cmd){ .lun = cfg.lun, .cdb_len = (uint8_t)cdb_len, .data_in = &iov, .data_in_cnt = 1 };
		memcpy(c.cdb, cdb, (size_t)cdb_len);
		int r = vhostio_initiator_run(ini, &c, cfg.timeout_ms);
		if (r < 0) {
			fprintf(stderr, "vhostio-io: %s: %s\n", what, strerror(-r));
			return r == -ETIMEDOUT ? -ETIMEDOUT : -EIO;
		}
		if (!is_unit_attention(&c) || attempt == 4)
			break;
		unsigned k, a, q;
		sense_triplet(&c, &k, &a, &q);
		fprintf(stderr, "vhostio-io: %s: unit attention %02x/%02x, retrying\n", what, a, q);
	}
	if (c.response != VHOSTIO_VIRTIO_S_OK || c.status != VHOSTIO_SAM_GOOD) {
		char d[96];
		describe_failure(&c, d, sizeof(d));
		fprintf(stderr, "vhostio-io: %s: %s\n", what, d);
		return -EIO;
	}
	return (int)(len - (c.residual < len ? c.residual : len));
}

/* JSON string body with the escapes INQUIRY text can need. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Copy a space-padded INQUIRY field without the padding. */
static void trimmed(char *dst, const uint8_t *src, size_t n)
{
	while (n && (src[n - 1] == ' ' || src[n - 1] == 0))
		n--;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static int cmd_inquiry(void)
{
	ini_open(1, 0, 1 << 20);
	uint8_t *buf = vhostio_initiator_alloc(ini, 256);
	if (!buf)
		die(1, "no I/O memory");
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 96, 0 };
	memset(buf, 0, 256);
	int n = mgmt_cmd(cdb, 6, buf, 96, "INQUIRY");
	if (n < 36) {
		if (n >= 0)
			fprintf(stderr, "vhostio-io: INQUIRY: short data (%d bytes)\n", n);
		return 1;
	}
	char vendor[9], product[17], rev[5], serial[256] = "";
	unsigned qual = buf[0] >> 5, type = buf[0] & 0x1f, version = buf[2];
	trimmed(vendor, buf + 8, 8);
	trimmed(product, buf + 16, 16);
	trimmed(rev, buf + 32, 4);
	/* Unit serial number VPD page: optional, an empty serial is fine. */
	uint8_t vcdb[6] = { 0x12, 1, 0x80, 0, 252, 0 };
	memset(buf, 0, 256);
	n = mgmt_cmd(vcdb, 6, buf, 252, "INQUIRY VPD 0x80");
	if (n >= 4 && buf[1] == 0x80) {
		size_t l = get_be(buf + 2, 2);
		if (l > (size_t)n - 4)
			l = (size_t)n - 4;
		trimmed(serial, buf + 4, l);
	}
	vhostio_initiator_free(ini, buf);
	if (cfg.json) {
		printf("{\"lun\": %u, \"qualifier\": %u, \"device_type\": %u, \"version\": %u, \"vendor\": ",
		       cfg.lun, qual, type, version);
		json_str(stdout, vendor);
		fputs(", \"product\": ", stdout);
		json_str(stdout, product);
		fputs(", \"revision\": ", stdout);
		json_str(stdout, rev);
		fputs(", \"serial\": ", stdout);
		json_str(stdout, serial);
		fputs("}\n", stdout);
	} else {
		printf("lun: %u\nqualifier: %u\ndevice type: %u\nversion: %u\nvendor: %s\nproduct: %s\nrevision: %s\nserial: %s\n",
		       cfg.lun, qual, type, version, vendor, product, rev, serial);
	}
	return 0;
}

/* READ CAPACITY(16): last LBA and block size; negative on failure. */
static int read_capacity(uint64_t *nlbas, uint32_t *lbsize, bool *lbpme)
{
	uint8_t *buf = vhostio_initiator_alloc(ini, 32);
	if (!buf)
		return -ENOMEM;
	uint8_t cdb[16] = { 0x9e, 0x10 };
	put_be32(cdb + 10, 32);
	memset(buf, 0, 32);
	int n = mgmt_cmd(cdb, 16, buf, 32, "READ CAPACITY(16)");
	if (n >= 0 && n < 12)
		n = -EIO;
	if (n >= 0) {
		*nlbas = get_be(buf, 8) + 1;
		*lbsize = (uint32_t)get_be(buf + 8, 4);
		*lbpme = buf[14] & 0x80;
	}
	vhostio_initiator_free(ini, buf);
	return n < 0 ? n : 0;
}

static int cmd_readcap(void)
{
	ini_open(1, 0, 1 << 20);
	uint64_t nlbas;
	uint32_t lbsize;
	bool lbpme;
	if (read_capacity(&nlbas, &lbsize, &lbpme) < 0)
		return 1;
	/* READ CAPACITY(10) as well: a cross-check of the 16-byte variant. */
	uint8_t *buf = vhostio_initiator_alloc(ini, 8);
	uint8_t cdb[10] = { 0x25 };
	int n = buf ? mgmt_cmd(cdb, 10, buf, 8, "READ CAPACITY(10)") : -ENOMEM;
	uint64_t last10 = n == 8 ? get_be(buf, 4) : 0;
	if (buf)
		vhostio_initiator_free(ini, buf);
	if (n != 8)
		return 1;
	if (cfg.json)
		printf("{\"lun\": %u, \"lbas\": %" PRIu64 ", \"block_size\": %u, \"bytes\": %" PRIu64
		       ", \"lbpme\": %s, \"last_lba_10\": %" PRIu64 "}\n",
		       cfg.lun, nlbas, lbsize, nlbas * lbsize, lbpme ? "true" : "false", last10);
	else
		printf("lun: %u\nlbas: %" PRIu64 "\nblock size: %u\nbytes: %" PRIu64 "\nlbpme: %d\nlast lba (10): %" PRIu64 "\n",
		       cfg.lun, nlbas, lbsize, nlbas * lbsize, lbpme, last10);
	return 0;
}

static int cmd_report_luns(void)
{
	ini_open(1, 0, 1 << 20);
	const uint32_t len = 8 + 8 * 512;
	uint8_t *buf = vhostio_initiator_alloc(ini, len);
	if (!buf)
		die(1, "no I/O memory");
	uint8_t cdb[12] = { 0xa0 };
	put_be32(cdb + 6, len);
	memset(buf, 0, len);
	int n = mgmt_cmd(cdb, 12, buf, len, "REPORT LUNS");
	if (n < 8)
		return 1;
	uint32_t count = (uint32_t)get_be(buf, 4) / 8;
	if (count > (uint32_t)(n - 8) / 8)
		count = (uint32_t)(n - 8) / 8;
	if (cfg.json)
		printf("{\"count\": %u, \"luns\": [", count);
	else
		printf("count: %u\n", count);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = buf + 8 + 8 * i;
		/* peripheral (00b) and flat (01b) addressing: 14-bit LUN */
		unsigned l = (unsigned)get_be(e, 2) & 0x3fff;
		if (cfg.json)
			printf("%s%u", i ? ", " : "", l);
		else
			printf("lun: %u\n", l);
	}
	if (cfg.json)
		puts("]}");
	vhostio_initiator_free(ini, buf);
	return 0;
}

/* ---- hotplug events ---- */

static int cmd_events(void)
{
	ini_open(1, 0, 1 << 20);
	char feat[256];
	features_string(feat, sizeof(feat));
	if (!(vhostio_initiator_features(ini) & (1u << 1)))
		die(1, "the HOTPLUG feature was not negotiated (features %s)", feat);
	/* Tests wait for this line before they change the LUNs. */
	fprintf(stderr, "vhostio-io: attached, waiting for %d event(s)\n", cfg.count);
	uint64_t deadline = now_ns() + (uint64_t)cfg.timeout_ms * 1000000u;
	int got = 0;
	if (cfg.json)
		fputs("{\"events\": [", stdout);
	while (got < cfg.count) {
		struct vhostio_scsi_event ev[16];
		int n = vhostio_initiator_events(ini, ev, 16);
		if (n < 0)
			die(1, "events: %s", strerror(-n));
		for (int i = 0; i < n; i++, got++) {
			const char *reason = ev[i].reason == 1 ? "rescan" : ev[i].reason == 2 ? "removed" : "other";
			bool missed = ev[i].event & 0x80000000u;
			if (cfg.json)
				printf("%s{\"event\": %u, \"lun\": %u, \"reason\": \"%s\", \"missed\": %s}",
				       got ? ", " : "", ev[i].event & 0x7fffffffu, ev[i].lun, reason,
				       missed ? "true" : "false");
			else
				printf("event %u lun %u reason %s%s\n", ev[i].event & 0x7fffffffu, ev[i].lun, reason,
				       missed ? " (events were missed)" : "");
			fflush(stdout);
		}
		if (n)
			continue;
		int64_t left = (int64_t)deadline - (int64_t)now_ns();
		if (left <= 0)
			break;
		struct pollfd p = { vhostio_initiator_event_fd(ini), POLLIN, 0 };
		/* Wake at least every 100 ms: events() is the authority, not the fd. */
		int ms = (int)(left / 1000000 + 1);
		poll(&p, 1, ms > 100 ? 100 : ms);
	}
	if (cfg.json)
		printf("], \"count\": %d, \"timed_out\": %s}\n", got, got < cfg.count ? "true" : "false");
	if (got < cfg.count) {
		fprintf(stderr, "vhostio-io: %d of %d event(s) within %d ms\n", got, cfg.count, cfg.timeout_ms);
		return 1;
	}
	return 0;
}

/* ---- configfs: the library's vhost fabric functions ---- */

static int cmd_config(const char *what)
{
	if (!cfg.wwpn)
		die(EXIT_USAGE, "--wwpn is required");
	int r;
	if (!strcmp(what, "target-create")) {
		char nexus[64];
		if (!cfg.nexus) {
			/* Same naa. prefix as the port, last digit changed: a distinct name. */
			snprintf(nexus, sizeof(nexus), "%s", cfg.wwpn);
			size_t l = strlen(nexus);
			if (l)
				nexus[l - 1] = nexus[l - 1] == 'f' ? 'e' : 'f';
		}
		r = vhostio_vhost_target_create(cfg.wwpn, cfg.tpgt, cfg.nexus ? cfg.nexus : nexus);
	} else if (!strcmp(what, "target-remove")) {
		r = vhostio_vhost_target_remove(cfg.wwpn, cfg.tpgt);
	} else if (!strcmp(what, "lun-add")) {
		if (!cfg.backstore)
			die(EXIT_USAGE, "lun-add needs --backstore HBA/NAME");
		r = vhostio_vhost_lun_add(cfg.wwpn, cfg.tpgt, cfg.lun, cfg.backstore);
	} else {
		r = vhostio_vhost_lun_remove(cfg.wwpn, cfg.tpgt, cfg.lun);
	}
	if (r < 0)
		die(1, "%s: %s", what, strerror(-r));
	return 0;
}

/* ---- workload ---- */

/*
 * Latency histogram, log2-linear: values below 2^SUB_BITS ns get a bucket
 * each; above, each power of two is split into 2^SUB_BITS linear buckets,
 * so any reported percentile is within 1/2^SUB_BITS of the truth.
 */
#define SUB_BITS 5
#define SUB (1u << SUB_BITS)
#define NBUCKETS ((64 - SUB_BITS) * SUB + SUB)

static unsigned bucket_of(uint64_t v)
{
	if (v < SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned sub = (unsigned)(v >> (msb - SUB_BITS)) & (SUB - 1);
	return (msb - SUB_BITS + 1) * SUB + sub;
}

/* Upper bound of a bucket's values (what percentiles report). */
static uint64_t bucket_top(unsigned b)
{
	if (b < SUB)
		return b;
	unsigned msb = b / SUB + SUB_BITS - 1, sub = b % SUB;
	uint64_t lo = (1ull << msb) | ((uint64_t)sub << (msb - SUB_BITS));
	return lo + (1ull << (msb - SUB_BITS)) - 1;
}

struct stats {
	uint64_t ios, bytes, ok, aborted, other, miscompares, first_bad_lba, ua_retries;
	uint64_t lat_max;
	uint64_t hist[NBUCKETS];
};

static uint64_t percentile(const struct stats *s, double p)
{
	uint64_t total = 0, seen = 0;
	for (unsigned b = 0; b < NBUCKETS; b++)
		total += s->hist[b];
	if (!total)
		return 0;
	uint64_t want = (uint64_t)(p * (double)total + 0.999999);
	if (want < 1)
		want = 1;
	for (unsigned b = 0; b < NBUCKETS; b++) {
		seen += s->hist[b];
		if (seen >= want) {
			uint64_t t = bucket_top(b);
			return t < s->lat_max ? t : s->lat_max;
		}
	}
	return s->lat_max;
}

/*
 * The data pattern: each 512-byte sector starts with a header naming what
 * should be there (magic, byte offset / 512, generation, seed), so a
 * misdirected or stale block says where it came from; the rest is a
 * keyed pseudo-random stream.
 */
#define PATTERN_MAGIC 0x76686f7374696f21ull /* "vhostio!" */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void pattern_fill(uint64_t *w, uint64_t byte_off, uint32_t len, uint32_t gen, uint64_t seed)
{
	for (uint32_t s = 0; s < len / 512; s++, w += 64) {
		uint64_t sector = byte_off / 512 + s;
		w[0] = PATTERN_MAGIC;
		w[1] = sector;
		w[2] = gen;
		w[3] = seed;
		uint64_t k = splitmix(seed ^ (sector * 0x2545f4914f6cdd1dull) ^ ((uint64_t)gen << 48));
		for (unsigned i = 4; i < 64; i++)
			w[i] = k ^ splitmix(k + i);
	}
}

struct slot {
	struct vhostio_scsi_cmd cmd;
	struct iovec iov;
	uint8_t *buf;
	uint64_t *expect;        /* verify/check: the pattern to compare with */
	uint64_t byte_off;
	uint64_t t0;
	bool busy, write;
	uint8_t retries;          /* UNIT ATTENTION retries of this command */
};

struct worker {
	pthread_t thread;
	uint32_t queue;
	uint64_t rng;
	struct slot *slots;
	struct stats st;
	bool hung, ua_said;
	int err;
};

/* Shared between workers. */
static struct {
	uint32_t lbsize;
	uint64_t nblocks;         /* blocks of cfg.bs in the working set */
	uint64_t base;            /* byte offset of the working set */
	atomic_uint_fast64_t next;/* next I/O number to hand out */
	uint64_t limit;           /* I/O numbers < limit are handed out (UINT64_MAX: none) */
	uint64_t perm_a, perm_c;  /* random order, each block once: (a*i + c) mod n */
	bool write_phase;         /* verify: writing, else reading */
	uint32_t gen;
	uint64_t deadline;        /* ns; 0: none */
	atomic_bool stop;
	atomic_uint reported;     /* miscompare lines printed */
	atomic_uint_fast64_t miscompares;
} W;

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b, b = t;
	}
	return a;
}

/* Pick a, c so that i -> (a*i + c) mod n visits every block once. */
static void perm_init(uint64_t seed)
{
	uint64_t n = W.nblocks;
	uint64_t a = n > 2 ? (splitmix(seed) % (n - 1)) + 1 : 1;
	while (gcd(a, n) != 1)
		a++;
	W.perm_a = a % n ? a % n : 1;
	W.perm_c = splitmix(seed + 1) % n;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return *s = x;
}

/* The next block for a worker, or false when its work is done. */
static bool next_block(struct worker *w, uint64_t *block)
{
	if (atomic_load_explicit(&W.stop, memory_order_relaxed))
		return false;
	uint64_t i = atomic_fetch_add_explicit(&W.next, 1, memory_order_relaxed);
	if (i >= W.limit)
		return false;
	if (cfg.rw == RW_VERIFY)
		/* Every block exactly once per phase; randverify in a permuted order. */
		*block = cfg.random ? (unsigned __int128)W.perm_a * (i % W.nblocks) % W.nblocks
				     + W.perm_c : i % W.nblocks;
	else
		*block = cfg.random ? xorshift(&w->rng) % W.nblocks : i % W.nblocks;
	*block %= W.nblocks;
	return true;
}

static void report_miscompare(struct slot *s)
{
	const uint64_t *got = (const uint64_t *)s->buf;
	for (uint32_t sec = 0; sec < cfg.bs / 512; sec++) {
		const uint64_t *g = got + sec * 64, *e = s->expect + sec * 64;
		if (!memcmp(g, e, 512))
			continue;
		uint64_t lba = (s->byte_off + (uint64_t)sec * 512) / W.lbsize;
		unsigned at = 0;
		while (((const uint8_t *)g)[at] == ((const uint8_t *)e)[at])
			at++;
		if (atomic_fetch_add(&W.reported, 1) < 20) {
			if (g[0] == PATTERN_MAGIC)
				fprintf(stderr, "vhostio-io: miscompare at LBA %" PRIu64 " (sector %" PRIu64
					"), first differing byte %u: holds sector %" PRIu64 " generation %" PRIu64
					" seed %" PRIu64 ", expected generation %u seed %" PRIu64 "\n",
					lba, e[1], at, g[1], g[2], g[3], W.gen, cfg.seed);
			else
				fprintf(stderr, "vhostio-io: miscompare at LBA %" PRIu64 " (sector %" PRIu64
					"): no pattern header (first word 0x%016" PRIx64 ")\n", lba, e[1], g[0]);
		}
		return;
	}
}

static void prepare(struct slot *s, uint64_t block, bool write)
{
	struct vhostio_scsi_cmd *c = &s->cmd;
	uint64_t off = W.base + block * cfg.bs;
	void *opaque = c->opaque;
	memset(c, 0, sizeof(*c));
	c->opaque = opaque;
	c->lun = cfg.lun;
	c->cdb_len = 16;
	c->cdb[0] = write ? 0x8a : 0x88; /* WRITE(16) / READ(16) */
	put_be64(c->cdb + 2, off / W.lbsize);
	put_be32(c->cdb + 10, cfg.bs / W.lbsize);
	s->iov.iov_base = s->buf;
	s->iov.iov_len = cfg.bs;
	if (write) {
		pattern_fill((uint64_t *)s->buf, off, cfg.bs, W.gen, cfg.seed);
		c->data_out = &s->iov;
		c->data_out_cnt = 1;
	} else {
		c->data_in = &s->iov;
		c->data_in_cnt = 1;
	}
	s->byte_off = off;
	s->write = write;
	s->retries = 0;
}

static void complete(struct worker *w, struct slot *s, uint64_t t)
{
	struct vhostio_scsi_cmd *c = &s->cmd;
	uint64_t lat = t - s->t0;
	if (is_unit_attention(c) && s->retries < 5) {
		/* Not executed: resubmit as is (t0 == 0 marks it for the retry loop). */
		s->retries++;
		w->st.ua_retries++;
		c->response = c->status = 0;
		c->sense_len = 0;
		c->residual = 0;
		s->t0 = 0;
		return;
	}
	w->st.ios++;
	w->st.hist[bucket_of(lat)]++;
	if (lat > w->st.lat_max)
		w->st.lat_max = lat;
	s->busy = false;
	if (c->response == VHOSTIO_VIRTIO_S_OK && c->status == VHOSTIO_SAM_GOOD && c->residual == 0) {
		w->st.ok++;
		w->st.bytes += cfg.bs;
		if (!s->write && (cfg.rw == RW_VERIFY || cfg.check)) {
			pattern_fill(s->expect, s->byte_off, cfg.bs, W.gen, cfg.seed);
			if (memcmp(s->buf, s->expect, cfg.bs)) {
				if (!w->st.miscompares)
					w->st.first_bad_lba = s->byte_off / W.lbsize;
				w->st.miscompares++;
				report_miscompare(s);
			}
		}
		return;
	}
	/* Aborted by a task management function: virtio said so, or LIO's TAS. */
	if (c->response == VHOSTIO_VIRTIO_S_ABORTED || c->response == VHOSTIO_VIRTIO_S_RESET ||
	    (c->response == VHOSTIO_VIRTIO_S_OK && c->status == SAM_TASK_ABORTED)) {
		w->st.aborted++;
		return;
	}
	w->st.other++;
	if (w->st.other <= 5) {
		char d[96];
		describe_failure(c, d, sizeof(d));
		if (c->response == VHOSTIO_VIRTIO_S_OK && c->status == VHOSTIO_SAM_GOOD)
			snprintf(d, sizeof(d), "residual %u", c->residual);
		fprintf(stderr, "vhostio-io: queue %u: %s at LBA %" PRIu64 ": %s\n", w->queue,
			s->write ? "WRITE" : "READ", s->byte_off / W.lbsize, d);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct vhostio_scsi_cmd *done[256];
	uint32_t inflight = 0;
	uint64_t last_progress = now_ns();
	bool more = true;
	for (;;) {
		/* Fill every idle slot, then one kick for the batch. */
		uint32_t queued = 0;
		if (W.deadline && now_ns() >= W.deadline)
			more = false;
		for (uint32_t i = 0; more && i < cfg.qd; i++) {
			struct slot *s = &w->slots[i];
			uint64_t block;
			if (s->busy)
				continue;
			if (!next_block(w, &block)) {
				more = false;
				break;
			}
			bool write = cfg.rw == RW_WRITE || (cfg.rw == RW_VERIFY && W.write_phase);
			prepare(s, block, write);
			s->t0 = now_ns();
			int r = vhostio_initiator_submit(ini, w->queue, &s->cmd);
			if (r == -EAGAIN) {
				/* Out of descriptors: keep the command, resubmit after a reap. */
				s->busy = true;
				s->t0 = 0;
				break;
			}
			if (r < 0) {
				w->err = r;
				more = false;
				break;
			}
			s->busy = true;
			inflight++, queued++;
		}
		if (queued) {
			int r = vhostio_initiator_kick(ini, w->queue);
			if (r < 0) {
				w->err = r;
				more = false;
			}
		}
		/* Retry commands that found no descriptors (t0 == 0 marks them). */
		uint32_t retried = 0;
		for (uint32_t i = 0; queued == 0 && i < cfg.qd; i++) {
			struct slot *s = &w->slots[i];
			if (!s->busy || s->t0)
				continue;
			s->t0 = now_ns();
			if (vhostio_initiator_submit(ini, w->queue, &s->cmd) < 0) {
				s->t0 = 0;
				break;
			}
			inflight++, retried++;
		}
		if (retried)
			vhostio_initiator_kick(ini, w->queue);
		if (!inflight) {
			bool pending = false;
			for (uint32_t i = 0; i < cfg.qd; i++)
				pending |= w->slots[i].busy;
			if (!more && !pending)
				break;
		}
		int n = vhostio_initiator_reap(ini, w->queue, done, 256);
		if (n < 0) {
			w->err = n;
			break;
		}
		if (n == 0) {
			int r = vhostio_initiator_wait(ini, w->queue, 100);
			if (r < 0 && r != -ETIMEDOUT && r != -EINTR) {
				w->err = r;
				break;
			}
			if (inflight && now_ns() - last_progress > (uint64_t)cfg.hang_ms * 1000000u) {
				w->hung = true;
				break;
			}
			if (interrupted)
				more = false;
			continue;
		}
		uint64_t t = now_ns();
		last_progress = t;
		for (int i = 0; i < n; i++) {
			complete(w, done[i]->opaque, t);
			inflight--;
		}
		if (w->st.ua_retries == 1 && !w->ua_said) {
			w->ua_said = true;
			fprintf(stderr, "vhostio-io: queue %u: unit attention, retrying the command(s)\n", w->queue);
		}
	}
	return NULL;
}

static void stats_merge(struct stats *into, const struct stats *s)
{
	into->ios += s->ios, into->bytes += s->bytes, into->ok += s->ok;
	into->aborted += s->aborted, into->other += s->other, into->ua_retries += s->ua_retries;
	if (s->miscompares && !into->miscompares)
		into->first_bad_lba = s->first_bad_lba;
	into->miscompares += s->miscompares;
	if (s->lat_max > into->lat_max)
		into->lat_max = s->lat_max;
	for (unsigned b = 0; b < NBUCKETS; b++)
		into->hist[b] += s->hist[b];
}

static const char *rw_name(void)
{
	static const char *const n[2][3] = { { "read", "write", "verify" }, { "randread", "randwrite", "randverify" } };
	return n[cfg.random][cfg.rw];
}

struct reset_result {
	bool done;
	int response;             /* virtio response or -errno */
	uint64_t at_ns;           /* when it returned, from the start */
	uint64_t took_ns;
};

/* One phase: workers on every queue until the I/O count or the deadline. */
static bool run_phase(struct worker *ws, struct stats *total, double *secs,
		      struct reset_result *rr)
{
	atomic_store(&W.next, 0);
	atomic_store(&W.stop, false);
	uint64_t t0 = now_ns();
	W.deadline = cfg.runtime > 0 && (cfg.rw != RW_VERIFY) ? t0 + (uint64_t)(cfg.runtime * 1e9) : 0;
	for (uint32_t q = 0; q < cfg.queues; q++) {
		memset(&ws[q].st, 0, sizeof(ws[q].st));
		ws[q].hung = false;
		int r = pthread_create(&ws[q].thread, NULL, worker_main, &ws[q]);
		if (r)
			die(1, "pthread_create: %s", strerror(r));
	}
	if (rr && !rr->done) {
		/* LUN reset from this thread while the workers keep I/O in flight. */
		struct timespec d = { cfg.reset_after_ms / 1000, (long)(cfg.reset_after_ms % 1000) * 1000000 };
		nanosleep(&d, NULL);
		uint64_t r0 = now_ns();
		rr->response = vhostio_initiator_lun_reset(ini, cfg.lun, cfg.hang_ms);
		rr->took_ns = now_ns() - r0;
		rr->at_ns = now_ns() - t0;
		rr->done = true;
	}
	bool hung = false;
	for (uint32_t q = 0; q < cfg.queues; q++) {
		pthread_join(ws[q].thread, NULL);
		stats_merge(total, &ws[q].st);
		hung |= ws[q].hung;
		if (ws[q].err)
			fprintf(stderr, "vhostio-io: queue %u: %s\n", q, strerror(-ws[q].err));
	}
	*secs += (double)(now_ns() - t0) / 1e9;
	for (uint32_t q = 0; q < cfg.queues; q++)
		if (ws[q].err)
			total->other++; /* an initiator error is an error of the run */
	return !hung;
}

/* The latency object last: a phase stays easy to pick apart with sed. */
static void print_phase_json(const char *name, const struct stats *s, double secs, bool comma)
{
	printf("%s\"%s\": {\"ios\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"seconds\": %.3f, "
	       "\"iops\": %.1f, \"mbps\": %.2f, \"ok\": %" PRIu64 ", \"aborted\": %" PRIu64 ", \"errors\": %" PRIu64
	       ", \"miscompares\": %" PRIu64 ", \"ua_retries\": %" PRIu64
	       ", \"lat_us\": {\"p50\": %.1f, \"p99\": %.1f, \"p99.9\": %.1f, \"max\": %.1f}}",
	       comma ? ", " : "", name, s->ios, s->bytes, secs, secs > 0 ? (double)s->ios / secs : 0,
	       secs > 0 ? (double)s->bytes / secs / 1e6 : 0, s->ok, s->aborted, s->other, s->miscompares,
	       s->ua_retries, percentile(s, .5) / 1e3, percentile(s, .99) / 1e3, percentile(s, .999) / 1e3,
	       s->lat_max / 1e3);
}

static void print_phase_text(const char *name, const struct stats *s, double secs)
{
	printf("%-6s ios=%" PRIu64 " bytes=%" PRIu64 " time=%.3fs iops=%.0f MB/s=%.2f\n", name, s->ios, s->bytes,
	       secs, secs > 0 ? (double)s->ios / secs : 0, secs > 0 ? (double)s->bytes / secs / 1e6 : 0);
	printf("       lat(us) p50=%.1f p99=%.1f p99.9=%.1f max=%.1f\n", percentile(s, .5) / 1e3,
	       percentile(s, .99) / 1e3, percentile(s, .999) / 1e3, s->lat_max / 1e3);
	printf("       ok=%" PRIu64 " aborted=%" PRIu64 " errors=%" PRIu64 " miscompares=%" PRIu64
	       " ua_retries=%" PRIu64 "\n", s->ok, s->aborted, s->other, s->miscompares, s->ua_retries);
}

static uint32_t pow2_at_least(uint64_t v)
{
	uint32_t p = 1;
	while (p < v && p < 32768)
		p <<= 1;
	return p;
}

static int cmd_run(void)
{
	if (cfg.bs < 512 || cfg.bs % 512)
		die(EXIT_USAGE, "--bs must be a multiple of 512");
	if (cfg.qd < 1 || cfg.qd > 4096)
		die(EXIT_USAGE, "--qd must be 1..4096");
	if (cfg.rw == RW_VERIFY && cfg.ios)
		die(EXIT_USAGE, "verify covers the working set: use --passes or --runtime, not --ios");
	/* A command takes up to 3 descriptors (header, data, response) without INDIRECT_DESC. */
	uint32_t qsize = cfg.queue_size ? cfg.queue_size : pow2_at_least((uint64_t)cfg.qd * 3 < 128 ? 128 : (uint64_t)cfg.qd * 3);
	uint64_t arena = (uint64_t)cfg.queues * cfg.qd * cfg.bs * 2 + (1 << 20);
	ini_open(cfg.queues, qsize, arena < (64u << 20) ? 0 : arena);
	if (vhostio_initiator_num_queues(ini) < cfg.queues)
		die(1, "only %u request queue(s)", vhostio_initiator_num_queues(ini));

	uint64_t nlbas;
	bool lbpme;
	if (read_capacity(&nlbas, &W.lbsize, &lbpme) < 0)
		return 1;
	if (!W.lbsize || cfg.bs % W.lbsize)
		die(EXIT_USAGE, "--bs %u is not a multiple of the LUN's block size %u", cfg.bs, W.lbsize);
	uint64_t cap = nlbas * W.lbsize;
	if (cfg.offset % W.lbsize || cfg.offset >= cap)
		die(EXIT_USAGE, "--offset must be block aligned and below the capacity (%" PRIu64 ")", cap);
	uint64_t size = cfg.size ? cfg.size : cap - cfg.offset;
	if (size > cap - cfg.offset)
		die(EXIT_USAGE, "--offset + --size beyond the capacity (%" PRIu64 " bytes)", cap);
	W.base = cfg.offset;
	W.nblocks = size / cfg.bs;
	if (!W.nblocks)
		die(EXIT_USAGE, "the working set is smaller than one block of %u bytes", cfg.bs);
	W.gen = cfg.generation;
	perm_init(cfg.seed);

	struct worker *ws = calloc(cfg.queues, sizeof(*ws));
	if (!ws)
		die(1, "out of memory");
	for (uint32_t q = 0; q < cfg.queues; q++) {
		ws[q].queue = q;
		ws[q].rng = splitmix(cfg.seed * 1000003u + q) | 1;
		ws[q].slots = calloc(cfg.qd, sizeof(struct slot));
		if (!ws[q].slots)
			die(1, "out of memory");
		for (uint32_t i = 0; i < cfg.qd; i++) {
			struct slot *s = &ws[q].slots[i];
			s->buf = vhostio_initiator_alloc(ini, cfg.bs);
			s->expect = malloc(cfg.bs);
			if (!s->buf || !s->expect)
				die(1, "no I/O memory for %u x %u x %u bytes", cfg.queues, cfg.qd, cfg.bs);
			s->cmd.opaque = s;
		}
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct stats wr = { 0 }, rd = { 0 }, all = { 0 };
	double wsecs = 0, rsecs = 0, secs = 0;
	struct reset_result rr = { 0 };
	struct reset_result *rrp = cfg.reset_after_ms >= 0 ? &rr : NULL;
	bool ok = true;
	uint32_t passes = 0;
	if (cfg.rw == RW_VERIFY) {
		/* Passes of write-all then read-all; --runtime repeats them with a new generation. */
		uint64_t t_end = cfg.runtime > 0 ? now_ns() + (uint64_t)(cfg.runtime * 1e9) : 0;
		do {
			W.limit = W.nblocks;
			W.write_phase = true;
			ok = run_phase(ws, &wr, &wsecs, rrp);
			if (!ok || interrupted)
				break;
			W.write_phase = false;
			ok = run_phase(ws, &rd, &rsecs, NULL);
			passes++;
			W.gen++;
		} while (ok && !interrupted && (t_end ? now_ns() < t_end : passes < cfg.passes));
		stats_merge(&all, &wr);
		stats_merge(&all, &rd);
		secs = wsecs + rsecs;
	} else {
		W.limit = cfg.ios ? cfg.ios : cfg.runtime > 0 ? UINT64_MAX : W.nblocks;
		ok = run_phase(ws, &all, &secs, rrp);
	}
	if (cfg.rw == RW_VERIFY)
		all.miscompares = rd.miscompares;

	char feat[256];
	features_string(feat, sizeof(feat));
	if (cfg.json) {
		printf("{\"rw\": \"%s\", \"lun\": %u, \"bs\": %u, \"qd\": %u, \"queues\": %u, \"queue_size\": %u, "
		       "\"offset\": %" PRIu64 ", \"size\": %" PRIu64 ", \"block_size\": %u, \"seed\": %" PRIu64
		       ", \"generation\": %u, \"features\": \"%s\", \"features_bits\": \"0x%" PRIx64 "\"",
		       rw_name(), cfg.lun, cfg.bs, cfg.qd, cfg.queues, qsize, W.base, W.nblocks * cfg.bs, W.lbsize,
		       cfg.seed, cfg.generation, feat, vhostio_initiator_features(ini));
		if (cfg.rw == RW_VERIFY)
			printf(", \"passes\": %u", passes);
		print_phase_json("total", &all, secs, true);
		if (cfg.rw == RW_VERIFY) {
			print_phase_json("write", &wr, wsecs, true);
			print_phase_json("read", &rd, rsecs, true);
		}
		if (rrp)
			printf(", \"lun_reset\": {\"done\": %s, \"response\": \"%s\", \"at_ms\": %.1f, \"took_ms\": %.1f}",
			       rr.done ? "true" : "false",
			       rr.response < 0 ? strerror(-rr.response) : response_name((unsigned)rr.response),
			       rr.at_ns / 1e6, rr.took_ns / 1e6);
		printf(", \"hang\": %s}\n", ok ? "false" : "true");
	} else {
		printf("%s lun=%u bs=%u qd=%u queues=%u size=%" PRIu64 " offset=%" PRIu64 " lbsize=%u\n", rw_name(),
		       cfg.lun, cfg.bs, cfg.qd, cfg.queues, W.nblocks * cfg.bs, W.base, W.lbsize);
		printf("features: %s\n", feat);
		if (cfg.rw == RW_VERIFY) {
			printf("passes: %u\n", passes);
			print_phase_text("write", &wr, wsecs);
			print_phase_text("read", &rd, rsecs);
		}
		print_phase_text("total", &all, secs);
		if (rrp)
			printf("lun reset: %s at %.1f ms, took %.1f ms\n",
			       rr.response < 0 ? strerror(-rr.response) : response_name((unsigned)rr.response),
			       rr.at_ns / 1e6, rr.took_ns / 1e6);
	}
	fflush(stdout);
	if (!ok) {
		/* Commands the kernel still owns: don't release their memory, just go. */
		fprintf(stderr, "vhostio-io: hang: commands outstanding for more than %d ms\n", cfg.hang_ms);
		_exit(EXIT_HANG);
	}
	if (rrp && (!rr.done || rr.response != VHOSTIO_VIRTIO_S_FUNCTION_SUCCEEDED)) {
		fprintf(stderr, "vhostio-io: LUN reset failed\n");
		return 1;
	}
	if (all.miscompares)
		fprintf(stderr, "vhostio-io: %" PRIu64 " miscompare(s), first at LBA %" PRIu64 "\n", all.miscompares,
			all.first_bad_lba);
	for (uint32_t q = 0; q < cfg.queues; q++) {
		for (uint32_t i = 0; i < cfg.qd; i++) {
			vhostio_initiator_free(ini, ws[q].slots[i].buf);
			free(ws[q].slots[i].expect);
		}
		free(ws[q].slots);
	}
	free(ws);
	/* Aborted commands are expected under a LUN reset, and only there. */
	bool aborted_bad = all.aborted && !rrp;
	return all.miscompares || all.other || aborted_bad || interrupted ? 1 : 0;
}

static void usage(FILE *f)
{
	fputs("usage: vhostio-io COMMAND --wwpn naa.X [--tpgt N] [--lun L] [options]\n"
	      "commands:\n"
	      "  inquiry | readcap | report-luns     one command, decoded (--json)\n"
	      "  run                                 a workload (below)\n"
	      "  events [--count N] [--timeout MS]   wait for hotplug events\n"
	      "  target-create [--nexus NAME] | target-remove\n"
	      "  lun-add --backstore HBA/NAME | lun-remove   (configfs, target/vhost)\n"
	      "run options:\n"
	      "  --rw read|write|randread|randwrite|verify|randverify   (default read)\n"
	      "  --bs SIZE --qd N --queues N --queue-size N\n"
	      "  --runtime SECONDS | --ios COUNT   (default: one pass over the working set)\n"
	      "  --size BYTES --offset BYTES --seed N --generation N --passes N --check\n"
	      "  --lun-reset-after MS --hang-timeout MS\n"
	      "common: --device PATH --timeout MS --json --features-mask BITS\n",
	      f);
}

int main(int argc, char **argv)
{
	enum {
		O_WWPN = 256, O_TPGT, O_LUN, O_DEVICE, O_JSON, O_TIMEOUT, O_RW, O_BS, O_QD, O_QUEUES, O_QSIZE,
		O_RUNTIME, O_IOS, O_SIZE, O_OFFSET, O_SEED, O_GEN, O_PASSES, O_CHECK, O_RESET, O_HANG,
		O_COUNT, O_NEXUS, O_BACKSTORE, O_FMASK,
	};
	static const struct option opts[] = {
		{ "wwpn", required_argument, NULL, O_WWPN },
		{ "tpgt", required_argument, NULL, O_TPGT },
		{ "lun", required_argument, NULL, O_LUN },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "json", no_argument, NULL, O_JSON },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "rw", required_argument, NULL, O_RW },
		{ "bs", required_argument, NULL, O_BS },
		{ "qd", required_argument, NULL, O_QD },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "queue-size", required_argument, NULL, O_QSIZE },
		{ "runtime", required_argument, NULL, O_RUNTIME },
		{ "ios", required_argument, NULL, O_IOS },
		{ "size", required_argument, NULL, O_SIZE },
		{ "offset", required_argument, NULL, O_OFFSET },
		{ "seed", required_argument, NULL, O_SEED },
		{ "generation", required_argument, NULL, O_GEN },
		{ "passes", required_argument, NULL, O_PASSES },
		{ "check", no_argument, NULL, O_CHECK },
		{ "lun-reset-after", required_argument, NULL, O_RESET },
		{ "hang-timeout", required_argument, NULL, O_HANG },
		{ "count", required_argument, NULL, O_COUNT },
		{ "nexus", required_argument, NULL, O_NEXUS },
		{ "backstore", required_argument, NULL, O_BACKSTORE },
		{ "features-mask", required_argument, NULL, O_FMASK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case O_WWPN: cfg.wwpn = optarg; break;
		case O_TPGT: cfg.tpgt = (uint16_t)size_arg("--tpgt", optarg, 0, 65535); break;
		case O_LUN: cfg.lun = (uint16_t)size_arg("--lun", optarg, 0, 16383); break;
		case O_DEVICE: cfg.device = optarg; break;
		case O_JSON: cfg.json = true; break;
		case O_TIMEOUT: cfg.timeout_ms = (int)size_arg("--timeout", optarg, 1, INT_MAX); break;
		case O_RW: {
			const char *m = optarg;
			cfg.random = !strncmp(m, "rand", 4);
			if (cfg.random)
				m += 4;
			if (!strcmp(m, "read")) cfg.rw = RW_READ;
			else if (!strcmp(m, "write")) cfg.rw = RW_WRITE;
			else if (!strcmp(m, "verify")) cfg.rw = RW_VERIFY;
			else die(EXIT_USAGE, "--rw: unknown mode '%s'", optarg);
			break;
		}
		case O_BS: cfg.bs = (uint32_t)size_arg("--bs", optarg, 512, 64u << 20); break;
		case O_QD: cfg.qd = (uint32_t)size_arg("--qd", optarg, 1, 4096); break;
		case O_QUEUES: cfg.queues = (uint32_t)size_arg("--queues", optarg, 1, 128); break;
		case O_QSIZE: cfg.queue_size = (uint32_t)size_arg("--queue-size", optarg, 1, 32768); break;
		case O_RUNTIME: {
			char *end;
			cfg.runtime = strtod(optarg, &end);
			if (*end || cfg.runtime <= 0)
				die(EXIT_USAGE, "--runtime: bad value '%s'", optarg);
			break;
		}
		case O_IOS: cfg.ios = size_arg("--ios", optarg, 1, UINT64_MAX); break;
		case O_SIZE: cfg.size = size_arg("--size", optarg, 512, UINT64_MAX); break;
		case O_OFFSET: cfg.offset = size_arg("--offset", optarg, 0, UINT64_MAX); break;
		case O_SEED: cfg.seed = size_arg("--seed", optarg, 0, UINT64_MAX); break;
		case O_GEN: cfg.generation = (uint32_t)size_arg("--generation", optarg, 0, UINT32_MAX); break;
		case O_PASSES: cfg.passes = (uint32_t)size_arg("--passes", optarg, 1, UINT32_MAX); break;
		case O_CHECK: cfg.check = true; break;
		case O_RESET: cfg.reset_after_ms = (int)size_arg("--lun-reset-after", optarg, 0, INT_MAX); break;
		case O_HANG: cfg.hang_ms = (int)size_arg("--hang-timeout", optarg, 1, INT_MAX); break;
		case O_COUNT: cfg.count = (int)size_arg("--count", optarg, 1, INT_MAX); break;
		case O_NEXUS: cfg.nexus = optarg; break;
		case O_BACKSTORE: cfg.backstore = optarg; break;
		case O_FMASK: cfg.features_mask = size_arg("--features-mask", optarg, 0, UINT64_MAX); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *c = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);
	int rc;
	if (!strcmp(c, "inquiry"))
		rc = cmd_inquiry();
	else if (!strcmp(c, "readcap"))
		rc = cmd_readcap();
	else if (!strcmp(c, "report-luns"))
		rc = cmd_report_luns();
	else if (!strcmp(c, "run"))
		rc = cmd_run();
	else if (!strcmp(c, "events"))
		rc = cmd_events();
	else if (!strcmp(c, "target-create") || !strcmp(c, "target-remove") || !strcmp(c, "lun-add") ||
		 !strcmp(c, "lun-remove"))
		return cmd_config(c);
	else {
		fprintf(stderr, "vhostio-io: unknown command '%s'\n", c);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (ini)
		vhostio_initiator_close(ini);
	return rc;
}
