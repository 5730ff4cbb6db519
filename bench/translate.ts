/**
 * 1. Translation rate: DMA through the SMMU model (configuration cache, TLB, walker,
 * events) on a TLB hit and on a TLB miss (a full 4-level 4K walk), against a minimal walker
 * reading the same memory pages.
 */
import { Transaction } from '../src/model/smmu/types';
import { Benchmark, BenchContext } from './harness';
import { walkPages } from './floor';
import { compile, hexNum, mappedStage1, run } from './scenarios';

const IOVA = 0x1000_0000;
const PA = 0x8_0000_0000;

/** A mapped stage-1 stream and what the floor needs to walk the same tables. */
export function translationRig(pages: number) {
  const s = run(compile('translate.smmu', mappedStage1(IOVA, PA, pages * 4096)), false);
  const machine = s.runner.state.machine;
  const ttb = s.runner.state.kernel.domains.get('d1')!.pgd;
  const tx = (iova: number): Transaction => ({ sid: 5, iova: BigInt(iova), access: 'read', priv: false });
  /** The same answer from the model and the floor, or the benchmark would compare different work. */
  const verify = (iovas: readonly number[]): void => {
    for (const iova of iovas) {
      const r = machine.dma(tx(iova));
      const f = walkPages(machine.mem.poc, ttb, iova);
      if (r.outcome !== 'ok' || r.pa !== f || f !== PA + (iova - IOVA)) {
        throw new Error(`translation of ${hexNum(iova)}: model ${r.outcome} ${r.pa}, floor ${f}, expected ${PA + (iova - IOVA)}`);
      }
    }
  };
  return { machine, ttb, tx, verify };
}

export const translateBench: Benchmark = {
  id: '1',
  title: 'Translation rate (stage 1, 4K granule, 48-bit: 4-level walk)',
  async run(ctx: BenchContext) {
    const pages = ctx.size(16_384, 512);
    const { machine, ttb, tx, verify } = translationRig(pages);
    const mem = machine.mem.poc;

    // TLB hit: a few pages, translated over and over once the TLB holds them.
    const hotPages = 64;
    const hits = ctx.size(200_000, 20_000);
    const hot = Array.from({ length: hits }, (_, i) => IOVA + (i % hotPages) * 4096 + ((i * 8) % 4096));
    const hotTx = hot.map(tx);
    verify(hot.slice(0, hotPages));
    let sink = 0;
    await ctx.pair({
      label: `TLB hit: ${hits.toLocaleString('en')} translations over ${hotPages} pages`,
      unit: 'ops/s', work: hits,
      model: {
        prepare: () => { for (let i = 0; i < hotPages; i++) machine.dma(hotTx[i]); },
        run: () => { for (const t of hotTx) sink += machine.dma(t).pa!; },
      },
      floor: { label: 'minimal 4-level walker, no TLB', run: () => { for (const a of hot) sink += walkPages(mem, ttb, a); } },
      target: { on: 'ratio', cmp: '>=', limit: 0.5 },
    });

    // TLB miss: every page once, from an empty TLB (configuration stays cached).
    const cold = Array.from({ length: pages }, (_, i) => IOVA + i * 4096 + 0x10);
    const coldTx = cold.map(tx);
    verify(cold);
    await ctx.pair({
      label: `TLB miss: ${pages.toLocaleString('en')} translations, each a 4-level walk`,
      unit: 'ops/s', work: pages,
      model: {
        prepare: () => machine.smmu.tlb.clear(),
        run: () => { for (const t of coldTx) sink += machine.dma(t).pa!; },
      },
      floor: { label: 'minimal 4-level walker', run: () => { for (const a of cold) sink += walkPages(mem, ttb, a); } },
      target: { on: 'ratio', cmp: '>=', limit: 0.25 },
    });
    if (sink === 0.5) ctx.note('unreachable: keeps the results alive');
  },
};
