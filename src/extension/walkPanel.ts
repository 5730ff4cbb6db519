/**
 * The walk picture: a webview that draws, for one stream and address, the path the SMMU
 * takes — L1 descriptor, STE, CD, each table level, the output page — twice: as the SMMU
 * would do it now with what it has cached, and fetched afresh from memory as it sees it.
 * Each box says where the read came from and whether the entry is stale, dirty in the CPU
 * cache or has writes the SMMU may not see yet. Redrawn on every stop; restored on reload.
 */
import * as vscode from 'vscode';
import { DEBUG_TYPE } from './debug';
import { onSessionChanged } from './views';
import { parseWalkInput, WalkRequest } from './walkInput';

export const WALK_VIEW = 'smmuDebug.walk';

function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

class WalkPanel {
  static current?: WalkPanel;
  private request?: WalkRequest;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly panel: vscode.WebviewPanel, private readonly extensionUri: vscode.Uri, state?: { request?: WalkRequest }) {
    WalkPanel.current = this;
    this.request = state?.request;
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    const codicons = vscode.Uri.joinPath(extensionUri, 'dist', 'codicons');
    panel.webview.options = { enableScripts: true, localResourceRoots: [media, codicons] };
    panel.webview.html = this.html();
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((m: { type: string } & Partial<WalkRequest>) => {
      if (m.type === 'walk' && m.sid !== undefined && m.iova !== undefined) {
        this.request = { sid: m.sid, ssid: m.ssid || undefined, iova: m.iova, access: m.access ?? 'read' };
        void this.update();
      } else if (m.type === 'ready') void this.update();
    }, null, this.disposables);
    onSessionChanged.event(() => void this.update(), null, this.disposables);
  }

  show(request: WalkRequest): void {
    this.request = request;
    this.panel.reveal(vscode.ViewColumn.Beside, true);
    void this.update();
  }

  private async update(): Promise<void> {
    const post = (m: unknown): Thenable<boolean> => this.panel.webview.postMessage(m);
    const s = vscode.debug.activeDebugSession;
    if (!s || s.type !== DEBUG_TYPE) {
      await post({ type: 'idle', request: this.request, message: 'Start debugging a scenario to walk an address.' });
      return;
    }
    if (!this.request) {
      await post({ type: 'idle', message: 'Enter a StreamID and an address.' });
      return;
    }
    try {
      const pictures = await s.customRequest('smmu/walk', this.request);
      await post({ type: 'result', request: this.request, pictures });
    } catch (e) {
      await post({ type: 'error', request: this.request, message: (e as Error).message });
    }
  }

  private html(): string {
    const w = this.panel.webview;
    const n = nonce();
    const uri = (...p: string[]): vscode.Uri => w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p));
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${w.cspSource}; style-src ${w.cspSource}; font-src ${w.cspSource}; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${uri('dist', 'codicons', 'codicon.css')}" rel="stylesheet">
<link href="${uri('media', 'walk.css')}" rel="stylesheet">
<title>SMMU walk</title>
</head>
<body>
<form id="form">
  <label>StreamID <input id="sid" size="8" placeholder="5"></label>
  <label>SubstreamID <input id="ssid" size="6" placeholder="(none)"></label>
  <label>IOVA <input id="iova" size="20" placeholder="0x10000000"></label>
  <label>Access <select id="access"><option>read</option><option>write</option><option>exec</option></select></label>
  <button id="go" type="submit"><span class="codicon codicon-type-hierarchy-sub"></span> Walk</button>
</form>
<div id="status" role="status"></div>
<div id="columns"></div>
<script nonce="${n}" src="${uri('media', 'walk.js')}"></script>
</body>
</html>`;
  }

  private dispose(): void {
    WalkPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function openPanel(extensionUri: vscode.Uri): WalkPanel {
  if (WalkPanel.current) return WalkPanel.current;
  const panel = vscode.window.createWebviewPanel(WALK_VIEW, 'SMMU Walk', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { retainContextWhenHidden: false });
  return new WalkPanel(panel, extensionUri);
}

/** The StreamID of a tree node like "STE 0x5", to prefill the input. */
function sidOf(node: unknown): string | undefined {
  const label = (node as { label?: string } | undefined)?.label;
  return label ? /^STE (0x[0-9a-f]+)/i.exec(label)?.[1] : undefined;
}

export function registerWalkPanel(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('smmuDebug.walkAddress', async (node?: unknown, text?: string) => {
      const sid = sidOf(node);
      const input = text ?? await vscode.window.showInputBox({
        title: 'Walk an address', prompt: 'SID[:SSID] IOVA [read|write|exec]', value: sid ? `${sid} ` : '',
        placeHolder: '5 0x10000000', validateInput: (v) => {
          const r = parseWalkInput(v);
          return typeof r === 'string' ? r : undefined;
        },
      });
      if (input === undefined) return;
      const request = parseWalkInput(input);
      if (typeof request === 'string') {
        void vscode.window.showErrorMessage(request);
        return;
      }
      openPanel(context.extensionUri).show(request);
    }),
    vscode.window.registerWebviewPanelSerializer(WALK_VIEW, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: { request?: WalkRequest } | undefined) => {
        new WalkPanel(panel, context.extensionUri, state);
      },
    }),
  );
}
