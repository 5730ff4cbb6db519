/**
 * 5. The debugger, as a client sees it: the standalone adapter (dist/debugAdapter.js)
 * driven over DAP by DebugClient. Each latency is set beside the round trip of a request
 * that does nothing (`threads`) on the same connection: the cost of DAP itself. Table size
 * and run length are compared with their small counterparts: `variables` on a 65,536-STE
 * stream table against a 256-STE one, a step back after 100,000 statements against one
 * after 10.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { Benchmark, BenchContext, Timed } from './harness';

const ROOT = join(__dirname, '..', '..');
const ADAPTER = join(ROOT, 'dist', 'debugAdapter.js');
const EXAMPLE = join(ROOT, 'examples', '01-minimal-stage1.smmu');

/** A connected adapter, stopped somewhere in a scenario. */
interface Stopped {
  readonly dc: DebugClient;
  /** Launch (initialize, launch, configurationDone) to the first stop, ms. */
  readonly launchMs: number;
}

async function launch(program: string, opts: { stopOnEntry?: boolean; line?: number } = {}): Promise<Stopped> {
  const dc = new DebugClient('node', ADAPTER, 'smmu');
  // Long runs (100,000 statements) take longer than the default 5 s per request.
  dc.defaultTimeout = 600_000;
  await dc.start();
  const t0 = performance.now();
  const configure = dc.waitForEvent('initialized').then(async () => {
    if (opts.line !== undefined) await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: opts.line }] });
    await dc.configurationDoneRequest();
  });
  await Promise.all([configure, dc.launch({ program, stopOnEntry: opts.stopOnEntry ?? false, check: true }), dc.waitForEvent('stopped')]);
  return { dc, launchMs: performance.now() - t0 };
}

async function threads(dc: DebugClient, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await dc.threadsRequest();
}

/** A request that stops the run again (next, stepBack...): the time to its stopped event. */
async function untilStopped(dc: DebugClient, request: () => Promise<unknown>): Promise<void> {
  await Promise.all([request(), dc.waitForEvent('stopped')]);
}

/** What VS Code asks for when the Stream table scope is opened: the scope, the first 100 STEs, one STE's fields. */
async function streamTableView(dc: DebugClient): Promise<number> {
  const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
  const scope = (await dc.scopesRequest({ frameId: frame.id })).body.scopes.find((s) => s.name === 'Stream table');
  if (!scope) throw new Error('no Stream table scope');
  const table = (await dc.variablesRequest({ variablesReference: scope.variablesReference })).body.variables.find((v) => v.name === 'stream table');
  if (!table) throw new Error('no stream table in the Stream table scope');
  const stes = (await dc.variablesRequest({ variablesReference: table.variablesReference, filter: 'indexed', start: 0, count: 100 })).body.variables;
  const fields = await dc.variablesRequest({ variablesReference: stes[5].variablesReference });
  return (table.indexedVariables ?? 0) + fields.body.variables.length * 0;
}

export const debuggerBench: Benchmark = {
  id: '5',
  title: 'Debugger over DAP (standalone adapter, DebugClient)',
  async run(ctx: BenchContext) {
    const dir = mkdtempSync(join(tmpdir(), 'smmu-bench-'));
    const sessions: DebugClient[] = [];
    const close = async (): Promise<void> => {
      await Promise.all(sessions.splice(0).map((dc) => dc.stop()));
    };
    try {
      // -- launch to the first stop, and next, on the first tutorial example
      let launched: Stopped | undefined;
      await ctx.pair({
        label: 'launch to the first stop (examples/01, stop on entry, checker on)',
        unit: 'ms',
        model: {
          clock: 'wall',
          run: async () => { launched = await launch(EXAMPLE, { stopOnEntry: true }); sessions.push(launched.dc); },
          cleanup: close,
        },
        floor: {
          label: 'a threads request round trip',
          clock: 'wall',
          prepare: async () => { sessions.push((await launch(EXAMPLE, { stopOnEntry: true })).dc); },
          run: () => threads(sessions[0], 1),
          cleanup: close,
        },
      });
      const nexts = 10;
      await ctx.pair({
        label: `next: each of the first ${nexts} statements of examples/01`,
        unit: 'ms',
        model: {
          clock: 'wall',
          prepare: async () => { sessions.push((await launch(EXAMPLE, { stopOnEntry: true })).dc); },
          run: async () => { for (let i = 0; i < nexts; i++) await untilStopped(sessions[0], () => sessions[0].nextRequest({ threadId: 1 })); },
          cleanup: close,
        },
        floor: {
          label: `${nexts} threads request round trips`,
          clock: 'wall',
          prepare: async () => { sessions.push((await launch(EXAMPLE, { stopOnEntry: true })).dc); },
          run: () => threads(sessions[0], nexts),
          cleanup: close,
        },
        note: 'times are for all the nexts',
      });

      // -- variables on a big and a small stream table (linear, every STE initialised by smmu init)
      const table = (bits: number): string => {
        const f = join(dir, `strtab-${bits}.smmu`);
        writeFileSync(f, `platform coherent=no\nsmmu stages=1,2 sidsize=${bits} strtab_2lvl=no\nsmmu init\ndsb\n`);
        return f;
      };
      const bigBits = ctx.size(16, 12);
      const big = table(bigBits);
      const small = table(8);
      const view = (program: string): Timed => ({
        clock: 'wall',
        prepare: async () => { sessions.push((await launch(program, { line: 4 })).dc); },
        run: async () => {
          const n = await streamTableView(sessions[0]);
          if (n !== 2 ** (program === big ? bigBits : 8)) throw new Error(`the stream table shows ${n} STEs`);
        },
        cleanup: close,
      });
      await ctx.pair({
        label: `variables: the Stream table scope, 100 STEs and one STE's fields, on a ${(2 ** bigBits).toLocaleString('en')}-STE table`,
        unit: 'ms',
        model: view(big),
        floor: { label: 'the same on a 256-STE table', ...view(small) },
        target: { on: 'ratio', cmp: '<=', limit: 2 },
      });

      // -- step back after a short and a long run
      const steps = ctx.size(100_000, 2_000);
      const long = join(dir, 'long.smmu');
      // Stores round a 4 KiB buffer, with the DSB a driver would issue now and then (without
      // any, every store would stay pending in the visibility history, up to its bound).
      const header = 'alloc buf 4K noncacheable\n';
      const body = Array.from({ length: steps + 2 }, (_, i) => (i % 64 === 63 ? 'dsb\n' : `store buf + ${(i % 512) * 8} ${i}\n`)).join('');
      writeFileSync(long, header + body);
      // Statement i (from 1) is on line i + 1: stop before statement n + 1, after n statements.
      // A step back and a next back to the same place, 20 times: one alone is within DAP's jitter.
      const cycles = 20;
      const cycle = async (dc: DebugClient): Promise<void> => {
        await untilStopped(dc, () => dc.stepBackRequest({ threadId: 1 }));
        await untilStopped(dc, () => dc.nextRequest({ threadId: 1 }));
      };
      const back = (n: number): Timed => ({
        clock: 'wall',
        // Cycles first, untimed: a fresh adapter compiles (and optimises) the restore path on first use.
        prepare: async () => {
          sessions.push((await launch(long, { line: n + 2 })).dc);
          for (let i = 0; i < 10; i++) await cycle(sessions[0]);
        },
        run: async () => { for (let i = 0; i < cycles; i++) await cycle(sessions[0]); },
        cleanup: close,
      });
      await ctx.pair({
        label: `step back (and next again), ${cycles} times, after ${steps.toLocaleString('en')} statements`,
        unit: 'ms',
        model: back(steps),
        floor: { label: 'the same after 10 statements', ...back(10) },
        target: { on: 'ratio', cmp: '<=', limit: 2 },
      });
      const t0 = performance.now();
      sessions.push((await launch(long, { line: steps + 2 })).dc);
      ctx.note(`running ${steps.toLocaleString('en')} statements to the breakpoint, launch included: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      await close();
    } finally {
      await close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
