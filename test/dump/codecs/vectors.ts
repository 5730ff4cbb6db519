/**
 * The codec test vectors: blocks written by the real compressors (liblzo2 through
 * python-lzo, libsnappy through python-snappy), made by make-vectors.py next to this file.
 * vectors/manifest.json gives each block's page length and the SHA-256 of the page it was
 * made from, and the instruction forms it contains (counted by the generator's tracer,
 * which reproduces the page byte for byte while counting).
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodecError } from '../../../src/dump/codecs/error';

// From out/test/dump/codecs back to the repository, where the vectors stay.
const DIR = join(__dirname, '..', '..', '..', '..', 'test', 'dump', 'codecs', 'vectors');

export interface Vector {
  readonly file: string;
  readonly codec: 'lzo' | 'snappy';
  readonly compressor: string;
  readonly length: number;
  readonly sha256: string;
  readonly forms: Readonly<Record<string, number>>;
  readonly bytes: Uint8Array;
}

type Entry = Omit<Vector, 'bytes'>;

let cache: Vector[] | undefined;

export function vectors(codec: 'lzo' | 'snappy'): Vector[] {
  cache ??= (JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Entry[])
    .map((e) => ({ ...e, bytes: new Uint8Array(readFileSync(join(DIR, e.file))) }));
  return cache.filter((v) => v.codec === codec);
}

export function vector(file: string): Vector {
  const v = [...vectors('lzo'), ...vectors('snappy')].find((x) => x.file === file);
  assert.ok(v, `no vector ${file}`);
  return v;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export const bytes = (...parts: (number | string)[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : [p])));

/** A CodecError whose message matches `re`, for assert.throws. */
export const codecError = (re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof CodecError, `expected a CodecError, got ${String(e)}`);
  assert.equal(e.name, 'CodecError');
  assert.match(e.message, re);
  return true;
};

/** Points to cut a block at: the start, the first instructions, the middle, the last bytes. */
export function cutPoints(n: number): number[] {
  return [...new Set([0, 1, 2, 3, 4, 5, 8, 17, n >> 2, n >> 1, (3 * n) >> 2, n - 5, n - 4, n - 3, n - 2, n - 1])].filter((i) => i >= 0 && i < n);
}

/**
 * Decode `src` and report what happened: 'ok' (exactly `length` bytes came back) or
 * 'error' (a CodecError with the codec's prefix). Anything else fails the test.
 */
export function outcome(decode: (s: Uint8Array, n: number) => Uint8Array, prefix: string, src: Uint8Array, length: number): 'ok' | 'error' {
  let out: Uint8Array;
  try {
    out = decode(src, length);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    assert.ok(e.message.startsWith(prefix + ': ') && e.message.length > prefix.length + 10, `a CodecError without a proper message: ${e.message}`);
    return 'error';
  }
  assert.equal(out.length, length, 'a decode that returns must return exactly the expected length');
  return 'ok';
}

/** Single-byte changes at up to `count` positions spread over the block, each to three values. */
export function* mutations(src: Uint8Array, count: number): Generator<{ at: number; value: number; bytes: Uint8Array }> {
  const step = Math.max(1, Math.floor(src.length / count));
  for (let at = 0; at < src.length; at += step) {
    for (const value of [src[at] ^ 0xff, (src[at] + 1) & 0xff, 0]) {
      if (value === src[at]) continue;
      const b = src.slice();
      b[at] = value;
      yield { at, value, bytes: b };
    }
  }
}

type Decode = (src: Uint8Array, expectedLength: number) => Uint8Array;

/** One test a vector: it decodes to a page of its length with the recorded SHA-256. */
export function itDecodesEachVector(codec: 'lzo' | 'snappy', decode: Decode): void {
  for (const v of vectors(codec)) {
    it(`${v.file} (${v.compressor}) decodes to its ${v.length}-byte page`, () => {
      const out = decode(v.bytes, v.length);
      assert.equal(out.length, v.length);
      assert.equal(sha256(out), v.sha256);
    });
  }
}

/**
 * Every vector cut at many points is a CodecError matching `cut` (the input ended); every
 * vector with single bytes changed decodes to the page length or is a CodecError.
 */
export function itRejectsCutsAndChanges(codec: 'lzo' | 'snappy', prefix: string, decode: Decode, cut: RegExp): void {
  it('every vector cut at many points is a CodecError that says the input ended', () => {
    for (const v of vectors(codec)) {
      for (const n of cutPoints(v.bytes.length)) assert.throws(() => decode(v.bytes.subarray(0, n), v.length), codecError(cut), `${v.file} cut at ${n}`);
    }
  });

  it('every vector with single bytes changed gives the page length or a CodecError, nothing else', () => {
    let errors = 0;
    let total = 0;
    for (const v of vectors(codec)) {
      for (const m of mutations(v.bytes, 48)) {
        total++;
        if (outcome(decode, prefix, m.bytes, v.length) === 'error') errors++;
      }
    }
    // Most changes break a block (a changed literal byte does not): the sweep did reach the checks.
    assert.ok(errors > total / 3, `${errors} errors in ${total} changed blocks`);
  });
}
