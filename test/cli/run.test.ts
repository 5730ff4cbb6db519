import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli';
import { CliIo } from '../../src/cli/io';

const root = join(__dirname, '..', '..', '..');

async function cli(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => { out += t + '\n'; }, err: (t) => { err += t + '\n'; } };
  const status = await runCli(argv, io);
  return { status, out, err };
}

const MAX_OPS_MESSAGE = (n: number): string =>
  `the run exceeded ${n} micro-operations (limit maxOps); raise it with --max-ops or the launch option "maxOps"`;

/** Scenarios, written to a temporary folder. */
const SCENARIOS: Record<string, string[]> = {
  'pass.smmu': [
    /* 1 */ 'smmu sidsize=8',
    /* 2 */ 'smmu init',
    /* 3 */ 'domain d1',
    /* 4 */ 'map d1 0x1000_0000 -> 0x8_0000_0000 size=2M',
    /* 5 */ 'attach 5 s1 d1',
    /* 6 */ 'expect dma 5 read 0x1000_0abc -> 0x8_0000_0abc',
    /* 7 */ 'expect update hitless syncs=2',
  ],
  'fail.smmu': [
    /* 1 */ 'smmu sidsize=8',
    /* 2 */ 'smmu init',
    /* 3 */ 'expect dma 5 read 0x1000 -> 0x1000',
    /* 4 */ 'attach 5 bypass',
    /* 5 */ 'expect dma 5 read 0x1000 -> 0x1000',
  ],
  'shape.smmu': [
    /* 1 */ 'smmu sidsize=8',
    /* 2 */ 'smmu init',
    /* 3 */ 'domain d1',
    /* 4 */ 'map d1 0x1000_0000 -> 0x8_0000_0000 size=2M',
    /* 5 */ 'attach 5:1 s1 d1',
    /* 6 */ 'attach 5 s1 d1',
    /* 7 */ 'dma 5 read 0x1000_0abc',
    /* 8 */ 'dma 5:1 write 0x1020_0000',
    /* 9 */ 'expect dma 7 read 0 -> abort',
  ],
  'bad.smmu': ['smmu init', 'domain d1', 'map dd1 0 -> 0', 'mapp d1 0 -> 0'],
  'runtime.smmu': ['alloc r 4K cacheable', 'store r + 4 1', 'dsb'],
  'main.smmu': ['include "lib/setup.smmu"', 'expect dma 5 read 0x1000 -> 0x1000'],
  'lib/setup.smmu': ['smmu sidsize=8', 'smmu init', 'attach 5 bypass', 'expect dma 5 read 0x2000 -> 0x1000'],
  'badinc.smmu': ['include "lib/broken.smmu"'],
  'lib/broken.smmu': ['dsb', 'sync now'],
};

describe('cli run', () => {
  let dir = '';
  const f = (name: string): string => join(dir, name);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'smmu-run-'));
    mkdirSync(join(dir, 'lib'));
    for (const [name, lines] of Object.entries(SCENARIOS)) writeFileSync(f(name), lines.join('\n') + '\n');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('exit status and text', () => {
    it('exits 0 on a passing scenario and reports its updates, DMAs and expectations', async () => {
      const r = await cli(['run', f('pass.smmu')]);
      assert.equal(r.status, 0, r.err + r.out);
      assert.equal(r.err, '');
      // (The hazard checker's summary line, when there is one, is not this test's business.)
      const lines = r.out.trimEnd().split('\n').filter((l) => !l.startsWith('  hazards:'));
      assert.match(lines[0], new RegExp(`^${f('pass.smmu').replace(/[\\.]/g, '\\$&')}: ok \\(6 statements, \\d+ operations\\)$`));
      assert.deepEqual(lines.slice(1), [
        '  line 5: CD 0x5:0x0 hitless (critical qword 0), 2 CMD_SYNCs',
        '  line 5: STE 0x5 hitless (critical qword 0), 2 CMD_SYNCs',
        '  line 6: DMA read SID 0x5 0x10000abc → 0x800000abc',
        '  expectations: 2 passed',
      ]);
    });

    it('exits 1 on a failing expectation, naming its file and line', async () => {
      const r = await cli(['run', f('fail.smmu')]);
      assert.equal(r.status, 1);
      assert.equal(r.err, '');
      assert.match(r.out, /: FAILED \(4 statements, \d+ operations\)\n/);
      assert.match(r.out, new RegExp(`\n {2}${f('fail.smmu').replace(/[\\.]/g, '\\$&')}:3: expectation failed: DMA read SID 0x5 IOVA 0x1000: expected → 0x1000, got abort \\(`));
      assert.match(r.out, /\n {2}expectations: 1 passed, 1 failed\n/);
    });

    it('exits 1 on a run-time error, with its location', async () => {
      const r = await cli(['run', f('runtime.smmu')]);
      assert.equal(r.status, 1);
      assert.match(r.out, new RegExp(`\n {2}${f('runtime.smmu').replace(/[\\.]/g, '\\$&')}:2:7: error: an 8-byte store must be aligned to 8; 0x40000004 is not\n`));
    });

    it('exits 2 on a compile error, with every error located on stderr and nothing run', async () => {
      const r = await cli(['run', f('bad.smmu')]);
      assert.equal(r.status, 2);
      assert.equal(r.out, '');
      assert.equal(r.err, [
        `${f('bad.smmu')}:3:5: error: unknown domain 'dd1' — did you mean 'd1'?; domains: d1`,
        `${f('bad.smmu')}:4:1: error: unknown statement 'mapp' — did you mean 'map'?`,
      ].join('\n') + '\n');
    });

    it('exits 2 on a file it cannot read', async () => {
      for (const path of [f('missing.smmu'), f('lib')]) {
        const r = await cli(['run', path]);
        assert.equal(r.status, 2, path);
        assert.equal(r.err, `smmu-debug: cannot read ${path}\n`);
        assert.equal(r.out, '');
      }
    });

    it('runs every file: invalid input wins over failures, failures over success', async () => {
      const failed = await cli(['run', f('pass.smmu'), f('fail.smmu')]);
      assert.equal(failed.status, 1);
      assert.match(failed.out, /pass\.smmu: ok /);
      assert.match(failed.out, /fail\.smmu: FAILED /);
      const invalid = await cli(['run', f('bad.smmu'), f('pass.smmu'), f('missing.smmu')]);
      assert.equal(invalid.status, 2);
      assert.match(invalid.out, /pass\.smmu: ok /);
      assert.match(invalid.err, /bad\.smmu:3:5: error: /);
      assert.match(invalid.err, /cannot read .*missing\.smmu/);
    });

    it('resolves includes relative to the including file and locates what happens in them', async () => {
      const r = await cli(['run', f('main.smmu')]);
      assert.equal(r.status, 1, r.err);
      assert.match(r.out, /\n {2}line 3: STE 0x5 hitless \(critical qword 0\), 2 CMD_SYNCs\n/);
      // The failed expectation is in the included file.
      assert.ok(r.out.includes(`\n  ${f('lib/setup.smmu')}:4: expectation failed: DMA read SID 0x5 IOVA 0x2000: expected → 0x1000, got bypass → 0x2000\n`), r.out);
      assert.match(r.out, /\n {2}expectations: 1 passed, 1 failed\n/);
      const bad = await cli(['run', f('badinc.smmu')]);
      assert.equal(bad.status, 2);
      assert.equal(bad.err, `${f('lib/broken.smmu')}:2:6: error: unexpected 'now' after a complete 'sync' statement\n`);
    });

    it('refuses bad arguments with status 2', async () => {
      for (const [argv, message] of [
        [['run'], /run needs at least one scenario file/],
        [['run', 'x.smmu', '--max-ops', '0'], /--max-ops 0: expected a positive integer/],
        [['run', 'x.smmu', '--max-ops', 'many'], /--max-ops many: expected a positive integer/],
        [['run', 'x.smmu', '--max-pages=-1'], /--max-pages -1: expected a positive integer/],
        [['run', 'x.smmu', '--bogus'], /Unknown option '--bogus'/],
      ] as [string[], RegExp][]) {
        const r = await cli(argv);
        assert.equal(r.status, 2, argv.join(' '));
        assert.match(r.err, message, argv.join(' '));
      }
    });

    it('prints its usage with --help', async () => {
      const r = await cli(['run', '--help']);
      assert.equal(r.status, 0);
      assert.match(r.out, /^usage: smmu-debug run FILE\.\.\. \[--json\] \[--trace\] .*\[--max-ops N\] \[--max-pages N\]\n/);
    });
  });

  describe('--json', () => {
    it('prints one object per file with the updates, DMAs, expectations and errors', async () => {
      const r = await cli(['run', f('shape.smmu'), '--json']);
      assert.equal(r.status, 0, r.err + r.out);
      const reports = JSON.parse(r.out);
      assert.ok(Array.isArray(reports));
      assert.equal(reports.length, 1);
      const j = reports[0];
      for (const k of ['file', 'ok', 'steps', 'operations', 'hazards', 'updates', 'dma', 'expectations', 'errors']) assert.ok(k in j, k);
      assert.equal(j.file, f('shape.smmu'));
      assert.equal(j.ok, true);
      assert.equal(j.steps, 8);
      assert.ok(Number.isInteger(j.operations) && j.operations > 0);
      assert.ok(Array.isArray(j.hazards));
      assert.deepEqual(j.updates, [
        // A CD for SubstreamID 1 (a two-CD table), then the STE pointing at the table: each hitless, 2 syncs.
        { line: 5, target: 'cd', sid: 5, ssid: 1, path: 'hitless', critical: [0], syncs: 2 },
        { line: 5, target: 'ste', sid: 5, path: 'hitless', critical: [0], syncs: 2 },
        // CD 0 of the same table; the STE already points at it: unchanged, no sync.
        { line: 6, target: 'cd', sid: 5, ssid: 0, path: 'hitless', critical: [0], syncs: 2 },
        { line: 6, target: 'ste', sid: 5, path: 'unchanged', critical: [], syncs: 0 },
      ]);
      assert.deepEqual(j.dma, [
        { line: 7, sid: 5, iova: '0x10000abc', access: 'read', result: 'ok', pa: '0x800000abc' },
        { line: 8, sid: 5, ssid: 1, iova: '0x10200000', access: 'write', result: 'fault', event: 'F_TRANSLATION' },
        { line: 9, sid: 7, iova: '0x0', access: 'read', result: 'abort' },
      ]);
      assert.equal(j.expectations.length, 1);
      assert.deepEqual(Object.keys(j.expectations[0]), ['line', 'ok', 'message']);
      assert.equal(j.expectations[0].line, 9);
      assert.equal(j.expectations[0].ok, true);
      assert.match(j.expectations[0].message, /^DMA read SID 0x7 IOVA 0x0: expected abort, got abort/);
      assert.deepEqual(j.errors, []);
    });

    it('reports failures and errors in the object, several files in one array', async () => {
      const r = await cli(['run', f('fail.smmu'), f('runtime.smmu'), '--json']);
      assert.equal(r.status, 1);
      const [fail, runtime] = JSON.parse(r.out);
      assert.equal(fail.ok, false);
      assert.deepEqual(fail.expectations.map((e: { line: number; ok: boolean }) => [e.line, e.ok]), [[3, false], [5, true]]);
      assert.match(fail.expectations[0].message, /^expectation failed: /);
      assert.equal(runtime.ok, false);
      assert.deepEqual(runtime.errors, [{ file: f('runtime.smmu'), line: 2, column: 7, message: 'an 8-byte store must be aligned to 8; 0x40000004 is not' }]);
      assert.equal(runtime.operations, 1);
    });

    it('prints an empty array when no file could be run', async () => {
      const r = await cli(['run', f('bad.smmu'), '--json']);
      assert.equal(r.status, 2);
      assert.deepEqual(JSON.parse(r.out), []);
      assert.match(r.err, /bad\.smmu:3:5: error: unknown domain 'dd1'/);
    });
  });

  describe('--trace and --max-ops', () => {
    it('prints every micro-operation, indented by the driver call depth', async () => {
      const r = await cli(['run', f('pass.smmu'), '--trace']);
      assert.equal(r.status, 0);
      // Inside arm_smmu_device_reset: one level of indentation.
      assert.match(r.out, /\n {2} +\d+ {4}alloc 'cmdq' 0x1000 bytes noncacheable\n/);
      assert.match(r.out, /\n {2} +\d+ {6}; hitless update: critical qword 0\n/);
      // STE 5 at 0x4000_4140 (the linear stream table follows the two queues), inside
      // arm_smmu_write_ste > arm_smmu_write_entry.
      assert.match(r.out, /\n {2} +\d+ {6}WRITE_ONCE 64-bit \[0x40004140\] = 0x[0-9a-f]+ {2}; STE qword 0 \(critical qword\)\n/);
      assert.match(r.out, /writel_relaxed CMDQ_PROD = 0x[0-9a-f]+\n/);
      assert.match(r.out, /SMMU: CMD_CFGI_STE \(entry \d+\)/);
      assert.match(r.out, /\n {2} +\d+ {2}DMA read SID 0x5 IOVA 0x10000abc\n/);
      const plain = await cli(['run', f('pass.smmu')]);
      assert.ok(!plain.out.includes('WRITE_ONCE'));
    });

    it('stops a run at --max-ops with the limit and how to raise it', async () => {
      const r = await cli(['run', f('pass.smmu'), '--max-ops', '20']);
      assert.equal(r.status, 1);
      assert.match(r.out, /: FAILED \(6 statements, 20 operations\)\n/);
      assert.ok(r.out.includes(`\n  ${f('pass.smmu')}:2:1: error: ${MAX_OPS_MESSAGE(20)}\n`), r.out);
      const j = JSON.parse((await cli(['run', f('pass.smmu'), '--max-ops', '20', '--json'])).out)[0];
      assert.equal(j.ok, false);
      assert.equal(j.operations, 20);
      assert.deepEqual(j.errors, [{ file: f('pass.smmu'), line: 2, column: 1, message: MAX_OPS_MESSAGE(20) }]);
    });
  });

  it('runs as the built smmu-debug program, with its exit status', () => {
    const bin = join(root, 'bin', 'smmu-debug.js');
    const ok = spawnSync(process.execPath, [bin, 'run', f('pass.smmu')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /pass\.smmu: ok /);
    const failed = spawnSync(process.execPath, [bin, 'run', f('fail.smmu')], { encoding: 'utf8' });
    assert.equal(failed.status, 1, failed.stderr);
    const bad = spawnSync(process.execPath, [bin, 'run', f('bad.smmu')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /bad\.smmu:3:5: error: unknown domain 'dd1'/);
  });
});
