/**
 * The CPU's write-back data cache, as far as the SMMU can tell: lines holding the CPU's
 * value of cacheable memory, with a per-byte dirty mask. PoC keeps the old bytes until
 * the line is written back (by a clean, or by the hardware at a moment of its choosing).
 * Lines are shared copy-on-write between snapshots.
 */

export interface Line {
  /** Address of the first byte. */
  readonly base: number;
  readonly data: Uint8Array;
  /** 1 where the CPU's byte differs from what it last wrote back. */
  readonly dirty: Uint8Array;
  readonly gen: number;
}

let nextGeneration = 1;

export class CpuCache {
  private lines: Map<number, Line>;
  private gen: number;

  constructor(readonly lineSize: number, lines?: Map<number, Line>) {
    if (!Number.isInteger(Math.log2(lineSize)) || lineSize < 16 || lineSize > 4096) {
      throw new RangeError(`cache line size ${lineSize} must be a power of two between 16 and 4096`);
    }
    this.lines = lines ?? new Map();
    this.gen = nextGeneration++;
  }

  snapshot(): CpuCache {
    this.gen = nextGeneration++;
    return new CpuCache(this.lineSize, new Map(this.lines));
  }

  lineBase(addr: number): number {
    return addr - (addr % this.lineSize);
  }

  get(addr: number): Line | undefined {
    return this.lines.get(this.lineBase(addr));
  }

  /** Every line held, ascending by address. */
  allLines(): Line[] {
    return [...this.lines.values()].sort((a, b) => a.base - b.base);
  }

  /** Lines with dirty bytes, ascending by address. */
  dirtyLines(): Line[] {
    return this.allLines().filter((l) => l.dirty.includes(1));
  }

  /** Lines overlapping [addr, addr+len), ascending. */
  linesIn(addr: number, len: number): Line[] {
    const out: Line[] = [];
    const first = this.lineBase(addr);
    // Walk whichever is smaller: the range's lines or the lines held.
    if (len / this.lineSize <= this.lines.size) {
      for (let b = first; b < addr + len; b += this.lineSize) {
        const l = this.lines.get(b);
        if (l) out.push(l);
      }
    } else {
      for (const l of this.lines.values()) if (l.base + this.lineSize > addr && l.base < addr + len) out.push(l);
      out.sort((a, b) => a.base - b.base);
    }
    return out;
  }

  /** The line for writing: allocated from `fill` (the PoC bytes) when absent, copied if shared. */
  lineForWrite(addr: number, fill: (base: number, out: Uint8Array) => void): Line {
    const base = this.lineBase(addr);
    const l = this.lines.get(base);
    if (l && l.gen === this.gen) return l;
    const data = new Uint8Array(this.lineSize);
    const dirty = new Uint8Array(this.lineSize);
    if (l) {
      data.set(l.data);
      dirty.set(l.dirty);
    } else {
      fill(base, data);
    }
    const line: Line = { base, data, dirty, gen: this.gen };
    this.lines.set(base, line);
    return line;
  }

  drop(base: number): void {
    this.lines.delete(base);
  }

  get size(): number {
    return this.lines.size;
  }
}
