/**
 * The adapter under what clients do at awkward moments: ids from an earlier stop (VS Code
 * sends them while it catches up), evaluate errors from hovers, a disconnect or a restart
 * while a run is going, two sessions in one process (the inline adapter), and launch
 * options the engine cannot take. Each is answered, and errors a user did not ask for are
 * not raised as notifications (DAP's showUser).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SourceHost } from '../../src/scenario/compiler';
import { DapDriver, errorOf } from '../helpers/dapDriver';
import { KNOWN, ROOT } from './helpers';

const BIGMAP = join(ROOT, 'test', 'fixtures', 'scenarios', 'dap-bigmap.smmu');
const host: SourceHost = { read: (p) => readFileSync(p, 'utf8'), resolve: (from, rel) => join(from, '..', rel) };

/** Launched and stopped on entry. */
async function stopped(args: Record<string, unknown> = {}): Promise<DapDriver> {
  const d = new DapDriver(host);
  const stop = d.waitFor('stopped');
  const r = await d.launchResponse({ program: KNOWN.file, stopOnEntry: true, ...args });
  assert.ok(r.success, r.message);
  await stop;
  return d;
}

async function frameId(d: DapDriver): Promise<number> {
  const st = await d.send('stackTrace', { threadId: 1 });
  return (st.body as DebugProtocol.StackTraceResponse['body']).stackFrames[0].id;
}

/** big-linear.smmu, past `smmu init strtab=linear` (which programs the stream table): its indexed STE table. */
async function steTable(d: DapDriver): Promise<DebugProtocol.Variable> {
  const next = d.waitFor('stopped');
  await d.send('next', { threadId: 1 });
  await next;
  const scopes = (await d.send('scopes', { frameId: await frameId(d) })).body as DebugProtocol.ScopesResponse['body'];
  const st = scopes.scopes.find((x) => x.name === 'Stream table')!;
  return ((await d.send('variables', { variablesReference: st.variablesReference })).body as DebugProtocol.VariablesResponse['body'])
    .variables.find((v) => (v.indexedVariables ?? 0) > 0)!;
}

describe('debug adapter: resilience', function () {
  this.timeout(60_000);

  it('ids from an earlier stop are answered with an error that is not shown as a notification', async () => {
    const d = await stopped();
    const frame = await frameId(d);
    const scopes = await d.send('scopes', { frameId: frame });
    const ref = (scopes.body as DebugProtocol.ScopesResponse['body']).scopes[0].variablesReference;
    const next = d.waitFor('stopped');
    await d.send('next', { threadId: 1 });
    await next;
    // The stale ids, as VS Code may still send them for the previous stop. Frame ids restart
    // at each stop, so an id past the new stack's is the stale one here.
    for (const [command, args] of [
      ['variables', { variablesReference: ref }],
      ['scopes', { frameId: 9999 }],
      ['evaluate', { expression: 'CR0', frameId: 9999, context: 'hover' }],
      ['setVariable', { variablesReference: ref, name: 'V', value: '1' }],
    ] as const) {
      const r = await d.send(command, args);
      assert.equal(r.success, false, command);
      assert.match(r.message ?? '', /valid until|unknown frame id/, command);
      assert.notEqual(errorOf(r)?.showUser, true, `${command}: a stale id raised a notification`);
    }
    await d.send('disconnect', {});
  });

  it('an evaluate error (a hover over a word that is not an expression) is answered, not notified', async () => {
    const d = await stopped();
    const r = await d.send('evaluate', { expression: 'ste[', context: 'hover', frameId: await frameId(d) });
    assert.equal(r.success, false);
    assert.match(r.message ?? '', /expected/);
    assert.notEqual(errorOf(r)?.showUser, true);
    await d.send('disconnect', {});
  });

  it('a disconnect in the middle of a long run is answered and the run stops', async () => {
    const d = await stopped({ program: BIGMAP });
    await d.send('continue', { threadId: 1 });
    const r = await d.send('disconnect', {});
    assert.equal(r.success, true);
    const before = d.events.length;
    // Slices of the run are timers: none may report anything after the disconnect.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(d.events.slice(before).filter((e) => e.event === 'stopped' || e.event === 'terminated'), []);
    // And the session answers, with an error, what comes after.
    const late = await d.send('stackTrace', { threadId: 1 });
    assert.equal(late.success, false);
  });

  it('a restart while a run is going starts again from the top', async () => {
    const d = await stopped({ program: BIGMAP });
    await d.send('continue', { threadId: 1 });
    const stop = d.waitFor('stopped');
    const r = await d.send('restart', { arguments: { program: BIGMAP, stopOnEntry: true } });
    assert.equal(r.success, true, r.message);
    assert.equal(((await stop) as DebugProtocol.StoppedEvent).body.reason, 'entry');
    const pos = await d.send('smmu/position', {});
    assert.deepEqual(pos.body, { statement: 0, ops: 0, done: false });
    await d.send('disconnect', {});
  });

  it('two sessions in one process run independently', async () => {
    const a = await stopped();
    const b = await stopped();
    const next = a.waitFor('stopped');
    await a.send('next', { threadId: 1 });
    await next;
    // a moved on by one statement; b is still on entry.
    const pa = (await a.send('smmu/position', {})).body as { statement: number; ops: number };
    const pb = (await b.send('smmu/position', {})).body as { statement: number; ops: number };
    assert.equal(pa.statement, 1);
    assert.deepEqual(pb, { statement: 0, ops: 0, done: false });
    await a.send('disconnect', {});
    // Disconnecting one leaves the other serving.
    assert.equal((await b.send('threads', {})).success, true);
    await b.send('disconnect', {});
  });

  it('writeMemory with data that is not base64 is refused, and nothing is written', async () => {
    // Found by the DAP fuzz target: atob threw, and the catch-all answered "writeMemory failed: Invalid character".
    const d = await stopped();
    const r = await d.send('writeMemory', { memoryReference: `cpu:0x${KNOWN.buf.toString(16)}`, data: '!' });
    assert.equal(r.success, false);
    assert.equal(r.message, "writeMemory data '!' is not base64");
    const read = await d.send('readMemory', { memoryReference: `cpu:0x${KNOWN.buf.toString(16)}`, count: 1 });
    assert.equal((read.body as DebugProtocol.ReadMemoryResponse['body'])!.data, 'AA==');
    await d.send('disconnect', {});
  });

  it('a client asking for 2^53 instructions or variables gets an error or a page, not an out-of-memory crash', async () => {
    // Found by the DAP fuzz target: the adapter built every instruction and variable asked for, and the process died.
    const d = await stopped({ program: join(ROOT, 'test', 'debug', 'fixtures', 'big-linear.smmu') });
    const dis = await d.send('disassemble', { memoryReference: '0x0', instructionCount: 2 ** 53 });
    assert.equal(dis.success, false);
    assert.equal(dis.message, `disassemble asks for ${2 ** 53} instructions: at most 10000 at a time`);
    const table = await steTable(d);
    // big-linear: SIDSIZE 16, a linear table of 2^16 = 65536 STEs; one request returns at most 10000 of them.
    assert.equal(table.indexedVariables, 65536);
    const page = await d.send('variables', { variablesReference: table.variablesReference, start: 0, count: 2 ** 53 });
    assert.equal((page.body as DebugProtocol.VariablesResponse['body']).variables.length, 10_000);
    await d.send('disconnect', {});
  });

  it('a request without the arguments the protocol requires is refused by name, not with a TypeError', async () => {
    // Found by dap-stdio: setVariable with no arguments was answered "setVariable failed: Cannot read properties of undefined".
    const d = await stopped();
    for (const [command, args] of [['setVariable', undefined], ['variables', null], ['evaluate', 'ste[5]'], ['setBreakpoints', [1]]] as const) {
      const r = await d.send(command, args);
      assert.equal(r.success, false);
      assert.equal(r.message, `'${command}' needs its arguments as an object (the Debug Adapter Protocol's ${command} arguments), not ${JSON.stringify(args) ?? 'nothing'}`);
    }
    // The session goes on.
    assert.equal((await d.send('stackTrace', { threadId: 1 })).success, true);
    await d.send('disconnect', {});
  });

  it('an error message quoting braces the client sent keeps them, and the request is answered', async () => {
    // Found by dap-requests (after 26,600 and 79,147 cases): 'next' with arguments [["{_"],{}]. The refusal quotes the
    // arguments, and the library read "{_\"],{}" as a placeholder to fill from a table of values there was none of:
    // a TypeError instead of the answer.
    const d = await stopped();
    for (const args of [[['{_'], {}], [{ '}{_': 0 }]]) {
      const r = await d.send('next', args);
      assert.equal(r.success, false);
      assert.equal(r.message, `'next' needs its arguments as an object (the Debug Adapter Protocol's next arguments), not ${JSON.stringify(args)}`);
    }
    // The same for evaluate's errors, which quote the expression.
    const ev = await d.send('evaluate', { expression: 'decode ste {_x}', context: 'repl' });
    assert.equal(ev.success, false);
    assert.equal(ev.message, "value 1 '{_x}' is not hexadecimal (unexpected '{'); expected digits 0-9 a-f, optionally after 0x");
    assert.equal((await d.send('stackTrace', { threadId: 1 })).success, true);
    await d.send('disconnect', {});
  });

  it('a fraction or a negative count where the protocol means a whole number is refused by name', async () => {
    // Found by the DAP fuzz target: `variables` with start 0.5 on the 65,536-STE table tripped the handler
    // ("variables failed: Cannot read properties of undefined").
    const d = await stopped({ program: join(ROOT, 'test', 'debug', 'fixtures', 'big-linear.smmu') });
    const table = await steTable(d);
    const refused = async (command: string, args: object): Promise<string> => {
      const r = await d.send(command, args);
      assert.equal(r.success, false, `${command} ${JSON.stringify(args)} answered`);
      return r.message!;
    };
    assert.equal(await refused('variables', { variablesReference: table.variablesReference, start: 0.5 }), 'variables: start must be a whole number ≥ 0, not 0.5');
    assert.equal(await refused('variables', { variablesReference: table.variablesReference, start: 3, count: -1 }), 'variables: count must be a whole number ≥ 0, not -1');
    assert.equal(await refused('stackTrace', { threadId: 1, startFrame: 1.5 }), 'stackTrace: startFrame must be a whole number ≥ 0, not 1.5');
    assert.equal(await refused('readMemory', { memoryReference: 'cpu:0x1000', offset: 0.25, count: 8 }), 'readMemory: offset must be a whole number, not 0.25');
    assert.equal(await refused('readMemory', { memoryReference: 'cpu:0x1000', count: -8 }), 'readMemory: count must be a whole number ≥ 0, not -8');
    assert.equal(await refused('disassemble', { memoryReference: '0x0', instructionOffset: 0.5, instructionCount: 4 }), 'disassemble: instructionOffset must be a whole number, not 0.5');
    // Whole numbers, negative offsets included, are still answered.
    const page = await d.send('variables', { variablesReference: table.variablesReference, start: 65_530, count: 10 });
    // The last 6 of the 65,536 STEs (65,530..65,535).
    assert.equal((page.body as DebugProtocol.VariablesResponse['body']).variables.length, 6);
    assert.equal((await d.send('readMemory', { memoryReference: 'cpu:0x1000', offset: -8, count: 8 })).success, true);
    await d.send('disconnect', {});
  });

  it('a reverse-continue that finds no earlier stop within requestTimeout stays where it was and says so', async () => {
    // dap-bigmap: smmu init (0), domain (1), the 256 MiB map (2: 65536 PTE stores), const (3).
    const d = await stopped({ program: BIGMAP, check: false, requestTimeout: 0.001 });
    for (let i = 0; i < 3; i++) {
      const s = d.waitFor('stopped');
      await d.send('next', { threadId: 1 });
      await s;
    }
    const here = (await d.send('smmu/position', {})).body as { statement: number; ops: number };
    assert.equal(here.statement, 3);
    const stop = d.waitFor('stopped');
    assert.equal((await d.send('reverseContinue', { threadId: 1 })).success, true);
    const body = ((await stop) as DebugProtocol.StoppedEvent).body;
    assert.equal(body.reason, 'pause');
    assert.match(body.description ?? '', /without finding an earlier stop and stayed here \(limit requestTimeout, 0\.001 s\); raise it with the launch option "requestTimeout"/);
    assert.deepEqual((await d.send('smmu/position', {})).body, { ...here, done: false });
    await d.send('disconnect', {});
  });

  it('launch options the engine cannot take are refused with the attribute named', async () => {
    for (const [args, message] of [
      [{ lineSize: 7 }, /"lineSize" 7: expected the CPU cache line size in bytes, a power of two from 16 to 4096/],
      [{ wbGranule: 3 }, /"wbGranule" 3: expected 1, 2, 4 or 8/],
      [{ maxOps: 0 }, /"maxOps" 0: expected a positive integer/],
      [{ maxPages: -1 }, /"maxPages" -1: expected a positive integer/],
      [{ observableBound: 'many' }, /"observableBound" "many": expected a positive integer/],
      [{ requestTimeout: 0 }, /"requestTimeout" 0: expected a positive number of seconds/],
    ] as const) {
      const d = new DapDriver(host);
      const r = await d.launchResponse({ program: KNOWN.file, ...args });
      assert.equal(r.success, false, JSON.stringify(args));
      assert.match(r.message ?? '', message);
      await d.send('disconnect', {});
    }
  });
});
