/**
 * The translation table walker: VMSAv8-64 stage 1 (through a CD), stage 2 (through an
 * STE) and nested, with 4K/16K/64K granules, the 52-bit output forms (DS, 64K with a
 * 52-bit OA), stage 2 concatenated starting tables, hierarchical permissions, and the
 * faults an SMMU records (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION).
 *
 * Pure and fast: no state between calls except two module-level scratch areas (the
 * descriptor buffer and the leaf of the stage being walked); when `steps` is not given
 * nothing is allocated but the returned object (faults allocate their reason text). Steps
 * are recorded as numbers into a `WalkLog` (walkLog.ts), or as objects into an array.
 * Descriptors are decoded from their 32-bit halves with double arithmetic, which is exact
 * for the 52-bit addresses involved; bigints appear only for VAs outside [0, 2^52).
 *
 * Input addresses. A VA becomes a number in signed form: TTB0 addresses as they are,
 * TTB1 addresses as the negative value of their sign extension (0xffff_8000_0000_0000
 * with a 48-bit range is -2^47), after TBI drops the top byte. Translations and TLB entries
 * use that form, so ranges stay contiguous and exact (`inputAddress`).
 *
 * Descriptor addresses are always 8-byte aligned: the starting table base is aligned down
 * to the table's size (at least 8 bytes, 64 with a 52-bit OA), as the SMMU treats those
 * low TTB bits as zero, and every next-level table address comes from the descriptor's
 * address field, whose bits below the granule are not part of it; an index times 8 is
 * added to either.
 *
 * Order of checks in one stage (Arm ARM): input range; per level invalid or reserved
 * encoding (Translation fault), table/output address beyond the output size (Address size
 * fault, at the level of the descriptor holding it); at the leaf the access flag (Access
 * flag fault, before permissions), then permissions. Nested: each stage-1 descriptor
 * address goes through stage 2 before it is read, and stage 1 completes (including its
 * permission check) before stage 2 translates the output.
 *
 * Not modelled: hardware updates are not written back (HA=1 makes an AF=0 access succeed,
 * HD=1 with DBM makes a writable-clean page writable, but the descriptor is left as it
 * is), external aborts on fetch (F_WALK_EABT), VMSAv8-32 and VMSAv9-128 tables, AIE
 * (AttrIndx[3]), E0PD, EPAN, permission indirection, the Contiguous hint (entries are
 * the size of one descriptor), 4K level -1 (FEAT_LPA2 with more than 48 input bits).
 * Stage 2 XN is decoded as FEAT_XNX (SMMU_IDR3.XNX=1): XN[1:0] 0b01 forbids privileged,
 * 0b11 unprivileged instruction fetch.
 */
import { hex } from '../../arch/codec';
import { Granule } from '../../arch/field';
import { granuleShift, Level } from '../../arch/pte';
import {
  Access, DescriptorReader, FaultClass, FaultType, Permissions, S1Range, Stage1Config, Stage2Config, Translation,
  WalkFault, WalkResult, WalkStep,
} from './types';
import { WalkLog } from './walkLog';

/** A stage-1 regime; `e2h` marks StreamWorld EL2-E2H when `el2` is set (absent: plain EL2). */
export type Stage1Regime = Stage1Config & { readonly e2h?: boolean };

/** Stage 2 as a callback: translate an IPA (a stage-1 table address when forTable). */
export type Stage2Walk = (ipa: number, forTable: boolean) => Translation | WalkFault;

// ---------------------------------------------------------------------------------------
// Constants and scratch

/** 2^i, exact as doubles. */
const POW2 = new Float64Array(66).map((_, i) => 2 ** i);
const BIG_POW2: readonly bigint[] = Array.from({ length: 66 }, (_, i) => 1n << BigInt(i));

const P_READ = 1;
const P_WRITE = 2;
const P_XPRIV = 4;
const P_XUNPRIV = 8;
const P_USER = 16;
const P_ALL = 31;

/** Interned permission objects, indexed by the P_* bits: results share them. */
const PERMS: readonly Permissions[] = Array.from({ length: 32 }, (_, b) => Object.freeze({
  read: (b & P_READ) !== 0, write: (b & P_WRITE) !== 0, execPriv: (b & P_XPRIV) !== 0,
  execUnpriv: (b & P_XUNPRIV) !== 0, user: (b & P_USER) !== 0,
}));

/** Descriptor types: the codes walkLog.ts `STEP_TYPES` names. */
const T_INVALID = 0;
const T_TABLE = 1;
const T_BLOCK = 2;
const T_PAGE = 3;
const T_RESERVED = 4;
const AP_NAME = ['RW_PRIV', 'RW', 'RO_PRIV', 'RO'];
const S2AP_NAME = ['NONE', 'RO', 'WO', 'RW'];

/** The descriptor being decoded: [low, high] 32-bit halves. */
const desc = new Uint32Array(2);

/** The stage-1 leaf of the last stage-1 walk. */
const s1Out = {
  x: 0, local: 0, out: 0, outBase: 0, size: 0, level: 0 as Level, perms: 0, attrIndx: 0, sh: 0,
  global: false, granule: 4 as Granule,
};

/** The stage-2 leaf of the last stage-2 walk. */
const s2Out = { pa: 0, base: 0, outBase: 0, size: 0, level: 0 as Level, perms: 0, memAttr: 0, sh: 0, granule: 4 as Granule };

// ---------------------------------------------------------------------------------------
// Descriptor decoding on 32-bit halves

/** Whether bits[1:0] = 0b01 is a block at this level (mirrors pte.ts). */
function blockAllowed(granule: Granule, level: number, ds: boolean, pa52: boolean): boolean {
  if (level === 2) return true;
  if (level === 1) return granule === 4 || (granule === 16 && ds) || (granule === 64 && pa52);
  if (level === 0) return granule === 4 && ds;
  return false;
}

function typeOf(lo: number, granule: Granule, level: number, ds: boolean, pa52: boolean): number {
  if ((lo & 1) === 0) return T_INVALID;
  if ((lo & 2) !== 0) return level === 3 ? T_PAGE : T_TABLE;
  return blockAllowed(granule, level, ds, pa52) ? T_BLOCK : T_RESERVED;
}

/**
 * The address field from bit `lowBit` up: bits [47:lowBit] ([49:lowBit] with DS), plus
 * OA[51:48] from bits [15:12] (64K, pa52) or OA[51:50] from bits [9:8] (DS).
 */
function addressOf(lo: number, hi: number, lowBit: number, ds: boolean, pa52: boolean): number {
  const upper = hi & (ds ? 0x3ffff : 0xffff);
  let a = lowBit >= 32
    ? (upper & CLEAR_BELOW[lowBit - 32]) * POW2[32]
    : upper * POW2[32] + ((lo & CLEAR_BELOW[lowBit]) >>> 0);
  if (pa52) a += ((lo >>> 12) & 0xf) * POW2[48];
  if (ds) a += ((lo >>> 8) & 3) * POW2[50];
  return a;
}

/** CLEAR_BELOW[b]: a 32-bit mask with bits [b-1:0] clear and the rest set (b from 0 to 31). */
const CLEAR_BELOW = new Int32Array(32).map((_, b) => ~((1 << b) - 1));

/**
 * Bits [lowBit + width - 1 : lowBit] of a non-negative integer below 2^52 given as its
 * halves above and below bit 32: a table index, in 32-bit integer operations (width is at
 * most 17 bits, so the shifted-out bits of `high` never reach the result).
 */
function indexBits(high: number, low: number, lowBit: number, width: number): number {
  const bits = lowBit >= 32 ? high >>> (lowBit - 32) : (low >>> lowBit) | (high << (32 - lowBit));
  return bits & ((1 << width) - 1);
}

/** The starting table's alignment: its size (entries x 8), at least 64 bytes with a 52-bit OA. */
export function startAlign(indexBits: number, oasBits: number): number {
  return Math.max(POW2[indexBits + 3], oasBits >= 52 ? 64 : 8);
}

function descText(lo: number, hi: number): string {
  return hex((BigInt(hi) << 32n) | BigInt(lo));
}

/** Where a public walk records its steps: the caller's log, or one appending to the caller's array. */
function logFor(steps: WalkStep[] | WalkLog | undefined): WalkLog | undefined {
  return steps === undefined || steps instanceof WalkLog ? steps : WalkLog.into(steps);
}

function fault(type: FaultType, stage: 1 | 2, level: Level, cls: FaultClass, reason: string, ipa?: number): WalkFault {
  return ipa === undefined ? { type, stage, level, cls, reason } : { type, stage, level, cls, reason, ipa };
}

/** Stage 2 MemAttr that makes the location Device (outer 0b00; with S2FWB, MemAttr[2] = 0). */
function s2Device(memAttr: number, fwb: boolean): boolean {
  return fwb ? (memAttr & 4) === 0 : (memAttr >> 2) === 0;
}

/** Combined shareability: Outer if either stage says Outer, else Inner if either says Inner. */
function combineSh(a: number, b: number): number {
  if (a === 2 || b === 2) return 2;
  if (a === 3 || b === 3) return 3;
  return 0;
}

// ---------------------------------------------------------------------------------------
// Input addresses

/**
 * The stage-1 input as the walker's signed number, or the input fault: selects TTB0 or
 * TTB1 by VA[55], ignores VA[63:56] where TBIx is set, and checks that the bits above the
 * range size are a sign extension. Allocation-free for VAs in [0, 2^52).
 */
export function stage1Input(va: bigint, cfg: Stage1Regime): number | WalkFault {
  const el2Only = cfg.el2 && !cfg.e2h;
  // In [0, 2^52) the number is the VA exactly (conversion is exact below 2^53, and monotonic),
  // and compares without bigint arithmetic: the common case, on every translation.
  const x = Number(va);
  if (x >= 0 && x < POW2[52]) {
    const r = cfg.ttb0;
    if (r && x < POW2[r.inputBits]) return x;
    if (!r) return epdFault(va, 0, el2Only);
    return rangeFault(va, r, 0, cfg.tbi0, el2Only);
  }
  const v = BigInt.asUintN(64, va);
  const b55 = Number((v >> 55n) & 1n);
  const r = b55 ? (el2Only ? undefined : cfg.ttb1) : cfg.ttb0;
  if (!r) return epdFault(va, b55, el2Only);
  const tbi = b55 ? cfg.tbi1 && !el2Only : cfg.tbi0;
  const n = r.inputBits;
  const top = tbi ? 55 : 63;
  const above = (v >> BigInt(n)) & (BIG_POW2[top - n + 1] - 1n);
  if (above !== (b55 ? BIG_POW2[top - n + 1] - 1n : 0n)) return rangeFault(va, r, b55, tbi, el2Only);
  const low = Number(v & (BIG_POW2[n] - 1n));
  return b55 ? low - POW2[n] : low;
}

/** No range to walk: reported at level 0, as there is no starting level. */
function epdFault(va: bigint, half: number, el2Only: boolean): WalkFault {
  const reason = el2Only && half === 1
    ? `VA ${hex(va)} has VA[55]=1: an EL2 stream has only the TTB0 range`
    : `VA ${hex(va)} selects TTB${half} (VA[55]=${half}), whose walks are disabled (EPD${half}=1)`;
  return fault('F_TRANSLATION', 1, 0, 'IN', reason);
}

function rangeFault(va: bigint, r: S1Range, half: number, tbi: boolean, el2Only: boolean): WalkFault {
  const n = r.inputBits;
  const top = tbi ? 55 : 63;
  const what = el2Only ? 'the EL2' : `the TTB${half}`;
  return fault('F_TRANSLATION', 1, r.startLevel, 'IN',
    `VA ${hex(va)} is outside ${what} range of ${n} bits (T${half}SZ=${64 - n}): VA[${top}:${n}] must be all ` +
    `${half ? 'ones' : 'zeros'}${tbi ? ` (TBI${half}=1 ignores VA[63:56])` : ''}`);
}

/**
 * The number a transaction's input is walked and looked up in the TLB with: the signed VA
 * when stage 1 translates, else the IPA. A fault when the input is out of range: stage 1
 * F_TRANSLATION for a VA outside the CD's ranges; for stage-1-bypassed streams stage 1
 * F_ADDR_SIZE beyond the SMMU's IAS (SMMUv3 3.4; the IPA is then checked against the
 * stage-2 input size by the walk, a stage 2 F_TRANSLATION).
 */
export function inputAddress(va: bigint, s1: Stage1Regime | undefined, ias = 52): number | WalkFault {
  if (s1) return stage1Input(va, s1);
  const bits = Math.min(ias, 52);
  const x = Number(va); // exact where it is returned (see stage1Input)
  if (x >= 0 && x < POW2[bits]) return x;
  return fault('F_ADDR_SIZE', 1, 0, 'IN',
    `input address ${hex(BigInt.asUintN(64, va))} is beyond the ${bits}-bit IAS (stage 1 bypassed: the input is the IPA)`);
}

// ---------------------------------------------------------------------------------------
// Stage 2

/** Walk stage 2 for `ipa`, filling s2Out; the fault, or undefined. */
function s2Core(
  ipa: number, cfg: Stage2Config, reader: DescriptorReader, steps: WalkLog | undefined,
  forTable: boolean, access: Access | undefined, priv: boolean,
): WalkFault | undefined {
  const cls: FaultClass = forTable ? 'TT' : 'IN';
  const granule = cfg.granule;
  const g = granuleShift(granule);
  const bpl = g - 3;
  const ds = cfg.ds && granule !== 64;
  const pa52 = cfg.pa52 && granule === 64;
  let level: number = cfg.startLevel;
  if (!(ipa >= 0 && ipa < POW2[cfg.inputBits])) {
    return fault('F_TRANSLATION', 2, level as Level, cls,
      `IPA ${hex(ipa)} is beyond the ${cfg.inputBits}-bit stage-2 input range (S2T0SZ=${64 - cfg.inputBits})`, ipa);
  }
  let lowBit = g + bpl * (3 - level);
  // The starting level resolves every remaining input bit: a partial table, a full one, or
  // (stage 2) 2..16 concatenated tables.
  let width = cfg.inputBits - lowBit;
  if (width < 1 || width > bpl + 4) {
    throw new RangeError(`stage 2 starting at level ${level} cannot resolve a ${cfg.inputBits}-bit IPA with the ${granule}KB granule`);
  }
  let table = cfg.ttb - (cfg.ttb % startAlign(width, cfg.oasBits));
  const limit = POW2[cfg.oasBits];
  const ipaHigh = Math.floor(ipa / POW2[32]);
  const ipaLow = ipa >>> 0;
  for (;;) {
    const addr = table + indexBits(ipaHigh, ipaLow, lowBit, width) * 8;
    reader.read(addr, desc);
    const lo = desc[0];
    const hi = desc[1];
    const type = typeOf(lo, granule, level, ds, pa52);
    const next = type === T_TABLE ? addressOf(lo, hi, g, ds, pa52) : undefined;
    if (steps) steps.record(2, level as Level, addr, lo, hi, type, ipa, granule, forTable, undefined, next);
    if (type === T_INVALID) {
      return fault('F_TRANSLATION', 2, level as Level, cls,
        `stage-2 level-${level} descriptor at ${hex(addr)} is invalid (${descText(lo, hi)})`, ipa);
    }
    if (type === T_RESERVED) {
      return fault('F_TRANSLATION', 2, level as Level, cls, reservedText(2, level, addr, lo, hi, granule), ipa);
    }
    if (next !== undefined) {
      if (next >= limit) {
        return fault('F_ADDR_SIZE', 2, level as Level, cls,
          `stage-2 level-${level} table descriptor at ${hex(addr)} points to ${hex(next)}, beyond the ${cfg.oasBits}-bit S2PS`, ipa);
      }
      table = next;
      level++;
      lowBit -= bpl;
      width = bpl;
      continue;
    }
    const oa = addressOf(lo, hi, lowBit, ds, pa52);
    if (oa >= limit) {
      return fault('F_ADDR_SIZE', 2, level as Level, cls,
        `output address ${hex(oa)} (stage-2 level-${level} descriptor at ${hex(addr)}) is beyond the ${cfg.oasBits}-bit S2PS`, ipa);
    }
    if ((lo & 0x400) === 0 && !cfg.affd && !cfg.ha) {
      return fault('F_ACCESS', 2, level as Level, cls,
        `access flag is 0 in the stage-2 level-${level} descriptor at ${hex(addr)} (${descText(lo, hi)}), with S2AFFD=0 and S2HA=0`, ipa);
    }
    const s2ap = (lo >>> 6) & 3;
    const xn = (hi >>> 21) & 3;
    let perms = P_USER;
    if (s2ap & 1) perms |= P_READ;
    // S2HD with DBM: the SMMU would set S2AP[1] on the first write (not written back here).
    if ((s2ap & 2) !== 0 || (cfg.hd && cfg.ha && ((hi >>> 19) & 1) !== 0)) perms |= P_WRITE;
    if (xn === 0 || xn === 3) perms |= P_XPRIV;
    if (xn === 0 || xn === 1) perms |= P_XUNPRIV;
    const memAttr = (lo >>> 2) & 0xf;
    if (forTable) {
      if ((perms & P_READ) === 0) {
        return fault('F_PERMISSION', 2, level as Level, cls,
          `stage-1 table read at IPA ${hex(ipa)} needs stage-2 read permission, but S2AP=${S2AP_NAME[s2ap]}`, ipa);
      }
      if (cfg.ptw && s2Device(memAttr, cfg.fwb)) {
        return fault('F_PERMISSION', 2, level as Level, cls,
          `stage-1 table at IPA ${hex(ipa)} is Device memory at stage 2 (MemAttr ${hex(memAttr)}) and S2PTW=1`, ipa);
      }
    } else if (access !== undefined) {
      const why = s2Denied(perms, access, priv, s2ap, xn);
      if (why) return fault('F_PERMISSION', 2, level as Level, cls, why, ipa);
    }
    const size = POW2[lowBit];
    const off = ipa % size;
    s2Out.pa = oa + off;
    s2Out.base = ipa - off;
    s2Out.outBase = oa;
    s2Out.size = size;
    s2Out.level = level as Level;
    s2Out.perms = perms;
    s2Out.memAttr = memAttr;
    s2Out.sh = ds ? 0 : (lo >>> 8) & 3;
    s2Out.granule = granule;
    return undefined;
  }
}

function s2Denied(perms: number, access: Access, priv: boolean, s2ap: number, xn: number): string | undefined {
  if (access === 'read' && (perms & P_READ) === 0) return `read from a page without stage-2 read permission (S2AP=${S2AP_NAME[s2ap]})`;
  if (access === 'write' && (perms & P_WRITE) === 0) return `write to a page without stage-2 write permission (S2AP=${S2AP_NAME[s2ap]})`;
  if (access === 'exec' && (perms & (priv ? P_XPRIV : P_XUNPRIV)) === 0) {
    return `${priv ? 'privileged' : 'unprivileged'} instruction fetch from a stage-2 execute-never page (XN=0b${xn.toString(2).padStart(2, '0')})`;
  }
  return undefined;
}

function reservedText(stage: 1 | 2, level: number, addr: number, lo: number, hi: number, granule: Granule): string {
  const where = `${stage === 2 ? 'stage-2 ' : ''}level-${level} descriptor at ${hex(addr)} (${descText(lo, hi)})`;
  if (level === 3) return `${where} has the reserved type 0b01 (a page needs 0b11)`;
  const needs = granule === 64 ? ' without a 52-bit OA' : granule === 16 || level === 0 ? ' without DS' : '';
  return `${where} is a block, which the ${granule}KB granule does not allow at level ${level}${needs}`;
}

// ---------------------------------------------------------------------------------------
// Stage 1

/**
 * Walk stage 1 for the signed input `x` through range `r`, filling s1Out; the fault, or
 * undefined. Each table address goes through stage 2 first when `s2` or `s2fn` is given.
 */
function s1Core(
  x: number, r: S1Range, cfg: Stage1Regime, reader: DescriptorReader, steps: WalkLog | undefined,
  s2: Stage2Config | undefined, s2fn: Stage2Walk | undefined, access: Access | undefined, privIn: boolean,
): WalkFault | undefined {
  const granule = r.granule;
  const g = granuleShift(granule);
  const bpl = g - 3;
  const ds = r.ds && granule !== 64;
  const pa52 = r.pa52 && granule === 64;
  const n = r.inputBits;
  const local = x < 0 ? x + POW2[n] : x;
  const el2Only = cfg.el2 && !cfg.e2h;
  const priv = privIn || el2Only; // all EL2 accesses are privileged
  let level: number = r.startLevel;
  let lowBit = g + bpl * (3 - level);
  let width = n - lowBit;
  if (width < 1 || width > bpl) {
    throw new RangeError(`stage 1 starting at level ${level} cannot resolve a ${n}-bit VA with the ${granule}KB granule`);
  }
  let table = r.ttb - (r.ttb % startAlign(width, cfg.oasBits));
  const limit = POW2[cfg.oasBits];
  // Hierarchical limits from APTable / PXNTable / UXNTable (ignored with HADx).
  let noEl0 = false;
  let noWrite = false;
  let pxnTable = false;
  let uxnTable = false;
  const localHigh = Math.floor(local / POW2[32]);
  const localLow = local >>> 0;
  for (;;) {
    const ipaAddr = table + indexBits(localHigh, localLow, lowBit, width) * 8;
    let addr = ipaAddr;
    if (s2) {
      const f = s2Core(ipaAddr, s2, reader, steps, true, undefined, true);
      if (f) return tableFault(f, level, ipaAddr);
      addr = s2Out.pa;
    } else if (s2fn) {
      const t = s2fn(ipaAddr, true);
      if ('type' in t) return tableFault(t, level, ipaAddr);
      addr = t.pa;
    }
    reader.read(addr, desc);
    const lo = desc[0];
    const hi = desc[1];
    const type = typeOf(lo, granule, level, ds, pa52);
    const next = type === T_TABLE ? addressOf(lo, hi, g, ds, pa52) : undefined;
    if (steps) steps.record(1, level as Level, addr, lo, hi, type, x, granule, false, s2 || s2fn ? ipaAddr : undefined, next);
    if (type === T_INVALID) {
      return fault('F_TRANSLATION', 1, level as Level, 'IN', `level-${level} descriptor at ${hex(addr)} is invalid (${descText(lo, hi)})`);
    }
    if (type === T_RESERVED) return fault('F_TRANSLATION', 1, level as Level, 'IN', reservedText(1, level, addr, lo, hi, granule));
    if (next !== undefined) {
      if (next >= limit) {
        return fault('F_ADDR_SIZE', 1, level as Level, 'IN',
          `level-${level} table descriptor at ${hex(addr)} points to ${hex(next)}, beyond the ${cfg.oasBits}-bit IPS`);
      }
      if (!r.had) {
        const apTable = (hi >>> 29) & 3;
        if ((apTable & 1) !== 0 && !el2Only) noEl0 = true; // APTable[0] is RES0 for EL2
        if ((apTable & 2) !== 0) noWrite = true;
        if (((hi >>> 27) & 1) !== 0 && !el2Only) pxnTable = true; // PXNTable is RES0 for EL2
        if (((hi >>> 28) & 1) !== 0) uxnTable = true; // XNTable for EL2
      }
      table = next;
      level++;
      lowBit -= bpl;
      width = bpl;
      continue;
    }
    const oa = addressOf(lo, hi, lowBit, ds, pa52);
    if (oa >= limit) {
      return fault('F_ADDR_SIZE', 1, level as Level, 'IN',
        `output address ${hex(oa)} (level-${level} descriptor at ${hex(addr)}) is beyond the ${cfg.oasBits}-bit IPS`);
    }
    if ((lo & 0x400) === 0 && !cfg.affd && !cfg.ha) {
      return fault('F_ACCESS', 1, level as Level, 'IN',
        `access flag is 0 in the level-${level} descriptor at ${hex(addr)} (${descText(lo, hi)}), with AFFD=0 and HA=0`);
    }
    const ap = (lo >>> 6) & 3;
    // HD (with HA; HD alone behaves as both 0) and DBM: a writable-clean page takes writes,
    // the SMMU clearing AP[2] (not written back here).
    const pageWrite = (ap & 2) === 0 || (cfg.hd && cfg.ha && ((hi >>> 19) & 1) !== 0);
    const write = pageWrite && !noWrite;
    const pxn = ((hi >>> 21) & 1) !== 0;
    const uxn = ((hi >>> 22) & 1) !== 0;
    let perms = P_READ | (write ? P_WRITE : 0);
    if (el2Only) {
      // One privilege level: AP[1] is RES1 (unprivileged transactions are treated as
      // privileged), bit 54 is XN, bit 53 RES0.
      perms |= P_USER;
      if (!uxn && !uxnTable && !(cfg.wxn && write)) perms |= P_XPRIV | P_XUNPRIV;
    } else {
      const user = (ap & 1) !== 0 && !noEl0;
      const userWrite = user && write;
      if (user) perms |= P_USER;
      // An EL0-writable page is never privileged-executable; WXN makes writable pages XN.
      if (!pxn && !pxnTable && !userWrite && !(cfg.wxn && write)) perms |= P_XPRIV;
      if (!uxn && !uxnTable && !(cfg.wxn && userWrite)) perms |= P_XUNPRIV;
    }
    if (access !== undefined) {
      const why = s1Denied(perms, access, priv, cfg.pan && !el2Only, ap, noWrite, pageWrite, pxn, pxnTable, uxn, uxnTable, el2Only);
      if (why) return fault('F_PERMISSION', 1, level as Level, 'IN', why);
    }
    const size = POW2[lowBit];
    const off = local % size;
    s1Out.x = x;
    s1Out.local = local;
    s1Out.out = oa + off;
    s1Out.outBase = oa;
    s1Out.size = size;
    s1Out.level = level as Level;
    s1Out.perms = perms;
    s1Out.attrIndx = (lo >>> 2) & 7;
    s1Out.sh = ds ? 0 : (lo >>> 8) & 3;
    s1Out.global = el2Only || ((lo >>> 11) & 1) === 0;
    s1Out.granule = granule;
    return undefined;
  }
}

/** A stage-2 fault while fetching a stage-1 descriptor: reported at stage 2, CLASS TT, its IPA. */
function tableFault(f: WalkFault, level: number, ipa: number): WalkFault {
  return { ...f, cls: 'TT', ipa, reason: `fetching the stage-1 level-${level} descriptor at IPA ${hex(ipa)}: ${f.reason}` };
}

function s1Denied(
  perms: number, access: Access, priv: boolean, pan: boolean, ap: number, noWrite: boolean,
  pageWrite: boolean, pxn: boolean, pxnTable: boolean, uxn: boolean, uxnTable: boolean, el2Only: boolean,
): string | undefined {
  // Text only for a denial: this runs on every walk that checks an access.
  const apText = (): string => `AP=${AP_NAME[ap]}`;
  if (access === 'exec') {
    if ((perms & (priv ? P_XPRIV : P_XUNPRIV)) !== 0) return undefined;
    const who = el2Only ? 'instruction fetch' : `${priv ? 'privileged' : 'unprivileged'} instruction fetch`;
    if (el2Only) return `${who} from an execute-never page (${uxn ? 'XN' : uxnTable ? 'XNTable in a table descriptor' : 'WXN=1 and the page is writable'})`;
    if (priv) {
      if (pxn) return `${who} from a PXN page`;
      if (pxnTable) return `${who} from a page under a table descriptor with PXNTable=1`;
      if ((perms & P_USER) !== 0 && (perms & P_WRITE) !== 0) return `${who} from a page writable by unprivileged accesses (${apText()} implies PXN)`;
      return `${who} from a writable page with WXN=1`;
    }
    if (uxn) return `${who} from a UXN page`;
    if (uxnTable) return `${who} from a page under a table descriptor with UXNTable=1`;
    return `${who} from a page writable by unprivileged accesses with WXN=1`;
  }
  const user = (perms & P_USER) !== 0;
  if (!priv && !user) {
    return (ap & 1) === 0
      ? `unprivileged ${access} from a privileged-only page (${apText()})`
      : `unprivileged ${access} from a page under a table descriptor forbidding unprivileged access (APTable[0]=1)`;
  }
  if (priv && pan && user) return `privileged ${access} from a page accessible to unprivileged accesses (${apText()}) with PAN=1`;
  if (access === 'write' && (perms & P_WRITE) === 0) {
    return pageWrite && noWrite
      ? 'write to a page made read-only by a table descriptor (APTable[1]=1)'
      : `write to a read-only page (${apText()})`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Results

function result(
  stage: WalkResult['stage'], pa: number, inputBase: number, outputBase: number, size: number, level: Level,
  perms: number, attrIndx: number | undefined, memAttr: number | undefined, sh: number, granule: Granule, global: boolean,
  ipaBase: number | undefined, s2Level: Level | undefined, s2Granule: Granule | undefined,
): WalkResult {
  return {
    pa, inputBase, outputBase, size, level, perms: PERMS[perms], attrIndx, memAttr, sh,
    stage, granule, global, ipaBase, s2Level, s2Granule,
  };
}

function s1Result(): WalkResult {
  const o = s1Out;
  return result('s1', o.out, o.x - (o.local % o.size), o.outBase, o.size, o.level, o.perms, o.attrIndx, undefined, o.sh,
    o.granule, o.global, undefined, undefined, undefined);
}

/** Stage 1 then stage 2: the smaller page of the two, so one TLB entry is right for all of it. */
function nestedResult(pa: number, s2size: number, s2perms: number, s2level: Level, memAttr: number | undefined, s2sh: number, s2granule: Granule | undefined): WalkResult {
  const o = s1Out;
  const size = Math.min(o.size, s2size);
  const off = o.local % size;
  return result('nested', pa, o.x - off, pa - off, size, o.level, o.perms & s2perms, o.attrIndx, memAttr, combineSh(o.sh, s2sh),
    o.granule, o.global, o.out - off, s2level, s2granule);
}

function s2Result(): WalkResult {
  const o = s2Out;
  return result('s2', o.pa, o.base, o.outBase, o.size, o.level, o.perms, undefined, o.memAttr, o.sh, o.granule, true,
    undefined, undefined, undefined);
}

/** Permissions as five bits (the interned objects' index): how the TLB stores them. */
export function permBits(p: Permissions): number {
  return (p.read ? P_READ : 0) | (p.write ? P_WRITE : 0) | (p.execPriv ? P_XPRIV : 0) | (p.execUnpriv ? P_XUNPRIV : 0) | (p.user ? P_USER : 0);
}

// ---------------------------------------------------------------------------------------
// Public walks

/**
 * Walk stage 2 alone for an IPA. `forTable`: the IPA is that of a stage-1 descriptor (or
 * a CD): faults are CLASS TT and the access is a read that S2PTW may forbid to Device
 * memory. `access`/`priv` check the permissions of a transaction (none checked without).
 */
export function walkStage2(
  ipa: number, cfg: Stage2Config, reader: DescriptorReader, steps?: WalkStep[] | WalkLog, forTable = false,
  access?: Access, priv = false,
): WalkResult | WalkFault {
  const f = s2Core(ipa, cfg, reader, logFor(steps), forTable, access, priv);
  return f ?? s2Result();
}

/**
 * Walk stage 1 for a VA, each table address (and the output) through `s2` when given.
 * `access`/`priv` check the permissions of a transaction (none checked without).
 */
export function walkStage1(
  va: bigint, cfg: Stage1Regime, reader: DescriptorReader, s2?: Stage2Walk, steps?: WalkStep[] | WalkLog,
  access?: Access, priv = false,
): WalkResult | WalkFault {
  const x = stage1Input(va, cfg);
  if (typeof x !== 'number') return x;
  const f = s1Core(x, (x < 0 ? cfg.ttb1 : cfg.ttb0)!, cfg, reader, logFor(steps), undefined, s2, access, priv);
  if (f) return f;
  if (!s2) return s1Result();
  const t = s2(s1Out.out, false);
  if ('type' in t) return t;
  const w = t as Partial<WalkResult>;
  return nestedResult(t.pa, t.size, permBits(t.perms), t.level, t.memAttr, t.sh, w.s2Granule ?? w.granule);
}

/**
 * Translate a transaction's input: stage 1 only, stage 2 only (the input is the IPA), or
 * nested. `access`/`priv` check permissions (none checked without; priv defaults to
 * unprivileged). `ias` is the SMMU's IAS, which bounds the input of stage-1-bypassed streams.
 */
export function translate(
  va: bigint, s1: Stage1Regime | undefined, s2: Stage2Config | undefined, reader: DescriptorReader,
  steps?: WalkStep[] | WalkLog, access?: Access, priv = false, ias = 52,
): WalkResult | WalkFault {
  if (!s1 && !s2) throw new RangeError('translate needs stage 1 or stage 2: with neither the transaction bypasses');
  const x = inputAddress(va, s1, ias);
  if (typeof x !== 'number') return x;
  return translateInput(x, s1, s2, reader, steps, access, priv);
}

/**
 * `translate` for an input already made a number by `inputAddress` (the SMMU has it from
 * its TLB lookup): the same walk, without checking the VA again.
 */
export function translateInput(
  x: number, s1: Stage1Regime | undefined, s2: Stage2Config | undefined, reader: DescriptorReader,
  steps?: WalkStep[] | WalkLog, access?: Access, priv = false,
): WalkResult | WalkFault {
  const log = logFor(steps);
  if (!s1) return s2Core(x, s2!, reader, log, false, access, priv) ?? s2Result();
  const f = s1Core(x, (x < 0 ? s1.ttb1 : s1.ttb0)!, s1, reader, log, s2, undefined, access, priv);
  if (f) return f;
  if (!s2) return s1Result();
  const f2 = s2Core(s1Out.out, s2, reader, log, false, access, priv);
  if (f2) return f2;
  return nestedResult(s2Out.pa, s2Out.size, s2Out.perms, s2Out.level, s2Out.memAttr, s2Out.sh, s2Out.granule);
}

/**
 * Whether cached permissions allow an access; the reason when not. For TLB hits: the
 * permissions are those of both stages combined, so a denial does not say which stage
 * denied it; walk again (`translate` with the access) for the event's stage and level.
 * `pan` is CD.PAN for stage-1 regimes (false for EL2, where PAN is ignored).
 */
export function permissionFault(perms: Permissions, access: Access, priv: boolean, pan = false): string | undefined {
  if (access === 'exec') {
    return (priv ? perms.execPriv : perms.execUnpriv) ? undefined
      : `${priv ? 'privileged' : 'unprivileged'} instruction fetch from an execute-never page`;
  }
  if (!priv && !perms.user) return `unprivileged ${access} from a privileged-only page`;
  if (priv && pan && perms.user) return `privileged ${access} from a page accessible to unprivileged accesses with PAN=1`;
  if (access === 'read' && !perms.read) return 'read from a page without read permission';
  if (access === 'write' && !perms.write) return 'write to a read-only page';
  return undefined;
}

/** All permissions (for bypass and for tests). */
export const ALL_PERMISSIONS: Permissions = PERMS[P_ALL];

/** The shared Permissions object for the bits `permBits` gives. */
export function permissionsOf(bits: number): Permissions {
  return PERMS[bits & P_ALL];
}
