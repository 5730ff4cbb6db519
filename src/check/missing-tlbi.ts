/**
 * `missing-tlbi`: a translation the SMMU could have cached was changed, and no TLBI covering
 * it, completed by a CMD_SYNC, followed before the change could matter.
 *
 * The SMMU may walk and cache any valid translation reachable from its live configuration at
 * any time (speculative walks, prefetch), whether or not this run's traffic touched it. So
 * every CPU store that changes a valid descriptor of a reachable page table in a way the SMMU
 * could not keep using (cleared, another output or next-level table, a table replaced by a
 * block or the reverse, other attributes, fewer permissions) leaves an item pending: the
 * regime, the input range the entry covers and the old descriptor. Only such stores create
 * items, so the cost follows what changes, never the size of the tables.
 *
 * TLBIs consumed after the change cover the item as the TLB model's scopes say (tlb.ts): a leaf
 * needs one command whose scope holds its TLB entry (ASID, VMID, stage, EL2, TG/TTL, global
 * entries only by VA or ALL). A table descriptor needs its own walk-cache entry (Leaf=0) and,
 * over its whole input span, every leaf and deeper table descriptor that may have been cached
 * below it: intervals that per-page or range commands fill together. Stage 2 of a nested STE
 * also needs the combined entries dropped (TLBI_NH_ALL or TLBI_S12_VMALL of the VMID). A
 * CMD_SYNC completing after the covering commands clears the item.
 *
 * An item is reported once, at the earliest point where the stale translation could matter:
 *  - a DMA, in a later statement than the change, walks through the changed entry and gets
 *    something else than the old entry gives (the device could still get the old result);
 *  - the entry is written again to a translation that differs from the old one (re-mapped:
 *    the device could see either);
 *  - the old output range (for a table descriptor, the old table) is freed or allocated anew;
 *  - the scenario ends.
 * An item whose covering TLBIs were issued but not completed by a CMD_SYNC is `sync-missing`'s
 * at a free and at the end (that rule names the commands waiting); it stays this rule's at a
 * DMA or a re-map, which `sync-missing` does not judge.
 *
 * `stale-cache` is the case where this run's TLB does hold the translation: one bug, one
 * report. When `stale-cache` reports a transaction whose walk now goes through a pending
 * entry, the item is its (its message names the DMA that uses the cached translation); once
 * this rule has reported an item, `stale-cache` does not report it again.
 */
import { hex } from '../arch/codec';
import { Granule } from '../arch/field';
import { descriptorType, DescriptorType, Level, levelGeometry, outputAddress, PteFormat } from '../arch/pte';
import { TranslateResult } from '../model/smmu/smmu';
import { addressScope, scopeOf, TlbiCommand, WalkCacheEntry } from '../model/smmu/tlb';
import { TlbEntry, Transaction } from '../model/smmu/types';
import type { CheckHost } from './checker';
import { contextsOf, type ReachableTable, type TableContext } from './reach';
import { MAX_PHYS_ADDR } from '../model/memory';

/** A half-open input range [lo, hi). */
interface Span {
  readonly lo: number;
  readonly hi: number;
}

/** The translation regime a page table's entries are cached under. */
interface Regime {
  readonly stage: 1 | 2;
  readonly vmid: number;
  /** The ASID of stage-1 entries; -1 where entries are not ASID-tagged (stage 2, EL2 without E2H). */
  readonly asid: number;
  readonly el2: boolean;
  /** Stage 2 of a nested STE: combined stage-1+2 entries hold what it translated too. */
  readonly nested: boolean;
}

interface Item {
  readonly id: number;
  /** The statement that made the change, and its place for the messages. */
  readonly step: number;
  readonly regime: Regime;
  readonly fmt: PteFormat;
  /** Input range of the entry (signed VA for stage 1, IPA for stage 2). */
  readonly base: number;
  readonly size: number;
  readonly descAddr: number;
  readonly old: bigint;
  readonly oldType: DescriptorType;
  /** Output address (leaf) or next-level table (table) of the old descriptor. */
  readonly out: number;
  /** What the store did to it. */
  readonly change: string;
  /** The old leaf matched any ASID (nG=0, or an EL2 regime without ASIDs). */
  readonly global: boolean;
  readonly path: string;
  /** Coverage so far by TLBIs consumed after the change. */
  leaf: boolean;
  walk: boolean;
  leafGaps: Span[];
  walkGaps: Span[];
  combined: boolean;
  /** Reported by this rule; or another rule reports the same stale translation (stale-cache, table-reuse). */
  reported: boolean;
  elsewhere: boolean;
  /** TLBIs consumed since the change (names, for the message), and whether any covered part of it. */
  seen: string[];
  partly: boolean;
}

/** What the checker gives this rule. */
export interface MissingTlbiContext {
  readonly host: CheckHost;
  report(message: string, key: string): void;
  /** Bits of a descriptor the SMMU ignores (software, IGNORED) in both values. */
  ignored(fmt: PteFormat, a: bigint, b: bigint): bigint;
}

const TWO64 = 2n ** 64n;
const NO_PERMS = { read: false, write: false, execPriv: false, execUnpriv: false, user: false };
const PERM_BITS = (1n << 6n) | (1n << 7n) | (1n << 10n) | (1n << 53n) | (1n << 54n);
/** Stage-1 table descriptor restrictions: PXNTable, UXNTable, APTable[1:0] (bits [62:59]). */
const TABLE_LIMITS = 0xfn << 59n;

/** An input address as the device names it: a stage-1 VA in the TTB1 half (negative here) as its 64-bit value. */
function addrText(n: number): string {
  return hex(n < 0 ? TWO64 + BigInt(n) : BigInt(n));
}

function sizeText(n: number): string {
  for (const [u, s] of [['G', 30], ['M', 20], ['K', 10]] as const) if (n >= 2 ** s && n % 2 ** s === 0) return `${n / 2 ** s}${u}`;
  return `${n} bytes`;
}

/** Rights a leaf grants, as bits (set: granted), to tell a change that only grants from one that takes away. */
function rights(d: bigint, stage: 1 | 2): bigint {
  const bit = (n: bigint): bigint => (d >> n) & 1n;
  if (stage === 1) {
    // AF; write (AP[2]=0); unprivileged access (AP[1]); unprivileged and privileged execute (UXN, PXN clear).
    return bit(10n) | ((bit(7n) ^ 1n) << 1n) | (bit(6n) << 2n) | ((bit(54n) ^ 1n) << 3n) | ((bit(53n) ^ 1n) << 4n);
  }
  // AF; S2AP read, write; XN[1:0]: 0b01 and 0b10 deny privileged execution, 0b10 and 0b11 unprivileged.
  const xn = Number((d >> 53n) & 3n);
  return bit(10n) | (bit(6n) << 1n) | (bit(7n) << 2n) | (BigInt(xn === 1 || xn === 2 ? 0 : 1) << 3n) | (BigInt(xn >= 2 ? 0 : 1) << 4n);
}

function isValid(t: DescriptorType): boolean {
  return t === 'table' || t === 'block' || t === 'page';
}

/** Remove [lo, hi) from disjoint spans. */
function subtract(gaps: Span[], lo: number, hi: number): Span[] {
  if (!gaps.some((g) => g.lo < hi && lo < g.hi)) return gaps;
  const out: Span[] = [];
  for (const g of gaps) {
    if (hi <= g.lo || g.hi <= lo) {
      out.push(g);
      continue;
    }
    if (g.lo < lo) out.push({ lo: g.lo, hi: lo });
    if (hi < g.hi) out.push({ lo: hi, hi: g.hi });
  }
  return out;
}

/** Bytes of input one descriptor at `level` covers. */
function spanOf(granule: Granule, level: number): number {
  return 2 ** levelGeometry(granule, level as Level).indexLo;
}

export class MissingTlbi {
  private pending: Item[] = [];
  /** Pending items by descriptor address (for a later store to the same entry). */
  private byAddr = new Map<number, Item[]>();
  /** Descriptor addresses of pending items made before the current statement (for DMA). */
  private older = new Set<number>();
  private nextId = 0;
  /** Whether a TLBI was consumed since the last CMD_SYNC (items may be awaiting it). */
  private unsynced = false;

  constructor(private readonly c: MissingTlbiContext) {}

  get size(): number {
    return this.pending.length;
  }

  /** The state, to put back after the run is restored to this point. */
  save(): unknown {
    // Items change in place (coverage flags, `seen`); the gap lists are replaced, never changed.
    return { pending: this.pending.map((i) => ({ ...i, seen: [...i.seen] })), next: this.nextId, unsynced: this.unsynced };
  }

  restore(s: unknown): void {
    const st = s as { pending: Item[]; next: number; unsynced: boolean } | undefined;
    this.pending = st ? st.pending.map((i) => ({ ...i, seen: [...i.seen] })) : [];
    this.nextId = st?.next ?? 0;
    this.unsynced = st?.unsynced ?? false;
    this.reindex();
    this.older = new Set(this.pending.map((i) => i.descAddr));
  }

  private reindex(): void {
    this.byAddr = new Map();
    for (const i of this.pending) {
      const l = this.byAddr.get(i.descAddr);
      if (l) l.push(i);
      else this.byAddr.set(i.descAddr, [i]);
    }
  }

  private remove(gone: (i: Item) => boolean): void {
    const before = this.pending.length;
    this.pending = this.pending.filter((i) => !gone(i));
    if (this.pending.length === before) return;
    this.reindex();
    this.older = new Set([...this.older].filter((a) => this.byAddr.has(a)));
  }

  // ---- changes ---------------------------------------------------------------------------

  /**
   * A CPU store changed descriptor `index` of a reachable page table from `old` to `now`
   * (whole qwords as the CPU sees them).
   */
  onChange(t: ReachableTable, index: number, descAddr: number, old: bigint, now: bigint): void {
    // Most stores write an entry that was invalid (bit 0 clear) and has nothing pending: nothing to do.
    if (old === now || ((old & 1n) === 0n && !this.byAddr.has(descAddr))) return;
    const fmt: PteFormat = { stage: t.stage!, granule: t.granule!, level: t.level! as Level };
    // A pending item for this entry: a valid new value either gives back what the SMMU may
    // hold (nothing stale any more) or is a re-map while the old translation may be cached.
    const prev = this.byAddr.get(descAddr);
    if (prev && isValid(descriptorType(now, fmt))) {
      const settled: Item[] = [];
      for (const p of prev) {
        const change = this.changeOf(fmt, p.old, now);
        if (change === undefined) settled.push(p);
        else if (!p.reported && !p.elsewhere) {
          this.reportItem(p, `${this.c.host.where?.(this.c.host.step) ?? 'a later store'} writes the entry again (${change}, ${hex(now)}) ` +
            'while the old translation may still be cached: the device could see either');
        }
      }
      if (settled.length) this.remove((i) => settled.includes(i));
    }
    const oldType = descriptorType(old, fmt);
    if (!isValid(oldType)) return;
    const change = this.changeOf(fmt, old, now);
    if (change === undefined) return;
    // One item per context the table is reached in: each regime may hold the old translation.
    for (const ctx of contextsOf(t)) this.pend(ctx, fmt, index, descAddr, old, oldType, change);
  }

  /** An item pending for descriptor `index` of a table reached in `ctx`. */
  private pend(ctx: TableContext, fmt: PteFormat, index: number, descAddr: number, old: bigint, oldType: DescriptorType, change: string): void {
    const span = spanOf(fmt.granule, fmt.level);
    const base = (ctx.inputBase ?? 0) + index * span;
    const stage = fmt.stage;
    const el2 = stage === 1 && ctx.el2 === true;
    // An EL2 regime without E2H (SMMU_CR2.E2H, bit 0) has no ASIDs.
    const asid = stage === 2 || (el2 && (Number(this.c.host.machine.smmu.read('CR2')) & 1) === 0) ? -1 : ctx.asid ?? 0;
    const regime: Regime = { stage, vmid: el2 ? 0 : ctx.vmid ?? 0, asid, el2, nested: stage === 2 && ctx.nested === true };
    const table = oldType === 'table';
    const out = Number(outputAddress(old, fmt) ?? 0n);
    const below = table ? this.below(fmt, base, out) : { leaves: [], tables: [] };
    const item: Item = {
      id: this.nextId++, step: this.c.host.step,
      regime, fmt, base, size: span, descAddr, old, oldType, out, change,
      global: stage === 1 && (asid < 0 || ((old >> 11n) & 1n) === 0n) && !table,
      path: ctx.path,
      leaf: table, walk: !table,
      leafGaps: below.leaves,
      walkGaps: below.tables,
      combined: !regime.nested, reported: false, elsewhere: false, seen: [], partly: false,
    };
    this.pending.push(item);
    const l = this.byAddr.get(descAddr);
    if (l) l.push(item);
    else this.byAddr.set(descAddr, [item]);
  }

  /**
   * What the SMMU may have cached below a table descriptor whose next-level table is at
   * `next` (as the CPU or the SMMU sees it now; what was cleared before has items of its
   * own): the input spans of its valid entries (leaves, and everything under a deeper table
   * descriptor) and of its table descriptors (walk-cache entries). One table is read, once,
   * when its descriptor changes.
   */
  private below(fmt: PteFormat, base: number, next: number): { leaves: Span[]; tables: Span[] } {
    const level = (fmt.level + 1) as Level;
    const bytes = fmt.granule * 1024;
    const sub = spanOf(fmt.granule, level);
    const leaves: Span[] = [];
    const tables: Span[] = [];
    const add = (l: Span[], lo: number): void => {
      const last = l[l.length - 1];
      if (last && last.hi === lo) l[l.length - 1] = { lo: last.lo, hi: lo + sub };
      else l.push({ lo, hi: lo + sub });
    };
    if (next < 0 || next + bytes > MAX_PHYS_ADDR) return { leaves, tables };
    const mem = this.c.host.machine.mem;
    const views = [mem.cpuRead(next, bytes), mem.smmuRead(next, bytes)].map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength));
    const f = { ...fmt, level };
    for (let j = 0; j < bytes / 8; j++) {
      const types = views.map((v) => descriptorType(v.getBigUint64(j * 8, true), f));
      if (!types.some(isValid)) continue;
      add(leaves, base + j * sub);
      if (types.includes('table')) add(tables, base + j * sub);
    }
    return { leaves, tables };
  }

  /**
   * How a change of a valid descriptor takes away what the SMMU may have cached, or
   * undefined when the SMMU could keep using the old value (ignored bits, or only more
   * rights: the cached entry is then merely stricter).
   */
  private changeOf(fmt: PteFormat, old: bigint, now: bigint): string | undefined {
    const a = descriptorType(old, fmt);
    const b = descriptorType(now, fmt);
    if (!isValid(b)) return 'cleared';
    if ((a === 'table') !== (b === 'table')) return `a ${a} replaced by a ${b}`;
    const oa = outputAddress(old, fmt);
    const ob = outputAddress(now, fmt);
    if (oa !== ob) return a === 'table' ? `now pointing at the table at ${hex(ob ?? 0n)}` : `now mapping ${hex(ob ?? 0n)}`;
    const diff = (old ^ now) & ~this.c.ignored(fmt, old, now);
    if (diff === 0n) return undefined;
    if (a === 'table') {
      if (fmt.stage === 2 || (diff & ~TABLE_LIMITS) !== 0n) return 'other table attributes';
      return (now & ~old & TABLE_LIMITS) !== 0n ? 'restricting the tables below' : undefined;
    }
    if ((diff & ~PERM_BITS) !== 0n) return 'other attributes';
    return (rights(old, fmt.stage) & ~rights(now, fmt.stage)) !== 0n ? 'fewer permissions' : undefined;
  }

  // ---- invalidation ------------------------------------------------------------------------

  /** A TLBI consumed by the SMMU: what it covers of each pending item. */
  onTlbi(cmd: TlbiCommand): void {
    this.unsynced = true;
    if (this.pending.length === 0) return;
    const scope = scopeOf(cmd);
    const addressed = 'addr' in cmd;
    const s = addressed ? addressScope(cmd, cmd.op === 'S2_IPA') : undefined;
    for (const i of this.pending) {
      const g = i.fmt.granule * 1024;
      if (i.seen.length < 4) i.seen.push(`CMD_TLBI_${cmd.op}`);
      if (s) {
        // Quick reject: the command's addresses miss the item's span.
        const lo = Math.floor(s.start / g) * g;
        const hi = s.end === s.start ? lo + g : s.end;
        if (hi <= i.base || i.base + i.size <= lo) continue;
      }
      const before = MissingTlbi.left(i);
      this.cover(i, cmd, scope, s);
      if (MissingTlbi.left(i) !== before) i.partly = true;
    }
  }

  /** How much of an item is still uncovered (grows smaller as TLBIs cover parts of it). */
  private static left(i: Item): number {
    let n = (i.leaf ? 0 : 1) + (i.walk ? 0 : 1) + (i.combined ? 0 : 1);
    for (const g of i.leafGaps) n += g.hi - g.lo;
    for (const g of i.walkGaps) n += g.hi - g.lo;
    return n;
  }

  private cover(i: Item, cmd: TlbiCommand, scope: ReturnType<typeof scopeOf>, s: ReturnType<typeof addressScope> | undefined): void {
    const r = i.regime;
    const leafAt = (base: number, size: number, level: number): TlbEntry => ({
      vmid: r.vmid, asid: r.asid, global: r.stage === 2 || i.global, el2: r.el2, stage: r.stage === 2 ? 's2' : 's1',
      inputBase: base, size, outputBase: 0, level: level as Level, granule: i.fmt.granule, perms: NO_PERMS, sh: 0,
    });
    const walkAt = (base: number, size: number, level: number): WalkCacheEntry => ({
      stage: r.stage, vmid: r.vmid, asid: r.stage === 2 ? -1 : r.asid, el2: r.el2, level: level as Level, granule: i.fmt.granule,
      inputBase: base, size, descAddr: i.descAddr, desc: i.old, tableAddr: i.out,
    });
    if (r.nested && !i.combined) {
      i.combined = (cmd.op === 'NH_ALL' || cmd.op === 'S12_VMALL') ? cmd.vmid === r.vmid : cmd.op === 'NSNH_ALL';
    }
    if (i.oldType !== 'table') {
      i.leaf ||= scope.tlb(leafAt(i.base, i.size, i.fmt.level));
      return;
    }
    i.walk ||= scope.walk(walkAt(i.base, i.size, i.fmt.level));
    const g = i.fmt.granule * 1024;
    // The least every command covers, whatever was cached below: the smallest entry holding
    // each address it names (a page for leaves, a level-2 span for table descriptors), or its
    // range rounded out to them. Which levels it reaches is checked on one entry per level.
    const region = (unit: number): Span => {
      if (!s) return { lo: i.base, hi: i.base + i.size };
      const lo = Math.floor(s.start / unit) * unit;
      return { lo, hi: s.end === s.start ? lo + unit : Math.ceil(s.end / unit) * unit };
    };
    if (i.leafGaps.length) {
      const at = region(g);
      let all = true;
      for (let l = i.fmt.level + 1; l <= 3 && all; l++) all = scope.tlb(leafAt(at.lo, g, l));
      if (all) i.leafGaps = subtract(i.leafGaps, at.lo, at.hi);
    }
    if (i.walkGaps.length) {
      const unit = spanOf(i.fmt.granule, 2);
      const at = region(unit);
      let all = true;
      for (let l = i.fmt.level + 1; l <= 2 && all; l++) all = scope.walk(walkAt(at.lo, unit, l));
      if (all) i.walkGaps = subtract(i.walkGaps, at.lo, at.hi);
    }
  }

  private static covered(i: Item): boolean {
    return i.leaf && i.walk && i.combined && i.leafGaps.length === 0 && i.walkGaps.length === 0;
  }

  /** A CMD_SYNC completed: items covered by the TLBIs before it are no longer stale. */
  onSync(): void {
    this.unsynced = false;
    this.remove(MissingTlbi.covered);
  }

  // ---- the points where it matters -----------------------------------------------------------

  /** Memory freed (or allocated anew): the old output page or table of an item in it. */
  onRelease(name: string, base: number, size: number, what: 'freed' | 'allocated'): void {
    for (const i of this.pending) {
      if (i.reported || i.elsewhere || (this.unsynced && MissingTlbi.covered(i))) continue;
      const len = i.oldType === 'table' ? i.fmt.granule * 1024 : i.size;
      if (i.out < base + size && base < i.out + len) {
        // The walk cache of the run does hold a descriptor pointing into it: `table-reuse` reports that free.
        if (i.oldType === 'table' && what === 'freed' && this.c.host.machine.smmu.tlb.walkEntries().some((w) => w.tableAddr >= base && w.tableAddr < base + size)) {
          i.elsewhere = true;
          continue;
        }
        const whose = i.oldType === 'table' ? `the old table at ${hex(i.out)}` : `the old output ${hex(i.out)}`;
        this.reportItem(i, `'${name}' [${hex(base)}, ${hex(base + size)}), holding ${whose}, is ${what} while the SMMU may still ` +
          (i.oldType === 'table' ? 'walk it' : 'translate to it'));
      }
    }
  }

  /** A translation done by the SMMU (explicit DMA or background traffic). */
  onTranslate(tx: Transaction, r: TranslateResult): void {
    // A TLB hit is `stale-cache`'s business; within the statement of the change, the window every update has.
    if (this.older.size === 0 || r.tlbHit) return;
    for (const w of r.walk) {
      if (!this.older.has(w.descAddr)) continue;
      for (const i of this.byAddr.get(w.descAddr) ?? []) {
        if (i.reported || i.elsewhere || i.step >= this.c.host.step) continue;
        const was = this.c.host.machine.smmu.probe(tx, new Map([[i.descAddr, i.old]]));
        if (was.outcome === r.outcome && was.pa === r.pa && was.event?.name === r.event?.name) continue;
        const got = (x: TranslateResult): string => (x.outcome === 'ok' || x.outcome === 'bypass' ? `→ ${hex(x.pa!)}` : x.event?.name ?? x.outcome);
        this.reportItem(i, `DMA ${tx.access} SID ${hex(tx.sid)}${tx.ssid !== undefined ? ':' + hex(tx.ssid) : ''} IOVA ${hex(tx.iova)} walks memory ` +
          `and gets ${got(r)}, but with the old entry cached it gets ${got(was)}: on hardware the device may still see the old translation`);
      }
    }
  }

  /** The end of a statement: what is pending now is older than what the next one changes. */
  endStatement(): void {
    for (const i of this.pending) this.older.add(i.descAddr);
  }

  /** The end of the run: every item still pending (and not waiting only for a CMD_SYNC). */
  finish(): void {
    for (const i of this.pending) {
      if (i.reported || i.elsewhere || (this.unsynced && MissingTlbi.covered(i))) continue;
      this.reportItem(i, 'the scenario ends with it pending');
    }
  }

  // ---- the other rule ------------------------------------------------------------------------

  /**
   * `stale-cache` is about to report a transaction whose fresh translation is `fresh`: the
   * items its walk goes through become that rule's. True when this rule has already
   * reported one of them (the caller then stays silent).
   */
  claim(fresh: TranslateResult): boolean {
    let mine = false;
    for (const w of fresh.walk) {
      for (const i of this.byAddr.get(w.descAddr) ?? []) {
        if (i.reported) mine = true;
        else i.elsewhere = true;
      }
    }
    return mine;
  }

  // ---- messages ----------------------------------------------------------------------------

  private reportItem(i: Item, then: string): void {
    i.reported = true;
    const r = i.regime;
    const what = r.stage === 1 ? 'IOVA' : 'IPA';
    const tags = r.stage === 2 ? `stage 2, VMID ${r.vmid}${r.nested ? ', nested' : ''}`
      : r.el2 ? `stage 1, EL2${r.asid >= 0 ? `, ASID ${r.asid}` : ''}` : `stage 1, ASID ${r.asid}${i.global ? ' (global entry)' : ''}, VMID ${r.vmid}`;
    const range = `${what} [${addrText(i.base)}, ${addrText(i.base + i.size)})`;
    const oldText = i.oldType === 'table'
      ? `was walked through a level-${i.fmt.level} table descriptor → level-${i.fmt.level + 1} table at ${hex(i.out)}`
      : `translated → ${hex(i.out)} (${sizeText(i.size)} ${i.oldType})`;
    const where = this.c.host.where?.(i.step) ?? 'a store';
    const text = `stage-${r.stage} level-${i.fmt.level} descriptor at ${hex(i.descAddr)}`;
    this.c.report(`${range} (${tags}) ${oldText}; ${where} changed the ${text} (${i.change}) and no TLBI covering it was completed ` +
      `by a CMD_SYNC, yet the SMMU may have cached it (it may walk any valid translation it can reach, at any time). Then ${then}. ` +
      `${this.missing(i)}Fix: ${this.fix(i)}. (The entry is reached through ${i.path}.)`, `item${i.id}`);
  }

  /** What the TLBIs so far left out, when they covered part of it. */
  private missing(i: Item): string {
    if (MissingTlbi.covered(i)) return 'The TLBIs that cover it were issued, but no CMD_SYNC has completed them. ';
    if (!i.partly) {
      return i.seen.length ? `The TLBIs after the change (${i.seen.join(', ')}${i.seen.length === 4 ? ', ...' : ''}) do not cover it (another regime, ASID, VMID or address). ` : '';
    }
    const parts: string[] = [];
    const spans = (g: Span[]): string => g.slice(0, 2).map((x) => `[${addrText(x.lo)}, ${addrText(x.hi)})`).join(', ') + (g.length > 2 ? ` and ${g.length - 2} more` : '');
    if (!i.walk) parts.push('the table descriptor itself in the walk cache (only a Leaf=0 TLBI drops it)');
    if (i.leafGaps.length) parts.push(`translations below it in ${spans(i.leafGaps)}`);
    if (i.walkGaps.length) parts.push(`table descriptors below it in ${spans(i.walkGaps)}`);
    if (!i.combined) parts.push('the combined stage-1+2 entries (TLBI_NH_ALL or TLBI_S12_VMALL of the VMID)');
    return parts.length ? `The TLBIs issued leave out ${parts.join('; ')}. ` : '';
  }

  /** The invalidation that would have covered it. */
  private fix(i: Item): string {
    const r = i.regime;
    const table = i.oldType === 'table';
    const leaf = table ? 'Leaf=0' : 'Leaf=1';
    const range = `${addrText(i.base)}${i.size > i.fmt.granule * 1024 ? ` size ${sizeText(i.size)}` : ''}`;
    let cmd: string;
    if (r.stage === 2) {
      cmd = `CMD_TLBI_S2_IPA VMID ${r.vmid} ${range} ${leaf}${r.nested ? ` and CMD_TLBI_NH_ALL VMID ${r.vmid}` : ''}`;
    } else if (r.el2) {
      cmd = i.global ? `CMD_TLBI_EL2_VAA ${range} ${leaf}` : `CMD_TLBI_EL2_VA ASID ${r.asid} ${range} ${leaf}`;
    } else {
      cmd = i.global ? `CMD_TLBI_NH_VAA VMID ${r.vmid} ${range} ${leaf}` : `CMD_TLBI_NH_VA ASID ${r.asid} VMID ${r.vmid} ${range} ${leaf}`;
    }
    return `${cmd} (or a wider TLBI of the regime) + CMD_SYNC before that, ` +
      (table ? 'as io_pgtable_tlb_flush_walk does before the kernel frees a table' : 'as iommu_iotlb_sync does after an unmap');
  }
}
