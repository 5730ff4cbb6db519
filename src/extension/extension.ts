/** The extension's entry in desktop VS Code (Node extension host): it can also read dump files. */
import type * as vscode from 'vscode';
import { openFileSource } from '../cli/fileSource';
import { activateWith } from './activation';

export function activate(context: vscode.ExtensionContext): void {
  activateWith(context, { readBinary: (path) => openFileSource(path) });
}

export { deactivate } from './activation';
