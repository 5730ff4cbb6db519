/**
 * Kexec HandOver in the model: the natural-alignment split of preserved ranges, the page
 * sets, the phases and their refusals, and what kexec, a scrub and an allocation after
 * kexec do to the machine. Addresses are worked out by hand from the allocator's rules
 * (automatic placement from 0x4000_0000, naturally aligned).
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Machine, DEFAULT_PLATFORM, PlatformConfig, Tagged } from '../../src/model/machine';
import { KhoError, naturalChunks, PageSet } from '../../src/model/kho';
import { PhysicalMemory } from '../../src/model/memory';

const hex = (n: number | bigint): string => '0x' + n.toString(16);

function machine(platform: Partial<PlatformConfig> = {}, log: Tagged[] = []): Machine {
  return Machine.create({ ...DEFAULT_PLATFORM, memory: { ...DEFAULT_PLATFORM.memory, coherent: false }, ...platform }, (t) => log.push(t));
}

describe('KHO: natural-alignment split', () => {
  it('splits a range into the largest aligned power-of-two blocks, as kho_preserve_pages does', () => {
    // Pages 0x40001..0x40005 (5 pages): 0x40001 is odd → 1 page; 0x40002 is 2-aligned and 4 pages
    // remain → 2 pages (0x40004 would need 4-alignment and 4 pages for more); 0x40004 → the last 2.
    assert.deepEqual(naturalChunks(0x40001, 0x40006), [{ pfn: 0x40001, order: 0 }, { pfn: 0x40002, order: 1 }, { pfn: 0x40004, order: 1 }]);
    // 16 pages from a 16-aligned page: one order-4 block.
    assert.deepEqual(naturalChunks(0x40000, 0x40010), [{ pfn: 0x40000, order: 4 }]);
    // [3, 11): 3 (order 0), 4..7 (order 2), 8..9 (order 1), 10 (order 0).
    assert.deepEqual(naturalChunks(3, 11), [{ pfn: 3, order: 0 }, { pfn: 4, order: 2 }, { pfn: 8, order: 1 }, { pfn: 10, order: 0 }]);
    assert.deepEqual(naturalChunks(7, 7), []);
  });

  it('covers the range exactly with aligned blocks, each as large as it can be', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 4096 }), (lo, n) => {
      const chunks = naturalChunks(lo, lo + n);
      let at = lo;
      for (const c of chunks) {
        assert.equal(c.pfn, at);
        assert.equal(c.pfn % 2 ** c.order, 0, `block at ${hex(c.pfn)} of order ${c.order} is not aligned`);
        // Doubling would break the alignment or run past the end.
        assert.ok(c.pfn % 2 ** (c.order + 1) !== 0 || c.pfn + 2 ** (c.order + 1) > lo + n);
        at += 2 ** c.order;
      }
      assert.equal(at, lo + n);
    }));
  });
});

describe('KHO: page sets', () => {
  it('behave as sets of page numbers', () => {
    const op = fc.record({ add: fc.boolean(), lo: fc.integer({ min: 0, max: 63 }), n: fc.integer({ min: 0, max: 20 }) });
    fc.assert(fc.property(fc.array(op, { maxLength: 12 }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 20 }), (ops, qlo, qn) => {
      let s = PageSet.EMPTY;
      const naive = new Set<number>();
      for (const o of ops) {
        s = o.add ? s.add(o.lo, o.lo + o.n) : s.remove(o.lo, o.lo + o.n);
        for (let p = o.lo; p < o.lo + o.n; p++) if (o.add) naive.add(p); else naive.delete(p);
      }
      for (let p = 0; p < 90; p++) assert.equal(s.has(p), naive.has(p), `page ${p}`);
      assert.equal(s.count, naive.size);
      // Ranges stay sorted, disjoint and not adjacent.
      s.ranges.forEach((r, i) => assert.ok(r.lo < r.hi && (i === 0 || s.ranges[i - 1].hi < r.lo)));
      const missing = s.missing(qlo, qlo + qn).flatMap((r) => Array.from({ length: r.hi - r.lo }, (_, i) => r.lo + i));
      assert.deepEqual(missing, Array.from({ length: qn }, (_, i) => qlo + i).filter((p) => !naive.has(p)));
    }));
  });
});

describe('KHO: memory overwritten wholesale', () => {
  it('reads as the byte where never written since, and costs the pages present', () => {
    const m = new PhysicalMemory();
    m.writeU64(0x1000, 0x1122n);
    m.overwritePages(0, 2 ** 40, 0xaa);
    assert.equal(m.pageCount, 0);
    assert.equal(m.readU64(0x1000), 0xaaaa_aaaa_aaaa_aaaan);
    assert.equal(m.readU8(0xf_ffff_f000), 0xaa);
    assert.deepEqual([...m.read(0x2ffe, 4)], [0xaa, 0xaa, 0xaa, 0xaa]);
    // A later write to a page keeps the rest of the page as it read before.
    m.writeU32(0x5000, 0x1234_5678);
    assert.equal(m.readU64(0x5000), 0xaaaa_aaaa_1234_5678n);
    assert.equal(m.readU8(0x5008), 0xaa);
    assert.equal(m.pageCount, 1);
    // Filling with what it already reads as leaves a page absent.
    m.fill(0x9000, 0x1000, 0xaa);
    assert.equal(m.pageCount, 1);
    m.fill(0x9000, 8, 0);
    assert.equal(m.readU64(0x9000), 0n);
    assert.equal(m.readU64(0x9008), 0xaaaa_aaaa_aaaa_aaaan);
  });
});

describe('KHO: overwrites over a dump', () => {
  it('read above the base layer, a zero overwrite included, until a new base layer is loaded', () => {
    const dump = { page: (pfn: number): Uint8Array | undefined => (pfn < 4 ? new Uint8Array(4096).fill(0x11) : undefined) };
    const m = new PhysicalMemory();
    m.setBase(dump);
    m.overwritePages(1, 2, 0x6b);
    m.overwritePages(2, 3, 0);
    assert.deepEqual([0x0000, 0x1000, 0x2000, 0x3000].map((a) => m.readU8(a)), [0x11, 0x6b, 0x00, 0x11]);
    // A write to an overwritten page keeps the rest of the page as the overwrite.
    m.writeU8(0x1008, 1);
    assert.deepEqual([m.readU8(0x1007), m.readU8(0x1008)], [0x6b, 1]);
    // The views' scan: with a dump, every page of the range; without one, overwrites with a non-zero byte.
    assert.deepEqual(m.pagesMaybeHolding(0, 5).pages, [0, 1, 2, 3, 4, 5]);
    const bare = new PhysicalMemory();
    bare.overwritePages(10, 20, 0xaa);
    bare.overwritePages(30, 40, 0);
    assert.deepEqual(bare.pagesMaybeHolding(15, 35).pages, [15, 16, 17, 18, 19]);
    m.setBase(dump);
    assert.deepEqual([0x2000, 0x3000].map((a) => m.readU8(a)), [0x11, 0x11]);
  });
});

// Automatic placement from 0x4000_0000, naturally aligned: 'keep' (8K) at 0x4000_0000, 'lose' (4K) at 0x4000_2000.
const KEEP = 0x4000_0000;
const LOSE = 0x4000_2000;

function twoRegions(m: Machine): void {
  assert.equal(m.alloc('keep', 0x2000, 'cacheable', 'scenario').base, KEEP);
  assert.equal(m.alloc('lose', 0x1000, 'cacheable', 'scenario').base, LOSE);
}

function preserveKeep(m: Machine): void {
  m.handover({ kind: 'preserve', base: KEEP, size: 0x2000, label: 'keep', subtree: 'test', region: 'keep' });
}

describe('KHO: phases', () => {
  it('preserves whole pages only, and records naturally aligned blocks', () => {
    const log: Tagged[] = [];
    const m = machine({}, log);
    twoRegions(m);
    assert.throws(() => m.handover({ kind: 'preserve', base: KEEP + 0x100, size: 0x1000, label: 'x', subtree: 't' }), (e: Error) => e instanceof KhoError && /whole pages/.test(e.message));
    // 3 pages from 0x4000_1000: page 0x40001 (odd, order 0), then 0x40002 with 2 pages left (order 1).
    m.handover({ kind: 'preserve', base: KEEP + 0x1000, size: 0x3000, label: 'three', subtree: 't' });
    const ev = log.map((t) => t.activity).find((a) => a.kind === 'kho');
    assert.ok(ev && ev.kind === 'kho' && ev.event.kind === 'preserve');
    assert.deepEqual(ev.event.kind === 'preserve' && ev.event.chunks, [{ pfn: 0x40001, order: 0 }, { pfn: 0x40002, order: 1 }]);
    assert.equal(m.kho.preserved.count, 3);
    assert.equal(m.kho.pageState(0x40000), 'unpreserved');
    assert.equal(m.kho.pageState(0x40003), 'preserved');
  });

  it('freezes at finalize: no preserve or unpreserve until kexec, and the description stays as it was', () => {
    const m = machine();
    twoRegions(m);
    preserveKeep(m);
    assert.throws(() => m.handover({ kind: 'unpreserve', base: LOSE, size: 0x1000, label: 'lose' }), /not preserved/);
    m.handover({ kind: 'finalize' });
    const d = m.kho.description!;
    assert.throws(() => m.handover({ kind: 'preserve', base: LOSE, size: 0x1000, label: 'lose', subtree: 't' }), /finalized.*-EBUSY/);
    assert.throws(() => m.handover({ kind: 'unpreserve', base: KEEP, size: 0x2000, label: 'keep' }), /finalized/);
    assert.throws(() => m.handover({ kind: 'finalize' }), /finalized/);
    assert.equal(m.kho.current(), d);
    // The memory map: 2 pages from 0x40000, one order-1 block; listed under its preservation.
    const map = d.children.find((c) => c.name === 'preserved-memory')!;
    assert.deepEqual(map.props, [['[0]', '0x40000000 order 1 (0x2000 bytes) ← keep']]);
    assert.ok(d.children.some((c) => c.name === 'test' && c.props.some(([k, v]) => k === 'keep' && v === '[0x40000000, 0x40002000)')));
  });

  it('refuses the new kernel\'s steps before kexec and the old kernel\'s after', () => {
    const m = machine();
    twoRegions(m);
    preserveKeep(m);
    assert.throws(() => m.handover({ kind: 'restore', base: KEEP, size: 0x2000, label: 'keep' }), /no kexec yet/);
    assert.throws(() => m.handover({ kind: 'scrub', byte: 0xaa }), /no kexec yet/);
    assert.throws(() => m.handover({ kind: 'finish' }), /no kexec yet/);
    m.handover({ kind: 'kexec' });
    assert.equal(m.kho.phase, 'new');
    assert.ok(m.kho.description, 'kexec finalizes when nothing did');
    assert.throws(() => m.handover({ kind: 'preserve', base: KEEP, size: 0x1000, label: 'x', subtree: 't' }), /has not finished the live update/);
    assert.throws(() => m.handover({ kind: 'kexec' }), /not finished/);
    assert.throws(() => m.handover({ kind: 'restore', base: LOSE, size: 0x1000, label: 'lose' }), /was not preserved/);
    m.handover({ kind: 'restore', base: KEEP, size: 0x2000, label: 'keep', region: 'keep' });
    assert.throws(() => m.handover({ kind: 'restore', base: KEEP, size: 0x2000, label: 'keep' }), /already restored/);
    assert.deepEqual(m.mem.regions.live.map((r) => r.name), ['keep']);
    m.handover({ kind: 'finish' });
    assert.throws(() => m.handover({ kind: 'restore', base: KEEP, size: 0x1000, label: 'keep' }), /finished/);
    // The kernel that finished can preserve for its own next kexec.
    m.handover({ kind: 'preserve', base: KEEP, size: 0x1000, label: 'again', subtree: 't' });
    assert.equal(m.kho.phase, 'old');
    assert.equal(m.kho.preserved.count, 1);
    assert.equal(m.kho.kexecs, 1);
  });

  it('finish releases what was preserved and not restored', () => {
    const m = machine();
    twoRegions(m);
    m.handover({ kind: 'preserve', base: KEEP, size: 0x3000, label: 'both', subtree: 't' });
    m.handover({ kind: 'kexec' });
    m.handover({ kind: 'restore', base: KEEP, size: 0x1000, label: 'first page' });
    m.handover({ kind: 'finish' });
    // Pages 0x40000..0x40002 were preserved; 0x40000 restored; 0x40001 and 0x40002 released.
    assert.deepEqual(m.kho.released.ranges, [{ lo: 0x40001, hi: 0x40003 }]);
    assert.equal(m.kho.pageState(0x40000), 'restored');
    assert.equal(m.kho.pageState(0x40002), 'released');
  });
});

describe('KHO: kexec on the machine', () => {
  it('keeps the SMMU, frees the old kernel\'s regions and restarts allocation over unpreserved memory', () => {
    const m = machine();
    twoRegions(m);
    m.mmioWrite('STRTAB_BASE', 0x4800_0000n);
    m.store(LOSE, 8, 0x3333n);
    m.writeBack(LOSE, 64);
    preserveKeep(m);
    m.handover({ kind: 'kexec' });
    assert.equal(m.smmu.read('STRTAB_BASE'), 0x4800_0000n);
    assert.deepEqual(m.mem.regions.live, []);
    // Names still stand for the old kernel's addresses.
    assert.equal(m.region('lose')?.base, LOSE);
    assert.equal(m.region('lose')?.live, false);
    // The first allocation skips the preserved pages [0x4000_0000, 0x4000_2000) and lands on 'lose',
    // whose old contents are gone: an allocation after kexec reads as the scrub pattern.
    const r = m.alloc('new', 0x1000, 'cacheable', 'scenario');
    assert.equal(r.base, LOSE);
    assert.equal(m.mem.pocRead(LOSE, 8).every((b) => b === 0xaa), true);
    assert.equal(m.load(LOSE, 8), 0xaaaa_aaaa_aaaa_aaaan);
    assert.throws(() => m.alloc('onkeep', 0x1000, 'cacheable', 'scenario', { base: KEEP }), /preserved/);
  });

  it('leaves the old kernel\'s dirty lines dirty by default, and writes them back with kexec_cache=writeback', () => {
    for (const mode of ['dirty', 'writeback'] as const) {
      const m = machine({ kexecCache: mode });
      twoRegions(m);
      m.store(KEEP + 8, 8, 0x2222n);
      preserveKeep(m);
      m.handover({ kind: 'kexec' });
      assert.equal(m.load(KEEP + 8, 8), 0x2222n, `${mode}: the CPU sees its own write`);
      assert.equal(m.mem.smmuReadU64(KEEP + 8), mode === 'dirty' ? 0n : 0x2222n, `${mode}: what a non-coherent SMMU reads`);
      assert.equal(m.mem.dirtyLines().length, mode === 'dirty' ? 1 : 0);
    }
  });

  it('a scrub overwrites every free page and nothing preserved or the new kernel\'s, at the cost of the pages present', () => {
    const m = machine();
    twoRegions(m);
    m.store(KEEP, 8, 0x1111n);
    m.store(LOSE, 8, 0x3333n);
    m.cmo('clean', KEEP, 0x3000);
    m.barrier('dsb');
    preserveKeep(m);
    m.handover({ kind: 'kexec' });
    const mine = m.alloc('mine', 0x1000, 'noncacheable', 'scenario', { base: 0x5000_0000 });
    m.store(mine.base, 8, 0x7777n);
    m.handover({ kind: 'scrub', byte: 0xaa });
    assert.equal(m.mem.smmuReadU64(KEEP), 0x1111n);
    assert.equal(m.mem.smmuReadU64(LOSE), 0xaaaa_aaaa_aaaa_aaaan);
    assert.equal(m.mem.smmuReadU64(0x7_0000_0000), 0xaaaa_aaaa_aaaa_aaaan);
    assert.equal(m.mem.smmuReadU64(mine.base), 0x7777n);
    assert.ok(m.mem.poc.pageCount <= 3, `pages held: ${m.mem.poc.pageCount}`);
    // A scrub of memory that is not free is refused.
    assert.throws(() => m.handover({ kind: 'scrub', ranges: [{ addr: KEEP, len: 0x1000 }], byte: 0 }), /preserved memory/);
    assert.throws(() => m.handover({ kind: 'scrub', ranges: [{ addr: mine.base, len: 0x1000 }], byte: 0 }), /region 'mine'/);
  });

  it('snapshots carry the handover state: later steps on one side do not change the other', () => {
    const m = machine();
    twoRegions(m);
    m.store(LOSE, 8, 0x3333n);
    m.writeBack(LOSE, 64);
    preserveKeep(m);
    const before = m.snapshot();
    m.handover({ kind: 'kexec' });
    const after = m.snapshot();
    m.handover({ kind: 'scrub', byte: 0x6b });
    m.handover({ kind: 'restore', base: KEEP, size: 0x2000, label: 'keep', region: 'keep' });
    assert.equal(before.kho.phase, 'old');
    assert.deepEqual(before.mem.regions.live.map((r) => r.name), ['keep', 'lose']);
    assert.equal(before.mem.pocRead(LOSE, 1)[0], 0x33);
    assert.equal(after.kho.phase, 'new');
    assert.equal(after.kho.restored.count, 0);
    assert.deepEqual(after.mem.regions.live, []);
    assert.equal(after.mem.pocRead(LOSE, 1)[0], 0x33);
    assert.equal(m.mem.pocRead(LOSE, 1)[0], 0x6b);
    // And the copy goes on by itself.
    after.handover({ kind: 'scrub', byte: 0x11 });
    assert.equal(m.mem.pocRead(LOSE, 1)[0], 0x6b);
    assert.equal(after.mem.pocRead(LOSE, 1)[0], 0x11);
  });
});
