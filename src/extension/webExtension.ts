/**
 * The extension's entry in VS Code for the Web (browser extension host, no Node APIs). The
 * engine runs in workers of its own (dist/web/engine.js): one per debug session or run.
 */
import * as vscode from 'vscode';
import { activateWith } from './activation';
import { runInWorker, WorkerDebugAdapter, type EngineWorker } from './web/workerEngine';

type WorkerConstructor = new (url: string, options?: { name?: string }) => EngineWorker;

/**
 * Starts an engine worker. The extension host hands extensions a Worker that loads its
 * script by URL; the extension's own files may be on a remote file system, which that
 * Worker does not read, so the script is fetched (the host's fetch reaches extension
 * files) and given as a blob URL, once.
 */
function workerStarter(script: vscode.Uri): () => Promise<EngineWorker> {
  let url: Promise<string> | undefined;
  const load = async (): Promise<string> => {
    const response = await fetch(script.toString(true));
    if (!response.ok) throw new Error(`cannot load ${script.toString(true)}: ${response.status} ${response.statusText}`);
    return URL.createObjectURL(new Blob([await response.text()], { type: 'text/javascript' }));
  };
  return async () => {
    const Worker = (globalThis as { Worker?: WorkerConstructor }).Worker;
    if (!Worker) throw new Error('this extension host cannot start workers, which the SMMU engine runs in');
    url ??= load().catch((e: unknown) => {
      url = undefined;
      throw e;
    });
    return new Worker(await url, { name: 'SMMU engine' });
  };
}

export function activate(context: vscode.ExtensionContext): void {
  const start = workerStarter(vscode.Uri.joinPath(context.extensionUri, 'dist', 'web', 'engine.js'));
  activateWith(context, {
    engine: {
      adapter: async (s) => new WorkerDebugAdapter(await start(), s),
      run: async (s) => runInWorker(await start(), s),
    },
  });
}

export { deactivate } from './activation';
