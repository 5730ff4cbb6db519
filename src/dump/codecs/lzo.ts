/**
 * LZO1X decompression, for pages makedumpfile stored with liblzo2's lzo1x_1_compress (no
 * header, no checksum: the block is the instruction stream and its end marker).
 *
 * The stream (the Linux kernel's Documentation/staging/lzo.rst describes it): after an
 * optional first byte of literals, a loop of instructions. Each match instruction copies
 * `length` bytes from `distance` back in the output and then 0..3 literals (its S bits);
 * that count is the *state*, which decides what the next instruction below 16 (0000LLLL or 0000DDSS) means.
 *
 *   first byte 18..20    1..3 literals (state 1..3); 21..255: byte - 17 literals (state 4)
 *   0000LLLL, state 0    literal run of L + 3 bytes (L = 0: 18 + the extension); state 4
 *   0000DDSS, state 1..3 M1: 2 bytes from (H << 2) + D + 1 back; H is the next byte
 *   0000DDSS, state 4    M1: 3 bytes from (H << 2) + D + 2049 back
 *   0001HLLL             M4: L + 2 bytes (L = 0: 9 + the extension), then LE16 (D << 2 | S);
 *                        distance 16384 + (H << 14) + D; 16384 exactly is the end marker
 *   001LLLLL             M3: L + 2 bytes (L = 0: 33 + the extension), then LE16 (D << 2 | S);
 *                        distance D + 1
 *   01LDDDSS, 1LLDDDSS   M2: (byte >> 5) + 1 bytes (3..8) from (H << 3) + D + 1 back
 *
 * The length extension: each zero byte adds 255, the first non-zero byte is added and ends
 * it. The compressor ends every block with 0x11 0x00 0x00 (M4, length 3, distance 16384).
 *
 * Every step checks the input and output bounds first, so a bad block is a CodecError that
 * says where, never a read past the input or a write past the page.
 */
import { CodecError, hex } from './error';
import { copyLiterals, copyMatch, outputFor } from './output';

/** The kernel's versioned-stream prefix: 0x11, then the bitstream version (1 = LZO-RLE). */
const VERSIONED_PREFIX = 0x11;
const M2_MAX_OFFSET = 2048;
const M4_BASE = 16384;

export function lzo1xDecompress(src: Uint8Array, expectedLength: number): Uint8Array {
  return new LzoDecoder(src, outputFor('LZO', expectedLength)).run();
}

class LzoDecoder {
  private ip = 0;
  private op = 0;

  constructor(private readonly src: Uint8Array, private readonly out: Uint8Array) {}

  run(): Uint8Array {
    const src = this.src;
    const end = src.length;
    if (end < 3) throw fail(`the input is ${end} bytes, shorter than the end marker 0x11 0x00 0x00 alone`);
    // Userspace LZO never starts a block with 0x11 except as the whole of an empty one; the
    // kernel's versioned streams do (5 bytes or more), and version 1 adds a zero-run form.
    if (src[0] === VERSIONED_PREFIX && end >= 5 && src[1] === 1) {
      throw fail('the input starts 0x11 0x01: the Linux kernel\'s LZO-RLE format (bitstream version 1), not supported; makedumpfile writes plain LZO1X');
    }
    let state = 0;
    if (src[0] > 17) {
      const n = src[0] - 17;
      this.ip = 1;
      this.literals(0, n, false);
      state = n < 4 ? n : 4;
    }
    for (;;) {
      const at = this.ip;
      if (at >= end) throw fail(`the input ends at offset ${hex(end)} without the end marker 0x11 0x00 0x00 (${hex(this.op)} bytes of output so far)`);
      const t = src[this.ip++];
      let length: number;
      let distance: number;
      let next: number;
      if (t < 16) {
        if (state === 0) {
          const n = t === 0 ? this.extended(at, 18, 'literal run') : t + 3;
          this.literals(at, n, false);
          state = 4;
          continue;
        }
        this.need(at, 1, 'M1 match', 'distance');
        const h = src[this.ip++];
        next = t & 3;
        if (state !== 4) {
          length = 2;
          distance = (h << 2) + (t >> 2) + 1;
        } else {
          length = 3;
          distance = (h << 2) + (t >> 2) + M2_MAX_OFFSET + 1;
        }
      } else if (t >= 64) {
        this.need(at, 1, 'M2 match', 'distance');
        const h = src[this.ip++];
        next = t & 3;
        length = (t >> 5) + 1;
        distance = (h << 3) + ((t >> 2) & 7) + 1;
      } else if (t >= 32) {
        length = (t & 31) === 0 ? this.extended(at, 33, 'M3 match') : (t & 31) + 2;
        const v = this.le16(at, 'M3 match');
        next = v & 3;
        distance = (v >> 2) + 1;
      } else {
        length = (t & 7) === 0 ? this.extended(at, 9, 'M4 match') : (t & 7) + 2;
        const v = this.le16(at, 'M4 match');
        next = v & 3;
        distance = M4_BASE + ((t & 8) << 11) + (v >> 2);
        if (distance === M4_BASE) return this.finish(at, t, v);
      }
      this.match(at, length, distance);
      if (next) this.literals(at, next, true);
      state = next;
    }
  }

  /** A length field's extension: 255 for each zero byte, plus the first non-zero byte. */
  private extended(at: number, base: number, what: string): number {
    const src = this.src;
    let zeros = 0;
    while (this.ip < src.length && src[this.ip] === 0) {
      this.ip++;
      zeros++;
    }
    this.need(at, 1, what, 'length');
    return base + 255 * zeros + src[this.ip++];
  }

  private le16(at: number, what: string): number {
    this.need(at, 2, what, 'distance');
    const v = this.src[this.ip] | (this.src[this.ip + 1] << 8);
    this.ip += 2;
    return v;
  }

  /** `n` more bytes of the instruction at `at` (its `part`: 'length' or 'distance'). */
  private need(at: number, n: number, what: string, part: string): void {
    if (this.ip + n > this.src.length) {
      throw fail(`the input ends at offset ${hex(this.src.length)} inside the ${what} at input offset ${hex(at)} (its ${part})`);
    }
  }

  private overflow(what: string, n: number): CodecError {
    return fail(`${what} would take the output to ${hex(this.op + n)} bytes, past the expected ${hex(this.out.length)}`);
  }

  /** `n` literals: a literal run, or the 1..3 after the match at `at` (messages are built only on failure). */
  private literals(at: number, n: number, afterMatch: boolean): void {
    if (n > this.src.length - this.ip || n > this.out.length - this.op) {
      const what = `the literal run of ${hex(n)} bytes ${afterMatch ? 'after the match ' : ''}at input offset ${hex(at)}`;
      const left = this.src.length - this.ip;
      throw n > left ? fail(`${what} runs past the end of the input (${hex(left)} bytes left)`) : this.overflow(what, n);
    }
    copyLiterals(this.src, this.ip, this.out, this.op, n);
    this.ip += n;
    this.op += n;
  }

  private match(at: number, length: number, distance: number): void {
    if (distance > this.op) {
      throw fail(`a match at input offset ${hex(at)} reaches back ${hex(distance)} bytes, before the start of the output (${hex(this.op)} bytes so far)`);
    }
    if (length > this.out.length - this.op) throw this.overflow(`the match at input offset ${hex(at)}`, length);
    copyMatch(this.out, this.op, length, distance);
    this.op += length;
  }

  /** The end marker: exactly 0x11 0x00 0x00, after exactly the expected output, then nothing. */
  private finish(at: number, t: number, v: number): Uint8Array {
    if (t !== 0x11 || v !== 0) {
      throw fail(`the end-of-stream instruction at input offset ${hex(at)} is not the plain end marker 0x11 0x00 0x00`);
    }
    if (this.op !== this.out.length) {
      throw fail(`the end marker at input offset ${hex(at)} comes after ${hex(this.op)} bytes of output; expected ${hex(this.out.length)}`);
    }
    const rest = this.src.length - this.ip;
    if (rest) throw fail(`${hex(rest)} bytes of trailing data after the end marker at input offset ${hex(at)}`);
    return this.out;
  }
}

const fail = (message: string): CodecError => new CodecError('LZO: ' + message);
