#!/usr/bin/python3
# What QEMU relies on when it stops and restarts a vhost-scsi device: the
# base VHOST_GET_VRING_BASE returns is the number of requests the device
# took from the ring, the device takes no request made available after it
# (until the ring is restarted), and after CLEAR_ENDPOINT, SET_VRING_BASE
# with that base and SET_ENDPOINT it takes exactly those it had left.
# A minimal split-ring driver of its own (no vhostio library), so that it
# can stop between the ioctls.  Prints PASS:/FAIL: lines, exits 0 or 1.
# Usage: vring-base.py WWPN TPGT LUN
import ctypes
import errno
import fcntl
import mmap
import os
import struct
import sys
import time

SET_OWNER, GET_FEATURES, SET_FEATURES = 0xAF01, 0x8008AF00, 0x4008AF00
SET_MEM_TABLE = 0x4008AF03
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 0x4008AF10, 0x4028AF11, 0x4008AF12, 0xC008AF12
SET_VRING_KICK, SET_VRING_CALL = 0x4008AF20, 0x4008AF21
SET_ENDPOINT, CLEAR_ENDPOINT = 0x40E8AF40, 0x40E8AF41
VERSION_1 = 1 << 32
DESC_F_NEXT, DESC_F_WRITE = 1, 2
Q = 2            # the first request queue
NUM = 16         # descriptors: 3 per request
MEM = 1 << 20
DESC, AVAIL, USED, BUFS = 0, 4096, 8192, 16384
SLOT = 1024      # per request: header @0, response @256, data-in @512
RESP_LEN, DATA_LEN = 108, 96

wwpn, tpgt, lun = sys.argv[1].encode(), int(sys.argv[2]), int(sys.argv[3])
ok = True


def check(what, cond):
    global ok
    print(("PASS: " if cond else "FAIL: ") + what)
    ok &= bool(cond)


mem = mmap.mmap(-1, MEM)
base_addr = ctypes.addressof(ctypes.c_char.from_buffer(mem))
fd = os.open("/dev/vhost-scsi", os.O_RDWR)
kick, call = os.eventfd(0), os.eventfd(0)


def ioctl(cmd, arg):
    return fcntl.ioctl(fd, cmd, arg)


def get_base():
    return struct.unpack("II", ioctl(GET_VRING_BASE, struct.pack("II", Q, 0)))[1]


def target():
    return struct.pack("i224sHH", 0, wwpn, 0, 0)


def used_idx():
    return struct.unpack_from("<H", mem, USED + 2)[0]


def make_available(n):
    """Requests n .. n+k-1 of the slots: INQUIRY, 3 descriptors each."""
    slot = BUFS + n * SLOT
    hdr = bytes([1, tpgt, 0x40 | (lun >> 8), lun & 0xFF, 0, 0, 0, 0])
    hdr += struct.pack("<QBBB", 0x100 + n, 0, 0, 0)
    hdr += bytes([0x12, 0, 0, 0, 36, 0]).ljust(32, b"\0")
    mem[slot:slot + len(hdr)] = hdr
    # A response the device has not written is all 0xff.
    mem[slot + 256:slot + 256 + RESP_LEN] = b"\xff" * RESP_LEN
    d = n * 3
    for i, (off, ln, fl) in enumerate(((0, len(hdr), DESC_F_NEXT), (256, RESP_LEN, DESC_F_WRITE | DESC_F_NEXT),
                                       (512, DATA_LEN, DESC_F_WRITE))):
        struct.pack_into("<QIHH", mem, DESC + (d + i) * 16, base_addr + slot + off, ln, fl, d + i + 1)
    idx = struct.unpack_from("<H", mem, AVAIL + 2)[0]
    struct.pack_into("<H", mem, AVAIL + 4 + (idx % NUM) * 2, d)
    struct.pack_into("<H", mem, AVAIL + 2, idx + 1)


def answered(n):
    """The request's virtio response and INQUIRY vendor, or None if unwritten."""
    slot = BUFS + n * SLOT
    resp = mem[slot + 256:slot + 256 + RESP_LEN]
    if resp == b"\xff" * RESP_LEN:
        return None
    _, _, _, status, response = struct.unpack_from("<IIHBB", resp)
    return response, status, mem[slot + 512 + 8:slot + 512 + 16]


def wait_used(want, secs):
    end = time.monotonic() + secs
    while used_idx() != want and time.monotonic() < end:
        time.sleep(0.02)
    return used_idx()


def all_inquiry_ok(first, last):
    return all(answered(n) == (0, 0, b"LIO-ORG ") for n in range(first, last))


ioctl(SET_OWNER, 0)
feat = struct.unpack("Q", ioctl(GET_FEATURES, bytes(8)))[0]
ioctl(SET_FEATURES, struct.pack("Q", feat & VERSION_1))
ioctl(SET_MEM_TABLE, struct.pack("IIQQQQ", 1, 0, base_addr, MEM, base_addr, 0))
ioctl(SET_VRING_NUM, struct.pack("II", Q, NUM))
ioctl(SET_VRING_BASE, struct.pack("II", Q, 0))
ioctl(SET_VRING_ADDR, struct.pack("IIQQQQ", Q, 0, base_addr + DESC, base_addr + USED, base_addr + AVAIL, 0))
ioctl(SET_VRING_KICK, struct.pack("ii", Q, kick))
ioctl(SET_VRING_CALL, struct.pack("ii", Q, call))
ioctl(SET_ENDPOINT, target())

for n in range(3):
    make_available(n)
os.eventfd_write(kick, 1)
check("3 INQUIRYs answered (used idx %d)" % wait_used(3, 20), used_idx() == 3 and all_inquiry_ok(0, 3))
b = get_base()
check("GET_VRING_BASE with the endpoint set: %d, the requests taken" % b, b == 3)

for n in (3, 4):
    make_available(n)
os.eventfd_write(kick, 1)
time.sleep(1.5)
check("2 requests made available after it and kicked: not taken in 1.5 s (used idx %d, answers %s %s)" %
      (used_idx(), answered(3), answered(4)), used_idx() == 3 and answered(3) is None and answered(4) is None)
b = get_base()
check("GET_VRING_BASE again: still %d" % b, b == 3)
try:
    ioctl(SET_VRING_BASE, struct.pack("II", Q, 3))
    e = 0
except OSError as x:
    e = x.errno
check("SET_VRING_BASE on the paused ring, endpoint still set: EBUSY (%s)" % errno.errorcode.get(e, e), e == errno.EBUSY)

# QEMU's stop: CLEAR_ENDPOINT, then GET_VRING_BASE; its start: SET_VRING_BASE, SET_ENDPOINT.
ioctl(CLEAR_ENDPOINT, target())
b = get_base()
check("after CLEAR_ENDPOINT, GET_VRING_BASE: %d" % b, b == 3)
ioctl(SET_VRING_BASE, struct.pack("II", Q, b))
ioctl(SET_ENDPOINT, target())
check("restarted from base 3: the 2 waiting requests answered (used idx %d)" % wait_used(5, 20),
      used_idx() == 5 and all_inquiry_ok(3, 5))
ioctl(CLEAR_ENDPOINT, target())
b = get_base()
check("after the restart and CLEAR_ENDPOINT, GET_VRING_BASE: %d" % b, b == 5)
os.close(fd)
sys.exit(0 if ok else 1)
