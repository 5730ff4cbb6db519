/**
 * A small rig for driving the Machine by hand, as a driver would: fixed regions for the
 * stream table, the configuration structures and page tables, the queues; the register
 * programming of `arm_smmu_device_reset`; commands written into the command queue and a
 * doorbell. Every command and register value here is encoded by hand from the field
 * positions in the SMMUv3 spec (and the SMMUv3 reference facts), not with the
 * encoders under test.
 */
import { Machine, DEFAULT_PLATFORM, Tagged } from '../../src/model/machine';
import { Attribute } from '../../src/model/regions';
import { SmmuActivity } from '../../src/model/smmu/smmu';

/** Stream table: the L1 table (2-level) or the STEs themselves (linear). */
export const STRTAB = 0x4800_0000;
/** 2-level: the level-2 table of L1STD 1, 256 STEs for StreamIDs 0x100..0x1ff (16 KB). */
export const STRTAB_L2 = 0x4801_0000;
/** CDs and page tables: one 1 MB region. */
export const TABLES = 0x4900_0000;
export const TABLES_SIZE = 0x10_0000;
export const CMDQ = 0x4c00_0000;
export const EVTQ = 0x4d00_0000;
/** A scratch region for MSI targets and the like (non-cacheable). */
export const SCRATCH = 0x4e00_0000;

export type Cmd = readonly [bigint, bigint];

const b = (n: number): bigint => BigInt(n);

/**
 * Commands, encoded by hand (opcode [7:0], SubstreamID [31:12], StreamID [63:32] of
 * qword 0; Leaf / Range / MSIAddress in qword 1).
 */
export const cmd = {
  /** CMD_PREFETCH_CONFIG 0x01: StreamID [63:32]. */
  prefetchConfig: (sid: number): Cmd => [0x01n | (b(sid) << 32n), 0n],
  /** CMD_CFGI_STE 0x03: StreamID [63:32]; Leaf = qword 1 bit 0. */
  cfgiSte: (sid: number, leaf: boolean): Cmd => [0x03n | (b(sid) << 32n), leaf ? 1n : 0n],
  /** CMD_CFGI_STE_RANGE 0x04: StreamID [63:32]; Range = qword 1 [4:0]. */
  cfgiSteRange: (sid: number, range: number): Cmd => [0x04n | (b(sid) << 32n), b(range)],
  /** CMD_CFGI_ALL: CFGI_STE_RANGE with Range 31. */
  cfgiAll: (): Cmd => [0x04n, 31n],
  /** CMD_CFGI_CD 0x05: SubstreamID [31:12], StreamID [63:32]; Leaf = qword 1 bit 0. */
  cfgiCd: (sid: number, ssid: number, leaf: boolean): Cmd => [0x05n | (b(ssid) << 12n) | (b(sid) << 32n), leaf ? 1n : 0n],
  /** CMD_CFGI_CD_ALL 0x06: StreamID [63:32]. */
  cfgiCdAll: (sid: number): Cmd => [0x06n | (b(sid) << 32n), 0n],
  /** CMD_SYNC 0x46, CS=NONE. */
  sync: (): Cmd => [0x46n, 0n],
  /**
   * CMD_SYNC 0x46, CS=IRQ (1 << 12 = 0x1000), MSH=ISH (3 << 22 = 0xc0_0000),
   * MSIAttr=OIWB (0xf << 24 = 0x0f00_0000), MSIData [63:32]; MSIAddress[55:2] in qword 1 [55:2].
   * qword 0 = 0x0fc0_1046 | data << 32.
   */
  syncMsi: (addr: number, data: number): Cmd => [0x0fc0_1046n | (b(data) << 32n), b(addr)],
};

export interface RigOptions {
  /** Does the SMMU snoop the CPU's caches (default: no). */
  readonly coherent?: boolean;
  /** Stream table format (default 2-level, SPLIT 8). */
  readonly strtab?: 'two-level' | 'linear';
  /** CMDQ_BASE.LOG2SIZE (default 8) and EVENTQ_BASE.LOG2SIZE (default 7). */
  readonly cmdqLog2?: number;
  readonly evtqLog2?: number;
  /** Attribute of the command queue (default non-cacheable, as dmam_alloc_coherent on a non-coherent SMMU). */
  readonly cmdqAttr?: Attribute;
  /** Attribute of the CD and page-table region (default non-cacheable, so no CMOs are needed). */
  readonly tablesAttr?: Attribute;
  /** SMMU_CR2 programmed before enabling (default RECINVSID, bit 1 = 0x2). */
  readonly cr2?: bigint;
}

export class Rig {
  readonly m: Machine;
  readonly log: Tagged[] = [];
  readonly cmdqLog2: number;
  readonly evtqLog2: number;
  readonly twoLevel: boolean;
  private readonly cr2: bigint;
  /** Commands written so far (the driver's PROD, before wrapping). */
  private written = 0;

  constructor(opts: RigOptions = {}) {
    this.cmdqLog2 = opts.cmdqLog2 ?? 8;
    this.evtqLog2 = opts.evtqLog2 ?? 7;
    this.twoLevel = (opts.strtab ?? 'two-level') === 'two-level';
    this.cr2 = opts.cr2 ?? 0x2n;
    const platform = { ...DEFAULT_PLATFORM, memory: { ...DEFAULT_PLATFORM.memory, coherent: opts.coherent ?? false } };
    this.m = Machine.create(platform, (t) => this.log.push(t));
    const m = this.m;
    if (this.twoLevel) {
      m.alloc('strtab-l1', 0x800, 'noncacheable', 'test', { base: STRTAB }); // 256 L1STDs of 8 bytes
      m.alloc('strtab-l2', 0x4000, 'noncacheable', 'test', { base: STRTAB_L2 }); // 256 STEs of 64 bytes
    } else {
      m.alloc('strtab', 0x4000, 'noncacheable', 'test', { base: STRTAB }); // 256 STEs of 64 bytes
    }
    m.alloc('tables', TABLES_SIZE, opts.tablesAttr ?? 'noncacheable', 'test', { base: TABLES });
    m.alloc('cmdq', 0x1000, opts.cmdqAttr ?? 'noncacheable', 'test', { base: CMDQ });
    m.alloc('evtq', 0x1000, 'noncacheable', 'test', { base: EVTQ });
    m.alloc('scratch', 0x1000, 'noncacheable', 'test', { base: SCRATCH });
  }

  /** Program the registers; `cr0` ends as CMDQEN|EVENTQEN|SMMUEN (0xd) unless given. */
  enable(cr0 = 0xdn): void {
    const m = this.m;
    if (this.twoLevel) {
      // L1STD 1 (StreamIDs 0x100..0x1ff) at STRTAB + 8: L2Ptr 0x4801_0000 | Span 9 (2^8 STEs).
      m.store(STRTAB + 8, 8, 0x4801_0009n);
    }
    m.mmioWrite('STRTAB_BASE', b(STRTAB));
    // 2-level: FMT 1 (1 << 16) | SPLIT 8 (8 << 6 = 0x200) | LOG2SIZE 16 (0x10) = 0x10210.
    // Linear: FMT 0 | LOG2SIZE 8 (256 StreamIDs) = 0x8.
    m.mmioWrite('STRTAB_BASE_CFG', this.twoLevel ? 0x10210n : 0x8n);
    m.mmioWrite('CMDQ_BASE', b(CMDQ) | b(this.cmdqLog2));
    m.mmioWrite('EVENTQ_BASE', b(EVTQ) | b(this.evtqLog2));
    m.mmioWrite('CR2', this.cr2);
    // CMDQEN (bit 3) | EVENTQEN (bit 2) first, then the rest.
    m.mmioWrite('CR0', cr0 & 0xcn);
    m.mmioWrite('CR0', cr0);
  }

  /** Address of the STE of a StreamID. */
  steAddr(sid: number): number {
    if (!this.twoLevel) return STRTAB + sid * 64;
    if (sid < 0x100 || sid > 0x1ff) throw new RangeError(`the rig's level-2 table holds StreamIDs 0x100..0x1ff, not 0x${sid.toString(16)}`);
    return STRTAB_L2 + (sid - 0x100) * 64;
  }

  /** Store qwords (WRITE_ONCE each) from `addr`. */
  words(addr: number, ...ws: bigint[]): void {
    ws.forEach((w, i) => this.m.store(addr + i * 8, 8, w));
  }

  ste(sid: number, ...ws: bigint[]): void {
    this.words(this.steAddr(sid), ...ws);
  }

  /** Write commands into the queue without a doorbell. */
  stage(...cmds: Cmd[]): void {
    const size = 2 ** this.cmdqLog2;
    for (const [w0, w1] of cmds) {
      const slot = CMDQ + (this.written % size) * 16;
      this.m.store(slot, 8, w0);
      this.m.store(slot + 8, 8, w1);
      this.written++;
    }
  }

  /** The PROD value the driver writes: index and wrap bit, i.e. the count modulo twice the size. */
  prod(): bigint {
    return b(this.written % 2 ** (this.cmdqLog2 + 1));
  }

  /** writel of CMDQ_PROD (a barrier, then the doorbell). */
  doorbell(): void {
    this.m.mmioWrite('CMDQ_PROD', this.prod());
  }

  submit(...cmds: Cmd[]): void {
    this.stage(...cmds);
    this.doorbell();
  }

  /** Slot address of the next command to be written. */
  nextSlot(): number {
    return CMDQ + (this.written % 2 ** this.cmdqLog2) * 16;
  }

  activities<K extends SmmuActivity['kind']>(kind: K): Extract<SmmuActivity, { kind: K }>[] {
    return this.log.map((t) => t.activity).filter((a) => a.kind === kind) as Extract<SmmuActivity, { kind: K }>[];
  }

  /** The four qwords of event queue entry `index` as the CPU reads them. */
  event(index: number): bigint[] {
    return [0, 1, 2, 3].map((i) => this.m.load(EVTQ + index * 32 + i * 8, 8));
  }

  reg(name: string): bigint {
    return this.m.mmioRead(name);
  }
}
