import { strict as assert } from 'node:assert';
import {
  ALL_PERMISSIONS, inputAddress, permissionFault, Stage1Regime, translate, walkStage1, walkStage2,
} from '../../../src/model/smmu/walk';
import {
  Access, DescriptorReader, S1Range, Stage2Config, Translation, WalkFault, WalkResult, WalkStep, WalkStepDetail,
} from '../../../src/model/smmu/types';

// ---------------------------------------------------------------------------------------
// A fake memory: descriptors by address; every read is logged.

class Mem implements DescriptorReader {
  readonly words = new Map<number, bigint>();
  readonly reads: number[] = [];
  constructor(entries: [number, bigint][] = []) {
    for (const [a, v] of entries) this.words.set(a, v);
  }
  set(addr: number, v: bigint): this {
    this.words.set(addr, v);
    return this;
  }
  with(addr: number, v: bigint): Mem {
    return new Mem([...this.words]).set(addr, v);
  }
  read(addr: number, out: Uint32Array): void {
    this.reads.push(addr);
    const v = this.words.get(addr) ?? 0n;
    out[0] = Number(v & 0xffff_ffffn);
    out[1] = Number(v >> 32n);
  }
}

// Descriptor bits (VMSAv8-64): AttrIndx [4:2], AP [7:6], SH [9:8], AF 10, nG 11, DBM 51,
// PXN 53, UXN 54; table PXNTable 59, UXNTable 60, APTable [62:61]; stage 2 MemAttr [5:2],
// S2AP [7:6], XN [54:53].
const AF = 0x400n;
const NG = 0x800n;
const SH_IS = 0x300n;
const ATTR1 = 0x4n; // AttrIndx 1
const AP_RW_PRIV = 0x00n;
const AP_RW = 0x40n;
const AP_RO_PRIV = 0x80n;
const AP_RO = 0xc0n;
const DBM = 1n << 51n;
const PXN = 1n << 53n;
const UXN = 1n << 54n;
const PXN_TABLE = 1n << 59n;
const UXN_TABLE = 1n << 60n;
const AP_TABLE_NO_EL0 = 1n << 61n;
const AP_TABLE_RO = 1n << 62n;
/** io-pgtable's usual stage-1 leaf: AF | nG | IS | AP=RW | AttrIndx 1 = 0x400|0x800|0x300|0x40|0x4 = 0xf44. */
const S1 = AF | NG | SH_IS | AP_RW | ATTR1;
/** Stage-2 leaf: MemAttr 0xf (0x3c) | S2AP RW (0xc0) | IS (0x300) | AF (0x400) = 0x7fc. */
const S2 = 0x3cn | 0xc0n | SH_IS | AF;

const tbl = (a: number, extra = 0n): bigint => BigInt(a) | 3n | extra;
const page = (a: number, attrs = S1): bigint => BigInt(a) | 3n | attrs;
const block = (a: number, attrs = S1): bigint => BigInt(a) | 1n | attrs;

function range(granule: 4 | 16 | 64, inputBits: number, startLevel: 0 | 1 | 2 | 3, ttb: number, more: Partial<S1Range> = {}): S1Range {
  return { granule, inputBits, startLevel, ttb, ds: false, pa52: false, had: false, ...more };
}

function s1cfg(more: Partial<Stage1Regime> = {}): Stage1Regime {
  return {
    asid: 3, vmid: 0, el2: false, ttb0: range(4, 48, 0, 0x4000_0000), ttb1: undefined, oasBits: 48,
    tbi0: false, tbi1: false, affd: false, ha: false, hd: false, wxn: false, uwxn: false, pan: false,
    record: true, stall: false, mair: 0n, ...more,
  };
}

function s2cfg(more: Partial<Stage2Config> = {}): Stage2Config {
  return {
    vmid: 7, granule: 4, inputBits: 39, startLevel: 1, concat: 1, ttb: 0x1000_0000, oasBits: 48, ds: false, pa52: false,
    affd: false, ha: false, hd: false, ptw: false, fwb: false, record: true, stall: false, ...more,
  };
}

function ok(r: Translation | WalkFault): WalkResult {
  if ('type' in r) assert.fail(`expected a translation, got ${r.type}: ${r.reason}`);
  return r as WalkResult;
}

function bad(r: Translation | WalkFault): WalkFault {
  if (!('type' in r)) assert.fail(`expected a fault, got pa ${r.pa.toString(16)}`);
  return r;
}

function fault(r: Translation | WalkFault): [string, number, number, string] {
  const f = bad(r);
  return [f.type, f.stage, f.level, f.cls];
}

const where = (steps: WalkStep[]): [number, number, number, string][] => steps.map((s) => [s.stage, s.level, s.descAddr, s.type]);

// ---------------------------------------------------------------------------------------
// Scenario A: 4K granule, 48-bit VA, walk from level 0 at 0x4000_0000.
// VA 0x80_8060_4abc = 1<<39 | 2<<30 | 3<<21 | 4<<12 | 0xabc: indices L0 1, L1 2, L2 3, L3 4.
//   L0 0x4000_0000 + 1*8 = 0x4000_0008 -> table 0x4000_1000
//   L1 0x4000_1000 + 2*8 = 0x4000_1010 -> table 0x4000_2000
//   L2 0x4000_2000 + 3*8 = 0x4000_2018 -> table 0x4000_3000
//   L3 0x4000_3000 + 4*8 = 0x4000_3020 -> page 0x8765_4000; PA 0x8765_4000 + 0xabc.
const VA_A = 0x80_8060_4abcn;
const memA = (): Mem => new Mem([
  [0x4000_0008, tbl(0x4000_1000)],
  [0x4000_1010, tbl(0x4000_2000)],
  [0x4000_2018, tbl(0x4000_3000)],
  [0x4000_3020, page(0x8765_4000)],
]);

describe('model/smmu/walk', () => {
  describe('stage 1, 4K granule, 48-bit VA (4 levels)', () => {
    it('walks levels 0-3 to a page', () => {
      const steps: WalkStep[] = [];
      const r = ok(walkStage1(VA_A, s1cfg(), memA(), undefined, steps));
      assert.equal(r.pa, 0x8765_4abc);
      assert.equal(r.inputBase, 0x80_8060_4000);
      assert.equal(r.outputBase, 0x8765_4000);
      assert.equal(r.size, 0x1000);
      assert.equal(r.level, 3);
      assert.equal(r.stage, 's1');
      assert.equal(r.granule, 4);
      assert.equal(r.attrIndx, 1);
      assert.equal(r.sh, 3);
      assert.equal(r.global, false); // nG=1
      // AP=RW: read/write at both privileges; EL0-writable is never privileged-executable.
      assert.deepEqual({ ...r.perms }, { read: true, write: true, execPriv: false, execUnpriv: true, user: true });
      assert.deepEqual(where(steps), [
        [1, 0, 0x4000_0008, 'table'], [1, 1, 0x4000_1010, 'table'], [1, 2, 0x4000_2018, 'table'], [1, 3, 0x4000_3020, 'page'],
      ]);
      const d = steps[3] as WalkStepDetail;
      assert.equal(d.desc, 0x8765_4f47n); // 0x8765_4000 | 0xf44 | 3
      assert.equal(d.input, 0x80_8060_4abc);
      assert.equal((steps[0] as WalkStepDetail).next, 0x4000_1000);
    });

    it('reads every descriptor through the reader, without steps too', () => {
      const m = memA();
      ok(translate(VA_A, s1cfg(), undefined, m));
      assert.deepEqual(m.reads, [0x4000_0008, 0x4000_1010, 0x4000_2018, 0x4000_3020]);
    });

    it('maps a 2MB block at level 2', () => {
      // Block 0x1_2340_0000 (0x2340_0000 / 2^21 = 0x11a, aligned); VA[20:0] = 0x4abc.
      const r = ok(translate(VA_A, s1cfg(), undefined, memA().with(0x4000_2018, block(0x1_2340_0000))));
      assert.equal(r.pa, 0x1_2340_4abc);
      assert.equal(r.level, 2);
      assert.equal(r.size, 0x20_0000);
      assert.equal(r.inputBase, 0x80_8060_0000); // 0x80_8060_4abc with bits [20:0] clear
      assert.equal(r.outputBase, 0x1_2340_0000);
    });

    it('maps a 1GB block at level 1', () => {
      // Block 0x2_c000_0000 (11 x 1GB); VA[29:0] = 3<<21 | 4<<12 | 0xabc = 0x60_4abc.
      const r = ok(translate(VA_A, s1cfg(), undefined, memA().with(0x4000_1010, block(0x2_c000_0000))));
      assert.equal(r.pa, 0x2_c060_4abc);
      assert.equal(r.level, 1);
      assert.equal(r.size, 0x4000_0000);
      assert.equal(r.inputBase, 0x80_8000_0000);
    });

    it('treats a level-0 block as reserved without DS, and maps 512GB with DS and OA[51:50] in bits [9:8]', () => {
      const m = memA().with(0x4000_0008, block(0x80_0000_0000));
      const f = bad(translate(VA_A, s1cfg(), undefined, m));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 1, 0, 'IN']);
      // 0x80_0000_0000 | 0xf44 | 1 = 0x80_0000_0f45
      assert.equal(f.reason, 'level-0 descriptor at 0x40000008 (0x8000000f45) is a block, which the 4KB granule does not allow at level 0 without DS');
      // DS: OA = 0x4_0180_0000_0000 = 2^50 (bits [9:8] = 0b01 -> 0x100) + 0x180_0000_0000 (3 x 2^39, in place).
      // Descriptor: 0x180_0000_0000 | 0x100 | AF 0x400 | AP=RW 0x40 | block 1 = 0x180_0000_0541 (nG=0: global).
      const ds = memA().with(0x4000_0008, 0x180_0000_0541n);
      const cfg = s1cfg({ ttb0: range(4, 48, 0, 0x4000_0000, { ds: true }), oasBits: 52 });
      const r = ok(translate(VA_A, cfg, undefined, ds));
      // VA[38:0] = 2<<30 | 3<<21 | 4<<12 | 0xabc = 0x8060_4abc
      assert.equal(r.pa, 0x4_0180_8060_4abc);
      assert.equal(r.level, 0);
      assert.equal(r.size, 0x80_0000_0000);
      assert.equal(r.inputBase, 0x80_0000_0000);
      assert.equal(r.global, true);
      assert.equal(r.sh, 0); // with DS, bits [9:8] are address bits
    });

    it('faults on an invalid descriptor and on the reserved level-3 encoding', () => {
      const f = bad(translate(VA_A, s1cfg(), undefined, memA().with(0x4000_2018, 0n)));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 1, 2, 'IN']);
      assert.equal(f.reason, 'level-2 descriptor at 0x40002018 is invalid (0x0)');
      const g = bad(translate(VA_A, s1cfg(), undefined, memA().with(0x4000_3020, block(0x8765_4000))));
      assert.deepEqual(fault(g), ['F_TRANSLATION', 1, 3, 'IN']);
      // 0x8765_4000 | 0xf44 | 1 = 0x8765_4f45
      assert.equal(g.reason, 'level-3 descriptor at 0x40003020 (0x87654f45) has the reserved type 0b01 (a page needs 0b11)');
    });

    it('raises F_ADDR_SIZE for output and table addresses beyond the IPS', () => {
      const cfg = s1cfg({ oasBits: 40 });
      // 2^40 = 0x100_0000_0000 is the first address a 40-bit IPS cannot hold.
      const f = bad(translate(VA_A, cfg, undefined, memA().with(0x4000_3020, page(0x100_0000_0000))));
      assert.deepEqual(fault(f), ['F_ADDR_SIZE', 1, 3, 'IN']);
      assert.equal(f.reason, 'output address 0x10000000000 (level-3 descriptor at 0x40003020) is beyond the 40-bit IPS');
      const g = bad(translate(VA_A, cfg, undefined, memA().with(0x4000_0008, tbl(0x100_0000_1000))));
      assert.deepEqual(fault(g), ['F_ADDR_SIZE', 1, 0, 'IN']);
      assert.equal(g.reason, 'level-0 table descriptor at 0x40000008 points to 0x10000001000, beyond the 40-bit IPS');
      // The same tables are fine with a 48-bit IPS.
      assert.equal(ok(translate(VA_A, s1cfg(), undefined, memA().with(0x4000_3020, page(0x100_0000_0000)))).pa, 0x100_0000_0abc);
    });
  });

  describe('stage 1, other geometries', () => {
    it('4K granule, 39-bit VA: starts at level 1 with a full table', () => {
      // VA 0x41_0020_5678: L1 = VA[38:30] = 0x104 (260), L2 = VA[29:21] = 1, L3 = VA[20:12] = 5, offset 0x678.
      //   L1 0x5000_0000 + 260*8 (0x820) -> 0x5000_1000; L2 +8 -> 0x5000_2000; L3 +5*8 (0x28) -> page 0x9abc_d000.
      const m = new Mem([
        [0x5000_0820, tbl(0x5000_1000)], [0x5000_1008, tbl(0x5000_2000)], [0x5000_2028, page(0x9abc_d000)],
      ]);
      const cfg = s1cfg({ ttb0: range(4, 39, 1, 0x5000_0000) });
      const steps: WalkStep[] = [];
      assert.equal(ok(translate(0x41_0020_5678n, cfg, undefined, m, steps)).pa, 0x9abc_d678);
      assert.deepEqual(steps.map((s) => s.descAddr), [0x5000_0820, 0x5000_1008, 0x5000_2028]);
      // 2^39 is past the TTB0 range: T0SZ = 64 - 39 = 25; reported at the starting level.
      const f = bad(translate(0x80_0000_0000n, cfg, undefined, m));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 1, 1, 'IN']);
      assert.equal(f.reason, 'VA 0x8000000000 is outside the TTB0 range of 39 bits (T0SZ=25): VA[63:39] must be all zeros');
    });

    // 16K, 48-bit: indices at bits 47 (L0, 1 bit: a 2-entry table), 46:36 (L1), 35:25 (L2), 24:14 (L3).
    // VA 0x8030_0a01_d234 = 1<<47 | 3<<36 | 5<<25 | 7<<14 | 0x1234.
    //   L0 0x6000_0000 + 8 -> 0x6000_4000; L1 +3*8 (0x18) -> 0x6000_8000; L2 +5*8 (0x28) -> 0x6000_c000;
    //   L3 +7*8 (0x38) -> page 0xa000_4000; PA 0xa000_4000 + 0x1234 = 0xa000_5234.
    const VA_C = 0x8030_0a01_d234n;
    const memC = (): Mem => new Mem([
      [0x6000_0008, tbl(0x6000_4000)], [0x6000_4018, tbl(0x6000_8000)], [0x6000_8028, tbl(0x6000_c000)],
      [0x6000_c038, page(0xa000_4000)],
    ]);
    const cfgC = (ttb = 0x6000_0000): Stage1Regime => s1cfg({ ttb0: range(16, 48, 0, ttb) });

    it('16K granule: a 2-entry level-0 table, and a 32MB block at level 2', () => {
      const r = ok(translate(VA_C, cfgC(), undefined, memC()));
      assert.equal(r.pa, 0xa000_5234);
      assert.equal(r.size, 0x4000);
      assert.equal(r.inputBase, 0x8030_0a01_c000);
      // The starting table is 2 x 8 = 16 bytes: TTB bit 3 is treated as zero (0x6000_0008 -> 0x6000_0000).
      const m = memC();
      assert.equal(ok(translate(VA_C, cfgC(0x6000_0008), undefined, m)).pa, 0xa000_5234);
      assert.equal(m.reads[0], 0x6000_0008);
      // Block 0x1_0200_0000 (0x81 x 32MB); VA[24:0] = 7<<14 | 0x1234 = 0x1_d234.
      const b = ok(translate(VA_C, cfgC(), undefined, memC().with(0x6000_8028, block(0x1_0200_0000))));
      assert.equal(b.pa, 0x1_0201_d234);
      assert.equal(b.level, 2);
      assert.equal(b.size, 0x200_0000);
    });

    it('16K granule: a level-1 block is reserved without DS', () => {
      const f = bad(translate(VA_C, cfgC(), undefined, memC().with(0x6000_4018, block(0x10_0000_0000))));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 1, 1, 'IN']);
      assert.match(f.reason, /is a block, which the 16KB granule does not allow at level 1 without DS$/);
    });

    // 64K, 48-bit: 3 levels from level 1 (64 entries, bits 47:42), L2 bits 41:29, L3 bits 28:16.
    // VA 0x1424_6045_beef = 5<<42 | 0x123<<29 | 0x45<<16 | 0xbeef.
    //   L1 0x7000_0000 + 5*8 (0x28) -> 0x7001_0000; L2 + 0x123*8 (0x918) -> 0x7002_0000;
    //   L3 + 0x45*8 (0x228) -> page 0xb00a_0000; PA 0xb00a_beef.
    const VA_D = 0x1424_6045_beefn;
    const memD = (): Mem => new Mem([
      [0x7000_0028, tbl(0x7001_0000)], [0x7001_0918, tbl(0x7002_0000)], [0x7002_0228, page(0xb00a_0000)],
    ]);
    const cfgD = (more: Partial<S1Range> = {}, oasBits = 48): Stage1Regime =>
      s1cfg({ ttb0: range(64, 48, 1, 0x7000_0000, more), oasBits });

    it('64K granule, 3 levels: a page and a 512MB block', () => {
      const r = ok(translate(VA_D, cfgD(), undefined, memD()));
      assert.equal(r.pa, 0xb00a_beef);
      assert.equal(r.size, 0x1_0000);
      assert.equal(r.inputBase, 0x1424_6045_0000);
      // Block 0x2_6000_0000 (0x13 x 512MB); VA[28:0] = 0x45<<16 | 0xbeef = 0x45_beef.
      const b = ok(translate(VA_D, cfgD(), undefined, memD().with(0x7001_0918, block(0x2_6000_0000))));
      assert.equal(b.pa, 0x2_6045_beef);
      assert.equal(b.level, 2);
      assert.equal(b.size, 0x2000_0000);
      const f = bad(translate(VA_D, cfgD(), undefined, memD().with(0x7000_0028, block(0x400_0000_0000))));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 1, 1, 'IN']);
      assert.match(f.reason, /64KB granule does not allow at level 1 without a 52-bit OA$/);
    });

    it('64K granule with a 52-bit OA: OA[51:48] and NLTA[51:48] in bits [15:12], and 4TB level-1 blocks', () => {
      // L1 table -> 0x1_0000_7001_0000 (bits [15:12] = 1); its entry 0x123 is at 0x1_0000_7001_0918.
      // Page OA 0xf_0000_b00a_0000 (bits [15:12] = 0xf).
      const m = new Mem([
        [0x7000_0028, tbl(0x7001_0000, 0x1000n)], [0x1_0000_7001_0918, tbl(0x7002_0000)],
        [0x7002_0228, page(0xb00a_0000, S1 | 0xf000n)],
      ]);
      const steps: WalkStep[] = [];
      const r = ok(translate(VA_D, cfgD({ pa52: true }, 52), undefined, m, steps));
      assert.equal(r.pa, 0xf_0000_b00a_beef);
      assert.deepEqual(steps.map((s) => s.descAddr), [0x7000_0028, 0x1_0000_7001_0918, 0x7002_0228]);
      // 4TB block: OA 0x8_0400_0000_0000 = bits [15:12] 8 (0x8000) + 0x400_0000_0000 in place.
      // VA[41:0] = 0x1424_6045_beef - 5 x 2^42 (0x1400_0000_0000) = 0x24_6045_beef.
      const b = ok(translate(VA_D, cfgD({ pa52: true }, 52), undefined, memD().with(0x7000_0028, block(0x400_0000_0000, S1 | 0x8000n))));
      assert.equal(b.pa, 0x8_0424_6045_beef);
      assert.equal(b.level, 1);
      assert.equal(b.size, 0x400_0000_0000);
      assert.equal(b.inputBase, 0x1400_0000_0000);
    });

    it('64K granule with a 52-bit OA form but a 48-bit IPS: F_ADDR_SIZE on output and on a table address', () => {
      const high = memD().with(0x7002_0228, page(0xb00a_0000, S1 | 0x1000n)); // OA 0x1_0000_b00a_0000
      const f = bad(translate(VA_D, cfgD({ pa52: true }, 48), undefined, high));
      assert.deepEqual(fault(f), ['F_ADDR_SIZE', 1, 3, 'IN']);
      assert.equal(f.reason, 'output address 0x10000b00a0000 (level-3 descriptor at 0x70020228) is beyond the 48-bit IPS');
      const tableHigh = memD().with(0x7000_0028, tbl(0x7001_0000, 0x1000n));
      const g = bad(translate(VA_D, cfgD({ pa52: true }, 48), undefined, tableHigh));
      assert.deepEqual(fault(g), ['F_ADDR_SIZE', 1, 1, 'IN']);
      assert.equal(g.reason, 'level-1 table descriptor at 0x70000028 points to 0x1000070010000, beyond the 48-bit IPS');
    });
  });

  describe('stage 1 input: TBI, TTB1, EPD', () => {
    // TTB1: 4K, 39 bits (T1SZ 25), from level 1 at 0x5800_0000.
    // VA 0xffff_ffc0_4020_3456: VA[63:39] all ones; VA[38:0] = 0x40_4020_3456:
    //   L1 = 0x101 (257) -> 0x5800_0000 + 0x808; L2 = 1 -> +8; L3 = 3 -> +0x18; offset 0x456.
    const mem1 = (): Mem => new Mem([
      ...memA().words,
      [0x5800_0808, tbl(0x5800_1000)], [0x5800_1008, tbl(0x5800_2000)], [0x5800_2018, page(0xe000_3000)],
    ]);
    const both = (more: Partial<Stage1Regime> = {}): Stage1Regime => s1cfg({ ttb1: range(4, 39, 1, 0x5800_0000), ...more });

    it('ignores the top byte with TBI0 and faults on it without', () => {
      const r = ok(translate(0xab00_0080_8060_4abcn, s1cfg({ tbi0: true }), undefined, memA()));
      assert.equal(r.pa, 0x8765_4abc);
      assert.equal(r.inputBase, 0x80_8060_4000);
      const f = bad(translate(0xab00_0080_8060_4abcn, s1cfg(), undefined, memA()));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 1, 0, 'IN']);
      assert.equal(f.reason, 'VA 0xab00008080604abc is outside the TTB0 range of 48 bits (T0SZ=16): VA[63:48] must be all zeros');
    });

    it('selects TTB1 by VA[55] and gives TTB1 inputs as negative numbers', () => {
      const steps: WalkStep[] = [];
      const r = ok(translate(0xffff_ffc0_4020_3456n, both(), undefined, mem1(), steps));
      assert.equal(r.pa, 0xe000_3456);
      // signed VA = 0x40_4020_3456 - 2^39 = -0x3f_bfdf_cbaa; its page: -0x3f_bfdf_d000.
      assert.equal(inputAddress(0xffff_ffc0_4020_3456n, both()), -0x3f_bfdf_cbaa);
      assert.equal(r.inputBase, -0x3f_bfdf_d000);
      assert.deepEqual(steps.map((s) => s.descAddr), [0x5800_0808, 0x5800_1008, 0x5800_2018]);
      // TBI1 ignores the top byte 0x5a; without it the address is not a sign extension.
      assert.equal(ok(translate(0x5aff_ffc0_4020_3456n, both({ tbi1: true }), undefined, mem1())).pa, 0xe000_3456);
      const f = bad(translate(0x5aff_ffc0_4020_3456n, both(), undefined, mem1()));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 1, 1, 'IN']);
      assert.equal(f.reason, 'VA 0x5affffc040203456 is outside the TTB1 range of 39 bits (T1SZ=25): VA[63:39] must be all ones');
      // Between the ranges: 0xffff_ff00_0000_0000 has VA[39] = 0.
      assert.deepEqual(fault(translate(0xffff_ff00_0000_0000n, both(), undefined, mem1())), ['F_TRANSLATION', 1, 1, 'IN']);
    });

    it('faults in a half whose walks are disabled (EPD0 / EPD1), at level 0', () => {
      const f = bad(translate(0xffff_ffc0_4020_3456n, s1cfg(), undefined, mem1()));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 1, 0, 'IN']);
      assert.equal(f.reason, 'VA 0xffffffc040203456 selects TTB1 (VA[55]=1), whose walks are disabled (EPD1=1)');
      const g = bad(translate(0x1000n, both({ ttb0: undefined }), undefined, mem1()));
      assert.equal(g.reason, 'VA 0x1000 selects TTB0 (VA[55]=0), whose walks are disabled (EPD0=1)');
      assert.equal(ok(translate(0xffff_ffc0_4020_3456n, both({ ttb0: undefined }), undefined, mem1())).pa, 0xe000_3456);
    });

    it('an EL2 stream has only TTB0', () => {
      const f = bad(translate(0xffff_ffc0_4020_3456n, both({ el2: true }), undefined, mem1()));
      assert.equal(f.reason, 'VA 0xffffffc040203456 has VA[55]=1: an EL2 stream has only the TTB0 range');
    });
  });

  describe('stage 2', () => {
    // 4K, 40-bit IPA from level 1: 40 - 30 = 10 index bits = 2 concatenated 4K tables (8KB aligned).
    // IPA 0x80_4020_3456: L1 = IPA[39:30] = 0x201 (513) -> 0x9000_0000 + 0x1008 (second table, entry 1);
    //   L2 = (0x4020_3456 - 2^30) >> 21 = 1 -> 0x9000_2008; L3 = 3 -> 0x9000_3018 -> page 0xc000_5000.
    const memS = (): Mem => new Mem([
      [0x9000_1008, tbl(0x9000_2000)], [0x9000_2008, tbl(0x9000_3000)], [0x9000_3018, page(0xc000_5000, S2)],
    ]);
    const cfgS = (more: Partial<Stage2Config> = {}): Stage2Config =>
      s2cfg({ granule: 4, inputBits: 40, startLevel: 1, concat: 2, ttb: 0x9000_0000, ...more });

    it('walks 2 concatenated starting tables', () => {
      const steps: WalkStep[] = [];
      const r = ok(walkStage2(0x80_4020_3456, cfgS(), memS(), steps));
      assert.equal(r.pa, 0xc000_5456);
      assert.equal(r.stage, 's2');
      assert.equal(r.inputBase, 0x80_4020_3000);
      assert.equal(r.memAttr, 0xf);
      assert.equal(r.attrIndx, undefined);
      assert.equal(r.sh, 3);
      assert.equal(r.global, true);
      assert.equal(r.perms, ALL_PERMISSIONS); // S2AP RW, XN 0b00
      assert.deepEqual(where(steps), [[2, 1, 0x9000_1008, 'table'], [2, 2, 0x9000_2008, 'table'], [2, 3, 0x9000_3018, 'page']]);
      // The pair of tables is 8KB aligned: TTB bit 12 is treated as zero.
      assert.equal(ok(walkStage2(0x80_4020_3456, cfgS({ ttb: 0x9000_1000 }), memS())).pa, 0xc000_5456);
      // Stage-2-only streams: the input is the IPA.
      assert.equal(ok(translate(0x80_4020_3456n, undefined, cfgS(), memS())).pa, 0xc000_5456);
    });

    it('walks 16 concatenated 16K tables', () => {
      // 16K, 40-bit IPA from level 2: 40 - 25 = 15 index bits = 16 x 2048 entries (256KB aligned).
      // IPA 0xff_fc00_e345 = 0x7ffe<<25 | 3<<14 | 0x2345: L2 entry 0x7ffe at 0x8004_0000 + 0x3_fff0 = 0x8007_fff0;
      // L3 entry 3 at 0x8010_0018 -> page 0xd000_8000; PA 0xd000_a345.
      const m = new Mem([[0x8007_fff0, tbl(0x8010_0000)], [0x8010_0018, page(0xd000_8000, S2)]]);
      const cfg = s2cfg({ granule: 16, inputBits: 40, startLevel: 2, concat: 16, ttb: 0x8004_0000 });
      const r = ok(walkStage2(0xff_fc00_e345, cfg, m));
      assert.equal(r.pa, 0xd000_a345);
      assert.equal(r.size, 0x4000);
      assert.deepEqual(m.reads, [0x8007_fff0, 0x8010_0018]);
    });

    it('input range: stage 2 F_TRANSLATION beyond S2T0SZ, stage 1 F_ADDR_SIZE beyond the IAS', () => {
      const f = bad(translate(0x100_0000_0000n, undefined, cfgS(), memS(), undefined, undefined, false, 44));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 2, 1, 'IN']);
      assert.equal(f.ipa, 0x100_0000_0000);
      assert.equal(f.reason, 'IPA 0x10000000000 is beyond the 40-bit stage-2 input range (S2T0SZ=24)');
      const g = bad(translate(0x1000_0000_0000n, undefined, cfgS(), memS(), undefined, undefined, false, 44));
      assert.deepEqual(fault(g), ['F_ADDR_SIZE', 1, 0, 'IN']);
      assert.equal(g.reason, 'input address 0x100000000000 is beyond the 44-bit IAS (stage 1 bypassed: the input is the IPA)');
    });

    it('faults: invalid, output size, access flag, S2AP and XN (FEAT_XNX)', () => {
      const inv = bad(walkStage2(0x80_4020_3456, cfgS(), memS().with(0x9000_2008, 0n)));
      assert.deepEqual(fault(inv), ['F_TRANSLATION', 2, 2, 'IN']);
      assert.equal(inv.reason, 'stage-2 level-2 descriptor at 0x90002008 is invalid (0x0)');
      // A 32-bit S2PS: the tables (0x9000_x000) fit, a page at 0x1_c000_5000 or a table at 0x1_9000_3000 does not.
      const size = bad(walkStage2(0x80_4020_3456, cfgS({ oasBits: 32 }), memS().with(0x9000_3018, page(0x1_c000_5000, S2))));
      assert.deepEqual(fault(size), ['F_ADDR_SIZE', 2, 3, 'IN']);
      assert.equal(size.reason, 'output address 0x1c0005000 (stage-2 level-3 descriptor at 0x90003018) is beyond the 32-bit S2PS');
      const tsize = bad(walkStage2(0x80_4020_3456, cfgS({ oasBits: 32 }), memS().with(0x9000_2008, tbl(0x1_9000_3000))));
      assert.deepEqual(fault(tsize), ['F_ADDR_SIZE', 2, 2, 'IN']);
      assert.equal(tsize.reason, 'stage-2 level-2 table descriptor at 0x90002008 points to 0x190003000, beyond the 32-bit S2PS');
      assert.equal(ok(walkStage2(0x80_4020_3456, cfgS({ oasBits: 32 }), memS())).pa, 0xc000_5456);
      const noAf = memS().with(0x9000_3018, page(0xc000_5000, S2 & ~AF));
      const af = bad(walkStage2(0x80_4020_3456, cfgS(), noAf));
      assert.deepEqual(fault(af), ['F_ACCESS', 2, 3, 'IN']);
      // 0xc000_5000 | 0x3fc | 3 = 0xc000_53ff
      assert.equal(af.reason, 'access flag is 0 in the stage-2 level-3 descriptor at 0x90003018 (0xc00053ff), with S2AFFD=0 and S2HA=0');
      assert.equal(ok(walkStage2(0x80_4020_3456, cfgS({ affd: true }), noAf)).pa, 0xc000_5456);
      assert.equal(ok(walkStage2(0x80_4020_3456, cfgS({ ha: true }), noAf)).pa, 0xc000_5456);

      const none = memS().with(0x9000_3018, page(0xc000_5000, S2 & ~0xc0n)); // S2AP 0b00
      const n = bad(walkStage2(0x80_4020_3456, cfgS(), none, undefined, false, 'read'));
      assert.deepEqual(fault(n), ['F_PERMISSION', 2, 3, 'IN']);
      assert.equal(n.reason, 'read from a page without stage-2 read permission (S2AP=NONE)');
      const ro = memS().with(0x9000_3018, page(0xc000_5000, S2 & ~0x80n)); // S2AP 0b01
      assert.equal(bad(walkStage2(0x80_4020_3456, cfgS(), ro, undefined, false, 'write')).reason,
        'write to a page without stage-2 write permission (S2AP=RO)');
      // S2HD with DBM: a write to S2AP=RO succeeds (the SMMU would set S2AP[1]).
      const clean = memS().with(0x9000_3018, page(0xc000_5000, (S2 & ~0x80n) | DBM));
      assert.equal(ok(walkStage2(0x80_4020_3456, cfgS({ ha: true, hd: true }), clean, undefined, false, 'write')).perms.write, true);

      const xn = (bits: bigint): Mem => memS().with(0x9000_3018, page(0xc000_5000, S2 | (bits << 53n)));
      const exec = (m: Mem, priv: boolean) => walkStage2(0x80_4020_3456, cfgS(), m, undefined, false, 'exec', priv);
      // XN 0b01: no privileged fetch; 0b10: none; 0b11: no unprivileged fetch.
      assert.equal(bad(exec(xn(1n), true)).reason, 'privileged instruction fetch from a stage-2 execute-never page (XN=0b01)');
      ok(exec(xn(1n), false));
      assert.deepEqual(fault(exec(xn(2n), true)), ['F_PERMISSION', 2, 3, 'IN']);
      assert.deepEqual(fault(exec(xn(2n), false)), ['F_PERMISSION', 2, 3, 'IN']);
      ok(exec(xn(3n), true));
      assert.equal(bad(exec(xn(3n), false)).reason, 'unprivileged instruction fetch from a stage-2 execute-never page (XN=0b11)');
    });
  });

  describe('nested', () => {
    // Stage 2 (VMID 7): 4K, 39-bit IPA from level 1 at 0x1000_0000.
    //   L1 entry 1 (IPA 1GB..2GB) at 0x1000_0008 -> table 0x1000_1000
    //   L2 entry 0 (IPA 0x4000_0000, 2MB) at 0x1000_1000 -> block PA 0x2000_0000 (holds the stage-1 tables)
    //   L2 entry 3 (IPA 0x4060_0000) at 0x1000_1018 -> table 0x1000_2000; L3 entry 5 at 0x1000_2028 -> page 0x3000_7000
    // Stage 1: 4K, 48-bit, tables at IPA 0x4000_0000.. (PA 0x2000_0000..); VA 0x80_8060_5abc (L0 1, L1 2, L2 3):
    //   L0 IPA 0x4000_0008 (PA 0x2000_0008) -> IPA 0x4000_1000; L1 IPA 0x4000_1010 -> 0x4000_2000;
    //   L2 IPA 0x4000_2018 -> 2MB block at IPA 0x4060_0000. IPA = 0x4060_0000 + VA[20:0] (0x5abc) = 0x4060_5abc.
    //   Stage 2 of 0x4060_5abc: L2 index 0x60_5abc >> 21 = 3, L3 index 5 -> PA 0x3000_7abc.
    const VA_N = 0x80_8060_5abcn;
    const memN = (): Mem => new Mem([
      [0x1000_0008, tbl(0x1000_1000)],
      [0x1000_1000, block(0x2000_0000, S2)],
      [0x1000_1018, tbl(0x1000_2000)],
      [0x1000_2028, page(0x3000_7000, S2)],
      [0x2000_0008, tbl(0x4000_1000)],
      [0x2000_1010, tbl(0x4000_2000)],
      [0x2000_2018, block(0x4060_0000)],
    ]);
    const s1n = (): Stage1Regime => s1cfg({ vmid: 7 });

    it('translates every stage-1 table address and the output through stage 2', () => {
      const steps: WalkStep[] = [];
      const r = ok(translate(VA_N, s1n(), s2cfg(), memN(), steps));
      assert.equal(r.stage, 'nested');
      assert.equal(r.pa, 0x3000_7abc);
      // Stage 1 maps 2MB, stage 2 4KB: the translation is the 4KB page.
      assert.equal(r.size, 0x1000);
      assert.equal(r.inputBase, 0x80_8060_5000);
      assert.equal(r.outputBase, 0x3000_7000);
      assert.equal(r.ipaBase, 0x4060_5000);
      assert.equal(r.level, 2);
      assert.equal(r.s2Level, 3);
      assert.equal(r.attrIndx, 1);
      assert.equal(r.memAttr, 0xf);
      assert.equal(r.sh, 3);
      assert.deepEqual(steps.map((s) => [s.stage, s.level, s.descAddr, s.forTable === true]), [
        [2, 1, 0x1000_0008, true], [2, 2, 0x1000_1000, true], [1, 0, 0x2000_0008, false],
        [2, 1, 0x1000_0008, true], [2, 2, 0x1000_1000, true], [1, 1, 0x2000_1010, false],
        [2, 1, 0x1000_0008, true], [2, 2, 0x1000_1000, true], [1, 2, 0x2000_2018, false],
        [2, 1, 0x1000_0008, false], [2, 2, 0x1000_1018, false], [2, 3, 0x1000_2028, false],
      ]);
      assert.equal((steps[2] as WalkStepDetail).descIpa, 0x4000_0008);
      // The same through walkStage1 with stage 2 as a callback.
      const m = memN();
      const viaCallback = ok(walkStage1(VA_N, s1n(), m, (ipa, forTable) => walkStage2(ipa, s2cfg(), m, undefined, forTable)));
      assert.equal(viaCallback.pa, 0x3000_7abc);
      assert.equal(viaCallback.size, 0x1000);
      assert.equal(viaCallback.ipaBase, 0x4060_5000);
    });

    it('reports a stage-2 fault on a stage-1 table address at stage 2, CLASS TT, with the table IPA', () => {
      // Stage-1 L1 points to IPA 0x4040_1000; its entry 3 is at IPA 0x4040_1018, whose stage-2
      // L2 entry (0x40_1018 >> 21 = 2) at 0x1000_1010 is invalid.
      const f = bad(translate(VA_N, s1n(), s2cfg(), memN().with(0x2000_1010, tbl(0x4040_1000))));
      assert.deepEqual(fault(f), ['F_TRANSLATION', 2, 2, 'TT']);
      assert.equal(f.ipa, 0x4040_1018);
      assert.equal(f.reason, 'fetching the stage-1 level-2 descriptor at IPA 0x40401018: stage-2 level-2 descriptor at 0x10001010 is invalid (0x0)');
    });

    it('reports a stage-2 fault on the output at stage 2, CLASS IN, with the IPA', () => {
      const ro = memN().with(0x1000_2028, page(0x3000_7000, S2 & ~0x80n));
      const f = bad(translate(VA_N, s1n(), s2cfg(), ro, undefined, 'write', false));
      assert.deepEqual(fault(f), ['F_PERMISSION', 2, 3, 'IN']);
      assert.equal(f.ipa, 0x4060_5abc);
      // An IPA beyond the 39-bit stage-2 input: stage 1 maps to 2^39 = 0x80_0000_0000.
      const far = bad(translate(VA_N, s1n(), s2cfg(), memN().with(0x2000_2018, block(0x80_0000_0000))));
      assert.deepEqual(fault(far), ['F_TRANSLATION', 2, 1, 'IN']);
      assert.equal(far.ipa, 0x80_0000_5abc);
    });

    it('stage 1 permission faults come before stage 2', () => {
      const f = bad(translate(VA_N, s1n(), s2cfg(), memN().with(0x2000_2018, block(0x4060_0000, S1 | AP_RO)), undefined, 'write'));
      assert.deepEqual(fault(f), ['F_PERMISSION', 1, 2, 'IN']);
    });

    it('S2PTW: a stage-1 table in Device memory at stage 2 faults', () => {
      // Stage-2 block with MemAttr 0x1 (Device-nGnRE): 0x04 | S2AP RW 0xc0 | IS 0x300 | AF 0x400 = 0x7c4.
      const dev = memN().with(0x1000_1000, block(0x2000_0000, 0x7c4n));
      const f = bad(translate(VA_N, s1n(), s2cfg({ ptw: true }), dev));
      assert.deepEqual(fault(f), ['F_PERMISSION', 2, 2, 'TT']);
      assert.equal(f.ipa, 0x4000_0008);
      assert.match(f.reason, /stage-1 table at IPA 0x40000008 is Device memory at stage 2 \(MemAttr 0x1\) and S2PTW=1$/);
      ok(translate(VA_N, s1n(), s2cfg(), dev));
    });
  });

  describe('stage 1 permissions', () => {
    const leaf = (attrs: bigint): Mem => memA().with(0x4000_3020, page(0x8765_4000, attrs));
    const tx = (m: Mem, access: Access, priv: boolean, more: Partial<Stage1Regime> = {}) =>
      translate(VA_A, s1cfg(more), undefined, m, undefined, access, priv);
    const base = AF | NG | SH_IS | ATTR1;

    it('AP: read-only and privileged-only pages', () => {
      const ro = leaf(base | AP_RO);
      ok(tx(ro, 'read', false));
      const f = bad(tx(ro, 'write', false));
      assert.deepEqual(fault(f), ['F_PERMISSION', 1, 3, 'IN']);
      assert.equal(f.reason, 'write to a read-only page (AP=RO)');
      assert.equal(bad(tx(leaf(base | AP_RO_PRIV), 'write', true)).reason, 'write to a read-only page (AP=RO_PRIV)');
      const priv = leaf(base | AP_RW_PRIV);
      assert.equal(bad(tx(priv, 'read', false)).reason, 'unprivileged read from a privileged-only page (AP=RW_PRIV)');
      ok(tx(priv, 'read', true));
      ok(tx(priv, 'write', true));
    });

    it('execute-never: PXN, UXN, EL0-writable pages and WXN', () => {
      const xn = leaf(base | AP_RO | PXN | UXN);
      assert.equal(bad(tx(xn, 'exec', false)).reason, 'unprivileged instruction fetch from a UXN page');
      assert.equal(bad(tx(xn, 'exec', true)).reason, 'privileged instruction fetch from a PXN page');
      const userRw = leaf(base | AP_RW);
      ok(tx(userRw, 'exec', false));
      assert.equal(bad(tx(userRw, 'exec', true)).reason,
        'privileged instruction fetch from a page writable by unprivileged accesses (AP=RW implies PXN)');
      const privRw = leaf(base | AP_RW_PRIV);
      ok(tx(privRw, 'exec', true));
      assert.equal(bad(tx(privRw, 'exec', true, { wxn: true })).reason, 'privileged instruction fetch from a writable page with WXN=1');
      ok(tx(leaf(base | AP_RO_PRIV), 'exec', true, { wxn: true }));
      // An unprivileged fetch needs no read permission (execute-only).
      ok(tx(leaf(base | AP_RW_PRIV), 'exec', false));
    });

    it('PAN: privileged data access to an unprivileged-accessible page', () => {
      const user = leaf(base | AP_RW);
      assert.equal(bad(tx(user, 'read', true, { pan: true })).reason,
        'privileged read from a page accessible to unprivileged accesses (AP=RW) with PAN=1');
      ok(tx(user, 'read', false, { pan: true }));
      ok(tx(user, 'read', true));
      ok(tx(leaf(base | AP_RW_PRIV), 'write', true, { pan: true }));
    });

    it('hierarchical APTable / PXNTable / UXNTable, ignored with HAD', () => {
      const under = (extra: bigint, attrs = base | AP_RW): Mem => leaf(attrs).with(0x4000_2018, tbl(0x4000_3000, extra));
      assert.equal(bad(tx(under(AP_TABLE_RO), 'write', false)).reason, 'write to a page made read-only by a table descriptor (APTable[1]=1)');
      const had = s1cfg({ ttb0: range(4, 48, 0, 0x4000_0000, { had: true }) });
      ok(translate(VA_A, had, undefined, under(AP_TABLE_RO), undefined, 'write', false));
      assert.equal(bad(tx(under(AP_TABLE_NO_EL0), 'read', false)).reason,
        'unprivileged read from a page under a table descriptor forbidding unprivileged access (APTable[0]=1)');
      assert.equal(bad(tx(under(PXN_TABLE, base | AP_RO), 'exec', true)).reason,
        'privileged instruction fetch from a page under a table descriptor with PXNTable=1');
      assert.equal(bad(tx(under(UXN_TABLE), 'exec', false)).reason,
        'unprivileged instruction fetch from a page under a table descriptor with UXNTable=1');
      const r = ok(translate(VA_A, s1cfg(), undefined, under(AP_TABLE_RO | AP_TABLE_NO_EL0)));
      assert.deepEqual({ ...r.perms }, { read: true, write: false, execPriv: true, execUnpriv: true, user: false });
    });

    it('access flag: F_ACCESS before permissions, none with AFFD or HA', () => {
      const noAf = leaf(NG | SH_IS | ATTR1 | AP_RO);
      const f = bad(tx(noAf, 'write', false));
      assert.deepEqual(fault(f), ['F_ACCESS', 1, 3, 'IN']);
      // 0x8765_4000 | nG 0x800 | IS 0x300 | AP=RO 0xc0 | AttrIndx 0x4 | 3 = 0x8765_4bc7
      assert.equal(f.reason, 'access flag is 0 in the level-3 descriptor at 0x40003020 (0x87654bc7), with AFFD=0 and HA=0');
      ok(tx(noAf, 'read', false, { affd: true }));
      ok(tx(noAf, 'read', false, { ha: true }));
      assert.deepEqual(fault(tx(noAf, 'write', false, { ha: true })), ['F_PERMISSION', 1, 3, 'IN']);
    });

    it('dirty state: HA+HD with DBM makes a writable-clean page writable', () => {
      const clean = leaf(base | AP_RO | DBM);
      ok(tx(clean, 'write', false, { ha: true, hd: true }));
      assert.deepEqual(fault(tx(clean, 'write', false, { ha: true })), ['F_PERMISSION', 1, 3, 'IN']);
      // HD without HA behaves as both 0.
      assert.deepEqual(fault(tx(clean, 'write', false, { hd: true })), ['F_PERMISSION', 1, 3, 'IN']);
    });

    it('EL2: every access privileged, AP[1] and PXN ignored, bit 54 is XN, entries global', () => {
      const el2 = { el2: true };
      const m = leaf(base | AP_RW_PRIV | PXN);
      const r = ok(tx(m, 'read', false, el2));
      assert.equal(r.global, true);
      assert.deepEqual({ ...r.perms }, { read: true, write: true, execPriv: true, execUnpriv: true, user: true });
      ok(tx(m, 'exec', true, el2));
      assert.equal(bad(tx(leaf(base | UXN), 'exec', true, el2)).reason, 'instruction fetch from an execute-never page (XN)');
      ok(tx(leaf(base | AP_RW), 'read', true, { el2: true, pan: true }));
      // EL2-E2H keeps EL0 semantics.
      assert.deepEqual(fault(tx(m, 'read', false, { el2: true, e2h: true })), ['F_PERMISSION', 1, 3, 'IN']);
    });
  });

  describe('permissionFault (TLB hits)', () => {
    it('checks cached permissions', () => {
      const ro = { read: true, write: false, execPriv: false, execUnpriv: true, user: true };
      assert.equal(permissionFault(ro, 'read', false), undefined);
      assert.equal(permissionFault(ro, 'write', false), 'write to a read-only page');
      assert.equal(permissionFault(ro, 'exec', true), 'privileged instruction fetch from an execute-never page');
      assert.equal(permissionFault(ro, 'exec', false), undefined);
      assert.equal(permissionFault(ro, 'read', true, true), 'privileged read from a page accessible to unprivileged accesses with PAN=1');
      assert.equal(permissionFault({ ...ro, user: false }, 'read', false), 'unprivileged read from a privileged-only page');
      assert.equal(permissionFault(ALL_PERMISSIONS, 'write', false), undefined);
    });
  });
});
