/**
 * The benchmark harness: each figure is measured several times, side by side with its
 * floor (the same work done by the simplest code that could do it) in the same process,
 * alternating which goes first, and reported as median and spread, with the ratio to the
 * floor taken per repetition (so a slow moment of the machine hits both sides of a pair).
 *
 * Nothing here knows a benchmark; `bench/run.ts` lists them.
 */
import { performance } from 'node:perf_hooks';

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: readonly number[];
}

export function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) throw new RangeError('no measurements');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], runs: xs };
}

/** Work to time: `prepare` and `cleanup` run around each timed call, outside the clock. */
export interface Timed {
  prepare?(): unknown;
  run(): unknown;
  cleanup?(): unknown;
  /** Work done in other processes (a debug adapter, a child Node) is timed by the wall clock. */
  readonly clock?: 'wall';
}

/**
 * wall: elapsed time. cpu: this process's CPU time (user + system), which a busy shared
 * machine disturbs less; it includes the collector's helper threads.
 */
export type Clock = 'wall' | 'cpu';

/** ms: time per run (lower is better); ops/s: `work` items per run (higher is better); KB: a size. */
export type Unit = 'ms' | 'ops/s' | 'KB';

export interface Target {
  /** What the target is on: the ratio to the floor, or the value itself. */
  readonly on: 'ratio' | 'value';
  readonly cmp: '<=' | '>=';
  readonly limit: number;
}

export interface Row {
  readonly bench: string;
  readonly label: string;
  readonly unit: Unit;
  /** Absent for a slot waiting for its benchmark (`pending`). */
  readonly value?: Stats;
  readonly floor?: { readonly label: string; readonly value: Stats };
  /**
   * Per repetition: model/floor for times and sizes, model rate/floor rate for rates (so
   * "0.5×" of a rate means half as fast, "3×" of a time three times as long).
   */
  readonly ratio?: Stats;
  readonly target?: Target;
  readonly met?: boolean;
  readonly note?: string;
  readonly pending?: string;
}

export interface PairSpec {
  readonly label: string;
  readonly unit: 'ms' | 'ops/s';
  /** Items of work per run, for rates. */
  readonly work?: number;
  readonly model: Timed;
  readonly floor: Timed & { readonly label: string };
  readonly target?: Target;
  readonly note?: string;
}

export interface SingleSpec {
  readonly label: string;
  readonly unit: 'ms' | 'ops/s';
  readonly work?: number;
  readonly model: Timed;
  readonly target?: Target;
  readonly note?: string;
}

export interface BenchOptions {
  /** Smaller workloads and fewer repetitions (CI smoke runs). */
  readonly quick: boolean;
  readonly clock: Clock;
  readonly reps: number;
  /** Untimed runs of each side before the measured ones. */
  readonly warmup: number;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const reps = Number(env.BENCH_REPS ?? (quick ? 2 : 5));
  if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`BENCH_REPS=${env.BENCH_REPS}: give a whole number of repetitions, at least 1`);
  const clock = env.BENCH_CLOCK ?? 'wall';
  if (clock !== 'wall' && clock !== 'cpu') throw new RangeError(`BENCH_CLOCK=${clock}: give wall or cpu`);
  return { quick, reps, warmup: quick ? 0 : 1, clock };
}

async function settle(x: unknown): Promise<void> {
  if (x instanceof Promise) await x;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** One timed call, in milliseconds. */
export async function timeOnce(t: Timed, clock: Clock = 'wall'): Promise<number> {
  await settle(t.prepare?.());
  const now = clock === 'cpu' && t.clock !== 'wall' ? cpuMs : () => performance.now();
  const t0 = now();
  const r = t.run();
  if (r instanceof Promise) await r;
  const ms = now() - t0;
  await settle(t.cleanup?.());
  return ms;
}

function judge(target: Target | undefined, value: Stats | undefined, ratio: Stats | undefined): boolean | undefined {
  if (!target) return undefined;
  const x = target.on === 'ratio' ? ratio?.median : value?.median;
  if (x === undefined) return undefined;
  return target.cmp === '<=' ? x <= target.limit : x >= target.limit;
}

const toUnit = (unit: 'ms' | 'ops/s', work: number | undefined, ms: number): number =>
  unit === 'ms' ? ms : (work ?? 1) / (ms / 1000);

/** What a benchmark is given: the options and the ways to measure. */
export class BenchContext {
  readonly rows: Row[] = [];

  constructor(readonly bench: string, readonly opts: BenchOptions, private readonly log: (line: string) => void) {}

  get quick(): boolean {
    return this.opts.quick;
  }

  /** The clock the figures use, in ms: for timing parts of a run (see `value`). */
  now(): number {
    return this.opts.clock === 'cpu' ? cpuMs() : performance.now();
  }

  /** A size for the run: the full one, or the quick one. */
  size<T>(full: T, quick: T): T {
    return this.opts.quick ? quick : full;
  }

  private add(row: Row): Row {
    this.rows.push(row);
    this.log(formatRow(row));
    return row;
  }

  /** The model and its floor, alternately, `reps` times. */
  async pair(spec: PairSpec): Promise<Row> {
    for (let i = 0; i < this.opts.warmup; i++) {
      await timeOnce(spec.model, this.opts.clock);
      await timeOnce(spec.floor, this.opts.clock);
    }
    const model: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < this.opts.reps; i++) {
      if (i % 2 === 0) {
        model.push(await timeOnce(spec.model, this.opts.clock));
        floor.push(await timeOnce(spec.floor, this.opts.clock));
      } else {
        floor.push(await timeOnce(spec.floor, this.opts.clock));
        model.push(await timeOnce(spec.model, this.opts.clock));
      }
    }
    // Both are times here; a rate's ratio is the inverse of the time ratio.
    const ratios = model.map((m, i) => (spec.unit === 'ms' ? m / floor[i] : floor[i] / m));
    const value = stats(model.map((ms) => toUnit(spec.unit, spec.work, ms)));
    const ratio = stats(ratios);
    return this.add({
      bench: this.bench, label: spec.label, unit: spec.unit, value, ratio, target: spec.target, note: spec.note,
      floor: { label: spec.floor.label, value: stats(floor.map((ms) => toUnit(spec.unit, spec.work, ms))) },
      met: judge(spec.target, value, ratio),
    });
  }

  /** A figure with no floor of its own. */
  async single(spec: SingleSpec): Promise<Row> {
    for (let i = 0; i < this.opts.warmup; i++) await timeOnce(spec.model, this.opts.clock);
    const ms: number[] = [];
    for (let i = 0; i < this.opts.reps; i++) ms.push(await timeOnce(spec.model, this.opts.clock));
    const value = stats(ms.map((x) => toUnit(spec.unit, spec.work, x)));
    return this.add({ bench: this.bench, label: spec.label, unit: spec.unit, value, target: spec.target, note: spec.note, met: judge(spec.target, value, undefined) });
  }

  /** A figure measured elsewhere (sizes, counts), with an optional reference to compare with. */
  value(label: string, unit: Unit, xs: readonly number[], opts: { floor?: { label: string; xs: readonly number[] }; target?: Target; note?: string } = {}): Row {
    const value = stats(xs);
    const floor = opts.floor && { label: opts.floor.label, value: stats(opts.floor.xs) };
    const ratio = floor ? stats(xs.map((x, i) => x / opts.floor!.xs[Math.min(i, opts.floor!.xs.length - 1)])) : undefined;
    return this.add({ bench: this.bench, label, unit, value, floor, ratio, target: opts.target, note: opts.note, met: judge(opts.target, value, ratio) });
  }

  /** A slot for a benchmark whose subject does not exist yet: printed as such, never as a figure. */
  pending(label: string, why: string, target?: Target): Row {
    return this.add({ bench: this.bench, label, unit: 'ms', target, pending: why });
  }

  /** A line of context (sizes, counts) printed with the figures. */
  note(text: string): void {
    this.log(`    · ${text}`);
  }
}

export interface Benchmark {
  readonly id: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<void> | void;
}

// ---- formatting ------------------------------------------------------------------------

function num(x: number, unit: Unit): string {
  if (unit === 'ops/s') {
    if (x >= 1e6) return `${(x / 1e6).toPrecision(3)} M/s`;
    if (x >= 1e3) return `${(x / 1e3).toPrecision(3)} k/s`;
    return `${x.toPrecision(3)} /s`;
  }
  if (unit === 'KB') return `${x.toFixed(1)} KB`;
  if (x >= 1000) return `${(x / 1000).toPrecision(3)} s`;
  if (x >= 1) return `${x.toPrecision(3)} ms`;
  return `${(x * 1000).toPrecision(3)} µs`;
}

export function formatStats(s: Stats, unit: Unit): string {
  return s.runs.length > 1 ? `${num(s.median, unit)} (${num(s.min, unit)}–${num(s.max, unit)})` : num(s.median, unit);
}

const ratioText = (x: number): string => `${x.toPrecision(3)}×`;

export function targetText(t: Target, unit: Unit): string {
  return t.on === 'ratio' ? `${t.cmp} ${ratioText(t.limit)} floor` : `${t.cmp} ${num(t.limit, unit)}`;
}

export function formatRow(r: Row): string {
  const lines = [`  ${r.label}`];
  if (r.pending) {
    lines.push(`      PENDING: ${r.pending}${r.target ? `  [target ${targetText(r.target, r.unit)}]` : ''}`);
    return lines.join('\n');
  }
  lines.push(`      ${formatStats(r.value!, r.unit)}`);
  if (r.floor) lines.push(`      floor (${r.floor.label}): ${formatStats(r.floor.value, r.unit)}`);
  if (r.ratio) {
    const rs = r.ratio;
    lines.push(`      ratio ${ratioText(rs.median)}${rs.runs.length > 1 ? ` (${ratioText(rs.min)}–${ratioText(rs.max)})` : ''}`);
  }
  if (r.target) lines.push(`      target ${targetText(r.target, r.unit)}: ${r.met ? 'met' : 'NOT met'}`);
  if (r.note) lines.push(`      (${r.note})`);
  return lines.join('\n');
}

/** Run benchmarks in order; a failing one is reported and the others still run. */
export async function runBenchmarks(list: readonly Benchmark[], opts: BenchOptions, log: (line: string) => void = console.log):
  Promise<{ rows: Row[]; failures: { id: string; error: string }[] }> {
  const rows: Row[] = [];
  const failures: { id: string; error: string }[] = [];
  for (const b of list) {
    log(`\n[${b.id}] ${b.title}`);
    const ctx = new BenchContext(b.id, opts, log);
    try {
      await b.run(ctx);
    } catch (e) {
      const error = e instanceof Error ? e.stack ?? e.message : String(e);
      failures.push({ id: b.id, error });
      log(`  FAILED: ${error}`);
    }
    rows.push(...ctx.rows);
  }
  return { rows, failures };
}
