/** The README's scenario runs as the README says: its claims are expectations that hold. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NO_INCLUDES } from '../src/scenario/compiler';
import { formatDiagnostic } from '../src/scenario/diagnostics';
import { compileForSession, Session } from '../src/debug/session';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```\n(platform [\s\S]*?)```/g)].map((m) => m[1]);

describe('README', () => {
  it('has a scenario', () => assert.ok(blocks.length > 0));

  for (const [i, text] of blocks.entries()) {
    it(`scenario ${i + 1} compiles, every expectation holds and every error hazard is expected`, () => {
      const program = compileForSession('README.md', text, NO_INCLUDES);
      assert.deepEqual(program.diagnostics.map(formatDiagnostic), []);
      const session = new Session(program);
      const r = session.runner.runToEnd();
      assert.deepEqual(r.errors.map(formatDiagnostic), []);
      assert.deepEqual(r.expectations.filter((e) => !e.ok).map((e) => e.message), []);
      const unexpected = session.hazards.filter((h, k) => h.severity === 'error' && !session.runner.acceptedHazards.has(k));
      assert.deepEqual(unexpected.map((h) => `${h.rule}: ${h.message}`), []);
    });
  }
});
