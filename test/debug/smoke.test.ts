import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';

const root = join(__dirname, '..', '..', '..');
const adapter = join(root, 'dist', 'debugAdapter.js');
const program = join(root, 'test', 'fixtures', 'scenarios', 'dap-basic.smmu');

describe('debug adapter smoke', () => {
  let dc: DebugClient;
  beforeEach(async () => {
    dc = new DebugClient('node', adapter, 'smmu');
    await dc.start();
  });
  afterEach(async () => {
    await dc.stop();
  });

  it('stops on entry, hits a line breakpoint, steps back', async () => {
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program, stopOnEntry: true } as never),
      dc.waitForEvent('stopped'),
    ]);
    await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 7 }] });
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.assertStoppedLocation('breakpoint', { path: program, line: 7 })]);
    const st = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(st.body.stackFrames[0].line, 7);
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    const names = scopes.body.scopes.map((s) => s.name);
    assert.ok(names.includes('Stream table'), names.join(','));
    await Promise.all([dc.stepBackRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
    const st2 = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(st2.body.stackFrames[st2.body.stackFrames.length - 1].line, 6);
  });
});
