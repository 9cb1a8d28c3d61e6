#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write the hand-made seeds of the fuzz corpus: valid (and a few invalid)
inputs of each target, in the input formats the comments at the top of
tests/fuzz/fuzz-*.c describe.  By hand only; the output is committed.

    tests/fuzz/make-seeds.py [DIR]     # default: tests/fuzz/corpus

Files are named seed-<what>; corpus entries libFuzzer added (-merge=1)
are named by their SHA-1 and are left alone.
"""
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    data = bytes(data)
    if target == "scsi":
        data = data.rstrip(b"\0")  # the target reads zeroes past the end anyway
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def be(n, v):
    return v.to_bytes(n, "big")


# ---- SCSI opcodes (scsi_defs.h) ----
TEST_UNIT_READY, REQUEST_SENSE, READ_6, WRITE_6, INQUIRY = 0x00, 0x03, 0x08, 0x0A, 0x12
MODE_SELECT_6, MODE_SENSE_6, START_STOP = 0x15, 0x1A, 0x1B
READ_CAPACITY_10, READ_10, WRITE_10, WRITE_VERIFY_10, VERIFY_10 = 0x25, 0x28, 0x2A, 0x2E, 0x2F
PRE_FETCH_10, SYNC_CACHE_10, WRITE_SAME_10, UNMAP = 0x34, 0x35, 0x41, 0x42
MODE_SELECT_10, MODE_SENSE_10 = 0x55, 0x5A
READ_16, CAW, WRITE_16, WRITE_VERIFY_16, VERIFY_16 = 0x88, 0x89, 0x8A, 0x8E, 0x8F
SYNC_CACHE_16, WRITE_SAME_16, SAI_16, MAINT_IN = 0x91, 0x93, 0x9E, 0xA3

# ---- fuzz-scsi: header + commands ----
FD_PLAIN, FD_FLUSH, FD_UNMAP, FD_WRITE_SAME, FD_WS_DECLINE, FD_FUA, FD_ALL = range(7)


def scsi_hdr(bs_shift=0, variant=FD_FLUSH, wce=False, ua=False, lbas=64, max_sectors_idx=5, async_=False,
             newest_first=False, fail_at=0, errno_sel=0, no_caps=0, odd_extents=False, dsense=False):
    return bytes([
        bs_shift | variant << 3 | (0x40 if wce else 0) | (0x80 if ua else 0),
        lbas - 1,
        max_sectors_idx,
        (1 if async_ else 0) | (2 if newest_first else 0) | fail_at << 2,
        no_caps | errno_sel << 5,
        (1 if odd_extents else 0) | (2 if dsense else 0),
        0, 0,
    ])


def cmd(cdb, data=b"", iovs=1, settle=False, units=None):
    """units: a buffer of that many 512-byte units, 'data' its first bytes."""
    cdb = bytes(cdb)
    length = struct.pack("<H", 0x8000 | units) if units is not None else struct.pack("<H", len(data))
    return bytes([(len(cdb) - 1) | (iovs - 1) << 5 | (0x80 if settle else 0)]) + cdb + length + bytes(data)


def cdb10(op, lba, blocks, b1=0):
    return [op, b1] + list(be(4, lba)) + [0] + list(be(2, blocks)) + [0]


def cdb16(op, lba, blocks, b1=0):
    return [op, b1] + list(be(8, lba)) + list(be(4, blocks)) + [0, 0]


def pattern(n, seed=1):
    return bytes((i * 131 + seed * 7) & 0xFF for i in range(n))


BS = 512
write("scsi", "inquiry-vpd", scsi_hdr() + cmd([INQUIRY, 0, 0, 0, 96, 0], bytes(96)) +
      cmd([INQUIRY, 1, 0x00, 0, 255, 0], bytes(255)) + cmd([INQUIRY, 1, 0x83, 0, 255, 0], bytes(255)) +
      cmd([INQUIRY, 1, 0xB0, 0, 64, 0], bytes(64)) + cmd([INQUIRY, 1, 0xB2, 0, 64, 0], bytes(64)))
write("scsi", "rw-10-16", scsi_hdr() + cmd(cdb10(WRITE_10, 3, 2), pattern(2 * BS), iovs=3) +
      cmd(cdb10(READ_10, 3, 2), bytes(2 * BS), iovs=2) + cmd(cdb16(WRITE_16, 10, 1, 0x08), pattern(BS, 2)) +
      cmd(cdb16(READ_16, 10, 1), bytes(BS)) + cmd([READ_6, 0, 0, 1, 1, 0], bytes(BS)))
write("scsi", "mode-select-6-wce-off", scsi_hdr(wce=True) +
      cmd([MODE_SENSE_6, 0, 0x3F, 0, 255, 0], bytes(255)) +
      cmd([MODE_SELECT_6, 0x10, 0, 0, 24, 0], bytes([23, 0, 0, 0]) + bytes([0x08, 18, 0x00]) + bytes(17)) +
      cmd([MODE_SENSE_6, 0, 0x08, 0, 255, 0], bytes(255)))
write("scsi", "mode-select-10-dsense", scsi_hdr() +
      cmd([MODE_SELECT_10, 0x10, 0, 0, 0, 0, 0, 0, 20, 0], bytes(8) +
          bytes([0x0A, 10, 0x04, 0x10, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0])) +
      cmd(cdb10(READ_10, 1000, 1), bytes(BS)))
write("scsi", "mode-select-block-descriptor", scsi_hdr() +
      cmd([MODE_SELECT_6, 0x10, 0, 0, 32, 0], bytes([31, 0, 0, 8]) + be(4, 64) + be(4, BS) +
          bytes([0x08, 18, 0x04]) + bytes(17)))
unmap_param = be(2, 6 + 32) + be(2, 32) + bytes(4) + be(8, 0) + be(4, 4) + bytes(4) + be(8, 20) + be(4, 8) + bytes(4)
write("scsi", "unmap", scsi_hdr(variant=FD_UNMAP) + cmd(cdb10(WRITE_10, 0, 8), pattern(8 * BS)) +
      cmd([UNMAP, 0, 0, 0, 0, 0, 0] + list(be(2, len(unmap_param))) + [0], unmap_param) +
      cmd([SAI_16, 0x12] + list(be(8, 0)) + list(be(4, 1040)) + [0, 0], bytes(1040)))
write("scsi", "unmap-bad-lengths", scsi_hdr(variant=FD_UNMAP) +
      cmd([UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0], be(2, 100) + be(2, 16) + bytes(4) + be(8, 63) + be(4, 2) + bytes(4)))
caw_data = bytes(BS) + pattern(BS, 3)
write("scsi", "caw-match-miscompare", scsi_hdr() + cmd(cdb16(CAW, 5, 0)[:13] + [1, 0, 0], caw_data) +
      cmd(cdb16(CAW, 5, 0)[:13] + [1, 0, 0], caw_data, iovs=4))
write("scsi", "caw-async-lock", scsi_hdr(async_=True) + cmd(cdb16(CAW, 5, 0)[:13] + [1, 0, 0], caw_data) +
      cmd(cdb16(CAW, 5, 0)[:13] + [1, 0, 0], caw_data) + cmd(cdb16(CAW, 6, 0)[:13] + [2, 0, 0], bytes(4 * BS)))
write("scsi", "write-same-emulated", scsi_hdr() + cmd(cdb10(WRITE_SAME_10, 2, 16), pattern(BS)) +
      cmd(cdb16(WRITE_SAME_16, 0, 64, 0x01)) + cmd(cdb10(WRITE_SAME_10, 0, 0), pattern(BS)))
write("scsi", "write-same-native-unmap", scsi_hdr(variant=FD_ALL) + cmd(cdb16(WRITE_SAME_16, 1, 9), pattern(BS)) +
      cmd(cdb16(WRITE_SAME_16, 1, 9, 0x08), bytes(BS)) + cmd(cdb16(WRITE_SAME_16, 3, 2), pattern(BS, 5)))
write("scsi", "write-same-4k-async", scsi_hdr(bs_shift=3, variant=FD_WS_DECLINE, lbas=16, async_=True,
                                                newest_first=True) +
      cmd(cdb10(WRITE_SAME_10, 0, 16), pattern(4096)) + cmd(cdb10(WRITE_SAME_10, 4, 4), pattern(4096, 9)))
write("scsi", "verify-bytchk", scsi_hdr() + cmd(cdb10(WRITE_10, 0, 4), pattern(4 * BS)) +
      cmd(cdb10(VERIFY_10, 0, 4)) + cmd(cdb10(VERIFY_10, 0, 4, 0x02), pattern(4 * BS)) +
      cmd(cdb10(VERIFY_10, 0, 4, 0x06), pattern(BS)) + cmd(cdb10(VERIFY_10, 0, 1, 0x04)) +
      cmd(cdb16(VERIFY_16, 0, 64, 0x02), bytes(64 * BS), iovs=4))
# 16 KiB blocks, 4 MiB: the VERIFY and WRITE SAME loops take several 1 MiB steps.
BIG = 16384
write("scsi", "multi-chunk-loops", scsi_hdr(bs_shift=5, lbas=256, async_=True) +
      cmd(cdb16(WRITE_SAME_16, 0, 100, 0x01)) + cmd(cdb16(VERIFY_16, 0, 256), settle=True) +
      cmd(cdb16(VERIFY_16, 100, 150, 0x02), b"", units=150 * BIG // 512, iovs=4))  # last: zeroes
write("scsi", "mode-select-long-lba", scsi_hdr() +
      cmd([MODE_SELECT_10, 0x10, 0, 0, 0, 0, 0, 0, 44, 0], bytes([0, 0, 0, 0, 1, 0, 0, 16]) + be(8, 64) + bytes(4) +
          be(4, BS) + bytes([0x08, 18, 0x04]) + bytes(17)))
write("scsi", "write-and-verify", scsi_hdr(variant=FD_FUA, wce=True) +
      cmd(cdb10(WRITE_VERIFY_10, 7, 2, 0x02), pattern(2 * BS)) + cmd(cdb16(WRITE_VERIFY_16, 9, 1), pattern(BS)))
write("scsi", "report-opcodes", scsi_hdr(variant=FD_ALL) +
      cmd([MAINT_IN, 0x0C, 0, 0, 0, 0] + list(be(4, 1024)) + [0, 0], bytes(1024)) +
      cmd([MAINT_IN, 0x0C, 0x81, 0x2A, 0, 0] + list(be(4, 64)) + [0, 0], bytes(64)) +
      cmd([MAINT_IN, 0x0C, 0x02, 0x9E, 0, 0x10] + list(be(4, 64)) + [0, 0], bytes(64)) +
      cmd([MAINT_IN, 0x0C, 0x83, 0x93, 0, 0] + list(be(4, 20)) + [0, 0], bytes(20)))
write("scsi", "capacity-cache-misc", scsi_hdr(ua=True, variant=FD_UNMAP) + cmd([TEST_UNIT_READY, 0, 0, 0, 0, 0]) +
      cmd([REQUEST_SENSE, 1, 0, 0, 252, 0], bytes(252)) + cmd([READ_CAPACITY_10] + [0] * 9, bytes(8)) +
      cmd([SAI_16, 0x10] + [0] * 8 + list(be(4, 32)) + [0, 0], bytes(32)) + cmd(cdb10(SYNC_CACHE_10, 0, 0)) +
      cmd(cdb10(PRE_FETCH_10, 60, 4)) + cmd([START_STOP, 0, 0, 0, 0, 0]) + cmd(cdb16(SYNC_CACHE_16, 2, 2)))
write("scsi", "errors-async", scsi_hdr(async_=True, fail_at=2, errno_sel=1) + cmd(cdb10(WRITE_10, 0, 1), pattern(BS)) +
      cmd(cdb10(WRITE_10, 1, 1), pattern(BS)) + cmd(cdb10(READ_10, 0, 2), bytes(2 * BS), settle=True))

# ---- fuzz-ring: control + image + rounds ----
OP_PAD, OP_CMD, OP_TMR = 0, 1, 2
CMDR_OFF = 128


def group_len(op):
    return [6, 10, 10, 12, 16, 12, 10, 10][op >> 5]


class Ring:
    def __init__(self, cmdr_size=1024, pages=2, flags=0xF):
        self.cmdr_size = cmdr_size
        self.size = pages * 4096
        self.pages = pages
        self.img = bytearray(self.size)
        self.head = 0
        self.data_off = CMDR_OFF + cmdr_size
        self.data_next = self.data_off
        self.next_id = 1
        struct.pack_into("<HHII", self.img, 0, 2, flags, CMDR_OFF, cmdr_size)

    def entry(self, op, length, cmd_id=0):
        if self.cmdr_size - self.head < length:
            self.pad()
        struct.pack_into("<IHBB", self.img, CMDR_OFF + self.head, length | op, cmd_id, 0, 0)
        pos = self.head
        self.head = (self.head + length) % self.cmdr_size
        return pos

    def pad(self):
        to_end = self.cmdr_size - self.head
        struct.pack_into("<IHBB", self.img, CMDR_OFF + self.head, to_end | OP_PAD, 0, 0, 0)
        self.head = 0

    def command(self, cdb, data=b"", data_len=None, niov=None, cdb_off=None, iov_base=None):
        cdb = bytes(cdb)
        data_len = len(data) if data_len is None else data_len
        niov = (1 if data_len else 0) if niov is None else niov
        base = max(48 + 16 * niov, 112)
        length = base + ((group_len(cdb[0]) + 7) & ~7)
        pos = self.entry(OP_CMD, length, self.next_id)
        self.next_id += 1
        ent = CMDR_OFF + pos
        off = cdb_off if cdb_off is not None else ent + base
        struct.pack_into("<III4xQ", self.img, ent + 8, niov, 0, 0, off)
        self.img[ent + base:ent + base + len(cdb)] = cdb
        dbase = self.data_next if iov_base is None else iov_base
        for i in range(niov):
            part = data_len // niov if i + 1 < niov else data_len - (niov - 1) * (data_len // niov)
            struct.pack_into("<QQ", self.img, ent + 48 + 16 * i, dbase, part)
            dbase += part
        if data and iov_base is None:
            self.img[self.data_next:self.data_next + len(data)] = data
        if iov_base is None:
            self.data_next += (data_len + 511) & ~511
        return pos

    def publish(self, head=None):
        struct.pack_into("<I", self.img, 12, self.head if head is None else head)

    def seed(self, async_=False, newest_first=False, wce=False, variant=FD_FLUSH, bs_shift=0, lbas=64,
             fail=0, errno_sel=0, max_sectors_idx=5, rounds=b"", image_len=None, head=None):
        self.publish(head)
        img = bytes(self.img).rstrip(b"\0") if image_len is None else bytes(self.img[:image_len])
        ctl = bytes([
            (self.pages - 1) | (0x10 if async_ else 0) | (0x20 if newest_first else 0) | (0x40 if wce else 0),
            variant | bs_shift << 3,
            lbas - 1,
            fail | errno_sel << 6,
            max_sectors_idx,
            0,
        ]) + struct.pack("<H", len(img))
        return ctl + img + rounds


def patch(offset, data, finish_first=False):
    return bytes([1 if finish_first else 0]) + struct.pack("<HB", offset, len(data)) + bytes(data)


r = Ring()
r.command(cdb10(WRITE_10, 2, 1), pattern(BS))
r.command(cdb10(READ_10, 2, 1), data_len=BS)
r.command([INQUIRY, 0, 0, 0, 96, 0], data_len=96)
r.command([TEST_UNIT_READY, 0, 0, 0, 0, 0])
write("ring", "write-read-inquiry", r.seed())

r = Ring()
r.command(cdb10(WRITE_10, 0, 2), pattern(2 * BS), niov=3)
r.command(cdb10(READ_10, 0, 2), data_len=2 * BS, niov=2)
r.command(cdb16(WRITE_SAME_16, 0, 8), pattern(BS))
write("ring", "async-out-of-order", r.seed(async_=True, newest_first=True))

# A ring that has been running: the kernel's tail at 240, a PAD to the end, then on from 0.
r = Ring(cmdr_size=512)
r.head = 240
struct.pack_into("<I", r.img, 64, 240)
r.command([TEST_UNIT_READY, 0, 0, 0, 0, 0])
r.command([TEST_UNIT_READY, 0, 0, 0, 0, 0])
r.entry(OP_TMR, 16)
r.command(cdb10(READ_10, 1, 1), data_len=BS)
write("ring", "wrap-pad-tmr", r.seed())

r = Ring()
r.entry(5, 16)  # unknown op: flagged and skipped
r.command([INQUIRY, 0, 0, 0, 36, 0], data_len=36, cdb_off=5000000)  # cdb outside the mapping
r.command(cdb10(READ_10, 0, 1), data_len=BS, iov_base=64)  # iov inside the ring, not the data area
r.command(cdb10(WRITE_10, 0, 4), pattern(BS))  # buffer shorter than the transfer
write("ring", "bad-entries", r.seed())

# Round 1: the kernel publishes a second command that was already written.
r = Ring()
r.command(cdb10(WRITE_10, 0, 1), pattern(BS))
first_head = r.head
r.command(cdb10(READ_10, 0, 1), data_len=BS)
write("ring", "second-round", r.seed(head=first_head, rounds=patch(12, struct.pack("<I", r.head))))

r = Ring()
r.command(cdb10(WRITE_10, 0, 1), pattern(BS))
r.command(cdb10(WRITE_10, 1, 1), pattern(BS))
write("ring", "async-rounds", r.seed(async_=True, rounds=patch(12, struct.pack("<I", r.head), finish_first=True)))

r = Ring(cmdr_size=4096 - CMDR_OFF, pages=1)  # the ring ends where the mapping does
r.command([TEST_UNIT_READY, 0, 0, 0, 0, 0])
write("ring", "ring-at-map-end", r.seed())

r = Ring()
r.command([MODE_SELECT_6, 0x10, 0, 0, 24, 0], bytes([23, 0, 0, 0, 0x08, 18, 0x04]) + bytes(17))
r.command(cdb10(WRITE_10, 0, 1, 0x08), pattern(BS))
r.command(cdb16(CAW, 0, 0)[:13] + [1, 0, 0], pattern(BS) + pattern(BS, 4))
r.command([UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0], be(2, 22) + be(2, 16) + bytes(4) + be(8, 0) + be(4, 1) + bytes(4))
write("ring", "mode-select-fua-caw-unmap", r.seed(variant=FD_ALL, wce=True))

r = Ring(pages=4)
r.command(cdb10(WRITE_10, 4, 12), pattern(12 * BS), niov=12)  # more iovs than an io holds inline
r.command(cdb10(READ_10, 4, 12), data_len=12 * BS, niov=10)
write("ring", "many-iovs", r.seed())

# More commands in flight than the ring's first slot table holds.
r = Ring(cmdr_size=16384, pages=13)
for i in range(70):
    r.command(cdb10(READ_10 if i % 2 else WRITE_10, i % 64, 1), data_len=BS)
write("ring", "async-70-in-flight", r.seed(async_=True, newest_first=True))

r = Ring()
struct.pack_into("<H", r.img, 0, 1)  # wrong mailbox version
write("ring", "bad-version", r.seed())
r = Ring()
struct.pack_into("<I", r.img, 64, 12)  # cmd_tail not aligned
write("ring", "bad-tail", r.seed())

# ---- fuzz-config: selector byte + text ----
configs = {
    "ram-options": b"\x00ram0;chunk=64k;limit=1g",
    "ram-limit-only": b"\x00;limit=65536",
    "ram-bad": b"\x00ram0;chunk=3k;bogus",
    "file-disk": b"\x01disk",
    "file-options": b"\x01disk;direct=off;queue_depth=32",
    "file-create": b"\x01dir/new;create;direct=auto",
    "file-dir": b"\x01dir",
    "file-under-a-file": b"\x01disk/new;create",
    "file-missing-dir": b"\x01nothere/new;create",
    "file-fifo": b"\x01fifo",
    "file-link": b"\x01link;direct=on",
    "file-dangling": b"\x01dangling;queue_depth=4097",
    "file-relative": b"\x05relative;create",
    "file-no-path": b"\x05;create",
    "uio-ram": b"\x06" + b"1/ram0/ram/label;chunk=4k",
    "uio-file": b"\x02tcm-user/3/disk/file//var/lib/disk.img;direct=off",
    "uio-bad": b"\x06" + b"1//ram",
    "settings": b"\x03[runner]\nlog-level = debug\nhandler-dir = /usr/lib/vhostio\npoll-us = 50\n",
    "settings-bad": b"\x03[runner]\nlog-level=7\npoll-us=-1\nhandler-dir=rel\n[other]\nx=1\n",
    "settings-value": b"\x031000000",
}
for name, data in configs.items():
    write("config", name, data)

# ---- fuzz-virtio: mode 0 scripts, mode 1 decoders ----
ADD, KICK, USED, IDX, FLAGS, REAP, HONEST, ENABLE = range(8)


def add(lens, nread):
    return bytes([ADD, (len(lens) - 1) | nread << 4]) + b"".join(struct.pack("<H", n) for n in lens)


resp = struct.pack("<IIHBB", 18, 0, 0, 2, 0) + bytes([0x70, 0, 5]).ljust(96, b"\0")  # CHECK CONDITION
write("virtio", "honest", bytes([0, 3]) + add([51, 108], 1) + add([51, 512, 108, 4096], 2) + bytes([KICK]) +
      bytes([HONEST, 1]) + bytes([HONEST, 0]) + bytes([REAP]) + resp + resp + bytes([ENABLE]))
write("virtio", "event-idx-indirect", bytes([0, 0x33]) + add([51, 100, 200, 300, 108, 400], 3) + add([16], 0) +
      bytes([KICK, FLAGS]) + struct.pack("<HH", 1, 1) + bytes([KICK, HONEST, 0, REAP]) + resp + bytes([ENABLE]))
write("virtio", "hostile-used", bytes([0, 2]) + add([51, 108], 1) + add([51, 108], 1) + bytes([KICK]) +
      bytes([USED]) + struct.pack("<HII", 0, 3, 0) + bytes([IDX]) + struct.pack("<H", 1) + bytes([REAP]) +
      bytes([USED]) + struct.pack("<HII", 0, 0, 0xFFFFFFFF) + bytes([REAP]) + resp +
      bytes([IDX]) + struct.pack("<H", 40) + bytes([REAP]))
write("virtio", "duplicate-id", bytes([0, 2]) + add([51, 108], 1) + bytes([KICK, HONEST, 0]) +
      bytes([USED]) + struct.pack("<HII", 1, 0, 0) + bytes([IDX]) + struct.pack("<H", 2) + bytes([REAP]) + resp + resp)
write("virtio", "decoders", bytes([1]) + resp + struct.pack("<II", 1, 0) + bytes([1, 5, 0x40, 3, 0, 0, 0, 0]) +
      bytes([1, 255, 0x7F, 0xFF, 9, 9, 9, 9]))

# ---- fuzz-inotify: the bytes of one read() of the serial watch ----
IN_MODIFY, IN_CLOSE_WRITE, IN_IGNORED, IN_Q_OVERFLOW = 0x2, 0x8, 0x8000, 0x4000


def ev(mask, name=b"", length=None, wd=1):
    """struct inotify_event; length defaults to the name NUL-padded to 16 bytes, as the kernel pads it."""
    if length is None:
        length = (len(name) + 16) // 16 * 16 if name else 0
    return struct.pack("<iIII", wd, mask, 0, length) + name.ljust(length, b"\0")[:length]


write("inotify", "serial-modify", ev(IN_MODIFY, b"vpd_unit_serial"))
write("inotify", "serial-close-write", ev(IN_CLOSE_WRITE, b"vpd_unit_serial", 32))
write("inotify", "overflow", ev(IN_Q_OVERFLOW, wd=-1))
write("inotify", "several", ev(IN_MODIFY, b"naa") + ev(IN_CLOSE_WRITE, b"company_id") + ev(IN_IGNORED) +
      ev(IN_CLOSE_WRITE, b"vpd_unit_serial"))
write("inotify", "other-names", ev(IN_MODIFY, b"vpd_unit_serial2") + ev(IN_MODIFY, b"xvpd_unit_serial") +
      ev(IN_MODIFY, b"vpd_unit_seria"))
write("inotify", "no-nul", ev(IN_MODIFY, b"vpd_unit_serial", 15))
write("inotify", "odd-length", ev(IN_MODIFY, b"x", 3) + ev(IN_MODIFY, b"vpd_unit_serial"))
write("inotify", "len-past-end", ev(IN_MODIFY, b"vpd_unit_serial")[:-4])
write("inotify", "len-huge", struct.pack("<iIII", 1, IN_MODIFY, 0, 0xFFFFFFF0) + ev(IN_MODIFY, b"vpd_unit_serial"))
write("inotify", "truncated-header", ev(IN_MODIFY, b"naa") + ev(IN_MODIFY, b"vpd_unit_serial")[:10])

# ---- fuzz-vring: ring image, memory table, guest RAM, then a script ----
VR_POP, VR_POP_HOLD, VR_POP_HOLD2, VR_PUSH_HELD, VR_SIGNAL, VR_ENABLE, VR_DISABLE, VR_POKE = range(8)
VR_EVENT_IDX, VR_INDIRECT, VR_NOTIFY_ON_EMPTY = 0x10, 0x20, 0x40
D_NEXT, D_WRITE, D_INDIRECT = 1, 2, 4
VR_A, VR_B = 0x10000, 0x18000  # two adjacent regions of 32 KiB, guest RAM offsets 0 and 0x8000
VR_REGIONS = [(VR_A, 0x8000, 0), (VR_B, 0x8000, 0x8000)]


def vr_table(entries, n=None):
    """Descriptors {index: (addr, len, flags, next)} as a table of n entries."""
    n = n if n is not None else max(entries) + 1
    t = bytearray(16 * n)
    for i, (addr, ln, fl, nx) in entries.items():
        struct.pack_into("<QIHH", t, 16 * i, addr, ln, fl, nx)
    return bytes(t)


def vring(log2n, flags=0, base=0, used=0, regions=VR_REGIONS, descs=None, heads=(), avail_idx=None,
          avail_flags=0, used_event=0, guest=b"", ops=b""):
    num = 1 << log2n
    out = bytes([log2n | flags]) + struct.pack("<HH", base, used) + bytes([len(regions)])
    for r in regions:
        if r[0] == "raw":
            out += b"\x01" + struct.pack("<QQQ", *r[1:])
        else:
            out += b"\x00" + struct.pack("<IHH", r[0], r[1] - 1, r[2])
    out += vr_table(descs or {}, num)
    ring = [0] * num
    for k, h in enumerate(heads):
        ring[(base + k) % num] = h
    idx = (base + len(heads)) & 0xFFFF if avail_idx is None else avail_idx
    out += struct.pack("<HH", avail_flags, idx) + struct.pack("<%dH" % num, *ring) + struct.pack("<H", used_event)
    return out + struct.pack("<H", len(guest)) + guest + ops


def pop(out_room=8, in_room=8, op=VR_POP):
    return bytes([op, out_room, in_room])


write("vring", "simple", vring(3, descs={0: (VR_A + 0x100, 64, D_NEXT, 3), 3: (VR_A + 0x200, 96, D_WRITE, 0)},
                              heads=[0], ops=pop() + bytes([VR_SIGNAL, VR_ENABLE]) + pop()))
write("vring", "indirect", vring(4, VR_INDIRECT, descs={5: (VR_A + 0x40, 48, D_INDIRECT, 0),
                                                         1: (VR_A + 0x1000, 8, D_NEXT, 2), 2: (VR_A + 0x70, 16, D_INDIRECT, 0)},
                                 heads=[5, 1],
                                 guest=bytes(0x40) + vr_table({0: (VR_A + 0x4000, 16, D_NEXT, 2), 2: (VR_A + 0x5000, 32, D_NEXT, 1),
                                                               1: (VR_B + 0x10, 100, D_WRITE, 0)}) +
                                 vr_table({0: (VR_B + 0x100, 512, D_WRITE, 0)}),
                                 ops=pop() + pop(1, 1) + bytes([VR_SIGNAL])))
write("vring", "event-idx", vring(3, VR_EVENT_IDX, base=0xFFFE, used=0xFFFE, used_event=0,
                                  descs={i: (VR_A + 0x100 * i, 32, D_WRITE, 0) for i in range(8)}, heads=range(6),
                                  ops=pop(op=VR_POP_HOLD) + pop(op=VR_POP_HOLD) + bytes([VR_PUSH_HELD, VR_SIGNAL, VR_DISABLE]) +
                                  pop(op=VR_POP_HOLD2) + pop(op=VR_POP_HOLD2) + bytes([VR_PUSH_HELD, VR_SIGNAL, VR_ENABLE]) +
                                  pop() + pop() + bytes([VR_SIGNAL, VR_ENABLE, VR_SIGNAL])))
write("vring", "notify-on-empty", vring(2, VR_NOTIFY_ON_EMPTY, avail_flags=1, descs={0: (VR_A, 1, 0, 0)}, heads=[0, 0],
                                        ops=pop() + bytes([VR_SIGNAL]) + pop() + bytes([VR_SIGNAL, VR_DISABLE, VR_ENABLE])))
write("vring", "malformed", vring(4, VR_INDIRECT, descs={
    0: (VR_A, 0, D_NEXT, 0),                       # self loop
    1: (VR_A, 16, D_NEXT, 16),                     # next out of range
    2: (VR_A, 16, D_WRITE | D_NEXT, 3), 3: (VR_A, 16, 0, 0),  # readable after writable
    4: (VR_A, 16, D_NEXT, 5), 5: (VR_A, 0xFFFFFFF8, D_WRITE, 0),  # length overflow
    6: (0x900000, 16, 0, 0),                       # unmapped
    7: (VR_A, 0, D_INDIRECT, 0),                   # empty table
    8: (VR_A, 24, D_INDIRECT, 0),                  # not 16*k
    9: (VR_A, 16, D_INDIRECT | D_NEXT, 0),         # indirect with next
    10: (VR_A + 0x100, 16, D_INDIRECT, 0),         # nested
    11: (VR_B + 0x7FF0, 32, D_INDIRECT, 0),        # table runs out of guest RAM
    12: (VR_A + 0x7FF8, 16, D_WRITE, 0),           # across regions: two segments
}, heads=range(13), guest=bytes(0x100) + vr_table({0: (VR_A, 16, D_INDIRECT, 0)}),
    ops=b"".join(pop() for _ in range(12)) + pop(1, 1)))
write("vring", "avail-jump", vring(3, avail_idx=9, ops=pop() + bytes([VR_SIGNAL, VR_ENABLE])))
write("vring", "bad-head", vring(3, descs={0: (VR_A, 1, 0, 0)}, heads=[0, 8], ops=pop() + pop() + pop()))
write("vring", "no-indirect", vring(3, descs={0: (VR_A, 16, D_INDIRECT, 0)}, heads=[0],
                                    guest=vr_table({0: (VR_A, 16, 0, 0)}), ops=pop()))
write("vring", "regions-overlap", vring(3, regions=[("raw", 0x1000, 0x2000, 0x500000000000),
                                                 ("raw", 0x2000, 0x1000, 0x500000004000)],
                                    descs={0: (0x1800, 16, 0, 0)}, heads=[0], ops=pop()))
write("vring", "regions-wrap", vring(3, regions=[("raw", 2**64 - 0x1000, 0x1000, 0x500000000000),
                                                  ("raw", 0x0, 0x1000, 0x500000001000)],
                                     descs={0: (2**64 - 0x10, 0x20, 0, 0)}, heads=[0], ops=pop()))
write("vring", "regions-uaddr-wrap", vring(3, regions=[("raw", 0x10000, 0x1000, 2**64 - 0x800)],
                                           descs={0: (0x10000, 16, 0, 0)}, heads=[0], ops=pop()))
write("vring", "guest-rewrites", vring(3, descs={0: (VR_A, 16, D_NEXT, 1), 1: (VR_A, 16, D_WRITE, 0)}, heads=[0, 0],
                                       ops=pop() + bytes([VR_POKE]) + struct.pack("<HH", 8, 0xFFFF) + pop() +
                                       bytes([VR_POKE]) + struct.pack("<HH", 16 * 8 + 2, 7) + pop() + pop()))
