/**
 * Bringing the SMMU up as the kernel does (arm_smmu_init_structures + arm_smmu_device_reset):
 * queues and stream table from the DMA API's coherent allocator, then CR1/CR2, the stream
 * table registers, the command queue, configuration and TLB invalidation, the event queue,
 * GBPA, and finally SMMUEN — each CR0 write acknowledged through CR0ACK.
 */
import { DriverContext, DriverError, QueueState } from './context';
import { issueCommands, command } from './cmdq';
import { Action, alloc, frame, mmioRead } from './ops';
import { coherentAttr, initStreamTable, streamTableRegisters } from './strtab';

export interface InitOptions {
  /** Stream table format (default: 2-level when supported and SIDSIZE > 8, as the kernel picks). */
  readonly strtab?: 'linear' | '2lvl';
  /** log2 of the command / event queue sizes (default: 8 and 7, within IDR1's limits). */
  readonly cmdqLog2?: number;
  readonly evtqLog2?: number;
  /** Clear GBPA.ABORT so traffic bypasses while SMMUEN=0 (the kernel's disable_bypass=0). */
  readonly bypass?: boolean;
  /** CR2.E2H: host in EL2 with E2H (stage-1 streams use the EL2-E2H regime). */
  readonly e2h?: boolean;
}

const CR0 = { SMMUEN: 1, EVENTQEN: 1 << 2, CMDQEN: 1 << 3 };

/** Write CR0 and wait for CR0ACK to match (arm_smmu_write_reg_sync). */
function* writeCr0(value: number): Action<void> {
  yield { op: 'mmio-write', reg: 'CR0', value: BigInt(value), relaxed: false };
  const ack = yield* mmioRead('CR0ACK');
  if (ack !== BigInt(value)) throw new DriverError(`CR0ACK 0x${ack.toString(16)} did not follow CR0 0x${value.toString(16)}`);
}

function* allocQueue(ctx: DriverContext, name: 'cmdq' | 'evtq', log2: number, entrySize: number): Action<QueueState> {
  const r = yield* alloc(name, 2 ** log2 * entrySize, coherentAttr(ctx), 'arm-smmu-v3');
  return { region: r.name, base: r.base, log2size: log2, prod: 0 };
}

/** Set GBPA with its update protocol (arm_smmu_update_gbpa): wait for UPDATE=0, write with UPDATE, wait again. */
function* updateGbpa(set: number, clear: number): Action<void> {
  const cur = Number(yield* mmioRead('GBPA'));
  if (cur & 0x8000_0000) throw new DriverError('GBPA update in progress before ours');
  const value = ((cur & ~clear) | set | 0x8000_0000) >>> 0;
  yield { op: 'mmio-write', reg: 'GBPA', value: BigInt(value), relaxed: false };
  const after = Number(yield* mmioRead('GBPA'));
  if (after & 0x8000_0000) throw new DriverError('GBPA update did not complete');
}

export function* initSmmu(ctx: DriverContext, opts: InitOptions = {}): Action<void> {
  yield* frame('arm_smmu_device_reset', initBody(ctx, opts));
}

function* initBody(ctx: DriverContext, opts: InitOptions): Action<void> {
  const f = ctx.machine.smmu.features;
  const cmdqLog2 = opts.cmdqLog2 ?? Math.min(8, f.cmdqs);
  const evtqLog2 = opts.evtqLog2 ?? Math.min(7, f.eventqs);
  if (cmdqLog2 > f.cmdqs) throw new DriverError(`a command queue of 2^${cmdqLog2} entries exceeds IDR1.CMDQS (${f.cmdqs})`);
  if (2 ** cmdqLog2 <= 64) throw new DriverError('the kernel needs a command queue of more than 64 entries (CMDQ_BATCH_ENTRIES)');
  if (evtqLog2 > f.eventqs) throw new DriverError(`an event queue of 2^${evtqLog2} entries exceeds IDR1.EVENTQS (${f.eventqs})`);
  const fmt = opts.strtab ?? (f.twoLevelStreamTable && f.sidBits > 8 ? '2lvl' : 'linear');

  // arm_smmu_init_structures: queues, then the stream table.
  ctx.kernel.cmdq = yield* allocQueue(ctx, 'cmdq', cmdqLog2, 16);
  ctx.kernel.evtq = yield* allocQueue(ctx, 'evtq', evtqLog2, 32);
  const st = yield* initStreamTable(ctx, fmt);

  // arm_smmu_device_reset: an SMMU found enabled (after kexec) is first made to abort
  // incoming traffic through GBPA, then disabled.
  if (Number(yield* mmioRead('CR0')) & CR0.SMMUEN) {
    yield { op: 'note', text: 'SMMU currently enabled: resetting (GBPA.ABORT, then CR0=0)' };
    yield* updateGbpa(1 << 20, 0);
    yield* writeCr0(0);
  }
  // CR1: tables and queues Inner Shareable, write-back cacheable (QUEUE_IC/OC=WB, SH=ISH; TABLE likewise).
  yield { op: 'mmio-write', reg: 'CR1', value: 0xd75n, relaxed: false };
  // CR2: private TLB maintenance, record invalid SIDs, E2H if the host uses it.
  yield { op: 'mmio-write', reg: 'CR2', value: BigInt((opts.e2h ? 1 : 0) | 0b110), relaxed: false };
  const regs = streamTableRegisters(st);
  yield { op: 'mmio-write', reg: 'STRTAB_BASE', value: regs.base, relaxed: false };
  yield { op: 'mmio-write', reg: 'STRTAB_BASE_CFG', value: regs.cfg, relaxed: false };
  // Command queue: base (RA | address | LOG2SIZE), PROD = CONS = 0, enable.
  const q = ctx.kernel.cmdq;
  yield { op: 'mmio-write', reg: 'CMDQ_BASE', value: (1n << 62n) | BigInt(q.base) | BigInt(q.log2size), relaxed: false };
  yield { op: 'mmio-write', reg: 'CMDQ_PROD', value: 0n, relaxed: false };
  yield { op: 'mmio-write', reg: 'CMDQ_CONS', value: 0n, relaxed: false };
  let enables = CR0.CMDQEN;
  yield* writeCr0(enables);
  // Invalidate any cached configuration and TLB entries.
  yield* issueCommands(ctx, [command('CFGI_ALL', { Range: 31 })], true);
  if (f.hyp) yield* issueCommands(ctx, [command('TLBI_EL2_ALL')], true);
  yield* issueCommands(ctx, [command('TLBI_NSNH_ALL')], true);
  // Event queue.
  const e = ctx.kernel.evtq;
  yield { op: 'mmio-write', reg: 'EVENTQ_BASE', value: (1n << 62n) | BigInt(e.base) | BigInt(e.log2size), relaxed: false };
  yield { op: 'mmio-write', reg: 'EVENTQ_PROD', value: 0n, relaxed: true };
  yield { op: 'mmio-write', reg: 'EVENTQ_CONS', value: 0n, relaxed: true };
  enables |= CR0.EVENTQEN;
  yield* writeCr0(enables);
  // Interrupts: event queue and global errors.
  yield { op: 'mmio-write', reg: 'IRQ_CTRL', value: 0b101n, relaxed: false };
  // GBPA matters only while SMMUEN=0; the kernel clears ABORT only when bypass is wanted.
  if (opts.bypass) yield* updateGbpa(0, 1 << 20);
  enables |= CR0.SMMUEN;
  yield* writeCr0(enables);
}
