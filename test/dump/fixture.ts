/**
 * One small machine's SMMU tables, encoded by hand from the SMMUv3 field positions (facts
 * §1-§3, §8) and the VMSAv8-64 descriptor formats, with the arithmetic beside each value.
 * The tests decode and walk them and compare with the numbers worked out here.
 *
 * Memory: one MiB of RAM at 0x4000_0000, given as two segments (0x4000_0000..0x4008_0000
 * and 0x4008_0000..0x4010_0000) so a test can leave the second out.
 *
 *   0x4000_0000  L1 stream table: 256 L1STDs (STRTAB_BASE_CFG 0x10210: FMT 1 [17:16],
 *                SPLIT 8 [10:6] = 0x200, LOG2SIZE 16 [5:0] = 0x10 → 0x10000|0x200|0x10)
 *   0x4001_0000  STEs of L1STD 0 (StreamIDs 0..0xff), 0x40 bytes each
 *   0x4002_0000  STEs of L1STD 1 (StreamIDs 0x100, 0x101: Span 2 → 2^(2-1) STEs)
 *   0x4003_0000  CD table of StreamID 2 (2 CDs, linear)
 *   0x4004_0000  stage-2 level-2 table of StreamID 3 (64 KB granule)
 *   0x4005_0000  its level-3 table (8192 entries, 64 KB)
 *   0x4007_0000  stage-1 4 KB tables of StreamID 2 CD 0: level 0, 1, 2, 3 at +0, +0x1000, +0x2000, +0x3000
 *   0x4008_0000  stage-1 16 KB tables of StreamID 2 CD 1: level 2, then level 3 at +0x4000
 *   0x4009_0000  stage-2 4 KB level-1 table of StreamID 4 (nested): IPA 0..1 GiB → PA 0x4000_0000
 *   0x400a_0000  CD of StreamID 4 (IPA 0xa_0000), 0x400b_0000 and 0x400c_0000 its stage-1 tables
 */
import { elfCore, Image } from './helpers';

export const STRTAB_BASE = 0x4000_0000n;
export const STRTAB_BASE_CFG = 0x10210n;
export const RAM = 0x4000_0000;
export const SPLIT_AT = 0x4008_0000;
export const RAM_END = 0x4010_0000;

/** A stage-1 leaf's attribute bits as io-pgtable writes them for IOMMU_READ|IOMMU_WRITE|IOMMU_CACHE. */
// nG 0x800 | AF 0x400 | SH ISH (3 << 8) 0x300 | AP[1] unprivileged (1 << 6) 0x40 | AttrIndx 1 (1 << 2) 0x4
export const S1_RW_CACHE = 0xf44n;

export function fixtureImage(): Image {
  const img = new Image();
  // L1 descriptors: L2Ptr [51:6] | Span [4:0].
  img.q(0x4000_0000, 0x4001_0000n | 9n); // Span 9: 2^8 = 256 STEs
  img.q(0x4000_0008, 0x4002_0000n | 2n); // Span 2: 2 STEs

  const ste = (sid: number, words: bigint[]): void => {
    const addr = sid < 0x100 ? 0x4001_0000 + sid * 0x40 : 0x4002_0000 + (sid - 0x100) * 0x40;
    img.qs(addr, words);
  };
  ste(0, [0x1n]); // V=1, Config 0b000: abort
  ste(1, [0x9n]); // V=1, Config 0b100 (4 << 1 = 8): bypass
  // StreamID 2: V | Config 0b101 (5 << 1 = 0xa) | S1ContextPtr 0x4003_0000 | S1CDMax 1 (1 << 59 = 0x0800_0000_0000_0000)
  // word 1: S1CIR WBRA (1 << 2) | S1COR WBRA (1 << 4) | S1CSH ISH (3 << 6) = 0x4 | 0x10 | 0xc0 = 0xd4
  ste(2, [0x0800_0000_4003_000bn, 0xd4n]);
  // StreamID 3: V | Config 0b110 (6 << 1 = 0xc) = 0xd. word 2: S2VMID 5 | S2T0SZ 24 (40-bit IPA) << 32 |
  // S2SL0 1 << 38 (64 KB: start level 3 - 1 = 2) | S2IR0 1 << 40 | S2OR0 1 << 42 | S2SH0 3 << 44 |
  // S2TG 1 (64 KB) << 46 | S2PS 2 (40 bits) << 48 | S2AA64 1 << 51
  //   = 0x8_0000_0000_0000 + 0x2_0000_0000_0000 + 0x4000_0000_0000 + 0x3000_0000_0000
  //   + 0x400_0000_0000 + 0x100_0000_0000 + 0x40_0000_0000 + 0x18_0000_0000 + 5 = 0x000a_7558_0000_0005
  // word 3: S2TTB 0x4004_0000
  ste(3, [0xdn, 0n, 0x000a_7558_0000_0005n, 0x4004_0000n]);
  // StreamID 4: nested, V | Config 0b111 (0xe) = 0xf | S1ContextPtr (an IPA) 0xa_0000, S1CDMax 0.
  // word 2: S2VMID 6 | S2T0SZ 32 << 32 (32-bit IPA) | S2SL0 1 << 38 (4 KB: start level 2 - 1 = 1) |
  // IR0/OR0/SH0 as above | S2TG 0 (4 KB) | S2PS 2 << 48 | S2AA64 1 << 51
  //   = 0x8_0000_0000_0000 + 0x2_0000_0000_0000 + 0x3000_0000_0000 + 0x500_0000_0000
  //   + 0x40_0000_0000 + 0x20_0000_0000 + 6 = 0x000a_3560_0000_0006
  ste(4, [0x000a_000fn, 0xd4n, 0x000a_3560_0000_0006n, 0x4009_0000n]);
  for (const sid of [5, 6, 7]) ste(sid, [0x1n]); // abort
  ste(0x100, [0x9n]); // bypass
  ste(0x101, [0x1n]); // abort

  // CD 0 of StreamID 2 (the arm-smmu-v3 CD for a 48-bit 4 KB domain): T0SZ 16 | IR0 WBRA 1 << 8 |
  // OR0 WBRA 1 << 10 | SH0 ISH 3 << 12 | EPD1 1 << 30 | V 1 << 31 | IPS 5 (48 bits) << 32 |
  // AA64 1 << 41 | R 1 << 45 | A 1 << 46 | ASET 1 << 47 | ASID 1 << 48 = 0x0001_e205_c000_3510
  // word 1: TTB0 0x4007_0000; word 3: MAIR 0xf404ff44 (Attr0 0x44 NC, Attr1 0xff WB, Attr2 0x04 Device-nGnRE, Attr3 0xf4)
  img.qs(0x4003_0000, [0x0001_e205_c000_3510n, 0x4007_0000n, 0n, 0xf404ff44n]);
  // CD 1: T0SZ 28 (36-bit VA) 0x1c | TG0 16 KB (2 << 6 = 0x80) | the same IR0/OR0/SH0 0x3500 | EPD1 | V |
  // IPS 5 | AA64 | R | A | ASET | ASID 2 << 48 = 0x0002_e205_c000_359c; TTB0 0x4008_0000
  img.qs(0x4003_0040, [0x0002_e205_c000_359cn, 0x4008_0000n, 0n, 0xf404ff44n]);

  // Stage 1, 4 KB, 48-bit: level 0 starts; index bits [47:39], [38:30], [29:21], [20:12].
  img.q(0x4007_0000, 0x4007_1003n); // L0[0] → table
  img.q(0x4007_1000, 0x4007_2003n); // L1[0] → table
  // L2[128] (VA 128 << 21 = 0x1000_0000): 2 MB block at 0x8_0000_0000 | S1_RW_CACHE | 0b01
  img.q(0x4007_2000 + 128 * 8, 0x8_0000_0000n | S1_RW_CACHE | 1n);
  img.q(0x4007_2000 + 129 * 8, 0x4007_3003n); // L2[129] (VA 0x1020_0000) → level-3 table
  img.q(0x4007_3000 + 0 * 8, 0x8_0020_0000n | S1_RW_CACHE | 3n); // VA 0x1020_0000: continues the block
  img.q(0x4007_3000 + 1 * 8, 0x8_0020_1000n | S1_RW_CACHE | 3n); // VA 0x1020_1000
  // VA 0x1020_5000: read-only (AP 0b11 << 6 = 0xc0 instead of 0x40): 0x800|0x400|0x300|0xc0|0x4|0x3 = 0xfc7
  img.q(0x4007_3000 + 5 * 8, 0x9_0000_0000n | 0xfc7n);
  // VA 0x1020_6000: access flag clear (0xf47 - 0x400 = 0xb47)
  img.q(0x4007_3000 + 6 * 8, 0x9_0000_1000n | 0xb47n);

  // Stage 1, 16 KB, 36-bit: level 2 starts (index [35:25], 2048 entries), level 3 index [24:14].
  // L2[1] (VA 1 << 25 = 0x200_0000): 32 MB block at 0x1_0000_0000, AttrIndx 0 (NC): 0x800|0x400|0x300|0x40|0x1 = 0xf41
  img.q(0x4008_0000 + 1 * 8, 0x1_0000_0f41n);
  img.q(0x4008_0000 + 2 * 8, 0x4008_4003n); // L2[2] (VA 0x400_0000) → level-3 table
  // L3[3] (VA 0x400_0000 + 3 << 14 = 0x400_c000): page at 0x1_2345_c000, AttrIndx 2 (Device): 0x800|0x400|0x300|0x40|0x8|0x3 = 0xf4b
  img.q(0x4008_4000 + 3 * 8, 0x1_2345_cf4bn);

  // Stage 2, 64 KB, 40-bit IPA: level 2 starts (index [39:29], 2048 entries), level 3 index [28:16].
  img.q(0x4004_0000, 0x4005_0003n); // L2[0] → level-3 table
  // L2[1] (IPA 1 << 29 = 0x2000_0000): 512 MB block at 0x20_0000_0000:
  // AF 0x400 | SH ISH 0x300 | S2AP RW (3 << 6) 0xc0 | MemAttr 0xf (Normal WB) << 2 = 0x3c | 0b01 = 0x7fd
  img.q(0x4004_0008, 0x20_0000_07fdn);
  // L3[2] (IPA 2 << 16 = 0x2_0000): page at 0x30_0001_0000, S2AP RO (1 << 6), MemAttr 0b0001 Device-nGnRE (<< 2 = 0x4),
  // AF, XN 0b10 (2 << 53): 0x400|0x40|0x4|0x3 = 0x447
  img.q(0x4005_0000 + 2 * 8, 0x30_0001_0000n | 0x447n | (2n << 53n));

  // StreamID 4. Stage 2, 4 KB, 32-bit IPA: level 1 starts with 4 entries (index [31:30]).
  img.q(0x4009_0000, 0x4000_0000n | 0x7fdn); // L1[0]: IPA 0..1 GiB → PA 0x4000_0000, 1 GiB block
  // CD at IPA 0xa_0000 = PA 0x400a_0000: T0SZ 25 (39-bit VA: 0x19) | 0x3500 | EPD1 | V | IPS 5 | AA64 | R | A | ASET | ASID 3
  img.qs(0x400a_0000, [0x0003_e205_c000_3519n, 0xb_0000n, 0n, 0xf404ff44n]);
  // Stage 1, 4 KB, 39-bit: level 1 starts (index [38:30]); tables at IPAs 0xb_0000 and 0xc_0000.
  img.q(0x400b_0000, 0xc_0003n); // L1[0] → table at IPA 0xc_0000
  img.q(0x400c_0000, 0x20_0000n | S1_RW_CACHE | 1n); // L2[0]: VA 0 → IPA 0x20_0000, 2 MB block
  return img;
}

/** The fixture as an ELF core with the RAM in two PT_LOADs (or only the first). */
export function fixtureCore(opts: { onlyFirst?: boolean } = {}): Uint8Array {
  const img = fixtureImage();
  const segs = [{ paddr: RAM, data: img.bytes(RAM, SPLIT_AT), vaddr: 0xffff_0000_0000 }];
  if (!opts.onlyFirst) segs.push({ paddr: SPLIT_AT, data: img.bytes(SPLIT_AT, RAM_END), vaddr: 0xffff_0008_0000 });
  return elfCore(segs);
}
