/**
 * Reachability: which tables the SMMU can read, found from its registers through valid
 * pointers, with the path that reaches each. The configuration is built by hand with the
 * rig of the model tests; every STE, CD and descriptor is encoded by hand from the field
 * positions in the SMMUv3 reference facts (§2 STE, §3 CD, §8 descriptors).
 */
import { strict as assert } from 'node:assert';
import { contextsOf, Reachability, ReachableTable } from '../../src/check/reach';
import { CMDQ, EVTQ, Rig, RigOptions, STRTAB, STRTAB_L2, TABLES } from '../model/helpers';

const hex = (n: number): string => '0x' + n.toString(16);

// ---- The hand-built configuration (linear stream table of 256 STEs at STRTAB) --------------

/** StreamID 1, stage 1: a one-CD table whose CD walks a 4-level 4K table for a 48-bit VA. */
const CDT = TABLES;
const S1_L0 = TABLES + 0x1000;
const S1_L1 = TABLES + 0x2000;
const S1_L2 = TABLES + 0x3000;
const S1_L3 = TABLES + 0x4000;
/** StreamID 2, stage 2: 40-bit IPA, 4K, starting at level 1 with two concatenated tables (8K). */
const S2_L1 = TABLES + 0x10000;
const S2_L2 = TABLES + 0x12000;
const S2_L3 = TABLES + 0x13000;
/** StreamID 0x105 (2-level stream table): a 2-level CD table (S1Fmt=2: 64K leaves of 1024 CDs). */
const L1CDT = TABLES + 0x20000;
const CD_LEAF = TABLES + 0x30000;

const b = (n: number): bigint => BigInt(n);

/** STE qword 0: V=1 [0], Config [3:1], S1Fmt [5:4], S1ContextPtr [51:6], S1CDMax [63:59]. */
const steW0 = (config: number, ctx = 0, fmt = 0, cdMax = 0): bigint => 1n | (b(config) << 1n) | (b(fmt) << 4n) | b(ctx) | (b(cdMax) << 59n);
/** STE qword 2: S2VMID [15:0], S2T0SZ [37:32], S2SL0 [39:38], S2TG [47:46] (4K = 0), S2AA64 [51]. */
const steW2 = (vmid: number, t0sz: number, sl0: number): bigint => b(vmid) | (b(t0sz) << 32n) | (b(sl0) << 38n) | (1n << 51n);
/** CD qword 0: T0SZ [5:0], TG0 [7:6] = 4K (0), EPD1 [30], V [31], AA64 [41], ASID [63:48]. */
const cdW0 = (t0sz: number, asid: number): bigint => b(t0sz) | (1n << 30n) | (1n << 31n) | (1n << 41n) | (b(asid) << 48n);
/** A table descriptor (levels 0-2): next-level address | 0b11. */
const table = (addr: number): bigint => b(addr) | 3n;

/** Stage-1 StreamID 1 and stage-2 StreamID 2, in a rig with a linear stream table. */
function linearRig(opts: RigOptions = {}): Rig {
  const r = new Rig({ strtab: 'linear', ...opts });
  // StreamID 1: S1_TRANS (0b101), linear CD table of one CD; qword 2 S2VMID = 0.
  r.ste(1, steW0(0b101, CDT), 0n, 0n, 0n);
  // CD 0: 48-bit VA (T0SZ 16), TTB1 walks disabled, ASID 7; qword 1 TTB0.
  r.words(CDT, cdW0(16, 7), b(S1_L0));
  r.words(S1_L0, table(S1_L1));
  r.words(S1_L1, table(S1_L2));
  // Level 2: entry 0 a 2M block (type 0b01, not followed), entry 1 a table (input 0x20_0000).
  r.words(S1_L2, 0x8_0000_0000n | 1n, table(S1_L3));
  r.words(S1_L3, 0x8_0020_0000n | 3n); // a page: not followed
  // StreamID 2: S2_TRANS (0b110), VMID 3, 40-bit IPA (S2T0SZ 24), SL0 1 = start at level 1 (4K).
  r.ste(2, steW0(0b110), 0n, steW2(3, 24, 1), b(S2_L1));
  // Level 1 (1024 entries over two tables): entry 513 = IPA 513 << 30 in the second table.
  r.words(S2_L1 + 513 * 8, table(S2_L2));
  r.words(S2_L2, table(S2_L3));
  return r;
}

/** The tables as comparable rows. */
function rows(ts: readonly ReachableTable[]): string[] {
  return ts.map((t) => [t.kind, hex(t.base), `${t.entries}x${t.entrySize}`, t.stage ?? '', t.level ?? '',
    t.inputBase !== undefined ? hex(t.inputBase) : '', t.asid ?? '', t.vmid ?? '', t.path].join(' | '));
}

describe('check/reach', () => {
  it('finds every table of a linear stream table, a stage-1 and a stage-2 stream, and the queues', () => {
    const r = linearRig();
    r.enable();
    const reach = Reachability.of(r.m);
    const s1 = `STE 0x1 → CD 0 → TTB0 → level 0 table at ${hex(S1_L0)}`;
    const s2 = `STE 0x2 → S2TTB → level 1 table at ${hex(S2_L1)}`;
    assert.deepEqual(rows(reach.all), [
      // Sorted by base address.
      `ste | ${hex(STRTAB)} | 256x64 |  |  |  |  |  | STRTAB_BASE (linear)`,
      `cd | ${hex(CDT)} | 1x64 |  |  |  |  |  | STE 0x1 → S1ContextPtr`,
      // Level 0 of a 48-bit VA: 48 - 39 = 9 index bits; the table descriptors are followed down.
      `pgtable | ${hex(S1_L0)} | 512x8 | 1 | 0 | 0x0 | 7 | 0 | ${s1}`,
      `pgtable | ${hex(S1_L1)} | 512x8 | 1 | 1 | 0x0 | 7 | 0 | ${s1}[0] → level 1 table at ${hex(S1_L1)}`,
      `pgtable | ${hex(S1_L2)} | 512x8 | 1 | 2 | 0x0 | 7 | 0 | ${s1}[0] → level 1 table at ${hex(S1_L1)}[0] → level 2 table at ${hex(S1_L2)}`,
      `pgtable | ${hex(S1_L3)} | 512x8 | 1 | 3 | 0x200000 | 7 | 0 | ${s1}[0] → level 1 table at ${hex(S1_L1)}[0] → level 2 table at ${hex(S1_L2)}[1] → level 3 table at ${hex(S1_L3)}`,
      // Stage 2 starting at level 1 of a 40-bit IPA: 40 - 30 = 10 index bits, two concatenated tables.
      `pgtable | ${hex(S2_L1)} | 1024x8 | 2 | 1 | 0x0 |  | 3 | ${s2}`,
      `pgtable | ${hex(S2_L2)} | 512x8 | 2 | 2 | 0x8040000000 |  | 3 | ${s2}[513] → level 2 table at ${hex(S2_L2)}`,
      `pgtable | ${hex(S2_L3)} | 512x8 | 2 | 3 | 0x8040000000 |  | 3 | ${s2}[513] → level 2 table at ${hex(S2_L2)}[0] → level 3 table at ${hex(S2_L3)}`,
      `cmdq | ${hex(CMDQ)} | 256x16 |  |  |  |  |  | CMDQ_BASE`,
      `evtq | ${hex(EVTQ)} | 128x32 |  |  |  |  |  | EVENTQ_BASE`,
    ]);
    assert.equal(reach.truncated, false);
  });

  it('a page table reached under two ASIDs carries both contexts, and its tables below are walked in each', () => {
    const r = linearRig();
    // StreamID 3: a CD table of one CD with ASID 9 and the same TTB0 as StreamID 1's CD (ASID 7).
    const CDT3 = TABLES + 0x40;
    r.ste(3, steW0(0b101, CDT3), 0n, 0n, 0n);
    r.words(CDT3, cdW0(16, 9), b(S1_L0));
    // StreamID 4: ASID 7 again, through a CD of its own: the same context as StreamID 1's, no alias.
    const CDT4 = TABLES + 0x80;
    r.ste(4, steW0(0b101, CDT4), 0n, 0n, 0n);
    r.words(CDT4, cdW0(16, 7), b(S1_L0));
    r.enable();
    const reach = Reachability.of(r.m);
    const contexts = (base: number): string[] => contextsOf(reach.all.find((t) => t.kind === 'pgtable' && t.base === base)!)
      .map((c) => `ASID ${c.asid} VMID ${c.vmid} from ${hex(c.inputBase ?? -1)} via ${c.path.split(' → ')[0]}`);
    for (const [base, input] of [[S1_L0, 0], [S1_L1, 0], [S1_L2, 0], [S1_L3, 0x20_0000]]) {
      assert.deepEqual(contexts(base), [`ASID 7 VMID 0 from ${hex(input)} via STE 0x1`, `ASID 9 VMID 0 from ${hex(input)} via STE 0x3`]);
    }
    // Each table is listed once.
    assert.equal(reach.all.filter((t) => t.base === S1_L3).length, 1);
  });

  it('locates entries: the entry an address falls in, and the tables a range overlaps', () => {
    const r = linearRig();
    r.enable();
    const reach = Reachability.of(r.m);
    const pte = reach.find(S1_L3 + 8 * 5 + 4);
    assert.deepEqual(pte.map((l) => [l.table.base, l.table.level, l.index, l.entry]), [[S1_L3, 3, 5, S1_L3 + 40]]);
    // 64 bytes from the middle of STE 1: STE 1 and STE 2.
    assert.deepEqual(reach.find(STRTAB + 64 + 8, 64).map((l) => [l.table.kind, l.index]), [['ste', 1], ['ste', 2]]);
    // A command queue slot.
    assert.deepEqual(reach.find(CMDQ + 16 * 3 + 8).map((l) => [l.table.kind, l.index]), [['cmdq', 3]]);
    // Memory no table covers.
    assert.deepEqual(reach.find(TABLES + 0x8000, 8), []);
    assert.deepEqual(reach.overlapping(S1_L2 + 0x800, 0x1000).map((t) => hex(t.base)), [hex(S1_L2), hex(S1_L3)]);
    assert.deepEqual(reach.overlapping(TABLES + 0x8000, 0x1000), []);
  });

  it('a disabled SMMU reaches no stream table, only its enabled queues', () => {
    const r = linearRig();
    r.enable(0xcn); // CMDQEN | EVENTQEN, SMMUEN=0
    assert.deepEqual(Reachability.of(r.m).all.map((t) => t.kind), ['cmdq', 'evtq']);
  });

  it('an invalid STE, a V=0 CD and EPD0 end the walk there', () => {
    const r = linearRig();
    r.ste(3, steW0(0b101, CDT) & ~1n, 0n); // V=0
    r.enable();
    let kinds = Reachability.of(r.m).all.filter((t) => t.path.startsWith('STE 0x3'));
    assert.deepEqual(kinds, [], 'an STE with V=0 is not followed');
    // CD with V=0: the CD table is reachable, its page tables are not.
    r.words(CDT, cdW0(16, 7) & ~(1n << 31n));
    kinds = Reachability.of(r.m).all.filter((t) => t.path.startsWith('STE 0x1'));
    assert.deepEqual(kinds.map((t) => t.kind), ['cd']);
    // V=1 with EPD0=1 (bit 14): the TTB0 walk is disabled too.
    r.words(CDT, cdW0(16, 7) | (1n << 14n));
    assert.deepEqual(Reachability.of(r.m).all.filter((t) => t.path.startsWith('STE 0x1')).map((t) => t.kind), ['cd']);
  });

  it('a 2-level stream table: the L1 table, and each L2 table its valid descriptors point at', () => {
    const r = new Rig(); // L1STD 1 -> STRTAB_L2, StreamIDs 0x100..0x1ff
    r.enable();
    const tables = Reachability.of(r.m).all.filter((t) => t.kind === 'l1std' || t.kind === 'ste');
    // STRTAB_BASE_CFG: LOG2SIZE 16, SPLIT 8 -> 2^8 L1 descriptors; Span 9 -> 2^8 STEs.
    assert.deepEqual(tables.map((t) => [t.kind, hex(t.base), t.entries, t.entrySize, t.firstSid, t.path]), [
      ['l1std', hex(STRTAB), 256, 8, undefined, 'STRTAB_BASE (2-level)'],
      ['ste', hex(STRTAB_L2), 256, 64, 0x100, 'L1STD 1'],
    ]);
  });

  it('a 2-level CD table: the L1CD table and each leaf a valid L1CD points at', () => {
    const r = new Rig();
    // StreamID 0x105: S1_TRANS, S1Fmt 2 (64K leaves of 1024 CDs), S1CDMax 11 -> 2 L1CDs.
    r.ste(0x105, steW0(0b101, L1CDT, 2, 11), 0n, 0n);
    // L1CD 1: V [0] | L2Ptr [51:12]. L1CD 0 stays invalid.
    r.words(L1CDT + 8, b(CD_LEAF) | 1n);
    r.enable();
    const tables = Reachability.of(r.m).all.filter((t) => t.path.startsWith('STE 0x105'));
    assert.deepEqual(tables.map((t) => [t.kind, hex(t.base), t.entries, t.entrySize, t.sid, t.firstSsid, t.path]), [
      ['l1cd', hex(L1CDT), 2, 8, 0x105, undefined, 'STE 0x105 → S1ContextPtr (2-level)'],
      ['cd', hex(CD_LEAF), 1024, 64, 0x105, 1024, 'STE 0x105 → L1CD 1'],
    ]);
  });

  it('a nested STE: stage-2 tables are followed, the CD pointer (an IPA) is not', () => {
    const r = linearRig();
    // StreamID 4: NESTED (0b111), VMID 5, its own stage-2 table; S1ContextPtr = an IPA whose
    // number is also a PA holding a valid CD — which must not be taken for the CD table.
    const N_L1 = TABLES + 0x14000;
    const N_L2 = TABLES + 0x16000;
    const IPA_CD = CDT + 0x40;
    r.words(IPA_CD, cdW0(16, 9), b(S1_L0));
    r.ste(4, steW0(0b111, IPA_CD), 0n, steW2(5, 24, 1), b(N_L1));
    r.words(N_L1, table(N_L2));
    r.enable();
    const all = Reachability.of(r.m).all;
    const tables = all.filter((t) => t.path.startsWith('STE 0x4'));
    assert.deepEqual(tables.map((t) => [t.kind, hex(t.base), t.stage, t.level, t.vmid]), [
      ['pgtable', hex(N_L1), 2, 1, 5],
      ['pgtable', hex(N_L2), 2, 2, 5],
    ]);
    assert.equal(all.some((t) => t.base === IPA_CD), false);
  });

  it('a table reached by two streams is listed once, with the first path found', () => {
    const r = linearRig();
    // StreamID 6: the same stage-2 configuration as StreamID 2.
    r.ste(6, steW0(0b110), 0n, steW2(3, 24, 1), b(S2_L1));
    r.enable();
    const s2 = Reachability.of(r.m).all.filter((t) => t.stage === 2);
    assert.deepEqual(s2.map((t) => t.path.slice(0, 7)), ['STE 0x2', 'STE 0x2', 'STE 0x2']);
  });

  it('through either view: a pointer the CPU wrote but a non-coherent SMMU cannot see yet', () => {
    const r = linearRig({ tablesAttr: 'cacheable' });
    // Everything so far reaches PoC: clean the tables and complete the clean.
    r.m.cmo('clean', TABLES, 0x20000);
    r.m.barrier('dsb');
    r.enable();
    // A new level-3 table for input 0x40_0000 (level-2 entry 2), not cleaned: only in the CPU's cache.
    const NEW_L3 = TABLES + 0x5000;
    r.m.store(S1_L2 + 16, 8, table(NEW_L3));
    const has = (views: ('cpu' | 'smmu')[]): boolean => Reachability.of(r.m, views).all.some((t) => t.base === NEW_L3);
    assert.equal(has(['smmu']), false, 'the SMMU reads PoC: the descriptor is still 0 there');
    assert.equal(has(['cpu']), true);
    assert.equal(has(['cpu', 'smmu']), true, 'the default is the union: either may be what a fetch sees');
    const t = Reachability.of(r.m).all.find((x) => x.base === NEW_L3)!;
    assert.deepEqual([t.level, hex(t.inputBase!)], [3, '0x400000']);
    // And a pointer the SMMU still sees but the CPU has removed stays reachable too.
    r.m.cmo('clean', S1_L2, 64);
    r.m.barrier('dsb');
    r.m.store(S1_L2 + 16, 8, 0n);
    assert.equal(has(['cpu']), false);
    assert.equal(has(['smmu']), true);
    assert.equal(has(['cpu', 'smmu']), true);
  });
});
