/**
 * Snappy decompression of a raw block (no framing), for pages makedumpfile stored with
 * snappy_compress. Format (google/snappy's format_description.txt):
 *
 *   the uncompressed length, a little-endian base-128 varint of at most 5 bytes (< 2^32);
 *   then elements until the input ends, each a tag byte whose low 2 bits say which:
 *     00 literal: (tag >> 2) + 1 bytes follow (1..60); tag >> 2 = 60..63: the length - 1
 *        is in the next 1..4 bytes, little-endian
 *     01 copy, length ((tag >> 2) & 7) + 4, offset (tag >> 5) << 8 | the next byte
 *     10 copy, length (tag >> 2) + 1, offset the next 2 bytes, little-endian
 *     11 copy, length (tag >> 2) + 1, offset the next 4 bytes, little-endian
 *
 * A copy's offset counts back from the end of the output so far; zero, or more than the
 * output so far, is invalid. There is no end marker: the block is complete when the input
 * ends, and then the output must be exactly the length the preamble announced.
 */
import { CodecError, hex } from './error';
import { copyLiterals, copyMatch, outputFor } from './output';

const MAX_VARINT_BYTES = 5;

export function snappyDecompress(src: Uint8Array, expectedLength: number): Uint8Array {
  const out = outputFor('Snappy', expectedLength);
  const end = src.length;
  let ip = 0;
  let op = 0;

  // The preamble. Multiplying (not shifting) keeps the fifth byte's bits beyond 2^31.
  let length = 0;
  for (let scale = 1; ; scale *= 128) {
    if (ip >= end) throw fail(`the input ends at offset ${hex(end)} inside the uncompressed length at the start`);
    if (ip === MAX_VARINT_BYTES) throw fail(`the uncompressed length at the start runs past ${MAX_VARINT_BYTES} bytes`);
    const b = src[ip++];
    length += (b & 0x7f) * scale;
    if (b < 0x80) break;
  }
  if (length > 0xffff_ffff) throw fail(`the uncompressed length at the start, ${hex(length)}, is above the format's limit 0xffffffff`);
  if (length !== expectedLength) throw fail(`the block says it holds ${hex(length)} bytes; expected ${hex(expectedLength)}`);

  while (ip < end) {
    const at = ip;
    if (op === out.length) throw fail(`${hex(end - at)} bytes of trailing data at input offset ${hex(at)}, after the full ${hex(op)} bytes of output`);
    const tag = src[ip++];
    const kind = tag & 3;
    if (kind === 0) {
      let n = (tag >> 2) + 1;
      if (n > 60) {
        const bytes = n - 60;
        if (ip + bytes > end) throw truncated(end, 'literal', at, 'length');
        n = readLe(src, ip, bytes) + 1;
        ip += bytes;
      }
      if (n > end - ip) throw fail(`the literal of ${hex(n)} bytes at input offset ${hex(at)} runs past the end of the input (${hex(end - ip)} bytes left)`);
      if (n > out.length - op) throw overflow(`the literal at input offset ${hex(at)}`, op + n, out.length);
      copyLiterals(src, ip, out, op, n);
      ip += n;
      op += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      if (ip + 1 > end) throw truncated(end, 'copy', at, 'offset');
      n = ((tag >> 2) & 7) + 4;
      offset = ((tag >> 5) << 8) | src[ip++];
    } else {
      const bytes = kind === 2 ? 2 : 4;
      if (ip + bytes > end) throw truncated(end, 'copy', at, 'offset');
      n = (tag >> 2) + 1;
      offset = readLe(src, ip, bytes);
      ip += bytes;
    }
    if (offset === 0) throw fail(`the copy at input offset ${hex(at)} has offset 0, which the format forbids`);
    if (offset > op) throw fail(`the copy at input offset ${hex(at)} reaches back ${hex(offset)} bytes, before the start of the output (${hex(op)} bytes so far)`);
    if (n > out.length - op) throw overflow(`the copy at input offset ${hex(at)}`, op + n, out.length);
    copyMatch(out, op, n, offset);
    op += n;
  }
  if (op !== out.length) throw fail(`the input ends at offset ${hex(end)} after ${hex(op)} bytes of output; the block holds ${hex(out.length)}`);
  return out;
}

/** An unsigned little-endian number of 1..4 bytes (up to 2^32 - 1, so no sign bit trouble). */
function readLe(src: Uint8Array, ip: number, bytes: number): number {
  let v = 0;
  for (let k = bytes - 1; k >= 0; k--) v = v * 256 + src[ip + k];
  return v;
}

const fail = (message: string): CodecError => new CodecError('Snappy: ' + message);
const truncated = (end: number, what: string, at: number, part: string): CodecError =>
  fail(`the input ends at offset ${hex(end)} inside the ${what} at input offset ${hex(at)} (its ${part})`);
const overflow = (what: string, to: number, expected: number): CodecError =>
  fail(`${what} would take the output to ${hex(to)} bytes, past the expected ${hex(expected)}`);
