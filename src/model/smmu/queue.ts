/**
 * Circular queue pointers as the SMMU encodes them in PROD/CONS: the low LOG2SIZE bits
 * index the entry, the next bit is the wrap flag. Empty when index and wrap agree; full
 * when the index agrees and the wrap differs.
 */

export interface QueueGeometry {
  /** Base address of entry 0. */
  readonly base: number;
  /** log2 of the number of entries. */
  readonly log2size: number;
  /** Bytes per entry: 16 (commands, PRI records) or 32 (event records). */
  readonly entrySize: number;
}

/** The index and wrap bits of a pointer; anything above them is not part of the position. */
export function position(ptr: number, log2size: number): number {
  return ptr & ((2 << log2size) - 1);
}

export function indexOf(ptr: number, log2size: number): number {
  return ptr & ((1 << log2size) - 1);
}

export function isEmpty(prod: number, cons: number, log2size: number): boolean {
  return position(prod, log2size) === position(cons, log2size);
}

export function isFull(prod: number, cons: number, log2size: number): boolean {
  return indexOf(prod, log2size) === indexOf(cons, log2size) && position(prod, log2size) !== position(cons, log2size);
}

/** Entries between CONS and PROD. */
export function used(prod: number, cons: number, log2size: number): number {
  const size = 1 << log2size;
  return (position(prod, log2size) - position(cons, log2size) + 2 * size) % (2 * size);
}

/** The pointer advanced by one entry (index and wrap only; flags above are kept). */
export function advance(ptr: number, log2size: number): number {
  const posMask = (2 << log2size) - 1;
  return ((ptr & ~posMask) | ((ptr + 1) & posMask)) >>> 0;
}

export function entryAddress(q: QueueGeometry, ptr: number): number {
  return q.base + indexOf(ptr, q.log2size) * q.entrySize;
}
