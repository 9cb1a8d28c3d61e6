/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reconfiguration of a served device (configfs dev_size, dev_config,
 * emulate_write_cache).  The kernel waits for our verdict, so the device
 * is quiesced, the handler asked, and only an accepted change is applied.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "scsi_defs.h"

/* How long a reconfig waits for in-flight commands before refusing (EBUSY). */
#define RECONFIG_DRAIN_MS 30000

static int check_new_config(struct vhostio_device *dev, const char *config)
{
	if (!dev->handler->check_config)
		return 0;
	char *reason = NULL;
	int ret = dev->handler->check_config(config, &reason);
	if (ret < 0)
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "new config '%s' refused: %s", config,
				   reason ? reason : strerror(-ret));
	free(reason);
	return ret;
}

/* Close and open on the new config; back to the old one if that fails. */
static int reopen(struct vhostio_device *dev, const char *new_cfgstring)
{
	char old[sizeof(dev->info.cfgstring)];
	memcpy(old, dev->info.cfgstring, sizeof(old));

	device_close_handler(dev);
	snprintf(dev->info.cfgstring, sizeof(dev->info.cfgstring), "%s", new_cfgstring);
	int ret = device_open_handler(dev);
	if (ret == 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_INFO, "reopened on '%s'", new_cfgstring);
		return 0;
	}
	memcpy(dev->info.cfgstring, old, sizeof(old));
	if (device_open_handler(dev) < 0)
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR,
				   "cannot reopen the old config '%s' either; the LUN reports NOT READY", old);
	return ret;
}

static int apply(struct vhostio_device *dev, const struct vhostio_reconfig *rc, const char *new_cfgstring,
		 bool *reopened)
{
	const struct vhostio_handler *h = dev->handler;
	bool config_changed = rc->changed & VHOSTIO_RECONFIG_CONFIG;
	int ret = 0;

	if (config_changed) {
		ret = check_new_config(dev, rc->config);
		if (ret < 0)
			return ret;
	}
	if (h->reconfig && dev->opened)
		ret = h->reconfig(dev, rc);
	else if (config_changed || (rc->changed & VHOSTIO_RECONFIG_SIZE))
		ret = -EOPNOTSUPP;
	if (ret == -EOPNOTSUPP && config_changed) {
		/* The handler cannot switch in place: reopen.  The new geometry
		 * must be in place first, since open() sizes things from it. */
		uint64_t old_lbas = scsi_lun_num_lbas(&dev->lun);
		if (rc->changed & VHOSTIO_RECONFIG_SIZE)
			scsi_lun_set_num_lbas(&dev->lun, rc->size / dev->lun.block_size);
		ret = reopen(dev, new_cfgstring);
		if (ret < 0)
			scsi_lun_set_num_lbas(&dev->lun, old_lbas);
		*reopened = ret == 0;
		return ret;
	}
	if (ret < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "handler %s refused the change: %s", h->subtype,
				   ret == -EOPNOTSUPP ? "it cannot resize a served device" : strerror(-ret));
		return ret;
	}
	if (config_changed)
		snprintf(dev->info.cfgstring, sizeof(dev->info.cfgstring), "%s", new_cfgstring);
	if (rc->changed & VHOSTIO_RECONFIG_SIZE)
		scsi_lun_set_num_lbas(&dev->lun, rc->size / dev->lun.block_size);
	return 0;
}

int device_reconfig(struct vhostio_device *dev, const struct vhostio_reconfig *in)
{
	struct vhostio_reconfig rc = *in;
	char new_cfgstring[sizeof(dev->info.cfgstring)];

	/* Drop what does not actually change. */
	if ((rc.changed & VHOSTIO_RECONFIG_SIZE) && rc.size / dev->lun.block_size == scsi_lun_num_lbas(&dev->lun))
		rc.changed &= ~VHOSTIO_RECONFIG_SIZE;
	if ((rc.changed & VHOSTIO_RECONFIG_WRITE_CACHE) && !rc.write_cache == !scsi_lun_write_cache(&dev->lun))
		rc.changed &= ~VHOSTIO_RECONFIG_WRITE_CACHE;
	if (rc.changed & VHOSTIO_RECONFIG_CONFIG) {
		/* rc.config is the full dev_config: "<subtype>/<handler config>". */
		const char *slash = strchr(rc.config, '/');
		size_t sub_len = strlen(dev->info.subtype);
		if (!slash || (size_t)(slash - rc.config) != sub_len ||
		    strncmp(rc.config, dev->info.subtype, sub_len) != 0) {
			vhostio_device_log(dev, VHOSTIO_LOG_ERROR,
					   "new config '%s' names another handler; a device keeps its subtype",
					   rc.config);
			return -EINVAL;
		}
		if (strcmp(rc.config, dev->info.cfgstring) == 0) {
			rc.changed &= ~VHOSTIO_RECONFIG_CONFIG;
		} else {
			snprintf(new_cfgstring, sizeof(new_cfgstring), "%s", rc.config);
			rc.config = slash + 1;
		}
	}
	if ((rc.changed & VHOSTIO_RECONFIG_SIZE) && rc.size < dev->lun.block_size) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "new size %" PRIu64 " is less than one block", rc.size);
		return -EINVAL;
	}
	if (!rc.changed)
		return 0;

	uint64_t old_lbas = scsi_lun_num_lbas(&dev->lun);
	if (!device_quiesce(dev, RECONFIG_DRAIN_MS)) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "reconfig refused: the handler did not finish its commands");
		return -EBUSY;
	}
	bool reopened = false;
	int ret = apply(dev, &rc, new_cfgstring, &reopened);
	if (ret == 0) {
		if (rc.changed & VHOSTIO_RECONFIG_WRITE_CACHE) {
			scsi_lun_set_write_cache(&dev->lun, rc.write_cache != 0);
			vhostio_device_log(dev, VHOSTIO_LOG_INFO, "write cache %s", rc.write_cache ? "on" : "off");
			/* SPC-4: mode parameters changed by someone else. */
			scsi_lun_set_unit_attention(&dev->lun, ASC_MODE_PARAMETERS_CHANGED);
		}
		if (scsi_lun_num_lbas(&dev->lun) != old_lbas) {
			vhostio_device_log(dev, VHOSTIO_LOG_INFO, "capacity %" PRIu64 " -> %" PRIu64 " blocks",
					   old_lbas, scsi_lun_num_lbas(&dev->lun));
			scsi_lun_set_unit_attention(&dev->lun, ASC_CAPACITY_DATA_HAS_CHANGED);
		} else if (reopened) {
			/* Maybe other storage behind the same LUN: tell the initiator
			 * to drop its caches.  (A handler that took the new config in
			 * place keeps the medium.) */
			scsi_lun_set_unit_attention(&dev->lun, ASC_MEDIUM_MAY_HAVE_CHANGED);
		}
	}
	int restart = device_unquiesce(dev);
	if (restart < 0) {
		vhostio_device_log(dev, VHOSTIO_LOG_ERROR, "cannot restart the command thread: %s", strerror(-restart));
		return ret < 0 ? ret : restart;
	}
	return ret;
}
