/**
 * The debug adapter, driven through the Debug Adapter Protocol only (dist/debugAdapter.js
 * over stdio, with @vscode/debugadapter-testsupport's DebugClient). Run `npm run build`
 * first so dist/ is fresh.
 *
 * Every expected value is worked out by hand from the scenario, the allocator and the
 * SMMUv3 / io-pgtable facts; the arithmetic is in the comments. The fixtures are in
 * test/fixtures/scenarios/dap-*.smmu; line numbers below refer to them.
 *
 * Addresses of dap-tree.smmu (regions are placed from 0x4000_0000 in order, each aligned
 * to the power of two at least its size, at least 64 bytes):
 *   cmdq         2^8 commands x 16 B = 0x1000    -> 0x4000_0000..0x4000_1000 (noncacheable: coherent=no)
 *   evtq         2^7 records  x 32 B = 0x1000    -> 0x4000_1000..0x4000_2000
 *   strtab-l1    SIDSIZE 16, SPLIT 8: 2^8 L1 descriptors x 8 B = 0x800 -> 0x4000_2000..0x4000_2800
 *   d1.pgd       4K granule, IAS 48: 36 VA bits / 9 per level = 4 levels from level 0, the pgd has
 *                512 entries = 0x1000 -> aligned up from 0x4000_2800 to 0x4000_3000
 *   d1.tbl0..2   `map d1 0x1000_0000 -> ... size=8K`: a level-1, level-2 and level-3 table of
 *                0x1000 each -> 0x4000_4000, 0x4000_5000, 0x4000_6000
 *   strtab-l2.0  `attach 4 bypass`: 256 STEs x 64 B = 0x4000, aligned up from 0x4000_7000 to 0x4000_8000
 *   cdtab.0x5    `attach 5 s1 d1`: one CD = 64 B -> 0x4000_c000
 *   buf          `alloc buf 4K cacheable` -> 0x4000_d000
 * STE 0x5 = 0x4000_8000 + 5 x 64 = 0x4000_8140. CD 5:0 = 0x4000_c000.
 * Walk of IOVA 0x1000_0000: level-0 index 0 (0x4000_3000), level-1 index 0 (0x4000_4000),
 * level-2 index 0x1000_0000 >> 21 = 128 (descriptor at 0x4000_5000 + 128 x 8 = 0x4000_5400),
 * level-3 index 0 (0x4000_6000).
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const root = join(__dirname, '..', '..', '..');
const adapter = join(root, 'dist', 'debugAdapter.js');
const fixture = (name: string): string => join(root, 'test', 'fixtures', 'scenarios', name);

const TREE = fixture('dap-tree.smmu');
const LINEAR = fixture('dap-linear.smmu');
const BIGMAP = fixture('dap-bigmap.smmu');
const TORN = fixture('dap-torn.smmu');
const STALE = fixture('dap-stale.smmu');
const ERROR = fixture('dap-error.smmu');
const INCLUDE = fixture('dap-include.smmu');
const INCLUDED = fixture('dap-include-part.smmu');

// ---- helpers ---------------------------------------------------------------------------------

type Stop = { readonly kind: 'stopped'; readonly body: DebugProtocol.StoppedEvent['body'] } | { readonly kind: 'terminated' };

/** The next stopped or terminated event (registered before the request that causes it). */
function nextStop(dc: DebugClient, timeout = 15_000): Promise<Stop> {
  return new Promise((resolve, reject) => {
    const onStop = (e: DebugProtocol.StoppedEvent): void => {
      done();
      resolve({ kind: 'stopped', body: e.body });
    };
    const onEnd = (): void => {
      done();
      resolve({ kind: 'terminated' });
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error('no stopped or terminated event'));
    }, timeout);
    const done = (): void => {
      clearTimeout(timer);
      dc.removeListener('stopped', onStop);
      dc.removeListener('terminated', onEnd);
    };
    dc.on('stopped', onStop);
    dc.on('terminated', onEnd);
  });
}

/** Send a request and wait for the stop (or end) it causes. */
async function act(dc: DebugClient, request: () => Promise<unknown>): Promise<Stop> {
  const stop = nextStop(dc);
  await request();
  return stop;
}

/** Send a request that must end in a stop; the stop's body. */
async function stopAfter(dc: DebugClient, request: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent['body']> {
  const s = await act(dc, request);
  assert.equal(s.kind, 'stopped', 'expected a stop, but the run ended');
  return (s as Extract<Stop, { kind: 'stopped' }>).body;
}

/**
 * initialize, launch, configure, configurationDone; the first stop or the end. As VS Code does,
 * the exception filters are always set while configuring: none, unless `configure` sets some
 * (the adapter's default, when a client sets none, is the hazard filters on).
 */
async function launch(dc: DebugClient, args: Record<string, unknown>, configure?: () => Promise<unknown>): Promise<Stop> {
  await dc.initializeRequest();
  await dc.launchRequest(args as DebugProtocol.LaunchRequestArguments);
  await dc.setExceptionBreakpointsRequest({ filters: [] });
  if (configure) await configure();
  return act(dc, () => dc.configurationDoneRequest());
}

async function launchStopped(dc: DebugClient, args: Record<string, unknown>, configure?: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent['body']> {
  const s = await launch(dc, args, configure);
  assert.equal(s.kind, 'stopped', 'expected a stop, but the run ended');
  return (s as Extract<Stop, { kind: 'stopped' }>).body;
}

async function frames(dc: DebugClient, threadId = 1): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId })).body.stackFrames;
}

/** The current statement line: the bottom CPU frame. */
async function line(dc: DebugClient): Promise<number> {
  const f = await frames(dc);
  return f[f.length - 1].line;
}

async function scopes(dc: DebugClient): Promise<DebugProtocol.Scope[]> {
  const f = await frames(dc);
  return (await dc.scopesRequest({ frameId: f[0].id })).body.scopes;
}

async function scope(dc: DebugClient, name: string): Promise<DebugProtocol.Scope> {
  const all = await scopes(dc);
  const s = all.find((x) => x.name === name);
  assert.ok(s, `no scope '${name}' in ${all.map((x) => x.name).join(', ')}`);
  return s;
}

async function vars(dc: DebugClient, ref: number, start?: number, count?: number): Promise<DebugProtocol.Variable[]> {
  return (await dc.variablesRequest({ variablesReference: ref, start, count })).body.variables;
}

/** A child by exact name (or matching a pattern); for indexed children, pass the page. */
async function child(dc: DebugClient, ref: number, name: string | RegExp, start?: number, count?: number): Promise<DebugProtocol.Variable> {
  const all = await vars(dc, ref, start, count);
  const v = all.find((x) => (typeof name === 'string' ? x.name === name : name.test(x.name)));
  assert.ok(v, `no variable ${name} among ${all.map((x) => x.name).join(', ')}`);
  return v;
}

async function evaluate(dc: DebugClient, expression: string, context?: string, frameId?: number): Promise<DebugProtocol.EvaluateResponse['body']> {
  return (await dc.evaluateRequest({ expression, context, frameId })).body;
}

/** The request must be answered with an error whose message matches. */
async function fails(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, pattern);
    return true;
  });
}

/** The adapter still answers after whatever came before. */
async function stillAnswers(dc: DebugClient): Promise<void> {
  const t = await dc.threadsRequest();
  assert.deepEqual(t.body.threads.map((x) => x.name), ['CPU (driver)', 'SMMU']);
}

/** readMemory / writeMemory (DebugClient has no typed helpers for them). */
function readMemory(dc: DebugClient, args: DebugProtocol.ReadMemoryArguments): Promise<DebugProtocol.ReadMemoryResponse> {
  return dc.customRequest('readMemory', args) as Promise<DebugProtocol.ReadMemoryResponse>;
}

function writeMemory(dc: DebugClient, args: DebugProtocol.WriteMemoryArguments): Promise<DebugProtocol.WriteMemoryResponse> {
  return dc.customRequest('writeMemory', args) as Promise<DebugProtocol.WriteMemoryResponse>;
}

const bytes = (...b: number[]): string => Buffer.from(b).toString('base64');

async function exceptionInfo(dc: DebugClient): Promise<DebugProtocol.ExceptionInfoResponse['body']> {
  return (await dc.exceptionInfoRequest({ threadId: 1 })).body;
}

// ---- the tests ---------------------------------------------------------------------------------

describe('debug adapter (DAP)', function () {
  this.timeout(30_000);
  let dc: DebugClient;
  beforeEach(async () => {
    dc = new DebugClient('node', adapter, 'smmu');
    dc.defaultTimeout = 15_000;
    await dc.start();
  });
  afterEach(async () => {
    // An adapter that crashed never answers the disconnect: do not wait for it forever.
    const stopped = await Promise.race([dc.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
    if (!stopped) (dc as unknown as { stopAdapter(): void }).stopAdapter();
  });

  describe('launch', () => {
    it('stops on entry at the first statement (platform lines are not statements)', async () => {
      const stop = await launchStopped(dc, { program: TREE, stopOnEntry: true });
      assert.equal(stop.reason, 'entry');
      assert.equal(stop.threadId, 1);
      const f = await frames(dc);
      // Lines 3-4 (platform, smmu) configure the machine; line 5 `smmu init` is the first step.
      assert.equal(f.length, 1);
      assert.equal(f[0].line, 5);
      assert.equal(f[0].name, 'smmu init');
      assert.equal(f[0].source?.path, TREE);
    });

    it('without stopOnEntry and no breakpoint, runs to the end', async () => {
      const outputs: string[] = [];
      dc.on('output', (e: DebugProtocol.OutputEvent) => outputs.push(e.body.output));
      const s = await launch(dc, { program: TREE });
      assert.equal(s.kind, 'terminated');
      // 12 statements, no expectation in the file: 0 passed, 0 failed. One hazard: the warning
      // for the new L2 stream table published with no barrier (attach 4 bypass).
      assert.ok(outputs.some((o) => o.startsWith('scenario finished: 0 expectation(s) passed, 0 failed, 1 hazard(s)')), outputs.join(''));
    });

    it('a long run launched without stopOnEntry is not reported as stopped between its slices', async () => {
      // dap-bigmap maps 256M in 4K pages: 65536 PTE stores, far more than one slice of 20,000
      // micro-operations. The launch must end the run, not stop at the first slice.
      const s = await launch(dc, { program: BIGMAP });
      assert.equal(s.kind, 'terminated', s.kind === 'stopped' ? `stopped: ${s.body.reason} ${s.body.description}` : '');
    });

    it('answers a launch without a program (or without any arguments) with an error', async () => {
      await dc.initializeRequest();
      await fails(dc.launchRequest({ stopOnEntry: true } as DebugProtocol.LaunchRequestArguments), /launch needs "program"/);
      await stillAnswers(dc);
      // No arguments at all: the request carries no `arguments` member.
      await fails(dc.launchRequest({} as DebugProtocol.LaunchRequestArguments), /launch needs "program"/);
      await stillAnswers(dc);
    });

    it('answers a missing program with an error naming the file', async () => {
      const missing = fixture('no-such-file.smmu');
      await dc.initializeRequest();
      await fails(dc.launchRequest({ program: missing } as DebugProtocol.LaunchRequestArguments), new RegExp(`cannot read the scenario ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      await stillAnswers(dc);
    });

    it('answers an unreadable program (a directory) with an error', async () => {
      const dir = join(root, 'test', 'fixtures', 'scenarios');
      await dc.initializeRequest();
      await fails(dc.launchRequest({ program: dir } as DebugProtocol.LaunchRequestArguments), /cannot read the scenario/);
      await stillAnswers(dc);
    });

    it('answers a program with a compile error with file:line:col, and launches another one afterwards', async () => {
      await dc.initializeRequest();
      // dap-error.smmu line 4 `map nosuch 0x1000 -> 0x2000`: the domain name starts at column 5.
      await fails(dc.launchRequest({ program: ERROR } as DebugProtocol.LaunchRequestArguments),
        new RegExp(`the scenario has errors: ${ERROR.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:5: error: unknown domain 'nosuch'`));
      await stillAnswers(dc);
      // The session is still usable.
      await dc.launchRequest({ program: TREE, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
      const stop = await stopAfter(dc, () => dc.configurationDoneRequest());
      assert.equal(stop.reason, 'entry');
    });

    it('check=false: no hazard checker, so a hazard filter never stops', async () => {
      const s = await launch(dc, { program: TORN, check: false }, () => dc.setExceptionBreakpointsRequest({ filters: ['hazard:torn-update'] }));
      assert.equal(s.kind, 'terminated');
      // And with the checker (the default) the same filter stops: see the hazard filter tests.
    });

    it('check=false: the Hazards scope is empty where the checker would have found one', async () => {
      // Line 12 is after `attach 4 bypass` (line 10), which the checker flags (missing-barrier warning).
      await launchStopped(dc, { program: TREE, check: false }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 12 }] }));
      const hz = await scope(dc, 'Hazards');
      assert.equal(hz.name, 'Hazards');
      assert.deepEqual(await vars(dc, hz.variablesReference), []);
    });

    it('coherent=true overrides the platform: coherent walk attributes, no SW_SYNC, no CMO at all', async () => {
      // With a coherent SMMU, io-pgtable's walk is coherent: TCR SH=IS, IRGN=ORGN=WBWA (facts §8),
      // so CD word 0 = T0SZ 16 (0x10) | IRGN0 1<<8 | ORGN0 1<<10 | SH0 3<<12 = 0x3510 in its low bits,
      // and table descriptors are not rewritten with SW_SYNC (bit 55).
      await launchStopped(dc, { program: TREE, coherent: true }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 13 }] }));
      assert.equal((await evaluate(dc, 'cd[5][0].SH0')).result.slice(0, 8), '0b11 ISH');
      // IRGN0 is the alias of the CD's IR0 field.
      assert.match((await evaluate(dc, 'cd[5][0].IRGN0')).result, /^0b01 /);
      // Level-0 entry 0 of d1: table descriptor for the level-1 table at 0x4000_4000: 0x4000_4000 | 0b11.
      assert.equal((await evaluate(dc, 'cpu(0x4000_3000)')).result, '0x0000000040004003');
      // The leaf PTE does not depend on the walk's coherency: SH=IS comes from IOMMU_CACHE (facts §8),
      // so it is the same 0x0060_0008_0000_0f47 as on the non-coherent platform.
      assert.equal((await evaluate(dc, 'pte(5, 0x1000_0000)')).result, '0x0060000800000f47 (stage 1 level 3 page) at 0x40006000');
      // The queues come from dma_alloc_coherent: cacheable on a coherent platform.
      const mem = await scope(dc, 'Memory');
      assert.match((await child(dc, mem.variablesReference, 'cmdq')).value, /^0x40000000\.\.0x40001000 cacheable, /);
    });

    it('coherent=true: the cmo filter never stops (nothing is cleaned)', async () => {
      const s = await launch(dc, { program: TREE, coherent: true }, () => dc.setExceptionBreakpointsRequest({ filters: ['cmo'] }));
      assert.equal(s.kind, 'terminated');
    });

    it('trace=true prints every micro-operation; by default only commands, events and notes', async () => {
      const run = async (trace: boolean): Promise<string[]> => {
        const out: string[] = [];
        const c = new DebugClient('node', adapter, 'smmu');
        await c.start();
        try {
          c.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
          await launch(c, { program: TREE, trace });
        } finally {
          await c.stop();
        }
        return out;
      };
      // Op 2 of `smmu init`: the command queue, 2^8 x 16 = 0x1000 bytes, non-cacheable (coherent=no),
      // one frame deep (arm_smmu_device_reset): indented by two spaces.
      const alloc = "  alloc 'cmdq' 0x1000 bytes noncacheable\n";
      const traced = await run(true);
      assert.ok(traced.includes(alloc), traced.slice(0, 20).join(''));
      const quiet = await run(false);
      assert.ok(!quiet.includes(alloc));
      // Notes are still printed: the first CMD_SYNC's completion by MSI into its own slot (slot 1 = 0x4000_0010).
      assert.ok(quiet.some((o) => o.includes('CMD_SYNC complete: the MSI cleared its slot at 0x40000010')), quiet.join(''));
    });

    it('maxOps: a run past the limit stops with an error exception', async () => {
      const stop = await launchStopped(dc, { program: TREE, maxOps: 50 });
      assert.equal(stop.reason, 'exception');
      const x = await exceptionInfo(dc);
      assert.equal(x.exceptionId, 'error');
      assert.match(x.details?.message ?? '', /exceeded 50 micro-operations/);
      // Continuing from an error ends the session.
      const s = await act(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(s.kind, 'terminated');
    });
  });

  describe('line breakpoints', () => {
    it('are verified on statement lines, moved to the next statement from a comment or platform line, refused past the end', async () => {
      await dc.initializeRequest();
      await dc.launchRequest({ program: TREE, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
      await dc.setExceptionBreakpointsRequest({ filters: [] });
      const r = await dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 9 }, { line: 11 }, { line: 3 }, { line: 40 }] });
      const bps = r.body.breakpoints;
      assert.deepEqual(bps.map((b) => [b.verified, b.line]), [[true, 9], [true, 12], [true, 5], [false, 40]]);
      assert.match(bps[3].message ?? '', /no statement on or after this line/);
      await stopAfter(dc, () => dc.configurationDoneRequest());
      // From entry (line 5): the next breakpoint is line 9, then the moved one on line 12.
      let stop = await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(stop.reason, 'breakpoint');
      assert.deepEqual(stop.hitBreakpointIds, [bps[0].id]);
      assert.equal(await line(dc), 9);
      stop = await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.deepEqual(stop.hitBreakpointIds, [bps[1].id]);
      assert.equal(await line(dc), 12);
      assert.equal((await act(dc, () => dc.continueRequest({ threadId: 1 }))).kind, 'terminated');
    });

    it('set before launch are kept and take effect when the scenario starts', async () => {
      await dc.initializeRequest();
      // Before launch the statements are not known: not verified yet, moved and verified by a 'breakpoint' event.
      const r = await dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 11 }] });
      await dc.setExceptionBreakpointsRequest({ filters: [] });
      assert.equal(r.body.breakpoints[0].verified, false);
      assert.equal(r.body.breakpoints[0].message, 'set when the scenario starts');
      const changed = dc.waitForEvent('breakpoint') as Promise<DebugProtocol.BreakpointEvent>;
      await dc.launchRequest({ program: TREE } as DebugProtocol.LaunchRequestArguments);
      const ev = await changed;
      assert.equal(ev.body.reason, 'changed');
      assert.deepEqual([ev.body.breakpoint.id, ev.body.breakpoint.verified, ev.body.breakpoint.line], [r.body.breakpoints[0].id, true, 12]);
      const stop = await stopAfter(dc, () => dc.configurationDoneRequest());
      assert.equal(stop.reason, 'breakpoint');
      assert.equal(await line(dc), 12);
    });

    it('conditional: the condition is evaluated with the scenario constants at the statement (non-zero or true stops)', async () => {
      let bps: DebugProtocol.Breakpoint[] = [];
      await launchStopped(dc, { program: TREE }, async () => {
        bps = (await dc.setBreakpointsRequest({
          source: { path: TREE },
          breakpoints: [
            // IOVA (line 6) = 0x1000_0000 and PA (line 7) = 0x8_0000_0000 are defined before line 8.
            { line: 8, condition: 'PA - 0x8_0000_0000' },          // 0: no stop
            { line: 9, condition: 'PA == 0' },                     // a comparison: false, no stop
            { line: 10, condition: '(IOVA + 0x1000) & 0x1000' },    // 0x1000: stop
            { line: 12, condition: 'IOVA <' },                     // neither an expression nor a comparison
          ],
        })).body.breakpoints;
      });
      assert.equal(await line(dc), 10);
      assert.deepEqual(bps.map((b) => b.verified), [true, true, true, false]);
      assert.match(bps[3].message ?? '', /the condition is not a scenario expression or comparison: '<' needs a value on each side/);
      // Not silently "always true": the unverified breakpoint on line 12 never stops the run.
      assert.equal((await act(dc, () => dc.continueRequest({ threadId: 1 }))).kind, 'terminated');
    });

    it('hit count: a line of a file included twice stops on its second execution only', async () => {
      // dap-include.smmu includes dap-include-part.smmu twice (lines 8 and 9); its line 2 runs twice.
      await launchStopped(dc, { program: INCLUDE }, () => dc.setBreakpointsRequest({ source: { path: INCLUDED }, breakpoints: [{ line: 2, hitCondition: '2' }] }));
      const f = await frames(dc);
      assert.equal(f[f.length - 1].source?.path, INCLUDED);
      assert.equal(f[f.length - 1].line, 2);
      // Statements: smmu init 0, domain 1, map 2, attach 3, the first include's dma 4, the second's 5.
      assert.equal(((await dc.customRequest('smmu/position')) as DebugProtocol.Response).body.statement, 5);
      // Continuing ends the run (no third hit).
      assert.equal((await act(dc, () => dc.continueRequest({ threadId: 1 }))).kind, 'terminated');
    });

    it('hit count ">= 1" stops at every hit', async () => {
      await launchStopped(dc, { program: INCLUDE }, () => dc.setBreakpointsRequest({ source: { path: INCLUDED }, breakpoints: [{ line: 2, hitCondition: '>= 1' }] }));
      assert.equal(await line(dc), 2);
      await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(await line(dc), 2);
      assert.equal((await act(dc, () => dc.continueRequest({ threadId: 1 }))).kind, 'terminated');
    });

    it('breakpointLocations lists the statement lines of a range', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      const r = await dc.customRequest('breakpointLocations', { source: { path: TREE }, line: 1, endLine: 17 }) as DebugProtocol.BreakpointLocationsResponse;
      // Steps: smmu init (5), two consts (6, 7), domain (8), map (9), attach (10), attach (12), two dma (13, 14),
      // alloc (15), store (16), dsb (17). Lines 1-4 and 11 are comments or platform settings.
      assert.deepEqual(r.body.breakpoints.map((b) => b.line), [5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17]);
      const one = await dc.customRequest('breakpointLocations', { source: { path: TREE }, line: 11 }) as DebugProtocol.BreakpointLocationsResponse;
      assert.deepEqual(one.body.breakpoints, []);
    });
  });

  describe('exception filters (event and hazard breakpoints)', () => {
    it('offers every event filter and one per hazard rule', async () => {
      const r = await dc.initializeRequest();
      const ids = (r.body?.exceptionBreakpointFilters ?? []).map((f) => f.filter);
      for (const id of ['cmo', 'barrier', 'invalidation', 'sync', 'fault', 'hazard:torn-update', 'hazard:stale-fetch']) assert.ok(ids.includes(id), id);
    });

    const filterStop = async (program: string, filter: string): Promise<{ stop: DebugProtocol.StoppedEvent['body']; info: DebugProtocol.ExceptionInfoResponse['body']; frames: DebugProtocol.StackFrame[] }> => {
      const stop = await launchStopped(dc, { program }, () => dc.setExceptionBreakpointsRequest({ filters: [filter] }));
      assert.equal(stop.reason, 'exception');
      return { stop, info: await exceptionInfo(dc), frames: await frames(dc) };
    };

    it('cmo: the clean of the new pgd (dma_map_single on a non-coherent walk)', async () => {
      const { stop, info, frames: f } = await filterStop(TREE, 'cmo');
      // `domain d1` (line 8): the pgd d1.tbl0 at 0x4000_3000, 0x1000 bytes, zeroed by CPU writes
      // (all 0x1000 / 64 = 64 lines dirty), then DC CVAC over it.
      assert.equal(stop.description, 'CMO: clean 0x40003000+0x1000');
      assert.equal(info.exceptionId, 'cmo');
      // The description carries the whole explanation (VS Code's exception widget shows only it): event, then details.
      assert.equal(info.description, 'CMO: clean 0x40003000+0x1000. 64 line(s), 64 dirty');
      assert.equal(info.details?.message, '64 line(s), 64 dirty');
      assert.equal(info.details?.typeName, 'cmo');
      assert.equal(info.breakMode, 'always');
      assert.equal(f[0].name, 'DC CVAC (clean) 0x40003000..0x40004000  ; dma_map_single(DMA_TO_DEVICE) of the new table');
      assert.equal(f[1].name, '__arm_lpae_alloc_pages');
      assert.equal(f[f.length - 1].line, 8);
    });

    it('barrier: the wmb of the first writel (CR1) in smmu init', async () => {
      const { info, frames: f } = await filterStop(TREE, 'barrier');
      // Queues and the L1 table are allocated (no store), CR0 is read; writel CR1 has a wmb before it.
      assert.equal(info.exceptionId, 'barrier');
      assert.equal(info.description, 'barrier: wmb. orders earlier stores before later ones');
      assert.equal(info.details?.message, 'orders earlier stores before later ones');
      // CR1: QUEUE_IC/OC = WB (1), QUEUE_SH = ISH (3), TABLE_IC/OC = WB, TABLE_SH = ISH:
      // 1 | 1<<2 | 3<<4 | 1<<6 | 1<<8 | 3<<10 = 0xd75.
      assert.equal(f[0].name, 'writel CR1 = 0xd75');
      assert.equal(f[1].name, 'arm_smmu_device_reset');
      assert.equal(f[f.length - 1].line, 5);
    });

    it('invalidation: CFGI_ALL consumed by the SMMU', async () => {
      const { info, frames: f } = await filterStop(TREE, 'invalidation');
      assert.equal(info.exceptionId, 'invalidation');
      assert.equal(info.description, 'CMD_CFGI_ALL consumed. dropped all 0 cached configuration structures');
      // Nothing was cached yet on a fresh SMMU.
      assert.equal(info.details?.message, 'dropped all 0 cached configuration structures');
      // The SMMU consumes the commands when CMDQ_PROD moves to 2 (CFGI_ALL + CMD_SYNC).
      assert.equal(f[0].name, 'writel_relaxed CMDQ_PROD = 0x2');
      assert.deepEqual(f.slice(1, 3).map((x) => x.name), ['arm_smmu_cmdq_issue_cmdlist', 'arm_smmu_device_reset']);
    });

    it('sync: the first CMD_SYNC, completed by an MSI write of 0 into its own slot', async () => {
      const { info } = await filterStop(TREE, 'sync');
      // CFGI_ALL in slot 0, the CMD_SYNC in slot 1: 0x4000_0000 + 1 x 16 = 0x4000_0010.
      assert.equal(info.exceptionId, 'sync');
      assert.equal(info.description, 'CMD_SYNC completed. MSI write of 0x0 to 0x40000010');
      assert.equal(info.details?.message, 'MSI write of 0x0 to 0x40000010');
    });

    it('fault: F_TRANSLATION for the unmapped page, recorded in the first event queue slot', async () => {
      const { info, frames: f } = await filterStop(TREE, 'fault');
      // Line 14: IOVA + 0x2000 is the third page; only 8K are mapped, so the level-3 entry 2 is 0.
      // CD.R=1: recorded at EVENTQ slot 0 = 0x4000_1000.
      assert.equal(info.exceptionId, 'fault');
      assert.equal(info.description, 'SMMU event F_TRANSLATION. event record written at 0x40001000');
      assert.equal(info.details?.message, 'event record written at 0x40001000');
      assert.equal(f[0].name, 'DMA read SID 0x5 IOVA 0x10002000');
      assert.equal(f[f.length - 1].line, 14);
    });

    it('hazard:torn-update: a raw STE write (qword 0 first) while traffic is active', async () => {
      const { stop, info } = await filterStop(TORN, 'hazard:torn-update');
      // dap-torn: strtab-l2.0 at 0x4000_8000 (after the 4 tables of g1 at 0x4000_3000..0x4000_7000),
      // STE 0x20 at 0x4000_8000 + 0x20 x 64 = 0x4000_8800. The raw write stores qword 0
      // (V | S2_TRANS<<1 = 0xd) first, while qword 1 still has the bypass STE's SHCFG=INCOMING
      // (1<<44 = 0x1000_0000_0000) and qwords 2-3 are 0: an ILLEGAL STE (C_BAD_STE), which neither
      // bypass nor the stage-2 STE gives.
      assert.equal(stop.description, 'hazard torn-update: Torn or non-hitless update');
      assert.equal(info.exceptionId, 'torn-update');
      assert.ok(info.description?.startsWith('error: Torn or non-hitless update. the SMMU could read STE at 0x40008800'), info.description);
      assert.equal(info.details?.typeName, 'hazard:torn-update');
      assert.match(info.details?.message ?? '', /^the SMMU could read STE at 0x40008800 as \[0xd 0x100000000000 0x0 0x0 0x0 0x0 0x0 0x0\]/);
      assert.match(info.details?.message ?? '', /C_BAD_STE for DMA read SID 0x20 IOVA 0x10000000/);
      // The checker judges the values the SMMU could have read when the raw write (line 9) ends: the run
      // stops there, between it and the next statement (line 10), not at some later micro-operation.
      // The frame is the statement the hazard belongs to, finished (where VS Code shows the exception).
      const f = await frames(dc);
      assert.deepEqual(f.map((x) => [x.name, x.line]), [['ste 0x20 <- s2 g1 raw (finished)', 9]]);
      // The run itself stands before `const DONE` (steps: smmu init 0, domain 1, map 2, attach 3, traffic 4, the raw write 5).
      assert.equal(((await dc.customRequest('smmu/position')) as DebugProtocol.Response).body.statement, 6);
      // The Hazards scope has it, with the statement it was found in.
      const hz = await vars(dc, (await scope(dc, 'Hazards')).variablesReference);
      assert.ok(hz.some((h) => h.name.endsWith('error torn-update')), hz.map((h) => h.name).join(', '));
    });

    it('hazard:stale-fetch: the STE store publishing a CD table never cleaned to PoC', async () => {
      const { info, frames: f } = await filterStop(STALE, 'hazard:stale-fetch');
      // dap-stale: cdtab.0x5 (64 B, cacheable) at 0x4000_7000 right after d1's four tables,
      // strtab-l2.0 at 0x4000_8000, STE 5 at 0x4000_8140. STE qword 0 = V | S1_TRANS<<1 (0xb) | 0x4000_7000.
      assert.equal(info.exceptionId, 'stale-fetch');
      assert.ok(info.description?.startsWith('error: Stale read by a non-coherent SMMU. the store at 0x40008140'), info.description);
      assert.match(info.details?.message ?? '', /^the store at 0x40008140 makes it reachable, but 3 entries of the CD table at 0x40007000/);
      assert.match(f[0].name, /^WRITE_ONCE 64-bit \[0x40008140\] = 0x4000700b {2}; STE qword 0 \(critical qword\)$/);
      assert.deepEqual(f.slice(1, 3).map((x) => x.name), ['arm_smmu_write_entry', 'arm_smmu_write_ste']);
      assert.equal(f[f.length - 1].line, 7);
    });

    it('hazard:stale-cache: after the raw write, then again when the run ends (the "end of scenario" stop)', async () => {
      const { info } = await filterStop(TORN, 'hazard:stale-cache');
      // attach 0x20 bypass ends with PREFETCH_CFG: the SMMU caches the bypass STE; the raw write changes
      // memory with no CFGI_STE: the cached STE (bypass) and memory (stage 2 -> 0x9_0000_0000) disagree.
      assert.equal(info.exceptionId, 'stale-cache');
      assert.match(info.details?.message ?? '', /^after this statement the SMMU would still use cached configuration \(STE\) for DMA read SID 0x20 IOVA 0x10000000 and give bypass → 0x10000000, while memory now says → 0x900000000/);
      // Judged when the raw write (line 9) ends: shown on it.
      assert.deepEqual((await frames(dc)).map((f) => f.line), [9]);
      // The checker's last judgement, when the run ends: still no CFGI_STE + CMD_SYNC.
      const end = await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(end.reason, 'exception');
      assert.match((await exceptionInfo(dc)).details?.message ?? '', /^at the end, the SMMU still caches the STE of StreamID 0x20 as it was fetched from 0x40008800/);
      assert.deepEqual((await frames(dc)).map((f) => f.name), ['end of scenario']);
      assert.equal((await act(dc, () => dc.continueRequest({ threadId: 1 }))).kind, 'terminated');
    });

    it('the smmu/hazards request lists the hazards with their statement', async () => {
      await launchStopped(dc, { program: TREE }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 13 }] }));
      const r = await dc.customRequest('smmu/hazards') as DebugProtocol.Response;
      assert.deepEqual(r.body.hazards.map((h: { rule: string; severity: string; file: string; line: number }) => [h.rule, h.severity, h.file, h.line]),
        [['missing-barrier', 'warning', TREE, 10]]);
    });

    it('exceptionInfo when not stopped on an event is an error', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      await fails(dc.exceptionInfoRequest({ threadId: 1 }), /not stopped on an event or hazard/);
    });
  });

  describe('function breakpoints', () => {
    const fnStop = async (name: string, hitCondition?: string): Promise<DebugProtocol.StackFrame[]> => {
      let id = -1;
      const stop = await launchStopped(dc, { program: TREE }, async () => {
        const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name, hitCondition }] });
        assert.equal(r.body.breakpoints[0].verified, true);
        id = r.body.breakpoints[0].id!;
      });
      assert.equal(stop.reason, 'function breakpoint');
      assert.equal(stop.description, `entered ${name}`);
      assert.deepEqual(stop.hitBreakpointIds, [id]);
      return frames(dc);
    };

    it('arm_smmu_cmdq_issue_cmdlist: the first command batch of smmu init', async () => {
      const f = await fnStop('arm_smmu_cmdq_issue_cmdlist');
      assert.equal(f[0].name, 'call arm_smmu_cmdq_issue_cmdlist (1 command + CMD_SYNC)');
      assert.deepEqual(f.slice(1).map((x) => x.name), ['arm_smmu_cmdq_issue_cmdlist', 'arm_smmu_device_reset', 'smmu init']);
    });

    it('arm_smmu_cmdq_issue_cmdlist with hit count 3: the third batch (CFGI_ALL, TLBI_EL2_ALL, then TLBI_NSNH_ALL)', async () => {
      await fnStop('arm_smmu_cmdq_issue_cmdlist', '3');
      // Two batches of one command + CMD_SYNC each went before: CMDQ_PROD = 4.
      assert.match((await evaluate(dc, 'CMDQ_PROD')).result, /^0x00000004\b/);
      assert.equal(await line(dc), 5);
    });

    it('__arm_lpae_map: inside iommu_map and arm_lpae_map_pages', async () => {
      const f = await fnStop('__arm_lpae_map');
      assert.deepEqual(f.slice(1).map((x) => x.name), ['__arm_lpae_map', 'arm_lpae_map_pages', 'iommu_map', 'map d1 IOVA -> PA size=8K']);
      assert.equal(f[f.length - 1].line, 9);
    });

    it('arm_smmu_write_entry: the first STE write (attach 4 bypass, after its L2 table)', async () => {
      const f = await fnStop('arm_smmu_write_entry');
      // STE 4 at 0x4000_8000 + 4 x 64 = 0x4000_8100.
      assert.equal(f[0].name, 'call arm_smmu_write_entry (STE at 0x40008100)');
      assert.deepEqual(f.slice(1).map((x) => x.name), ['arm_smmu_write_entry', 'arm_smmu_write_ste', 'attach 4 bypass']);
    });

    it('a function the driver never enters never stops the run', async () => {
      const s = await launch(dc, { program: TREE }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'no_such_function' }] }));
      assert.equal(s.kind, 'terminated');
    });
  });

  describe('data breakpoints', () => {
    it('on an STE from the variables tree: write stops at the CPU store, read at the SMMU fetch', async () => {
      // Line 12: after `attach 4 bypass` the L2 stream table exists, STE 5 still abort.
      await launchStopped(dc, { program: TREE }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 12 }] }));
      const st = await scope(dc, 'Stream table');
      const table = await child(dc, st.variablesReference, 'stream table');
      const l1 = await child(dc, table.variablesReference, 'L1STD 0 (SIDs 0x0..)', 0, 1);
      const stes = await child(dc, l1.variablesReference, 'STEs');
      const info = await dc.dataBreakpointInfoRequest({ variablesReference: stes.variablesReference, name: 'STE 0x5' });
      // The whole STE: 64 bytes at 0x4000_8140.
      assert.equal(info.body.dataId, '0x40008140:64');
      assert.deepEqual(info.body.accessTypes, ['read', 'write', 'readWrite']);
      const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
      assert.equal(set.body.breakpoints[0].verified, true);
      const stop = await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(stop.reason, 'data breakpoint');
      // Abort -> S1: the writer's step (a) writes qword 1, the bits the abort STE ignores:
      // S1DSS=SSID0 (2) | S1CIR=WBRA (1<<2) | S1COR=WBRA (1<<4) | S1CSH=ISH (3<<6) | S1STALLD (1<<27) = 0x80000d6,
      // at 0x4000_8140 + 8.
      assert.equal(stop.description, 'CPU store of 0x80000d6 to 0x40008148');
      assert.deepEqual(stop.hitBreakpointIds, [set.body.breakpoints[0].id]);
      assert.equal(await line(dc), 12);

      // Now watch reads: the first SMMU fetch of STE 5 is the PREFETCH_CFG after the write.
      await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'read' }] });
      const read = await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(read.reason, 'data breakpoint');
      assert.equal(read.description, 'SMMU fetch of the STE at 0x40008140');
      assert.equal(await line(dc), 12);
    });

    it('on an expression: the first qword of STE 5, at ste_addr(5)', async () => {
      await launchStopped(dc, { program: TREE }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 12 }] }));
      // A plain number is an address: one qword there (ste[5] itself would watch the whole 64-byte STE).
      const info = await dc.dataBreakpointInfoRequest({ name: 'ste_addr(5)' });
      assert.equal(info.body.dataId, '0x40008140:8');
      await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
      const stop = await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      // Step (b), the critical qword 0: V | S1_TRANS<<1 = 0xb | S1ContextPtr 0x4000_c000.
      assert.equal(stop.description, 'CPU store of 0x4000c00b to 0x40008140');
    });

    it('something without an address has no data id; a bad data id is not verified', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      const info = await dc.dataBreakpointInfoRequest({ name: 'IOVA' });
      assert.equal(info.body.dataId, null);
      const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'garbage' }] });
      assert.equal(set.body.breakpoints[0].verified, false);
    });
  });

  describe('stepping', () => {
    it('next goes statement by statement, skipping comment lines', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      const seen = [await line(dc)];
      for (let i = 0; i < 7; i++) {
        const stop = await stopAfter(dc, () => dc.nextRequest({ threadId: 1 }));
        assert.equal(stop.reason, 'step');
        seen.push(await line(dc));
      }
      assert.deepEqual(seen, [5, 6, 7, 8, 9, 10, 12, 13]);
    });

    it('stepIn goes one micro-operation at a time; the frames follow the driver calls; stepOut returns', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      const names = async (): Promise<string[]> => (await frames(dc)).map((f) => f.name);
      const stepIn = (): Promise<unknown> => stopAfter(dc, () => dc.stepInRequest({ threadId: 1 }));
      // smmu init: op 1 enters arm_smmu_device_reset.
      await stepIn();
      assert.deepEqual(await names(), ['call arm_smmu_device_reset', 'arm_smmu_device_reset', 'smmu init']);
      // Op 2: the command queue (2^8 x 16 B).
      await stepIn();
      assert.deepEqual(await names(), ["alloc 'cmdq' 0x1000 bytes noncacheable", 'arm_smmu_device_reset', 'smmu init']);
      // Op 3: the event queue (2^7 x 32 B), by `next` with instruction granularity (the same as stepIn);
      // op 4 enters arm_smmu_init_strtab for a 2-level table.
      await stopAfter(dc, () => dc.nextRequest({ threadId: 1, granularity: 'instruction' }));
      assert.deepEqual(await names(), ["alloc 'evtq' 0x1000 bytes noncacheable", 'arm_smmu_device_reset', 'smmu init']);
      await stepIn();
      assert.deepEqual(await names(), ['call arm_smmu_init_strtab (2lvl)', 'arm_smmu_init_strtab', 'arm_smmu_device_reset', 'smmu init']);
      // Op 5: the L1 table, 2^8 x 8 B = 0x800.
      await stepIn();
      const f5 = await frames(dc);
      assert.deepEqual(f5.map((f) => f.name), ["alloc 'strtab-l1' 0x800 bytes noncacheable", 'arm_smmu_init_strtab', 'arm_smmu_device_reset', 'smmu init']);
      assert.equal(f5[0].instructionPointerReference, '0x5');
      assert.ok(f5.every((f) => f.line === 5));
      // stepOut: until arm_smmu_init_strtab returns (op 6).
      await stopAfter(dc, () => dc.stepOutRequest({ threadId: 1 }));
      const out = await frames(dc);
      assert.equal(out[0].instructionPointerReference, '0x6');
      assert.equal(out[0].name, 'return from arm_smmu_init_strtab');
      assert.deepEqual(out.slice(1).map((f) => f.name), ['arm_smmu_device_reset', 'smmu init']);
      // stepOut again: arm_smmu_device_reset returns, to the statement itself (its last micro-operation).
      await stopAfter(dc, () => dc.stepOutRequest({ threadId: 1 }));
      assert.deepEqual(await names(), ['return from arm_smmu_device_reset', 'smmu init']);
      // Out of the statement: the next one, line 6.
      await stopAfter(dc, () => dc.stepOutRequest({ threadId: 1 }));
      assert.deepEqual(await names(), ['const IOVA = 0x1000_0000']);
      assert.equal(await line(dc), 6);
    });

    it('stepBack by instruction undoes one micro-operation; by statement goes to the previous statement', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      for (let i = 0; i < 5; i++) await stopAfter(dc, () => dc.stepInRequest({ threadId: 1 }));
      assert.equal((await frames(dc))[0].name, "alloc 'strtab-l1' 0x800 bytes noncacheable");
      const back = await stopAfter(dc, () => dc.stepBackRequest({ threadId: 1, granularity: 'instruction' }));
      assert.equal(back.reason, 'step');
      const f = await frames(dc);
      assert.equal(f[0].instructionPointerReference, '0x4');
      assert.deepEqual(f.map((x) => x.name), ['call arm_smmu_init_strtab (2lvl)', 'arm_smmu_init_strtab', 'arm_smmu_device_reset', 'smmu init']);
      // The L1 table is not allocated any more at op 4.
      const mem = await scope(dc, 'Memory');
      assert.deepEqual((await vars(dc, mem.variablesReference)).map((v) => v.name), ['cmdq', 'evtq']);
      // Forwards again, to line 8, then back by statements: 7, 6, 5, then the start ('entry').
      for (let i = 0; i < 3; i++) await stopAfter(dc, () => dc.nextRequest({ threadId: 1 }));
      assert.equal(await line(dc), 8);
      for (const expected of [7, 6, 5]) {
        await stopAfter(dc, () => dc.stepBackRequest({ threadId: 1 }));
        assert.equal(await line(dc), expected);
      }
      const start = await stopAfter(dc, () => dc.stepBackRequest({ threadId: 1 }));
      assert.equal(start.reason, 'entry');
      assert.equal(await line(dc), 5);
    });

    it('stepBack from inside a statement goes to its start', async () => {
      await launchStopped(dc, { program: TREE }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '__arm_lpae_map' }] }));
      assert.equal(await line(dc), 9);
      await stopAfter(dc, () => dc.stepBackRequest({ threadId: 1 }));
      const f = await frames(dc);
      assert.equal(f.length, 1);
      assert.equal(f[0].line, 9);
      // Nothing of the map happened: its first table (level 1, d1.tbl0) does not exist yet.
      const mem = await scope(dc, 'Memory');
      assert.deepEqual((await vars(dc, mem.variablesReference)).map((v) => v.name), ['cmdq', 'evtq', 'strtab-l1', 'd1.pgd']);
    });

    it('reverseContinue goes back to the previous breakpoint, then to the start', async () => {
      await launchStopped(dc, { program: TREE }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 9 }, { line: 13 }] }));
      assert.equal(await line(dc), 9);
      await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(await line(dc), 13);
      const back = await stopAfter(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
      assert.equal(back.reason, 'breakpoint');
      assert.equal(await line(dc), 9);
      // The state is the one at line 9: d1 has its pgd only.
      assert.match((await evaluate(dc, 'cpu(0x4000_3000)')).result, /^0x0+$/);
      const start = await stopAfter(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
      assert.equal(start.reason, 'entry');
      assert.equal(await line(dc), 5);
      // And forwards again to the same breakpoints.
      await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(await line(dc), 9);
    });

    it('reverseContinue stops at an earlier event filter stop', async () => {
      await launchStopped(dc, { program: TREE }, async () => {
        await dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 15 }] });
      });
      assert.equal(await line(dc), 15);
      await dc.setExceptionBreakpointsRequest({ filters: ['fault'] });
      const back = await stopAfter(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
      assert.equal(back.reason, 'exception');
      assert.equal(await line(dc), 14);
      assert.equal((await exceptionInfo(dc)).details?.message, 'event record written at 0x40001000');
      assert.equal(back.description, 'SMMU event F_TRANSLATION');
    });

    it('restart starts again, on entry or to the first breakpoint', async () => {
      await launchStopped(dc, { program: TREE }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 13 }] }));
      assert.equal(await line(dc), 13);
      const entry = await stopAfter(dc, () => dc.restartRequest({ arguments: { program: TREE, stopOnEntry: true } } as DebugProtocol.RestartArguments));
      assert.equal(entry.reason, 'entry');
      assert.equal(await line(dc), 5);
      // Fresh machine: nothing allocated.
      const mem = await scope(dc, 'Memory');
      assert.deepEqual(await vars(dc, mem.variablesReference), []);
      const bp = await stopAfter(dc, () => dc.restartRequest({ arguments: { program: TREE } } as DebugProtocol.RestartArguments));
      assert.equal(bp.reason, 'breakpoint');
      assert.equal(await line(dc), 13);
    });

    it('restart of a long run without stopOnEntry runs it to the end', async () => {
      await launchStopped(dc, { program: BIGMAP, stopOnEntry: true });
      const s = await act(dc, () => dc.restartRequest({ arguments: { program: BIGMAP } } as DebugProtocol.RestartArguments));
      assert.equal(s.kind, 'terminated', s.kind === 'stopped' ? `stopped: ${s.body.reason} ${s.body.description}` : '');
    });

    it('pause during a long continue stops inside the big map, before the end', async () => {
      await launchStopped(dc, { program: BIGMAP, stopOnEntry: true });
      const stop = nextStop(dc);
      await Promise.all([dc.continueRequest({ threadId: 1 }), dc.pauseRequest({ threadId: 1 })]);
      const s = await stop;
      assert.equal(s.kind, 'stopped', 'the run ended before the pause');
      assert.equal((s as Extract<Stop, { kind: 'stopped' }>).body.reason, 'pause');
      // Statements: smmu init (0), domain (1), map (2), const (3); paused in the map (line 6).
      const pos = await dc.customRequest('smmu/position') as DebugProtocol.Response;
      assert.equal(pos.body.done, false);
      assert.equal(pos.body.statement, 2);
      assert.equal(await line(dc), 6);
      // 65536 PTE stores are more than were run: the map is not finished.
      assert.ok(pos.body.ops < 65_536, `${pos.body.ops} ops`);
      assert.equal((await act(dc, () => dc.continueRequest({ threadId: 1 }))).kind, 'terminated');
    });

    it('pause while stopped reports a pause stop', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      const stop = await stopAfter(dc, () => dc.pauseRequest({ threadId: 1 }));
      assert.equal(stop.reason, 'pause');
      assert.equal(await line(dc), 5);
    });

    it('terminate ends the session; disconnect is answered; afterwards requests are errors, not crashes', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      const ended = dc.waitForEvent('terminated');
      await dc.terminateRequest({});
      await ended;
      await dc.disconnectRequest({});
      await fails(dc.evaluateRequest({ expression: 'IOVA' }), /no scenario is running/);
      await stillAnswers(dc);
    });
  });

  describe('variables', () => {
    const atLine = async (program: string, l: number, args: Record<string, unknown> = {}): Promise<void> => {
      await launchStopped(dc, { program, ...args }, () => dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: l }] }));
      assert.equal(await line(dc), l);
    };

    it('has the scopes; Last walk appears after a DMA', async () => {
      await atLine(TREE, 13);
      const names = (await scopes(dc)).map((s) => s.name);
      assert.deepEqual(names, ['Registers', 'Stream table', 'Pending visibility', 'CPU cache', 'SMMU caches', 'Queues', 'Memory', 'Hazards', 'KHO']);
      await stopAfter(dc, () => dc.nextRequest({ threadId: 1 }));
      assert.ok((await scopes(dc)).some((s) => s.name === 'Last walk'));
    });

    it('Memory lists the regions at the addresses worked out from the allocator', async () => {
      await atLine(TREE, 13);
      const mem = await scope(dc, 'Memory');
      const regions = await vars(dc, mem.variablesReference);
      const got = regions.map((r) => `${r.name} ${r.value.split(' ')[0]} ${r.memoryReference}`);
      assert.deepEqual(got, [
        'cmdq 0x40000000..0x40001000 cpu:0x40000000',
        'evtq 0x40001000..0x40002000 cpu:0x40001000',
        'strtab-l1 0x40002000..0x40002800 cpu:0x40002000',
        'd1.pgd 0x40003000..0x40004000 cpu:0x40003000',
        'd1.tbl0 0x40004000..0x40005000 cpu:0x40004000',
        'd1.tbl1 0x40005000..0x40006000 cpu:0x40005000',
        'd1.tbl2 0x40006000..0x40007000 cpu:0x40006000',
        'strtab-l2.0 0x40008000..0x4000c000 cpu:0x40008000',
        'cdtab.0x5 0x4000c000..0x4000c040 cpu:0x4000c000',
      ]);
      // Queues, stream tables and the CD table from the coherent DMA allocator: non-cacheable
      // on this platform; page tables from iommu-pages: cacheable.
      assert.match(regions[0].value, / noncacheable, /);
      assert.match(regions[3].value, / cacheable, /);
    });

    it('Registers: CR0, STRTAB_BASE and STRTAB_BASE_CFG as smmu init left them', async () => {
      await atLine(TREE, 13);
      const regs = await scope(dc, 'Registers');
      assert.equal(regs.expensive, false);
      const all = await vars(dc, regs.variablesReference);
      const value = (n: string): string => all.find((v) => v.name === n)!.value.split(' ')[0];
      // CR0 = SMMUEN | EVENTQEN<<2 | CMDQEN<<3 = 0xd.
      assert.equal(value('CR0'), '0x0000000d');
      // STRTAB_BASE = RA (1<<62) | the L1 table 0x4000_2000.
      assert.equal(value('STRTAB_BASE'), '0x4000000040002000');
      // FMT=1 (2-level) <<16 | SPLIT 8 <<6 | LOG2SIZE 16 = 0x10210.
      assert.equal(value('STRTAB_BASE_CFG'), '0x00010210');
      const cr0 = all.find((v) => v.name === 'CR0')!;
      assert.equal((await child(dc, cr0.variablesReference, 'SMMUEN')).value, '1');
    });

    it('Stream table -> L1STD -> STEs -> STE 0x5 -> CD -> TTB0 tables down to the PTE', async () => {
      await atLine(TREE, 13);
      const st = await scope(dc, 'Stream table');
      const table = await child(dc, st.variablesReference, 'stream table');
      // SIDSIZE 16 with SPLIT 8: 2^(16-8) = 256 L1 descriptors at 0x4000_2000.
      assert.equal(table.value, '2-level, 256 L1 descriptors at 0x40002000, SPLIT 8');
      assert.equal(table.indexedVariables, 256);
      const l1 = await child(dc, table.variablesReference, 'L1STD 0 (SIDs 0x0..)', 0, 1);
      // L1STD 0 = Span 9 | L2Ptr 0x4000_8000 = 0x4000_8009.
      assert.equal((await child(dc, l1.variablesReference, 'words')).value, '0x0000000040008009');
      const stes = await child(dc, l1.variablesReference, 'STEs');
      assert.equal(stes.value, '256 STEs at 0x40008000');
      assert.equal(stes.indexedVariables, 256);
      const page = await vars(dc, stes.variablesReference, 4, 2);
      assert.deepEqual(page.map((v) => [v.name, v.memoryReference]), [['STE 0x4', 'cpu:0x40008100'], ['STE 0x5', 'cpu:0x40008140']]);
      const ste5 = page[1];
      assert.equal(ste5.type, 'Stream Table Entry');
      assert.equal(ste5.evaluateName, 'ste[5]');
      assert.match((await child(dc, ste5.variablesReference, 'Config')).value, /^0b101 S1_TRANS/);
      assert.equal((await child(dc, ste5.variablesReference, 'S1ContextPtr')).value, '0x4000c000');
      // Qword 0 = S1ContextPtr 0x4000_c000 | S1_TRANS (0b101) <<1 | V = 0x4000_c00b.
      assert.match((await child(dc, ste5.variablesReference, 'words')).value, /^0x000000004000c00b /);
      const cdTable = await child(dc, ste5.variablesReference, 'CD table');
      assert.equal(cdTable.value, '1 CD at 0x4000c000');
      const cd = await child(dc, cdTable.variablesReference, 'CD 0', 0, 1);
      assert.equal(cd.memoryReference, 'cpu:0x4000c000');
      assert.equal(cd.evaluateName, 'cd[5][0]');
      // ASID 1 (the first allocated), TTB0 = d1's pgd.
      assert.equal((await child(dc, cd.variablesReference, 'ASID')).value, '1');
      assert.match((await child(dc, cd.variablesReference, 'TTB0')).value, /^0x40003000\b/);
      // Non-coherent walk: TCR SH=OS, IRGN=ORGN=NC (facts §8).
      assert.match((await child(dc, cd.variablesReference, 'SH0')).value, /^0b10 OSH/);
      // CD qword 0: T0SZ 16 | SH0 2<<12 | EPD1<<30 | V<<31 | IPS 5 (48 bits) <<32 | AA64<<41 | R<<45 | A<<46 | ASET<<47 | ASID 1<<48
      //   = 0x0001_e205_c000_2010.
      assert.match((await child(dc, cd.variablesReference, 'words')).value, /^0x0001e205c0002010 0x0000000040003000 /);
      const l0 = await child(dc, cd.variablesReference, 'TTB0 tables');
      // Level 0 of a 48-bit 4K walk: 2^(48-39) = 512 entries of 2^39 = 0x80_0000_0000 bytes.
      assert.equal(l0.value, 'stage-1 level-0 table at 0x40003000: 512 entries of 0x8000000000 bytes each');
      assert.equal(l0.indexedVariables, 512);
      const e0 = await child(dc, l0.variablesReference, '[0] 0x0', 0, 1);
      // Table descriptor to 0x4000_4000 (0b11), rewritten with SW_SYNC (bit 55) after its clean on a non-coherent walk.
      assert.equal((await child(dc, e0.variablesReference, 'words')).value, '0x0080000040004003');
      // That rewrite is not cleaned: at PoC, where the SMMU reads, the descriptor has no SW_SYNC.
      assert.match(e0.value, /⟂ the SMMU reads different bytes$/);
      const smmuView = await child(dc, e0.variablesReference, 'as the SMMU reads it');
      assert.equal(smmuView.memoryReference, 'smmu:0x40003000');
      const l1t = await child(dc, e0.variablesReference, 'next level');
      assert.equal(l1t.value, 'stage-1 level-1 table at 0x40004000: 512 entries of 0x40000000 bytes each');
      const e1 = await child(dc, l1t.variablesReference, '[0] 0x0', 0, 1);
      assert.equal((await child(dc, e1.variablesReference, 'words')).value, '0x0080000040005003');
      const l2t = await child(dc, e1.variablesReference, 'next level');
      assert.equal(l2t.value, 'stage-1 level-2 table at 0x40005000: 512 entries of 0x200000 bytes each');
      // 0x1000_0000 >> 21 = 128.
      const e2 = await child(dc, l2t.variablesReference, '[128] 0x10000000', 128, 1);
      assert.equal(e2.memoryReference, 'cpu:0x40005400');
      assert.equal((await child(dc, e2.variablesReference, 'words')).value, '0x0080000040006003');
      const l3t = await child(dc, e2.variablesReference, 'next level');
      assert.equal(l3t.value, 'stage-1 level-3 table at 0x40006000: 512 entries of 0x1000 bytes each');
      const ptes = await vars(dc, l3t.variablesReference, 0, 3);
      assert.deepEqual(ptes.map((p) => p.name), ['[0] 0x10000000', '[1] 0x10001000', '[2] 0x10002000']);
      // IOMMU_READ|WRITE|CACHE, no exec: page (0b11) | AttrIndx 1 (WBRWA) <<2 | AP[1] (1<<6) | SH=IS (3<<8) | AF (1<<10)
      // | nG (1<<11) = 0xf47, plus XN (3<<53 = 0x0060_0000_0000_0000), plus the PA.
      // The PTE's SH comes from IOMMU_CACHE, not from the walk's coherency: IS here too (facts §8).
      assert.equal((await child(dc, ptes[0].variablesReference, 'words')).value, '0x0060000800000f47');
      assert.equal((await child(dc, ptes[1].variablesReference, 'words')).value, '0x0060000800001f47');
      assert.match((await child(dc, ptes[0].variablesReference, 'SH')).value, /^0b11 ISH/);
      // Only 8K are mapped: entry 2 is 0.
      assert.equal((await child(dc, ptes[2].variablesReference, 'words')).value, '0x0000000000000000');
    });

    it('a linear table of 65536 STEs is paged: indexedVariables 65536 and exactly the page asked for', async () => {
      await atLine(LINEAR, 4);
      const st = await scope(dc, 'Stream table');
      const table = await child(dc, st.variablesReference, 'stream table');
      // cmdq 0x4000_0000, evtq 0x4000_1000, then 2^16 x 64 B = 4M aligned to 4M: up from 0x4000_2000 to 0x4040_0000.
      assert.equal(table.value, 'linear, 65536 STEs at 0x40400000');
      assert.equal(table.indexedVariables, 65536);
      const page = await vars(dc, table.variablesReference, 1000, 3);
      // 1000 = 0x3e8; STE 1000 at 0x4040_0000 + 1000 x 64 = 0x4040_fa00.
      assert.deepEqual(page.map((v) => [v.name, v.memoryReference]), [
        ['STE 0x3e8', 'cpu:0x4040fa00'], ['STE 0x3e9', 'cpu:0x4040fa40'], ['STE 0x3ea', 'cpu:0x4040fa80'],
      ]);
      // Every STE is the initial abort STE (qword 0 = V = 1).
      assert.match(page[0].value, /^abort/);
      const last = await vars(dc, table.variablesReference, 65535, 10);
      assert.deepEqual(last.map((v) => v.name), ['STE 0xffff']);
    });

    it('CPU cache shows the dirty line with the CPU and PoC bytes; Pending visibility lists the granule', async () => {
      // Line 17: after `store buf 0x1122_3344_5566_7788` (buf at 0x4000_d000, cacheable, never cleaned).
      await atLine(TREE, 17);
      const cache = await scope(dc, 'CPU cache');
      const lines = await vars(dc, cache.variablesReference);
      const l = lines.find((x) => x.name === '0x4000d000');
      assert.ok(l, lines.map((x) => x.name).join(', '));
      // 8 dirty bytes, all different from PoC ('*'), the other 56 bytes of the 64-byte line not dirty.
      assert.equal(l.value, '8 dirty bytes; ********.×56');
      const q0 = await child(dc, l.variablesReference, '+0x0');
      // Little-endian 0x1122334455667788.
      assert.equal(q0.value, 'CPU 88 77 66 55 44 33 22 11  PoC 00 00 00 00 00 00 00 00');
      assert.equal((await child(dc, l.variablesReference, '+0x8')).value, 'clean 00 00 00 00 00 00 00 00');
      const pending = await scope(dc, 'Pending visibility');
      const g = await child(dc, pending.variablesReference, '0x4000d000');
      // The SMMU reads PoC on this platform: the old 0, or the new value if the hardware evicts the
      // dirty line first (it may at any time).
      assert.equal(g.value, 'not cleaned to PoC: the SMMU could read 0x0 | 0x1122334455667788');
      assert.equal((await child(dc, g.variablesReference, 'store 1')).value.split(',')[0], '0x1122334455667788');
    });

    it('Hazards lists the missing-barrier warning of the new L2 stream table', async () => {
      await atLine(TREE, 13);
      const hz = await scope(dc, 'Hazards');
      assert.equal(hz.name, 'Hazards');
      const all = await vars(dc, hz.variablesReference);
      assert.equal(all.length, 1);
      assert.equal(all[0].name, '[0] warning missing-barrier');
      assert.match(all[0].value, /^the store at 0x40002000 makes it reachable with no barrier after the stores to 256 entries of the STE table at 0x40008000/);
    });

    it('Last walk after a DMA: the transaction, its result and each descriptor read', async () => {
      await atLine(TREE, 14);
      const walk = await scope(dc, 'Last walk');
      const all = await vars(dc, walk.variablesReference);
      const by = (n: string): DebugProtocol.Variable | undefined => all.find((v) => v.name === n);
      assert.equal(by('transaction')?.value, 'DMA read SID 0x5 IOVA 0x10000010');
      assert.equal(by('result')?.value, 'ok → 0x800000010');
      assert.equal(by('TLB')?.value, 'miss');
      const l3 = by('stage 1 level 3');
      assert.equal(l3?.value, '0x0060000800000f47 at 0x40006000 (page)');
      assert.equal(l3?.memoryReference, 'smmu:0x40006000');
      // The SMMU reads PoC: the table descriptor as cleaned by __arm_lpae_sync_pte, without the SW_SYNC
      // bit that arm_lpae_install_table sets afterwards with a store that is never cleaned (software only).
      assert.equal(by('stage 1 level 2')?.value, '0x0000000040006003 at 0x40005400 (table)');
      // The same walk on the SMMU thread's stack, deepest level on top.
      const smmu = await frames(dc, 2);
      assert.equal(smmu[0].name, 'stage 1 level 3: 0x0060000800000f47 at 0x40006000 (page)');
      assert.equal(smmu[smmu.length - 1].name, 'DMA read SID 0x5 IOVA 0x10000010: ok → 0x800000010');
      // Back before the first DMA (line 13): there is no last walk any more.
      await stopAfter(dc, () => dc.stepBackRequest({ threadId: 1 }));
      assert.equal(await line(dc), 13);
      assert.ok(!(await scopes(dc)).some((s) => s.name === 'Last walk'));
      // The SMMU thread shows what the SMMU did last: line 12's PREFETCH_CFG fetched STE 5 (at 0x4000_8140), no walk.
      const fetched = (await frames(dc, 2)).map((f) => f.name);
      assert.match(fetched[0], /^fetch STE of StreamID 0x5 at 0x40008140 \(no transaction/);
      assert.ok(!fetched.some((n) => n.startsWith('stage')), fetched.join('; '));
      // Forwards again: the same walk.
      await stopAfter(dc, () => dc.nextRequest({ threadId: 1 }));
      assert.equal((await frames(dc, 2))[0].name, 'stage 1 level 3: 0x0060000800000f47 at 0x40006000 (page)');
    });

    it('SMMU caches: the STEs PREFETCH_CFG fetched, then the CD and TLB entry of the DMA', async () => {
      await atLine(TREE, 13);
      let caches = await scope(dc, 'SMMU caches');
      let all = await vars(dc, caches.variablesReference);
      // PREFETCH_CFG after the writes of STE 4 (line 10) and STE 5 (line 12).
      assert.equal(all.find((v) => v.name === 'STEs')?.value, '2 cached');
      assert.equal(all.find((v) => v.name === 'CDs')?.value, '0 cached');
      await stopAfter(dc, () => dc.nextRequest({ threadId: 1 }));
      caches = await scope(dc, 'SMMU caches');
      all = await vars(dc, caches.variablesReference);
      assert.equal(all.find((v) => v.name === 'CDs')?.value, '1 cached');
      assert.equal(all.find((v) => v.name === 'TLB')?.value, '1 entries');
    });

    it('Queues: the command queue after 20 commands, the F_TRANSLATION record in the event queue', async () => {
      // Commands up to line 15 (none is pending: the SMMU consumed every one):
      //   smmu init: CFGI_ALL, TLBI_EL2_ALL (IDR0.Hyp), TLBI_NSNH_ALL, each + CMD_SYNC        6
      //   attach 4 bypass: hitless, 2 steps x (CFGI_STE + CMD_SYNC), then PREFETCH_CFG          5
      //   attach 5 s1 d1: CD hitless, 2 x (CFGI_CD + CMD_SYNC); STE hitless, 2 x (CFGI_STE +
      //                   CMD_SYNC); PREFETCH_CFG                                             9
      //   = 20 = 0x14; the queue has 2^8 entries, so no wrap.
      await atLine(TREE, 15);
      const queues = await scope(dc, 'Queues');
      const [cmdq, evtq] = await vars(dc, queues.variablesReference);
      assert.equal(cmdq.value, '256 entries at 0x40000000, PROD 0x14, CONS 0x14');
      assert.equal(cmdq.indexedVariables, 256);
      // Line 14's F_TRANSLATION is the only event: PROD 1.
      assert.equal(evtq.value, '128 entries at 0x40001000, PROD 0x1, CONS 0x0');
      const [rec] = await vars(dc, evtq.variablesReference, 0, 1);
      assert.equal(rec.memoryReference, 'cpu:0x40001000');
      assert.match(rec.type ?? '', /F_TRANSLATION/);
      // Command 0 is CFGI_ALL (opcode 0x04, Range 31).
      const [c0] = await vars(dc, cmdq.variablesReference, 0, 1);
      assert.match(c0.type ?? '', /^CMD_CFGI_ALL/);
    });

    it('SMMU caches list the cached STEs, the L1 descriptor and the TLB entry', async () => {
      await atLine(TREE, 14);
      const caches = await vars(dc, (await scope(dc, 'SMMU caches')).variablesReference);
      const by = (n: string): DebugProtocol.Variable => caches.find((v) => v.name === n)!;
      assert.deepEqual((await vars(dc, by('STEs').variablesReference)).map((v) => v.name), ['STE 0x4', 'STE 0x5']);
      // L1STD 0 was fetched (and cached) on the way to STE 4; the Leaf=1 CFGI_STEs did not drop it.
      assert.equal(by('L1 descriptors').value, '1 L1STD, 0 L1CD');
      // The DMA on line 13 filled one 4K page translation, read/write (AP[2]=0), not executable (XN).
      const tlb = await vars(dc, by('TLB').variablesReference);
      assert.deepEqual(tlb.map((t) => t.value), ['0x10000000 → 0x800000000, 0x1000 bytes, level 3, RW-']);
    });

    it('a stage-2 STE leads to its stage-2 tables', async () => {
      // dap-torn line 10: STE 0x20 written in place as g1's stage-2 STE. g1 is the first domain: its pgd at
      // 0x4000_3000; IAS = OAS = 48 with 4K: start level 0 (S2SL0 = ~(0 + 1) & 3 = 2, level = 2 - 2 = 0), 2^9 entries.
      await atLine(TORN, 10);
      const ste = await evaluate(dc, 'ste[0x20]');
      assert.equal(ste.memoryReference, 'cpu:0x40008800');
      const s2 = await child(dc, ste.variablesReference, 'stage-2 tables');
      assert.equal(s2.value, 'stage-2 level-0 table at 0x40003000: 512 entries of 0x8000000000 bytes each');
      assert.equal((await evaluate(dc, 'ste[0x20].S2VMID')).result, '1');
    });

    it('an unknown variablesReference is an error', async () => {
      await atLine(TREE, 13);
      await fails(dc.variablesRequest({ variablesReference: 987654 }), /unknown variablesReference 987654/);
      await stillAnswers(dc);
    });
  });

  describe('setVariable', () => {
    it('on an STE field: a CPU store, an invalidated event, undone by stepping back, redone going forwards', async () => {
      await launchStopped(dc, { program: TREE }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 13 }] }));
      const ste = await evaluate(dc, 'ste[5]');
      assert.equal(ste.memoryReference, 'cpu:0x40008140');
      const invalidated = dc.waitForEvent('invalidated');
      // Config 0b101 (S1_TRANS) -> 0b100 (BYPASS): qword 0 = 0x4000_c000 | 4<<1 | 1 = 0x4000_c009.
      const r = await dc.setVariableRequest({ variablesReference: ste.variablesReference, name: 'Config', value: '4' });
      assert.equal(r.body.value, '0x000000004000c009');
      const ev = await invalidated as DebugProtocol.InvalidatedEvent;
      assert.deepEqual(ev.body.areas, ['variables']);
      const read = async (): Promise<string | undefined> => (await readMemory(dc, { memoryReference: 'cpu:0x40008140', count: 8 })).body?.data;
      assert.equal(await read(), bytes(0x09, 0xc0, 0x00, 0x40, 0, 0, 0, 0));
      assert.match((await evaluate(dc, 'ste[5].Config')).result, /^0b100 BYPASS/);
      // The SMMU still uses its cached S1 STE (no CFGI): the DMA on line 13 translates.
      // Step back before the edit (to line 12): the STE is S1_TRANS again.
      await stopAfter(dc, () => dc.stepBackRequest({ threadId: 1 }));
      assert.equal(await line(dc), 12);
      // Line 12 start: STE 5 is still the initial abort STE (0x1).
      assert.equal((await readMemory(dc, { memoryReference: 'cpu:0x40008140', count: 8 })).body?.data, bytes(1, 0, 0, 0, 0, 0, 0, 0));
      // Forwards to line 13 again: the edit, made at that position, is made again.
      await stopAfter(dc, () => dc.nextRequest({ threadId: 1 }));
      assert.equal(await line(dc), 13);
      assert.equal(await read(), bytes(0x09, 0xc0, 0x00, 0x40, 0, 0, 0, 0));
    });

    it('an edit inside a statement is undone one micro-operation back and redone one forward', async () => {
      // Stopped on entering __arm_lpae_map (in `map`, line 9): write 8 bytes at PoC somewhere unused.
      await launchStopped(dc, { program: TREE }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '__arm_lpae_map' }] }));
      const ip = (await frames(dc))[0].instructionPointerReference;
      await writeMemory(dc, { memoryReference: 'poc:0x50000000', data: bytes(0xde, 0xad) });
      const read = async (): Promise<string | undefined> => (await readMemory(dc, { memoryReference: 'poc:0x50000000', count: 2 })).body?.data;
      assert.equal(await read(), bytes(0xde, 0xad));
      await stopAfter(dc, () => dc.stepBackRequest({ threadId: 1, granularity: 'instruction' }));
      assert.equal(await read(), bytes(0, 0));
      await stopAfter(dc, () => dc.stepInRequest({ threadId: 1 }));
      assert.equal((await frames(dc))[0].instructionPointerReference, ip);
      assert.equal(await read(), bytes(0xde, 0xad));
      // And it stays when going on.
      await stopAfter(dc, () => dc.stepInRequest({ threadId: 1 }));
      assert.equal(await read(), bytes(0xde, 0xad));
    });

    it('on a raw qword of an entry', async () => {
      await launchStopped(dc, { program: TREE }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 13 }] }));
      const ste = await evaluate(dc, 'ste[5]');
      const words = await child(dc, ste.variablesReference, 'words');
      const r = await dc.setVariableRequest({ variablesReference: words.variablesReference, name: 'qword 7', value: '0x1234' });
      assert.equal(r.body.value, '0x0000000000001234');
      // Qword 7 at 0x4000_8140 + 7 x 8 = 0x4000_8178.
      assert.equal((await readMemory(dc, { memoryReference: 'cpu:0x40008178', count: 2 })).body?.data, bytes(0x34, 0x12));
    });

    it('on something without an address is an error', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      const regs = await scope(dc, 'Registers');
      const cr0 = await child(dc, regs.variablesReference, 'CR0');
      await fails(dc.setVariableRequest({ variablesReference: cr0.variablesReference, name: 'SMMUEN', value: '1' }), /cannot set SMMUEN: only the fields and qwords of a decoded entry/);
      await fails(dc.setVariableRequest({ variablesReference: 424242, name: 'V', value: '1' }), /cannot set V/);
      await stillAnswers(dc);
    });

    it('a name that is not a field, or a bad value, is an error', async () => {
      await launchStopped(dc, { program: TREE }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 13 }] }));
      const ste = await evaluate(dc, 'ste[5]');
      await fails(dc.setVariableRequest({ variablesReference: ste.variablesReference, name: 'NoSuchField', value: '1' }), /cannot set NoSuchField/);
      await fails(dc.setVariableRequest({ variablesReference: ste.variablesReference, name: 'Config', value: '1 +' }), /cannot set Config/);
      await stillAnswers(dc);
    });
  });

  describe('evaluate', () => {
    const at17 = async (args: Record<string, unknown> = {}): Promise<void> => {
      await launchStopped(dc, { program: TREE, ...args }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 17 }] }));
    };

    it('ste[5], ste[5].S1ContextPtr, cd[5][0].ASID', async () => {
      await at17();
      const ste = await evaluate(dc, 'ste[5]');
      assert.equal(ste.memoryReference, 'cpu:0x40008140');
      assert.match(ste.result, /^stage-1 translate, stage 2 bypass/);
      assert.ok(ste.variablesReference > 0);
      assert.equal((await evaluate(dc, 'ste[5].S1ContextPtr')).result, '0x4000c000');
      assert.equal((await evaluate(dc, 'ste[ 2 + 3 ].s1ctxptr')).result, '0x4000c000');
      assert.equal((await evaluate(dc, 'cd[5][0].ASID')).result, '1');
      assert.equal((await evaluate(dc, 'cd[5][0]')).memoryReference, 'cpu:0x4000c000');
    });

    it('walk() and pte()', async () => {
      await at17();
      // With an SSID (0) on an STE whose S1CDMax is 0 (substreams disabled): C_BAD_SUBSTREAMID.
      assert.equal((await evaluate(dc, 'walk(5, 0, 0x1000_0000)')).result,
        'C_BAD_SUBSTREAMID: a SubstreamID was given but the STE has substreams disabled (S1CDMax=0)');
      const w = await evaluate(dc, 'walk(5, 0x1000_0000)');
      assert.equal(w.result, 'ok → 0x800000000');
      const steps = await vars(dc, w.variablesReference);
      assert.equal(steps.find((s) => s.name === 'stage 1 level 3')?.value, '0x0060000800000f47 at 0x40006000 (page)');
      assert.equal((await evaluate(dc, 'walk(5, IOVA + 0x1abc)')).result, 'ok → 0x800001abc');
      assert.match((await evaluate(dc, 'walk(5, 0x1000_2000)')).result, /^F_TRANSLATION/);
      const p = await evaluate(dc, 'pte(5, 0x1000_0000)');
      assert.equal(p.result, '0x0060000800000f47 (stage 1 level 3 page) at 0x40006000');
      assert.equal(p.memoryReference, 'smmu:0x40006000');
      await fails(dc.evaluateRequest({ expression: 'walk(5)' }), /takes 2 or 3 arguments/);
    });

    it('cpu() vs poc() vs smmu() after a store without clean on a non-coherent platform', async () => {
      await at17();
      assert.equal((await evaluate(dc, 'cpu(buf)')).result, '0x1122334455667788');
      assert.equal((await evaluate(dc, 'poc(buf)')).result, '0x0000000000000000');
      assert.equal((await evaluate(dc, 'smmu(0x4000_d000)')).result, '0x0000000000000000');
      assert.equal((await evaluate(dc, 'cpu(buf)')).memoryReference, 'cpu:0x4000d000');
      await fails(dc.evaluateRequest({ expression: 'cpu(buf + 4)' }), /must be 8-byte aligned/);
    });

    it('cpu() and smmu() agree after the same store on a coherent platform', async () => {
      await at17({ coherent: true });
      assert.equal((await evaluate(dc, 'cpu(buf)')).result, '0x1122334455667788');
      assert.equal((await evaluate(dc, 'smmu(buf)')).result, '0x1122334455667788');
    });

    it('decode, registers, constants, hazards', async () => {
      await at17();
      const d = await evaluate(dc, 'decode ste 0x1 0');
      // Qword 0 = 1: V=1, Config=0b000 ABORT.
      assert.equal(d.result, 'abort: transactions terminated, no event');
      assert.match((await child(dc, d.variablesReference, 'Config')).value, /^0b000 ABORT/);
      assert.equal((await evaluate(dc, 'CR0.SMMUEN')).result, '1');
      assert.match((await evaluate(dc, 'CR0')).result, /^0x0000000d /);
      assert.equal((await evaluate(dc, 'IOVA')).result, '0x10000000 (268435456)');
      assert.equal((await evaluate(dc, 'PA + IOVA')).result, '0x810000000 (34628173824)');
      assert.equal((await evaluate(dc, 'buf')).result, '0x4000d000 (1073795072)');
      const hz = await evaluate(dc, 'hazards');
      assert.equal(hz.result, '1 hazard');
      assert.deepEqual((await vars(dc, hz.variablesReference)).map((v) => v.name), ['[0] missing-barrier']);
    });

    it('in the hover context', async () => {
      await at17();
      assert.equal((await evaluate(dc, 'IOVA', 'hover')).result, '0x10000000 (268435456)');
      assert.equal((await evaluate(dc, 'ste[5].S1ContextPtr', 'hover')).result, '0x4000c000');
    });

    it('bad expressions and unknown names are errors', async () => {
      await at17();
      await fails(dc.evaluateRequest({ expression: '1 +' }), /./);
      await fails(dc.evaluateRequest({ expression: 'NOSUCH + 1' }), /NOSUCH/);
      // SID 0x105: L1STD 1 was never written (Span 0).
      await fails(dc.evaluateRequest({ expression: 'ste[0x105]' }), /./);
      await fails(dc.evaluateRequest({ expression: 'ste[5].NoSuchField' }), /no field 'NoSuchField'/);
      await fails(dc.evaluateRequest({ expression: 'decode nosuch 0x1' }), /./);
      await stillAnswers(dc);
      assert.equal((await evaluate(dc, 'IOVA')).result, '0x10000000 (268435456)');
    });

    it('with a frame id from the stack trace, and an error for a frame id that does not exist', async () => {
      await at17();
      const f = await frames(dc);
      assert.equal((await evaluate(dc, 'IOVA', 'watch', f[0].id)).result, '0x10000000 (268435456)');
      await fails(dc.evaluateRequest({ expression: 'IOVA', frameId: 999 }), /frame/i);
      await stillAnswers(dc);
    });

    it('completions: the debugger functions, scenario names and registers', async () => {
      await at17();
      const c = async (text: string): Promise<DebugProtocol.CompletionItem[]> => (await dc.completionsRequest({ text, column: text.length + 1 })).body.targets;
      const ste = await c('st');
      assert.ok(ste.some((t) => t.label === 'ste[' && t.start === 0 && t.length === 2), JSON.stringify(ste));
      const iova = await c('1 + IO');
      assert.deepEqual(iova.map((t) => [t.label, t.detail, t.start, t.length]), [['IOVA', 'name', 4, 2]]);
      const regs = (await c('CR')).map((t) => t.label);
      for (const r of ['CR0', 'CR0ACK', 'CR1', 'CR2']) assert.ok(regs.includes(r), regs.join(','));
      assert.ok((await c('wa')).some((t) => t.label === 'walk('));
    });
  });

  describe('memory', () => {
    const at17 = async (): Promise<void> => {
      await launchStopped(dc, { program: TREE }, () => dc.setBreakpointsRequest({ source: { path: TREE }, breakpoints: [{ line: 17 }] }));
    };

    it('readMemory on cpu:, poc: and smmu: references, with offsets and counts', async () => {
      await at17();
      const rd = async (memoryReference: string, count: number, offset?: number): Promise<DebugProtocol.ReadMemoryResponse['body']> =>
        (await readMemory(dc, { memoryReference, count, offset })).body;
      // buf at 0x4000_d000 holds 0x1122334455667788 in the CPU's cache only.
      let r = await rd('cpu:0x4000d000', 8);
      assert.equal(r?.address, '0x4000d000');
      assert.equal(r?.data, bytes(0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11));
      assert.equal(r?.unreadableBytes ?? 0, 0);
      assert.equal((await rd('poc:0x4000d000', 8))?.data, bytes(0, 0, 0, 0, 0, 0, 0, 0));
      assert.equal((await rd('smmu:0x4000d000', 8))?.data, bytes(0, 0, 0, 0, 0, 0, 0, 0));
      r = await rd('cpu:0x4000d000', 4, 4);
      assert.equal(r?.address, '0x4000d004');
      assert.equal(r?.data, bytes(0x44, 0x33, 0x22, 0x11));
      // Decimal addresses are accepted too: 1073795072 = 0x4000_d000.
      assert.equal((await rd('cpu:1073795072', 1))?.data, bytes(0x88));
      // L1STD 0 in the non-cacheable L1 table: 0x4000_8009 in every view.
      for (const view of ['cpu', 'poc', 'smmu']) assert.equal((await rd(`${view}:0x40002000`, 8))?.data, bytes(0x09, 0x80, 0x00, 0x40, 0, 0, 0, 0), view);
    });

    it('readMemory beyond the 52-bit physical address space reports unreadable bytes', async () => {
      await at17();
      const r = (await readMemory(dc, { memoryReference: 'cpu:0xffffffffffff0', count: 32 })).body;
      assert.equal(r?.unreadableBytes, 32);
      assert.ok(!r?.data);
      const neg = (await readMemory(dc, { memoryReference: 'cpu:0x10', offset: -0x20, count: 8 })).body;
      assert.equal(neg?.unreadableBytes, 8);
      await stillAnswers(dc);
    });

    it('a bad memory reference is an error', async () => {
      await at17();
      await fails(readMemory(dc, { memoryReference: 'xyz:0x10', count: 8 }), /bad memory reference 'xyz:0x10'/);
      await fails(readMemory(dc, { memoryReference: 'cpu:banana', count: 8 }), /bad memory reference/);
      await fails(writeMemory(dc, { memoryReference: 'nope', data: bytes(1) }), /bad memory reference 'nope'/);
      await stillAnswers(dc);
    });

    it('writeMemory through the CPU (cache) and at PoC', async () => {
      await at17();
      const invalidated = dc.waitForEvent('invalidated');
      const w = await writeMemory(dc, { memoryReference: 'cpu:0x4000d008', data: bytes(1, 2, 3, 4, 5, 6, 7, 8) });
      assert.equal(w.body?.bytesWritten, 8);
      await invalidated;
      assert.equal((await readMemory(dc, { memoryReference: 'cpu:0x4000d008', count: 8 })).body?.data, bytes(1, 2, 3, 4, 5, 6, 7, 8));
      // A CPU write into cacheable memory on a non-coherent platform does not reach PoC.
      assert.equal((await readMemory(dc, { memoryReference: 'poc:0x4000d008', count: 8 })).body?.data, bytes(0, 0, 0, 0, 0, 0, 0, 0));
      // A PoC write is what the SMMU reads.
      await writeMemory(dc, { memoryReference: 'poc:0x4000e000', data: bytes(0xaa, 0xbb) });
      assert.equal((await readMemory(dc, { memoryReference: 'smmu:0x4000e000', count: 2 })).body?.data, bytes(0xaa, 0xbb));
      await fails(writeMemory(dc, { memoryReference: 'cpu:0xffffffffffffe', data: bytes(1, 2, 3, 4) }), /outside the 52-bit physical address space/);
    });

    it('disassemble around the current micro-operation: the op texts and their source lines', async () => {
      // The barrier filter stops after op 8 of smmu init (writel CR1). The traced ops so far:
      // 2 alloc cmdq, 3 alloc evtq, 5 alloc strtab-l1, 7 readl CR0, 8 writel CR1 (1, 4 and 6 are frame entries/exits).
      await launchStopped(dc, { program: TREE }, () => dc.setExceptionBreakpointsRequest({ filters: ['barrier'] }));
      const f = await frames(dc);
      assert.equal(f[0].instructionPointerReference, '0x8');
      const d = await dc.disassembleRequest({ memoryReference: f[0].instructionPointerReference!, instructionOffset: -2, instructionCount: 4 });
      const ins = d.body?.instructions ?? [];
      assert.deepEqual(ins.map((i) => [i.address, i.instruction, i.symbol, i.line]), [
        ['0x5', "alloc 'strtab-l1' 0x800 bytes noncacheable", 'arm_smmu_init_strtab', 5],
        ['0x7', 'readl CR0', 'arm_smmu_device_reset', 5],
        ['0x8', 'writel CR1 = 0xd75', 'arm_smmu_device_reset', 5],
        ['0x9', '', undefined, undefined],
      ]);
      assert.equal(ins[0].location?.path, TREE);
      assert.equal(ins[3].presentationHint, 'invalid');
      await fails(dc.disassembleRequest({ memoryReference: 'banana', instructionCount: 4 }), /memory reference/);
    });
  });

  describe('invalid requests', () => {
    it('before launch: errors, not crashes', async () => {
      await dc.initializeRequest();
      await fails(dc.stackTraceRequest({ threadId: 1 }), /no scenario is running/);
      await fails(dc.scopesRequest({ frameId: 1 }), /no scenario is running|frame/);
      await fails(dc.variablesRequest({ variablesReference: 1 }), /no scenario is running/);
      await fails(dc.evaluateRequest({ expression: 'IOVA' }), /no scenario is running/);
      await fails(readMemory(dc, { memoryReference: 'cpu:0x0', count: 8 }), /./);
      await fails(dc.disassembleRequest({ memoryReference: '0x1', instructionCount: 1 }), /no scenario is running/);
      await fails(dc.continueRequest({ threadId: 1 }), /no scenario is running/);
      await fails(dc.nextRequest({ threadId: 1 }), /no scenario is running/);
      await fails(dc.stepBackRequest({ threadId: 1 }), /no scenario is running/);
      await fails(dc.reverseContinueRequest({ threadId: 1 }), /no scenario is running/);
      await fails(dc.pauseRequest({ threadId: 1 }), /no scenario is running/);
      await fails(dc.restartRequest({}), /no scenario is running/);
      await fails(dc.exceptionInfoRequest({ threadId: 1 }), /not stopped/);
      await fails(dc.customRequest('smmu/position'), /no scenario is running/);
      await stillAnswers(dc);
      // And a launch still works.
      await dc.launchRequest({ program: TREE, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
      assert.equal((await stopAfter(dc, () => dc.configurationDoneRequest())).reason, 'entry');
    });

    it('bad frame id, bad filter, unknown custom request, a second launch: errors; the session goes on', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      await fails(dc.scopesRequest({ frameId: 999 }), /frame/i);
      await fails(dc.setExceptionBreakpointsRequest({ filters: ['nosuch'] }), /unknown exception filter nosuch/);
      await fails(dc.customRequest('smmu/nosuch'), /unknown request 'smmu\/nosuch'/);
      await fails(dc.launchRequest({ program: TREE } as DebugProtocol.LaunchRequestArguments), /already/);
      await stillAnswers(dc);
      // Still stopped on entry, still stepping.
      assert.equal(await line(dc), 5);
      await stopAfter(dc, () => dc.nextRequest({ threadId: 1 }));
      assert.equal(await line(dc), 6);
    });

    it('a known filter set after an unknown one was refused still works', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      await fails(dc.setExceptionBreakpointsRequest({ filters: ['fault', 'nosuch'] }), /unknown exception filter nosuch/);
      await dc.setExceptionBreakpointsRequest({ filters: ['fault'] });
      const stop = await stopAfter(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(stop.reason, 'exception');
      assert.equal(await line(dc), 14);
    });

    it('variables of a previous stop are invalid after a step', async () => {
      await launchStopped(dc, { program: TREE, stopOnEntry: true });
      const regs = await scope(dc, 'Registers');
      await stopAfter(dc, () => dc.nextRequest({ threadId: 1 }));
      await fails(dc.variablesRequest({ variablesReference: regs.variablesReference }), /unknown variablesReference/);
      await stillAnswers(dc);
    });
  });
});
