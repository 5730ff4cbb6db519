/**
 * Performing micro-operations on the machine, and running a whole action. The debugger's
 * runtime steps through actions one operation at a time with `executeOp`; tests and the
 * headless runner use `runAction`.
 */
import type { Machine } from '../model/machine';
import { Action, MicroOp, OpResult } from './ops';

export function executeOp(m: Machine, op: MicroOp): OpResult {
  switch (op.op) {
    case 'store':
      m.store(op.addr, op.size, op.value, op.unit);
      return undefined;
    case 'cmo':
      m.cmo(op.kind, op.addr, op.len);
      return undefined;
    case 'barrier':
      m.barrier(op.kind);
      return undefined;
    case 'mmio-write':
      m.mmioWrite(op.reg, op.value, op.relaxed);
      return undefined;
    case 'mmio-read':
      return m.mmioRead(op.reg);
    case 'alloc':
      return m.alloc(op.name, op.size, op.attr, op.owner, { base: op.base, align: op.align });
    case 'free':
      m.free(op.name);
      return undefined;
    case 'write':
      m.write(op.addr, op.data);
      return undefined;
    case 'dma':
      return m.dma(op.tx);
    case 'writeback':
      m.writeBack(op.addr, op.len);
      return undefined;
    case 'kho':
      m.handover(op.action);
      return undefined;
    case 'note':
    case 'enter':
    case 'leave':
      return undefined;
  }
}

/** Run an action to its end; `onOp` sees every yielded operation (including frames and notes). */
export function runAction<R>(m: Machine, action: Action<R>, onOp?: (op: MicroOp) => void): R {
  let next = action.next();
  while (!next.done) {
    onOp?.(next.value);
    next = action.next(executeOp(m, next.value));
  }
  return next.value;
}
