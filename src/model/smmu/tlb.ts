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
import { Permissions, TlbEntry, TlbTag, WalkResult, WalkStep, WalkStepDetail } from './types';
import { permBits, permissionsOf } from './walk';
import {
  metaGranule, metaHasNext, metaLevel, metaStage, stepDescAddr, stepHigh, stepInput, stepLow, stepMeta, stepNext, STEP_TYPES, WalkLog,
} from './walkLog';

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
//
// Entries are rows of numbers, not objects: a TLB filled by a run of misses then holds no
// object per entry for the garbage collector to move and trace (a young entry stored into
// an old table is what made a miss slow). A row is 32 bytes, half a cache line, holding
// what a lookup reads (the key, the output base, the permissions), so a hit or an insert
// touches one line of the table. Views get `TlbEntry` objects built from a row when they
// ask (`entryAt`); an entry inserted as an object is kept as that object.

/** Int32s per row; the first four are the key: regime, asidKey | shift << 17, page-number high, low. */
const ROW_INTS = 8;
/** VMID | ASID << 16 (stage-2 rows have no ASID: -1). */
const R_IDS = 4;
const R_ATTRS = 5;
/** The output base is the row's fourth double (int32s 6 and 7). */
const R_OUT = 3;
/** The second key of a free row: a held key always has a size class (shift >= 12) in it. */
const FREE = 0;
/** Consecutive pages whose entries go to consecutive slots (see `hash`). */
const GROUP_BITS = 3;
const GROUP = 1 << GROUP_BITS;

const STAGES: readonly TlbTag['stage'][] = ['s1', 's2', 'nested'];
const GRANULES: readonly Granule[] = [4, 16, 64];

// The packed attributes of a row: bit positions (and what each field needs).
const A_LEVEL = 0; // 2 bits
const A_GRANULE = 2; // 2 bits, index into GRANULES
const A_PERMS = 4; // 5 bits, walk.ts `permBits`
const A_SH = 9; // 2 bits
const A_ATTRINDX = 11; // 3 bits, and bit 14 set when there is one
const A_MEMATTR = 15; // 4 bits, and bit 19 set when there is one
const A_GLOBAL = 20;
const A_EL2 = 21;
const A_STAGE = 22; // 2 bits, index into STAGES

function packAttributes(e: TlbEntry): number {
  return (e.level << A_LEVEL) | (GRANULES.indexOf(e.granule) << A_GRANULE) | (permBits(e.perms) << A_PERMS) | ((e.sh & 3) << A_SH) |
    (e.attrIndx === undefined ? 0 : ((e.attrIndx & 7) | 8) << A_ATTRINDX) |
    (e.memAttr === undefined ? 0 : ((e.memAttr & 15) | 16) << A_MEMATTR) |
    ((e.global ? 1 : 0) << A_GLOBAL) | ((e.el2 ? 1 : 0) << A_EL2) | (stageIndex(e.stage) << A_STAGE);
}

/** Numbers per stage and level in `Store.lastSeen`: the last walk-cache entry stored there (NaN: none). */
const SEEN = 10;
const SEEN_DESC_ADDR = 0;
const SEEN_LOW = 1;
const SEEN_HIGH = 2;
const SEEN_NEXT = 3;
const SEEN_BASE = 4;
const SEEN_END = 5;
const SEEN_GRANULE = 6;
const SEEN_VMID = 7;
const SEEN_ASID = 8;
const SEEN_EL2 = 9;

class Store {
  refs = 1;
  count = 0;
  mask: number;
  /** The rows, as int32s and as doubles (two views of one buffer). */
  ints: Int32Array;
  nums: Float64Array;
  /** Per slot: the IPA base of nested entries; none until there is one. */
  ipas?: Float64Array;
  /** Per slot: the entry as an object, where one was inserted or built; none until needed. */
  objs?: (TlbEntry | undefined)[];
  /** Entries per size class (log2 bytes), and the classes present, ascending. */
  perShift: Int32Array;
  shifts: number[];
  /** Entries keyed for any ASID (global, stage 2): while there are none, a lookup need not try that key. */
  anyAsid = 0;
  walks: Map<string, WalkCacheEntry>;
  /** The walk-cache entry last stored per stage and level, as numbers (SEEN of them at SEEN * (level + 4 * (stage - 1))). */
  lastSeen = new Float64Array(8 * SEEN).fill(NaN);

  constructor(capacity = 64) {
    this.mask = capacity - 1;
    this.ints = new Int32Array(capacity * ROW_INTS);
    this.nums = new Float64Array(this.ints.buffer);
    this.perShift = new Int32Array(64);
    this.shifts = [];
    this.walks = new Map();
  }

  clone(): Store {
    const s = new Store(this.mask + 1);
    s.count = this.count;
    s.ints.set(this.ints);
    s.ipas = this.ipas?.slice();
    s.objs = this.objs?.slice();
    s.perShift.set(this.perShift);
    s.shifts = this.shifts.slice();
    s.anyAsid = this.anyAsid;
    s.walks = new Map(this.walks);
    return s;
  }

  /** The slot holding the key, or -1. */
  find(k0: number, k1: number, k2: number, k3: number): number {
    const ints = this.ints;
    const mask = this.mask;
    let i = hash(k0, k1, k2, k3) & mask;
    for (;;) {
      const r = i * ROW_INTS;
      if (ints[r + 1] === FREE) return -1;
      if (ints[r] === k0 && ints[r + 1] === k1 && ints[r + 2] === k2 && ints[r + 3] === k3) return i;
      i = (i + 1) & mask;
    }
  }

  /** Store an entry's row (replacing one with the same key); `obj` is the object to keep for it, if any. */
  put(e: TlbEntry, shift: number, obj: TlbEntry | undefined): void {
    const page = e.inputBase / e.size;
    const hi = Math.floor(page / TWO32);
    const i = this.claim(regimeKey(e.stage, e.el2, e.vmid), asidKey(e) | (shift << 17), hi | 0, (page - hi * TWO32) | 0, shift);
    const r = i * ROW_INTS;
    this.ints[r + R_IDS] = (e.vmid & 0xffff) | (e.asid << 16);
    this.ints[r + R_ATTRS] = packAttributes(e);
    this.nums[i * (ROW_INTS / 2) + R_OUT] = e.outputBase;
    if (e.ipaBase !== undefined || this.ipas !== undefined) {
      this.ipas ??= new Float64Array(this.mask + 1);
      this.ipas[i] = e.ipaBase ?? 0;
    }
    if (obj !== undefined || this.objs !== undefined) this.objects()[i] = obj;
  }

  /** The slot for a key: the one holding it, or a free one it is written into (and counted). */
  private claim(k0: number, k1: number, k2: number, k3: number, shift: number): number {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const ints = this.ints;
    let i = hash(k0, k1, k2, k3) & this.mask;
    for (;;) {
      const r = i * ROW_INTS;
      if (ints[r + 1] === FREE) break;
      if (ints[r] === k0 && ints[r + 1] === k1 && ints[r + 2] === k2 && ints[r + 3] === k3) return i;
      i = (i + 1) & this.mask;
    }
    const r = i * ROW_INTS;
    ints[r] = k0;
    ints[r + 1] = k1;
    ints[r + 2] = k2;
    ints[r + 3] = k3;
    this.count++;
    if ((k1 & ANY_ASID) !== 0) this.anyAsid++;
    if (this.perShift[shift]++ === 0) this.shifts = [...this.shifts, shift].sort((a, b) => a - b);
    return i;
  }

  /** Twice the slots, each row moved whole (counts are unchanged). */
  private grow(): void {
    const old = { ints: this.ints, ipas: this.ipas, objs: this.objs };
    const capacity = (this.mask + 1) * 2;
    this.mask = capacity - 1;
    this.ints = new Int32Array(capacity * ROW_INTS);
    this.nums = new Float64Array(this.ints.buffer);
    this.ipas = old.ipas && new Float64Array(capacity);
    this.objs = old.objs && new Array<TlbEntry | undefined>(capacity).fill(undefined);
    for (let o = 0; o < old.ints.length / ROW_INTS; o++) {
      const from = o * ROW_INTS;
      if (old.ints[from + 1] === FREE) continue;
      let i = hash(old.ints[from], old.ints[from + 1], old.ints[from + 2], old.ints[from + 3]) & this.mask;
      while (this.ints[i * ROW_INTS + 1] !== FREE) i = (i + 1) & this.mask;
      for (let k = 0; k < ROW_INTS; k++) this.ints[i * ROW_INTS + k] = old.ints[from + k];
      if (this.ipas) this.ipas[i] = old.ipas![o];
      if (this.objs) this.objs[i] = old.objs![o];
    }
  }

  private objects(): (TlbEntry | undefined)[] {
    return (this.objs ??= new Array<TlbEntry | undefined>(this.mask + 1).fill(undefined));
  }

  /** Whether a slot holds an entry. */
  held(i: number): boolean {
    return this.ints[i * ROW_INTS + 1] !== FREE;
  }

  private shiftAt(i: number): number {
    return (this.ints[i * ROW_INTS + 1] >>> 17) & 63;
  }

  /** The input base of the entry in a slot: its page number times its size. */
  inputBaseAt(i: number): number {
    const r = i * ROW_INTS;
    return (this.ints[r + 2] * TWO32 + (this.ints[r + 3] >>> 0)) * POW2[this.shiftAt(i)];
  }

  /** The output address of `input` through the entry in a slot. */
  outputAt(i: number, input: number): number {
    return this.nums[i * (ROW_INTS / 2) + R_OUT] + (input - this.inputBaseAt(i));
  }

  /** The packed attributes of the entry in a slot. */
  attributesAt(i: number): number {
    return this.ints[i * ROW_INTS + R_ATTRS];
  }

  /** The entry in a slot as an object: the one inserted, or one built from the row (and kept). */
  entryAt(i: number): TlbEntry {
    const kept = this.objs?.[i];
    if (kept) return kept;
    const e = this.build(i);
    this.objects()[i] = e;
    return e;
  }

  /** The entry in a slot as an object, built from its row unless one is kept (not kept here). */
  build(i: number): TlbEntry {
    const e = ROW;
    const t = this.attributesAt(i);
    const ids = this.ints[i * ROW_INTS + R_IDS];
    e.stage = STAGES[(t >>> A_STAGE) & 3];
    e.vmid = ids & 0xffff;
    e.asid = e.stage === 's2' ? -1 : ids >>> 16;
    e.global = ((t >>> A_GLOBAL) & 1) === 1;
    e.el2 = ((t >>> A_EL2) & 1) === 1;
    e.inputBase = this.inputBaseAt(i);
    e.size = POW2[this.shiftAt(i)];
    e.outputBase = this.nums[i * (ROW_INTS / 2) + R_OUT];
    e.level = ((t >>> A_LEVEL) & 3) as Level;
    e.granule = GRANULES[(t >>> A_GRANULE) & 3];
    e.perms = permissionsOf(t >>> A_PERMS);
    e.attrIndx = (t >>> A_ATTRINDX) & 8 ? (t >>> A_ATTRINDX) & 7 : undefined;
    e.memAttr = (t >>> A_MEMATTR) & 16 ? (t >>> A_MEMATTR) & 15 : undefined;
    e.sh = (t >>> A_SH) & 3;
    e.ipaBase = e.stage === 'nested' ? this.ipas![i] : undefined;
    e.ipaSize = e.stage === 'nested' ? e.size : undefined;
    return { ...e };
  }
}

/**
 * Where a key's probe sequence starts. Pages of one size class go in runs of GROUP
 * consecutive pages to consecutive slots: DMA mostly walks through consecutive pages, and
 * their entries then share cache lines of the table instead of each taking a random one.
 */
function hash(k0: number, k1: number, k2: number, k3: number): number {
  let h = Math.imul(k3 >>> GROUP_BITS, 0x9e3779b1) ^ Math.imul(k2 ^ 0x7f4a7c15, 0x85ebca77);
  h ^= Math.imul(k0 ^ (k1 << 5), 0xc2b2ae3d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return ((h ^ (h >>> 12)) << GROUP_BITS) | (k3 & (GROUP - 1));
}

/**
 * An entry's fields on their way into or out of a row, so a walk's entry is stored without
 * an object for it; its literal is the shape every entry object has (copied with a spread).
 */
const ROW: { -readonly [K in keyof TlbEntry]: TlbEntry[K] } = {
  vmid: 0, asid: 0, global: false, el2: false, stage: 's1', inputBase: 0, size: 0, outputBase: 0, level: 0, granule: 4,
  perms: permissionsOf(0), attrIndx: undefined, memAttr: undefined, sh: 0, ipaBase: undefined, ipaSize: undefined,
};

/** The TLB entry for a walk's result in a regime (ASID -1 for stage 2), in ROW. */
function rowFor(r: WalkResult, tag: { readonly vmid: number; readonly asid: number; readonly el2: boolean }): TlbEntry {
  const e = ROW;
  e.vmid = tag.vmid;
  e.asid = r.stage === 's2' ? -1 : tag.asid;
  e.global = r.stage === 's2' || r.global;
  e.el2 = tag.el2;
  e.stage = r.stage;
  e.inputBase = r.inputBase;
  e.size = r.size;
  e.outputBase = r.outputBase;
  e.level = r.level;
  e.granule = r.granule;
  e.perms = r.perms;
  e.attrIndx = r.attrIndx;
  e.memAttr = r.memAttr;
  e.sh = r.sh;
  e.ipaBase = r.stage === 'nested' ? r.ipaBase : undefined;
  e.ipaSize = r.stage === 'nested' ? r.size : undefined;
  return e;
}

/**
 * log2 of a power of two below 2^64, in integer operations (Math.log2 and a floating-point
 * remainder cost more than the rest of an insert); other sizes give a class whose power of
 * two is not them.
 */
function sizeClass(size: number): number {
  return size >= TWO32 ? 63 - Math.clz32(size / TWO32) : 31 - Math.clz32(size);
}

/** An entry's size class (log2 of its size); throws unless it is a power of two from 4KB, aligned. */
function checkEntry(e: TlbEntry): number {
  const shift = sizeClass(e.size);
  if (shift < 12 || shift > 52 || POW2[shift] !== e.size) throw new RangeError(`TLB entry size ${e.size} is not a power of two from 4KB to 2^52`);
  // Exact: a division by a power of two only changes the exponent.
  if (!Number.isInteger(e.inputBase / e.size)) throw new RangeError(`TLB entry input base ${e.inputBase} is not aligned to its size ${e.size}`);
  return shift;
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
   */
  lookup(vmid: number, asid: number, stage: TlbTag['stage'], el2: boolean, input: number): TlbEntry | undefined {
    const i = this.find(vmid, asid, stage, el2, input);
    return i < 0 ? undefined : this.s.entryAt(i);
  }

  /**
   * Where `lookup` would find its entry: a slot for `outputAt` and `permissionsAt`, or -1.
   * Allocation-free on a hit and on a miss (the DMA path); the slot is good until the TLB changes.
   */
  find(vmid: number, asid: number, stage: TlbTag['stage'], el2: boolean, input: number): number {
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
        if (i >= 0) return i;
      }
      if (s.anyAsid > 0) {
        const i = s.find(k0, ANY_ASID | k1, k2, k3);
        if (i >= 0) return i;
      }
    }
    return -1;
  }

  /** The output address of `input` through the entry in a slot `find` gave. */
  outputAt(slot: number, input: number): number {
    return this.s.outputAt(slot, input);
  }

  /** The entry in a slot `find` gave, as an object (built on demand). */
  entryAt(slot: number): TlbEntry {
    return this.s.entryAt(slot);
  }

  /** The permissions of the entry in a slot `find` gave. */
  permissionsAt(slot: number): Permissions {
    return permissionsOf(this.s.attributesAt(slot) >>> A_PERMS);
  }

  /** Insert (or replace the entry with the same regime, ASID, size and base). */
  insert(entry: TlbEntry): void {
    this.own().put(entry, checkEntry(entry), entry);
  }

  /**
   * Insert the entry for a walk's result in a regime (ASID -1 for stage 2), as a row only:
   * no object is made for it unless a view asks (`entries`, `lookup`).
   */
  insertWalk(r: WalkResult, tag: { readonly vmid: number; readonly asid: number; readonly el2: boolean }): void {
    const e = rowFor(r, tag);
    this.own().put(e, checkEntry(e), undefined);
  }

  /** Every entry, by regime then input address: for views and the checker. */
  entries(): TlbEntry[] {
    const s = this.s;
    const out: TlbEntry[] = [];
    for (let i = 0; i <= s.mask; i++) if (s.held(i)) out.push(s.entryAt(i));
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
    const log = new WalkLog(steps.length + 1);
    for (const step of steps) {
      const d = step as WalkStepDetail;
      if (step.type !== 'table' || d.input === undefined || d.next === undefined) continue;
      const desc = BigInt.asUintN(64, step.desc);
      log.record(step.stage, step.level, step.descAddr, Number(desc & 0xffffffffn), Number(desc >> 32n), STEP_TYPES.indexOf('table'),
        d.input, d.granule, d.forTable ?? false, d.descIpa, d.next);
    }
    return this.recordLoggedWalk(tag, log.chunk, 0, log.length);
  }

  /** `recordWalk` for the steps [start, end) of a walk log's chunk, read in place. */
  recordLoggedWalk(tag: { readonly vmid: number; readonly asid: number; readonly el2: boolean }, chunk: Float64Array, start: number, end: number): number {
    let n = 0;
    let s: Store | undefined;
    for (let i = start; i < end; i++) {
      const m = stepMeta(chunk, i);
      // Only table steps have a next-level table.
      if (!metaHasNext(m)) continue;
      const stage = metaStage(m);
      const level = metaLevel(m);
      const granule = metaGranule(m);
      const descAddr = stepDescAddr(chunk, i);
      const input = stepInput(chunk, i);
      const low = stepLow(chunk, i);
      const high = stepHigh(chunk, i);
      const next = stepNext(chunk, i);
      const asid = stage === 2 ? -1 : tag.asid;
      const el2 = stage === 2 ? false : tag.el2;
      n++;
      s ??= this.own();
      // Consecutive walks mostly share their upper tables: an entry equal to the last one
      // recorded at this stage and level (same descriptor, regime, and span holding this
      // input) is already held — nothing removes an entry from a store — so it is not
      // keyed and stored again. The comparison reads numbers only.
      const q = s.lastSeen;
      const o = (level + (stage - 1) * 4) * SEEN;
      if (q[o + SEEN_DESC_ADDR] === descAddr && input >= q[o + SEEN_BASE] && input < q[o + SEEN_END] && q[o + SEEN_LOW] === low &&
        q[o + SEEN_HIGH] === high && q[o + SEEN_NEXT] === next && q[o + SEEN_GRANULE] === granule && q[o + SEEN_VMID] === tag.vmid &&
        q[o + SEEN_ASID] === asid && q[o + SEEN_EL2] === (el2 ? 1 : 0)) continue;
      const g = GRANULE_SHIFT[granule];
      const size = POW2[g + (g - 3) * (3 - level)];
      const inputBase = input - (((input % size) + size) % size);
      const w: WalkCacheEntry = {
        stage, vmid: tag.vmid, asid, el2, level, granule, inputBase, size,
        descAddr, desc: (BigInt(high) << 32n) | BigInt(low), tableAddr: next,
      };
      const key = `${w.stage}/${w.el2 ? 1 : 0}/${w.vmid}/${w.asid}/${w.granule}/${w.level}/${w.inputBase}`;
      s.walks.set(key, w);
      q[o + SEEN_DESC_ADDR] = descAddr;
      q[o + SEEN_LOW] = low;
      q[o + SEEN_HIGH] = high;
      q[o + SEEN_NEXT] = next;
      q[o + SEEN_BASE] = inputBase;
      q[o + SEEN_END] = inputBase + size;
      q[o + SEEN_GRANULE] = granule;
      q[o + SEEN_VMID] = tag.vmid;
      q[o + SEEN_ASID] = asid;
      q[o + SEEN_EL2] = el2 ? 1 : 0;
    }
    return n;
  }

  /** Drop what a TLBI command must drop. */
  invalidate(cmd: TlbiCommand): Invalidated {
    const scope = scopeOf(cmd);
    const s = this.s;
    // The entries as objects once, without keeping the ones built (a TLBI can be over many).
    const held: { slot: number; e: TlbEntry }[] = [];
    for (let i = 0; i <= s.mask; i++) if (s.held(i)) held.push({ slot: i, e: s.objs?.[i] ?? s.build(i) });
    let entries = 0;
    for (const { e } of held) if (scope.tlb(e)) entries++;
    let walks = 0;
    for (const w of s.walks.values()) if (scope.walk(w)) walks++;
    if (entries === 0 && walks === 0) return { entries, walks };
    // Rebuild without the dropped entries: simpler than deleting in place, and it leaves
    // any snapshot sharing the old storage untouched.
    const next = new Store();
    for (const { slot, e } of held) if (!(entries && scope.tlb(e))) next.put(e, sizeClass(e.size), s.objs?.[slot]);
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
    return { ...rowFor(r, tag) };
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
