/**
 * Live update through the scenario language: the statements' diagnostics, traffic that keeps
 * translating across a correct handover, the runner's and the debugger's snapshots across
 * kexec, and the debugger's KHO scope and event breakpoints. Addresses as in
 * test/check/kho.test.ts (SIDSIZE 16, from 0x4000_0000: queues, L1 stream table, domain
 * tables, L2 stream table at 0x4000_8000).
 */
import { strict as assert } from 'node:assert';
import { compileForSession, Session } from '../../src/debug/session';
import { Runtime } from '../../src/debug/runtime';
import { scopes, Var } from '../../src/debug/variables';
import { compileScenario, NO_INCLUDES } from '../../src/scenario/compiler';
import { formatDiagnostic } from '../../src/scenario/diagnostics';
import { Runner } from '../../src/scenario/runner';

const FILE = 'kho.smmu';

/** Statement index of a line of these scenarios: lines 1 and 2 (platform, smmu) configure and make no step. */
const step = (line: number): number => line - 3;

function diagnostics(lines: readonly string[]): string[] {
  return compileScenario(FILE, lines.join('\n')).diagnostics.map((d) => `${d.range.start.line}:${d.range.start.col} ${d.message}`);
}

function runner(lines: readonly string[]): Runner {
  const p = compileScenario(FILE, lines.join('\n'));
  assert.deepEqual(p.diagnostics.map(formatDiagnostic), []);
  return new Runner(p);
}

const S2 = [
  /* 1 */ 'platform coherent=no',
  /* 2 */ 'smmu stages=1,2 sidsize=16',
  /* 3 */ 'smmu init',
  /* 4 */ 'domain g1 stage=2',
  /* 5 */ 'const IPA = 0x4000_0000',
  /* 6 */ 'const PA = 0x9_0000_0000',
  /* 7 */ 'map g1 IPA -> PA size=64K',
  /* 8 */ 'attach 9 s2 g1',
];

/** A correct handover with traffic on three pages of the mapping, checked by DMA at every step. */
const HANDOVER = [
  ...S2,
  /* 9 */ 'traffic dev 9 read IPA, IPA + 0x5000, IPA + 0xf008',
  /* 10 */ 'expect dma 9 read IPA + 0x5010 -> PA + 0x5010',
  /* 11 */ 'kho preserve smmu',
  /* 12 */ 'kho preserve g1',
  /* 13 */ 'kho finalize',
  /* 14 */ 'kexec',
  /* 15 */ 'expect dma 9 read IPA + 0x5010 -> PA + 0x5010',
  /* 16 */ 'kho scrub',
  /* 17 */ 'expect dma 9 read IPA + 0x5010 -> PA + 0x5010',
  /* 18 */ 'kho restore smmu',
  /* 19 */ 'kho restore g1',
  /* 20 */ 'smmu adopt',
  /* 21 */ 'expect dma 9 read IPA + 0x5010 -> PA + 0x5010',
  /* 22 */ 'kho finish',
  /* 23 */ 'map g1 IPA + 0x20_0000 -> PA + 0x20_0000 size=4K',
  /* 24 */ 'expect dma 9 read IPA + 0x20_0010 -> PA + 0x20_0010',
];

describe('KHO statements', () => {
  it('say what is wrong with a target when compiling', () => {
    assert.deepEqual(diagnostics(['kho preserve 0x4000_0000']), [
      '1:14 an address needs size= (bytes, whole pages); or name `smmu` (the driver\'s stream table, CD tables and queues), a domain (every page-table page), a region',
    ]);
    assert.deepEqual(diagnostics(['domain d1', 'kho preserve d1 size=4K']), ['2:17 size= goes with an address; \'d1\' is a domain and says its own size']);
    assert.deepEqual(diagnostics(['kho scrub smmu']), ['1:11 scrub takes a region of the old kernel or an address with size=']);
    assert.match(diagnostics(['kho preserve bfu size=4K'])[0], /^1:14 unknown name 'bfu'/);
    assert.match(diagnostics(['kho preserv smmu'])[0], /'kho' needs one of: preserve, unpreserve, finalize, scrub, restore, finish/);
    assert.deepEqual(diagnostics(['alloc smmu 4K cacheable', 'kho preserve smmu']), []);
    assert.deepEqual(diagnostics(['platform kexec_cache=writeback', 'kexec']), []);
  });

  it('fail at their line with what the kernel would refuse', () => {
    const cases: [string[], string][] = [
      [['alloc buf 4K cacheable', 'kexec', 'kho restore buf'], '3: cannot restore buf: [0x40000000, 0x40001000) was not preserved by the old kernel'],
      [['alloc buf 4K cacheable', 'kho preserve buf', 'kho finalize', 'kho unpreserve buf'], '4: cannot unpreserve buf: KHO is finalized'],
      [['kho preserve 0x4000_0800 size=4K'], '1: cannot preserve [0x40000800, 0x40001800): KHO preserves whole pages'],
      [['smmu init', 'kexec', 'domain d1', 'kho restore d1'], '4: the handover description has no \'iommu-domain d1\' subtree'],
      [['smmu init', 'smmu adopt'], '2: this kernel already manages the SMMU'],
      [['kexec', 'smmu adopt'], '2: the SMMU is not enabled (CR0.SMMUEN=0)'],
      [['kexec', 'kho scrub 0x4000_0000 size=4K', 'kho scrub'], ''],
      [['smmu init', 'kexec', 'attach 5 bypass'], '3: the stream table is not set up: initialise the SMMU first'],
    ];
    for (const [lines, want] of cases) {
      const r = runner(lines).runToEnd();
      const got = r.errors.map((e) => `${e.range.start.line}: ${e.message}`);
      if (want === '') assert.deepEqual(got, [], lines.join(' / '));
      else assert.ok(got.length === 1 && got[0].startsWith(want), `${lines.join(' / ')}: ${got.join(' | ')}`);
    }
  });
});

describe('traffic across a correct handover', () => {
  it('translates identically before and after kexec, through restore, adoption and finish', () => {
    const program = compileForSession(FILE, HANDOVER.join('\n'), NO_INCLUDES);
    const session = new Session(program);
    const r = session.runner.runToEnd();
    assert.deepEqual(r.errors.map(formatDiagnostic), []);
    assert.deepEqual(r.expectations.filter((e) => !e.ok).map((e) => e.message), []);
    // Traffic is reported when an address's outcome changes: once each, at its first CPU step (line 11:
    // the DMA of line 10 is not one), never again.
    assert.deepEqual(r.dmas.filter((d) => d.traffic).map((d) => `${d.range.start.line} 0x${d.iova.toString(16)} ${d.result} 0x${d.pa!.toString(16)}`), [
      '11 0x40000000 ok 0x900000000', '11 0x40005000 ok 0x900005000', '11 0x4000f008 ok 0x90000f008',
    ]);
    // Only the kernel's own missing-barrier warning (its new L2 stream table, line 8); nothing about the handover.
    assert.deepEqual(session.hazards.map((h) => `${h.range.start.line} ${h.rule}`), ['8 missing-barrier']);
    // The new kernel's queues went to memory that was free, not over anything preserved.
    const m = session.runner.state.machine;
    for (const q of [session.runner.state.kernel.cmdq!, session.runner.state.kernel.evtq!]) assert.equal(m.kho.pageState(Math.floor(q.base / 4096)), 'unpreserved');
    assert.equal(m.kho.kexecs, 1);
    assert.equal(m.kho.phase, 'finished');
  });
});

describe('the new kernel adopts the CD tables the live STEs point at', () => {
  /** Stage 1 with a 2-level CD table: 2^11 CDs is more than the 1024 of a linear table, so 64KB leaves of 1024 CDs. */
  const S1 = [
    /* 1 */ 'platform coherent=no',
    /* 2 */ 'smmu stages=1,2 sidsize=16 ssidsize=16',
    /* 3 */ 'smmu init',
    /* 4 */ 'domain d1 stage=1',
    /* 5 */ 'domain d2 stage=1',
    /* 6 */ 'const IOVA = 0x1000_0000',
    /* 7 */ 'map d1 IOVA -> 0x8_0000_0000 size=64K',
    /* 8 */ 'map d2 IOVA -> 0xa_0000_0000 size=64K',
    /* 9 */ 'attach 5 s1 d1 ssids=11',
    // SubstreamID 1500 is in leaf 1 (1500 >> 10).
    /* 10 */ 'cd 5:1500 <- s1 d2',
    /* 11 */ 'expect dma 5:1500 read IOVA + 0x10 -> 0xa_0000_0010',
    /* 12 */ 'kho preserve smmu',
    /* 13 */ 'kho preserve d1',
    /* 14 */ 'kho preserve d2',
    /* 15 */ 'kho finalize',
    /* 16 */ 'kexec',
    /* 17 */ 'kho scrub',
    /* 18 */ 'kho restore smmu',
    /* 19 */ 'kho restore d1',
    /* 20 */ 'kho restore d2',
    /* 21 */ 'smmu adopt',
  ];

  it('a CD written after adoption goes to the table the SMMU reads, in its leaves, old and new', () => {
    const program = compileForSession(FILE, [...S1,
      // The SMMU reads CDs through the STE the old kernel wrote: the new CD must be in that table.
      /* 22 */ 'cd 5:1500 <- s1 d1',
      /* 23 */ 'expect dma 5:1500 read IOVA + 0x10 -> 0x8_0000_0010',
      // SubstreamID 3, in leaf 0 which the old kernel also made (for SubstreamID 0).
      /* 24 */ 'cd 5:3 <- s1 d2',
      /* 25 */ 'expect dma 5:3 read IOVA + 0x10 -> 0xa_0000_0010',
      /* 26 */ 'expect dma 5 read IOVA + 0x10 -> 0x8_0000_0010',
      /* 27 */ 'kho finish',
    ].join('\n'), NO_INCLUDES);
    const session = new Session(program);
    const r = session.runner.runToEnd();
    assert.deepEqual(r.errors.map(formatDiagnostic), []);
    assert.deepEqual(r.expectations.filter((e) => !e.ok).map((e) => e.message), []);
    assert.equal(r.expectations.length, 4);
    // No new CD table: the adopted one, with both leaves, is the kernel's.
    const k = session.runner.state.kernel;
    const t = k.cdTables.get('cdtab.0x5')!;
    assert.deepEqual([t.fmt, t.cdMax, [...t.l2.keys()].sort(), t.sids], ['2lvl', 11, [0, 1], [5]]);
    // Nothing about the handover: everything the adoption took over was restored first.
    assert.deepEqual(session.hazards.filter((h) => !['missing-barrier'].includes(h.rule)).map((h) => `${h.range.start.line} ${h.rule}`), []);
  });

  it('taking over a CD table that was not restored is reported', () => {
    const lines = S1.filter((l) => l !== 'kho restore smmu');
    const session = new Session(compileForSession(FILE, lines.join('\n'), NO_INCLUDES));
    session.runner.runToEnd();
    const restore = session.hazards.filter((h) => h.rule === 'restore-missing').map((h) => h.message);
    assert.ok(restore.some((m) => /CD table of StreamID 0x5/.test(m)), restore.join('\n'));
  });
});

describe('snapshots across kexec', () => {
  it('restore the runner before kexec and replay to the same end', () => {
    const r = runner(HANDOVER);
    while (r.next < step(14)) r.runStatement();
    assert.equal(r.current?.keyword, 'kexec');
    const snap = r.snapshot();
    r.runToEnd();
    const first = { trace: structuredClone(r.results.trace), dmas: structuredClone(r.results.dmas), preserved: r.state.machine.kho.preserved.ranges };
    assert.equal(r.state.machine.kho.phase, 'finished');
    r.restore(snap);
    assert.equal(r.state.machine.kho.phase, 'finalized');
    assert.deepEqual(r.state.machine.mem.regions.live.map((g) => g.name).sort(),
      ['cmdq', 'evtq', 'g1.pgd', 'g1.tbl0', 'g1.tbl1', 'g1.tbl2', 'strtab-l1', 'strtab-l2.0']);
    assert.ok(r.state.kernel.strtab, 'the old kernel\'s driver state is back');
    r.runToEnd();
    assert.deepEqual(r.results.trace, first.trace);
    assert.deepEqual(r.results.dmas, first.dmas);
    assert.deepEqual(r.state.machine.kho.preserved.ranges, first.preserved);
  });

  it('let the debugger step back across kexec and run forward to the same hazards', () => {
    const broken = [...S2, 'traffic dev 9 read IPA', 'kho preserve smmu', 'kexec', 'kho scrub', 'kho restore smmu', 'smmu adopt'];
    const rt = new Runtime(compileForSession(FILE, broken.join('\n'), NO_INCLUDES));
    rt.filters = new Set(['kexec']);
    const stop = rt.start(false);
    assert.equal(stop.exception?.filter, 'kexec');
    assert.equal(stop.description, 'kexec 1: the new kernel starts');
    assert.equal(rt.current?.range.start.line, 11);
    rt.filters = new Set();
    rt.continue();
    const lines = (): string[] => rt.hazards.map((h) => `${rt.program.steps[h.step].range.start.line} ${h.rule}`);
    const hazards = lines();
    assert.ok(hazards.includes('11 unpreserved-reachable'), hazards.join(', '));
    // Back to the start of the kexec statement: the old kernel again.
    while (rt.runner.next > step(11) || rt.runner.inStatement) rt.stepBack('statement');
    assert.equal(rt.current?.keyword, 'kexec');
    assert.equal(rt.runner.state.machine.kho.phase, 'old');
    assert.equal(rt.runner.state.machine.mem.regions.live.length, 8);
    rt.continue();
    assert.deepEqual(lines(), hazards);
  });
});

describe('the debugger', () => {
  function child(v: Var, name: string): Var {
    const c = v.children!.get(0, 1000).find((x) => x.name === name);
    assert.ok(c, `${v.name} has no ${name}: ${v.children!.get(0, 1000).map((x) => x.name).join(', ')}`);
    return c;
  }

  it('stops at preserve, finalize, kexec and restore events', () => {
    const rt = new Runtime(compileForSession(FILE, HANDOVER.join('\n'), NO_INCLUDES));
    rt.filters = new Set(['preserve', 'finalize', 'kexec', 'restore']);
    const stops: string[] = [];
    for (let s = rt.start(false); !rt.done; s = rt.continue()) stops.push(`${rt.current?.range.start.line} ${s.exception?.filter}`);
    // Four preservations by `kho preserve smmu` (L1 table, L2 table, two queues), four by `kho preserve g1`
    // (its four tables), and the same eight restored.
    assert.deepEqual(stops, [
      ...Array(4).fill('11 preserve'), ...Array(4).fill('12 preserve'), '13 finalize', '14 kexec', ...Array(4).fill('18 restore'), ...Array(4).fill('19 restore'),
    ]);
  });

  it('shows every scope over tables the new kernel scrubbed, garbage pointers included', () => {
    // Only the domain is preserved: the scrub turns the L1 stream table into 0xaa…: Span 10 and an
    // L2 pointer of bits [55:6] = 0x00aa_aaaa_aaaa_aa80, beyond the 52-bit physical address space.
    const r = runner([...S2, 'kho preserve g1', 'kexec', 'kho scrub']);
    r.runToEnd();
    const expand = (v: Var, depth: number): number => (depth > 5 || !v.children ? 0
      : v.children.get(0, 3).reduce((n, c) => n + 1 + expand(c, depth + 1), 0));
    for (const s of scopes({ machine: r.state.machine, hazards: [] })) expand(s, 0);
    const table = child(scopes({ machine: r.state.machine, hazards: [] }).find((s) => s.name === 'Stream table')!, 'stream table');
    const l1 = table.children!.get(0, 1)[0];
    const stes = l1.children!.get(0, 100).find((v) => v.name === 'STEs')!;
    assert.equal(stes.children!.get(0, 1)[0].value, 'at 0xaaaaaaaaaaaa80: beyond the physical address space (the SMMU\'s fetch fails)');
  });

  it('shows a KHO scope: the state, each region\'s pages and the handover description as a tree', () => {
    const r = runner(HANDOVER);
    while (r.next <= step(18)) r.runStatement(); // through `kho restore smmu`
    const kho = scopes({ machine: r.state.machine, hazards: [] }).find((s) => s.name === 'KHO')!;
    assert.ok(kho);
    assert.equal(child(kho, 'state').value, 'new kernel after kexec 1: restoring and adopting');
    const regions = child(kho, 'regions');
    const l2 = child(regions, 'strtab-l2.0');
    assert.match(l2.value, /^restored — 0x40008000\.\.0x4000c000 noncacheable, arm-smmu-v3; old kernel, preserved whole$/);
    assert.equal(l2.children!.indexed, 4);
    assert.deepEqual(l2.children!.get(0, 4).map((p) => `${p.name} ${p.value}`), [
      '0x40008000 restored (strtab-l2.0)', '0x40009000 restored (strtab-l2.0)', '0x4000a000 restored (strtab-l2.0)', '0x4000b000 restored (strtab-l2.0)',
    ]);
    assert.match(child(regions, 'g1.tbl2').value, /^preserved — 0x40006000/);
    const desc = child(kho, 'handover description');
    assert.equal(desc.value, 'finalized');
    assert.deepEqual(child(desc, 'state').value, 'finalized');
    const smmu = child(desc, 'arm-smmu-v3');
    assert.equal(child(smmu, 'STRTAB_BASE_CFG').value, '0x10210');
    assert.equal(child(smmu, 'strtab-l2.0').value, '[0x40008000, 0x4000c000)');
    const dom = child(desc, 'iommu-domain g1');
    assert.equal(child(dom, 'top table').value, '0x40003000 (level 0)');
    // The memory map: 0x40000..0x40007 is 7 preserved pages (queues, L1, 4 domain tables) and
    // 0x40008..0x4000b the L2 table, merged into 0x40000..0x4000b: blocks of 4 (0x40000), 2 (0x40004),
    // 1 (0x40006), then 4 (0x40008). Page 0x40007 was never allocated.
    assert.deepEqual(child(desc, 'preserved-memory').children!.get(0, 10).map((p) => p.value.split(' ←')[0]), [
      '0x40000000 order 2 (0x4000 bytes)', '0x40004000 order 1 (0x2000 bytes)', '0x40006000 order 0 (0x1000 bytes)', '0x40008000 order 2 (0x4000 bytes)',
    ]);
  });
});
