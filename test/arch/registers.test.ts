/**
 * SMMUv3 register tables. Expected words and fields are worked out by hand from the
 * specification (IHI 0070, chapter 6) and the facts file; the arithmetic is in comments.
 */
import { strict as assert } from 'node:assert';
import { decode, describe as describeText, encode, validate } from '../../src/arch/codec';
import { ArchContext, mask, Problem } from '../../src/arch/field';
import {
  activeGlobalErrors, AIDR, checkQueueBase, checkStreamTable, CMDQ_BASE, CMDQ_CONS, CMDQ_PROD, contextFromIdRegs, CR0, CR0ACK,
  CR1, CR2, DPT_BASE, DPT_BASE_CFG, EVENTQ_CONS, EVENTQ_IRQ_CFG2, EVENTQ_PROD, GATOS_ADDR, GATOS_PAR, GATOS_PAR_FAULT,
  GATOS_SID, GBPA, GERROR, GERROR_IRQ_CFG0, IDR0, IDR1, IDR2, IDR3, IDR5, IDR6, IIDR, IRQ_CTRL, PRIQ_CONS,
  PRIQ_IRQ_CFG1, PRIQ_PROD, queuePointer, registerByName, registerByOffset, registerLayoutFor, RegisterContext, RegisterLayout,
  REGISTERS, STRTAB_BASE, STRTAB_BASE_CFG, VATOS_SEL,
} from '../../src/arch/registers';

const one = (l: RegisterLayout, v: bigint | number, ctx: ArchContext = {}) => decode(l, [BigInt(v)], ctx);

function has(problems: readonly Problem[], rule: string, field?: string): boolean {
  return problems.some((p) => p.rule === rule && (field === undefined || p.field === field));
}

/** The value breaks `rule` on `field`; `ok` is a nearby value that does not. */
function rule(l: RegisterLayout, bad: bigint | number, ok: bigint | number, id: string, field: string, ctx: ArchContext = {}): void {
  const p = validate(l, [BigInt(bad)], ctx);
  assert.ok(has(p, id, field), `${l.name} ${BigInt(bad).toString(16)}: expected ${id} on ${field}, got ${JSON.stringify(p)}`);
  for (const x of p.filter((q) => q.rule === id && q.field === field)) assert.ok(x.message.length > 20);
  const q = validate(l, [BigInt(ok)], ctx);
  assert.ok(!has(q, id, field), `${l.name} ${BigInt(ok).toString(16)}: unexpected ${id} on ${field}: ${JSON.stringify(q)}`);
}

// QEMU's virt SMMUv3 (qemu-and-other-models.md §A1), default stage=1:
//   IDR0: S1P [1] = 0x2; TTF=AArch64 0b10 << 2 = 0x8; COHACC [4] = 0x10; ASID16 [12] = 0x1000;
//         VMID16 [18] = 0x40000; TTENDIAN=LE 0b10 << 21 = 0x400000; STALL_MODEL=1 << 24 = 0x1000000;
//         TERM_MODEL [26] = 0x4000000; ST_LEVEL=2-level 1 << 27 = 0x8000000
//         0x2 + 0x8 + 0x10 + 0x1000 + 0x40000 + 0x400000 + 0x1000000 + 0x4000000 + 0x8000000 = 0x0d44101a
//   IDR1: CMDQS 19 << 21 = 0x2600000; EVENTQS 19 << 16 = 0x130000; SIDSIZE 16 = 0x10 → 0x02730010
//   IDR3: HAD [2] = 0x4; RIL [10] = 0x400; BBML 2 << 11 = 0x1000 → 0x1404
//   IDR5: OAS 44 bits = 0b100 = 0x4; GRAN4K|16K|64K = 0x10|0x20|0x40 = 0x70 → 0x74
const QEMU_IDR0 = 0x0d44101a;
const QEMU_IDR1 = 0x02730010;
const QEMU_IDR3 = 0x1404;
const QEMU_IDR5 = 0x74;

describe('arch registers', () => {
  describe('hand-worked values', () => {
    it('decodes QEMU\'s IDR0', () => {
      const d = one(IDR0, QEMU_IDR0);
      assert.equal(d.num('S1P'), 1);
      assert.equal(d.num('S2P'), 0);
      assert.equal(d.field('TTF')?.valueName, 'AARCH64');
      assert.equal(d.num('COHACC'), 1);
      assert.equal(d.num('ASID16'), 1);
      assert.equal(d.num('VMID16'), 1);
      assert.equal(d.field('TTENDIAN')?.valueName, 'LE');
      assert.equal(d.field('STALL_MODEL')?.valueName, 'NO_STALL');
      assert.equal(d.num('TERM_MODEL'), 1);
      assert.equal(d.field('st_lvl')?.valueName, '2LVL');
      for (const f of ['MSI', 'ATS', 'PRI', 'HTTU', 'CD2L', 'Hyp']) assert.equal(d.num(f), 0, f);
      assert.equal(d.summary, 'stage 1 only, 2-level stream table, coherent walks, ASID16 VMID16, no stall, AArch64 tables, LE walks');
      assert.deepEqual(d.problems, []);
      // stage=nested adds S2P [0]: 0x0d44101a | 1 = 0x0d44101b.
      assert.ok(one(IDR0, 0x0d44101b).summary.startsWith('stages 1+2, 2-level stream table, coherent walks, ASID16 VMID16'));
    });

    it('encodes QEMU\'s IDR0 from its fields (kernel spellings too)', () => {
      const w = encode(IDR0, {
        s1p: 1, ttf: 'AARCH64', cohacc: 1, asid16: 1, vmid16: 1, ttendian: 'LE', stall_model: 'NO_STALL', term_model: 1, st_lvl: '2LVL',
      });
      assert.deepEqual(w, [0x0d44101an]);
    });

    it('decodes IDR5 with OAS 48 bits and every granule', () => {
      // OAS 48 bits = 0b101 = 5; GRAN4K [4] 0x10 + GRAN16K [5] 0x20 + GRAN64K [6] 0x40 = 0x70 → 0x75
      const d = one(IDR5, 0x75);
      assert.equal(d.field('OAS')?.valueName, '48_BIT');
      assert.deepEqual([d.num('GRAN4K'), d.num('GRAN16K'), d.num('GRAN64K')], [1, 1, 1]);
      assert.equal(d.summary, 'OAS 48 bits, granules 4K 16K 64K, VA 48 bits');
      assert.deepEqual(encode(IDR5, { OAS: '48_BIT', GRAN4K: 1, GRAN16K: 1, GRAN64K: 1 }), [0x75n]);
    });

    it('names every OAS encoding with its size', () => {
      const bits = [32, 36, 40, 42, 44, 48, 52, 56];
      for (let v = 0; v < 8; v++) assert.equal(one(IDR5, v).field('OAS')?.valueName, `${bits[v]}_BIT`);
    });

    it('decodes IDR1 of QEMU', () => {
      const d = one(IDR1, QEMU_IDR1);
      assert.deepEqual([d.num('CMDQS'), d.num('evtqs'), d.num('PRIQS'), d.num('SSIDSIZE'), d.num('SIDSIZE')], [19, 19, 0, 0, 16]);
      assert.equal(d.summary, '2^16 StreamIDs, no SubstreamIDs, queues CMDQ 2^19 EVTQ 2^19 PRIQ 2^0');
    });

    it('decodes IDR3 of QEMU', () => {
      const d = one(IDR3, QEMU_IDR3);
      assert.deepEqual([d.num('HAD'), d.num('RIL'), d.num('bbm')], [1, 1, 2]);
      assert.equal(d.summary, 'RIL HAD BBML2');
    });

    it('decodes a 2-level STRTAB_BASE_CFG: SPLIT 8, LOG2SIZE 16', () => {
      // FMT 2LVL 1 << 16 = 0x10000; SPLIT 8 << 6 = 0x200; LOG2SIZE 16 = 0x10 → 0x10210
      const d = one(STRTAB_BASE_CFG, 0x10210);
      assert.equal(d.field('FMT')?.valueName, '2LVL');
      assert.equal(d.num('SPLIT'), 8);
      assert.equal(d.num('LOG2SIZE'), 16);
      assert.equal(d.summary, '2-level, SPLIT 8, 2^16 StreamIDs');
      assert.deepEqual(d.problems, []);
      assert.deepEqual(encode(STRTAB_BASE_CFG, { fmt: '2LVL', split: 8, log2size: 16 }), [0x10210n]);
    });

    it('decodes CR0 with SMMUEN, CMDQEN and EVTQEN', () => {
      // SMMUEN [0] 0x1 + EVENTQEN [2] 0x4 + CMDQEN [3] 0x8 = 0xd
      const d = one(CR0, 0xd);
      assert.deepEqual([d.num('SMMUEN'), d.num('PRIQEN'), d.num('EVENTQEN'), d.num('CMDQEN'), d.num('ATSCHK')], [1, 0, 1, 1, 0]);
      assert.equal(d.summary, 'SMMUEN CMDQEN EVTQEN');
      assert.deepEqual(encode(CR0, { smmuen: 1, cmdqen: 1, evtqen: 1 }), [0xdn]);
      assert.equal(one(CR0ACK, 0xd).summary, 'SMMUEN CMDQEN EVTQEN');
      assert.equal(one(CR0, 0).summary, 'all disabled (streams bypass or abort as GBPA says)');
    });

    it('decodes GBPA with UPDATE and ABORT', () => {
      // UPDATE [31] 0x80000000 + ABORT [20] 0x100000 = 0x80100000
      const d = one(GBPA, 0x80100000);
      assert.deepEqual([d.num('UPDATE'), d.num('ABORT')], [1, 1]);
      assert.equal(d.summary, 'abort all incoming transactions (update in progress)');
      assert.deepEqual(d.problems, []);
      assert.deepEqual(encode(GBPA, { UPDATE: 1, ABORT: 1 }), [0x80100000n]);
      // SHCFG = INCOMING (1 << 12 = 0x1000) and nothing else: plain bypass.
      assert.equal(one(GBPA, 0x1000).summary, 'bypass, incoming attributes');
    });

    it('decodes Linux\'s CR1: tables and queues Inner Shareable, Write-Back', () => {
      // CR1 cache encoding is NC=0, WB=1, WT=2 (not TCR-style).
      // TABLE_SH ISH 3 << 10 = 0xc00; TABLE_OC WB 1 << 8 = 0x100; TABLE_IC WB 1 << 6 = 0x40;
      // QUEUE_SH ISH 3 << 4 = 0x30; QUEUE_OC WB 1 << 2 = 0x4; QUEUE_IC WB 1 → 0xd75
      const d = one(CR1, 0xd75);
      assert.equal(d.field('TABLE_OC')?.valueName, 'WB');
      assert.equal(d.field('QUEUE_IC')?.valueName, 'WB');
      assert.equal(d.field('TABLE_SH')?.valueName, 'ISH');
      assert.equal(d.summary, 'tables ISH, WB inner/outer; queues ISH, WB inner/outer');
      assert.deepEqual(encode(CR1, { TABLE_SH: 'ISH', TABLE_OC: 'WB', TABLE_IC: 'WB', QUEUE_SH: 'ISH', QUEUE_OC: 'WB', QUEUE_IC: 'WB' }), [0xd75n]);
      // Write-Through is 2: QUEUE_IC = 2 → 0x2.
      assert.equal(one(CR1, 0x2).field('QUEUE_IC')?.valueName, 'WT');
      // Non-cacheable: shareability is ignored and behaves as Outer Shareable.
      assert.equal(one(CR1, 0xc30).summary, 'tables OSH, NC inner/outer; queues OSH, NC inner/outer');
      assert.equal(one(CR1, 0xc30).field('TABLE_SH')?.relevant, false);
    });

    it('decodes CMDQ_BASE with RWA, address 0x40000000 and LOG2SIZE 8', () => {
      // RA (kernel Q_BASE_RWA) [62] = 0x4000000000000000; ADDR [55:5] holds 0x40000000 in place; LOG2SIZE 8
      //   → 0x4000000000000000 | 0x40000000 | 0x8 = 0x4000000040000008
      const w = encode(CMDQ_BASE, { rwa: 1, addr: 0x40000000n, log2size: 8 });
      assert.deepEqual(w, [0x4000000040000008n]);
      const d = one(CMDQ_BASE, w[0]);
      assert.equal(d.get('ADDR'), 0x40000000n);
      // 2^8 entries × 16 bytes = 4096 = 0x1000 bytes; 0x40000000 is 4KB aligned.
      assert.equal(d.summary, '256 entries (0x1000 bytes) at 0x40000000, read-allocate');
      assert.deepEqual(d.problems, []);
    });

    it('decodes CMDQ_CONS with ERR = CERROR_ILL', () => {
      // ERR [30:24] = 1 → 1 << 24 = 0x01000000; RD = 0x105 → with LOG2SIZE 8 index 0x05, wrap bit [8] = 1
      const w = encode(CMDQ_CONS, { ERR: 'ILL', RD: 0x105 });
      assert.deepEqual(w, [0x01000105n]);
      const d = one(CMDQ_CONS, w[0], { queueLog2Size: { cmdq: 8 } } as RegisterContext);
      assert.equal(d.field('ERR')?.valueName, 'ILL');
      assert.equal(d.summary, 'RD 0x105 (index 5, wrap 1), ERR ILL (valid while GERROR.CMDQ_ERR is active)');
      assert.equal(one(CMDQ_CONS, 0x02000000).field('ERR')?.valueName, 'ABT');
      assert.equal(one(CMDQ_CONS, 0x03000000).field('ERR')?.valueName, 'ATC_INV_SYNC');
    });

    it('decodes event queue PROD/CONS with the overflow flags', () => {
      // OVFLG [31] = 0x80000000; WR = 0x1f with LOG2SIZE 4: index 0xf, wrap bit [4] = 1 → 0x8000001f
      const d = one(EVENTQ_PROD, 0x8000001f, { queueLog2Size: { eventq: 4 } } as RegisterContext);
      assert.equal(d.num('OVFLG'), 1);
      assert.equal(d.num('ovf'), 1);
      assert.equal(d.summary, 'WR 0x1f (index 15, wrap 1), OVFLG 1');
      assert.equal(one(EVENTQ_CONS, 0x80000000).num('OVACKFLG'), 1);
      assert.equal(one(PRIQ_PROD, 0x80000000).num('OVFLG'), 1);
    });

    it('decodes STRTAB_BASE, IIDR and AIDR', () => {
      // RA [62] + 0x40000000 in place = 0x4000000040000000
      assert.equal(one(STRTAB_BASE, 0x4000000040000000n).summary, 'stream table at 0x40000000, read-allocate');
      // MMU-600 r0p1: ProductID 0x483 << 20 = 0x48300000; Revision 1 << 12 = 0x1000; Implementer 0x43b → 0x4830143b
      assert.equal(one(IIDR, 0x4830143b).summary, 'Arm product 0x483 (MMU-600) r0p1');
      // ArchMinorRev 1 → SMMUv3.1 (QEMU's AIDR)
      assert.equal(one(AIDR, 1).summary, 'SMMUv3.1');
    });

    it('decodes GATOS_PAR results and faults', () => {
      // Success, Size = 1, ADDR = 0x40008000: lowest set bit 15 → 2^16 = 64KB at 0x40000000;
      // SH ISH 3 << 8 = 0x300; ATTR 0xff << 56 → 0xff00000040008b00 (Size [11] = 0x800)
      assert.equal(one(GATOS_PAR, 0xff00000040008b00n).summary, '0x40000000, 0x10000 bytes, ATTR 0xff ISH');
      // Fault: FADDR 0x12000; FAULTCODE 0x34 << 4 = 0x340; REASON TT 2 << 1 = 0x4; FAULT 1 → 0x12345
      const w = 0x12345n;
      assert.equal(registerLayoutFor(GATOS_PAR, w), GATOS_PAR_FAULT);
      assert.equal(registerLayoutFor(GATOS_PAR, 0n), GATOS_PAR);
      const f = one(GATOS_PAR_FAULT, w);
      assert.deepEqual([f.num('FAULTCODE'), f.field('REASON')?.valueName, f.get('FADDR')], [0x34, 'TT', 0x12000n]);
      assert.deepEqual(f.problems, []);
      assert.equal(one(GATOS_PAR, w).summary, 'fault: FAULTCODE 0x34, REASON TT, FADDR 0x12000');
    });
  });

  describe('queuePointer', () => {
    it('splits index and wrap at LOG2SIZE', () => {
      // 0x105 with 2^8 entries: index = 0x105 & 0xff = 5, wrap = bit 8 = 1
      assert.deepEqual(queuePointer(0x105, 8), { index: 5, wrap: 1 });
      // one-entry queue: no index bits, wrap is bit 0
      assert.deepEqual(queuePointer(1, 0), { index: 0, wrap: 1 });
      // 2^19 entries: index 0x7ffff, wrap bit 19 = 0x80000; OVFLG [31] is not part of it
      assert.deepEqual(queuePointer(0x800fffff, 19), { index: 0x7ffff, wrap: 1 });
      assert.deepEqual(queuePointer(0x3ff, 10), { index: 0x3ff, wrap: 0 });
    });
    it('refuses sizes the architecture does not have', () => {
      assert.throws(() => queuePointer(0, 20), RangeError);
      assert.throws(() => queuePointer(0, -1), RangeError);
    });
  });

  describe('contextFromIdRegs', () => {
    it('derives QEMU\'s context', () => {
      const c = contextFromIdRegs(QEMU_IDR0, QEMU_IDR1, QEMU_IDR3, QEMU_IDR5);
      assert.equal(c.oas, 44);
      assert.equal(c.s1p, true);
      assert.equal(c.s2p, false);
      assert.equal(c.ssidSize, 0);
      assert.equal(c.sidSize, 16);
      assert.equal(c.cd2l, false);
      assert.deepEqual(c.granules, [4, 16, 64]);
      assert.equal(c.asid16, true);
      assert.equal(c.vmid16, true);
      assert.equal(c.stallModel, 1);
      assert.equal(c.ats, false);
      assert.equal(c.hyp, false);
      assert.equal(c.httu, 0);
      assert.equal(c.stt, false);
      assert.equal(c.vax, false);
      assert.equal(c.ril, true);
      assert.equal(c.ttendian, 2);
      assert.equal(c.stLevel2, true);
      assert.equal(c.cohacc, true);
      assert.equal(c.msi, false);
      assert.equal(c.cmdqs, 19);
      assert.equal(c.eventqs, 19);
      // TERM_MODEL [26] set; SEV [14], NS1ATS [11] clear; TTF = 0b10 (no AArch32), so the IAS is the OAS.
      assert.equal(c.termModel, 1);
      assert.equal(c.sev, false);
      assert.equal(c.ns1ats, false);
      assert.equal(c.ias, 44);
      // IDR3 0x1404: MPAM [7], FWB [8], PBHA [3], S2PI [19], S2PO [20] clear. IDR5 0x74: DS [7], D128 [8] clear.
      for (const k of ['mpam', 'fwb', 'pbha', 's2pi', 's2po', 'ds', 'd128'] as const) assert.equal(c[k], false, k);
    });

    it('takes the newer feature bits from IDR0, IDR3 and IDR5', () => {
      // IDR0: QEMU's with TTF = 0b11 (0xc instead of 0x8: +0x4), SEV [14] 0x4000, NS1ATS [11] 0x800 → 0x0d44581e
      // IDR3: QEMU's + PBHA [3] 0x8, MPAM [7] 0x80, FWB [8] 0x100, S2PI [19] 0x80000, S2PO [20] 0x100000 → 0x18158c
      // IDR5: QEMU's + DS [7] 0x80 + D128 [8] 0x100 → 0x1f4 (OAS 44)
      const c = contextFromIdRegs(0x0d44581e, QEMU_IDR1, 0x18158c, 0x1f4);
      for (const k of ['sev', 'ns1ats', 'mpam', 'fwb', 'pbha', 's2pi', 's2po', 'ds', 'd128'] as const) assert.equal(c[k], true, k);
      // With VMSAv8-32 LPAE tables (TTF[0]) the IAS is at least 40 bits: max(40, 44) = 44; with OAS 36 (0b001) it is 40.
      assert.equal(c.ttf, 3);
      assert.equal(c.ias, 44);
      assert.equal(contextFromIdRegs(0x0d44581e, QEMU_IDR1, 0x18158c, 0x1f1).ias, 40);
    });

    it('takes OAS 48 and 52-bit VAs from IDR5', () => {
      assert.equal(contextFromIdRegs(QEMU_IDR0, QEMU_IDR1, QEMU_IDR3, 0x75).oas, 48);
      // VAX = 1 << 10 = 0x400, GRAN64K 0x40, OAS 52 bits = 6 → 0x446
      const c = contextFromIdRegs(QEMU_IDR0, QEMU_IDR1, QEMU_IDR3, 0x446);
      assert.equal(c.oas, 52);
      assert.equal(c.vax, true);
      assert.deepEqual(c.granules, [64]);
    });

    it('finds nothing wrong with QEMU\'s ID registers in their own context', () => {
      const c = contextFromIdRegs(QEMU_IDR0, QEMU_IDR1, QEMU_IDR3, QEMU_IDR5);
      for (const [l, v] of [[IDR0, QEMU_IDR0], [IDR1, QEMU_IDR1], [IDR3, QEMU_IDR3], [IDR5, QEMU_IDR5]] as const) {
        assert.deepEqual(validate(l, [BigInt(v)], c), [], l.name);
      }
    });
  });

  describe('lookup', () => {
    it('finds registers by name, with or without the SMMU_ prefix, and the kernel\'s EVTQ spelling', () => {
      assert.equal(registerByName('IDR0'), IDR0);
      assert.equal(registerByName('smmu_idr0'), IDR0);
      assert.equal(registerByName('ARM_SMMU_CR0'), CR0);
      assert.equal(registerByName('evtq_prod'), EVENTQ_PROD);
      assert.equal(registerByName('SMMU_EVTQ_CONS'), EVENTQ_CONS);
      assert.equal(registerByName('EVTQ_IRQ_CFG2'), EVENTQ_IRQ_CFG2);
      assert.equal(registerByName('strtab_base_cfg'), STRTAB_BASE_CFG);
      assert.equal(registerByName('reg.GBPA'), GBPA);
      assert.equal(registerByName('IDR9'), undefined);
    });

    it('finds registers by offset, Page 1 ones at 0x10000 + offset and at their Page 0 alias', () => {
      assert.equal(registerByOffset(0x0), IDR0);
      assert.equal(registerByOffset(0x88), STRTAB_BASE_CFG);
      assert.equal(registerByOffset(0x9c), CMDQ_CONS);
      assert.equal(registerByOffset(0x100a8), EVENTQ_PROD);
      assert.equal(registerByOffset(0x100ac), EVENTQ_CONS);
      assert.equal(registerByOffset(0x100c8), PRIQ_PROD);
      assert.equal(registerByOffset(0x100cc), PRIQ_CONS);
      assert.equal(registerByOffset(0xa8), EVENTQ_PROD);
      assert.equal(registerByOffset(0xcc), PRIQ_CONS);
      assert.equal(registerByOffset(0x84), undefined);
      assert.deepEqual([EVENTQ_PROD.page, EVENTQ_PROD.offset, EVENTQ_PROD.aliasOffset], [1, 0x100a8, 0xa8]);
      assert.deepEqual([CMDQ_PROD.page, CMDQ_PROD.offset, CMDQ_PROD.aliasOffset], [0, 0x98, undefined]);
    });

    it('has the required registers at the architecture\'s offsets and widths', () => {
      const expect: [string, number, 32 | 64, string][] = [
        ['IDR0', 0x0, 32, 'RO'], ['IDR1', 0x4, 32, 'RO'], ['IDR2', 0x8, 32, 'RO'], ['IDR3', 0xc, 32, 'RO'], ['IDR4', 0x10, 32, 'RO'],
        ['IDR5', 0x14, 32, 'RO'], ['IIDR', 0x18, 32, 'RO'], ['AIDR', 0x1c, 32, 'RO'], ['CR0', 0x20, 32, 'RW'], ['CR0ACK', 0x24, 32, 'RO'],
        ['CR1', 0x28, 32, 'RW'], ['CR2', 0x2c, 32, 'RW'], ['S2PII', 0x30, 64, 'RW'], ['STATUSR', 0x40, 32, 'RO'], ['GBPA', 0x44, 32, 'RW'],
        ['AGBPA', 0x48, 32, 'RW'], ['IRQ_CTRL', 0x50, 32, 'RW'], ['IRQ_CTRLACK', 0x54, 32, 'RO'], ['GERROR', 0x60, 32, 'RO'],
        ['GERRORN', 0x64, 32, 'RW'], ['GERROR_IRQ_CFG0', 0x68, 64, 'RW'], ['GERROR_IRQ_CFG1', 0x70, 32, 'RW'],
        ['GERROR_IRQ_CFG2', 0x74, 32, 'RW'], ['STRTAB_BASE', 0x80, 64, 'RW'], ['STRTAB_BASE_CFG', 0x88, 32, 'RW'],
        ['CMDQ_BASE', 0x90, 64, 'RW'], ['CMDQ_PROD', 0x98, 32, 'RW'], ['CMDQ_CONS', 0x9c, 32, 'RW'], ['EVENTQ_BASE', 0xa0, 64, 'RW'],
        ['EVENTQ_PROD', 0x100a8, 32, 'RW'], ['EVENTQ_CONS', 0x100ac, 32, 'RW'], ['EVENTQ_IRQ_CFG0', 0xb0, 64, 'RW'],
        ['EVENTQ_IRQ_CFG1', 0xb8, 32, 'RW'], ['EVENTQ_IRQ_CFG2', 0xbc, 32, 'RW'], ['PRIQ_BASE', 0xc0, 64, 'RW'],
        ['PRIQ_PROD', 0x100c8, 32, 'RW'], ['PRIQ_CONS', 0x100cc, 32, 'RW'], ['PRIQ_IRQ_CFG0', 0xd0, 64, 'RW'],
        ['PRIQ_IRQ_CFG1', 0xd8, 32, 'RW'], ['PRIQ_IRQ_CFG2', 0xdc, 32, 'RW'], ['GATOS_CTRL', 0x100, 32, 'RW'],
        ['GATOS_SID', 0x108, 64, 'RW'], ['GATOS_ADDR', 0x110, 64, 'RW'], ['GATOS_PAR', 0x118, 64, 'RO'], ['MPAMIDR', 0x130, 32, 'RO'],
        ['GMPAM', 0x138, 32, 'RW'], ['GBPMPAM', 0x13c, 32, 'RW'], ['VATOS_SEL', 0x180, 32, 'RW'], ['IDR6', 0x190, 32, 'RO'],
        ['DPT_BASE', 0x200, 64, 'RW'], ['DPT_BASE_CFG', 0x208, 32, 'RW'], ['DPT_CFG_FAR', 0x210, 64, 'RW'],
      ];
      for (const [name, offset, bits, access] of expect) {
        const r = registerByName(name);
        assert.ok(r, name);
        assert.deepEqual([r.offset, r.wordBits, r.access, r.words, r.kind], [offset, bits, access, 1, `reg.${name}`], name);
        assert.ok(r.title.startsWith(`SMMU_${name} (`), r.title);
      }
      assert.equal(REGISTERS.length, expect.length);
      assert.equal(IDR0.title, 'SMMU_IDR0 (features)');
      assert.equal(new Set(REGISTERS.map((r) => r.offset)).size, REGISTERS.length, 'offsets unique');
    });
  });

  describe('every field', () => {
    it('round-trips alone, leaving every other field zero', () => {
      for (const l of [...REGISTERS, GATOS_PAR_FAULT]) {
        const named = l.fields.filter((f) => f.kind !== 'reserved');
        for (const f of named) {
          const ones = mask(f.hi - f.lo + 1);
          const v = f.kind === 'address' ? ones << BigInt(f.lo) : ones;
          const d = decode(l, encode(l, { [f.name]: v }));
          assert.equal(d.get(f.name), v, `${l.name}.${f.name}`);
          for (const o of named) if (o !== f) assert.equal(d.get(o.name), 0n, `${l.name}: ${f.name} leaked into ${o.name}`);
          for (const a of f.aliases ?? []) assert.equal(d.get(a), v, `${l.name}.${a}`);
        }
      }
    });

    it('describes any value without throwing', () => {
      const ctx = contextFromIdRegs(QEMU_IDR0, QEMU_IDR1, QEMU_IDR3, QEMU_IDR5);
      for (const l of [...REGISTERS, GATOS_PAR_FAULT]) {
        for (const v of [0n, mask(l.wordBits), 0x5555555555555555n & mask(l.wordBits)]) {
          assert.ok(describeText(decode(l, [v], { ...ctx, queueLog2Size: { cmdq: 8, eventq: 8, priq: 8 } } as RegisterContext)).length > 0);
          assert.ok(describeText(decode(l, [v])).length > 0);
        }
      }
    });
  });

  describe('rules', () => {
    it('IDR0: tables must include AArch64', () => {
      // S1P|S2P = 0x3; TTF AArch32 only 1 << 2 = 0x4 → 0x7; with TTF AArch64 2 << 2 = 0x8 → 0xb
      rule(IDR0, 0x7, 0xb, 'unsupported', 'TTF');
    });
    it('IDR0: fields that are RES0 without their features', () => {
      // Hyp [9] 0x200 with S1P only (0x2|0x8 = 0xa) → 0x20a; with both stages 0x20b
      rule(IDR0, 0x20a, 0x20b, 'res0', 'Hyp');
      // VMW [17] 0x20000: S1P only 0x2000a; with S2P 0x2000b
      rule(IDR0, 0x2000a, 0x2000b, 'res0', 'VMW');
      // PRI [16] 0x10000 without ATS: 0x1000b; with ATS [10] 0x400: 0x1040b
      rule(IDR0, 0x1000b, 0x1040b, 'res0', 'PRI');
      // ATSRECERR [23] 0x800000: 0x80000b; with ATS 0x80040b
      rule(IDR0, 0x80000b, 0x80040b, 'res0', 'ATSRECERR');
      // NS1ATS [11] 0x800: 0x80b; with ATS 0xc0b
      rule(IDR0, 0x80b, 0xc0b, 'res0', 'NS1ATS');
    });
    it('IDR0: VATOS needs ATOS and both stages', () => {
      // VATOS [20] 0x100000 | 0xb = 0x10000b; with ATOS [15] 0x8000 → 0x10800b
      rule(IDR0, 0x10000b, 0x10800b, 'illegal', 'VATOS');
    });
    it('IDR0: reserved encodings', () => {
      // ST_LEVEL 0b10 << 27 = 0x10000000 | 0xb
      rule(IDR0, 0x1000000b, 0x800000b, 'reserved-value', 'ST_LEVEL');
    });
    it('IDR1: sizes above the architecture\'s maxima', () => {
      // CMDQS 20 << 21 = 0x2800000; 19 << 21 = 0x2600000
      rule(IDR1, 0x2800000, 0x2600000, 'range', 'CMDQS');
      // EVENTQS 20 << 16 = 0x140000; 19 << 16 = 0x130000
      rule(IDR1, 0x140000, 0x130000, 'range', 'EVENTQS');
      // SSIDSIZE 21 << 6 = 0x540; 20 << 6 = 0x500
      rule(IDR1, 0x540, 0x500, 'range', 'SSIDSIZE');
      rule(IDR1, 33, 32, 'range', 'SIDSIZE');
    });
    it('IDR1: REL needs a preset; ECMDQ forbids QUEUES_PRESET and needs COHACC and MSI', () => {
      // REL [28] 0x10000000 alone; with TABLES_PRESET [30]: 0x50000000
      rule(IDR1, 0x10000000, 0x50000000, 'res0', 'REL');
      // ECMDQ [31] 0x80000000 | QUEUES_PRESET [29] 0x20000000 = 0xa0000000
      rule(IDR1, 0xa0000000, 0x80000000, 'illegal', 'QUEUES_PRESET');
      rule(IDR1, 0x80000000, 0x0, 'illegal', 'ECMDQ', { cohacc: false, msi: true } as RegisterContext);
      assert.ok(!has(validate(IDR1, [0x80000000n], { cohacc: true, msi: true } as RegisterContext), 'illegal', 'ECMDQ'));
    });
    it('IDR1: 7 or more StreamID bits need a 2-level stream table', () => {
      rule(IDR1, 16, 6, 'illegal', 'SIDSIZE', { stLevel2: false } as RegisterContext);
    });
    it('IDR1: the Linux driver refuses preset tables', () => {
      rule(IDR1, 0x40000000, 0, 'unsupported', 'TABLES_PRESET');
    });
    it('IDR2: BA_VATOS without VATOS', () => {
      rule(IDR2, 1, 0, 'res0', 'BA_VATOS', { vatos: false } as RegisterContext);
    });
    it('IDR3: feature dependencies', () => {
      // PBHA [3] 0x8 alone; with HAD [2] → 0xc
      rule(IDR3, 0x8, 0xc, 'illegal', 'HAD');
      // S2PO [20] 0x100000 alone; with S2PI [19] 0x80000 → 0x180000
      rule(IDR3, 0x100000, 0x180000, 'illegal', 'S2PI');
      rule(IDR3, 0x4, 0x0, 'res0', 'HAD', { s1p: false });
      rule(IDR3, 0x40000, 0x0, 'res0', 'S1PI', { s1p: false });
      rule(IDR3, 0x800000, 0x0, 'res0', 'AIE', { s1p: false });
      rule(IDR3, 0x200000, 0x0, 'res0', 'THE', { s1p: false });
      rule(IDR3, 0x80000, 0x0, 'res0', 'S2PI', { s2p: false });
      rule(IDR3, 0x400000, 0x0, 'res0', 'MTEPERM', { s2p: false });
      rule(IDR3, 0x4000, 0x0, 'res0', 'PTWNNC', { s2p: false });
      rule(IDR3, 0x8000, 0x0, 'res0', 'DPT', { ats: false });
      rule(IDR3, 0x10000, 0x0, 'res0', 'PASIDTT', { ats: true, ssidSize: 0 });
      assert.ok(!has(validate(IDR3, [0x10000n], { ats: true, ssidSize: 20 }), 'res0', 'PASIDTT'));
      rule(IDR3, 0x20, 0x0, 'res0', 'PPS', { pri: false } as RegisterContext);
      // BBML 0b11 << 11 = 0x1800; BBML2 = 0x1000
      rule(IDR3, 0x1800, 0x1000, 'reserved-value', 'BBML');
    });
    it('IDR5: address sizes need the granules or descriptors that express them', () => {
      // OAS 52 (6) with GRAN4K 0x10 only → 0x16; with GRAN64K 0x40 → 0x46
      rule(IDR5, 0x16, 0x46, 'illegal', 'OAS');
      // OAS 56 (7) | GRAN64K = 0x47; with D128 [8] 0x100 → 0x147
      rule(IDR5, 0x47, 0x147, 'illegal', 'OAS');
      // VAX 52-bit 1 << 10 = 0x400 | GRAN4K 0x10 | OAS 48 5 → 0x415; with DS [7] 0x80 → 0x495
      rule(IDR5, 0x415, 0x495, 'illegal', 'VAX');
      // VAX 56-bit 2 << 10 = 0x800 | GRAN64K 0x40 | 5 → 0x845; with D128 0x100 → 0x945
      rule(IDR5, 0x845, 0x945, 'illegal', 'VAX');
      // DS 0x80 | GRAN64K 0x40 | 5 = 0xc5 (no 4K/16K); DS | GRAN4K | 5 = 0x95
      rule(IDR5, 0xc5, 0x95, 'res0', 'DS');
      // VAX 0b11 << 10 = 0xc00 | 0x75 → 0xc75
      rule(IDR5, 0xc75, 0x75, 'reserved-value', 'VAX');
    });
    it('IDR5: consistency with IDR0.TTF', () => {
      // AArch32 tables (TTF 3) need GRAN4K: GRAN64K | OAS 48 = 0x45; with GRAN4K 0x55
      rule(IDR5, 0x45, 0x55, 'illegal', 'GRAN4K', { ttf: 3 } as RegisterContext);
      // D128 0x100 | 0x55 = 0x155: needs TTF = 0b10
      rule(IDR5, 0x155, 0x55, 'illegal', 'D128', { ttf: 3 } as RegisterContext);
      assert.ok(!has(validate(IDR5, [0x155n], { ttf: 2 } as RegisterContext), 'illegal', 'D128'));
    });
    it('CR0 and CR0ACK: enables of features the SMMU lacks, reserved bits and values', () => {
      rule(CR0, 0x10, 0x0, 'res0', 'ATSCHK', { ats: false });
      assert.ok(!has(validate(CR0, [0x10n], { ats: true }), 'res0', 'ATSCHK'));
      rule(CR0, 0x2, 0x0, 'res0', 'PRIQEN', { pri: false } as RegisterContext);
      // VMW 1 << 6 = 0x40
      rule(CR0, 0x40, 0x0, 'res0', 'VMW', { vmw: false } as RegisterContext);
      rule(CR0, 0x400, 0x0, 'res0', 'DPT_WALK_EN', { dpt: false } as RegisterContext);
      // VMW 5 << 6 = 0x140: reserved, behaves as exact matching
      rule(CR0, 0x140, 0x100, 'reserved-value', 'VMW');
      // bit 5 and bits [31:11] are RES0
      rule(CR0, 0x20, 0xd, 'res0', 'RES0[5]');
      rule(CR0, 0x80000000, 0xd, 'res0', 'RES0[31:11]');
      rule(CR0ACK, 0x2, 0x0, 'res0', 'PRIQEN', { pri: false } as RegisterContext);
    });
    it('CR1: cacheable accesses on an SMMU without coherent access; reserved encodings', () => {
      const p = validate(CR1, [0xd75n], { cohacc: false } as RegisterContext);
      assert.ok(has(p, 'unsupported', 'TABLE_OC') && has(p, 'unsupported', 'QUEUE_OC'));
      // NC everywhere: TABLE_SH ISH 0xc00 | QUEUE_SH ISH 0x30 = 0xc30
      rule(CR1, 0xd75, 0xc30, 'unsupported', 'QUEUE_OC', { cohacc: false } as RegisterContext);
      // TABLE_SH 0b01 << 10 = 0x400 with TABLE_OC WB 0x100 and TABLE_IC WB 0x40 → 0x540; ISH → 0xd40
      rule(CR1, 0x540, 0xd40, 'reserved-value', 'TABLE_SH');
      // TABLE_OC 0b11 << 8 = 0x300
      rule(CR1, 0x300, 0x100, 'reserved-value', 'TABLE_OC');
    });
    it('CR2: bits RES0 without their features', () => {
      rule(CR2, 0x1, 0x0, 'res0', 'E2H', { hyp: false });
      rule(CR2, 0x4, 0x0, 'res0', 'PTM', { btm: false } as RegisterContext);
      rule(CR2, 0x8, 0x0, 'res0', 'REC_CFG_ATS', { atsrecerr: false } as RegisterContext);
    });
    it('GBPA: reserved bits, reserved encodings, overrides the SMMU cannot apply', () => {
      // bit 25 (0x2000000) is in RES0 [30:21]
      rule(GBPA, 0x82000000, 0x80000000, 'res0', 'RES0[30:21]');
      // bits [7:5]: 0x20
      rule(GBPA, 0x20, 0x0, 'res0', 'RES0[7:5]');
      // INSTCFG 0b01 << 18 = 0x40000; DATA 0b10 << 18 = 0x80000
      rule(GBPA, 0x40000, 0x80000, 'reserved-value', 'INSTCFG');
      // MTCFG [4] 0x10 with MemAttr 0b0100 reserved → 0x14; OIWB 0xf → 0x1f
      rule(GBPA, 0x14, 0x1f, 'reserved-value', 'MemAttr');
      rule(GBPA, 0x1f, 0x1000, 'unsupported', 'MTCFG', { attrTypesOvr: false } as RegisterContext);
      // PRIVCFG PRIV 3 << 16 = 0x30000
      rule(GBPA, 0x30000, 0x0, 'unsupported', 'PRIVCFG', { attrPermsOvr: false } as RegisterContext);
    });
    it('IRQ_CTRL and GERROR: bits of absent features', () => {
      rule(IRQ_CTRL, 0x2, 0x5, 'res0', 'PRIQ_IRQEN', { pri: false } as RegisterContext);
      rule(GERROR, 0x400, 0x1, 'res0', 'DPT_ERR', { dpt: false } as RegisterContext);
      rule(GERROR, 0x200, 0x1, 'res0', 'CMDQP_ERR', { ecmdq: false } as RegisterContext);
      rule(GERROR, 0x8, 0x1, 'res0', 'PRIQ_ABT_ERR', { pri: false } as RegisterContext);
      rule(GERROR, 0x10, 0x1, 'res0', 'MSI_CMDQ_ABT_ERR', { msi: false } as RegisterContext);
      rule(GERROR, 0x40, 0x1, 'res0', 'MSI_PRIQ_ABT_ERR', { msi: true, pri: false } as RegisterContext);
      rule(GERROR, 0x2, 0x1, 'res0', 'RES0[1]');
    });
    it('IRQ_CFG registers: MSI fields without MSIs, addresses beyond OAS', () => {
      rule(GERROR_IRQ_CFG0, 0x1000n, 0n, 'res0', 'ADDR', { msi: false } as RegisterContext);
      // 44-bit OAS: 2^44 = 0x100000000000 is out; 0xffffffffffc is the top word-aligned address
      rule(GERROR_IRQ_CFG0, 0x100000000000n, 0xffffffffffcn, 'range', 'ADDR', { oas: 44 });
      rule(PRIQ_IRQ_CFG1, 0x1, 0x0, 'res0', 'DATA', { msi: true, pri: false } as RegisterContext);
      rule(EVENTQ_IRQ_CFG2, 0xf, 0x0, 'res0', 'MemAttr', { msi: false } as RegisterContext);
    });
    it('STRTAB_BASE: address beyond OAS', () => {
      // 2^48 = 0x1000000000000 with OAS 48; 0xffffffffffc0 fits
      rule(STRTAB_BASE, 0x1000000000000n, 0xffffffffffc0n, 'range', 'ADDR', { oas: 48 });
    });
    it('STRTAB_BASE_CFG: reserved format and split, sizes', () => {
      // FMT 0b10 << 16 = 0x20000
      rule(STRTAB_BASE_CFG, 0x20010, 0x10, 'reserved-value', 'FMT');
      // SPLIT 7: 0x10000 | 7 << 6 = 0x1c0 | 16 → 0x101d0 (behaves as 6); SPLIT 8 → 0x10210
      rule(STRTAB_BASE_CFG, 0x101d0, 0x10210, 'reserved-value', 'SPLIT');
      rule(STRTAB_BASE_CFG, 0x10210, 0x10, 'res0', 'FMT', { stLevel2: false } as RegisterContext);
      // LOG2SIZE 17 > SIDSIZE 16
      rule(STRTAB_BASE_CFG, 0x11, 0x10, 'range', 'LOG2SIZE', { sidSize: 16 });
      // 2-level, SPLIT 10 (0x280) >= LOG2SIZE 8 → 0x10288; SPLIT 6 (0x180) → 0x10188
      rule(STRTAB_BASE_CFG, 0x10288, 0x10188, 'range', 'SPLIT');
    });
  });

  describe('checkStreamTable', () => {
    it('wants a linear table aligned to its size', () => {
      // Linear, LOG2SIZE 8: 2^8 STEs × 64 bytes = 0x4000; 0x40002000 % 0x4000 = 0x2000
      const bad = checkStreamTable(0x40002000n, 0x8, {});
      assert.ok(has(bad, 'align', 'ADDR'));
      assert.match(bad.find((p) => p.rule === 'align')?.message ?? '', /0x4000 bytes.*0x40000000/);
      assert.deepEqual(checkStreamTable(0x40004000n, 0x8, {}), []);
    });
    it('wants a 2-level L1 table aligned to its size, at least 64 bytes', () => {
      // 0x10210: 2^(16-8) = 256 L1 descriptors × 8 bytes = 0x800; 0x40000400 % 0x800 = 0x400
      assert.ok(has(checkStreamTable(0x40000400n, 0x10210, {}), 'align', 'ADDR'));
      assert.deepEqual(checkStreamTable(0x40000800n, 0x10210, {}), []);
      // SPLIT 8 = LOG2SIZE 8: one descriptor (8 bytes) → 64-byte alignment: 0x10000|0x200|0x8 = 0x10208
      assert.deepEqual(checkStreamTable(0x40000040n, 0x10208, {}).filter((p) => p.rule === 'align'), []);
    });
    it('includes both registers\' own problems', () => {
      const p = checkStreamTable(0x1000000000000n, 0x11, { sidSize: 16, oas: 48 });
      assert.ok(has(p, 'range', 'LOG2SIZE') && has(p, 'range', 'ADDR'));
    });
    it('uses the literal LOG2SIZE for alignment even beyond SIDSIZE', () => {
      // Linear LOG2SIZE 17: 2^17 × 64 = 0x800000; base 0x40400000 % 0x800000 = 0x400000
      assert.ok(has(checkStreamTable(0x40400000n, 0x11, { sidSize: 16 }), 'align', 'ADDR'));
    });
  });

  describe('queue bases', () => {
    it('want the base aligned to the queue size', () => {
      // CMDQ LOG2SIZE 8: 256 × 16 = 0x1000; 0x40000800 | 8 = 0x40000808 is misaligned
      rule(CMDQ_BASE, 0x40000808n, 0x40000008n, 'align', 'ADDR');
      // LOG2SIZE 0: one 16-byte entry, but the minimum alignment is 32 bytes: 0x40000020 is fine
      assert.deepEqual(validate(CMDQ_BASE, [0x40000020n]), []);
      // Event queue LOG2SIZE 7: 128 × 32 bytes = 0x1000; 0x40000800 | 7 = 0x40000807
      assert.ok(has(checkQueueBase('evtq', 0x40000807n, {}), 'align', 'ADDR'));
      assert.deepEqual(checkQueueBase('eventq', 0x40001007n, {}), []);
      // The same base as a command queue: 128 × 16 = 0x800, so 0x40000800 is aligned
      assert.deepEqual(checkQueueBase('cmdq', 0x40000807n, {}), []);
    });
    it('want LOG2SIZE within IDR1\'s limit', () => {
      // 0x40000000 | 20 = 0x40000014; the SMMU caps at CMDQS 19 (2^19 × 16 = 0x800000, base aligned)
      rule(CMDQ_BASE, 0x40000014n, 0x40000013n, 'range', 'LOG2SIZE', { cmdqs: 19 } as RegisterContext);
      rule(CMDQ_BASE, 0x40000014n, 0x40000013n, 'range', 'LOG2SIZE');
      // QEMU-like limit of 8 for the PRI queue: 9 is too big
      assert.ok(has(checkQueueBase('priq', 0x40000009n, { priqs: 8 } as RegisterContext), 'range', 'LOG2SIZE'));
    });
    it('want the base below the output address size', () => {
      rule(CMDQ_BASE, 0x100000000n, 0xfffff000n, 'range', 'ADDR', { oas: 32 });
    });
  });

  describe('queue pointers', () => {
    it('flag bits above the wrap flag', () => {
      // LOG2SIZE 8: wrap is bit 8, bits [19:9] RES0; 0x300 has bit 9 set; 0x1ff does not
      const ctx = { queueLog2Size: { eventq: 8 } } as RegisterContext;
      rule(EVENTQ_CONS, 0x300, 0x1ff, 'res0', 'RD', ctx);
      assert.match(validate(EVENTQ_CONS, [0x300n], ctx)[0].message, /0x100/);
    });
  });

  describe('other registers', () => {
    it('GATOS_SID: IDs beyond the SMMU\'s sizes', () => {
      rule(GATOS_SID, 0x10000n, 0xffffn, 'range', 'STREAMID', { sidSize: 16 });
      // SSID_VALID [52] | SUBSTREAMID 0x100 << 32 with 8 SubstreamID bits
      rule(GATOS_SID, (1n << 52n) | (0x100n << 32n), (1n << 52n) | (0xffn << 32n), 'range', 'SUBSTREAMID', { ssidSize: 8 });
    });
    it('GATOS_ADDR: reserved request type', () => {
      // TYPE 0 is reserved; TYPE S1 = 1 << 10 = 0x400
      rule(GATOS_ADDR, 0x0, 0x400, 'reserved-value', 'TYPE');
    });
    it('VATOS_SEL: 16-bit VMID without VMID16', () => {
      rule(VATOS_SEL, 0x100, 0xff, 'range', 'VMID', { vmid16: false });
    });
    it('IDR6: too many control pages', () => {
      // LOG2NUMP 9 << 24 = 0x9000000; 8 << 24 = 0x8000000
      rule(IDR6, 0x9000000, 0x8000000, 'range', 'CMDQ_CONTROL_PAGE_LOG2NUMP');
    });
    it('DPT registers: sizes, granules and addresses', () => {
      rule(DPT_BASE, 1n << 44n, 1n << 43n, 'range', 'BADDR', { oas: 44 });
      // DPTPS 52 bits = 6 with OAS 48; 48 bits = 5
      rule(DPT_BASE_CFG, 0x6, 0x5, 'range', 'DPTPS', { oas: 48 });
      // L0DPTSZ 39 bits (9 << 20 = 0x900000) over a 32-bit region (DPTPS 0); 30 bits (0) fits
      rule(DPT_BASE_CFG, 0x900000, 0x0, 'range', 'L0DPTSZ');
      // DPTGS 64K = 1 << 14 = 0x4000 on a 4K-only SMMU
      rule(DPT_BASE_CFG, 0x4000, 0x0, 'range', 'DPTGS', { granules: [4] });
      // L0DPTSZ 1 (1 << 20) is not a defined size
      const p = validate(DPT_BASE_CFG, [0x100000n]);
      assert.ok(p.some((x) => x.rule === 'reserved-value' && x.field === 'L0DPTSZ' && x.severity === 'error'));
    });
  });

  describe('activeGlobalErrors', () => {
    it('lists the GERROR bits that differ from GERRORN', () => {
      // GERROR 0x101 = SFM_ERR [8] + CMDQ_ERR [0]; GERRORN 0x1 acknowledged CMDQ_ERR
      assert.deepEqual(activeGlobalErrors(0x101, 0x1), ['SFM_ERR']);
      assert.deepEqual(activeGlobalErrors(0x5, 0x0), ['EVENTQ_ABT_ERR', 'CMDQ_ERR']);
      assert.deepEqual(activeGlobalErrors(0x5, 0x5), []);
    });
  });
});
