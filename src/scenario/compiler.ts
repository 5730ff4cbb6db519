/**
 * From scenario text to a program: parse against the statement table, resolve includes,
 * compile each statement to a step. Every problem is a located diagnostic; a program
 * with error diagnostics must not be run.
 */
import type { ByteSource } from '../dump/source';
import { DEFAULT_PLATFORM, PlatformConfig } from '../model/machine';
import { CompileContext } from './compile-context';
import { Diagnostic } from './diagnostics';
import { parse, StatementTable } from './parser';
import { Program, Step } from './program';
import { StatementDef } from './statements/def';
import { STATEMENTS } from './statements';

/** How the compiler reads included files (the CLI and the extension provide it; the engine has no file system). */
export interface SourceHost {
  /** The text of a file, or undefined when it cannot be read. */
  read(path: string): string | undefined;
  /** A path relative to the including file. */
  resolve(from: string, relative: string): string;
  /** Whether a path may be included (e.g. inside the workspace); a reason when not. */
  allowed?(path: string): string | undefined;
  /** A binary file (a memory dump for `load`) for positional reads, undefined when it does not exist; throws a DumpError saying why when it cannot be opened. */
  readBinary?(path: string): ByteSource | undefined;
  /**
   * Compiling to check only (the editor's problems): without readBinary, `load` checks its
   * arguments and does not open the dump, instead of reporting that it cannot.
   */
  readonly checkOnly?: boolean;
}

export const NO_INCLUDES: SourceHost = {
  read: () => undefined,
  resolve: (_from, rel) => rel,
  allowed: () => 'includes are not available here',
};

export const TABLE = new StatementTable(STATEMENTS);
const DEFS = new Map<string, StatementDef>(STATEMENTS.map((s) => [s.keyword, s]));

const MAX_INCLUDE_DEPTH = 16;

export interface CompileOptions {
  readonly platform?: PlatformConfig;
  /** The checker's rule ids, so `expect hazard NAME` is checked when compiling. */
  readonly hazardRules?: readonly string[];
}

export function compileScenario(file: string, text: string, host: SourceHost = NO_INCLUDES, opts: CompileOptions = {}): Program {
  const cx = new CompileContext(opts.platform ?? DEFAULT_PLATFORM);
  cx.hazardRules = opts.hazardRules;
  cx.host = host;
  const steps: Step[] = [];
  const sources = new Map<string, string>();
  const diagnostics: Diagnostic[] = cx.diagnostics;

  const compileFile = (path: string, source: string, stack: string[]): void => {
    sources.set(path, source);
    cx.file = path;
    const nul = source.indexOf('\0');
    if (nul >= 0) {
      // A memory dump (or any binary file) given as a scenario: one error, not one per byte.
      const before = source.slice(0, nul);
      const at = { line: before.split('\n').length, col: nul - before.lastIndexOf('\n') };
      cx.error({ file: path, start: at, end: at }, 'this is not a scenario but binary data (a NUL byte here); a memory dump is loaded with ' +
        '`load core="FILE"` or looked at with `smmu-debug inspect`');
      return;
    }
    const parsed = parse(source, path, TABLE);
    // Not push(...): a long file's diagnostics would overflow the argument list.
    for (const d of parsed.diagnostics) diagnostics.push(d);
    for (const st of parsed.statements) {
      if (st.keyword === 'include') {
        const a = st.args.get('path')!;
        const rel = a.value.kind === 'string' ? a.value.text : '';
        const target = host.resolve(path, rel);
        const denied = host.allowed?.(target);
        if (denied) {
          cx.error(a.range, `cannot include "${rel}": ${denied}`);
          continue;
        }
        if (stack.includes(target)) {
          cx.error(a.range, `"${rel}" includes itself (${[...stack, target].join(' → ')}); remove the cycle`);
          continue;
        }
        if (stack.length >= MAX_INCLUDE_DEPTH) {
          cx.error(a.range, `includes nest deeper than ${MAX_INCLUDE_DEPTH} files`);
          continue;
        }
        const included = host.read(target);
        if (included === undefined) {
          cx.error(a.range, `cannot read "${rel}" (resolved to ${target}); the path is relative to this file`);
          continue;
        }
        compileFile(target, included, [...stack, target]);
        cx.file = path;
        continue;
      }
      const def = DEFS.get(st.keyword)!;
      const compiled = def.compile(st, cx);
      if (compiled) {
        steps.push({ index: steps.length, range: st.range, text: st.text, keyword: st.keyword, action: compiled.action, run: compiled.run });
      }
    }
  };

  compileFile(file, text, [file]);
  diagnostics.sort((a, b) => (a.range.file === b.range.file ? 0 : a.range.file < b.range.file ? -1 : 1) ||
    a.range.start.line - b.range.start.line || a.range.start.col - b.range.start.col);
  return { file, platform: cx.platform, memoryModel: cx.memoryModel, steps, diagnostics, sources };
}

export function hasErrors(p: Program): boolean {
  return p.diagnostics.some((d) => d.severity === 'error');
}
