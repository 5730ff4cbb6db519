import { strict as assert } from 'node:assert';
import { PhysicalMemory, PAGE_SIZE, bigintToBytes, bytesToBigint } from '../../src/model/memory';

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
});
