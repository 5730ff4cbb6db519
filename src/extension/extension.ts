/**
 * The extension's entry in desktop VS Code (Node extension host): it can read dump files, and
 * loads the engine (debug adapter, headless runs) from its own bundle on first use.
 */
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { openFileSource } from '../cli/fileSource';
import { activateWith } from './activation';
import type { Engine } from './engine';

let engine: Engine | undefined;

function loadEngine(): Engine {
  // A path esbuild does not follow: dist/engine.js is built as a bundle of its own.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  engine ??= require(join(__dirname, 'engine.js')) as Engine;
  return engine;
}

const readBinary = (path: string): ReturnType<typeof openFileSource> => openFileSource(path);

export function activate(context: vscode.ExtensionContext): void {
  activateWith(context, {
    readBinary,
    engine: {
      // The adapter is typed against @vscode/debugadapter's protocol; VS Code's inline API takes the same messages.
      adapter: async (s) => loadEngine().createAdapter(s, readBinary) as unknown as vscode.DebugAdapter,
      run: async (s) => loadEngine().runHeadless(s, readBinary),
    },
  });
}

export { deactivate } from './activation';
