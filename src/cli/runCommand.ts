/** `smmu-debug run FILE...`: run scenarios headless and report what they show. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { hasErrors, SourceHost } from '../scenario/compiler';
import { compileForSession, LocatedHazard, Session } from '../debug/session';
import { Diagnostic, formatDiagnostic } from '../scenario/diagnostics';
import { Program } from '../scenario/program';
import { DEFAULT_LIMITS, RunLimits, Runner, RunResults } from '../scenario/runner';
import { DEFAULT_CHECK_OPTIONS } from '../check/checker';
import { CliIo, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, writeReport } from './io';
import { openFileSource } from './fileSource';

export const RUN_USAGE = `usage: smmu-debug run FILE... [--json] [--trace] [--no-check] [--bound N] [--max-ops N] [--max-pages N]
                        [--out FILE] [--root DIR]

Runs each scenario headless and prints what it shows: the STE/CD updates (hitless,
breaking or unchanged, and their CMD_SYNCs), the DMA results, the hazards the checker
finds in what the SMMU could observe, the expectations.
  --json         an array with one object per file
  --trace        every micro-operation, command, event and hazard, as the run performed them
  --no-check     do not run the hazard checker
  --bound N      most values judged per entry by the checker (default ${DEFAULT_CHECK_OPTIONS.bound})
  --max-ops N    stop a run after N micro-operations (default ${DEFAULT_LIMITS.maxOps})
  --max-pages N  stop a run that touches more than N pages of memory (default ${DEFAULT_LIMITS.maxPages})
  --out FILE     write the report to FILE (written whole, or not at all) instead of the terminal
  --root DIR     files a scenario may include or load lie under DIR (default: the scenario's folder)
Exit status: 0 when every expectation holds, no error-severity hazard was found and
nothing failed; 1 otherwise; 2 on invalid input.
`;

/** Files from the file system, as they are (the standalone debug adapter's host). */
export const nodeSourceHost: SourceHost = {
  read: (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  resolve: (from, rel) => resolve(dirname(from), rel),
  // A missing file is the scenario's mistake (the caller says the path is relative); any
  // other failure (a folder, no permission) is reported with its reason.
  readBinary: (path) => (existsSync(path) ? openFileSource(path) : undefined),
};

/**
 * The host for one scenario run from the command line: includes and dumps only from the
 * folder tree under `root` (the scenario's folder unless --root says), so a scenario from
 * elsewhere cannot make the tool read, and print pieces of, files outside it.
 */
export function scenarioHost(file: string, root = dirname(resolve(file))): SourceHost {
  const top = resolve(root);
  return {
    ...nodeSourceHost,
    allowed: (path) => {
      const rel = relative(top, resolve(path));
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? undefined
        : `it is outside ${top}, the folder the scenario may read from (give --root to allow another)`;
    },
  };
}

const hex = (n: number | bigint): string => '0x' + n.toString(16);

export interface FileReport {
  file: string;
  ok: boolean;
  steps: number;
  operations: number;
  /** `expected`: an `expect hazard` in the scenario accounts for it (it does not fail the run). */
  hazards: { rule: string; severity: string; line: number; column: number; message: string; expected: boolean }[];
  updates: { line: number; target: 'ste' | 'cd'; sid: number; ssid?: number; path: string; critical: number[]; syncs: number }[];
  dma: { line: number; sid: number; ssid?: number; iova: string; access: string; result: string; pa?: string; event?: string; traffic?: string }[];
  expectations: { line: number; ok: boolean; message: string }[];
  errors: { file: string; line: number; column: number; message: string }[];
}

function diagJson(d: Diagnostic): FileReport['errors'][number] {
  return { file: d.range.file, line: d.range.start.line, column: d.range.start.col, message: d.message };
}

export function report(program: Program, runner: Runner, r: RunResults, hazards: readonly LocatedHazard[] = []): FileReport {
  const unexpected = hazards.filter((_h, i) => !runner.acceptedHazards.has(i));
  const failed = r.expectations.some((e) => !e.ok) || r.errors.length > 0 || unexpected.some((h) => h.severity === 'error');
  return {
    file: program.file,
    ok: !failed,
    steps: program.steps.length,
    operations: runner.ops,
    hazards: hazards.map((h, i) => ({
      rule: h.rule, severity: h.severity, line: h.range.start.line, column: h.range.start.col, message: h.message,
      expected: runner.acceptedHazards.has(i),
    })),
    updates: r.updates.map((u) => ({ line: u.range.start.line, target: u.target, sid: u.sid, ssid: u.ssid, path: u.path, critical: [...u.critical], syncs: u.syncs })),
    dma: r.dmas.map((d) => ({
      line: d.range.start.line, sid: d.sid, ssid: d.ssid, iova: hex(d.iova), access: d.access, result: d.result,
      pa: d.pa !== undefined ? hex(d.pa) : undefined, event: d.event, traffic: d.traffic,
    })),
    expectations: r.expectations.map((e) => ({ line: e.range.start.line, ok: e.ok, message: e.message })),
    errors: r.errors.map(diagJson),
  };
}

export function reportText(rep: FileReport, r: RunResults, trace: boolean): string {
  const lines: string[] = [];
  const passed = rep.expectations.filter((e) => e.ok).length;
  lines.push(`${rep.file}: ${rep.ok ? 'ok' : 'FAILED'} (${rep.steps} statements, ${rep.operations} operations)`);
  if (trace) {
    for (const t of r.trace) lines.push(`  ${String(t.op).padStart(6)}  ${'  '.repeat(t.stack.length)}${t.text}`);
  }
  for (const u of rep.updates) {
    lines.push(`  line ${u.line}: ${u.target.toUpperCase()} ${hex(u.sid)}${u.ssid !== undefined ? ':' + hex(u.ssid) : ''} ${u.path}` +
      `${u.critical.length ? ` (critical qword${u.critical.length > 1 ? 's' : ''} ${u.critical.join(', ')})` : ''}, ${u.syncs} CMD_SYNC${u.syncs === 1 ? '' : 's'}`);
  }
  for (const d of rep.dma) {
    const out = d.result === 'fault' ? `fault ${d.event}` : d.result === 'abort' ? 'abort' : `${d.result === 'bypass' ? 'bypass ' : ''}→ ${d.pa}`;
    lines.push(`  line ${d.line}: ${d.traffic ? `traffic ${d.traffic} ` : ''}DMA ${d.access} SID ${hex(d.sid)}${d.ssid !== undefined ? ':' + hex(d.ssid) : ''} ${d.iova} ${out}`);
  }
  for (const h of rep.hazards) lines.push(`  ${rep.file}:${h.line}:${h.column}: ${h.severity}: hazard ${h.rule}${h.expected ? ' (expected)' : ''}: ${h.message}`);
  if (!rep.hazards.length) lines.push('  hazards: none');
  // The expectation's own file: it may be in an included one.
  for (const e of r.expectations) if (!e.ok) lines.push(`  ${e.range.file}:${e.range.start.line}: ${e.message}`);
  lines.push(`  expectations: ${passed} passed${rep.expectations.length - passed ? `, ${rep.expectations.length - passed} failed` : ''}`);
  for (const e of rep.errors) lines.push(`  ${e.file}:${e.line}:${e.column}: error: ${e.message}`);
  return lines.join('\n');
}

function limitOption(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} ${v}: expected a positive integer`);
  return n;
}

export function runCommand(args: string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true,
      options: {
        json: { type: 'boolean' }, trace: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        'no-check': { type: 'boolean' }, bound: { type: 'string' },
        'max-ops': { type: 'string' }, 'max-pages': { type: 'string' }, out: { type: 'string' }, root: { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${RUN_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(RUN_USAGE);
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError(`run needs at least one scenario file\n\n${RUN_USAGE}`);
  const limits: RunLimits = {
    maxOps: limitOption('max-ops', values['max-ops'], DEFAULT_LIMITS.maxOps),
    maxPages: limitOption('max-pages', values['max-pages'], DEFAULT_LIMITS.maxPages),
  };
  const reports: FileReport[] = [];
  const texts: string[] = [];
  // With --out the report goes to the file, diagnostics still to the terminal.
  const out = (t: string): void => void (values.out !== undefined ? texts.push(t) : io.out(t));
  let invalid = false;
  let failed = false;
  for (const file of positionals) {
    const text = nodeSourceHost.read(file);
    if (text === undefined) {
      io.err(`smmu-debug: cannot read ${file}`);
      invalid = true;
      continue;
    }
    const program = compileForSession(file, text, scenarioHost(file, values.root));
    if (hasErrors(program)) {
      for (const d of program.diagnostics) io.err(formatDiagnostic(d));
      invalid = true;
      continue;
    }
    for (const d of program.diagnostics) io.err(formatDiagnostic(d));
    const session = new Session(program, {
      limits, check: !values['no-check'], checkOptions: { bound: limitOption('bound', values.bound, DEFAULT_CHECK_OPTIONS.bound) },
    });
    const results = session.runner.runToEnd();
    const rep = report(program, session.runner, results, session.hazards);
    if (!rep.ok) failed = true;
    reports.push(rep);
    if (!values.json) out(reportText(rep, results, values.trace === true));
  }
  if (values.json) out(JSON.stringify(reports, null, 2));
  if (values.out !== undefined) writeReport(values.out, texts.join('\n'), positionals);
  return invalid ? EXIT_USAGE : failed ? EXIT_FAILED : EXIT_OK;
}
