import { strict as assert } from 'node:assert';
import { MemorySystem, DEFAULT_MEMORY_CONFIG } from '../../src/model/memsys';
import { RegionMap } from '../../src/model/regions';

function system(coherent: boolean): MemorySystem {
  const m = new MemorySystem({ ...DEFAULT_MEMORY_CONFIG, coherent });
  m.regions = RegionMap.empty()
    .add({ name: 'pgtable', base: 0x4000_0000, size: 0x1000, attr: 'cacheable', owner: 'test' })
    .add({ name: 'strtab', base: 0x4800_0000, size: 0x1000, attr: 'noncacheable', owner: 'test' });
  return m;
}

const PTE = 0x4000_0010;
const STE = 0x4800_0000;

describe('model/memsys', () => {
  describe('non-coherent SMMU, cacheable memory', () => {
    it('the SMMU reads PoC until a clean is completed by a DSB', () => {
      const m = system(false);
      m.cpuStore(PTE, 8, 0x4012_3f47n, 8, 1);
      assert.equal(m.cpuLoad(PTE, 8), 0x4012_3f47n, 'the CPU sees its store');
      assert.equal(m.smmuReadU64(PTE), 0n, 'the SMMU still reads the stale PoC value');
      const r = m.cmo('clean', PTE, 8);
      assert.deepEqual([r.lines, r.dirtyLines], [1, 1]);
      assert.equal(m.smmuReadU64(PTE), 0n, 'a clean is not complete before a DSB');
      assert.deepEqual(m.pendingCleans(), [0x4000_0000]);
      m.barrier('dma_wmb');
      assert.equal(m.smmuReadU64(PTE), 0n, 'dma_wmb orders but does not complete CMOs');
      m.barrier('dsb');
      assert.equal(m.smmuReadU64(PTE), 0x4012_3f47n);
      assert.deepEqual(m.pendingCleans(), []);
    });

    it('records what the SMMU could read until the clean completes', () => {
      const m = system(false);
      m.cpuStore(PTE, 8, 1n, 8, 1);
      m.cpuStore(PTE, 8, 2n, 8, 2);
      const h = m.history.get(PTE)!;
      assert.equal(h.path, 'poc');
      assert.equal(h.settled, 0n);
      assert.deepEqual(h.versions.map((v) => [v.value, v.origin, v.unit]), [[1n, 1, 8], [2n, 2, 8]]);
      m.cmo('clean', PTE, 8);
      m.cpuStore(PTE, 8, 3n, 8, 3); // after the clean: not covered by it
      m.barrier('dsb');
      const after = m.history.get(PTE)!;
      assert.equal(after.settled, 2n);
      assert.deepEqual(after.versions.map((v) => v.value), [3n]);
    });

    it('a clean+invalidate keeps the CPU value visible to the CPU while in flight', () => {
      const m = system(false);
      m.cpuStore(PTE, 8, 7n, 8, 1);
      m.cmo('clean-inv', PTE, 8);
      assert.equal(m.cache.get(PTE), undefined);
      assert.equal(m.cpuLoad(PTE, 8), 7n);
      assert.equal(m.smmuReadU64(PTE), 0n);
      m.barrier('dsb');
      assert.equal(m.pocRead(PTE, 8)[0], 7);
    });

    it('an invalidate discards dirty bytes and reports them', () => {
      const m = system(false);
      m.cpuStore(PTE, 4, 0xaabbccddn, 4, 1);
      const r = m.cmo('inv', PTE, 64);
      assert.equal(r.lost.length, 1);
      assert.equal(r.lost[0].addr, PTE);
      assert.deepEqual([...r.lost[0].cpu], [0xdd, 0xcc, 0xbb, 0xaa]);
      assert.deepEqual([...r.lost[0].poc], [0, 0, 0, 0]);
      assert.equal(m.cpuLoad(PTE, 4), 0n, 'the CPU now reads PoC again');
    });

    it('a forced write-back publishes the dirty line', () => {
      const m = system(false);
      m.cpuStore(PTE, 8, 9n, 8, 1);
      assert.equal(m.writeBack(0x4000_0000, 0x1000), 1);
      assert.equal(m.smmuReadU64(PTE), 9n);
      assert.equal(m.history.get(PTE), undefined, 'nothing pending after the write-back');
    });

    it('a plain store may tear in units no larger than the write-back granule', () => {
      const m = new MemorySystem({ ...DEFAULT_MEMORY_CONFIG, writebackGranule: 4 });
      m.cpuStore(0x1000, 8, 0x1111_2222_3333_4444n, 8, 1);
      assert.equal(m.history.get(0x1000)!.versions[0].unit, 4);
    });

    it('an SMMU write goes to PoC behind the CPU cached copy', () => {
      const m = system(false);
      m.cpuStore(PTE, 8, 1n, 8, 1);
      m.smmuWrite(PTE, Uint8Array.of(0x55));
      assert.equal(m.pocRead(PTE, 1)[0], 0x55);
      assert.equal(m.cpuLoad(PTE, 1), 1n, 'the CPU still reads its line');
    });
  });

  describe('non-cacheable memory', () => {
    it('stores go straight to PoC and settle at a DSB', () => {
      const m = system(false);
      m.cpuStore(STE, 8, 0x9n, 8, 1);
      assert.equal(m.smmuReadU64(STE), 0x9n);
      assert.equal(m.cache.size, 0);
      const h = m.history.get(STE)!;
      assert.equal(h.path, 'direct');
      assert.deepEqual([h.settled, h.versions.length], [0n, 1]);
      m.barrier('dsb');
      assert.equal(m.history.get(STE), undefined);
    });

    it('a doorbell after a barrier settles only the stores before the barrier', () => {
      const m = system(false);
      m.cpuStore(STE, 8, 1n, 8, 1);
      m.barrier('dma_wmb');
      m.cpuStore(STE + 8, 8, 2n, 8, 2);
      m.doorbell();
      assert.equal(m.history.get(STE), undefined);
      assert.deepEqual(m.history.get(STE + 8)!.versions.map((v) => v.value), [2n], 'the store after the barrier is not ordered before the doorbell');
    });
  });

  describe('coherent SMMU', () => {
    it('the SMMU reads the CPU cache', () => {
      const m = system(true);
      m.cpuStore(PTE, 8, 0x1234n, 8, 1);
      assert.equal(m.smmuReadU64(PTE), 0x1234n);
      const parts = [0, 0];
      m.smmuReadU64Parts(PTE, parts);
      assert.deepEqual(parts, [0x1234, 0]);
      assert.equal(m.history.get(PTE)!.path, 'direct');
    });

    it('an SMMU write updates the CPU view', () => {
      const m = system(true);
      m.cpuStore(PTE, 8, 0xffn, 8, 1);
      m.smmuWrite(PTE, Uint8Array.of(0x11));
      assert.equal(m.cpuLoad(PTE, 1), 0x11n);
    });
  });

  it('snapshots restore the exact state', () => {
    const m = system(false);
    m.cpuStore(PTE, 8, 1n, 8, 1);
    const s = m.snapshot();
    m.cmo('clean', PTE, 8);
    m.barrier('dsb');
    m.cpuStore(PTE, 8, 2n, 8, 2);
    assert.equal(s.smmuReadU64(PTE), 0n);
    assert.equal(s.cpuLoad(PTE, 8), 1n);
    assert.equal(s.history.get(PTE)!.versions.length, 1);
    assert.equal(m.smmuReadU64(PTE), 1n);
    assert.equal(m.cpuLoad(PTE, 8), 2n);
  });

  it('rejects addresses beyond 52 bits', () => {
    const m = system(false);
    assert.throws(() => m.cpuStore(2 ** 52, 8, 1n, 8, 1), /outside the 52-bit physical address space/);
  });

  it('names the pages a CPU-view scan must read: PoC pages, cache lines and cleans in flight, within the range', () => {
    const m = system(false);
    const page = (a: number): number => Math.floor(a / 4096);
    assert.deepEqual(m.cpuPagesMaybeHolding(0, 2 ** 40), [], 'nothing written: nothing to read');
    // A cacheable store lives in a cache line; PoC has no page for it yet.
    m.cpuStore(PTE, 8, 0x4012_3f47n, 8, 1);
    // A non-cacheable store goes to PoC.
    m.cpuStore(STE, 8, 0x11n, 8, 2);
    assert.deepEqual(m.cpuPagesMaybeHolding(0, 2 ** 40), [page(PTE), page(STE)]);
    // Clean and invalidate: the line leaves the cache, its bytes are in flight to PoC until a DSB.
    m.cmo('clean-inv', PTE, 8);
    assert.equal(m.cache.get(PTE), undefined);
    assert.deepEqual(m.cpuPagesMaybeHolding(page(PTE), page(PTE)), [page(PTE)], 'the clean in flight still holds the data');
    assert.equal(m.cpuLoad(PTE, 8), 0x4012_3f47n);
    assert.deepEqual(m.cpuPagesMaybeHolding(page(PTE) + 1, page(STE) - 1), [], 'pages outside the range are left out');
    assert.deepEqual(m.cpuPagesMaybeHolding(page(STE), page(STE)), [page(STE)]);
  });
});
