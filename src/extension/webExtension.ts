/** The extension's entry in VS Code for the Web (browser extension host, no Node APIs): one bundle, engine included. */
import type * as vscode from 'vscode';
import { activateWith } from './activation';
import * as engine from './engine';

export function activate(context: vscode.ExtensionContext): void {
  activateWith(context, { loadEngine: () => engine });
}

export { deactivate } from './activation';
