/**
 * A DAP client rig for the debugger tests: the built adapter (`dist/debugAdapter.js`, run
 * with `npm run build`) driven over stdio by `@vscode/debugadapter-testsupport`, with
 * shorthands for the requests the tests make again and again.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

export const ROOT = join(__dirname, '..', '..', '..');
const ADAPTER = join(ROOT, 'dist', 'debugAdapter.js');

export const fixture = (name: string): string => join(ROOT, 'test', 'debug', 'fixtures', name);
export const example = (name: string): string => join(ROOT, 'examples', name);

/**
 * The known scenario (fixtures/known.smmu) and what its lines are, for the tests to name.
 * Addresses, worked out by hand from the allocator (bump allocation from 0x4000_0000, each
 * region naturally aligned to the power of two at or above its size, at least 64 bytes):
 *   cmdq  2^8 x 16 B = 0x1000   at 0x4000_0000     evtq 2^7 x 32 B = 0x1000 at 0x4000_1000
 *   strtab (linear, SIDSIZE 8) 2^8 x 64 B = 0x4000, aligned 0x4000: 0x4000_4000
 *   d1's tables, 4 KB each: level 0 (pgd) 0x4000_8000, then `map` allocates level 1
 *   0x4000_9000, level 2 0x4000_a000, level 3 0x4000_b000 (top-down, as it walks)
 *   CD table of StreamID 5: 1 CD, 64 B: 0x4000_c000; of StreamID 6: 2 CDs, 128 B: 0x4000_c080
 *   buf 4 KB: 0x4000_d000
 */
export const KNOWN = {
  file: fixture('known.smmu'),
  line: { init: 5, domain: 6, map: 7, attach5: 8, attach6: 9, expectDma: 10, alloc: 11, store: 12, sync: 13, dma: 14, fault: 15 },
  strtab: 0x4000_4000,
  pgd: 0x4000_8000,
  l3: 0x4000_b000,
  cd5: 0x4000_c000,
  cd6: 0x4000_c080,
  buf: 0x4000_d000,
  /** STE 5 = strtab + 5 x 64. */
  ste5: 0x4000_4000 + 5 * 64,
} as const;

export type Stopped = DebugProtocol.StoppedEvent['body'];

export const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** Little-endian bytes of a qword, as readMemory returns them. */
export function le64(v: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

export class Dap {
  readonly dc: DebugClient;
  /** Every output event, in order. */
  readonly outputs: DebugProtocol.OutputEvent['body'][] = [];
  readonly events: DebugProtocol.Event[] = [];

  private constructor() {
    this.dc = new DebugClient('node', ADAPTER, 'smmu');
    // The machine running the tests may be busy: give the adapter room.
    this.dc.defaultTimeout = 15_000;
    this.dc.on('output', (e: DebugProtocol.OutputEvent) => this.outputs.push(e.body));
    for (const name of ['invalidated', 'breakpoint', 'terminated']) this.dc.on(name, (e: DebugProtocol.Event) => this.events.push(e));
  }

  static async start(): Promise<Dap> {
    const d = new Dap();
    await d.dc.start();
    return d;
  }

  stop(): Promise<void> {
    return this.dc.stop();
  }

  /**
   * Launch `program` and wait for the first stop (on entry unless told otherwise). `before`
   * runs between the initialized event and configurationDone (breakpoints, filters).
   */
  async launch(program: string, args: Record<string, unknown> = {}, before: () => Promise<unknown> = async () => undefined): Promise<Stopped> {
    const stopped = this.dc.waitForEvent('stopped');
    await Promise.all([
      this.dc.waitForEvent('initialized').then(before).then(() => this.dc.configurationDoneRequest()),
      this.dc.launch({ program, stopOnEntry: true, ...args } as DebugProtocol.LaunchRequestArguments),
    ]);
    return (await stopped).body as Stopped;
  }

  /** Send a request and wait for the stop it leads to. */
  async stopAfter(request: Promise<unknown>): Promise<Stopped> {
    const [, e] = await Promise.all([request, this.dc.waitForEvent('stopped')]);
    return e.body as Stopped;
  }

  cont(): Promise<Stopped> {
    return this.stopAfter(this.dc.continueRequest({ threadId: 1 }));
  }

  next(): Promise<Stopped> {
    return this.stopAfter(this.dc.nextRequest({ threadId: 1 }));
  }

  stepIn(): Promise<Stopped> {
    return this.stopAfter(this.dc.stepInRequest({ threadId: 1 }));
  }

  stepOut(): Promise<Stopped> {
    return this.stopAfter(this.dc.stepOutRequest({ threadId: 1 }));
  }

  stepBack(granularity?: DebugProtocol.SteppingGranularity): Promise<Stopped> {
    return this.stopAfter(this.dc.stepBackRequest({ threadId: 1, granularity }));
  }

  reverse(): Promise<Stopped> {
    return this.stopAfter(this.dc.reverseContinueRequest({ threadId: 1 }));
  }

  /** Continue and expect the run to end. */
  async toEnd(): Promise<void> {
    await Promise.all([this.dc.continueRequest({ threadId: 1 }), this.dc.waitForEvent('terminated')]);
  }

  async lines(program: string, ...lines: (number | DebugProtocol.SourceBreakpoint)[]): Promise<DebugProtocol.Breakpoint[]> {
    const r = await this.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: lines.map((l) => (typeof l === 'number' ? { line: l } : l)) });
    return r.body.breakpoints;
  }

  /** Run to the start of `line` (a one-off breakpoint there), and check that is where the run stopped. */
  async runTo(program: string, line: number): Promise<void> {
    await this.lines(program, line);
    await this.cont();
    assert.equal((await this.where()).line, line);
    await this.lines(program);
  }

  async filters(...ids: string[]): Promise<void> {
    await this.dc.setExceptionBreakpointsRequest({ filters: ids });
  }

  async frames(threadId = 1): Promise<DebugProtocol.StackFrame[]> {
    return (await this.dc.stackTraceRequest({ threadId })).body.stackFrames;
  }

  /** The innermost frame's line and the frames' names, innermost first. */
  async where(): Promise<{ line: number; names: string[] }> {
    const f = await this.frames();
    return { line: f[0].line, names: f.map((x) => x.name) };
  }

  async scope(name: string): Promise<DebugProtocol.Scope> {
    const f = await this.frames();
    const scopes = (await this.dc.scopesRequest({ frameId: f[0].id })).body.scopes;
    const s = scopes.find((x) => x.name === name);
    assert.ok(s, `no scope '${name}' in ${scopes.map((x) => x.name).join(', ')}`);
    return s;
  }

  async children(ref: number, start?: number, count?: number): Promise<DebugProtocol.Variable[]> {
    return (await this.dc.variablesRequest({ variablesReference: ref, start, count })).body.variables;
  }

  /** A child by name (or name prefix ending in '*'). */
  async child(ref: number, name: string): Promise<DebugProtocol.Variable> {
    const kids = await this.children(ref);
    const v = kids.find((k) => (name.endsWith('*') ? k.name.startsWith(name.slice(0, -1)) : k.name === name));
    assert.ok(v, `no '${name}' among ${kids.map((k) => k.name).join(', ')}`);
    return v;
  }

  /** The fields of a variable as name → value. */
  async fields(ref: number): Promise<Map<string, string>> {
    return new Map((await this.children(ref)).map((v) => [v.name, v.value]));
  }

  async evaluate(expression: string, context = 'repl'): Promise<DebugProtocol.EvaluateResponse['body']> {
    return (await this.dc.evaluateRequest({ expression, context })).body;
  }

  async read(memoryReference: string, count: number, offset?: number): Promise<number[]> {
    const r = (await this.dc.customRequest('readMemory', { memoryReference, count, offset })) as DebugProtocol.ReadMemoryResponse;
    return [...Buffer.from(r.body?.data ?? '', 'base64')];
  }

  /** A request expected to fail: its error message. */
  async fails(request: Promise<unknown>): Promise<string> {
    try {
      await request;
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail('the request succeeded');
  }
}

/** Run `body` with a fresh adapter, stopped on entry of `program` (launch arguments `args`). */
export async function withDap<T>(program: string, body: (d: Dap) => Promise<T>, args: Record<string, unknown> = {},
  before?: (d: Dap) => Promise<unknown>): Promise<T> {
  const d = await Dap.start();
  try {
    await d.launch(program, args, before && (() => before(d)));
    return await body(d);
  } finally {
    await d.stop();
  }
}
