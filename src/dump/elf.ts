/**
 * ELF core files as kdump (`/proc/vmcore`, makedumpfile -E) and QEMU's `dump-guest-memory`
 * write them for arm64: ELF64, little-endian, e_type ET_CORE, memory in PT_LOAD segments
 * placed by their physical address (p_paddr). Only the headers are read here; the memory
 * stays in the file until something looks at it (see dumpMemory.ts).
 *
 * Layout facts (System V gABI): the ELF header is 64 bytes; e_ident[4] is the class
 * (1 ELF32, 2 ELF64), e_ident[5] the data encoding (1 little-, 2 big-endian); e_type at 16,
 * e_machine at 18, e_phoff at 32, e_shoff at 40, e_phentsize at 54, e_phnum at 56. A
 * program header is 56 bytes: p_type 0, p_offset 8, p_vaddr 16, p_paddr 24, p_filesz 32,
 * p_memsz 40. With more than 0xfffe headers e_phnum is PN_XNUM (0xffff) and the count is
 * in section header 0's sh_info (offset 44 of a 64-byte section header).
 */
import { Segment } from './dumpMemory';
import { ByteSource, DumpError, hex, ReadOptions } from './source';

const ELF_HEADER = 64;
const PHDR_SIZE = 56;
const PT_LOAD = 1;
const ET_CORE = 4;
const EM_AARCH64 = 183;
const PN_XNUM = 0xffff;
const MAX_PHYS = 2 ** 52;

const E_TYPES: Readonly<Record<number, string>> = { 0: 'ET_NONE', 1: 'ET_REL', 2: 'ET_EXEC', 3: 'ET_DYN', 4: 'ET_CORE' };

export interface ElfCore {
  readonly segments: readonly Segment[];
  /** e_machine, and a note when it is not AArch64 (the tables are still read). */
  readonly machine: number;
  readonly notes: readonly string[];
}

function u64(v: DataView, off: number, what: string, src: ByteSource): number {
  const x = v.getBigUint64(off, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new DumpError(`${src.name}: ${what} ${hex(x)} is beyond any file or 52-bit physical address`);
  return Number(x);
}

/** Whether a file starts with the ELF magic. */
export function isElf(head: Uint8Array): boolean {
  return head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

function header(src: ByteSource): DataView {
  if (src.size < ELF_HEADER) {
    throw new DumpError(`${src.name} is ${src.size} bytes: an ELF header needs 64, so the file is truncated or not an ELF core`);
  }
  const b = src.read(0, ELF_HEADER);
  if (!isElf(b)) {
    throw new DumpError(`${src.name} is not an ELF core nor a kdump-compressed dump (offset 0 holds ${[...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ')}, ` +
      'not 7f 45 4c 46, "KDUMP   " or "makedumpfile"): for a raw memory image, give it with its physical base as FILE@BASE');
  }
  if (b[4] === 1) {
    throw new DumpError(`${src.name} is ELF32 (EI_CLASS = 1 at offset 4): only ELF64 cores are read, as arm64 kdump and QEMU dump-guest-memory write them`);
  }
  if (b[4] !== 2) throw new DumpError(`${src.name}: EI_CLASS at offset 4 is ${b[4]}, neither ELF32 (1) nor ELF64 (2)`);
  if (b[5] === 2) {
    throw new DumpError(`${src.name} is big-endian (EI_DATA = 2 at offset 5): only little-endian cores are read (SMMUv3 tables of an arm64 little-endian kernel)`);
  }
  if (b[5] !== 1) throw new DumpError(`${src.name}: EI_DATA at offset 5 is ${b[5]}, neither little-endian (1) nor big-endian (2)`);
  return new DataView(b.buffer, b.byteOffset, ELF_HEADER);
}

/** The number of program headers, following PN_XNUM to section header 0. */
function phCount(src: ByteSource, h: DataView): number {
  const n = h.getUint16(56, true);
  if (n !== PN_XNUM) return n;
  const shoff = u64(h, 40, 'e_shoff', src);
  if (shoff + 64 > src.size) {
    throw new DumpError(`${src.name}: e_phnum is PN_XNUM (0xffff), so the count is in section header 0 at offset ${hex(shoff)}, which is past the end of the file (${hex(src.size)} bytes)`);
  }
  const sh = src.read(shoff, 64);
  return new DataView(sh.buffer, sh.byteOffset, 64).getUint32(44, true);
}

/** Read an ELF core's headers: its PT_LOAD segments by physical address. Throws DumpError naming what is wrong. */
export function readElfCore(src: ByteSource, opts: ReadOptions = {}): ElfCore {
  const h = header(src);
  const type = h.getUint16(16, true);
  if (type !== ET_CORE) {
    throw new DumpError(`${src.name}: e_type at offset 0x10 is ${type} (${E_TYPES[type] ?? 'unknown'}): a memory dump is a core file (ET_CORE = 4); ` +
      'a kernel image or module holds no memory contents');
  }
  const machine = h.getUint16(18, true);
  const notes: string[] = machine === EM_AARCH64 ? [] : [`${src.name}: e_machine is ${machine}, not AArch64 (183); reading its memory anyway`];
  const phoff = u64(h, 32, 'e_phoff', src);
  const phentsize = h.getUint16(54, true);
  const phnum = phCount(src, h);
  if (phnum === 0) throw new DumpError(`${src.name} has no program headers (e_phnum = 0), so no memory segments`);
  if (phentsize < PHDR_SIZE) {
    throw new DumpError(`${src.name}: e_phentsize at offset 0x36 is ${phentsize}; an ELF64 program header is ${PHDR_SIZE} bytes`);
  }
  const tableEnd = phoff + phnum * phentsize;
  if (tableEnd > src.size) {
    throw new DumpError(`${src.name}: its ${phnum} program headers span offsets ${hex(phoff)}..${hex(tableEnd)}, ` +
      `but the file ends at ${hex(src.size)}: the file is truncated`);
  }
  const table = src.read(phoff, phnum * phentsize);
  const v = new DataView(table.buffer, table.byteOffset, table.length);
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
    if (v.getUint32(o, true) !== PT_LOAD) continue;
    const label = `${src.name} PT_LOAD ${i}`;
    const at = `program header ${i} at offset ${hex(phoff + o)}`;
    const offset = u64(v, o + 8, `${at}: p_offset`, src);
    const paddr = u64(v, o + 24, `${at}: p_paddr`, src);
    const filesz = u64(v, o + 32, `${at}: p_filesz`, src);
    const memsz = u64(v, o + 40, `${at}: p_memsz`, src);
    if (memsz === 0) continue;
    if (filesz > memsz) {
      throw new DumpError(`${src.name}: ${at} has p_filesz ${hex(filesz)} larger than p_memsz ${hex(memsz)}; a segment holds at most p_memsz bytes`);
    }
    if (paddr + memsz > MAX_PHYS) {
      throw new DumpError(`${src.name}: ${at} places memory at physical ${hex(paddr)}..${hex(paddr + memsz)}, beyond the 52-bit physical address space` +
        ' (is p_paddr filled in? some tools leave it 0 or copy p_vaddr)');
    }
    if (offset + filesz > src.size) {
      const cut = `${label} (physical ${hex(paddr)}..${hex(paddr + memsz)}) needs file bytes ${hex(offset)}..${hex(offset + filesz)}, ` +
        `but ${src.name} ends at ${hex(src.size)}: the file is truncated (was the dump interrupted?)`;
      if (!opts.salvage) throw new DumpError(cut);
      // What is in the file is kept; the rest of the segment is memory the dump does not hold (not zeros).
      const kept = Math.max(0, src.size - offset);
      notes.push(`${cut}; reading the ${hex(kept)} bytes it has`);
      if (kept > 0) segments.push({ source: src, label, paddr, memsz: kept, offset, filesz: kept });
      continue;
    }
    segments.push({ source: src, label, paddr, memsz, offset, filesz });
  }
  if (segments.length === 0) throw new DumpError(`${src.name} has ${phnum} program headers but no PT_LOAD segment with memory in it`);
  return { segments, machine, notes };
}
