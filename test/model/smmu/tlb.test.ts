import { strict as assert } from 'node:assert';
import { commandByName } from '../../../src/arch/commands';
import { decode, encode, FieldInput } from '../../../src/arch/codec';
import { Tlb, TlbiCommand, tlbiCommandFrom } from '../../../src/model/smmu/tlb';
import { ALL_PERMISSIONS, translate } from '../../../src/model/smmu/walk';
import { DescriptorReader, TlbEntry, WalkResult, WalkStep, WalkStepDetail } from '../../../src/model/smmu/types';

function entry(more: Partial<TlbEntry> = {}): TlbEntry {
  return {
    vmid: 1, asid: 5, global: false, el2: false, stage: 's1', inputBase: 0x10_0000, size: 0x1000,
    outputBase: 0x8000_0000, level: 3, granule: 4, perms: ALL_PERMISSIONS, sh: 3, ...more,
  };
}

/** Inputs of the entries left, in entries() order. */
const bases = (t: Tlb): number[] => t.entries().map((e) => e.inputBase);

function cmd(name: string, fields: Record<string, FieldInput>): ReturnType<typeof decode> {
  const c = commandByName(name)!;
  return decode(c, encode(c, { Opcode: c.opcode, ...fields }));
}

describe('model/smmu/tlb', () => {
  describe('lookup', () => {
    it('hits by regime, ASID and address, and misses otherwise', () => {
      const t = new Tlb();
      const e = entry();
      t.insert(e);
      assert.equal(t.size, 1);
      assert.equal(t.lookup(1, 5, 's1', false, 0x10_0abc), e);
      assert.equal(t.lookup(1, 5, 's1', false, 0x10_0000), e);
      assert.equal(t.lookup(1, 5, 's1', false, 0x10_1000), undefined); // next page
      assert.equal(t.lookup(1, 5, 's1', false, 0x0f_f000), undefined);
      assert.equal(t.lookup(1, 6, 's1', false, 0x10_0abc), undefined); // other ASID
      assert.equal(t.lookup(2, 5, 's1', false, 0x10_0abc), undefined); // other VMID
      assert.equal(t.lookup(1, 5, 'nested', false, 0x10_0abc), undefined);
      assert.equal(t.lookup(1, 5, 's1', true, 0x10_0abc), undefined); // EL2 regime
    });

    it('global entries match any ASID; stage-2 entries have none', () => {
      const t = new Tlb();
      const g = entry({ global: true });
      const s2 = entry({ stage: 's2', asid: -1, global: true, inputBase: 0x20_0000 });
      t.insert(g);
      t.insert(s2);
      assert.equal(t.lookup(1, 9, 's1', false, 0x10_0123), g);
      assert.equal(t.lookup(1, 0, 's2', false, 0x20_0123), s2);
      assert.equal(t.lookup(1, 9, 's2', false, 0x10_0123), undefined);
    });

    it('a block entry hits for every address inside it', () => {
      const t = new Tlb();
      const b = entry({ inputBase: 0x4000_0000, size: 0x20_0000, level: 2 });
      t.insert(b);
      assert.equal(t.lookup(1, 5, 's1', false, 0x4000_0000), b);
      assert.equal(t.lookup(1, 5, 's1', false, 0x401f_ffff), b); // 0x4000_0000 + 2MB - 1
      assert.equal(t.lookup(1, 5, 's1', false, 0x4020_0000), undefined);
      assert.equal(t.lookup(1, 5, 's1', false, 0x3fff_ffff), undefined);
      // A 1GB and a 4KB entry: the smaller is found first where both match.
      const g = entry({ inputBase: 0x8000_0000, size: 0x4000_0000, level: 1 });
      const p = entry({ inputBase: 0x8765_4000 });
      t.insert(g);
      t.insert(p);
      assert.equal(t.lookup(1, 5, 's1', false, 0x8765_4321), p);
      assert.equal(t.lookup(1, 5, 's1', false, 0x8765_5321), g);
    });

    it('handles TTB1 (negative) and 52-bit inputs, and many entries', () => {
      const t = new Tlb();
      const hi = entry({ inputBase: -0x3f_bfdf_d000 });
      const top = entry({ inputBase: 0xf_ffff_ffff_f000 });
      t.insert(hi);
      t.insert(top);
      assert.equal(t.lookup(1, 5, 's1', false, -0x3f_bfdf_cbaa), hi);
      assert.equal(t.lookup(1, 5, 's1', false, -0x3f_bfdf_e000), undefined);
      assert.equal(t.lookup(1, 5, 's1', false, 0xf_ffff_ffff_ffff), top);
      for (let i = 0; i < 2000; i++) t.insert(entry({ asid: i % 7, inputBase: 0x1_0000_0000 + i * 0x1000 }));
      assert.equal(t.size, 2002);
      for (let i = 0; i < 2000; i++) {
        assert.equal(t.lookup(1, i % 7, 's1', false, 0x1_0000_0800 + i * 0x1000)?.inputBase, 0x1_0000_0000 + i * 0x1000);
      }
      // Re-inserting the same key replaces the entry.
      t.insert(entry({ asid: 0, inputBase: 0x1_0000_0000, outputBase: 0x1234_5000 }));
      assert.equal(t.size, 2002);
      assert.equal(t.lookup(1, 0, 's1', false, 0x1_0000_0000)?.outputBase, 0x1234_5000);
    });

    it('rejects entries that are not power-of-two sized and aligned', () => {
      const t = new Tlb();
      assert.throws(() => t.insert(entry({ size: 0x3000 })), RangeError);
      assert.throws(() => t.insert(entry({ inputBase: 0x10_0800 })), RangeError);
    });
  });

  describe('invalidation', () => {
    it('NH_VA with a range of 16 pages drops those and keeps the 17th', () => {
      const t = new Tlb();
      // 17 pages from 0x10_0000; the range is (NUM 15 + 1) x 2^0 x 4KB = 0x10000: [0x10_0000, 0x11_0000).
      for (let i = 0; i < 17; i++) t.insert(entry({ inputBase: 0x10_0000 + i * 0x1000 }));
      t.insert(entry({ asid: 6, inputBase: 0x10_0000 })); // other ASID: kept
      t.insert(entry({ asid: 6, global: true, inputBase: 0x10_5000 })); // global: dropped
      const r = t.invalidate({ op: 'NH_VA', vmid: 1, asid: 5, addr: 0x10_0000n, leaf: true, tg: 1, num: 15, scale: 0, ttl: 3 });
      assert.deepEqual(r, { entries: 17, walks: 0 });
      assert.deepEqual(t.entries().map((e) => [e.asid, e.inputBase]), [[5, 0x11_0000], [6, 0x10_0000]]);
    });

    it('TG=0 drops every entry containing the address, whatever its size', () => {
      const t = new Tlb();
      t.insert(entry({ inputBase: 0x4000_0000, size: 0x20_0000, level: 2 }));
      t.insert(entry({ inputBase: 0x4012_4000 }));
      t.insert(entry({ inputBase: 0x4012_0000, granule: 64, size: 0x1_0000 }));
      // 0x4012_3000 is inside the 2MB block [0x4000_0000, 0x4020_0000) and the 64KB page
      // [0x4012_0000, 0x4013_0000), not inside the 4KB page [0x4012_4000, 0x4012_5000).
      assert.equal(t.invalidate({ op: 'NH_VA', vmid: 1, asid: 5, addr: 0x4012_3000n, leaf: true }).entries, 2);
      assert.deepEqual(bases(t), [0x4012_4000]);
    });

    it('TG and TTL limit the scope to entries of that granule and leaf level', () => {
      const t = new Tlb();
      t.insert(entry({ inputBase: 0x4000_0000, size: 0x20_0000, level: 2 }));
      t.insert(entry({ inputBase: 0x4010_0000, granule: 16, size: 0x4000 }));
      // 4KB granule, TTL 3: the 2MB level-2 block and the 16K-granule page are out of scope.
      const range = { addr: 0x4010_0000n, leaf: true, tg: 1, num: 0, scale: 0 };
      assert.equal(t.invalidate({ op: 'NH_VAA', vmid: 1, ...range, ttl: 3 }).entries, 0);
      // TTL 2 takes the block.
      assert.equal(t.invalidate({ op: 'NH_VAA', vmid: 1, ...range, ttl: 2 }).entries, 1);
      // TG 16K with TTL 0: the 16K page.
      assert.equal(t.invalidate({ op: 'NH_VAA', vmid: 1, addr: 0x4010_0000n, leaf: true, tg: 2, num: 0, scale: 0, ttl: 0 }).entries, 1);
      assert.equal(t.size, 0);
      // 16K with TTL 1 is reserved without DS and acts as TTL 0: a level-3 16K page is dropped.
      t.insert(entry({ inputBase: 0x4010_0000, granule: 16, size: 0x4000 }));
      assert.equal(t.invalidate({ op: 'NH_VAA', vmid: 1, addr: 0x4010_0000n, leaf: true, tg: 2, num: 0, scale: 0, ttl: 1 }).entries, 1);
    });

    it('NH_ALL, NH_ASID, NH_VAA: EL1 stage-1 and nested entries of the VMID', () => {
      const fill = (): Tlb => {
        const t = new Tlb();
        t.insert(entry({ inputBase: 0x1000 })); // s1 vmid 1 asid 5
        t.insert(entry({ inputBase: 0x2000, global: true })); // s1 vmid 1 global
        t.insert(entry({ inputBase: 0x3000, asid: 6 })); // s1 vmid 1 asid 6
        t.insert(entry({ inputBase: 0x4000, stage: 'nested', ipaBase: 0x9000, ipaSize: 0x1000 })); // nested vmid 1 asid 5
        t.insert(entry({ inputBase: 0x5000, stage: 's2', asid: -1, global: true })); // s2 vmid 1
        t.insert(entry({ inputBase: 0x6000, vmid: 2 })); // s1 vmid 2
        t.insert(entry({ inputBase: 0x7000, el2: true, vmid: 0 })); // EL2-E2H asid 5
        return t;
      };
      let t = fill();
      assert.equal(t.invalidate({ op: 'NH_ALL', vmid: 1 }).entries, 4);
      assert.deepEqual(bases(t), [0x6000, 0x7000, 0x5000]);
      t = fill();
      assert.equal(t.invalidate({ op: 'NH_ASID', vmid: 1, asid: 5 }).entries, 2); // 0x1000 and nested 0x4000; not global
      assert.deepEqual(bases(t).sort((a, b) => a - b), [0x2000, 0x3000, 0x5000, 0x6000, 0x7000]);
      t = fill();
      // NH_VAA of a range over all 7 pages: every ASID of VMID 1, stage 1 and nested only.
      assert.equal(t.invalidate({ op: 'NH_VAA', vmid: 1, addr: 0n, leaf: true, tg: 1, num: 7, scale: 0 }).entries, 4);
      assert.deepEqual(bases(t).sort((a, b) => a - b), [0x5000, 0x6000, 0x7000]);
    });

    it('EL2_ALL, EL2_ASID, EL2_VA, EL2_VAA: EL2 entries only', () => {
      const fill = (): Tlb => {
        const t = new Tlb();
        t.insert(entry({ el2: true, vmid: 0, asid: 5, inputBase: 0x1000 })); // E2H, ASID 5
        t.insert(entry({ el2: true, vmid: 0, asid: 6, inputBase: 0x1000 })); // E2H, ASID 6
        t.insert(entry({ el2: true, vmid: 0, asid: 0, global: true, inputBase: 0x2000 })); // plain EL2: global
        t.insert(entry({ inputBase: 0x1000 })); // EL1
        return t;
      };
      let t = fill();
      assert.equal(t.invalidate({ op: 'EL2_ALL' }).entries, 3);
      assert.equal(t.size, 1);
      t = fill();
      assert.equal(t.invalidate({ op: 'EL2_ASID', asid: 5 }).entries, 1);
      t = fill();
      assert.equal(t.invalidate({ op: 'EL2_VA', asid: 6, addr: 0x1000n, leaf: true }).entries, 1);
      assert.equal(t.invalidate({ op: 'EL2_VA', asid: 6, addr: 0x2000n, leaf: true }).entries, 1); // global
      t = fill();
      assert.equal(t.invalidate({ op: 'EL2_VAA', addr: 0x1000n, leaf: true }).entries, 2);
      assert.deepEqual(t.entries().map((e) => [e.el2, e.inputBase]), [[false, 0x1000], [true, 0x2000]]);
    });

    it('S12_VMALL and NSNH_ALL', () => {
      const t = new Tlb();
      t.insert(entry({ inputBase: 0x1000 }));
      t.insert(entry({ inputBase: 0x2000, stage: 'nested' }));
      t.insert(entry({ inputBase: 0x3000, stage: 's2', asid: -1, global: true }));
      t.insert(entry({ inputBase: 0x4000, vmid: 2, stage: 's2', asid: -1, global: true }));
      t.insert(entry({ inputBase: 0x5000, el2: true, vmid: 0 }));
      assert.equal(t.invalidate({ op: 'S12_VMALL', vmid: 1 }).entries, 3);
      assert.deepEqual(bases(t), [0x5000, 0x4000]);
      assert.equal(t.invalidate({ op: 'NSNH_ALL' }).entries, 1);
      assert.deepEqual(bases(t), [0x5000]);
    });

    it('S2_IPA drops stage-2 entries covering the IPA, not nested ones', () => {
      const t = new Tlb();
      t.insert(entry({ stage: 's2', asid: -1, global: true, inputBase: 0x4060_5000 }));
      t.insert(entry({ stage: 's2', asid: -1, global: true, inputBase: 0x4060_6000 }));
      t.insert(entry({ stage: 's2', asid: -1, global: true, vmid: 2, inputBase: 0x4060_5000 }));
      t.insert(entry({ stage: 'nested', inputBase: 0x80_8060_5000, ipaBase: 0x4060_5000, ipaSize: 0x1000 }));
      t.insert(entry({ stage: 's1', inputBase: 0x4060_5000 }));
      assert.equal(t.invalidate({ op: 'S2_IPA', vmid: 1, addr: 0x4060_5000n, leaf: true }).entries, 1);
      assert.deepEqual(t.entries().map((e) => [e.stage, e.vmid, e.inputBase]), [
        ['s1', 1, 0x4060_5000], ['s2', 1, 0x4060_6000], ['s2', 2, 0x4060_5000], ['nested', 1, 0x80_8060_5000],
      ]);
      // The pairing software uses for nested entries: NH_VAA by VA.
      assert.equal(t.invalidate({ op: 'NH_VAA', vmid: 1, addr: 0x80_8060_5000n, leaf: true }).entries, 1);
    });

    it('takes VAs in the TTB1 half from the Address field, sign-extended from bit 55', () => {
      const t = new Tlb();
      t.insert(entry({ inputBase: -0x3f_bfdf_d000 }));
      // VA 0xffff_ffc0_4020_3000 = 2^64 - 0x3f_bfdf_d000.
      assert.equal(t.invalidate({ op: 'NH_VA', vmid: 1, asid: 5, addr: 0xffff_ffc0_4020_3000n, leaf: true }).entries, 1);
    });

    it('applies a decoded command (CMD_TLBI_NH_VA, range fields as tlbiRange reads them)', () => {
      const t = new Tlb();
      for (let i = 0; i < 17; i++) t.insert(entry({ inputBase: 0x10_0000 + i * 0x1000 }));
      const d = cmd('TLBI_NH_VA', { VMID: 1, ASID: 5, Address: 0x10_0000n, TG: 1, NUM: 15, SCALE: 0, TTL: 3, Leaf: 1 });
      assert.deepEqual(tlbiCommandFrom('CMD_TLBI_NH_VA', d), {
        op: 'NH_VA', vmid: 1, asid: 5, addr: 0x10_0000n, leaf: true, tg: 1, num: 15, scale: 0, ttl: 3,
      } satisfies TlbiCommand);
      assert.equal(t.invalidateCommand('TLBI_NH_VA', d), 16);
      assert.deepEqual(bases(t), [0x11_0000]);
      assert.equal(t.invalidateCommand('TLBI_S12_VMALL', cmd('TLBI_S12_VMALL', { VMID: 1 })), 1);
      assert.equal(tlbiCommandFrom('TLBI_EL3_ALL', cmd('TLBI_EL3_ALL', {})), undefined);
    });
  });

  describe('walk cache', () => {
    // The 4K 48-bit walk of VA 0x80_8060_4abc through tables at 0x4000_0000 (see walk.test.ts):
    // table descriptors at levels 0, 1, 2 covering VA spans of 2^39, 2^30 and 2^21 bytes:
    //   L0 0x80_0000_0000 (+512GB) -> 0x4000_1000; L1 0x80_8000_0000 (+1GB) -> 0x4000_2000;
    //   L2 0x80_8060_0000 (+2MB) -> 0x4000_3000.
    const reader = (words: [number, bigint][]): DescriptorReader => {
      const m = new Map(words);
      return {
        read(addr: number, out: Uint32Array): void {
          const v = m.get(addr) ?? 0n;
          out[0] = Number(v & 0xffff_ffffn);
          out[1] = Number(v >> 32n);
        },
      };
    };
    const leafAttrs = 0xf44n; // AF | nG | IS | AP=RW | AttrIndx 1
    const walkA = (): { steps: WalkStep[]; r: WalkResult } => {
      const steps: WalkStep[] = [];
      const m = reader([
        [0x4000_0008, 0x4000_1003n], [0x4000_1010, 0x4000_2003n], [0x4000_2018, 0x4000_3003n], [0x4000_3020, 0x8765_4003n | leafAttrs],
      ]);
      const cfg = {
        asid: 3, vmid: 0, el2: false, oasBits: 48, tbi0: false, tbi1: false, affd: false, ha: false, hd: false, wxn: false,
        uwxn: false, pan: false, record: true, stall: false, mair: 0n,
        ttb0: { granule: 4 as const, inputBits: 48, startLevel: 0 as const, ttb: 0x4000_0000, ds: false, pa52: false, had: false },
      };
      const r = translate(0x80_8060_4abcn, cfg, undefined, m, steps) as WalkResult;
      return { steps, r };
    };

    it('records table descriptors by regime, level and the input span they cover', () => {
      const t = new Tlb();
      const { steps, r } = walkA();
      assert.equal(t.recordWalk({ vmid: 0, asid: 3, el2: false }, steps), 3);
      t.insert(Tlb.entryFor(r, { vmid: 0, asid: 3, el2: false }));
      assert.deepEqual(t.walkEntries().map((w) => [w.stage, w.level, w.inputBase, w.size, w.descAddr, w.tableAddr]), [
        [1, 0, 0x80_0000_0000, 0x80_0000_0000, 0x4000_0008, 0x4000_1000],
        [1, 1, 0x80_8000_0000, 0x4000_0000, 0x4000_1010, 0x4000_2000],
        [1, 2, 0x80_8060_0000, 0x20_0000, 0x4000_2018, 0x4000_3000],
      ]);
      assert.equal(t.lookup(0, 3, 's1', false, 0x80_8060_4abc)?.outputBase, 0x8765_4000);
    });

    it('keeps a walk\'s entry as numbers: views get it as an object with every field, snapshots stay apart', () => {
      const t = new Tlb();
      const { r } = walkA();
      t.insertWalk(r, { vmid: 0, asid: 3, el2: false });
      // The leaf 0x8765_4f47 (level 3, 4K): AttrIndx 1 (0x4) | AP 0b01 (0x40: read/write at EL0 and EL1)
      //   | SH 3 (0x300) | AF (0x400) | nG (0x800: not global). Writable at EL0, so not privileged-executable.
      const perms = { read: true, write: true, execPriv: false, execUnpriv: true, user: true };
      const e = {
        vmid: 0, asid: 3, global: false, el2: false, stage: 's1', inputBase: 0x80_8060_4000, size: 0x1000, outputBase: 0x8765_4000,
        level: 3, granule: 4, perms, attrIndx: 1, memAttr: undefined, sh: 3, ipaBase: undefined, ipaSize: undefined,
      };
      assert.deepEqual(t.entries(), [e]);
      assert.equal(t.lookup(0, 3, 's1', false, 0x80_8060_4abc), t.entries()[0], 'built once, then the same object');
      // The DMA path reads the row itself: 0x80_8060_4abc is 0xabc into the page at 0x8765_4000.
      const slot = t.find(0, 3, 's1', false, 0x80_8060_4abc);
      assert.equal(t.outputAt(slot, 0x80_8060_4abc), 0x8765_4abc);
      assert.deepEqual(t.permissionsAt(slot), perms);
      assert.equal(t.find(0, 3, 's1', false, 0x80_8060_5abc), -1); // the next page
      assert.equal(t.find(0, 4, 's1', false, 0x80_8060_4abc), -1); // another ASID (the entry is not global)

      const snap = t.snapshot();
      t.insertWalk(r, { vmid: 0, asid: 4, el2: false });
      assert.equal(t.size, 2);
      assert.equal(snap.size, 1);
      assert.equal(snap.find(0, 4, 's1', false, 0x80_8060_4abc), -1);
      assert.deepEqual(snap.entries(), [e]);
      assert.deepEqual(t.entries().map((x) => x.asid), [3, 4]);
      // A TLBI keeps the other ASID's entry as it was.
      assert.deepEqual(t.invalidate({ op: 'NH_ASID', vmid: 0, asid: 3 }), { entries: 1, walks: 0 });
      assert.deepEqual(t.entries(), [{ ...e, asid: 4 }]);
    });

    it('rows keep every field of a walk\'s entry: a TTB1 input, a 16-bit ASID, a nested IPA, a stage-2 entry', () => {
      const t = new Tlb();
      const leaf = (more: Partial<WalkResult>): WalkResult => ({
        pa: 0, inputBase: 0x1000, outputBase: 0x8000_0000, size: 0x1000, level: 3, perms: ALL_PERMISSIONS, attrIndx: 1,
        memAttr: undefined, sh: 3, stage: 's1', granule: 4, global: false, ipaBase: undefined, ...more,
      });
      // TTB1: VA 0xffff_ffc0_4020_3000 in a 39-bit range is -2^39 + 0x40_4020_3000 = -0x3f_bfdf_d000.
      t.insertWalk(leaf({ inputBase: -0x3f_bfdf_d000 }), { vmid: 1, asid: 0xabcd, el2: false });
      // A 2 MiB nested block whose IPA is 0x80_4020_0000, stage-2 MemAttr 0xf, 16K granule at stage 1.
      t.insertWalk(leaf({ stage: 'nested', inputBase: 0x4000_0000, size: 0x20_0000, level: 2, outputBase: 0x9_8760_0000, memAttr: 0xf,
        granule: 16, ipaBase: 0x80_4020_0000 }), { vmid: 2, asid: 7, el2: false });
      // Stage 2: ASID -1 and global whatever the tag says; 64K granule, level 3.
      t.insertWalk(leaf({ stage: 's2', inputBase: 0x5_0000, size: 0x1_0000, attrIndx: undefined, memAttr: 5, granule: 64, global: true }),
        { vmid: 3, asid: 9, el2: false });
      const none = { ipaBase: undefined, ipaSize: undefined };
      assert.deepEqual(t.entries(), [
        { vmid: 1, asid: 0xabcd, global: false, el2: false, stage: 's1', inputBase: -0x3f_bfdf_d000, size: 0x1000, outputBase: 0x8000_0000,
          level: 3, granule: 4, perms: ALL_PERMISSIONS, attrIndx: 1, memAttr: undefined, sh: 3, ...none },
        { vmid: 3, asid: -1, global: true, el2: false, stage: 's2', inputBase: 0x5_0000, size: 0x1_0000, outputBase: 0x8000_0000,
          level: 3, granule: 64, perms: ALL_PERMISSIONS, attrIndx: undefined, memAttr: 5, sh: 3, ...none },
        { vmid: 2, asid: 7, global: false, el2: false, stage: 'nested', inputBase: 0x4000_0000, size: 0x20_0000, outputBase: 0x9_8760_0000,
          level: 2, granule: 16, perms: ALL_PERMISSIONS, attrIndx: 1, memAttr: 0xf, sh: 3, ipaBase: 0x80_4020_0000, ipaSize: 0x20_0000 },
      ]);
      // -0x3f_bfdf_d000 + 0x123 is 0x123 into the TTB1 page; 0x4012_3456 is 0x12_3456 into the block.
      assert.equal(t.outputAt(t.find(1, 0xabcd, 's1', false, -0x3f_bfdf_d000 + 0x123), -0x3f_bfdf_d000 + 0x123), 0x8000_0123);
      assert.equal(t.outputAt(t.find(2, 7, 'nested', false, 0x4012_3456), 0x4012_3456), 0x9_8772_3456);
      assert.equal(t.outputAt(t.find(3, 0, 's2', false, 0x5_4321), 0x5_4321), 0x8000_4321);
    });

    it('Leaf=1 keeps the walk cache; Leaf=0 drops it, above the TTL level with a level hint', () => {
      const fill = (): Tlb => {
        const t = new Tlb();
        const { steps, r } = walkA();
        t.recordWalk({ vmid: 0, asid: 3, el2: false }, steps);
        t.insert(Tlb.entryFor(r, { vmid: 0, asid: 3, el2: false }));
        return t;
      };
      let t = fill();
      assert.deepEqual(t.invalidate({ op: 'NH_VA', vmid: 0, asid: 3, addr: 0x80_8060_4000n, leaf: true }), { entries: 1, walks: 0 });
      t = fill();
      assert.deepEqual(t.invalidate({ op: 'NH_VA', vmid: 0, asid: 3, addr: 0x80_8060_4000n, leaf: false }), { entries: 1, walks: 3 });
      t = fill();
      // TTL 3 (4K): tables at levels 0-2 all lie before the leaf level.
      const hint = { addr: 0x80_8060_4000n, leaf: false, tg: 1, num: 0, scale: 0 };
      assert.deepEqual(t.invalidate({ op: 'NH_VA', vmid: 0, asid: 3, ...hint, ttl: 3 }), { entries: 1, walks: 3 });
      t = fill();
      // TTL 2: the level-2 table entry is not required (nor the level-3 page).
      assert.deepEqual(t.invalidate({ op: 'NH_VA', vmid: 0, asid: 3, ...hint, ttl: 2 }), { entries: 0, walks: 2 });
      assert.deepEqual(t.walkEntries().map((w) => w.level), [2]);
      t = fill();
      assert.deepEqual(t.invalidate({ op: 'NH_VA', vmid: 0, asid: 4, addr: 0x80_8060_4000n, leaf: false }), { entries: 0, walks: 0 });
      assert.deepEqual(t.invalidate({ op: 'NH_ASID', vmid: 0, asid: 3 }), { entries: 1, walks: 3 });
    });

    it('stage-2 walk-cache entries go with S2_IPA Leaf=0 and S12_VMALL', () => {
      const t = new Tlb();
      const s2steps: WalkStepDetail[] = [
        // A stage-2 level-1 table step for IPA 0x4060_5abc (covers 0x4000_0000 +1GB) and a level-2 one (0x4060_0000 +2MB).
        { stage: 2, level: 1, descAddr: 0x1000_0008, desc: 0x1000_1003n, type: 'table', source: 'memory', input: 0x4060_5abc, granule: 4, next: 0x1000_1000 },
        { stage: 2, level: 2, descAddr: 0x1000_1018, desc: 0x1000_2003n, type: 'table', source: 'memory', input: 0x4060_5abc, granule: 4, next: 0x1000_2000 },
        { stage: 2, level: 3, descAddr: 0x1000_2028, desc: 0x3000_77ffn, type: 'page', source: 'memory', input: 0x4060_5abc, granule: 4 },
      ];
      assert.equal(t.recordWalk({ vmid: 7, asid: 3, el2: false }, s2steps), 2);
      assert.deepEqual(t.walkEntries().map((w) => [w.stage, w.asid, w.level, w.inputBase]), [[2, -1, 1, 0x4000_0000], [2, -1, 2, 0x4060_0000]]);
      const snap = t.snapshot();
      assert.deepEqual(t.invalidate({ op: 'NH_ALL', vmid: 7 }), { entries: 0, walks: 0 });
      assert.deepEqual(t.invalidate({ op: 'S2_IPA', vmid: 7, addr: 0x4060_5000n, leaf: true }), { entries: 0, walks: 0 });
      assert.deepEqual(t.invalidate({ op: 'S2_IPA', vmid: 7, addr: 0x4060_5000n, leaf: false }), { entries: 0, walks: 2 });
      assert.deepEqual(snap.invalidate({ op: 'S12_VMALL', vmid: 7 }), { entries: 0, walks: 2 });
    });
  });

  describe('snapshots', () => {
    it('are independent copies (copy-on-write)', () => {
      const t = new Tlb();
      t.insert(entry({ inputBase: 0x1000 }));
      const one: WalkStepDetail[] = [
        { stage: 1, level: 2, descAddr: 0x100, desc: 0x2003n, type: 'table', source: 'memory', input: 0x1000, granule: 4, next: 0x2000 },
      ];
      t.recordWalk({ vmid: 1, asid: 5, el2: false }, one);
      const a = t.snapshot();
      const b = t.snapshot();
      t.insert(entry({ inputBase: 0x2000 }));
      assert.deepEqual(bases(t), [0x1000, 0x2000]);
      assert.deepEqual(bases(a), [0x1000]);
      assert.deepEqual(bases(b), [0x1000]);
      a.invalidate({ op: 'NSNH_ALL' });
      assert.equal(a.size, 0);
      assert.equal(a.walkEntries().length, 0);
      assert.equal(b.size, 1);
      assert.equal(b.walkEntries().length, 1);
      assert.equal(t.size, 2);
      assert.equal(t.walkEntries().length, 1);
      b.insert(entry({ inputBase: 0x3000 }));
      assert.deepEqual(bases(b), [0x1000, 0x3000]);
      assert.deepEqual(bases(t), [0x1000, 0x2000]);
      t.clear();
      assert.equal(t.size, 0);
      assert.equal(b.size, 2);
      assert.equal(b.lookup(1, 5, 's1', false, 0x1abc)?.inputBase, 0x1000);
    });
  });
});
