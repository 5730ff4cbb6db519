/**
 * The heavy half of the extension: the debug adapter, and headless runs with the hazard
 * checker. Desktop VS Code loads it (dist/engine.js) on the first debug session or run, so
 * activation, hovers and editing load only the format tables and the compiler; the browser
 * bundle includes it.
 */
import { SmmuDebugSession } from '../debug/adapter';
import { compileForSession, Session } from '../debug/session';
import type { SourceHost } from '../scenario/compiler';
import type { Program } from '../scenario/program';

/** A debug session for VS Code's inline adapter (typed against @vscode/debugadapter's protocol). */
export function createAdapter(host: SourceHost): SmmuDebugSession {
  return new SmmuDebugSession(host);
}

/** A headless run, as `smmu-debug run` does it: the program, and the session when it compiled. */
export function runHeadless(path: string, text: string, host: SourceHost): { program: Program; session?: Session } {
  const program = compileForSession(path, text, host);
  if (program.diagnostics.some((d) => d.severity === 'error')) return { program };
  const session = new Session(program);
  session.runner.runToEnd();
  return { program, session };
}

export type Engine = typeof import('./engine');
