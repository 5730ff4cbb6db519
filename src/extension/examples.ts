/** "Open an Example Scenario…": a quick pick of the bundled examples, each with its question. */
import * as vscode from 'vscode';
import { exampleTitle } from './exampleTitle';

export function registerExamples(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand('smmuDebug.openExample', async (name?: string) => {
    const dir = vscode.Uri.joinPath(context.extensionUri, 'examples');
    let entries: [string, vscode.FileType][];
    try {
      entries = await vscode.workspace.fs.readDirectory(dir);
    } catch (e) {
      void vscode.window.showErrorMessage(`Cannot list the bundled examples: ${(e as Error).message}`);
      return;
    }
    const files = entries.filter(([n, t]) => t === vscode.FileType.File && n.endsWith('.smmu')).map(([n]) => n).sort();
    let pick = name && files.includes(name) ? name : undefined;
    if (!pick) {
      const items = await Promise.all(files.map(async (f) => {
        const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, f)));
        return { label: f, description: exampleTitle(text) };
      }));
      pick = (await vscode.window.showQuickPick(items, { title: 'Open an example scenario', matchOnDescription: true, placeHolder: 'Examples ship with the extension; each answers one question' }))?.label;
    }
    if (!pick) return;
    const uri = vscode.Uri.joinPath(dir, pick);
    const doc = uri.scheme === 'file'
      ? await vscode.workspace.openTextDocument(uri)
      // Not a local file (VS Code for the Web): open a copy the user can run and debug.
      : await vscode.workspace.openTextDocument({ language: 'smmu-scenario', content: new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)) });
    await vscode.window.showTextDocument(doc);
  }));
}
