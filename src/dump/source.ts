/**
 * Where dump bytes come from. The engine never opens files: the edge (the CLI, the
 * extension, a test) hands in a `ByteSource` that reads a range on demand, so a dump of any
 * size is read only where something looks.
 */

export interface ByteSource {
  /** The file's name, for messages. */
  readonly name: string;
  /** Its size in bytes. */
  readonly size: number;
  /** `length` bytes from `offset`; fewer only where the file ends. */
  read(offset: number, length: number): Uint8Array;
}

/**
 * How to read a dump that is damaged or cut short (a copy interrupted, a disk full): by
 * default it is an error; `salvage` keeps what is whole (the report tool uses it) and
 * treats the rest as memory the dump does not hold, saying why.
 */
export interface ReadOptions {
  readonly salvage?: boolean;
}

/** A dump that cannot be used as given: the message names the file, the offset or address, and what would be right. */
export class DumpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DumpError';
  }
}

/** A source over bytes already in memory (tests, and hosts that have the file as a buffer). */
export function bytesSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.length,
    read: (offset, length) => bytes.slice(offset, Math.min(offset + length, bytes.length)),
  };
}

export const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** Hexadecimal as people paste it: with or without 0x, with `_` separators. */
export function parseHex(text: string, what: string): bigint {
  const t = text.trim().replace(/_/g, '');
  if (!/^(0x)?[0-9a-f]+$/i.test(t)) throw new DumpError(`${what} '${text}' is not a hexadecimal number (e.g. 0x4000_0000)`);
  return BigInt(t.startsWith('0x') || t.startsWith('0X') ? t : '0x' + t);
}
