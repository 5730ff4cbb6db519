/**
 * Debugging scenarios: the `smmu` debug type with an inline adapter (the same session the
 * standalone adapter runs, in the extension host, so it works in VS Code for the Web),
 * F5 on a `.smmu` file without a launch.json, and the Run / Debug scenario commands.
 */
import * as vscode from 'vscode';
import type { SourceHost } from '../scenario/compiler';
import type { Engine } from './engine';
import { fetchedReader } from './dumpFiles';
import { hostFor, openTexts, prefetch, prefetchDumps, toPath } from './sources';

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
  constructor(private readonly loadEngine: () => Engine, private readonly readBinary?: SourceHost['readBinary']) {}

  async createDebugAdapterDescriptor(session: vscode.DebugSession): Promise<vscode.DebugAdapterDescriptor> {
    const program = String(session.configuration.program ?? '');
    const texts = await prefetch(program, openTexts());
    // Without positional file reads (the browser), the dumps the session names are read first.
    const readBinary = this.readBinary ?? fetchedReader(await prefetchDumps(program, texts, { core: session.configuration.core, raw: session.configuration.raw }));
    // The adapter is typed against @vscode/debugadapter's protocol; VS Code's inline API takes the same messages.
    return new vscode.DebugAdapterInlineImplementation(this.loadEngine().createAdapter(hostFor(program, texts, readBinary)) as unknown as vscode.DebugAdapter);
  }
}

export function registerDebugging(context: vscode.ExtensionContext, loadEngine: () => Engine, readBinary?: SourceHost['readBinary']): void {
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider()),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new DynamicConfigurations(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new InlineFactory(loadEngine, readBinary)),
    vscode.commands.registerCommand('smmuDebug.debugScenario', async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (!target) return;
      await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(target), defaultConfig(toPath(target)));
    }),
  );
}
