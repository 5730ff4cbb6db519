/**
 * The web extension's side of the engine worker: a debug adapter that forwards DAP messages
 * to a worker, and headless runs in one. The engine runs off the extension host's thread,
 * and the extension's own script stays small. Free of `vscode` (the adapter has the shape
 * VS Code's inline API takes), so it is tested against an in-process endpoint.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { RunSummary } from '../engine';
import type { HostSnapshot } from '../hostSnapshot';
import type { FromEngine, MessagePort, ToEngine } from './engineProtocol';

/** A started engine worker. */
export interface EngineWorker extends MessagePort<FromEngine, ToEngine> {
  onerror: ((event: { readonly message?: string }) => void) | null;
  terminate(): void;
}

type Listener = (message: DebugProtocol.ProtocolMessage) => void;

const failedText = (why: string): string => `the SMMU engine worker failed: ${why}`;

/** A debug adapter whose session lives in an engine worker (one worker per session, ended with it). */
export class WorkerDebugAdapter {
  private readonly listeners = new Set<Listener>();
  /** Requests sent and not yet answered, by sequence number: answered with an error if the worker fails. */
  private readonly pending = new Map<number, string>();
  /** Why the worker failed, once it has. */
  private failure?: string;

  constructor(private readonly worker: EngineWorker, snapshot: HostSnapshot) {
    worker.onmessage = (event) => this.fromEngine(event.data);
    worker.onerror = (event) => this.fail(event.message || 'the worker stopped');
    worker.postMessage({ kind: 'debug', snapshot });
  }

  /** VS Code's Event: subscribe to what the adapter sends. */
  readonly onDidSendMessage = (listener: Listener): { dispose(): void } => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };

  handleMessage(message: DebugProtocol.ProtocolMessage): void {
    if (message.type === 'request') {
      const request = message as DebugProtocol.Request;
      if (this.failure !== undefined) return this.answerFailed(request.seq, request.command);
      this.pending.set(request.seq, request.command);
    }
    this.worker.postMessage({ kind: 'dap', message });
  }

  dispose(): void {
    this.worker.terminate();
    this.listeners.clear();
  }

  private fromEngine(m: FromEngine): void {
    if (m.kind === 'failed') return this.fail(m.message);
    if (m.kind !== 'dap') return;
    if (m.message.type === 'response') this.pending.delete((m.message as DebugProtocol.Response).request_seq);
    this.emit(m.message);
  }

  /** The worker is gone or refused: say why, answer what is waiting, and end the session. */
  private fail(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = failedText(reason);
    this.emit({ seq: 0, type: 'event', event: 'output', body: { category: 'stderr', output: `${this.failure}\n` } } as DebugProtocol.OutputEvent);
    for (const [seq, command] of this.pending) this.answerFailed(seq, command);
    this.pending.clear();
    this.emit({ seq: 0, type: 'event', event: 'terminated' } as DebugProtocol.TerminatedEvent);
    this.worker.terminate();
  }

  private answerFailed(requestSeq: number, command: string): void {
    this.emit({ seq: 0, type: 'response', request_seq: requestSeq, command, success: false, message: this.failure } as DebugProtocol.Response);
  }

  private emit(message: DebugProtocol.ProtocolMessage): void {
    for (const l of [...this.listeners]) l(message);
  }
}

/** A headless run in its own worker, which ends with it. */
export function runInWorker(worker: EngineWorker, snapshot: HostSnapshot): Promise<RunSummary> {
  return new Promise<RunSummary>((resolve, reject) => {
    const end = (f: () => void): void => {
      worker.onmessage = worker.onerror = null;
      worker.terminate();
      f();
    };
    worker.onmessage = (event) => {
      const m = event.data;
      if (m.kind === 'run') end(() => resolve(m.summary));
      else if (m.kind === 'failed') end(() => reject(new Error(failedText(m.message))));
    };
    worker.onerror = (event) => end(() => reject(new Error(failedText(event.message || 'the worker stopped'))));
    worker.postMessage({ kind: 'run', snapshot });
  });
}
