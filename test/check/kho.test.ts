/**
 * The live-update hazard rules, each on a minimal scenario that breaks it and on its fixed
 * twin. Addresses are worked out by hand: with SIDSIZE 16 `smmu init` allocates, naturally
 * aligned from 0x4000_0000, the command queue (256 × 16 bytes) at 0x4000_0000, the event
 * queue (128 × 32 bytes) at 0x4000_1000 and the L1 stream table (256 × 8 bytes) at
 * 0x4000_2000; a stage-2 domain with 48-bit IPAs walks 4 levels from a 512-entry pgd
 * (4K) at 0x4000_3000; mapping 0x4000_0000 adds its level-1, -2 and -3 tables at 0x4000_4000,
 * 0x4000_5000 and 0x4000_6000; attaching StreamID 9 allocates the 16K L2 stream table of
 * L1STD 0 at the next 16K boundary, 0x4000_8000.
 */
import { strict as assert } from 'node:assert';
import { compileForSession, Session } from '../../src/debug/session';
import { NO_INCLUDES } from '../../src/scenario/compiler';
import { formatDiagnostic } from '../../src/scenario/diagnostics';

interface Found {
  readonly line: number;
  readonly rule: string;
  readonly message: string;
}

function run(lines: readonly string[]): { found: Found[]; session: Session } {
  const program = compileForSession('kho.smmu', lines.join('\n'), NO_INCLUDES);
  assert.deepEqual(program.diagnostics.map(formatDiagnostic), []);
  const session = new Session(program);
  const r = session.runner.runToEnd();
  assert.deepEqual(r.errors.map(formatDiagnostic), []);
  assert.deepEqual(r.expectations.filter((e) => !e.ok).map((e) => e.message), []);
  return { found: session.hazards.map((h) => ({ line: h.range.start.line, rule: h.rule, message: h.message })), session };
}

const KHO_RULES = ['unpreserved-reachable', 'preserved-mutated', 'restore-missing', 'handover-dirty', 'reset-during-handover'];

/** The live-update hazards found (the kernel's own missing-barrier warning about its L2 stream table aside). */
function kho(found: Found[]): Found[] {
  return found.filter((f) => KHO_RULES.includes(f.rule));
}

/** Page addresses a message lists as `0x…000 (`. */
function pagesIn(message: string): string[] {
  return [...message.matchAll(/(0x[0-9a-f]+000) \(/g)].map((m) => m[1]);
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

describe('hazard unpreserved-reachable', () => {
  it('lists every page the SMMU reaches that is not preserved, with its path, at kexec', () => {
    const { found } = run([...S2, /* 9 */ 'kho preserve smmu', /* 10 */ 'kexec']);
    const h = kho(found);
    assert.deepEqual(h.map((f) => `${f.line} ${f.rule}`), ['10 unpreserved-reachable']);
    // The stream table, its L2 table and the queues are preserved; the domain's four tables are not.
    assert.deepEqual(pagesIn(h[0].message), ['0x40003000', '0x40004000', '0x40005000', '0x40006000']);
    assert.match(h[0].message, /^at kexec, 4 pages the SMMU can reach are not preserved/);
    // IPA 0x4000_0000: level-0 index 0, level-1 index 1 (bits 38:30), level-2 index 0 (bits 29:21).
    assert.ok(h[0].message.includes('0x40006000 (stage-2 level-3 page table at 0x40006000, reached through STE 0x9 → S2TTB → level 0 table at 0x40003000[0] ' +
      '→ level 1 table at 0x40004000[1] → level 2 table at 0x40005000[0] → level 3 table at 0x40006000)'), h[0].message);
  });

  it('is reported at finalize when the scenario finalizes', () => {
    const { found } = run([...S2, /* 9 */ 'kho preserve g1', /* 10 */ 'kho finalize']);
    const h = kho(found);
    assert.deepEqual(h.map((f) => `${f.line} ${f.rule}`), ['10 unpreserved-reachable']);
    // Nothing of the SMMU's own: the L1 table, the L2 table (4 pages) and both queues.
    assert.deepEqual(pagesIn(h[0].message), ['0x40000000', '0x40001000', '0x40002000', '0x40008000', '0x40009000', '0x4000a000', '0x4000b000']);
    assert.match(h[0].message, /^at finalize/);
  });

  it('is clean when the SMMU and the domain are preserved', () => {
    assert.deepEqual(kho(run([...S2, 'kho preserve smmu', 'kho preserve g1', 'kho finalize', 'kexec']).found), []);
  });

  it('explains what the SMMU reads when the new kernel overwrites such a page, and the DMA faults as the pattern implies', () => {
    const { found, session } = run([
      ...S2, /* 9 */ 'traffic dev 9 read IPA + 0x10',
      /* 10 */ 'kho preserve smmu', /* 11 */ 'kexec', /* 12 */ 'kho scrub',
      /* 13 */ 'expect mem 0x4000_3000 == 0xaaaa_aaaa_aaaa_aaaa view=smmu',
      // A page the TLB does not hold: 0xaaaa_aaaa_aaaa_aaaa as a descriptor has bits[1:0] = 0b10, invalid:
      // the walk stops with a translation fault, whichever level it reads it at (all four tables were scrubbed).
      /* 14 */ 'expect dma 9 read IPA + 0x1000 -> F_TRANSLATION',
      /* 15 */ 'kho restore smmu', /* 16 */ 'smmu adopt',
    ]);
    const h = kho(found).filter((f) => f.line === 12);
    assert.equal(h.length, 1);
    assert.match(h[0].message, /the new kernel reused memory the SMMU still reaches and overwrote it with 0xaa/);
    assert.ok(h[0].message.includes('the stage-2 level-0 page table at 0x40003000 (reached through STE 0x9 → S2TTB → level 0 table at 0x40003000)'), h[0].message);
    assert.match(h[0].message, /as 0xaaaaaaaaaaaaaaaa, invalid/);
    // Traffic starts at the statement after `traffic`; the cached translation hides the scrub from it
    // until adopt's TLBI, then it faults too.
    const traffic = session.runner.results.dmas.filter((d) => d.traffic);
    assert.deepEqual(traffic.map((d) => `${d.range.start.line} ${d.result} ${d.event ?? d.pa?.toString(16)}`), ['10 ok 900000010', '16 fault F_TRANSLATION']);
  });

  it('a new kernel\'s data in a page the SMMU walks becomes a descriptor: a wrong translation', () => {
    const { found } = run([
      // The domain's level-0, -1 and -2 tables are preserved; its level-3 table is not.
      ...S2, /* 9 */ 'kho preserve smmu', /* 10 */ 'kho preserve 0x4000_3000 size=12K', /* 11 */ 'kexec',
      /* 12 */ 'kho restore smmu', /* 13 */ 'kho restore 0x4000_3000 size=12K',
      // The level-3 table's page becomes a buffer of the new kernel.
      /* 14 */ 'alloc buf 4K noncacheable at=0x4000_6000',
      // A stage-2 page descriptor as the new kernel's data happens to look: PA 0xa_bcde_f000, S2AP=RW,
      // MemAttr 0xF, AF, SH=IS, XN (the attributes io-pgtable gives PA 0x9_0000_0000: 0x0060_0009_0000_07ff).
      /* 15 */ 'store buf 0x0060_000a_bcde_f7ff',
      // IPA 0x4000_0123 uses level-3 entry (0x4000_0123 >> 12) & 511 = 0.
      /* 16 */ 'expect dma 9 read IPA + 0x123 -> 0xa_bcde_f123',
    ]);
    // The allocation itself overwrote a page the SMMU walks.
    assert.ok(kho(found).some((f) => f.line === 14 && f.rule === 'unpreserved-reachable' && /allocated memory the SMMU still reaches/.test(f.message)));
  });
});

describe('hazard preserved-mutated', () => {
  const base = [/* 1 */ 'alloc buf 4K cacheable', /* 2 */ 'kho preserve buf'];
  it('flags a write to preserved memory after finalize', () => {
    const h = kho(run([...base, /* 3 */ 'kho finalize', /* 4 */ 'store buf + 8 1']).found);
    assert.deepEqual(h.map((f) => `${f.line} ${f.rule}`), ['4 preserved-mutated']);
    assert.match(h[0].message, /write to 0x40000008 changes preserved memory \(page 0x40000000, preserved as buf\) after KHO was finalized/);
  });
  it('is clean when the write comes before finalize', () => {
    assert.deepEqual(kho(run([...base, 'store buf + 8 1', 'kho finalize', 'kexec']).found), []);
  });
});

describe('hazard restore-missing', () => {
  const base = [/* 1 */ 'alloc buf 8K cacheable', /* 2 */ 'kho preserve buf', /* 3 */ 'kexec'];
  it('flags the new kernel writing preserved memory it has not restored', () => {
    const h = kho(run([...base, /* 4 */ 'store buf + 0x1000 1']).found);
    assert.deepEqual(h.map((f) => `${f.line} ${f.rule}`), ['4 restore-missing']);
    assert.match(h[0].message, /writes 0x40001000, which is preserved memory it has not restored: \[0x40001000, 0x40002000\) \(preserved as buf\)/);
  });
  it('is clean once it is restored', () => {
    assert.deepEqual(kho(run([...base, 'kho restore buf', 'store buf + 0x1000 1']).found), []);
  });

  const handover = [...S2, /* 9 */ 'kho preserve smmu', /* 10 */ 'kho preserve g1', /* 11 */ 'kexec'];
  it('flags finishing while the SMMU reaches preserved memory that was never restored', () => {
    const h = kho(run([...handover, /* 12 */ 'kho restore smmu', /* 13 */ 'smmu adopt', /* 14 */ 'kho finish']).found);
    assert.deepEqual(h.map((f) => `${f.line} ${f.rule}`), ['14 restore-missing']);
    assert.deepEqual(pagesIn(h[0].message), ['0x40003000', '0x40004000', '0x40005000', '0x40006000']);
  });
  it('flags adopting a stream table that was not restored', () => {
    const h = kho(run([...handover, /* 12 */ 'kho restore g1', /* 13 */ 'smmu adopt']).found);
    assert.deepEqual(h.map((f) => `${f.line} ${f.rule}`), ['13 restore-missing', '13 restore-missing']);
    assert.match(h[0].message, /takes over live L1 stream table/);
    assert.match(h[1].message, /takes over live L2 stream table of L1STD 0/);
  });
  it('is clean when everything is restored before adopting and finishing', () => {
    assert.deepEqual(kho(run([...handover, 'kho restore smmu', 'kho restore g1', 'smmu adopt', 'kho finish']).found), []);
  });
});

describe('hazard handover-dirty', () => {
  // Two stage-1 domains; StreamID 5's CD table in cacheable memory, cleaned by the driver.
  const S1 = [
    /* 1 */ 'platform coherent=no',
    /* 2 */ 'smmu stages=1,2 sidsize=16',
    /* 3 */ 'smmu init',
    /* 4 */ 'domain d1 stage=1',
    /* 5 */ 'domain d2 stage=1',
    /* 6 */ 'map d1 0x1000_0000 -> 0x8_0000_0000 size=4K',
    /* 7 */ 'map d2 0x1000_0000 -> 0x9_0000_0000 size=4K',
    /* 8 */ 'attach 5 s1 d1 cd_mem=cacheable cd_clean=yes',
    /* 9 */ 'kho preserve smmu', /* 10 */ 'kho preserve d1', /* 11 */ 'kho preserve d2',
    // CD 0's qword 1 is TTB0: point it at d2's tables with a store that stays in the cache.
    /* 12 */ 'store cd_addr(5, 0) + 8 d2.pgd',
  ];
  it('flags table data still dirty in the CPU cache at kexec', () => {
    const { found, session } = run([...S1, /* 13 */ 'kexec']);
    const h = kho(found);
    assert.deepEqual(h.map((f) => `${f.line} ${f.rule}`), ['13 handover-dirty']);
    const m = session.runner.state.machine;
    const d1 = m.region('d1.pgd')!.base;
    const d2 = m.region('d2.pgd')!.base;
    assert.ok(h[0].message.includes(`CD 0x5:0 (${'0x' + (m.region('cdtab.0x5')!.base + 8).toString(16)}: PoC holds 0x${d1.toString(16)}, the CPU wrote 0x${d2.toString(16)}`), h[0].message);
  });
  it('is clean when the CD is cleaned to PoC before kexec', () => {
    assert.deepEqual(kho(run([...S1, 'dma_sync_for_device cd_addr(5, 0) 64', 'kexec']).found), []);
  });
  it('is clean when the platform writes the cache back at kexec, or the SMMU is coherent', () => {
    assert.deepEqual(kho(run(['platform kexec_cache=writeback', ...S1, 'kexec']).found), []);
    assert.deepEqual(kho(run(['platform coherent=yes', ...S1.slice(1), 'kexec']).found), []);
  });
});

describe('hazard reset-during-handover', () => {
  const handover = [...S2, /* 9 */ 'traffic dev 9 read IPA', /* 10 */ 'kho preserve smmu', /* 11 */ 'kho preserve g1', /* 12 */ 'kexec',
    /* 13 */ 'kho restore smmu', /* 14 */ 'kho restore g1'];
  it('flags the new kernel resetting the SMMU while DMA is live', () => {
    const { found, session } = run([...handover, /* 15 */ 'smmu init']);
    const h = kho(found);
    assert.deepEqual(h.map((f) => `${f.line} ${f.rule}`), ['15 reset-during-handover']);
    // The reset path sets GBPA.ABORT before CR0=0: the traffic aborts.
    assert.match(h[0].message, /traffic on StreamID 0x9, StreamID 0x9 configured\): with GBPA.ABORT=1 every transaction aborts/);
    assert.ok(session.runner.results.dmas.some((d) => d.traffic && d.result === 'abort' && d.range.start.line === 15));
  });
  it('is flagged without background traffic too: a configured stream may be doing DMA', () => {
    const h = kho(run([...handover.filter((l) => !l.startsWith('traffic')), 'smmu init']).found);
    assert.deepEqual(h.map((f) => f.rule), ['reset-during-handover']);
  });
  it('is clean when the new kernel adopts the running SMMU, and traffic translates throughout', () => {
    const { found, session } = run([...handover, 'smmu adopt', 'kho finish', 'expect dma 9 read IPA + 0x40 -> PA + 0x40']);
    assert.deepEqual(kho(found), []);
    assert.deepEqual(session.runner.results.dmas.filter((d) => d.traffic).map((d) => d.result), ['ok']);
  });
});

describe('the other rules across the handover', () => {
  it('a stale TLB entry after the new kernel unmaps on a restored domain is still flagged', () => {
    const { found } = run([...S2, /* 9 */ 'traffic dev 9 read IPA', /* 10 */ 'kho preserve smmu', /* 11 */ 'kho preserve g1', /* 12 */ 'kexec',
      /* 13 */ 'kho restore smmu', /* 14 */ 'kho restore g1', /* 15 */ 'smmu adopt', /* 16 */ 'unmap g1 IPA size=4K noflush']);
    assert.deepEqual(kho(found), []);
    assert.ok(found.some((f) => f.line === 16 && f.rule === 'stale-cache'), found.map((f) => `${f.line} ${f.rule}`).join(', '));
  });
});
