/**
 * LZO1X decompression against blocks from liblzo2 (see make-vectors.py), and against
 * broken blocks: each must be a CodecError that says what is wrong and where.
 *
 * Which instruction forms each vector exercises (counted by the generator's tracer, which
 * reproduces the page byte for byte; the first few decoded by hand below):
 *   zeros-4k, pattern-4k      literal run (0000LLLL), M3 with a zero-byte length extension
 *   zeros-4k-999, pattern-4k-999  first byte 18..20 (1..3 literals) and 21+ (a run), M3 long
 *   random-4k                 one long literal run with 15 zero bytes in its length
 *   text-4k, smmu-4k          M2, M3, literal runs, 1..3 literals after matches
 *   text-4k-999, mixed-16k-999  also M1 of 2 bytes (0000DDSS after 1..3 literals)
 *   m1far-4k-999              M1 of 3 bytes (0000DDSS after a run, 2049..3072 back)
 *   mixed-16k, sparse-64k     long M3 matches (> 255 + 33 bytes), long literal runs
 *   far-64k                   M4 (16 KiB..48 KiB back) with H=0 and H=1, short and with the
 *                             length extension; the other forms
 * lzo1x_1 (level 1, what makedumpfile uses) never writes M1; lzo1x_999 (level 9) does, in
 * the same format, so the level-9 vectors cover it.
 */
import { strict as assert } from 'node:assert';
import { lzo1xDecompress } from '../../../src/dump/codecs/lzo';
import { bytes, codecError, itDecodesEachVector, itRejectsCutsAndChanges, vector, vectors } from './vectors';

const Z = (): Uint8Array => vector('zeros-4k.lzo.bin').bytes;
const withByte = (src: Uint8Array, at: number, value: number): Uint8Array => {
  const b = src.slice();
  b[at] = value;
  return b;
};

describe('dump/codecs/lzo', () => {
  describe('blocks from liblzo2', () => {
    itDecodesEachVector('lzo', lzo1xDecompress);

    it('zeros-4k, decoded by hand: a 5-byte literal run, one long M3, a 15-byte run, the end marker', () => {
      // 0x00: 0x02, state 0: a literal run of 2 + 3 = 5 bytes (0x01..0x05, all 0x00).
      // 0x06: 0x20 = 001 00000, M3 with L = 0: the length goes on; 15 zero bytes (0x07..0x15),
      //       then 0xda: 33 + 15 * 255 + 218 = 4076. LE16 at 0x17 = 0x0010: D = 4, distance
      //       D + 1 = 5, S = 0. Output 5 + 4076 = 4081.
      // 0x19: 0x0c, state 0: a literal run of 12 + 3 = 15 bytes (0x1a..0x28), 4096 in all.
      // 0x29: 0x11 0x00 0x00, the end marker; 0x2c bytes in the block.
      const z = Z();
      assert.deepEqual([z.length, z[0], z[6], z[0x16], z[0x17], z[0x19], z[0x29]], [0x2c, 0x02, 0x20, 0xda, 0x10, 0x0c, 0x11]);
      assert.deepEqual(lzo1xDecompress(z, 4096), new Uint8Array(4096));
    });

    it('pattern-4k, decoded by hand: the period-7 pattern from a 7-byte run and a match 7 back', () => {
      // 0x04: a run of 4 + 3 = 7 ('SMMUv3-'); 0x20 + 15 zero bytes + 0xda: M3 of 4076 bytes,
      // LE16 0x0018: D = 6, distance 7; 0x0a: a run of 13; 7 + 4076 + 13 = 4096.
      const src = vector('pattern-4k.lzo.bin').bytes;
      const expected = new Uint8Array(4096).map((_, i) => 'SMMUv3-'.charCodeAt(i % 7));
      assert.equal(String.fromCharCode(...src.subarray(1, 8)), 'SMMUv3-');
      assert.deepEqual(lzo1xDecompress(src, 4096), expected);
    });

    it('zeros-4k-999, decoded by hand: first byte 0x12 is one literal, then two M3 matches 1 back', () => {
      // 0x12: 18 - 17 = 1 literal (0x00), state 1. 0x20 + 7 zero bytes + 0xe6:
      // 33 + 7 * 255 + 230 = 2048, LE16 0: distance 1. 0x20 + 7 zeros + 0xe5: 2047, distance 1.
      // 1 + 2048 + 2047 = 4096; then 0x11 0x00 0x00 at 0x18.
      const src = vector('zeros-4k-999.lzo.bin').bytes;
      assert.deepEqual([src.length, src[0], src[0x0a], src[0x15], src[0x18]], [0x1b, 0x12, 0xe6, 0xe5, 0x11]);
      assert.deepEqual(lzo1xDecompress(src, 4096), new Uint8Array(4096));
    });

    it('random-4k, decoded by hand: one literal run of 18 + 15 * 255 + 253 = 4096 bytes', () => {
      const src = vector('random-4k.lzo.bin').bytes;
      assert.deepEqual([...src.subarray(0, 17)], [...new Array(16).fill(0), 0xfd]);
      assert.deepEqual(lzo1xDecompress(src, 4096), src.subarray(17, 17 + 4096));
    });

    it('the vectors cover every instruction form', () => {
      const seen = new Set(vectors('lzo').flatMap((v) => Object.keys(v.forms)));
      for (const form of ['first-byte-literals', 'literal-run', 'literal-run-long', 'length-zero-bytes', 'trailing-literals',
        'M1-2byte', 'M1-3byte', 'M2', 'M3', 'M3-long', 'M4-far', 'M4-long', 'M4-long-far']) {
        assert.ok(seen.has(form), `no vector has ${form}`);
      }
      assert.deepEqual(new Set(vectors('lzo').map((v) => v.length)), new Set([4096, 16384, 65536]));
    });
  });

  describe('small blocks made by hand (liblzo2 agrees on which decode)', () => {
    it('an M2 match 3 back and an M1 match 2 back', () => {
      // 0x14: 3 literals 'abc', state 3. 0x48 = 010 010 00: M2, length 3, D = 2, S = 0; H = 0:
      // distance 2 + 1 = 3. Then the end marker.
      assert.deepEqual(lzo1xDecompress(bytes(0x14, 'abc', 0x48, 0x00, 0x11, 0, 0), 6), bytes('abcabc'));
      // 0x04 after 3 literals (state 3) is M1: 2 bytes, D = 1, S = 0, H = 0: distance 2.
      assert.deepEqual(lzo1xDecompress(bytes(0x14, 'abc', 0x04, 0x00, 0x11, 0, 0), 5), bytes('abcbc'));
    });

    it('a match reaching before the start of the output', () => {
      // As above with D = 3: distance 4, but only 3 bytes are out.
      assert.throws(() => lzo1xDecompress(bytes(0x14, 'abc', 0x4c, 0x00, 0x11, 0, 0), 7),
        codecError(/^LZO: a match at input offset 0x4 reaches back 0x4 bytes, before the start of the output \(0x3 bytes so far\)$/));
      // M1 after 1..3 literals: 0x0c is D = 3, distance 4.
      assert.throws(() => lzo1xDecompress(bytes(0x14, 'abc', 0x0c, 0x00, 0x11, 0, 0), 7), codecError(/input offset 0x4 reaches back 0x4 bytes/));
      // M1 after a run of 4 (first byte 0x15): 3 bytes from 0 + 0 + 2049 = 0x801 back.
      assert.throws(() => lzo1xDecompress(bytes(0x15, 'abcd', 0x00, 0x00, 0x11, 0, 0), 7), codecError(/input offset 0x5 reaches back 0x801 bytes.*\(0x4 bytes so far\)/));
      // A match as the very first instruction (a first byte of 16 or 17 is M4; above, literals):
      // 0x11 is M4 of length 3, LE16 0x0004: D = 1, distance 16384 + 1 = 0x4001, nothing out yet.
      assert.throws(() => lzo1xDecompress(bytes(0x11, 0x04, 0x00, 0x11, 0, 0), 4096), codecError(/input offset 0x0 reaches back 0x4001 bytes, before the start of the output \(0x0 bytes so far\)/));
    });

    it('too short to be a block; the kernel\'s LZO-RLE', () => {
      assert.throws(() => lzo1xDecompress(bytes(), 4096), codecError(/^LZO: the input is 0 bytes, shorter than the end marker/));
      assert.throws(() => lzo1xDecompress(bytes(0x11, 0), 4096), codecError(/the input is 2 bytes/));
      assert.throws(() => lzo1xDecompress(bytes(0x11, 0x01, 0x14, 'abc', 0x11, 0, 0), 3), codecError(/starts 0x11 0x01: the Linux kernel's LZO-RLE format \(bitstream version 1\), not supported/));
    });

    it('the empty block, and the expected length checked', () => {
      assert.deepEqual(lzo1xDecompress(bytes(0x11, 0, 0), 0), new Uint8Array(0));
      assert.throws(() => lzo1xDecompress(bytes(0x11, 0, 0), 4096), codecError(/the end marker at input offset 0x0 comes after 0x0 bytes of output; expected 0x1000/));
      for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 31]) {
        assert.throws(() => lzo1xDecompress(Z(), bad), codecError(/^LZO: the expected output length .* is not a byte count/));
      }
    });
  });

  describe('broken blocks (zeros-4k, whose bytes are worked out above)', () => {
    it('a page size that does not match: longer, shorter', () => {
      // The 15-byte run at 0x19 would end at 4081 + 15 = 4096 = 0x1000.
      assert.throws(() => lzo1xDecompress(Z(), 4095),
        codecError(/^LZO: the literal run of 0xf bytes at input offset 0x19 would take the output to 0x1000 bytes, past the expected 0xfff$/));
      assert.throws(() => lzo1xDecompress(Z(), 8192), codecError(/^LZO: the end marker at input offset 0x29 comes after 0x1000 bytes of output; expected 0x2000$/));
      // The M3 match alone overflows a 4 KiB page when it is 1 KiB.
      assert.throws(() => lzo1xDecompress(Z(), 1024), codecError(/the match at input offset 0x6 would take the output to 0xff1 bytes, past the expected 0x400/));
    });

    it('trailing bytes after the end marker', () => {
      const z = Z();
      const longer = new Uint8Array(z.length + 2);
      longer.set(z);
      assert.throws(() => lzo1xDecompress(longer, 4096), codecError(/^LZO: 0x2 bytes of trailing data after the end marker at input offset 0x29$/));
    });

    it('truncated inside each part of an instruction', () => {
      const z = Z();
      const cut = (n: number): Uint8Array => z.subarray(0, n);
      assert.throws(() => lzo1xDecompress(cut(0x29), 4096), codecError(/^LZO: the input ends at offset 0x29 without the end marker 0x11 0x00 0x00 \(0x1000 bytes of output so far\)$/));
      assert.throws(() => lzo1xDecompress(cut(0x2b), 4096), codecError(/^LZO: the input ends at offset 0x2b inside the M4 match at input offset 0x29 \(its distance\)$/));
      assert.throws(() => lzo1xDecompress(cut(0x10), 4096), codecError(/the input ends at offset 0x10 inside the M3 match at input offset 0x6 \(its length\)/));
      assert.throws(() => lzo1xDecompress(cut(0x18), 4096), codecError(/the input ends at offset 0x18 inside the M3 match at input offset 0x6 \(its distance\)/));
      // The run at 0x19 needs 15 bytes from 0x1a; 0x20 - 0x1a = 6 are there.
      assert.throws(() => lzo1xDecompress(cut(0x20), 4096), codecError(/^LZO: the literal run of 0xf bytes at input offset 0x19 runs past the end of the input \(0x6 bytes left\)$/));
      // random-4k's single run of 0x1000 bytes starts at 0x11: cut at 0x800, 0x7ef are left.
      assert.throws(() => lzo1xDecompress(vector('random-4k.lzo.bin').bytes.subarray(0, 0x800), 4096),
        codecError(/the literal run of 0x1000 bytes at input offset 0x0 runs past the end of the input \(0x7ef bytes left\)/));
      // Trailing literals: 3 after the M2 match at 0x4 (S = 3), and only 1 there.
      assert.throws(() => lzo1xDecompress(bytes(0x14, 'abc', 0x4b, 0x00, 'x'), 9), codecError(/^LZO: the literal run of 0x3 bytes after the match at input offset 0x4 runs past the end of the input \(0x1 bytes left\)$/));
    });

    it('single bytes changed', () => {
      // The M3 distance 0x0010 -> 0x00ff: D = 63, distance 64 with 5 bytes out.
      assert.throws(() => lzo1xDecompress(withByte(Z(), 0x17, 0xff), 4096), codecError(/a match at input offset 0x6 reaches back 0x40 bytes, before the start of the output \(0x5 bytes so far\)/));
      // The M3 length 4076 -> 4077: the final run then ends at 0x1001.
      assert.throws(() => lzo1xDecompress(withByte(Z(), 0x16, 0xdb), 4096), codecError(/run of 0xf bytes at input offset 0x19 would take the output to 0x1001 bytes, past the expected 0x1000/));
      // The end marker's LE16 0x0000 -> 0x0100: D = 64, a match 16384 + 64 = 0x4040 back.
      assert.throws(() => lzo1xDecompress(withByte(Z(), 0x2b, 0x01), 4096), codecError(/a match at input offset 0x29 reaches back 0x4040 bytes, before the start of the output \(0x1000 bytes so far\)/));
      // LE16 0x0001: D = 0 (so distance 16384, the end) with S = 1: not the plain marker.
      assert.throws(() => lzo1xDecompress(withByte(Z(), 0x2a, 0x01), 4096), codecError(/^LZO: the end-of-stream instruction at input offset 0x29 is not the plain end marker 0x11 0x00 0x00$/));
    });

    itRejectsCutsAndChanges('lzo', 'LZO', lzo1xDecompress, /^LZO: (the input ends|the input is \d+ bytes, shorter|.* runs past the end of the input)/);
  });
});
