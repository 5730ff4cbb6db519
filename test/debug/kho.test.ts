/** The debugger across a live update: KHO filters, a stop at kexec, the KHO scope. */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';

const root = join(__dirname, '..', '..', '..');
const adapter = join(root, 'dist', 'debugAdapter.js');
const khoExample = join(root, 'examples', '20-kho-stage2-only-fixed.smmu');

describe('debug adapter: live update', () => {
  let dc: DebugClient;
  beforeEach(async () => {
    dc = new DebugClient('node', adapter, 'smmu');
    await dc.start();
  });
  afterEach(async () => {
    await dc.stop();
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
