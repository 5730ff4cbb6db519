/**
 * Physical memory at the Point of Coherency: sparse 4 KiB pages, allocated on first write,
 * zero where never written. Pages are shared copy-on-write between snapshots, so a
 * snapshot costs one map copy, and work grows with the pages touched, never with the
 * address space.
 *
 * Below the written pages there may be a read-only base layer (a memory dump): a page
 * never written reads from it, and the first write copies it. Base pages are fetched only
 * when touched, and shared by every snapshot.
 *
 * Ranges a later owner overwrote wholesale (the kernel after kexec reusing free memory)
 * read as their byte where not written since, above the base layer; they are kept as
 * ranges, so overwriting all memory costs the pages written before, not its size.
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SIZE - 1;

/** Physical addresses are numbers: exact up to 2^53, enough for 52-bit PAs. */
export const MAX_PHYS_ADDR = 2 ** 52;

interface Page {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** The generation that owns this page; others must copy it before writing. */
  readonly gen: number;
}

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);
let nextGeneration = 1;

/** Read-only pages under the written ones: a page's 4 KiB, or undefined where it reads as zero. */
export interface PageSource {
  page(pfn: number): Uint8Array | undefined;
}

/** A base layer and its pages wrapped for reading (generation 0: no memory owns them, so writes copy). */
interface BaseLayer {
  readonly source: PageSource;
  readonly pages: Map<number, Page | null>;
}

/** Pages [lo, hi) overwritten with one byte. */
export interface Background {
  readonly lo: number;
  readonly hi: number;
  readonly byte: number;
}

/** Pages filled with one byte, for reads of overwritten pages not written since (generation 0: writes copy). */
const FILLED = new Map<number, Page>();
function filledPage(byte: number): Page {
  let p = FILLED.get(byte);
  if (!p) {
    const bytes = new Uint8Array(PAGE_SIZE).fill(byte);
    FILLED.set(byte, (p = { bytes, view: new DataView(bytes.buffer), gen: 0 }));
  }
  return p;
}

export class PhysicalMemory {
  private pages: Map<number, Page>;
  private gen: number;
  private base?: BaseLayer;
  /** Newest last. */
  private backgrounds: readonly Background[];

  constructor(pages?: Map<number, Page>, base?: BaseLayer, backgrounds: readonly Background[] = []) {
    this.pages = pages ?? new Map();
    this.gen = nextGeneration++;
    this.base = base;
    this.backgrounds = backgrounds;
  }

  /** A copy that shares every page until either side writes it. */
  snapshot(): PhysicalMemory {
    // Both sides move to new generations so neither writes a page the other holds.
    this.gen = nextGeneration++;
    return new PhysicalMemory(new Map(this.pages), this.base, this.backgrounds);
  }

  /**
   * Put a read-only layer under this memory (a dump): pages not written since read from
   * it, overwritten ranges included. Pages written before keep their contents. Snapshots
   * taken earlier are unaffected.
   */
  setBase(source: PageSource | undefined): void {
    this.base = source && { source, pages: new Map() };
    this.backgrounds = [];
  }

  /**
   * Overwrite pages [lo, hi) with one byte: the pages written so far in the range are
   * dropped and the range reads as `byte` from now on, whatever the base layer holds.
   */
  overwritePages(lo: number, hi: number, byte: number): void {
    if (hi <= lo) return;
    for (const pfn of [...this.pages.keys()]) if (pfn >= lo && pfn < hi) this.pages.delete(pfn);
    this.backgrounds = [...this.backgrounds, { lo, hi, byte: byte & 0xff }];
  }

  /** The ranges overwritten so far, oldest first. */
  get overwritten(): readonly Background[] {
    return this.backgrounds;
  }

  /** The byte an overwritten page not written since reads as, if it was overwritten. */
  private background(pfn: number): number | undefined {
    for (let i = this.backgrounds.length - 1; i >= 0; i--) {
      const b = this.backgrounds[i];
      if (pfn >= b.lo && pfn < b.hi) return b.byte;
    }
    return undefined;
  }

  /** What a page not written reads as: an overwrite's page, the base layer's, or none (zero). */
  private underPage(pfn: number): Page | undefined {
    if (this.backgrounds.length) {
      const byte = this.background(pfn);
      if (byte !== undefined) return byte === 0 ? undefined : filledPage(byte);
    }
    return this.basePage(pfn);
  }

  private basePage(pfn: number): Page | undefined {
    const b = this.base;
    if (!b) return undefined;
    let p = b.pages.get(pfn);
    if (p === undefined) {
      const bytes = b.source.page(pfn);
      p = bytes ? { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, PAGE_SIZE), gen: 0 } : null;
      b.pages.set(pfn, p);
    }
    return p ?? undefined;
  }

  /**
   * Pages in [first, last] that may hold non-zero bytes: those written, and with a base layer
   * (a dump) any page of the range, up to `limit` pages (`truncated` says when cut).
   */
  pagesMaybeHolding(first: number, last: number, limit = 1 << 16): { pages: number[]; truncated: boolean } {
    const out = new Set<number>();
    for (const p of this.pages.keys()) if (p >= first && p <= last) out.add(p);
    let truncated = false;
    for (const b of this.backgrounds) {
      if (b.byte === 0) continue;
      const end = Math.min(b.hi - 1, last, first + limit - 1);
      truncated ||= end < Math.min(b.hi - 1, last);
      for (let p = Math.max(b.lo, first); p <= end; p++) out.add(p);
    }
    if (this.base) {
      const end = Math.min(last, first + limit - 1);
      truncated = end < last;
      for (let p = first; p <= end; p++) out.add(p);
    }
    return { pages: [...out].sort((a, b) => a - b), truncated };
  }

  /** Number of pages ever written (what the memory costs). */
  get pageCount(): number {
    return this.pages.size;
  }

  /** Page numbers written so far, ascending. */
  touchedPages(): number[] {
    return [...this.pages.keys()].sort((a, b) => a - b);
  }

  private pageForRead(pfn: number): Page | undefined {
    return this.pages.get(pfn) ?? this.underPage(pfn);
  }

  private pageForWrite(pfn: number): Page {
    const p = this.pages.get(pfn) ?? this.underPage(pfn);
    if (p && p.gen === this.gen) return p;
    const bytes = new Uint8Array(PAGE_SIZE);
    if (p) bytes.set(p.bytes);
    const page: Page = { bytes, view: new DataView(bytes.buffer), gen: this.gen };
    this.pages.set(pfn, page);
    return page;
  }

  readU8(addr: number): number {
    const p = this.pageForRead(Math.floor(addr / PAGE_SIZE));
    return p ? p.bytes[addr & PAGE_MASK] : 0;
  }

  /** Little-endian 32-bit read; must not cross a page (aligned reads never do). */
  readU32(addr: number): number {
    const off = addr & PAGE_MASK;
    if (off > PAGE_SIZE - 4) return this.readSlow(addr, 4);
    const p = this.pageForRead(Math.floor(addr / PAGE_SIZE));
    return p ? p.view.getUint32(off, true) : 0;
  }

  /**
   * Little-endian 64-bit read as its [low, high] 32-bit halves into `out`, finding the page
   * once (a descriptor read: the walker's every step).
   */
  readU64Parts(addr: number, out: Uint32Array | number[]): void {
    const off = addr & PAGE_MASK;
    if (off > PAGE_SIZE - 8) {
      out[0] = this.readU32(addr);
      out[1] = this.readU32(addr + 4);
      return;
    }
    const p = this.pageForRead(Math.floor(addr / PAGE_SIZE));
    out[0] = p ? p.view.getUint32(off, true) : 0;
    out[1] = p ? p.view.getUint32(off + 4, true) : 0;
  }

  /** Little-endian 64-bit read as a bigint. */
  readU64(addr: number): bigint {
    const off = addr & PAGE_MASK;
    if (off <= PAGE_SIZE - 8) {
      const p = this.pageForRead(Math.floor(addr / PAGE_SIZE));
      return p ? p.view.getBigUint64(off, true) : 0n;
    }
    return BigInt(this.readU32(addr)) | (BigInt(this.readU32(addr + 4)) << 32n);
  }

  private readSlow(addr: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.readU8(addr + i);
    return v;
  }

  /** Copy `len` bytes starting at `addr` into `out` (or a new array). */
  read(addr: number, len: number, out: Uint8Array = new Uint8Array(len)): Uint8Array {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & PAGE_MASK;
      const n = Math.min(len - done, PAGE_SIZE - off);
      const p = this.pageForRead(Math.floor(a / PAGE_SIZE));
      out.set((p ? p.bytes : ZERO_PAGE).subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  write(addr: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const a = addr + done;
      const off = a & PAGE_MASK;
      const n = Math.min(data.length - done, PAGE_SIZE - off);
      this.pageForWrite(Math.floor(a / PAGE_SIZE)).bytes.set(data.subarray(done, done + n), off);
      done += n;
    }
  }

  writeU8(addr: number, v: number): void {
    this.pageForWrite(Math.floor(addr / PAGE_SIZE)).bytes[addr & PAGE_MASK] = v & 0xff;
  }

  writeU32(addr: number, v: number): void {
    const off = addr & PAGE_MASK;
    if (off > PAGE_SIZE - 4) {
      for (let i = 0; i < 4; i++) this.writeU8(addr + i, (v >>> (8 * i)) & 0xff);
      return;
    }
    this.pageForWrite(Math.floor(addr / PAGE_SIZE)).view.setUint32(off, v >>> 0, true);
  }

  writeU64(addr: number, v: bigint): void {
    const x = BigInt.asUintN(64, v);
    this.writeU32(addr, Number(x & 0xffffffffn));
    this.writeU32(addr + 4, Number(x >> 32n));
  }

  /** Fill a range with one byte value (scrubbing, zeroing new allocations). */
  fill(addr: number, len: number, value: number): void {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & PAGE_MASK;
      const n = Math.min(len - done, PAGE_SIZE - off);
      const pfn = Math.floor(a / PAGE_SIZE);
      // Filling a page never written with what it already reads as leaves it absent.
      const under = this.pages.has(pfn) ? undefined : this.background(pfn);
      if (!this.pages.has(pfn) && ((value === 0 && !this.underPage(pfn)) || (under !== undefined && under === (value & 0xff)))) {
        done += n;
        continue;
      }
      this.pageForWrite(pfn).bytes.fill(value, off, off + n);
      done += n;
    }
  }
}

/** Eight bytes to convert through, so the common 64-bit case is one typed-array access. */
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/** Read little-endian `size` bytes (1, 2, 4 or 8) from a byte array as a bigint. */
export function bytesToBigint(bytes: Uint8Array, offset = 0, size = bytes.length - offset): bigint {
  if (size === 8) {
    for (let i = 0; i < 8; i++) scratch[i] = bytes[offset + i];
    return scratchView.getBigUint64(0, true);
  }
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i]);
  return v;
}

/** Little-endian bytes of a value. */
export function bigintToBytes(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  if (size === 8) {
    scratchView.setBigUint64(0, BigInt.asUintN(64, v), true);
    out.set(scratch);
    return out;
  }
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
