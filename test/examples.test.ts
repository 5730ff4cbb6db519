/**
 * The bundled example scenarios (examples/*.smmu) are tutorials whose every claim is an
 * `expect` statement. Each runs as `smmu-debug run` and the debugger run it: with the hazard
 * checker following. Each must compile without diagnostics, run without errors, have every
 * expectation hold, and have every hazard the checker finds accounted for by an
 * `expect hazard` (an example that shows a bug says so, and an error left unaccounted for
 * would make `smmu-debug run` exit 1). Every example that shows an error has a `-fixed`
 * twin, and a fixed twin has no error-severity hazard at all.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSourceHost } from '../src/cli/runCommand';
import { compileForSession, LocatedHazard, Session } from '../src/debug/session';
import { formatDiagnostic } from '../src/scenario/diagnostics';

// Compiled to out/test/examples.test.js: the repository root is two levels up.
const root = join(__dirname, '..', '..');
const examplesDir = join(root, 'examples');
const files = readdirSync(examplesDir).filter((f) => f.endsWith('.smmu')).sort();
const isFixed = (f: string): boolean => f.endsWith('-fixed.smmu');
const twinOf = (f: string): string => f.replace(/\.smmu$/, '-fixed.smmu');
const bugOf = (f: string): string => f.replace(/-fixed\.smmu$/, '.smmu');

/** Each example is compiled and run once, with the checker, as `smmu-debug run` does. */
const sessions = new Map<string, Session>();
function run(name: string): Session {
  let session = sessions.get(name);
  if (!session) {
    const path = join(examplesDir, name);
    const program = compileForSession(path, readFileSync(path, 'utf8'), nodeSourceHost);
    assert.deepEqual(program.diagnostics.map(formatDiagnostic), [], `${name}: diagnostics`);
    session = new Session(program);
    session.runner.runToEnd();
    sessions.set(name, session);
  }
  return session;
}

const line = (name: string, h: LocatedHazard): string => `${name}:${h.range.start.line}: ${h.severity} ${h.rule}: ${h.message}`;

/** Hazards no `expect hazard` accounted for, of one severity. */
function unaccounted(name: string, severity: 'error' | 'warning'): string[] {
  const s = run(name);
  return s.hazards.filter((h, i) => h.severity === severity && !s.runner.acceptedHazards.has(i)).map((h) => line(name, h));
}

const errors = (name: string): LocatedHazard[] => run(name).hazards.filter((h) => h.severity === 'error');

describe('bundled examples', () => {
  it('exist', () => {
    assert.ok(files.length >= 10, `expected at least 10 examples in ${examplesDir}, found ${files.join(', ')}`);
  });

  for (const name of files) {
    describe(name, () => {
      it('compiles, runs without errors and every expectation holds', () => {
        const results = run(name).runner.results;
        assert.deepEqual(results.errors.map(formatDiagnostic), [], `${name}: runtime errors`);
        const failed = results.expectations.filter((e) => !e.ok).map((e) => `${name}:${e.range.start.line}: ${e.message}`);
        assert.deepEqual(failed, [], `${name}: failed expectations:\n${failed.join('\n')}`);
        assert.ok(results.expectations.length > 0, `${name} checks nothing: a tutorial backs its claims with expect statements`);
      });

      it('leaves no error-severity hazard unaccounted for (smmu-debug run exits 0)', () => {
        const left = unaccounted(name, 'error');
        assert.deepEqual(left, [], `${name}: errors no 'expect hazard' accounts for:\n${left.join('\n')}`);
      });

      it('explains its warnings too', () => {
        const left = unaccounted(name, 'warning');
        assert.deepEqual(left, [], `${name}: warnings no 'expect hazard' accounts for:\n${left.join('\n')}`);
      });

      if (isFixed(name)) {
        it('has no error-severity hazard at all', () => {
          const found = errors(name).map((h) => line(name, h));
          assert.deepEqual(found, [], `${name} is a fixed twin but the checker still finds errors:\n${found.join('\n')}`);
        });
        it(`is the twin of ${bugOf(name)}, which shows an error it does not`, () => {
          assert.ok(files.includes(bugOf(name)), `${name} has no unfixed twin ${bugOf(name)}`);
          assert.ok(errors(bugOf(name)).length > 0, `${bugOf(name)} shows no error hazard for ${name} to fix`);
        });
      } else {
        it('has a -fixed twin if it shows an error', () => {
          if (errors(name).length === 0) return;
          assert.ok(files.includes(twinOf(name)),
            `${name} shows ${[...new Set(errors(name).map((h) => h.rule))].join(', ')} but has no fixed twin ${twinOf(name)}`);
        });
      }
    });
  }
});
