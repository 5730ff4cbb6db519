/**
 * Hovers: over hex values in any file (logs, C, dumps) a decoding as STE, CD, PTE, command,
 * event or register, the most likely kind first; in a scenario during a debug session,
 * live values from the adapter (`evaluate` in the hover context).
 */
import * as vscode from 'vscode';
import { DEBUG_TYPE } from './debug';
import { decodeHover } from './hoverText';

function enabledFor(doc: vscode.TextDocument): boolean {
  const cfg = vscode.workspace.getConfiguration('smmuDebug.hover', doc);
  if (!cfg.get<boolean>('enabled', true)) return false;
  if (doc.languageId === 'smmu-scenario') return true;
  return cfg.get<string[]>('languages', ['plaintext', 'log', 'c', 'cpp']).includes(doc.languageId);
}

class HexHover implements vscode.HoverProvider {
  async provideHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    if (!enabledFor(doc)) return undefined;
    const line = doc.lineAt(pos.line).text;
    const session = vscode.debug.activeDebugSession;
    if (doc.languageId === 'smmu-scenario' && session?.type === DEBUG_TYPE) {
      const word = doc.getWordRangeAtPosition(pos, /[\w.[\]()]+/);
      if (word) {
        try {
          const r = await session.customRequest('evaluate', { expression: doc.getText(word), context: 'hover' });
          if (r?.result) return new vscode.Hover(new vscode.MarkdownString().appendCodeblock(String(r.result), 'text'), word);
        } catch {
          // Not an expression the adapter knows: fall back to the static decoding.
        }
      }
    }
    const context = `${pos.line > 0 ? doc.lineAt(pos.line - 1).text : ''}\n${line}`;
    const h = decodeHover(line, pos.character, context);
    if (!h) return undefined;
    const md = new vscode.MarkdownString(h.markdown);
    return new vscode.Hover(md, new vscode.Range(pos.line, h.start, pos.line, h.end));
  }
}

const KIND_PICKS = ['ste', 'cd', 'l1std', 'l1cd', 'pte', 'cmd', 'event', 'pri', 'reg'];

export function registerHover(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    // Every scheme: local files, but also vscode-remote (VS Code for the Web on a server,
    // seen from the browser), virtual file systems and git's views. The language setting
    // decides where hovers appear.
    vscode.languages.registerHoverProvider('*', new HexHover()),
    vscode.commands.registerCommand('smmuDebug.decodeSelectionAs', async () => {
      const kind = await vscode.window.showQuickPick(KIND_PICKS, { title: 'Decode the selection as' });
      if (kind) await vscode.commands.executeCommand('smmuDebug.decode', kind);
    }),
  );
}
