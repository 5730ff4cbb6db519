/**
 * The engine worker's side (VS Code for the Web): builds the debug session or runs the
 * scenario a first message asks for, and passes DAP messages to and from the session.
 * Pure (messages in, messages out), so it is tested without a worker.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { SmmuDebugSession } from '../../debug/adapter';
import { createAdapter, runHeadless } from '../engine';
import type { FromEngine, ToEngine } from './engineProtocol';

const KINDS = new Set(['debug', 'run', 'dap']);

export class EngineEndpoint {
  private session?: SmmuDebugSession;
  private started = false;

  constructor(private readonly post: (message: FromEngine) => void) {}

  receive(data: unknown): void {
    const m = data as ToEngine;
    try {
      if (typeof m !== 'object' || m === null || !KINDS.has(m.kind)) {
        throw new Error(`the engine worker was sent ${typeof m === 'object' && m !== null ? `a message of kind ${String(m.kind)}` : String(m)}; it takes "debug", "run" or "dap" messages`);
      }
      if (m.kind === 'dap') this.dap(m.message);
      else this.start(m);
    } catch (e) {
      this.post({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private start(m: Extract<ToEngine, { kind: 'debug' | 'run' }>): void {
    if (this.started) throw new Error(`the engine worker already serves a ${this.session ? 'debug session' : 'run'}; start a worker for each`);
    this.started = true;
    if (m.kind === 'run') {
      this.post({ kind: 'run', summary: runHeadless(m.snapshot) });
      return;
    }
    this.session = createAdapter(m.snapshot);
    this.session.onDidSendMessage((message) => this.post({ kind: 'dap', message: message as DebugProtocol.ProtocolMessage }));
  }

  private dap(message: unknown): void {
    if (!this.session) throw new Error('a DAP message came before the engine worker was asked to debug');
    this.session.handleMessage(message as DebugProtocol.ProtocolMessage);
  }
}
