/** Platform statements: the machine and the SMMU the scenario runs on. They come first. */
import { Statement } from '../ast';
import { boolOption, CompileContext, constant, exprArg, listArg, wordArg } from '../compile-context';
import { define, StatementDef } from './def';
import { SmmuFeatures } from '../../model/smmu/features';
import { Granule } from '../../arch/field';

function beforeMachine(st: Statement, cx: CompileContext): boolean {
  if (cx.machineUsed) {
    cx.error(st.keywordRange, `'${st.keyword}' must come before the first statement that uses the machine: platform settings fix the machine before it starts`);
    return false;
  }
  return true;
}

const yesNo = { kind: 'bool' as const };

export const platform = define({
  keyword: 'platform', section: 'platform',
  summary: 'The machine: SMMU coherency, CPU cache line, write-back atomicity, memory model',
  doc: 'Whether the SMMU snoops the CPU caches is a property of the platform (firmware tells the kernel, and it may differ from IDR0.COHACC). ' +
    'A non-coherent SMMU reads only what has reached the Point of Coherency.',
  examples: ['platform coherent=no line=64 wb_granule=8 memory=weak'],
  params: [],
  options: {
    coherent: { ...yesNo, doc: 'the SMMU snoops the CPU caches (default no)' },
    line: { kind: 'expr', doc: 'CPU cache line size in bytes (default 64)' },
    wb_granule: { kind: 'expr', doc: 'bytes the hardware writes back atomically: 1, 2, 4 or 8 (default 8)' },
    memory: { kind: 'word', words: ['weak', 'ordered'], doc: 'the memory model the checker assumes (default weak: Arm)' },
    alloc_base: { kind: 'expr', doc: 'where automatic allocations start (default 0x4000_0000)' },
    kexec_cache: { kind: 'word', words: ['dirty', 'writeback'], doc: 'what kexec does with the CPU\'s dirty lines: keep them dirty (default, as arm64\'s kexec) or write them back' },
  },
  compile(st, cx) {
    if (!beforeMachine(st, cx)) return undefined;
    let memory = { ...cx.platform.memory };
    const coherent = boolOption(st, 'coherent');
    if (coherent !== undefined) memory = { ...memory, coherent };
    const line = exprArg(st, 'line');
    if (line) {
      const v = constant(cx, line, 'the cache line size', 16, 4096);
      if (v !== undefined && (v & (v - 1)) !== 0) cx.error(line.range, `the cache line size ${v} must be a power of two`);
      else if (v !== undefined) memory = { ...memory, lineSize: v };
    }
    const wb = exprArg(st, 'wb_granule');
    if (wb) {
      const v = constant(cx, wb, 'the write-back granule', 1, 8);
      if (v !== undefined && ![1, 2, 4, 8].includes(v)) cx.error(wb.range, `the write-back granule ${v} must be 1, 2, 4 or 8 bytes`);
      else if (v !== undefined) memory = { ...memory, writebackGranule: v as 1 | 2 | 4 | 8 };
    }
    const base = exprArg(st, 'alloc_base');
    let allocBase = cx.platform.allocBase;
    if (base) {
      const v = constant(cx, base, 'the allocation base', 0, 2 ** 52 - 1);
      if (v !== undefined) allocBase = v;
    }
    const kexecCache = wordArg(st, 'kexec_cache') as 'dirty' | 'writeback' | undefined;
    cx.platform = { ...cx.platform, memory, allocBase, ...(kexecCache ? { kexecCache } : {}) };
    if (wordArg(st, 'memory') === 'ordered') cx.memoryModel = 'ordered';
    return undefined;
  },
});

type FeatureSetter = (f: SmmuFeatures, st: Statement, cx: CompileContext) => SmmuFeatures;

const flag = (key: keyof SmmuFeatures): FeatureSetter => (f, st) => {
  const v = boolOption(st, key.toLowerCase());
  return v === undefined ? f : { ...f, [key]: v };
};

const OPTIONS: Record<string, { doc: string; kind: 'bool' | 'expr' | 'word' | 'list'; words?: string[]; set: FeatureSetter }> = {
  stages: {
    kind: 'list', doc: 'translation stages implemented: 1, 2 or 1,2 (default 1,2)',
    set: (f, st, cx) => {
      const items = listArg(st, 'stages') ?? [];
      const vals = items.map((e) => constant(cx, e, 'a stage', 1, 2));
      return { ...f, stage1: vals.includes(1), stage2: vals.includes(2) };
    },
  },
  oas: {
    kind: 'expr', doc: 'output address size in bits: 32, 36, 40, 42, 44, 48 or 52 (default 48)',
    set: (f, st, cx) => {
      const v = constant(cx, exprArg(st, 'oas')!, 'OAS', 32, 52);
      if (v !== undefined && ![32, 36, 40, 42, 44, 48, 52].includes(v)) {
        cx.error(exprArg(st, 'oas')!.range, `OAS ${v} is not an SMMU output size; expected 32, 36, 40, 42, 44, 48 or 52`);
        return f;
      }
      return v === undefined ? f : { ...f, oasBits: v };
    },
  },
  sidsize: { kind: 'expr', doc: 'StreamID bits (IDR1.SIDSIZE, default 16)', set: (f, st, cx) => ({ ...f, sidBits: constant(cx, exprArg(st, 'sidsize')!, 'SIDSIZE', 0, 32) ?? f.sidBits }) },
  ssidsize: { kind: 'expr', doc: 'SubstreamID bits (IDR1.SSIDSIZE, default 20)', set: (f, st, cx) => ({ ...f, ssidBits: constant(cx, exprArg(st, 'ssidsize')!, 'SSIDSIZE', 0, 20) ?? f.ssidBits }) },
  granules: {
    kind: 'list', doc: 'translation granules: any of 4K, 16K, 64K (default all)',
    set: (f, st, cx) => {
      const g: Granule[] = [];
      for (const e of listArg(st, 'granules') ?? []) {
        const v = constant(cx, e, 'a granule', 4096, 65536);
        if (v === 4096 || v === 16384 || v === 65536) g.push((v / 1024) as Granule);
        else if (v !== undefined) cx.error(e.range, `granule ${v} is not 4K, 16K or 64K`);
      }
      return { ...f, granules: g };
    },
  },
  strtab_2lvl: { kind: 'bool', doc: '2-level stream tables supported (IDR0.ST_LEVEL)', set: (f, st) => ({ ...f, twoLevelStreamTable: boolOption(st, 'strtab_2lvl') ?? f.twoLevelStreamTable }) },
  cd2l: { kind: 'bool', doc: '2-level CD tables supported (IDR0.CD2L)', set: (f, st) => ({ ...f, twoLevelCdTable: boolOption(st, 'cd2l') ?? f.twoLevelCdTable }) },
  ril: { kind: 'bool', doc: 'range invalidation (IDR3.RIL)', set: (f, st) => ({ ...f, rangeInvalidation: boolOption(st, 'ril') ?? f.rangeInvalidation }) },
  attr_types_ovr: { kind: 'bool', doc: 'STE attribute overrides (IDR1.ATTR_TYPES_OVR)', set: (f, st) => ({ ...f, attrTypesOverride: boolOption(st, 'attr_types_ovr') ?? f.attrTypesOverride }) },
  stall: {
    kind: 'word', words: ['both', 'none', 'force'], doc: 'stall model: both (stall and terminate), none (terminate only), force (IDR0.STALL_MODEL)',
    set: (f, st) => ({ ...f, stallModel: ({ both: 0, none: 1, force: 2 } as const)[wordArg(st, 'stall') as 'both' | 'none' | 'force'] }),
  },
  httu: {
    kind: 'word', words: ['none', 'a', 'ad'], doc: 'hardware update of Access flag (a) and dirty state (ad) (IDR0.HTTU)',
    set: (f, st) => ({ ...f, httu: ({ none: 0, a: 1, ad: 2 } as const)[wordArg(st, 'httu') as 'none' | 'a' | 'ad'] }),
  },
  bbml: { kind: 'expr', doc: 'break-before-make level 0, 1 or 2 (IDR3.BBML)', set: (f, st, cx) => ({ ...f, bbml: (constant(cx, exprArg(st, 'bbml')!, 'BBML', 0, 2) ?? f.bbml) as 0 | 1 | 2 }) },
  cmdqs: { kind: 'expr', doc: 'largest command queue, log2 entries (IDR1.CMDQS)', set: (f, st, cx) => ({ ...f, cmdqs: constant(cx, exprArg(st, 'cmdqs')!, 'CMDQS', 0, 19) ?? f.cmdqs }) },
  eventqs: { kind: 'expr', doc: 'largest event queue, log2 entries (IDR1.EVENTQS)', set: (f, st, cx) => ({ ...f, eventqs: constant(cx, exprArg(st, 'eventqs')!, 'EVENTQS', 0, 19) ?? f.eventqs }) },
  asid16: { kind: 'bool', doc: '16-bit ASIDs (IDR0.ASID16)', set: flag('asid16') },
  vmid16: { kind: 'bool', doc: '16-bit VMIDs (IDR0.VMID16)', set: flag('vmid16') },
  ats: { kind: 'bool', doc: 'PCIe ATS (IDR0.ATS)', set: flag('ats') },
  pri: { kind: 'bool', doc: 'PCIe PRI (IDR0.PRI)', set: flag('pri') },
  msi: { kind: 'bool', doc: 'MSIs, including CMD_SYNC completion by MSI (IDR0.MSI)', set: flag('msi') },
  sev: { kind: 'bool', doc: 'WFE wake-up events (IDR0.SEV)', set: flag('sev') },
  hyp: { kind: 'bool', doc: 'EL2 StreamWorld (IDR0.Hyp)', set: flag('hyp') },
  cohacc: { kind: 'bool', doc: 'IDR0.COHACC as reported (the platform\'s `coherent` is what the model uses)', set: flag('cohacc') },
  fwb: { kind: 'bool', doc: 'STE.S2FWB (IDR3.FWB)', set: flag('fwb') },
  vax: { kind: 'bool', doc: '52-bit VAs (IDR5.VAX)', set: flag('vax') },
  stt: { kind: 'bool', doc: 'small translation tables (IDR3.STT)', set: flag('stt') },
};

export const smmu: StatementDef = define({
  keyword: 'smmu', section: 'platform',
  summary: 'SMMU features, as the ID registers report them',
  examples: ['smmu stages=1,2 oas=48 sidsize=16 ssidsize=20 granules=4K,64K ril=yes', 'smmu stall=none httu=none'],
  params: [],
  options: Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, { kind: o.kind, words: o.words, doc: o.doc }])),
  compile(st, cx) {
    if (!beforeMachine(st, cx)) return undefined;
    let f = cx.platform.features;
    for (const [k, o] of Object.entries(OPTIONS)) if (st.options.has(k)) f = o.set(f, st, cx);
    cx.platform = { ...cx.platform, features: f };
    return undefined;
  },
});
