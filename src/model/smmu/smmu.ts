/**
 * The SMMU: its registers, the stream table and CD fetches with the configuration cache,
 * translation through the TLB and the walker, the command queue and the event queue in
 * memory. It reads and writes memory only through the memory system's SMMU view, so a
 * non-coherent SMMU reading uncleaned tables or queues sees the stale bytes.
 *
 * Caching follows the architecture's permissions, deterministically: whatever the SMMU
 * fetches while SMMUEN=1 it caches (valid or not, as the architecture allows), and keeps
 * until a CFGI/TLBI command drops it. Nothing is cached while SMMUEN=0.
 */
import { decode, fieldValue, findField, requireField, setField } from '../../arch/codec';
import { commandLayoutFor, CommandLayout } from '../../arch/commands';
import { encodeEvent, eventByName } from '../../arch/events';
import { ArchContext, mask } from '../../arch/field';
import { registerByName, registerByOffset, RegisterLayout, REGISTERS } from '../../arch/registers';
import { bytesToBigint, bigintToBytes } from '../memory';
import { MemorySystem } from '../memsys';
import { cdConfig, CdConfig, S1Stream, StreamConfig, streamConfig } from './config';
import { archContext, idRegisters, SmmuFeatures } from './features';
import { advance, entryAddress, indexOf, isEmpty, isFull, QueueGeometry } from './queue';
import { Tlb } from './tlb';
import { Access, DescriptorReader, Stage1Config, Stage2Config, TlbEntry, Transaction, Translation, WalkFault, WalkStep } from './types';
import { inputAddress, permissionFault, translateInput, walkStage2 } from './walk';
import { RESERVE, stepsIn, WalkLog } from './walkLog';

/** A structure fetched for a translation, or found in the configuration cache. */
export interface ConfigStep {
  readonly what: 'l1std' | 'ste' | 'l1cd' | 'cd';
  readonly addr: number;
  readonly words: readonly bigint[];
  readonly source: 'memory' | 'cache';
}

/** What the SMMU did, reported to whoever drives it (the trace, the debugger, the checker). */
export type SmmuActivity =
  | { readonly kind: 'fetch'; readonly what: ConfigStep['what'] | 'cmd'; readonly addr: number; readonly words: readonly bigint[]; readonly sid?: number; readonly ssid?: number }
  | { readonly kind: 'command'; readonly index: number; readonly name: string; readonly words: readonly bigint[]; readonly effect: string }
  | { readonly kind: 'command-error'; readonly index: number; readonly cerror: 'ILL' | 'ABT'; readonly reason: string }
  | { readonly kind: 'sync'; readonly index: number; readonly msi?: { readonly addr: number; readonly data: number } }
  | { readonly kind: 'event'; readonly name: string; readonly words: readonly bigint[]; readonly recorded: boolean; readonly addr?: number; readonly why?: string }
  | { readonly kind: 'register'; readonly name: string; readonly value: bigint; readonly ignored?: string }
  | { readonly kind: 'translate'; readonly tx: Transaction; readonly result: TranslateResult };

export interface TranslateResult {
  /** ok: translated; bypass: passed through untranslated; abort: terminated without an event; fault: terminated with an event. */
  readonly outcome: 'ok' | 'bypass' | 'abort' | 'fault';
  readonly pa?: number;
  /** The event the SMMU recorded or would have recorded. */
  readonly event?: { readonly name: string; readonly words: readonly bigint[]; readonly recorded: boolean };
  readonly reason: string;
  readonly config: readonly ConfigStep[];
  readonly walk: readonly WalkStep[];
  readonly tlbHit: boolean;
  readonly translation?: Translation;
}

interface CachedSte {
  readonly addr: number;
  readonly words: readonly bigint[];
  readonly config: StreamConfig;
}

interface CachedCd {
  readonly addr: number;
  readonly words: readonly bigint[];
  readonly config: CdConfig;
}

/** What a translation ends with before the config and walk steps are added. */
type Outcome = Omit<TranslateResult, 'config' | 'walk' | 'tlbHit'>;

/** A stream's configuration resolved from its cached STE and CD: what a TLB lookup or a walk needs. */
interface Route {
  /** The register generation it was resolved under. */
  readonly gen: number;
  readonly ste: CachedSte;
  readonly cd?: CachedCd;
  readonly cdKey: number;
  readonly s1?: Stage1Config;
  readonly s2?: Stage2Config;
  readonly recordFaults: boolean;
  readonly stage: 's1' | 's2' | 'nested';
  readonly tag: { readonly vmid: number; readonly asid: number; readonly el2: boolean };
  readonly ias: number;
  readonly config: readonly ConfigStep[];
}

/** Decoded STE and CD configurations by ID registers (the base context), then by kind and words. */
const DECODED = new WeakMap<ArchContext, Map<string, StreamConfig | CdConfig>>();
const DECODED_MAX = 4096;

/** Route key: StreamID and SubstreamID + 1 (0 for none) in one exact number. */
const routeKey = (tx: Transaction): number => tx.sid * 0x200000 + (tx.ssid === undefined ? 0 : tx.ssid + 1);

/** CD cache key: StreamID and SubstreamID (20 bits) in one exact number. */
const cdKey = (sid: number, ssid: number): number => sid * 0x100000 + ssid;
const SSID_SPACE = 0x100000;

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** Registers by the names the model itself uses on every access, looked up once each. */
const byName = new Map<string, RegisterLayout | undefined>();
function registerNamed(name: string): RegisterLayout | undefined {
  let r = byName.get(name);
  if (r === undefined && !byName.has(name)) {
    r = registerByName(name);
    byName.set(name, r);
  }
  return r;
}

/**
 * An event record with the fields its type carries: fields the record does not have are
 * left out, and addresses keep only the bits the record holds.
 */
function eventRecord(name: string, fields: Record<string, bigint | number | boolean | string>): bigint[] {
  const layout = eventByName(name)!;
  const kept: Record<string, bigint | number | boolean | string> = {};
  for (const [k, v] of Object.entries(fields)) {
    const f = findField(layout, k);
    if (!f) continue;
    kept[k] = f.kind === 'address' ? BigInt.asUintN(64, BigInt(v)) & ~((1n << BigInt(f.lo % 64)) - 1n) & mask(f.hi % 64 + 1) : v;
  }
  return encodeEvent(name, kept);
}

const NO_WALK: readonly WalkStep[] = Object.freeze([]);

/** What a TLB entry grants, as a walk's translation says it. */
function cachedTranslation(e: TlbEntry, pa: number): Translation {
  return { pa, inputBase: e.inputBase, outputBase: e.outputBase, size: e.size, level: e.level, perms: e.perms, attrIndx: e.attrIndx, memAttr: e.memAttr, sh: e.sh };
}

/**
 * A translation's result: its explanation is made only when read, as formatting the
 * addresses costs more than the translation itself and most results are never explained;
 * so are the objects of its walk's steps, which stay numbers in the SMMU's walk log until then.
 */
class OkResult implements TranslateResult {
  readonly outcome: 'ok';
  readonly pa: number;
  readonly translation?: Translation;
  readonly config: readonly ConfigStep[];
  readonly tlbHit: boolean;
  readonly #iova: bigint;
  /** The walk's steps once read; until then, where they are in a walk log's chunk. */
  #walk: readonly WalkStep[] | undefined;
  #chunk: Float64Array | undefined;
  readonly #start: number;
  readonly #end: number;

  /**
   * A TLB hit when there is no walk (`chunk`); its steps are [start, end) of `chunk`. A hit's
   * `translation`, when given, is what the cached entry grants (for the checker's probes).
   */
  constructor(pa: number, iova: bigint, config: readonly ConfigStep[], translation?: Translation, chunk?: Float64Array, start = 0, end = 0) {
    this.outcome = 'ok';
    this.pa = pa;
    if (translation) this.translation = translation;
    this.config = config;
    this.tlbHit = chunk === undefined;
    this.#iova = iova;
    this.#walk = chunk ? undefined : NO_WALK;
    this.#chunk = chunk;
    this.#start = start;
    this.#end = end;
  }

  get walk(): readonly WalkStep[] {
    if (this.#walk === undefined) {
      this.#walk = stepsIn(this.#chunk!, this.#start, this.#end);
      this.#chunk = undefined;
    }
    return this.#walk;
  }

  get reason(): string {
    return `${this.tlbHit ? 'TLB hit: ' : ''}${hex(this.#iova)} → ${hex(this.pa)}`;
  }

  /** As a plain result would be written (the explanation and the walk are not own properties here). */
  toJSON(): object {
    return { outcome: this.outcome, pa: this.pa, reason: this.reason, translation: this.translation, config: this.config, walk: this.walk, tlbHit: this.tlbHit };
  }
}

class Fault {
  /** Whether to record it, when a configuration other than the CD's decides (STE.S2R for CD fetch faults). */
  record?: boolean;

  constructor(readonly event: string, readonly reason: string, readonly fields: Record<string, bigint | number | boolean | string> = {}) {}
}

export class Smmu {
  private readonly baseCtx: ArchContext;
  private regs: Map<string, bigint>;
  private steCache: Map<number, CachedSte>;
  private l1stdCache: Map<number, { addr: number; word: bigint }>;
  private cdCache: Map<number, CachedCd>;
  private l1cdCache: Map<number, { addr: number; word: bigint }>;
  readonly tlb: Tlb;
  private readonly reader: DescriptorReader;
  /** Command queue entries consumed since the last CMD_SYNC (the checker asks what is still unsynchronised). */
  private unsynced: number;
  /** While probing: memory overrides by qword address; caches, events and activity are left alone. */
  private overlay?: ReadonlyMap<number, bigint>;
  /** While probing: whether cached structures and translations are used (never filled). */
  private probeCaches = false;
  /** Resolved routes by stream (see `cachedRoute`), valid while the registers' generation is unchanged. */
  private routes = new Map<number, Route>();
  /** Bumped by every MMIO write: a route resolved before may no longer hold. */
  private regGen = 0;
  /**
   * Where translations record their walks' steps (results make objects of them when read).
   * Made on the first walk: a machine is snapshotted at every statement boundary, and most
   * snapshots never translate.
   */
  private walkLog?: WalkLog;
  private get log(): WalkLog {
    return (this.walkLog ??= new WalkLog());
  }

  /** Changes whenever the CPU writes a register (what translations depend on besides memory). */
  get registerGeneration(): number {
    return this.regGen;
  }

  constructor(
    readonly features: SmmuFeatures,
    private mem: MemorySystem,
    private readonly emit: (a: SmmuActivity) => void = () => undefined,
    from?: Smmu,
  ) {
    this.baseCtx = from?.baseCtx ?? archContext(features);
    this.regs = from ? new Map(from.regs) : this.resetRegisters();
    this.steCache = from ? new Map(from.steCache) : new Map();
    this.l1stdCache = from ? new Map(from.l1stdCache) : new Map();
    this.cdCache = from ? new Map(from.cdCache) : new Map();
    this.l1cdCache = from ? new Map(from.l1cdCache) : new Map();
    this.tlb = from ? from.tlb.snapshot() : new Tlb();
    this.unsynced = from?.unsynced ?? 0;
    this.reader = {
      read: (addr, out) => {
        const o = this.overlay?.get(addr);
        if (o === undefined) {
          this.mem.smmuReadU64Parts(addr, out);
        } else {
          out[0] = Number(o & 0xffffffffn);
          out[1] = Number(o >> 32n);
        }
      },
    };
  }

  /** A copy over a snapshot of memory (the SMMU's caches are copied; the TLB is snapshotted). */
  snapshot(mem: MemorySystem, emit?: (a: SmmuActivity) => void): Smmu {
    return new Smmu(this.features, mem, emit ?? this.emit, this);
  }

  /** What the format tables check structures against: the ID registers, and CR2.E2H. */
  get ctx(): ArchContext {
    return this.field('CR2', 'E2H') === 1 ? { ...this.baseCtx, e2h: true } : this.baseCtx;
  }

  private resetRegisters(): Map<string, bigint> {
    const regs = new Map<string, bigint>();
    for (const r of REGISTERS) regs.set(r.name, 0n);
    const id = idRegisters(this.features);
    for (const [name, v] of Object.entries(id)) regs.set(name, BigInt(v));
    // SMMUv3.2 (ArchMajorRev 0, ArchMinorRev 2), Arm as implementer.
    regs.set('AIDR', 0x2n);
    regs.set('IIDR', 0x43bn);
    return regs;
  }

  // ---- registers ------------------------------------------------------------------

  /** A register by name (kernel or architecture spelling) or offset; throws with the known names. */
  register(nameOrOffset: string | number): RegisterLayout {
    const r = typeof nameOrOffset === 'number' ? registerByOffset(nameOrOffset) : registerNamed(nameOrOffset);
    if (!r) {
      throw new RangeError(`no SMMU register ${typeof nameOrOffset === 'number' ? 'at offset ' + hex(nameOrOffset) : `'${nameOrOffset}'`}; ` +
        `known: ${REGISTERS.map((x) => x.name).join(', ')}`);
    }
    return r;
  }

  read(nameOrOffset: string | number): bigint {
    return this.regs.get(this.register(nameOrOffset).name) ?? 0n;
  }

  /** Every register's value, for views. */
  registers(): ReadonlyMap<string, bigint> {
    return this.regs;
  }

  /** A register field's value, read through the register table without a full decode (this is on the DMA path). */
  private field(reg: string, field: string): number {
    const r = this.register(reg);
    return Number(fieldValue(r, [this.regs.get(r.name) ?? 0n], requireField(r, field)));
  }

  private setField(reg: string, field: string, value: number | bigint): void {
    const r = this.register(reg);
    this.regs.set(r.name, setField(r, [this.regs.get(r.name) ?? 0n], field, BigInt(value))[0]);
  }

  get enabled(): boolean {
    return this.field('CR0', 'SMMUEN') === 1;
  }

  /**
   * An MMIO write from the CPU. Returns a note when the SMMU ignores or constrains the
   * write (the architecture makes some registers read-only while enabled).
   */
  write(nameOrOffset: string | number, value: bigint): string | undefined {
    const r = this.register(nameOrOffset);
    const v = BigInt.asUintN(r.wordBits, value);
    this.regGen++;
    const ignored = this.writeIgnoredBecause(r, v);
    if (r.access === 'RO' || ignored) {
      const why = ignored ?? `${r.name} is read-only`;
      this.emit({ kind: 'register', name: r.name, value: v, ignored: why });
      return why;
    }
    const kept = this.guardedBits(r);
    const stored = kept === 0n ? v : (v & ~kept) | ((this.regs.get(r.name) ?? 0n) & kept);
    this.regs.set(r.name, stored);
    this.emit({ kind: 'register', name: r.name, value: stored, ignored: stored !== v ? 'fields guarded by an enable keep their value' : undefined });
    switch (r.name) {
      case 'CR0':
        this.regs.set('CR0ACK', stored);
        if (this.field('CR0', 'CMDQEN') === 1) this.consumeCommands();
        break;
      case 'IRQ_CTRL':
        this.regs.set('IRQ_CTRLACK', stored);
        break;
      case 'GBPA':
        // The update completes at once: UPDATE reads back as 0.
        this.setField('GBPA', 'UPDATE', 0);
        break;
      case 'CMDQ_PROD':
      case 'GERRORN':
        // Acknowledging CMDQ_ERR lets the SMMU go on with the queue without a PROD write.
        this.consumeCommands();
        break;
      default:
        break;
    }
    return undefined;
  }

  /**
   * Take register values as a real SMMU held them (a memory dump): set as they are, with no
   * write side effects (no commands consumed, nothing reported); the acknowledge registers
   * follow CR0 and IRQ_CTRL, and a GBPA update is complete. Caches stay empty.
   */
  adoptRegisters(values: ReadonlyMap<string, bigint>): void {
    for (const [name, v] of values) {
      const r = this.register(name);
      this.regs.set(r.name, BigInt.asUintN(r.wordBits, v));
    }
    this.regs.set('CR0ACK', this.regs.get('CR0') ?? 0n);
    this.regs.set('IRQ_CTRLACK', this.regs.get('IRQ_CTRL') ?? 0n);
    this.setField('GBPA', 'UPDATE', 0);
  }

  /** Registers the architecture makes read-only (writes ignored) in the current state. */
  private writeIgnoredBecause(r: RegisterLayout, v: bigint): string | undefined {
    const smmuen = this.field('CR0ACK', 'SMMUEN') === 1;
    if (smmuen && (r.name === 'STRTAB_BASE' || r.name === 'STRTAB_BASE_CFG')) {
      return `${r.name} is read-only while CR0.SMMUEN=1: the write is ignored and the SMMU keeps using the old stream table`;
    }
    if (smmuen && r.name === 'CR2') return 'CR2 is read-only while CR0.SMMUEN=1';
    if (r.name === 'CMDQ_CONS' && this.field('CR0ACK', 'CMDQEN') === 1) return 'CMDQ_CONS is read-only while CR0.CMDQEN=1';
    if (r.name === 'GBPA' && (v & (1n << 31n)) === 0n) return 'a GBPA write without UPDATE=1 is ignored (SMMUv3.2 and later)';
    if (r.name === 'CMDQ_BASE' && this.field('CR0ACK', 'CMDQEN') === 1) return 'CMDQ_BASE is read-only while CR0.CMDQEN=1';
    if (r.name === 'EVENTQ_BASE' && this.field('CR0ACK', 'EVENTQEN') === 1) return 'EVENTQ_BASE is read-only while CR0.EVENTQEN=1';
    if (r.name === 'PRIQ_BASE' && this.field('CR0ACK', 'PRIQEN') === 1) return 'PRIQ_BASE is read-only while CR0.PRIQEN=1';
    if (r.name === 'GBPA' && this.field('GBPA', 'UPDATE') === 1) return 'a GBPA update is still in progress';
    return undefined;
  }

  /** Bits of a register that keep their value because an enable guards them (CR1). */
  private guardedBits(r: RegisterLayout): bigint {
    if (r.name !== 'CR1') return 0n;
    const table = this.field('CR0ACK', 'SMMUEN') === 1 ? 0xfc0n : 0n; // TABLE_SH/OC/IC [11:6]
    const queues = ['CMDQEN', 'EVENTQEN', 'PRIQEN'].some((f) => this.field('CR0ACK', f) === 1) ? 0x3fn : 0n; // QUEUE_* [5:0]
    return table | queues;
  }

  // ---- configuration --------------------------------------------------------------

  /** Whether an access to [addr, addr+len) lies beyond the output address size (a corrupt or mistyped address): it aborts. */
  private beyondOas(addr: number, len: number): boolean {
    return addr < 0 || addr + len > 2 ** this.features.oasBits;
  }

  private readWords(addr: number, count: number, fetch?: 'F_STE_FETCH' | 'F_CD_FETCH'): bigint[] {
    // A pointer beyond the output address size (garbage in a table, say) makes the fetch fail.
    if (fetch && this.beyondOas(addr, count * 8)) {
      throw new Fault(fetch, `the ${fetch === 'F_STE_FETCH' ? 'STE' : 'CD'} fetch at ${hex(addr)} is beyond the ${this.features.oasBits}-bit output address size`, { FetchAddr: addr });
    }
    const bytes = this.mem.smmuRead(addr, count * 8);
    const words: bigint[] = [];
    for (let i = 0; i < count; i++) words.push(this.overlay?.get(addr + 8 * i) ?? bytesToBigint(bytes, i * 8, 8));
    return words;
  }

  /** Caches are filled only while enabled, and never by a probe. */
  private get filling(): boolean {
    return this.enabled && !this.overlay;
  }

  /**
   * What the SMMU would do with a transaction if it fetched everything afresh now, with
   * some qwords of memory replaced: used by the hazard checker to judge each value the
   * SMMU could observe. Touches no cache, records no event, reports no activity.
   */
  probe(tx: Transaction, overlay: ReadonlyMap<number, bigint>, useCaches = false): TranslateResult {
    const saved = [this.overlay, this.probeCaches] as const;
    this.overlay = overlay;
    this.probeCaches = useCaches;
    try {
      return this.translate(tx);
    } finally {
      [this.overlay, this.probeCaches] = saved;
    }
  }

  /** Whether lookups may use the caches: always, except in a probe that fetches afresh. */
  private get lookups(): boolean {
    return !this.overlay || this.probeCaches;
  }

  private report(a: SmmuActivity): void {
    if (!this.overlay) this.emit(a);
  }

  /** Where the STE of a StreamID is, walking the L1 descriptor if 2-level; throws Fault. */
  private steAddress(sid: number, steps: ConfigStep[]): number {
    const base = Number(this.read('STRTAB_BASE') & 0x00ff_ffff_ffff_ffc0n);
    const fmt = this.field('STRTAB_BASE_CFG', 'FMT');
    const log2size = Math.min(this.field('STRTAB_BASE_CFG', 'LOG2SIZE'), this.features.sidBits);
    if (sid >= 2 ** log2size || sid < 0) {
      throw new Fault('C_BAD_STREAMID', `StreamID ${hex(sid)} is beyond the stream table (2^${log2size} StreamIDs)`, { StreamID: sid });
    }
    if (fmt !== 1) return base + sid * 64;
    const split = this.field('STRTAB_BASE_CFG', 'SPLIT');
    const l1 = Math.floor(sid / 2 ** split);
    const l1Addr = base + l1 * 8;
    let entry = this.lookups ? this.l1stdCache.get(l1) : undefined;
    if (entry) {
      steps.push({ what: 'l1std', addr: entry.addr, words: [entry.word], source: 'cache' });
    } else {
      const word = this.readWords(l1Addr, 1, 'F_STE_FETCH')[0];
      entry = { addr: l1Addr, word };
      this.report({ kind: 'fetch', what: 'l1std', addr: l1Addr, words: [word], sid });
      steps.push({ what: 'l1std', addr: l1Addr, words: [word], source: 'memory' });
      if (this.filling) this.l1stdCache.set(l1, entry);
    }
    const span = Number(entry.word & 0x1fn);
    if (span === 0 || span > 11) {
      throw new Fault('C_BAD_STREAMID', `L1STD ${l1} at ${hex(l1Addr)} is invalid (Span=${span}): StreamID ${hex(sid)} has no STE`, { StreamID: sid });
    }
    const l2 = sid % 2 ** split;
    if (l2 >= 2 ** (span - 1)) {
      throw new Fault('C_BAD_STREAMID', `StreamID ${hex(sid)} is beyond the ${2 ** (span - 1)} STEs of L1STD ${l1} (Span=${span})`, { StreamID: sid });
    }
    return Number(entry.word & 0x00ff_ffff_ffff_ffc0n) + l2 * 64;
  }

  /**
   * A fetched structure's configuration, decoded once per distinct value: the same words
   * decode the same way under the same ID registers and CR2.E2H (and, for a CD, the same
   * stream fields), and the checker's probes fetch the same entries after every step.
   */
  private decoded<T extends StreamConfig | CdConfig>(what: string, words: readonly bigint[], make: () => T): T {
    let memo = DECODED.get(this.baseCtx);
    if (!memo) DECODED.set(this.baseCtx, (memo = new Map()));
    const key = `${what}:${this.ctx.e2h === true}:${words.join(',')}`;
    let c = memo.get(key) as T | undefined;
    if (!c) {
      // A bound, for runs that write very many distinct entries.
      if (memo.size >= DECODED_MAX) memo.clear();
      c = make();
      memo.set(key, c);
    }
    return c;
  }

  /** The STE of a StreamID, from the cache or memory. */
  private ste(sid: number, steps: ConfigStep[]): CachedSte {
    const cached = this.lookups ? this.steCache.get(sid) : undefined;
    if (cached) {
      steps.push({ what: 'ste', addr: cached.addr, words: cached.words, source: 'cache' });
      return cached;
    }
    const addr = this.steAddress(sid, steps);
    const words = this.readWords(addr, 8, 'F_STE_FETCH');
    const ste: CachedSte = { addr, words, config: this.decoded('ste', words, () => streamConfig(words, this.ctx)) };
    this.report({ kind: 'fetch', what: 'ste', addr, words, sid });
    steps.push({ what: 'ste', addr, words, source: 'memory' });
    if (this.filling) this.steCache.set(sid, ste);
    return ste;
  }

  /** The address of a configuration structure the STE locates, through stage 2 when nested. */
  private structureAddress(ipaOrPa: number, s2: Stage2Config | undefined, log: WalkLog, input: bigint): number {
    if (!s2) return ipaOrPa;
    const r = walkStage2(ipaOrPa, s2, this.reader, log, true);
    if ('type' in r) {
      // The record names the transaction's address, the CD's IPA, and is recorded per STE.S2R.
      const f = this.walkFault({ ...r, ipa: ipaOrPa }, input, 'CD');
      f.record = s2.record;
      throw f;
    }
    return r.pa;
  }

  /** The CD for a SubstreamID (0 for transactions without one that use CD 0). */
  private cd(sid: number, ssid: number, s1: S1Stream, s2: Stage2Config | undefined, steps: ConfigStep[], log: WalkLog, input: bigint): CachedCd {
    const key = cdKey(sid, ssid);
    const cached = this.lookups ? this.cdCache.get(key) : undefined;
    if (cached) {
      steps.push({ what: 'cd', addr: cached.addr, words: cached.words, source: 'cache' });
      return cached;
    }
    let cdAddr: number;
    if (s1.fmt === 0) {
      cdAddr = s1.cdBase + ssid * 64;
    } else {
      const leafBits = s1.fmt === 1 ? 6 : 10; // 4KB leaf tables hold 64 CDs, 64KB hold 1024
      const l1 = Math.floor(ssid / 2 ** leafBits);
      const l1Key = cdKey(sid, l1);
      let entry = this.lookups ? this.l1cdCache.get(l1Key) : undefined;
      if (entry) {
        steps.push({ what: 'l1cd', addr: entry.addr, words: [entry.word], source: 'cache' });
      } else {
        const l1Addr = this.structureAddress(s1.cdBase + l1 * 8, s2, log, input);
        const word = this.readWords(l1Addr, 1, 'F_CD_FETCH')[0];
        entry = { addr: l1Addr, word };
        this.report({ kind: 'fetch', what: 'l1cd', addr: l1Addr, words: [word], sid, ssid });
        steps.push({ what: 'l1cd', addr: l1Addr, words: [word], source: 'memory' });
        if (this.filling) this.l1cdCache.set(l1Key, entry);
      }
      if ((entry.word & 1n) === 0n) {
        throw new Fault('C_BAD_SUBSTREAMID', `L1CD ${l1} at ${hex(entry.addr)} is invalid (V=0): SubstreamID ${hex(ssid)} has no CD`,
          { StreamID: sid, SubstreamID: ssid, SSV: true });
      }
      const leafBase = Number(entry.word & 0x00ff_ffff_ffff_f000n);
      cdAddr = leafBase + (ssid % 2 ** leafBits) * 64;
    }
    const addr = this.structureAddress(cdAddr, s2, log, input);
    const words = this.readWords(addr, 8, 'F_CD_FETCH');
    const cd: CachedCd = { addr, words, config: this.decoded(`cd:${s1.vmid}:${s1.el2}:${s1.stalld}`, words, () => cdConfig(words, this.ctx, s1)) };
    this.report({ kind: 'fetch', what: 'cd', addr, words, sid, ssid });
    steps.push({ what: 'cd', addr, words, source: 'memory' });
    if (this.filling) this.cdCache.set(key, cd);
    return cd;
  }

  /** What the configuration cache holds, for views and the checker. */
  cachedStes(): ReadonlyMap<number, CachedSte> {
    return this.steCache;
  }

  cachedCds(): { sid: number; ssid: number; entry: CachedCd }[] {
    return [...this.cdCache].map(([k, entry]) => ({ sid: Math.floor(k / SSID_SPACE), ssid: k % SSID_SPACE, entry }));
  }

  cachedL1Stds(): ReadonlyMap<number, { addr: number; word: bigint }> {
    return this.l1stdCache;
  }

  cachedL1Cds(): { sid: number; index: number; addr: number; word: bigint }[] {
    return [...this.l1cdCache].map(([k, e]) => ({ sid: Math.floor(k / SSID_SPACE), index: k % SSID_SPACE, ...e }));
  }

  // ---- translation ----------------------------------------------------------------

  private walkFault(f: WalkFault, input: bigint, cls?: 'CD'): Fault {
    const fields: Record<string, bigint | number | boolean | string> = {
      InputAddr: input, S2: f.stage === 2, CLASS: cls ?? f.cls,
    };
    if (f.ipa !== undefined) fields.IPA = f.ipa;
    if (f.fetchAddr !== undefined) fields.FetchAddr = f.fetchAddr;
    return new Fault(f.type, f.reason, fields);
  }

  /**
   * The route of a stream when its STE (and CD) are cached and the registers unchanged
   * since it was worked out: the common case of DMA, which then needs only the TLB.
   */
  private cachedRoute(tx: Transaction): Route | undefined {
    const r = this.routes.get(routeKey(tx));
    if (!r || r.gen !== this.regGen || this.steCache.get(tx.sid) !== r.ste) return undefined;
    return r.cd === undefined || this.cdCache.get(r.cdKey) === r.cd ? r : undefined;
  }

  /**
   * From the STE and CD (cached or fetched) to what the walk needs; an outcome when the
   * transaction ends here (abort, bypass); throws Fault.
   */
  private resolve(tx: Transaction, config: ConfigStep[], log: WalkLog): Route | Outcome {
    const ste = this.ste(tx.sid, config);
    const c = ste.config;
    if (c.kind === 'invalid') throw new Fault('C_BAD_STE', `STE of StreamID ${hex(tx.sid)} at ${hex(ste.addr)}: ${c.reason}`);
    if (c.kind === 'abort') return { outcome: 'abort', reason: `STE of StreamID ${hex(tx.sid)} aborts (Config=ABORT): no event` };
    if (c.kind === 'bypass') {
      if (tx.ssid !== undefined) throw new Fault('C_BAD_SUBSTREAMID', 'a SubstreamID was given to a bypass STE');
      return { outcome: 'bypass', pa: Number(BigInt.asUintN(52, tx.iova)), reason: `STE of StreamID ${hex(tx.sid)} is bypass` };
    }
    let s1 = undefined;
    let cd: CachedCd | undefined;
    let key = -1;
    let recordFaults = true;
    if (c.s1) {
      const useS1 = this.selectCd(tx, c.s1);
      if (useS1 !== undefined) {
        cd = this.cd(tx.sid, useS1, c.s1, c.s2, config, log, tx.iova);
        key = cdKey(tx.sid, useS1);
        if (cd.config.kind === 'invalid') {
          throw new Fault('C_BAD_CD', `CD ${useS1} of StreamID ${hex(tx.sid)} at ${hex(cd.addr)}: ${cd.config.reason}`);
        }
        s1 = cd.config.s1;
        recordFaults = s1.record;
      }
    } else if (tx.ssid !== undefined) {
      throw new Fault('C_BAD_SUBSTREAMID', 'a SubstreamID was given to an STE without stage 1');
    }
    if (!s1 && c.s2) recordFaults = c.s2.record;
    if (!s1 && !c.s2) {
      return { outcome: 'bypass', pa: Number(BigInt.asUintN(52, tx.iova)), reason: 'stage 1 bypassed (S1DSS=BYPASS) and no stage 2' };
    }
    const route: Route = {
      gen: this.regGen, ste, cd, cdKey: key, s1, s2: c.s2, recordFaults,
      stage: s1 && c.s2 ? 'nested' : s1 ? 's1' : 's2',
      tag: { vmid: s1 ? s1.vmid : c.s2!.vmid, asid: s1 ? s1.asid : -1, el2: s1 ? s1.el2 : false },
      ias: this.ctx.ias ?? 52,
      // What a translation through the caches reports: the STE and the CD, nothing else.
      config: Object.freeze([
        { what: 'ste', addr: ste.addr, words: ste.words, source: 'cache' } as const,
        ...(cd ? [{ what: 'cd', addr: cd.addr, words: cd.words, source: 'cache' } as const] : []),
      ]),
    };
    if (this.filling && (!cd || this.cdCache.get(route.cdKey) === cd)) this.routes.set(routeKey(tx), route);
    return route;
  }

  /**
   * A result other than a translation (abort, bypass, fault), completed with what was
   * fetched and walked, and reported. `r` is always a literal made for this: completed in
   * place (a spread with more properties after it costs microseconds on the V8 of Node 20).
   */
  private finish(tx: Transaction, log: WalkLog, start: number, config: readonly ConfigStep[], r: Outcome): TranslateResult {
    const result = r as { -readonly [K in keyof TranslateResult]: TranslateResult[K] };
    result.config = config;
    result.walk = stepsIn(log.chunk, start, log.length);
    result.tlbHit = false;
    this.report({ kind: 'translate', tx, result });
    return result;
  }

  private ok(tx: Transaction, result: OkResult): TranslateResult {
    this.report({ kind: 'translate', tx, result });
    return result;
  }

  /** Translate one transaction, recording what was fetched and any event. */
  translate(tx: Transaction): TranslateResult {
    // A translation made while another is recording (by a listener of its activity) gets a
    // log of its own, so the steps of the two do not mix.
    const log = this.log.recording ? new WalkLog(RESERVE) : this.log;
    const start = log.begin();
    try {
      return this.translateLogged(tx, log, start);
    } finally {
      log.end();
    }
  }

  /** `translate`, the walk's steps recorded in `log` from `start`. */
  private translateLogged(tx: Transaction, log: WalkLog, start: number): TranslateResult {
    let config: readonly ConfigStep[] = [];
    let recordFaults = true;
    const fast = this.overlay ? undefined : this.cachedRoute(tx);
    if (!fast && !this.enabled) {
      if (this.field('GBPA', 'ABORT') === 1) return this.finish(tx, log, start, config, { outcome: 'abort', reason: 'SMMUEN=0 and GBPA.ABORT=1: the transaction is aborted, no event' });
      return this.finish(tx, log, start, config, { outcome: 'bypass', pa: Number(BigInt.asUintN(52, tx.iova)), reason: 'SMMUEN=0: GBPA lets the transaction bypass' });
    }
    try {
      let route: Route;
      if (fast) {
        route = fast;
        config = fast.config;
      } else {
        const steps: ConfigStep[] = [];
        config = steps;
        const r = this.resolve(tx, steps, log);
        if ('outcome' in r) return this.finish(tx, log, start, config, r);
        route = r;
      }
      recordFaults = route.recordFaults;
      const { s1, s2, stage, tag, ias } = route;
      const input = inputAddress(tx.iova, s1, ias);
      if (typeof input === 'number' && this.lookups) {
        const hit = this.tlb.find(tag.vmid, tag.asid, stage, tag.el2, input);
        // A denied hit walks again below, so the fault names the stage and level that deny it.
        if (hit >= 0 && !permissionFault(this.tlb.permissionsAt(hit), tx.access, tx.priv, s1 !== undefined && s1.pan && !s1.el2)) {
          const pa = this.tlb.outputAt(hit, input);
          // A probe (the checker comparing what the SMMU caches with memory) also learns what the
          // entry grants; DMA stays allocation-free.
          return this.ok(tx, new OkResult(pa, tx.iova, config, this.overlay ? cachedTranslation(this.tlb.entryAt(hit), pa) : undefined));
        }
      }
      // The walk from the input the lookup used (an input out of range is the walk's fault).
      const r = typeof input === 'number' ? translateInput(input, s1, s2, this.reader, log, tx.access, tx.priv) : input;
      if ('type' in r) {
        if (r.stage === 2 && s1) recordFaults = s2!.record;
        throw this.walkFault(r, tx.iova);
      }
      // Enabled here (checked above, or implied by a route): only a probe leaves the caches alone.
      if (!this.overlay) {
        this.tlb.insertWalk(r, tag);
        this.tlb.recordLoggedWalk(tag, log.chunk, start, log.length);
      }
      return this.ok(tx, new OkResult(r.pa, tx.iova, config, r, log.chunk, start, log.length));
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      const translationFault = e.event.startsWith('F_') && e.event !== 'F_WALK_EABT' && e.event !== 'F_STREAM_DISABLED';
      // C_BAD_STREAMID is recorded only with CR2.RECINVSID=1.
      let record: boolean;
      if (e.record !== undefined) record = e.record;
      else if (translationFault) record = recordFaults;
      else if (e.event === 'C_BAD_STREAMID') record = this.field('CR2', 'RECINVSID') === 1;
      else record = true;
      const fields: Record<string, bigint | number | boolean | string> = {
        StreamID: tx.sid, ...(tx.ssid !== undefined ? { SSV: true, SubstreamID: tx.ssid } : {}),
        ...(translationFault ? { RnW: tx.access !== 'write', InD: tx.access === 'exec', PnU: tx.priv } : {}),
        ...e.fields,
      };
      const words = eventRecord(e.event, fields);
      const recorded = record && !this.overlay && this.recordEvent(e.event, words);
      return this.finish(tx, log, start, config, { outcome: 'fault', event: { name: e.event, words, recorded }, reason: e.reason });
    }
  }

  /** Which CD a transaction uses, per S1CDMax and S1DSS; undefined to bypass stage 1; throws Fault. */
  private selectCd(tx: Transaction, s1: S1Stream): number | undefined {
    if (s1.cdMax === 0) {
      if (tx.ssid !== undefined) throw new Fault('C_BAD_SUBSTREAMID', 'a SubstreamID was given but the STE has substreams disabled (S1CDMax=0)');
      return 0;
    }
    if (tx.ssid === undefined) {
      if (s1.dss === 0) throw new Fault('F_STREAM_DISABLED', 'no SubstreamID and S1DSS=TERMINATE');
      if (s1.dss === 1) return undefined;
      return 0;
    }
    if (tx.ssid >= 2 ** s1.cdMax) {
      throw new Fault('C_BAD_SUBSTREAMID', `SubstreamID ${hex(tx.ssid)} is beyond the 2^${s1.cdMax} CDs of the STE`);
    }
    if (tx.ssid === 0 && s1.dss === 2) throw new Fault('F_STREAM_DISABLED', 'SubstreamID 0 is disabled when S1DSS=SSID0: CD 0 serves traffic without a SubstreamID');
    return tx.ssid;
  }

  // ---- event queue ----------------------------------------------------------------

  private queue(base: string, entrySize: number): QueueGeometry {
    const v = this.read(base);
    return { base: Number(v & 0x00ff_ffff_ffff_ffe0n), log2size: Number(v & 0x1fn), entrySize };
  }

  /** Write an event record to the event queue; false when it could not be (disabled or full). */
  private recordEvent(name: string, words: readonly bigint[]): boolean {
    if (this.field('CR0', 'EVENTQEN') !== 1) {
      this.emit({ kind: 'event', name, words, recorded: false, why: 'the event queue is disabled (CR0.EVENTQEN=0)' });
      return false;
    }
    const q = this.queue('EVENTQ_BASE', 32);
    const prod = Number(this.read('EVENTQ_PROD'));
    const cons = Number(this.read('EVENTQ_CONS'));
    if (isFull(prod, cons, q.log2size)) {
      // Overflow: the record is lost and PROD.OVFLG toggles to differ from CONS.OVACKFLG.
      const ovack = this.field('EVENTQ_CONS', 'OVACKFLG');
      this.setField('EVENTQ_PROD', 'OVFLG', ovack ^ 1);
      this.emit({ kind: 'event', name, words, recorded: false, why: 'the event queue is full: overflow' });
      return false;
    }
    const addr = entryAddress(q, prod);
    if (this.beyondOas(addr, 32)) {
      this.toggleError('EVENTQ_ABT_ERR');
      this.emit({ kind: 'event', name, words, recorded: false, why: `the event queue entry at ${hex(addr)} is beyond the output address size: the write aborts (GERROR.EVENTQ_ABT_ERR)` });
      return false;
    }
    const bytes = new Uint8Array(32);
    words.forEach((w, i) => bytes.set(bigintToBytes(w, 8), i * 8));
    this.mem.smmuWrite(addr, bytes);
    this.regs.set('EVENTQ_PROD', BigInt(advance(prod, q.log2size)));
    this.emit({ kind: 'event', name, words, recorded: true, addr });
    return true;
  }

  // ---- command queue --------------------------------------------------------------

  /** Commands consumed since the last CMD_SYNC. */
  get unsyncedCommands(): number {
    return this.unsynced;
  }

  /** Raise a global error: GERROR's bit toggles to differ from GERRORN's (unless already active). */
  private toggleError(field: string): void {
    if (this.field('GERROR', field) === this.field('GERRORN', field)) this.setField('GERROR', field, this.field('GERROR', field) ^ 1);
  }

  private commandError(index: number, cerror: 'ILL' | 'ABT', reason: string): void {
    this.setField('CMDQ_CONS', 'ERR', cerror === 'ILL' ? 1 : 2);
    this.toggleError('CMDQ_ERR');
    this.emit({ kind: 'command-error', index, cerror, reason });
  }

  /** Consume commands from CONS up to PROD, unless the queue is disabled or an error is pending. */
  private consumeCommands(): void {
    if (this.field('CR0', 'CMDQEN') !== 1) return;
    if (this.field('GERROR', 'CMDQ_ERR') !== this.field('GERRORN', 'CMDQ_ERR')) return;
    const q = this.queue('CMDQ_BASE', 16);
    const prod = Number(this.read('CMDQ_PROD'));
    let cons = Number(this.read('CMDQ_CONS'));
    // At most one pass over the queue: PROD cannot be more than a queue ahead.
    for (let n = 0; n < 2 ** q.log2size && !isEmpty(prod, cons, q.log2size); n++) {
      const index = indexOf(cons, q.log2size);
      const addr = entryAddress(q, cons);
      if (this.beyondOas(addr, 16)) {
        this.commandError(index, 'ABT', `the command queue entry at ${hex(addr)} is beyond the output address size: the fetch aborts`);
        break;
      }
      const words = this.readWords(addr, 2);
      this.emit({ kind: 'fetch', what: 'cmd', addr, words });
      const layout = commandLayoutFor(words);
      const d = decode(layout, words, this.ctx);
      const illegal = d.problems.find((p) => p.severity === 'error');
      if (illegal || !('opcode' in layout)) {
        this.commandError(index, 'ILL', illegal?.message ?? `opcode ${hex(words[0] & 0xffn)} is not a command`);
        break;
      }
      const effect = this.execute(layout as CommandLayout, d, index);
      this.emit({ kind: 'command', index, name: (layout as CommandLayout).name, words, effect });
      cons = advance(cons, q.log2size);
      this.setField('CMDQ_CONS', 'RD', cons & 0xfffff);
    }
  }

  private execute(layout: CommandLayout, d: ReturnType<typeof decode>, index: number): string {
    const name = layout.name.replace(/^CMD_/, '');
    const sid = (): number => d.num('StreamID');
    this.unsynced++;
    switch (name) {
      case 'SYNC': {
        this.unsynced = 0;
        const cs = d.num('CS');
        if (cs === 1 && this.features.msi) {
          const addr = d.num('MSIAddress');
          const data = d.num('MSIData');
          if (addr !== 0 && !this.beyondOas(addr, 4)) this.mem.smmuWrite(addr, bigintToBytes(BigInt(data), 4));
          else if (addr !== 0) this.toggleError('MSI_CMDQ_ABT_ERR');
          this.emit({ kind: 'sync', index, msi: { addr, data } });
          return `complete: earlier commands done; MSI write of ${hex(data)} to ${hex(addr)}`;
        }
        this.emit({ kind: 'sync', index });
        return 'complete: earlier commands done';
      }
      case 'PREFETCH_CONFIG':
        try {
          this.ste(sid(), []);
          return `STE ${hex(sid())} fetched into the configuration cache`;
        } catch (e) {
          if (e instanceof Fault) return `prefetch failed quietly: ${e.reason}`;
          throw e;
        }
      case 'CFGI_STE':
        return this.dropStes(sid(), sid(), d.num('Leaf') === 0);
      case 'CFGI_STE_RANGE':
      case 'CFGI_ALL': {
        const range = d.num('Range');
        if (range === 31) return this.dropAllConfig();
        const span = 2 ** (range + 1);
        const first = Math.floor(sid() / span) * span;
        return this.dropStes(first, first + span - 1, true);
      }
      case 'CFGI_CD': {
        const ssid = d.num('SubstreamID');
        const n = this.cdCache.delete(cdKey(sid(), ssid)) ? 1 : 0;
        let l1 = 0;
        if (d.num('Leaf') === 0) {
          for (const k of [...this.l1cdCache.keys()]) if (Math.floor(k / SSID_SPACE) === sid()) { this.l1cdCache.delete(k); l1++; }
        }
        return `dropped ${n} CD${l1 ? ` and ${l1} L1CD` : ''} of StreamID ${hex(sid())} SubstreamID ${hex(ssid)}`;
      }
      case 'CFGI_CD_ALL':
        return `dropped ${this.dropCds(sid(), sid())} CDs and L1CDs of StreamID ${hex(sid())}`;
      case 'ATC_INV':
      case 'PRI_RESP':
      case 'RESUME':
      case 'STALL_TERM':
      case 'PREFETCH_ADDR':
      case 'CFGI_VMS_PIDM':
        return 'no effect on the SMMU\'s caches (no ATC, stall or VMS is modelled)';
      default:
        if (name.startsWith('TLBI_')) return `dropped ${this.tlb.invalidateCommand(name, d)} TLB entries`;
        return 'no effect modelled';
    }
  }

  private dropCds(firstSid: number, lastSid: number): number {
    let n = 0;
    for (const cache of [this.cdCache, this.l1cdCache] as Map<number, unknown>[]) {
      for (const k of [...cache.keys()]) {
        const s = Math.floor(k / SSID_SPACE);
        if (s >= firstSid && s <= lastSid) {
          cache.delete(k);
          n++;
        }
      }
    }
    return n;
  }

  private dropStes(first: number, last: number, withL1: boolean): string {
    let stes = 0;
    for (const sid of [...this.steCache.keys()]) if (sid >= first && sid <= last) { this.steCache.delete(sid); stes++; }
    const cds = this.dropCds(first, last);
    let l1 = 0;
    if (withL1 && this.field('STRTAB_BASE_CFG', 'FMT') === 1) {
      const split = this.field('STRTAB_BASE_CFG', 'SPLIT');
      for (const i of [...this.l1stdCache.keys()]) {
        if (i >= Math.floor(first / 2 ** split) && i <= Math.floor(last / 2 ** split)) { this.l1stdCache.delete(i); l1++; }
      }
    }
    const range = first === last ? `StreamID ${hex(first)}` : `StreamIDs ${hex(first)}..${hex(last)}`;
    return `dropped ${stes} STE, ${cds} CD/L1CD${l1 ? `, ${l1} L1STD` : ''} of ${range}`;
  }

  private dropAllConfig(): string {
    const n = this.steCache.size + this.cdCache.size + this.l1stdCache.size + this.l1cdCache.size;
    this.steCache.clear();
    this.cdCache.clear();
    this.l1stdCache.clear();
    this.l1cdCache.clear();
    return `dropped all ${n} cached configuration structures`;
  }

  /** Access kinds as event records report them. */
  static accessText(a: Access, priv: boolean): string {
    return `${priv ? 'privileged' : 'unprivileged'} ${a}`;
  }
}
