/**
 * Variables, evaluate, completions and setVariable over DAP, on the known scenario whose
 * layout is worked out in helpers.ts; every decoded value below is derived by hand there or
 * in the comments here, from the architecture's field positions and what the driver writes.
 */
import { strict as assert } from 'node:assert';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Dap, fixture, hex, KNOWN, le64, withDap } from './helpers';

const { file, line } = KNOWN;

/** The STE of a StreamID from the Stream table scope. */
async function ste(d: Dap, sid: number): Promise<DebugProtocol.Variable> {
  const table = await d.child((await d.scope('Stream table')).variablesReference, 'stream table');
  const [v] = await d.children(table.variablesReference, sid, 1);
  return v;
}

describe('debug adapter: variables', () => {
  it('decodes the registers', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.expectDma);
      const regs = await d.fields((await d.scope('Registers')).variablesReference);
      // CR0 = SMMUEN (bit 0) | EVENTQEN (bit 2) | CMDQEN (bit 3) = 0xd.
      assert.match(regs.get('CR0')!, /^0x0000000d /);
      // STRTAB_BASE = RA (bit 62) | 0x4000_4000; STRTAB_BASE_CFG: FMT linear (0), LOG2SIZE 8.
      assert.match(regs.get('STRTAB_BASE')!, /^0x4000000040004000 /);
      assert.match(regs.get('STRTAB_BASE_CFG')!, /^0x00000008 /);
      const cr0 = await d.child((await d.scope('Registers')).variablesReference, 'CR0');
      const f = await d.fields(cr0.variablesReference);
      assert.equal(f.get('SMMUEN')?.split(' ')[0], '1');
      assert.equal(f.get('CMDQEN')?.split(' ')[0], '1');
    }));

  it('walks the stream table down to a page-table entry, every field as worked out by hand', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.expectDma);
      const table = await d.child((await d.scope('Stream table')).variablesReference, 'stream table');
      assert.equal(table.value, 'linear, 256 STEs at 0x40004000');
      assert.equal(table.indexedVariables, 256);
      assert.equal(table.memoryReference, 'cpu:0x40004000');

      const s5 = await ste(d, 5);
      assert.equal(s5.name, 'STE 0x5');
      assert.equal(s5.memoryReference, 'cpu:0x40004140');
      assert.equal(s5.evaluateName, 'ste[5]');
      const sf = await d.fields(s5.variablesReference);
      assert.match(sf.get('V')!, /^1 /);
      assert.match(sf.get('Config')!, /^0b101 S1_TRANS/);
      assert.equal(sf.get('S1ContextPtr'), '0x4000c000');
      assert.match(sf.get('S1CDMax')!, /^0 /);
      // Qword 0 = S1ContextPtr | Config << 1 | V = 0x4000_c000 | 0xa | 1. Qword 1: S1DSS
      // SSID0 (0b10), S1CIR and S1COR WBRA (0b01 at bits 2 and 4), S1CSH ISH (0b11 at bit 6)
      // = 0xd6, and S1STALLD (bit 27: stalls supported, the master does not stall).
      assert.equal(sf.get('words')!.split(' ').slice(0, 2).join(' '), '0x000000004000c00b 0x00000000080000d6');
      // The stream table is non-cacheable here: PoC holds what the CPU wrote.
      const poc = await d.child(s5.variablesReference, 'words at PoC');
      assert.equal(poc.memoryReference, 'poc:0x40004140');
      assert.equal(poc.value, 'the same as the CPU sees');

      const cdt = await d.child(s5.variablesReference, 'CD table');
      assert.equal(cdt.indexedVariables, 1);
      const [cd] = await d.children(cdt.variablesReference, 0, 1);
      assert.equal(cd.memoryReference, 'cpu:0x4000c000');
      assert.equal(cd.evaluateName, 'cd[5][0]');
      const cf = await d.fields(cd.variablesReference);
      assert.equal(cf.get('ASID'), '3');
      assert.match(cf.get('TTB0')!, /^0x40008000 /);
      // T0SZ = 64 - 48 (ias=48); TG0 4K; TTB1 walks disabled (EPD1); AArch64 tables.
      assert.match(cf.get('T0SZ')!, /^16 /);
      assert.match(cf.get('TG0')!, /^0b00 4K/);
      assert.equal(cf.get('EPD1'), '1');
      assert.equal(cf.get('V'), '1');

      // 48-bit input, 4K granule: the walk starts at level 0 with 2^(48-39) = 512 entries.
      let t = await d.child(cd.variablesReference, 'TTB0 tables');
      assert.equal(t.indexedVariables, 512);
      // 0x1000_1000: level 0 index 0, level 1 index 0, level 2 index 0x1000_0000 >> 21 = 128, level 3 index 1.
      for (const [i, next] of [[0, 0x4000_9000], [0, 0x4000_a000], [128, 0x4000_b000]] as const) {
        const [e] = await d.children(t.variablesReference, i, 1);
        assert.match(e.value, new RegExp(`^table → 0x${next.toString(16)}`));
        t = await d.child(e.variablesReference, 'next level');
      }
      const [pte] = await d.children(t.variablesReference, 1, 1);
      assert.equal(pte.name, '[1] 0x10001000');
      assert.equal(pte.memoryReference, 'cpu:0x4000b008');
      const pf = await d.fields(pte.variablesReference);
      assert.equal(pf.get('OA'), '0x800001000');
      // io-pgtable's PTE for a read/write cacheable page: page (0b11), AttrIndx 1 (bit 2),
      // AP[1] (bit 6), SH inner shareable (0b11 << 8), AF (bit 10), nG (bit 11) = 0xf47;
      // PXN and UXN (bits 53, 54) = 0x0060_0000_0000_0000; with the output address 0x8_0000_1000.
      assert.equal(pf.get('words'), '0x0060000800001f47');
      assert.match(pf.get('AP')!, /^0b01 RW/);
      assert.equal(pf.get('AF'), '1');
      assert.equal(pf.get('nG'), '1');
    }));

  it('shows a CPU cache line with the CPU and PoC values after a store without a clean', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.sync);
      const lines = await d.children((await d.scope('CPU cache')).variablesReference);
      const l = lines.find((x) => x.name === '0x4000d000');
      assert.ok(l, lines.map((x) => x.name).join(', '));
      assert.match(l.value, /^8 dirty bytes; \*{8}/);
      const first = await d.child(l.variablesReference, '+0x0');
      // 0x1122_3344_5566_7788 little-endian in the CPU's line; PoC still holds the allocation's zeroes.
      assert.equal(first.value, 'CPU 88 77 66 55 44 33 22 11  PoC 00 00 00 00 00 00 00 00');
      const pending = await d.children((await d.scope('Pending visibility')).variablesReference);
      const p = pending.find((x) => x.name === '0x4000d000');
      assert.match(p?.value ?? '', /^not cleaned to PoC: the SMMU could read 0x0 \| 0x1122334455667788/);
    }));

  it('shows the queues, the regions, the SMMU caches and the last walk', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.alloc);
      const q = await d.fields((await d.scope('Queues')).variablesReference);
      // Commands so far: smmu init 3 x 2 (CFGI_ALL, TLBI_EL2_ALL, TLBI_NSNH_ALL, each + SYNC);
      // each attach writes its CD in two steps and its STE in two (CFGI + SYNC per step) and
      // then PREFETCH_CONFIG: 2 x (4 + 4 + 1). 6 + 18 = 24 = 0x18, all consumed.
      assert.equal(q.get('command queue'), '256 entries at 0x40000000, PROD 0x18, CONS 0x18');
      assert.equal(q.get('event queue'), '128 entries at 0x40001000, PROD 0x0, CONS 0x0');
      // The regions as placed in helpers.ts: the driver's DMA-coherent allocations are
      // non-cacheable on this non-coherent platform; io-pgtable's come from iommu-pages.
      const smmu = 'noncacheable, arm-smmu-v3';
      const pgt = 'cacheable, io-pgtable';
      assert.deepEqual(Object.fromEntries(await d.fields((await d.scope('Memory')).variablesReference)), {
        cmdq: `0x40000000..0x40001000 ${smmu}`, evtq: `0x40001000..0x40002000 ${smmu}`, strtab: `0x40004000..0x40008000 ${smmu}`,
        'd1.pgd': `0x40008000..0x40009000 ${pgt}`, 'd1.tbl0': `0x40009000..0x4000a000 ${pgt}`, 'd1.tbl1': `0x4000a000..0x4000b000 ${pgt}`,
        'd1.tbl2': `0x4000b000..0x4000c000 ${pgt}`, 'cdtab.0x5': `0x4000c000..0x4000c040 ${smmu}`, 'cdtab.0x6': `0x4000c080..0x4000c100 ${smmu}`,
      });
      // PREFETCH_CONFIG cached STEs 5 and 6; the DMA of line 10 fetched CD 5:0, filled one
      // TLB entry (a 4 KB page) and the walk cache with the level 0, 1 and 2 table descriptors.
      // Linear stream and CD tables: no level-1 descriptors.
      assert.deepEqual(Object.fromEntries(await d.fields((await d.scope('SMMU caches')).variablesReference)), {
        STEs: '2 cached', CDs: '1 cached', 'L1 descriptors': '0 L1STD, 0 L1CD', TLB: '1 entries', 'walk cache': '3 table descriptors',
      });
      const walk = await d.fields((await d.scope('Last walk')).variablesReference);
      assert.equal(walk.get('transaction'), 'DMA read SID 0x5 IOVA 0x10001abc');
      assert.equal(walk.get('result'), 'ok → 0x800001abc');
      assert.equal(walk.get('stage 1 level 3'), '0x0060000800001f47 at 0x4000b008 (page)');
    }));

  it('pages a 65,536-entry stream table at a cost independent of its size', () =>
    withDap(fixture('big-linear.smmu'), async (d) => {
      await d.lines(fixture('big-linear.smmu'), 6);
      await d.cont();
      const table = await d.child((await d.scope('Stream table')).variablesReference, 'stream table');
      // 2^16 STEs x 64 B = 4 MB, naturally aligned after the queues: 0x4040_0000.
      assert.equal(table.value, 'linear, 65536 STEs at 0x40400000');
      assert.equal(table.indexedVariables, 65536);
      // A page past the end is cut at the end.
      const last = await d.children(table.variablesReference, 0xfffe, 5);
      assert.deepEqual(last.map((v) => v.name), ['STE 0xfffe', 'STE 0xffff']);
      assert.match(last[0].value, /^bypass/);
      assert.match(last[1].value, /^abort/);
      // 0x4040_0000 + 0xfffe x 64.
      assert.equal(last[0].memoryReference, 'cpu:0x407fff80');
      const mid = await d.children(table.variablesReference, 0x8000, 16);
      assert.deepEqual(mid.map((v) => v.name), Array.from({ length: 16 }, (_, i) => `STE 0x${(0x8000 + i).toString(16)}`));
      // Decoding the whole table takes tens of seconds; a page, milliseconds (the bound is for a busy machine).
      const t0 = Date.now();
      await d.children(table.variablesReference, 0xfff0, 16);
      assert.ok(Date.now() - t0 < 2000, `a page took ${Date.now() - t0} ms`);
    }));
  it('lists the streams in use, scanned once per scopes answer and again after an edit', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.expectDma);
      const scope = await d.scope('Stream table');
      // STE 5 (s1) and STE 6 (s1 with substreams) are attached; the other 254 are V=1 abort STEs.
      const inUse = await d.child(scope.variablesReference, 'streams in use');
      assert.equal(inUse.value, '2 STEs not aborting: 0x5, 0x6');
      assert.deepEqual((await d.children(inUse.variablesReference)).map((v) => v.name), ['STE 0x5', 'STE 0x6']);
      // STE 5 qword 0 = 0x1: V=1, Config 0 (abort), written through the CPU.
      const invalidated = d.dc.waitForEvent('invalidated');
      await d.dc.customRequest('writeMemory', { memoryReference: `cpu:${hex(KNOWN.ste5)}`, data: Buffer.from(le64(1n)).toString('base64') });
      await invalidated;
      // The client asks for the scopes again after 'invalidated': the scan sees the edit.
      const again = await d.child((await d.scope('Stream table')).variablesReference, 'streams in use');
      assert.equal(again.value, '1 STE not aborting: 0x6');
    }));
});

describe('debug adapter: evaluate and completions', () => {
  it('evaluates each expression form', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.sync);
      let r = await d.evaluate('ste[5]');
      assert.match(r.result, /^stage-1 translate.*1 CD at 0x4000c000/);
      assert.equal(r.memoryReference, 'cpu:0x40004140');
      assert.ok(r.variablesReference > 0);
      // The kernel's spelling and the architecture's name the same field.
      assert.equal((await d.evaluate('ste[5].s1ctxptr')).result, '0x4000c000');
      assert.equal((await d.evaluate('ste[5].S1ContextPtr')).result, '0x4000c000');
      assert.equal((await d.evaluate('cd[5][0].asid')).result, '3');
      assert.match((await d.evaluate('cd[5][0].TTB0')).result, /^0x40008000 /);
      r = await d.evaluate('pte(5, 0x1000_1000)');
      assert.equal(r.result, '0x0060000800001f47 (stage 1 level 3 page) at 0x4000b008');
      assert.equal(r.memoryReference, 'smmu:0x4000b008');
      // StreamID 6 has substreams (S1CDMax 1) and SubstreamID 1's CD maps d1.
      r = await d.evaluate('walk(6, 1, 0x1000_1abc)');
      assert.equal(r.result, 'ok → 0x800001abc');
      const steps = await d.children(r.variablesReference);
      assert.deepEqual(steps.map((s) => s.name), ['STE', 'CD', 'stage 1 level 0', 'stage 1 level 1', 'stage 1 level 2', 'stage 1 level 3']);
      // StreamID 5's STE has S1CDMax 0 (substreams disabled): a SubstreamID is C_BAD_SUBSTREAMID.
      assert.match((await d.evaluate('walk(5, 0, 0x1000_1abc)')).result, /^C_BAD_SUBSTREAMID/);
      assert.equal((await d.evaluate('walk(5, 0x1000_1abc)')).result, 'ok → 0x800001abc');
      // 0x4800_f00b: V, Config 0b101 (S1_TRANS), S1ContextPtr 0x4800_f000.
      r = await d.evaluate('decode ste 0x4800f00b 0xd6');
      assert.match(r.result, /0x4800f000/);
      const df = await d.fields(r.variablesReference);
      assert.equal(df.get('S1ContextPtr'), '0x4800f000');
      assert.match(df.get('Config')!, /^0b101 S1_TRANS/);
      // buf is cacheable and was stored to without a clean: the CPU sees the value, PoC does not.
      r = await d.evaluate('cpu(buf)');
      assert.equal(r.result, '0x1122334455667788');
      assert.equal(r.memoryReference, 'cpu:0x4000d000');
      r = await d.evaluate('poc(buf)');
      assert.equal(r.result, '0x0000000000000000');
      assert.equal(r.memoryReference, 'poc:0x4000d000');
      assert.equal((await d.evaluate('smmu(buf)')).result, '0x0000000000000000');
      assert.equal((await d.evaluate('CR0.SMMUEN')).result, '1');
      assert.equal((await d.evaluate('buf + 8')).result, '0x4000d008 (1073795080)');
      assert.equal((await d.evaluate('ste[5].Config == 5 && cpu(buf) != poc(buf)')).result, 'true');
      assert.equal((await d.evaluate('hazards')).result, '0 hazards');
    }));

  it('completes the forms, names, registers and fields', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.sync);
      const complete = async (text: string): Promise<DebugProtocol.CompletionItem[]> =>
        (await d.dc.completionsRequest({ text, column: text.length + 1 })).body.targets;
      const labels = async (text: string): Promise<string[]> => (await complete(text)).map((t) => t.label);
      assert.ok((await labels('st')).includes('ste['));
      assert.ok((await labels('st')).includes('STRTAB_BASE_CFG'));
      assert.ok((await labels('po')).includes('poc('));
      assert.ok((await labels('walk(5, b')).includes('buf'));
      assert.deepEqual(await labels('ste[5].s1c'), ['S1ContextPtr', 'S1CDMax', 'S1CIR', 'S1COR', 'S1CSH']);
      assert.ok((await labels('cd[5][0].AS')).includes('ASID'));
      assert.ok((await labels('CR0.SMMU')).includes('SMMUEN'));
      // The completion replaces what was typed of the word: 'S1C' starts at offset 7 of the text
      // (counted from 0, as VS Code reads it: see the adapter).
      const t = (await complete('ste[5].S1C'))[0];
      assert.equal(t.start, 7);
      assert.equal(t.length, 3);
    }));
});

describe('debug adapter: setVariable', () => {
  it('edits a field as a CPU store of its qword, refreshes the views, and is undone by stepping back', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.expectDma);
      const s5 = await ste(d, 5);
      const invalidated = d.dc.waitForEvent('invalidated');
      // S1DSS (qword 1, bits 1:0) from SSID0 (0b10) to TERMINATE (0): 0x0800_00d6 → 0x0800_00d4.
      const r = await d.dc.setVariableRequest({ variablesReference: s5.variablesReference, name: 'S1DSS', value: '0' });
      assert.equal(r.body.value, '0x00000000080000d4');
      await invalidated;
      assert.deepEqual(await d.read('cpu:0x40004148', 8), le64(0x0800_00d4n));
      // The store went through the CPU: the stream table is non-cacheable, so PoC has it too.
      assert.deepEqual(await d.read('poc:0x40004148', 8), le64(0x0800_00d4n));
      // Back to the start of line 9, before the edit: the writer's value.
      await d.stepBack();
      assert.equal((await d.where()).line, line.attach6);
      assert.deepEqual(await d.read('cpu:0x40004148', 8), le64(0x0800_00d6n));
      // Forwards past where it was made: the edit is made again.
      await d.next();
      assert.deepEqual(await d.read('cpu:0x40004148', 8), le64(0x0800_00d4n));
    }));

  it('edits a raw qword of an entry', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.expectDma);
      const s5 = await ste(d, 5);
      const words = await d.child(s5.variablesReference, 'words');
      const r = await d.dc.setVariableRequest({ variablesReference: words.variablesReference, name: 'qword 2', value: '0x1234' });
      assert.equal(r.body.value, '0x0000000000001234');
      assert.deepEqual(await d.read('cpu:0x40004150', 8), le64(0x1234n));
    }));

  it('refuses what cannot be set, with a reason', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.expectDma);
      const mem = (await d.scope('Memory')).variablesReference;
      assert.match(await d.fails(d.dc.setVariableRequest({ variablesReference: mem, name: 'strtab', value: '0' })), /cannot set strtab: only the fields and qwords/);
      const s5 = await ste(d, 5);
      assert.match(await d.fails(d.dc.setVariableRequest({ variablesReference: s5.variablesReference, name: 'Nonsense', value: '0' })), /'Nonsense' is not a field/);
      assert.match(await d.fails(d.dc.setVariableRequest({ variablesReference: s5.variablesReference, name: 'S1DSS', value: '1 +' })), /cannot set S1DSS/);
    }));
});
