// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vhostio-io: opening the initiator and the SCSI helpers every command
 * shares (sense decoding, management commands on queue 0, READ CAPACITY).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include <vhostio/initiator.h>

#include "vhostio-io.h"

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

const char *response_name(unsigned r)
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
	struct vhostio_scsi_status st;
	if (vhostio_sense_decode(c->sense, c->sense_len, &st) < 0)
		return false;
	*key = st.sense_key, *asc = st.asc, *ascq = st.ascq;
	return true;
}

/* One line describing a failed command, for stderr. */
void describe_failure(const struct vhostio_scsi_cmd *c, char *buf, size_t len)
{
	unsigned k, a, q;
	if (c->response != VHOSTIO_VIRTIO_S_OK)
		snprintf(buf, len, "virtio response %s", response_name(c->response));
	else if (sense_triplet(c, &k, &a, &q))
		snprintf(buf, len, "status 0x%02x sense %x/%02x/%02x", c->status, k, a, q);
	else
		snprintf(buf, len, "status 0x%02x", c->status);
}

void ini_open(struct vio *v, uint32_t queues, uint32_t queue_size, uint64_t arena)
{
	const struct config *cfg = &v->cfg;
	struct vhostio_initiator_opts o = {
		.struct_size = sizeof(o),
		.device = cfg->device,
		.num_queues = queues,
		.queue_size = queue_size,
		.arena_size = arena,
		.features_mask = cfg->features_mask,
		/* N workers for fewer queues: as many as there are queues. */
		.workers = cfg->workers > (int32_t)queues ? (int32_t)queues : cfg->workers,
	};
	int r = vhostio_initiator_open(&v->ini, &o);
	if (r < 0)
		die(1, "open %s: %s", cfg->device ? cfg->device : "/dev/vhost-scsi", strerror(-r));
	if (!cfg->wwpn)
		die(EXIT_USAGE, "--wwpn is required");
	r = vhostio_initiator_attach(v->ini, cfg->wwpn, cfg->tpgt);
	if (r < 0)
		die(1, "attach %s tpgt %u: %s", cfg->wwpn, cfg->tpgt, strerror(-r));
}

void features_string(const struct vhostio_initiator *ini, char *buf, size_t len)
{
	uint64_t f = vhostio_initiator_features(ini);
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (f & (1ull << feature_names[i].bit) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", feature_names[i].name);
}

bool is_unit_attention(const struct vhostio_scsi_cmd *c)
{
	unsigned k, a, q;
	return c->response == VHOSTIO_VIRTIO_S_OK && c->status == VHOSTIO_SAM_CHECK_CONDITION &&
	       sense_triplet(c, &k, &a, &q) && k == 6;
}

/*
 * Run one management command on queue 0 with a data-in buffer; returns the
 * bytes transferred, or -EIO (message printed) on any failure.
 */
int mgmt_cmd(struct vio *v, const uint8_t *cdb, int cdb_len, void *buf, uint32_t len, const char *what)
{
	struct iovec iov = { buf, len };
	struct vhostio_scsi_cmd c;
	/*
	 * A new nexus, a LUN change or a reset leaves a UNIT ATTENTION that
	 * the next command of the LUN receives instead of running; retry as
	 * the Linux SCSI midlayer does.
	 */
	for (int attempt = 0;; attempt++) {
		c = (struct vhostio_scsi_cmd){ .lun = v->cfg.lun, .cdb_len = (uint8_t)cdb_len, .data_in = &iov, .data_in_cnt = 1 };
		memcpy(c.cdb, cdb, (size_t)cdb_len);
		int r = vhostio_initiator_run(v->ini, &c, v->cfg.timeout_ms);
		if (r < 0) {
			fprintf(stderr, "vhostio-io: %s: %s\n", what, strerror(-r));
			return r == -ETIMEDOUT ? -ETIMEDOUT : -EIO;
		}
		if (!is_unit_attention(&c) || attempt == 4)
			break;
		unsigned k = 0, a = 0, q = 0; /* is_unit_attention() decoded it already */
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

/* READ CAPACITY(16): last LBA and block size; negative on failure. */
int read_capacity(struct vio *v, uint64_t *nlbas, uint32_t *lbsize, bool *lbpme)
{
	uint8_t *buf = vhostio_initiator_alloc(v->ini, 32);
	if (!buf)
		return -ENOMEM;
	uint8_t cdb[16] = { 0x9e, 0x10 };
	put_be32(cdb + 10, 32);
	memset(buf, 0, 32);
	int n = mgmt_cmd(v, cdb, 16, buf, 32, "READ CAPACITY(16)");
	if (n >= 0 && n < 12)
		n = -EIO;
	if (n >= 0) {
		*nlbas = get_be64(buf) + 1;
		*lbsize = (uint32_t)get_be32(buf + 8);
		*lbpme = buf[14] & 0x80;
	}
	vhostio_initiator_free(v->ini, buf);
	return n < 0 ? n : 0;
}
