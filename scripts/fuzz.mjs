// `npm run fuzz [-- TARGET...]`: the fuzz targets of test/fuzz with many cases each.
// FUZZ_RUNS (default 1,000,000) cases per target; FUZZ_SECONDS bounds each target's time
// (the cases it reached are reported); TARGET names pick targets (as printed: hex-words,
// scenario-run, smmu-walks, dap-requests...). Each target prints "fuzz NAME: N cases in T s,
// seed S"; FUZZ_SEED=S repeats a run. See docs/robustness.md.
//
// FUZZ_JOBS=J (default: the number of CPUs) splits each target's cases over J processes,
// each with its own seed (FUZZ_SEED + shard number), and adds up what they ran. A failure
// names its shard's seed; replay it with that seed, its path and FUZZ_JOBS=1.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const mocha = require.resolve('mocha/bin/mocha.js');
const args = ['--no-config', '--timeout', '0', '--reporter', 'spec', '--exit', 'out/test/fuzz/*.test.js'];

function fail(message) {
  console.error(`npm run fuzz: ${message}`);
  process.exit(2);
}

const whole = (name, text, min) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) fail(`${name} must be a whole number${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ''}, not '${text}'`);
  return n;
};

const runs = whole('FUZZ_RUNS', process.env.FUZZ_RUNS || '1000000', 1);
const replaying = Boolean(process.env.FUZZ_PATH);
const jobs = replaying ? 1 : Math.min(whole('FUZZ_JOBS', process.env.FUZZ_JOBS || String(availableParallelism()), 1), runs);
const seed = process.env.FUZZ_SEED ? whole('FUZZ_SEED', process.env.FUZZ_SEED, Number.MIN_SAFE_INTEGER) : (Date.now() ^ (process.pid << 8)) >>> 0;
const targets = process.argv.slice(2);

/** Shard i's cases: the runs split as evenly as they go, adding up to `runs`. */
const share = (i) => Math.floor(runs / jobs) + (i < runs % jobs ? 1 : 0);

function shard(i) {
  const env = { ...process.env, FUZZ_RUNS: String(share(i)), FUZZ_SEED: String(seed + i) };
  if (targets.length) env.FUZZ_TARGETS = targets.join(',');
  const child = spawn(process.execPath, [mocha, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines = [];
  const prefix = jobs > 1 ? `[${i}] ` : '';
  for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      out.write(prefix + line + '\n');
    });
  }
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ i, code: code ?? (signal ? 128 : 1), lines })));
}

const started = Date.now();
const results = await Promise.all(Array.from({ length: jobs }, (_, i) => shard(i)));

if (jobs > 1) {
  // Add up each target's "fuzz NAME: N cases in T s, seed S" lines.
  const totals = new Map();
  for (const r of results) {
    for (const line of r.lines) {
      const m = /fuzz (\S+): (\d+) cases in ([\d.]+) s, seed (\d+)( \(time limit\))?/.exec(line);
      if (!m) continue;
      const t = totals.get(m[1]) ?? { cases: 0, seconds: 0, seeds: [], limited: false };
      t.cases += Number(m[2]);
      t.seconds = Math.max(t.seconds, Number(m[3]));
      t.seeds.push(m[4]);
      t.limited ||= Boolean(m[5]);
      totals.set(m[1], t);
    }
  }
  console.log(`\nfuzz: ${jobs} processes, ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  for (const [name, t] of totals) {
    console.log(`    fuzz ${name}: ${t.cases} cases in ${t.seconds.toFixed(1)} s over ${t.seeds.length} processes, seeds ${t.seeds.join(', ')}${t.limited ? ' (time limit)' : ''}`);
  }
}
const failed = results.filter((r) => r.code !== 0);
for (const r of failed) console.error(`fuzz: the process with seed ${seed + r.i} failed (exit ${r.code}); replay a case with FUZZ_SEED=${seed + r.i} FUZZ_PATH=<its path> FUZZ_JOBS=1`);
process.exit(failed.length ? 1 : 0);
