/**
 * Time travel in the debugger's runtime: where a step back lands and what the machine
 * holds there, far from the start (where snapshots are one in 32 statements), and an edit
 * made while stopped surviving a trip forwards and back.
 */
import { strict as assert } from 'node:assert';
import { Runtime } from '../../src/debug/runtime';
import { compileScenario } from '../../src/scenario/compiler';

const BUF = 0x4000_0000;

/** Statement 0 allocates the buffer; statement i (1..n) stores i at BUF + 8 * ((i - 1) % 64). */
function stores(n: number): Runtime {
  const lines = ['alloc buf 4K noncacheable at=0x4000_0000'];
  for (let i = 1; i <= n; i++) lines.push(`store buf + ${8 * ((i - 1) % 64)} ${i}`);
  const p = compileScenario('t.smmu', lines.join('\n') + '\n');
  assert.deepEqual(p.diagnostics, []);
  return new Runtime(p, { check: true });
}

const load = (rt: Runtime, addr: number): bigint => rt.runner.state.machine.load(addr, 8);

describe('debug/runtime: time travel', () => {
  it('steps back one statement at a time far from the start (between the one-in-32 snapshots)', () => {
    const rt = stores(400);
    rt.lines = [{ id: 1, file: 't.smmu', line: 371, hits: new Set() }];
    // Line 371 is statement 370 (lines count from 1): stopped before it, 370 statements done.
    assert.equal(rt.start(false).reason, 'breakpoint');
    assert.deepEqual(rt.position, { next: 370, ops: 370, inStatement: false });
    // Statement 369 stored 369 at BUF + 8 * (368 % 64) = BUF + 0x180; statement 305 stored 305 there before.
    assert.equal(load(rt, BUF + 0x180), 369n);
    for (const n of [369, 368, 367]) {
      rt.stepBack('statement');
      assert.deepEqual(rt.position, { next: n, ops: n, inStatement: false });
    }
    // Now before statement 367, with 1..366 done. BUF + 0x180 (index 48) was last stored by
    // 305 (369 is undone); BUF + 0x170 (index 46) by 303 (367 is not done); BUF + 0x168
    // (index 45 = (366 - 1) % 64) by 366, the last statement done.
    assert.equal(load(rt, BUF + 0x180), 305n);
    assert.equal(load(rt, BUF + 0x170), 303n);
    assert.equal(load(rt, BUF + 0x168), 366n);
  });

  it('an edit made while stopped is still there after going forwards past it and back', () => {
    const rt = stores(5);
    rt.start(true);
    for (let i = 0; i < 4; i++) rt.next();
    rt.stepBack('statement');
    rt.stepBack('statement');
    assert.deepEqual(rt.position, { next: 2, ops: 2, inStatement: false });
    rt.edit((r) => r.runner.state.machine.store(BUF + 0x100, 8, 0xabcn));
    rt.next();
    rt.next();
    rt.stepBack('statement');
    assert.deepEqual(rt.position, { next: 3, ops: 3, inStatement: false });
    assert.equal(load(rt, BUF + 0x100), 0xabcn);
    // Before the edit's position it is undone.
    rt.stepBack('statement');
    rt.stepBack('statement');
    assert.deepEqual(rt.position, { next: 1, ops: 1, inStatement: false });
    assert.equal(load(rt, BUF + 0x100), 0n);
  });
});
