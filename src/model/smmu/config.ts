/**
 * From STE and CD words to what the SMMU does with a stream: abort, bypass, or the
 * translation regimes it walks. Every field comes from the format tables (decode) and
 * every ILLEGAL condition from their rules: an STE or CD with an error-severity problem is
 * treated as the architecture says an ILLEGAL one is (as if V=0).
 */
import { decode, Decoded } from '../../arch/codec';
import { CD, cdRangeWalk } from '../../arch/cd';
import { ArchContext } from '../../arch/field';
import { STE, steStage2Walk } from '../../arch/ste';
import { S1Range, Stage1Config, Stage2Config } from './types';

/** The stage-1 part of an STE: where its CDs are and how substreams select them. */
export interface S1Stream {
  /** S1ContextPtr: a PA, or an IPA when stage 2 also translates. */
  readonly cdBase: number;
  /** S1Fmt: 0 linear, 1 2-level with 4KB leaf tables, 2 2-level with 64KB leaf tables. */
  readonly fmt: 0 | 1 | 2;
  /** S1CDMax (0 when substreams are unsupported or disabled). */
  readonly cdMax: number;
  /** S1DSS: 0 terminate, 1 bypass stage 1, 2 use CD 0. */
  readonly dss: 0 | 1 | 2;
  readonly stalld: boolean;
  /** StreamWorld EL2 (STRW = EL2): entries tagged for the EL2 regime. */
  readonly el2: boolean;
  /** VMID stage-1 entries are tagged with (S2VMID for NS-EL1 and nested, else 0). */
  readonly vmid: number;
}

export type StreamConfig =
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'abort' }
  | { readonly kind: 'bypass' }
  | { readonly kind: 'translate'; readonly s1?: S1Stream; readonly s2?: Stage2Config };

const num = (d: Decoded, f: string): number => d.num(f);
const flag = (d: Decoded, f: string): boolean => d.get(f) !== 0n;

/** The first error-severity problem, as the reason an ILLEGAL structure is treated as invalid. */
function illegalReason(d: Decoded): string | undefined {
  const p = d.problems.find((x) => x.severity === 'error');
  return p && `ILLEGAL: ${p.field ? p.field + ': ' : ''}${p.message}`;
}

export function streamConfig(words: readonly bigint[], ctx: ArchContext): StreamConfig {
  const d = decode(STE, words, ctx);
  if (!flag(d, 'V')) return { kind: 'invalid', reason: 'STE.V is 0' };
  const illegal = illegalReason(d);
  if (illegal) return { kind: 'invalid', reason: illegal };
  const cfg = num(d, 'Config');
  if (cfg < 0b100) return { kind: 'abort' };
  if (cfg === 0b100) return { kind: 'bypass' };
  const hasS1 = (cfg & 1) !== 0;
  const hasS2 = (cfg & 2) !== 0;
  let s2: Stage2Config | undefined;
  if (hasS2) {
    const w = steStage2Walk(d);
    if ('error' in w) return { kind: 'invalid', reason: w.error };
    s2 = {
      vmid: num(d, 'S2VMID'),
      granule: w.granule,
      inputBits: w.inputBits,
      startLevel: w.startLevel,
      concat: w.concat,
      ttb: num(d, 'S2TTB'),
      oasBits: w.oasBits,
      ds: w.ds,
      pa52: w.granule === 64 && w.oasBits > 48,
      affd: flag(d, 'S2AFFD'),
      ha: flag(d, 'S2HA'),
      hd: flag(d, 'S2HD'),
      ptw: flag(d, 'S2PTW'),
      fwb: flag(d, 'S2FWB'),
      record: flag(d, 'S2R'),
      stall: flag(d, 'S2S'),
    };
  }
  let s1: S1Stream | undefined;
  if (hasS1) {
    const cdMax = ctx.ssidSize === 0 ? 0 : num(d, 'S1CDMax');
    const strw = num(d, 'STRW');
    const el2 = !hasS2 && strw === 2;
    s1 = {
      cdBase: num(d, 'S1ContextPtr'),
      // S1Fmt 0b11 is reserved and behaves as linear; with one CD the format is ignored.
      fmt: (cdMax === 0 || num(d, 'S1Fmt') === 3 ? 0 : num(d, 'S1Fmt')) as 0 | 1 | 2,
      cdMax,
      dss: (cdMax === 0 ? 0 : num(d, 'S1DSS')) as 0 | 1 | 2,
      stalld: flag(d, 'S1STALLD'),
      el2,
      vmid: el2 ? 0 : num(d, 'S2VMID'),
    };
  }
  return { kind: 'translate', s1, s2 };
}

export type CdConfig = { readonly kind: 'invalid'; readonly reason: string } | { readonly kind: 'valid'; readonly s1: Stage1Config };

function range(d: Decoded, half: 0 | 1): S1Range | undefined {
  const w = cdRangeWalk(d, half);
  if (!w) return undefined;
  return {
    granule: w.granule, inputBits: w.inputBits, startLevel: w.startLevel, ttb: w.ttb,
    ds: w.ds, pa52: w.granule === 64 && w.oasBits > 48, had: flag(d, half === 0 ? 'HAD0' : 'HAD1'),
  };
}

/** A CD in the context of its STE (which supplies the VMID tag and the StreamWorld). */
export function cdConfig(words: readonly bigint[], ctx: ArchContext, stream: S1Stream): CdConfig {
  const d = decode(CD, words, ctx);
  if (!flag(d, 'V')) return { kind: 'invalid', reason: 'CD.V is 0' };
  const illegal = illegalReason(d);
  if (illegal) return { kind: 'invalid', reason: illegal };
  const ttb0 = range(d, 0);
  const ttb1 = stream.el2 && !ctx.e2h ? undefined : range(d, 1);
  const oasBits = cdRangeWalk(d, 0)?.oasBits ?? cdRangeWalk(d, 1)?.oasBits ?? Math.min(ctx.oas ?? 48, 48);
  return {
    kind: 'valid',
    s1: {
      asid: num(d, 'ASID'),
      vmid: stream.vmid,
      el2: stream.el2,
      e2h: ctx.e2h === true,
      ttb0,
      ttb1,
      oasBits,
      tbi0: flag(d, 'TBI0'),
      tbi1: flag(d, 'TBI1'),
      affd: flag(d, 'AFFD'),
      ha: flag(d, 'HA'),
      hd: flag(d, 'HD'),
      wxn: flag(d, 'WXN'),
      uwxn: flag(d, 'UWXN'),
      pan: flag(d, 'PAN'),
      record: flag(d, 'R'),
      stall: flag(d, 'S') && !stream.stalld,
      mair: (d.get('MAIR1') << 32n) | d.get('MAIR0'),
    },
  };
}
