/**
 * What a dump's SMMU tables say: every present stream (through its L1 descriptor), its
 * STE decoded, its CDs decoded, and every valid leaf of its stage-1 and stage-2 tables — or
 * one translation with its walk. Everything is decoded by the format tables and judged by
 * the model (stream and CD configuration from config.ts, permissions and attributes of
 * each leaf from the walker), so the inspector says what the SMMU would do, not what a
 * second decoder thinks.
 *
 * Reads go through a machine holding the dump (see load.ts); the dump is asked where a
 * structure is not in it, so a table address outside the dump is reported by name rather
 * than decoded as zeros.
 */
import { decode, Decoded, findField, rawField } from '../arch/codec';
import { CD, mairAttr } from '../arch/cd';
import { ArchContext, Granule, Layout } from '../arch/field';
import { descriptorType, granuleShift, Level, outputAddress, pteLayoutFor, PteFormat } from '../arch/pte';
import { L1STD, STE } from '../arch/ste';
import type { Machine } from '../model/machine';
import { read64, streamTable } from '../model/locate';
import { cdConfig, S1Stream, streamConfig } from '../model/smmu/config';
import type { TranslateResult } from '../model/smmu/smmu';
import { DescriptorReader, Permissions, S1Range, Stage1Config, Stage2Config, Translation, WalkFault, WalkResult } from '../model/smmu/types';
import { ALL_PERMISSIONS, startAlign, walkStage1, walkStage2 } from '../model/smmu/walk';
import { DumpMemory } from './dumpMemory';
import { DumpError, hex } from './source';

/** One valid leaf descriptor: a page or block and what the SMMU makes of it. */
export interface Mapping {
  readonly stage: 1 | 2;
  /** TTB0, TTB1 (stage 1) or S2TTB. */
  readonly range: 'TTB0' | 'TTB1' | 'S2TTB';
  /** The input address as a device presents it (a TTB1 VA sign-extended to 64 bits). */
  readonly iova: bigint;
  /** The output address: a PA, or an IPA for stage 1 of a nested stream (`output` says which). */
  readonly pa: number;
  readonly output: 'pa' | 'ipa';
  readonly size: number;
  readonly level: Level;
  readonly type: 'block' | 'page';
  readonly descAddr: number;
  readonly desc: bigint;
  /** From the walker; undefined when it faults on this leaf (see `fault`). */
  readonly perms?: Permissions;
  /** Stage 1: AttrIndx and the MAIR byte it selects. Stage 2: MemAttr. */
  readonly attrIndx?: number;
  readonly mair?: number;
  readonly memAttr?: number;
  /** The memory type in words (from the MAIR byte, or the stage-2 MemAttr table). */
  readonly memory: string;
  readonly sh: number;
  readonly af: boolean;
  /** Stage 1 only: not global (tagged with the ASID). */
  readonly nG?: boolean;
  readonly contiguous: boolean;
  /** What the SMMU would report for this leaf, when it cannot be used as it is. */
  readonly fault?: string;
}

export interface TableRange {
  readonly name: Mapping['range'];
  readonly granule: Granule;
  readonly inputBits: number;
  readonly startLevel: Level;
  readonly ttb: number;
  readonly mappings: Mapping[];
}

export interface CdReport {
  readonly ssid: number;
  readonly addr: number;
  readonly words: readonly bigint[];
  readonly decoded: Decoded;
  /** Why the SMMU would treat the CD as invalid (C_BAD_CD), when it would. */
  readonly invalid?: string;
  readonly ranges: TableRange[];
}

export type StreamKind = 'abort' | 'bypass' | 's1' | 's2' | 'nested' | 'invalid';

export interface StreamReport {
  readonly sid: number;
  /** The L1 descriptor that leads to the STE (2-level tables). */
  readonly l1?: { readonly index: number; readonly addr: number; readonly word: bigint; readonly span: number; readonly decoded: Decoded };
  readonly addr: number;
  readonly words: readonly bigint[];
  readonly decoded: Decoded;
  readonly config: StreamKind;
  /** Why the SMMU would treat the STE as invalid (C_BAD_STE). */
  readonly invalid?: string;
  readonly s2?: TableRange;
  readonly cds: CdReport[];
  /** Structures of this stream that could not be read (outside the dump, faulting addresses). */
  readonly problems: string[];
}

export interface Inspection {
  readonly strtab: { readonly base: number; readonly fmt: 'linear' | '2-level'; readonly split: number; readonly log2size: number };
  /** CR0.SMMUEN: when 0 the SMMU bypasses or aborts everything (GBPA), whatever the tables say. */
  readonly enabled: boolean;
  readonly streams: StreamReport[];
  /** Problems outside any one stream (L1 descriptors, tables missing from the dump). */
  readonly problems: string[];
}

export interface InspectOptions {
  /** Only this StreamID (reported even when its STE is not valid). */
  readonly sid?: number;
  /** Stop listing leaves after this many (a corrupt table must not list the address space). */
  readonly maxMappings?: number;
}

const MASK_PTR = 0x00ff_ffff_ffff_ffc0n;

/** A descriptor field's bits, 0 where the layout has no such field (e.g. SH with DS). */
const flagOf = (d: LeafFields, name: string): number => d.raw(name);

/**
 * The few fields a mapping reports, read from the field table without building the full
 * decoding (text, problems) of each leaf: a stream may have hundreds of thousands.
 */
interface LeafFields {
  raw(name: string): number;
  /** An enumerated field's value name, else its decoded text. */
  named(name: string): string;
}

function leafFields(layout: Layout, word: bigint, ctx: ArchContext): LeafFields {
  const words = [word];
  const raw = (name: string): number => {
    const f = findField(layout, name);
    return f ? Number(rawField(layout, words, f)) : 0;
  };
  return {
    raw,
    named: (name) => {
      const f = findField(layout, name);
      if (!f) return '';
      const v = raw(name);
      return f.values?.find((e) => e.value === v)?.name ?? decode(layout, words, ctx).field(name)?.text ?? '';
    },
  };
}
const MAX_TABLES = 100_000;
/** Problems listed per stream: a corrupt pointer can make every one of 2^20 CDs a problem of the same kind. */
const MAX_STREAM_PROBLEMS = 100;

/** The first MAX_STREAM_PROBLEMS problems, and a line saying how many more there were. */
function capped(problems: string[], whose: string): string[] {
  if (problems.length <= MAX_STREAM_PROBLEMS) return problems;
  const more = problems.length - MAX_STREAM_PROBLEMS;
  return [...problems.slice(0, MAX_STREAM_PROBLEMS), `… and ${more} more problem${more === 1 ? '' : 's'} of ${whose}, not listed`];
}
/** Stream table and CD table slots looked at, at most: a linear table of 2^32 STEs would take hours. */
const MAX_SLOTS = 1 << 20;

/** A walk's geometry, from a CD half or an STE's stage 2. */
interface Geometry extends Omit<S1Range, 'had'> {
  readonly stage: 1 | 2;
  readonly range: Mapping['range'];
  readonly oasBits: number;
  /** Input address of the first entry of the starting table (TTB1: -2^inputBits). */
  readonly inputBase: number;
}

/** Bytes of a table, and the PA of each byte (tables at IPAs may be split across stage-2 pages). */
interface TableBytes {
  readonly bytes: Uint8Array;
  readonly pa: (offset: number) => number;
}

export class Inspector {
  private readonly reader: DescriptorReader;
  private mappings = 0;
  private tables = 0;
  private slots = 0;
  private readonly maxMappings: number;

  constructor(private readonly m: Machine, private readonly dump: DumpMemory, opts: InspectOptions = {}) {
    this.reader = { read: (addr, out) => m.mem.smmuReadU64Parts(addr, out) };
    this.maxMappings = opts.maxMappings ?? 1_000_000;
  }

  /** Count one more table slot looked at; false (with a problem, once) past the bound. */
  private slot(problems: string[]): boolean {
    if (++this.slots <= MAX_SLOTS) return true;
    if (this.slots === MAX_SLOTS + 1) {
      problems.push(`stopped after looking at ${MAX_SLOTS} stream and CD table entries: the tables are larger than an inspection lists ` +
        '(pass --sid to look at one StreamID)');
    }
    return false;
  }

  private get ctx() {
    return this.m.smmu.ctx;
  }

  /**
   * Why [addr, addr+len) cannot be read from the dump, or undefined. `shown` is the range
   * the message names (a table at an IPA is named by its IPAs, checked piece by piece).
   */
  private outside(addr: number, len: number, what: string, shown = len > 8 ? `${hex(addr)}..${hex(addr + len)}` : hex(addr)): string | undefined {
    const a = this.dump.firstUncovered(addr, len);
    if (a === undefined) return undefined;
    const why = this.dump.whyMissing(a);
    return `${what} at ${shown} is not in the dump (${hex(a)} is missing${why ? `: ${why}` : ''}; the dump holds ${this.dump.ranges()})`;
  }

  private words(addr: number, n: number): bigint[] {
    return Array.from({ length: n }, (_, i) => read64(this.m, addr + 8 * i, 'cpu'));
  }

  // ---- the stream table ------------------------------------------------------------------

  inspect(opts: InspectOptions = {}): Inspection {
    const st = streamTable(this.m);
    const sidBits = Math.min(st.log2size, this.m.smmu.features.sidBits);
    const twoLevel = st.fmt === 1;
    const problems: string[] = [];
    const streams: StreamReport[] = [];
    if (st.fmt > 1) problems.push(`STRTAB_BASE_CFG.FMT is ${st.fmt}, a reserved value: read as a linear table`);
    const count = 2 ** sidBits;
    if (opts.sid !== undefined && (opts.sid < 0 || opts.sid >= count)) {
      throw new DumpError(`StreamID ${hex(opts.sid)} is beyond the stream table (LOG2SIZE ${st.log2size}${sidBits < st.log2size ? `, SIDSIZE ${sidBits}` : ''}: ` +
        `StreamIDs 0..${hex(count - 1)})`);
    }
    const only = (lo: number, hi: number): [number, number] => (opts.sid === undefined ? [lo, hi] : [Math.max(lo, opts.sid), Math.min(hi, opts.sid + 1)]);
    const report = { base: st.base, fmt: twoLevel ? '2-level' as const : 'linear' as const, split: st.split, log2size: st.log2size };
    if (!twoLevel) {
      const fatal = this.outside(st.base, 64, 'the stream table (STRTAB_BASE)');
      if (fatal) throw new DumpError(`${fatal}: check STRTAB_BASE, or add the file that holds that memory`);
      const [lo, hi] = only(0, count);
      for (let sid = lo; sid < hi && this.slot(problems); sid++) {
        const addr = st.base + sid * 64;
        const out = this.outside(addr, 64, `the STE of StreamID ${hex(sid)}`);
        if (out) {
          problems.push(`${out}: the linear table (${count} STEs from ${hex(st.base)}) leaves the dump`);
          break;
        }
        this.stream(sid, addr, undefined, opts.sid !== undefined, streams);
      }
      return { strtab: report, enabled: this.m.smmu.enabled, streams, problems };
    }
    const span = 2 ** st.split;
    const l1Count = 2 ** Math.max(sidBits - st.split, 0);
    const fatal = this.outside(st.base, l1Count * 8, `the L1 stream table (STRTAB_BASE, ${l1Count} descriptors)`);
    if (fatal) throw new DumpError(`${fatal}: check STRTAB_BASE, or add the file that holds that memory`);
    const [first, last] = opts.sid === undefined ? [0, l1Count] : [Math.floor(opts.sid / span), Math.floor(opts.sid / span) + 1];
    const l1Ctx = { ...this.ctx, split: st.split };
    for (let i = first; i < last && this.slot(problems); i++) {
      const l1Addr = st.base + i * 8;
      const word = read64(this.m, l1Addr, 'cpu');
      const s = Number(word & 0x1fn);
      const sids = `StreamIDs ${hex(i * span)}..${hex((i + 1) * span - 1)}`;
      if (s === 0) {
        if (opts.sid !== undefined) problems.push(`L1STD ${i} at ${hex(l1Addr)} is invalid (Span 0): StreamID ${hex(opts.sid)} has no STE`);
        continue;
      }
      if (s > 11) {
        problems.push(`L1STD ${i} at ${hex(l1Addr)} (${sids}) has Span ${s}, a reserved value: the SMMU treats it as invalid`);
        continue;
      }
      const n = Math.min(2 ** (s - 1), span);
      const l2 = Number(word & MASK_PTR);
      const out = this.outside(l2, n * 64, `the L2 stream table of L1STD ${i} (${sids})`);
      if (out) {
        problems.push(out);
        continue;
      }
      // Decoded only here: most descriptors of a sparse L1 table are invalid.
      const decoded = decode(L1STD, [word], l1Ctx);
      const [lo, hi] = only(i * span, i * span + n);
      if (opts.sid !== undefined && lo >= hi) problems.push(`StreamID ${hex(opts.sid)} is beyond the ${n} STEs of L1STD ${i} (Span ${s})`);
      for (let sid = lo; sid < hi && this.slot(problems); sid++) {
        this.stream(sid, l2 + (sid - i * span) * 64, { index: i, addr: l1Addr, word, span: s, decoded }, opts.sid !== undefined, streams);
      }
    }
    return { strtab: report, enabled: this.m.smmu.enabled, streams, problems };
  }

  private stream(sid: number, addr: number, l1: StreamReport['l1'], always: boolean, out: StreamReport[]): void {
    // Most of a sparse table is not valid: look at V before reading the rest.
    if ((read64(this.m, addr, 'cpu') & 1n) === 0n && !always) return;
    const words = this.words(addr, 8);
    const decoded = decode(STE, words, this.ctx);
    const sc = streamConfig(words, this.ctx);
    const problems: string[] = [];
    const cds: CdReport[] = [];
    let config: StreamKind;
    let invalid: string | undefined;
    let s2: TableRange | undefined;
    if (sc.kind === 'invalid') {
      config = 'invalid';
      invalid = sc.reason;
    } else if (sc.kind !== 'translate') {
      config = sc.kind;
    } else {
      config = sc.s1 && sc.s2 ? 'nested' : sc.s1 ? 's1' : 's2';
      if (sc.s2) {
        const c = sc.s2;
        s2 = this.range({
          stage: 2, range: 'S2TTB', granule: c.granule, inputBits: c.inputBits, startLevel: c.startLevel, ttb: c.ttb,
          ds: c.ds, pa52: c.pa52, oasBits: c.oasBits, inputBase: 0,
        }, (input, desc) => this.s2Leaf(c, input, desc), (a) => a, problems, `STE ${hex(sid)} stage 2`);
      }
      if (sc.s1) this.cds(sid, sc.s1, sc.s2, cds, problems);
    }
    out.push({ sid, l1, addr, words, decoded, config, invalid, s2, cds, problems: capped(problems, `STE ${hex(sid)}`) });
  }

  // ---- CDs ---------------------------------------------------------------------------------

  /** A structure address the STE gives: a PA, or an IPA through stage 2 when nested. */
  private structure(ipa: number, s2: Stage2Config | undefined, what: string, problems: string[]): number | undefined {
    if (!s2) return ipa;
    const r = walkStage2(ipa, s2, this.reader, undefined, true);
    if ('type' in r) {
      problems.push(`${what} at IPA ${hex(ipa)}: stage 2 does not translate it (${r.type}: ${r.reason})`);
      return undefined;
    }
    return r.pa;
  }

  private cds(sid: number, s1: S1Stream, s2: Stage2Config | undefined, out: CdReport[], problems: string[]): void {
    const total = 2 ** s1.cdMax;
    /** Reads one CD; why it is not in the dump, for the caller to report. */
    const cdAt = (ssid: number, ipa: number): string | undefined => {
      const addr = this.structure(ipa, s2, `CD ${ssid} of STE ${hex(sid)}`, problems);
      if (addr === undefined) return undefined;
      const miss = this.outside(addr, 64, `CD ${ssid} of STE ${hex(sid)}`);
      if (miss) return miss;
      const words = this.words(addr, 8);
      if ((words[0] & (1n << 31n)) !== 0n) out.push(this.cd(sid, ssid, addr, words, s1, s2, problems));
      return undefined;
    };
    if (s1.fmt === 0) {
      for (let ssid = 0; ssid < total && this.slot(problems); ssid++) {
        const miss = cdAt(ssid, s1.cdBase + ssid * 64);
        if (!miss) continue;
        // Through stage 2 each CD has its own page; at a PA the table is one run, and once it leaves the dump the rest does too.
        if (s2) {
          problems.push(miss);
          continue;
        }
        const rest = total - ssid - 1;
        problems.push(`${miss}: the linear CD table (${total} CDs from ${hex(s1.cdBase)}) leaves the dump` +
          (rest === 0 ? '' : rest === 1 ? ', so the CD after it is not looked at' : `, so the ${rest} after it are not looked at`));
        return;
      }
      return;
    }
    const leafBits = s1.fmt === 1 ? 6 : 10;
    const l1Count = 2 ** Math.max(s1.cdMax - leafBits, 0);
    for (let i = 0; i < l1Count && this.slot(problems); i++) {
      const l1Addr = this.structure(s1.cdBase + i * 8, s2, `L1CD ${i} of STE ${hex(sid)}`, problems);
      if (l1Addr === undefined) continue;
      const miss = this.outside(l1Addr, 8, `L1CD ${i} of STE ${hex(sid)}`);
      if (miss) {
        problems.push(miss);
        continue;
      }
      const d = read64(this.m, l1Addr, 'cpu');
      if ((d & 1n) === 0n) continue;
      const leaf = Number(d & 0x00ff_ffff_ffff_f000n);
      for (let j = 0; j < 2 ** leafBits && i * 2 ** leafBits + j < total && this.slot(problems); j++) {
        const miss = cdAt(i * 2 ** leafBits + j, leaf + j * 64);
        if (miss) problems.push(miss);
      }
    }
  }

  private cd(sid: number, ssid: number, addr: number, words: bigint[], s1: S1Stream, s2: Stage2Config | undefined, problems: string[]): CdReport {
    const decoded = decode(CD, words, this.ctx);
    const cc = cdConfig(words, this.ctx, s1);
    if (cc.kind === 'invalid') return { ssid, addr, words, decoded, invalid: cc.reason, ranges: [] };
    const cfg = cc.s1;
    const ranges: TableRange[] = [];
    for (const [name, r] of [['TTB0', cfg.ttb0], ['TTB1', cfg.ttb1]] as const) {
      if (!r) continue;
      ranges.push(this.range({
        stage: 1, range: name, granule: r.granule, inputBits: r.inputBits, startLevel: r.startLevel, ttb: r.ttb,
        ds: r.ds, pa52: r.pa52, oasBits: cfg.oasBits, inputBase: name === 'TTB1' ? -(2 ** r.inputBits) : 0,
      }, (input, desc) => this.s1Leaf(cfg, r, s2, name, input, desc), (ipa) => this.structure(ipa, s2, `a stage-1 table of STE ${hex(sid)} CD ${ssid}`, problems),
      problems, `STE ${hex(sid)} CD ${ssid} ${name}`));
    }
    return { ssid, addr, words, decoded, ranges };
  }

  // ---- page tables -----------------------------------------------------------------------------

  /** Bytes of a table at `addr` (an IPA when `toPa` translates), split at stage-2 page boundaries. */
  private tableBytes(addr: number, len: number, toPa: (a: number) => number | undefined, what: string, problems: string[]): TableBytes | undefined {
    const bytes = new Uint8Array(len);
    const chunks: { off: number; pa: number }[] = [];
    for (let off = 0; off < len;) {
      const pa = toPa(addr + off);
      if (pa === undefined) return undefined;
      // Within one 4 KiB page the mapping is contiguous whatever the stage-2 granule.
      const n = Math.min(len - off, 4096 - ((addr + off) % 4096));
      const miss = this.outside(pa, n, what, `${pa !== addr + off ? 'IPA ' : ''}${hex(addr)}..${hex(addr + len)}`);
      if (miss) {
        problems.push(miss);
        return undefined;
      }
      bytes.set(this.m.mem.cpuRead(pa, n), off);
      chunks.push({ off, pa });
      off += n;
    }
    return {
      bytes,
      pa: (offset) => {
        let c = chunks[0];
        for (const x of chunks) if (x.off <= offset) c = x;
        return c.pa + (offset - c.off);
      },
    };
  }

  /** Every valid leaf under a starting table, in input order. */
  private range(g: Geometry, leaf: (input: number, desc: { addr: number; word: bigint; level: Level; type: 'block' | 'page' }) => Mapping,
    toPa: (a: number) => number | undefined, problems: string[], where: string): TableRange {
    const mappings: Mapping[] = [];
    const gs = granuleShift(g.granule);
    const bpl = gs - 3;
    const visit = (table: number, level: Level, width: number, inputBase: number): void => {
      if (this.mappings >= this.maxMappings) return;
      if (++this.tables > MAX_TABLES) {
        if (this.tables === MAX_TABLES + 1) problems.push(`stopped after ${MAX_TABLES} tables: the tables may be corrupt`);
        return;
      }
      const lowBit = gs + bpl * (3 - level);
      const n = 2 ** width;
      const t = this.tableBytes(table, n * 8, toPa, `the ${where} level-${level} table for inputs from ${hex(inputBase)}`, problems);
      if (!t) return;
      const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.length);
      const fmt: PteFormat = { stage: g.stage, granule: g.granule, level, ds: g.ds, pa52: g.pa52 };
      for (let i = 0; i < n; i++) {
        const word = dv.getBigUint64(i * 8, true);
        const type = descriptorType(word, fmt);
        if (type === 'invalid') continue;
        const input = inputBase + i * 2 ** lowBit;
        if (type === 'reserved') {
          problems.push(`${where}: the level-${level} descriptor at ${hex(t.pa(i * 8))} (${hex(word)}) has a reserved encoding: a Translation fault for inputs from ${hex(input)}`);
        } else if (type === 'table') {
          visit(Number(outputAddress(word, fmt)), (level + 1) as Level, bpl, input);
        } else if (this.mappings < this.maxMappings) {
          this.mappings++;
          mappings.push(leaf(input, { addr: t.pa(i * 8), word, level, type }));
          if (this.mappings === this.maxMappings) problems.push(`stopped listing after ${this.maxMappings} mappings`);
        }
      }
    };
    const lowBit = gs + bpl * (3 - g.startLevel);
    const width = g.inputBits - lowBit;
    visit(g.ttb - (g.ttb % startAlign(width, g.oasBits)), g.startLevel, width, g.inputBase);
    return { name: g.range, granule: g.granule, inputBits: g.inputBits, startLevel: g.startLevel, ttb: g.ttb, mappings };
  }

  private s1Leaf(cfg: Stage1Config, r: S1Range, s2: Stage2Config | undefined, name: 'TTB0' | 'TTB1', input: number,
    desc: { addr: number; word: bigint; level: Level; type: 'block' | 'page' }): Mapping {
    const iova = BigInt.asUintN(64, BigInt(input));
    // The walker judges the leaf; AFFD is forced so a clear access flag is shown, not faulted on.
    const s2fn = s2 && ((ipa: number, forTable: boolean): Translation | WalkFault => (forTable
      ? walkStage2(ipa, s2, this.reader, undefined, true)
      : { pa: ipa, inputBase: ipa, outputBase: ipa, size: 2 ** 52, level: 3, perms: ALL_PERMISSIONS, sh: 0 }));
    const w = walkStage1(iova, { ...cfg, affd: true }, this.reader, s2fn);
    const fmt: PteFormat = { stage: 1, granule: r.granule, level: desc.level, ds: r.ds, pa52: r.pa52 };
    const d = leafFields(pteLayoutFor(desc.word, fmt), desc.word, this.ctx);
    const attrIndx = flagOf(d, 'AttrIndx');
    const mair = Number((cfg.mair >> BigInt(8 * attrIndx)) & 0xffn);
    return {
      ...this.leafCommon(1, name, iova, desc, fmt, d, w), output: s2 ? 'ipa' : 'pa',
      attrIndx, mair, memory: mairAttr(mair), nG: flagOf(d, 'nG') === 1,
    };
  }

  private s2Leaf(c: Stage2Config, input: number, desc: { addr: number; word: bigint; level: Level; type: 'block' | 'page' }): Mapping {
    const w = walkStage2(input, { ...c, affd: true }, this.reader);
    const fmt: PteFormat = { stage: 2, granule: c.granule, level: desc.level, ds: c.ds, pa52: c.pa52, s2fwb: c.fwb };
    const d = leafFields(pteLayoutFor(desc.word, fmt), desc.word, this.ctx);
    return {
      ...this.leafCommon(2, 'S2TTB', BigInt(input), desc, fmt, d, w), output: 'pa',
      memAttr: flagOf(d, 'MemAttr'), memory: d.named('MemAttr'),
    };
  }

  private leafCommon(stage: 1 | 2, range: Mapping['range'], iova: bigint, desc: { addr: number; word: bigint; level: Level; type: 'block' | 'page' },
    fmt: PteFormat, d: LeafFields, w: WalkResult | WalkFault): Omit<Mapping, 'output' | 'memory'> {
    const fault = 'type' in w ? `${w.type}: ${w.reason}` : undefined;
    return {
      stage, range, iova, pa: Number(outputAddress(desc.word, fmt)), size: 2 ** (granuleShift(fmt.granule) + (granuleShift(fmt.granule) - 3) * (3 - desc.level)),
      level: desc.level, type: desc.type, descAddr: desc.addr, desc: desc.word,
      perms: 'type' in w ? undefined : w.perms, sh: 'type' in w ? flagOf(d, 'SH') : w.sh, af: flagOf(d, 'AF') === 1,
      contiguous: flagOf(d, 'Contiguous') === 1, fault,
    };
  }
}

/** Inspect a machine holding a dump (see `dumpMachine`). */
export function inspect(m: Machine, dump: DumpMemory, opts: InspectOptions = {}): Inspection {
  return new Inspector(m, dump, opts).inspect(opts);
}

/** One translation as the SMMU would make it now (fetching afresh: no cache is used or filled, no event recorded). */
export function translateOne(m: Machine, sid: number, ssid: number | undefined, iova: bigint): TranslateResult {
  return m.smmu.probe({ sid, ssid, iova, access: 'read', priv: false }, new Map());
}
