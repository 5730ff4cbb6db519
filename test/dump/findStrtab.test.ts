import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { findStreamTables, strtabSearchText } from '../../src/dump/findStrtab';
import { inspect } from '../../src/dump/inspect';
import { dumpMachine, openDump, openDumpMemory } from '../../src/dump/load';
import { bytesSource } from '../../src/dump/source';
import { fixtureCore, STRTAB_BASE, STRTAB_BASE_CFG } from './fixture';
import { elfCore, Image } from './helpers';

const memoryOf = (core: Uint8Array) => openDumpMemory({ core: ['core'] }, (p) => bytesSource(p, core)).memory;
const streams = (core: Uint8Array, base: bigint, cfg: bigint) => {
  const d = openDump({ core: ['core'], registers: new Map([['STRTAB_BASE', base], ['STRTAB_BASE_CFG', cfg]]) }, (p) => bytesSource(p, core));
  return inspect(dumpMachine(d), d.memory).streams.map((s) => ({ sid: s.sid, config: s.config, words: s.words }));
};

describe('dump/findStrtab: finding the stream table without the registers', () => {
  it('finds the fixture\'s 2-level table and proposes registers that list the same streams', () => {
    const core = fixtureCore();
    const s = findStreamTables(memoryOf(core));
    // The fixture's RAM: 1 MiB, 256 pages, all read once.
    assert.equal(s.pagesScanned, 256);
    assert.equal(s.candidates.length, 1, strtabSearchText(s));
    const c = s.candidates[0];
    // L1STD 0 (Span 9 → 256 STEs) and 1 (Span 2 → 2 STEs): SPLIT = 9 - 1 = 8; the last descriptor
    // in use is index 1, so LOG2SIZE = 8 + ceil(log2(2)) = 9; STRTAB_BASE_CFG = FMT 1 << 16 | 8 << 6 | 9 = 0x10209.
    assert.deepEqual({ base: c.base, format: c.format, split: c.split, log2size: c.log2size, cfg: c.cfg, l1InUse: c.l1InUse },
      { base: 0x4000_0000, format: '2-level', split: 8, log2size: 9, cfg: 0x10209, l1InUse: 2 });
    // Valid STEs: StreamIDs 0-7 of the first array (0 abort, 1 bypass, 2 stage 1, 3 stage 2, 4 nested, 5-7 abort)
    // and 0x100 (bypass), 0x101 (abort) of the second: 10, of which 1, 2, 3, 4 and 0x100 do not abort.
    assert.equal(c.validStes, 10);
    assert.deepEqual(c.notAborting, [1, 2, 3, 4, 0x100]);
    assert.deepEqual(streams(core, BigInt(c.base), BigInt(c.cfg)), streams(core, STRTAB_BASE, STRTAB_BASE_CFG));
    assert.match(strtabSearchText(s), /\n {2}1\. 2-level at 0x40000000: 2 level-1 descriptors in use, SPLIT 8 \(from their Span\); 10 valid STEs, 5 not aborting: 0x1, 0x2, 0x3, 0x4, 0x100\n {5}--strtab-base 0x40000000 --strtab-base-cfg 0x10209 /);
  });

  it('finds the same in QEMU\'s kdump-compressed dump of that memory (64 KiB pages, with its DTB beside)', () => {
    const kdump = new Uint8Array(gunzipSync(readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'dumps', 'qemu-virt-zlib.kdump.gz'))));
    const s = findStreamTables(memoryOf(kdump));
    // 8 MiB of RAM: 2048 pages of 4 KiB.
    assert.equal(s.pagesScanned, 2048);
    assert.deepEqual(s.candidates.map((c) => [c.base, c.cfg, c.validStes]), [[0x4000_0000, 0x10209, 10]]);
  });

  it('finds a linear table as the run of valid STEs the kernel writes at start', () => {
    const img = new Image();
    // 32 STEs at 0x4100_0000: abort (V=1, Config 0b000: qword 0 = 0x1), StreamIDs 3 and 17 bypass (Config 0b100: 0x9).
    for (let sid = 0; sid < 32; sid++) img.q(0x4100_0000 + sid * 64, sid === 3 || sid === 17 ? 0x9n : 0x1n);
    // Three valid STEs in a row elsewhere: too few to propose.
    for (let i = 0; i < 3; i++) img.q(0x4120_0000 + i * 64, 0x9n);
    const core = elfCore([{ paddr: 0x4100_0000, data: img.bytes(0x4100_0000, 0x4130_0000) }]);
    const s = findStreamTables(memoryOf(core));
    assert.deepEqual(s.candidates.map((c) => ({ base: c.base, format: c.format, log2size: c.log2size, cfg: c.cfg, valid: c.validStes, live: c.notAborting })),
      [{ base: 0x4100_0000, format: 'linear', log2size: 5, cfg: 5, valid: 32, live: [3, 17] }]);
    assert.match(strtabSearchText(s), /1\. linear at 0x41000000: 32 STEs in a row; 32 valid STEs, 2 not aborting: 0x3, 0x11\n {5}--strtab-base 0x41000000 --strtab-base-cfg 0x5 /);
  });

  it('proposes nothing for descriptors that point at no valid STE, or data that only looks like STEs for a moment', () => {
    const img = new Image();
    // A page of would-be L1STDs (Span 9, 16 KiB-aligned arrays) over arrays of zeros, and over an STE with a reserved Config (0b001: 0x3).
    img.q(0x4200_0000, 0x4300_0000n | 9n).q(0x4200_0008, 0x4301_0000n | 9n);
    img.q(0x4301_0000, 0x3n);
    // Random-looking qwords.
    for (let i = 0; i < 512; i++) img.q(0x4400_0000 + i * 8, BigInt.asUintN(64, 0x9e37_79b9_7f4a_7c15n * BigInt(i + 1)));
    // Page tables, whose entries can pass for L1STDs and STEs one by one: a level-2 table of table
    // descriptors (address | 0b11: Span 3, so SPLIT 2, which is reserved) over level-3 tables of
    // stage-2 pages (| 0x7ff: V=1, Config 0b111 nested, with reserved bits set), and tables of
    // stage-1 pages (| 0xf47), stage-2 blocks (| 0x7fd) and stage-1 blocks (| 0x701: V=1, Config
    // 0b000 abort, but with address bits no initial abort STE has).
    img.q(0x4400_1000, 0x4400_2000n | 3n);
    for (let i = 0; i < 512; i++) img.q(0x4400_2000 + i * 8, BigInt(0x4401_0000 + i * 0x1000) | 3n);
    for (let t = 0; t < 16; t++) for (let i = 0; i < 512; i++) img.q(0x4401_0000 + t * 0x1000 + i * 8, BigInt(0x1_0000_0000 + (t * 512 + i) * 0x1000) | 0x7ffn);
    for (let i = 0; i < 512; i++) {
      img.q(0x4402_0000 + i * 8, BigInt(0x1_0000_0000 + i * 0x1000) | 0xf47n);
      img.q(0x4402_1000 + i * 8, BigInt(0x1_0000_0000 + i * 0x20_0000) | 0x7fdn);
      img.q(0x4402_2000 + i * 8, BigInt(0x1_0000_0000 + i * 0x20_0000) | 0x701n);
    }
    // 64 "abort STEs" that each point somewhere (V=1, Config 0b000, S1ContextPtr set): valid, but not the kernel's initial ones.
    for (let i = 0; i < 64; i++) img.q(0x4402_3000 + i * 64, BigInt(0x4500_0000 + i * 0x1000) | 1n);
    const core = elfCore([{ paddr: 0x4200_0000, data: img.bytes(0x4200_0000, 0x4403_0000) }]);
    const s = findStreamTables(memoryOf(core));
    assert.deepEqual(s.candidates, []);
    assert.match(strtabSearchText(s), /^no stream table found in the \d+ pages of the dump: it may be in memory the dump left out, or the SMMU was not set up/);
  });
});
