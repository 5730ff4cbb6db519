import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fixtureCore, fixtureImage, RAM, RAM_END, SPLIT_AT } from '../dump/fixture';
import { cli } from './helpers';

const REGS = ['--strtab-base', '0x4000_0000', '--strtab-base-cfg', '0x10210'];

describe('cli inspect', () => {
  let dir = '';
  let core = '';
  let a = '';
  let b = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'smmu-inspect-'));
    core = join(dir, 'core.elf');
    a = join(dir, 'a.bin');
    b = join(dir, 'b.bin');
    writeFileSync(core, fixtureCore());
    const img = fixtureImage();
    writeFileSync(a, img.bytes(RAM, SPLIT_AT));
    writeFileSync(b, img.bytes(SPLIT_AT, RAM_END));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the streams of a core, with coalesced mappings, and leaves the file as it was', async () => {
    const before = readFileSync(core);
    const r = await cli(['inspect', '--core', core, ...REGS]);
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /^dump: .*core\.elf PT_LOAD 1: physical 0x40000000\.\.0x40080000; .*core\.elf PT_LOAD 2: physical 0x40080000\.\.0x40100000\n/);
    assert.match(r.out, /\nstream table: 2-level at 0x40000000, SPLIT 8, LOG2SIZE 16; SMMU enabled\n/);
    assert.match(r.out, /\n {2}StreamID 0x2: STE at 0x40010080: /);
    assert.match(r.out, /\n {4}words 0x080000004003000b 0x00000000000000d4 /);
    assert.match(r.out, /\n {8}0x10000000\.\.0x10202000 → 0x800000000 {2}2056 KB: 1 × 2 MB block \(level 2\) \+ 2 × 4 KB page \(level 3\)/);
    assert.match(r.out, /\n {6}0x20000000\.\.0x40000000 → 0x2000000000 {2}512 MB: 1 × 512 MB block \(level 2\) {2}RWX {2}OIWB {2}ISH\n/);
    assert.deepEqual(readFileSync(core), before);
  });

  it('gives the same report for QEMU\'s kdump-compressed dump of the same memory, flattened or not, and leaves it as it was', async () => {
    const fromElf = (await cli(['inspect', '--core', core, ...REGS])).out.split('\n').filter((l) => !/^(dump|note): /.test(l)).join('\n');
    for (const name of ['qemu-virt-zlib.kdump.gz', 'qemu-virt-zlib.flat.gz']) {
      const file = join(dir, name.replace(/\.gz$/, ''));
      writeFileSync(file, gunzipSync(readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'dumps', name))));
      const before = readFileSync(file);
      const r = await cli(['inspect', '--core', file, ...REGS]);
      assert.equal(r.status, 0, r.err);
      // 8 MiB of guest RAM in 64 KiB pages, one range; the note names the format.
      assert.match(r.out, /^dump: .*\(kdump-compressed\): 128 pages of 64 KiB in 1 range between physical 0x40000000\.\.0x40800000\n/);
      assert.match(r.out, /\nnote: .*: kdump-compressed, 64 KiB pages, zlib, machine 'Unknown', dump level 1\n/);
      assert.equal(r.out.split('\n').filter((l) => !/^(dump|note): /.test(l)).join('\n'), fromElf);
      assert.deepEqual(readFileSync(file), before);
    }
  });

  it('finds the stream table without the registers, and proposes the options that inspect it', async () => {
    const r = await cli(['inspect', '--core', core, '--find-strtab']);
    assert.equal(r.status, 0, r.err);
    // The fixture's 2-level table: SPLIT 8 from Span 9, LOG2SIZE 8 + 1 for its two level-1 descriptors in use.
    assert.match(r.out, /^stream table candidates \(256 pages of the dump searched\), the most likely first:\n {2}1\. 2-level at 0x40000000: /);
    assert.match(r.out, /\n {5}--strtab-base 0x40000000 --strtab-base-cfg 0x10209 /);
    const j = JSON.parse((await cli(['inspect', '--core', core, '--find-strtab', '--json'])).out);
    assert.deepEqual(j.candidates.map((c: { base: number; cfg: number }) => [c.base, c.cfg]), [[0x4000_0000, 0x10209]]);
    // The second half of the fixture's memory holds page tables and CDs, but no stream table: exit status 1.
    const none = await cli(['inspect', '--raw', `${b}@0x4008_0000`, '--find-strtab']);
    assert.equal(none.status, 1, none.err);
    assert.match(none.out, /^no stream table found in the 128 pages of the dump/);
  });

  it('gives the same JSON for the core and for raw images at their bases', async () => {
    const c = await cli(['inspect', '--core', core, ...REGS, '--json']);
    const r = await cli(['inspect', '--raw', `${a}@0x4000_0000`, '--raw', `${b}@40080000`, ...REGS, '--json']);
    assert.equal(c.status, 0, c.err);
    assert.equal(r.status, 0, r.err);
    const j = JSON.parse(c.out);
    assert.deepEqual(JSON.parse(r.out), j);
    assert.deepEqual(Object.keys(j.streams), ['0', '1', '2', '3', '4', '5', '6', '7', '256', '257']);
    assert.equal(j.streams['2'].cds['0'].mappings[0].iova, '0x10000000');
  });

  it('inspects one StreamID, and translates one address', async () => {
    const one = await cli(['inspect', '--core', core, ...REGS, '--sid', '0x3', '--json']);
    assert.deepEqual(Object.keys(JSON.parse(one.out).streams), ['3']);
    const t = await cli(['inspect', '--core', core, ...REGS, '--translate', '2:1:0x400_c123']);
    assert.equal(t.status, 0, t.err);
    assert.match(t.out, /^StreamID 0x2 SubstreamID 0x1 IOVA 0x400c123, an unprivileged read, as the SMMU would walk it now:\n/);
    assert.match(t.out, /\n {2}stage 1 level 3: 0x000000012345cf4b at 0x40084018 \(page\)\n {2}→ 0x12345c123: 16 KB at level 3, RWX user UX-only\n/);
    const j = JSON.parse((await cli(['inspect', '--core', core, ...REGS, '--translate', '4:1234', '--json'])).out);
    assert.deepEqual([j.outcome, j.pa, j.config.map((c: { what: string }) => c.what)], ['ok', '0x40201234', ['l1std', 'ste', 'cd']]);
  });

  it('says what is missing or wrong, with exit status 2', async () => {
    const cases: [string[], RegExp][] = [
      [['inspect', ...REGS], /inspect needs a dump: --core FILE or --raw FILE@BASE/],
      [['inspect', '--core', core, '--strtab-base', '0x4000_0000'], /missing STRTAB_BASE_CFG: the stream table's place is held only in the SMMU's registers/],
      [['inspect', '--core', join(dir, 'nope.elf'), ...REGS], /cannot open .*nope\.elf: ENOENT/],
      [['inspect', '--core', a, ...REGS], /a\.bin is not an ELF core nor a kdump-compressed dump .*give it with its physical base as FILE@BASE/],
      [['inspect', '--raw', a, ...REGS], /raw dump '.*a\.bin': expected FILE@BASE/],
      [['inspect', '--core', core, ...REGS, '--reg', 'CR9=1'], /unknown SMMU register 'CR9'/],
      [['inspect', '--core', core, ...REGS, '--translate', '2'], /--translate '2': expected SID\[:SSID\]:IOVA/],
      [['inspect', '--core', core, ...REGS, '--sid', 'x'], /--sid 'x': expected a number/],
      [['inspect', '--core', core, '--strtab-base', '0x5000_0000', '--strtab-base-cfg', '0x10210'], /the L1 stream table \(STRTAB_BASE, 256 descriptors\) at 0x50000000\.\.0x50000800 is not in the dump/],
    ];
    for (const [argv, re] of cases) {
      const r = await cli(argv);
      assert.equal(r.status, 2, `${argv.join(' ')}: ${r.out}`);
      assert.match(r.err, re);
    }
    const truncated = join(dir, 'short.elf');
    const full = fixtureCore();
    writeFileSync(truncated, full.subarray(0, full.length - 0x1000));
    // A report shows what a cut-short dump still holds: PT_LOAD 2 (0x8_0000 bytes) keeps its 0x7_f000, and says so.
    const r = await cli(['inspect', '--core', truncated, ...REGS]);
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /\nnote: .*short\.elf PT_LOAD 2 \(physical 0x40080000\.\.0x40100000\) needs file bytes .* the file is truncated \(was the dump interrupted\?\); reading the 0x7f000 bytes it has\n/);
    assert.match(r.out, /\n {2}StreamID 0x4: STE at 0x40010100: nested/);
  });

  it('prints its usage', async () => {
    const r = await cli(['help', 'inspect']);
    assert.equal(r.status, 0);
    assert.match(r.out, /^usage: smmu-debug inspect \(--core FILE \| --raw FILE@BASE \.\.\.\) --strtab-base HEX --strtab-base-cfg HEX/);
  });
});
