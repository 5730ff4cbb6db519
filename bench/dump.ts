/**
 * 6. Dump: open a 1 GiB sparse ELF core and list all mappings of a stream. A marked slot
 * that prints no figure: the benchmark depends on the dump work and is to be filled in
 * with it.
 */
import { Benchmark, BenchContext } from './harness';

export const dumpBench: Benchmark = {
  id: '6',
  title: 'Dump (1 GiB sparse ELF core)',
  run(ctx: BenchContext) {
    const why = 'slot to be filled with the dump work (no figure measured here)';
    ctx.pending('open a 1 GiB sparse ELF core', why, { on: 'value', cmp: '<=', limit: 500 });
    ctx.pending('list all mappings of a stream', why);
    ctx.pending('memory growth while opening: proportional to the pages touched', why);
  },
};
