/**
 * Value lists that several SMMUv3 structures share. Where two fields use the same encoding
 * with the same meaning (STE.S2SH0 and CD.SH0, STE.MemAttr and CMD_SYNC.MSIAttr, STE.S2PS
 * and CD.IPS), both take the list from here, so each name and meaning is written once.
 * Where a context reads an encoding differently (a translation table descriptor's reserved
 * shareability, io-pgtable's use of a code), the table derives its own list with `withNotes`.
 */
import { EnumValue, Granule } from './field';

/** Per-value changes to a shared list: a string is a note added to the meaning; an object replaces what it names. */
export type ValueNotes = Readonly<Record<number, string | Partial<Omit<EnumValue, 'value'>>>>;

/** A shared list as one context reads it: notes on some values (what io-pgtable writes), or values redefined. */
export function withNotes(values: readonly EnumValue[], notes: ValueNotes): EnumValue[] {
  return values.map((v) => {
    const n = notes[v.value];
    if (n === undefined) return v;
    return typeof n === 'string' ? { ...v, meaning: `${v.meaning} (${n})` } : { ...v, ...n };
  });
}

// ---------------------------------------------------------------------------------------
// Shareability

/** SH[1:0] as the SMMU's structures and registers use it (the reserved code behaves as Non-shareable). */
export const SHAREABILITY: readonly EnumValue[] = [
  { value: 0, name: 'NSH', meaning: 'Non-shareable' },
  { value: 1, name: 'RESERVED', meaning: 'reserved, behaves as Non-shareable', reserved: true },
  { value: 2, name: 'OSH', meaning: 'Outer Shareable' },
  { value: 3, name: 'ISH', meaning: 'Inner Shareable' },
];

/** STE.SHCFG and SMMU_GBPA.SHCFG: the shareability codes, with 0b01 meaning "keep the incoming one". */
export const SHAREABILITY_OVERRIDE: readonly EnumValue[] = SHAREABILITY.map((v) => (v.value === 1
  ? { value: 1, name: 'INCOMING', meaning: 'use the incoming shareability' }
  : v));

/** An attribute override (STE/GBPA PRIVCFG, INSTCFG): incoming, reserved (as incoming), or one of two values. */
function attributeOverride(attr: string, two: readonly [string, string], three: readonly [string, string]): EnumValue[] {
  return [
    { value: 0, name: 'INCOMING', meaning: `use the incoming ${attr} attribute` },
    { value: 1, name: 'RESERVED', meaning: 'reserved, behaves as INCOMING', reserved: true },
    { value: 2, name: two[0], meaning: two[1] },
    { value: 3, name: three[0], meaning: three[1] },
  ];
}

/** STE.PRIVCFG and SMMU_GBPA.PRIVCFG. */
export const PRIV_OVERRIDE: readonly EnumValue[] = attributeOverride('PRIV', ['UNPRIV', 'Unprivileged'], ['PRIV', 'Privileged']);

/** STE.INSTCFG and SMMU_GBPA.INSTCFG (reads only: writes are always Data). */
export const INST_OVERRIDE: readonly EnumValue[] = attributeOverride('INST', ['DATA', 'Data'], ['INSTR', 'Instruction']);

/** STE.ALLOCCFG and SMMU_GBPA.ALLOCCFG: 0b0xxx keeps the incoming hints, 0b1RWT sets them. */
export function allocHintsText(v: bigint): string {
  return (v & 8n) === 0n ? 'use incoming hints' : `override RA=${(v >> 2n) & 1n} WA=${(v >> 1n) & 1n} TR=${v & 1n}`;
}

// ---------------------------------------------------------------------------------------
// Memory types and cacheability

/** Table-walk cacheability, the TCR_ELx.IRGN/ORGN encoding (CD.IRx/ORx, STE.S2IR0/S2OR0). */
export const WALK_CACHEABILITY: readonly EnumValue[] = [
  { value: 0, name: 'NC', meaning: 'Normal Non-cacheable' },
  { value: 1, name: 'WBWA', meaning: 'Normal Write-Back, read- and write-allocate' },
  { value: 2, name: 'WT', meaning: 'Normal Write-Through, read-allocate' },
  { value: 3, name: 'WB', meaning: 'Normal Write-Back, read-allocate, no write-allocate' },
];

/** Device memory types by MemAttr[1:0] (MemAttr[3:2] = 0b00). */
export const DEVICE_TYPES: readonly string[] = ['nGnRnE', 'nGnRE', 'nGRE', 'GRE'];

const CACHE_CODE = ['', 'NC', 'WT', 'WB'];
const CACHE_WORDS: Readonly<Record<string, string>> = { NC: 'Non-cacheable', WT: 'Write-Through', WB: 'Write-Back' };

/**
 * The VMSAv8-64 stage 2 MemAttr[3:0] encoding as STE.MemAttr uses it (SMMU_GBPA.MemAttr, the
 * *_IRQ_CFG2.MemAttr registers and CMD_SYNC.MSIAttr are "encoded as STE.MemAttr"): [3:2] outer,
 * [1:0] inner cacheability, outer 0b00 is Device. Normal with inner 0b00 is reserved and
 * behaves as Device-nGnRnE. Names follow io-pgtable where it has one (NC, OIWB).
 */
export const MEMATTR: readonly EnumValue[] = Array.from({ length: 16 }, (_, v): EnumValue => {
  const outer = v >> 2;
  const inner = v & 3;
  if (outer === 0) return { value: v, name: `DEVICE_${DEVICE_TYPES[inner]}`, meaning: `Device-${DEVICE_TYPES[inner]}` };
  if (inner === 0) {
    return { value: v, name: `RESERVED_${v.toString(2).padStart(4, '0')}`, meaning: 'reserved, behaves as Device-nGnRnE', reserved: true };
  }
  const o = CACHE_CODE[outer];
  const i = CACHE_CODE[inner];
  if (o === i) return { value: v, name: o === 'NC' ? 'NC' : `OI${o}`, meaning: `Normal, outer and inner ${CACHE_WORDS[o]}` };
  return { value: v, name: `O${o}_I${i}`, meaning: `Normal, outer ${CACHE_WORDS[o]}, inner ${CACHE_WORDS[i]}` };
});

/** MemAttr codes that are a Device type (shareability is then ignored). */
export const isDeviceMemAttr = (memattr: number): boolean => memattr < 4;

// ---------------------------------------------------------------------------------------
// Translation granules

/** TG0 codes (VTCR_EL2.TG0, TCR_ELx.TG0: STE.S2TG, CD.TG0, SMMU_DPT_BASE_CFG.DPTGS); each user says what 0b11 does. */
export const TG0_GRANULES: readonly EnumValue[] = [
  { value: 0, name: '4K', meaning: '4KB translation granule' },
  { value: 1, name: '64K', meaning: '64KB translation granule' },
  { value: 2, name: '16K', meaning: '16KB translation granule' },
];

/** TCR_ELx.TG1 codes (CD.TG1): the same granules in another order; 0b00 is reserved. */
export const TG1_GRANULES: readonly EnumValue[] = [
  { value: 1, name: '16K', meaning: '16KB translation granule' },
  { value: 2, name: '4K', meaning: '4KB translation granule' },
  { value: 3, name: '64K', meaning: '64KB translation granule' },
];

const granuleMap = (values: readonly EnumValue[]): Readonly<Record<number, Granule>> =>
  Object.fromEntries(values.map((v) => [v.value, Number.parseInt(v.name, 10) as Granule]));

/** TG0 code → granule in KB (undefined for the reserved code). */
export const TG0_KB: Readonly<Record<number, Granule>> = granuleMap(TG0_GRANULES);
/** TG1 code → granule in KB (undefined for the reserved code). */
export const TG1_KB: Readonly<Record<number, Granule>> = granuleMap(TG1_GRANULES);

// ---------------------------------------------------------------------------------------
// Address sizes

/** The PS encoding (VTCR_EL2.PS, TCR_ELx.IPS, SMMU_IDR5.OAS): code → address bits. */
export const ADDRESS_SIZE_BITS: readonly number[] = [32, 36, 40, 42, 44, 48, 52, 56];

const BYTES_UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
const rangeText = (bits: number): string => `${2 ** (bits % 10)} ${BYTES_UNITS[Math.floor(bits / 10)]}`;

/** One value per PS code (the first `count`), named `<bits>_BIT`, with the meaning `describe` gives. */
export function addressSizes(describe: (bits: number) => string, count = ADDRESS_SIZE_BITS.length): EnumValue[] {
  return ADDRESS_SIZE_BITS.slice(0, count).map((bits, value) => ({ value, name: `${bits}_BIT`, meaning: describe(bits) }));
}

/** What SMMUs before 3.4 / 3.1 make of the two largest codes (software must not rely on it). */
const PS_HISTORY: Readonly<Record<number, string>> = {
  52: '; reserved in SMMUv3.0, where it behaves as 48-bit',
  56: '; SMMUv3.4 and later: reserved before, behaves as 52-bit (v3.1-v3.3) or 48-bit (v3.0)',
};

/** STE.S2PS and CD.IPS: the output size a translation is checked against (capped by the OAS). */
export const OUTPUT_SIZE: readonly EnumValue[] = addressSizes(
  (bits) => `${bits}-bit output addresses (${rangeText(bits)}${PS_HISTORY[bits] ?? ''})`);

// ---------------------------------------------------------------------------------------
// Stream table

/** STRTAB_BASE_CFG.SPLIT values the architecture defines (4KB, 16KB, 64KB level-2 tables); others behave as 6. */
export const STRTAB_SPLITS: readonly number[] = [6, 8, 10];

/** The SPLIT the SMMU uses for a programmed value. */
export const effectiveSplit = (split: number): number => (STRTAB_SPLITS.includes(split) ? split : 6);
