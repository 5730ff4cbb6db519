/**
 * Fuzz targets for memory dumps: ELF cores (the fixture's, with header fields, program
 * headers and bytes mutated, truncated or extended), kdump-compressed dumps (the same),
 * raw images at random bases, register
 * lists as users type them, all through the readers, the dump's memory, the inspector, one
 * translation and both reports. A bad dump may only raise a DumpError that says what is
 * wrong; nothing else may escape, and nothing may read for ever.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { findStreamTables, strtabSearchText } from '../../src/dump/findStrtab';
import { inspect, translateOne } from '../../src/dump/inspect';
import { dumpMachine, openDump } from '../../src/dump/load';
import { parseRawSpec } from '../../src/dump/raw';
import { parseRegisterList, registerMap } from '../../src/dump/registers';
import { inspectionJson, inspectionText, translationJson, translationText } from '../../src/dump/report';
import { bytesSource, DumpError, ReadOptions } from '../../src/dump/source';
import { REGISTERS } from '../../src/arch/registers';
import { expectOnly, fuzz, word64 } from './harness';
import { FIXTURE_REGISTERS, fixtureCoreBytes } from './machines';
import { flatten, kdumpFile, KdumpPage } from '../dump/kdumpFile';

const CORE = fixtureCoreBytes();

/** The kdump-compressed files the kdump target starts from, by name. */
function kdumpBases(): Map<string, Uint8Array> {
  const dir = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'dumps');
  const gz = (name: string): Uint8Array => new Uint8Array(gunzipSync(readFileSync(join(dir, name))));
  const img = CORE.subarray(CORE.length - 0x10_0000);
  const at = (addr: number): Uint8Array => img.slice(addr - 0x4000_0000, addr - 0x4000_0000 + 4096);
  // The fixture's tables in 4 KiB pages, stored each way (the STE page as zstd wrote it).
  const pages: KdumpPage[] = [0x4000_0000, 0x4001_0000, 0x4002_0000, 0x4003_0000, 0x4004_0000, 0x4005_0000, 0x4007_0000, 0x4007_1000, 0x4007_2000, 0x4007_3000]
    .map((addr, i) => ({ pfn: addr / 4096, data: at(addr), store: addr === 0x4001_0000 ? { flags: 0x20, bytes: new Uint8Array(readFileSync(join(dir, 'ste-page-0x40010000.zst'))) } : i % 2 ? 'zlib' : 'raw' }));
  // And two pages as liblzo2 and libsnappy compressed them (the codec tests' vectors).
  const vec = (file: string): Uint8Array => new Uint8Array(readFileSync(join(dir, '..', '..', 'dump', 'codecs', 'vectors', file)));
  pages.push({ pfn: 0x40080, data: new Uint8Array(4096), store: { flags: 0x2, bytes: vec('smmu-4k.lzo.bin') } },
    { pfn: 0x40081, data: new Uint8Array(4096), store: { flags: 0x4, bytes: vec('smmu-4k.snappy.bin') } });
  const small = kdumpFile({ blockSize: 4096, maxMapnr: 0x40100, pages, filtered: [0x40006] });
  return new Map([['qemu', gz('qemu-virt-zlib.kdump.gz')], ['qemu-flat', gz('qemu-virt-zlib.flat.gz')], ['4k', small], ['4k-flat', flatten(small)]]);
}
const isDumpError = (e: unknown): boolean => e instanceof DumpError;

type Edit = { kind: 'byte'; at: number; value: number } | { kind: 'u64'; at: number; value: bigint } | { kind: 'u16'; at: number; value: number }
  | { kind: 'truncate'; at: number } | { kind: 'extend'; by: number };

/** Edits biased to the headers: the ELF header (64 bytes) and the program headers after it. */
const edit = (): fc.Arbitrary<Edit> => fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('byte' as const), at: fc.oneof(fc.nat({ max: 64 + 3 * 56 }), fc.nat()), value: fc.nat({ max: 255 }) }), weight: 3 },
  // p_offset, p_vaddr, p_paddr, p_filesz, p_memsz of the 2 program headers; e_phoff, e_shoff.
  { arbitrary: fc.record({ kind: fc.constant('u64' as const), at: fc.constantFrom(32, 40, 64 + 8, 64 + 24, 64 + 32, 64 + 40, 120 + 8, 120 + 24, 120 + 32, 120 + 40), value: word64() }), weight: 3 },
  // e_type, e_machine, e_phentsize, e_phnum, p_type.
  { arbitrary: fc.record({ kind: fc.constant('u16' as const), at: fc.constantFrom(16, 18, 54, 56, 64, 120), value: fc.oneof(fc.nat({ max: 8 }), fc.nat({ max: 0xffff })) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('extend' as const), by: fc.nat({ max: 4096 }) }), weight: 1 },
);

function applyEdits(base: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let b = base.slice();
  for (const e of edits) {
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    if (e.kind === 'byte' && b.length) b[e.at % b.length] = e.value;
    else if (e.kind === 'u64' && e.at + 8 <= b.length) v.setBigUint64(e.at, e.value, true);
    else if (e.kind === 'u16' && e.at + 2 <= b.length) v.setUint16(e.at, e.value, true);
    else if (e.kind === 'truncate') b = b.slice(0, e.at % (b.length + 1));
    else if (e.kind === 'extend') {
      const out = new Uint8Array(b.length + e.by);
      out.set(b);
      b = out;
    }
  }
  return b;
}

/** Registers: a dump's own (`base`), with some replaced by random values (a mistyped STRTAB_BASE_CFG, odd ID registers). */
const registersFrom = (base: ReadonlyMap<string, bigint>): fc.Arbitrary<Map<string, bigint>> => fc.array(fc.tuple(fc.constantFrom('STRTAB_BASE', 'STRTAB_BASE_CFG', 'CR0', 'CR2', 'IDR0', 'IDR1', 'IDR3', 'IDR5', 'CMDQ_BASE', 'GBPA'),
  fc.oneof(word64(), fc.nat({ max: 0x1ffff }).map(BigInt), fc.constantFrom(0x10210n, 0x10010n, 0x20n, 0x10220n, 0x10410n))), { maxLength: 3 })
  .map((changes) => {
    const regs = new Map(base);
    for (const [name, v] of changes) {
      const bits = REGISTERS.find((r) => r.name === name)!.wordBits;
      regs.set(name, BigInt.asUintN(bits, v));
    }
    return regs;
  });

const registers = registersFrom(FIXTURE_REGISTERS);

/** A real Linux 6.1 guest's SMMU tables and some of its other memory, with the registers its driver wrote (see test/dump/realGuest.test.ts). */
const GUEST = new Uint8Array(gunzipSync(readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'dumps', 'linux-6.1-qemu-virt-tables.core.gz'))));
const GUEST_REGISTERS = new Map([['STRTAB_BASE', 0x4000_0000_4836_e000n], ['STRTAB_BASE_CFG', 0x10210n], ['CR0', 0xdn]]);

const query = fc.record({
  // As inspect reads (keeping what is whole of a damaged dump), or as a scenario does (refusing it).
  salvage: fc.boolean(),
  sid: fc.option(fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(0x100, 0x101), fc.nat({ max: 0xffff_ffff })), { nil: undefined }),
  tsid: fc.oneof(fc.nat({ max: 8 }), fc.nat({ max: 0xffff_ffff })),
  ssid: fc.option(fc.nat({ max: 3 }), { nil: undefined }),
  iova: fc.oneof(word64(), fc.constantFrom(0n, 0x1000n, 0x20_0abcn, 0x4000_1000n)),
});

function useDump(open: (opts: ReadOptions) => ReturnType<typeof openDump>, q: typeof query extends fc.Arbitrary<infer T> ? T : never): void {
  expectOnly(() => {
    const dump = open({ salvage: q.salvage });
    const m = dumpMachine(dump);
    expectOnly(() => {
      const ins = inspect(m, dump.memory, { sid: q.sid, maxMappings: 5000 });
      assert.ok(inspectionText(ins, dump.memory, dump.notes).length > 0);
      JSON.stringify(inspectionJson(ins));
    }, isDumpError);
    // The search reads every page with data: the file's size bounds it.
    expectOnly(() => strtabSearchText(findStreamTables(dump.memory)), isDumpError);
    const r = translateOne(m, q.tsid, q.ssid, q.iova);
    translationText(q.tsid, q.ssid, q.iova, r, dump.memory);
    JSON.stringify(translationJson(q.tsid, q.ssid, q.iova, r, dump.memory));
  }, isDumpError);
}

describe('fuzz: memory dumps', function () {
  this.timeout(60_000);

  // The fixture's core, or the real guest's, with its own registers.
  const elfBase = fc.oneof({ arbitrary: fc.tuple(fc.constant(CORE), registers), weight: 3 }, { arbitrary: fc.tuple(fc.constant(GUEST), registersFrom(GUEST_REGISTERS)), weight: 1 });
  fuzz('dump-elf', 300, fc.tuple(fc.array(edit(), { minLength: 1, maxLength: 5 }), elfBase, query), ([edits, [base, regs], q]) => {
    const bytes = applyEdits(base, edits);
    useDump((o) => openDump({ core: ['core'], registers: regs }, (p) => bytesSource(p, bytes), undefined, o), q);
  });

  // kdump-compressed: QEMU's dump of the fixture (put together, and flattened as QEMU wrote
  // it), and one laid out here with 4 KiB blocks and zlib, zstd and raw pages, with header
  // fields, sub-header fields, bitmap bytes and page descriptors overwritten, cut or extended.
  const KDUMPS = kdumpBases();
  const kdumpEdit = (): fc.Arbitrary<Edit> => fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('byte' as const), at: fc.oneof(fc.nat({ max: 600 }), fc.nat()), value: fc.nat({ max: 255 }) }), weight: 3 },
    // header_version, status .. max_mapnr; the sub header's fields (block 1: 4 KiB or 64 KiB in); descriptors' offset and size.
    { arbitrary: fc.record({ kind: fc.constant('u64' as const), at: fc.oneof(fc.constantFrom(8, 424, 428, 432, 436, 440, 4096 + 8, 4096 + 16, 4096 + 80, 4096 + 88, 4096 + 96,
      65536 + 8, 65536 + 16, 65536 + 96), fc.nat({ max: 0x4_0000 }).map((n) => n & ~7)), value: fc.oneof(word64(), fc.nat({ max: 0x10_0000 }).map(BigInt)) }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('extend' as const), by: fc.nat({ max: 4096 }) }), weight: 1 },
  );
  fuzz('dump-kdump', 200, fc.tuple(fc.constantFrom(...KDUMPS.keys()), fc.array(kdumpEdit(), { minLength: 1, maxLength: 5 }), registers, query), ([base, edits, regs, q]) => {
    const bytes = applyEdits(KDUMPS.get(base)!, edits);
    useDump((o) => openDump({ core: ['vmcore'], registers: regs }, (p) => bytesSource(p, bytes), undefined, o), q);
  });

  fuzz('dump-raw', 300, fc.tuple(
    fc.array(fc.record({ base: fc.oneof(fc.constant(0x4000_0000), fc.nat({ max: 0xffff_ffff }), fc.nat()).map((b) => b & ~0xfff), size: fc.nat({ max: 0x3_0000 }), from: fc.nat({ max: 0x10_0000 }) }),
      { minLength: 1, maxLength: 3 }),
    registers, query,
  ), ([files, regs, q]) => {
    // Raw images cut from the fixture's memory (0x4000_0000..0x4010_0000, the core's only segment), at their own bases.
    const img = CORE.subarray(CORE.length - 0x10_0000);
    const named = files.map((f, i) => ({ name: `ram${i}.bin`, bytes: img.slice(f.from, f.from + f.size), base: f.base }));
    useDump((o) => openDump({ raw: named.map((f) => `${f.name}@0x${f.base.toString(16)}`), registers: regs },
      (p) => bytesSource(p, named.find((f) => f.name === p)!.bytes), undefined, o), q);
  });

  fuzz('dump-text', 3000, fc.tuple(fc.array(fc.oneof(
    fc.tuple(fc.constantFrom(...REGISTERS.map((r) => r.name), 'SMMU_CR0', 'EVTQ_BASE', 'CR0ACK', 'nope'), fc.oneof(word64().map((v) => '0x' + v.toString(16)), fc.string({ maxLength: 8 })))
      .map(([n, v]) => `${n}=${v}`),
    fc.string({ maxLength: 20 }),
  ), { maxLength: 4 }), fc.string({ maxLength: 30 }), fc.anything()), ([items, raw, anything]) => {
    expectOnly(() => parseRegisterList(items), isDumpError);
    expectOnly(() => parseRawSpec(raw), isDumpError);
    // A launch configuration's "registers" can be any JSON.
    expectOnly(() => registerMap(anything), isDumpError);
  });
});
