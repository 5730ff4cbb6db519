/**
 * Raw memory images (`dd` of /dev/mem, a debugger's memory save, QEMU `pmemsave`): the file
 * is the memory from a base physical address on. Several files at several bases make one
 * dump; they may not overlap.
 */
import { Segment } from './dumpMemory';
import { ByteSource, DumpError, hex, parseHex } from './source';

export interface RawSpec {
  readonly path: string;
  readonly base: number;
}

/** The file of `FILE@BASE` (the last `@` separates them, so paths may contain one); the whole text when it has no base. */
export function rawSpecFile(text: string): string {
  const at = text.lastIndexOf('@');
  return at > 0 ? text.slice(0, at) : text;
}

/** `FILE@BASE` (BASE hexadecimal); the last `@` separates them, so paths may contain one. */
export function parseRawSpec(text: string): RawSpec {
  const path = rawSpecFile(text);
  if (path === text || path.length === text.length - 1) {
    throw new DumpError(`raw dump '${text}': expected FILE@BASE with the physical address of the file's first byte, e.g. ram.bin@0x40000000`);
  }
  const base = parseHex(text.slice(path.length + 1), `the base of raw dump '${text}'`);
  if (base >= 1n << 52n) throw new DumpError(`raw dump '${text}': base ${hex(base)} is beyond the 52-bit physical address space`);
  return { path, base: Number(base) };
}

/** The segment a raw file makes at its base. */
export function rawSegment(src: ByteSource, base: number): Segment {
  if (src.size === 0) throw new DumpError(`raw dump ${src.name} is empty: it holds no memory`);
  if (base + src.size > 2 ** 52) {
    throw new DumpError(`raw dump ${src.name} at ${hex(base)} runs to ${hex(base + src.size)}, beyond the 52-bit physical address space`);
  }
  return { source: src, label: `${src.name}@${hex(base)}`, paddr: base, memsz: src.size, offset: 0, filesz: src.size };
}
