/**
 * Running a scenario text through a debugging `Session` (the runner with the hazard
 * checker following it), for the checker's tests: the hazards it found, each with the
 * line of the statement responsible.
 */
import { strict as assert } from 'node:assert';
import { CheckOptions } from '../../src/check/checker';
import { compileForSession, LocatedHazard, Session, SessionOptions } from '../../src/debug/session';
import { Machine } from '../../src/model/machine';
import { NO_INCLUDES } from '../../src/scenario/compiler';
import { formatDiagnostic } from '../../src/scenario/diagnostics';

export interface Checked {
  readonly session: Session;
  readonly hazards: LocatedHazard[];
}

/**
 * Compile and run `text` with the checker on, insisting that it compiles, runs and meets its
 * own expectations; `after` is called at the end of each statement with its line and the machine.
 */
export function run(text: string, opts: SessionOptions = {}, after?: (line: number, m: Machine) => void): Session {
  const program = compileForSession('test.smmu', text, NO_INCLUDES);
  assert.deepEqual(program.diagnostics.map(formatDiagnostic), [], 'the scenario compiles');
  const session = new Session(program, opts);
  if (after) session.runner.afterStatement((step) => after(step.range.start.line, session.runner.state.machine));
  session.runner.runToEnd();
  const r = session.runner.results;
  assert.deepEqual(r.errors.map(formatDiagnostic), [], 'the scenario runs without errors');
  const failed = r.expectations.filter((e) => !e.ok).map((e) => `line ${e.range.start.line}: ${e.message}`);
  assert.deepEqual(failed, [], 'every expectation of the scenario holds');
  return session;
}

/** `run` over `lines` (one statement per line, line 1 first), with checker options. */
export function check(lines: readonly string[], opts: Partial<CheckOptions> = {}, after?: (line: number, m: Machine) => void): Checked {
  const session = run(lines.join('\n') + '\n', { checkOptions: opts }, after);
  return { session, hazards: session.hazards };
}

/** The hazards of one rule. */
export function ofRule(c: Checked, rule: string): LocatedHazard[] {
  return c.hazards.filter((h) => h.rule === rule);
}

/** A one-line summary of each hazard, for assertion messages ('' when there is none). */
export function show(hs: readonly LocatedHazard[]): string {
  return hs.map((h) => `  line ${h.range.start.line}: ${h.severity} ${h.rule}: ${h.message}`).join('\n');
}

/** `show` of every hazard found, '(none)' when there is none. */
export function summary(c: Checked): string {
  return show(c.hazards) || '  (none)';
}
