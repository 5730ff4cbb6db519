/**
 * What the SMMU could read: for every 8-byte granule with stores it may not have seen yet,
 * the value it certainly can still read (`settled`) and each later version, in program
 * order, with what the architecture allows about it: the ordering epoch (barriers start
 * a new one) and the unit in which the store may tear. The hazard checker turns this into
 * sets of observable values; the model only records and settles.
 *
 * A granule is on one of two paths:
 *  - `direct`: the SMMU sees CPU stores once they are globally visible (a coherent SMMU,
 *    or non-cacheable memory). Versions settle when a DSB completes them, or when a
 *    doorbell write ordered after them by a barrier tells the SMMU to look.
 *  - `poc`: a non-coherent SMMU reading cacheable memory sees only what reaches PoC.
 *    Versions are the CPU's values of the dirty line; the hardware may write any of them
 *    back at any time. They settle when a clean completes (at a DSB) or a write-back is
 *    forced.
 */

export const GRANULE = 8;

export type Path = 'direct' | 'poc';

export interface Version {
  /** Store sequence number (global, increasing). */
  readonly seq: number;
  /** Barrier epoch of the store: stores of an earlier epoch are ordered before it. */
  readonly epoch: number;
  /** The granule's CPU value after the store. */
  readonly value: bigint;
  /** The granule's CPU value before it. */
  readonly before: bigint;
  /** Byte mask (0xff per byte written) of the store within the granule. */
  readonly mask: bigint;
  /** The store becomes visible in units of this many bytes, in any order (8 = atomic). */
  readonly unit: 1 | 2 | 4 | 8;
  /** Which operation made it (an index into the run's trace), for explanations. */
  readonly origin: number;
}

export interface GranuleHistory {
  readonly addr: number;
  readonly path: Path;
  /** The oldest value the SMMU could still read. */
  readonly settled: bigint;
  /** Later versions, oldest first. */
  readonly versions: readonly Version[];
  /** True when older versions were dropped to respect the bound. */
  readonly truncated: boolean;
}

interface MutableGranule {
  addr: number;
  path: Path;
  settled: bigint;
  versions: Version[];
  truncated: boolean;
  gen: number;
}

/** A clean issued but not yet completed: settles the granule up to `seq` at the next DSB. */
interface PendingClean {
  readonly addr: number;
  readonly seq: number;
}

let nextGeneration = 1;

export class VisibilityHistory {
  private granules: Map<number, MutableGranule>;
  private pendingCleans: PendingClean[];
  private gen: number;
  private seq: number;
  private epochNow: number;

  constructor(readonly maxVersions = 4096, from?: VisibilityHistory) {
    this.granules = from ? new Map(from.granules) : new Map();
    this.pendingCleans = from ? [...from.pendingCleans] : [];
    this.seq = from?.seq ?? 0;
    this.epochNow = from?.epochNow ?? 0;
    this.gen = nextGeneration++;
  }

  snapshot(): VisibilityHistory {
    this.gen = nextGeneration++;
    return new VisibilityHistory(this.maxVersions, this);
  }

  get epoch(): number {
    return this.epochNow;
  }

  /** The granule's history, or undefined when the SMMU can read only the current value. */
  get(addr: number): GranuleHistory | undefined {
    const g = this.granules.get(granuleOf(addr));
    return g && g.versions.length > 0 ? g : undefined;
  }

  /** Every granule with unsettled versions, ascending. */
  unsettled(): GranuleHistory[] {
    return [...this.granules.values()].filter((g) => g.versions.length > 0).sort((a, b) => a.addr - b.addr);
  }

  private own(addr: number): MutableGranule | undefined {
    const g = this.granules.get(addr);
    if (!g || g.gen === this.gen) return g;
    const copy: MutableGranule = { ...g, versions: [...g.versions], gen: this.gen };
    this.granules.set(addr, copy);
    return copy;
  }

  /** Record a store that changed a granule from `before` to `value`. */
  store(addr: number, path: Path, before: bigint, value: bigint, mask: bigint, unit: Version['unit'], origin: number): void {
    const a = granuleOf(addr);
    let g = this.own(a);
    if (!g || g.versions.length === 0) {
      g = { addr: a, path, settled: before, versions: [], truncated: false, gen: this.gen };
      this.granules.set(a, g);
    }
    g.path = path;
    g.versions.push({ seq: ++this.seq, epoch: this.epochNow, value, before, mask, unit, origin });
    if (g.versions.length > this.maxVersions) {
      g.settled = g.versions[0].value;
      g.versions.shift();
      g.truncated = true;
    }
  }

  /** A barrier: stores after it are ordered after every store before it. */
  barrier(): void {
    this.epochNow++;
  }

  /** A clean by VA: the granule's versions so far will reach PoC when a DSB completes the clean. */
  clean(addr: number): void {
    const g = this.granules.get(granuleOf(addr));
    if (g && g.versions.length > 0 && g.path === 'poc') {
      this.pendingCleans.push({ addr: g.addr, seq: g.versions[g.versions.length - 1].seq });
    }
  }

  /** The hardware wrote the granule's current value back to PoC. */
  writtenBack(addr: number): void {
    const g = this.own(granuleOf(addr));
    if (g && g.path === 'poc') this.settleTo(g, Infinity);
  }

  /**
   * A DSB: every store before it is complete, so `direct` granules settle; cleans
   * issued before it complete, so their `poc` granules settle up to the clean.
   */
  dsb(): void {
    for (const g of this.granules.values()) {
      if (g.path === 'direct' && g.versions.length > 0) this.settleTo(this.own(g.addr)!, Infinity);
    }
    for (const c of this.pendingCleans) {
      const g = this.own(c.addr);
      if (g) this.settleTo(g, c.seq);
    }
    this.pendingCleans = [];
    this.epochNow++;
  }

  /** A doorbell ordered after a barrier: `direct` stores of earlier epochs are visible to what it triggers. */
  publish(): void {
    for (const g of this.granules.values()) {
      if (g.path !== 'direct' || g.versions.length === 0) continue;
      const idx = g.versions.findIndex((v) => v.epoch >= this.epochNow);
      if (idx !== 0) this.settleTo(this.own(g.addr)!, idx < 0 ? Infinity : g.versions[idx - 1].seq);
    }
  }

  /**
   * Memory in [addr, addr+len) was overwritten by a new owner: what the old stores left
   * pending there is gone, and the SMMU can read only the new contents.
   */
  forget(addr: number, len: number): void {
    const inside = (a: number): boolean => a >= addr && a < addr + len;
    for (const a of [...this.granules.keys()]) if (inside(a)) this.granules.delete(a);
    this.pendingCleans = this.pendingCleans.filter((c) => !inside(c.addr));
  }

  /** Number of cleans waiting for a DSB. */
  get pendingCleanCount(): number {
    return this.pendingCleans.length;
  }

  /** Granules with a clean issued and not yet completed. */
  pendingCleanAddrs(): number[] {
    return this.pendingCleans.map((c) => c.addr);
  }

  private settleTo(g: MutableGranule, seq: number): void {
    let n = 0;
    while (n < g.versions.length && g.versions[n].seq <= seq) n++;
    if (n === 0) return;
    g.settled = g.versions[n - 1].value;
    g.versions = g.versions.slice(n);
    // A settled granule needs no history: forget it, so the cost follows what is pending.
    if (g.versions.length === 0) this.granules.delete(g.addr);
  }
}

export function granuleOf(addr: number): number {
  return addr - (addr % GRANULE);
}
