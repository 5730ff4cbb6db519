/**
 * Fuzz targets for the debug adapter: random launch configurations, then random sequences
 * of DAP requests with random (and stale, and malformed) arguments — in process, as VS
 * Code's inline implementation drives it, and a few over stdio against dist/debugAdapter.js
 * (run `npm run build` first). Every request must be answered, by a result or an error the
 * adapter meant to send: never the library's catch-all for an exception a handler threw
 * (error 1104), never an unhandled rejection or an uncaught exception, never silence.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { bytesSource } from '../../src/dump/source';
import { SourceHost } from '../../src/scenario/compiler';
import { DapDriver, errorOf } from '../helpers/dapDriver';
import { fuzzAsync, slowMs, word64 } from './harness';
import { FIXTURE_REGISTERS, fixtureCoreBytes } from './machines';
import { ROOT } from './scenarioText';

// The adapter tests' scenarios (the long ones too: maxOps is among the fuzzed options).
const FIXTURES = join(ROOT, 'test');
const FILES: Record<string, string> = Object.fromEntries([join(FIXTURES, 'fixtures', 'scenarios'), join(FIXTURES, 'debug', 'fixtures')]
  .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.smmu')).map((f) => [join(dir, f), readFileSync(join(dir, f), 'utf8')])));
// Dumps the in-process sessions open (by `core` or a scenario's `load`), kept in memory: the
// dump fixture's ELF core and QEMU's kdump-compressed dump of the same memory, as written
// (flattened) and put together. The stdio target's programs are the files on disk only.
const DUMP_DIR = join(FIXTURES, 'fixtures', 'dumps');
const gunzipped = (name: string): Uint8Array => new Uint8Array(gunzipSync(readFileSync(join(DUMP_DIR, name))));
const DUMPS = new Map<string, Uint8Array>([
  [join(DUMP_DIR, 'fixture.core'), fixtureCoreBytes()],
  [join(DUMP_DIR, 'qemu.kdump'), gunzipped('qemu-virt-zlib.kdump.gz')],
  [join(DUMP_DIR, 'qemu.flat'), gunzipped('qemu-virt-zlib.flat.gz')],
]);
const ON_DISK = Object.keys(FILES);
FILES[join(DUMP_DIR, 'on-dump.smmu')] = [
  'load core="qemu.kdump" strtab_base=0x4000_0000 strtab_base_cfg=0x10210',
  'expect ste 2 Config == 5',
  'expect dma 2:0 read 0x1000_0abc -> 0x8_0000_0abc',
  'expect dma 3 write 0x2_0123 -> fault',
  'expect dma 4 read 0x1234 -> 0x4020_1234',
  // Refused: the fixture's L1STD 1 has Span 2, not the kernel's 9.
  'smmu adopt',
].join('\n');
const PROGRAMS = Object.keys(FILES);
// The adapter tests' long scenarios (a 2^16-STE linear table, 65,536 PTE stores) cost twenty
// to thirty small ones each; they come now and then, so a million cases still run thousands.
const LONG_ONES = new Set(['big-linear.smmu', 'dap-linear.smmu', 'dap-bigmap.smmu']);
const isLong = (p: string): boolean => LONG_ONES.has(basename(p));
/** One of `programs`, a long one in 1 case in 40 (or fewer, when the caller adds other choices). */
const scenarioChoices = (programs: readonly string[]): fc.WeightedArbitrary<string>[] => [
  { arbitrary: fc.constantFrom(...programs.filter((p) => !isLong(p))), weight: 39 }, { arbitrary: fc.constantFrom(...programs.filter(isLong)), weight: 1 },
];

const host: SourceHost = {
  read: (p) => FILES[p],
  // As the command line resolves: an absolute path stands for itself.
  resolve: (from, rel) => resolve(dirname(from), rel),
  allowed: (p) => (p.startsWith(FIXTURES) ? undefined : 'outside the scenario\'s folder'),
  readBinary: (p) => (DUMPS.has(p) ? bytesSource(p, DUMPS.get(p)!) : undefined),
};
/** The dump fixture's registers as a launch configuration gives them. */
const DUMP_REGISTERS = Object.fromEntries([...FIXTURE_REGISTERS].map(([n, v]) => [n, '0x' + v.toString(16)]));

/** Numbers as a client may send them: mostly in range, sometimes negative, fractional or huge. */
const num = (max: number): fc.Arbitrary<number> => fc.oneof({ arbitrary: fc.nat({ max }), weight: 6 },
  { arbitrary: fc.constantFrom(-1, 0.5, 2 ** 31, 2 ** 53, 1e9), weight: 1 });

/** Mostly a good value, now and then any number (a launch that must be refused, naming the attribute). */
const mostly = (good: fc.Arbitrary<number>, max: number): fc.Arbitrary<number | undefined> =>
  fc.option(fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: num(max), weight: 1 }), { nil: undefined, freq: 2 });

/** Now and then (a dump that cannot be opened here: the launch refused). */
const rarely = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ arbitrary: fc.constant(undefined), weight: 15 }, { arbitrary: a, weight: 1 });

const launchArgs = fc.record({
  program: fc.oneof(...scenarioChoices(PROGRAMS), { arbitrary: fc.constantFrom('', '/nope.smmu', join(FIXTURES, '..', 'x.smmu')), weight: 2 }),
  stopOnEntry: fc.boolean(),
  check: fc.boolean(),
  coherent: fc.option(fc.boolean(), { nil: undefined }),
  lineSize: mostly(fc.constantFrom(32, 64, 128), 300),
  wbGranule: mostly(fc.constantFrom(1, 2, 4, 8), 16),
  maxOps: mostly(fc.integer({ min: 1, max: 20_000 }), 5000),
  maxPages: mostly(fc.integer({ min: 1, max: 5000 }), 5000),
  observableBound: mostly(fc.integer({ min: 1, max: 100 }), 100),
  requestTimeout: mostly(fc.constantFrom(0.01, 1, 30), 10),
  trace: fc.option(fc.boolean(), { nil: undefined }),
  core: fc.oneof({ arbitrary: fc.constant(undefined), weight: 12 }, { arbitrary: fc.constantFrom(...DUMPS.keys()), weight: 3 },
    { arbitrary: fc.oneof(fc.string({ maxLength: 6 }), fc.array(fc.constantFrom(...DUMPS.keys(), 'x'), { maxLength: 2 })), weight: 1 }),
  raw: rarely(fc.oneof(fc.string({ maxLength: 8 }), fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }))),
  // Without a dump the registers are refused; with one, mostly the ones it was taken with.
  registers: fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: fc.constant(DUMP_REGISTERS), weight: 5 },
    { arbitrary: fc.dictionary(fc.constantFrom('STRTAB_BASE', 'STRTAB_BASE_CFG', 'CR0', 'IDR0', 'x'), fc.oneof(fc.string({ maxLength: 6 }), fc.integer())), weight: 1 }),
}, { requiredKeys: ['program'] });

const EXPRESSIONS = ['ste[5]', 'ste[5].s1ctxptr', 'cd[5][0]', 'walk(5, 0x1000_0000)', 'pte(5, 0x1000_0000)', 'cpu(0x4000_0000)', 'poc(0x4000_0001)',
  'smmu(0x4000_8140)', 'CR0', 'CR0.SMMUEN', 'hazards', 'decode ste 0x1 0x2', 'decode reg CR0 1', 'd1', 'd1.pgd', '1 << 70', '(', ')', '', '1/0', 'ste[', 'x.y.z'];
const text = (...known: string[]): fc.Arbitrary<string> => fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 4 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 });
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

/** A request with arguments of the protocol's types: values sometimes right, sometimes stale or out of range. */
const typedRequest = (): fc.Arbitrary<{ command: string; args: unknown }> => fc.oneof(
  fc.record({ command: fc.constantFrom('next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'continue', 'pause'), args: fc.record({ threadId: num(3), granularity: opt(fc.constantFrom('statement', 'instruction', 'line')) }) }),
  fc.record({ command: fc.constant('threads'), args: fc.constant({}) }),
  // As VS Code does after each stop: the stack, a frame's scopes, and down the variables tree with paging.
  fc.record({ command: fc.constant('#tree'), args: fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), start: opt(num(300)), count: opt(num(300)) }) }),
  fc.record({ command: fc.constant('stackTrace'), args: fc.record({ threadId: num(3), startFrame: opt(num(10)), levels: opt(num(10)) }) }),
  fc.record({ command: fc.constant('scopes'), args: fc.record({ frameId: num(8) }) }),
  fc.record({ command: fc.constant('variables'), args: fc.record({ variablesReference: num(200), start: opt(num(3000)), count: opt(num(3000)), filter: opt(fc.constantFrom('indexed', 'named')) }) }),
  fc.record({ command: fc.constant('evaluate'), args: fc.record({ expression: text(...EXPRESSIONS), frameId: opt(num(8)), context: fc.constantFrom('repl', 'watch', 'hover', 'clipboard', 'variables') }) }),
  fc.record({ command: fc.constant('setVariable'), args: fc.record({ variablesReference: num(200), name: text('qword 0', 'qword 9', 'V', 'Config', 'S1ContextPtr'), value: text('0', '1', '0xffff_ffff_ffff_ffff_f', '-1', '1 <<') }) }),
  fc.record({ command: fc.constant('setBreakpoints'), args: fc.record({ source: fc.record({ path: text(...PROGRAMS) }), breakpoints: fc.array(fc.record({ line: num(30), condition: opt(text('1', '0', 'd1', '(', 'x +')), hitCondition: opt(text('2', '>= 1', '% 0', 'x')) }), { maxLength: 3 }) }) }),
  fc.record({ command: fc.constant('setFunctionBreakpoints'), args: fc.record({ breakpoints: fc.array(fc.record({ name: text('arm_smmu_write_ste', 'arm_smmu_cmdq_issue_cmdlist'), condition: opt(text('1', '(')) }), { maxLength: 2 }) }) }),
  fc.record({ command: fc.constant('setExceptionBreakpoints'), args: fc.record({ filters: fc.array(text('cmo', 'barrier', 'sync', 'fault', 'hazard:stale_fetch', 'hazard:torn_update'), { maxLength: 3 }) }) }),
  fc.record({ command: fc.constant('dataBreakpointInfo'), args: fc.record({ name: text(...EXPRESSIONS, 'V', 'words'), variablesReference: opt(num(200)) }) }),
  fc.record({ command: fc.constant('setDataBreakpoints'), args: fc.record({ breakpoints: fc.array(fc.record({ dataId: text('0x40008140:64', '0x40008140', 'x:y', ':', '0x1:1e30'), accessType: fc.constantFrom('read', 'write', 'readWrite') }), { maxLength: 2 }) }) }),
  fc.record({ command: fc.constant('readMemory'), args: fc.record({ memoryReference: text('cpu:0x40008140', 'poc:0x0', 'smmu:0xfffffffffffff', 'cpu:-1', 'cpu:'), offset: opt(fc.integer()), count: num(5000) }) }),
  fc.record({ command: fc.constant('writeMemory'), args: fc.record({ memoryReference: text('cpu:0x40008140', 'poc:0x40008140', 'smmu:0x40008140', 'cpu:0xfffffffffffff'), offset: opt(fc.integer()), data: text('AAAAAAAAAAA=', '', '!!!', 'AQ==') }) }),
  fc.record({ command: fc.constant('disassemble'), args: fc.record({ memoryReference: text('0x0', '0x10', '-1'), offset: opt(fc.integer()), instructionOffset: opt(fc.integer({ min: -50, max: 50 })), instructionCount: num(100) }) }),
  fc.record({ command: fc.constant('completions'), args: fc.record({ text: text('ste', 'cd[', 'walk(', ''), column: num(20) }) }),
  fc.record({ command: fc.constantFrom('exceptionInfo', 'restart', 'terminate'), args: fc.oneof(fc.constant({}), fc.record({ arguments: fc.record({ stopOnEntry: fc.boolean() }) })) }),
  fc.record({ command: fc.constant('breakpointLocations'), args: fc.record({ source: fc.record({ path: fc.constantFrom(...PROGRAMS) }), line: num(30), endLine: opt(num(30)) }) }),
  fc.record({ command: fc.constantFrom('smmu/hazards', 'smmu/scope', 'smmu/walk', 'smmu/cacheLines', 'smmu/position', 'smmu/nope'), args: fc.record({ name: text('Registers', 'Stream table'), sid: fc.oneof(num(300), fc.constantFrom('0x5', 'x', '-1', '0x1_0000_0000')), ssid: opt(fc.oneof(num(4), fc.constantFrom('1', 'z'))), iova: fc.oneof(word64().map((v) => '0x' + v.toString(16)), num(1e9), fc.constantFrom('x', '-1', '0x1' + '0'.repeat(17))), access: opt(text('read', 'write', 'exec')) }) }),
);

/** Any command with arguments of the wrong shape (another DAP client's bug): answered with an error, never a crash. */
const malformedRequest = (): fc.Arbitrary<{ command: string; args: unknown }> => fc.record({
  command: fc.constantFrom('next', 'stackTrace', 'scopes', 'variables', 'evaluate', 'setVariable', 'setBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints',
    'dataBreakpointInfo', 'setDataBreakpoints', 'readMemory', 'writeMemory', 'disassemble', 'completions', 'breakpointLocations', 'restart', 'smmu/walk', 'smmu/scope', 'nosuchrequest'),
  args: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)),
});

/**
 * What the client does after a response: send the next request at once (it meets a run
 * still going), after the event loop turns once, or when the run the request started has
 * stopped (a 'stopped' or 'terminated' event; at most STOP_WAIT_MS).
 */
type Wait = 'none' | 'tick' | 'stop';
type Req = { command: string; args: unknown; malformed: boolean; wait: Wait };
const wait: fc.Arbitrary<Wait> = fc.constantFrom('none', 'tick', 'stop');
const request = (): fc.Arbitrary<Req> => fc.oneof(
  { arbitrary: fc.tuple(typedRequest(), wait).map(([r, w]) => ({ ...r, malformed: false, wait: w })), weight: 6 },
  { arbitrary: fc.tuple(malformedRequest(), wait).map(([r, w]) => ({ ...r, malformed: true, wait: w })), weight: 1 },
);
const STOP_WAIT_MS = 2000;
const RUNS = new Set(['next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'continue', 'restart']);

/**
 * A response the adapter meant: success, or an error with a message that is not a stack
 * trace. A handler that threw is answered by the catch-all (1104, or the adapter's 3099):
 * acceptable for arguments of the wrong shape, a bug for well-formed ones.
 */
function answered(command: string, args: unknown, r: DebugProtocol.Response, malformed = false): void {
  const error = errorOf(r);
  const threw = error?.id === 1104 || error?.id === 3099;
  assert.ok(r.success || !threw || malformed, `'${command}' ${JSON.stringify(args)} threw inside the adapter: ${r.message}`);
  if (!r.success) assert.ok(typeof r.message === 'string' && r.message.length > 0 && !/\n\s+at /.test(r.message), `'${command}': error without a message`);
}

/** Ids the adapter handed out (frames, variable references): the requests use them half the time, so they reach the variables tree. */
function collectIds(r: DebugProtocol.Response, live: { frames: number[]; refs: number[] }): void {
  const b = r.body as { stackFrames?: { id: number }[]; scopes?: { variablesReference: number }[]; variables?: { variablesReference: number }[]; variablesReference?: number } | undefined;
  if (!r.success || !b) return;
  if (b.stackFrames) live.frames = b.stackFrames.map((f) => f.id);
  for (const v of [...(b.scopes ?? []), ...(b.variables ?? []), b]) if (typeof v.variablesReference === 'number' && v.variablesReference > 0) live.refs.push(v.variablesReference);
  if (live.refs.length > 200) live.refs.splice(0, live.refs.length - 200);
}

function withLiveIds(args: unknown, live: { frames: number[]; refs: number[] }): unknown {
  if (typeof args !== 'object' || args === null) return args;
  const a = { ...(args as Record<string, unknown>) };
  const pick = (list: number[], n: unknown): number | undefined => (typeof n === 'number' && n % 2 === 0 && list.length ? list[n % list.length] : undefined);
  a.frameId = pick(live.frames, a.frameId) ?? a.frameId;
  a.variablesReference = pick(live.refs, a.variablesReference) ?? a.variablesReference;
  if (a.frameId === undefined) delete a.frameId;
  if (a.variablesReference === undefined) delete a.variablesReference;
  return a;
}

/** stackTrace, scopes of a frame, then variables along `path` (each child picked by index), each answered. */
async function tree(d: DapDriver, a: { path: number[]; start?: number; count?: number }): Promise<void> {
  const ask = async (command: string, args: unknown): Promise<DebugProtocol.Response> => {
    const r = await d.send(command, args);
    count(command, r);
    answered(command, args, r);
    return r;
  };
  const st = await ask('stackTrace', { threadId: 1 + (a.path[0] % 2) });
  const frames = (st.body as DebugProtocol.StackTraceResponse['body'] | undefined)?.stackFrames ?? [];
  if (!st.success || !frames.length) return;
  const sc = await ask('scopes', { frameId: frames[a.path[0] % frames.length].id });
  let vars: { variablesReference: number }[] = (sc.body as DebugProtocol.ScopesResponse['body'] | undefined)?.scopes ?? [];
  for (const c of a.path) {
    const withChildren = vars.filter((v) => v.variablesReference > 0);
    if (!withChildren.length) return;
    const v = await ask('variables', { variablesReference: withChildren[c % withChildren.length].variablesReference, start: a.start, count: a.count });
    vars = (v.body as DebugProtocol.VariablesResponse['body'] | undefined)?.variables ?? [];
  }
}

/** FUZZ_STATS=1: how many requests of each command succeeded or failed (are the cases reaching a running session?). */
const stats = process.env.FUZZ_STATS ? new Map<string, number>() : undefined;
const count = (command: string, r: DebugProtocol.Response): void => void stats?.set(`${command} ${r.success ? 'ok' : 'error'}`, (stats.get(`${command} ${r.success ? 'ok' : 'error'}`) ?? 0) + 1);

/** Let the adapter's run slices and timers go (a run to a stop is sliced through setTimeout). */
const settle = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Exceptions and rejections nobody caught, while a case runs. */
function watchProcess(): { errors: unknown[]; stop: () => void } {
  const errors: unknown[] = [];
  const onError = (e: unknown): void => void errors.push(e);
  process.on('unhandledRejection', onError);
  process.prependListener('uncaughtException', onError);
  return { errors, stop: () => { process.off('unhandledRejection', onError); process.off('uncaughtException', onError); } };
}

async function session(launch: Record<string, unknown>, requests: readonly Req[]): Promise<void> {
  const watch = watchProcess();
  const d = new DapDriver(host);
  d.timeoutMs = slowMs;
  try {
    const launched = await d.launchResponse(launch);
    count('launch', launched);
    if (stats && !launched.success) count(`launch: ${launched.message?.slice(0, 90)}`, launched);
    answered('launch', launch, launched);
    const live = { frames: [] as number[], refs: [] as number[] };
    for (const { command, args: given, malformed, wait: then } of requests) {
      if (command === '#tree') {
        await tree(d, given as { path: number[]; start?: number; count?: number });
        continue;
      }
      const args = malformed ? given : withLiveIds(given, live);
      const from = d.events.length;
      const r = await d.send(command, args);
      collectIds(r, live);
      count(command, r);
      answered(command, args, r, malformed);
      if (then === 'tick') await tick();
      else if (then === 'stop' && r.success && RUNS.has(command)) await d.eventSince(from, ['stopped', 'terminated'], STOP_WAIT_MS);
    }
    answered('disconnect', {}, await d.send('disconnect', {}));
    // One timer turn: a run slice scheduled before the disconnect (setTimeout 0) has run by then.
    await settle(0);
    assert.deepEqual(watch.errors, [], 'an exception escaped the adapter');
  } finally {
    watch.stop();
  }
}

describe('fuzz: debug adapter', function () {
  this.timeout(120_000);
  after(() => stats && console.log([...stats].sort().map(([k, n]) => `    ${k}: ${n}`).join('\n')));

  fuzzAsync('dap-requests', 30, fc.tuple(launchArgs, fc.array(request(), { minLength: 1, maxLength: 25 })),
    ([launch, requests]) => session(launch as Record<string, unknown>, requests));

  // The standalone adapter answering over stdio. One process serves case after case, as it
  // serves a long debugging session: each case clears the breakpoints the last one set and
  // relaunches through 'restart' (a fresh process when the case asks, or the last one died).
  const ADAPTER = join(ROOT, 'dist', 'debugAdapter.js');
  interface Stdio {
    dc: DebugClient;
    exited: boolean;
    /** 'stopped' and 'terminated' events so far (a run's end may come before its response is read). */
    ends: number;
    /** What the last case set, to clear: breakpoint files, and the other kinds by command. */
    files: Set<string>;
    kinds: Set<string>;
  }
  let adapter: Stdio | undefined;
  after(async () => adapter?.dc.stop().catch(() => undefined));

  async function stdioSession(launch: DebugProtocol.LaunchRequestArguments, fresh: boolean): Promise<Stdio> {
    if (adapter && (fresh || adapter.exited)) {
      await adapter.dc.stop().catch(() => undefined);
      adapter = undefined;
    }
    if (adapter) {
      const { dc } = adapter;
      await Promise.all([
        ...[...adapter.files].map((path) => dc.setBreakpointsRequest({ source: { path }, breakpoints: [] })),
        ...[...adapter.kinds].map((command) => dc.send(command, command === 'setExceptionBreakpoints' ? { filters: [] } : { breakpoints: [] })),
      ].map((p) => p.catch(() => undefined)));
      adapter.files.clear();
      adapter.kinds.clear();
      // A scenario with errors is refused here as at a launch: with a message, not a stack.
      await dc.send('restart', { arguments: launch }).catch((e: Error) => assert.ok(!/\n\s+at /.test(e.message), `'restart' answered with a stack trace: ${e.message}`));
      return adapter;
    }
    assert.ok(existsSync(ADAPTER), 'dist/debugAdapter.js is missing: run npm run build');
    const dc = new DebugClient('node', ADAPTER, 'smmu');
    await dc.start();
    const started: Stdio = { dc, exited: false, ends: 0, files: new Set(), kinds: new Set() };
    // The adapter process must not die under any request.
    (dc as unknown as { _adapterProcess?: { on(e: string, f: () => void): void } })._adapterProcess?.on('exit', () => { started.exited = true; });
    for (const e of ['stopped', 'terminated']) dc.on(e, () => void started.ends++);
    await dc.initializeRequest();
    await Promise.all([dc.configurationSequence(), dc.launch(launch)]).catch(() => undefined);
    adapter = started;
    return started;
  }

  /** Until `a` has seen more than `ends` stops or ends, for at most STOP_WAIT_MS. */
  async function stopAfter(a: Stdio, ends: number): Promise<void> {
    for (const t0 = Date.now(); a.ends <= ends && !a.exited && Date.now() - t0 < STOP_WAIT_MS;) await settle(1);
  }

  // A case: a launch, the requests, and now and then a new process to start from. The long
  // scenarios come now and then, as in dap-requests.
  const fresh = fc.oneof({ arbitrary: fc.constant(false), weight: 49 }, { arbitrary: fc.constant(true), weight: 1 });
  const program = fc.oneof(...scenarioChoices(ON_DISK));
  fuzzAsync('dap-stdio', 3, fc.tuple(program, fc.array(request(), { minLength: 1, maxLength: 15 }), fc.boolean(), fresh),
    async ([program, requests, stopOnEntry, anew]) => {
      const a = await stdioSession({ program, stopOnEntry, maxOps: 5000 } as DebugProtocol.LaunchRequestArguments, anew);
      for (const { command, args, wait: then } of requests) {
        const ends = a.ends;
        if (command === 'setBreakpoints') {
          const path = (args as { source?: { path?: unknown } } | null)?.source?.path;
          if (typeof path === 'string') a.files.add(path);
        } else if (/^set(Function|Data|Exception)Breakpoints$/.test(command)) a.kinds.add(command);
        // As long as a case may take: on a loaded machine a run slice can keep a request waiting for seconds.
        const silence = new Promise<Error>((resolve) => setTimeout(() => resolve(new Error('silence')), slowMs));
        const r = await Promise.race([a.dc.send(command, args).catch((e: unknown) => e as Error), silence]);
        assert.ok(!(r instanceof Error && r.message === 'silence'), `no response to '${command}' ${JSON.stringify(args)}`);
        if (r instanceof Error) assert.ok(!/\n\s+at /.test(r.message), `'${command}' answered with a stack trace: ${r.message}`);
        assert.ok(!a.exited, `the adapter process exited after '${command}' ${JSON.stringify(args)}`);
        if (then === 'tick') await tick();
        else if (then === 'stop' && !(r instanceof Error) && RUNS.has(command)) await stopAfter(a, ends);
      }
    });
});
