/**
 * The SMMU's TLB and walk cache, with the architecture's invalidation scopes (SMMUv3 4.4).
 *
 * TLB entries are leaf translations (stage 1, stage 2 or nested, one per page or block)
 * in an open-addressing hash table on typed arrays, keyed by (regime, ASID or "global",
 * size, input page number). A lookup probes each size class present, own ASID first then
 * global, and allocates nothing: all keys are int32s, no strings, closures or arrays.
 * Inputs are numbers in the walker's form (walk.ts `inputAddress`: the signed VA for
 * stage 1, so TTB1 addresses are negative; the IPA for stage-2-only entries).
 *
 * The walk cache holds the table descriptors of walks the caller records (`recordWalk`),
 * by regime, stage, level and the input span the descriptor covers. Lookups do not use it
 * (a TLB miss walks from the starting table in memory); it is there for the views and for
 * what Leaf=0 invalidates, so the checker can tell a table that is still cached from one
 * that is not.
 *
 * Invalidation performs the minimum scope the specification requires, so a missing or
 * too-narrow TLBI shows up as a stale entry: TG filters by granule, TTL by the leaf level
 * (table levels below TTL with Leaf=0), CMD_TLBI_S2_IPA leaves nested (combined stage 1 and
 * 2) entries alone (4.4.3.1: software pairs it with TLBI_NH_ALL / NH_VAA). Where the model
 * cannot know what the hardware knows (16K TTL=1 needs IDR5.DS) it invalidates more.
 *
 * Snapshots are copy-on-write: `snapshot()` is O(1) and shares the storage; the first
 * mutation of either copy afterwards copies the arrays and the walk-cache map (O(entries)).
 */
import { FieldReader, Granule } from '../../arch/field';
import { Level } from '../../arch/pte';
import { tlbiRange } from '../../arch/commands';
import { TlbEntry, TlbTag, WalkResult, WalkStep, WalkStepDetail } from './types';

/** One cached table descriptor. */
export interface WalkCacheEntry {
  readonly stage: 1 | 2;
  readonly vmid: number;
  /** ASID of stage-1 EL1 / EL2-E2H walks; -1 where walks are not ASID-tagged (stage 2, plain EL2). */
  readonly asid: number;
  readonly el2: boolean;
  readonly level: Level;
  readonly granule: Granule;
  /** The input span (VA in signed form for stage 1, IPA for stage 2) the descriptor covers. */
  readonly inputBase: number;
  readonly size: number;
  readonly descAddr: number;
  readonly desc: bigint;
  /** The next-level table it points to (an IPA for stage 1 of a nested regime). */
  readonly tableAddr: number;
}

/** The address part of CMD_TLBI_*_VA / *_VAA / S2_IPA, as decoded from the command (4.4.1.1). */
export interface TlbiAddress {
  /** The Address field: VA[63:12] (top byte ignored, sign-extended from bit 55) or IPA[55:12]. */
  readonly addr: bigint;
  /** Leaf=1: only last-level entries; 0 also the walk cache. */
  readonly leaf: boolean;
  /** 0: every entry containing addr, whatever its size; 1/2/3: range of 4K/16K/64K granules. */
  readonly tg?: number;
  readonly num?: number;
  readonly scale?: number;
  /** Level hint (TG != 0): only leaves of this level (0: any). */
  readonly ttl?: number;
}

export type TlbiCommand =
  | { readonly op: 'NH_ALL'; readonly vmid: number }
  | { readonly op: 'NH_ASID'; readonly vmid: number; readonly asid: number }
  | ({ readonly op: 'NH_VA'; readonly vmid: number; readonly asid: number } & TlbiAddress)
  | ({ readonly op: 'NH_VAA'; readonly vmid: number } & TlbiAddress)
  | { readonly op: 'EL2_ALL' }
  | { readonly op: 'EL2_ASID'; readonly asid: number }
  | ({ readonly op: 'EL2_VA'; readonly asid: number } & TlbiAddress)
  | ({ readonly op: 'EL2_VAA' } & TlbiAddress)
  | { readonly op: 'S12_VMALL'; readonly vmid: number }
  | ({ readonly op: 'S2_IPA'; readonly vmid: number } & TlbiAddress)
  | { readonly op: 'NSNH_ALL' };

export interface Invalidated {
  /** TLB (leaf) entries dropped. */
  readonly entries: number;
  /** Walk-cache (table) entries dropped. */
  readonly walks: number;
}

// ---------------------------------------------------------------------------------------
// Keys

const POW2 = new Float64Array(66).map((_, i) => 2 ** i);
const TWO32 = 4294967296;
/** The ASID key of entries that match any ASID (global, plain EL2, stage 2). */
const ANY_ASID = 0x10000;
const GRANULE_SHIFT: Record<number, number> = { 4: 12, 16: 14, 64: 16 };
const TG_GRANULE: readonly (Granule | 0)[] = [0, 4, 16, 64];

function stageIndex(stage: TlbTag['stage']): number {
  return stage === 's1' ? 0 : stage === 's2' ? 1 : 2;
}

/** Regime key: stage, EL2 and VMID (EL2 regimes have no VMID). */
function regimeKey(stage: TlbTag['stage'], el2: boolean, vmid: number): number {
  return ((stageIndex(stage) * 2 + (el2 ? 1 : 0)) << 16) | (el2 ? 0 : vmid & 0xffff);
}

function asidKey(e: TlbEntry): number {
  return e.global || e.stage === 's2' ? ANY_ASID : e.asid & 0xffff;
}

// ---------------------------------------------------------------------------------------
// Storage: shared between snapshots until one of them changes it

class Store {
  refs = 1;
  count = 0;
  mask: number;
  /** Four int32 keys per slot: regime, asidKey | shift << 17, page-number high, low. */
  keys: Int32Array;
  vals: (TlbEntry | undefined)[];
  /** Entries per size class (log2 bytes), and the classes present, ascending. */
  perShift: Int32Array;
  shifts: number[];
  walks: Map<string, WalkCacheEntry>;
  /** The walk-cache entry last stored per stage and level (index level + 4 * (stage - 1)). */
  lastWalks: (WalkCacheEntry | undefined)[] = new Array<WalkCacheEntry | undefined>(8).fill(undefined);

  constructor(capacity = 64) {
    this.mask = capacity - 1;
    this.keys = new Int32Array(capacity * 4);
    this.vals = new Array<TlbEntry | undefined>(capacity).fill(undefined);
    this.perShift = new Int32Array(64);
    this.shifts = [];
    this.walks = new Map();
  }

  clone(): Store {
    const s = new Store(this.mask + 1);
    s.count = this.count;
    s.keys.set(this.keys);
    s.vals = this.vals.slice();
    s.perShift.set(this.perShift);
    s.shifts = this.shifts.slice();
    s.walks = new Map(this.walks);
    return s;
  }

  /** The slot holding the key, or -1. */
  find(k0: number, k1: number, k2: number, k3: number): number {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = hash(k0, k1, k2, k3) & mask;
    for (;;) {
      if (vals[i] === undefined) return -1;
      const j = i << 2;
      if (keys[j] === k0 && keys[j + 1] === k1 && keys[j + 2] === k2 && keys[j + 3] === k3) return i;
      i = (i + 1) & mask;
    }
  }

  put(e: TlbEntry): void {
    const shift = Math.log2(e.size);
    const page = e.inputBase / e.size;
    const hi = Math.floor(page / TWO32);
    const k0 = regimeKey(e.stage, e.el2, e.vmid);
    const k1 = asidKey(e) | (shift << 17);
    const k2 = hi | 0;
    const k3 = (page - hi * TWO32) | 0;
    let i = hash(k0, k1, k2, k3) & this.mask;
    for (;;) {
      const old = this.vals[i];
      if (old === undefined) break;
      const j = i << 2;
      if (this.keys[j] === k0 && this.keys[j + 1] === k1 && this.keys[j + 2] === k2 && this.keys[j + 3] === k3) {
        this.vals[i] = e;
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.fill(i, k0, k1, k2, k3, e);
    this.count++;
    if (this.perShift[shift]++ === 0) this.shifts = [...this.shifts, shift].sort((a, b) => a - b);
    if (this.count * 2 > this.mask + 1) this.grow();
  }

  /** Twice the slots, each entry moved with the keys it already has (counts are unchanged). */
  private grow(): void {
    const oldVals = this.vals;
    const oldKeys = this.keys;
    this.mask = this.mask * 2 + 1;
    this.keys = new Int32Array((this.mask + 1) * 4);
    this.vals = new Array<TlbEntry | undefined>(this.mask + 1).fill(undefined);
    for (let o = 0; o < oldVals.length; o++) {
      const e = oldVals[o];
      if (e === undefined) continue;
      const j0 = o << 2;
      const k0 = oldKeys[j0];
      const k1 = oldKeys[j0 + 1];
      const k2 = oldKeys[j0 + 2];
      const k3 = oldKeys[j0 + 3];
      let i = hash(k0, k1, k2, k3) & this.mask;
      while (this.vals[i] !== undefined) i = (i + 1) & this.mask;
      this.fill(i, k0, k1, k2, k3, e);
    }
  }

  /** Store an entry and its keys in slot `i`. */
  private fill(i: number, k0: number, k1: number, k2: number, k3: number, e: TlbEntry): void {
    const j = i << 2;
    this.keys[j] = k0;
    this.keys[j + 1] = k1;
    this.keys[j + 2] = k2;
    this.keys[j + 3] = k3;
    this.vals[i] = e;
  }
}

function hash(k0: number, k1: number, k2: number, k3: number): number {
  let h = Math.imul(k3, 0x9e3779b1) ^ Math.imul(k2 ^ 0x7f4a7c15, 0x85ebca77);
  h ^= Math.imul(k0 ^ (k1 << 5), 0xc2b2ae3d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

function checkEntry(e: TlbEntry): void {
  const shift = Math.log2(e.size);
  if (!Number.isInteger(shift) || shift < 12 || shift > 52) throw new RangeError(`TLB entry size ${e.size} is not a power of two from 4KB to 2^52`);
  if (e.inputBase % e.size !== 0) throw new RangeError(`TLB entry input base ${e.inputBase} is not aligned to its size ${e.size}`);
}

// ---------------------------------------------------------------------------------------
// Invalidation scopes

/** Which addresses an address-based command covers, and its TG / TTL filters. */
export interface AddressScope {
  readonly start: number;
  /** Exclusive end; equal to start for a single address (TG = 0). */
  readonly end: number;
  readonly granule: Granule | 0;
  readonly ttl: number;
  readonly leaf: boolean;
}

/** A VA from a command's Address field: top byte ignored, sign-extended from bit 55. */
function signedVa(addr: bigint): number {
  const low = BigInt.asUintN(56, addr);
  return (low >> 55n) === 1n ? Number(low) - POW2[56] : Number(low);
}

export function addressScope(a: TlbiAddress, ipa: boolean): AddressScope {
  const start = ipa ? Number(BigInt.asUintN(56, a.addr)) : signedVa(a.addr);
  const tg = a.tg ?? 0;
  if (tg === 0) return { start, end: start, granule: 0, ttl: 0, leaf: a.leaf };
  // Range = (NUM+1) * 2^SCALE granules (SCALE above 39 acts as 39), as tlbiRange computes.
  const pages = ((a.num ?? 0) + 1) * POW2[Math.min(a.scale ?? 0, 39)];
  const granule = TG_GRANULE[tg] as Granule;
  let ttl = a.ttl ?? 0;
  // 16K with TTL=1 is reserved without IDR5.DS and then acts as TTL=0; not knowing DS, use
  // the wider reading.
  if (granule === 16 && ttl === 1) ttl = 0;
  return { start, end: start + pages * POW2[GRANULE_SHIFT[granule]], granule, ttl, leaf: a.leaf };
}

function covers(s: AddressScope, base: number, size: number): boolean {
  return s.end === s.start ? base <= s.start && s.start < base + size : base < s.end && s.start < base + size;
}

/** A leaf entry in scope: address, and with TG set the granule and the TTL level. */
function leafInScope(s: AddressScope, e: TlbEntry): boolean {
  if (!covers(s, e.inputBase, e.size)) return false;
  if (s.granule === 0) return true;
  return e.granule === s.granule && (s.ttl === 0 || e.level === s.ttl);
}

/** A table entry in scope: only with Leaf=0; with a TTL, only levels before it. */
function walkInScope(s: AddressScope, w: WalkCacheEntry): boolean {
  if (s.leaf || !covers(s, w.inputBase, w.size)) return false;
  if (s.granule === 0) return true;
  return w.granule === s.granule && (s.ttl === 0 || w.level < s.ttl);
}

/** What a TLBI drops: which TLB entries and which walk-cache entries. */
export interface Scope {
  readonly tlb: (e: TlbEntry) => boolean;
  readonly walk: (w: WalkCacheEntry) => boolean;
}

/** NS-EL1 stage-1 information: stage-1 and nested entries, not EL2 ones. */
const isEl1S1 = (e: TlbEntry): boolean => !e.el2 && e.stage !== 's2';
const isEl1S1Walk = (w: WalkCacheEntry): boolean => !w.el2 && w.stage === 1;

export function scopeOf(cmd: TlbiCommand): Scope {
  switch (cmd.op) {
    case 'NH_ALL':
      return { tlb: (e) => isEl1S1(e) && e.vmid === cmd.vmid, walk: (w) => isEl1S1Walk(w) && w.vmid === cmd.vmid };
    case 'NH_ASID':
      return {
        tlb: (e) => isEl1S1(e) && e.vmid === cmd.vmid && !e.global && e.asid === cmd.asid,
        walk: (w) => isEl1S1Walk(w) && w.vmid === cmd.vmid && w.asid === cmd.asid,
      };
    case 'NH_VA': {
      const s = addressScope(cmd, false);
      return {
        tlb: (e) => isEl1S1(e) && e.vmid === cmd.vmid && (e.global || e.asid === cmd.asid) && leafInScope(s, e),
        walk: (w) => isEl1S1Walk(w) && w.vmid === cmd.vmid && w.asid === cmd.asid && walkInScope(s, w),
      };
    }
    case 'NH_VAA': {
      const s = addressScope(cmd, false);
      return {
        tlb: (e) => isEl1S1(e) && e.vmid === cmd.vmid && leafInScope(s, e),
        walk: (w) => isEl1S1Walk(w) && w.vmid === cmd.vmid && walkInScope(s, w),
      };
    }
    case 'EL2_ALL':
      return { tlb: (e) => e.el2, walk: (w) => w.el2 };
    case 'EL2_ASID':
      // Non-global EL2-E2H entries; plain EL2 entries are not ASID-tagged (inserted global).
      return { tlb: (e) => e.el2 && !e.global && e.asid === cmd.asid, walk: (w) => w.el2 && w.asid === cmd.asid };
    case 'EL2_VA': {
      // With SMMU_CR2.E2H=0 every EL2 entry is global, so the ASID does not matter then.
      const s = addressScope(cmd, false);
      return {
        tlb: (e) => e.el2 && (e.global || e.asid === cmd.asid) && leafInScope(s, e),
        walk: (w) => w.el2 && (w.asid < 0 || w.asid === cmd.asid) && walkInScope(s, w),
      };
    }
    case 'EL2_VAA': {
      const s = addressScope(cmd, false);
      return { tlb: (e) => e.el2 && leafInScope(s, e), walk: (w) => w.el2 && walkInScope(s, w) };
    }
    case 'S12_VMALL':
      return { tlb: (e) => !e.el2 && e.vmid === cmd.vmid, walk: (w) => !w.el2 && w.vmid === cmd.vmid };
    case 'S2_IPA': {
      // Stage-2-only entries and stage-2 table walks; nested entries are not required (4.4.3.1).
      const s = addressScope(cmd, true);
      return {
        tlb: (e) => e.stage === 's2' && !e.el2 && e.vmid === cmd.vmid && leafInScope(s, e),
        walk: (w) => w.stage === 2 && !w.el2 && w.vmid === cmd.vmid && walkInScope(s, w),
      };
    }
    case 'NSNH_ALL':
      return { tlb: (e) => !e.el2, walk: (w) => !w.el2 };
  }
}

/**
 * The TlbiCommand of a decoded CMD_TLBI_* (name with or without CMD_), or undefined for
 * commands that touch nothing modelled (EL3, Secure). The range fields are read as
 * `tlbiRange` reads them.
 */
export function tlbiCommandFrom(name: string, d: FieldReader): TlbiCommand | undefined {
  const op = name.replace(/^(CMD_)?TLBI_/, '');
  const address = (): TlbiAddress => {
    const r = tlbiRange(d);
    return {
      addr: r ? r.start : d.get('Address'), leaf: d.num('Leaf') === 1,
      tg: d.num('TG'), num: d.num('NUM'), scale: d.num('SCALE'), ttl: d.num('TTL'),
    };
  };
  switch (op) {
    case 'NH_ALL': case 'S12_VMALL':
      return { op, vmid: d.num('VMID') };
    case 'NH_ASID':
      return { op, vmid: d.num('VMID'), asid: d.num('ASID') };
    case 'NH_VA':
      return { op, vmid: d.num('VMID'), asid: d.num('ASID'), ...address() };
    case 'NH_VAA': case 'S2_IPA':
      return { op, vmid: d.num('VMID'), ...address() };
    case 'EL2_ALL': case 'NSNH_ALL':
      return { op };
    case 'EL2_ASID':
      return { op, asid: d.num('ASID') };
    case 'EL2_VA':
      return { op, asid: d.num('ASID'), ...address() };
    case 'EL2_VAA':
      return { op, ...address() };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// The TLB

export class Tlb {
  private s: Store;

  /** An empty TLB, or a copy-on-write copy of `from` (what `snapshot` gives). */
  constructor(from?: Tlb) {
    if (from) from.s.refs++;
    this.s = from ? from.s : new Store();
  }

  /** Entries held. */
  get size(): number {
    return this.s.count;
  }

  /**
   * The entry translating `input` (walker form: signed VA, or IPA for stage 2) in a regime.
   * ASID-tagged entries of `asid` are tried before global ones, smaller sizes first.
   * Allocation-free on a hit and on a miss.
   */
  lookup(vmid: number, asid: number, stage: TlbTag['stage'], el2: boolean, input: number): TlbEntry | undefined {
    const s = this.s;
    const shifts = s.shifts;
    const k0 = regimeKey(stage, el2, vmid);
    const own = stage === 's2' ? -1 : asid & 0xffff;
    for (let n = 0; n < shifts.length; n++) {
      const shift = shifts[n];
      const page = Math.floor(input / POW2[shift]);
      const hi = Math.floor(page / TWO32);
      const k2 = hi | 0;
      const k3 = (page - hi * TWO32) | 0;
      const k1 = shift << 17;
      if (own >= 0) {
        const i = s.find(k0, own | k1, k2, k3);
        if (i >= 0) return s.vals[i];
      }
      const i = s.find(k0, ANY_ASID | k1, k2, k3);
      if (i >= 0) return s.vals[i];
    }
    return undefined;
  }

  /** Insert (or replace the entry with the same regime, ASID, size and base). */
  insert(entry: TlbEntry): void {
    checkEntry(entry);
    this.own().put(entry);
  }

  /** Every entry, by regime then input address: for views and the checker. */
  entries(): TlbEntry[] {
    const out: TlbEntry[] = [];
    for (const e of this.s.vals) if (e) out.push(e);
    return out.sort((a, b) => regimeKey(a.stage, a.el2, a.vmid) - regimeKey(b.stage, b.el2, b.vmid) ||
      a.asid - b.asid || a.inputBase - b.inputBase || a.size - b.size);
  }

  /** Every walk-cache entry, by regime, stage, level and input. */
  walkEntries(): WalkCacheEntry[] {
    return [...this.s.walks.values()].sort((a, b) => Number(a.el2) - Number(b.el2) || a.vmid - b.vmid || a.asid - b.asid ||
      a.stage - b.stage || a.level - b.level || a.inputBase - b.inputBase);
  }

  /**
   * Record the table descriptors of a walk (its `steps`, from walk.ts) in the walk cache.
   * `asid` -1 for regimes without ASIDs (plain EL2); stage-2 steps are cached by VMID only.
   * Returns how many table descriptors were recorded.
   */
  recordWalk(tag: { readonly vmid: number; readonly asid: number; readonly el2: boolean }, steps: readonly WalkStep[]): number {
    let n = 0;
    let s: Store | undefined;
    for (const step of steps) {
      const d = step as WalkStepDetail;
      if (step.type !== 'table' || d.input === undefined || d.next === undefined) continue;
      const asid = step.stage === 2 ? -1 : tag.asid;
      const el2 = step.stage === 2 ? false : tag.el2;
      n++;
      s ??= this.own();
      // Consecutive walks mostly share their upper tables: an entry equal to the last one
      // recorded at this stage and level (same descriptor, regime, and span holding this
      // input) is already held — nothing removes an entry from a store — so it is not
      // keyed and stored again.
      const slot = step.level + (step.stage - 1) * 4;
      const last = s.lastWalks[slot];
      if (last && last.descAddr === step.descAddr && last.desc === step.desc && last.tableAddr === d.next && last.granule === d.granule &&
        last.vmid === tag.vmid && last.asid === asid && last.el2 === el2 && d.input >= last.inputBase && d.input < last.inputBase + last.size) continue;
      const g = GRANULE_SHIFT[d.granule];
      const size = POW2[g + (g - 3) * (3 - step.level)];
      const inputBase = d.input - (((d.input % size) + size) % size);
      const w: WalkCacheEntry = {
        stage: step.stage, vmid: tag.vmid, asid, el2,
        level: step.level, granule: d.granule, inputBase, size,
        descAddr: step.descAddr, desc: step.desc, tableAddr: d.next,
      };
      const key = `${w.stage}/${w.el2 ? 1 : 0}/${w.vmid}/${w.asid}/${w.granule}/${w.level}/${w.inputBase}`;
      s.walks.set(key, w);
      s.lastWalks[slot] = w;
    }
    return n;
  }

  /** Drop what a TLBI command must drop. */
  invalidate(cmd: TlbiCommand): Invalidated {
    const scope = scopeOf(cmd);
    const s = this.s;
    let entries = 0;
    for (const e of s.vals) if (e && scope.tlb(e)) entries++;
    let walks = 0;
    for (const w of s.walks.values()) if (scope.walk(w)) walks++;
    if (entries === 0 && walks === 0) return { entries, walks };
    // Rebuild without the dropped entries: simpler than deleting in place, and it leaves
    // any snapshot sharing the old storage untouched.
    const next = new Store();
    for (const e of s.vals) if (e && !(entries && scope.tlb(e))) next.put(e);
    for (const [k, w] of s.walks) if (!(walks && scope.walk(w))) next.walks.set(k, w);
    s.refs--;
    this.s = next;
    return { entries, walks };
  }

  /** Apply a decoded CMD_TLBI_* by name; the number of TLB entries dropped. */
  invalidateCommand(name: string, d: FieldReader): number {
    const cmd = tlbiCommandFrom(name, d);
    return cmd ? this.invalidate(cmd).entries : 0;
  }

  /** A TLB with the same contents that changes independently (copy-on-write). */
  snapshot(): Tlb {
    return new Tlb(this);
  }

  clear(): void {
    this.s.refs--;
    this.s = new Store();
  }

  /** A TLB entry for a walk's result in a regime (ASID -1 for stage 2). */
  static entryFor(r: WalkResult, tag: { readonly vmid: number; readonly asid: number; readonly el2: boolean }): TlbEntry {
    return {
      vmid: tag.vmid, asid: r.stage === 's2' ? -1 : tag.asid, global: r.stage === 's2' || r.global, el2: tag.el2,
      stage: r.stage, inputBase: r.inputBase, size: r.size, outputBase: r.outputBase, level: r.level, granule: r.granule,
      perms: r.perms, attrIndx: r.attrIndx, memAttr: r.memAttr, sh: r.sh,
      ipaBase: r.stage === 'nested' ? r.ipaBase : undefined, ipaSize: r.stage === 'nested' ? r.size : undefined,
    };
  }

  /** Storage private to this TLB, copied first if a snapshot shares it. */
  private own(): Store {
    if (this.s.refs > 1) {
      this.s.refs--;
      this.s = this.s.clone();
    }
    return this.s;
  }
}
