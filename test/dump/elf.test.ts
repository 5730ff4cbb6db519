import { strict as assert } from 'node:assert';
import { DumpMemory } from '../../src/dump/dumpMemory';
import { readElfCore } from '../../src/dump/elf';
import { bytesSource, DumpError } from '../../src/dump/source';
import { CoreOptions, CoreSegment, elfCore } from './helpers';

const fill = (n: number, byte: number): Uint8Array => new Uint8Array(n).fill(byte);
const core = (segs: CoreSegment[], o: CoreOptions = {}) => readElfCore(bytesSource('core', elfCore(segs, o)));

/** Two segments: 8 KiB of 0x11 at 0x4000_0000, and 4 KiB of 0x22 at 0x8000_0000 in a 64 KiB p_memsz. */
const TWO: CoreSegment[] = [
  { paddr: 0x4000_0000, data: fill(0x2000, 0x11), vaddr: 0xffff_8000_0000_0000 },
  { paddr: 0x8000_0000, data: fill(0x1000, 0x22), memsz: 0x1_0000 },
];

describe('dump/elf', () => {
  it('reads the PT_LOAD segments by physical address and skips the PT_NOTE', () => {
    const c = core(TWO);
    // The helper's layout: 64-byte header, 3 program headers of 56 bytes (PT_NOTE + 2 PT_LOAD)
    // end at 64 + 168 = 232, rounded up to 16: the first segment's bytes at 240 (0xf0), the
    // second after its 0x2000 bytes at 0x20f0.
    assert.deepEqual(c.segments.map((s) => [s.label, s.paddr, s.memsz, s.offset, s.filesz]), [
      ['core PT_LOAD 1', 0x4000_0000, 0x2000, 0xf0, 0x2000],
      ['core PT_LOAD 2', 0x8000_0000, 0x1_0000, 0x20f0, 0x1000],
    ]);
    assert.deepEqual(c.notes, []);
    assert.equal(c.machine, 183);
  });

  it('reads memory through the segments: file bytes, zero past p_filesz, nothing outside', () => {
    const m = new DumpMemory(core(TWO).segments);
    assert.deepEqual([...m.readBytes(0x4000_1ffe, 4)], [0x11, 0x11, 0, 0]);
    // 0x8000_0ffe..0x8000_1002: the last two file bytes, then p_memsz beyond p_filesz reads as zero.
    assert.deepEqual([...m.readBytes(0x8000_0ffe, 4)], [0x22, 0x22, 0, 0]);
    assert.equal(m.firstUncovered(0x8000_0000, 0x1_0000), undefined);
    assert.equal(m.firstUncovered(0x8000_f000, 0x2000), 0x8001_0000);
    assert.equal(m.firstUncovered(0x3fff_f000, 0x10), 0x3fff_f000);
    assert.equal(m.ranges(), '0x40000000..0x40002000, 0x80000000..0x80010000');
  });

  it('follows PN_XNUM to the count in section header 0', () => {
    const c = core(TWO, { xnum: true });
    assert.deepEqual(c.segments.map((s) => s.paddr), [0x4000_0000, 0x8000_0000]);
  });

  it('notes a machine other than AArch64 and still reads it', () => {
    const c = core(TWO, { machine: 62 });
    assert.match(c.notes[0], /e_machine is 62, not AArch64 \(183\)/);
    assert.equal(c.segments.length, 2);
  });

  const rejects = (bytes: Uint8Array, re: RegExp): void => {
    assert.throws(() => readElfCore(bytesSource('core', bytes)), (e: unknown) => e instanceof DumpError && re.test(e.message));
  };

  it('rejects ELF32, big-endian and non-core files, naming the byte and what is read', () => {
    rejects(elfCore(TWO, { elfClass: 1 }), /core is ELF32 \(EI_CLASS = 1 at offset 4\): only ELF64 cores are read/);
    rejects(elfCore(TWO, { data: 2 }), /core is big-endian \(EI_DATA = 2 at offset 5\): only little-endian/);
    rejects(elfCore(TWO, { type: 2 }), /e_type at offset 0x10 is 2 \(ET_EXEC\): a memory dump is a core file \(ET_CORE = 4\)/);
    rejects(elfCore(TWO, { elfClass: 3 }), /EI_CLASS at offset 4 is 3, neither ELF32 \(1\) nor ELF64 \(2\)/);
    rejects(new Uint8Array(100).fill(0x41), /not an ELF core nor a kdump-compressed dump \(offset 0 holds 41 41 41 41 41 41 41 41, not 7f 45 4c 46, "KDUMP {3}" or "makedumpfile"\): for a raw memory image, give it with its physical base as FILE@BASE/);
  });

  it('rejects truncated files: the header, the program headers, a segment', () => {
    const full = elfCore(TWO);
    rejects(full.slice(0, 40), /core is 40 bytes: an ELF header needs 64/);
    // Program headers at 0x40..0x40 + 3 * 56 = 0xe8; a 100-byte (0x64) file stops inside them.
    rejects(full.slice(0, 100), /its 3 program headers span offsets 0x40\.\.0xe8, but the file ends at 0x64: the file is truncated/);
    // The second segment's bytes are 0x20f0..0x30f0; cutting 0x100 bytes ends the file at 0x2ff0.
    rejects(full.slice(0, full.length - 0x100),
      /core PT_LOAD 2 \(physical 0x80000000\.\.0x80010000\) needs file bytes 0x20f0\.\.0x30f0, but core ends at 0x2ff0: the file is truncated/);
  });

  it('rejects segments that cannot be: p_filesz above p_memsz, beyond 52 bits, no PT_LOAD', () => {
    rejects(elfCore([{ paddr: 0x1000, data: fill(0x1000, 1), memsz: 0x64 }]),
      /program header 1 at offset 0x78 has p_filesz 0x1000 larger than p_memsz 0x64/);
    rejects(elfCore([{ paddr: 2 ** 52 - 0x1000, data: fill(0x2000, 1) }]),
      /places memory at physical 0xffffffffff000\.\.0x10000000001000, beyond the 52-bit physical address space/);
    rejects(elfCore([]), /core has 1 program headers but no PT_LOAD segment with memory in it/);
  });

  it('rejects segments that overlap in part, naming both and the overlap', () => {
    const c = core([{ paddr: 0x4000_0000, data: fill(0x2000, 1) }, { paddr: 0x4000_1000, data: fill(0x2000, 1) }]);
    assert.throws(() => new DumpMemory(c.segments), (e: unknown) => e instanceof DumpError &&
      /core PT_LOAD 1 \(physical 0x40000000\.\.0x40002000\) and core PT_LOAD 2 \(0x40001000\.\.0x40003000\) overlap at 0x40001000\.\.0x40002000/.test(e.message));
  });

  it('accepts a segment inside another (kdump\'s kernel image) and compares them where read', () => {
    // 0x4000_0000..0x4000_3000 holds 0x33; the kernel image's segment repeats 0x4000_1000..0x4000_2000.
    const same = core([{ paddr: 0x4000_0000, data: fill(0x3000, 0x33) }, { paddr: 0x4000_1000, data: fill(0x1000, 0x33), vaddr: 0xffff_8000_1000_0000 }]);
    const m = new DumpMemory(same.segments);
    assert.deepEqual([...m.readBytes(0x4000_0ffc, 8)], [0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33]);
    const differ = core([{ paddr: 0x4000_0000, data: fill(0x3000, 0x33) }, { paddr: 0x4000_1000, data: fill(0x1000, 0x44) }]);
    const d = new DumpMemory(differ.segments);
    assert.equal(d.readBytes(0x4000_0000, 1)[0], 0x33);
    assert.throws(() => d.readBytes(0x4000_1000, 8), (e: unknown) => e instanceof DumpError &&
      /core PT_LOAD 1 and core PT_LOAD 2 both hold physical 0x40001000 but differ there \(0x33 against 0x44\)/.test(e.message));
  });
});
