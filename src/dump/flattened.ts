/**
 * The flattened format: how makedumpfile -F, and QEMU's dump-guest-memory before 8.2,
 * write a kdump-compressed dump to a stream. The file is a 4096-byte header (signature
 * "makedumpfile" in 16 bytes, then big-endian 64-bit type 1 and version 1), then records:
 * a big-endian 64-bit offset and size, then that many bytes, which belong at that offset
 * of the real dump; an offset of -1 ends them. `makedumpfile -R` puts them in place; here
 * the records are indexed (their headers only) and read where they land, so the dump
 * reads as if reassembled.
 */
import { ByteSource, DumpError, hex, ReadOptions } from './source';

const HEADER = 4096;
const RECORD = 16;
const SIGNATURE = 'makedumpfile';
/** File bytes fetched at a time while walking the record headers. */
const WINDOW = 1 << 16;

export function isFlattened(head: Uint8Array): boolean {
  return head.length >= 16 && String.fromCharCode(...head.subarray(0, 16)) === SIGNATURE + '\0\0\0\0';
}

/** A dump read from a flattened file: `cut` says where a salvaged file ended, `holds` whether its records reached a range. */
export interface CutSource extends ByteSource {
  readonly cut?: string;
  holds(offset: number, length: number): boolean;
}

interface Piece {
  /** Where its bytes belong in the reassembled dump, and how many. */
  readonly at: number;
  readonly size: number;
  /** Where they are in this file. */
  readonly from: number;
}

/**
 * A reading of a flattened file as the dump it carries. Throws DumpError for a header or
 * record that cannot be right; salvaging, a file cut short keeps its whole records (`cut`
 * says where it ends), and what the rest would have put in place reads as zeros.
 */
export function flattenedSource(src: ByteSource, opts: ReadOptions = {}): CutSource {
  const name = src.name;
  if (src.size < HEADER) throw new DumpError(`${name}: a flattened dump (makedumpfile -F) starts with a ${HEADER}-byte header, but the file is ${src.size} bytes`);
  const first = src.read(0, 32);
  const head = new DataView(first.buffer, first.byteOffset, first.length);
  const type = head.getBigInt64(16, false);
  if (type !== 1n) throw new DumpError(`${name}: a flattened dump whose type (offset 0x10, big-endian) is ${type}; makedumpfile writes 1`);
  let window: Uint8Array = new Uint8Array(0);
  let windowAt = 0;
  const header = (at: number): DataView => {
    if (at < windowAt || at + RECORD > windowAt + window.length) {
      window = src.read(at, WINDOW);
      windowAt = at;
    }
    return new DataView(window.buffer, window.byteOffset + (at - windowAt), RECORD);
  };
  const pieces: Piece[] = [];
  let at = HEADER;
  let size = 0;
  let cut: string | undefined;
  const truncated = (message: string): boolean => {
    if (!opts.salvage) throw new DumpError(message);
    cut = message;
    return true;
  };
  for (;;) {
    if (at + RECORD > src.size && truncated(`${name} ends at ${hex(src.size)} inside or before the record header at ${hex(at)}, without the end record (offset -1): the flattened dump is truncated`)) break;
    const r = header(at);
    const offset = r.getBigInt64(0, false);
    const length = r.getBigInt64(8, false);
    if (offset === -1n) break;
    if (offset < 0n || length < 0n || offset + length > BigInt(2 ** 52)) {
      throw new DumpError(`${name}: the record at ${hex(at)} puts ${length} bytes at offset ${offset}; a record's offset and size are positive and within 2^52`);
    }
    const from = at + RECORD;
    if (from + Number(length) > src.size && truncated(`${name}: the record at ${hex(at)} holds ${hex(length)} bytes, but the file ends at ${hex(src.size)}: the flattened dump is truncated`)) break;
    if (length > 0n) pieces.push({ at: Number(offset), size: Number(length), from });
    size = Math.max(size, Number(offset + length));
    at = from + Number(length);
  }
  const placed = place(pieces);
  // The first piece that may reach `offset`: pieces are sorted and disjoint.
  const firstAt = (offset: number): number => {
    let lo = 0;
    let hi = placed.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (placed[mid].at + placed[mid].size <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    name,
    size,
    cut,
    read(offset, length) {
      const stop = Math.min(offset + length, size);
      const out = new Uint8Array(Math.max(0, stop - offset));
      for (let i = firstAt(offset); i < placed.length && placed[i].at < stop; i++) {
        const p = placed[i];
        const a = Math.max(offset, p.at);
        const b = Math.min(stop, p.at + p.size);
        out.set(src.read(p.from + (a - p.at), b - a), a - offset);
      }
      return out;
    },
    holds(offset, length) {
      let at = offset;
      for (let i = firstAt(offset); i < placed.length && placed[i].at <= at && at < offset + length; i++) at = placed[i].at + placed[i].size;
      return at >= offset + length;
    },
  };
}

/**
 * Pieces sorted by where they land, none overlapping: where records overlap (a header
 * written again at the end), the later one wins, as it does when they are put in place.
 * Only the pieces that overlap one another are painted over each other.
 */
function place(pieces: readonly Piece[]): Piece[] {
  const order = new Map(pieces.map((p, i) => [p, i]));
  const sorted = [...pieces].sort((a, b) => a.at - b.at);
  const out: Piece[] = [];
  for (let i = 0; i < sorted.length;) {
    // A run of pieces each overlapping what came before it in the run.
    let j = i + 1;
    let reach = sorted[i].at + sorted[i].size;
    while (j < sorted.length && sorted[j].at < reach) reach = Math.max(reach, sorted[j].at + sorted[j++].size);
    if (j === i + 1) out.push(sorted[i]);
    else for (const p of paint(sorted.slice(i, j).sort((a, b) => order.get(a)! - order.get(b)!))) out.push(p);
    i = j;
  }
  return out;
}

/** Pieces in file order, each later one covering what it overlaps of the earlier ones. */
function paint(inFileOrder: readonly Piece[]): Piece[] {
  let out: Piece[] = [];
  for (const p of inFileOrder) {
    const kept: Piece[] = [];
    for (const q of out) {
      if (q.at + q.size <= p.at || q.at >= p.at + p.size) {
        kept.push(q);
        continue;
      }
      if (q.at < p.at) kept.push({ at: q.at, size: p.at - q.at, from: q.from });
      if (q.at + q.size > p.at + p.size) {
        const cut = p.at + p.size - q.at;
        kept.push({ at: p.at + p.size, size: q.size - cut, from: q.from + cut });
      }
    }
    kept.push(p);
    out = kept;
  }
  return out.sort((a, b) => a.at - b.at);
}
