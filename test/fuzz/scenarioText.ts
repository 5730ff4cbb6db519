/**
 * Scenario text for the fuzz targets: random text from the language's vocabulary, random
 * sequences of real statement lines, and the bundled examples mutated token by token
 * (deleted, duplicated, swapped, numbers replaced, lines dropped or repeated, truncated).
 * Mutated examples mostly still compile, so they reach the runner and the checker.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { STATEMENTS } from '../../src/scenario/statements';

// Compiled to out/test/fuzz/: the repository root is three levels up.
export const ROOT = join(__dirname, '..', '..', '..');
const EXAMPLES_DIR = join(ROOT, 'examples');

export const EXAMPLES: readonly { name: string; text: string }[] = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.smmu')).sort()
  .map((name) => ({ name, text: readFileSync(join(EXAMPLES_DIR, name), 'utf8') }));

/** Every statement line of the examples and of the statement table's own examples. */
const LINES: readonly string[] = [...new Set([
  ...EXAMPLES.flatMap((e) => e.text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))),
  ...STATEMENTS.flatMap((s) => s.examples),
])];

const WORDS: readonly string[] = [...new Set([
  ...STATEMENTS.flatMap((s) => [...s.keyword.split(' '), ...Object.keys(s.options ?? {}), ...Object.keys(s.flags ?? {}),
    ...s.params.flatMap((p) => [...(p.words ?? []), ...(p.after ? [p.after] : [])]),
    ...Object.values(s.options ?? {}).flatMap((o) => o.words ?? [])]),
  'd1', 'g1', 'ste_addr', 'cd_addr', 'pte_addr', 'cmdq_slot', 'IOVA', 'yes', 'no',
])];

const OPS = ['=', '->', '<-', '==', ':', ',', '(', ')', '[', ']', '+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^', '~', '.', '\\\n', '#', '//', '"', '{', '}'];

/** Numbers as users write them, and the extremes. */
export const numberText = (): fc.Arbitrary<string> => fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => '0x' + n.toString(16)),
  fc.bigInt({ min: 0n, max: (1n << 200n) }).map((n) => n.toString()),
  fc.nat({ max: 4096 }).map(String),
  fc.integer({ min: 0, max: 63 }).map((b) => `0x${(1n << BigInt(b)).toString(16)}`),
  fc.tuple(fc.nat({ max: 2048 }), fc.constantFrom('K', 'M', 'G', 'T', 'k', 'P')).map(([n, s]) => `${n}${s}`),
  fc.constantFrom('0', '-1', '0x', '0b102', '1_000', '0x_', '9999999999999999999999', '0xffff_ffff_ffff_ffff', '1e3', '0.5', '2^64'),
);

const token = (): fc.Arbitrary<string> => fc.oneof(
  { arbitrary: fc.constantFrom(...WORDS), weight: 4 },
  { arbitrary: numberText(), weight: 3 },
  { arbitrary: fc.constantFrom(...OPS), weight: 2 },
  { arbitrary: fc.string({ maxLength: 6 }).map((s) => `"${s}"`), weight: 1 },
  { arbitrary: fc.string({ maxLength: 4 }), weight: 1 },
);

/** Text built from the language's words, numbers and operators. */
export const randomText = (): fc.Arbitrary<string> => fc.array(fc.tuple(token(), fc.constantFrom(' ', ' ', ' ', '\n', '', '\t', '\r\n')), { maxLength: 60 })
  .map((ts) => ts.map(([t, s]) => t + s).join(''));

/** Real statement lines in random order (names used before they are defined, repeated definitions...). */
export const lineSoup = (): fc.Arbitrary<string> => fc.array(fc.constantFrom(...LINES), { minLength: 1, maxLength: 25 }).map((ls) => ls.join('\n'));

type Mutation =
  | { kind: 'delete' | 'duplicate' | 'number' | 'insert'; at: number; text?: string }
  | { kind: 'swap'; at: number; other: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'line-delete' | 'line-duplicate'; at: number }
  | { kind: 'line-swap'; at: number; other: number }
  | { kind: 'line-replace'; at: number; text: string };

const mutation = (): fc.Arbitrary<Mutation> => fc.oneof(
  fc.record({ kind: fc.constantFrom('delete' as const, 'duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('number' as const), at: fc.nat(), text: numberText() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: token() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom('line-delete' as const, 'line-duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('line-swap' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('line-replace' as const), at: fc.nat(), text: fc.constantFrom(...LINES) }),
);

const TOKEN = /\s+|#[^\n]*|[A-Za-z_][\w.]*|0[xXbB][\w]*|\d[\w]*|"(?:[^"\\\n]|\\.)*"|->|<-|==|<<|>>|./g;

/** Apply one mutation to the text. */
export function mutate(text: string, m: Mutation): string {
  if (m.kind.startsWith('line')) {
    const lines = text.split('\n');
    const i = m.at % lines.length;
    if (m.kind === 'line-delete') lines.splice(i, 1);
    else if (m.kind === 'line-duplicate') lines.splice(i, 0, lines[i]);
    else if (m.kind === 'line-replace') lines[i] = (m as { text: string }).text;
    else {
      const j = (m as { other: number }).other % lines.length;
      [lines[i], lines[j]] = [lines[j], lines[i]];
    }
    return lines.join('\n');
  }
  if (m.kind === 'truncate') return text.slice(0, m.at % (text.length + 1));
  const tokens = text.match(TOKEN) ?? [];
  // Only tokens that carry meaning are picked (not spaces and comments).
  const meaningful = tokens.map((t, i) => [t, i] as const).filter(([t]) => !/^\s|^#/.test(t)).map(([, i]) => i);
  if (meaningful.length === 0) return text;
  const i = meaningful[m.at % meaningful.length];
  switch (m.kind) {
    case 'delete': tokens.splice(i, 1); break;
    case 'duplicate': tokens.splice(i, 0, tokens[i], ' '); break;
    case 'insert': tokens.splice(i, 0, m.text!, ' '); break;
    case 'number': {
      const nums = meaningful.filter((k) => /^\d|^0[xXbB]/.test(tokens[k]));
      if (nums.length) tokens[nums[m.at % nums.length]] = m.text!;
      break;
    }
    case 'swap': {
      const j = meaningful[m.other % meaningful.length];
      [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
      break;
    }
  }
  return tokens.join('');
}

/** An example with a few mutations applied. */
export const mutatedExample = (maxMutations = 4): fc.Arbitrary<{ name: string; text: string }> => fc.tuple(
  fc.nat({ max: EXAMPLES.length - 1 }), fc.array(mutation(), { minLength: 1, maxLength: maxMutations }),
).map(([e, ms]) => ({ name: EXAMPLES[e].name, text: ms.reduce(mutate, EXAMPLES[e].text) }));

/** Any of the above, named as a file would be. */
export const scenarioText = (): fc.Arbitrary<{ name: string; text: string }> => fc.oneof(
  { arbitrary: mutatedExample(), weight: 4 },
  { arbitrary: lineSoup().map((text) => ({ name: 'soup.smmu', text })), weight: 2 },
  { arbitrary: randomText().map((text) => ({ name: 'random.smmu', text })), weight: 2 },
  { arbitrary: fc.string({ maxLength: 200, unit: 'binary' }).map((text) => ({ name: 'binary.smmu', text })), weight: 1 },
  // One token over and over: deep nesting, long lines, many statements.
  { arbitrary: fc.tuple(fc.constantFrom('inval ', 'store x ', 'const A = ', ''), token(), fc.integer({ min: 100, max: 3000 }))
    .map(([head, t, n]) => ({ name: 'repeat.smmu', text: head + t.repeat(n) })), weight: 1 },
);
