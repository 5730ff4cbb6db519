/**
 * Scenarios the benchmarks run, compiled and run through the same engine the CLI and the
 * debugger use (no includes: each scenario is one text).
 */
import { compileForSession, Session } from '../src/debug/session';
import { hasErrors, NO_INCLUDES, SourceHost } from '../src/scenario/compiler';
import { formatDiagnostic } from '../src/scenario/diagnostics';
import { Program } from '../src/scenario/program';
import { DEFAULT_LIMITS } from '../src/scenario/runner';

/** Limits wide enough for the largest benchmark (1 GiB in 4K pages is ~280k operations). */
export const BENCH_LIMITS = { ...DEFAULT_LIMITS, maxOps: 50_000_000, maxPages: 4_000_000 };

export function compile(name: string, text: string, host: SourceHost = NO_INCLUDES): Program {
  const p = compileForSession(name, text, host);
  if (hasErrors(p)) throw new Error(`benchmark scenario ${name} does not compile:\n${p.diagnostics.map(formatDiagnostic).join('\n')}`);
  return p;
}

/** Run a program to its end; throws if a statement failed, so a figure never hides an error. */
export function run(p: Program, check: boolean): Session {
  const s = new Session(p, { check, limits: BENCH_LIMITS });
  const r = s.runner.runToEnd();
  if (r.errors.length) throw new Error(`benchmark scenario ${p.file} failed: ${r.errors.map(formatDiagnostic).join('; ')}`);
  return s;
}

/** The SMMU every benchmark scenario runs on: non-coherent, as in the tutorial examples. */
export const PLATFORM = `platform coherent=no
smmu stages=1,2 sidsize=16 ssidsize=20 granules=4K,16K,64K
smmu init
`;

export const hexNum = (n: number): string => '0x' + n.toString(16);

/** A stage-1 4K domain `d1` (48-bit IOVA: a 4-level walk) with `bytes` mapped in 4K pages, attached to StreamID 5. */
export function mappedStage1(iova: number, pa: number, bytes: number): string {
  return `${PLATFORM}domain d1 stage=1 granule=4K ias=48
map d1 ${hexNum(iova)} -> ${hexNum(pa)} size=${hexNum(bytes)} pgsize=4K
attach 5 s1 d1 asid=1
`;
}
