/**
 * The Linux arm-smmu-v3 entry writer (`arm_smmu_write_entry`), generic over STEs and CDs.
 *
 * The SMMU reads an entry with at least 64-bit single-copy atomicity, but an entry is
 * eight qwords. The kernel therefore changes an entry in steps, each made of 64-bit
 * WRITE_ONCE stores followed by a sync (CFGI_STE/CFGI_CD + CMD_SYNC), so the SMMU never
 * uses a mix of the old and new configuration. It relies on the architecture's IGNORED
 * rule: bits the current configuration does not use may change at any time.
 *
 * - Per qword, `unused_update` = the current value in the bits the current entry uses
 *   (minus the "update-safe" bits), the target's value elsewhere. A qword is critical when
 *   `unused_update` still differs from the target in bits the target uses.
 * - One critical qword: hitless. Write `unused_update` (except the critical qword), then
 *   the critical qword (the atomic switch), then the whole target (clearing bits that are
 *   now unused).
 * - Two or more: breaking. qword 0 = 0 (V=0), then qwords 1..7, then qword 0.
 * - None: write the target (only unused or update-safe bits differ).
 * Each step writes only the qwords that change, in ascending order, and syncs only when it
 * wrote something.
 *
 * The used-bits rules are the kernel's (`arm_smmu_get_ste_used`, `arm_smmu_get_cd_used`,
 * `arm_smmu_get_ste_update_safe`), with masks taken from the format tables by field name.
 * The tables follow the specification, whose S1ContextPtr, S2TTB and TTB0 reach bit 55 of
 * their qword where the kernel's masks stop at bit 51; with addresses below 2^52 (all the
 * kernel builds) the results are the same.
 */
import { fieldValue, requireField } from '../arch/codec';
import { CD } from '../arch/cd';
import { bitsInWord, Layout, mask, wordOf } from '../arch/field';
import { STE } from '../arch/ste';
import { Action, frame, writeOnce64 } from './ops';

/** How one kind of entry is used by the SMMU: the writer's `arm_smmu_entry_writer_ops`. */
export interface EntryKind {
  readonly name: 'STE' | 'CD';
  /** The bits the SMMU reads for this entry's configuration, per qword. */
  used(words: readonly bigint[]): bigint[];
  /**
   * Bits that may change in any order even though both entries use them (STE only); they
   * count only where both the current and the target entry use the bit.
   */
  updateSafe?(cur: readonly bigint[], target: readonly bigint[]): bigint[];
}

/** Per word of `layout`, the bits the named fields occupy. */
export function fieldsMask(layout: Layout, names: readonly string[]): bigint[] {
  const m: bigint[] = new Array<bigint>(layout.words).fill(0n);
  for (const name of names) {
    const f = requireField(layout, name);
    const [hi, lo] = bitsInWord(layout, f);
    m[wordOf(layout, f)] |= mask(hi - lo + 1) << BigInt(lo);
  }
  return m;
}

function orInto(acc: bigint[], add: readonly bigint[]): void {
  for (let i = 0; i < acc.length; i++) acc[i] |= add[i] ?? 0n;
}

const zeros = (n: number): bigint[] => new Array<bigint>(n).fill(0n);

const get = (layout: Layout, words: readonly bigint[], name: string): bigint =>
  fieldValue(layout, words, requireField(layout, name));

/** A field's encoding of a named value, in place (the kernel's FIELD_PREP), per word. */
function valueBits(layout: Layout, field: string, value: string): bigint[] {
  const f = requireField(layout, field);
  const e = f.values?.find((v) => v.name === value);
  if (!e) throw new Error(`${layout.title}.${field} has no value ${value}`);
  const out = zeros(layout.words);
  out[wordOf(layout, f)] = BigInt(e.value) << BigInt(bitsInWord(layout, f)[1]);
  return out;
}

// ---------------------------------------------------------------------------------------
// STE

const STE_M = {
  valid: fieldsMask(STE, ['V']),
  config: fieldsMask(STE, ['Config']),
  s1: fieldsMask(STE, [
    'S1Fmt', 'S1ContextPtr', 'S1CDMax',
    'S1DSS', 'S1CIR', 'S1COR', 'S1CSH', 'S1STALLD', 'STRW', 'EATS', 'MEV',
    'S2VMID',
  ]),
  s2: fieldsMask(STE, [
    'S2FWB', 'EATS', 'SHCFG', 'MEV',
    'S2VMID', 'S2T0SZ', 'S2SL0', 'S2IR0', 'S2OR0', 'S2SH0', 'S2TG', 'S2PS',
    'S2AA64', 'S2ENDI', 'S2PTW', 'S2S', 'S2R',
    'S2TTB',
  ]),
  shcfg: fieldsMask(STE, ['SHCFG']),
  mev: fieldsMask(STE, ['MEV']),
  s2s: fieldsMask(STE, ['S2S']),
  eatsTrans: valueBits(STE, 'EATS', 'TRANS'),
  eatsS1chk: valueBits(STE, 'EATS', 'S1CHK'),
};
const CFG = { BYPASS: 4n, S1_BIT: 1n, S2_BIT: 2n };
const S1DSS_BYPASS = 1n;

/**
 * STE rules, as the newest kernel (`arm_smmu_get_ste_used`, `arm_smmu_get_ste_update_safe`).
 * Used: V always; with V=1 also Config; Config bit 0 (stage 1): the CD table fields, S1DSS,
 * the CD fetch attributes, S1STALLD, STRW, EATS, MEV and S2VMID (stage-1-only EL1 TLB
 * entries are VMID-tagged), plus SHCFG when S1DSS=BYPASS; Config bit 1 (stage 2): S2FWB,
 * EATS, SHCFG, MEV and qwords 2-3's stage-2 fields; BYPASS: SHCFG. Like the kernel, the
 * reserved Config values are read by their bits.
 * Update-safe: MEV always (it only merges fault records, which software must cope with
 * anyway); the EATS=TRANS value bit unless either entry has EATS's S1CHK bit or S2S set
 * (the attach code turns ATS off at the device before changing EATS; S2S=1 with EATS!=0 is
 * ILLEGAL, and a transient EATS=0b11 would be a wrong configuration).
 */
export const STE_KIND: EntryKind = {
  name: 'STE',
  used(words) {
    const used = [...STE_M.valid];
    if (get(STE, words, 'V') === 0n) return used;
    orInto(used, STE_M.config);
    const cfg = get(STE, words, 'Config');
    if ((cfg & CFG.S1_BIT) !== 0n) {
      orInto(used, STE_M.s1);
      if (get(STE, words, 'S1DSS') === S1DSS_BYPASS) orInto(used, STE_M.shcfg);
    }
    if ((cfg & CFG.S2_BIT) !== 0n) orInto(used, STE_M.s2);
    if (cfg === CFG.BYPASS) orInto(used, STE_M.shcfg);
    return used;
  },
  updateSafe(cur, target) {
    const safe = zeros(STE.words);
    const either = (i: number): bigint => (cur[i] ?? 0n) | (target[i] ?? 0n);
    const s1chk = STE_M.eatsS1chk.some((m, i) => (either(i) & m) !== 0n);
    const s2s = STE_M.s2s.some((m, i) => (either(i) & m) !== 0n);
    if (!s1chk && !s2s) orInto(safe, STE_M.eatsTrans);
    orInto(safe, STE_M.mev);
    return safe;
  },
};

// ---------------------------------------------------------------------------------------
// CD

const CD_M = {
  valid: fieldsMask(CD, ['V']),
  epd0: fieldsMask(CD, ['EPD0']),
  ttb0Walk: fieldsMask(CD, ['T0SZ', 'TG0', 'IR0', 'OR0', 'SH0', 'TTB0']),
};

/**
 * CD rules, as the kernel (`arm_smmu_get_cd_used`): with V=0 only V is used; otherwise all
 * 64 bytes, except that EPD0=1 makes T0SZ, TG0, IR0, OR0, SH0 and TTB0 unused. No
 * update-safe bits.
 */
export const CD_KIND: EntryKind = {
  name: 'CD',
  used(words) {
    if (get(CD, words, 'V') === 0n) return [...CD_M.valid];
    const used = new Array<bigint>(CD.words).fill(mask(CD.wordBits));
    if (get(CD, words, 'EPD0') !== 0n) {
      for (let i = 0; i < used.length; i++) used[i] &= ~CD_M.ttb0Walk[i];
    }
    return used;
  },
};

const LAYOUT: Record<EntryKind['name'], Layout> = { STE, CD };

// ---------------------------------------------------------------------------------------
// The algorithm

/** What a step does, for the trace. */
export type StepRole =
  /** Hitless, first step: bits the current entry ignores take their new values. */
  | 'unused'
  /** Hitless: the single 64-bit store that switches the configuration. */
  | 'critical'
  /** Hitless, last step: bits the target ignores are cleared to the target's values. */
  | 'cleanup'
  /** Breaking: qword 0 = 0, the entry is invalid (V=0). */
  | 'invalidate'
  /** Breaking: qwords 1..7 = target while V=0. */
  | 'fill'
  /** Breaking: qword 0 = target, V=1 again. */
  | 'validate'
  /** No used bit changes: the target written at once. */
  | 'whole';

export interface UpdateStep {
  /** The whole entry after this step. */
  readonly words: bigint[];
  /** The qwords this step writes (ascending). */
  readonly qwords: number[];
  readonly role: StepRole;
}

export interface UpdatePlan {
  /** hitless: one critical qword; breaking: several (V=0 in between); unchanged: none. */
  readonly path: 'hitless' | 'breaking' | 'unchanged';
  /** The qwords whose used bits must change after the unused bits are updated. */
  readonly critical: number[];
  /** The entry states written, each followed by a sync; steps that change nothing are left out. */
  readonly steps: UpdateStep[];
}

/** Thrown where the kernel WARNs: a target sets bits its own used-bits rules do not list. */
export class EntryWarning extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EntryWarning';
  }
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);

/** The names of the fields that hold `bits` of qword `word`. */
function fieldsAt(layout: Layout, word: number, bits: bigint): string[] {
  return layout.fields.filter((f) => {
    if (wordOf(layout, f) !== word) return false;
    const [hi, lo] = bitsInWord(layout, f);
    return ((mask(hi - lo + 1) << BigInt(lo)) & bits) !== 0n;
  }).map((f) => f.name);
}

function checkWords(kind: EntryKind, what: string, words: readonly bigint[]): void {
  const layout = LAYOUT[kind.name];
  if (words.length !== layout.words) throw new Error(`${kind.name} ${what} must have ${layout.words} qwords, not ${words.length}`);
}

/**
 * The sequence of entry states `arm_smmu_write_entry` writes to turn `cur` into `target`
 * (pure: no memory is touched). Throws an EntryWarning where the kernel WARNs.
 */
export function planUpdate(kind: EntryKind, cur: readonly bigint[], target: readonly bigint[]): UpdatePlan {
  checkWords(kind, 'current entry', cur);
  checkWords(kind, 'target', target);
  const n = cur.length;
  const curUsed = kind.used(cur);
  const targetUsed = kind.used(target);
  const safe = kind.updateSafe?.(cur, target) ?? zeros(n);
  const unusedUpdate = zeros(n);
  const critical: number[] = [];
  for (let i = 0; i < n; i++) {
    const stray = target[i] & ~targetUsed[i];
    if (stray !== 0n) {
      throw new EntryWarning(`${kind.name} target qword ${i} sets bits ${hex(stray)} ` +
        `(${fieldsAt(LAYOUT[kind.name], i, stray).join(', ')}) that its own configuration does not use; ` +
        'the kernel WARNs here (the builder and the used-bits rules disagree) and the bits would never be cleaned up');
    }
    // Safe bits relax only bits both entries use; otherwise the unused side already frees them.
    const pinned = curUsed[i] & ~(safe[i] & targetUsed[i] & curUsed[i]);
    unusedUpdate[i] = (cur[i] & pinned) | (target[i] & ~pinned);
    if ((unusedUpdate[i] & targetUsed[i]) !== target[i]) critical.push(i);
  }

  const entry = [...cur];
  const steps: UpdateStep[] = [];
  // The kernel's entry_set(): store the qwords of [start, start+len) that differ.
  const set = (from: readonly bigint[], start: number, len: number, role: StepRole): void => {
    const qwords: number[] = [];
    for (let i = start; i < start + len; i++) {
      if (entry[i] !== from[i]) {
        entry[i] = from[i];
        qwords.push(i);
      }
    }
    if (qwords.length) steps.push({ words: [...entry], qwords, role });
  };

  if (critical.length === 1) {
    const c = critical[0];
    // The critical qword is written in the next step anyway: keeping it saves a sync.
    unusedUpdate[c] = entry[c];
    set(unusedUpdate, 0, n, 'unused');
    set(target, c, 1, 'critical');
    set(target, 0, n, 'cleanup');
    return { path: 'hitless', critical, steps };
  }
  if (critical.length > 1) {
    unusedUpdate[0] = 0n;
    set(unusedUpdate, 0, 1, 'invalidate');
    set(target, 1, n - 1, 'fill');
    set(target, 0, 1, 'validate');
    return { path: 'breaking', critical, steps };
  }
  set(target, 0, n, 'whole');
  return { path: 'unchanged', critical, steps };
}

/** What the writer needs from its caller: the CPU's view of memory and the sync hook. */
export interface EntryWriterContext {
  /** The CPU's view of the qword at `addr`. */
  read(addr: number): bigint;
  /** The kind's sync: CFGI_STE / CFGI_CD for every stream, then CMD_SYNC. */
  sync(): Action;
}

export interface WriteResult {
  readonly path: UpdatePlan['path'];
  readonly critical: number[];
  /** Syncs issued (one per step). */
  readonly syncs: number;
  /** 64-bit stores made. */
  readonly writes: number;
}

const ROLE_TEXT: Record<StepRole, string> = {
  unused: 'bits the current entry ignores',
  critical: 'critical qword',
  cleanup: 'clear bits the target ignores',
  invalidate: 'V=0',
  fill: 'while V=0',
  validate: 'V=1',
  whole: 'no used bit changes',
};

function decisionText(kind: EntryKind, plan: UpdatePlan): string {
  switch (plan.path) {
    case 'hitless':
      return `hitless update: critical qword ${plan.critical[0]}`;
    case 'breaking':
      return `breaking update: qwords ${plan.critical.join(', ')} change used bits, so the ${kind.name} is made invalid (V=0) first`;
    case 'unchanged':
      return plan.steps.length
        ? `no used bit changes: qword${plan.steps[0].qwords.length > 1 ? 's' : ''} ${plan.steps[0].qwords.join(', ')} written at once`
        : `no change: the ${kind.name} already holds the target`;
  }
}

/**
 * `arm_smmu_write_entry`: dma_wmb() (so tables the entry points at are visible first),
 * then each step of `planUpdate` as WRITE_ONCE stores in ascending qword order, each step
 * followed by the kind's sync.
 */
export function* writeEntry(kind: EntryKind, addr: number, target: readonly bigint[], ctx: EntryWriterContext): Action<WriteResult> {
  return yield* frame('arm_smmu_write_entry', writeBody(kind, addr, target, ctx), `${kind.name} at ${hex(addr)}`);
}

function* writeBody(kind: EntryKind, addr: number, target: readonly bigint[], ctx: EntryWriterContext): Action<WriteResult> {
  yield { op: 'barrier', kind: 'dma_wmb' };
  const cur = Array.from({ length: LAYOUT[kind.name].words }, (_, i) => ctx.read(addr + 8 * i));
  const plan = planUpdate(kind, cur, target);
  yield { op: 'note', text: decisionText(kind, plan) };
  let writes = 0;
  for (const step of plan.steps) {
    for (const i of step.qwords) {
      yield* writeOnce64(addr + 8 * i, step.words[i], `${kind.name} qword ${i} (${ROLE_TEXT[step.role]})`);
      writes++;
    }
    yield* ctx.sync();
  }
  return { path: plan.path, critical: plan.critical, syncs: plan.steps.length, writes };
}

/** The bits of an STE or CD its own configuration uses, as the kernel's writer computes them (the checker's used-bits view). */
export function planUsedBits(kind: 'ste' | 'cd', words: readonly bigint[]): bigint[] {
  return (kind === 'ste' ? STE_KIND : CD_KIND).used(words);
}
