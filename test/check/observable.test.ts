/**
 * `observable()`: the values of an entry an SMMU could read, on a memory system built by
 * hand. Every expected set below is worked out by hand from the rules the checker follows
 * (DESIGN.md §3): 64-bit single-copy atomicity of WRITE_ONCE; a plain store tears into
 * parts of its split size, which become visible in any order; stores the SMMU sees directly
 * (non-cacheable memory, or a coherent SMMU) are ordered only by barriers and by coherence
 * (a write is not seen without the earlier writes to the same bytes); a non-coherent SMMU
 * reads PoC, where a dirty line may land at any time, with no order at all, in units of the
 * write-back granule.
 */
import { strict as assert } from 'node:assert';
import { observable } from '../../src/check/observable';
import { MemorySystem } from '../../src/model/memsys';
import { NC as N, plain, store, system, WB as C } from './memory';

const hex = (v: bigint): string => '0x' + v.toString(16);
/** The values as sorted strings, one qword list per value ("0x1 0x2"). */
const set = (values: readonly (readonly bigint[])[]): string[] => values.map((v) => v.map(hex).join(' ')).sort();
const expectSet = (values: readonly (readonly bigint[])[], want: bigint[][]): void => assert.deepEqual(set(values), set(want));

describe('check/observable', () => {
  describe('one granule', () => {
    it('with nothing pending: the one value the SMMU reads', () => {
      const m = system(false);
      store(m, N, 0x1234n);
      m.barrier('dsb');
      const s = observable(m, N, 1);
      assert.deepEqual(s.values, [[0x1234n]]);
      assert.deepEqual([s.oldest, s.newest, s.truncated, s.count], [[0x1234n], [0x1234n], false, 1]);
    });

    it('atomic versions seen directly: the oldest, each version, and the CPU\'s latest first', () => {
      const m = system(false);
      store(m, N, 0xaaaan);
      store(m, N, 0xbbbbn);
      const s = observable(m, N, 1);
      // WRITE_ONCE is single-copy atomic: no mix of 0xaaaa and 0xbbbb bytes.
      expectSet(s.values, [[0n], [0xaaaan], [0xbbbbn]]);
      // Non-cacheable memory: this run's SMMU reads the latest store.
      assert.deepEqual(s.values[0], [0xbbbbn]);
      assert.deepEqual([s.oldest, s.newest, s.count, s.truncated], [[0n], [0xbbbbn], 3, false]);
    });

    it('atomic versions in a dirty line of a non-coherent SMMU: any of them may reach PoC; PoC\'s value first', () => {
      const m = system(false);
      store(m, C, 0xaaaan);
      store(m, C, 0xbbbbn);
      const s = observable(m, C, 1);
      expectSet(s.values, [[0n], [0xaaaan], [0xbbbbn]]);
      assert.deepEqual(s.values[0], [0n], 'nothing was cleaned: this run\'s SMMU reads the old PoC value');
      m.cmo('clean', C, 8);
      assert.equal(observable(m, C, 1).count, 3, 'a clean is not complete before a DSB');
      m.barrier('dsb');
      assert.deepEqual(observable(m, C, 1).values, [[0xbbbbn]]);
    });

    it('a plain store torn in 4-byte parts: old, new and the two half-written values', () => {
      const m = system(false);
      store(m, N, 0x1111_1111_2222_2222n);
      m.barrier('dsb');
      plain(m, N, 0x3333_3333_4444_4444n, 4);
      const s = observable(m, N, 1);
      // Parts: bytes [3:0] 0x2222_2222 -> 0x4444_4444, bytes [7:4] 0x1111_1111 -> 0x3333_3333.
      expectSet(s.values, [
        [0x1111_1111_2222_2222n], // neither part yet
        [0x1111_1111_4444_4444n], // low part only
        [0x3333_3333_2222_2222n], // high part only
        [0x3333_3333_4444_4444n], // both
      ]);
      assert.deepEqual(s.values[0], [0x3333_3333_4444_4444n]);
    });

    it('the same plain store on a non-coherent SMMU: an eviction may land between the parts', () => {
      const m = system(false);
      store(m, C, 0x1111_1111_2222_2222n);
      m.cmo('clean', C, 8);
      m.barrier('dsb');
      plain(m, C, 0x3333_3333_4444_4444n, 4);
      expectSet(observable(m, C, 1).values, [
        [0x1111_1111_2222_2222n], [0x1111_1111_4444_4444n], [0x3333_3333_2222_2222n], [0x3333_3333_4444_4444n],
      ]);
    });

    it('a plain store only tears where it changes bytes: 2-byte parts, two of them changing', () => {
      const m = system(false);
      store(m, N, 0x0000_1111_2222_3333n);
      m.barrier('dsb');
      plain(m, N, 0x0000_1111_9999_8888n, 2);
      // Parts [1:0] 0x3333 -> 0x8888 and [3:2] 0x2222 -> 0x9999 change; [5:4] and [7:6] do not.
      expectSet(observable(m, N, 1).values, [
        [0x0000_1111_2222_3333n], [0x0000_1111_2222_8888n], [0x0000_1111_9999_3333n], [0x0000_1111_9999_8888n],
      ]);
    });

    it('byte stores: every subset of the three changed bytes', () => {
      const m = system(false);
      plain(m, N, 0x00_00_00_00_00_03_02_01n, 1);
      const want: bigint[][] = [];
      for (let s = 0; s < 8; s++) want.push([BigInt((s & 1 ? 0x01 : 0) | (s & 2 ? 0x0200 : 0) | (s & 4 ? 0x03_0000 : 0))]);
      expectSet(observable(m, N, 1).values, want);
      assert.equal(observable(m, N, 1).count, 8);
    });

    it('two 4-byte stores with no barrier may be seen in either order (seen directly)', () => {
      const m = system(false);
      // A PTE written as two halves, low then high.
      store(m, N, 0x0000_2f47n, 4);
      store(m, N + 4, 0x0060_0008n, 4);
      expectSet(observable(m, N, 1).values, [[0n], [0x2f47n], [0x0060_0008_0000_0000n], [0x0060_0008_0000_2f47n]]);
    });

    it('… but not across a barrier', () => {
      const m = system(false);
      store(m, N, 0x0000_2f47n, 4);
      m.barrier('dma_wmb');
      store(m, N + 4, 0x0060_0008n, 4);
      // The high half is ordered after the low half: high-only is not observable.
      expectSet(observable(m, N, 1).values, [[0n], [0x2f47n], [0x0060_0008_0000_2f47n]]);
    });

    it('… and not through a write-back of 8 bytes: the line goes through its states in program order', () => {
      const m = system(false);
      store(m, C, 0x0000_2f47n, 4);
      store(m, C + 4, 0x0060_0008n, 4);
      expectSet(observable(m, C, 1).values, [[0n], [0x2f47n], [0x0060_0008_0000_2f47n]]);
    });

    it('a write-back granule of 4 bytes: each half of PoC holds any value the line had there', () => {
      const m = system(false, 4);
      store(m, C, 0x1111_1111_2222_2222n);
      store(m, C, 0x3333_3333_4444_4444n);
      // High half: 0, 0x1111_1111 or 0x3333_3333; low half: 0, 0x2222_2222 or 0x4444_4444 — independently,
      // since the line may be written back once (after the second store) half by half.
      const want: bigint[][] = [];
      for (const hi of [0n, 0x1111_1111n, 0x3333_3333n]) for (const lo of [0n, 0x2222_2222n, 0x4444_4444n]) want.push([(hi << 32n) | lo]);
      expectSet(observable(m, C, 1).values, want);
    });

    it('a value the granule returns to (A, B, A) is still seen with the stores ordered after it', () => {
      const m = system(false);
      store(m, N, 0xbn); // q0: 0 -> 0xb
      m.barrier('dma_wmb');
      store(m, N, 0n); // q0: 0xb -> 0 again
      store(m, N + 8, 0xdn); // q1: 0 -> 0xd, ordered after q0 = 0xb
      const s = observable(m, N, 2);
      // [0, 0xd] is the CPU's current value (q0 back to 0): it must be there, and first.
      assert.deepEqual(s.values[0], [0n, 0xdn]);
      expectSet(s.values, [[0n, 0n], [0xbn, 0n], [0xbn, 0xdn], [0n, 0xdn]]);
    });
  });

  describe('across the granules of an entry', () => {
    it('non-cacheable memory: a qword stored after a dma_wmb is not seen without the one before it', () => {
      const m = system(false);
      store(m, N, 0xa0n); // qword 0
      m.barrier('dma_wmb');
      store(m, N + 8, 0xb1n); // qword 1
      const s = observable(m, N, 2);
      expectSet(s.values, [[0n, 0n], [0xa0n, 0n], [0xa0n, 0xb1n]]);
      assert.ok(!set(s.values).includes('0x0 0xb1'), 'qword 1 new with qword 0 old is forbidden by the barrier');
      assert.deepEqual(s.values[0], [0xa0n, 0xb1n]);
    });

    it('… without the barrier, any combination', () => {
      const m = system(false);
      store(m, N, 0xa0n);
      store(m, N + 8, 0xb1n);
      expectSet(observable(m, N, 2).values, [[0n, 0n], [0xa0n, 0n], [0n, 0xb1n], [0xa0n, 0xb1n]]);
    });

    it('a coherent SMMU on cacheable memory is ordered by barriers the same way', () => {
      const m = system(true);
      store(m, C, 0xa0n);
      m.barrier('dma_wmb');
      store(m, C + 8, 0xb1n);
      expectSet(observable(m, C, 2).values, [[0n, 0n], [0xa0n, 0n], [0xa0n, 0xb1n]]);
    });

    it('a barrier orders every earlier store, not only the last one', () => {
      const m = system(false);
      store(m, N, 0xa0n);
      store(m, N + 8, 0xa1n);
      m.barrier('dma_wmb');
      store(m, N + 16, 0xa2n);
      const s = set(observable(m, N, 3).values);
      // Before the barrier: 4 combinations of qwords 0-1 with qword 2 old; after it only with both.
      assert.deepEqual(s, set([
        [0n, 0n, 0n], [0xa0n, 0n, 0n], [0n, 0xa1n, 0n], [0xa0n, 0xa1n, 0n], [0xa0n, 0xa1n, 0xa2n],
      ]));
    });

    it('a DSB completes the stores before it: they are no longer pending', () => {
      const m = system(false);
      store(m, N, 0xa0n);
      m.barrier('dsb');
      store(m, N + 8, 0xb1n);
      expectSet(observable(m, N, 2).values, [[0xa0n, 0n], [0xa0n, 0xb1n]]);
    });

    it('a cacheable line on a non-coherent SMMU has no order: a write-back may carry any qword first', () => {
      const m = system(false);
      store(m, C, 0xa0n);
      m.barrier('dma_wmb');
      store(m, C + 8, 0xb1n);
      const s = observable(m, C, 2);
      expectSet(s.values, [[0n, 0n], [0xa0n, 0n], [0n, 0xb1n], [0xa0n, 0xb1n]]);
      assert.deepEqual(s.values[0], [0n, 0n], 'this run\'s SMMU reads PoC');
      assert.deepEqual(s.oldest, [0n, 0n]);
      assert.deepEqual(s.newest, [0xa0n, 0xb1n]);
    });

    it('only a clean completed by a DSB removes the old values', () => {
      const m = system(false);
      store(m, C, 0xa0n);
      store(m, C + 8, 0xb1n);
      m.cmo('clean', C, 8); // only qword 0's line... which is qword 1's line too (64-byte lines)
      m.barrier('dsb');
      expectSet(observable(m, C, 2).values, [[0xa0n, 0xb1n]]);
      store(m, C + 64, 0xc0n);
      store(m, C + 72, 0xc1n);
      m.cmo('clean', C + 72, 8); // cleans the whole line C+64..C+127
      m.barrier('dma_wmb'); // orders, does not complete the clean
      assert.equal(observable(m, C + 64, 2).count, 4);
    });
  });

  describe('the bound', () => {
    /** Three qwords, each with one pending atomic store and no barrier: 2^3 = 8 values. */
    function eight(): MemorySystem {
      const m = system(false);
      store(m, N, 1n);
      store(m, N + 8, 2n);
      store(m, N + 16, 3n);
      return m;
    }

    it('all 8 values within a bound of 8', () => {
      const s = observable(eight(), N, 3, 8);
      assert.deepEqual([s.values.length, s.count, s.truncated], [8, 8, false]);
      expectSet(s.values, [0, 1, 2, 3, 4, 5, 6, 7].map((b) => [b & 1 ? 1n : 0n, b & 2 ? 2n : 0n, b & 4 ? 3n : 0n]));
    });

    it('a bound of 4: 4 values, marked truncated, count a lower bound above the bound', () => {
      const s = observable(eight(), N, 3, 4);
      assert.equal(s.values.length, 4);
      assert.equal(s.truncated, true);
      assert.ok(s.count > 4 && s.count <= 8, `count ${s.count}`);
      assert.deepEqual(s.values[0], [1n, 2n, 3n], 'the value this run\'s SMMU reads comes first even when cut');
      assert.equal(new Set(set(s.values)).size, 4, 'no value twice');
    });

    it('a bound of 7: one short, still truncated', () => {
      const s = observable(eight(), N, 3, 7);
      assert.deepEqual([s.values.length, s.truncated], [7, true]);
    });
  });
});
