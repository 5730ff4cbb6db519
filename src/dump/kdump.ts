/**
 * kdump-compressed dumps: what makedumpfile writes by default (and QEMU's
 * `dump-guest-memory -z/-l/-s`). Memory is kept page by page, each page raw or compressed
 * on its own, found through two bitmaps. Opening reads the headers only; a page is read and
 * decompressed when something looks at it.
 *
 * Layout (makedumpfile's diskdump_mod.h; all little-endian, as an arm64 or x86-64 kernel
 * writes them), in blocks of `block_size` bytes, the dumped kernel's page size:
 * - block 0, the main header: signature "KDUMP   " (or "DISKDUMP") at 0, header_version
 *   at 8, the utsname (six 65-byte strings; machine is the fifth, at 12 + 4*65) at 12, a
 *   16-byte timeval at 408, then 32-bit status 424, block_size 428, sub_hdr_size 432
 *   (blocks), bitmap_blocks 436, max_mapnr 440 (32-bit; version 6 and later keep the
 *   full value in the sub header).
 * - block 1, the sub header (sub_hdr_size blocks): phys_base 0, dump_level 8, split 12,
 *   start_pfn 16, end_pfn 24 (version 2+), ..., start_pfn_64 80, end_pfn_64 88,
 *   max_mapnr_64 96 (version 6+).
 * - the bitmaps (bitmap_blocks blocks): the first half has a bit per page frame that
 *   exists, the second a bit per page frame dumped; frame n is bit n % 8 of byte n / 8.
 * - the page descriptors, one per dumped frame in frame order (of a split file, only its
 *   frames): offset (64-bit), size (32), flags (32), page_flags (64), 24 bytes. flags 0
 *   with size block_size is a raw page; else one of zlib 0x1, LZO 0x2, Snappy 0x4,
 *   zstd 0x20. In the header's status, 0x8 marks a dump that was not finished.
 * Page frame n is physical address n * block_size.
 */
import { PagedImage } from './dumpMemory';
import { CODECS, decompressPage } from './codecs';
import type { CutSource } from './flattened';
import { CodecError } from './codecs/error';
import { ByteSource, DumpError, hex, ReadOptions } from './source';

const MAIN_HEADER = 464;
const SUB_HEADER_V6 = 104;
const DESC_SIZE = 24;
const STATUS_INCOMPLETE = 0x8;
const STATUS_EXCLUDED_VMEMMAP = 0x10;
/** Bitmap bytes read at a time (and counted at a time to find a frame's descriptor). */
const CHUNK = 4096;
/** Bitmap chunks kept (256 KiB: the frames of 8 GiB of 4 KiB pages). */
const KEPT_CHUNKS = 64;
/** Decompressed blocks kept: a 64 KiB block serves sixteen 4 KiB model pages in a row. */
const KEPT_BLOCKS = 16;

const SIGNATURES = ['KDUMP   ', 'DISKDUMP'];

/** Whether a file starts as a kdump-compressed dump. */
export function isKdump(head: Uint8Array): boolean {
  const sig = String.fromCharCode(...head.subarray(0, 8));
  return SIGNATURES.includes(sig);
}

export interface Kdump {
  readonly image: PagedImage;
  /** machine from the utsname, the dump level, and anything unusual. */
  readonly notes: readonly string[];
}

const popcount8 = new Uint8Array(256).map((_, i) => {
  let n = 0;
  for (let b = i; b; b >>= 1) n += b & 1;
  return n;
});

function text(b: Uint8Array, at: number, len: number): string {
  const z = b.subarray(at, at + len);
  const stop = z.indexOf(0);
  return String.fromCharCode(...(stop < 0 ? z : z.subarray(0, stop))).replace(/[^\x20-\x7e]/g, '?');
}

/** Reads a kdump-compressed dump's headers; throws DumpError naming the field and what would be right. */
export function readKdump(src: ByteSource & Partial<Pick<CutSource, 'cut' | 'holds'>>, opts: ReadOptions = {}): Kdump {
  const name = src.name;
  if (src.size < MAIN_HEADER) {
    throw new DumpError(`${name} is ${src.size} bytes: a kdump-compressed dump's main header needs ${MAIN_HEADER}, so the file is truncated`);
  }
  const h = src.read(0, MAIN_HEADER);
  const v = new DataView(h.buffer, h.byteOffset, h.length);
  const version = v.getInt32(8, true);
  const machine = text(h, 12 + 4 * 65, 65);
  const status = v.getUint32(424, true);
  const blockSize = v.getInt32(428, true);
  const subBlocks = v.getInt32(432, true);
  const bitmapBlocks = v.getUint32(436, true);
  if (!(blockSize >= 4096 && blockSize <= 1 << 20 && (blockSize & (blockSize - 1)) === 0)) {
    throw new DumpError(`${name}: block_size at offset 0x1ac is ${blockSize}; a kdump-compressed dump's blocks are the kernel's page size, a power of two from 4096 (4, 16 or 64 KiB on arm64)`);
  }
  if (subBlocks < 0 || subBlocks > 1024) throw new DumpError(`${name}: sub_hdr_size at offset 0x1b0 is ${subBlocks} blocks; makedumpfile writes 1`);
  if (bitmapBlocks === 0 || bitmapBlocks % 2 !== 0) {
    throw new DumpError(`${name}: bitmap_blocks at offset 0x1b4 is ${bitmapBlocks}; it holds two bitmaps of equal size, so it is even and not 0`);
  }
  const notes: string[] = [];
  let maxMapnr = v.getUint32(440, true);
  let startPfn = 0;
  let endPfn = Infinity;
  let level: number | undefined;
  if (subBlocks > 0) {
    const subAt = blockSize;
    const sub = src.read(subAt, SUB_HEADER_V6);
    if (sub.length < 16) throw new DumpError(`${name} ends at ${hex(src.size)}, inside the sub header at ${hex(subAt)}: the file is truncated`);
    const sv = new DataView(sub.buffer, sub.byteOffset, sub.length);
    level = sv.getInt32(8, true);
    const split = version >= 2 && sv.getInt32(12, true) !== 0;
    const u64 = (at: number, what: string): number => {
      const x = sv.getBigUint64(at, true);
      if (x > BigInt(2 ** 40)) throw new DumpError(`${name}: ${what} at offset ${hex(subAt + at)} is ${hex(x)}, more page frames than a 52-bit physical address space holds`);
      return Number(x);
    };
    if (version >= 6 && sub.length >= SUB_HEADER_V6) maxMapnr = u64(96, 'max_mapnr_64');
    if (split) {
      startPfn = version >= 6 && sub.length >= SUB_HEADER_V6 ? u64(80, 'start_pfn_64') : u64(16, 'start_pfn');
      endPfn = version >= 6 && sub.length >= SUB_HEADER_V6 ? u64(88, 'end_pfn_64') : u64(24, 'end_pfn');
      if (endPfn < startPfn) throw new DumpError(`${name}: a split dump with end_pfn ${hex(endPfn)} below start_pfn ${hex(startPfn)}`);
      notes.push(`${name}: one part of a split dump (makedumpfile --split): page frames ${hex(startPfn)}..${hex(endPfn)}; give every part to see all the memory`);
    }
  }
  const bitmapAt = (1 + subBlocks) * blockSize;
  const bitmapBytes = (bitmapBlocks / 2) * blockSize;
  if (maxMapnr > bitmapBytes * 8) {
    throw new DumpError(`${name}: max_mapnr ${hex(maxMapnr)} page frames need ${hex(Math.ceil(maxMapnr / 8))} bitmap bytes, but bitmap_blocks ${bitmapBlocks} give ${hex(bitmapBytes)} each: the header contradicts itself`);
  }
  const descAt = bitmapAt + 2 * bitmapBytes;
  if (descAt > src.size) {
    throw new DumpError(`${name}: its bitmaps run to offset ${hex(descAt)}, but the file ends at ${hex(src.size)}: the file is truncated`);
  }
  const codecs = CODECS.filter((c) => status & c.flag).map((c) => c.name);
  notes.push(`${name}: kdump-compressed, ${blockSize / 1024} KiB pages, ${codecs.length ? codecs.join(', ') : 'uncompressed'}` +
    (machine ? `, machine '${machine}'` : '') + (level !== undefined ? `, dump level ${level}` : ''));
  if (machine && machine !== 'aarch64' && machine !== 'Unknown') notes.push(`${name}: the dumped machine is '${machine}', not aarch64; reading its memory anyway`);
  if (status & STATUS_INCOMPLETE) {
    notes.push(`${name}: the dump was not finished (status has DUMP_DH_COMPRESSED_INCOMPLETE: makedumpfile ran out of space or was stopped); pages it did not write are not in the dump`);
  }
  if (status & STATUS_EXCLUDED_VMEMMAP) notes.push(`${name}: unused vmemmap pages were left out (DUMP_DH_EXCLUDED_VMEMMAP)`);
  const end = Math.min(maxMapnr, endPfn);
  return {
    image: new KdumpImage(src, { blockSize, validAt: bitmapAt, bitmapAt: bitmapAt + bitmapBytes, descAt, start: startPfn, end, incomplete: (status & STATUS_INCOMPLETE) !== 0, level, salvage: opts.salvage === true }),
    notes,
  };
}

interface Layout {
  readonly blockSize: number;
  /** Where the bitmap of frames that exist starts. */
  readonly validAt: number;
  /** Where the bitmap of dumped frames starts. */
  readonly bitmapAt: number;
  readonly descAt: number;
  /** The frames this file holds descriptors for: [start, end). */
  readonly start: number;
  readonly end: number;
  readonly incomplete: boolean;
  readonly level: number | undefined;
  readonly salvage: boolean;
}

/** What makedumpfile's dump level leaves out, bit by bit (its -d option). */
const LEVEL_BITS: readonly [number, string][] = [[1, 'zero'], [2, 'page cache'], [4, 'private cache'], [8, 'user'], [16, 'free']];

class KdumpImage implements PagedImage {
  readonly label: string;
  readonly blockSize: number;
  readonly endBlock: number;
  private readonly chunks = new Map<number, Uint8Array>();
  /** Dumped frames of this file before each bitmap chunk, worked out as far as asked. */
  private readonly before: number[] = [];
  private readonly kept = new Map<number, Uint8Array>();
  /** Salvaging: the pages that could not be read, and why. */
  private readonly damaged = new Map<number, string>();
  private heldRuns: [number, number][] | undefined;

  constructor(private readonly src: ByteSource & Partial<Pick<CutSource, 'cut' | 'holds'>>, private readonly at: Layout) {
    this.label = `${src.name} (kdump-compressed)`;
    this.blockSize = at.blockSize;
    this.endBlock = at.end;
  }

  /** Chunk i of the bitmap of dumped frames (or, negated, of the one of frames that exist: -1 - i). */
  private chunk(i: number): Uint8Array {
    let c = this.chunks.get(i);
    if (!c) {
      c = this.src.read(i >= 0 ? this.at.bitmapAt + i * CHUNK : this.at.validAt + (-1 - i) * CHUNK, CHUNK);
      // A bitmap cut short by the file's end reads as frames not dumped; the descriptors would be missing anyway.
      if (c.length < CHUNK) c = Uint8Array.from({ length: CHUNK }, (_, k) => c![k] ?? 0);
      // Counting the way to a high frame passes every chunk before it once; only the recent ones are kept.
      if (this.chunks.size >= KEPT_CHUNKS) this.chunks.delete(this.chunks.keys().next().value!);
      this.chunks.set(i, c);
    }
    return c;
  }

  private bit(n: number, valid: boolean): boolean {
    if (!Number.isInteger(n) || n < this.at.start || n >= this.at.end) return false;
    const i = Math.floor(n / (CHUNK * 8));
    return ((this.chunk(valid ? -1 - i : i)[(n >> 3) % CHUNK] >> (n & 7)) & 1) === 1;
  }

  unreadable(): number {
    return this.damaged.size;
  }

  /** Dumped, and (salvaging) readable: a damaged page is found out by reading it. */
  has(n: number): boolean {
    return this.bit(n, false) && (!this.at.salvage || this.block(n) !== undefined);
  }

  absence(n: number): string | undefined {
    const damage = this.damaged.get(n);
    if (damage) return `the dump holds page frame ${hex(n)} but it cannot be read: ${damage}`;
    if (!this.bit(n, true) || this.bit(n, false)) return undefined;
    const level = this.at.level ?? 0;
    const left = LEVEL_BITS.filter(([b]) => (level & b) !== 0).map(([, what]) => what);
    // The SMMU's tables are kernel allocations: of what a filter drops, only an all-zero page or a freed one can be a table.
    const hint = [(level & 1) !== 0 ? 'all zeros' : '', (level & 16) !== 0 ? 'already freed' : ''].filter(Boolean).join(' or ');
    return `page frame ${hex(n)} is RAM that the dump filter left out` +
      (left.length ? ` (dump level ${level} leaves out ${left.join(', ')} pages${hint ? `: a table there was ${hint}` : ''})` : '');
  }

  /** How many frames in [start, n) this file holds: the index of n's descriptor. */
  private rank(n: number): number {
    const bits = CHUNK * 8;
    const first = Math.floor(this.at.start / bits);
    const target = Math.floor(n / bits);
    // before[i]: dumped frames of this file in chunks first..i-1 (counting from start).
    if (this.before.length === 0) this.before.push(0);
    while (first + this.before.length - 1 < target) {
      const i = first + this.before.length - 1;
      this.before.push(this.before[this.before.length - 1] + this.countIn(i, i * bits, (i + 1) * bits));
    }
    return this.before[target - first] + this.countIn(target, target * bits, n);
  }

  /** Dumped frames of this file in [lo, hi) within chunk i. */
  private countIn(i: number, lo: number, hi: number): number {
    const c = this.chunk(i);
    const base = i * CHUNK * 8;
    let n = 0;
    let f = Math.max(lo, this.at.start);
    while (f < hi && f % 8 !== 0) n += (c[((f - base) >> 3)] >> (f++ & 7)) & 1;
    for (; f + 8 <= hi; f += 8) n += popcount8[c[(f - base) >> 3]];
    while (f < hi) n += (c[((f - base) >> 3)] >> (f++ & 7)) & 1;
    return n;
  }

  block(n: number): Uint8Array | undefined {
    const hit = this.kept.get(n);
    if (hit) return hit;
    if (!this.bit(n, false) || this.damaged.has(n)) return undefined;
    if (!this.at.salvage) return this.fetch(n);
    // Salvaging: a page that cannot be read is one the dump does not hold, and absence() says why.
    try {
      return this.fetch(n);
    } catch (e) {
      if (!(e instanceof DumpError)) throw e;
      this.damaged.set(n, e.message);
      return undefined;
    }
  }

  private fetch(n: number): Uint8Array | undefined {
    const index = this.rank(n);
    const at = this.at.descAt + index * DESC_SIZE;
    const where = `physical ${hex(n * this.blockSize)} (page frame ${hex(n)}, descriptor ${index} at offset ${hex(at)})`;
    // Of a flattened file cut short, what the lost records held is gone, not zeros.
    const lost = (what: string, from: number, len: number): void => {
      if (this.src.cut && this.src.holds && !this.src.holds(from, len)) {
        throw new DumpError(`${this.src.name}: ${what} of ${where} was in the part of the file that was cut off (${this.src.cut})`);
      }
    };
    lost('the descriptor', at, DESC_SIZE);
    const d = this.src.read(at, DESC_SIZE);
    if (d.length < DESC_SIZE) {
      if (this.at.incomplete) return undefined;
      throw new DumpError(`${this.src.name} ends at ${hex(this.src.size)} before the descriptor of ${where}: the file is truncated`);
    }
    const dv = new DataView(d.buffer, d.byteOffset, DESC_SIZE);
    const offset = dv.getBigInt64(0, true);
    const size = dv.getUint32(8, true);
    const flags = dv.getUint32(12, true);
    if (offset === 0n && this.at.incomplete) return undefined;
    if (offset > 0n) lost(`the ${size} bytes at offset ${hex(offset)}`, Number(offset), size);
    if (offset <= 0n || offset + BigInt(size) > BigInt(this.src.size)) {
      throw new DumpError(`${this.src.name}: the page at ${where} is said to be ${size} bytes at offset ${hex(offset)}, outside the file (${hex(this.src.size)} bytes): ` +
        'the file is truncated or its descriptors are damaged');
    }
    if (size === 0 || size > this.blockSize) {
      throw new DumpError(`${this.src.name}: the page at ${where} is said to be ${size} bytes; a stored page is 1 to ${this.blockSize} (the block size)`);
    }
    const data = this.src.read(Number(offset), size);
    let bytes: Uint8Array;
    try {
      bytes = decompressPage(flags, data, this.blockSize);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      throw new DumpError(`${this.src.name}: the page at ${where}, ${size} bytes at offset ${hex(offset)}: ${e.message}`);
    }
    if (this.kept.size >= KEPT_BLOCKS) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(n, bytes);
    return bytes;
  }

  runs(): readonly (readonly [number, number])[] {
    if (this.heldRuns) return this.heldRuns;
    const runs: [number, number][] = [];
    const bits = CHUNK * 8;
    for (let i = Math.floor(this.at.start / bits); i * bits < this.at.end; i++) {
      const c = this.chunk(i);
      for (let k = 0; k < CHUNK; k++) {
        if (c[k] === 0) continue;
        for (let b = 0; b < 8; b++) {
          const f = i * bits + k * 8 + b;
          if (f < this.at.start || f >= this.at.end || !((c[k] >> b) & 1)) continue;
          const last = runs[runs.length - 1];
          if (last && last[1] === f) last[1] = f + 1;
          else runs.push([f, f + 1]);
        }
      }
    }
    this.heldRuns = runs;
    return runs;
  }
}
