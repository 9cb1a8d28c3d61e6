// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vhostio-io: the one-shot commands (INQUIRY, READ CAPACITY, REPORT LUNS,
 * hotplug events) and the vhost fabric's configfs (target and LUN add and
 * remove, through the library's fabric calls).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <vhostio/initiator.h>
#include <vhostio/vhost_fabric.h>

#include "vhostio-io.h"

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

int cmd_inquiry(struct vio *v)
{
	const struct config *cfg = &v->cfg;
	ini_open(v, 1, 0, 1 << 20);
	uint8_t *buf = vhostio_initiator_alloc(v->ini, 256);
	if (!buf)
		die(1, "no I/O memory");
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 96, 0 };
	memset(buf, 0, 256);
	int n = mgmt_cmd(v, cdb, 6, buf, 96, "INQUIRY");
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
	n = mgmt_cmd(v, vcdb, 6, buf, 252, "INQUIRY VPD 0x80");
	if (n >= 4 && buf[1] == 0x80) {
		size_t l = get_be16(buf + 2);
		if (l > (size_t)n - 4)
			l = (size_t)n - 4;
		trimmed(serial, buf + 4, l);
	}
	vhostio_initiator_free(v->ini, buf);
	if (cfg->json) {
		printf("{\"lun\": %u, \"qualifier\": %u, \"device_type\": %u, \"version\": %u, \"vendor\": ",
		       cfg->lun, qual, type, version);
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
		       cfg->lun, qual, type, version, vendor, product, rev, serial);
	}
	return 0;
}

int cmd_readcap(struct vio *v)
{
	const struct config *cfg = &v->cfg;
	ini_open(v, 1, 0, 1 << 20);
	uint64_t nlbas;
	uint32_t lbsize;
	bool lbpme;
	if (read_capacity(v, &nlbas, &lbsize, &lbpme) < 0)
		return 1;
	/* READ CAPACITY(10) as well: a cross-check of the 16-byte variant. */
	uint8_t *buf = vhostio_initiator_alloc(v->ini, 8);
	uint8_t cdb[10] = { 0x25 };
	int n = buf ? mgmt_cmd(v, cdb, 10, buf, 8, "READ CAPACITY(10)") : -ENOMEM;
	uint64_t last10 = n == 8 ? get_be32(buf) : 0;
	if (buf)
		vhostio_initiator_free(v->ini, buf);
	if (n != 8)
		return 1;
	if (cfg->json)
		printf("{\"lun\": %u, \"lbas\": %" PRIu64 ", \"block_size\": %u, \"bytes\": %" PRIu64
		       ", \"lbpme\": %s, \"last_lba_10\": %" PRIu64 "}\n",
		       cfg->lun, nlbas, lbsize, nlbas * lbsize, lbpme ? "true" : "false", last10);
	else
		printf("lun: %u\nlbas: %" PRIu64 "\nblock size: %u\nbytes: %" PRIu64 "\nlbpme: %d\nlast lba (10): %" PRIu64 "\n",
		       cfg->lun, nlbas, lbsize, nlbas * lbsize, lbpme, last10);
	return 0;
}

int cmd_report_luns(struct vio *v)
{
	const struct config *cfg = &v->cfg;
	ini_open(v, 1, 0, 1 << 20);
	const uint32_t len = 8 + 8 * 512;
	uint8_t *buf = vhostio_initiator_alloc(v->ini, len);
	if (!buf)
		die(1, "no I/O memory");
	uint8_t cdb[12] = { 0xa0 };
	put_be32(cdb + 6, len);
	memset(buf, 0, len);
	int n = mgmt_cmd(v, cdb, 12, buf, len, "REPORT LUNS");
	if (n < 8)
		return 1;
	uint32_t count = (uint32_t)get_be32(buf) / 8;
	if (count > (uint32_t)(n - 8) / 8)
		count = (uint32_t)(n - 8) / 8;
	if (cfg->json)
		printf("{\"count\": %u, \"luns\": [", count);
	else
		printf("count: %u\n", count);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = buf + 8 + 8 * i;
		/* peripheral (00b) and flat (01b) addressing: 14-bit LUN */
		unsigned l = (unsigned)get_be16(e) & 0x3fff;
		if (cfg->json)
			printf("%s%u", i ? ", " : "", l);
		else
			printf("lun: %u\n", l);
	}
	if (cfg->json)
		puts("]}");
	vhostio_initiator_free(v->ini, buf);
	return 0;
}

/* ---- hotplug events ---- */

int cmd_events(struct vio *v)
{
	const struct config *cfg = &v->cfg;
	ini_open(v, 1, 0, 1 << 20);
	char feat[256];
	features_string(v->ini, feat, sizeof(feat));
	if (!(vhostio_initiator_features(v->ini) & (1u << 1)))
		die(1, "the HOTPLUG feature was not negotiated (features %s)", feat);
	/* Tests wait for this line before they change the LUNs. */
	fprintf(stderr, "vhostio-io: attached, waiting for %d event(s)\n", cfg->count);
	uint64_t deadline = clock_now_ns() + (uint64_t)cfg->timeout_ms * 1000000u;
	int got = 0;
	if (cfg->json)
		fputs("{\"events\": [", stdout);
	while (got < cfg->count) {
		struct vhostio_scsi_event ev[16];
		int n = vhostio_initiator_events(v->ini, ev, 16);
		if (n < 0)
			die(1, "events: %s", strerror(-n));
		for (int i = 0; i < n; i++, got++) {
			const char *reason = ev[i].reason == 1 ? "rescan" : ev[i].reason == 2 ? "removed" : "other";
			bool missed = ev[i].event & 0x80000000u;
			if (cfg->json)
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
		int64_t left = (int64_t)deadline - (int64_t)clock_now_ns();
		if (left <= 0)
			break;
		struct pollfd p = { vhostio_initiator_event_fd(v->ini), POLLIN, 0 };
		/* Wake at least every 100 ms: events() is the authority, not the fd. */
		int ms = (int)(left / 1000000 + 1);
		poll(&p, 1, ms > 100 ? 100 : ms);
	}
	if (cfg->json)
		printf("], \"count\": %d, \"timed_out\": %s}\n", got, got < cfg->count ? "true" : "false");
	if (got < cfg->count) {
		fprintf(stderr, "vhostio-io: %d of %d event(s) within %d ms\n", got, cfg->count, cfg->timeout_ms);
		return 1;
	}
	return 0;
}

/* ---- configfs: the library's vhost fabric functions ---- */

static const struct config *fabric_cfg(const struct vio *v)
{
	if (!v->cfg.wwpn)
		die(EXIT_USAGE, "--wwpn is required");
	return &v->cfg;
}

static int fabric_done(int r, const char *what)
{
	if (r < 0)
		die(1, "%s: %s", what, strerror(-r));
	return 0;
}

int cmd_target_create(struct vio *v)
{
	const struct config *cfg = fabric_cfg(v);
	char nexus[64];
	if (!cfg->nexus) {
		/* Same naa. prefix as the port, last digit changed: a distinct name. */
		snprintf(nexus, sizeof(nexus), "%s", cfg->wwpn);
		size_t l = strlen(nexus);
		if (l)
			nexus[l - 1] = nexus[l - 1] == 'f' ? 'e' : 'f';
	}
	return fabric_done(vhostio_vhost_target_create(cfg->wwpn, cfg->tpgt, cfg->nexus ? cfg->nexus : nexus),
			   "target-create");
}

int cmd_target_remove(struct vio *v)
{
	const struct config *cfg = fabric_cfg(v);
	return fabric_done(vhostio_vhost_target_remove(cfg->wwpn, cfg->tpgt), "target-remove");
}

int cmd_lun_add(struct vio *v)
{
	const struct config *cfg = fabric_cfg(v);
	if (!cfg->backstore)
		die(EXIT_USAGE, "lun-add needs --backstore HBA/NAME");
	return fabric_done(vhostio_vhost_lun_add(cfg->wwpn, cfg->tpgt, cfg->lun, cfg->backstore), "lun-add");
}

int cmd_lun_remove(struct vio *v)
{
	const struct config *cfg = fabric_cfg(v);
	return fabric_done(vhostio_vhost_lun_remove(cfg->wwpn, cfg->tpgt, cfg->lun), "lun-remove");
}
