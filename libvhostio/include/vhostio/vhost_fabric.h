/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Management of the kernel's vhost fabric in configfs (target/vhost):
 * target ports, TPGs with an I_T nexus, and the LUNs that export LIO
 * backstores to a vhost-scsi initiator (QEMU or <vhostio/initiator.h>).
 *
 * These only write configfs; they need root and the vhost_scsi module.
 * Every function returns 0 or -errno.
 */
#ifndef VHOSTIO_VHOST_FABRIC_H
#define VHOSTIO_VHOST_FABRIC_H

#include <stdint.h>

#include <vhostio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Create naa.<...>/tpgt_<tpgt> with an I_T nexus (initiator name, same
 * prefix; NULL: the WWPN itself).  Existing directories are reused; an
 * existing nexus with another name is -EEXIST.
 */
VHOSTIO_EXPORT int vhostio_vhost_target_create(const char *wwpn, uint16_t tpgt, const char *nexus_wwn);
/* Unlink every LUN, drop the nexus, remove the TPG and, if empty, the WWN. */
VHOSTIO_EXPORT int vhostio_vhost_target_remove(const char *wwpn, uint16_t tpgt);
/* Export a backstore ("core/<hba>/<name>", e.g. "rd_mcp_1/r0" or "user_1/lun0") as LUN 'lun'. */
VHOSTIO_EXPORT int vhostio_vhost_lun_add(const char *wwpn, uint16_t tpgt, uint16_t lun, const char *backstore);
VHOSTIO_EXPORT int vhostio_vhost_lun_remove(const char *wwpn, uint16_t tpgt, uint16_t lun);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTIO_VHOST_FABRIC_H */
