/**
 * The vocabulary shared by the SMMU model's parts: transactions, the translation regimes
 * decoded from STEs and CDs, walk steps, faults and TLB entries.
 *
 * Addresses inside the model are numbers: physical and intermediate addresses are at most
 * 52 bits, which a double holds exactly. Input addresses (IOVAs) arrive as bigints, since a
 * device may present any 64-bit value; they become numbers once their top bits are checked.
 */
import { Granule } from '../../arch/field';
import { Level } from '../../arch/pte';

export type Access = 'read' | 'write' | 'exec';

/** A DMA request from a device. */
export interface Transaction {
  readonly sid: number;
  /** SubstreamID (PASID), when the transaction carries one. */
  readonly ssid?: number;
  readonly iova: bigint;
  readonly access: Access;
  /** Privileged (PnU=1) or not. */
  readonly priv: boolean;
}

/** One VA half of a stage-1 regime (TTB0 or TTB1) that walks are enabled for. */
export interface S1Range {
  readonly granule: Granule;
  /** Input size in bits: 64 - TxSZ. */
  readonly inputBits: number;
  readonly startLevel: Level;
  /** Base of the starting-level table (an IPA when stage 2 also translates). */
  readonly ttb: number;
  /** 52-bit OA forms: CD.DS (4K/16K) or 64K with a 52-bit IPS. */
  readonly ds: boolean;
  readonly pa52: boolean;
  /** Hierarchical attributes disabled (HADx). */
  readonly had: boolean;
}

/** A stage-1 translation regime, from a CD and its STE. */
export interface Stage1Config {
  readonly asid: number;
  /** VMID the entries are tagged with (STE.S2VMID for EL1 streams and nested; 0 otherwise). */
  readonly vmid: number;
  /** StreamWorld EL2 (or EL2-E2H): AP[1] is RES1 and TTB1 is unused without E2H. */
  readonly el2: boolean;
  /** SMMU_CR2.E2H: an EL2 StreamWorld is the EL2-E2H regime (ASIDs, both VA halves). */
  readonly e2h?: boolean;
  /** TTB0 and TTB1 halves; undefined where EPDx = 1 (walks disabled). */
  readonly ttb0?: S1Range;
  readonly ttb1?: S1Range;
  /** Effective output size in bits: min(CD.IPS, SMMU OAS). */
  readonly oasBits: number;
  readonly tbi0: boolean;
  readonly tbi1: boolean;
  /** Access flag faults disabled (AFFD), hardware AF/dirty updates (HA/HD). */
  readonly affd: boolean;
  readonly ha: boolean;
  readonly hd: boolean;
  readonly wxn: boolean;
  readonly uwxn: boolean;
  readonly pan: boolean;
  /** CD.R: record faults; CD.S: stall instead of terminate; CD.A: abort on terminate. */
  readonly record: boolean;
  readonly stall: boolean;
  readonly mair: bigint;
}

/** A stage-2 translation regime, from an STE. */
export interface Stage2Config {
  readonly vmid: number;
  readonly granule: Granule;
  /** Input (IPA) size in bits: 64 - S2T0SZ. */
  readonly inputBits: number;
  /** Starting level from S2SL0 (and S2TG). */
  readonly startLevel: Level;
  /** Number of concatenated tables at the starting level (1 when none). */
  readonly concat: number;
  readonly ttb: number;
  /** Effective output size in bits: min(S2PS, SMMU OAS), 48 unless 64K or S2DS. */
  readonly oasBits: number;
  readonly ds: boolean;
  readonly pa52: boolean;
  readonly affd: boolean;
  readonly ha: boolean;
  readonly hd: boolean;
  /** S2PTW: stage-1 table walks to Device memory at stage 2 fault (nested only). */
  readonly ptw: boolean;
  readonly fwb: boolean;
  /** S2R: record faults; S2S: stall. */
  readonly record: boolean;
  readonly stall: boolean;
}

/** Permissions of a translation, after both stages. */
export interface Permissions {
  readonly read: boolean;
  readonly write: boolean;
  /** Instruction fetch allowed for privileged / unprivileged transactions. */
  readonly execPriv: boolean;
  readonly execUnpriv: boolean;
  /** Unprivileged data access allowed (stage 1 AP[1]). */
  readonly user: boolean;
}

export type FaultType = 'F_TRANSLATION' | 'F_ADDR_SIZE' | 'F_ACCESS' | 'F_PERMISSION' | 'F_WALK_EABT';

/** Which operation faulted, as the event record's CLASS field says. */
export type FaultClass = 'CD' | 'TT' | 'IN';

export interface WalkFault {
  readonly type: FaultType;
  readonly stage: 1 | 2;
  /** Level of the lookup that faulted (the starting level for input-address faults). */
  readonly level: Level;
  readonly cls: FaultClass;
  /** The IPA that faulted at stage 2 (for S2 faults during nested S1 table walks: the table's IPA). */
  readonly ipa?: number;
  /** For F_WALK_EABT: the descriptor address whose fetch failed. */
  readonly fetchAddr?: number;
  /** One line on why, naming the descriptor and the rule. */
  readonly reason: string;
}

/** One descriptor fetched or found cached during a translation, for the debugger's walk view. */
export interface WalkStep {
  readonly stage: 1 | 2;
  readonly level: Level;
  /** Address of the descriptor (a PA; for stage-1 steps of a nested walk, the PA after stage 2). */
  readonly descAddr: number;
  readonly desc: bigint;
  readonly type: 'invalid' | 'table' | 'block' | 'page' | 'reserved';
  readonly source: 'memory' | 'walk-cache';
  /** True for stage-2 steps that translate the address of a stage-1 table (or of a CD). */
  readonly forTable?: boolean;
}

/** What one translation produced: the output and how it was found. */
export interface Translation {
  /** Output address of the transaction. */
  readonly pa: number;
  /** The leaf's mapping: input base, output base and size (bytes) of the page or block. */
  readonly inputBase: number;
  readonly outputBase: number;
  readonly size: number;
  readonly level: Level;
  readonly perms: Permissions;
  /** Stage-1 AttrIndx and the MAIR byte it selects; stage-2 MemAttr; shareability (0..3). */
  readonly attrIndx?: number;
  readonly memAttr?: number;
  readonly sh: number;
}

/** The key of a TLB entry's translation regime. */
export interface TlbTag {
  readonly vmid: number;
  /** ASID of stage-1 (and nested) entries; -1 for stage-2-only entries. */
  readonly asid: number;
  /** Non-global stage-1 entries match only their ASID; global ones match any. */
  readonly global: boolean;
  /** EL2 regime entries (StreamWorld EL2/EL2-E2H) are invalidated by TLBI_EL2_*. */
  readonly el2: boolean;
  readonly stage: 's1' | 's2' | 'nested';
}

export interface TlbEntry extends TlbTag {
  readonly inputBase: number;
  readonly size: number;
  readonly outputBase: number;
  readonly level: Level;
  readonly granule: Granule;
  readonly perms: Permissions;
  readonly attrIndx?: number;
  readonly memAttr?: number;
  readonly sh: number;
  /** For nested entries: the IPA the stage-1 leaf produced (TLBI_S2_IPA must drop it). */
  readonly ipaBase?: number;
  readonly ipaSize?: number;
}

/** Reads a descriptor as the SMMU would (its view of memory), into [low, high] 32-bit halves. */
export interface DescriptorReader {
  read(addr: number, out: Uint32Array): void;
}

// ---------------------------------------------------------------------------------------
// Added with the walker and the TLB (walk.ts, tlb.ts).

/**
 * A WalkStep as the walker records it, with what the walk cache needs: the address the
 * step resolves (the VA for stage 1, in the walker's signed form, see `inputAddress` in
 * walk.ts; the IPA for stage 2) and the granule of its tables.
 */
export interface WalkStepDetail extends WalkStep {
  readonly input: number;
  readonly granule: Granule;
  /** Stage-1 steps of a nested walk: the descriptor's IPA (descAddr is the PA after stage 2). */
  readonly descIpa?: number;
  /** Table steps: the next-level table address (an IPA for stage 1 of a nested walk). */
  readonly next?: number;
}

/** A Translation as the walker returns it, with what a TLB entry needs. */
export interface WalkResult extends Translation {
  readonly stage: 's1' | 's2' | 'nested';
  /** Granule of the stage-1 tables (stage 2 for stage-2-only); the TLBI TG filter uses it. */
  readonly granule: Granule;
  /** Stage-1 leaf with nG=0, or an EL2 (non-E2H) regime, which has no ASIDs. */
  readonly global: boolean;
  /** Nested: the IPA range of this translation (inputBase..+size maps through it). */
  readonly ipaBase?: number;
  /** Nested: the stage-2 leaf's level and granule (level/granule describe stage 1). */
  readonly s2Level?: Level;
  readonly s2Granule?: Granule;
}
