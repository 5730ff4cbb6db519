import { strict as assert } from 'node:assert';
import { Arg, Expr, Statement } from '../../src/scenario/ast';
import { TABLE } from '../../src/scenario/compiler';
import { Diagnostic, Range } from '../../src/scenario/diagnostics';
import { parse } from '../../src/scenario/parser';
import { syntaxLine } from '../../src/scenario/syntax';

const FILE = 'p.smmu';

const at = (r: Range): string => `${r.file}:${r.start.line}:${r.start.col}`;
const span = (r: Range): string => `${r.start.line}:${r.start.col}-${r.end.line}:${r.end.col}`;

/** An expression as fully parenthesised text. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'num': return e.value < 1024n ? e.value.toString() : '0x' + e.value.toString(16);
    case 'name': return e.name;
    case 'member': return `${show(e.object)}.${e.field}`;
    case 'index': return `${show(e.object)}[${show(e.index)}]`;
    case 'unary': return `${e.op}${show(e.operand)}`;
    case 'binary': return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'call': return `${e.fn}(${e.args.map(show).join(', ')})`;
  }
}

function showArg(a: Arg): string {
  const v = a.value;
  switch (v.kind) {
    case 'expr': return show(v.expr);
    case 'word': return `word ${v.word}`;
    case 'string': return `string ${JSON.stringify(v.text)}`;
    case 'stream': return `stream ${show(v.stream.sid)}${v.stream.ssid ? ':' + show(v.stream.ssid) : ''}`;
    case 'list': return `list ${v.items.map(show).join(', ')}`;
  }
}

interface Shape {
  keyword: string;
  args: Record<string, string>;
  options: Record<string, string>;
  flags: string[];
  fields: Record<string, string>;
}

function shape(st: Statement): Shape {
  const rec = (m: ReadonlyMap<string, Arg>): Record<string, string> => Object.fromEntries([...m].map(([k, a]) => [k, showArg(a)]));
  return { keyword: st.keyword, args: rec(st.args), options: rec(st.options), flags: [...st.flags], fields: rec(st.fields) };
}

/** Parse one line that must be valid. */
function one(text: string): Statement {
  const r = parse(text, FILE, TABLE);
  assert.deepEqual(r.diagnostics.map((d) => d.message), [], text);
  assert.equal(r.statements.length, 1, text);
  return r.statements[0];
}

/** Parse text that must have exactly one error; returns it. */
function error(text: string): Diagnostic {
  const r = parse(text, FILE, TABLE);
  assert.equal(r.diagnostics.length, 1, `${text}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  assert.equal(r.statements.length, 0, text);
  assert.equal(r.diagnostics[0].severity, 'error');
  return r.diagnostics[0];
}

const syntaxOf = (keyword: string): string => syntaxLine(TABLE.get(keyword)!);
/** The second words of `expect` (the family grows with the checker's statements). */
const EXPECT = TABLE.family('expect').join(', ');

describe('scenario parser', () => {
  describe('every statement of the table', () => {
    it('has at least one example', () => {
      assert.ok(TABLE.all.length > 40);
      for (const s of TABLE.all) assert.ok(s.examples.length > 0, s.keyword);
    });

    for (const s of TABLE.all) {
      it(`parses the examples of '${s.keyword}'`, () => {
        for (const ex of s.examples) {
          const r = parse(ex, FILE, TABLE);
          assert.deepEqual(r.diagnostics.map((d) => `${at(d.range)} ${d.message}`), [], ex);
          assert.equal(r.statements.length, 1, ex);
          const st = r.statements[0];
          assert.equal(st.keyword, s.keyword, ex);
          assert.equal(st.text, ex);
          assert.equal(span(st.range), `1:1-1:${ex.length + 1}`, ex);
          // Every required parameter is there; nothing is parsed that the table does not list.
          for (const p of s.params) if (!p.optional) assert.ok(st.args.has(p.name), `${ex}: ${p.name}`);
          for (const k of st.args.keys()) assert.ok(s.params.some((p) => p.name === k), `${ex}: ${k}`);
          for (const k of st.options.keys()) assert.ok(s.options?.[k], `${ex}: option ${k}`);
          for (const f of st.flags) assert.ok(s.flags?.[f], `${ex}: flag ${f}`);
          if (!s.fields) assert.equal(st.fields.size, 0, ex);
        }
      });
    }
  });

  describe('arguments, options and flags', () => {
    it('map: domain, IOVA, -> PA, options and the priv flag', () => {
      assert.deepEqual(shape(one('map d1 0x1000_0000 -> 0x8_0000_0000 size=2M prot=r attr=nc priv')), {
        keyword: 'map',
        args: { domain: 'word d1', iova: '0x10000000', pa: '0x800000000' },
        options: { size: '0x200000', prot: 'word r', attr: 'word nc' },
        flags: ['priv'],
        fields: {},
      });
    });

    it('is case-insensitive in keywords, option keys, words and flags, and keeps the case of names', () => {
      assert.deepEqual(shape(one('MAP D1 0 -> 4K SIZE=8K PROT=RW PRIV')), {
        keyword: 'map',
        args: { domain: 'word D1', iova: '0', pa: '0x1000' },
        options: { size: '0x2000', prot: 'word rw' },
        flags: ['priv'],
        fields: {},
      });
      assert.equal(one('Expect DMA 5 READ 0 -> abort').keyword, 'expect dma');
    });

    it('attach: a stream with a SubstreamID, the optional domain, a bare bool option', () => {
      assert.deepEqual(shape(one('attach 5:1 s1 d1 ssids=4 s1dss=bypass ats')), {
        keyword: 'attach',
        args: { stream: 'stream 5:1', kind: 'word s1', domain: 'word d1' },
        options: { ssids: '4', s1dss: 'word bypass', ats: 'word yes' },
        flags: [],
        fields: {},
      });
      assert.deepEqual(shape(one('attach 5 bypass')).args, { stream: 'stream 5', kind: 'word bypass' });
      assert.deepEqual(shape(one('attach 5 s1 d1 ats=no stall=on')).options, { ats: 'word no', stall: 'word on' });
    });

    it('ste: <- target, a list of words and flags', () => {
      assert.deepEqual(shape(one('ste 5 <- words 0x4800_f00b, 0xd6 raw plain')), {
        keyword: 'ste',
        args: { sid: '5', target: 'word words', words: 'list 0x4800f00b, 214' },
        options: {},
        flags: ['raw', 'plain'],
        fields: {},
      });
      assert.deepEqual(shape(one('ste 5 <- s2 g2 vmid=3')).args, { sid: '5', target: 'word s2', domain: 'word g2' });
    });

    it('ste <- fields and cmd: FIELD=VALUE pairs keep their spelling', () => {
      const st = shape(one('ste 5 <- fields V=1 Config=BYPASS'));
      assert.deepEqual(st.args, { sid: '5', target: 'word fields' });
      assert.deepEqual(st.fields, { V: '1', Config: 'BYPASS' });
      assert.deepEqual(shape(one('cmd TLBI_NH_VA ASID=1 Address=0x10000 Leaf=1 TG=1 NUM=15')), {
        keyword: 'cmd',
        args: { command: 'word TLBI_NH_VA' },
        options: {},
        flags: [],
        fields: { ASID: '1', Address: '0x10000', Leaf: '1', TG: '1', NUM: '15' },
      });
    });

    it('smmu: list options, words and bools', () => {
      assert.deepEqual(shape(one('smmu stages=1,2 granules=4K,64K ril=yes stall=none oas=40')).options, {
        stages: 'list 1, 2', granules: 'list 0x1000, 0x10000', ril: 'word yes', stall: 'word none', oas: '40',
      });
      assert.equal(one('smmu init').keyword, 'smmu init');
      assert.deepEqual(shape(one('smmu init strtab=linear bypass')).options, { strtab: 'word linear', bypass: 'word yes' });
    });

    it('expect reg: an optional field before ==', () => {
      assert.deepEqual(shape(one('expect reg GERROR CMDQ_ERR == 0')).args, { register: 'word GERROR', field: 'word CMDQ_ERR', value: '0' });
      assert.deepEqual(shape(one('expect reg CMDQ_CONS == 2')).args, { register: 'word CMDQ_CONS', value: '2' });
    });

    it('expect dma, const, include and atc_inv', () => {
      assert.deepEqual(shape(one('expect dma 5 write 0x1000 -> F_PERMISSION priv')), {
        keyword: 'expect dma',
        args: { stream: 'stream 5', access: 'word write', iova: '0x1000', result: 'F_PERMISSION' },
        options: {},
        flags: ['priv'],
        fields: {},
      });
      assert.deepEqual(shape(one('const STE5 = ste_addr(5) + 8')).args, { name: 'word STE5', value: '(ste_addr(5) + 8)' });
      assert.deepEqual(shape(one('include "common/platform.smmu"')).args, { path: 'string "common/platform.smmu"' });
      assert.deepEqual(shape(one('atc_inv 5:1 0x10000 size=64K')).args, { stream: 'stream 5:1', iova: '0x10000' });
      assert.deepEqual(shape(one('atc_inv 5')).args, { stream: 'stream 5' });
    });

    it('parses expressions with C-like precedence, left to right', () => {
      const value = (text: string): string => shape(one(`const X = ${text}`)).args.value;
      assert.equal(value('1 + 2 * 3 << 1 | 4 & ~5 ^ -6'), '(((1 + (2 * 3)) << 1) | ((4 & ~5) ^ -6))');
      assert.equal(value('10 - 2 - 3'), '((10 - 2) - 3)');
      assert.equal(value('(1 + 2) * 3'), '((1 + 2) * 3)');
      assert.equal(value('cdt.end - 8 % 3 / 2'), '(cdt.end - ((8 % 3) / 2))');
      assert.equal(value('pte_addr(d1, 0x1000, 3) + tbl[2]'), '(pte_addr(d1, 0x1000, 3) + tbl[2])');
      assert.equal(value('f()'), 'f()');
      assert.equal(value('--~1'), '--~1');
    });

    it('gives each argument and the statement their source ranges and text', () => {
      const st = one('expect  dma 5:1 read cdt + 8 -> abort   # why');
      assert.equal(st.text, 'expect  dma 5:1 read cdt + 8 -> abort');
      assert.equal(span(st.range), '1:1-1:38');
      assert.equal(span(st.keywordRange), '1:1-1:12');
      assert.equal(span(st.args.get('stream')!.range), '1:13-1:16');
      assert.equal(span(st.args.get('iova')!.range), '1:22-1:29');
      assert.equal(span(st.args.get('result')!.range), '1:33-1:38');
      const paren = one('const A = (1 + 2)');
      assert.equal(span((paren.args.get('value')!.value as { expr: Expr }).expr.range), '1:11-1:18');
    });

    it('reads a statement continued over lines as one', () => {
      const r = parse('map d1 0x1000 \\\n    -> 0x2000 \\\n    size=8K\ndsb', FILE, TABLE);
      assert.deepEqual(r.diagnostics, []);
      assert.deepEqual(r.statements.map((s) => s.keyword), ['map', 'dsb']);
      assert.deepEqual(shape(r.statements[0]).options, { size: '0x2000' });
      assert.equal(span(r.statements[0].range), '1:1-3:12');
      assert.equal(r.statements[0].text, 'map d1 0x1000 \\\n    -> 0x2000 \\\n    size=8K');
      assert.equal(r.statements[1].range.start.line, 4);
    });
  });

  describe('errors', () => {
    it('lists the second words of a statement family', () => {
      assert.deepEqual(TABLE.family('expect').slice(0, 6), ['dma', 'mem', 'ste', 'cd', 'reg', 'update']);
      assert.deepEqual(TABLE.family('cfgi'), ['ste', 'cd', 'all']);
      assert.deepEqual(TABLE.family('tlbi'), ['asid', 'vmid', 'all', 'va', 'ipa']);
    });

    const cases: { text: string; at: string; message: string; suggestion?: string }[] = [
      // Statements.
      { text: 'mapp d1 0 -> 0', at: '1:1', message: "unknown statement 'mapp' — did you mean 'map'?", suggestion: 'map' },
      { text: 'frobnicate 1', at: '1:1', message: "unknown statement 'frobnicate'" },
      { text: '5 dma', at: '1:1', message: "a statement starts with a keyword, found '5'" },
      { text: '"x" dsb', at: '1:1', message: 'a statement starts with a keyword, found "x"' },
      { text: 'expect', at: '1:7', message: `'expect' needs one of: ${EXPECT}` },
      { text: 'expect dmx 5 read 0 -> abort', at: '1:8', message: `'expect' needs one of: ${EXPECT} — did you mean 'dma'?`, suggestion: 'dma' },
      { text: 'cfgi', at: '1:5', message: "'cfgi' needs one of: ste, cd, all" },
      { text: 'cfgi 5', at: '1:6', message: "'cfgi' needs one of: ste, cd, all" },
      { text: 'tlbi', at: '1:5', message: "'tlbi' needs one of: asid, vmid, all, va, ipa" },
      { text: 'tlbi vaa 0 asid=1', at: '1:6', message: "'tlbi' needs one of: asid, vmid, all, va, ipa — did you mean 'va'?", suggestion: 'va' },
      // Missing parameters and introducing tokens: the message shows the statement's syntax.
      { text: 'map d1', at: '1:7', message: `missing IOVA (start of the input range) — the statement is: ${syntaxOf('map')}` },
      { text: 'alloc buf', at: '1:10', message: `missing SIZE (its size in bytes) — the statement is: ${syntaxOf('alloc')}` },
      { text: 'dma 5 read', at: '1:11', message: `missing IOVA (the input address) — the statement is: ${syntaxOf('dma')}` },
      { text: 'dma 5 5 0', at: '1:7', message: `missing ACCESS (read, write or exec) — the statement is: ${syntaxOf('dma')}` },
      { text: 'include common', at: '1:9', message: `missing PATH (the file, relative to this one) — the statement is: ${syntaxOf('include')}` },
      { text: 'const = 5', at: '1:7', message: `missing NAME (the constant's name) — the statement is: ${syntaxOf('const')}` },
      { text: 'map d1 0x1000 0x2000', at: '1:15', message: `expected '-> PA' (start of the output range) — the statement is: ${syntaxOf('map')}` },
      { text: 'map d1 0x1000', at: '1:14', message: `expected '-> PA' (start of the output range) — the statement is: ${syntaxOf('map')}` },
      { text: 'ste 5 bypass', at: '1:7', message: `expected '<- TARGET' (the new STE) — the statement is: ${syntaxOf('ste')}` },
      { text: 'expect mem 0x10 0', at: '1:17', message: `expected '== VALUE' (the expected value) — the statement is: ${syntaxOf('expect mem')}` },
      { text: 'expect dma 5 read 0 abort', at: '1:21', message: `expected '-> RESULT' (the expected PA, abort, bypass, fault or an event name (F_TRANSLATION, C_BAD_STE, ...)) — the statement is: ${syntaxOf('expect dma')}` },
      // Words.
      { text: 'alloc x 4K cachable', at: '1:12', message: "'cachable' is not a valid ATTR; expected one of cacheable, noncacheable, coherent — did you mean 'cacheable'?", suggestion: 'cacheable' },
      { text: 'dma 5 rread 0', at: '1:7', message: "'rread' is not a valid ACCESS; expected one of read, write, exec — did you mean 'read'?", suggestion: 'read' },
      { text: 'map d1 0 -> 0 attr=uncached', at: '1:20', message: "'uncached' is not a valid attr; expected one of cache, nc, mmio" },
      { text: 'map d1 0 -> 0 prot=5', at: '1:20', message: "expected one of r, w, rw, rx, wx, rwx for prot, found '5'" },
      { text: 'map d1 0 -> 0 prot=', at: '1:20', message: 'expected one of r, w, rw, rx, wx, rwx for prot, found the end of the line' },
      { text: 'attach 5 s1 d1 ats=maybe', at: '1:20', message: "'maybe' is not a valid ats; expected one of yes, no, true, false, on, off" },
      // Options.
      { text: 'map d1 0 -> 0 sise=4K', at: '1:15', message: "'map' has no option 'sise' — did you mean 'size'?; options: size, prot, attr, pgsize, split", suggestion: 'size' },
      { text: 'dma 5 read 0 size=4', at: '1:14', message: "'dma' has no option 'size'" },
      { text: 'map d1 0 -> 0 size=4K SIZE=8K', at: '1:23', message: "'SIZE' is given twice" },
      { text: 'cmd CFGI_STE StreamID=1 StreamID=2', at: '1:25', message: "'StreamID' is given twice" },
      { text: 'attach 5 s1 d1 ats=no ats', at: '1:23', message: "'ats' is given twice" },
      { text: 'attach 5 s1 d1 ats ats=no', at: '1:20', message: "'ats' is given twice" },
      { text: 'dma 5 read 0 priv PRIV', at: '1:19', message: "'PRIV' is given twice" },
      // Trailing tokens.
      { text: 'sync extra', at: '1:6', message: "unexpected 'extra' after a complete 'sync' statement" },
      { text: 'dsb 1', at: '1:5', message: "unexpected '1' after a complete 'dsb' statement" },
      { text: 'dma 5 read 0 prv', at: '1:14', message: "unexpected 'prv'; 'dma' takes: priv — did you mean 'priv'?", suggestion: 'priv' },
      { text: 'dma 5 read 0 1', at: '1:14', message: "unexpected '1'; 'dma' takes: priv" },
      { text: 'map d1 0 -> 0 "x"', at: '1:15', message: "unexpected \"x\"; 'map' takes: size=, prot=, attr=, pgsize=, split=, priv" },
      // Expressions.
      { text: 'dma 5 read (1 + 2', at: '1:18', message: 'expected \')\' to close "(", found the end of the line' },
      { text: 'dma 5 read (1 2)', at: '1:15', message: 'expected \')\' to close "(", found \'2\'' },
      { text: 'dma 5 read ste_addr(5', at: '1:22', message: "expected ')' to close the call of ste_addr(, found the end of the line" },
      { text: 'dma 5 read tbl[1', at: '1:17', message: 'expected \']\' to close "[", found the end of the line' },
      { text: 'dma 5 read 1 + *', at: '1:16', message: 'expected a number, a name or "(", found \'*\'' },
      { text: 'dma 5 read 1 +', at: '1:15', message: 'expected a number, a name or "(" at the end of the line' },
      { text: 'const X = )', at: '1:11', message: 'expected a number, a name or "(", found \')\'' },
      { text: 'const X =', at: '1:10', message: 'expected a number, a name or "(" at the end of the line' },
    ];
    for (const c of cases) {
      it(`${c.text}  →  ${c.message.slice(0, 60)}`, () => {
        const d = error(c.text);
        assert.equal(at(d.range), `${FILE}:${c.at}`);
        assert.equal(d.message, c.message);
        assert.equal(d.suggestion, c.suggestion);
      });
    }

    it('shows the syntax line of a statement in its missing-parameter message', () => {
      assert.equal(syntaxOf('map'), 'map DOMAIN IOVA -> PA [size=SIZE] [prot=r|w|rw|rx|wx|rwx] [attr=cache|nc|mmio] [pgsize=PGSIZE] [split=SPLIT] [priv]');
      assert.equal(syntaxOf('attach'), 'attach STREAM[:SSID] abort|bypass|s1|s2 [DOMAIN] [ssids=SSIDS] [s1dss=terminate|bypass|ssid0] [asid=ASID] ' +
        '[vmid=VMID] [ats] [stall] [cd_mem=coherent|cacheable] [cd_clean]');
      assert.match(error('attach').message, /^missing STREAM \(StreamID\[:SubstreamID\]\) — the statement is: attach STREAM\[:SSID\] abort\|bypass\|s1\|s2 /);
    });

    it('reports the range of the offending token', () => {
      assert.equal(span(error('map d1 0 -> 0 sise=4K').range), '1:15-1:19');
      assert.equal(span(error('alloc x 4K cachable').range), '1:12-1:20');
      assert.equal(span(error('expect').range), '1:7-1:7');
    });

    it('goes on after a bad line: every error of the file, and every good statement', () => {
      const text = [
        'smmu init',
        'mapp d1 0 -> 0',
        'domain d1',
        'dma 5 read (1',
        '# a comment',
        'map d1 0 -> 0x1000',
        'sync now',
        'dsb',
        'store @ 1',
        'expect dma 5 read 0 -> 0',
      ].join('\n');
      const r = parse(text, FILE, TABLE);
      assert.deepEqual(r.diagnostics.map((d) => `${at(d.range)}: ${d.message}`), [
        `${FILE}:2:1: unknown statement 'mapp' — did you mean 'map'?`,
        `${FILE}:4:14: expected ')' to close "(", found the end of the line`,
        `${FILE}:7:6: unexpected 'now' after a complete 'sync' statement`,
        // A line with a lexical error is not parsed: one error for it.
        `${FILE}:9:7: unexpected character '@'`,
      ]);
      assert.deepEqual(r.statements.map((s) => `${s.range.start.line} ${s.keyword}`), ['1 smmu init', '3 domain', '6 map', '8 dsb', '10 expect dma']);
    });

    it('reports the errors of each line in the named file', () => {
      const r = parse('dsb\nmapp', 'inc/lib.smmu', TABLE);
      assert.equal(at(r.diagnostics[0].range), 'inc/lib.smmu:2:1');
    });
  });
});
