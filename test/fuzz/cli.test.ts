/**
 * Fuzz target for the command line: random argument lists for decode, run and inspect
 * (options in any order, missing values, bad numbers, unknown flags, real and missing
 * files). Every one ends with an exit status (0, 1 or 2) and a message on bad input;
 * nothing escapes runCli. --out is left out: a fuzz target writes no files.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli } from '../../src/cli/cli';
import { CliIo } from '../../src/cli/io';
import { fuzzAsync, word64 } from './harness';
import { fixtureCoreBytes } from './machines';

describe('fuzz: command line', function () {
  this.timeout(120_000);
  let dir = '';
  const file = (name: string): string => join(dir, name);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'smmu-fuzz-cli-'));
    writeFileSync(file('s.smmu'), 'smmu sidsize=8\nsmmu init\ndomain d1\nmap d1 0x1000 -> 0x2000\nattach 5 s1 d1\nexpect dma 5 read 0x1000 -> 0x2000\n');
    writeFileSync(file('bad.smmu'), 'smmu init\nmap nosuch 0x1000 -> 0x2000\n');
    writeFileSync(file('vmcore'), fixtureCoreBytes());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const hex = word64().map((v) => '0x' + v.toString(16));
  const value = fc.oneof(hex, fc.nat({ max: 70 }).map(String), fc.string({ maxLength: 8 }), fc.constantFrom('4k', '16k', '64k', '1', '2', '3', '-1', '', '0x4000_0000', '0x10210', '5:0x1000', '5:1:0x10'));
  const word = (): fc.Arbitrary<string> => fc.oneof(
    { arbitrary: fc.constantFrom('ste', 'cd', 'l1std', 'l1cd', 'pte', 'cmd', 'event', 'pri', 'reg', 'IDR0', 'STRTAB_BASE_CFG', 'nope'), weight: 3 },
    { arbitrary: fc.constantFrom('--json', '--trace', '--no-check', '--ds', '--pa52', '--help', '-h', '--nope', '--'), weight: 2 },
    { arbitrary: fc.tuple(fc.constantFrom('--stage', '--granule', '--level', '--bound', '--max-ops', '--max-pages', '--sid', '--translate', '--reg', '--strtab-base',
      '--strtab-base-cfg', '--raw', '--core', '--root'), value).map(([o, v]) => `${o}=${v}`), weight: 3 },
    { arbitrary: fc.constantFrom('s.smmu', 'bad.smmu', 'missing.smmu', 'vmcore', 'vmcore@0x4000_0000').map((f) => file(f)), weight: 2 },
    { arbitrary: fc.constantFrom('--core=vmcore', '--raw=vmcore@0x4000_0000').map((o) => o.replace(/=(\w+)/, (_m, f: string) => `=${file(f)}`)), weight: 2 },
    { arbitrary: hex, weight: 3 },
  );
  const argv = fc.tuple(fc.constantFrom('decode', 'run', 'inspect', 'help', '--version', 'nope'), fc.array(word(), { maxLength: 8 }))
    .map(([command, rest]) => [command, ...rest]);

  fuzzAsync('cli-args', 200, argv, async (args) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (t) => void out.push(t), err: (t) => void err.push(t) };
    const status = await runCli(args, io);
    assert.ok([0, 1, 2].includes(status), `exit status ${status}`);
    if (status === 2) assert.ok(err.join('').trim().length > 0 || out.join('').length > 0, `status 2 without a message for ${JSON.stringify(args)}`);
  });
});
