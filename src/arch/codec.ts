/**
 * Decode, encode, validate and describe any structure from its field table alone.
 * There is no other decoder: the model, the debugger, the hover and the CLI all call these.
 */
import {
  ArchContext, bitRangeText, bitsInWord, EnumValue, FieldReader, FieldSpec,
  Layout, mask, Problem, wordOf,
} from './field';
import { didYouMean } from './suggest';

export interface DecodedField {
  readonly spec: FieldSpec;
  /** The word that holds the field. */
  readonly word: number;
  /** Bits as stored, shifted down to bit 0. */
  readonly raw: bigint;
  /** The field's value: the address for `address` fields, else `raw`. */
  readonly value: bigint;
  /** The enumerated value's name, when it has one. */
  readonly valueName?: string;
  /** The value as a person reads it: `0b101 S1_TRANS — stage 1 translate, stage 2 bypass`. */
  readonly text: string;
  /** False where the structure's own configuration makes the SMMU ignore the field. */
  readonly relevant: boolean;
}

export interface Decoded extends FieldReader {
  readonly layout: Layout;
  readonly fields: readonly DecodedField[];
  readonly problems: readonly Problem[];
  /** One line: what the structure does. */
  readonly summary: string;
  /** A field by name or alias (case-insensitive). */
  field(name: string): DecodedField | undefined;
}

/** An error in what the user asked to encode or look up; the message says what is right. */
export class FieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldError';
  }
}

const fieldIndexCache = new WeakMap<Layout, Map<string, FieldSpec>>();

function fieldIndex(layout: Layout): Map<string, FieldSpec> {
  let index = fieldIndexCache.get(layout);
  if (!index) {
    index = new Map();
    for (const f of layout.fields) {
      if (f.kind === 'reserved') continue;
      index.set(f.name.toLowerCase(), f);
      for (const a of f.aliases ?? []) index.set(a.toLowerCase(), f);
    }
    fieldIndexCache.set(layout, index);
  }
  return index;
}

/** Names as the rules spell them, looked up without lower-casing (rules ask by name many times per decode). */
const exactIndexCache = new WeakMap<Layout, Map<string, FieldSpec>>();

function exactIndex(layout: Layout): Map<string, FieldSpec> {
  let index = exactIndexCache.get(layout);
  if (!index) {
    index = new Map();
    for (const f of layout.fields) if (f.kind !== 'reserved') index.set(f.name, f);
    exactIndexCache.set(layout, index);
  }
  return index;
}

/** Where a field's bits are, as shifts and masks, worked out once per field. */
interface FieldAccess {
  readonly wordBits: number;
  readonly word: number;
  readonly shift: bigint;
  readonly mask: bigint;
}

const accessCache = new WeakMap<FieldSpec, FieldAccess>();

function access(layout: Layout, f: FieldSpec): FieldAccess {
  const a = accessCache.get(f);
  // A field is in one layout in practice; the word size is checked all the same.
  if (a && a.wordBits === layout.wordBits) return a;
  const made = { wordBits: layout.wordBits, word: wordOf(layout, f), shift: BigInt(bitsInWord(layout, f)[1]), mask: mask(f.hi - f.lo + 1) };
  accessCache.set(f, made);
  return made;
}

/** The named (non-reserved) fields' names, for completion and suggestions. */
export function fieldNames(layout: Layout): string[] {
  return layout.fields.filter((f) => f.kind !== 'reserved').map((f) => f.name);
}

/** A field by name or alias (case-insensitive), or undefined. */
export function findField(layout: Layout, name: string): FieldSpec | undefined {
  return exactIndex(layout).get(name) ?? fieldIndex(layout).get(name.toLowerCase());
}

/** A field by name or alias; throws a FieldError with a suggestion when there is none. */
export function requireField(layout: Layout, name: string): FieldSpec {
  const f = findField(layout, name);
  if (f) return f;
  const names = [...fieldIndex(layout).keys()];
  throw new FieldError(`${layout.title} has no field '${name}'${didYouMean(name, names)}`);
}

/** Words as the layout holds them: `layout.words` words, each cut to `wordBits`. */
export function normalizeWords(layout: Layout, words: readonly (bigint | number)[]): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < layout.words; i++) {
    const w = words[i];
    out.push(w === undefined ? 0n : BigInt.asUintN(layout.wordBits, BigInt(w)));
  }
  return out;
}

/** The bits of a field as stored, shifted down. */
export function rawField(layout: Layout, words: readonly bigint[], f: FieldSpec): bigint {
  const a = access(layout, f);
  return ((words[a.word] ?? 0n) >> a.shift) & a.mask;
}

/** A field's value: the address for `address` fields, the raw bits otherwise. */
export function fieldValue(layout: Layout, words: readonly bigint[], f: FieldSpec): bigint {
  const raw = rawField(layout, words, f);
  return f.kind === 'address' ? raw << access(layout, f).shift : raw;
}

function enumFor(f: FieldSpec, raw: bigint): EnumValue | undefined {
  if (!f.values) return undefined;
  const n = Number(raw);
  return f.values.find((v) => v.value === n);
}

export function hex(v: bigint | number, digits = 0): string {
  const s = BigInt(v).toString(16);
  return '0x' + (digits > s.length ? '0'.repeat(digits - s.length) + s : s);
}

function binary(v: bigint, width: number): string {
  return '0b' + v.toString(2).padStart(width, '0');
}

function valueText(layout: Layout, f: FieldSpec, raw: bigint, reader: FieldReader): string {
  const width = f.hi - f.lo + 1;
  const e = enumFor(f, raw);
  let text: string;
  if (f.kind === 'address') {
    text = hex(raw << BigInt(bitsInWord(layout, f)[1]));
  } else if (f.kind === 'enum') {
    const code = width > 1 ? binary(raw, width) : raw.toString();
    text = e ? `${code} ${e.name} — ${e.meaning}` : `${code} (reserved value)`;
  } else if (f.kind === 'reserved') {
    text = raw === 0n ? '0' : hex(raw);
  } else {
    text = raw < 10n ? raw.toString() : `${raw} (${hex(raw)})`;
    if (e) text += ` ${e.name} — ${e.meaning}`;
  }
  if (f.show) {
    const note = f.show(raw, reader);
    if (note) text += ` (${note})`;
  }
  return text;
}

/** Problems every table gets for free: reserved bits and reserved values. */
function genericProblems(d: Decoded): Problem[] {
  const problems: Problem[] = [];
  for (const df of d.fields) {
    const f = df.spec;
    const where = `${bitRangeText(f.hi, f.lo)}`;
    if (f.kind === 'reserved') {
      const kind = f.reserved ?? 'RES0';
      const ones = mask(f.hi - f.lo + 1);
      if (kind === 'RES0' && df.raw !== 0n) {
        problems.push({
          field: f.name, rule: 'res0', severity: 'warning',
          message: `bits ${where} are RES0 but hold ${hex(df.raw)}; software must write zero`,
        });
      } else if (kind === 'RES1' && df.raw !== ones) {
        problems.push({
          field: f.name, rule: 'res1', severity: 'warning',
          message: `bits ${where} are RES1 but hold ${hex(df.raw)}; software must write ones`,
        });
      }
      continue;
    }
    if (!df.relevant) continue;
    const e = enumFor(f, df.raw);
    if (f.kind === 'enum' && !e) {
      problems.push({
        field: f.name, rule: 'reserved-value', severity: 'error',
        message: `${f.name} ${where} = ${binary(df.raw, f.hi - f.lo + 1)} is not a defined value; ` +
          `expected one of ${f.values?.filter((v) => !v.reserved).map((v) => `${v.value} (${v.name})`).join(', ')}`,
      });
    } else if (e?.illegal) {
      problems.push({
        field: f.name, rule: 'illegal', severity: 'error',
        message: `${f.name} = ${e.name} is ILLEGAL: ${e.meaning}`,
      });
    } else if (e?.reserved) {
      problems.push({
        field: f.name, rule: 'reserved-value', severity: 'warning',
        message: `${f.name} = ${e.name} is reserved: ${e.meaning}`,
      });
    }
  }
  return problems;
}

function readerFor(layout: Layout, words: readonly bigint[], ctx: ArchContext): FieldReader {
  // The words never change under a reader, so each field is worked out once: the rules and
  // the relevance tests ask for the same few fields (Config, S1Fmt...) dozens of times.
  const seen = new Map<string, bigint>();
  const get = (name: string): bigint => {
    let v = seen.get(name);
    if (v === undefined) seen.set(name, (v = fieldValue(layout, words, requireField(layout, name))));
    return v;
  };
  return { words, ctx, get, num: (name: string) => Number(get(name)) };
}

const positionCache = new WeakMap<Layout, Map<FieldSpec, number>>();

/** The index of a field in its layout's list. */
function fieldPosition(layout: Layout, f: FieldSpec): number {
  let p = positionCache.get(layout);
  if (!p) positionCache.set(layout, (p = new Map(layout.fields.map((x, i) => [x, i]))));
  return p.get(f) ?? -1;
}

/** Decode words into named fields, with the problems found and a one-line summary. */
export function decode(layout: Layout, words: readonly (bigint | number)[], ctx: ArchContext = {}): Decoded {
  const w = normalizeWords(layout, words);
  const reader = readerFor(layout, w, ctx);
  const fields: DecodedField[] = layout.fields.map((f) => {
    const raw = rawField(layout, w, f);
    const e = enumFor(f, raw);
    return {
      spec: f,
      word: wordOf(layout, f),
      raw,
      value: f.kind === 'address' ? raw << access(layout, f).shift : raw,
      valueName: e?.name,
      text: valueText(layout, f, raw, reader),
      relevant: f.kind === 'reserved' || !f.relevant || f.relevant(reader),
    };
  });
  const problems: Problem[] = [];
  const decoded: Decoded = {
    ...reader,
    layout,
    fields,
    problems,
    summary: '',
    field: (name: string) => {
      const f = findField(layout, name);
      return f ? fields[fieldPosition(layout, f)] : undefined;
    },
  };
  problems.push(...genericProblems(decoded));
  for (const rule of layout.rules ?? []) {
    const r = rule.check(reader);
    if (r === undefined) continue;
    if (Array.isArray(r)) problems.push(...(r as readonly Problem[]));
    else problems.push(r as Problem);
  }
  return { ...decoded, summary: layout.summary ? layout.summary(reader) : layout.title };
}

/** The problems of a structure (reserved bits, reserved values, the table's rules). */
export function validate(layout: Layout, words: readonly (bigint | number)[], ctx: ArchContext = {}): readonly Problem[] {
  return decode(layout, words, ctx).problems;
}

/** A value for a field: a number, a bigint, or an enumerated value's name. */
export type FieldInput = bigint | number | string | boolean;

function parseInput(layout: Layout, f: FieldSpec, v: FieldInput): bigint {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new FieldError(`${layout.title}.${f.name}: ${v} is not an exact integer`);
    return BigInt(v);
  }
  const byName = f.values?.find((e) => e.name.toLowerCase() === v.toLowerCase());
  if (byName) return BigInt(byName.value);
  if (/^(0x[0-9a-f_]+|0b[01_]+|[0-9_]+)$/i.test(v)) return BigInt(v.replace(/_/g, ''));
  const names = f.values?.map((e) => e.name) ?? [];
  throw new FieldError(
    `${layout.title}.${f.name}: '${v}' is neither a number nor a named value` +
    (names.length ? `${didYouMean(v, names)}; named values: ${names.join(', ')}` : ''));
}

/** Set one field in a copy of `words`; checks that the value fits (and is aligned, for addresses). */
export function setField(layout: Layout, words: readonly (bigint | number)[], name: string, value: FieldInput): bigint[] {
  const f = requireField(layout, name);
  const w = normalizeWords(layout, words);
  const [hiBit, loBit] = bitsInWord(layout, f);
  const width = hiBit - loBit + 1;
  let v = parseInput(layout, f, value);
  if (v < 0n) throw new FieldError(`${layout.title}.${f.name}: ${v} is negative`);
  if (f.kind === 'address') {
    if ((v & mask(loBit)) !== 0n) {
      throw new FieldError(`${layout.title}.${f.name}: address ${hex(v)} must be aligned to ${hex(1n << BigInt(loBit))} ` +
        `(bits [${loBit - 1}:0] are not held by the field)`);
    }
    v >>= BigInt(loBit);
  }
  if (v > mask(width)) {
    const max = f.kind === 'address' ? hex(mask(hiBit + 1)) : hex(mask(width));
    throw new FieldError(`${layout.title}.${f.name} ${bitRangeText(f.hi, f.lo)}: ${hex(parseInput(layout, f, value))} ` +
      `does not fit; the largest value is ${max}`);
  }
  const i = wordOf(layout, f);
  const m = mask(width) << BigInt(loBit);
  w[i] = (w[i] & ~m) | (v << BigInt(loBit));
  return w;
}

/** Build words from named field values; every other bit is zero. */
export function encode(layout: Layout, values: Readonly<Record<string, FieldInput>>): bigint[] {
  let w = normalizeWords(layout, []);
  for (const [name, v] of Object.entries(values)) w = setField(layout, w, name, v);
  return w;
}

/** The words as hex, each padded to its width. */
export function wordsHex(layout: Layout, words: readonly bigint[]): string[] {
  return words.map((w) => hex(w, layout.wordBits / 4));
}

const WORD_NAMES: Record<number, string> = { 64: 'qword', 32: 'word' };

/**
 * A multi-line description: the summary, the words, then each relevant field with its
 * bits, value and meaning; ignored fields are listed only when non-zero, reserved ranges
 * only when set. Problems last.
 */
export function describe(d: Decoded): string {
  const { layout } = d;
  const lines: string[] = [`${layout.title}: ${d.summary}`];
  const wordName = WORD_NAMES[layout.wordBits];
  d.words.forEach((w, i) => lines.push(`  ${wordName} ${i}  ${hex(w, layout.wordBits / 4)}`));
  const shown = d.fields.filter((f) => (f.spec.kind === 'reserved' ? f.raw !== 0n : f.relevant || f.raw !== 0n));
  const nameWidth = Math.max(...shown.map((f) => f.spec.name.length), 4);
  const bitsText = (f: DecodedField): string => {
    const [h, l] = bitsInWord(layout, f.spec);
    return layout.words > 1 ? `${f.word}${bitRangeText(h, l)}` : bitRangeText(h, l);
  };
  const bitsWidth = Math.max(...shown.map((f) => bitsText(f).length), 4);
  for (const f of shown) {
    const note = f.spec.kind === 'reserved' ? `(${f.spec.reserved ?? 'RES0'})`
      : f.relevant ? f.spec.meaning : `${f.spec.meaning} (ignored in this configuration)`;
    lines.push(`  ${f.spec.name.padEnd(nameWidth)}  ${bitsText(f).padEnd(bitsWidth)}  ${f.text}    ${note}`);
  }
  for (const p of d.problems) lines.push(`  ${p.severity}: ${p.field ? p.field + ': ' : ''}${p.message}`);
  return lines.join('\n');
}

/** A plain-data form for JSON output. Values are numbers when exact, else hex strings. */
export function toJson(d: Decoded): {
  kind: string; title: string; words: string[]; summary: string;
  fields: Record<string, { value: number | string; text: string; bits: string; relevant: boolean }>;
  problems: Problem[];
} {
  const fields: Record<string, { value: number | string; text: string; bits: string; relevant: boolean }> = {};
  for (const f of d.fields) {
    if (f.spec.kind === 'reserved' && f.raw === 0n) continue;
    const v = f.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(f.value) : hex(f.value);
    fields[f.spec.name] = { value: v, text: f.text, bits: bitRangeText(f.spec.hi, f.spec.lo), relevant: f.relevant };
  }
  return {
    kind: d.layout.kind, title: d.layout.title, words: wordsHex(d.layout, d.words), summary: d.summary,
    fields, problems: [...d.problems],
  };
}
