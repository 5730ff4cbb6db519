/**
 * CD and L1CD tables (spec 5.4, 5.3). Expected words are worked out by hand from the
 * spec's bit positions; the arithmetic is in the comments.
 */
import { strict as assert } from 'node:assert';
import { CD, L1CD } from '../../src/arch/cd';
import { decode, encode, FieldError, FieldInput, findField, setField } from '../../src/arch/codec';
import { ArchContext, FieldSpec, Layout, mask, Problem } from '../../src/arch/field';

/** A fully described SMMU: 48-bit OAS, all granules, 16-bit ASIDs, HTTU A+D, no STT/VAX. */
const CTX: ArchContext = {
  oas: 48, granules: [4, 16, 64], asid16: true, httu: 2, stallModel: 0, ttendian: 0, stt: false, vax: false,
};

/** The kernel's S1 CD for a 48-bit VA, 4K-granule io-pgtable on a coherent SMMU. */
const KERNEL: Record<string, FieldInput> = {
  T0SZ: 16, TG0: '4K', irgn0: 'WBWA', orgn0: 'WBWA', SH0: 'ISH', EPD1: 1, V: 1, IPS: '48_BIT', AA64: 1,
  R: 1, A: 1, ASET: 1, ASID: 1, TTB0: 0x40001000n, MAIR0: 0xf404ff44,
};

// qword0, coherent:
//   T0SZ 16            = 0x10          (bits [5:0])
//   TG0 4K (0)         = 0
//   IR0 WBWA (1) << 8  = 0x100
//   OR0 WBWA (1) << 10 = 0x400
//   SH0 ISH (3) << 12  = 0x3000
//   EPD1 1 << 30       = 0x4000_0000
//   V 1 << 31          = 0x8000_0000   → low half 0xc000_3510
//   IPS 5 << 32        → high-half bit 0:  0x5
//   AA64 1 << 41       → high-half bit 9:  0x200
//   R 1 << 45          → high-half bit 13: 0x2000
//   A 1 << 46          → high-half bit 14: 0x4000
//   ASET 1 << 47       → high-half bit 15: 0x8000
//   ASID 1 << 48       → high-half bit 16: 0x1_0000  → high half 0x1_e205
const Q0_COHERENT = 0x0001e205_c0003510n;
// qword1: TTB0 [119:68] holds PA[55:4] at qword-1 bits [55:4], i.e. the address in place.
const Q1 = 0x00000000_40001000n;
// qword3: MAIR0 [223:192] is qword-3 bits [31:0]; MAIR1 (bits [63:32]) is 0.
const Q3 = 0x00000000_f404ff44n;
// Non-coherent: SH0 OSH (2) << 12 = 0x2000, IR0 = OR0 = NC (0):
//   low half 0x10 + 0x2000 + 0x4000_0000 + 0x8000_0000 = 0xc000_2010; high half unchanged.
const Q0_NONCOHERENT = 0x0001e205_c0002010n;
// Quiet CD: EPD0 1 << 14 = 0x4000, EPD1 0x4000_0000, V 0x8000_0000 → low 0xc000_4000;
//   AA64 1 << 41 → high half 0x200; ASID 0.
const Q0_QUIET = 0x00000200_c0004000n;

const problems = (l: Layout, words: readonly bigint[], ctx: ArchContext = CTX): readonly Problem[] => decode(l, words, ctx).problems;
const find = (ps: readonly Problem[], rule: string, field: string): Problem | undefined =>
  ps.find((p) => p.rule === rule && p.field === field);
/** The kernel CD with some fields changed. */
const kernel = (changes: Record<string, FieldInput> = {}): bigint[] => encode(CD, { ...KERNEL, ...changes });

function assertBreaks(words: readonly bigint[], rule: string, field: string, severity: 'error' | 'warning', ctx: ArchContext = CTX): Problem {
  const ps = problems(CD, words, ctx);
  const p = find(ps, rule, field);
  assert.ok(p, `expected ${rule} on ${field}, got ${JSON.stringify(ps)}`);
  assert.equal(p.severity, severity);
  return p;
}
function assertClean(words: readonly bigint[], ctx: ArchContext = CTX, l: Layout = CD): void {
  assert.deepEqual(problems(l, words, ctx), []);
}

describe('arch/cd: Context Descriptor', () => {
  it('places fields where spec 5.4 numbers them', () => {
    const spec: [string, number, number][] = [
      ['T0SZ', 5, 0], ['TG0', 7, 6], ['IR0', 9, 8], ['OR0', 11, 10], ['SH0', 13, 12], ['EPD0', 14, 14], ['ENDI', 15, 15],
      ['T1SZ', 21, 16], ['TG1', 23, 22], ['IR1', 25, 24], ['OR1', 27, 26], ['SH1', 29, 28], ['EPD1', 30, 30], ['V', 31, 31],
      ['IPS', 34, 32], ['AFFD', 35, 35], ['WXN', 36, 36], ['UWXN', 37, 37], ['TBI0', 38, 38], ['TBI1', 39, 39],
      ['PAN', 40, 40], ['AA64', 41, 41], ['HD', 42, 42], ['HA', 43, 43], ['S', 44, 44], ['R', 45, 45], ['A', 46, 46],
      ['ASET', 47, 47], ['ASID', 63, 48], ['NSCFG0', 64, 64], ['HAD0', 65, 65], ['E0PD0', 66, 66], ['HAFT', 67, 67],
      ['TTB0', 119, 68], ['PnCH', 122, 122], ['EPAN', 123, 123], ['HWU059', 124, 124], ['HWU060', 125, 125],
      ['HWU061', 126, 126], ['HWU062', 127, 127], ['NSCFG1', 128, 128], ['HAD1', 129, 129], ['E0PD1', 130, 130],
      ['AIE', 131, 131], ['TTB1', 183, 132], ['DS', 186, 186], ['PIE', 187, 187], ['HWU159', 188, 188],
      ['HWU160', 189, 189], ['HWU161', 190, 190], ['HWU162', 191, 191], ['MAIR0', 223, 192], ['MAIR1', 255, 224],
      ['AMAIR0', 287, 256], ['AMAIR1', 319, 288], ['PARTID', 367, 352], ['PMG', 375, 368],
      ['PIIU0', 386, 384], ['PIIU15', 431, 429], ['PIIP0', 450, 448], ['PIIP15', 495, 493],
    ];
    for (const [name, hi, lo] of spec) {
      const f = findField(CD, name);
      assert.ok(f, name);
      assert.deepEqual([f.hi, f.lo], [hi, lo], name);
    }
    const impdef = CD.fields.find((f) => f.reserved === 'IMPDEF');
    assert.deepEqual([impdef?.hi, impdef?.lo], [351, 320]);
    // RES0 gaps the table leaves to defineLayout: [121:120], [185:184], [383:376], [447:432], [511:496].
    const res0 = CD.fields.filter((f) => f.reserved === 'RES0').map((f) => `${f.hi}:${f.lo}`);
    assert.deepEqual(res0, ['121:120', '185:184', '383:376', '447:432', '511:496']);
  });

  it('resolves the Linux spellings', () => {
    assert.equal(findField(CD, 'irgn0')?.name, 'IR0');
    assert.equal(findField(CD, 'orgn0')?.name, 'OR0');
    assert.equal(findField(CD, 'tbi0')?.name, 'TBI0');
    assert.equal(findField(CD, 'disch0')?.name, 'HAD0');
    for (const n of ['t0sz', 'tg0', 'sh0', 'epd0', 'endi', 'epd1', 'v', 'ips', 'aa64', 'hd', 'ha', 's', 'r', 'a', 'aset', 'asid', 'ttb0']) {
      assert.ok(findField(CD, n), n);
    }
    // No 64-bit 'mair' field: MAIR0/MAIR1 are the halves (see the report).
    assert.throws(() => encode(CD, { mair: 1 }), (e: Error) => e instanceof FieldError && /mair0/i.test(e.message));
    // TBI0 alone: 1 << 38 = 0x40_0000_0000.
    assert.equal(encode(CD, { TBI0: 1 })[0], 0x40_0000_0000n);
  });

  it('encodes the kernel S1 CD (coherent SMMU)', () => {
    assert.deepEqual(kernel(), [Q0_COHERENT, Q1, 0n, Q3, 0n, 0n, 0n, 0n]);
  });

  it('decodes the kernel S1 CD (coherent SMMU)', () => {
    const d = decode(CD, [Q0_COHERENT, Q1, 0n, Q3], CTX);
    assert.equal(d.summary, 'valid: ASID 1, TTB0 0x40001000, 48-bit VA, 4K granule, 48-bit IPS, TTB1 disabled');
    assert.deepEqual(d.problems, []);
    assert.equal(d.get('T0SZ'), 16n);
    assert.equal(d.field('TG0')?.valueName, '4K');
    assert.equal(d.field('IR0')?.valueName, 'WBWA');
    assert.equal(d.field('SH0')?.valueName, 'ISH');
    assert.equal(d.field('IPS')?.valueName, '48_BIT');
    assert.equal(d.get('TTB0'), 0x40001000n);
    // 64 - 16 = 48-bit input; 2^48 bytes = 256 TB.
    assert.match(d.field('T0SZ')!.text, /48-bit input, 256 TB/);
    // 4K granule, 48-bit VA: 36 bits above the page offset, 9 per level → 4 levels from
    // level 0, whose table resolves 36 - 27 = 9 bits: 512 entries x 8 bytes = 4 KB.
    assert.match(d.field('TTB0')!.text, /level-0 table of 4 KB/);
    assert.match(d.field('MAIR0')!.text, /Attr0 0x44 Normal NC; Attr1 0xff Normal WB-RWA; Attr2 0x04 Device-nGnRE; Attr3 0xf4 Normal inner NC outer WB-RWA/);
    // EPD1=1: the TTB1 region's controls are ignored.
    for (const n of ['T1SZ', 'TG1', 'IR1', 'OR1', 'SH1', 'TTB1', 'HAD1', 'NSCFG1']) assert.equal(d.field(n)?.relevant, false, n);
    for (const n of ['T0SZ', 'TG0', 'IR0', 'OR0', 'SH0', 'TTB0', 'HAD0', 'NSCFG0']) assert.equal(d.field(n)?.relevant, true, n);
  });

  it('summarises ASID 3 as the brief does', () => {
    const d = decode(CD, setField(CD, kernel(), 'ASID', 3), CTX);
    assert.equal(d.summary, 'valid: ASID 3, TTB0 0x40001000, 48-bit VA, 4K granule, 48-bit IPS, TTB1 disabled');
  });

  it('encodes and decodes the kernel S1 CD on a non-coherent SMMU', () => {
    const w = kernel({ SH0: 'OSH', IR0: 'NC', OR0: 'NC' });
    assert.deepEqual(w, [Q0_NONCOHERENT, Q1, 0n, Q3, 0n, 0n, 0n, 0n]);
    const d = decode(CD, w, CTX);
    assert.deepEqual(d.problems, []);
    assert.equal(d.field('SH0')?.valueName, 'OSH');
    assert.match(d.field('SH0')!.text, /Outer Shareable/);
  });

  it('decodes the quiet CD (SVA release): valid, no walks', () => {
    assert.deepEqual(encode(CD, { V: 1, EPD0: 1, EPD1: 1, AA64: 1, ASID: 0 })[0], Q0_QUIET);
    const d = decode(CD, [Q0_QUIET], CTX);
    assert.equal(d.summary, 'valid but TTB0 walks disabled (EPD0=1), ASID 0');
    // T0SZ=0 and TTB0=0 would be ILLEGAL with walks; EPD0=1 makes them ignored.
    assert.deepEqual(d.problems, []);
    for (const n of ['T0SZ', 'TG0', 'TTB0', 'T1SZ', 'TTB1', 'ENDI']) assert.equal(d.field(n)?.relevant, false, n);
    assert.equal(d.field('ASID')?.relevant, true);
  });

  it('says invalid for V=0 and ignores everything else', () => {
    // T0SZ=63 and TG0=0b11 would both be ILLEGAL in a valid CD: 0x3f | 3 << 6 = 0xff.
    const d = decode(CD, [0xffn], { ...CTX, stt: true });
    assert.equal(d.summary, 'invalid (V=0)');
    assert.deepEqual(d.problems, []);
    assert.ok(d.fields.filter((f) => f.spec.kind !== 'reserved' && f.spec.name !== 'V').every((f) => !f.relevant));
  });

  it('round-trips every named field alone', () => {
    for (const l of [CD, L1CD]) {
      const named = l.fields.filter((f: FieldSpec) => f.kind !== 'reserved');
      for (const f of named) {
        const ones = mask(f.hi - f.lo + 1);
        const v = f.kind === 'address' ? ones << BigInt(f.lo % 64) : ones;
        const d = decode(l, encode(l, { [f.name]: v }));
        assert.equal(d.get(f.name), v, f.name);
        for (const o of named) if (o !== f) assert.equal(d.get(o.name), 0n, `${f.name} leaked into ${o.name}`);
      }
    }
    assert.throws(() => setField(CD, [], 'TTB0', 0x40001008n), FieldError, 'TTB0 holds bits [55:4] only');
  });

  it('gives TG0 and TG1 their own codes', () => {
    // TG0: 4K=0, 64K=1, 16K=2; TG1: 16K=1, 4K=2, 64K=3.
    assert.deepEqual(['4K', '64K', '16K'].map((g) => decode(CD, encode(CD, { TG0: g })).get('TG0')), [0n, 1n, 2n]);
    assert.deepEqual(['16K', '4K', '64K'].map((g) => decode(CD, encode(CD, { TG1: g })).get('TG1')), [1n, 2n, 3n]);
  });

  describe('rules', () => {
    it('T0SZ: at most 39 without STT, 48 (4K/16K) or 47 (64K) with it', () => {
      assertBreaks(kernel({ T0SZ: 40 }), 'range', 'T0SZ', 'error');
      assertBreaks(kernel({ T0SZ: 40 }), 'range', 'T0SZ', 'warning', { ...CTX, stt: undefined });
      assertClean(kernel({ T0SZ: 39 }));
      // T0SZ 48 → 16-bit VA, 4K: 4 bits above the page offset, one level-3 table of 16 entries = 128 bytes.
      assertClean(kernel({ T0SZ: 48, TTB0: 0x40001080n }), { ...CTX, stt: true });
      assertBreaks(kernel({ T0SZ: 49 }), 'range', 'T0SZ', 'error', { ...CTX, stt: true });
      assertBreaks(kernel({ T0SZ: 48, TG0: '64K' }), 'range', 'T0SZ', 'error', { ...CTX, stt: true });
      assert.equal(find(problems(CD, kernel({ T0SZ: 47, TG0: '64K' }), { ...CTX, stt: true }), 'range', 'T0SZ'), undefined);
    });

    it('T0SZ: at least 16, or 12 with 52-bit VA (VAX) and the 64K granule or DS', () => {
      assertBreaks(kernel({ T0SZ: 15 }), 'range', 'T0SZ', 'error', { ...CTX, vax: true });
      assertBreaks(kernel({ T0SZ: 12, TG0: '64K' }), 'range', 'T0SZ', 'error');
      assertBreaks(kernel({ T0SZ: 12, TG0: '64K' }), 'range', 'T0SZ', 'warning', { ...CTX, vax: undefined });
      assertBreaks(kernel({ T0SZ: 11, TG0: '64K' }), 'range', 'T0SZ', 'error', { ...CTX, vax: true });
      // 64K, 52-bit VA: 52 - 16 = 36 bits, 13 per level → 3 levels, top resolves 36 - 26 = 10 bits → 8 KB table.
      assertClean(kernel({ T0SZ: 12, TG0: '64K', TTB0: 0x40002000n }), { ...CTX, vax: true });
      // 4K with DS=1 (LPA2), 49-bit VA: 37 bits, 9 per level → 5 levels from level -1, top 37 - 36 = 1 bit → 16 bytes.
      assertClean(kernel({ T0SZ: 15, DS: 1 }), { ...CTX, vax: true });
    });

    it('T1SZ is checked only when EPD1=0', () => {
      // The kernel CD has T1SZ=0 with EPD1=1: not a problem (shown clean above). With TTB1 walks on:
      const w = kernel({ EPD1: 0, TG1: '4K', T1SZ: 10, TTB1: 0x50000000n });
      assertBreaks(w, 'range', 'T1SZ', 'error');
      assertClean(kernel({ EPD1: 0, TG1: '4K', T1SZ: 16, TTB1: 0x50000000n }));
    });

    it('TG0/TG1: reserved codes and granules the SMMU lacks are ILLEGAL', () => {
      // The reserved code is reported once, as ILLEGAL (not also as a reserved-value warning), saying what is right.
      const reserved = problems(CD, kernel({ TG0: 3 })).filter((p) => p.field === 'TG0');
      assert.deepEqual(reserved.map((p) => `${p.rule}:${p.severity}`), ['illegal:error']);
      assert.match(reserved[0].message, /^TG0 = RESERVED is ILLEGAL: .*use 0 \(4K\), 1 \(64K\) or 2 \(16K\)/);
      assertBreaks(kernel({ TG0: '64K' }), 'illegal', 'TG0', 'error', { ...CTX, granules: [4, 16] });
      assertClean(kernel({ TG0: '16K' }), { ...CTX, granules: [4, 16] });
      const tg1 = problems(CD, kernel({ EPD1: 0, TG1: 0, T1SZ: 16, TTB1: 0x50000000n })).filter((p) => p.field === 'TG1');
      assert.deepEqual(tg1.map((p) => `${p.rule}:${p.severity}`), ['illegal:error']);
      assert.match(tg1[0].message, /use 1 \(16K\), 2 \(4K\) or 3 \(64K\)/);
      // EPD1=1: TG1=0 (reserved) is ignored, as in the kernel CD.
      assertClean(kernel());
    });

    it('TTB0 within the effective IPS (and 48 bits for 4K/16K without DS)', () => {
      // IPS 48: 1 << 48 = 0x1_0000_0000_0000 is one past the range.
      assertBreaks(kernel({ TTB0: 0x1_0000_0000_0000n }), 'range', 'TTB0', 'error');
      assertClean(kernel({ TTB0: 0xffff_ffff_f000n }));
      // OAS 40 caps the IPS: 1 << 40 = 0x100_0000_0000.
      assertBreaks(kernel({ TTB0: 0x100_0000_0000n }), 'range', 'TTB0', 'error', { ...CTX, oas: 40 });
      // IPS 52: 4K without DS still stops at 48 bits; 64K or DS=1 reach 52.
      const oas52 = { ...CTX, oas: 52 };
      assertBreaks(kernel({ IPS: '52_BIT', TTB0: 0x1_0000_0000_0000n }), 'range', 'TTB0', 'error', oas52);
      assertClean(kernel({ IPS: '52_BIT', TG0: '64K', TTB0: 0x1_0000_0000_0000n }), oas52);
      assertClean(kernel({ IPS: '52_BIT', DS: 1, TTB0: 0x1_0000_0000_0000n }), oas52);
    });

    it('TTB0 aligned to its starting-level table', () => {
      // 48-bit VA, 4K: 4 KB level-0 table; 0x40001800 & 0xfff = 0x800.
      const p = assertBreaks(kernel({ TTB0: 0x40001800n }), 'align', 'TTB0', 'warning');
      assert.match(p.message, /walks from 0x40001000/);
      // 32-bit VA, 4K: 20 bits above the offset → 3 levels from level 1, top 20 - 18 = 2 bits → 4 x 8 = 32 bytes.
      assertClean(kernel({ T0SZ: 32, TTB0: 0x40001020n }));
      assertBreaks(kernel({ T0SZ: 32, TTB0: 0x40001010n }), 'align', 'TTB0', 'warning');
      // 52-bit effective IPS imposes 64 bytes at least: 0x40001020 & 0x3f = 0x20.
      assertBreaks(kernel({ T0SZ: 32, IPS: '52_BIT', DS: 1, TTB0: 0x40001020n }), 'align', 'TTB0', 'warning', { ...CTX, oas: 52 });
    });

    it('IPS above the OAS: capped, with a warning', () => {
      assertBreaks(kernel({ IPS: '52_BIT' }), 'range', 'IPS', 'warning');
      assert.match(decode(CD, kernel({ IPS: '52_BIT' }), CTX).field('IPS')!.text, /capped to the 48-bit OAS/);
      assertClean(kernel({ IPS: '44_BIT' }));
    });

    it('ENDI against SMMU_IDR0.TTENDIAN', () => {
      assertBreaks(kernel({ ENDI: 1 }), 'illegal', 'ENDI', 'error', { ...CTX, ttendian: 2 });
      assertBreaks(kernel(), 'illegal', 'ENDI', 'error', { ...CTX, ttendian: 3 });
      assertClean(kernel({ ENDI: 1 }), { ...CTX, ttendian: 3 });
      assertClean(kernel({ ENDI: 1 }));
      // Both walks disabled: ENDI is ignored.
      assertClean([Q0_QUIET], { ...CTX, ttendian: 3 });
    });

    it('HA/HD/HAFT against SMMU_IDR0.HTTU', () => {
      assertBreaks(kernel({ HA: 1 }), 'illegal', 'HA', 'error', { ...CTX, httu: 0 });
      assertBreaks(kernel({ HA: 1, HD: 1 }), 'illegal', 'HD', 'error', { ...CTX, httu: 1 });
      assertClean(kernel({ HA: 1 }), { ...CTX, httu: 1 });
      assertClean(kernel({ HA: 1, HD: 1 }));
      assertBreaks(kernel({ HD: 1 }), 'reserved-value', 'HD', 'warning');
      assertBreaks(kernel({ HAFT: 1 }), 'illegal', 'HAFT', 'error', { ...CTX, httu: 3 });
      assertBreaks(kernel({ HAFT: 1, HA: 1 }), 'res0', 'HAFT', 'warning');
      assertClean(kernel({ HAFT: 1, HA: 1, HD: 1 }), { ...CTX, httu: 3 });
    });

    it('S against SMMU_IDR0.STALL_MODEL', () => {
      assertBreaks(kernel({ S: 1 }), 'illegal', 'S', 'error', { ...CTX, stallModel: 1 });
      assertBreaks(kernel(), 'illegal', 'S', 'error', { ...CTX, stallModel: 2 });
      assertClean(kernel({ S: 1 }), { ...CTX, stallModel: 2 });
      assertClean(kernel({ S: 1 }));
    });

    it('ASID above 8 bits needs SMMU_IDR0.ASID16', () => {
      assertBreaks(kernel({ ASID: 0x100 }), 'illegal', 'ASID', 'error', { ...CTX, asid16: false });
      assertClean(kernel({ ASID: 0xff }), { ...CTX, asid16: false });
      assertClean(kernel({ ASID: 0xffff }));
    });

    it('AA64=0: VMSAv8-32 LPAE warning, its RES0 fields, its 40-bit output', () => {
      const w = kernel({ AA64: 0, T0SZ: 0, TTB0: 0x40001000n });
      assertBreaks(w, 'format', 'AA64', 'warning');
      // IPS/TG0/HA are ignored: no HA error even without HTTU.
      assert.equal(find(problems(CD, kernel({ AA64: 0, T0SZ: 0, HA: 1 }), { ...CTX, httu: 0 }), 'illegal', 'HA'), undefined);
      assertBreaks(kernel({ AA64: 0, T0SZ: 0, DS: 1 }), 'res0', 'DS', 'warning');
      // 40-bit output: 1 << 40 = 0x100_0000_0000 is out of range whatever IPS says.
      assertBreaks(kernel({ AA64: 0, T0SZ: 0, TTB0: 0x100_0000_0000n }), 'range', 'TTB0', 'error');
      // T0SZ=0: 32-bit input → 3 levels from level 1, 2 bits → 32-byte table.
      assert.match(decode(CD, w, CTX).field('TTB0')!.text, /level-1 table of 32 bytes/);
      assert.equal(find(problems(CD, kernel()), 'format', 'AA64'), undefined);
    });

    it('DS is RES0 when both granules are 64KB', () => {
      assertBreaks(kernel({ DS: 1, TG0: '64K', TG1: '64K' }), 'res0', 'DS', 'warning');
      assertClean(kernel({ DS: 1, TG1: '64K' }));
    });

    it('permission indirection: RES0 without PIE, reserved codes, priv-exec with user-write', () => {
      assertBreaks(kernel({ PIIU3: 1 }), 'res0', 'PIIU3', 'warning');
      const piiu = problems(CD, kernel({ PIE: 1, PIIU3: 4 }));
      assert.deepEqual(piiu.map((p) => `${p.rule}:${p.field}:${p.severity}`), ['illegal:PIIU3:error']);
      assert.match(piiu[0].message, /^PIIU3 = RES_100 is ILLEGAL: .*use 0 \(none\), 1 \(RO\), 2 \(XO\), 3 \(RX\), 5 \(RW\) or 7 \(RWX\)/);
      assertBreaks(kernel({ PIE: 1, PIIP3: 6 }), 'illegal', 'PIIP3', 'error');
      // Without PIE the fields are RES0, not ILLEGAL.
      assert.equal(find(problems(CD, kernel({ PIIU3: 4 })), 'illegal', 'PIIU3'), undefined);
      assertBreaks(kernel({ PIE: 1, PIIP2: 'XO', PIIU2: 'RW' }), 'illegal', 'PIIP2', 'error');
      assertClean(kernel({ PIE: 1, PIIP2: 'RO', PIIU2: 'RW' }));
      assertClean(kernel({ PIE: 1, PIIP2: 'RWX', PIIU2: 'RO' }));
    });

    it('A=0 is ILLEGAL when SMMU_IDR0.TERM_MODEL=1', () => {
      assertBreaks(kernel({ A: 0 }), 'illegal', 'A', 'error', { ...CTX, termModel: 1 });
      assertClean(kernel(), { ...CTX, termModel: 1 });
      assertClean(kernel({ A: 0 }), { ...CTX, termModel: 0 });
      assertClean(kernel({ A: 0 }));
    });

    it('DS counts only with SMMU_IDR5.DS', () => {
      // 4K, DS=1, T0SZ 15 (49-bit VA) is legal with DS and 52-bit VAs (shown clean above); without IDR5.DS, DS is RES0
      // and the VA is too wide for 4K.
      const wide = kernel({ T0SZ: 15, DS: 1 });
      assertBreaks(wide, 'range', 'T0SZ', 'error', { ...CTX, vax: true, ds: false });
      assertBreaks(wide, 'res0', 'DS', 'warning', { ...CTX, vax: true, ds: false });
      assertClean(wide, { ...CTX, vax: true, ds: true });
      // TTB0 at 2^48 needs 52-bit addressing: 4K with DS=1 reaches it only on an SMMU with DS.
      const high = kernel({ IPS: '52_BIT', DS: 1, TTB0: 0x1_0000_0000_0000n });
      assertBreaks(high, 'range', 'TTB0', 'error', { ...CTX, oas: 52, ds: false });
      assertClean(high, { ...CTX, oas: 52, ds: true });
    });

    it('AA64 against SMMU_IDR0.TTF and SMMU_IDR5.D128', () => {
      // VMSAv8-64 without AArch64 tables (TTF=0b01): ILLEGAL.
      assertBreaks(kernel(), 'illegal', 'AA64', 'error', { ...CTX, ttf: 1 });
      assertClean(kernel(), { ...CTX, ttf: 2 });
      // VMSAv8-32 (AA64=0, D128=0) without AArch32 tables (TTF=0b10): ILLEGAL; with TTF=0b11 only the format note.
      const aa32 = kernel({ AA64: 0, T0SZ: 0 });
      assertBreaks(aa32, 'illegal', 'AA64', 'error', { ...CTX, ttf: 2, d128: false });
      assert.deepEqual(problems(CD, aa32, { ...CTX, ttf: 3, d128: false }).map((p) => `${p.rule}:${p.field}`), ['format:AA64']);
      // D128 unknown: lenient, AA64=0 may be VMSAv9-128.
      assert.equal(find(problems(CD, aa32, { ...CTX, ttf: 2 }), 'illegal', 'AA64'), undefined);
    });

    it('AA64=0 with SMMU_IDR5.D128=1 is VMSAv9-128, not VMSAv8-32', () => {
      const d128 = { ...CTX, d128: true, ttf: 2 };
      // The kernel CD's 4K/48-bit walk as 128-bit tables: T0SZ is 6 bits (64 - 16 = 48-bit VA), TG0 is used.
      const w = kernel({ AA64: 0 });
      const d = decode(CD, w, d128);
      assert.deepEqual(d.problems.map((p) => `${p.rule}:${p.field}`), ['format:AA64']);
      assert.match(d.field('T0SZ')!.text, /48-bit input/);
      assert.equal(d.field('TG0')?.relevant, true);
      assert.equal(d.field('UWXN')?.relevant, false);
      assert.equal(d.summary, 'valid: ASID 1, TTB0 0x40001000, 48-bit VA, 4K granule, 48-bit IPS, VMSAv9-128 tables, TTB1 disabled');
      // HA is used (not ignored as for VMSAv8-32): ILLEGAL without HTTU.
      assertBreaks(kernel({ AA64: 0, HA: 1 }), 'illegal', 'HA', 'error', { ...d128, httu: 0 });
      // Fields RES0 for 128-bit tables; the reserved TG0 code is ILLEGAL as for VMSAv8-64.
      assertBreaks(kernel({ AA64: 0, PnCH: 1 }), 'res0', 'PnCH', 'warning', d128);
      assertBreaks(kernel({ AA64: 0, TG0: 3 }), 'illegal', 'TG0', 'error', d128);
      // Permission indirection is always on: a reserved PIIU code is ILLEGAL without PIE.
      assertBreaks(kernel({ AA64: 0, PIIU3: 4 }), 'illegal', 'PIIU3', 'error', d128);
      // T0SZ below 16 needs larger VAs (SMMU_IDR5.VAX).
      assertBreaks(kernel({ AA64: 0, T0SZ: 12 }), 'range', 'T0SZ', 'error', { ...d128, vax: false });
      assert.equal(find(problems(CD, kernel({ AA64: 0, T0SZ: 12 }), { ...d128, vax: true }), 'range', 'T0SZ'), undefined);
    });
  });
});

describe('arch/cd: Level 1 Context Descriptor', () => {
  it('encodes and decodes V=1, L2Ptr 0x40100000', () => {
    // V is bit 0; L2Ptr [55:12] holds PA[55:12] in place: 0x40100000 | 1 = 0x40100001.
    assert.deepEqual(encode(L1CD, { V: 1, L2Ptr: 0x40100000n }), [0x40100001n]);
    const d = decode(L1CD, [0x40100001n], CTX);
    assert.equal(d.summary, 'L2 CD table at 0x40100000');
    assert.equal(d.get('l2ptr'), 0x40100000n);
    // 0x40100000 & 0xffff = 0: 64KB-aligned too.
    assert.deepEqual(d.problems, []);
  });

  it('has L2Ptr at [55:12] per spec 5.3', () => {
    const f = findField(L1CD, 'L2Ptr');
    assert.deepEqual([f?.hi, f?.lo], [55, 12]);
    assert.deepEqual(L1CD.fields.filter((x) => x.reserved === 'RES0').map((x) => `${x.hi}:${x.lo}`), ['11:1', '63:56']);
  });

  it('warns when L2Ptr is not 64KB-aligned (S1Fmt=0b10 leaf tables)', () => {
    // 0x40101000 & 0xf000 = 0x1000: bits [15:12] set.
    const p = find(problems(L1CD, [0x40101001n]), 'align', 'L2Ptr');
    assert.equal(p?.severity, 'warning');
    assertClean([0x40110001n], CTX, L1CD);
  });

  it('rejects L2Ptr above the OAS', () => {
    // OAS 40: 1 << 40 = 0x100_0000_0000.
    assert.equal(find(problems(L1CD, [0x100_0000_0001n], { oas: 40 }), 'range', 'L2Ptr')?.severity, 'error');
    assertClean([0xff_ffff_0001n], { oas: 40 }, L1CD);
  });

  it('says invalid for V=0 and flags RES0 bits', () => {
    const d = decode(L1CD, [0x40101000n], CTX);
    assert.equal(d.summary, 'invalid (V=0): no L2 CD table');
    assert.deepEqual(d.problems, []);
    // Bit 5 is in RES0 [11:1].
    assert.equal(find(problems(L1CD, [0x40100021n]), 'res0', 'RES0[11:1]')?.severity, 'warning');
  });
});
