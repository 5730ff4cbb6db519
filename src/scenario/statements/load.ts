/**
 * `load`: start a scenario from a real machine's state — a memory dump and the SMMU's
 * registers. The dump's memory lies under the machine's (the scenario's stores go on top,
 * the file is never written), its registers go into the SMMU, and the ID registers decide
 * the SMMU's features; so `load` comes before any statement that uses the machine.
 */
import { applyDump, Dump, dumpPlatform, openDump } from '../../dump/load';
import { dumpRegisters, registerEntry } from '../../dump/registers';
import { DumpError } from '../../dump/source';
import { Statement } from '../ast';
import { arg, CompileContext, evaluate, exprArg } from '../compile-context';
import { ScenarioError } from '../diagnostics';
import { Env } from '../expr';
import { Compiled, define } from './def';

/** The registers `load` takes, as options (lower case). */
const REGISTER_OPTIONS = [
  'STRTAB_BASE', 'STRTAB_BASE_CFG', 'CR0', 'CR1', 'CR2', 'GBPA', 'IRQ_CTRL', 'IDR0', 'IDR1', 'IDR3', 'IDR5',
  'CMDQ_BASE', 'CMDQ_PROD', 'CMDQ_CONS', 'EVENTQ_BASE', 'EVENTQ_PROD', 'EVENTQ_CONS', 'PRIQ_BASE', 'PRIQ_PROD', 'PRIQ_CONS',
  'GERROR', 'GERRORN',
];

/** Register values must be known when compiling: plain numbers, no names. */
const NO_NAMES: Env = { constant: () => undefined, region: () => undefined, domain: () => undefined, fn: () => undefined, names: () => [] };

function stringArg(st: Statement, name: string): string | undefined {
  const a = arg(st, name);
  return a?.value.kind === 'string' ? a.value.text : undefined;
}

function registers(st: Statement, cx: CompileContext): Map<string, bigint> | undefined {
  const out = new Map<string, bigint>();
  let ok = true;
  for (const name of REGISTER_OPTIONS) {
    const e = exprArg(st, name.toLowerCase());
    if (!e) continue;
    try {
      out.set(...registerEntry(name, evaluate(e, NO_NAMES)));
    } catch (err) {
      if (!(err instanceof ScenarioError) && !(err instanceof DumpError)) throw err;
      cx.error(e.range, `${name}: ${err.message}; a register value here is a number known before the scenario runs`);
      ok = false;
    }
  }
  return ok ? out : undefined;
}

/** Open the dump the statement names, reporting what is wrong at the argument that names it. */
function open(st: Statement, cx: CompileContext): Dump | undefined {
  const core = stringArg(st, 'core');
  const raw = stringArg(st, 'raw');
  if (core === undefined && raw === undefined) {
    cx.error(st.keywordRange, 'load needs a dump: core="FILE" (an ELF core) or raw="FILE@BASE ..." (raw images at their physical bases)');
    return undefined;
  }
  const host = cx.host;
  if (!host?.readBinary) {
    cx.error(st.keywordRange, 'loading a dump needs access to files, which this host does not give');
    return undefined;
  }
  const regs = registers(st, cx);
  if (!regs) return undefined;
  let where = st.keywordRange;
  const opener = (path: string) => {
    const target = host.resolve(cx.file, path);
    const denied = host.allowed?.(target);
    if (denied) throw new DumpError(`cannot load "${path}": ${denied}`);
    const src = host.readBinary!(target);
    if (!src) throw new DumpError(`cannot open "${path}" (resolved to ${target}); the path is relative to this file`);
    return src;
  };
  try {
    where = arg(st, core !== undefined ? 'core' : 'raw')!.range;
    const rawList = raw?.split(/[\s,]+/).filter((x) => x !== '');
    const dump = openDump({ core: core !== undefined ? [core] : [], raw: rawList, registers: regs }, opener, cx.platform.features);
    return dump;
  } catch (err) {
    if (!(err instanceof DumpError)) throw err;
    cx.error(/^missing /.test(err.message) ? st.keywordRange : where, err.message);
    return undefined;
  }
}

/** The statement checked without its dump: a file named, and the registers the dump would need. */
function checkArguments(st: Statement, cx: CompileContext): Compiled | undefined {
  cx.machineUsed = true;
  if (stringArg(st, 'core') === undefined && stringArg(st, 'raw') === undefined) {
    open(st, cx); // says a dump must be named
    return undefined;
  }
  const regs = registers(st, cx);
  if (!regs) return undefined;
  try {
    cx.platform = { ...cx.platform, features: dumpRegisters(regs, cx.platform.features).features };
  } catch (err) {
    if (!(err instanceof DumpError)) throw err;
    cx.error(st.keywordRange, err.message);
    return undefined;
  }
  return { action: 'load', *run() { yield { op: 'note', text: 'the dump was not opened: this host only checks the scenario' }; } };
}

export const load = define({
  keyword: 'load', section: 'platform',
  summary: 'Start from a memory dump (an ELF core or raw images) and the SMMU registers it was taken with',
  doc: 'The dump\'s memory lies under the machine\'s: the scenario reads it and its stores go on top; the file is never written. ' +
    'The registers go into the SMMU as they were (STRTAB_BASE and STRTAB_BASE_CFG are required; CR0 defaults to SMMUEN, with ' +
    'CMDQEN/EVENTQEN when their bases are given; the ID registers, when given, decide the SMMU\'s features). Paths are relative to ' +
    'this file. Automatic allocations are placed above the dump\'s memory.',
  examples: [
    'load core="vmcore" strtab_base=0x4800_0000 strtab_base_cfg=0x10210',
    'load raw="ram.bin@0x4000_0000" strtab_base=0x4800_0000 strtab_base_cfg=0x10210 cr0=0x5 idr0=0x084c_301b',
  ],
  params: [],
  options: {
    core: { kind: 'string', doc: 'a core file: ELF64 (kdump vmcore, QEMU dump-guest-memory) or kdump-compressed (makedumpfile, QEMU dump-guest-memory -z/-l/-s), flattened or not' },
    raw: { kind: 'string', doc: 'raw images as FILE@BASE, several separated by spaces' },
    ...Object.fromEntries(REGISTER_OPTIONS.map((r) => [r.toLowerCase(), { kind: 'expr' as const, doc: `SMMU_${r} as it was` }])),
  },
  compile(st, cx) {
    if (cx.machineUsed) {
      cx.error(st.keywordRange, '\'load\' must come before the first statement that uses the machine: the dump is where the machine starts');
      return undefined;
    }
    if (cx.host?.checkOnly && !cx.host.readBinary) {
      // The editor's checking in a host that reads dumps only when a run starts (the browser): the arguments, not the file.
      return checkArguments(st, cx);
    }
    const dump = open(st, cx);
    cx.machineUsed = true;
    if (!dump) return undefined;
    cx.platform = dumpPlatform(dump, cx.platform);
    return {
      action: 'load',
      *run(c) {
        applyDump(c.machine, dump, c.kernel);
        // Listed when run, not when compiled: a kdump's ranges come from its whole bitmap.
        yield { op: 'note', text: `loaded ${dump.memory.ranges()} and the SMMU registers from the dump` };
      },
    };
  },
});
