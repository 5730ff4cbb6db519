/**
 * What the compiler knows while it goes through a file: the platform being described,
 * the names defined so far (for "unknown name — did you mean" at compile time), and the
 * diagnostics. Plus the accessors statement compilers use to read their arguments.
 */
import { didYouMean } from '../arch/suggest';
import { Arg, Expr, Statement, StreamRef } from './ast';
import { Diagnostic, Range, ScenarioError } from './diagnostics';
import { Env, evaluate, evaluateNumber, namesIn } from './expr';
import { PlatformConfig } from '../model/machine';
import type { SourceHost } from './compiler';

export type NameKind = 'constant' | 'region' | 'domain' | 'traffic';

export const FUNCTIONS: Readonly<Record<string, string>> = {
  ste_addr: 'ste_addr(SID): the address of a StreamID\'s STE',
  cd_addr: 'cd_addr(SID, SSID): the address of a CD of a stream with stage 1',
  pte_addr: 'pte_addr(DOMAIN, IOVA, LEVEL): the address of the descriptor a walk reads at LEVEL',
  cmdq_slot: 'cmdq_slot(N): the address of command queue entry N',
};

export class CompileContext {
  readonly diagnostics: Diagnostic[] = [];
  private readonly names = new Map<string, { kind: NameKind; range: Range }>();
  /** True once a statement that uses the machine has been seen (platform settings must come first). */
  machineUsed = false;
  platform: PlatformConfig;
  /** The memory model the hazard checker assumes. */
  memoryModel: 'weak' | 'ordered' = 'weak';
  /** Hazard rule ids, when the host has a checker (for `expect hazard` names). */
  hazardRules?: readonly string[];
  /** The file being compiled, and how to reach files relative to it (`load`). */
  file = '';
  host?: SourceHost;

  constructor(platform: PlatformConfig) {
    this.platform = platform;
  }

  error(range: Range, message: string, suggestion?: string): void {
    this.diagnostics.push({ range, severity: 'error', message, suggestion });
  }

  warning(range: Range, message: string): void {
    this.diagnostics.push({ range, severity: 'warning', message });
  }

  define(name: string, kind: NameKind, range: Range): void {
    const prev = this.names.get(name);
    if (prev && (prev.kind !== kind || kind === 'constant' || kind === 'domain')) {
      this.error(range, `'${name}' is already defined as a ${prev.kind} at line ${prev.range.start.line}; choose another name`);
      return;
    }
    this.names.set(name, { kind, range });
  }

  kindOf(name: string): NameKind | undefined {
    return this.names.get(name)?.kind;
  }

  /** Report names in an expression that nothing defines before this statement. */
  checkNames(e: Expr): void {
    for (const n of namesIn(e)) {
      if (n.call) {
        if (!FUNCTIONS[n.name]) this.error(n.range, `unknown function '${n.name}'${didYouMean(n.name, Object.keys(FUNCTIONS))}; functions: ${Object.keys(FUNCTIONS).join(', ')}`);
      } else if (!this.names.has(n.name)) {
        this.error(n.range, `unknown name '${n.name}'${didYouMean(n.name, [...this.names.keys()])}: define it first (const, alloc, domain)`);
      }
    }
  }

  requireKind(name: string, kind: NameKind, range: Range): void {
    const k = this.names.get(name)?.kind;
    if (k === kind) return;
    const same = [...this.names].filter(([, v]) => v.kind === kind).map(([n]) => n);
    this.error(range, k ? `'${name}' is a ${k}, not a ${kind}` : `unknown ${kind} '${name}'${didYouMean(name, same)}` +
      (same.length ? `; ${kind}s: ${same.join(', ')}` : `; define it first`));
  }
}

// ---- reading a statement's arguments (the parser has checked their kinds) --------------

export function arg(st: Statement, name: string): Arg | undefined {
  return st.args.get(name) ?? st.options.get(name);
}

export function exprArg(st: Statement, name: string): Expr | undefined {
  const a = arg(st, name);
  return a?.value.kind === 'expr' ? a.value.expr : undefined;
}

export function wordArg(st: Statement, name: string): string | undefined {
  const a = arg(st, name);
  return a?.value.kind === 'word' ? a.value.word : undefined;
}

export function streamArg(st: Statement, name: string): StreamRef | undefined {
  const a = arg(st, name);
  return a?.value.kind === 'stream' ? a.value.stream : undefined;
}

export function listArg(st: Statement, name: string): readonly Expr[] | undefined {
  const a = arg(st, name);
  if (a?.value.kind === 'list') return a.value.items;
  if (a?.value.kind === 'expr') return [a.value.expr];
  return undefined;
}

export function boolOption(st: Statement, name: string): boolean | undefined {
  const w = wordArg(st, name);
  return w === undefined ? undefined : ['yes', 'true', 'on'].includes(w);
}

/** Evaluate an expression that must be known when compiling (platform settings). */
export function constant(cx: CompileContext, e: Expr, what: string, min: number, max: number): number | undefined {
  try {
    const v = evaluate(e, COMPILE_ENV);
    if (v < BigInt(min) || v > BigInt(max)) {
      cx.error(e.range, `${what} ${v} is out of range: expected ${min}..${max}`);
      return undefined;
    }
    return Number(v);
  } catch (err) {
    if (err instanceof ScenarioError) cx.error(err.range, `${what} must be a number known before the scenario runs: ${err.message}`);
    else throw err;
    return undefined;
  }
}

const COMPILE_ENV: Env = {
  constant: () => undefined,
  region: () => undefined,
  domain: () => undefined,
  fn: () => undefined,
  names: () => [],
};

export { evaluate, evaluateNumber };
