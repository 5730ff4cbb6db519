/**
 * VMSAv8-64 translation table descriptors as the SMMU walks them (stage 1 through a CD,
 * stage 2 through an STE): 4KB / 16KB / 64KB granules, levels 0-3, invalid / table /
 * block / page / reserved, with the 52-bit output-address forms (FEAT_LPA2 "DS" for
 * 4K/16K: OA[51:50] in bits [9:8]; 64K with a 52-bit OAS: OA[51:48] in bits [15:12]).
 *
 * Layouts are generated from data, not written out per combination: a base list of
 * attribute fields per stage and descriptor kind (leaf or table), plus the output-address
 * window per granule, level and type. `levelGeometry`, `startLevel` and `levels` give the
 * walk geometry the model's walker and io-pgtable use.
 *
 * Sources: Arm ARM VMSAv8-64 descriptor formats; SMMUv3 spec 3.4 (address sizes),
 * 3.13 (HTTU), 5.4 (CD.DS, HAD, HWU, AIE, HAFT); io-pgtable-arm (facts §8).
 */
import { hex } from './codec';
import { DEVICE_TYPES, MEMATTR, SHAREABILITY, withNotes } from './encodings';
import { defineLayout, EnumValue, FieldDraft, FieldReader, Granule, Layout, mask, Rule } from './field';

export type Stage = 1 | 2;
export type Level = 0 | 1 | 2 | 3;
export type DescriptorType = 'invalid' | 'table' | 'block' | 'page' | 'reserved';

export interface PteFormat {
  readonly stage: Stage;
  readonly granule: Granule;
  readonly level: Level;
  /** 52-bit OA with 4K/16K (FEAT_LPA2; CD.DS / STE.S2DS). Ignored for 64K. */
  readonly ds?: boolean;
  /** 64K with 52-bit OA (FEAT_LPA; SMMU OAS 52). Ignored for 4K/16K. */
  readonly pa52?: boolean;
  /** Stage 2 only: STE.S2FWB=1, MemAttr uses the forced-write-back encoding. */
  readonly s2fwb?: boolean;
}

// ---------------------------------------------------------------------------------------
// Geometry

const GRANULE_SHIFT: Record<Granule, number> = { 4: 12, 16: 14, 64: 16 };

/** log2 of the granule: the page offset width. */
export function granuleShift(granule: Granule): number {
  const s = GRANULE_SHIFT[granule];
  if (s === undefined) throw new RangeError(`granule ${granule} is not 4, 16 or 64 (KB)`);
  return s;
}

/** Index bits resolved per full table: log2(granule) - 3 (4K 9, 16K 11, 64K 13). */
export function bitsPerLevel(granule: Granule): number {
  return granuleShift(granule) - 3;
}

/**
 * Where the level's table index sits in the input address, the index width of a full
 * table at that level, and the bytes one block/page at that level maps (undefined where
 * no block can exist at that level, whatever the 52-bit features). 64K has no level 0.
 * The initial level may hold fewer index bits (see `topIndexBits`) or, at stage 2, be
 * concatenated.
 */
export function levelGeometry(granule: Granule, level: Level): { indexLo: number; indexBits: number; blockSize: bigint | undefined } {
  const g = granuleShift(granule);
  const bpl = bitsPerLevel(granule);
  if (granule === 64 && level === 0) throw new RangeError('the 64KB granule has no level 0 lookup');
  const indexLo = g + bpl * (3 - level);
  const canMap = blockAllowed(granule, level, true, true) || level === 3;
  return { indexLo, indexBits: bpl, blockSize: canMap ? 1n << BigInt(indexLo) : undefined };
}

function checkInputBits(granule: Granule, inputBits: number): number {
  const g = granuleShift(granule);
  if (!Number.isInteger(inputBits) || inputBits <= g || inputBits > 52) {
    throw new RangeError(`input size ${inputBits} bits is out of range for the ${granule}KB granule (${g + 1}..52)`);
  }
  const lv = Math.ceil((inputBits - g) / bitsPerLevel(granule));
  if (lv > 4) {
    // 4K with more than 48 input bits starts at level -1 (FEAT_LPA2), which is not modelled.
    throw new RangeError(`a ${inputBits}-bit input with the ${granule}KB granule needs ${lv} levels (level -1, FEAT_LPA2), not modelled`);
  }
  return lv;
}

/** Number of lookup levels for an input size: ceil((inputBits - log2(granule)) / bitsPerLevel). */
export function levels(granule: Granule, inputBits: number): number {
  return checkInputBits(granule, inputBits);
}

/** The initial lookup level: 4 - levels (without stage 2 concatenation). */
export function startLevel(granule: Granule, inputBits: number): Level {
  return (4 - checkInputBits(granule, inputBits)) as Level;
}

/** Index bits resolved by the initial-level table (it may be smaller than a full table). */
export function topIndexBits(granule: Granule, inputBits: number): number {
  const lv = checkInputBits(granule, inputBits);
  return inputBits - granuleShift(granule) - bitsPerLevel(granule) * (lv - 1);
}

/** Entries in one contiguous run (Contiguous bit): 4K 16; 16K 128 at level 3, else 32; 64K 32. */
export function contiguousEntries(granule: Granule, level: Level): number {
  if (granule === 4) return 16;
  if (granule === 16) return level === 3 ? 128 : 32;
  return 32;
}

/** Whether bits[1:0] = 0b01 is a block at this level (else the encoding is reserved). */
function blockAllowed(granule: Granule, level: Level, ds: boolean, pa52: boolean): boolean {
  if (level === 2) return true;
  if (level === 1) return granule === 4 || (granule === 16 && ds) || (granule === 64 && pa52);
  if (level === 0) return granule === 4 && ds;
  return false;
}

// ---------------------------------------------------------------------------------------
// Descriptor type and output address

interface Norm {
  readonly stage: Stage;
  readonly granule: Granule;
  readonly level: Level;
  readonly ds: boolean;
  readonly pa52: boolean;
  readonly fwb: boolean;
}

function norm(fmt: PteFormat): Norm {
  granuleShift(fmt.granule);
  return {
    stage: fmt.stage, granule: fmt.granule, level: fmt.level,
    ds: !!fmt.ds && fmt.granule !== 64,
    pa52: !!fmt.pa52 && fmt.granule === 64,
    fwb: !!fmt.s2fwb && fmt.stage === 2,
  };
}

function typeOfBits(bits: number, n: Norm): DescriptorType {
  if ((bits & 1) === 0) return 'invalid';
  if (n.granule === 64 && n.level === 0) return 'reserved';
  if (bits === 3) return n.level === 3 ? 'page' : 'table';
  return blockAllowed(n.granule, n.level, n.ds, n.pa52) ? 'block' : 'reserved';
}

/**
 * The descriptor type from bits [1:0]: 0bx0 invalid; 0b11 table (levels 0-2) or page
 * (level 3); 0b01 block where the granule allows one at that level, else reserved (the
 * SMMU treats a reserved encoding as a Translation fault).
 */
export function descriptorType(word: bigint, fmt: PteFormat): DescriptorType {
  return typeOfBits(Number(BigInt.asUintN(64, word) & 3n), norm(fmt));
}

/** Lowest and highest in-place OA bit for a valid type. */
function oaWindow(n: Norm, type: DescriptorType): { lo: number; hi: number } {
  const lo = type === 'block' ? granuleShift(n.granule) + bitsPerLevel(n.granule) * (3 - n.level) : granuleShift(n.granule);
  return { lo, hi: n.ds ? 49 : 47 };
}

function oaOf(word: bigint, n: Norm, type: DescriptorType): bigint {
  const { lo, hi } = oaWindow(n, type);
  let addr = word & (mask(hi - lo + 1) << BigInt(lo));
  if (n.pa52) addr |= ((word >> 12n) & 0xfn) << 48n;
  if (n.ds) addr |= ((word >> 8n) & 0x3n) << 50n;
  return addr;
}

/**
 * Block/page: the output address base; table: the next-level table address; undefined for
 * invalid and reserved descriptors. Folds in OA[51:48] from bits [15:12] (64K, pa52) and
 * OA[51:50] from bits [9:8] (4K/16K, ds).
 */
export function outputAddress(word: bigint, fmt: PteFormat): bigint | undefined {
  const n = norm(fmt);
  const w = BigInt.asUintN(64, word);
  const type = typeOfBits(Number(w & 3n), n);
  if (type === 'invalid' || type === 'reserved') return undefined;
  return oaOf(w, n, type);
}

/** The descriptor bits that encode `addr` (the inverse of `outputAddress`), for encoders. */
export function makeOutputAddressBits(addr: bigint, fmt: PteFormat, type: DescriptorType): bigint {
  const n = norm(fmt);
  const bits = type === 'block' ? 1 : 3;
  if (type === 'invalid' || type === 'reserved' || typeOfBits(bits, n) !== type) {
    throw new RangeError(`a ${type} descriptor cannot hold an address at level ${n.level} with the ${n.granule}KB granule`);
  }
  const { lo, hi } = oaWindow(n, type);
  const top = n.ds || n.pa52 ? 52 : 48;
  if (addr < 0n || addr >= 1n << BigInt(top)) {
    throw new RangeError(`address ${hex(addr)} does not fit in ${top} bits` +
      (top === 48 ? ' (52-bit addresses need ds with 4K/16K or pa52 with 64K)' : ''));
  }
  if ((addr & mask(lo)) !== 0n) {
    throw new RangeError(`address ${hex(addr)} is not aligned to ${sizeText(1n << BigInt(lo))} ` +
      `as a ${type} at level ${n.level} needs; the aligned base is ${hex(addr & ~mask(lo))}`);
  }
  let w = addr & (mask(hi - lo + 1) << BigInt(lo));
  if (n.pa52) w |= ((addr >> 48n) & 0xfn) << 12n;
  if (n.ds) w |= ((addr >> 50n) & 0x3n) << 8n;
  return w;
}

function sizeText(bytes: bigint): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P'];
  let v = bytes;
  let i = 0;
  while (i < units.length - 1 && v >= 1024n && v % 1024n === 0n) {
    v /= 1024n;
    i++;
  }
  return i === 0 ? `${v}B` : `${v}${units[i]}`;
}

// ---------------------------------------------------------------------------------------
// Encodings

// io-pgtable's MAIR (ARM_LPAE_MAIR_ATTR_IDX_*): what each AttrIndx means under Linux.
const IOPGTABLE_MAIR: Record<number, { name: string; short: string; meaning: string }> = {
  0: { name: 'NC', short: 'Normal NC', meaning: 'io-pgtable MAIR attr 0 = 0x44, Normal Non-cacheable (no IOMMU_CACHE)' },
  1: { name: 'CACHE', short: 'Normal WB', meaning: 'io-pgtable MAIR attr 1 = 0xff, Normal Write-back RW-allocate (IOMMU_CACHE)' },
  2: { name: 'DEV', short: 'Device-nGnRE', meaning: 'io-pgtable MAIR attr 2 = 0x04, Device-nGnRE (IOMMU_MMIO)' },
  3: { name: 'INC_OCACHE', short: 'Normal iNC/oWB', meaning: 'io-pgtable MAIR attr 3 = 0xf4, Inner Non-cacheable, Outer Write-back' },
};

const ATTRINDX_VALUES: readonly EnumValue[] = [0, 1, 2, 3].map((v) => ({
  value: v, name: IOPGTABLE_MAIR[v].name, meaning: IOPGTABLE_MAIR[v].meaning,
}));

const AP_VALUES: readonly EnumValue[] = [
  { value: 0, name: 'RW_PRIV', meaning: 'read/write for privileged accesses, no unprivileged access (io-pgtable: IOMMU_PRIV)' },
  { value: 1, name: 'RW', meaning: 'read/write at both privilege levels (io-pgtable default for IOMMU_READ|IOMMU_WRITE)' },
  { value: 2, name: 'RO_PRIV', meaning: 'read-only for privileged accesses, no unprivileged access' },
  { value: 3, name: 'RO', meaning: 'read-only at both privilege levels (io-pgtable: IOMMU_READ without IOMMU_WRITE)' },
];

/** In a descriptor the reserved SH code is CONSTRAINED UNPREDICTABLE, not "as Non-shareable". */
const SH_VALUES: readonly EnumValue[] = withNotes(SHAREABILITY, {
  0: 'io-pgtable ARM_LPAE_PTE_SH_NS',
  1: { meaning: 'reserved; CONSTRAINED UNPREDICTABLE, do not use' },
  2: 'io-pgtable ARM_LPAE_PTE_SH_OS: no IOMMU_CACHE',
  3: 'io-pgtable ARM_LPAE_PTE_SH_IS: IOMMU_CACHE',
});
const SH_SHORT = ['NSH', 'SH?', 'OS', 'IS'];

const S2AP_VALUES: readonly EnumValue[] = [
  { value: 0, name: 'NONE', meaning: 'no data access (io-pgtable HAP_FAULT)' },
  { value: 1, name: 'RO', meaning: 'read-only (io-pgtable HAP_READ)' },
  { value: 2, name: 'WO', meaning: 'write-only (io-pgtable HAP_WRITE)' },
  { value: 3, name: 'RW', meaning: 'read/write (io-pgtable HAP_READ|HAP_WRITE)' },
];

const APTABLE_VALUES: readonly EnumValue[] = [
  { value: 0, name: 'NONE', meaning: 'no limit on the next levels' },
  { value: 1, name: 'NO_EL0', meaning: 'next levels: no unprivileged access' },
  { value: 2, name: 'RO', meaning: 'next levels: no write access at any privilege' },
  { value: 3, name: 'RO_NO_EL0', meaning: 'next levels: no write access, and no unprivileged read' },
];

const S2XN_VALUES: readonly EnumValue[] = [
  { value: 0, name: 'X', meaning: 'instruction fetch allowed at both privileges' },
  { value: 1, name: 'PXN', meaning: 'FEAT_XNX: no privileged instruction fetch, unprivileged allowed (without XNX bit 53 is RES0)' },
  { value: 2, name: 'XN', meaning: 'no instruction fetch at either privilege' },
  { value: 3, name: 'UXN', meaning: 'FEAT_XNX: no unprivileged instruction fetch, privileged allowed; io-pgtable writes this (3<<53) for IOMMU_NOEXEC' },
];

const CACHE_SHORT = ['', 'NC', 'WT', 'WB'];

/**
 * Stage 2 MemAttr without S2FWB: the STE.MemAttr encoding, except that in a descriptor the
 * Normal codes with inner 0b00 are CONSTRAINED UNPREDICTABLE (not "as Device-nGnRnE").
 */
const MEMATTR_RESERVED = { meaning: 'Normal with inner cacheability 0b00 is reserved (CONSTRAINED UNPREDICTABLE); use 0b01 NC, 0b10 WT or 0b11 WB' };
const MEMATTR_VALUES: readonly EnumValue[] = withNotes(MEMATTR, {
  0x1: 'io-pgtable MEMATTR_DEV for IOMMU_MMIO',
  0x4: MEMATTR_RESERVED,
  0x5: 'io-pgtable MEMATTR_NC',
  0x6: 'with STE.S2FWB=1 this code is forced Write-Back: io-pgtable MEMATTR_FWB_WB',
  0x8: MEMATTR_RESERVED,
  0xc: MEMATTR_RESERVED,
  0xf: 'io-pgtable MEMATTR_OIWB for IOMMU_CACHE: stage 1 attributes then decide',
});

/** Stage 2 MemAttr with STE.S2FWB=1: bit [5] (MemAttr[3]) is RES0; [4:2] per FEAT_S2FWB. */
const MEMATTR_FWB_VALUES: readonly EnumValue[] = Array.from({ length: 16 }, (_, v): EnumValue => {
  if (v >= 8) {
    return { value: v, name: `RESERVED_${v.toString(2).padStart(4, '0')}`, reserved: true,
      meaning: 'MemAttr[3] (bit 5) is RES0 with S2FWB; io-pgtable uses 0b0110 instead of OIWB (0b1111) with the S2FWB quirk' };
  }
  if (v < 4) {
    const io = v === 1 ? ' (io-pgtable MEMATTR_DEV: forces Device-nGnRE)' : '';
    return { value: v, name: `DEVICE_${DEVICE_TYPES[v]}`,
      meaning: `Device-${DEVICE_TYPES[v]}: the result is Device, the stricter of this and stage 1${io}` };
  }
  const fwb: Record<number, EnumValue> = {
    4: { value: 4, name: 'RESERVED_0100', reserved: true, meaning: 'reserved with S2FWB (FEAT_MTE_PERM NoTagAccess on PEs)' },
    5: { value: 5, name: 'NC', meaning: 'stage 1 Normal becomes Non-cacheable, stage 1 Device unchanged (io-pgtable MEMATTR_NC)' },
    6: { value: 6, name: 'FWB_WB', meaning: 'forced Normal Write-back whatever stage 1 says (io-pgtable MEMATTR_FWB_WB for IOMMU_CACHE)' },
    7: { value: 7, name: 'S1', meaning: 'Normal Write-back at stage 2: the stage 1 type and cacheability are used' },
  };
  return fwb[v];
});

function memAttrShort(v: number, fwb: boolean): string {
  if (fwb) {
    if (v < 4) return `Device-${DEVICE_TYPES[v]}`;
    return ({ 5: 'Normal NC', 6: 'forced WB', 7: 'stage-1 attrs' } as Record<number, string>)[v] ?? 'reserved';
  }
  const outer = v >> 2;
  const inner = v & 3;
  if (outer === 0) return `Device-${DEVICE_TYPES[inner]}`;
  if (inner === 0) return 'reserved';
  return outer === inner ? `Normal ${CACHE_SHORT[outer]}` : `Normal o${CACHE_SHORT[outer]}/i${CACHE_SHORT[inner]}`;
}

// ---------------------------------------------------------------------------------------
// Field tables

/** What a field list entry sees: the normalized format, the type and the OA window. */
interface Combo extends Norm {
  readonly type: DescriptorType;
  readonly oaLo: number;
  readonly oaHi: number;
}

interface Entry {
  readonly when?: (c: Combo) => boolean;
  readonly field: FieldDraft | ((c: Combo) => FieldDraft);
}

const ifHttu = (min: number) => (d: FieldReader): boolean => d.ctx.httu === undefined || d.ctx.httu >= min;

const typeField = (c: Combo): FieldDraft => {
  const leafName = c.level === 3 ? 'PAGE' : 'TABLE';
  const blockOk = c.level !== 3 && blockAllowed(c.granule, c.level, c.ds, c.pa52) && !(c.granule === 64 && c.level === 0);
  return {
    name: 'Type', hi: 1, lo: 0, kind: 'enum',
    meaning: 'descriptor type: bit 0 valid, bit 1 table/page (1) or block (0)',
    values: [
      { value: 0, name: 'INVALID', meaning: 'invalid: Translation fault' },
      blockOk
        ? { value: 1, name: 'BLOCK', meaning: 'block: maps a whole level-sized range' }
        : { value: 1, name: 'RESERVED', meaning: 'reserved encoding here: the SMMU raises a Translation fault' },
      { value: 2, name: 'INVALID_10', meaning: 'invalid (bit 0 clear): Translation fault' },
      c.granule === 64 && c.level === 0
        ? { value: 3, name: 'RESERVED_11', meaning: 'the 64KB granule has no level 0: never walked' }
        : { value: 3, name: leafName, meaning: c.level === 3 ? 'page: maps one granule' : 'table: points to the next-level table' },
    ],
  };
};

/** The output / next-level address window and the 52-bit high parts, per granule, level and type. */
function addressEntries(): Entry[] {
  const table = (c: Combo): boolean => c.type === 'table';
  return [
    {
      field: (c) => ({
        name: table(c) ? 'NLTA' : 'OA', aliases: table(c) ? ['addr', 'table'] : ['addr', 'paddr'],
        hi: c.oaHi, lo: c.oaLo, kind: 'address',
        meaning: table(c)
          ? `next-level table address [${c.oaHi}:${c.oaLo}] (${c.granule}KB aligned)`
          : `output address [${c.oaHi}:${c.oaLo}] of the ${c.type} (${sizeText(1n << BigInt(c.oaLo))} aligned)`,
      }),
    },
    {
      when: (c) => c.pa52,
      field: (c) => ({
        name: table(c) ? 'NLTA51_48' : 'OA51_48', hi: 15, lo: 12, kind: 'uint',
        meaning: `${table(c) ? 'next-level table' : 'output'} address bits [51:48] (64KB granule, 52-bit OAS)`,
        show: (v) => (v ? `adds ${hex(v << 48n)}` : ''),
      }),
    },
    {
      when: (c) => c.ds,
      field: (c) => ({
        name: table(c) ? 'NLTA51_50' : 'OA51_50', hi: 9, lo: 8, kind: 'uint',
        meaning: `${table(c) ? 'next-level table' : 'output'} address bits [51:50] (DS=1, FEAT_LPA2; shareability comes from CD.SHx / STE.S2SH0)`,
        show: (v) => (v ? `adds ${hex(v << 50n)}` : ''),
      }),
    },
  ];
}

const NT_MEANING = 'block translation hint used while changing block size (FEAT_BBM; SMMU_IDR3.BBML); RES0 otherwise';

const SW_MEANING_S1 = 'reserved for software; the SMMU ignores them (io-pgtable uses bit 55 as SW_SYNC in table descriptors)';

const S1_LEAF: readonly Entry[] = [
  {
    field: {
      name: 'AttrIndx', hi: 4, lo: 2, kind: 'uint', values: ATTRINDX_VALUES,
      meaning: 'index of the memory attributes in CD.MAIR (AttrIndx[3] is bit 59 when CD.AIE=1)',
      show: (v) => IOPGTABLE_MAIR[Number(v)]?.short ?? '',
    },
  },
  {
    field: {
      name: 'NS', hi: 5, lo: 5, kind: 'flag',
      meaning: 'Secure streams: output is in the Non-secure PA space; RES0 for Non-secure streams (io-pgtable sets it with the ARM_NS quirk)',
    },
  },
  {
    field: {
      name: 'AP', hi: 7, lo: 6, kind: 'enum', values: AP_VALUES,
      meaning: 'data access permissions AP[2:1]: AP[2] read-only, AP[1] unprivileged access (AP[1] RES1 for any-EL2/EL3 StreamWorlds)',
    },
  },
  {
    when: (c) => !c.ds,
    field: { name: 'SH', hi: 9, lo: 8, kind: 'enum', values: SH_VALUES, meaning: 'shareability of Normal cacheable memory' },
  },
  {
    field: {
      name: 'AF', hi: 10, lo: 10, kind: 'flag',
      meaning: 'access flag; 0 raises F_ACCESS unless HTTU (CD.HA) sets it or CD.AFFD=1 (io-pgtable always sets it)',
    },
  },
  {
    field: {
      name: 'nG', hi: 11, lo: 11, kind: 'flag',
      meaning: 'not global: TLB entries are tagged with CD.ASID (io-pgtable always sets it for stage 1)',
    },
  },
  {
    when: (c) => c.type === 'block',
    field: { name: 'nT', hi: 16, lo: 16, kind: 'flag', meaning: NT_MEANING },
  },
  { field: { name: 'GP', hi: 50, lo: 50, kind: 'flag', meaning: 'guarded page (FEAT_BTI); a PE instruction-fetch check, no effect on SMMU translation' } },
  {
    field: {
      name: 'DBM', hi: 51, lo: 51, kind: 'flag', relevant: ifHttu(2),
      meaning: 'dirty bit modifier: with CD.HD the SMMU clears AP[2] on the first write; AP[2]=1+DBM is writable-clean (io-pgtable ARM_HD quirk)',
    },
  },
  {
    field: {
      name: 'Contiguous', aliases: ['cont'], hi: 52, lo: 52, kind: 'flag',
      meaning: 'hint: one of an aligned run of adjacent entries with contiguous OAs (bit 52 is PnCH Protected with CD.PnCH); upstream io-pgtable never sets it',
    },
  },
  { field: { name: 'PXN', hi: 53, lo: 53, kind: 'flag', meaning: 'no privileged instruction fetch (io-pgtable sets PXN and UXN for IOMMU_NOEXEC)' } },
  {
    field: {
      name: 'UXN', aliases: ['xn'], hi: 54, lo: 54, kind: 'flag',
      meaning: 'no unprivileged instruction fetch (XN for any-EL2/EL3 StreamWorlds)',
    },
  },
  { field: { name: 'SOFTWARE[58:55]', hi: 58, lo: 55, kind: 'reserved', reserved: 'SOFTWARE', meaning: SW_MEANING_S1 } },
  {
    field: {
      name: 'PBHA', hi: 62, lo: 59, kind: 'uint',
      meaning: 'page-based hardware attributes: IMPDEF use where CD.HAD=1 and CD.HWUxxx enable the bit, else IGNORED; bit 59 is AttrIndx[3] with CD.AIE',
    },
  },
  { field: { name: 'IGNORED[63]', hi: 63, lo: 63, kind: 'reserved', reserved: 'IGNORED', meaning: 'ignored (AMEC only in Realm EL2 regimes)' } },
];

const S2_LEAF: readonly Entry[] = [
  {
    field: (c) => ({
      name: 'MemAttr', hi: 5, lo: 2, kind: 'enum', values: c.fwb ? MEMATTR_FWB_VALUES : MEMATTR_VALUES,
      meaning: c.fwb
        ? 'stage 2 memory attributes, S2FWB encoding: MemAttr[2:0] overrides stage 1; MemAttr[3] RES0'
        : 'stage 2 memory attributes, combined with stage 1: [3:2] outer, [1:0] inner cacheability; outer 00 is Device',
    }),
  },
  { field: { name: 'S2AP', aliases: ['hap'], hi: 7, lo: 6, kind: 'enum', values: S2AP_VALUES, meaning: 'stage 2 data access permissions' } },
  {
    when: (c) => !c.ds,
    field: { name: 'SH', hi: 9, lo: 8, kind: 'enum', values: SH_VALUES, meaning: 'shareability, combined with stage 1' },
  },
  {
    field: {
      name: 'AF', hi: 10, lo: 10, kind: 'flag',
      meaning: 'access flag; 0 raises F_ACCESS unless HTTU (STE.S2HA) sets it or STE.S2AFFD=1 (io-pgtable always sets it)',
    },
  },
  { field: { name: 'FnXS', hi: 11, lo: 11, kind: 'flag', meaning: 'forces the XS attribute to 0 (FEAT_XS); RES0 otherwise' } },
  {
    when: (c) => c.type === 'block',
    field: { name: 'nT', hi: 16, lo: 16, kind: 'flag', meaning: NT_MEANING },
  },
  {
    field: {
      name: 'DBM', hi: 51, lo: 51, kind: 'flag', relevant: ifHttu(2),
      meaning: 'dirty bit modifier: with STE.S2HD the SMMU sets S2AP[1] on the first write',
    },
  },
  {
    field: {
      name: 'Contiguous', aliases: ['cont'], hi: 52, lo: 52, kind: 'flag',
      meaning: 'hint: one of an aligned run of adjacent entries with contiguous OAs; upstream io-pgtable never sets it',
    },
  },
  {
    field: {
      name: 'XN', hi: 54, lo: 53, kind: 'enum', values: S2XN_VALUES,
      meaning: 'stage 2 execute-never; XN[0] (bit 53) only with FEAT_XNX (SMMU_IDR3.XNX), else RES0',
    },
  },
  {
    field: {
      name: 'SOFTWARE[58:55]', hi: 58, lo: 55, kind: 'reserved', reserved: 'SOFTWARE',
      meaning: 'reserved for software; ignored by the SMMU for Non-secure streams (bit 55 is NS for Realm, bit 58 AssuredOnly with FEAT_THE)',
    },
  },
  {
    field: {
      name: 'PBHA', hi: 62, lo: 59, kind: 'uint',
      meaning: 'page-based hardware attributes where STE.S2HWUxx enable them; bits [62:60] are otherwise reserved for System MMU use, bit 59 IGNORED',
    },
  },
  { field: { name: 'AMEC', hi: 63, lo: 63, kind: 'flag', relevant: () => false, meaning: 'alternate MECID (Realm stage 2 with FEAT_MEC); RES0 otherwise' } },
];

const TABLE_COMMON: readonly Entry[] = [
  { when: (c) => !c.ds, field: { name: 'IGNORED[9:2]', hi: 9, lo: 2, kind: 'reserved', reserved: 'IGNORED', meaning: 'ignored by the SMMU' } },
  { when: (c) => c.ds, field: { name: 'IGNORED[7:2]', hi: 7, lo: 2, kind: 'reserved', reserved: 'IGNORED', meaning: 'ignored by the SMMU' } },
  {
    field: (c) => ({
      name: 'AF', hi: 10, lo: 10, kind: 'flag', relevant: ifHttu(3),
      meaning: `access flag of the table (FEAT_HAFT, ${c.stage === 1 ? 'CD.HAFT' : 'STE.S2HAFT'}); IGNORED without HAFT`,
    }),
  },
  { field: { name: 'IGNORED[11]', hi: 11, lo: 11, kind: 'reserved', reserved: 'IGNORED', meaning: 'ignored by the SMMU' } },
  { field: { name: 'IGNORED[54:51]', hi: 54, lo: 51, kind: 'reserved', reserved: 'IGNORED', meaning: 'ignored by the SMMU' } },
  { field: { name: 'SOFTWARE[58:55]', hi: 58, lo: 55, kind: 'reserved', reserved: 'SOFTWARE', meaning: SW_MEANING_S1 } },
];

const S1_TABLE: readonly Entry[] = [
  ...TABLE_COMMON,
  {
    field: {
      name: 'PXNTable', hi: 59, lo: 59, kind: 'flag',
      meaning: 'next levels: no privileged instruction fetch (IGNORED with CD.HADx; RES0 for any-EL2/EL3)',
    },
  },
  {
    field: {
      name: 'UXNTable', aliases: ['xntable'], hi: 60, lo: 60, kind: 'flag',
      meaning: 'next levels: no unprivileged instruction fetch (XNTable for any-EL2/EL3; IGNORED with CD.HADx)',
    },
  },
  {
    field: {
      name: 'APTable', hi: 62, lo: 61, kind: 'enum', values: APTABLE_VALUES,
      meaning: 'access permission limit for the next levels (IGNORED with CD.HADx; APTable[0] RES0 for any-EL2/EL3)',
    },
  },
  {
    field: {
      name: 'NSTable', hi: 63, lo: 63, kind: 'flag',
      meaning: 'Secure streams: next levels are in the Non-secure PA space; RES0 for Non-secure streams (io-pgtable ARM_NS quirk)',
    },
  },
];

// Stage 2 table descriptors carry no attributes: bits [63:59] are RES0 (filled as gaps).
const S2_TABLE: readonly Entry[] = TABLE_COMMON;

// ---------------------------------------------------------------------------------------
// Rules

function typeRule(c: Combo): Rule {
  return {
    id: 'type',
    check: (d) => {
      const bits = Number(d.words[0] & 3n);
      const actual = typeOfBits(bits, c);
      const code = `0b${bits.toString(2).padStart(2, '0')}`;
      if (c.type === 'reserved') {
        const fix = c.granule === 64 && c.level === 0 ? 'the 64KB granule has no level 0: start the walk at level 1'
          : c.level === 3 ? 'use 0b11 for a page' : 'use 0b11 for a table, or a level that allows a block';
        return {
          field: 'Type', rule: 'reserved-type', severity: 'error',
          message: `bits[1:0]=${code} is reserved at level ${c.level} with the ${c.granule}KB granule` +
            `${blockAllowed(c.granule, c.level, true, true) ? ` (a block here needs ${c.granule === 64 ? 'a 52-bit OAS, pa52' : 'DS=1, ds'})` : ''}` +
            `: the SMMU raises a Translation fault (F_TRANSLATION); ${fix}`,
        };
      }
      if (actual === c.type) return undefined;
      return {
        field: c.type === 'invalid' ? 'Valid' : 'Type', rule: 'type', severity: 'error',
        message: `bits[1:0]=${code} make this a ${actual} descriptor, not a ${c.type}; ` +
          `set Type to ${c.type === 'block' ? '0b01' : c.type === 'invalid' ? '0b00' : '0b11'} or decode it as ${actual}`,
      };
    },
  };
}

/** RES0 bits inside the address window: below a block's size, 16K [13:12], 64K [15:12] without pa52. */
function alignRule(c: Combo): Rule | undefined {
  let m = 0n;
  for (let b = 12; b < c.oaLo; b++) {
    if (b === 16 && c.type === 'block') continue; // nT
    if (b >= 12 && b <= 15 && c.pa52) continue; // OA[51:48]
    m |= 1n << BigInt(b);
  }
  if (m === 0n) return undefined;
  return {
    id: 'align',
    check: (d) => {
      const stray = d.words[0] & m;
      if (stray === 0n) return undefined;
      const what = c.type === 'table' ? 'next-level table address' : `${c.type} output address`;
      const base = oaOf(d.words[0], c, c.type);
      const align = sizeText(1n << BigInt(c.oaLo));
      return {
        field: c.type === 'table' ? 'NLTA' : 'OA', rule: 'align', severity: 'warning',
        message: `${what} is not ${align} aligned: RES0 bits ${hex(stray)} are set below bit ${c.oaLo}` +
          `${c.granule === 64 && !c.pa52 && (stray & 0xf000n) ? ' (they hold OA[51:48] only with a 52-bit OAS, pa52)' : ''}; ` +
          `clear them (base ${hex(base)})`,
      };
    },
  };
}

const accessFlagRule: Rule = {
  id: 'access-flag',
  check: (d) => {
    if (d.get('AF') !== 0n) return undefined;
    const h = d.ctx.httu;
    return {
      field: 'AF', rule: 'access-flag', severity: 'warning',
      message: 'AF=0: the SMMU raises F_ACCESS on use unless HTTU updates AF (CD.HA / STE.S2HA' +
        `${h === 0 ? ', not supported here: SMMU_IDR0.HTTU=0' : ''}) or AFFD (CD.AFFD / STE.S2AFFD) is 1; set AF=1 as io-pgtable does`,
    };
  },
};

function addrSizeRule(c: Combo): Rule {
  return {
    id: 'addr-size',
    check: (d) => {
      const oas = d.ctx.oas;
      if (oas === undefined) return undefined;
      const addr = oaOf(d.words[0], c, c.type);
      if (addr < 1n << BigInt(oas)) return undefined;
      const field = c.type === 'table' ? 'NLTA' : 'OA';
      return {
        field, rule: 'addr-size', severity: 'error',
        message: `${c.type === 'table' ? 'next-level table' : 'output'} address ${hex(addr)} is above the ${oas}-bit OAS: ` +
          `the SMMU raises F_ADDR_SIZE; it must be below ${hex(1n << BigInt(oas))} (and within CD.IPS / STE.S2PS)`,
      };
    },
  };
}

const s2XnRule: Rule = {
  id: 'xn',
  check: (d) => (d.get('XN') !== 3n ? undefined : {
    field: 'XN', rule: 'xn', severity: 'warning',
    message: 'XN=0b11: without FEAT_XNX bit 53 is RES0 (XN via bit 54 only); with FEAT_XNX (SMMU_IDR3.XNX) it forbids only ' +
      'unprivileged instruction fetch; use 0b10 to forbid instruction fetch at both privileges',
  }),
};

// ---------------------------------------------------------------------------------------
// Summaries

function leafSummary(c: Combo, d: FieldReader): string {
  const w = d.words[0];
  const oa = oaOf(w, c, c.type);
  const parts: string[] = [c.type === 'page' ? `page ${hex(oa)}` : `block ${sizeText(1n << BigInt(c.oaLo))} at ${hex(oa)}`];
  if (c.stage === 1) {
    const ap = d.num('AP');
    parts.push(ap & 2 ? 'RO' : 'RW');
    if (ap & 1) parts.push('EL0');
    const idx = d.num('AttrIndx');
    parts.push(`${IOPGTABLE_MAIR[idx]?.short ?? 'MAIR'} (AttrIndx ${idx})`);
  } else {
    parts.push(['no access', 'RO', 'WO', 'RW'][d.num('S2AP')]);
    const m = d.num('MemAttr');
    parts.push(`${memAttrShort(m, c.fwb)} (MemAttr ${hex(m)})`);
  }
  if (!c.ds) parts.push(SH_SHORT[d.num('SH')]);
  parts.push(d.get('AF') ? 'AF' : 'no AF');
  if (c.stage === 1) {
    if (d.get('nG')) parts.push('nG');
    const pxn = d.get('PXN') !== 0n;
    const uxn = d.get('UXN') !== 0n;
    if (pxn && uxn) parts.push('XN');
    else if (pxn) parts.push('PXN');
    else if (uxn) parts.push('UXN');
    if (d.get('NS')) parts.push('NS');
  } else {
    const xn = d.num('XN');
    if (xn) parts.push(S2XN_VALUES[xn].name);
  }
  if (d.get('DBM')) parts.push('DBM');
  if (d.get('Contiguous')) parts.push('contiguous');
  return parts.join(', ');
}

function tableSummary(c: Combo, d: FieldReader): string {
  const w = d.words[0];
  const parts = [`table → ${hex(oaOf(w, c, 'table'))}`];
  if (c.stage === 1) {
    if (d.get('NSTable')) parts.push('NSTable');
    const ap = d.num('APTable');
    if (ap) parts.push(`APTable ${APTABLE_VALUES[ap].name}`);
    if (d.get('UXNTable')) parts.push('UXNTable');
    if (d.get('PXNTable')) parts.push('PXNTable');
  }
  if ((w >> 55n) & 1n) parts.push('SW_SYNC');
  return parts.join(', ');
}

// ---------------------------------------------------------------------------------------
// Layout generation

const TYPE_TITLE: Record<DescriptorType, string> = {
  invalid: 'invalid', table: 'table', block: 'block', page: 'page', reserved: 'reserved',
};

function buildLayout(c: Combo): Layout {
  const suffix = `${c.ds ? '.ds' : ''}${c.pa52 ? '.pa52' : ''}${c.fwb ? '.fwb' : ''}`;
  const kind = `pte.s${c.stage}.${c.granule}k.l${c.level}.${c.type}${suffix}`;
  const extras = [c.ds ? '52-bit OA (LPA2)' : '', c.pa52 ? '52-bit OA' : '', c.fwb ? 'S2FWB' : ''].filter(Boolean);
  const title = `Stage ${c.stage} ${TYPE_TITLE[c.type]} descriptor (${c.granule}KB granule, level ${c.level}` +
    `${extras.length ? ', ' + extras.join(', ') : ''})`;
  const base = { kind, title, wordBits: 64 as const, words: 1 };

  if (c.type === 'invalid') {
    return defineLayout({
      ...base,
      fields: [
        { name: 'Valid', hi: 0, lo: 0, kind: 'flag', meaning: 'valid bit: 0 makes the descriptor invalid (Translation fault)' },
        { name: 'IGNORED[63:1]', hi: 63, lo: 1, kind: 'reserved', reserved: 'IGNORED', meaning: 'ignored in an invalid descriptor; free for software' },
      ],
      rules: [typeRule(c)],
      summary: (d) => (d.words[0] >> 1n ? `invalid (software bits ${hex(d.words[0])})` : 'invalid'),
    });
  }
  if (c.type === 'reserved') {
    return defineLayout({
      ...base,
      fields: [
        typeField(c),
        { name: 'IGNORED[63:2]', hi: 63, lo: 2, kind: 'reserved', reserved: 'IGNORED', meaning: 'not interpreted: the encoding is reserved' },
      ],
      rules: [typeRule(c)],
      summary: (d) => `reserved encoding 0b${Number(d.words[0] & 3n).toString(2).padStart(2, '0')} at level ${c.level} (translation fault)`,
    });
  }

  const list: Entry[] = [
    { field: typeField },
    ...addressEntries(),
    ...(c.type === 'table' ? (c.stage === 1 ? S1_TABLE : S2_TABLE) : (c.stage === 1 ? S1_LEAF : S2_LEAF)),
  ];
  const fields = list.filter((e) => !e.when || e.when(c)).map((e) => (typeof e.field === 'function' ? e.field(c) : e.field));
  const rules: Rule[] = [typeRule(c)];
  const align = alignRule(c);
  if (align) rules.push(align);
  if (c.type !== 'table') rules.push(accessFlagRule);
  if (c.type !== 'table' && c.stage === 2) rules.push(s2XnRule);
  rules.push(addrSizeRule(c));
  return defineLayout({
    ...base,
    fields,
    rules,
    summary: (d) => (c.type === 'table' ? tableSummary(c, d) : leafSummary(c, d)),
  });
}

const cache = new Map<string, Layout>();

/**
 * The layout of one descriptor type for a format (memoized). A type the level cannot hold
 * is mapped through its encoding: 'block' where no block is allowed gives the reserved
 * layout, 'table' at level 3 the page layout, 'page' at levels 0-2 the table layout.
 */
export function pteLayout(fmt: PteFormat, type: DescriptorType): Layout {
  const n = norm(fmt);
  let t = type;
  if (t === 'block') t = typeOfBits(1, n);
  else if (t === 'table' || t === 'page') t = typeOfBits(3, n);
  const key = `${n.stage}.${n.granule}.${n.level}.${n.ds}.${n.pa52}.${n.fwb}.${t}`;
  let l = cache.get(key);
  if (!l) {
    const win = t === 'invalid' || t === 'reserved' ? { lo: 0, hi: 0 } : oaWindow(n, t);
    l = buildLayout({ ...n, type: t, oaLo: win.lo, oaHi: win.hi });
    cache.set(key, l);
  }
  return l;
}

/** The layout for a descriptor word: its type from bits [1:0] at this format's level. */
export function pteLayoutFor(word: bigint, fmt: PteFormat): Layout {
  return pteLayout(fmt, descriptorType(word, fmt));
}
