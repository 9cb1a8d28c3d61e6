/* The exported helpers of <vhostio/common.h>: size parsing, reasons, sense decoding (hostile input too). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h" /* CHECK */
#include "sense.h"

static int parse(const char *s, uint64_t *v)
{
	return vhostio_parse_size(s, strlen(s), v);
}

int main(void)
{
	static const struct {
		const char *in;
		uint64_t want;
	} good[] = {
		{ "0", 0 }, { "512", 512 }, { "4k", 4096 }, { "4K", 4096 }, { "64m", 64ull << 20 },
		{ "2G", 2ull << 30 }, { "1t", 1ull << 40 }, { "4KiB", 4096 }, { "8kb", 8192 }, { "100B", 100 },
		{ "0x1000", 4096 }, { "0x10k", 16ull << 10 }, { "18446744073709551615", UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 1;
		int ret = parse(good[i].in, &v);
		CHECK(ret == 0 && v == good[i].want, "'%s' -> %d, %llu", good[i].in, ret, (unsigned long long)v);
	}
	static const char *const bad[] = { "", "k", "-1", " 4k", "4k ", "4x", "4kk", "4Kix", "1.5g", "0x", "4iB" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;
		CHECK(parse(bad[i], &v) == -EINVAL && v == 7, "'%s' must be refused and leave *out", bad[i]);
	}
	uint64_t v;
	CHECK(parse("18446744073709551616", &v) == -ERANGE, "2^64 overflows");
	CHECK(parse("17179869184g", &v) == -ERANGE, "2^34 g overflows");
	CHECK(vhostio_parse_size("64m;limit", 3, &v) == 0 && v == 64ull << 20, "only 'len' characters are read");
	CHECK(vhostio_parse_size(NULL, 0, &v) == -EINVAL, "NULL");

	char *reason = NULL;
	vhostio_set_reason(&reason, "bad %s %d", "option", 7);
	CHECK(reason && strcmp(reason, "bad option 7") == 0, "reason '%s'", reason ? reason : "(null)");
	/* The new reason may be built from the old one (ASan catches a use after free). */
	vhostio_set_reason(&reason, "%s; and more", reason);
	CHECK(reason && strcmp(reason, "bad option 7; and more") == 0, "reason '%s'", reason ? reason : "(null)");
	free(reason);
	vhostio_set_reason(NULL, "ignored %d", 1);

	/* Round trip through our own formatter, both formats. */
	struct vhostio_scsi_status in = {
		.status = VHOSTIO_SAM_CHECK_CONDITION, .sense_key = VHOSTIO_SENSE_ILLEGAL_REQUEST,
		.asc = 0x24, .ascq = 0x00, .info_valid = 1, .info = 0x1234, .sks_valid = 1, .sks = { 0x48, 0x00, 0x02 },
	};
	for (int desc = 0; desc <= 1; desc++) {
		uint8_t s[96];
		size_t n = sense_format(&in, desc, s, sizeof(s));
		struct vhostio_scsi_status out;
		CHECK(vhostio_sense_decode(s, n, &out) == 0, "decode %s", desc ? "descriptor" : "fixed");
		CHECK(out.sense_key == in.sense_key && out.asc == in.asc && out.ascq == in.ascq && out.info_valid &&
		      out.info == 0x1234 && out.sks_valid && memcmp(out.sks, in.sks, 3) == 0,
		      "%s sense round trip", desc ? "descriptor" : "fixed");
		/* Every truncation decodes without reading past the buffer (ASan) or fails cleanly. */
		for (size_t len = 0; len < n; len++) {
			uint8_t *cut = malloc(len ? len : 1);
			memcpy(cut, s, len);
			int ret = vhostio_sense_decode(cut, len, &out);
			CHECK(ret == 0 || ret == -EINVAL, "truncated to %zu: %d", len, ret);
			free(cut);
		}
	}
	/* Lengths that lie: an additional length past the buffer, a descriptor overrunning it. */
	uint8_t lie[12] = { 0x72, 0x05, 0x24, 0x00, 0, 0, 0, 250, 0x00, 0x0a, 0x80, 0 };
	struct vhostio_scsi_status out;
	CHECK(vhostio_sense_decode(lie, sizeof(lie), &out) == 0 && out.asc == 0x24 && !out.info_valid,
	      "descriptor past the buffer is ignored");
	uint8_t fixed_short[8] = { 0xf0, 0, 0x06, 0, 0, 0, 9, 250 };
	CHECK(vhostio_sense_decode(fixed_short, sizeof(fixed_short), &out) == 0 && out.sense_key == 6 &&
	      out.info == 9 && out.asc == 0, "short fixed sense: key and INFORMATION only");
	uint8_t junk[18] = { 0x7f };
	CHECK(vhostio_sense_decode(junk, sizeof(junk), &out) == -EINVAL, "unknown response code");
	return test_exit();
}
