/**
 * The hazard rules, end to end: scenarios compiled for a session and run with the checker
 * following. For every rule a minimal scenario that must be flagged with it at the statement
 * responsible, and its corrected twin that must not be; then the properties the checker
 * promises about STE updates (the kernel's entry writer vs stores in place), PTE rewrites
 * and the bound on observable sets.
 *
 * Every expectation is worked out by hand from DESIGN.md §3 and the SMMUv3 reference facts
 * (§6 for the STE used bits and the writer).
 */
import { strict as assert } from 'node:assert';
import { RULES } from '../../src/check/rules';
import { LocatedHazard, Session, SessionOptions } from '../../src/debug/session';
import { steAddress } from '../../src/model/locate';
import { run, show } from './scenario';

// ---- running scenarios ------------------------------------------------------------------

/** The 1-based line of the last line of `text` that contains `needle` (the header may contain it too). */
function lineOf(text: string, needle: string): number {
  const ls = text.split('\n');
  for (let i = ls.length - 1; i >= 0; i--) if (ls[i].includes(needle)) return i + 1;
  assert.fail(`no line contains '${needle}'`);
}

const lines = (hs: readonly LocatedHazard[]): number[] => [...new Set(hs.map((h) => h.range.start.line))].sort((a, b) => a - b);

/**
 * The platform every rule scenario starts from: a non-coherent SMMU with both stages, a
 * linear stream table (8-bit StreamIDs), a stage-1 domain with two pages mapped and
 * StreamID 5 attached to it (ASID 1), a stage-2 domain g1 with one page. Nothing in it is a
 * hazard (checked below).
 */
function header(coherent = false): string {
  return [
    `platform coherent=${coherent ? 'yes' : 'no'}`,
    'smmu stages=1,2 sidsize=8',
    'smmu init',
    'const IOVA = 0x1000_0000',
    'domain d1 stage=1',
    'domain g1 stage=2',
    'map d1 IOVA -> 0x8_0000_0000 size=8K',
    'map g1 IOVA -> 0x9_0000_0000',
    'attach 5 s1 d1 asid=1',
    'expect dma 5 read IOVA + 0x10 -> 0x8_0000_0010',
    '',
  ].join('\n');
}

/** CMDQ_PROD after the header: raw command-queue scenarios write the next slot. */
function prodAfterHeader(): number {
  const s = run(header());
  return Number(s.runner.state.machine.smmu.read('CMDQ_PROD'));
}

// ---- one scenario per rule ----------------------------------------------------------------

interface RuleCase {
  readonly name: string;
  readonly rule: string;
  /** The statements after the header: the bug, and its fix. */
  readonly bug: string;
  readonly fixed: string;
  /** The line (a substring of it) the hazard belongs to. */
  readonly at: string;
  readonly severity?: 'error' | 'warning';
  readonly coherent?: boolean;
  readonly opts?: SessionOptions;
}

const PTE_NEW = '0x0060_0008_0000_2f47'; // a 4K page for IOVA + 0x2000 -> 0x8_0000_2000 (valid, AF, AttrIndx 1)

function ruleCases(): RuleCase[] {
  const prod = prodAfterHeader();
  return [
    {
      name: 'an STE rewritten in place while traffic uses it (abort -> stage 2): C_BAD_STE mixes',
      rule: 'torn-update', severity: 'error',
      bug: 'attach 6 abort\ntraffic t 6 read IOVA\nste 6 <- s2 g1 raw',
      // The writer: abort uses only qword 0, so qwords 1-3 go first (sync), then qword 0 (sync): hitless.
      fixed: 'attach 6 abort\ntraffic t 6 read IOVA\nste 6 <- s2 g1',
      at: 'ste 6 <- s2 g1',
    },
    {
      name: 'a plain store changing both halves of a live PTE',
      rule: 'torn-store', severity: 'warning',
      bug: 'traffic t 5 read IOVA\nstore pte_addr(d1, IOVA, 3) 0x0060_0009_0000_1f47 plain split=4',
      fixed: 'traffic t 5 read IOVA\nstore pte_addr(d1, IOVA, 3) 0x0060_0009_0000_1f47',
      at: 'store pte_addr',
    },
    {
      name: 'a PTE written in cacheable memory and never cleaned before TLBI + CMD_SYNC',
      rule: 'stale-fetch', severity: 'error',
      bug: `const P = pte_addr(d1, IOVA + 0x2000, 3)\nstore P ${PTE_NEW}\ntlbi asid 1\nsync`,
      fixed: `const P = pte_addr(d1, IOVA + 0x2000, 3)\nstore P ${PTE_NEW}\ndma_sync_for_device P 8\ntlbi asid 1\nsync`,
      at: 'sync',
    },
    {
      name: 'a CD table in cacheable memory without the clean: the STE store makes it reachable',
      rule: 'stale-fetch', severity: 'error',
      bug: 'attach 7 s1 d1 cd_mem=cacheable cd_clean=no',
      fixed: 'attach 7 s1 d1 cd_mem=cacheable cd_clean=yes',
      at: 'attach 7',
    },
    {
      name: 'a clean not completed by a DSB before TLBI + CMD_SYNC',
      rule: 'cmo-incomplete', severity: 'error',
      bug: `const P = pte_addr(d1, IOVA + 0x2000, 3)\nstore P ${PTE_NEW}\nclean P 8\ntlbi asid 1\nsync`,
      fixed: `const P = pte_addr(d1, IOVA + 0x2000, 3)\nstore P ${PTE_NEW}\nclean P 8\ndsb\ntlbi asid 1\nsync`,
      at: 'sync',
    },
    {
      name: 'a new level-3 table published with no barrier after its contents (reused memory: an error)',
      rule: 'missing-barrier', severity: 'error',
      bug: 'alloc pt 4K noncacheable\nstore pt 0xdead\ndsb\nstore pt 0x0060_0009_0000_0f47\nstore pte_addr(d1, IOVA + 0x20_0000, 2) pt + 3',
      fixed: 'alloc pt 4K noncacheable\nstore pt 0xdead\ndsb\nstore pt 0x0060_0009_0000_0f47\ndma_wmb\nstore pte_addr(d1, IOVA + 0x20_0000, 2) pt + 3',
      at: 'store pte_addr',
    },
    {
      name: 'a new table of never-written memory published with no barrier (invalid entries: a warning)',
      rule: 'missing-barrier', severity: 'warning',
      bug: 'alloc pt 4K noncacheable\nstore pt 0x0060_0009_0000_0f47\nstore pte_addr(d1, IOVA + 0x20_0000, 2) pt + 3',
      fixed: 'alloc pt 4K noncacheable\nstore pt 0x0060_0009_0000_0f47\ndma_wmb\nstore pte_addr(d1, IOVA + 0x20_0000, 2) pt + 3',
      at: 'store pte_addr',
    },
    {
      name: 'a command published by a relaxed PROD write with no barrier',
      rule: 'missing-barrier', severity: 'error',
      // CMD_SYNC (opcode 0x46, CS=NONE) in the next slot, then PROD moves past it.
      bug: `store cmdq_slot(${prod}) 0x46\nstore cmdq_slot(${prod}) + 8 0\nwritel_relaxed CMDQ_PROD ${prod + 1}`,
      fixed: `store cmdq_slot(${prod}) 0x46\nstore cmdq_slot(${prod}) + 8 0\nwritel CMDQ_PROD ${prod + 1}`,
      at: 'CMDQ_PROD',
    },
    {
      name: 'unmap without the TLB invalidation while traffic uses the page',
      rule: 'stale-cache', severity: 'error',
      bug: 'traffic t 5 read IOVA\nunmap d1 IOVA noflush',
      fixed: 'traffic t 5 read IOVA\nunmap d1 IOVA',
      at: 'unmap',
    },
    {
      name: 'an STE changed in place and never invalidated: still cached at the end',
      rule: 'stale-cache', severity: 'error',
      bug: 'ste 5 <- abort raw\nexpect ste 5 Config == ABORT',
      fixed: 'ste 5 <- abort raw\ncfgi ste 5 leaf\nsync\nexpect ste 5 Config == ABORT',
      // At the end of the run: reported at the last statement.
      at: 'expect ste 5',
    },
    {
      name: 'unmap without the TLB invalidation, the scenario ends: the TLB still translates',
      rule: 'stale-cache', severity: 'error',
      bug: 'unmap d1 IOVA noflush\nexpect mem pte_addr(d1, IOVA, 3) == 0',
      fixed: 'unmap d1 IOVA\nexpect mem pte_addr(d1, IOVA, 3) == 0',
      at: 'expect mem',
    },
    {
      // Page IOVA + 0x1000 was never used by DMA (the header's DMA used page 0), so this run's
      // TLB does not hold it (not stale-cache); the SMMU could have cached it all the same.
      name: 'a page no DMA used, unmapped without the TLB invalidation: pending at the end',
      rule: 'missing-tlbi', severity: 'error',
      bug: 'unmap d1 IOVA + 0x1000 noflush\nexpect mem pte_addr(d1, IOVA + 0x1000, 3) == 0',
      fixed: 'unmap d1 IOVA + 0x1000\nexpect mem pte_addr(d1, IOVA + 0x1000, 3) == 0',
      at: 'expect mem',
    },
    {
      name: 'memory freed after a CFGI_STE that no CMD_SYNC completed',
      rule: 'sync-missing', severity: 'error',
      bug: 'alloc junk 4K cacheable\ncfgi ste 5\nfree junk\nsync',
      fixed: 'alloc junk 4K cacheable\ncfgi ste 5\nsync\nfree junk',
      at: 'free junk',
    },
    {
      name: 'a TLBI left without CMD_SYNC at the end',
      rule: 'sync-missing', severity: 'error',
      bug: 'tlbi asid 1',
      fixed: 'tlbi asid 1\nsync',
      at: 'tlbi asid 1',
    },
    {
      name: 'a CD table freed while an STE points at it and the SMMU caches its CD',
      rule: 'table-reuse', severity: 'error',
      bug: 'alloc cdt 64 noncacheable\nste 7 <- s1 cdtable=cdt\ncd 7:0 <- s1 d1 raw\nexpect dma 7 read IOVA -> 0x8_0000_0000\nfree cdt',
      fixed: 'alloc cdt 64 noncacheable\nste 7 <- s1 cdtable=cdt\ncd 7:0 <- s1 d1 raw\nexpect dma 7 read IOVA -> 0x8_0000_0000\nste 7 <- abort\nfree cdt',
      at: 'free cdt',
    },
    {
      name: 'an invalidate throwing away a PTE the SMMU can reach',
      rule: 'lost-dirty', severity: 'error',
      bug: `const P = pte_addr(d1, IOVA + 0x2000, 3)\nstore P ${PTE_NEW}\ninval P 8`,
      fixed: `const P = pte_addr(d1, IOVA + 0x2000, 3)\nstore P ${PTE_NEW}\nclean_inv P 8\ndsb`,
      at: 'inval',
    },
    {
      name: 'STRTAB_BASE written while SMMUEN=1',
      rule: 'illegal-reprogram', severity: 'error',
      bug: 'writel STRTAB_BASE 0x4000_0000_7000_0000',
      fixed: 'writel CR0 0xc\nwritel STRTAB_BASE 0x4000_0000_7000_0000',
      at: 'writel STRTAB_BASE',
    },
    {
      name: 'CR1 (table and queue attributes) written while the SMMU and its queues are enabled',
      rule: 'illegal-reprogram', severity: 'error',
      bug: 'writel CR1 0',
      fixed: 'writel CR0 0\nwritel CR1 0',
      at: 'writel CR1',
    },
    // Live update (test/check/kho.test.ts has more): the header's StreamID 5 goes through d1.
    {
      name: 'kexec with the SMMU\'s tables preserved but not the page tables StreamID 5 walks',
      rule: 'unpreserved-reachable', severity: 'error',
      bug: 'kho preserve smmu\nkexec',
      fixed: 'kho preserve smmu\nkho preserve d1\nkexec',
      at: 'kexec',
    },
    {
      name: 'preserved memory written after finalize',
      rule: 'preserved-mutated', severity: 'error',
      bug: 'alloc buf 4K cacheable\nkho preserve buf\nkho finalize\nstore buf 1',
      fixed: 'alloc buf 4K cacheable\nkho preserve buf\nstore buf 1\nkho finalize',
      at: 'store buf 1',
    },
    {
      name: 'the new kernel writing preserved memory before restoring it',
      rule: 'restore-missing', severity: 'error',
      bug: 'alloc buf 8K cacheable\nkho preserve buf\nkexec\nstore buf + 0x1000 1',
      fixed: 'alloc buf 8K cacheable\nkho preserve buf\nkexec\nkho restore buf\nstore buf + 0x1000 1',
      at: 'store buf + 0x1000 1',
    },
    {
      name: 'a CD in cacheable memory changed and not cleaned before kexec',
      rule: 'handover-dirty', severity: 'error',
      bug: 'attach 6 s1 d1 cd_mem=cacheable\nstore cd_addr(6, 0) + 8 0x4100_0000\nkexec',
      fixed: 'attach 6 s1 d1 cd_mem=cacheable\nstore cd_addr(6, 0) + 8 0x4100_0000\ndma_sync_for_device cd_addr(6, 0) 64\nkexec',
      at: 'kexec',
    },
    {
      name: 'the new kernel resetting the SMMU while StreamID 5 is configured',
      rule: 'reset-during-handover', severity: 'error',
      // Preserved, so the reset path's new tables do not land on (and replace) the live ones first.
      bug: 'kho preserve smmu\nkho preserve d1\nkexec\nsmmu init',
      fixed: 'kho preserve smmu\nkho preserve d1\nkexec\nkho restore smmu\nsmmu adopt',
      at: 'smmu init',
    },
    {
      name: 'an STE with 16 observable values judged with a bound of 4',
      rule: 'set-bound', severity: 'warning',
      bug: 'attach 6 abort\ntraffic t 6 read IOVA\nste 6 <- s2 g1 raw',
      fixed: 'attach 6 abort\ntraffic t 6 read IOVA\nste 6 <- s2 g1 raw',
      at: 'ste 6 <- s2 g1 raw',
      opts: { checkOptions: { bound: 4 } },
    },
  ];
}

describe('check/rules', () => {
  it('the header of the rule scenarios raises no hazard, on either platform', () => {
    for (const coherent of [false, true]) assert.deepEqual(show(run(header(coherent)).hazards), '');
  });

  it('every rule has a scenario below', () => {
    const covered = new Set(ruleCases().map((c) => c.rule));
    assert.deepEqual(RULES.map((r) => r.id).filter((id) => !covered.has(id)), []);
  });

  describe('one scenario per rule, and its corrected twin', () => {
    for (const c of ruleCases()) {
      it(`${c.rule}: ${c.name}`, () => {
        const bugText = header(c.coherent) + c.bug;
        const at = lineOf(bugText, c.at);
        const bug = run(bugText, c.opts).hazards.filter((h) => h.rule === c.rule);
        assert.deepEqual(lines(bug), [at], `flagged at line ${at} only:\n${show(bug)}`);
        if (c.severity) assert.ok(bug.some((h) => h.severity === c.severity), `a ${c.severity}:\n${show(bug)}`);
        const fixedOpts = c.rule === 'set-bound' ? {} : c.opts;
        const fixed = run(header(c.coherent) + c.fixed, fixedOpts).hazards.filter((h) => h.rule === c.rule);
        assert.deepEqual(show(fixed), '', 'the corrected twin is not flagged');
      });
    }
  });

  describe('where and when rules look', () => {
    it('stale-fetch: a TLBI + CMD_SYNC looks at the page tables of its own ASID only', () => {
      // d2 (ASID 2, StreamID 6) has a PTE written and not yet cleaned; d1's invalidation does not
      // tell the SMMU to use it, d2's does.
      const text = header() + [
        'domain d2 stage=1',
        'map d2 IOVA -> 0x9_0000_0000 size=8K',
        'attach 6 s1 d2 asid=2',
        `store pte_addr(d2, IOVA + 0x2000, 3) ${PTE_NEW}`,
        'tlbi asid 1',
        'sync # d1',
        'tlbi asid 2',
        'sync # d2',
      ].join('\n');
      const hs = run(text).hazards.filter((h) => h.rule === 'stale-fetch');
      assert.deepEqual(lines(hs), [lineOf(text, 'sync # d2')], show(hs));
      assert.match(hs[0].message, /CMD_TLBI_NH_ASID \(ASID 2, VMID 0\)/);
    });

    it('stale-fetch: a CFGI_CD + CMD_SYNC looks at its own CD, not at the other CDs of the table', () => {
      // CD table in cacheable memory (cleaned by the driver); CD 1 then changed in place, not cleaned.
      const text = header() + [
        'domain d2 stage=1',
        'map d2 IOVA -> 0x9_0000_0000 size=8K',
        'attach 6 s1 d1 ssids=2 cd_mem=cacheable',
        'attach 6:1 s1 d2 asid=2 ssids=2 cd_mem=cacheable',
        'cd 6:1 <- quiet asid=2 raw',
        'cfgi cd 6:0 leaf',
        'sync # CD 0',
        'cfgi cd 6:1 leaf',
        'sync # CD 1',
      ].join('\n');
      const hs = run(text).hazards.filter((h) => h.rule === 'stale-fetch');
      assert.deepEqual(lines(hs), [lineOf(text, 'sync # CD 1')], show(hs));
      assert.match(hs[0].message, /CD 0x6:1/);
    });

    it('torn-update: an update left pending is reported at the statement that wrote it, not again at later ones', () => {
      const text = header() + 'attach 6 abort\ntraffic t 6 read IOVA\nste 6 <- s2 g1 raw\ndma_wmb\nalloc x 64 noncacheable\nstore x 1\ncfgi ste 6\nsync';
      const hs = run(text).hazards.filter((h) => h.rule === 'torn-update');
      assert.deepEqual(lines(hs), [lineOf(text, 'ste 6 <- s2 g1 raw')], show(hs));
    });

    it('torn-store: a plain store that changes only one of its parts cannot be seen half written', () => {
      // 0x0060_0008_0000_0f47 -> 0x0060_0008_0000_0fc7 (AP[2] read-only): only the low 4 bytes change.
      const text = header() + 'traffic t 5 read IOVA\nstore pte_addr(d1, IOVA, 3) 0x0060_0008_0000_0fc7 plain split=4';
      assert.deepEqual(show(run(text).hazards.filter((h) => h.rule === 'torn-store' || h.rule === 'torn-update')), '');
    });

    it('torn-store: a plain store whose every half-written value is invalid (V=0) is harmless', () => {
      const text = header() + 'traffic t 5 read IOVA\nstore pte_addr(d1, IOVA + 0x2000, 3) 0x0060_0008_0000_2f46 plain split=4';
      assert.deepEqual(show(run(text).hazards.filter((h) => h.rule === 'torn-store' || h.rule === 'torn-update')), '');
    });

    it('lost-dirty: an invalidate of dirty data nothing reaches is not a hazard', () => {
      const text = header() + 'alloc buf 4K cacheable\nstore buf 5\ninval buf 64';
      assert.deepEqual(show(run(text).hazards), '');
    });

    it('table-reuse: freeing a CD table a cached STE still points at', () => {
      // The STE is changed in place (not invalidated) and the cached CD dropped: memory no longer
      // reaches the CD table, but the cached STE does, and the SMMU may fetch CD 0 from it again.
      const text = header() + [
        'alloc cdt 64 noncacheable',
        'ste 7 <- s1 cdtable=cdt',
        'cd 7:0 <- s1 d1 raw',
        'expect dma 7 read IOVA -> 0x8_0000_0000',
        'ste 7 <- abort raw',
        'cfgi cd 7:0',
        'sync',
        'free cdt',
      ].join('\n');
      const hs = run(text).hazards.filter((h) => h.rule === 'table-reuse');
      assert.deepEqual(lines(hs), [lineOf(text, 'free cdt')], show(hs));
      assert.match(hs[0].message, /caches the STE of StreamID 0x7, whose S1ContextPtr/);
      // With the STE invalidated first, nothing points into it any more.
      const fixed = text.replace('cfgi cd 7:0', 'cfgi ste 7');
      assert.deepEqual(show(run(fixed).hazards.filter((h) => h.rule === 'table-reuse')), '');
    });

    it('table-reuse: freeing a table the SMMU still caches in its walk cache', () => {
      // A level-3 table of d1's, reached through level-2 entry 129, cached by a walk, then the
      // descriptor cleared and the table freed without a TLBI: the walk cache still points into it.
      const text = header(true) + [
        'alloc pt 4K cacheable',
        'store pt 0x0060_0009_0000_0f47',
        'dma_wmb',
        'store pte_addr(d1, IOVA + 0x20_0000, 2) pt + 3',
        'expect dma 5 read IOVA + 0x20_0000 -> 0x9_0000_0000',
        'store pte_addr(d1, IOVA + 0x20_0000, 2) 0',
        'free pt',
      ].join('\n');
      const hs = run(text).hazards.filter((h) => h.rule === 'table-reuse');
      assert.deepEqual(lines(hs), [lineOf(text, 'free pt')], show(hs));
      assert.ok(hs.some((h) => /walk cache/.test(h.message)), show(hs));
    });
  });

  // ---- properties of STE updates ------------------------------------------------------------

  /**
   * StreamID 5 gets each configuration the builders produce. The header fixes the
   * resources: StreamID 5's CD table has 4 CDs (CD 0 -> d1, ASID 1; CD 1 -> d2, ASID 2),
   * g1 gets VMID 1 and g2 VMID 2. ATTR_TYPES_OVR makes the builders set SHCFG=INCOMING in
   * bypass, stage-2 and S1DSS=BYPASS STEs; stalls are supported, so stage-1 STEs have
   * S1STALLD=1.
   */
  const STE_HEADER = (coherent: boolean): string => [
    `platform coherent=${coherent ? 'yes' : 'no'}`,
    'smmu stages=1,2 sidsize=8 attr_types_ovr=yes',
    'smmu init',
    'const IOVA = 0x1000_0000',
    'domain d1 stage=1',
    'domain d2 stage=1',
    'domain g1 stage=2',
    'domain g2 stage=2',
    'map d1 IOVA -> 0x8_0000_0000',
    'map d2 IOVA -> 0xc_0000_0000',
    'map g1 IOVA -> 0x9_0000_0000',
    'map g2 IOVA -> 0xa_0000_0000',
    'attach 5:1 s1 d2 ssids=2',
    'attach 5 s1 d1 ssids=2',
    'attach 5 s2 g1',
    'attach 5 s2 g2',
    '',
  ].join('\n');

  type Config = 'abort' | 'bypass' | 's1' | 's1ssid' | 's1bypass' | 's2' | 's2other';
  const CONFIGS: readonly Config[] = ['abort', 'bypass', 's1', 's1ssid', 's1bypass', 's2', 's2other'];

  /** Through the driver's entry writer. */
  const WRITER: Record<Config, string> = {
    abort: 'attach 5 abort',
    bypass: 'attach 5 bypass',
    s1: 'ste 5 <- s1 ssids=0', // stage 1 through the CD table, no substreams (S1CDMax 0)
    s1ssid: 'ste 5 <- s1', // ... with its 4 substreams, S1DSS=SSID0
    s1bypass: 'ste 5 <- s1 s1dss=bypass', // ... with substreams, S1DSS=BYPASS
    s2: 'attach 5 s2 g1',
    s2other: 'attach 5 s2 g2', // another domain and VMID
  };

  /** The same targets, each changed qword stored in place, in ascending order, no sync. */
  const RAW: Record<Config, string> = {
    abort: 'ste 5 <- abort raw',
    bypass: 'ste 5 <- bypass raw',
    s1: 'ste 5 <- s1 ssids=0 raw',
    s1ssid: 'ste 5 <- s1 raw',
    s1bypass: 'ste 5 <- s1 s1dss=bypass raw',
    s2: 'ste 5 <- s2 g1 raw',
    s2other: 'ste 5 <- s2 g2 raw',
  };

  /**
   * The STEs, qwords 0-3 (4-7 are 0), as symbols: two configurations have the same symbol in a
   * qword exactly when they hold the same value there (checked against memory below).
   */
  const WORDS: Record<Config, readonly string[]> = {
    abort: ['V|ABORT', '0', '0', '0'],
    bypass: ['V|BYPASS', 'SHCFG', '0', '0'],
    s1: ['V|S1|CDtable|CDMax0', 'S1(SSID0)', '0', '0'],
    s1ssid: ['V|S1|CDtable|CDMax2', 'S1(SSID0)', '0', '0'],
    s1bypass: ['V|S1|CDtable|CDMax2', 'S1(BYPASS)|SHCFG', '0', '0'],
    s2: ['V|S2', 'SHCFG', 'VMID1|VTCR', 'g1'],
    s2other: ['V|S2', 'SHCFG', 'VMID2|VTCR', 'g2'],
  };

  /**
   * The qwords each configuration uses (facts §6, arm_smmu_get_ste_used): always qword 0 (V,
   * Config); bypass: qword 1 (SHCFG); stage 1: qword 0 (S1Fmt, S1ContextPtr, S1CDMax), qword 1
   * (S1DSS, S1CIR/COR/CSH, S1STALLD, STRW, EATS, MEV, and SHCFG with S1DSS=BYPASS), qword 2
   * (S2VMID); stage 2: qword 1 (S2FWB, EATS, SHCFG, MEV), qword 2 (S2VMID, VTCR, S2AA64...),
   * qword 3 (S2TTB). The builders set no bit their own configuration does not use, so where two
   * configurations differ in a qword, they differ in bits one of them uses when it uses the qword.
   */
  const USED: Record<Config, readonly number[]> = {
    abort: [0], bypass: [0, 1], s1: [0, 1, 2], s1ssid: [0, 1, 2], s1bypass: [0, 1, 2], s2: [0, 1, 2, 3], s2other: [0, 1, 2, 3],
  };

  /** Qwords that change between two configurations in bits the source or the target uses. */
  const usedChanges = (a: Config, b: Config): number[] =>
    [0, 1, 2, 3].filter((i) => WORDS[a][i] !== WORDS[b][i] && (USED[a].includes(i) || USED[b].includes(i)));

  /**
   * The writer's breaking transitions, by facts §6 step 2 (a qword is critical when the target
   * uses bits that keep the current value because the current entry uses them too):
   *  - stage 1 <-> stage 2 (any of s1, s1ssid, s1bypass with s2 or s2other): qword 0 (Config)
   *    and qword 2 (S2VMID 0 <-> 1 or 2, used by both) — a stage-1-only STE uses VMID 0;
   *  - s2 <-> s2other: qword 2 (VMID) and qword 3 (S2TTB);
   *  - s1 <-> s1bypass: qword 0 (S1CDMax 0 <-> 2) and qword 1 (S1DSS).
   * Everything else has one critical qword (hitless): to or from abort only qword 0 is used by
   * abort; bypass's SHCFG equals the stage-2 one and is free for stage 1; s1 <-> s1ssid changes
   * S1CDMax only; s1ssid <-> s1bypass changes qword 1 only (SHCFG rides with S1DSS).
   */
  const stage1 = (c: Config): boolean => c === 's1' || c === 's1ssid' || c === 's1bypass';
  const stage2 = (c: Config): boolean => c === 's2' || c === 's2other';
  const breaking = (a: Config, b: Config): boolean =>
    (stage1(a) && stage2(b)) || (stage2(a) && stage1(b)) || (stage2(a) && stage2(b)) ||
    (a === 's1' && b === 's1bypass') || (a === 's1bypass' && b === 's1');

  /** Config `a`, traffic on StreamID 5 (no SubstreamID, and SubstreamID 1), then `change`. */
  function transition(coherent: boolean, a: Config, change: string): { text: string; line: number; session: Session } {
    const text = STE_HEADER(coherent) + `${WRITER[a]}\ntraffic t 5 read IOVA\ntraffic u 5:1 write IOVA\n${change}\n`;
    return { text, line: lineOf(text, change), session: run(text) };
  }

  it('the symbols of the STE table are the STEs in memory', function () {
    this.timeout(20_000);
    const words = new Map<Config, bigint[]>();
    for (const c of CONFIGS) {
      const s = run(STE_HEADER(false) + WRITER[c]);
      const m = s.runner.state.machine;
      const at = steAddress(m, 5);
      assert.ok('addr' in at);
      words.set(c, Array.from({ length: 8 }, (_, i) => m.load(at.addr + 8 * i, 8)));
      assert.deepEqual(words.get(c)!.slice(4), [0n, 0n, 0n, 0n]);
    }
    for (const a of CONFIGS) {
      for (const b of CONFIGS) {
        for (let i = 0; i < 4; i++) {
          assert.equal(words.get(a)![i] === words.get(b)![i], WORDS[a][i] === WORDS[b][i], `${a} vs ${b}, qword ${i}`);
        }
      }
    }
  });

  for (const coherent of [false, true]) {
    const platform = coherent ? 'coherent' : 'non-coherent';

    it(`(i) ${platform}: every writer transition with traffic is free of error torn updates; exactly the breaking ones warn`, function () {
      this.timeout(60_000); // 42 scenarios
      const wrong: string[] = [];
      for (const a of CONFIGS) {
        for (const b of CONFIGS) {
          if (a === b) continue;
          const { line, session } = transition(coherent, a, WRITER[b]);
          const update = session.runner.results.updates.filter((u) => u.range.start.line === line && u.target === 'ste');
          assert.equal(update.length, 1, `${a} -> ${b}: one STE update`);
          const path = update[0].path;
          const torn = session.hazards.filter((h) => h.rule === 'torn-update');
          const errors = torn.filter((h) => h.severity === 'error');
          const warned = torn.some((h) => h.severity === 'warning' && h.range.start.line === line);
          if (errors.length) wrong.push(`${a} -> ${b}: error torn-update:\n${show(errors)}`);
          if ((path === 'breaking') !== breaking(a, b)) wrong.push(`${a} -> ${b}: the writer took the ${path} path`);
          if (warned !== (path === 'breaking')) wrong.push(`${a} -> ${b}: ${path} path, ${warned ? '' : 'no '}break warning`);
          // Nothing else is wrong with the writer's sequence either.
          const others = session.hazards.filter((h) => h.rule !== 'torn-update');
          if (others.length) wrong.push(`${a} -> ${b}: ${show(others)}`);
        }
      }
      assert.deepEqual(wrong, []);
    });

    it(`(ii) ${platform}: an STE rewritten in place is a torn update exactly when 2+ used qwords change`, function () {
      this.timeout(60_000); // 42 scenarios
      const wrong: string[] = [];
      let flaggedPairs = 0;
      for (const a of CONFIGS) {
        for (const b of CONFIGS) {
          if (a === b) continue;
          const want = usedChanges(a, b).length >= 2;
          const { line, session } = transition(coherent, a, RAW[b]);
          const errors = session.hazards.filter((h) => h.rule === 'torn-update' && h.severity === 'error');
          const got = errors.some((h) => h.range.start.line === line);
          if (errors.some((h) => h.range.start.line !== line)) wrong.push(`${a} -> ${b}: torn-update at another line:\n${show(errors)}`);
          if (got !== want) wrong.push(`${a} -> ${b}: used qwords changed ${usedChanges(a, b).join(',')}: expected ${want ? '' : 'no '}error, got ${show(errors) || 'none'}`);
          if (want) flaggedPairs++;
        }
      }
      assert.deepEqual(wrong, []);
      // By hand: all pairs but s1 <-> s1ssid (qword 0 only) and s1ssid <-> s1bypass (qword 1 only).
      assert.equal(flaggedPairs, 42 - 4);
    });

    it(`(iii) ${platform}: a live PTE rewritten with WRITE_ONCE + clean + DSB before TLBI + sync is never torn`, () => {
      const text = header(coherent) + [
        'traffic t 5 read IOVA + 0x10, IOVA + 0x1010',
        'const P = pte_addr(d1, IOVA, 3)',
        'store P 0x0060_0009_0000_1f47',
        'dma_sync_for_device P 8',
        'tlbi va IOVA asid=1',
        'sync',
        'expect dma 5 read IOVA + 0x10 -> 0x9_0000_1010',
      ].join('\n');
      const hs = run(text).hazards.filter((h) => h.rule === 'torn-update' || h.rule === 'torn-store');
      assert.deepEqual(show(hs), '');
    });

    it(`(iii) ${platform}: a plain split=4 store changing both halves of a live PTE is flagged`, () => {
      // Old: 0x0060_0008_0000_0f47 (PA 0x8_0000_0000); new: 0x0060_0009_0000_1f47 (PA 0x9_0000_1000).
      // Halves: high 0x0060_0008 -> 0x0060_0009 (PA[47:32]), low 0x0000_0f47 -> 0x0000_1f47 (PA[31:12]).
      // Mixes: 0x0060_0008_0000_1f47 -> PA 0x8_0000_1000, 0x0060_0009_0000_0f47 -> PA 0x9_0000_0000:
      // both valid pages translating where neither the old nor the new PTE does.
      const text = header(coherent) + [
        'traffic t 5 read IOVA + 0x10',
        'const P = pte_addr(d1, IOVA, 3)',
        'store P 0x0060_0009_0000_1f47 plain split=4',
        'dma_sync_for_device P 8',
        'tlbi va IOVA asid=1',
        'sync',
      ].join('\n');
      const at = lineOf(text, 'plain split=4');
      const hs = run(text).hazards;
      const store = hs.filter((h) => h.rule === 'torn-store');
      assert.deepEqual([lines(store), store[0]?.severity], [[at], 'warning'], show(hs));
      const torn = hs.filter((h) => h.rule === 'torn-update');
      assert.deepEqual(lines(torn), [at], show(hs));
      assert.ok(torn.every((h) => h.severity === 'error'), show(torn));
      const mixes = torn.map((h) => h.values![0]).sort();
      assert.deepEqual(mixes, [0x0060_0008_0000_1f47n, 0x0060_0009_0000_0f47n]);
      assert.ok(torn.some((h) => /→ 0x800001010/.test(h.message)) && torn.some((h) => /→ 0x900000010/.test(h.message)), show(torn));
    });
  }

  // ---- the bound ----------------------------------------------------------------------------

  describe('(iv) the bound on observable values', () => {
    // abort -> stage 2 in place: qwords 0-3 all change, no barrier between them, non-cacheable
    // stream table: 2^4 = 16 values of the STE.
    const text = header() + 'attach 6 abort\ntraffic t 6 read IOVA\nste 6 <- s2 g1 raw';
    const at = lineOf(text, 'ste 6 <- s2 g1 raw');
    const bound = (n: number): LocatedHazard[] => run(text, { checkOptions: { bound: n } }).hazards.filter((h) => h.rule === 'set-bound');

    it('a bound of 4 judges 4 values and says so', () => {
      const hs = bound(4);
      assert.deepEqual(lines(hs), [at], show(hs));
      assert.equal(hs[0].severity, 'warning');
      assert.match(hs[0].message, /at least 5 values .* only the first 4 were judged/);
    });

    it('16 values fit a bound of 16; a bound of 15 is exceeded', () => {
      assert.deepEqual(bound(16), []);
      assert.deepEqual(lines(bound(15)), [at]);
    });

    it('the default bound is not reached', () => {
      assert.deepEqual(run(text).hazards.filter((h) => h.rule === 'set-bound'), []);
    });

    it('what is judged within the bound is still judged: the torn update is found with a bound of 4', () => {
      const hs = run(text, { checkOptions: { bound: 4 } }).hazards.filter((h) => h.rule === 'torn-update' && h.severity === 'error');
      assert.deepEqual(lines(hs), [at]);
    });
  });
});
