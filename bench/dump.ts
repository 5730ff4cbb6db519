/**
 * 6. Dump: open a 1 GiB sparse ELF core and list all mappings of a stream. The dump reader
 * is being written elsewhere; until it lands this is a marked slot that prints no figure.
 */
import { Benchmark, BenchContext } from './harness';

export const dumpBench: Benchmark = {
  id: '6',
  title: 'Dump (1 GiB sparse ELF core)',
  run(ctx: BenchContext) {
    const why = 'the dump reader is not in this tree yet; this slot is to be filled when it lands';
    ctx.pending('open a 1 GiB sparse ELF core', why, { on: 'value', cmp: '<=', limit: 500 });
    ctx.pending('list all mappings of a stream', why);
    ctx.pending('memory growth while opening: proportional to the pages touched', why);
  },
};
