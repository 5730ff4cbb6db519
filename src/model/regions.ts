/**
 * Named allocations of physical memory with their attribute: `cacheable` (Normal
 * write-back, as iommu-pages gives) or `noncacheable` (as dma_alloc_coherent gives on a
 * non-coherent system). Memory outside every region is treated as cacheable, as the
 * kernel's linear map is.
 */

export type Attribute = 'cacheable' | 'noncacheable';

export interface Region {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly attr: Attribute;
  /** Who allocated it: 'scenario', 'driver', 'io-pgtable', 'kho', ... (shown in views). */
  readonly owner: string;
  /** False once freed: kept so views and hazards can name freed memory. */
  readonly live: boolean;
}

export class RegionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegionError';
  }
}

const hex = (n: number): string => '0x' + n.toString(16);

/** Regions sorted by base; lookups by binary search. Immutable: changes return a new map. */
export class RegionMap {
  /** The live region `at` found last (a memo: the map itself never changes). */
  private last?: Region;

  private constructor(private readonly sorted: readonly Region[]) {}

  static empty(): RegionMap {
    return new RegionMap([]);
  }

  get all(): readonly Region[] {
    return this.sorted;
  }

  get live(): Region[] {
    return this.sorted.filter((r) => r.live);
  }

  /** The live region holding `addr`, if any. */
  at(addr: number): Region | undefined {
    // Live regions never overlap, so the one found last is the answer whenever it holds addr
    // (accesses come in runs: a table being filled, a queue being written).
    const last = this.last;
    if (last && addr >= last.base && addr < last.base + last.size) return last;
    const r = this.search(addr);
    if (r) this.last = r;
    return r;
  }

  private search(addr: number): Region | undefined {
    let lo = 0;
    let hi = this.sorted.length - 1;
    let found: Region | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.sorted[mid];
      if (r.base <= addr) {
        if (addr < r.base + r.size && r.live) found = r;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found) return found;
    // Freed regions may overlap live ones; a linear pass settles it for the rare miss.
    return this.sorted.find((r) => r.live && addr >= r.base && addr < r.base + r.size);
  }

  attrAt(addr: number): Attribute {
    return this.at(addr)?.attr ?? 'cacheable';
  }

  byName(name: string): Region | undefined {
    return this.sorted.find((r) => r.live && r.name === name);
  }

  /** The end of the live region overlapping [base, base+size), if any. */
  clashEnd(base: number, size: number): number | undefined {
    const clash = this.sorted.find((x) => x.live && x.base < base + size && base < x.base + x.size);
    return clash && clash.base + clash.size;
  }

  /** Add a region; refuses overlap with a live region and duplicate live names. */
  add(r: Omit<Region, 'live'>): RegionMap {
    if (r.size <= 0 || !Number.isSafeInteger(r.size)) throw new RegionError(`region '${r.name}': size ${r.size} must be a positive integer`);
    if (this.byName(r.name)) throw new RegionError(`a region named '${r.name}' already exists`);
    const clash = this.sorted.find((x) => x.live && x.base < r.base + r.size && r.base < x.base + x.size);
    if (clash) {
      throw new RegionError(`region '${r.name}' [${hex(r.base)}, ${hex(r.base + r.size)}) overlaps '${clash.name}' ` +
        `[${hex(clash.base)}, ${hex(clash.base + clash.size)})`);
    }
    const next = [...this.sorted, { ...r, live: true }].sort((a, b) => a.base - b.base);
    return new RegionMap(next);
  }

  /** Mark a region freed (it stays listed, not live). */
  free(name: string): RegionMap {
    const r = this.byName(name);
    if (!r) throw new RegionError(`no live region named '${name}'`);
    return new RegionMap(this.sorted.map((x) => (x === r ? { ...x, live: false } : x)));
  }
}

/**
 * Bump allocator for regions placed automatically: natural alignment up to the size
 * (as iommu-pages and the DMA API give), at least `minAlign`.
 */
export class Allocator {
  constructor(private next: number, private readonly limit: number) {}

  get cursor(): number {
    return this.next;
  }

  /** Place later allocations at or above `addr` (memory below is spoken for, e.g. by a dump). */
  skipTo(addr: number): void {
    this.next = Math.max(this.next, addr);
  }

  clone(): Allocator {
    return new Allocator(this.next, this.limit);
  }

  /** Start placing from `next` again (a new kernel after kexec: its allocations start over). */
  reset(next: number): void {
    this.next = next;
  }

  /**
   * A base for `size` bytes aligned to `align`, after every earlier allocation.
   * `clashEnd` returns the end of a region that a candidate would overlap, so the search
   * jumps past regions placed by hand.
   */
  allocate(size: number, align: number, clashEnd: (base: number, size: number) => number | undefined): number {
    const a = Math.max(align, 1);
    let base = Math.ceil(this.next / a) * a;
    for (let end = clashEnd(base, size); end !== undefined; end = clashEnd(base, size)) base = Math.ceil(end / a) * a;
    if (base + size > this.limit) {
      throw new RegionError(`cannot place ${hex(size)} bytes: the allocation area ends at ${hex(this.limit)}`);
    }
    this.next = base + size;
    return base;
  }
}
