/**
 * The kernel's STE and CD builders against hand-computed words. Bit positions used in the
 * arithmetic (IHI 0070 5.2 / 5.4, same as the kernel's masks):
 *   STE qword 0: V [0], Config [3:1], S1Fmt [5:4], S1ContextPtr [55:6], S1CDMax [63:59]
 *   STE qword 1: S1DSS [1:0], S1CIR [3:2], S1COR [5:4], S1CSH [7:6], MEV [19], S2FWB [25],
 *                S1STALLD [27], EATS [29:28], STRW [31:30], SHCFG [45:44]
 *   STE qword 2: S2VMID [15:0], S2T0SZ [37:32], S2SL0 [39:38], S2IR0 [41:40], S2OR0 [43:42],
 *                S2SH0 [45:44], S2TG [47:46], S2PS [50:48], S2AA64 [51], S2PTW [54], S2S [57], S2R [58]
 *   STE qword 3: S2TTB [55:4]
 *   CD qword 0:  T0SZ [5:0], TG0 [7:6], IR0 [9:8], OR0 [11:10], SH0 [13:12], EPD0 [14], EPD1 [30],
 *                V [31], IPS [34:32], AA64 [41], HD [42], HA [43], S [44], R [45], A [46],
 *                ASET [47], ASID [63:48]
 *   CD qword 1:  TTB0 [55:4];  CD qword 3: MAIR
 */
import { strict as assert } from 'node:assert';
import { validate } from '../../src/arch/codec';
import { CD } from '../../src/arch/cd';
import { STE } from '../../src/arch/ste';
import {
  abortSte, bypassSte, cdTableSte, CdTableSteOptions, nestedSte, quietCd, s1Cd, S1CdOptions, s2Ste, S2SteOptions, Vtcr,
} from '../../src/driver/builders';
import { CD_KIND, planUpdate, STE_KIND } from '../../src/driver/entryWriter';

/** Pad to eight qwords. */
const w8 = (...words: bigint[]): bigint[] => [...words, ...new Array<bigint>(8 - words.length).fill(0n)];

const S1_BASE: CdTableSteOptions = {
  cdTable: 0x4800f000, s1fmt: 0, s1cdmax: 0, s1dss: 'ssid0', ats: false,
  stallsSupported: false, masterStalls: false, e2h: false, attrTypesOvr: false,
};

/** 4KB granule, 40-bit IPA starting at level 1, WBWA/WBWA/ISH walks, 40-bit output. */
const VTCR: Vtcr = { tsz: 24, sl0: 1, irgn: 1, orgn: 1, sh: 3, tg: 0, ps: 2 };
const S2_BASE: S2SteOptions = { vmid: 1, vtcr: VTCR, vttbr: 0x81000000, ats: true, fwb: false, attrTypesOvr: true, stallEnabled: false };
/**
 * qword 2 of S2_BASE, upper half (bits 63:32, positions minus 32):
 *   S2T0SZ 24 = 0x18 | S2SL0 1<<6 = 0x40 | S2IR0 1<<8 = 0x100 | S2OR0 1<<10 = 0x400 |
 *   S2SH0 3<<12 = 0x3000 | S2TG 0 | S2PS 2<<16 = 0x20000 | S2AA64 1<<19 = 0x80000 |
 *   S2PTW 1<<22 = 0x400000 | S2R 1<<26 = 0x4000000
 *   = 0x18+0x40+0x100+0x400+0x3000+0x20000+0x80000+0x400000+0x4000000 = 0x044a3558
 * lower half: S2VMID = 1.
 */
const S2_Q2_VMID1 = 0x044a3558_00000001n;

describe('driver/builders: STEs', () => {
  it('abortSte: V=1, Config=ABORT -> qword 0 = 0x1, the rest zero', () => {
    assert.deepEqual(abortSte(), w8(0x1n));
  });

  it('bypassSte: V | Config=BYPASS (0b100<<1 = 0x8) = 0x9; SHCFG=INCOMING (1<<44) only with ATTR_TYPES_OVR', () => {
    assert.deepEqual(bypassSte({ attrTypesOvr: true }), w8(0x9n, 0x00001000_00000000n));
    assert.deepEqual(bypassSte({ attrTypesOvr: false }), w8(0x9n));
  });

  it("cdTableSte: the kernel's S1 STE for a linear CD table at 0x4800f000, S1DSS=SSID0", () => {
    // qword 0: V (0x1) | Config S1_TRANS 0b101<<1 = 0xa | S1Fmt 0 | 0x4800f000 | S1CDMax 0 = 0x4800f00b
    // qword 1: S1DSS SSID0 0b10 = 0x2 | S1CIR WBRA 1<<2 = 0x4 | S1COR WBRA 1<<4 = 0x10 |
    //          S1CSH ISH 3<<6 = 0xc0 | STRW NSEL1 0  = 0xd6
    // qword 2: S2VMID 0
    assert.deepEqual(cdTableSte(S1_BASE), w8(0x000000004800f00bn, 0xd6n));
    // A master that stalls on an SMMU that can: no S1STALLD either.
    assert.deepEqual(cdTableSte({ ...S1_BASE, stallsSupported: true, masterStalls: true }), w8(0x4800f00bn, 0xd6n));
  });

  it('cdTableSte: ATS, S1STALLD and S1CDMax, as the KUnit tests build it', () => {
    // qword 0: S1CDMax 4 << 59 = 2^61 = 0x2000000000000000, so 0x200000004800f00b
    // qword 1: 0xd6 | S1STALLD 1<<27 = 0x08000000 | EATS TRANS 1<<28 = 0x10000000 = 0x180000d6
    const ste = cdTableSte({ ...S1_BASE, s1cdmax: 4, ats: true, stallsSupported: true, attrTypesOvr: true });
    assert.deepEqual(ste, w8(0x20000000_4800f00bn, 0x180000d6n));
  });

  it('cdTableSte: S1DSS=BYPASS adds SHCFG=INCOMING with ATTR_TYPES_OVR', () => {
    // qword 1: S1DSS BYPASS 0b01 = 0x1 | 0x4 | 0x10 | 0xc0 | 0x08000000 | 0x10000000 | SHCFG 1<<44
    //        = 0x00001000_180000d5
    const ste = cdTableSte({ ...S1_BASE, s1cdmax: 4, s1dss: 'bypass', ats: true, stallsSupported: true, attrTypesOvr: true });
    assert.deepEqual(ste, w8(0x20000000_4800f00bn, 0x00001000_180000d5n));
    // Without ATTR_TYPES_OVR SHCFG is RES0 and stays 0.
    assert.equal(cdTableSte({ ...S1_BASE, s1dss: 'bypass' })[1], 0xd5n);
  });

  it('cdTableSte: two-level 64KB-leaf table, S1DSS=TERMINATE, E2H (STRW=EL2)', () => {
    // qword 0: S1CDMax 20 = 0b10100 -> bits 63 and 61 = 0xa000000000000000 | S1Fmt 2<<4 = 0x20 |
    //          0x4800f000 | 0xb = 0xa0000000_4800f02b
    // qword 1: S1DSS 0 | 0x4 | 0x10 | 0xc0 | STRW EL2 2<<30 = 0x80000000 = 0x800000d4
    const ste = cdTableSte({ ...S1_BASE, s1fmt: 2, s1cdmax: 20, s1dss: 'terminate', e2h: true });
    assert.deepEqual(ste, w8(0xa0000000_4800f02bn, 0x800000d4n));
  });

  it('s2Ste: VMID, VTCR, S2AA64 | S2PTW | S2R, EATS and SHCFG', () => {
    // qword 0: V | Config S2_TRANS 0b110<<1 = 0xc -> 0xd
    // qword 1: EATS TRANS 1<<28 = 0x10000000 | SHCFG INCOMING 1<<44 = 0x00001000_10000000
    // qword 3: S2TTB = 0x81000000
    assert.deepEqual(s2Ste(S2_BASE), w8(0xdn, 0x00001000_10000000n, S2_Q2_VMID1, 0x81000000n));
  });

  it('s2Ste: S2FWB, S2S, 16-bit VMID, and the kernel masking VTTBR to S2TTB', () => {
    // qword 1: S2FWB 1<<25 = 0x02000000 only (no ATS, no ATTR_TYPES_OVR)
    // qword 2: upper 0x044a3558 | S2S 1<<(57-32) = 0x02000000 -> 0x064a3558; VMID 0xffff
    // qword 3: 0x8100000c & [55:4] = 0x81000000 (as `vttbr & STRTAB_STE_3_S2TTB_MASK`)
    const ste = s2Ste({ ...S2_BASE, vmid: 0xffff, vttbr: 0x8100000c, ats: false, fwb: true, attrTypesOvr: false, stallEnabled: true });
    assert.deepEqual(ste, w8(0xdn, 0x02000000n, 0x064a3558_0000ffffn, 0x81000000n));
  });

  describe('nestedSte', () => {
    const s2 = s2Ste(S2_BASE);
    // Guest vSTE: qword 0 = V | Config S1_TRANS (0xa) | CD table at IPA 0x90000000 = 0x9000000b
    //             qword 1 = S1DSS BYPASS 0x1 | 0x4 | 0x10 | 0xc0 | EATS TRANS 0x10000000 = 0x100000d5
    const vste = [0x9000000bn, 0x100000d5n];

    it('stage-1 vSTE: qword 0 from the vSTE with Config=NESTED, qword 1 merged, qwords 2-3 from the S2 STE', () => {
      // qword 0: V | Config NESTED 0b111<<1 = 0xe -> 0xf | (0x9000000b & ~0xe = 0x90000001) = 0x9000000f
      // qword 1: S2 qword 1 0x00001000_10000000 | vSTE qword 1 without EATS (0xd5) | MEV 1<<19 = 0x80000
      //        = 0x00001000_100800d5
      assert.deepEqual(nestedSte({ vste, s2 }), w8(0x9000000fn, 0x00001000_100800d5n, S2_Q2_VMID1, 0x81000000n));
    });

    it('V=0 gives the abort STE; Config ABORT the abort STE; Config BYPASS the stage-2 STE', () => {
      assert.deepEqual(nestedSte({ vste: [0x9000000an, 0xd5n], s2 }), w8(0x1n));
      assert.deepEqual(nestedSte({ vste: [0x1n, 0n], s2 }), w8(0x1n));
      assert.deepEqual(nestedSte({ vste: [0x9n, 0n], s2 }), s2);
    });

    it('rejects what the kernel rejects with -EIO', () => {
      // STRW (qword 1 bits [31:30]) is the host's.
      assert.throws(() => nestedSte({ vste: [0x9000000bn, 0x80000000n], s2 }), /qword 1 bits 0x80000000.*-EIO/);
      // Config NESTED (0b111) is not a guest configuration.
      assert.throws(() => nestedSte({ vste: [0x9000000fn, 0n], s2 }), /Config=7.*-EIO/);
      // EATS S1CHK (0b10 << 28 = 0x20000000) is not supported.
      assert.throws(() => nestedSte({ vste: [0x9000000bn, 0x20000000n], s2 }), /EATS=2.*-EIO/);
      // A third qword does not exist in the uAPI.
      assert.throws(() => nestedSte({ vste: [0x9000000bn, 0n, 1n], s2 }), /two qwords/);
    });
  });

  it('every STE builder sets only bits its own configuration uses, and none is ILLEGAL', () => {
    const all = [
      abortSte(), bypassSte({ attrTypesOvr: true }), cdTableSte(S1_BASE),
      cdTableSte({ ...S1_BASE, s1cdmax: 4, s1dss: 'bypass', ats: true, stallsSupported: true, attrTypesOvr: true }),
      s2Ste(S2_BASE), nestedSte({ vste: [0x9000000bn, 0x100000d5n], s2: s2Ste(S2_BASE) }),
    ];
    for (const ste of all) {
      assert.doesNotThrow(() => planUpdate(STE_KIND, abortSte(), ste));
      assert.deepEqual(validate(STE, ste).filter((p) => p.severity === 'error'), []);
    }
  });
});

describe('driver/builders: CDs', () => {
  const CD_A: S1CdOptions = {
    asid: 1, ttb0: 0x80000000, tcr: { t0sz: 16, tg0: 0, irgn0: 1, orgn0: 1, sh0: 3, ips: 5 },
    mair: 0xf404ff44n, stall: false, hahd: false,
  };

  it('s1Cd: TCR fields, EPD1, V, IPS, AA64, R, A, ASET, ASID; TTB0; MAIR', () => {
    // qword 0, lower half: T0SZ 16 = 0x10 | TG0 0 | IR0 1<<8 = 0x100 | OR0 1<<10 = 0x400 |
    //   SH0 3<<12 = 0x3000 | EPD1 1<<30 = 0x40000000 | V 1<<31 = 0x80000000 = 0xc0003510
    // upper half (positions minus 32): IPS 5 | AA64 1<<9 = 0x200 | R 1<<13 = 0x2000 |
    //   A 1<<14 = 0x4000 | ASET 1<<15 = 0x8000 | ASID 1<<16 = 0x10000 = 0x0001e205
    assert.deepEqual(s1Cd(CD_A), w8(0x0001e205_c0003510n, 0x80000000n, 0n, 0xf404ff44n));
  });

  it('s1Cd: S with a stalling master, HA+HD with the dirty-tracking quirk, TTB0 masked, 64-bit MAIR', () => {
    // upper half: 0x0001e205 | S 1<<12 = 0x1000 | HA 1<<11 = 0x800 | HD 1<<10 = 0x400 = 0x0001fe05
    // TTB0: 0x80000008 & [55:4] = 0x80000000; MAIR1:MAIR0 = the 64-bit value as is.
    const cd = s1Cd({ ...CD_A, ttb0: 0x80000008, stall: true, hahd: true, mair: 0x0004ff44_f404ff44n });
    assert.deepEqual(cd, w8(0x0001fe05_c0003510n, 0x80000000n, 0n, 0x0004ff44_f404ff44n));
  });

  it('quietCd: the SVA release CD (EPD0 set, no TTB0 fields, S and R cleared)', () => {
    // lower: EPD0 1<<14 = 0x4000 | EPD1 0x40000000 | V 0x80000000 = 0xc0004000
    // upper: IPS 5 | AA64 0x200 | A 0x4000 | ASET 0x8000 | ASID 1<<16 = 0x0001c205
    assert.deepEqual(quietCd(1, { ips: 5, mair: 0xf404ff44n }), w8(0x0001c205_c0004000n, 0n, 0n, 0xf404ff44n));
    // Defaults (IPS 0, MAIR 0), ASID 7: upper 0x200 | 0x4000 | 0x8000 | 7<<16 = 0x0007c200
    assert.deepEqual(quietCd(7), w8(0x0007c200_c0004000n));
    // With a forced-stall SMMU the kernel keeps S (stalling master) and R: upper | 0x1000 | 0x2000 = 0x0001f205
    assert.deepEqual(quietCd(1, { ips: 5, mair: 0xf404ff44n, stall: true, stallForce: true }),
      w8(0x0001f205_c0004000n, 0n, 0n, 0xf404ff44n));
  });

  it('CD builders set only used bits and are not ILLEGAL', () => {
    for (const cd of [s1Cd(CD_A), quietCd(1, { ips: 5, mair: 0xf404ff44n })]) {
      assert.doesNotThrow(() => planUpdate(CD_KIND, w8(), cd));
      assert.deepEqual(validate(CD, cd).filter((p) => p.severity === 'error'), []);
    }
  });
});
