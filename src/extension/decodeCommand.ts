/**
 * "SMMU: Decode Hex Words…": pick a kind, give the words (the selection by default), and
 * read the decoding in a read-only document beside the editor.
 */
import * as vscode from 'vscode';
import { decodeText, describe, KINDS, KindOptions, Granule } from '../arch';
import { REGISTERS } from '../arch/registers';

export const DECODE_SCHEME = 'smmu-decode';

/** Read-only documents holding decodings, addressed by a counter. */
class DecodedDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private next = 1;

  add(title: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: DECODE_SCHEME, path: `/${this.next++}/${title}.txt` });
    this.texts.set(uri.toString(), text);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }
}

interface FormatPick extends vscode.QuickPickItem { readonly opts: KindOptions }

function pteFormats(): FormatPick[] {
  const picks: FormatPick[] = [];
  for (const stage of [1, 2] as const) {
    for (const granule of [4, 16, 64] as Granule[]) {
      for (const level of [3, 2, 1, 0] as const) {
        if (granule === 64 && level === 0) continue; // no level 0 with the 64K granule
        picks.push({ label: `Stage ${stage}, ${granule}K granule, level ${level}`, opts: { stage, granule, level } });
      }
    }
  }
  return picks;
}

async function askOptions(kind: string): Promise<KindOptions | undefined> {
  if (kind === 'pte') {
    return (await vscode.window.showQuickPick(pteFormats(), { title: 'Descriptor format' }))?.opts;
  }
  if (kind === 'reg') {
    const r = await vscode.window.showQuickPick(REGISTERS.map((x) => ({ label: x.name, description: x.title })), { title: 'Register' });
    return r && { register: r.label };
  }
  return {};
}

export function registerDecodeCommand(context: vscode.ExtensionContext): void {
  const docs = new DecodedDocuments();
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(DECODE_SCHEME, docs),
    vscode.commands.registerCommand('smmuDebug.decode', async (kindArg?: string, wordsArg?: string) => {
      const kind = kindArg ?? (await vscode.window.showQuickPick(
        KINDS.map((k) => ({ label: k.kind, description: k.title })), { title: 'Decode as' }))?.label;
      if (!kind) return;
      const opts = await askOptions(kind);
      if (!opts) return;
      const editor = vscode.window.activeTextEditor;
      const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
      const words = wordsArg ?? await vscode.window.showInputBox({
        title: `Decode ${kind}`, value: selected.trim(), prompt: 'Hex words, word 0 first (e.g. 0x000000004800f00b 0xd6)',
      });
      if (!words) return;
      try {
        const d = decodeText(kind, [words], opts);
        const uri = docs.add(`${kind}-${d.layout.kind}`, describe(d));
        await vscode.window.showTextDocument(uri, { preview: true, viewColumn: vscode.ViewColumn.Beside });
      } catch (e) {
        void vscode.window.showErrorMessage(`Cannot decode: ${(e as Error).message}`);
      }
    }));
}
