/**
 * Where is the stream table? Its place is held only in SMMU_STRTAB_BASE and
 * SMMU_STRTAB_BASE_CFG, which a crash dump does not record. This search looks through every
 * page the dump holds for what a stream table looks like, and proposes the registers:
 *
 * - 2-level: a table of level-1 descriptors (every qword zero or an L1STD: Span 1..11, the
 *   level-2 array's address aligned to its size, no bits above it), whose level-2 arrays
 *   hold valid STEs. SPLIT is taken from the largest Span (Span = SPLIT + 1 for a full
 *   array, as Linux writes every one) and must be 6, 8 or 10; LOG2SIZE from the last
 *   descriptor in use (at least SPLIT + 1).
 * - A valid STE here: V=1, a defined Config, and not one problem (not even a warning) in the
 *   STE's field table: page-table entries read as STEs always have some.
 * - linear: a run of valid STEs (V=1 with a Config the architecture defines: abort, bypass,
 *   stage 1, stage 2, nested), as the kernel writes every STE of a linear table at start,
 *   at least half of them still its initial abort or bypass STEs; LOG2SIZE from the run's
 *   length. Runs inside a found table's level-2 arrays are not proposed again.
 *
 * The search reads every page of the dump once (without keeping them), so unlike the rest of
 * the tool its cost grows with the dump: it is run only when asked for.
 */
import { L1STD, STE } from '../arch/ste';
import { rawField, requireField, validate } from '../arch/codec';
import { PAGE_SIZE } from '../model/memory';
import { DumpMemory } from './dumpMemory';
import { hex } from './source';

const SPAN = requireField(L1STD, 'Span');
const L2PTR = requireField(L1STD, 'L2Ptr');
const V = requireField(STE, 'V');
const CONFIG = requireField(STE, 'Config');
/** Config values with a meaning: abort, bypass, stage 1, stage 2, nested. */
const CONFIGS = new Set([0b000n, 0b100n, 0b101n, 0b110n, 0b111n]);
const STE_BYTES = 64;
/** The values STRTAB_BASE_CFG.SPLIT may take. */
const SPLITS = new Set([6, 8, 10]);
/** The fewest STEs in a row proposed as a linear table (a single one is too common a pattern). */
const MIN_RUN = 4;
/** Candidates reported, best first. */
const MAX_CANDIDATES = 8;

export interface StrtabCandidate {
  readonly base: number;
  readonly format: 'linear' | '2-level';
  /** SMMU_STRTAB_BASE_CFG to give: FMT [17:16], SPLIT [10:6], LOG2SIZE [5:0]. */
  readonly cfg: number;
  readonly split?: number;
  readonly log2size: number;
  /** Level-1 descriptors in use (2-level). */
  readonly l1InUse?: number;
  /** Valid STEs found, and the StreamIDs of the first of them that do not abort. */
  readonly validStes: number;
  readonly notAborting: readonly number[];
  readonly notAbortingCount: number;
}

export interface StrtabSearch {
  readonly candidates: readonly StrtabCandidate[];
  readonly pagesScanned: number;
}

const u64 = (page: Uint8Array, off: number): bigint => new DataView(page.buffer, page.byteOffset + off, 8).getBigUint64(0, true);

/**
 * The scan's quick test of a 64-byte slot, on the low 32 bits of its first qword (V and
 * Config lie there, as the STE's field table says): could it be a valid STE? The full
 * check (steConfig, validate) runs on what passes.
 */
const CONFIG_SHIFT = CONFIG.lo;
const CONFIG_MASK = 2 ** (CONFIG.hi - CONFIG.lo + 1) - 1;
const QUICK_CONFIGS = new Set([...CONFIGS].map(Number));
const mayBeSte = (v: DataView, off: number): boolean => {
  const lo = v.getUint32(off, true);
  return ((lo >>> V.lo) & 1) === 1 && QUICK_CONFIGS.has((lo >>> CONFIG_SHIFT) & CONFIG_MASK);
};

function l1Fields(q: bigint): { span: number; l2: number } | undefined {
  const span = Number(rawField(L1STD, [q], SPAN));
  if (span < 1 || span > 11) return undefined;
  const l2 = Number(rawField(L1STD, [q], L2PTR) << 6n);
  // Nothing but Span and L2Ptr, and the array aligned to its size.
  if (q >> 56n !== 0n || ((q >> 5n) & 1n) !== 0n || l2 === 0 || l2 % (2 ** (span - 1) * STE_BYTES) !== 0) return undefined;
  return { span, l2 };
}

function steConfig(q0: bigint): bigint | undefined {
  if (rawField(STE, [q0], V) !== 1n) return undefined;
  const c = rawField(STE, [q0], CONFIG);
  return CONFIGS.has(c) ? c : undefined;
}

/** One 64-byte slot: all zero, a valid STE (and whether it aborts, and whether it is one the kernel writes at start), or not an STE. */
function judgeSte(bytes: Uint8Array, at: number): 'zero' | { aborts: boolean; initial: boolean } | undefined {
  const words = Array.from({ length: 8 }, (_, k) => u64(bytes, at + k * 8));
  if (words.every((w) => w === 0n)) return 'zero';
  const config = steConfig(words[0]);
  // Not even a warning: what the kernel writes is clean, and a page-table leaf read as an STE is not.
  if (config === undefined || validate(STE, words).length > 0) return undefined;
  // What the kernel writes in every slot at start: abort or bypass with nothing else set in
  // qword 0 (qword 1 may carry the bypass attributes), the rest zero.
  const initial = (config === 0n || config === 0b100n) && words[0] >> BigInt(CONFIG.hi + 1) === 0n && words.slice(2).every((w) => w === 0n);
  return { aborts: config === 0n, initial };
}

interface SteCount {
  valid: number;
  initial: number;
  live: number[];
}

const count = (c: SteCount, j: { aborts: boolean; initial: boolean }, sid: number): void => {
  c.valid++;
  if (j.initial) c.initial++;
  if (!j.aborts) c.live.push(sid);
};

/** A level-2 array at `base`: every slot zero or a valid STE, or undefined. */
function steArray(mem: DumpMemory, base: number, n: number, firstSid: number): SteCount | undefined {
  if (mem.firstUncovered(base, n * STE_BYTES) !== undefined) return undefined;
  const bytes = mem.readBytes(base, n * STE_BYTES);
  const c: SteCount = { valid: 0, initial: 0, live: [] };
  for (let i = 0; i < n; i++) {
    const j = judgeSte(bytes, i * STE_BYTES);
    if (j === undefined) return undefined;
    if (j !== 'zero') count(c, j, firstSid + i);
  }
  return c;
}

/**
 * Linear tables in a run of slots that passed the quick test: each stretch of valid STEs
 * (what is not one ends it) of MIN_RUN or more, as a table of 2^LOG2SIZE STEs (the
 * stretch rounded down: what follows may be other data) whose STEs are at least half the
 * kernel's initial ones: a run of page-table block descriptors can read as valid "abort"
 * STEs, but never as those.
 */
function linearTables(mem: DumpMemory, run: { base: number; count: number }): { base: number; log2size: number; c: SteCount }[] {
  const bytes = mem.readBytes(run.base, run.count * STE_BYTES);
  // Each slot judged once (validate is the costly part); a zero slot or a non-STE ends a stretch.
  const judged = Array.from({ length: run.count }, (_, k) => judgeSte(bytes, k * STE_BYTES));
  const out: { base: number; log2size: number; c: SteCount }[] = [];
  for (let i = 0; i < run.count;) {
    let j = i;
    while (j < run.count && typeof judged[j] === 'object') j++;
    if (j - i >= MIN_RUN) {
      const log2size = Math.floor(Math.log2(j - i));
      const c: SteCount = { valid: 0, initial: 0, live: [] };
      for (let k = 0; k < 2 ** log2size; k++) count(c, judged[i + k] as { aborts: boolean; initial: boolean }, k);
      if (c.initial * 2 >= c.valid) out.push({ base: run.base + i * STE_BYTES, log2size, c });
    }
    i = Math.max(j, i + 1);
  }
  return out;
}

const log2ceil = (n: number): number => Math.max(0, Math.ceil(Math.log2(n)));

/** Every page the dump holds, in order, each read once and not kept. */
export function findStreamTables(mem: DumpMemory): StrtabSearch {
  const l1Runs: { base: number; qwords: bigint[] }[] = [];
  const steRuns: { base: number; count: number }[] = [];
  let pages = 0;
  let l1: { base: number; qwords: bigint[] } | undefined;
  let run: { base: number; count: number } | undefined;
  for (const pfn of mem.dataPages()) {
    const page = mem.page(pfn, false);
    pages++;
    const at = pfn * PAGE_SIZE;
    const v = page && new DataView(page.buffer, page.byteOffset, PAGE_SIZE);
    // Level-1 tables: pages of nothing but zeros and L1STDs, continuing over contiguous pages.
    let l1Like = v !== undefined;
    let any = false;
    for (let off = 0; v && off < PAGE_SIZE && l1Like; off += 8) {
      if (v.getUint32(off, true) === 0 && v.getUint32(off + 4, true) === 0) continue;
      if (l1Fields(v.getBigUint64(off, true))) any = true;
      else l1Like = false;
    }
    const qwords = l1Like && any ? Array.from({ length: PAGE_SIZE / 8 }, (_, k) => u64(page!, k * 8)) : undefined;
    if (qwords && l1 && l1.base + l1.qwords.length * 8 === at) l1.qwords.push(...qwords);
    else if (qwords) l1Runs.push(l1 = { base: at, qwords });
    else l1 = undefined;
    // Runs of valid STEs (every 64-byte slot V=1 with a defined Config), over contiguous pages.
    for (let off = 0; off < PAGE_SIZE; off += STE_BYTES) {
      const ok = v !== undefined && mayBeSte(v, off) && steConfig(v.getBigUint64(off, true)) !== undefined;
      if (ok && run && run.base + run.count * STE_BYTES === at + off) run.count++;
      else if (ok) steRuns.push(run = { base: at + off, count: 1 });
      else run = undefined;
    }
  }
  const found: StrtabCandidate[] = [];
  const inL2: [number, number][] = [];
  for (const r of l1Runs) {
    const used = r.qwords.map((q, i) => ({ i, d: q === 0n ? undefined : l1Fields(q) })).filter((x) => x.d !== undefined);
    // A loop, not Math.max(...): a run of L1-like pages can hold more descriptors than a call takes arguments.
    const split = used.reduce((m, x) => Math.max(m, x.d!.span), 0) - 1;
    // SPLIT can only be 6, 8 or 10 (the others are reserved); table descriptors of a page table read as Span 3.
    if (!SPLITS.has(split)) continue;
    let validStes = 0;
    const live: number[] = [];
    let good = 0;
    for (const { i, d } of used) {
      const n = 2 ** (d!.span - 1);
      const a = steArray(mem, d!.l2, n, i * 2 ** split);
      if (!a || a.valid === 0) continue;
      good++;
      validStes += a.valid;
      live.push(...a.live);
      inL2.push([d!.l2, d!.l2 + n * STE_BYTES]);
    }
    if (good === 0) continue;
    const last = used[used.length - 1].i;
    // At least two level-1 descriptors: with LOG2SIZE = SPLIT one would cover every StreamID (a linear table's job).
    const log2size = split + Math.max(1, log2ceil(last + 1));
    found.push({
      base: r.base, format: '2-level', split, log2size, cfg: (1 << 16) | (split << 6) | log2size,
      l1InUse: used.length, validStes, notAborting: live.slice(0, 8), notAbortingCount: live.length,
    });
  }
  for (const r of steRuns) {
    if (r.count < MIN_RUN) continue;
    for (const t of linearTables(mem, r)) {
      if (inL2.some(([lo, hi]) => t.base >= lo && t.base < hi)) continue;
      found.push({ base: t.base, format: 'linear', log2size: t.log2size, cfg: t.log2size, validStes: t.c.valid, notAborting: t.c.live.slice(0, 8), notAbortingCount: t.c.live.length });
    }
  }
  // The most evidence first: valid STEs, then streams that translate.
  found.sort((a, b) => b.validStes - a.validStes || b.notAbortingCount - a.notAbortingCount);
  return { candidates: found.slice(0, MAX_CANDIDATES), pagesScanned: pages };
}

/** The search as text: each candidate with the options that inspect it. */
export function strtabSearchText(s: StrtabSearch): string {
  if (!s.candidates.length) {
    return `no stream table found in the ${s.pagesScanned} pages of the dump: it may be in memory the dump left out, ` +
      'or the SMMU was not set up; give --strtab-base and --strtab-base-cfg read from the SMMU';
  }
  const lines = [`stream table candidates (${s.pagesScanned} pages of the dump searched), the most likely first:`];
  s.candidates.forEach((c, n) => {
    const what = c.format === '2-level'
      ? `2-level at ${hex(c.base)}: ${c.l1InUse} level-1 descriptor${c.l1InUse === 1 ? '' : 's'} in use, SPLIT ${c.split} (from their Span)`
      : `linear at ${hex(c.base)}: ${2 ** c.log2size} STEs in a row`;
    const live = c.notAbortingCount ? `, ${c.notAbortingCount} not aborting: ${c.notAborting.map((x) => hex(x)).join(', ')}${c.notAbortingCount > c.notAborting.length ? ', …' : ''}` : '';
    lines.push(`  ${n + 1}. ${what}; ${c.validStes} valid STE${c.validStes === 1 ? '' : 's'}${live}`);
    lines.push(`     --strtab-base ${hex(c.base)} --strtab-base-cfg ${hex(c.cfg)}  (LOG2SIZE ${c.log2size}: the least that covers what is in use${c.format === '2-level' ? ' in two or more level-1 descriptors' : ''})`);
  });
  return lines.join('\n');
}
