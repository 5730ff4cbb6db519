/**
 * The values of an entry the SMMU could read now. Per 8-byte granule: the oldest value it
 * can still read, each later version, and the half-written states of a store that may
 * tear; across the entry's granules: any combination, except that a store ordered after
 * another by a barrier is not seen without it (for stores the SMMU sees directly; dirty
 * lines reaching PoC by write-back have no order). The count is bounded: past the bound
 * the set is marked truncated, never silently cut.
 */
import { GRANULE, GranuleHistory, Version } from '../model/history';
import type { MemorySystem } from '../model/memsys';

interface Candidate {
  readonly value: bigint;
  /** Barrier epoch of the version (settled values: -1). */
  readonly epoch: number;
  /** Position in the granule's history: 0 settled, k for version k, k-0.5 for a half-written version k. */
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
  /** How many combinations there were (when truncated, a lower bound). */
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

function candidates(h: GranuleHistory): Candidate[] {
  const out: Candidate[] = [{ value: h.settled, epoch: -1, pos: 0 }];
  let prev = h.settled;
  h.versions.forEach((v: Version, i) => {
    for (const t of torn(prev, v.value, v.unit)) out.push({ value: t, epoch: v.epoch, pos: i + 0.5 });
    out.push({ value: v.value, epoch: v.epoch, pos: i + 1 });
    prev = v.value;
  });
  // The same value reached twice counts once (the earliest position, which is the least constrained).
  const seen = new Map<bigint, Candidate>();
  for (const c of out) if (!seen.has(c.value)) seen.set(c.value, c);
  return [...seen.values()];
}

/** For an ordered (direct) granule: the position a reader must have reached once it saw a store of `epoch`. */
function floorFor(h: GranuleHistory, epoch: number): number {
  let pos = 0;
  h.versions.forEach((v, i) => {
    if (v.epoch < epoch) pos = i + 1;
  });
  return pos;
}

export function observable(mem: MemorySystem, addr: number, qwords: number, bound = 4096): ObservableSet {
  const histories: (GranuleHistory | undefined)[] = [];
  const lists: Candidate[][] = [];
  const current: bigint[] = [];
  const oldest: bigint[] = [];
  const newest: bigint[] = [];
  for (let i = 0; i < qwords; i++) {
    const a = addr + i * GRANULE;
    const h = mem.history.get(a);
    histories.push(h);
    const now = mem.smmuReadU64(a);
    current.push(now);
    const cpu = mem.cpuLoad(a, 8);
    newest.push(cpu);
    if (!h) {
      oldest.push(now);
      lists.push([{ value: now, epoch: -1, pos: 0 }]);
      continue;
    }
    oldest.push(h.settled);
    const c = candidates(h);
    // What this run's SMMU reads comes first, so values[0] is the deterministic view.
    c.sort((x, y) => (x.value === now ? -1 : y.value === now ? 1 : x.pos - y.pos));
    lists.push(c);
  }
  const values: bigint[][] = [];
  let count = 0;
  let truncated = false;
  const chosen: Candidate[] = [];
  const visit = (i: number): void => {
    if (truncated) return;
    if (i === qwords) {
      // Barrier order: a direct granule must show every store ordered before the newest store seen.
      let maxEpoch = -1;
      chosen.forEach((c, k) => {
        if (histories[k]?.path === 'direct' && c.epoch > maxEpoch) maxEpoch = c.epoch;
      });
      for (let k = 0; k < qwords; k++) {
        const h = histories[k];
        if (h?.path === 'direct' && chosen[k].pos < floorFor(h, maxEpoch)) return;
      }
      count++;
      if (values.length >= bound) {
        truncated = true;
        return;
      }
      values.push(chosen.map((c) => c.value));
      return;
    }
    for (const c of lists[i]) {
      chosen[i] = c;
      visit(i + 1);
    }
  };
  visit(0);
  return { values, oldest, newest, truncated, count };
}

/** Whether an entry has anything pending (more than one observable value possible). */
export function pending(mem: MemorySystem, addr: number, qwords: number): boolean {
  for (let i = 0; i < qwords; i++) if (mem.history.get(addr + i * GRANULE)) return true;
  return false;
}
