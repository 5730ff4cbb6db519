/**
 * Properties of the hazard checker, with fast-check (run counts are modest to keep the
 * check suite within about 20 s; each run is a whole scenario with the checker on):
 *  (i)   through the kernel's entry writer, every transition between two STE
 *        configurations the builders make is free of torn updates (coherent and
 *        non-coherent SMMU, CD tables in cacheable memory cleaned as the writer requires,
 *        DMA running on the stream and a substream) — 50 runs;
 *  (ii)  the same target written qword by qword in place (WRITE_ONCE stores, then
 *        CFGI_STE + CMD_SYNC) is flagged exactly when two or more qwords change in bits
 *        the configurations use, by the kernel's used-bits rules written out here by hand
 *        — 50 runs;
 *  (iii) a PTE written with one atomic store + clean + DSB is clean; a plain store that
 *        may tear is flagged (torn-store when a torn value is valid, torn-update when a
 *        torn value translates to what neither end gives: another address, or the same
 *        address with other permissions or attributes) — 100 runs;
 *  (iv)  the set bound is honoured and reported — 50 runs, and once through the CLI.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli } from '../../src/cli/cli';
import { steAddress } from '../../src/model/locate';
import { Machine } from '../../src/model/machine';
import { check, Checked, ofRule, summary } from './scenario';

const hex = (n: bigint | number): string => '0x' + n.toString(16);

// ---------------------------------------------------------------------------------------
// STE configurations, as `ste 5 <- ...` targets. StreamID 5 has a 2-level CD table of
// 2^11 CDs (CD 0: d1, CD 1: d3), StreamID 6 a linear one of 1 CD (d2); both in cacheable
// memory, which the driver cleans after each step on a non-coherent SMMU.

const CONFIGS = [
  'abort', 'bypass',
  's1', 's1 ats=yes', 's1 s1dss=bypass', 's1 s1dss=terminate', 's1 s1dss=bypass ats=yes',
  's1 cdtable=cd_addr(6, 0) fmt=linear ssids=0', 's1 cdtable=cd_addr(6, 0) fmt=linear ssids=0 ats=yes',
  's2 g1', 's2 g1 ats=yes', 's2 g2', 's2 g2 ats=yes',
];

function prefix(coherent: boolean, attrOvr: boolean): string[] {
  return [
    `platform coherent=${coherent ? 'yes' : 'no'}`,
    `smmu sidsize=8 attr_types_ovr=${attrOvr ? 'yes' : 'no'}`,
    'smmu init strtab=linear',
    'domain d1 stage=1', 'domain d2 stage=1', 'domain d3 stage=1', 'domain g1 stage=2', 'domain g2 stage=2',
    'map d1 0x1000_0000 -> 0x8_0000_0000', 'map d2 0x1000_0000 -> 0xa_0000_0000', 'map d3 0x1000_0000 -> 0xb_0000_0000',
    'map g1 0x1000_0000 -> 0x9_0000_0000', 'map g2 0x1000_0000 -> 0xc_0000_0000',
    'attach 6 s1 d2 cd_mem=cacheable',
    'attach 5 s1 d1 ssids=11 cd_mem=cacheable',
    'cd 5:1 <- s1 d3',
    // VMIDs in a fixed order (g1: 1, g2: 2), so each configuration has the same words in every run.
    'attach 7 s2 g1', 'attach 8 s2 g2',
  ];
}

const TRAFFIC = ['traffic dev 5 read 0x1000_0000', 'traffic sub 5:1 read 0x1000_0000'];

function ste(m: Machine, sid: number): bigint[] {
  const a = steAddress(m, sid);
  assert.ok('addr' in a);
  return Array.from({ length: 8 }, (_, i) => m.load((a as { addr: number }).addr + 8 * i, 8));
}

const transition = fc.record({
  coherent: fc.boolean(),
  attrOvr: fc.boolean(),
  from: fc.constantFrom(...CONFIGS),
  to: fc.constantFrom(...CONFIGS),
});

/** Through the writer: prefix, `ste 5 <- from`, DMA on 5 and 5:1, `ste 5 <- to`. */
function viaWriter(t: { coherent: boolean; attrOvr: boolean; from: string; to: string }): { c: Checked; lines: string[] } {
  const lines = [...prefix(t.coherent, t.attrOvr), `ste 5 <- ${t.from}`, ...TRAFFIC, `ste 5 <- ${t.to}`];
  return { c: check(lines), lines };
}

/**
 * The words of each configuration on each platform, as the writer leaves them in StreamID
 * 5's STE: one run per platform setting them one after another.
 */
const WORDS = new Map<string, bigint[]>();
const wordsKey = (coherent: boolean, attrOvr: boolean, config: string): string => `${coherent}:${attrOvr}:${config}`;

function learnWords(): void {
  for (const coherent of [false, true]) {
    for (const attrOvr of [false, true]) {
      const head = prefix(coherent, attrOvr);
      check([...head, ...CONFIGS.map((k) => `ste 5 <- ${k}`)], {}, (line, m) => {
        if (line > head.length) WORDS.set(wordsKey(coherent, attrOvr, CONFIGS[line - head.length - 1]), ste(m, 5));
      });
    }
  }
}

// ---------------------------------------------------------------------------------------
// The kernel's STE used-bits rules (arm_smmu_get_ste_used, arm_smmu_get_ste_update_safe),
// written out from the field positions in smmuv3-facts.md §2 and §6, independently of
// src/driver/entryWriter.ts.

const bits = (hi: number, lo: number): bigint => ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
const Q0 = { V: bits(0, 0), CONFIG: bits(3, 1), S1FMT: bits(5, 4), S1CTXPTR: bits(51, 6), S1CDMAX: bits(63, 59) };
const Q1 = {
  S1DSS: bits(1, 0), S1CIR: bits(3, 2), S1COR: bits(5, 4), S1CSH: bits(7, 6), MEV: bits(19, 19), S2FWB: bits(25, 25),
  S1STALLD: bits(27, 27), EATS: bits(29, 28), STRW: bits(31, 30), SHCFG: bits(45, 44),
};
const Q2 = { S2VMID: bits(15, 0), VTCR: bits(50, 32), S2AA64: bits(51, 51), S2ENDI: bits(52, 52), S2PTW: bits(54, 54), S2S: bits(57, 57), S2R: bits(58, 58) };
const Q3 = { S2TTB: bits(51, 4) };

function steUsed(w: readonly bigint[]): bigint[] {
  const u = [Q0.V, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
  if ((w[0] & Q0.V) === 0n) return u;
  u[0] |= Q0.CONFIG;
  const cfg = (w[0] & Q0.CONFIG) >> 1n;
  if ((cfg & 1n) !== 0n) {
    // Stage 1: the CD table, its fetch attributes, S1DSS, S1STALLD, STRW, EATS, MEV; S2VMID; SHCFG with S1DSS=BYPASS.
    u[0] |= Q0.S1FMT | Q0.S1CTXPTR | Q0.S1CDMAX;
    u[1] |= Q1.S1DSS | Q1.S1CIR | Q1.S1COR | Q1.S1CSH | Q1.S1STALLD | Q1.STRW | Q1.EATS | Q1.MEV;
    u[2] |= Q2.S2VMID;
    if ((w[1] & Q1.S1DSS) === 1n) u[1] |= Q1.SHCFG;
  }
  if ((cfg & 2n) !== 0n) {
    u[1] |= Q1.S2FWB | Q1.EATS | Q1.SHCFG | Q1.MEV;
    u[2] |= Q2.S2VMID | Q2.VTCR | Q2.S2AA64 | Q2.S2ENDI | Q2.S2PTW | Q2.S2S | Q2.S2R;
    u[3] |= Q3.S2TTB;
  }
  if (cfg === 4n) u[1] |= Q1.SHCFG; // BYPASS
  return u;
}

/** MEV always; EATS's TRANS bit (bit 28) unless either entry has EATS's S1CHK bit (29) or S2S. */
function steSafe(a: readonly bigint[], b: readonly bigint[]): bigint[] {
  const safe = [0n, Q1.MEV, 0n, 0n, 0n, 0n, 0n, 0n];
  const s1chk = ((a[1] | b[1]) & (1n << 29n)) !== 0n;
  const s2s = ((a[2] | b[2]) & Q2.S2S) !== 0n;
  if (!s1chk && !s2s) safe[1] |= 1n << 28n;
  return safe;
}

/** The qwords that change in bits either configuration uses (update-safe bits both use aside). */
function usedChanges(a: readonly bigint[], b: readonly bigint[]): number[] {
  const ua = steUsed(a);
  const ub = steUsed(b);
  const safe = steSafe(a, b);
  return a.map((_, i) => i).filter((i) => ((a[i] ^ b[i]) & (ua[i] | ub[i]) & ~(safe[i] & ua[i] & ub[i])) !== 0n);
}

// ---------------------------------------------------------------------------------------
// Stage-1 level-3 page descriptors for a read by an unprivileged device, worked out by hand:
// bits [1:0] = 0b11 a page (anything else at level 3 faults F_TRANSLATION), AF (bit 10) or
// F_ACCESS (the CD has no HA), AP[1] (bit 6) or F_PERMISSION for an unprivileged access,
// then the output address is bits [47:12].

function pteOutcome(pte: bigint, offset: bigint): string {
  if ((pte & 3n) !== 3n) return 'F_TRANSLATION';
  if ((pte & (1n << 10n)) === 0n) return 'F_ACCESS';
  if ((pte & (1n << 6n)) === 0n) return 'F_PERMISSION';
  // A translation is the address and what it grants: AttrIndx [4:2], AP [7:6], SH [9:8], PXN/UXN [54:53].
  const grants = pte & (bits(4, 2) | bits(7, 6) | bits(9, 8) | bits(54, 53));
  return `${hex((pte & bits(47, 12)) + offset)} ${hex(grants)}`;
}

/** Every value a store of `after` over `before` shows half done, in `unit`-byte parts (not the ends). */
function halfDone(before: bigint, after: bigint, unit: number): bigint[] {
  const parts = [];
  for (let off = 0; off < 8; off += unit) {
    const m = bits(off * 8 + unit * 8 - 1, off * 8);
    if ((before & m) !== (after & m)) parts.push(m);
  }
  const out: bigint[] = [];
  for (let s = 1; s < 2 ** parts.length - 1; s++) {
    out.push(parts.reduce((v, m, i) => ((s >> i) & 1 ? (v & ~m) | (after & m) : v), before));
  }
  return out;
}

// ---------------------------------------------------------------------------------------

describe('check/properties', function () {
  this.timeout(60_000);

  it('(i) through the entry writer, no STE transition is a torn update', () => {
    const paths = new Set<string>();
    fc.assert(fc.property(transition, (t) => {
      const { c, lines } = viaWriter(t);
      const errors = c.hazards.filter((h) => h.severity === 'error');
      assert.deepEqual(errors.map((h) => `line ${h.range.start.line}: ${h.rule}: ${h.message}`), [], 'no error of any rule');
      // The writer's breaking path (V=0 first) is a warning of its own: traffic faults meanwhile.
      const update = c.session.runner.results.updates.at(-1)!;
      assert.equal(update.range.start.line, lines.length);
      const warned = ofRule(c, 'torn-update').filter((h) => h.range.start.line === lines.length);
      assert.ok(warned.every((h) => /not hitless/.test(h.message)), summary(c));
      assert.equal(warned.length > 0, update.path === 'breaking', `${update.path} update; found:\n${summary(c)}`);
      paths.add(update.path);
    }), { numRuns: 50 });
    assert.ok(paths.has('breaking') && paths.has('hitless'), `the runs cover the writer's hitless and breaking paths: ${[...paths]}`);
  });

  it('(ii) written in place qword by qword, flagged exactly when two or more used qwords change', () => {
    learnWords();
    const outcomes = new Set<boolean>();
    fc.assert(fc.property(transition, (t) => {
      const before = WORDS.get(wordsKey(t.coherent, t.attrOvr, t.from))!;
      const after = WORDS.get(wordsKey(t.coherent, t.attrOvr, t.to))!;
      const stores = before.flatMap((w, i) => (w === after[i] ? [] : [`store ste_addr(5) + ${8 * i} ${hex(after[i])}`]));
      const head = [...prefix(t.coherent, t.attrOvr), `ste 5 <- ${t.from}`, ...TRAFFIC];
      const lines = [...head, ...stores, 'cfgi ste 5 leaf', 'sync'];
      const seen: bigint[][] = [];
      const c = check(lines, {}, (line, m) => {
        if (line === head.length - TRAFFIC.length || line === lines.length) seen.push(ste(m, 5));
      });
      assert.deepEqual(seen, [before, after], 'the STE holds the learnt words before and after');
      const torn = ofRule(c, 'torn-update').filter((h) => h.range.start.line > head.length);
      const used = usedChanges(before, after);
      assert.equal(torn.length > 0, used.length >= 2,
        `qwords changing used bits: [${used.join(', ')}] of ${before.map(hex).join(' ')} -> ${after.map(hex).join(' ')}; found:\n${summary(c)}`);
      outcomes.add(torn.length > 0);
    }), { numRuns: 50 });
    assert.equal(outcomes.size, 2, 'the runs include flagged and clean transitions');
  });

  it('(iii) a PTE: one atomic store + clean + DSB is clean; a plain store that may tear is flagged', () => {
    const pte = fc.record({
      coherent: fc.boolean(),
      // A 4K page below 4G (above the first 64K), or anywhere up to 2^48.
      page: fc.oneof(fc.bigInt(0x10n, 0xf_ffffn), fc.bigInt(0x10_0000n, (1n << 36n) - 1n)),
      unit: fc.constantFrom(8, 4, 2, 1),
    });
    const seen = new Set<string>();
    fc.assert(fc.property(pte, ({ coherent, page, unit }) => {
      const pa = page << 12n;
      // io-pgtable's read-write cacheable page: XN (0x0060 << 48) | PA | 0xf47 (page, AttrIndx 1, AP[1], SH=IS, AF, nG).
      const value = 0x0060_0000_0000_0f47n | pa;
      const store = `store PTE ${hex(value)}${unit < 8 ? ` plain split=${unit}` : ''}`;
      const lines = [
        `platform coherent=${coherent ? 'yes' : 'no'}`, 'smmu sidsize=8', 'smmu init strtab=linear',
        'domain d1 stage=1', 'map d1 0x1000_0000 -> 0x8_0000_0000', 'attach 5 s1 d1',
        'const PTE = pte_addr(d1, 0x1000_1000, 3)',
        'traffic dev 5 read 0x1000_1040',
        store, 'clean PTE 8', 'dsb',
        `expect dma 5 read 0x1000_1040 -> ${hex(pa + 0x40n)}`,
      ];
      const c = check(lines);
      const at = lines.indexOf(store) + 1;
      if (unit === 8) {
        assert.deepEqual(c.hazards.map((h) => `${h.rule}: ${h.message}`), []);
        return;
      }
      const tears = halfDone(0n, value, unit);
      const ends = new Set([pteOutcome(0n, 0x40n), pteOutcome(value, 0x40n)]);
      const tornStore = tears.some((v) => (v & 1n) === 1n);
      const tornUpdate = tears.some((v) => !ends.has(pteOutcome(v, 0x40n)));
      assert.equal(ofRule(c, 'torn-store').some((h) => h.range.start.line === at), tornStore, summary(c));
      assert.equal(ofRule(c, 'torn-update').some((h) => h.range.start.line === at && h.severity === 'error'), tornUpdate, summary(c));
      seen.add(`${tornStore}:${tornUpdate}`);
      // Nothing else: the clean and the DSB are there.
      assert.deepEqual(c.hazards.filter((h) => h.rule !== 'torn-store' && h.rule !== 'torn-update').map((h) => h.message), []);
    }), { numRuns: 100 });
    // Every valid tear is harmful here: even below 4G, where a 4-byte tear keeps the address, the
    // low half alone lacks PXN/UXN (bits 54:53, in the high half) and grants execute, which neither end does.
    assert.deepEqual([...seen].sort(), ['true:true'], 'plain stores whose valid tears all translate as neither end');
  });

  it('(iv) the set bound is honoured and reported', () => {
    const input = fc.record({
      coherent: fc.boolean(),
      bound: fc.integer({ min: 1, max: 40 }),
      // Which of the PTE's bytes 2..7 are non-zero (bytes 0 and 1 always: a valid page with AF).
      bytes: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    });
    fc.assert(fc.property(input, ({ coherent, bound, bytes }) => {
      // A valid page descriptor with AF (0x447: byte 0 0x47, byte 1 0x04) plus 0x11 in each
      // chosen byte 2..7 (address and attribute bits).
      let value = 0x447n;
      bytes.forEach((on, i) => {
        if (on) value |= 0x11n << BigInt(8 * (i + 2));
      });
      const changed = 2 + bytes.filter((b) => b).length;
      // Each changed byte seen or not: 2^changed values the SMMU could read.
      const total = 2 ** changed;
      const lines = [
        `platform coherent=${coherent ? 'yes' : 'no'}`, 'smmu sidsize=8', 'smmu init strtab=linear',
        'domain d1 stage=1', 'map d1 0x1000_0000 -> 0x8_0000_0000', 'attach 5 s1 d1',
        'const PTE = pte_addr(d1, 0x1000_1000, 3)', 'traffic dev 5 read 0x1000_1000',
        `store PTE ${hex(value)} plain split=1`,
      ];
      const c = check(lines, { bound });
      const reports = ofRule(c, 'set-bound');
      assert.equal(reports.length > 0, total > bound, `bound ${bound}, ${total} values; found:\n${summary(c)}`);
      for (const h of reports) {
        const m = /has at least (\d+) values .*only the first (\d+) were judged/.exec(h.message);
        assert.ok(m, h.message);
        const [least, judged] = [Number(m[1]), Number(m[2])];
        assert.equal(judged, bound, 'exactly the bound was judged');
        assert.ok(least > bound && least <= total, `at least ${least}: more than the bound ${bound}, at most the ${total} there are`);
        assert.equal(h.range.start.line, lines.length);
      }
    }), { numRuns: 50 });
  });

  it('(iv) the CLI\'s --bound reaches the checker and the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smmu-check-'));
    try {
      const file = join(dir, 'bound.smmu');
      writeFileSync(file, ['smmu sidsize=8', 'smmu init strtab=linear', 'domain d1 stage=1', 'map d1 0x1000_0000 -> 0x8_0000_0000', 'attach 5 s1 d1',
        'traffic dev 5 read 0x1000_1000', 'store pte_addr(d1, 0x1000_1000, 3) 0x0060_0008_0000_1f47 plain split=1'].join('\n') + '\n');
      const run = async (...args: string[]): Promise<{ rule: string; message: string }[]> => {
        let out = '';
        await runCli(['run', file, '--json', ...args], { out: (t) => { out += t + '\n'; }, err: () => undefined });
        return JSON.parse(out)[0].hazards;
      };
      // 4 changed bytes (0x47, 0x1f, 0x08, 0x60): 16 values.
      const small = (await run('--bound', '8')).filter((h) => h.rule === 'set-bound');
      assert.equal(small.length, 1);
      assert.match(small[0].message, /at least 16 values .*only the first 8 were judged/);
      assert.deepEqual((await run('--bound', '16')).filter((h) => h.rule === 'set-bound'), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
