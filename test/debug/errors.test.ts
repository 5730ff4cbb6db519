/**
 * Bad requests over DAP: each is answered with an error that says what is wrong, and the
 * adapter goes on serving the session.
 */
import { strict as assert } from 'node:assert';
import { Dap, fixture, KNOWN, withDap } from './helpers';

const { file, line } = KNOWN;

/** The adapter still answers, and the run still moves. */
async function alive(d: Dap): Promise<void> {
  assert.equal((await d.dc.threadsRequest()).body.threads.length, 2);
}

describe('debug adapter: invalid requests', () => {
  it('answers requests before the launch with an error, then launches', async () => {
    const d = await Dap.start();
    try {
      await d.dc.initializeRequest();
      for (const req of [
        d.dc.stackTraceRequest({ threadId: 1 }),
        d.dc.variablesRequest({ variablesReference: 1 }),
        d.dc.evaluateRequest({ expression: 'ste[5]' }),
        d.dc.continueRequest({ threadId: 1 }),
        d.dc.stepBackRequest({ threadId: 1 }),
        d.dc.customRequest('readMemory', { memoryReference: 'cpu:0x0', count: 8 }),
      ]) {
        assert.match(await d.fails(req), /needs a running scenario: launch one first/);
      }
      // Requests that configure the session are fine before the launch.
      assert.equal((await d.dc.setExceptionBreakpointsRequest({ filters: ['cmo'] })).success, true);
      await alive(d);
      const stopped = d.dc.waitForEvent('stopped');
      await d.dc.launchRequest({ program: file, stopOnEntry: true } as never);
      await d.dc.configurationDoneRequest();
      assert.equal((await stopped).body.reason, 'entry');
    } finally {
      await d.stop();
    }
  });

  it('rejects a launch without a program, of a missing file, or of a scenario with errors (file:line:col)', async () => {
    const d = await Dap.start();
    try {
      await d.dc.initializeRequest();
      assert.match(await d.fails(d.dc.launchRequest({} as never)), /launch needs "program"/);
      assert.match(await d.fails(d.dc.launchRequest({ program: fixture('no-such.smmu') } as never)), /cannot read the scenario .*no-such\.smmu/);
      // bad.smmu: line 3 is an unknown statement; line 4 names an undefined domain at column 5.
      const bad = fixture('bad.smmu');
      const msg = await d.fails(d.dc.launchRequest({ program: bad } as never));
      assert.equal(msg, `the scenario has errors: ${bad}:3:1: error: unknown statement 'frobnicate' (and 1 more error, in the debug console)`);
      assert.ok(d.outputs.some((o) => o.category === 'stderr' && o.output.startsWith(`${bad}:4:5: error: unknown domain 'nodomain'`)));
      // The adapter is still there: a good launch works.
      const stopped = d.dc.waitForEvent('stopped');
      await d.dc.launchRequest({ program: file, stopOnEntry: true } as never);
      await d.dc.configurationDoneRequest();
      await stopped;
      await alive(d);
    } finally {
      await d.stop();
    }
  });

  it('rejects an unknown variablesReference, frame id or thread', () =>
    withDap(file, async (d) => {
      assert.match(await d.fails(d.dc.variablesRequest({ variablesReference: 99_999 })), /unknown variablesReference 99999/);
      assert.match(await d.fails(d.dc.scopesRequest({ frameId: 4242 })), /unknown frame id 4242/);
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'CR0', frameId: 4242 })), /unknown frame id 4242/);
      assert.match(await d.fails(d.dc.stackTraceRequest({ threadId: 7 })), /unknown thread 7/);
      // References from before a step are gone after it.
      const ref = (await d.scope('Registers')).variablesReference;
      await d.next();
      assert.match(await d.fails(d.dc.variablesRequest({ variablesReference: ref })), /valid until the next step/);
      await alive(d);
    }));

  it('rejects bad expressions with the reason', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.expectDma);
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'ste[' })), /expected/);
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'nosuch + 1' })), /unknown name 'nosuch'/);
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'ste[5].nofield' })), /Stream Table Entry has no field 'nofield'/);
      // StreamID 7 was never attached: its STE is the initial abort STE, with no CD table.
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'cd[7][0]' })), /STE 0x7 does not translate at stage 1/);
      // SIDSIZE 8: 256 StreamIDs. STE 5 has S1CDMax 0: one CD.
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'ste[300]' })), /StreamID 0x12c is beyond the stream table \(2\^8 StreamIDs\)/);
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'cd[5][3]' })), /SubstreamID 0x3 is beyond the 2\^0 CDs/);
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'walk(5)' })), /takes 2 or 3 arguments/);
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'cpu(0x4000_d004)' })), /must be 8-byte aligned/);
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'decode ste zz' })), /'zz' is not hexadecimal/);
      assert.match(await d.fails(d.dc.evaluateRequest({ expression: 'CR0 == nosuch' })), /unknown name 'nosuch'/);
      await alive(d);
      assert.match((await d.evaluate('ste[5]')).result, /stage-1 translate/);
    }));

  it('rejects bad memory references and an unknown exception filter', () =>
    withDap(file, async (d) => {
      assert.match(await d.fails(d.dc.customRequest('readMemory', { memoryReference: 'xyz:0x10', count: 8 })), /bad memory reference 'xyz:0x10': expected cpu:ADDR, poc:ADDR or smmu:ADDR/);
      assert.match(await d.fails(d.dc.customRequest('writeMemory', { memoryReference: 'cpu', data: '' })), /bad memory reference 'cpu'/);
      assert.match(await d.fails(d.dc.customRequest('writeMemory', { memoryReference: 'smmu:0x0', data: 'AA==' })), /the SMMU view is what the SMMU would read/);
      assert.match(await d.fails(d.dc.disassembleRequest({ memoryReference: 'here', instructionCount: 4 })), /bad memory reference 'here' for disassembly/);
      assert.match(await d.fails(d.dc.setExceptionBreakpointsRequest({ filters: ['hazard:no-such-rule'] })), /unknown exception filter hazard:no-such-rule/);
      assert.match(await d.fails(d.dc.exceptionInfoRequest({ threadId: 1 })), /not stopped on an event or hazard/);
      assert.match(await d.fails(d.dc.customRequest('smmu/nonsense')), /unknown request 'smmu\/nonsense'/);
      await alive(d);
      assert.equal((await d.next()).reason, 'step');
    }));
});
