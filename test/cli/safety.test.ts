/**
 * The command line with files: includes and dumps only from the scenario's folder tree
 * (or --root), reports written with --out whole (a temporary file renamed over the
 * target) and never over an input, and every resource bound named with its flag.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCore } from '../dump/fixture';
import { cli } from './helpers';

describe('cli: files and bounds', () => {
  let dir = '';
  const f = (name: string): string => join(dir, name);
  const scenario = (name: string, lines: string[]): string => {
    writeFileSync(f(name), lines.join('\n') + '\n');
    return f(name);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'smmu-safety-'));
    mkdirSync(f('proj/lib'), { recursive: true });
    mkdirSync(f('common'));
    scenario('common/platform.smmu', ['smmu sidsize=8', 'smmu init']);
    scenario('proj/lib/platform.smmu', ['smmu sidsize=8', 'smmu init']);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('includes from the scenario\'s folder tree; one outside it is refused unless --root takes it in', async () => {
    const inside = scenario('proj/in.smmu', ['include "lib/platform.smmu"', 'dma 5 read 0x1000']);
    assert.equal((await cli(['run', inside])).status, 0);
    const outside = scenario('proj/out.smmu', ['include "../common/platform.smmu"', 'dma 5 read 0x1000']);
    const r = await cli(['run', outside]);
    assert.equal(r.status, 2);
    // Line 1, the path's string at column 9.
    assert.ok(r.err.includes(`${outside}:1:9: error: cannot include "../common/platform.smmu": it is outside ${f('proj')}, ` +
      'the folder the scenario may read from (give --root to allow another)'), r.err);
    assert.equal((await cli(['run', outside, '--root', dir])).status, 0);
  });

  it('a dump outside the folder tree is refused too', async () => {
    writeFileSync(f('vmcore'), fixtureCore());
    const s = scenario('proj/dump.smmu', ['load core="../vmcore" strtab_base=0x4000_0000 strtab_base_cfg=0x10210']);
    const r = await cli(['run', s]);
    assert.equal(r.status, 2);
    assert.match(r.err, /cannot load "\.\.\/vmcore": it is outside .*proj, the folder the scenario may read from/);
    assert.equal((await cli(['run', s, '--root', dir])).status, 0);
  });

  it('a folder given as a dump is refused with a message, never an escaping EISDIR', async () => {
    // Found by the cli-args fuzz target: `inspect --core=.` threw EISDIR out of the first read.
    const regs = ['--strtab-base', '0x4000_0000', '--strtab-base-cfg', '0x10210'];
    const r = await cli(['inspect', '--core', f('common'), ...regs]);
    assert.equal(r.status, 2);
    assert.match(r.err, /cannot open .*common: not a regular file/);
    const s = scenario('proj/folder.smmu', ['load core="lib" strtab_base=0x4000_0000 strtab_base_cfg=0x10210']);
    const rs = await cli(['run', s]);
    assert.notEqual(rs.status, 0);
    assert.match(rs.err + rs.out, /folder\.smmu:1:\d+.*not a regular file/);
  });

  it('run --out writes the report whole, leaves no temporary file, and never writes over an input', async () => {
    const s = scenario('proj/in.smmu', ['include "lib/platform.smmu"', 'dma 5 read 0x1000']);
    const before = readFileSync(s, 'utf8');
    const r = await cli(['run', s, '--json', '--out', f('report.json')]);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out, '');
    const report = JSON.parse(readFileSync(f('report.json'), 'utf8')) as { file: string; ok: boolean }[];
    assert.deepEqual(report.map((x) => [x.file, x.ok]), [[s, true]]);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
    const over = await cli(['run', s, '--out', s]);
    assert.equal(over.status, 2);
    assert.match(over.err, /--out .*in\.smmu is one of the inputs: the tool never writes over them/);
    assert.equal(readFileSync(s, 'utf8'), before);
  });

  it('inspect --out writes the report; a folder that does not exist is a usage error, with nothing written', async () => {
    writeFileSync(f('vmcore'), fixtureCore());
    const regs = ['--strtab-base', '0x4000_0000', '--strtab-base-cfg', '0x10210'];
    const r = await cli(['inspect', '--core', f('vmcore'), ...regs, '--json', '--out', f('ins.json')]);
    assert.equal(r.status, 0, r.err);
    assert.equal((JSON.parse(readFileSync(f('ins.json'), 'utf8')) as { strtab: { base: string } }).strtab.base, '0x40000000');
    const bad = await cli(['inspect', '--core', f('vmcore'), ...regs, '--out', f('nowhere/ins.txt')]);
    assert.equal(bad.status, 2);
    assert.match(bad.err, /cannot write --out .*nowhere\/ins\.txt: ENOENT/);
    assert.equal(existsSync(f('nowhere')), false);
    assert.match((await cli(['inspect', '--core', f('vmcore'), ...regs, '--out', f('vmcore')])).err, /is one of the inputs/);
  });

  it('each bound a run reaches stops it with a message naming the flag and the launch option', async () => {
    // smmu init allocates the command queue, the event queue and the stream table: more than 2 pages.
    const s = scenario('proj/pages.smmu', ['smmu sidsize=8', 'smmu init']);
    const r = await cli(['run', s, '--max-pages', '2']);
    assert.equal(r.status, 1);
    assert.ok(r.out.includes('error: the run touched more than 2 pages of memory (limit maxPages); raise it with --max-pages or the launch option "maxPages"'), r.out);
    // The observable-set bound: one value judged of an STE the SMMU could read two ways.
    const b = scenario('proj/bound.smmu', ['platform coherent=no', 'smmu stages=1,2 sidsize=8', 'smmu init strtab=linear', 'traffic dev 5 read 0x1000',
      'ste 5 <- bypass']);
    const rb = await cli(['run', b, '--bound', '1', '--json']);
    const hazards = (JSON.parse(rb.out) as { hazards: { rule: string; message: string }[] }[])[0].hazards.filter((h) => h.rule === 'set-bound');
    assert.ok(hazards.length > 0);
    assert.match(hazards[0].message, /raise the bound with the launch option "observableBound" or --bound/);
  });
});
