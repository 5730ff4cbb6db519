/**
 * What an SMMU implements: the platform's choice, from which the ID registers are built
 * (through the register tables: no bit position is written here) and from which the
 * format tables' checks get their context.
 */
import { encode } from '../../arch/codec';
import { ArchContext, Granule } from '../../arch/field';
import { contextFromIdRegs, IDR0, IDR1, IDR3, IDR5, OAS_BITS } from '../../arch/registers';

export interface SmmuFeatures {
  readonly stage1: boolean;
  readonly stage2: boolean;
  /** StreamID and SubstreamID widths (IDR1.SIDSIZE, SSIDSIZE). */
  readonly sidBits: number;
  readonly ssidBits: number;
  /** Output address size in bits (IDR5.OAS): 32, 36, 40, 42, 44, 48 or 52. */
  readonly oasBits: number;
  readonly granules: readonly Granule[];
  readonly asid16: boolean;
  readonly vmid16: boolean;
  /** IDR0.ST_LEVEL: 2-level stream tables supported. */
  readonly twoLevelStreamTable: boolean;
  /** IDR0.CD2L: 2-level CD tables supported. */
  readonly twoLevelCdTable: boolean;
  /** IDR3.RIL: range invalidation. */
  readonly rangeInvalidation: boolean;
  /** IDR1.ATTR_TYPES_OVR: STE/GBPA attribute overrides. */
  readonly attrTypesOverride: boolean;
  /** IDR0.STALL_MODEL: 0 stall and terminate, 1 terminate only, 2 stall forced. */
  readonly stallModel: 0 | 1 | 2;
  /** IDR0.HTTU: 0 none, 1 Access flag, 2 Access flag and dirty state. */
  readonly httu: 0 | 1 | 2;
  readonly ats: boolean;
  readonly pri: boolean;
  readonly msi: boolean;
  readonly sev: boolean;
  /** IDR0.Hyp: EL2 StreamWorld; with E2H (CR2) the EL2-E2H regime. */
  readonly hyp: boolean;
  /** IDR0.COHACC as reported. The platform's coherency is separate (firmware can override it). */
  readonly cohacc: boolean;
  /** IDR3.BBML: 0, 1 or 2. */
  readonly bbml: 0 | 1 | 2;
  /** IDR3.FWB: STE.S2FWB supported. */
  readonly fwb: boolean;
  /** IDR5.VAX: 52-bit VAs. */
  readonly vax: boolean;
  /** IDR3.STT: small translation tables. */
  readonly stt: boolean;
  /** IDR1.CMDQS / EVENTQS / PRIQS: largest queue, log2 entries. */
  readonly cmdqs: number;
  readonly eventqs: number;
  readonly priqs: number;
}

/** A typical SMMUv3.2 (an MMU-700-like part): both stages, 4K/16K/64K, 16-bit IDs. */
export const DEFAULT_FEATURES: SmmuFeatures = {
  stage1: true,
  stage2: true,
  sidBits: 16,
  ssidBits: 20,
  oasBits: 48,
  granules: [4, 16, 64],
  asid16: true,
  vmid16: true,
  twoLevelStreamTable: true,
  twoLevelCdTable: true,
  rangeInvalidation: true,
  attrTypesOverride: true,
  stallModel: 0,
  httu: 2,
  ats: true,
  pri: true,
  msi: true,
  sev: true,
  hyp: true,
  cohacc: true,
  bbml: 2,
  fwb: true,
  vax: false,
  stt: false,
  cmdqs: 19,
  eventqs: 19,
  priqs: 19,
};

export class FeatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeatureError';
  }
}

/** Checks that the features are a possible SMMU; returns a list of what is wrong. */
export function featureProblems(f: SmmuFeatures): string[] {
  const p: string[] = [];
  if (!f.stage1 && !f.stage2) p.push('an SMMU implements stage 1, stage 2 or both');
  if (!Number.isInteger(f.sidBits) || f.sidBits < 0 || f.sidBits > 32) p.push(`SIDSIZE ${f.sidBits}: expected 0..32 bits`);
  if (!Number.isInteger(f.ssidBits) || f.ssidBits < 0 || f.ssidBits > 20) p.push(`SSIDSIZE ${f.ssidBits}: expected 0..20 bits`);
  if (!OAS_BITS.slice(0, 7).includes(f.oasBits)) p.push(`OAS ${f.oasBits}: expected one of ${OAS_BITS.slice(0, 7).join(', ')} bits`);
  if (f.granules.length === 0) p.push('at least one translation granule (4K, 16K or 64K) is needed');
  for (const g of f.granules) if (![4, 16, 64].includes(g)) p.push(`granule ${g}K: expected 4, 16 or 64`);
  for (const [name, v] of [['CMDQS', f.cmdqs], ['EVENTQS', f.eventqs], ['PRIQS', f.priqs]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 19) p.push(`${name} ${v}: expected 0..19`);
  }
  if (f.httu > 0 && !f.stage1 && !f.stage2) p.push('HTTU needs a translation stage');
  return p;
}

/** The ID register values an SMMU with these features reports. */
export function idRegisters(f: SmmuFeatures): { IDR0: number; IDR1: number; IDR3: number; IDR5: number } {
  const b = (x: boolean): number => (x ? 1 : 0);
  const idr0 = encode(IDR0, {
    S2P: b(f.stage2), S1P: b(f.stage1), TTF: 2 /* AArch64 */, COHACC: b(f.cohacc), HTTU: f.httu,
    Hyp: b(f.hyp), ATS: b(f.ats), ASID16: b(f.asid16), MSI: b(f.msi), SEV: b(f.sev), PRI: b(f.pri),
    VMID16: b(f.vmid16), CD2L: b(f.twoLevelCdTable), TTENDIAN: 2 /* little-endian */,
    STALL_MODEL: f.stallModel, TERM_MODEL: 0, ST_LEVEL: f.twoLevelStreamTable ? 1 : 0,
  })[0];
  const idr1 = encode(IDR1, {
    SIDSIZE: f.sidBits, SSIDSIZE: f.ssidBits, PRIQS: f.priqs, EVENTQS: f.eventqs, CMDQS: f.cmdqs,
    ATTR_TYPES_OVR: b(f.attrTypesOverride),
  })[0];
  const idr3 = encode(IDR3, { RIL: b(f.rangeInvalidation), BBML: f.bbml, FWB: b(f.fwb), STT: b(f.stt), HAD: 1 })[0];
  const idr5 = encode(IDR5, {
    OAS: OAS_BITS.indexOf(f.oasBits), GRAN4K: b(f.granules.includes(4)), GRAN16K: b(f.granules.includes(16)),
    GRAN64K: b(f.granules.includes(64)), VAX: b(f.vax),
  })[0];
  return { IDR0: Number(idr0), IDR1: Number(idr1), IDR3: Number(idr3), IDR5: Number(idr5) };
}

/** The context the format tables check structures against, read back from the ID registers. */
export function archContext(f: SmmuFeatures, e2h = false): ArchContext {
  const r = idRegisters(f);
  return { ...contextFromIdRegs(r.IDR0, r.IDR1, r.IDR3, r.IDR5), e2h, ias: Math.max(f.oasBits, f.vax ? 52 : 48) };
}
