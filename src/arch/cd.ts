/**
 * The Context Descriptor (CD, 64 bytes) and the Level 1 Context Descriptor (L1CD, 8 bytes),
 * SMMUv3 spec sections 5.4 and 5.3. A CD holds the stage 1 translation regime of one
 * SubstreamID: the TTB0/TTB1 table bases and their TCR-like controls, the ASID and MAIR.
 *
 * AA64=0 selects VMSAv8-32 LPAE tables, or VMSAv9-128 tables when SMMU_IDR5.D128=1: it is
 * read as VMSAv8-32 unless the context says D128=1. The VMSAv9-128 walk (SKLx) is not
 * modelled, only the checks that do not depend on it; the D128-only meanings of shared bits
 * (DisCHx, SKLx) are named in the meanings. Checks that need a feature of the SMMU apply
 * only when the context says whether it has it.
 */
import { hex } from './codec';
import {
  ADDRESS_SIZE_BITS, OUTPUT_SIZE, SHAREABILITY, TG0_GRANULES, TG0_KB, TG1_GRANULES, TG1_KB, WALK_CACHEABILITY,
} from './encodings';
import { defineLayout, EnumValue, FieldDraft, FieldReader, Granule, Layout, Problem, Rule } from './field';

// ---------------------------------------------------------------------------------------
// Encodings

// TG0 and TG1 use different codes, as TCR_ELx.TG0/TG1 do; the reserved one makes the CD ILLEGAL.
const TG0_VALUES: readonly EnumValue[] = [...TG0_GRANULES, {
  value: 3, name: 'RESERVED', reserved: true, illegal: true,
  meaning: 'reserved code (C_BAD_CD unless EPD0=1): use 0 (4K), 1 (64K) or 2 (16K), or disable TTB0 walks with EPD0=1',
}];
const TG1_VALUES: readonly EnumValue[] = [{
  value: 0, name: 'RESERVED', reserved: true, illegal: true,
  meaning: 'reserved code (C_BAD_CD unless EPD1=1): use 1 (16K), 2 (4K) or 3 (64K), or disable TTB1 walks with EPD1=1',
}, ...TG1_GRANULES];

// Permission indirection: 3-bit base permissions; 0b100 and 0b110 make the CD ILLEGAL.
const PI_RESERVED = 'reserved code (C_BAD_CD while permission indirection is on): use 0 (none), 1 (RO), 2 (XO), 3 (RX), ' +
  '5 (RW) or 7 (RWX)';
const PI_VALUES: readonly EnumValue[] = [
  { value: 0, name: 'NONE', meaning: 'no access' },
  { value: 1, name: 'RO', meaning: 'read-only' },
  { value: 2, name: 'XO', meaning: 'execute-only' },
  { value: 3, name: 'RX', meaning: 'read and execute' },
  { value: 4, name: 'RES_100', meaning: PI_RESERVED, reserved: true, illegal: true },
  { value: 5, name: 'RW', meaning: 'read and write' },
  { value: 6, name: 'RES_110', meaning: PI_RESERVED, reserved: true, illegal: true },
  { value: 7, name: 'RWX', meaning: 'read, write and execute' },
];

// ---------------------------------------------------------------------------------------
// Reading the configuration

const is = (d: FieldReader, name: string): boolean => d.get(name) !== 0n;
const valid = (d: FieldReader): boolean => is(d, 'V');
/** VMSAv8-64 tables. */
const aa64 = (d: FieldReader): boolean => is(d, 'AA64');
/** AA64=0 with SMMU_IDR5.D128=1: VMSAv9-128 tables. */
const vmsa128 = (d: FieldReader): boolean => !aa64(d) && d.ctx.d128 === true;
/** AA64=0 read as VMSAv8-32 LPAE: exact with SMMU_IDR5.D128=0, assumed when D128 is unknown. */
const vmsa32 = (d: FieldReader): boolean => !aa64(d) && d.ctx.d128 !== true;
/** DS as the SMMU uses it: RES0 (so off) without SMMU_IDR5.DS. */
const dsOn = (d: FieldReader): boolean => is(d, 'DS') && d.ctx.ds !== false;
/** Permission indirection is on: PIE with VMSAv8-64, always with VMSAv9-128. */
const piOn = (d: FieldReader): boolean => (aa64(d) && is(d, 'PIE')) || vmsa128(d);
/** TTB0 walks are configured (EPD0=0). */
const walks0 = (d: FieldReader): boolean => valid(d) && !is(d, 'EPD0');
const walks1 = (d: FieldReader): boolean => valid(d) && !is(d, 'EPD1');

type Half = 0 | 1;
const tcr = (half: Half) => ({
  tsz: half === 0 ? 'T0SZ' : 'T1SZ', tg: half === 0 ? 'TG0' : 'TG1', ttb: half === 0 ? 'TTB0' : 'TTB1',
  epd: half === 0 ? 'EPD0' : 'EPD1',
});
const walks = (d: FieldReader, half: Half): boolean => (half === 0 ? walks0(d) : walks1(d));

/** The granule in KB selected by TGx, or undefined for a reserved code. VMSAv8-32 is always 4KB. */
function granuleKB(d: FieldReader, half: Half): number | undefined {
  if (vmsa32(d)) return 4;
  const code = d.num(tcr(half).tg);
  return half === 0 ? TG0_KB[code] : TG1_KB[code];
}

/** Input (VA) bits of a TTB region: 64 - TxSZ, or 32 - TxSZ[2:0] for VMSAv8-32. */
function inputBits(d: FieldReader, half: Half): number {
  const tsz = d.num(tcr(half).tsz);
  return vmsa32(d) ? 32 - (tsz & 7) : 64 - tsz;
}

/** Output address bits the SMMU uses: min(IPS, OAS); fixed 40 for VMSAv8-32. */
function effIpsBits(d: FieldReader): number {
  if (vmsa32(d)) return 40;
  const ips = ADDRESS_SIZE_BITS[d.num('IPS')];
  return d.ctx.oas !== undefined ? Math.min(ips, d.ctx.oas) : ips;
}

/**
 * The starting level and the log2 size in bytes of the first table of a walk (the VMSA
 * rule: the leaf level resolves the granule's offset bits, each level above it resolves
 * log2(granule) - 3 bits, and the top table takes what is left).
 */
function startTable(iaBits: number, granuleKB: number): { level: number; log2Bytes: number } | undefined {
  const g = Math.log2(granuleKB * 1024);
  const stride = g - 3;
  const above = iaBits - g;
  if (above < 1) return undefined;
  const levels = Math.ceil(above / stride);
  return { level: 4 - levels, log2Bytes: above - stride * (levels - 1) + 3 };
}

/** One TTB half of a CD as the model's walker takes it. */
export interface Stage1RangeWalk {
  readonly granule: 4 | 16 | 64;
  readonly inputBits: number;
  readonly startLevel: 0 | 1 | 2 | 3;
  readonly ttb: number;
  readonly ds: boolean;
  /** Output size: min(IPS, OAS). */
  readonly oasBits: number;
}

/**
 * The walk of one half (TTB0 or TTB1) of a valid VMSAv8-64 CD, from the same helpers the
 * table's checks use; undefined when walks of that half are disabled (EPDx) or the half
 * cannot be walked (VMSAv8-32 tables, a reserved granule, level -1).
 */
export function cdRangeWalk(d: FieldReader, half: Half): Stage1RangeWalk | undefined {
  if (!aa64(d) || !walks(d, half)) return undefined;
  const granule = granuleKB(d, half) as 4 | 16 | 64 | undefined;
  if (granule === undefined) return undefined;
  const bits = inputBits(d, half);
  const start = startTable(bits, granule);
  if (!start || start.level < 0) return undefined;
  return {
    granule, inputBits: bits, startLevel: start.level as 0 | 1 | 2 | 3, ttb: d.num(tcr(half).ttb),
    ds: d.get('DS') !== 0n && granule !== 64, oasBits: effIpsBits(d),
  };
}

function sizeText(log2: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const u = Math.min(Math.floor(log2 / 10), units.length - 1);
  return `${2 ** (log2 - 10 * u)} ${units[u]}`;
}

// MAIR attribute bytes, for the MAIR0/MAIR1 notes.
function cacheNibble(n: number): string {
  if (n === 0b0100) return 'NC';
  const alloc = ['', '-WA', '-RA', '-RWA'][n & 3];
  const kind = n & 0b0100 ? 'WB' : 'WT';
  return `${kind}${n & 0b1000 ? '' : '-transient'}${alloc}`;
}
/** What a MAIR attribute byte means (for CD.MAIR notes and the dump inspector). */
export function mairAttr(a: number): string {
  const hi = a >> 4;
  const lo = a & 15;
  if (hi === 0) {
    const dev = ['Device-nGnRnE', 'Device-nGnRE', 'Device-nGRE', 'Device-GRE'][lo >> 2];
    return (lo & 3) === 0 ? dev : `reserved (as ${dev})`;
  }
  if (lo === 0) return 'reserved (as Normal inner WT-transient-RWA)';
  return hi === lo ? `Normal ${cacheNibble(lo)}` : `Normal inner ${cacheNibble(lo)} outer ${cacheNibble(hi)}`;
}
function mairText(v: bigint, first: number): string {
  if (v === 0n) return `Attr${first}-${first + 3} all Device-nGnRnE`;
  const parts: string[] = [];
  for (let i = 0; i < 4; i++) {
    const a = Number((v >> BigInt(8 * i)) & 0xffn);
    parts.push(`Attr${first + i} ${hex(a, 2)} ${mairAttr(a)}`);
  }
  return parts.join('; ');
}

// ---------------------------------------------------------------------------------------
// Fields

/** TxSZ note: the VA region the TTB covers. */
const tszShow = (half: Half) => (_v: bigint, d: FieldReader): string => {
  const bits = inputBits(d, half);
  return `${bits}-bit input, ${sizeText(bits)}${vmsa32(d) ? ' (VMSAv8-32 uses TxSZ[2:0])' : ''}`;
};

/** TTBx note: where the walk starts and how big its first table is. */
const ttbShow = (half: Half) => (_v: bigint, d: FieldReader): string => {
  if (vmsa128(d)) return ''; // 128-bit descriptors: another geometry, not modelled
  const g = granuleKB(d, half);
  const t = g === undefined ? undefined : startTable(inputBits(d, half), g);
  return t ? `level-${t.level} table of ${sizeText(t.log2Bytes)}` : '';
};

const shShow = (half: Half) => (_v: bigint, d: FieldReader): string =>
  (d.get(`IR${half}`) === 0n && d.get(`OR${half}`) === 0n ? 'walks are Non-cacheable, so taken as Outer Shareable' : '');

/** The controls of one TTB region; most are IGNORED when its EPDx is 1. */
function regionFields(half: Half): FieldDraft[] {
  const base = half === 0 ? 0 : 16;
  const on = (d: FieldReader): boolean => walks(d, half);
  const t = `TTB${half}`;
  return [
    {
      name: `T${half}SZ`, hi: base + 5, lo: base, kind: 'uint', relevant: on, show: tszShow(half),
      meaning: `size of the VA region ${t} translates: 2^(64-T${half}SZ) bytes`,
    },
    {
      name: `TG${half}`, hi: base + 7, lo: base + 6, kind: 'enum', values: half === 0 ? TG0_VALUES : TG1_VALUES,
      relevant: (d) => on(d) && !vmsa32(d), meaning: `translation granule of the ${t} tables (code differs from TG${1 - half})`,
    },
    {
      name: `IR${half}`, aliases: [`irgn${half}`], hi: base + 9, lo: base + 8, kind: 'enum', values: WALK_CACHEABILITY,
      relevant: on, meaning: `inner cacheability of ${t} table walks`,
    },
    {
      name: `OR${half}`, aliases: [`orgn${half}`], hi: base + 11, lo: base + 10, kind: 'enum', values: WALK_CACHEABILITY,
      relevant: on, meaning: `outer cacheability of ${t} table walks`,
    },
    {
      name: `SH${half}`, hi: base + 13, lo: base + 12, kind: 'enum', values: SHAREABILITY, relevant: on, show: shShow(half),
      meaning: `shareability of ${t} table walks`,
    },
    {
      name: `EPD${half}`, hi: base + 14, lo: base + 14, kind: 'flag', relevant: valid,
      meaning: `1 = no ${t} walks: a TLB miss in this VA half gives a Translation fault`,
    },
  ];
}

/** PIIU<p> / PIIP<p>: 16 three-bit permission interpretations each. */
function piFields(prefix: 'PIIU' | 'PIIP', base: number): FieldDraft[] {
  const who = prefix === 'PIIU' ? 'unprivileged' : 'privileged';
  return Array.from({ length: 16 }, (_, p) => ({
    name: `${prefix}${p}`, hi: base + 3 * p + 2, lo: base + 3 * p, kind: 'enum' as const, values: PI_VALUES,
    relevant: (d: FieldReader) => valid(d) && piOn(d),
    meaning: `${who} permission for descriptors with PIIndex ${p} (permission indirection)`,
  }));
}

/** HWUxyy: page-based hardware attribute bits, used only with HADx=1 and SMMU_IDR3.PBHA (not with VMSAv9-128). */
function hwuFields(half: Half, base: number): FieldDraft[] {
  const on = (d: FieldReader): boolean => walks(d, half) && is(d, `HAD${half}`) && !vmsa128(d);
  return [59, 60, 61, 62].map((bit, i) => ({
    name: `HWU${half}${bit}`, hi: base + i, lo: base + i, kind: 'flag' as const, relevant: on,
    meaning: `1 = bit ${bit} of TTB${half} leaf descriptors has IMPLEMENTATION DEFINED hardware use (PBHA)` +
      (bit >= 61 ? `; with SMMU_IDR5.D128 bits [${base + 3}:${base + 2}] are SKL${half} instead` : ''),
  }));
}

const fields: FieldDraft[] = [
  // qword 0: the TCR-like controls, ASID.
  ...regionFields(0),
  {
    name: 'ENDI', hi: 15, lo: 15, kind: 'flag', relevant: (d) => walks0(d) || walks1(d),
    values: [{ value: 0, name: 'LE', meaning: 'little-endian tables' }, { value: 1, name: 'BE', meaning: 'big-endian tables' }],
    meaning: 'translation table endianness (Linux sets it only on big-endian kernels)',
  },
  ...regionFields(1),
  { name: 'V', hi: 31, lo: 31, kind: 'flag', meaning: 'CD valid; with V=0 the rest is ignored and use of the CD gives C_BAD_CD' },
  {
    name: 'IPS', hi: 34, lo: 32, kind: 'enum', values: OUTPUT_SIZE, relevant: (d) => !vmsa32(d) && (walks0(d) || walks1(d)),
    show: (_v, d) => (d.ctx.oas !== undefined && effIpsBits(d) < ADDRESS_SIZE_BITS[d.num('IPS')] ? `capped to the ${d.ctx.oas}-bit OAS` : ''),
    meaning: 'stage 1 output (intermediate physical) address size',
  },
  {
    name: 'AFFD', hi: 35, lo: 35, kind: 'flag', relevant: (d) => valid(d) && !is(d, 'HA'),
    meaning: '1 = never raise Access flag faults: descriptors are taken to have AF=1',
  },
  { name: 'WXN', hi: 36, lo: 36, kind: 'flag', relevant: valid, meaning: '1 = writable pages are never executable' },
  {
    name: 'UWXN', hi: 37, lo: 37, kind: 'flag', relevant: (d) => valid(d) && vmsa32(d),
    meaning: '1 = privileged instruction fetches from user-writable pages fault (VMSAv8-32 only)',
  },
  { name: 'TBI0', hi: 38, lo: 38, kind: 'flag', relevant: valid, meaning: '1 = ignore the top byte of TTB0-range addresses' },
  { name: 'TBI1', hi: 39, lo: 39, kind: 'flag', relevant: valid, meaning: '1 = ignore the top byte of TTB1-range addresses' },
  { name: 'PAN', hi: 40, lo: 40, kind: 'flag', relevant: valid, meaning: '1 = privileged data accesses to user-accessible pages fault' },
  {
    name: 'AA64', hi: 41, lo: 41, kind: 'flag', relevant: valid,
    values: [
      { value: 0, name: 'AARCH32', meaning: 'VMSAv8-32 LPAE tables (VMSAv9-128 tables if SMMU_IDR5.D128=1)' },
      { value: 1, name: 'AARCH64', meaning: 'VMSAv8-64 tables' },
    ],
    meaning: 'translation table format for TTB0 and TTB1',
  },
  {
    name: 'HD', hi: 42, lo: 42, kind: 'flag', relevant: (d) => valid(d) && !vmsa32(d),
    meaning: '1 = hardware updates dirty state (needs HA=1 and SMMU_IDR0.HTTU=A+D)',
  },
  {
    name: 'HA', hi: 43, lo: 43, kind: 'flag', relevant: (d) => valid(d) && !vmsa32(d),
    meaning: '1 = hardware updates the Access flag (needs SMMU_IDR0.HTTU)',
  },
  {
    name: 'S', hi: 44, lo: 44, kind: 'flag', relevant: valid,
    meaning: '1 = stall faulting transactions (ILLEGAL with STE.S1STALLD=1 or no stall support)',
  },
  { name: 'R', hi: 45, lo: 45, kind: 'flag', relevant: valid, meaning: '1 = record stage 1 fault events' },
  { name: 'A', hi: 46, lo: 46, kind: 'flag', relevant: valid, meaning: '1 = terminate faulting transactions with an abort, 0 = RAZ/WI' },
  {
    name: 'ASET', hi: 47, lo: 47, kind: 'flag', relevant: valid,
    values: [
      { value: 0, name: 'SHARED', meaning: 'ASID shared with the CPUs: broadcast TLBIs for it apply' },
      { value: 1, name: 'PRIVATE', meaning: 'SMMU-local ASID: needs SMMU TLBI commands' },
    ],
    meaning: 'ASID set: shared with the CPUs (0) or SMMU-private (1)',
  },
  { name: 'ASID', hi: 63, lo: 48, kind: 'uint', relevant: valid, meaning: 'address space ID tagging TLB entries from this CD' },

  // qword 1: TTB0 and its extras.
  { name: 'NSCFG0', hi: 64, lo: 64, kind: 'flag', relevant: walks0, meaning: 'NS attribute of the TTB0 starting-level fetch (Secure streams only)' },
  {
    name: 'HAD0', aliases: ['disch0'], hi: 65, lo: 65, kind: 'flag', relevant: walks0,
    meaning: '1 = ignore hierarchical attributes in TTB0 table descriptors (DisCH0 when SMMU_IDR5.D128=1)',
  },
  {
    name: 'E0PD0', hi: 66, lo: 66, kind: 'flag', relevant: (d) => valid(d) && !vmsa32(d),
    meaning: '1 = unprivileged accesses to the TTB0 range give Translation faults',
  },
  {
    name: 'HAFT', hi: 67, lo: 67, kind: 'flag', relevant: (d) => valid(d) && !vmsa32(d),
    meaning: '1 = hardware sets the Access flag in table descriptors too (needs HA=1, SMMU_IDR0.HTTU=0b11)',
  },
  {
    name: 'TTB0', hi: 119, lo: 68, kind: 'address', relevant: walks0, show: ttbShow(0),
    meaning: 'base of the TTB0 starting-level table (PA[51:4], or [55:4] for VMSAv9-128)',
  },
  {
    name: 'PnCH', hi: 122, lo: 122, kind: 'flag', relevant: (d) => valid(d) && aa64(d),
    meaning: '1 = descriptor bit 52 is the Protected attribute, not Contiguous (SMMU_IDR3.THE)',
  },
  {
    name: 'EPAN', hi: 123, lo: 123, kind: 'flag', relevant: (d) => valid(d) && aa64(d),
    meaning: '1 = PAN also blocks privileged data access to user-executable pages',
  },
  ...hwuFields(0, 124),

  // qword 2: TTB1 and its extras.
  { name: 'NSCFG1', hi: 128, lo: 128, kind: 'flag', relevant: walks1, meaning: 'NS attribute of the TTB1 starting-level fetch (Secure streams only)' },
  {
    name: 'HAD1', aliases: ['disch1'], hi: 129, lo: 129, kind: 'flag', relevant: walks1,
    meaning: '1 = ignore hierarchical attributes in TTB1 table descriptors (DisCH1 when SMMU_IDR5.D128=1)',
  },
  {
    name: 'E0PD1', hi: 130, lo: 130, kind: 'flag', relevant: (d) => valid(d) && !vmsa32(d),
    meaning: '1 = unprivileged accesses to the TTB1 range give Translation faults',
  },
  { name: 'AIE', hi: 131, lo: 131, kind: 'flag', relevant: valid, meaning: '1 = 4-bit AttrIndx (descriptor bit 59) selects MAIR bytes (SMMU_IDR3.AIE)' },
  {
    name: 'TTB1', hi: 183, lo: 132, kind: 'address', relevant: walks1, show: ttbShow(1),
    meaning: 'base of the TTB1 starting-level table (PA[51:4], or [55:4] for VMSAv9-128)',
  },
  {
    name: 'DS', hi: 186, lo: 186, kind: 'flag', relevant: (d) => valid(d) && aa64(d),
    meaning: '1 = 52-bit VA and PA with 4KB/16KB granules (LPA2; SMMU_IDR5.DS)',
  },
  {
    name: 'PIE', hi: 187, lo: 187, kind: 'flag', relevant: (d) => valid(d) && aa64(d),
    meaning: '1 = stage 1 permission indirection via PIIU/PIIP (needs SMMU_IDR3.S1PI, STE.S1PIE)',
  },
  ...hwuFields(1, 188),

  // qword 3: MAIR; Linux writes its 64-bit MAIR here whole (MAIR1:MAIR0).
  {
    name: 'MAIR0', hi: 223, lo: 192, kind: 'uint', relevant: valid, show: (v) => mairText(v, 0),
    meaning: 'memory attributes for AttrIndx 0-3 (low half of the 64-bit MAIR)',
  },
  {
    name: 'MAIR1', hi: 255, lo: 224, kind: 'uint', relevant: valid, show: (v) => mairText(v, 4),
    meaning: 'memory attributes for AttrIndx 4-7 (high half of the 64-bit MAIR)',
  },
  // qword 4
  { name: 'AMAIR0', hi: 287, lo: 256, kind: 'uint', relevant: valid, meaning: 'IMPLEMENTATION DEFINED attributes for AttrIndx 0-3; zero unless known' },
  { name: 'AMAIR1', hi: 319, lo: 288, kind: 'uint', relevant: valid, meaning: 'IMPLEMENTATION DEFINED attributes for AttrIndx 4-7; zero unless known' },
  // qword 5
  { name: 'IMPDEF[351:320]', hi: 351, lo: 320, kind: 'reserved', reserved: 'IMPDEF', meaning: 'IMPLEMENTATION DEFINED (e.g. walk QoS hints)' },
  { name: 'PARTID', hi: 367, lo: 352, kind: 'uint', relevant: valid, meaning: 'MPAM partition ID of client transactions (with STE.S1MPAM=1)' },
  { name: 'PMG', hi: 375, lo: 368, kind: 'uint', relevant: valid, meaning: 'MPAM performance monitor group (with STE.S1MPAM=1)' },
  // qwords 6 and 7: permission indirection.
  ...piFields('PIIU', 384),
  ...piFields('PIIP', 448),
];

// ---------------------------------------------------------------------------------------
// Rules (spec 5.4 and the CdIllegal() pseudo-code); ctx limits apply only when known.

const err = (field: string, rule: string, message: string): Problem => ({ field, rule, severity: 'error', message });
const warn = (field: string, rule: string, message: string): Problem => ({ field, rule, severity: 'warning', message });

/** Collects problems from a checker, skipping the whole rule for an invalid CD. */
const ifValid = (check: (d: FieldReader, out: Problem[]) => void) => (d: FieldReader): Problem[] | undefined => {
  if (!valid(d)) return undefined;
  const out: Problem[] = [];
  check(d, out);
  return out.length ? out : undefined;
};

/** TxSZ against the granule, SMMU_IDR3.STT and SMMU_IDR5.VAX (CDTxSZInvalid). */
function checkTxSZ(d: FieldReader, half: Half, out: Problem[]): void {
  const { tsz } = tcr(half);
  if (!walks(d, half) || vmsa32(d)) return; // VMSAv8-32: all 3-bit values are valid
  const v = d.num(tsz);
  const g = granuleKB(d, half);
  const gText = g ? `${g}KB granule` : 'this granule';
  const hardMax = g === 64 ? 47 : 48;
  if (v > hardMax) {
    out.push(err(tsz, 'range', `${tsz}=${v} is above the largest value ${hardMax} for the ${gText} (even with SMMU_IDR3.STT); ` +
      `the CD is ILLEGAL: use ${hardMax} or less (${64 - hardMax}-bit VA at least)`));
  } else if (v > 39 && d.ctx.stt === false) {
    out.push(err(tsz, 'range', `${tsz}=${v} needs small translation tables (SMMU_IDR3.STT), which this SMMU lacks; ` +
      `the CD is ILLEGAL: use 39 or less (25-bit VA at least)`));
  } else if (v > 39 && d.ctx.stt === undefined) {
    out.push(warn(tsz, 'range', `${tsz}=${v} is legal only if SMMU_IDR3.STT=1; without it the largest value is 39`));
  }
  if (vmsa128(d)) {
    // VMSAv9-128: 16 with 48-bit VAs; down to 8 with 56-bit ones (SMMU_IDR5.VAX=0b10, which the context cannot tell from 0b01).
    const min = d.ctx.vax === false ? 16 : 8;
    if (v < min) {
      out.push(err(tsz, 'range', `${tsz}=${v} is below the smallest value ${min} for VMSAv9-128 tables` +
        `${d.ctx.vax === false ? ' on an SMMU with 48-bit VAs (SMMU_IDR5.VAX=0)' : ''}; the CD is ILLEGAL: use ${min} or more`));
    }
    return;
  }
  const wideOk = g === 64 || dsOn(d); // 52-bit VA needs the 64KB granule or LPA2
  const noDs = is(d, 'DS') && !dsOn(d) ? ' (DS is RES0 here: SMMU_IDR5.DS=0)' : '';
  if (v < 12) {
    out.push(err(tsz, 'range', `${tsz}=${v} is below the smallest value 12 (52-bit VA); the CD is ILLEGAL: use 12..${hardMax}`));
  } else if (v < 16 && !wideOk) {
    out.push(err(tsz, 'range', `${tsz}=${v} asks for a ${64 - v}-bit VA, but more than 48 bits needs the 64KB granule or DS=1${noDs}; ` +
      `the CD is ILLEGAL: use 16 or more`));
  } else if (v < 16 && d.ctx.vax === false) {
    out.push(err(tsz, 'range', `${tsz}=${v} asks for a ${64 - v}-bit VA, but this SMMU has 48-bit VAs (SMMU_IDR5.VAX=0); ` +
      `the CD is ILLEGAL: use 16 or more`));
  } else if (v < 16 && d.ctx.vax === undefined) {
    out.push(warn(tsz, 'range', `${tsz}=${v} (${64 - v}-bit VA) is legal only if SMMU_IDR5.VAX reports 52-bit VAs; otherwise use 16 or more`));
  }
}

/** TGx: granules the SMMU does not implement are ILLEGAL (the reserved codes are marked ILLEGAL in TG0_VALUES/TG1_VALUES). */
function checkGranule(d: FieldReader, half: Half, out: Problem[]): void {
  const { tg } = tcr(half);
  if (!walks(d, half) || vmsa32(d)) return;
  const g = granuleKB(d, half);
  if (g !== undefined && d.ctx.granules && !d.ctx.granules.includes(g as Granule)) {
    out.push(err(tg, 'illegal', `${tg} selects the ${g}KB granule, which this SMMU does not implement ` +
      `(SMMU_IDR5 has ${d.ctx.granules.map((x) => `${x}KB`).join(', ')}); the CD is ILLEGAL: pick a supported granule`));
  }
}

/** TTBx within the output address range, and aligned to its starting-level table. */
function checkTtb(d: FieldReader, half: Half, out: Problem[]): void {
  const { ttb, tsz } = tcr(half);
  if (!walks(d, half)) return;
  const addr = d.get(ttb);
  const g = granuleKB(d, half);
  const eff = effIpsBits(d);
  // The tightest of: effective IPS, the VMSAv8-64 field width, and 48 bits without DS for 4K/16K.
  let limit = eff;
  let why = vmsa32(d) ? 'the 40-bit VMSAv8-32 output size' : `the effective IPS (min of IPS ${ADDRESS_SIZE_BITS[d.num('IPS')]}-bit and the OAS)`;
  if (aa64(d) && limit > 52) {
    limit = 52;
    why = 'VMSAv8-64, whose tables lie below 52 bits';
  }
  if (aa64(d) && limit > 48 && !dsOn(d) && g !== 64) {
    limit = 48;
    why = `the 48-bit limit for ${g ? `the ${g}KB granule` : 'granules below 64KB'} without DS=1`;
  }
  if (addr >> BigInt(limit) !== 0n) {
    out.push(err(ttb, 'range', `${ttb} ${hex(addr)} lies above ${limit} bits (${why}); the CD is ILLEGAL (C_BAD_CD): ` +
      `the table must be below ${hex(1n << BigInt(limit))}`));
  }
  if (vmsa128(d)) return; // the first table of a 128-bit walk depends on SKLx: not modelled
  const t = g === undefined ? undefined : startTable(inputBits(d, half), g);
  if (!t) return;
  const align = Math.max(t.log2Bytes, aa64(d) && eff === 52 ? 6 : 4);
  const low = addr & ((1n << BigInt(align)) - 1n);
  if (low !== 0n) {
    out.push(warn(ttb, 'align', `${ttb} ${hex(addr)} is not aligned to the ${sizeText(align)} of its level-${t.level} table ` +
      `(${tsz}=${d.num(tsz)}, ${g}KB granule${vmsa32(d) ? ', VMSAv8-32' : ''}${align === 6 && t.log2Bytes < 6 ? ', 52-bit IPS' : ''}): ` +
      `the SMMU ignores bits [${align - 1}:0] and walks from ${hex(addr - low)}; align the table to ${hex(1n << BigInt(align))}`));
  }
}

const rules: Rule[] = [
  {
    id: 'format',
    check: ifValid((d, out) => {
      const ttf = d.ctx.ttf;
      const ttfText = ttf === undefined ? '' : `SMMU_IDR0.TTF=0b${ttf.toString(2).padStart(2, '0')}`;
      if (aa64(d)) {
        if (ttf !== undefined && (ttf & 2) === 0) {
          out.push(err('AA64', 'illegal', `AA64=1 selects VMSAv8-64 tables, which this SMMU does not support (${ttfText}); ` +
            'the CD is ILLEGAL: clear AA64 for VMSAv8-32 LPAE tables'));
        }
        return;
      }
      if (vmsa128(d)) {
        out.push(warn('AA64', 'format', 'AA64=0 with SMMU_IDR5.D128=1 selects VMSAv9-128 tables: ILLEGAL if STE.S1PIE=0 or the ' +
          'stream is EL2; their walk (SKLx) is not checked here. Linux always sets AA64=1'));
        return;
      }
      if (d.ctx.d128 === false && ttf !== undefined && (ttf & 1) === 0) {
        out.push(err('AA64', 'illegal', `AA64=0 selects VMSAv8-32 LPAE tables, which this SMMU does not support (${ttfText}, ` +
          'no SMMU_IDR5.D128); the CD is ILLEGAL: set AA64=1 for VMSAv8-64 tables'));
        return;
      }
      out.push(warn('AA64', 'format', 'AA64=0 reads the tables as VMSAv8-32 LPAE (VMSAv9-128 if SMMU_IDR5.D128=1): ' +
        'ILLEGAL unless the SMMU has AArch32 tables (SMMU_IDR0.TTF) and the stream is EL1; ' +
        'IPS, TGx and HA/HD are then ignored. Linux always sets AA64=1'));
    }),
  },
  { id: 'txsz', check: ifValid((d, out) => { checkTxSZ(d, 0, out); checkTxSZ(d, 1, out); }) },
  { id: 'granule', check: ifValid((d, out) => { checkGranule(d, 0, out); checkGranule(d, 1, out); }) },
  { id: 'ttb', check: ifValid((d, out) => { checkTtb(d, 0, out); checkTtb(d, 1, out); }) },
  {
    id: 'ips',
    check: ifValid((d, out) => {
      const ips = ADDRESS_SIZE_BITS[d.num('IPS')];
      if (vmsa32(d) || (!walks0(d) && !walks1(d)) || d.ctx.oas === undefined || ips <= d.ctx.oas) return;
      out.push(warn('IPS', 'range', `IPS selects ${ips} bits but the SMMU's OAS is ${d.ctx.oas} bits: the SMMU uses ` +
        `${d.ctx.oas} (effective IPS = min(IPS, OAS)), which software must not rely on; set IPS to the OAS as Linux does`));
    }),
  },
  {
    id: 'endi',
    check: ifValid((d, out) => {
      if (!walks0(d) && !walks1(d)) return; // ENDI is ignored with both walks disabled
      const endi = is(d, 'ENDI');
      if (d.ctx.ttendian === 2 && endi) {
        out.push(err('ENDI', 'illegal', 'ENDI=1 (big-endian tables) but the SMMU walks little-endian tables only ' +
          '(SMMU_IDR0.TTENDIAN=0b10); the CD is ILLEGAL: clear ENDI'));
      } else if (d.ctx.ttendian === 3 && !endi) {
        out.push(err('ENDI', 'illegal', 'ENDI=0 (little-endian tables) but the SMMU walks big-endian tables only ' +
          '(SMMU_IDR0.TTENDIAN=0b11); the CD is ILLEGAL: set ENDI'));
      }
    }),
  },
  {
    id: 'httu',
    check: ifValid((d, out) => {
      if (vmsa32(d)) return; // HA/HD/HAFT are ignored for VMSAv8-32
      const ha = is(d, 'HA');
      const hd = is(d, 'HD');
      const httu = d.ctx.httu;
      if (ha && httu === 0) {
        out.push(err('HA', 'illegal', 'HA=1 but the SMMU has no hardware Access flag update (SMMU_IDR0.HTTU=0); ' +
          'the CD is ILLEGAL: clear HA (and HD)'));
      }
      if (hd && (httu === 0 || httu === 1)) {
        out.push(err('HD', 'illegal', `HD=1 but the SMMU ${httu === 0 ? 'has no hardware table updates' : 'updates only the Access flag'} ` +
          `(SMMU_IDR0.HTTU=${httu}); the CD is ILLEGAL: clear HD`));
      } else if (hd && !ha) {
        out.push(warn('HD', 'reserved-value', '{HD,HA}=0b10 is reserved: the SMMU behaves as if both were 0 (no hardware updates); ' +
          'set HA=1 as well (Linux sets both) or clear HD'));
      }
      if (is(d, 'HAFT') && !ha) {
        out.push(err('HAFT', 'illegal', 'HAFT=1 with HA=0: table-descriptor Access flag updates need leaf updates; ' +
          'the CD is ILLEGAL: set HA=1 or clear HAFT'));
      } else if (is(d, 'HAFT') && httu !== undefined && httu !== 3) {
        out.push(warn('HAFT', 'res0', `HAFT is RES0 unless SMMU_IDR0.HTTU=0b11 (this SMMU reports ${httu}): clear it`));
      }
    }),
  },
  {
    id: 'stall',
    check: ifValid((d, out) => {
      const s = is(d, 'S');
      if (d.ctx.stallModel === 1 && s) {
        out.push(err('S', 'illegal', 'S=1 but the SMMU cannot stall (SMMU_IDR0.STALL_MODEL=0b01); the CD is ILLEGAL: clear S'));
      } else if (d.ctx.stallModel === 2 && !s) {
        out.push(err('S', 'illegal', 'S=0 but the SMMU forces stalls (SMMU_IDR0.STALL_MODEL=0b10); the CD is ILLEGAL: set S'));
      }
    }),
  },
  {
    id: 'term-model',
    check: ifValid((d, out) => {
      if (d.ctx.termModel === 1 && !is(d, 'A')) {
        out.push(err('A', 'illegal', 'A=0 asks for RAZ/WI termination, but this SMMU always aborts terminated transactions ' +
          '(SMMU_IDR0.TERM_MODEL=1); the CD is ILLEGAL: set A=1'));
      }
    }),
  },
  {
    id: 'asid',
    check: ifValid((d, out) => {
      const asid = d.num('ASID');
      if (d.ctx.asid16 === false && asid > 0xff) {
        out.push(err('ASID', 'illegal', `ASID ${hex(asid)} needs 16-bit ASIDs but the SMMU has 8-bit ASIDs (SMMU_IDR0.ASID16=0); ` +
          'the CD is ILLEGAL for EL1 and EL2-E2H streams: use an ASID of 0xff or less'));
      }
    }),
  },
  {
    id: 'res0-config',
    check: ifValid((d, out) => {
      const res0 = (fields: readonly string[], why: string): void => {
        for (const f of fields) if (is(d, f)) out.push(warn(f, 'res0', `${f} is RES0 ${why}: clear it`));
      };
      if (vmsa32(d)) return res0(['E0PD0', 'E0PD1', 'EPAN', 'PnCH', 'DS', 'PIE'], 'with VMSAv8-32 tables (AA64=0)');
      // VMSAv9-128 always uses permission indirection, so EPAN and PIE are RES0 too.
      if (vmsa128(d)) return res0(['UWXN', 'EPAN', 'PnCH', 'DS', 'PIE'], 'with VMSAv9-128 tables (AA64=0, SMMU_IDR5.D128=1)');
      if (is(d, 'DS') && d.ctx.ds === false) {
        res0(['DS'], 'without SMMU_IDR5.DS (no 52-bit addressing with 4KB/16KB granules)');
      } else if (is(d, 'DS') && d.num('TG0') === 1 && d.num('TG1') === 3) {
        out.push(warn('DS', 'res0', 'DS is RES0 when both TG0 and TG1 select 64KB (LPA2 is only for 4KB/16KB): clear it'));
      }
      if (!is(d, 'PIE')) {
        const set = [...Array(16).keys()].flatMap((p) => [`PIIU${p}`, `PIIP${p}`]).filter((f) => is(d, f));
        if (set.length) {
          out.push(warn(set[0], 'res0', `${set.join(', ')} set but PIE=0: the permission indirection fields are RES0 ` +
            'unless stage 1 permission indirection is enabled; clear them or set PIE=1'));
        }
      }
    }),
  },
  {
    id: 'pi',
    check: ifValid((d, out) => {
      // The reserved codes 0b100 and 0b110 are marked ILLEGAL in PI_VALUES.
      if (!piOn(d)) return;
      for (let p = 0; p < 16; p++) {
        const u = d.num(`PIIU${p}`);
        const priv = d.num(`PIIP${p}`);
        if ((priv & 2) !== 0 && (u & 4) !== 0) {
          out.push(err(`PIIP${p}`, 'illegal', `PIIndex ${p} lets privileged transactions execute (PIIP${p}=0b${priv.toString(2)}) ` +
            `while unprivileged ones may write (PIIU${p}=0b${u.toString(2)}); the CD is ILLEGAL: drop one of the two`));
        }
      }
    }),
  },
];

// ---------------------------------------------------------------------------------------
// Summary: "valid: ASID 3, TTB0 0x40001000, 48-bit VA, 4K granule, 48-bit IPS, TTB1 disabled"

function regionText(d: FieldReader, half: Half): string[] {
  const g = granuleKB(d, half);
  return [`TTB${half} ${hex(d.get(`TTB${half}`))}`, `${inputBits(d, half)}-bit VA`, g ? `${g}K granule` : 'reserved granule'];
}

function summary(d: FieldReader): string {
  if (!valid(d)) return 'invalid (V=0)';
  const w0 = walks0(d);
  const w1 = walks1(d);
  const items = [`ASID ${d.num('ASID')}`];
  if (w0) items.push(...regionText(d, 0));
  if (w1) items.push(...regionText(d, 1));
  if (w0 || w1) {
    if (vmsa32(d)) items.push('VMSAv8-32 LPAE tables');
    else items.push(`${ADDRESS_SIZE_BITS[d.num('IPS')]}-bit IPS${vmsa128(d) ? ', VMSAv9-128 tables' : ''}`);
  }
  if (w0 && !w1) items.push('TTB1 disabled');
  if (w0 || w1) {
    // Extras that change behaviour, only where walks can create TLB entries.
    if (!is(d, 'ASET')) items.push('ASID shared with CPUs (ASET=0)');
    if (!vmsa32(d) && is(d, 'HA')) items.push(is(d, 'HD') ? 'HW access+dirty updates' : 'HW access-flag updates');
  }
  if (is(d, 'S')) items.push('stalls on faults');
  const head = w0 ? 'valid: ' : 'valid but TTB0 walks disabled (EPD0=1), ';
  return head + items.join(', ');
}

/** Context Descriptor: 64 bytes, one per SubstreamID (spec 5.4). */
export const CD: Layout = defineLayout({
  kind: 'cd', title: 'Context Descriptor', wordBits: 64, words: 8, fields, rules, summary,
});

// ---------------------------------------------------------------------------------------
// L1CD (spec 5.3): one pointer to a level-2 table of CDs.

/** Level 1 Context Descriptor: 8 bytes, one per span of SubstreamIDs in a 2-level CD table. */
export const L1CD: Layout = defineLayout({
  kind: 'l1cd', title: 'Level 1 Context Descriptor', wordBits: 64, words: 1,
  fields: [
    { name: 'V', hi: 0, lo: 0, kind: 'flag', meaning: 'L2Ptr valid; with V=0 SubstreamIDs of this span give C_BAD_SUBSTREAMID' },
    {
      name: 'L2Ptr', hi: 55, lo: 12, kind: 'address', relevant: (d) => is(d, 'V'),
      meaning: 'base of the level-2 CD table (IPA if stage 2 translates the stream); 4KB-aligned by construction',
    },
  ],
  rules: [
    {
      // The field itself forces 4KB alignment (S1Fmt=0b01 leaf tables). The STE's S1Fmt is not
      // known here; Linux uses S1Fmt=0b10, 64KB leaf tables, for which L2Ptr[15:12] are RES0.
      id: 'align',
      check: (d) => {
        const p = d.get('L2Ptr');
        if (!is(d, 'V') || (p & 0xf000n) === 0n) return undefined;
        return warn('L2Ptr', 'align', `L2Ptr ${hex(p)} is 4KB- but not 64KB-aligned: right only for STE.S1Fmt=0b01 ` +
          '(4KB leaf tables of 64 CDs); with S1Fmt=0b10 (64KB tables of 1024 CDs, as Linux uses) bits [15:12] are RES0: ' +
          `align the table to 0x10000 (e.g. ${hex(p & ~0xffffn)})`);
      },
    },
    {
      id: 'range',
      check: (d) => {
        const p = d.get('L2Ptr');
        const oas = d.ctx.oas;
        if (!is(d, 'V') || oas === undefined || p >> BigInt(oas) === 0n) return undefined;
        return err('L2Ptr', 'range', `L2Ptr ${hex(p)} lies above the ${oas}-bit OAS: CD fetches through it give ` +
          `C_BAD_SUBSTREAMID (SMMUv3.1+); place the table below ${hex(1n << BigInt(oas))} ` +
          '(with stage 2 the limit is the IAS instead)');
      },
    },
  ],
  summary: (d) => (is(d, 'V') ? `L2 CD table at ${hex(d.get('L2Ptr'))}` : 'invalid (V=0): no L2 CD table'),
});
