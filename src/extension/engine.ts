/**
 * The heavy half of the extension: the debug adapter, and headless runs with the hazard
 * checker. Desktop VS Code loads it (dist/engine.js) on the first debug session or run;
 * VS Code for the Web runs it in a worker of its own (dist/web/engine.js, see
 * web/engineWorker.ts). Either way activation, hovers and editing load only the format
 * tables and the compiler. A headless run answers plain data, which a worker can post.
 */
import { SmmuDebugSession } from '../debug/adapter';
import { compileForSession, Session } from '../debug/session';
import type { HazardSeverity } from '../check/rules';
import type { SourceHost } from '../scenario/compiler';
import type { Diagnostic, Range } from '../scenario/diagnostics';
import type { ExpectationRecord, UpdateRecord } from '../scenario/program';
import { hostFromSnapshot, type HostSnapshot } from './hostSnapshot';

/** A debug session over a snapshot's files, for VS Code's inline adapter (typed against @vscode/debugadapter's protocol). */
export function createAdapter(snapshot: HostSnapshot, readBinary?: SourceHost['readBinary']): SmmuDebugSession {
  return new SmmuDebugSession(hostFromSnapshot(snapshot, readBinary));
}

/** A hazard as a headless run reports it, on its statement's line. */
export interface RunHazard {
  readonly range: Range;
  readonly rule: string;
  readonly severity: HazardSeverity;
  readonly message: string;
  /** An `expect hazard` accounted for it. */
  readonly expected: boolean;
}

/** What a headless run found, as `smmu-debug run` reports it. */
export type RunSummary =
  | { readonly compiled: false; readonly diagnostics: readonly Diagnostic[] }
  | {
    readonly compiled: true;
    readonly statements: number;
    readonly ops: number;
    readonly expectations: number;
    readonly failed: readonly ExpectationRecord[];
    readonly updates: readonly UpdateRecord[];
    readonly hazards: readonly RunHazard[];
    readonly errors: readonly Diagnostic[];
  };

/** A headless run of a snapshot's scenario, to the end, checked. */
export function runHeadless(snapshot: HostSnapshot, readBinary?: SourceHost['readBinary']): RunSummary {
  const path = snapshot.program;
  const text = snapshot.texts.get(path);
  if (text === undefined) throw new Error(`the run was given no text for ${path}`);
  const program = compileForSession(path, text, hostFromSnapshot(snapshot, readBinary));
  if (program.diagnostics.some((d) => d.severity === 'error')) return { compiled: false, diagnostics: program.diagnostics };
  const session = new Session(program);
  session.runner.runToEnd();
  const r = session.runner.results;
  return {
    compiled: true,
    statements: program.steps.length,
    ops: session.runner.ops,
    expectations: r.expectations.length,
    failed: r.expectations.filter((e) => !e.ok),
    updates: r.updates,
    hazards: session.hazards.map((h, i) => ({ range: h.range, rule: h.rule, severity: h.severity, message: h.message, expected: session.runner.acceptedHazards.has(i) })),
    errors: r.errors,
  };
}

export type Engine = typeof import('./engine');
