import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gunzipSync } from 'node:zlib';
import { inspect } from '../../src/dump/inspect';
import { dumpMachine, openDump } from '../../src/dump/load';
import { inspectionText } from '../../src/dump/report';
import { ByteSource, bytesSource, DumpError } from '../../src/dump/source';
import { fixtureCore, fixtureImage, RAM, RAM_END, STRTAB_BASE, STRTAB_BASE_CFG } from './fixture';
import { sha256, vector } from './codecs/vectors';
import { flatten, kdumpFile, KdumpPage } from './kdumpFile';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'dumps');
const fixture = (name: string): Uint8Array => new Uint8Array(name.endsWith('.gz') ? gunzipSync(readFileSync(join(FIXTURES, name))) : readFileSync(join(FIXTURES, name)));
const REGS = new Map([['STRTAB_BASE', STRTAB_BASE], ['STRTAB_BASE_CFG', STRTAB_BASE_CFG]]);
const isDumpError = (re: RegExp) => (e: unknown): boolean => e instanceof DumpError && re.test(e.message);

function open(bytes: Uint8Array, name = 'vmcore') {
  return openDump({ core: [name], registers: REGS }, (p) => bytesSource(p, bytes));
}

/** A source that records each read (offset, length). */
function recording(name: string, bytes: Uint8Array): ByteSource & { reads: [number, number][] } {
  const s = bytesSource(name, bytes);
  const reads: [number, number][] = [];
  return { name, size: s.size, reads, read: (o, n) => { reads.push([o, n]); return s.read(o, n); } };
}

const page = (fill: (i: number) => number, size = 4096): Uint8Array => Uint8Array.from({ length: size }, (_, i) => fill(i) & 0xff);

describe('dump/kdump: QEMU\'s kdump-compressed dump of the fixture', () => {
  const img = fixtureImage();
  const expected = img.bytes(RAM, RAM_END);

  for (const [what, name] of [['put together by makedumpfile -R', 'qemu-virt-zlib.kdump.gz'], ['flattened, as QEMU 7.2 writes it', 'qemu-virt-zlib.flat.gz']]) {
    it(`reads the same memory as the fixture holds (${what})`, () => {
      const d = open(fixture(name));
      // 1 MiB of tables at 0x4000_0000: sixteen 64 KiB blocks, zlib-compressed or (all zero) stored raw.
      assert.deepEqual(d.memory.readBytes(RAM, RAM_END - RAM), expected);
      // The machine had 8 MiB at 0x4000_0000 (max_mapnr 0x4080 frames of 64 KiB): the first byte past it is not in the dump.
      assert.equal(d.memory.firstUncovered(RAM, 0x80_0000), undefined);
      assert.equal(d.memory.firstUncovered(RAM, 0x80_0001), 0x4080_0000);
      assert.equal(d.memory.firstUncovered(0x3fff_f000, 0x2000), 0x3fff_f000);
      assert.equal(d.memory.ranges(), '0x40000000..0x40800000');
      assert.equal(d.memory.top, 0x4080_0000);
      assert.ok(d.notes.some((n) => /kdump-compressed, 64 KiB pages, zlib/.test(n)), d.notes.join('\n'));
    });
  }

  it('inspects to the same streams, CDs and mappings as the ELF core of the same memory', () => {
    const report = (bytes: Uint8Array): string => {
      const d = open(bytes);
      return inspectionText(inspect(dumpMachine(d), d.memory));
    };
    const fromElf = report(fixtureCore());
    assert.match(fromElf, /StreamID 0x2: STE at 0x40010080/);
    assert.equal(report(fixture('qemu-virt-zlib.kdump.gz')), fromElf);
    assert.equal(report(fixture('qemu-virt-zlib.flat.gz')), fromElf);
  });

  it('reads only the headers to open, and one bitmap chunk, one descriptor and one page to read a page', () => {
    const src = recording('vmcore', fixture('qemu-virt-zlib.kdump.gz'));
    const d = openDump({ core: ['vmcore'], registers: REGS }, () => src);
    const opened = src.reads.reduce((n, [, len]) => n + len, 0);
    // The signature (16), the main header (464), the sub header (104).
    assert.equal(opened, 16 + 464 + 104);
    src.reads.length = 0;
    // 0x4001_0008: StreamID 0's STE, word 1; frame 0x4001 (64 KiB blocks).
    assert.deepEqual([...d.memory.readBytes(0x4001_0000, 8)], [1, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(src.reads.length, 3, JSON.stringify(src.reads));
    // The block stays decompressed: another 4 KiB page of the same 64 KiB block reads nothing more.
    d.memory.readBytes(0x4001_1000, 8);
    assert.equal(src.reads.length, 3);
  });
});

describe('dump/kdump: files laid out by hand', () => {
  const A = page((i) => i * 7 + 1);
  const B = page((i) => (i % 8 === 0 ? 0x03 : 0));

  it('reads raw, zlib and zstd pages at their frames, and 4 KiB blocks', () => {
    const zst = fixture('ste-page-0x40010000.zst');
    const stes = fixtureImage().bytes(0x4001_0000, 0x4001_1000);
    const pages: KdumpPage[] = [
      { pfn: 0x40000, data: A },
      { pfn: 0x40002, data: B, store: 'zlib' },
      { pfn: 0x40010, data: stes, store: { flags: 0x20, bytes: zst } },
    ];
    const d = open(kdumpFile({ blockSize: 4096, maxMapnr: 0x40100, pages }));
    assert.deepEqual(d.memory.readBytes(0x4000_0000, 4096), A);
    assert.deepEqual(d.memory.readBytes(0x4000_2000, 4096), B);
    assert.deepEqual(d.memory.readBytes(0x4001_0000, 4096), stes);
    // Frame 0x40001 is not in either bitmap: not RAM.
    assert.equal(d.memory.firstUncovered(0x4000_0000, 0x3000), 0x4000_1000);
    assert.equal(d.memory.ranges(), '0x40000000..0x40001000, 0x40002000..0x40003000, 0x40010000..0x40011000');
  });

  it('reads LZO and Snappy pages as liblzo2 and libsnappy wrote them, in 4 KiB and 64 KiB blocks', () => {
    const lzo = vector('smmu-4k.lzo.bin');
    const snappy = vector('smmu-4k.snappy.bin');
    const small = open(kdumpFile({ blockSize: 4096, maxMapnr: 0x40002, pages: [
      { pfn: 0x40000, data: new Uint8Array(4096), store: { flags: 0x2, bytes: lzo.bytes } },
      { pfn: 0x40001, data: new Uint8Array(4096), store: { flags: 0x4, bytes: snappy.bytes } },
    ] }));
    assert.equal(sha256(small.memory.readBytes(0x4000_0000, 4096)), lzo.sha256);
    assert.equal(sha256(small.memory.readBytes(0x4000_1000, 4096)), snappy.sha256);
    for (const [v, flags] of [[vector('far-64k.lzo.bin'), 0x2], [vector('far-64k.snappy.bin'), 0x4]] as const) {
      // Frame 0x4000 of 64 KiB: physical 0x4000_0000, read as sixteen 4 KiB model pages.
      const big = open(kdumpFile({ blockSize: 65536, maxMapnr: 0x4001, pages: [{ pfn: 0x4000, data: new Uint8Array(65536), store: { flags, bytes: v.bytes } }] }));
      assert.equal(sha256(big.memory.readBytes(0x4000_0000, 65536)), v.sha256);
    }
    const cut = open(kdumpFile({ blockSize: 4096, maxMapnr: 0x40001, pages: [{ pfn: 0x40000, data: new Uint8Array(4096), store: { flags: 0x2, bytes: lzo.bytes.subarray(0, 40) } }] }));
    assert.throws(() => cut.memory.readBytes(0x4000_0000, 8), isDumpError(/vmcore: the page at physical 0x40000000 \(page frame 0x40000, descriptor 0 at offset 0x[0-9a-f]+\), 40 bytes at offset 0x[0-9a-f]+: LZO: /));
  });

  it('holds no page a dump filter left out (in the first bitmap only)', () => {
    const d = open(kdumpFile({ blockSize: 4096, maxMapnr: 0x40010, pages: [{ pfn: 0x40000, data: A }, { pfn: 0x40002, data: B }], filtered: [0x40001] }));
    assert.equal(d.memory.firstUncovered(0x4000_0000, 0x3000), 0x4000_1000);
    assert.deepEqual(d.memory.readBytes(0x4000_1ff8, 16), Uint8Array.from([...new Array(8).fill(0), ...B.subarray(0, 8)]));
    // The writer's dump level is 31: zero (1), page cache (2), private cache (4), user (8) and free (16) pages.
    assert.equal(d.memory.whyMissing(0x4000_1000), 'page frame 0x40001 is RAM that the dump filter left out (dump level 31 leaves out zero, page cache, ' +
      'private cache, user, free pages: a table there was all zeros or already freed)');
    // Frame 0x40003 is in neither bitmap: not RAM, nothing more to say.
    assert.equal(d.memory.whyMissing(0x4000_3000), undefined);
  });

  it('says when a table the SMMU points at is in a page the dump filter left out', () => {
    // STRTAB_BASE 0x4000_0000, a linear table (STRTAB_BASE_CFG.FMT 0) in frame 0x40000, which the filter left out.
    const file = kdumpFile({ blockSize: 4096, maxMapnr: 0x40010, pages: [{ pfn: 0x40002, data: B }], filtered: [0x40000] });
    const d = openDump({ core: ['vmcore'], registers: new Map([['STRTAB_BASE', 0x4000_0000n], ['STRTAB_BASE_CFG', 6n]]) }, (p) => bytesSource(p, file));
    assert.throws(() => inspect(dumpMachine(d), d.memory), isDumpError(new RegExp('the stream table \\(STRTAB_BASE\\) at 0x40000000\\.\\.0x[0-9a-f]+ is not in the dump \\(0x40000000 is missing: ' +
      'page frame 0x40000 is RAM that the dump filter left out \\(dump level 31 .*: a table there was all zeros or already freed\\); the dump holds 0x40002000\\.\\.0x40003000\\)')));
  });

  it('finds descriptors by counting dumped frames across bitmap chunks (32768 frames each)', () => {
    // Frames 5, 40000 and 70000: chunks 0, 1 and 2 of the dumped-frames bitmap. Descriptor i is the i-th dumped frame.
    const pages = [5, 40000, 70000].map((pfn, i) => ({ pfn, data: page((k) => k + i * 3 + 1) }));
    const d = open(kdumpFile({ blockSize: 4096, maxMapnr: 80000, pages }));
    for (const p of [...pages].reverse()) assert.deepEqual(d.memory.readBytes(p.pfn * 4096, 4096), p.data);
  });

  it('reads the parts of a split dump, each holding descriptors for its own frames', () => {
    const pages = [{ pfn: 0x40000, data: A }, { pfn: 0x40001, data: B }];
    const first = kdumpFile({ blockSize: 4096, maxMapnr: 0x40002, pages, split: { start: 0, end: 0x40001 } });
    const second = kdumpFile({ blockSize: 4096, maxMapnr: 0x40002, pages, split: { start: 0x40001, end: 0x40002 } });
    const files: Record<string, Uint8Array> = { a: first, b: second };
    const d = openDump({ core: ['a', 'b'], registers: REGS }, (p) => bytesSource(p, files[p]));
    assert.deepEqual(d.memory.readBytes(0x4000_0000, 0x2000), Uint8Array.from([...A, ...B]));
    assert.ok(d.notes.some((n) => /a: one part of a split dump .* page frames 0x0\.\.0x40001/.test(n)), d.notes.join('\n'));
    // One part alone lacks the other's frames.
    const alone = open(second, 'b');
    assert.equal(alone.memory.firstUncovered(0x4000_0000, 0x2000), 0x4000_0000);
    assert.deepEqual(alone.memory.readBytes(0x4000_1000, 4096), B);
  });

  it('takes the pages an unfinished dump did not write as not in the dump, and says so', () => {
    const file = kdumpFile({ blockSize: 4096, maxMapnr: 0x40002, pages: [{ pfn: 0x40000, data: A }, { pfn: 0x40001, data: B }], status: 0x8, unwritten: [1] });
    const d = open(file);
    assert.ok(d.notes.some((n) => /the dump was not finished/.test(n)));
    assert.deepEqual(d.memory.readBytes(0x4000_0000, 4096), A);
    assert.equal(d.memory.page(0x40001), undefined);
  });

  it('reads a flattened file whose records overlap: the later one wins, as makedumpfile -R writes them', () => {
    const file = kdumpFile({ blockSize: 4096, maxMapnr: 0x40001, pages: [{ pfn: 0x40000, data: A }] });
    const pageAt = file.length - 4096;
    // The file in two records, then a record that rewrites the page's first 8 bytes.
    const patch = Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9]);
    const flat = flatten(file, [[0, 0x3000], [0x3000, file.length]], [[pageAt, patch]]);
    const d = open(flat);
    assert.deepEqual(d.memory.readBytes(0x4000_0000, 16), Uint8Array.from([...patch, ...A.subarray(8, 16)]));
    assert.deepEqual(d.memory.readBytes(0x4000_0010, 4080), A.subarray(16));
  });

  describe('explains a file it cannot read', () => {
    const good = (): Uint8Array => kdumpFile({ blockSize: 4096, maxMapnr: 0x40001, pages: [{ pfn: 0x40000, data: A, store: 'zlib' }] });
    const set32 = (b: Uint8Array, at: number, x: number): Uint8Array => {
      new DataView(b.buffer).setUint32(at, x, true);
      return b;
    };

    it('a header that cannot be right', () => {
      assert.throws(() => open(good().subarray(0, 300)), isDumpError(/vmcore is 300 bytes: a kdump-compressed dump's main header needs 464/));
      assert.throws(() => open(set32(good(), 428, 1000)), isDumpError(/block_size at offset 0x1ac is 1000; .* a power of two from 4096/));
      assert.throws(() => open(set32(good(), 436, 3)), isDumpError(/bitmap_blocks at offset 0x1b4 is 3; .* even and not 0/));
      // max_mapnr_64 (sub header + 96) beyond what one bitmap block of 4096 bytes covers (32768 frames).
      const big = good();
      new DataView(big.buffer).setBigUint64(4096 + 96, 0x8000_0000n, true);
      assert.throws(() => open(big), isDumpError(/max_mapnr 0x80000000 page frames need 0x10000000 bitmap bytes, but bitmap_blocks \d+ give 0x[0-9a-f]+ each/));
      assert.throws(() => open(good().subarray(0, 3 * 4096)), isDumpError(/its bitmaps run to offset 0x[0-9a-f]+, but the file ends at 0x3000: the file is truncated/));
    });

    it('a page it cannot find or decompress, naming the file, the address and the descriptor', () => {
      const file = good();
      const cut = file.subarray(0, file.length - 10);
      const d = open(cut);
      assert.throws(() => d.memory.readBytes(0x4000_0000, 8), isDumpError(/vmcore: the page at physical 0x40000000 \(page frame 0x40000, descriptor 0 at offset 0x[0-9a-f]+\) is said to be \d+ bytes at offset 0x[0-9a-f]+, outside the file/));
      const bad = open(kdumpFile({ blockSize: 4096, maxMapnr: 0x40001, pages: [{ pfn: 0x40000, data: A, store: { flags: 0x1, bytes: Uint8Array.from([0x12, 0x34, 1, 2, 3, 4]) } }] }));
      assert.throws(() => bad.memory.readBytes(0x4000_0000, 8), isDumpError(/the page at physical 0x40000000 .*: zlib: the data does not decompress \(invalid zlib data\)/));
      const short = open(kdumpFile({ blockSize: 4096, maxMapnr: 0x40001, pages: [{ pfn: 0x40000, data: A, store: { flags: 0x1, bytes: new Uint8Array(deflateSync(A.subarray(0, 100))) } }] }));
      assert.throws(() => short.memory.readBytes(0x4000_0000, 8), isDumpError(/zlib: the data decompresses to 100 bytes, not the page's 4096/));
      // zstd's frame header says 4096 bytes (the page it was made from); the dump's blocks are 8 KiB.
      const zst = fixture('ste-page-0x40010000.zst');
      const wrongSize = open(kdumpFile({ blockSize: 8192, maxMapnr: 0x20001, pages: [{ pfn: 0x20000, data: new Uint8Array(8192), store: { flags: 0x20, bytes: zst } }] }));
      assert.throws(() => wrongSize.memory.readBytes(0x4000_0000, 8), isDumpError(/zstd: the frame declares 4096 bytes, not the page's 8192/));
      const unknown = open(kdumpFile({ blockSize: 4096, maxMapnr: 0x40001, pages: [{ pfn: 0x40000, data: A, store: { flags: 0x40, bytes: A.subarray(0, 10) } }] }));
      assert.throws(() => unknown.memory.readBytes(0x4000_0000, 8), isDumpError(/flags 0x40 name no compression this reader knows \(zlib 0x1, LZO 0x2, Snappy 0x4, zstd 0x20, or 0 for none\)/));
      const rawShort = open(kdumpFile({ blockSize: 4096, maxMapnr: 0x40001, pages: [{ pfn: 0x40000, data: A, store: { flags: 0, bytes: A.subarray(0, 100) } }] }));
      assert.throws(() => rawShort.memory.readBytes(0x4000_0000, 8), isDumpError(/an uncompressed page \(flags 0\) of 100 bytes; it should be the block size, 4096/));
      const empty = open(kdumpFile({ blockSize: 4096, maxMapnr: 0x40001, pages: [{ pfn: 0x40000, data: A }], unwritten: [0] }));
      assert.throws(() => empty.memory.readBytes(0x4000_0000, 8), isDumpError(/is said to be 0 bytes at offset 0x0, outside the file/));
    });

    it('a flattened file cut short or of another type', () => {
      const flat = flatten(good());
      assert.throws(() => open(flat.subarray(0, flat.length - 16)), isDumpError(/without the end record \(offset -1\): the flattened dump is truncated/));
      assert.throws(() => open(flat.subarray(0, 4096 + 16 + 100)), isDumpError(/the record at 0x1000 holds 0x[0-9a-f]+ bytes, but the file ends at 0x1074: the flattened dump is truncated/));
      const other = flat.slice();
      new DataView(other.buffer).setBigInt64(16, 2n, false);
      assert.throws(() => open(other), isDumpError(/a flattened dump whose type \(offset 0x10, big-endian\) is 2; makedumpfile writes 1/));
    });

    it('a file that is none of the formats', () => {
      assert.throws(() => open(new Uint8Array(4096).fill(0x41)), isDumpError(/vmcore is not an ELF core nor a kdump-compressed dump \(offset 0 holds 41 41 41 41 41 41 41 41, not 7f 45 4c 46, "KDUMP {3}" or "makedumpfile"\)/));
    });
  });
});
