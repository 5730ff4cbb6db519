/**
 * The bundled example scenarios (examples/*.smmu) are tutorials whose every claim is an
 * `expect` statement. Each runs as `smmu-debug run` and the debugger run it: with the hazard
 * checker following. Each must compile without diagnostics, run without errors, have every
 * expectation hold, and have every hazard the checker finds accounted for by an
 * `expect hazard` (an example that shows a bug says so; its fixed twin shows none).
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSourceHost } from '../src/cli/runCommand';
import { compileForSession, Session } from '../src/debug/session';
import { formatDiagnostic } from '../src/scenario/diagnostics';

// Compiled to out/test/examples.test.js: the repository root is two levels up.
const root = join(__dirname, '..', '..');
const examplesDir = join(root, 'examples');
const files = readdirSync(examplesDir).filter((f) => f.endsWith('.smmu')).sort();

function run(name: string): Session {
  const path = join(examplesDir, name);
  const program = compileForSession(path, readFileSync(path, 'utf8'), nodeSourceHost);
  assert.deepEqual(program.diagnostics.map(formatDiagnostic), [], `${name}: diagnostics`);
  const session = new Session(program);
  session.runner.runToEnd();
  return session;
}

describe('bundled examples', () => {
  it('exist', () => {
    assert.ok(files.length >= 10, `expected at least 10 examples in ${examplesDir}, found ${files.join(', ')}`);
  });

  for (const name of files) {
    it(`${name} compiles, runs, every expectation holds and every hazard is expected`, () => {
      const session = run(name);
      const results = session.runner.results;
      assert.deepEqual(results.errors.map(formatDiagnostic), [], `${name}: runtime errors`);

      const failed = results.expectations.filter((e) => !e.ok).map((e) => `${name}:${e.range.start.line}: ${e.message}`);
      assert.deepEqual(failed, [], `${name}: failed expectations:\n${failed.join('\n')}`);
      assert.ok(results.expectations.length > 0, `${name} checks nothing: a tutorial backs its claims with expect statements`);

      const unexpected = session.hazards.filter((_h, i) => !session.runner.acceptedHazards.has(i))
        .map((h) => `${name}:${h.range.start.line}: ${h.severity} ${h.rule}: ${h.message}`);
      assert.deepEqual(unexpected, [], `${name}: hazards no 'expect hazard' accounts for:\n${unexpected.join('\n')}`);
    });
  }

  // Each example that shows a bug has a '-fixed' twin: the same question with the kernel's
  // answer, where the errors are gone.
  for (const name of files.filter((f) => files.includes(f.replace(/\.smmu$/, '-fixed.smmu')))) {
    const twin = name.replace(/\.smmu$/, '-fixed.smmu');
    it(`${name} finds an error its fixed twin ${twin} does not`, () => {
      const errors = (s: Session): string[] => s.hazards.filter((h) => h.severity === 'error').map((h) => h.rule);
      const bug = errors(run(name));
      const fixed = errors(run(twin));
      assert.ok(bug.length > 0, `${name} shows no error hazard`);
      assert.deepEqual(fixed, [], `${twin} still has errors`);
    });
  }
});
