import { strict as assert } from 'node:assert';
import {
  decode, describe as describeText, encode, FieldError, findField, requireField, setField, toJson, validate,
} from '../../src/arch/codec';
import { defineLayout, Layout } from '../../src/arch/field';

/** A made-up two-qword structure exercising each kind of field. */
const TOY: Layout = defineLayout({
  kind: 'toy', title: 'Toy Entry', wordBits: 64, words: 2,
  fields: [
    { name: 'V', hi: 0, lo: 0, kind: 'flag', meaning: 'valid', aliases: ['valid'] },
    {
      name: 'Mode', hi: 3, lo: 1, kind: 'enum', meaning: 'what to do', values: [
        { value: 0, name: 'OFF', meaning: 'nothing' },
        { value: 1, name: 'OLD', meaning: 'legacy', reserved: true },
        { value: 5, name: 'ON', meaning: 'translate' },
      ],
    },
    { name: 'Ptr', hi: 47, lo: 12, kind: 'address', meaning: 'table pointer', relevant: (d) => d.get('V') === 1n },
    { name: 'Impdef', hi: 63, lo: 60, kind: 'reserved', reserved: 'IMPDEF', meaning: 'implementation defined' },
    { name: 'Count', hi: 71, lo: 64, kind: 'uint', meaning: 'how many', show: (v) => `${Number(v) * 2} halves` },
  ],
  rules: [{ id: 'ptr-needs-on', check: (d) => (d.get('Ptr') !== 0n && d.get('Mode') !== 5n
    ? { rule: 'illegal', severity: 'error', field: 'Ptr', message: 'Ptr needs Mode ON' } : undefined) }],
  summary: (d) => (d.get('V') ? `valid, ptr ${d.get('Ptr').toString(16)}` : 'invalid'),
});

describe('arch/codec', () => {
  it('fills uncovered bits with RES0 ranges that never cross a word', () => {
    const res0 = TOY.fields.filter((f) => f.kind === 'reserved' && f.reserved === 'RES0').map((f) => [f.hi, f.lo]);
    // Gaps: [11:4], [59:48] in qword 0; [127:72] in qword 1.
    assert.deepEqual(res0, [[11, 4], [59, 48], [127, 72]]);
  });

  it('rejects overlapping, word-crossing and duplicate fields', () => {
    const base = { kind: 'bad', title: 'Bad', wordBits: 64 as const, words: 2 };
    assert.throws(() => defineLayout({ ...base, fields: [
      { name: 'A', hi: 5, lo: 0, kind: 'uint', meaning: '' }, { name: 'B', hi: 7, lo: 5, kind: 'uint', meaning: '' }] }), /overlaps/);
    assert.throws(() => defineLayout({ ...base, fields: [{ name: 'A', hi: 65, lo: 60, kind: 'uint', meaning: '' }] }), /crosses a word/);
    assert.throws(() => defineLayout({ ...base, fields: [
      { name: 'A', hi: 1, lo: 0, kind: 'uint', meaning: '' }, { name: 'a', hi: 3, lo: 2, kind: 'uint', meaning: '' }] }), /used twice/);
    assert.throws(() => defineLayout({ ...base, fields: [{ name: 'A', hi: 128, lo: 128, kind: 'flag', meaning: '' }] }), /beyond 128 bits/);
  });

  it('decodes each kind of field', () => {
    // qword0 = V(1) | Mode ON (5 << 1 = 0xa) | Ptr 0x12345000 → 0x1234500b; qword1 = Count 3.
    const d = decode(TOY, [0x1234500bn, 3n]);
    assert.equal(d.get('V'), 1n);
    assert.equal(d.get('mode'), 5n);
    assert.equal(d.field('Mode')?.valueName, 'ON');
    assert.equal(d.get('Ptr'), 0x12345000n, 'address fields give the address, not the shifted bits');
    assert.equal(d.field('Ptr')?.raw, 0x12345n);
    assert.equal(d.num('Count'), 3);
    assert.match(d.field('Count')!.text, /6 halves/);
    assert.equal(d.summary, 'valid, ptr 12345000');
    assert.deepEqual(d.problems, []);
    assert.equal(d.get('valid'), 1n, 'aliases resolve');
  });

  it('treats missing words as zero and cuts values to the word width', () => {
    const d = decode(TOY, [(1n << 64n) | 1n]);
    assert.deepEqual(d.words, [1n, 0n]);
    assert.deepEqual(decode(TOY, [-1n]).words, [0xffffffffffffffffn, 0n]);
  });

  it('reports RES0 bits, undefined and reserved values, and table rules', () => {
    const problems = validate(TOY, [0x10n | (7n << 1n) | 1n | 0x1000n]);
    const ids = problems.map((p) => `${p.rule}:${p.field}`).sort();
    assert.deepEqual(ids, ['illegal:Ptr', 'res0:RES0[11:4]', 'reserved-value:Mode']);
    const undefinedValue = problems.find((p) => p.field === 'Mode')!;
    assert.equal(undefinedValue.severity, 'error');
    assert.match(undefinedValue.message, /0b111 is not a defined value; expected one of 0 \(OFF\), 5 \(ON\)/);
    const reserved = validate(TOY, [1n << 1n]);
    assert.deepEqual(reserved.map((p) => [p.rule, p.severity]), [['reserved-value', 'warning']]);
  });

  it('does not judge fields the configuration ignores', () => {
    const withPtrIgnored = decode(TOY, [0x5000n]); // V=0: Ptr irrelevant
    assert.equal(withPtrIgnored.field('Ptr')?.relevant, false);
    assert.equal(withPtrIgnored.field('Mode')?.relevant, true);
  });

  it('encodes named values, numbers and enum names, and round-trips', () => {
    const w = encode(TOY, { V: true, Mode: 'on', Ptr: 0x12345000, Count: 3n });
    assert.deepEqual(w, [0x1234500bn, 3n]);
    const d = decode(TOY, w);
    assert.equal(d.get('Ptr'), 0x12345000n);
  });

  it('refuses values that do not fit, misaligned addresses and unknown names with a suggestion', () => {
    assert.throws(() => encode(TOY, { Count: 256 }), (e: Error) => e instanceof FieldError && /largest value is 0xff/.test(e.message));
    assert.throws(() => encode(TOY, { Ptr: 0x1234 }), /must be aligned to 0x1000/);
    assert.throws(() => encode(TOY, { Ptr: 1n << 48n }), /does not fit; the largest value is 0xffffffffffff/);
    assert.throws(() => encode(TOY, { Mdoe: 1 }), /has no field 'Mdoe' — did you mean 'mode'\?/);
    assert.throws(() => encode(TOY, { Mode: 'of' }), /did you mean 'OFF'\?; named values: OFF, OLD, ON/);
    assert.throws(() => encode(TOY, { Count: -1 }), /negative/);
  });

  it('setField changes only its field', () => {
    const before = [0xffffffffffffffffn, 0xffffffffffffffffn];
    const after = setField(TOY, before, 'Mode', 0);
    assert.deepEqual(after, [0xfffffffffffffff1n, 0xffffffffffffffffn]);
    assert.deepEqual(before, [0xffffffffffffffffn, 0xffffffffffffffffn], 'input untouched');
  });

  it('finds fields by name or alias, case-insensitively, but not reserved ranges', () => {
    assert.equal(findField(TOY, 'PTR')?.name, 'Ptr');
    assert.equal(findField(TOY, 'RES0[11:4]'), undefined);
    assert.throws(() => requireField(TOY, 'ptrr'), /did you mean 'ptr'/);
  });

  it('describes: words, relevant fields, set reserved bits, problems', () => {
    const text = describeText(decode(TOY, [0x1000_0000_0000_0001n | (0xfn << 60n)]));
    const lines = text.split('\n');
    assert.equal(lines[0], 'Toy Entry: valid, ptr 0');
    assert.equal(lines[1], '  qword 0  0xf000000000000001');
    assert.equal(lines[2], '  qword 1  0x0000000000000000');
    assert.ok(lines.some((l) => /^ {2}Impdef +0\[63:60\] +0xf +\(IMPDEF\)$/.test(l)), text);
    assert.ok(!lines.some((l) => l.includes('RES0[')), 'zero RES0 ranges are not listed');
  });

  it('gives a JSON form with exact numbers', () => {
    const j = toJson(decode(TOY, [0x1234500bn, 3n]));
    assert.equal(j.kind, 'toy');
    assert.deepEqual(j.words, ['0x000000001234500b', '0x0000000000000003']);
    assert.deepEqual(j.fields.Ptr, { value: 0x12345000, text: '0x12345000', bits: '[47:12]', relevant: true });
    assert.equal(j.fields['RES0[11:4]'], undefined);
  });
});
