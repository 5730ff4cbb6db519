/**
 * The bundled example scenarios (examples/*.smmu) are tutorials whose every claim is an
 * `expect` statement: each must compile without diagnostics, run without errors, and have
 * every expectation hold.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSourceHost } from '../src/cli/runCommand';
import { compileScenario } from '../src/scenario/compiler';
import { formatDiagnostic } from '../src/scenario/diagnostics';
import { Runner } from '../src/scenario/runner';

// Compiled to out/test/examples.test.js: the repository root is two levels up.
const root = join(__dirname, '..', '..');
const examplesDir = join(root, 'examples');
const files = readdirSync(examplesDir).filter((f) => f.endsWith('.smmu')).sort();

describe('bundled examples', () => {
  it('exist', () => {
    assert.ok(files.length >= 10, `expected at least 10 examples in ${examplesDir}, found ${files.join(', ')}`);
  });

  for (const name of files) {
    it(`${name} compiles, runs and every expectation holds`, () => {
      const path = join(examplesDir, name);
      const program = compileScenario(path, readFileSync(path, 'utf8'), nodeSourceHost);
      assert.deepEqual(program.diagnostics.map(formatDiagnostic), [], `${name}: diagnostics`);

      const results = new Runner(program).runToEnd();
      assert.deepEqual(results.errors.map(formatDiagnostic), [], `${name}: runtime errors`);

      const failed = results.expectations.filter((e) => !e.ok).map((e) => `${name}:${e.range.start.line}: ${e.message}`);
      assert.deepEqual(failed, [], `${name}: failed expectations:\n${failed.join('\n')}`);
      assert.ok(results.expectations.length > 0, `${name} checks nothing: a tutorial backs its claims with expect statements`);
    });
  }
});
