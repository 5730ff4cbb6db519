/**
 * The page compressions of kdump-compressed dumps, by the flag a page descriptor carries.
 * zlib and zstd come from fflate and fzstd (pure JavaScript, so dumps read the same in the
 * browser); LZO1X and Snappy are small enough to be written here.
 */
import { unzlibSync } from 'fflate';
import { decompress as unzstd } from 'fzstd';
import { CodecError } from './error';
import { lzo1xDecompress } from './lzo';
import { snappyDecompress } from './snappy';

export interface Codec {
  readonly flag: number;
  readonly name: string;
  readonly decompress: (src: Uint8Array, size: number) => Uint8Array;
}

/**
 * A library decoder, its output held to the page's size. (Given an output buffer, the
 * libraries fill it and hand all of it back, so the length would not show an overrun.)
 */
function exact(name: string, run: (src: Uint8Array) => Uint8Array): (src: Uint8Array, size: number) => Uint8Array {
  return (src, size) => {
    let out: Uint8Array;
    try {
      out = run(src);
    } catch (e) {
      throw new CodecError(`${name}: the data does not decompress (${e instanceof Error ? e.message : String(e)})`);
    }
    if (out.length !== size) throw new CodecError(`${name}: the data decompresses to ${out.length} bytes, not the page's ${size}`);
    return out;
  };
}

/**
 * A zstd frame's declared content size (RFC 8878 §3.1.1.1), checked before decoding, so a
 * damaged header cannot make the decoder allocate gigabytes for one page.
 */
function zstdDeclared(src: Uint8Array): number | undefined {
  if (src.length < 6 || src[0] !== 0x28 || src[1] !== 0xb5 || src[2] !== 0x2f || src[3] !== 0xfd) return undefined;
  const fhd = src[4];
  const single = (fhd >> 5) & 1;
  const fcsBytes = [single, 2, 4, 8][fhd >> 6];
  if (fcsBytes === 0) return undefined;
  const at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3];
  if (at + fcsBytes > src.length) return undefined;
  let n = 0;
  for (let k = fcsBytes - 1; k >= 0; k--) n = n * 256 + src[at + k];
  return fcsBytes === 2 ? n + 256 : n;
}

const zstdExact = exact('zstd', unzstd);

function zstd(src: Uint8Array, size: number): Uint8Array {
  const declared = zstdDeclared(src);
  if (declared !== undefined && declared !== size) throw new CodecError(`zstd: the frame declares ${declared} bytes, not the page's ${size}`);
  return zstdExact(src, size);
}

export const CODECS: readonly Codec[] = [
  { flag: 0x1, name: 'zlib', decompress: exact('zlib', (src) => unzlibSync(src)) },
  { flag: 0x2, name: 'LZO', decompress: lzo1xDecompress },
  { flag: 0x4, name: 'Snappy', decompress: snappyDecompress },
  { flag: 0x20, name: 'zstd', decompress: zstd },
];

/** A stored page's bytes: raw (flags 0, a whole page) or decompressed by the one codec its flags name. */
export function decompressPage(flags: number, data: Uint8Array, size: number): Uint8Array {
  if (flags === 0) {
    if (data.length !== size) throw new CodecError(`an uncompressed page (flags 0) of ${data.length} bytes; it should be the block size, ${size}`);
    return data;
  }
  const codec = CODECS.find((c) => c.flag === flags);
  if (!codec) {
    throw new CodecError(`flags ${'0x' + flags.toString(16)} name no compression this reader knows (${CODECS.map((c) => `${c.name} 0x${c.flag.toString(16)}`).join(', ')}, or 0 for none)`);
  }
  return codec.decompress(data, size);
}
