/**
 * A dump's physical memory: segments of files placed at physical addresses, read a page at
 * a time when something looks there, and cached. Opening reads nothing but headers, so a
 * multi-GiB dump opens at once and costs memory in proportion to the pages touched.
 *
 * Addresses outside every segment read as zero (as memory never written does in the
 * model); `firstUncovered` tells the inspector where a structure leaves the dump, so it can
 * say so rather than decode zeros.
 */
import { PAGE_SIZE, PageSource } from '../model/memory';
import { ByteSource, DumpError, hex } from './source';

export interface Segment {
  readonly source: ByteSource;
  /** How the user knows it: `core.elf PT_LOAD 2`, `ram.bin@0x40000000`. */
  readonly label: string;
  /** Physical address of its first byte, and how many bytes it spans there. */
  readonly paddr: number;
  readonly memsz: number;
  /** Where its bytes are in the file; past `filesz` it reads as zero. */
  readonly offset: number;
  readonly filesz: number;
}

/**
 * Memory held as blocks of one size, each in the dump or not: a kdump-compressed file
 * (kdump.ts), whose pages are found through bitmaps and may be compressed one by one.
 */
export interface PagedImage {
  /** How the user knows it: `vmcore (kdump-compressed, 64 KiB pages)`. */
  readonly label: string;
  /** Bytes per block (the dumped kernel's page size). */
  readonly blockSize: number;
  /** Blocks 0..endBlock are described; none beyond. */
  readonly endBlock: number;
  /** Whether the dump holds block `n` (RAM, and not left out by a dump filter). */
  has(n: number): boolean;
  /** Block `n`'s bytes (blockSize of them), or undefined when the dump does not hold it. */
  block(n: number): Uint8Array | undefined;
  /** Why block `n` is not held, when the image knows more than "not in the dump" (a dump filter left it out). */
  absence?(n: number): string | undefined;
  /** Salvaging: how many blocks the dump holds but could not be read, so far. */
  unreadable?(): number;
  /** The runs of blocks held, [first, end) each, in order (for messages: may read the whole bitmap once). */
  runs(): readonly (readonly [number, number])[];
}

const span = (a: number, b: number): string => `${hex(a)}..${hex(b)}`;
/** Ranges listed in a message before "and N more" (a filtered kdump holds thousands). */
const MAX_RANGES = 8;
const end = (s: Segment): number => s.paddr + s.memsz;

/**
 * Segments that overlap are an error, except one wholly inside another of the same file:
 * kdump cores describe the kernel image's memory twice (its own PT_LOAD and the RAM one).
 * Such duplicates are compared when read.
 */
function checkOverlaps(sorted: readonly Segment[]): void {
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j].paddr < end(sorted[i]); j++) {
      const a = sorted[i];
      const b = sorted[j];
      const inside = b.paddr >= a.paddr && end(b) <= end(a);
      if (inside && a.source === b.source) continue;
      const lo = b.paddr;
      const hi = Math.min(end(a), end(b));
      throw new DumpError(`${a.label} (physical ${span(a.paddr, end(a))}) and ${b.label} (${span(b.paddr, end(b))}) overlap at ` +
        `${span(lo, hi)}: each physical address must come from one place` +
        (a.source === b.source ? ' (only a segment wholly inside another, as kdump writes for the kernel image, may repeat memory)'
          : '; give each file a base past the end of the other'));
    }
  }
}

export class DumpMemory implements PageSource {
  /** By physical address. */
  readonly segments: readonly Segment[];
  private readonly cache = new Map<number, Uint8Array | null>();
  private read = 0;

  readonly images: readonly PagedImage[];

  constructor(segments: readonly Segment[], images: readonly PagedImage[] = []) {
    if (segments.length === 0 && images.length === 0) throw new DumpError('the dump holds no memory: no segment was given');
    this.segments = [...segments].sort((a, b) => a.paddr - b.paddr || b.memsz - a.memsz);
    this.images = images;
    checkOverlaps(this.segments);
  }

  /** The end of the highest memory the dump describes. */
  get top(): number {
    return Math.max(0, ...this.segments.map(end), ...this.images.map((i) => i.endBlock * i.blockSize));
  }

  /** Pages read from the files so far (each once: later reads hit the cache). */
  get pagesRead(): number {
    return this.read;
  }

  /**
   * The 4 KiB page `pfn` as the dump holds it, or undefined where no segment reaches. Kept
   * for the next read unless `keep` is false (a search through the whole dump).
   */
  page(pfn: number, keep = true): Uint8Array | undefined {
    const cached = this.cache.get(pfn);
    if (cached !== undefined) return cached ?? undefined;
    const out = this.readPage(pfn);
    if (keep) {
      this.cache.set(pfn, out ?? null);
      if (out) this.read++;
    }
    return out;
  }

  /**
   * Every 4 KiB page the dump holds data for, in order: a segment's pages in its file (not
   * the zeros past p_filesz), a kdump's dumped pages (its bitmap is read whole).
   */
  *dataPages(): Generator<number> {
    const ranges: [number, number][] = [
      ...this.segments.map((s): [number, number] => [Math.floor(s.paddr / PAGE_SIZE), Math.ceil((s.paddr + s.filesz) / PAGE_SIZE)]),
      ...this.images.flatMap((img) => img.runs().map(([a, b]): [number, number] => [(a * img.blockSize) / PAGE_SIZE, (b * img.blockSize) / PAGE_SIZE])),
    ].sort((x, y) => x[0] - y[0]);
    let next = 0;
    for (const [lo, hi] of ranges) {
      for (let pfn = Math.max(lo, next); pfn < hi; pfn++) yield pfn;
      next = Math.max(next, hi);
    }
  }

  private readPage(pfn: number): Uint8Array | undefined {
    const start = pfn * PAGE_SIZE;
    const stop = start + PAGE_SIZE;
    let out: Uint8Array | undefined;
    const filled: { lo: number; hi: number; label: string }[] = [];
    // Two sources of one byte must agree (kdump repeats the kernel image; files given together may overlap).
    const agree = (label: string, lo: number, hi: number, bytes: Uint8Array, from: number): void => {
      for (const f of filled) {
        for (let a = Math.max(lo, f.lo); a < Math.min(hi, f.hi); a++) {
          if (out![a - start] !== bytes[a - from]) {
            throw new DumpError(`${f.label} and ${label} both hold physical ${hex(a)} but differ there ` +
              `(${hex(out![a - start])} against ${hex(bytes[a - from])}): the dump contradicts itself`);
          }
        }
      }
      out!.set(bytes.subarray(lo - from, hi - from), lo - start);
      filled.push({ lo, hi, label });
    };
    for (const seg of this.segments) {
      if (seg.paddr >= stop) break;
      if (end(seg) <= start) continue;
      const lo = Math.max(start, seg.paddr);
      const hi = Math.min(stop, end(seg));
      out ??= new Uint8Array(PAGE_SIZE);
      agree(seg.label, lo, hi, this.segmentBytes(seg, lo, hi), lo);
    }
    for (const img of this.images) {
      const n = Math.floor(start / img.blockSize);
      if (n >= img.endBlock) continue;
      const block = img.block(n);
      if (!block) continue;
      out ??= new Uint8Array(PAGE_SIZE);
      // Blocks are a power of two of 4 KiB or more (kdump.ts checks), so the page lies in one.
      agree(img.label, start, stop, block, n * img.blockSize);
    }
    return out;
  }

  private segmentBytes(seg: Segment, lo: number, hi: number): Uint8Array {
    const out = new Uint8Array(hi - lo);
    const fileEnd = seg.paddr + seg.filesz;
    if (lo >= fileEnd) return out;
    const n = Math.min(hi, fileEnd) - lo;
    const at = seg.offset + (lo - seg.paddr);
    const data = seg.source.read(at, n);
    if (data.length < n) {
      throw new DumpError(`${seg.source.name} ended at offset ${hex(at + data.length)} while reading physical ${hex(lo + data.length)} ` +
        `of ${seg.label}: the file is shorter than its headers say (was it truncated or changed?)`);
    }
    out.set(data);
    return out;
  }

  /** Bytes at a physical address (zero outside the dump). */
  readBytes(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let done = 0; done < len;) {
      const a = addr + done;
      const off = a % PAGE_SIZE;
      const n = Math.min(len - done, PAGE_SIZE - off);
      const p = this.page(Math.floor(a / PAGE_SIZE));
      if (p) out.set(p.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  /** The first address of [addr, addr+len) that no segment holds, or undefined when all of it is in the dump. */
  firstUncovered(addr: number, len: number): number | undefined {
    let a = addr;
    while (a < addr + len) {
      let reach = -1;
      for (const s of this.segments) {
        if (s.paddr > a) break;
        if (end(s) > a) reach = Math.max(reach, end(s));
      }
      for (const img of this.images) {
        const n = Math.floor(a / img.blockSize);
        if (n < img.endBlock && img.has(n)) reach = Math.max(reach, (n + 1) * img.blockSize);
      }
      if (reach < 0) return a;
      a = reach;
    }
    return undefined;
  }

  /** Blocks found unreadable so far (salvaging a damaged kdump-compressed dump). */
  unreadable(): number {
    return this.images.reduce((n, img) => n + (img.unreadable?.() ?? 0), 0);
  }

  /** Why the byte at `addr` is not in the dump, when a kdump's bitmaps say more than that. */
  whyMissing(addr: number): string | undefined {
    for (const img of this.images) {
      const why = img.absence?.(Math.floor(addr / img.blockSize));
      if (why) return why;
    }
    return undefined;
  }

  /** The physical ranges the dump holds, merged, for messages. */
  ranges(): string {
    const all: [number, number][] = [
      ...this.segments.map((s): [number, number] => [s.paddr, end(s)]),
      ...this.images.flatMap((img) => img.runs().map(([a, b]): [number, number] => [a * img.blockSize, b * img.blockSize])),
    ].sort((x, y) => x[0] - y[0]);
    const merged: [number, number][] = [];
    for (const [a, b] of all) {
      const last = merged[merged.length - 1];
      if (last && a <= last[1]) last[1] = Math.max(last[1], b);
      else merged.push([a, b]);
    }
    const shown = merged.slice(0, MAX_RANGES).map(([a, b]) => span(a, b)).join(', ');
    return merged.length > MAX_RANGES ? `${shown} and ${merged.length - MAX_RANGES} more ranges` : shown || 'no memory';
  }

  /** One line per segment or paged image. */
  describe(): string[] {
    return [
      ...this.segments.map((s) => `${s.label}: physical ${span(s.paddr, end(s))}` +
        (s.filesz < s.memsz ? ` (${hex(s.filesz)} bytes in the file, the rest zero)` : '')),
      ...this.images.map((img) => {
        const runs = img.runs();
        const blocks = runs.reduce((n, [a, b]) => n + b - a, 0);
        const extent = runs.length ? ` between physical ${span(runs[0][0] * img.blockSize, runs[runs.length - 1][1] * img.blockSize)}` : '';
        return `${img.label}: ${blocks} ${blocks === 1 ? 'page' : 'pages'} of ${img.blockSize / 1024} KiB in ${runs.length} ${runs.length === 1 ? 'range' : 'ranges'}${extent}`;
      }),
    ];
  }
}
