/**
 * `npm run bench`: every benchmark of the engine, the checker, the debugger and the
 * extension, each figure with its ratio to a floor measured side by side.
 *
 * Environment: BENCH_QUICK=1 small workloads and 2 repetitions (CI smoke runs);
 * BENCH_REPS=N repetitions; BENCH_ONLY=1,5 only these benchmarks; BENCH_CLOCK=cpu time
 * in-process work by CPU time rather than elapsed time (steadier on a busy machine);
 * BENCH_JSON=FILE also write the rows as JSON.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Benchmark, optionsFromEnv, runBenchmarks } from './harness';
import { checkerBench } from './checker';
import { debuggerBench } from './debugger';
import { dumpBench } from './dump';
import { entryWriterBench } from './entryWriter';
import { extensionBench } from './extension';
import { mapScaleBench } from './mapScale';
import { translateBench } from './translate';

export const BENCHMARKS: readonly Benchmark[] = [
  translateBench, mapScaleBench, checkerBench, entryWriterBench, debuggerBench, dumpBench, extensionBench,
];

async function main(): Promise<void> {
  const opts = optionsFromEnv();
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter((s) => s);
  const list = only ? BENCHMARKS.filter((b) => only.includes(b.id)) : BENCHMARKS;
  if (only && list.length !== only.length) {
    throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY}: known benchmarks are ${BENCHMARKS.map((b) => b.id).join(', ')}`);
  }
  const cpu = cpus();
  console.log(`SMMU Table Debugger benchmarks: Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${opts.reps} repetition${opts.reps === 1 ? '' : 's'}, ${opts.clock} clock${opts.quick ? ', quick mode' : ''}; ` +
    `load average ${loadavg()[0].toFixed(1)}`);
  const { rows, failures } = await runBenchmarks(list, opts);
  if (process.env.BENCH_JSON) {
    writeFileSync(process.env.BENCH_JSON, JSON.stringify({ node: process.version, cpus: cpu.length, cpu: cpu[0]?.model, load: loadavg()[0], ...opts, rows, failures }, null, 1));
  }
  const missed = rows.filter((r) => r.met === false).map((r) => `[${r.bench}] ${r.label}`);
  console.log(`\n${rows.length} figures; targets not met: ${missed.length ? '\n  ' + missed.join('\n  ') : 'none'}`);
  if (failures.length) {
    console.log(`benchmarks that failed: ${failures.map((f) => f.id).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
