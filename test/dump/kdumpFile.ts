/**
 * kdump-compressed files built by hand for the tests, laid out from makedumpfile's
 * diskdump_mod.h field by field (not with the reader under test): block 0 the main
 * header, block 1 the sub header, then the two bitmaps, the page descriptors (24 bytes:
 * offset, size, flags, page_flags) and the page data. The real files QEMU wrote (in
 * fixtures/) check the same reading against a producer.
 */
import { deflateSync } from 'node:zlib';

export interface KdumpPage {
  readonly pfn: number;
  readonly data: Uint8Array;
  /** How it is stored: raw (default), zlib (compressed here with node's zlib), or given compressed bytes with their flag. */
  readonly store?: 'raw' | 'zlib' | { readonly flags: number; readonly bytes: Uint8Array };
}

export interface KdumpOptions {
  readonly blockSize: number;
  readonly maxMapnr: number;
  readonly pages: readonly KdumpPage[];
  /** Frames that exist but were filtered out: in the first bitmap only. */
  readonly filtered?: readonly number[];
  readonly version?: number;
  readonly status?: number;
  readonly machine?: string;
  /** A part of a split dump: descriptors only for the pages in [start, end). */
  readonly split?: { readonly start: number; readonly end: number };
  /** Descriptors to leave zero (as an unfinished dump does), by page index. */
  readonly unwritten?: readonly number[];
  /** Override a descriptor's fields, by page index. */
  readonly desc?: Readonly<Record<number, { offset?: bigint; size?: number; flags?: number }>>;
}

export function kdumpFile(o: KdumpOptions): Uint8Array {
  const bs = o.blockSize;
  const bitmapBytes = Math.max(bs, Math.ceil(Math.ceil(o.maxMapnr / 8) / bs) * bs);
  const bitmapBlocks = (2 * bitmapBytes) / bs;
  const pages = [...o.pages].sort((a, b) => a.pfn - b.pfn);
  const described = pages.filter((p) => !o.split || (p.pfn >= o.split.start && p.pfn < o.split.end));
  const descAt = (2 + bitmapBlocks) * bs;
  let dataAt = descAt + described.length * 24;
  const stored = described.map((p) => {
    const s = p.store ?? 'raw';
    const entry = s === 'raw' ? { flags: 0, bytes: p.data } : s === 'zlib' ? { flags: 0x1, bytes: new Uint8Array(deflateSync(p.data)) } : s;
    const at = dataAt;
    dataAt += entry.bytes.length;
    return { ...entry, at };
  });
  const out = new Uint8Array(dataAt);
  const v = new DataView(out.buffer);
  out.set([...'KDUMP   '].map((c) => c.charCodeAt(0)), 0);
  v.setInt32(8, o.version ?? 6, true); // header_version
  out.set([...(o.machine ?? 'aarch64')].map((c) => c.charCodeAt(0)), 12 + 4 * 65); // utsname.machine
  v.setUint32(424, o.status ?? 0, true); // status
  v.setInt32(428, bs, true); // block_size
  v.setInt32(432, 1, true); // sub_hdr_size
  v.setUint32(436, bitmapBlocks, true); // bitmap_blocks
  v.setUint32(440, Math.min(o.maxMapnr, 0xffff_ffff), true); // max_mapnr (32-bit)
  // Sub header at block 1.
  v.setBigUint64(bs + 0, 0n, true); // phys_base
  v.setInt32(bs + 8, 31, true); // dump_level
  v.setInt32(bs + 12, o.split ? 1 : 0, true); // split
  if (o.split) {
    v.setBigUint64(bs + 16, BigInt(o.split.start), true);
    v.setBigUint64(bs + 24, BigInt(o.split.end), true);
    v.setBigUint64(bs + 80, BigInt(o.split.start), true);
    v.setBigUint64(bs + 88, BigInt(o.split.end), true);
  }
  v.setBigUint64(bs + 96, BigInt(o.maxMapnr), true); // max_mapnr_64
  const bitmap1 = 2 * bs;
  const bitmap2 = bitmap1 + bitmapBytes;
  const setBit = (base: number, n: number): void => void (out[base + (n >> 3)] |= 1 << (n & 7));
  for (const p of pages) {
    setBit(bitmap1, p.pfn);
    setBit(bitmap2, p.pfn);
  }
  for (const n of o.filtered ?? []) setBit(bitmap1, n);
  stored.forEach((s, i) => {
    const d = descAt + i * 24;
    const over = o.desc?.[i] ?? {};
    if (!o.unwritten?.includes(i)) {
      v.setBigInt64(d, over.offset ?? BigInt(s.at), true);
      v.setUint32(d + 8, over.size ?? s.bytes.length, true);
      v.setUint32(d + 12, over.flags ?? s.flags, true);
    }
    out.set(s.bytes, s.at);
  });
  return out;
}

/** The same file flattened (makedumpfile -F): a 4096-byte header, then big-endian (offset, size) records, then the end record. */
export function flatten(file: Uint8Array, pieces: readonly (readonly [number, number])[] = [[0, file.length]], extra: readonly (readonly [number, Uint8Array])[] = []): Uint8Array {
  const records = [...pieces.map(([a, b]) => [a, file.subarray(a, b)] as const), ...extra];
  const out = new Uint8Array(4096 + records.reduce((n, [, d]) => n + 16 + d.length, 0) + 16);
  const v = new DataView(out.buffer);
  out.set([...'makedumpfile'].map((c) => c.charCodeAt(0)), 0);
  v.setBigInt64(16, 1n, false); // type: flattened
  v.setBigInt64(24, 1n, false); // version
  let at = 4096;
  for (const [offset, data] of records) {
    v.setBigInt64(at, BigInt(offset), false);
    v.setBigInt64(at + 8, BigInt(data.length), false);
    out.set(data, at + 16);
    at += 16 + data.length;
  }
  v.setBigInt64(at, -1n, false);
  v.setBigInt64(at + 8, -1n, false);
  return out;
}
