/** The debug adapter as a standalone program speaking DAP over stdio, for any DAP client. */
import { DebugSession } from '@vscode/debugadapter';
import { nodeSourceHost } from '../cli/runCommand';
import { SmmuDebugSession } from './adapter';

class StdioSession extends SmmuDebugSession {
  constructor() {
    super(nodeSourceHost);
  }
}

DebugSession.run(StdioSession);
