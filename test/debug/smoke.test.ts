import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';

const root = join(__dirname, '..', '..', '..');
const adapter = join(root, 'dist', 'debugAdapter.js');
const program = join(root, 'test', 'fixtures', 'scenarios', 'dap-basic.smmu');
const khoExample = join(root, 'examples', '20-kho-stage2-only-fixed.smmu');

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

  // A live update: the KHO event filters are offered, a kexec breakpoint stops at the handover,
  // and the scopes include `KHO` (the extension's KHO view shows it by that name).
  it('stops at kexec and shows the KHO scope with the handover description', async () => {
    const init = await dc.initializeRequest();
    const filters = (init.body?.exceptionBreakpointFilters ?? []).map((f) => f.filter);
    for (const f of ['kexec', 'preserve', 'finalize', 'restore']) assert.ok(filters.includes(f), `filter ${f}: ${filters.join(', ')}`);
    await Promise.all([
      dc.waitForEvent('initialized').then(async () => {
        await dc.setExceptionBreakpointsRequest({ filters: ['kexec'] });
        await dc.configurationDoneRequest();
      }),
      dc.launch({ program: khoExample } as never),
      dc.waitForEvent('stopped').then((e) => assert.equal(e.body.reason, 'exception')),
    ]);
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, 'kexec');
    const st = await dc.stackTraceRequest({ threadId: 1 });
    const frames = st.body.stackFrames;
    // The kexec statement of the example.
    assert.equal(frames[frames.length - 1].name, 'kexec');
    const scopes = await dc.scopesRequest({ frameId: frames[0].id });
    const kho = scopes.body.scopes.find((s) => s.name === 'KHO');
    assert.ok(kho, scopes.body.scopes.map((s) => s.name).join(', '));
    const vars = (await dc.variablesRequest({ variablesReference: kho.variablesReference })).body.variables;
    assert.equal(vars.find((v) => v.name === 'state')?.value, 'new kernel after kexec 1: restoring and adopting');
    const desc = vars.find((v) => v.name === 'handover description')!;
    assert.equal(desc.value, 'finalized');
    const subtrees = (await dc.variablesRequest({ variablesReference: desc.variablesReference })).body.variables.map((v) => v.name);
    assert.deepEqual(subtrees, ['state', 'liveupdate-number', 'preserved', 'preserved-memory', 'arm-smmu-v3', 'iommu-domain vm']);
  });
});
