/**
 * The Stream Table Entry (STE, 64 bytes) and the Level-1 Stream Table Descriptor (L1STD,
 * 8 bytes), as the SMMUv3 specification numbers their bits (IHI 0070, sections 5.1, 5.2).
 *
 * Field relevance follows the specification's IGNORED rules: with V=0 nothing but V is
 * used; S1* fields only when Config has stage 1, S2* fields only when it has stage 2
 * (S2VMID also tags stage-1-only NS-EL1 translations). Rule severities: 'error' means the
 * SMMU treats the STE as ILLEGAL (it behaves as V=0 and records C_BAD_STE) or the
 * descriptor as invalid; 'warning' covers RES0 misuse and CONSTRAINED UNPREDICTABLE
 * programming. Checks that need a feature of the SMMU apply only when the context says
 * whether it has it; without that they stay lenient. A stage-2 STE with S2AA64=0 is
 * VMSAv8-32 LPAE, or VMSAv9-128 when the context says IDR5.D128=1; the VMSAv9-128 walk
 * (S2SKL) is not modelled, only the checks that do not depend on it.
 */
import { hex } from './codec';
import {
  ADDRESS_SIZE_BITS, allocHintsText, effectiveSplit, INST_OVERRIDE, MEMATTR, OUTPUT_SIZE, PRIV_OVERRIDE,
  SHAREABILITY, SHAREABILITY_OVERRIDE, TG0_GRANULES, TG0_KB, WALK_CACHEABILITY,
} from './encodings';
import { ArchContext, defineLayout, EnumValue, FieldReader, FieldSpec, Layout, Problem, Rule } from './field';

// ---------------------------------------------------------------------------------------
// Configuration predicates, shared by `relevant`, rules and the summary.

const CFG_ABORT = 0;
const CFG_BYPASS = 4;
const CFG_S1 = 5;
const CFG_S2 = 6;
const CFG_NESTED = 7;

const valid = (d: FieldReader): boolean => d.num('V') === 1;
const config = (d: FieldReader): number => d.num('Config');
/** Stage 1 translates: Config 0b1x1. */
const hasS1 = (d: FieldReader): boolean => valid(d) && (config(d) === CFG_S1 || config(d) === CFG_NESTED);
/** Stage 2 translates: Config 0b11x. */
const hasS2 = (d: FieldReader): boolean => valid(d) && (config(d) === CFG_S2 || config(d) === CFG_NESTED);
/** Traffic passes (bypass or at least one stage translates). */
const passes = (d: FieldReader): boolean => valid(d) && config(d) >= CFG_BYPASS;
/** At least one stage translates: Config 0b1xx other than 0b100. */
const translates = (d: FieldReader): boolean => valid(d) && config(d) > CFG_BYPASS;
/** S1CDMax as the SMMU uses it: IGNORED (so 0) when the SMMU has no substreams. */
const cdMax = (d: FieldReader): number => (d.ctx.ssidSize === 0 ? 0 : d.num('S1CDMax'));
/** Substreams enabled: stage 1 translates and S1CDMax != 0. */
const substreams = (d: FieldReader): boolean => hasS1(d) && cdMax(d) !== 0;
/** Some transactions bypass stage 1 via S1DSS=BYPASS, so input attributes reach stage 2 / output. */
const s1dssBypass = (d: FieldReader): boolean => substreams(d) && d.num('S1DSS') === 1;
/** STRW is used: stage 1 only, SMMU has stage 1 and EL2 (IDR0.Hyp); otherwise RES0 or IGNORED. */
const strwUsed = (d: FieldReader): boolean =>
  valid(d) && config(d) === CFG_S1 && d.ctx.s1p !== false && d.ctx.hyp !== false;
/**
 * The incoming memory type/shareability/allocation hints reach the output (stage 1 does not
 * replace them), and the SMMU can override them (IDR1.ATTR_TYPES_OVR; else the fields are RES0).
 */
const inputAttrsUsed = (d: FieldReader): boolean =>
  valid(d) && (config(d) === CFG_BYPASS || config(d) === CFG_S2 || s1dssBypass(d)) && d.ctx.attrTypesOvr !== false;
/** PRIVCFG/INSTCFG apply: traffic passes and the SMMU can override them (IDR1.ATTR_PERMS_OVR). */
const permsOverridable = (d: FieldReader): boolean => passes(d) && d.ctx.attrPermsOvr !== false;
/** MPAM fields are used: traffic passes and the SMMU has MPAM (IDR3.MPAM; else they are RES0). */
const mpamUsed = (d: FieldReader): boolean => passes(d) && d.ctx.mpam !== false;
/** The VMS pointer is used: nested with S1MPAM=1, on an SMMU with MPAM. */
const vmsUsed = (d: FieldReader): boolean =>
  valid(d) && config(d) === CFG_NESTED && d.num('S1MPAM') === 1 && d.ctx.mpam !== false;
/** Stage 2 uses VMSAv8-64 tables. */
const aa64 = (d: FieldReader): boolean => d.num('S2AA64') === 1;
/** S2AA64=0 with IDR5.D128=1: VMSAv9-128 tables. */
const vmsa128 = (d: FieldReader): boolean => !aa64(d) && d.ctx.d128 === true;
/** S2AA64=0 read as VMSAv8-32 LPAE: exact with IDR5.D128=0, assumed when D128 is unknown. */
const vmsa32 = (d: FieldReader): boolean => !aa64(d) && d.ctx.d128 !== true;
/**
 * The IAS (size of IPAs): the context's, or else the larger of the OAS and 40 bits, which is
 * what AArch32 table support makes it (lenient: without AArch32 it is the OAS).
 */
const iasBits = (d: FieldReader): number | undefined =>
  d.ctx.ias ?? (d.ctx.oas === undefined ? undefined : Math.max(40, d.ctx.oas));

// ---------------------------------------------------------------------------------------
// Stage-2 walk geometry: granule, IPA size, start level, concatenation.

interface S2Walk {
  readonly granuleKb: 4 | 16 | 64;
  readonly ipaBits: number;
  /** Start level from S2SL0 (and S2SL0_2), or undefined when the encoding is invalid. */
  readonly startLevel?: number;
  /** Why the start level encoding is invalid. */
  readonly slError?: string;
}

/** 4-bit two's complement, for VMSAv8-32 VTCR.T0SZ. */
const signed4 = (v: number): number => ((v & 0xf) ^ 0x8) - 0x8;

/** The walk the STE describes, or undefined when S2TG is the reserved value or the tables are VMSAv9-128. */
function s2Walk(d: FieldReader): S2Walk | undefined {
  const sl0 = d.num('S2SL0');
  if (vmsa128(d)) return undefined;
  if (vmsa32(d)) {
    // VMSAv8-32 LPAE: 4KB only; VTCR.SL0 0b00 = level 2, 0b01 = level 1, 0b1x reserved.
    const ipaBits = 32 - signed4(d.num('S2T0SZ'));
    if (sl0 >= 2) return { granuleKb: 4, ipaBits, slError: `S2SL0=${sl0} is reserved for VMSAv8-32 LPAE (0 = level 2, 1 = level 1)` };
    return { granuleKb: 4, ipaBits, startLevel: 2 - sl0 };
  }
  const granuleKb = TG0_KB[d.num('S2TG')];
  if (granuleKb === undefined) return undefined;
  const ipaBits = 64 - d.num('S2T0SZ');
  const ds = d.num('S2DS') === 1 && granuleKb !== 64;
  const oas = d.ctx.oas;
  const bad = (why: string): S2Walk => ({ granuleKb, ipaBits, slError: why });
  // Encodings as VTCR_EL2.{SL2,SL0} (Arm ARM AArch64.S2StartLevel / S2InvalidSL); the
  // PAMax conditions use the SMMU's OAS.
  if (granuleKb === 4) {
    if (ds && d.num('S2SL0_2') === 1) {
      return sl0 === 0 ? { granuleKb, ipaBits, startLevel: -1 } : bad(`S2SL0_2=1 needs S2SL0=0 (level -1); S2SL0=${sl0} is reserved`);
    }
    if (sl0 === 2 && oas !== undefined && oas < 44) return bad('start level 0 (S2SL0=2) with 4KB needs an OAS of at least 44 bits');
    if (sl0 === 3) {
      return d.ctx.stt === false ? bad('start level 3 (S2SL0=3) with 4KB needs small translation tables (IDR3.STT)')
        : { granuleKb, ipaBits, startLevel: 3 };
    }
    return { granuleKb, ipaBits, startLevel: 2 - sl0 };
  }
  if (granuleKb === 16) {
    if (sl0 === 3 && !ds) return bad('start level 0 (S2SL0=3) with 16KB needs S2DS=1 (52-bit addressing)');
    if (sl0 === 3 && oas !== undefined && oas < 52) return bad('start level 0 (S2SL0=3) with 16KB needs a 52-bit OAS');
    if (sl0 === 2 && oas !== undefined && oas < 42) return bad('start level 1 (S2SL0=2) with 16KB needs an OAS of at least 42 bits');
    return { granuleKb, ipaBits, startLevel: 3 - sl0 };
  }
  if (sl0 === 3) return bad('S2SL0=3 is reserved with a 64KB granule');
  if (sl0 === 2 && oas !== undefined && oas < 44) return bad('start level 1 (S2SL0=2) with 64KB needs an OAS of at least 44 bits');
  return { granuleKb, ipaBits, startLevel: 3 - sl0 };
}

const granuleBits = (kb: 4 | 16 | 64): number => ({ 4: 12, 16: 14, 64: 16 })[kb];

/**
 * IPA sizes a start level can translate (Arm ARM AArch64/AArch32.S2InconsistentSL): at
 * least one bit more than the levels below it resolve, and at most a full table plus 16
 * concatenated tables (4 more bits). Level -1 resolves 4 bits and level 0 concatenates
 * only with 52-bit addressing.
 */
function levelRange(kb: 4 | 16 | 64, level: number, ds: boolean): { min: number; max: number } {
  const g = granuleBits(kb);
  const stride = g - 3;
  const min = (3 - level) * stride + g + 1;
  if (level === -1) return { min, max: min + 3 };
  const concat = level > 0 || ds ? 4 : 0;
  return { min, max: min + stride - 1 + concat };
}

/** For a consistent walk: the number of concatenated start-level tables and their total size in bytes. */
function startTables(w: S2Walk): { tables: number; bytes: bigint } {
  const g = granuleBits(w.granuleKb);
  const stride = g - 3;
  const level = w.startLevel ?? 0;
  const bits = w.ipaBits - ((3 - level) * stride + g); // index bits resolved at the start level
  const tables = bits > stride ? 2 ** (bits - stride) : 1;
  return { tables, bytes: 1n << BigInt(Math.max(bits, 0) + 3) };
}

/** The start level that needs a single table for this IPA size, as an S2SL0 value, for messages. */
function suggestSl0(w: S2Walk, isAa64: boolean): string {
  const g = granuleBits(w.granuleKb);
  const stride = g - 3;
  const level = 4 - Math.ceil((w.ipaBits - g) / stride);
  if (!isAa64) return level >= 1 && level <= 2 ? `S2SL0=${2 - level} (start level ${level})` : 'a smaller IPA size';
  if (w.granuleKb === 4) {
    const enc: Record<number, number> = { 0: 2, 1: 1, 2: 0, 3: 3 };
    return enc[level] !== undefined ? `S2SL0=${enc[level]} (start level ${level})` : 'a different IPA size';
  }
  return level >= 0 && level <= 3 ? `S2SL0=${3 - level} (start level ${level})` : 'a different IPA size';
}

/** Effective stage-2 output size in bits (CalcPARange): 40 for VMSAv8-32, else S2PS capped by OAS and format. */
function s2PaBits(d: FieldReader): number {
  if (vmsa32(d)) return 40;
  let bits = ADDRESS_SIZE_BITS[d.num('S2PS')];
  if (d.ctx.oas !== undefined) bits = Math.min(bits, d.ctx.oas);
  if (vmsa128(d)) return bits;
  bits = Math.min(bits, 52);
  const kb = TG0_KB[d.num('S2TG')];
  if (kb !== 64 && d.num('S2DS') === 0) bits = Math.min(bits, 48);
  return bits;
}

/** The stage-2 walk of an STE as the model's walker takes it, or why it cannot be walked. */
export interface Stage2Walk {
  readonly granule: 4 | 16 | 64;
  readonly inputBits: number;
  readonly startLevel: 0 | 1 | 2 | 3;
  /** Concatenated tables at the starting level (1 when none). */
  readonly concat: number;
  /** Effective output size: S2PS capped by the OAS and the format. */
  readonly oasBits: number;
  readonly ds: boolean;
}

/**
 * The walk geometry the STE's stage-2 fields describe, from the same rules the table
 * checks them with. VMSAv8-32 and VMSAv9-128 stage-2 tables and level -1 starts are not
 * walked by the model; an STE using them gets a reason instead.
 */
export function steStage2Walk(d: FieldReader): Stage2Walk | { readonly error: string } {
  if (!aa64(d)) return { error: 'stage-2 tables other than VMSAv8-64 (S2AA64=0) are not modelled' };
  const w = s2Walk(d);
  if (!w) return { error: 'ILLEGAL: S2TG is the reserved value' };
  if (w.startLevel === undefined) return { error: `ILLEGAL: ${w.slError ?? 'the starting level is inconsistent'}` };
  if (w.startLevel < 0) return { error: 'stage-2 walks starting at level -1 are not modelled' };
  return {
    granule: w.granuleKb, inputBits: w.ipaBits, startLevel: w.startLevel as 0 | 1 | 2 | 3,
    concat: startTables(w).tables, oasBits: s2PaBits(d), ds: d.num('S2DS') === 1 && w.granuleKb !== 64,
  };
}

// ---------------------------------------------------------------------------------------
// Value tables.

/** S1CIR/S1COR: CD fetch cacheability. Not the TCR encoding: 0b01 is read-allocate, 0b11 no read-allocate. */
const CACHE_CD: EnumValue[] = [
  { value: 0, name: 'NC', meaning: 'Normal Non-cacheable' },
  { value: 1, name: 'WBRA', meaning: 'Normal Write-Back, read-allocate' },
  { value: 2, name: 'WT', meaning: 'Normal Write-Through, read-allocate' },
  { value: 3, name: 'WB', meaning: 'Normal Write-Back, no read-allocate' },
];

/** Stage-2 permission overlay encodings; 0b0001 and 0b0101 are left out (C_BAD_STE). */
const S2POI_VALUES: EnumValue[] = [
  { value: 0b0000, name: 'NONE', meaning: 'no access' },
  { value: 0b0010, name: 'MRO', meaning: 'MostlyReadOnly' },
  { value: 0b0011, name: 'MRO_TL1', meaning: 'MostlyReadOnly, TopLevel1' },
  { value: 0b0100, name: 'WO', meaning: 'write only' },
  { value: 0b0110, name: 'MRO_TL0', meaning: 'MostlyReadOnly, TopLevel0' },
  { value: 0b0111, name: 'MRO_TL01', meaning: 'MostlyReadOnly, TopLevel0 and 1' },
  { value: 0b1000, name: 'RO', meaning: 'read only' },
  { value: 0b1001, name: 'RO_uX', meaning: 'read only, unprivileged execute' },
  { value: 0b1010, name: 'RO_pX', meaning: 'read only, privileged execute' },
  { value: 0b1011, name: 'RO_puX', meaning: 'read only, execute' },
  { value: 0b1100, name: 'RW', meaning: 'read/write' },
  { value: 0b1101, name: 'RW_uX', meaning: 'read/write, unprivileged execute' },
  { value: 0b1110, name: 'RW_pX', meaning: 'read/write, privileged execute' },
  { value: 0b1111, name: 'RW_puX', meaning: 'read/write, execute' },
];

const never = (): boolean => false;

const s2poi: FieldSpec[] = Array.from({ length: 16 }, (_, p) => ({
  name: `S2POI${p}`, hi: 448 + 4 * p + 3, lo: 448 + 4 * p, kind: 'enum' as const, values: S2POI_VALUES,
  meaning: `stage-2 permission overlay for POIndex ${p}`,
  relevant: (d: FieldReader) => hasS2(d) && d.num('S2POE') === 1 && d.ctx.s2po !== false,
}));

/** Stage-2 hardware use of descriptor bits 59-62 (page-based hardware attributes). */
const S2HWU = ['S2HWU59', 'S2HWU60', 'S2HWU61', 'S2HWU62'];

// ---------------------------------------------------------------------------------------
// The STE fields, qword by qword.

const STE_FIELDS: FieldSpec[] = [
  // qword 0
  {
    name: 'V', hi: 0, lo: 0, kind: 'flag', meaning: 'STE valid; when 0 every other field is ignored',
    values: [
      { value: 0, name: 'INVALID', meaning: 'transactions abort and record C_BAD_STE' },
      { value: 1, name: 'VALID', meaning: 'the other fields apply' },
    ],
  },
  {
    name: 'Config', aliases: ['cfg'], hi: 3, lo: 1, kind: 'enum', meaning: 'stream configuration: abort, bypass, or which stages translate',
    relevant: valid,
    values: [
      { value: 0, name: 'ABORT', meaning: 'abort transactions, no event recorded' },
      { value: 1, name: 'RESERVED1', meaning: 'reserved, behaves as ABORT', reserved: true },
      { value: 2, name: 'RESERVED2', meaning: 'reserved, behaves as ABORT', reserved: true },
      { value: 3, name: 'RESERVED3', meaning: 'reserved, behaves as ABORT', reserved: true },
      { value: 4, name: 'BYPASS', meaning: 'stage 1 and stage 2 bypass' },
      { value: 5, name: 'S1_TRANS', meaning: 'stage 1 translate, stage 2 bypass' },
      { value: 6, name: 'S2_TRANS', meaning: 'stage 1 bypass, stage 2 translate' },
      { value: 7, name: 'NESTED', meaning: 'stage 1 and stage 2 translate' },
    ],
  },
  {
    name: 'S1Fmt', hi: 5, lo: 4, kind: 'enum', meaning: 'layout of the CD table S1ContextPtr points to (with substreams)',
    relevant: substreams,
    values: [
      { value: 0, name: 'LINEAR', meaning: 'linear CD table indexed by SubstreamID' },
      { value: 1, name: '4K_L2', meaning: '2-level CD table with 4KB leaf tables of 64 CDs' },
      { value: 2, name: '64K_L2', meaning: '2-level CD table with 64KB leaf tables of 1024 CDs' },
      { value: 3, name: 'RESERVED', meaning: 'reserved, behaves as LINEAR', reserved: true },
    ],
  },
  {
    name: 'S1ContextPtr', aliases: ['s1ctxptr'], hi: 55, lo: 6, kind: 'address', relevant: hasS1,
    meaning: 'address of the CD or CD table (an IPA when stage 2 also translates)',
  },
  {
    name: 'S1CDMax', hi: 63, lo: 59, kind: 'uint', relevant: (d) => hasS1(d) && d.ctx.ssidSize !== 0,
    meaning: 'log2 of the number of CDs; 0 = one CD, substreams disabled',
    show: (v) => (v === 0n ? '1 CD, substreams disabled' : `2^${v} = ${2 ** Number(v)} CDs`),
  },
  // qword 1
  {
    name: 'S1DSS', hi: 65, lo: 64, kind: 'enum', relevant: substreams,
    meaning: 'what happens to transactions without a SubstreamID when substreams are enabled',
    values: [
      { value: 0, name: 'TERMINATE', meaning: 'abort and record F_STREAM_DISABLED' },
      { value: 1, name: 'BYPASS', meaning: 'bypass stage 1 (as if Config had no stage 1)' },
      { value: 2, name: 'SSID0', meaning: 'use the CD of SubstreamID 0; SSID 0 itself becomes unusable' },
      { value: 3, name: 'RESERVED', meaning: 'reserved, behaves as TERMINATE', reserved: true },
    ],
  },
  { name: 'S1CIR', hi: 67, lo: 66, kind: 'enum', values: CACHE_CD, relevant: hasS1, meaning: 'inner cacheability of CD (and L1CD) fetches' },
  { name: 'S1COR', hi: 69, lo: 68, kind: 'enum', values: CACHE_CD, relevant: hasS1, meaning: 'outer cacheability of CD (and L1CD) fetches' },
  { name: 'S1CSH', hi: 71, lo: 70, kind: 'enum', values: SHAREABILITY, relevant: hasS1, meaning: 'shareability of CD (and L1CD) fetches' },
  // IGNORED without IDR3.PBHA; RES0 with VMSAv9-128 tables.
  ...S2HWU.map((name, i): FieldSpec => ({
    name, hi: 72 + i, lo: 72 + i, kind: 'flag', relevant: (d) => hasS2(d) && d.ctx.pbha !== false && !vmsa128(d),
    meaning: `stage-2 descriptor bit ${59 + i} has IMPDEF hardware use (IDR3.PBHA)`,
  })),
  { name: 'DRE', hi: 76, lo: 76, kind: 'flag', relevant: translates, meaning: 'allow destructive reads and Invalidate CMOs from the device' },
  {
    name: 'CONT', hi: 80, lo: 77, kind: 'uint', relevant: valid,
    meaning: 'contiguous hint: this STE is identical to its aligned 2^CONT neighbours',
    show: (v) => (v === 0n ? '' : `span of 2^${v} = ${2 ** Number(v)} STEs`),
  },
  { name: 'DCP', hi: 81, lo: 81, kind: 'flag', relevant: translates, meaning: 'allow directed cache prefetch hints from the device' },
  {
    name: 'PPAR', hi: 82, lo: 82, kind: 'flag', relevant: (d) => translates(d) && d.ctx.ssidSize !== 0,
    meaning: 'PRI auto-responses on PRI queue overflow carry a PASID prefix',
  },
  { name: 'MEV', hi: 83, lo: 83, kind: 'flag', relevant: passes, meaning: 'allow similar fault records of this stream to be merged' },
  { name: 'SW_RESERVED', hi: 87, lo: 84, kind: 'reserved', reserved: 'SOFTWARE', meaning: 'reserved for software, ignored by the SMMU' },
  { name: 'S1PIE', hi: 88, lo: 88, kind: 'flag', relevant: hasS1, meaning: 'CDs of this stream may enable stage-1 permission indirection' },
  {
    name: 'S2FWB', hi: 89, lo: 89, kind: 'flag', relevant: (d) => hasS2(d) && d.ctx.fwb !== false,
    meaning: 'stage 2 forced write-back: stage-2 descriptor decides the final memory type (HCR_EL2.FWB; RES0 without IDR3.FWB)',
  },
  {
    name: 'S1MPAM', hi: 90, lo: 90, kind: 'flag', relevant: (d) => hasS1(d) && d.ctx.mpam !== false,
    meaning: 'MPAM PARTID/PMG of transactions come from the CD instead of the STE (RES0 without IDR3.MPAM)',
  },
  {
    name: 'S1STALLD', hi: 91, lo: 91, kind: 'flag', relevant: hasS1,
    meaning: 'forbid CDs of this stream from selecting the stall fault model',
  },
  {
    name: 'EATS', hi: 93, lo: 92, kind: 'enum', relevant: (d) => translates(d) && d.ctx.ats !== false,
    meaning: 'PCIe ATS: whether translation requests are answered and Translated traffic may pass',
    values: [
      { value: 0, name: 'ABT', meaning: 'ATS disabled: translation requests fail (F_BAD_ATS_TREQ)' },
      { value: 1, name: 'TRANS', meaning: 'full ATS: requests translated through all enabled stages' },
      { value: 2, name: 'S1CHK', meaning: 'split-stage ATS: device gets stage-1 IPAs, stage 2 applied on Translated traffic' },
      { value: 3, name: 'TRANS_DPT', meaning: 'full ATS with DPT checks (behaves as ABT without IDR3.DPT)' },
    ],
  },
  {
    name: 'STRW', hi: 95, lo: 94, kind: 'enum', relevant: strwUsed,
    meaning: 'StreamWorld (translation regime) for stage-1-only streams',
    // 0b11 is left out: it is reserved and ILLEGAL, which the generic check reports.
    values: [
      { value: 0, name: 'NSEL1', meaning: 'EL1 (tagged with ASID and VMID)' },
      { value: 1, name: 'EL3', meaning: 'Secure EL3 (Secure STEs only; ILLEGAL in a Non-secure STE)' },
      { value: 2, name: 'EL2', meaning: 'EL2, or EL2-E2H when CR2.E2H=1' },
    ],
  },
  {
    name: 'MemAttr', hi: 99, lo: 96, kind: 'enum', values: MEMATTR, relevant: (d) => inputAttrsUsed(d) && d.num('MTCFG') === 1,
    meaning: 'memory type that replaces the incoming one when MTCFG=1 (RES0 without IDR1.ATTR_TYPES_OVR)',
  },
  { name: 'MTCFG', hi: 100, lo: 100, kind: 'flag', relevant: inputAttrsUsed, meaning: 'replace the incoming memory type with MemAttr (RES0 without IDR1.ATTR_TYPES_OVR)' },
  {
    name: 'ALLOCCFG', hi: 104, lo: 101, kind: 'uint', relevant: inputAttrsUsed,
    meaning: 'allocation hint override: 0b0xxx incoming, 0b1RWT forces RA, WA, TR (RES0 without IDR1.ATTR_TYPES_OVR)',
    show: allocHintsText,
  },
  {
    name: 'SHCFG', hi: 109, lo: 108, kind: 'enum', relevant: inputAttrsUsed, values: SHAREABILITY_OVERRIDE,
    meaning: 'shareability override for incoming transactions (RES0, incoming used, without IDR1.ATTR_TYPES_OVR)',
  },
  {
    name: 'NSCFG', hi: 111, lo: 110, kind: 'enum', relevant: never, meaning: 'NS attribute override (Secure and Realm streams only)',
    values: [
      { value: 0, name: 'INCOMING', meaning: 'use the incoming NS attribute' },
      { value: 1, name: 'RESERVED', meaning: 'reserved, behaves as INCOMING (Realm: check NS with R_IDR3.XT)', reserved: true },
      { value: 2, name: 'SECURE', meaning: 'Secure (Realm for a Realm stream)' },
      { value: 3, name: 'NONSECURE', meaning: 'Non-secure' },
    ],
  },
  {
    name: 'PRIVCFG', hi: 113, lo: 112, kind: 'enum', relevant: permsOverridable, values: PRIV_OVERRIDE,
    meaning: 'privilege attribute override for incoming transactions (RES0 without IDR1.ATTR_PERMS_OVR)',
  },
  {
    name: 'INSTCFG', hi: 115, lo: 114, kind: 'enum', relevant: permsOverridable, values: INST_OVERRIDE,
    meaning: 'instruction/data attribute override for incoming reads (RES0 without IDR1.ATTR_PERMS_OVR)',
  },
  { name: 'IMPDEF[127:116]', hi: 127, lo: 116, kind: 'reserved', reserved: 'IMPDEF', meaning: 'IMPLEMENTATION DEFINED per-stream configuration' },
  // qword 2
  {
    name: 'S2VMID', aliases: ['vmid'], hi: 143, lo: 128, kind: 'uint',
    meaning: 'VMID tagging TLB entries of this stream (stage 2, and stage-1-only NS-EL1 streams)',
    relevant: (d) => d.ctx.s2p !== false &&
      (hasS2(d) || (valid(d) && config(d) === CFG_S1 && (d.num('STRW') === 0 || !strwUsed(d)))),
  },
  { name: 'IMPDEF[159:144]', hi: 159, lo: 144, kind: 'reserved', reserved: 'IMPDEF', meaning: 'IMPLEMENTATION DEFINED' },
  {
    name: 'S2T0SZ', hi: 165, lo: 160, kind: 'uint', relevant: hasS2, meaning: 'stage-2 input (IPA) size, as VTCR_EL2.T0SZ',
    show: (v, d) => (vmsa32(d) ? `${32 - signed4(Number(v))}-bit IPA (VMSAv8-32)` : `${64 - Number(v)}-bit IPA`),
  },
  {
    name: 'S2SL0', hi: 167, lo: 166, kind: 'uint', relevant: (d) => hasS2(d) && !vmsa128(d), meaning: 'stage-2 starting level, encoded as VTCR_EL2.SL0 (depends on S2TG)',
    show: (_v, d) => {
      const w = s2Walk(d);
      return w?.startLevel === undefined ? '' : `start level ${w.startLevel}`;
    },
  },
  { name: 'S2IR0', hi: 169, lo: 168, kind: 'enum', values: WALK_CACHEABILITY, relevant: hasS2, meaning: 'inner cacheability of stage-2 table walks' },
  { name: 'S2OR0', hi: 171, lo: 170, kind: 'enum', values: WALK_CACHEABILITY, relevant: hasS2, meaning: 'outer cacheability of stage-2 table walks' },
  { name: 'S2SH0', hi: 173, lo: 172, kind: 'enum', values: SHAREABILITY, relevant: hasS2, meaning: 'shareability of stage-2 table walks' },
  {
    name: 'S2TG', hi: 175, lo: 174, kind: 'enum', values: TG0_GRANULES, relevant: hasS2, meaning: 'stage-2 translation granule (TG0 encoding)',
    show: (_v, d) => (vmsa32(d) ? 'RES0 with VMSAv8-32: the granule is 4KB' : ''),
  },
  {
    name: 'S2PS', hi: 178, lo: 176, kind: 'enum', relevant: hasS2, meaning: 'stage-2 output (physical) address size',
    values: OUTPUT_SIZE,
    show: (v, d) => {
      const eff = s2PaBits(d);
      if (vmsa32(d)) return 'ignored with VMSAv8-32: 40 bits';
      return eff < ADDRESS_SIZE_BITS[Number(v)] ? `effective ${eff} bits` : '';
    },
  },
  {
    name: 'S2AA64', hi: 179, lo: 179, kind: 'flag', relevant: hasS2, meaning: 'stage-2 translation table format',
    values: [
      { value: 0, name: 'AA32', meaning: 'VMSAv8-32 LPAE (VMSAv9-128 when IDR5.D128=1)' },
      { value: 1, name: 'AA64', meaning: 'VMSAv8-64' },
    ],
  },
  {
    name: 'S2ENDI', hi: 180, lo: 180, kind: 'flag', relevant: hasS2, meaning: 'stage-2 translation table endianness',
    values: [
      { value: 0, name: 'LE', meaning: 'little-endian' },
      { value: 1, name: 'BE', meaning: 'big-endian' },
    ],
  },
  { name: 'S2AFFD', hi: 181, lo: 181, kind: 'flag', relevant: hasS2, meaning: 'no stage-2 Access flag faults: AF=0 treated as 1 (without S2HA)' },
  {
    name: 'S2PTW', hi: 182, lo: 182, kind: 'flag', relevant: (d) => valid(d) && config(d) === CFG_NESTED,
    meaning: 'stage-1 walks and CD fetches to stage-2 Device memory fault (nested only)',
  },
  { name: 'S2HD', hi: 183, lo: 183, kind: 'flag', relevant: hasS2, meaning: 'hardware update of the stage-2 dirty state' },
  { name: 'S2HA', hi: 184, lo: 184, kind: 'flag', relevant: hasS2, meaning: 'hardware update of the stage-2 Access flag' },
  { name: 'S2S', hi: 185, lo: 185, kind: 'flag', relevant: hasS2, meaning: 'stage-2 faults stall the transaction' },
  { name: 'S2R', hi: 186, lo: 186, kind: 'flag', relevant: hasS2, meaning: 'stage-2 faults are recorded in the event queue' },
  { name: 'S2HAFT', hi: 187, lo: 187, kind: 'flag', relevant: hasS2, meaning: 'hardware update of the Access flag in stage-2 table descriptors' },
  {
    name: 'S2PIE', hi: 188, lo: 188, kind: 'flag', relevant: (d) => hasS2(d) && d.ctx.s2pi !== false && !vmsa128(d),
    meaning: 'stage 2 uses the indirect permission scheme (RES0 without IDR3.S2PI)',
  },
  {
    name: 'S2POE', hi: 189, lo: 189, kind: 'flag', relevant: (d) => hasS2(d) && d.ctx.s2po !== false,
    meaning: 'apply the stage-2 permission overlays (S2POI; RES0 without IDR3.S2PO)',
  },
  {
    name: 'DPT_VMATCH', hi: 191, lo: 190, kind: 'enum', relevant: (d) => translates(d) && d.num('EATS') === 3 && d.ctx.dpt !== false,
    meaning: 'VMID matching required by DPT checks (EATS=TRANS_DPT)',
    values: [
      { value: 0, name: 'VMID_OR_AC2', meaning: 'VMID must match, or the DPT entry has AC=0b10' },
      { value: 1, name: 'VMID_OR_AC', meaning: 'VMID must match, or the DPT entry has AC=0b01 or 0b10' },
      { value: 2, name: 'ANY', meaning: 'VMID need not match' },
      { value: 3, name: 'RESERVED', meaning: 'reserved, behaves as VMID_OR_AC2', reserved: true },
    ],
  },
  // qword 3
  { name: 'S2NSW', hi: 192, lo: 192, kind: 'flag', relevant: never, meaning: 'NS of stage-2 walks for the Non-secure IPA space (Secure STEs only)' },
  { name: 'S2NSA', hi: 193, lo: 193, kind: 'flag', relevant: never, meaning: 'NS output of Non-secure IPA translations (Secure STEs only)' },
  {
    name: 'S2SL0_2', hi: 194, lo: 194, kind: 'flag', relevant: (d) => hasS2(d) && aa64(d) && d.num('S2TG') === 0 && d.num('S2DS') === 1 && d.ctx.ds !== false,
    meaning: 'bit 2 of S2SL0 (VTCR_EL2.SL2): start level -1 with 4KB and S2DS',
  },
  {
    name: 'S2DS', hi: 195, lo: 195, kind: 'flag', relevant: (d) => hasS2(d) && aa64(d) && d.num('S2TG') !== 1 && d.ctx.ds !== false,
    meaning: '52-bit addressing with 4KB/16KB granules (VTCR_EL2.DS, FEAT_LPA2)',
  },
  {
    name: 'S2TTB', hi: 247, lo: 196, kind: 'address', relevant: hasS2,
    meaning: 'stage-2 translation table base address (bits [55:52] only for VMSAv9-128)',
  },
  {
    name: 'S2SKL', hi: 254, lo: 253, kind: 'uint', relevant: (d) => hasS2(d) && !aa64(d) && d.ctx.d128 !== false,
    meaning: 'levels skipped at the initial stage-2 lookup (VMSAv9-128 only)',
    show: (v) => `skip ${v} level${v === 1n ? '' : 's'}`,
  },
  // qword 4
  { name: 'IMPDEF[271:256]', hi: 271, lo: 256, kind: 'reserved', reserved: 'IMPDEF', meaning: 'IMPLEMENTATION DEFINED' },
  { name: 'PARTID', hi: 287, lo: 272, kind: 'uint', relevant: mpamUsed, meaning: 'MPAM partition ID for this stream\'s accesses' },
  { name: 'S_S2T0SZ', hi: 293, lo: 288, kind: 'uint', relevant: never, meaning: 'Secure IPA space size (Secure STEs only)' },
  { name: 'S_S2SL0', hi: 295, lo: 294, kind: 'uint', relevant: never, meaning: 'Secure stage-2 starting level (Secure STEs only)' },
  { name: 'S_S2TG', hi: 303, lo: 302, kind: 'enum', values: TG0_GRANULES, relevant: never, meaning: 'Secure stage-2 granule (Secure STEs only)' },
  { name: 'MECID', hi: 319, lo: 304, kind: 'uint', relevant: never, meaning: 'memory encryption context ID (Realm STEs only)' },
  // qword 5
  { name: 'PMG', hi: 327, lo: 320, kind: 'uint', relevant: mpamUsed, meaning: 'MPAM performance monitoring group for this stream\'s accesses' },
  { name: 'MPAM_NS', hi: 328, lo: 328, kind: 'flag', relevant: never, meaning: 'use the Non-secure PARTID space (Secure and Realm STEs only)' },
  { name: 'AssuredOnly', hi: 329, lo: 329, kind: 'flag', relevant: hasS2, meaning: 'enable stage-2 AssuredOnly checks (VTCR_EL2.AssuredOnly)' },
  { name: 'TL0', hi: 330, lo: 330, kind: 'flag', relevant: hasS2, meaning: 'enable stage-2 TopLevel0 checks (VTCR_EL2.TL0)' },
  { name: 'TL1', hi: 331, lo: 331, kind: 'flag', relevant: hasS2, meaning: 'enable stage-2 TopLevel1 checks (VTCR_EL2.TL1)' },
  {
    name: 'VMSPtr', hi: 375, lo: 332, kind: 'address', relevant: vmsUsed,
    meaning: 'physical address of the Virtual Machine Structure (nested with S1MPAM)',
  },
  // qword 6
  { name: 'S2SW', hi: 384, lo: 384, kind: 'flag', relevant: never, meaning: 'NS of stage-2 walks for the Secure IPA space (Secure STEs only)' },
  { name: 'S2SA', hi: 385, lo: 385, kind: 'flag', relevant: never, meaning: 'NS output of Secure IPA translations (Secure STEs only)' },
  { name: 'S_S2SL0_2', hi: 386, lo: 386, kind: 'flag', relevant: never, meaning: 'bit 2 of S_S2SL0 (Secure STEs only)' },
  { name: 'S_S2TTB', hi: 439, lo: 388, kind: 'address', relevant: never, meaning: 'Secure stage-2 translation table base (Secure STEs only)' },
  { name: 'S_S2SKL', hi: 446, lo: 445, kind: 'uint', relevant: never, meaning: 'levels skipped at the initial Secure stage-2 lookup (VMSAv9-128)' },
  // qword 7
  ...s2poi,
];

// ---------------------------------------------------------------------------------------
// Rules. Every 'error' below is a condition the specification makes ILLEGAL.

const err = (field: string, rule: string, message: string): Problem => ({ field, rule, severity: 'error', message });
const warn = (field: string, rule: string, message: string): Problem => ({ field, rule, severity: 'warning', message });
const kb = (bytes: bigint): string => (bytes >= 1024n ? `${bytes / 1024n}KB` : `${bytes} bytes`);

/** Fields that are RES0 on an SMMU without a feature: the context flag saying it has it, the fields, why. */
const FEATURE_FIELDS: readonly (readonly [keyof ArchContext, readonly string[], string])[] = [
  ['attrTypesOvr', ['MTCFG', 'MemAttr', 'ALLOCCFG', 'SHCFG'], 'without IDR1.ATTR_TYPES_OVR (the incoming type, hints and shareability are used)'],
  ['attrPermsOvr', ['PRIVCFG', 'INSTCFG'], 'without IDR1.ATTR_PERMS_OVR (the incoming attributes are used)'],
  ['mpam', ['S1MPAM', 'PARTID', 'PMG'], 'without MPAM (IDR3.MPAM=0)'],
  ['fwb', ['S2FWB'], 'without stage-2 forced write-back (IDR3.FWB=0)'],
  ['s2pi', ['S2PIE'], 'without stage-2 permission indirection (IDR3.S2PI=0)'],
  ['s2po', ['S2POE'], 'without stage-2 permission overlays (IDR3.S2PO=0)'],
  ['dpt', ['DPT_VMATCH'], 'without DPT (IDR3.DPT=0)'],
  ['ds', ['S2DS', 'S2SL0_2'], 'without 52-bit addressing for 4KB/16KB granules (IDR5.DS=0)'],
  ['d128', ['S2SKL'], 'without VMSAv9-128 tables (IDR5.D128=0)'],
];

const STE_RULES: Rule[] = [
  {
    id: 'stage-implemented',
    check: (d) => {
      if (!valid(d)) return undefined;
      const c = config(d);
      if ((c === CFG_S1 || c === CFG_NESTED) && d.ctx.s1p === false) {
        return err('Config', 'illegal', `Config=${c === CFG_S1 ? 'S1_TRANS' : 'NESTED'} needs stage 1, which this SMMU lacks (IDR0.S1P=0); ` +
          'use S2_TRANS or BYPASS');
      }
      if ((c === CFG_S2 || c === CFG_NESTED) && d.ctx.s2p === false) {
        return err('Config', 'illegal', `Config=${c === CFG_S2 ? 'S2_TRANS' : 'NESTED'} needs stage 2, which this SMMU lacks (IDR0.S2P=0); ` +
          'use S1_TRANS or BYPASS');
      }
      return undefined;
    },
  },
  {
    id: 's1cdmax-range',
    check: (d) => {
      if (!hasS1(d) || d.ctx.ssidSize === 0) return undefined;
      // The architecture's largest SSIDSIZE is 20 (1M substreams).
      const max = d.ctx.ssidSize ?? 20;
      const n = d.num('S1CDMax');
      if (n <= max) return undefined;
      return err('S1CDMax', 'range', `S1CDMax=${n} exceeds the SubstreamID size ${max}` +
        `${d.ctx.ssidSize === undefined ? ' (the architectural maximum)' : ' (IDR1.SSIDSIZE)'}; use 0..${max}`);
    },
  },
  {
    id: 's1fmt-cd2l',
    check: (d) => {
      if (!substreams(d) || d.ctx.cd2l !== false) return undefined;
      const fmt = d.num('S1Fmt');
      if (fmt !== 1 && fmt !== 2) return undefined;
      return err('S1Fmt', 'illegal', `S1Fmt=${fmt === 1 ? '4K_L2' : '64K_L2'} selects a 2-level CD table, which this SMMU ` +
        'does not support (IDR0.CD2L=0); use S1Fmt=LINEAR');
    },
  },
  {
    id: 's1contextptr-align',
    check: (d) => {
      if (!substreams(d)) return undefined;
      const n = cdMax(d);
      const fmt = d.num('S1Fmt');
      // Bits of S1ContextPtr below the table's size are RES0 (the table is size-aligned).
      let alignBits = 6;
      let what = '';
      if (fmt === 0 || fmt === 3) {
        alignBits = n + 6;
        what = `a linear table of 2^${n} CDs`;
      } else if (fmt === 1 && n > 9) {
        alignBits = n - 3;
        what = `an L1 table of 2^${n - 6} L1CDs`;
      } else if (fmt === 2 && n > 13) {
        alignBits = n - 7;
        what = `an L1 table of 2^${n - 10} L1CDs`;
      }
      const ptr = d.get('S1ContextPtr');
      const size = 1n << BigInt(alignBits);
      if (alignBits <= 6 || (ptr & (size - 1n)) === 0n) return undefined;
      return warn('S1ContextPtr', 'align', `S1ContextPtr ${hex(ptr)} is not aligned to the size of ${what} (${kb(size)}): ` +
        `bits [${alignBits - 1}:6] are RES0 and which CD the SMMU fetches is CONSTRAINED UNPREDICTABLE; ` +
        `align it to ${hex(size)}, e.g. ${hex(ptr & ~(size - 1n))}`);
    },
  },
  {
    id: 's1contextptr-range',
    check: (d) => {
      if (!hasS1(d)) return undefined;
      // A PA must fit the OAS; with stage 2 it is an IPA and must fit the IAS.
      const nested = config(d) === CFG_NESTED;
      const bits = nested ? iasBits(d) : d.ctx.oas;
      if (bits === undefined) return undefined;
      const ptr = d.get('S1ContextPtr');
      if (ptr >> BigInt(bits) === 0n) return undefined;
      return err('S1ContextPtr', 'range', `S1ContextPtr ${hex(ptr)} lies beyond the ${bits}-bit ` +
        `${nested ? 'IPA' : 'physical'} address range (${nested ? 'IAS' : 'IDR5.OAS'}); use an address below ${hex(1n << BigInt(bits))}`);
    },
  },
  {
    id: 'strw',
    check: (d) => {
      if (!valid(d) || config(d) !== CFG_S1) return undefined;
      const strw = d.num('STRW');
      if (strwUsed(d) && strw === 1) {
        return err('STRW', 'illegal', 'STRW=0b01 (EL3) is ILLEGAL in a Non-secure STE; use NSEL1 (0) or EL2 (2)');
      }
      if (!strwUsed(d) && strw !== 0) {
        const why = d.ctx.s1p === false ? 'the SMMU has no stage 1' : 'the SMMU has no EL2 support (IDR0.Hyp=0)';
        return warn('STRW', 'res0', `STRW is RES0 because ${why}; write 0 (the stream is NS-EL1)`);
      }
      return undefined;
    },
  },
  {
    id: 'stall-model',
    check: (d) => {
      const model = d.ctx.stallModel;
      if (model === undefined) return undefined;
      const out: Problem[] = [];
      if (hasS1(d) && d.num('S1STALLD') === 1 && model !== 0) {
        out.push(err('S1STALLD', 'illegal', `S1STALLD=1 is ILLEGAL when the stall model is not configurable ` +
          `(IDR0.STALL_MODEL=${model}: ${model === 1 ? 'no stalling' : 'stalls forced'}); clear S1STALLD`));
      }
      if (hasS2(d) && d.num('S2S') === 1 && model === 1) {
        out.push(err('S2S', 'illegal', 'S2S=1 is ILLEGAL: this SMMU does not support stalling (IDR0.STALL_MODEL=1); clear S2S'));
      }
      if (hasS2(d) && d.num('S2S') === 0 && model === 2) {
        out.push(err('S2S', 'illegal', 'S2S=0 is ILLEGAL: this SMMU forces the stall model (IDR0.STALL_MODEL=2); set S2S=1'));
      }
      return out;
    },
  },
  {
    id: 'eats',
    check: (d) => {
      if (!translates(d)) return undefined;
      const eats = d.num('EATS');
      if (eats === 0) return undefined;
      if (d.ctx.ats === false) {
        return warn('EATS', 'unsupported', `EATS=${eats} is ignored: this SMMU has no ATS (IDR0.ATS=0), so devices cannot ` +
          'use ATS; write EATS=ABT (0)');
      }
      const c = config(d);
      const s2s = d.num('S2S') === 1;
      if (eats === 2) {
        if (c !== CFG_NESTED) {
          return err('EATS', 'illegal', 'EATS=S1CHK (split-stage ATS) is ILLEGAL unless Config=NESTED; use EATS=TRANS or ABT');
        }
        if (s2s) return err('EATS', 'illegal', 'EATS=S1CHK is ILLEGAL with S2S=1 (stalling stage 2); clear S2S or use EATS=ABT');
        // IDR0.NS1ATS=1 says split-stage ATS is NOT supported.
        if (d.ctx.ns1ats === true) {
          return err('EATS', 'illegal', 'EATS=S1CHK is ILLEGAL: this SMMU has no split-stage ATS (IDR0.NS1ATS=1); use EATS=TRANS');
        }
      }
      if (eats === 3 && d.ctx.dpt === false) {
        return warn('EATS', 'reserved-value', 'EATS=TRANS_DPT is reserved without DPT (IDR3.DPT=0) and behaves as ABT: ' +
          'ATS is refused; use EATS=TRANS for ATS without DPT checks');
      }
      if (eats === 3 && d.ctx.dpt === true && strwUsed(d) && d.num('STRW') === 2) {
        return err('EATS', 'illegal', 'EATS=TRANS_DPT is ILLEGAL for an EL2 StreamWorld (STRW=EL2): DPT checks are for EL1 streams; ' +
          'use STRW=NSEL1 or EATS=TRANS');
      }
      if ((eats === 1 || eats === 3) && s2s && hasS2(d)) {
        return err('EATS', 'illegal', `EATS=${eats === 1 ? 'TRANS' : 'TRANS_DPT'} is ILLEGAL with S2S=1 when stage 2 translates ` +
          '(ATS cannot stall); clear S2S or use EATS=ABT');
      }
      return undefined;
    },
  },
  {
    id: 's2vmid-width',
    check: (d) => {
      if (d.ctx.vmid16 !== false) return undefined;
      const vmidField = STE.fields.find((f) => f.name === 'S2VMID');
      if (!vmidField?.relevant?.(d)) return undefined;
      const vmid = d.num('S2VMID');
      if (vmid <= 0xff) return undefined;
      return err('S2VMID', 'illegal', `S2VMID=${vmid} (${hex(vmid)}) needs 16-bit VMIDs, which this SMMU lacks (IDR0.VMID16=0); ` +
        'use a VMID below 256');
    },
  },
  {
    id: 's2-granule',
    check: (d) => {
      if (!hasS2(d) || vmsa32(d) || d.ctx.granules === undefined) return undefined;
      const g = TG0_KB[d.num('S2TG')];
      if (g === undefined || d.ctx.granules.includes(g)) return undefined;
      return err('S2TG', 'illegal', `S2TG selects a ${g}KB granule, which this SMMU does not support (IDR5); ` +
        `use one of ${d.ctx.granules.map((x) => `${x}K`).join(', ')}`);
    },
  },
  {
    id: 's2t0sz-range',
    check: (d) => {
      if (!hasS2(d) || vmsa32(d)) return undefined; // VMSAv8-32: every 4-bit value is in range
      const g = TG0_KB[d.num('S2TG')];
      if (g === undefined) return undefined;
      // S2DS counts only where the SMMU has it (IDR5.DS).
      const ds = d.num('S2DS') === 1 && g !== 64 && d.ctx.ds !== false;
      const max = d.ctx.stt === false ? 39 : g === 64 ? 47 : 48;
      const ias = iasBits(d);
      const base = vmsa128(d) ? 8 : g === 64 || ds ? 12 : 16;
      const min = ias === undefined ? base : Math.max(base, 64 - ias);
      const t0sz = d.num('S2T0SZ');
      if (t0sz >= min && t0sz <= max) return undefined;
      return err('S2T0SZ', 'range', `S2T0SZ=${t0sz} (${64 - t0sz}-bit IPA) is out of range for a ${g}KB granule: ` +
        `valid values are ${min}..${max} (${64 - max}- to ${64 - min}-bit IPA)` +
        (t0sz > max && d.ctx.stt === false ? '; values above 39 need IDR3.STT' : ''));
    },
  },
  {
    id: 's2-walk',
    check: (d) => {
      if (!hasS2(d)) return undefined;
      const w = s2Walk(d);
      if (!w) return undefined; // reserved S2TG, reported generically
      if (w.slError) return err('S2SL0', 'illegal', `${w.slError}; the STE is ILLEGAL`);
      const ds = aa64(d) && d.num('S2DS') === 1 && w.granuleKb !== 64;
      const { min, max } = levelRange(w.granuleKb, w.startLevel ?? 0, ds);
      if (w.ipaBits >= min && w.ipaBits <= max) return undefined;
      return err('S2SL0', 'illegal', `start level ${w.startLevel} (S2SL0=${d.num('S2SL0')}) with a ${w.granuleKb}KB granule ` +
        `translates ${min}- to ${max}-bit IPAs (at most 16 concatenated tables), but S2T0SZ=${d.num('S2T0SZ')} gives ` +
        `${w.ipaBits} bits; use ${suggestSl0(w, aa64(d))} or change S2T0SZ`);
    },
  },
  {
    id: 's2ttb',
    check: (d) => {
      if (!hasS2(d)) return undefined;
      const out: Problem[] = [];
      const ttb = d.get('S2TTB');
      const pa = s2PaBits(d);
      if (ttb >> BigInt(pa) !== 0n) {
        out.push(err('S2TTB', 'range', `S2TTB ${hex(ttb)} lies beyond the ${pa}-bit effective stage-2 output size ` +
          `(S2PS${d.ctx.oas !== undefined ? ' capped by OAS' : ''}${vmsa32(d) ? ', 40 bits for VMSAv8-32' : ''}); ` +
          `use a table below ${hex(1n << BigInt(pa))}`));
      }
      const w = s2Walk(d);
      if (w?.startLevel !== undefined) {
        const ds = aa64(d) && d.num('S2DS') === 1 && w.granuleKb !== 64;
        const { min, max } = levelRange(w.granuleKb, w.startLevel, ds);
        if (w.ipaBits >= min && w.ipaBits <= max) {
          const { tables, bytes } = startTables(w);
          const align = pa === 52 && bytes < 64n ? 64n : bytes;
          if ((ttb & (align - 1n)) !== 0n) {
            out.push(warn('S2TTB', 'align', `S2TTB ${hex(ttb)} is not aligned to its start-level table` +
              `${tables > 1 ? `s (${tables} concatenated)` : ''} of ${kb(align)}: the SMMU ignores the low bits and ` +
              `walks ${hex(ttb & ~(align - 1n))}; align S2TTB to ${hex(align)}`));
          }
        }
      }
      return out;
    },
  },
  {
    id: 's2-format',
    check: (d) => {
      const ttf = d.ctx.ttf;
      if (!hasS2(d) || ttf === undefined) return undefined;
      const ttfText = `IDR0.TTF=0b${ttf.toString(2).padStart(2, '0')}`;
      if (aa64(d) && (ttf & 2) === 0) {
        return err('S2AA64', 'illegal', `S2AA64=1 selects VMSAv8-64 tables, which this SMMU does not support (${ttfText}); ` +
          'clear S2AA64 for VMSAv8-32 LPAE tables');
      }
      if (!aa64(d) && d.ctx.d128 === false && (ttf & 1) === 0) {
        return err('S2AA64', 'illegal', `S2AA64=0 selects VMSAv8-32 LPAE tables, which this SMMU does not support (${ttfText}, ` +
          'no IDR5.D128); set S2AA64=1 for VMSAv8-64 tables');
      }
      return undefined;
    },
  },
  {
    id: 's2-vmsa32',
    check: (d) => {
      if (!hasS2(d) || !vmsa32(d)) return undefined;
      // VMSAv8-32 LPAE stage 2 has no FWB, no HTTU, no permission indirection. S2FWB and
      // S2PIE are only RES0 (not ILLEGAL) on an SMMU without FWB / S2PI: see 'feature-res0'.
      const out: Problem[] = [];
      if (d.num('S2FWB') === 1 && d.ctx.fwb !== false) {
        out.push(err('S2FWB', 'illegal', 'S2FWB=1 is ILLEGAL with VMSAv8-32 LPAE stage 2 (S2AA64=0); clear S2FWB or set S2AA64'));
      }
      if (d.num('S2HA') === 1 || d.num('S2HD') === 1) {
        out.push(err(d.num('S2HA') === 1 ? 'S2HA' : 'S2HD', 'illegal',
          'hardware Access/dirty update (S2HA/S2HD) is ILLEGAL with VMSAv8-32 LPAE stage 2; clear them or set S2AA64'));
      }
      if (d.num('S2PIE') === 1 && d.ctx.s2pi !== false) {
        out.push(err('S2PIE', 'illegal', 'S2PIE=1 is ILLEGAL with VMSAv8-32 LPAE stage 2; clear S2PIE or set S2AA64'));
      }
      return out;
    },
  },
  {
    id: 's2-httu',
    check: (d) => {
      if (!hasS2(d) || vmsa32(d)) return undefined; // VMSAv8-32: see 's2-vmsa32'
      const ha = d.num('S2HA') === 1;
      const hd = d.num('S2HD') === 1;
      const httu = d.ctx.httu;
      if ((ha || hd) && httu === 0) {
        return err(ha ? 'S2HA' : 'S2HD', 'illegal', 'S2HA/S2HD are ILLEGAL: this SMMU has no hardware table update (IDR0.HTTU=0); clear them');
      }
      if (hd && httu === 1) {
        return err('S2HD', 'illegal', 'S2HD=1 is ILLEGAL: this SMMU updates only the Access flag (IDR0.HTTU=1); clear S2HD');
      }
      if (hd && !ha) {
        return warn('S2HD', 'reserved-value', '{S2HA,S2HD}=0b01 is reserved and behaves as no hardware update; set S2HA=1 too, or clear S2HD');
      }
      if (d.num('S2HAFT') === 1 && !ha && httu === 3) {
        return err('S2HAFT', 'illegal', 'S2HAFT=1 is ILLEGAL without S2HA=1; set S2HA or clear S2HAFT');
      }
      return undefined;
    },
  },
  {
    id: 's2-endianness',
    check: (d) => {
      if (!hasS2(d)) return undefined;
      const endi = d.num('S2ENDI');
      if (d.ctx.ttendian === 2 && endi === 1) {
        return err('S2ENDI', 'illegal', 'S2ENDI=BE is ILLEGAL: this SMMU walks little-endian tables only (IDR0.TTENDIAN=2); use LE');
      }
      if (d.ctx.ttendian === 3 && endi === 0) {
        return err('S2ENDI', 'illegal', 'S2ENDI=LE is ILLEGAL: this SMMU walks big-endian tables only (IDR0.TTENDIAN=3); use BE');
      }
      return undefined;
    },
  },
  {
    id: 's2-overlay',
    check: (d) => {
      // Without IDR3.S2PO, S2POE is RES0 (see 'feature-res0'); VMSAv9-128 always uses indirection.
      if (!hasS2(d) || vmsa32(d) || d.num('S2POE') === 0 || d.ctx.s2po === false) return undefined;
      if (d.num('S2PIE') === 0 && !vmsa128(d)) {
        return err('S2POE', 'illegal', 'S2POE=1 is ILLEGAL with the direct permission scheme; set S2PIE=1 or clear S2POE');
      }
      // The S2HWU bits are IGNORED without IDR3.PBHA, so they cannot clash then.
      const hwu = d.ctx.pbha === false ? [] : S2HWU.filter((n) => d.num(n) === 1);
      if (hwu.length) {
        return err('S2POE', 'illegal', `S2POE=1 is ILLEGAL while ${hwu.join(', ')} ${hwu.length > 1 ? 'are' : 'is'} set; ` +
          'clear the S2HWU bits or S2POE');
      }
      return undefined;
    },
  },
  {
    id: 'vmsptr-range',
    check: (d) => {
      if (d.ctx.oas === undefined || !vmsUsed(d)) return undefined;
      const p = d.get('VMSPtr');
      if (p >> BigInt(d.ctx.oas) === 0n) return undefined;
      return err('VMSPtr', 'range', `VMSPtr ${hex(p)} lies beyond the ${d.ctx.oas}-bit OAS; use an address below ${hex(1n << BigInt(d.ctx.oas))}`);
    },
  },
  {
    id: 'config-res0',
    // Fields that the configuration, or a feature the SMMU lacks, makes RES0 (each reported once).
    check: (d) => {
      const out: Problem[] = [];
      const res0 = (f: string, why: string): void => {
        if (d.get(f) === 0n || out.some((p) => p.field === f)) return;
        out.push(warn(f, 'res0', `${f} is RES0 ${why}; write 0`));
      };
      // Fields of an invalid STE, or of an aborting one, are IGNORED rather than RES0.
      if (!passes(d)) return out;
      for (const [flag, fields, why] of FEATURE_FIELDS) if (d.ctx[flag] === false) for (const f of fields) res0(f, why);
      if (d.num('MTCFG') === 0) res0('MemAttr', 'when MTCFG=0');
      if (translates(d) && d.num('EATS') !== 3) res0('DPT_VMATCH', 'unless EATS=TRANS_DPT');
      if (!hasS2(d)) return out;
      if (vmsa32(d)) {
        res0('S2TG', 'with VMSAv8-32 LPAE (S2AA64=0; the granule is 4KB)');
        res0('S2DS', 'with VMSAv8-32 LPAE (S2AA64=0)');
        res0('S2SL0_2', 'with VMSAv8-32 LPAE (S2AA64=0)');
        return out;
      }
      if (vmsa128(d)) {
        for (const f of ['S2SL0', 'S2SL0_2', 'S2DS', 'S2PIE', ...S2HWU]) res0(f, 'with VMSAv9-128 tables (S2AA64=0, IDR5.D128=1)');
      } else {
        res0('S2SKL', 'with VMSAv8-64 tables (S2AA64=1)');
        if (d.num('S2TG') === 1) res0('S2DS', 'with a 64KB granule');
        if (!(d.num('S2TG') === 0 && d.num('S2DS') === 1)) res0('S2SL0_2', 'unless S2TG=4K and S2DS=1');
      }
      if (d.num('S2POE') === 0 || d.ctx.s2po === false) {
        const set = s2poi.filter((f) => d.get(f.name) !== 0n).map((f) => f.name);
        const why = d.num('S2POE') === 0 ? 'while S2POE=0' : 'without IDR3.S2PO';
        if (set.length) out.push(warn(set[0], 'res0', `${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} RES0 ${why}; write 0`));
      }
      return out;
    },
  },
];

// ---------------------------------------------------------------------------------------
// Summary.

/** Whether the SMMU would treat the STE as ILLEGAL: an 'error' rule, or an undefined value in a used enum field. */
function isIllegal(d: FieldReader): boolean {
  for (const f of STE.fields) {
    if (f.kind !== 'enum' || !(f.relevant?.(d) ?? true)) continue;
    const v = d.num(f.name);
    const e = f.values?.find((x) => x.value === v);
    if (!e || e.illegal) return true;
  }
  for (const r of STE_RULES) {
    const p = r.check(d);
    const list: readonly Problem[] = p === undefined ? [] : Array.isArray(p) ? p : [p as Problem];
    if (list.some((x) => x.severity === 'error')) return true;
  }
  return false;
}

function cdText(d: FieldReader): string {
  const ptr = hex(d.get('S1ContextPtr'));
  const n = cdMax(d);
  if (n === 0) return `1 CD at ${ptr}`;
  const dss = ['TERMINATE', 'BYPASS', 'SSID0', 'RESERVED'][d.num('S1DSS')];
  const layout = ['linear CD table', '2-level CD table (4KB leaves)', '2-level CD table (64KB leaves)', 'linear CD table'][d.num('S1Fmt')];
  return `${layout} of 2^${n} CDs at ${ptr}, S1DSS=${dss}`;
}

function s2Text(d: FieldReader): string {
  const head = `VMID ${d.num('S2VMID')}, S2TTB ${hex(d.get('S2TTB'))}`;
  if (vmsa128(d)) {
    const g = TG0_KB[d.num('S2TG')];
    return `${head}, ${g ? `${g}K granule` : 'reserved S2TG'} (VMSAv9-128), ${64 - d.num('S2T0SZ')}-bit IPA`;
  }
  const w = s2Walk(d);
  if (!w) return `${head}, reserved S2TG`;
  const gran = `${w.granuleKb}K granule${vmsa32(d) ? ' (VMSAv8-32)' : ''}`;
  if (w.startLevel === undefined) return `${head}, ${gran}, ${w.ipaBits}-bit IPA, invalid S2SL0`;
  const { tables } = startTables(w);
  return `${head}, ${gran}, ${w.ipaBits}-bit IPA, start level ${w.startLevel}` +
    (tables > 1 ? ` (${tables} concatenated tables)` : '');
}

const ATS_TEXT = ['', '; ATS enabled', '; split-stage ATS', '; ATS with DPT checks'];

function steBody(d: FieldReader): string {
  const c = config(d);
  // Without DPT, TRANS_DPT behaves as ABT.
  const eats = d.num('EATS') === 3 && d.ctx.dpt === false ? 0 : d.num('EATS');
  const ats = d.ctx.ats === false ? '' : ATS_TEXT[eats];
  switch (c) {
    case CFG_ABORT:
      return 'abort: transactions terminated, no event';
    case CFG_BYPASS:
      return 'bypass: stage 1 and 2 bypass';
    case CFG_S1:
      return `stage-1 translate, stage 2 bypass; ${cdText(d)}${strwUsed(d) && d.num('STRW') === 2 ? '; EL2 stream' : ''}${ats}`;
    case CFG_S2:
      return `stage-2 translate, ${s2Text(d)}${ats}`;
    case CFG_NESTED:
      return `nested: stage-1 then stage-2 translate; ${cdText(d)} (IPA); ${s2Text(d)}${ats}`;
    default:
      return `abort (reserved Config 0b${c.toString(2).padStart(3, '0')} behaves as ABORT): transactions terminated, no event`;
  }
}

function steSummary(d: FieldReader): string {
  if (!valid(d)) return 'invalid (V=0): transactions abort with C_BAD_STE';
  const body = steBody(d);
  return isIllegal(d) ? `ILLEGAL, behaves as V=0 (C_BAD_STE): ${body}` : body;
}

export const STE: Layout = defineLayout({
  kind: 'ste',
  title: 'Stream Table Entry',
  wordBits: 64,
  words: 8,
  fields: STE_FIELDS,
  rules: STE_RULES,
  summary: steSummary,
});

// ---------------------------------------------------------------------------------------
// Level-1 Stream Table Descriptor.

/** The largest valid Span with the stream table's SPLIT (a level-2 table has at most 2^SPLIT STEs), when known. */
const spanMax = (d: FieldReader): number | undefined => (d.ctx.split === undefined ? undefined : effectiveSplit(d.ctx.split) + 1);
/** Span 1..11 (and at most SPLIT+1) describes 2^(Span-1) STEs; 0 is invalid and 12..31 are reserved (behave as 0). */
const spanValid = (d: FieldReader): boolean => d.num('Span') >= 1 && d.num('Span') <= Math.min(11, spanMax(d) ?? 11);

export const L1STD: Layout = defineLayout({
  kind: 'l1std',
  title: 'Level 1 Stream Table Descriptor',
  wordBits: 64,
  words: 1,
  fields: [
    {
      name: 'Span', hi: 4, lo: 0, kind: 'uint',
      meaning: 'size of the level-2 STE array: 2^(Span-1) STEs; 0 = invalid',
      show: (v) => {
        const n = Number(v);
        if (n === 0) return 'invalid';
        if (n > 11) return 'reserved, behaves as 0 (invalid)';
        return `2^${n - 1} = ${2 ** (n - 1)} STE${n === 1 ? '' : 's'}`;
      },
    },
    {
      name: 'L2Ptr', hi: 55, lo: 6, kind: 'address', relevant: spanValid,
      meaning: 'address of the level-2 STE array (aligned to its size)',
    },
  ],
  rules: [
    {
      id: 'span-reserved',
      check: (d) => {
        const span = d.num('Span');
        if (span <= 11) return undefined;
        return err('Span', 'reserved-value', `Span=${span} is reserved and behaves as 0: every StreamID of this descriptor ` +
          'is invalid (C_BAD_STREAMID); use 1..11 (2^(Span-1) STEs, at most SPLIT+1)');
      },
    },
    {
      id: 'span-split',
      check: (d) => {
        const span = d.num('Span');
        const max = spanMax(d);
        if (max === undefined || span > 11 || span <= max) return undefined;
        return err('Span', 'range', `Span=${span} (2^${span - 1} STEs) is larger than a level-2 table with ` +
          `STRTAB_BASE_CFG.SPLIT=${max - 1} can be: every StreamID of this descriptor is invalid (C_BAD_STREAMID); ` +
          `use Span ${max} (SPLIT+1) or less`);
      },
    },
    {
      id: 'l2ptr-align',
      check: (d) => {
        if (!spanValid(d)) return undefined;
        const size = 1n << BigInt(d.num('Span') + 5); // 2^(Span-1) STEs of 64 bytes
        const p = d.get('L2Ptr');
        if ((p & (size - 1n)) === 0n) return undefined;
        return warn('L2Ptr', 'align', `L2Ptr ${hex(p)} is not aligned to the size of its ${2 ** (d.num('Span') - 1)}-STE array ` +
          `(${kb(size)}): the SMMU treats bits [${d.num('Span') + 4}:0] as zero and reads STEs from ${hex(p & ~(size - 1n))}; ` +
          `align L2Ptr to ${hex(size)}`);
      },
    },
    {
      id: 'l2ptr-range',
      check: (d) => {
        if (!spanValid(d) || d.ctx.oas === undefined) return undefined;
        const p = d.get('L2Ptr');
        if (p >> BigInt(d.ctx.oas) === 0n) return undefined;
        return err('L2Ptr', 'range', `L2Ptr ${hex(p)} lies beyond the ${d.ctx.oas}-bit OAS (bits above it are RES0); ` +
          `use an address below ${hex(1n << BigInt(d.ctx.oas))}`);
      },
    },
  ],
  summary: (d) => {
    const span = d.num('Span');
    if (span === 0) return 'invalid (Span=0): StreamIDs of this descriptor abort with C_BAD_STREAMID';
    if (span > 11) return `invalid (reserved Span ${span} behaves as 0): StreamIDs of this descriptor abort with C_BAD_STREAMID`;
    if (!spanValid(d)) return `invalid (Span ${span} > SPLIT+1 = ${spanMax(d)}): StreamIDs of this descriptor abort with C_BAD_STREAMID`;
    const n = 2 ** (span - 1);
    return `L2 table of ${n} STE${n === 1 ? '' : 's'} at ${hex(d.get('L2Ptr'))}`;
  },
});
