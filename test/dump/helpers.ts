/**
 * Dumps built by hand for the tests: a sparse physical image written qword by qword, and
 * ELF64 core files around it with the headers written here byte by byte (System V gABI
 * layout: a 64-byte ELF header, 56-byte program headers), not with the reader under test.
 */

export const PAGE = 4096;

/** A sparse physical memory image. */
export class Image {
  private readonly pages = new Map<number, Uint8Array>();

  private page(addr: number): Uint8Array {
    const pfn = Math.floor(addr / PAGE);
    let p = this.pages.get(pfn);
    if (!p) {
      p = new Uint8Array(PAGE);
      this.pages.set(pfn, p);
    }
    return p;
  }

  /** A little-endian qword at an 8-byte aligned address. */
  q(addr: number, v: bigint): this {
    const p = this.page(addr);
    new DataView(p.buffer).setBigUint64(addr % PAGE, BigInt.asUintN(64, v), true);
    return this;
  }

  /** Qwords from `addr` on. */
  qs(addr: number, vs: readonly bigint[]): this {
    vs.forEach((v, i) => this.q(addr + 8 * i, v));
    return this;
  }

  /** The bytes of [from, to) (zero where never written). */
  bytes(from: number, to: number): Uint8Array {
    const out = new Uint8Array(to - from);
    for (const [pfn, p] of this.pages) {
      const base = pfn * PAGE;
      if (base + PAGE <= from || base >= to) continue;
      const lo = Math.max(from, base);
      const hi = Math.min(to, base + PAGE);
      out.set(p.subarray(lo - base, hi - base), lo - from);
    }
    return out;
  }
}

export interface CoreSegment {
  readonly paddr: number;
  /** The bytes stored in the file (p_filesz = their length). */
  readonly data: Uint8Array;
  /** p_memsz when larger than the data (the rest reads as zero). */
  readonly memsz?: number;
  /** p_vaddr (kdump puts the kernel's virtual address here); default 0 as QEMU without paging. */
  readonly vaddr?: number;
}

export interface CoreOptions {
  /** e_ident[EI_CLASS]: 2 = ELF64 (default), 1 = ELF32. */
  readonly elfClass?: number;
  /** e_ident[EI_DATA]: 1 = little-endian (default), 2 = big-endian. */
  readonly data?: number;
  /** e_type: 4 = ET_CORE (default). */
  readonly type?: number;
  /** e_machine: 183 = AArch64 (default). */
  readonly machine?: number;
  /** Write e_phnum as PN_XNUM (0xffff) with the count in section header 0's sh_info. */
  readonly xnum?: boolean;
  /** Force a segment's p_offset (index → offset), to make the headers lie. */
  readonly offsets?: Readonly<Record<number, number>>;
}

/**
 * An ELF core: header, a PT_NOTE (as every real core has; empty here), one PT_LOAD per
 * segment, then the segments' bytes one after another.
 */
export function elfCore(segments: readonly CoreSegment[], o: CoreOptions = {}): Uint8Array {
  const phnum = segments.length + 1;
  const phoff = 64;
  const shoff = phoff + phnum * 56;
  let dataOff = shoff + (o.xnum ? 64 : 0);
  dataOff = Math.ceil(dataOff / 16) * 16;
  const offsets = segments.map((s) => {
    const at = dataOff;
    dataOff += s.data.length;
    return at;
  });
  const out = new Uint8Array(dataOff);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, o.elfClass ?? 2, o.data ?? 1, 1, 0]);
  v.setUint16(16, o.type ?? 4, true); // e_type
  v.setUint16(18, o.machine ?? 183, true); // e_machine
  v.setUint32(20, 1, true); // e_version
  v.setBigUint64(32, BigInt(phoff), true); // e_phoff
  v.setBigUint64(40, o.xnum ? BigInt(shoff) : 0n, true); // e_shoff
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(54, 56, true); // e_phentsize
  v.setUint16(56, o.xnum ? 0xffff : phnum, true); // e_phnum
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint16(60, o.xnum ? 1 : 0, true); // e_shnum
  if (o.xnum) v.setUint32(shoff + 44, phnum, true); // sh_info of section 0
  // PT_NOTE (4) with nothing in it.
  v.setUint32(phoff, 4, true);
  segments.forEach((s, i) => {
    const p = phoff + (i + 1) * 56;
    v.setUint32(p, 1, true); // PT_LOAD
    v.setUint32(p + 4, 7, true); // RWX
    v.setBigUint64(p + 8, BigInt(o.offsets?.[i] ?? offsets[i]), true);
    v.setBigUint64(p + 16, BigInt(s.vaddr ?? 0), true);
    v.setBigUint64(p + 24, BigInt(s.paddr), true);
    v.setBigUint64(p + 32, BigInt(s.data.length), true);
    v.setBigUint64(p + 40, BigInt(s.memsz ?? s.data.length), true);
    v.setBigUint64(p + 48, 0n, true);
    out.set(s.data, offsets[i]);
  });
  return out;
}
