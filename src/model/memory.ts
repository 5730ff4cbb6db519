/**
 * Physical memory at the Point of Coherency: sparse 4 KiB pages, allocated on first write,
 * zero where never written. Pages are shared copy-on-write between snapshots, so a
 * snapshot costs one map copy, and work grows with the pages touched, never with the
 * address space.
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

/**
 * Page numbers [lo, hi) whose pages, when never written since, read as `byte`: memory a
 * later owner overwrote wholesale (the kernel after kexec reusing free memory), kept as a
 * range so the cost does not grow with its size.
 */
export interface Background {
  readonly lo: number;
  readonly hi: number;
  readonly byte: number;
}

/** Pages filled with one byte, for reads of pages that are absent but not zero. */
const FILLED = new Map<number, Uint8Array>();
function filledPage(byte: number): Uint8Array {
  let p = FILLED.get(byte);
  if (!p) FILLED.set(byte, (p = new Uint8Array(PAGE_SIZE).fill(byte)));
  return p;
}

export class PhysicalMemory {
  private pages: Map<number, Page>;
  private gen: number;
  /** Newest last; a page absent from `pages` reads as the newest background holding it, else zero. */
  private backgrounds: readonly Background[];

  constructor(pages?: Map<number, Page>, backgrounds: readonly Background[] = []) {
    this.pages = pages ?? new Map();
    this.gen = nextGeneration++;
    this.backgrounds = backgrounds;
  }

  /** A copy that shares every page until either side writes it. */
  snapshot(): PhysicalMemory {
    // Both sides move to new generations so neither writes a page the other holds.
    this.gen = nextGeneration++;
    return new PhysicalMemory(new Map(this.pages), this.backgrounds);
  }

  /** The byte an absent page reads as. */
  private background(pfn: number): number {
    for (let i = this.backgrounds.length - 1; i >= 0; i--) {
      const b = this.backgrounds[i];
      if (pfn >= b.lo && pfn < b.hi) return b.byte;
    }
    return 0;
  }

  /**
   * Overwrite pages [lo, hi) with one byte: the pages written so far in the range are
   * dropped and the range reads as `byte` from now on. Costs the pages present, whatever
   * the range's size.
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

  /** Number of pages ever written (what the memory costs). */
  get pageCount(): number {
    return this.pages.size;
  }

  /** Page numbers written so far, ascending. */
  touchedPages(): number[] {
    return [...this.pages.keys()].sort((a, b) => a - b);
  }

  private pageForRead(pfn: number): Page | undefined {
    return this.pages.get(pfn);
  }

  private pageForWrite(pfn: number): Page {
    const p = this.pages.get(pfn);
    if (p && p.gen === this.gen) return p;
    const bytes = new Uint8Array(PAGE_SIZE);
    if (p) bytes.set(p.bytes);
    else if (this.backgrounds.length) bytes.fill(this.background(pfn));
    const page: Page = { bytes, view: new DataView(bytes.buffer), gen: this.gen };
    this.pages.set(pfn, page);
    return page;
  }

  readU8(addr: number): number {
    const pfn = Math.floor(addr / PAGE_SIZE);
    const p = this.pageForRead(pfn);
    return p ? p.bytes[addr & PAGE_MASK] : this.absent(pfn);
  }

  /** What a byte of a page never written reads as. */
  private absent(pfn: number): number {
    return this.backgrounds.length ? this.background(pfn) : 0;
  }

  /** Little-endian 32-bit read; must not cross a page (aligned reads never do). */
  readU32(addr: number): number {
    const off = addr & PAGE_MASK;
    if (off > PAGE_SIZE - 4) return this.readSlow(addr, 4);
    const pfn = Math.floor(addr / PAGE_SIZE);
    const p = this.pageForRead(pfn);
    return p ? p.view.getUint32(off, true) : this.absent(pfn) * 0x0101_0101;
  }

  /** Little-endian 64-bit read as a bigint. */
  readU64(addr: number): bigint {
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
      const pfn = Math.floor(a / PAGE_SIZE);
      const p = this.pageForRead(pfn);
      const bg = p ? 0 : this.absent(pfn);
      out.set((p ? p.bytes : bg ? filledPage(bg) : ZERO_PAGE).subarray(off, off + n), done);
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
      if (!this.pages.has(pfn) && (value & 0xff) === this.absent(pfn)) {
        done += n;
        continue;
      }
      this.pageForWrite(pfn).bytes.fill(value, off, off + n);
      done += n;
    }
  }
}

/** Read little-endian `size` bytes (1, 2, 4 or 8) from a byte array as a bigint. */
export function bytesToBigint(bytes: Uint8Array, offset = 0, size = bytes.length - offset): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i]);
  return v;
}

/** Little-endian bytes of a value. */
export function bigintToBytes(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
