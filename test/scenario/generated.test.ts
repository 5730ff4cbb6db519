/**
 * The scenario language's editor files are generated from the statement table
 * (scripts/gen-language.mjs → src/scenario/reference.ts). These tests regenerate them in
 * memory and compare with the committed files, then tokenize with the real TextMate engine
 * (vscode-textmate + vscode-oniguruma, which vscode-tmgrammar-test brings) to check the
 * grammar agrees with the lexer and the parser: every example of every statement, and every
 * bundled example file, highlights without an `invalid` scope, with its keyword, options,
 * flags and words in their scopes.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { RULES } from '../../src/check/rules';
import { compileForSession, Session } from '../../src/debug/session';
import { compileScenario, NO_INCLUDES } from '../../src/scenario/compiler';
import { lex } from '../../src/scenario/lexer';
import { parse, StatementTable } from '../../src/scenario/parser';
import {
  DEFINES, expandSnippet, generatedSection, generateLanguageFiles, keywordLists, multiSnippets, OPERATORS, OUTPUTS, SCOPE, SKELETON_SNIPPET, snippets,
} from '../../src/scenario/reference';
import { STATEMENTS } from '../../src/scenario/statements';

// Compiled to out/test/scenario/generated.test.js: the repository root is three levels up.
const root = join(__dirname, '..', '..', '..');
const read = (rel: string): string => readFileSync(join(root, rel), 'utf8');
const TABLE = new StatementTable(STATEMENTS);
const STALE = 'run npm run gen-language';

describe('generated language files', () => {
  const files = generateLanguageFiles(RULES);

  it('the generator is deterministic', () => {
    assert.deepEqual(generateLanguageFiles(RULES), files);
  });

  it(`${OUTPUTS.grammar} is up to date`, () => {
    assert.ok(existsSync(join(root, OUTPUTS.grammar)), `${OUTPUTS.grammar} is missing: ${STALE}`);
    assert.ok(read(OUTPUTS.grammar) === files.grammar, `${OUTPUTS.grammar} is out of date: ${STALE}`);
  });

  it(`${OUTPUTS.snippets} is up to date`, () => {
    assert.ok(existsSync(join(root, OUTPUTS.snippets)), `${OUTPUTS.snippets} is missing: ${STALE}`);
    assert.ok(read(OUTPUTS.snippets) === files.snippets, `${OUTPUTS.snippets} is out of date: ${STALE}`);
  });

  it(`the statement reference in ${OUTPUTS.docs} is up to date`, () => {
    const section = generatedSection(read(OUTPUTS.docs));
    assert.ok(section !== undefined, `${OUTPUTS.docs} has lost its GENERATED markers`);
    assert.ok(section === files.reference, `the statement reference in ${OUTPUTS.docs} is out of date: ${STALE}`);
  });

  it('the reference documents every statement, option and flag', () => {
    for (const s of STATEMENTS) {
      assert.ok(files.reference.includes(`#### \`${s.keyword}\``), `no heading for ${s.keyword}`);
      for (const k of Object.keys(s.options ?? {})) assert.ok(files.reference.includes(`\`${k}=`), `${s.keyword}: option ${k} undocumented`);
      for (const f of Object.keys(s.flags ?? {})) assert.ok(files.reference.includes(`\`${f}\``), `${s.keyword}: flag ${f} undocumented`);
    }
  });
});

describe('language tables behind the generated files', () => {
  it('every operator the grammar lists is one lexer token, and every other character the lexer takes as an operator is listed', () => {
    for (const op of OPERATORS) {
      const { tokens, diagnostics } = lex(op, 'op');
      assert.deepEqual(diagnostics, [], op);
      assert.deepEqual(tokens.filter((t) => t.kind === 'op').map((t) => t.text), [op], op);
    }
    for (let c = 0x21; c < 0x7f; c++) {
      const ch = String.fromCharCode(c);
      if (/[A-Za-z0-9_"#\\]/.test(ch)) continue;
      const { tokens } = lex(ch, 'ch');
      if (tokens.some((t) => t.kind === 'op')) assert.ok(OPERATORS.includes(ch), `the lexer knows the operator '${ch}': add it to OPERATORS in reference.ts`);
    }
  });

  it('the statements DEFINES lists define a name later statements can use', () => {
    for (const [keyword, kind] of Object.entries(DEFINES)) {
      const s = STATEMENTS.find((x) => x.keyword === keyword);
      assert.ok(s, `DEFINES names '${keyword}', which is not a statement`);
      const st = parse(s.examples[0], 'x', TABLE).statements[0];
      const name = st.args.get('name')?.value;
      assert.ok(name?.kind === 'word', `${keyword}: its first parameter is the name it defines`);
      const program = compileScenario('x.smmu', `${s.examples[0]}\nconst probe__ = ${name.word}\n`);
      assert.deepEqual(program.diagnostics.filter((d) => /unknown name/.test(d.message)).map((d) => d.message), [], `${keyword} defines a ${kind}`);
    }
  });

  it('every statement snippet expands to a line that parses as its statement', () => {
    const all = snippets(RULES);
    for (const s of STATEMENTS) {
      const body = all[s.keyword]?.body;
      assert.equal(typeof body, 'string', s.keyword);
      const line = expandSnippet(body as string);
      const r = parse(line, 'snippet', TABLE);
      assert.deepEqual(r.diagnostics.map((d) => d.message), [], `${s.keyword}: '${line}'`);
      assert.equal(r.statements[0]?.keyword, s.keyword, line);
    }
  });

  it('the multi-statement snippets compile together without errors', () => {
    const text = Object.values(multiSnippets(RULES)).map((m) => expandSnippet(m.body.join('\n'))).join('\n');
    const program = compileScenario('snippets.smmu', text, undefined, { hazardRules: RULES.map((r) => r.id) });
    assert.deepEqual(program.diagnostics.map((d) => `${d.range.start.line}: ${d.message}`), [], text);
  });

  for (const coherent of ['no', 'yes']) {
    it(`the scenario skeleton snippet runs as it expands (coherent=${coherent}): every expectation holds, no hazard`, () => {
      const text = expandSnippet(SKELETON_SNIPPET.body.join('\n')).replace('coherent=no', `coherent=${coherent}`);
      const session = new Session(compileForSession('skeleton.smmu', text, NO_INCLUDES));
      assert.deepEqual(session.program.diagnostics.map((d) => `${d.range.start.line}: ${d.message}`), [], text);
      const results = session.runner.runToEnd();
      assert.deepEqual(results.errors.map((d) => d.message), []);
      // expect update, expect ste, expect dma, expect no_hazard.
      assert.deepEqual(results.expectations.map((e) => e.ok), [true, true, true, true], results.expectations.map((e) => e.message).join('\n'));
      assert.deepEqual(session.hazards.map((h) => h.rule), []);
    });
  }

  it('the keyword lists cover every statement', () => {
    const kw = keywordLists(RULES);
    assert.deepEqual([...kw.statements].sort(), STATEMENTS.map((s) => s.keyword).sort());
    assert.deepEqual(Object.keys(kw.families).sort(), ['cfgi', 'expect', 'kho', 'smmu', 'tlbi']);
    for (const b of kw.barriers) assert.ok(kw.statements.includes(b), `barrier ${b} is a statement`);
  });
});

// ---- tokenizing with the real engine ------------------------------------------------------

interface TmToken {
  readonly startIndex: number;
  readonly endIndex: number;
  readonly scopes: string[];
}
interface TmGrammar {
  tokenizeLine(line: string, stack: unknown): { tokens: TmToken[]; ruleStack: unknown };
}
interface TextMate {
  Registry: new (options: unknown) => { loadGrammar(scope: string): Promise<TmGrammar | null> };
  parseRawGrammar(content: string, path: string): unknown;
  INITIAL: unknown;
}
interface Oniguruma {
  loadWASM(data: ArrayBuffer): Promise<void>;
  OnigScanner: new (patterns: string[]) => unknown;
  OnigString: new (s: string) => unknown;
}

/** The TextMate engine VS Code uses, through vscode-tmgrammar-test's dependencies; undefined if not installed. */
async function loadGrammar(grammarText: string): Promise<{ grammar: TmGrammar; initial: unknown } | undefined> {
  let load: NodeJS.Require;
  try {
    load = createRequire(require.resolve('vscode-tmgrammar-test/package.json'));
    load.resolve('vscode-textmate');
  } catch {
    return undefined;
  }
  const tm = load('vscode-textmate') as TextMate;
  const onig = load('vscode-oniguruma') as Oniguruma;
  const wasm = readFileSync(join(load.resolve('vscode-oniguruma'), '..', 'onig.wasm'));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const registry = new tm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new onig.OnigScanner(p), createOnigString: (s: string) => new onig.OnigString(s) }),
    loadGrammar: async (scope: string) => (scope === SCOPE ? tm.parseRawGrammar(grammarText, 'smmu.tmLanguage.json') : null),
  });
  const grammar = await registry.loadGrammar(SCOPE);
  return grammar ? { grammar, initial: tm.INITIAL } : undefined;
}

let engine: { grammar: TmGrammar; initial: unknown } | undefined;

/** Each line's tokens, the rule stack carried from line to line as the editor does. */
function tokenize(text: string): { line: string; tokens: TmToken[] }[] {
  let stack = engine!.initial;
  return text.split('\n').map((line) => {
    const r = engine!.grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return { line, tokens: r.tokens };
  });
}

function scopesAt(tokens: readonly TmToken[], index: number): string[] {
  return tokens.find((t) => t.startIndex <= index && index < t.endIndex)?.scopes ?? [];
}

function invalidTokens(text: string): string[] {
  const out: string[] = [];
  tokenize(text).forEach(({ line, tokens }, i) => {
    for (const t of tokens) {
      if (t.scopes.some((s) => s.startsWith('invalid'))) out.push(`line ${i + 1}: '${line.slice(t.startIndex, t.endIndex)}' is ${t.scopes.join(' ')}`);
    }
  });
  return out;
}

describe('the TextMate grammar (tokenized with vscode-textmate)', function () {
  before(async function () {
    engine ??= await loadGrammar(generateLanguageFiles(RULES).grammar);
    // vscode-textmate and vscode-oniguruma come with the devDependency vscode-tmgrammar-test.
    if (!engine) this.skip();
  });

  it('highlights every example in the statement table without an invalid scope', () => {
    const bad = STATEMENTS.flatMap((s) => s.examples.flatMap((e) => invalidTokens(e).map((m) => `${s.keyword}: '${e}': ${m}`)));
    assert.deepEqual(bad, []);
  });

  it('scopes each example\'s keyword, options, flags and words as the parser reads them', () => {
    const problems: string[] = [];
    for (const s of STATEMENTS) {
      for (const e of s.examples) {
        const st = parse(e, 'x', TABLE).statements[0];
        const [{ tokens }] = tokenize(e);
        const want = (index: number, scope: string, what: string): void => {
          const scopes = scopesAt(tokens, index);
          if (!scopes.includes(scope)) problems.push(`${s.keyword}: '${e}': ${what} at ${index} is ${scopes.join(' ')}, not ${scope}`);
        };
        const words = s.keyword.split(' ');
        want(st.keywordRange.start.col - 1, 'keyword.control.statement.smmu', 'the keyword');
        if (words.length === 2) want(st.keywordRange.end.col - 2, 'keyword.control.statement.smmu', 'the second keyword');
        for (const [k, a] of st.options) {
          const bare = !e.slice(a.range.start.col - 1, a.range.end.col - 1).includes('=');
          want(a.range.start.col - 1, bare ? 'keyword.other.flag.smmu' : 'variable.parameter.option.smmu', `option ${k}`);
        }
        for (const p of s.params) {
          const a = st.args.get(p.name);
          if (a && p.kind === 'word') want(a.range.start.col - 1, 'constant.language.smmu', `the word of ${p.name}`);
          if (a && p.name === 'rule') want(a.range.start.col - 1, 'constant.other.rule.smmu', 'the hazard rule');
        }
        for (const t of lex(e, 'x').tokens) {
          if (t.kind === 'ident' && st.flags.has(t.text.toLowerCase()) && t.range.start.col > 1) want(t.range.start.col - 1, 'keyword.other.flag.smmu', `flag ${t.text}`);
          if (t.kind === 'number') want(t.range.start.col - 1, t.text.startsWith('0x') ? 'constant.numeric.hex.smmu' : t.text.startsWith('0b') ? 'constant.numeric.binary.smmu' : 'constant.numeric.decimal.smmu', `number ${t.text}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('highlights every bundled example file without an invalid scope', () => {
    const dir = join(root, 'examples');
    const bad = readdirSync(dir).filter((f) => f.endsWith('.smmu')).sort()
      .flatMap((f) => invalidTokens(readFileSync(join(dir, f), 'utf8')).map((m) => `${f}: ${m}`));
    assert.deepEqual(bad, []);
  });

  it('agrees with the lexer on what is not a number, a string or a character', () => {
    const samples = ['0x1234_5678', '0b1011', '0b1_0', '12_k', '4K', '2m', '0x10K', '1T', '0x12g4', '12kb', '4KB', '0b102', '0x_', '0b', '0X10',
      '"ok"', '"esc \\" aped"', '"open', '@', '$', '!', '!=', '?', ';', '`', '\'', 'é'];
    for (const sample of samples) {
      const lexError = lex(`const X = ${sample}`, 'x').diagnostics.length > 0;
      const grammarError = invalidTokens(`const X = ${sample}`).length > 0;
      assert.equal(grammarError, lexError, `'${sample}': the lexer says ${lexError ? 'error' : 'fine'}, the grammar ${grammarError ? 'marks it invalid' : 'does not'}`);
    }
  });

  it('continues a statement after a trailing backslash, as the lexer does', () => {
    const lines = tokenize('map d1 0x1000 \\  \n  -> 0x2000 size=4K\nsync');
    assert.ok(scopesAt(lines[1].tokens, lines[1].line.indexOf('size')).includes('meta.statement.map.smmu'));
    assert.ok(scopesAt(lines[1].tokens, lines[1].line.indexOf('size')).includes('variable.parameter.option.smmu'));
    assert.ok(!scopesAt(lines[2].tokens, 0).includes('meta.statement.map.smmu'));
    assert.ok(scopesAt(lines[2].tokens, 0).includes('keyword.control.statement.smmu'));
  });
});
