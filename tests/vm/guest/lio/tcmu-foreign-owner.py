#!/usr/bin/python3
# A TCMU ring owner that is not vhostio-runner: it opens /dev/uio<MINOR>,
# maps the ring and serves it itself, as a handler in another process (or
# one vhostio-runner does not know) would.  It answers INQUIRY (a
# processor device, vendor FOREIGN, so only sg binds to it) and TEST UNIT
# READY, refuses everything else, and HOLDS a command of opcode 0xC0 (vendor
# specific) until STATE.release exists; then it completes it GOOD under
# its original cmd_id.
#
# After every change it writes STATE (one line): the mailbox's
# head/tail, the held cmd_id, how many commands it served, and how often
# the ring was reset under it (the kernel's reset_ring sets head and tail
# to 0 and fails what is on the ring).  A held command completed after
# such a reset would name a cmd_id the kernel no longer knows (the kernel
# then marks the ring broken; with the tail it writes past the new head,
# 6.1 even spins in tcmu_handle_completions), so after a reset the owner
# logs the held command instead of completing it.  Runs until SIGTERM.
# Usage: tcmu-foreign-owner.py MINOR STATE
import mmap
import os
import select
import signal
import struct
import sys

OP_PAD, OP_CMD, OP_TMR = 0, 1, 2
UFLAG_READ_LEN = 0x2
HOLD_OPCODE = 0xC0
GOOD, CHECK_CONDITION = 0x00, 0x02

minor = int(sys.argv[1])
state_path = sys.argv[2]
release_path = state_path + '.release'


def log(*a):
    print('foreign-owner uio%d:' % minor, *a, flush=True)


with open('/sys/class/uio/uio%d/maps/map0/size' % minor) as f:
    size = int(f.read().strip(), 0)
fd = os.open('/dev/uio%d' % minor, os.O_RDWR)
m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
version, _flags, cmdr_off, cmdr_size = struct.unpack_from('<HHII', m, 0)
if version != 2:
    log('mailbox version', version)
    sys.exit(1)


def u32(off):
    return struct.unpack_from('<I', m, off)[0]


def u64(off):
    return struct.unpack_from('<Q', m, off)[0]


def head():
    return u32(12)


def tail():
    return u32(64)


def kick():
    os.write(fd, b'\0\0\0\0')


def sense(key, asc, ascq):
    s = bytearray(18)
    s[0], s[2], s[7], s[12], s[13] = 0x70, key, 10, asc, ascq
    return bytes(s)


def respond(cdb):
    """(status, data-in or None, sense or None) for one CDB."""
    if cdb[0] == 0x00:  # TEST UNIT READY
        return GOOD, None, None
    if cdb[0] == 0x12:  # INQUIRY
        alloc = (cdb[3] << 8) | cdb[4]
        if cdb[1] & 1:
            if cdb[2] != 0x00:
                return CHECK_CONDITION, None, sense(0x05, 0x24, 0x00)
            data = bytes([0x03, 0x00, 0x00, 0x01, 0x00])  # supported pages: 00 only
        else:
            data = bytes([0x03, 0x00, 0x06, 0x02, 31, 0, 0, 0]) + b'FOREIGN ' + b'tcmu-foreign    ' + b'0001'
        return GOOD, data[:alloc], None
    return CHECK_CONDITION, None, sense(0x05, 0x20, 0x00)


my_tail = tail()
fetch = my_tail
held = None          # (offset, length, cmd_id)
served = resets = released = 0
last_state = None


def write_state():
    global last_state
    line = 'head=%u tail=%u held=%s served=%d resets=%d released=%d\n' % (
        head(), tail(), held[2] if held else '-', served, resets, released)
    if line == last_state:
        return
    last_state = line
    with open(state_path + '.tmp', 'w') as f:
        f.write(line)
    os.rename(state_path + '.tmp', state_path)


def serve_ring():
    """Serve what the kernel queued, in ring order; stop at a command to hold."""
    global fetch, my_tail, held, served
    done = False
    h = head()
    while held is None and fetch != h:
        base = cmdr_off + fetch
        len_op, cmd_id, _kflags, uflags = struct.unpack_from('<IHBB', m, base)
        op, length = len_op & 7, len_op & ~7
        if length == 0 or length > cmdr_size:
            log('bad entry at', fetch, 'len_op', hex(len_op))
            break
        if op == OP_CMD:
            # Copy the request out: the response overlays it.
            iov_cnt = u32(base + 8)
            iovs = [(u64(base + 48 + 16 * i), u64(base + 56 + 16 * i)) for i in range(iov_cnt)]
            cdb_off = u64(base + 24)
            cdb = bytes(m[cdb_off:cdb_off + 16])
            if cdb[0] == HOLD_OPCODE:
                held = (fetch, length, cmd_id)
                log('holding cmd_id', cmd_id, 'at', fetch)
                fetch = (fetch + length) % cmdr_size
                break
            status, data, sns = respond(cdb)
            copied = 0
            if data:
                for off, ln in iovs:
                    n = min(ln, len(data) - copied)
                    m[off:off + n] = data[copied:copied + n]
                    copied += n
                    if copied == len(data):
                        break
                if copied < sum(ln for _, ln in iovs):
                    struct.pack_into('<B', m, base + 7, uflags | UFLAG_READ_LEN)
            struct.pack_into('<B', m, base + 8, status)
            struct.pack_into('<I', m, base + 12, copied)
            if sns:
                m[base + 16:base + 16 + len(sns)] = sns
            served += 1
        fetch = (fetch + length) % cmdr_size
        my_tail = fetch
        struct.pack_into('<I', m, 64, my_tail)
        done = True
    if done:
        kick()


def release():
    """Complete the held command GOOD under its cmd_id, in its own slot."""
    global held, my_tail, released
    off, length, cmd_id = held
    held = None
    if resets:
        # Its completion would name a cmd_id the kernel dropped, and set a
        # tail past the new head: on 6.1 that is a broken ring or worse (a
        # soft lockup in tcmu_handle_completions).  Don't, just tell.
        log('not completing held cmd_id', cmd_id, '(resets seen: %d): the ring was reset under us' % resets)
        return
    base = cmdr_off + off
    struct.pack_into('<B', m, base + 8, GOOD)
    struct.pack_into('<I', m, base + 12, 0)
    my_tail = (off + length) % cmdr_size
    struct.pack_into('<I', m, 64, my_tail)
    released += 1
    log('completed held cmd_id', cmd_id, '(resets seen: %d)' % resets)
    kick()


running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
log('serving: ring', cmdr_size, 'bytes, head', head(), 'tail', my_tail)
write_state()
while running:
    try:
        r, _, _ = select.select([fd], [], [], 0.1)
    except InterruptedError:
        continue
    if r:
        os.read(fd, 4)
    if tail() != my_tail:
        # Only the kernel's reset_ring moves the tail besides us.
        resets += 1
        log('the ring was reset under us: head', head(), 'tail', tail(), 'ours', my_tail)
        my_tail = fetch = tail()
    if held and os.path.exists(release_path):
        os.unlink(release_path)
        release()
    serve_ring()
    write_state()
log('exiting')
