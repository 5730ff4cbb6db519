/** What both extension hosts (desktop and web) register; nothing here needs Node. */
import * as vscode from 'vscode';
import type { SourceHost } from '../scenario/compiler';
import type { RunSummary } from './engine';
import type { HostSnapshot } from './hostSnapshot';
import { registerDebugging } from './debug';
import { registerDecodeCommand } from './decodeCommand';
import { registerExamples } from './examples';
import { registerHover } from './hover';
import { registerScenarioEditing } from './scenarioEditing';
import { registerViews } from './views';
import { registerWalkPanel } from './walkPanel';

/** What only some extension hosts can do, handed in by their entry point. */
export interface HostAbilities {
  /** Read dump files lazily (desktop: positional file reads); absent in the browser. */
  readonly readBinary?: SourceHost['readBinary'];
  /** The debug adapter and headless runs (see engine.ts): loaded on first use, or in a worker. */
  readonly engine: EngineAccess;
}

/** How a host reaches the engine for a debug session or a headless run over `snapshot`'s files. */
export interface EngineAccess {
  adapter(snapshot: HostSnapshot): Promise<vscode.DebugAdapter>;
  run(snapshot: HostSnapshot): Promise<RunSummary>;
}

export function activateWith(context: vscode.ExtensionContext, abilities: HostAbilities): void {
  registerDecodeCommand(context);
  registerHover(context);
  registerScenarioEditing(context, abilities.engine, abilities.readBinary);
  registerDebugging(context, abilities.engine, abilities.readBinary);
  registerViews(context);
  registerWalkPanel(context);
  registerExamples(context);
}

export function deactivate(): void {
  // Nothing to release: every registration is in context.subscriptions.
}
