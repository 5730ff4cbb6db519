/**
 * The memory system as the CPU and the SMMU see it: PoC, the CPU's write-back cache,
 * region attributes, CMOs that complete only at a DSB, and the visibility history the
 * hazard checker reads.
 *
 * The model is one deterministic run, chosen to be pessimistic: a dirty line reaches PoC
 * only when a clean completes (at a DSB) or a write-back is forced by the scenario; stores
 * to non-cacheable memory reach PoC at once. What else the SMMU *could* read is recorded in
 * `history`, not guessed here.
 */
import { CpuCache, Line } from './cache';
import { GRANULE, granuleOf, Path, Version, VisibilityHistory } from './history';
import { bigintToBytes, bytesToBigint, MAX_PHYS_ADDR, PAGE_SIZE, PhysicalMemory } from './memory';
import { Attribute, RegionMap } from './regions';

export type CmoOp = 'clean' | 'clean-inv' | 'inv';

/** Barriers as the kernel names them; all order stores, only `dsb` completes them and CMOs. */
export type BarrierKind = 'dma_wmb' | 'dma_rmb' | 'wmb' | 'rmb' | 'mb' | 'dmb' | 'dsb';

export interface MemoryConfig {
  /** Does the SMMU snoop the CPU's caches? */
  readonly coherent: boolean;
  /** CPU cache line size in bytes (default 64). */
  readonly lineSize: number;
  /** Bytes the hardware writes back atomically (1, 2, 4 or 8; default 8). */
  readonly writebackGranule: 1 | 2 | 4 | 8;
}

export const DEFAULT_MEMORY_CONFIG: MemoryConfig = { coherent: false, lineSize: 64, writebackGranule: 8 };

export interface LostBytes {
  /** First byte address of a run of dirty bytes an invalidate discarded. */
  readonly addr: number;
  /** The CPU's values that were lost. */
  readonly cpu: Uint8Array;
  /** What PoC holds instead. */
  readonly poc: Uint8Array;
}

export interface CmoResult {
  readonly lines: number;
  /** Lines that were dirty when the CMO was issued. */
  readonly dirtyLines: number;
  /** For `inv`: dirty data thrown away. */
  readonly lost: readonly LostBytes[];
}

/** A clean issued and waiting for a DSB: the bytes it will write to PoC. */
interface PendingWriteBack {
  readonly base: number;
  readonly data: Uint8Array;
  readonly mask: Uint8Array;
}

export class MemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryError';
  }
}

const hex = (n: number): string => '0x' + n.toString(16);

/** Byte masks within a granule: MASKS[offset][length] has 0xff for each byte stored. */
const MASKS: readonly (readonly bigint[])[] = Array.from({ length: GRANULE }, (_, off) =>
  Array.from({ length: GRANULE - off + 1 }, (_, len) => ((1n << BigInt(8 * len)) - 1n) << BigInt(8 * off)));

function checkRange(addr: number, len: number): void {
  if (!Number.isSafeInteger(addr) || addr < 0 || addr + len > MAX_PHYS_ADDR || len < 0) {
    throw new MemoryError(`address range ${hex(addr)}+${len} is outside the 52-bit physical address space`);
  }
}

export class MemorySystem {
  regions: RegionMap;
  private pendingWriteBacks: PendingWriteBack[];

  constructor(
    readonly config: MemoryConfig,
    readonly poc: PhysicalMemory = new PhysicalMemory(),
    readonly cache: CpuCache = new CpuCache(config.lineSize),
    readonly history: VisibilityHistory = new VisibilityHistory(),
    regions: RegionMap = RegionMap.empty(),
    pending: PendingWriteBack[] = [],
  ) {
    this.regions = regions;
    this.pendingWriteBacks = pending;
  }

  snapshot(): MemorySystem {
    return new MemorySystem(this.config, this.poc.snapshot(), this.cache.snapshot(), this.history.snapshot(),
      this.regions, [...this.pendingWriteBacks]);
  }

  attrAt(addr: number): Attribute {
    return this.regions.attrAt(addr);
  }

  /** How the SMMU comes to see the CPU's stores to this address. */
  pathAt(addr: number): Path {
    return this.config.coherent || this.attrAt(addr) === 'noncacheable' ? 'direct' : 'poc';
  }

  // ---- CPU side -------------------------------------------------------------------

  /** The CPU's view of bytes: its cache, then cleans in flight, then PoC. */
  cpuRead(addr: number, len: number): Uint8Array {
    checkRange(addr, len);
    const out = this.poc.read(addr, len);
    for (const wb of this.pendingWriteBacks) overlay(out, addr, wb.base, wb.data, wb.mask);
    for (const line of this.cache.linesIn(addr, len)) overlay(out, addr, line.base, line.data);
    return out;
  }

  cpuLoad(addr: number, size: 1 | 2 | 4 | 8): bigint {
    if (size === 8 && addr % 8 === 0) {
      checkRange(addr, 8);
      return this.cpuQword(addr);
    }
    return bytesToBigint(this.cpuRead(addr, size));
  }

  /**
   * The CPU's view of an aligned qword without building a byte array: its cache line,
   * else cleans in flight over PoC.
   */
  private cpuQword(addr: number): bigint {
    // A line holds the CPU's value of all its bytes; without one, cleans in flight come before PoC.
    const line = this.cache.size > 0 ? this.cache.get(addr) : undefined;
    if (line) return bytesToBigint(line.data, addr - line.base, 8);
    return this.pendingWriteBacks.length > 0 ? bytesToBigint(this.cpuRead(addr, 8)) : this.poc.readU64(addr);
  }

  /**
   * A CPU store of `size` bytes. `unit` is how it may tear on its way to the SMMU: `size`
   * for a single-copy-atomic store (WRITE_ONCE of an aligned value), smaller for a plain
   * store the compiler may split. `origin` names the operation for explanations.
   */
  cpuStore(addr: number, size: 1 | 2 | 4 | 8, value: bigint, unit: Version['unit'], origin: number): void {
    checkRange(addr, size);
    if (granuleOf(addr) !== granuleOf(addr + size - 1)) {
      // Unaligned stores cross granules: record each part.
      const first = GRANULE - (addr % GRANULE);
      const bytes = bigintToBytes(value, size);
      this.storeBytes(addr, bytes, 0, first, 1, origin);
      this.storeBytes(addr + first, bytes, first, size - first, 1, origin);
      return;
    }
    this.storeBytes(addr, bigintToBytes(value, size), 0, size, Math.min(unit, size) as Version['unit'], origin);
  }

  /** Bulk CPU writes (memset/memcpy): byte stores with no atomicity. */
  cpuWrite(addr: number, data: Uint8Array, origin: number): void {
    checkRange(addr, data.length);
    for (let done = 0; done < data.length;) {
      const a = addr + done;
      const n = Math.min(data.length - done, GRANULE - (a % GRANULE));
      this.storeBytes(a, data, done, n, 1, origin);
      done += n;
    }
  }

  /** Stores of `len` bytes of `src` from `from`, within one granule. */
  private storeBytes(addr: number, src: Uint8Array, from: number, len: number, unit: Version['unit'], origin: number): void {
    const g = granuleOf(addr);
    const attr = this.attrAt(addr);
    const path = this.config.coherent || attr === 'noncacheable' ? 'direct' : 'poc';
    let before: bigint;
    let after: bigint;
    if (attr === 'cacheable') {
      // The line (filled with the CPU's view when new) holds the granule before and after.
      const line = this.cache.lineForWrite(addr, (base, out) => this.cpuFill(base, out));
      const off = addr - line.base;
      let same = true;
      for (let i = 0; i < len; i++) same &&= line.data[off + i] === src[from + i];
      before = same ? 0n : bytesToBigint(line.data, g - line.base, 8);
      for (let i = 0; i < len; i++) line.data[off + i] = src[from + i];
      line.dirty.fill(1, off, off + len);
      if (same) return;
      after = bytesToBigint(line.data, g - line.base, 8);
    } else {
      before = this.cpuQword(g);
      this.poc.write(addr, len === src.length ? src : src.subarray(from, from + len));
      after = this.cpuQword(g);
      if (after === before) return;
    }
    const mask = MASKS[addr - g][len];
    const effectiveUnit = path === 'poc' ? (Math.min(unit, this.config.writebackGranule) as Version['unit']) : unit;
    this.history.store(g, path, before, after, mask, effectiveUnit, origin);
  }

  /** A line fill sees what the CPU would: cleans in flight, then PoC. */
  private cpuFill(base: number, out: Uint8Array): void {
    this.poc.read(base, out.length, out);
    for (const wb of this.pendingWriteBacks) overlay(out, base, wb.base, wb.data, wb.mask);
  }

  /** A CMO by VA over [addr, addr+len): DC CVAC, DC CIVAC or DC IVAC on each line. */
  cmo(op: CmoOp, addr: number, len: number): CmoResult {
    checkRange(addr, len);
    const lost: LostBytes[] = [];
    let dirtyLines = 0;
    const ls = this.config.lineSize;
    const first = this.cache.lineBase(addr);
    const lines = Math.max(0, Math.ceil((addr + len - first) / ls));
    // Only the lines the cache holds can change: a CMO over 695 GiB must not visit 11 billion line addresses.
    for (const line of this.cache.linesIn(addr, len)) {
      const base = line.base;
      const dirty = line.dirty.includes(1);
      if (dirty) dirtyLines++;
      if (op === 'inv') {
        if (dirty) lost.push(...lostRuns(line, this.poc.read(base, ls)));
      } else if (dirty) {
        this.pendingWriteBacks.push({ base, data: line.data.slice(), mask: line.dirty.slice() });
        for (let g = base; g < base + ls; g += GRANULE) this.history.clean(g);
      }
      if (op === 'clean') {
        if (dirty) this.cache.lineForWrite(base, () => undefined).dirty.fill(0);
      } else {
        this.cache.drop(base);
      }
    }
    return { lines, dirtyLines, lost };
  }

  barrier(kind: BarrierKind): void {
    if (kind === 'dsb') {
      for (const wb of this.pendingWriteBacks) writeMasked(this.poc, wb.base, wb.data, wb.mask);
      this.pendingWriteBacks = [];
      this.history.dsb();
    } else if (kind !== 'dma_rmb' && kind !== 'rmb') {
      this.history.barrier();
    }
  }

  /** Cleans issued and not yet completed by a DSB (their line addresses). */
  pendingCleans(): number[] {
    return this.pendingWriteBacks.map((w) => w.base);
  }

  /**
   * The hardware writes dirty lines back to PoC now (an eviction). The scenario uses it
   * to show one of the outcomes the architecture allows at any time.
   */
  writeBack(addr: number, len: number): number {
    let n = 0;
    for (const line of this.cache.linesIn(addr, len)) {
      if (!line.dirty.includes(1)) continue;
      writeMasked(this.poc, line.base, line.data, line.dirty);
      this.cache.lineForWrite(line.base, () => undefined).dirty.fill(0);
      for (let g = line.base; g < line.base + line.data.length; g += GRANULE) this.history.writtenBack(g);
      n++;
    }
    return n;
  }

  /**
   * An MMIO doorbell: what it triggers sees every store ordered before it by a barrier
   * (writel's own, or an explicit one); stores after the last barrier stay unsettled.
   */
  doorbell(): void {
    this.history.publish();
  }

  /**
   * Memory in each range is overwritten with `byte` by a new owner (the kernel after kexec
   * reusing free memory): PoC holds the byte, the CPU's cached copies of it (dirty or not)
   * and cleans in flight there are gone, and nothing the SMMU could read there is pending.
   * Whole pages cost what was written there before, whatever the range's size.
   */
  overwrite(ranges: readonly { readonly addr: number; readonly len: number }[], byte: number): void {
    for (const { addr, len } of ranges) {
      if (len <= 0) continue;
      checkRange(addr, len);
      const end = addr + len;
      const first = Math.ceil(addr / PAGE_SIZE);
      const last = Math.floor(end / PAGE_SIZE);
      if (last > first) {
        this.poc.overwritePages(first, last, byte);
        this.poc.fill(addr, first * PAGE_SIZE - addr, byte);
        this.poc.fill(last * PAGE_SIZE, end - last * PAGE_SIZE, byte);
      } else {
        this.poc.fill(addr, len, byte);
      }
      for (const line of this.cache.linesIn(addr, len)) {
        if (line.base >= addr && line.base + line.data.length <= end) {
          this.cache.drop(line.base);
          continue;
        }
        // A line only partly inside keeps its other bytes.
        const l = this.cache.lineForWrite(line.base, () => undefined);
        for (let a = Math.max(addr, l.base); a < Math.min(end, l.base + l.data.length); a++) {
          l.data[a - l.base] = byte;
          l.dirty[a - l.base] = 0;
        }
      }
      this.dropPending(addr, end);
      this.history.forget(addr, len);
    }
  }

  // ---- SMMU side ------------------------------------------------------------------

  /** What the SMMU reads in this run: the CPU's view if coherent, else PoC. */
  smmuRead(addr: number, len: number): Uint8Array {
    if (this.config.coherent) return this.cpuRead(addr, len);
    checkRange(addr, len);
    return this.poc.read(addr, len);
  }

  /** Fast 64-bit SMMU read, as [low, high] 32-bit halves written into `out`. */
  smmuReadU64Parts(addr: number, out: Uint32Array | number[]): void {
    if (this.config.coherent && (this.cache.size > 0 || this.pendingWriteBacks.length > 0)) {
      const line = this.cache.get(addr);
      if (line && this.pendingWriteBacks.length === 0) {
        const off = addr - line.base;
        const v = new DataView(line.data.buffer, line.data.byteOffset);
        out[0] = v.getUint32(off, true);
        out[1] = v.getUint32(off + 4, true);
        return;
      }
      if (line || this.pendingWriteBacks.length > 0) {
        const b = this.cpuRead(addr, 8);
        out[0] = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
        out[1] = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
        return;
      }
    }
    this.poc.readU64Parts(addr, out);
  }

  smmuReadU64(addr: number): bigint {
    if (!this.config.coherent && addr % 8 === 0) {
      checkRange(addr, 8);
      return this.poc.readU64(addr);
    }
    return bytesToBigint(this.smmuRead(addr, 8));
  }

  /**
   * An SMMU write (event record, MSI, hardware flag update). A coherent SMMU's write is
   * seen by the CPU at once; a non-coherent one's goes to PoC only, behind the CPU's
   * cached copy.
   */
  smmuWrite(addr: number, data: Uint8Array): void {
    checkRange(addr, data.length);
    this.poc.write(addr, data);
    if (!this.config.coherent) return;
    for (const line of this.cache.linesIn(addr, data.length)) {
      const l = this.cache.lineForWrite(line.base, () => undefined);
      for (let i = 0; i < data.length; i++) {
        const off = addr + i - l.base;
        if (off < 0 || off >= l.data.length) continue;
        l.data[off] = data[i];
        l.dirty[off] = 0;
      }
    }
    // Cleans in flight must not later overwrite what the SMMU wrote.
    this.dropPending(addr, addr + data.length);
  }

  /** Cleans in flight no longer write [addr, end) (copies: snapshots share them). */
  private dropPending(addr: number, end: number): void {
    this.pendingWriteBacks = this.pendingWriteBacks.map((wb) => {
      if (wb.base >= end || addr >= wb.base + wb.mask.length) return wb;
      const mask = wb.mask.slice();
      for (let a = Math.max(addr, wb.base); a < Math.min(end, wb.base + mask.length); a++) mask[a - wb.base] = 0;
      return { ...wb, mask };
    });
  }

  // ---- views for the debugger and the checker --------------------------------------

  /** PoC bytes. */
  pocRead(addr: number, len: number): Uint8Array {
    checkRange(addr, len);
    return this.poc.read(addr, len);
  }

  dirtyLines(): Line[] {
    return this.cache.dirtyLines();
  }

  /**
   * Pages of [first, last] where the CPU may read something other than zero: PoC's own
   * (see PhysicalMemory.pagesMaybeHolding, cut at `limit` pages past `first`), pages with a
   * cache line, and pages with a clean in flight. A scan reads only these, so its cost
   * follows what the scenario wrote, not the size of the range.
   */
  cpuPagesMaybeHolding(first: number, last: number, limit?: number): number[] {
    const pages = new Set(this.poc.pagesMaybeHolding(first, last, limit).pages);
    const add = (addr: number): void => {
      const p = Math.floor(addr / PAGE_SIZE);
      if (p >= first && p <= last) pages.add(p);
    };
    for (const l of this.cache.linesIn(first * PAGE_SIZE, (last - first + 1) * PAGE_SIZE)) add(l.base);
    for (const wb of this.pendingWriteBacks) add(wb.base);
    return [...pages].sort((a, b) => a - b);
  }
}

/** Copy `data` (bytes at `base`) over `out` (bytes at `at`) where they overlap, optionally masked. */
function overlay(out: Uint8Array, at: number, base: number, data: Uint8Array, mask?: Uint8Array): void {
  const from = Math.max(at, base);
  const to = Math.min(at + out.length, base + data.length);
  if (from >= to) return;
  if (!mask) out.set(data.subarray(from - base, to - base), from - at);
  else for (let a = from; a < to; a++) if (mask[a - base]) out[a - at] = data[a - base];
}

function writeMasked(poc: PhysicalMemory, base: number, data: Uint8Array, mask: Uint8Array): void {
  for (let i = 0; i < data.length;) {
    if (!mask[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < data.length && mask[j]) j++;
    poc.write(base + i, data.subarray(i, j));
    i = j;
  }
}

function lostRuns(line: Line, poc: Uint8Array): LostBytes[] {
  const out: LostBytes[] = [];
  for (let i = 0; i < line.dirty.length;) {
    if (!line.dirty[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < line.dirty.length && line.dirty[j]) j++;
    out.push({ addr: line.base + i, cpu: line.data.slice(i, j), poc: poc.slice(i, j) });
    i = j;
  }
  return out;
}
