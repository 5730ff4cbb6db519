/**
 * The checker across a restored run (the debugger's step back): what was pending at the
 * restored point — invalidations not yet synchronised — is pending again there, so a later
 * free or the end is judged as the first time.
 */
import { strict as assert } from 'node:assert';
import { Session } from '../../src/debug/session';
import { check } from './scenario';

const LINES = [
  /* 1 */ 'platform coherent=no',
  /* 2 */ 'smmu stages=1,2 sidsize=8',
  /* 3 */ 'smmu init strtab=linear',
  /* 4 */ 'attach 5 bypass',
  // A CFGI_STE consumed by the SMMU, with no CMD_SYNC after it yet.
  /* 5 */ 'cfgi ste 5',
  /* 6 */ 'alloc buf 4K cacheable',
  /* 7 */ 'sync',
];

describe('check: a restored run', () => {
  it('keeps the invalidations issued before the restored point pending: sync-missing at the end', () => {
    const c = check(LINES);
    assert.deepEqual(c.session.hazards.filter((h) => h.rule === 'sync-missing'), []);
    const again = new Session(c.session.program);
    // Run the statements up to and including line 6 (the CFGI_STE is pending), snapshot, run on.
    while (!again.runner.done && again.runner.current!.range.start.line <= 6) again.runner.runStatement();
    const snap = again.snapshot();
    again.runner.runToEnd();
    again.restore(snap);
    // Ending here, before line 7's CMD_SYNC, leaves the CFGI_STE unsynchronised.
    again.checker!.finish();
    const sync = again.hazards.filter((h) => h.rule === 'sync-missing').map((h) => h.message);
    assert.deepEqual(sync, ['the scenario ends after CMD_CFGI_STE with no CMD_SYNC completing them']);
  });
});
