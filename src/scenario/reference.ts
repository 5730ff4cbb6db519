/**
 * The editor files of the scenario language, generated from the statement table so they
 * never drift from what the parser accepts: the TextMate grammar, the snippets and the
 * "Statement reference" section of docs/scenario-language.md. `scripts/gen-language.mjs`
 * writes them; test/scenario/generated.test.ts checks the committed copies are current.
 * Pure functions: no file system here (the engine also runs in the browser).
 */
import { EVENTS } from '../arch/events';
import { FUNCTIONS } from './compile-context';
import { parse, StatementTable } from './parser';
import { lex } from './lexer';
import { STATEMENTS } from './statements';
import { BARRIERS } from './statements/def';
import { OptionSpec, ParamSpec, StatementSyntax, syntaxLine } from './syntax';

type Section = StatementSyntax['section'];

/** Documentation sections, in order, with a title and what the statements in them are for. */
export const SECTIONS: readonly { readonly id: Section; readonly title: string; readonly intro: string }[] = [
  { id: 'platform', title: 'Platform and SMMU features', intro: 'The machine and the SMMU the scenario runs on. They come before any statement that uses the machine.' },
  { id: 'memory', title: 'Memory and names', intro: 'Named regions of memory and named numbers.' },
  { id: 'driver', title: 'Driver actions', intro: 'What the Linux driver does, step by step as it does it: bring-up, io-pgtable domains, map and unmap, attaching streams, STE and CD updates through the entry writer.' },
  { id: 'raw', title: 'Raw CPU operations', intro: 'The CPU\'s own operations, without the driver: stores, cache maintenance, barriers, MMIO.' },
  { id: 'commands', title: 'Commands', intro: 'Commands through the in-memory command queue: any command by name, invalidations as the driver builds them, CMD_SYNC.' },
  { id: 'devices', title: 'Devices', intro: 'Device transactions: one-off DMA, and background traffic that keeps going while later statements run.' },
  { id: 'expectations', title: 'Expectations', intro: 'What the run must show. A failed expectation is reported at its line and the run goes on.' },
  { id: 'kho', title: 'Kexec HandOver', intro: 'Live update: handing the SMMU over to the next kernel.' },
  { id: 'structure', title: 'File structure', intro: 'Statements about the scenario file itself.' },
];

/** Statements that define a name, and what kind of name (see "Names and scopes" in the docs). */
export const DEFINES: Readonly<Record<string, 'region' | 'constant' | 'domain' | 'traffic'>> = {
  alloc: 'region', const: 'constant', domain: 'domain', traffic: 'traffic',
};

/** Members an expression can read: `.base`, `.size`, `.end` of a region, `.pgd` of a domain. */
export const MEMBERS: Readonly<Record<string, string>> = {
  base: 'a region\'s base address (the same as the bare name)',
  size: 'a region\'s size in bytes',
  end: 'the address just past a region',
  pgd: 'a domain\'s top-level table address (the same as the bare name)',
};

/** The outcomes `expect dma ... -> RESULT` names besides a PA and the event names. */
export const DMA_OUTCOMES: readonly string[] = ['abort', 'bypass', 'fault'];

/** Values a yes/no option takes. */
export const BOOLEAN_WORDS: readonly string[] = ['yes', 'no', 'true', 'false', 'on', 'off'];

/**
 * The lexer's operators in its order of preference (the longest first where one is a
 * prefix of another): the grammar tokenizes them the same way.
 */
export const OPERATORS: readonly string[] = ['<<', '>>', '==', '!=', '->', '<-', '<=', '>=', '=', ':', ',', '(', ')', '[', ']', '+', '-', '*', '/', '%', '&', '|', '^', '~', '.', '<', '>', '{', '}'];

export const BEGIN_MARKER = '<!-- BEGIN GENERATED -->';
export const END_MARKER = '<!-- END GENERATED -->';

// ---- keyword lists ---------------------------------------------------------------------

export interface KeywordLists {
  /** Every statement keyword, one or two words. */
  readonly statements: readonly string[];
  /** First words of statement families, with their second words (`expect` → dma, mem...). */
  readonly families: Readonly<Record<string, readonly string[]>>;
  readonly barriers: readonly string[];
  /** Option keys (`size`, `prot`...), all statements together. */
  readonly options: readonly string[];
  /** Bare words after the parameters: flags, and yes/no options given without a value. */
  readonly flags: readonly string[];
  /** Enumerated words: parameter words and option values. */
  readonly words: readonly string[];
  readonly booleans: readonly string[];
  readonly functions: readonly string[];
  readonly members: readonly string[];
  readonly outcomes: readonly string[];
  readonly events: readonly string[];
  /** Hazard rule names as scenarios write them (`torn_update`). */
  readonly rules: readonly string[];
}

const uniq = (xs: Iterable<string>): string[] => [...new Set(xs)];
const sorted = (xs: Iterable<string>): string[] => uniq(xs).sort();

function paramWords(s: StatementSyntax): string[] {
  return s.params.flatMap((p) => (p.kind === 'word' && p.words ? [...p.words] : []));
}

function optionEntries(s: StatementSyntax): [string, OptionSpec][] {
  return Object.entries(s.options ?? {});
}

/** Bare words a statement accepts after its parameters: its flags and its yes/no options. */
function bareWords(s: StatementSyntax): string[] {
  return uniq([...Object.keys(s.flags ?? {}), ...optionEntries(s).filter(([, o]) => o.kind === 'bool').map(([k]) => k)]);
}

/**
 * A hazard rule as the reference shows it. The rules belong to the checker (src/check), which
 * the scenario layer may not import: whoever generates the files hands them in.
 */
export interface RuleRef {
  readonly id: string;
  readonly severity: string;
  readonly title: string;
  readonly description: string;
}

export function ruleName(id: string): string {
  return id.replace(/-/g, '_');
}

export function keywordLists(rules: readonly RuleRef[], table: readonly StatementSyntax[] = STATEMENTS): KeywordLists {
  const families: Record<string, string[]> = {};
  for (const s of table) {
    const [first, second] = s.keyword.split(' ');
    if (second) (families[first] ??= []).push(second);
  }
  return {
    statements: table.map((s) => s.keyword),
    families,
    barriers: [...BARRIERS],
    options: sorted(table.flatMap((s) => Object.keys(s.options ?? {}))),
    flags: sorted(table.flatMap(bareWords)),
    words: sorted(table.flatMap((s) => [...paramWords(s), ...optionEntries(s).flatMap(([, o]) => (o.kind === 'word' ? o.words ?? [] : []))])),
    booleans: [...BOOLEAN_WORDS],
    functions: Object.keys(FUNCTIONS),
    members: Object.keys(MEMBERS),
    outcomes: [...DMA_OUTCOMES],
    events: EVENTS.map((e) => e.name),
    rules: rules.map((r) => ruleName(r.id)),
  };
}

// ---- the TextMate grammar --------------------------------------------------------------

export const SCOPE = 'source.smmu';

const ID = '[A-Za-z_][A-Za-z0-9_]*';
/** Word boundaries as the lexer sees them (ASCII letters, digits and `_`). */
const WS = '(?<![A-Za-z0-9_])';
const WE = '(?![A-Za-z0-9_])';
/** Not an `ident =` pair (an option or a field), but `==` is fine. */
const NOT_KEY = '(?!\\s*=(?!=))';

const reEscape = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
/** A case-insensitive alternation, longest first so that no word hides a longer one. */
const alt = (words: Iterable<string>): string =>
  `(?i:${sorted(words).sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0)).map(reEscape).join('|')})`;

type Captures = Record<string, { name: string }>;
type Rule = Record<string, unknown>;

/** Builds a regex from pieces, numbering the capture groups it names. */
class Pattern {
  private src = '';
  private n = 0;
  readonly captures: Captures = {};

  raw(s: string): this {
    this.src += s;
    return this;
  }

  /** `(body)` with a scope; the body must not contain capture groups of its own. */
  cap(body: string, scope: string): this {
    this.n++;
    this.captures[String(this.n)] = { name: scope };
    this.src += `(${body})`;
    return this;
  }

  toString(): string {
    return this.src;
  }
}

const slug = (keyword: string): string => keyword.replace(/[ _]+/g, '-');

/** The scope of a name parameter, by what it names. */
function nameScope(s: StatementSyntax, p: ParamSpec): string {
  if (p.name === 'name' && DEFINES[s.keyword]) {
    return DEFINES[s.keyword] === 'constant' ? 'entity.name.constant.smmu' : `entity.name.variable.${DEFINES[s.keyword]}.smmu`;
  }
  switch (p.name) {
    case 'rule': return 'constant.other.rule.smmu';
    case 'register': return 'support.constant.register.smmu';
    case 'command': return 'support.constant.command.smmu';
    case 'field': return 'variable.other.field.smmu';
    case 'domain': return 'variable.other.domain.smmu';
    default: return 'variable.other.smmu';
  }
}

/**
 * The statement's keyword, then the name parameters that follow it directly (`alloc NAME`,
 * `expect reg REGISTER [FIELD]`, `expect hazard RULE`), each optional in the regex so the
 * statement is highlighted while it is being typed.
 */
function beginPattern(s: StatementSyntax): Pattern {
  const p = new Pattern().raw('^\\s*');
  s.keyword.split(' ').forEach((w, i) => {
    if (i > 0) p.raw('\\s+');
    p.cap(alt([w]), 'keyword.control.statement.smmu');
  });
  p.raw(WE);
  const bare = bareWords(s);
  let opened = 0;
  for (const [k, param] of s.params.entries()) {
    if (param.kind !== 'name' || param.after) break;
    const beforeEquals = s.params[k + 1]?.after === '=';
    p.raw('(?:\\s+');
    if (param.optional && bare.length) p.raw(`(?!${alt(bare)}${WE})`);
    p.cap(ID, nameScope(s, param));
    p.raw(WE + (beforeEquals ? '' : NOT_KEY));
    opened++;
  }
  p.raw(')?'.repeat(opened));
  return p;
}

function optionRules(s: StatementSyntax): Rule[] {
  const rules: Rule[] = [];
  for (const [key, o] of optionEntries(s).sort(([a], [b]) => b.length - a.length || (a < b ? -1 : 1))) {
    const p = new Pattern().raw(WS).cap(alt([key]), 'variable.parameter.option.smmu').raw('\\s*').cap('=(?!=)', 'keyword.operator.smmu');
    if (o.kind === 'bool' || (o.kind === 'word' && o.words)) {
      const values = o.kind === 'bool' ? BOOLEAN_WORDS : o.words!;
      p.raw('(?:\\s*').cap(alt(values), o.kind === 'bool' ? 'constant.language.boolean.smmu' : 'constant.language.smmu').raw(WE)
        .raw('|\\s*').cap(ID, 'invalid.illegal.value.smmu').raw(')?');
    }
    rules.push({ match: p.toString(), captures: p.captures });
  }
  return rules;
}

/** Per-statement extras: words that only mean something in one statement. */
const EXTRA: Readonly<Record<string, () => Rule[]>> = {
  'expect dma': () => [
    { match: `${WS}${alt(DMA_OUTCOMES)}${WE}(?!\\s*\\()`, name: 'constant.language.smmu' },
    { match: `${WS}${alt(EVENTS.map((e) => e.name))}${WE}(?!\\s*\\()`, name: 'constant.other.event.smmu' },
  ],
};

function statementRule(s: StatementSyntax): Rule {
  const head = beginPattern(s);
  const patterns: Rule[] = [{ include: '#comments' }, { include: '#continuation' }, ...optionRules(s)];
  const hasEqualsParam = s.params.some((p) => p.after === '=');
  if (s.fields) {
    patterns.push({ match: `${WS}(${ID})\\s*(=(?!=))`, captures: { 1: { name: 'variable.parameter.field.smmu' }, 2: { name: 'keyword.operator.smmu' } } });
  } else if (!hasEqualsParam) {
    // The parser rejects an option this statement does not have.
    patterns.push({ match: `${WS}(${ID})\\s*(=(?!=))`, captures: { 1: { name: 'invalid.illegal.unknown-option.smmu' }, 2: { name: 'keyword.operator.smmu' } } });
  }
  const bare = bareWords(s);
  // Not a value after `=` (`Config=BYPASS` is a field's value, not the word `bypass`).
  const notValue = '(?<![A-Za-z0-9_.=])(?<!=[ \\t])';
  if (bare.length) patterns.push({ match: `${notValue}${alt(bare)}${WE}${NOT_KEY}(?!\\s*\\()`, name: 'keyword.other.flag.smmu' });
  const words = paramWords(s);
  if (words.length) patterns.push({ match: `${notValue}${alt(words)}${WE}${NOT_KEY}(?!\\s*\\()`, name: 'constant.language.smmu' });
  // A name parameter right before `==` / `->` / `<-` that the begin pattern did not take:
  // the field of `expect ste 5 Config == S1_TRANS`.
  s.params.forEach((p, i) => {
    const next = s.params[i + 1];
    const inBegin = s.params.slice(0, i + 1).every((q) => q.kind === 'name' && !q.after);
    if (p.kind === 'name' && next?.after && next.after !== '=' && !inBegin) {
      patterns.push({ match: `${WS}(${ID})(?=\\s*${reEscape(next.after)})`, captures: { 1: { name: nameScope(s, p) } } });
    }
  });
  patterns.push(...(EXTRA[s.keyword]?.() ?? []), { include: '#expression' });
  return { name: `meta.statement.${slug(s.keyword)}.smmu`, begin: head.toString(), beginCaptures: head.captures, end: '(?=\\n)', patterns };
}

export function grammar(rules: readonly RuleRef[], table: readonly StatementSyntax[] = STATEMENTS): Rule {
  for (const k of Object.keys(EXTRA)) if (!table.some((s) => s.keyword === k)) throw new Error(`reference.ts: EXTRA names '${k}', which is not a statement`);
  const kw = keywordLists(rules, table);
  // Two-word statements first, so `smmu init` is not taken for `smmu`.
  const ordered = [...table].sort((a, b) => b.keyword.split(' ').length - a.keyword.split(' ').length);
  const repository: Record<string, Rule> = {};
  for (const s of ordered) repository[`statement-${slug(s.keyword)}`] = statementRule(s);
  const incomplete = Object.keys(kw.families).filter((f) => !table.some((s) => s.keyword === f));
  const statements: Rule[] = ordered.map((s) => ({ include: `#statement-${slug(s.keyword)}` }));
  if (incomplete.length) {
    // `expect` alone, or with a second word still being typed.
    const head = new Pattern().raw('^\\s*').cap(alt(incomplete), 'keyword.control.statement.smmu').raw(WE);
    statements.push({
      name: 'meta.statement.incomplete.smmu',
      begin: head.toString(),
      beginCaptures: head.captures,
      end: '(?=\\n)',
      patterns: [{ include: '#comments' }, { include: '#continuation' }, { include: '#expression' }],
    });
  }
  const ops = new Pattern();
  const opScope = (op: string): string => {
    if (op === '->' || op === '<-') return 'keyword.operator.arrow.smmu';
    if (['==', '!=', '<=', '>=', '<', '>'].includes(op)) return 'keyword.operator.comparison.smmu';
    if (op === ',') return 'punctuation.separator.comma.smmu';
    if (op === ':') return 'punctuation.separator.stream.smmu';
    if (op === '.') return 'punctuation.accessor.smmu';
    const bracket = { '(': 'parens.begin', ')': 'parens.end', '[': 'brackets.begin', ']': 'brackets.end', '{': 'braces.begin', '}': 'braces.end' }[op];
    return bracket ? `punctuation.section.${bracket}.smmu` : 'keyword.operator.smmu';
  };
  OPERATORS.forEach((op, i) => {
    if (i > 0) ops.raw('|');
    ops.cap(reEscape(op), opScope(op));
  });
  Object.assign(repository, {
    comments: {
      patterns: [
        { match: '(#).*', name: 'comment.line.number-sign.smmu', captures: { 1: { name: 'punctuation.definition.comment.smmu' } } },
        { match: '(//).*', name: 'comment.line.double-slash.smmu', captures: { 1: { name: 'punctuation.definition.comment.smmu' } } },
      ],
    },
    continuation: {
      // A `\` that ends the line continues the statement; the newline is consumed so the
      // statement's end (a newline) is only found on the next line.
      match: '(\\\\)[ \\t]*\\n',
      captures: { 1: { name: 'punctuation.separator.continuation.line.smmu' } },
    },
    expression: {
      patterns: ['#comments', '#continuation', '#strings', '#numbers', '#functions', '#members', '#operators', '#names', '#invalid'].map((include) => ({ include })),
    },
    strings: {
      patterns: [
        { match: '"(?:[^"\\\\\\n]|\\\\.)*(?=\\n)', name: 'invalid.illegal.unterminated-string.smmu' },
        {
          name: 'string.quoted.double.smmu',
          begin: '"', beginCaptures: { 0: { name: 'punctuation.definition.string.begin.smmu' } },
          end: '"|(?=\\n)', endCaptures: { 0: { name: 'punctuation.definition.string.end.smmu' } },
          patterns: [{ match: '\\\\(?:.|\\n)', name: 'constant.character.escape.smmu' }],
        },
      ],
    },
    numbers: {
      patterns: [
        { match: `${WS}0x(?=_*[0-9A-Fa-f])[0-9A-Fa-f_]+[KkMmGgTt]?${WE}`, name: 'constant.numeric.hex.smmu' },
        { match: `${WS}0b(?=_*[01])[01_]+[KkMmGgTt]?${WE}`, name: 'constant.numeric.binary.smmu' },
        { match: `${WS}[0-9][0-9_]*[KkMmGgTt]?${WE}`, name: 'constant.numeric.decimal.smmu' },
        // `0x12g4`, `12kb`, `0x_`: the lexer reports the whole word.
        { match: `${WS}[0-9][A-Za-z0-9_]*`, name: 'invalid.illegal.number.smmu' },
      ],
    },
    functions: {
      patterns: [
        { match: `${WS}(${kw.functions.map(reEscape).join('|')})${WE}(?=\\s*\\()`, captures: { 1: { name: 'support.function.smmu' } } },
        { match: `${WS}(${ID})(?=\\s*\\()`, captures: { 1: { name: 'variable.function.smmu' } } },
      ],
    },
    members: {
      match: `(\\.)\\s*(${ID})`,
      captures: { 1: { name: 'punctuation.accessor.smmu' }, 2: { name: 'variable.other.property.smmu' } },
    },
    operators: { match: ops.toString(), captures: ops.captures },
    names: { match: `${WS}${ID}`, name: 'variable.other.smmu' },
    invalid: {
      patterns: [
        // `!` only starts `!=`, `\` only ends a line; anything else the lexer does not know.
        { match: '!(?!=)|\\\\(?![ \\t]*\\n)|[^ \\t\\r\\nA-Za-z0-9_"#/<>=!:,()\\[\\]{}+\\-*%&|^~.\\\\]', name: 'invalid.illegal.character.smmu' },
      ],
    },
  });
  repository.statements = { patterns: statements };
  const ordering = ['statements', ...ordered.map((s) => `statement-${slug(s.keyword)}`), 'comments', 'continuation', 'expression', 'strings', 'numbers', 'functions', 'members', 'operators', 'names', 'invalid'];
  return {
    name: 'SMMU Scenario',
    scopeName: SCOPE,
    fileTypes: ['smmu'],
    comment: 'Generated by scripts/gen-language.mjs from the statement table (src/scenario/statements): do not edit, run npm run gen-language.',
    patterns: [{ include: '#comments' }, { include: '#statements' }, { include: '#expression' }],
    repository: Object.fromEntries(ordering.map((k) => [k, repository[k]])),
  };
}

// ---- snippets --------------------------------------------------------------------------

const snippetText = (s: string): string => s.replace(/[\\$}]/g, '\\$&');
const choiceText = (s: string): string => s.replace(/[\\,|]/g, '\\$&');

interface Slot {
  readonly start: number;
  readonly end: number;
  readonly choices?: readonly string[];
}

const TABLE = new StatementTable(STATEMENTS);

/** One line with a tab stop on every parameter, option value, field value and flag of an example. */
export function snippetBody(rules: readonly RuleRef[], s: StatementSyntax, example: string, table: StatementTable = TABLE): string {
  const parsed = parse(example, 'snippet', table);
  if (parsed.diagnostics.length || parsed.statements.length !== 1) {
    throw new Error(`the example '${example}' of '${s.keyword}' does not parse: ${parsed.diagnostics.map((d) => d.message).join('; ')}`);
  }
  const st = parsed.statements[0];
  const slots: Slot[] = [];
  const col = (c: number): number => c - 1;
  for (const p of s.params) {
    const a = st.args.get(p.name);
    if (!a) continue;
    let start = col(a.range.start.col);
    let end = col(a.range.end.col);
    if (p.kind === 'string' && example[start] === '"' && example[end - 1] === '"') {
      start++;
      end--;
    }
    const text = example.slice(start, end);
    const words = p.kind === 'word' ? p.words : p.kind === 'name' && p.name === 'rule' ? rules.map((r) => ruleName(r.id)) : undefined;
    const choices = words ? uniq([text, ...words]) : undefined;
    slots.push({ start, end, choices });
  }
  const valueSlot = (range: { start: { col: number }; end: { col: number } }, o: OptionSpec | undefined): void => {
    const start = col(range.start.col);
    const end = col(range.end.col);
    const eq = example.indexOf('=', start);
    if (eq < 0 || eq >= end) {
      slots.push({ start, end }); // a yes/no option given bare, like a flag
      return;
    }
    let v = eq + 1;
    while (example[v] === ' ') v++;
    const text = example.slice(v, end);
    const words = o?.kind === 'bool' ? ['yes', 'no'] : o?.kind === 'word' ? o.words : undefined;
    slots.push({ start: v, end, choices: words ? uniq([text, ...words]) : undefined });
  };
  for (const [k, a] of st.options) valueSlot(a.range, s.options?.[k]);
  for (const a of st.fields.values()) valueSlot(a.range, undefined);
  const taken = (i: number): boolean => slots.some((x) => i >= x.start && i < x.end);
  const flags = Object.keys(s.flags ?? {});
  for (const t of lex(example, 'snippet').tokens) {
    const start = col(t.range.start.col);
    if (t.kind === 'ident' && flags.includes(t.text.toLowerCase()) && !taken(start) && start > 0) slots.push({ start, end: col(t.range.end.col) });
  }
  slots.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  slots.forEach((x, i) => {
    out += snippetText(example.slice(at, x.start));
    const text = example.slice(x.start, x.end);
    out += x.choices ? `\${${i + 1}|${x.choices.map(choiceText).join(',')}|}` : `\${${i + 1}:${snippetText(text)}}`;
    at = x.end;
  });
  out += snippetText(example.slice(at));
  return slots.length ? `${out}$0` : out;
}

/** Snippets of several statements: what most scenarios start with or show. */
export function multiSnippets(rules: readonly RuleRef[]): Readonly<Record<string, { prefix: string; description: string; body: readonly string[] }>> {
  return {
  'scenario header': {
    prefix: 'scenario_header',
    description: 'A scenario\'s header: the question it answers, the platform, the SMMU\'s features and its bring-up',
    body: [
      '# ${1:NN} - ${2:What this scenario shows}',
      '#',
      '# Question: "${3:What does the SMMU see when ...?}"',
      '',
      'platform coherent=${4|no,yes|}',
      'smmu stages=${5:1,2} sidsize=${6:16}',
      'smmu init',
      '$0',
    ],
  },
  'attach stage 1': {
    prefix: 'attach_s1_mapping',
    description: 'A stage-1 domain with one mapping, a stream attached to it, and a DMA through it',
    body: [
      'domain ${1:d1} stage=1',
      'const ${2:IOVA} = ${3:0x1000_0000}',
      'const ${4:PA} = ${5:0x8_0000_0000}',
      'map ${1:d1} ${2:IOVA} -> ${4:PA} size=${6:4K}',
      'attach ${7:5} s1 ${1:d1}',
      'expect update hitless syncs=${8:2}',
      'expect dma ${7:5} read ${2:IOVA} + 0x10 -> ${4:PA} + 0x10',
      '$0',
    ],
  },
  'raw STE write under traffic': {
    prefix: 'raw_ste_hazard',
    description: 'Background DMA while an STE is written in place (no entry writer, no sync), and the hazard the checker finds',
    body: [
      'traffic ${1:dev} ${2:5} ${3|read,write,exec|} ${4:IOVA}',
      'ste ${2:5} <- ${5:bypass} raw',
      `expect hazard \${6|${rules.map((r) => ruleName(r.id)).join(',')}|}`,
      'stop ${1:dev}',
      '$0',
    ],
  },
  };
}

/**
 * A whole scenario to start from: platform, SMMU, bring-up, a domain with a mapping, an attached
 * stream, expectations and traffic. As it expands, it runs with every expectation holding and no
 * hazard (a linear stream table: SIDSIZE 8, so no L2 table is published).
 */
export const SKELETON_SNIPPET = {
  prefix: 'scenario',
  description: 'A whole scenario: platform, SMMU, bring-up, a stage-1 domain and mapping, an attached stream, expectations and traffic',
  body: [
    '# ${1:What this scenario shows}',
    '',
    '# ---- The platform -------------------------------------------------------------',
    'platform coherent=${2|no,yes|}',
    'smmu stages=1,2 sidsize=${3:8}',
    'smmu init',
    '',
    '# ---- The domain ---------------------------------------------------------------',
    'domain ${4:d1} stage=1',
    'const IOVA = ${5:0x1000_0000}',
    'const PA = ${6:0x8_0000_0000}',
    'map ${4:d1} IOVA -> PA size=${7:16K}',
    '',
    '# ---- Attaching the device -----------------------------------------------------',
    'attach ${8:5} s1 ${4:d1}',
    'expect update hitless syncs=2',
    'expect ste ${8:5} Config == S1_TRANS view=smmu',
    '',
    '# ---- Traffic ------------------------------------------------------------------',
    'traffic ${9:dev} ${8:5} read IOVA, IOVA + 4K',
    'expect dma ${8:5} read IOVA + 0x10 -> PA + 0x10',
    '$0',
    'stop ${9:dev}',
    'expect no_hazard',
  ],
} as const;

/** A snippet body with each tab stop replaced by its default text (the first choice). */
export function expandSnippet(body: string): string {
  return body
    .replace(/\$\{\d+\|([^|,]*)[^|]*\|\}/g, '$1')
    .replace(/\$\{\d+:([^}]*)\}/g, '$1')
    .replace(/\$\d+/g, '')
    .replace(/\\([\\$}])/g, '$1');
}

export function snippets(rules: readonly RuleRef[], table: readonly StatementSyntax[] = STATEMENTS): Record<string, { prefix: string; description: string; body: string | string[] }> {
  const t = table === STATEMENTS ? TABLE : new StatementTable(table);
  const out: Record<string, { prefix: string; description: string; body: string | string[] }> = {};
  for (const s of table) {
    out[s.keyword] = { prefix: s.keyword.replace(/ /g, '_'), description: s.summary, body: snippetBody(rules, s, s.examples[0], t) };
  }
  for (const [k, v] of Object.entries(multiSnippets(rules))) out[k] = { prefix: v.prefix, description: v.description, body: [...v.body] };
  out['scenario skeleton'] = { prefix: SKELETON_SNIPPET.prefix, description: SKELETON_SNIPPET.description, body: [...SKELETON_SNIPPET.body] };
  return out;
}

// ---- the statement reference -------------------------------------------------------------

const KIND_TEXT: Readonly<Record<ParamSpec['kind'], string>> = {
  expr: 'an expression',
  name: 'a name',
  stream: 'a StreamID, optionally `:SubstreamID`',
  string: 'a quoted string',
  word: 'one of the words',
  list: 'expressions separated by commas',
};

const OPTION_KIND_TEXT: Readonly<Record<OptionSpec['kind'], string>> = {
  expr: 'an expression',
  word: 'a word',
  bool: 'yes or no; the bare word means yes',
  name: 'a name',
  list: 'expressions separated by commas',
  string: 'a quoted string',
};

/** GitHub's heading anchor for a statement heading like `` `expect dma` ``. */
export function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');
}

const sentence = (s: string): string => (/[.!?:]$/.test(s) ? s : `${s}.`);

function statementMarkdown(s: StatementSyntax): string {
  const lines: string[] = [`#### \`${s.keyword}\``, '', '```text', syntaxLine(s), '```', '', sentence(s.summary)];
  if (s.doc) lines.push('', s.doc);
  if (s.params.length) {
    lines.push('', 'Parameters:', '');
    for (const p of s.params) {
      const name = p.kind === 'word' && p.words ? p.words.map((w) => `\`${w}\``).join(' \\| ') : `\`${p.after ? p.after + ' ' : ''}${p.name.toUpperCase()}\``;
      const kind = p.kind === 'word' ? 'one of these words' : KIND_TEXT[p.kind];
      lines.push(`- ${name} (${p.optional ? 'optional, ' : ''}${p.after && p.kind === 'word' ? `after \`${p.after}\`, ` : ''}${kind}): ${p.doc}`);
    }
  }
  const opts = optionEntries(s);
  if (opts.length) {
    lines.push('', 'Options:', '');
    for (const [k, o] of opts) {
      const value = o.kind === 'bool' ? 'yes|no' : o.kind === 'word' && o.words ? o.words.join('|') : k.toUpperCase();
      lines.push(`- \`${k}=${value}\` (${o.kind === 'word' && o.words ? 'one of these words' : OPTION_KIND_TEXT[o.kind]}): ${o.doc}`);
    }
  }
  const flags = Object.entries(s.flags ?? {});
  if (flags.length) {
    lines.push('', 'Flags:', '');
    for (const [f, doc] of flags) lines.push(`- \`${f}\`: ${doc}`);
  }
  if (s.fields) lines.push('', `Fields: \`FIELD=VALUE\` pairs, ${s.fields}.`);
  lines.push('', s.examples.length > 1 ? 'Examples:' : 'Example:', '', '```smmu', ...s.examples, '```');
  return lines.join('\n');
}

/** The generated "Statement reference" section: every statement, grouped by section. */
export function referenceMarkdown(rules: readonly RuleRef[], table: readonly StatementSyntax[] = STATEMENTS): string {
  const out: string[] = [
    '<!-- Generated from the statement table (src/scenario/statements) by `npm run gen-language`: edit the table, not this section. -->',
    '',
    'Keywords, option names, flags and words are case-insensitive; names are not. `[...]` marks what may be left out,',
    '`a|b` one of several words, and `FIELD=VALUE...` any number of structure fields by name.',
  ];
  const used = SECTIONS.filter((sec) => table.some((s) => s.section === sec.id));
  for (const s of table) if (!SECTIONS.some((sec) => sec.id === s.section)) throw new Error(`statement '${s.keyword}' has an unknown section '${s.section}'`);
  out.push('', used.map((sec) => `[${sec.title}](#${anchor(sec.title)})`).join(' · '));
  for (const sec of used) {
    const members = table.filter((s) => s.section === sec.id);
    out.push('', `### ${sec.title}`, '', sec.intro, '', members.map((s) => `[\`${s.keyword}\`](#${anchor(s.keyword)})`).join(' · '));
    for (const s of members) out.push('', statementMarkdown(s));
  }
  out.push('', '### Names the statements know', '');
  out.push('Functions, usable in any expression:', '');
  for (const [f, doc] of Object.entries(FUNCTIONS)) out.push(`- \`${f}\`: ${doc.replace(/^[a-z_]+\([^)]*\): /, '')} (\`${doc.split(':')[0]}\`)`);
  out.push('', 'Members:', '');
  for (const [m, doc] of Object.entries(MEMBERS)) out.push(`- \`.${m}\`: ${doc}`);
  out.push('', 'Hazard rules, for `expect hazard RULE` and `expect no_hazard [RULE]`:', '');
  for (const r of rules) out.push(`- \`${ruleName(r.id)}\` (${r.severity}): ${r.title}. ${r.description}`);
  out.push('', `Outcomes for \`expect dma ... -> RESULT\` besides a physical address: ${DMA_OUTCOMES.map((o) => `\`${o}\``).join(', ')}, or an event name: ` +
    `${EVENTS.map((e) => `\`${e.name}\``).join(', ')}.`);
  return out.join('\n') + '\n';
}

/** Put `section` between the markers of `doc`. */
export function spliceReference(doc: string, section: string): string {
  const b = doc.indexOf(BEGIN_MARKER);
  const e = doc.indexOf(END_MARKER);
  if (b < 0 || e < b) throw new Error(`the document has no ${BEGIN_MARKER} ... ${END_MARKER} markers`);
  return doc.slice(0, b + BEGIN_MARKER.length) + '\n' + section + doc.slice(e);
}

/** The text between the markers (what `spliceReference` put there). */
export function generatedSection(doc: string): string | undefined {
  const b = doc.indexOf(BEGIN_MARKER);
  const e = doc.indexOf(END_MARKER);
  return b < 0 || e < b ? undefined : doc.slice(b + BEGIN_MARKER.length + 1, e);
}

// ---- everything together -------------------------------------------------------------------

export interface LanguageFiles {
  /** syntaxes/smmu.tmLanguage.json */
  readonly grammar: string;
  /** snippets/smmu.code-snippets */
  readonly snippets: string;
  /** The generated section of docs/scenario-language.md. */
  readonly reference: string;
}

export const OUTPUTS = { grammar: 'syntaxes/smmu.tmLanguage.json', snippets: 'snippets/smmu.code-snippets', docs: 'docs/scenario-language.md' } as const;

/** Everything the generator writes, as text: deterministic, so running it twice changes nothing. */
export function generateLanguageFiles(rules: readonly RuleRef[], table: readonly StatementSyntax[] = STATEMENTS): LanguageFiles {
  return {
    grammar: JSON.stringify(grammar(rules, table), null, 2) + '\n',
    snippets: JSON.stringify(snippets(rules, table), null, 2) + '\n',
    reference: referenceMarkdown(rules, table),
  };
}
