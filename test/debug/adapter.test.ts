/**
 * The debug adapter over DAP: launch, threads and stacks, stepping forwards and backwards,
 * restart, the disassembly of micro-operations and the debug console output.
 */
import { strict as assert } from 'node:assert';
import { RULES } from '../../src/check/rules';
import { Dap, example, hex, KNOWN, withDap } from './helpers';

const { file, line } = KNOWN;

describe('debug adapter: launch, threads, stepping', () => {
  it('announces its capabilities and one exception filter per event kind and hazard rule, hazards on by default', async () => {
    const d = await Dap.start();
    try {
      const caps = (await d.dc.initializeRequest()).body!;
      for (const c of ['supportsStepBack', 'supportsDataBreakpoints', 'supportsFunctionBreakpoints', 'supportsConditionalBreakpoints',
        'supportsHitConditionalBreakpoints', 'supportsExceptionInfoRequest', 'supportsSetVariable', 'supportsReadMemoryRequest',
        'supportsWriteMemoryRequest', 'supportsDisassembleRequest', 'supportsCompletionsRequest', 'supportsRestartRequest'] as const) {
        assert.equal(caps[c], true, c);
      }
      const filters = new Map(caps.exceptionBreakpointFilters!.map((f) => [f.filter, f]));
      for (const id of ['cmo', 'barrier', 'invalidation', 'sync', 'fault', 'kexec', 'preserve', 'finalize', 'restore']) assert.equal(filters.get(id)?.default, false, id);
      for (const r of RULES) assert.equal(filters.get(`hazard:${r.id}`)?.default, true, r.id);
    } finally {
      await d.stop();
    }
  });

  it('stops on entry before the first statement (platform statements are not steps)', () =>
    withDap(file, async (d) => {
      const f = await d.frames();
      // Lines 3 and 4 configure the machine; `smmu init` on line 5 is the first thing that runs.
      assert.equal(f.length, 1);
      assert.equal(f[0].line, line.init);
      assert.equal(f[0].name, 'smmu init strtab=linear');
      assert.equal(f[0].source?.path, file);
      // Nothing has run: the SMMU is still disabled (CR0 = 0).
      assert.match((await d.evaluate('CR0')).result, /^0x00000000/);
    }));

  it('runs to the end without stopOnEntry when no breakpoint is set, and reports the expectations', async () => {
    const d = await Dap.start();
    try {
      const terminated = d.dc.waitForEvent('terminated');
      await Promise.all([d.dc.configurationSequence(), d.dc.launch({ program: file } as never)]);
      await terminated;
      const text = d.outputs.map((o) => o.output).join('');
      // known.smmu has one `expect` (line 10) and no hazard.
      assert.match(text, /scenario finished: 1 expectation\(s\) passed, 0 failed, 0 hazard\(s\)/);
    } finally {
      await d.stop();
    }
  });

  it('has a CPU and an SMMU thread; frames go statement → driver function → micro-operation', () =>
    withDap(file, async (d) => {
      const threads = (await d.dc.threadsRequest()).body.threads;
      assert.deepEqual(threads.map((t) => [t.id, t.name]), [[1, 'CPU (driver)'], [2, 'SMMU']]);
      await d.runTo(file, line.attach5);
      // Step into the attach: its first micro-operation enters the CD table allocation
      // (arm_smmu_attach_dev writes the CD first, allocating the table on first use).
      await d.stepIn();
      let f = await d.frames();
      assert.deepEqual(f.map((x) => x.name), ['call arm_smmu_alloc_cd_tables (StreamID 0x5, 2^0 CDs)', 'arm_smmu_alloc_cd_tables', 'attach 5 s1 d1 asid=3']);
      assert.ok(f.every((x) => x.line === line.attach5));
      // The innermost frame is an instruction: its pointer is the micro-operation's number.
      assert.match(f[0].instructionPointerReference ?? '', /^0x[0-9a-f]+$/);
      await d.stepIn();
      f = await d.frames();
      // The allocation itself: 64 bytes (one CD), non-cacheable (dma_alloc_coherent on a non-coherent SMMU).
      assert.equal(f[0].name, "alloc 'cdtab.0x5' 0x40 bytes noncacheable");
      // The SMMU has fetched no configuration and translated nothing yet (commands aside).
      const smmu = await d.frames(2);
      assert.equal(smmu.length, 1);
      assert.match(smmu[0].name, /idle/);
    }));

  it('steps over statements, into micro-operations, out of driver functions, and back', () =>
    withDap(file, async (d) => {
      assert.equal((await d.next()).reason, 'step');
      assert.equal((await d.where()).line, line.domain);
      await d.next();
      await d.next();
      assert.equal((await d.where()).line, line.attach5);
      // Into: attach → arm_smmu_alloc_cd_tables → its allocation → its zeroing → return.
      await d.stepIn();
      const ipIn = (await d.frames())[0].instructionPointerReference!;
      await d.stepIn();
      assert.deepEqual((await d.where()).names.slice(1), ['arm_smmu_alloc_cd_tables', 'attach 5 s1 d1 asid=3']);
      // Out: runs until arm_smmu_alloc_cd_tables returns, in the same statement.
      await d.stepOut();
      let w = await d.where();
      assert.deepEqual(w.names, ['return from arm_smmu_alloc_cd_tables', 'attach 5 s1 d1 asid=3']);
      // Back one micro-operation at a time (instruction granularity)...
      await d.stepBack('instruction');
      w = await d.where();
      assert.equal(w.names[1], 'arm_smmu_alloc_cd_tables');
      await d.stepBack('instruction');
      await d.stepBack('instruction');
      assert.equal((await d.frames())[0].instructionPointerReference, ipIn);
      // ...and by statement: to the start of the attach, then of the map before it.
      await d.stepBack();
      assert.deepEqual((await d.where()).names, ['attach 5 s1 d1 asid=3']);
      await d.stepBack();
      assert.deepEqual((await d.where()).names, ['map d1 0x1000_0000 -> 0x8_0000_0000 size=8K']);
      // Forwards again reaches the same place.
      await d.next();
      await d.stepIn();
      assert.equal((await d.frames())[0].instructionPointerReference, ipIn);
    }));

  it('reverse-continues to the previous breakpoint, then to the start', () =>
    withDap(file, async (d) => {
      await d.lines(file, line.domain, line.attach5, line.alloc);
      assert.equal((await d.cont()).reason, 'breakpoint');
      assert.equal((await d.where()).line, line.domain);
      await d.cont();
      await d.cont();
      assert.equal((await d.where()).line, line.alloc);
      let s = await d.reverse();
      assert.equal(s.reason, 'breakpoint');
      assert.equal((await d.where()).line, line.attach5);
      s = await d.reverse();
      assert.equal((await d.where()).line, line.domain);
      s = await d.reverse();
      assert.equal(s.reason, 'entry');
      assert.equal((await d.where()).line, line.init);
      // Forwards again stops at the same breakpoints.
      await d.cont();
      assert.equal((await d.where()).line, line.domain);
    }));

  it('restarts from the beginning with the same breakpoints, the machine reset', () =>
    withDap(file, async (d) => {
      await d.lines(file, line.attach5);
      await d.cont();
      assert.match((await d.evaluate('CR0')).result, /^0x0000000d/);
      const stopped = d.dc.waitForEvent('stopped');
      await d.dc.restartRequest({ arguments: { program: file, stopOnEntry: true } } as never);
      assert.equal(((await stopped).body as { reason: string }).reason, 'entry');
      assert.equal((await d.where()).line, line.init);
      assert.match((await d.evaluate('CR0')).result, /^0x00000000/);
      await d.cont();
      assert.equal((await d.where()).line, line.attach5);
    }));

  it('disassembles the micro-operations run so far, with their driver function and line', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.attach5);
      await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: `${hex(KNOWN.ste5 + 8)}:8`, accessType: 'write' }] });
      await d.cont();
      // Stopped at the store to STE 5's qword 1 (0x4000_4140 + 8), inside the entry writer.
      const top = (await d.frames())[0];
      const dis = (await d.dc.disassembleRequest({ memoryReference: top.instructionPointerReference!, instructionOffset: -2, instructionCount: 3 })).body!;
      const [a, b, c] = dis.instructions;
      assert.equal(c.address, top.instructionPointerReference);
      assert.equal(c.instruction, top.name);
      assert.match(c.instruction, /^WRITE_ONCE 64-bit \[0x40004148\] = /);
      assert.equal(c.symbol, 'arm_smmu_write_entry');
      assert.equal(c.line, line.attach5);
      assert.ok(Number(a.address) < Number(b.address) && Number(b.address) < Number(c.address));
      // Past the current one, nothing has run yet.
      const after = (await d.dc.disassembleRequest({ memoryReference: top.instructionPointerReference!, instructionOffset: 1, instructionCount: 1 })).body!;
      assert.equal(after.instructions[0].presentationHint, 'invalid');
    }));

  it('prints the trace to the debug console with categories', () =>
    withDap(file, async (d) => {
      await d.toEnd();
      const by = (cat: string): string => d.outputs.filter((o) => o.category === cat).map((o) => o.output).join('');
      // Micro-operations (trace: true) on stdout, indented by driver depth: STE 5's qword 0
      // is 0x4000_c00b = S1ContextPtr 0x4000_c000 | Config S1_TRANS (0b101 << 1) | V.
      assert.match(by('stdout'), /\n {4,}WRITE_ONCE 64-bit \[0x40004140\] = 0x4000c00b/);
      // What the SMMU does, on the console: the attach's CFGI_STE of StreamID 5.
      assert.match(by('console'), /SMMU: CMD_CFGI_STE .*StreamID 0x5/);
      assert.match(by('console'), /scenario finished/);
      assert.equal(by('important'), '');
    }, { trace: true }));
});

describe('debug adapter: the "done when" walk-through on an example', () => {
  // examples/03: a CD table in cacheable memory on a non-coherent SMMU with no clean.
  // Placement (as in the example's own comments): L1 stream table 0x4000_2000, d1's pgd
  // 0x4000_3000 and tables up to 0x4000_6000, CD table 0x4000_7000, the L2 stream table
  // (256 STEs, 16 KB aligned) 0x4000_8000, so STE 5 at 0x4000_8000 + 5 x 64 = 0x4000_8140.
  const program = example('03-cd-table-cacheable-noncoherent.smmu');
  const STE5 = 0x4000_8140;

  it('stops at a CMO, steps into the entry writer, watches the STE in both views, steps back, and stops on the hazard', async () => {
    const d = await Dap.start();
    try {
      await d.launch(program, { stopOnEntry: false }, () => d.filters('cmo'));
      // The first CMO: io-pgtable cleaning d1's new pgd (line 19, `domain d1 stage=1`).
      let info = (await d.dc.exceptionInfoRequest({ threadId: 1 })).body;
      assert.equal(info.exceptionId, 'cmo');
      assert.equal((await d.where()).line, 19);
      // Hazards on, CMOs off; on to the attach (line 30) and into it until the STE writer runs.
      await d.filters(...RULES.map((r) => `hazard:${r.id}`));
      await d.lines(program, 30);
      await d.cont();
      await d.lines(program);
      let names: string[] = [];
      for (let i = 0; i < 400 && !names.includes('arm_smmu_write_ste'); i++) {
        await d.stepIn();
        names = (await d.where()).names;
      }
      assert.ok(names.includes('arm_smmu_write_ste'), 'stepping in reaches the STE writer');
      const before = await d.read(`cpu:${hex(STE5)}`, 16);
      // STE 5 is still the abort STE the L2 table was filled with: V=1, Config=ABORT (qword 0 = 1).
      assert.deepEqual(before.slice(0, 8), [1, 0, 0, 0, 0, 0, 0, 0]);
      // Step until a store changes it; the stream table is non-cacheable, so PoC follows the CPU at once.
      let s = await d.stepIn();
      for (let i = 0; i < 100 && (await d.read(`cpu:${hex(STE5)}`, 16)).join() === before.join(); i++) s = await d.stepIn();
      const cpu = await d.read(`cpu:${hex(STE5)}`, 16);
      assert.notDeepEqual(cpu, before);
      assert.deepEqual(await d.read(`poc:${hex(STE5)}`, 16), cpu);
      // The writer goes on to the critical qword 0 (V=1, S1_TRANS, S1ContextPtr 0x4000_7000):
      // that store makes the uncleaned CD table reachable, and the stale-fetch hazard stops there.
      for (let i = 0; i < 100 && s.reason !== 'exception'; i++) s = await d.stepIn();
      assert.equal(s.reason, 'exception');
      info = (await d.dc.exceptionInfoRequest({ threadId: 1 })).body;
      assert.equal(info.exceptionId, 'stale-fetch');
      assert.match(info.details?.message ?? '', /the store at 0x40008140 makes it reachable.*CD table at 0x40007000.*never cleaned to PoC/);
      assert.match((await d.frames())[0].name, /^WRITE_ONCE 64-bit \[0x40008140\] = 0x4000700b/);
      // The explanation is in the debug console too, in red (not 'important': that is a notification each time).
      assert.ok(d.outputs.some((o) => o.category === 'stderr' && /stale-fetch/.test(o.output)));
      // Step back one micro-operation: qword 0 is the abort STE's again, in both views.
      await d.stepBack('instruction');
      assert.deepEqual((await d.read(`cpu:${hex(STE5)}`, 8)), [1, 0, 0, 0, 0, 0, 0, 0]);
      assert.deepEqual((await d.read(`poc:${hex(STE5)}`, 8)), [1, 0, 0, 0, 0, 0, 0, 0]);
    } finally {
      await d.stop();
    }
  });
});
