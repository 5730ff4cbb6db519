/**
 * Inputs the fuzz targets found that crashed or hung, each reduced to a minimal literal,
 * with the behaviour the fix gives: a located error (or a result), never an exception.
 */
import { strict as assert } from 'node:assert';
import { compileScenario } from '../../src/scenario/compiler';
import { parseExpression } from '../../src/scenario/parser';

describe('fuzz regressions', () => {
  describe('scenario language', () => {
    it('a unary minus at the end of a line is a parse error, not endless recursion', () => {
      // The parser peeked past the end and saw the trailing '-' again, forever (a stack overflow).
      const r = parseExpression('-');
      assert.ok('error' in r && /end of the line/.test(r.error), JSON.stringify(r));
      assert.ok('error' in parseExpression('~~-'));
      const p = compileScenario('t.smmu', 'inval -');
      assert.equal(p.diagnostics.length, 1);
      assert.equal(p.diagnostics[0].severity, 'error');
      // After "inval -": line 1, the column after the '-' (col 8).
      assert.deepEqual(p.diagnostics[0].range.start, { line: 1, col: 8 });
    });
  });
});
