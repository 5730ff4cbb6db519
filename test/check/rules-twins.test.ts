/**
 * Each hazard rule (src/check/rules.ts) on a minimal scenario that breaks it, and on the
 * corrected twin that must not: the rule's id and severity, the line of the statement
 * responsible, and an explanation that names the entry (and its address) and the step
 * that is missing. Every rule in RULES has a case here (the last test checks that).
 *
 * The scenarios run on a non-coherent SMMU with a linear stream table (so the driver's own
 * L2-table publication, a known warning, stays out of the way). Tables the tests build by
 * hand are placed with `at=` so their addresses are known: the CD table at 0x4800_0000.
 */
import { strict as assert } from 'node:assert';
import { RULES } from '../../src/check/rules';
import { steAddress } from '../../src/model/locate';
import { check, Checked, ofRule, summary } from './scenario';

const HEAD = ['platform coherent=no', 'smmu sidsize=8', 'smmu init strtab=linear'];
const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** The line (1-based) of the statement `text` in a scenario. */
function lineOf(lines: readonly string[], text: string): number {
  const i = lines.indexOf(text);
  assert.ok(i >= 0, `no line '${text}'`);
  return i + 1;
}

function steAddr(c: Checked, sid: number): number {
  const a = steAddress(c.session.runner.state.machine, sid);
  assert.ok('addr' in a, 'the STE is located');
  return (a as { addr: number }).addr;
}

function constant(c: Checked, name: string): bigint {
  const v = c.session.runner.state.scenario.constants.get(name);
  assert.ok(v !== undefined, `constant ${name}`);
  return v;
}

interface Case {
  readonly title: string;
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  /** The scenario that breaks the rule. */
  readonly bad: readonly string[];
  /** The statement the hazard must be reported at. */
  readonly at: string;
  /** What the explanation must say: the entry, its address, the missing step (strings are matched literally). */
  readonly says: (c: Checked) => (string | RegExp)[];
  /** The corrected twin. */
  readonly good: readonly string[];
  /** Options for the checker (both runs). */
  readonly bound?: number;
}

/** Replace the line `from` of a scenario by `to` (one or more lines, or none). */
function edit(lines: readonly string[], from: string, ...to: string[]): string[] {
  const i = lines.indexOf(from);
  assert.ok(i >= 0, `no line '${from}'`);
  return [...lines.slice(0, i), ...to, ...lines.slice(i + 1)];
}

// ---- scenarios -------------------------------------------------------------------------

/** StreamID 5 aborting, then a stage-2 STE written in place (qwords 0-3, no barrier), with DMA running. */
const TORN_STE = [...HEAD,
  'domain g1 stage=2',
  'map g1 0x1000_0000 -> 0x9_0000_0000',
  'attach 5 abort',
  'traffic dev 5 read 0x1000_0000',
  'ste 5 <- s2 g1 raw',
  'cfgi ste 5 leaf',
  'sync',
];

/** Abort -> bypass in place: qword 0 (Config) and qword 1 (SHCFG=INCOMING, used by bypass) both change. */
const TORN_USED = [...HEAD,
  'attach 5 abort',
  'traffic dev 5 read 0x1000_0000',
  'ste 5 <- bypass raw',
  'cfgi ste 5 leaf',
  'sync',
];

/** A live stage-1 domain for StreamID 5; PTE is the (empty) level-3 slot of IOVA 0x1000_1000. */
const S1 = [...HEAD,
  'domain d1 stage=1',
  'map d1 0x1000_0000 -> 0x8_0000_0000',
  'attach 5 s1 d1',
  'const PTE = pte_addr(d1, 0x1000_1000, 3)',
];

const TORN_PTE = [...S1,
  'traffic dev 5 read 0x1000_1000',
  // A page at 0x8_0000_1000, as io-pgtable builds it (valid page, AttrIndx 1, AP[1], SH=IS, AF, nG, XN).
  'store PTE 0x0060_0008_0000_1f47 plain split=4',
  'clean PTE 8',
  'dsb',
];

/** A one-CD table by hand at 0x4800_0000 (cacheable): d1's CD with ASID 1, then the STE pointing at it. */
const CD_BY_HAND = [...HEAD,
  'domain d1 stage=1',
  'map d1 0x1000_0000 -> 0x8_0000_0000',
  'alloc cdt 4K cacheable at=0x4800_0000',
  'store cdt + 8 d1.pgd',
  'store cdt + 24 0xf404_ff44',
  'store cdt 0x0001_e205_c000_2010',
  'ste 5 <- s1 cdtable=cdt',
];

/**
 * The same CD table in non-cacheable memory, its CD already settled once and then changed
 * (ASID 1 -> 2), and the STE written by hand: qword 1 (S1DSS=SSID0, CIR/COR WBRA, CSH ISH,
 * S1STALLD: 0x0800_00d6) then qword 0 (the table, Config S1_TRANS, V: 0x4800_000b).
 */
const PUBLISH = [...HEAD,
  'domain d1 stage=1',
  'map d1 0x1000_0000 -> 0x8_0000_0000',
  'alloc cdt 4K noncacheable at=0x4800_0000',
  'store cdt + 8 d1.pgd',
  'store cdt + 24 0xf404_ff44',
  'store cdt 0x0001_e205_c000_2010',
  'dsb',
  'store cdt 0x0002_e205_c000_2010',
  'store ste_addr(5) + 8 0x0800_00d6',
  'store ste_addr(5) 0x4800_000b',
];

/**
 * Commands written into the queue by hand (smmu init issued 6: PROD is 6) and a relaxed
 * doorbell: CMD_CFGI_STE (opcode 0x03) for StreamID 5 (bits [63:32]) with Leaf=1, then
 * CMD_SYNC (0x46, CS=NONE).
 */
const DOORBELL = [...HEAD,
  'expect reg CMDQ_PROD == 6',
  'store cmdq_slot(6) 0x5_0000_0003',
  'store cmdq_slot(6) + 8 1',
  'store cmdq_slot(7) 0x46',
  'writel_relaxed CMDQ_PROD 8',
  'expect reg CMDQ_CONS == 8',
];

/** StreamID 5's abort STE cached by a DMA, then an S2 STE written in place and used without invalidation. */
const STALE_STE = [...HEAD,
  'domain g1 stage=2',
  'map g1 0x1000_0000 -> 0x9_0000_0000',
  'attach 5 abort',
  'expect dma 5 read 0x1000_0000 -> abort',
  'ste 5 <- s2 g1 raw',
  'expect dma 5 read 0x1000_0040 -> abort',
];

const STALE_TLB = [...S1,
  'expect dma 5 read 0x1000_0040 -> 0x8_0000_0040',
  'unmap d1 0x1000_0000 noflush',
  'expect dma 5 read 0x1000_0080 -> 0x8_0000_0080',
];

/** Page 0x1000_1000 mapped, its PTE cleared, cleaned and followed by a TLBI of the wrong ASID (2; d1 has 1) and a CMD_SYNC. */
const MISSING_TLBI = [...S1, 'map d1 0x1000_1000 -> 0x8_0000_1000', 'store PTE 0', 'clean PTE 8', 'dsb', 'tlbi va 0x1000_1000 asid=2 leaf', 'sync'];

const CASES: Case[] = [
  {
    title: 'an STE written in place while DMA runs: a mix the SMMU can read does what neither end does',
    rule: 'torn-update', severity: 'error', bad: TORN_STE, at: 'ste 5 <- s2 g1 raw',
    // Qword 0 (V=1, Config=S2_TRANS: 0xd) is stored first: with qwords 1-3 still zero the S2 STE is ILLEGAL.
    says: (c) => [`STE at ${hex(steAddr(c, 5))} as [0xd 0x0 0x0 0x0 0x0 0x0 0x0 0x0]`, 'C_BAD_STE', 'the entry before gives abort', 'after → 0x900000000',
      // The missing step: one used qword per step, ordered (the kernel's writer), or V=0 first.
      /at most one qword .* per step/, /arm_smmu_write_entry/],
    // Through the kernel's writer: abort -> S2 is hitless (only qword 0 is critical: qwords 1-3 are unused by abort).
    good: edit(TORN_STE, 'ste 5 <- s2 g1 raw', 'ste 5 <- s2 g1'),
  },
  {
    title: 'a mix that translates like the new entry but is a configuration neither has (used-bits view)',
    rule: 'torn-update', severity: 'error', bad: TORN_USED, at: 'ste 5 <- bypass raw',
    // [bypass qword 0, old qword 1]: bypass with SHCFG=0 instead of INCOMING.
    says: (c) => [`STE at ${hex(steAddr(c, 5))}`, `[0x9 0x0 0x0 0x0 0x0 0x0 0x0 0x0]`, 'used bits match neither', 'Change at most one qword'],
    good: edit(TORN_USED, 'ste 5 <- bypass raw', 'ste 5 <- bypass'),
  },
  {
    title: 'a PTE written with a plain store while DMA runs: the low half alone is a valid page at the wrong PA',
    rule: 'torn-update', severity: 'error', bad: TORN_PTE, at: 'store PTE 0x0060_0008_0000_1f47 plain split=4',
    // Low half 0x1f47 alone: valid, PA 0x1000 (bits [47:32] lost).
    says: (c) => [`stage-1 level-3 descriptor at ${hex(constant(c, 'PTE'))}`, '[0x1f47]', '→ 0x1000', 'before gives F_TRANSLATION', 'WRITE_ONCE'],
    good: edit(TORN_PTE, 'store PTE 0x0060_0008_0000_1f47 plain split=4', 'store PTE 0x0060_0008_0000_1f47'),
  },
  {
    title: 'a plain store to a live descriptor',
    rule: 'torn-store', severity: 'warning', bad: TORN_PTE, at: 'store PTE 0x0060_0008_0000_1f47 plain split=4',
    says: (c) => [`stage-1 level-3 descriptor 1 of the table at ${hex(constant(c, 'PTE') - 8n)}`, `at ${hex(constant(c, 'PTE'))}`, '4-byte parts', 'Use WRITE_ONCE'],
    good: edit(TORN_PTE, 'store PTE 0x0060_0008_0000_1f47 plain split=4', 'store PTE 0x0060_0008_0000_1f47'),
  },
  {
    title: 'a CD table in cacheable memory made reachable before it was cleaned',
    rule: 'stale-fetch', severity: 'error', bad: CD_BY_HAND, at: 'ste 5 <- s1 cdtable=cdt',
    says: () => ['CD table at 0x48000000', 'CD 0x5:0 (0x48000000: 0x0 instead of 0x1e205c0002010)', 'never cleaned to PoC', 'Clean the range', 'DSB first'],
    good: edit(CD_BY_HAND, 'ste 5 <- s1 cdtable=cdt', 'clean cdt 64', 'dsb', 'ste 5 <- s1 cdtable=cdt'),
  },
  {
    title: 'a PTE stored without a clean, then a TLBI of its ASID + CMD_SYNC',
    rule: 'stale-fetch', severity: 'error',
    bad: [...S1, 'store PTE 0x0060_0008_0000_1f47', 'tlbi asid 1', 'sync'], at: 'sync',
    says: (c) => ['CMD_TLBI_NH_ASID (ASID 1, VMID 0) + CMD_SYNC', `stage-1 level-3 page table at ${hex(constant(c, 'PTE') - 8n)}`,
      `${hex(constant(c, 'PTE'))}: 0x0 instead of 0x60000800001f47`, 'Clean the range'],
    good: [...S1, 'store PTE 0x0060_0008_0000_1f47', 'clean PTE 8', 'dsb', 'tlbi asid 1', 'sync'],
  },
  {
    title: 'a clean not completed by a DSB before the SMMU is told to look',
    rule: 'cmo-incomplete', severity: 'error', bad: edit(CD_BY_HAND, 'ste 5 <- s1 cdtable=cdt', 'clean cdt 64', 'ste 5 <- s1 cdtable=cdt'),
    at: 'ste 5 <- s1 cdtable=cdt',
    says: () => ['CD table at 0x48000000', 'not yet completed by a DSB', '0x48000000: 0x0 instead of 0x1e205c0002010', 'Add a dsb'],
    good: edit(CD_BY_HAND, 'ste 5 <- s1 cdtable=cdt', 'clean cdt 64', 'dsb', 'ste 5 <- s1 cdtable=cdt'),
  },
  {
    title: 'an STE published with no barrier after the CD it points at changed',
    rule: 'missing-barrier', severity: 'error', bad: PUBLISH, at: 'store ste_addr(5) 0x4800_000b',
    says: () => ['CD table at 0x48000000', 'no barrier', 'CD 0x5:0 (0x48000000: 0x1e205c0002010 instead of 0x2e205c0002010)', 'dma_wmb()'],
    good: edit(PUBLISH, 'store ste_addr(5) 0x4800_000b', 'dma_wmb', 'store ste_addr(5) 0x4800_000b'),
  },
  {
    title: 'a command published by a relaxed doorbell with no barrier',
    rule: 'missing-barrier', severity: 'error', bad: DOORBELL, at: 'writel_relaxed CMDQ_PROD 8',
    says: () => ['command queue entry 6', 'no barrier separates them', 'dma_wmb() before a relaxed PROD write, or use writel()'],
    good: edit(DOORBELL, 'writel_relaxed CMDQ_PROD 8', 'writel CMDQ_PROD 8'),
  },
  {
    title: 'a cached STE used after the STE changed in memory with no CFGI_STE + CMD_SYNC',
    rule: 'stale-cache', severity: 'error', bad: STALE_STE, at: 'expect dma 5 read 0x1000_0040 -> abort',
    says: () => ['cached configuration (STE)', 'SID 0x5', 'give abort', 'memory now says → 0x900000040', 'invalidate it (CFGI/TLBI) and CMD_SYNC'],
    good: edit(edit(STALE_STE, 'ste 5 <- s2 g1 raw', 'ste 5 <- s2 g1 raw', 'cfgi ste 5 leaf', 'sync'),
      'expect dma 5 read 0x1000_0040 -> abort', 'expect dma 5 read 0x1000_0040 -> 0x9_0000_0040'),
  },
  {
    title: 'a translation kept in the TLB after an unmap without TLBI',
    rule: 'stale-cache', severity: 'error', bad: STALE_TLB, at: 'expect dma 5 read 0x1000_0080 -> 0x8_0000_0080',
    says: () => ['a cached translation (TLB)', 'IOVA 0x10000080', 'give → 0x800000080', 'memory now says F_TRANSLATION', 'CMD_SYNC'],
    good: [...S1, 'expect dma 5 read 0x1000_0040 -> 0x8_0000_0040', 'unmap d1 0x1000_0000', 'expect dma 5 read 0x1000_0080 -> F_TRANSLATION'],
  },
  {
    title: 'a PTE cleared by hand and a TLBI of another ASID: the translation the SMMU could have cached is never invalidated',
    rule: 'missing-tlbi', severity: 'error', bad: MISSING_TLBI, at: 'sync',
    // The level-3 entry of IOVA 0x1000_1000 covers one 4K page: [0x1000_1000, 0x1000_2000), which
    // mapped 0x8_0000_1000. d1 has ASID 1 (attach's default) and VMID 0; TLBI_NH_VA of ASID 2 does
    // not drop ASID 1's non-global entry. Reported at the end: the last statement.
    says: (c) => ['IOVA [0x10001000, 0x10002000) (stage 1, ASID 1, VMID 0) translated → 0x800001000 (4K page)',
      `line ${lineOf(MISSING_TLBI, 'store PTE 0')} changed the stage-1 level-3 descriptor at ${hex(constant(c, 'PTE'))} (cleared)`,
      'do not cover it', 'the scenario ends', 'CMD_TLBI_NH_VA ASID 1 VMID 0 0x10001000 Leaf=1', 'iommu_iotlb_sync'],
    good: edit(MISSING_TLBI, 'tlbi va 0x1000_1000 asid=2 leaf', 'tlbi va 0x1000_1000 asid=1 leaf'),
  },
  {
    title: 'an invalidation never completed by a CMD_SYNC',
    rule: 'sync-missing', severity: 'error', bad: [...HEAD, 'attach 5 bypass', 'cfgi ste 5 leaf'], at: 'cfgi ste 5 leaf',
    says: () => ['CMD_CFGI_STE', 'no CMD_SYNC'],
    good: [...HEAD, 'attach 5 bypass', 'cfgi ste 5 leaf', 'sync'],
  },
  {
    title: 'a CD table freed after the STE stopped pointing at it, before the CFGI_STE was synchronised',
    rule: 'sync-missing', severity: 'error',
    // The STE goes back to abort by hand (qword 0 = V|ABORT); the SMMU may still use the cached STE and CD until the sync.
    bad: [...CD_BY_HAND.slice(0, -1), 'clean cdt 64', 'dsb', 'ste 5 <- s1 cdtable=cdt', 'expect dma 5 read 0x1000_0000 -> 0x8_0000_0000',
      'store ste_addr(5) 0x1', 'cfgi ste 5 leaf', 'free cdt', 'sync'], at: 'free cdt',
    says: () => ["'cdt' is freed after CMD_CFGI_STE", 'before a CMD_SYNC'],
    good: [...CD_BY_HAND.slice(0, -1), 'clean cdt 64', 'dsb', 'ste 5 <- s1 cdtable=cdt', 'expect dma 5 read 0x1000_0000 -> 0x8_0000_0000',
      'store ste_addr(5) 0x1', 'cfgi ste 5 leaf', 'sync', 'free cdt'],
  },
  {
    title: 'a CD table freed while an STE points at it',
    rule: 'table-reuse', severity: 'error',
    bad: [...CD_BY_HAND.slice(0, -1), 'clean cdt 64', 'dsb', 'ste 5 <- s1 cdtable=cdt', 'expect dma 5 read 0x1000_0000 -> 0x8_0000_0000', 'free cdt'],
    at: 'free cdt',
    says: () => ["'cdt' [0x48000000, 0x48001000) is freed", 'STE 0x5 → S1ContextPtr', 'Detach or invalidate the pointer'],
    good: [...CD_BY_HAND.slice(0, -1), 'clean cdt 64', 'dsb', 'ste 5 <- s1 cdtable=cdt', 'expect dma 5 read 0x1000_0000 -> 0x8_0000_0000',
      'ste 5 <- abort', 'free cdt'],
  },
  {
    title: 'an invalidate CMO that throws away a live PTE\'s update',
    rule: 'lost-dirty', severity: 'error',
    // Page 0x1000_1000 mapped, then its PTE cleared by hand (an unmap without io-pgtable) and invalidated instead of cleaned.
    bad: [...S1, 'map d1 0x1000_1000 -> 0x8_0000_1000', 'store PTE 0', 'inval PTE 8', 'dsb'], at: 'inval PTE 8',
    says: (c) => [`8 dirty bytes at ${hex(constant(c, 'PTE'))}`, 'stage-1 level-3 descriptor 1', 'Clean (DC CVAC/CIVAC) instead of invalidating'],
    // (With the TLBI the clear needs anyway: without it the page stays translatable, missing-tlbi.)
    good: [...S1, 'map d1 0x1000_1000 -> 0x8_0000_1000', 'store PTE 0', 'clean_inv PTE 8', 'dsb', 'tlbi va 0x1000_1000 asid=1 leaf', 'sync'],
  },
  {
    title: 'STRTAB_BASE reprogrammed while the SMMU is enabled',
    rule: 'illegal-reprogram', severity: 'error', bad: [...HEAD, 'writel STRTAB_BASE 0x4000_0000_7000_0000'], at: 'writel STRTAB_BASE 0x4000_0000_7000_0000',
    says: () => ['STRTAB_BASE', '0x4000000070000000', 'read-only while CR0.SMMUEN=1'],
    // Disable (keeping the queues), reprogram, enable again. (smmu init placed the stream table at 0x4000_4000.)
    good: [...HEAD, 'expect reg STRTAB_BASE == 0x4000_0000_4000_4000', 'writel CR0 0xc', 'expect reg CR0ACK == 0xc',
      'writel STRTAB_BASE 0x4000_0000_4000_4000', 'writel CR0 0xd', 'expect reg CR0ACK == 0xd'],
  },
  {
    title: 'more values than the bound',
    rule: 'set-bound', severity: 'warning', bound: 4,
    // A PTE written in byte parts: 4 bytes change (0x47, 0x1f, 0x08, 0x60), 2^4 = 16 values > 4.
    bad: [...S1, 'traffic dev 5 read 0x1000_1000', 'store PTE 0x0060_0008_0000_1f47 plain split=1'], at: 'store PTE 0x0060_0008_0000_1f47 plain split=1',
    says: (c) => [`stage-1 level-3 descriptor at ${hex(constant(c, 'PTE'))}`, 'at least 16 values', 'only the first 4 were judged', '--bound'],
    good: [...S1, 'traffic dev 5 read 0x1000_1000', 'store PTE 0x0060_0008_0000_1f47'],
  },
  // Live update (test/check/kho.test.ts has more). After the queues (0x4000_0000, 0x4000_1000) and
  // the linear stream table (16K at 0x4000_4000), a stage-2 domain's pgd is at 0x4000_8000 and
  // mapping 0x1000_0000 adds its level-1, -2 and -3 tables at 0x4000_9000..0x4000_b000 (level-2
  // index (0x1000_0000 >> 21) & 511 = 128).
  {
    title: 'kexec with the SMMU\'s tables preserved, not the page tables StreamID 5 walks',
    rule: 'unpreserved-reachable', severity: 'error',
    bad: [...HEAD, 'domain g1 stage=2', 'map g1 0x1000_0000 -> 0x9_0000_0000', 'attach 5 s2 g1', 'kho preserve smmu', 'kexec'], at: 'kexec',
    says: () => ['at kexec, 4 pages the SMMU can reach are not preserved', '0x40008000 (stage-2 level-0 page table at 0x40008000, reached through STE 0x5 → S2TTB',
      '→ level 2 table at 0x4000a000[128] → level 3 table at 0x4000b000)', 'Preserve them (kho preserve)'],
    good: [...HEAD, 'domain g1 stage=2', 'map g1 0x1000_0000 -> 0x9_0000_0000', 'attach 5 s2 g1', 'kho preserve smmu', 'kho preserve g1', 'kexec'],
  },
  {
    title: 'preserved memory written after finalize',
    rule: 'preserved-mutated', severity: 'error',
    bad: [...HEAD, 'kho preserve smmu', 'alloc buf 4K cacheable at=0x4800_0000', 'kho preserve buf', 'kho finalize', 'store buf + 8 1'], at: 'store buf + 8 1',
    says: () => ['write to 0x48000008', 'page 0x48000000, preserved as buf', 'after KHO was finalized'],
    good: [...HEAD, 'kho preserve smmu', 'alloc buf 4K cacheable at=0x4800_0000', 'kho preserve buf', 'store buf + 8 1', 'kho finalize'],
  },
  {
    title: 'the new kernel writing preserved memory it has not restored',
    rule: 'restore-missing', severity: 'error',
    bad: [...HEAD, 'kho preserve smmu', 'alloc buf 8K cacheable at=0x4800_0000', 'kho preserve buf', 'kexec', 'store buf + 0x1000 1'], at: 'store buf + 0x1000 1',
    says: () => ['writes 0x48001000', '[0x48001000, 0x48002000) (preserved as buf)', 'restore it before using it'],
    good: [...HEAD, 'kho preserve smmu', 'alloc buf 8K cacheable at=0x4800_0000', 'kho preserve buf', 'kexec', 'kho restore buf', 'store buf + 0x1000 1'],
  },
  {
    // CD qword 3 is MAIR, which a valid CD uses: a new value (0xff44) stays in the cache line.
    title: 'a CD in cacheable memory changed and not cleaned before kexec',
    rule: 'handover-dirty', severity: 'error',
    bad: [...HEAD, 'domain d1 stage=1', 'map d1 0x1000_0000 -> 0x8_0000_0000', 'attach 5 s1 d1 cd_mem=cacheable', 'kho preserve smmu', 'kho preserve d1',
      'store cd_addr(5, 0) + 24 0xff44', 'kexec'], at: 'kexec',
    says: () => ['at kexec, 1 entry the SMMU can reach holds CPU writes that never reached PoC', 'CD 0x5:0 (', 'the CPU wrote 0xff44', 'Clean them to PoC and DSB before kexec'],
    good: [...HEAD, 'domain d1 stage=1', 'map d1 0x1000_0000 -> 0x8_0000_0000', 'attach 5 s1 d1 cd_mem=cacheable', 'kho preserve smmu', 'kho preserve d1',
      'store cd_addr(5, 0) + 24 0xff44', 'dma_sync_for_device cd_addr(5, 0) 64', 'kexec'],
  },
  {
    title: 'the new kernel resetting the SMMU while StreamID 5 bypasses',
    rule: 'reset-during-handover', severity: 'error',
    bad: [...HEAD, 'attach 5 bypass', 'kho preserve smmu', 'kexec', 'kho restore smmu', 'smmu init'], at: 'smmu init',
    says: () => ['disables the SMMU (CR0.SMMUEN=0) while DMA may be live (StreamID 0x5 configured)', 'with GBPA.ABORT=1 every transaction aborts', 'adopt it'],
    good: [...HEAD, 'attach 5 bypass', 'kho preserve smmu', 'kexec', 'kho restore smmu', 'smmu adopt'],
  },
];

describe('check/rules', () => {
  for (const k of CASES) {
    describe(`${k.rule}: ${k.title}`, () => {
      it('is flagged at the statement responsible, with an explanation naming the entry and the missing step', () => {
        const c = check(k.bad, k.bound ? { bound: k.bound } : {});
        const found = ofRule(c, k.rule);
        assert.ok(found.length > 0, `no ${k.rule}; found:\n${summary(c)}`);
        const line = lineOf(k.bad, k.at);
        const here = found.filter((h) => h.range.start.line === line);
        assert.ok(here.length > 0, `${k.rule} not at line ${line} '${k.at}'; found:\n${summary(c)}`);
        const says = k.says(c);
        const h = here.find((x) => says.every((s) => (typeof s === 'string' ? x.message.includes(s) : s.test(x.message))));
        assert.ok(h, `no ${k.rule} at line ${line} says all of ${says.join(' | ')}; found:\n${summary(c)}`);
        assert.equal(h.severity, k.severity);
        assert.equal(h.title, RULES.find((r) => r.id === k.rule)!.title);
      });

      it('its corrected twin is not', () => {
        const c = check(k.good, k.bound ? { bound: k.bound } : {});
        assert.deepEqual(ofRule(c, k.rule).map((h) => h.message), [], summary(c));
        const errors = c.hazards.filter((h) => h.severity === 'error');
        assert.deepEqual(errors.map((h) => `${h.rule}: ${h.message}`), [], 'the twin has no error of any rule');
      });
    });
  }

  it('a TLBI of another ASID does not tell the SMMU to look at this domain\'s tables', () => {
    // d1 (ASID 1) for StreamID 5, d2 (ASID 2) for StreamID 6; d1's PTE stored without a clean.
    const lines = [...S1, 'domain d2 stage=1', 'map d2 0x1000_0000 -> 0xa_0000_0000', 'attach 6 s1 d2',
      'store PTE 0x0060_0008_0000_1f47', 'tlbi asid 2', 'sync'];
    const c = check(lines);
    assert.deepEqual(ofRule(c, 'stale-fetch').map((h) => h.message), [], summary(c));
    // The same with ASID 1 is flagged (the control).
    const bad = check(edit(lines, 'tlbi asid 2', 'tlbi asid 1'));
    assert.equal(ofRule(bad, 'stale-fetch').length, 1, summary(bad));
  });

  it('through the kernel\'s writer, an update-safe EATS change ahead of the critical qword is not a torn update', () => {
    // StreamID 5 with ATS on its own CD table -> StreamID 6's table without ATS. The writer
    // drops EATS (update-safe: the device's ATS is off) with the other unused bits, then switches qword 0.
    const lines = [...HEAD, 'domain d1 stage=1', 'domain d2 stage=1', 'map d1 0x1000_0000 -> 0x8_0000_0000', 'map d2 0x1000_0000 -> 0xa_0000_0000',
      'attach 6 s1 d2', 'attach 5 s1 d1 ats=yes', 'traffic dev 5 read 0x1000_0000', 'ste 5 <- s1 cdtable=cd_addr(6, 0) ssids=0', 'expect update hitless syncs=2'];
    const c = check(lines);
    assert.deepEqual(c.hazards.map((h) => `${h.rule}: ${h.message}`), []);
  });

  it('torn-update of a CD: in place it is flagged; through the writer only the breaking path\'s warning remains', () => {
    // d1 (ASID 1) -> d2 with ASID 2: qword 0 (ASID) and qword 1 (TTB0) both change in used bits.
    const lines = [...HEAD, 'domain d1 stage=1', 'domain d2 stage=1', 'map d1 0x1000_0000 -> 0x8_0000_0000', 'map d2 0x1000_0000 -> 0xa_0000_0000',
      'attach 5 s1 d1', 'const CD = cd_addr(5, 0)', 'traffic dev 5 read 0x1000_0000', 'cd 5:0 <- s1 d2 asid=2 raw', 'cfgi cd 5:0 leaf', 'sync'];
    const raw = check(lines);
    const at = lineOf(lines, 'cd 5:0 <- s1 d2 asid=2 raw');
    const torn = ofRule(raw, 'torn-update').filter((h) => h.range.start.line === at && h.severity === 'error');
    // [new qword 0, old qword 1]: ASID 2 with d1's table, i.e. d1's PA tagged with the new ASID.
    assert.ok(torn.some((h) => h.message.includes(`CD at ${hex(constant(raw, 'CD'))}`) && h.message.includes('→ 0x800000000 (VMID 0, ASID 2)') &&
      h.message.includes('CFGI_CD + CMD_SYNC')), summary(raw));
    const viaWriter = check(edit(lines, 'cd 5:0 <- s1 d2 asid=2 raw', 'cd 5:0 <- s1 d2 asid=2'));
    assert.deepEqual(viaWriter.hazards.map((h) => `${h.severity} ${h.rule}: ${/not hitless/.test(h.message)}`), ['warning torn-update: true'], summary(viaWriter));
  });

  describe('torn-store: only where the SMMU can see the tear', () => {
    it('not in a command queue slot PROD does not cover yet (the doorbell is what publishes it)', () => {
      const plain = DOORBELL.map((l) => (l.startsWith('store ') ? `${l} plain` : l)).map((l) => l.replace('writel_relaxed', 'writel'));
      const c = check(plain);
      assert.deepEqual(c.hazards.map((h) => `${h.rule}: ${h.message}`), []);
    });

    it('not in bits the STE\'s configuration ignores; where two parts change in bits it uses, yes', () => {
      // StreamID 5 aborts: qword 1 is IGNORED. StreamID 6 bypasses: of qword 1 it uses only
      // SHCFG [45:44], in the high half, so a store that also changes bit 0 (ignored) in the low
      // half has no half-written value the SMMU could tell from the old or the new one.
      // StreamID 7 is a stage-2 STE: qword 2 holds S2VMID [15:0] (1, low half) and VTCR [50:32]
      // (high half); storing 0 changes both halves in used bits, and [VMID 0, old VTCR] or
      // [VMID 1, no VTCR] is neither the old nor the new entry.
      const lines = [...HEAD, 'domain g1 stage=2', 'map g1 0x1000_0000 -> 0x9_0000_0000', 'attach 5 abort', 'attach 6 bypass', 'attach 7 s2 g1 vmid=1',
        'store ste_addr(5) + 8 0x0000_1000_0800_00d6 plain', 'store ste_addr(6) + 8 0x0000_2000_0000_0001 plain', 'store ste_addr(7) + 16 0 plain'];
      const c = check(lines);
      assert.deepEqual(ofRule(c, 'torn-store').map((h) => h.range.start.line), [lines.length], summary(c));
    });
  });

  it('stale-cache: a cached STE that differs from memory only in bits its configuration ignores is not stale', () => {
    // Both STEs are cached (a DMA each), then qword 1 changes: ignored by abort, SHCFG for bypass.
    const lines = [...HEAD, 'attach 5 abort', 'attach 6 bypass', 'expect dma 5 read 0 -> abort', 'expect dma 6 read 0 -> 0',
      'store ste_addr(5) + 8 0x0000_1000_0800_00d6', 'store ste_addr(6) + 8 0x0000_2000_0000_0001'];
    const c = check(lines);
    const stale = ofRule(c, 'stale-cache');
    assert.equal(stale.length, 1, summary(c));
    assert.match(stale[0].message, /STE of StreamID 0x6 /);
  });

  describe('which invalidations tell the SMMU to look at a stage-2 table', () => {
    // g1 (VMID 1) for StreamID 5, g2 (VMID 2) for StreamID 6; a PTE of g1 stored without a clean.
    const base = [...HEAD, 'domain g1 stage=2', 'domain g2 stage=2', 'map g1 0x1000_0000 -> 0x9_0000_0000', 'map g2 0x1000_0000 -> 0xa_0000_0000',
      'attach 5 s2 g1 vmid=1', 'attach 6 s2 g2 vmid=2', 'store pte_addr(g1, 0x1000_1000, 3) 0x0040_0009_0000_17ff'];
    const cases: [string, boolean][] = [
      ['tlbi vmid 1', true], ['tlbi ipa 0x1000_1000 vmid=1 leaf', true], ['tlbi all', true],
      ['tlbi vmid 2', false], ['tlbi ipa 0x1000_1000 vmid=2 leaf', false], ['tlbi asid 1', false],
    ];
    for (const [tlbi, flagged] of cases) {
      it(`${tlbi} + CMD_SYNC: ${flagged ? 'flagged' : 'not flagged'}`, () => {
        const c = check([...base, tlbi, 'sync']);
        assert.equal(ofRule(c, 'stale-fetch').length, flagged ? 1 : 0, summary(c));
        if (flagged) assert.equal(ofRule(c, 'stale-fetch')[0].range.start.line, base.length + 2);
      });
    }
  });

  it('outcomes compare the VMID a translation is tagged with', () => {
    // g1 and g2 map the IOVA to different PAs. Written in place (VMID in qword 2, S2TTB in
    // qword 3), the SMMU can read [VMID 2, g1's table]: g1's PA, as before, but tagged with the
    // new VMID 2, which neither end gives. Without the used-bits view it is still a torn update.
    const lines = [...HEAD, 'domain g1 stage=2', 'domain g2 stage=2', 'map g1 0x1000_0000 -> 0x9_0000_0000', 'map g2 0x1000_0000 -> 0xa_0000_0000',
      'attach 5 s2 g1 vmid=1', 'attach 6 s2 g2 vmid=2', 'traffic dev 5 read 0x1000_0000', 'ste 5 <- s2 g2 raw'];
    const c = check(lines, { usedBits: undefined });
    const torn = ofRule(c, 'torn-update');
    assert.ok(torn.some((h) => h.message.includes('give → 0x900000000 (VMID 2)') && h.message.includes('before gives → 0x900000000 (VMID 1)') &&
      h.message.includes('after → 0xa00000000 (VMID 2)')), summary(c));
    assert.ok(torn.every((h) => !/used bits/.test(h.message)), 'no used-bits view without the driver\'s rules');
  });

  it('an entry is judged at the statement that wrote it, not again at later barriers', () => {
    const c = check([...TORN_STE, 'dma_wmb', 'dsb']);
    const lines = new Set(ofRule(c, 'torn-update').map((h) => h.range.start.line));
    assert.deepEqual([...lines], [lineOf(TORN_STE, 'ste 5 <- s2 g1 raw')]);
  });

  it('every rule has a case', () => {
    const covered = new Set(CASES.map((k) => k.rule));
    assert.deepEqual(RULES.map((r) => r.id).filter((id) => !covered.has(id)), []);
  });
});
