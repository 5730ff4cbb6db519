/**
 * 4. Entry-writer analysis: every transition between the builders' STE configurations,
 * written by the kernel's entry writer on the machine, with the set of values the SMMU
 * could observe after each store judged in the bits each value uses (the kernel test's
 * criterion: each must match the old or the new STE, or be invalid). The floor plans the
 * same update and enumerates the same mixes of old and new qwords in plain arrays.
 */
import { abortSte, bypassSte, cdTableSte, CdTableSteOptions, nestedSte, s2Ste, S2SteOptions } from '../src/driver/builders';
import { planUpdate, planUsedBits, STE_KIND, writeEntry } from '../src/driver/entryWriter';
import { executeOp } from '../src/driver/exec';
import { Action } from '../src/driver/ops';
import { observable } from '../src/check/observable';
import { DEFAULT_PLATFORM, Machine } from '../src/model/machine';
import { Benchmark, BenchContext } from './harness';

const STE_ADDR = 0x4000_0040;

const S1: CdTableSteOptions = {
  cdTable: 0x4800_f000, s1fmt: 0, s1cdmax: 4, s1dss: 'ssid0', ats: true, stallsSupported: true, masterStalls: false, e2h: false, attrTypesOvr: true,
};
const S2: S2SteOptions = {
  vmid: 0, vtcr: { tsz: 24, sl0: 1, irgn: 1, orgn: 1, sh: 3, tg: 0, ps: 2 }, vttbr: 0x8100_0000, ats: true, fwb: false, attrTypesOvr: true, stallEnabled: false,
};

/** The configurations the driver's builders make, as the kernel's KUnit transitions use them. */
export function builderStes(): { name: string; words: bigint[] }[] {
  const s2 = s2Ste(S2);
  return [
    { name: 'abort', words: abortSte() },
    { name: 'bypass', words: bypassSte({ attrTypesOvr: true }) },
    { name: 'bypass (no SHCFG)', words: bypassSte({ attrTypesOvr: false }) },
    { name: 's1', words: cdTableSte(S1) },
    { name: 's1 S1DSS=BYPASS', words: cdTableSte({ ...S1, s1dss: 'bypass' }) },
    { name: 's1 other CD table', words: cdTableSte({ ...S1, cdTable: 0x4801_0000 }) },
    { name: 's1 no ATS', words: cdTableSte({ ...S1, ats: false }) },
    { name: 's1 2-level CD table', words: cdTableSte({ ...S1, s1fmt: 2, s1cdmax: 16, s1dss: 'terminate' }) },
    { name: 's1 stalling master', words: cdTableSte({ ...S1, masterStalls: true, ats: false }) },
    { name: 's1 EL2 (E2H)', words: cdTableSte({ ...S1, e2h: true, ats: false }) },
    { name: 's2', words: s2 },
    { name: 's2 no ATS', words: s2Ste({ ...S2, ats: false }) },
    { name: 's2 VMID 1', words: s2Ste({ ...S2, vmid: 1 }) },
    { name: 's2 VMID 1 other table', words: s2Ste({ ...S2, vmid: 1, vttbr: 0x8200_0000 }) },
    { name: 's2 stalling master', words: s2Ste({ ...S2, vmid: 2, stallEnabled: true, ats: false }) },
    { name: 'nested S1DSS=BYPASS', words: nestedSte({ vste: [0x9000_000bn, 0x1000_00d5n], s2 }) },
    { name: 'nested S1DSS=SSID0', words: nestedSte({ vste: [0x9000_000bn, 0x1800_00d6n], s2 }) },
  ];
}

/** What judging a transition found: distinct values the SMMU could read, and those that are torn. */
export interface Judged {
  readonly values: Set<string>;
  torn: number;
  invalid: number;
}

/**
 * The kernel test's criterion for one value the SMMU could read: in the bits it uses,
 * less the update-safe bits of the transition (MEV, EATS=TRANS), it matches one end.
 */
function judge(v: readonly bigint[], cur: readonly bigint[], target: readonly bigint[], out: Judged): void {
  const key = v.join(',');
  if (out.values.has(key)) return;
  out.values.add(key);
  if ((v[0] & 1n) === 0n) {
    out.invalid++;
    return;
  }
  const safe = STE_KIND.updateSafe!(cur, target);
  const used = planUsedBits('ste', v).map((u, i) => u & ~safe[i]);
  const differs = (x: readonly bigint[]): boolean => used.some((u, i) => ((v[i] ^ x[i]) & u) !== 0n);
  if (differs(cur) && differs(target)) out.torn++;
}

/** A machine with the current STE in non-coherent (dma_alloc_coherent) memory, settled. */
function machineWith(cur: readonly bigint[]): Machine {
  const m = Machine.create(DEFAULT_PLATFORM);
  m.alloc('strtab', 0x1000, 'noncacheable', 'bench', { base: STE_ADDR - 0x40 });
  cur.forEach((w, i) => m.store(STE_ADDR + 8 * i, 8, w));
  m.barrier('dsb');
  return m;
}

/** The model: the writer's micro-operations on the machine, the observable set after each store. */
export function analyseOnMachine(base: Machine, cur: readonly bigint[], target: readonly bigint[]): Judged {
  const m = base.snapshot();
  const out: Judged = { values: new Set(), torn: 0, invalid: 0 };
  const gen: Action<unknown> = writeEntry(STE_KIND, STE_ADDR, target, {
    read: (a) => m.load(a, 8),
    // CFGI_STE + CMD_SYNC: the SMMU has seen every earlier store once the sync completes.
    *sync() {
      yield { op: 'barrier', kind: 'dsb' };
    },
  });
  for (let n = gen.next(); !n.done; n = gen.next(executeOp(m, n.value))) {
    if (n.value.op !== 'store') continue;
    executeOp(m, n.value);
    for (const v of observable(m.mem, STE_ADDR, 8).values) judge(v, cur, target, out);
  }
  return out;
}

/** The floor: the plan, and every mix of the old and new qwords of each step, in arrays. */
export function analyseInArrays(cur: readonly bigint[], target: readonly bigint[]): Judged {
  const out: Judged = { values: new Set(), torn: 0, invalid: 0 };
  let state = [...cur];
  for (const step of planUpdate(STE_KIND, cur, target).steps) {
    const qs = step.qwords;
    for (let mask = 0; mask < 1 << qs.length; mask++) {
      const v = [...state];
      qs.forEach((q, i) => { if (mask & (1 << i)) v[q] = step.words[q]; });
      judge(v, cur, target, out);
    }
    state = [...step.words];
  }
  return out;
}

export const entryWriterBench: Benchmark = {
  id: '4',
  title: 'Entry-writer analysis (every transition between the builders\' STEs)',
  async run(ctx: BenchContext) {
    const stes = builderStes();
    const pairs = stes.flatMap((a) => stes.map((b) => ({ cur: a.words, target: b.words, name: `${a.name} → ${b.name}` })));
    const bases = new Map(stes.map((s) => [s.words, machineWith(s.words)]));
    // Both must find the same values, or they are not doing the same analysis.
    let torn = 0;
    for (const p of pairs) {
      const a = analyseOnMachine(bases.get(p.cur)!, p.cur, p.target);
      const b = analyseInArrays(p.cur, p.target);
      if (a.values.size !== b.values.size || [...a.values].some((v) => !b.values.has(v)) || a.torn !== b.torn) {
        throw new Error(`${p.name}: the machine found ${a.values.size} values (${a.torn} torn), the arrays ${b.values.size} (${b.torn} torn)`);
      }
      torn += a.torn;
    }
    const row = await ctx.pair({
      label: `${pairs.length} transitions between ${stes.length} STE configurations`,
      unit: 'ops/s', work: pairs.length,
      model: { run: () => { for (const p of pairs) analyseOnMachine(bases.get(p.cur)!, p.cur, p.target); } },
      floor: { label: 'the plan and the mixes of its qwords in arrays', run: () => { for (const p of pairs) analyseInArrays(p.cur, p.target); } },
    });
    ctx.note(`${(1e6 / row.value!.median).toFixed(0)} µs per transition on the machine, ${(1e6 / row.floor!.value.median).toFixed(0)} µs in arrays; ` +
      `${torn} torn values found (the writer is meant to leave none)`);
  },
};
