import { strict as assert } from 'node:assert';
import { Inspection, inspect, Mapping, translateOne } from '../../src/dump/inspect';
import { dumpMachine, openDump } from '../../src/dump/load';
import { inspectionJson, inspectionText } from '../../src/dump/report';
import { bytesSource, DumpError } from '../../src/dump/source';
import { fixtureCore, fixtureImage, STRTAB_BASE, STRTAB_BASE_CFG } from './fixture';
import { Image } from './helpers';

const REGS = new Map([['STRTAB_BASE', STRTAB_BASE], ['STRTAB_BASE_CFG', STRTAB_BASE_CFG]]);

function open(core: Uint8Array, regs = REGS) {
  const dump = openDump({ core: ['core.elf'], registers: regs }, (p) => bytesSource(p, core));
  return { dump, m: dumpMachine(dump) };
}

function run(core = fixtureCore(), regs = REGS, sid?: number): Inspection {
  const { dump, m } = open(core, regs);
  return inspect(m, dump.memory, { sid });
}

/** The part of a mapping the fixture's comments work out. */
const shape = (m: Mapping) => ({ iova: m.iova, pa: m.pa, size: m.size, level: m.level, type: m.type, descAddr: m.descAddr });

const stream = (ins: Inspection, sid: number) => {
  const s = ins.streams.find((x) => x.sid === sid);
  assert.ok(s, `StreamID ${sid} listed`);
  return s;
};

describe('dump/inspect', () => {
  const ins = run();

  it('finds the stream table and every present stream through the L1 descriptors', () => {
    assert.deepEqual(ins.strtab, { base: 0x4000_0000, fmt: '2-level', split: 8, log2size: 16 });
    assert.equal(ins.enabled, true);
    assert.deepEqual(ins.streams.map((s) => [s.sid, s.config]), [
      [0, 'abort'], [1, 'bypass'], [2, 's1'], [3, 's2'], [4, 'nested'], [5, 'abort'], [6, 'abort'], [7, 'abort'],
      [0x100, 'bypass'], [0x101, 'abort'],
    ]);
    assert.deepEqual(ins.problems, []);
    // StreamID 0x101: L1STD 1 (0x101 >> 8) at 0x4000_0008, its second STE at 0x4002_0000 + 0x40.
    const s = stream(ins, 0x101);
    assert.deepEqual([s.l1?.index, s.l1?.addr, s.l1?.span, s.l1?.word, s.addr], [1, 0x4000_0008, 2, 0x4002_0002n, 0x4002_0040]);
    // StreamID 3 at 0x4001_0000 + 3 * 0x40.
    assert.equal(stream(ins, 3).addr, 0x4001_00c0);
  });

  it('decodes the STE of a stage-1 stream and its two CDs', () => {
    const s = stream(ins, 2);
    const f = s.decoded;
    assert.deepEqual([f.num('V'), f.num('Config'), f.num('S1ContextPtr'), f.num('S1CDMax'), f.num('S1Fmt'), f.num('S1CIR'), f.num('S1COR'), f.num('S1CSH')],
      [1, 5, 0x4003_0000, 1, 0, 1, 1, 3]);
    assert.deepEqual(s.cds.map((c) => [c.ssid, c.addr, c.invalid]), [[0, 0x4003_0000, undefined], [1, 0x4003_0040, undefined]]);
    const cd0 = s.cds[0].decoded;
    assert.deepEqual([cd0.num('T0SZ'), cd0.num('TG0'), cd0.num('EPD1'), cd0.num('IPS'), cd0.num('ASID'), cd0.num('TTB0'), cd0.num('MAIR0')],
      [16, 0, 1, 5, 1, 0x4007_0000, 0xf404ff44]);
    const cd1 = s.cds[1].decoded;
    assert.deepEqual([cd1.num('T0SZ'), cd1.num('TG0'), cd1.num('ASID'), cd1.num('TTB0')], [28, 2, 2, 0x4008_0000]);
    assert.deepEqual(s.cds[0].ranges.map((r) => [r.name, r.granule, r.inputBits, r.startLevel, r.ttb]), [['TTB0', 4, 48, 0, 0x4007_0000]]);
    assert.deepEqual(s.cds[1].ranges.map((r) => [r.name, r.granule, r.inputBits, r.startLevel, r.ttb]), [['TTB0', 16, 36, 2, 0x4008_0000]]);
  });

  it('lists every leaf of a 4 KB stage-1 table with its permissions and attributes', () => {
    const ms = stream(ins, 2).cds[0].ranges[0].mappings;
    assert.deepEqual(ms.map(shape), [
      { iova: 0x1000_0000n, pa: 0x8_0000_0000, size: 0x20_0000, level: 2, type: 'block', descAddr: 0x4007_2000 + 128 * 8 },
      { iova: 0x1020_0000n, pa: 0x8_0020_0000, size: 0x1000, level: 3, type: 'page', descAddr: 0x4007_3000 },
      { iova: 0x1020_1000n, pa: 0x8_0020_1000, size: 0x1000, level: 3, type: 'page', descAddr: 0x4007_3008 },
      { iova: 0x1020_5000n, pa: 0x9_0000_0000, size: 0x1000, level: 3, type: 'page', descAddr: 0x4007_3028 },
      { iova: 0x1020_6000n, pa: 0x9_0000_1000, size: 0x1000, level: 3, type: 'page', descAddr: 0x4007_3030 },
    ]);
    const [block, , , ro, noAf] = ms;
    // AP 0b01: read/write at both privileges; writable by EL0, so never privileged-executable.
    assert.deepEqual(block.perms, { read: true, write: true, execPriv: false, execUnpriv: true, user: true });
    // AttrIndx 1 selects MAIR byte 1 of 0xf404ff44: 0xff, Normal write-back read/write-allocate.
    assert.deepEqual([block.attrIndx, block.mair, block.memory, block.sh, block.af, block.nG, block.contiguous, block.fault, block.output],
      [1, 0xff, 'Normal WB-RWA', 3, true, true, false, undefined, 'pa']);
    assert.equal(block.desc, 0x8_0000_0f45n);
    // AP 0b11: read-only at both privileges; not EL0-writable, so executable by both.
    assert.deepEqual(ro.perms, { read: true, write: false, execPriv: true, execUnpriv: true, user: true });
    // AF clear: listed as it is, with the flag shown.
    assert.equal(noAf.af, false);
    assert.equal(noAf.fault, undefined);
  });

  it('lists a 16 KB table: a 32 MB block and a page, with their memory types', () => {
    const ms = stream(ins, 2).cds[1].ranges[0].mappings;
    assert.deepEqual(ms.map(shape), [
      { iova: 0x200_0000n, pa: 0x1_0000_0000, size: 0x200_0000, level: 2, type: 'block', descAddr: 0x4008_0008 },
      { iova: 0x400_c000n, pa: 0x1_2345_c000, size: 0x4000, level: 3, type: 'page', descAddr: 0x4008_4018 },
    ]);
    // AttrIndx 0 → MAIR byte 0x44 (Normal NC); AttrIndx 2 → 0x04 (Device-nGnRE).
    assert.deepEqual(ms.map((m) => [m.attrIndx, m.mair, m.memory]), [[0, 0x44, 'Normal NC'], [2, 0x04, 'Device-nGnRE']]);
  });

  it('lists a 64 KB stage-2 table with S2AP, XN and MemAttr', () => {
    const s = stream(ins, 3);
    assert.deepEqual([s.decoded.num('S2VMID'), s.decoded.num('S2T0SZ'), s.decoded.num('S2SL0'), s.decoded.num('S2TG'), s.decoded.num('S2PS'), s.decoded.num('S2TTB')],
      [5, 24, 1, 1, 2, 0x4004_0000]);
    assert.deepEqual([s.s2?.granule, s.s2?.inputBits, s.s2?.startLevel], [64, 40, 2]);
    const ms = s.s2!.mappings;
    assert.deepEqual(ms.map(shape), [
      { iova: 0x2_0000n, pa: 0x30_0001_0000, size: 0x1_0000, level: 3, type: 'page', descAddr: 0x4005_0010 },
      { iova: 0x2000_0000n, pa: 0x20_0000_0000, size: 0x2000_0000, level: 2, type: 'block', descAddr: 0x4004_0008 },
    ]);
    // S2AP RO, XN 0b10 (no execution at either privilege), MemAttr 0b0001.
    assert.deepEqual([ms[0].perms?.read, ms[0].perms?.write, ms[0].perms?.execPriv, ms[0].perms?.execUnpriv, ms[0].memAttr], [true, false, false, false, 1]);
    // S2AP RW, XN 0b00, MemAttr 0xf, SH ISH.
    assert.deepEqual([ms[1].perms?.read, ms[1].perms?.write, ms[1].perms?.execPriv, ms[1].perms?.execUnpriv, ms[1].memAttr, ms[1].sh], [true, true, true, true, 0xf, 3]);
    assert.deepEqual(s.cds, []);
  });

  it('follows a nested stream\'s CD and stage-1 tables through stage 2', () => {
    const s = stream(ins, 4);
    assert.deepEqual(s.s2!.mappings.map(shape), [{ iova: 0n, pa: 0x4000_0000, size: 2 ** 30, level: 1, type: 'block', descAddr: 0x4009_0000 }]);
    // The CD's IPA 0xa_0000 is PA 0x4000_0000 + 0xa_0000; its tables' likewise.
    assert.deepEqual(s.cds.map((c) => [c.ssid, c.addr, c.decoded.num('ASID')]), [[0, 0x400a_0000, 3]]);
    const ms = s.cds[0].ranges[0].mappings;
    assert.deepEqual(ms.map(shape), [{ iova: 0n, pa: 0x20_0000, size: 0x20_0000, level: 2, type: 'block', descAddr: 0x400c_0000 }]);
    assert.equal(ms[0].output, 'ipa');
  });

  it('inspects one StreamID, and says why one has no STE', () => {
    const one = run(undefined, undefined, 3);
    assert.deepEqual(one.streams.map((s) => s.sid), [3]);
    // A StreamID whose STE is not valid is shown when asked for: 0x10 (V=0).
    assert.deepEqual(run(undefined, undefined, 0x10).streams.map((s) => [s.sid, s.config, s.invalid]), [[0x10, 'invalid', 'STE.V is 0']]);
    // 0x1ff: L1STD 1 has Span 2, so 2 STEs (0x100, 0x101).
    assert.deepEqual(run(undefined, undefined, 0x1ff).problems, ['StreamID 0x1ff is beyond the 2 STEs of L1STD 1 (Span 2)']);
    // 0x200: L1STD 2 at 0x4000_0000 + 2 * 8 is 0.
    assert.deepEqual(run(undefined, undefined, 0x200).problems, ['L1STD 2 at 0x40000010 is invalid (Span 0): StreamID 0x200 has no STE']);
    assert.throws(() => run(undefined, undefined, 0x1_0000), (e: unknown) => e instanceof DumpError &&
      /StreamID 0x10000 is beyond the stream table \(LOG2SIZE 16: StreamIDs 0\.\.0xffff\)/.test(e.message));
  });

  it('names the tables the dump does not hold', () => {
    const part = run(fixtureCore({ onlyFirst: true }));
    const holds = 'the dump holds 0x40000000..0x40080000';
    assert.deepEqual(stream(part, 2).problems, [
      `the STE 0x2 CD 1 TTB0 level-2 table for inputs from 0x0 at 0x40080000..0x40084000 is not in the dump (0x40080000 is missing; ${holds})`,
    ]);
    // The nested stream's stage-2 table at 0x4009_0000 is missing, so its CD's IPA cannot be translated either.
    const s4 = stream(part, 4);
    assert.equal(s4.problems[0], `the STE 0x4 stage 2 level-1 table for inputs from 0x0 at 0x40090000..0x40090020 is not in the dump (0x40090000 is missing; ${holds})`);
    assert.match(s4.problems[1], /^CD 0 of STE 0x4 at IPA 0xa0000: stage 2 does not translate it \(F_TRANSLATION: stage-2 level-1 descriptor at 0x40090000 is invalid/);
    assert.throws(() => run(undefined, new Map([['STRTAB_BASE', 0x5000_0000n], ['STRTAB_BASE_CFG', STRTAB_BASE_CFG]])), (e: unknown) => e instanceof DumpError &&
      /the L1 stream table \(STRTAB_BASE, 256 descriptors\) at 0x50000000\.\.0x50000800 is not in the dump \(0x50000000 is missing; the dump holds 0x40000000\.\.0x40100000\): check STRTAB_BASE/.test(e.message));
  });

  it('reads a linear stream table, and says where it leaves the dump', () => {
    // Linear (FMT 0), LOG2SIZE 8: 256 STEs of 64 bytes = 16 KiB from 0x4001_0000, but the raw image is 8 KiB: STEs 0..0x7f.
    const img = fixtureImage();
    const raw = bytesSource('ste.bin', img.bytes(0x4001_0000, 0x4001_2000));
    const dump = openDump({ raw: ['ste.bin@0x40010000'], registers: new Map([['STRTAB_BASE', 0x4001_0000n], ['STRTAB_BASE_CFG', 8n]]) }, () => raw);
    const lin = inspect(dumpMachine(dump), dump.memory);
    assert.equal(lin.strtab.fmt, 'linear');
    assert.deepEqual(lin.streams.map((s) => [s.sid, s.config, s.l1]), [[0, 'abort', undefined], [1, 'bypass', undefined], [2, 's1', undefined],
      [3, 's2', undefined], [4, 'nested', undefined], [5, 'abort', undefined], [6, 'abort', undefined], [7, 'abort', undefined]]);
    // StreamID 2's CD table at 0x4003_0000 (two CDs: S1CDMax 1) is outside this dump: one problem for the table.
    assert.deepEqual(stream(lin, 2).problems, ['CD 0 of STE 0x2 at 0x40030000..0x40030040 is not in the dump (0x40030000 is missing; ' +
      'the dump holds 0x40010000..0x40012000): the linear CD table (2 CDs from 0x40030000) leaves the dump, so the CD after it is not looked at']);
    assert.deepEqual(lin.problems, ['the STE of StreamID 0x80 at 0x40012000..0x40012040 is not in the dump (0x40012000 is missing; the dump holds 0x40010000..0x40012000): ' +
      'the linear table (256 STEs from 0x40010000) leaves the dump']);
  });

  it('lists TTB1 mappings at their sign-extended addresses', () => {
    // A linear table of 2 STEs (STRTAB_BASE_CFG LOG2SIZE 1) at 0x5000_0000; StreamID 0: V | Config 0b101 | CD at 0x5000_1000.
    // The CD: EPD0 (1 << 14) | T1SZ 25 (39-bit VA) << 16 = 0x19_0000 | TG1 4 KB (2 << 22 = 0x80_0000) | V (1 << 31) |
    // IPS 5 << 32 | AA64 1 << 41 | ASID 7 << 48 = 0x0007_0205_8099_4000; TTB1 (word 2) 0x5000_2000.
    // TTB1 level 1 (index VA[38:30]): entry 511 is the top GiB, VA 0xffff_ffff_c000_0000: a 1 GiB block at 0x8000_0000.
    const img = new Image()
      .q(0x5000_0000, 0x5000_100bn)
      .qs(0x5000_1000, [0x0007_0205_8099_4000n, 0n, 0x5000_2000n, 0xf404ff44n])
      .q(0x5000_2000 + 511 * 8, 0x8000_0000n | 0xf45n);
    const raw = bytesSource('ttb1.bin', img.bytes(0x5000_0000, 0x5000_3000));
    const dump = openDump({ raw: ['ttb1.bin@0x50000000'], registers: new Map([['STRTAB_BASE', 0x5000_0000n], ['STRTAB_BASE_CFG', 1n]]) }, () => raw);
    const m = dumpMachine(dump);
    const cd = stream(inspect(m, dump.memory), 0).cds[0];
    assert.deepEqual(cd.ranges.map((r) => [r.name, r.granule, r.inputBits, r.startLevel, r.ttb]), [['TTB1', 4, 39, 1, 0x5000_2000]]);
    assert.deepEqual(cd.ranges[0].mappings.map(shape), [{ iova: 0xffff_ffff_c000_0000n, pa: 0x8000_0000, size: 2 ** 30, level: 1, type: 'block', descAddr: 0x5000_2ff8 }]);
    assert.equal(translateOne(m, 0, undefined, 0xffff_ffff_c000_1234n).pa, 0x8000_1234);
  });

  it('translates one address with its walk, as the SMMU would', () => {
    const { m } = open(fixtureCore());
    const r = translateOne(m, 2, 0, 0x1000_0abcn);
    assert.equal(r.outcome, 'ok');
    assert.equal(r.pa, 0x8_0000_0abc);
    assert.deepEqual(r.config.map((c) => [c.what, c.addr]), [['l1std', 0x4000_0000], ['ste', 0x4001_0080], ['cd', 0x4003_0000]]);
    // 4 KB, 48 bits: level 0 index 0, level 1 index 0, level 2 index 0x1000_0000 >> 21 = 128: a block.
    assert.deepEqual(r.walk.map((w) => [w.stage, w.level, w.descAddr, w.type]), [[1, 0, 0x4007_0000, 'table'], [1, 1, 0x4007_1000, 'table'], [1, 2, 0x4007_2400, 'block']]);
    // Nested: VA 0x1234 → IPA 0x20_1234 → PA 0x4000_0000 + 0x20_1234.
    assert.equal(translateOne(m, 4, undefined, 0x1234n).pa, 0x4020_1234);
    const fault = translateOne(m, 2, 0, 0x2000_0000n);
    assert.equal(fault.event?.name, 'F_TRANSLATION');
    // Nothing was cached or recorded by the probes.
    assert.equal(m.smmu.cachedStes().size, 0);
  });

  it('reports as text, coalescing contiguous leaves and folding runs of abort STEs', () => {
    const text = inspectionText(ins);
    // 2 MB block + 2 pages of 4 KB = 0x20_2000 bytes = 2056 KB, contiguous in input and output.
    assert.match(text, /\n {8}0x10000000\.\.0x10202000 → 0x800000000 {2}2056 KB: 1 × 2 MB block \(level 2\) \+ 2 × 4 KB page \(level 3\) {2}RWX user UX-only {2}Normal WB-RWA {2}ISH {2}nG\n/);
    assert.match(text, /\n {8}0x10206000\.\.0x10207000 → 0x900001000 {2}4 KB: 1 × 4 KB page \(level 3\) {2}RWX user UX-only {2}Normal WB-RWA {2}ISH {2}AF=0 {2}nG\n/);
    assert.match(text, /\n {2}StreamIDs 0x5\.\.0x7: abort \(3 STEs\)\n/);
    assert.match(text, /\nL1STD 1 at 0x40000008: .*\n {2}StreamID 0x100: bypass\n {2}StreamID 0x101: abort$/);
    assert.match(text, /\n {8}0x0\.\.0x200000 → IPA 0x200000 {2}2 MB/);
  });

  it('reports as JSON with every leaf on its own', () => {
    const j = JSON.parse(JSON.stringify(inspectionJson(ins)));
    assert.deepEqual(j.strtab, { base: '0x40000000', fmt: '2-level', split: 8, log2size: 16 });
    const s2 = j.streams['2'];
    assert.equal(s2.config, 's1');
    assert.equal(s2.words[0], '0x080000004003000b');
    assert.equal(s2.S1ContextPtr, '0x40030000');
    assert.equal(s2.S1CDMax, 1);
    assert.deepEqual(Object.keys(s2.cds), ['0', '1']);
    assert.equal(s2.cds['0'].ASID, 1);
    assert.equal(s2.cds['0'].mappings.length, 5);
    assert.deepEqual(s2.cds['1'].mappings[1], {
      iova: '0x400c000', pa: '0x12345c000', size: 0x4000, level: 3, stage: 1, range: 'TTB0', type: 'page',
      read: true, write: true, execPriv: false, execUnpriv: true, user: true, attrIndx: 2, mair: '0x4', memory: 'Device-nGnRE', sh: 3,
      af: true, nG: true, contiguous: false, desc: '0x12345cf4b', descAddr: '0x40084018',
    });
    assert.equal(j.streams['3'].mappings.length, 2);
    assert.equal(j.streams['4'].cds['0'].mappings[0].output, 'ipa');
    assert.deepEqual(j.problems, []);
  });
});
