/**
 * Event queue records (32 bytes, 4 qwords) and the PRI queue record (16 bytes, 2 qwords).
 *
 * Bit positions are absolute over the record as the SMMUv3 specification (IHI 0070, §7.3
 * and chapter 8) numbers them: StreamID is [63:32], InputAddr [191:128], IPA [247:204].
 * Every record shares qword 0's layout: event number [7:0], SSV [11], SubstreamID [31:12]
 * and StreamID [63:32], except where a record leaves some of these RES0.
 */
import { encode, FieldError, FieldInput, hex, setField } from './codec';
import {
  defineLayout, EnumValue, FieldDraft, FieldReader, Layout, Problem, Rule,
} from './field';
import { didYouMean } from './suggest';

export interface EventLayout extends Layout {
  /** The event number, record bits [7:0]. */
  readonly id: number;
  /** The architecture's name (`F_TRANSLATION`). */
  readonly name: string;
  /** One line: what makes the SMMU record it. */
  readonly cause: string;
}

/** CLASS: which operation of the translation faulted. */
export const EVENT_CLASS: readonly EnumValue[] = [
  { value: 0, name: 'CD', meaning: 'CD fetch' },
  { value: 1, name: 'TT', meaning: 'stage 1 translation table fetch (TTD)' },
  { value: 2, name: 'IN', meaning: 'the input address itself' },
  { value: 3, name: 'Reserved', meaning: 'reserved; the SMMU never reports it', reserved: true },
];

// ---------------------------------------------------------------------------------------
// Field drafts shared by the records.

/** Numbers as a developer writes them: small ones in decimal, the rest in hex. */
function num(v: bigint): string {
  return v < 10n ? v.toString() : hex(v);
}

const is = (name: string, value: bigint) => (d: FieldReader): boolean => d.get(name) === value;

function eventNumber(values: readonly EnumValue[]): FieldDraft {
  return { name: 'EventNumber', aliases: ['id', 'type'], hi: 7, lo: 0, kind: 'uint', values, meaning: 'Event type' };
}

const SSV: FieldDraft = {
  name: 'SSV', hi: 11, lo: 11, kind: 'flag', meaning: 'The transaction carried a SubstreamID (PASID)',
};
/** SubstreamID qualified by SSV (UNKNOWN when SSV == 0). */
const SSID: FieldDraft = {
  name: 'SubstreamID', aliases: ['ssid'], hi: 31, lo: 12, kind: 'uint',
  meaning: 'SubstreamID (PASID) of the transaction', relevant: is('SSV', 1n),
};
/** C_BAD_SUBSTREAMID has no SSV: its SubstreamID is always valid. */
const SSID_ALWAYS: FieldDraft = {
  name: 'SubstreamID', aliases: ['ssid'], hi: 31, lo: 12, kind: 'uint',
  meaning: 'SubstreamID that was refused (0 when a transaction without one used CD 0 through S1DSS)',
};
const SID: FieldDraft = {
  name: 'StreamID', aliases: ['sid'], hi: 63, lo: 32, kind: 'uint', meaning: 'StreamID of the requester',
};

function reason(hi: number): FieldDraft {
  return { name: 'Reason', hi, lo: 64, kind: 'uint', meaning: 'IMPLEMENTATION DEFINED cause' };
}
const GPCF: FieldDraft = {
  name: 'GPCF', hi: 80, lo: 80, kind: 'flag', meaning: 'The abort was a Granule Protection Check fault (RME)',
};
const STAG: FieldDraft = {
  name: 'STAG', hi: 79, lo: 64, kind: 'uint', meaning: 'Stall tag: give it to CMD_RESUME with the StreamID',
  relevant: is('Stall', 1n),
};
const STALL: FieldDraft = {
  name: 'Stall', hi: 95, lo: 95, kind: 'flag',
  meaning: 'The transaction is stalled and waits for CMD_RESUME or CMD_STALL_TERM',
};

function pnu(incoming = false): FieldDraft {
  return {
    name: 'PnU', hi: 97, lo: 97, kind: 'flag',
    meaning: `Privileged (1) or unprivileged (0) access, ${incoming ? 'as the client sent it' : 'after STE overrides'}`,
  };
}
function ind(incoming = false): FieldDraft {
  return {
    name: 'InD', hi: 98, lo: 98, kind: 'flag',
    meaning: `Instruction (1) or data (0) access, ${incoming ? 'as the client sent it' : 'after STE overrides'}`,
  };
}
const RNW: FieldDraft = { name: 'RnW', hi: 99, lo: 99, kind: 'flag', meaning: 'Read (1) or write (0) transaction' };
const NSIPA: FieldDraft = {
  name: 'NSIPA', hi: 100, lo: 100, kind: 'flag',
  meaning: 'Secure streams: the faulting IPA was in the Non-secure IPA space', relevant: is('S2', 1n),
};
const S2: FieldDraft = { name: 'S2', hi: 103, lo: 103, kind: 'flag', meaning: 'The fault happened at stage 2 (0: stage 1)' };
const CLASS: FieldDraft = {
  name: 'CLASS', hi: 105, lo: 104, kind: 'enum', values: EVENT_CLASS, meaning: 'What the faulting stage was doing',
};
const IMPL_DEF: FieldDraft = {
  name: 'IMPL_DEF', hi: 127, lo: 112, kind: 'reserved', reserved: 'IMPDEF', meaning: 'IMPLEMENTATION DEFINED',
};

function inputAddr(lo: 128 | 140): FieldDraft {
  return {
    name: 'InputAddr', aliases: ['addr'], hi: 191, lo, kind: 'address',
    meaning: lo === 128 ? 'Address the client presented (VA, IPA or PA by configuration)'
      : 'Page address the request is for (bits [63:12])',
  };
}
function ipa(relevant?: (d: FieldReader) => boolean): FieldDraft {
  return {
    name: 'IPA', hi: 247, lo: 204, kind: 'address', relevant,
    meaning: 'Stage 2 faults: the IPA being translated (CD, stage 1 descriptor or output of stage 1)',
  };
}
function fetchAddr(what: string): FieldDraft {
  return {
    name: 'FetchAddr', aliases: ['fetch_addr'], hi: 247, lo: 195, kind: 'address',
    meaning: `Physical address of the ${what} whose fetch aborted`,
  };
}

// ---------------------------------------------------------------------------------------
// Rules.

const warn = (rule: string, field: string, message: string): Problem => ({ rule, field, severity: 'warning', message });

function idRule(id: number, name: string): Rule {
  return {
    id: 'event-id',
    check: (d) => (d.num('EventNumber') === id ? undefined : {
      rule: 'event-id', field: 'EventNumber', severity: 'error',
      message: `event number is ${hex(d.get('EventNumber'))}, not ${hex(id)}: this record is not ${name}; ` +
        'decode it by its own number',
    }),
  };
}

/** SubstreamID is UNKNOWN when SSV == 0: a value there carries no meaning. */
const SSID_UNKNOWN: Rule = {
  id: 'ssid-unknown',
  check: (d) => (d.get('SSV') === 0n && d.get('SubstreamID') !== 0n
    ? warn('ignored', 'SubstreamID', `SubstreamID holds ${hex(d.get('SubstreamID'))} but SSV is 0, so it is ` +
      'UNKNOWN and must not be used; a model should write 0 (or set SSV if the transaction had a PASID)')
    : undefined),
};

/** StreamIDs beyond IDR1.SIDSIZE cannot arrive (C_BAD_STREAMID reports out-of-table ones, not these). */
const SID_RANGE: Rule = {
  id: 'sid-range',
  check: (d) => {
    const bits = d.ctx.sidSize;
    if (bits === undefined || d.get('StreamID') < 1n << BigInt(bits)) return undefined;
    return warn('range', 'StreamID', `StreamID ${hex(d.get('StreamID'))} needs more than the ${bits} bits ` +
      `the SMMU implements (IDR1.SIDSIZE); it must be below ${hex(1n << BigInt(bits))}`);
  },
};

const SSID_RANGE: Rule = {
  id: 'ssid-range',
  check: (d) => {
    const bits = d.ctx.ssidSize;
    if (bits === undefined || d.get('SSV') === 0n || d.get('SubstreamID') < 1n << BigInt(bits)) return undefined;
    return warn('range', 'SubstreamID', `SubstreamID ${hex(d.get('SubstreamID'))} needs more than the ${bits} bits ` +
      `the SMMU implements (IDR1.SSIDSIZE); it must be below ${hex(1n << BigInt(bits))}`);
  },
};

/** A write is never an instruction fetch: the records say InD == 0 when RnW == 0. */
const IND_WRITE: Rule = {
  id: 'ind-write',
  check: (d) => (d.get('RnW') === 0n && d.get('InD') === 1n
    ? warn('inconsistent', 'InD', 'InD is 1 on a write (RnW 0); the SMMU reports InD 0 for writes, ' +
      'so either RnW should be 1 (instruction fetch) or InD 0')
    : undefined),
};

const NSIPA_S2: Rule = {
  id: 'nsipa-s2',
  check: (d) => (d.get('NSIPA') === 1n && d.get('S2') === 0n
    ? warn('inconsistent', 'NSIPA', 'NSIPA is 1 on a stage 1 fault; it is only set for stage 2 faults ' +
      'recorded on the Secure Event queue, otherwise it is 0')
    : undefined),
};

/** Stage 1 faults report CLASS IN (translation faults) or TT (F_WALK_EABT). */
function stage1Class(expected: 'IN' | 'TT'): Rule {
  const want = BigInt(EVENT_CLASS.find((c) => c.name === expected)!.value);
  return {
    id: 'stage1-class',
    check: (d) => (d.get('S2') === 0n && d.get('CLASS') !== want
      ? warn('inconsistent', 'CLASS', `a stage 1 fault (S2 0) is reported with CLASS ${expected}, ` +
        `not ${EVENT_CLASS[d.num('CLASS')].name}; CD and ${expected === 'IN' ? 'TT' : 'IN'} only occur with S2 1`)
      : undefined),
  };
}

/** Address fields: bits [55:OAS] are RES0 when OAS < 56. */
function oasRule(field: 'IPA' | 'FetchAddr'): Rule {
  return {
    id: `${field.toLowerCase()}-oas`,
    check: (d) => {
      const oas = d.ctx.oas;
      if (oas === undefined || oas >= 56 || d.get(field) < 1n << BigInt(oas)) return undefined;
      return warn('range', field, `${field} ${hex(d.get(field))} lies beyond the ${oas}-bit output address size ` +
        `(IDR5.OAS); bits [55:${oas}] are RES0, so it must be below ${hex(1n << BigInt(oas))}`);
    },
  };
}

const STALL_MODEL: Rule = {
  id: 'stall-model',
  check: (d) => (d.get('Stall') === 1n && d.ctx.stallModel === 1
    ? warn('unsupported', 'Stall', 'Stall is 1 but this SMMU does not support stalling (IDR0.STALL_MODEL 1); ' +
      'it terminates faulting transactions, so Stall must be 0')
    : undefined),
};

/** S2-only permission-fault flags. */
function stage2Only(field: string, what: string): Rule {
  return {
    id: `${field.toLowerCase()}-s2`,
    check: (d) => (d.get(field) === 1n && d.get('S2') === 0n
      ? warn('inconsistent', field, `${field} is 1 on a stage 1 fault; it reports ${what}, which only ` +
        'happens at stage 2 (S2 1)')
      : undefined),
  };
}

// ---------------------------------------------------------------------------------------
// Summaries.

function who(d: FieldReader): string {
  const sid = `SID ${num(d.get('StreamID'))}`;
  return d.get('SSV') === 1n ? `${sid} SSID ${num(d.get('SubstreamID'))}` : sid;
}

function access(d: FieldReader): string {
  const kind = d.get('RnW') === 0n ? 'write' : d.get('InD') === 1n ? 'instruction fetch' : 'read';
  return d.get('PnU') === 1n ? `privileged ${kind}` : kind;
}

const CLASS_WORDS = ['CD fetch', 'stage 1 table walk', 'input address', 'reserved class'];

/** `(stage 2, CD fetch, IPA 0x...)`. */
function where(d: FieldReader, withIpa = true): string {
  const s2 = d.get('S2') === 1n;
  const parts = [`stage ${s2 ? 2 : 1}`, CLASS_WORDS[d.num('CLASS')]];
  if (s2 && withIpa) parts.push(`IPA ${hex(d.get('IPA'))}`);
  return `(${parts.join(', ')})`;
}

function stall(d: FieldReader): string {
  return d.get('Stall') === 1n ? `stalled, STAG ${hex(d.get('STAG'))}` : 'no stall';
}

// ---------------------------------------------------------------------------------------
// The records.

interface EventDraft {
  readonly id: number;
  readonly name: string;
  /** Words for the title, e.g. `translation fault`. */
  readonly what: string;
  readonly cause: string;
  readonly fields: readonly FieldDraft[];
  readonly rules?: readonly Rule[];
  readonly summary: (d: FieldReader) => string;
}

/** Names and numbers of every event type, for the EventNumber field of each record. */
const DRAFTS: EventDraft[] = [];

/** Rules every record with SSV and SubstreamID gets. */
const SSV_RULES = [SSID_UNKNOWN, SID_RANGE, SSID_RANGE];

function fetchEvent(id: number, name: string, what: string, cause: string): EventDraft {
  return {
    id, name, what, cause,
    fields: [SSV, SSID, SID, reason(79), GPCF, fetchAddr(what)],
    rules: [...SSV_RULES, oasRule('FetchAddr')],
    summary: (d) => `${name}: ${who(d)} — fetch of the ${what} at ${hex(d.get('FetchAddr'))} failed` +
      (d.get('GPCF') === 1n ? ' (granule protection check fault)' : ' (external abort or address out of range)') +
      (d.get('Reason') !== 0n ? `, reason ${hex(d.get('Reason'))}` : ''),
  };
}

/** C_BAD_STE and C_BAD_CD: a configuration structure is invalid or ILLEGAL. */
function badConfigEvent(id: number, name: string, structure: string, cause: string): EventDraft {
  return {
    id, name, what: `invalid ${structure}`, cause,
    fields: [SSV, SSID, SID],
    rules: SSV_RULES,
    summary: (d) => `${name}: ${who(d)} — the ${structure} is invalid or ILLEGAL`,
  };
}

/** F_TRANSLATION, F_ADDR_SIZE, F_ACCESS and F_PERMISSION share one layout (F_PERMISSION adds four bits). */
function translationEvent(id: number, name: string, what: string, cause: string,
  extra: readonly FieldDraft[] = [], extraRules: readonly Rule[] = [],
  notes: (d: FieldReader) => string[] = () => []): EventDraft {
  return {
    id, name, what, cause,
    fields: [SSV, SSID, SID, STAG, STALL, pnu(), ind(), RNW, NSIPA, S2, CLASS, ...extra, IMPL_DEF,
      inputAddr(128), ipa(is('S2', 1n))],
    rules: [...SSV_RULES, IND_WRITE, NSIPA_S2, stage1Class('IN'), oasRule('IPA'), STALL_MODEL, ...extraRules],
    summary: (d) => {
      const n = notes(d);
      return `${name}: ${who(d)} ${access(d)} of IOVA ${hex(d.get('InputAddr'))} ${where(d)}` +
        `${n.length ? `; ${n.join(', ')}` : ''}, ${stall(d)}`;
    },
  };
}

DRAFTS.push(
  {
    id: 0x01, name: 'F_UUT', what: 'unsupported upstream transaction',
    cause: 'The client sent a transaction type the SMMU or its bus cannot handle (IMPLEMENTATION DEFINED)',
    fields: [SSV, SSID, SID, reason(79), pnu(true), ind(true), RNW, inputAddr(128)],
    rules: SSV_RULES,
    summary: (d) => `F_UUT: ${who(d)} unsupported ${access(d)} of ${hex(d.get('InputAddr'))}` +
      `, reason ${hex(d.get('Reason'))}`,
  },
  {
    id: 0x02, name: 'C_BAD_STREAMID', what: 'StreamID out of range',
    cause: 'The StreamID lies beyond the stream table (LOG2SIZE) or reaches an invalid L1STD; only with CR2.RECINVSID',
    fields: [SSV, SSID, SID],
    // SID_RANGE does not apply: reporting out-of-range StreamIDs is the point of this event.
    rules: [SSID_UNKNOWN, SSID_RANGE],
    summary: (d) => `C_BAD_STREAMID: ${who(d)} — the StreamID is outside the stream table ` +
      '(beyond LOG2SIZE, or its L1STD has Span 0 or too small)',
  },
  fetchEvent(0x03, 'F_STE_FETCH', 'STE',
    'Fetching the STE (or its L1STD) hit an external abort or an address beyond the output size'),
  badConfigEvent(0x04, 'C_BAD_STE', 'STE',
    'The STE used for the transaction has V == 0 or is ILLEGAL (reserved value, inconsistent configuration)'),
  {
    id: 0x05, name: 'F_BAD_ATS_TREQ', what: 'ATS Translation Request refused',
    cause: 'A PCIe ATS Translation Request arrived while the SMMU is disabled or the STE does not allow ATS (EATS)',
    fields: [
      SSV, SSID, SID,
      { name: 'Span', hi: 67, lo: 64, kind: 'uint', meaning: 'Number of STUs requested', show: (v) => `${v} STUs` },
      { name: 'P', aliases: ['priv'], hi: 92, lo: 92, kind: 'flag', meaning: 'Privileged access requested (before PRIVCFG)' },
      { name: 'X', aliases: ['exec'], hi: 93, lo: 93, kind: 'flag', meaning: 'Execute permission requested (before INSTCFG)' },
      { name: 'W', aliases: ['write'], hi: 94, lo: 94, kind: 'flag', meaning: 'Write permission requested (not NW)' },
      { name: 'R', aliases: ['read'], hi: 95, lo: 95, kind: 'flag', meaning: 'Read permission requested (always 1 for PCIe)' },
      inputAddr(140),
    ],
    rules: [...SSV_RULES, {
      id: 'ats-read',
      check: (d) => (d.get('R') === 0n
        ? warn('inconsistent', 'R', 'R is 0, but a PCIe ATS Translation Request always asks for read; expected R 1')
        : undefined),
    }],
    summary: (d) => {
      const perms = ['R', 'W', 'X', 'P'].filter((p) => d.get(p) === 1n).join('') || 'none';
      return `F_BAD_ATS_TREQ: ${who(d)} ATS Translation Request for ${hex(d.get('InputAddr'))} ` +
        `(${perms}, ${d.get('Span')} STUs) refused — ATS is off for this stream or the SMMU is disabled`;
    },
  },
  {
    id: 0x06, name: 'F_STREAM_DISABLED', what: 'non-substream traffic disabled',
    cause: 'A transaction without a SubstreamID (or with SubstreamID 0 under S1DSS 0b10) hit an STE whose S1DSS forbids it',
    fields: [SID],
    rules: [SID_RANGE],
    summary: (d) => `F_STREAM_DISABLED: SID ${num(d.get('StreamID'))} — transaction without a PASID (or with ` +
      'PASID 0 reserved by S1DSS) on a stream with substreams; STE.S1DSS forbids it',
  },
  {
    id: 0x07, name: 'F_TRANSL_FORBIDDEN', what: 'ATS-translated transaction refused',
    cause: 'An ATS Translated transaction arrived but the STE, the Security state, SMMUEN or the DPT forbids bypass',
    fields: [SID, RNW, inputAddr(128)],
    rules: [SID_RANGE],
    summary: (d) => `F_TRANSL_FORBIDDEN: SID ${num(d.get('StreamID'))} ATS-translated ` +
      `${d.get('RnW') === 1n ? 'read' : 'write'} of ${hex(d.get('InputAddr'))} refused — ` +
      'translated traffic is not allowed for this stream',
  },
  {
    id: 0x08, name: 'C_BAD_SUBSTREAMID', what: 'SubstreamID refused',
    cause: 'A SubstreamID arrived where stage 1 is off, substreams are disabled, it exceeds S1CDMax or hits an invalid L1CD',
    fields: [SSID_ALWAYS, SID],
    rules: [SID_RANGE],
    summary: (d) => `C_BAD_SUBSTREAMID: SID ${num(d.get('StreamID'))} SSID ${num(d.get('SubstreamID'))} — ` +
      'the STE does not accept this SubstreamID (no stage 1, S1CDMax too small or invalid L1CD)',
  },
  fetchEvent(0x09, 'F_CD_FETCH', 'CD',
    'Fetching the CD (or its L1CD) hit an external abort (or, in SMMUv3.0, an out-of-range address)'),
  badConfigEvent(0x0a, 'C_BAD_CD', 'CD', 'The fetched CD has V == 0 or is ILLEGAL'),
  {
    id: 0x0b, name: 'F_WALK_EABT', what: 'external abort on table walk',
    cause: 'Fetching or updating a translation table descriptor hit an external abort',
    fields: [SSV, SSID, SID, reason(79), GPCF, pnu(), ind(), RNW, NSIPA, S2, CLASS, inputAddr(128),
      fetchAddr('translation table descriptor')],
    rules: [...SSV_RULES, IND_WRITE, NSIPA_S2, stage1Class('TT'), oasRule('FetchAddr')],
    summary: (d) => `F_WALK_EABT: ${who(d)} ${access(d)} of IOVA ${hex(d.get('InputAddr'))} ${where(d, false)}: ` +
      `descriptor fetch of ${hex(d.get('FetchAddr'))} failed` +
      (d.get('GPCF') === 1n ? ' (granule protection check fault)' : ''),
  },
  translationEvent(0x10, 'F_TRANSLATION', 'translation fault',
    'No valid descriptor maps the address, or it is outside TxSZ or in a disabled TTBx (EPDx)'),
  translationEvent(0x11, 'F_ADDR_SIZE', 'address size fault',
    'A descriptor (or stage 1 bypass) produced an address beyond the stage\'s output size (IPS/S2PS or OAS)'),
  translationEvent(0x12, 'F_ACCESS', 'access flag fault',
    'The page or block descriptor has AF == 0 and hardware Access flag update is off'),
  translationEvent(0x13, 'F_PERMISSION', 'permission fault',
    'The descriptor does not permit the access (read/write/execute/privilege, overlay or AssuredOnly)',
    [
      {
        name: 'AssuredOnly', hi: 106, lo: 106, kind: 'flag', relevant: is('S2', 1n),
        meaning: 'Stage 2 fault caused only by the AssuredOnly check (S2PI)',
      },
      {
        name: 'DirtyBit', hi: 107, lo: 107, kind: 'flag',
        meaning: 'Indirect permissions: the write would have needed a dirty-state update, which is disabled',
      },
      {
        name: 'TTRnW', aliases: ['tt_read'], hi: 108, lo: 108, kind: 'flag', relevant: is('CLASS', 1n),
        meaning: 'CLASS TT: the stage 1 walk access that faulted at stage 2 was a read (1) or a write (0)',
      },
      {
        name: 'Overlay', hi: 109, lo: 109, kind: 'flag', relevant: is('S2', 1n),
        meaning: 'Stage 2 fault caused by the stage 2 overlay permission (S2PO)',
      },
    ],
    [stage2Only('Overlay', 'a stage 2 overlay denial'), stage2Only('AssuredOnly', 'the stage 2 AssuredOnly check')],
    (d) => {
      const n: string[] = [];
      if (d.get('CLASS') === 1n) n.push(`table walk ${d.get('TTRnW') === 1n ? 'read' : 'write'} denied`);
      if (d.get('Overlay') === 1n) n.push('overlay');
      if (d.get('AssuredOnly') === 1n) n.push('AssuredOnly');
      if (d.get('DirtyBit') === 1n) n.push('needs dirty-state update');
      return n;
    }),
  {
    id: 0x20, name: 'F_TLB_CONFLICT', what: 'TLB conflict',
    cause: 'The transaction hit overlapping or otherwise conflicting TLB entries (IMPLEMENTATION DEFINED)',
    fields: [SSV, SSID, SID, reason(95), pnu(), ind(), RNW, NSIPA, S2, inputAddr(128), ipa(is('S2', 1n))],
    rules: [...SSV_RULES, IND_WRITE, NSIPA_S2, oasRule('IPA')],
    summary: (d) => `F_TLB_CONFLICT: ${who(d)} ${access(d)} of IOVA ${hex(d.get('InputAddr'))}` +
      (d.get('S2') === 1n ? ` (IPA ${hex(d.get('IPA'))})` : '') +
      ` hit conflicting TLB entries, reason ${hex(d.get('Reason'))} — invalidate the overlapping mappings`,
  },
  {
    id: 0x21, name: 'F_CFG_CONFLICT', what: 'configuration cache conflict',
    cause: 'STE.CONT made cached STEs overlap one that is not identical, giving a multiple match',
    fields: [SSV, SSID, SID, reason(95)],
    rules: SSV_RULES,
    summary: (d) => `F_CFG_CONFLICT: ${who(d)} — configuration cache multiple match (STE.CONT covers ` +
      `STEs that differ), reason ${hex(d.get('Reason'))}`,
  },
  {
    id: 0x24, name: 'E_PAGE_REQUEST', what: 'page request hint',
    cause: 'A client hinted that it will soon access an address span, so software may page it in early',
    fields: [
      SSV, SSID, SID,
      { name: 'uX', hi: 97, lo: 97, kind: 'flag', meaning: 'Unprivileged execute expected' },
      { name: 'uW', hi: 98, lo: 98, kind: 'flag', meaning: 'Unprivileged write expected' },
      { name: 'uR', hi: 99, lo: 99, kind: 'flag', meaning: 'Unprivileged read expected' },
      { name: 'pX', hi: 101, lo: 101, kind: 'flag', meaning: 'Privileged execute expected' },
      { name: 'pW', hi: 102, lo: 102, kind: 'flag', meaning: 'Privileged write expected' },
      { name: 'pR', hi: 103, lo: 103, kind: 'flag', meaning: 'Privileged read expected' },
      {
        name: 'Span', hi: 115, lo: 108, kind: 'uint', meaning: 'Size of the span in 4 KB pages',
        show: (v) => `${v * 4n} KB`,
      },
      inputAddr(140),
    ],
    rules: [...SSV_RULES, {
      id: 'span-zero',
      check: (d) => (d.get('Span') === 0n
        ? warn('range', 'Span', 'Span is 0; it is a positive page count (size = Span x 4 KB), so at least 1')
        : undefined),
    }],
    summary: (d) => {
      const perms = ['pR', 'pW', 'pX', 'uR', 'uW', 'uX'].filter((p) => d.get(p) === 1n).join(' ') || 'no access';
      return `E_PAGE_REQUEST: ${who(d)} will access ${d.get('Span')} page(s) at ${hex(d.get('InputAddr'))} ` +
        `(${perms}) — a hint, no response needed`;
    },
  },
  fetchEvent(0x25, 'F_VMS_FETCH', 'VMS',
    'Fetching the Virtual Machine Structure named by the STE hit an external abort'),
);

// IMPLEMENTATION DEFINED events 0xE0-0xEF: the architecture says nothing about their contents.
for (let n = 0; n < 16; n++) {
  const id = 0xe0 + n;
  DRAFTS.push({
    id, name: `IMPDEF_EVENT${n}`, what: `IMPLEMENTATION DEFINED event ${hex(id)}`,
    cause: 'Defined by the implementation; Arm recommends treating it as non-fatal',
    fields: [
      { name: 'IMPDEF[63:8]', hi: 63, lo: 8, kind: 'reserved', reserved: 'IMPDEF', meaning: 'IMPLEMENTATION DEFINED' },
      { name: 'IMPDEF[127:64]', hi: 127, lo: 64, kind: 'reserved', reserved: 'IMPDEF', meaning: 'IMPLEMENTATION DEFINED' },
      { name: 'IMPDEF[191:128]', hi: 191, lo: 128, kind: 'reserved', reserved: 'IMPDEF', meaning: 'IMPLEMENTATION DEFINED' },
      { name: 'IMPDEF[255:192]', hi: 255, lo: 192, kind: 'reserved', reserved: 'IMPDEF', meaning: 'IMPLEMENTATION DEFINED' },
    ],
    summary: () => `IMPDEF_EVENT${n}: IMPLEMENTATION DEFINED event ${hex(id)}; see the SMMU's reference manual`,
  });
}

/** Every event number with its name, for the EventNumber field. */
const EVENT_NUMBERS: readonly EnumValue[] = DRAFTS.map((e) => ({ value: e.id, name: e.name, meaning: e.what }));

function build(e: EventDraft): EventLayout {
  const layout = defineLayout({
    kind: `event.${e.name}`,
    title: `${e.name} (${e.what})`,
    wordBits: 64,
    words: 4,
    fields: [eventNumber(EVENT_NUMBERS), ...e.fields],
    rules: [idRule(e.id, e.name), ...(e.rules ?? [])],
    summary: e.summary,
  });
  return { ...layout, id: e.id, name: e.name, cause: e.cause };
}

/** Every event record the architecture defines, by event number (IMPDEF_EVENT0..15 last). */
export const EVENTS: readonly EventLayout[] = DRAFTS.map(build);

const BY_ID = new Map(EVENTS.map((e) => [e.id, e]));

export function eventById(id: number): EventLayout | undefined {
  return BY_ID.get(id);
}

/** The Linux driver's EVT_ID_* names, where they differ from the architecture's. */
const LINUX_NAMES: Readonly<Record<string, string>> = {
  BAD_STREAMID_CONFIG: 'C_BAD_STREAMID',
  STE_FETCH_FAULT: 'F_STE_FETCH',
  BAD_STE_CONFIG: 'C_BAD_STE',
  STREAM_DISABLED_FAULT: 'F_STREAM_DISABLED',
  BAD_SUBSTREAMID_CONFIG: 'C_BAD_SUBSTREAMID',
  CD_FETCH_FAULT: 'F_CD_FETCH',
  BAD_CD_CONFIG: 'C_BAD_CD',
  TRANSLATION_FAULT: 'F_TRANSLATION',
  ADDR_SIZE_FAULT: 'F_ADDR_SIZE',
  ACCESS_FAULT: 'F_ACCESS',
  PERMISSION_FAULT: 'F_PERMISSION',
  VMS_FETCH_FAULT: 'F_VMS_FETCH',
};

/**
 * An event by name, case-insensitive: `F_TRANSLATION`, `evt_f_translation`, the driver's
 * `EVT_ID_TRANSLATION_FAULT`, or the name without its F_/C_/E_ prefix (`translation`).
 */
export function eventByName(name: string): EventLayout | undefined {
  const n = name.trim().toUpperCase().replace(/^EVT_ID_|^EVT_/, '');
  const linux = LINUX_NAMES[n];
  return EVENTS.find((e) => e.name === n || e.name === linux || e.name.replace(/^[FCE]_/, '') === n);
}

// ---------------------------------------------------------------------------------------
// Records with an undefined event number.

const unknownCache = new Map<number, Layout>();

/** All event numbers other than the ones above are reserved; show such a record raw. */
function unknownEventLayout(id: number): Layout {
  let layout = unknownCache.get(id);
  if (!layout) {
    const ignored = (hi: number, lo: number): FieldDraft => ({
      name: `UNKNOWN[${hi}:${lo}]`, hi, lo, kind: 'reserved', reserved: 'IGNORED',
      meaning: 'Not defined for this event number',
    });
    layout = defineLayout({
      kind: 'event.unknown',
      title: `unknown event ${hex(id)}`,
      wordBits: 64,
      words: 4,
      fields: [eventNumber(EVENT_NUMBERS), ignored(63, 8), ignored(127, 64), ignored(191, 128), ignored(255, 192)],
      rules: [{
        id: 'event-number',
        check: (d) => ({
          rule: 'reserved-value', field: 'EventNumber', severity: 'warning',
          message: `event number ${hex(d.get('EventNumber'))} is reserved: the architecture defines ` +
            '0x01-0x0b, 0x10-0x13, 0x20, 0x21, 0x24, 0x25 and IMPLEMENTATION DEFINED 0xe0-0xef; ' +
            'Arm recommends treating an unknown event as non-fatal',
        }),
      }],
      summary: (d) => `unknown event ${hex(id)}, word 0 ${hex(d.words[0] ?? 0n, 16)} — not an architected event number`,
    });
    unknownCache.set(id, layout);
  }
  return layout;
}

/** The layout for an event record, chosen by its event number (bits [7:0]). */
export function eventLayoutFor(words: readonly bigint[]): Layout {
  const id = Number(BigInt.asUintN(8, words[0] ?? 0n));
  return eventById(id) ?? unknownEventLayout(id);
}

/**
 * Build an event record from named fields, setting the event number from the name
 * (`encodeEvent('F_TRANSLATION', { sid: 5, rnw: 1, addr: 0x10000n, class: 'IN' })`).
 * Field names and aliases are those of the event's layout; unknown ones throw a FieldError.
 */
export function encodeEvent(name: string, fields: Readonly<Record<string, FieldInput>>): bigint[] {
  const layout = eventByName(name);
  if (!layout) {
    throw new FieldError(`unknown event '${name}'${didYouMean(name, EVENTS.map((e) => e.name))}; ` +
      `known: ${EVENTS.filter((e) => e.id < 0xe0).map((e) => e.name).join(', ')}, IMPDEF_EVENT0..15`);
  }
  const words = encode(layout, fields);
  const given = words[0] & 0xffn;
  if (given !== 0n && given !== BigInt(layout.id)) {
    throw new FieldError(`${layout.name}: EventNumber ${hex(given)} contradicts the event name (${hex(layout.id)})`);
  }
  return setField(layout, words, 'EventNumber', layout.id);
}

// ---------------------------------------------------------------------------------------
// PRI queue record (chapter 8): a PCIe Page Request, 2 qwords.

export const PRI_RECORD: Layout = defineLayout({
  kind: 'pri',
  title: 'PRI queue record (PCIe page request)',
  wordBits: 64,
  words: 2,
  fields: [
    { name: 'StreamID', aliases: ['sid'], hi: 31, lo: 0, kind: 'uint', meaning: 'StreamID of the requester (RequesterID in [15:0])' },
    {
      name: 'SubstreamID', aliases: ['ssid'], hi: 51, lo: 32, kind: 'uint', relevant: is('SSV', 1n),
      meaning: 'PASID of the request',
    },
    { name: 'Priv', aliases: ['perm_priv'], hi: 58, lo: 58, kind: 'flag', meaning: 'Privileged access requested' },
    { name: 'X', aliases: ['perm_exec', 'exec'], hi: 59, lo: 59, kind: 'flag', meaning: 'Execute permission requested' },
    { name: 'R', aliases: ['perm_read', 'read'], hi: 60, lo: 60, kind: 'flag', meaning: 'Read permission requested' },
    { name: 'W', aliases: ['perm_write', 'write'], hi: 61, lo: 61, kind: 'flag', meaning: 'Write permission requested' },
    { name: 'Last', aliases: ['prg_last', 'l'], hi: 62, lo: 62, kind: 'flag', meaning: 'Last request of its Page Request Group' },
    { name: 'SSV', aliases: ['ssid_v'], hi: 63, lo: 63, kind: 'flag', meaning: 'The request carried a PASID' },
    { name: 'PRGIndex', aliases: ['prg_idx', 'prgi'], hi: 72, lo: 64, kind: 'uint', meaning: 'Page Request Group index, echoed by CMD_PRI_RESP' },
    {
      name: 'PageAddress', aliases: ['addr', 'page_addr'], hi: 127, lo: 76, kind: 'address',
      meaning: 'Page the device asks to have mapped (bits [63:12])',
    },
  ],
  rules: [
    {
      id: 'ssid-unknown',
      check: (d) => (d.get('SSV') === 0n && d.get('SubstreamID') !== 0n
        ? warn('ignored', 'SubstreamID', `SubstreamID holds ${hex(d.get('SubstreamID'))} but SSV is 0, so it is ` +
          'UNKNOWN and must not be used; write 0 or set SSV')
        : undefined),
    },
    {
      id: 'no-pasid-perms',
      check: (d) => {
        if (d.get('SSV') !== 0n) return undefined;
        return (['X', 'Priv'] as const).filter((f) => d.get(f) === 1n).map((f) => warn('inconsistent', f,
          `${f} is 1 on a request without a PASID (SSV 0); the SMMU reports X and Priv as 0 then`));
      },
    },
    SSID_RANGE,
    SID_RANGE,
  ],
  summary: (d) => {
    const sid = `SID ${num(d.get('StreamID'))}`;
    const whoText = d.get('SSV') === 1n ? `${sid} SSID ${num(d.get('SubstreamID'))}` : sid;
    const prg = `PRG ${num(d.get('PRGIndex'))}`;
    // Last with no read or write and a PASID is the PCIe "Stop PASID" marker.
    if (d.get('SSV') === 1n && d.get('Last') === 1n && d.get('R') === 0n && d.get('W') === 0n) {
      return `${whoText} stop marker: the device has stopped using this PASID (${prg})`;
    }
    const perms = [['R', 'read'], ['W', 'write'], ['X', 'exec'], ['Priv', 'privileged']]
      .filter(([f]) => d.get(f) === 1n).map(([, w]) => w);
    return `${whoText} page request for ${hex(d.get('PageAddress'))} (${perms.join(', ') || 'no access'}), ${prg}` +
      (d.get('Last') === 1n ? ', last — answer the group with CMD_PRI_RESP' : '');
  },
});
