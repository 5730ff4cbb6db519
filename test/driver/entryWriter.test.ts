/**
 * The entry writer (arm_smmu_write_entry) against hand-worked transitions. For each one the
 * comment works out, per qword: the current entry's used bits (cu), the target's (tu), the
 * update-safe bits (safe, only where both use them), unused_update = (cur & (cu & ~safe)) |
 * (target & ~(cu & ~safe)), and whether the qword is critical ((unused_update & tu) != target).
 * Expected paths and sync counts are those of the kernel's KUnit tests (arm-smmu-v3-test.c)
 * where the transition exists there.
 *
 * Used masks (hand-computed from the field positions listed in builders.test.ts):
 *   V|Config                        q0 0xf
 *   stage 1 (Config bit 0)          q0 0xf8ffffff_ffffffff (S1Fmt [5:4], S1ContextPtr [55:6], S1CDMax [63:59])
 *                                   q1 0xf80800ff (S1DSS..S1CSH 0xff, MEV 1<<19, S1STALLD 1<<27, EATS 3<<28, STRW 3<<30)
 *                                   q2 0xffff (S2VMID);  + q1 SHCFG 0x00003000_00000000 when S1DSS=BYPASS
 *   stage 2 (Config bit 1)          q1 0x00003000_32080000 (MEV, S2FWB 1<<25, EATS, SHCFG)
 *                                   q2 0x065fffff_0000ffff (VMID, VTCR [50:32] = 0x7ffff<<32, S2AA64 51, S2ENDI 52,
 *                                      S2PTW 54, S2S 57, S2R 58: upper half 0x7ffff|0x80000|0x100000|0x400000|0x2000000|0x4000000)
 *                                   q3 0x00ffffff_fffffff0 (S2TTB [55:4])
 *   bypass                          q1 0x00003000_00000000 (SHCFG)
 *   update-safe (STE)               q1 MEV 0x80000 | EATS TRANS bit 0x10000000 = 0x10080000
 */
import { strict as assert } from 'node:assert';
import { setField } from '../../src/arch/codec';
import { STE } from '../../src/arch/ste';
import {
  abortSte, bypassSte, cdTableSte, CdTableSteOptions, nestedSte, quietCd, s1Cd, S1CdOptions, s2Ste, S2SteOptions,
} from '../../src/driver/builders';
import {
  CD_KIND, EntryKind, EntryWarning, fieldsMask, planUpdate, STE_KIND, UpdatePlan, writeEntry,
} from '../../src/driver/entryWriter';
import { MicroOp } from '../../src/driver/ops';

const w8 = (...words: bigint[]): bigint[] => [...words, ...new Array<bigint>(8 - words.length).fill(0n)];

// ---------------------------------------------------------------------------------------
// Configurations (their words are worked out in builders.test.ts; repeated here by hand)

/** Features as in the KUnit tests: ARM_SMMU_FEAT_STALLS | ARM_SMMU_FEAT_ATTR_TYPES_OVR, an ATS master. */
const S1_OPTS: CdTableSteOptions = {
  cdTable: 0x4800f000, s1fmt: 0, s1cdmax: 4, s1dss: 'ssid0', ats: true,
  stallsSupported: true, masterStalls: false, e2h: false, attrTypesOvr: true,
};
const VTCR = { tsz: 24, sl0: 1, irgn: 1, orgn: 1, sh: 3, tg: 0, ps: 2 };
/** VMID 0 as in the KUnit tests (their S2 domain is zero-initialised). */
const S2_OPTS: S2SteOptions = { vmid: 0, vtcr: VTCR, vttbr: 0x81000000, ats: true, fwb: false, attrTypesOvr: true, stallEnabled: false };

const ABORT = abortSte(); // [0x1]
const BYPASS = bypassSte({ attrTypesOvr: true }); // [0x9, 0x00001000_00000000]
const S1 = cdTableSte(S1_OPTS); // [0x20000000_4800f00b, 0x180000d6, 0]
const S1_DSS_BYPASS = cdTableSte({ ...S1_OPTS, s1dss: 'bypass' }); // q1 0x00001000_180000d5
const S1_OTHER_TABLE = cdTableSte({ ...S1_OPTS, cdTable: 0x48010000 }); // q0 0x20000000_4801000b
const S1_OTHER_TABLE_DSS_BYPASS = cdTableSte({ ...S1_OPTS, cdTable: 0x48010000, s1dss: 'bypass' });
const S1_NO_ATS = cdTableSte({ ...S1_OPTS, ats: false }); // q1 0x080000d6
const S2 = s2Ste(S2_OPTS); // [0xd, 0x00001000_10000000, 0x044a3558_00000000, 0x81000000]
const S2_NO_ATS = s2Ste({ ...S2_OPTS, ats: false }); // q1 0x00001000_00000000
const S2_VMID1 = s2Ste({ ...S2_OPTS, vmid: 1 }); // q2 0x044a3558_00000001
const S2_VMID2 = s2Ste({ ...S2_OPTS, vmid: 2 }); // q2 0x044a3558_00000002
const S2_VMID1_TTB2 = s2Ste({ ...S2_OPTS, vmid: 1, vttbr: 0x82000000 }); // q3 0x82000000
/** Nested, guest S1DSS=BYPASS with ATS: [0x9000000f, 0x00001000_100800d5, 0x044a3558_00000000, 0x81000000]. */
const NESTED = nestedSte({ vste: [0x9000000bn, 0x100000d5n], s2: S2 });
/** Nested, guest S1DSS=SSID0 | S1STALLD | ATS (vSTE q1 0x180000d6): q1 0x00001000_10000000 | 0x080000d6 | 0x80000 = 0x00001000_180800d6. */
const NESTED_SSID0 = nestedSte({ vste: [0x9000000bn, 0x180000d6n], s2: S2 });

const STE_ADDR = 0x40000040; // SID 1 of a stream table at 0x40000000
const CD_ADDR = 0x48010040; // SSID 1 of a CD table at 0x48010000

// ---------------------------------------------------------------------------------------
// Running writeEntry with a fake context: memory is a Map of qwords, sync yields a note.

type Trace = ([number, bigint] | 'sync')[];

function run(kind: EntryKind, addr: number, cur: readonly bigint[], target: readonly bigint[]) {
  const mem = new Map<number, bigint>();
  cur.forEach((w, i) => mem.set(addr + 8 * i, w));
  const ops: MicroOp[] = [];
  const gen = writeEntry(kind, addr, target, {
    read: (a) => mem.get(a) ?? 0n,
    *sync() {
      yield { op: 'note', text: 'sync' };
    },
  });
  let next = gen.next();
  while (!next.done) {
    const op = next.value;
    ops.push(op);
    if (op.op === 'store') mem.set(op.addr, op.value);
    next = gen.next(undefined);
  }
  const trace: Trace = ops.flatMap((op): Trace => (op.op === 'store' ? [[op.addr, op.value]] : op.op === 'note' && op.text === 'sync' ? ['sync'] : []));
  const final = cur.map((_, i) => mem.get(addr + 8 * i) ?? 0n);
  return { result: next.value, ops, trace, final };
}

/**
 * The KUnit check at every sync: unless qword 0 is zero (an invalid entry), the entry must
 * equal the initial or the target entry in the bits it uses itself (update-safe bits aside).
 * Returns whether an invalid entry was written (KUnit's "non-hitless").
 */
function checkNoMixedConfig(kind: EntryKind, cur: readonly bigint[], target: readonly bigint[], plan: UpdatePlan): boolean {
  let invalidWritten = false;
  for (const step of plan.steps) {
    const e = step.words;
    if (e[0] === 0n) {
      invalidWritten = true;
      continue;
    }
    const used = kind.used(e);
    const differs = (other: readonly bigint[]): boolean => {
      const safe = kind.updateSafe?.(e, other) ?? w8();
      return e.some((w, i) => (w & used[i] & ~safe[i]) !== (other[i] & used[i] & ~safe[i]));
    };
    assert.ok(!(differs(cur) && differs(target)), `step ${step.role} mixes the old and new configuration: ${e.map((w) => w.toString(16))}`);
  }
  return invalidWritten;
}

interface Expect {
  readonly path: UpdatePlan['path'];
  readonly critical: number[];
  /** Stores (address, value) and syncs, in order. */
  readonly trace: Trace;
  readonly syncs: number;
  /** KUnit: whether a zero qword 0 is written at some sync. */
  readonly invalidWritten?: boolean;
}

function expectTransition(kind: EntryKind, addr: number, cur: readonly bigint[], target: readonly bigint[], exp: Expect): void {
  const plan = planUpdate(kind, cur, target);
  assert.equal(plan.path, exp.path, 'path');
  assert.deepEqual(plan.critical, exp.critical, 'critical qwords');
  const { result, trace, final } = run(kind, addr, cur, target);
  assert.deepEqual(trace, exp.trace, 'stores and syncs');
  assert.equal(result.syncs, exp.syncs, 'syncs');
  assert.equal(trace.filter((t) => t === 'sync').length, exp.syncs, 'syncs in the trace');
  assert.equal(result.writes, trace.length - exp.syncs, 'writes');
  assert.deepEqual(result.critical, exp.critical);
  assert.equal(result.path, exp.path);
  assert.deepEqual(final, [...target], 'the entry ends as the target');
  assert.equal(checkNoMixedConfig(kind, cur, target, plan), exp.invalidWritten ?? exp.path === 'breaking', 'invalid entry written');
}

const A = STE_ADDR;
const C = CD_ADDR;

// ---------------------------------------------------------------------------------------

describe('driver/entryWriter: masks', () => {
  it('fieldsMask takes bit ranges from the table', () => {
    // S1Fmt [5:4] + S1ContextPtr [55:6] = [55:4] = 0x00ffffff_fffffff0; S1CDMax [63:59] = 0xf8000000_00000000
    assert.deepEqual(fieldsMask(STE, ['S1Fmt', 'S1ContextPtr', 'S1CDMax']), w8(0xf8ffffff_fffffff0n));
    // MEV: STE bit 83 = qword 1 bit 19
    assert.deepEqual(fieldsMask(STE, ['MEV']), w8(0n, 0x80000n));
  });

  it('STE used bits per configuration', () => {
    assert.deepEqual(STE_KIND.used(w8(0x8n)), w8(0x1n), 'V=0: only V');
    assert.deepEqual(STE_KIND.used(ABORT), w8(0xfn));
    assert.deepEqual(STE_KIND.used(BYPASS), w8(0xfn, 0x00003000_00000000n));
    assert.deepEqual(STE_KIND.used(S1), w8(0xf8ffffff_ffffffffn, 0xf80800ffn, 0xffffn));
    assert.deepEqual(STE_KIND.used(S1_DSS_BYPASS), w8(0xf8ffffff_ffffffffn, 0x00003000_f80800ffn, 0xffffn));
    assert.deepEqual(STE_KIND.used(S2), w8(0xfn, 0x00003000_32080000n, 0x065fffff_0000ffffn, 0x00ffffff_fffffff0n));
    // Nested = stage 1 | stage 2: q1 0xf80800ff | 0x00003000_32080000 = 0x00003000_fa0800ff
    assert.deepEqual(STE_KIND.used(NESTED), w8(0xf8ffffff_ffffffffn, 0x00003000_fa0800ffn, 0x065fffff_0000ffffn, 0x00ffffff_fffffff0n));
  });

  it('STE update-safe bits: MEV always, EATS TRANS unless S1CHK or S2S is involved', () => {
    const updateSafe = STE_KIND.updateSafe;
    assert.ok(updateSafe);
    assert.deepEqual(updateSafe(S1, S2), w8(0n, 0x10080000n));
    // EATS=S1CHK (0b10<<28 = 0x20000000) in either entry: only MEV.
    assert.deepEqual(updateSafe(setField(STE, S2, 'EATS', 'S1CHK'), S2), w8(0n, 0x80000n));
    // S2S (qword 2 bit 57) in either entry: only MEV.
    assert.deepEqual(updateSafe(S1, setField(STE, S2, 'S2S', 1)), w8(0n, 0x80000n));
  });

  it('CD used bits: V only when invalid; everything, minus the TTB0 walk fields with EPD0', () => {
    const ones = 0xffffffff_ffffffffn;
    assert.deepEqual(CD_KIND.used(w8(0n, 0x80000000n)), w8(0x80000000n));
    assert.deepEqual(CD_KIND.used(w8(0x80000000n)), new Array<bigint>(8).fill(ones));
    // EPD0: q0 loses T0SZ..SH0 [13:0] -> 0xffffffff_ffffc000; q1 loses TTB0 [55:4] -> 0xff000000_0000000f
    assert.deepEqual(CD_KIND.used(w8(0x80004000n)), [0xffffffff_ffffc000n, 0xff000000_0000000fn, ones, ones, ones, ones, ones, ones]);
    assert.equal(CD_KIND.updateSafe, undefined);
  });
});

describe('driver/entryWriter: STE transitions', () => {
  it('abort -> bypass: hitless, qword 1 first (KUnit: 2 syncs)', () => {
    // cu q0 0xf; tu q0 0xf, q1 SHCFG. unused q0 = 0x1 (critical: 0x1 != 0x9); q1 = target (not critical).
    expectTransition(STE_KIND, A, ABORT, BYPASS, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [[A + 8, 0x00001000_00000000n], 'sync', [A, 0x9n], 'sync'],
    });
  });

  it('bypass -> abort: hitless, qword 0 then clean-up of qword 1 (KUnit: 2)', () => {
    // unused = cur (everything cur has is used); q0 0x9 & 0xf != 0x1 critical; q1 & tu(0) = 0 ok.
    expectTransition(STE_KIND, A, BYPASS, ABORT, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [[A, 0x1n], 'sync', [A + 8, 0n], 'sync'],
    });
  });

  it('abort -> S1: hitless (KUnit abort_to_cdtable: 2)', () => {
    // unused q0 = 0x1 | (0x20000000_4800f00b & ~0xf) = 0x20000000_4800f001 != target: critical; q1 = target.
    expectTransition(STE_KIND, A, ABORT, S1, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [[A + 8, 0x180000d6n], 'sync', [A, 0x20000000_4800f00bn], 'sync'],
    });
  });

  it('S1 -> abort: hitless (KUnit cdtable_to_abort: 2)', () => {
    expectTransition(STE_KIND, A, S1, ABORT, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [[A, 0x1n], 'sync', [A + 8, 0n], 'sync'],
    });
  });

  it('bypass -> S1: hitless in three steps (KUnit bypass_to_cdtable: 3)', () => {
    // q1: cu = SHCFG, so unused q1 = 0x00001000_00000000 | (0x180000d6 & ~SHCFG) = 0x00001000_180000d6;
    //     & tu (no SHCFG for SSID0) = 0x180000d6 = target: not critical. q0 critical.
    // Steps: q1 = unused; q0 = target; q1 = target (SHCFG cleared).
    expectTransition(STE_KIND, A, BYPASS, S1, {
      path: 'hitless', critical: [0], syncs: 3,
      trace: [[A + 8, 0x00001000_180000d6n], 'sync', [A, 0x20000000_4800f00bn], 'sync', [A + 8, 0x180000d6n], 'sync'],
    });
  });

  it('S1 -> bypass: hitless in three steps (KUnit cdtable_to_bypass: 3)', () => {
    // q1: unused = 0x180000d6 | SHCFG from target = 0x00001000_180000d6; & tu (SHCFG) = target.
    expectTransition(STE_KIND, A, S1, BYPASS, {
      path: 'hitless', critical: [0], syncs: 3,
      trace: [[A + 8, 0x00001000_180000d6n], 'sync', [A, 0x9n], 'sync', [A + 8, 0x00001000_00000000n], 'sync'],
    });
  });

  it('S1 <-> S1 with S1DSS=BYPASS, and S1DSS=BYPASS <-> bypass (KUnit: 1, 1, 2, 2)', () => {
    // SSID0 -> BYPASS: safe q1 = 0x10080000, cu q1 w/o safe = 0xe80000ff.
    //   unused q1 = (0x180000d6 & 0xe80000ff = 0x080000d6) | (0x00001000_180000d5 & ~0xe80000ff = 0x00001000_10000000)
    //   = 0x00001000_180000d6; & tu (0x00003000_f80800ff) != 0x00001000_180000d5: critical q1 only.
    expectTransition(STE_KIND, A, S1, S1_DSS_BYPASS, {
      path: 'hitless', critical: [1], syncs: 1, trace: [[A + 8, 0x00001000_180000d5n], 'sync'],
    });
    expectTransition(STE_KIND, A, S1_DSS_BYPASS, S1, {
      path: 'hitless', critical: [1], syncs: 1, trace: [[A + 8, 0x180000d6n], 'sync'],
    });
    // S1DSS=BYPASS -> bypass: q1 unused = cur; & tu (SHCFG) = 0x00001000_00000000 = target. q0 critical.
    expectTransition(STE_KIND, A, S1_DSS_BYPASS, BYPASS, {
      path: 'hitless', critical: [0], syncs: 2, trace: [[A, 0x9n], 'sync', [A + 8, 0x00001000_00000000n], 'sync'],
    });
    // bypass -> S1DSS=BYPASS: q1 unused = SHCFG kept | rest of target = target.
    expectTransition(STE_KIND, A, BYPASS, S1_DSS_BYPASS, {
      path: 'hitless', critical: [0], syncs: 2, trace: [[A + 8, 0x00001000_180000d5n], 'sync', [A, 0x20000000_4800f00bn], 'sync'],
    });
  });

  it('S1 -> S1 with a different CD table pointer: hitless, only qword 0', () => {
    expectTransition(STE_KIND, A, S1, S1_OTHER_TABLE, {
      path: 'hitless', critical: [0], syncs: 1, trace: [[A, 0x20000000_4801000bn], 'sync'],
    });
  });

  it('CD table pointer and S1DSS together: breaking (KUnit non_hitless: 3)', () => {
    // q0 critical (pointer), q1 critical (S1DSS 2 -> 1): qword 0 = 0, qwords 1..7, qword 0.
    expectTransition(STE_KIND, A, S1, S1_OTHER_TABLE_DSS_BYPASS, {
      path: 'breaking', critical: [0, 1], syncs: 3,
      trace: [[A, 0n], 'sync', [A + 8, 0x00001000_180000d5n], 'sync', [A, 0x20000000_4801000bn], 'sync'],
    });
  });

  it('S1 -> S2 (both VMID 0): hitless in three steps (KUnit s1_to_s2: 3)', () => {
    // q1: safe 0x10080000; cu w/o safe 0xe80000ff; unused = 0x080000d6 | (0x00001000_10000000 & ~0xe80000ff)
    //     = 0x00001000_180000d6; & tu (0x00003000_32080000) = 0x00001000_10000000 = target.
    // q2: unused = 0 | (0x044a3558_00000000 & ~0xffff) = target.  q3: target.  q0 critical.
    expectTransition(STE_KIND, A, S1, S2, {
      path: 'hitless', critical: [0], syncs: 3,
      trace: [
        [A + 8, 0x00001000_180000d6n], [A + 16, 0x044a3558_00000000n], [A + 24, 0x81000000n], 'sync',
        [A, 0xdn], 'sync',
        [A + 8, 0x00001000_10000000n], 'sync',
      ],
    });
  });

  it('S2 -> S1 (both VMID 0): hitless in three steps (KUnit s2_to_s1: 3)', () => {
    // q0: unused = 0xd | (0x20000000_4800f00b & ~0xf) = 0x20000000_4800f00d: critical.
    // q1: cu w/o safe = 0x00003000_22000000; unused = 0x00001000_00000000 | 0x180000d6 = 0x00001000_180000d6;
    //     & tu 0xf80800ff = 0x180000d6 = target.  q2: unused = cur, & 0xffff = 0 = target.  q3: tu 0.
    expectTransition(STE_KIND, A, S2, S1, {
      path: 'hitless', critical: [0], syncs: 3,
      trace: [
        [A + 8, 0x00001000_180000d6n], 'sync',
        [A, 0x20000000_4800f00bn], 'sync',
        [A + 8, 0x180000d6n], [A + 16, 0n], [A + 24, 0n], 'sync',
      ],
    });
  });

  it('S1 <-> S2 with a stalling master (no ATS; S2S withholds EATS from the safe bits) (KUnit *_stall: 3, 3)', () => {
    const s1Stall = cdTableSte({ ...S1_OPTS, ats: false, masterStalls: true }); // q1 0xd6
    const s2Stall = s2Ste({ ...S2_OPTS, ats: false, stallEnabled: true }); // q1 SHCFG, q2 0x064a3558_00000000
    // S1 -> S2: safe = MEV only; q1 unused = 0xd6 | SHCFG = 0x00001000_000000d6, & tu = target.
    expectTransition(STE_KIND, A, s1Stall, s2Stall, {
      path: 'hitless', critical: [0], syncs: 3,
      trace: [
        [A + 8, 0x00001000_000000d6n], [A + 16, 0x064a3558_00000000n], [A + 24, 0x81000000n], 'sync',
        [A, 0xdn], 'sync',
        [A + 8, 0x00001000_00000000n], 'sync',
      ],
    });
    expectTransition(STE_KIND, A, s2Stall, s1Stall, {
      path: 'hitless', critical: [0], syncs: 3,
      trace: [
        [A + 8, 0x00001000_000000d6n], 'sync',
        [A, 0x20000000_4800f00bn], 'sync',
        [A + 8, 0xd6n], [A + 16, 0n], [A + 24, 0n], 'sync',
      ],
    });
  });

  it('abort/bypass <-> S2 (KUnit: 2 syncs each)', () => {
    expectTransition(STE_KIND, A, ABORT, S2, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [[A + 8, 0x00001000_10000000n], [A + 16, 0x044a3558_00000000n], [A + 24, 0x81000000n], 'sync', [A, 0xdn], 'sync'],
    });
    expectTransition(STE_KIND, A, S2, ABORT, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [[A, 0x1n], 'sync', [A + 8, 0n], [A + 16, 0n], [A + 24, 0n], 'sync'],
    });
    // bypass -> S2: q1 unused = SHCFG kept | EATS from target = 0x00001000_10000000 = target.
    expectTransition(STE_KIND, A, BYPASS, S2, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [[A + 8, 0x00001000_10000000n], [A + 16, 0x044a3558_00000000n], [A + 24, 0x81000000n], 'sync', [A, 0xdn], 'sync'],
    });
    // S2 -> bypass: MEV/EATS are unused by bypass, so not safe; q1 unused = cur; & tu (SHCFG) = target.
    expectTransition(STE_KIND, A, S2, BYPASS, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [[A, 0x9n], 'sync', [A + 8, 0x00001000_00000000n], [A + 16, 0n], [A + 24, 0n], 'sync'],
    });
  });

  it('S1 (VMID 0) -> S2 with a real VMID: breaking, because stage 1 uses S2VMID too', () => {
    // q2: unused = (0 & 0xffff) | (0x044a3558_00000001 & ~0xffff) = 0x044a3558_00000000; & tu != ..._00000001:
    // critical. With q0 also critical: V=0, qwords 1..3, qword 0.
    expectTransition(STE_KIND, A, S1, S2_VMID1, {
      path: 'breaking', critical: [0, 2], syncs: 3,
      trace: [
        [A, 0n], 'sync',
        [A + 8, 0x00001000_10000000n], [A + 16, 0x044a3558_00000001n], [A + 24, 0x81000000n], 'sync',
        [A, 0xdn], 'sync',
      ],
    });
  });

  it('S1 -> nested (guest S1DSS=SSID0, same VMID): hitless', () => {
    // tu q1 (nested) = 0x00003000_fa0800ff; safe 0x10080000; cu w/o safe 0xe80000ff.
    // q1 unused = (0x180000d6 & 0xe80000ff = 0x080000d6) | (0x00001000_180800d6 & ~0xe80000ff = 0x00001000_10080000)
    //   = 0x00001000_180800d6 = target.  q2, q3: target.  q0 (pointer 0x4800f000 -> 0x90000000, Config) critical.
    expectTransition(STE_KIND, A, S1, NESTED_SSID0, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [
        [A + 8, 0x00001000_180800d6n], [A + 16, 0x044a3558_00000000n], [A + 24, 0x81000000n], 'sync',
        [A, 0x9000000fn], 'sync',
      ],
    });
  });

  it('S2 -> nested and back (KUnit nested_s1bypass_to_s1dssbypass: 2, nested_s1dssbypass_to_s1bypass: 3)', () => {
    // S2 -> nested: q0 unused = 0xd | 0x90000000 = 0x9000000d: critical. q1: cu w/o safe = 0x00003000_22000000;
    //   unused = 0x00001000_00000000 | (0x00001000_100800d5 & ~that = 0x100800d5) = target.
    expectTransition(STE_KIND, A, S2, NESTED, {
      path: 'hitless', critical: [0], syncs: 2,
      trace: [[A + 8, 0x00001000_100800d5n], 'sync', [A, 0x9000000fn], 'sync'],
    });
    // nested -> S2 without ATS: cu q1 w/o safe = 0x00003000_fa0800ff & ~0x10080000 = 0x00003000_ea0000ff;
    //   unused = 0x00001000_000000d5 (EATS and MEV take the target's 0); & tu (0x00003000_32080000) = target.
    //   The extra third sync clears the now ignored S1 bits (KUnit: "unset ignored bits: EATS and MEV").
    expectTransition(STE_KIND, A, NESTED, S2_NO_ATS, {
      path: 'hitless', critical: [0], syncs: 3,
      trace: [[A + 8, 0x00001000_000000d5n], 'sync', [A, 0xdn], 'sync', [A + 8, 0x00001000_00000000n], 'sync'],
    });
  });

  it('S2 with a different VMID, and with a different S2TTB: hitless, one qword', () => {
    expectTransition(STE_KIND, A, S2_VMID1, S2_VMID2, {
      path: 'hitless', critical: [2], syncs: 1, trace: [[A + 16, 0x044a3558_00000002n], 'sync'],
    });
    expectTransition(STE_KIND, A, S2_VMID1, S2_VMID1_TTB2, {
      path: 'hitless', critical: [3], syncs: 1, trace: [[A + 24, 0x82000000n], 'sync'],
    });
  });

  it('S1 with EATS change only: no used bit changes (EATS TRANS is update-safe), one write', () => {
    // q1: cu w/o safe = 0xe80000ff, so EATS takes the target's value: unused = 0x080000d6 = target.
    expectTransition(STE_KIND, A, S1, S1_NO_ATS, {
      path: 'unchanged', critical: [], syncs: 1, trace: [[A + 8, 0x080000d6n], 'sync'],
    });
    expectTransition(STE_KIND, A, S1_NO_ATS, S1, {
      path: 'unchanged', critical: [], syncs: 1, trace: [[A + 8, 0x180000d6n], 'sync'],
    });
  });

  it('EATS being safe keeps S1 (ATS) -> S2 (no ATS) hitless; without the safe bits it would break', () => {
    // q1: unused = 0x080000d6 | (0x00001000_00000000 & ~0xe80000ff) = 0x00001000_080000d6; & tu = 0x00001000_00000000 = target.
    expectTransition(STE_KIND, A, S1, S2_NO_ATS, {
      path: 'hitless', critical: [0], syncs: 3,
      trace: [
        [A + 8, 0x00001000_080000d6n], [A + 16, 0x044a3558_00000000n], [A + 24, 0x81000000n], 'sync',
        [A, 0xdn], 'sync',
        [A + 8, 0x00001000_00000000n], 'sync',
      ],
    });
    // A writer without get_update_safe (kernels before it was added): EATS 1 -> 0 in bits both use, so q1 is critical too.
    const noSafe: EntryKind = { name: 'STE', used: (w) => STE_KIND.used(w) };
    assert.deepEqual(planUpdate(noSafe, S1, S2_NO_ATS).critical, [0, 1]);
  });

  it('EATS is not update-safe while S2S is set: the EATS change is a (hitless) critical qword', () => {
    const s2Stall = s2Ste({ ...S2_OPTS, ats: false, stallEnabled: true });
    // A stalling S2 STE with EATS=TRANS is ILLEGAL per the spec: exactly why the kernel does not relax EATS here.
    const s2StallAts = setField(STE, s2Stall, 'EATS', 'TRANS'); // q1 0x00001000_10000000
    expectTransition(STE_KIND, A, s2Stall, s2StallAts, {
      path: 'hitless', critical: [1], syncs: 1, trace: [[A + 8, 0x00001000_10000000n], 'sync'],
    });
  });

  it('MEV only: no used bit changes, one write (MEV is update-safe)', () => {
    const s2Mev = setField(STE, S2, 'MEV', 1); // q1 0x00001000_10000000 | 1<<19 = 0x00001000_10080000
    expectTransition(STE_KIND, A, S2, s2Mev, {
      path: 'unchanged', critical: [], syncs: 1, trace: [[A + 8, 0x00001000_10080000n], 'sync'],
    });
  });

  it('no change at all: no write, no sync', () => {
    expectTransition(STE_KIND, A, S1, S1, { path: 'unchanged', critical: [], syncs: 0, trace: [] });
  });
});

describe('driver/entryWriter: CD transitions', () => {
  const CD_OPTS: S1CdOptions = {
    asid: 1, ttb0: 0x80000000, tcr: { t0sz: 16, tg0: 0, irgn0: 1, orgn0: 1, sh0: 3, ips: 5 },
    mair: 0xf404ff44n, stall: false, hahd: false,
  };
  const CD_A = s1Cd(CD_OPTS); // [0x0001e205_c0003510, 0x80000000, 0, 0xf404ff44]
  const CD_ASID2 = s1Cd({ ...CD_OPTS, asid: 2 }); // q0 0x0002e205_c0003510
  const CD_TTB_B = s1Cd({ ...CD_OPTS, ttb0: 0x88000000 }); // q1 0x88000000
  const QUIET = quietCd(1, { ips: 5, mair: 0xf404ff44n }); // [0x0001c205_c0004000, 0, 0, 0xf404ff44]
  const INVALID = w8();

  it('valid -> valid ASID change: hitless in qword 0 (KUnit s1_change_asid: 1)', () => {
    expectTransition(CD_KIND, C, CD_A, CD_ASID2, {
      path: 'hitless', critical: [0], syncs: 1, trace: [[C, 0x0002e205_c0003510n], 'sync'],
    });
    expectTransition(CD_KIND, C, CD_ASID2, CD_A, {
      path: 'hitless', critical: [0], syncs: 1, trace: [[C, 0x0001e205_c0003510n], 'sync'],
    });
  });

  it('TTB0 change on a live CD: one atomic store of qword 1', () => {
    expectTransition(CD_KIND, C, CD_A, CD_TTB_B, {
      path: 'hitless', critical: [1], syncs: 1, trace: [[C + 8, 0x88000000n], 'sync'],
    });
  });

  it('live -> quiet (EPD0) and quiet -> live with a new TTB0: hitless (KUnit sva_release: 2, 2)', () => {
    // live -> quiet: unused = cur (all used); q0 & tu (T0SZ..SH0 unused) = 0x0001e205_c0000000 != target: critical;
    //   q1 & tu (TTB0 unused) = 0 = target. Steps: q0, then clear q1.
    expectTransition(CD_KIND, C, CD_A, QUIET, {
      path: 'hitless', critical: [0], syncs: 2, trace: [[C, 0x0001c205_c0004000n], 'sync', [C + 8, 0n], 'sync'],
    });
    // quiet -> live: cu lacks T0SZ..SH0 and TTB0, so q1 = 0x88000000 first (ignored under EPD0),
    //   q0 unused = 0x0001c205_c0004000 | 0x3510 = 0x0001c205_c0007510: critical.
    expectTransition(CD_KIND, C, QUIET, CD_TTB_B, {
      path: 'hitless', critical: [0], syncs: 2, trace: [[C + 8, 0x88000000n], 'sync', [C, 0x0001e205_c0003510n], 'sync'],
    });
  });

  it('a quiet CD with another MAIR than the live one: breaking (qwords 0 and 3)', () => {
    const quietNoMair = quietCd(1, { ips: 5 }); // q3 0
    expectTransition(CD_KIND, C, CD_A, quietNoMair, {
      path: 'breaking', critical: [0, 3], syncs: 3,
      trace: [[C, 0n], 'sync', [C + 8, 0n], [C + 24, 0n], 'sync', [C, 0x0001c205_c0004000n], 'sync'],
    });
  });

  it('V=1 -> V=0 and V=0 -> V=1: the hitless branch, but the entry is invalid at a sync (KUnit s1_clear: 2, 2)', () => {
    // Clear: tu = V only; q0 critical (V 1 -> 0); q1/q3 unused by the target. KUnit counts these as
    // "non-hitless" because qword 0 is zero at a sync; the kernel takes its hitless branch.
    expectTransition(CD_KIND, C, CD_A, INVALID, {
      path: 'hitless', critical: [0], syncs: 2, invalidWritten: true,
      trace: [[C, 0n], 'sync', [C + 8, 0n], [C + 24, 0n], 'sync'],
    });
    // Install: cu = V only, so q1 and q3 are written while V=0; then q0.
    expectTransition(CD_KIND, C, INVALID, CD_A, {
      path: 'hitless', critical: [0], syncs: 2, invalidWritten: true,
      trace: [[C + 8, 0x80000000n], [C + 24, 0xf404ff44n], 'sync', [C, 0x0001e205_c0003510n], 'sync'],
    });
  });
});

describe('driver/entryWriter: the kernel WARN', () => {
  it('a target STE setting bits its configuration does not use throws, naming the field', () => {
    // An abort STE with SHCFG=INCOMING (q1 1<<44): abort uses nothing in qword 1.
    assert.throws(() => planUpdate(STE_KIND, BYPASS, w8(0x1n, 0x00001000_00000000n)),
      (e: unknown) => e instanceof EntryWarning && /qword 1 sets bits 0x100000000000 \(SHCFG\)/.test(e.message));
  });

  it('an invalid target CD with a TTB0 throws; an untidy current entry does not', () => {
    assert.throws(() => planUpdate(CD_KIND, w8(), w8(0n, 0x80000000n)), /CD target qword 1 sets bits 0x80000000 \(TTB0\)/);
    assert.doesNotThrow(() => planUpdate(CD_KIND, w8(0n, 0x80000000n), w8()));
  });

  it('writeEntry throws too (before any store)', () => {
    assert.throws(() => run(STE_KIND, A, BYPASS, w8(0x1n, 0x00001000_00000000n)), EntryWarning);
  });

  it('entries must have eight qwords', () => {
    assert.throws(() => planUpdate(STE_KIND, [0x1n], ABORT), /8 qwords/);
  });
});

describe('driver/entryWriter: writeEntry micro-operations', () => {
  it('bypass -> S1: frame, dma_wmb, decision, then each step\'s WRITE_ONCEs followed by the sync', () => {
    const { ops, result } = run(STE_KIND, A, BYPASS, S1);
    const store = (addr: number, value: bigint, what: string): MicroOp => ({ op: 'store', addr, size: 8, value, unit: 8, what });
    const sync: MicroOp = { op: 'note', text: 'sync' };
    assert.deepEqual(ops, [
      { op: 'enter', fn: 'arm_smmu_write_entry', detail: 'STE at 0x40000040' },
      { op: 'barrier', kind: 'dma_wmb' },
      { op: 'note', text: 'hitless update: critical qword 0' },
      store(A + 8, 0x00001000_180000d6n, 'STE qword 1 (bits the current entry ignores)'), sync,
      store(A, 0x20000000_4800f00bn, 'STE qword 0 (critical qword)'), sync,
      store(A + 8, 0x180000d6n, 'STE qword 1 (clear bits the target ignores)'), sync,
      { op: 'leave' },
    ]);
    assert.deepEqual(result, { path: 'hitless', critical: [0], syncs: 3, writes: 3 });
  });

  it('breaking: qword 0 = 0 first, qword 0 again last, one sync per step', () => {
    const { ops, result } = run(STE_KIND, A, S1, S1_OTHER_TABLE_DSS_BYPASS);
    const kinds = ops.map((o) => (o.op === 'store' ? `store ${(o.addr - A) / 8}=${o.value.toString(16)}` : o.op === 'note' ? o.text : o.op));
    assert.deepEqual(kinds, [
      'enter', 'barrier',
      'breaking update: qwords 0, 1 change used bits, so the STE is made invalid (V=0) first',
      'store 0=0', 'sync',
      'store 1=1000180000d5', 'sync',
      'store 0=200000004801000b', 'sync',
      'leave',
    ]);
    assert.deepEqual(result, { path: 'breaking', critical: [0, 1], syncs: 3, writes: 3 });
  });

  it('nothing to do: only the barrier and the decision', () => {
    const { ops, result } = run(CD_KIND, C, w8(), w8());
    assert.deepEqual(ops, [
      { op: 'enter', fn: 'arm_smmu_write_entry', detail: 'CD at 0x48010040' },
      { op: 'barrier', kind: 'dma_wmb' },
      { op: 'note', text: 'no change: the CD already holds the target' },
      { op: 'leave' },
    ]);
    assert.deepEqual(result, { path: 'unchanged', critical: [], syncs: 0, writes: 0 });
  });
});
