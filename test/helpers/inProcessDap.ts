/**
 * Drives the debug adapter in the test process, as VS Code's inline implementation does:
 * requests go in through handleMessage, responses and events come out of onDidSendMessage.
 * Gives the extension's view code (which sees a debug session through `customRequest`) a
 * real session to talk to without VS Code.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SmmuDebugSession } from '../../src/debug/adapter';
import { SourceHost } from '../../src/scenario/compiler';

export class InProcessDap {
  readonly session: SmmuDebugSession;
  private seq = 1;
  private readonly pending = new Map<number, { resolve: (body: unknown) => void; reject: (e: Error) => void; raw?: (r: DebugProtocol.Response) => void }>();
  private readonly waiters: { event: string; resolve: (e: DebugProtocol.Event) => void; reject: (e: Error) => void }[] = [];
  readonly events: DebugProtocol.Event[] = [];
  private readonly watchers = new Set<(e: DebugProtocol.Event) => void>();

  constructor(host: SourceHost) {
    this.session = new SmmuDebugSession(host);
    this.session.onDidSendMessage((m) => {
      const msg = m as DebugProtocol.ProtocolMessage;
      if (msg.type === 'response') {
        const r = msg as DebugProtocol.Response;
        const p = this.pending.get(r.request_seq);
        this.pending.delete(r.request_seq);
        if (p?.raw) p.raw(r);
        else if (r.success) p?.resolve(r.body);
        else p?.reject(new Error(r.message ?? 'request failed'));
      } else if (msg.type === 'event') {
        const e = msg as DebugProtocol.Event;
        this.events.push(e);
        for (const w of this.watchers) w(e);
        const i = this.waiters.findIndex((w) => w.event === e.event);
        if (i >= 0) this.waiters.splice(i, 1)[0].resolve(e);
        // A run that ends fails whoever still waits for a stop, instead of leaving them hanging.
        else if (e.event === 'terminated') for (const w of this.waiters.splice(0)) w.reject(new Error(`the run ended while waiting for '${w.event}'`));
      }
    });
  }

  /** The shape of vscode.DebugSession.customRequest: any request by name. */
  customRequest(command: string, args?: unknown): Promise<unknown> {
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.session.handleMessage({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  /** Any request by name, answered with the whole response (failed ones too: their error says whether it is shown to the user). */
  request(command: string, args?: unknown): Promise<DebugProtocol.Response> {
    const seq = this.seq++;
    return new Promise((raw, reject) => {
      this.pending.set(seq, { resolve: () => undefined, reject, raw });
      this.session.handleMessage({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  /**
   * The first of these events sent since `events[from]`, or undefined after `timeoutMs`
   * (a run may still be going; whoever asks decides whether that matters).
   */
  eventSince(from: number, names: readonly string[], timeoutMs: number): Promise<DebugProtocol.Event | undefined> {
    const seen = this.events.slice(from).find((e) => names.includes(e.event));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const done = (e: DebugProtocol.Event | undefined): void => {
        clearTimeout(timer);
        this.watchers.delete(watch);
        resolve(e);
      };
      const watch = (e: DebugProtocol.Event): void => void (names.includes(e.event) && done(e));
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.watchers.add(watch);
    });
  }

  waitFor(event: string): Promise<DebugProtocol.Event> {
    return new Promise((resolve, reject) => this.waiters.push({ event, resolve, reject }));
  }

  /** initialize, launch, line breakpoints, configurationDone; resolves at the first stop. */
  async launch(args: Record<string, unknown>, breakpointLines: number[] = [], filters: string[] = []): Promise<DebugProtocol.Event> {
    await this.customRequest('initialize', { adapterID: 'smmu', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const stopped = this.waitFor('stopped');
    await this.customRequest('launch', args);
    if (breakpointLines.length) {
      await this.customRequest('setBreakpoints', { source: { path: args.program }, breakpoints: breakpointLines.map((line) => ({ line })) });
    }
    await this.customRequest('setExceptionBreakpoints', { filters });
    await this.customRequest('configurationDone');
    return stopped;
  }

  async next(): Promise<DebugProtocol.Event> {
    const stopped = this.waitFor('stopped');
    await this.customRequest('next', { threadId: 1 });
    return stopped;
  }

  async close(): Promise<void> {
    await this.customRequest('disconnect', {}).catch(() => undefined);
  }
}

/** A source host over texts held in memory. */
export function memoryHost(files: Record<string, string>): SourceHost {
  return {
    read: (path) => files[path],
    resolve: (_from, rel) => rel,
  } as SourceHost;
}
