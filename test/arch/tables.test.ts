/**
 * Properties every format table must have, checked over all of them: each bit accounted
 * for exactly once, every named field round-trips alone and together, and decoding,
 * validating, describing never throw whatever the words.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { allLayouts, decode, describe as describeText, encode, FieldSpec, Layout, mask, toJson } from '../../src/arch';

const layouts = allLayouts();
const named = (l: Layout): FieldSpec[] => l.fields.filter((f) => f.kind !== 'reserved');

/** A value that fits a field: raw bits, placed as an address where the field holds one. */
function fieldValueArb(f: FieldSpec, wordBits: number): fc.Arbitrary<bigint> {
  const width = f.hi - f.lo + 1;
  const lowInWord = f.lo % wordBits;
  return fc.bigInt({ min: 0n, max: mask(width) }).map((v) => (f.kind === 'address' ? v << BigInt(lowInWord) : v));
}

describe('arch tables (all layouts)', () => {
  it('has every table', () => {
    const kinds = new Set(layouts.map((l) => l.kind.split('.')[0]));
    for (const k of ['ste', 'l1std', 'cd', 'l1cd', 'cmd', 'event', 'pri', 'reg', 'pte']) assert.ok(kinds.has(k), k);
    assert.ok(layouts.length > 100, `${layouts.length} layouts`);
  });

  it('accounts for every bit exactly once', () => {
    for (const l of layouts) {
      const seen = new Array<number>(l.words * l.wordBits).fill(0);
      for (const f of l.fields) for (let b = f.lo; b <= f.hi; b++) seen[b]++;
      const wrong = seen.findIndex((n) => n !== 1);
      assert.equal(wrong, -1, `${l.kind}: bit ${wrong} covered ${seen[wrong]} times`);
    }
  });

  it('gives every named field a meaning, and every enum value a name and meaning', () => {
    for (const l of layouts) {
      for (const f of named(l)) {
        assert.ok(f.meaning.length > 3, `${l.kind}.${f.name} has no meaning`);
        for (const v of f.values ?? []) {
          assert.ok(v.name && v.meaning, `${l.kind}.${f.name} value ${v.value}`);
          assert.ok(v.value >= 0 && BigInt(v.value) <= mask(f.hi - f.lo + 1), `${l.kind}.${f.name} value ${v.value} does not fit`);
        }
      }
    }
  });

  it('round-trips every named field alone, leaving the others zero', () => {
    for (const l of layouts) {
      for (const f of named(l)) {
        const width = f.hi - f.lo + 1;
        const ones = mask(width);
        const v = f.kind === 'address' ? ones << BigInt(f.lo % l.wordBits) : ones;
        const d = decode(l, encode(l, { [f.name]: v }));
        assert.equal(d.get(f.name), v, `${l.kind}.${f.name}`);
        for (const other of named(l)) if (other !== f) assert.equal(d.get(other.name), 0n, `${l.kind}: ${f.name} leaked into ${other.name}`);
      }
    }
  });

  it('decode(encode(fields)) == fields for random assignments', () => {
    for (const l of layouts) {
      const fields = named(l);
      if (fields.length === 0) continue;
      const record = fc.record(Object.fromEntries(fields.map((f) => [f.name, fieldValueArb(f, l.wordBits)])));
      fc.assert(fc.property(record, (values) => {
        const d = decode(l, encode(l, values));
        return fields.every((f) => d.get(f.name) === values[f.name]);
      }), { numRuns: 20 });
    }
  });

  it('never throws on any words: decode, validate, describe, JSON', () => {
    const word = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    for (const l of layouts) {
      fc.assert(fc.property(fc.array(word, { minLength: 0, maxLength: l.words + 1 }), (words) => {
        const d = decode(l, words, { oas: 48, ssidSize: 20, sidSize: 16, s1p: true, s2p: true, granules: [4, 16, 64] });
        describeText(d);
        JSON.stringify(toJson(d));
        return typeof d.summary === 'string';
      }), { numRuns: 25 });
    }
  });
});
