/**
 * io-pgtable-arm as micro-operations, run on a real Machine by a small executor. Every
 * expected address, PTE and step is worked out by hand in the comments (facts §8/§9):
 *
 * Allocation: the machine's allocator starts at 0x4000_0000 and places each region after the
 * previous one, naturally aligned (a 4KB table at the next 4KB boundary, 64KB at 64KB...).
 *
 * Stage 1 leaf with IOMMU_READ|WRITE|CACHE (4KB page, level 3):
 *   Type 0b11 (page)          = 0x003
 *   AttrIndx 1 (WBRWA) << 2   = 0x004
 *   AP[1] (unprivileged) << 6 = 0x040   (AP[2] = 0: writable)
 *   SH 3 (IS) << 8            = 0x300
 *   AF << 10                  = 0x400
 *   nG << 11                  = 0x800
 *   total attributes          = 0xf47  (a block: Type 0b01 → 0xf45)
 * Table PTE: address | 0b11; SW_SYNC is bit 55 = 0x0080_0000_0000_0000.
 */
import { strict as assert } from 'node:assert';
import { decode } from '../../src/arch/codec';
import { pteLayout } from '../../src/arch/pte';
import { DriverContext, DriverError, newKernelState } from '../../src/driver/context';
import {
  allocPgtable, freePgtable, iovaToPhys, mapPages, PgtableConfig, pgtableGeometry, registerValues, unmapPages,
} from '../../src/driver/iopgtable';
import { runAction } from '../../src/driver/exec';
import { Action, MicroOp } from '../../src/driver/ops';
import { DEFAULT_PLATFORM, Machine } from '../../src/model/machine';

/** Run an action to its end, logging every yielded operation (also when it throws). */
function run<R>(m: Machine, action: Action<R>, log: MicroOp[] = []): R {
  return runAction(m, action, (op) => log.push(op));
}

const hex = (v: number | bigint): string => '0x' + v.toString(16);

/** The CPU steps of a log, one short line each (frames and notes left out). */
function steps(log: readonly MicroOp[]): string[] {
  const out: string[] = [];
  for (const op of log) {
    switch (op.op) {
      case 'store': out.push(`store ${hex(op.addr)} = ${hex(op.value)}${op.unit === 8 ? '' : ` u${op.unit}`}`); break;
      case 'cmo': out.push(`${op.kind} ${hex(op.addr)}+${hex(op.len)}`); break;
      case 'barrier': out.push(op.kind); break;
      case 'alloc': out.push(`alloc ${op.name} ${hex(op.size)}`); break;
      case 'free': out.push(`free ${op.name}`); break;
      case 'write': out.push(`write ${hex(op.addr)}+${hex(op.data.length)}`); break;
      default: break;
    }
  }
  return out;
}

function balanced(log: readonly MicroOp[]): void {
  assert.equal(log.filter((o) => o.op === 'enter').length, log.filter((o) => o.op === 'leave').length, 'enter/leave balanced');
}

interface Setup {
  m: Machine;
  ctx: DriverContext;
}

function setup(coherent: boolean): Setup {
  const m = Machine.create({ ...DEFAULT_PLATFORM, memory: { ...DEFAULT_PLATFORM.memory, coherent } });
  return { m, ctx: { machine: m, kernel: newKernelState() } };
}

const S1_4K: PgtableConfig = { stage: 1, granule: 4, ias: 48, oas: 48, coherentWalk: false };
const RWC = { read: true, write: true, cache: true };
const SW_SYNC = 0x0080_0000_0000_0000n; // bit 55

/** A fresh non-coherent 4K/48-bit stage 1 domain 'dom' (pgd at 0x4000_0000), its steps discarded. */
function s1Domain(coherent = false): Setup {
  const s = setup(coherent);
  run(s.m, allocPgtable(s.ctx, 'dom', { ...S1_4K, coherentWalk: coherent }));
  return s;
}

/**
 * IOVA 0x80_4020_3000, 4KB granule, 48 bits:
 *   L0 index = IOVA >> 39 = 0x80_4020_3000 / 0x80_0000_0000 = 1
 *   L1 index = (IOVA >> 30) & 0x1ff = 0x201 & 0x1ff = 1
 *   L2 index = (IOVA >> 21) & 0x1ff: IOVA[29:0] = 0x20_3000 → 0x20_3000 >> 21 = 1
 *   L3 index = (IOVA >> 12) & 0x1ff: IOVA[20:0] = 0x3000 → 3
 * Tables: pgd 0x4000_0000, tbl0 (L1) 0x4000_1000, tbl1 (L2) 0x4000_2000, tbl2 (L3) 0x4000_3000.
 * PTEs: pgd[1] at 0x4000_0008, tbl0[1] at 0x4000_1008, tbl1[1] at 0x4000_2008, tbl2[3] at 0x4000_3018.
 */
const IOVA = 0x80_4020_3000;
const PA = 0x9_8765_4000;
const LEAF = 0x9_8765_4f47n; // PA | 0xf47

/** The three table allocations and installs for IOVA 0x80_40xx_xxxx on a non-coherent walk. */
const THREE_TABLES_NC = [
  // level 0 entry 1 → tbl0
  'alloc dom.tbl0 0x1000', 'write 0x40001000+0x1000', 'clean 0x40001000+0x1000', 'dsb',
  'dma_wmb', 'store 0x40000008 = 0x40001003', 'clean 0x40000008+0x8', 'dsb', 'store 0x40000008 = 0x80000040001003',
  // level 1 entry 1 → tbl1
  'alloc dom.tbl1 0x1000', 'write 0x40002000+0x1000', 'clean 0x40002000+0x1000', 'dsb',
  'dma_wmb', 'store 0x40001008 = 0x40002003', 'clean 0x40001008+0x8', 'dsb', 'store 0x40001008 = 0x80000040002003',
  // level 2 entry 1 → tbl2
  'alloc dom.tbl2 0x1000', 'write 0x40003000+0x1000', 'clean 0x40003000+0x1000', 'dsb',
  'dma_wmb', 'store 0x40002008 = 0x40003003', 'clean 0x40002008+0x8', 'dsb', 'store 0x40002008 = 0x80000040003003',
];

describe('io-pgtable-arm driver model', () => {
  describe('allocPgtable', () => {
    it('allocates, zeroes and cleans the pgd, then wmb, and records the domain', () => {
      const s = setup(false);
      const log: MicroOp[] = [];
      const d = run(s.m, allocPgtable(s.ctx, 'dom', S1_4K), log);
      // 48-bit 4K: levels = ceil((48-12)/9) = 4 → start level 0, 512 entries = 4KB pgd.
      assert.deepEqual(steps(log), ['alloc dom.pgd 0x1000', 'write 0x40000000+0x1000', 'clean 0x40000000+0x1000', 'dsb', 'wmb']);
      assert.equal(d.pgd, 0x4000_0000);
      assert.equal(d.startLevel, 0);
      assert.deepEqual(d.tables, ['dom.pgd']);
      assert.equal(s.ctx.kernel.domains.get('dom'), d);
      assert.equal(s.m.region('dom.pgd')?.attr, 'cacheable');
      assert.equal(s.m.region('dom.pgd')?.owner, 'io-pgtable');
      const enter = log.find((o) => o.op === 'enter');
      assert.equal(enter?.op === 'enter' && enter.fn, 'arm_64_lpae_alloc_pgtable_s1');
      balanced(log);
    });

    it('on a coherent walk there is no clean and no DSB', () => {
      const s = setup(true);
      const log: MicroOp[] = [];
      run(s.m, allocPgtable(s.ctx, 'dom', { ...S1_4K, coherentWalk: true }), log);
      assert.deepEqual(steps(log), ['alloc dom.pgd 0x1000', 'write 0x40000000+0x1000', 'wmb']);
    });

    it('a tiny pgd still gets 64 bytes; the clean covers the table itself', () => {
      // S2 4K, ias 40, oas 44: va_bits 28 → 4 levels, start 0, top index bits 28 - 27 = 1 → 2 entries (16 bytes);
      // oas 44 does not make concatenation mandatory.
      const s = setup(false);
      const log: MicroOp[] = [];
      const d = run(s.m, allocPgtable(s.ctx, 'dom', { stage: 2, granule: 4, ias: 40, oas: 44, coherentWalk: false }), log);
      assert.deepEqual(steps(log), ['alloc dom.pgd 0x40', 'write 0x40000000+0x40', 'clean 0x40000000+0x10', 'dsb', 'wmb']);
      assert.equal(d.startLevel, 0);
    });

    it('refuses a second domain with the same name and impossible configurations', () => {
      const s = s1Domain();
      assert.throws(() => run(s.m, allocPgtable(s.ctx, 'dom', S1_4K)), DriverError);
      assert.throws(() => run(s.m, allocPgtable(s.ctx, 'x', { ...S1_4K, oas: 46 })), /oas 46/);
      assert.throws(() => run(s.m, allocPgtable(s.ctx, 'x', { ...S1_4K, coherentWalk: true, quirks: { outerWbwa: true } })), /OUTER_WBWA/);
      assert.throws(() => run(s.m, allocPgtable(s.ctx, 'x', { stage: 2, granule: 4, ias: 40, oas: 40, coherentWalk: false, quirks: { armNs: true } })), /stage 1 only/);
      // S2 4K ias 48 oas 40: start 0 with 2^9 = 512 initial tables to concatenate > 16.
      assert.throws(() => run(s.m, allocPgtable(s.ctx, 'x', { stage: 2, granule: 4, ias: 48, oas: 40, coherentWalk: false })), /512/);
    });
  });

  describe('pgtableGeometry', () => {
    it('caps ias/oas at 48 for 4K and 16K, 52 for 64K', () => {
      const g4 = pgtableGeometry({ ...S1_4K, ias: 52, oas: 52 });
      assert.equal(g4.ias, 48);
      assert.equal(g4.oas, 48);
      // 64K, ias 52: va_bits 36, 3 levels → start 1, pgd bits 36 - 26 = 10 → 8KB; 4TB pages with oas > 48.
      const g64 = pgtableGeometry({ stage: 1, granule: 64, ias: 52, oas: 52, coherentWalk: false });
      assert.equal(g64.startLevel, 1);
      assert.equal(g64.pgdSize, 0x2000);
      assert.deepEqual(g64.pageSizes, [0x1_0000, 0x2000_0000, 2 ** 42]);
    });

    it('16K stage 2 with 48 bits concatenates two level 1 tables', () => {
      // 16K: bpl 11, va_bits 34, 4 levels, start 0 with 1 index bit (2 entries) → mandatory:
      // start 1, pgd bits 1 + 11 = 12 → 8 << 12 = 32KB.
      const g = pgtableGeometry({ stage: 2, granule: 16, ias: 48, oas: 48, coherentWalk: false });
      assert.equal(g.startLevel, 1);
      assert.equal(g.concatenated, 2);
      assert.equal(g.pgdSize, 0x8000);
    });
  });

  describe('mapPages (non-coherent walk)', () => {
    it('maps one 4K page in an empty 48-bit table: 3 tables, SW_SYNC, one leaf store and one clean', () => {
      const s = s1Domain();
      const log: MicroOp[] = [];
      const r = run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC), log);
      assert.equal(r.mapped, 0x1000);
      assert.deepEqual(steps(log), [
        ...THREE_TABLES_NC,
        // tbl2[3] at 0x4000_3018 = 0x9_8765_4000 | 0xf47
        'store 0x40003018 = 0x987654f47', 'clean 0x40003018+0x8', 'dsb',
        'wmb',
      ]);
      balanced(log);
      const fns = log.filter((o) => o.op === 'enter').map((o) => (o.op === 'enter' ? o.fn : ''));
      assert.equal(fns[0], 'arm_lpae_map_pages');
      for (const fn of ['__arm_lpae_map', 'arm_lpae_install_table', '__arm_lpae_sync_pte', '__arm_lpae_alloc_pages', 'arm_lpae_init_pte', '__arm_lpae_init_pte']) {
        assert.ok(fns.includes(fn), fn);
      }
      assert.equal(s.ctx.kernel.domains.get('dom')?.tables.length, 4);
      assert.equal(iovaToPhys(s.ctx, 'dom', IOVA + 0xabc), 0x9_8765_4abc);
      assert.equal(iovaToPhys(s.ctx, 'dom', IOVA + 0x1000), undefined);
      // The leaf decodes cleanly as a stage 1 page.
      const dec = decode(pteLayout({ stage: 1, granule: 4, level: 3 }, 'page'), [LEAF]);
      assert.deepEqual(dec.problems, []);
      assert.equal(dec.num('AttrIndx'), 1);
    });

    it('after the cleans the SMMU sees every written PTE as the CPU does (table PTEs minus the software bit)', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC));
      const cpu = (a: number): bigint => s.m.load(a, 8);
      const smmu = (a: number): bigint => s.m.mem.smmuReadU64(a);
      assert.equal(cpu(0x4000_3018), LEAF);
      assert.equal(smmu(0x4000_3018), LEAF);
      // The SW_SYNC rewrite is never cleaned: PoC keeps the first (cleaned) value, which the
      // SMMU reads identically because bit 55 is ignored by the walk.
      for (const [a, table] of [[0x4000_0008, 0x4000_1003n], [0x4000_1008, 0x4000_2003n], [0x4000_2008, 0x4000_3003n]] as const) {
        assert.equal(cpu(a), table | SW_SYNC, hex(a));
        assert.equal(smmu(a), table, hex(a));
        assert.equal(smmu(a), cpu(a) & ~SW_SYNC, hex(a));
      }
      // Every new table was cleaned while zero: PoC of an untouched entry reads 0.
      assert.equal(smmu(0x4000_3000), 0n);
    });

    it('16 consecutive 4K pages: 16 leaf stores and ONE clean of 128 bytes', () => {
      const s = s1Domain();
      const log: MicroOp[] = [];
      // IOVA 0x80_4020_0000: indices 1, 1, 1 and L3 index 0 → entries 0x4000_3000 .. 0x4000_3078.
      const r = run(s.m, mapPages(s.ctx, 'dom', 0x80_4020_0000, 0x9_8765_0000, 0x1000, 16, RWC), log);
      assert.equal(r.mapped, 0x1_0000);
      const leaves: string[] = [];
      // entry i at 0x4000_3000 + 8i holds (0x9_8765_0000 + i * 0x1000) | 0xf47
      for (let i = 0; i < 16; i++) leaves.push(`store ${hex(0x4000_3000 + 8 * i)} = ${hex(0x9_8765_0f47n + BigInt(i) * 0x1000n)}`);
      assert.equal(leaves[0], 'store 0x40003000 = 0x987650f47');
      assert.equal(leaves[15], 'store 0x40003078 = 0x98765ff47');
      assert.deepEqual(steps(log), [...THREE_TABLES_NC, ...leaves, 'clean 0x40003000+0x80', 'dsb', 'wmb']);
      for (let i = 0; i < 16; i++) assert.equal(s.m.mem.smmuReadU64(0x4000_3000 + 8 * i), 0x9_8765_0f47n + BigInt(i) * 0x1000n);
    });

    it('stops at the end of the leaf table and reports what it mapped', () => {
      const s = s1Domain();
      // L3 index of 0x80_403f_e000 is (0x3f_e000 >> 12) & 0x1ff = 0x1fe: only 2 entries left in that table.
      const r = run(s.m, mapPages(s.ctx, 'dom', 0x80_403f_e000, 0x1_0000_0000, 0x1000, 4, RWC));
      assert.equal(r.mapped, 0x2000);
    });

    it('a 2M block: two tables and a block PTE at level 2', () => {
      const s = s1Domain();
      const log: MicroOp[] = [];
      // IOVA 0x80_4040_0000: L0 1, L1 1, L2 = 0x40_0000 >> 21 = 2 → tbl1[2] at 0x4000_2010.
      // PA 0x9_8760_0000 = 0x4c3b << 21 (2M aligned); block attributes 0xf45.
      const r = run(s.m, mapPages(s.ctx, 'dom', 0x80_4040_0000, 0x9_8760_0000, 0x20_0000, 1, RWC), log);
      assert.equal(r.mapped, 0x20_0000);
      assert.deepEqual(steps(log), [
        ...THREE_TABLES_NC.slice(0, 18),
        'store 0x40002010 = 0x987600f45', 'clean 0x40002010+0x8', 'dsb',
        'wmb',
      ]);
      // 0x9_8760_0000 + 0x12_3456
      assert.equal(iovaToPhys(s.ctx, 'dom', 0x80_4052_3456), 0x9_8772_3456);
    });

    it('a new L3 table in the middle of an existing L2 table', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC));
      const log: MicroOp[] = [];
      // IOVA 0x80_40a0_7000: L0 1, L1 1 (both already tables with SW_SYNC: no sync),
      // L2 = 0xa0_7000 >> 21 = 5 → tbl1[5] at 0x4000_2028 is empty → tbl3 at 0x4000_4000;
      // L3 = 0x7000 >> 12 = 7 → 0x4000_4038 = 0x1_2345_6000 | 0xf47.
      run(s.m, mapPages(s.ctx, 'dom', 0x80_40a0_7000, 0x1_2345_6000, 0x1000, 1, RWC), log);
      assert.deepEqual(steps(log), [
        'alloc dom.tbl3 0x1000', 'write 0x40004000+0x1000', 'clean 0x40004000+0x1000', 'dsb',
        'dma_wmb', 'store 0x40002028 = 0x40004003', 'clean 0x40002028+0x8', 'dsb', 'store 0x40002028 = 0x80000040004003',
        'store 0x40004038 = 0x123456f47', 'clean 0x40004038+0x8', 'dsb',
        'wmb',
      ]);
      assert.equal(s.m.mem.smmuReadU64(0x4000_4038), 0x1_2345_6f47n);
      assert.equal(s.m.mem.smmuReadU64(0x4000_2028), 0x4000_4003n);
    });

    it('cleans an existing table PTE that lacks SW_SYNC before walking through it', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC));
      // As if another path had installed tbl0[1] without the software bit.
      s.m.store(0x4000_1008, 8, 0x4000_2003n);
      const log: MicroOp[] = [];
      // IOVA 0x80_4020_4000: same tables, L3 index 4 → 0x4000_3020.
      run(s.m, mapPages(s.ctx, 'dom', 0x80_4020_4000, 0x2000_0000, 0x1000, 1, RWC), log);
      assert.deepEqual(steps(log), [
        'clean 0x40001008+0x8', 'dsb',
        'store 0x40003020 = 0x20000f47', 'clean 0x40003020+0x8', 'dsb',
        'wmb',
      ]);
    });

    it('-EEXIST on an existing leaf: no store, and the wmb still runs', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC));
      const log: MicroOp[] = [];
      assert.throws(() => run(s.m, mapPages(s.ctx, 'dom', IOVA, 0x5000_0000, 0x1000, 1, RWC), log),
        (e: unknown) => e instanceof DriverError && /EEXIST/.test(e.message));
      assert.deepEqual(steps(log), ['wmb']);
      balanced(log);
      assert.equal(s.m.load(0x4000_3018, 8), LEAF);
    });

    it('-EEXIST on a page under a block: the block PTE (no SW_SYNC) is cleaned first', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', 0x80_4040_0000, 0x9_8760_0000, 0x20_0000, 1, RWC));
      const log: MicroOp[] = [];
      assert.throws(() => run(s.m, mapPages(s.ctx, 'dom', 0x80_4040_1000, PA, 0x1000, 1, RWC), log), /EEXIST/);
      // tbl1[2] at 0x4000_2010 is the block.
      assert.deepEqual(steps(log), ['clean 0x40002010+0x8', 'dsb', 'wmb']);
    });

    it('refuses what the kernel or the iommu core refuses', () => {
      const s = s1Domain();
      assert.throws(() => run(s.m, mapPages(s.ctx, 'dom', 0, 0, 0x4000, 1, RWC)), /not a page size/);
      assert.throws(() => run(s.m, mapPages(s.ctx, 'dom', 2 ** 48, 0, 0x1000, 1, RWC)), /ERANGE/);
      assert.throws(() => run(s.m, mapPages(s.ctx, 'dom', 0, 2 ** 48, 0x1000, 1, RWC)), /ERANGE/);
      assert.throws(() => run(s.m, mapPages(s.ctx, 'dom', 0, 0, 0x1000, 1, { cache: true })), /read or write/);
      assert.throws(() => run(s.m, mapPages(s.ctx, 'dom', 0x1000, 0x1000, 0x20_0000, 1, RWC)), /aligned/);
      assert.throws(() => run(s.m, mapPages(s.ctx, 'nope', 0, 0, 0x1000, 1, RWC)), /no io-pgtable domain/);
      // 4K, ias 30: va_bits 18 → 2 levels, start 2: a 1G entry would be at level 1, above the pgd.
      run(s.m, allocPgtable(s.ctx, 'small', { ...S1_4K, ias: 30 }));
      assert.throws(() => run(s.m, mapPages(s.ctx, 'small', 0, 0, 0x4000_0000, 1, RWC)), /above the pgd/);
    });

    it('plain leaf stores may tear when the caller says so', () => {
      const s = s1Domain();
      const log: MicroOp[] = [];
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC, { plainStoreUnit: 4 }), log);
      const stores = log.filter((o) => o.op === 'store');
      // The 6 table stores (cmpxchg + SW_SYNC per table) stay atomic; the leaf is unit 4.
      assert.deepEqual(stores.map((o) => (o.op === 'store' ? o.unit : 0)), [8, 8, 8, 8, 8, 8, 4]);
    });
  });

  describe('PTE attributes', () => {
    function leafFor(prot: Parameters<typeof mapPages>[6], quirks = {}): bigint {
      const s = setup(false);
      run(s.m, allocPgtable(s.ctx, 'dom', { ...S1_4K, quirks }));
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, prot));
      return s.m.load(0x4000_3018, 8);
    }

    it('read-only, non-cacheable, privileged, device and noexec leaves', () => {
      // RO: AP[2] (0x80) | AP[1] (0x40); no IOMMU_CACHE → AttrIndx 0, SH OS (0x200):
      // 0x3 | 0x40 | 0x80 | 0x200 | 0x400 | 0x800 = 0xec3
      assert.equal(leafFor({ read: true }), 0x9_8765_4ec3n);
      // Privileged RW cached: no AP[1] → 0xf47 - 0x40 = 0xf07
      assert.equal(leafFor({ read: true, write: true, cache: true, priv: true }), 0x9_8765_4f07n);
      // MMIO: AttrIndx 2 (0x8), SH OS: 0x3 | 0x8 | 0x40 | 0x200 | 0x400 | 0x800 = 0xe4b
      assert.equal(leafFor({ read: true, write: true, mmio: true }), 0x9_8765_4e4bn);
      // NOEXEC: PXN (bit 53) + UXN (bit 54) = 0x0060_0000_0000_0000
      assert.equal(leafFor({ ...RWC, noexec: true }), 0x0060_0009_8765_4f47n);
      // HD quirk on a writable page: DBM (bit 51) = 0x0008_0000_0000_0000
      assert.equal(leafFor(RWC, { hd: true }), 0x0008_0009_8765_4f47n);
      // ARM_NS: NS (bit 5) = 0x20 in the leaf
      assert.equal(leafFor(RWC, { armNs: true }), 0x9_8765_4f67n);
    });

    it('ARM_NS marks table PTEs NSTable (bit 63)', () => {
      const s = setup(false);
      run(s.m, allocPgtable(s.ctx, 'dom', { ...S1_4K, quirks: { armNs: true } }));
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC));
      // 0x8000_0000_0000_0000 | SW_SYNC | 0x4000_1003
      assert.equal(s.m.load(0x4000_0008, 8), 0x8080_0000_4000_1003n);
    });
  });

  describe('coherent walk', () => {
    it('the same map has no CMO and no DSB, and no SW_SYNC', () => {
      const s = s1Domain(true);
      const log: MicroOp[] = [];
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC), log);
      assert.deepEqual(steps(log), [
        'alloc dom.tbl0 0x1000', 'write 0x40001000+0x1000', 'dma_wmb', 'store 0x40000008 = 0x40001003',
        'alloc dom.tbl1 0x1000', 'write 0x40002000+0x1000', 'dma_wmb', 'store 0x40001008 = 0x40002003',
        'alloc dom.tbl2 0x1000', 'write 0x40003000+0x1000', 'dma_wmb', 'store 0x40002008 = 0x40003003',
        'store 0x40003018 = 0x987654f47',
        'wmb',
      ]);
      assert.ok(!log.some((o) => o.op === 'cmo'));
      assert.equal(s.m.mem.smmuReadU64(0x4000_3018), LEAF);
    });
  });

  describe('stage 2 with concatenation', () => {
    it('4K, ias 40, oas 40: start level 1 with two concatenated tables (8KB pgd)', () => {
      const s = setup(false);
      const log: MicroOp[] = [];
      // 4K, ias 40: va_bits 28, 4 levels, start 0 with 1 index bit; oas 40 makes
      // concatenation mandatory → start 1, pgd bits 1 + 9 = 10 → 1024 entries = 8KB.
      const d = run(s.m, allocPgtable(s.ctx, 's2', { stage: 2, granule: 4, ias: 40, oas: 40, coherentWalk: false }), log);
      assert.equal(d.startLevel, 1);
      assert.deepEqual(steps(log), ['alloc s2.pgd 0x2000', 'write 0x40000000+0x2000', 'clean 0x40000000+0x2000', 'dsb', 'wmb']);
      assert.ok(log.some((o) => o.op === 'note' && /2 concatenated/.test(o.text)));
      const map: MicroOp[] = [];
      // IOVA 0xc0_4000_5000: L1 index (10 bits) = IOVA >> 30 = 0x300 + 1 = 0x301 → pgd + 0x1808
      // (in the second concatenated table); L2 = 0x5000 >> 21 = 0; L3 = 0x5000 >> 12 = 5 → +0x28.
      // Leaf: Type 0x3 | MemAttr 0xf << 2 (0x3c) | S2AP RW 3 << 6 (0xc0) | SH IS 0x300 | AF 0x400 = 0x7ff.
      run(s.m, mapPages(s.ctx, 's2', 0xc0_4000_5000, 0x12_3456_7000, 0x1000, 1, RWC), map);
      assert.deepEqual(steps(map), [
        'alloc s2.tbl0 0x1000', 'write 0x40002000+0x1000', 'clean 0x40002000+0x1000', 'dsb',
        'dma_wmb', 'store 0x40001808 = 0x40002003', 'clean 0x40001808+0x8', 'dsb', 'store 0x40001808 = 0x80000040002003',
        'alloc s2.tbl1 0x1000', 'write 0x40003000+0x1000', 'clean 0x40003000+0x1000', 'dsb',
        'dma_wmb', 'store 0x40002000 = 0x40003003', 'clean 0x40002000+0x8', 'dsb', 'store 0x40002000 = 0x80000040003003',
        'store 0x40003028 = 0x12345677ff', 'clean 0x40003028+0x8', 'dsb',
        'wmb',
      ]);
      assert.equal(iovaToPhys(s.ctx, 's2', 0xc0_4000_5123), 0x12_3456_7123);
      // VTCR: T0SZ 64 - 40 = 24; SL0 = ~(1 + 1) & 3 = 1; TG 4K = 0; PS 40 bits = 2; OS, NC, NC.
      assert.deepEqual(registerValues(d), { vtcr: { tsz: 24, sl0: 1, irgn: 0, orgn: 0, sh: 2, tg: 0, ps: 2 }, vttbr: 0x4000_0000 });
    });

    it('stage 2 attributes: read-only non-cacheable, device, noexec', () => {
      const s = setup(false);
      run(s.m, allocPgtable(s.ctx, 's2', { stage: 2, granule: 4, ias: 40, oas: 40, coherentWalk: false }));
      // Three pages in the same L3 table (tbl1 at 0x4000_3000), entries 5, 6, 7.
      run(s.m, mapPages(s.ctx, 's2', 0xc0_4000_5000, 0x1000_0000, 0x1000, 1, { read: true }));
      run(s.m, mapPages(s.ctx, 's2', 0xc0_4000_6000, 0x1000_1000, 0x1000, 1, { read: true, write: true, mmio: true }));
      run(s.m, mapPages(s.ctx, 's2', 0xc0_4000_7000, 0x1000_2000, 0x1000, 1, { ...RWC, noexec: true }));
      // RO NC: 0x3 | MemAttr 5 << 2 (0x14) | S2AP 1 << 6 (0x40) | SH OS 0x200 | AF 0x400 = 0x657
      assert.equal(s.m.load(0x4000_3028, 8), 0x1000_0657n);
      // Device: 0x3 | MemAttr 1 << 2 (0x4) | 0xc0 | 0x200 | 0x400 = 0x6c7
      assert.equal(s.m.load(0x4000_3030, 8), 0x1000_16c7n);
      // XN = 3 at bits [54:53] = 0x0060_0000_0000_0000, with 0x7ff
      assert.equal(s.m.load(0x4000_3038, 8), 0x0060_0000_1000_27ffn);
    });
  });

  describe('64K granule with a 52-bit output', () => {
    it('folds PA[51:48] into PTE bits [15:12]', () => {
      const s = setup(false);
      const log: MicroOp[] = [];
      // 64K, ias 48: bpl 13, va_bits 32, 3 levels → start 1, pgd bits 32 - 26 = 6 → 64 entries = 512 bytes.
      const d = run(s.m, allocPgtable(s.ctx, 'big', { stage: 1, granule: 64, ias: 48, oas: 52, coherentWalk: false }), log);
      assert.equal(d.startLevel, 1);
      assert.deepEqual(steps(log), ['alloc big.pgd 0x200', 'write 0x40000000+0x200', 'clean 0x40000000+0x200', 'dsb', 'wmb']);
      const map: MicroOp[] = [];
      // IOVA 0x1234_0000: L1 = IOVA >> 42 = 0; L2 = (IOVA >> 29) & 0x1fff = 0; L3 = (IOVA >> 16) & 0x1fff = 0x1234
      // → entry at tbl1 + 0x1234 * 8 = +0x91a0. tbl0 at the next 64KB boundary after 0x4000_0200 = 0x4001_0000,
      // tbl1 at 0x4002_0000.
      // PA 0xa_1234_5678_0000: OA[47:16] in place = 0x1234_5678_0000, OA[51:48] = 0xa → bits [15:12] = 0xa000;
      // attributes 0xf47 → 0x1234_5678_af47.
      run(s.m, mapPages(s.ctx, 'big', 0x1234_0000, 0xa_1234_5678_0000, 0x1_0000, 1, RWC), map);
      assert.deepEqual(steps(map), [
        'alloc big.tbl0 0x10000', 'write 0x40010000+0x10000', 'clean 0x40010000+0x10000', 'dsb',
        'dma_wmb', 'store 0x40000000 = 0x40010003', 'clean 0x40000000+0x8', 'dsb', 'store 0x40000000 = 0x80000040010003',
        'alloc big.tbl1 0x10000', 'write 0x40020000+0x10000', 'clean 0x40020000+0x10000', 'dsb',
        'dma_wmb', 'store 0x40010000 = 0x40020003', 'clean 0x40010000+0x8', 'dsb', 'store 0x40010000 = 0x80000040020003',
        'store 0x400291a0 = 0x12345678af47', 'clean 0x400291a0+0x8', 'dsb',
        'wmb',
      ]);
      assert.equal(iovaToPhys(s.ctx, 'big', 0x1234_4321), 0xa_1234_5678_4321);
      assert.equal(s.m.mem.smmuReadU64(0x4002_91a0), 0x1234_5678_af47n);
      // TCR: T0SZ 16, TG0 64K = 1, IPS 52 bits = 6.
      assert.deepEqual(registerValues(d).tcr, { t0sz: 16, tg0: 1, irgn0: 0, orgn0: 0, sh0: 2, ips: 6 });
    });
  });

  describe('unmapPages', () => {
    it('clears 16 leaves with 16 stores and ONE clean; tables stay', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', 0x80_4020_0000, 0x9_8765_0000, 0x1000, 16, RWC));
      const log: MicroOp[] = [];
      const r = run(s.m, unmapPages(s.ctx, 'dom', 0x80_4020_0000, 0x1000, 16), log);
      assert.equal(r.unmapped, 0x1_0000);
      const zeros: string[] = [];
      for (let i = 0; i < 16; i++) zeros.push(`store ${hex(0x4000_3000 + 8 * i)} = 0x0`);
      assert.deepEqual(steps(log), [...zeros, 'clean 0x40003000+0x80', 'dsb']);
      balanced(log);
      for (let i = 0; i < 16; i++) assert.equal(s.m.mem.smmuReadU64(0x4000_3000 + 8 * i), 0n);
      assert.equal(iovaToPhys(s.ctx, 'dom', 0x80_4020_0000), undefined);
      assert.deepEqual(s.ctx.kernel.domains.get('dom')?.tables, ['dom.pgd', 'dom.tbl0', 'dom.tbl1', 'dom.tbl2']);
    });

    it('one page, with torn plain stores when asked', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC));
      const log: MicroOp[] = [];
      run(s.m, unmapPages(s.ctx, 'dom', IOVA, 0x1000, 1, { plainStoreUnit: 2 }), log);
      assert.deepEqual(steps(log), ['store 0x40003018 = 0x0 u2', 'clean 0x40003018+0x8', 'dsb']);
    });

    it('a coherent walk clears without CMOs', () => {
      const s = s1Domain(true);
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC));
      const log: MicroOp[] = [];
      run(s.m, unmapPages(s.ctx, 'dom', IOVA, 0x1000, 1), log);
      assert.deepEqual(steps(log), ['store 0x40003018 = 0x0']);
    });

    it('refuses to unmap part of a block', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', 0x80_4040_0000, 0x9_8760_0000, 0x20_0000, 1, RWC));
      assert.throws(() => run(s.m, unmapPages(s.ctx, 'dom', 0x80_4040_1000, 0x1000, 1)), /partial large IOPTE/);
    });

    it('nothing mapped: 0 bytes, no store', () => {
      const s = s1Domain();
      const log: MicroOp[] = [];
      assert.equal(run(s.m, unmapPages(s.ctx, 'dom', IOVA, 0x1000, 1), log).unmapped, 0);
      assert.deepEqual(steps(log), []);
    });

    it('a 2M unmap over an L3 table: clear + clean, walk flush, free the table, clear again', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC));
      // Without the SMMU driver's walk flush the table cannot be freed safely.
      assert.throws(() => run(s.m, unmapPages(s.ctx, 'dom', 0x80_4020_0000, 0x20_0000, 1)), /flushWalk/);
      const flushes: number[][] = [];
      const log: MicroOp[] = [];
      const r = run(s.m, unmapPages(s.ctx, 'dom', 0x80_4020_0000, 0x20_0000, 1, {
        *flushWalk(iova, size, granule) {
          flushes.push([iova, size, granule]);
          yield { op: 'barrier', kind: 'dsb' }; // stands for the TLBI + CMD_SYNC
        },
      }), log);
      assert.equal(r.unmapped, 0x20_0000);
      // tbl1[1] at 0x4000_2008 points at tbl2.
      assert.deepEqual(steps(log), [
        'store 0x40002008 = 0x0', 'clean 0x40002008+0x8', 'dsb',
        'dsb',
        'free dom.tbl2',
        'store 0x40002008 = 0x0', 'clean 0x40002008+0x8', 'dsb',
      ]);
      assert.deepEqual(flushes, [[0x80_4020_0000, 0x20_0000, 0x1000]]);
      assert.deepEqual(s.ctx.kernel.domains.get('dom')?.tables, ['dom.pgd', 'dom.tbl0', 'dom.tbl1']);
      // A new table after that gets a fresh name: tbl3 at the next free 4KB, 0x4000_4000.
      const again: MicroOp[] = [];
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC), again);
      assert.equal(steps(again)[0], 'alloc dom.tbl3 0x1000');
    });
  });

  describe('freePgtable', () => {
    it('frees children before parents and forgets the domain', () => {
      const s = s1Domain();
      run(s.m, mapPages(s.ctx, 'dom', IOVA, PA, 0x1000, 1, RWC));
      const log: MicroOp[] = [];
      run(s.m, freePgtable(s.ctx, 'dom'), log);
      assert.deepEqual(steps(log), ['free dom.tbl2', 'free dom.tbl1', 'free dom.tbl0', 'free dom.pgd']);
      assert.ok(log.some((o) => o.op === 'note' && /dma_unmap_single/.test(o.text)));
      balanced(log);
      assert.equal(s.ctx.kernel.domains.has('dom'), false);
      assert.equal(s.m.region('dom.pgd'), undefined);
      // The name can be used again.
      run(s.m, allocPgtable(s.ctx, 'dom', S1_4K));
      assert.ok(s.ctx.kernel.domains.has('dom'));
    });
  });

  describe('registerValues', () => {
    it('coherent stage 1: inner-shareable write-back walks, the io-pgtable MAIR', () => {
      const s = s1Domain(true);
      const d = s.ctx.kernel.domains.get('dom')!;
      // MAIR: attr0 0x44 | attr1 0xff << 8 | attr2 0x04 << 16 | attr3 0xf4 << 24 = 0xf404_ff44.
      // TCR: T0SZ 64 - 48 = 16; TG0 4K = 0; IRGN0 = ORGN0 = WBWA (1); SH0 IS (3); IPS 48 bits = 5.
      assert.deepEqual(registerValues(d), {
        tcr: { t0sz: 16, tg0: 0, irgn0: 1, orgn0: 1, sh0: 3, ips: 5 }, ttbr: 0x4000_0000, mair: 0xf404_ff44n,
      });
    });

    it('non-coherent stage 1: outer-shareable non-cacheable, outer WBWA with the quirk', () => {
      const s = s1Domain();
      assert.deepEqual(registerValues(s.ctx.kernel.domains.get('dom')!).tcr, { t0sz: 16, tg0: 0, irgn0: 0, orgn0: 0, sh0: 2, ips: 5 });
      const q = setup(false);
      // 16K, ias 36: va_bits 22, bpl 11 → 2 levels, start 2. TG0 16K = 2, T0SZ 28, IPS 40 bits = 2.
      const d = run(q.m, allocPgtable(q.ctx, 'o', { stage: 1, granule: 16, ias: 36, oas: 40, coherentWalk: false, quirks: { outerWbwa: true } }));
      assert.equal(d.startLevel, 2);
      assert.deepEqual(registerValues(d).tcr, { t0sz: 28, tg0: 2, irgn0: 0, orgn0: 1, sh0: 2, ips: 2 });
    });

    it('coherent stage 2 with 16K and 64K granules', () => {
      const s = setup(true);
      // 16K, ias 48, oas 48: concatenated, start 1 → SL0 = ~1 & 3 = 2; TG 16K = 2; PS 48 = 5; T0SZ 16.
      const d16 = run(s.m, allocPgtable(s.ctx, 'a', { stage: 2, granule: 16, ias: 48, oas: 48, coherentWalk: true }));
      assert.deepEqual(registerValues(d16), { vtcr: { tsz: 16, sl0: 2, irgn: 1, orgn: 1, sh: 3, tg: 2, ps: 5 }, vttbr: d16.pgd });
      // 64K, ias 42: va_bits 26 → 2 levels, start 2 → SL0 = ~2 & 3 = 1; TG 64K = 1; PS 44 = 4; T0SZ 22.
      const d64 = run(s.m, allocPgtable(s.ctx, 'b', { stage: 2, granule: 64, ias: 42, oas: 44, coherentWalk: true }));
      assert.equal(d64.startLevel, 2);
      assert.deepEqual(registerValues(d64), { vtcr: { tsz: 22, sl0: 1, irgn: 1, orgn: 1, sh: 3, tg: 1, ps: 4 }, vttbr: d64.pgd });
    });
  });
});
