/**
 * The vocabulary of the format tables. Every SMMUv3 structure, command, event record,
 * register and translation-table descriptor is described by one `Layout`: a list of
 * fields with their bit ranges, meanings and named values, plus the rules the
 * architecture attaches to them. Decode, encode, validate, describe, hover text and tree
 * children are all derived from these tables (see codec.ts); nothing else knows bit
 * positions.
 *
 * Bit positions are absolute within the structure, as the architecture numbers them
 * (STE.S1DSS is bits [65:64]), so a table reads like the specification. A field never
 * crosses a word boundary; `wordOf`/`bitsInWord` give the kernel's per-qword view
 * (STRTAB_STE_1_S1DSS is qword 1, bits [1:0]).
 */

/** A named value of an enumerated field. */
export interface EnumValue {
  readonly value: number;
  /** Short name, in the kernel's or the architecture's spelling (`S1_TRANS`, `WBRA`). */
  readonly name: string;
  /** What the value means, one line. */
  readonly meaning: string;
  /** The architecture reserves this value (using it is a problem: a warning). */
  readonly reserved?: boolean;
  /** Using this value makes the structure ILLEGAL (an error). Implies reserved. */
  readonly illegal?: boolean;
}

/** How a field's bits are to be read. */
export type FieldKind =
  /** An unsigned number. */
  | 'uint'
  /** A single bit with a yes/no meaning. */
  | 'flag'
  /** An enumerated value; see `values`. */
  | 'enum'
  /**
   * An address held in place: the field's bits are the address's bits at the same
   * positions (S1ContextPtr [55:6] holds PA[55:6]). Its value is the address itself,
   * with the bits below the field zero.
   */
  | 'address'
  /** Bits the architecture reserves: RES0 unless `reserved` says otherwise. */
  | 'reserved';

export type ReservedKind = 'RES0' | 'RES1' | 'IGNORED' | 'IMPDEF' | 'SOFTWARE';

export interface FieldSpec {
  /** The architecture's name (`S1ContextPtr`); reserved ranges are named by their bits. */
  readonly name: string;
  /** Other names users type, e.g. the kernel's (`s1ctxptr`). Matched case-insensitively. */
  readonly aliases?: readonly string[];
  /** Most significant bit, absolute within the structure. */
  readonly hi: number;
  /** Least significant bit, absolute within the structure. */
  readonly lo: number;
  readonly kind: FieldKind;
  /** One line: what the field controls. */
  readonly meaning: string;
  /** Named values (for `enum`, and optionally for `uint`/`flag`). */
  readonly values?: readonly EnumValue[];
  /** For `reserved` fields: which kind of reservation (default RES0). */
  readonly reserved?: ReservedKind;
  /** When the field is used; fields that are not relevant are IGNORED by the SMMU. */
  readonly relevant?: (d: FieldReader) => boolean;
  /** A short note on how the value is interpreted, shown after the value (e.g. `2^n CDs`). */
  readonly show?: (value: bigint, d: FieldReader) => string;
}

/** Read access to the fields of a decoded structure, used by rules and summaries. */
export interface FieldReader {
  /** The field's value; for `address` fields, the address. Throws on an unknown name. */
  get(name: string): bigint;
  /** The same, as a number (exact for values below 2^53). */
  num(name: string): number;
  /** The raw words. */
  readonly words: readonly bigint[];
  /** Features of the SMMU the structure belongs to, when known. */
  readonly ctx: ArchContext;
}

/** What is known about the SMMU a structure belongs to; rules use what is present. */
export interface ArchContext {
  /** Output address size in bits (IDR5.OAS). */
  readonly oas?: number;
  /** Stage 1 / stage 2 implemented (IDR0.S1P / S2P). */
  readonly s1p?: boolean;
  readonly s2p?: boolean;
  /** SubstreamID bits (IDR1.SSIDSIZE). */
  readonly ssidSize?: number;
  /** StreamID bits (IDR1.SIDSIZE). */
  readonly sidSize?: number;
  /** Two-level CD tables supported (IDR0.CD2L). */
  readonly cd2l?: boolean;
  /** Translation granules supported (IDR5.GRAN4K/16K/64K). */
  readonly granules?: readonly Granule[];
  /** 16-bit ASIDs / VMIDs (IDR0.ASID16 / VMID16). */
  readonly asid16?: boolean;
  readonly vmid16?: boolean;
  /** Stall model (IDR0.STALL_MODEL): 0 both, 1 no stall, 2 forced stall. */
  readonly stallModel?: number;
  /** ATS supported (IDR0.ATS). */
  readonly ats?: boolean;
  /** Hypervisor stage 1 contexts (IDR0.HYP) and E2H (CR2.E2H). */
  readonly hyp?: boolean;
  readonly e2h?: boolean;
  /** Hardware update of Access flag / dirty state (IDR0.HTTU: 0 none, 1 A, 2 A+D). */
  readonly httu?: number;
  /** Small translation tables (IDR3.STT): T0SZ up to 48/47 instead of 39. */
  readonly stt?: boolean;
  /** 52-bit VA (IDR5.VAX == 1). */
  readonly vax?: boolean;
  /** Range invalidation (IDR3.RIL). */
  readonly ril?: boolean;
  /** Translation table endianness support (IDR0.TTENDIAN: 0 mixed, 2 LE only, 3 BE only). */
  readonly ttendian?: number;
  /** IDR0.ST_LEVEL == 0b01: 2-level stream tables. */
  readonly stLevel2?: boolean;
  readonly pri?: boolean;
  readonly msi?: boolean;
  readonly btm?: boolean;
  readonly cohacc?: boolean;
  readonly atos?: boolean;
  readonly vatos?: boolean;
  /** IDR0.VMW: VMID wildcards for TLB invalidation (CR0.VMW). */
  readonly vmw?: boolean;
  readonly atsrecerr?: boolean;
  readonly dormhint?: boolean;
  /** IDR0.TTF: 1 AArch32 LPAE, 2 AArch64, 3 both. */
  readonly ttf?: number;
  /** IDR1.CMDQS / EVENTQS / PRIQS: largest queue LOG2SIZE. */
  readonly cmdqs?: number;
  readonly eventqs?: number;
  readonly priqs?: number;
  readonly ecmdq?: boolean;
  readonly attrTypesOvr?: boolean;
  readonly attrPermsOvr?: boolean;
  /** IDR3.DPT: Device Permission Table. */
  readonly dpt?: boolean;
  /** The queues' programmed LOG2SIZE (from the *_BASE registers), for PROD/CONS index/wrap. */
  readonly queueLog2Size?: { readonly cmdq?: number; readonly eventq?: number; readonly priq?: number };
  /** Input address size in bits: the OAS, or max(40, OAS) with VMSAv8-32 support; bounds IPAs at stage 2. */
  readonly ias?: number;
  /** IDR5.DS: 52-bit addresses with 4K/16K granules (LPA2), and the extra TLBI SCALE bit. */
  readonly ds?: boolean;
  /** IDR5.D128: VMSAv9-128 translation tables. */
  readonly d128?: boolean;
  /** IDR0.TERM_MODEL: 1 = terminate always aborts (CD.A must be 1). */
  readonly termModel?: number;
  /** IDR0.SEV: CMD_SYNC can signal WFE wake-up. */
  readonly sev?: boolean;
  /** IDR3.MPAM / FWB / PBHA / S2PI / S2PO / NS1ATS features. */
  readonly mpam?: boolean;
  readonly fwb?: boolean;
  readonly pbha?: boolean;
  readonly s2pi?: boolean;
  readonly s2po?: boolean;
  /** IDR0.NS1ATS itself: true means split-stage ATS is NOT supported. */
  readonly ns1ats?: boolean;
  /** STRTAB_BASE_CFG.SPLIT in use (2-level stream tables), for L1STD.Span checks. */
  readonly split?: number;
}

export type Granule = 4 | 16 | 64;

export type Severity = 'error' | 'warning';

/** One thing wrong with a structure. */
export interface Problem {
  /** The field at fault, when there is one. */
  readonly field?: string;
  /** A stable id for the kind of rule broken (`res0`, `reserved-value`, `align`, `range`, `illegal`). */
  readonly rule: string;
  readonly severity: Severity;
  readonly message: string;
}

/** A check beyond what the field list implies (reserved bits and values are checked generically). */
export interface Rule {
  readonly id: string;
  /** Returns nothing when the structure satisfies the rule. */
  readonly check: (d: FieldReader) => Problem | readonly Problem[] | undefined;
}

export interface Layout {
  /** Short id used on the command line and in expressions (`ste`, `cd`, `cmd.CFGI_STE`). */
  readonly kind: string;
  /** What the structure is called (`Stream Table Entry`). */
  readonly title: string;
  /** Width of one word: 64 for memory structures, 32 or 64 for registers. */
  readonly wordBits: 32 | 64;
  readonly words: number;
  readonly fields: readonly FieldSpec[];
  readonly rules?: readonly Rule[];
  /** One line saying what the structure does. */
  readonly summary?: (d: FieldReader) => string;
}

/** The word that holds a field. */
export function wordOf(layout: Layout, f: FieldSpec): number {
  return Math.floor(f.lo / layout.wordBits);
}

/** The field's bit range within its word, as `[hi, lo]`. */
export function bitsInWord(layout: Layout, f: FieldSpec): [number, number] {
  const base = wordOf(layout, f) * layout.wordBits;
  return [f.hi - base, f.lo - base];
}

export function fieldWidth(f: FieldSpec): number {
  return f.hi - f.lo + 1;
}

/** `[hi:lo]`, or `[n]` for one bit. */
export function bitRangeText(hi: number, lo: number): string {
  return hi === lo ? `[${hi}]` : `[${hi}:${lo}]`;
}

export function mask(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}

/** A field as written in a table, before `defineLayout` fills the gaps. */
export type FieldDraft = FieldSpec;

/**
 * Build a layout from its named fields: sorts them, checks that none overlaps another or
 * crosses a word boundary, and fills every bit no field covers with a RES0 range, so a
 * table lists only what the architecture names and still accounts for every bit.
 * Throws on a malformed table (a programming error, caught by the table tests).
 */
export function defineLayout(draft: Omit<Layout, 'fields'> & { fields: readonly FieldDraft[] }): Layout {
  const total = draft.words * draft.wordBits;
  const sorted = [...draft.fields].sort((a, b) => a.lo - b.lo);
  const fields: FieldSpec[] = [];
  let next = 0;
  const gap = (from: number, to: number): void => {
    // One RES0 range per word, so no range crosses a word boundary.
    for (let lo = from; lo <= to;) {
      const wordEnd = (Math.floor(lo / draft.wordBits) + 1) * draft.wordBits - 1;
      const hi = Math.min(to, wordEnd);
      fields.push({ name: `RES0${bitRangeText(hi, lo)}`, hi, lo, kind: 'reserved', reserved: 'RES0', meaning: 'Reserved, RES0' });
      lo = hi + 1;
    }
  };
  for (const f of sorted) {
    if (f.hi < f.lo) throw new Error(`${draft.kind}.${f.name}: hi ${f.hi} < lo ${f.lo}`);
    if (f.lo < next) throw new Error(`${draft.kind}.${f.name} ${bitRangeText(f.hi, f.lo)} overlaps the field before it`);
    if (f.hi >= total) throw new Error(`${draft.kind}.${f.name} ${bitRangeText(f.hi, f.lo)} lies beyond ${total} bits`);
    if (Math.floor(f.hi / draft.wordBits) !== Math.floor(f.lo / draft.wordBits)) {
      throw new Error(`${draft.kind}.${f.name} ${bitRangeText(f.hi, f.lo)} crosses a word boundary`);
    }
    if (f.kind === 'enum' && !f.values?.length) throw new Error(`${draft.kind}.${f.name}: enum without values`);
    if (f.lo > next) gap(next, f.lo - 1);
    fields.push(f);
    next = f.hi + 1;
  }
  if (next < total) gap(next, total - 1);
  const names = new Set<string>();
  for (const f of fields) {
    for (const n of [f.name, ...(f.aliases ?? [])]) {
      const k = n.toLowerCase();
      if (names.has(k)) throw new Error(`${draft.kind}: field name '${n}' is used twice`);
      names.add(k);
    }
  }
  return { ...draft, fields };
}
