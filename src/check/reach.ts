/**
 * What the SMMU can reach: every table it may fetch from, found by following valid
 * pointers from its registers — through what the CPU wrote and through what the SMMU
 * would read now (the union: either may be what a fetch sees) — down to the page tables.
 * Each table carries the path that reaches it, for explanations ("STE 0x105 → CD 0 →
 * TTB0 → level 1 table"). The hazard rules and the KHO checks use it.
 */
import { Granule } from '../arch/field';
import { descriptorType, levelGeometry, outputAddress, startLevel } from '../arch/pte';
import type { Machine } from '../model/machine';
import { read64, View } from '../model/locate';
import { MAX_PHYS_ADDR } from '../model/memory';

export type TableKind = 'l1std' | 'ste' | 'l1cd' | 'cd' | 'pgtable' | 'cmdq' | 'evtq';

/**
 * One way the SMMU reaches a page table: the input address its entry 0 maps and the regime
 * its entries are cached under (ASID, VMID, EL2, nested). A table reached in two ways (two
 * ASIDs on one table, one stage-2 table under a nested STE and a plain one) is cached in each.
 */
export interface TableContext {
  readonly path: string;
  readonly inputBase?: number;
  readonly asid?: number;
  readonly vmid?: number;
  readonly el2?: boolean;
  readonly nested?: boolean;
}

/** A table the SMMU may read: an array of equal entries. */
export interface ReachableTable {
  readonly kind: TableKind;
  readonly base: number;
  /** Bytes per entry: 8 (descriptors), 64 (STE, CD), 16 (commands), 32 (events). */
  readonly entrySize: number;
  readonly entries: number;
  /** How the SMMU gets here. */
  readonly path: string;
  /** STE tables: the StreamID of entry 0. CD tables: the StreamID and the SubstreamID of entry 0. */
  readonly firstSid?: number;
  readonly sid?: number;
  readonly firstSsid?: number;
  /** Page tables: stage, granule, level, the input address entry 0 maps, and the regime. */
  readonly stage?: 1 | 2;
  readonly granule?: Granule;
  readonly level?: number;
  readonly inputBase?: number;
  readonly asid?: number;
  readonly vmid?: number;
  /** Stage-1 tables of an STE with StreamWorld EL2: the TLB tags what they translate for the EL2 regime. */
  readonly el2?: boolean;
  /** Stage-2 tables of a nested STE: what they translate is also cached combined with stage 1. */
  readonly nested?: boolean;
  /** Page tables: the other contexts it is reached in, besides its own fields' (see TableContext). */
  readonly aliases?: readonly TableContext[];
}

/** Every context a table is reached in: its own, then its aliases. */
export function contextsOf(t: ReachableTable): readonly TableContext[] {
  return t.aliases ? [t, ...t.aliases] : [t];
}

const sameContext = (a: TableContext, b: TableContext): boolean =>
  a.inputBase === b.inputBase && a.asid === b.asid && a.vmid === b.vmid && !a.el2 === !b.el2 && !a.nested === !b.nested;

export interface Located {
  readonly table: ReachableTable;
  readonly index: number;
  /** Address of the entry's first byte. */
  readonly entry: number;
}

const hex = (n: number | bigint): string => '0x' + n.toString(16);
const MASK_PTR = 0x00ff_ffff_ffff_ffc0n;
/** Entries looked at in one walk, at most: corrupt sizes (S1CDMax 31, SIDSIZE 32) must not make it read for hours. */
const MAX_ENTRIES = 1 << 20;

export class Reachability {
  private readonly tables = new Map<string, ReachableTable>();
  private sorted?: ReachableTable[];
  private budget: number;
  private entriesLeft = MAX_ENTRIES;

  /**
   * `maxTables` bounds the walk (a corrupt pointer must not make it explore the address space);
   * `views` are the views of memory pointers are read through.
   */
  constructor(private readonly m: Machine, maxTables = 100_000, private readonly views: readonly View[] = ['cpu', 'smmu']) {
    this.budget = maxTables;
  }

  /** Every table reachable through either view (or only `views`). */
  static of(m: Machine, views: readonly View[] = ['cpu', 'smmu']): Reachability {
    const r = new Reachability(m, undefined, views);
    if (Number(m.smmu.read('CR0ACK')) & 1) for (const v of views) r.walkStreamTable(v);
    r.addQueues();
    return r;
  }

  get all(): ReachableTable[] {
    if (!this.sorted) this.sorted = [...this.tables.values()].sort((a, b) => a.base - b.base);
    return this.sorted;
  }

  /** True when the walk stopped at its bound. */
  get truncated(): boolean {
    return this.budget <= 0 || this.entriesLeft < 0;
  }

  /** Account for one more entry looked at; false once the walk has looked at enough. */
  private more(): boolean {
    return --this.entriesLeft >= 0;
  }

  /** Account for up to `n` entries read at once: how many of them the walk may look at. */
  private take(n: number): number {
    const k = Math.max(0, Math.min(n, this.entriesLeft));
    this.entriesLeft -= n > k ? k + 1 : k;
    return k;
  }

  /** The table entries an address range falls in. */
  find(addr: number, len = 1): Located[] {
    const out: Located[] = [];
    for (const t of this.all) {
      const end = t.base + t.entries * t.entrySize;
      if (t.base >= addr + len) break;
      if (end <= addr) continue;
      const first = Math.max(0, Math.floor((addr - t.base) / t.entrySize));
      const last = Math.min(t.entries - 1, Math.floor((addr + len - 1 - t.base) / t.entrySize));
      for (let i = first; i <= last; i++) out.push({ table: t, index: i, entry: t.base + i * t.entrySize });
    }
    return out;
  }

  /** Every reachable table overlapping a range (for freed or unpreserved memory). */
  overlapping(addr: number, len: number): ReachableTable[] {
    return this.all.filter((t) => t.base < addr + len && addr < t.base + t.entries * t.entrySize);
  }

  /** A qword through a view; a pointer beyond the physical address space leads nowhere (the SMMU's fetch fails). */
  private rd(addr: number, view: View): bigint {
    return addr >= 0 && addr + 8 <= MAX_PHYS_ADDR ? read64(this.m, addr, view) : 0n;
  }

  /** Record a table; true when it is new, or a page table reached in a new context (its tables below are then walked in it too). */
  private add(t: ReachableTable): boolean {
    if (t.base + t.entries * t.entrySize > MAX_PHYS_ADDR) return false;
    const key = `${t.kind}:${t.base}:${t.stage ?? ''}:${t.level ?? ''}`;
    const had = this.tables.get(key);
    if (this.budget <= 0 || (had && (t.kind !== 'pgtable' || contextsOf(had).some((c) => sameContext(c, t))))) return false;
    this.budget--;
    if (had) {
      const context: TableContext = { path: t.path, inputBase: t.inputBase, asid: t.asid, vmid: t.vmid, el2: t.el2, nested: t.nested };
      this.tables.set(key, { ...had, aliases: [...(had.aliases ?? []), context] });
    } else {
      this.tables.set(key, t);
    }
    this.sorted = undefined;
    return true;
  }

  private addQueues(): void {
    const cr0 = Number(this.m.smmu.read('CR0ACK'));
    const q = (reg: string, kind: 'cmdq' | 'evtq', entrySize: number): void => {
      const v = this.m.smmu.read(reg);
      const log2 = Number(v & 0x1fn);
      this.add({ kind, base: Number(v & 0x00ff_ffff_ffff_ffe0n), entrySize, entries: 2 ** log2, path: `${reg}` });
    };
    if (cr0 & (1 << 3)) q('CMDQ_BASE', 'cmdq', 16);
    if (cr0 & (1 << 2)) q('EVENTQ_BASE', 'evtq', 32);
  }

  private walkStreamTable(view: View): void {
    const base = Number(this.m.smmu.read('STRTAB_BASE') & MASK_PTR);
    const cfg = Number(this.m.smmu.read('STRTAB_BASE_CFG'));
    const log2 = Math.min(cfg & 0x3f, this.m.smmu.features.sidBits);
    if (((cfg >>> 16) & 3) !== 1) {
      this.add({ kind: 'ste', base, entrySize: 64, entries: 2 ** log2, path: 'STRTAB_BASE (linear)', firstSid: 0 });
      this.walkStes(base, 2 ** log2, 0, view);
      return;
    }
    const split = (cfg >>> 6) & 0x1f;
    const l1Count = 2 ** Math.max(log2 - split, 0);
    this.add({ kind: 'l1std', base, entrySize: 8, entries: l1Count, path: 'STRTAB_BASE (2-level)' });
    for (let i = 0; i < l1Count && this.more(); i++) {
      const d = this.rd(base + i * 8, view);
      const span = Number(d & 0x1fn);
      if (span === 0 || span > 11) continue;
      const l2 = Number(d & MASK_PTR);
      const n = Math.min(2 ** (span - 1), 2 ** split);
      this.add({ kind: 'ste', base: l2, entrySize: 64, entries: n, path: `L1STD ${i}`, firstSid: i * 2 ** split });
      this.walkStes(l2, n, i * 2 ** split, view);
    }
  }

  /**
   * A table of `n` STEs: one bulk read of the view finds the valid ones (V, bit 0 of each
   * entry's first byte), which are then followed. The walk is redone whenever a pointer
   * may have moved, and most STEs of a table are invalid or abort.
   */
  private walkStes(base: number, n: number, firstSid: number, view: View): void {
    const bytes = this.bulk(base, this.take(n) * 64, view);
    // Only a valid STE with stage 1 or 2 (Config 0b101..0b111 in bits [3:1]) leads anywhere.
    for (let j = 0; j * 64 < bytes.length; j++) if ((bytes[j * 64] & 1) !== 0 && ((bytes[j * 64] >> 1) & 7) >= 5) this.walkSte(base + j * 64, firstSid + j, view);
  }

  /** `n` CDs in one bulk read; only valid ones (V, bit 31) are followed. */
  private walkCds(base: number, n: number, sid: number, firstSsid: number, vmid: number, el2: boolean, view: View): void {
    const bytes = this.bulk(base, this.take(n) * 64, view);
    for (let s = 0; s * 64 < bytes.length; s++) if ((bytes[s * 64 + 3] & 0x80) !== 0) this.walkCd(base + s * 64, sid, firstSsid + s, vmid, el2, view);
  }

  /**
   * The bytes of a view from `base`, up to `len` and no further than the last whole qword
   * of the physical address space (beyond it `rd` reads zero: invalid entries).
   */
  private bulk(base: number, len: number, view: View): Uint8Array {
    if (base < 0) return new Uint8Array(0);
    const n = Math.min(len, Math.max(0, Math.floor((MAX_PHYS_ADDR - base) / 8) * 8));
    // A table wholly beyond the address space: nothing to read (a read there, even of 0 bytes, is refused).
    if (n === 0) return new Uint8Array(0);
    return view === 'cpu' ? this.m.mem.cpuRead(base, n) : this.m.mem.smmuRead(base, n);
  }

  private walkSte(addr: number, sid: number, view: View): void {
    const w0 = this.rd(addr, view);
    if ((w0 & 1n) === 0n) return;
    const config = Number((w0 >> 1n) & 7n);
    const where = `STE ${hex(sid)}`;
    let vmid: number | undefined;
    if (config === 0b110 || config === 0b111) {
      const w2 = this.rd(addr + 16, view);
      const w3 = this.rd(addr + 24, view);
      vmid = Number(w2 & 0xffffn);
      const tg = Number((w2 >> 46n) & 3n);
      const granule = ({ 0: 4, 1: 64, 2: 16 } as Record<number, Granule>)[tg];
      const inputBits = 64 - Number((w2 >> 32n) & 0x3fn);
      const sl0 = Number((w2 >> 38n) & 3n);
      if (granule && inputBits > 12 && inputBits <= 52) {
        const start = granule === 4 ? 2 - sl0 : 3 - sl0;
        if (start >= 0 && start <= 3) {
          this.walkTable(Number(w3 & 0x00ff_ffff_ffff_fff0n), 2, granule, inputBits, start, 0, `${where} → S2TTB`, undefined, vmid, true, true,
            config === 0b111 ? { nested: true } : {});
        }
      }
    }
    if (config === 0b101 || config === 0b111) {
      // A nested STE's CD pointer is an IPA: the tables it leads to are followed through stage 2 by the SMMU, not here.
      if (config === 0b111) return;
      const cdBase = Number(w0 & MASK_PTR);
      const cdMax = Number((w0 >> 59n) & 0x1fn);
      const fmt = Number((w0 >> 4n) & 3n);
      const w2 = this.rd(addr + 16, view);
      const s1Vmid = Number(w2 & 0xffffn);
      // STRW (STE[95:94]) = EL2: the stream's stage-1 translations belong to the EL2 regime.
      const el2 = ((this.rd(addr + 8, view) >> 30n) & 3n) === 2n;
      if (cdMax === 0 || fmt === 0 || fmt === 3) {
        this.add({ kind: 'cd', base: cdBase, entrySize: 64, entries: 2 ** cdMax, path: `${where} → S1ContextPtr`, sid, firstSsid: 0 });
        this.walkCds(cdBase, 2 ** cdMax, sid, 0, s1Vmid, el2, view);
        return;
      }
      const leafBits = fmt === 1 ? 6 : 10;
      const l1Count = 2 ** Math.max(cdMax - leafBits, 0);
      this.add({ kind: 'l1cd', base: cdBase, entrySize: 8, entries: l1Count, path: `${where} → S1ContextPtr (2-level)`, sid });
      for (let i = 0; i < l1Count && this.more(); i++) {
        const d = this.rd(cdBase + i * 8, view);
        if ((d & 1n) === 0n) continue;
        const leaf = Number(d & 0x00ff_ffff_ffff_f000n);
        this.add({ kind: 'cd', base: leaf, entrySize: 64, entries: 2 ** leafBits, path: `${where} → L1CD ${i}`, sid, firstSsid: i * 2 ** leafBits });
        this.walkCds(leaf, 2 ** leafBits, sid, i * 2 ** leafBits, s1Vmid, el2, view);
      }
    }
  }

  private walkCd(addr: number, sid: number, ssid: number, vmid: number, el2: boolean, view: View): void {
    const w0 = this.rd(addr, view);
    if (((w0 >> 31n) & 1n) === 0n) return;
    const asid = Number(w0 >> 48n);
    for (const half of [0, 1] as const) {
      const shift = BigInt(half * 16);
      if (((w0 >> (14n + shift)) & 1n) === 1n) continue; // EPDx
      const tsz = Number((w0 >> shift) & 0x3fn);
      const tg = Number((w0 >> (6n + shift)) & 3n);
      const granule = (half === 0 ? ({ 0: 4, 1: 64, 2: 16 } as Record<number, Granule>) : ({ 1: 16, 2: 4, 3: 64 } as Record<number, Granule>))[tg];
      const inputBits = 64 - tsz;
      if (!granule || inputBits <= 12 || inputBits > 52) continue;
      const ttb = Number(this.rd(addr + 8 + half * 8, view) & 0x00ff_ffff_ffff_fff0n);
      let start: number;
      try {
        start = startLevel(granule, inputBits);
      } catch {
        continue;
      }
      this.walkTable(ttb, 1, granule, inputBits, start, half === 1 ? -(2 ** inputBits) : 0,
        `STE ${hex(sid)} → CD ${ssid} → TTB${half}`, asid, vmid, false, true, el2 ? { el2 } : {});
    }
  }

  private walkTable(base: number, stage: 1 | 2, granule: Granule, inputBits: number, level: number, inputBase: number, path: string,
    asid: number | undefined, vmid: number | undefined, concat: boolean, first: boolean, tags: { el2?: boolean; nested?: boolean }): void {
    let g;
    try {
      g = levelGeometry(granule, level as 0 | 1 | 2 | 3);
    } catch {
      return;
    }
    const bits = first ? Math.max(1, inputBits - g.indexLo) : g.indexBits;
    // Stage-2 concatenation gives the starting level more than a full table's index bits.
    const entries = 2 ** (concat || !first ? bits : Math.min(bits, g.indexBits));
    const here = `${path} → level ${level} table at ${hex(base)}`;
    if (!this.add({ kind: 'pgtable', base, entrySize: 8, entries, path: here, stage, granule, level, inputBase, asid, vmid, ...tags })) return;
    if (level === 3) return;
    const views = this.views.map((v) => (v === 'cpu' ? this.m.mem.cpuRead(base, entries * 8) : this.m.mem.smmuRead(base, entries * 8)));
    const dv = views.map((b) => new DataView(b.buffer));
    const fmt = { stage, granule, level: level as 0 | 1 | 2 | 3 };
    for (let i = 0; i < entries && this.more(); i++) {
      for (let k = 0; k < views.length; k++) {
        // Only bits[1:0] = 0b11 can be a table descriptor: most entries are skipped on their first byte.
        if ((views[k][i * 8] & 3) !== 3) continue;
        const d = dv[k].getBigUint64(i * 8, true);
        if (descriptorType(d, fmt) !== 'table') continue;
        const next = outputAddress(d, fmt);
        if (next === undefined) continue;
        this.walkTable(Number(next), stage, granule, inputBits, level + 1, inputBase + i * 2 ** g.indexLo,
          `${here}[${i}]`, asid, vmid, false, false, tags);
      }
    }
  }
}
