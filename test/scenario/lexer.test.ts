import { strict as assert } from 'node:assert';
import { Range } from '../../src/scenario/diagnostics';
import { lex, Token } from '../../src/scenario/lexer';

const FILE = 'lex.smmu';
const NOT_A_NUMBER = 'is not a number: expected decimal, 0x hex or 0b binary digits, optionally with a K/M/G/T size suffix';

const at = (r: Range): string => `${r.start.line}:${r.start.col}`;
const span = (r: Range): string => `${r.start.line}:${r.start.col}-${r.end.line}:${r.end.col}`;

/** The tokens without the final newline and end-of-file markers. */
function tokens(text: string): Token[] {
  const r = lex(text, FILE);
  assert.deepEqual(r.diagnostics, [], `diagnostics for ${JSON.stringify(text)}`);
  const t = r.tokens;
  assert.deepEqual(t.slice(-2).map((x) => x.kind), ['newline', 'eof']);
  return t.slice(0, -2);
}

const kinds = (ts: Token[]): string[] => ts.map((t) => `${t.kind}:${t.text}`);

/** Diagnostics as `line:col message`. */
function errors(text: string): string[] {
  return lex(text, FILE).diagnostics.map((d) => `${at(d.range)} ${d.message}`);
}

describe('scenario lexer', () => {
  describe('numbers', () => {
    const cases: [string, bigint][] = [
      ['0', 0n],
      ['42', 42n],
      ['0x1F', 31n],
      ['0xdead_beef', 0xdeadbeefn],
      ['0x8_0000_0000', 0x8_0000_0000n],
      ['0b101', 5n],
      ['0b1111_0000', 0xf0n],
      ['1_000_000', 1_000_000n],
      ['4K', 4096n],
      ['4k', 4096n],
      ['64K', 65536n],
      ['2M', 2n * 1024n * 1024n],
      ['2m', 2n * 1024n * 1024n],
      ['1G', 1n << 30n],
      ['1T', 1n << 40n],
      ['3t', 3n << 40n],
      ['0x10K', 16n * 1024n],
      ['0b1M', 1n << 20n],
      ['1_024K', 1024n * 1024n],
      // Bigger than 2^53: kept exact.
      ['0xffff_ffff_ffff_ffff', (1n << 64n) - 1n],
    ];
    for (const [text, value] of cases) {
      it(`${text} = ${value}`, () => {
        const [t] = tokens(text);
        assert.equal(t.kind, 'number');
        assert.equal(t.text, text);
        assert.equal(t.value, value);
        assert.equal(span(t.range), `1:1-1:${text.length + 1}`);
        assert.equal(t.range.file, FILE);
      });
    }

    it('ends a number at an operator', () => {
      const ts = tokens('4K+0x10*2');
      assert.deepEqual(kinds(ts), ['number:4K', 'op:+', 'number:0x10', 'op:*', 'number:2']);
      assert.deepEqual(ts.map((t) => t.value), [4096n, undefined, 16n, undefined, 2n]);
    });
  });

  describe('identifiers', () => {
    it('reads letters, digits and underscores, starting with a letter or underscore', () => {
      const ts = tokens('abc _x9 S1_TRANS d1 cmdq_slot');
      assert.deepEqual(kinds(ts), ['ident:abc', 'ident:_x9', 'ident:S1_TRANS', 'ident:d1', 'ident:cmdq_slot']);
      assert.deepEqual(ts.map((t) => span(t.range)), ['1:1-1:4', '1:5-1:8', '1:9-1:17', '1:18-1:20', '1:21-1:30']);
    });

    it('splits member access into identifier, dot, identifier', () => {
      assert.deepEqual(kinds(tokens('cdt.size')), ['ident:cdt', 'op:.', 'ident:size']);
    });
  });

  describe('strings', () => {
    it('drops the quotes and keeps the range of the whole literal', () => {
      const [t] = tokens('"common/platform.smmu"');
      assert.equal(t.kind, 'string');
      assert.equal(t.text, 'common/platform.smmu');
      assert.equal(span(t.range), '1:1-1:23');
    });

    it('resolves \\" and \\\\ escapes', () => {
      const [a, b] = tokens(String.raw`"a\"b" "x\\y"`);
      assert.equal(a.text, 'a"b');
      assert.equal(b.text, 'x\\y');
      assert.equal(span(a.range), '1:1-1:7');
      assert.equal(span(b.range), '1:8-1:14');
    });

    it('keeps comment characters inside a string', () => {
      assert.deepEqual(kinds(tokens('"a # b // c"')), ['string:a # b // c']);
    });

    it('reports an unterminated string at its opening quote and goes on with the next line', () => {
      const r = lex('include "abc\ndsb', FILE);
      assert.deepEqual(r.diagnostics.map((d) => `${span(d.range)} ${d.message}`),
        ['1:9-1:13 unterminated string: expected a closing " on the same line']);
      assert.equal(r.diagnostics[0].range.file, FILE);
      assert.equal(r.diagnostics[0].severity, 'error');
      assert.deepEqual(kinds(r.tokens), ['ident:include', 'string:abc', 'newline:\n', 'ident:dsb', 'newline:', 'eof:']);
      assert.equal(at(r.tokens[3].range), '2:1');
    });

    it('reports an unterminated string at the end of the file', () => {
      assert.deepEqual(errors('dsb\n  "abc'), ['2:3 unterminated string: expected a closing " on the same line']);
    });
  });

  describe('operators', () => {
    const OPS = ['<<', '>>', '==', '!=', '->', '<-', '<=', '>=', '=', ':', ',', '(', ')', '[', ']', '+', '-', '*', '/', '%', '&', '|', '^', '~', '.', '<', '>', '{', '}'];
    it('reads every operator as one token', () => {
      const ts = tokens(OPS.join(' '));
      assert.deepEqual(ts.map((t) => t.kind), OPS.map(() => 'op'));
      assert.deepEqual(ts.map((t) => t.text), OPS);
    });

    it('takes the longest operator first', () => {
      assert.deepEqual(kinds(tokens('a<<2')), ['ident:a', 'op:<<', 'number:2']);
      assert.deepEqual(kinds(tokens('ste 5 <- bypass')), ['ident:ste', 'number:5', 'op:<-', 'ident:bypass']);
      assert.deepEqual(kinds(tokens('0->0x10')), ['number:0', 'op:->', 'number:0x10']);
      assert.deepEqual(kinds(tokens('a==b')), ['ident:a', 'op:==', 'ident:b']);
      assert.deepEqual(kinds(tokens('- >')), ['op:-', 'op:>']);
    });
  });

  describe('comments, lines and continuation', () => {
    it('ignores # and // comments to the end of the line, keeping the newline', () => {
      const r = lex('# a comment\ndsb # trailing\nsync // another\n// only\nmb', FILE);
      assert.deepEqual(r.diagnostics, []);
      assert.deepEqual(kinds(r.tokens), ['newline:\n', 'ident:dsb', 'newline:\n', 'ident:sync', 'newline:\n', 'newline:\n', 'ident:mb', 'newline:', 'eof:']);
      assert.equal(at(r.tokens[6].range), '5:1');
    });

    it('reads a single / as division', () => {
      assert.deepEqual(kinds(tokens('8 / 2')), ['number:8', 'op:/', 'number:2']);
    });

    it('joins a line ending in \\ with the next, keeping true positions', () => {
      const ts = tokens('map d1 0x1000 \\\n  -> 0x2000');
      assert.deepEqual(kinds(ts), ['ident:map', 'ident:d1', 'number:0x1000', 'op:->', 'number:0x2000']);
      assert.deepEqual(ts.slice(3).map((t) => at(t.range)), ['2:3', '2:6']);
    });

    it('allows blanks and a CR between the \\ and the newline', () => {
      assert.deepEqual(kinds(tokens('a \\ \t\nb \\\r\nc')), ['ident:a', 'ident:b', 'ident:c']);
    });

    it('treats CRLF line ends as one newline', () => {
      const r = lex('dsb\r\nsync\r\n', FILE);
      assert.deepEqual(kinds(r.tokens), ['ident:dsb', 'newline:\n', 'ident:sync', 'newline:\n', 'newline:', 'eof:']);
      assert.equal(at(r.tokens[2].range), '2:1');
    });

    it('ends with a newline and an end-of-file token at the end position', () => {
      const r = lex('dsb', FILE);
      assert.deepEqual(r.tokens.slice(1).map((t) => `${t.kind} ${span(t.range)}`), ['newline 1:4-1:4', 'eof 1:4-1:4']);
    });
  });

  describe('errors', () => {
    it('reports a word that starts like a number once, as a whole', () => {
      const r = lex('map d1 0x12g4 -> 12kb', FILE);
      assert.deepEqual(r.diagnostics.map((d) => `${span(d.range)} ${d.message}`), [
        `1:8-1:14 '0x12g4' ${NOT_A_NUMBER}`,
        `1:18-1:22 '12kb' ${NOT_A_NUMBER}`,
      ]);
      // The bad words stay tokens (value 0), so the rest of the line is not misread.
      const nums = r.tokens.filter((t) => t.kind === 'number');
      assert.deepEqual(nums.map((t) => [t.text, t.value]), [['0x12g4', 0n], ['12kb', 0n]]);
    });

    for (const [text, word] of [['0b102', '0b102'], ['0x', '0x'], ['12K_', '12K_'], ['4KB', '4KB'], ['0x_', '0x_'], ['0b__', '0b__'], ['9abc', '9abc']]) {
      it(`reports '${text}' as not a number`, () => {
        assert.deepEqual(errors(`dsb\n  ${text} 1`), [`2:3 '${word}' ${NOT_A_NUMBER}`]);
      });
    }

    it('reports stray characters one by one with their position', () => {
      assert.deepEqual(errors('dsb\nstore @ 1\n  $x ! ?'), [
        "2:7 unexpected character '@'",
        "3:3 unexpected character '$'",
        "3:6 unexpected character '!'",
        "3:8 unexpected character '?'",
      ]);
    });

    it('reports a \\ that does not end the line', () => {
      assert.deepEqual(errors('a \\ b'), ["1:3 unexpected character '\\'"]);
      assert.deepEqual(errors('a \\'), ["1:3 unexpected character '\\'"]);
    });

    it('reports every error of a file, in order, each in the named file', () => {
      const r = lex('"open\n0x12g4\n@', 'dir/x.smmu');
      assert.deepEqual(r.diagnostics.map((d) => `${d.range.file}:${at(d.range)}`), ['dir/x.smmu:1:1', 'dir/x.smmu:2:1', 'dir/x.smmu:3:1']);
      assert.ok(r.diagnostics.every((d) => d.severity === 'error'));
    });
  });
});
