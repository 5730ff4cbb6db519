/**
 * Breakpoints over DAP: lines (verified, moved to a statement, conditional, hit counts),
 * event and hazard filters with exceptionInfo, driver functions, and data breakpoints on
 * entries and addresses (a CPU write, an SMMU fetch or walk).
 */
import { strict as assert } from 'node:assert';
import { RULES } from '../../src/check/rules';
import { Dap, fixture, hex, KNOWN, withDap } from './helpers';

const { file, line } = KNOWN;

describe('debug adapter: line breakpoints', () => {
  it('verifies each line against the statements, moving it to the next statement', () =>
    withDap(file, async (d) => {
      // Lines 1-2 are comments and 3-4 platform settings (no step): the first statement is line 5.
      const bps = await d.lines(file, 1, 4, line.domain, 40);
      assert.deepEqual(bps.map((b) => [b.verified, b.line]), [[true, line.init], [true, line.init], [true, line.domain], [false, 40]]);
      assert.match(bps[3].message ?? '', /no statement on or after this line/);
      const locs = (await d.dc.customRequest('breakpointLocations', { source: { path: file }, line: 1, endLine: 8 })).body as { breakpoints: { line: number }[] };
      assert.deepEqual(locs.breakpoints.map((b) => b.line), [5, 6, 7, 8]);
      // On entry the run stands before line 5: a breakpoint there is where it already is.
      await d.cont();
      assert.equal((await d.where()).line, line.domain);
    }));

  it('checks breakpoints set before the launch once the scenario is compiled', async () => {
    const d = await Dap.start();
    try {
      await d.dc.initializeRequest();
      const early = await d.lines(file, 2, line.attach5);
      assert.ok(early.every((b) => !b.verified));
      const changed: { line?: number; verified: boolean; id?: number }[] = [];
      d.dc.on('breakpoint', (e) => changed.push(e.body.breakpoint));
      const stopped = d.dc.waitForEvent('stopped');
      await d.dc.launchRequest({ program: file } as never);
      await d.dc.configurationDoneRequest();
      const s = (await stopped).body;
      assert.equal(s.reason, 'breakpoint');
      // Line 2 (a comment) moved to line 5: the run stops there first.
      assert.equal((await d.where()).line, line.init);
      assert.deepEqual(changed.map((b) => [b.id, b.verified, b.line]), [[early[0].id, true, line.init], [early[1].id, true, line.attach5]]);
      await d.cont();
      assert.equal((await d.where()).line, line.attach5);
    } finally {
      await d.stop();
    }
  });

  it('stops only where the condition holds', () =>
    withDap(file, async (d) => {
      // After smmu init, CMDQ_PROD is 6: three command lists (CFGI_ALL, TLBI_EL2_ALL,
      // TLBI_NSNH_ALL), each followed by a CMD_SYNC. STE 5 is at strtab + 5 x 64 = 0x4000_4140.
      await d.lines(file,
        { line: line.domain, condition: 'CMDQ_PROD != 6 || 1 == 2' },
        { line: line.map, condition: 'CR0.SMMUEN == 1 && ste_addr(5) == 0x4000_4140 && ste[5].Config == 0' },
        { line: line.attach6, condition: 'ste[5].Config == 5' });
      assert.equal((await d.cont()).reason, 'breakpoint');
      assert.equal((await d.where()).line, line.map);
      // After line 8, STE 5 is S1_TRANS (Config 0b101).
      await d.cont();
      assert.equal((await d.where()).line, line.attach6);
    }));

  it('stops, and says why, when a condition cannot be evaluated', () =>
    withDap(file, async (d) => {
      await d.lines(file, { line: line.domain, condition: 'nosuch == 1' });
      await d.cont();
      assert.equal((await d.where()).line, line.domain);
      assert.ok(d.outputs.some((o) => o.category === 'important' && /condition 'nosuch == 1' cannot be evaluated.*nosuch/.test(o.output)));
    }));

  it('counts hits by position, so going back and forth does not count one twice', () =>
    withDap(file, async (d) => {
      // Line 8 runs once: hit 2 never comes.
      await d.lines(file, { line: line.attach5, hitCondition: '2' }, line.expectDma);
      await d.cont();
      assert.equal((await d.where()).line, line.expectDma);
      await d.lines(file, { line: line.attach5, hitCondition: '1' }, line.expectDma);
      // The first hit of line 8 is behind: reverse-continue finds it, and it is still hit 1.
      assert.equal((await d.reverse()).reason, 'breakpoint');
      assert.equal((await d.where()).line, line.attach5);
      await d.cont();
      assert.equal((await d.where()).line, line.expectDma);
      await d.reverse();
      assert.equal((await d.where()).line, line.attach5);
    }));
});

describe('debug adapter: function breakpoints', () => {
  it('stops when the driver enters a function, with the call in the stack', () =>
    withDap(file, async (d) => {
      const r = await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'arm_smmu_write_ste' }] });
      assert.equal(r.body.breakpoints[0].verified, true);
      const s = await d.cont();
      assert.equal(s.reason, 'function breakpoint');
      assert.deepEqual(s.hitBreakpointIds, [r.body.breakpoints[0].id]);
      const w = await d.where();
      // The first STE write is StreamID 5's attach (line 8), after its CD.
      assert.equal(w.line, line.attach5);
      assert.deepEqual(w.names, ['call arm_smmu_write_ste (StreamID 0x5)', 'arm_smmu_write_ste', 'attach 5 s1 d1 asid=3']);
      await d.cont();
      assert.equal((await d.where()).line, line.attach6);
    }));

  it('stops before a statement whose driver action is the function', () =>
    withDap(file, async (d) => {
      await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'arm_smmu_attach_dev' }] });
      const s = await d.cont();
      assert.equal(s.reason, 'function breakpoint');
      assert.deepEqual((await d.where()).names, ['attach 5 s1 d1 asid=3']);
      await d.cont();
      assert.deepEqual((await d.where()).names, ['attach 6:1 s1 d1 ssids=1 s1dss=bypass']);
    }));

  it('honours hit counts: the 4th command list is the attach\'s first', () =>
    withDap(file, async (d) => {
      // smmu init issues three command lists, each with its CMD_SYNC: CFGI_ALL, TLBI_EL2_ALL
      // (the default SMMU has IDR0.Hyp) and TLBI_NSNH_ALL. `domain` and `map` issue none
      // (io-pgtable needs no invalidation to map). The 4th is the CD write's CFGI_CD in line 8.
      await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'arm_smmu_cmdq_issue_cmdlist', hitCondition: '4' }] });
      await d.cont();
      const w = await d.where();
      assert.equal(w.line, line.attach5);
      assert.ok(w.names.includes('arm_smmu_write_cd_entry'), w.names.join(' | '));
      // `% 3`: the 3rd (still in smmu init) and the 6th.
      await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'arm_smmu_cmdq_issue_cmdlist', hitCondition: '% 3' }] });
      await d.reverse();
      assert.equal((await d.where()).line, line.init);
      await d.cont();
      assert.equal((await d.where()).line, line.attach5);
    }));
});

describe('debug adapter: event filters', () => {
  // The first of each event in known.smmu, worked out from what the driver does. The
  // description is the event, then its details (VS Code's exception widget shows only it).
  const cases: [string, number, RegExp][] = [
    // arm_smmu_device_reset's first MMIO write (CR1) is a writel: a barrier, then the store.
    ['barrier', line.init, /^barrier: wmb\. /],
    // Its first command list: the SMMU consumes CFGI_ALL, then the CMD_SYNC completes.
    ['invalidation', line.init, /^CMD_CFGI_ALL consumed\. /],
    ['sync', line.init, /^CMD_SYNC completed\. /],
    // The first clean: io-pgtable's dma_map_single of d1's new 4 KB pgd at 0x4000_8000 (a non-coherent walk).
    ['cmo', line.domain, /^CMO: clean 0x40008000\+0x1000\. /],
    // DMA to 0x2000_0000: level-2 index 0x2000_0000 >> 21 = 256 was never written, CD.R=1: recorded.
    ['fault', line.fault, /^SMMU event F_TRANSLATION\. /],
  ];
  for (const [filter, at, description] of cases) {
    it(`stops at the first ${filter} with exceptionInfo`, async () => {
      const d = await Dap.start();
      try {
        const s = await d.launch(file, { stopOnEntry: false }, () => d.filters(filter));
        assert.equal(s.reason, 'exception');
        assert.equal((await d.where()).line, at);
        const info = (await d.dc.exceptionInfoRequest({ threadId: 1 })).body;
        assert.equal(info.exceptionId, filter);
        assert.equal(info.breakMode, 'always');
        assert.match(info.description ?? '', description);
        assert.ok(info.details?.message);
        assert.ok(info.description?.endsWith(`. ${info.details.message}`));
      } finally {
        await d.stop();
      }
    });
  }

  it('stops at each of several events of one operation in turn', () =>
    withDap(file, async (d) => {
      await d.filters('invalidation', 'sync');
      // One doorbell publishes CFGI_ALL and CMD_SYNC: two stops at the same micro-operation.
      await d.cont();
      const ip = (await d.frames())[0].instructionPointerReference;
      assert.equal((await d.dc.exceptionInfoRequest({ threadId: 1 })).body.exceptionId, 'invalidation');
      await d.cont();
      assert.equal((await d.dc.exceptionInfoRequest({ threadId: 1 })).body.exceptionId, 'sync');
      assert.equal((await d.frames())[0].instructionPointerReference, ip);
    }));
});

describe('debug adapter: hazard filters', () => {
  // A warning where the rule's default is an error: the new L2 table's entries were never
  // written (invalid), so the SMMU could only see V=0 STEs, not wrong ones.
  const severity: Record<string, string> = { 'missing-barrier': 'warning' };
  // One fixture per rule; the line of the statement the hazard belongs to.
  const lines: Record<string, number> = {
    'torn-update': 11, // the valid qword stored last, with traffic on and no barrier
    'torn-store': 6, // the plain store
    'stale-fetch': 7, // the attach: its STE store makes the uncleaned CD table reachable
    'cmo-incomplete': 8, // the STE pointing at a CD whose clean no DSB completed
    'missing-barrier': 5, // the attach's new L2 stream table
    'stale-cache': 8, // the DMA after the in-place STE change
    'missing-tlbi': 9, // the DMA walking the PTE cleared with no TLBI
    'sync-missing': 6, // the last statement: the run ends without a CMD_SYNC
    'table-reuse': 7, // the free
    'lost-dirty': 8, // the inval
    'illegal-reprogram': 5, // the writel
    'set-bound': 6, // the STE update judged with a bound of 1 value
    'unpreserved-reachable': 11, // the kexec, with the domain's page tables not preserved
    'preserved-mutated': 5, // the store after finalize
    'restore-missing': 5, // the new kernel's store before restoring
    'handover-dirty': 14, // the kexec, with the CD store still in the CPU cache
    'reset-during-handover': 16, // the new kernel's smmu init under traffic
  };

  it('has a fixture for every rule', () => assert.deepEqual(Object.keys(lines).sort(), RULES.map((r) => r.id).sort()));

  for (const rule of RULES) {
    it(`stops on ${rule.id}, with exceptionInfo and an explanation`, async () => {
      const d = await Dap.start();
      try {
        const args = { stopOnEntry: false, ...(rule.id === 'set-bound' ? { observableBound: 1 } : {}) };
        const s = await d.launch(fixture(`hazards/${rule.id}.smmu`), args, () => d.filters(`hazard:${rule.id}`));
        assert.equal(s.reason, 'exception');
        const info = (await d.dc.exceptionInfoRequest({ threadId: 1 })).body;
        assert.equal(info.exceptionId, rule.id);
        assert.ok((info.details?.message ?? '').length > 20);
        assert.equal(info.description, `${severity[rule.id] ?? rule.severity}: ${rule.title}. ${info.details!.message}`);
        assert.equal((await d.where()).line, lines[rule.id]);
        // The explanation also goes to the debug console (in red), and the Hazards scope lists it.
        assert.ok(d.outputs.some((o) => o.category === 'stderr' && o.output.includes(info.details!.message!)));
        const hazards = await d.children((await d.scope('Hazards')).variablesReference);
        assert.ok(hazards.some((h) => h.name.endsWith(rule.id) && h.value === info.details!.message));
      } finally {
        await d.stop();
      }
    });
  }

  it('stops on hazards by default, and a hazard found as a statement ends shows that statement', async () => {
    const d = await Dap.start();
    try {
      // No setExceptionBreakpoints at all: the hazard filters are on.
      const stopped = d.dc.waitForEvent('stopped');
      await Promise.all([d.dc.configurationSequence(), d.dc.launch({ program: fixture('hazards/stale-cache.smmu') } as never)]);
      assert.equal((await stopped).body.reason, 'exception');
      // Judged when the DMA statement (line 8) ended: the run stands after it.
      const w = await d.where();
      assert.equal(w.line, 8);
      assert.deepEqual(w.names, ['dma 5 read 0x1000 (finished)']);
      // And at the end of the run, the STE still cached but changed: another stale-cache.
      await d.cont();
      assert.match((await d.dc.exceptionInfoRequest({ threadId: 1 })).body.details?.message ?? '', /^at the end, the SMMU still caches the STE of StreamID 0x5/);
      await d.toEnd();
    } finally {
      await d.stop();
    }
  });
});

describe('debug adapter: data breakpoints', () => {
  it('on an STE: stops at each CPU store to it', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.attach5);
      const info = (await d.dc.dataBreakpointInfoRequest({ name: 'ste[5]' })).body;
      // The whole 64-byte STE at 0x4000_4140.
      assert.equal(info.dataId, `${hex(KNOWN.ste5)}:64`);
      assert.ok(info.accessTypes?.includes('write') && info.accessTypes.includes('read'));
      await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.dataId!, accessType: 'write' }] });
      // abort → S1_TRANS is hitless: qword 1 first (the abort STE ignores it), then the critical qword 0.
      let s = await d.cont();
      assert.equal(s.reason, 'data breakpoint');
      assert.match(s.description ?? '', /^CPU store of 0x[0-9a-f]+ to 0x40004148$/);
      s = await d.cont();
      // Qword 0: S1ContextPtr 0x4000_c000 | Config 0b101 << 1 | V = 0x4000_c00b.
      assert.equal(s.description, 'CPU store of 0x4000c00b to 0x40004140');
      assert.equal((await d.where()).line, line.attach5);
    }));

  it('on an address range: a bulk write (memset) counts as a CPU write', async () => {
    const d = await Dap.start();
    try {
      await d.launch(file, { stopOnEntry: false }, () => d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: `${hex(KNOWN.ste5)}:64`, accessType: 'write' }] }));
      // smmu init fills the linear table with abort STEs: 256 x 64 = 16384 bytes at 0x4000_4000.
      assert.equal((await d.where()).line, line.init);
      assert.match((await d.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name, /^memcpy 0x40004000\.\.0x40008000/);
    } finally {
      await d.stop();
    }
  });

  it('on an STE: stops when the SMMU fetches it, shown on the SMMU thread', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.attach5);
      const info = (await d.dc.dataBreakpointInfoRequest({ name: 'ste[5]' })).body;
      await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.dataId!, accessType: 'read' }] });
      // The driver's CMD_PREFETCH_CONFIG after the STE write is the SMMU's first look at it.
      const s = await d.cont();
      assert.equal(s.description, 'SMMU fetch of the STE at 0x40004140');
      assert.equal((await d.where()).line, line.attach5);
      const smmu = await d.frames(2);
      assert.match(smmu[0].name, /^fetch STE of StreamID 0x5 at 0x40004140/);
    }));

  it('on a PTE: stops when the SMMU walk reads it', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.attach6);
      // pte(5, 0x1000_1000): the level-3 descriptor, index (0x1000_1000 >> 12) & 511 = 1, at 0x4000_b000 + 8.
      const info = (await d.dc.dataBreakpointInfoRequest({ name: 'pte(5, 0x1000_1000)' })).body;
      assert.equal(info.dataId, '0x4000b008:8');
      await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.dataId!, accessType: 'read' }] });
      const s = await d.cont();
      assert.equal(s.description, 'SMMU walk: stage-1 level-3 descriptor at 0x4000b008');
      assert.equal((await d.where()).line, line.expectDma);
      // The SMMU thread: the walk, innermost first, then the configuration, then the transaction.
      const smmu = (await d.frames(2)).map((f) => f.name);
      assert.match(smmu[0], /^stage 1 level 3: 0x0060000800001f47 at 0x4000b008 \(page\)/);
      assert.match(smmu[smmu.length - 1], /^DMA read SID 0x5 IOVA 0x10001abc: ok → 0x800001abc/);
    }));

  it('on an address given as an expression, and found again by reverse-continue inside a statement', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.alloc);
      const info = (await d.dc.dataBreakpointInfoRequest({ name: '0x4000_d000' })).body;
      assert.equal(info.dataId, '0x4000d000:8');
      await d.lines(file, line.dma);
      await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.dataId!, accessType: 'write' }] });
      let s = await d.cont();
      assert.equal(s.description, 'CPU store of 0x1122334455667788 to 0x4000d000');
      const at = (await d.frames())[0];
      await d.cont();
      assert.equal((await d.where()).line, line.dma);
      s = await d.reverse();
      assert.equal(s.reason, 'data breakpoint');
      const back = (await d.frames())[0];
      assert.equal(back.instructionPointerReference, at.instructionPointerReference);
      assert.equal(back.name, at.name);
    }));

  it('rejects a dataId it did not give', () =>
    withDap(file, async (d) => {
      const r = await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'ste five' }] });
      assert.equal(r.body.breakpoints[0].verified, false);
      assert.match(r.body.breakpoints[0].message ?? '', /bad data breakpoint id 'ste five'/);
      const none = (await d.dc.dataBreakpointInfoRequest({ name: 'hazards' })).body;
      assert.equal(none.dataId, null);
    }));
});
