/**
 * VMSAv8-64 descriptors (src/arch/pte.ts). Every expected word below is worked out by hand
 * from the Arm ARM descriptor formats and io-pgtable-arm's bit definitions (facts §8); the
 * arithmetic is in the comments.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { decode, describe as describeText, encode, setField, toJson } from '../../src/arch/codec';
import { FieldSpec, Layout, mask } from '../../src/arch/field';
import {
  contiguousEntries, descriptorType, DescriptorType, levelGeometry, levels, makeOutputAddressBits,
  outputAddress, PteFormat, pteLayout, pteLayoutFor, startLevel, topIndexBits,
} from '../../src/arch/pte';

const S1_4K_L3: PteFormat = { stage: 1, granule: 4, level: 3 };
const S1_4K_L2: PteFormat = { stage: 1, granule: 4, level: 2 };
const S1_4K_L1: PteFormat = { stage: 1, granule: 4, level: 1 };

const problemIds = (l: Layout, w: bigint, ctx = {}): string[] => decode(l, [w], ctx).problems.map((p) => p.rule);

// Every layout the module can produce, for the generic properties.
function allPteLayouts(): Layout[] {
  const out: Layout[] = [];
  for (const stage of [1, 2] as const) {
    for (const granule of [4, 16, 64] as const) {
      for (const level of [0, 1, 2, 3] as const) {
        for (const wide of [{}, { ds: true }, { pa52: true }, { s2fwb: true }]) {
          for (const type of ['invalid', 'table', 'block', 'page', 'reserved'] as const) {
            const l = pteLayout({ stage, granule, level, ...wide }, type);
            if (!out.includes(l)) out.push(l);
          }
        }
      }
    }
  }
  return out;
}

describe('arch/pte', () => {
  describe('hand-worked vectors', () => {
    it('stage 1 4K level 3 page as io-pgtable builds it for READ|WRITE|CACHE at 0x40123000', () => {
      // arm_lpae_prot_to_pte (S1): nG (1<<11 = 0x800); writable so no AP_RDONLY; !IOMMU_PRIV so
      // AP_UNPRIV (1<<6 = 0x40); IOMMU_CACHE: AttrIndx 1 (1<<2 = 0x4) and SH_IS (3<<8 = 0x300);
      // AF (1<<10 = 0x400). __arm_lpae_init_pte: TYPE_PAGE (3) | paddr 0x40123000.
      // 0x800 + 0x400 + 0x300 + 0x40 + 0x4 + 0x3 = 0xf47  ->  0x40123000 | 0xf47 = 0x40123f47
      const w = 0x40123f47n;
      assert.equal(descriptorType(w, S1_4K_L3), 'page');
      const l = pteLayoutFor(w, S1_4K_L3);
      assert.equal(l.kind, 'pte.s1.4k.l3.page');
      assert.equal(l.title, 'Stage 1 page descriptor (4KB granule, level 3)');
      const d = decode(l, [w]);
      assert.equal(d.get('AttrIndx'), 1n);
      assert.equal(d.field('AP')?.valueName, 'RW');
      assert.equal(d.get('SH'), 3n);
      // The shared shareability names, with io-pgtable's use as a note.
      assert.equal(d.field('SH')?.valueName, 'ISH');
      assert.match(d.field('SH')!.text, /Inner Shareable \(io-pgtable ARM_LPAE_PTE_SH_IS: IOMMU_CACHE\)/);
      assert.equal(d.get('AF'), 1n);
      assert.equal(d.get('nG'), 1n);
      assert.equal(d.get('OA'), 0x40123000n);
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'page 0x40123000, RW, EL0, Normal WB (AttrIndx 1), IS, AF, nG');
      assert.equal(outputAddress(w, S1_4K_L3), 0x40123000n);
      // Built with the encoder, field by field, it is the same word.
      assert.deepEqual(encode(l, { Type: 'PAGE', AttrIndx: 1, AP: 'RW', SH: 'ISH', AF: 1, nG: 1, OA: 0x40123000n }), [w]);
    });

    it('the same page read-only (IOMMU_READ|IOMMU_CACHE)', () => {
      // + AP_RDONLY (1<<7 = 0x80): 0xf47 + 0x80 = 0xfc7  ->  0x40123fc7; AP[2:1] = 0b11
      const w = 0x40123fc7n;
      const d = decode(pteLayoutFor(w, S1_4K_L3), [w]);
      assert.equal(d.field('AP')?.valueName, 'RO');
      assert.equal(d.summary, 'page 0x40123000, RO, EL0, Normal WB (AttrIndx 1), IS, AF, nG');
    });

    it('4K level 2 2M block at 0x80000000, read-only', () => {
      // TYPE_BLOCK 1 + AttrIndx 1 (0x4) + AP 0b11 (0xc0) + SH IS (0x300) + AF (0x400) + nG (0x800)
      // = 0xfc5; OA[47:21]: 0x80000000 >> 21 = 0x400, aligned  ->  0x80000fc5
      const w = 0x80000fc5n;
      assert.equal(descriptorType(w, S1_4K_L2), 'block');
      const l = pteLayoutFor(w, S1_4K_L2);
      assert.equal(l.kind, 'pte.s1.4k.l2.block');
      const d = decode(l, [w]);
      assert.equal(d.field('OA')?.spec.lo, 21);
      assert.equal(d.get('OA'), 0x80000000n);
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'block 2M at 0x80000000, RO, EL0, Normal WB (AttrIndx 1), IS, AF, nG');
    });

    it('4K level 1 1G block at 0x140000000, read/write', () => {
      // 0x800 + 0x400 + 0x300 + 0x40 + 0x4 + 0x1 = 0xf45; 0x140000000 = 5 << 30, OA[47:30] = 5
      // -> 0x140000000 | 0xf45 = 0x140000f45
      const w = 0x140000f45n;
      const d = decode(pteLayoutFor(w, S1_4K_L1), [w]);
      assert.equal(d.layout.kind, 'pte.s1.4k.l1.block');
      assert.equal(d.field('OA')?.spec.lo, 30);
      assert.equal(d.get('OA'), 0x140000000n);
      assert.equal(d.summary, 'block 1G at 0x140000000, RW, EL0, Normal WB (AttrIndx 1), IS, AF, nG');
      assert.equal(makeOutputAddressBits(0x140000000n, S1_4K_L1, 'block'), 0x140000000n);
    });

    it('4K table descriptors at levels 0, 1 and 2', () => {
      // arm_lpae_install_table: paddr_to_iopte(table) | TYPE_TABLE (3)
      //   level 0 -> table at 0x40001000: 0x40001003
      //   level 1 -> table at 0x40002000: 0x40002003
      //   level 2 -> table at 0x40003000: 0x40003003
      const cases: [0 | 1 | 2, bigint, bigint][] = [[0, 0x40001003n, 0x40001000n], [1, 0x40002003n, 0x40002000n], [2, 0x40003003n, 0x40003000n]];
      for (const [level, w, table] of cases) {
        const fmt: PteFormat = { stage: 1, granule: 4, level };
        assert.equal(descriptorType(w, fmt), 'table');
        const d = decode(pteLayoutFor(w, fmt), [w]);
        assert.equal(d.layout.kind, `pte.s1.4k.l${level}.table`);
        assert.equal(d.get('NLTA'), table);
        assert.equal(outputAddress(w, fmt), table);
        assert.equal(d.summary, `table → ${'0x' + table.toString(16)}`);
        assert.deepEqual(d.problems, []);
      }
      // With the ARM_NS quirk: | NSTABLE (1<<63) = 0x8000000040002003; after a non-coherent
      // install: | SW_SYNC (1<<55 = 0x0080000000000000) = 0x8080000040002003
      const w = 0x8080000040002003n;
      const d = decode(pteLayoutFor(w, S1_4K_L1), [w]);
      assert.equal(d.get('NSTable'), 1n);
      assert.equal(d.summary, 'table → 0x40002000, NSTable, SW_SYNC');
      assert.deepEqual(d.problems, []);
    });

    it('16K page and 32M block', () => {
      // 16K page at 0x40124000 (0x124000 = 0x49 * 0x4000, aligned): 0x40124000 | 0xf47 = 0x40124f47
      const page: PteFormat = { stage: 1, granule: 16, level: 3 };
      const d = decode(pteLayoutFor(0x40124f47n, page), [0x40124f47n]);
      assert.equal(d.layout.kind, 'pte.s1.16k.l3.page');
      assert.equal(d.field('OA')?.spec.lo, 14);
      assert.equal(d.get('OA'), 0x40124000n);
      assert.deepEqual(d.problems, []);
      // 16K level 2 block: 32M = 1<<25; 0x82000000 = 0x41 << 25, aligned; RW cached block low
      // bits 0xf45 -> 0x82000f45
      const block: PteFormat = { stage: 1, granule: 16, level: 2 };
      const b = decode(pteLayoutFor(0x82000f45n, block), [0x82000f45n]);
      assert.equal(b.layout.kind, 'pte.s1.16k.l2.block');
      assert.equal(b.field('OA')?.spec.lo, 25);
      assert.equal(b.summary, 'block 32M at 0x82000000, RW, EL0, Normal WB (AttrIndx 1), IS, AF, nG');
      assert.deepEqual(b.problems, []);
    });

    it('64K page with a 52-bit OA: OA[51:48] in bits [15:12]', () => {
      // The brief's PA, read as 0x0008_1234_5670_0000 (52 bits): OA[51:48] = 0x8, OA[47:16] in place.
      // paddr_to_iopte: (pa | pa >> 36) & GENMASK(47,12)
      //   pa & [47:12]         = 0x0000_1234_5670_0000
      //   pa >> 36 = 0x8123;   & [47:12] -> 0x8000   (OA[51:48]=0x8 lands in [15:12])
      //   | attrs 0xf47        -> 0x0000_1234_5670_8f47
      const fmt: PteFormat = { stage: 1, granule: 64, level: 3, pa52: true };
      const w = 0x0000123456708f47n;
      const d = decode(pteLayoutFor(w, fmt), [w], { oas: 52 });
      assert.equal(d.layout.kind, 'pte.s1.64k.l3.page.pa52');
      assert.equal(d.get('OA51_48'), 8n);
      assert.equal(d.get('OA'), 0x123456700000n);
      assert.equal(outputAddress(w, fmt), 0x0008123456700000n);
      assert.equal(makeOutputAddressBits(0x0008123456700000n, fmt, 'page'), 0x0000123456708000n);
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'page 0x8123456700000, RW, EL0, Normal WB (AttrIndx 1), IS, AF, nG');
      // The same address with a 48-bit OAS faults (F_ADDR_SIZE).
      assert.deepEqual(problemIds(d.layout, w, { oas: 48 }), ['addr-size']);
      // The literal as written in the brief (0x0008_1234_5670_000 = 0x812345670000) is a
      // plain 48-bit PA: OA[51:48] = 0, bits [15:12] = 0 -> 0x812345670000 | 0xf47 = 0x812345670f47
      assert.equal(outputAddress(0x812345670f47n, fmt), 0x812345670000n);
    });

    it('64K 512M block', () => {
      // 512M = 1<<29; 0x60000000 = 3 << 29; RW cached block low bits 0xf45 -> 0x60000f45
      const fmt: PteFormat = { stage: 1, granule: 64, level: 2 };
      const d = decode(pteLayoutFor(0x60000f45n, fmt), [0x60000f45n]);
      assert.equal(d.layout.kind, 'pte.s1.64k.l2.block');
      assert.equal(d.field('OA')?.spec.lo, 29);
      assert.equal(d.summary, 'block 512M at 0x60000000, RW, EL0, Normal WB (AttrIndx 1), IS, AF, nG');
      assert.deepEqual(d.problems, []);
    });

    it('stage 2 page: MemAttr 0xF, S2AP RW, SH IS, AF', () => {
      // arm_lpae_prot_to_pte (S2): HAP_READ (1<<6) | HAP_WRITE (2<<6) = 0xc0; IOMMU_CACHE:
      // MEMATTR_OIWB (0xf<<2 = 0x3c), SH_IS 0x300; AF 0x400; TYPE_PAGE 3; no nG at stage 2.
      // 0x400 + 0x300 + 0xc0 + 0x3c + 0x3 = 0x7ff  ->  0x40123000 | 0x7ff = 0x401237ff
      const fmt: PteFormat = { stage: 2, granule: 4, level: 3 };
      const w = 0x401237ffn;
      const d = decode(pteLayoutFor(w, fmt), [w]);
      assert.equal(d.layout.kind, 'pte.s2.4k.l3.page');
      assert.equal(d.field('MemAttr')?.valueName, 'OIWB');
      assert.equal(d.field('S2AP')?.valueName, 'RW');
      assert.equal(d.get('SH'), 3n);
      assert.equal(d.get('AF'), 1n);
      assert.equal(d.summary, 'page 0x40123000, RW, Normal WB (MemAttr 0xf), IS, AF');
      assert.deepEqual(d.problems, []);
      // With S2FWB io-pgtable writes MEMATTR_FWB_WB (0x6<<2 = 0x18) instead of 0x3c:
      // 0x7ff - 0x3c + 0x18 = 0x7db -> 0x401237db
      const fwb: PteFormat = { ...fmt, s2fwb: true };
      const f = decode(pteLayoutFor(0x401237dbn, fwb), [0x401237dbn]);
      assert.equal(f.layout.kind, 'pte.s2.4k.l3.page.fwb');
      assert.equal(f.field('MemAttr')?.valueName, 'FWB_WB');
      assert.deepEqual(f.problems, []);
      // ... and OIWB (0xf) is reserved there (MemAttr[3], bit 5, is RES0 with S2FWB).
      assert.deepEqual(problemIds(pteLayoutFor(w, fwb), w), ['reserved-value']);
    });

    it('stage 2 table descriptor', () => {
      // table at 0x40005000 | TYPE_TABLE 3 = 0x40005003; stage 2 tables carry no attributes.
      const fmt: PteFormat = { stage: 2, granule: 4, level: 1 };
      const d = decode(pteLayoutFor(0x40005003n, fmt), [0x40005003n]);
      assert.equal(d.layout.kind, 'pte.s2.4k.l1.table');
      assert.equal(d.get('NLTA'), 0x40005000n);
      assert.equal(d.summary, 'table → 0x40005000');
      assert.equal(d.layout.fields.find((f) => f.name === 'NSTable'), undefined);
      // Bit 63 (NSTable at stage 1) is RES0 at stage 2: 0x8000000040005003
      assert.deepEqual(problemIds(d.layout, 0x8000000040005003n), ['res0']);
    });

    it('LPA2 4K page: OA[51:50] in bits [9:8]', () => {
      // PA 0x000a_1234_5678_9000: OA[51:48] = 0xa = 0b1010 -> OA[51:50] = 0b10, OA[49:48] = 0b10.
      //   in place [49:12]: 0x0002_1234_5678_9000; [9:8] = 0b10 -> 0x200
      //   attrs without SH (its bits hold the OA): nG 0x800 + AF 0x400 + AP 0x40 + AttrIndx 0x4 + 3 = 0xc47
      //   0xc47 | 0x200 = 0xe47 -> 0x0002_1234_5678_9e47
      const fmt: PteFormat = { stage: 1, granule: 4, level: 3, ds: true };
      const w = 0x0002123456789e47n;
      const d = decode(pteLayoutFor(w, fmt), [w], { oas: 52 });
      assert.equal(d.layout.kind, 'pte.s1.4k.l3.page.ds');
      assert.equal(d.layout.title, 'Stage 1 page descriptor (4KB granule, level 3, 52-bit OA (LPA2))');
      assert.equal(d.field('SH'), undefined);
      assert.equal(d.get('OA51_50'), 2n);
      assert.equal(d.get('OA'), 0x0002123456789000n);
      assert.equal(outputAddress(w, fmt), 0x000a123456789000n);
      assert.equal(makeOutputAddressBits(0x000a123456789000n, fmt, 'page'), 0x0002123456789200n);
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'page 0xa123456789000, RW, EL0, Normal WB (AttrIndx 1), AF, nG');
    });

    it('LPA2 table and 16K DS block', () => {
      // 4K level 0 DS table at 0x000c_0000_4000_0000: [51:50] = 0b11 -> bits [9:8] = 0x300;
      // [49:12] = 0x0000_0000_4000_0000 -> 0x40000000 | 0x300 | 3 = 0x40000303
      const t: PteFormat = { stage: 1, granule: 4, level: 0, ds: true };
      assert.equal(outputAddress(0x40000303n, t), 0x000c000040000000n);
      // 16K level 1 block exists only with DS: 64G = 1<<36; OA 0x10_0000_0000 (= 1<<36) | 1 = 0x1000000001
      const b: PteFormat = { stage: 1, granule: 16, level: 1, ds: true };
      assert.equal(descriptorType(0x1000000001n, b), 'block');
      assert.equal(descriptorType(0x1000000001n, { ...b, ds: false }), 'reserved');
      assert.equal(outputAddress(0x1000000001n, b), 0x1000000000n);
    });
  });

  describe('descriptorType', () => {
    it('decodes bits [1:0] per granule and level', () => {
      const t = (w: bigint, f: PteFormat): DescriptorType => descriptorType(w, f);
      assert.equal(t(0n, S1_4K_L3), 'invalid');
      assert.equal(t(2n, S1_4K_L3), 'invalid'); // 0b10: bit 0 clear
      assert.equal(t(1n, S1_4K_L3), 'reserved'); // 0b01 at level 3
      assert.equal(t(3n, S1_4K_L3), 'page');
      assert.equal(t(3n, S1_4K_L2), 'table');
      assert.equal(t(1n, S1_4K_L2), 'block');
      assert.equal(t(1n, S1_4K_L1), 'block');
      assert.equal(t(1n, { stage: 1, granule: 4, level: 0 }), 'reserved');
      assert.equal(t(1n, { stage: 1, granule: 4, level: 0, ds: true }), 'block');
      assert.equal(t(1n, { stage: 1, granule: 16, level: 2 }), 'block');
      assert.equal(t(1n, { stage: 1, granule: 16, level: 1 }), 'reserved');
      assert.equal(t(1n, { stage: 1, granule: 16, level: 0, ds: true }), 'reserved');
      assert.equal(t(1n, { stage: 2, granule: 64, level: 1 }), 'reserved');
      assert.equal(t(1n, { stage: 2, granule: 64, level: 1, pa52: true }), 'block');
      assert.equal(t(3n, { stage: 2, granule: 64, level: 0 }), 'reserved'); // 64K has no level 0
      // ds is a 4K/16K control, pa52 a 64K one: the other is ignored
      assert.equal(t(1n, { stage: 1, granule: 64, level: 1, ds: true }), 'reserved');
      assert.equal(t(1n, { stage: 1, granule: 4, level: 0, pa52: true }), 'reserved');
    });

    it('maps requested types through their encoding and memoizes', () => {
      assert.equal(pteLayout(S1_4K_L3, 'block').kind, 'pte.s1.4k.l3.reserved');
      assert.equal(pteLayout(S1_4K_L3, 'table').kind, 'pte.s1.4k.l3.page');
      assert.equal(pteLayout(S1_4K_L2, 'page').kind, 'pte.s1.4k.l2.table');
      assert.equal(pteLayout(S1_4K_L3, 'page'), pteLayout({ stage: 1, granule: 4, level: 3 }, 'page'));
      assert.equal(pteLayout({ ...S1_4K_L3, pa52: true }, 'page'), pteLayout(S1_4K_L3, 'page'));
      assert.equal(pteLayoutFor(0n, S1_4K_L3).kind, 'pte.s1.4k.l3.invalid');
    });
  });

  describe('geometry', () => {
    it('levelGeometry', () => {
      // 4K: 9 bits per level; shifts 12 / 21 / 30 / 39
      assert.deepEqual(levelGeometry(4, 3), { indexLo: 12, indexBits: 9, blockSize: 0x1000n });
      assert.deepEqual(levelGeometry(4, 2), { indexLo: 21, indexBits: 9, blockSize: 0x200000n });
      assert.deepEqual(levelGeometry(4, 1), { indexLo: 30, indexBits: 9, blockSize: 0x40000000n });
      assert.deepEqual(levelGeometry(4, 0), { indexLo: 39, indexBits: 9, blockSize: 0x8000000000n }); // 512G (DS)
      // 16K: 11 bits; shifts 14 / 25 / 36 / 47
      assert.deepEqual(levelGeometry(16, 3), { indexLo: 14, indexBits: 11, blockSize: 0x4000n });
      assert.deepEqual(levelGeometry(16, 2), { indexLo: 25, indexBits: 11, blockSize: 0x2000000n }); // 32M
      assert.deepEqual(levelGeometry(16, 1), { indexLo: 36, indexBits: 11, blockSize: 0x1000000000n }); // 64G (DS)
      assert.deepEqual(levelGeometry(16, 0), { indexLo: 47, indexBits: 11, blockSize: undefined });
      // 64K: 13 bits; shifts 16 / 29 / 42
      assert.deepEqual(levelGeometry(64, 3), { indexLo: 16, indexBits: 13, blockSize: 0x10000n });
      assert.deepEqual(levelGeometry(64, 2), { indexLo: 29, indexBits: 13, blockSize: 0x20000000n }); // 512M
      assert.deepEqual(levelGeometry(64, 1), { indexLo: 42, indexBits: 13, blockSize: 0x40000000000n }); // 4T (pa52)
      assert.throws(() => levelGeometry(64, 0), RangeError);
    });

    it('startLevel / levels / topIndexBits per io-pgtable formula', () => {
      // levels = ceil((ias - log2(granule)) / bpl), start = 4 - levels
      // 4K 48-bit: (48-12)/9 = 4 -> start 0, 4 levels, top 36 - 27 = 9 bits
      assert.equal(startLevel(4, 48), 0); assert.equal(levels(4, 48), 4); assert.equal(topIndexBits(4, 48), 9);
      // 4K 39-bit: 27/9 = 3 -> start 1
      assert.equal(startLevel(4, 39), 1); assert.equal(levels(4, 39), 3);
      // 4K 32-bit: ceil(20/9) = 3 -> start 1, top 20 - 18 = 2 bits
      assert.equal(startLevel(4, 32), 1); assert.equal(topIndexBits(4, 32), 2);
      // 64K 48-bit: ceil(32/13) = 3 -> start 1, top 32 - 26 = 6 bits
      assert.equal(startLevel(64, 48), 1); assert.equal(levels(64, 48), 3); assert.equal(topIndexBits(64, 48), 6);
      // 64K 52-bit: ceil(36/13) = 3 -> start 1, top 10 bits
      assert.equal(startLevel(64, 52), 1); assert.equal(topIndexBits(64, 52), 10);
      // 64K 42-bit: 26/13 = 2 -> start 2
      assert.equal(startLevel(64, 42), 2);
      // 16K 47-bit: 33/11 = 3 -> start 1, full 11-bit top table
      assert.equal(startLevel(16, 47), 1); assert.equal(topIndexBits(16, 47), 11);
      // 16K 48-bit: ceil(34/11) = 4 -> start 0 with a 1-bit (2-entry) level 0
      assert.equal(startLevel(16, 48), 0); assert.equal(topIndexBits(16, 48), 1);
      // 4K 52-bit (DS) would need level -1: not modelled
      assert.throws(() => startLevel(4, 52), RangeError);
      assert.throws(() => startLevel(4, 12), RangeError);
      assert.throws(() => startLevel(64, 53), RangeError);
    });

    it('contiguous run lengths', () => {
      assert.equal(contiguousEntries(4, 3), 16);
      assert.equal(contiguousEntries(16, 3), 128);
      assert.equal(contiguousEntries(16, 2), 32);
      assert.equal(contiguousEntries(64, 3), 32);
    });

    it('makeOutputAddressBits rejects what the descriptor cannot hold', () => {
      assert.throws(() => makeOutputAddressBits(0x80001000n, S1_4K_L2, 'block'), /not aligned to 2M/);
      assert.throws(() => makeOutputAddressBits(1n << 48n, S1_4K_L3, 'page'), /does not fit in 48 bits/);
      assert.throws(() => makeOutputAddressBits(0x1000n, S1_4K_L3, 'block'), RangeError);
      assert.equal(makeOutputAddressBits(0x40002000n, S1_4K_L2, 'table'), 0x40002000n);
    });
  });

  describe('rules', () => {
    const block = pteLayout(S1_4K_L2, 'block');
    const page = pteLayout(S1_4K_L3, 'page');

    it('align: RES0 bits inside a block OA', () => {
      // 0x80000fc5 with OA bit 12 set: 0x80001fc5 -> block base still 0x80000000, bit 12 stray
      const p = decode(block, [0x80001fc5n]).problems;
      assert.ok(p.some((x) => x.rule === 'align' && x.field === 'OA' && x.severity === 'warning'));
      assert.ok(p.some((x) => x.rule === 'res0' && x.field === 'RES0[15:12]'));
      assert.deepEqual(problemIds(block, 0x80000fc5n), []);
      // nT (bit 16) is not an alignment problem: 0x80000fc5 | 0x10000 = 0x80010fc5
      assert.deepEqual(problemIds(block, 0x80010fc5n), []);
      // 64K page without pa52: bits [15:12] are RES0 (OA[51:48] only with pa52)
      const p64 = pteLayout({ stage: 1, granule: 64, level: 3 }, 'page');
      assert.ok(problemIds(p64, 0x123456708f47n).includes('align'));
    });

    it('reserved-type: 0b01 at level 3', () => {
      // io-pgtable's page attrs with the block type: 0x40123f45
      const l = pteLayoutFor(0x40123f45n, S1_4K_L3);
      assert.equal(l.kind, 'pte.s1.4k.l3.reserved');
      const p = decode(l, [0x40123f45n]).problems;
      assert.equal(p.length, 1);
      assert.equal(p[0].rule, 'reserved-type');
      assert.equal(p[0].severity, 'error');
      assert.equal(p[0].field, 'Type');
      assert.match(p[0].message, /Translation fault/);
      assert.equal(decode(l, [0x40123f45n]).summary, 'reserved encoding 0b01 at level 3 (translation fault)');
    });

    it('type: the word does not match the layout', () => {
      assert.deepEqual(problemIds(page, 0x40123f45n), ['type']);
      assert.deepEqual(problemIds(pteLayout(S1_4K_L3, 'invalid'), 0x40123f47n), ['type']);
      assert.deepEqual(problemIds(pteLayout(S1_4K_L3, 'invalid'), 0x40123f46n), []); // 0b10: invalid
    });

    it('access-flag: AF=0', () => {
      // 0x40123f47 without AF (0x400): 0x40123b47
      const p = decode(page, [0x40123b47n]).problems;
      assert.deepEqual(p.map((x) => [x.rule, x.field, x.severity]), [['access-flag', 'AF', 'warning']]);
      assert.match(p[0].message, /F_ACCESS/);
      assert.equal(decode(page, [0x40123b47n]).summary, 'page 0x40123000, RW, EL0, Normal WB (AttrIndx 1), IS, no AF, nG');
    });

    it('reserved-value: stage 2 MemAttr with inner cacheability 0b00', () => {
      // 0x401237ff with MemAttr 0b0100 instead of 0b1111: 0x7ff - 0x3c + 0x10 = 0x7d3 -> 0x401237d3
      const l = pteLayout({ stage: 2, granule: 4, level: 3 }, 'page');
      const p = decode(l, [0x401237d3n]).problems;
      assert.deepEqual(p.map((x) => [x.rule, x.field]), [['reserved-value', 'MemAttr']]);
      // Same name as STE.MemAttr's 0b0100, but CONSTRAINED UNPREDICTABLE here (the STE's behaves as Device-nGnRnE).
      assert.match(p[0].message, /^MemAttr = RESERVED_0100 is reserved: .*CONSTRAINED UNPREDICTABLE/);
      // io-pgtable's other codes are valid: NC 0x5 (0x14) -> 0x401237d7; DEV 0x1 (0x4) -> 0x401237c7
      assert.deepEqual(problemIds(l, 0x401237d7n), []);
      assert.deepEqual(problemIds(l, 0x401237c7n), []);
    });

    it('reserved-value: SH=0b01', () => {
      // 0x40123f47 with SH 0b01 (0x100) instead of 0b11: 0x40123d47
      assert.deepEqual(problemIds(page, 0x40123d47n), ['reserved-value']);
      // In a descriptor the reserved code is CONSTRAINED UNPREDICTABLE, not "as Non-shareable" as in the STE/CD.
      assert.match(decode(page, [0x40123d47n]).problems[0].message, /CONSTRAINED UNPREDICTABLE/);
    });

    it('addr-size: output address above ctx.oas', () => {
      // 1T block... use a 4K page at 0x100_0000_0000 (bit 40) with a 40-bit OAS: 0x10000000f47
      const p = decode(page, [0x10000000f47n], { oas: 40 }).problems;
      assert.deepEqual(p.map((x) => [x.rule, x.field, x.severity]), [['addr-size', 'OA', 'error']]);
      assert.match(p[0].message, /F_ADDR_SIZE/);
      assert.deepEqual(problemIds(page, 0xfffffff000n | 0xf47n, { oas: 40 }), []);
      assert.deepEqual(problemIds(page, 0x10000000f47n), []); // no OAS known: not checked
      // Table addresses are checked too
      const table = pteLayout(S1_4K_L2, 'table');
      assert.deepEqual(problemIds(table, 0x10000000003n, { oas: 40 }), ['addr-size']);
    });

    it('xn: stage 2 XN=0b11 as io-pgtable writes for IOMMU_NOEXEC', () => {
      // 0x401237ff | 3<<53 (0x0060000000000000) = 0x00600000401237ff
      const l = pteLayout({ stage: 2, granule: 4, level: 3 }, 'page');
      assert.deepEqual(problemIds(l, 0x00600000401237ffn), ['xn']);
      // XN=0b10 (bit 54 only, 0x0040000000000000) is the unambiguous form
      assert.deepEqual(problemIds(l, 0x00400000401237ffn), []);
    });

    it('Contiguous alone is not a problem', () => {
      // 0x40123f47 | 1<<52 = 0x0010000040123f47
      const d = decode(page, [0x0010000040123f47n]);
      assert.deepEqual(d.problems, []);
      assert.match(d.summary, /contiguous$/);
    });
  });

  describe('every layout', () => {
    const layouts = allPteLayouts();
    const named = (l: Layout): FieldSpec[] => l.fields.filter((f) => f.kind !== 'reserved');

    it('accounts for every bit exactly once and names each kind once', () => {
      const kinds = new Set<string>();
      for (const l of layouts) {
        assert.ok(!kinds.has(l.kind), l.kind);
        kinds.add(l.kind);
        const seen = new Array<number>(64).fill(0);
        for (const f of l.fields) for (let b = f.lo; b <= f.hi; b++) seen[b]++;
        assert.equal(seen.findIndex((n) => n !== 1), -1, l.kind);
      }
      assert.ok(layouts.length > 60, `${layouts.length}`);
    });

    it('round-trips every named field, leaving the others unchanged', () => {
      for (const l of layouts) {
        for (const f of named(l)) {
          const ones = mask(f.hi - f.lo + 1);
          const v = f.kind === 'address' ? ones << BigInt(f.lo) : ones;
          const d = decode(l, setField(l, [0n], f.name, v));
          assert.equal(d.get(f.name), v, `${l.kind}.${f.name}`);
          for (const o of named(l)) if (o !== f) assert.equal(d.get(o.name), 0n, `${l.kind}: ${f.name} leaked into ${o.name}`);
          for (const a of f.aliases ?? []) assert.equal(d.get(a), v, `${l.kind}.${a}`);
        }
      }
    });

    it('never throws on any word', () => {
      const word = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
      for (const l of layouts) {
        fc.assert(fc.property(word, (w) => {
          const d = decode(l, [w], { oas: 44, httu: 2 });
          describeText(d);
          JSON.stringify(toJson(d));
          return typeof d.summary === 'string';
        }), { numRuns: 15 });
      }
    });

    it('outputAddress and makeOutputAddressBits are inverse', () => {
      const fmts: PteFormat[] = [
        S1_4K_L3, S1_4K_L2, S1_4K_L1, { stage: 2, granule: 16, level: 2 }, { stage: 1, granule: 64, level: 2, pa52: true },
        { stage: 1, granule: 64, level: 1, pa52: true }, { stage: 2, granule: 4, level: 0, ds: true }, { stage: 1, granule: 16, level: 3, ds: true },
      ];
      for (const fmt of fmts) {
        for (const type of ['table', 'block', 'page'] as const) {
          const bits = type === 'block' ? 1n : 3n;
          if (descriptorType(bits, fmt) !== type) continue;
          fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }), (a) => {
            const top = fmt.ds || fmt.pa52 ? 52n : 48n;
            const lo = BigInt(type === 'block' ? levelGeometry(fmt.granule, fmt.level).indexLo : { 4: 12, 16: 14, 64: 16 }[fmt.granule]);
            const addr = a & mask(Number(top)) & ~mask(Number(lo));
            return outputAddress(makeOutputAddressBits(addr, fmt, type) | bits, fmt) === addr;
          }), { numRuns: 30 });
        }
      }
    });
  });
});
