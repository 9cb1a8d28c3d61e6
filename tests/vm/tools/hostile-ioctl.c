// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hostile-ioctl DEVICE WWPN: bad vhost ioctls on a vhost-scsi device, each
 * with the errno the fabric module (kernel/main.c) must give, and a valid
 * one after them so that a refusal is not just a dead file.  WWPN is a
 * target port that exists (with a nexus).  Exit 0 if every errno matched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vhost.h>

static int failures;

/* ioctl's errno (0 on success) against want. */
static void expect(const char *what, int fd, unsigned long req, void *arg, int want)
{
	int got = ioctl(fd, req, arg) < 0 ? errno : 0;
	printf("%s: %s: errno %d (%s), want %d (%s)\n", got == want ? "PASS" : "FAIL", what, got,
	       got ? strerror(got) : "ok", want, want ? strerror(want) : "ok");
	failures += got != want;
}

/* The header, then room for 70 regions (one more than any case uses). */
static _Alignas(struct vhost_memory) uint8_t table_buf[sizeof(struct vhost_memory) +
							70 * sizeof(struct vhost_memory_region)];
#define HDR ((struct vhost_memory *)table_buf)
#define R (HDR->regions)

static void memtable(int fd, const char *what, uint32_t n, int want)
{
	HDR->nregions = n;
	expect(what, fd, VHOST_SET_MEM_TABLE, HDR, want);
	memset(table_buf, 0, sizeof(table_buf));
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: hostile-ioctl DEVICE WWPN\n");
		return 2;
	}
	int fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	size_t len = 1 << 20;
	uint8_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	uint64_t base = (uint64_t)(uintptr_t)mem;
	uint64_t feat = 1ull << 32; /* VIRTIO_F_VERSION_1 */

	/* Nothing but the owner-free queries before SET_OWNER. */
	expect("SET_FEATURES before SET_OWNER", fd, VHOST_SET_FEATURES, &feat, EPERM);
	memtable(fd, "SET_MEM_TABLE before SET_OWNER", 0, EPERM);
	expect("SET_OWNER", fd, VHOST_SET_OWNER, NULL, 0);

	/* Another process (another mm) on the same file. */
	pid_t pid = fork();
	if (pid == 0) {
		int r = ioctl(fd, VHOST_SET_OWNER, NULL) < 0 ? errno : 0;
		int r2 = ioctl(fd, VHOST_SET_FEATURES, &feat) < 0 ? errno : 0;
		_exit(r == EBUSY && r2 == EPERM ? 0 : 1);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("%s: second SET_OWNER from a child: EBUSY, its SET_FEATURES: EPERM\n", ok ? "PASS" : "FAIL");
	failures += !ok;

	uint64_t unknown = feat | (1ull << 60);
	expect("SET_FEATURES with an unknown bit", fd, VHOST_SET_FEATURES, &unknown, EOPNOTSUPP);

	HDR->padding = 1;
	memtable(fd, "SET_MEM_TABLE with nonzero padding", 0, EOPNOTSUPP);
	memtable(fd, "SET_MEM_TABLE with 65 regions", 65, E2BIG);
	R[0] = (struct vhost_memory_region){ .guest_phys_addr = 0, .memory_size = 0x2000,
					       .userspace_addr = 0xfffffffffffff000ull };
	memtable(fd, "SET_MEM_TABLE: userspace_addr + size overflows", 1, EFAULT);
	R[0] = (struct vhost_memory_region){ .guest_phys_addr = 0, .memory_size = 4096,
					       .userspace_addr = 0xffff888000000000ull };
	memtable(fd, "SET_MEM_TABLE: a kernel address", 1, EFAULT);
	R[0] = (struct vhost_memory_region){ .guest_phys_addr = 0, .memory_size = 0, .userspace_addr = base };
	memtable(fd, "SET_MEM_TABLE: a region of size 0", 1, EINVAL);
	R[0] = (struct vhost_memory_region){ .guest_phys_addr = 0, .memory_size = len, .userspace_addr = base };
	R[1] = (struct vhost_memory_region){ .guest_phys_addr = len / 2, .memory_size = len / 2,
					       .userspace_addr = base };
	memtable(fd, "SET_MEM_TABLE: overlapping guest ranges", 2, EINVAL);
	R[0] = (struct vhost_memory_region){ .guest_phys_addr = base, .memory_size = len, .userspace_addr = base };
	memtable(fd, "SET_MEM_TABLE: one valid region (after the bad ones)", 1, 0);

	struct vhost_vring_state s = { .index = 2, .num = 0 };
	expect("SET_VRING_NUM 0", fd, VHOST_SET_VRING_NUM, &s, EINVAL);
	s.num = 100;
	expect("SET_VRING_NUM 100 (not a power of 2)", fd, VHOST_SET_VRING_NUM, &s, EINVAL);
	s.num = 65536;
	expect("SET_VRING_NUM 65536 (> 32768)", fd, VHOST_SET_VRING_NUM, &s, EINVAL);
	s.num = 128;
	expect("SET_VRING_NUM 128", fd, VHOST_SET_VRING_NUM, &s, 0);

	/* Ring addresses: desc 16-, avail 2-, used 4-byte aligned, as stock. */
	struct vhost_vring_addr a = {
		.index = 2, .desc_user_addr = base, .avail_user_addr = base + 4096,
		.used_user_addr = base + 8192,
	};
	a.desc_user_addr += 8;
	expect("SET_VRING_ADDR desc not 16-byte aligned", fd, VHOST_SET_VRING_ADDR, &a, EINVAL);
	a.desc_user_addr -= 8, a.avail_user_addr += 1;
	expect("SET_VRING_ADDR avail not 2-byte aligned", fd, VHOST_SET_VRING_ADDR, &a, EINVAL);
	a.avail_user_addr -= 1, a.used_user_addr += 2;
	expect("SET_VRING_ADDR used not 4-byte aligned", fd, VHOST_SET_VRING_ADDR, &a, EINVAL);
	a.used_user_addr -= 2, a.flags = 1u << 7;
	expect("SET_VRING_ADDR with an unknown flag", fd, VHOST_SET_VRING_ADDR, &a, EOPNOTSUPP);
	a.flags = 0;
	expect("SET_VRING_ADDR aligned", fd, VHOST_SET_VRING_ADDR, &a, 0);

	int p[2];
	if (pipe(p))
		return 1;
	struct vhost_vring_file f = { .index = 2, .fd = p[0] };
	expect("SET_VRING_KICK with a pipe (not an eventfd)", fd, VHOST_SET_VRING_KICK, &f, EINVAL);
	f.fd = 1000;
	expect("SET_VRING_KICK with a closed fd", fd, VHOST_SET_VRING_KICK, &f, EBADF);

	struct vhost_scsi_target tg = { .abi_version = VHOST_SCSI_ABI_VERSION };
	memset(tg.vhost_wwpn, 'a', sizeof(tg.vhost_wwpn));
	expect("SET_ENDPOINT with an unterminated wwpn", fd, VHOST_SCSI_SET_ENDPOINT, &tg, EINVAL);
	memset(tg.vhost_wwpn, 0, sizeof(tg.vhost_wwpn));
	snprintf(tg.vhost_wwpn, sizeof(tg.vhost_wwpn), "naa.50014050000fffff");
	expect("SET_ENDPOINT with an unknown wwpn", fd, VHOST_SCSI_SET_ENDPOINT, &tg, ENODEV);
	snprintf(tg.vhost_wwpn, sizeof(tg.vhost_wwpn), "%s", argv[2]);
	tg.reserved = 1;
	expect("SET_ENDPOINT with reserved set", fd, VHOST_SCSI_SET_ENDPOINT, &tg, EOPNOTSUPP);
	close(fd);
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
