import { strict as assert } from 'node:assert';
import { posix } from 'node:path';
import { Session, compileForSession } from '../../src/debug/session';
import { ByteSource, bytesSource } from '../../src/dump/source';
import { hasErrors, SourceHost } from '../../src/scenario/compiler';
import { Runner } from '../../src/scenario/runner';
import { fixtureCore, fixtureImage, RAM, RAM_END } from './fixture';
import { elfCore, Image } from './helpers';

/** Scenario text and binary files in memory; paths resolve relative to the including file. */
class DumpHost implements SourceHost {
  readonly opened: string[] = [];
  constructor(private readonly files: Record<string, string>, private readonly binaries: Record<string, Uint8Array>) {}
  read(path: string): string | undefined {
    return this.files[path];
  }
  resolve(from: string, rel: string): string {
    return posix.normalize(posix.join(posix.dirname(from), rel));
  }
  readBinary(path: string): ByteSource | undefined {
    this.opened.push(path);
    const b = this.binaries[path];
    return b && bytesSource(path, b);
  }
}

const LOAD = 'load core="dumps/core.elf" strtab_base=0x4000_0000 strtab_base_cfg=0x10210';

function host(extra: Record<string, Uint8Array> = {}): DumpHost {
  return new DumpHost({}, { 'dir/dumps/core.elf': fixtureCore(), ...extra });
}

function compile(lines: string[], h: SourceHost = host()) {
  return compileForSession('dir/main.smmu', lines.join('\n'), h);
}

function errors(lines: string[], h: SourceHost = host()): string[] {
  return compile(lines, h).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.range.start.line}:${d.range.start.col} ${d.message}`);
}

function runChecked(lines: string[], h: SourceHost = host()) {
  const p = compile(lines, h);
  assert.ok(!hasErrors(p), p.diagnostics.map((d) => d.message).join('\n'));
  const s = new Session(p);
  const r = s.runner.runToEnd();
  return { s, r };
}

describe('scenario load', () => {
  it('starts from the dump: STEs, translations and registers are the dump\'s', () => {
    const h = host();
    const { s, r } = runChecked([
      LOAD,
      'expect ste 2 Config == 5',
      'expect ste 2 S1ContextPtr == 0x4003_0000',
      'expect dma 2:0 read 0x1000_0abc -> 0x8_0000_0abc',
      'expect dma 2:1 read 0x400_c123 -> 0x1_2345_c123',
      'expect dma 3 read 0x2_0123 -> 0x30_0001_0123',
      'expect dma 3 write 0x2_0123 -> fault',
      'expect dma 4 read 0x1234 -> 0x4020_1234',
      'expect dma 0 read 0x1234 -> abort',
      'expect reg STRTAB_BASE_CFG == 0x10210',
      'expect reg CR0 SMMUEN == 1',
      'expect reg CR0ACK == 1',
    ], h);
    assert.deepEqual(h.opened, ['dir/dumps/core.elf']);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.expectations.filter((e) => !e.ok).map((e) => e.message), []);
    assert.equal(r.expectations.length, 11);
    assert.deepEqual(s.hazards, []);
  });

  it('puts the scenario\'s stores on top of the dump, and the checker judges them', () => {
    const { s, r } = runChecked([
      LOAD,
      'traffic t 2:1 read 0x400_c000',
      'dma 2:1 read 0x400_c123',
      // The STE of StreamID 2 at 0x4001_0080 (in the dump's stream table, named dump_ste_0): V cleared, no CFGI_STE follows.
      'store 0x4001_0080 0',
      'dsb',
      'expect mem 0x4001_0080 == 0',
      'expect mem 0x4001_0088 == 0xd4',
    ]);
    assert.deepEqual(r.expectations.filter((e) => !e.ok).map((e) => e.message), []);
    assert.ok(s.hazards.length > 0 && s.hazards.every((h) => h.rule === 'stale-cache'), s.hazards.map((h) => h.message).join('\n'));
    assert.ok(s.hazards.some((h) => /at the end, the SMMU still caches the STE of StreamID 0x2 as it was fetched from 0x40010080/.test(h.message)));
  });

  it('adopts the command queue, so commands can be issued on top of the dump', () => {
    // CMDQ_BASE: 256 entries (LOG2SIZE 8) at 0x4100_0000, above the dump; CR0 defaults to SMMUEN | CMDQEN.
    const { s, r } = runChecked([
      `${LOAD} cmdq_base=0x4100_0008`,
      'expect reg CR0 == 9',
      'traffic t 2:1 read 0x400_c000',
      'dma 2:1 read 0x400_c123',
      'store 0x4001_0080 0',
      'dsb',
      'cfgi ste 2',
      'sync',
      'expect dma 2:1 read 0x400_c000 -> fault',
    ]);
    assert.deepEqual(r.errors.map((e) => e.message), []);
    assert.deepEqual(r.expectations.filter((e) => !e.ok).map((e) => e.message), []);
    // The window between the store and the invalidation is reported; after CFGI_STE + CMD_SYNC nothing stale is left.
    assert.deepEqual(s.hazards.map((h) => [h.rule, h.range.start.line]), [['stale-cache', 5]]);
  });

  it('names the tables it reaches as regions, with the driver\'s memory attributes', () => {
    const p = compile([LOAD]);
    const runner = new Runner(p);
    runner.runToEnd();
    const regions = runner.state.machine.mem.regions.live.map((r) => [r.name, r.base, r.size, r.attr]);
    // Non-coherent platform (the default): stream table and CD tables non-cacheable, page tables cacheable.
    assert.deepEqual(regions.filter(([n]) => !String(n).startsWith('dump_pt_')), [
      ['dump_strtab', 0x4000_0000, 256 * 8, 'noncacheable'],
      ['dump_ste_0', 0x4001_0000, 256 * 64, 'noncacheable'],
      ['dump_ste_100', 0x4002_0000, 2 * 64, 'noncacheable'],
      ['dump_cd_2_0', 0x4003_0000, 2 * 64, 'noncacheable'],
    ]);
    // Page tables: 4 KB levels 0-3 of CD 0, 16 KB levels 2-3 of CD 1, 64 KB levels 2-3 of StreamID 3, StreamID 4's stage 2.
    assert.deepEqual(regions.filter(([n]) => String(n).startsWith('dump_pt_')).map(([n, b, z, a]) => [n, b, z, a]), [
      ['dump_pt_40040000', 0x4004_0000, 2048 * 8, 'cacheable'],
      ['dump_pt_40050000', 0x4005_0000, 8192 * 8, 'cacheable'],
      ['dump_pt_40070000', 0x4007_0000, 512 * 8, 'cacheable'],
      ['dump_pt_40071000', 0x4007_1000, 512 * 8, 'cacheable'],
      ['dump_pt_40072000', 0x4007_2000, 512 * 8, 'cacheable'],
      ['dump_pt_40073000', 0x4007_3000, 512 * 8, 'cacheable'],
      ['dump_pt_40080000', 0x4008_0000, 2048 * 8, 'cacheable'],
      ['dump_pt_40084000', 0x4008_4000, 2048 * 8, 'cacheable'],
      ['dump_pt_40090000', 0x4009_0000, 4 * 8, 'cacheable'],
    ]);
  });

  it('names no queue whose base was not given, and adopts none', () => {
    const runner = new Runner(compile([`${LOAD} cr0=0xd`]));
    runner.runToEnd();
    assert.deepEqual(runner.state.machine.mem.regions.live.filter((r) => /cmdq|evtq/.test(r.name)), []);
    assert.equal(runner.state.kernel.cmdq, undefined);
  });

  it('takes the ID registers as the SMMU\'s features', () => {
    // IDR0 0x0d40_101a: stage 1 only (see test/dump/registers.test.ts); IDR1 SIDSIZE 16; IDR5 48 bits, 4K and 64K.
    const p = compile([`${LOAD} idr0=0x0d40_101a idr1=0x0273_0010 idr5=0x55`, 'expect dma 3 read 0x2_0123 -> fault']);
    assert.equal(p.platform.features.stage2, false);
    assert.deepEqual(p.platform.features.granules, [4, 64]);
    const r = new Runner(p).runToEnd();
    // Without stage 2 the S2_TRANS STE of StreamID 3 is ILLEGAL: C_BAD_STE.
    assert.deepEqual(r.dmas.map((d) => [d.result, d.event]), [['fault', 'C_BAD_STE']]);
    assert.ok(r.expectations[0].ok);
  });

  it('places allocations above the dump, and stepping back before load removes it', () => {
    const p = compile([LOAD, 'alloc r 4K cacheable']);
    const runner = new Runner(p);
    const start = runner.snapshot();
    runner.runStatement();
    assert.equal(runner.state.machine.load(0x4001_0080, 8), 0x0800_0000_4003_000bn);
    runner.runStatement();
    // The dump ends at 0x4010_0000; the 4 KiB region goes at the first 4 KiB boundary past it.
    assert.equal(runner.state.machine.region('r')?.base, RAM_END);
    runner.restore(start);
    assert.equal(runner.state.machine.load(0x4001_0080, 8), 0n);
  });

  it('reads raw images at their bases, relative to the scenario', () => {
    const img = fixtureImage();
    const h = host({ 'dir/a.bin': img.bytes(RAM, 0x4008_0000), 'dir/b.bin': img.bytes(0x4008_0000, RAM_END) });
    const { r } = runChecked(['load raw="a.bin@0x4000_0000 b.bin@0x4008_0000" strtab_base=0x4000_0000 strtab_base_cfg=0x10210',
      'expect dma 2:1 read 0x400_c123 -> 0x1_2345_c123'], h);
    assert.ok(r.expectations[0].ok, r.expectations[0].message);
  });

  it('smmu adopt takes the dump\'s SMMU over, so attach works on top of it', () => {
    // A dump in the kernel's layout, built by hand: a 2-level stream table at 0x4000_0000 whose
    // L1STD 0 points at an L2 table at 0x4001_0000 with Span 9 (SPLIT 8 + 1: 256 STEs), so the
    // descriptor is 0x4001_0000 | 9; STE 2 at 0x4001_0000 + 2 * 64 is V=1, Config 0b100 (bypass):
    // (0b100 << 1) | 1 = 0x9. STRTAB_BASE_CFG 0x10210: FMT 1 (2-level), SPLIT 8, LOG2SIZE 16.
    const img = new Image().q(0x4000_0000, 0x4001_0009n).q(0x4001_0080, 0x9n);
    const h = host({ 'dir/dumps/kernel.elf': elfCore([{ paddr: 0x4000_0000, data: img.bytes(0x4000_0000, 0x4002_0000) }]) });
    const { s, r } = runChecked([
      'load core="dumps/kernel.elf" strtab_base=0x4000_0000 strtab_base_cfg=0x10210',
      'expect dma 2 read 0x1234 -> 0x1234',
      'smmu adopt',
      'domain d9 stage=1',
      'map d9 0x2000_0000 -> 0x9000_0000 size=4K',
      // StreamID 0x130 is under L1STD 1 (0x130 >> 8), which the dump left invalid: the driver makes its L2 table.
      'attach 0x130 s1 d9 asid=9',
      'expect dma 0x130 read 0x2000_0010 -> 0x9000_0010',
      // StreamID 2 is the dump's bypass STE, rewritten in place by the entry writer.
      'attach 2 s1 d9 asid=9',
      'expect dma 2 read 0x2000_0010 -> 0x9000_0010',
      'expect ste 2 config == s1_trans',
    ], h);
    assert.deepEqual(r.errors.map((e) => e.message), []);
    assert.deepEqual(r.expectations.filter((e) => !e.ok).map((e) => e.message), []);
    assert.equal(r.expectations.length, 4);
    // Only the kernel's own missing dma_wmb() before the new L1 descriptor (see examples/01).
    assert.deepEqual(s.hazards.map((x) => [x.rule, x.range.start.line]), [['missing-barrier', 6]]);
  });

  it('smmu adopt refuses a stream table that is not the kernel\'s layout, naming the descriptor', () => {
    // The fixture's L2 tables are small: its L1 descriptors span 2 (two STEs), not 9.
    const { r } = runChecked([LOAD, 'smmu adopt']);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].range.start.line, 2);
    assert.match(r.errors[0].message, /L1STD \d+ has Span 2; an adopted table needs 9 \(256 STEs\)/);
  });

  it('says what is wrong, where', () => {
    assert.deepEqual(errors(['load core="nope.elf" strtab_base=0x4000_0000 strtab_base_cfg=0x10210']),
      ['1:6 cannot open "nope.elf" (resolved to dir/nope.elf); the path is relative to this file']);
    assert.deepEqual(errors(['load core="dumps/core.elf" strtab_base=0x4000_0000']), [
      '1:1 missing STRTAB_BASE_CFG: the stream table\'s place is held only in the SMMU\'s registers, not in memory. Give them as NAME=HEX ' +
      '(read them with devmem at the SMMU base + 0x80 and + 0x88, from a debugger, or from the driver\'s arm_smmu_device in the dump), or let `smmu-debug inspect --find-strtab` search the dump for the stream table']);
    assert.deepEqual(errors(['load strtab_base=1 strtab_base_cfg=2']),
      ['1:1 load needs a dump: core="FILE" (an ELF core) or raw="FILE@BASE ..." (raw images at their physical bases)']);
    assert.deepEqual(errors([`${LOAD} cr0=0x1_0000_0000`]), ['1:80 CR0: CR0=0x100000000 does not fit the 32-bit register; a register value here is a number known before the scenario runs']);
    assert.deepEqual(errors(['alloc r 4K cacheable', LOAD]),
      ['2:1 \'load\' must come before the first statement that uses the machine: the dump is where the machine starts']);
    assert.deepEqual(errors([LOAD, 'smmu sidsize=8']),
      ['2:1 \'smmu\' must come before the first statement that uses the machine: platform settings fix the machine before it starts']);
    const elf32 = host({ 'dir/dumps/32.elf': elfCore([{ paddr: RAM, data: new Uint8Array(16) }], { elfClass: 1 }) });
    assert.deepEqual(errors(['load core="dumps/32.elf" strtab_base=0x4000_0000 strtab_base_cfg=0x10210'], elf32),
      ['1:6 dir/dumps/32.elf is ELF32 (EI_CLASS = 1 at offset 4): only ELF64 cores are read, as arm64 kdump and QEMU dump-guest-memory write them']);
    const noFiles: SourceHost = { read: () => undefined, resolve: (_f, r) => r };
    assert.deepEqual(errors([LOAD], noFiles), ['1:1 loading a dump needs access to files, which this host does not give']);
  });

  it('checks only its arguments where a host checks without reading dumps (the editor in the browser)', () => {
    const checking: SourceHost = { read: () => undefined, resolve: (_f, r) => r, checkOnly: true };
    assert.deepEqual(errors([LOAD, 'attach 2 bypass'], checking), []);
    assert.deepEqual(errors(['load core="vmcore" strtab_base=0x4000_0000'], checking), ['1:1 missing STRTAB_BASE_CFG: the stream table\'s place is held only in the SMMU\'s registers, ' +
      'not in memory. Give them as NAME=HEX (read them with devmem at the SMMU base + 0x80 and + 0x88, from a debugger, or from the driver\'s arm_smmu_device in the dump), or let `smmu-debug inspect --find-strtab` search the dump for the stream table']);
    assert.deepEqual(errors(['load strtab_base=0x4000_0000 strtab_base_cfg=8'], checking),
      ['1:1 load needs a dump: core="FILE" (an ELF core) or raw="FILE@BASE ..." (raw images at their physical bases)']);
    // The ID registers still decide the SMMU's features: IDR0 0 (no stage 1, no stage 2) makes a stage-1 attach an error.
    assert.notDeepEqual(errors([LOAD + ' idr0=0', 'domain d1 stage=1', 'attach 2 s1 d1'], checking), []);
    // A host that reads dumps opens it even when checking: a missing file is reported.
    const h = host();
    const reading: SourceHost = { read: (p) => h.read(p), resolve: (f, r) => h.resolve(f, r), readBinary: (p) => h.readBinary(p), checkOnly: true };
    assert.deepEqual(errors([LOAD], reading), []);
    assert.deepEqual(errors(['load core="dumps/none.elf" strtab_base=0x4000_0000 strtab_base_cfg=0x10210'], reading),
      ['1:6 cannot open "dumps/none.elf" (resolved to dir/dumps/none.elf); the path is relative to this file']);
  });
});
