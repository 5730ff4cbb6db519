/**
 * 7. The extension: bundle sizes of a production build (minified, as packaged), and the
 * cost of activation — requiring dist/extension.js and calling activate() in a fresh Node
 * with a stand-in `vscode` — against a module that does nothing, loaded the same way.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Benchmark, BenchContext } from './harness';

const ROOT = join(__dirname, '..', '..');
const PROBE = join(__dirname, 'activationProbe.js');
const BUNDLES = ['dist/extension.js', 'dist/web/extension.js', 'dist/engine.js', 'dist/web/engine.js', 'dist/debugAdapter.js', 'dist/cli.js'];

interface Activation {
  readonly requireMs: number;
  readonly activateMs: number;
  readonly subscriptions: number;
}

function activate(bundle: string): Activation {
  try {
    return JSON.parse(execFileSync(process.execPath, [PROBE, bundle], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as Activation;
  } catch (e) {
    // The child's stack, not the minified line it points at.
    const stderr = String((e as { stderr?: unknown }).stderr ?? e);
    throw new Error(`activating ${bundle} failed: ${stderr.split('\n').filter((l) => /Error|^\s+at /.test(l)).slice(0, 6).join('\n')}`);
  }
}

export const extensionBench: Benchmark = {
  id: '7',
  title: 'Extension (production bundles, activation in Node)',
  async run(ctx: BenchContext) {
    const out = mkdtempSync(join(tmpdir(), 'smmu-bench-build-'));
    try {
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--production', `--outdir=${out}`], { cwd: ROOT, stdio: 'ignore' });
      for (const b of BUNDLES) {
        const kb = statSync(join(out, b)).size / 1024;
        const extension = b.endsWith('extension.js');
        ctx.value(`${b} (minified)`, 'KB', [kb], extension ? { target: { on: 'value', cmp: '<=', limit: 400 } } : {});
      }
      const nothing = join(out, 'nothing.js');
      writeFileSync(nothing, 'exports.activate = function () {};\n');
      const bundle = join(out, 'dist', 'extension.js');
      let subscriptions = 0;
      await ctx.pair({
        label: 'activation: require + activate() of the production dist/extension.js, in a fresh Node',
        unit: 'ms',
        model: { clock: 'wall', run: () => { const a = activate(bundle); subscriptions = a.subscriptions; return a; } },
        floor: { label: 'process start, and an empty module the same way', clock: 'wall', run: () => activate(nothing) },
        note: 'each run is a whole child process; the probe reports require and activate alone below',
      });
      const reps = ctx.size(5, 2);
      const parts = Array.from({ length: reps }, () => activate(bundle));
      const empty = Array.from({ length: reps }, () => activate(nothing));
      ctx.value('  of which: require + activate() inside the process', 'ms', parts.map((p) => p.requireMs + p.activateMs),
        { floor: { label: 'the empty module', xs: empty.map((p) => p.requireMs + p.activateMs) } });
      ctx.note(`activate() registered ${subscriptions} disposables; require ${parts[0].requireMs.toFixed(1)} ms, activate ${parts[0].activateMs.toFixed(1)} ms (first run)`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
};
