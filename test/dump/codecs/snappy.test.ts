/**
 * Snappy decompression against raw blocks from libsnappy (see make-vectors.py), and against
 * broken blocks: each must be a CodecError that says what is wrong and where.
 *
 * Which element forms each vector exercises (counted by the generator's tracer, which
 * reproduces the page byte for byte; the first few decoded by hand below):
 *   zeros-4k, pattern-4k   a 2-byte varint, a short literal, overlapping 2-byte-offset copies
 *   random-4k              one literal whose length - 1 is in 2 bytes (tag 61)
 *   text-4k, smmu-4k       copies with 1- and 2-byte offsets, short literals, a literal with
 *                          a 1-byte length (tag 60)
 *   mixed-16k, far-64k, sparse-64k  3-byte varints; 2-byte offsets above 16 KiB
 *   handmade-4byte-offset  a copy with a 4-byte offset and a literal with a 3-byte length
 *   handmade-4byte-length  a literal with a 4-byte length
 * The compressor works in 64 KiB blocks, so it never writes 4-byte offsets nor literal
 * lengths of more than 2 bytes: the two hand-made blocks cover those, and the generator
 * checks them with libsnappy's decompressor.
 */
import { strict as assert } from 'node:assert';
import { snappyDecompress } from '../../../src/dump/codecs/snappy';
import { bytes, codecError, itDecodesEachVector, itRejectsCutsAndChanges, vector, vectors } from './vectors';

describe('dump/codecs/snappy', () => {
  describe('blocks from libsnappy', () => {
    itDecodesEachVector('snappy', snappyDecompress);

    it('zeros-4k, decoded by hand: one zero, then copies of 64 bytes from 1 back', () => {
      // 0x80 0x20: 0x00 + (0x20 << 7) = 4096. 0x00: a literal of 1 byte (0x00). Then 63 times
      // 0xfe 0x01 0x00: tag 0b10, length (0xfe >> 2) + 1 = 64, offset 1; 1 + 63 * 64 = 4033.
      // Last 0xfa 0x01 0x00: length 62 + 1 = 63; 4033 + 63 = 4096. 2 + 2 + 64 * 3 = 196 bytes.
      const src = vector('zeros-4k.snappy.bin').bytes;
      assert.deepEqual([src.length, src[0], src[1], src[2], src[3], src[4], src[5], src[6], src[193]], [196, 0x80, 0x20, 0x00, 0x00, 0xfe, 0x01, 0x00, 0xfa]);
      assert.deepEqual(snappyDecompress(src, 4096), new Uint8Array(4096));
    });

    it('random-4k, decoded by hand: one literal of 0x0fff + 1 bytes', () => {
      // 0x80 0x20 = 4096; tag 0xf4 = 61 << 2: the length - 1 in the next 2 bytes, 0xff 0x0f.
      const src = vector('random-4k.snappy.bin').bytes;
      assert.deepEqual([...src.subarray(0, 5)], [0x80, 0x20, 0xf4, 0xff, 0x0f]);
      assert.deepEqual(snappyDecompress(src, 4096), src.subarray(5));
    });

    it('text-4k, decoded by hand: a literal, a 1-byte-offset copy of it, a literal with a 1-byte length', () => {
      // 0x10 = 4 << 2: a literal of 5 ('asid '). 0x05 0x05: tag 0b01, length ((0x05 >> 2) & 7)
      // + 4 = 5, offset (0x05 >> 5) << 8 | 0x05 = 5: 'asid ' again. 0xf0 0x46 = 60 << 2, then
      // the length - 1 in 1 byte: 0x46 + 1 = 71 bytes, from input offset 2 + 1 + 5 + 2 + 2 = 12.
      const src = vector('text-4k.snappy.bin').bytes;
      const out = snappyDecompress(src, 4096);
      assert.equal(String.fromCharCode(...out.subarray(0, 10)), 'asid asid ');
      assert.deepEqual(out.subarray(10, 10 + 71), src.subarray(12, 12 + 71));
    });

    it('the hand-made blocks: a 4-byte offset and 3- and 4-byte literal lengths', () => {
      // 0x40 = 64; 0xf8 = 62 << 2, length - 1 = 0x27 0 0 = 39: 40 literals 'A'..'h'; 0x5f = 23 << 2 | 3:
      // a copy of 24 with the 4-byte offset 0x28 0 0 0 = 40: the first 24 again.
      const letters = bytes(...[...new Array(40).keys()].map((i) => 0x41 + i));
      assert.deepEqual(snappyDecompress(vector('handmade-4byte-offset.snappy.bin').bytes, 64), new Uint8Array([...letters, ...letters.subarray(0, 24)]));
      // 0xfc = 63 << 2, length - 1 = 15 0 0 0: 16 literals; 0xbe = 47 << 2 | 2: 48 bytes from 16 back.
      assert.deepEqual(snappyDecompress(vector('handmade-4byte-length.snappy.bin').bytes, 64), bytes('0123456789abcdef'.repeat(4)));
    });

    it('the vectors cover every element form', () => {
      const seen = new Set(vectors('snappy').flatMap((v) => Object.keys(v.forms)));
      for (const form of ['varint-1-bytes', 'varint-2-bytes', 'varint-3-bytes', 'literal-short', 'literal-1-byte-length', 'literal-2-byte-length',
        'literal-3-byte-length', 'literal-4-byte-length', 'copy-1-byte-offset', 'copy-2-byte-offset', 'copy-2-byte-offset-far', 'copy-4-byte-offset', 'copy-overlapping']) {
        assert.ok(seen.has(form), `no vector has ${form}`);
      }
    });
  });

  describe('small blocks made by hand (libsnappy agrees on which decode)', () => {
    // 0x08: 8 bytes; 0x0c = 3 << 2: a literal of 4, 'abcd'; 0x01 = tag 0b01, length 4, then the
    // offset's low byte.
    const copyBack = (offset: number): Uint8Array => bytes(0x08, 0x0c, 'abcd', 0x01, offset);

    it('a copy 4 back', () => {
      assert.deepEqual(snappyDecompress(copyBack(4), 8), bytes('abcdabcd'));
    });

    it('a zero offset, an offset before the start of the output', () => {
      assert.throws(() => snappyDecompress(copyBack(0), 8), codecError(/^Snappy: the copy at input offset 0x6 has offset 0, which the format forbids$/));
      assert.throws(() => snappyDecompress(copyBack(5), 8), codecError(/^Snappy: the copy at input offset 0x6 reaches back 0x5 bytes, before the start of the output \(0x4 bytes so far\)$/));
      // A 4-byte offset of 2^32 - 1.
      assert.throws(() => snappyDecompress(bytes(0x08, 0x0c, 'abcd', 0x0f, 0xff, 0xff, 0xff, 0xff), 8), codecError(/reaches back 0xffffffff bytes/));
    });

    it('the announced length against the page, and the output against both', () => {
      assert.throws(() => snappyDecompress(copyBack(4), 4096), codecError(/^Snappy: the block says it holds 0x8 bytes; expected 0x1000$/));
      // The block says 6; the copy would make 8.
      const six = copyBack(4);
      six[0] = 6;
      assert.throws(() => snappyDecompress(six, 6), codecError(/^Snappy: the copy at input offset 0x6 would take the output to 0x8 bytes, past the expected 0x6$/));
      assert.throws(() => snappyDecompress(bytes(0x08, 0x0c, 'abcd'), 8), codecError(/^Snappy: the input ends at offset 0x6 after 0x4 bytes of output; the block holds 0x8$/));
      assert.deepEqual(snappyDecompress(bytes(0x00), 0), new Uint8Array(0));
      for (const bad of [-1, 0.5, NaN]) assert.throws(() => snappyDecompress(bytes(0x00), bad), codecError(/^Snappy: the expected output length .* is not a byte count/));
    });

    it('trailing bytes after the full output', () => {
      assert.throws(() => snappyDecompress(bytes(...copyBack(4), 0x00, 0x41), 8), codecError(/^Snappy: 0x2 bytes of trailing data at input offset 0x8, after the full 0x8 bytes of output$/));
    });

    it('the length varint: missing, cut, too long, too large', () => {
      assert.throws(() => snappyDecompress(bytes(), 4096), codecError(/^Snappy: the input ends at offset 0x0 inside the uncompressed length at the start$/));
      assert.throws(() => snappyDecompress(bytes(0x80), 4096), codecError(/the input ends at offset 0x1 inside the uncompressed length/));
      assert.throws(() => snappyDecompress(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 0), codecError(/the uncompressed length at the start runs past 5 bytes/));
      // Five bytes of 7 bits each, all ones: 2^35 - 1 = 0x7ffffffff.
      assert.throws(() => snappyDecompress(bytes(0xff, 0xff, 0xff, 0xff, 0x7f), 0), codecError(/the uncompressed length at the start, 0x7ffffffff, is above the format's limit 0xffffffff/));
    });

    it('truncated inside an element', () => {
      // Tag 0xf0 = 60 << 2 wants a 1-byte length after it.
      assert.throws(() => snappyDecompress(bytes(0x08, 0xf0), 8), codecError(/^Snappy: the input ends at offset 0x2 inside the literal at input offset 0x1 \(its length\)$/));
      // Tag 0x1c = 7 << 2: a literal of 8 with 2 bytes there.
      assert.throws(() => snappyDecompress(bytes(0x08, 0x1c, 'ab'), 8), codecError(/^Snappy: the literal of 0x8 bytes at input offset 0x1 runs past the end of the input \(0x2 bytes left\)$/));
      // Tag 0x02 wants a 2-byte offset, 0x03 a 4-byte one, 0x01 a 1-byte one.
      assert.throws(() => snappyDecompress(bytes(0x08, 0x0c, 'abcd', 0x02, 0x04), 8), codecError(/^Snappy: the input ends at offset 0x8 inside the copy at input offset 0x6 \(its offset\)$/));
      assert.throws(() => snappyDecompress(bytes(0x08, 0x0c, 'abcd', 0x03, 4, 0, 0), 8), codecError(/inside the copy at input offset 0x6 \(its offset\)/));
      assert.throws(() => snappyDecompress(bytes(0x08, 0x0c, 'abcd', 0x01), 8), codecError(/the input ends at offset 0x7 inside the copy at input offset 0x6/));
    });
  });

  describe('broken vectors', () => {
    it('zeros-4k with single bytes changed', () => {
      const changed = (at: number, value: number): Uint8Array => {
        const b = vector('zeros-4k.snappy.bin').bytes.slice();
        b[at] = value;
        return b;
      };
      // The first copy's offset 1 -> 2, with 1 byte out.
      assert.throws(() => snappyDecompress(changed(5, 2), 4096), codecError(/the copy at input offset 0x4 reaches back 0x2 bytes, before the start of the output \(0x1 bytes so far\)/));
      // The last copy's 63 -> 64 (0xfa -> 0xfe): 4033 + 64 = 4097.
      assert.throws(() => snappyDecompress(changed(193, 0xfe), 4096), codecError(/the copy at input offset 0xc1 would take the output to 0x1001 bytes, past the expected 0x1000/));
      // The length 4096 -> 4097 (0x80 -> 0x81): the block then says 0x1001.
      assert.throws(() => snappyDecompress(changed(0, 0x81), 4096), codecError(/the block says it holds 0x1001 bytes; expected 0x1000/));
      // The offset's high byte 0 -> 1: 0x101 back.
      assert.throws(() => snappyDecompress(changed(6, 1), 4096), codecError(/reaches back 0x101 bytes/));
    });

    itRejectsCutsAndChanges('snappy', 'Snappy', snappyDecompress, /^Snappy: (the input ends|.* runs past the end of the input)/);
  });
});
