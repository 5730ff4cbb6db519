/**
 * What the SMMU Tables, Cache Lines and Hazards views show, as plain data built from the
 * debug session's answers. No `vscode` import: the tree providers in views.ts only turn
 * these nodes into TreeItems, and tests drive this module with an in-process adapter.
 */

/** The part of a debug session the views use (vscode.DebugSession satisfies it). */
export interface Dap {
  customRequest(command: string, args?: unknown): PromiseLike<unknown>;
}

export interface TreeNode {
  readonly label: string;
  /** Label ranges to highlight (e.g. bytes that differ from PoC). */
  readonly highlights?: readonly [number, number][];
  readonly description: string;
  /** Markdown. */
  readonly tooltip: string;
  /** A codicon id and optional theme colour id. */
  readonly icon?: { readonly id: string; readonly color?: string };
  /** smmuEntry: has a memory reference (reveal / copy / decode apply). */
  readonly contextValue: 'smmuEntry' | 'smmuNode' | 'smmuHazard' | 'smmuLine' | 'smmuMessage';
  readonly collapsible: boolean;
  /** Variables reference to expand (scope trees). */
  readonly ref?: number;
  readonly indexed?: number;
  /** A page of an indexed parent: its first index. */
  readonly start?: number;
  readonly memoryReference?: string;
  readonly command?: { readonly command: string; readonly title: string; readonly arguments: readonly unknown[] };
}

/** Children per page of a big table (a 65,536-STE table opens as 256 pages). */
export const PAGE = 256;

interface DapVariable {
  name: string;
  value: string;
  type?: string;
  variablesReference: number;
  memoryReference?: string;
  indexedVariables?: number;
}

function message(text: string): TreeNode {
  return { label: text, description: '', tooltip: text, contextValue: 'smmuMessage', collapsible: false };
}

/** The icon that says what state an entry is in, from its decoded text. */
export function iconFor(label: string, description: string): TreeNode['icon'] {
  if (/⟂|stale|not cleaned|differs|different bytes/i.test(description)) return { id: 'warning', color: 'problemsWarningIcon.foreground' };
  if (/\b(invalid|V=0|abort|fault|C_BAD|F_[A-Z_]+)\b/.test(description)) return { id: 'circle-slash', color: 'disabledForeground' };
  if (/^bypass\b/i.test(description)) return { id: 'arrow-right' };
  if (/^(STE|L1STD|L1CD|CD)\b/.test(label)) return { id: 'symbol-structure' };
  if (/^(stage|level|S[12] L)|descriptor/i.test(label)) return { id: 'symbol-field' };
  if (/table|STEs|CDs/i.test(label)) return { id: 'table' };
  if (/^(qword|word) \d/.test(label)) return { id: 'symbol-number' };
  return undefined;
}

function tooltipFor(v: DapVariable): string {
  const lines = [`**${v.name}**`, '', v.value];
  if (v.type) lines.push('', `*${v.type}*`);
  if (v.memoryReference) lines.push('', `\`${v.memoryReference}\``);
  return lines.join('\n');
}

function fromVariable(v: DapVariable): TreeNode {
  return {
    label: v.name, description: v.value, tooltip: tooltipFor(v), icon: iconFor(v.name, v.value),
    contextValue: v.memoryReference ? 'smmuEntry' : 'smmuNode', collapsible: v.variablesReference > 0,
    ref: v.variablesReference || undefined, indexed: v.indexedVariables, memoryReference: v.memoryReference,
  };
}

/** A tree over one scope of the adapter's variables, paged for big tables. */
export class ScopeModel {
  constructor(readonly scope: string, readonly idle: string) {}

  async children(dap: Dap | undefined, node?: TreeNode): Promise<TreeNode[]> {
    if (!dap) return [message(this.idle)];
    try {
      let ref = node?.ref;
      if (!node) ref = ((await dap.customRequest('smmu/scope', { name: this.scope })) as { variablesReference: number }).variablesReference;
      if (!ref) return [];
      const n = node?.indexed ?? 0;
      if (n > PAGE && node?.start === undefined) {
        const pages: TreeNode[] = [];
        for (let i = 0; i < n; i += PAGE) {
          const last = Math.min(n, i + PAGE) - 1;
          pages.push({ label: `[${i}..${last}]`, description: '', tooltip: `entries ${i} to ${last}`, contextValue: 'smmuNode', collapsible: true, ref, indexed: last - i + 1, start: i });
        }
        return pages;
      }
      const args: Record<string, unknown> = { variablesReference: ref };
      if (node?.start !== undefined) Object.assign(args, { filter: 'indexed', start: node.start, count: node.indexed });
      else if (n > 0) Object.assign(args, { filter: 'indexed', start: 0, count: n });
      const r = (await dap.customRequest('variables', args)) as { variables: DapVariable[] };
      return r.variables.map(fromVariable);
    } catch (e) {
      return [message(`(${(e as Error).message})`)];
    }
  }
}

// ---- Cache Lines -------------------------------------------------------------------------------

interface LineData {
  base: string;
  cpu: number[];
  poc: number[];
  dirty: number[];
}

const byte = (b: number): string => b.toString(16).padStart(2, '0');

/** One 8-byte row: the CPU's bytes as the label, bytes that differ from PoC highlighted. */
function rowNode(l: LineData, off: number): TreeNode {
  const prefix = `+0x${off.toString(16).padStart(2, '0')}  `;
  let label = prefix;
  const highlights: [number, number][] = [];
  const dirty = new Set(l.dirty);
  let differ = 0;
  let anyDirty = false;
  for (let i = off; i < off + 8; i++) {
    if (i > off) label += ' ';
    if (l.cpu[i] !== l.poc[i]) {
      highlights.push([label.length, label.length + 2]);
      differ++;
    }
    anyDirty ||= dirty.has(i);
    label += byte(l.cpu[i]);
  }
  const poc = l.poc.slice(off, off + 8).map(byte).join(' ');
  return {
    label, highlights, description: differ ? `PoC ${poc}` : anyDirty ? 'dirty, same bytes at PoC' : 'clean',
    tooltip: `${l.base} ${prefix.trim()}: CPU \`${l.cpu.slice(off, off + 8).map(byte).join(' ')}\`, PoC \`${poc}\``,
    icon: differ ? { id: 'diff-modified', color: 'gitDecoration.modifiedResourceForeground' } : undefined,
    contextValue: 'smmuEntry', collapsible: false, memoryReference: `cpu:0x${(Number(l.base) + off).toString(16)}`,
  };
}

/** The CPU bytes against PoC as a Markdown table, differing bytes in bold. */
export function lineMarkdown(l: LineData): string {
  const rows = ['| | CPU | PoC |', '|---|---|---|'];
  for (let off = 0; off < l.cpu.length; off += 8) {
    const cell = (a: number[], b: number[]): string => a.slice(off, off + 8).map((x, i) => (x !== b[off + i] ? `**${byte(x)}**` : byte(x))).join(' ');
    rows.push(`| +0x${off.toString(16)} | ${cell(l.cpu, l.poc)} | ${cell(l.poc, l.cpu)} |`);
  }
  return rows.join('\n');
}

export async function cacheLineNodes(dap: Dap | undefined, line?: TreeNode & { data?: LineData }): Promise<TreeNode[]> {
  if (!dap) return [message('Start debugging a scenario to see the CPU cache lines')];
  if (line?.data) {
    const l = line.data;
    const out: TreeNode[] = [];
    for (let off = 0; off < l.cpu.length; off += 8) out.push(rowNode(l, off));
    return out;
  }
  try {
    const { lines, total } = (await dap.customRequest('smmu/cacheLines')) as { lines: LineData[]; total: number };
    if (lines.length === 0) return [message('No dirty lines: PoC holds everything the CPU wrote')];
    const nodes: TreeNode[] = lines.map((l) => {
      const differ = l.cpu.filter((b, i) => b !== l.poc[i]).length;
      const node: TreeNode & { data: LineData } = {
        label: l.base, description: `${l.dirty.length} dirty byte${l.dirty.length === 1 ? '' : 's'}, ${differ} differ from PoC`,
        tooltip: `**Line ${l.base}**: ${l.dirty.length} bytes not written back; a non-coherent SMMU reads the PoC column.\n\n${lineMarkdown(l)}`,
        icon: { id: 'circle-filled', color: differ ? 'gitDecoration.modifiedResourceForeground' : 'disabledForeground' },
        contextValue: 'smmuLine', collapsible: true, memoryReference: `cpu:${l.base}`, data: l,
      };
      return node;
    });
    const more = total - lines.length;
    if (more > 0) nodes.push(message(`… ${more.toLocaleString('en-US')} more dirty line${more === 1 ? '' : 's'}: the CPU cache scope in Variables pages through all ${total.toLocaleString('en-US')}`));
    return nodes;
  } catch (e) {
    return [message(`(${(e as Error).message})`)];
  }
}

// ---- Hazards -----------------------------------------------------------------------------------

interface HazardData {
  rule: string;
  severity: string;
  title: string;
  message: string;
  file?: string;
  line?: number;
}

export async function hazardNodes(dap: Dap | undefined): Promise<TreeNode[]> {
  if (!dap) return [];
  try {
    const { hazards } = (await dap.customRequest('smmu/hazards')) as { hazards: HazardData[] };
    if (hazards.length === 0) return [message('No hazards so far')];
    return hazards.map((h) => ({
      label: `${h.rule}${h.line ? ` (line ${h.line})` : ''}`, description: h.message,
      tooltip: `**${h.title}** — ${h.severity}${h.line ? `, line ${h.line}` : ''}\n\n${h.message}`,
      icon: { id: h.severity === 'error' ? 'error' : 'warning', color: h.severity === 'error' ? 'problemsErrorIcon.foreground' : 'problemsWarningIcon.foreground' },
      contextValue: 'smmuHazard', collapsible: false,
      command: h.file && h.line ? { command: 'smmuDebug.revealLine', title: 'Reveal', arguments: [h.file, h.line] } : undefined,
    }));
  } catch (e) {
    return [message(`(${(e as Error).message})`)];
  }
}
