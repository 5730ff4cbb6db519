/**
 * The output side the LZ decoders share: the page buffer, allocated once, and the two
 * copies into it. Callers check the bounds first; these only move bytes.
 */
import { CodecError } from './error';

/** The output buffer for a page, or a CodecError when the length asked for is not a byte count. */
export function outputFor(codec: string, expectedLength: number): Uint8Array {
  // 2^30 bytes: far above any page, and below every engine's typed-array limit.
  if (!Number.isSafeInteger(expectedLength) || expectedLength < 0 || expectedLength > 2 ** 30) {
    throw new CodecError(`${codec}: the expected output length ${expectedLength} is not a byte count from 0 to 2^30`);
  }
  return new Uint8Array(expectedLength);
}

/** Copy `n` literal bytes from `src` at `ip` to `out` at `op`. */
export function copyLiterals(src: Uint8Array, ip: number, out: Uint8Array, op: number, n: number): void {
  // A short run is cheaper as a loop than as a subarray view and a set.
  if (n >= 16) out.set(src.subarray(ip, ip + n), op);
  else for (let k = 0; k < n; k++) out[op + k] = src[ip + k];
}

/**
 * Copy `length` bytes from `distance` back to `op`. An overlapping copy (distance < length)
 * repeats the last `distance` bytes, so it goes byte by byte; a long far one is a block move.
 */
export function copyMatch(out: Uint8Array, op: number, length: number, distance: number): void {
  if (distance >= length && length >= 32) {
    out.copyWithin(op, op - distance, op - distance + length);
    return;
  }
  for (let k = 0, from = op - distance; k < length; k++) out[op + k] = out[from + k];
}
