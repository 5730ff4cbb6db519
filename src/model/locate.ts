/**
 * Finding structures in memory the way the SMMU would, but through either view: the CPU's
 * (what the driver wrote) or the SMMU's (what it would read now). Used by expectations,
 * expression functions (`ste_addr`, `cd_addr`, `pte_addr`) and the debugger's views.
 * Nothing here changes the machine or the SMMU's caches.
 */
import { descriptorType, levelGeometry, outputAddress, startLevel } from '../arch/pte';
import { Granule } from '../arch/field';
import type { Machine } from './machine';
import { MAX_PHYS_ADDR } from './memory';

export type View = 'cpu' | 'smmu';

export type Located = { readonly addr: number } | { readonly error: string };

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** A qword in a view; beyond the physical address space nothing is stored (a pointer there leads nowhere): zero. */
export function read64(m: Machine, addr: number, view: View): bigint {
  if (!(addr >= 0 && addr + 8 <= MAX_PHYS_ADDR)) return 0n;
  return view === 'cpu' ? m.load(addr, 8) : m.mem.smmuReadU64(addr);
}

/** The stream table registers as programmed. */
export function streamTable(m: Machine): { base: number; fmt: number; split: number; log2size: number } {
  const base = Number(m.smmu.read('STRTAB_BASE') & 0x00ff_ffff_ffff_ffc0n);
  const cfg = Number(m.smmu.read('STRTAB_BASE_CFG'));
  return { base, fmt: (cfg >>> 16) & 3, split: (cfg >>> 6) & 0x1f, log2size: cfg & 0x3f };
}

/** A 64-byte entry at `addr`, unless a pointer put it beyond the physical address space. */
function entryAt(addr: number, what: string): Located {
  return addr + 64 <= MAX_PHYS_ADDR ? { addr } : { error: `${what} would be at ${hex(addr)}, beyond the physical address space` };
}

/** The address of a StreamID's STE, through the L1 descriptor when the table is 2-level. */
export function steAddress(m: Machine, sid: number, view: View = 'cpu'): Located {
  const st = streamTable(m);
  const log2 = Math.min(st.log2size, m.smmu.features.sidBits);
  if (st.base === 0 && st.log2size === 0) return { error: 'the stream table is not programmed (STRTAB_BASE_CFG is 0)' };
  if (sid < 0 || sid >= 2 ** log2) return { error: `StreamID ${hex(sid)} is beyond the stream table (2^${log2} StreamIDs)` };
  if (st.fmt !== 1) return entryAt(st.base + sid * 64, `the STE of StreamID ${hex(sid)}`);
  const l1 = Math.floor(sid / 2 ** st.split);
  const desc = read64(m, st.base + l1 * 8, view);
  const span = Number(desc & 0x1fn);
  if (span === 0 || span > 11) return { error: `L1 descriptor ${l1} at ${hex(st.base + l1 * 8)} is invalid (Span=${span})` };
  const l2 = sid % 2 ** st.split;
  if (l2 >= 2 ** (span - 1)) return { error: `StreamID ${hex(sid)} is beyond the ${2 ** (span - 1)} STEs of L1 descriptor ${l1}` };
  return entryAt(Number(desc & 0x00ff_ffff_ffff_ffc0n) + l2 * 64, `the STE of StreamID ${hex(sid)}`);
}

/** The address of a CD, from the STE's S1ContextPtr (a PA: nested streams are not followed). */
export function cdAddress(m: Machine, sid: number, ssid: number, view: View = 'cpu'): Located {
  const ste = steAddress(m, sid, view);
  if ('error' in ste) return ste;
  const w0 = read64(m, ste.addr, view);
  const config = Number((w0 >> 1n) & 7n);
  if ((w0 & 1n) === 0n || (config & 0b101) !== 0b101) return { error: `STE ${hex(sid)} does not translate at stage 1 (V=${w0 & 1n}, Config=0b${config.toString(2).padStart(3, '0')})` };
  if (config === 0b111) return { error: `STE ${hex(sid)} is nested: its S1ContextPtr is an IPA` };
  const cdBase = Number(w0 & 0x00ff_ffff_ffff_ffc0n);
  const cdMax = Number((w0 >> 59n) & 0x1fn);
  const fmt = Number((w0 >> 4n) & 3n);
  if (ssid >= 2 ** cdMax) return { error: `SubstreamID ${hex(ssid)} is beyond the 2^${cdMax} CDs of STE ${hex(sid)}` };
  if (cdMax === 0 || fmt === 0 || fmt === 3) return entryAt(cdBase + ssid * 64, `CD ${hex(ssid)} of STE ${hex(sid)}`);
  const leafBits = fmt === 1 ? 6 : 10;
  const l1Addr = cdBase + Math.floor(ssid / 2 ** leafBits) * 8;
  const l1 = read64(m, l1Addr, view);
  if ((l1 & 1n) === 0n) return { error: `L1 CD descriptor at ${hex(l1Addr)} is invalid (V=0)` };
  return entryAt(Number(l1 & 0x00ff_ffff_ffff_f000n) + (ssid % 2 ** leafBits) * 64, `CD ${hex(ssid)} of STE ${hex(sid)}`);
}

/**
 * The address of the descriptor a walk of `iova` reads at `level`, following table
 * descriptors from `pgd` in the given view (a stage-1 or stage-2 table of a granule).
 */
export function pteAddress(m: Machine, pgd: number, granule: Granule, inputBits: number, stage: 1 | 2, iova: number, level: number,
  view: View = 'cpu', concatStart?: number): Located {
  const start = concatStart ?? startLevel(granule, inputBits);
  if (level < start || level > 3) return { error: `level ${level} is not walked: the walk starts at level ${start} and ends at level 3` };
  let table = pgd;
  for (let l = start; ; l++) {
    const g = levelGeometry(granule, l as 0 | 1 | 2 | 3);
    const bits = l === start ? Math.max(inputBits - g.indexLo, 1) : g.indexBits;
    const index = Math.floor(iova / 2 ** g.indexLo) % 2 ** bits;
    const addr = table + index * 8;
    if (l === level) return { addr };
    const desc = read64(m, addr, view);
    const fmt = { stage, granule, level: l as 0 | 1 | 2 | 3 };
    if (descriptorType(desc, fmt) !== 'table') {
      return { error: `the level-${l} descriptor at ${hex(addr)} is not a table (${hex(desc)}): level ${level} is not reached` };
    }
    table = Number(outputAddress(desc, fmt)!);
  }
}
