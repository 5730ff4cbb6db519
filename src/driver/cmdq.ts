/**
 * Issuing commands as the kernel does (arm_smmu_cmdq_issue_cmdlist): write the entries
 * into the in-memory queue, dma_wmb() so they are visible first, publish them with a
 * relaxed write of CMDQ_PROD, and for a CMD_SYNC wait for its completion — by the MSI
 * write of 0 into the CMD_SYNC's own slot (the MSIPOLL option) or by CONS passing it.
 */
import { encode, FieldInput } from '../arch/codec';
import { commandByName } from '../arch/commands';
import { DriverContext, DriverError, QueueState } from './context';
import { Action, frame, mmioRead } from './ops';

/** A command as two qwords. */
export type Command = readonly [bigint, bigint];

/** Encode a command by name (`CFGI_STE`, `CMD_SYNC`...) from named fields, through the command table. */
export function command(name: string, fields: Readonly<Record<string, FieldInput>> = {}): Command {
  const layout = commandByName(name);
  if (!layout) throw new DriverError(`unknown command '${name}'`);
  const w = encode(layout, { ...fields, Opcode: layout.opcode });
  return [w[0], w[1]];
}

const hex = (n: number | bigint): string => '0x' + n.toString(16);

function slots(q: QueueState): number {
  return 2 ** q.log2size;
}

/** The CMD_SYNC the kernel appends: MSI to its own slot with MSIPOLL, else a SEV completion. */
function syncCommand(ctx: DriverContext, slotAddr: number): Command {
  if (ctx.kernel.msiPoll) {
    return command('CMD_SYNC', { CS: 1 /* IRQ */, MSH: 3 /* ISH */, MSIAttr: 0xf /* OIWB */, MSIAddress: slotAddr, MSIData: 0 });
  }
  return command('CMD_SYNC', { CS: 2 /* SEV */, MSH: 3, MSIAttr: 0xf });
}

/**
 * Issue commands, followed by a CMD_SYNC when `sync` is set, and wait for it. Fails (as
 * the kernel's CMD_SYNC timeout would be reported) when the SMMU stopped on an error.
 */
export function* issueCommands(ctx: DriverContext, cmds: readonly Command[], sync: boolean): Action<void> {
  yield* frame('arm_smmu_cmdq_issue_cmdlist', issueBody(ctx, cmds, sync), `${cmds.length} command${cmds.length === 1 ? '' : 's'}${sync ? ' + CMD_SYNC' : ''}`);
}

function* issueBody(ctx: DriverContext, cmds: readonly Command[], sync: boolean): Action<void> {
  const q = ctx.kernel.cmdq;
  if (!q) throw new DriverError('the command queue is not set up: initialise the SMMU first');
  const total = cmds.length + (sync ? 1 : 0);
  if (total >= slots(q)) throw new DriverError(`${total} commands do not fit a ${slots(q)}-entry command queue at once`);
  const wrapMask = (2 << q.log2size) - 1;
  // Space: CONS is read from the SMMU (the kernel's shadow copy is refreshed the same way).
  // The kernel does not look at CONS.ERR here (an error is handled from the GERROR interrupt);
  // a stopped queue shows as a CMD_SYNC that never completes.
  const cons = Number(yield* mmioRead('CMDQ_CONS'));
  const used = ((q.prod - cons) & wrapMask);
  if (used + total > slots(q)) throw new DriverError(`the command queue is full (${used} of ${slots(q)} entries in use)`);
  let prod = q.prod;
  const slotAddr = (p: number): number => q.base + (p & (slots(q) - 1)) * 16;
  const all = [...cmds];
  if (sync) all.push(syncCommand(ctx, slotAddr((prod + cmds.length) & wrapMask)));
  let syncSlot = -1;
  for (const [i, c] of all.entries()) {
    const addr = slotAddr(prod);
    if (sync && i === all.length - 1) syncSlot = addr;
    // queue_write copies the entry one 64-bit word at a time.
    yield { op: 'store', addr, size: 8, value: c[0], unit: 8, what: `command ${prod & (slots(q) - 1)} qword 0` };
    yield { op: 'store', addr: addr + 8, size: 8, value: c[1], unit: 8, what: `command ${prod & (slots(q) - 1)} qword 1` };
    prod = (prod + 1) & wrapMask;
  }
  // Make the entries visible before publishing them.
  yield { op: 'barrier', kind: 'dma_wmb' };
  yield { op: 'mmio-write', reg: 'CMDQ_PROD', value: BigInt(prod), relaxed: true };
  q.prod = prod;
  if (!sync) return;
  if (ctx.kernel.msiPoll) {
    // The SMMU's MSI writes MSIData (0) over the first word of the CMD_SYNC slot.
    const first = ctx.machine.load(syncSlot, 4);
    if (first !== 0n) {
      const consNow = Number(yield* mmioRead('CMDQ_CONS'));
      throw new DriverError(`CMD_SYNC timeout: the MSI never cleared the CMD_SYNC at ${hex(syncSlot)}` +
        ` (CONS=${hex(consNow)}, ERR=${(consNow >>> 24) & 0x7f})`);
    }
    yield { op: 'note', text: `CMD_SYNC complete: the MSI cleared its slot at ${hex(syncSlot)}` };
  } else {
    const consNow = Number(yield* mmioRead('CMDQ_CONS'));
    if (((consNow & wrapMask) !== prod)) {
      throw new DriverError(`CMD_SYNC timeout: CONS ${hex(consNow & wrapMask)} did not reach PROD ${hex(prod)} (ERR=${(consNow >>> 24) & 0x7f})`);
    }
    yield { op: 'note', text: 'CMD_SYNC complete: CONS passed it' };
  }
}

/** Issue one command and a CMD_SYNC (arm_smmu_cmdq_issue_cmd_with_sync). */
export function* issueWithSync(ctx: DriverContext, name: string, fields: Readonly<Record<string, FieldInput>> = {}): Action<void> {
  yield* issueCommands(ctx, [command(name, fields)], true);
}
