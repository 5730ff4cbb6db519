/**
 * The web extension's engine worker, both ends, joined by an in-process channel that copies
 * each message as postMessage does (structured clone) and delivers it a turn later: a debug
 * session and a headless run through it, and what a user sees when the worker fails.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { runHeadless } from '../../../src/extension/engine';
import type { HostSnapshot } from '../../../src/extension/hostSnapshot';
import { EngineEndpoint } from '../../../src/extension/web/engineEndpoint';
import type { FromEngine } from '../../../src/extension/web/engineProtocol';
import { runInWorker, WorkerDebugAdapter, type EngineWorker } from '../../../src/extension/web/workerEngine';
import { KNOWN } from '../../debug/helpers';

/** What VS Code sends. */
const INITIALIZE = { adapterID: 'smmu', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true };
const later = (f: () => void): void => void setImmediate(f);

/** A worker running an EngineEndpoint in this process; `fail` stands for the worker's script failing. */
function channel(): EngineWorker & { terminated: boolean; received: unknown[]; fail(message: string): void } {
  const w = {
    onmessage: null as EngineWorker['onmessage'],
    onerror: null as EngineWorker['onerror'],
    terminated: false,
    received: [] as unknown[],
    postMessage(m: unknown) {
      const copy = structuredClone(m);
      w.received.push(copy);
      later(() => !w.terminated && endpoint.receive(copy));
    },
    terminate() {
      w.terminated = true;
    },
    fail(message: string) {
      later(() => w.onerror?.({ message }));
    },
  };
  const endpoint = new EngineEndpoint((m: FromEngine) => {
    const copy = structuredClone(m);
    later(() => !w.terminated && w.onmessage?.({ data: copy }));
  });
  return w;
}

const text = readFileSync(KNOWN.file, 'utf8');
const snapshot: HostSnapshot = { program: KNOWN.file, texts: new Map([[KNOWN.file, text]]), policy: { trusted: true, allowOutside: true, workspaceFolders: [] } };

/** A DAP client on a WorkerDebugAdapter: requests answered by sequence number, events kept in order. */
class Client {
  readonly events: DebugProtocol.Event[] = [];
  private seq = 1;
  private readonly waiting = new Map<number, (r: DebugProtocol.Response) => void>();
  private readonly watchers: (() => void)[] = [];

  constructor(readonly adapter: WorkerDebugAdapter) {
    adapter.onDidSendMessage((m) => {
      if (m.type === 'response') this.waiting.get((m as DebugProtocol.Response).request_seq)?.((m as DebugProtocol.Response));
      else if (m.type === 'event') this.events.push(m as DebugProtocol.Event);
      this.watchers.forEach((f) => f());
    });
  }

  request(command: string, args?: unknown): Promise<DebugProtocol.Response> {
    const seq = this.seq++;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      this.adapter.handleMessage({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  event(name: string): Promise<DebugProtocol.Event> {
    return new Promise((resolve) => {
      const check = (): void => {
        const e = this.events.find((x) => x.event === name);
        if (e) resolve(e);
      };
      this.watchers.push(check);
      check();
    });
  }
}

describe('extension: the web engine worker', () => {
  it('debugs a scenario in the worker: launch, stop on entry, step, read the stack', async () => {
    const w = channel();
    const c = new Client(new WorkerDebugAdapter(w, snapshot));
    const init = await c.request('initialize', INITIALIZE);
    assert.equal(init.success, true, init.message);
    assert.ok(init.body?.supportsStepBack, 'the capabilities come through');
    const launched = await c.request('launch', { program: KNOWN.file, stopOnEntry: true });
    assert.equal(launched.success, true, launched.message);
    await c.request('configurationDone');
    const stopped = await c.event('stopped');
    assert.equal(stopped.body.reason, 'entry');
    const threads = await c.request('threads');
    const tid = threads.body.threads[0].id;
    const top = async (): Promise<number> => (await c.request('stackTrace', { threadId: tid })).body.stackFrames[0].line;
    const first = await top();
    c.events.length = 0;
    await c.request('next', { threadId: tid });
    await c.event('stopped');
    assert.ok(await top() > first, 'stepping moved to a later line');
    assert.equal((await c.request('disconnect')).success, true);
    c.adapter.dispose();
    assert.ok(w.terminated, 'the worker ends with its session');
    assert.deepEqual(w.received[0], { kind: 'debug', snapshot }, 'the worker is first told what to debug, with the files');
  });

  it('a worker that fails answers what is waiting with the reason, and ends the session', async () => {
    const w = channel();
    const c = new Client(new WorkerDebugAdapter(w, snapshot));
    w.terminated = true; // the script never ran: nothing will answer
    const pending = c.request('initialize', INITIALIZE);
    w.fail('Uncaught SyntaxError in engine.js');
    const r = await pending;
    assert.equal(r.success, false);
    assert.match(r.message ?? '', /engine worker failed: Uncaught SyntaxError in engine\.js/);
    assert.ok(c.events.some((e) => e.event === 'output' && /SyntaxError/.test(e.body.output)));
    assert.ok(c.events.some((e) => e.event === 'terminated'));
    // Later requests are refused at once, not left waiting.
    const after = await c.request('threads');
    assert.equal(after.success, false);
  });

  it('a refusal from the engine ends the session with its reason', async () => {
    const w = channel();
    const c = new Client(new WorkerDebugAdapter(w, snapshot));
    const pending = c.request('initialize', INITIALIZE);
    w.terminated = true; // the request never reaches the engine
    w.onmessage?.({ data: { kind: 'failed', message: 'the snapshot could not be read' } });
    const r = await pending;
    assert.match(r.message ?? '', /engine worker failed: the snapshot could not be read/);
    assert.ok(c.events.some((e) => e.event === 'terminated'));
  });

  it('a DAP message before the engine was told what to debug is refused', () => {
    const said: FromEngine[] = [];
    new EngineEndpoint((m) => said.push(m)).receive({ kind: 'dap', message: { seq: 1, type: 'request', command: 'threads' } });
    assert.equal(said.length, 1);
    assert.equal(said[0].kind, 'failed');
    assert.match((said[0] as { message: string }).message, /before the engine worker was asked to debug/);
  });

  it('refuses a message it does not know, and a second start, saying what it takes', () => {
    const said: FromEngine[] = [];
    const e = new EngineEndpoint((m) => said.push(m));
    e.receive({ kind: 'eval', code: 1n });
    e.receive(null);
    e.receive({ kind: 'run', snapshot });
    e.receive({ kind: 'run', snapshot });
    assert.deepEqual(said.map((m) => m.kind), ['failed', 'failed', 'run', 'failed']);
    assert.match((said[0] as { message: string }).message, /sent a message of kind eval; it takes "debug", "run" or "dap" messages/);
    assert.match((said[1] as { message: string }).message, /sent null;/);
    assert.match((said[3] as { message: string }).message, /already serves a run/);
  });

  it('runs a scenario headless in a worker, with the same findings as in the extension host, and ends the worker', async () => {
    const w = channel();
    const summary = await runInWorker(w, snapshot);
    assert.deepEqual(summary, structuredClone(runHeadless(snapshot)));
    assert.ok(w.terminated);
  });

  it('a headless run whose worker fails rejects with the reason', async () => {
    const w = channel();
    w.terminated = true;
    const run = runInWorker(w, snapshot);
    w.fail('out of memory');
    await assert.rejects(run, /engine worker failed: out of memory/);
    const refused = channel();
    await assert.rejects(runInWorker(refused, { ...snapshot, texts: new Map() }), /no text for/);
  });
});
