/** What both extension hosts (desktop and web) register; nothing here needs Node. */
import * as vscode from 'vscode';
import { registerDebugging } from './debug';
import { registerDecodeCommand } from './decodeCommand';
import { registerExamples } from './examples';
import { registerHover } from './hover';
import { registerScenarioEditing } from './scenarioEditing';
import { registerViews } from './views';
import { registerWalkPanel } from './walkPanel';

export function activate(context: vscode.ExtensionContext): void {
  registerDecodeCommand(context);
  registerHover(context);
  registerScenarioEditing(context);
  registerDebugging(context);
  registerViews(context);
  registerWalkPanel(context);
  registerExamples(context);
}

export function deactivate(): void {
  // Nothing to release: every registration is in context.subscriptions.
}
