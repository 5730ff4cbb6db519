/**
 * Fuzz targets for the formats: hex as users paste it through every decoder (the parser of
 * hex words, `decodeText` for every kind and option, the hover's guesser), random words
 * through decode/validate/describe/toJson of every layout, and field edits (setField) with
 * random values. Bad input may only raise the errors the API documents, with a message.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  allLayouts, ArchContext, decode, decodeText, describe as describeDecoded, FieldError, fieldNames, HexInputError, KindError, KINDS,
  parseHexWords, setField, toJson, validate,
} from '../../src/arch';
import { guessDecodings, hexRunAt } from '../../src/arch/guess';
import { REGISTERS } from '../../src/arch/registers';
import { expectOnly, fuzz, word64 } from './harness';

const LAYOUTS = allLayouts();
const documented = (e: unknown): boolean => e instanceof HexInputError || e instanceof KindError || e instanceof FieldError;

/** Hex-ish text: digits, separators, prefixes, stray characters, very long runs. */
const hexText = (): fc.Arbitrary<string> => fc.oneof(
  { arbitrary: word64().map((w) => '0x' + w.toString(16)), weight: 3 },
  fc.stringMatching(/^(0x)?[0-9a-fA-F_']{0,40}$/),
  fc.array(fc.oneof(fc.stringMatching(/^[0-9a-f]{0,20}$/), fc.constantFrom('0x', '_', "'", ',', ';', ' ', '\t', '\n', 'g', '-', '0X', 'x', '.', '\u00a0')), { maxLength: 12 })
    .map((p) => p.join('')),
  fc.bigInt({ min: 0n, max: (1n << 520n) - 1n }).map((n) => n.toString(16)),
  fc.string({ maxLength: 30 }),
);

const context = (): fc.Arbitrary<ArchContext> => fc.record({
  oas: fc.constantFrom(32, 36, 40, 42, 44, 48, 52, 0, 64, 7),
  s1p: fc.boolean(), s2p: fc.boolean(),
  ssidSize: fc.integer({ min: 0, max: 40 }), sidSize: fc.integer({ min: 0, max: 40 }),
  cd2l: fc.boolean(), asid16: fc.boolean(), vmid16: fc.boolean(),
  stallModel: fc.integer({ min: 0, max: 3 }), ats: fc.boolean(), hyp: fc.boolean(), e2h: fc.boolean(),
  httu: fc.integer({ min: 0, max: 3 }), stt: fc.boolean(),
  granules: fc.subarray([4, 16, 64] as const),
}, { requiredKeys: [] });

const kindName = fc.oneof({ arbitrary: fc.constantFrom(...KINDS.map((k) => k.kind), 'STE', 'Pte', 'REG'), weight: 8 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 });
const registerName = fc.oneof({ arbitrary: fc.constantFrom(...REGISTERS.map((r) => r.name), 'SMMU_IDR0', 'strtab_base', 'IDR9'), weight: 8 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 });
const kindOptions = fc.record({
  stage: fc.constantFrom(1, 2) as fc.Arbitrary<1 | 2>,
  granule: fc.constantFrom(4, 16, 64) as fc.Arbitrary<4 | 16 | 64>,
  level: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
  ds: fc.boolean(), pa52: fc.boolean(), register: registerName,
}, { requiredKeys: [] });

/** A decoded structure is usable: describe and JSON work on it and agree with the words. */
function useDecoded(d: ReturnType<typeof decode>): void {
  const text = describeDecoded(d);
  assert.ok(text.startsWith(d.layout.title));
  JSON.stringify(toJson(d));
  for (const p of d.problems) assert.ok(typeof p.message === 'string' && p.message.length > 0, 'a problem without a message');
}

describe('fuzz: formats', () => {
  fuzz('hex-words', 3000, fc.tuple(fc.array(hexText(), { maxLength: 6 }), fc.constantFrom(32, 64) as fc.Arbitrary<32 | 64>, fc.integer({ min: 1, max: 8 })),
    ([tokens, bits, max]) => expectOnly(() => {
      const words = parseHexWords(tokens, bits, max, 'fuzz');
      assert.ok(words.length >= 1 && words.length <= max);
      for (const w of words) assert.ok(w >= 0n && w >> BigInt(bits) === 0n, `word ${w} does not fit ${bits} bits`);
    }, documented));

  fuzz('decode-text', 3000, fc.tuple(kindName, fc.array(hexText(), { maxLength: 9 }), kindOptions, context()),
    ([kind, tokens, opts, ctx]) => expectOnly(() => useDecoded(decodeText(kind, tokens, opts, ctx)), documented));

  fuzz('layouts', 3000, fc.tuple(fc.integer({ min: 0, max: LAYOUTS.length - 1 }), fc.array(word64(), { maxLength: 9 }), context()),
    ([i, words, ctx]) => {
      const layout = LAYOUTS[i];
      // Words beyond the layout are ignored; a word wider than the layout's is cut.
      const d = decode(layout, words, ctx);
      useDecoded(d);
      assert.deepEqual(validate(layout, words, ctx), d.problems);
    });

  fuzz('set-field', 3000, fc.tuple(
    fc.integer({ min: 0, max: LAYOUTS.length - 1 }), fc.array(word64(), { maxLength: 8 }), fc.nat(), fc.string({ maxLength: 10 }),
    fc.oneof(word64(), fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), fc.double(), fc.integer(), fc.string({ maxLength: 12 }), fc.boolean()),
  ), ([i, words, f, other, value]) => {
    const layout = LAYOUTS[i];
    const names = fieldNames(layout);
    const name = names.length && f % 3 !== 0 ? names[f % names.length] : other;
    expectOnly(() => {
      const out = setField(layout, words, name, value);
      assert.equal(out.length, layout.words);
      useDecoded(decode(layout, out));
    }, documented);
  });

  fuzz('guess', 3000, fc.tuple(fc.string({ maxLength: 80 }), fc.array(hexText(), { maxLength: 10 }), fc.nat({ max: 200 }), fc.string({ maxLength: 40 })),
    ([noise, hexes, column, before]) => {
      // A line of a log: words, hex values, separators.
      const line = hexes.reduce((acc, h, i) => `${acc}${i % 2 ? ', ' : ' '}${h}`, noise);
      const run = hexRunAt(line, column);
      if (!run) return;
      assert.ok(run.start <= column && column <= run.end && run.words.length > 0);
      for (const g of guessDecodings(run, `${before}\n${line}`)) useDecoded(g.decoded);
    });
});
