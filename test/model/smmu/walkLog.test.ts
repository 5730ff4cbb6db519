import { strict as assert } from 'node:assert';
import { RESERVE, stepsIn, WalkLog } from '../../../src/model/smmu/walkLog';
import { WalkStepDetail } from '../../../src/model/smmu/types';

/** A stage-1 level-0 table step at 0x4000_0008 (descriptor 0x0060_0000_4000_1003: a table at 0x4000_1000, bits 53/54 set). */
function recordTable(log: WalkLog, descAddr = 0x4000_0008): void {
  log.record(1, 0, descAddr, 0x4000_1003, 0x0060_0000, 1, 0x80_8060_4abc, 4, false, undefined, 0x4000_1000);
}

const TABLE_STEP: WalkStepDetail = {
  stage: 1, level: 0, descAddr: 0x4000_0008, desc: 0x0060_0000_4000_1003n, type: 'table', source: 'memory',
  forTable: false, input: 0x80_8060_4abc, granule: 4, descIpa: undefined, next: 0x4000_1000,
};

describe('model/smmu/walkLog', () => {
  it('gives back the steps it recorded as the walker\'s objects', () => {
    const log = new WalkLog();
    const start = log.begin();
    recordTable(log);
    // A nested stage-2 page step (type code 3) for the table's IPA: 64K granule, no next table.
    log.record(2, 3, 0x1000_2028, 0x3000_77ff, 0, 3, 0x4060_5abc, 64, true, 0x80_4020_0008, undefined);
    log.end();
    assert.deepEqual(stepsIn(log.chunk, start, log.length), [
      TABLE_STEP,
      {
        stage: 2, level: 3, descAddr: 0x1000_2028, desc: 0x3000_77ffn, type: 'page', source: 'memory',
        forTable: true, input: 0x4060_5abc, granule: 64, descIpa: 0x80_4020_0008, next: undefined,
      },
    ]);
  });

  it('keeps a walk\'s steps where they were recorded while later walks fill new chunks', () => {
    // Room for RESERVE + 2 steps: the second walk starts a new chunk (fewer than RESERVE left).
    const log = new WalkLog(RESERVE + 2);
    const start = log.begin();
    recordTable(log, 0x4000_0008);
    recordTable(log, 0x4000_0010);
    recordTable(log, 0x4000_0018);
    log.end();
    const first = { chunk: log.chunk, end: log.length };
    assert.equal(log.begin(), 0, 'a new chunk');
    recordTable(log, 0x5000_0000);
    log.end();
    assert.notEqual(log.chunk, first.chunk);
    assert.deepEqual(stepsIn(first.chunk, start, first.end).map((s) => s.descAddr), [0x4000_0008, 0x4000_0010, 0x4000_0018]);
    assert.deepEqual(stepsIn(log.chunk, 0, log.length).map((s) => s.descAddr), [0x5000_0000]);
  });

  it('moves a walk that outgrows its chunk to a larger one, at the same indices', () => {
    const log = new WalkLog(4);
    const start = log.begin();
    for (let i = 0; i < 10; i++) recordTable(log, 0x4000_0000 + i * 8);
    log.end();
    assert.equal(log.length - start, 10);
    assert.deepEqual(stepsIn(log.chunk, start, log.length).map((s) => s.descAddr), Array.from({ length: 10 }, (_, i) => 0x4000_0000 + i * 8));
  });

  it('records one walk at a time, and into an array as objects in the order read', () => {
    const log = new WalkLog();
    log.begin();
    assert.throws(() => log.begin(), /one walk at a time/);
    const steps: WalkStepDetail[] = [];
    recordTable(WalkLog.into(steps));
    assert.deepEqual(steps, [TABLE_STEP]);
  });
});
