/**
 * The values of an entry the SMMU could read now, per 8-byte granule and then across the
 * entry's granules (any combination, except what barrier order forbids). The count is
 * bounded: past the bound the set is marked truncated, never silently cut.
 *
 * A granule the SMMU sees directly (coherent, or non-cacheable memory) shows CPU stores as
 * they become visible: each store — or each part of a store that may tear — is a write of
 * its own, and without a barrier writes to different bytes may become visible in any
 * order. A value is the oldest one with any set of those writes applied that respects
 *  - single-copy atomicity: an atomic store's bytes appear together;
 *  - coherence: a write is not seen without the earlier writes to the same bytes;
 *  - barriers: a write is not seen without every write ordered before it by a barrier
 *    (within the granule and, across the entry's direct granules, in the final check).
 * A granule a non-coherent SMMU reads from PoC shows whatever line state the hardware
 * wrote back, at any time and with no order: the oldest value, each version, the
 * half-written states of a store that may tear; with a write-back granule under 8 bytes,
 * each write-back unit independently.
 */
import { GRANULE, GranuleHistory } from '../model/history';
import type { MemorySystem } from '../model/memsys';

interface Candidate {
  readonly value: bigint;
  /** Latest barrier epoch among the writes this value shows (-1: none, or no order applies). */
  readonly epoch: number;
  /** Earliest barrier epoch among the writes it does not show yet (Infinity: it shows them all). */
  readonly missing: number;
  /** How far along the granule's history it is: 0 for the oldest value (for ordering only). */
  readonly pos: number;
}

export interface ObservableSet {
  /** Each value: one qword per granule of the entry. The first is what the SMMU reads in this run. */
  readonly values: readonly (readonly bigint[])[];
  /** The entry's oldest observable value (before the pending stores) and the CPU's current one. */
  readonly oldest: readonly bigint[];
  readonly newest: readonly bigint[];
  /** More combinations existed than the bound allowed. */
  readonly truncated: boolean;
  /** How many distinct values there were (when truncated, a lower bound). */
  readonly count: number;
}

/** Intermediate values of a store that becomes visible in `unit`-byte parts, in any order. */
export function torn(before: bigint, after: bigint, unit: number): bigint[] {
  const parts: bigint[] = [];
  const partMask = (1n << BigInt(unit * 8)) - 1n;
  for (let off = 0; off < GRANULE; off += unit) {
    const m = partMask << BigInt(off * 8);
    if ((before & m) !== (after & m)) parts.push(m);
  }
  if (parts.length < 2) return [];
  const out: bigint[] = [];
  // Every non-empty, non-full subset of the changed parts shows the new bytes.
  for (let s = 1; s < (1 << parts.length) - 1; s++) {
    let v = before;
    parts.forEach((m, i) => {
      if (s & (1 << i)) v = (v & ~m) | (after & m);
    });
    out.push(v);
  }
  return out;
}

/** One write the SMMU may see on its own: a store, or a part of a store that may tear. */
interface Write {
  /** Bit mask of the bytes written. */
  readonly bytes: bigint;
  /** The written bytes, in place. */
  readonly value: bigint;
  readonly epoch: number;
}

function writesOf(h: GranuleHistory): Write[] {
  const out: Write[] = [];
  let prev = h.settled;
  for (const v of h.versions) {
    const unitMask = (1n << BigInt(v.unit * 8)) - 1n;
    const chunks: bigint[] = [];
    for (let off = 0; off < GRANULE; off += v.unit) {
      const m = (unitMask << BigInt(off * 8)) & v.mask;
      if (m !== 0n) chunks.push(m);
    }
    if (chunks.length <= 1) {
      // Single-copy atomic: all its bytes at once (even those it leaves unchanged).
      out.push({ bytes: v.mask, value: v.value & v.mask, epoch: v.epoch });
    } else {
      // A part that rewrites the bytes already there is invisible: leave it out.
      for (const m of chunks) if ((prev & m) !== (v.value & m)) out.push({ bytes: m, value: v.value & m, epoch: v.epoch });
    }
    prev = v.value;
  }
  return out;
}

/** A granule's candidates: at most the bound's worth of distinct values, and how many there are (a lower bound when truncated). */
interface Candidates {
  readonly list: Candidate[];
  readonly truncated: boolean;
  readonly count: number;
}

/** A state of the walk over a granule's writes: a candidate and the bytes of the writes it skipped. */
type State = Candidate & { readonly skipped: bigint };

/**
 * A directly seen granule: every coherent, barrier-respecting subset of its writes. The
 * writes are taken one at a time, keeping the distinct states only, so the work follows the
 * number of distinct values rather than the 2^n subsets. A state's value is also a final
 * value (every later write may be not seen yet), so once the states hold more distinct
 * values than the bound, the granule has more: the rest of the writes are then skipped.
 */
function directCandidates(h: GranuleHistory, limit: number): Candidates {
  const writes = writesOf(h);
  let states: State[] = [{ value: h.settled, epoch: -1, missing: Infinity, pos: 0, skipped: 0n }];
  let truncated = false;
  let count = 1;
  for (const w of writes) {
    const next = new Map<string, State>();
    const add = (s: State): void => {
      const key = `${s.value}:${s.epoch}:${s.missing}:${s.skipped}`;
      if (!next.has(key)) next.set(key, s);
    };
    for (const s of states) {
      // Seen: only with every earlier write to the same bytes and every write ordered before it.
      if (!truncated && (s.skipped & w.bytes) === 0n && s.missing >= w.epoch) {
        add({ value: (s.value & ~w.bytes) | w.value, epoch: Math.max(s.epoch, w.epoch), missing: s.missing, skipped: s.skipped, pos: s.pos + 1 });
      }
      // Not seen yet.
      add({ ...s, missing: Math.min(s.missing, w.epoch), skipped: s.skipped | w.bytes });
    }
    states = [...next.values()];
    const distinct = new Set(states.map((s) => s.value));
    if (!truncated && distinct.size > limit) {
      truncated = true;
      count = distinct.size;
      const kept = new Set([...distinct].slice(0, limit));
      states = states.filter((s) => kept.has(s.value));
    }
  }
  // Which bytes were skipped no longer matters: one candidate per value and order.
  const list = new Map<string, Candidate>();
  for (const s of states) {
    const key = `${s.value}:${s.epoch}:${s.missing}`;
    if (!list.has(key)) list.set(key, { value: s.value, epoch: s.epoch, missing: s.missing, pos: s.pos });
  }
  if (!truncated) count = new Set(states.map((s) => s.value)).size;
  return { list: [...list.values()], truncated, count };
}

/**
 * A granule read from PoC: the line states the hardware may have written back, in
 * write-back units. With units under 8 bytes each unit holds any value it ever had, so the
 * values are a product; it is counted, and only the bound's worth is made.
 */
function pocCandidates(h: GranuleHistory, writebackGranule: number, limit: number): Candidates {
  const states: bigint[] = [h.settled];
  let prev = h.settled;
  for (const v of h.versions) {
    states.push(...torn(prev, v.value, v.unit), v.value);
    prev = v.value;
  }
  // Oldest first, in the order the line went through them; combinations after.
  const order = new Map<bigint, number>();
  states.forEach((s, i) => {
    if (!order.has(s)) order.set(s, i);
  });
  const values = new Set<bigint>();
  let count = order.size;
  for (const s of order.keys()) if (values.size < limit) values.add(s);
  if (writebackGranule < GRANULE) {
    // Each write-back unit of PoC holds any value the line ever had there, independently.
    const unitMask = (1n << BigInt(writebackGranule * 8)) - 1n;
    const parts: bigint[][] = [];
    for (let off = 0; off < GRANULE; off += writebackGranule) {
      const m = unitMask << BigInt(off * 8);
      parts.push([...new Set(states.map((s) => s & m))]);
    }
    // Distinct parts of disjoint units: every combination is a distinct value.
    count = parts.reduce((n, p) => n * p.length, 1);
    const digit = parts.map(() => 0);
    while (values.size < Math.min(limit, count)) {
      values.add(parts.reduce((v, p, u) => v | p[digit[u]], 0n));
      let u = 0;
      while (u < digit.length && ++digit[u] === parts[u].length) digit[u++] = 0;
      if (u === digit.length) break;
    }
  }
  const list = [...values].map((value) => ({ value, epoch: -1, missing: Infinity, pos: order.get(value) ?? states.length }));
  return { list, truncated: count > limit, count };
}

export function observable(mem: MemorySystem, addr: number, qwords: number, bound = 4096): ObservableSet {
  const direct: boolean[] = [];
  const lists: Candidate[][] = [];
  const oldest: bigint[] = [];
  const newest: bigint[] = [];
  let truncated = false;
  // A lower bound on the number of distinct values: each granule's values each extend to a value of the entry.
  let least = 1;
  for (let i = 0; i < qwords; i++) {
    const a = addr + i * GRANULE;
    const h = mem.history.get(a);
    const now = mem.smmuReadU64(a);
    newest.push(mem.cpuLoad(a, 8));
    direct.push(h?.path === 'direct');
    if (!h) {
      oldest.push(now);
      lists.push([{ value: now, epoch: -1, missing: Infinity, pos: 0 }]);
      continue;
    }
    oldest.push(h.settled);
    const d = h.path === 'direct' ? directCandidates(h, bound) : pocCandidates(h, mem.config.writebackGranule, bound);
    const c = d.list;
    // Versions the history dropped (its own bound) were values the SMMU could still read.
    truncated ||= d.truncated || h.truncated;
    least = Math.max(least, d.count);
    // What this run's SMMU reads comes first (for a direct granule: with every write seen), so
    // values[0] is the deterministic view; then from the oldest on.
    const rank = (x: Candidate): number => (x.value === now ? (h.path === 'direct' ? -x.pos : x.pos) - 1e9 : x.pos);
    c.sort((x, y) => rank(x) - rank(y));
    lists.push(c);
  }
  const values: bigint[][] = [];
  const found = new Set<string>();
  const chosen: Candidate[] = [];
  let cut = false;
  const visit = (i: number): void => {
    if (cut) return;
    if (i === qwords) {
      // Barrier order across the entry: a direct granule shows every write ordered before the newest write seen.
      let maxEpoch = -1;
      chosen.forEach((c, k) => {
        if (direct[k] && c.epoch > maxEpoch) maxEpoch = c.epoch;
      });
      for (let k = 0; k < qwords; k++) if (direct[k] && chosen[k].missing < maxEpoch) return;
      const key = chosen.map((c) => c.value.toString(16)).join(':');
      if (found.has(key)) return;
      if (values.length >= bound) {
        cut = true;
        return;
      }
      found.add(key);
      values.push(chosen.map((c) => c.value));
      return;
    }
    for (const c of lists[i]) {
      chosen[i] = c;
      visit(i + 1);
    }
  };
  visit(0);
  truncated ||= cut;
  return { values, oldest, newest, truncated, count: Math.max(least, values.length + (truncated ? 1 : 0)) };
}

/** Whether an entry has anything pending (more than one observable value possible). */
export function pending(mem: MemorySystem, addr: number, qwords: number): boolean {
  for (let i = 0; i < qwords; i++) if (mem.history.get(addr + i * GRANULE)) return true;
  return false;
}
