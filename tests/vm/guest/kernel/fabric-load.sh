#!/bin/bash
# vhostio's vhost-scsi fabric module on the real 6.1 kernel: it refuses to
# load beside the stock vhost_scsi and the stock one cannot load beside
# it; loaded, it owns /dev/vhost-scsi and the fabric "vhost" with stock's
# configfs layout (wwn/tpgt_N/{nexus,lun/lun_M,attrib/fabric_prot_type}),
# which targetcli drives unchanged; the device ioctls (ownership,
# features, ABI version, rings, endpoints) answer as stock's do, and an endpoint
# holds its TPG; the modprobe alias makes `modprobe vhost_scsi` load it;
# 20 load/configure/unload cycles leave no oops or warning.
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"
. "$(dirname "$0")/../lib/lib-fabric.sh"
fabric_ko_or_skip
KO=$FABRIC_KO
V=$CFS/vhost
WWN=naa.5001405000000c01
NEXUS=naa.5001405000000c0a
dmesg -C

say "beside stock vhost_scsi"
check "stock vhost_scsi is loaded (guest-init)" sh -c "lsmod | grep -qw '^vhost_scsi'"
check "insmod refused while it is" sh -c "! insmod '$KO' 2>/dev/null"
check "with a clear log line" sh -c "dmesg | grep -q 'the kernel.s vhost_scsi is loaded'"
check "rmmod vhost_scsi" rmmod vhost_scsi
check "insmod vhostio_scsi" insmod "$KO"
check "/dev/vhost-scsi is ours" test -c /dev/vhost-scsi
# Its init fails with EEXIST (misc_register() finds /dev/vhost-scsi taken;
# sysfs prints a trace for it), which modprobe reports as success, since it
# reads EEXIST as "already loaded": what counts is that it is not loaded.
out=$(modprobe -v vhost_scsi 2>&1)
echo "   modprobe vhost_scsi: exit $?: $out"
check "the stock module cannot load beside it" sh -c "! lsmod | grep -qw '^vhost_scsi'"
check "its init found /dev/vhost-scsi taken" sh -c "dmesg | grep -q \"duplicate filename '/devices/virtual/misc/vhost-scsi'\""
check "ours still serves configfs" sh -c "mkdir '$V' && rmdir '$V'"
dmesg -C

say "configfs: stock's layout"
check "mkdir target/vhost/$WWN/tpgt_1" mkdir -p "$V/$WWN/tpgt_1"
check "the fabric's version attribute" grep -q "vhostio vhost-scsi fabric" "$V/version"
check "tpgt_1 has nexus, lun/, attrib/fabric_prot_type" test -e "$V/$WWN/tpgt_1/nexus" -a -d "$V/$WWN/tpgt_1/lun" \
	-a -e "$V/$WWN/tpgt_1/attrib/fabric_prot_type"
check "a WWN without naa./fc./iqn. is refused" sh -c "! mkdir '$V/eui.1234' 2>/dev/null"
check "a nexus of another protocol is refused" sh -c "! echo -n iqn.2026-12.io.vhostio:x >'$V/$WWN/tpgt_1/nexus' 2>/dev/null"
check "nexus $NEXUS" sh -c "echo -n $NEXUS >'$V/$WWN/tpgt_1/nexus'"
check "nexus reads back" grep -qx "$NEXUS" "$V/$WWN/tpgt_1/nexus"
check "a second nexus is refused" sh -c "! echo -n naa.5001405000000c0b >'$V/$WWN/tpgt_1/nexus' 2>/dev/null"
mkdir -p "$CFS/core/rd_mcp_1/ram0" && echo rd_pages=256 >"$CFS/core/rd_mcp_1/ram0/control" &&
	echo 1 >"$CFS/core/rd_mcp_1/ram0/enable"
check "LUN 0 -> rd_mcp_1/ram0" sh -c "mkdir '$V/$WWN/tpgt_1/lun/lun_0' && ln -s '$CFS/core/rd_mcp_1/ram0' '$V/$WWN/tpgt_1/lun/lun_0/ram0'"
check "the nexus is kept while a LUN is linked" sh -c "! echo -n NULL >'$V/$WWN/tpgt_1/nexus' 2>/dev/null"
check "tpgt_2 with only a nexus" sh -c "mkdir '$V/$WWN/tpgt_2' && echo -n naa.5001405000000c0c >'$V/$WWN/tpgt_2/nexus'"

say "the device's ioctls"
cat >/tmp/ioctls.py <<'EOF'
import errno, fcntl, os, struct, sys
wwn, ok = sys.argv[1].encode(), True
def check(what, cond):
    global ok
    print(("PASS: " if cond else "FAIL: ") + what)
    ok &= bool(cond)
def err(fn):
    try:
        fn()
        return 0
    except OSError as e:
        return e.errno
GET_FEATURES, SET_FEATURES, SET_OWNER = 0x8008AF00, 0x4008AF00, 0xAF01
SET_ENDPOINT, CLEAR_ENDPOINT, GET_ABI = 0x40E8AF40, 0x40E8AF41, 0x4004AF42
SET_VRING_NUM = 0x4008AF10
def target(name, reserved=0):
    return struct.pack("i224sHH", 0, name, 0, reserved)
fd = os.open("/dev/vhost-scsi", os.O_RDWR)
abi = bytearray(4)
fcntl.ioctl(fd, GET_ABI, abi)
check("GET_ABI_VERSION is 1", struct.unpack("i", abi)[0] == 1)
feat = bytearray(8)
fcntl.ioctl(fd, GET_FEATURES, feat)
f = struct.unpack("Q", feat)[0]
want = (1 << 32) | (1 << 26) | (1 << 27) | (1 << 28) | (1 << 29) | (1 << 1)
check("GET_FEATURES: VERSION_1, LOG_ALL, ANY_LAYOUT, INDIRECT_DESC, EVENT_IDX, HOTPLUG (0x%x)" % f, f == want)
check("SET_FEATURES before SET_OWNER: EPERM", err(lambda: fcntl.ioctl(fd, SET_FEATURES, struct.pack("Q", f))) == errno.EPERM)
fcntl.ioctl(fd, SET_OWNER)
check("a second SET_OWNER: EBUSY", err(lambda: fcntl.ioctl(fd, SET_OWNER)) == errno.EBUSY)
check("SET_FEATURES with an unknown bit: EOPNOTSUPP", err(lambda: fcntl.ioctl(fd, SET_FEATURES, struct.pack("Q", f | (1 << 40)))) == errno.EOPNOTSUPP)
check("SET_FEATURES", err(lambda: fcntl.ioctl(fd, SET_FEATURES, struct.pack("Q", f))) == 0)
check("SET_VRING_NUM 3 (not a power of 2): EINVAL", err(lambda: fcntl.ioctl(fd, SET_VRING_NUM, struct.pack("II", 2, 3))) == errno.EINVAL)
check("SET_VRING_NUM on queue 4096: ENOBUFS", err(lambda: fcntl.ioctl(fd, SET_VRING_NUM, struct.pack("II", 4096, 128))) == errno.ENOBUFS)
check("SET_VRING_NUM 128", err(lambda: fcntl.ioctl(fd, SET_VRING_NUM, struct.pack("II", 2, 128))) == 0)
check("SET_ENDPOINT with reserved != 0: EOPNOTSUPP", err(lambda: fcntl.ioctl(fd, SET_ENDPOINT, target(wwn, 1))) == errno.EOPNOTSUPP)
check("SET_ENDPOINT on an unknown WWN: ENODEV", err(lambda: fcntl.ioctl(fd, SET_ENDPOINT, target(b"naa.5001405000000fff"))) == errno.ENODEV)
check("SET_ENDPOINT with an unterminated name: EINVAL", err(lambda: fcntl.ioctl(fd, SET_ENDPOINT, target(b"n" * 224))) == errno.EINVAL)
check("SET_ENDPOINT " + sys.argv[1], err(lambda: fcntl.ioctl(fd, SET_ENDPOINT, target(wwn))) == 0)
check("a second SET_ENDPOINT: EEXIST", err(lambda: fcntl.ioctl(fd, SET_ENDPOINT, target(wwn))) == errno.EEXIST)
fd2 = os.open("/dev/vhost-scsi", os.O_RDWR)
fcntl.ioctl(fd2, SET_OWNER)
check("another device cannot take the same TPG: EBUSY", err(lambda: fcntl.ioctl(fd2, SET_ENDPOINT, target(wwn))) == errno.EBUSY)
os.close(fd2)
check("rings change only without an endpoint: SET_VRING_NUM EBUSY", err(lambda: fcntl.ioctl(fd, SET_VRING_NUM, struct.pack("II", 2, 128))) == errno.EBUSY)
check("an ioctl stock does not know (SET_BACKEND_FEATURES): ENOTTY", err(lambda: fcntl.ioctl(fd, 0x4008AF25, struct.pack("Q", 0))) == errno.ENOTTY)
# The endpoint holds every TPG of the WWN that has a nexus (ABI 1): their
# nexus stays and configfs refuses their removal.
held = os.system("echo -n NULL >%s/tpgt_2/nexus 2>/dev/null" % sys.argv[2]) != 0
check("the nexus of an attached TPG cannot be dropped", held)
held = os.system("rmdir %s/tpgt_2 2>/dev/null" % sys.argv[2]) != 0
check("rmdir of an attached TPG is refused", held)
check("CLEAR_ENDPOINT of another WWN: EINVAL", err(lambda: fcntl.ioctl(fd, CLEAR_ENDPOINT, target(b"naa.5001405000000fff"))) == errno.EINVAL)
check("CLEAR_ENDPOINT", err(lambda: fcntl.ioctl(fd, CLEAR_ENDPOINT, target(wwn))) == 0)
os.close(fd)
sys.exit(0 if ok else 1)
EOF
out=$(python3 /tmp/ioctls.py "$WWN" "$V/$WWN" 2>&1)
echo "$out"
check "ioctls as stock answers them" test "$(echo "$out" | grep -c '^FAIL')" -eq 0 -a "$(echo "$out" | grep -c '^PASS')" -ge 14

say "tear down, targetcli, modprobe alias"
check "LUN unlinked" sh -c "rm '$V/$WWN/tpgt_1/lun/lun_0/ram0' && rmdir '$V/$WWN/tpgt_1/lun/lun_0'"
check "nexus dropped" sh -c "echo -n NULL >'$V/$WWN/tpgt_1/nexus'"
check "tpgt_2's nexus dropped once the endpoint is cleared" sh -c "echo -n NULL >'$V/$WWN/tpgt_2/nexus'"
check "TPGs and WWN removed" sh -c "rmdir '$V/$WWN/tpgt_1' '$V/$WWN/tpgt_2' '$V/$WWN'"
out=$(targetcli /vhost create naa.5001405000000c02 2>&1)
echo "   targetcli: $out"
check "targetcli /vhost create on this module" test -d "$V/naa.5001405000000c02/tpgt_1"
targetcli /vhost delete naa.5001405000000c02 >/dev/null 2>&1
rmdir "$V"
check "rmmod vhostio_scsi" rmmod vhostio_scsi
mkdir -p "/lib/modules/$(uname -r)/updates"
cp "$KO" "/lib/modules/$(uname -r)/updates/" && depmod -a
cp "$(dirname "$0")/../../../../kernel/modprobe.conf" /etc/modprobe.d/vhostio-scsi.conf
check "modprobe vhost_scsi loads vhostio_scsi (the alias)" sh -c "modprobe vhost_scsi && lsmod | grep -qw '^vhostio_scsi' && ! lsmod | grep -qw '^vhost_scsi'"
rmmod vhostio_scsi
rm /etc/modprobe.d/vhostio-scsi.conf

say "20 load / configure / unload cycles"
cycles=0
for i in $(seq 1 20); do
	insmod "$KO" || break
	mkdir -p "$V/$WWN/tpgt_1/lun/lun_0" &&
		echo -n $NEXUS >"$V/$WWN/tpgt_1/nexus" &&
		ln -s "$CFS/core/rd_mcp_1/ram0" "$V/$WWN/tpgt_1/lun/lun_0/ram0" &&
		rm "$V/$WWN/tpgt_1/lun/lun_0/ram0" && rmdir "$V/$WWN/tpgt_1/lun/lun_0" &&
		echo -n NULL >"$V/$WWN/tpgt_1/nexus" && rmdir "$V/$WWN/tpgt_1" "$V/$WWN" && rmdir "$V" || break
	rmmod vhostio_scsi || break
	cycles=$i
done
check "20 cycles ($cycles done)" test "$cycles" -eq 20
check "no oops, BUG or warning in dmesg" sh -c "! dmesg | grep -E 'BUG|Oops|WARNING|Call Trace'"
dmesg | grep -i "vhostio\|vhost" | head -5
finish
