/**
 * The Linux arm-smmu-v3 driver's STE and CD builders, as pure functions returning the
 * eight 64-bit words the kernel would hand to arm_smmu_write_entry(). Every value is set
 * by field name through the format tables (src/arch/ste.ts, cd.ts), so no bit position
 * is written here.
 *
 * The kernel masks the addresses it is given with the field's mask (`cdtab_dma &
 * STRTAB_STE_0_S1CTXPTR_MASK`, `vttbr & STRTAB_STE_3_S2TTB_MASK`, `ttbr &
 * CTXDESC_CD_1_TTB0_MASK`); the builders do the same with the table's field, which the
 * specification makes four bits wider at the top ([55:x]) than the kernel's [51:x] masks.
 * Big-endian kernels' ENDI/S2ENDI bits are not modelled (always little-endian).
 */
import { encode, FieldInput, fieldValue, requireField, setField } from '../arch/codec';
import { CD } from '../arch/cd';
import { fieldWidth, Layout, mask, wordOf } from '../arch/field';
import { STE } from '../arch/ste';
import { fieldsMask } from './entryWriter';

/** The words of one STE or CD. */
export type EntryWords = bigint[];

/** Keep only the bits of `value` that the field holds, as the kernel's `& ..._MASK` does. */
function maskedAddress(layout: Layout, field: string, value: number | bigint): bigint {
  const f = requireField(layout, field);
  return BigInt(value) & fieldsMask(layout, [field])[wordOf(layout, f)];
}

/** Encode, then OR in the optional fields that are set (an `undefined`/`false` entry is left out). */
function build(layout: Layout, fields: Readonly<Record<string, FieldInput | undefined>>): EntryWords {
  const present: Record<string, FieldInput> = {};
  for (const [name, v] of Object.entries(fields)) if (v !== undefined && v !== false) present[name] = v;
  return encode(layout, present);
}

// ---------------------------------------------------------------------------------------
// Stream table entries

/** An STE that aborts every transaction without an event. Models `arm_smmu_make_abort_ste()`. */
export function abortSte(): EntryWords {
  return build(STE, { V: 1, Config: 'ABORT' });
}

/**
 * An STE that bypasses both stages. Models `arm_smmu_make_bypass_ste()`: SHCFG=INCOMING
 * only on an SMMU with IDR1.ATTR_TYPES_OVR (elsewhere the field is RES0).
 */
export function bypassSte(f: { readonly attrTypesOvr: boolean }): EntryWords {
  return build(STE, { V: 1, Config: 'BYPASS', SHCFG: f.attrTypesOvr ? 'INCOMING' : undefined });
}

export type S1Dss = 'terminate' | 'bypass' | 'ssid0';

export interface CdTableSteOptions {
  /** PA of the CD table (linear) or of the L1 CD table. */
  readonly cdTable: number;
  /** STE.S1Fmt: 0 linear, 2 two-level with 64KB leaves (Linux), 1 two-level with 4KB leaves (spec only). */
  readonly s1fmt: 0 | 1 | 2;
  /** log2 of the number of CDs (the master's ssid_bits). */
  readonly s1cdmax: number;
  /** What traffic without a SubstreamID does. */
  readonly s1dss: S1Dss;
  /** ATS is enabled for this attach (EATS=TRANS). */
  readonly ats: boolean;
  /** The SMMU supports stalls (ARM_SMMU_FEAT_STALLS). */
  readonly stallsSupported: boolean;
  /** The master uses stalls (master->stall_enabled). */
  readonly masterStalls: boolean;
  /** The SMMU runs stage 1 at EL2 with E2H (ARM_SMMU_FEAT_E2H). */
  readonly e2h: boolean;
  /** IDR1.ATTR_TYPES_OVR (ARM_SMMU_FEAT_ATTR_TYPES_OVR). */
  readonly attrTypesOvr: boolean;
}

const S1DSS_NAME: Record<S1Dss, string> = { terminate: 'TERMINATE', bypass: 'BYPASS', ssid0: 'SSID0' };

/**
 * A stage-1 STE pointing at a CD table. Models `arm_smmu_make_cdtable_ste()`: CD fetches
 * are WBRA/WBRA/ISH; S1STALLD when the SMMU can stall but the master does not; EATS=TRANS
 * with ATS; SHCFG=INCOMING only with ATTR_TYPES_OVR and S1DSS=BYPASS (the traffic that
 * bypasses stage 1 keeps its shareability); STRW=EL2 with E2H, else NSEL1 with S2VMID 0
 * (VMID 0 is kept for stage-1-only EL1 STEs).
 */
export function cdTableSte(o: CdTableSteOptions): EntryWords {
  return build(STE, {
    V: 1,
    Config: 'S1_TRANS',
    S1Fmt: o.s1fmt,
    S1ContextPtr: maskedAddress(STE, 'S1ContextPtr', o.cdTable),
    S1CDMax: o.s1cdmax,
    S1DSS: S1DSS_NAME[o.s1dss],
    S1CIR: 'WBRA',
    S1COR: 'WBRA',
    S1CSH: 'ISH',
    S1STALLD: o.stallsSupported && !o.masterStalls ? 1 : undefined,
    EATS: o.ats ? 'TRANS' : undefined,
    SHCFG: o.attrTypesOvr && o.s1dss === 'bypass' ? 'INCOMING' : undefined,
    STRW: o.e2h ? 'EL2' : 'NSEL1',
    // With E2H the kernel leaves qword 2 alone (zero after its memset); without, VMID 0 explicitly.
    S2VMID: o.e2h ? undefined : 0,
  });
}

/** io-pgtable's stage-2 VTCR fields, in the STE's encodings. */
export interface Vtcr {
  /** S2T0SZ: 64 - IPA bits. */
  readonly tsz: number;
  /** S2SL0 (VTCR_EL2.SL0 encoding, depends on the granule). */
  readonly sl0: number;
  /** Walk cacheability, TCR encoding (0 NC, 1 WBWA, 2 WT, 3 WB). */
  readonly irgn: number;
  readonly orgn: number;
  /** Walk shareability (0 NSH, 2 OSH, 3 ISH). */
  readonly sh: number;
  /** Granule, TG0 encoding (0 4KB, 1 64KB, 2 16KB). */
  readonly tg: number;
  /** Output size code (0..6 = 32..52 bits). */
  readonly ps: number;
}

export interface S2SteOptions {
  readonly vmid: number;
  readonly vtcr: Vtcr;
  /** PA of the stage-2 pgd. */
  readonly vttbr: number;
  readonly ats: boolean;
  /** The page table uses IO_PGTABLE_QUIRK_ARM_S2FWB. */
  readonly fwb: boolean;
  readonly attrTypesOvr: boolean;
  /** The master uses stalls: stage-2 faults stall (S2S). */
  readonly stallEnabled: boolean;
}

/**
 * A stage-2 STE. Models `arm_smmu_make_s2_domain_ste()`: EATS=TRANS with ATS, S2FWB with
 * the FWB quirk, SHCFG=INCOMING with ATTR_TYPES_OVR; qword 2 holds the VMID, the VTCR
 * fields, S2AA64 (VMSAv8-64 tables), S2PTW (stage-1 walks of a nested guest go through
 * stage 2; Linux always sets it), S2S when the master stalls and S2R (record faults);
 * qword 3 the table base.
 */
export function s2Ste(o: S2SteOptions): EntryWords {
  return build(STE, {
    V: 1,
    Config: 'S2_TRANS',
    EATS: o.ats ? 'TRANS' : undefined,
    S2FWB: o.fwb ? 1 : undefined,
    SHCFG: o.attrTypesOvr ? 'INCOMING' : undefined,
    S2VMID: o.vmid,
    S2T0SZ: o.vtcr.tsz,
    S2SL0: o.vtcr.sl0,
    S2IR0: o.vtcr.irgn,
    S2OR0: o.vtcr.orgn,
    S2SH0: o.vtcr.sh,
    S2TG: o.vtcr.tg,
    S2PS: o.vtcr.ps,
    S2AA64: 1,
    S2PTW: 1,
    S2S: o.stallEnabled ? 1 : undefined,
    S2R: 1,
    S2TTB: maskedAddress(STE, 'S2TTB', o.vttbr),
  });
}

/** What iommufd lets a guest put in its vSTE (STRTAB_STE_0/1_NESTING_ALLOWED). */
const VSTE_ALLOWED: readonly (readonly string[])[] = [
  ['V', 'Config', 'S1Fmt', 'S1ContextPtr', 'S1CDMax'],
  ['S1DSS', 'S1CIR', 'S1COR', 'S1CSH', 'S1STALLD', 'EATS'],
];

export interface NestedSteOptions {
  /**
   * The guest's vSTE: the two qwords userspace passes in struct iommu_hwpt_arm_smmuv3
   * (further words, if given, must be zero).
   */
  readonly vste: readonly bigint[];
  /**
   * The stage-2 STE of the nesting parent, as `s2Ste` builds it. Build it with `ats` as the
   * attach decides: for a stage-1 vSTE the kernel enables ATS exactly when the vSTE asks for
   * EATS=TRANS (and the device can).
   */
  readonly s2: readonly bigint[];
}

const CFG_VALUE = (name: string): bigint => {
  const v = requireField(STE, 'Config').values?.find((e) => e.name === name);
  if (!v) throw new Error(`STE.Config has no value ${name}`);
  return BigInt(v.value);
};

/**
 * The physical STE for an iommufd nested domain. Models `arm_smmu_validate_vste()` (done
 * when the domain is allocated) followed by `arm_smmu_make_nested_domain_ste()` and
 * `arm_smmu_make_nested_cd_table_ste()`:
 * - a vSTE with V=0 becomes an abort STE; one with other than the allowed bits, a Config
 *   other than ABORT/BYPASS/S1_TRANS, or EATS other than ABT/TRANS is rejected (-EIO:
 *   thrown here);
 * - Config ABORT gives the abort STE, BYPASS the parent's stage-2 STE unchanged;
 * - Config S1_TRANS: qword 0 = V | Config=NESTED | the vSTE's other qword-0 bits (CD table
 *   pointer, S1Fmt, S1CDMax); qword 1 = the stage-2 STE's qword 1 (EATS, S2FWB, SHCFG) | the
 *   vSTE's qword-1 bits except EATS | MEV (merged events, against guest fault floods);
 *   qwords 2-7 from the stage-2 STE (VMID, VTCR, S2TTB...).
 */
export function nestedSte(o: NestedSteOptions): EntryWords {
  if (o.s2.length !== STE.words) throw new Error(`nestedSte: the stage-2 STE must have ${STE.words} qwords, not ${o.s2.length}`);
  if (o.vste.slice(2).some((w) => w !== 0n)) {
    throw new Error('nestedSte: a vSTE has two qwords (iommu_hwpt_arm_smmuv3.ste[2]); qwords 2 and up must be zero');
  }
  let vste = [o.vste[0] ?? 0n, o.vste[1] ?? 0n];
  const get = (name: string): bigint => fieldValue(STE, vste, requireField(STE, name));
  // A non-valid vSTE is taken as all zeros: an abort STE, so the guest can get C_BAD_STE reported.
  if (get('V') === 0n) return abortSte();
  const allowed = VSTE_ALLOWED.map((names, i) => fieldsMask(STE, names)[i]);
  for (const i of [0, 1]) {
    const extra = vste[i] & ~allowed[i];
    if (extra !== 0n) {
      throw new Error(`nestedSte: the vSTE sets qword ${i} bits 0x${extra.toString(16)} that a guest may not control ` +
        `(allowed: ${VSTE_ALLOWED[i].join(', ')}); the kernel rejects it with -EIO`);
    }
  }
  const cfg = get('Config');
  if (cfg !== CFG_VALUE('ABORT') && cfg !== CFG_VALUE('BYPASS') && cfg !== CFG_VALUE('S1_TRANS')) {
    throw new Error(`nestedSte: vSTE Config=${cfg} is not ABORT, BYPASS or S1_TRANS; the kernel rejects it with -EIO`);
  }
  const eats = get('EATS');
  if (eats !== 0n && eats !== 1n) {
    throw new Error(`nestedSte: vSTE EATS=${eats}: only ABT (0) or TRANS (1) are supported; the kernel rejects it with -EIO`);
  }
  // The kernel keeps the vSTE without EATS; the host decides ATS (through the stage-2 STE).
  vste = setField(STE, vste, 'EATS', 0).slice(0, 2);
  if (cfg === CFG_VALUE('ABORT')) return abortSte();
  if (cfg === CFG_VALUE('BYPASS')) return [...o.s2];
  const out = [...o.s2];
  const cfgMask = fieldsMask(STE, ['Config'])[0];
  out[0] = build(STE, { V: 1, Config: 'NESTED' })[0] | (vste[0] & ~cfgMask);
  out[1] = o.s2[1] | vste[1] | fieldsMask(STE, ['MEV'])[1];
  return out;
}

// ---------------------------------------------------------------------------------------
// Context descriptors

/** io-pgtable's stage-1 TCR fields, in the CD's encodings. */
export interface S1Tcr {
  /** 64 - VA bits. */
  readonly t0sz: number;
  /** TG0 encoding: 0 4KB, 1 64KB, 2 16KB. */
  readonly tg0: number;
  /** Walk cacheability (0 NC, 1 WBWA, 2 WT, 3 WB) and shareability (0 NSH, 2 OSH, 3 ISH). */
  readonly irgn0: number;
  readonly orgn0: number;
  readonly sh0: number;
  /** Output size code (0..6 = 32..52 bits). */
  readonly ips: number;
}

export interface S1CdOptions {
  readonly asid: number;
  /** PA of the stage-1 pgd. */
  readonly ttb0: number;
  readonly tcr: S1Tcr;
  /** io-pgtable's 64-bit MAIR (MAIR1:MAIR0). */
  readonly mair: bigint;
  /** The master uses stalls (CD.S). */
  readonly stall: boolean;
  /** The page table uses IO_PGTABLE_QUIRK_ARM_HD: hardware Access flag and dirty state (HA and HD). */
  readonly hahd: boolean;
}

/** The CD's MAIR0/MAIR1 pair from one 64-bit MAIR value. */
function mairFields(mair: bigint): Record<string, bigint> {
  const low = mask(fieldWidth(requireField(CD, 'MAIR0')));
  return { MAIR0: mair & low, MAIR1: mair >> BigInt(fieldWidth(requireField(CD, 'MAIR0'))) };
}

/**
 * A stage-1 CD for a paging domain. Models `arm_smmu_make_s1_cd()`: the TCR fields of TTB0
 * from io-pgtable, EPD1 (no TTB1 walks), V, IPS, AA64, S when the master stalls, R (record
 * faults), A (abort faulting transactions), ASET (SMMU-private ASID: no broadcast TLBI),
 * ASID; HA+HD together with the dirty-tracking quirk; qword 1 = TTB0; qword 3 = MAIR.
 */
export function s1Cd(o: S1CdOptions): EntryWords {
  return build(CD, {
    T0SZ: o.tcr.t0sz,
    TG0: o.tcr.tg0,
    IR0: o.tcr.irgn0,
    OR0: o.tcr.orgn0,
    SH0: o.tcr.sh0,
    EPD1: 1,
    V: 1,
    IPS: o.tcr.ips,
    AA64: 1,
    S: o.stall ? 1 : undefined,
    R: 1,
    A: 1,
    ASET: 1,
    ASID: o.asid,
    HA: o.hahd ? 1 : undefined,
    HD: o.hahd ? 1 : undefined,
    TTB0: maskedAddress(CD, 'TTB0', o.ttb0),
    ...mairFields(o.mair),
  });
}

export interface QuietCdOptions {
  /** IPS: the kernel uses the CPU's PARange (ID_AA64MMFR0_EL1). Default 0. */
  readonly ips?: number;
  /** The CPU's MAIR_EL1, copied into qword 3. Default 0. */
  readonly mair?: bigint;
  /** The master uses stalls. */
  readonly stall?: boolean;
  /** The SMMU forces stalls (ARM_SMMU_FEAT_STALL_FORCE): S and R then stay as for a live CD. */
  readonly stallForce?: boolean;
}

/**
 * The SVA "release" CD that faults everything while staying valid. Models
 * `arm_smmu_make_sva_cd()` called without an mm: EPD1 | V | IPS | AA64 | S (if the master
 * stalls) | R | A | ASET | ASID, plus EPD0 (no TTB0 walks, so T0SZ..SH0 and TTB0 are
 * IGNORED and left zero), then S and R cleared unless the SMMU forces stalls (abort at once,
 * no events, for a fast clean-up); qword 3 = MAIR. With EPD0 the CD writer can switch to and
 * from a live CD of the same ASID hitlessly. For a hitless switch, pass the IPS and MAIR the
 * live CD has.
 */
export function quietCd(asid: number, o: QuietCdOptions = {}): EntryWords {
  const keepStallAndRecord = o.stallForce === true;
  return build(CD, {
    EPD0: 1,
    EPD1: 1,
    V: 1,
    IPS: o.ips ?? 0,
    AA64: 1,
    S: keepStallAndRecord && o.stall ? 1 : undefined,
    R: keepStallAndRecord ? 1 : undefined,
    A: 1,
    ASET: 1,
    ASID: asid,
    ...mairFields(o.mair ?? 0n),
  });
}
