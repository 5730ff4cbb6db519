/**
 * The SMMUv3 Non-secure registers of Page 0 and Page 1 (IHI 0070, chapter 6), one field
 * table each. A register is a one-word layout (`wordBits` 32 or 64) with its offset from
 * the SMMU base: Page 1 registers (EVENTQ/PRIQ PROD and CONS) sit at 0x10000 + their page
 * offset, and implementations may alias them at the same offset in Page 0.
 *
 * Several checks need more than the register itself: the ID registers say which optional
 * fields exist, and queue/stream-table bases must be aligned to sizes held elsewhere. Those
 * facts come in through the context (an `ArchContext`, built by `contextFromIdRegs`).
 */
import { decode, hex, validate } from './codec';
import { CERROR } from './commands';
import {
  ADDRESS_SIZE_BITS, addressSizes, allocHintsText, effectiveSplit, INST_OVERRIDE, isDeviceMemAttr, MEMATTR, PRIV_OVERRIDE,
  SHAREABILITY, SHAREABILITY_OVERRIDE, STRTAB_SPLITS, TG0_GRANULES, TG0_KB, withNotes,
} from './encodings';
import {
  ArchContext, defineLayout, EnumValue, FieldDraft, FieldReader, Granule, Layout, Problem, Rule,
} from './field';

export interface RegisterLayout extends Layout {
  /** The architecture's name without the `SMMU_` prefix (`IDR0`, `EVENTQ_PROD`). */
  readonly name: string;
  /** Offset from the SMMU base (Page 1 registers: 0x10000 + their offset in Page 1). */
  readonly offset: number;
  readonly page: 0 | 1;
  readonly access: 'RO' | 'RW' | 'WO';
  /** For Page 1 registers: the Page 0 offset where an implementation may alias them (else RAZ/WI). */
  readonly aliasOffset?: number;
}

/** Register checks read the same context as every table (built by `contextFromIdRegs`). */
export type RegisterContext = ArchContext;

// ---------------------------------------------------------------------------------------
// Shared value lists and helpers
// ---------------------------------------------------------------------------------------

/** CR1 cacheability. Not the TCR encoding: here WB is 1 and WT is 2. */
const CR1_CACHE: readonly EnumValue[] = [
  { value: 0, name: 'NC', meaning: 'Non-cacheable' },
  { value: 1, name: 'WB', meaning: 'Write-Back cacheable' },
  { value: 2, name: 'WT', meaning: 'Write-Through cacheable' },
  { value: 3, name: 'RESERVED_3', meaning: 'reserved; the SMMU treats it as Non-cacheable', reserved: true },
];

function valueName(values: readonly EnumValue[], v: number): string {
  return values.find((x) => x.value === v)?.name ?? `0x${v.toString(16)}`;
}

/** A one-bit flag. */
function flag(name: string, bit: number, meaning: string, more: Partial<FieldDraft> = {}): FieldDraft {
  return { name, hi: bit, lo: bit, kind: 'flag', meaning, ...more };
}

/** A feature flag of an ID register (1 = supported). */
const feature = (name: string, bit: number, what: string, more: Partial<FieldDraft> = {}): FieldDraft =>
  flag(name, bit, `${what} supported`, more);

/**
 * A field that exists only with some feature: when `present` says the feature is absent
 * (false, not unknown), a non-zero value is flagged, because the bits are RES0 then.
 */
function res0Unless(field: string, present: (d: FieldReader) => boolean | undefined, why: string): Rule {
  return {
    id: 'res0',
    check: (d) => {
      if (d.get(field) === 0n || present(d) !== false) return undefined;
      return {
        field, rule: 'res0', severity: 'warning',
        message: `${field} is ${hex(d.get(field))} but ${why}, so the field is RES0; write 0`,
      };
    },
  };
}

/** Address fields hold bits up to [55]; those above the output address size are RES0. */
function addressWithinOas(field: string, what: string): Rule {
  return {
    id: 'range',
    check: (d) => {
      const oas = d.ctx.oas;
      const a = d.get(field);
      if (oas === undefined || a < 1n << BigInt(oas)) return undefined;
      return {
        field, rule: 'range', severity: 'error',
        message: `${what} ${hex(a)} is beyond the ${oas}-bit output address size (IDR5.OAS); ` +
          `the SMMU does not keep bits [55:${oas}] — use an address below ${hex(1n << BigInt(oas))}`,
      };
    },
  };
}

function pow2(n: number): string {
  return `2^${n}`;
}

interface RegisterDraft {
  readonly name: string;
  readonly title: string;
  readonly offset: number;
  readonly page?: 0 | 1;
  readonly access: 'RO' | 'RW' | 'WO';
  readonly wordBits?: 32 | 64;
  readonly aliasOffset?: number;
  readonly fields: readonly FieldDraft[];
  readonly rules?: readonly Rule[];
  readonly summary?: (d: FieldReader) => string;
}

function reg(r: RegisterDraft): RegisterLayout {
  const layout = defineLayout({
    kind: `reg.${r.name}`, title: `SMMU_${r.name} (${r.title})`, wordBits: r.wordBits ?? 32, words: 1,
    fields: r.fields, rules: r.rules, summary: r.summary,
  });
  const out: RegisterLayout = { ...layout, name: r.name, offset: r.offset, page: r.page ?? 0, access: r.access };
  return r.aliasOffset === undefined ? out : { ...out, aliasOffset: r.aliasOffset };
}

/** The names of the set one-bit fields, in the order given. */
function setFlags(d: FieldReader, names: readonly (readonly [string, string])[]): string[] {
  return names.filter(([f]) => d.get(f) !== 0n).map(([, label]) => label);
}

// ---------------------------------------------------------------------------------------
// ID registers
// ---------------------------------------------------------------------------------------

const both = (d: FieldReader): boolean => d.num('S1P') === 1 && d.num('S2P') === 1;

export const IDR0 = reg({
  name: 'IDR0', title: 'features', offset: 0x0, access: 'RO',
  fields: [
    feature('RME_IMPL', 30, 'Realm Management Extension features'),
    {
      name: 'ST_LEVEL', aliases: ['st_lvl'], hi: 28, lo: 27, kind: 'enum', meaning: 'stream table formats supported',
      values: [
        { value: 0, name: 'LINEAR', meaning: 'linear stream table only' },
        { value: 1, name: '2LVL', meaning: '2-level stream table as well as linear' },
        { value: 2, name: 'RESERVED_2', meaning: 'reserved', reserved: true },
        { value: 3, name: 'RESERVED_3', meaning: 'reserved', reserved: true },
      ],
    },
    flag('TERM_MODEL', 26, 'terminated transactions always abort (CD.A must be 1); 0: CD.A chooses abort or RAZ/WI'),
    {
      name: 'STALL_MODEL', hi: 25, lo: 24, kind: 'enum', meaning: 'stall fault model support',
      values: [
        { value: 0, name: 'STALL', meaning: 'stall and terminate models both supported' },
        { value: 1, name: 'NO_STALL', meaning: 'no stall: faults terminate, STE.S2S and CD.S must be 0' },
        { value: 2, name: 'FORCE', meaning: 'stall forced: STE.S2S and CD.S must be 1' },
        { value: 3, name: 'RESERVED_3', meaning: 'reserved', reserved: true },
      ],
    },
    feature('ATSRECERR', 23, 'recording of extra configuration errors for ATS and PRI'),
    {
      name: 'TTENDIAN', hi: 22, lo: 21, kind: 'enum', meaning: 'translation table walk endianness support',
      values: [
        { value: 0, name: 'MIXED', meaning: 'mixed-endian: CD.ENDI and STE.S2ENDI may select either' },
        { value: 1, name: 'RESERVED_1', meaning: 'reserved', reserved: true },
        { value: 2, name: 'LE', meaning: 'little-endian walks only' },
        { value: 3, name: 'BE', meaning: 'big-endian walks only' },
      ],
    },
    feature('VATOS', 20, 'virtual ATOS page interface'),
    feature('CD2L', 19, '2-level context descriptor tables'),
    feature('VMID16', 18, '16-bit VMIDs'),
    feature('VMW', 17, 'VMID wildcard matching for TLB invalidation'),
    feature('PRI', 16, 'PCIe Page Request Interface (PRI queue)'),
    feature('ATOS', 15, 'Address Translation Operations (GATOS registers)'),
    feature('SEV', 14, 'WFE wake-up events to PEs (e.g. on CMD_SYNC)'),
    feature('MSI', 13, 'message-signalled interrupts'),
    feature('ASID16', 12, '16-bit ASIDs'),
    flag('NS1ATS', 11, 'split-stage (stage-1-only, STE.EATS=0b10) ATS NOT supported'),
    feature('ATS', 10, 'PCIe ATS'),
    feature('Hyp', 9, 'hypervisor (EL2) stage 1 contexts'),
    feature('DORMHINT', 8, 'dormant hint (STATUSR.DORMANT)'),
    {
      name: 'HTTU', hi: 7, lo: 6, kind: 'enum', meaning: 'hardware update of Access flag and dirty state',
      values: [
        { value: 0, name: 'NONE', meaning: 'no hardware flag updates' },
        { value: 1, name: 'ACCESS', meaning: 'Access flag updates' },
        { value: 2, name: 'ACCESS_DIRTY', meaning: 'Access flag and dirty state updates' },
        { value: 3, name: 'ACCESS_DIRTY_HAFT', meaning: 'Access flag and dirty state, and Access flag in table descriptors' },
      ],
    },
    feature('BTM', 5, 'broadcast TLB maintenance from PEs'),
    feature('COHACC', 4, 'IO-coherent access to tables, queues and translation walks'),
    {
      name: 'TTF', hi: 3, lo: 2, kind: 'enum', meaning: 'translation table formats supported',
      values: [
        { value: 0, name: 'RESERVED_0', meaning: 'reserved', reserved: true },
        { value: 1, name: 'AARCH32', meaning: 'VMSAv8-32 LPAE only' },
        { value: 2, name: 'AARCH64', meaning: 'VMSAv8-64' },
        { value: 3, name: 'AARCH32_64', meaning: 'VMSAv8-32 LPAE and VMSAv8-64' },
      ],
    },
    feature('S1P', 1, 'stage 1 translation'),
    feature('S2P', 0, 'stage 2 translation'),
  ],
  rules: [
    {
      id: 'unsupported',
      check: (d) => ((d.num('TTF') & 2) === 0 ? {
        field: 'TTF', rule: 'unsupported', severity: 'warning',
        message: `TTF = ${d.num('TTF')}: no VMSAv8-64 (AArch64) tables; the Linux driver and this tool need TTF 0b10 or 0b11`,
      } : undefined),
    },
    res0Unless('Hyp', (d) => both(d), 'not both stages are implemented (S1P and S2P)'),
    res0Unless('VMW', (d) => d.num('S2P') === 1, 'stage 2 is not implemented (S2P = 0)'),
    res0Unless('PRI', (d) => d.num('ATS') === 1, 'ATS is not implemented'),
    res0Unless('ATSRECERR', (d) => d.num('ATS') === 1, 'ATS is not implemented'),
    res0Unless('NS1ATS', (d) => d.num('ATS') === 1 && both(d), 'it needs ATS and both stages'),
    {
      id: 'illegal',
      check: (d) => (d.num('VATOS') === 1 && !(d.num('ATOS') === 1 && both(d)) ? {
        field: 'VATOS', rule: 'illegal', severity: 'warning',
        message: 'VATOS is advertised without ATOS and both stages; a VATOS implementation must also set ATOS, S1P and S2P',
      } : undefined),
    },
  ],
  summary: (d) => {
    const s1 = d.num('S1P') === 1;
    const s2 = d.num('S2P') === 1;
    const parts = [
      s1 && s2 ? 'stages 1+2' : s1 ? 'stage 1 only' : s2 ? 'stage 2 only' : 'no translation stages',
      d.num('ST_LEVEL') === 1 ? '2-level stream table' : 'linear stream table only',
      d.num('COHACC') ? 'coherent walks' : 'non-coherent walks',
      `${d.num('ASID16') ? 'ASID16' : 'ASID8'} ${d.num('VMID16') ? 'VMID16' : 'VMID8'}`,
      ...setFlags(d, [['CD2L', '2-level CDs'], ['ATS', 'ATS'], ['PRI', 'PRI'], ['MSI', 'MSI'], ['SEV', 'SEV'],
        ['Hyp', 'HYP'], ['BTM', 'BTM'], ['ATOS', 'ATOS'], ['VATOS', 'VATOS'], ['DORMHINT', 'dormant hint'], ['RME_IMPL', 'RME']]),
    ];
    const httu = d.num('HTTU');
    if (httu) parts.push(['', 'HTTU A', 'HTTU A+D', 'HTTU A+D+HAFT'][httu]);
    parts.push(['stall or terminate', 'no stall', 'stall forced', 'stall model reserved'][d.num('STALL_MODEL')]);
    parts.push(['reserved table format', 'AArch32 tables only', 'AArch64 tables', 'AArch32+AArch64 tables'][d.num('TTF')]);
    parts.push(['mixed-endian walks', 'reserved endianness', 'LE walks', 'BE walks'][d.num('TTENDIAN')]);
    return parts.join(', ');
  },
});

const queueSize = (what: string) => (v: bigint): string => `up to ${pow2(Number(v))} ${what} entries`;

export const IDR1 = reg({
  name: 'IDR1', title: 'sizes', offset: 0x4, access: 'RO',
  fields: [
    feature('ECMDQ', 31, 'enhanced command queue interfaces (IDR6)'),
    flag('TABLES_PRESET', 30, 'stream table base and configuration are fixed by the implementation'),
    flag('QUEUES_PRESET', 29, 'queue bases are fixed by the implementation'),
    flag('REL', 28, 'preset base addresses are offsets from the SMMU base rather than absolute'),
    flag('ATTR_TYPES_OVR', 27, 'incoming memory type, shareability and allocation hints can be overridden'),
    flag('ATTR_PERMS_OVR', 26, 'incoming instruction/data, privilege and NS attributes can be overridden'),
    { name: 'CMDQS', hi: 25, lo: 21, kind: 'uint', meaning: 'largest command queue, as log2(entries); at most 19', show: queueSize('command') },
    { name: 'EVENTQS', aliases: ['evtqs'], hi: 20, lo: 16, kind: 'uint', meaning: 'largest event queue, as log2(entries); at most 19', show: queueSize('event') },
    { name: 'PRIQS', hi: 15, lo: 11, kind: 'uint', meaning: 'largest PRI queue, as log2(entries); at most 19', show: queueSize('PRI') },
    { name: 'SSIDSIZE', hi: 10, lo: 6, kind: 'uint', meaning: 'SubstreamID bits (0: no substreams); at most 20', show: (v) => (v ? `${pow2(Number(v))} SubstreamIDs` : 'no SubstreamIDs') },
    { name: 'SIDSIZE', hi: 5, lo: 0, kind: 'uint', meaning: 'StreamID bits; at most 32', show: (v) => `${pow2(Number(v))} StreamIDs` },
  ],
  rules: [
    ...(['CMDQS', 'EVENTQS', 'PRIQS'] as const).map((f): Rule => ({
      id: 'range',
      check: (d) => (d.num(f) > 19 ? {
        field: f, rule: 'range', severity: 'warning',
        message: `${f} = ${d.num(f)} is above the architectural maximum of 19 (2^19 entries)`,
      } : undefined),
    })),
    {
      id: 'range',
      check: (d) => (d.num('SSIDSIZE') > 20 ? {
        field: 'SSIDSIZE', rule: 'range', severity: 'warning',
        message: `SSIDSIZE = ${d.num('SSIDSIZE')} is above the maximum of 20 SubstreamID bits`,
      } : undefined),
    },
    {
      id: 'range',
      check: (d) => (d.num('SIDSIZE') > 32 ? {
        field: 'SIDSIZE', rule: 'range', severity: 'warning',
        message: `SIDSIZE = ${d.num('SIDSIZE')} is above the maximum of 32 StreamID bits`,
      } : undefined),
    },
    res0Unless('REL', (d) => d.num('TABLES_PRESET') === 1 || d.num('QUEUES_PRESET') === 1, 'neither TABLES_PRESET nor QUEUES_PRESET is set'),
    {
      id: 'illegal',
      check: (d) => (d.num('ECMDQ') === 1 && d.num('QUEUES_PRESET') === 1 ? {
        field: 'QUEUES_PRESET', rule: 'illegal', severity: 'warning',
        message: 'QUEUES_PRESET is set together with ECMDQ; an implementation with enhanced command queues must have QUEUES_PRESET = 0',
      } : undefined),
    },
    {
      id: 'illegal',
      check: (d) => {
        const c = d.ctx;
        if (d.num('ECMDQ') !== 1 || (c.cohacc !== false && c.msi !== false)) return undefined;
        return {
          field: 'ECMDQ', rule: 'illegal', severity: 'warning',
          message: 'ECMDQ is advertised but IDR0.COHACC or IDR0.MSI is 0; enhanced command queues require both',
        };
      },
    },
    {
      id: 'illegal',
      check: (d) => (d.num('SIDSIZE') >= 7 && d.ctx.stLevel2 === false ? {
        field: 'SIDSIZE', rule: 'illegal', severity: 'warning',
        message: `SIDSIZE = ${d.num('SIDSIZE')} but IDR0.ST_LEVEL says linear only; with 7 or more StreamID bits the 2-level stream table must be supported`,
      } : undefined),
    },
    {
      id: 'unsupported',
      check: (d) => {
        const set = setFlags(d, [['TABLES_PRESET', 'TABLES_PRESET'], ['QUEUES_PRESET', 'QUEUES_PRESET'], ['REL', 'REL']]);
        return set.length ? {
          field: set[0], rule: 'unsupported', severity: 'warning',
          message: `${set.join(', ')} set: the Linux driver refuses embedded implementations with preset tables or queues`,
        } : undefined;
      },
    },
  ],
  summary: (d) => {
    const ssid = d.num('SSIDSIZE');
    const parts = [
      `${pow2(d.num('SIDSIZE'))} StreamIDs`,
      ssid ? `${pow2(ssid)} SubstreamIDs` : 'no SubstreamIDs',
      `queues CMDQ ${pow2(d.num('CMDQS'))} EVTQ ${pow2(d.num('EVENTQS'))} PRIQ ${pow2(d.num('PRIQS'))}`,
      ...setFlags(d, [['ECMDQ', 'ECMDQ'], ['TABLES_PRESET', 'preset tables'], ['QUEUES_PRESET', 'preset queues'], ['REL', 'relative'],
        ['ATTR_TYPES_OVR', 'type overrides'], ['ATTR_PERMS_OVR', 'permission overrides']]),
    ];
    return parts.join(', ');
  },
});

export const IDR2 = reg({
  name: 'IDR2', title: 'VATOS page', offset: 0x8, access: 'RO',
  fields: [
    {
      name: 'BA_VATOS', hi: 9, lo: 0, kind: 'uint', meaning: 'VATOS page offset from SMMU base + 0x20000, in 64KB pages',
      relevant: (d) => d.ctx.vatos !== false, show: (v) => `page at base + ${hex(0x20000n + v * 0x10000n)}`,
    },
  ],
  rules: [res0Unless('BA_VATOS', (d) => d.ctx.vatos, 'IDR0.VATOS = 0')],
  summary: (d) => `VATOS page at SMMU base + ${hex(0x20000n + d.get('BA_VATOS') * 0x10000n)}`,
});

export const IDR3 = reg({
  name: 'IDR3', title: 'features', offset: 0xc, access: 'RO',
  fields: [
    feature('AIE', 23, 'stage 1 attribute index extension'),
    feature('MTEPERM', 22, 'stage 2 NoTagAccess MemAttr encodings'),
    feature('THE', 21, 'translation hardening extension'),
    feature('S2PO', 20, 'stage 2 permission overlays'),
    feature('S2PI', 19, 'stage 2 permission indirections'),
    feature('S1PI', 18, 'stage 1 permission indirections'),
    feature('EPAN', 17, 'Enhanced PAN'),
    feature('PASIDTT', 16, 'PASID on ATS Translated transactions'),
    feature('DPT', 15, 'Device Permission Table (and STE.EATS = 0b11)'),
    flag('PTWNNC', 14, 'STE.S2PTW = 0 makes stage 1 walks to Device memory Normal Non-cacheable (instead of permitting them)'),
    feature('E0PD', 13, 'E0PD mechanism (CD.E0PD0/1)'),
    {
      name: 'BBML', aliases: ['bbm'], hi: 12, lo: 11, kind: 'enum', meaning: 'break-before-make behaviour level',
      values: [
        { value: 0, name: 'BBML0', meaning: 'level 0' },
        { value: 1, name: 'BBML1', meaning: 'level 1' },
        { value: 2, name: 'BBML2', meaning: 'level 2' },
        { value: 3, name: 'RESERVED_3', meaning: 'reserved', reserved: true },
      ],
    },
    feature('RIL', 10, 'range-based TLB invalidation and level hints'),
    feature('STT', 9, 'small translation tables'),
    feature('FWB', 8, 'stage 2 control of memory types (STE.S2FWB)'),
    feature('MPAM', 7, 'MPAM (MPAMIDR present)'),
    flag('PPS', 5, 'PRI auto-responses for queue overflow use the PASID whenever the request had one (STE.PPAR ignored)'),
    feature('XNX', 4, 'stage 2 execute-never split by exception level'),
    feature('PBHA', 3, 'page-based hardware attributes'),
    feature('HAD', 2, 'hierarchical attribute disables (CD.HAD0/1)'),
  ],
  rules: [
    {
      id: 'illegal',
      check: (d) => (d.num('PBHA') === 1 && d.num('HAD') === 0 ? {
        field: 'HAD', rule: 'illegal', severity: 'warning',
        message: 'PBHA is advertised without HAD; an SMMU with page-based hardware attributes must also set HAD',
      } : undefined),
    },
    res0Unless('HAD', (d) => d.ctx.s1p, 'stage 1 is not implemented (IDR0.S1P = 0)'),
    res0Unless('S1PI', (d) => d.ctx.s1p, 'stage 1 is not implemented (IDR0.S1P = 0)'),
    res0Unless('AIE', (d) => d.ctx.s1p, 'stage 1 is not implemented (IDR0.S1P = 0)'),
    res0Unless('THE', (d) => d.ctx.s1p, 'stage 1 is not implemented (IDR0.S1P = 0)'),
    res0Unless('S2PI', (d) => d.ctx.s2p, 'stage 2 is not implemented (IDR0.S2P = 0)'),
    res0Unless('MTEPERM', (d) => d.ctx.s2p, 'stage 2 is not implemented (IDR0.S2P = 0)'),
    res0Unless('PTWNNC', (d) => d.ctx.s2p, 'stage 2 is not implemented (IDR0.S2P = 0)'),
    res0Unless('DPT', (d) => d.ctx.ats, 'ATS is not implemented (IDR0.ATS = 0)'),
    res0Unless('PASIDTT', (d) => (d.ctx.ats === false || d.ctx.ssidSize === 0 ? false : undefined), 'it needs ATS and SubstreamIDs'),
    res0Unless('PPS', (d) => (d.ctx.pri === false || d.ctx.ssidSize === 0 ? false : undefined), 'it needs PRI and SubstreamIDs'),
    {
      id: 'illegal',
      check: (d) => (d.num('S2PO') === 1 && d.num('S2PI') === 0 ? {
        field: 'S2PI', rule: 'illegal', severity: 'warning',
        message: 'S2PO is advertised without S2PI; stage 2 permission overlays require permission indirections',
      } : undefined),
    },
  ],
  summary: (d) => {
    const names = setFlags(d, [
      ['RIL', 'RIL'], ['STT', 'STT'], ['FWB', 'FWB'], ['HAD', 'HAD'], ['PBHA', 'PBHA'], ['XNX', 'XNX'], ['MPAM', 'MPAM'],
      ['E0PD', 'E0PD'], ['PTWNNC', 'PTWNNC'], ['DPT', 'DPT'], ['PASIDTT', 'PASIDTT'], ['EPAN', 'EPAN'], ['S1PI', 'S1PI'],
      ['S2PI', 'S2PI'], ['S2PO', 'S2PO'], ['THE', 'THE'], ['MTEPERM', 'MTEPERM'], ['AIE', 'AIE'], ['PPS', 'PPS']]);
    const bbml = d.num('BBML');
    if (bbml) names.push(`BBML${bbml}`);
    return names.length ? names.join(' ') : 'no optional features';
  },
});

export const IDR4 = reg({
  name: 'IDR4', title: 'IMPLEMENTATION DEFINED', offset: 0x10, access: 'RO',
  fields: [{ name: 'IMPDEF[31:0]', hi: 31, lo: 0, kind: 'reserved', reserved: 'IMPDEF', meaning: 'implementation defined' }],
  summary: (d) => `implementation defined: ${hex(d.words[0] ?? 0n, 8)}`,
});

/** IDR5.OAS → bits (the PS encoding). */
export const OAS_BITS: readonly number[] = ADDRESS_SIZE_BITS;

export const IDR5 = reg({
  name: 'IDR5', title: 'address sizes, granules', offset: 0x14, access: 'RO',
  fields: [
    { name: 'STALL_MAX', hi: 31, lo: 16, kind: 'uint', meaning: 'most stalled transactions outstanding at once (SMMU and system)' },
    {
      name: 'VAX', hi: 11, lo: 10, kind: 'enum', meaning: 'largest virtual address per CD.TTBx',
      values: [
        { value: 0, name: '48_BIT', meaning: 'up to 48-bit VAs' },
        { value: 1, name: '52_BIT', meaning: 'up to 52-bit VAs' },
        { value: 2, name: '56_BIT', meaning: 'up to 56-bit VAs' },
        { value: 3, name: 'RESERVED_3', meaning: 'reserved', reserved: true },
      ],
    },
    feature('D128', 8, '128-bit (VMSAv9-128) descriptors'),
    flag('DS', 7, '52-bit addresses with 4KB and 16KB granules (LPA2-style descriptors)'),
    feature('GRAN64K', 6, '64KB translation granule'),
    feature('GRAN16K', 5, '16KB translation granule'),
    feature('GRAN4K', 4, '4KB translation granule'),
    {
      name: 'OAS', hi: 2, lo: 0, kind: 'enum', meaning: 'output (physical) address size',
      values: addressSizes((bits) => `${bits}-bit physical addresses` +
        (bits === 52 ? ' (reserved in SMMUv3.0)' : bits === 56 ? ' (reserved in SMMUv3.3 and earlier)' : '')),
    },
  ],
  rules: [
    {
      id: 'illegal',
      check: (d) => (d.num('OAS') === 6 && !(d.num('GRAN64K') || d.num('DS') || d.num('D128')) ? {
        field: 'OAS', rule: 'illegal', severity: 'warning',
        message: 'OAS = 52 bits needs a way to express them: GRAN64K, DS or D128 must be set',
      } : undefined),
    },
    {
      id: 'illegal',
      check: (d) => (d.num('OAS') === 7 && !d.num('D128') ? {
        field: 'OAS', rule: 'illegal', severity: 'warning',
        message: 'OAS = 56 bits requires D128 (128-bit descriptors); set D128 or use OAS 52 or below',
      } : undefined),
    },
    {
      id: 'illegal',
      check: (d) => {
        const vax = d.num('VAX');
        if (vax === 0 || vax === 3) return undefined;
        if (d.num('GRAN64K') || (d.num('DS') && (d.num('GRAN4K') || d.num('GRAN16K')))) return undefined;
        return {
          field: 'VAX', rule: 'illegal', severity: 'warning',
          message: 'VAX advertises VAs above 48 bits without GRAN64K, or DS with a 4KB/16KB granule, to translate them',
        };
      },
    },
    {
      id: 'illegal',
      check: (d) => (d.num('VAX') === 2 && !d.num('D128') ? {
        field: 'VAX', rule: 'illegal', severity: 'warning',
        message: 'VAX = 56-bit VAs requires D128; set D128 or VAX at most 0b01',
      } : undefined),
    },
    res0Unless('DS', (d) => d.num('GRAN4K') === 1 || d.num('GRAN16K') === 1, 'neither the 4KB nor the 16KB granule is supported'),
    {
      id: 'illegal',
      check: (d) => {
        const ttf = d.ctx.ttf;
        if (ttf === undefined) return undefined;
        if ((ttf & 1) && !d.num('GRAN4K')) {
          return {
            field: 'GRAN4K', rule: 'illegal', severity: 'warning',
            message: 'IDR0.TTF includes VMSAv8-32 LPAE, which uses the 4KB granule; GRAN4K must be 1',
          };
        }
        if (d.num('D128') && (ttf & 1 || !(ttf & 2))) {
          return {
            field: 'D128', rule: 'illegal', severity: 'warning',
            message: 'D128 requires IDR0.TTF = 0b10 (VMSAv8-64 and not VMSAv8-32)',
          };
        }
        return undefined;
      },
    },
  ],
  summary: (d) => {
    const grans = setFlags(d, [['GRAN4K', '4K'], ['GRAN16K', '16K'], ['GRAN64K', '64K']]);
    const parts = [
      `OAS ${OAS_BITS[d.num('OAS')]} bits`,
      grans.length ? `granules ${grans.join(' ')}` : 'no granules',
      `VA ${['48', '52', '56', 'reserved'][d.num('VAX')]} bits`,
      ...setFlags(d, [['DS', 'DS'], ['D128', 'D128']]),
    ];
    if (d.num('STALL_MAX')) parts.push(`STALL_MAX ${d.num('STALL_MAX')}`);
    return parts.join(', ');
  },
});

/** JEP106 code of Arm in IIDR.Implementer. */
export const IMPLEMENTER_ARM = 0x43b;

export const IIDR = reg({
  name: 'IIDR', title: 'implementation', offset: 0x18, access: 'RO',
  fields: [
    {
      name: 'ProductID', hi: 31, lo: 20, kind: 'uint', meaning: 'implementation defined part number',
      values: [
        { value: 0x483, name: 'MMU_600', meaning: 'Arm CoreLink MMU-600 (with Arm as implementer)' },
        { value: 0x487, name: 'MMU_700', meaning: 'Arm CoreLink MMU-700 (with Arm as implementer)' },
      ],
    },
    { name: 'Variant', hi: 19, lo: 16, kind: 'uint', meaning: 'major revision (the N of rNpM)' },
    { name: 'Revision', hi: 15, lo: 12, kind: 'uint', meaning: 'minor revision (the M of rNpM)' },
    {
      name: 'Implementer', hi: 11, lo: 0, kind: 'uint', meaning: 'JEP106 code of the implementer: [11:8] continuation, [6:0] identity',
      values: [{ value: IMPLEMENTER_ARM, name: 'ARM', meaning: 'Arm' }],
    },
  ],
  summary: (d) => {
    const arm = d.num('Implementer') === IMPLEMENTER_ARM;
    const who = arm ? 'Arm' : `implementer ${hex(d.get('Implementer'))}`;
    const product = d.num('ProductID');
    const name = arm && product === 0x483 ? ' (MMU-600)' : arm && product === 0x487 ? ' (MMU-700)' : '';
    return `${who} product ${hex(product)}${name} r${d.num('Variant')}p${d.num('Revision')}`;
  },
});

export const AIDR = reg({
  name: 'AIDR', title: 'architecture version', offset: 0x1c, access: 'RO',
  fields: [
    {
      name: 'ArchMajorRev', hi: 7, lo: 4, kind: 'uint', meaning: 'major architecture revision',
      values: [{ value: 0, name: 'SMMUV3', meaning: 'SMMUv3.x' }],
    },
    {
      name: 'ArchMinorRev', hi: 3, lo: 0, kind: 'uint', meaning: 'minor architecture revision',
      values: [0, 1, 2, 3, 4].map((m) => ({ value: m, name: `V3_${m}`, meaning: `SMMUv3.${m}` })),
    },
  ],
  summary: (d) => `SMMUv${d.num('ArchMajorRev') + 3}.${d.num('ArchMinorRev')}`,
});

// ---------------------------------------------------------------------------------------
// Control registers
// ---------------------------------------------------------------------------------------

/** CR0 and CR0ACK share fields: CR0ACK reports when each CR0 field has taken effect. */
function cr0Fields(ack: boolean): FieldDraft[] {
  const is = ack ? 'acknowledged: ' : '';
  return [
    flag('DPT_WALK_EN', 10, `${is}Device Permission Table walks enabled`, { relevant: (d) => d.ctx.dpt !== false }),
    {
      name: 'VMW', hi: 8, lo: 6, kind: 'enum', meaning: `${is}VMID wildcard for TLB invalidations`,
      relevant: (d) => d.ctx.vmw !== false,
      values: [
        { value: 0, name: 'EXACT', meaning: 'invalidations match VMIDs exactly' },
        ...[1, 2, 3, 4].map((n) => ({ value: n, name: `WILD_${n}`, meaning: `invalidations ignore the low ${n} VMID bit${n > 1 ? 's' : ''}` })),
        ...[5, 6, 7].map((n) => ({ value: n, name: `RESERVED_${n}`, meaning: 'reserved; behaves as EXACT', reserved: true })),
      ],
    },
    flag('ATSCHK', 4, `${is}ATS Translated traffic checked against STE.EATS (safe mode); 0: passes unchecked`, {
      relevant: (d) => d.ctx.ats !== false,
    }),
    flag('CMDQEN', 3, `${is}command queue processing enabled`),
    flag('EVENTQEN', 2, `${is}event queue writes enabled`, { aliases: ['evtqen'] }),
    flag('PRIQEN', 1, `${is}PRI queue writes enabled`, { relevant: (d) => d.ctx.pri !== false }),
    flag('SMMUEN', 0, `${is}translation enabled; 0: all Non-secure streams bypass as GBPA says`),
  ];
}

const cr0Rules: readonly Rule[] = [
  res0Unless('ATSCHK', (d) => d.ctx.ats, 'ATS is not implemented (IDR0.ATS = 0)'),
  res0Unless('PRIQEN', (d) => d.ctx.pri, 'PRI is not implemented (IDR0.PRI = 0)'),
  res0Unless('VMW', (d) => d.ctx.vmw, 'VMID wildcards are not implemented (IDR0.VMW = 0)'),
  res0Unless('DPT_WALK_EN', (d) => d.ctx.dpt, 'the Device Permission Table is not implemented (IDR3.DPT = 0)'),
];

function cr0Summary(d: FieldReader): string {
  const on = setFlags(d, [['SMMUEN', 'SMMUEN'], ['CMDQEN', 'CMDQEN'], ['EVENTQEN', 'EVTQEN'], ['PRIQEN', 'PRIQEN'],
    ['ATSCHK', 'ATSCHK'], ['DPT_WALK_EN', 'DPT_WALK_EN']]);
  if (d.num('VMW')) on.push(`VMW=${d.num('VMW')}`);
  if (!on.length) return 'all disabled (streams bypass or abort as GBPA says)';
  return d.num('SMMUEN') ? on.join(' ') : `${on.join(' ')} (SMMUEN clear: streams follow GBPA)`;
}

export const CR0 = reg({
  name: 'CR0', title: 'enables', offset: 0x20, access: 'RW',
  fields: cr0Fields(false), rules: cr0Rules, summary: cr0Summary,
});

export const CR0ACK = reg({
  name: 'CR0ACK', title: 'enables acknowledged', offset: 0x24, access: 'RO',
  fields: cr0Fields(true), rules: cr0Rules, summary: cr0Summary,
});

const tableCacheable = (d: FieldReader): boolean => d.num('TABLE_OC') !== 0 || d.num('TABLE_IC') !== 0;
const queueCacheable = (d: FieldReader): boolean => d.num('QUEUE_OC') !== 0 || d.num('QUEUE_IC') !== 0;

function attrText(d: FieldReader, which: 'TABLE' | 'QUEUE'): string {
  const ic = valueName(CR1_CACHE, d.num(`${which}_IC`));
  const oc = valueName(CR1_CACHE, d.num(`${which}_OC`));
  const cache = ic === oc ? `${ic} inner/outer` : `inner ${ic} outer ${oc}`;
  const cacheable = which === 'TABLE' ? tableCacheable(d) : queueCacheable(d);
  // With both caches NC the shareability is ignored and behaves as Outer Shareable.
  const sh = cacheable ? valueName(SHAREABILITY, d.num(`${which}_SH`)) : 'OSH';
  return `${sh}, ${cache}`;
}

export const CR1 = reg({
  name: 'CR1', title: 'table and queue attributes', offset: 0x28, access: 'RW',
  fields: [
    { name: 'TABLE_SH', hi: 11, lo: 10, kind: 'enum', meaning: 'shareability of stream table (and VMS) accesses', values: SHAREABILITY, relevant: tableCacheable },
    { name: 'TABLE_OC', hi: 9, lo: 8, kind: 'enum', meaning: 'outer cacheability of stream table accesses', values: CR1_CACHE },
    { name: 'TABLE_IC', hi: 7, lo: 6, kind: 'enum', meaning: 'inner cacheability of stream table accesses', values: CR1_CACHE },
    { name: 'QUEUE_SH', hi: 5, lo: 4, kind: 'enum', meaning: 'shareability of command, event and PRI queue accesses', values: SHAREABILITY, relevant: queueCacheable },
    { name: 'QUEUE_OC', hi: 3, lo: 2, kind: 'enum', meaning: 'outer cacheability of queue accesses', values: CR1_CACHE },
    { name: 'QUEUE_IC', hi: 1, lo: 0, kind: 'enum', meaning: 'inner cacheability of queue accesses', values: CR1_CACHE },
  ],
  rules: [
    {
      id: 'unsupported',
      check: (d) => {
        if (d.ctx.cohacc !== false) return undefined;
        const out: Problem[] = [];
        for (const [which, cacheable] of [['TABLE', tableCacheable(d)], ['QUEUE', queueCacheable(d)]] as const) {
          if (!cacheable) continue;
          out.push({
            field: `${which}_OC`, rule: 'unsupported', severity: 'warning',
            message: `${which.toLowerCase()} accesses are made cacheable but IDR0.COHACC = 0 (no coherent access): ` +
              `the SMMU may treat them as an external abort; use NC for ${which}_IC and ${which}_OC`,
          });
        }
        return out;
      },
    },
  ],
  summary: (d) => `tables ${attrText(d, 'TABLE')}; queues ${attrText(d, 'QUEUE')}`,
});

export const CR2 = reg({
  name: 'CR2', title: 'control', offset: 0x2c, access: 'RW',
  fields: [
    flag('REC_CFG_ATS', 3, 'record the extended set of ATS/PRI configuration error events', { relevant: (d) => d.ctx.atsrecerr !== false }),
    flag('PTM', 2, 'private TLB maintenance: broadcast invalidations from PEs need not affect this SMMU', { relevant: (d) => d.ctx.btm !== false }),
    flag('RECINVSID', 1, 'record C_BAD_STREAMID for out-of-range StreamIDs'),
    flag('E2H', 0, 'EL2 StreamWorld uses the EL2-E2H regime (with ASIDs); 0: EL2 without ASIDs', { relevant: (d) => d.ctx.hyp !== false }),
  ],
  rules: [
    res0Unless('E2H', (d) => d.ctx.hyp, 'hypervisor contexts are not implemented (IDR0.Hyp = 0)'),
    res0Unless('PTM', (d) => d.ctx.btm, 'broadcast TLB maintenance is not implemented (IDR0.BTM = 0)'),
    res0Unless('REC_CFG_ATS', (d) => d.ctx.atsrecerr, 'IDR0.ATSRECERR = 0'),
  ],
  summary: (d) => {
    const on = setFlags(d, [['E2H', 'E2H'], ['RECINVSID', 'RECINVSID'], ['PTM', 'PTM'], ['REC_CFG_ATS', 'REC_CFG_ATS']]);
    return on.length ? on.join(' ') : 'none set';
  },
});

/** SMMU_S2PII: 16 four-bit permission interpretations, indexed by a stage 2 descriptor's PIIndex. */
const S2PII_VALUES: readonly EnumValue[] = [
  { value: 0x0, name: 'NO_ACCESS', meaning: 'no access' },
  { value: 0x1, name: 'RESERVED_1', meaning: 'reserved; treated as no access', reserved: true },
  { value: 0x2, name: 'MRO', meaning: 'MRO' },
  { value: 0x3, name: 'MRO_TL1', meaning: 'MRO-TL1' },
  { value: 0x4, name: 'WO', meaning: 'write only' },
  { value: 0x5, name: 'RESERVED_5', meaning: 'reserved; treated as no access', reserved: true },
  { value: 0x6, name: 'MRO_TL0', meaning: 'MRO-TL0' },
  { value: 0x7, name: 'MRO_TL01', meaning: 'MRO-TL01' },
  { value: 0x8, name: 'RO', meaning: 'read only' },
  { value: 0x9, name: 'RO_UX', meaning: 'read only, unprivileged execute' },
  { value: 0xa, name: 'RO_PX', meaning: 'read only, privileged execute' },
  { value: 0xb, name: 'RO_PUX', meaning: 'read only, privileged and unprivileged execute' },
  { value: 0xc, name: 'RW', meaning: 'read/write' },
  { value: 0xd, name: 'RW_UX', meaning: 'read/write, unprivileged execute' },
  { value: 0xe, name: 'RW_PX', meaning: 'read/write, privileged execute' },
  { value: 0xf, name: 'RW_PUX', meaning: 'read/write, privileged and unprivileged execute' },
];

export const S2PII = reg({
  name: 'S2PII', title: 'stage 2 permission indirection', offset: 0x30, access: 'RW', wordBits: 64,
  fields: Array.from({ length: 16 }, (_, p): FieldDraft => ({
    name: `S2PII${p}`, hi: 4 * p + 3, lo: 4 * p, kind: 'enum', values: S2PII_VALUES,
    meaning: `permissions for stage 2 descriptors with PIIndex ${p}`,
  })),
  summary: (d) => Array.from({ length: 16 }, (_, p) => valueName(S2PII_VALUES, d.num(`S2PII${p}`))).join(' '),
});

export const STATUSR = reg({
  name: 'STATUSR', title: 'status', offset: 0x40, access: 'RO',
  fields: [flag('DORMANT', 0, 'dormant: nothing cached and no prefetch in flight', { relevant: (d) => d.ctx.dormhint !== false })],
  summary: (d) => (d.num('DORMANT') ? 'dormant (nothing cached)' : 'may hold cached structures'),
});

export const GBPA = reg({
  name: 'GBPA', title: 'global bypass attributes', offset: 0x44, access: 'RW',
  fields: [
    flag('UPDATE', 31, 'update in progress: written as 1 with the new value, cleared by the SMMU when it takes effect'),
    flag('ABORT', 20, 'abort all incoming transactions while SMMUEN = 0; 0: bypass with the attributes below'),
    {
      name: 'INSTCFG', hi: 19, lo: 18, kind: 'enum', meaning: 'instruction/data override for bypassing reads',
      relevant: (d) => d.ctx.attrPermsOvr !== false, values: INST_OVERRIDE,
    },
    {
      name: 'PRIVCFG', hi: 17, lo: 16, kind: 'enum', meaning: 'privilege override for bypassing transactions',
      relevant: (d) => d.ctx.attrPermsOvr !== false, values: PRIV_OVERRIDE,
    },
    {
      name: 'SHCFG', hi: 13, lo: 12, kind: 'enum', meaning: 'shareability override for bypassing transactions',
      relevant: (d) => d.ctx.attrTypesOvr !== false, values: SHAREABILITY_OVERRIDE,
    },
    {
      name: 'ALLOCCFG', hi: 11, lo: 8, kind: 'uint', meaning: 'allocation hints: 0b0xxx use incoming; 0b1RWT override RA, WA, TR',
      relevant: (d) => d.ctx.attrTypesOvr !== false,
      show: allocHintsText,
    },
    flag('MTCFG', 4, 'override the memory type with MemAttr; 0: use incoming', { relevant: (d) => d.ctx.attrTypesOvr !== false }),
    {
      name: 'MemAttr', hi: 3, lo: 0, kind: 'enum', meaning: 'memory type used when MTCFG = 1', values: MEMATTR,
      relevant: (d) => d.num('MTCFG') === 1 && d.ctx.attrTypesOvr !== false,
    },
  ],
  rules: [
    {
      id: 'unsupported',
      check: (d) => {
        if (d.ctx.attrTypesOvr !== false) return undefined;
        // Only real overrides: SHCFG 0 may just read as zero, 1 is "use incoming".
        const set = [
          ...(d.num('MTCFG') ? ['MTCFG'] : []), ...(d.num('SHCFG') >= 2 ? ['SHCFG'] : []), ...(d.num('ALLOCCFG') & 8 ? ['ALLOCCFG'] : []),
        ];
        return set.length ? {
          field: set[0], rule: 'unsupported', severity: 'warning',
          message: `${set.join(', ')} set but IDR1.ATTR_TYPES_OVR = 0: the SMMU always uses incoming types, hints and shareability`,
        } : undefined;
      },
    },
    {
      id: 'unsupported',
      check: (d) => {
        if (d.ctx.attrPermsOvr !== false) return undefined;
        const set = ['INSTCFG', 'PRIVCFG'].filter((f) => d.num(f) >= 2);
        return set.length ? {
          field: set[0], rule: 'unsupported', severity: 'warning',
          message: `${set.join(', ')} set but IDR1.ATTR_PERMS_OVR = 0: the SMMU always uses incoming instruction/privilege attributes`,
        } : undefined;
      },
    },
  ],
  summary: (d) => {
    const update = d.num('UPDATE') ? ' (update in progress)' : '';
    if (d.num('ABORT')) return `abort all incoming transactions${update}`;
    const overrides: string[] = [];
    if (d.num('MTCFG')) overrides.push(`MemAttr ${valueName(MEMATTR, d.num('MemAttr'))}`);
    if (d.num('SHCFG') !== 1) overrides.push(['NSH', '', 'OSH', 'ISH'][d.num('SHCFG')]);
    if (d.get('ALLOCCFG') & 8n) overrides.push(`alloc RA=${(d.num('ALLOCCFG') >> 2) & 1} WA=${(d.num('ALLOCCFG') >> 1) & 1} TR=${d.num('ALLOCCFG') & 1}`);
    if (d.num('INSTCFG') >= 2) overrides.push(d.num('INSTCFG') === 2 ? 'data' : 'instruction');
    if (d.num('PRIVCFG') >= 2) overrides.push(d.num('PRIVCFG') === 2 ? 'unprivileged' : 'privileged');
    return `bypass, ${overrides.length ? overrides.join(', ') : 'incoming attributes'}${update}`;
  },
});

export const AGBPA = reg({
  name: 'AGBPA', title: 'alternate global bypass attributes', offset: 0x48, access: 'RW',
  fields: [{ name: 'IMPDEF[31:0]', hi: 31, lo: 0, kind: 'reserved', reserved: 'IMPDEF', meaning: 'implementation defined bypass attributes' }],
  summary: (d) => `implementation defined: ${hex(d.words[0] ?? 0n, 8)}`,
});

function irqFields(ack: boolean): FieldDraft[] {
  const is = ack ? 'acknowledged: ' : '';
  return [
    flag('EVENTQ_IRQEN', 2, `${is}event queue interrupts enabled`, { aliases: ['evtq_irqen'] }),
    flag('PRIQ_IRQEN', 1, `${is}PRI queue interrupts enabled`, { relevant: (d) => d.ctx.pri !== false }),
    flag('GERROR_IRQEN', 0, `${is}global error interrupts enabled`),
  ];
}

function irqSummary(d: FieldReader): string {
  const on = setFlags(d, [['EVENTQ_IRQEN', 'EVTQ'], ['PRIQ_IRQEN', 'PRIQ'], ['GERROR_IRQEN', 'GERROR']]);
  return on.length ? `${on.join(' ')} interrupts enabled` : 'all interrupts disabled';
}

const irqRules: readonly Rule[] = [res0Unless('PRIQ_IRQEN', (d) => d.ctx.pri, 'PRI is not implemented (IDR0.PRI = 0)')];

export const IRQ_CTRL = reg({
  name: 'IRQ_CTRL', title: 'interrupt enables', offset: 0x50, access: 'RW',
  fields: irqFields(false), rules: irqRules, summary: irqSummary,
});

export const IRQ_CTRLACK = reg({
  name: 'IRQ_CTRLACK', title: 'interrupt enables acknowledged', offset: 0x54, access: 'RO',
  fields: irqFields(true), rules: irqRules, summary: irqSummary,
});

/** GERROR and GERRORN: an error is active while the two bits differ. */
const GERROR_BITS: readonly (readonly [string, number, string, string?])[] = [
  ['DPT_ERR', 10, 'Device Permission Table lookup fault (details in DPT_CFG_FAR)'],
  ['CMDQP_ERR', 9, 'error on an enhanced command queue control page'],
  ['SFM_ERR', 8, 'service failure mode entered: traffic and command processing stopped'],
  ['MSI_GERROR_ABT_ERR', 7, 'a GERROR MSI write was aborted'],
  ['MSI_PRIQ_ABT_ERR', 6, 'a PRI queue MSI write was aborted'],
  ['MSI_EVENTQ_ABT_ERR', 5, 'an event queue MSI write was aborted', 'msi_evtq_abt_err'],
  ['MSI_CMDQ_ABT_ERR', 4, 'a CMD_SYNC MSI write was aborted'],
  ['PRIQ_ABT_ERR', 3, 'a PRI queue access was aborted: page requests may be lost'],
  ['EVENTQ_ABT_ERR', 2, 'an event queue access was aborted: events may be lost', 'evtq_abt_err'],
  ['CMDQ_ERR', 0, 'command error: CMDQ_CONS.ERR holds the reason, processing stopped'],
];

function gerrorFields(n: boolean): FieldDraft[] {
  return GERROR_BITS.map(([name, bit, what, alias]) => flag(name, bit, n ? `acknowledges: ${what}` : `toggled when: ${what}`, {
    ...(alias ? { aliases: [alias] } : {}),
    ...(name === 'DPT_ERR' ? { relevant: (d: FieldReader) => d.ctx.dpt !== false } : {}),
    ...(name === 'CMDQP_ERR' ? { relevant: (d: FieldReader) => d.ctx.ecmdq !== false } : {}),
    ...(name === 'PRIQ_ABT_ERR' ? { relevant: (d: FieldReader) => d.ctx.pri !== false } : {}),
    ...(name.startsWith('MSI_') ? { relevant: (d: FieldReader) => d.ctx.msi !== false && (name !== 'MSI_PRIQ_ABT_ERR' || d.ctx.pri !== false) } : {}),
  }));
}

const gerrorRules: readonly Rule[] = [
  res0Unless('DPT_ERR', (d) => d.ctx.dpt, 'IDR3.DPT = 0'),
  res0Unless('CMDQP_ERR', (d) => d.ctx.ecmdq, 'IDR1.ECMDQ = 0'),
  res0Unless('PRIQ_ABT_ERR', (d) => d.ctx.pri, 'IDR0.PRI = 0'),
  res0Unless('MSI_PRIQ_ABT_ERR', (d) => (d.ctx.pri === false ? false : d.ctx.msi), 'it needs MSI and PRI'),
  ...['MSI_GERROR_ABT_ERR', 'MSI_EVENTQ_ABT_ERR', 'MSI_CMDQ_ABT_ERR'].map((f) => res0Unless(f, (d) => d.ctx.msi, 'IDR0.MSI = 0')),
];

function gerrorSummary(d: FieldReader): string {
  const set = GERROR_BITS.filter(([f]) => d.get(f) !== 0n).map(([f]) => f);
  return set.length ? `${set.join(' ')} (active where GERROR and GERRORN differ)` : 'no bits set';
}

export const GERROR = reg({
  name: 'GERROR', title: 'global errors', offset: 0x60, access: 'RO',
  fields: gerrorFields(false), rules: gerrorRules, summary: gerrorSummary,
});

export const GERRORN = reg({
  name: 'GERRORN', title: 'global error acknowledge', offset: 0x64, access: 'RW',
  fields: gerrorFields(true), rules: gerrorRules, summary: gerrorSummary,
});

// ---------------------------------------------------------------------------------------
// MSI configuration (GERROR, EVENTQ, PRIQ)
// ---------------------------------------------------------------------------------------

type MsiSource = 'GERROR' | 'EVENTQ' | 'PRIQ';

const msiPresent = (src: MsiSource) => (d: FieldReader): boolean | undefined =>
  (d.ctx.msi === false || (src === 'PRIQ' && d.ctx.pri === false) ? false : d.ctx.msi);

const msiAbsent = (src: MsiSource): string =>
  (src === 'PRIQ' ? 'the register needs both MSI and PRI (IDR0.MSI, IDR0.PRI)' : 'MSIs are not implemented (IDR0.MSI = 0)');

const msiRelevant = (src: MsiSource) => (d: FieldReader): boolean => msiPresent(src)(d) !== false;

function irqCfg0(src: MsiSource, offset: number): RegisterLayout {
  return reg({
    name: `${src}_IRQ_CFG0`, title: `${src.toLowerCase()} MSI address`, offset, access: 'RW', wordBits: 64,
    fields: [{
      name: 'ADDR', hi: 55, lo: 2, kind: 'address', meaning: 'physical address the MSI is written to; 0: no MSI (wired interrupt)',
      relevant: msiRelevant(src),
    }],
    rules: [res0Unless('ADDR', msiPresent(src), msiAbsent(src)),
      addressWithinOas('ADDR', 'MSI address')],
    summary: (d) => (d.get('ADDR') ? `MSI to ${hex(d.get('ADDR'))}` : 'no MSI (wired interrupt if any)'),
  });
}

function irqCfg1(src: MsiSource, offset: number): RegisterLayout {
  return reg({
    name: `${src}_IRQ_CFG1`, title: `${src.toLowerCase()} MSI data`, offset, access: 'RW',
    fields: [{ name: 'DATA', hi: 31, lo: 0, kind: 'uint', meaning: 'the 32-bit value the MSI writes', relevant: msiRelevant(src) }],
    rules: [res0Unless('DATA', msiPresent(src), msiAbsent(src))],
    summary: (d) => `MSI data ${hex(d.get('DATA'))}`,
  });
}

function irqCfg2(src: MsiSource, offset: number): RegisterLayout {
  const fields: FieldDraft[] = [
    {
      name: 'SH', hi: 5, lo: 4, kind: 'enum', values: SHAREABILITY, meaning: 'shareability of the MSI write (ignored for Device types)',
      relevant: (d) => msiRelevant(src)(d) && !isDeviceMemAttr(d.num('MemAttr')),
    },
    { name: 'MemAttr', hi: 3, lo: 0, kind: 'enum', values: MEMATTR, meaning: 'memory type of the MSI write', relevant: msiRelevant(src) },
  ];
  // LO applies to wired interrupts too, so it does not depend on MSI support.
  if (src === 'PRIQ') fields.push(flag('LO', 31, 'interrupt only for page requests with the Last bit; 0: when the queue becomes non-empty'));
  return reg({
    name: `${src}_IRQ_CFG2`, title: `${src.toLowerCase()} MSI attributes`, offset, access: 'RW', fields,
    rules: [res0Unless('MemAttr', msiPresent(src), msiAbsent(src)), res0Unless('SH', msiPresent(src), msiAbsent(src))],
    summary: (d) => {
      const m = d.num('MemAttr');
      const text = isDeviceMemAttr(m) ? valueName(MEMATTR, m) : `${valueName(MEMATTR, m)} ${valueName(SHAREABILITY, d.num('SH'))}`;
      return `MSI as ${text}${src === 'PRIQ' && d.num('LO') ? ', interrupt on last request only' : ''}`;
    },
  });
}

export const GERROR_IRQ_CFG0 = irqCfg0('GERROR', 0x68);
export const GERROR_IRQ_CFG1 = irqCfg1('GERROR', 0x70);
export const GERROR_IRQ_CFG2 = irqCfg2('GERROR', 0x74);

// ---------------------------------------------------------------------------------------
// Stream table
// ---------------------------------------------------------------------------------------

export const STRTAB_BASE = reg({
  name: 'STRTAB_BASE', title: 'stream table base', offset: 0x80, access: 'RW', wordBits: 64,
  fields: [
    flag('RA', 62, 'read-allocate hint for stream table accesses'),
    { name: 'ADDR', hi: 55, lo: 6, kind: 'address', meaning: 'physical address of the stream table (linear) or L1 table (2-level)' },
  ],
  rules: [addressWithinOas('ADDR', 'stream table base')],
  summary: (d) => `stream table at ${hex(d.get('ADDR'))}${d.num('RA') ? ', read-allocate' : ''}`,
});

const twoLevel = (d: FieldReader): boolean => d.num('FMT') === 1 && d.ctx.stLevel2 !== false;

export const STRTAB_BASE_CFG = reg({
  name: 'STRTAB_BASE_CFG', title: 'stream table configuration', offset: 0x88, access: 'RW',
  fields: [
    {
      name: 'FMT', hi: 17, lo: 16, kind: 'enum', meaning: 'stream table format',
      relevant: (d) => d.ctx.stLevel2 !== false,
      values: [
        { value: 0, name: 'LINEAR', meaning: 'linear: ADDR points to an array of STEs' },
        { value: 1, name: '2LVL', meaning: '2-level: ADDR points to an array of L1 descriptors' },
        { value: 2, name: 'RESERVED_2', meaning: 'reserved; behaves as LINEAR', reserved: true },
        { value: 3, name: 'RESERVED_3', meaning: 'reserved; behaves as LINEAR', reserved: true },
      ],
    },
    {
      name: 'SPLIT', hi: 10, lo: 6, kind: 'uint', meaning: 'StreamID bits indexing a level-2 table (2-level only); 6, 8 or 10',
      relevant: twoLevel,
      values: [
        { value: 6, name: 'SPLIT_4K', meaning: '64 STEs per level-2 table (4KB)' },
        { value: 8, name: 'SPLIT_16K', meaning: '256 STEs per level-2 table (16KB)' },
        { value: 10, name: 'SPLIT_64K', meaning: '1024 STEs per level-2 table (64KB)' },
      ],
    },
    { name: 'LOG2SIZE', hi: 5, lo: 0, kind: 'uint', meaning: 'StreamIDs covered, as log2; used up to IDR1.SIDSIZE', show: (v) => `${pow2(Number(v))} StreamIDs` },
  ],
  rules: [
    {
      id: 'reserved-value',
      check: (d) => (twoLevel(d) && !STRTAB_SPLITS.includes(d.num('SPLIT')) ? {
        field: 'SPLIT', rule: 'reserved-value', severity: 'warning',
        message: `SPLIT = ${d.num('SPLIT')} is reserved and behaves as 6; use 6, 8 or 10 (Linux uses 8)`,
      } : undefined),
    },
    {
      id: 'res0',
      check: (d) => (d.num('FMT') !== 0 && d.ctx.stLevel2 === false ? {
        field: 'FMT', rule: 'res0', severity: 'warning',
        message: 'FMT is set but IDR0.ST_LEVEL says linear only: the field is RES0 and the table is read as linear; write FMT = 0',
      } : undefined),
    },
    {
      id: 'range',
      check: (d) => {
        const sid = d.ctx.sidSize;
        if (sid === undefined || d.num('LOG2SIZE') <= sid) return undefined;
        return {
          field: 'LOG2SIZE', rule: 'range', severity: 'warning',
          message: `LOG2SIZE = ${d.num('LOG2SIZE')} exceeds IDR1.SIDSIZE = ${sid}: only ${pow2(sid)} StreamIDs are reachable, ` +
            `yet the base must be aligned to the larger table; use LOG2SIZE <= ${sid}`,
        };
      },
    },
    {
      id: 'range',
      check: (d) => (twoLevel(d) && STRTAB_SPLITS.includes(d.num('SPLIT')) && d.num('SPLIT') >= d.num('LOG2SIZE') ? {
        field: 'SPLIT', rule: 'range', severity: 'warning',
        message: `SPLIT = ${d.num('SPLIT')} >= LOG2SIZE = ${d.num('LOG2SIZE')}: a single L1 descriptor covers every StreamID; a linear table (FMT = 0) is recommended`,
      } : undefined),
    },
  ],
  summary: (d) => {
    const size = `${pow2(d.num('LOG2SIZE'))} StreamIDs`;
    return twoLevel(d) ? `2-level, SPLIT ${d.num('SPLIT')}, ${size}` : `linear, ${size}`;
  },
});

// ---------------------------------------------------------------------------------------
// Queues
// ---------------------------------------------------------------------------------------

export type QueueName = 'cmdq' | 'eventq' | 'priq';

/** Bytes per entry: commands and page requests are 16 bytes, event records 32. */
export const QUEUE_ENTRY_BYTES: Readonly<Record<QueueName, number>> = { cmdq: 16, eventq: 32, priq: 16 };

const QUEUE_CAP: Readonly<Record<QueueName, { field: string; max: (c: ArchContext) => number | undefined }>> = {
  cmdq: { field: 'IDR1.CMDQS', max: (c) => c.cmdqs },
  eventq: { field: 'IDR1.EVENTQS', max: (c) => c.eventqs },
  priq: { field: 'IDR1.PRIQS', max: (c) => c.priqs },
};

const QUEUE_LABEL: Readonly<Record<QueueName, string>> = { cmdq: 'command queue', eventq: 'event queue', priq: 'PRI queue' };

/** The LOG2SIZE the SMMU uses: the programmed one, capped at the IDR1 maximum when known. */
function effectiveLog2(q: QueueName, log2: number, c: ArchContext): number {
  const max = QUEUE_CAP[q].max(c);
  return max === undefined ? log2 : Math.min(log2, max);
}

function queueBase(q: QueueName, name: string, offset: number): RegisterLayout {
  const entry = QUEUE_ENTRY_BYTES[q];
  const hint = q === 'cmdq' ? 'RA' : 'WA';
  return reg({
    name, title: `${QUEUE_LABEL[q]} base`, offset, access: 'RW', wordBits: 64,
    fields: [
      flag(hint, 62, q === 'cmdq' ? 'read-allocate hint for command reads' : `write-allocate hint for ${QUEUE_LABEL[q]} writes`, { aliases: ['rwa'] }),
      { name: 'ADDR', hi: 55, lo: 5, kind: 'address', meaning: `physical address of the ${QUEUE_LABEL[q]}, aligned to its size` },
      {
        name: 'LOG2SIZE', hi: 4, lo: 0, kind: 'uint', meaning: `entries as log2; at most ${QUEUE_CAP[q].field}`,
        show: (v) => `${pow2(Number(v))} entries, ${hex(BigInt(entry) << v)} bytes`,
      },
    ],
    rules: [
      addressWithinOas('ADDR', `${QUEUE_LABEL[q]} base`),
      {
        id: 'range',
        check: (d) => {
          const log2 = d.num('LOG2SIZE');
          const max = QUEUE_CAP[q].max(d.ctx);
          if (max !== undefined && log2 > max) {
            return {
              field: 'LOG2SIZE', rule: 'range', severity: 'warning',
              message: `LOG2SIZE = ${log2} exceeds ${QUEUE_CAP[q].field} = ${max}; the SMMU uses ${pow2(max)} entries — program LOG2SIZE <= ${max}`,
            };
          }
          if (max === undefined && log2 > 19) {
            return {
              field: 'LOG2SIZE', rule: 'range', severity: 'warning',
              message: `LOG2SIZE = ${log2} is above the architectural maximum of 19 (2^19 entries)`,
            };
          }
          return undefined;
        },
      },
      {
        id: 'align',
        check: (d) => {
          const log2 = effectiveLog2(q, d.num('LOG2SIZE'), d.ctx);
          const bytes = BigInt(entry) << BigInt(log2);
          const align = bytes > 32n ? bytes : 32n;
          const addr = d.get('ADDR');
          if (addr % align === 0n) return undefined;
          return {
            field: 'ADDR', rule: 'align', severity: 'error',
            message: `${QUEUE_LABEL[q]} base ${hex(addr)} is not aligned to the queue size ${hex(align)} ` +
              `(${pow2(log2)} entries of ${entry} bytes): the SMMU ignores the low address bits and would use ` +
              `${hex(addr - (addr % align))}; align the base to ${hex(align)}`,
          };
        },
      },
    ],
    summary: (d) => {
      const log2 = d.num('LOG2SIZE');
      const hintText = d.num(hint) ? `, ${hint === 'RA' ? 'read' : 'write'}-allocate` : '';
      return `${2 ** log2} entries (${hex(BigInt(entry) << BigInt(log2))} bytes) at ${hex(d.get('ADDR'))}${hintText}`;
    },
  });
}

/**
 * Split a PROD/CONS index value into the entry index and the wrap flag: with a queue of
 * 2^log2size entries the index is bits [log2size-1:0] and the wrap flag bit [log2size].
 */
export function queuePointer(value: number, log2size: number): { index: number; wrap: number } {
  if (!Number.isInteger(log2size) || log2size < 0 || log2size > 19) {
    throw new RangeError(`queue LOG2SIZE ${log2size} is out of range; expected 0..19`);
  }
  const v = value >>> 0;
  return { index: v & ((1 << log2size) - 1), wrap: (v >>> log2size) & 1 };
}

/** PROD/CONS of one queue: `ptr` is WR or RD; `flagField` the overflow flag of EVENTQ/PRIQ. */
function queueIndex(q: QueueName, which: 'PROD' | 'CONS', offset: number): RegisterLayout {
  const ptr = which === 'PROD' ? 'WR' : 'RD';
  const qName = q === 'cmdq' ? 'CMDQ' : q === 'eventq' ? 'EVENTQ' : 'PRIQ';
  const log2Of = (d: FieldReader): number | undefined => {
    const l = d.ctx.queueLog2Size?.[q];
    return l === undefined || !Number.isInteger(l) || l < 0 || l > 19 ? undefined : l;
  };
  const pointerText = (v: bigint, d: FieldReader): string => {
    const l = log2Of(d);
    if (l === undefined) return '';
    const p = queuePointer(Number(v), l);
    return `index ${p.index}, wrap ${p.wrap}`;
  };
  const who = (which === 'PROD') === (q === 'cmdq') ? 'software' : 'the SMMU';
  const fields: FieldDraft[] = [{
    name: ptr, hi: 19, lo: 0, kind: 'uint', show: pointerText,
    meaning: `${which === 'PROD' ? 'write' : 'read'} index: bits [QS-1:0] entry index, bit [QS] wrap flag (QS = ${qName}_BASE.LOG2SIZE); written by ${who}`,
  }];
  if (q === 'cmdq' && which === 'CONS') {
    fields.push({
      name: 'ERR', hi: 30, lo: 24, kind: 'uint', values: CERROR,
      meaning: 'reason for the command error while GERROR.CMDQ_ERR is active (else UNKNOWN)',
    });
  }
  if (q !== 'cmdq') {
    fields.push(which === 'PROD'
      ? flag('OVFLG', 31, 'overflow: toggled by the SMMU when records were lost; an overflow is pending while it differs from CONS.OVACKFLG', { aliases: ['ovf'] })
      : flag('OVACKFLG', 31, 'overflow acknowledge: software copies PROD.OVFLG here once it has handled an overflow', { aliases: ['ovf'] }));
  }
  const page1 = q !== 'cmdq';
  return reg({
    name: `${qName}_${which}`, title: `${QUEUE_LABEL[q]} ${which === 'PROD' ? 'producer' : 'consumer'} index`,
    offset: page1 ? 0x10000 + offset : offset, page: page1 ? 1 : 0, aliasOffset: page1 ? offset : undefined, access: 'RW',
    fields,
    rules: [
      {
        id: 'res0',
        check: (d) => {
          const l = log2Of(d);
          if (l === undefined || l === 19) return undefined;
          const above = d.get(ptr) >> BigInt(l + 1);
          if (above === 0n) return undefined;
          return {
            field: ptr, rule: 'res0', severity: 'warning',
            message: `${ptr} = ${hex(d.get(ptr))} has bits above the wrap flag (bit ${l}) set; with LOG2SIZE ${l} bits [19:${l + 1}] are RES0 — ` +
              `the pointer should be ${hex(d.get(ptr) & ((1n << BigInt(l + 1)) - 1n))}`,
          };
        },
      },
    ],
    summary: (d) => {
      const v = d.get(ptr);
      const p = pointerText(v, d);
      const parts = [`${ptr} ${hex(v)}${p ? ` (${p})` : ''}`];
      if (q === 'cmdq' && which === 'CONS') parts.push(`ERR ${valueName(CERROR, d.num('ERR'))} (valid while GERROR.CMDQ_ERR is active)`);
      if (q !== 'cmdq') {
        const f = which === 'PROD' ? 'OVFLG' : 'OVACKFLG';
        parts.push(`${f} ${d.num(f)}`);
      }
      return parts.join(', ');
    },
  });
}

export const CMDQ_BASE = queueBase('cmdq', 'CMDQ_BASE', 0x90);
export const CMDQ_PROD = queueIndex('cmdq', 'PROD', 0x98);
export const CMDQ_CONS = queueIndex('cmdq', 'CONS', 0x9c);
export const EVENTQ_BASE = queueBase('eventq', 'EVENTQ_BASE', 0xa0);
export const EVENTQ_PROD = queueIndex('eventq', 'PROD', 0xa8);
export const EVENTQ_CONS = queueIndex('eventq', 'CONS', 0xac);
export const EVENTQ_IRQ_CFG0 = irqCfg0('EVENTQ', 0xb0);
export const EVENTQ_IRQ_CFG1 = irqCfg1('EVENTQ', 0xb8);
export const EVENTQ_IRQ_CFG2 = irqCfg2('EVENTQ', 0xbc);
export const PRIQ_BASE = queueBase('priq', 'PRIQ_BASE', 0xc0);
export const PRIQ_PROD = queueIndex('priq', 'PROD', 0xc8);
export const PRIQ_CONS = queueIndex('priq', 'CONS', 0xcc);
export const PRIQ_IRQ_CFG0 = irqCfg0('PRIQ', 0xd0);
export const PRIQ_IRQ_CFG1 = irqCfg1('PRIQ', 0xd8);
export const PRIQ_IRQ_CFG2 = irqCfg2('PRIQ', 0xdc);

// ---------------------------------------------------------------------------------------
// Address translation operations, MPAM, ECMDQ and DPT
// ---------------------------------------------------------------------------------------

const atosRelevant = (d: FieldReader): boolean => d.ctx.atos !== false;

export const GATOS_CTRL = reg({
  name: 'GATOS_CTRL', title: 'ATOS control', offset: 0x100, access: 'RW',
  fields: [flag('RUN', 0, 'translation requested; cleared by the SMMU when GATOS_PAR holds the result', { relevant: atosRelevant })],
  summary: (d) => (d.num('RUN') ? 'translation running' : 'idle'),
});

export const GATOS_SID = reg({
  name: 'GATOS_SID', title: 'ATOS StreamID', offset: 0x108, access: 'RW', wordBits: 64,
  fields: [
    flag('SSID_VALID', 52, 'the request has a SubstreamID', { relevant: (d) => atosRelevant(d) && d.ctx.ssidSize !== 0 }),
    { name: 'SUBSTREAMID', hi: 51, lo: 32, kind: 'uint', meaning: 'SubstreamID of the request', relevant: (d) => atosRelevant(d) && d.num('SSID_VALID') === 1 },
    { name: 'STREAMID', hi: 31, lo: 0, kind: 'uint', meaning: 'StreamID of the request', relevant: atosRelevant },
  ],
  rules: [
    {
      id: 'range',
      check: (d) => {
        const out: Problem[] = [];
        const sid = d.ctx.sidSize;
        if (sid !== undefined && sid < 32 && d.get('STREAMID') >> BigInt(sid)) {
          out.push({ field: 'STREAMID', rule: 'range', severity: 'warning', message: `StreamID ${hex(d.get('STREAMID'))} has bits above IDR1.SIDSIZE = ${sid}; they are RES0` });
        }
        const ssid = d.ctx.ssidSize;
        if (ssid !== undefined && ssid < 20 && d.get('SUBSTREAMID') >> BigInt(ssid)) {
          out.push({ field: 'SUBSTREAMID', rule: 'range', severity: 'warning', message: `SubstreamID ${hex(d.get('SUBSTREAMID'))} has bits above IDR1.SSIDSIZE = ${ssid}; they are RES0` });
        }
        return out;
      },
    },
  ],
  summary: (d) => `StreamID ${hex(d.get('STREAMID'))}${d.num('SSID_VALID') ? `, SubstreamID ${hex(d.get('SUBSTREAMID'))}` : ''}`,
});

const ATOS_TYPE: readonly EnumValue[] = [
  { value: 0, name: 'RESERVED_0', meaning: 'reserved: the request fails with INV_REQ', reserved: true },
  { value: 1, name: 'S1', meaning: 'stage 1 (VA to IPA)' },
  { value: 2, name: 'S2', meaning: 'stage 2 (IPA to PA)' },
  { value: 3, name: 'S1_S2', meaning: 'stages 1 and 2 (VA to PA)' },
];

export const GATOS_ADDR = reg({
  name: 'GATOS_ADDR', title: 'ATOS input address', offset: 0x110, access: 'RW', wordBits: 64,
  fields: [
    { name: 'ADDR', hi: 63, lo: 12, kind: 'address', meaning: 'input address to translate', relevant: atosRelevant },
    { name: 'TYPE', hi: 11, lo: 10, kind: 'enum', values: ATOS_TYPE, meaning: 'which stages to translate through', relevant: atosRelevant },
    flag('PnU', 9, 'privileged access; 0: unprivileged', { relevant: atosRelevant }),
    flag('RnW', 8, 'read; 0: write', { relevant: atosRelevant }),
    flag('InD', 7, 'instruction fetch; 0: data (ignored for writes)', { relevant: (d) => atosRelevant(d) && d.num('RnW') === 1 }),
    flag('HTTUI', 6, 'inhibit hardware Access flag/dirty updates: the lookup changes nothing', { relevant: atosRelevant }),
  ],
  summary: (d) => `${valueName(ATOS_TYPE, d.num('TYPE'))} ${d.num('RnW') ? (d.num('InD') ? 'instruction read' : 'read') : 'write'}` +
    ` ${d.num('PnU') ? 'privileged' : 'unprivileged'} of ${hex(d.get('ADDR'))}`,
});

/** A result reports the shareability; the reserved code has no behaviour to describe there. */
const PAR_SH: readonly EnumValue[] = withNotes(SHAREABILITY, { 1: { meaning: 'reserved' } });

/**
 * GATOS_PAR when FAULT == 1: the fault syndrome overlays the result fields, so it is a
 * second layout of the same register (kind `reg.GATOS_PAR.fault`, not in REGISTERS).
 */
export const GATOS_PAR_FAULT: RegisterLayout = { ...reg({
  name: 'GATOS_PAR', title: 'ATOS result, fault', offset: 0x118, access: 'RO', wordBits: 64,
  fields: [
    { name: 'IMPDEF[63:60]', hi: 63, lo: 60, kind: 'reserved', reserved: 'IMPDEF', meaning: 'implementation defined fault data' },
    { name: 'FADDR', hi: 55, lo: 12, kind: 'address', meaning: 'stage 2 fault page address (depends on the fault)' },
    { name: 'FAULTCODE', hi: 11, lo: 4, kind: 'uint', meaning: 'fault or error code' },
    {
      name: 'REASON', hi: 2, lo: 1, kind: 'enum', meaning: 'stage and activity that faulted',
      values: [
        { value: 0, name: 'S1', meaning: 'stage 1 fault, or a fault not tied to a stage' },
        { value: 1, name: 'CD', meaning: 'stage 2 fault on a CD fetch' },
        { value: 2, name: 'TT', meaning: 'stage 2 fault on a stage 1 table walk' },
        { value: 3, name: 'IN', meaning: 'stage 2 fault on the input to stage 2' },
      ],
    },
    flag('FAULT', 0, 'the translation failed (this format)'),
  ],
  summary: (d) => `fault: FAULTCODE ${hex(d.get('FAULTCODE'))}, REASON ${['S1', 'CD', 'TT', 'IN'][d.num('REASON')]}, FADDR ${hex(d.get('FADDR'))}`,
}), kind: 'reg.GATOS_PAR.fault' };

const parOk = (d: FieldReader): boolean => d.num('FAULT') === 0;

export const GATOS_PAR = reg({
  name: 'GATOS_PAR', title: 'ATOS result', offset: 0x118, access: 'RO', wordBits: 64,
  fields: [
    { name: 'ATTR', hi: 63, lo: 56, kind: 'uint', meaning: 'memory attributes of the result, in MAIR format', relevant: parOk },
    { name: 'ADDR', hi: 55, lo: 12, kind: 'address', meaning: 'output address; with Size = 1 the lowest set bit gives the size', relevant: parOk },
    flag('Size', 11, 'size from the lowest set ADDR bit N (2^(N+1) bytes); 0: 4KB', { relevant: parOk }),
    { name: 'SH', hi: 9, lo: 8, kind: 'enum', values: PAR_SH, meaning: 'shareability of the result', relevant: parOk },
    flag('FAULT', 0, 'the translation failed: read the fault format (GATOS_PAR_FAULT)'),
  ],
  summary: (d) => {
    // A fault result has another layout: decode the word with it.
    if (!parOk(d)) return decode(GATOS_PAR_FAULT, d.words, d.ctx).summary;
    let addr = d.get('ADDR');
    let size = 0x1000n;
    if (d.num('Size') && addr !== 0n) {
      const low = addr & -addr;
      size = low << 1n;
      addr -= low;
    }
    return `${hex(addr)}, ${hex(size)} bytes, ATTR ${hex(d.get('ATTR'), 2)} ${valueName(PAR_SH, d.num('SH'))}`;
  },
});

export const MPAMIDR = reg({
  name: 'MPAMIDR', title: 'MPAM limits', offset: 0x130, access: 'RO',
  fields: [
    { name: 'PMG_MAX', hi: 23, lo: 16, kind: 'uint', meaning: 'largest PMG usable in Non-secure state' },
    { name: 'PARTID_MAX', hi: 15, lo: 0, kind: 'uint', meaning: 'largest PARTID usable in Non-secure state' },
  ],
  summary: (d) => `PARTID up to ${d.num('PARTID_MAX')}, PMG up to ${d.num('PMG_MAX')}`,
});

export const GMPAM = reg({
  name: 'GMPAM', title: 'MPAM of SMMU-originated accesses', offset: 0x138, access: 'RW',
  fields: [
    flag('Update', 31, 'update in progress: written as 1 with the new value, cleared when it applies'),
    { name: 'SO_PMG', hi: 23, lo: 16, kind: 'uint', meaning: 'PMG of SMMU-originated accesses (tables, queues, MSIs)' },
    { name: 'SO_PARTID', hi: 15, lo: 0, kind: 'uint', meaning: 'PARTID of SMMU-originated accesses' },
  ],
  summary: (d) => `PARTID ${d.num('SO_PARTID')} PMG ${d.num('SO_PMG')}${d.num('Update') ? ' (update in progress)' : ''}`,
});

export const GBPMPAM = reg({
  name: 'GBPMPAM', title: 'MPAM of bypassing transactions', offset: 0x13c, access: 'RW',
  fields: [
    flag('Update', 31, 'update in progress: written as 1 with the new value, cleared when it applies'),
    { name: 'GBP_PMG', hi: 23, lo: 16, kind: 'uint', meaning: 'PMG of transactions in global bypass' },
    { name: 'GBP_PARTID', hi: 15, lo: 0, kind: 'uint', meaning: 'PARTID of transactions in global bypass' },
  ],
  summary: (d) => `PARTID ${d.num('GBP_PARTID')} PMG ${d.num('GBP_PMG')}${d.num('Update') ? ' (update in progress)' : ''}`,
});

export const VATOS_SEL = reg({
  name: 'VATOS_SEL', title: 'VATOS VMID', offset: 0x180, access: 'RW',
  fields: [{ name: 'VMID', hi: 15, lo: 0, kind: 'uint', meaning: 'VMID of the VM using the VATOS page', relevant: (d) => d.ctx.vatos !== false }],
  rules: [{
    id: 'range',
    check: (d) => (d.ctx.vmid16 === false && d.num('VMID') > 0xff ? {
      field: 'VMID', rule: 'range', severity: 'warning',
      message: `VMID ${hex(d.get('VMID'))} uses bits [15:8] but IDR0.VMID16 = 0: they are RES0; use a VMID below 0x100`,
    } : undefined),
  }],
  summary: (d) => `VMID ${d.num('VMID')}`,
});

export const IDR6 = reg({
  name: 'IDR6', title: 'enhanced command queues', offset: 0x190, access: 'RO',
  fields: [
    { name: 'CMDQ_CONTROL_PAGE_LOG2NUMP', hi: 27, lo: 24, kind: 'uint', meaning: 'command queue control pages, as log2; at most 8', relevant: (d) => d.ctx.ecmdq !== false },
    { name: 'CMDQ_CONTROL_PAGE_LOG2NUMQ', hi: 19, lo: 16, kind: 'uint', meaning: 'queues per control page, as log2; at most 8', relevant: (d) => d.ctx.ecmdq !== false },
  ],
  rules: ['CMDQ_CONTROL_PAGE_LOG2NUMP', 'CMDQ_CONTROL_PAGE_LOG2NUMQ'].map((f): Rule => ({
    id: 'range',
    check: (d) => (d.num(f) > 8 ? { field: f, rule: 'range', severity: 'warning', message: `${f} = ${d.num(f)} is above the maximum of 8` } : undefined),
  })),
  summary: (d) => `${2 ** d.num('CMDQ_CONTROL_PAGE_LOG2NUMP')} control pages of ${2 ** d.num('CMDQ_CONTROL_PAGE_LOG2NUMQ')} queues`,
});

const dptRelevant = (d: FieldReader): boolean => d.ctx.dpt !== false;

/** The PS encoding up to 52 bits; 56 bits is reserved here. */
const DPTPS: readonly EnumValue[] = [
  ...addressSizes((bits) => `${bits}-bit physical addresses`, 7),
  { value: 7, name: 'RESERVED_7', meaning: 'reserved', reserved: true },
];

export const DPT_BASE = reg({
  name: 'DPT_BASE', title: 'Device Permission Table base', offset: 0x200, access: 'RW', wordBits: 64,
  fields: [
    flag('RA', 62, 'read-allocate hint for DPT accesses', { relevant: dptRelevant }),
    { name: 'BADDR', hi: 55, lo: 12, kind: 'address', meaning: 'physical address of DPT level 0, aligned to the larger of 4KB and its size', relevant: dptRelevant },
  ],
  rules: [addressWithinOas('BADDR', 'DPT base')],
  summary: (d) => `DPT at ${hex(d.get('BADDR'))}`,
});

export const DPT_BASE_CFG = reg({
  name: 'DPT_BASE_CFG', title: 'Device Permission Table configuration', offset: 0x208, access: 'RW',
  fields: [
    {
      name: 'L0DPTSZ', hi: 23, lo: 20, kind: 'enum', meaning: 'address bits covered by one level 0 DPT entry', relevant: dptRelevant,
      values: [
        { value: 0, name: '30_BIT', meaning: '1GB per level 0 entry' },
        { value: 4, name: '34_BIT', meaning: '16GB per level 0 entry' },
        { value: 6, name: '36_BIT', meaning: '64GB per level 0 entry' },
        { value: 9, name: '39_BIT', meaning: '512GB per level 0 entry' },
      ],
    },
    {
      name: 'DPTGS', hi: 15, lo: 14, kind: 'enum', meaning: 'DPT granule size', relevant: dptRelevant,
      values: [
        ...withNotes(TG0_GRANULES, { 0: 'invalid without IDR5.GRAN4K', 1: 'invalid without IDR5.GRAN64K', 2: 'invalid without IDR5.GRAN16K' }),
        { value: 3, name: 'RESERVED_3', meaning: 'reserved', reserved: true },
      ],
    },
    { name: 'DPTPS', hi: 2, lo: 0, kind: 'enum', meaning: 'size of the physical address range the DPT protects', relevant: dptRelevant, values: DPTPS },
  ],
  rules: [
    {
      id: 'range',
      check: (d) => {
        const out: Problem[] = [];
        const ps = d.num('DPTPS') < 7 ? ADDRESS_SIZE_BITS[d.num('DPTPS')] : undefined;
        const l0 = ({ 0: 30, 4: 34, 6: 36, 9: 39 } as Record<number, number>)[d.num('L0DPTSZ')];
        const oas = d.ctx.oas;
        if (ps !== undefined && oas !== undefined && ps > oas) {
          out.push({ field: 'DPTPS', rule: 'range', severity: 'error', message: `DPTPS = ${ps} bits exceeds the ${oas}-bit OAS; use ${oas} bits or fewer` });
        }
        if (l0 !== undefined && ps !== undefined && l0 > ps) {
          out.push({ field: 'L0DPTSZ', rule: 'range', severity: 'error', message: `L0DPTSZ = ${l0} bits exceeds the ${ps}-bit DPT region (DPTPS); use a smaller level 0 size` });
        }
        const g = TG0_KB[d.num('DPTGS')];
        const grans = d.ctx.granules;
        if (g !== undefined && grans && !grans.includes(g)) {
          out.push({ field: 'DPTGS', rule: 'range', severity: 'error', message: `DPTGS = ${g}KB but the SMMU supports only ${grans.map((x) => `${x}KB`).join(', ')} granules` });
        }
        return out;
      },
    },
  ],
  summary: (d) => `${valueName(DPTPS, d.num('DPTPS'))} region, ${['4KB', '64KB', '16KB', 'reserved'][d.num('DPTGS')]} granule, ` +
    `level 0 entries of ${({ 0: '1GB', 4: '16GB', 6: '64GB', 9: '512GB' } as Record<number, string>)[d.num('L0DPTSZ')] ?? 'a reserved size'}`,
});

export const DPT_CFG_FAR = reg({
  name: 'DPT_CFG_FAR', title: 'Device Permission Table fault', offset: 0x210, access: 'RW', wordBits: 64,
  fields: [
    { name: 'FADDR', hi: 55, lo: 12, kind: 'address', meaning: 'physical address whose DPT check failed', relevant: (d) => d.num('FAULT') === 1 },
    {
      name: 'DPT_FAULTCODE', hi: 7, lo: 4, kind: 'uint', meaning: 'why the DPT lookup failed', relevant: (d) => d.num('FAULT') === 1,
      values: [
        { value: 0, name: 'DPT_DISABLED', meaning: 'CR0.DPT_WALK_EN is 0' },
        { value: 1, name: 'DPT_WALK_FAULT', meaning: 'invalid DPT configuration or descriptor' },
        { value: 2, name: 'DPT_GPC_FAULT', meaning: 'granule protection fault on a DPT fetch' },
        { value: 3, name: 'DPT_EABT', meaning: 'external abort on a DPT fetch' },
      ],
    },
    flag('LEVEL', 1, 'the fault was at level 1; 0: level 0', { relevant: (d) => d.num('FAULT') === 1 }),
    flag('FAULT', 0, 'one or more DPT lookup faults since the register was cleared'),
  ],
  summary: (d) => (d.num('FAULT')
    ? `DPT fault at ${hex(d.get('FADDR'))}, code ${d.num('DPT_FAULTCODE')}, level ${d.num('LEVEL')}` : 'no DPT fault'),
});

// ---------------------------------------------------------------------------------------
// The register file
// ---------------------------------------------------------------------------------------

/** Every Non-secure Page 0 and Page 1 register this tool models, by offset. */
export const REGISTERS: readonly RegisterLayout[] = [
  IDR0, IDR1, IDR2, IDR3, IDR4, IDR5, IIDR, AIDR, CR0, CR0ACK, CR1, CR2, S2PII, STATUSR, GBPA, AGBPA,
  IRQ_CTRL, IRQ_CTRLACK, GERROR, GERRORN, GERROR_IRQ_CFG0, GERROR_IRQ_CFG1, GERROR_IRQ_CFG2,
  STRTAB_BASE, STRTAB_BASE_CFG, CMDQ_BASE, CMDQ_PROD, CMDQ_CONS, EVENTQ_BASE,
  EVENTQ_IRQ_CFG0, EVENTQ_IRQ_CFG1, EVENTQ_IRQ_CFG2, PRIQ_BASE, PRIQ_IRQ_CFG0, PRIQ_IRQ_CFG1, PRIQ_IRQ_CFG2,
  GATOS_CTRL, GATOS_SID, GATOS_ADDR, GATOS_PAR, MPAMIDR, GMPAM, GBPMPAM, VATOS_SEL, IDR6,
  DPT_BASE, DPT_BASE_CFG, DPT_CFG_FAR,
  EVENTQ_PROD, EVENTQ_CONS, PRIQ_PROD, PRIQ_CONS,
];

const byName = new Map(REGISTERS.map((r) => [r.name, r]));

/**
 * The layout to decode a value of `r` with. Only GATOS_PAR has two: with FAULT = 1 its
 * bits are a fault syndrome (GATOS_PAR_FAULT) instead of a result.
 */
export function registerLayoutFor(r: RegisterLayout, value: bigint | number): RegisterLayout {
  return r === GATOS_PAR && (BigInt(value) & 1n) === 1n ? GATOS_PAR_FAULT : r;
}

/**
 * A register by name: case-insensitive, with or without `SMMU_` (or the kernel's
 * `ARM_SMMU_`) prefix, and with the kernel's `EVTQ_` for `EVENTQ_`.
 */
export function registerByName(name: string): RegisterLayout | undefined {
  const n = name.trim().toUpperCase().replace(/^REG\./, '').replace(/^(ARM_)?SMMU_/, '').replace(/^EVTQ_/, 'EVENTQ_');
  return byName.get(n);
}

/**
 * The register that starts at `offset` from the SMMU base. Page 1 registers are found at
 * 0x10000 + their offset and at their optional Page 0 alias.
 */
export function registerByOffset(offset: number): RegisterLayout | undefined {
  return REGISTERS.find((r) => r.offset === offset) ?? REGISTERS.find((r) => r.aliasOffset === offset);
}

/** Field values of a register value, through its table (the one decoder). */
function fieldsOf(layout: RegisterLayout, value: number): FieldReader {
  return decode(layout, [BigInt(value >>> 0)]);
}

/**
 * What an SMMU is, from its ID registers: decoded through the IDR tables, then read field
 * by field into an `ArchContext` (everything but `split` and `queueLog2Size`, which come
 * from the programmed STRTAB_BASE_CFG and queue bases).
 */
export function contextFromIdRegs(idr0: number, idr1: number, idr3: number, idr5: number): ArchContext {
  const i0 = fieldsOf(IDR0, idr0);
  const i1 = fieldsOf(IDR1, idr1);
  const i3 = fieldsOf(IDR3, idr3);
  const i5 = fieldsOf(IDR5, idr5);
  const on = (r: FieldReader, f: string): boolean => r.num(f) === 1;
  const granules: Granule[] = [];
  if (on(i5, 'GRAN4K')) granules.push(4);
  if (on(i5, 'GRAN16K')) granules.push(16);
  if (on(i5, 'GRAN64K')) granules.push(64);
  const vax = i5.num('VAX');
  const oas = OAS_BITS[i5.num('OAS')];
  const ttf = i0.num('TTF');
  return {
    oas,
    // The IAS: the OAS, but at least 40 bits when VMSAv8-32 LPAE tables are supported (IDR0.TTF[0]).
    ias: ttf & 1 ? Math.max(40, oas) : oas,
    s1p: on(i0, 'S1P'),
    s2p: on(i0, 'S2P'),
    ssidSize: i1.num('SSIDSIZE'),
    sidSize: i1.num('SIDSIZE'),
    cd2l: on(i0, 'CD2L'),
    granules,
    asid16: on(i0, 'ASID16'),
    vmid16: on(i0, 'VMID16'),
    stallModel: i0.num('STALL_MODEL'),
    ats: on(i0, 'ATS'),
    hyp: on(i0, 'Hyp'),
    httu: i0.num('HTTU'),
    stt: on(i3, 'STT'),
    // 52-bit (0b01) or 56-bit (0b10) VAs both allow 52-bit VAs.
    vax: vax === 1 || vax === 2,
    ril: on(i3, 'RIL'),
    ttendian: i0.num('TTENDIAN'),
    stLevel2: i0.num('ST_LEVEL') === 1,
    pri: on(i0, 'PRI'),
    msi: on(i0, 'MSI'),
    btm: on(i0, 'BTM'),
    cohacc: on(i0, 'COHACC'),
    atos: on(i0, 'ATOS'),
    vatos: on(i0, 'VATOS'),
    vmw: on(i0, 'VMW'),
    atsrecerr: on(i0, 'ATSRECERR'),
    dormhint: on(i0, 'DORMHINT'),
    ttf,
    cmdqs: i1.num('CMDQS'),
    eventqs: i1.num('EVENTQS'),
    priqs: i1.num('PRIQS'),
    ecmdq: on(i1, 'ECMDQ'),
    attrTypesOvr: on(i1, 'ATTR_TYPES_OVR'),
    attrPermsOvr: on(i1, 'ATTR_PERMS_OVR'),
    dpt: on(i3, 'DPT'),
    ds: on(i5, 'DS'),
    d128: on(i5, 'D128'),
    termModel: i0.num('TERM_MODEL'),
    sev: on(i0, 'SEV'),
    mpam: on(i3, 'MPAM'),
    fwb: on(i3, 'FWB'),
    pbha: on(i3, 'PBHA'),
    s2pi: on(i3, 'S2PI'),
    s2po: on(i3, 'S2PO'),
    // IDR0.NS1ATS = 1 says split-stage ATS is NOT supported.
    ns1ats: on(i0, 'NS1ATS'),
  };
}

/**
 * Check the stream table registers together: each register's own problems, plus the
 * base alignment the configured size requires (linear: the whole table, 64 bytes per
 * STE; 2-level: the L1 table, 8 bytes per descriptor, at least 64 bytes).
 */
export function checkStreamTable(base: bigint, cfg: number, ctx: ArchContext): Problem[] {
  const problems = [...validate(STRTAB_BASE_CFG, [BigInt(cfg >>> 0)], ctx), ...validate(STRTAB_BASE, [base], ctx)];
  const c = decode(STRTAB_BASE_CFG, [BigInt(cfg >>> 0)], ctx);
  const b = decode(STRTAB_BASE, [base], ctx);
  const log2 = c.num('LOG2SIZE');
  const addr = b.get('ADDR');
  let align: bigint;
  let what: string;
  if (c.num('FMT') === 1 && ctx.stLevel2 !== false) {
    const split = effectiveSplit(c.num('SPLIT'));
    const l1Bytes = 8n << BigInt(Math.max(0, log2 - split));
    align = l1Bytes > 64n ? l1Bytes : 64n;
    what = `the L1 table (${2 ** Math.max(0, log2 - split)} descriptors of 8 bytes)`;
  } else {
    align = 64n << BigInt(log2);
    what = `the linear table (${pow2(log2)} STEs of 64 bytes)`;
  }
  if (addr % align !== 0n) {
    problems.push({
      field: 'ADDR', rule: 'align', severity: 'error',
      message: `stream table base ${hex(addr)} is not aligned to ${what}, ${hex(align)} bytes: the SMMU ignores the low ` +
        `address bits and would read from ${hex(addr - (addr % align))}; align the base to ${hex(align)}`,
    });
  }
  return problems;
}

const QUEUE_BASES: Readonly<Record<QueueName, RegisterLayout>> = { cmdq: CMDQ_BASE, eventq: EVENTQ_BASE, priq: PRIQ_BASE };

/**
 * Check a queue base register value: address within OAS, LOG2SIZE within the IDR1 limit
 * (`cmdqs`/`eventqs`/`priqs` of the context), base aligned to the queue size.
 */
export function checkQueueBase(queue: QueueName | 'evtq', base: bigint, ctx: ArchContext): Problem[] {
  const q: QueueName = queue === 'evtq' ? 'eventq' : queue;
  return [...validate(QUEUE_BASES[q], [base], ctx)];
}

/** Global errors active now: the GERROR bits that differ from GERRORN. */
export function activeGlobalErrors(gerror: number, gerrorn: number): string[] {
  const g = fieldsOf(GERROR, gerror);
  const n = fieldsOf(GERRORN, gerrorn);
  return GERROR_BITS.filter(([f]) => g.get(f) !== n.get(f)).map(([f]) => f);
}
