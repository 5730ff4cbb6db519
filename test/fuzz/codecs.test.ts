/**
 * Fuzz target for the page decompressors of kdump-compressed dumps (LZO1X and Snappy):
 * random bytes, and the real compressors' blocks (test/dump/codecs/vectors) cut, extended
 * and with bytes changed, each at its own page length or a wrong one. A decoder returns
 * exactly the length asked for or throws a CodecError naming the codec; nothing else may
 * escape, and no case may run long.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { CodecError } from '../../src/dump/codecs/error';
import { lzo1xDecompress } from '../../src/dump/codecs/lzo';
import { snappyDecompress } from '../../src/dump/codecs/snappy';
import { Vector, vectors } from '../dump/codecs/vectors';
import { expectOnly, fuzz } from './harness';

const CODECS = [
  { name: 'LZO', decode: lzo1xDecompress, vectors: vectors('lzo') },
  { name: 'Snappy', decode: snappyDecompress, vectors: vectors('snappy') },
] as const;

type Edit = { kind: 'byte'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'extend'; tail: Uint8Array };

const edit = (): fc.Arbitrary<Edit> => fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.oneof(fc.nat({ max: 255 }), fc.constantFrom(0, 0x11, 0xff)) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('extend' as const), tail: fc.uint8Array({ maxLength: 8 }) }), weight: 1 },
);

function applyEdits(base: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let b = base.slice();
  for (const e of edits) {
    if (e.kind === 'byte' && b.length) b[e.at % b.length] = e.value;
    else if (e.kind === 'cut') b = b.slice(0, e.at % (b.length + 1));
    else if (e.kind === 'extend') b = new Uint8Array([...b, ...e.tail]);
  }
  return b;
}

/** The page length to ask for: the vector's own most often, else another page size or a small odd one. */
const lengthFor = (v: Vector | undefined): fc.Arbitrary<number> => fc.oneof(
  { arbitrary: fc.constant(v?.length ?? 4096), weight: 4 },
  { arbitrary: fc.constantFrom(0, 1, 4096, 16384, 65536), weight: 1 },
  { arbitrary: fc.nat({ max: 300 }), weight: 1 },
);

const fromVector = fc.integer({ min: 0, max: CODECS.length - 1 }).chain((c) =>
  fc.integer({ min: 0, max: CODECS[c].vectors.length - 1 }).chain((i) => {
    const v = CODECS[c].vectors[i];
    return fc.record({ codec: fc.constant(c), input: fc.array(edit(), { minLength: 1, maxLength: 4 }).map((es) => applyEdits(v.bytes, es)), length: lengthFor(v) });
  }));

const randomBytes = fc.record({
  codec: fc.integer({ min: 0, max: CODECS.length - 1 }),
  // A Snappy block starts with its length: a plausible one makes the random elements reach the decoder.
  input: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array([0x80, 0x20, ...b])),
    fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array([...b, 0x11, 0, 0]))),
  length: lengthFor(undefined),
});

describe('fuzz: page decompressors', () => {
  fuzz('codecs', 300, fc.oneof({ arbitrary: fromVector, weight: 3 }, { arbitrary: randomBytes, weight: 1 }), ({ codec, input, length }) => {
    const { name, decode } = CODECS[codec];
    expectOnly(() => {
      const out = decode(input, length);
      assert.ok(out instanceof Uint8Array && out.length === length, `${name} returned ${out.length} bytes for a page of ${length}`);
    }, (e) => e instanceof CodecError && e.message.startsWith(`${name}: `));
  });
});
