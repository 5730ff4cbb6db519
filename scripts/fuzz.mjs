// `npm run fuzz [-- TARGET...]`: the fuzz targets of test/fuzz with many cases each.
// FUZZ_RUNS (default 1,000,000) cases per target; FUZZ_SECONDS bounds each target's time
// (the cases it reached are reported); TARGET names pick targets (as printed: hex-words,
// scenario-run, smmu-walks, dap-requests...). Each target prints "fuzz NAME: N cases in T s,
// seed S"; FUZZ_SEED=S repeats a run. See docs/robustness.md.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const mocha = require.resolve('mocha/bin/mocha.js');
const env = { ...process.env, FUZZ_RUNS: process.env.FUZZ_RUNS || '1000000' };
const targets = process.argv.slice(2);
if (targets.length) env.FUZZ_TARGETS = targets.join(',');
const r = spawnSync(process.execPath, [mocha, '--no-config', '--timeout', '0', '--reporter', 'spec', '--exit', 'out/test/fuzz/*.test.js'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
