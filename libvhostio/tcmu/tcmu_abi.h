/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <linux/target_core_user.h> pulls in <linux/uio.h>, whose struct iovec
 * clashes with glibc's.  Take glibc's and keep the kernel's out.
 */
#ifndef VHOSTIO_TCMU_ABI_H
#define VHOSTIO_TCMU_ABI_H

#include <sys/uio.h>
#include <linux/types.h>
#ifndef __LINUX_UIO_H
#define __LINUX_UIO_H
#endif
#include <linux/target_core_user.h>

#endif
