/**
 * Carrying out a KHO action on the machine: the bookkeeping is Kho's (kho.ts); what it
 * does to memory, regions and the allocator — the kexec itself, the new kernel reusing
 * free memory, restoring a region — is here. Each action reports what it did.
 */
import { ByteRange, KhoAction, KhoError, KhoEvent, pageAddr, pagesOf } from './kho';
import type { Machine } from './machine';
import { MAX_PHYS_ADDR } from './memory';

export function performKho(m: Machine, a: KhoAction, report: (e: KhoEvent) => void): void {
  const kho = m.kho;
  switch (a.kind) {
    case 'preserve': {
      const r = kho.preserve(a.base, a.size, a.label, a.subtree, a.region);
      report({ kind: 'preserve', label: a.label, subtree: a.subtree, range: r.range, chunks: r.chunks });
      return;
    }
    case 'unpreserve':
      report({ kind: 'unpreserve', label: a.label, range: kho.unpreserve(a.base, a.size, a.label) });
      return;
    case 'describe':
      kho.describe(a.subtree);
      report({ kind: 'describe', subtree: a.subtree.name });
      return;
    case 'finalize':
      report({ kind: 'finalize', description: kho.finalize() });
      return;
    case 'kexec':
      kexec(m, report);
      return;
    case 'scrub': {
      const asked = a.ranges?.map((r) => pagesOf(r.addr, r.len));
      const pages = kho.freeRanges(asked, m.mem.regions.live);
      overwrite(m, pages.map((p) => ({ addr: pageAddr(p.lo), len: pageAddr(p.hi - p.lo) })), a.byte, 'scrub', report);
      return;
    }
    case 'restore': {
      // The region comes back under its name; check it can before KHO records the restore.
      let regions = m.mem.regions;
      if (a.region) {
        const old = kho.oldRegion(a.region);
        if (!old) throw new KhoError(`cannot restore '${a.region}': the old kernel had no region of that name`);
        if (regions.byName(old.name)) {
          throw new KhoError(`cannot restore '${old.name}': the new kernel already has a region of that name; restore before allocating`);
        }
        regions = regions.add({ name: old.name, base: old.base, size: old.size, attr: old.attr, owner: old.owner });
      }
      const range = kho.restore(a.base, a.size, a.label);
      m.mem.regions = regions;
      report({ kind: 'restore', label: a.label, range, region: a.region });
      return;
    }
    case 'use':
      report({ kind: 'use', what: a.what, range: pagesOf(a.base, a.size) });
      return;
    case 'finish':
      report({ kind: 'finish', released: kho.finish() });
      return;
  }
}

/**
 * kexec: the old kernel stops. Its last barriers complete what it issued; the CPU cache is
 * written back or kept dirty, as the platform says; its regions become free and the new
 * kernel's allocations start over. The SMMU is not touched.
 */
function kexec(m: Machine, report: (e: KhoEvent) => void): void {
  const live = m.mem.regions.live;
  const { finalized } = m.kho.kexec(live);
  if (finalized) report({ kind: 'finalize', description: m.kho.description! });
  m.mem.barrier('dsb');
  const wroteBack = m.platform.kexecCache === 'writeback' ? m.mem.writeBack(0, MAX_PHYS_ADDR) : 0;
  for (const r of live) m.mem.regions = m.mem.regions.free(r.name);
  m.allocator.reset(m.platform.allocBase);
  report({ kind: 'kexec', count: m.kho.kexecs, wroteBack, freed: live.map((r) => r.name) });
}

/** The new kernel writes over memory: by a scrub, or by an allocation placed there. */
export function overwrite(m: Machine, ranges: readonly ByteRange[], byte: number, by: 'scrub' | 'alloc', report: (e: KhoEvent) => void): void {
  m.mem.overwrite(ranges, byte);
  const o = { ranges, byte, by };
  m.kho.recordOverwrite(o);
  report({ kind: 'overwrite', overwrite: o });
}
