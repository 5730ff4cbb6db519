// Bundles the extension (Node and browser), the standalone debug adapter and the CLI with esbuild.
// Usage: node scripts/build.mjs [--production] [--watch] [--outdir=DIR]
// --outdir puts the bundles under DIR instead of the repository (the benchmarks measure a
// production build there without replacing dist/).
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length) ?? root;

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
  target: 'es2022',
  define: { SMMU_DEBUG_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) },
};

/** Each bundle: entry, output, platform. Entries that do not exist yet are skipped. */
const bundles = [
  { entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: ['vscode'] },
  { entryPoints: ['src/extension/webExtension.ts'], outfile: 'dist/web/extension.js', platform: 'browser', format: 'cjs', external: ['vscode'] },
  {
    // The engine worker of VS Code for the Web: a classic worker script, started by the web extension.
    entryPoints: ['src/extension/web/engineWorker.ts'], outfile: 'dist/web/engine.js', platform: 'browser', format: 'iife',
    // The debug adapter library needs two Node modules; the browser gets small stand-ins.
    alias: { events: './src/extension/web/events.ts', url: './src/extension/web/url.ts' },
  },
  // The engine the desktop extension loads on first use (debug adapter, headless runs).
  { entryPoints: ['src/extension/engine.ts'], outfile: 'dist/engine.js', platform: 'node', format: 'cjs', external: ['vscode'] },
  { entryPoints: ['src/debug/debugAdapter.ts'], outfile: 'dist/debugAdapter.js', platform: 'node', format: 'cjs' },
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs' },
].filter((b) => existsSync(join(root, b.entryPoints[0]))).map((b) => ({ ...b, outfile: join(outdir, b.outfile) }));

// The walk webview's icon font, shipped with the extension so the webview loads nothing remote.
const codicons = join(root, 'node_modules', '@vscode', 'codicons', 'dist');
if (existsSync(codicons)) {
  mkdirSync(join(root, 'dist', 'codicons'), { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(join(codicons, f), join(root, 'dist', 'codicons', f));
}

if (watch) {
  for (const b of bundles) {
    const ctx = await esbuild.context({ ...common, ...b });
    await ctx.watch();
  }
  console.log(`watching ${bundles.length} bundles`);
} else {
  await Promise.all(bundles.map((b) => esbuild.build({ ...common, ...b })));
  for (const b of bundles) {
    const kb = (statSync(b.outfile).size / 1024).toFixed(1);
    console.log(`built ${relative(root, b.outfile)} (${kb} KB${production ? ', minified' : ''})`);
  }
}
