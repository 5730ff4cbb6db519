/**
 * The walk picture's data (smmu/walk) and the cache-line data (smmu/cacheLines), asked of
 * an adapter running in this process, stopped in a scenario whose state is known by hand.
 */
import { strict as assert } from 'node:assert';
import type { WalkPictures } from '../../src/debug/pictures';
import { InProcessDap, memoryHost } from '../helpers/inProcessDap';

// Lines are numbered for the breakpoint below.
const STALE_TLB = [
  'platform coherent=yes', //                                   1
  'smmu stages=1,2 sidsize=16 ril=no', //                       2
  'smmu init', //                                               3
  'domain d1 stage=1', //                                       4
  'map d1 0x1000_0000 -> 0x8_0000_0000 size=8K', //             5
  'attach 5 s1 d1 asid=1', //                                   6
  'expect dma 5 read 0x1000_1010 -> 0x8_0000_1010', //          7: the SMMU caches page 1
  'unmap d1 0x1000_1000 noflush', //                            8: no TLBI
  'expect dma 5 read 0x1000_1010 -> 0x8_0000_1010', //          9: the stale TLB entry still hits
].join('\n');

describe('debug/pictures: walk and cache-line data for the extension', () => {
  let dap: InProcessDap;
  afterEach(() => dap?.close());

  async function stopAt(text: string, line: number, extra: Record<string, unknown> = {}): Promise<InProcessDap> {
    dap = new InProcessDap(memoryHost({ 's.smmu': text }));
    // The checker is off so that hazards do not stop the run before the breakpoint.
    const stop = await dap.launch({ program: 's.smmu', stopOnEntry: false, check: false, ...extra }, [line]);
    assert.equal(stop.body.reason, 'breakpoint');
    return dap;
  }

  it('draws the whole path of a mapped address, fetched afresh: L1STD, STE, CD and four stage-1 levels', async () => {
    await stopAt(STALE_TLB, 9);
    const p = (await dap.customRequest('smmu/walk', { sid: 5, iova: '0x1000_0010' })) as WalkPictures;
    // 2-level stream table (SIDSIZE 16 > the split), one linear CD, T0SZ=16 with 4K pages:
    // the walk starts at level 0 (48-bit input, 9 bits per level + 12 page bits).
    assert.deepEqual(p.fresh.boxes.map((b) => b.kind), ['L1STD', 'STE', 'CD', 'S1 L0', 'S1 L1', 'S1 L2', 'S1 L3']);
    assert.ok(p.fresh.boxes.every((b) => b.source === 'memory'));
    assert.equal(p.fresh.outcome, 'translated → 0x800000010');
    assert.match(p.fresh.boxes[1].summary, /stage-1/i);
    assert.equal(p.fresh.transaction, 'read SID 0x5 IOVA 0x10000010');
    assert.equal(p.differ, false);
  });

  it('shows a stale TLB entry: now it still translates, fetched afresh it faults', async () => {
    await stopAt(STALE_TLB, 9);
    const p = (await dap.customRequest('smmu/walk', { sid: '0x5', iova: 0x10001010, access: 'read' })) as WalkPictures;
    assert.equal(p.now.outcome, 'translated → 0x800001010');
    assert.ok(p.now.boxes.some((b) => b.kind === 'TLB' && b.source === 'TLB'));
    assert.match(p.fresh.outcome, /^F_TRANSLATION/);
    // The fresh walk ends at the cleared level-3 entry.
    const leaf = p.fresh.boxes[p.fresh.boxes.length - 1];
    assert.equal(leaf.kind, 'S1 L3');
    assert.deepEqual(leaf.words, ['0x0000000000000000']);
    assert.equal(p.differ, true);
  });

  it('reports cached configuration as from the configuration cache', async () => {
    await stopAt(STALE_TLB, 9);
    // Page 0 was never used: no TLB entry, but the STE and CD are cached from the first DMA.
    const p = (await dap.customRequest('smmu/walk', { sid: 5, iova: '0x10000010' })) as WalkPictures;
    const sources = Object.fromEntries(p.now.boxes.filter((b) => b.kind === 'STE' || b.kind === 'CD').map((b) => [b.kind, b.source]));
    assert.deepEqual(sources, { STE: 'config cache', CD: 'config cache' });
    assert.equal(p.now.outcome, 'translated → 0x800000010');
  });

  it('answers a bad transaction with an error, and keeps serving', async () => {
    await stopAt(STALE_TLB, 9);
    await assert.rejects(dap.customRequest('smmu/walk', { sid: 'zz', iova: 0 }), /sid 'zz' is not a number/);
    await assert.rejects(dap.customRequest('smmu/walk', { sid: 5 }), /needs 'iova'/);
    await assert.rejects(dap.customRequest('smmu/walk', { sid: 5, iova: 0, access: 'jump' }), /access 'jump' must be one of read, write, exec/);
    await assert.rejects(dap.customRequest('smmu/walk', { sid: 5, ssid: 1 << 20, iova: 0 }), /wider than 20 bits/);
    const p = (await dap.customRequest('smmu/walk', { sid: 6, iova: 0 })) as WalkPictures;
    // StreamID 6 has its abort STE from the L2 table the attach of 5 allocated.
    assert.match(p.fresh.outcome, /^abort/);
  });

  it('marks each entry preserved or not once the scenario preserves memory for a live update', async () => {
    const text = [
      'platform coherent=yes', //                       1
      'smmu stages=1,2 sidsize=16', //                  2
      'smmu init', //                                   3
      'domain g1 stage=2', //                           4
      'map g1 0x4000_0000 -> 0x9_0000_0000 size=4K', // 5
      'attach 9 s2 g1', //                              6
      'kho preserve smmu', //                           7: the stream tables and queues, not g1's page tables
      'expect dma 9 read 0x4000_0010 -> 0x9_0000_0010', // 8
    ].join('\n');
    await stopAt(text, 8);
    const p = (await dap.customRequest('smmu/walk', { sid: 9, iova: '0x4000_0010' })) as WalkPictures;
    const state = (b: { states: readonly string[] }): string | undefined => b.states.find((x) => x === 'preserved' || x === 'unpreserved');
    // L1STD and STE live in the driver's stream tables (preserved); the stage-2 tables of g1 do not.
    assert.deepEqual(p.fresh.boxes.map((b) => `${b.kind} ${state(b)}`),
      ['L1STD preserved', 'STE preserved', 'S2 L0 unpreserved', 'S2 L1 unpreserved', 'S2 L2 unpreserved', 'S2 L3 unpreserved']);
  });

  it('lists dirty CPU cache lines with their CPU and PoC bytes', async () => {
    const text = [
      'platform coherent=no',
      'smmu stages=1,2 sidsize=16',
      'smmu init',
      'domain d1 stage=1',
      'map d1 0x1000_0000 -> 0x8_0000_0000 size=4K',
      'attach 5 s1 d1 cd_mem=cacheable cd_clean=no',
      'expect cd 5:0 V == 1',
    ].join('\n');
    await stopAt(text, 7);
    const cd = (await dap.customRequest('evaluate', { expression: 'cd[5][0]', context: 'watch' })) as { memoryReference: string };
    const cdAddr = Number(cd.memoryReference.split(':')[1]);
    const { lines } = (await dap.customRequest('smmu/cacheLines')) as { lines: { base: string; cpu: number[]; poc: number[]; dirty: number[] }[] };
    const line = lines.find((l) => Number(l.base) <= cdAddr && cdAddr < Number(l.base) + l.cpu.length);
    assert.ok(line, `no dirty line holds the CD at ${cd.memoryReference}: ${lines.map((l) => l.base).join(', ')}`);
    const off = cdAddr - Number(line.base);
    // CD qword 0 as example 03 works it out: 0x0001_e205_c000_2010 (T0SZ 16, TG0 4K, IR0/OR0
    // WB, SH0 inner, EPD1, V, AA64, ASET, ASID 1), little-endian in memory; PoC still zero.
    assert.deepEqual(line.cpu.slice(off, off + 8), [0x10, 0x20, 0x00, 0xc0, 0x05, 0xe2, 0x01, 0x00]);
    assert.deepEqual(line.poc.slice(off, off + 8), [0, 0, 0, 0, 0, 0, 0, 0]);
    for (let i = 0; i < 8; i++) assert.ok(line.dirty.includes(off + i), `byte ${i} of CD qword 0 is dirty`);
  });

  it('pages the dirty lines: at most 256 at a time, with their total', async () => {
    // One CPU store to each 64-byte line of 40 KiB of cacheable memory, never cleaned: 640 dirty lines.
    const stores = Array.from({ length: 640 }, (_, i) => `store buf + ${i * 64} 0x${(i + 1).toString(16)}`);
    const text = ['platform coherent=no', 'alloc buf 40K cacheable', ...stores, 'const X = 1'].join('\n');
    await stopAt(text, 643);
    type Page = { lines: { base: string; dirty: number[] }[]; total: number };
    const first = (await dap.customRequest('smmu/cacheLines')) as Page;
    assert.equal(first.total, 640);
    assert.equal(first.lines.length, 256, 'a page unless fewer are asked for');
    const last = (await dap.customRequest('smmu/cacheLines', { start: 600, count: 100 })) as Page;
    assert.equal(last.lines.length, 40);
    // Lines ascend by address, 64 bytes apart, each wholly dirty.
    assert.equal(Number(last.lines[39].base) - Number(first.lines[0].base), 639 * 64);
    // Each line holds one 8-byte store: its first eight bytes are dirty.
    assert.ok(last.lines.every((l) => l.dirty.join() === '0,1,2,3,4,5,6,7'));
    await assert.rejects(dap.customRequest('smmu/cacheLines', { start: -1 }), /start must be a whole number/);
    await assert.rejects(dap.customRequest('smmu/cacheLines', { count: 'x' }), /count must be a whole number ≥ 0/);
  });
});
