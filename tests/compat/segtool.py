#!/usr/bin/env python3
"""Reads and damages the record batches of a partition directory's segments (.log files) with
the broker stopped, for the compression tests.

  segtool.py codecs DIR            one line per batch: base_offset last_offset codec record_count
                                   size_bytes
  segtool.py corrupt DIR OFFSET    the batch holding OFFSET: the second half of its (compressed)
                                   records section zeroed, the CRC-32C recomputed so that only
                                   decompression can notice
  segtool.py codec DIR OFFSET N    the batch holding OFFSET gets codec bits N (0-7), CRC fixed
  segtool.py logappendtime DIR OFFSET TS
                                   the batch holding OFFSET becomes a LogAppendTime batch
                                   (attribute 0x08) with maxTimestamp TS, CRC fixed

Batch layout (RecordBatch v2): baseOffset int64 @0, batchLength int32 @8, leaderEpoch @12,
magic int8 @16, crc uint32 @17 (CRC-32C of bytes 21..end), attributes int16 @21 (codec: low 3
bits; 0x08 LogAppendTime), lastOffsetDelta int32 @23, baseTimestamp int64 @27, maxTimestamp
int64 @35, ..., recordCount int32 @57, records from @61.
"""
import glob
import os
import struct
import sys

HEADER = 61


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def batches(path):
    """(file position, base offset, last offset, codec, record count, total size) per batch."""
    data = open(path, 'rb').read()
    pos = 0
    while pos + HEADER <= len(data):
        base, length = struct.unpack('>qi', data[pos:pos + 12])
        if length <= 0 or pos + 12 + length > len(data):
            break
        attr, delta = struct.unpack('>hi', data[pos + 21:pos + 27])
        count = struct.unpack('>i', data[pos + 57:pos + 61])[0]
        yield pos, base, base + delta, attr & 7, count, 12 + length
        pos += 12 + length


def segments(d):
    segs = sorted(glob.glob(os.path.join(d, '*.log')))
    if not segs:
        sys.exit(f'segtool: no .log segment in {d}')
    return segs


def find(d, offset):
    for seg in segments(d):
        for b in batches(seg):
            if b[1] <= offset <= b[2]:
                return seg, b
    sys.exit(f'segtool: no batch holds offset {offset} in {d}')


def rewrite(seg, b, fn):
    pos, size = b[0], b[5]
    with open(seg, 'r+b') as f:
        f.seek(pos)
        buf = bytearray(f.read(size))
        fn(buf)
        struct.pack_into('>I', buf, 17, crc32c(bytes(buf[21:])))
        f.seek(pos)
        f.write(buf)
        f.flush()
        os.fsync(f.fileno())


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == 'codecs':
        for seg in segments(d):
            for b in batches(seg):
                print(b[1], b[2], b[3], b[4], b[5])
    elif cmd == 'corrupt':
        seg, b = find(d, int(sys.argv[3]))
        recs = b[5] - HEADER
        if recs < 8:
            sys.exit('segtool: records section too short to corrupt')

        def zero(buf):
            for i in range(HEADER + recs // 2, len(buf)):
                buf[i] = 0
        rewrite(seg, b, zero)
    elif cmd == 'codec':
        seg, b = find(d, int(sys.argv[3]))
        n = int(sys.argv[4])

        def setc(buf):
            attr = struct.unpack('>h', buf[21:23])[0]
            struct.pack_into('>h', buf, 21, (attr & ~7) | n)
        rewrite(seg, b, setc)
    elif cmd == 'logappendtime':
        seg, b = find(d, int(sys.argv[3]))
        ts = int(sys.argv[4])

        def setlat(buf):
            attr = struct.unpack('>h', buf[21:23])[0]
            struct.pack_into('>h', buf, 21, attr | 0x08)
            struct.pack_into('>q', buf, 35, ts)
        rewrite(seg, b, setlat)
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
