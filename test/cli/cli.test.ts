import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli';
import { CliIo } from '../../src/cli/io';

const root = join(__dirname, '..', '..', '..');

async function run(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => { out += t + '\n'; }, err: (t) => { err += t + '\n'; } };
  const status = await runCli(argv, io);
  return { status, out, err };
}

describe('cli decode', () => {
  it('explains the kernel\'s stage-1 STE field by field', async () => {
    const r = await run(['decode', 'ste', '0x000000004800f00b', '0xd6']);
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /^Stream Table Entry: /);
    assert.match(r.out, /qword 0 {2}0x000000004800f00b/);
    assert.match(r.out, /qword 1 {2}0x00000000000000d6/);
    // Config = (0xb >> 1) & 7 = 0b101, S1ContextPtr = 0x4800f00b & ~0x3f.
    assert.match(r.out, /Config .*0b101 S1_TRANS/);
    assert.match(r.out, /S1ContextPtr .*0x4800f000/);
    // S1DSS = 0xd6 & 3 = 0b10 (SSID0); S1CSH = (0xd6 >> 6) & 3 = 0b11.
    assert.match(r.out, /S1DSS .*0b10/);
    assert.match(r.out, /S1CSH .*0b11/);
  });

  it('prints JSON with kind, words, fields, summary and problems', async () => {
    const r = await run(['decode', 'ste', '000000004800f00b00000000000000d6', '--json']);
    assert.equal(r.status, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.kind, 'ste');
    assert.equal(j.words.length, 8);
    assert.equal(j.words[1], '0x00000000000000d6');
    assert.equal(j.fields.S1ContextPtr.value, 0x4800f000);
    assert.equal(j.fields.V.value, 1);
    assert.equal(typeof j.summary, 'string');
    assert.ok(Array.isArray(j.problems));
  });

  it('decodes a page-table entry for a given format', async () => {
    // 4K level-2 block at 0x80000000: type 0b01, AF (bit 10) → 0x80000401.
    const r = await run(['decode', 'pte', '--stage', '1', '--granule', '4k', '--level', '2', '0x80000401', '--json']);
    assert.equal(r.status, 0, r.err);
    assert.match(JSON.parse(r.out).kind, /block/);
  });

  it('decodes registers by name', async () => {
    const r = await run(['decode', 'reg', 'STRTAB_BASE_CFG', '0x10210', '--json']);
    assert.equal(r.status, 0, r.err);
    const j = JSON.parse(r.out);
    // 0x10210 = FMT 1 << 16 | SPLIT 8 << 6 | LOG2SIZE 16.
    assert.equal(j.fields.FMT.value, 1);
    assert.equal(j.fields.SPLIT.value, 8);
    assert.equal(j.fields.LOG2SIZE.value, 16);
  });

  it('exits 2 with a message saying what was expected', async () => {
    for (const [argv, pattern] of [
      [['decode', 'stx', '1'], /unknown kind 'stx' — did you mean 'ste'\?/],
      [['decode', 'ste', '0xq'], /not hexadecimal/],
      [['decode', 'ste', '1', '2', '3', '4', '5', '6', '7', '8', '9'], /STE has 8 words; got 9/],
      [['decode', 'pte', '--granule', '8k', '1'], /--granule 8k: expected one of 4k, 16k, 64k/],
      [['decode', 'reg', 'IDRX', '1'], /unknown register 'IDRX'/],
      [['decode'], /decode needs a kind/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['decode', 'ste', '--bogus', '1'], /Unknown option '--bogus'/],
    ] as [string[], RegExp][]) {
      const r = await run(argv);
      assert.equal(r.status, 2, argv.join(' '));
      assert.match(r.err, pattern, argv.join(' '));
    }
  });

  it('runs as the built smmu-debug program', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'smmu-debug.js'), 'decode', 'ste', '0x1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Config .*0b000 ABORT/);
    const bad = spawnSync(process.execPath, [join(root, 'bin', 'smmu-debug.js'), 'decode', 'ste', 'xyz'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /not hexadecimal/);
  });
});
