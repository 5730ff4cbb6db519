/**
 * Debugging scenarios: the `smmu` debug type with an inline adapter (the same session the
 * standalone adapter runs, in the extension host, so it works in VS Code for the Web),
 * F5 on a `.smmu` file without a launch.json, and the Run / Debug scenario commands.
 */
import * as vscode from 'vscode';
import type { SourceHost } from '../scenario/compiler';
import type { EngineAccess } from './activation';
import { openTexts, prefetch, prefetchDumps, snapshotFor, toPath } from './sources';

export const DEBUG_TYPE = 'smmu';

function defaultConfig(program: string): vscode.DebugConfiguration {
  return { type: DEBUG_TYPE, request: 'launch', name: 'Debug SMMU scenario', program, stopOnEntry: true, check: true };
}

class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    if (!config.type && !config.request && !config.name) {
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.languageId !== 'smmu-scenario') {
        void vscode.window.showInformationMessage('Open a .smmu scenario to debug it, or add an "smmu" configuration to launch.json.');
        return undefined;
      }
      return defaultConfig(toPath(editor.document.uri));
    }
    if (!config.program && config.core === undefined && config.raw === undefined) {
      void vscode.window.showErrorMessage('The smmu launch configuration needs "program" (a .smmu scenario) or a dump ("core" or "raw", with "registers").');
      return undefined;
    }
    return config;
  }

  provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): vscode.DebugConfiguration[] {
    void folder;
    return [defaultConfig('${file}')];
  }
}

class DynamicConfigurations implements vscode.DebugConfigurationProvider {
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): Promise<vscode.DebugConfiguration[]> {
    const files = await vscode.workspace.findFiles(folder ? new vscode.RelativePattern(folder, '**/*.smmu') : '**/*.smmu', '**/node_modules/**', 50);
    return files.map((f) => ({ ...defaultConfig(toPath(f)), name: `Debug ${vscode.workspace.asRelativePath(f)}` }));
  }
}

class InlineFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly engine: EngineAccess, private readonly readBinary?: SourceHost['readBinary']) {}

  async createDebugAdapterDescriptor(session: vscode.DebugSession): Promise<vscode.DebugAdapterDescriptor> {
    const program = String(session.configuration.program ?? '');
    const texts = await prefetch(program, openTexts());
    // Without positional file reads (the browser), the dumps the session names are read first.
    const dumps = this.readBinary ? undefined : await prefetchDumps(program, texts, { core: session.configuration.core, raw: session.configuration.raw });
    return new vscode.DebugAdapterInlineImplementation(await this.engine.adapter(snapshotFor(program, texts, { dumps })));
  }
}

export function registerDebugging(context: vscode.ExtensionContext, engine: EngineAccess, readBinary?: SourceHost['readBinary']): void {
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider()),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new DynamicConfigurations(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new InlineFactory(engine, readBinary)),
    vscode.commands.registerCommand('smmuDebug.debugScenario', async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (!target) return;
      await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(target), defaultConfig(toPath(target)));
    }),
  );
}
