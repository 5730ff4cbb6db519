/**
 * Memory over DAP: the CPU and PoC views of the same address (readMemory, writeMemory),
 * and time travel restoring the exact machine state.
 */
import { strict as assert } from 'node:assert';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Dap, KNOWN, le64, withDap } from './helpers';

const { file, line, buf } = KNOWN;

/**
 * Everything the views show of the machine: both views of every byte the scenario
 * allocates (0x4000_0000 up to the end of buf), the registers, the CPU cache, the SMMU's
 * caches and queues, the hazards.
 */
async function state(d: Dap): Promise<string> {
  const out: string[] = [];
  for (const view of ['cpu', 'poc']) out.push((await d.read(`${view}:0x40000000`, 0xe000)).join(','));
  const expand = async (ref: number, depth: number): Promise<void> => {
    for (const v of await d.children(ref)) {
      out.push(`${v.name}=${v.value}`);
      if (depth > 0 && v.variablesReference && !v.indexedVariables) await expand(v.variablesReference, depth - 1);
    }
  };
  for (const s of ['Registers', 'CPU cache', 'SMMU caches', 'Queues', 'Pending visibility', 'Hazards']) await expand((await d.scope(s)).variablesReference, 2);
  return out.join('\n');
}

describe('debug adapter: memory', () => {
  it('reads the CPU and the PoC view of an address after a store without a clean, then after the clean', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.sync);
      // `store buf 0x1122_3344_5566_7788` in cacheable memory on a non-coherent platform: the
      // value is in the CPU's cache line; PoC, and so the SMMU, still has zeroes.
      const value = le64(0x1122_3344_5566_7788n);
      assert.deepEqual(await d.read(`cpu:0x${buf.toString(16)}`, 8), value);
      assert.deepEqual(await d.read(`poc:0x${buf.toString(16)}`, 8), [0, 0, 0, 0, 0, 0, 0, 0]);
      assert.deepEqual(await d.read(`smmu:0x${buf.toString(16)}`, 8), [0, 0, 0, 0, 0, 0, 0, 0]);
      // An offset from the reference: the upper half.
      assert.deepEqual(await d.read(`cpu:0x${buf.toString(16)}`, 4, 4), [0x44, 0x33, 0x22, 0x11]);
      // dma_sync_single_for_device: clean + DSB, and PoC has it.
      await d.next();
      assert.deepEqual(await d.read(`poc:0x${buf.toString(16)}`, 8), value);
      assert.deepEqual(await d.read(`smmu:0x${buf.toString(16)}`, 8), value);
    }));

  it('reports bytes past the physical address space as unreadable', () =>
    withDap(file, async (d) => {
      const r = (await d.dc.customRequest('readMemory', { memoryReference: 'poc:0xffffffffffff8', count: 16 })) as DebugProtocol.ReadMemoryResponse;
      // 2^52 - 8 + 16 runs past 2^52.
      assert.equal(r.body?.unreadableBytes, 16);
    }));

  it('writes the CPU view (through the cache) and the PoC view, and stepping back undoes it', () =>
    withDap(file, async (d) => {
      await d.runTo(file, line.sync);
      const at = `cpu:0x${(buf + 0x10).toString(16)}`;
      const invalidated = d.dc.waitForEvent('invalidated');
      const w = (await d.dc.customRequest('writeMemory', { memoryReference: at, data: Buffer.from([1, 2, 3, 4]).toString('base64') })) as DebugProtocol.WriteMemoryResponse;
      assert.equal(w.body?.bytesWritten, 4);
      await invalidated;
      // A CPU write to cacheable memory: in the line, not at PoC.
      assert.deepEqual(await d.read(at, 4), [1, 2, 3, 4]);
      assert.deepEqual(await d.read(`poc:0x${(buf + 0x10).toString(16)}`, 4), [0, 0, 0, 0]);
      // Straight to PoC, where no CPU line covers it (past buf): both views read it.
      await d.dc.customRequest('writeMemory', { memoryReference: 'poc:0x4000e000', data: Buffer.from([9, 8]).toString('base64') });
      assert.deepEqual(await d.read('poc:0x4000e000', 2), [9, 8]);
      assert.deepEqual(await d.read('cpu:0x4000e000', 2), [9, 8]);
      // Back before both writes.
      await d.stepBack();
      assert.deepEqual(await d.read(at, 4), [0, 0, 0, 0]);
      assert.deepEqual(await d.read('poc:0x4000e000', 2), [0, 0]);
    }));

  it('steps back to exactly the state the run had there, as a fresh run has it too', () =>
    withDap(file, async (d) => {
      await d.lines(file, line.attach6, line.fault);
      await d.cont();
      const atStart = await state(d);
      // Inside the attach, a few micro-operations in.
      for (let i = 0; i < 25; i++) await d.stepIn();
      const inside = await state(d);
      const ip = (await d.frames())[0].instructionPointerReference;
      assert.notEqual(inside, atStart);
      await d.cont();
      assert.equal((await d.where()).line, line.fault);
      assert.notEqual(await state(d), inside);
      // Back to the breakpoint at line 9: everything as it was.
      await d.reverse();
      assert.equal(await state(d), atStart);
      // Forwards into the statement and back one operation at a time to the same place.
      for (let i = 0; i < 30; i++) await d.stepIn();
      for (let i = 0; i < 5; i++) await d.stepBack('instruction');
      assert.equal((await d.frames())[0].instructionPointerReference, ip);
      assert.equal(await state(d), inside);
      // A fresh run to line 9 has the same state.
      const stopped = d.dc.waitForEvent('stopped');
      await d.dc.restartRequest({ arguments: { program: file } } as never);
      await stopped;
      assert.equal((await d.where()).line, line.attach6);
      assert.equal(await state(d), atStart);
    }));
});
