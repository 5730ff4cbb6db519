/**
 * Live update as the kernel side does it: the old kernel preserving what the SMMU uses
 * (the stream table and the CD tables of the arm-smmu-v3 driver, the page tables of an
 * io-pgtable domain as the IOMMU live-update series preserves every table page) and
 * describing it, the kexec, and the new kernel restoring that memory, adopting the live
 * SMMU without resetting it (keep SMMUEN, keep STRTAB_BASE, as the kdump adoption does),
 * and finishing.
 *
 * Each function turns one action into micro-operations; the KHO bookkeeping and the
 * kexec's effect on the machine are the model's (model/kho.ts, model/handover.ts).
 */
import { decode, hex } from '../arch/codec';
import { L1STD, STE } from '../arch/ste';
import { checkStreamTable } from '../arch/registers';
import { KhoAction, pagesOf, pageAddr } from '../model/kho';
import { command, issueCommands } from './cmdq';
import { DriverContext, DriverError, KernelState, PgtableDomain, QueueState, StreamTableState } from './context';
import { Action, alloc, frame, mmioRead } from './ops';
import { coherentAttr } from './strtab';
import { adoptCdTables, LiveCdTable } from './master';

/** The description subtree of the SMMU driver's state, and of a domain. */
export const SMMU_SUBTREE = 'arm-smmu-v3';
export const domainSubtree = (name: string): string => `iommu-domain ${name}`;

/** What the driver records about the SMMU for its successor. */
interface SmmuRecord {
  readonly regions: readonly string[];
}

function* kho(action: KhoAction): Action<void> {
  yield { op: 'kho', action };
}

/** A region's whole pages (KHO preserves pages; a small table shares its page with its neighbours). */
function pagesOfRegion(ctx: DriverContext, name: string): { base: number; size: number } {
  const r = ctx.machine.region(name);
  if (!r) throw new DriverError(`no region named '${name}'`);
  const p = pagesOf(r.base, r.size);
  return { base: pageAddr(p.lo), size: pageAddr(p.hi - p.lo) };
}

function* preserveRegion(ctx: DriverContext, name: string, subtree: string): Action<void> {
  yield* kho({ kind: 'preserve', ...pagesOfRegion(ctx, name), label: name, subtree, region: name });
}

/** Every region the driver allocated for the SMMU: stream table, L2 tables, CD tables and leaves, and the queues. */
function smmuRegions(k: KernelState, queues: boolean): string[] {
  if (!k.strtab) throw new DriverError('the SMMU is not initialised in this kernel: there is no stream table to preserve');
  const out = [k.strtab.region, ...k.strtab.l2.values()];
  for (const t of k.cdTables.values()) out.push(t.region, ...t.l2.values());
  if (queues) {
    if (k.cmdq) out.push(k.cmdq.region);
    if (k.evtq) out.push(k.evtq.region);
  }
  return out;
}

/** The SMMU's registers as the driver would record them next to its tables. */
function registerProps(ctx: DriverContext): [string, string][] {
  return ['CR0', 'CR1', 'CR2', 'GBPA', 'STRTAB_BASE', 'STRTAB_BASE_CFG', 'CMDQ_BASE', 'EVENTQ_BASE']
    .map((r) => [r, hex(ctx.machine.smmu.read(r))]);
}

/**
 * Preserve the SMMU's live configuration: every table the driver allocated (and, with
 * `queues`, the command and event queues the SMMU keeps using across kexec), and describe it.
 */
export function* preserveSmmu(ctx: DriverContext, queues: boolean): Action<void> {
  yield* frame('arm_smmu_preserve', (function* (): Action<void> {
    const regions = smmuRegions(ctx.kernel, queues);
    for (const name of regions) yield* preserveRegion(ctx, name, SMMU_SUBTREE);
    const data: SmmuRecord = { regions };
    yield* kho({ kind: 'describe', subtree: { name: SMMU_SUBTREE, props: registerProps(ctx), data } });
  })(), queues ? 'tables and queues' : 'tables');
}

/** Preserve every table page of a domain and describe the domain (iommu_domain_preserve). */
export function* preserveDomain(ctx: DriverContext, name: string): Action<void> {
  const d = ctx.kernel.domains.get(name);
  if (!d) throw new DriverError(`no domain named '${name}' in this kernel`);
  yield* frame('iommu_domain_preserve', (function* (): Action<void> {
    for (const t of d.tables) yield* preserveRegion(ctx, t, domainSubtree(name));
    const props: [string, string][] = [
      ['stage', String(d.stage)], ['granule', `${d.granule}K`], ['ias', String(d.ias)], ['oas', String(d.oas)],
      ['top table', `${hex(d.pgd)} (level ${d.startLevel})`], ['tables', String(d.tables.length)],
    ];
    if (d.asid !== undefined) props.push(['asid', String(d.asid)]);
    if (d.vmid !== undefined) props.push(['vmid', String(d.vmid)]);
    yield* kho({ kind: 'describe', subtree: { name: domainSubtree(name), props, data: structuredClone(d) } });
  })(), name);
}

export function* unpreserveDomain(ctx: DriverContext, name: string): Action<void> {
  const d = ctx.kernel.domains.get(name);
  if (!d) throw new DriverError(`no domain named '${name}' in this kernel`);
  for (const t of d.tables) yield* kho({ kind: 'unpreserve', ...pagesOfRegion(ctx, t), label: t });
}

export function* unpreserveSmmu(ctx: DriverContext, queues: boolean): Action<void> {
  for (const name of smmuRegions(ctx.kernel, queues)) yield* kho({ kind: 'unpreserve', ...pagesOfRegion(ctx, name), label: name });
}

/**
 * kexec: the handover. The old kernel's driver state is gone with it; the new kernel
 * starts with none (it learns what it needs from the description and the registers).
 */
export function* kexec(ctx: DriverContext): Action<void> {
  yield* kho({ kind: 'kexec' });
  const k = ctx.kernel;
  k.previous = new Map([...k.domains].map(([name, d]) => [name, structuredClone(d)]));
  k.cmdq = undefined;
  k.evtq = undefined;
  k.strtab = undefined;
  k.cdTables.clear();
  k.domains.clear();
  k.asids.clear();
  k.vmids.clear();
}

/** Restore a region of the old kernel under its name (kho_restore_folio for each of its pages). */
export function* restoreRegion(ctx: DriverContext, name: string): Action<void> {
  const old = ctx.machine.kho.oldRegion(name);
  if (!old) throw new DriverError(`the old kernel had no region named '${name}'`);
  const p = pagesOf(old.base, old.size);
  yield* kho({ kind: 'restore', base: pageAddr(p.lo), size: pageAddr(p.hi - p.lo), label: name, region: name });
}

function subtree(ctx: DriverContext, name: string, what: string) {
  const s = ctx.machine.kho.subtrees.get(name);
  if (!s) throw new DriverError(`the handover description has no '${name}' subtree: the old kernel did not preserve ${what}`);
  return s;
}

/** Restore the SMMU driver's preserved tables (its own restore callback). */
export function* restoreSmmu(ctx: DriverContext): Action<void> {
  const s = subtree(ctx, SMMU_SUBTREE, 'the SMMU (kho preserve smmu)');
  yield* frame('arm_smmu_restore', (function* (): Action<void> {
    for (const name of (s.data as SmmuRecord).regions) yield* restoreRegion(ctx, name);
  })());
}

/** Restore a domain: its table pages, then the domain itself, with its ASID or VMID kept in use. */
export function* restoreDomain(ctx: DriverContext, name: string): Action<void> {
  const s = subtree(ctx, domainSubtree(name), `domain '${name}' (kho preserve ${name})`);
  if (ctx.kernel.domains.has(name)) throw new DriverError(`this kernel already has a domain named '${name}'`);
  const d = structuredClone(s.data) as PgtableDomain;
  yield* frame('iommu_domain_restore', (function* (): Action<void> {
    for (const t of d.tables) yield* restoreRegion(ctx, t);
    ctx.kernel.domains.set(name, d);
    if (d.asid !== undefined) ctx.kernel.asids.add(d.asid);
    if (d.vmid !== undefined) ctx.kernel.vmids.add(d.vmid);
  })(), name);
}

/** The name of the region holding an address: a live one, else the old kernel's (still named, maybe not restored). */
function regionAt(ctx: DriverContext, addr: number, what: string): string {
  const live = ctx.machine.mem.regions.at(addr);
  if (live) return live.name;
  const old = ctx.machine.kho.oldRegionAt(addr);
  if (old) return old.name;
  throw new DriverError(`${what} at ${hex(addr)} is in no region the old kernel allocated: nothing to adopt`);
}

/** STEs looked at, at most, for the CD tables they point at (a linear table of 2^32 STEs is not read whole). */
const MAX_ADOPT_STES = 1 << 20;

/** A run of STEs: the linear table, or one L2 table. */
interface SteRun {
  readonly firstSid: number;
  readonly base: number;
  readonly count: number;
}

/** The CD tables the valid stage-1 STEs of an adopted stream table point at, one entry per table. */
function liveCdTables(ctx: DriverContext, runs: readonly SteRun[]): LiveCdTable[] {
  const m = ctx.machine;
  const byBase = new Map<number, LiveCdTable>();
  const look = (sid: number, addr: number): void => {
    const q0 = m.load(addr, 8);
    // V (bit 0) and Config (bits 3:1) with its stage-1 bit (0b101 stage 1, 0b111 nested).
    if ((q0 & 1n) === 0n || ((q0 >> 1n) & 0b101n) !== 0b101n) return;
    const d = decode(STE, [q0, 0n, 0n, 0n, 0n, 0n, 0n, 0n], m.smmu.ctx);
    const base = Number(d.get('S1ContextPtr'));
    const t = byBase.get(base);
    if (t) t.sids.push(sid);
    else byBase.set(base, { sids: [sid], base, s1Fmt: d.num('S1Fmt'), cdMax: d.num('S1CDMax') });
  };
  for (const r of runs) for (let i = 0; i < r.count; i++) look(r.firstSid + i, r.base + i * 64);
  return [...byBase.values()];
}

export interface AdoptOptions {
  /** Drop the SMMU's cached configuration and translations once the new queue runs (CFGI_ALL, TLBI). */
  readonly invalidate: boolean;
}

const CR0 = { SMMUEN: 1, EVENTQEN: 1 << 2, CMDQEN: 1 << 3 };

/** Write CR0 and wait for CR0ACK (arm_smmu_write_reg_sync). */
function* writeCr0(value: number): Action<void> {
  yield { op: 'mmio-write', reg: 'CR0', value: BigInt(value), relaxed: false };
  const ack = yield* mmioRead('CR0ACK');
  if (ack !== BigInt(value)) throw new DriverError(`CR0ACK ${hex(ack)} did not follow CR0 ${hex(value)}`);
}

/**
 * The new kernel takes over a running SMMU instead of resetting it: SMMUEN stays set and
 * STRTAB_BASE is not rewritten (it is read-only while enabled, and rewriting it would
 * break in-flight DMA); the stream table found there is validated and taken over; new
 * command and event queues replace the old ones (the queue bases may be written once
 * their enables are cleared). Streams keep translating through the old tables.
 */
export function* adoptSmmu(ctx: DriverContext, opts: AdoptOptions): Action<void> {
  yield* frame('arm_smmu_adopt', adoptBody(ctx, opts));
}

function* adoptBody(ctx: DriverContext, opts: AdoptOptions): Action<void> {
  const m = ctx.machine;
  const cr0 = Number(yield* mmioRead('CR0'));
  if (!(cr0 & CR0.SMMUEN)) throw new DriverError('the SMMU is not enabled (CR0.SMMUEN=0): there is no live configuration to adopt; use `smmu init`');
  if (ctx.kernel.strtab) throw new DriverError('this kernel already manages the SMMU');
  const base = yield* mmioRead('STRTAB_BASE');
  const cfg = yield* mmioRead('STRTAB_BASE_CFG');
  const bad = checkStreamTable(base, Number(cfg), m.smmu.ctx).filter((p) => p.severity === 'error');
  if (bad.length) throw new DriverError(`the live stream table cannot be adopted: ${bad.map((p) => p.message).join('; ')}`);
  const c = decode(m.smmu.register('STRTAB_BASE_CFG'), [cfg], m.smmu.ctx);
  const l1Base = Number(decode(m.smmu.register('STRTAB_BASE'), [base], m.smmu.ctx).get('ADDR'));
  const log2size = Math.min(c.num('LOG2SIZE'), m.smmu.features.sidBits);
  const fmt = c.num('FMT') === 1 ? '2lvl' : 'linear';
  const st: StreamTableState = {
    region: regionAt(ctx, l1Base, 'the stream table'), base: l1Base, fmt, log2size, split: fmt === '2lvl' ? c.num('SPLIT') : 0, l2: new Map(),
  };
  // Where the STEs are, for the CD tables they point at.
  const steRuns: SteRun[] = [];
  if (fmt === '2lvl') {
    // The kernel's own layout only: SPLIT 8, every valid L1 descriptor spanning 256 STEs.
    if (st.split !== 8) throw new DriverError(`the live stream table has SPLIT ${st.split}; this driver builds and adopts SPLIT 8 only`);
    const l1Count = 2 ** Math.max(log2size - st.split, 0);
    yield* kho({ kind: 'use', base: l1Base, size: Math.max(l1Count * 8, 64), what: 'live L1 stream table' });
    for (let i = 0; i < l1Count; i++) {
      const d = decode(L1STD, [m.load(l1Base + i * 8, 8)]);
      if (d.num('Span') === 0) continue;
      if (d.num('Span') !== st.split + 1) throw new DriverError(`L1STD ${i} has Span ${d.num('Span')}; an adopted table needs ${st.split + 1} (256 STEs)`);
      const l2 = d.num('L2Ptr');
      if (l2 % (64 << st.split) !== 0) throw new DriverError(`L1STD ${i} points at ${hex(l2)}, not aligned to its ${hex(64 << st.split)}-byte L2 table`);
      yield* kho({ kind: 'use', base: l2, size: 64 << st.split, what: `live L2 stream table of L1STD ${i}` });
      st.l2.set(i, regionAt(ctx, l2, `the L2 stream table of L1STD ${i}`));
      steRuns.push({ firstSid: i * 2 ** st.split, base: l2, count: 2 ** st.split });
    }
  } else {
    yield* kho({ kind: 'use', base: l1Base, size: 64 * 2 ** log2size, what: 'live linear stream table' });
    steRuns.push({ firstSid: 0, base: l1Base, count: Math.min(2 ** log2size, MAX_ADOPT_STES) });
  }
  ctx.kernel.strtab = st;
  yield { op: 'note', text: `adopted the live ${fmt} stream table at ${hex(l1Base)}: SMMUEN and STRTAB_BASE stay as they are` };
  const cds = liveCdTables(ctx, steRuns);
  yield* adoptCdTables(ctx, cds, (a, what) => regionAt(ctx, a, what), (base, size, what) => kho({ kind: 'use', base, size, what }));
  if (cds.length) yield { op: 'note', text: `adopted ${cds.length} CD table${cds.length === 1 ? '' : 's'} the STEs point at` };

  // New queues: stop them (SMMUEN stays), program the new bases, start them again.
  yield* writeCr0(CR0.SMMUEN);
  const f = m.smmu.features;
  const queue = function* (name: 'cmdq' | 'evtq', log2: number, entry: number): Action<QueueState> {
    const r = yield* alloc(name, 2 ** log2 * entry, coherentAttr(ctx), 'arm-smmu-v3');
    return { region: r.name, base: r.base, log2size: log2, prod: 0 };
  };
  const q = (ctx.kernel.cmdq = yield* queue('cmdq', Math.min(8, f.cmdqs), 16));
  yield { op: 'mmio-write', reg: 'CMDQ_BASE', value: (1n << 62n) | BigInt(q.base) | BigInt(q.log2size), relaxed: false };
  yield { op: 'mmio-write', reg: 'CMDQ_PROD', value: 0n, relaxed: false };
  yield { op: 'mmio-write', reg: 'CMDQ_CONS', value: 0n, relaxed: false };
  const e = (ctx.kernel.evtq = yield* queue('evtq', Math.min(7, f.eventqs), 32));
  yield { op: 'mmio-write', reg: 'EVENTQ_BASE', value: (1n << 62n) | BigInt(e.base) | BigInt(e.log2size), relaxed: false };
  yield { op: 'mmio-write', reg: 'EVENTQ_PROD', value: 0n, relaxed: true };
  yield { op: 'mmio-write', reg: 'EVENTQ_CONS', value: 0n, relaxed: true };
  yield* writeCr0(CR0.SMMUEN | CR0.CMDQEN | CR0.EVENTQEN);
  // Global errors the old kernel left latched are acknowledged, not acted on.
  const gerror = yield* mmioRead('GERROR');
  yield { op: 'mmio-write', reg: 'GERRORN', value: gerror, relaxed: false };
  if (opts.invalidate) {
    yield* issueCommands(ctx, [command('CFGI_ALL', { Range: 31 })], true);
    if (f.hyp) yield* issueCommands(ctx, [command('TLBI_EL2_ALL')], true);
    yield* issueCommands(ctx, [command('TLBI_NSNH_ALL')], true);
  }
}
