/**
 * Command queue entries (SMMUv3 chapter 4). Every command is 16 bytes, two 64-bit words,
 * with the opcode in bits [7:0]; one table per command, bit positions absolute over the
 * 128 bits as the specification numbers them (word 1 starts at bit 64).
 *
 * Sources: the spec's text for the common fields (4.1.6), the range/level-hint fields
 * (4.4.1.1: NUM [16:12], SCALE [25:20], TTL128 [71], TTL [73:72], TG [75:74]) and the
 * ILLEGAL conditions; the command diagrams themselves are images missing from the text we
 * have, so per-command bit positions follow the Linux driver's CMDQ_* masks where Linux
 * uses the command, and otherwise the pattern shared by all commands (see the notes on
 * CMD_PREFETCH_ADDR, CMD_TLBI_S_S2_IPA, CMD_CFGI_VMS_PIDM, CMD_SYNC.MSI_NS, CMD_DPTI_PA).
 *
 * CMD_CFGI_ALL is not an opcode of its own: it is CMD_CFGI_STE_RANGE (0x04) with
 * Range == 31. It has its own table here (StreamID ignored, summary "CFGI_ALL"), which
 * `commandLayoutFor` picks for 0x04 words with Range 31; `commandByOpcode(0x04)` gives the
 * general CMD_CFGI_STE_RANGE table.
 */
import { defineLayout, EnumValue, FieldDraft, FieldReader, Layout, Problem, Rule } from './field';
import { findField, hex } from './codec';
import { MEMATTR, SHAREABILITY } from './encodings';

export type CommandGroup = 'prefetch' | 'cfgi' | 'tlbi' | 'atc' | 'pri' | 'stall' | 'sync' | 'dpt' | 'other';

export interface CommandLayout extends Layout {
  readonly opcode: number;
  /** The architecture's name, `CMD_CFGI_STE`. */
  readonly name: string;
  readonly group: CommandGroup;
}

/** CMDQ_CONS.ERR: why the SMMU stopped consuming commands. */
export const CERROR: readonly EnumValue[] = [
  { value: 0, name: 'NONE', meaning: 'no command error' },
  {
    value: 1, name: 'ILL',
    meaning: 'the command at CONS.RD is illegal (reserved opcode, ILLEGAL parameters, or non-zero RES0 bits the SMMU chose to check)',
  },
  { value: 2, name: 'ABT', meaning: 'an external abort occurred while reading the command at CONS.RD' },
  {
    value: 3, name: 'ATC_INV_SYNC',
    meaning: 'the CMD_SYNC at CONS.RD could not complete an earlier CMD_ATC_INV (ATS invalidation timeout); it is not consumed',
  },
];

// ---------------------------------------------------------------------------------------
// Small helpers

/** Small numbers in decimal, others in hex, as a kernel log would print them. */
function num(v: bigint | number): string {
  const b = BigInt(v);
  return b < 10n ? b.toString() : hex(b);
}

/** `2^shift` bytes as 4K, 2M, 1G, ... */
function sizeName(shift: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  const u = Math.min(Math.floor(shift / 10), units.length - 1);
  return `${2 ** (shift - 10 * u)}${units[u]}`;
}

const plural = (n: number | bigint, word: string): string => `${n} ${word}${BigInt(n) === 1n ? '' : 's'}`;

const err = (field: string | undefined, rule: string, message: string): Problem => ({ field, rule, severity: 'error', message });
const warn = (field: string | undefined, rule: string, message: string): Problem => ({ field, rule, severity: 'warning', message });

/** A rule from a check returning zero or more problems. */
const rule = (id: string, check: Rule['check']): Rule => ({ id, check });

/** A reserved parameter code that makes the command ILLEGAL (reported by the generic check). */
const illegalCode = (value: number, valid: string): EnumValue => ({
  value, name: 'RESERVED', reserved: true, illegal: true, meaning: `reserved code: the command raises CERROR_ILL; use ${valid}`,
});

// ---------------------------------------------------------------------------------------
// Fields shared by several commands (4.1.6 and 4.4.1.1)

const SSEC: FieldDraft = {
  name: 'SSec', hi: 10, lo: 10, kind: 'flag',
  meaning: 'the StreamID is Secure (Secure Command queue only; must be 0 on the Non-secure queue)',
  values: [
    { value: 0, name: 'NS', meaning: 'Non-secure StreamID' },
    { value: 1, name: 'SECURE', meaning: 'Secure StreamID (ILLEGAL on the Non-secure Command queue)' },
  ],
};

const SSV: FieldDraft = { name: 'SSV', hi: 11, lo: 11, kind: 'flag', meaning: 'a SubstreamID is supplied (PASID)' };

function substreamId(alwaysUsed: boolean): FieldDraft {
  return {
    name: 'SubstreamID', aliases: ['ssid', 'pasid'], hi: 31, lo: 12, kind: 'uint',
    meaning: alwaysUsed ? 'index of the CD in the stream\'s CD table (0 for a single CD)' : 'SubstreamID (PASID), used when SSV is 1',
    relevant: alwaysUsed ? undefined : (d) => d.num('SSV') === 1,
  };
}

function streamId(relevant?: (d: FieldReader) => boolean): FieldDraft {
  return { name: 'StreamID', aliases: ['sid'], hi: 63, lo: 32, kind: 'uint', meaning: 'StreamID of the stream (index of its STE)', relevant };
}

function vmidField(meaning: string, relevant?: (d: FieldReader) => boolean): FieldDraft {
  return { name: 'VMID', hi: 47, lo: 32, kind: 'uint', meaning, relevant };
}

function asidField(meaning: string, relevant?: (d: FieldReader) => boolean): FieldDraft {
  return { name: 'ASID', hi: 63, lo: 48, kind: 'uint', meaning, relevant };
}

function leafField(meaning: string): FieldDraft {
  return { name: 'Leaf', hi: 64, lo: 64, kind: 'flag', meaning };
}

const TLBI_LEAF = leafField('only last-level (leaf) entries need be invalidated; 0 also invalidates cached table walks');

/** TG: granule of the entries to invalidate; 0 means a plain single-address invalidation. */
const GRANULE_SHIFT = [0, 12, 14, 16] as const;
const GRANULE_NAME = ['any', '4K', '16K', '64K'] as const;
const tgSet = (d: FieldReader): boolean => d.num('TG') !== 0;

const RANGE_FIELDS: readonly FieldDraft[] = [
  {
    name: 'NUM', hi: 16, lo: 12, kind: 'uint', relevant: tgSet,
    meaning: 'range invalidation: (NUM+1) x 2^SCALE granules from Address (RES0 when TG is 0)',
  },
  {
    name: 'SCALE', hi: 25, lo: 20, kind: 'uint', relevant: tgSet,
    meaning: 'range invalidation: power-of-two multiplier of (NUM+1) granules; bit 25 only with IDR5.DS',
  },
  {
    name: 'TTL128', hi: 71, lo: 71, kind: 'flag', relevant: (d) => tgSet(d) && d.num('TTL') !== 0,
    meaning: 'the TTL hint is for 128-bit descriptor tables (RES0 when TG or TTL is 0)',
  },
  {
    name: 'TTL', hi: 73, lo: 72, kind: 'enum', relevant: tgSet,
    meaning: 'level hint: translation table level that holds the leaf entries to invalidate',
    values: [
      { value: 0, name: 'ANY', meaning: 'leaf entries at any level (no level hint)' },
      { value: 1, name: 'L1', meaning: 'leaf entries at level 1 (with a 16K granule: reserved unless IDR5.DS == 1, treated as ANY)' },
      { value: 2, name: 'L2', meaning: 'leaf entries at level 2' },
      { value: 3, name: 'L3', meaning: 'leaf entries at level 3' },
    ],
  },
  {
    name: 'TG', hi: 75, lo: 74, kind: 'enum',
    meaning: 'granule of the entries to invalidate; non-zero makes this a range invalidation with a level hint',
    values: [
      { value: 0, name: 'ANY', meaning: 'any granule: one address, no range, no level hint' },
      { value: 1, name: '4K', meaning: 'entries from 4KB-granule tables; range in 4KB units' },
      { value: 2, name: '16K', meaning: 'entries from 16KB-granule tables; range in 16KB units' },
      { value: 3, name: '64K', meaning: 'entries from 64KB-granule tables; range in 64KB units' },
    ],
  },
];

const VA_ADDRESS: FieldDraft = {
  name: 'Address', aliases: ['addr', 'va'], hi: 127, lo: 76, kind: 'address',
  meaning: 'virtual address to invalidate (VA[63:12]); with TG set, the start of the range',
};

/** IPA/PA fields hold Address[55:12] (4.1.6); Linux masks IPA[51:12]. */
const IPA_ADDRESS: FieldDraft = {
  name: 'Address', aliases: ['addr', 'ipa'], hi: 119, lo: 76, kind: 'address',
  meaning: 'IPA to invalidate (IPA[55:12]); with TG set, the start of the range',
};

// ---------------------------------------------------------------------------------------
// Rules shared by several commands. Rules read only fields their layout has.

/** SSec must be 0 on the Non-secure Command queue (the one Linux uses). */
const SSEC_RULE = rule('illegal', (d) => (d.num('SSec') === 1
  ? err('SSec', 'illegal', 'SSec = 1 on the Non-secure Command queue is ILLEGAL (CERROR_ILL); write SSec = 0')
  : undefined));

const SID_RANGE_RULE = rule('range', (d) => {
  const bits = d.ctx.sidSize;
  if (bits === undefined || bits >= 32) return undefined;
  const sid = d.get('StreamID');
  return sid >= 1n << BigInt(bits)
    ? warn('StreamID', 'range', `StreamID ${hex(sid)} is beyond the ${bits}-bit StreamIDs the SMMU implements (IDR1.SIDSIZE); ` +
      `the command may do nothing or act on another stream; use a StreamID below ${hex(1n << BigInt(bits))}`)
    : undefined;
});

/** SSV/SubstreamID against IDR1.SSIDSIZE (out of range is CONSTRAINED UNPREDICTABLE, 4.1.7). */
function ssidRules(hasSsv: boolean): Rule {
  return rule('range', (d) => {
    const bits = d.ctx.ssidSize;
    if (bits === undefined) return undefined;
    const out: Problem[] = [];
    const supplied = hasSsv ? d.num('SSV') === 1 : true;
    if (hasSsv && supplied && bits === 0) {
      out.push(warn('SSV', 'range', 'SSV = 1 but the SMMU has no substreams (IDR1.SSIDSIZE = 0): the command behaves as with ' +
        'SSV = 0 or has no effect; write SSV = 0'));
    } else if (supplied) {
      const ssid = d.get('SubstreamID');
      if (ssid >= 1n << BigInt(bits)) {
        out.push(warn('SubstreamID', 'range', `SubstreamID ${hex(ssid)} is beyond the ${bits}-bit SubstreamIDs the SMMU implements; ` +
          `the command may do nothing or act on another substream; use a SubstreamID below ${hex(1n << BigInt(bits))}`));
      }
    }
    return out;
  });
}

/** ASID/VMID parameters are 8 bits unless IDR0.ASID16/VMID16 (4.4). */
function id16Rule(field: 'ASID' | 'VMID'): Rule {
  return rule('range', (d) => {
    const wide = field === 'ASID' ? d.ctx.asid16 : d.ctx.vmid16;
    const v = d.get(field);
    return wide === false && v > 0xffn
      ? warn(field, 'range', `${field} ${hex(v)} has bits above 7 set but the SMMU has 8-bit ${field}s ` +
        `(IDR0.${field}16 = 0): the upper byte is RES0 and the command need not invalidate anything; use ${hex(v & 0xffn)}`)
      : undefined;
  });
}

/** NH_* commands: VMID is RES0 when stage 2 is not implemented (4.4.2). */
const VMID_NO_S2_RULE = rule('res0', (d) => (d.ctx.s2p === false && d.get('VMID') !== 0n
  ? warn('VMID', 'res0', `VMID is RES0 on an SMMU without stage 2 but holds ${hex(d.get('VMID'))}: the SMMU may invalidate ` +
    'an UNKNOWN VMID or nothing; write VMID = 0')
  : undefined));

/** What each feature a command may need is, for messages. */
const FEATURE_TEXT = {
  s1p: 'stage 1 (IDR0.S1P = 0)', s2p: 'stage 2 (IDR0.S2P = 0)', hyp: 'EL2 contexts (IDR0.HYP = 0)', ats: 'ATS (IDR0.ATS = 0)',
  pri: 'PRI (IDR0.PRI = 0)', mpam: 'MPAM (IDR3.MPAM = 0)', dpt: 'a Device Permission Table (IDR3.DPT = 0)',
} as const;

/** The command raises CERROR_ILL on an SMMU that lacks `feature` (checked when the context says so). */
function needs(feature: keyof typeof FEATURE_TEXT, cmd: string, instead: string): Rule {
  const what = FEATURE_TEXT[feature];
  return rule('illegal', (d) => (d.ctx[feature] === false
    ? err(undefined, 'illegal', `${cmd} on an SMMU without ${what} raises CERROR_ILL; ${instead}`)
    : undefined));
}

const STALL_RULE = (cmd: string): Rule => rule('illegal', (d) => (d.ctx.stallModel === 1
  ? err(undefined, 'illegal', `${cmd} on an SMMU without the stall model (IDR0.STALL_MODEL = 1) raises CERROR_ILL; ` +
    'no transaction can be stalled, so there is nothing to resume or terminate')
  : undefined));

const SECURE_ONLY = (cmd: string): Rule => rule('illegal', () => err('Opcode', 'illegal',
  `${cmd} is valid only on the Secure Command queue; on the Non-secure queue it raises CERROR_ILL`));

/** TTL = 1 with the 16K granule: a level-1 hint exists only with IDR5.DS; without it the SMMU reads TTL as 0. */
const ttl16kL1Reserved = (d: FieldReader): boolean => d.num('TG') === 2 && d.num('TTL') === 1 && d.ctx.ds !== true;

/** The range/level-hint checks of 4.4.1.1, for every address-based TLBI. */
function rangeRules(): Rule[] {
  return [
    rule('illegal', (d) => {
      const tg = d.num('TG');
      if (tg === 0 || d.num('NUM') !== 0 || d.num('SCALE') !== 0) return undefined;
      if (d.num('TTL') === 0) {
        return err('TTL', 'illegal', `TG = ${GRANULE_NAME[tg]} with NUM = 0, SCALE = 0 and TTL = 0 is reserved and raises ` +
          'CERROR_ILL; give a level hint (TTL), a range (NUM/SCALE), or write TG = 0 for a plain invalidation');
      }
      if (ttl16kL1Reserved(d)) {
        return err('TTL', 'illegal', 'TG = 16K with TTL = 1 and NUM = SCALE = 0 raises CERROR_ILL unless IDR5.DS == 1 (TTL is ' +
          'then taken as 0, a reserved combination); use TTL = 0 with TG = 0, or TTL 2/3');
      }
      return undefined;
    }),
    // With NUM = SCALE = 0 the rule above reports the same TTL as ILLEGAL: one problem is enough.
    rule('reserved-value', (d) => (ttl16kL1Reserved(d) && (d.num('NUM') !== 0 || d.num('SCALE') !== 0)
      ? warn('TTL', 'reserved-value', 'TTL = 1 (level 1) with a 16K granule is reserved unless IDR5.DS == 1; without DS the SMMU ' +
        'treats it as TTL = 0 (any level)')
      : undefined)),
    rule('res0', (d) => {
      const out: Problem[] = [];
      if (d.ctx.ril === false) {
        for (const f of ['TG', 'NUM', 'SCALE', 'TTL', 'TTL128']) {
          if (d.get(f) !== 0n) {
            out.push(warn(f, 'res0', `${f} is RES0 on an SMMU without range invalidation (IDR3.RIL = 0) but holds ${num(d.get(f))}; ` +
              'write 0 and invalidate one granule per command'));
          }
        }
        return out;
      }
      if (d.num('TG') === 0) {
        for (const f of ['NUM', 'SCALE', 'TTL', 'TTL128']) {
          if (d.get(f) !== 0n) {
            out.push(warn(f, 'res0', `${f} is RES0 when TG = 0 but holds ${num(d.get(f))}; write 0, or set TG to the granule ` +
              'to make this a range invalidation'));
          }
        }
      } else if (d.num('TTL') === 0 && d.num('TTL128') !== 0) {
        out.push(warn('TTL128', 'res0', 'TTL128 is RES0 when TTL = 0; write 0 or give a TTL level'));
      }
      return out;
    }),
    rule('range', (d) => {
      const scale = d.num('SCALE');
      if (!tgSet(d) || scale < 32) return undefined;
      if (d.ctx.ds === true) {
        return scale > 39 ? warn('SCALE', 'range', `SCALE ${scale} is above 39 and is treated as 39; use SCALE 0..39`) : undefined;
      }
      return warn('SCALE', 'range', `SCALE ${scale} needs bit 25, which exists only with IDR5.DS == 1` +
        `${d.ctx.ds === false ? ' (this SMMU has no DS)' : ''}${scale > 39 ? '; values above 39 are treated as 39' : ''}; ` +
        'use SCALE 0..31 otherwise');
    }),
    rule('granule', (d) => {
      const tg = d.num('TG');
      const granules = d.ctx.granules;
      if (tg === 0 || !granules) return undefined;
      const g = [0, 4, 16, 64][tg] as 4 | 16 | 64;
      return granules.includes(g) ? undefined
        : warn('TG', 'granule', `TG = ${GRANULE_NAME[tg]} but the SMMU supports only ${granules.map((x) => `${x}K`).join('/')} ` +
          'granules: no TLB entry can match, so nothing is invalidated; use the granule of the tables');
    }),
    rule('align', (d) => {
      const tg = d.num('TG');
      if (tg === 0) return undefined;
      const g = GRANULE_SHIFT[tg];
      const ttl = d.num('TTL');
      const wide = ttl !== 0 && d.num('TTL128') === 1;
      // Without DS, 16K TTL 1 is taken as TTL 0: granule alignment.
      const level = ttl16kL1Reserved(d) && !wide ? 0 : ttl;
      const shift = level === 0 ? g : g + (3 - level) * (wide ? g - 4 : g - 3);
      const addr = d.get('Address');
      const m = (1n << BigInt(shift)) - 1n;
      if ((addr & m) === 0n) return undefined;
      const what = level === 0 ? `${GRANULE_NAME[tg]} granule` : `${sizeName(shift)} level-${level} entries`;
      return warn('Address', 'align', `range start ${hex(addr)} is not aligned to the ${what} that TG/TTL describe: ` +
        `${wide ? 'the SMMU need not invalidate anything' : 'the range invalidated is UNPREDICTABLE'}; ` +
        `start at ${hex(addr & ~m)}`);
    }),
  ];
}

// ---------------------------------------------------------------------------------------
// Range arithmetic (4.4.1.1): Range = (NUM+1) * 2^SCALE granules from Address.

interface TlbiRange { start: bigint; pages: number; pageSize: number }

/** Assumes the layout has Address, TG, NUM and SCALE. */
function rangeOf(d: FieldReader): TlbiRange {
  const start = d.get('Address');
  const tg = d.num('TG');
  if (tg === 0) return { start, pages: 1, pageSize: 0 };
  // SCALE values above 39 are treated as 39.
  const scale = Math.min(d.num('SCALE'), 39);
  return { start, pages: (d.num('NUM') + 1) * 2 ** scale, pageSize: 2 ** GRANULE_SHIFT[tg] };
}

/**
 * The addresses a TLBI_*_VA / TLBI_*_VAA / TLBI_*S2_IPA command covers: `pages` granules
 * of `pageSize` bytes from `start` (start <= A < start + pages * pageSize). With TG = 0
 * the command is not a range: `pages` is 1 and `pageSize` 0, meaning every TLB entry that
 * contains `start`, whatever its size. Undefined for commands without an address range.
 */
export function tlbiRange(d: FieldReader): TlbiRange | undefined {
  const layout = (d as { layout?: Layout }).layout ?? commandLayoutFor(d.words);
  if (!findField(layout, 'TG') || !findField(layout, 'Address')) return undefined;
  return rangeOf(d);
}

/** "VA 0x10000 range: 16 pages of 4K (NUM 0, SCALE 4), TTL level 3, leaf" */
function addressTlbiText(d: FieldReader, label: 'VA' | 'IPA'): string {
  const parts = [`${label} ${hex(d.get('Address'))}`];
  const tg = d.num('TG');
  if (tg !== 0) {
    const r = rangeOf(d);
    parts[0] += ` range: ${plural(r.pages, 'page')} of ${GRANULE_NAME[tg]} (NUM ${d.num('NUM')}, SCALE ${d.num('SCALE')})`;
    if (d.num('TTL') !== 0) parts.push(`TTL level ${d.num('TTL')}${d.num('TTL128') ? ' (128-bit tables)' : ''}`);
  }
  if (d.num('Leaf')) parts.push('leaf');
  return parts.join(', ');
}

// ---------------------------------------------------------------------------------------
// The commands

interface CommandDef {
  readonly opcode: number;
  /** Without the CMD_ prefix. */
  readonly name: string;
  readonly group: CommandGroup;
  /** What it does, for the title. */
  readonly what: string;
  /** Parameters; none for commands such as CMD_TLBI_NSNH_ALL. */
  readonly fields?: readonly FieldDraft[];
  readonly rules?: readonly Rule[];
  /** Valid only on the Secure Command queue, so ILLEGAL on the Non-secure one (the queue Linux uses). */
  readonly secureOnly?: boolean;
  /** One line; the bare name for a command without parameters. */
  readonly summary?: (d: FieldReader) => string;
}

function command(def: CommandDef): CommandLayout {
  const name = `CMD_${def.name}`;
  const rules = def.secureOnly ? [SECURE_ONLY(name), ...(def.rules ?? [])] : def.rules;
  const opcode: FieldDraft = {
    name: 'Opcode', aliases: ['op'], hi: 7, lo: 0, kind: 'enum', meaning: 'command opcode',
    values: [{ value: def.opcode, name, meaning: def.what }],
  };
  const layout = defineLayout({
    kind: `cmd.${def.name}`, title: `${name} (${def.what})`, wordBits: 64, words: 2,
    fields: [opcode, ...(def.fields ?? [])], rules, summary: def.summary ?? (() => def.name),
  });
  return { ...layout, opcode: def.opcode, name, group: def.group };
}

const sidText = (d: FieldReader): string => `SID ${num(d.get('StreamID'))}`;
const ssidText = (d: FieldReader): string => (d.num('SSV') ? ` SSID ${num(d.get('SubstreamID'))}` : '');

// 4.2 Prefetch

const PREFETCH_CONFIG = command({
  opcode: 0x01, name: 'PREFETCH_CONFIG', group: 'prefetch', what: 'prefetch configuration',
  fields: [SSEC, SSV, substreamId(false), streamId()],
  rules: [SSEC_RULE, SID_RANGE_RULE, ssidRules(true)],
  summary: (d) => `PREFETCH_CONFIG ${sidText(d)}${ssidText(d)}`,
});

// Word 1 layout (Size [68:64], Stride [73:69], NS [75], Addr [127:76]) as the Renode and
// Qualcomm SMMUv3 sources encode it; Linux does not build this command.
const PREFETCH_ADDR = command({
  opcode: 0x02, name: 'PREFETCH_ADDR', group: 'prefetch', what: 'prefetch translations',
  fields: [
    SSEC, SSV, substreamId(false), streamId(),
    { name: 'Size', hi: 68, lo: 64, kind: 'uint', meaning: 'number of translations to prefetch, as 2^Size strides', show: (v) => `${2n ** v} x stride` },
    {
      name: 'Stride', hi: 73, lo: 69, kind: 'uint', meaning: 'distance between prefetched addresses, 2^(12+Stride) bytes (RES0 in SMMUv3.0)',
      show: (v) => `${sizeName(12 + Number(v))}`,
    },
    {
      name: 'NS', hi: 75, lo: 75, kind: 'flag', relevant: () => false,
      meaning: 'NS attribute for Secure stage 2 input (Secure queue, SSec = 1 only; RES0 otherwise)',
    },
    { name: 'Address', aliases: ['addr'], hi: 127, lo: 76, kind: 'address', meaning: 'first address to prefetch (VA or IPA[63:12])' },
  ],
  rules: [
    SSEC_RULE, SID_RANGE_RULE, ssidRules(true),
    rule('res0', (d) => (d.num('NS') ? warn('NS', 'res0', 'NS is RES0 on the Non-secure Command queue; write 0') : undefined)),
  ],
  summary: (d) => `PREFETCH_ADDR ${sidText(d)}${ssidText(d)} ${hex(d.get('Address'))}, ` +
    `${2n ** d.get('Size')} x ${sizeName(12 + d.num('Stride'))}`,
});

// 4.3 Configuration invalidation

const CFGI_STE = command({
  opcode: 0x03, name: 'CFGI_STE', group: 'cfgi', what: 'invalidate one STE',
  fields: [SSEC, streamId(), leafField('only the STE need be invalidated; 0 also invalidates cached level-1 descriptors walked to it')],
  rules: [SSEC_RULE, SID_RANGE_RULE],
  summary: (d) => `CFGI_STE ${sidText(d)} (${d.num('Leaf') ? 'leaf' : 'with L1 descriptor'})`,
});

const RANGE_FIELD: FieldDraft = {
  name: 'Range', hi: 68, lo: 64, kind: 'uint', meaning: 'invalidate 2^(Range+1) StreamIDs, aligned to that size (31: all)',
  show: (v) => (v === 31n ? 'all StreamIDs' : `${2n ** (v + 1n)} StreamIDs`),
};

function steRangeSummary(d: FieldReader): string {
  const range = d.get('Range');
  if (range === 31n) return 'CFGI_ALL (all STEs and CDs)';
  const size = 2n ** (range + 1n);
  const start = d.get('StreamID') & ~(size - 1n);
  return `CFGI_STE_RANGE SID ${hex(start)}..${hex(start + size - 1n)} (${size} STEs)`;
}

const CFGI_STE_RANGE = command({
  opcode: 0x04, name: 'CFGI_STE_RANGE', group: 'cfgi', what: 'invalidate a range of STEs',
  fields: [SSEC, streamId((d) => d.num('Range') !== 31), RANGE_FIELD],
  rules: [
    SSEC_RULE,
    rule('align', (d) => {
      const range = d.get('Range');
      if (range === 31n) return undefined;
      const m = 2n ** (range + 1n) - 1n;
      const sid = d.get('StreamID');
      return (sid & m) !== 0n
        ? warn('StreamID', 'align', `the low ${range + 1n} bits of StreamID are ignored: this invalidates from SID ${hex(sid & ~m)}, ` +
          `not ${hex(sid)}; write StreamID ${hex(sid & ~m)} to say so`)
        : undefined;
    }),
  ],
  summary: steRangeSummary,
});

const CFGI_ALL = command({
  opcode: 0x04, name: 'CFGI_ALL', group: 'cfgi', what: 'invalidate all configuration: CFGI_STE_RANGE with Range 31',
  fields: [SSEC, streamId(() => false), { ...RANGE_FIELD, values: [{ value: 31, name: 'ALL', meaning: 'all StreamIDs' }] }],
  rules: [
    SSEC_RULE,
    rule('range', (d) => (d.get('Range') !== 31n
      ? warn('Range', 'range', `CFGI_ALL is CFGI_STE_RANGE with Range = 31, but Range is ${d.get('Range')}: this invalidates only ` +
        `${2n ** (d.get('Range') + 1n)} STEs; write Range = 31`)
      : undefined)),
  ],
  summary: steRangeSummary,
});

const CFGI_CD = command({
  opcode: 0x05, name: 'CFGI_CD', group: 'cfgi', what: 'invalidate one CD',
  fields: [
    SSEC, substreamId(true), streamId(),
    leafField('only the CD need be invalidated; 0 also invalidates the cached level-1 CD descriptor'),
  ],
  rules: [SSEC_RULE, SID_RANGE_RULE, ssidRules(false), needs('s1p', 'CMD_CFGI_CD', 'there are no CDs; use CMD_CFGI_STE')],
  summary: (d) => `CFGI_CD ${sidText(d)} SSID ${num(d.get('SubstreamID'))} (${d.num('Leaf') ? 'leaf' : 'with L1 descriptor'})`,
});

const CFGI_CD_ALL = command({
  opcode: 0x06, name: 'CFGI_CD_ALL', group: 'cfgi', what: 'invalidate all CDs of a stream',
  fields: [SSEC, streamId()],
  rules: [SSEC_RULE, SID_RANGE_RULE, needs('s1p', 'CMD_CFGI_CD_ALL', 'there are no CDs; use CMD_CFGI_STE')],
  summary: (d) => `CFGI_CD_ALL ${sidText(d)}`,
});

// VMID in [47:32] as for the TLBI commands (the Qualcomm HAL encodes it there too).
const CFGI_VMS_PIDM = command({
  opcode: 0x07, name: 'CFGI_VMS_PIDM', group: 'cfgi', what: 'invalidate cached VMS PARTID maps of a VMID',
  fields: [SSEC, vmidField('VMID (STE.S2VMID) of the streams whose VMS PARTID_MAP changed')],
  rules: [SSEC_RULE, id16Rule('VMID'), needs('mpam', 'CMD_CFGI_VMS_PIDM', 'there is no VMS PARTID map to invalidate')],
  summary: (d) => `CFGI_VMS_PIDM VMID ${num(d.get('VMID'))}`,
});

// 4.4.2 Stage 1 TLB invalidation

const NH_VMID = vmidField('VMID of the entries (matched only when stage 2 is implemented; RES0 otherwise)', (d) => d.ctx.s2p !== false);
const S1_ONLY_INSTEAD = 'use CMD_TLBI_S12_VMALL or CMD_TLBI_S2_IPA';
const nhRules = (cmd: string, extra: readonly Rule[] = []): Rule[] => [
  needs('s1p', cmd, S1_ONLY_INSTEAD), VMID_NO_S2_RULE, id16Rule('VMID'), ...extra,
];
const ids = (d: FieldReader, asid: boolean, vmid: boolean): string =>
  `${asid ? ` ASID ${num(d.get('ASID'))}` : ''}${vmid ? ` VMID ${num(d.get('VMID'))}` : ''}`;

const TLBI_NH_ALL = command({
  opcode: 0x10, name: 'TLBI_NH_ALL', group: 'tlbi', what: 'invalidate all EL1 stage-1 TLB entries of a VMID',
  fields: [NH_VMID],
  rules: nhRules('CMD_TLBI_NH_ALL'),
  summary: (d) => `TLBI_NH_ALL${ids(d, false, true)}`,
});

const TLBI_NH_ASID = command({
  opcode: 0x11, name: 'TLBI_NH_ASID', group: 'tlbi', what: 'invalidate EL1 stage-1 TLB entries by ASID',
  fields: [NH_VMID, asidField('ASID of the non-global entries to invalidate')],
  rules: nhRules('CMD_TLBI_NH_ASID', [id16Rule('ASID')]),
  summary: (d) => `TLBI_NH_ASID${ids(d, true, true)}`,
});

const TLBI_NH_VA = command({
  opcode: 0x12, name: 'TLBI_NH_VA', group: 'tlbi', what: 'invalidate EL1 stage-1 TLB entries by VA and ASID',
  fields: [...RANGE_FIELDS, NH_VMID, asidField('ASID of the entries (global entries match any ASID)'), TLBI_LEAF, VA_ADDRESS],
  rules: nhRules('CMD_TLBI_NH_VA', [id16Rule('ASID'), ...rangeRules()]),
  summary: (d) => `TLBI_NH_VA${ids(d, true, true)} ${addressTlbiText(d, 'VA')}`,
});

const TLBI_NH_VAA = command({
  opcode: 0x13, name: 'TLBI_NH_VAA', group: 'tlbi', what: 'invalidate EL1 stage-1 TLB entries by VA, all ASIDs',
  fields: [...RANGE_FIELDS, NH_VMID, TLBI_LEAF, VA_ADDRESS],
  rules: nhRules('CMD_TLBI_NH_VAA', rangeRules()),
  summary: (d) => `TLBI_NH_VAA${ids(d, false, true)} ${addressTlbiText(d, 'VA')}`,
});

const TLBI_EL3_ALL = command({
  opcode: 0x18, name: 'TLBI_EL3_ALL', group: 'tlbi', what: 'invalidate all EL3 TLB entries',
  secureOnly: true,
});

const TLBI_EL3_VA = command({
  opcode: 0x1a, name: 'TLBI_EL3_VA', group: 'tlbi', what: 'invalidate EL3 TLB entries by VA',
  fields: [...RANGE_FIELDS, TLBI_LEAF, VA_ADDRESS],
  secureOnly: true,
  rules: rangeRules(),
  summary: (d) => `TLBI_EL3_VA ${addressTlbiText(d, 'VA')}`,
});

// EL2: the ASID is used only for EL2-E2H entries (SMMU_CR2.E2H = 1).
const EL2_ASID = asidField('ASID of the EL2-E2H entries (ignored when SMMU_CR2.E2H = 0)', (d) => d.ctx.e2h !== false);
const EL2_INSTEAD = 'use the EL1 commands (CMD_TLBI_NH_*)';
const el2Rules = (cmd: string, extra: readonly Rule[] = []): Rule[] => [
  needs('s1p', cmd, S1_ONLY_INSTEAD), needs('hyp', cmd, EL2_INSTEAD), ...extra,
];

const TLBI_EL2_ALL = command({
  opcode: 0x20, name: 'TLBI_EL2_ALL', group: 'tlbi', what: 'invalidate all EL2 TLB entries',
  rules: el2Rules('CMD_TLBI_EL2_ALL'),
});

const TLBI_EL2_ASID = command({
  opcode: 0x21, name: 'TLBI_EL2_ASID', group: 'tlbi', what: 'invalidate EL2-E2H TLB entries by ASID',
  fields: [asidField('ASID of the non-global EL2-E2H entries to invalidate')],
  rules: el2Rules('CMD_TLBI_EL2_ASID', [id16Rule('ASID')]),
  summary: (d) => `TLBI_EL2_ASID${ids(d, true, false)}`,
});

const TLBI_EL2_VA = command({
  opcode: 0x22, name: 'TLBI_EL2_VA', group: 'tlbi', what: 'invalidate EL2 TLB entries by VA',
  fields: [...RANGE_FIELDS, EL2_ASID, TLBI_LEAF, VA_ADDRESS],
  rules: el2Rules('CMD_TLBI_EL2_VA', [id16Rule('ASID'), ...rangeRules()]),
  summary: (d) => `TLBI_EL2_VA${d.ctx.e2h === false ? '' : ids(d, true, false)} ${addressTlbiText(d, 'VA')}`,
});

const TLBI_EL2_VAA = command({
  opcode: 0x23, name: 'TLBI_EL2_VAA', group: 'tlbi', what: 'invalidate EL2 TLB entries by VA, all ASIDs',
  fields: [...RANGE_FIELDS, TLBI_LEAF, VA_ADDRESS],
  rules: el2Rules('CMD_TLBI_EL2_VAA', rangeRules()),
  summary: (d) => `TLBI_EL2_VAA ${addressTlbiText(d, 'VA')}`,
});

// 4.4.3 Stage 2 TLB invalidation

const S2_VMID = vmidField('VMID of the entries to invalidate');
const S2_INSTEAD = 'use the stage 1 commands (CMD_TLBI_NH_*)';

const IPA_OAS_RULE = rule('range', (d) => {
  const oas = d.ctx.oas;
  const ipa = d.get('Address');
  return oas !== undefined && oas < 64 && ipa >> BigInt(oas) !== 0n
    ? warn('Address', 'range', `IPA ${hex(ipa)} is beyond the ${oas}-bit address size: the SMMU may treat it as out of range ` +
      'and invalidate nothing; use an IPA the stage 2 tables can map')
    : undefined;
});

const TLBI_S12_VMALL = command({
  opcode: 0x28, name: 'TLBI_S12_VMALL', group: 'tlbi', what: 'invalidate all stage-1 and stage-2 TLB entries of a VMID',
  fields: [S2_VMID],
  rules: [needs('s2p', 'CMD_TLBI_S12_VMALL', S2_INSTEAD), id16Rule('VMID')],
  summary: (d) => `TLBI_S12_VMALL${ids(d, false, true)}`,
});

const TLBI_S2_IPA = command({
  opcode: 0x2a, name: 'TLBI_S2_IPA', group: 'tlbi', what: 'invalidate stage-2 TLB entries by IPA',
  fields: [...RANGE_FIELDS, S2_VMID, TLBI_LEAF, IPA_ADDRESS],
  rules: [needs('s2p', 'CMD_TLBI_S2_IPA', S2_INSTEAD), id16Rule('VMID'), IPA_OAS_RULE, ...rangeRules()],
  summary: (d) => `TLBI_S2_IPA${ids(d, false, true)} ${addressTlbiText(d, 'IPA')}`,
});

// 4.4.4 Common

const TLBI_NSNH_ALL = command({
  opcode: 0x30, name: 'TLBI_NSNH_ALL', group: 'tlbi', what: 'invalidate all Non-secure non-hyp TLB entries',
  summary: () => 'TLBI_NSNH_ALL (all non-secure EL1 entries, all VMIDs, both stages)',
});

// 4.5 ATS and PRI

const ATC_INV = command({
  opcode: 0x40, name: 'ATC_INV', group: 'atc', what: 'invalidate a device ATC (ATS)',
  fields: [
    {
      name: 'Global', hi: 9, lo: 9, kind: 'flag', relevant: (d) => d.num('SSV') === 1,
      meaning: 'set the Global Invalidate flag in the ATS request (with SSV = 1 only)',
    },
    SSV, substreamId(false), streamId(),
    {
      name: 'Size', hi: 69, lo: 64, kind: 'uint', meaning: 'span to invalidate: 4KB x 2^Size, aligned to itself (52: everything)',
      show: (v) => (v === 52n ? 'all' : v > 52n ? 'reserved' : `${sizeName(12 + Number(v))}`),
    },
    { name: 'Address', aliases: ['addr'], hi: 127, lo: 76, kind: 'address', meaning: 'untranslated address in the span (Address[63:12])' },
  ],
  rules: [
    needs('ats', 'CMD_ATC_INV', 'do not issue ATC invalidations'), SID_RANGE_RULE, ssidRules(true),
    rule('range', (d) => (d.get('Size') > 52n
      ? err('Size', 'range', `Size ${d.get('Size')} is above 52: the SMMU may raise CERROR_ILL or use an UNKNOWN span; ` +
        'use 52 to invalidate everything')
      : undefined)),
    rule('align', (d) => {
      const size = d.get('Size');
      if (size >= 52n) return undefined;
      const m = (1n << (12n + size)) - 1n;
      const addr = d.get('Address');
      return (addr & m) !== 0n
        ? warn('Address', 'align', `Address ${hex(addr)} is not aligned to the ${sizeName(12 + Number(size))} span: the SMMU ` +
          `takes Address[${11n + size}:0] as zero and invalidates from ${hex(addr & ~m)}; write that address, or a larger Size ` +
          'if the span must cover more')
        : undefined;
    }),
  ],
  summary: (d) => {
    const size = d.get('Size');
    let span: string;
    if (size === 52n) span = 'all';
    else if (size > 52n) span = `Size ${size} (reserved)`;
    else {
      const m = (1n << (12n + size)) - 1n;
      const start = d.get('Address') & ~m;
      span = `${hex(start)}..${hex(start + m)}`;
    }
    const global = d.num('SSV') && d.num('Global') ? ' (global)' : '';
    return `ATC_INV ${sidText(d)}${ssidText(d)} ${span}${global}`;
  },
});

const PRI_RESP = command({
  opcode: 0x41, name: 'PRI_RESP', group: 'pri', what: 'respond to a PRI page request group',
  fields: [
    SSV, substreamId(false), streamId(),
    { name: 'PRGIndex', aliases: ['grpid', 'prgi'], hi: 72, lo: 64, kind: 'uint', meaning: 'Page Request Group Index from the PRI queue record' },
    {
      name: 'Resp', hi: 77, lo: 76, kind: 'enum', meaning: 'response code sent to the device',
      values: [
        { value: 0, name: 'DENY', meaning: 'ResponseFailure: permanent error, the device stops using PRI' },
        { value: 1, name: 'FAIL', meaning: 'InvalidRequest: one or more pages could not be made resident' },
        { value: 2, name: 'SUCC', meaning: 'Success: all pages of the group are resident' },
        illegalCode(3, '0 (DENY), 1 (FAIL) or 2 (SUCC)'),
      ],
    },
  ],
  rules: [SID_RANGE_RULE, ssidRules(true), needs('pri', 'CMD_PRI_RESP', 'there is no PRI queue whose requests need answers')],
  summary: (d) => {
    const resp = ['DENY', 'FAIL', 'SUCC', 'RESP=3'][d.num('Resp')];
    return `PRI_RESP ${sidText(d)}${ssidText(d)} GRPID ${num(d.get('PRGIndex'))} ${resp}`;
  },
});

// 4.7 Fault response and synchronization

const RESUME = command({
  opcode: 0x44, name: 'RESUME', group: 'stall', what: 'retry or terminate a stalled transaction',
  fields: [
    SSEC,
    // Linux writes Ac/Ab as one 2-bit field CMDQ_RESUME_0_RESP: TERM 0, RETRY 1, ABORT 2.
    {
      name: 'Ac', aliases: ['action', 'retry'], hi: 12, lo: 12, kind: 'flag', meaning: 'action: 1 retries the transaction, 0 terminates it',
      values: [
        { value: 0, name: 'TERMINATE', meaning: 'terminate the transaction as Ab says' },
        { value: 1, name: 'RETRY', meaning: 'retry the transaction as if it had just arrived' },
      ],
    },
    {
      name: 'Ab', aliases: ['abort'], hi: 13, lo: 13, kind: 'flag', relevant: (d) => d.num('Ac') === 0,
      meaning: 'when terminating: 1 reports an abort to the device, 0 completes it with RAZ/WI (abort always if TERM_MODEL = 1)',
    },
    streamId(),
    { name: 'STAG', hi: 79, lo: 64, kind: 'uint', meaning: 'stall tag from the stall event record, exactly as reported' },
  ],
  rules: [SSEC_RULE, SID_RANGE_RULE, STALL_RULE('CMD_RESUME')],
  summary: (d) => {
    const action = d.num('Ac') ? 'RETRY' : d.num('Ab') ? 'ABORT' : 'TERM (RAZ/WI)';
    return `RESUME ${sidText(d)} STAG ${num(d.get('STAG'))} ${action}`;
  },
});

const STALL_TERM = command({
  opcode: 0x45, name: 'STALL_TERM', group: 'stall', what: 'terminate all stalled transactions of a stream',
  fields: [SSEC, streamId()],
  rules: [SSEC_RULE, SID_RANGE_RULE, STALL_RULE('CMD_STALL_TERM')],
  summary: (d) => `STALL_TERM ${sidText(d)}`,
});

const csIrq = (d: FieldReader): boolean => d.num('CS') === 1;

// MSI_NS at [127] as the Renode model has it, like NS [63] of SMMU_R_*_IRQ_CFG0.
const SYNC = command({
  opcode: 0x46, name: 'SYNC', group: 'sync', what: 'wait for completion of earlier commands',
  fields: [
    {
      name: 'CS', aliases: ['complsignal'], hi: 13, lo: 12, kind: 'enum', meaning: 'completion signal when the SYNC completes',
      values: [
        { value: 0, name: 'NONE', meaning: 'no signal; software polls CMDQ_CONS' },
        { value: 1, name: 'IRQ', meaning: 'interrupt: an MSI write of MSIData to MSIAddress (if non-zero) and/or a wired interrupt' },
        { value: 2, name: 'SEV', meaning: 'send a WFE wake-up event (only if IDR0.SEV; otherwise as NONE)' },
        illegalCode(3, '0 (NONE), 1 (IRQ) or 2 (SEV)'),
      ],
    },
    {
      // Ignored for Device and Normal-iNC-oNC writes, which are Outer Shareable.
      name: 'MSH', hi: 23, lo: 22, kind: 'enum', meaning: 'shareability of the MSI write', values: SHAREABILITY,
      relevant: (d) => csIrq(d) && ![0, 1, 2, 3, 5].includes(d.num('MSIAttr')),
    },
    { name: 'MSIAttr', hi: 27, lo: 24, kind: 'enum', meaning: 'memory type of the MSI write (as STE.MemAttr)', relevant: csIrq, values: MEMATTR },
    { name: 'MSIData', hi: 63, lo: 32, kind: 'uint', meaning: '32-bit value the MSI writes', relevant: csIrq },
    {
      name: 'MSIAddress', aliases: ['msiaddr'], hi: 119, lo: 66, kind: 'address', relevant: csIrq,
      meaning: 'physical address of the MSI write (PA[55:2]); 0 sends no MSI',
    },
    {
      name: 'MSI_NS', aliases: ['msins'], hi: 127, lo: 127, kind: 'flag', relevant: () => false,
      meaning: 'MSI to the Non-secure PA space (Realm Command queue only; RES0 otherwise)',
    },
  ],
  rules: [
    rule('unsupported', (d) => (d.num('CS') === 2 && d.ctx.sev === false
      ? warn('CS', 'unsupported', 'CS = SEV but this SMMU sends no wake-up events (IDR0.SEV = 0): the SYNC completes as with ' +
        'CS = NONE and no PE is woken; poll CMDQ_CONS or use CS = IRQ')
      : undefined)),
    rule('range', (d) => {
      const oas = d.ctx.oas;
      const a = d.get('MSIAddress');
      return csIrq(d) && oas !== undefined && oas < 56 && a >> BigInt(oas) !== 0n
        ? warn('MSIAddress', 'range', `MSIAddress ${hex(a)} is beyond the ${oas}-bit physical address size and is truncated to ` +
          `${hex(a & ((1n << BigInt(oas)) - 1n))}; use an address the SMMU can reach`)
        : undefined;
    }),
    rule('res0', (d) => (d.num('MSI_NS')
      ? warn('MSI_NS', 'res0', 'MSI_NS is RES0 on the Non-secure and Secure Command queues; write 0')
      : undefined)),
  ],
  summary: (d) => {
    const cs = d.num('CS');
    if (cs === 3) return 'CMD_SYNC CS=3 (reserved: CERROR_ILL)';
    if (cs === 2 && d.ctx.sev === false) return 'CMD_SYNC CS=SEV (no SEV on this SMMU: as NONE)';
    if (cs !== 1) return `CMD_SYNC CS=${cs === 0 ? 'NONE' : 'SEV'}`;
    const addr = d.get('MSIAddress');
    if (addr === 0n) return 'CMD_SYNC CS=IRQ (no MSI: MSIAddress 0; wired interrupt only)';
    const attr = MEMATTR[d.num('MSIAttr')].name;
    const sh = ['NSH', 'NSH', 'OSH', 'ISH'][d.num('MSH')];
    return `CMD_SYNC CS=IRQ, MSI write ${num(d.get('MSIData'))} to ${hex(addr)} (${sh}, ${attr})`;
  },
});

// Secure-only commands (4.4.2.11-14, 4.4.3.3-4, 4.4.4.2): named so their bits decode;
// each is ILLEGAL on the Non-secure queue.

const TLBI_S_EL2_ALL = command({
  opcode: 0x50, name: 'TLBI_S_EL2_ALL', group: 'tlbi', what: 'invalidate all Secure EL2 TLB entries',
  secureOnly: true,
});

const TLBI_S_EL2_ASID = command({
  opcode: 0x51, name: 'TLBI_S_EL2_ASID', group: 'tlbi', what: 'invalidate Secure EL2-E2H TLB entries by ASID',
  fields: [asidField('ASID of the non-global S-EL2-E2H entries to invalidate')],
  secureOnly: true,
  rules: [id16Rule('ASID')],
  summary: (d) => `TLBI_S_EL2_ASID${ids(d, true, false)}`,
});

const TLBI_S_EL2_VA = command({
  opcode: 0x52, name: 'TLBI_S_EL2_VA', group: 'tlbi', what: 'invalidate Secure EL2 TLB entries by VA',
  fields: [...RANGE_FIELDS, asidField('ASID of the S-EL2-E2H entries (ignored when SMMU_S_CR2.E2H = 0)'), TLBI_LEAF, VA_ADDRESS],
  secureOnly: true,
  rules: [id16Rule('ASID'), ...rangeRules()],
  summary: (d) => `TLBI_S_EL2_VA${ids(d, true, false)} ${addressTlbiText(d, 'VA')}`,
});

const TLBI_S_EL2_VAA = command({
  opcode: 0x53, name: 'TLBI_S_EL2_VAA', group: 'tlbi', what: 'invalidate Secure EL2 TLB entries by VA, all ASIDs',
  fields: [...RANGE_FIELDS, TLBI_LEAF, VA_ADDRESS],
  secureOnly: true,
  rules: rangeRules(),
  summary: (d) => `TLBI_S_EL2_VAA ${addressTlbiText(d, 'VA')}`,
});

const TLBI_S_S12_VMALL = command({
  opcode: 0x58, name: 'TLBI_S_S12_VMALL', group: 'tlbi', what: 'invalidate all Secure stage-1 and stage-2 TLB entries of a VMID',
  fields: [S2_VMID],
  secureOnly: true,
  rules: [id16Rule('VMID')],
  summary: (d) => `TLBI_S_S12_VMALL${ids(d, false, true)}`,
});

// NS at [65], next to Leaf, as the Qualcomm HAL encodes it.
const TLBI_S_S2_IPA = command({
  opcode: 0x5a, name: 'TLBI_S_S2_IPA', group: 'tlbi', what: 'invalidate Secure stage-2 TLB entries by IPA',
  fields: [
    ...RANGE_FIELDS, S2_VMID, TLBI_LEAF,
    { name: 'NS', hi: 65, lo: 65, kind: 'flag', meaning: 'the IPA is in the Non-secure IPA space of the Secure translation regime' },
    IPA_ADDRESS,
  ],
  secureOnly: true,
  rules: [id16Rule('VMID'), ...rangeRules()],
  summary: (d) => `TLBI_S_S2_IPA${ids(d, false, true)}${d.num('NS') ? ' NS' : ''} ${addressTlbiText(d, 'IPA')}`,
});

const TLBI_SNH_ALL = command({
  opcode: 0x60, name: 'TLBI_SNH_ALL', group: 'tlbi', what: 'invalidate all Secure non-hyp TLB entries',
  secureOnly: true,
});

// 4.6 DPT maintenance (RME DA; IDR3.DPT).

const DPT_INSTEAD = 'there is no DPT information to invalidate';

const DPTI_ALL = command({
  opcode: 0x70, name: 'DPTI_ALL', group: 'dpt', what: 'invalidate all cached DPT information',
  rules: [needs('dpt', 'CMD_DPTI_ALL', DPT_INSTEAD)],
});

const DPT_SIZE_SHIFT = [12, 14, 16, 21, 25, 29, 30, 34, 36, 39] as const;

// Only the parameters (Address, SIZE, Leaf) are in the spec text we have. Address[55:12]
// sits where every command keeps a PA; Leaf [64] as in every other command. SIZE [71:68]
// is NOT confirmed by any source: treat its position as provisional.
const DPTI_PA = command({
  opcode: 0x73, name: 'DPTI_PA', group: 'dpt', what: 'invalidate cached DPT information by PA',
  fields: [
    leafField('only final-level DPT entries need be invalidated; 0 invalidates all levels of the walk'),
    {
      name: 'SIZE', hi: 71, lo: 68, kind: 'enum', meaning: 'size of the aligned region to invalidate',
      values: Array.from({ length: 16 }, (_, v): EnumValue => (v < DPT_SIZE_SHIFT.length
        ? { value: v, name: `${sizeName(DPT_SIZE_SHIFT[v])}B`, meaning: `${sizeName(DPT_SIZE_SHIFT[v])}B region` }
        : { value: v, name: `SIZE${v}`, meaning: 'reserved: the SMMU need not invalidate anything', reserved: true })),
    },
    { name: 'Address', aliases: ['addr', 'pa'], hi: 119, lo: 76, kind: 'address', meaning: 'base physical address of the region (PA[55:12])' },
  ],
  rules: [
    needs('dpt', 'CMD_DPTI_PA', DPT_INSTEAD),
    rule('align', (d) => {
      const s = d.num('SIZE');
      if (s >= DPT_SIZE_SHIFT.length) return undefined;
      const m = (1n << BigInt(DPT_SIZE_SHIFT[s])) - 1n;
      const a = d.get('Address');
      return (a & m) !== 0n
        ? warn('Address', 'align', `Address ${hex(a)} is not aligned to the ${sizeName(DPT_SIZE_SHIFT[s])}B region: the SMMU need ` +
          `not invalidate anything; use ${hex(a & ~m)}`)
        : undefined;
    }),
  ],
  summary: (d) => {
    const s = d.num('SIZE');
    const size = s < DPT_SIZE_SHIFT.length ? `${sizeName(DPT_SIZE_SHIFT[s])}B` : `SIZE ${s} (reserved)`;
    return `DPTI_PA ${hex(d.get('Address'))} ${size}${d.num('Leaf') ? ', leaf' : ''}`;
  },
});

/** Every command the architecture defines, in opcode order (CMD_CFGI_ALL after 0x04). */
export const COMMANDS: readonly CommandLayout[] = [
  PREFETCH_CONFIG, PREFETCH_ADDR, CFGI_STE, CFGI_STE_RANGE, CFGI_ALL, CFGI_CD, CFGI_CD_ALL, CFGI_VMS_PIDM,
  TLBI_NH_ALL, TLBI_NH_ASID, TLBI_NH_VA, TLBI_NH_VAA, TLBI_EL3_ALL, TLBI_EL3_VA,
  TLBI_EL2_ALL, TLBI_EL2_ASID, TLBI_EL2_VA, TLBI_EL2_VAA, TLBI_S12_VMALL, TLBI_S2_IPA, TLBI_NSNH_ALL,
  ATC_INV, PRI_RESP, RESUME, STALL_TERM, SYNC,
  TLBI_S_EL2_ALL, TLBI_S_EL2_ASID, TLBI_S_EL2_VA, TLBI_S_EL2_VAA, TLBI_S_S12_VMALL, TLBI_S_S2_IPA, TLBI_SNH_ALL,
  DPTI_ALL, DPTI_PA,
];

const BY_OPCODE = new Map<number, CommandLayout>();
const BY_NAME = new Map<string, CommandLayout>();
for (const c of COMMANDS) {
  if (!BY_OPCODE.has(c.opcode)) BY_OPCODE.set(c.opcode, c);
  BY_NAME.set(c.name.slice('CMD_'.length), c);
}
/** Linux spellings that differ from the architecture's (CMDQ_OP_*). */
const LINUX_NAMES: Readonly<Record<string, string>> = { PREFETCH_CFG: 'PREFETCH_CONFIG' };

/** The command with this opcode (0x04 gives CMD_CFGI_STE_RANGE, of which CFGI_ALL is a case). */
export function commandByOpcode(op: number): CommandLayout | undefined {
  return BY_OPCODE.get(op);
}

/** A command by name, case-insensitive, with or without CMD_ / CMDQ_OP_: 'CMD_SYNC', 'sync', 'CMDQ_OP_CFGI_ALL'. */
export function commandByName(name: string): CommandLayout | undefined {
  const k = name.trim().toUpperCase().replace(/^CMDQ_OP_/, '').replace(/^CMD_/, '');
  return BY_NAME.get(LINUX_NAMES[k] ?? k);
}

const otherLayouts = new Map<number, Layout>();

/** Opcodes 0x80-0x8F are IMPLEMENTATION DEFINED; every other undefined opcode is reserved. */
function otherCommandLayout(op: number): Layout {
  let l = otherLayouts.get(op);
  if (l) return l;
  const impdef = op >= 0x80 && op <= 0x8f;
  const rest = (hi: number, lo: number): FieldDraft => ({
    name: `${impdef ? 'IMPDEF' : 'UNKNOWN'}[${hi}:${lo}]`, hi, lo, kind: 'reserved', reserved: impdef ? 'IMPDEF' : 'IGNORED',
    meaning: impdef ? 'IMPLEMENTATION DEFINED parameters' : 'not interpreted: the opcode is not a command',
  });
  l = defineLayout({
    kind: impdef ? 'cmd.IMPDEF' : 'cmd',
    title: impdef ? `IMPLEMENTATION DEFINED command ${hex(op, 2)}` : `unknown command ${hex(op, 2)}`,
    wordBits: 64, words: 2,
    fields: [
      { name: 'Opcode', aliases: ['op'], hi: 7, lo: 0, kind: 'uint', meaning: 'command opcode' },
      rest(63, 8), rest(127, 64),
    ],
    rules: [rule(impdef ? 'impdef' : 'illegal', (d) => {
      const code = hex(d.num('Opcode'), 2);
      return impdef
        ? warn('Opcode', 'impdef', `opcode ${code} is IMPLEMENTATION DEFINED: its meaning depends on the SMMU model, and an SMMU ` +
          'that does not define it raises CERROR_ILL')
        : err('Opcode', 'illegal', `opcode ${code} is not a command; the SMMU stops the queue with CONS.ERR = CERROR_ILL; ` +
          'use a defined opcode (e.g. 0x46 CMD_SYNC)');
    })],
    summary: (d) => (impdef
      ? `IMPLEMENTATION DEFINED command ${hex(d.num('Opcode'), 2)}`
      : `opcode ${hex(d.num('Opcode'), 2)}: not a command (CERROR_ILL)`),
  });
  otherLayouts.set(op, l);
  return l;
}

/**
 * The table for a command from its words: by opcode [7:0]; opcode 0x04 with Range 31 is
 * CMD_CFGI_ALL; an undefined opcode gets an "unknown command" table whose rule reports it
 * as illegal.
 */
export function commandLayoutFor(words: readonly bigint[]): Layout {
  const w0 = BigInt.asUintN(64, BigInt(words[0] ?? 0n));
  const w1 = BigInt.asUintN(64, BigInt(words[1] ?? 0n));
  const op = Number(w0 & 0xffn);
  if (op === CFGI_ALL.opcode && (w1 & 0x1fn) === 31n) return CFGI_ALL;
  return commandByOpcode(op) ?? otherCommandLayout(op);
}
