/**
 * A dump made ready for the model: its memory, its registers, and how to put both into a
 * machine. The CLI's `inspect`, the scenario's `load` and the debugger's launch
 * configuration all come through here, so they agree on what a dump means.
 */
import { Reachability, ReachableTable } from '../check/reach';
import type { KernelState } from '../driver/context';
import { DEFAULT_PLATFORM, Machine, PlatformConfig } from '../model/machine';
import { PAGE_SIZE } from '../model/memory';
import { RegionError } from '../model/regions';
import { SmmuFeatures } from '../model/smmu/features';
import { DumpMemory, PagedImage, Segment } from './dumpMemory';
import { isElf, readElfCore } from './elf';
import { flattenedSource, isFlattened } from './flattened';
import { isKdump, readKdump } from './kdump';
import { parseRawSpec, rawSegment } from './raw';
import { DumpRegisters, dumpRegisters } from './registers';
import { ByteSource, DumpError, ReadOptions } from './source';

export interface DumpSpec {
  /** Core files: ELF (kdump vmcore, QEMU dump-guest-memory) or kdump-compressed (makedumpfile), flattened or not. */
  readonly core?: readonly string[];
  /** Raw images as FILE@BASE. */
  readonly raw?: readonly string[];
  /** Register values by name (see registers.ts). */
  readonly registers: ReadonlyMap<string, bigint>;
}

/** Opens a file for positional reads; throws DumpError (naming the path) when it cannot. */
export type Opener = (path: string) => ByteSource;

export interface Dump {
  readonly memory: DumpMemory;
  readonly registers: DumpRegisters;
  /** What the reader noticed (unusual headers, defaults taken). */
  readonly notes: readonly string[];
}

export function openDump(spec: DumpSpec, open: Opener, platform: SmmuFeatures = DEFAULT_PLATFORM.features, opts: ReadOptions = {}): Dump {
  const { memory, notes } = openDumpMemory(spec, open, opts);
  const registers = dumpRegisters(spec.registers, platform);
  return { memory, registers, notes: [...notes, ...registers.notes] };
}

/** A dump's memory alone (to search it for the stream table before the registers are known). */
export function openDumpMemory(spec: Pick<DumpSpec, 'core' | 'raw'>, open: Opener, opts: ReadOptions = {}): { memory: DumpMemory; notes: readonly string[] } {
  const segments: Segment[] = [];
  const images: PagedImage[] = [];
  const notes: string[] = [];
  for (const path of spec.core ?? []) {
    const core = readCore(open(path), opts);
    // Loops, not push(...): an ELF core may have more program headers than a call takes arguments.
    for (const s of core.segments) segments.push(s);
    for (const i of core.images) images.push(i);
    for (const n of core.notes) notes.push(n);
  }
  for (const text of spec.raw ?? []) {
    const r = parseRawSpec(text);
    segments.push(rawSegment(open(r.path), r.base));
  }
  if (segments.length === 0 && images.length === 0) {
    throw new DumpError('no dump given: name a core (an ELF core or a kdump-compressed dump) or raw images at their physical bases (raw FILE@BASE)');
  }
  return { memory: new DumpMemory(segments, images), notes };
}

/**
 * A core file by what it starts with: an ELF core, a kdump-compressed dump, or either of
 * them flattened (makedumpfile -F, QEMU's dump-guest-memory before 8.2).
 */
function readCore(src: ByteSource, opts: ReadOptions): { segments: readonly Segment[]; images: readonly PagedImage[]; notes: readonly string[] } {
  const head = src.read(0, 16);
  if (isFlattened(head)) {
    const inner = flattenedSource(src, opts);
    const innerHead = inner.read(0, 16);
    if (!isKdump(innerHead) && !isElf(innerHead)) {
      throw new DumpError(`${src.name} is a flattened dump (makedumpfile -F) whose content starts with neither an ELF header nor a kdump signature`);
    }
    const core = readCore(inner, opts);
    return {
      ...core,
      notes: [`${src.name}: flattened (makedumpfile -F); read in place, as makedumpfile -R would put it together`,
        ...(inner.cut ? [`${inner.cut}; reading the records before it (what the rest held is not in the dump)`] : []), ...core.notes],
    };
  }
  if (isKdump(head)) {
    const k = readKdump(src, opts);
    return { segments: [], images: [k.image], notes: k.notes };
  }
  const elf = readElfCore(src, opts);
  return { segments: elf.segments, images: [], notes: elf.notes };
}

/** The platform a dump runs on: the given one with the SMMU its ID registers describe. */
export function dumpPlatform(d: Dump, p: PlatformConfig = DEFAULT_PLATFORM): PlatformConfig {
  return { ...p, features: d.registers.features };
}

/** A scenario name for a table found in the dump: `dump_strtab`, `dump_ste_100`, `dump_cd_2_0`, `dump_pt_40070000`... */
function regionName(t: ReachableTable): string {
  const h = (n: number | undefined): string => (n ?? 0).toString(16);
  switch (t.kind) {
    case 'l1std': return 'dump_strtab';
    case 'ste': return t.path.startsWith('STRTAB_BASE') ? 'dump_strtab' : `dump_ste_${h(t.firstSid)}`;
    case 'l1cd': return `dump_l1cd_${h(t.sid)}`;
    case 'cd': return `dump_cd_${h(t.sid)}_${h(t.firstSsid)}`;
    case 'pgtable': return `dump_pt_${h(t.base)}`;
    default: return `dump_${t.kind}`;
  }
}

/**
 * Name the SMMU structures the dump's registers reach as regions, with the memory the
 * driver gives them: the stream table, CD tables and queues from the DMA API's coherent
 * allocator (non-cacheable unless the SMMU is coherent), page tables cacheable
 * (iommu-pages). Scenarios can then refer to them (preserve them, free them) and the
 * checker knows how the CPU's stores reach the SMMU. A table that overlaps one already
 * named (shared or corrupt) is left unnamed.
 */
function nameTables(m: Machine): void {
  const coherent = m.platform.memory.coherent ? 'cacheable' : 'noncacheable';
  for (const t of Reachability.of(m, ['cpu']).all) {
    // An enabled queue whose base was not given is not a table in the dump.
    if ((t.kind === 'cmdq' || t.kind === 'evtq') && t.base === 0) continue;
    try {
      m.alloc(regionName(t), t.entries * t.entrySize, t.kind === 'pgtable' ? 'cacheable' : coherent, 'dump', { base: t.base });
    } catch (e) {
      if (!(e instanceof RegionError)) throw e;
    }
  }
}

/**
 * Put a dump into a machine: its memory under the machine's (the scenario's writes go on
 * top), its registers into the SMMU, automatic allocations above its memory so they never
 * land on real tables. With the kernel state (a scenario), also the command queue — so
 * commands can be issued on top of the dump — and regions naming the tables it reaches.
 */
export function applyDump(m: Machine, d: Dump, kernel?: KernelState): void {
  m.mem.poc.setBase(d.memory);
  m.smmu.adoptRegisters(d.registers.values);
  const top = d.memory.top;
  m.allocator.skipTo(Math.ceil(top / PAGE_SIZE) * PAGE_SIZE);
  if (!kernel) return;
  nameTables(m);
  const cr0 = Number(m.smmu.read('CR0'));
  const cmdq = m.smmu.read('CMDQ_BASE');
  if ((cr0 & 8) !== 0 && cmdq !== 0n) {
    const log2size = Number(cmdq & 0x1fn);
    kernel.cmdq = { region: 'dump_cmdq', base: Number(cmdq & 0x00ff_ffff_ffff_ffe0n), log2size, prod: Number(m.smmu.read('CMDQ_PROD')) & ((2 << log2size) - 1) };
  }
}

/** A program setup (see Program.setup) that starts a run from the dump. */
export function dumpSetup(d: Dump): (s: { readonly machine: Machine; readonly kernel: KernelState }) => void {
  return (s) => applyDump(s.machine, d, s.kernel);
}

/** A machine holding a dump, for inspection. */
export function dumpMachine(d: Dump, platform: PlatformConfig = DEFAULT_PLATFORM): Machine {
  const m = Machine.create(dumpPlatform(d, platform));
  applyDump(m, d);
  return m;
}
