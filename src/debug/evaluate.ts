/**
 * Expressions for the watch view, the debug console and hovers:
 *   ste[5]  ste[5].s1ctxptr  cd[5][0]  cd[5][0].asid  CR0  CR0.SMMUEN
 *   walk(5, 0, 0x1000)  pte(5, 0x1000)  cpu(0x4000)  poc(0x4000)  smmu(0x4000)
 *   decode ste 0x… 0x…   hazards   ste[5].Config == 5 && CMDQ_PROD >= 6
 * and any scenario expression (constants, regions, domains, ste_addr(…), arithmetic).
 */
import { decode, hex } from '../arch/codec';
import { CD } from '../arch/cd';
import type { Layout } from '../arch/field';
import { STE } from '../arch/ste';
import { decodeText } from '../arch';
import { registerByName } from '../arch/registers';
import { cdAddress, read64, steAddress } from '../model/locate';
import type { Machine } from '../model/machine';
import { evaluate } from '../scenario/expr';
import type { Env } from '../scenario/expr';
import { parseExpression } from '../scenario/parser';
import { Var, cdVar, fieldLookup, fieldVars, pocRead64, steVar } from './variables';
import type { Hazard } from '../check/checker';

export interface EvalContext {
  readonly machine: Machine;
  readonly env: Env;
  readonly hazards: readonly Hazard[];
}

export type EvalResult = { readonly value: string; readonly var?: Var; readonly memoryReference?: string } | { readonly error: string };

/** Split at the commas outside parentheses and brackets: `5, pte_addr(d1, IOVA, 3)` is two arguments. */
function splitArgs(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts.map((p) => p.trim());
}

/** The comma-separated arguments ("5, IOVA + 0x10"), each a scenario expression, evaluated one by one. */
function numbers(text: string, cx: EvalContext): bigint[] | string {
  const out: bigint[] = [];
  const parts = splitArgs(text);
  if (parts.length === 1 && parts[0] === '') return out;
  for (const part of parts) {
    const p = parseExpression(part);
    if ('error' in p) return `'${part}': ${p.error}`;
    try {
      out.push(evaluate(p.expr, cx.env));
    } catch (e) {
      return (e as Error).message;
    }
  }
  return out;
}

/** Exactly one argument (`ste[5]`, `cpu(ADDR)`). */
function one(text: string, cx: EvalContext, what: string): bigint | string {
  const v = numbers(text, cx);
  if (typeof v === 'string') return v;
  if (v.length !== 1) return `${what} takes one argument, not ${v.length}`;
  return v[0];
}

/** The address of `cpu(ADDR)`, `poc(ADDR)`, `smmu(ADDR)`: one aligned qword of the physical address space. */
function qwordAddress(view: string, text: string, cx: EvalContext): number | string {
  const a = one(text, cx, `${view}(ADDR)`);
  if (typeof a === 'string') return a;
  if (a < 0n || a > 2n ** 52n - 8n) return `${view}(${hex(a)}): outside the 52-bit physical address space`;
  if (a % 8n !== 0n) return `${view}(${hex(a)}): the address must be 8-byte aligned`;
  return Number(a);
}

/** A field of an entry or register, by its architecture or kernel name (`S1ContextPtr`, `s1ctxptr`). */
function fieldOf(v: Var, field: string): EvalResult {
  const f = v.field?.(field);
  return f ? { value: f.value, var: f } : { error: `${v.type ?? v.name} has no field '${field}'` };
}

// ---- conditions: comparisons and logic over numbers, for breakpoint conditions and watches ----

const LOGIC = ['||', '&&'] as const;
const COMPARE = ['==', '!=', '<=', '>=', '<', '>'] as const;

/**
 * The last occurrence of one of `ops` outside brackets (so `a - b - c` style chains group
 * to the left); `<` and `>` are not taken from `<<`, `>>`, `<=`, `>=` or `->`.
 */
function splitTop(text: string, ops: readonly string[]): [string, string, string] | undefined {
  let depth = 0;
  let found: [number, string] | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    if (depth !== 0) continue;
    for (const op of ops) {
      if (!text.startsWith(op, i)) continue;
      const before = text[i - 1];
      const after = text[i + op.length];
      if ((op === '<' || op === '>') && (after === '<' || after === '>' || after === '=' || before === '<' || before === '>' || before === '-')) continue;
      if (op === '==' && before === '=') continue;
      found = [i, op];
      i += op.length - 1;
      break;
    }
  }
  if (!found) return undefined;
  const [i, op] = found;
  return [text.slice(0, i).trim(), op, text.slice(i + op.length).trim()];
}

type Num = { readonly value: bigint } | { readonly error: string };

/** A field's raw value from an entry or register: `ste[5].Config`, `CR0.SMMUEN`. */
function fieldNumber(layout: Layout, words: readonly bigint[], field: string, cx: EvalContext): Num {
  const f = decode(layout, words, cx.machine.smmu.ctx).field(field);
  return f ? { value: f.raw } : { error: `${layout.title} has no field '${field}'` };
}

/** The number an operand stands for: a qword of memory, a field, a register, or a scenario expression. */
function numberOf(text: string, cx: EvalContext): Num {
  const m = cx.machine;
  let match: RegExpExecArray | null;
  if ((match = /^(cpu|poc|smmu)\s*\((.*)\)$/i.exec(text))) {
    const addr = qwordAddress(match[1], match[2], cx);
    if (typeof addr === 'string') return { error: addr };
    const view = match[1].toLowerCase();
    return { value: view === 'poc' ? pocRead64(m, addr) : read64(m, addr, view as 'cpu' | 'smmu') };
  }
  if ((match = /^ste\s*\[(.+?)\]\s*\.(\w+)$/i.exec(text))) {
    const sid = one(match[1], cx, 'ste[SID]');
    if (typeof sid === 'string') return { error: sid };
    const at = steAddress(m, Number(sid));
    if ('error' in at) return at;
    return fieldNumber(STE, Array.from({ length: 8 }, (_, i) => read64(m, at.addr + 8 * i, 'cpu')), match[2], cx);
  }
  if ((match = /^cd\s*\[(.+?)\]\s*\[(.+?)\]\s*\.(\w+)$/i.exec(text))) {
    const sid = one(match[1], cx, 'cd[SID]');
    const ssid = one(match[2], cx, 'cd[SID][SSID]');
    if (typeof sid === 'string') return { error: sid };
    if (typeof ssid === 'string') return { error: ssid };
    const at = cdAddress(m, Number(sid), Number(ssid));
    if ('error' in at) return at;
    return fieldNumber(CD, Array.from({ length: 8 }, (_, i) => read64(m, at.addr + 8 * i, 'cpu')), match[3], cx);
  }
  if ((match = /^(\w+)(?:\.(\w+))?$/.exec(text)) && registerByName(match[1])) {
    const r = registerByName(match[1])!;
    const v = m.smmu.read(r.name);
    return match[2] ? fieldNumber(r, [v], match[2], cx) : { value: v };
  }
  const p = parseExpression(text);
  if ('error' in p) return { error: `'${text}': ${p.error}` };
  try {
    return { value: evaluate(p.expr, cx.env) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The operand forms `numberOf` reads beyond scenario expressions (their arguments are checked when evaluated). */
const OPERAND_FORMS = [/^(cpu|poc|smmu)\s*\(.*\)$/i, /^ste\s*\[.+?\]\s*\.\w+$/i, /^cd\s*\[.+?\]\s*\[.+?\]\s*\.\w+$/i];

/**
 * Why a condition cannot be one, judged on its text alone (undefined when it can): a bad
 * operand or a missing side of a comparison. Names are only known when it is evaluated.
 */
export function conditionError(text: string): string | undefined {
  const t = text.trim();
  if (!t) return 'empty condition';
  for (const op of LOGIC) {
    const parts = splitTop(t, [op]);
    if (parts) return conditionError(parts[0]) ?? conditionError(parts[2]);
  }
  const cmp = splitTop(t, COMPARE);
  for (const side of cmp ? [cmp[0], cmp[2]] : [t]) {
    if (!side) return `'${cmp![1]}' needs a value on each side`;
    const reg = /^(\w+)(?:\.\w+)?$/.exec(side);
    if (OPERAND_FORMS.some((f) => f.test(side)) || (reg && registerByName(reg[1]))) continue;
    const p = parseExpression(side);
    if ('error' in p) return `'${side}': ${p.error}`;
  }
  return undefined;
}

/**
 * A condition: comparisons (`== != < <= > >=`) joined by `&&` and `||`, each side a number
 * as `numberOf` reads it; a lone operand is true when not zero.
 */
export function evaluateCondition(text: string, cx: EvalContext): { readonly value: boolean } | { readonly error: string } {
  const t = text.trim();
  if (!t) return { error: 'empty condition' };
  for (const op of LOGIC) {
    const parts = splitTop(t, [op]);
    if (!parts) continue;
    const a = evaluateCondition(parts[0], cx);
    if ('error' in a) return a;
    if (op === '||' ? a.value : !a.value) return a;
    return evaluateCondition(parts[2], cx);
  }
  const cmp = splitTop(t, COMPARE);
  if (!cmp) {
    const n = numberOf(t, cx);
    return 'error' in n ? n : { value: n.value !== 0n };
  }
  const a = numberOf(cmp[0], cx);
  if ('error' in a) return a;
  const b = numberOf(cmp[2], cx);
  if ('error' in b) return b;
  const x = a.value;
  const y = b.value;
  const r = { '==': x === y, '!=': x !== y, '<=': x <= y, '>=': x >= y, '<': x < y, '>': x > y }[cmp[1] as typeof COMPARE[number]];
  return { value: r };
}

export function evaluateDebug(text: string, cx: EvalContext): EvalResult {
  const t = text.trim();
  const m = cx.machine;
  let match: RegExpExecArray | null;

  if (splitTop(t, [...LOGIC, ...COMPARE]) && !/^decode\s/i.test(t)) {
    const c = evaluateCondition(t, cx);
    return 'error' in c ? c : { value: String(c.value) };
  }

  if ((match = /^decode\s+(\w+)\s+(.+)$/i.exec(t))) {
    const [, kind, rest] = match;
    let register: string | undefined;
    let hexText = rest;
    if (kind.toLowerCase() === 'reg') {
      const sp = rest.trim().split(/\s+/);
      register = sp[0];
      hexText = sp.slice(1).join(' ');
    }
    try {
      const d = decodeText(kind, [hexText], { register });
      return { value: d.summary, var: { name: d.layout.title, value: d.summary, children: { get: () => fieldVars(d) } } };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }
  if (t === 'hazards') {
    return {
      value: `${cx.hazards.length} hazard${cx.hazards.length === 1 ? '' : 's'}`,
      var: { name: 'hazards', value: '', children: { get: () => cx.hazards.map((h, i) => ({ name: `[${i}] ${h.rule}`, value: h.message })) } },
    };
  }
  if ((match = /^ste\s*\[(.+?)\]\s*(?:\.(\w+))?$/i.exec(t))) {
    const sid = one(match[1], cx, 'ste[SID]');
    if (typeof sid === 'string') return { error: sid };
    const at = steAddress(m, Number(sid));
    if ('error' in at) return { error: at.error };
    const v = steVar(m, Number(sid), at.addr);
    return match[2] ? fieldOf(v, match[2]) : { value: v.value, var: v, memoryReference: v.memoryReference };
  }
  if ((match = /^cd\s*\[(.+?)\]\s*\[(.+?)\]\s*(?:\.(\w+))?$/i.exec(t))) {
    const sid = one(match[1], cx, 'cd[SID]');
    const ssid = one(match[2], cx, 'cd[SID][SSID]');
    if (typeof sid === 'string') return { error: sid };
    if (typeof ssid === 'string') return { error: ssid };
    const at = cdAddress(m, Number(sid), Number(ssid));
    if ('error' in at) return { error: at.error };
    const v = cdVar(m, Number(sid), Number(ssid), at.addr);
    return match[3] ? fieldOf(v, match[3]) : { value: v.value, var: v, memoryReference: v.memoryReference };
  }
  if ((match = /^(walk|pte)\s*\((.*)\)$/i.exec(t))) {
    const args = numbers(match[2], cx);
    if (typeof args === 'string') return { error: args };
    if (args.length < 2 || args.length > 3) return { error: `${match[1]}(SID, [SSID,] IOVA) takes 2 or 3 arguments` };
    const [sid, ssid, iova] = args.length === 3 ? args : [args[0], undefined, args[1]];
    const tx = { sid: Number(sid), ssid: ssid === undefined ? undefined : Number(ssid), iova: iova!, access: 'read' as const, priv: false };
    // A probe: fetches afresh from memory as the SMMU sees it, touches no cache, records no event.
    const r = m.smmu.probe(tx, new Map());
    if (match[1].toLowerCase() === 'pte') {
      const leaf = r.walk[r.walk.length - 1];
      if (!leaf) return { error: `no walk: ${r.reason}` };
      return { value: `${hex(leaf.desc, 16)} (stage ${leaf.stage} level ${leaf.level} ${leaf.type}) at ${hex(leaf.descAddr)}`, memoryReference: `smmu:${hex(leaf.descAddr)}` };
    }
    const value = r.outcome === 'fault' ? `${r.event?.name}: ${r.reason}` : `${r.outcome}${r.pa !== undefined ? ' → ' + hex(r.pa) : ''}`;
    return {
      value,
      var: {
        name: 'walk', value, children: {
          get: () => [
            ...r.config.map((c) => ({ name: c.what.toUpperCase(), value: `at ${hex(c.addr)}: ${c.words.map((w) => hex(w)).join(' ')}`, memoryReference: `smmu:${hex(c.addr)}` })),
            ...r.walk.map((w) => ({ name: `stage ${w.stage} level ${w.level}`, value: `${hex(w.desc, 16)} at ${hex(w.descAddr)} (${w.type})`, memoryReference: `smmu:${hex(w.descAddr)}` })),
          ],
        },
      },
    };
  }
  if ((match = /^(cpu|poc|smmu)\s*\((.*)\)$/i.exec(t))) {
    const addr = qwordAddress(match[1], match[2], cx);
    if (typeof addr === 'string') return { error: addr };
    const view = match[1].toLowerCase();
    const v = view === 'poc' ? pocRead64(m, addr) : read64(m, addr, view as 'cpu' | 'smmu');
    return { value: hex(v, 16), memoryReference: `${view}:${hex(addr)}` };
  }
  if ((match = /^(\w+)(?:\.(\w+))?$/.exec(t)) && registerByName(match[1])) {
    const r = registerByName(match[1])!;
    const d = decode(r, [m.smmu.read(r.name)], m.smmu.ctx);
    const v: Var = { name: r.name, value: `${hex(d.words[0], r.wordBits / 4)}  ${d.summary}`, type: r.title, children: { get: () => fieldVars(d, r.name) }, field: fieldLookup(d, r.name) };
    return match[2] ? fieldOf(v, match[2]) : { value: v.value, var: v };
  }
  const p = parseExpression(t);
  if ('error' in p) return { error: p.error };
  try {
    const v = evaluate(p.expr, cx.env);
    return { value: `${hex(v)} (${v})` };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Completion items for the debug console. */
export const COMPLETIONS: readonly { label: string; detail: string }[] = [
  { label: 'ste[', detail: 'ste[SID] — the STE of a StreamID, decoded' },
  { label: 'cd[', detail: 'cd[SID][SSID] — a CD, decoded' },
  { label: 'walk(', detail: 'walk(SID, SSID, IOVA) — what the SMMU would do, fetched afresh' },
  { label: 'pte(', detail: 'pte(SID, IOVA) — the leaf descriptor of a walk' },
  { label: 'cpu(', detail: 'cpu(ADDR) — a qword as the CPU sees it' },
  { label: 'poc(', detail: 'poc(ADDR) — a qword at the Point of Coherency' },
  { label: 'smmu(', detail: 'smmu(ADDR) — a qword as the SMMU would read it now' },
  { label: 'decode ', detail: 'decode KIND HEX... — ste, cd, l1std, l1cd, pte, cmd, event, pri, reg NAME' },
  { label: 'hazards', detail: 'the hazards found so far' },
];

