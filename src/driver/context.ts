/**
 * What a driver action works with: the machine, read as the CPU sees it (stores and other
 * effects go through yielded micro-operations, never directly), and the driver's own
 * state — the kernel's variables, which the runtime snapshots with the machine.
 */
import type { Machine } from '../model/machine';

/** Queue state the driver keeps in memory of its own (the kernel's struct arm_smmu_queue). */
export interface QueueState {
  readonly region: string;
  readonly base: number;
  readonly log2size: number;
  /** The driver's copy of PROD (index + wrap); CONS is read from the SMMU. */
  prod: number;
}

export interface StreamTableState {
  readonly region: string;
  readonly base: number;
  /** 'linear' or '2lvl' (SPLIT 8, as Linux). */
  readonly fmt: 'linear' | '2lvl';
  readonly log2size: number;
  readonly split: number;
  /** 2-level: L1 index → region name of its L2 table, once allocated. */
  readonly l2: Map<number, string>;
}

/** What the driver knows about one page-table domain (io-pgtable instance). */
export interface PgtableDomain {
  readonly name: string;
  readonly stage: 1 | 2;
  readonly granule: 4 | 16 | 64;
  readonly ias: number;
  readonly oas: number;
  readonly coherentWalk: boolean;
  /** Region name and address of the top-level table. */
  readonly pgdRegion: string;
  readonly pgd: number;
  readonly startLevel: number;
  /** Tables allocated so far, by region name, for freeing and for preservation. */
  readonly tables: string[];
  /** ASID (stage 1) or VMID (stage 2) assigned when the domain is attached. */
  asid?: number;
  vmid?: number;
}

/** A CD table the driver allocated for a master. */
export interface CdTableState {
  readonly region: string;
  readonly base: number;
  /** 'linear' or '2lvl' (64KB leaves, as Linux). */
  readonly fmt: 'linear' | '2lvl';
  /** log2 of the number of CDs (STE.S1CDMax). */
  readonly cdMax: number;
  /** 2-level: L1 index → region name of its leaf table. */
  readonly l2: Map<number, string>;
  /** StreamIDs whose STEs point at this table (CFGI_CD goes to each). */
  readonly sids: number[];
  /** The memory it lives in, and whether the driver cleans it after writes (see master.ts). */
  readonly memory: { readonly kind: 'coherent' | 'cacheable'; readonly clean: boolean };
}

export interface KernelState {
  cmdq?: QueueState;
  evtq?: QueueState;
  strtab?: StreamTableState;
  /** CD tables by name. */
  readonly cdTables: Map<string, CdTableState>;
  readonly domains: Map<string, PgtableDomain>;
  /** ASIDs and VMIDs in use (Linux allocates the lowest free one from 1). */
  readonly asids: Set<number>;
  readonly vmids: Set<number>;
  /** Use CMD_SYNC with an MSI write to its own slot (the MSIPOLL option) rather than polling CONS. */
  msiPoll: boolean;
  /** Skip PREFETCH_CFG after STE writes (ARM_SMMU_OPT_SKIP_PREFETCH). */
  skipPrefetch: boolean;
  /** After kexec: the old kernel's domains, whose names still stand for their tables (never changed). */
  previous?: ReadonlyMap<string, PgtableDomain>;
}

export function newKernelState(): KernelState {
  return { cdTables: new Map(), domains: new Map(), asids: new Set(), vmids: new Set(), msiPoll: true, skipPrefetch: false };
}

/** A deep copy, so a snapshot's driver state is not changed by later actions. */
export function cloneKernelState(k: KernelState): KernelState {
  const copyMap = <V>(m: Map<string, V>, f: (v: V) => V): Map<string, V> => new Map([...m].map(([key, v]) => [key, f(v)]));
  return {
    ...k,
    cmdq: k.cmdq && { ...k.cmdq },
    evtq: k.evtq && { ...k.evtq },
    strtab: k.strtab && { ...k.strtab, l2: new Map(k.strtab.l2) },
    asids: new Set(k.asids),
    vmids: new Set(k.vmids),
    cdTables: copyMap(k.cdTables, (t) => ({ ...t, l2: new Map(t.l2), sids: [...t.sids] })),
    domains: copyMap(k.domains, (d) => ({ ...d, tables: [...d.tables] })),
  };
}

export interface DriverContext {
  readonly machine: Machine;
  readonly kernel: KernelState;
}

/** Thrown by a driver action when the kernel would fail the call (-EINVAL, -ENOMEM...). */
export class DriverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverError';
  }
}
