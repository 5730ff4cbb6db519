import { strict as assert } from 'node:assert';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileSource } from '../../src/cli/fileSource';
import { inspect } from '../../src/dump/inspect';
import { dumpMachine, openDump } from '../../src/dump/load';
import { fixtureImage, RAM, RAM_END, STRTAB_BASE, STRTAB_BASE_CFG } from './fixture';
import { elfCore, PAGE } from './helpers';

const GiB = 2 ** 30;
const DATA = 0x1000;

describe('dump: a large sparse core', () => {
  let dir = '';
  let path = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'smmu-dump-'));
    path = join(dir, 'big.core');
    // One PT_LOAD of 1 GiB of RAM at 0x4000_0000 whose bytes start at file offset 0x1000.
    const header = elfCore([{ paddr: RAM, data: new Uint8Array(0), memsz: GiB }]);
    const v = new DataView(header.buffer);
    const ph = 64 + 56; // the PT_LOAD after the PT_NOTE
    v.setBigUint64(ph + 8, BigInt(DATA), true); // p_offset
    v.setBigUint64(ph + 32, BigInt(GiB), true); // p_filesz
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, header, 0, header.length, 0);
      // Only the fixture's first MiB holds data; the rest of the file is a hole.
      const img = fixtureImage().bytes(RAM, RAM_END);
      writeSync(fd, img, 0, img.length, DATA);
      ftruncateSync(fd, DATA + GiB);
    } finally {
      closeSync(fd);
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('opens without reading memory, and inspects reading only the pages of the tables', () => {
    assert.equal(statSync(path).size, DATA + GiB);
    const dump = openDump({ core: [path], registers: new Map([['STRTAB_BASE', STRTAB_BASE], ['STRTAB_BASE_CFG', STRTAB_BASE_CFG]]) }, (p) => openFileSource(p));
    assert.equal(dump.memory.pagesRead, 0);
    const ins = inspect(dumpMachine(dump), dump.memory);
    assert.equal(ins.streams.length, 10);
    // Pages the fixture's tables span (see fixture.ts), each read once:
    //   L1 stream table 1 (0x4000_0000) + STEs of L1STD 0, 256 x 64 B = 16 KiB, 4 + STEs of L1STD 1, 1
    //   + CD table 1 + stage-2 64 KB tables: level 2 (2048 x 8 B = 16 KiB) 4, level 3 (8192 x 8 B = 64 KiB) 16
    //   + stage-1 4 KB tables 4 + 16 KB tables 2 x 16 KiB = 8 + StreamID 4's stage-2 table, CD and two tables 4
    //   = 1 + 4 + 1 + 1 + 4 + 16 + 4 + 8 + 4 = 43 pages of 4 KiB, of the 262144 the segment holds.
    assert.equal(dump.memory.pagesRead, 43);
    assert.equal(GiB / PAGE, 262_144);
  });
});
