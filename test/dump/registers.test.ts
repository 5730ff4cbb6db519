import { strict as assert } from 'node:assert';
import { dumpRegisters, featuresFromIdRegs, parseRegisterList, registerMap } from '../../src/dump/registers';
import { DumpError } from '../../src/dump/source';
import { DEFAULT_FEATURES } from '../../src/model/smmu/features';

const isDumpError = (re: RegExp) => (e: unknown): boolean => e instanceof DumpError && re.test(e.message);

/**
 * The ID registers of an SMMU with stage 1 only, hand-encoded (facts §1):
 * IDR0: S1P [1] 0x2 | TTF AArch64 (2 << 2) 0x8 | COHACC [4] 0x10 | ASID16 [12] 0x1000 |
 *       TTENDIAN LE (2 << 21) 0x40_0000 | STALL_MODEL 1 (<< 24) 0x100_0000 | TERM_MODEL [26] 0x400_0000 |
 *       ST_LEVEL 1 (<< 27) 0x800_0000 = 0x0d40_101a
 * IDR1: SIDSIZE 16 | EVENTQS 19 << 16 = 0x13_0000 | CMDQS 19 << 21 = 0x260_0000 = 0x0273_0010
 * IDR5: OAS 5 (48 bits) | GRAN4K [4] 0x10 | GRAN64K [6] 0x40 = 0x55
 */
const IDR0 = 0x0d40_101a;
const IDR1 = 0x0273_0010;
const IDR5 = 0x55;

describe('dump/registers', () => {
  it('reads NAME=HEX lists, with the SMMU_ prefix and the kernel\'s EVTQ_ spelling', () => {
    const r = parseRegisterList(['STRTAB_BASE=0x4000_0000', 'smmu_strtab_base_cfg=10210', 'EVTQ_BASE=0x1, CR0=5']);
    assert.deepEqual([...r], [['STRTAB_BASE', 0x4000_0000n], ['STRTAB_BASE_CFG', 0x10210n], ['EVENTQ_BASE', 1n], ['CR0', 5n]]);
  });

  it('says what is wrong with a register item', () => {
    assert.throws(() => parseRegisterList(['STRTAB_BASE']), isDumpError(/register 'STRTAB_BASE': expected NAME=HEX/));
    assert.throws(() => parseRegisterList(['STRTB_BASE=1']), isDumpError(/unknown SMMU register 'STRTB_BASE' — did you mean 'STRTAB_BASE'\?/));
    assert.throws(() => parseRegisterList(['CR0=0x1_0000_0000']), isDumpError(/CR0=0x100000000 does not fit the 32-bit register/));
    assert.throws(() => parseRegisterList(['CR0ACK=1']), isDumpError(/CR0ACK follows CR0: give CR0 instead/));
    assert.throws(() => parseRegisterList(['CR0=one']), isDumpError(/the value of CR0 'one' is not a hexadecimal number/));
  });

  it('takes launch-configuration registers as an object or a list', () => {
    assert.deepEqual([...registerMap({ strtab_base: '0x4000_0000', STRTAB_BASE_CFG: 0x10210 })], [['STRTAB_BASE', 0x4000_0000n], ['STRTAB_BASE_CFG', 0x10210n]]);
    assert.deepEqual([...registerMap(['CR2=2'])], [['CR2', 2n]]);
    assert.deepEqual([...registerMap(undefined)], []);
    assert.throws(() => registerMap(42), isDumpError(/"registers" must be an object of NAME: "HEX"/));
    assert.throws(() => registerMap({ CR0: true }), isDumpError(/register CR0: expected a hex string/));
  });

  it('names the missing stream table registers and where to find them', () => {
    assert.throws(() => dumpRegisters(new Map()), isDumpError(/missing STRTAB_BASE and STRTAB_BASE_CFG: the stream table's place is held only in the SMMU's registers.*devmem at the SMMU base \+ 0x80 and \+ 0x88/));
    assert.throws(() => dumpRegisters(new Map([['STRTAB_BASE', 0x4000_0000n]])), isDumpError(/^missing STRTAB_BASE_CFG:/));
  });

  it('defaults CR0 to SMMUEN with the queues whose bases are given, and the platform\'s SMMU', () => {
    const r = dumpRegisters(new Map([['STRTAB_BASE', 0x4000_0000n], ['STRTAB_BASE_CFG', 0x10210n], ['CMDQ_BASE', 0x4100_0008n]]));
    // SMMUEN [0] 0x1 | CMDQEN [3] 0x8
    assert.equal(r.values.get('CR0'), 0x9n);
    assert.deepEqual(r.features, DEFAULT_FEATURES);
    assert.ok(r.notes.some((n) => /CR0 not given: taken as 0x9 \(SMMUEN, CMDQEN\)/.test(n)));
    assert.deepEqual([...r.given].sort(), ['CMDQ_BASE', 'STRTAB_BASE', 'STRTAB_BASE_CFG']);
    // Without IDR1, room for a table of 2^20 StreamIDs (LOG2SIZE 20: 0x10200 | 0x14).
    const wide = dumpRegisters(new Map([['STRTAB_BASE', 0x4000_0000n], ['STRTAB_BASE_CFG', 0x10214n]]));
    assert.equal(wide.features.sidBits, 20);
  });

  it('notes an enabled queue whose base was not given', () => {
    // CR0 0xd: SMMUEN | EVENTQEN (4) | CMDQEN (8); only EVENTQ_BASE given.
    const r = dumpRegisters(new Map([['STRTAB_BASE', 0x4000_0000n], ['STRTAB_BASE_CFG', 0x10210n], ['CR0', 0xdn], ['EVENTQ_BASE', 0x4100_0007n]]));
    assert.deepEqual(r.notes.filter((n) => /^CR0\./.test(n)), ['CR0.CMDQEN is set but CMDQ_BASE was not given: that queue is not shown']);
  });

  it('turns the ID registers into the model\'s features', () => {
    const f = featuresFromIdRegs(IDR0, IDR1, 0, IDR5);
    assert.deepEqual(f, {
      stage1: true, stage2: false, sidBits: 16, ssidBits: 0, oasBits: 48, granules: [4, 64], asid16: true, vmid16: false,
      twoLevelStreamTable: true, twoLevelCdTable: false, rangeInvalidation: false, attrTypesOverride: false, stallModel: 1,
      httu: 0, ats: false, pri: false, msi: false, sev: false, hyp: false, cohacc: true, bbml: 0, fwb: false, vax: false,
      stt: false, cmdqs: 19, eventqs: 19, priqs: 0,
    });
    const r = dumpRegisters(new Map([['STRTAB_BASE', 0x4000_0000n], ['STRTAB_BASE_CFG', 0x10210n], ['IDR0', BigInt(IDR0)], ['IDR1', BigInt(IDR1)], ['IDR5', BigInt(IDR5)]]));
    // IDR3 comes from the platform's default SMMU: RIL, BBML2 and FWB.
    assert.deepEqual(r.features, { ...f, rangeInvalidation: true, bbml: 2, fwb: true });
    assert.ok(r.notes.some((n) => /IDR3 not given: the platform's default SMMU fills them/.test(n)));
  });

  it('refuses ID registers the model cannot follow', () => {
    // TTF 1 (AArch32 only): 0x0d40_101a - 0x8 + 0x4
    assert.throws(() => featuresFromIdRegs(IDR0 - 0x8 + 0x4, IDR1, 0, IDR5), isDumpError(/IDR0\.TTF is 1: without AArch64 tables/));
    // OAS 7 (56 bits): 0x55 - 5 + 7
    assert.throws(() => featuresFromIdRegs(IDR0, IDR1, 0, IDR5 + 2), isDumpError(/IDR5\.OAS is 56 bits/));
    // Neither stage: without S1P (0x2)
    assert.throws(() => featuresFromIdRegs(IDR0 - 0x2, IDR1, 0, IDR5), isDumpError(/impossible SMMU: an SMMU implements stage 1, stage 2 or both/));
  });

  it('notes what the SMMU makes of the stream table registers', () => {
    // 2-level, 256 L1 descriptors (2 KiB): a base at 0x4000_0100 is not aligned.
    const r = dumpRegisters(new Map([['STRTAB_BASE', 0x4000_0100n], ['STRTAB_BASE_CFG', 0x10210n]]));
    assert.ok(r.notes.some((n) => /error: ADDR: stream table base 0x40000100 is not aligned to the L1 table \(256 descriptors of 8 bytes\), 0x800 bytes/.test(n)), r.notes.join('\n'));
  });
});
