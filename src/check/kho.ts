/**
 * The live-update hazards: what the SMMU — which keeps running across kexec with its
 * registers, caches and tables — can still reach that the handover does not protect.
 *
 *  - unpreserved-reachable: at finalize and at kexec, every page the SMMU can reach from
 *    its live configuration (stream table, L2 tables, CD tables, page tables at every
 *    level, queues) that is not preserved, with the path that reaches it; and when the new
 *    kernel overwrites such a page (a scrub, an allocation), what the SMMU now reads there.
 *  - preserved-mutated: a CPU write to preserved memory between finalize and kexec.
 *  - restore-missing: the new kernel writes or takes over preserved memory it has not
 *    restored, or finishes the update (releasing it) while the SMMU still reaches it.
 *  - handover-dirty: at kexec, table entries the SMMU can reach hold CPU writes still dirty
 *    in the cache, which kexec leaves dirty and a non-coherent SMMU does not see.
 *  - reset-during-handover: the new kernel disables the SMMU while DMA may be live.
 */
import { decode, hex } from '../arch/codec';
import { CD } from '../arch/cd';
import { Layout } from '../arch/field';
import { pteLayoutFor } from '../arch/pte';
import { L1STD, STE } from '../arch/ste';
import { ByteRange, Kho, KhoEvent, pageAddr, pagesOf, rangeText } from '../model/kho';
import type { Machine } from '../model/machine';
import type { CheckHost, Hazard } from './checker';
import { Reachability, ReachableTable } from './reach';

/** What the KHO rules need from the checker. */
export interface KhoRuleHost {
  readonly host: CheckHost;
  report(rule: string, message: string, key: string, extra?: Partial<Hazard>): void;
  /** The tables the SMMU can reach (as of before the current operation, until it moves pointers). */
  reachable(): Reachability;
  /** An entry of a reachable table, for explanations (`STE 0x5`, `CD 0x5:0`...). */
  entryText(t: ReachableTable, index: number): string;
  /** Does a change between two values of an entry matter to the SMMU? */
  significant(t: ReachableTable, index: number, addr: number, a: bigint, b: bigint): boolean;
}

const KIND: Readonly<Record<ReachableTable['kind'], string>> = {
  l1std: 'L1 stream table', ste: 'STE table', l1cd: 'L1 CD table', cd: 'CD table', pgtable: 'page table', cmdq: 'command queue', evtq: 'event queue',
};

function kindText(t: ReachableTable): string {
  return t.kind === 'pgtable' ? `stage-${t.stage} level-${t.level} page table` : KIND[t.kind];
}

/** Each page a reachable table occupies, with what it is and how the SMMU gets there. */
function reachablePages(reach: Reachability): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const t of reach.all) {
    const p = pagesOf(t.base, t.entries * t.entrySize);
    for (let pfn = p.lo; pfn < p.hi; pfn++) {
      const list = out.get(pfn) ?? [];
      list.push(`${kindText(t)} at ${hex(t.base)}, reached through ${t.path}`);
      out.set(pfn, list);
    }
  }
  return out;
}

function pageList(pages: [number, string[]][]): string {
  return pages.map(([pfn, why]) => `${hex(pageAddr(pfn))} (${why.join('; ')})`).join('; ');
}

const plural = (n: number, one: string, many = one + 's'): string => `${n} ${n === 1 ? one : many}`;

/** What a value of an entry is, decoded through the format tables. */
function readsAs(t: ReachableTable, words: readonly bigint[]): string {
  let layout: Layout | undefined;
  switch (t.kind) {
    case 'ste': layout = STE; break;
    case 'cd': layout = CD; break;
    case 'l1std': layout = L1STD; break;
    case 'pgtable': layout = pteLayoutFor(words[0], { stage: t.stage!, granule: t.granule!, level: t.level! as 0 | 1 | 2 | 3 }); break;
    default: return `${words.map((w) => hex(w)).join(' ')}`;
  }
  return decode(layout, words.slice(0, layout.words)).summary;
}

export class KhoRules {
  constructor(private readonly c: KhoRuleHost) {}

  private get m(): Machine {
    return this.c.host.machine;
  }

  private get kho(): Kho {
    return this.m.kho;
  }

  onEvent(e: KhoEvent): void {
    switch (e.kind) {
      case 'finalize':
        // kexec finalizes on the way when nothing did before it (it has already moved on to the new kernel).
        this.unpreservedReachable(this.kho.phase === 'new' ? 'at kexec' : 'at finalize');
        break;
      case 'kexec':
        this.unpreservedReachable('at kexec');
        this.handoverDirty();
        break;
      case 'overwrite':
        this.overwritten(e.overwrite.ranges, e.overwrite.byte, e.overwrite.by);
        break;
      case 'use':
        this.usedUnrestored(e.range.lo, e.range.hi, `takes over ${e.what}`);
        break;
      case 'finish':
        this.releasedReachable();
        break;
      default:
        break;
    }
  }

  /** A CPU write (a store or a bulk write) to [addr, addr+len). */
  onWrite(addr: number, len: number): void {
    const k = this.kho;
    if (k.phase === 'finalized') {
      const p = pagesOf(addr, len);
      const hit = k.preserved.within(p.lo, p.hi);
      if (hit.length) {
        const labels = [...new Set(k.recordsAt(hit[0].lo).map((r) => r.label))].join(', ');
        this.c.report('preserved-mutated', `a CPU write to ${hex(addr)} changes preserved memory (page ${hex(pageAddr(hit[0].lo))}, preserved as ${labels || 'a range'}) ` +
          'after KHO was finalized: the description was serialized and frozen at finalize, and the new kernel receives this memory as it is at ' +
          'kexec. Make the change before finalizing, or do not make it', `${pageAddr(hit[0].lo)}`);
      }
    } else if (k.phase === 'new') {
      const p = pagesOf(addr, len);
      this.usedUnrestored(p.lo, p.hi, `writes ${hex(addr)}`);
    }
  }

  /** The new kernel writes a register (before the SMMU applies it). */
  onRegister(name: string, value: bigint): void {
    if (this.kho.phase !== 'new' || name !== 'CR0') return;
    const m = this.m;
    if (!(Number(m.smmu.read('CR0ACK')) & 1) || value & 1n) return;
    const live = this.liveStreams();
    if (!live.length) return;
    const abort = (Number(m.smmu.read('GBPA')) >> 20) & 1;
    this.c.report('reset-during-handover', `the new kernel disables the SMMU (CR0.SMMUEN=0) while DMA may be live (${live.join(', ')}): ` +
      (abort ? 'with GBPA.ABORT=1 every transaction aborts, in-flight ones included (devices see errors: AER, SErrors)'
        : 'with GBPA.ABORT=0 every transaction bypasses translation, and DMA to an IOVA lands on that physical address') +
      '. A live update keeps the SMMU running: adopt it (keep SMMUEN and STRTAB_BASE) instead of resetting it', 'cr0');
  }

  /** Streams that may be doing DMA: background traffic, and every StreamID whose STE lets traffic through. */
  private liveStreams(): string[] {
    const out = new Set<string>();
    for (const tx of this.c.host.traffic()) out.add(`traffic on StreamID ${hex(tx.sid)}`);
    for (const t of this.c.reachable().all) {
      if (t.kind !== 'ste') continue;
      for (let i = 0; i < t.entries && out.size < 16; i++) {
        const w0 = this.m.load(t.base + i * 64, 8);
        // V=1 with a Config other than abort (0b000): the stream bypasses or translates.
        if ((w0 & 1n) === 1n && ((w0 >> 1n) & 7n) !== 0n) out.add(`StreamID ${hex((t.firstSid ?? 0) + i)} configured`);
      }
    }
    return [...out];
  }

  private unpreservedReachable(when: string): void {
    const k = this.kho;
    const missing = [...reachablePages(this.c.reachable())].filter(([pfn]) => !k.preserved.has(pfn)).sort((a, b) => a[0] - b[0]);
    if (!missing.length) return;
    const one = missing.length === 1;
    this.c.report('unpreserved-reachable', `${when}, ${plural(missing.length, 'page')} the SMMU can reach ${one ? 'is' : 'are'} not preserved: ` +
      `the SMMU keeps reading ${one ? 'it' : 'them'} after kexec, while the new kernel is free to reuse ${one ? 'it' : 'them'}: ${pageList(missing)}. ` +
      `Preserve ${one ? 'it' : 'them'} (kho preserve) before KHO is finalized`, 'handover');
  }

  private handoverDirty(): void {
    const m = this.m;
    if (m.platform.memory.coherent || m.platform.kexecCache === 'writeback') return;
    const reach = this.c.reachable();
    // Per entry: its granules whose CPU writes never reached PoC.
    const found = new Map<string, { path: string; granules: string[] }>();
    for (const g of m.mem.history.unsettled()) {
      if (g.path !== 'poc') continue;
      const latest = g.versions[g.versions.length - 1].value;
      const hit = reach.find(g.addr, 8)[0];
      if (!hit || !this.c.significant(hit.table, hit.index, g.addr, g.settled, latest)) continue;
      const name = this.c.entryText(hit.table, hit.index);
      const e = found.get(name) ?? { path: hit.table.path, granules: [] };
      e.granules.push(`${hex(g.addr)}: PoC holds ${hex(g.settled)}, the CPU wrote ${hex(latest)}`);
      found.set(name, e);
    }
    if (!found.size) return;
    const list = [...found].map(([name, e]) => `${name} (${e.granules.join('; ')}; reached through ${e.path})`);
    this.c.report('handover-dirty', `at kexec, ${plural(found.size, 'entry', 'entries')} the SMMU can reach ${found.size === 1 ? 'holds' : 'hold'} CPU writes that never reached PoC: ` +
      'kexec leaves the old kernel\'s dirty lines in the cache (platform kexec_cache=dirty), the new kernel does not know to clean them, and a ' +
      `non-coherent SMMU reads the old values until the lines happen to be evicted: ${list.join('; ')}. Clean them to PoC and DSB before kexec`, 'dirty');
  }

  /** The new kernel wrote over memory: pages of it the SMMU still reaches, and what it reads there now. */
  private overwritten(ranges: readonly ByteRange[], byte: number, by: 'scrub' | 'alloc'): void {
    const reach = this.c.reachable();
    const hits: string[] = [];
    for (const r of ranges) {
      for (const t of reach.overlapping(r.addr, r.len)) {
        const from = Math.max(t.base, r.addr);
        const index = Math.floor((from - t.base) / t.entrySize);
        const entry = t.base + index * t.entrySize;
        const words = Array.from({ length: t.entrySize / 8 }, (_, i) => this.m.mem.smmuReadU64(entry + i * 8));
        hits.push(`the ${kindText(t)} at ${hex(t.base)} (reached through ${t.path}): the SMMU now reads ${this.c.entryText(t, index)} ` +
          `as ${hex(words[0])}, ${readsAs(t, words)}`);
      }
    }
    if (!hits.length) return;
    const how = by === 'scrub' ? 'reused' : 'allocated';
    this.c.report('unpreserved-reachable', `the new kernel ${how} memory the SMMU still reaches and overwrote it with ${hex(byte)}: ${hits.join('; ')}. ` +
      'Its cached copies may hide this until they are invalidated or evicted; then DMA faults or goes where the garbage says. ' +
      'The old kernel had to preserve it', `overwrite:${ranges.map((r) => r.addr).join(',')}`);
  }

  private usedUnrestored(lo: number, hi: number, what: string): void {
    const k = this.kho;
    const unrestored = k.preserved.within(lo, hi).flatMap((r) => k.restored.missing(r.lo, r.hi));
    if (!unrestored.length) return;
    const labels = [...new Set(k.recordsAt(unrestored[0].lo).map((r) => r.label))].join(', ');
    this.c.report('restore-missing', `the new kernel ${what}, which is preserved memory it has not restored: ${unrestored.map(rangeText).join(', ')} ` +
      `(preserved as ${labels}). Until it is restored (kho restore) the memory is not the new kernel's: restore it before using it`, `${pageAddr(unrestored[0].lo)}`);
  }

  private releasedReachable(): void {
    const k = this.kho;
    const hit = [...reachablePages(this.c.reachable())].filter(([pfn]) => k.released.has(pfn)).sort((a, b) => a[0] - b[0]);
    if (!hit.length) return;
    this.c.report('restore-missing', `the live update finishes with ${plural(hit.length, 'preserved page')} never restored, and releases them to the new kernel's ` +
      `allocator while the SMMU still reaches them: ${pageList(hit)}. Restore them (kho restore) before finishing`, 'finish');
  }
}
