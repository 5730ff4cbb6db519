/**
 * The debug adapter in this process (InProcessDap) for tests that look at whole responses:
 * a time limit on each (silence is a failure too), and the launch sequence.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { SourceHost } from '../../src/scenario/compiler';
import { InProcessDap } from './inProcessDap';

export class DapDriver extends InProcessDap {
  constructor(host: SourceHost) {
    super(host);
  }

  /** A request's response (success or not), or a rejection naming the request that got none. */
  /** How long a request may go unanswered (the fuzz targets raise it on a loaded machine). */
  timeoutMs = 10_000;

  send(command: string, args?: unknown, timeoutMs = this.timeoutMs): Promise<DebugProtocol.Response> {
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no response to '${command}' ${JSON.stringify(args)} within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.request(command, args), silence]).finally(() => clearTimeout(timer));
  }

  /** initialize, launch, configurationDone; the launch's response. */
  async launchResponse(args: Record<string, unknown>): Promise<DebugProtocol.Response> {
    await this.send('initialize', { adapterID: 'smmu', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const launched = this.send('launch', args);
    await this.send('configurationDone', {});
    return launched;
  }
}

/** The error a failed response carries (its id, and whether VS Code shows it as a notification). */
export function errorOf(r: DebugProtocol.Response): DebugProtocol.Message | undefined {
  return (r.body as { error?: DebugProtocol.Message } | undefined)?.error;
}
