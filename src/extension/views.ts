/**
 * Tree views in the Run and Debug container, fed by the active smmu debug session and
 * refreshed whenever it stops or invalidates its variables: SMMU Tables (stream table →
 * STE → CD → page tables), Cache Lines (dirty lines, CPU vs PoC bytes), Hazards (click to
 * reveal the line), KHO (preserved regions and pages, the handover description). Entries offer: reveal in memory (CPU / PoC), copy raw words, decode,
 * walk an address. What the nodes say is built in treeModel.ts; this file is the glue.
 */
import * as vscode from 'vscode';
import { DEBUG_TYPE } from './debug';
import { toUri } from './sources';
import { cacheLineNodes, Dap, hazardNodes, ScopeModel, TreeNode } from './treeModel';

function session(): vscode.DebugSession | undefined {
  const s = vscode.debug.activeDebugSession;
  return s?.type === DEBUG_TYPE ? s : undefined;
}

function toItem(n: TreeNode): vscode.TreeItem {
  const label: vscode.TreeItemLabel = { label: n.label, highlights: n.highlights?.map(([a, b]) => [a, b] as [number, number]) };
  const item = new vscode.TreeItem(label, n.collapsible ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.description = n.description;
  item.tooltip = new vscode.MarkdownString(n.tooltip);
  item.contextValue = n.contextValue;
  if (n.icon) item.iconPath = new vscode.ThemeIcon(n.icon.id, n.icon.color ? new vscode.ThemeColor(n.icon.color) : undefined);
  if (n.command) item.command = { command: n.command.command, title: n.command.title, arguments: [...n.command.arguments] };
  return item;
}

/** A tree provider over a function from (session, parent) to nodes. */
class NodeTree implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly nodes: (dap: Dap | undefined, parent?: TreeNode) => Promise<TreeNode[]>) {}

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    return toItem(n);
  }

  getChildren(n?: TreeNode): Promise<TreeNode[]> {
    return this.nodes(session(), n);
  }
}

/** Read-only hex dumps of a range in the CPU and PoC views, side by side. */
class MemoryDocuments implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly open = new Set<string>();

  refresh(): void {
    for (const u of this.open) this.changed.fire(vscode.Uri.parse(u));
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    this.open.add(uri.toString());
    const s = session();
    if (!s) return 'no smmu debug session is running';
    const [view, addrText] = uri.path.replace(/^\//, '').split('/');
    const addr = Number(addrText);
    const count = 256;
    const read = async (v: string): Promise<Uint8Array> => {
      const r = await s.customRequest('readMemory', { memoryReference: `${v}:0x${addr.toString(16)}`, count });
      return Uint8Array.from(atob(r.data ?? ''), (c) => c.charCodeAt(0));
    };
    const cpu = await read('cpu');
    const poc = await read('poc');
    const [first, second] = view === 'poc' ? [poc, cpu] : [cpu, poc];
    const names = view === 'poc' ? ['PoC', 'CPU'] : ['CPU', 'PoC'];
    const lines = [`${names[0]} view | ${names[1]} view; * marks bytes that differ (CPU writes not cleaned to PoC)`, ''];
    for (let off = 0; off < count; off += 16) {
      const a = (addr + off).toString(16).padStart(12, '0');
      const fmt = (b: Uint8Array): string => [...b.subarray(off, off + 16)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
      const mark = [...cpu.subarray(off, off + 16)].map((x, i) => (x === poc[off + i] ? '.' : '*')).join('');
      lines.push(`${a}  ${fmt(first)}  |  ${fmt(second)}  ${mark}`);
    }
    return lines.join('\n');
  }
}

/** Views refresh on these adapter events; other parts (the walk picture) may listen too. */
export const onSessionChanged = new vscode.EventEmitter<void>();

export function registerViews(context: vscode.ExtensionContext): void {
  const tables = new NodeTree((dap, n) => new ScopeModel('Stream table', 'Start debugging a scenario to see its tables').children(dap, n));
  const lines = new NodeTree((dap, n) => cacheLineNodes(dap, n));
  const hazards = new NodeTree((dap) => hazardNodes(dap));
  const kho = new NodeTree((dap, n) => new ScopeModel('KHO', 'Start debugging a scenario to see its live-update state').children(dap, n));
  const memory = new MemoryDocuments();
  const refresh = (): void => {
    tables.refresh();
    lines.refresh();
    hazards.refresh();
    kho.refresh();
    memory.refresh();
    onSessionChanged.fire();
  };
  context.subscriptions.push(
    onSessionChanged,
    vscode.window.createTreeView('smmuDebug.tables', { treeDataProvider: tables, showCollapseAll: true }),
    vscode.window.createTreeView('smmuDebug.cacheLines', { treeDataProvider: lines, showCollapseAll: true }),
    vscode.window.createTreeView('smmuDebug.hazards', { treeDataProvider: hazards }),
    vscode.window.createTreeView('smmuDebug.kho', { treeDataProvider: kho, showCollapseAll: true }),
    vscode.workspace.registerTextDocumentContentProvider('smmu-memory', memory),
    vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type?: string; event?: string }) => {
          if (m.type === 'event' && (m.event === 'stopped' || m.event === 'invalidated' || m.event === 'terminated')) refresh();
        },
      }),
    }),
    vscode.debug.onDidChangeActiveDebugSession(refresh),
    vscode.debug.onDidStartDebugSession((s) => {
      if (s.type === DEBUG_TYPE) void vscode.commands.executeCommand('setContext', 'smmuDebug.hadSession', true);
    }),
    vscode.commands.registerCommand('smmuDebug.revealLine', async (file: string, line: number) => {
      const doc = await vscode.workspace.openTextDocument(toUri(file));
      const editor = await vscode.window.showTextDocument(doc, { preserveFocus: false });
      const range = new vscode.Range(line - 1, 0, line - 1, 0);
      editor.selection = new vscode.Selection(range.start, range.start);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
    }),
    vscode.commands.registerCommand('smmuDebug.revealInMemory', (n: TreeNode, view: 'cpu' | 'poc' = 'cpu') => {
      if (!n?.memoryReference) return;
      const addr = n.memoryReference.split(':')[1];
      void vscode.window.showTextDocument(vscode.Uri.from({ scheme: 'smmu-memory', path: `/${view}/${addr}` }), { preview: true, viewColumn: vscode.ViewColumn.Beside });
    }),
    vscode.commands.registerCommand('smmuDebug.revealInPoc', (n: TreeNode) => vscode.commands.executeCommand('smmuDebug.revealInMemory', n, 'poc')),
    vscode.commands.registerCommand('smmuDebug.copyWords', async (n: TreeNode) => {
      const s = session();
      if (!s || !n) return;
      let text = n.description;
      if (n.ref) {
        const r = await s.customRequest('variables', { variablesReference: n.ref });
        const words = (r.variables as { name: string; value: string }[]).find((v) => v.name === 'words');
        if (words) text = words.value;
      }
      await vscode.env.clipboard.writeText(text);
      void vscode.window.setStatusBarMessage(`Copied ${n.label}: ${text}`, 4000);
    }),
    vscode.commands.registerCommand('smmuDebug.decodeNode', async (n: TreeNode) => {
      const s = session();
      if (!s || !n?.ref) return;
      const r = await s.customRequest('variables', { variablesReference: n.ref });
      const text = (r.variables as { name: string; value: string }[]).map((v) => `${v.name.padEnd(16)} ${v.value}`).join('\n');
      const doc = await vscode.workspace.openTextDocument({ content: `${n.label}: ${n.description}\n\n${text}`, language: 'plaintext' });
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    }),
  );
}
