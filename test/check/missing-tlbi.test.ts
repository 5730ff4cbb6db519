/**
 * missing-tlbi: a translation the SMMU could have cached (any valid one it can reach, at any
 * time) was changed, and no TLBI covering it, completed by a CMD_SYNC, came before it could
 * matter. Each case has a flagged scenario and a clean twin; the expectations are worked out
 * from the architecture (SMMUv3 4.4: TLBI scopes, Leaf, TG/TTL, global entries) in comments.
 *
 * The platform: a non-coherent SMMU with range invalidation (the default), a linear stream
 * table, a stage-1 domain d1 (4K granule) with 4 pages mapped from IOVA 0x1000_0000 to PA
 * 0x8_0000_0000 and StreamID 5 attached with ASID 1 (VMID 0). Each level-3 entry covers one 4K
 * page; the level-2 entry of IOVA 0x1020_0000 covers the 2M region [0x1020_0000, 0x1040_0000).
 */
import { strict as assert } from 'node:assert';
import type { CheckHost } from '../../src/check/checker';
import { MissingTlbi } from '../../src/check/missing-tlbi';
import type { ReachableTable } from '../../src/check/reach';
import type { Machine } from '../../src/model/machine';
import type { TlbiCommand } from '../../src/model/smmu/tlb';
import { cdAddress } from '../../src/model/locate';
import { check, Checked, ofRule, run, summary } from './scenario';

const HEAD = ['platform coherent=no', 'smmu stages=1,2 sidsize=8', 'smmu init strtab=linear'];
const S1 = [...HEAD, 'domain d1 stage=1', 'map d1 0x1000_0000 -> 0x8_0000_0000 size=16K', 'attach 5 s1 d1 asid=1'];

const lineOf = (lines: readonly string[], text: string): number => {
  const i = lines.lastIndexOf(text);
  assert.ok(i >= 0, `no line '${text}'`);
  return i + 1;
};

/** The missing-tlbi hazards as [line, message]. */
function found(c: Checked): [number, string][] {
  return ofRule(c, 'missing-tlbi').map((h) => [h.range.start.line, h.message]);
}

/** Exactly one missing-tlbi, at `at`, whose message contains each of `says`. */
function flaggedOnce(lines: readonly string[], at: string, says: readonly string[]): string {
  const c = check(lines);
  const f = found(c);
  assert.equal(f.length, 1, summary(c));
  assert.equal(f[0][0], lineOf(lines, at), summary(c));
  for (const s of says) assert.ok(f[0][1].includes(s), `'${s}' in:\n${f[0][1]}`);
  return f[0][1];
}

/** No missing-tlbi, and no error of any rule. */
function clean(lines: readonly string[]): void {
  const c = check(lines);
  assert.deepEqual(c.hazards.filter((h) => h.severity === 'error').map((h) => `${h.rule}: ${h.message}`), [], summary(c));
}

describe('check/missing-tlbi', () => {
  describe('a page unmapped without TLBI, never used by DMA', () => {
    const bad = [...S1, 'unmap d1 0x1000_1000 noflush', 'expect mem pte_addr(d1, 0x1000_1000, 3) == 0'];

    it('is flagged at the end (the last statement), naming the range, regime, old translation, the line and the fix', () => {
      // Page 1: [0x1000_1000, 0x1000_2000) → 0x8_0000_1000. io-pgtable's stage-1 leaves are nG=1,
      // so the entry is ASID 1's: TLBI_NH_VA ASID 1 with Leaf=1 is what iommu_iotlb_sync issues.
      flaggedOnce(bad, 'expect mem pte_addr(d1, 0x1000_1000, 3) == 0', [
        'IOVA [0x10001000, 0x10002000) (stage 1, ASID 1, VMID 0) translated → 0x800001000 (4K page)',
        `line ${lineOf(bad, 'unmap d1 0x1000_1000 noflush')} changed the stage-1 level-3 descriptor`, '(cleared)',
        'the scenario ends with it pending', 'CMD_TLBI_NH_VA ASID 1 VMID 0 0x10001000 Leaf=1', '+ CMD_SYNC', 'iommu_iotlb_sync',
        'STE 0x5 → CD 0 → TTB0',
      ]);
      // This run's TLB never held it: stale-cache has nothing to say.
      assert.deepEqual(ofRule(check(bad), 'stale-cache'), []);
    });

    it('the driver\'s unmap (clear + TLBI + CMD_SYNC in one statement) is clean', () => {
      clean([...S1, 'unmap d1 0x1000_1000', 'expect mem pte_addr(d1, 0x1000_1000, 3) == 0']);
    });

    it('the raw sequence, store, clean, TLBI and CMD_SYNC each a statement, is clean', () => {
      clean([...S1, 'const PTE = pte_addr(d1, 0x1000_1000, 3)', 'store PTE 0', 'clean PTE 8', 'dsb', 'tlbi va 0x1000_1000 asid=1 leaf', 'sync']);
    });

    it('without the CMD_SYNC: the TLBI covers it, and the end is sync-missing\'s alone', () => {
      const c = check([...S1, 'unmap d1 0x1000_1000 noflush', 'tlbi va 0x1000_1000 asid=1 leaf']);
      assert.deepEqual(found(c), [], summary(c));
      assert.equal(ofRule(c, 'sync-missing').length, 1, summary(c));
    });
  });

  it('a TLBI of another ASID (and of the right ASID but another page) does not cover it', () => {
    const bad = [...S1, 'unmap d1 0x1000_1000 noflush', 'tlbi asid 2', 'tlbi va 0x1000_2000 asid=1 leaf', 'sync'];
    flaggedOnce(bad, 'sync', ['IOVA [0x10001000, 0x10002000)', 'The TLBIs after the change (CMD_TLBI_NH_ASID, CMD_TLBI_NH_VA) do not cover it']);
    clean([...S1, 'unmap d1 0x1000_1000 noflush', 'tlbi asid 1', 'sync']);
  });

  it('a range TLBI that covers part of an unmapped range leaves the other pages flagged', () => {
    // 16K = pages 0..3; the TLBI's 8K covers pages 0 and 1 only.
    const c = check([...S1, 'unmap d1 0x1000_0000 size=16K noflush', 'tlbi va 0x1000_0000 size=8K asid=1 leaf', 'sync']);
    const f = found(c);
    assert.deepEqual(f.map(([, m]) => m.slice(0, m.indexOf(')'))), ['IOVA [0x10002000, 0x10003000', 'IOVA [0x10003000, 0x10004000'], summary(c));
    clean([...S1, 'unmap d1 0x1000_0000 size=16K noflush', 'tlbi va 0x1000_0000 size=16K asid=1 leaf', 'sync']);
  });

  it('a global page (nG=0) is not covered by TLBI_NH_ASID; TLBI_NH_VA covers it', () => {
    // Page 4 (0x1000_4000, in the same level-3 table) made valid by hand with nG=0: 0x747 is
    // valid page, AttrIndx 1, AP[1], SH=IS, AF, nG=0 → PA 0x8_0000_4000. Cleared with the clean and DSB.
    const mk = (inv: string): string[] => [...S1, 'const PTE = pte_addr(d1, 0x1000_3000, 3) + 8', 'store PTE 0x0060_0008_0000_4747', 'clean PTE 8', 'dsb',
      'store PTE 0', 'clean PTE 8', 'dsb', inv, 'sync'];
    flaggedOnce(mk('tlbi asid 1'), 'sync', ['IOVA [0x10004000, 0x10005000) (stage 1, ASID 1 (global entry), VMID 0) translated → 0x800004000',
      'CMD_TLBI_NH_VAA VMID 0 0x10004000 Leaf=1']);
    clean(mk('tlbi va 0x1000_4000 asid=1 leaf'));
  });

  it('a DMA in a later statement that walks the cleared PTE is where it is reported', () => {
    // The DMA walks memory (nothing cached in this run) and faults; with the old PTE cached it would reach 0x8_0000_1010.
    const bad = [...S1, 'unmap d1 0x1000_1000 noflush', 'expect dma 5 read 0x1000_1010 -> F_TRANSLATION', 'tlbi asid 1', 'sync'];
    flaggedOnce(bad, 'expect dma 5 read 0x1000_1010 -> F_TRANSLATION',
      ['DMA read SID 0x5 IOVA 0x10001010 walks memory and gets F_TRANSLATION, but with the old entry cached it gets → 0x800001010']);
    clean([...S1, 'unmap d1 0x1000_1000', 'expect dma 5 read 0x1000_1010 -> F_TRANSLATION']);
  });

  it('when this run\'s TLB does hold the translation it is stale-cache\'s, not reported twice', () => {
    const c = check([...S1, 'expect dma 5 read 0x1000_1010 -> 0x8_0000_1010', 'unmap d1 0x1000_1000 noflush', 'expect dma 5 read 0x1000_1020 -> 0x8_0000_1020']);
    // stale-cache names each transaction that uses the cached page (the two DMAs); missing-tlbi stays silent.
    assert.ok(ofRule(c, 'stale-cache').length > 0, summary(c));
    assert.deepEqual(found(c), [], summary(c));
  });

  it('the old page freed while pending: flagged at the free', () => {
    // Page 0x1001_0000 maps the region buf; after the unmap without TLBI, the free hands the page
    // back while the SMMU may still translate to it. The late TLBI + CMD_SYNC clears the item: no
    // second report at the end.
    const head = [...S1, 'alloc buf 4K cacheable at=0x4800_0000', 'map d1 0x1001_0000 -> buf'];
    flaggedOnce([...head, 'unmap d1 0x1001_0000 noflush', 'free buf', 'tlbi asid 1', 'sync'], 'free buf',
      ["IOVA [0x10010000, 0x10011000) (stage 1, ASID 1, VMID 0) translated → 0x48000000 (4K page)", "'buf' [0x48000000, 0x48001000), holding the old output 0x48000000, is freed"]);
    clean([...head, 'unmap d1 0x1001_0000', 'free buf']);
  });

  describe('one page table reached under two ASIDs', () => {
    // StreamID 6 gets a CD of its own written as raw words: StreamID 5's CD with ASID 2 in
    // qword 0 [63:48], so d1's tables are reached under ASID 1 and under ASID 2. The kernel's
    // unmap invalidates d1's ASID (1) only; a TLB entry of ASID 2 is another entry (SMMUv3 4.4.1).
    const shared = (): string[] => {
      const m = run(S1.join('\n') + '\n').runner.state.machine;
      const at = cdAddress(m, 5, 0);
      assert.ok(!('error' in at), 'StreamID 5 has CD 0');
      const cd5 = at.addr;
      const words = [0, 1, 2, 3].map((i) => m.load(cd5 + 8 * i, 8));
      words[0] = (words[0] & ((1n << 48n) - 1n)) | (2n << 48n);
      return [...S1, `cd 6:0 <- words ${words.map((w) => '0x' + w.toString(16)).join(', ')} ssids=0`, 'ste 6 <- s1'];
    };

    it('an unmap the kernel invalidates for ASID 1 leaves ASID 2\'s translation pending', () => {
      const bad = [...shared(), 'unmap d1 0x1000_1000'];
      flaggedOnce(bad, 'unmap d1 0x1000_1000', [
        'IOVA [0x10001000, 0x10002000) (stage 1, ASID 2, VMID 0) translated → 0x800001000 (4K page)',
        'CMD_TLBI_NH_VA ASID 2 VMID 0 0x10001000 Leaf=1', 'STE 0x6',
      ]);
    });

    it('is clean once ASID 2 is invalidated too', () => {
      clean([...shared(), 'unmap d1 0x1000_1000', 'tlbi asid 2', 'sync']);
    });

    it('a TLBI of ASID 2 makes the SMMU fetch the shared tables again: a PTE never cleaned is a stale fetch there', () => {
      // A raw store leaves the level-3 entry dirty in the CPU's cache (the SMMU is not coherent).
      const lines = [...shared(), 'store pte_addr(d1, 0x1000_1000, 3) 0', 'tlbi asid 2', 'sync'];
      const c = check(lines);
      const stale = ofRule(c, 'stale-fetch').map((h) => [h.range.start.line, h.message]);
      assert.equal(stale.length, 1, summary(c));
      assert.equal(stale[0][0], lineOf(lines, 'sync'));
      assert.match(String(stale[0][1]), /ASID 0x2|ASID 2/);
    });
  });

  describe('re-mapping an entry while its old translation is pending', () => {
    it('to another page: flagged at the map (the device could see either)', () => {
      flaggedOnce([...S1, 'unmap d1 0x1000_1000 noflush', 'map d1 0x1000_1000 -> 0x9_0000_0000', 'tlbi asid 1', 'sync'], 'map d1 0x1000_1000 -> 0x9_0000_0000',
        ['translated → 0x800001000', 'writes the entry again (now mapping 0x900000000', 'the device could see either']);
      clean([...S1, 'unmap d1 0x1000_1000', 'map d1 0x1000_1000 -> 0x9_0000_0000']);
    });

    it('to the same page: memory gives again what the SMMU may hold, nothing is stale', () => {
      clean([...S1, 'unmap d1 0x1000_1000 noflush', 'map d1 0x1000_1000 -> 0x8_0000_1000']);
    });
  });

  describe('changes in place', () => {
    // Page 1's PTE as io-pgtable writes it: 0x0060_0008_0000_1f47 (AP[2]=0: writable).
    // Setting AP[2] (bit 7, 0x80) makes it read-only: 0x...1fc7.
    const head = [...S1, 'const PTE = pte_addr(d1, 0x1000_1000, 3)', 'expect mem PTE == 0x0060_0008_0000_1f47'];

    it('fewer permissions (read-only now) is flagged', () => {
      flaggedOnce([...head, 'store PTE 0x0060_0008_0000_1fc7', 'clean PTE 8', 'dsb'], 'dsb', ['(fewer permissions)', 'translated → 0x800001000']);
    });

    it('more permissions only is not: the cached entry is merely stricter', () => {
      clean([...head, 'store PTE 0x0060_0008_0000_1fc7', 'clean PTE 8', 'dsb', 'tlbi va 0x1000_1000 asid=1 leaf', 'sync',
        'store PTE 0x0060_0008_0000_1f47', 'clean PTE 8', 'dsb']);
    });
  });

  describe('a table descriptor cleared (the walk cache may hold it)', () => {
    // A level-3 table built by hand for the 2M region at 0x1020_0000 (as in example 12): one page
    // at index 0 → 0x8_0020_0000, linked from d1's level-2 table, then unlinked.
    const build = ['alloc ptb 4K cacheable', 'store ptb 0x0060_0008_0020_0f47', 'clean ptb 8', 'dsb',
      'const L2 = pte_addr(d1, 0x1020_0000, 2)', 'store L2 ptb | 3', 'clean L2 8', 'dsb', 'store L2 0', 'clean L2 8', 'dsb'];

    it('a Leaf=1 TLBI drops the translation below but not the cached table descriptor: flagged at the free of the table', () => {
      const bad = [...S1, ...build, 'tlbi va 0x1020_0000 asid=1 leaf', 'sync', 'free ptb'];
      const m = flaggedOnce(bad, 'free ptb', ['IOVA [0x10200000, 0x10400000) (stage 1, ASID 1, VMID 0) was walked through a level-2 table descriptor → level-3 table',
        "'ptb'", 'holding the old table', 'the table descriptor itself in the walk cache (only a Leaf=0 TLBI drops it)', 'Leaf=0', 'io_pgtable_tlb_flush_walk']);
      // Only the descriptor is left out: the one valid page below it was covered.
      assert.ok(!m.includes('translations below it'), m);
    });

    it('a Leaf=0 TLBI of the one page the old table mapped covers both; the free is clean', () => {
      // The walk-cache entry (level 2, the 2M span holding 0x1020_0000) and the only leaf the
      // old table held, [0x1020_0000, 0x1020_1000).
      clean([...S1, ...build, 'tlbi va 0x1020_0000 asid=1', 'sync', 'free ptb']);
    });

    it('with a second page in the old table, a Leaf=0 TLBI of the first page leaves the second out', () => {
      // Index 2 → 0x8_0020_2000 covers [0x1020_2000, 0x1020_3000). A non-leaf range TLBI of one 4K
      // page has TTL=0, where NUM=SCALE=0 is illegal, so the driver covers two pages (NUM 0,
      // SCALE 1): [0x1020_0000, 0x1020_2000), which still misses index 2. 12K: 3 pages (NUM 2).
      const two = ['alloc ptb 4K cacheable', 'store ptb 0x0060_0008_0020_0f47', 'store ptb + 16 0x0060_0008_0020_2f47', 'clean ptb 24', 'dsb',
        ...build.slice(4)];
      flaggedOnce([...S1, ...two, 'tlbi va 0x1020_0000 asid=1', 'sync'], 'sync', ['translations below it in [0x10202000, 0x10203000)']);
      clean([...S1, ...two, 'tlbi va 0x1020_0000 size=12K asid=1', 'sync']);
    });
  });

  it('stage 2: TLBI_S2_IPA of the VMID covers it, a stage-1 TLBI does not', () => {
    const g = [...HEAD, 'domain g1 stage=2', 'map g1 0x1000_0000 -> 0x9_0000_0000', 'attach 6 s2 g1 vmid=3', 'unmap g1 0x1000_0000 noflush'];
    flaggedOnce([...g, 'tlbi asid 1', 'sync'], 'sync', ['IPA [0x10000000, 0x10001000) (stage 2, VMID 3) translated → 0x900000000', 'CMD_TLBI_S2_IPA VMID 3 0x10000000 Leaf=1']);
    clean([...g, 'tlbi ipa 0x1000_0000 vmid=3 leaf', 'sync']);
  });

  it('a restored run puts the pending changes back', () => {
    // Stop after the unmap, take a snapshot, run on (the TLBI + CMD_SYNC clear the item), go
    // back and end there: the item is pending again and reported at the end.
    const lines = [...S1, 'unmap d1 0x1000_1000 noflush', 'tlbi asid 1', 'sync'];
    const c = check(lines);
    assert.deepEqual(found(c), [], summary(c));
    const s = c.session;
    // A fresh session of the same program, stepped by statements.
    const again = new (s.constructor as new (p: typeof s.program) => typeof s)(s.program);
    const unmap = lineOf(lines, 'unmap d1 0x1000_1000 noflush');
    while (!again.runner.done && again.runner.current!.range.start.line <= unmap) again.runner.runStatement();
    const snap = again.snapshot();
    again.runner.runToEnd();
    assert.equal(again.hazards.filter((h) => h.rule === 'missing-tlbi').length, 0);
    again.restore(snap);
    assert.equal(again.checker!.hazards.length, snap.hazards);
    again.checker!.finish();
    assert.equal(again.hazards.filter((h) => h.rule === 'missing-tlbi').length, 1);
  });
});

/**
 * The coverage rules on their own, for regimes the scenario statements do not build (EL2
 * streams, nested STEs): a level-3 table whose entry 1 maps [0x1000_1000, 0x1000_2000) is
 * cleared, then commands are fed as the SMMU consumes them.
 */
describe('check/missing-tlbi coverage', () => {
  const PAGE = 0x0060_0008_0000_1f47n; // valid page → 0x8_0000_1000, nG=1
  const GLOBAL = 0x0060_0008_0000_1747n; // the same with nG=0
  const host = (e2h = false): CheckHost => ({
    machine: { smmu: { read: (r: string) => (r === 'CR2' && e2h ? 1n : 0n) } } as unknown as Machine,
    step: 0, op: 0, traffic: () => [], note: () => undefined,
  });
  const table = (t: Partial<ReachableTable>): ReachableTable => ({
    kind: 'pgtable', base: 0x4000_0000, entrySize: 8, entries: 512, path: 'test', stage: 1, granule: 4, level: 3, inputBase: 0x1000_0000, asid: 1, vmid: 0, ...t,
  });
  const va = (op: 'NH_VA' | 'EL2_VA' | 'EL2_VAA' | 'NH_VAA' | 'S2_IPA', f: Record<string, number>): TlbiCommand =>
    ({ op, vmid: 0, asid: 0, addr: 0x1000_1000n, leaf: true, tg: 0, num: 0, scale: 0, ttl: 0, ...f } as unknown as TlbiCommand);

  /** Clear entry 1 of `t` (old value `old`), feed `cmds`, sync, end: the messages reported. */
  function after(t: ReachableTable, old: bigint, cmds: TlbiCommand[], e2h = false): string[] {
    const out: string[] = [];
    const r = new MissingTlbi({ host: host(e2h), report: (m) => out.push(m), ignored: () => 0n });
    r.onChange(t, 1, 0x4000_0008, old, 0n);
    for (const c of cmds) r.onTlbi(c);
    r.onSync();
    r.finish();
    return out;
  }

  it('stage 1, EL1: NH_VA of its ASID covers it; another ASID, an EL2 command or NH_ASID for a global page do not', () => {
    assert.deepEqual(after(table({}), PAGE, [va('NH_VA', { asid: 1 })]), []);
    assert.equal(after(table({}), PAGE, [va('NH_VA', { asid: 2 })]).length, 1);
    assert.equal(after(table({}), PAGE, [{ op: 'EL2_ALL' }]).length, 1);
    assert.equal(after(table({}), GLOBAL, [{ op: 'NH_ASID', vmid: 0, asid: 1 }]).length, 1);
    assert.deepEqual(after(table({}), GLOBAL, [va('NH_VAA', {})]), []);
    // Another VMID (the STE's S2VMID tags stage-1 entries too).
    assert.equal(after(table({ vmid: 3 }), PAGE, [va('NH_VA', { asid: 1 })]).length, 1);
    assert.deepEqual(after(table({ vmid: 3 }), PAGE, [va('NH_VA', { asid: 1, vmid: 3 })]), []);
  });

  it('a range TLBI covers it only with the granule of its tables and a TTL of its level (or none)', () => {
    // TG=1 (4K), NUM=0, SCALE=0: one 4K page at 0x1000_1000. TTL 3 is the level of the page; TTL 2 is not.
    assert.deepEqual(after(table({}), PAGE, [va('NH_VA', { asid: 1, tg: 1, ttl: 3 })]), []);
    assert.equal(after(table({}), PAGE, [va('NH_VA', { asid: 1, tg: 1, ttl: 2 })]).length, 1);
    // TG=3 (64K) against 4K tables.
    assert.equal(after(table({}), PAGE, [va('NH_VA', { asid: 1, tg: 3 })]).length, 1);
  });

  it('an EL2 stream without E2H has no ASIDs: EL2_VA of any ASID covers it, NH_VA does not', () => {
    const t = table({ el2: true });
    assert.deepEqual(after(t, PAGE, [va('EL2_VA', { asid: 7 })]), []);
    assert.equal(after(t, PAGE, [va('NH_VA', { asid: 1 })]).length, 1);
    const m = after(t, PAGE, [])[0];
    assert.ok(m.includes('(stage 1, EL2)') && m.includes('CMD_TLBI_EL2_VAA'), m);
    // With E2H the entries are ASID 1's: EL2_VA of ASID 7 does not cover it, of ASID 1 it does.
    assert.equal(after(t, PAGE, [va('EL2_VA', { asid: 7 })], true).length, 1);
    assert.deepEqual(after(t, PAGE, [va('EL2_VA', { asid: 1 })], true), []);
  });

  it('stage 2 of a nested STE also needs the combined entries dropped (NH_ALL or S12_VMALL of its VMID)', () => {
    const t = table({ stage: 2, asid: undefined, vmid: 3, nested: true });
    const ipa = va('S2_IPA', { vmid: 3 });
    const m = after(t, PAGE, [ipa]);
    assert.equal(m.length, 1);
    assert.ok(m[0].includes('the combined stage-1+2 entries'), m[0]);
    assert.deepEqual(after(t, PAGE, [ipa, { op: 'NH_ALL', vmid: 3 }]), []);
    assert.equal(after(t, PAGE, [ipa, { op: 'NH_ALL', vmid: 4 }]).length, 1);
    assert.deepEqual(after(t, PAGE, [{ op: 'S12_VMALL', vmid: 3 }]), []);
    // Not nested: TLBI_S2_IPA alone is enough.
    assert.deepEqual(after(table({ stage: 2, asid: undefined, vmid: 3 }), PAGE, [ipa]), []);
  });

  it('a TLBI consumed before the change does not count; one after it, completed by a later CMD_SYNC, does', () => {
    const out: string[] = [];
    const r = new MissingTlbi({ host: host(), report: (m) => out.push(m), ignored: () => 0n });
    r.onTlbi(va('NH_VA', { asid: 1 }));
    r.onChange(table({}), 1, 0x4000_0008, PAGE, 0n);
    r.onSync();
    assert.equal(r.size, 1);
    r.onTlbi(va('NH_VA', { asid: 1 }));
    assert.equal(r.size, 1, 'pending until the CMD_SYNC');
    r.onSync();
    assert.equal(r.size, 0);
    r.finish();
    assert.deepEqual(out, []);
  });
});
