/**
 * Statements from tokens, against the statement table. One statement per line; an error
 * on a line is reported and parsing goes on with the next line, so every error in a file
 * is reported at once.
 */
import { didYouMean } from '../arch/suggest';
import { Arg, ArgValue, Expr, Statement, StreamRef } from './ast';
import { Diagnostic, Range } from './diagnostics';
import { lex, Token } from './lexer';
import { OptionSpec, ParamSpec, StatementSyntax, syntaxLine } from './syntax';

export interface ParseResult {
  readonly statements: Statement[];
  readonly diagnostics: Diagnostic[];
}

class LineError extends Error {
  constructor(readonly range: Range, message: string, readonly suggestion?: string) {
    super(message);
  }
}

const span = (a: Range, b: Range): Range => ({ file: a.file, start: a.start, end: b.end });

/** Binary operators by precedence, loosest first. */
const BINARY: readonly (readonly string[])[] = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

/** Deepest expression nesting: binary text (a dump given as a scenario) must not overflow the stack. */
const MAX_NESTING = 256;

class LineParser {
  private i = 0;
  private depth = 0;

  constructor(private readonly toks: readonly Token[]) {}

  peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)];
  }

  next(): Token {
    return this.toks[this.i++];
  }

  atEnd(): boolean {
    return this.i >= this.toks.length;
  }

  isOp(text: string, o = 0): boolean {
    // Not peek(): past the end it would answer for the last token again (a trailing '-' forever).
    const t = this.toks[this.i + o];
    return !!t && t.kind === 'op' && t.text === text;
  }

  /** An `ident =` pair starts here (an option or a field), not an expression. */
  atOption(): boolean {
    return this.peek()?.kind === 'ident' && this.isOp('=', 1);
  }

  lastRange(): Range {
    return this.toks[Math.max(this.i - 1, 0)].range;
  }

  endRange(): Range {
    const r = this.toks.length ? this.toks[this.toks.length - 1].range : undefined;
    return r ? { ...r, start: r.end } : { file: '', start: { line: 0, col: 0 }, end: { line: 0, col: 0 } };
  }

  where(): Range {
    return this.atEnd() ? this.endRange() : this.peek().range;
  }

  describe(t: Token | undefined): string {
    return !t ? 'the end of the line' : t.kind === 'string' ? `"${t.text}"` : `'${t.text}'`;
  }

  expectOp(text: string, what: string): Token {
    if (!this.isOp(text)) throw new LineError(this.where(), `expected '${text}' ${what}, found ${this.describe(this.atEnd() ? undefined : this.peek())}`);
    return this.next();
  }

  // ---- expressions --------------------------------------------------------------

  expr(level = 0): Expr {
    if (level === BINARY.length) return this.unary();
    let left = this.expr(level + 1);
    while (!this.atEnd() && this.peek().kind === 'op' && BINARY[level].includes(this.peek().text)) {
      const op = this.next().text;
      const right = this.expr(level + 1);
      left = { kind: 'binary', op, left, right, range: span(left.range, right.range) };
    }
    return left;
  }

  unary(): Expr {
    // Every nesting (parentheses, brackets, call arguments, unary operators) comes through here.
    if (++this.depth > MAX_NESTING) {
      throw new LineError(this.where(), `the expression nests deeper than ${MAX_NESTING} levels (parentheses, brackets or unary operators)`);
    }
    try {
      if (this.isOp('-') || this.isOp('~')) {
        const t = this.next();
        const operand = this.unary();
        return { kind: 'unary', op: t.text as '-' | '~', operand, range: span(t.range, operand.range) };
      }
      return this.postfix(this.primary());
    } finally {
      this.depth--;
    }
  }

  primary(): Expr {
    if (this.atEnd()) throw new LineError(this.endRange(), 'expected a number, a name or "(" at the end of the line');
    const t = this.peek();
    if (t.kind === 'number') {
      this.next();
      return { kind: 'num', value: t.value ?? 0n, range: t.range };
    }
    if (t.kind === 'ident') {
      this.next();
      if (this.isOp('(')) {
        this.next();
        const args: Expr[] = [];
        if (!this.isOp(')')) {
          args.push(this.expr());
          while (this.isOp(',')) {
            this.next();
            args.push(this.expr());
          }
        }
        const close = this.expectOp(')', `to close the call of ${t.text}(`);
        return { kind: 'call', fn: t.text, args, range: span(t.range, close.range) };
      }
      return { kind: 'name', name: t.text, range: t.range };
    }
    if (this.isOp('(')) {
      const open = this.next();
      const e = this.expr();
      const close = this.expectOp(')', 'to close "("');
      return { ...e, range: span(open.range, close.range) };
    }
    throw new LineError(t.range, `expected a number, a name or "(", found ${this.describe(t)}`);
  }

  postfix(e: Expr): Expr {
    for (;;) {
      if (this.isOp('.') && this.peek(1)?.kind === 'ident') {
        this.next();
        const f = this.next();
        e = { kind: 'member', object: e, field: f.text, range: span(e.range, f.range) };
      } else if (this.isOp('[')) {
        this.next();
        const index = this.expr();
        const close = this.expectOp(']', 'to close "["');
        e = { kind: 'index', object: e, index, range: span(e.range, close.range) };
      } else {
        return e;
      }
    }
  }

  stream(): StreamRef {
    const sid = this.expr();
    if (this.isOp(':')) {
      this.next();
      const ssid = this.expr();
      return { sid, ssid, range: span(sid.range, ssid.range) };
    }
    return { sid, range: sid.range };
  }

  list(): Expr[] {
    const items = [this.expr()];
    while (this.isOp(',')) {
      this.next();
      items.push(this.expr());
    }
    return items;
  }

  // ---- parameters ---------------------------------------------------------------

  /**
   * Can a value of this kind start at the current token? An `ident =` pair is an option,
   * unless the next parameter is introduced by `=` (`const NAME = VALUE`).
   */
  startsValue(kind: ParamSpec['kind'] | OptionSpec['kind'], beforeEquals = false): boolean {
    if (this.atEnd() || (this.atOption() && !beforeEquals)) return false;
    const t = this.peek();
    if (kind === 'string') return t.kind === 'string';
    if (kind === 'name' || kind === 'word') return t.kind === 'ident';
    return t.kind === 'number' || t.kind === 'ident' || (t.kind === 'op' && ['(', '-', '~'].includes(t.text));
  }

  value(kind: ParamSpec['kind'] | OptionSpec['kind'], words: readonly string[] | undefined, what: string): Arg {
    const start = this.where();
    let v: ArgValue;
    switch (kind) {
      case 'string': {
        const t = this.peek();
        if (this.atEnd() || t.kind !== 'string') throw new LineError(this.where(), `expected a quoted string for ${what}, found ${this.describe(this.atEnd() ? undefined : t)}`);
        this.next();
        v = { kind: 'string', text: t.text };
        break;
      }
      case 'name':
      case 'word': {
        const t = this.peek();
        if (this.atEnd() || t.kind !== 'ident') {
          throw new LineError(this.where(), `expected ${words ? `one of ${words.join(', ')}` : 'a name'} for ${what}, found ${this.describe(this.atEnd() ? undefined : t)}`);
        }
        if (words && !words.includes(t.text.toLowerCase())) {
          throw new LineError(t.range, `'${t.text}' is not a valid ${what}; expected one of ${words.join(', ')}${didYouMean(t.text, words)}`,
            closestWord(t.text, words));
        }
        this.next();
        v = kind === 'word' || words ? { kind: 'word', word: t.text.toLowerCase() } : { kind: 'word', word: t.text };
        break;
      }
      case 'stream':
        v = { kind: 'stream', stream: this.stream() };
        break;
      case 'list':
        v = { kind: 'list', items: this.list() };
        break;
      case 'bool':
        throw new Error('bool options take no value');
      default:
        v = { kind: 'expr', expr: this.expr() };
    }
    return { value: v, range: span(start, this.lastRange()) };
  }
}

function closestWord(w: string, words: readonly string[]): string | undefined {
  const s = didYouMean(w, words);
  return s ? /'([^']+)'/.exec(s)?.[1] : undefined;
}

export class StatementTable {
  private readonly byKeyword = new Map<string, StatementSyntax>();
  /** Worked out once: a file of bad lines asks for suggestions on every line. */
  private readonly first: readonly string[];
  private readonly families = new Map<string, string[]>();

  constructor(readonly all: readonly StatementSyntax[]) {
    for (const s of all) {
      if (this.byKeyword.has(s.keyword)) throw new Error(`statement '${s.keyword}' is defined twice`);
      this.byKeyword.set(s.keyword, s);
      const [head, second] = s.keyword.split(' ');
      if (second !== undefined) this.families.set(head, [...(this.families.get(head) ?? []), second]);
    }
    this.first = [...new Set(all.map((s) => s.keyword.split(' ')[0]))];
  }

  get(keyword: string): StatementSyntax | undefined {
    return this.byKeyword.get(keyword);
  }

  /** First words of every statement, for suggestions. */
  firstWords(): string[] {
    return [...this.first];
  }

  /** Second words of a statement family (`expect dma`, `expect ste`...). */
  family(first: string): string[] {
    return [...(this.families.get(first) ?? [])];
  }
}

function parseLine(toks: Token[], table: StatementTable, lines: readonly string[]): Statement {
  const p = new LineParser(toks);
  const first = p.next();
  if (first.kind !== 'ident') throw new LineError(first.range, `a statement starts with a keyword, found ${p.describe(first)}`);
  let keyword = first.text.toLowerCase();
  let keywordRange = first.range;
  const family = table.family(keyword);
  if (family.length && !table.get(keyword)) {
    const second = p.peek();
    if (p.atEnd() || second.kind !== 'ident' || !family.includes(second.text.toLowerCase())) {
      throw new LineError(p.atEnd() ? p.endRange() : second.range,
        `'${first.text}' needs one of: ${family.join(', ')}` + (!p.atEnd() && second.kind === 'ident' ? didYouMean(second.text, family) : ''),
        !p.atEnd() && second.kind === 'ident' ? closestWord(second.text, family) : undefined);
    }
    p.next();
    keyword = `${keyword} ${second.text.toLowerCase()}`;
    keywordRange = span(first.range, second.range);
  } else if (family.length && table.get(keyword) && !p.atEnd() && p.peek().kind === 'ident' && family.includes(p.peek().text.toLowerCase())) {
    keyword = `${keyword} ${p.next().text.toLowerCase()}`;
    keywordRange = span(first.range, p.lastRange());
  }
  const spec = table.get(keyword);
  if (!spec) {
    const words = table.firstWords();
    throw new LineError(first.range, `unknown statement '${first.text}'${didYouMean(first.text, words)}`, closestWord(first.text, words));
  }
  const args = new Map<string, Arg>();
  // A bare flag word (or a yes/no option) ends the parameters: it is not a name or an expression.
  const bareWords = new Set([...Object.keys(spec.flags ?? {}), ...Object.entries(spec.options ?? {}).filter(([, o]) => o.kind === 'bool').map(([k]) => k)]);
  const atBareWord = (): boolean => !p.atEnd() && p.peek().kind === 'ident' && bareWords.has(p.peek().text.toLowerCase()) && !p.isOp('=', 1);
  for (const [k, param] of spec.params.entries()) {
    if (param.after) {
      if (!p.isOp(param.after)) {
        if (param.optional) continue;
        throw new LineError(p.where(), `expected '${param.after} ${param.name.toUpperCase()}' (${param.doc}) — the statement is: ${syntaxLine(spec)}`);
      }
      p.next();
    } else if (!p.startsValue(param.kind, spec.params[k + 1]?.after === '=') || (param.optional && atBareWord())) {
      if (param.optional) continue;
      throw new LineError(p.where(), `missing ${param.name.toUpperCase()} (${param.doc}) — the statement is: ${syntaxLine(spec)}`);
    }
    args.set(param.name, p.value(param.kind, param.words, param.name.toUpperCase()));
  }
  const options = new Map<string, Arg>();
  const fields = new Map<string, Arg>();
  const flags = new Set<string>();
  const optionNames = Object.keys(spec.options ?? {});
  const flagNames = Object.keys(spec.flags ?? {});
  while (!p.atEnd()) {
    const t = p.peek();
    if (t.kind === 'ident' && p.isOp('=', 1)) {
      const key = t.text.toLowerCase();
      const opt = spec.options?.[key];
      if (!opt && !spec.fields) {
        throw new LineError(t.range, `'${spec.keyword}' has no option '${t.text}'${didYouMean(t.text, optionNames)}` +
          (optionNames.length ? `; options: ${optionNames.join(', ')}` : ''), closestWord(t.text, optionNames));
      }
      p.next();
      p.next();
      const bag = opt ? options : fields;
      const name = opt ? key : t.text;
      if (bag.has(name)) throw new LineError(t.range, `'${t.text}' is given twice`);
      if (opt?.kind === 'bool') {
        const v = p.value('word', ['yes', 'no', 'true', 'false', 'on', 'off'], t.text);
        bag.set(name, { value: v.value, range: span(t.range, v.range) });
      } else {
        const v = p.value(opt ? opt.kind : 'expr', opt?.words, t.text);
        bag.set(name, { value: v.value, range: span(t.range, v.range) });
      }
      continue;
    }
    if (t.kind === 'ident' && (flagNames.includes(t.text.toLowerCase()) || spec.options?.[t.text.toLowerCase()]?.kind === 'bool')) {
      const w = t.text.toLowerCase();
      // `ats=no ats` would silently turn the option on: a repeated option or flag is an error.
      if (options.has(w) || flags.has(w)) throw new LineError(t.range, `'${t.text}' is given twice`);
      p.next();
      if (spec.options?.[w]?.kind === 'bool') options.set(w, { value: { kind: 'word', word: 'yes' }, range: t.range });
      else flags.add(w);
      continue;
    }
    const expected = [...optionNames.map((o) => `${o}=`), ...flagNames].join(', ');
    throw new LineError(t.range, `unexpected ${p.describe(t)}` + (expected ? `; '${spec.keyword}' takes: ${expected}` : ` after a complete '${spec.keyword}' statement`) +
      (t.kind === 'ident' ? didYouMean(t.text, [...optionNames, ...flagNames]) : ''), t.kind === 'ident' ? closestWord(t.text, [...optionNames, ...flagNames]) : undefined);
  }
  const range = span(toks[0].range, toks[toks.length - 1].range);
  return { keyword, range, keywordRange, args, options, flags, fields, text: sliceRange(lines, range) };
}

/** The source text of a range, from the file's lines (split once per file: a scenario may have 100,000 statements). */
function sliceRange(lines: readonly string[], r: Range): string {
  if (r.start.line === r.end.line) return lines[r.start.line - 1]?.slice(r.start.col - 1, r.end.col - 1) ?? '';
  return lines.slice(r.start.line - 1, r.end.line).join('\n').trim();
}

/** Parse a whole file: every statement that parses, and every error (one per bad line). */
export function parse(source: string, file: string, table: StatementTable): ParseResult {
  const { tokens, diagnostics } = lex(source, file);
  const lines = source.split('\n');
  const statements: Statement[] = [];
  let line: Token[] = [];
  const badLines = new Set(diagnostics.map((d) => d.range.start.line));
  for (const t of tokens) {
    if (t.kind !== 'newline' && t.kind !== 'eof') {
      line.push(t);
      continue;
    }
    if (line.length && !badLines.has(line[0].range.start.line)) {
      try {
        statements.push(parseLine(line, table, lines));
      } catch (e) {
        if (!(e instanceof LineError)) throw e;
        diagnostics.push({ range: e.range, severity: 'error', message: e.message, suggestion: e.suggestion });
      }
    }
    line = [];
  }
  diagnostics.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.col - b.range.start.col);
  return { statements, diagnostics };
}

/**
 * One expression on its own (the debugger's watch and hover): the expression, or a
 * message saying where it stops making sense.
 */
export function parseExpression(text: string, file = '<expression>'): { expr: Expr } | { error: string } {
  const { tokens, diagnostics } = lex(text, file);
  if (diagnostics.length) return { error: diagnostics[0].message };
  const toks = tokens.filter((t) => t.kind !== 'newline' && t.kind !== 'eof');
  if (toks.length === 0) return { error: 'empty expression' };
  const p = new LineParser(toks);
  try {
    const expr = p.expr();
    if (!p.atEnd()) return { error: `unexpected ${p.describe(p.peek())} at column ${p.peek().range.start.col}` };
    return { expr };
  } catch (e) {
    if (e instanceof LineError) return { error: e.message };
    throw e;
  }
}
