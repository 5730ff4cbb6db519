/** What both extension hosts (desktop and web) register; nothing here needs Node. */
import * as vscode from 'vscode';
import { registerDecodeCommand } from './decodeCommand';

export function activate(context: vscode.ExtensionContext): void {
  registerDecodeCommand(context);
}

export function deactivate(): void {
  // Nothing to release: every registration is in context.subscriptions.
}
