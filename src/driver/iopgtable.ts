/**
 * io-pgtable-arm (ARM_64_LPAE_S1 / ARM_64_LPAE_S2) as the kernel runs it, one CPU step at a
 * time: table pages from iommu-pages (cacheable, zeroed), and on a non-coherent walker the
 * DMA API's cache maintenance around every table and PTE the SMMU may read.
 *
 * What each action does, in the kernel's order:
 * - allocPgtable: pgd allocated (zeroed, naturally aligned, at least 64 bytes), cleaned to
 *   PoC by dma_map_single if the walk is not coherent, then wmb() before TTBR/VTTBR is handed
 *   out. Stage 2 concatenates the initial level where the architecture requires it.
 * - mapPages (arm_lpae_map_pages): walks down reading the CPU's view; a missing table is
 *   allocated (zeroed + cleaned) and installed (dma_wmb; one 64-bit cmpxchg; if not coherent:
 *   clean that PTE + DSB, then WRITE_ONCE it again with the software SW_SYNC bit); a table
 *   PTE found without SW_SYNC is cleaned. Leaves: one plain store per entry, then ONE clean
 *   over the run. Ends with wmb(), also on failure. Maps at most to the end of the leaf
 *   table, as the kernel does (the iommu core calls again for the rest): `mapped` says how
 *   much.
 * - unmapPages (arm_lpae_unmap_pages): plain stores of 0 over the run, one clean; a table
 *   entry inside the run is cleared and cleaned on its own, the walk cache flushed through
 *   the caller's `flushWalk` (the SMMU driver's TLB op) and the table freed. Leaf-sized
 *   unmaps never free the (possibly empty) leaf tables: only freePgtable does.
 * - freePgtable: depth-first, children before parents (dma_unmap_single first, which needs
 *   no cache maintenance on arm64 for DMA_TO_DEVICE).
 *
 * PTEs are built with the descriptor tables of arch/pte.ts by field name. Sources: facts §8
 * and §9; Linux drivers/iommu/io-pgtable-arm.c (read for facts only).
 */
import { encode, FieldInput, hex } from '../arch/codec';
import { Granule } from '../arch/field';
import {
  bitsPerLevel, descriptorType, granuleShift, Level, levelGeometry, makeOutputAddressBits,
  outputAddress, PteFormat, pteLayout, startLevel as archStartLevel, topIndexBits,
} from '../arch/pte';
import type { Version } from '../model/history';
import type { Region } from '../model/regions';
import { DriverContext, DriverError, PgtableDomain } from './context';
import { Action, alloc, frame } from './ops';

export interface PgtableQuirks {
  /** IO_PGTABLE_QUIRK_ARM_OUTER_WBWA: outer write-back walks on a non-coherent SMMU (stage 1 only). */
  readonly outerWbwa?: boolean;
  /** IO_PGTABLE_QUIRK_ARM_NS: NS in leaves, NSTable in table descriptors (stage 1 only). */
  readonly armNs?: boolean;
  /** IO_PGTABLE_QUIRK_ARM_HD: writable leaves get DBM, for hardware dirty tracking (stage 1 only). */
  readonly hd?: boolean;
}

export interface PgtableConfig {
  readonly stage: 1 | 2;
  readonly granule: 4 | 16 | 64;
  /** Input address bits; capped at 48 (52 with the 64KB granule), as the kernel does. */
  readonly ias: number;
  /** Output address bits (32, 36, 40, 42, 44, 48 or 52); capped like `ias`. */
  readonly oas: number;
  /** cfg->coherent_walk: the SMMU snoops the CPU caches (ARM_SMMU_FEAT_COHERENCY). */
  readonly coherentWalk: boolean;
  readonly quirks?: PgtableQuirks;
}

/** The domain as io-pgtable keeps it: what the kernel state holds, plus the quirks. */
export interface IoPgtableDomain extends PgtableDomain {
  readonly quirks: PgtableQuirks;
  /** Number for the next table region's name (`<domain>.tbl<N>`): names are never reused. */
  nextTable: number;
}

/** IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_MMIO. */
export interface MapProt {
  readonly read?: boolean;
  readonly write?: boolean;
  readonly cache?: boolean;
  readonly noexec?: boolean;
  readonly priv?: boolean;
  readonly mmio?: boolean;
}

export interface PteStoreOptions {
  /**
   * How the kernel's plain PTE stores (`ptep[i] = pte`, `*ptep = 0`) reach memory: 8 (the
   * default) is the single STR the compiler emits in practice; 4, 2 or 1 model a compiler
   * that splits the 64-bit store, which C allows for a plain assignment. Table PTEs are
   * always single-copy atomic (cmpxchg64, WRITE_ONCE).
   */
  readonly plainStoreUnit?: Version['unit'];
}

export interface UnmapOptions extends PteStoreOptions {
  /**
   * io_pgtable_tlb_flush_walk: the SMMU driver's TLB invalidation of [iova, iova+size) walk
   * caches, needed before a table under an unmapped range is freed. Without it such an
   * unmap is refused (freeing a table the SMMU may still have cached is the bug to find).
   */
  readonly flushWalk?: (iova: number, size: number, granule: number) => Action;
}

/** The table geometry the kernel settles on for a configuration (no memory touched). */
export interface PgtableGeometry {
  /** ias / oas after the kernel's caps. */
  readonly ias: number;
  readonly oas: number;
  readonly startLevel: Level;
  /** Index bits resolved by the pgd (more than a full table's when concatenated). */
  readonly pgdBits: number;
  /** pgd size in bytes (8 << pgdBits). */
  readonly pgdSize: number;
  /** Stage 2 only: number of concatenated initial tables (1 when not concatenated). */
  readonly concatenated: number;
  /** Page and block sizes this table can map (cfg->pgsize_bitmap after restriction). */
  readonly pageSizes: readonly number[];
}

const PS_CODE: Record<number, number> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };
/** TCR.TG0 / VTCR.TG0 encodings (the TG1 field uses different codes; io-pgtable's TTBR1 quirk is not modelled). */
const TG0_CODE: Record<Granule, number> = { 4: 0, 64: 1, 16: 2 };
/** TCR SH and RGN codes. */
const SH_OS = 2;
const SH_IS = 3;
const RGN_NC = 0;
const RGN_WBWA = 1;
/** The kernel's MAIR attributes, by AttrIndx: NC, WBRWA (IOMMU_CACHE), Device-nGnRE (IOMMU_MMIO), inner-NC/outer-WBRWA. */
const MAIR_ATTRS: readonly number[] = [0x44, 0xff, 0x04, 0xf4];
const ATTR_IDX_NC = 0;
const ATTR_IDX_CACHE = 1;
const ATTR_IDX_DEV = 2;
/** Stage 2 MemAttr: outer+inner write-back (lets stage 1 decide), Normal NC, Device-nGnRE. */
const MEMATTR_OIWB = 0xf;
const MEMATTR_NC = 0x5;
const MEMATTR_DEV = 0x1;
/** ARM_LPAE_S2_MAX_CONCAT_PAGES. */
const S2_MAX_CONCAT = 16;
const OWNER = 'io-pgtable';

// ---------------------------------------------------------------------------------------
// Geometry

function fail(msg: string): never {
  throw new DriverError(msg);
}

function pageSizeList(granule: Granule, oas: number): number[] {
  // arm_lpae_restrict_pgsizes: 4K {4K,2M,1G}; 16K {16K,32M}; 64K {64K,512M, +4T with oas > 48}.
  if (granule === 4) return [2 ** 12, 2 ** 21, 2 ** 30];
  if (granule === 16) return [2 ** 14, 2 ** 25];
  return oas > 48 ? [2 ** 16, 2 ** 29, 2 ** 42] : [2 ** 16, 2 ** 29];
}

/** S2 concatenation the architecture makes mandatory (arm_lpae_concat_mandatory). */
function concatMandatory(granule: Granule, start: number, ias: number, oas: number): boolean {
  if (granule === 16 && start === 0) return oas === 48 || ias === 48;
  if (granule === 4 && start === 0) return oas === 40 || oas === 42;
  return granule === 16 && start === 1 && oas === 40;
}

/**
 * What arm_lpae_init_pgtable(_s1/_s2) decides: caps, levels, pgd size, stage 2
 * concatenation, page sizes. Throws a DriverError where the kernel refuses the configuration.
 */
export function pgtableGeometry(cfg: PgtableConfig): PgtableGeometry {
  if (cfg.stage !== 1 && cfg.stage !== 2) fail(`stage ${String(cfg.stage)} is not 1 or 2`);
  if (cfg.granule !== 4 && cfg.granule !== 16 && cfg.granule !== 64) fail(`granule ${String(cfg.granule)}KB is not 4, 16 or 64`);
  const q = cfg.quirks ?? {};
  if (cfg.stage === 2 && (q.outerWbwa || q.armNs || q.hd)) {
    fail('-EINVAL: the OUTER_WBWA, ARM_NS and ARM_HD quirks are stage 1 only; io-pgtable refuses them at stage 2');
  }
  if (cfg.coherentWalk && q.outerWbwa) fail('-EINVAL: the OUTER_WBWA quirk is for non-coherent walks only');
  const maxBits = cfg.granule === 64 ? 52 : 48;
  const ias = Math.min(cfg.ias, maxBits);
  const oas = Math.min(cfg.oas, maxBits);
  const g = granuleShift(cfg.granule);
  if (!Number.isInteger(ias) || ias <= g) fail(`ias ${cfg.ias} is too small for the ${cfg.granule}KB granule (at least ${g + 1} bits)`);
  if (PS_CODE[oas] === undefined) fail(`-EINVAL: oas ${cfg.oas} is not one of 32, 36, 40, 42, 44, 48, 52 (the TCR.IPS / VTCR.PS sizes)`);
  let start: number = archStartLevel(cfg.granule, ias);
  let pgdBits = topIndexBits(cfg.granule, ias);
  let concatenated = 1;
  if (cfg.stage === 2 && concatMandatory(cfg.granule, start, ias, oas)) {
    const tables = 2 ** pgdBits;
    if (tables > S2_MAX_CONCAT) {
      fail(`-EINVAL: stage 2 with the ${cfg.granule}KB granule, ias ${ias} and oas ${oas} must concatenate ${tables} initial tables, ` +
        `more than the ${S2_MAX_CONCAT} allowed; use a smaller ias`);
    }
    pgdBits += bitsPerLevel(cfg.granule);
    start += 1;
    concatenated = tables;
  }
  return {
    ias, oas, startLevel: start as Level, pgdBits, pgdSize: 8 * 2 ** pgdBits, concatenated,
    pageSizes: pageSizeList(cfg.granule, oas),
  };
}

interface Geo {
  readonly d: PgtableDomain;
  readonly start: Level;
  readonly pgdBits: number;
  readonly pgdSize: number;
  readonly granuleBytes: number;
  readonly ptesPerTable: number;
  readonly pageSizes: readonly number[];
}

function quirksOf(d: PgtableDomain): PgtableQuirks {
  return (d as Partial<IoPgtableDomain>).quirks ?? {};
}

function geoOf(d: PgtableDomain): Geo {
  const g = granuleShift(d.granule);
  const bpl = bitsPerLevel(d.granule);
  // The pgd resolves whatever the lower levels leave of the input (more when concatenated).
  const pgdBits = d.ias - g - bpl * (3 - d.startLevel);
  return {
    d, start: d.startLevel as Level, pgdBits, pgdSize: 8 * 2 ** pgdBits,
    granuleBytes: 2 ** g, ptesPerTable: 2 ** bpl, pageSizes: pageSizeList(d.granule, d.oas),
  };
}

function domainOf(ctx: DriverContext, name: string): PgtableDomain {
  const d = ctx.kernel.domains.get(name);
  if (!d) {
    const known = [...ctx.kernel.domains.keys()];
    fail(`no io-pgtable domain named '${name}'${known.length ? `; domains: ${known.join(', ')}` : ' (allocate one first)'}`);
  }
  return d;
}

/** Bytes one entry maps at a level (ARM_LPAE_BLOCK_SIZE), as the shift. */
function levelShift(d: PgtableDomain, lvl: number): number {
  return levelGeometry(d.granule, lvl as Level).indexLo;
}

/** ARM_LPAE_LVL_IDX: the pgd level takes all the index bits its (concatenated) table holds. */
function levelIndex(geo: Geo, iova: number, lvl: number): number {
  const bits = lvl === geo.start ? geo.pgdBits : bitsPerLevel(geo.d.granule);
  return Number((BigInt(iova) >> BigInt(levelShift(geo.d, lvl))) & ((1n << BigInt(bits)) - 1n));
}

function fmtAt(d: PgtableDomain, lvl: number): PteFormat {
  // The kernel folds PA[51:48] into bits [15:12] for every 64KB table (paddr_to_iopte).
  return { stage: d.stage, granule: d.granule, level: lvl as Level, pa52: d.granule === 64 };
}

/** Leaf at this level (iopte_leaf): a page at level 3, bits[1:0] = 0b01 above. */
function isLeaf(d: PgtableDomain, pte: bigint, lvl: number): boolean {
  const t = descriptorType(pte, fmtAt(d, lvl));
  return lvl === 3 ? t === 'page' : t === 'block' || (t === 'reserved' && (pte & 3n) === 1n);
}

function isTable(d: PgtableDomain, pte: bigint, lvl: number): boolean {
  return lvl < 3 && descriptorType(pte, fmtAt(d, lvl)) === 'table';
}

/** The software bit io-pgtable uses as SW_SYNC: the lowest of the descriptor's software-use bits. */
function swSyncBit(d: PgtableDomain, lvl: number): bigint {
  const f = pteLayout(fmtAt(d, lvl), 'table').fields.find((x) => x.kind === 'reserved' && x.reserved === 'SOFTWARE');
  if (!f) throw new Error('the table descriptor layout has no software-use bits');
  return 1n << BigInt(f.lo);
}

function sizeText(bytes: number): string {
  const units: [number, string][] = [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']];
  for (const [u, s] of units) if (bytes >= u && bytes % u === 0) return `${bytes / u}${s}`;
  return `${bytes}B`;
}

// ---------------------------------------------------------------------------------------
// PTE building

/** arm_lpae_prot_to_pte: the attribute fields of a leaf, by name. */
function protFields(d: PgtableDomain, prot: MapProt): Record<string, FieldInput> {
  const q = quirksOf(d);
  const attrs: Record<string, FieldInput> = {};
  if (d.stage === 1) {
    const readOnly = !prot.write && !!prot.read;
    attrs.nG = 1;
    // AP[2:1]: AP[2] read-only, AP[1] unprivileged access allowed (unless IOMMU_PRIV).
    attrs.AP = (readOnly ? 2 : 0) | (prot.priv ? 0 : 1);
    if (!readOnly && q.hd) attrs.DBM = 1;
    attrs.AttrIndx = prot.mmio ? ATTR_IDX_DEV : prot.cache ? ATTR_IDX_CACHE : ATTR_IDX_NC;
    if (prot.noexec) {
      attrs.PXN = 1;
      attrs.UXN = 1;
    }
    if (q.armNs) attrs.NS = 1;
  } else {
    attrs.S2AP = (prot.read ? 1 : 0) | (prot.write ? 2 : 0);
    attrs.MemAttr = prot.mmio ? MEMATTR_DEV : prot.cache ? MEMATTR_OIWB : MEMATTR_NC;
    if (prot.noexec) attrs.XN = 3;
  }
  attrs.SH = prot.cache ? SH_IS : SH_OS;
  attrs.AF = 1;
  return attrs;
}

/**
 * Leaf PTEs of one level with the same attributes: the attribute bits are encoded once
 * (a map stores hundreds of thousands of leaves), then each PTE adds its output address.
 */
function leafPtes(d: PgtableDomain, lvl: number, attrs: Record<string, FieldInput>): (pa: number) => bigint {
  const type = lvl === 3 ? 'page' : 'block';
  const fmt = fmtAt(d, lvl);
  const [w] = encode(pteLayout(fmt, type), { ...attrs, Type: lvl === 3 ? 3 : 1 });
  return (pa) => w | makeOutputAddressBits(BigInt(pa), fmt, type);
}

function tablePte(d: PgtableDomain, lvl: number, table: number): bigint {
  const fmt = fmtAt(d, lvl);
  const values: Record<string, FieldInput> = { Type: 3 };
  if (quirksOf(d).armNs) values.NSTable = 1;
  const [w] = encode(pteLayout(fmt, 'table'), values);
  return w | makeOutputAddressBits(BigInt(table), fmt, 'table');
}

/** iopte_deref / iopte_to_paddr of a table or leaf PTE. */
function pteAddress(d: PgtableDomain, pte: bigint, lvl: number): number {
  const a = outputAddress(pte, fmtAt(d, lvl));
  if (a === undefined) fail(`the level ${lvl} entry ${hex(pte)} holds no address`);
  return Number(a);
}

// ---------------------------------------------------------------------------------------
// Memory steps shared by the actions

/** __arm_lpae_sync_pte: dma_sync_single_for_device(TO_DEVICE) = clean to PoC + DSB. */
function* syncPte(ptep: number, n: number): Action {
  yield* frame('__arm_lpae_sync_pte', (function* (): Action {
    yield { op: 'cmo', kind: 'clean', addr: ptep, len: 8 * n, what: `dma_sync_single_for_device: ${n} PTE${n === 1 ? '' : 's'}` };
    yield { op: 'barrier', kind: 'dsb' };
  })(), `${n} entr${n === 1 ? 'y' : 'ies'} at ${hex(ptep)}`);
}

/**
 * __arm_lpae_alloc_pages: iommu-pages gives a zeroed, naturally aligned block of at least 64
 * bytes (the zeroing is CPU stores into the cache); a non-coherent walker gets it mapped
 * with dma_map_single(TO_DEVICE): a clean of the table + DSB.
 */
function* allocTable(d: PgtableDomain, coherentWalk: boolean, name: string, size: number): Action<Region> {
  return yield* frame('__arm_lpae_alloc_pages', (function* (): Action<Region> {
    const bytes = Math.max(size, 64);
    const r = yield* alloc(name, bytes, 'cacheable', OWNER);
    d.tables.push(r.name);
    yield { op: 'write', addr: r.base, data: new Uint8Array(bytes), what: 'zeroed by the page allocator (__GFP_ZERO)' };
    if (!coherentWalk) {
      yield { op: 'cmo', kind: 'clean', addr: r.base, len: size, what: 'dma_map_single(DMA_TO_DEVICE) of the new table' };
      yield { op: 'barrier', kind: 'dsb' };
    }
    return r;
  })(), `${name}, ${hex(size)} bytes`);
}

/** __arm_lpae_free_pages: dma_unmap_single (no CMO for TO_DEVICE on arm64), then free. */
function* freeTable(d: PgtableDomain, name: string): Action {
  yield* frame('__arm_lpae_free_pages', (function* (): Action {
    if (!d.coherentWalk) yield { op: 'note', text: 'dma_unmap_single(DMA_TO_DEVICE): no cache maintenance on arm64' };
    yield { op: 'free', name };
    const i = d.tables.indexOf(name);
    if (i >= 0) d.tables.splice(i, 1);
  })(), name);
}

/** `<domain>.tbl<N>`, N counting every table the domain ever allocated (from 0). */
function nextTableName(d: PgtableDomain): string {
  const io = d as Partial<IoPgtableDomain>;
  let n = io.nextTable;
  if (n === undefined) {
    // A domain made elsewhere: continue after the highest number in use.
    const used = d.tables.map((t) => /\.tbl(\d+)$/.exec(t)).filter((m) => m !== null).map((m) => Number(m[1]));
    n = used.length ? Math.max(...used) + 1 : 0;
  }
  if (io.nextTable !== undefined) io.nextTable = n + 1;
  return `${d.name}.tbl${n}`;
}

/** The region name of a table this domain allocated, by its address. */
function tableRegion(ctx: DriverContext, d: PgtableDomain, addr: number): string {
  const name = d.tables.find((n) => ctx.machine.region(n)?.base === addr);
  if (name === undefined) fail(`${d.name}: a table PTE points at ${hex(addr)}, which is not a table this domain allocated`);
  return name;
}

// ---------------------------------------------------------------------------------------
// Allocation and registers

/** arm_64_lpae_alloc_pgtable_s1 / _s2: the pgd, its DMA mapping and the wmb before TTBR. */
export function* allocPgtable(ctx: DriverContext, name: string, cfg: PgtableConfig): Action<PgtableDomain> {
  const fn = cfg.stage === 2 ? 'arm_64_lpae_alloc_pgtable_s2' : 'arm_64_lpae_alloc_pgtable_s1';
  return yield* frame(fn, allocBody(ctx, name, cfg), `${name}: ${cfg.granule}KB granule, ias ${cfg.ias}, oas ${cfg.oas}`);
}

function* allocBody(ctx: DriverContext, name: string, cfg: PgtableConfig): Action<PgtableDomain> {
  if (ctx.kernel.domains.has(name)) fail(`an io-pgtable domain named '${name}' already exists; free it first or choose another name`);
  const geo = pgtableGeometry(cfg);
  if (geo.concatenated > 1) {
    yield { op: 'note', text: `stage 2: ${geo.concatenated} concatenated level ${geo.startLevel} tables (mandatory for ias ${geo.ias}, oas ${geo.oas})` };
  }
  const d: IoPgtableDomain = {
    name, stage: cfg.stage, granule: cfg.granule, ias: geo.ias, oas: geo.oas, coherentWalk: cfg.coherentWalk,
    pgdRegion: `${name}.pgd`, pgd: 0, startLevel: geo.startLevel, tables: [], quirks: { ...cfg.quirks }, nextTable: 0,
  };
  const r = yield* allocTable(d, cfg.coherentWalk, d.pgdRegion, geo.pgdSize);
  // The empty pgd must be visible before any TTBR write hands it to the SMMU.
  yield { op: 'barrier', kind: 'wmb' };
  const done: IoPgtableDomain = { ...d, pgd: r.base };
  ctx.kernel.domains.set(name, done);
  return done;
}

export interface RegisterValues {
  tcr?: { t0sz: number; tg0: number; irgn0: number; orgn0: number; sh0: number; ips: number };
  vtcr?: { tsz: number; sl0: number; irgn: number; orgn: number; sh: number; tg: number; ps: number };
  ttbr?: number;
  vttbr?: number;
  mair?: bigint;
}

/**
 * What io-pgtable hands the SMMU driver for the CD (stage 1: TCR fields, TTBR, MAIR) or the
 * STE (stage 2: VTCR fields, VTTBR). Walk attributes follow the coherency: inner-shareable
 * write-back when coherent, outer-shareable non-cacheable otherwise (outer write-back with
 * the OUTER_WBWA quirk).
 */
export function registerValues(d: PgtableDomain): RegisterValues {
  const q = quirksOf(d);
  const sh = d.coherentWalk ? SH_IS : SH_OS;
  const irgn = d.coherentWalk ? RGN_WBWA : RGN_NC;
  const orgn = d.coherentWalk || q.outerWbwa ? RGN_WBWA : RGN_NC;
  const ps = PS_CODE[d.oas];
  const tg = TG0_CODE[d.granule];
  if (d.stage === 1) {
    const mair = MAIR_ATTRS.reduce((m, attr, idx) => m | (BigInt(attr) << BigInt(8 * idx)), 0n);
    return { tcr: { t0sz: 64 - d.ias, tg0: tg, irgn0: irgn, orgn0: orgn, sh0: sh, ips: ps }, ttbr: d.pgd, mair };
  }
  // SL0 counts down from the start level, and the 4KB encoding is offset by one.
  const sl = d.startLevel + (d.granule === 4 ? 1 : 0);
  return { vtcr: { tsz: 64 - d.ias, sl0: ~sl & 3, irgn, orgn, sh, tg, ps }, vttbr: d.pgd };
}

// ---------------------------------------------------------------------------------------
// Map

interface MapRequest {
  readonly iova: number;
  readonly pa: number;
  readonly pgsize: number;
  readonly pgcount: number;
  readonly attrs: Record<string, FieldInput>;
  readonly unit: Version['unit'];
}

/** An error the kernel returns from __arm_lpae_map (the wmb still follows). */
interface MapResult {
  readonly mapped: number;
  readonly err?: string;
}

function checkSafe(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) fail(`${what} ${v} is not a non-negative integer address`);
}

function checkPgsize(geo: Geo, pgsize: number): void {
  if (!geo.pageSizes.includes(pgsize)) {
    fail(`-EINVAL: ${sizeText(pgsize)} is not a page size of this ${geo.d.granule}KB table; ` +
      `use one of ${geo.pageSizes.map(sizeText).join(', ')}`);
  }
  if (leafLevel(geo, pgsize) < geo.start) {
    fail(`-EINVAL: ${sizeText(pgsize)} entries would sit above the pgd (level ${geo.start}); use a smaller page size`);
  }
}

function leafLevel(geo: Geo, pgsize: number): number {
  const top = geo.d.granule === 64 ? 1 : 0; // the 64KB granule has no level 0
  for (let lvl = 3; lvl >= top; lvl--) if (2 ** levelShift(geo.d, lvl) === pgsize) return lvl;
  return -1;
}

function checkRange(geo: Geo, iova: number, size: number, pgsize: number): void {
  if (iova >= 2 ** geo.d.ias) fail(`-ERANGE: IOVA ${hex(iova)} is beyond the ${geo.d.ias}-bit input range`);
  if (iova + size > 2 ** geo.d.ias) {
    fail(`IOVA range ${hex(iova)}..${hex(iova + size)} runs past the ${geo.d.ias}-bit input range (the iommu core's aperture check)`);
  }
  if (iova % pgsize !== 0) fail(`IOVA ${hex(iova)} is not aligned to the ${sizeText(pgsize)} page size`);
}

/**
 * arm_lpae_map_pages: map `pgcount` pages of `pgsize` at `iova` to `pa`. Maps up to the
 * end of the leaf table only, as the kernel (`mapped` says how much). A leaf already
 * present throws -EEXIST, after the wmb() the kernel still executes.
 */
export function* mapPages(ctx: DriverContext, domain: string, iova: number, pa: number, pgsize: number, pgcount: number,
  prot: MapProt, opts: PteStoreOptions = {}): Action<{ mapped: number }> {
  // The kernel's argument checks come first, before anything is done.
  const d = domainOf(ctx, domain);
  const geo = geoOf(d);
  checkSafe('IOVA', iova);
  checkSafe('PA', pa);
  checkPgsize(geo, pgsize);
  if (!Number.isSafeInteger(pgcount) || pgcount < 1) fail(`page count ${pgcount} must be a positive integer`);
  checkRange(geo, iova, pgsize * pgcount, pgsize);
  if (pa >= 2 ** d.oas) fail(`-ERANGE: PA ${hex(pa)} is beyond the ${d.oas}-bit output range`);
  if (pa % pgsize !== 0) fail(`PA ${hex(pa)} is not aligned to the ${sizeText(pgsize)} page size`);
  if (!prot.read && !prot.write) fail('-EINVAL: a mapping needs read or write permission (IOMMU_READ / IOMMU_WRITE)');
  const req: MapRequest = { iova, pa, pgsize, pgcount, attrs: protFields(d, prot), unit: opts.plainStoreUnit ?? 8 };
  const res = yield* frame('arm_lpae_map_pages', (function* (): Action<MapResult> {
    const r = yield* frame('__arm_lpae_map', mapLevel(ctx, geo, req, geo.start, d.pgd), `level ${geo.start}`);
    // Every PTE update of the mapping is ordered before anything that may start a walk.
    yield { op: 'barrier', kind: 'wmb' };
    return r;
  })(), `${domain}: IOVA ${hex(iova)} → PA ${hex(pa)}, ${pgcount} × ${sizeText(pgsize)}`);
  if (res.err) fail(res.err);
  return { mapped: res.mapped };
}

function* mapLevel(ctx: DriverContext, geo: Geo, req: MapRequest, lvl: number, table: number): Action<MapResult> {
  const d = geo.d;
  const idx = levelIndex(geo, req.iova, lvl);
  const ptep = table + idx * 8;
  if (req.pgsize === 2 ** levelShift(d, lvl)) {
    // Up to the end of this table (of this page of a concatenated pgd).
    const n = Math.min(req.pgcount, geo.ptesPerTable - (idx % geo.ptesPerTable));
    return yield* frame('arm_lpae_init_pte', initPte(ctx, geo, req, lvl, ptep, n), `level ${lvl}, ${n} entr${n === 1 ? 'y' : 'ies'}`);
  }
  if (lvl >= 3) return { mapped: 0, err: '-EINVAL: no table can be allocated below level 3' };
  const swSync = swSyncBit(d, lvl);
  const pte = ctx.machine.load(ptep, 8);
  let next: number;
  if (pte === 0n) {
    const name = nextTableName(d);
    const r = yield* allocTable(d, d.coherentWalk, name, geo.granuleBytes);
    yield* frame('arm_lpae_install_table', installTable(d, lvl, ptep, r.base, swSync), `level ${lvl} entry ${idx} → ${name}`);
    next = r.base;
  } else {
    if (!d.coherentWalk && (pte & swSync) === 0n) {
      yield { op: 'note', text: `level ${lvl} entry ${idx} has no SW_SYNC: clean it before walking on` };
      yield* syncPte(ptep, 1);
    }
    if (isLeaf(d, pte, lvl)) {
      return { mapped: 0, err: `-EEXIST: level ${lvl} entry ${idx} at ${hex(ptep)} already maps a block (${hex(pte)}); unmap it first` };
    }
    if (!isTable(d, pte, lvl)) fail(`level ${lvl} entry ${idx} at ${hex(ptep)} holds ${hex(pte)}, neither a table nor a leaf`);
    next = pteAddress(d, pte, lvl);
  }
  return yield* frame('__arm_lpae_map', mapLevel(ctx, geo, req, lvl + 1, next), `level ${lvl + 1}`);
}

/** arm_lpae_install_table: dma_wmb, cmpxchg, and on a non-coherent walk the clean + SW_SYNC. */
function* installTable(d: PgtableDomain, lvl: number, ptep: number, table: number, swSync: bigint): Action {
  const pte = tablePte(d, lvl, table);
  // The zeroed table must be visible before the PTE that points at it.
  yield { op: 'barrier', kind: 'dma_wmb' };
  // cmpxchg64_relaxed(ptep, 0, pte): nothing else runs in between here, so it succeeds.
  yield { op: 'store', addr: ptep, size: 8, value: pte, unit: 8, what: `cmpxchg64_relaxed: table PTE → ${hex(table)}` };
  if (d.coherentWalk) return;
  yield* syncPte(ptep, 1);
  yield { op: 'store', addr: ptep, size: 8, value: pte | swSync, unit: 8, what: 'WRITE_ONCE: mark the table PTE SW_SYNC (cleaned)' };
}

/** arm_lpae_init_pte: -EEXIST on a leaf, else __arm_lpae_init_pte (the stores, one sync). */
function* initPte(ctx: DriverContext, geo: Geo, req: MapRequest, lvl: number, ptep: number, n: number): Action<MapResult> {
  const d = geo.d;
  for (let i = 0; i < n; i++) {
    const old = ctx.machine.load(ptep + 8 * i, 8);
    if (isLeaf(d, old, lvl)) {
      return { mapped: 0, err: `-EEXIST: IOVA ${hex(req.iova + i * req.pgsize)} is already mapped (level ${lvl} entry at ${hex(ptep + 8 * i)} = ${hex(old)}); unmap it first` };
    }
    if (isTable(d, old, lvl)) {
      fail(`IOVA ${hex(req.iova + i * req.pgsize)}: replacing a level ${lvl} table with a block (the kernel unmaps and frees the table first) is not modelled; unmap the range first`);
    }
  }
  const size = req.pgsize;
  const leaf = leafPtes(d, lvl, req.attrs);
  yield* frame('__arm_lpae_init_pte', (function* (): Action {
    for (let i = 0; i < n; i++) {
      const pte = leaf(req.pa + i * size);
      yield { op: 'store', addr: ptep + 8 * i, size: 8, value: pte, unit: req.unit, what: `ptep[${i}]: ${lvl === 3 ? 'page' : 'block'} ${hex(req.iova + i * size)} → ${hex(req.pa + i * size)}` };
    }
    if (!d.coherentWalk) yield* syncPte(ptep, n);
  })(), `${n} × ${sizeText(size)}`);
  return { mapped: n * size };
}

// ---------------------------------------------------------------------------------------
// Unmap

/**
 * arm_lpae_unmap_pages: clear `pgcount` entries of `pgsize` from `iova` (up to the end of
 * that table). TLB invalidation of the leaves is the caller's (iommu_iotlb_sync).
 */
export function* unmapPages(ctx: DriverContext, domain: string, iova: number, pgsize: number, pgcount: number,
  opts: UnmapOptions = {}): Action<{ unmapped: number }> {
  const d = domainOf(ctx, domain);
  const geo = geoOf(d);
  checkSafe('IOVA', iova);
  checkPgsize(geo, pgsize);
  if (!Number.isSafeInteger(pgcount) || pgcount < 1) fail(`page count ${pgcount} must be a positive integer`);
  checkRange(geo, iova, pgsize * pgcount, pgsize);
  const unmapped = yield* frame('arm_lpae_unmap_pages',
    frame('__arm_lpae_unmap', unmapLevel(ctx, geo, iova, pgsize, pgcount, geo.start, d.pgd, opts), `level ${geo.start}`),
    `${domain}: IOVA ${hex(iova)}, ${pgcount} × ${sizeText(pgsize)}`);
  return { unmapped };
}

function* unmapLevel(ctx: DriverContext, geo: Geo, iova: number, size: number, pgcount: number, lvl: number, table: number,
  opts: UnmapOptions): Action<number> {
  const d = geo.d;
  const idx = levelIndex(geo, iova, lvl);
  const ptep = table + idx * 8;
  const pte = ctx.machine.load(ptep, 8);
  if (pte === 0n) {
    yield { op: 'note', text: `WARN: nothing mapped at IOVA ${hex(iova)} (level ${lvl} entry ${idx} is empty): 0 bytes unmapped` };
    return 0;
  }
  if (size === 2 ** levelShift(d, lvl)) {
    const n = Math.min(pgcount, geo.ptesPerTable - (idx % geo.ptesPerTable));
    let i = 0;
    for (; i < n; i++) {
      const e = ctx.machine.load(ptep + 8 * i, 8);
      if (e === 0n) {
        yield { op: 'note', text: `WARN: IOVA ${hex(iova + i * size)} is not mapped: stop after ${i} entr${i === 1 ? 'y' : 'ies'}` };
        break;
      }
      if (isLeaf(d, e, lvl)) continue;
      if (!isTable(d, e, lvl)) fail(`level ${lvl} entry at ${hex(ptep + 8 * i)} holds ${hex(e)}, neither a table nor a leaf`);
      // A whole table under the range: clear its PTE, flush the walk caches, free it.
      if (!opts.flushWalk) {
        fail(`unmapping ${sizeText(size)} at IOVA ${hex(iova + i * size)} removes a level ${lvl + 1} table: ` +
          'the walk caches must be flushed before it is freed (io_pgtable_tlb_flush_walk); pass flushWalk, or unmap with the leaf page size');
      }
      yield* clearPtes(d, ptep + 8 * i, 1, opts);
      yield* frame('io_pgtable_tlb_flush_walk', opts.flushWalk(iova + i * size, size, geo.granuleBytes));
      yield* freeSubtree(ctx, geo, lvl + 1, pteAddress(d, e, lvl));
    }
    yield* clearPtes(d, ptep, i, opts);
    return i * size;
  }
  if (isLeaf(d, pte, lvl)) {
    fail(`-EINVAL: IOVA ${hex(iova)} lies in a ${sizeText(2 ** levelShift(d, lvl))} block; unmapping part of it needs a split, ` +
      'which the current kernel refuses ("Unmap of a partial large IOPTE is not allowed") and which is not modelled; unmap the whole block');
  }
  if (!isTable(d, pte, lvl)) fail(`level ${lvl} entry ${idx} at ${hex(ptep)} holds ${hex(pte)}, neither a table nor a leaf`);
  return yield* frame('__arm_lpae_unmap', unmapLevel(ctx, geo, iova, size, pgcount, lvl + 1, pteAddress(d, pte, lvl), opts), `level ${lvl + 1}`);
}

/** __arm_lpae_clear_pte: plain stores of 0, then one sync over the run. */
function* clearPtes(d: PgtableDomain, ptep: number, n: number, opts: PteStoreOptions): Action {
  if (n === 0) return;
  yield* frame('__arm_lpae_clear_pte', (function* (): Action {
    for (let i = 0; i < n; i++) {
      yield { op: 'store', addr: ptep + 8 * i, size: 8, value: 0n, unit: opts.plainStoreUnit ?? 8, what: `ptep[${i}] = 0` };
    }
    if (!d.coherentWalk) yield* syncPte(ptep, n);
  })(), `${n} entr${n === 1 ? 'y' : 'ies'} at ${hex(ptep)}`);
}

// ---------------------------------------------------------------------------------------
// Free and walk

/** arm_lpae_free_pgtable: every table of the domain, children first; the domain is forgotten. */
export function* freePgtable(ctx: DriverContext, domain: string): Action {
  yield* frame('arm_lpae_free_pgtable', (function* (): Action {
    const d = domainOf(ctx, domain);
    const geo = geoOf(d);
    yield* freeSubtree(ctx, geo, geo.start, d.pgd);
    ctx.kernel.domains.delete(domain);
  })(), domain);
}

/** __arm_lpae_free_pgtable: recurse into every table entry (leaf tables hold no tables), then free. */
function* freeSubtree(ctx: DriverContext, geo: Geo, lvl: number, table: number): Action {
  const d = geo.d;
  const name = tableRegion(ctx, d, table);
  yield* frame('__arm_lpae_free_pgtable', (function* (): Action {
    if (lvl < 3) {
      const size = lvl === geo.start ? geo.pgdSize : geo.granuleBytes;
      for (let off = 0; off < size; off += 8) {
        const pte = ctx.machine.load(table + off, 8);
        if (pte === 0n || isLeaf(d, pte, lvl)) continue;
        if (!isTable(d, pte, lvl)) fail(`level ${lvl} entry at ${hex(table + off)} holds ${hex(pte)}, neither a table nor a leaf`);
        yield* freeSubtree(ctx, geo, lvl + 1, pteAddress(d, pte, lvl));
      }
    }
    yield* freeTable(d, name);
  })(), `level ${lvl}, ${name}`);
}

/** arm_lpae_iova_to_phys: a read-only walk of the CPU's view; undefined where nothing is mapped. */
export function iovaToPhys(ctx: DriverContext, domain: string, iova: number): number | undefined {
  const d = domainOf(ctx, domain);
  const geo = geoOf(d);
  checkSafe('IOVA', iova);
  if (iova >= 2 ** d.ias) return undefined;
  let table = d.pgd;
  for (let lvl: number = geo.start; lvl <= 3; lvl++) {
    const pte = ctx.machine.load(table + levelIndex(geo, iova, lvl) * 8, 8);
    if (pte === 0n) return undefined;
    if (isLeaf(d, pte, lvl)) return pteAddress(d, pte, lvl) + (iova % 2 ** levelShift(d, lvl));
    if (!isTable(d, pte, lvl)) return undefined;
    table = pteAddress(d, pte, lvl);
  }
  return undefined;
}
