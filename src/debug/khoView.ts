/**
 * Kexec HandOver in the debugger: the `KHO` scope (where the live update is, every region
 * and its pages with their preserved / restored / released state, the preserved memory
 * map, the handover description as a tree, what the new kernel overwrote) and the event
 * breakpoints kexec, preserve, finalize and restore.
 */
import { hex } from '../arch/codec';
import { DescNode, Kho, KhoEvent, pageAddr, pagesOf, PageState, rangeText } from '../model/kho';
import type { Machine } from '../model/machine';
import { memRef, Var } from './variables';

const named = (vars: () => Var[]): Var['children'] => ({ get: () => vars() });

function phaseText(k: Kho): string {
  switch (k.phase) {
    case 'old': return k.kexecs ? `preserving for the next kexec (live update ${k.kexecs} finished)` : 'old kernel: preserving';
    case 'finalized': return 'finalized: the preserved set and the description are frozen until kexec';
    case 'new': return `new kernel after kexec ${k.kexecs}: restoring and adopting`;
    case 'finished': return `live update ${k.kexecs} finished: memory not restored was released`;
  }
}

function stateText(k: Kho, pfn: number): string {
  const s: PageState = k.pageState(pfn);
  const by = [...new Set(k.recordsAt(pfn).map((r) => r.label))];
  return `${s}${by.length ? ` (${by.join(', ')})` : ''}`;
}

/** A region and its pages, paged so a large region costs what is shown. */
function regionVar(m: Machine, r: { name: string; base: number; size: number; attr: string; owner: string }, note: string): Var {
  const k = m.kho;
  const p = pagesOf(r.base, r.size);
  const n = p.hi - p.lo;
  const states = new Set(Array.from({ length: Math.min(n, 4096) }, (_, i) => k.pageState(p.lo + i)));
  const summary = states.size === 1 ? [...states][0] : `mixed: ${[...states].join(', ')}`;
  return {
    name: r.name, value: `${summary} — ${hex(r.base)}..${hex(r.base + r.size)} ${r.attr}, ${r.owner}${note}`, memoryReference: memRef('cpu', r.base),
    children: {
      indexed: n,
      get: (start, count) => Array.from({ length: Math.max(0, Math.min(count, n - start)) }, (_, i) => {
        const pfn = p.lo + start + i;
        return { name: hex(pageAddr(pfn)), value: stateText(k, pfn), memoryReference: memRef('cpu', pageAddr(pfn)) };
      }),
    },
  };
}

function regionVars(m: Machine): Var[] {
  const k = m.kho;
  const out: Var[] = [];
  if (k.handedOver) {
    for (const r of k.oldRegions) out.push(regionVar(m, r, `; old kernel, ${r.preserved === 'whole' ? 'preserved whole' : r.preserved === 'partly' ? 'partly preserved' : 'not preserved'}`));
    const old = new Set(k.oldRegions.map((r) => `${r.name}@${r.base}`));
    for (const r of m.mem.regions.live) if (!old.has(`${r.name}@${r.base}`)) out.push(regionVar(m, r, '; new kernel'));
  } else {
    for (const r of m.mem.regions.live) out.push(regionVar(m, r, ''));
  }
  return out;
}

export function descVar(d: DescNode): Var {
  return {
    name: d.name, value: d.props.length + d.children.length ? `${d.props.length} properties, ${d.children.length} subtrees` : 'empty',
    children: named(() => [...d.props.map(([name, value]) => ({ name, value })), ...d.children.map(descVar)]),
  };
}

/** The KHO scope's variables. */
export function khoVars(m: Machine): Var[] {
  const k = m.kho;
  const d = k.current();
  return [
    { name: 'state', value: phaseText(k) },
    { name: 'live-update counter', value: String(k.kexecs) },
    {
      name: 'preserved', value: `${k.preserved.count} pages${k.handedOver ? `, ${k.restored.count} restored, ${k.released.count} released` : ''}`,
      children: named(() => k.records.map((r) => ({ name: r.label, value: `${rangeText(r)} → ${r.subtree}`, memoryReference: memRef('cpu', pageAddr(r.lo)) }))),
    },
    { name: 'regions', value: `${k.handedOver ? 'old and new kernel' : 'this kernel'}`, children: named(() => regionVars(m)) },
    { ...descVar(d), name: 'handover description', value: k.description ? 'finalized' : 'not finalized (as it would be now)' },
    {
      name: 'overwritten by the new kernel', value: `${k.overwrites.length}`,
      children: named(() => k.overwrites.map((o, i) => ({
        name: `[${i}] ${o.by}`, value: `${hex(o.byte)} over ${o.ranges.length > 3 ? `${o.ranges.length} ranges` : o.ranges.map((r) => `${hex(r.addr)}..${hex(r.addr + r.len)}`).join(', ')}`,
      }))),
    },
  ];
}

/** The event breakpoint a KHO event stops at, if any: its filter id, a description and details. */
export function khoStop(e: KhoEvent): { id: string; description: string; details: string } | undefined {
  switch (e.kind) {
    case 'preserve':
      return { id: 'preserve', description: `KHO preserve ${e.label}`, details: `${rangeText(e.range)} in ${e.chunks.length} naturally aligned block(s), subtree ${e.subtree}` };
    case 'unpreserve':
      return { id: 'preserve', description: `KHO unpreserve ${e.label}`, details: rangeText(e.range) };
    case 'finalize':
      return { id: 'finalize', description: 'KHO finalized', details: 'the preserved memory and the handover description are frozen until kexec' };
    case 'kexec':
      return {
        id: 'kexec', description: `kexec ${e.count}: the new kernel starts`,
        details: `${e.freed.length} regions of the old kernel are free; ${e.wroteBack} dirty lines written back; the SMMU keeps running`,
      };
    case 'restore':
      return { id: 'restore', description: `KHO restore ${e.label}`, details: rangeText(e.range) };
    default:
      return undefined;
  }
}
