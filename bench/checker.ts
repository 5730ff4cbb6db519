/**
 * 3. Checker overhead: the same runs with the hazard checker following them and without,
 * over the tutorial examples and over a scenario whose device keeps doing DMA (background
 * traffic) while its tables are mapped, unmapped and its STE changed.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSourceHost } from '../src/cli/runCommand';
import { Program } from '../src/scenario/program';
import { Benchmark, BenchContext } from './harness';
import { compile, hexNum, PLATFORM, run } from './scenarios';

const ROOT = join(__dirname, '..', '..');

/** A device reading three pages while its domain grows, shrinks and is replaced. */
export function trafficScenario(mapBytes: number): string {
  return `${PLATFORM}domain d1 stage=1 granule=4K ias=48
map d1 0x1000_0000 -> 0x8_0000_0000 size=2M pgsize=4K
attach 5 s1 d1 asid=1
traffic dev 5 read 0x1000_0000, 0x1008_0000, 0x101f_f000
map d1 0x1020_0000 -> 0x8_0020_0000 size=${hexNum(mapBytes)} pgsize=4K
unmap d1 0x1000_0000 size=1M pgsize=4K
domain d2 stage=1 granule=4K ias=48
map d2 0x1000_0000 -> 0x9_0000_0000 size=2M pgsize=4K
attach 5 s1 d2 asid=2
attach 5 bypass
attach 5 abort
stop dev
`;
}

function runAll(programs: readonly Program[], check: boolean): number {
  let hazards = 0;
  for (const p of programs) hazards += run(p, check).hazards.length;
  return hazards;
}

export const checkerBench: Benchmark = {
  id: '3',
  title: 'Checker overhead (hazard checking on vs off)',
  async run(ctx: BenchContext) {
    const dir = join(ROOT, 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.smmu')).sort();
    const examples = files.map((f) => {
      const path = join(dir, f);
      return compile(path, nodeSourceHost.read(path)!, nodeSourceHost);
    });
    let found = 0;
    await ctx.pair({
      label: `the ${examples.length} tutorial examples, each run to its end`,
      unit: 'ms',
      model: { run: () => { found = runAll(examples, true); } },
      floor: { label: 'the same runs, checker off', run: () => runAll(examples, false) },
      target: { on: 'ratio', cmp: '<=', limit: 2 },
    });
    ctx.note(`${found} hazards found in the examples`);

    const bytes = ctx.size(8 * 2 ** 20, 2 ** 20);
    const traffic = compile('traffic.smmu', trafficScenario(bytes));
    await ctx.pair({
      label: `background traffic (3 addresses) during a ${bytes / 2 ** 20} MiB map, an unmap and STE/CD changes`,
      unit: 'ms',
      model: { run: () => { found = runAll([traffic], true); } },
      floor: { label: 'the same run, checker off', run: () => runAll([traffic], false) },
      target: { on: 'ratio', cmp: '<=', limit: 2 },
    });
    ctx.note(`${found} hazards found with traffic; ${run(traffic, false).runner.ops.toLocaleString('en')} micro-operations`);
  },
};
