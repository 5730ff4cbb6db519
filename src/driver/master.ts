/**
 * Attaching a master's stream to a configuration, as arm_smmu_attach_dev and friends do:
 * the master's CD table (linear, or 2-level with 64KB leaves), CDs written through the
 * entry writer with CFGI_CD + CMD_SYNC, the STE written through the entry writer with
 * CFGI_STE + CMD_SYNC and followed by PREFETCH_CFG, ASIDs and VMIDs allocated from 1.
 *
 * One deliberate knob models the change under discussion upstream: CD tables in
 * cacheable memory (iommu-pages) instead of dma_alloc_coherent, with or without the
 * cache maintenance (clean + DSB) a non-coherent SMMU then needs before each sync.
 */
import { encode } from '../arch/codec';
import { L1CD } from '../arch/cd';
import { abortSte, bypassSte, cdTableSte, S1Dss, s1Cd, s2Ste } from './builders';
import { command, issueCommands } from './cmdq';
import { CdTableState, DriverContext, DriverError, PgtableDomain } from './context';
import { CD_KIND, STE_KIND, writeEntry, WriteResult } from './entryWriter';
import { registerValues } from './iopgtable';
import { Action, alloc, frame, writeOnce64 } from './ops';
import { coherentAttr, steAddressFor } from './strtab';

/** Where a master's CD table lives and whether the driver cleans it after writes. */
export interface CdMemory {
  /** 'coherent': dma_alloc_coherent (today's kernel); 'cacheable': iommu-pages. */
  readonly kind: 'coherent' | 'cacheable';
  /** With cacheable memory on a non-coherent SMMU: clean + DSB after each update step. */
  readonly clean: boolean;
}

export const DEFAULT_CD_MEMORY: CdMemory = { kind: 'coherent', clean: true };

/** CTXDESC_LINEAR_CDMAX: a linear table up to 1024 CDs (64KB). */
const LINEAR_CDMAX = 10;
const L2_CD_BITS = 10;

const hex = (n: number): string => '0x' + n.toString(16);

function cdTableName(sid: number): string {
  return `cdtab.${hex(sid)}`;
}

function cdMemoryAttr(ctx: DriverContext, mem: CdMemory): 'cacheable' | 'noncacheable' {
  return mem.kind === 'cacheable' ? 'cacheable' : coherentAttr(ctx);
}

/** Whether updates to this memory need a clean to reach a non-coherent SMMU. */
function needsClean(ctx: DriverContext, mem: CdMemory): boolean {
  return mem.kind === 'cacheable' && mem.clean && !ctx.machine.platform.memory.coherent;
}

/**
 * A zeroed table: the allocator's zeroing is a CPU write like any other, so in cacheable
 * memory on a non-coherent SMMU the zeroes reach PoC only by a clean.
 */
function* zeroedTable(ctx: DriverContext, name: string, size: number, mem: CdMemory): Action<{ name: string; base: number }> {
  const r = yield* alloc(name, size, cdMemoryAttr(ctx, mem), 'arm-smmu-v3');
  yield { op: 'write', addr: r.base, data: new Uint8Array(size), what: 'zeroed by the allocator' };
  if (needsClean(ctx, mem)) {
    yield { op: 'cmo', kind: 'clean', addr: r.base, len: size, what: 'new CD table' };
    yield { op: 'barrier', kind: 'dsb' };
  }
  return r;
}

/** The master's CD table, allocated on first use (arm_smmu_alloc_cd_tables). */
export function* ensureCdTable(ctx: DriverContext, sid: number, cdMax: number, mem: CdMemory): Action<CdTableState> {
  const name = cdTableName(sid);
  const existing = ctx.kernel.cdTables.get(name);
  if (existing) {
    if (existing.cdMax < cdMax) throw new DriverError(`the CD table of StreamID ${hex(sid)} holds 2^${existing.cdMax} CDs; SubstreamIDs up to 2^${cdMax} do not fit`);
    return existing;
  }
  return yield* frame('arm_smmu_alloc_cd_tables', allocCdTable(ctx, sid, cdMax, mem), `StreamID ${hex(sid)}, 2^${cdMax} CDs`);
}

function* allocCdTable(ctx: DriverContext, sid: number, cdMax: number, mem: CdMemory): Action<CdTableState> {
  const f = ctx.machine.smmu.features;
  if (cdMax > f.ssidBits) throw new DriverError(`2^${cdMax} CDs need ${cdMax} SubstreamID bits; the SMMU has ${f.ssidBits} (IDR1.SSIDSIZE)`);
  const twoLevel = cdMax > LINEAR_CDMAX && f.twoLevelCdTable;
  const name = cdTableName(sid);
  const size = twoLevel ? Math.max(2 ** (cdMax - L2_CD_BITS) * 8, 64) : Math.max(2 ** cdMax * 64, 64);
  const r = yield* zeroedTable(ctx, name, size, mem);
  const t: CdTableState = { region: r.name, base: r.base, fmt: twoLevel ? '2lvl' : 'linear', cdMax, l2: new Map(), sids: [sid], memory: mem };
  ctx.kernel.cdTables.set(name, t);
  return t;
}

/** A live CD table the driver takes over: where the STEs of `sids` point (S1ContextPtr, S1Fmt, S1CDMax). */
export interface LiveCdTable {
  readonly sids: number[];
  readonly base: number;
  /** STE.S1Fmt: 0 linear, 2 two-level with 64KB leaves (the kernel's layouts); 1 (4KB leaves) is not. */
  readonly s1Fmt: number;
  readonly cdMax: number;
}

/**
 * Take over live CD tables (an adopting kernel): record each as the kernel's own, with its
 * valid leaf tables, so later CD writes go to the table the SMMU reads instead of a new one.
 * `regionAt` names the region holding an address (or throws); `use` marks memory taken over.
 */
export function* adoptCdTables(ctx: DriverContext, tables: readonly LiveCdTable[],
  regionAt: (addr: number, what: string) => string, use: (base: number, size: number, what: string) => Action<void>): Action<void> {
  const m = ctx.machine;
  for (const live of tables) {
    const who = `the CD table of StreamID ${live.sids.map(hex).join(', ')}`;
    if (live.s1Fmt === 1) throw new DriverError(`${who} at ${hex(live.base)} has 4KB leaf tables (S1Fmt 1); the kernel builds and adopts linear or 64KB leaves only`);
    const twoLevel = live.s1Fmt === 2;
    const size = twoLevel ? Math.max(2 ** Math.max(live.cdMax - L2_CD_BITS, 0) * 8, 64) : 2 ** live.cdMax * 64;
    yield* use(live.base, size, `live ${who}`);
    const region = regionAt(live.base, who);
    const attr = m.mem.regions.at(live.base)?.attr ?? 'noncacheable';
    const t: CdTableState = {
      region, base: live.base, fmt: twoLevel ? '2lvl' : 'linear', cdMax: live.cdMax, l2: new Map(), sids: [...live.sids],
      // Cacheable CD memory is cleaned after each write, as a correct driver does.
      memory: { kind: attr === 'cacheable' ? 'cacheable' : 'coherent', clean: true },
    };
    if (twoLevel) {
      for (let i = 0; i < size / 8; i++) {
        const d = m.load(live.base + i * 8, 8);
        if ((d & 1n) === 0n) continue;
        const leaf = Number(d & 0x00ff_ffff_ffff_f000n);
        yield* use(leaf, 2 ** L2_CD_BITS * 64, `live CD leaf table ${i} of ${who}`);
        t.l2.set(i, regionAt(leaf, `CD leaf table ${i} of ${who}`));
      }
    }
    for (const sid of live.sids) ctx.kernel.cdTables.set(cdTableName(sid), t);
  }
}

/** The address of a CD, allocating its 64KB leaf table first in a 2-level table (arm_smmu_get_cd_ptr). */
function* cdAddressFor(ctx: DriverContext, t: CdTableState, ssid: number, mem: CdMemory): Action<number> {
  if (ssid >= 2 ** t.cdMax) throw new DriverError(`SubstreamID ${hex(ssid)} is beyond the 2^${t.cdMax} CDs of the table`);
  if (t.fmt === 'linear') return t.base + ssid * 64;
  const l1 = Math.floor(ssid / 2 ** L2_CD_BITS);
  let leaf = t.l2.get(l1);
  if (leaf === undefined) {
    leaf = yield* frame('arm_smmu_alloc_cd_leaf', (function* (): Action<string> {
      const r = yield* zeroedTable(ctx, `${t.region}.l2.${l1}`, 2 ** L2_CD_BITS * 64, mem);
      const desc = encode(L1CD, { V: 1, L2Ptr: r.base })[0];
      yield* writeOnce64(t.base + l1 * 8, desc, `L1CD ${l1}`);
      if (needsClean(ctx, mem)) {
        yield { op: 'cmo', kind: 'clean', addr: t.base + l1 * 8, len: 8, what: 'L1CD' };
        yield { op: 'barrier', kind: 'dsb' };
      }
      // An invalid L1CD may have been cached: invalidate it for every stream using the table.
      yield* issueCommands(ctx, t.sids.map((sid) => command('CFGI_CD', { StreamID: sid, SubstreamID: ssid, Leaf: 0 })), true);
      return r.name;
    })());
    t.l2.set(l1, leaf);
  }
  return ctx.machine.region(leaf)!.base + (ssid % 2 ** L2_CD_BITS) * 64;
}

/** Write a CD through the entry writer; the sync invalidates it for every stream of the table. */
export function* writeCd(ctx: DriverContext, sid: number, ssid: number, target: readonly bigint[], mem: CdMemory, cdMax: number): Action<WriteResult> {
  const t = yield* ensureCdTable(ctx, sid, cdMax, mem);
  // A table keeps the memory it was allocated in, whatever this call says.
  mem = t.memory;
  const addr = yield* cdAddressFor(ctx, t, ssid, mem);
  return yield* frame('arm_smmu_write_cd_entry', writeEntry(CD_KIND, addr, target, {
    read: (a) => ctx.machine.load(a, 8),
    *sync() {
      if (needsClean(ctx, mem)) {
        yield { op: 'cmo', kind: 'clean', addr, len: 64, what: 'CD' };
        yield { op: 'barrier', kind: 'dsb' };
      }
      yield* issueCommands(ctx, t.sids.map((s) => command('CFGI_CD', { StreamID: s, SubstreamID: ssid, Leaf: 1 })), true);
    },
  }), `StreamID ${hex(sid)} SubstreamID ${hex(ssid)}`);
}

/** Write a StreamID's STE through the entry writer, then PREFETCH_CFG (arm_smmu_install_ste_for_dev). */
export function* installSte(ctx: DriverContext, sid: number, target: readonly bigint[]): Action<WriteResult> {
  const addr = yield* steAddressFor(ctx, sid);
  const r = yield* frame('arm_smmu_write_ste', writeEntry(STE_KIND, addr, target, {
    read: (a) => ctx.machine.load(a, 8),
    *sync() {
      yield* issueCommands(ctx, [command('CFGI_STE', { StreamID: sid, Leaf: 1 })], true);
    },
  }), `StreamID ${hex(sid)}`);
  if (!ctx.kernel.skipPrefetch) yield* issueCommands(ctx, [command('PREFETCH_CONFIG', { StreamID: sid })], false);
  return r;
}

export function domainOf(ctx: DriverContext, name: string): PgtableDomain {
  const d = ctx.kernel.domains.get(name);
  if (!d) throw new DriverError(`unknown domain '${name}'`);
  return d;
}

/** The domain's ASID, allocated on first attach (from 1, as the kernel's xarray). */
/** The lowest free ID from 1, or `want` if it is free (the kernel's xarray / IDA allocation). */
function allocId(used: Set<number>, want: number | undefined, what: string, bits: number): number {
  if (want !== undefined) {
    if (used.has(want)) throw new DriverError(`${what} ${want} is already in use by another domain`);
    used.add(want);
    return want;
  }
  for (let id = 1; id < 2 ** bits; id++) {
    if (!used.has(id)) {
      used.add(id);
      return id;
    }
  }
  throw new DriverError(`no free ${what}: all ${2 ** bits - 1} are in use`);
}

/** The domain's ASID, allocated on first attach. */
export function asidOf(ctx: DriverContext, d: PgtableDomain, want?: number): number {
  if (d.asid === undefined) d.asid = allocId(ctx.kernel.asids, want, 'ASID', ctx.machine.smmu.features.asid16 ? 16 : 8);
  else if (want !== undefined && want !== d.asid) throw new DriverError(`domain '${d.name}' already has ASID ${d.asid}`);
  return d.asid;
}

export function vmidOf(ctx: DriverContext, d: PgtableDomain, want?: number): number {
  if (d.vmid === undefined) d.vmid = allocId(ctx.kernel.vmids, want, 'VMID', ctx.machine.smmu.features.vmid16 ? 16 : 8);
  else if (want !== undefined && want !== d.vmid) throw new DriverError(`domain '${d.name}' already has VMID ${d.vmid}`);
  return d.vmid;
}

/** The CD of a stage-1 paging domain (arm_smmu_make_s1_cd). */
export function s1CdFor(d: PgtableDomain, asid: number, stall = false): bigint[] {
  if (d.stage !== 1) throw new DriverError(`domain '${d.name}' is stage ${d.stage}: a CD needs a stage-1 domain`);
  const rv = registerValues(d);
  return s1Cd({ asid, ttb0: rv.ttbr!, tcr: rv.tcr!, mair: rv.mair!, stall, hahd: false });
}

/** The STE of a stage-2 domain (arm_smmu_make_s2_domain_ste). */
export function s2SteFor(ctx: DriverContext, d: PgtableDomain, vmid: number, ats: boolean): bigint[] {
  if (d.stage !== 2) throw new DriverError(`domain '${d.name}' is stage ${d.stage}: a stage-2 STE needs a stage-2 domain`);
  const rv = registerValues(d);
  const f = ctx.machine.smmu.features;
  return s2Ste({ vmid, vtcr: rv.vtcr!, vttbr: rv.vttbr!, ats, fwb: false, attrTypesOvr: f.attrTypesOverride, stallEnabled: false });
}

export interface S1AttachOptions {
  readonly ssid: number;
  readonly cdMax: number;
  readonly s1dss: S1Dss;
  readonly ats: boolean;
  readonly stall: boolean;
  readonly asid?: number;
  readonly mem: CdMemory;
}

/** Attach a stream to a stage-1 domain: the CD, then the STE pointing at the CD table. */
export function* attachS1(ctx: DriverContext, sid: number, domain: string, o: S1AttachOptions): Action<{ cd: WriteResult; ste: WriteResult }> {
  const d = domainOf(ctx, domain);
  const asid = asidOf(ctx, d, o.asid);
  const cd = yield* writeCd(ctx, sid, o.ssid, s1CdFor(d, asid, o.stall), o.mem, o.cdMax);
  const t = ctx.kernel.cdTables.get(cdTableName(sid))!;
  const f = ctx.machine.smmu.features;
  const ste = yield* installSte(ctx, sid, cdTableSte({
    cdTable: t.base, s1fmt: t.fmt === 'linear' ? 0 : 2, s1cdmax: t.cdMax, s1dss: o.s1dss, ats: o.ats,
    stallsSupported: f.stallModel !== 1, masterStalls: o.stall, e2h: false, attrTypesOvr: f.attrTypesOverride,
  }));
  return { cd, ste };
}

export function* attachS2(ctx: DriverContext, sid: number, domain: string, vmid: number | undefined, ats: boolean): Action<WriteResult> {
  const d = domainOf(ctx, domain);
  return yield* installSte(ctx, sid, s2SteFor(ctx, d, vmidOf(ctx, d, vmid), ats));
}

export function* attachBlocking(ctx: DriverContext, sid: number, kind: 'abort' | 'bypass'): Action<WriteResult> {
  const target = kind === 'abort' ? abortSte() : bypassSte({ attrTypesOvr: ctx.machine.smmu.features.attrTypesOverride });
  return yield* installSte(ctx, sid, target);
}

export { cdTableName };
