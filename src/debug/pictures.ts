/**
 * Structured data for the extension's pictures, answered as custom DAP requests: the walk
 * of one address for one stream (what the SMMU would do now with its caches, and fetched
 * afresh from memory as it sees it), and the CPU's dirty cache lines byte by byte. The
 * Variables tree carries the same facts as text; these carry them as data to draw.
 */
import { decode, hex } from '../arch/codec';
import { CD, L1CD } from '../arch/cd';
import { Granule, Layout } from '../arch/field';
import { pteLayoutFor } from '../arch/pte';
import { L1STD, STE } from '../arch/ste';
import type { Machine } from '../model/machine';
import { PAGE_SIZE } from '../model/memory';
import type { ConfigStep, TranslateResult } from '../model/smmu/smmu';
import type { Transaction, WalkStep } from '../model/smmu/types';

/** One box of the walk picture. */
export interface WalkBox {
  /** What the entry is: 'STE', 'CD', 'L1STD', 'L1CD', 'S1 L3', 'TLB', ... */
  readonly kind: string;
  readonly addr?: string;
  readonly words: readonly string[];
  /** One line of what the entry does, from the field tables. */
  readonly summary: string;
  /** Where this read came from: the SMMU's configuration cache, its walk cache or TLB, or memory (PoC, or snooped). */
  readonly source: 'config cache' | 'walk cache' | 'TLB' | 'memory';
  /**
   * stale: a cached copy that memory no longer holds; dirty: the CPU's cache holds other bytes
   * than the SMMU reads (a non-coherent SMMU reads PoC); pending: CPU writes the SMMU may or may
   * not see yet (no barrier/clean completed); preserved / unpreserved: whether its page
   * survives a kexec (shown once the scenario preserves anything).
   */
  readonly states: readonly ('stale' | 'dirty' | 'pending' | 'preserved' | 'unpreserved')[];
  /** Fields worth showing in the box, name → value text. */
  readonly fields: readonly { readonly name: string; readonly value: string }[];
}

export interface WalkPicture {
  readonly transaction: string;
  readonly outcome: string;
  readonly boxes: readonly WalkBox[];
}

export interface WalkPictures {
  /** What the SMMU would do now, using whatever it has cached. */
  readonly now: WalkPicture;
  /** What it would do fetching everything afresh (after an invalidation of everything). */
  readonly fresh: WalkPicture;
  /** The two differ: a cached STE, CD or translation no longer matches memory. */
  readonly differ: boolean;
}

const CONFIG_LAYOUTS: Record<ConfigStep['what'], Layout> = { l1std: L1STD, ste: STE, l1cd: L1CD, cd: CD };

function wordsAt(m: Machine, addr: number, n: number, view: 'cpu' | 'smmu'): bigint[] {
  const bytes = view === 'cpu' ? m.mem.cpuRead(addr, n * 8) : m.mem.smmuRead(addr, n * 8);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    let w = 0n;
    for (let b = 7; b >= 0; b--) w = (w << 8n) | BigInt(bytes[i * 8 + b]);
    out.push(w);
  }
  return out;
}

function statesOf(m: Machine, addr: number, words: readonly bigint[], cached: boolean): WalkBox['states'] {
  const n = words.length;
  const smmu = wordsAt(m, addr, n, 'smmu');
  const cpu = wordsAt(m, addr, n, 'cpu');
  const out: WalkBox['states'][number][] = [];
  // Live update: whether the page survives a kexec (only once something was preserved).
  if (!m.kho.preserved.empty) out.push(m.kho.pageState(Math.floor(addr / PAGE_SIZE)) === 'unpreserved' ? 'unpreserved' : 'preserved');
  if (cached && smmu.some((w, i) => w !== words[i])) out.push('stale');
  if (cpu.some((w, i) => w !== smmu[i])) out.push('dirty');
  for (let i = 0; i < n; i++) {
    const h = m.mem.history.get(addr + i * 8);
    if (h && h.versions.length > 0) {
      out.push('pending');
      break;
    }
  }
  return out;
}

function keyFields(layout: Layout, words: readonly bigint[], m: Machine): WalkBox['fields'] {
  const d = decode(layout, words, m.smmu.ctx);
  return d.fields.filter((f) => f.relevant && f.spec.kind !== 'reserved' && f.value !== 0n).slice(0, 12)
    .map((f) => ({ name: f.spec.name, value: f.text }));
}

function configBox(m: Machine, c: ConfigStep): WalkBox {
  const layout = CONFIG_LAYOUTS[c.what];
  return {
    kind: c.what.toUpperCase(), addr: hex(c.addr), words: c.words.map((w) => hex(w, 16)),
    summary: decode(layout, c.words, m.smmu.ctx).summary,
    source: c.source === 'cache' ? 'config cache' : 'memory',
    states: statesOf(m, c.addr, c.words, c.source === 'cache'),
    fields: keyFields(layout, c.words, m),
  };
}

function walkBox(m: Machine, w: WalkStep): WalkBox {
  const granule = ((w as { granule?: Granule }).granule ?? 4096) as Granule;
  const layout = pteLayoutFor(w.desc, { stage: w.stage, granule, level: w.level });
  return {
    kind: `S${w.stage} L${w.level}${w.forTable ? ' (table address)' : ''}`, addr: hex(w.descAddr), words: [hex(w.desc, 16)],
    summary: `${w.type}: ${decode(layout, [w.desc], m.smmu.ctx).summary}`,
    source: w.source === 'walk-cache' ? 'walk cache' : 'memory',
    states: statesOf(m, w.descAddr, [w.desc], w.source === 'walk-cache'),
    fields: keyFields(layout, [w.desc], m),
  };
}

export function outcomeText(r: TranslateResult): string {
  if (r.outcome === 'fault') return `${r.event?.name ?? 'fault'}: ${r.reason}`;
  if (r.outcome === 'abort') return `abort: ${r.reason}`;
  return `${r.outcome === 'bypass' ? 'bypass' : 'translated'} → ${hex(r.pa!)}`;
}

function picture(m: Machine, tx: Transaction, r: TranslateResult): WalkPicture {
  const boxes = [...r.config.map((c) => configBox(m, c))];
  if (r.tlbHit) {
    const t = r.translation;
    boxes.push({
      kind: 'TLB', words: [], source: 'TLB', states: [], fields: [],
      summary: t ? `hit: ${hex(tx.iova)} → ${hex(r.pa ?? 0)}` : 'hit',
    });
  }
  boxes.push(...r.walk.map((w) => walkBox(m, w)));
  return {
    transaction: `${tx.access} SID ${hex(tx.sid)}${tx.ssid !== undefined ? ` SSID ${hex(tx.ssid)}` : ''} IOVA ${hex(tx.iova)}`,
    outcome: outcomeText(r), boxes,
  };
}

/** Both pictures of one transaction; neither records an event or fills a cache. */
export function walkPictures(m: Machine, tx: Transaction): WalkPictures {
  const now = m.smmu.probe(tx, new Map(), true);
  const fresh = m.smmu.probe(tx, new Map(), false);
  return {
    now: picture(m, tx, now), fresh: picture(m, tx, fresh),
    differ: now.outcome !== fresh.outcome || now.pa !== fresh.pa || now.event?.name !== fresh.event?.name,
  };
}

/** A dirty CPU cache line: its bytes in the CPU's view and at PoC. */
export interface CacheLineData {
  readonly base: string;
  readonly cpu: readonly number[];
  readonly poc: readonly number[];
  /** Indices of bytes the CPU wrote that were not written back. */
  readonly dirty: readonly number[];
}

/** Dirty lines the Cache Lines view asks for at once, unless it asks for fewer. */
export const CACHE_LINES_PAGE = 256;

/**
 * The dirty lines from `start`, at most `count`, and how many there are: a memset of
 * cacheable memory leaves one per 64 bytes written, more than a view can show.
 */
export function cacheLines(m: Machine, start = 0, count = CACHE_LINES_PAGE): { lines: CacheLineData[]; total: number } {
  const all = m.mem.dirtyLines();
  return {
    total: all.length,
    lines: all.slice(start, start + Math.min(count, CACHE_LINES_PAGE)).map((l) => ({
      base: hex(l.base),
      cpu: [...l.data],
      poc: [...m.mem.pocRead(l.base, l.data.length)],
      dirty: [...l.dirty].flatMap((d, i) => (d ? [i] : [])),
    })),
  };
}
