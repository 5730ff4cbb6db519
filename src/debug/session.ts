/**
 * A scenario run with the hazard checker following it: what the CLI reports and what the
 * debugger steps through. Joins the scenario runner (src/scenario) and the checker
 * (src/check), which do not know each other.
 */
import { Checker, CheckOptions, DEFAULT_CHECK_OPTIONS, Hazard } from '../check/checker';
import { RULES } from '../check/rules';
import { CD_KIND, planUsedBits, STE_KIND } from '../driver/entryWriter';
import { compileScenario, CompileOptions, SourceHost } from '../scenario/compiler';
import { Range } from '../scenario/diagnostics';
import { Program } from '../scenario/program';
import { DEFAULT_LIMITS, RunLimits, Runner, RunSnapshot } from '../scenario/runner';

export interface SessionOptions {
  /** Run the hazard checker (default on). */
  readonly check?: boolean;
  readonly limits?: RunLimits;
  readonly checkOptions?: Partial<CheckOptions>;
}

/** A hazard with its place in the scenario. */
export interface LocatedHazard extends Hazard {
  readonly range: Range;
}

/** Compile with the checker's rule names known, so `expect hazard` names are checked. */
export function compileForSession(file: string, text: string, host: SourceHost, opts: CompileOptions = {}): Program {
  return compileScenario(file, text, host, { hazardRules: RULES.map((r) => r.id), ...opts });
}

export interface SessionSnapshot {
  readonly run: RunSnapshot;
  readonly hazards: number;
  /** What the checker follows over time (pending changes), to put back with the run. */
  readonly checker?: unknown;
}

export class Session {
  readonly runner: Runner;
  readonly checker?: Checker;

  constructor(readonly program: Program, opts: SessionOptions = {}) {
    this.runner = new Runner(program, opts.limits ?? DEFAULT_LIMITS);
    if (opts.check === false) return;
    const runner = this.runner;
    const checker = new Checker({
      get machine() { return runner.state.machine; },
      get step() { return runner.inStatement ? runner.current!.index : -1; },
      get op() { return runner.ops; },
      *traffic() {
        for (const src of runner.state.scenario.traffic.values()) {
          for (const iova of src.iovas) yield { sid: src.sid, ssid: src.ssid, iova, access: src.access, priv: src.priv };
        }
      },
      where: (step) => {
        const r = program.steps[step]?.range;
        return r ? `line ${r.start.line}${r.file !== program.file ? ` of ${r.file}` : ''}` : 'a statement';
      },
      note: (text) => runner.results.trace.push({ step: runner.current?.index ?? -1, op: runner.ops, kind: 'error', text, stack: runner.stack }),
    }, {
      ...DEFAULT_CHECK_OPTIONS, usedBits: planUsedBits,
      updateSafe: (kind, cur, target) => (kind === 'ste' ? STE_KIND : CD_KIND).updateSafe?.(cur, target) ?? [],
      ...opts.checkOptions,
    });
    this.checker = checker;
    runner.observe((t) => checker.onActivity(t));
    runner.afterOp((op) => checker.afterOp(op.op));
    runner.afterStatement(() => checker.endStatement());
    runner.atEnd(() => checker.finish());
    runner.hazardSource = () => checker.hazards;
  }

  get hazards(): LocatedHazard[] {
    const steps = this.program.steps;
    const fallback: Range = { file: this.program.file, start: { line: 1, col: 1 }, end: { line: 1, col: 1 } };
    return (this.checker?.hazards ?? []).map((h) => ({ ...h, range: steps[h.step]?.range ?? steps[steps.length - 1]?.range ?? fallback }));
  }

  snapshot(): SessionSnapshot {
    return { run: this.runner.snapshot(), hazards: this.checker?.hazards.length ?? 0, checker: this.checker?.saveState() };
  }

  restore(s: SessionSnapshot): void {
    this.runner.restore(s.run);
    this.checker?.reset(s.hazards, s.checker);
  }
}
