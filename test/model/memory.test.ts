import { strict as assert } from 'node:assert';
import { PhysicalMemory, PAGE_SIZE, PageSource, bigintToBytes, bytesToBigint } from '../../src/model/memory';

describe('model/memory', () => {
  it('reads zero where never written and allocates pages only on write', () => {
    const m = new PhysicalMemory();
    assert.equal(m.readU64(0xdead_b000), 0n);
    assert.equal(m.readU32(0x1_0000_0000_0000), 0);
    assert.equal(m.pageCount, 0);
    m.writeU64(0x4000_0008, 0x1122334455667788n);
    assert.equal(m.pageCount, 1);
    assert.deepEqual(m.touchedPages(), [0x40000]);
    // Little-endian: the low byte at the lowest address.
    assert.equal(m.readU8(0x4000_0008), 0x88);
    assert.equal(m.readU8(0x4000_000f), 0x11);
    assert.equal(m.readU32(0x4000_000c), 0x11223344);
  });

  it('handles 52-bit addresses exactly', () => {
    const m = new PhysicalMemory();
    const top = 2 ** 52 - 8;
    m.writeU64(top, 0xfedcba9876543210n);
    assert.equal(m.readU64(top), 0xfedcba9876543210n);
    assert.equal(m.readU64(top - 8), 0n);
  });

  it('reads and writes ranges across pages', () => {
    const m = new PhysicalMemory();
    const data = new Uint8Array(PAGE_SIZE + 16).map((_, i) => i & 0xff);
    m.write(PAGE_SIZE - 8, data);
    assert.deepEqual(m.read(PAGE_SIZE - 8, data.length), data);
    assert.equal(m.pageCount, 3);
    // A 32-bit read that straddles a page boundary.
    m.writeU32(2 * PAGE_SIZE - 2, 0xa1b2c3d4);
    assert.equal(m.readU32(2 * PAGE_SIZE - 2), 0xa1b2c3d4);
  });

  it('fills, and zero-fill leaves untouched pages absent', () => {
    const m = new PhysicalMemory();
    m.fill(0x10000, 3 * PAGE_SIZE, 0);
    assert.equal(m.pageCount, 0);
    m.fill(0x10000 + 100, 8, 0x5a);
    assert.equal(m.readU64(0x10000 + 100), 0x5a5a5a5a5a5a5a5an);
  });

  it('snapshots share pages copy-on-write in both directions', () => {
    const m = new PhysicalMemory();
    m.writeU64(0x1000, 1n);
    const s = m.snapshot();
    m.writeU64(0x1000, 2n);
    s.writeU64(0x2000, 3n);
    assert.equal(s.readU64(0x1000), 1n);
    assert.equal(m.readU64(0x1000), 2n);
    assert.equal(m.readU64(0x2000), 0n);
    const s2 = s.snapshot();
    s.writeU64(0x2000, 4n);
    assert.equal(s2.readU64(0x2000), 3n);
  });

  it('converts between bytes and values little-endian', () => {
    assert.deepEqual([...bigintToBytes(0x0102n, 4)], [2, 1, 0, 0]);
    assert.equal(bytesToBigint(Uint8Array.from([0xef, 0xbe, 0xad, 0xde])), 0xdeadbeefn);
    assert.equal(bytesToBigint(bigintToBytes(-1n, 8)), 0xffffffffffffffffn);
  });

  describe('a base layer (a dump) under the written pages', () => {
    /** Page 0x40 holds bytes i & 0xff; every other page reads as zero. Counts what is asked. */
    const base = (): PageSource & { asked: number[] } => {
      const asked: number[] = [];
      return { asked, page: (pfn) => { asked.push(pfn); return pfn === 0x40 ? new Uint8Array(PAGE_SIZE).map((_, i) => i & 0xff) : undefined; } };
    };

    it('reads pages never written from the base, each fetched once', () => {
      const m = new PhysicalMemory();
      const b = base();
      m.setBase(b);
      // 0x4_0008..0x4_000f hold 08..0f: little-endian 0x0f0e0d0c0b0a0908.
      assert.equal(m.readU64(0x4_0008), 0x0f0e0d0c0b0a0908n);
      assert.equal(m.readU32(0x4_0ffc), 0xfffefdfc);
      assert.equal(m.readU64(0x5_0000), 0n);
      m.readU8(0x4_0001);
      assert.deepEqual(b.asked, [0x40, 0x50]);
      assert.equal(m.pageCount, 0);
    });

    it('copies a base page on its first write and leaves the base as it was', () => {
      const b = base();
      const m = new PhysicalMemory();
      m.setBase(b);
      const before = m.snapshot();
      m.writeU8(0x4_0000, 0xaa);
      assert.equal(m.readU32(0x4_0000), 0x030201aa);
      assert.equal(before.readU32(0x4_0000), 0x03020100);
      assert.equal(m.pageCount, 1);
      // Zero-filling a base page really zeroes it (it does not read as zero by itself).
      m.fill(0x4_0100, 8, 0);
      assert.equal(m.readU64(0x4_0100), 0n);
      assert.equal(before.readU64(0x4_0100), 0x0706050403020100n);
    });

    it('is taken by snapshots and can be removed', () => {
      const m = new PhysicalMemory();
      const early = m.snapshot();
      m.setBase(base());
      const s = m.snapshot();
      assert.equal(s.readU8(0x4_0002), 2);
      assert.equal(early.readU8(0x4_0002), 0);
      m.setBase(undefined);
      assert.equal(m.readU8(0x4_0002), 0);
      assert.equal(s.readU8(0x4_0002), 2);
    });
  });
});
