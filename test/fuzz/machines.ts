/**
 * Machines with real SMMU tables for the fuzz targets to corrupt: the state each bundled
 * example reaches at its end (run without the checker), and the hand-built dump fixture
 * (every kind of STE, 2-level stream table, linear and 2-level CD tables, stage-1, stage-2
 * and nested walks at several granules). A case takes a copy and overwrites random qwords
 * of the tables the SMMU can reach — random values, flipped bits, pointers to other tables
 * — and random registers, so walks go deep into tables that are almost right.
 */
import fc from 'fast-check';
import { Reachability, ReachableTable } from '../../src/check/reach';
import { compileScenario } from '../../src/scenario/compiler';
import { DEFAULT_LIMITS, Runner } from '../../src/scenario/runner';
import { Machine } from '../../src/model/machine';
import { bigintToBytes } from '../../src/model/memory';
import { bytesSource, DumpError } from '../../src/dump/source';
import { DumpMemory, Segment } from '../../src/dump/dumpMemory';
import { dumpMachine, openDump } from '../../src/dump/load';
import { elfCore } from '../dump/helpers';
import { fixtureImage, RAM, RAM_END, STRTAB_BASE, STRTAB_BASE_CFG } from '../dump/fixture';
import { word64 } from './harness';
import { EXAMPLES } from './scenarioText';

export interface Seed {
  readonly name: string;
  readonly machine: Machine;
  readonly tables: readonly ReachableTable[];
  /** StreamIDs that have an STE, and input addresses the scenario used. */
  readonly sids: readonly number[];
  readonly iovas: readonly bigint[];
  /** The dump the machine was made from, if it was. */
  readonly dump?: DumpMemory;
}

let cache: Seed[] | undefined;

function seedOf(name: string, machine: Machine, iovas: readonly bigint[], dump?: DumpMemory): Seed {
  const tables = Reachability.of(machine).all;
  const sids = tables.filter((t) => t.kind === 'ste').flatMap((t) => Array.from({ length: Math.min(t.entries, 8) }, (_, i) => (t.firstSid ?? 0) + i));
  return { name, machine, tables, sids: sids.length ? sids : [0], iovas: iovas.length ? iovas : [0n], dump };
}

/** The dump fixture as a core, opened as `inspect` and the debugger open it. */
export function fixtureCoreBytes(): Uint8Array {
  return elfCore([{ paddr: RAM, data: fixtureImage().bytes(RAM, RAM_END) }]);
}

export const FIXTURE_REGISTERS = new Map([['STRTAB_BASE', STRTAB_BASE], ['STRTAB_BASE_CFG', STRTAB_BASE_CFG], ['CR0', 1n]]);

export function seeds(): Seed[] {
  if (cache) return cache;
  cache = [];
  for (const e of EXAMPLES) {
    const program = compileScenario(e.name, e.text);
    const runner = new Runner(program, DEFAULT_LIMITS);
    runner.runToEnd();
    cache.push(seedOf(e.name, runner.state.machine, [...new Set(runner.results.dmas.map((d) => d.iova))]));
  }
  const dump = openDump({ core: ['fixture.core'], registers: FIXTURE_REGISTERS }, () => bytesSource('fixture.core', fixtureCoreBytes()));
  // Input addresses the fixture maps (see test/dump/fixture.ts).
  cache.push(seedOf('dump fixture', dumpMachine(dump), [0n, 0x1000n, 0x20_0000n, 0x4000_0000n, 0x8000_1000n, 0x10_0000_0000n], dump.memory));
  return cache;
}

export type Corruption = { table: number; entry: number; qword: number; how: 'random' | 'flip' | 'pointer' | 'low'; value: bigint; bit: number; target: number };

export const corruption = (): fc.Arbitrary<Corruption> => fc.record({
  table: fc.nat(), entry: fc.oneof(fc.nat({ max: 8 }), fc.nat()), qword: fc.nat({ max: 7 }),
  how: fc.constantFrom('random', 'flip', 'flip', 'pointer', 'low') as fc.Arbitrary<Corruption['how']>,
  value: word64(), bit: fc.nat({ max: 63 }), target: fc.nat(),
});

export type RegisterPoke = { name: string; value: bigint; flip: number; how: 'set' | 'flip'; write: boolean };

const POKED = ['STRTAB_BASE', 'STRTAB_BASE_CFG', 'CR0', 'CR2', 'GBPA', 'CMDQ_BASE', 'CMDQ_PROD', 'CMDQ_CONS', 'EVENTQ_BASE', 'EVENTQ_PROD', 'EVENTQ_CONS', 'GERRORN', 'IDR0', 'IDR1'];

export const registerPoke = (): fc.Arbitrary<RegisterPoke> => fc.record({
  name: fc.constantFrom(...POKED), value: word64(), flip: fc.nat({ max: 63 }), how: fc.constantFrom('set', 'flip') as fc.Arbitrary<'set' | 'flip'>, write: fc.boolean(),
});

function store(m: Machine, addr: number, v: bigint): void {
  if (addr < 0 || addr + 8 > 2 ** 52) return;
  const bytes = bigintToBytes(BigInt.asUintN(64, v), 8);
  // Both views: the CPU's (through its cache) and the SMMU's (PoC).
  m.write(addr, bytes);
  m.mem.poc.write(addr, bytes);
}

/** A copy of a seed's machine with the corruptions applied. */
export function corrupted(seed: Seed, cs: readonly Corruption[], regs: readonly RegisterPoke[]): Machine {
  const m = seed.machine.snapshot(() => undefined);
  const ts = seed.tables;
  for (const c of cs) {
    if (!ts.length) break;
    const t = ts[c.table % ts.length];
    const addr = t.base + (c.entry % t.entries) * t.entrySize + (c.qword % (t.entrySize / 8)) * 8;
    const old = m.load(addr, 8);
    const other = ts[c.target % ts.length];
    const v = c.how === 'random' ? c.value
      : c.how === 'flip' ? old ^ (1n << BigInt(c.bit))
        : c.how === 'pointer' ? BigInt(other.base) | (old & 0xfffn)
          : (old & ~0xfffn) | (c.value & 0xfffn);
    store(m, addr, v);
  }
  for (const r of regs) {
    const v = r.how === 'set' ? r.value : m.smmu.read(r.name) ^ (1n << BigInt(r.flip));
    // A write through MMIO has the SMMU's side effects (commands consumed); adopting sets the value as a dump would.
    if (r.write) m.mmioWrite(r.name, v);
    else m.smmu.adoptRegisters(new Map([[r.name, v]]));
  }
  return m;
}

/** The machine's memory as a dump, one segment per page it holds (for the inspector). */
export function pagesDump(m: Machine): DumpMemory | undefined {
  const pfns = m.mem.poc.touchedPages();
  if (!pfns.length) return undefined;
  const segments: Segment[] = pfns.map((pfn) => {
    const data = m.mem.pocRead(pfn * 4096, 4096);
    return { source: bytesSource(`page ${pfn.toString(16)}`, data), label: `page ${pfn.toString(16)}`, paddr: pfn * 4096, memsz: 4096, offset: 0, filesz: 4096 };
  });
  try {
    return new DumpMemory(segments);
  } catch (e) {
    if (e instanceof DumpError) return undefined;
    throw e;
  }
}
