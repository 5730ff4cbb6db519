/**
 * Fuzz targets for the SMMU model over random tables: real tables (from the examples and
 * the dump fixture) with random qwords overwritten and random registers, then every way
 * the SMMU and the tools walk them — DMA translations (configuration fetches, stage 1,
 * stage 2, nested, the TLB), probes with overlays (the checker's way), the command queue,
 * the locators (`ste_addr`, `cd_addr`, `pte_addr`), the reachability walk, the debugger's
 * variable tree, walk pictures and evaluate, and the dump inspector. A walk may fault; it
 * may not throw, and every address it gives is a physical address.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { STE } from '../../src/arch/ste';
import { Reachability } from '../../src/check/reach';
import { evaluateDebug } from '../../src/debug/evaluate';
import { walkPictures } from '../../src/debug/pictures';
import { scopes, Var } from '../../src/debug/variables';
import { inspect } from '../../src/dump/inspect';
import { inspectionJson, inspectionText } from '../../src/dump/report';
import { DumpError } from '../../src/dump/source';
import { cdAddress, pteAddress, steAddress } from '../../src/model/locate';
import { Machine } from '../../src/model/machine';
import type { TranslateResult } from '../../src/model/smmu/smmu';
import type { Transaction } from '../../src/model/smmu/types';
import { Env } from '../../src/scenario/expr';
import { expectOnly, fuzz, selected, word64 } from './harness';
import { corrupted, corruption, pagesDump, registerPoke, Seed, seeds } from './machines';

const MAX_PA = 2 ** 52;

/** A transaction: StreamIDs and input addresses the seed uses, or random ones. */
const txArb = fc.record({
  sid: fc.oneof(fc.nat({ max: 15 }), fc.nat({ max: 0xffff_ffff }), fc.nat()), // an index into the seed's StreamIDs, or a StreamID
  pick: fc.boolean(),
  ssid: fc.option(fc.oneof(fc.nat({ max: 3 }), fc.nat({ max: 0xf_ffff })), { nil: undefined }),
  iova: fc.oneof(fc.nat(), word64(), fc.bigInt({ min: 0n, max: 1n << 48n })),
  iovaPick: fc.boolean(),
  access: fc.constantFrom('read', 'write', 'exec') as fc.Arbitrary<Transaction['access']>,
  priv: fc.boolean(),
});
type TxArb = typeof txArb extends fc.Arbitrary<infer T> ? T : never;

function tx(seed: Seed, t: TxArb): Transaction {
  const sid = t.pick ? seed.sids[t.sid % seed.sids.length] : t.sid % 2 ** 32;
  const iova = t.iovaPick ? seed.iovas[Number(BigInt(t.iova) % BigInt(seed.iovas.length))] + (BigInt(t.iova) & 0xfffn) : BigInt.asUintN(64, BigInt(t.iova));
  return { sid, ssid: t.ssid, iova, access: t.access, priv: t.priv };
}

function checkResult(r: TranslateResult): void {
  assert.ok(['ok', 'bypass', 'abort', 'fault'].includes(r.outcome));
  assert.ok(typeof r.reason === 'string' && r.reason.length > 0);
  if (r.outcome === 'ok' || r.outcome === 'bypass') {
    assert.ok(Number.isSafeInteger(r.pa) && r.pa! >= 0 && r.pa! < MAX_PA, `output address ${r.pa} outside the physical address space: ${r.reason}`);
  }
  if (r.outcome === 'fault') assert.ok(r.event && r.event.words.length === 4);
  // A walk reads at most 4 levels of stage 1, each through at most 4 levels of stage 2, plus the final stage 2.
  assert.ok(r.walk.length <= 25, `${r.walk.length} walk steps`);
  for (const w of r.walk) assert.ok(Number.isSafeInteger(w.descAddr) && w.descAddr >= 0 && w.descAddr < MAX_PA, `descriptor address ${w.descAddr}`);
  for (const c of r.config) assert.ok(Number.isSafeInteger(c.addr) && c.addr >= 0 && c.addr < MAX_PA, `${c.what} address ${c.addr}`);
}

const envFor = (m: Machine): Env => ({
  constant: () => undefined, region: (n) => m.region(n), domain: () => undefined, fn: () => undefined, names: () => [],
});

/** Expand the debugger's variable tree along random paths (as a client pages through it). */
function expand(v: Var, choices: readonly number[], depth: number, budget: { n: number }): void {
  assert.equal(typeof v.name, 'string');
  assert.equal(typeof v.value, 'string');
  if (!v.children || depth > 7 || budget.n-- <= 0) return;
  const c = choices[depth % choices.length] ?? 0;
  const indexed = v.children.indexed;
  const kids = indexed !== undefined ? v.children.get(c % (indexed + 2), 1 + (c % 50)) : v.children.get(0, 1000);
  if (indexed !== undefined) assert.ok(kids.length <= 1 + (c % 50), 'more children than asked for');
  for (let i = 0; i < Math.min(kids.length, 3); i++) expand(kids[(c + i) % kids.length], choices, depth + 1, budget);
}

const exprArb = fc.tuple(fc.nat(), fc.nat({ max: 3 }), word64(), fc.constantFrom(...STE.fields.map((f) => f.name), 'nope'), fc.string({ maxLength: 12 }), fc.nat({ max: 10 }))
  .map(([sid, ssid, n, field, junk, which]) => [
    `ste[${sid % 300}]`, `ste[${sid}].${field}`, `cd[${sid % 300}][${ssid}]`, `walk(${sid % 300}, 0x${n.toString(16)})`,
    `walk(${sid % 300}, ${ssid}, 0x${n.toString(16)})`, `pte(${sid % 300}, 0x${n.toString(16)})`, `cpu(0x${n.toString(16)})`,
    `smmu(0x${(n & ~7n).toString(16)})`, `STRTAB_BASE_CFG.${junk || 'FMT'}`, `decode ste ${n.toString(16)}`, junk,
  ][which]);

const opArb = fc.oneof(
  fc.record({ kind: fc.constant('dma' as const), tx: txArb }),
  fc.record({ kind: fc.constant('probe' as const), tx: txArb, overlay: fc.array(fc.tuple(fc.nat(), fc.nat(), word64()), { maxLength: 4 }), caches: fc.boolean() }),
  fc.record({ kind: fc.constant('locate' as const), tx: txArb, level: fc.integer({ min: -1, max: 4 }), bits: fc.integer({ min: 0, max: 64 }), table: fc.nat() }),
  fc.record({ kind: fc.constant('reach' as const) }),
  fc.record({ kind: fc.constant('tree' as const), choices: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('picture' as const), tx: txArb }),
  fc.record({ kind: fc.constant('evaluate' as const), expr: exprArb }),
  fc.record({ kind: fc.constant('inspect' as const), sid: fc.option(fc.nat({ max: 0x1ff }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('mmio' as const), poke: registerPoke() }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

function perform(seed: Seed, m: Machine, op: Op): void {
  switch (op.kind) {
    case 'dma': checkResult(m.dma(tx(seed, op.tx))); break;
    case 'probe': {
      const overlay = new Map<number, bigint>();
      for (const [t, e, v] of op.overlay) {
        const table = seed.tables[t % Math.max(seed.tables.length, 1)];
        if (table) overlay.set(table.base + (e % (table.entries * table.entrySize / 8)) * 8, v);
      }
      checkResult(m.smmu.probe(tx(seed, op.tx), overlay, op.caches));
      break;
    }
    case 'locate': {
      const t = tx(seed, op.tx);
      for (const view of ['cpu', 'smmu'] as const) {
        for (const l of [steAddress(m, t.sid, view), cdAddress(m, t.sid, t.ssid ?? 0, view)]) {
          if ('error' in l) assert.ok(l.error.length > 0);
          else assert.ok(Number.isSafeInteger(l.addr) && l.addr >= 0, `located at ${l.addr}`);
        }
      }
      const pts = seed.tables.filter((x) => x.kind === 'pgtable');
      const pt = pts[op.table % Math.max(pts.length, 1)];
      if (pt) {
        // The input size comes from a domain the compiler checked; outside the granule's range is a caller's error.
        expectOnly(() => {
          const l = pteAddress(m, pt.base, pt.granule ?? 4, op.bits, pt.stage ?? 1, Number(BigInt.asUintN(52, t.iova)), op.level, 'smmu');
          if ('error' in l) assert.ok(l.error.length > 0);
          else assert.ok(Number.isSafeInteger(l.addr) && l.addr >= 0, `located at ${l.addr}`);
        }, (e) => e instanceof RangeError && /input size|levels/.test(e.message));
      }
      break;
    }
    case 'reach': {
      const r = Reachability.of(m);
      assert.ok(r.all.every((t) => t.entries >= 1 && t.base >= 0));
      break;
    }
    case 'tree': {
      const budget = { n: 60 };
      for (const s of scopes({ machine: m, hazards: [] })) expand(s, op.choices, 0, budget);
      break;
    }
    case 'picture': {
      const p = walkPictures(m, tx(seed, op.tx));
      JSON.stringify(p);
      break;
    }
    case 'evaluate': {
      const r = evaluateDebug(op.expr, { machine: m, env: envFor(m), hazards: [] });
      assert.ok('error' in r ? r.error.length > 0 : typeof r.value === 'string');
      break;
    }
    case 'inspect': {
      const dump = seed.dump ?? pagesDump(m);
      if (!dump) break;
      expectOnly(() => {
        const ins = inspect(m, dump, { sid: op.sid, maxMappings: 2000 });
        inspectionText(ins, dump);
        JSON.stringify(inspectionJson(ins));
      }, (e) => e instanceof DumpError);
      break;
    }
    case 'mmio': {
      const v = op.poke.how === 'set' ? op.poke.value : m.smmu.read(op.poke.name) ^ (1n << BigInt(op.poke.flip));
      m.mmioWrite(op.poke.name, v);
      break;
    }
  }
}

describe('fuzz: SMMU model over random tables', function () {
  // Running the examples to get their tables takes a few seconds, once.
  this.timeout(120_000);
  before(() => {
    if (selected('smmu-walks')) seeds();
  });

  fuzz('smmu-walks', 400, fc.tuple(
    fc.nat(), fc.array(corruption(), { maxLength: 8 }), fc.array(registerPoke(), { maxLength: 2 }), fc.array(opArb, { minLength: 1, maxLength: 6 }),
  ), ([s, cs, regs, ops]) => {
    const all = seeds();
    const seed = all[s % all.length];
    const m = corrupted(seed, cs, regs);
    for (const op of ops) perform(seed, m, op);
  });
});
