import { strict as assert } from 'node:assert';
import { compileScenario } from '../../src/scenario/compiler';
import { Program } from '../../src/scenario/program';
import { DEFAULT_LIMITS, RunLimits, Runner, RunResults } from '../../src/scenario/runner';

const FILE = 'r.smmu';

function program(lines: string[]): Program {
  const p = compileScenario(FILE, lines.join('\n'));
  assert.deepEqual(p.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.col} ${d.message}`), []);
  return p;
}

function run(lines: string[], limits: RunLimits = DEFAULT_LIMITS): { runner: Runner; results: RunResults } {
  const runner = new Runner(program(lines), limits);
  const results = runner.runToEnd();
  return { runner, results };
}

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** Updates as `line target sid[:ssid] path [critical] syncs/writes`. */
function updates(r: RunResults): string[] {
  return r.updates.map((u) => `${u.range.start.line} ${u.target} ${u.sid}${u.ssid !== undefined ? ':' + u.ssid : ''} ${u.path} [${u.critical.join(',')}] syncs=${u.syncs} writes=${u.writes}`);
}

/** DMAs as `line sid access iova result pa event [traffic]`. */
function dmas(r: RunResults): string[] {
  return r.dmas.map((d) => [d.range.start.line, d.sid + (d.ssid !== undefined ? ':' + d.ssid : ''), d.access, hex(d.iova), d.result,
    d.pa === undefined ? '-' : hex(d.pa), d.event ?? '-', ...(d.traffic ? [d.traffic] : [])].join(' '));
}

function errors(r: RunResults): string[] {
  return r.errors.map((d) => `${d.range.file}:${d.range.start.line}:${d.range.start.col} ${d.message}`);
}

/**
 * The machine and the driver's state as bytes and values: every live region in the CPU's,
 * PoC's and the SMMU's view, the SMMU registers, the dirty lines, the kernel and scenario state.
 */
function machineView(r: Runner): unknown {
  const m = r.state.machine;
  const bytes = (u: Uint8Array): string => Buffer.from(u).toString('hex');
  return {
    regions: m.mem.regions.live.map((g) => ({
      name: g.name, base: g.base, size: g.size, attr: g.attr,
      cpu: bytes(m.mem.cpuRead(g.base, g.size)), poc: bytes(m.mem.pocRead(g.base, g.size)), smmu: bytes(m.mem.smmuRead(g.base, g.size)),
    })),
    registers: [...m.smmu.registers()],
    dirty: m.mem.dirtyLines().map((l) => l.base),
    // A copied kernel state spells absent queues as `undefined` properties: the same state.
    kernel: structuredClone(Object.fromEntries(Object.entries(r.state.kernel).filter(([, v]) => v !== undefined))),
    scenario: structuredClone(r.state.scenario),
  };
}

// With SIDSIZE 8 the stream table is linear (the kernel picks 2-level only above 8 bits). Automatic
// allocations are naturally aligned from 0x4000_0000: the command queue (256 × 16 bytes) at
// 0x4000_0000, the event queue (128 × 32 bytes) at 0x4000_1000, the stream table (256 × 64 bytes)
// at the next 16K boundary, 0x4000_4000. StreamID 5's STE is at 0x4000_4140.
const STE5 = 0x4000_4140;

/** A stage-1 domain with a 2M block, attached to StreamID 5, then re-attached several ways. */
const ATTACH = [
  /* 1 */ 'smmu sidsize=8',
  /* 2 */ 'smmu init',
  /* 3 */ 'domain d1 stage=1',
  /* 4 */ 'map d1 0x1000_0000 -> 0x8_0000_0000 size=2M',
  /* 5 */ 'attach 5 s1 d1',
  /* 6 */ 'dma 5 read 0x1000_0abc',
  /* 7 */ 'expect dma 5 write 0x1020_0000 -> F_TRANSLATION',
  /* 8 */ 'expect dma 7 read 0 -> abort',
  /* 9 */ 'expect update hitless syncs=2',
  /* 10 */ 'attach 5 bypass',
  /* 11 */ 'expect update hitless syncs=3',
  /* 12 */ 'expect dma 5 read 0x1000_0abc -> bypass',
  /* 13 */ 'domain g2 stage=2',
  /* 14 */ 'attach 5 s1 d1',
  /* 15 */ 'attach 5 s2 g2',
  /* 16 */ 'expect update breaking syncs=3',
  /* 17 */ 'attach 5 s2 g2',
  /* 18 */ 'expect update unchanged syncs=0',
  /* 19 */ 'expect mem ste_addr(5) == 0xd',
  /* 20 */ 'expect ste 5 Config == S2_TRANS',
];

describe('scenario runner', () => {
  describe('results', () => {
    it('records the updates the entry writer made, with the path and CMD_SYNCs the kernel\'s algorithm gives', () => {
      const { results: r } = run(ATTACH);
      assert.deepEqual(errors(r), []);
      assert.deepEqual(updates(r), [
        // The CD goes from all zeros (V=0, only V used) to the stage-1 CD: every qword but 0 is unused,
        // so qwords 1 (TTB0) and 3 (MAIR) are written first, sync, then qword 0 with V=1, sync. Qword 2
        // and 4-7 stay zero, and the clean-up step has nothing left to write: hitless, 2 syncs, 3 stores.
        '5 cd 5:0 hitless [0] syncs=2 writes=3',
        // The STE goes from abort (V, Config used) to stage 1: qword 1 is unused by abort and written
        // first (the S1 fields), then qword 0 switches Config; S2VMID is 0 in both: hitless, 2 syncs.
        '5 ste 5 hitless [0] syncs=2 writes=2',
        // Stage 1 → bypass with ATTR_TYPES_OVR: bypass uses SHCFG, which the stage-1 STE (S1DSS=SSID0)
        // does not; so SHCFG is set first (sync), qword 0 switches (sync), then the stage-1 bits of
        // qword 1 are cleared (sync): hitless with 3 syncs.
        '10 ste 5 hitless [0] syncs=3 writes=3',
        // The CD already holds the target (the domain keeps ASID 1): nothing written, no sync.
        '14 cd 5:0 unchanged [] syncs=0 writes=0',
        // Bypass → stage 1: the mirror image of line 10 (set the S1 bits, switch, clear SHCFG).
        '14 ste 5 hitless [0] syncs=3 writes=3',
        // Stage 1 → stage 2: qword 0 changes Config, and qword 2's S2VMID, used by both, changes from
        // 0 to VMID 1: two critical qwords, so V=0 (sync), qwords 1-3 (sync), qword 0 (sync).
        '15 ste 5 breaking [0,2] syncs=3 writes=5',
        // The same stage-2 STE again.
        '17 ste 5 unchanged [] syncs=0 writes=0',
      ]);
      assert.deepEqual(dmas(r), [
        '6 5 read 0x10000abc ok 0x800000abc -',
        '7 5 write 0x10200000 fault - F_TRANSLATION',
        '8 7 read 0x0 abort - -',
        '12 5 read 0x10000abc bypass 0x10000abc -',
      ]);
      assert.deepEqual(r.expectations.map((e) => [e.range.start.line, e.ok]),
        [[7, true], [8, true], [9, true], [11, true], [12, true], [16, true], [18, true], [19, true], [20, true]]);
      assert.equal(r.expectations[2].message, 'update of STE 0x5 (line 5): expected hitless with 2 syncs, got hitless with 2 syncs');
      assert.equal(r.expectations[5].message, 'update of STE 0x5 (line 15): expected breaking with 3 syncs, got breaking with 3 syncs');
      assert.equal(r.expectations[7].message, `cpu view of ${hex(STE5)}: expected 0xd, got 0xd`);
      assert.match(r.expectations[0].message, /^DMA write SID 0x5 IOVA 0x10200000: expected F_TRANSLATION, got fault F_TRANSLATION/);
    });

    it('traces each micro-operation with its statement, sequence number and driver call stack', () => {
      const { runner, results: r } = run(['alloc r 4K cacheable at=0x5000_0000', 'store r + 8 0x1122 plain', 'clean r 64', 'dsb']);
      assert.deepEqual(r.trace, [
        { step: 0, op: 1, kind: 'op', text: "alloc 'r' 0x1000 bytes cacheable at 0x50000000", stack: [] },
        { step: 1, op: 2, kind: 'op', text: 'store (tears in 4-byte units) 64-bit [0x50000008] = 0x1122', stack: [] },
        { step: 2, op: 3, kind: 'op', text: 'DC CVAC (clean) 0x50000000..0x50000040', stack: [] },
        { step: 3, op: 4, kind: 'op', text: 'dsb', stack: [] },
      ]);
      assert.equal(runner.ops, 4);
      assert.deepEqual([r.updates, r.dmas, r.expectations, r.errors], [[], [], [], []]);
      assert.ok(runner.done);
    });

    it('traces the entry writer\'s decision and stores inside its frames', () => {
      const { results: r } = run(['smmu sidsize=8', 'smmu init', 'attach 5 bypass']);
      // The first operation of the bring-up: the enter marker of arm_smmu_device_reset counts, and is not shown.
      assert.deepEqual(r.trace[0], { step: 0, op: 2, kind: 'op', text: "alloc 'cmdq' 0x1000 bytes noncacheable", stack: ['arm_smmu_device_reset'] });
      const attach = r.trace.filter((t) => t.step === 1);
      const writer = attach.filter((t) => /STE qword|update/.test(t.text));
      // Abort → bypass with ATTR_TYPES_OVR: SHCFG (qword 1) is unused by abort and goes first.
      assert.deepEqual(writer.map((t) => [t.kind, t.text, t.stack.join(' > ')]), [
        ['note', '; hitless update: critical qword 0', 'arm_smmu_write_ste > arm_smmu_write_entry'],
        ['op', `WRITE_ONCE 64-bit [${hex(STE5 + 8)}] = 0x100000000000  ; STE qword 1 (bits the current entry ignores)`, 'arm_smmu_write_ste > arm_smmu_write_entry'],
        ['op', `WRITE_ONCE 64-bit [${hex(STE5)}] = 0x9  ; STE qword 0 (critical qword)`, 'arm_smmu_write_ste > arm_smmu_write_entry'],
      ]);
      // Each step is followed by CFGI_STE + CMD_SYNC, which the SMMU performs; then PREFETCH_CFG.
      const smmu = attach.filter((t) => t.kind === 'smmu').map((t) => t.text.replace(/ \(entry \d+\).*/, ''));
      assert.deepEqual(smmu.filter((t) => /CFGI_STE|PREFETCH/.test(t)), ['SMMU: CMD_CFGI_STE', 'SMMU: CMD_CFGI_STE', 'SMMU: CMD_PREFETCH_CONFIG']);
      assert.deepEqual(updates(r), ['3 ste 5 hitless [0] syncs=2 writes=2']);
    });

    it('compares raw STE stores with the entry writer', () => {
      const { results: r } = run([
        /* 1 */ 'smmu sidsize=8',
        /* 2 */ 'smmu init',
        /* 3 */ 'domain d1',
        /* 4 */ 'map d1 0x1000_0000 -> 0x8_0000_0000 size=2M',
        /* 5 */ 'attach 5 s1 d1',
        /* 6 */ 'expect dma 5 read 0x1000_0000 -> 0x8_0000_0000',
        /* 7 */ 'ste 5 <- bypass raw',
        /* 8 */ 'expect mem ste_addr(5) == 0x9 view=smmu',
        /* 9 */ 'expect dma 5 read 0x1000_0000 -> 0x8_0000_0000',
        /* 10 */ 'cfgi ste 5 leaf',
        /* 11 */ 'sync',
        /* 12 */ 'expect dma 5 read 0x1000_0000 -> bypass',
        /* 13 */ 'ste 5 <- abort raw plain',
        /* 14 */ 'ste 5 <- bypass',
      ]);
      assert.deepEqual(errors(r), []);
      assert.deepEqual(updates(r).slice(2), [
        // In place, without the writer: qword 0 then qword 1, both differ; no critical qword, no sync.
        '7 ste 5 raw [] syncs=0 writes=2',
        // Bypass → abort in place: qword 0 to 0x1 and qword 1's SHCFG cleared.
        '13 ste 5 raw [] syncs=0 writes=2',
        // The writer: abort → bypass sets SHCFG while abort ignores it, then switches qword 0.
        '14 ste 5 hitless [0] syncs=2 writes=2',
      ]);
      // The SMMU sees the new STE in memory but keeps using its cached copy until CFGI_STE + CMD_SYNC.
      assert.deepEqual(r.expectations.map((e) => [e.range.start.line, e.ok]), [[6, true], [8, true], [9, true], [12, true]]);
      const raw = r.trace.filter((t) => t.step === 5).map((t) => t.text);
      assert.deepEqual(raw, [
        `WRITE_ONCE 64-bit [${hex(STE5)}] = 0x9  ; STE qword 0 (in place)`,
        `WRITE_ONCE 64-bit [${hex(STE5 + 8)}] = 0x100000000000  ; STE qword 1 (in place)`,
      ]);
      const plain = r.trace.filter((t) => t.step === 11).map((t) => t.text);
      assert.deepEqual(plain, [
        `store (tears in 4-byte units) 64-bit [${hex(STE5)}] = 0x1  ; STE qword 0 (in place)`,
        `store (tears in 4-byte units) 64-bit [${hex(STE5 + 8)}] = 0x0  ; STE qword 1 (in place)`,
      ]);
    });

    it('records a failed expectation at its line and goes on', () => {
      const { runner, results: r } = run([
        /* 1 */ 'smmu sidsize=8',
        /* 2 */ 'smmu init',
        /* 3 */ 'expect update hitless',
        /* 4 */ 'expect dma 5 read 0x1000 -> 0x2000',
        /* 5 */ 'attach 5 bypass',
        /* 6 */ 'expect update breaking',
        /* 7 */ 'expect dma 5 read 0x1000 -> 0x1000',
        /* 8 */ 'expect reg CMDQ_PROD == 1',
      ]);
      assert.deepEqual(errors(r), []);
      assert.ok(runner.done);
      assert.equal(runner.next, 7);
      assert.deepEqual(r.expectations.map((e) => [e.range.start.line, e.ok]), [[3, false], [4, false], [6, false], [7, true], [8, false]]);
      assert.equal(r.expectations[0].message, 'expectation failed: no STE or CD update has happened yet');
      assert.match(r.expectations[1].message, /^expectation failed: DMA read SID 0x5 IOVA 0x1000: expected → 0x2000, got abort \(/);
      assert.equal(r.expectations[2].message, 'expectation failed: update of STE 0x5 (line 5): expected breaking, got hitless with 2 syncs');
      assert.equal(r.expectations[3].message, 'DMA read SID 0x5 IOVA 0x1000: expected → 0x1000, got bypass → 0x1000');
      assert.match(r.expectations[4].message, /^expectation failed: CMDQ_PROD: expected 0x1, got 0x/);
    });
  });

  describe('run-time errors', () => {
    it('stops at a store to an unaligned address, located at the address', () => {
      const { runner, results: r } = run(['alloc r 4K cacheable', 'store r + 4 1', 'dsb']);
      assert.deepEqual(errors(r), [`${FILE}:2:7 an 8-byte store must be aligned to 8; 0x40000004 is not`]);
      assert.equal(r.errors[0].range.end.col, 12);
      assert.equal(r.errors[0].severity, 'error');
      assert.ok(runner.done);
      assert.deepEqual(r.trace.map((t) => t.kind), ['op', 'error']);
      assert.equal(r.trace[1].text, 'error: an 8-byte store must be aligned to 8; 0x40000004 is not');
      // Stopped: nothing more runs.
      assert.deepEqual(runner.stepOp(), { kind: 'end' });
      assert.equal(runner.ops, 1);
      assert.deepEqual(errors(run(['alloc r 4K cacheable', 'store r + 2 1 size=4']).results),
        [`${FILE}:2:7 a 4-byte store must be aligned to 4; 0x40000002 is not`]);
    });

    it('stops at a free of a region that is no longer live', () => {
      const { results: r } = run(['alloc r 4K cacheable', 'free r', 'free r', 'dsb']);
      assert.deepEqual(errors(r), [`${FILE}:3:1 no live region named 'r'`]);
      assert.deepEqual(r.errors[0].range.end, { line: 3, col: 7 });
      assert.ok(!r.trace.some((t) => t.step === 3));
    });

    it('stops at a second live allocation of the same name', () => {
      assert.deepEqual(errors(run(['alloc r 4K cacheable', 'alloc r 4K cacheable']).results), [`${FILE}:2:1 a region named 'r' already exists`]);
    });

    it('turns a driver error into an error at the statement: mapping over a mapping is -EEXIST', () => {
      const { results: r } = run(['smmu sidsize=8', 'smmu init', 'domain d1', 'map d1 0x1000 -> 0x8000', 'map d1 0x1000 -> 0x9000', 'dsb']);
      assert.equal(r.errors.length, 1);
      assert.equal(`${r.errors[0].range.start.line}:${r.errors[0].range.start.col}`, '5:1');
      // The existing leaf: PA 0x8000 | XN (no exec) | nG | AF | SH=IS | AP[1] (unprivileged) | AttrIndx 1 (WBRWA) | page.
      assert.match(r.errors[0].message, /^-EEXIST: IOVA 0x1000 is already mapped \(level 3 entry at 0x[0-9a-f]+ = 0x60000000008f47\); unmap it first$/);
      assert.equal(r.trace[r.trace.length - 1].kind, 'error');
      assert.ok(!r.trace.some((t) => t.step === 4));
    });

    it('locates an evaluation error at the sub-expression', () => {
      assert.deepEqual(errors(run(['const Z = 0', 'dma 5 read 1 / Z']).results), [`${FILE}:2:16 division by zero`]);
      assert.deepEqual(errors(run(['smmu init', 'domain d1 granule=8K']).results), [`${FILE}:2:11 granule 8192: expected 4K, 16K or 64K`]);
    });

    it('checks the number of arguments of a function at the call', () => {
      assert.deepEqual(errors(run(['smmu init', 'const X = cd_addr()']).results),
        [`${FILE}:2:11 cd_addr takes 1 to 2 arguments, not 0: cd_addr(SID, SSID): the address of a CD of a stream with stage 1`]);
      assert.deepEqual(errors(run(['smmu init', 'const X = ste_addr(1, 2)']).results),
        [`${FILE}:2:11 ste_addr takes 1 argument, not 2: ste_addr(SID): the address of a StreamID's STE`]);
      assert.deepEqual(errors(run(['smmu init', 'dma 5 read cmdq_slot()']).results),
        [`${FILE}:2:12 cmdq_slot takes 1 argument, not 0: cmdq_slot(N): the address of command queue entry N`]);
      // With the right arguments: StreamID 5's initial abort STE (V=1, Config=ABORT) at 0x4000_4140.
      const ok = run(['smmu sidsize=8', 'smmu init', 'const S = ste_addr(5)', 'expect mem S == 1', 'expect mem ste_addr(4) + 64 == 1']);
      assert.deepEqual(ok.results.errors, []);
      assert.deepEqual(ok.results.expectations.map((e) => e.message), [`cpu view of ${hex(STE5)}: expected 0x1, got 0x1`, `cpu view of ${hex(STE5)}: expected 0x1, got 0x1`]);
    });

    it('checks the IOVAs of background traffic like those of a DMA', () => {
      assert.deepEqual(errors(run(['smmu init', 'traffic t 5 read 0, -1', 'dsb']).results), [`${FILE}:2:21 IOVA -1 is not a 64-bit address`]);
      assert.deepEqual(errors(run(['smmu init', 'dma 5 read 1 << 64']).results), [`${FILE}:2:12 IOVA 18446744073709551616 is not a 64-bit address`]);
    });

    it('stops cleanly at the operation limit, naming the limit and how to raise it', () => {
      const { runner, results: r } = run(['smmu init', 'dsb'], { maxOps: 5, maxPages: DEFAULT_LIMITS.maxPages });
      assert.deepEqual(errors(r), [`${FILE}:1:1 the run exceeded 5 micro-operations (limit maxOps); raise it with --max-ops or the launch option "maxOps"`]);
      assert.equal(runner.ops, 5);
      assert.ok(runner.done);
      assert.ok(!r.trace.some((t) => t.step === 1));
    });

    it('runs exactly up to the operation limit', () => {
      const limits = (maxOps: number): RunLimits => ({ maxOps, maxPages: DEFAULT_LIMITS.maxPages });
      const full = run(['alloc r 4K cacheable', 'dsb'], limits(2));
      assert.deepEqual(full.results.errors, []);
      assert.equal(full.runner.ops, 2);
      const short = run(['alloc r 4K cacheable', 'dsb'], limits(1));
      assert.deepEqual(errors(short.results), [`${FILE}:2:1 the run exceeded 1 micro-operations (limit maxOps); raise it with --max-ops or the launch option "maxOps"`]);
      assert.equal(short.runner.ops, 1);
    });
  });

  describe('snapshots', () => {
    it('restores the machine, the driver and the results byte for byte between statements', () => {
      const fresh = run(ATTACH);
      const runner = new Runner(program(ATTACH));
      const snaps: { snap: ReturnType<Runner['snapshot']>; view: unknown; results: RunResults }[] = [];
      while (!runner.done) {
        snaps.push({ snap: runner.snapshot(), view: machineView(runner), results: structuredClone(runner.results) });
        runner.runStatement();
      }
      const endView = machineView(runner);
      const endResults = structuredClone(runner.results);
      assert.deepEqual(endResults, fresh.results);
      assert.deepEqual(endView, machineView(fresh.runner));
      // Back to a few points, each twice: the state is as it was, and running on gives the same end.
      for (const i of [snaps.length - 1, 6, 3, 0, 3]) {
        runner.restore(snaps[i].snap);
        assert.equal(runner.next, snaps[i].snap.next);
        assert.equal(runner.ops, snaps[i].snap.ops);
        assert.deepEqual(machineView(runner), snaps[i].view, `view at ${i}`);
        assert.deepEqual(runner.results, snaps[i].results, `results at ${i}`);
        runner.runToEnd();
        assert.deepEqual(machineView(runner), endView, `end view from ${i}`);
        assert.deepEqual(runner.results, endResults, `end results from ${i}`);
      }
    });

    it('takes snapshots only between statements', () => {
      const runner = new Runner(program(['smmu init']));
      runner.stepOp();
      assert.ok(runner.inStatement);
      assert.throws(() => runner.snapshot(), /snapshots are taken between statements/);
    });

    it('restores a run that stopped on an error', () => {
      const runner = new Runner(program(['alloc r 4K cacheable', 'free r', 'free r']));
      runner.runStatement();
      const snap = runner.snapshot();
      runner.runToEnd();
      assert.equal(runner.results.errors.length, 1);
      runner.restore(snap);
      assert.ok(!runner.done);
      assert.deepEqual(runner.results.errors, []);
      runner.runStatement();
      assert.deepEqual(runner.results.trace.map((t) => t.text), ["alloc 'r' 0x1000 bytes cacheable", "free 'r'"]);
      runner.runToEnd();
      assert.deepEqual(errors(runner.results), [`${FILE}:3:1 no live region named 'r'`]);
    });
  });

  describe('background traffic', () => {
    it('reports only changes of outcome, at the statement where they happen', () => {
      const { results: r } = run([
        /* 1 */ 'smmu sidsize=8',
        /* 2 */ 'smmu init',
        /* 3 */ 'domain d1',
        /* 4 */ 'map d1 0x1000_0000 -> 0x8_0000_0000 size=2M',
        /* 5 */ 'traffic nic 5 read 0x1000_0000, 0x1020_0000',
        /* 6 */ 'attach 5 s1 d1',
        /* 7 */ 'dsb',
        /* 8 */ 'dma 5 read 0x1000_0000',
        /* 9 */ 'stop nic',
        /* 10 */ 'attach 5 bypass',
        /* 11 */ 'dsb',
      ]);
      assert.deepEqual(errors(r), []);
      assert.deepEqual(dmas(r), [
        // First seen at the first CPU step of line 6: the STE aborts.
        '6 5 read 0x10000000 abort - - nic',
        '6 5 read 0x10200000 abort - - nic',
        // Once the stage-1 STE is in force: the mapped address translates, the other faults.
        '6 5 read 0x10000000 ok 0x800000000 - nic',
        '6 5 read 0x10200000 fault - F_TRANSLATION nic',
        // Nothing changes at line 7; a one-off DMA is reported as itself; after stop, nothing.
        '8 5 read 0x10000000 ok 0x800000000 -',
      ]);
    });
  });
});
