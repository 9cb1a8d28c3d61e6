/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for the handler plugin tests (test-handler-ram-*, test-handler-file-*):
 * dlopen the real handler_<subtype>.so from the build tree and call the
 * callbacks that no SCSI command reaches directly.
 *
 * The test executables export the library's public symbols (ENABLE_EXPORTS),
 * so the plugin binds to the copy linked into the test, the one whose
 * command-thread state the fixture drives.
 */
#ifndef TEST_HANDLER_PLUGIN_H
#define TEST_HANDLER_PLUGIN_H

#include <dlfcn.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "scsi_defs.h"

#ifndef VHOSTIO_HANDLER_BUILD_DIR
#error "VHOSTIO_HANDLER_BUILD_DIR must name the directory of the built handler_*.so"
#endif

static inline const struct vhostio_handler *load_handler(const char *subtype)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/handler_%s.so", VHOSTIO_HANDLER_BUILD_DIR, subtype);
	void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!so) {
		fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
		exit(T_EXIT_FAIL);
	}
	/* POSIX lets dlsym's object pointer hold a function; ISO C casts may not convert it. */
	void *sym = dlsym(so, VHOSTIO_HANDLER_ENTRY_NAME);
	vhostio_handler_entry_fn entry;
	memcpy(&entry, &sym, sizeof(entry));
	if (!entry) {
		fprintf(stderr, "%s has no %s\n", path, VHOSTIO_HANDLER_ENTRY_NAME);
		exit(T_EXIT_FAIL);
	}
	return entry(); /* never dlclose'd: the handler struct must outlive every device */
}

/*
 * A stand-alone request for calling a data callback directly (e.g. unmap
 * while no SCSI command maps to it): the library treats it as a step of a
 * multi-step emulation, so its completion lands in shim_done instead of
 * the ring.
 */
struct shim_io {
	struct device_io dio;   /* first: the device layer may queue it as one of its own */
	bool done;
	int result;
};

static inline void shim_done(struct vhostio_io *io)
{
	struct shim_io *s = (struct shim_io *)device_io_of(io);
	s->done = true;
	s->result = io->step_result;
}

static inline void shim_init(struct shim_io *s, struct fixture *f, uint32_t flags)
{
	memset(s, 0, sizeof(*s));
	s->dio.io.lun = &f->dev->lun;
	s->dio.io.iov = s->dio.iov_inline;
	s->dio.iov_cap = IO_INLINE_IOVS;
	s->dio.io.flags = flags;
	s->dio.io.next_step = shim_done;
}

/* Finish a callback's return value: wait for an ASYNC one on the watched fd. */
static inline int shim_wait(struct fixture *f, struct shim_io *s, int ret, int timeout_ms)
{
	if (ret != VHOSTIO_IO_ASYNC)
		return ret;
	for (int waited = 0; !s->done && waited < timeout_ms; waited += 10)
		fx_serve(f, 10);
	return s->done ? s->result : -ETIMEDOUT;
}

/* Sense triple of a finished command, 0 for GOOD, 0xffffff if not finished. */
static inline uint32_t cmd_outcome(struct fixture *f, uint16_t id)
{
	const struct sim_result *r = fx_result(f, id);
	if (!r)
		return 0xffffff;
	return r->status == 0 ? 0 : (r->status == 2 ? sim_sense_triple(r) : 0xfe0000u | r->status);
}

/*
 * UNMAP one extent: through the SCSI command when the library has it,
 * else through the handler's unmap callback.  Returns cmd_outcome()'s
 * triple, or for the direct call 0 / the handler's -errno.
 */
static inline int64_t unmap_blocks(struct fixture *f, uint64_t lba, uint32_t blocks)
{
	static bool warned;
	uint8_t cdb[10] = { OP_UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0 };
	uint8_t param[24] = { 0, 22, 0, 16 };
	for (int i = 0; i < 8; i++)
		param[8 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		param[16 + i] = (uint8_t)(blocks >> (24 - 8 * i));
	uint16_t id = fx_run_wait(f, cdb, sizeof(param), param, 5000);
	uint32_t out = cmd_outcome(f, id);
	if (out != SENSE_INVALID_OPCODE)
		return out;
	if (!warned) {
		fprintf(stderr, "note: the library has no UNMAP command yet; calling the handler's unmap directly\n");
		warned = true;
	}
	uint32_t bs = vhostio_device_block_size(f->dev);
	struct vhostio_range r = { lba * bs, (uint64_t)blocks * bs };
	struct shim_io s;
	shim_init(&s, f, 0);
	return shim_wait(f, &s, f->handler.unmap(f->dev, &s.dio.io, &r, 1), 5000);
}

/* Provisioning state of the extent at byte 'offset', via the handler. */
static inline int lba_state(struct fixture *f, uint64_t offset, uint64_t *len)
{
	uint64_t l = vhostio_device_size(f->dev) - offset;
	int ret = f->handler.lba_status(f->dev, offset, &l);
	if (len)
		*len = l;
	return ret;
}

/* WRITE 16 / READ 16 of 'blocks' blocks; returns the command id. */
static inline uint16_t write_blocks(struct fixture *f, uint64_t lba, uint32_t blocks, const void *buf, bool fua)
{
	uint8_t cdb[16];
	cdb_rw16(cdb, OP_WRITE_16, lba, blocks);
	if (fua)
		cdb[1] |= 0x08;
	return fx_run_wait(f, cdb, (size_t)blocks * vhostio_device_block_size(f->dev), buf, 10000);
}

static inline uint16_t read_blocks(struct fixture *f, uint64_t lba, uint32_t blocks)
{
	uint8_t cdb[16];
	cdb_rw16(cdb, OP_READ_16, lba, blocks);
	return fx_run_wait(f, cdb, (size_t)blocks * vhostio_device_block_size(f->dev), NULL, 10000);
}

static inline bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A fresh directory under $TMPDIR (or /tmp), removed by rm_tree(). */
static inline char *make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	static char path[4096];
	snprintf(path, sizeof(path), "%s/vhostio-test-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(path)) {
		perror("mkdtemp");
		exit(T_EXIT_FAIL);
	}
	return path;
}

/* rm -r, without nftw (which wants _XOPEN_SOURCE). */
static inline void rm_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		chmod(path, 0700); /* a test may leave a directory with mode 0 */
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			size_t n = strlen(path) + strlen(e->d_name) + 2;
			char *sub = malloc(n);
			if (sub) {
				snprintf(sub, n, "%s/%s", path, e->d_name);
				rm_tree(sub);
				free(sub);
			}
		}
		if (d)
			closedir(d);
	}
	remove(path);
}

#endif
