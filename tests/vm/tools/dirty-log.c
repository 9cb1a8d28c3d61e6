// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dirty-log: VHOST_F_LOG_ALL as QEMU drives it around a live migration,
 * on a running device.  The memory table gets a second region that maps
 * the same arena at another guest address (as guest RAM can be mapped
 * twice), logging is switched on (SET_LOG_BASE, SET_LOG_FD, SET_FEATURES
 * with LOG_ALL, SET_VRING_ADDR with VHOST_VRING_F_LOG on the running
 * rings), and then the bitmap must name every page the device wrote:
 *
 *  - a READ's data-in pages, under both guest addresses that map them;
 *  - the used ring, at the guest address given for it;
 *  - and not the pages of a WRITE's data-out, which the device only read;
 *  - nothing once LOG_ALL is off again;
 *  - a log the device cannot write (read-only) fails loudly: the READ's
 *    data still arrives, the queue's error eventfd fires;
 *  - a log base in kernel space, a memory table the log does not cover, a
 *    running ring moved: refused (EFAULT, EFAULT, EBUSY).
 *
 * A test tool built against vhostio_internal (initiator-raw.h gives the fd,
 * the arena and the rings).  PASS/FAIL lines; exit 0 only if all pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vhost.h>

#include <vhostio/initiator.h>

#include "initiator-raw.h"

#define LOG_PAGE 4096ull
#define IO_BYTES (64u * 1024)
#define IO_PAGES ((unsigned)(IO_BYTES / LOG_PAGE))
/* The arena's second guest address, and where the used rings are logged:
 * both below the arena's own (identity) address, which is high in user space. */
#define ALIAS_GPA (1ull << 40)
#define USED_LOG_GPA (3ull << 40)
#define USED_LOG_STRIDE (1ull << 20)
#define VQ_REQ0 2u
#define TIMEOUT_MS 20000

static int failures;

static void check(bool ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	fflush(stdout);
	if (!ok)
		failures++;
}

struct ctx {
	struct vhostio_initiator *ini;
	int fd;
	uint8_t *arena;
	size_t arena_size;
	uint8_t *bitmap;       /* covers every guest address in use */
	size_t bitmap_bytes;
	uint64_t features;     /* as negotiated by the library */
	uint16_t lun;
	int log_fd, err_fd;
};

static bool bit(const struct ctx *c, uint64_t gpa)
{
	uint64_t b = gpa / LOG_PAGE;
	return c->bitmap[b / 8] & (1u << (b % 8));
}

static uint64_t gpa_of(const struct ctx *c, const void *p, bool alias)
{
	uint64_t off = (uint64_t)((const uint8_t *)p - c->arena);
	return alias ? ALIAS_GPA + off : (uint64_t)(uintptr_t)p;
}

/* Bits set over the arena's pages, under one of its two guest addresses. */
static unsigned arena_bits(const struct ctx *c, bool alias)
{
	unsigned n = 0;
	for (size_t off = 0; off < c->arena_size; off += LOG_PAGE)
		n += bit(c, gpa_of(c, c->arena + off, alias));
	return n;
}

/* Pages of [p, p + len) whose bit is set, under one address. */
static unsigned range_bits(const struct ctx *c, const void *p, size_t len, bool alias)
{
	unsigned n = 0;
	for (size_t off = 0; off < len; off += LOG_PAGE)
		n += bit(c, gpa_of(c, (const uint8_t *)p + off, alias));
	return n;
}

static void clear_bits(struct ctx *c)
{
	/* Only the windows in use were touched: clear those, not 4 GiB. */
	uint64_t lo = (uint64_t)(uintptr_t)c->arena / LOG_PAGE / 8, n = c->arena_size / LOG_PAGE / 8 + 1;
	memset(c->bitmap + lo, 0, n);
	memset(c->bitmap + ALIAS_GPA / LOG_PAGE / 8, 0, n);
	memset(c->bitmap + USED_LOG_GPA / LOG_PAGE / 8, 0, 8 * USED_LOG_STRIDE / LOG_PAGE / 8);
}

static int io(struct ctx *c, bool write, void *buf)
{
	struct iovec iov = { buf, IO_BYTES };
	struct vhostio_scsi_cmd cmd = { .lun = c->lun, .cdb_len = 10 };
	cmd.cdb[0] = write ? 0x2a : 0x28; /* WRITE(10) / READ(10), LBA 0 */
	cmd.cdb[7] = (IO_BYTES / 512) >> 8;
	cmd.cdb[8] = (IO_BYTES / 512) & 0xff;
	if (write) {
		cmd.data_out = &iov;
		cmd.data_out_cnt = 1;
	} else {
		cmd.data_in = &iov;
		cmd.data_in_cnt = 1;
	}
	int ret = vhostio_initiator_run(c->ini, &cmd, TIMEOUT_MS);
	if (ret)
		return ret;
	return cmd.response == 0 && cmd.status == 0 ? 0 : -EIO;
}

static int set_features(struct ctx *c, bool log)
{
	uint64_t f = c->features | (log ? 1ull << VHOST_F_LOG_ALL : 0);
	return ioctl(c->fd, VHOST_SET_FEATURES, &f) ? -errno : 0;
}

static int set_log_base(struct ctx *c, const void *base)
{
	uint64_t b = (uint64_t)(uintptr_t)base;
	return ioctl(c->fd, VHOST_SET_LOG_BASE, &b) ? -errno : 0;
}

/* The running rings' own addresses, with the log flag set or cleared. */
static int set_ring_log(struct ctx *c, unsigned nvq, bool log)
{
	for (unsigned i = 0; i < nvq; i++) {
		struct vhostio_raw_vq raw;
		if (vhostio_initiator_raw_vq(c->ini, i, &raw))
			return -EINVAL;
		struct vhost_vring_addr a = {
			.index = i,
			.flags = log ? 1u << VHOST_VRING_F_LOG : 0,
			.desc_user_addr = (uint64_t)(uintptr_t)raw.vq->desc,
			.avail_user_addr = (uint64_t)(uintptr_t)raw.vq->avail,
			.used_user_addr = (uint64_t)(uintptr_t)raw.vq->used,
			.log_guest_addr = USED_LOG_GPA + i * USED_LOG_STRIDE,
		};
		if (ioctl(c->fd, VHOST_SET_VRING_ADDR, &a))
			return -errno;
	}
	return 0;
}

static int set_mem(struct ctx *c, uint64_t alias_gpa)
{
	_Alignas(struct vhost_memory) uint8_t t[sizeof(struct vhost_memory) + 2 * sizeof(struct vhost_memory_region)];
	struct vhost_memory *m = (struct vhost_memory *)t;
	memset(t, 0, sizeof(t));
	m->nregions = 2;
	m->regions[0].guest_phys_addr = (uint64_t)(uintptr_t)c->arena;
	m->regions[0].userspace_addr = (uint64_t)(uintptr_t)c->arena;
	m->regions[0].memory_size = c->arena_size;
	m->regions[1].guest_phys_addr = alias_gpa;
	m->regions[1].userspace_addr = (uint64_t)(uintptr_t)c->arena;
	m->regions[1].memory_size = c->arena_size;
	return ioctl(c->fd, VHOST_SET_MEM_TABLE, m) ? -errno : 0;
}

/* An eventfd's count, waiting up to ms; 0 if it did not fire. */
static uint64_t fired(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v = 0;
	if (poll(&p, 1, ms) == 1 && read(fd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	return v;
}

int main(int argc, char **argv)
{
	const char *wwpn = NULL;
	long tpgt = 1, lun = 0;
	static const struct option opts[] = {
		{ "wwpn", required_argument, NULL, 'w' }, { "tpgt", required_argument, NULL, 't' },
		{ "lun", required_argument, NULL, 'l' },  { 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'w': wwpn = optarg; break;
		case 't': tpgt = strtol(optarg, NULL, 0); break;
		case 'l': lun = strtol(optarg, NULL, 0); break;
		default: goto usage;
		}
	}
	if (!wwpn || optind != argc || tpgt < 0 || tpgt > 65535 || lun < 0 || lun > 16383)
		goto usage;

	struct ctx c = { .lun = (uint16_t)lun };
	struct vhostio_initiator_opts io_opts = { .struct_size = sizeof(io_opts), .arena_size = 8u << 20 };
	int ret = vhostio_initiator_open(&c.ini, &io_opts);
	if (!ret)
		ret = vhostio_initiator_attach(c.ini, wwpn, (uint16_t)tpgt);
	if (ret) {
		fprintf(stderr, "dirty-log: initiator: %s\n", strerror(-ret));
		return 1;
	}
	c.fd = vhostio_initiator_raw_fd(c.ini);
	vhostio_initiator_raw_arena(c.ini, (void **)&c.arena, &c.arena_size);
	c.features = vhostio_initiator_features(c.ini);
	unsigned nvq = VQ_REQ0 + vhostio_initiator_num_queues(c.ini);
	check(!(c.features & (1ull << VHOST_F_LOG_ALL)), "the library does not negotiate LOG_ALL by itself");

	/* One bit per 4 KiB up to the arena's end (high in user space): a few
	 * GiB of address space, of which only the windows used are touched. */
	uint64_t top = (uint64_t)(uintptr_t)c.arena + c.arena_size;
	c.bitmap_bytes = top / LOG_PAGE / 8 + 4096;
	c.bitmap = mmap(NULL, c.bitmap_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *ro = mmap(NULL, c.bitmap_bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *wbuf = vhostio_initiator_alloc(c.ini, IO_BYTES), *rbuf = vhostio_initiator_alloc(c.ini, IO_BYTES);
	c.log_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c.err_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c.bitmap == MAP_FAILED || ro == MAP_FAILED || !wbuf || !rbuf || c.log_fd < 0 || c.err_fd < 0) {
		fprintf(stderr, "dirty-log: setup: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < IO_BYTES; i++)
		wbuf[i] = (uint8_t)(i * 7 + (i >> 12));

	/* Logging off: refusals first. */
	check(set_log_base(&c, (void *)0xffff888000000000ull) == -EFAULT, "SET_LOG_BASE in kernel space: EFAULT");
	check(set_mem(&c, ALIAS_GPA) == 0, "SET_MEM_TABLE on the running device: the arena also at guest address 1 TiB");
	check(io(&c, true, wbuf) == 0, "WRITE of 64 KiB with logging off");

	/* On, as QEMU does at the start of a migration. */
	struct vhost_vring_file ef = { .index = VQ_REQ0, .fd = c.err_fd };
	check(ioctl(c.fd, VHOST_SET_VRING_ERR, &ef) == 0, "SET_VRING_ERR on the request queue");
	check(ioctl(c.fd, VHOST_SET_LOG_FD, &c.log_fd) == 0, "SET_LOG_FD");
	check(set_log_base(&c, c.bitmap) == 0, "SET_LOG_BASE");
	check(set_features(&c, true) == 0, "SET_FEATURES with LOG_ALL while the rings run");
	check(set_ring_log(&c, nvq, true) == 0, "SET_VRING_ADDR with VHOST_VRING_F_LOG on the running rings");

	check(io(&c, true, wbuf) == 0, "WRITE of 64 KiB with logging on");
	check(range_bits(&c, wbuf, IO_BYTES, false) == 0 && range_bits(&c, wbuf, IO_BYTES, true) == 0,
	      "the WRITE's data-out pages are not logged (the device only read them)");
	memset(rbuf, 0, IO_BYTES);
	check(io(&c, false, rbuf) == 0 && !memcmp(rbuf, wbuf, IO_BYTES), "READ of 64 KiB returns what was written");
	unsigned direct = range_bits(&c, rbuf, IO_BYTES, false), alias = range_bits(&c, rbuf, IO_BYTES, true);
	printf("   data-in pages logged: %u of %u at the identity address, %u of %u at the alias\n", direct,
	       IO_PAGES, alias, IO_PAGES);
	check(direct == IO_PAGES, "every data-in page is logged at its guest address");
	check(alias == IO_PAGES, "... and at the second guest address that maps it");
	unsigned a0 = arena_bits(&c, false), a1 = arena_bits(&c, true);
	printf("   arena pages logged: %u (identity), %u (alias)\n", a0, a1);
	check(a0 == a1, "the two mappings of the arena are logged alike");
	check(a0 <= IO_PAGES + 4, "nothing but data-in and the response pages is logged");
	check(bit(&c, USED_LOG_GPA + VQ_REQ0 * USED_LOG_STRIDE), "the request queue's used ring is logged at its log address");
	check(fired(c.log_fd, 1000) > 0, "the log eventfd fired");
	check(set_mem(&c, 1ull << 62) == -EFAULT, "SET_MEM_TABLE the log does not cover, while logging: EFAULT");

	/* A running ring cannot move. */
	{
		struct vhostio_raw_vq raw;
		vhostio_initiator_raw_vq(c.ini, VQ_REQ0, &raw);
		struct vhost_vring_addr a = {
			.index = VQ_REQ0,
			.desc_user_addr = (uint64_t)(uintptr_t)raw.vq->desc,
			.avail_user_addr = (uint64_t)(uintptr_t)raw.vq->avail,
			.used_user_addr = (uint64_t)(uintptr_t)raw.vq->used + 4096,
		};
		check(ioctl(c.fd, VHOST_SET_VRING_ADDR, &a) < 0 && errno == EBUSY,
		      "SET_VRING_ADDR moving a running ring: EBUSY");
	}

	/* A log the device cannot write: the I/O goes on, the failure is told. */
	check(set_log_base(&c, ro) == 0, "SET_LOG_BASE to a read-only mapping (accepted: it is user memory)");
	memset(rbuf, 0, IO_BYTES);
	check(io(&c, false, rbuf) == 0 && !memcmp(rbuf, wbuf, IO_BYTES),
	      "READ with an unwritable log still returns the data");
	check(fired(c.err_fd, 2000) > 0, "the request queue's error eventfd fired for the failed log write");
	check(set_log_base(&c, c.bitmap) == 0, "SET_LOG_BASE back to the bitmap");

	/* Off, as at the end of a migration: nothing more is logged. */
	check(set_ring_log(&c, nvq, false) == 0 && set_features(&c, false) == 0, "LOG_ALL off again");
	clear_bits(&c);
	memset(rbuf, 0, IO_BYTES);
	check(io(&c, false, rbuf) == 0 && !memcmp(rbuf, wbuf, IO_BYTES), "READ with logging off");
	check(arena_bits(&c, false) == 0 && arena_bits(&c, true) == 0 &&
	      !bit(&c, USED_LOG_GPA + VQ_REQ0 * USED_LOG_STRIDE), "nothing is logged with LOG_ALL off");

	vhostio_initiator_close(c.ini);
	printf("dirty-log: %d failure(s)\n", failures);
	return failures ? 1 : 0;
usage:
	fputs("usage: dirty-log --wwpn naa.X [--tpgt N] [--lun L]\n", stderr);
	return 2;
}
