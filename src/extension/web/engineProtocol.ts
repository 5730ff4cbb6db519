/**
 * What the web extension and its engine worker say to each other. One worker serves one
 * debug session or one headless run: the first message says which, with everything the
 * engine may read; a debug session's DAP messages then pass through unchanged.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { RunSummary } from '../engine';
import type { HostSnapshot } from '../hostSnapshot';

export type ToEngine =
  | { readonly kind: 'debug'; readonly snapshot: HostSnapshot }
  | { readonly kind: 'run'; readonly snapshot: HostSnapshot }
  | { readonly kind: 'dap'; readonly message: DebugProtocol.ProtocolMessage };

export type FromEngine =
  | { readonly kind: 'dap'; readonly message: DebugProtocol.ProtocolMessage }
  | { readonly kind: 'run'; readonly summary: RunSummary }
  /** The engine could not do what it was asked; the worker is of no further use. */
  | { readonly kind: 'failed'; readonly message: string };

/** The part of a Worker (or of a worker's own scope, seen from inside) the two sides use. */
export interface MessagePort<In, Out> {
  postMessage(message: Out): void;
  onmessage: ((event: { readonly data: In }) => void) | null;
}
