/* inotify_names_serial() on hostile buffers: truncated headers, ev->len past the end (up to UINT32_MAX, where
 * a naive off + sizeof + len wraps), names without a NUL, with a prefix or suffix, empty names, IN_Q_OVERFLOW,
 * several events, misaligned events and buffers.  Each buffer is an exact-size heap copy, so ASan sees any read
 * past its end; UBSan any misaligned access. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "fixture.h"
#include "inotify.h"

#define HDR sizeof(struct inotify_event)

struct buf {
	uint8_t b[4096];
	size_t n;
};

/* Append a header saying 'len', then 'name_bytes' bytes of 'name' (zero-padded). */
static void put(struct buf *b, uint32_t mask, uint32_t len, const char *name, size_t name_bytes)
{
	struct inotify_event ev = { .wd = 1, .mask = mask, .cookie = 0, .len = len };
	if (b->n + HDR + name_bytes > sizeof(b->b))
		abort();
	memcpy(b->b + b->n, &ev, HDR);
	b->n += HDR;
	memset(b->b + b->n, 0, name_bytes);
	if (name)
		memcpy(b->b + b->n, name, strnlen(name, name_bytes));
	b->n += name_bytes;
}

/* A well-formed event: the name NUL-padded to 'len' bytes. */
static void put_ok(struct buf *b, uint32_t mask, const char *name, uint32_t len)
{
	put(b, mask, len, name, len);
}

/* The parser on the first 'len' bytes, copied to 'misalign' bytes past the start of a heap block that ends
 * exactly where they do: nothing after them is addressable. */
static bool parse_at(const struct buf *b, size_t len, size_t misalign)
{
	uint8_t *mem = malloc(len + misalign ? len + misalign : 1);
	if (!mem)
		abort();
	memcpy(mem + misalign, b->b, len);
	bool r = inotify_names_serial(mem + misalign, len);
	free(mem);
	return r;
}

static void expect(const struct buf *b, bool want, const char *what)
{
	for (size_t mis = 0; mis < 4; mis++) {
		bool got = parse_at(b, b->n, mis);
		CHECK(got == want, "%s (buffer %zu bytes, start +%zu): got %d, want %d", what, b->n, mis, got, want);
	}
}

int main(void)
{
	struct buf b;

	/* Nothing at all. */
	CHECK(!inotify_names_serial(NULL, 0), "NULL, 0");
	memset(&b, 0, sizeof(b));
	expect(&b, false, "empty buffer");

	/* The kernel's own event for a write: name NUL-padded to 16 bytes. */
	memset(&b, 0, sizeof(b));
	put_ok(&b, IN_MODIFY, "vpd_unit_serial", 16);
	expect(&b, true, "IN_MODIFY vpd_unit_serial");
	/* Every truncation of it, inside the header or inside the name, is no event. */
	for (size_t cut = 0; cut < b.n; cut++)
		CHECK(!parse_at(&b, cut, 0) && !parse_at(&b, cut, 1), "truncated to %zu of %zu bytes", cut, b.n);
	memset(&b, 0, sizeof(b));
	put_ok(&b, IN_CLOSE_WRITE, "vpd_unit_serial", 32);
	expect(&b, true, "IN_CLOSE_WRITE, name padded to 32");

	/* ev->len says more than the buffer holds. */
	memset(&b, 0, sizeof(b));
	put(&b, IN_MODIFY, 17, "vpd_unit_serial", 16);
	expect(&b, false, "len 17 with 16 name bytes");
	memset(&b, 0, sizeof(b));
	put(&b, IN_MODIFY, 64, "vpd_unit_serial", 16);
	expect(&b, false, "len 64 with 16 name bytes");

	/* Huge lengths: rejected, not wrapped round into a small or negative size. */
	const uint32_t huge[] = { UINT32_MAX, UINT32_MAX - 15, UINT32_MAX - (uint32_t)HDR + 1, 0xfffffff0u,
				  0x80000000u, 0x7fffffffu, 4096, 4081 };
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		memset(&b, 0, sizeof(b));
		put(&b, IN_MODIFY, huge[i], "vpd_unit_serial", 16);
		put_ok(&b, IN_MODIFY, "vpd_unit_serial", 16); /* behind it: never reached */
		expect(&b, false, "huge len");
		memset(&b, 0, sizeof(b));
		put(&b, IN_Q_OVERFLOW, huge[i], NULL, 0);
		expect(&b, false, "IN_Q_OVERFLOW whose len runs past the end");
	}

	/* Names: exactly vpd_unit_serial, up to the first NUL or len. */
	memset(&b, 0, sizeof(b));
	put(&b, IN_MODIFY, 15, "vpd_unit_serial", 15);
	expect(&b, true, "vpd_unit_serial filling len 15, no NUL");
	memset(&b, 0, sizeof(b));
	put(&b, IN_MODIFY, 14, "vpd_unit_serial", 14);
	expect(&b, false, "len 14 cuts it to vpd_unit_seria");
	memset(&b, 0, sizeof(b));
	put(&b, IN_MODIFY, 16, "vpd_unit_serialX", 16);
	expect(&b, false, "vpd_unit_serialX filling len 16, no NUL");
	const char *others[] = { "vpd_unit_serial2", "xvpd_unit_serial", "vpd_unit_seria", "vpd_unit_serial.swp",
				 "VPD_UNIT_SERIAL", "naa", "vpd_assoc_logical_unit", "", "/vpd_unit_serial" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		memset(&b, 0, sizeof(b));
		put_ok(&b, IN_MODIFY, others[i], 32);
		expect(&b, false, others[i]);
	}
	/* A NUL inside the name ends it: what follows is padding, whatever it holds. */
	memset(&b, 0, sizeof(b));
	put(&b, IN_MODIFY, 32, NULL, 0);
	memcpy(b.b + b.n, "vpd_unit_serial\0garbage-garbage", 32);
	b.n += 32;
	expect(&b, true, "vpd_unit_serial, NUL, garbage");
	memset(&b, 0, sizeof(b));
	put(&b, IN_MODIFY, 32, NULL, 0);
	memcpy(b.b + b.n, "vpd\0unit_serial\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 32);
	b.n += 32;
	expect(&b, false, "vpd, NUL, unit_serial");

	/* Zero-length names (events on the directory itself, IN_IGNORED). */
	memset(&b, 0, sizeof(b));
	put_ok(&b, IN_MODIFY, NULL, 0);
	put_ok(&b, IN_IGNORED, NULL, 0);
	expect(&b, false, "two events without a name");
	put_ok(&b, IN_MODIFY, "vpd_unit_serial", 16);
	expect(&b, true, "serial after two events without a name");

	/* IN_Q_OVERFLOW: events were lost, so re-read. */
	memset(&b, 0, sizeof(b));
	put(&b, IN_Q_OVERFLOW, 0, NULL, 0);
	expect(&b, true, "IN_Q_OVERFLOW alone");
	memset(&b, 0, sizeof(b));
	put_ok(&b, IN_MODIFY, "naa", 16);
	put_ok(&b, IN_MODIFY, "pd_unit_serial", 16);
	put(&b, IN_Q_OVERFLOW, 0, NULL, 0);
	expect(&b, true, "IN_Q_OVERFLOW third");

	/* Several events: the serial anywhere among well-formed ones counts; nothing after a malformed one does. */
	memset(&b, 0, sizeof(b));
	put_ok(&b, IN_MODIFY, "naa", 16);
	put_ok(&b, IN_CLOSE_WRITE, "company_id", 16);
	put_ok(&b, IN_CLOSE_WRITE, "vpd_unit_serial", 16);
	put_ok(&b, IN_MODIFY, "naa", 16);
	expect(&b, true, "serial third of four");
	memset(&b, 0, sizeof(b));
	put_ok(&b, IN_CLOSE_WRITE, "vpd_unit_serial", 16);
	put(&b, IN_MODIFY, 1000, "naa", 4);
	expect(&b, true, "serial, then a malformed event");
	memset(&b, 0, sizeof(b));
	put_ok(&b, IN_MODIFY, "naa", 16);
	put(&b, IN_MODIFY, 1000, "naa", 4);
	put_ok(&b, IN_CLOSE_WRITE, "vpd_unit_serial", 16);
	expect(&b, false, "serial behind a malformed event");
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 100; i++)
		put_ok(&b, IN_MODIFY, "naa", 16);
	expect(&b, false, "100 other events");
	b.n -= 5; /* the last event cut short */
	expect(&b, false, "100 other events, the last truncated");

	/* Misaligned: a len no multiple of 4 leaves the next header anywhere; it is still parsed, safely. */
	for (uint32_t len = 1; len <= 9; len++) {
		memset(&b, 0, sizeof(b));
		put_ok(&b, IN_MODIFY, "x", len);
		put_ok(&b, IN_MODIFY, "vpd_unit_serial", 16);
		expect(&b, true, "serial after an event of odd length");
		memset(&b, 0, sizeof(b));
		put_ok(&b, IN_MODIFY, "x", len);
		put(&b, IN_Q_OVERFLOW, 0, NULL, 0);
		expect(&b, true, "IN_Q_OVERFLOW after an event of odd length");
		memset(&b, 0, sizeof(b));
		put_ok(&b, IN_MODIFY, "x", len);
		put_ok(&b, IN_MODIFY, "vpd_unit_serial", 16);
		b.n -= 1;
		expect(&b, false, "truncated serial after an event of odd length");
	}
	/* Trailing bytes shorter than a header after whole events. */
	for (size_t extra = 1; extra < HDR; extra++) {
		memset(&b, 0, sizeof(b));
		put_ok(&b, IN_MODIFY, "naa", 16);
		b.n += extra;
		expect(&b, false, "a partial header after one event");
	}
	return test_exit();
}
