import { strict as assert } from 'node:assert';
import { DumpMemory } from '../../src/dump/dumpMemory';
import { parseRawSpec, rawSegment } from '../../src/dump/raw';
import { ByteSource, bytesSource, DumpError } from '../../src/dump/source';

const fill = (n: number, byte: number): Uint8Array => new Uint8Array(n).fill(byte);
const isDumpError = (re: RegExp) => (e: unknown): boolean => e instanceof DumpError && re.test(e.message);

/** A source that counts the bytes asked for. */
function counting(name: string, bytes: Uint8Array): ByteSource & { reads: number } {
  const s = bytesSource(name, bytes);
  const c = { name, size: s.size, reads: 0, read: (o: number, n: number) => { c.reads++; return s.read(o, n); } };
  return c;
}

describe('dump/raw', () => {
  it('parses FILE@BASE with the last @, base in hex with or without 0x and _', () => {
    assert.deepEqual(parseRawSpec('ram.bin@0x4000_0000'), { path: 'ram.bin', base: 0x4000_0000 });
    assert.deepEqual(parseRawSpec('my@dir/ram.bin@80000000'), { path: 'my@dir/ram.bin', base: 0x8000_0000 });
  });

  it('explains a spec it cannot read', () => {
    assert.throws(() => parseRawSpec('ram.bin'), isDumpError(/raw dump 'ram.bin': expected FILE@BASE with the physical address of the file's first byte, e\.g\. ram\.bin@0x40000000/));
    assert.throws(() => parseRawSpec('ram.bin@'), isDumpError(/expected FILE@BASE/));
    assert.throws(() => parseRawSpec('ram.bin@0x4g'), isDumpError(/the base of raw dump 'ram.bin@0x4g' '0x4g' is not a hexadecimal number/));
    assert.throws(() => parseRawSpec('ram.bin@0x10_0000_0000_0000'), isDumpError(/base 0x10000000000000 is beyond the 52-bit physical address space/));
    assert.throws(() => rawSegment(bytesSource('e.bin', new Uint8Array(0)), 0x1000), isDumpError(/raw dump e\.bin is empty/));
  });

  it('joins several files at several bases, reading across their boundary', () => {
    const m = new DumpMemory([rawSegment(bytesSource('b', fill(0x1000, 2)), 0x2000), rawSegment(bytesSource('a', fill(0x1000, 1)), 0x1000)]);
    assert.deepEqual([...m.readBytes(0x1ffe, 4)], [1, 1, 2, 2]);
    assert.deepEqual(m.describe(), ['a@0x1000: physical 0x1000..0x2000', 'b@0x2000: physical 0x2000..0x3000']);
    assert.equal(m.ranges(), '0x1000..0x3000');
  });

  it('rejects files that overlap, naming both and where', () => {
    assert.throws(() => new DumpMemory([rawSegment(bytesSource('a', fill(0x1000, 1)), 0x1000), rawSegment(bytesSource('b', fill(0x1000, 2)), 0x1800)]),
      isDumpError(/a@0x1000 \(physical 0x1000\.\.0x2000\) and b@0x1800 \(0x1800\.\.0x2800\) overlap at 0x1800\.\.0x2000: .*give each file a base past the end of the other/));
  });

  it('reads a page once, only where something looks, at any base alignment', () => {
    // 3 pages of data from 0x1800: bytes i & 0xff at 0x1800 + i.
    const src = counting('r', new Uint8Array(0x3000).map((_, i) => i & 0xff));
    const m = new DumpMemory([rawSegment(src, 0x1800)]);
    assert.equal(m.pagesRead, 0);
    // Page 1 (0x1000..0x2000) holds file bytes 0..0x800 at 0x1800..0x2000.
    assert.deepEqual([...m.readBytes(0x1ffe, 4)], [0xfe, 0xff, 0x00, 0x01]);
    assert.equal(m.pagesRead, 2);
    m.readBytes(0x1900, 8);
    m.readBytes(0x2100, 8);
    assert.equal(m.pagesRead, 2);
    assert.equal(src.reads, 2);
    // Outside the file: nothing read, zeros.
    assert.deepEqual([...m.readBytes(0x9000, 2)], [0, 0]);
    assert.equal(m.pagesRead, 2);
    assert.equal(m.page(0x9), undefined);
  });

  it('reports a file that became shorter than it was when opened', () => {
    const shrunk: ByteSource = { name: 'gone.bin', size: 0x2000, read: (o, n) => new Uint8Array(Math.max(0, Math.min(n, 0x1000 - o))) };
    const m = new DumpMemory([rawSegment(shrunk, 0x4000)]);
    assert.equal(m.readBytes(0x4000, 1)[0], 0);
    assert.throws(() => m.readBytes(0x5000, 1), isDumpError(/gone\.bin ended at offset 0x1000 while reading physical 0x5000 of gone\.bin@0x4000: the file is shorter than its headers say/));
  });
});
