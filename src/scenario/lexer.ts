/**
 * Tokens of the scenario language. A scenario is a sequence of lines; a statement is one
 * line (a trailing `\` continues it). `#` and `//` start comments. Numbers are decimal or
 * hex (`0x`), binary (`0b`), with `_` separators and size suffixes (`4K`, `2M`, `1G`, `1T`).
 */
import { Diagnostic, Position, Range } from './diagnostics';

export type TokenKind = 'ident' | 'number' | 'string' | 'op' | 'newline' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The source text (for strings: without the quotes, escapes resolved). */
  readonly text: string;
  /** For numbers: the value. */
  readonly value?: bigint;
  readonly range: Range;
}

const OPERATORS = ['<<', '>>', '==', '!=', '->', '<-', '<=', '>=', '=', ':', ',', '(', ')', '[', ']', '+', '-', '*', '/', '%', '&', '|', '^', '~', '.', '<', '>', '{', '}'];

const SUFFIX: Record<string, bigint> = { k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n };

export interface LexResult {
  readonly tokens: Token[];
  readonly diagnostics: Diagnostic[];
}

export function lex(text: string, file: string): LexResult {
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  let line = 1;
  let col = 1;
  let i = 0;
  const pos = (): Position => ({ line, col });
  const advance = (n: number): void => {
    for (let k = 0; k < n; k++) {
      if (text[i] === '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
      i++;
    }
  };
  const push = (kind: TokenKind, len: number, extra: Partial<Token> = {}): void => {
    const start = pos();
    const t = text.slice(i, i + len);
    advance(len);
    tokens.push({ kind, text: t, range: { file, start, end: pos() }, ...extra });
  };
  const error = (start: Position, end: Position, message: string): void => {
    diagnostics.push({ range: { file, start, end }, severity: 'error', message });
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && /^\\[ \t]*\r?\n/.test(text.slice(i))) {
      // Line continuation: the statement goes on on the next line.
      advance(text.slice(i).indexOf('\n') + 1);
      continue;
    }
    if (c === '\n') {
      push('newline', 1);
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      advance(1);
      continue;
    }
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') advance(1);
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      push('ident', m[0].length);
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0x[0-9A-Fa-f_]+|0b[01_]+|[0-9][0-9_]*)([KkMmGgTt](?![A-Za-z0-9_]))?/.exec(text.slice(i))!;
      const after = text.slice(i + m[0].length);
      const start = pos();
      const tail = /^[A-Za-z0-9_]+/.exec(after);
      // "0x_" and "0b_": a prefix with separators but no digit.
      const noDigits = /^0[xb]_*$/.test(m[1]);
      if (tail || noDigits) {
        // "0x12g4", "12kb": report the whole word once.
        const word = m[0] + (tail?.[0] ?? '');
        advance(word.length);
        error(start, pos(), `'${word}' is not a number: expected decimal, 0x hex or 0b binary digits, optionally with a K/M/G/T size suffix`);
        tokens.push({ kind: 'number', text: word, value: 0n, range: { file, start, end: pos() } });
        continue;
      }
      const digits = m[1].replace(/_/g, '');
      let value = BigInt(digits);
      if (m[2]) value *= SUFFIX[m[2].toLowerCase()];
      push('number', m[0].length, { value });
      continue;
    }
    if (c === '"') {
      const start = pos();
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') {
        if (text[j] === '\\' && j + 1 < text.length) {
          s += text[j + 1];
          j += 2;
        } else {
          s += text[j++];
        }
      }
      if (text[j] !== '"') {
        advance(j - i);
        error(start, pos(), 'unterminated string: expected a closing " on the same line');
        tokens.push({ kind: 'string', text: s, range: { file, start, end: pos() } });
        continue;
      }
      advance(j - i + 1);
      tokens.push({ kind: 'string', text: s, range: { file, start, end: pos() } });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      push('op', op.length);
      continue;
    }
    const start = pos();
    advance(1);
    error(start, pos(), `unexpected character '${c}'`);
  }
  const end = pos();
  tokens.push({ kind: 'newline', text: '', range: { file, start: end, end } });
  tokens.push({ kind: 'eof', text: '', range: { file, start: end, end } });
  return { tokens, diagnostics };
}
