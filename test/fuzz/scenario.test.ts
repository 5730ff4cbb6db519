/**
 * Fuzz targets for the scenario language: random and mutated scenario text through the
 * lexer, the parser and the compiler (every problem a diagnostic with a place in the
 * text), and the programs that compile through the runner with the hazard checker
 * following, under small limits (a statement that fails is a located run error). Nothing
 * may throw.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { report } from '../../src/cli/runCommand';
import { compileForSession, Session } from '../../src/debug/session';
import { hasErrors, SourceHost, TABLE } from '../../src/scenario/compiler';
import { Diagnostic } from '../../src/scenario/diagnostics';
import { lex } from '../../src/scenario/lexer';
import { parse, parseExpression } from '../../src/scenario/parser';
import { fuzz } from './harness';
import { EXAMPLES, mutatedExample, randomText, scenarioText } from './scenarioText';

/** Includes resolve among the examples and a shared file; anything with `..` is refused, as outside the folder. */
const host: SourceHost = {
  read: (path) => (path === 'common.smmu' ? 'platform coherent=no\nsmmu sidsize=8\nsmmu init\n' : EXAMPLES.find((e) => e.name === path)?.text),
  resolve: (_from, rel) => rel,
  allowed: (path) => (path.includes('..') ? 'outside the scenario\'s folder' : undefined),
};

/** A diagnostic names a file and a place in it that exists (or the end of the text), and says something. */
function located(d: Diagnostic, texts: ReadonlyMap<string, string>): void {
  const text = texts.get(d.range.file);
  assert.ok(text !== undefined, `a diagnostic in an unknown file '${d.range.file}': ${d.message}`);
  const lines = text.split('\n');
  const { line, col } = d.range.start;
  assert.ok(Number.isInteger(line) && line >= 1 && line <= lines.length + 1, `line ${line} of ${lines.length}: ${d.message}`);
  assert.ok(Number.isInteger(col) && col >= 1 && col <= (lines[line - 1]?.length ?? 0) + 2, `column ${col} of line ${line}: ${d.message}`);
  assert.ok(d.message.trim().length > 0, 'an empty message');
}

const LIMITS = { maxOps: 3000, maxPages: 4096 };

function compileAndRun(name: string, text: string, check: boolean): void {
  const program = compileForSession(name, text, host);
  for (const d of program.diagnostics) located(d, program.sources);
  if (hasErrors(program)) return;
  const session = new Session(program, { limits: LIMITS, check, checkOptions: { bound: 64 } });
  const results = session.runner.runToEnd();
  for (const d of results.errors) located(d, program.sources);
  assert.ok(session.runner.ops <= LIMITS.maxOps);
  // What `smmu-debug run --json` prints from it.
  JSON.stringify(report(program, session.runner, results, session.hazards));
}

describe('fuzz: scenario language', () => {
  fuzz('scenario-lex-parse', 2000, scenarioText(), ({ name, text }) => {
    const sources = new Map([[name, text]]);
    for (const d of lex(text, name).diagnostics) located(d, sources);
    const parsed = parse(text, name, TABLE);
    for (const d of parsed.diagnostics) located(d, sources);
  });

  fuzz('scenario-compile', 1000, scenarioText(), ({ name, text }) => {
    const program = compileForSession(name, text, host);
    for (const d of program.diagnostics) located(d, program.sources);
  });

  fuzz('scenario-expression', 2000, randomText(), (text) => {
    const r = parseExpression(text);
    assert.ok('expr' in r || (typeof r.error === 'string' && r.error.length > 0));
  });

  // Running is the slow part (the checker judges every value the SMMU could observe): few cases here.
  fuzz('scenario-run', 25, fc.tuple(mutatedExample(3), fc.boolean()), ([{ name, text }, check]) => compileAndRun(name, text, check));
});
