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

const span = (a: number, b: number): string => `${hex(a)}..${hex(b)}`;
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

  constructor(segments: readonly Segment[]) {
    if (segments.length === 0) throw new DumpError('the dump holds no memory: no segment was given');
    this.segments = [...segments].sort((a, b) => a.paddr - b.paddr || b.memsz - a.memsz);
    checkOverlaps(this.segments);
  }

  /** Pages read from the files so far (each once: later reads hit the cache). */
  get pagesRead(): number {
    return this.read;
  }

  /** The 4 KiB page `pfn` as the dump holds it, or undefined where no segment reaches. */
  page(pfn: number): Uint8Array | undefined {
    const cached = this.cache.get(pfn);
    if (cached !== undefined) return cached ?? undefined;
    const start = pfn * PAGE_SIZE;
    const stop = start + PAGE_SIZE;
    let out: Uint8Array | undefined;
    const filled: { lo: number; hi: number; seg: Segment }[] = [];
    for (const seg of this.segments) {
      if (seg.paddr >= stop) break;
      if (end(seg) <= start) continue;
      const lo = Math.max(start, seg.paddr);
      const hi = Math.min(stop, end(seg));
      const bytes = this.segmentBytes(seg, lo, hi);
      out ??= new Uint8Array(PAGE_SIZE);
      for (const f of filled) {
        for (let a = Math.max(lo, f.lo); a < Math.min(hi, f.hi); a++) {
          if (out[a - start] !== bytes[a - lo]) {
            throw new DumpError(`${f.seg.label} and ${seg.label} both hold physical ${hex(a)} but differ there ` +
              `(${hex(out[a - start])} against ${hex(bytes[a - lo])}): the dump contradicts itself`);
          }
        }
      }
      out.set(bytes, lo - start);
      filled.push({ lo, hi, seg });
    }
    this.cache.set(pfn, out ?? null);
    if (out) this.read++;
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
      if (reach < 0) return a;
      a = reach;
    }
    return undefined;
  }

  /** The physical ranges the dump holds, merged, for messages. */
  ranges(): string {
    const merged: [number, number][] = [];
    for (const s of this.segments) {
      const last = merged[merged.length - 1];
      if (last && s.paddr <= last[1]) last[1] = Math.max(last[1], end(s));
      else merged.push([s.paddr, end(s)]);
    }
    return merged.map(([a, b]) => span(a, b)).join(', ');
  }

  /** One line per segment. */
  describe(): string[] {
    return this.segments.map((s) => `${s.label}: physical ${span(s.paddr, end(s))}` +
      (s.filesz < s.memsz ? ` (${hex(s.filesz)} bytes in the file, the rest zero)` : ''));
  }
}
