/**
 * The browser bundle (VS Code for the Web) may load nothing but `vscode`: no Node module, so
 * the views and the hovers run in a web extension host, and the debug adapter in a worker.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

describe('extension: the browser bundle', () => {
  it('requires only vscode (npm test builds it first)', () => {
    const text = readFileSync(join(root, 'dist', 'web', 'extension.js'), 'utf8');
    const required = [...new Set([...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]))];
    assert.deepEqual(required, ['vscode']);
  });

  it('the browser bundle leaves the engine to its worker script, dist/web/engine.js, which loads nothing', () => {
    const ext = readFileSync(join(root, 'dist', 'web', 'extension.js'), 'utf8');
    const engine = readFileSync(join(root, 'dist', 'web', 'engine.js'), 'utf8');
    assert.ok(!ext.includes('Content-Length: '), 'dist/web/extension.js includes the debug adapter');
    assert.ok(engine.includes('Content-Length: '), 'dist/web/engine.js lacks the debug adapter');
    // A classic worker script: no module system to load anything with.
    assert.deepEqual([...engine.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]), []);
    assert.ok(!/^\s*(import|export)\b/m.test(engine), 'dist/web/engine.js is a module, not a classic worker script');
  });

  it('the desktop bundle leaves the debug adapter to dist/engine.js, loaded on first use', () => {
    const ext = readFileSync(join(root, 'dist', 'extension.js'), 'utf8');
    const engine = readFileSync(join(root, 'dist', 'engine.js'), 'utf8');
    // The adapter library's wire framing is in the engine only.
    assert.ok(!ext.includes('Content-Length: '), 'dist/extension.js includes the debug adapter');
    assert.ok(engine.includes('Content-Length: '), 'dist/engine.js lacks the debug adapter');
  });

  it('the desktop bundle is the one that may read files (dumps)', () => {
    const text = readFileSync(join(root, 'dist', 'extension.js'), 'utf8');
    assert.match(text, /require\(["'](node:)?fs["']\)/);
  });
});
