import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { inspect } from '../../src/dump/inspect';
import { inspectionText } from '../../src/dump/report';
import { dumpMachine, openDump } from '../../src/dump/load';
import { bytesSource, DumpError } from '../../src/dump/source';
import { fixtureCore, STRTAB_BASE, STRTAB_BASE_CFG } from './fixture';

const REGS = new Map([['STRTAB_BASE', STRTAB_BASE], ['STRTAB_BASE_CFG', STRTAB_BASE_CFG]]);
const gz = (name: string): Uint8Array => new Uint8Array(gunzipSync(readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'dumps', name))));
const open = (bytes: Uint8Array, salvage: boolean) => openDump({ core: ['vmcore'], registers: REGS }, (p) => bytesSource(p, bytes), undefined, { salvage });
const isDumpError = (re: RegExp) => (e: unknown): boolean => e instanceof DumpError && re.test(e.message);

/** What `inspect` makes of a dump: the streams it lists and the problems it names. */
function report(bytes: Uint8Array) {
  const d = open(bytes, true);
  const ins = inspect(dumpMachine(d), d.memory);
  return { d, sids: ins.streams.filter((s) => s.config !== 'abort').map((s) => s.sid), text: inspectionText(ins, d.memory) };
}

describe('dump: salvaging a dump that was cut short (inspect reads what is whole)', () => {
  it('an ELF core: the segment cut keeps the bytes it has, the rest is not in the dump', () => {
    const core = fixtureCore();
    // The second PT_LOAD holds 0x4008_0000..0x4010_0000 and ends the file: cut its last 256 KiB.
    const cut = core.subarray(0, core.length - 0x4_0000);
    assert.throws(() => open(cut, false), isDumpError(/PT_LOAD 2 .* the file is truncated/));
    const { d, sids, text } = report(cut);
    assert.ok(d.notes.some((n) => /PT_LOAD 2 \(physical 0x40080000\.\.0x40100000\) .* the file is truncated .*; reading the 0x40000 bytes it has/.test(n)), d.notes.join('\n'));
    assert.equal(d.memory.firstUncovered(0x4008_0000, 0x8_0000), 0x400c_0000);
    // Every stream is still listed (the stream table is in the first segment); StreamID 4's stage-1
    // tables at IPAs 0xb_0000 and 0xc_0000 (PA 0x400b_0000, 0x400c_0000): the second is lost.
    assert.deepEqual(sids, [1, 2, 3, 4, 0x100]);
    assert.match(text, /at IPA 0xc0000\.\.0xc1000 is not in the dump \(0x400c0000 is missing; the dump holds 0x40000000\.\.0x400c0000\)/);
  });

  it('a kdump-compressed dump: a page whose data is past the end is one the dump cannot read, and says so', () => {
    const kdump = gz('qemu-virt-zlib.kdump.gz');
    // Its pages' data, frame by frame from 0x4000, end the file; frame 0x4008's (0x4008_0000: the 16 KB
    // stage-1 tables of StreamID 2's CD 1) runs to 333,488 bytes, before 0x4009..0x400c's: cut at 333,400.
    const cut = kdump.subarray(0, 333_400);
    const d = open(cut, false);
    assert.throws(() => d.memory.readBytes(0x4008_0000, 8), isDumpError(/page frame 0x4008, descriptor 8 .* outside the file/));
    const { d: s, sids, text } = report(cut);
    assert.deepEqual(sids, [1, 2, 3, 4, 0x100]);
    assert.equal(s.memory.firstUncovered(0x4000_0000, 0x10_0000), 0x4008_0000);
    assert.match(s.memory.whyMissing(0x4008_0000) ?? '', /^the dump holds page frame 0x4008 but it cannot be read: vmcore: the page at physical 0x40080000 .* outside the file \(0x51658 bytes\)/);
    assert.match(text, /0x40080000 is missing: the dump holds page frame 0x4008 but it cannot be read/);
    // Looked for and lost: frame 0x4008 (CD 1's stage-1 tables) and 0x4009 (StreamID 4's stage-2 table, so its
    // CD and stage-1 tables at 0x400a.. 0x400c.. are never reached). StreamID 3's tables (0x4004, 0x4005) are whole.
    assert.equal(s.memory.unreadable(), 2);
    assert.match(text, /\nnote: 2 pages of the dump could not be read \(damaged or past its end\)/);
  });

  it('a flattened dump cut inside a record: the records before it are read, and a page in the lost part says so', () => {
    const flat = gz('qemu-virt-zlib.flat.gz');
    // QEMU wrote seven records; the last, at 0x22258, holds 69,544 bytes from offset 265,216: the shared
    // zero page and every compressed page. Cutting 1,000 bytes into its data loses all of them.
    const cut = flat.subarray(0, 0x22258 + 16 + 1000);
    assert.throws(() => open(cut, false), isDumpError(/the record at 0x22258 holds 0x10fa8 bytes, but the file ends at 0x22650: the flattened dump is truncated/));
    const d = open(cut, true);
    assert.ok(d.notes.some((n) => /the flattened dump is truncated; reading the records before it/.test(n)), d.notes.join('\n'));
    assert.equal(d.memory.firstUncovered(0x4000_0000, 8), 0x4000_0000);
    // Frame 0x4000's 319 bytes at 0x50c00 (descriptor 0: 330,752 = 0x50c00 in the reassembled dump).
    assert.match(d.memory.whyMissing(0x4000_0000) ?? '', /the 319 bytes at offset 0x50c00 of physical 0x40000000 \(page frame 0x4000, descriptor 0 at offset 0x40000\) was in the part of the file that was cut off \(vmcore: the record at 0x22258/);
  });
});
