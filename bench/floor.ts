/**
 * Floors: the simplest code that does the same work, written out here so the benchmarks
 * compare the engine with something that has no caches, no events and no history.
 *
 * The walkers follow a stage-1 4K-granule, 48-bit table from level 0: per level, 9 bits of
 * the input index 512 eight-byte descriptors; bit 0 is valid, bit 1 table (levels 0-2) or
 * page (level 3); the next table or output address is descriptor bits [47:12].
 */
import { PhysicalMemory } from '../src/model/memory';

const TWO32 = 2 ** 32;
/** Bytes each level's entry spans: 2^39, 2^30, 2^21, 2^12. */
const SPAN = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];

/** A 4-level walk reading the engine's physical memory pages directly; the PA, or -1. */
export function walkPages(mem: PhysicalMemory, ttb: number, iova: number): number {
  let table = ttb;
  for (let level = 0; level < 4; level++) {
    const addr = table + (Math.floor(iova / SPAN[level]) % 512) * 8;
    const lo = mem.readU32(addr);
    const hi = mem.readU32(addr + 4);
    if ((lo & 1) === 0) return -1;
    const out = (hi & 0xffff) * TWO32 + (lo - (lo % 4096));
    if (level === 3 || (lo & 2) === 0) return out - (out % SPAN[level]) + (iova % SPAN[level]);
    table = out;
  }
  return -1;
}

/**
 * Page tables in typed arrays: each table one Uint32Array of 512 descriptors (low, high),
 * at addresses handed out in order, as an allocator would.
 */
export class ArrayTables {
  readonly tables = new Map<number, Uint32Array>();
  private next: number;
  readonly pgd: number;

  constructor(base: number) {
    this.next = base;
    this.pgd = this.alloc();
  }

  private alloc(): number {
    const a = this.next;
    this.next += 4096;
    this.tables.set(a, new Uint32Array(1024));
    return a;
  }

  /** Map one 4K page: tables made on the way down, then the leaf (`attrs` in the low word). */
  map(iova: number, pa: number, attrs: number): void {
    let t = this.tables.get(this.pgd)!;
    for (let level = 0; level < 3; level++) {
      const i = (Math.floor(iova / SPAN[level]) % 512) * 2;
      if ((t[i] & 1) === 0) {
        const a = this.alloc();
        t[i] = (a % TWO32) + 3;
        t[i + 1] = Math.floor(a / TWO32);
      }
      t = this.tables.get((t[i + 1] & 0xffff) * TWO32 + (t[i] - (t[i] % 4096)))!;
    }
    const i = (Math.floor(iova / 4096) % 512) * 2;
    t[i] = (pa % TWO32) + (attrs & 0xfff) + 3;
    t[i + 1] = Math.floor(pa / TWO32);
  }

  /** The same walk as `walkPages`, over the arrays. */
  walk(iova: number): number {
    let table = this.pgd;
    for (let level = 0; level < 4; level++) {
      const t = this.tables.get(table);
      if (!t) return -1;
      const i = (Math.floor(iova / SPAN[level]) % 512) * 2;
      const lo = t[i];
      if ((lo & 1) === 0) return -1;
      const out = (t[i + 1] & 0xffff) * TWO32 + (lo - (lo % 4096));
      if (level === 3 || (lo & 2) === 0) return out - (out % SPAN[level]) + (iova % SPAN[level]);
      table = out;
    }
    return -1;
  }
}
