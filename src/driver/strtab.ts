/**
 * The stream table as the kernel manages it: linear, or 2-level with SPLIT 8 (256 STEs,
 * 16KB, per L2 table), allocated with dmam_alloc_coherent (non-cacheable on a
 * non-coherent system), every STE initialised to abort, L2 tables allocated when a
 * master's StreamID is inserted and published with one WRITE_ONCE of the L1 descriptor.
 */
import { encode } from '../arch/codec';
import { L1STD } from '../arch/ste';
import { DriverContext, DriverError, StreamTableState } from './context';
import { abortSte } from './builders';
import { Action, alloc, frame, writeOnce64 } from './ops';

/** Memory the DMA API's coherent allocator gives: cacheable only where the SMMU snoops. */
export function coherentAttr(ctx: DriverContext): 'cacheable' | 'noncacheable' {
  return ctx.machine.platform.memory.coherent ? 'cacheable' : 'noncacheable';
}

/** `count` abort STEs, as arm_smmu_init_initial_stes writes them. */
function abortStes(count: number): Uint8Array {
  const ste = abortSte();
  const bytes = new Uint8Array(count * 64);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) ste.forEach((w, q) => view.setBigUint64(i * 64 + q * 8, w, true));
  return bytes;
}

export const STRTAB_SPLIT = 8;

/** Allocate the stream table and program STRTAB_BASE/_CFG (arm_smmu_init_strtab + the reset's register writes). */
export function* initStreamTable(ctx: DriverContext, fmt: 'linear' | '2lvl'): Action<StreamTableState> {
  return yield* frame('arm_smmu_init_strtab', initBody(ctx, fmt), fmt);
}

function* initBody(ctx: DriverContext, fmt: 'linear' | '2lvl'): Action<StreamTableState> {
  const f = ctx.machine.smmu.features;
  const sidBits = f.sidBits;
  if (fmt === '2lvl' && !f.twoLevelStreamTable) throw new DriverError('the SMMU does not support 2-level stream tables (IDR0.ST_LEVEL)');
  let st: StreamTableState;
  if (fmt === 'linear') {
    if (sidBits > 20) throw new DriverError(`a linear table for ${sidBits}-bit StreamIDs is too large: use a 2-level table`);
    const size = 2 ** sidBits * 64;
    const r = yield* alloc('strtab', size, coherentAttr(ctx), 'arm-smmu-v3');
    yield { op: 'write', addr: r.base, data: abortStes(2 ** sidBits), what: 'initial abort STEs' };
    st = { region: r.name, base: r.base, fmt, log2size: sidBits, split: 0, l2: new Map() };
  } else {
    // L1 entries capped at 1 << 17, as the kernel does.
    const l1Bits = Math.min(Math.max(sidBits - STRTAB_SPLIT, 0), 17);
    const size = Math.max(2 ** l1Bits * 8, 64);
    const r = yield* alloc('strtab-l1', size, coherentAttr(ctx), 'arm-smmu-v3');
    st = { region: r.name, base: r.base, fmt, log2size: l1Bits + STRTAB_SPLIT, split: STRTAB_SPLIT, l2: new Map() };
  }
  ctx.kernel.strtab = st;
  return st;
}

/** The STRTAB_BASE / STRTAB_BASE_CFG values for the table (RA set, as the kernel does). */
export function streamTableRegisters(st: StreamTableState): { base: bigint; cfg: bigint } {
  const base = BigInt(st.base) | (1n << 62n);
  const cfg = BigInt((st.fmt === '2lvl' ? 1 << 16 : 0) | (st.split << 6) | st.log2size);
  return { base, cfg };
}

/** The address of a StreamID's STE, allocating and publishing its L2 table first if needed. */
export function* steAddressFor(ctx: DriverContext, sid: number): Action<number> {
  const st = ctx.kernel.strtab;
  if (!st) throw new DriverError('the stream table is not set up: initialise the SMMU first');
  if (sid < 0 || sid >= 2 ** st.log2size) throw new DriverError(`StreamID 0x${sid.toString(16)} is beyond the stream table (2^${st.log2size} StreamIDs)`);
  if (st.fmt === 'linear') return st.base + sid * 64;
  const l1 = Math.floor(sid / 2 ** st.split);
  let name = st.l2.get(l1);
  if (name === undefined) name = yield* frame('arm_smmu_init_l2_strtab', initL2(ctx, st, l1), `L1 index ${l1}`);
  return ctx.machine.region(name)!.base + (sid % 2 ** st.split) * 64;
}

function* initL2(ctx: DriverContext, st: StreamTableState, l1: number): Action<string> {
  const count = 2 ** st.split;
  const r = yield* alloc(`strtab-l2.${l1}`, count * 64, coherentAttr(ctx), 'arm-smmu-v3');
  // Fully initialised to abort before the L1 descriptor makes it reachable: no sync needed.
  yield { op: 'write', addr: r.base, data: abortStes(count), what: 'initial abort STEs' };
  const desc = encode(L1STD, { Span: st.split + 1, L2Ptr: r.base })[0];
  yield* writeOnce64(st.base + l1 * 8, desc, `L1STD ${l1}: Span ${st.split + 1}, L2Ptr 0x${r.base.toString(16)}`);
  st.l2.set(l1, r.name);
  return r.name;
}
