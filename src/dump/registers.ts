/**
 * The SMMU's registers at the time of a dump. Memory alone does not say where the stream
 * table is: STRTAB_BASE and STRTAB_BASE_CFG must be given (read with devmem, a debugger, or
 * from the driver's structures). The rest has defaults where the architecture allows one:
 * CR0 says the SMMU was enabled (with the queues whose bases are given), the ID registers
 * describe the platform's default SMMU (with room for the stream table's StreamIDs), every
 * other register is zero.
 *
 * Values are given as `NAME=HEX` (the `SMMU_` prefix and the kernel's `EVTQ_` spelling are
 * accepted) and decoded through the register tables; the ID registers become the model's
 * features, so translation follows what the real SMMU implements.
 */
import { decode } from '../arch/codec';
import { didYouMean } from '../arch/suggest';
import { checkStreamTable, contextFromIdRegs, IDR3, OAS_BITS, registerByName, REGISTERS, STRTAB_BASE_CFG } from '../arch/registers';
import { Granule } from '../arch/field';
import { archContext, DEFAULT_FEATURES, featureProblems, idRegisters, SmmuFeatures } from '../model/smmu/features';
import { DumpError, hex, parseHex } from './source';

export interface DumpRegisters {
  /** Values to put in the SMMU, by architecture name: the ones given and CR0's default. */
  readonly values: ReadonlyMap<string, bigint>;
  /** The names given (not defaulted). */
  readonly given: ReadonlySet<string>;
  /** What the ID registers say the SMMU implements. */
  readonly features: SmmuFeatures;
  /** Things worth knowing that do not stop the inspection (unusual values, defaults taken). */
  readonly notes: readonly string[];
}

/** Registers that follow others and cannot be given. */
const DERIVED: Readonly<Record<string, string>> = { CR0ACK: 'CR0', IRQ_CTRLACK: 'IRQ_CTRL' };

/** A register name and value, checked against the register table. */
export function registerEntry(name: string, value: bigint): [string, bigint] {
  const r = registerByName(name);
  if (!r) {
    throw new DumpError(`unknown SMMU register '${name}'${didYouMean(name.toUpperCase().replace(/^SMMU_/, ''), REGISTERS.map((x) => x.name))} ` +
      '(registers are given as NAME=HEX, e.g. STRTAB_BASE=0x48000000)');
  }
  if (DERIVED[r.name]) throw new DumpError(`${r.name} follows ${DERIVED[r.name]}: give ${DERIVED[r.name]} instead`);
  if (value >= 1n << BigInt(r.wordBits)) {
    throw new DumpError(`${r.name}=${hex(value)} does not fit the ${r.wordBits}-bit register`);
  }
  return [r.name, value];
}

/** `NAME=HEX` items (each may hold several, separated by commas or spaces). */
export function parseRegisterList(items: readonly string[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const item of items.flatMap((i) => i.split(/[\s,]+/)).filter((i) => i !== '')) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new DumpError(`register '${item}': expected NAME=HEX, e.g. STRTAB_BASE_CFG=0x10210`);
    const [name, value] = registerEntry(item.slice(0, eq), parseHex(item.slice(eq + 1), `the value of ${item.slice(0, eq)}`));
    out.set(name, value);
  }
  return out;
}

/**
 * Registers as a launch configuration gives them: an object of NAME → value (a hex string
 * or a number) or a list of `NAME=HEX` strings.
 */
export function registerMap(value: unknown): Map<string, bigint> {
  if (value === undefined) return new Map();
  if (Array.isArray(value) && value.every((x) => typeof x === 'string')) return parseRegisterList(value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const out = new Map<string, bigint>();
    for (const [k, v] of Object.entries(value)) {
      let n: bigint;
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) n = BigInt(v);
      else if (typeof v === 'string') n = parseHex(v, `the value of ${k}`);
      else throw new DumpError(`register ${k}: expected a hex string such as "0x48000000" or a non-negative integer`);
      out.set(...registerEntry(k, n));
    }
    return out;
  }
  throw new DumpError('"registers" must be an object of NAME: "HEX" (e.g. {"STRTAB_BASE": "0x48000000"}) or a list of "NAME=HEX"');
}

/** The model's features from ID register values; a DumpError for what the model cannot follow. */
export function featuresFromIdRegs(idr0: number, idr1: number, idr3: number, idr5: number): SmmuFeatures {
  const c = contextFromIdRegs(idr0, idr1, idr3, idr5);
  const wrong: string[] = [];
  if (!OAS_BITS.slice(0, 7).includes(c.oas ?? 0)) wrong.push(`IDR5.OAS is ${c.oas} bits: the model handles up to 52-bit physical addresses`);
  if (((c.ttf ?? 0) & 2) === 0) wrong.push(`IDR0.TTF is ${c.ttf}: without AArch64 tables (TTF bit 1) there is nothing this tool can walk`);
  if (c.ttendian === 3) wrong.push('IDR0.TTENDIAN is 3 (big-endian tables only): only little-endian tables are read');
  if (c.stallModel === 3) wrong.push('IDR0.STALL_MODEL is 3, a reserved value');
  if (c.httu === 3) wrong.push('IDR0.HTTU is 3, a reserved value');
  if (wrong.length) throw new DumpError(`the ID registers describe an SMMU the model cannot follow: ${wrong.join('; ')}`);
  const bbml = decode(IDR3, [BigInt(idr3)]).num('BBML');
  const features: SmmuFeatures = {
    stage1: c.s1p === true,
    stage2: c.s2p === true,
    sidBits: c.sidSize ?? 0,
    ssidBits: c.ssidSize ?? 0,
    oasBits: c.oas!,
    granules: (c.granules ?? []) as Granule[],
    asid16: c.asid16 === true,
    vmid16: c.vmid16 === true,
    twoLevelStreamTable: c.stLevel2 === true,
    twoLevelCdTable: c.cd2l === true,
    rangeInvalidation: c.ril === true,
    attrTypesOverride: c.attrTypesOvr === true,
    stallModel: c.stallModel as 0 | 1 | 2,
    httu: c.httu as 0 | 1 | 2,
    ats: c.ats === true,
    pri: c.pri === true,
    msi: c.msi === true,
    sev: c.sev === true,
    hyp: c.hyp === true,
    cohacc: c.cohacc === true,
    bbml: (bbml === 3 ? 0 : bbml) as 0 | 1 | 2,
    fwb: c.fwb === true,
    vax: c.vax === true,
    stt: c.stt === true,
    cmdqs: Math.min(c.cmdqs ?? 0, 19),
    eventqs: Math.min(c.eventqs ?? 0, 19),
    priqs: Math.min(c.priqs ?? 0, 19),
  };
  const problems = featureProblems(features);
  if (problems.length) throw new DumpError(`the ID registers describe an impossible SMMU: ${problems.join('; ')}`);
  return features;
}

const CR0_BITS = { SMMUEN: 1n, PRIQEN: 2n, EVENTQEN: 4n, CMDQEN: 8n };

/**
 * The registers of a dump from what was given: STRTAB_BASE and STRTAB_BASE_CFG are
 * required, the rest defaults (see the module comment). `platform` is the SMMU assumed for
 * ID registers not given.
 */
export function dumpRegisters(given: ReadonlyMap<string, bigint>, platform: SmmuFeatures = DEFAULT_FEATURES): DumpRegisters {
  const missing = ['STRTAB_BASE', 'STRTAB_BASE_CFG'].filter((n) => !given.has(n));
  if (missing.length) {
    throw new DumpError(`missing ${missing.join(' and ')}: the stream table's place is held only in the SMMU's registers, not in memory. ` +
      'Give them as NAME=HEX (read them with devmem at the SMMU base + 0x80 and + 0x88, from a debugger, ' +
      'or from the driver\'s arm_smmu_device in the dump), or let `smmu-debug inspect --find-strtab` search the dump for the stream table');
  }
  const notes: string[] = [];
  const values = new Map(given);
  if (!given.has('CR0')) {
    let cr0 = CR0_BITS.SMMUEN;
    if (given.has('CMDQ_BASE')) cr0 |= CR0_BITS.CMDQEN;
    if (given.has('EVENTQ_BASE')) cr0 |= CR0_BITS.EVENTQEN;
    if (given.has('PRIQ_BASE')) cr0 |= CR0_BITS.PRIQEN;
    values.set('CR0', cr0);
    notes.push(`CR0 not given: taken as ${hex(cr0)} (SMMUEN${cr0 & CR0_BITS.CMDQEN ? ', CMDQEN' : ''}${cr0 & CR0_BITS.EVENTQEN ? ', EVENTQEN' : ''}` +
      `${cr0 & CR0_BITS.PRIQEN ? ', PRIQEN' : ''}): the SMMU was translating with the tables in the dump`);
  }
  const cr0 = values.get('CR0')!;
  for (const [bit, en, base] of [[CR0_BITS.CMDQEN, 'CMDQEN', 'CMDQ_BASE'], [CR0_BITS.EVENTQEN, 'EVENTQEN', 'EVENTQ_BASE'], [CR0_BITS.PRIQEN, 'PRIQEN', 'PRIQ_BASE']] as const) {
    if ((cr0 & bit) !== 0n && !given.has(base)) notes.push(`CR0.${en} is set but ${base} was not given: that queue is not shown`);
  }
  const ids = ['IDR0', 'IDR1', 'IDR3', 'IDR5'] as const;
  let features: SmmuFeatures;
  if (ids.some((n) => given.has(n))) {
    const dflt = idRegisters(platform);
    const v = (n: (typeof ids)[number]): number => Number(given.get(n) ?? BigInt(dflt[n]));
    features = featuresFromIdRegs(v('IDR0'), v('IDR1'), v('IDR3'), v('IDR5'));
    const absent = ids.filter((n) => !given.has(n));
    if (absent.length) notes.push(`${absent.join(', ')} not given: the platform's default SMMU fills them`);
  } else {
    // Without IDR1, room for every StreamID the stream table was configured for.
    const log2size = decode(STRTAB_BASE_CFG, [given.get('STRTAB_BASE_CFG')!]).num('LOG2SIZE');
    features = { ...platform, sidBits: Math.max(platform.sidBits, Math.min(log2size, 32)) };
    notes.push('no ID registers given: assuming the platform\'s default SMMU (both stages, 4K/16K/64K, 48-bit OAS); give IDR0/IDR1/IDR3/IDR5 for the real one');
  }
  // What the SMMU makes of the stream table registers (alignment, sizes, format), as notes.
  const base = given.get('STRTAB_BASE')!;
  const cfg = Number(given.get('STRTAB_BASE_CFG')!);
  for (const p of checkStreamTable(base, cfg, archContext(features))) notes.push(`${p.severity}: ${p.field ?? p.rule}: ${p.message}`);
  return { values, given: new Set(given.keys()), features, notes };
}
