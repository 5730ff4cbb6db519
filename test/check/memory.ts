/**
 * A memory system built by hand for the observable-set tests: one page of cacheable memory
 * (iommu-pages) and one of non-cacheable memory (dma_alloc_coherent on a non-coherent
 * system), and the CPU's stores to them.
 */
import { VisibilityHistory } from '../../src/model/history';
import { DEFAULT_MEMORY_CONFIG, MemorySystem } from '../../src/model/memsys';
import { RegionMap } from '../../src/model/regions';

/** The cacheable page. */
export const WB = 0x4000_0000;
/** The non-cacheable page. */
export const NC = 0x4800_0000;

export function system(coherent: boolean, writebackGranule: 1 | 2 | 4 | 8 = 8, history?: VisibilityHistory): MemorySystem {
  const m = new MemorySystem({ ...DEFAULT_MEMORY_CONFIG, coherent, writebackGranule }, undefined, undefined, history);
  m.regions = RegionMap.empty()
    .add({ name: 'cacheable', base: WB, size: 0x1000, attr: 'cacheable', owner: 'test' })
    .add({ name: 'noncacheable', base: NC, size: 0x1000, attr: 'noncacheable', owner: 'test' });
  return m;
}

let origin = 0;
/** A single-copy-atomic store (WRITE_ONCE) of `size` bytes. */
export const store = (m: MemorySystem, addr: number, value: bigint, size: 1 | 2 | 4 | 8 = 8): void => m.cpuStore(addr, size, value, size, ++origin);
/** A plain 64-bit store the compiler may split into `unit`-byte parts. */
export const plain = (m: MemorySystem, addr: number, value: bigint, unit: 1 | 2 | 4): void => m.cpuStore(addr, 8, value, unit, ++origin);
