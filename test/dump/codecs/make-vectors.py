#!/usr/bin/env python3
"""
How the codec test vectors in vectors/ were made. Not run by `npm test` or CI: run it by hand
(from any directory) when a vector is to be added, then commit what it writes.

Needs python-lzo (liblzo2) and python-snappy (libsnappy), e.g. Debian's python3-lzo and
python3-snappy. The compressed blocks come from the real compressors:

  lzo.compress(data, 1, False)   liblzo2's lzo1x_1_compress, no header: what makedumpfile
                                 writes for a page (DUMP_DH_COMPRESSED_LZO)
  lzo.compress(data, 9, False)   lzo1x_999_compress: the same LZO1X format, but it also uses
                                 the two M1 forms, which lzo1x_1 never emits
  snappy.compress(data)          the raw Snappy block (varint length, then elements), what
                                 makedumpfile writes for DUMP_DH_COMPRESSED_SNAPPY

Each block is checked against the real decompressor (lzo.decompress, snappy.decompress).
The original page is not stored (it would triple the size): vectors/manifest.json records its
length and SHA-256, so a test hashes the decoder's output and compares.

`forms` in the manifest counts the instructions of each kind in the block. They come from
the small tracer below, which is trusted only because it reproduces the original bytes
exactly (asserted) while it counts: it is how the tests know which instruction forms a
vector exercises.

A few Snappy forms are never written by the compressor (it works in 64 KiB blocks, so it
emits no 4-byte offsets and no literal length of more than 2 bytes). Those vectors are
hand-made below, byte by byte, and accepted only if snappy.decompress agrees.
"""
import hashlib
import json
import os
import random

import lzo
import snappy

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'vectors')

# ---------------------------------------------------------------- pages

def zeros(n):
    return bytes(n)


def pattern(n):
    # A 7-byte period: every match is at a distance of a multiple of 7.
    unit = b'SMMUv3-'
    return (unit * (n // len(unit) + 1))[:n]


def rand(n, seed):
    return random.Random(seed).randbytes(n)


WORDS = ('arm_smmu_write_ste', 'cmdq', 'CMD_CFGI_STE', 'sync', 'STRTAB_BASE', 'asid', 'vmid',
         'the', 'stream', 'table', 'entry', 'is', 'valid', 'and', 'points', 'at', 'a',
         'context', 'descriptor', 'page', 'fault', 'event', 'queue', 'overflow', '0x8000',
         'iommu', 'domain', 'attach', 'detach', 'TLBI', 'NH_VA', 'S2', 'S1', 'bypass', 'abort')


def text(n, seed):
    r = random.Random(seed)
    s = bytearray()
    while len(s) < n:
        line = ' '.join(r.choice(WORDS) for _ in range(r.randint(3, 12)))
        s += (line + ('.\n' if r.random() < 0.3 else ';\n')).encode()
    return bytes(s[:n])


def smmu_table(n):
    # A level-3 page table as the SMMU walks it: 64-bit little-endian descriptors, most
    # invalid (zero), a few page descriptors 0x0000_0000_4001_0003 + 0x1000*i at 8-byte steps.
    words = []
    for i in range(n // 8):
        if i % 8 == 0 or i % 61 == 3:
            words.append(0x0000_0000_4001_0003 + (i << 12) + (0x400 if i % 3 else 0x700))
        elif i % 97 == 50:
            words.append(0x0060_0000_8000_0f4b)  # a block descriptor with attributes
        else:
            words.append(0)
    return b''.join(w.to_bytes(8, 'little') for w in words)


def mixed16(n):
    # Text, a run of zeros, random bytes (a long literal run), the same text again
    # (a long match at a distance under 16 KiB), a table.
    t = text(3000, 7)
    parts = t + zeros(2500) + rand(1200, 8) + t + smmu_table(4096)
    return (parts + pattern(n))[:n]


def far64(n):
    # 64 KiB with matches further back than 16 KiB (LZO's M4): a random 2 KiB block A at 0,
    # repeated at 0x5000 (20 KiB back: M4 with H=0); a random 2 KiB block B at 0x800,
    # repeated at 0x9800 (36 KiB back: M4 with H=1, distance 16384 + 16384 + D); each copy is
    # longer than 9 + 255 bytes, so its length needs the zero-byte extension. Then short far
    # matches: 7-byte pieces of a random block C at 0x1800 (only there) between random bytes
    # from 0xb000 on, about 38 KiB back (M4 of length 3..9, no extension). A 1.5 KiB random
    # literal run, text and a table elsewhere.
    b = bytearray(n)
    a, bb, cc = rand(2048, 3), rand(2048, 5), rand(1024, 6)
    b[0:2048] = a
    b[0x800:0x1000] = bb
    b[0x1000:0x1000 + 2000] = text(2000, 11)
    b[0x1800:0x1c00] = cc
    b[0x5000:0x5800] = a
    b[0x6000:0x6000 + 1536] = rand(1536, 4)
    b[0x9800:0xa000] = bb
    noise = rand(4096, 9)
    at = 0xb000
    for i in range(48):
        b[at:at + 24] = noise[i * 24:i * 24 + 24]
        b[at + 24:at + 31] = cc[i * 19:i * 19 + 7]
        at += 31
    b[0xc000:0xc000 + 4096] = smmu_table(4096)
    return bytes(b)


def m1far(n):
    # Random bytes where, every 40 bytes from 2.5 KiB on, 3 bytes repeat from 2100..2900
    # bytes back after a run of literals: lzo1x_999 codes them as the 3-byte M1 form (after 4
    # or more literals, a distance of 2049..3072), which lzo1x_1 never writes.
    b = bytearray(rand(n, 12))
    r = random.Random(13)
    for at in range(2560, n - 8, 40):
        d = r.randint(2100, 2900)
        b[at:at + 3] = b[at - d:at - d + 3]
    return bytes(b)


def sparse64(n):
    b = bytearray(n)
    b[0x3000:0x4000] = smmu_table(4096)
    b[0xf000:0xf008] = (0x0000_0000_4001_0003).to_bytes(8, 'little')
    return bytes(b)


# (name, page, LZO levels, also Snappy)
PAGES = [
    ('zeros-4k', zeros(4096), (1, 9), True),
    ('pattern-4k', pattern(4096), (1, 9), True),
    ('random-4k', rand(4096, 1), (1,), True),
    ('text-4k', text(4096, 2), (1, 9), True),
    ('smmu-4k', smmu_table(4096), (1, 9), True),
    ('m1far-4k', m1far(4096), (9,), False),
    ('mixed-16k', mixed16(16384), (1, 9), True),
    ('far-64k', far64(65536), (1,), True),
    ('sparse-64k', sparse64(65536), (1,), True),
]

# ---------------------------------------------------------------- LZO1X tracer

def lzo_trace(c, expected):
    """Decode an LZO1X block, counting its instruction forms. Asserts the output is `expected`."""
    forms = {}
    out = bytearray()
    ip = 0

    def count(k):
        forms[k] = forms.get(k, 0) + 1

    def ext(base):
        # A length field of zero: each zero byte adds 255, the first non-zero byte ends it.
        nonlocal ip
        z = 0
        while c[ip] == 0:
            z += 1
            ip += 1
        v = base + 255 * z + c[ip]
        ip += 1
        if z:
            count('length-zero-bytes')
        return v

    def literals(k):
        nonlocal ip
        out.extend(c[ip:ip + k])
        ip += k

    def match(dist, length):
        assert 0 < dist <= len(out)
        for _ in range(length):
            out.append(out[-dist])

    state = 0
    if c[0] > 17:
        t = c[0] - 17
        ip = 1
        literals(t)
        state = t if t < 4 else 4
        count('first-byte-literals')
    while True:
        t = c[ip]
        ip += 1
        if t < 16:
            if state == 0:
                literals(ext(18) if t == 0 else t + 3)
                count('literal-run-long' if t == 0 else 'literal-run')
                state = 4
                continue
            h = c[ip]
            ip += 1
            s = t & 3
            if state != 4:
                match(1 + (t >> 2) + (h << 2), 2)
                count('M1-2byte')
            else:
                match(2049 + (t >> 2) + (h << 2), 3)
                count('M1-3byte')
        elif t >= 64:
            h = c[ip]
            ip += 1
            s = t & 3
            match(1 + ((t >> 2) & 7) + (h << 3), (t >> 5) + 1)
            count('M2')
        elif t >= 32:
            n = ext(33) if t & 31 == 0 else (t & 31) + 2
            v = c[ip] | c[ip + 1] << 8
            ip += 2
            s = v & 3
            match(1 + (v >> 2), n)
            count('M3-long' if t & 31 == 0 else 'M3')
        else:
            n = ext(9) if t & 7 == 0 else (t & 7) + 2
            v = c[ip] | c[ip + 1] << 8
            ip += 2
            s = v & 3
            dist = 16384 + ((t & 8) << 11) + (v >> 2)
            if dist == 16384:
                assert t == 0x11 and v == 0 and ip == len(c), 'end marker'
                break
            match(dist, n)
            count(('M4-long' if t & 7 == 0 else 'M4') + ('-far' if t & 8 else ''))
        literals(s)
        if s:
            count('trailing-literals')
        state = s
    assert bytes(out) == expected, 'the tracer disagrees with the original'
    return forms


# ---------------------------------------------------------------- Snappy tracer

def snappy_trace(c, expected):
    """Decode a raw Snappy block, counting its element forms. Asserts the output is `expected`."""
    forms = {}
    out = bytearray()

    def count(k):
        forms[k] = forms.get(k, 0) + 1

    n = 0
    ip = 0
    shift = 0
    while True:
        b = c[ip]
        ip += 1
        n |= (b & 0x7f) << shift
        shift += 7
        if b < 0x80:
            break
    count('varint-%d-bytes' % ip)
    assert n == len(expected)
    while ip < len(c):
        tag = c[ip]
        ip += 1
        kind = tag & 3
        if kind == 0:
            k = (tag >> 2) + 1
            if k > 60:
                nb = k - 60
                k = int.from_bytes(c[ip:ip + nb], 'little') + 1
                ip += nb
                count('literal-%d-byte-length' % nb)
            else:
                count('literal-short')
            out.extend(c[ip:ip + k])
            ip += k
            continue
        if kind == 1:
            k = 4 + ((tag >> 2) & 7)
            off = (tag >> 5) << 8 | c[ip]
            ip += 1
            count('copy-1-byte-offset')
        else:
            k = (tag >> 2) + 1
            nb = 2 if kind == 2 else 4
            off = int.from_bytes(c[ip:ip + nb], 'little')
            ip += nb
            count('copy-%d-byte-offset' % nb + ('-far' if off > 0x4000 else ''))
        assert 0 < off <= len(out)
        if off < k:
            count('copy-overlapping')
        for _ in range(k):
            out.append(out[-off])
    assert bytes(out) == expected, 'the tracer disagrees with the original'
    return forms


# ---------------------------------------------------------------- hand-made Snappy blocks

def varint(n):
    b = bytearray()
    while n >= 0x80:
        b.append(n & 0x7f | 0x80)
        n >>= 7
    b.append(n)
    return bytes(b)


def handmade_snappy():
    """Forms the Snappy compressor never writes, each block checked by snappy.decompress."""
    blocks = []
    # A literal of 40 bytes with its length in 3 bytes (tag 62 << 2 = 0xf8, length-1 = 39 =
    # 0x27 0x00 0x00), then a copy with a 4-byte offset (tag 0b11, length-1 = 23 in the
    # upper six bits: 23 << 2 | 3 = 0x5f), offset 40 = 0x28 0 0 0: it repeats the first 24
    # bytes. 40 + 24 = 64 bytes.
    lit = bytes(range(0x41, 0x41 + 40))
    c = varint(64) + bytes([62 << 2, 39, 0, 0]) + lit + bytes([23 << 2 | 3, 40, 0, 0, 0])
    blocks.append(('handmade-4byte-offset', c, lit + lit[:24]))
    # A literal of 16 bytes with its length in 4 bytes (tag 63 << 2 = 0xfc, 15 0 0 0), then a
    # 2-byte-offset copy of 48 bytes at offset 16 (overlapping: 47 << 2 | 2 = 0xbe, 16 0).
    lit = b'0123456789abcdef'
    c = varint(64) + bytes([63 << 2, 15, 0, 0, 0]) + lit + bytes([47 << 2 | 2, 16, 0])
    blocks.append(('handmade-4byte-length', c, lit * 4))
    for _, c, data in blocks:
        assert snappy.decompress(c) == data
    return blocks


# ---------------------------------------------------------------- output

def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    manifest = []

    def add(name, codec, compressor, c, data, forms):
        file = f'{name}.{codec}.bin'
        with open(os.path.join(OUT, file), 'wb') as fh:
            fh.write(c)
        manifest.append({
            'file': file, 'codec': codec, 'compressor': compressor, 'length': len(data),
            'sha256': hashlib.sha256(data).hexdigest(), 'forms': dict(sorted(forms.items())),
        })

    for name, data, levels, with_snappy in PAGES:
        for level in levels:
            c = lzo.compress(data, level, False)
            assert lzo.decompress(c, False, len(data)) == data
            add(name if level == 1 else name + '-999', 'lzo', f'python-lzo {lzo.__version__.decode()} level {level} (liblzo2 {lzo.LZO_VERSION_STRING.decode()})',
                c, data, lzo_trace(c, data))
        if not with_snappy:
            continue
        c = snappy.compress(data)
        assert snappy.decompress(c) == data
        add(name, 'snappy', 'python-snappy snappy.compress', c, data, snappy_trace(c, data))
    for name, c, data in handmade_snappy():
        add(name, 'snappy', 'hand-made, checked with snappy.decompress', c, data, snappy_trace(c, data))

    with open(os.path.join(OUT, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh, indent=1)
        fh.write('\n')
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'{len(manifest)} vectors, {total} bytes in {OUT}')


if __name__ == '__main__':
    main()
