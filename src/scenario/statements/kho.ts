/**
 * Kexec HandOver and live update: the old kernel preserving memory and finalizing, the
 * kexec, and the new kernel reusing free memory, restoring what was preserved, adopting
 * the live SMMU and finishing. Background traffic keeps going across all of it.
 */
import { Expr, Statement } from '../ast';
import { arg, boolOption, CompileContext, exprArg, evaluateNumber } from '../compile-context';
import { ScenarioError } from '../diagnostics';
import { StepContext } from '../program';
import { define, StatementDef } from './def';
import { addr, uses } from './memory';
import {
  adoptSmmu, kexec, preserveDomain, preserveSmmu, restoreDomain, restoreRegion, restoreSmmu, unpreserveDomain, unpreserveSmmu,
} from '../../driver/kho';
import { Action } from '../../driver/ops';
import { KhoAction, pageAddr, PageState, pagesOf, SCRUB_BYTE } from '../../model/kho';
import { PAGE_SIZE } from '../../model/memory';

const hex = (n: number): string => '0x' + n.toString(16);

/** What a KHO statement works on, as decided when compiling. */
type Target =
  | { readonly kind: 'smmu' }
  | { readonly kind: 'domain'; readonly name: string }
  | { readonly kind: 'region'; readonly name: string }
  | { readonly kind: 'range'; readonly addr: Expr; readonly size: Expr };

const TARGET_DOC = '`smmu` (the driver\'s stream table, CD tables and queues), a domain (every page-table page), a region, or an address with size=';

/** `smmu`, a domain, a region, or an address with `size=`; a bare name is looked up among the names defined so far. */
function target(st: Statement, cx: CompileContext): Target | undefined {
  const e = exprArg(st, 'target');
  const size = exprArg(st, 'size');
  uses(cx, size);
  if (!e) return undefined;
  if (e.kind === 'name') {
    const kind = cx.kindOf(e.name);
    if (kind === 'domain' || kind === 'region') {
      if (size) cx.error(arg(st, 'size')!.range, `size= goes with an address; '${e.name}' is a ${kind} and says its own size`);
      return { kind, name: e.name } as Target;
    }
    if (e.name.toLowerCase() === 'smmu' && !kind) return { kind: 'smmu' };
  }
  cx.checkNames(e);
  if (!size) {
    cx.error(e.range, `an address needs size= (bytes, whole pages); or name ${TARGET_DOC.replace(/, or an address with size=$/, '')}`);
    return undefined;
  }
  return { kind: 'range', addr: e, size };
}

/** A range target's bytes, evaluated now. */
function bytes(c: StepContext, t: Extract<Target, { kind: 'range' }>): { base: number; size: number; label: string } {
  const base = addr(c, t.addr);
  const size = addr(c, t.size, 'the size');
  if (size === 0) throw new ScenarioError(t.size.range, 'a range of 0 bytes holds no page');
  return { base, size, label: `[${hex(base)}, ${hex(base + size)})` };
}

/** A region's whole pages (live, or the old kernel's after kexec). */
function regionPages(c: StepContext, name: string, st: Statement): { base: number; size: number } {
  const r = c.machine.region(name);
  if (!r) throw new ScenarioError(st.range, `region '${name}' does not exist now`);
  const p = pagesOf(r.base, r.size);
  return { base: pageAddr(p.lo), size: pageAddr(p.hi - p.lo) };
}

function* kho(action: KhoAction): Action<void> {
  yield { op: 'kho', action };
}

const TARGET_PARAM = { name: 'target', kind: 'expr' as const, doc: TARGET_DOC };
const SIZE_OPTION = { kind: 'expr' as const, doc: 'with an address: the bytes (whole pages)' };

export const khoPreserve = define({
  keyword: 'kho preserve', section: 'kho',
  summary: 'The old kernel preserves memory for the next one (kho_preserve_pages): whole pages, split into naturally aligned blocks',
  doc: 'smmu: every table the driver allocated (stream table and its L2 tables, CD tables and their leaves) and, unless queues=no, the ' +
    'command and event queues the SMMU keeps using; with a description of the SMMU\'s registers. A domain: every page-table page it has ' +
    'now (tables a later map allocates are not included) and a description of the domain (iommu_domain_preserve). A region or a range: ' +
    'its pages, under the subtree given by subtree=. Preserving is refused once KHO is finalized.',
  examples: ['kho preserve smmu', 'kho preserve d1', 'kho preserve buf', 'kho preserve 0x4100_0000 size=16K subtree="memfd"'],
  params: [TARGET_PARAM],
  options: {
    size: SIZE_OPTION,
    queues: { kind: 'bool', doc: 'smmu: also the command and event queues (default yes)' },
    subtree: { kind: 'string', doc: 'a region or range: the description subtree it is listed under (default "scenario")' },
  },
  compile(st, cx) {
    const t = target(st, cx);
    const queues = boolOption(st, 'queues') ?? true;
    const sub = st.options.get('subtree')?.value;
    const subtree = sub?.kind === 'string' ? sub.text : 'scenario';
    return {
      action: 'kho_preserve_pages',
      *run(c) {
        if (!t) return;
        if (t.kind === 'smmu') yield* preserveSmmu(c, queues);
        else if (t.kind === 'domain') yield* preserveDomain(c, t.name);
        else if (t.kind === 'region') yield* kho({ kind: 'preserve', ...regionPages(c, t.name, st), label: t.name, subtree, region: t.name });
        else yield* kho({ kind: 'preserve', ...bytes(c, t), subtree });
      },
    };
  },
});

export const khoUnpreserve = define({
  keyword: 'kho unpreserve', section: 'kho',
  summary: 'Take memory out of the preserved set again (kho_unpreserve_pages); refused once KHO is finalized',
  doc: 'The same targets as `kho preserve`. KHO works in pages: unpreserving a region also unpreserves what shares its pages.',
  examples: ['kho unpreserve buf', 'kho unpreserve pte_addr(d1, 0x1000_0000, 3) & ~0xfff size=4K'],
  params: [TARGET_PARAM],
  options: { size: SIZE_OPTION, queues: { kind: 'bool', doc: 'smmu: also the queues (default yes)' } },
  compile(st, cx) {
    const t = target(st, cx);
    const queues = boolOption(st, 'queues') ?? true;
    return {
      action: 'kho_unpreserve_pages',
      *run(c) {
        if (!t) return;
        if (t.kind === 'smmu') yield* unpreserveSmmu(c, queues);
        else if (t.kind === 'domain') yield* unpreserveDomain(c, t.name);
        else if (t.kind === 'region') yield* kho({ kind: 'unpreserve', ...regionPages(c, t.name, st), label: t.name });
        else yield* kho({ kind: 'unpreserve', ...bytes(c, t) });
      },
    };
  },
});

export const khoFinalize = define({
  keyword: 'kho finalize', section: 'kho',
  summary: 'Freeze the preserved memory and serialize the handover description (kho_finalize, as LUO\'s reboot hook calls it)',
  doc: 'From here until kexec the preserved set and the description cannot change, and writes to preserved memory are flagged ' +
    '(preserved-mutated). The checker lists every page the SMMU can reach that is not preserved (unpreserved-reachable).',
  examples: ['kho finalize'],
  params: [],
  compile(_st, cx) {
    uses(cx);
    return { action: 'kho_finalize', *run() { yield* kho({ kind: 'finalize' }); } };
  },
});

export const kexecStatement = define({
  keyword: 'kexec', section: 'kho',
  summary: 'The handover: the old kernel stops and the new one starts; the SMMU keeps running with its registers, caches and tables',
  doc: 'Finalizes first if that was not done. The old kernel\'s last barriers complete what it issued. The CPU cache keeps the old ' +
    'kernel\'s dirty lines, or they are written back, as `platform kexec_cache=` says (dirty by default). Every region of the old kernel ' +
    'becomes free: its names still stand for its addresses, and the new kernel\'s allocations start again from the bottom, skipping ' +
    'preserved pages only; memory they take is overwritten with the scrub pattern. The new kernel has no driver state until it restores ' +
    'and adopts. Background traffic keeps going.',
  examples: ['kexec'],
  params: [],
  compile(_st, cx) {
    uses(cx);
    return { action: 'kernel_kexec', *run(c) { yield* kexec(c); } };
  },
});

export const khoScrub = define({
  keyword: 'kho scrub', section: 'kho',
  summary: 'The new kernel reuses memory the old one did not preserve: it is overwritten with a pattern (0xaa, the kernel\'s PAGE_POISON, by default)',
  doc: 'Without a target: every page that is not preserved (or was released by `kho finish`) and not in a region of the new kernel. ' +
    'With a region of the old kernel or an address and size=: those pages, which must be free. The SMMU\'s caches are not touched; ' +
    'what it fetches from there afterwards is the pattern.',
  examples: ['kho scrub', 'kho scrub buf', 'kho scrub 0x4000_8000 size=4K pattern=0x6b'],
  params: [{ ...TARGET_PARAM, optional: true, doc: 'a region of the old kernel, or an address with size= (default: all free memory)' }],
  options: { size: SIZE_OPTION, pattern: { kind: 'expr', doc: 'the byte written (default 0xaa)' } },
  compile(st, cx) {
    const t = target(st, cx);
    uses(cx, exprArg(st, 'pattern'));
    if (t && t.kind !== 'range' && t.kind !== 'region') cx.error(exprArg(st, 'target')!.range, 'scrub takes a region of the old kernel or an address with size=');
    return {
      action: 'kho_scrub',
      *run(c) {
        const p = exprArg(st, 'pattern');
        const byte = p ? evaluateNumber(p, c.env, 'the pattern byte', 0xff) : SCRUB_BYTE;
        const r = t?.kind === 'range' ? bytes(c, t) : t?.kind === 'region' ? regionPages(c, t.name, st) : undefined;
        yield* kho({ kind: 'scrub', ranges: r && [{ addr: r.base, len: r.size }], byte });
      },
    };
  },
});

export const khoRestore = define({
  keyword: 'kho restore', section: 'kho',
  summary: 'The new kernel claims preserved memory (kho_restore_folio / kho_restore_pages); an error when it was not preserved',
  doc: 'smmu: the tables the old driver preserved. A domain: its table pages, and the domain itself (iommu_domain_restore), so map and ' +
    'unmap work on it again. A region: its pages, and the region under its name. Using preserved memory before restoring it is flagged ' +
    '(restore-missing).',
  examples: ['kho restore smmu', 'kho restore d1', 'kho restore buf'],
  params: [TARGET_PARAM],
  options: { size: SIZE_OPTION },
  compile(st, cx) {
    const t = target(st, cx);
    return {
      action: 'kho_restore_pages',
      *run(c) {
        if (!t) return;
        if (t.kind === 'smmu') yield* restoreSmmu(c);
        else if (t.kind === 'domain') yield* restoreDomain(c, t.name);
        else if (t.kind === 'region') yield* restoreRegion(c, t.name);
        else yield* kho({ kind: 'restore', ...bytes(c, t) });
      },
    };
  },
});

export const smmuAdopt = define({
  keyword: 'smmu adopt', section: 'kho',
  summary: 'The new kernel takes over the running SMMU: SMMUEN and STRTAB_BASE stay, the live stream table is validated and adopted, new queues replace the old',
  doc: 'As the kdump adoption does: no GBPA abort, no CR0=0, no rewrite of STRTAB_BASE (read-only while enabled). The 2-level table must ' +
    'be the kernel\'s own layout (SPLIT 8, Span 9); the CD tables its stage-1 STEs point at are taken over too (linear or 64KB leaves). The queues are stopped with SMMUEN kept, given new memory and started again; then ' +
    'CFGI_ALL and TLBI_NSNH_ALL drop what the SMMU cached unless invalidate=no. The other way, `smmu init`, resets the SMMU. ' +
    'After `load` it takes over the dump\'s SMMU the same way, so `attach`, `ste`, `cd` and the other driver statements work on top of a dump.',
  examples: ['smmu adopt', 'smmu adopt invalidate=no'],
  params: [],
  options: { invalidate: { kind: 'bool', doc: 'invalidate the SMMU\'s configuration cache and TLB after taking over (default yes)' } },
  compile(st, cx) {
    uses(cx);
    return { action: 'arm_smmu_adopt', *run(c) { yield* adoptSmmu(c, { invalidate: boolOption(st, 'invalidate') ?? true }); } };
  },
});

export const khoFinish = define({
  keyword: 'kho finish', section: 'kho',
  summary: 'The live update is finished (LUO finish): preserved memory the new kernel did not restore is released to it',
  doc: 'The checker flags preserved memory the SMMU still reaches that is released here without having been restored (restore-missing). ' +
    'After finish the kernel can preserve for its own next kexec.',
  examples: ['kho finish'],
  params: [],
  compile(_st, cx) {
    uses(cx);
    return { action: 'liveupdate_finish', *run() { yield* kho({ kind: 'finish' }); } };
  },
});

const STATES: readonly PageState[] = ['preserved', 'unpreserved', 'restored', 'released'];

export const expectKho = define({
  keyword: 'expect kho', section: 'expectations',
  summary: 'Check the KHO state of the page holding an address: preserved, unpreserved, restored or released',
  examples: ['expect kho ste_addr(5) preserved', 'expect kho d1 restored'],
  params: [
    { name: 'address', kind: 'expr', doc: 'an address in the page' },
    { name: 'state', kind: 'word', words: STATES, doc: 'the page\'s state' },
  ],
  compile(st, cx) {
    uses(cx, exprArg(st, 'address'));
    const want = arg(st, 'state')!.value;
    return {
      action: 'expect',
      // eslint-disable-next-line require-yield
      *run(c) {
        const a = addr(c, exprArg(st, 'address')!);
        const got = c.machine.kho.pageState(Math.floor(a / PAGE_SIZE));
        const w = want.kind === 'word' ? want.word : '';
        const ok = got === w;
        c.record.expectation({ range: st.range, ok, message: `${ok ? '' : 'expectation failed: '}the page at ${hex(a - (a % PAGE_SIZE))} is ${got}${ok ? '' : `, not ${w}`}` });
      },
    };
  },
});

export const khoStatements: StatementDef[] = [khoPreserve, khoUnpreserve, khoFinalize, kexecStatement, khoScrub, khoRestore, smmuAdopt, khoFinish, expectKho];
