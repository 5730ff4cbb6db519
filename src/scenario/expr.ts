/**
 * Evaluating expressions while a scenario runs: numbers, constants, region names (their
 * base address; `.size`, `.end`), domains (`.pgd`), and a few functions that locate
 * structures (`ste_addr(sid)`, `cd_addr(sid, ssid)`, `pte_addr(domain, iova, level)`).
 */
import { didYouMean } from '../arch/suggest';
import { Expr } from './ast';
import { Range, ScenarioError } from './diagnostics';

/** What names mean at run time. */
export interface Env {
  constant(name: string): bigint | undefined;
  region(name: string): { base: number; size: number } | undefined;
  domain(name: string): { pgd: number } | undefined;
  /** A function by name; undefined when unknown. */
  fn(name: string): ((args: bigint[], range: Range) => bigint) | undefined;
  /** Every name in scope, for suggestions. */
  names(): string[];
}

const BIN: Record<string, (a: bigint, b: bigint) => bigint> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '<<': (a, b) => a << b,
  '>>': (a, b) => a >> b,
  '&': (a, b) => a & b,
  '|': (a, b) => a | b,
  '^': (a, b) => a ^ b,
};

export function evaluate(e: Expr, env: Env): bigint {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'name': {
      const c = env.constant(e.name);
      if (c !== undefined) return c;
      const r = env.region(e.name);
      if (r) return BigInt(r.base);
      const d = env.domain(e.name);
      if (d) return BigInt(d.pgd);
      throw new ScenarioError(e.range, `unknown name '${e.name}'${didYouMean(e.name, env.names())}: expected a constant, a region or a domain`);
    }
    case 'member': {
      if (e.object.kind === 'name') {
        const r = env.region(e.object.name);
        if (r) {
          if (e.field === 'base') return BigInt(r.base);
          if (e.field === 'size') return BigInt(r.size);
          if (e.field === 'end') return BigInt(r.base + r.size);
          throw new ScenarioError(e.range, `a region has base, size and end, not '${e.field}'${didYouMean(e.field, ['base', 'size', 'end'])}`);
        }
        const d = env.domain(e.object.name);
        if (d) {
          if (e.field === 'pgd') return BigInt(d.pgd);
          throw new ScenarioError(e.range, `a domain has pgd, not '${e.field}'`);
        }
      }
      throw new ScenarioError(e.range, `'.${e.field}' applies to a region or a domain name`);
    }
    case 'index':
      throw new ScenarioError(e.range, 'indexing is not supported in expressions');
    case 'unary': {
      const v = evaluate(e.operand, env);
      return e.op === '-' ? -v : ~v;
    }
    case 'binary': {
      const a = evaluate(e.left, env);
      const b = evaluate(e.right, env);
      if ((e.op === '/' || e.op === '%') && b === 0n) throw new ScenarioError(e.right.range, 'division by zero');
      if ((e.op === '<<' || e.op === '>>') && (b < 0n || b > 128n)) throw new ScenarioError(e.right.range, `shift by ${b}: expected 0..128`);
      return BIN[e.op](a, b);
    }
    case 'call': {
      const f = env.fn(e.fn);
      if (!f) throw new ScenarioError(e.range, `unknown function '${e.fn}'${didYouMean(e.fn, env.names())}`);
      return f(e.args.map((a) => evaluate(a, env)), e.range);
    }
  }
}

/** A value that must be a non-negative exact number below 2^53 (addresses, sizes, IDs). */
export function evaluateNumber(e: Expr, env: Env, what: string, max = 2 ** 53 - 1): number {
  const v = evaluate(e, env);
  if (v < 0n || v > BigInt(max)) {
    throw new ScenarioError(e.range, `${what} ${v < 0n ? v : '0x' + v.toString(16)} is out of range: expected 0..0x${max.toString(16)}`);
  }
  return Number(v);
}

/** Names an expression refers to (for compile-time checks). */
export function namesIn(e: Expr): { name: string; range: Range; call: boolean }[] {
  switch (e.kind) {
    case 'num':
      return [];
    case 'name':
      return [{ name: e.name, range: e.range, call: false }];
    case 'member':
      return namesIn(e.object);
    case 'index':
      return [...namesIn(e.object), ...namesIn(e.index)];
    case 'unary':
      return namesIn(e.operand);
    case 'binary':
      return [...namesIn(e.left), ...namesIn(e.right)];
    case 'call':
      return [{ name: e.fn, range: e.range, call: true }, ...e.args.flatMap(namesIn)];
  }
}
