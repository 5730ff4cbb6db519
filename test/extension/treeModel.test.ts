/**
 * The views' content (src/extension/treeModel.ts) built against a real adapter running in
 * this process, stopped in scenarios whose state is known by hand; and the pure helpers
 * the extension's commands use.
 */
import { strict as assert } from 'node:assert';
import { exampleTitle } from '../../src/extension/exampleTitle';
import { cacheLineNodes, hazardNodes, iconFor, lineMarkdown, PAGE, ScopeModel, TreeNode } from '../../src/extension/treeModel';
import { parseWalkInput } from '../../src/extension/walkInput';
import { InProcessDap, memoryHost } from '../helpers/inProcessDap';

const CD_NOT_CLEANED = [
  'platform coherent=no', //                                     1
  'smmu stages=1,2 sidsize=16', //                               2
  'smmu init', //                                                3
  'domain d1 stage=1', //                                        4
  'map d1 0x1000_0000 -> 0x8_0000_0000 size=4K', //              5
  'attach 5 s1 d1 cd_mem=cacheable cd_clean=no', //              6: stale_fetch here
  'expect cd 5:0 V == 1', //                                     7
].join('\n');

async function find(model: ScopeModel, dap: InProcessDap, path: RegExp[]): Promise<TreeNode> {
  let nodes = await model.children(dap);
  let node: TreeNode | undefined;
  for (const re of path) {
    node = nodes.find((n) => re.test(n.label));
    assert.ok(node, `no child matching ${re} among: ${nodes.map((n) => n.label).join(', ')}`);
    nodes = await model.children(dap, node);
  }
  return node!;
}

describe('extension/treeModel: the views against an in-process adapter', () => {
  let dap: InProcessDap;
  afterEach(() => dap?.close());

  async function stopped(text: string, line: number, args: Record<string, unknown> = {}): Promise<InProcessDap> {
    dap = new InProcessDap(memoryHost({ 's.smmu': text }));
    await dap.launch({ program: 's.smmu', stopOnEntry: false, ...args }, [line]);
    return dap;
  }

  it('shows a message and no request when no session runs', async () => {
    const nodes = await new ScopeModel('Stream table', 'Start debugging').children(undefined);
    assert.deepEqual(nodes.map((n) => [n.label, n.contextValue, n.collapsible]), [['Start debugging', 'smmuMessage', false]]);
    assert.deepEqual(await hazardNodes(undefined), []);
  });

  it('SMMU Tables: the 2-level stream table down to STE 5 and its CD', async () => {
    await stopped(CD_NOT_CLEANED, 7, { check: false });
    const model = new ScopeModel('Stream table', '');
    const [inUse, root] = await model.children(dap);
    // Only StreamID 5 was attached; every other STE the driver wrote aborts.
    assert.equal(inUse.label, 'streams in use');
    assert.equal(inUse.description, '1 STE not aborting: 0x5');
    assert.deepEqual((await model.children(dap, inUse)).map((n) => n.label), ['STE 0x5']);
    // SIDSIZE 16 with the driver's split of 8: 2^(16-8) = 256 L1 descriptors.
    assert.match(root.description, /^2-level, 256 L1 descriptors at 0x[0-9a-f]+, SPLIT 8$/);
    assert.equal(root.contextValue, 'smmuEntry');
    const ste = await find(model, dap, [/^stream table$/, /^L1STD 0\b/, /^STEs$/, /^STE 0x5$/]);
    assert.match(ste.description, /stage-1/i);
    assert.deepEqual(ste.icon, { id: 'symbol-structure' });
    const fields = await model.children(dap, ste);
    const config = fields.find((f) => f.label === 'Config');
    assert.ok(config, fields.map((f) => f.label).join(', '));
    assert.match(config.description, /S1_TRANS/);
    // The CD as the CPU wrote it: valid, ASID of the first domain (the lowest free ASID is 1).
    const cd = await find(model, dap, [/^stream table$/, /^L1STD 0\b/, /^STEs$/, /^STE 0x5$/, /^CD table$/, /^CD 0x5:0$|^CD 0$/]);
    const cdFields = await model.children(dap, cd);
    assert.match(cdFields.find((f) => f.label === 'ASID')!.description, /^0x1\b|^1\b/);
  });

  it('SMMU Tables: a 65,536-entry linear stream table opens as 256 pages of 256', async () => {
    const text = ['smmu stages=1,2 sidsize=16 strtab_2lvl=no', 'smmu init', 'const X = 1'].join('\n');
    await stopped(text, 3, { check: false });
    const model = new ScopeModel('Stream table', '');
    const [inUse, root] = await model.children(dap);
    assert.equal(inUse.description, '0 STEs not aborting');
    assert.match(root.description, /^linear, 65536 STEs at 0x[0-9a-f]+$/);
    const pages = await model.children(dap, root);
    assert.equal(pages.length, 65536 / PAGE);
    assert.equal(pages[0].label, '[0..255]');
    assert.equal(pages[255].label, '[65280..65535]');
    const last = await model.children(dap, pages[255]);
    assert.equal(last.length, PAGE);
    assert.equal(last[0].label, 'STE 0xff00');
    assert.equal(last[255].label, 'STE 0xffff');
  });

  it('Cache Lines: the uncleaned CD line, its differing bytes highlighted', async () => {
    await stopped(CD_NOT_CLEANED, 7, { check: false });
    const lines = await cacheLineNodes(dap);
    const cd = (await dap.customRequest('evaluate', { expression: 'cd[5][0]', context: 'watch' })) as { memoryReference: string };
    const cdAddr = Number(cd.memoryReference.split(':')[1]);
    const line = lines.find((l) => Number(l.label) <= cdAddr && cdAddr < Number(l.label) + 64);
    assert.ok(line, `no line for ${cd.memoryReference} among ${lines.map((l) => l.label).join(', ')}`);
    assert.equal(line.contextValue, 'smmuLine');
    const rows = await cacheLineNodes(dap, line);
    const row = rows[(cdAddr - Number(line.label)) / 8];
    // CD qword 0 = 0x0001_e205_c000_2010 in little-endian bytes; PoC still zero, so the
    // six non-zero bytes differ and are highlighted, the two zero bytes are not.
    assert.equal(row.label.replace(/^\+0x[0-9a-f]+\s+/, ''), '10 20 00 c0 05 e2 01 00');
    const highlighted = row.highlights!.map(([a, b]) => row.label.slice(a, b));
    assert.deepEqual(highlighted, ['10', '20', 'c0', '05', 'e2', '01']);
    assert.equal(row.description, 'PoC 00 00 00 00 00 00 00 00');
  });

  it('Cache Lines: a page of lines, then a node that says how many more there are', async () => {
    // 640 dirty lines (one store to each 64-byte line of 40 KiB); the view asks for one page.
    const stores = Array.from({ length: 640 }, (_, i) => `store buf + ${i * 64} 1`);
    await stopped(['platform coherent=no', 'alloc buf 40K cacheable', ...stores, 'const X = 1'].join('\n'), 643, { check: false });
    const nodes = await cacheLineNodes(dap);
    assert.equal(nodes.length, 257);
    assert.ok(nodes.slice(0, 256).every((n) => n.contextValue === 'smmuLine'));
    assert.equal(nodes[256].contextValue, 'smmuMessage');
    assert.equal(nodes[256].label, '… 384 more dirty lines: the CPU cache scope in Variables pages through all 640');
  });

  it('Hazards: each with its rule, line, explanation and a reveal command', async () => {
    dap = new InProcessDap(memoryHost({ 's.smmu': CD_NOT_CLEANED }));
    // The stale-fetch breakpoint filter on (VS Code sends the filters the user left on).
    const stop = await dap.launch({ program: 's.smmu', stopOnEntry: false }, [], ['hazard:stale-fetch']);
    assert.equal(stop.body.reason, 'exception');
    const nodes = await hazardNodes(dap);
    const stale = nodes.find((n) => n.label.startsWith('stale-fetch'));
    assert.ok(stale, nodes.map((n) => n.label).join(', '));
    assert.equal(stale.label, 'stale-fetch (line 6)');
    assert.deepEqual(stale.icon, { id: 'error', color: 'problemsErrorIcon.foreground' });
    assert.deepEqual(stale.command?.arguments, ['s.smmu', 6]);
    assert.match(stale.description, /CD table/);
  });

  it('KHO: the live-update state, preservations and handover description', async () => {
    const text = ['alloc buf 8K cacheable', 'kho preserve buf', 'kho finalize', 'const X = 1'].join('\n');
    await stopped(text, 4, { check: false });
    const nodes = await new ScopeModel('KHO', '').children(dap);
    const labels = nodes.map((n) => n.label);
    assert.ok(labels.includes('state'), labels.join(', '));
    assert.ok(labels.includes('handover description'), labels.join(', '));
    assert.match(nodes.find((n) => n.label === 'state')!.description, /^finalized/);
    // 8K of buf: two 4K pages.
    assert.equal(nodes.find((n) => n.label === 'preserved')!.description, '2 pages');
    assert.equal(nodes.find((n) => n.label === 'handover description')!.description, 'finalized');
  });

  it('reports an adapter error as a message node instead of throwing', async () => {
    const failing = { customRequest: () => Promise.reject(new Error('no scenario is running')) };
    const nodes = await new ScopeModel('Stream table', '').children(failing);
    assert.deepEqual(nodes.map((n) => n.label), ['(no scenario is running)']);
    assert.deepEqual((await cacheLineNodes(failing)).map((n) => n.label), ['(no scenario is running)']);
  });
});

describe('extension/treeModel: pure helpers', () => {
  it('iconFor: states first, then kinds', () => {
    assert.equal(iconFor('STE 0x5', 'stage-1 translate  ⟂ the SMMU reads different bytes')?.id, 'warning');
    assert.equal(iconFor('STE 0x6', 'abort: V=0')?.id, 'circle-slash');
    assert.equal(iconFor('STE 0x7', 'bypass')?.id, 'arrow-right');
    assert.equal(iconFor('STE 0x8', 'stage-1 translate')?.id, 'symbol-structure');
    assert.equal(iconFor('qword 3', '0x0')?.id, 'symbol-number');
    assert.equal(iconFor('Config', 'S1_TRANS'), undefined);
  });

  it('lineMarkdown: differing bytes bold in both columns', () => {
    const cpu = [1, 2, 3, 4, 5, 6, 7, 8];
    const poc = [1, 2, 0, 4, 5, 6, 7, 0];
    assert.equal(lineMarkdown({ base: '0x1000', cpu, poc, dirty: [2, 7] }),
      '| | CPU | PoC |\n|---|---|---|\n| +0x0 | 01 02 **03** 04 05 06 07 **08** | 01 02 **00** 04 05 06 07 **00** |');
  });

  it('parseWalkInput: SID[:SSID] IOVA [access], with errors that say what is right', () => {
    assert.deepEqual(parseWalkInput('5 0x1000_0000'), { sid: '5', ssid: undefined, iova: '0x1000_0000', access: 'read' });
    assert.deepEqual(parseWalkInput(' 0x5:1  4096 write '), { sid: '0x5', ssid: '1', iova: '4096', access: 'write' });
    assert.match(parseWalkInput('5') as string, /^type SID\[:SSID\] IOVA/);
    assert.equal(parseWalkInput('x 0x10'), "'x' is not SID or SID:SSID (decimal or 0x hex)");
    assert.equal(parseWalkInput('5 0xzz'), "'0xzz' is not an address (decimal or 0x hex)");
    assert.equal(parseWalkInput('5 0x10 jump'), "'jump' is not read, write or exec");
  });

  it('exampleTitle: the first comment line without its number', () => {
    assert.equal(exampleTitle('# 01 - A minimal stage-1 setup, end to end\n#\n'), 'A minimal stage-1 setup, end to end');
    assert.equal(exampleTitle('# 03 (fixed) - CD table, cleaned\n'), 'CD table, cleaned');
    assert.equal(exampleTitle('platform coherent=no\n'), '');
  });
});
