/** Memory: allocations, constants, and the CPU's raw stores, CMOs, barriers and MMIO. */
import { Statement } from '../ast';
import { arg, boolOption, CompileContext, exprArg, evaluate, evaluateNumber, wordArg } from '../compile-context';
import { ScenarioError } from '../diagnostics';
import { StepContext } from '../program';
import { BARRIERS, define, StatementDef } from './def';
import { registerByName, REGISTERS } from '../../arch/registers';
import { didYouMean } from '../../arch/suggest';
import { Expr } from '../ast';

/** Check the names an expression uses, if present, and mark the machine used. */
export function uses(cx: CompileContext, ...exprs: (Expr | undefined)[]): void {
  cx.machineUsed = true;
  for (const e of exprs) if (e) cx.checkNames(e);
}

/** An address or size: an exact non-negative number within the 52-bit physical space. */
export function addr(c: StepContext, e: Expr, what = 'the address'): number {
  return evaluateNumber(e, c.env, what, 2 ** 52 - 1);
}

export const alloc = define({
  keyword: 'alloc', section: 'memory',
  summary: 'A named region of memory, placed automatically or at an address',
  doc: 'cacheable: Normal write-back memory, as iommu-pages gives. noncacheable: as dma_alloc_coherent gives on a non-coherent system. ' +
    'coherent: whatever dma_alloc_coherent gives on this platform (non-cacheable unless the SMMU is coherent). ' +
    'Automatic placement aligns the region naturally (to the power of two at least its size). The name stands for the base address.',
  examples: ['alloc cdt 4K cacheable', 'alloc strtab 64K noncacheable at=0x4800_0000'],
  params: [
    { name: 'name', kind: 'name', doc: 'the region\'s name' },
    { name: 'size', kind: 'expr', doc: 'its size in bytes' },
    { name: 'attr', kind: 'word', words: ['cacheable', 'noncacheable', 'coherent'], doc: 'its memory attribute' },
  ],
  options: {
    at: { kind: 'expr', doc: 'place it at this address' },
    align: { kind: 'expr', doc: 'alignment, in bytes (default: natural)' },
  },
  compile(st, cx) {
    const name = wordArg(st, 'name')!;
    uses(cx, exprArg(st, 'size'), exprArg(st, 'at'), exprArg(st, 'align'));
    cx.define(name, 'region', arg(st, 'name')!.range);
    const attrWord = wordArg(st, 'attr')!;
    return {
      action: 'alloc',
      *run(c) {
        const size = addr(c, exprArg(st, 'size')!, 'the size');
        if (size === 0) throw new ScenarioError(exprArg(st, 'size')!.range, 'a region needs a size of at least 1 byte');
        const at = exprArg(st, 'at');
        const align = exprArg(st, 'align');
        const attr = attrWord === 'coherent' ? (c.machine.platform.memory.coherent ? 'cacheable' : 'noncacheable') : attrWord as 'cacheable' | 'noncacheable';
        yield {
          op: 'alloc', name, size, attr, owner: 'scenario',
          base: at ? addr(c, at) : undefined, align: align ? addr(c, align, 'the alignment') : undefined,
        };
      },
    };
  },
});

export const free = define({
  keyword: 'free', section: 'memory',
  summary: 'Free a region (it stays listed as freed; the checker flags it if the SMMU can still reach it)',
  examples: ['free cdt'],
  params: [{ name: 'name', kind: 'name', doc: 'the region' }],
  compile(st, cx) {
    const name = wordArg(st, 'name')!;
    uses(cx);
    cx.requireKind(name, 'region', arg(st, 'name')!.range);
    return { action: 'free', *run() { yield { op: 'free', name }; } };
  },
});

export const constDef = define({
  keyword: 'const', section: 'memory',
  summary: 'A named number',
  examples: ['const IOVA = 0x1000_0000', 'const STE5 = ste_addr(5)'],
  params: [
    { name: 'name', kind: 'name', doc: 'the constant\'s name' },
    { name: 'value', kind: 'expr', after: '=', doc: 'its value' },
  ],
  compile(st, cx) {
    const name = wordArg(st, 'name')!;
    cx.checkNames(exprArg(st, 'value')!);
    cx.define(name, 'constant', arg(st, 'name')!.range);
    return {
      action: 'const',
      // eslint-disable-next-line require-yield
      *run(c) {
        c.scenario.constants.set(name, evaluate(exprArg(st, 'value')!, c.env));
      },
    };
  },
});

export const store = define({
  keyword: 'store', section: 'raw',
  summary: 'A CPU store: single-copy atomic (WRITE_ONCE) by default, or plain (the compiler may split it)',
  doc: 'An aligned store of 8, 4, 2 or 1 bytes. `plain` marks a C assignment the compiler may split into smaller stores ' +
    '(split=4 by default: two 32-bit halves; split=1 for byte stores); the SMMU may see each part on its own.',
  examples: ['store ste_addr(5) 0x0000_0000_4800_f00b', 'store pte 0x4012_3f47 plain split=4', 'store cdt + 8 0x40001000 size=4'],
  params: [
    { name: 'address', kind: 'expr', doc: 'where' },
    { name: 'value', kind: 'expr', doc: 'what' },
  ],
  options: {
    size: { kind: 'expr', doc: 'bytes: 8 (default), 4, 2 or 1' },
    split: { kind: 'expr', doc: 'with plain: the size of the parts the store may split into (default 4)' },
  },
  flags: { plain: 'a plain C store that may tear' },
  compile(st, cx) {
    uses(cx, exprArg(st, 'address'), exprArg(st, 'value'), exprArg(st, 'size'), exprArg(st, 'split'));
    const plain = st.flags.has('plain');
    if (exprArg(st, 'split') && !plain) cx.error(arg(st, 'split')!.range, '`split=` applies to a plain store: add `plain`');
    return {
      action: plain ? 'store (plain)' : 'WRITE_ONCE',
      *run(c) {
        const size = exprArg(st, 'size') ? addr(c, exprArg(st, 'size')!, 'the size') : 8;
        if (![1, 2, 4, 8].includes(size)) throw new ScenarioError(arg(st, 'size')!.range, `a store is 1, 2, 4 or 8 bytes, not ${size}`);
        const a = addr(c, exprArg(st, 'address')!);
        if (a % size !== 0) throw new ScenarioError(exprArg(st, 'address')!.range, `${size === 8 ? 'an' : 'a'} ${size}-byte store must be aligned to ${size}; 0x${a.toString(16)} is not`);
        const split = plain ? (exprArg(st, 'split') ? addr(c, exprArg(st, 'split')!, 'the split size') : Math.min(4, size)) : size;
        if (![1, 2, 4, 8].includes(split) || split > size) throw new ScenarioError(arg(st, 'split')!.range, `split must be 1, 2 or 4 bytes and at most the store size`);
        const value = evaluate(exprArg(st, 'value')!, c.env);
        if (value >= 1n << BigInt(size * 8) || value < -(1n << BigInt(size * 8 - 1))) {
          throw new ScenarioError(exprArg(st, 'value')!.range, `0x${value.toString(16)} does not fit in ${size} bytes`);
        }
        yield { op: 'store', addr: a, size: size as 1 | 2 | 4 | 8, value: BigInt.asUintN(size * 8, value), unit: split as 1 | 2 | 4 | 8 };
      },
    };
  },
});

/** A cache maintenance statement: a CMO over a range, optionally completed by a DSB. */
function cmo(keyword: string, kind: 'clean' | 'clean-inv' | 'inv', summary: string, doc: string, action: string, dsb = false): StatementDef {
  return define({
    keyword, section: 'raw', summary, doc,
    examples: [`${keyword} pgt 4K`],
    params: [
      { name: 'address', kind: 'expr', doc: 'start of the range' },
      { name: 'size', kind: 'expr', doc: 'bytes' },
    ],
    compile(st, cx) {
      uses(cx, exprArg(st, 'address'), exprArg(st, 'size'));
      return {
        action,
        *run(c) {
          yield { op: 'cmo', kind, addr: addr(c, exprArg(st, 'address')!), len: addr(c, exprArg(st, 'size')!, 'the size') };
          if (dsb) yield { op: 'barrier', kind: 'dsb' };
        },
      };
    },
  });
}

const INCOMPLETE = 'A CMO is complete only after a DSB.';
export const clean = cmo('clean', 'clean', 'Clean a range to PoC (DC CVAC on each line)', `DC CVAC by VA. ${INCOMPLETE}`, 'clean');
export const cleanInv = cmo('clean_inv', 'clean-inv', 'Clean and invalidate a range (DC CIVAC on each line)', `DC CIVAC by VA. ${INCOMPLETE}`, 'clean_inv');
export const inval = cmo('inval', 'inv', 'Invalidate a range, discarding dirty data (DC IVAC on each line)', `DC IVAC by VA: dirty bytes are lost. ${INCOMPLETE}`, 'inval');
export const dmaSync = cmo('dma_sync_for_device', 'clean', 'dma_sync_single_for_device(TO_DEVICE): clean the range, then DSB',
  'What the DMA API does for a streaming mapping handed to a non-coherent device.', 'dma_sync_single_for_device', true);

export const barriers: StatementDef[] = BARRIERS.map((b) => define({
  keyword: b, section: 'raw',
  summary: {
    dma_wmb: 'Order earlier stores before later ones (DMB OSHST); does not complete CMOs',
    dma_rmb: 'Order earlier loads before later ones',
    wmb: 'Order earlier stores before later ones (DSB ST)',
    rmb: 'Order loads',
    mb: 'Full barrier (DSB SY)',
    dmb: 'Data memory barrier: orders, does not complete CMOs',
    dsb: 'Data synchronization barrier: completes earlier stores and CMOs',
  }[b],
  examples: [b],
  params: [],
  compile(_st, cx) {
    uses(cx);
    return { action: b, *run() { yield { op: 'barrier', kind: b }; } };
  },
}));

export const writeback = define({
  keyword: 'writeback', section: 'raw',
  summary: 'The hardware writes dirty lines of a range back to PoC now (it may do so at any time)',
  doc: 'Shows one outcome the architecture allows: a dirty line evicted early. The checker considers it anyway.',
  examples: ['writeback cdt 64'],
  params: [
    { name: 'address', kind: 'expr', doc: 'start of the range' },
    { name: 'size', kind: 'expr', doc: 'bytes' },
  ],
  compile(st, cx) {
    uses(cx, exprArg(st, 'address'), exprArg(st, 'size'));
    return {
      action: 'writeback',
      *run(c) {
        yield { op: 'writeback', addr: addr(c, exprArg(st, 'address')!), len: addr(c, exprArg(st, 'size')!, 'the size') };
      },
    };
  },
});

function checkRegister(st: Statement, cx: CompileContext): string | undefined {
  const name = wordArg(st, 'register')!;
  const r = registerByName(name);
  if (!r) {
    cx.error(arg(st, 'register')!.range, `unknown SMMU register '${name}'${didYouMean(name, REGISTERS.map((x) => x.name))}`);
    return undefined;
  }
  return r.name;
}

function writel(keyword: 'writel' | 'writel_relaxed'): StatementDef {
  return define({
    keyword, section: 'raw',
    summary: keyword === 'writel' ? 'An MMIO write to an SMMU register, after a barrier (writel)' : 'An MMIO write with no barrier before it (writel_relaxed)',
    examples: [`${keyword} CMDQ_PROD 2`],
    params: [
      { name: 'register', kind: 'name', doc: 'the register (SMMU_ prefix optional)' },
      { name: 'value', kind: 'expr', doc: 'the value' },
    ],
    compile(st, cx) {
      uses(cx, exprArg(st, 'value'));
      const reg = checkRegister(st, cx);
      return {
        action: keyword,
        *run(c) {
          yield { op: 'mmio-write', reg: reg!, value: BigInt.asUintN(64, evaluate(exprArg(st, 'value')!, c.env)), relaxed: keyword === 'writel_relaxed' };
        },
      };
    },
  });
}

export const writelStatements = [writel('writel'), writel('writel_relaxed')];

export const readl = define({
  keyword: 'readl', section: 'raw',
  summary: 'An MMIO read of an SMMU register (its value is shown in the trace)',
  examples: ['readl CMDQ_CONS'],
  params: [{ name: 'register', kind: 'name', doc: 'the register' }],
  compile(st, cx) {
    uses(cx);
    const reg = checkRegister(st, cx);
    return { action: 'readl', *run() { yield { op: 'mmio-read', reg: reg! }; } };
  },
});

/** A yes/no option's value with a default. */
export function yes(st: Statement, name: string, dflt = false): boolean {
  return boolOption(st, name) ?? dflt;
}
