/**
 * 6. Dump: open a 1 GiB sparse ELF core and list all mappings of a stream. The core holds one
 * PT_LOAD of 1 GiB of RAM whose file is a hole except for the SMMU's tables: a linear stream
 * table and, for StreamID 1, stage-2 tables (4K granule, 39-bit IPA, from level 1) mapping
 * the whole GiB of IPA in 4K pages — 262,144 leaves in 514 table pages. Opening must not read
 * memory; listing reads the table pages only, so memory grows with the pages touched.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../src/arch/codec';
import { STE } from '../src/arch/ste';
import { openFileSource } from '../src/cli/fileSource';
import { inspect } from '../src/dump/inspect';
import { dumpMachine, openDump } from '../src/dump/load';
import { kdumpFile } from '../test/dump/kdumpFile';
import { Benchmark, BenchContext } from './harness';

const GiB = 2 ** 30;
const RAM = 0x4000_0000;
/** Where RAM's bytes start in the file (after the headers). */
const DATA = 0x1000;
const STRTAB = RAM;
const L1 = RAM + 0x1_0000;
const L2 = RAM + 0x1_1000;
const L3 = RAM + 0x10_0000;
const OUT = 0x1_0000_0000;
/** STRTAB_BASE_CFG: linear (FMT 0), LOG2SIZE 8: 256 STEs. */
const STRTAB_BASE_CFG = 8n;

/** An ELF64 little-endian core with one PT_LOAD of `memsz` bytes at `paddr`, data at DATA. */
function elfHeader(paddr: number, memsz: number): Uint8Array {
  const b = new Uint8Array(64 + 56);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // magic, ELFCLASS64, little-endian, version 1
  v.setUint16(16, 4, true); // ET_CORE
  v.setUint16(18, 183, true); // EM_AARCH64
  v.setUint32(20, 1, true);
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(54, 56, true); // e_phentsize
  v.setUint16(56, 1, true); // e_phnum
  const ph = 64;
  v.setUint32(ph, 1, true); // PT_LOAD
  v.setUint32(ph + 4, 6, true); // R+W
  v.setBigUint64(ph + 8, BigInt(DATA), true); // p_offset
  v.setBigUint64(ph + 16, BigInt(paddr), true); // p_vaddr
  v.setBigUint64(ph + 24, BigInt(paddr), true); // p_paddr
  v.setBigUint64(ph + 32, BigInt(memsz), true); // p_filesz
  v.setBigUint64(ph + 40, BigInt(memsz), true); // p_memsz
  return b;
}

function qwords(words: readonly bigint[]): Uint8Array {
  const b = new Uint8Array(words.length * 8);
  const v = new DataView(b.buffer);
  words.forEach((w, i) => v.setBigUint64(i * 8, w, true));
  return b;
}

/**
 * The tables, as (physical address, bytes), with the stream table at `strtab` and the rest
 * at the same distances from it as in the 1 GiB core.
 */
function tables(strtab: number): [number, Uint8Array][] {
  const l1 = strtab + (L1 - STRTAB);
  const l2 = strtab + (L2 - STRTAB);
  const l3 = strtab + (L3 - STRTAB);
  // StreamID 1: stage-2 translate, VMID 1, 39-bit IPA (T0SZ 25) from level 1 (SL0 1), 4K (TG 0),
  // 40-bit PA (PS 2), walks inner/outer write-back, inner shareable, AArch64 tables.
  const ste = encode(STE, {
    V: 1n, Config: 0b110n, S2VMID: 1n, S2T0SZ: 25n, S2SL0: 1n, S2IR0: 1n, S2OR0: 1n, S2SH0: 3n, S2TG: 0n, S2PS: 2n, S2AA64: 1n, S2TTB: BigInt(l1),
  });
  const out: [number, Uint8Array][] = [[strtab + 64, qwords(ste)]];
  // Level 1: entry 0 covers IPA [0, 1 GiB) → the level-2 table; level 2: 512 tables of level 3.
  out.push([l1, qwords([BigInt(l2) | 3n])]);
  out.push([l2, qwords(Array.from({ length: 512 }, (_, i) => BigInt(l3 + i * 0x1000) | 3n))]);
  // Pages: OUT + IPA; AF, SH inner, S2AP read/write, MemAttr write-back, page descriptor (0x7ff).
  const page = new BigUint64Array(512);
  for (let t = 0; t < 512; t++) {
    for (let i = 0; i < 512; i++) page[i] = BigInt(OUT + (t * 512 + i) * 0x1000) | 0x7ffn;
    out.push([l3 + t * 0x1000, new Uint8Array(page.buffer.slice(0))]);
  }
  return out;
}

/** Writes the core; returns its path. */
function writeCore(dir: string): string {
  const path = join(dir, 'big.core');
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, elfHeader(RAM, GiB), 0, 120, 0);
    for (const [addr, bytes] of tables(STRTAB)) writeSync(fd, bytes, 0, bytes.length, DATA + addr - RAM);
    ftruncateSync(fd, DATA + GiB);
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * The same tables in a kdump-compressed dump of a 64 GiB machine (RAM from 0), at its top
 * (the stream table at 63 GiB), the pages zlib-compressed as makedumpfile -c stores them and
 * every other page left out as a filtered dump does: finding the tables' descriptors counts
 * the dumped-frames bitmap (2 MiB here) up to them.
 */
function writeKdump(dir: string): { path: string; strtab: number } {
  const strtab = 63 * GiB;
  const pages = new Map<number, Uint8Array>();
  for (const [addr, bytes] of tables(strtab)) {
    const pfn = Math.floor(addr / 4096);
    const p = pages.get(pfn) ?? new Uint8Array(4096);
    p.set(bytes, addr % 4096);
    pages.set(pfn, p);
  }
  const path = join(dir, 'big.kdump');
  writeFileSync(path, kdumpFile({ blockSize: 4096, maxMapnr: (64 * GiB) / 4096, pages: [...pages].map(([pfn, data]) => ({ pfn, data, store: 'zlib' as const })) }));
  return { path, strtab };
}

/** The same listing from a kdump-compressed dump of a 64 GiB machine: what opening and finding pages through the bitmap cost. */
async function kdumpPart(ctx: BenchContext, dir: string): Promise<void> {
  const { path, strtab } = writeKdump(dir);
  const registers = new Map([['STRTAB_BASE', BigInt(strtab)], ['STRTAB_BASE_CFG', STRTAB_BASE_CFG]]);
  let bytesRead = 0;
  const open = () => openDump({ core: [path], registers }, (p) => {
    const src = openFileSource(p);
    return { name: src.name, size: src.size, read: (o: number, n: number) => { const b = src.read(o, n); bytesRead += b.length; return b; } };
  });
  await ctx.single({
    label: 'kdump-compressed, 64 GiB of RAM: open (main and sub header only)', unit: 'ms',
    model: { run: () => dumpMachine(open()) }, target: { on: 'value', cmp: '<=', limit: 500 },
  });
  let leaves = 0;
  await ctx.single({
    label: 'kdump-compressed: list every mapping of StreamID 1 (tables at 63 GiB)', unit: 'ms',
    model: {
      run: () => {
        bytesRead = 0;
        const dump = open();
        leaves = inspect(dumpMachine(dump), dump.memory, { sid: 1, maxMappings: 1 << 20 }).streams[0]?.s2?.mappings.length ?? 0;
      },
    },
  });
  if (leaves !== 512 * 512) throw new Error(`kdump: expected 262144 leaves, listed ${leaves}`);
  // What a listing must read at least: the 515 pages as stored (compressed) and their descriptors, and the
  // bitmap of dumped frames up to them, once (63 GiB of 4 KiB frames: 2,064,384 bytes).
  ctx.value('kdump: file bytes read to list them', 'KB', [bytesRead / 1024], {
    note: 'the bitmap of dumped frames up to the tables (2,016 KB, counted once), the 515 descriptors and compressed pages, the headers',
  });
}

export const dumpBench: Benchmark = {
  id: '6',
  title: 'Dump (1 GiB sparse ELF core, 262,144 stage-2 leaves of one stream)',
  async run(ctx: BenchContext) {
    const dir = mkdtempSync(join(tmpdir(), 'smmu-bench-dump-'));
    try {
      const path = writeCore(dir);
      const registers = new Map([['STRTAB_BASE', BigInt(STRTAB)], ['STRTAB_BASE_CFG', STRTAB_BASE_CFG]]);
      const open = () => openDump({ core: [path], registers }, (p) => openFileSource(p));
      await ctx.single({
        label: 'open the core (headers and registers, no memory read)', unit: 'ms',
        model: { run: () => dumpMachine(open()) }, target: { on: 'value', cmp: '<=', limit: 500 },
      });
      let leaves = 0;
      let pagesRead = 0;
      let heapKb = 0;
      await ctx.single({
        label: 'list every mapping of StreamID 1', unit: 'ms',
        model: {
          run: () => {
            // What the listing keeps alive, measured between full collections (npm run bench exposes gc).
            const gc = (globalThis as { gc?: () => void }).gc;
            gc?.();
            const before = process.memoryUsage().heapUsed;
            const dump = open();
            const ins = inspect(dumpMachine(dump), dump.memory, { sid: 1, maxMappings: 1 << 20 });
            leaves = ins.streams[0]?.s2?.mappings.length ?? 0;
            pagesRead = dump.memory.pagesRead;
            gc?.();
            heapKb = gc ? Math.max(0, (process.memoryUsage().heapUsed - before) / 1024) : NaN;
          },
        },
      });
      // 512 × 512 leaves; pages read: the STE's page, L1, L2 and the 512 level-3 tables = 515.
      if (leaves !== 512 * 512) throw new Error(`expected 262144 leaves, listed ${leaves}`);
      ctx.note(`listed ${leaves} leaves reading ${pagesRead} of the ${GiB / 4096} pages the segment holds`);
      ctx.value('memory pages read to list them', 'KB', [pagesRead * 4], {
        floor: { label: 'the table pages (515 × 4 KB)', xs: [515 * 4] }, target: { on: 'ratio', cmp: '<=', limit: 1 },
        note: 'reads grow with the pages touched, not with the dump',
      });
      if (Number.isFinite(heapKb)) ctx.value('heap kept by the listing: the dump\'s pages read and the 262,144 leaves as objects', 'KB', [heapKb]);
      else ctx.note('heap kept by the listing: run node with --expose-gc to measure it');
      await kdumpPart(ctx, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
