/**
 * Micro-operations: the steps a driver action is made of, as the CPU performs them.
 * Driver actions are generator functions that yield micro-operations one at a time, so
 * the debugger can step into an action one store, CMO or barrier at a time, and show
 * which driver function each step belongs to (`enter`/`leave` mark the frames).
 *
 * A generator may read the machine (the CPU's view of memory, registers) between
 * yields: execution is deterministic, so replaying an action from its start reproduces
 * every step, which is how stepping backwards into the middle of an action works.
 */
import type { BarrierKind, CmoOp } from '../model/memsys';
import type { Attribute, Region } from '../model/regions';
import type { Transaction } from '../model/smmu/types';
import type { TranslateResult } from '../model/smmu/smmu';
import type { Version } from '../model/history';
import type { KhoAction } from '../model/kho';

export type MicroOp =
  | { readonly op: 'store'; readonly addr: number; readonly size: 1 | 2 | 4 | 8; readonly value: bigint; readonly unit: Version['unit']; readonly what?: string }
  | { readonly op: 'cmo'; readonly kind: CmoOp; readonly addr: number; readonly len: number; readonly what?: string }
  | { readonly op: 'barrier'; readonly kind: BarrierKind }
  | { readonly op: 'mmio-write'; readonly reg: string; readonly value: bigint; readonly relaxed: boolean }
  | { readonly op: 'mmio-read'; readonly reg: string }
  | { readonly op: 'alloc'; readonly name: string; readonly size: number; readonly attr: Attribute; readonly owner: string; readonly base?: number; readonly align?: number }
  | { readonly op: 'free'; readonly name: string }
  /** Bulk CPU writes (memset/memcpy: byte stores, no atomicity), e.g. initial abort STEs. */
  | { readonly op: 'write'; readonly addr: number; readonly data: Uint8Array; readonly what?: string }
  | { readonly op: 'dma'; readonly tx: Transaction }
  | { readonly op: 'writeback'; readonly addr: number; readonly len: number }
  /** Kexec HandOver: preserve, finalize, kexec, restore... (model/kho.ts). */
  | { readonly op: 'kho'; readonly action: KhoAction }
  /** A decision the driver took, shown in the trace ("hitless: critical qword 1"). Not a CPU step. */
  | { readonly op: 'note'; readonly text: string }
  /** Frame markers: the action calls into a driver function / returns from it. Not CPU steps. */
  | { readonly op: 'enter'; readonly fn: string; readonly detail?: string }
  | { readonly op: 'leave' };

/** What executing a micro-operation returns to the generator. */
export type OpResult = undefined | bigint | Region | TranslateResult;

/** A driver action: yields micro-operations, receives each one's result, returns its outcome. */
export type Action<R = void> = Generator<MicroOp, R, OpResult>;

/** Run `body` inside a named frame. */
export function* frame<R>(fn: string, body: Action<R>, detail?: string): Action<R> {
  yield { op: 'enter', fn, detail };
  const r = yield* body;
  yield { op: 'leave' };
  return r;
}

/** Is this a step the CPU performs (as opposed to a frame marker or note)? */
export function isStep(op: MicroOp): boolean {
  return op.op !== 'enter' && op.op !== 'leave' && op.op !== 'note';
}

/** A 64-bit WRITE_ONCE (single-copy atomic when aligned). */
export function* writeOnce64(addr: number, value: bigint, what?: string): Action {
  yield { op: 'store', addr, size: 8, value, unit: 8, what };
}

export function* mmioRead(reg: string): Action<bigint> {
  return (yield { op: 'mmio-read', reg }) as bigint;
}

export function* alloc(name: string, size: number, attr: Attribute, owner: string, opts: { base?: number; align?: number } = {}): Action<Region> {
  return (yield { op: 'alloc', name, size, attr, owner, ...opts }) as Region;
}

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** One line, as the Disassembly view and the trace show a micro-operation. */
export function opText(op: MicroOp): string {
  switch (op.op) {
    case 'store':
      return `${op.unit === op.size ? 'WRITE_ONCE' : `store (tears in ${op.unit}-byte units)`} ${op.size * 8}-bit [${hex(op.addr)}] = ${hex(op.value)}${op.what ? `  ; ${op.what}` : ''}`;
    case 'cmo':
      return `${{ clean: 'DC CVAC (clean)', 'clean-inv': 'DC CIVAC (clean+invalidate)', inv: 'DC IVAC (invalidate)' }[op.kind]} ${hex(op.addr)}..${hex(op.addr + op.len)}${op.what ? `  ; ${op.what}` : ''}`;
    case 'barrier':
      return op.kind;
    case 'mmio-write':
      return `${op.relaxed ? 'writel_relaxed' : 'writel'} ${op.reg} = ${hex(op.value)}`;
    case 'mmio-read':
      return `readl ${op.reg}`;
    case 'alloc':
      return `alloc '${op.name}' ${hex(op.size)} bytes ${op.attr}${op.base !== undefined ? ` at ${hex(op.base)}` : ''}`;
    case 'free':
      return `free '${op.name}'`;
    case 'write':
      return `memcpy ${hex(op.addr)}..${hex(op.addr + op.data.length)}${op.what ? `  ; ${op.what}` : ''}`;
    case 'dma':
      return `DMA ${op.tx.access} SID ${hex(op.tx.sid)}${op.tx.ssid !== undefined ? ` SSID ${hex(op.tx.ssid)}` : ''} IOVA ${hex(op.tx.iova)}`;
    case 'writeback':
      return `(hardware) write back dirty lines ${hex(op.addr)}..${hex(op.addr + op.len)}`;
    case 'kho':
      return khoText(op.action);
    case 'note':
      return `; ${op.text}`;
    case 'enter':
      return `call ${op.fn}${op.detail ? ` (${op.detail})` : ''}`;
    case 'leave':
      return 'return';
  }
}

function khoText(a: KhoAction): string {
  const range = (base: number, size: number): string => `[${hex(base)}, ${hex(base + size)})`;
  switch (a.kind) {
    case 'preserve': return `kho_preserve_pages ${range(a.base, a.size)}  ; ${a.label} → ${a.subtree}`;
    case 'unpreserve': return `kho_unpreserve_pages ${range(a.base, a.size)}  ; ${a.label}`;
    case 'describe': return `kho_add_subtree "${a.subtree.name}"`;
    case 'finalize': return 'kho_finalize: the preserved memory and the description are frozen';
    case 'kexec': return 'kexec: the old kernel stops, the new one starts; the SMMU keeps running';
    case 'scrub': return `(new kernel) reuses ${a.ranges ? a.ranges.map((r) => range(r.addr, r.len)).join(', ') : 'all free memory'}: overwritten with ${hex(a.byte)}`;
    case 'restore': return `kho_restore_pages ${range(a.base, a.size)}  ; ${a.label}`;
    case 'use': return `take over ${range(a.base, a.size)}  ; ${a.what}`;
    case 'finish': return 'live update finish: preserved memory not restored is released';
  }
}
