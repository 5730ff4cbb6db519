/**
 * The machine as a tree of variables, built lazily from the current state: registers, the
 * stream table down to page-table entries, memory regions, the CPU's dirty cache lines,
 * the SMMU's caches, the queues, what the SMMU could read of pending entries, hazards and
 * the last walk. Big tables are paged (indexed children, fetched by start/count), so the
 * cost of a view does not grow with the size of a table. Every decoded entry carries a
 * memory reference to its bytes (`cpu:0x…` and, in its children, `poc:0x…`).
 */
import { decode, Decoded, DecodedField, fieldValue, hex, requireField } from '../arch/codec';
import { CD, L1CD } from '../arch/cd';
import { commandLayoutFor } from '../arch/commands';
import { eventLayoutFor } from '../arch/events';
import { Granule, Layout } from '../arch/field';
import { descriptorType, levelGeometry, outputAddress, pteLayoutFor, startLevel } from '../arch/pte';
import { REGISTERS } from '../arch/registers';
import { L1STD, STE } from '../arch/ste';
import { observable } from '../check/observable';
import type { Hazard } from '../check/checker';
import type { Line } from '../model/cache';
import type { Machine } from '../model/machine';
import { PAGE_SIZE } from '../model/memory';
import { read64, streamTable, View } from '../model/locate';
import { MAX_PHYS_ADDR } from '../model/memory';
import { khoVars } from './khoView';
import type { TranslateResult } from '../model/smmu/smmu';

/** A variable as DAP shows it, with a way to get its children. */
export interface Var {
  readonly name: string;
  readonly value: string;
  readonly type?: string;
  readonly memoryReference?: string;
  readonly evaluateName?: string;
  /** Children, lazily; `indexed` makes them paged. */
  readonly children?: Children;
  readonly hint?: 'readOnly' | 'data' | 'property' | 'class';
  /** A decoded field by name or alias, shown or not (for `ste[5].s1ctxptr`). */
  readonly field?: (name: string) => Var | undefined;
}

export interface Children {
  /** Indexed (paged) children: how many. */
  readonly indexed?: number;
  /** The children in [start, start+count) (indexed), or all (named). */
  get(start: number, count: number): Var[];
}

/** Everything the tree is built from. */
export interface Scope {
  readonly machine: Machine;
  readonly hazards: readonly Hazard[];
  readonly lastTranslation?: { readonly tx: string; readonly result: TranslateResult };
}

export const memRef = (view: View | 'poc', addr: number): string => `${view}:${hex(addr)}`;

const named = (vars: () => Var[]): Children => ({ get: () => vars() });

/** `f`, computed on the first call only. */
function once<T>(f: () => T): () => T {
  let done: { value: T } | undefined;
  return () => (done ??= { value: f() }).value;
}

/** A little-endian qword at the Point of Coherency. */
export function pocRead64(m: Machine, addr: number): bigint {
  return m.mem.pocRead(addr, 8).reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

function words(m: Machine, addr: number, n: number, view: View): bigint[] {
  return Array.from({ length: n }, (_, i) => read64(m, addr + 8 * i, view));
}

function fieldVar(f: DecodedField, evalBase?: string): Var {
  return {
    name: f.spec.name, value: f.relevant ? f.text : `${f.text} (ignored)`, type: f.spec.meaning,
    evaluateName: evalBase ? `${evalBase}.${f.spec.name}` : undefined, hint: 'property',
  };
}

/** Look a field of a decoded structure up by name or alias. */
function fieldLookup(d: Decoded, evalBase?: string): (name: string) => Var | undefined {
  return (name) => {
    const f = d.field(name);
    return f && fieldVar(f, evalBase);
  };
}

/** The fields of a decoded structure, then its raw words. */
function fieldVars(d: Decoded, evalBase?: string, addr?: number): Var[] {
  const out: Var[] = [];
  for (const f of d.fields) {
    if (f.spec.kind === 'reserved' && f.raw === 0n) continue;
    if (!f.relevant && f.raw === 0n) continue;
    out.push(fieldVar(f, evalBase));
  }
  out.push({
    name: 'words', value: d.words.map((w) => hex(w, d.layout.wordBits / 4)).join(' '), hint: 'data',
    memoryReference: addr !== undefined ? memRef('cpu', addr) : undefined,
    children: addr === undefined ? undefined : named(() => d.words.map((w, i) => ({
      name: `${d.layout.wordBits === 64 ? 'qword' : 'word'} ${i}`, value: hex(w, d.layout.wordBits / 4), memoryReference: memRef('cpu', addr + i * 8),
    }))),
  });
  for (const p of d.problems) out.push({ name: `⚠ ${p.field ?? p.rule}`, value: `${p.severity}: ${p.message}`, hint: 'readOnly' });
  return out;
}

/** An entry's words at the Point of Coherency: the second memory reference of its address. */
function pocVar(m: Machine, addr: number, cpu: readonly bigint[]): Var {
  const poc = cpu.map((_, i) => pocRead64(m, addr + 8 * i));
  const differs = poc.some((w, i) => w !== cpu[i]);
  return {
    name: 'words at PoC', value: differs ? poc.map((w) => hex(w, 16)).join(' ') : 'the same as the CPU sees', hint: 'data',
    memoryReference: memRef('poc', addr),
    children: named(() => poc.map((w, i) => ({
      name: `qword ${i}`, value: `${hex(w, 16)}${w !== cpu[i] ? `  (CPU: ${hex(cpu[i], 16)})` : ''}`, memoryReference: memRef('poc', addr + i * 8),
    }))),
  };
}

/** A decoded entry: both views when they differ, its fields, and what else it leads to. */
function entryVar(m: Machine, name: string, layout: Layout, addr: number, evalName: string | undefined,
  more: (d: Decoded) => Var[] = () => []): Var {
  // A garbage pointer (memory a new kernel reused, say) leads outside memory: nothing to read there.
  if (!inMemory(addr, layout.words * 8)) return outside(name, addr);
  const cpu = words(m, addr, layout.words, 'cpu');
  const smmu = words(m, addr, layout.words, 'smmu');
  const d = decode(layout, cpu, m.smmu.ctx);
  const differs = cpu.some((w, i) => w !== smmu[i]);
  return {
    name, value: `${d.summary}${differs ? '  ⟂ the SMMU reads different bytes' : ''}`, type: layout.title, evaluateName: evalName,
    memoryReference: memRef('cpu', addr), field: fieldLookup(d, evalName),
    children: named(() => {
      const vars = fieldVars(d, evalName, addr);
      vars.splice(vars.findIndex((v) => v.name === 'words') + 1, 0, pocVar(m, addr, cpu));
      if (differs) {
        const ds = decode(layout, smmu, m.smmu.ctx);
        vars.unshift({
          name: 'as the SMMU reads it', value: ds.summary, memoryReference: memRef('smmu', addr),
          children: named(() => fieldVars(ds, undefined, undefined)),
        });
      }
      vars.push(...more(d));
      return vars;
    }),
  };
}

const inMemory = (addr: number, len: number): boolean => addr >= 0 && addr + len <= MAX_PHYS_ADDR;

function outside(name: string, addr: number): Var {
  return { name, value: `at ${hex(addr)}: beyond the physical address space (the SMMU's fetch fails)`, hint: 'readOnly' };
}

// ---- page tables -----------------------------------------------------------------------------

interface TableGeometry {
  readonly stage: 1 | 2;
  readonly granule: Granule;
  readonly level: number;
  readonly inputBits: number;
  /** Entries in this table (the starting table may have fewer, or more when concatenated). */
  readonly entries: number;
  /** Input address entry 0 maps. */
  readonly inputBase: number;
}

function tableVar(m: Machine, name: string, base: number, g: TableGeometry): Var {
  const geo = levelGeometry(g.granule, g.level as 0 | 1 | 2 | 3);
  return {
    name, value: `stage-${g.stage} level-${g.level} table at ${hex(base)}: ${g.entries} entries of ${hex(2 ** geo.indexLo)} bytes each`,
    memoryReference: memRef('cpu', base), hint: 'class',
    children: {
      indexed: g.entries,
      get: (start, count) => {
        const out: Var[] = [];
        for (let i = start; i < Math.min(g.entries, start + count); i++) {
          const addr = base + i * 8;
          const input = g.inputBase + i * 2 ** geo.indexLo;
          const fmt = { stage: g.stage, granule: g.granule, level: g.level as 0 | 1 | 2 | 3 };
          if (!inMemory(addr, 8)) {
            out.push(outside(`[${i}] ${hex(input)}`, addr));
            continue;
          }
          const w = read64(m, addr, 'cpu');
          out.push(entryVar(m, `[${i}] ${hex(input)}`, pteLayoutFor(w, fmt), addr, undefined, () => {
            if (descriptorType(w, fmt) !== 'table' || g.level >= 3) return [];
            const next = Number(outputAddress(w, fmt));
            const bpl = levelGeometry(g.granule, (g.level + 1) as 0 | 1 | 2 | 3).indexBits;
            return [tableVar(m, 'next level', next, { ...g, level: g.level + 1, entries: 2 ** bpl, inputBase: input })];
          }));
        }
        return out;
      },
    },
  };
}

function startTableVar(m: Machine, name: string, base: number, stage: 1 | 2, granule: Granule, inputBits: number, level: number, inputBase = 0): Var {
  const geo = levelGeometry(granule, level as 0 | 1 | 2 | 3);
  const entries = 2 ** Math.max(inputBits - geo.indexLo, 1);
  return tableVar(m, name, base, { stage, granule, level, inputBits, entries, inputBase });
}

// ---- stream table ------------------------------------------------------------------------------

const TG0: Record<number, Granule> = { 0: 4, 1: 64, 2: 16 };
const TG1: Record<number, Granule> = { 1: 16, 2: 4, 3: 64 };

function cdVar(m: Machine, sid: number, ssid: number, addr: number): Var {
  return entryVar(m, `CD ${ssid}`, CD, addr, `cd[${sid}][${ssid}]`, (d) => {
    if (d.get('V') === 0n) return [];
    const out: Var[] = [];
    for (const half of [0, 1] as const) {
      if (d.get(half === 0 ? 'EPD0' : 'EPD1') === 1n) continue;
      const granule = (half === 0 ? TG0 : TG1)[d.num(half === 0 ? 'TG0' : 'TG1')];
      const bits = 64 - d.num(half === 0 ? 'T0SZ' : 'T1SZ');
      if (!granule || bits <= 12 || bits > 52) continue;
      try {
        out.push(startTableVar(m, `TTB${half} tables`, d.num(half === 0 ? 'TTB0' : 'TTB1'), 1, granule, bits, startLevel(granule, bits),
          half === 1 ? -(2 ** bits) : 0));
      } catch {
        // An input size the walker does not model (level -1): the fields still show it.
      }
    }
    return out;
  });
}

function cdTableVars(m: Machine, sid: number, d: Decoded): Var[] {
  const base = d.num('S1ContextPtr');
  const cdMax = d.num('S1CDMax');
  const fmt = d.num('S1Fmt');
  if (cdMax === 0 || fmt === 0 || fmt === 3) {
    return [{
      name: 'CD table', value: `${2 ** cdMax} CD${cdMax ? 's' : ''} at ${hex(base)}`, memoryReference: memRef('cpu', base),
      children: { indexed: 2 ** cdMax, get: (start, count) => range(start, count, 2 ** cdMax).map((i) => cdVar(m, sid, i, base + i * 64)) },
    }];
  }
  const leafBits = fmt === 1 ? 6 : 10;
  const l1Count = 2 ** Math.max(cdMax - leafBits, 0);
  return [{
    name: 'L1 CD table', value: `${l1Count} descriptors at ${hex(base)}, ${2 ** leafBits} CDs per leaf table`, memoryReference: memRef('cpu', base),
    children: {
      indexed: l1Count,
      get: (start, count) => range(start, count, l1Count).map((i) => entryVar(m, `L1CD ${i}`, L1CD, base + i * 8, undefined, (l1) => {
        if (l1.get('V') === 0n) return [];
        const leaf = l1.num('L2Ptr');
        return [{
          name: 'CDs', value: `${2 ** leafBits} CDs at ${hex(leaf)}`,
          children: { indexed: 2 ** leafBits, get: (s, c) => range(s, c, 2 ** leafBits).map((j) => cdVar(m, sid, i * 2 ** leafBits + j, leaf + j * 64)) },
        }];
      })),
    },
  }];
}

function steVar(m: Machine, sid: number, addr: number): Var {
  return entryVar(m, `STE ${hex(sid)}`, STE, addr, `ste[${sid}]`, (d) => {
    if (d.get('V') === 0n) return [];
    const cfg = d.num('Config');
    const out: Var[] = [];
    if (cfg === 0b101) out.push(...cdTableVars(m, sid, d));
    if (cfg === 0b110 || cfg === 0b111) {
      const granule = TG0[d.num('S2TG')];
      const bits = 64 - d.num('S2T0SZ');
      const sl0 = d.num('S2SL0');
      const level = granule === 4 ? 2 - sl0 : 3 - sl0;
      if (granule && bits > 12 && bits <= 52 && level >= 0 && level <= 3) out.push(startTableVar(m, 'stage-2 tables', d.num('S2TTB'), 2, granule, bits, level));
    }
    return out;
  });
}

function range(start: number, count: number, total: number): number[] {
  const out: number[] = [];
  for (let i = Math.max(0, start); i < Math.min(total, start + count); i++) out.push(i);
  return out;
}

function streamTableVar(m: Machine): Var {
  const st = streamTable(m);
  const sidBits = Math.min(st.log2size, m.smmu.features.sidBits);
  if (st.base === 0 && st.log2size === 0) return { name: 'stream table', value: 'not programmed (STRTAB_BASE_CFG = 0)' };
  if (st.fmt !== 1) {
    const n = 2 ** sidBits;
    return {
      name: 'stream table', value: `linear, ${n} STEs at ${hex(st.base)}`, memoryReference: memRef('cpu', st.base), hint: 'class',
      children: { indexed: n, get: (s, c) => range(s, c, n).map((sid) => steVar(m, sid, st.base + sid * 64)) },
    };
  }
  const l1Count = 2 ** Math.max(sidBits - st.split, 0);
  return {
    name: 'stream table', value: `2-level, ${l1Count} L1 descriptors at ${hex(st.base)}, SPLIT ${st.split}`, memoryReference: memRef('cpu', st.base), hint: 'class',
    children: {
      indexed: l1Count,
      get: (s, c) => range(s, c, l1Count).map((i) => entryVar(m, `L1STD ${i} (SIDs ${hex(i * 2 ** st.split)}..)`, L1STD, st.base + i * 8, undefined, (d) => {
        const span = d.num('Span');
        if (span === 0 || span > 11) return [];
        const n = Math.min(2 ** (span - 1), 2 ** st.split);
        const l2 = d.num('L2Ptr');
        return [{
          name: 'STEs', value: `${n} STEs at ${hex(l2)}`, memoryReference: memRef('cpu', l2),
          children: { indexed: n, get: (s2, c2) => range(s2, c2, n).map((j) => steVar(m, i * 2 ** st.split + j, l2 + j * 64)) },
        }];
      })),
    },
  };
}

/**
 * Slots the 'streams in use' scan reads, at most: over a dump (every page may hold data) or
 * a corrupt STRTAB_BASE_CFG a stream table can be 2^32 entries, and a variables request must
 * not stall on it.
 */
const MAX_SCAN = 1 << 20;

/**
 * Indices of the non-zero 8-byte words (step `stride`) of a range, in the CPU's view, while
 * `budget` lasts. Only pages that may hold data are read (other memory reads as zero), a
 * page at a time.
 */
function nonZeroSlots(m: Machine, base: number, count: number, stride: number, budget: { left: number }): number[] {
  const out: number[] = [];
  const end = Math.min(base + count * stride, MAX_PHYS_ADDR);
  if (!(base >= 0 && end > base)) return out;
  for (const p of m.mem.cpuPagesMaybeHolding(Math.floor(base / PAGE_SIZE), Math.floor((end - 1) / PAGE_SIZE))) {
    // The first slot in this page, and the bytes from it to the page's (or the range's) end.
    const from = base + Math.ceil((Math.max(base, p * PAGE_SIZE) - base) / stride) * stride;
    const to = Math.min(end, (p + 1) * PAGE_SIZE);
    // A slot that starts in this page is read whole, even past its end.
    const bytes = m.mem.cpuRead(from, Math.max(Math.min(end, to + 8) - from, 0));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let o = 0; from + o < to && o + 8 <= bytes.length; o += stride) {
      if (budget.left-- <= 0) return out;
      if (view.getUint32(o, true) !== 0 || view.getUint32(o + 4, true) !== 0) out.push((from + o - base) / stride);
    }
  }
  return out;
}

/** The STEs that do something (V=1 and Config not abort), found by scanning only memory that was written. */
function liveStreamsVar(m: Machine): Var | undefined {
  const st = streamTable(m);
  if (st.base === 0 && st.log2size === 0) return undefined;
  const sidBits = Math.min(st.log2size, m.smmu.features.sidBits);
  const live: { sid: number; addr: number }[] = [];
  const budget = { left: MAX_SCAN };
  const steAt = (sid: number, addr: number): void => {
    // Qword 0: V is bit 0, Config bits 3:1; the driver fills unused streams with V=1 abort STEs.
    const q0 = read64(m, addr, 'cpu');
    if ((q0 & 1n) === 1n && ((q0 >> 1n) & 7n) !== 0n) live.push({ sid, addr });
  };
  if (st.fmt !== 1) {
    for (const i of nonZeroSlots(m, st.base, 2 ** sidBits, 64, budget)) steAt(i, st.base + i * 64);
  } else {
    const l1Count = 2 ** Math.max(sidBits - st.split, 0);
    // Only two fields of each descriptor: over a corrupt or patterned table there may be 2^20 of them.
    const [spanField, l2Field] = [requireField(L1STD, 'Span'), requireField(L1STD, 'L2Ptr')];
    for (const i of nonZeroSlots(m, st.base, l1Count, 8, budget)) {
      const word = [read64(m, st.base + i * 8, 'cpu')];
      const span = Number(fieldValue(L1STD, word, spanField));
      if (span === 0 || span > 11) continue;
      const n = Math.min(2 ** (span - 1), 2 ** st.split);
      const l2 = Number(fieldValue(L1STD, word, l2Field));
      for (const j of nonZeroSlots(m, l2, n, 64, budget)) steAt(i * 2 ** st.split + j, l2 + j * 64);
    }
  }
  return {
    name: 'streams in use', value: `${live.length} STE${live.length === 1 ? '' : 's'} not aborting${live.length ? ': ' + live.slice(0, 8).map((l) => hex(l.sid)).join(', ') + (live.length > 8 ? ', …' : '') : ''}` +
      (budget.left < 0 ? ` (the scan stopped after ${MAX_SCAN.toLocaleString('en-US')} entries: expand the stream table for the rest)` : ''),
    hint: 'class',
    children: { indexed: live.length, get: (s, c) => range(s, c, live.length).map((k) => steVar(m, live[k].sid, live[k].addr)) },
  };
}

// ---- the scopes -----------------------------------------------------------------------------------

function registersVars(m: Machine): Var[] {
  return REGISTERS.map((r) => {
    const v = m.smmu.read(r.name);
    const d = decode(r, [v], m.smmu.ctx);
    return {
      name: r.name, value: `${hex(v, r.wordBits / 4)}  ${d.summary}`, type: r.title, evaluateName: r.name,
      children: named(() => fieldVars(d, r.name)), field: fieldLookup(d, r.name),
    };
  });
}

function regionVars(m: Machine): Var[] {
  return m.mem.regions.all.map((r) => ({
    name: r.name, value: `${hex(r.base)}..${hex(r.base + r.size)} ${r.attr}, ${r.owner}${r.live ? '' : ' (freed)'}`,
    memoryReference: memRef('cpu', r.base), evaluateName: r.name,
  }));
}

function bytesText(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** The dirty lines, paged: a memset of cacheable memory leaves one per 64 bytes written. */
function cacheChildren(m: Machine): Children {
  const lines = m.mem.dirtyLines();
  return { indexed: lines.length, get: (s, c) => range(s, c, lines.length).map((k) => lineVar(m, lines[k])) };
}

function lineVar(m: Machine, l: Line): Var {
  const poc = m.mem.pocRead(l.base, l.data.length);
  const diff = [...l.data].map((x, i) => (l.dirty[i] ? (x === poc[i] ? 'd' : '*') : '.')).join('');
  const nDirty = l.dirty.reduce((a, b) => a + b, 0);
  return {
    name: hex(l.base), value: `${nDirty} dirty byte${nDirty === 1 ? '' : 's'}; ${diff.replace(/\.+/g, (x) => (x.length > 3 ? `.×${x.length}` : x))}`,
    memoryReference: memRef('cpu', l.base),
    children: named(() => {
      const out: Var[] = [];
      for (let off = 0; off < l.data.length; off += 8) {
        const cpu = l.data.subarray(off, off + 8);
        const p = poc.subarray(off, off + 8);
        const dirty = l.dirty.subarray(off, off + 8).some((x) => x === 1);
        out.push({
          name: `+${hex(off)}`, value: dirty ? `CPU ${bytesText(cpu)}  PoC ${bytesText(p)}` : `clean ${bytesText(cpu)}`,
          memoryReference: memRef('cpu', l.base + off),
        });
      }
      return out;
    }),
  };
}

function smmuCacheVars(m: Machine): Var[] {
  const s = m.smmu;
  return [
    {
      name: 'STEs', value: `${s.cachedStes().size} cached`,
      children: named(() => [...s.cachedStes()].map(([sid, e]) => {
        const d = decode(STE, e.words, s.ctx);
        const now = words(m, e.addr, 8, 'cpu');
        const stale = now.some((w, i) => w !== e.words[i]);
        return { name: `STE ${hex(sid)}`, value: `${d.summary}${stale ? '  ⟂ memory has changed since' : ''}`, memoryReference: memRef('cpu', e.addr), children: named(() => fieldVars(d)) };
      })),
    },
    {
      name: 'CDs', value: `${s.cachedCds().length} cached`,
      children: named(() => s.cachedCds().map(({ sid, ssid, entry }) => {
        const d = decode(CD, entry.words, s.ctx);
        return { name: `CD ${hex(sid)}:${ssid}`, value: d.summary, memoryReference: memRef('cpu', entry.addr), children: named(() => fieldVars(d)) };
      })),
    },
    {
      name: 'L1 descriptors', value: `${s.cachedL1Stds().size} L1STD, ${s.cachedL1Cds().length} L1CD`,
      children: named(() => [
        ...[...s.cachedL1Stds()].map(([i, e]) => ({ name: `L1STD ${i}`, value: decode(L1STD, [e.word]).summary, memoryReference: memRef('cpu', e.addr) })),
        ...s.cachedL1Cds().map((e) => ({ name: `L1CD ${hex(e.sid)}[${e.index}]`, value: decode(L1CD, [e.word]).summary, memoryReference: memRef('cpu', e.addr) })),
      ]),
    },
    {
      name: 'TLB', value: `${s.tlb.size} entries`,
      children: named(() => s.tlb.entries().map((e, i) => ({
        name: `[${i}] ${e.stage} VMID ${e.vmid}${e.asid >= 0 ? ` ASID ${e.asid}` : ''}${e.global ? ' global' : ''}`,
        value: `${hex(e.inputBase)} → ${hex(e.outputBase)}, ${hex(e.size)} bytes, level ${e.level}, ` +
          `${e.perms.read ? 'R' : '-'}${e.perms.write ? 'W' : '-'}${e.perms.execPriv || e.perms.execUnpriv ? 'X' : '-'}`,
      }))),
    },
    {
      name: 'walk cache', value: `${s.tlb.walkEntries().length} table descriptors`,
      children: named(() => s.tlb.walkEntries().map((w, i) => ({
        name: `[${i}] stage ${w.stage} level ${w.level}`, value: `${hex(w.inputBase)}+${hex(w.size)} → table at ${hex(w.tableAddr)} (descriptor at ${hex(w.descAddr)})`,
        memoryReference: memRef('cpu', w.descAddr),
      }))),
    },
  ];
}

function queueVars(m: Machine): Var[] {
  const q = (name: string, baseReg: string, prodReg: string, consReg: string, entrySize: number, layoutFor: (w: bigint[]) => Layout): Var => {
    const b = m.smmu.read(baseReg);
    const log2 = Number(b & 0x1fn);
    const base = Number(b & 0x00ff_ffff_ffff_ffe0n);
    const prod = Number(m.smmu.read(prodReg));
    const cons = Number(m.smmu.read(consReg));
    const n = 2 ** log2;
    return {
      name, value: base === 0 ? 'not set up' : `${n} entries at ${hex(base)}, PROD ${hex(prod)}, CONS ${hex(cons)}`, memoryReference: memRef('cpu', base),
      children: base === 0 ? undefined : {
        indexed: n,
        get: (s, c) => range(s, c, n).map((i) => {
          const w = words(m, base + i * entrySize, entrySize / 8, 'cpu');
          return entryVar(m, `[${i}]`, layoutFor(w), base + i * entrySize, undefined);
        }),
      },
    };
  };
  return [
    q('command queue', 'CMDQ_BASE', 'CMDQ_PROD', 'CMDQ_CONS', 16, commandLayoutFor),
    q('event queue', 'EVENTQ_BASE', 'EVENTQ_PROD', 'EVENTQ_CONS', 32, eventLayoutFor),
  ];
}

/** Granules with CPU stores the SMMU may not have seen, and the values it could read there. */
function pendingVars(m: Machine): Var[] {
  return m.mem.history.unsettled().map((g) => {
    const set = observable(m.mem, g.addr, 1, 64);
    return {
      name: hex(g.addr), value: `${g.path === 'poc' ? 'not cleaned to PoC' : 'not yet ordered/complete'}: the SMMU could read ` +
        `${set.values.map((v) => hex(v[0])).join(' | ')}${set.truncated ? ' …' : ''}`,
      memoryReference: memRef('cpu', g.addr),
      children: named(() => [
        { name: 'oldest it can still read', value: hex(g.settled) },
        ...g.versions.map((v, i) => ({
          name: `store ${i + 1}`, value: `${hex(v.value)}${v.unit < 8 ? ` (may tear in ${v.unit}-byte parts)` : ''}, epoch ${v.epoch}`,
        })),
      ]),
    };
  });
}

function hazardVars(hs: readonly Hazard[]): Var[] {
  return hs.map((h, i) => ({ name: `[${i}] ${h.severity} ${h.rule}`, value: h.message, type: h.title }));
}

function walkVars(t: NonNullable<Scope['lastTranslation']>): Var[] {
  const r = t.result;
  return [
    { name: 'transaction', value: t.tx },
    { name: 'result', value: r.outcome === 'fault' ? `${r.event?.name}: ${r.reason}` : `${r.outcome} ${r.pa !== undefined ? '→ ' + hex(r.pa) : ''}` },
    { name: 'TLB', value: r.tlbHit ? 'hit' : 'miss' },
    ...r.config.map((c) => ({ name: c.what.toUpperCase(), value: `${c.source === 'cache' ? 'from the configuration cache' : 'fetched'} at ${hex(c.addr)}`, memoryReference: memRef('smmu', c.addr) })),
    ...r.walk.map((w) => ({
      name: `stage ${w.stage} level ${w.level}${w.forTable ? ' (for a table address)' : ''}`, value: `${hex(w.desc, 16)} at ${hex(w.descAddr)} (${w.type})`,
      memoryReference: memRef('smmu', w.descAddr),
    })),
  ];
}

/** The scopes, as lazily expanded variables. */
export function scopes(s: Scope): Var[] {
  const m = s.machine;
  const out: Var[] = [
    { name: 'Registers', value: '', children: named(() => registersVars(m)) },
    // Scanned once per scopes answer: an edit while stopped sends 'invalidated', and the client asks again.
    { name: 'Stream table', value: '', children: named(once(() => [liveStreamsVar(m), streamTableVar(m)].filter((v): v is Var => !!v))) },
    { name: 'Pending visibility', value: '', children: named(() => pendingVars(m)) },
    { name: 'CPU cache', value: '', children: cacheChildren(m) },
    { name: 'SMMU caches', value: '', children: named(() => smmuCacheVars(m)) },
    { name: 'Queues', value: '', children: named(() => queueVars(m)) },
    { name: 'Memory', value: '', children: named(() => regionVars(m)) },
    { name: 'Hazards', value: `${s.hazards.length}`, children: named(() => hazardVars(s.hazards)) },
    { name: 'KHO', value: '', children: named(() => khoVars(m)) },
  ];
  if (s.lastTranslation) out.push({ name: 'Last walk', value: '', children: named(() => walkVars(s.lastTranslation!)) });
  return out;
}

export { steVar, cdVar, entryVar, startTableVar, fieldVars, fieldLookup };
