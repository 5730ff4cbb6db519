/**
 * Run in a fresh Node process by the extension benchmark: load an extension bundle with a
 * stand-in `vscode` module, call its `activate`, and print how long each took (ms) as JSON.
 * Usage: node activationProbe.js BUNDLE
 *
 * A stand-in answers every property access and call with another stand-in, so whatever
 * the extension registers at activation works, and records nothing.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { performance } from 'node:perf_hooks';

function standIn(): unknown {
  const target = function standInFunction(): void { /* stand-in */ };
  return new Proxy(target, {
    // Iterable as empty (`for (const d of vscode.workspace.textDocuments)`), never a promise.
    get: (_t, key) => (key === Symbol.iterator ? function* empty(): Generator<never> { /* nothing */ } : key === 'then' || typeof key === 'symbol' ? undefined : standIn()),
    apply: () => standIn(),
    // `class X extends vscode.TreeItem` works: the instance has the subclass's prototype.
    construct: (_t, _args, newTarget: { prototype: object }) => Object.create(newTarget.prototype) as object,
  });
}

/**
 * The `vscode` module: each top-level name of the API (from its type declarations) is a
 * stand-in. Bundlers copy a module's own properties when importing it as a namespace, so
 * the names must be real properties, not only answered by a proxy.
 */
function vscodeModule(): Record<string, unknown> {
  const dts = readFileSync(require.resolve('@types/vscode/index.d.ts'), 'utf8');
  const names = new Set([...dts.matchAll(/^\texport (?:namespace|class|enum|const|function|let) (\w+)/gm)].map((m) => m[1]));
  return Object.fromEntries([...names].map((n) => [n, standIn()]));
}

const vscode = vscodeModule();
const loader = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
const load = loader._load.bind(Module);
loader._load = (request, parent, isMain) => (request === 'vscode' ? vscode : load(request, parent, isMain));

const bundle = process.argv[2];
const context = { subscriptions: [] as unknown[], extensionPath: '', extensionUri: standIn(), globalState: standIn(), workspaceState: standIn(), asAbsolutePath: (p: string) => p };
const t0 = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ext = require(bundle) as { activate?: (c: unknown) => unknown };
const t1 = performance.now();
const r = ext.activate?.(context);
Promise.resolve(r).then(() => {
  const t2 = performance.now();
  process.stdout.write(JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1, subscriptions: context.subscriptions.length }));
}, (e: unknown) => {
  process.stderr.write(`activate failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
