/**
 * What a hex value in arbitrary text (a kernel log, C source, a dump) most likely is, for
 * hovers: the run of hex values under the cursor and the kinds it could be, most likely
 * first — from words around it ("ste", "cd", "pte", "cmd", "evt", register names) and
 * from how many values the run has.
 */
import { decode, Decoded } from './codec';
import { KINDS, KindOptions } from './index';
import { registerByName } from './registers';

export interface HexRun {
  /** Column range of the run in the line (0-based, end exclusive). */
  readonly start: number;
  readonly end: number;
  readonly words: bigint[];
}

export interface Guess {
  readonly kind: string;
  readonly opts: KindOptions;
  readonly decoded: Decoded;
  /** Why this kind: the context word or the count. */
  readonly why: string;
}

const HEX = /(?<![\w.])(?:0x)?[0-9a-f]{1,16}(?:_[0-9a-f]{1,16})*(?![\w.])/gi;

/** The run of hex values (separated by spaces, commas or colons) containing `column`. */
export function hexRunAt(line: string, column: number): HexRun | undefined {
  const tokens: { start: number; end: number; text: string }[] = [];
  for (const m of line.matchAll(HEX)) {
    const text = m[0];
    // A bare number needs hex letters or 8+ digits to count as hex, so "page 12" is not a value.
    if (!/^0x/i.test(text) && !/[a-f]/i.test(text) && text.replace(/_/g, '').length < 8) continue;
    tokens.push({ start: m.index!, end: m.index! + text.length, text });
  }
  const at = tokens.findIndex((t) => column >= t.start && column <= t.end);
  if (at < 0) return undefined;
  let first = at;
  let last = at;
  const sep = (a: { end: number }, b: { start: number }): boolean => /^[\s,:;]*$/.test(line.slice(a.end, b.start));
  while (first > 0 && sep(tokens[first - 1], tokens[first])) first--;
  while (last < tokens.length - 1 && sep(tokens[last], tokens[last + 1])) last++;
  const run = tokens.slice(first, last + 1);
  return { start: run[0].start, end: run[run.length - 1].end, words: run.map((t) => BigInt('0x' + t.text.replace(/^0x/i, '').replace(/_/g, ''))) };
}

interface Hint {
  readonly re: RegExp;
  readonly kind: string;
  readonly opts?: KindOptions;
}

const HINTS: readonly Hint[] = [
  { re: /\bl1_?std\b|\bl1[-_ ]?desc\b|\bstrtab_l1/i, kind: 'l1std' },
  { re: /\bl1_?cd\b/i, kind: 'l1cd' },
  { re: /\bste\b|\bstrtab\b|\bstream table entry\b/i, kind: 'ste' },
  { re: /\bcd\b|\bctx_?desc\b|\bcontext descriptor\b/i, kind: 'cd' },
  { re: /\biopte\b|\bptep?\b|\bpte\b|\bpgtable\b|\bdescriptor\b/i, kind: 'pte' },
  { re: /\bcmdq?\b|\bcommand\b/i, kind: 'cmd' },
  { re: /\bevtq?\b|\bevent\b/i, kind: 'event' },
  { re: /\bpriq\b|\bpri\b/i, kind: 'pri' },
];

function tryDecode(kind: string, words: bigint[], opts: KindOptions): Decoded | undefined {
  const k = KINDS.find((x) => x.kind === kind);
  if (!k) return undefined;
  try {
    if (words.length > k.words(opts)) return undefined;
    const layout = k.layout(words, opts);
    return decode(layout, words);
  } catch {
    return undefined;
  }
}

/**
 * Likely decodings of a run, given the text around it (the line and the one before).
 * Context words come first, then kinds whose size matches the count of values.
 */
export function guessDecodings(run: HexRun, context: string): Guess[] {
  const out: Guess[] = [];
  const seen = new Set<string>();
  const add = (kind: string, why: string, opts: KindOptions = {}): void => {
    const key = `${kind}:${opts.register ?? ''}`;
    if (seen.has(key)) return;
    const d = tryDecode(kind, run.words, opts);
    if (!d) return;
    seen.add(key);
    out.push({ kind, opts, decoded: d, why });
  };
  for (const m of context.matchAll(/\b(?:SMMU_)?([A-Z][A-Z0-9_]{2,})\b/g)) {
    if (registerByName(m[1]) && run.words.length === 1) add('reg', `register name ${m[1]}`, { register: m[1] });
  }
  // Identifiers such as ste_words or arm_smmu_cmdq_insert name their kind in one part.
  const parts = context.replace(/_/g, ' ');
  for (const h of HINTS) {
    const m = h.re.exec(context) ?? h.re.exec(parts);
    if (m) add(h.kind, `the word "${m[0]}"`, h.opts);
  }
  const n = run.words.length;
  const bySize: [string, string][] = n === 8 ? [['ste', '8 qwords'], ['cd', '8 qwords']]
    : n === 4 ? [['event', '4 qwords']]
      : n === 2 ? [['cmd', '2 qwords'], ['pri', '2 qwords']]
        : n === 1 ? [['pte', 'one qword'], ['ste', 'one qword (qword 0)'], ['cmd', 'one qword']] : [];
  for (const [k, why] of bySize) add(k, why);
  return out;
}
