/**
 * Kexec HandOver (KHO) and live update, as the machine sees them: which pages the old
 * kernel preserved (whole pages, recorded as naturally aligned power-of-two blocks as
 * kho_preserve_pages splits them), the description it hands over (frozen by finalize),
 * the kexec itself, and the new kernel's side: restoring preserved memory, reusing the
 * rest, and finishing the update.
 *
 * What kexec does here: the old kernel stops (its last barriers complete what it issued);
 * the SMMU keeps running with its registers, caches and tables; the CPU's cache is either
 * written back or left holding the old kernel's dirty lines (the platform's `kexecCache`;
 * dirty by default: arm64's kexec cleans only the new image's segments to PoC); every
 * region of the old kernel becomes free, and the new kernel's allocations start again from
 * the bottom, avoiding preserved pages only. Memory the new kernel reuses is overwritten
 * with a pattern (`overwrite`), by a `scrub` or by an allocation landing on it.
 *
 * Page sets are kept as ranges, so the cost follows the scenario, not the memory's size.
 */
import { MAX_PHYS_ADDR, PAGE_SIZE } from './memory';
import type { Attribute, Region } from './regions';

/** old: before finalize; finalized: frozen, before kexec; new: after kexec; finished: the new kernel finished the update. */
export type KhoPhase = 'old' | 'finalized' | 'new' | 'finished';

/** Pages [lo, hi), as page frame numbers. */
export interface PageRange {
  readonly lo: number;
  readonly hi: number;
}

/** A naturally aligned block of 2^order pages starting at page `pfn`. */
export interface Chunk {
  readonly pfn: number;
  readonly order: number;
}

/** The byte the kernel's page poisoning writes (PAGE_POISON): what reused memory holds by default. */
export const SCRUB_BYTE = 0xaa;

export const MAX_PFN = MAX_PHYS_ADDR / PAGE_SIZE;

export class KhoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KhoError';
  }
}

const hex = (n: number): string => '0x' + n.toString(16);
export const pageAddr = (pfn: number): number => pfn * PAGE_SIZE;

/** The pages a byte range touches: partly covered pages count whole. */
export function pagesOf(addr: number, len: number): PageRange {
  return { lo: Math.floor(addr / PAGE_SIZE), hi: Math.ceil((addr + len) / PAGE_SIZE) };
}

export function rangeText(r: PageRange): string {
  return `[${hex(pageAddr(r.lo))}, ${hex(pageAddr(r.hi))})`;
}

/**
 * Pages [lo, hi) as KHO records them: blocks of 2^order pages, each aligned to its own
 * size, as large as the alignment of its start and the pages left allow.
 */
export function naturalChunks(lo: number, hi: number): Chunk[] {
  const out: Chunk[] = [];
  for (let pfn = lo; pfn < hi;) {
    let order = 0;
    while (pfn % 2 ** (order + 1) === 0 && pfn + 2 ** (order + 1) <= hi) order++;
    out.push({ pfn, order });
    pfn += 2 ** order;
  }
  return out;
}

/** A set of pages as sorted, disjoint, non-adjacent ranges. Immutable. */
export class PageSet {
  static readonly EMPTY = new PageSet([]);

  private constructor(readonly ranges: readonly PageRange[]) {}

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  get count(): number {
    return this.ranges.reduce((n, r) => n + r.hi - r.lo, 0);
  }

  has(pfn: number): boolean {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid];
      if (pfn < r.lo) hi = mid - 1;
      else if (pfn >= r.hi) lo = mid + 1;
      else return true;
    }
    return false;
  }

  add(lo: number, hi: number): PageSet {
    if (hi <= lo) return this;
    const out: PageRange[] = [];
    let cur = { lo, hi };
    for (const r of this.ranges) {
      if (r.hi < cur.lo || r.lo > cur.hi) out.push(r);
      else cur = { lo: Math.min(r.lo, cur.lo), hi: Math.max(r.hi, cur.hi) };
    }
    out.push(cur);
    return new PageSet(out.sort((a, b) => a.lo - b.lo));
  }

  remove(lo: number, hi: number): PageSet {
    if (hi <= lo) return this;
    const out: PageRange[] = [];
    for (const r of this.ranges) {
      if (r.hi <= lo || r.lo >= hi) {
        out.push(r);
        continue;
      }
      if (r.lo < lo) out.push({ lo: r.lo, hi: lo });
      if (r.hi > hi) out.push({ lo: hi, hi: r.hi });
    }
    return new PageSet(out);
  }

  minus(other: PageSet): PageSet {
    return other.ranges.reduce<PageSet>((s, r) => s.remove(r.lo, r.hi), this);
  }

  union(other: PageSet): PageSet {
    return other.ranges.reduce<PageSet>((s, r) => s.add(r.lo, r.hi), this);
  }

  /** The parts of [lo, hi) in the set. */
  within(lo: number, hi: number): PageRange[] {
    return this.ranges.filter((r) => r.hi > lo && r.lo < hi).map((r) => ({ lo: Math.max(r.lo, lo), hi: Math.min(r.hi, hi) }));
  }

  /** The parts of [lo, hi) not in the set. */
  missing(lo: number, hi: number): PageRange[] {
    return PageSet.EMPTY.add(lo, hi).minus(this).ranges.slice();
  }
}

/** One preservation as the old kernel asked for it (a region, a domain's tables, a range). */
export interface Preservation {
  /** What it preserves, for views and explanations: a region's name, `domain d1`, a range. */
  readonly label: string;
  /** The subtree of the description it belongs to. */
  readonly subtree: string;
  readonly lo: number;
  readonly hi: number;
  /** The region it preserves whole, when there is one (restored under its name). */
  readonly region?: string;
}

/**
 * A named subtree of the handover description, as a subsystem adds it (kho_add_subtree):
 * properties to show, and the driver's own state for its restore, which nothing else reads.
 */
export interface Subtree {
  readonly name: string;
  readonly props: readonly (readonly [string, string])[];
  readonly data?: unknown;
}

/** The description as a tree, the way the debugger shows it. */
export interface DescNode {
  readonly name: string;
  readonly props: readonly (readonly [string, string])[];
  readonly children: readonly DescNode[];
}

/** A region of the old kernel, as it was at kexec, with how much of it was preserved. */
export interface OldRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly attr: Attribute;
  readonly owner: string;
  readonly preserved: 'whole' | 'partly' | 'no';
}

/** A byte range. */
export interface ByteRange {
  readonly addr: number;
  readonly len: number;
}

/** Memory the new kernel overwrote, and why. */
export interface Overwrite {
  readonly ranges: readonly ByteRange[];
  readonly byte: number;
  readonly by: 'scrub' | 'alloc';
}

export type PageState = 'unpreserved' | 'preserved' | 'restored' | 'released';

/** What KHO did, for the trace, the checker and the debugger's event breakpoints. */
export type KhoEvent =
  | { readonly kind: 'preserve'; readonly label: string; readonly subtree: string; readonly range: PageRange; readonly chunks: readonly Chunk[] }
  | { readonly kind: 'unpreserve'; readonly label: string; readonly range: PageRange }
  | { readonly kind: 'describe'; readonly subtree: string }
  | { readonly kind: 'finalize'; readonly description: DescNode }
  | { readonly kind: 'kexec'; readonly count: number; readonly wroteBack: number; readonly freed: readonly string[] }
  | { readonly kind: 'overwrite'; readonly overwrite: Overwrite }
  | { readonly kind: 'restore'; readonly label: string; readonly range: PageRange; readonly region?: string }
  | { readonly kind: 'use'; readonly what: string; readonly range: PageRange }
  | { readonly kind: 'finish'; readonly released: readonly PageRange[] };

/** What a driver action asks KHO (or the machine at kexec) to do: the payload of a `kho` micro-operation. */
export type KhoAction =
  | { readonly kind: 'preserve'; readonly base: number; readonly size: number; readonly label: string; readonly subtree: string; readonly region?: string }
  | { readonly kind: 'unpreserve'; readonly base: number; readonly size: number; readonly label: string }
  | { readonly kind: 'describe'; readonly subtree: Subtree }
  | { readonly kind: 'finalize' }
  | { readonly kind: 'kexec' }
  /** Overwrite free memory: these ranges (bytes, whole pages), or all of it. */
  | { readonly kind: 'scrub'; readonly ranges?: readonly ByteRange[]; readonly byte: number }
  | { readonly kind: 'restore'; readonly base: number; readonly size: number; readonly label: string; readonly region?: string }
  /** The new kernel takes over memory of the old one (the adoption of live tables). */
  | { readonly kind: 'use'; readonly base: number; readonly size: number; readonly what: string }
  | { readonly kind: 'finish' };

export class Kho {
  phase: KhoPhase = 'old';
  /** Handovers so far (the live-update counter). */
  kexecs = 0;
  preserved = PageSet.EMPTY;
  restored = PageSet.EMPTY;
  /** Preserved pages the new kernel never restored, given back to it at finish. */
  released = PageSet.EMPTY;
  records: readonly Preservation[] = [];
  subtrees: ReadonlyMap<string, Subtree> = new Map();
  /** Frozen at finalize. */
  description?: DescNode;
  /** The old kernel's regions at the last kexec. */
  oldRegions: readonly OldRegion[] = [];
  overwrites: readonly Overwrite[] = [];

  clone(): Kho {
    // Every field is immutable or replaced on change: a shallow copy is independent.
    return Object.assign(new Kho(), this);
  }

  /** After kexec: memory the old kernel handed over is the new kernel's to restore or reuse. */
  get handedOver(): boolean {
    return this.phase === 'new' || this.phase === 'finished';
  }

  /** Pages the new kernel may not allocate: preserved and not released. */
  get reserved(): PageSet {
    return this.handedOver ? this.preserved.minus(this.released) : PageSet.EMPTY;
  }

  pageState(pfn: number): PageState {
    if (!this.preserved.has(pfn)) return 'unpreserved';
    if (this.restored.has(pfn)) return 'restored';
    if (this.released.has(pfn)) return 'released';
    return 'preserved';
  }

  /** For the allocator: the end of reserved memory overlapping [base, base+size), if any. */
  clashEnd(base: number, size: number): number | undefined {
    const p = pagesOf(base, size);
    const hit = this.reserved.within(p.lo, p.hi)[0];
    return hit && pageAddr(this.reserved.ranges.find((r) => r.lo <= hit.lo && hit.lo < r.hi)!.hi);
  }

  oldRegion(name: string): OldRegion | undefined {
    return this.oldRegions.find((r) => r.name === name);
  }

  oldRegionAt(addr: number): OldRegion | undefined {
    return this.oldRegions.find((r) => addr >= r.base && addr < r.base + r.size);
  }

  /** Preservations covering a page. */
  recordsAt(pfn: number): Preservation[] {
    return this.records.filter((r) => pfn >= r.lo && pfn < r.hi && this.preserved.has(pfn));
  }

  // ---- the old kernel ------------------------------------------------------------------

  private outgoing(what: string): void {
    if (this.phase === 'finished') this.newCycle();
    if (this.phase === 'finalized') {
      throw new KhoError(`${what}: KHO is finalized, the preserved memory and its description are frozen until kexec (the kernel returns -EBUSY)`);
    }
    if (this.phase === 'new') {
      throw new KhoError(`${what}: this kernel came up by kexec and has not finished the live update; \`kho finish\` first, then preserve for the next one`);
    }
  }

  /** The kernel that finished a live update prepares its own: a fresh preserved set. */
  private newCycle(): void {
    this.phase = 'old';
    this.preserved = PageSet.EMPTY;
    this.restored = PageSet.EMPTY;
    this.released = PageSet.EMPTY;
    this.records = [];
    this.subtrees = new Map();
    this.description = undefined;
  }

  preserve(base: number, size: number, label: string, subtree: string, region?: string): { range: PageRange; chunks: Chunk[] } {
    this.outgoing(`cannot preserve ${label}`);
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || size <= 0) {
      throw new KhoError(`cannot preserve ${label}: KHO preserves whole pages, and [${hex(base)}, ${hex(base + size)}) is not a multiple of ${hex(PAGE_SIZE)} bytes on a page boundary`);
    }
    const range = pagesOf(base, size);
    this.preserved = this.preserved.add(range.lo, range.hi);
    this.records = [...this.records, { label, subtree, lo: range.lo, hi: range.hi, region }];
    return { range, chunks: naturalChunks(range.lo, range.hi) };
  }

  unpreserve(base: number, size: number, label: string): PageRange {
    this.outgoing(`cannot unpreserve ${label}`);
    const range = pagesOf(base, size);
    const missing = this.preserved.missing(range.lo, range.hi);
    if (missing.length) throw new KhoError(`cannot unpreserve ${label}: ${missing.map(rangeText).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not preserved`);
    this.preserved = this.preserved.remove(range.lo, range.hi);
    // What each preservation still covers: a preservation left with nothing is gone.
    this.records = this.records.flatMap((r) => {
      if (r.hi <= range.lo || r.lo >= range.hi) return [r];
      const parts = PageSet.EMPTY.add(r.lo, r.hi).remove(range.lo, range.hi).ranges;
      return parts.map((p) => ({ ...r, lo: p.lo, hi: p.hi, region: undefined }));
    });
    return range;
  }

  describe(s: Subtree): void {
    this.outgoing(`cannot describe '${s.name}'`);
    this.subtrees = new Map([...this.subtrees, [s.name, s]]);
  }

  finalize(): DescNode {
    if (this.phase !== 'old') this.outgoing('cannot finalize');
    this.phase = 'finalized';
    this.description = this.build();
    return this.description;
  }

  /** The description as it stands (frozen after finalize). */
  current(): DescNode {
    return this.description ?? this.build();
  }

  private build(): DescNode {
    const chunks = this.preserved.ranges.flatMap((r) => naturalChunks(r.lo, r.hi));
    const memoryMap: DescNode = {
      name: 'preserved-memory',
      props: chunks.map((c, i) => [`[${i}]`, `${hex(pageAddr(c.pfn))} order ${c.order} (${hex(PAGE_SIZE << c.order)} bytes)` +
        `${this.recordsAt(c.pfn).length ? ` ← ${[...new Set(this.recordsAt(c.pfn).map((r) => r.label))].join(', ')}` : ''}`] as const),
      children: [],
    };
    const subtrees: DescNode[] = [...this.subtrees.values()].map((s) => ({
      name: s.name,
      props: [...s.props, ...this.records.filter((r) => r.subtree === s.name).map((r) => [r.label, rangeText(r)] as const)],
      children: [],
    }));
    // Preservations whose subtree no driver described still appear, under their subtree's name.
    for (const name of new Set(this.records.map((r) => r.subtree))) {
      if (this.subtrees.has(name)) continue;
      subtrees.push({ name, props: this.records.filter((r) => r.subtree === name).map((r) => [r.label, rangeText(r)] as const), children: [] });
    }
    return {
      name: 'kho',
      props: [
        ['state', this.phase === 'old' ? 'open (not finalized)' : 'finalized'],
        ['liveupdate-number', String(this.kexecs + 1)],
        ['preserved', `${this.preserved.count} page${this.preserved.count === 1 ? '' : 's'} in ${chunks.length} block${chunks.length === 1 ? '' : 's'}`],
      ],
      children: [memoryMap, ...subtrees],
    };
  }

  /** The handover: returns whether it finalized on the way (as LUO's reboot hook does). */
  kexec(regions: readonly Region[]): { finalized: boolean } {
    let finalized = false;
    if (this.phase === 'finished') this.newCycle();
    if (this.phase === 'new') throw new KhoError('cannot kexec: the live update in progress is not finished (`kho finish`)');
    if (this.phase === 'old') {
      this.finalize();
      finalized = true;
    }
    this.oldRegions = regions.map((r) => {
      const p = pagesOf(r.base, r.size);
      const missing = this.preserved.missing(p.lo, p.hi).length;
      const whole = missing === 0;
      const none = this.preserved.within(p.lo, p.hi).length === 0;
      return { name: r.name, base: r.base, size: r.size, attr: r.attr, owner: r.owner, preserved: whole ? 'whole' : none ? 'no' : 'partly' };
    });
    this.phase = 'new';
    this.kexecs++;
    return { finalized };
  }

  // ---- the new kernel ------------------------------------------------------------------

  private incoming(what: string): void {
    if (this.phase === 'new') return;
    if (this.phase === 'finished') throw new KhoError(`${what}: the live update is finished; preserved memory that was not restored has been released`);
    throw new KhoError(`${what}: there has been no kexec yet; this is the kernel that preserves, not the one that restores`);
  }

  restore(base: number, size: number, label: string): PageRange {
    this.incoming(`cannot restore ${label}`);
    const range = pagesOf(base, size);
    const missing = this.preserved.missing(range.lo, range.hi);
    if (missing.length) {
      throw new KhoError(`cannot restore ${label}: ${missing.map(rangeText).join(', ')} ${missing.length === 1 ? 'was' : 'were'} not preserved by the old kernel ` +
        '(kho_restore_pages fails): that memory was free, and the new kernel may already have reused it');
    }
    // Pages shared with something restored before (two small tables in one page) are restored once.
    if (this.restored.missing(range.lo, range.hi).length === 0) throw new KhoError(`cannot restore ${label}: ${rangeText(range)} is already restored`);
    this.restored = this.restored.add(range.lo, range.hi);
    return range;
  }

  finish(): PageRange[] {
    this.incoming('cannot finish');
    this.released = this.preserved.minus(this.restored);
    this.phase = 'finished';
    return this.released.ranges.slice();
  }

  /** Where the new kernel may write over the old kernel's memory: the ranges asked for, checked, or every free page. */
  freeRanges(asked: readonly PageRange[] | undefined, live: readonly Region[]): PageRange[] {
    if (!this.handedOver) {
      throw new KhoError('cannot scrub: there has been no kexec yet, and the old kernel still owns its memory');
    }
    const taken = live.reduce((s, r) => {
      const p = pagesOf(r.base, r.size);
      return s.add(p.lo, p.hi);
    }, this.reserved);
    if (!asked) return PageSet.EMPTY.add(0, MAX_PFN).minus(taken).ranges.slice();
    for (const a of asked) {
      const clash = taken.within(a.lo, a.hi);
      if (clash.length) {
        const what = live.find((r) => pagesOf(r.base, r.size).lo < clash[0].hi && clash[0].lo < pagesOf(r.base, r.size).hi);
        throw new KhoError(`cannot scrub ${rangeText(a)}: ${rangeText(clash[0])} ${what ? `holds the new kernel's region '${what.name}'` : 'is preserved memory, which KHO keeps from the new kernel until it is restored or released'}`);
      }
    }
    return asked.slice();
  }

  recordOverwrite(o: Overwrite): void {
    this.overwrites = [...this.overwrites, o];
  }
}

