/**
 * Command queue tables: hand-worked vectors (the arithmetic is in the comments), the
 * lookup functions, field round-trips and every rule broken once and kept once.
 */
import { strict as assert } from 'node:assert';
import { bitsInWord, FieldSpec, Layout, mask, ArchContext } from '../../src/arch/field';
import { decode, encode, findField, validate } from '../../src/arch/codec';
import {
  CERROR, commandByName, commandByOpcode, commandLayoutFor, CommandLayout, COMMANDS, tlbiRange,
} from '../../src/arch/commands';

const cmd = (name: string): CommandLayout => {
  const c = commandByName(name);
  assert.ok(c, name);
  return c;
};

/** Decode words with the layout their opcode selects. */
const dec = (words: bigint[], ctx: ArchContext = {}) => decode(commandLayoutFor(words), words, ctx);

const rulesOf = (words: bigint[], ctx: ArchContext = {}) => dec(words, ctx).problems.map((p) => `${p.rule}:${p.field ?? ''}:${p.severity}`);

/** Problems of `layout` built from `fields` (Opcode filled in), as rule:field:severity. */
function problems(name: string, fields: Record<string, bigint | number | string>, ctx: ArchContext = {}): string[] {
  const c = cmd(name);
  return validate(c, encode(c, { Opcode: c.opcode, ...fields }), ctx).map((p) => `${p.rule}:${p.field ?? ''}:${p.severity}`);
}

const named = (l: Layout): FieldSpec[] => l.fields.filter((f) => f.kind !== 'reserved');

describe('arch/commands', () => {
  describe('tables', () => {
    it('has every command of 4.1.1 with its opcode', () => {
      const expected: Record<string, number> = {
        PREFETCH_CONFIG: 0x01, PREFETCH_ADDR: 0x02, CFGI_STE: 0x03, CFGI_STE_RANGE: 0x04, CFGI_ALL: 0x04, CFGI_CD: 0x05,
        CFGI_CD_ALL: 0x06, CFGI_VMS_PIDM: 0x07, TLBI_NH_ALL: 0x10, TLBI_NH_ASID: 0x11, TLBI_NH_VA: 0x12, TLBI_NH_VAA: 0x13,
        TLBI_EL3_ALL: 0x18, TLBI_EL3_VA: 0x1a, TLBI_EL2_ALL: 0x20, TLBI_EL2_ASID: 0x21, TLBI_EL2_VA: 0x22, TLBI_EL2_VAA: 0x23,
        TLBI_S12_VMALL: 0x28, TLBI_S2_IPA: 0x2a, TLBI_NSNH_ALL: 0x30, ATC_INV: 0x40, PRI_RESP: 0x41, RESUME: 0x44,
        STALL_TERM: 0x45, SYNC: 0x46, TLBI_S_EL2_ALL: 0x50, TLBI_S_EL2_ASID: 0x51, TLBI_S_EL2_VA: 0x52, TLBI_S_EL2_VAA: 0x53,
        TLBI_S_S12_VMALL: 0x58, TLBI_S_S2_IPA: 0x5a, TLBI_SNH_ALL: 0x60, DPTI_ALL: 0x70, DPTI_PA: 0x73,
      };
      assert.equal(COMMANDS.length, Object.keys(expected).length);
      for (const [n, op] of Object.entries(expected)) {
        const c = cmd(n);
        assert.equal(c.opcode, op, n);
        assert.equal(c.name, `CMD_${n}`);
        assert.equal(c.kind, `cmd.${n}`);
        assert.ok(c.title.startsWith(`CMD_${n} (`) && c.title.endsWith(')'), c.title);
        assert.equal(c.wordBits, 64);
        assert.equal(c.words, 2);
      }
      assert.equal(cmd('CFGI_STE').title, 'CMD_CFGI_STE (invalidate one STE)');
    });

    it('groups the commands', () => {
      const group = (n: string): string => cmd(n).group;
      assert.equal(group('PREFETCH_ADDR'), 'prefetch');
      assert.equal(group('CFGI_ALL'), 'cfgi');
      assert.equal(group('TLBI_S2_IPA'), 'tlbi');
      assert.equal(group('ATC_INV'), 'atc');
      assert.equal(group('PRI_RESP'), 'pri');
      assert.equal(group('STALL_TERM'), 'stall');
      assert.equal(group('SYNC'), 'sync');
      assert.equal(group('DPTI_PA'), 'dpt');
    });

    it('accounts for all 128 bits of every command once, and names Opcode [7:0]', () => {
      for (const c of COMMANDS) {
        const seen = new Array<number>(128).fill(0);
        for (const f of c.fields) for (let b = f.lo; b <= f.hi; b++) seen[b]++;
        assert.equal(seen.findIndex((n) => n !== 1), -1, c.kind);
        const op = findField(c, 'op');
        assert.ok(op && op.hi === 7 && op.lo === 0, c.kind);
        assert.deepEqual(op.values?.map((v) => v.value), [c.opcode]);
      }
    });

    it('places the fields where the Linux CMDQ_* masks put them (per-qword view)', () => {
      const at = (n: string, f: string): [number, number, number] => {
        const c = cmd(n);
        const spec = findField(c, f);
        assert.ok(spec, `${n}.${f}`);
        const [hi, lo] = bitsInWord(c, spec);
        return [Math.floor(spec.lo / 64), hi, lo];
      };
      // CMDQ_0_SSV BIT(11); CMDQ_CFGI_0_SSID GENMASK(31,12); CMDQ_CFGI_0_SID GENMASK(63,32); CMDQ_CFGI_1_LEAF BIT(0)
      assert.deepEqual(at('CFGI_CD', 'ssid'), [0, 31, 12]);
      assert.deepEqual(at('CFGI_CD', 'sid'), [0, 63, 32]);
      assert.deepEqual(at('CFGI_CD', 'leaf'), [1, 0, 0]);
      assert.deepEqual(at('CFGI_STE_RANGE', 'range'), [1, 4, 0]); // CMDQ_CFGI_1_RANGE GENMASK(4,0)
      // CMDQ_TLBI_0_NUM GENMASK(16,12), _SCALE (24,20) in Linux, (25,20) in the spec; _VMID (47,32); _ASID (63,48)
      assert.deepEqual(at('TLBI_NH_VA', 'num'), [0, 16, 12]);
      assert.deepEqual(at('TLBI_NH_VA', 'scale'), [0, 25, 20]);
      assert.deepEqual(at('TLBI_NH_VA', 'vmid'), [0, 47, 32]);
      assert.deepEqual(at('TLBI_NH_VA', 'asid'), [0, 63, 48]);
      // CMDQ_TLBI_1_LEAF BIT(0), _TTL (9,8), _TG (11,10), _VA_MASK (63,12)
      assert.deepEqual(at('TLBI_NH_VA', 'ttl'), [1, 9, 8]);
      assert.deepEqual(at('TLBI_NH_VA', 'tg'), [1, 11, 10]);
      assert.deepEqual(at('TLBI_NH_VA', 'addr'), [1, 63, 12]);
      assert.deepEqual(at('TLBI_S2_IPA', 'addr'), [1, 55, 12]); // spec IPA[55:12]; Linux masks (51,12)
      // CMDQ_ATC_0_GLOBAL BIT(9); CMDQ_ATC_1_SIZE (5,0)
      assert.deepEqual(at('ATC_INV', 'global'), [0, 9, 9]);
      assert.deepEqual(at('ATC_INV', 'size'), [1, 5, 0]);
      // CMDQ_PRI_1_GRPID (8,0), CMDQ_PRI_1_RESP (13,12)
      assert.deepEqual(at('PRI_RESP', 'grpid'), [1, 8, 0]);
      assert.deepEqual(at('PRI_RESP', 'resp'), [1, 13, 12]);
      // CMDQ_RESUME_0_RESP (13,12) is Ac [12] + Ab [13]; CMDQ_RESUME_1_STAG (15,0)
      assert.deepEqual(at('RESUME', 'ac'), [0, 12, 12]);
      assert.deepEqual(at('RESUME', 'ab'), [0, 13, 13]);
      assert.deepEqual(at('RESUME', 'stag'), [1, 15, 0]);
      // CMDQ_SYNC_0_CS (13,12), _MSH (23,22), _MSIATTR (27,24), _MSIDATA (63,32); CMDQ_SYNC_1_MSIADDR_MASK (51,2) / spec (55,2)
      assert.deepEqual(at('SYNC', 'cs'), [0, 13, 12]);
      assert.deepEqual(at('SYNC', 'msh'), [0, 23, 22]);
      assert.deepEqual(at('SYNC', 'msiattr'), [0, 27, 24]);
      assert.deepEqual(at('SYNC', 'msidata'), [0, 63, 32]);
      assert.deepEqual(at('SYNC', 'msiaddr'), [1, 55, 2]);
    });

    it('accepts the Linux spellings as aliases', () => {
      const aliases: Record<string, string[]> = {
        CFGI_CD: ['sid', 'ssid', 'leaf'], CFGI_STE_RANGE: ['range'], ATC_INV: ['ssv', 'global', 'size', 'addr'],
        TLBI_NH_VA: ['asid', 'vmid', 'num', 'scale', 'ttl', 'tg', 'leaf', 'addr'],
        SYNC: ['cs', 'msh', 'msiattr', 'msidata', 'msiaddr'], PRI_RESP: ['grpid', 'resp'], RESUME: ['stag'],
      };
      for (const [n, names] of Object.entries(aliases)) for (const a of names) assert.ok(findField(cmd(n), a), `${n}.${a}`);
    });

    it('round-trips every named field of every command alone, leaving the others zero', () => {
      for (const c of COMMANDS) {
        for (const f of named(c)) {
          const ones = mask(f.hi - f.lo + 1);
          const v = f.kind === 'address' ? ones << BigInt(f.lo % 64) : ones;
          const d = decode(c, encode(c, { [f.name]: v }));
          assert.equal(d.get(f.name), v, `${c.kind}.${f.name}`);
          for (const o of named(c)) if (o !== f) assert.equal(d.get(o.name), 0n, `${c.kind}: ${f.name} leaked into ${o.name}`);
        }
      }
    });

    it('never throws in rules or summaries, whatever the words and layout', () => {
      const ctx: ArchContext = {
        oas: 44, ssidSize: 0, sidSize: 8, s1p: false, s2p: false, hyp: false, ats: false, stallModel: 1,
        asid16: false, vmid16: false, ril: false, granules: [4], e2h: false,
      };
      const patterns = [0n, (1n << 64n) - 1n, 0x5555555555555555n, 0xaaaaaaaaaaaaaaaan];
      for (const c of COMMANDS) {
        for (const a of patterns) for (const b of patterns) {
          for (const x of [{}, ctx]) {
            const d = decode(c, [a, b], x);
            assert.equal(typeof d.summary, 'string');
          }
        }
      }
    });
  });

  describe('lookup', () => {
    it('commandByOpcode', () => {
      assert.equal(commandByOpcode(0x46)?.name, 'CMD_SYNC');
      assert.equal(commandByOpcode(0x04)?.name, 'CMD_CFGI_STE_RANGE');
      assert.equal(commandByOpcode(0x7f), undefined);
      assert.equal(commandByOpcode(0x00), undefined);
    });

    it('commandByName takes CMD_SYNC, SYNC, cmd_sync and the Linux CMDQ_OP_ names', () => {
      for (const n of ['CMD_SYNC', 'SYNC', 'cmd_sync', 'sync', ' Cmd_Sync ', 'CMDQ_OP_CMD_SYNC']) assert.equal(commandByName(n)?.opcode, 0x46, n);
      assert.equal(commandByName('CMDQ_OP_PREFETCH_CFG')?.name, 'CMD_PREFETCH_CONFIG');
      assert.equal(commandByName('cfgi_all')?.name, 'CMD_CFGI_ALL');
      assert.equal(commandByName('CMDQ_OP_TLBI_NH_VA')?.name, 'CMD_TLBI_NH_VA');
      assert.equal(commandByName('CMD_NOPE'), undefined);
    });

    it('commandLayoutFor picks by opcode, CFGI_ALL for 0x04 with Range 31', () => {
      assert.equal(commandLayoutFor([0x46n, 0n]).kind, 'cmd.SYNC');
      assert.equal(commandLayoutFor([0x04n, 0x1fn]).kind, 'cmd.CFGI_ALL');
      assert.equal(commandLayoutFor([0x04n, 0x05n]).kind, 'cmd.CFGI_STE_RANGE');
      assert.equal(commandLayoutFor([]).kind, 'cmd'); // opcode 0x00 is reserved
      assert.equal(commandLayoutFor([0x85n, 0n]).kind, 'cmd.IMPDEF');
    });

    it('CERROR codes', () => {
      assert.deepEqual(CERROR.map((e) => [e.value, e.name]), [[0, 'NONE'], [1, 'ILL'], [2, 'ABT'], [3, 'ATC_INV_SYNC']]);
      for (const e of CERROR) assert.ok(e.meaning.length > 10);
    });
  });

  describe('hand-worked vectors', () => {
    it('CMD_SYNC as Linux builds it with MSIPOLL', () => {
      // word0 = 0x46 | CS IRQ 1<<12 (0x1000) | MSH ISH 3<<22 (0xc00000) | MSIATTR OIWB 0xf<<24 (0xf000000) | MSIDATA 0<<32
      //       = 0x0fc01046
      // word1 = MSIADDR 0x40000100 held in place in bits [55:2]
      const words = [0x000000000fc01046n, 0x0000000040000100n];
      const c = cmd('SYNC');
      assert.deepEqual(encode(c, { op: 'CMD_SYNC', cs: 'IRQ', msh: 'ISH', msiattr: 'OIWB', msidata: 0, msiaddr: 0x40000100n }), words);
      const d = dec(words);
      assert.equal(d.layout, c);
      assert.equal(d.field('CS')?.valueName, 'IRQ');
      assert.equal(d.field('MSIAttr')?.raw, 0xfn);
      assert.equal(d.get('MSIAddress'), 0x40000100n);
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'CMD_SYNC CS=IRQ, MSI write 0 to 0x40000100 (ISH, OIWB)');
    });

    it('CMD_SYNC as Linux builds it without MSIPOLL (CS=SEV)', () => {
      // word0 = 0x46 | CS SEV 2<<12 (0x2000) | MSH ISH (0xc00000) | MSIATTR OIWB (0xf000000) = 0x0fc02046; word1 = 0
      const words = [0x000000000fc02046n, 0n];
      assert.deepEqual(encode(cmd('SYNC'), { op: 0x46, cs: 'SEV', msh: 3, msiattr: 0xf }), words);
      const d = dec(words);
      assert.equal(d.summary, 'CMD_SYNC CS=SEV');
      assert.deepEqual(d.problems, []);
      // With SEV the MSI fields are not used.
      assert.equal(d.field('MSIAttr')?.relevant, false);
    });

    it('CFGI_STE SID 0x42 leaf', () => {
      // word0 = 0x03 | 0x42<<32 = 0x0000004200000003; word1 = Leaf 1
      const words = [0x0000004200000003n, 1n];
      assert.deepEqual(encode(cmd('CFGI_STE'), { op: 3, sid: 0x42, leaf: 1 }), words);
      const d = dec(words);
      assert.equal(d.summary, 'CFGI_STE SID 0x42 (leaf)');
      assert.deepEqual(d.problems, []);
    });

    it('CFGI_CD SID 0x42 SSID 5 leaf', () => {
      // word0 = 0x05 | SSID 5<<12 (0x5000) | SID 0x42<<32 = 0x0000004200005005; word1 = Leaf 1
      const words = [0x0000004200005005n, 1n];
      assert.deepEqual(encode(cmd('CFGI_CD'), { op: 5, sid: 0x42, ssid: 5, leaf: true }), words);
      assert.equal(dec(words).summary, 'CFGI_CD SID 0x42 SSID 5 (leaf)');
    });

    it('CFGI_ALL as Linux builds it: opcode 0x04, Range 31', () => {
      // word0 = 0x04; word1 = RANGE 31 = 0x1f
      const words = [0x04n, 0x1fn];
      assert.deepEqual(encode(cmd('CFGI_ALL'), { op: 4, range: 31 }), words);
      const d = dec(words);
      assert.equal(d.layout.kind, 'cmd.CFGI_ALL');
      assert.equal(d.summary, 'CFGI_ALL (all STEs and CDs)');
      assert.equal(d.field('StreamID')?.relevant, false);
      assert.deepEqual(d.problems, []);
      // Read as CFGI_STE_RANGE it says the same.
      assert.equal(decode(cmd('CFGI_STE_RANGE'), words).summary, 'CFGI_ALL (all STEs and CDs)');
    });

    it('CFGI_STE_RANGE SID 0x40 Range 5', () => {
      // 2^(5+1) = 64 StreamIDs from 0x40: 0x40..0x7f. word0 = 0x04 | 0x40<<32; word1 = 5
      const words = [0x0000004000000004n, 5n];
      assert.equal(dec(words).summary, 'CFGI_STE_RANGE SID 0x40..0x7f (64 STEs)');
    });

    it('TLBI_NH_ASID ASID 7', () => {
      // word0 = 0x11 | VMID 0<<32 | ASID 7<<48 = 0x0007000000000011
      const words = [0x0007000000000011n, 0n];
      assert.deepEqual(encode(cmd('TLBI_NH_ASID'), { op: 0x11, asid: 7 }), words);
      assert.equal(dec(words).summary, 'TLBI_NH_ASID ASID 7 VMID 0');
    });

    it('TLBI_NH_VA with RIL fields as Linux computes them: 16 x 4K at 0x10000', () => {
      // Linux: tg = 12 -> TG = (12-10)/2 = 1; leaf TTL = 4 - (12-3)/(12-3) = 3; num_pages = 0x10000 >> 12 = 16;
      // scale = ctz(16) = 4; num = (16 >> 4) & 31 = 1; NUM field = num-1 = 0; range = 1 << (4+12) = 64K.
      // word0 = 0x12 | NUM 0<<12 | SCALE 4<<20 (0x400000) | VMID 0 | ASID 1<<48 = 0x0001000000400012
      // word1 = Leaf 1 | TTL 3<<8 (0x300) | TG 1<<10 (0x400) | VA 0x10000 = 0x10701
      const words = [0x0001000000400012n, 0x0000000000010701n];
      assert.deepEqual(encode(cmd('TLBI_NH_VA'), { op: 0x12, num: 0, scale: 4, asid: 1, leaf: 1, ttl: 3, tg: '4K', addr: 0x10000n }), words);
      const d = dec(words, { ril: true, granules: [4] });
      assert.equal(d.summary, 'TLBI_NH_VA ASID 1 VMID 0 VA 0x10000 range: 16 pages of 4K (NUM 0, SCALE 4), TTL level 3, leaf');
      assert.deepEqual(d.problems, []);
      // (NUM+1) * 2^SCALE = 1 * 16 pages of 4096 bytes from 0x10000
      assert.deepEqual(tlbiRange(d), { start: 0x10000n, pages: 16, pageSize: 4096 });
    });

    it('TLBI_NH_VA, the same 16 pages as NUM 15 SCALE 0', () => {
      // word0 = 0x12 | NUM 15<<12 (0xf000) | ASID 1<<48 = 0x000100000000f012; word1 as above
      const d = dec([0x000100000000f012n, 0x10701n]);
      assert.equal(d.summary, 'TLBI_NH_VA ASID 1 VMID 0 VA 0x10000 range: 16 pages of 4K (NUM 15, SCALE 0), TTL level 3, leaf');
      assert.deepEqual(tlbiRange(d), { start: 0x10000n, pages: 16, pageSize: 4096 });
    });

    it('TLBI_S2_IPA, one address (TG = 0)', () => {
      // word0 = 0x2a | VMID 3<<32 = 0x000000030000002a; word1 = IPA 0x80000000 | Leaf 1 = 0x80000001
      const words = [0x000000030000002an, 0x0000000080000001n];
      assert.deepEqual(encode(cmd('TLBI_S2_IPA'), { op: 0x2a, vmid: 3, addr: 0x80000000n, leaf: 1 }), words);
      const d = dec(words);
      assert.equal(d.summary, 'TLBI_S2_IPA VMID 3 IPA 0x80000000, leaf');
      assert.deepEqual(d.problems, []);
      assert.deepEqual(tlbiRange(d), { start: 0x80000000n, pages: 1, pageSize: 0 });
    });

    it('TLBI_S2_IPA for a 2MB block, as Linux computes it', () => {
      // tg = 12 -> TG 1; granule 2MB -> TTL = 4 - (21-3)/(12-3) = 2; num_pages = 0x200000 >> 12 = 512;
      // scale = ctz(512) = 9; num = (512 >> 9) & 31 = 1 -> NUM 0.
      // word0 = 0x2a | SCALE 9<<20 (0x900000) | VMID 3<<32 = 0x000000030090002a
      // word1 = Leaf 1 | TTL 2<<8 (0x200) | TG 1<<10 (0x400) | IPA 0x40200000 = 0x40200601
      const words = [0x000000030090002an, 0x0000000040200601n];
      const d = dec(words, { ril: true });
      assert.equal(d.summary, 'TLBI_S2_IPA VMID 3 IPA 0x40200000 range: 512 pages of 4K (NUM 0, SCALE 9), TTL level 2, leaf');
      assert.deepEqual(d.problems, []); // 0x40200000 is 2MB aligned
      assert.deepEqual(tlbiRange(d), { start: 0x40200000n, pages: 512, pageSize: 4096 });
    });

    it('tlbiRange: 64K granule, SCALE above 39 taken as 39, and commands without a range', () => {
      // TG 3 (64K), NUM 1, SCALE 2: (1+1) * 2^2 = 8 pages of 65536
      const c = cmd('TLBI_NH_VAA');
      const d = decode(c, encode(c, { op: 0x13, tg: 3, num: 1, scale: 2, addr: 0x100000n }));
      assert.deepEqual(tlbiRange(d), { start: 0x100000n, pages: 8, pageSize: 65536 });
      const big = decode(c, encode(c, { op: 0x13, tg: 1, num: 0, scale: 63 }));
      assert.equal(tlbiRange(big)?.pages, 2 ** 39);
      assert.equal(tlbiRange(dec([0x0007000000000011n, 0n])), undefined); // TLBI_NH_ASID
      assert.equal(tlbiRange(dec([0x46n, 0n])), undefined);
    });

    it('ATC_INV with SIZE 52 (everything)', () => {
      // Linux size 0 -> ATC_INV_SIZE_ALL = 52. word0 = 0x40 | SID 3<<32 = 0x0000000300000040; word1 = 52 = 0x34
      const words = [0x0000000300000040n, 0x34n];
      assert.deepEqual(encode(cmd('ATC_INV'), { op: 0x40, sid: 3, size: 52 }), words);
      const d = dec(words);
      assert.equal(d.summary, 'ATC_INV SID 3 all');
      assert.deepEqual(d.problems, []);
    });

    it('ATC_INV of 0x0..0xffff, as Linux computes the span', () => {
      // iova 0, size 0x10000: page_start 0, page_end 0xf; log2_span = fls(0 ^ 0xf) = 4 -> Size 4, addr 0.
      // 4KB * 2^4 = 64KB: 0x0..0xffff. word1 = Size 4
      assert.equal(dec([0x0000000300000040n, 4n]).summary, 'ATC_INV SID 3 0x0..0xffff');
      // With SSV (bit 11, 0x800) and SSID 0: word0 = 0x0000000300000840
      assert.equal(dec([0x0000000300000840n, 4n]).summary, 'ATC_INV SID 3 SSID 0 0x0..0xffff');
    });

    it('PRI_RESP SID 4 SSID 2 GRPID 0x1f SUCC', () => {
      // word0 = 0x41 | SSV 1<<11 (0x800) | SSID 2<<12 (0x2000) | SID 4<<32 = 0x0000000400002841
      // word1 = GRPID 0x1f | RESP SUCC 2<<12 (0x2000) = 0x201f
      const words = [0x0000000400002841n, 0x201fn];
      assert.deepEqual(encode(cmd('PRI_RESP'), { op: 0x41, ssv: 1, ssid: 2, sid: 4, grpid: 0x1f, resp: 'SUCC' }), words);
      const d = dec(words);
      assert.equal(d.summary, 'PRI_RESP SID 4 SSID 2 GRPID 0x1f SUCC');
      assert.deepEqual(d.problems, []);
    });

    it('RESUME as Linux builds it (RESP RETRY / ABORT)', () => {
      // Linux CMDQ_RESUME_0_RESP [13:12]: RETRY 1 -> Ac (bit 12) = 1.
      // word0 = 0x44 | 1<<12 (0x1000) | SID 5<<32 = 0x0000000500001044; word1 = STAG 0x12
      const words = [0x0000000500001044n, 0x12n];
      assert.deepEqual(encode(cmd('RESUME'), { op: 0x44, ac: 1, sid: 5, stag: 0x12 }), words);
      assert.equal(dec(words).summary, 'RESUME SID 5 STAG 0x12 RETRY');
      // ABORT 2 -> Ab (bit 13), Ac 0: word0 = 0x0000000500002044
      assert.equal(dec([0x0000000500002044n, 0x12n]).summary, 'RESUME SID 5 STAG 0x12 ABORT');
      // TERM 0: RAZ/WI
      assert.equal(dec([0x0000000500000044n, 0x12n]).summary, 'RESUME SID 5 STAG 0x12 TERM (RAZ/WI)');
    });

    it('an unknown opcode 0x7f is illegal', () => {
      const d = dec([0x7fn, 0n]);
      assert.equal(d.layout.kind, 'cmd');
      assert.equal(d.summary, 'opcode 0x7f: not a command (CERROR_ILL)');
      assert.deepEqual(d.problems.map((p) => [p.rule, p.severity, p.field]), [['illegal', 'error', 'Opcode']]);
      assert.match(d.problems[0].message, /opcode 0x7f is not a command; the SMMU stops the queue with CONS\.ERR = CERROR_ILL/);
      // Its other bits are shown, not judged.
      assert.equal(dec([0xdead00007fn, 1n]).problems.length, 1);
    });

    it('an IMPLEMENTATION DEFINED opcode is a warning', () => {
      assert.deepEqual(rulesOf([0x80n, 0n]), ['impdef:Opcode:warning']);
    });

    it('other summaries', () => {
      assert.equal(dec([0x0000000500000801n, 0n]).summary, 'PREFETCH_CONFIG SID 5 SSID 0');
      assert.equal(dec([0x0000000500000006n, 0n]).summary, 'CFGI_CD_ALL SID 5');
      assert.equal(dec([0x10n, 0n]).summary, 'TLBI_NH_ALL VMID 0');
      assert.equal(dec([0x0000000300000028n, 0n]).summary, 'TLBI_S12_VMALL VMID 3');
      assert.equal(dec([0x30n, 0n]).summary.startsWith('TLBI_NSNH_ALL'), true);
      assert.equal(dec([0x0000000500000045n, 0n]).summary, 'STALL_TERM SID 5');
      assert.equal(dec([0x46n, 0n]).summary, 'CMD_SYNC CS=NONE');
      // PREFETCH_ADDR: Size 4 (16 translations), Stride 9 (2MB): word1 = 4 | 9<<5 (0x120) | addr 0x200000
      assert.equal(dec([0x0000000500000002n, 0x200124n]).summary, 'PREFETCH_ADDR SID 5 0x200000, 16 x 2M');
    });
  });

  describe('rules', () => {
    const ok = (list: string[]): void => assert.deepEqual(list, []);

    it('SSec = 1 is illegal on the Non-secure queue', () => {
      assert.deepEqual(problems('CFGI_STE', { sid: 1, SSec: 1 }), ['illegal:SSec:error']);
      ok(problems('CFGI_STE', { sid: 1 }));
    });

    it('StreamID beyond IDR1.SIDSIZE', () => {
      assert.deepEqual(problems('CFGI_STE', { sid: 0x100 }, { sidSize: 8 }), ['range:StreamID:warning']);
      ok(problems('CFGI_STE', { sid: 0xff }, { sidSize: 8 }));
    });

    it('SSV = 1 without substreams, SubstreamID beyond SSIDSIZE', () => {
      assert.deepEqual(problems('ATC_INV', { ssv: 1, size: 52 }, { ssidSize: 0 }), ['range:SSV:warning']);
      ok(problems('ATC_INV', { ssv: 0, size: 52 }, { ssidSize: 0 }));
      assert.deepEqual(problems('PRI_RESP', { ssv: 1, ssid: 0x10 }, { ssidSize: 4 }), ['range:SubstreamID:warning']);
      ok(problems('PRI_RESP', { ssv: 1, ssid: 0xf }, { ssidSize: 4 }));
      // CFGI_CD always uses its SubstreamID.
      assert.deepEqual(problems('CFGI_CD', { ssid: 1 }, { ssidSize: 0 }), ['range:SubstreamID:warning']);
      ok(problems('CFGI_CD', { ssid: 0 }, { ssidSize: 0 }));
    });

    it('ASID / VMID above 8 bits without ASID16 / VMID16', () => {
      assert.deepEqual(problems('TLBI_NH_ASID', { asid: 0x100 }, { asid16: false }), ['range:ASID:warning']);
      ok(problems('TLBI_NH_ASID', { asid: 0x100 }, { asid16: true }));
      assert.deepEqual(problems('TLBI_S12_VMALL', { vmid: 0x1ff }, { vmid16: false }), ['range:VMID:warning']);
      ok(problems('TLBI_S12_VMALL', { vmid: 0xff }, { vmid16: false }));
    });

    it('NH_* VMID is RES0 without stage 2', () => {
      assert.deepEqual(problems('TLBI_NH_ALL', { vmid: 1 }, { s2p: false }), ['res0:VMID:warning']);
      ok(problems('TLBI_NH_ALL', { vmid: 0 }, { s2p: false }));
    });

    it('commands the SMMU lacks the feature for raise CERROR_ILL', () => {
      assert.deepEqual(problems('CFGI_CD', {}, { s1p: false }), ['illegal::error']);
      ok(problems('CFGI_CD', {}, { s1p: true }));
      assert.deepEqual(problems('TLBI_NH_ASID', {}, { s1p: false }), ['illegal::error']);
      assert.deepEqual(problems('TLBI_S2_IPA', {}, { s2p: false }), ['illegal::error']);
      ok(problems('TLBI_S2_IPA', {}, { s2p: true }));
      assert.deepEqual(problems('TLBI_EL2_ALL', {}, { hyp: false }), ['illegal::error']);
      ok(problems('TLBI_EL2_ALL', {}, { hyp: true, s1p: true }));
      assert.deepEqual(problems('ATC_INV', { size: 52 }, { ats: false }), ['illegal::error']);
      ok(problems('ATC_INV', { size: 52 }, { ats: true }));
      assert.deepEqual(problems('RESUME', {}, { stallModel: 1 }), ['illegal::error']);
      ok(problems('RESUME', {}, { stallModel: 0 }));
      assert.deepEqual(problems('STALL_TERM', {}, { stallModel: 1 }), ['illegal::error']);
      // IDR0.PRI, IDR3.MPAM and IDR3.DPT (4.5.2, 4.3.5, 4.6).
      assert.deepEqual(problems('PRI_RESP', { resp: 'SUCC' }, { pri: false }), ['illegal::error']);
      ok(problems('PRI_RESP', { resp: 'SUCC' }, { pri: true }));
      assert.deepEqual(problems('CFGI_VMS_PIDM', { vmid: 1 }, { mpam: false }), ['illegal::error']);
      ok(problems('CFGI_VMS_PIDM', { vmid: 1 }, { mpam: true }));
      assert.deepEqual(problems('DPTI_ALL', {}, { dpt: false }), ['illegal::error']);
      ok(problems('DPTI_ALL', {}, { dpt: true }));
      assert.deepEqual(problems('DPTI_PA', { SIZE: 3, addr: 0x200000n }, { dpt: false }), ['illegal::error']);
      ok(problems('DPTI_PA', { SIZE: 3, addr: 0x200000n }, { dpt: true }));
    });

    it('Secure-only commands are illegal on the Non-secure queue', () => {
      for (const n of ['TLBI_EL3_ALL', 'TLBI_S_EL2_ALL', 'TLBI_S_S12_VMALL', 'TLBI_SNH_ALL']) {
        assert.deepEqual(problems(n, {}), ['illegal:Opcode:error'], n);
      }
      ok(problems('TLBI_NSNH_ALL', {}));
    });

    it('TG set with NUM = SCALE = TTL = 0 is reserved (CERROR_ILL)', () => {
      assert.deepEqual(problems('TLBI_NH_VA', { tg: 1 }), ['illegal:TTL:error']);
      ok(problems('TLBI_NH_VA', { tg: 1, ttl: 3 }));
      ok(problems('TLBI_NH_VA', { tg: 1, num: 1 }));
    });

    it('16K granule with TTL = 1 is reserved without DS', () => {
      assert.deepEqual(problems('TLBI_S2_IPA', { tg: 2, ttl: 1, num: 3 }), ['reserved-value:TTL:warning']);
      // With NUM = SCALE = 0 it is ILLEGAL, reported once (not also as reserved).
      assert.deepEqual(problems('TLBI_S2_IPA', { tg: 2, ttl: 1 }), ['illegal:TTL:error']);
      assert.deepEqual(problems('TLBI_S2_IPA', { tg: 2, ttl: 1 }, { ds: false }), ['illegal:TTL:error']);
      ok(problems('TLBI_S2_IPA', { tg: 2, ttl: 2 }));
      // With IDR5.DS a level-1 hint exists for 16K: both forms are fine.
      ok(problems('TLBI_S2_IPA', { tg: 2, ttl: 1, num: 3 }, { ds: true }));
      ok(problems('TLBI_S2_IPA', { tg: 2, ttl: 1 }, { ds: true }));
    });

    it('range fields are RES0 when TG = 0, and without IDR3.RIL', () => {
      assert.deepEqual(problems('TLBI_NH_VA', { num: 3, ttl: 2 }), ['res0:NUM:warning', 'res0:TTL:warning']);
      ok(problems('TLBI_NH_VA', { addr: 0x1000n }));
      assert.deepEqual(problems('TLBI_NH_VA', { tg: 1, ttl: 3 }, { ril: false }), ['res0:TG:warning', 'res0:TTL:warning']);
      ok(problems('TLBI_NH_VA', { tg: 1, ttl: 3 }, { ril: true }));
      assert.deepEqual(problems('TLBI_NH_VA', { tg: 1, ttl: 0, num: 1, TTL128: 1 }), ['res0:TTL128:warning']);
    });

    it('SCALE above 31 needs IDR5.DS', () => {
      assert.deepEqual(problems('TLBI_NH_VAA', { tg: 1, scale: 32 }), ['range:SCALE:warning']);
      assert.deepEqual(problems('TLBI_NH_VAA', { tg: 1, scale: 32 }, { ds: false }), ['range:SCALE:warning']);
      ok(problems('TLBI_NH_VAA', { tg: 1, scale: 31 }));
      // With DS bit 25 exists: 32..39 are fine, above 39 is taken as 39.
      ok(problems('TLBI_NH_VAA', { tg: 1, scale: 39 }, { ds: true }));
      assert.deepEqual(problems('TLBI_NH_VAA', { tg: 1, scale: 40 }, { ds: true }), ['range:SCALE:warning']);
    });

    it('TG for a granule the SMMU does not support', () => {
      assert.deepEqual(problems('TLBI_NH_VAA', { tg: 2, ttl: 3 }, { granules: [4, 64] }), ['granule:TG:warning']);
      ok(problems('TLBI_NH_VAA', { tg: 2, ttl: 3 }, { granules: [4, 16] }));
    });

    it('a range start not aligned to the level TTL gives', () => {
      // 4K, TTL 2: 2MB blocks, Address[20:12] must be 0: 0x201000 is not, 0x400000 is.
      assert.deepEqual(problems('TLBI_NH_VA', { tg: 1, ttl: 2, addr: 0x201000n }), ['align:Address:warning']);
      ok(problems('TLBI_NH_VA', { tg: 1, ttl: 2, addr: 0x400000n }));
      // 64K, TTL 3 (or 0): Address[15:12] must be 0.
      assert.deepEqual(problems('TLBI_NH_VA', { tg: 3, ttl: 3, addr: 0x11000n }), ['align:Address:warning']);
      ok(problems('TLBI_NH_VA', { tg: 3, ttl: 3, addr: 0x10000n }));
      // 128-bit tables, 4K TTL 1: 256MB blocks, Address[27:12]: 0x10000000 is aligned, 0x8000000 is not.
      ok(problems('TLBI_NH_VA', { tg: 1, ttl: 1, TTL128: 1, addr: 0x10000000n }));
      assert.deepEqual(problems('TLBI_NH_VA', { tg: 1, ttl: 1, TTL128: 1, addr: 0x8000000n }), ['align:Address:warning']);
      // 16K TTL 1 with IDR5.DS: level-1 entries of 2^(14 + 2 * 11) = 2^36 bytes (64GB); without DS the
      // SMMU reads TTL 0 and only 16K alignment counts. NUM 1 keeps the command legal either way.
      assert.deepEqual(problems('TLBI_NH_VA', { tg: 2, ttl: 1, num: 1, addr: 0x4000n }, { ds: true }), ['align:Address:warning']);
      ok(problems('TLBI_NH_VA', { tg: 2, ttl: 1, num: 1, addr: 1n << 36n }, { ds: true }));
    });

    it('IPA beyond the address size', () => {
      assert.deepEqual(problems('TLBI_S2_IPA', { addr: 1n << 44n }, { oas: 44 }), ['range:Address:warning']);
      ok(problems('TLBI_S2_IPA', { addr: (1n << 44n) - 0x1000n }, { oas: 44 }));
    });

    it('CFGI_STE_RANGE ignores the low Range+1 StreamID bits; CFGI_ALL needs Range 31', () => {
      assert.deepEqual(problems('CFGI_STE_RANGE', { sid: 0x41, range: 5 }), ['align:StreamID:warning']);
      ok(problems('CFGI_STE_RANGE', { sid: 0x40, range: 5 }));
      assert.deepEqual(problems('CFGI_ALL', { range: 30 }), ['range:Range:warning']);
      ok(problems('CFGI_ALL', { range: 31, sid: 0x1234 }));
    });

    it('ATC_INV Size above 52 and an Address not aligned to the span', () => {
      assert.deepEqual(problems('ATC_INV', { size: 53 }), ['range:Size:error']);
      ok(problems('ATC_INV', { size: 52, addr: 0x1000n }));
      // Size 4: a 64KB span, Address[15:0] must be 0.
      assert.deepEqual(problems('ATC_INV', { size: 4, addr: 0x11000n }), ['align:Address:warning']);
      ok(problems('ATC_INV', { size: 4, addr: 0x10000n }));
    });

    it('PRI_RESP Resp 0b11 is ILLEGAL', () => {
      assert.deepEqual(problems('PRI_RESP', { resp: 3 }), ['illegal:Resp:error']);
      ok(problems('PRI_RESP', { resp: 'DENY' }));
      // The generic message says what is right. word0 = 0x41; word1 = Resp 3 << 12 = 0x3000.
      const [p] = validate(cmd('PRI_RESP'), [0x41n, 0x3000n]);
      assert.match(p.message, /^Resp = RESERVED is ILLEGAL: .*CERROR_ILL; use 0 \(DENY\), 1 \(FAIL\) or 2 \(SUCC\)$/);
    });

    it('CMD_SYNC: reserved CS, MSI address beyond OAS, MSI_NS', () => {
      assert.deepEqual(problems('SYNC', { cs: 3 }), ['illegal:CS:error']);
      ok(problems('SYNC', { cs: 'NONE' }));
      // word0 = 0x46 | CS 3 << 12 = 0x3046
      assert.match(validate(cmd('SYNC'), [0x3046n, 0n])[0].message, /^CS = RESERVED is ILLEGAL: .*use 0 \(NONE\), 1 \(IRQ\) or 2 \(SEV\)$/);
      assert.deepEqual(problems('SYNC', { cs: 1, msiattr: 0xf, msh: 3, msiaddr: 1n << 48n }, { oas: 48 }), ['range:MSIAddress:warning']);
      ok(problems('SYNC', { cs: 1, msiattr: 0xf, msh: 3, msiaddr: 0x40000100n }, { oas: 48 }));
      assert.deepEqual(problems('SYNC', { cs: 2, MSI_NS: 1 }), ['res0:MSI_NS:warning']);
      // A reserved memory type matters only when an MSI is sent.
      assert.deepEqual(problems('SYNC', { cs: 1, msiattr: 0x4, msiaddr: 0x1000n }), ['reserved-value:MSIAttr:warning']);
      ok(problems('SYNC', { cs: 2, msiattr: 0x4 }));
    });

    it('CMD_SYNC CS = SEV without IDR0.SEV behaves as NONE', () => {
      assert.deepEqual(problems('SYNC', { cs: 'SEV' }, { sev: false }), ['unsupported:CS:warning']);
      ok(problems('SYNC', { cs: 'SEV' }, { sev: true }));
      // word0 = 0x46 | CS SEV 2 << 12 = 0x2046
      assert.equal(dec([0x2046n, 0n], { sev: false }).summary, 'CMD_SYNC CS=SEV (no SEV on this SMMU: as NONE)');
      assert.equal(dec([0x2046n, 0n], { sev: true }).summary, 'CMD_SYNC CS=SEV');
    });

    it('PREFETCH_ADDR NS is RES0 on the Non-secure queue', () => {
      assert.deepEqual(problems('PREFETCH_ADDR', { NS: 1 }), ['res0:NS:warning']);
      ok(problems('PREFETCH_ADDR', { size: 3, stride: 9, addr: 0x200000n }));
    });

    it('DPTI_PA Address not aligned to SIZE', () => {
      // SIZE 3 = 2MB: Address[20:12] must be 0
      assert.deepEqual(problems('DPTI_PA', { SIZE: 3, addr: 0x1000n }), ['align:Address:warning']);
      ok(problems('DPTI_PA', { SIZE: 3, addr: 0x200000n }));
      assert.deepEqual(problems('DPTI_PA', { SIZE: 12 }), ['reserved-value:SIZE:warning']);
    });

    it('the words of another command are a reserved opcode for this table', () => {
      assert.deepEqual(validate(cmd('CFGI_STE'), [0x46n, 0n]).map((p) => `${p.rule}:${p.field}`), ['reserved-value:Opcode']);
    });

    it('decoded words report the same problems through commandLayoutFor', () => {
      // TLBI_NH_VA with TG 4K and nothing else: word1 = TG 1<<10 = 0x400
      assert.deepEqual(rulesOf([0x12n, 0x400n]), ['illegal:TTL:error']);
    });
  });
});
