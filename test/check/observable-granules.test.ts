/**
 * The observable sets (src/check/observable.ts): what the SMMU could read of an entry now.
 * Every expected set is worked out by hand in the comment above it from the rules of
 * DESIGN §3: a granule seen directly shows each store (or each part of a store that may
 * tear) on its own, in any order except coherence (same bytes in program order) and
 * barrier order; a granule read from PoC shows the states the CPU's line went through,
 * written back at any time, per write-back unit.
 */
import { strict as assert } from 'node:assert';
import { observable, ObservableSet, torn } from '../../src/check/observable';
import { VisibilityHistory } from '../../src/model/history';
import { NC, plain, store, system, WB } from './memory';

const key = (v: readonly bigint[]): string => v.map((q) => '0x' + q.toString(16)).join(' ');
/** The set's values, as sorted strings (qwords separated by spaces). */
const values = (s: ObservableSet): string[] => s.values.map(key).sort();
/** Expected values, given as one-qword numbers or qword tuples. */
const expected = (...vs: (bigint | bigint[])[]): string[] => vs.map((v) => key(typeof v === 'bigint' ? [v] : v)).sort();

describe('check/observable', () => {
  describe('torn(): the intermediate values of a store that becomes visible in parts', () => {
    it('gives every mix of the changed parts except all-old and all-new', () => {
      // 0 -> 0x1111_2222_3333_4444 in 4-byte parts: low half alone, high half alone.
      assert.deepEqual(torn(0n, 0x1111_2222_3333_4444n, 4).map((v) => key([v])).sort(), expected(0x3333_4444n, 0x1111_2222_0000_0000n));
      // Bytes 0 and 2 change (byte 1 keeps 0xff): 2 parts, 2^2 - 2 = 2 mixes.
      assert.deepEqual(torn(0xff00n, 0xab_ffcdn, 1).map((v) => key([v])).sort(), expected(0xffcdn, 0xab_ff00n));
    });

    it('gives nothing when at most one part changes', () => {
      assert.deepEqual(torn(0n, 0x4000_0000n, 4), []);
      assert.deepEqual(torn(5n, 5n, 1), []);
    });
  });

  describe('a granule the SMMU sees directly (non-cacheable memory, or a coherent SMMU)', () => {
    it('an atomic store: the old value or the new one; this run reads the new one', () => {
      const m = system(false);
      store(m, NC, 0x1111_2222_3333_4444n);
      const s = observable(m, NC, 1);
      assert.deepEqual(values(s), expected(0n, 0x1111_2222_3333_4444n));
      // Non-cacheable stores reach PoC at once: the deterministic run's SMMU reads the new value.
      assert.equal(key(s.values[0]), key([0x1111_2222_3333_4444n]));
      assert.deepEqual([s.oldest, s.newest, s.truncated, s.count], [[0n], [0x1111_2222_3333_4444n], false, 2]);
    });

    it('on a coherent SMMU cacheable memory is seen directly too', () => {
      const m = system(true);
      store(m, WB, 0x1111_2222_3333_4444n);
      const s = observable(m, WB, 1);
      assert.deepEqual(values(s), expected(0n, 0x1111_2222_3333_4444n));
      assert.equal(key(s.values[0]), key([0x1111_2222_3333_4444n]), 'a coherent SMMU snoops the CPU\'s value');
    });

    it('a plain store in 4-byte parts: each half may be seen without the other', () => {
      const m = system(false);
      plain(m, NC, 0x1111_2222_3333_4444n, 4);
      // Parts: low 0x3333_4444, high 0x1111_2222: 2^2 = 4 values.
      assert.deepEqual(values(observable(m, NC, 1)), expected(0n, 0x3333_4444n, 0x1111_2222_0000_0000n, 0x1111_2222_3333_4444n));
    });

    it('a plain store in 2-byte parts: only the parts that change count', () => {
      const m = system(false);
      plain(m, NC, 0x0001_0000_0000_0203n, 2);
      // Halfwords 0 (0x0203) and 3 (0x0001) change, 1 and 2 stay 0: 2^2 = 4 values.
      assert.deepEqual(values(observable(m, NC, 1)), expected(0n, 0x203n, 0x0001_0000_0000_0000n, 0x0001_0000_0000_0203n));
    });

    it('a plain store in bytes over a settled value', () => {
      const m = system(false);
      store(m, NC, 0xff00n);
      m.barrier('dsb');
      plain(m, NC, 0xab_ffcdn, 1);
      // From 0xff00: byte 0 00->cd, byte 2 00->ab, byte 1 stays ff: 4 values, 0 no longer one of them.
      assert.deepEqual(values(observable(m, NC, 1)), expected(0xff00n, 0xffcdn, 0xab_ff00n, 0xab_ffcdn));
    });

    it('stores to the same bytes are seen in program order (coherence)', () => {
      const m = system(false);
      store(m, NC, 1n);
      store(m, NC, 2n);
      // 0, then 1, then 2; 2 cannot be seen without 1 having been (it overwrote the same bytes) —
      // and since it overwrote all of them, the set is {0, 1, 2}.
      assert.deepEqual(values(observable(m, NC, 1)), expected(0n, 1n, 2n));
    });

    it('stores to different bytes with no barrier: either may be seen without the other', () => {
      const m = system(false);
      store(m, NC, 0xaaaa_aaaan, 4);
      store(m, NC + 4, 0xbbbb_bbbbn, 4);
      assert.deepEqual(values(observable(m, NC, 1)), expected(0n, 0xaaaa_aaaan, 0xbbbb_bbbb_0000_0000n, 0xbbbb_bbbb_aaaa_aaaan));
    });

    it('a dma_wmb between them: the later store is not seen without the earlier one', () => {
      const m = system(false);
      store(m, NC, 0xaaaa_aaaan, 4);
      m.barrier('dma_wmb');
      store(m, NC + 4, 0xbbbb_bbbbn, 4);
      // The high half alone (0xbbbb_bbbb_0000_0000) is gone: 3 values.
      assert.deepEqual(values(observable(m, NC, 1)), expected(0n, 0xaaaa_aaaan, 0xbbbb_bbbb_aaaa_aaaan));
    });

    it('a read barrier orders no stores', () => {
      const m = system(false);
      store(m, NC, 0xaaaa_aaaan, 4);
      m.barrier('dma_rmb');
      store(m, NC + 4, 0xbbbb_bbbbn, 4);
      assert.equal(observable(m, NC, 1).values.length, 4);
    });
  });

  describe('a granule a non-coherent SMMU reads from PoC (cacheable memory)', () => {
    it('an atomic store: PoC holds the old value or the line\'s new one; this run reads the old one', () => {
      const m = system(false);
      store(m, WB, 0x1111_2222_3333_4444n);
      const s = observable(m, WB, 1);
      assert.deepEqual(values(s), expected(0n, 0x1111_2222_3333_4444n));
      assert.equal(key(s.values[0]), key([0n]), 'nothing was written back in this run');
      assert.deepEqual([s.oldest, s.newest], [[0n], [0x1111_2222_3333_4444n]]);
    });

    it('a plain store in 4-byte parts: the line may be written back between them', () => {
      const m = system(false);
      plain(m, WB, 0x1111_2222_3333_4444n, 4);
      assert.deepEqual(values(observable(m, WB, 1)), expected(0n, 0x3333_4444n, 0x1111_2222_0000_0000n, 0x1111_2222_3333_4444n));
    });

    it('two atomic stores to different halves: only states the line went through', () => {
      const m = system(false);
      store(m, WB, 0xaaaa_aaaan, 4);
      store(m, WB + 4, 0xbbbb_bbbbn, 4);
      // The line held 0, then 0xaaaa_aaaa, then both: the high half alone was never a line state
      // (compare the direct path above, where it is seen).
      assert.deepEqual(values(observable(m, WB, 1)), expected(0n, 0xaaaa_aaaan, 0xbbbb_bbbb_aaaa_aaaan));
    });

    it('two versions of the whole qword: each, not a mix', () => {
      const m = system(false);
      store(m, WB, 0x1111_1111_1111_1111n);
      store(m, WB, 0x2222_2222_2222_2222n);
      assert.deepEqual(values(observable(m, WB, 1)), expected(0n, 0x1111_1111_1111_1111n, 0x2222_2222_2222_2222n));
    });

    it('a write-back granule of 4 bytes splits even an atomic store', () => {
      const m = system(false, 4);
      store(m, WB, 0x1111_2222_3333_4444n);
      // Each 4-byte half of PoC is written back on its own: 2 x 2 = 4 values.
      assert.deepEqual(values(observable(m, WB, 1)), expected(0n, 0x3333_4444n, 0x1111_2222_0000_0000n, 0x1111_2222_3333_4444n));
    });

    it('a write-back granule of 4 bytes: each half holds any value it ever had, independently', () => {
      const m = system(false, 4);
      store(m, WB, 0xaaaa_aaaan, 4);
      store(m, WB + 4, 0xbbbb_bbbbn, 4);
      // Low half {0, aaaa_aaaa} x high half {0, bbbb_bbbb}: the high half alone is possible now.
      assert.deepEqual(values(observable(m, WB, 1)), expected(0n, 0xaaaa_aaaan, 0xbbbb_bbbb_0000_0000n, 0xbbbb_bbbb_aaaa_aaaan));
    });

    it('a write-back granule of 2 bytes across two versions', () => {
      const m = system(false, 2);
      store(m, WB, 0x0001_0001n);
      store(m, WB, 0x0002_0002n);
      // Halfword 0 in {0, 1, 2}, halfword 1 in {0, 1, 2}, halfwords 2-3 stay 0: 3 x 3 = 9 values,
      // among them the newest low half with the oldest high half (0x2).
      assert.deepEqual(values(observable(m, WB, 1)), expected(
        0n, 1n, 2n, 0x1_0000n, 0x1_0001n, 0x1_0002n, 0x2_0000n, 0x2_0001n, 0x2_0002n));
    });
  });

  describe('across the granules of an entry', () => {
    it('any combination of the granules\' values when no barrier orders them', () => {
      const m = system(false);
      store(m, NC + 8, 0xbn);
      store(m, NC, 0xan);
      assert.deepEqual(values(observable(m, NC, 2)), expected([0n, 0n], [0xan, 0n], [0n, 0xbn], [0xan, 0xbn]));
    });

    it('a store ordered after another by dma_wmb is not seen without it', () => {
      const m = system(false);
      store(m, NC + 8, 0xbn);
      m.barrier('dma_wmb');
      store(m, NC, 0xan);
      // [0xa, 0] would show qword 0 (after the barrier) without qword 1 (before it).
      assert.deepEqual(values(observable(m, NC, 2)), expected([0n, 0n], [0n, 0xbn], [0xan, 0xbn]));
    });

    it('the same the other way round', () => {
      const m = system(false);
      store(m, NC, 0xan);
      m.barrier('wmb');
      store(m, NC + 8, 0xbn);
      assert.deepEqual(values(observable(m, NC, 2)), expected([0n, 0n], [0xan, 0n], [0xan, 0xbn]));
    });

    it('from PoC: granules written back in any order, barrier or not', () => {
      const m = system(false);
      store(m, WB, 0xan);
      m.barrier('dma_wmb');
      store(m, WB + 8, 0xbn);
      store(m, WB + 8, 0xcn);
      // A barrier orders the CPU's stores, not the write-back of dirty lines:
      // qword 0 in {0, a} x qword 1 in {0, b, c} = 6 values.
      assert.deepEqual(values(observable(m, WB, 2)), expected(
        [0n, 0n], [0xan, 0n], [0n, 0xbn], [0xan, 0xbn], [0n, 0xcn], [0xan, 0xcn]));
    });

    it('granules with nothing pending contribute their one value', () => {
      const m = system(false);
      store(m, NC + 8, 0x77n);
      m.barrier('dsb');
      store(m, NC, 0xan);
      assert.deepEqual(values(observable(m, NC, 3)), expected([0n, 0x77n, 0n], [0xan, 0x77n, 0n]));
    });
  });

  describe('over time', () => {
    it('direct: a DSB leaves only the current value, and older values never come back', () => {
      const m = system(false);
      store(m, NC, 1n);
      assert.deepEqual(values(observable(m, NC, 1)), expected(0n, 1n));
      m.barrier('dsb');
      assert.deepEqual(values(observable(m, NC, 1)), expected(1n));
      store(m, NC, 2n);
      assert.deepEqual(values(observable(m, NC, 1)), expected(1n, 2n));
    });

    it('direct: a doorbell after a barrier settles the stores before the barrier only', () => {
      const m = system(false);
      store(m, NC, 0xan);
      m.barrier('dma_wmb');
      store(m, NC + 8, 0xbn);
      m.doorbell();
      // What the doorbell triggers sees qword 0; qword 1 (after the barrier) may still be old.
      assert.deepEqual(values(observable(m, NC, 2)), expected([0xan, 0n], [0xan, 0xbn]));
    });

    it('PoC: a write-back, then a clean completed by a DSB, each move the oldest value forward', () => {
      const m = system(false);
      store(m, WB, 1n);
      assert.deepEqual(values(observable(m, WB, 1)), expected(0n, 1n));
      m.writeBack(WB, 8);
      assert.deepEqual(values(observable(m, WB, 1)), expected(1n));
      store(m, WB, 2n);
      assert.deepEqual(values(observable(m, WB, 1)), expected(1n, 2n));
      m.cmo('clean', WB, 8);
      assert.deepEqual(values(observable(m, WB, 1)), expected(1n, 2n), 'a clean is not complete before a DSB');
      m.barrier('dsb');
      assert.deepEqual(values(observable(m, WB, 1)), expected(2n));
    });
  });

  describe('the bound', () => {
    it('a set within the bound is complete', () => {
      const m = system(false);
      plain(m, NC, 0x0807_0605_0403_0201n, 1);
      // 8 changed bytes, each seen or not: 2^8 = 256 values.
      const s = observable(m, NC, 1, 256);
      assert.deepEqual([s.values.length, new Set(s.values.map(key)).size, s.truncated, s.count], [256, 256, false, 256]);
    });

    it('a set past the bound is marked truncated, with a count that is a lower bound', () => {
      const m = system(false);
      plain(m, NC, 0x0807_0605_0403_0201n, 1);
      const s = observable(m, NC, 1, 255);
      assert.equal(s.values.length, 255);
      assert.equal(s.truncated, true);
      // At least bound + 1 values exist, and no more than the 256 there are.
      assert.ok(s.count >= 256 && s.count <= 256, `count ${s.count}`);
    });

    it('the bound applies to the combinations across granules', () => {
      const m = system(false);
      plain(m, NC, 0x1111_2222_3333_4444n, 4);
      plain(m, NC + 8, 0x5555_6666_7777_8888n, 4);
      // 4 values per qword, 4 x 4 = 16 combinations.
      assert.deepEqual([observable(m, NC, 2, 16).values.length, observable(m, NC, 2, 16).truncated], [16, false]);
      const s = observable(m, NC, 2, 10);
      assert.deepEqual([s.values.length, s.truncated], [10, true]);
      assert.ok(s.count > 10 && s.count <= 16, `count ${s.count}`);
    });

    it('a value written back and forth counts once: not truncated when the distinct values fit', () => {
      const m = system(false);
      store(m, NC, 1n);
      store(m, NC, 0n);
      // 0, 1, then 0 again: two distinct values.
      const s = observable(m, NC, 1, 2);
      assert.deepEqual(values(s), expected(0n, 1n));
      assert.equal(s.truncated, false, 'two values fit a bound of two');
      assert.equal(s.count, 2);
    });

    it('PoC with a 1-byte write-back granule: the bound stops the work, not only the result', () => {
      const m = system(false, 1);
      // Six versions, every byte different each time: 7 values per byte, 7^8 = 5,764,801 combinations.
      for (let k = 1n; k <= 6n; k++) store(m, WB, 0x0101_0101_0101_0101n * k);
      const t0 = Date.now();
      const s = observable(m, WB, 1, 100);
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      assert.deepEqual([s.values.length, s.truncated], [100, true]);
      assert.ok(s.count > 100, `count ${s.count}`);
    });

    it('versions the history dropped make the set truncated, never silently smaller', () => {
      // A history that keeps 2 versions per granule: the third store drops the oldest value.
      const m = system(false, 8, new VisibilityHistory(2));
      store(m, NC, 1n);
      store(m, NC, 2n);
      store(m, NC, 3n);
      const s = observable(m, NC, 1);
      assert.equal(s.truncated, true, 'the SMMU could still read 0 or 1, which the history no longer holds');
      assert.ok(s.count > s.values.length);
    });
  });
});
