/**
 * The shared value lists: their codes worked out from the specification's tables (IHI 0070
 * 5.2 STE.S1CSH/S2IR0/S2TG/S2PS/MemAttr, 5.4 CD.TG1), and that each table that uses an
 * encoding takes it from here rather than a copy.
 */
import { strict as assert } from 'node:assert';
import { CD } from '../../src/arch/cd';
import { findField } from '../../src/arch/codec';
import { commandByName } from '../../src/arch/commands';
import {
  ADDRESS_SIZE_BITS, allocHintsText, effectiveSplit, INST_OVERRIDE, MEMATTR, OUTPUT_SIZE, PRIV_OVERRIDE, SHAREABILITY,
  SHAREABILITY_OVERRIDE, TG0_GRANULES, TG0_KB, TG1_KB, WALK_CACHEABILITY, withNotes,
} from '../../src/arch/encodings';
import { EnumValue, Layout } from '../../src/arch/field';
import { pteLayout } from '../../src/arch/pte';
import { CR1, DPT_BASE_CFG, EVENTQ_IRQ_CFG2, GBPA, IDR5 } from '../../src/arch/registers';
import { STE } from '../../src/arch/ste';

const valuesOf = (l: Layout, field: string): readonly EnumValue[] | undefined => findField(l, field)?.values;
const names = (values: readonly EnumValue[] | undefined): string[] => (values ?? []).map((v) => `${v.value}:${v.name}`);

describe('arch/encodings', () => {
  it('shareability: one list for every SH field that means the same', () => {
    assert.deepEqual(names(SHAREABILITY), ['0:NSH', '1:RESERVED', '2:OSH', '3:ISH']);
    assert.equal(SHAREABILITY[1].reserved, true);
    const sync = commandByName('SYNC');
    assert.ok(sync);
    for (const [l, f] of [[STE, 'S1CSH'], [STE, 'S2SH0'], [CD, 'SH0'], [CD, 'SH1'], [sync, 'MSH'], [CR1, 'TABLE_SH'],
      [CR1, 'QUEUE_SH'], [EVENTQ_IRQ_CFG2, 'SH']] as const) {
      assert.equal(valuesOf(l, f), SHAREABILITY, `${l.kind}.${f}`);
    }
    // A descriptor's SH has the same codes and names, with io-pgtable's notes and its own reserved meaning.
    const pteSh = valuesOf(pteLayout({ stage: 1, granule: 4, level: 3 }, 'page'), 'SH');
    assert.deepEqual(names(pteSh), names(SHAREABILITY));
    assert.match(pteSh![1].meaning, /CONSTRAINED UNPREDICTABLE/);
    // SHCFG: 0b01 keeps the incoming shareability; the other codes are the same.
    assert.deepEqual(names(SHAREABILITY_OVERRIDE), ['0:NSH', '1:INCOMING', '2:OSH', '3:ISH']);
    assert.equal(SHAREABILITY_OVERRIDE[1].reserved, undefined);
    assert.equal(valuesOf(STE, 'SHCFG'), SHAREABILITY_OVERRIDE);
    assert.equal(valuesOf(GBPA, 'SHCFG'), SHAREABILITY_OVERRIDE);
  });

  it('attribute overrides: STE and GBPA share PRIVCFG and INSTCFG', () => {
    assert.deepEqual(names(PRIV_OVERRIDE), ['0:INCOMING', '1:RESERVED', '2:UNPRIV', '3:PRIV']);
    assert.deepEqual(names(INST_OVERRIDE), ['0:INCOMING', '1:RESERVED', '2:DATA', '3:INSTR']);
    assert.equal(valuesOf(STE, 'PRIVCFG'), PRIV_OVERRIDE);
    assert.equal(valuesOf(GBPA, 'PRIVCFG'), PRIV_OVERRIDE);
    assert.equal(valuesOf(STE, 'INSTCFG'), INST_OVERRIDE);
    assert.equal(valuesOf(GBPA, 'INSTCFG'), INST_OVERRIDE);
    // ALLOCCFG 0b0xxx: incoming; 0b1101: RA=1 (bit 2), WA=0 (bit 1), TR=1 (bit 0).
    assert.equal(allocHintsText(0b0111n), 'use incoming hints');
    assert.equal(allocHintsText(0b1101n), 'override RA=1 WA=0 TR=1');
  });

  it('MemAttr: the STE.MemAttr encoding, shared by GBPA, IRQ_CFG2 and CMD_SYNC.MSIAttr', () => {
    assert.equal(MEMATTR.length, 16);
    // [3:2] outer, [1:0] inner; outer 0b00 is Device, inner 0b00 with a Normal outer is reserved.
    const byValue = (v: number): EnumValue => MEMATTR[v];
    assert.equal(byValue(0b0000).name, 'DEVICE_nGnRnE');
    assert.equal(byValue(0b0001).name, 'DEVICE_nGnRE');
    assert.equal(byValue(0b0011).name, 'DEVICE_GRE');
    for (const v of [0b0100, 0b1000, 0b1100]) {
      assert.equal(byValue(v).name, `RESERVED_${v.toString(2).padStart(4, '0')}`);
      assert.equal(byValue(v).reserved, true);
      assert.match(byValue(v).meaning, /Device-nGnRnE/);
    }
    assert.equal(byValue(0b0101).name, 'NC'); // outer NC, inner NC (io-pgtable MEMATTR_NC)
    assert.equal(byValue(0b0110).name, 'ONC_IWT');
    assert.equal(byValue(0b1010).name, 'OIWT');
    assert.equal(byValue(0b1101).name, 'OWB_INC');
    assert.equal(byValue(0b1111).name, 'OIWB'); // io-pgtable MEMATTR_OIWB
    assert.equal(byValue(0b1101).meaning, 'Normal, outer Write-Back, inner Non-cacheable');
    const sync = commandByName('SYNC');
    assert.ok(sync);
    for (const [l, f] of [[STE, 'MemAttr'], [GBPA, 'MemAttr'], [EVENTQ_IRQ_CFG2, 'MemAttr'], [sync, 'MSIAttr']] as const) {
      assert.equal(valuesOf(l, f), MEMATTR, `${l.kind}.${f}`);
    }
    // A stage 2 descriptor: same names, io-pgtable notes, reserved codes CONSTRAINED UNPREDICTABLE.
    const pte = valuesOf(pteLayout({ stage: 2, granule: 4, level: 3 }, 'page'), 'MemAttr');
    assert.deepEqual(names(pte), names(MEMATTR));
    assert.match(pte![0xf].meaning, /MEMATTR_OIWB/);
    assert.match(pte![0b0100].meaning, /CONSTRAINED UNPREDICTABLE/);
  });

  it('walk cacheability: the TCR IRGN/ORGN encoding for CD.IRx/ORx and STE.S2IR0/S2OR0', () => {
    assert.deepEqual(names(WALK_CACHEABILITY), ['0:NC', '1:WBWA', '2:WT', '3:WB']);
    for (const [l, f] of [[STE, 'S2IR0'], [STE, 'S2OR0'], [CD, 'IR0'], [CD, 'OR1']] as const) {
      assert.equal(valuesOf(l, f), WALK_CACHEABILITY, `${l.kind}.${f}`);
    }
    // STE.S1CIR is another encoding (0b01 read-allocate, 0b11 no read-allocate): not shared.
    assert.notEqual(valuesOf(STE, 'S1CIR'), WALK_CACHEABILITY);
  });

  it('granules: TG0 codes (4K 0, 64K 1, 16K 2) and TG1 codes (16K 1, 4K 2, 64K 3)', () => {
    assert.deepEqual(names(TG0_GRANULES), ['0:4K', '1:64K', '2:16K']);
    assert.deepEqual({ ...TG0_KB }, { 0: 4, 1: 64, 2: 16 });
    assert.deepEqual({ ...TG1_KB }, { 1: 16, 2: 4, 3: 64 });
    assert.equal(valuesOf(STE, 'S2TG'), TG0_GRANULES);
    assert.deepEqual(names(valuesOf(CD, 'TG0')), ['0:4K', '1:64K', '2:16K', '3:RESERVED']);
    assert.deepEqual(names(valuesOf(CD, 'TG1')), ['0:RESERVED', '1:16K', '2:4K', '3:64K']);
    assert.deepEqual(names(valuesOf(DPT_BASE_CFG, 'DPTGS')), ['0:4K', '1:64K', '2:16K', '3:RESERVED_3']);
  });

  it('address sizes: the PS encoding for S2PS, IPS, OAS and DPTPS', () => {
    assert.deepEqual([...ADDRESS_SIZE_BITS], [32, 36, 40, 42, 44, 48, 52, 56]);
    assert.deepEqual(OUTPUT_SIZE.map((v) => v.name), ['32_BIT', '36_BIT', '40_BIT', '42_BIT', '44_BIT', '48_BIT', '52_BIT', '56_BIT']);
    // 2^40 bytes = 1 TB; 2^48 = 256 TB.
    assert.match(OUTPUT_SIZE[2].meaning, /^40-bit output addresses \(1 TB\)$/);
    assert.match(OUTPUT_SIZE[5].meaning, /^48-bit output addresses \(256 TB\)$/);
    assert.match(OUTPUT_SIZE[6].meaning, /SMMUv3\.0/);
    assert.equal(valuesOf(STE, 'S2PS'), OUTPUT_SIZE);
    assert.equal(valuesOf(CD, 'IPS'), OUTPUT_SIZE);
    // IDR5.OAS says what the SMMU has: same codes and names, its own meaning.
    assert.deepEqual(names(valuesOf(IDR5, 'OAS')), names(OUTPUT_SIZE));
    assert.match(valuesOf(IDR5, 'OAS')![0].meaning, /^32-bit physical addresses/);
    // DPTPS stops at 52 bits; 0b111 is reserved.
    assert.deepEqual(names(valuesOf(DPT_BASE_CFG, 'DPTPS')), [...names(OUTPUT_SIZE).slice(0, 7), '7:RESERVED_7']);
  });

  it('withNotes adds notes or replaces parts, leaving the shared list alone', () => {
    const noted = withNotes(SHAREABILITY, { 0: 'a note', 1: { meaning: 'replaced', reserved: true } });
    assert.equal(noted[0].meaning, 'Non-shareable (a note)');
    assert.deepEqual(noted[1], { value: 1, name: 'RESERVED', meaning: 'replaced', reserved: true });
    assert.equal(noted[2], SHAREABILITY[2]);
    assert.equal(SHAREABILITY[0].meaning, 'Non-shareable');
  });

  it('SPLIT: 6, 8 and 10 are defined, others behave as 6', () => {
    assert.deepEqual([6, 7, 8, 9, 10, 11].map(effectiveSplit), [6, 6, 8, 6, 10, 6]);
  });
});
