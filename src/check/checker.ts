/**
 * The hazard checker: follows a run operation by operation and asks, at each point, what
 * the SMMU *could* observe — not just what this run's SMMU happened to read.
 *
 *  - After each CPU step, for every stream in use by background traffic, each entry on its
 *    translation path (L1STD, STE, L1CD, CD, each table descriptor) that has stores the SMMU
 *    may not have seen is judged value by value: the SMMU's outcome with that value must be
 *    the outcome with the old entry or with the new one (`torn-update`).
 *  - When the SMMU is told to look (a CMD_SYNC completing invalidations, a doorbell, enabling,
 *    a store that makes new tables reachable), what it reads must be at PoC (`stale-fetch`),
 *    cleans must be complete (`cmo-incomplete`) and ordered stores ordered (`missing-barrier`).
 *  - Uses of cached configuration and translations are compared with memory (`stale-cache`);
 *    frees with what is reachable or cached (`table-reuse`, `sync-missing`); invalidate CMOs
 *    with live data (`lost-dirty`); ignored register writes (`illegal-reprogram`).
 *  - A store that changes a valid translation of a reachable page table leaves it pending
 *    until a TLBI covering it is completed by a CMD_SYNC: the SMMU could have cached it even
 *    if this run's traffic never did (`missing-tlbi`, missing-tlbi.ts). It is reported once, at
 *    the first of: a DMA in a later statement that walks through the changed entry and gets
 *    something else than the old entry gives; a store re-mapping the entry to another
 *    translation; a free or allocation of the old output range (or old table); the end. When
 *    this run's TLB does hold the translation, `stale-cache` reports it instead (with the DMA
 *    that uses it), and neither rule reports an item the other already has; an item covered
 *    by TLBIs that only wait for their CMD_SYNC is `sync-missing`'s at a free and at the end.
 */
import { decode, findField, hex } from '../arch/codec';
import { commandByName } from '../arch/commands';
import { CD } from '../arch/cd';
import { descriptorType, pteLayoutFor } from '../arch/pte';
import { Layout, mask } from '../arch/field';
import { STE } from '../arch/ste';
import { GRANULE } from '../model/history';
import { Machine, Tagged } from '../model/machine';
import { TranslateResult } from '../model/smmu/smmu';
import { tlbiCommandFrom } from '../model/smmu/tlb';
import { Transaction } from '../model/smmu/types';
import { KhoRules } from './kho';
import { MissingTlbi } from './missing-tlbi';
import { observable, torn } from './observable';
import { contextsOf, Reachability, ReachableTable } from './reach';
import { HazardSeverity, ruleInfo } from './rules';

export interface Hazard {
  readonly rule: string;
  readonly severity: HazardSeverity;
  readonly title: string;
  /** The statement (step index) during which it was found; -1 outside any. */
  readonly step: number;
  /** The micro-operation after which it was found. */
  readonly op: number;
  readonly message: string;
  /** The entry concerned, when there is one. */
  readonly entry?: { readonly kind: string; readonly addr: number; readonly description: string };
  /** For torn updates: the mixed value (qwords). */
  readonly values?: readonly bigint[];
  /** Identity for de-duplication. */
  readonly key: string;
}

export interface CheckOptions {
  /** Most values judged per entry; beyond it the set is reported as truncated (`set-bound`). */
  readonly bound: number;
  /**
   * The driver's used-bits function (the kernel's entry writer), for the "used-bits view"
   * of torn STEs/CDs; without it that view is left out.
   */
  readonly usedBits?: (kind: 'ste' | 'cd', words: readonly bigint[]) => bigint[];
  /**
   * The driver's update-safe bits between two entries (the kernel's `get_update_safe`): bits
   * both use that may change in any order. The used-bits view ignores them, as the kernel does.
   */
  readonly updateSafe?: (kind: 'ste' | 'cd', cur: readonly bigint[], target: readonly bigint[]) => readonly bigint[];
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = { bound: 4096 };

/** What the checker follows: the machine of the run, where the run is, which streams are in use. */
export interface CheckHost {
  /** The run's machine (it may be replaced when the run is restored). */
  readonly machine: Machine;
  /** The statement being executed (-1 outside any) and the micro-operation count. */
  readonly step: number;
  readonly op: number;
  /** Transactions of the background traffic in use now. */
  traffic(): Iterable<Transaction>;
  /** A line for the run's trace. */
  note(text: string): void;
  /** Where a statement is, for messages that point back at an earlier one ("line 12"). */
  where?(step: number): string;
}

/** Is this value of an entry invalid in itself (V=0, or an invalid descriptor)? */
function invalidEntry(kind: PathEntry['kind'], v: readonly bigint[]): boolean {
  switch (kind) {
    case 'ste': return (v[0] & 1n) === 0n;
    case 'cd': return ((v[0] >> 31n) & 1n) === 0n;
    case 'l1std': return (v[0] & 0x1fn) === 0n;
    case 'l1cd':
    case 'pte': return (v[0] & 1n) === 0n;
  }
}

function txKey(tx: Transaction): string {
  return `${tx.sid}:${tx.ssid ?? ''}:${tx.iova}:${tx.access}:${tx.priv}`;
}

/**
 * The regime a translation is tagged with in the TLB: the VMID (stage 2, or STE.S2VMID for a
 * stage-1 EL1 stream) and the ASID (the CD's), from the STE and CD the translation used.
 */
function regimeOf(r: TranslateResult): { vmid?: number; asid?: number } {
  if (r.outcome !== 'ok') return {};
  const ste = r.config.find((c) => c.what === 'ste')?.words;
  const cd = r.config.find((c) => c.what === 'cd')?.words;
  if (!ste) return {};
  const s2 = ((ste[0] >> 2n) & 1n) === 1n; // Config[1]
  const el1 = ((ste[1] >> 30n) & 3n) === 0n; // STRW = NS-EL1
  return {
    vmid: s2 || (cd && el1) ? Number(ste[2] & 0xffffn) : undefined,
    asid: cd ? Number(cd[0] >> 48n) : undefined,
  };
}

/**
 * Outcomes compared by what a device would see — the result, the output address, the event —
 * and, for a translation, the VMID and ASID its TLB entries are tagged with.
 */
/** What a translation grants beyond its address: permissions, memory type and shareability. */
function grantKey(r: TranslateResult): string {
  const t = r.translation;
  if (!t || r.outcome !== 'ok') return '';
  const p = t.perms;
  const perms = `${p.read ? 'r' : '-'}${p.write ? 'w' : '-'}${p.execPriv ? 'x' : '-'}${p.execUnpriv ? 'X' : '-'}${p.user ? 'u' : '-'}`;
  return `${perms}/${t.attrIndx ?? ''}.${t.memAttr ?? ''}/${t.sh}`;
}

/**
 * Two results are the same outcome when the SMMU would do the same with the transaction:
 * the same address in the same regime, and for a translation the same permissions and
 * memory attributes, which a torn or stale descriptor can change without moving the address.
 */
function outcomeKey(r: TranslateResult): string {
  const g = regimeOf(r);
  return `${r.outcome}:${r.pa ?? ''}:${r.event?.name ?? ''}:${g.vmid ?? ''}:${g.asid ?? ''}:${grantKey(r)}`;
}

/** What a translation grants, in words: its permissions and memory attributes. */
function grantText(r: TranslateResult): string {
  const t = r.translation!;
  const p = t.perms;
  const perms = [p.read && 'read', p.write && 'write', p.execPriv && 'privileged execute', p.execUnpriv && 'unprivileged execute', p.user && 'unprivileged access']
    .filter((x): x is string => typeof x === 'string');
  const attr = t.attrIndx !== undefined ? `AttrIndx ${t.attrIndx}` : t.memAttr !== undefined ? `MemAttr ${hex(t.memAttr)}` : '';
  return `${perms.length ? perms.join(', ') : 'no access'}; ${attr ? attr + ', ' : ''}SH ${t.sh}`;
}

/**
 * A result in words. Given the results it is compared with, a translation to the same
 * address that grants differently also says what it grants, so the difference shows.
 */
function outcomeText(r: TranslateResult, ...others: TranslateResult[]): string {
  if (r.outcome === 'ok') {
    const g = regimeOf(r);
    const tags = [g.vmid !== undefined ? `VMID ${g.vmid}` : '', g.asid !== undefined ? `ASID ${g.asid}` : ''].filter((x) => x);
    const grants = r.translation && others.some((o) => o.outcome === 'ok' && o.pa === r.pa && o.translation && grantKey(o) !== grantKey(r));
    return `→ ${hex(r.pa!)}${tags.length ? ` (${tags.join(', ')})` : ''}${grants ? ` granting ${grantText(r)}` : ''}`;
  }
  if (r.outcome === 'bypass') return `bypass → ${hex(r.pa!)}`;
  if (r.outcome === 'abort') return 'abort';
  return `${r.event!.name}`;
}

function tableText(t: ReachableTable, index: number): string {
  switch (t.kind) {
    case 'ste': return `STE ${hex((t.firstSid ?? 0) + index)}`;
    case 'cd': return `CD ${hex(t.sid ?? 0)}:${(t.firstSsid ?? 0) + index}`;
    case 'l1std': return `L1STD ${index}`;
    case 'l1cd': return `L1CD ${index} of StreamID ${hex(t.sid ?? 0)}`;
    case 'pgtable': return `stage-${t.stage} level-${t.level} descriptor ${index} of the table at ${hex(t.base)}`;
    case 'cmdq': return `command queue entry ${index}`;
    case 'evtq': return `event queue entry ${index}`;
  }
}

function tableKindText(t: ReachableTable): string {
  switch (t.kind) {
    case 'ste': return 'STE table';
    case 'cd': return 'CD table';
    case 'l1std': return 'level-1 stream table';
    case 'l1cd': return 'level-1 CD table';
    case 'pgtable': return `stage-${t.stage} level-${t.level} page table`;
    case 'cmdq': return 'command queue';
    case 'evtq': return 'event queue';
  }
}

/** Masks already worked out, per layout and qword: layouts are shared constants. */
const IGNORED = new WeakMap<Layout, bigint[]>();

/** Bits the SMMU ignores (software, IGNORED) in a layout, per qword. */
function ignoredMask(layout: Layout, qword: number): bigint {
  let known = IGNORED.get(layout);
  if (!known) IGNORED.set(layout, (known = []));
  return (known[qword] ??= ignoredBits(layout, qword));
}

function ignoredBits(layout: Layout, qword: number): bigint {
  let m = 0n;
  for (const f of layout.fields) {
    if (f.kind !== 'reserved' || (f.reserved !== 'IGNORED' && f.reserved !== 'SOFTWARE')) continue;
    if (Math.floor(f.lo / 64) !== qword) continue;
    m |= mask(f.hi - f.lo + 1) << BigInt(f.lo % 64);
  }
  return m;
}

/** Does a change from `a` to `b` at this address matter to the SMMU? */
function significantDiff(t: ReachableTable, index: number, addr: number, a: bigint, b: bigint): boolean {
  let ignore = 0n;
  const qword = Math.floor((addr - (t.base + index * t.entrySize)) / 8);
  if (t.kind === 'pgtable') {
    const fmt = { stage: t.stage!, granule: t.granule!, level: t.level! as 0 | 1 | 2 | 3 };
    ignore = ignoredMask(pteLayoutFor(a, fmt), 0) & ignoredMask(pteLayoutFor(b, fmt), 0);
  } else if (t.kind === 'ste') {
    ignore = ignoredMask(STE, qword);
  } else if (t.kind === 'cd') {
    ignore = ignoredMask(CD, qword);
  }
  return ((a ^ b) & ~ignore) !== 0n;
}

/** An invalidation command waiting for its CMD_SYNC, with what it covers. */
interface Invalidation {
  readonly name: string;
  /** CFGI: the StreamIDs (and SubstreamID) it covers. */
  readonly sid?: number;
  readonly last?: number;
  readonly ssid?: number;
  /** CFGI_STE / CFGI_CD: only the last level (Leaf=1). */
  readonly leaf?: boolean;
  /** TLBI: the stage, ASID and VMID it is limited to (undefined: any). */
  readonly stage?: 1 | 2;
  readonly asid?: number;
  readonly vmid?: number;
}

/** What an invalidation names, for explanations. */
function invalidationText(i: Invalidation): string {
  const ids = [
    i.sid !== undefined ? `StreamID ${hex(i.sid)}${i.last !== undefined && i.last !== i.sid ? `..${hex(i.last)}` : ''}` : '',
    i.asid !== undefined ? `ASID ${i.asid}` : '',
    i.vmid !== undefined ? `VMID ${i.vmid}` : '',
  ].filter((x) => x);
  return `CMD_${i.name}${ids.length ? ` (${ids.join(', ')})` : ''}`;
}

/** The step a torn update of this kind of entry misses. */
function remedy(kind: PathEntry['kind']): string {
  if (kind === 'ste' || kind === 'cd') {
    const k = kind.toUpperCase();
    return `Change at most one qword the SMMU uses per step and order the steps (the kernel's arm_smmu_write_entry follows each with CFGI_${k} + CMD_SYNC), ` +
      `or make the ${k} invalid (V=0) first`;
  }
  return 'Write the descriptor with one single-copy-atomic 64-bit store (WRITE_ONCE), or break before make: ' +
    'write it invalid, invalidate (and CMD_SYNC), then write the new value';
}

/** Entries on a translation path: where each is, how many qwords, what to call it. */
interface PathEntry {
  readonly addr: number;
  readonly qwords: number;
  readonly kind: 'l1std' | 'ste' | 'l1cd' | 'cd' | 'pte';
  readonly text: string;
}

/** What a checker carries from one point of a run to a later restore of it (see `saveState`). */
interface SavedState {
  readonly tlbi: unknown;
  readonly pendingInvalidations: readonly Invalidation[];
  readonly staleNow: readonly string[];
  readonly lastProd: number;
  readonly doorbells: number;
}

export class Checker {
  readonly hazards: Hazard[] = [];
  private reach?: Reachability;
  private readonly reported = new Set<string>();
  /** Invalidations consumed since the last CMD_SYNC, for the checks at its completion. */
  private pendingInvalidations: Invalidation[] = [];
  /** PROD writes seen, to tell the findings of one doorbell from the next. */
  private doorbells = 0;
  /** Entries already judged in their current state (key: address + history). */
  private readonly judged = new Set<string>();
  /** Per traffic transaction and path entry: what the SMMU would do with each value seen during the statement. */
  private readonly episodes = new Map<string, {
    tx: Transaction; entry: PathEntry; before: TranslateResult; oldest: readonly bigint[];
    values: Map<string, { value: readonly bigint[]; result: TranslateResult; written: boolean }>;
  }>();
  /** The last CPU store reported, for `afterOp`. */
  private lastStore?: { addr: number; size: number };
  /** Per transaction: its last path, and what it was worked out from (see `pathOf`). */
  private readonly paths = new Map<string, { smmu: Machine['smmu']; gen: number; base: TranslateResult; entries: PathEntry[] }>();
  /** Transactions that used cached configuration or translations during the statement. */
  private readonly usedCaches = new Map<string, Transaction>();
  /** Every transaction the SMMU translated, for what its caches still hold at the end. */
  private readonly translated = new Map<string, Transaction>();
  /** Transactions whose cached path is stale and already reported. */
  private readonly staleNow = new Set<string>();
  /** The command queue's PROD before a doorbell, to know which slots it publishes. */
  private lastProd = 0;
  /** CR0.SMMUEN was just set: check what becomes reachable after the operation. */
  private enabling = false;
  /** The live-update rules (kho.ts). */
  private readonly kho: KhoRules;
  /** Changed translations the SMMU could have cached, until a TLBI + CMD_SYNC covers them (missing-tlbi.ts). */
  private readonly tlbi: MissingTlbi;

  constructor(private readonly host: CheckHost, private readonly opts: CheckOptions = DEFAULT_CHECK_OPTIONS) {
    this.kho = new KhoRules({
      host, report: (rule, message, key, extra) => this.report(rule, message, key, extra),
      reachable: () => this.reachable(), entryText: tableText, significant: significantDiff,
    });
    this.tlbi = new MissingTlbi({
      host, report: (message, key) => this.report('missing-tlbi', message, key),
      ignored: (fmt, a, b) => ignoredMask(pteLayoutFor(a, fmt), 0) & ignoredMask(pteLayoutFor(b, fmt), 0),
    });
  }

  private get m(): Machine {
    return this.host.machine;
  }

  /**
   * What `reset` needs to put back besides the hazards: the rules that follow changes over time.
   * Not `translated`: it only adds transactions to probe at the end (probed against the restored
   * machine), and copying it at every snapshot would grow with the run's DMAs.
   */
  saveState(): unknown {
    const saved: SavedState = {
      tlbi: this.tlbi.save(), pendingInvalidations: [...this.pendingInvalidations], staleNow: [...this.staleNow],
      lastProd: this.lastProd, doorbells: this.doorbells,
    };
    return saved;
  }

  /** Forget derived state (after the run is restored to an earlier point, whose `saveState` is `state`). */
  reset(hazards: number, state?: unknown): void {
    const saved = state as Partial<SavedState> | undefined;
    this.tlbi.restore(saved?.tlbi);
    this.hazards.length = hazards;
    this.reach = undefined;
    this.judged.clear();
    this.reported.clear();
    for (const h of this.hazards) this.reported.add(h.key);
    // Invalidations issued before that point and not yet synchronised are still pending there:
    // a free or the end after stepping back must still be judged against them.
    this.pendingInvalidations = [...(saved?.pendingInvalidations ?? [])];
    this.staleNow.clear();
    for (const k of saved?.staleNow ?? []) this.staleNow.add(k);
    this.lastProd = saved?.lastProd ?? 0;
    this.doorbells = saved?.doorbells ?? 0;
    this.episodes.clear();
    this.usedCaches.clear();
  }

  /** Reachable tables, rebuilt only after a change that can move pointers. */
  private reachable(): Reachability {
    if (!this.reach) this.reach = Reachability.of(this.m);
    return this.reach;
  }

  private report(rule: string, message: string, key: string, extra: Partial<Hazard> = {}): void {
    const dedupe = `${rule}:${key}:${this.host.step}`;
    if (this.reported.has(dedupe)) return;
    this.reported.add(dedupe);
    const info = ruleInfo(rule);
    this.hazards.push({
      rule, severity: extra.severity ?? info.severity, title: info.title, step: this.host.step, op: this.host.op, message, key: dedupe, ...extra,
    });
    this.host.note(`hazard ${rule}: ${message}`);
  }

  // ---- activity ------------------------------------------------------------------------

  onActivity(t: Tagged): void {
    const a = t.activity;
    switch (a.kind) {
      case 'store':
        this.kho.onWrite(a.addr, a.size);
        this.onStore(a.addr, a.size, a.unit, a.value, a.before);
        break;
      case 'write':
        this.kho.onWrite(a.addr, a.len);
        break;
      case 'kho':
        this.kho.onEvent(a.event);
        // Memory and ownership changed under the tables: reach them again.
        this.reach = undefined;
        break;
      case 'register':
        if (!a.ignored) this.kho.onRegister(a.name, a.value);
        this.onRegister(a.name, a.value, a.ignored);
        break;
      case 'command':
        this.onCommand(a.name, a.words);
        break;
      case 'sync':
        this.onSync();
        break;
      case 'free':
        this.onFree(a.region.name, a.region.base, a.region.size);
        this.tlbi.onRelease(a.region.name, a.region.base, a.region.size, 'freed');
        break;
      case 'alloc':
        this.tlbi.onRelease(a.region.name, a.region.base, a.region.size, 'allocated');
        break;
      case 'cmo':
        for (const lost of a.result.lost) {
          const hit = this.reachable().find(lost.addr, lost.cpu.length)[0];
          if (hit) {
            this.report('lost-dirty', `an invalidate discarded ${lost.cpu.length} dirty bytes at ${hex(lost.addr)} of ${tableText(hit.table, hit.index)} ` +
              `(reached through ${hit.table.path}): the SMMU and the CPU now read the old bytes. Clean (DC CVAC/CIVAC) instead of invalidating live data`,
            `${lost.addr}`);
          }
        }
        break;
      case 'translate':
        this.onTranslate(a.tx, a.result);
        break;
      default:
        break;
    }
  }

  private onStore(addr: number, size: number, unit: number, value: bigint, before: bigint): void {
    this.lastStore = { addr, size };
    const hits = this.reachable().find(addr, size);
    if (hits.length === 0) return;
    for (const x of hits) if (x.table.kind === 'pgtable') this.pteChanged(x.table, x.index, x.entry, addr, size, value, before);
    const h = hits[0];
    // A store that changes a single part, in the bits the SMMU can see, has no half-written
    // state it could tell from the old or the new value.
    const seen = this.visibleBits(h.table, h.index, addr, size);
    if (unit < size && torn(before & seen, value & seen, unit).length > 0 && !this.allTearsInvalid(h.table, h.index, addr, size, unit, value, before)) {
      this.report('torn-store', `a plain ${size * 8}-bit store of ${hex(value)} to ${tableText(h.table, h.index)} at ${hex(addr)} may be split ` +
        `into ${unit}-byte parts, and the SMMU can read the entry between them (it is reached through ${h.table.path}). Use WRITE_ONCE`, `${addr}`);
    }
    if (!this.movesPointers(h.table, Math.floor((addr - h.entry) / 8), value, before)) return;
    const reachBefore = this.reachable();
    this.reach = undefined;
    const after = this.reachable();
    const old = new Set(reachBefore.all.map((t) => `${t.kind}:${t.base}`));
    for (const t of after.all) {
      if (!old.has(`${t.kind}:${t.base}`)) this.checkLook(t, `the store at ${hex(addr)} makes it reachable`, true);
    }
  }

  /** A store changed a descriptor of a reachable page table: the whole qword before and after, for missing-tlbi. */
  private pteChanged(t: ReachableTable, index: number, entry: number, addr: number, size: number, value: bigint, before: bigint): void {
    // The common case, a whole descriptor written at once, needs no reading back.
    if (size === 8 && addr === entry) {
      this.tlbi.onChange(t, index, entry, before, value);
      return;
    }
    const now = this.m.load(entry, 8);
    let old = now;
    for (let b = Math.max(addr, entry); b < Math.min(addr + size, entry + 8); b++) {
      const shift = BigInt((b - entry) * 8);
      old = (old & ~(0xffn << shift)) | (((before >> BigInt((b - addr) * 8)) & 0xffn) << shift);
    }
    this.tlbi.onChange(t, index, entry, old, now);
  }

  /**
   * The bits of a store (in its own frame) whose tear the SMMU could see. It reads a command
   * only once PROD covers its slot (publishing it is the doorbell's business: missing-barrier,
   * stale-fetch) and never reads the event queue. An STE or CD ignores the bits its
   * configuration does not use, in the entry as the CPU and as the SMMU see it now.
   */
  private visibleBits(t: ReachableTable, index: number, addr: number, size: number): bigint {
    const all = mask(size * 8);
    if (t.kind === 'evtq') return 0n;
    if (t.kind === 'cmdq') {
      const n = t.entries;
      const prod = Number(this.m.smmu.read('CMDQ_PROD')) % (2 * n);
      const cons = Number(this.m.smmu.read('CMDQ_CONS')) % (2 * n);
      return (index - (cons % n) + n) % n < (prod - cons + 2 * n) % (2 * n) ? all : 0n;
    }
    const kind = t.kind;
    if ((kind !== 'ste' && kind !== 'cd') || !this.opts.usedBits) return all;
    const entry = t.base + index * t.entrySize;
    const q = Math.floor((addr - entry) / GRANULE);
    const words = (read: (a: number) => bigint): bigint[] => Array.from({ length: 8 }, (_, i) => read(entry + i * GRANULE));
    const used = [words((a) => this.m.load(a, 8)), words((a) => this.m.mem.smmuReadU64(a))]
      .reduce((u, w) => u | this.opts.usedBits!(kind, w)[q], 0n);
    return (used >> BigInt((addr % GRANULE) * 8)) & all;
  }

  /**
   * A tear is harmless when every half-written value leaves the entry invalid (a V=0
   * descriptor or STE/CD word 0 stays V=0): the SMMU can only fault on it, never use it.
   */
  private allTearsInvalid(t: ReachableTable, index: number, addr: number, size: number, unit: number, value: bigint, before: bigint): boolean {
    if (size !== 8 || addr % 8 !== 0) return false;
    const entry = t.base + index * t.entrySize;
    let validBit: bigint;
    if (t.kind === 'pgtable' || t.kind === 'l1cd') validBit = 1n;
    else if (t.kind === 'ste' && addr === entry) validBit = 1n;
    else if (t.kind === 'cd' && addr === entry) validBit = 1n << 31n;
    else return false;
    return [...torn(before, value, unit), value].every((v) => (v & validBit) === 0n);
  }

  /** Could a store here change which tables are reachable? (Leaf page-table entries cannot.) */
  private movesPointers(t: ReachableTable, qword: number, value: bigint, before: bigint): boolean {
    if (value === before) return false;
    // What the walk of reachable tables reads of an STE (qword 0: V, Config, the CD table;
    // 2: VMID and VTCR; 3: S2TTB) and of a CD (0: V, ASID, the ranges; 1, 2: TTB0, TTB1).
    if (t.kind === 'ste') return qword === 0 || qword === 2 || qword === 3;
    if (t.kind === 'cd') return qword <= 2;
    if (t.kind !== 'pgtable') return t.kind !== 'cmdq' && t.kind !== 'evtq';
    if (t.level === 3) return false;
    const fmt = { stage: t.stage!, granule: t.granule!, level: t.level! as 0 | 1 | 2 | 3 };
    return descriptorType(value, fmt) === 'table' || descriptorType(before, fmt) === 'table';
  }

  /**
   * The SMMU may read `t` from now on: its entries must be at PoC (non-coherent), cleans
   * complete, and the CPU's stores to it ordered before what made it reachable. Findings
   * are reported once per rule and table, with the entries concerned.
   */
  private checkLook(t: ReachableTable, why: string, publish: boolean, only?: (index: number) => boolean): void {
    const mem = this.m.mem;
    const end = t.base + t.entries * t.entrySize;
    const pendingCleans = new Set(mem.history.pendingCleanAddrs());
    const found: Record<'stale-fetch' | 'cmo-incomplete' | 'missing-barrier', { addr: number; text: string; zero: boolean }[]> = {
      'stale-fetch': [], 'cmo-incomplete': [], 'missing-barrier': [],
    };
    for (const g of mem.history.unsettled()) {
      if (g.addr < t.base || g.addr >= end) continue;
      const index = Math.floor((g.addr - t.base) / t.entrySize);
      if (only && !only(index)) continue;
      const latest = g.versions[g.versions.length - 1].value;
      // Bits the SMMU ignores (software bits such as io-pgtable's SW_SYNC) may differ freely.
      if (!significantDiff(t, index, g.addr, g.settled, latest)) continue;
      const text = `${tableText(t, index)} (${hex(g.addr)}: ${hex(g.settled)} instead of ${hex(latest)})`;
      if (g.path === 'poc') {
        found[pendingCleans.has(g.addr) ? 'cmo-incomplete' : 'stale-fetch'].push({ addr: g.addr, text, zero: g.settled === 0n });
      } else if (publish && g.versions.some((v) => v.epoch >= mem.history.epoch)) {
        found['missing-barrier'].push({ addr: g.addr, text, zero: g.settled === 0n });
      }
    }
    const list = (xs: { text: string }[]): string => xs.slice(0, 3).map((x) => x.text).join('; ') + (xs.length > 3 ? `; and ${xs.length - 3} more` : '');
    const where = `the ${tableKindText(t)} at ${hex(t.base)} (${t.path})`;
    const sf = found['stale-fetch'];
    if (sf.length) {
      this.report('stale-fetch', `${why}, but ${sf.length} entr${sf.length === 1 ? 'y' : 'ies'} of ${where} hold CPU writes never cleaned to PoC, ` +
        `so a non-coherent SMMU reads the old values: ${list(sf)}. Clean the range (dma_sync_single_for_device) and DSB first`, `${t.base}`);
    }
    const ci = found['cmo-incomplete'];
    if (ci.length) {
      this.report('cmo-incomplete', `${why}, but the cleans of ${ci.length} entr${ci.length === 1 ? 'y' : 'ies'} of ${where} are not yet completed by a DSB: ` +
        `${list(ci)}. Add a dsb (or use dma_sync_single_for_device) before telling the SMMU`, `${t.base}`);
    }
    const mb = found['missing-barrier'];
    if (mb.length) {
      const zero = mb.every((x) => x.zero);
      this.report('missing-barrier', `${why} with no barrier after the stores to ${mb.length} entr${mb.length === 1 ? 'y' : 'ies'} of ${where}: ` +
        `the SMMU may see the pointer first and read ${list(mb)}` + (zero ? ' (never-written memory: invalid entries)' : '') +
        '. Put a dma_wmb() between the data and its publication', `${t.base}`, zero ? { severity: 'warning' } : {});
    }
  }

  private onRegister(name: string, value: bigint, ignored: string | undefined): void {
    if (ignored) {
      // Fields an enable guards (CR1's table and queue attributes) may not change while it is set:
      // the SMMU kept them, and the register still holds `value`.
      const what = /guarded/.test(ignored) ? `writing ${name} while enabled: ${ignored} (${name} stays ${hex(value)})` : `writing ${hex(value)} to ${name}: ${ignored}`;
      this.report('illegal-reprogram', what, name);
      return;
    }
    if (name === 'CR0') {
      // The SMMU acknowledges the write after this report: look at what it reaches once it has.
      // Only a 0 → 1 change of SMMUEN makes it start reading (CR0ACK still holds the old value).
      this.reach = undefined;
      if (value & 1n && !(Number(this.m.smmu.read('CR0ACK')) & 1)) this.enabling = true;
    } else if (name === 'STRTAB_BASE' || name === 'STRTAB_BASE_CFG') {
      this.reach = undefined;
    } else if (name === 'CMDQ_PROD') {
      const q = this.reachable().all.find((t) => t.kind === 'cmdq');
      if (q) {
        const log2 = Math.log2(q.entries);
        const wrap = 2 ** (log2 + 1);
        const mem = this.m.mem;
        // One finding per doorbell and rule, naming every entry concerned.
        this.doorbells++;
        const stale: string[] = [];
        const unordered: string[] = [];
        for (let p = this.lastProd; p % wrap !== Number(value) % wrap; p = (p + 1) % wrap) {
          const slot = q.base + (p % q.entries) * 16;
          const where = `entry ${p % q.entries} at ${hex(slot)}`;
          let isStale = false;
          let isUnordered = false;
          for (let g = slot; g < slot + 16; g += GRANULE) {
            const h = mem.history.get(g);
            if (!h) continue;
            if (h.path === 'poc') isStale = true;
            else if (h.versions.some((v) => v.epoch >= mem.history.epoch)) isUnordered = true;
          }
          if (isStale) stale.push(where);
          if (isUnordered) unordered.push(where);
          if (p - this.lastProd > wrap) break;
        }
        const list = (xs: string[]): string => (xs.length > 4 ? `${xs.slice(0, 4).join(', ')} and ${xs.length - 4} more` : xs.join(', '));
        if (stale.length) {
          this.report('stale-fetch', `the doorbell publishes command queue ${list(stale)}, whose bytes were never cleaned to PoC: ` +
            'a non-coherent SMMU reads stale commands. Keep the queue in non-cacheable memory or clean it before the PROD write', `doorbell${this.doorbells}:poc`);
        }
        if (unordered.length) {
          this.report('missing-barrier', `the PROD write can reach the SMMU before command queue ${list(unordered)}: ` +
            'no barrier separates them. dma_wmb() before a relaxed PROD write, or use writel()', `doorbell${this.doorbells}:order`);
        }
      }
      this.lastProd = Number(value);
    }
  }

  private onCommand(name: string, words: readonly bigint[]): void {
    const n = name.replace(/^CMD_/, '');
    if (!n.startsWith('CFGI') && !n.startsWith('TLBI')) return;
    if (n.startsWith('TLBI')) {
      // The SMMU is told to look again only at the page tables of the regimes the command covers.
      const layout = commandByName(n);
      const d = layout && decode(layout, words);
      const id = (f: string): number | undefined => (d && findField(layout, f) ? Number(d.get(f)) : undefined);
      const stage = /^TLBI_(NH|EL2)_/.test(n) ? 1 : n === 'TLBI_S2_IPA' ? 2 : undefined;
      this.pendingInvalidations.push({ name: n, stage, asid: id('ASID'), vmid: id('VMID') });
      const cmd = layout && tlbiCommandFrom(n, decode(layout, words, this.m.smmu.ctx));
      if (cmd) this.tlbi.onTlbi(cmd);
      return;
    }
    const sid = Number(words[0] >> 32n);
    if (n === 'CFGI_STE_RANGE' || n === 'CFGI_ALL') {
      const range = Number(words[1] & 0x1fn);
      if (range === 31) this.pendingInvalidations.push({ name: 'CFGI_ALL' });
      else {
        const span = 2 ** (range + 1);
        const first = Math.floor(sid / span) * span;
        this.pendingInvalidations.push({ name: n, sid: first, last: first + span - 1 });
      }
      return;
    }
    const leaf = (words[1] & 1n) === 1n;
    if (n === 'CFGI_CD') this.pendingInvalidations.push({ name: n, sid, last: sid, ssid: Number((words[0] >> 12n) & 0xfffffn), leaf });
    else this.pendingInvalidations.push({ name: n, sid, last: sid, leaf: n === 'CFGI_STE' ? leaf : undefined });
  }

  /** A CMD_SYNC completed: the SMMU now uses what memory holds for everything invalidated. */
  private onSync(): void {
    this.tlbi.onSync();
    const inv = this.pendingInvalidations;
    this.pendingInvalidations = [];
    if (inv.length === 0) return;
    const tables = this.reachable().all;
    for (const i of inv) {
      const why = `${invalidationText(i)} + CMD_SYNC tells the SMMU to fetch again`;
      for (const t of tables) {
        let relevant: boolean;
        // The entries the SMMU is told to fetch again (all of the table when undefined).
        let only: ((index: number) => boolean) | undefined;
        if (i.name === 'CFGI_ALL') relevant = t.kind !== 'pgtable' && t.kind !== 'cmdq' && t.kind !== 'evtq';
        else if (i.name.startsWith('CFGI')) {
          const sidOf = t.kind === 'ste' ? undefined : t.sid;
          if (t.kind === 'ste') {
            const first = t.firstSid ?? 0;
            relevant = first <= i.last! && i.sid! < first + t.entries;
            only = (index) => first + index >= i.sid! && first + index <= i.last!;
          } else {
            relevant = (t.kind === 'cd' || t.kind === 'l1cd') && sidOf !== undefined && sidOf >= i.sid! && sidOf <= i.last!;
            if (i.name === 'CFGI_CD') {
              // One CD; its L1CD only when Leaf=0.
              if (t.kind === 'l1cd') relevant &&= !i.leaf;
              else only = (index) => (t.firstSsid ?? 0) + index === i.ssid;
            }
          }
        } else {
          relevant = t.kind === 'pgtable' && (i.stage === undefined || t.stage === i.stage) &&
            contextsOf(t).some((c) => (i.asid === undefined || c.asid === i.asid) && (i.vmid === undefined || c.vmid === i.vmid));
        }
        if (relevant) this.checkLook(t, why, false, only);
      }
    }
  }

  private onFree(name: string, base: number, size: number): void {
    this.reach = undefined;
    for (const t of this.reachable().overlapping(base, size)) {
      this.report('table-reuse', `'${name}' [${hex(base)}, ${hex(base + size)}) is freed while the SMMU can still reach it: ${t.path}. ` +
        'Detach or invalidate the pointer (and CMD_SYNC) before freeing', name);
    }
    const smmu = this.m.smmu;
    const inside = (a: number): boolean => a >= base && a < base + size;
    for (const [sid, e] of smmu.cachedStes()) {
      if (inside(e.addr)) this.report('table-reuse', `'${name}' is freed while the SMMU caches the STE of StreamID ${hex(sid)} fetched from ${hex(e.addr)}: invalidate it (CFGI_STE + CMD_SYNC) first`, `${name}:ste${sid}`);
      // A cached STE that points into the memory: the SMMU may still fetch CDs or walk tables there.
      const c = e.config;
      if (c.kind !== 'translate') continue;
      const into = [
        c.s1 && !c.s2 && inside(c.s1.cdBase) ? `S1ContextPtr ${hex(c.s1.cdBase)}` : '',
        c.s2 && inside(c.s2.ttb) ? `S2TTB ${hex(c.s2.ttb)}` : '',
      ].filter((x) => x);
      if (into.length) {
        this.report('table-reuse', `'${name}' is freed while the SMMU caches the STE of StreamID ${hex(sid)}, whose ${into.join(' and ')} points into it: ` +
          'the SMMU may still fetch from it. Invalidate the STE (CFGI_STE + CMD_SYNC) first', `${name}:steptr${sid}`);
      }
    }
    for (const { sid, ssid, entry } of smmu.cachedCds()) {
      if (inside(entry.addr)) this.report('table-reuse', `'${name}' is freed while the SMMU caches CD ${hex(sid)}:${ssid} fetched from ${hex(entry.addr)}: invalidate it (CFGI_CD + CMD_SYNC) first`, `${name}:cd${sid}:${ssid}`);
      else if (entry.config.kind === 'valid' && [entry.config.s1.ttb0, entry.config.s1.ttb1].some((r) => r && inside(r.ttb))) {
        this.report('table-reuse', `'${name}' is freed while the SMMU caches CD ${hex(sid)}:${ssid}, whose translation table base points into it: ` +
          'the SMMU may still walk it. Invalidate the CD (CFGI_CD + CMD_SYNC) and the TLB first', `${name}:cdptr${sid}:${ssid}`);
      }
    }
    for (const [l1, e] of smmu.cachedL1Stds()) {
      if (inside(Number(e.word & 0x00ff_ffff_ffff_ffc0n)) && (e.word & 0x1fn) !== 0n) {
        this.report('table-reuse', `'${name}' is freed while the SMMU caches L1STD ${l1}, which points at a level-2 stream table in it: invalidate it (CFGI_STE with Leaf=0 + CMD_SYNC) first`, `${name}:l1std${l1}`);
      }
    }
    for (const e of smmu.cachedL1Cds()) {
      if ((e.word & 1n) === 1n && inside(Number(e.word & 0x00ff_ffff_ffff_f000n))) {
        this.report('table-reuse', `'${name}' is freed while the SMMU caches L1CD ${e.index} of StreamID ${hex(e.sid)}, which points at a CD table in it: invalidate it (CFGI_CD with Leaf=0 + CMD_SYNC) first`, `${name}:l1cd${e.sid}:${e.index}`);
      }
    }
    for (const w of smmu.tlb.walkEntries()) {
      if (inside(w.tableAddr)) this.report('table-reuse', `'${name}' is freed while the SMMU's walk cache holds a level-${w.level} table descriptor pointing into it: invalidate the TLB (Leaf=0) and CMD_SYNC first`, `${name}:walk`);
    }
    if (this.pendingInvalidations.length) {
      this.report('sync-missing', `'${name}' is freed after ${this.pendingInvalidations.map((i) => 'CMD_' + i.name).join(', ')} but before a CMD_SYNC completed them: ` +
        'the SMMU may still be using what they invalidate', `${name}:sync`);
    }
  }

  private onTranslate(tx: Transaction, r: TranslateResult): void {
    this.tlbi.onTranslate(tx, r);
    this.translated.set(txKey(tx), tx);
    if (r.tlbHit || r.config.some((c) => c.source === 'cache')) this.usedCaches.set(txKey(tx), tx);
  }

  // ---- torn updates -------------------------------------------------------------------------

  /**
   * After each micro-operation (`kind` is its name): judge the paths of the traffic in use,
   * and have the reachable tables ready for the next store.
   */
  afterOp(kind: string): void {
    if (this.enabling) {
      this.enabling = false;
      this.reach = undefined;
      for (const t of this.reachable().all) this.checkLook(t, 'the SMMU is enabled (SMMUEN=1)', false);
    }
    if (kind === 'store' || kind === 'barrier' || kind === 'write' || kind === 'cmo' || kind === 'writeback') {
      const stored = kind === 'store' ? this.lastStore : undefined;
      this.lastStore = undefined;
      const txs = [...this.host.traffic()];
      if (!(stored && this.offPaths(stored, txs))) for (const tx of txs) this.judgePath(tx);
    }
    this.reachable();
  }

  /**
   * Whether a store left every traffic path as it was: it wrote no qword of any of them
   * (each path known, see `pathOf`). Then no path changes, no entry's history changes, and
   * judging the paths again would find every entry already judged.
   */
  private offPaths(stored: { addr: number; size: number }, txs: readonly Transaction[]): boolean {
    for (const tx of txs) {
      const last = this.paths.get(txKey(tx));
      if (!last || last.smmu !== this.m.smmu || last.gen !== this.m.smmu.registerGeneration) return false;
      for (const e of last.entries) {
        if (stored.addr < e.addr + e.qwords * GRANULE && e.addr < stored.addr + stored.size) return false;
      }
    }
    return true;
  }

  /**
   * The entries a transaction's translation reads, as a fresh fetch would. A probe reads
   * nothing but the registers and the entries it reports (with the values it read), so
   * the last path of the transaction stands while the registers are unchanged and each of
   * those entries still reads the same: checking that costs a few reads, not a walk.
   */
  private pathOf(tx: Transaction): PathEntry[] {
    const smmu = this.m.smmu;
    const key = txKey(tx);
    const last = this.paths.get(key);
    if (last && last.smmu === smmu && last.gen === smmu.registerGeneration && this.unchanged(last.base)) return last.entries;
    const base = smmu.probe(tx, new Map());
    const entries = this.pathEntries(base);
    this.paths.set(key, { smmu, gen: smmu.registerGeneration, base, entries });
    return entries;
  }

  /** Whether every qword a translation read still reads the same to the SMMU. */
  private unchanged(r: TranslateResult): boolean {
    const mem = this.m.mem;
    for (const c of r.config) {
      for (let i = 0; i < c.words.length; i++) if (mem.smmuReadU64(c.addr + 8 * i) !== c.words[i]) return false;
    }
    for (const w of r.walk) if (mem.smmuReadU64(w.descAddr) !== w.desc) return false;
    return true;
  }

  private pathEntries(base: TranslateResult): PathEntry[] {
    const out: PathEntry[] = [];
    for (const c of base.config) {
      const qwords = c.what === 'ste' || c.what === 'cd' ? 8 : 1;
      out.push({ addr: c.addr, qwords, kind: c.what, text: `${c.what.toUpperCase()} at ${hex(c.addr)}` });
    }
    for (const w of base.walk) {
      out.push({ addr: w.descAddr, qwords: 1, kind: 'pte', text: `stage-${w.stage} level-${w.level} descriptor at ${hex(w.descAddr)}` });
    }
    return out;
  }

  private judgePath(tx: Transaction): void {
    const mem = this.m.mem;
    for (const e of this.pathOf(tx)) {
      // Most entries have no stores pending: found without building a key.
      let any = false;
      for (let i = 0; i < e.qwords && !any; i++) any = mem.history.get(e.addr + i * GRANULE) !== undefined;
      if (!any) continue;
      let key = `${tx.sid}:${tx.ssid}:${tx.iova}:${tx.access}:${e.addr}`;
      for (let i = 0; i < e.qwords; i++) {
        const h = mem.history.get(e.addr + i * GRANULE);
        if (h) key += `:${h.versions.length}:${h.versions[h.versions.length - 1].seq}:${h.settled}`;
      }
      // The values depend on the entry's history only: a later barrier adds none, so an entry left
      // pending is judged (and reported) at the statement that wrote it, not again at every later one.
      if (this.judged.has(key)) continue;
      this.judged.add(key);
      this.judgeEntry(tx, e);
    }
  }

  /** Record what the SMMU would do with each value of the entry it could read now. */
  private judgeEntry(tx: Transaction, e: PathEntry): void {
    const set = observable(this.m.mem, e.addr, e.qwords, this.opts.bound);
    if (set.truncated) {
      this.report('set-bound', `${e.text} has at least ${set.count} values the SMMU could read; only the first ${set.values.length} were judged ` +
        '(raise the bound with the launch option "observableBound" or --bound)', `${e.addr}`);
    }
    const overlay = (v: readonly bigint[]): Map<number, bigint> => new Map(v.map((q, i) => [e.addr + i * GRANULE, q]));
    const smmu = this.m.smmu;
    const key = `${txKey(tx)}:${e.addr}`;
    let ep = this.episodes.get(key);
    if (!ep) {
      ep = { tx, entry: e, before: smmu.probe(tx, overlay(set.oldest)), oldest: set.oldest, values: new Map() };
      this.episodes.set(key, ep);
    }
    const written = this.programStates(e, set.oldest);
    for (const v of set.values) {
      const vk = v.map((q) => hex(q)).join(' ');
      if (ep.values.has(vk)) continue;
      ep.values.set(vk, { value: v, result: smmu.probe(tx, overlay(v)), written: written.has(vk) });
    }
  }

  /**
   * At the end of a statement — a driver action, or a raw write — every value the SMMU
   * could have read of each entry on a traffic path must do what the entry did before the
   * statement or what it does after it.
   */
  endStatement(): void {
    for (const ep of this.episodes.values()) {
      const e = ep.entry;
      const newest = Array.from({ length: e.qwords }, (_, i) => this.m.load(e.addr + i * GRANULE, 8));
      const after = this.m.smmu.probe(ep.tx, new Map(newest.map((q, i) => [e.addr + i * GRANULE, q])));
      const allowed = new Set([outcomeKey(ep.before), outcomeKey(after)]);
      const tx = ep.tx;
      const dma = `DMA ${tx.access} SID ${hex(tx.sid)}${tx.ssid !== undefined ? ':' + hex(tx.ssid) : ''} IOVA ${hex(tx.iova)}`;
      const ends = (torn: TranslateResult): string =>
        `the entry before gives ${outcomeText(ep.before, torn)} and after ${outcomeText(after, torn)}`;
      const extra = (v: readonly bigint[]): Partial<Hazard> => ({ entry: { kind: e.kind, addr: e.addr, description: e.text }, values: v });
      // An invalid entry on the way (V=0, an invalid descriptor) is the break of break-before-make:
      // the update is not hitless, and traffic meanwhile faults. Anything else that neither end
      // does — another translation, a fault of a valid but wrong configuration — is a torn update.
      // A value that does what one end does here can still be a configuration neither end has
      // (the kernel's used-bits view): another attribute override, fetch attribute, VMID or
      // ASID tag, stall or fault setting that this one transaction does not show.
      const groups = new Map<string, { invalid: boolean; written: boolean; used: boolean; values: [string, readonly bigint[]][]; result: TranslateResult }>();
      for (const [vk, o] of ep.values) {
        const k = outcomeKey(o.result);
        const invalid = invalidEntry(e.kind, o.value);
        const used = allowed.has(k);
        if (used && (invalid || !this.tornInUsedBits(e, o.value, ep.oldest, newest))) continue;
        const gk = used ? `used:${k}` : `${k}:${invalid}`;
        const g = groups.get(gk) ?? { invalid, written: false, used, values: [], result: o.result };
        if (o.written && !g.written) {
          g.written = true;
          g.values.unshift([vk, o.value]);
        } else {
          g.values.push([vk, o.value]);
        }
        groups.set(gk, g);
      }
      for (const [gk, g] of groups) {
        const [vk, v] = g.values[0];
        const others = g.values.length > 1 ? ` (${g.values.length - 1} other value${g.values.length === 2 ? ' of the entry gives' : 's of the entry give'} the same)` : '';
        if (g.invalid) {
          this.report('torn-update', `the update is not hitless: the SMMU can read ${e.text} as the invalid [${vk}]${g.written ? ', which the CPU writes on the way' : ''}, ` +
            `and then gives ${outcomeText(g.result, ep.before, after)} for ${dma}, where ${ends(g.result)}${others}. Traffic during the update faults ` +
            '(the break of break-before-make, as the writer\'s breaking path does)', `${e.addr}:${gk}`, { severity: 'warning', ...extra(v) });
          continue;
        }
        if (g.used) {
          const like = outcomeKey(g.result) === outcomeKey(ep.before) ? 'the old' : 'the new';
          const layout = e.kind === 'ste' ? STE : CD;
          this.report('torn-update', `the SMMU could read ${e.text} as [${vk}]` +
            (g.written ? ' — a state the CPU writes on the way — ' : ' — a mix of the old and the new entry the CPU never wrote whole — ') +
            `whose used bits match neither the old nor the new ${e.kind.toUpperCase()} (${decode(layout, v).summary}): for ${dma} it gives ` +
            `${outcomeText(g.result)} as ${like} entry does, but it is a configuration neither entry has (attributes, tags or settings ` +
            `this transaction does not show)${others}. Change at most one qword the old or the new entry uses per step`, `${e.addr}:${gk}`, extra(v));
          continue;
        }
        this.report('torn-update', `the SMMU could read ${e.text} as [${vk}]` +
          (g.written ? ' — a state the CPU writes on the way — ' : ' — a mix of the old and the new entry the CPU never wrote whole — ') +
          `and then give ${outcomeText(g.result, ep.before, after)} for ${dma}, where ${ends(g.result)}${this.usedBitsNote(e, v, ep.oldest, newest)}${others}. ${remedy(e.kind)}`,
        `${e.addr}:${gk}`, extra(v));
      }
    }
    this.episodes.clear();
    // Caches still stale at the end of the statement that changed memory: the SMMU goes on using old configuration.
    const streams = new Map(this.usedCaches);
    for (const tx of this.host.traffic()) streams.set(txKey(tx), tx);
    this.usedCaches.clear();
    this.tlbi.endStatement();
    for (const tx of streams.values()) {
      const cached = this.m.smmu.probe(tx, new Map(), true);
      const fresh = this.m.smmu.probe(tx, new Map());
      const k = txKey(tx);
      if (outcomeKey(cached) === outcomeKey(fresh)) {
        this.staleNow.delete(k);
        continue;
      }
      // Reported once while it stays stale, not again at every later statement.
      if (this.staleNow.has(k)) continue;
      this.staleNow.add(k);
      // A translation missing-tlbi already reported (it could be cached) is not reported again now that it is.
      if (cached.tlbHit && this.tlbi.claim(fresh)) continue;
      const used = cached.tlbHit ? 'a cached translation (TLB)' : `cached configuration (${cached.config.filter((c) => c.source === 'cache').map((c) => c.what.toUpperCase()).join(', ')})`;
      this.report('stale-cache', `after this statement the SMMU would still use ${used} for DMA ${tx.access} SID ${hex(tx.sid)} IOVA ${hex(tx.iova)} ` +
        `and give ${outcomeText(cached, fresh)}, while memory now says ${outcomeText(fresh, cached)}: invalidate it (CFGI/TLBI) and CMD_SYNC`, `${txKey(tx)}`);
    }
  }

  /** The states the entry went through in program order, from the oldest observable one (as value keys). */
  private programStates(e: PathEntry, oldest: readonly bigint[]): Set<string> {
    const mem = this.m.mem;
    const changes: { seq: number; q: number; value: bigint }[] = [];
    for (let i = 0; i < e.qwords; i++) {
      const h = mem.history.get(e.addr + i * GRANULE);
      for (const v of h?.versions ?? []) changes.push({ seq: v.seq, q: i, value: v.value });
    }
    changes.sort((a, b) => a.seq - b.seq);
    const state = [...oldest];
    const out = new Set<string>([state.map((q) => hex(q)).join(' ')]);
    for (const c of changes) {
      state[c.q] = c.value;
      out.add(state.map((q) => hex(q)).join(' '));
    }
    return out;
  }

  /**
   * The kernel's view: does the value `v` of an STE or CD differ from `x` in the bits `v`
   * itself uses? Update-safe bits that both use may differ.
   */
  private differsInUsedBits(kind: 'ste' | 'cd', v: readonly bigint[], x: readonly bigint[]): boolean {
    const used = this.opts.usedBits!(kind, v);
    const usedX = this.opts.usedBits!(kind, x);
    const safe = this.opts.updateSafe?.(kind, v, x) ?? [];
    return used.some((u, i) => ((v[i] ^ x[i]) & u & ~((safe[i] ?? 0n) & usedX[i])) !== 0n);
  }

  /** Does a value of an STE or CD differ from both ends in the bits its own configuration uses? */
  private tornInUsedBits(e: PathEntry, v: readonly bigint[], oldest: readonly bigint[], newest: readonly bigint[]): boolean {
    if ((e.kind !== 'ste' && e.kind !== 'cd') || !this.opts.usedBits) return false;
    return this.differsInUsedBits(e.kind, v, oldest) && this.differsInUsedBits(e.kind, v, newest);
  }

  /** The kernel test's view of a torn value, for the explanation. */
  private usedBitsNote(e: PathEntry, v: readonly bigint[], oldest: readonly bigint[], newest: readonly bigint[]): string {
    if ((e.kind !== 'ste' && e.kind !== 'cd') || !this.opts.usedBits) return '';
    const fromOld = this.differsInUsedBits(e.kind, v, oldest);
    const fromNew = this.differsInUsedBits(e.kind, v, newest);
    const summary = decode(e.kind === 'ste' ? STE : CD, v).summary;
    return fromOld && fromNew
      ? `. In the bits this ${e.kind.toUpperCase()} value itself uses it matches neither (${summary})`
      : `. In the bits it uses it matches ${fromOld ? 'the new' : 'the old'} entry, yet the outcome differs (${summary})`;
  }

  /**
   * Does a cached STE or CD differ from memory in a way the SMMU could act on: in bits the
   * cached or the current configuration uses? (Without the driver's rules: in any bit.)
   */
  private configDiffers(kind: 'ste' | 'cd', cached: readonly bigint[], now: readonly bigint[]): boolean {
    if (!this.opts.usedBits) return now.some((w, i) => w !== cached[i]);
    const a = this.opts.usedBits(kind, cached);
    const b = this.opts.usedBits(kind, now);
    return now.some((w, i) => ((w ^ cached[i]) & (a[i] | b[i])) !== 0n);
  }

  // ---- end of the run --------------------------------------------------------------------------

  /** At the end of the run: what is still cached but stale, what was never synchronised. */
  finish(): void {
    this.endStatement();
    const smmu = this.m.smmu;
    for (const [sid, e] of smmu.cachedStes()) {
      const now = Array.from({ length: 8 }, (_, i) => this.m.load(e.addr + 8 * i, 8));
      if (this.configDiffers('ste', e.words, now)) {
        this.report('stale-cache', `at the end, the SMMU still caches the STE of StreamID ${hex(sid)} as it was fetched from ${hex(e.addr)}, ` +
          'but the CPU has changed it since: no CFGI_STE + CMD_SYNC followed the change', `end:ste:${sid}`);
      }
    }
    for (const { sid, ssid, entry } of smmu.cachedCds()) {
      const now = Array.from({ length: 8 }, (_, i) => this.m.load(entry.addr + 8 * i, 8));
      if (this.configDiffers('cd', entry.words, now)) {
        this.report('stale-cache', `at the end, the SMMU still caches CD ${hex(sid)}:${ssid} as fetched from ${hex(entry.addr)}, ` +
          'but the CPU has changed it since: no CFGI_CD + CMD_SYNC followed the change', `end:cd:${sid}:${ssid}`);
      }
    }
    // Translations (and level-1 descriptors) cached for a transaction that memory no longer gives.
    for (const [k, tx] of this.translated) {
      if (this.staleNow.has(k)) continue;
      const cached = smmu.probe(tx, new Map(), true);
      const l1 = cached.config.filter((c) => c.source === 'cache' && (c.what === 'l1std' || c.what === 'l1cd'));
      if (!cached.tlbHit && l1.length === 0) continue;
      const fresh = smmu.probe(tx, new Map());
      if (outcomeKey(cached) === outcomeKey(fresh)) continue;
      if (cached.tlbHit && this.tlbi.claim(fresh)) continue;
      const used = cached.tlbHit ? 'a cached translation (TLB)' : `a cached ${l1.map((c) => c.what.toUpperCase()).join(', ')}`;
      this.report('stale-cache', `at the end, the SMMU still holds ${used} for DMA ${tx.access} SID ${hex(tx.sid)} IOVA ${hex(tx.iova)} ` +
        `giving ${outcomeText(cached, fresh)}, while memory now says ${outcomeText(fresh, cached)}: no invalidation completed by CMD_SYNC followed the change`, `end:${k}`);
    }
    // After stale-cache: a translation this run's TLB holds is reported there, with the DMA that uses it.
    this.tlbi.finish();
    if (this.pendingInvalidations.length) {
      this.report('sync-missing', `the scenario ends after ${this.pendingInvalidations.map((i) => 'CMD_' + i.name).join(', ')} with no CMD_SYNC completing them`, 'end:sync');
    }
  }
}
