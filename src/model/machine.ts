/**
 * The simulated machine: memory (PoC, the CPU cache, regions), the SMMU, and the CPU's
 * operations on them as the kernel performs them — stores, CMOs, barriers, MMIO — plus
 * device DMA. Deterministic, and cheap to snapshot (memory pages and cache lines are
 * shared copy-on-write), so the debugger can step backwards by restoring snapshots.
 *
 * Everything that happens is reported to a listener with the id of the operation that
 * caused it (the caller sets `origin` before each operation).
 */
import { MemoryConfig, MemorySystem, BarrierKind, CmoOp, CmoResult, DEFAULT_MEMORY_CONFIG } from './memsys';
import { Allocator, Attribute, Region, RegionError } from './regions';
import { SmmuActivity, Smmu, TranslateResult } from './smmu/smmu';
import { DEFAULT_FEATURES, FeatureError, featureProblems, SmmuFeatures } from './smmu/features';
import { Transaction } from './smmu/types';
import { Version } from './history';
import { Kho, KhoAction, KhoError, KhoEvent, SCRUB_BYTE } from './kho';
import { overwrite, performKho } from './handover';

export interface PlatformConfig {
  readonly memory: MemoryConfig;
  readonly features: SmmuFeatures;
  /** Where automatic allocations start and end. */
  readonly allocBase: number;
  readonly allocLimit: number;
  /**
   * What kexec does with the CPU's dirty lines: leave them dirty (default; arm64's kexec
   * cleans only the new image to PoC) or write them all back.
   */
  readonly kexecCache?: 'dirty' | 'writeback';
}

export const DEFAULT_PLATFORM: PlatformConfig = {
  memory: DEFAULT_MEMORY_CONFIG,
  features: DEFAULT_FEATURES,
  allocBase: 0x4000_0000,
  allocLimit: 0x1_0000_0000_0000,
};

/** What the machine reports, besides the SMMU's own activity. */
export type MachineActivity =
  | SmmuActivity
  | { readonly kind: 'store'; readonly addr: number; readonly size: number; readonly value: bigint; readonly unit: number; readonly before: bigint }
  | { readonly kind: 'cmo'; readonly op: CmoOp; readonly addr: number; readonly len: number; readonly result: CmoResult }
  | { readonly kind: 'barrier'; readonly barrier: BarrierKind }
  | { readonly kind: 'writeback'; readonly addr: number; readonly len: number; readonly lines: number }
  | { readonly kind: 'alloc'; readonly region: Region }
  | { readonly kind: 'free'; readonly region: Region }
  /** A bulk CPU write (memset/memcpy). */
  | { readonly kind: 'write'; readonly addr: number; readonly len: number }
  | { readonly kind: 'kho'; readonly event: KhoEvent };

export interface Tagged {
  /** The operation that caused it. */
  readonly origin: number;
  readonly activity: MachineActivity;
}

export type Listener = (t: Tagged) => void;

export class Machine {
  /** Id of the operation being performed (set by the caller). */
  origin = 0;
  private listener: Listener;

  readonly smmu: Smmu;

  private constructor(
    readonly platform: PlatformConfig,
    readonly mem: MemorySystem,
    makeSmmu: (report: (a: SmmuActivity) => void) => Smmu,
    readonly allocator: Allocator,
    listener: Listener,
    /** Kexec HandOver: what is preserved, and where the live update is. */
    readonly kho: Kho = new Kho(),
  ) {
    this.listener = listener;
    this.smmu = makeSmmu((a) => this.report(a));
  }

  static create(platform: PlatformConfig = DEFAULT_PLATFORM, listener: Listener = () => undefined): Machine {
    const problems = featureProblems(platform.features);
    if (problems.length) throw new FeatureError(`impossible SMMU: ${problems.join('; ')}`);
    const mem = new MemorySystem(platform.memory);
    return new Machine(platform, mem, (report) => new Smmu(platform.features, mem, report),
      new Allocator(platform.allocBase, platform.allocLimit), listener);
  }

  /** An independent copy: later operations on either do not affect the other. */
  snapshot(listener: Listener = this.listener): Machine {
    const mem = this.mem.snapshot();
    const copy = new Machine(this.platform, mem, (report) => this.smmu.snapshot(mem, report), this.allocator.clone(), listener, this.kho.clone());
    copy.origin = this.origin;
    return copy;
  }

  setListener(listener: Listener): void {
    this.listener = listener;
  }

  private report(activity: MachineActivity): void {
    this.listener({ origin: this.origin, activity });
  }

  // ---- memory management ---------------------------------------------------------

  /**
   * Allocate a named region: at `base` when given, else placed automatically with natural
   * alignment (the smallest power of two at least `size`, as iommu-pages and the DMA API
   * give), at least `align`.
   */
  alloc(name: string, size: number, attr: Attribute, owner: string, opts: { base?: number; align?: number } = {}): Region {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RegionError(`region '${name}': size ${size} must be a positive integer`);
    let base = opts.base;
    // Memory KHO keeps for the new kernel to restore is not the allocator's to give.
    const clashEnd = (b: number, s: number): number | undefined => this.mem.regions.clashEnd(b, s) ?? this.kho.clashEnd(b, s);
    if (base === undefined) {
      const natural = 2 ** Math.ceil(Math.log2(size));
      base = this.allocator.allocate(size, Math.max(natural, opts.align ?? 1, 64), clashEnd);
    } else if (opts.align && base % opts.align !== 0) {
      throw new RegionError(`region '${name}' at 0x${base.toString(16)} is not aligned to 0x${opts.align.toString(16)}`);
    } else if (this.kho.clashEnd(base, size) !== undefined) {
      throw new KhoError(`region '${name}' at 0x${base.toString(16)} would take memory the old kernel preserved: restore it (kho restore) instead`);
    }
    // The driver's own names never clash: a new kernel's 'cmdq' beside the old one it restored.
    if (owner !== 'scenario') for (let n = 2; this.mem.regions.byName(name); n++) name = `${name.replace(/#\d+$/, '')}#${n}`;
    this.mem.regions = this.mem.regions.add({ name, base, size, attr, owner });
    const region = this.mem.regions.byName(name)!;
    // After a kexec, allocated memory is memory the old kernel may have used: what it held is gone.
    // The kernel's allocators for tables and queues (dma_alloc_coherent, iommu-pages) zero it; a
    // scenario's own allocation is left holding the scrub pattern.
    if (this.kho.kexecs > 0) {
      overwrite(this, [{ addr: base, len: size }], owner === 'scenario' ? SCRUB_BYTE : 0, 'alloc', (event) => this.report({ kind: 'kho', event }));
    }
    this.report({ kind: 'alloc', region });
    return region;
  }

  free(name: string): Region {
    const region = this.mem.regions.byName(name);
    if (!region) throw new RegionError(`no live region named '${name}'`);
    this.mem.regions = this.mem.regions.free(name);
    this.report({ kind: 'free', region });
    return region;
  }

  /** A live region by name; after kexec, also a region of the old kernel (its memory is still there to name). */
  region(name: string): Region | undefined {
    const r = this.mem.regions.byName(name);
    if (r) return r;
    const old = this.kho.oldRegion(name);
    return old && { name: old.name, base: old.base, size: old.size, attr: old.attr, owner: old.owner, live: false };
  }

  /** A Kexec HandOver action (see kho.ts and handover.ts). */
  handover(action: KhoAction): void {
    performKho(this, action, (event) => this.report({ kind: 'kho', event }));
  }

  // ---- CPU operations --------------------------------------------------------------

  /** A store: `unit` = size for WRITE_ONCE of an aligned value, smaller for a plain store that may tear. */
  store(addr: number, size: 1 | 2 | 4 | 8, value: bigint, unit: Version['unit'] = size): void {
    const before = this.mem.cpuLoad(addr, size);
    this.mem.cpuStore(addr, size, value, unit, this.origin);
    this.report({ kind: 'store', addr, size, value: BigInt.asUintN(size * 8, value), unit, before });
  }

  load(addr: number, size: 1 | 2 | 4 | 8): bigint {
    return this.mem.cpuLoad(addr, size);
  }

  /** Bulk write (memset/memcpy): byte stores. */
  write(addr: number, data: Uint8Array): void {
    this.mem.cpuWrite(addr, data, this.origin);
    this.report({ kind: 'write', addr, len: data.length });
  }

  cmo(op: CmoOp, addr: number, len: number): CmoResult {
    const result = this.mem.cmo(op, addr, len);
    this.report({ kind: 'cmo', op, addr, len, result });
    return result;
  }

  barrier(kind: BarrierKind): void {
    this.mem.barrier(kind);
    this.report({ kind: 'barrier', barrier: kind });
  }

  /** The hardware writes dirty lines in a range back to PoC (one of the outcomes it may choose at any time). */
  writeBack(addr: number, len: number): number {
    const lines = this.mem.writeBack(addr, len);
    this.report({ kind: 'writeback', addr, len, lines });
    return lines;
  }

  /**
   * An MMIO write to an SMMU register: `writel` has a barrier before the write (so earlier
   * stores are visible to what the write triggers), `writel_relaxed` has none.
   */
  mmioWrite(reg: string | number, value: bigint, relaxed = false): string | undefined {
    if (!relaxed) this.barrier('wmb');
    this.mem.doorbell();
    return this.smmu.write(reg, value);
  }

  mmioRead(reg: string | number): bigint {
    return this.smmu.read(reg);
  }

  // ---- devices ----------------------------------------------------------------------

  dma(tx: Transaction): TranslateResult {
    return this.smmu.translate(tx);
  }
}
