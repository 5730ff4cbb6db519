/**
 * 2. Map at scale: 1 GiB in 4K pages through the io-pgtable model on a non-coherent SMMU
 * (every PTE store, table allocation, clean and barrier, as `smmu-debug run --no-check`
 * does it), then DMA translations spread over the whole range. The floor makes the same
 * stores into typed arrays and walks them with the minimal walker.
 */
import { Session } from '../src/debug/session';
import { Transaction } from '../src/model/smmu/types';
import { ArrayTables } from './floor';
import { Benchmark, BenchContext } from './harness';
import { compile, hexNum, mappedStage1, run } from './scenarios';

const IOVA = 0x4000_0000;
const PA = 0x8_0000_0000;

/** The i-th DMA address: pages visited in a scattered order, each several times over the run. */
const dmaAddress = (i: number, pages: number): number => IOVA + ((i * 7919) % pages) * 4096 + ((i * 8) % 4096);

export const mapScaleBench: Benchmark = {
  id: '2',
  title: 'Map at scale (stage 1, 4K pages, non-coherent SMMU)',
  async run(ctx: BenchContext) {
    const bytes = ctx.size(2 ** 30, 2 ** 24);
    const pages = bytes / 4096;
    const dmas = ctx.size(1_000_000, 20_000);
    const program = compile('map-scale.smmu', mappedStage1(IOVA, PA, bytes));
    const iovas = Array.from({ length: dmas }, (_, i) => dmaAddress(i, pages));
    const txs: Transaction[] = iovas.map((iova) => ({ sid: 5, iova: BigInt(iova), access: 'read', priv: false }));
    const split = { model: { map: [] as number[], dma: [] as number[] }, floor: { map: [] as number[], dma: [] as number[] } };
    let session: Session | undefined;
    let sink = 0;
    const row = await ctx.pair({
      label: `map ${bytes / 2 ** 20} MiB in 4K pages (${pages.toLocaleString('en')} PTEs), then ${dmas.toLocaleString('en')} DMA translations`,
      unit: 'ms',
      model: {
        run: () => {
          const t0 = ctx.now();
          session = run(program, false);
          const t1 = ctx.now();
          const m = session.runner.state.machine;
          for (const tx of txs) sink += m.dma(tx).pa ?? 0;
          split.model.map.push(t1 - t0);
          split.model.dma.push(ctx.now() - t1);
        },
        cleanup: () => { session = undefined; },
      },
      floor: {
        label: 'the same PTE stores into typed arrays, the minimal walker',
        run: () => {
          const t0 = ctx.now();
          const t = new ArrayTables(0x4000_0000);
          for (let i = 0; i < pages; i++) t.map(IOVA + i * 4096, PA + i * 4096, 0xf44);
          const t1 = ctx.now();
          for (const iova of iovas) sink += t.walk(iova);
          split.floor.map.push(t1 - t0);
          split.floor.dma.push(ctx.now() - t1);
        },
      },
      target: { on: 'ratio', cmp: '<=', limit: 3 },
    });
    // The parts of the same runs (warm-up runs come first: keep the measured ones).
    const reps = row.value!.runs.length;
    const last = (xs: number[]): number[] => xs.slice(xs.length - reps);
    ctx.value(`  of which: the map (${hexNum(bytes)} bytes)`, 'ms', last(split.model.map), { floor: { label: 'typed-array stores', xs: last(split.floor.map) } });
    ctx.value(`  of which: ${dmas.toLocaleString('en')} translations`, 'ms', last(split.model.dma), { floor: { label: 'minimal walker', xs: last(split.floor.dma) } });
    // The answers must agree, or the floor is not doing the same work.
    const check = run(program, false).runner.state.machine;
    const t = new ArrayTables(0x4000_0000);
    for (let i = 0; i < pages; i++) t.map(IOVA + i * 4096, PA + i * 4096, 0xf44);
    for (let i = 0; i < Math.min(dmas, 1000); i++) {
      const r = check.dma(txs[i]);
      if (r.pa !== t.walk(iovas[i]) || r.pa !== PA + (iovas[i] - IOVA)) throw new Error(`DMA to ${hexNum(iovas[i])}: model ${r.outcome} ${r.pa}, floor ${t.walk(iovas[i])}`);
    }
    ctx.note(`memory: ${check.mem.poc.pageCount.toLocaleString('en')} pages touched, ${check.mem.regions.all.length} regions; sink ${sink > 0 ? 'ok' : 'empty'}`);
  },
};
