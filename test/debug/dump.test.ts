import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { fixtureCore, fixtureImage, RAM } from '../dump/fixture';
import { kdumpFile } from '../dump/kdumpFile';

const root = join(__dirname, '..', '..', '..');
const adapter = join(root, 'dist', 'debugAdapter.js');
const registers = { STRTAB_BASE: '0x4000_0000', STRTAB_BASE_CFG: '0x10210' };

describe('debug adapter: a dump', () => {
  let dc: DebugClient;
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'smmu-dap-dump-'));
    writeFileSync(join(dir, 'core.elf'), fixtureCore());
    writeFileSync(join(dir, 'ontop.smmu'), 'expect dma 2:0 read 0x1000_0abc -> 0x8_0000_0abc\nexpect dma 4 read 0x1234 -> 0x4020_1234\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    dc = new DebugClient('node', adapter, 'smmu');
    await dc.start();
  });
  afterEach(async () => {
    await dc.stop();
  });

  const children = async (ref: number): Promise<DebugProtocol.Variable[]> => (await dc.variablesRequest({ variablesReference: ref })).body.variables;
  const child = async (vars: DebugProtocol.Variable[], name: RegExp): Promise<DebugProtocol.Variable> => {
    const v = vars.find((x) => name.test(x.name));
    assert.ok(v, `${name} among ${vars.map((x) => x.name).join(', ')}`);
    return v;
  };

  it('opens a dump without a scenario, stopped, with its tables as variables', async () => {
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ core: join(dir, 'core.elf'), registers } as never),
      dc.waitForEvent('stopped'),
    ]);
    const st = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(st.body.stackFrames[0].name, 'dump (no scenario)');
    const scopes = (await dc.scopesRequest({ frameId: st.body.stackFrames[0].id })).body.scopes;
    const [inUse, table] = await children(scopes.find((s) => s.name === 'Stream table')!.variablesReference);
    // The fixture's STEs that do not abort: 1 and 0x100 bypass (Config 0b100), 2 stage 1 (0b101),
    // 3 stage 2 (0b110), 4 nested (0b111); 0, 5-7 and 0x101 abort.
    assert.equal(inUse.value, '5 STEs not aborting: 0x1, 0x2, 0x3, 0x4, 0x100');
    assert.equal(table.value, '2-level, 256 L1 descriptors at 0x40000000, SPLIT 8');
    const l1 = await child(await children(table.variablesReference), /^L1STD 0 /);
    const stes = await child(await children(l1.variablesReference), /^STEs$/);
    assert.equal(stes.value, '256 STEs at 0x40010000');
    const ste2 = await child(await children(stes.variablesReference), /^STE 0x2$/);
    assert.match(ste2.value, /^stage-1 translate/);
    const regs = await children(scopes.find((s) => s.name === 'Registers')!.variablesReference);
    assert.match((await child(regs, /^STRTAB_BASE_CFG$/)).value, /^0x00010210/);
  });

  it('runs a scenario on top of a dump', async () => {
    const program = join(dir, 'ontop.smmu');
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program, core: 'core.elf', registers: ['STRTAB_BASE=0x40000000', 'STRTAB_BASE_CFG=0x10210'] } as never),
      dc.waitForEvent('terminated'),
    ]);
    assert.ok(out.some((o) => /scenario finished: 2 expectation\(s\) passed, 0 failed/.test(o)), out.join(''));
  });

  it('runs a scenario on top of the parts of a split kdump-compressed dump, given as a list', async () => {
    // The fixture's MiB of tables as 256 pages of 4 KiB; the first part holds the descriptors of
    // the first 512 KiB (StreamID 2's stage-1 tables at 0x4007_0000), the second the rest
    // (StreamID 4's tables at 0x4009_0000..0x400c_0000): each expectation needs one part.
    const img = fixtureImage();
    const pages = Array.from({ length: 256 }, (_, i) => ({ pfn: 0x40000 + i, data: img.bytes(RAM + i * 4096, RAM + (i + 1) * 4096), store: 'zlib' as const }));
    writeFileSync(join(dir, 'part1.kdump'), kdumpFile({ blockSize: 4096, maxMapnr: 0x40100, pages, split: { start: 0, end: 0x40080 } }));
    writeFileSync(join(dir, 'part2.kdump'), kdumpFile({ blockSize: 4096, maxMapnr: 0x40100, pages, split: { start: 0x40080, end: 0x40100 } }));
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: join(dir, 'ontop.smmu'), core: ['part1.kdump', 'part2.kdump'], registers } as never),
      dc.waitForEvent('terminated'),
    ]);
    assert.ok(out.some((o) => /scenario finished: 2 expectation\(s\) passed, 0 failed/.test(o)), out.join(''));
  });

  it('browses a real Linux 6.1 guest\'s tables: the streams in use and a CD\'s page-table leaves', async () => {
    writeFileSync(join(dir, 'guest.core'), gunzipSync(readFileSync(join(root, 'test', 'fixtures', 'dumps', 'linux-6.1-qemu-virt-tables.core.gz'))));
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ core: join(dir, 'guest.core'), registers: { STRTAB_BASE: '0x4000_0000_4836_e000', STRTAB_BASE_CFG: '0x10210' } } as never),
      dc.waitForEvent('stopped'),
    ]);
    const st = await dc.stackTraceRequest({ threadId: 1 });
    const scopes = (await dc.scopesRequest({ frameId: st.body.stackFrames[0].id })).body.scopes;
    const [inUse, table] = await children(scopes.find((s) => s.name === 'Stream table')!.variablesReference);
    // The two virtio devices the kernel gave DMA domains (see test/dump/realGuest.test.ts).
    assert.equal(inUse.value, '2 STEs not aborting: 0x8, 0x10');
    assert.equal(table.value, '2-level, 256 L1 descriptors at 0x4836e000, SPLIT 8');
    const ste8 = await child(await children(inUse.variablesReference), /^STE 0x8$/);
    assert.match(ste8.value, /^stage-1 translate/);
  });

  it('refuses a core that is not a path or a list of paths', async () => {
    await assert.rejects(dc.launch({ core: [join(dir, 'core.elf'), 5], registers } as never), /cannot open the dump: "core" must be a file path or a list of them, not \[".*core\.elf",5\]/);
  });

  it('refuses a dump without its stream table registers', async () => {
    await assert.rejects(dc.launch({ core: join(dir, 'core.elf') } as never), /cannot open the dump: missing STRTAB_BASE and STRTAB_BASE_CFG/);
  });
});
