/* handler_ram: without limit= a LUN may hold at most half of physical memory, so a LUN larger than that
 * refuses writes past it with SPACE ALLOCATION FAILED (27/07); limit= overrides the default either way,
 * and a new config string without limit= gets the default back.
 *
 * The machine is faked to 1 MiB of memory: the test executable defines get_phys_pages(), and the plugin
 * binds to it (the executable's symbols come first, see test-handler-plugin.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "test-handler-plugin.h"

#define BS 4096
#define LBAS 4096 /* 16 MiB, far above the fake machine's memory */
#define CHUNK_BLOCKS 16 /* 64k chunks */
#define FAKE_MEMORY (1 << 20)
#define DEFAULT_CHUNKS (FAKE_MEMORY / 2 / (CHUNK_BLOCKS * BS)) /* 8 */

/* Default visibility: the tree is built with -fvisibility=hidden, and a hidden symbol is not interposed. */
__attribute__((visibility("default"))) long get_phys_pages(void)
{
	return FAKE_MEMORY / sysconf(_SC_PAGESIZE);
}

static int reconfig_string(struct fixture *f, const char *cfg)
{
	struct vhostio_reconfig rc = { .changed = VHOSTIO_RECONFIG_CONFIG, .config = cfg };
	return device_reconfig(f->dev, &rc);
}

/* Write one block at the start of chunks [first, first + n); each must get 'want' (0: GOOD). */
static void write_chunks(struct fixture *f, unsigned first, unsigned n, uint32_t want, const char *what)
{
	uint8_t buf[BS];
	for (unsigned i = first; i < first + n; i++) {
		fill_pattern(buf, BS, i);
		uint16_t id = write_blocks(f, (uint64_t)i * CHUNK_BLOCKS, 1, buf, false);
		uint32_t got = cmd_outcome(f, id);
		CHECK(got == want, "%s: chunk %u: got %06x, want %06x", what, i, got, want);
	}
}

int main(void)
{
	const struct vhostio_handler *h = load_handler("ram");
	CHECK(strstr(h->config_desc, "default half of"), "config_desc should name the default limit");

	/* No limit=: half of the (fake) 1 MiB, 8 chunks. */
	struct fixture *f = fx_new_cfg(h, "ram/big", 256 * 1024, LBAS, BS, false);
	write_chunks(f, 0, DEFAULT_CHUNKS, 0, "default limit");
	write_chunks(f, DEFAULT_CHUNKS, 1, 0x072707, "past the default limit");
	write_chunks(f, 100, 1, 0x072707, "far past the default limit");
	/* What is allocated stays writable and readable; unmapping makes room. */
	write_chunks(f, 0, 1, 0, "rewrite at the limit");
	uint16_t id = read_blocks(f, (DEFAULT_CHUNKS - 1) * CHUNK_BLOCKS, 1);
	CHECK_GOOD(f, id);
	CHECK(check_pattern(ringsim_data(&f->sim, id), BS, DEFAULT_CHUNKS - 1), "last chunk read back wrong");
	CHECK(unmap_blocks(f, 0, CHUNK_BLOCKS) == 0, "unmap chunk 0");
	write_chunks(f, 100, 1, 0, "after unmap");
	write_chunks(f, 101, 1, 0x072707, "limit reached again");

	/* A config change with limit= raises it in place; one without gets the default back. */
	CHECK(reconfig_string(f, "ram/big;limit=1m") == 0, "reconfig limit=1m");
	write_chunks(f, 101, 8, 0, "raised by reconfig");
	write_chunks(f, 109, 1, 0x072707, "past the reconfigured limit");
	CHECK(reconfig_string(f, "ram/renamed") == 0, "reconfig without limit=");
	write_chunks(f, 0, 1, 0x072707, "default again, 16 chunks in use");
	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	fx_free(f);

	/* limit= above the default wins... */
	f = fx_new_cfg(h, "ram/big;limit=1m", 256 * 1024, LBAS, BS, false);
	write_chunks(f, 0, 16, 0, "limit=1m");
	write_chunks(f, 16, 1, 0x072707, "past limit=1m");
	fx_free(f);

	/* ...and so does one below it. */
	f = fx_new_cfg(h, "ram/big;limit=128k", 256 * 1024, LBAS, BS, false);
	write_chunks(f, 0, 2, 0, "limit=128k");
	write_chunks(f, 2, 1, 0x072707, "past limit=128k");
	fx_free(f);

	/* A LUN no larger than the default is never limited: all of it can be written. */
	f = fx_new_cfg(h, "ram/small", 256 * 1024, DEFAULT_CHUNKS * CHUNK_BLOCKS, BS, false);
	write_chunks(f, 0, DEFAULT_CHUNKS, 0, "small LUN");
	fx_free(f);
	return test_exit();
}
