/**
 * STE and L1STD tables: hand-worked vectors (arithmetic in the comments, from IHI 0070
 * sections 5.1/5.2 and the Linux builders), field positions against the specification,
 * round-trips, relevance, and one breaking and one passing structure per rule.
 */
import { strict as assert } from 'node:assert';
import { decode, encode, FieldInput, fieldNames, setField } from '../../src/arch/codec';
import { ArchContext, Layout, mask, Problem } from '../../src/arch/field';
import { L1STD, STE } from '../../src/arch/ste';

/** A capable SMMU: every property present, nothing that makes the vectors below ILLEGAL. */
const FULL: ArchContext = {
  oas: 48, s1p: true, s2p: true, ssidSize: 20, sidSize: 16, cd2l: true, granules: [4, 16, 64],
  asid16: true, vmid16: true, stallModel: 0, ats: true, hyp: true, httu: 2, stt: true, ttendian: 0,
};

// --- Hand-worked vectors -----------------------------------------------------------------

/** Abort: V=1 (bit 0) | Config=ABORT 0b000 (bits [3:1]) = 0x1. */
const ABORT_STE = [0x1n];
/** Bypass: V=1 | Config=BYPASS 0b100 << 1 = 0x8 -> 0x9. */
const BYPASS_STE = [0x9n];
/**
 * The kernel's stage-1 STE (one CD, no substreams):
 *   qword0 = 0x4800f00b: V = bit0 = 1; Config = (0xb >> 1) & 7 = 0b101 S1_TRANS; S1Fmt = (0xb >> 4) & 3 = 0;
 *            S1ContextPtr = 0x4800f00b & ~0x3f = 0x4800f000; S1CDMax = bits [63:59] = 0.
 *   qword1 = 0xd6 = 0b1101_0110: S1DSS [1:0] = 0b10 SSID0; S1CIR [3:2] = 0b01 WBRA;
 *            S1COR [5:4] = 0b01 WBRA; S1CSH [7:6] = 0b11 ISH.
 */
const KERNEL_S1 = [0x4800f00bn, 0xd6n];
/**
 * A stage-2 STE built the way arm_smmu_make_s2_domain_ste() builds it, for a 40-bit IPA on 4K
 * (io-pgtable: 28 bits above the page, 4 levels, concatenation forced -> start level 1 with
 * 2 level-1 tables; SL0 = ~(1 + 1) & 3 = 1):
 *   qword0 = V 1 | Config S2_TRANS 0b110 << 1 = 0xc  -> 0xd
 *   qword1 = 0
 *   qword2 = S2VMID 5
 *          | VTCR << 32, VTCR = S2T0SZ 24 (0x18) | S2SL0 1 << 6 (0x40) | S2IR0 WBWA 1 << 8 (0x100)
 *                             | S2OR0 WBWA 1 << 10 (0x400) | S2SH0 ISH 3 << 12 (0x3000) | S2TG 4K 0 << 14
 *                             | S2PS 40-bit 2 << 16 (0x20000) = 0x23558
 *          | S2AA64 1 << 51 (0x0008_0000_0000_0000) | S2PTW 1 << 54 (0x0040_...) | S2R 1 << 58 (0x0400_...)
 *          = 0x0400 + 0x0040 + 0x0008 = 0x044a in bits [63:48], 0x0002_3558 << 32 -> 0x044a_3558_0000_0005
 *   qword3 = S2TTB 0x8_0000_0000 (bits [51:4] held in place) = 0x0000_0008_0000_0000
 */
const KERNEL_S2 = [0xdn, 0n, 0x044a355800000005n, 0x0000000800000000n];
/** L1STD: Span 9 (bits [4:0]) | L2Ptr 0x40010000 (bits [55:6] in place) = 0x40010009; 2^(9-1) = 256 STEs. */
const L1STD_9 = [0x40010009n];

const set = (l: Layout, words: readonly bigint[], values: Record<string, FieldInput>): bigint[] => {
  let w = [...words];
  for (const [k, v] of Object.entries(values)) w = setField(l, w, k, v);
  return w;
};
const ste = (words: readonly bigint[], values: Record<string, FieldInput> = {}): bigint[] => set(STE, words, values);
const problems = (l: Layout, words: readonly bigint[], ctx: ArchContext = FULL): readonly Problem[] => decode(l, words, ctx).problems;
const find = (ps: readonly Problem[], rule: string, field: string): Problem | undefined =>
  ps.find((p) => p.rule === rule && p.field === field);

/** Asserts the rule fires on `bad` (with the severity) and nothing at all is reported for `good`. */
function breaksAndPasses(l: Layout, rule: string, field: string, severity: 'error' | 'warning',
  bad: readonly bigint[], badCtx: ArchContext, good: readonly bigint[], goodCtx: ArchContext): void {
  const p = find(problems(l, bad, badCtx), rule, field);
  assert.ok(p, `expected ${rule} on ${field}; got ${JSON.stringify(problems(l, bad, badCtx))}`);
  assert.equal(p.severity, severity);
  assert.ok(p.message.length > 20, p.message);
  assert.deepEqual(problems(l, good, goodCtx), [], `good structure for ${rule}/${field}`);
}

describe('STE', () => {
  describe('hand-worked vectors', () => {
    it('decodes the abort STE 0x1', () => {
      const d = decode(STE, ABORT_STE, FULL);
      assert.equal(d.get('V'), 1n);
      assert.equal(d.field('Config')?.valueName, 'ABORT');
      assert.equal(d.summary, 'abort: transactions terminated, no event');
      assert.deepEqual(d.problems, []);
      assert.deepEqual(encode(STE, { V: 1, Config: 'ABORT' }), [...ABORT_STE, 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
    });

    it('decodes the bypass STE 0x9', () => {
      const d = decode(STE, BYPASS_STE, FULL);
      assert.equal(d.field('cfg')?.valueName, 'BYPASS');
      assert.equal(d.summary, 'bypass: stage 1 and 2 bypass');
      assert.deepEqual(d.problems, []);
      assert.deepEqual(encode(STE, { v: 1, cfg: 'bypass' })[0], 0x9n);
    });

    it("decodes the kernel's stage-1 STE [0x4800f00b, 0xd6]", () => {
      const d = decode(STE, KERNEL_S1, FULL);
      assert.equal(d.get('V'), 1n);
      assert.equal(d.field('Config')?.valueName, 'S1_TRANS');
      assert.equal(d.get('S1Fmt'), 0n);
      assert.equal(d.get('s1ctxptr'), 0x4800f000n);
      assert.equal(d.get('S1CDMax'), 0n);
      assert.equal(d.field('S1DSS')?.valueName, 'SSID0');
      assert.equal(d.field('S1CIR')?.valueName, 'WBRA');
      assert.equal(d.field('S1COR')?.valueName, 'WBRA');
      assert.equal(d.field('S1CSH')?.valueName, 'ISH');
      assert.equal(d.summary, 'stage-1 translate, stage 2 bypass; 1 CD at 0x4800f000');
      assert.deepEqual(d.problems, []);
      // S1CDMax = 0: substreams are off, so S1DSS (and S1Fmt) are IGNORED even though Linux writes SSID0.
      assert.equal(d.field('S1DSS')?.relevant, false);
      assert.equal(d.field('S1Fmt')?.relevant, false);
      const built = encode(STE, {
        V: 1, Config: 'S1_TRANS', S1ContextPtr: 0x4800f000n, S1DSS: 'SSID0', S1CIR: 'WBRA', S1COR: 'WBRA', S1CSH: 'ISH',
      });
      assert.deepEqual(built, [...KERNEL_S1, 0n, 0n, 0n, 0n, 0n, 0n]);
    });

    it('decodes a kernel-style stage-2 STE, every word computed by hand', () => {
      const d = decode(STE, KERNEL_S2, FULL);
      assert.equal(d.field('Config')?.valueName, 'S2_TRANS');
      assert.equal(d.get('vmid'), 5n);
      assert.equal(d.get('S2T0SZ'), 24n);
      assert.equal(d.get('S2SL0'), 1n);
      assert.equal(d.field('S2IR0')?.valueName, 'WBWA');
      assert.equal(d.field('S2OR0')?.valueName, 'WBWA');
      assert.equal(d.field('S2SH0')?.valueName, 'ISH');
      assert.equal(d.field('S2TG')?.valueName, '4K');
      assert.equal(d.field('S2PS')?.valueName, '40_BIT');
      assert.equal(d.get('S2AA64'), 1n);
      assert.equal(d.get('S2PTW'), 1n);
      assert.equal(d.get('S2R'), 1n);
      assert.equal(d.get('S2S'), 0n);
      assert.equal(d.get('S2TTB'), 0x800000000n);
      // 40-bit IPA at start level 1 on 4K: 40 - (2 * 9 + 12) = 10 index bits = 2 tables of 512 entries.
      assert.equal(d.summary, 'stage-2 translate, VMID 5, S2TTB 0x800000000, 4K granule, 40-bit IPA, start level 1 (2 concatenated tables)');
      assert.deepEqual(d.problems, []);
      const built = encode(STE, {
        V: 1, Config: 'S2_TRANS', S2VMID: 5, S2T0SZ: 24, S2SL0: 1, S2IR0: 'WBWA', S2OR0: 'WBWA', S2SH0: 'ISH',
        S2TG: '4K', S2PS: '40_BIT', S2AA64: 1, S2PTW: 1, S2R: 1, S2TTB: 0x800000000n,
      });
      assert.deepEqual(built, [...KERNEL_S2, 0n, 0n, 0n, 0n]);
      // The kernel's own bit positions: S2S is qword 2 bit 57 (absolute 185), S2R bit 58 (186).
      assert.equal(ste(KERNEL_S2, { S2S: 1 })[2], KERNEL_S2[2] | (1n << 57n));
      assert.equal(KERNEL_S2[2] & (1n << 58n), 1n << 58n);
    });

    it('says what an invalid STE does', () => {
      assert.equal(decode(STE, [0xan], FULL).summary, 'invalid (V=0): transactions abort with C_BAD_STE');
    });
  });

  describe('field positions (IHI 0070 section 5.2)', () => {
    // [name, hi, lo] exactly as the specification numbers them.
    const SPEC: Array<[string, number, number]> = [
      ['V', 0, 0], ['Config', 3, 1], ['S1Fmt', 5, 4], ['S1ContextPtr', 55, 6], ['S1CDMax', 63, 59],
      ['S1DSS', 65, 64], ['S1CIR', 67, 66], ['S1COR', 69, 68], ['S1CSH', 71, 70],
      ['S2HWU59', 72, 72], ['S2HWU60', 73, 73], ['S2HWU61', 74, 74], ['S2HWU62', 75, 75], ['DRE', 76, 76],
      ['CONT', 80, 77], ['DCP', 81, 81], ['PPAR', 82, 82], ['MEV', 83, 83], ['SW_RESERVED', 87, 84],
      ['S1PIE', 88, 88], ['S2FWB', 89, 89], ['S1MPAM', 90, 90], ['S1STALLD', 91, 91], ['EATS', 93, 92],
      ['STRW', 95, 94], ['MemAttr', 99, 96], ['MTCFG', 100, 100], ['ALLOCCFG', 104, 101], ['SHCFG', 109, 108],
      ['NSCFG', 111, 110], ['PRIVCFG', 113, 112], ['INSTCFG', 115, 114], ['IMPDEF[127:116]', 127, 116],
      ['S2VMID', 143, 128], ['IMPDEF[159:144]', 159, 144], ['S2T0SZ', 165, 160], ['S2SL0', 167, 166],
      ['S2IR0', 169, 168], ['S2OR0', 171, 170], ['S2SH0', 173, 172], ['S2TG', 175, 174], ['S2PS', 178, 176],
      ['S2AA64', 179, 179], ['S2ENDI', 180, 180], ['S2AFFD', 181, 181], ['S2PTW', 182, 182], ['S2HD', 183, 183],
      ['S2HA', 184, 184], ['S2S', 185, 185], ['S2R', 186, 186], ['S2HAFT', 187, 187], ['S2PIE', 188, 188],
      ['S2POE', 189, 189], ['DPT_VMATCH', 191, 190], ['S2NSW', 192, 192], ['S2NSA', 193, 193],
      ['S2SL0_2', 194, 194], ['S2DS', 195, 195], ['S2TTB', 247, 196], ['S2SKL', 254, 253],
      ['IMPDEF[271:256]', 271, 256], ['PARTID', 287, 272], ['S_S2T0SZ', 293, 288], ['S_S2SL0', 295, 294],
      ['S_S2TG', 303, 302], ['MECID', 319, 304], ['PMG', 327, 320], ['MPAM_NS', 328, 328],
      ['AssuredOnly', 329, 329], ['TL0', 330, 330], ['TL1', 331, 331], ['VMSPtr', 375, 332],
      ['S2SW', 384, 384], ['S2SA', 385, 385], ['S_S2SL0_2', 386, 386], ['S_S2TTB', 439, 388],
      ['S_S2SKL', 446, 445], ['S2POI0', 451, 448], ['S2POI15', 511, 508],
    ];
    it('places every field where the specification does', () => {
      for (const [name, hi, lo] of SPEC) {
        const f = STE.fields.find((x) => x.name === name);
        assert.ok(f, name);
        assert.deepEqual([f.hi, f.lo], [hi, lo], name);
      }
      // Everything else is RES0, and S2POI0..15 tile qword 7.
      const named = new Set(SPEC.map(([n]) => n));
      for (let p = 1; p < 15; p++) named.add(`S2POI${p}`);
      for (const f of STE.fields) if (!named.has(f.name)) assert.equal(f.reserved, 'RES0', f.name);
      assert.equal(STE.words, 8);
      assert.equal(STE.kind, 'ste');
      assert.equal(STE.title, 'Stream Table Entry');
    });

    it('accepts the Linux names that differ from the specification', () => {
      const w = encode(STE, { cfg: 'NESTED', s1ctxptr: 0x1000n, vmid: 7 });
      const d = decode(STE, w);
      assert.equal(d.get('Config'), 7n);
      assert.equal(d.get('S1ContextPtr'), 0x1000n);
      assert.equal(d.get('S2VMID'), 7n);
    });
  });

  describe('round-trip', () => {
    for (const layout of [STE, L1STD]) {
      it(`${layout.kind}: every named field alone, all ones and lowest bit`, () => {
        for (const name of fieldNames(layout)) {
          const f = layout.fields.find((x) => x.name === name)!;
          const low = BigInt(f.lo % 64);
          const width = f.hi - f.lo + 1;
          for (const raw of [mask(width), 1n]) {
            const v = f.kind === 'address' ? raw << low : raw;
            const w = encode(layout, { [name]: v });
            // The bits land at [hi:lo] of the right word, nowhere else.
            const expect = new Array<bigint>(layout.words).fill(0n);
            expect[Math.floor(f.lo / 64)] = raw << low;
            assert.deepEqual(w, expect, name);
            const d = decode(layout, w);
            assert.equal(d.get(name), v, name);
            for (const other of fieldNames(layout)) if (other !== name) assert.equal(d.get(other), 0n, `${name} -> ${other}`);
          }
        }
      });
    }
  });

  describe('relevance', () => {
    const relevant = (words: readonly bigint[], ctx: ArchContext = FULL): string[] =>
      decode(STE, words, ctx).fields.filter((f) => f.spec.kind !== 'reserved' && f.relevant).map((f) => f.spec.name);

    it('uses nothing but V when V=0', () => {
      assert.deepEqual(relevant([0xfffffffffffffffen, ~0n, ~0n, ~0n]), ['V']);
    });

    it('abort uses V, Config and CONT only', () => {
      assert.deepEqual(relevant(ABORT_STE), ['V', 'Config', 'CONT']);
    });

    it('stage 1 only: S1 fields and S2VMID, no S2 translation fields', () => {
      const r = relevant(KERNEL_S1);
      for (const n of ['S1ContextPtr', 'S1CDMax', 'S1CIR', 'S1COR', 'S1CSH', 'S1STALLD', 'EATS', 'STRW', 'S2VMID']) assert.ok(r.includes(n), n);
      for (const n of ['S2T0SZ', 'S2TTB', 'S2S', 'S2PTW', 'S1DSS', 'S1Fmt', 'SHCFG', 'MTCFG']) assert.ok(!r.includes(n), n);
      // StreamWorld EL2 is not VMID-tagged.
      assert.ok(!relevant(ste(KERNEL_S1, { STRW: 'EL2' })).includes('S2VMID'));
      // Without stage 2 in the SMMU there is no VMID at all.
      assert.ok(!relevant(KERNEL_S1, { ...FULL, s2p: false }).includes('S2VMID'));
      // Substreams on: S1Fmt and S1DSS are used; S1DSS=BYPASS lets input attributes through.
      const sub = ste(KERNEL_S1, { S1CDMax: 4, S1ContextPtr: 0x4800f400n });
      assert.ok(relevant(sub).includes('S1DSS') && relevant(sub).includes('S1Fmt'));
      assert.ok(relevant(ste(sub, { S1DSS: 'BYPASS' })).includes('SHCFG'));
    });

    it('stage 2 only: S2 fields, no S1 fields, no STRW', () => {
      const r = relevant(KERNEL_S2);
      for (const n of ['S2VMID', 'S2T0SZ', 'S2SL0', 'S2TG', 'S2PS', 'S2AA64', 'S2TTB', 'S2S', 'S2R', 'SHCFG']) assert.ok(r.includes(n), n);
      for (const n of ['S1ContextPtr', 'S1CDMax', 'S1CIR', 'STRW', 'S2PTW']) assert.ok(!r.includes(n), n);
      // S2PTW only matters when stage 1 walks through stage 2.
      assert.ok(relevant(ste(KERNEL_S2, { Config: 'NESTED' })).includes('S2PTW'));
    });

    it('bypass uses the attribute overrides, not the translation fields', () => {
      const r = relevant(BYPASS_STE);
      for (const n of ['SHCFG', 'MTCFG', 'ALLOCCFG', 'PRIVCFG', 'INSTCFG']) assert.ok(r.includes(n), n);
      for (const n of ['S1ContextPtr', 'S2TTB', 'EATS', 'S2VMID']) assert.ok(!r.includes(n), n);
    });
  });

  describe('value notes', () => {
    it('shows CD counts, IPA size, start level, effective PS', () => {
      const d = decode(STE, ste(KERNEL_S1, { S1CDMax: 4, S1ContextPtr: 0x4800f400n }), FULL);
      assert.match(d.field('S1CDMax')!.text, /2\^4 = 16 CDs/);
      assert.equal(d.summary, 'stage-1 translate, stage 2 bypass; linear CD table of 2^4 CDs at 0x4800f400, S1DSS=SSID0');
      const s2 = decode(STE, KERNEL_S2, { ...FULL, oas: 36 });
      assert.match(s2.field('S2T0SZ')!.text, /40-bit IPA/);
      assert.match(s2.field('S2SL0')!.text, /start level 1/);
      assert.match(s2.field('S2PS')!.text, /40_BIT .*effective 36 bits/);
      assert.match(s2.field('S2TG')!.text, /4K/);
    });

    it('summarises a nested STE', () => {
      const w = ste(KERNEL_S2, { Config: 'NESTED', S1ContextPtr: 0x4800f000n });
      assert.equal(decode(STE, w, FULL).summary,
        'nested: stage-1 then stage-2 translate; 1 CD at 0x4800f000 (IPA); VMID 5, S2TTB 0x800000000, 4K granule, 40-bit IPA, ' +
        'start level 1 (2 concatenated tables)');
    });

    it('flags an ILLEGAL STE in the summary', () => {
      const d = decode(STE, KERNEL_S2, { ...FULL, s2p: false });
      assert.match(d.summary, /^ILLEGAL, behaves as V=0 \(C_BAD_STE\): stage-2 translate/);
      assert.match(decode(STE, ste(KERNEL_S2, { S2TG: 3 }), FULL).summary, /^ILLEGAL/);
    });
  });

  describe('rules', () => {
    it('Config reserved values behave as abort', () => {
      const w = [0x3n]; // V=1, Config=0b001
      const ps = problems(STE, w);
      assert.equal(find(ps, 'reserved-value', 'Config')?.severity, 'warning');
      assert.match(decode(STE, w).summary, /reserved Config 0b001 behaves as ABORT/);
      assert.deepEqual(problems(STE, ABORT_STE), []);
    });

    it('stage 1 or stage 2 not implemented', () => {
      breaksAndPasses(STE, 'illegal', 'Config', 'error', KERNEL_S1, { ...FULL, s1p: false }, KERNEL_S1, FULL);
      breaksAndPasses(STE, 'illegal', 'Config', 'error', KERNEL_S2, { ...FULL, s2p: false }, KERNEL_S2, FULL);
    });

    it('S1CDMax above SSIDSIZE', () => {
      // 2^9 CDs * 64 bytes = 32KB: 0x48000000 is aligned.
      const w = ste(KERNEL_S1, { S1CDMax: 9, S1ContextPtr: 0x48000000n });
      breaksAndPasses(STE, 'range', 'S1CDMax', 'error', w, { ...FULL, ssidSize: 8 }, w, { ...FULL, ssidSize: 9 });
      // Beyond the architectural maximum of 20 even without ctx.
      assert.ok(find(problems(STE, ste(w, { S1CDMax: 21 }), {}), 'range', 'S1CDMax'));
    });

    it('2-level CD table without CD2L', () => {
      // 64K_L2 with 2^12 CDs: L1 has 2^(12-10) = 4 entries (32 bytes, 64-byte aligned).
      const w = ste(KERNEL_S1, { S1CDMax: 12, S1Fmt: '64K_L2', S1ContextPtr: 0x48000000n });
      breaksAndPasses(STE, 'illegal', 'S1Fmt', 'error', w, { ...FULL, cd2l: false }, w, FULL);
    });

    it('S1ContextPtr aligned to the CD table', () => {
      // Linear, 2^4 CDs * 64 = 1KB: 0x4800f040 has bits [9:6] set; 0x4800f400 does not.
      breaksAndPasses(STE, 'align', 'S1ContextPtr', 'warning',
        ste(KERNEL_S1, { S1CDMax: 4, S1ContextPtr: 0x4800f040n }), FULL, ste(KERNEL_S1, { S1CDMax: 4, S1ContextPtr: 0x4800f400n }), FULL);
      // 4K_L2 with 2^12 CDs: L1 = 2^6 entries * 8 = 512 bytes (bits [8:6] RES0, i.e. S1CDMax - 4 = 8).
      breaksAndPasses(STE, 'align', 'S1ContextPtr', 'warning',
        ste(KERNEL_S1, { S1CDMax: 12, S1Fmt: '4K_L2', S1ContextPtr: 0x48000100n }), FULL,
        ste(KERNEL_S1, { S1CDMax: 12, S1Fmt: '4K_L2', S1ContextPtr: 0x48000200n }), FULL);
      // 64K_L2 with 2^16 CDs: L1 = 2^6 entries * 8 = 512 bytes (S1CDMax - 8 = 8).
      breaksAndPasses(STE, 'align', 'S1ContextPtr', 'warning',
        ste(KERNEL_S1, { S1CDMax: 16, S1Fmt: '64K_L2', S1ContextPtr: 0x48000100n }), FULL,
        ste(KERNEL_S1, { S1CDMax: 16, S1Fmt: '64K_L2', S1ContextPtr: 0x48000200n }), FULL);
    });

    it('S1ContextPtr beyond the OAS (or the IAS when nested)', () => {
      const w = ste(KERNEL_S1, { S1ContextPtr: 1n << 48n });
      breaksAndPasses(STE, 'range', 'S1ContextPtr', 'error', w, FULL, w, { ...FULL, oas: 52 });
      // Nested: an IPA, checked against max(40, OAS) = 40 bits when OAS is 36.
      const n = ste(KERNEL_S2, { Config: 'NESTED', S1ContextPtr: 1n << 40n });
      assert.ok(find(problems(STE, n, { ...FULL, oas: 36 }), 'range', 'S1ContextPtr'));
      assert.ok(!find(problems(STE, ste(n, { S1ContextPtr: 1n << 39n }), { ...FULL, oas: 36 }), 'range', 'S1ContextPtr'));
    });

    it('STRW', () => {
      breaksAndPasses(STE, 'illegal', 'STRW', 'error', ste(KERNEL_S1, { STRW: 'EL3' }), FULL, ste(KERNEL_S1, { STRW: 'EL2' }), FULL);
      assert.equal(find(problems(STE, ste(KERNEL_S1, { STRW: 3 })), 'reserved-value', 'STRW')?.severity, 'error');
      breaksAndPasses(STE, 'res0', 'STRW', 'warning', ste(KERNEL_S1, { STRW: 'EL2' }), { ...FULL, hyp: false }, KERNEL_S1, { ...FULL, hyp: false });
    });

    it('stall model against S1STALLD and S2S', () => {
      const s1 = ste(KERNEL_S1, { S1STALLD: 1 });
      breaksAndPasses(STE, 'illegal', 'S1STALLD', 'error', s1, { ...FULL, stallModel: 1 }, s1, FULL);
      const s2s = ste(KERNEL_S2, { S2S: 1 });
      breaksAndPasses(STE, 'illegal', 'S2S', 'error', s2s, { ...FULL, stallModel: 1 }, s2s, { ...FULL, stallModel: 2 });
      breaksAndPasses(STE, 'illegal', 'S2S', 'error', KERNEL_S2, { ...FULL, stallModel: 2 }, KERNEL_S2, { ...FULL, stallModel: 1 });
    });

    it('EATS: ATS support, S2S, split-stage', () => {
      const trans = ste(KERNEL_S2, { EATS: 'TRANS' });
      breaksAndPasses(STE, 'unsupported', 'EATS', 'warning', trans, { ...FULL, ats: false }, trans, FULL);
      breaksAndPasses(STE, 'illegal', 'EATS', 'error', ste(trans, { S2S: 1 }), FULL, trans, FULL);
      // S2S is IGNORED for a stage-1-only stream (SMMUv3.1+).
      assert.deepEqual(problems(STE, ste(KERNEL_S1, { EATS: 'TRANS', S2S: 1 })), []);
      const split = ste(KERNEL_S2, { EATS: 'S1CHK', Config: 'NESTED', S1ContextPtr: 0x4800f000n });
      breaksAndPasses(STE, 'illegal', 'EATS', 'error', ste(split, { Config: 'S2_TRANS' }), FULL, split, FULL);
      assert.ok(find(problems(STE, ste(split, { S2S: 1 })), 'illegal', 'EATS'));
      assert.match(decode(STE, trans, FULL).summary, /; ATS enabled$/);
    });

    it('16-bit VMIDs', () => {
      const w = ste(KERNEL_S2, { S2VMID: 0x100 });
      breaksAndPasses(STE, 'illegal', 'S2VMID', 'error', w, { ...FULL, vmid16: false }, w, FULL);
      // A stage-1-only NS-EL1 stream is VMID-tagged too; an EL2 one is not.
      assert.ok(find(problems(STE, ste(KERNEL_S1, { S2VMID: 0x100 }), { ...FULL, vmid16: false }), 'illegal', 'S2VMID'));
      assert.deepEqual(problems(STE, ste(KERNEL_S1, { S2VMID: 0x100, STRW: 'EL2' }), { ...FULL, vmid16: false }), []);
    });

    it('S2TG: reserved value and unsupported granule', () => {
      assert.equal(find(problems(STE, ste(KERNEL_S2, { S2TG: 3 })), 'reserved-value', 'S2TG')?.severity, 'error');
      breaksAndPasses(STE, 'illegal', 'S2TG', 'error', KERNEL_S2, { ...FULL, granules: [16, 64] }, KERNEL_S2, { ...FULL, granules: [4] });
    });

    it('S2T0SZ range for the granule and STT', () => {
      // T0SZ 40 = 24-bit IPA, start level 2 (S2SL0=0) on 4K resolves 22..34 bits: consistent.
      const small = ste(KERNEL_S2, { S2T0SZ: 40, S2SL0: 0 });
      breaksAndPasses(STE, 'range', 'S2T0SZ', 'error', small, { ...FULL, stt: false }, small, FULL);
      // T0SZ 10 = 54-bit IPA: below the 4K minimum of 16 (MAX(16, 64 - 48)).
      assert.ok(find(problems(STE, ste(KERNEL_S2, { S2T0SZ: 10 })), 'range', 'S2T0SZ'));
      // 64K allows 12 only with a 52-bit IAS: with OAS 48 the minimum is 64 - 48 = 16.
      const big = ste(KERNEL_S2, { S2TG: '64K', S2T0SZ: 12, S2SL0: 2 });
      assert.ok(find(problems(STE, big, FULL), 'range', 'S2T0SZ'));
      assert.ok(!find(problems(STE, big, { ...FULL, oas: 52 }), 'range', 'S2T0SZ'));
    });

    it('S2SL0 consistent with S2TG and S2T0SZ', () => {
      // Start level 2 (S2SL0=0) on 4K covers 9 + 12 + 1 = 22 .. 22 + 8 + 4 = 34 bits; 40 is too many.
      breaksAndPasses(STE, 'illegal', 'S2SL0', 'error', ste(KERNEL_S2, { S2SL0: 0 }), FULL, KERNEL_S2, FULL);
      // Start level 0 (S2SL0=2) covers 40..48 bits, but on 4K needs a PA size of at least 44 bits.
      const l0 = ste(KERNEL_S2, { S2SL0: 2 });
      breaksAndPasses(STE, 'illegal', 'S2SL0', 'error', l0, { ...FULL, oas: 40 }, l0, FULL);
      // 64K: S2SL0=3 is reserved. 64K start level 2 (S2SL0=1): 13 + 16 + 1 = 30 .. 30 + 12 + 4 = 46 bits.
      const k64 = ste(KERNEL_S2, { S2TG: '64K', S2SL0: 1 });
      breaksAndPasses(STE, 'illegal', 'S2SL0', 'error', ste(k64, { S2SL0: 3 }), FULL, k64, FULL);
      // VMSAv8-32 LPAE: T0SZ 0b1000 = -8 -> 32 + 8 = 40-bit IPA; SL0=1 (level 1) covers 31..43, SL0=0 (level 2) 22..34.
      const aa32 = ste(KERNEL_S2, { S2AA64: 0, S2T0SZ: 8 });
      breaksAndPasses(STE, 'illegal', 'S2SL0', 'error', ste(aa32, { S2SL0: 0 }), FULL, aa32, FULL);
      assert.ok(find(problems(STE, ste(aa32, { S2SL0: 2 })), 'illegal', 'S2SL0'));
    });

    it('S2TTB within the output size and aligned for the start level', () => {
      // S2PS 40-bit: 2^40 is out of range, 2^39 is in.
      breaksAndPasses(STE, 'range', 'S2TTB', 'error', ste(KERNEL_S2, { S2TTB: 1n << 40n }), FULL, ste(KERNEL_S2, { S2TTB: 1n << 39n }), FULL);
      // The effective size is capped by the OAS: 0x8_0000_0000 = 2^35 is beyond 32 bits.
      assert.ok(find(problems(STE, KERNEL_S2, { ...FULL, oas: 32 }), 'range', 'S2TTB'));
      // Two concatenated 4KB level-1 tables = 8KB: 0x8_0000_1000 is misaligned, 0x8_0000_2000 is fine.
      breaksAndPasses(STE, 'align', 'S2TTB', 'warning',
        ste(KERNEL_S2, { S2TTB: 0x800001000n }), FULL, ste(KERNEL_S2, { S2TTB: 0x800002000n }), FULL);
    });

    it('VMSAv8-32 LPAE stage 2 forbids FWB, HTTU and indirection', () => {
      const aa32 = ste(KERNEL_S2, { S2AA64: 0, S2T0SZ: 8 });
      breaksAndPasses(STE, 'illegal', 'S2FWB', 'error', ste(aa32, { S2FWB: 1 }), FULL, ste(KERNEL_S2, { S2FWB: 1 }), FULL);
      breaksAndPasses(STE, 'illegal', 'S2HA', 'error', ste(aa32, { S2HA: 1 }), FULL, ste(KERNEL_S2, { S2HA: 1 }), FULL);
      breaksAndPasses(STE, 'illegal', 'S2PIE', 'error', ste(aa32, { S2PIE: 1 }), FULL, ste(KERNEL_S2, { S2PIE: 1 }), FULL);
      // The granule of VMSAv8-32 is 4KB: S2TG is RES0.
      breaksAndPasses(STE, 'res0', 'S2TG', 'warning', ste(aa32, { S2TG: '16K' }), FULL, aa32, FULL);
    });

    it('stage-2 hardware updates against IDR0.HTTU', () => {
      const ha = ste(KERNEL_S2, { S2HA: 1 });
      breaksAndPasses(STE, 'illegal', 'S2HA', 'error', ha, { ...FULL, httu: 0 }, ha, { ...FULL, httu: 1 });
      const hd = ste(ha, { S2HD: 1 });
      breaksAndPasses(STE, 'illegal', 'S2HD', 'error', hd, { ...FULL, httu: 1 }, hd, FULL);
      breaksAndPasses(STE, 'reserved-value', 'S2HD', 'warning', ste(KERNEL_S2, { S2HD: 1 }), FULL, hd, FULL);
      breaksAndPasses(STE, 'illegal', 'S2HAFT', 'error', ste(KERNEL_S2, { S2HAFT: 1 }), { ...FULL, httu: 3 },
        ste(ha, { S2HAFT: 1 }), { ...FULL, httu: 3 });
    });

    it('S2ENDI against IDR0.TTENDIAN', () => {
      const be = ste(KERNEL_S2, { S2ENDI: 'BE' });
      breaksAndPasses(STE, 'illegal', 'S2ENDI', 'error', be, { ...FULL, ttendian: 2 }, be, { ...FULL, ttendian: 3 });
      breaksAndPasses(STE, 'illegal', 'S2ENDI', 'error', KERNEL_S2, { ...FULL, ttendian: 3 }, KERNEL_S2, { ...FULL, ttendian: 2 });
    });

    it('stage-2 permission overlays', () => {
      const poe = ste(KERNEL_S2, { S2POE: 1 });
      breaksAndPasses(STE, 'illegal', 'S2POE', 'error', poe, FULL, ste(poe, { S2PIE: 1 }), FULL);
      breaksAndPasses(STE, 'illegal', 'S2POE', 'error', ste(poe, { S2PIE: 1, S2HWU59: 1 }), FULL, ste(KERNEL_S2, { S2HWU59: 1 }), FULL);
      // 0b0001 is a reserved overlay encoding (C_BAD_STE); 0b1100 is RW.
      assert.equal(find(problems(STE, ste(poe, { S2PIE: 1, S2POI3: 1 })), 'reserved-value', 'S2POI3')?.severity, 'error');
      assert.deepEqual(problems(STE, ste(poe, { S2PIE: 1, S2POI3: 'RW' })), []);
      breaksAndPasses(STE, 'res0', 'S2POI3', 'warning', ste(KERNEL_S2, { S2POI3: 'RW' }), FULL, KERNEL_S2, FULL);
    });

    it('VMSPtr beyond the OAS when enabled', () => {
      const n = ste(KERNEL_S2, { Config: 'NESTED', S1ContextPtr: 0x4800f000n, S1MPAM: 1 });
      breaksAndPasses(STE, 'range', 'VMSPtr', 'error', ste(n, { VMSPtr: 1n << 48n }), FULL, ste(n, { VMSPtr: 1n << 47n }), FULL);
    });

    it('fields the configuration makes RES0', () => {
      breaksAndPasses(STE, 'res0', 'MemAttr', 'warning', ste(BYPASS_STE, { MemAttr: 'OIWB' }), FULL,
        ste(BYPASS_STE, { MemAttr: 'OIWB', MTCFG: 1 }), FULL);
      breaksAndPasses(STE, 'res0', 'DPT_VMATCH', 'warning', ste(KERNEL_S2, { EATS: 'TRANS', DPT_VMATCH: 2 }), FULL,
        ste(KERNEL_S2, { EATS: 'TRANS_DPT', DPT_VMATCH: 2 }), FULL);
      breaksAndPasses(STE, 'res0', 'S2SKL', 'warning', ste(KERNEL_S2, { S2SKL: 1 }), FULL, KERNEL_S2, FULL);
      // S2DS with a 64KB granule (start level 2 covers 30..46 bits, 40 fits).
      const k64 = ste(KERNEL_S2, { S2TG: '64K', S2SL0: 1 });
      breaksAndPasses(STE, 'res0', 'S2DS', 'warning', ste(k64, { S2DS: 1 }), FULL, k64, FULL);
      // Nothing is RES0-checked in an invalid STE: its fields are IGNORED.
      assert.deepEqual(problems(STE, [0n, 0n, 1n << 62n]), []);
    });
  });

  describe('rules that need the SMMU\'s features (exact with the flag, lenient without)', () => {
    /** VMSAv8-32 LPAE stage 2: T0SZ 0b1000 = -8 -> 40-bit IPA, S2SL0=1 (level 1). */
    const aa32 = ste(KERNEL_S2, { S2AA64: 0, S2T0SZ: 8 });
    /**
     * The same words read as VMSAv9-128 (IDR5.D128=1): S2T0SZ 24 -> 64 - 24 = 40-bit IPA; S2SL0 is RES0 there, so 0;
     * start levels come from S2SKL (not modelled). As VMSAv8-32 they would be T0SZ 0b1000 with SL0=0 (level 2, 22..34 bits).
     */
    const v128 = ste(KERNEL_S2, { S2AA64: 0, S2SL0: 0 });

    it('IAS from the context for nested S1ContextPtr and S2T0SZ', () => {
      // Nested, S2T0SZ 25 = 39-bit IPA (level 1 on 4K covers 31..43 bits; 39 - 30 = 9 bits: one 4KB table).
      const n = ste(KERNEL_S2, { Config: 'NESTED', S2T0SZ: 25, S1ContextPtr: 1n << 38n });
      // IAS 38: 2^38 is out of range; IAS 39: in range. Without ias, max(40, OAS 36) = 40 bits (lenient).
      breaksAndPasses(STE, 'range', 'S1ContextPtr', 'error', n, { ...FULL, oas: 36, ias: 38 }, n, { ...FULL, oas: 36, ias: 39 });
      assert.equal(find(problems(STE, n, { ...FULL, oas: 36 }), 'range', 'S1ContextPtr'), undefined);
      // S2T0SZ 24 = 40-bit IPA needs an IAS of 40: the minimum is 64 - IAS.
      breaksAndPasses(STE, 'range', 'S2T0SZ', 'error', KERNEL_S2, { ...FULL, ias: 39 }, KERNEL_S2, { ...FULL, ias: 40 });
    });

    it('IDR5.D128: S2AA64=0 is VMSAv9-128, not VMSAv8-32', () => {
      const d = decode(STE, v128, { ...FULL, d128: true });
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'stage-2 translate, VMID 5, S2TTB 0x800000000, 4K granule (VMSAv9-128), 40-bit IPA');
      assert.equal(d.field('S2SKL')?.relevant, true);
      assert.equal(d.field('S2SL0')?.relevant, false);
      assert.match(d.field('S2T0SZ')!.text, /^24 \(0x18\) \(40-bit IPA\)$/);
      // Read as VMSAv8-32 (D128=0) the same words have an inconsistent start level.
      breaksAndPasses(STE, 'illegal', 'S2SL0', 'error', v128, { ...FULL, d128: false }, v128, { ...FULL, d128: true });
      // The VMSAv8-32 prohibitions do not apply to VMSAv9-128 ...
      const fwb = ste(v128, { S2FWB: 1 });
      breaksAndPasses(STE, 'illegal', 'S2FWB', 'error', fwb, { ...FULL, d128: false }, fwb, { ...FULL, d128: true });
      // ... but its own RES0 fields do, and S2SKL is RES0 without D128.
      breaksAndPasses(STE, 'res0', 'S2SL0', 'warning', ste(v128, { S2SL0: 1 }), { ...FULL, d128: true }, v128, { ...FULL, d128: true });
      breaksAndPasses(STE, 'res0', 'S2SKL', 'warning', ste(aa32, { S2SKL: 1 }), { ...FULL, d128: false }, aa32, { ...FULL, d128: false });
    });

    it('IDR0.TTF: the stage-2 table format must be supported', () => {
      breaksAndPasses(STE, 'illegal', 'S2AA64', 'error', KERNEL_S2, { ...FULL, ttf: 1 }, KERNEL_S2, { ...FULL, ttf: 2 });
      breaksAndPasses(STE, 'illegal', 'S2AA64', 'error', aa32, { ...FULL, ttf: 2, d128: false }, aa32, { ...FULL, ttf: 3, d128: false });
      // D128 unknown: S2AA64=0 might be VMSAv9-128, so no error.
      assert.equal(find(problems(STE, aa32, { ...FULL, ttf: 2 }), 'illegal', 'S2AA64'), undefined);
    });

    it('IDR1.ATTR_TYPES_OVR / ATTR_PERMS_OVR: the override fields are RES0 without them', () => {
      const sh = ste(BYPASS_STE, { SHCFG: 'INCOMING' });
      breaksAndPasses(STE, 'res0', 'SHCFG', 'warning', sh, { ...FULL, attrTypesOvr: false }, sh, { ...FULL, attrTypesOvr: true });
      assert.equal(decode(STE, sh, { ...FULL, attrTypesOvr: false }).field('SHCFG')?.relevant, false);
      // MemAttr with MTCFG=0 is RES0 for two reasons: reported once.
      const mem = problems(STE, ste(BYPASS_STE, { MemAttr: 'OIWB' }), { ...FULL, attrTypesOvr: false });
      assert.deepEqual(mem.map((p) => `${p.rule}:${p.field}`), ['res0:MemAttr']);
      const priv = ste(BYPASS_STE, { PRIVCFG: 'PRIV' });
      breaksAndPasses(STE, 'res0', 'PRIVCFG', 'warning', priv, { ...FULL, attrPermsOvr: false }, priv, { ...FULL, attrPermsOvr: true });
      assert.equal(decode(STE, priv, { ...FULL, attrPermsOvr: false }).field('PRIVCFG')?.relevant, false);
    });

    it('IDR3.MPAM: the MPAM fields are RES0 without it', () => {
      const partid = ste(BYPASS_STE, { PARTID: 1 });
      breaksAndPasses(STE, 'res0', 'PARTID', 'warning', partid, { ...FULL, mpam: false }, partid, { ...FULL, mpam: true });
      // Without MPAM there is no VMS: S1MPAM is RES0 and VMSPtr is not range-checked.
      const n = ste(KERNEL_S2, { Config: 'NESTED', S1ContextPtr: 0x4800f000n, S1MPAM: 1, VMSPtr: 1n << 48n });
      const ps = problems(STE, n, { ...FULL, mpam: false });
      assert.deepEqual(ps.map((p) => `${p.rule}:${p.field}`), ['res0:S1MPAM']);
    });

    it('IDR3.FWB / S2PI / S2PO: S2FWB, S2PIE, S2POE are RES0 (not ILLEGAL) without them', () => {
      breaksAndPasses(STE, 'res0', 'S2FWB', 'warning', ste(aa32, { S2FWB: 1 }), { ...FULL, fwb: false }, aa32, { ...FULL, fwb: false });
      assert.equal(find(problems(STE, ste(aa32, { S2FWB: 1 }), { ...FULL, fwb: false }), 'illegal', 'S2FWB'), undefined);
      breaksAndPasses(STE, 'res0', 'S2PIE', 'warning', ste(aa32, { S2PIE: 1 }), { ...FULL, s2pi: false }, aa32, { ...FULL, s2pi: false });
      assert.equal(find(problems(STE, ste(aa32, { S2PIE: 1 }), { ...FULL, s2pi: false }), 'illegal', 'S2PIE'), undefined);
      // S2POE=1 with the direct scheme is ILLEGAL only where overlays exist.
      const poe = ste(KERNEL_S2, { S2POE: 1 });
      breaksAndPasses(STE, 'res0', 'S2POE', 'warning', poe, { ...FULL, s2po: false }, KERNEL_S2, { ...FULL, s2po: false });
      assert.equal(find(problems(STE, poe, { ...FULL, s2po: false }), 'illegal', 'S2POE'), undefined);
      assert.ok(find(problems(STE, poe, { ...FULL, s2po: true }), 'illegal', 'S2POE'));
    });

    it('IDR3.PBHA: the S2HWU bits are IGNORED without it, so they cannot clash with S2POE', () => {
      const hwu = ste(KERNEL_S2, { S2POE: 1, S2PIE: 1, S2HWU59: 1 });
      breaksAndPasses(STE, 'illegal', 'S2POE', 'error', hwu, { ...FULL, pbha: true }, hwu, { ...FULL, pbha: false });
      assert.equal(decode(STE, hwu, { ...FULL, pbha: false }).field('S2HWU59')?.relevant, false);
    });

    it('IDR3.DPT: EATS=TRANS_DPT is reserved (as ABT) without it, ILLEGAL for an EL2 stream with it', () => {
      const dpt = ste(KERNEL_S2, { EATS: 'TRANS_DPT' });
      breaksAndPasses(STE, 'reserved-value', 'EATS', 'warning', dpt, { ...FULL, dpt: false }, dpt, { ...FULL, dpt: true });
      assert.doesNotMatch(decode(STE, dpt, { ...FULL, dpt: false }).summary, /ATS/);
      assert.match(decode(STE, dpt, { ...FULL, dpt: true }).summary, /; ATS with DPT checks$/);
      breaksAndPasses(STE, 'illegal', 'EATS', 'error', ste(KERNEL_S1, { STRW: 'EL2', EATS: 'TRANS_DPT' }), { ...FULL, dpt: true },
        ste(KERNEL_S1, { EATS: 'TRANS_DPT' }), { ...FULL, dpt: true });
      assert.equal(find(problems(STE, ste(KERNEL_S1, { STRW: 'EL2', EATS: 'TRANS_DPT' })), 'illegal', 'EATS'), undefined);
      const vmatch = ste(dpt, { DPT_VMATCH: 2 });
      breaksAndPasses(STE, 'res0', 'DPT_VMATCH', 'warning', vmatch, { ...FULL, dpt: false }, vmatch, { ...FULL, dpt: true });
    });

    it('IDR0.NS1ATS: split-stage ATS is ILLEGAL where NS1ATS=1 says it is not supported', () => {
      const split = ste(KERNEL_S2, { EATS: 'S1CHK', Config: 'NESTED', S1ContextPtr: 0x4800f000n });
      breaksAndPasses(STE, 'illegal', 'EATS', 'error', split, { ...FULL, ns1ats: true }, split, { ...FULL, ns1ats: false });
    });

    it('IDR5.DS: S2DS is RES0 without it', () => {
      breaksAndPasses(STE, 'res0', 'S2DS', 'warning', ste(KERNEL_S2, { S2DS: 1 }), { ...FULL, ds: false }, KERNEL_S2, { ...FULL, ds: false });
      assert.deepEqual(problems(STE, ste(KERNEL_S2, { S2DS: 1 }), { ...FULL, ds: true }), []);
    });
  });
});

describe('L1STD', () => {
  it('decodes Span 9 and L2Ptr 0x40010000', () => {
    const d = decode(L1STD, L1STD_9, FULL);
    assert.equal(d.get('Span'), 9n);
    assert.equal(d.get('L2Ptr'), 0x40010000n);
    assert.match(d.field('Span')!.text, /2\^8 = 256 STEs/);
    assert.equal(d.summary, 'L2 table of 256 STEs at 0x40010000');
    assert.deepEqual(d.problems, []);
    assert.deepEqual(encode(L1STD, { Span: 9, L2Ptr: 0x40010000n }), L1STD_9);
    assert.equal(L1STD.kind, 'l1std');
    assert.equal(L1STD.title, 'Level 1 Stream Table Descriptor');
    assert.deepEqual(L1STD.fields.filter((f) => f.kind !== 'reserved').map((f) => [f.name, f.hi, f.lo]), [['Span', 4, 0], ['L2Ptr', 55, 6]]);
  });

  it('says when the descriptor is invalid', () => {
    assert.match(decode(L1STD, [0x40010000n]).summary, /^invalid \(Span=0\)/);
    assert.equal(decode(L1STD, [0x40010000n]).field('L2Ptr')?.relevant, false);
    assert.match(decode(L1STD, [0x4001000cn]).summary, /^invalid \(reserved Span 12 behaves as 0\)/);
  });

  it('rules: Span at most SPLIT+1 when the context gives SPLIT', () => {
    // Span 9 = 2^8 STEs: right for SPLIT 8 (Linux), too many for SPLIT 6 (64 STEs per level-2 table).
    breaksAndPasses(L1STD, 'range', 'Span', 'error', L1STD_9, { ...FULL, split: 6 }, L1STD_9, { ...FULL, split: 8 });
    // A reserved SPLIT (7) behaves as 6.
    assert.ok(find(problems(L1STD, L1STD_9, { ...FULL, split: 7 }), 'range', 'Span'));
    const d = decode(L1STD, L1STD_9, { ...FULL, split: 6 });
    assert.equal(d.summary, 'invalid (Span 9 > SPLIT+1 = 7): StreamIDs of this descriptor abort with C_BAD_STREAMID');
    assert.equal(d.field('L2Ptr')?.relevant, false);
  });

  it('rules: reserved Span, L2Ptr alignment and range', () => {
    breaksAndPasses(L1STD, 'reserved-value', 'Span', 'error', [0x4001000cn], FULL, [0x4001000bn], FULL);
    // Span 9: 256 STEs * 64 bytes = 16KB = 0x4000; 0x40012000 & 0x3fff = 0x2000.
    breaksAndPasses(L1STD, 'align', 'L2Ptr', 'warning', [0x40012009n], FULL, L1STD_9, FULL);
    breaksAndPasses(L1STD, 'range', 'L2Ptr', 'error', [(1n << 48n) | 9n], FULL, [(1n << 48n) | 9n], { ...FULL, oas: 52 });
  });
});
