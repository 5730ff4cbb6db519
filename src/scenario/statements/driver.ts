/**
 * Driver-level statements: what the Linux driver does, step by step as it does it —
 * SMMU initialisation, io-pgtable domains, map/unmap with their cache maintenance and TLB
 * invalidation, attaching streams, and STE/CD updates through the kernel's entry writer.
 */
import { encode, fieldNames, FieldInput, findField } from '../../arch/codec';
import { CD } from '../../arch/cd';
import { Layout } from '../../arch/field';
import { STE } from '../../arch/ste';
import { didYouMean } from '../../arch/suggest';
import { abortSte, bypassSte, cdTableSte, quietCd, S1Dss } from '../../driver/builders';
import { issueCommands } from '../../driver/cmdq';
import { DriverContext, DriverError, PgtableDomain } from '../../driver/context';
import { EntryWarning, WriteResult } from '../../driver/entryWriter';
import { initSmmu } from '../../driver/init';
import { allocPgtable, MapProt, mapPages, pgtableGeometry, unmapPages } from '../../driver/iopgtable';
import {
  asidOf, attachBlocking, attachS1, attachS2, cdTableName, CdMemory, DEFAULT_CD_MEMORY, domainOf, installSte, s1CdFor, s2SteFor, vmidOf, writeCd,
} from '../../driver/master';
import { Action, frame } from '../../driver/ops';
import { cdAddress, steAddress } from '../../model/locate';
import { Statement } from '../ast';
import { arg, boolOption, CompileContext, exprArg, evaluate, listArg, streamArg, wordArg } from '../compile-context';
import { ScenarioError } from '../diagnostics';
import { StepContext } from '../program';
import { define, StatementDef } from './def';
import { rangeCommands } from '../../driver/tlbi';
import { addr, uses } from './memory';

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** Driver errors, and targets the kernel would WARN about, become errors at the statement. */
function* located<R>(st: Statement, body: Action<R>): Action<R> {
  try {
    return yield* body;
  } catch (e) {
    if (e instanceof DriverError || e instanceof EntryWarning) throw new ScenarioError(st.range, e.message);
    throw e;
  }
}

/** What an update did: the kernel writer's path, or `raw` for in-place stores without it. */
type UpdateOutcome = Omit<WriteResult, 'path'> & { readonly path: WriteResult['path'] | 'raw' };

function record(c: StepContext, st: Statement, target: 'ste' | 'cd', sid: number, ssid: number | undefined, r: UpdateOutcome): void {
  c.record.update({ range: st.range, target, sid, ssid, path: r.path, critical: r.critical, syncs: r.syncs, writes: r.writes });
}

// ---- SMMU bring-up -----------------------------------------------------------------------

export const smmuInit = define({
  keyword: 'smmu init', section: 'driver',
  summary: 'Bring the SMMU up as the driver does: queues, stream table, CR1/CR2, invalidations, enables',
  examples: ['smmu init', 'smmu init strtab=linear cmdq=8 evtq=7'],
  params: [],
  options: {
    strtab: { kind: 'word', words: ['linear', '2lvl'], doc: 'stream table format (default: 2lvl when supported and SIDSIZE > 8)' },
    cmdq: { kind: 'expr', doc: 'log2 of the command queue entries (default 8)' },
    evtq: { kind: 'expr', doc: 'log2 of the event queue entries (default 7)' },
    bypass: { kind: 'bool', doc: 'clear GBPA.ABORT: traffic bypasses while SMMUEN=0' },
    e2h: { kind: 'bool', doc: 'CR2.E2H' },
  },
  compile(st, cx) {
    uses(cx, exprArg(st, 'cmdq'), exprArg(st, 'evtq'));
    return {
      action: 'arm_smmu_device_reset',
      *run(c) {
        yield* located(st, initSmmu(c, {
          strtab: wordArg(st, 'strtab') as 'linear' | '2lvl' | undefined,
          cmdqLog2: exprArg(st, 'cmdq') ? addr(c, exprArg(st, 'cmdq')!, 'the command queue size') : undefined,
          evtqLog2: exprArg(st, 'evtq') ? addr(c, exprArg(st, 'evtq')!, 'the event queue size') : undefined,
          bypass: boolOption(st, 'bypass'),
          e2h: boolOption(st, 'e2h'),
        }));
      },
    };
  },
});

// ---- io-pgtable ------------------------------------------------------------------------

export const domain = define({
  keyword: 'domain', section: 'driver',
  summary: 'An io-pgtable page table (a paging domain): stage 1 or 2, its granule and address sizes',
  doc: 'Allocates the top-level table from iommu-pages (cacheable) and, when the SMMU does not snoop, cleans it (dma_map_single). ' +
    'The walk is coherent when the platform is (cfg.coherent_walk), unless walk= says otherwise.',
  examples: ['domain d1 stage=1', 'domain g2 stage=2 granule=64K ias=40 oas=40'],
  params: [{ name: 'name', kind: 'name', doc: 'the domain\'s name' }],
  options: {
    stage: { kind: 'expr', doc: '1 or 2 (default 1)' },
    granule: { kind: 'expr', doc: '4K (default), 16K or 64K' },
    ias: { kind: 'expr', doc: 'input address bits (default 48)' },
    oas: { kind: 'expr', doc: 'output address bits (default: the SMMU\'s OAS)' },
    walk: { kind: 'word', words: ['coherent', 'noncoherent'], doc: 'whether the SMMU\'s walks snoop (default: the platform\'s coherency)' },
  },
  compile(st, cx) {
    uses(cx, exprArg(st, 'stage'), exprArg(st, 'granule'), exprArg(st, 'ias'), exprArg(st, 'oas'));
    const name = wordArg(st, 'name')!;
    cx.define(name, 'domain', arg(st, 'name')!.range);
    return {
      action: 'alloc_io_pgtable_ops',
      *run(c) {
        const stage = exprArg(st, 'stage') ? addr(c, exprArg(st, 'stage')!, 'the stage') : 1;
        if (stage !== 1 && stage !== 2) throw new ScenarioError(arg(st, 'stage')!.range, `stage ${stage}: expected 1 or 2`);
        const granuleBytes = exprArg(st, 'granule') ? addr(c, exprArg(st, 'granule')!, 'the granule') : 4096;
        const granule = ({ 4096: 4, 16384: 16, 65536: 64 } as Record<number, 4 | 16 | 64>)[granuleBytes];
        if (!granule) throw new ScenarioError(arg(st, 'granule')!.range, `granule ${granuleBytes}: expected 4K, 16K or 64K`);
        const f = c.machine.smmu.features;
        if (!f.granules.includes(granule)) throw new ScenarioError(arg(st, 'granule')!.range, `the SMMU does not support the ${granule}K granule (IDR5)`);
        const ias = exprArg(st, 'ias') ? addr(c, exprArg(st, 'ias')!, 'the input size') : stage === 1 ? 48 : f.oasBits;
        const oas = exprArg(st, 'oas') ? addr(c, exprArg(st, 'oas')!, 'the output size') : f.oasBits;
        const walk = wordArg(st, 'walk');
        const coherentWalk = walk ? walk === 'coherent' : c.machine.platform.memory.coherent;
        yield* located(st, allocPgtable(c, name, { stage, granule, ias, oas, coherentWalk }));
      },
    };
  },
});

/** A domain map and unmap work on: known when compiled, but a kexec since may have left it with the old kernel. */
function liveDomain(c: StepContext, st: Statement, name: string): PgtableDomain {
  const d = c.kernel.domains.get(name);
  if (d) return d;
  const old = c.kernel.previous?.has(name) ? `: it belongs to the kernel before kexec; \`kho restore ${name}\` first` : '';
  throw new ScenarioError(arg(st, 'domain')!.range, `domain '${name}' does not exist in this kernel${old}`);
}

const PROTS = ['r', 'w', 'rw', 'rx', 'wx', 'rwx'];

function protOf(st: Statement): MapProt {
  const p = wordArg(st, 'prot') ?? 'rw';
  const attr = wordArg(st, 'attr') ?? 'cache';
  return {
    read: p.includes('r'), write: p.includes('w'), noexec: !p.includes('x'),
    cache: attr === 'cache', mmio: attr === 'mmio', priv: st.flags.has('priv'),
  };
}

/** iommu_pgsize: the largest page size that fits the alignment of both addresses and the size left. */
function pageSize(sizes: readonly number[], iova: number, pa: number, left: number): number {
  let best = 0;
  for (const s of sizes) if (s <= left && iova % s === 0 && pa % s === 0 && s > best) best = s;
  return best;
}

export const map = define({
  keyword: 'map', section: 'driver',
  summary: 'iommu_map: map a range through io-pgtable (blocks where aligned), with its cache maintenance',
  doc: 'Splits the range into the largest page or block sizes that fit (iommu_pgsize) and calls io-pgtable\'s map_pages until done. ' +
    'On a non-coherent walk each new table is cleaned, table descriptors are published after a dma_wmb and cleaned, and each run of leaf entries is cleaned once.',
  examples: ['map d1 0x1000_0000 -> 0x8_0000_0000 size=2M', 'map d1 0x4000 -> 0x9000_4000 size=4K prot=r attr=nc'],
  params: [
    { name: 'domain', kind: 'name', doc: 'the domain' },
    { name: 'iova', kind: 'expr', doc: 'start of the input range' },
    { name: 'pa', kind: 'expr', after: '->', doc: 'start of the output range' },
  ],
  options: {
    size: { kind: 'expr', doc: 'bytes to map (default 4K)' },
    prot: { kind: 'word', words: PROTS, doc: 'permissions: r, w, rw (default), rx, wx, rwx (no x: IOMMU_NOEXEC)' },
    attr: { kind: 'word', words: ['cache', 'nc', 'mmio'], doc: 'memory type: cache (IOMMU_CACHE, default), nc, mmio (IOMMU_MMIO)' },
    pgsize: { kind: 'expr', doc: 'use this page size only (default: the largest that fits)' },
    split: { kind: 'expr', doc: 'the leaf PTE stores are plain C stores that tear into parts of this many bytes (default: one 64-bit store)' },
  },
  flags: { priv: 'IOMMU_PRIV: privileged-only' },
  compile(st, cx) {
    const d = wordArg(st, 'domain')!;
    cx.requireKind(d, 'domain', arg(st, 'domain')!.range);
    uses(cx, exprArg(st, 'iova'), exprArg(st, 'pa'), exprArg(st, 'size'), exprArg(st, 'pgsize'), exprArg(st, 'split'));
    return {
      action: 'iommu_map',
      *run(c) {
        const iova = addr(c, exprArg(st, 'iova')!, 'the IOVA');
        const pa = addr(c, exprArg(st, 'pa')!, 'the PA');
        const size = exprArg(st, 'size') ? addr(c, exprArg(st, 'size')!, 'the size') : 4096;
        const split = exprArg(st, 'split') ? addr(c, exprArg(st, 'split')!, 'the split') : 8;
        if (![1, 2, 4, 8].includes(split)) throw new ScenarioError(arg(st, 'split')!.range, 'split must be 1, 2, 4 or 8 bytes');
        const dom = liveDomain(c, st, d);
        const sizes = exprArg(st, 'pgsize') ? [addr(c, exprArg(st, 'pgsize')!, 'the page size')]
          : pgtableGeometry({ stage: dom.stage, granule: dom.granule, ias: dom.ias, oas: dom.oas, coherentWalk: dom.coherentWalk }).pageSizes;
        const prot = protOf(st);
        yield* located(st, frame('iommu_map', (function* () {
          let done = 0;
          while (done < size) {
            const pg = pageSize(sizes, iova + done, pa + done, size - done);
            if (pg === 0) throw new DriverError(`cannot map ${hex(iova + done)} → ${hex(pa + done)}: no page size of ${sizes.map(hex).join(', ')} fits the alignment and the ${hex(size - done)} bytes left`);
            const count = Math.floor((size - done) / pg);
            const r = yield* mapPages(c, d, iova + done, pa + done, pg, count, prot, { plainStoreUnit: split as 1 | 2 | 4 | 8 });
            if (r.mapped === 0) throw new DriverError(`io-pgtable mapped nothing at ${hex(iova + done)}`);
            done += r.mapped;
          }
        })(), `${hex(iova)} → ${hex(pa)}, ${hex(size)} bytes`));
      },
    };
  },
});

/** The TLB invalidation the driver issues for a domain's range (arm_smmu_tlb_inv_range_domain) + CMD_SYNC. */
function* flushRange(c: DriverContext, dom: PgtableDomain, iova: number, size: number, granule: number, leaf: boolean): Action<void> {
  const pageSize = dom.granule * 1024;
  const ril = c.machine.smmu.features.rangeInvalidation;
  let cmds;
  if (dom.stage === 1) {
    if (dom.asid === undefined) return;
    cmds = rangeCommands({ name: 'TLBI_NH_VA', fields: { ASID: dom.asid, VMID: 0 }, iova, size, pageSize, granule, leaf, ril });
  } else {
    if (dom.vmid === undefined) return;
    cmds = rangeCommands({ name: 'TLBI_S2_IPA', fields: { VMID: dom.vmid }, iova, size, pageSize, granule, leaf, ril });
  }
  // Batches of at most 64 commands, each ending with a CMD_SYNC only at the end (the kernel's batch).
  for (let i = 0; i < cmds.length; i += 63) yield* issueCommands(c, cmds.slice(i, i + 63), i + 63 >= cmds.length);
}

export const unmap = define({
  keyword: 'unmap', section: 'driver',
  summary: 'iommu_unmap: clear the range\'s entries (cleaned if the walk is non-coherent), then invalidate the TLB for it and CMD_SYNC',
  examples: ['unmap d1 0x1000_0000 size=2M', 'unmap d1 0x4000 size=4K noflush'],
  params: [
    { name: 'domain', kind: 'name', doc: 'the domain' },
    { name: 'iova', kind: 'expr', doc: 'start of the range' },
  ],
  options: {
    size: { kind: 'expr', doc: 'bytes (default 4K)' },
    pgsize: { kind: 'expr', doc: 'the page size the range was mapped with (default: the largest that fits)' },
  },
  flags: { noflush: 'skip the TLB invalidation (to see what a missing one does)' },
  compile(st, cx) {
    const d = wordArg(st, 'domain')!;
    cx.requireKind(d, 'domain', arg(st, 'domain')!.range);
    uses(cx, exprArg(st, 'iova'), exprArg(st, 'size'), exprArg(st, 'pgsize'));
    return {
      action: 'iommu_unmap',
      *run(c) {
        const iova = addr(c, exprArg(st, 'iova')!, 'the IOVA');
        const size = exprArg(st, 'size') ? addr(c, exprArg(st, 'size')!, 'the size') : 4096;
        const dom = liveDomain(c, st, d);
        const sizes = exprArg(st, 'pgsize') ? [addr(c, exprArg(st, 'pgsize')!, 'the page size')]
          : pgtableGeometry({ stage: dom.stage, granule: dom.granule, ias: dom.ias, oas: dom.oas, coherentWalk: dom.coherentWalk }).pageSizes;
        yield* located(st, frame('iommu_unmap', (function* () {
          let done = 0;
          let unmappedGranule = Infinity;
          while (done < size) {
            const pg = pageSize(sizes, iova + done, iova + done, size - done);
            if (pg === 0) throw new DriverError(`cannot unmap at ${hex(iova + done)}: no page size fits`);
            const r = yield* unmapPages(c, d, iova + done, pg, Math.floor((size - done) / pg), {
              flushWalk: (a, s, g) => flushRange(c, dom, a, s, g, false),
            });
            if (r.unmapped === 0) throw new DriverError(`nothing is mapped at ${hex(iova + done)} with a ${hex(pg)} page`);
            unmappedGranule = Math.min(unmappedGranule, pg);
            done += r.unmapped;
          }
          if (!st.flags.has('noflush')) yield* frame('arm_smmu_iotlb_sync', flushRange(c, dom, iova, size, unmappedGranule, true));
        })(), `${hex(iova)}, ${hex(size)} bytes`));
      },
    };
  },
});

// ---- attaching streams -------------------------------------------------------------------

const S1DSS_WORDS = ['terminate', 'bypass', 'ssid0'];

function cdMemory(st: Statement): CdMemory {
  const kind = (wordArg(st, 'cd_mem') ?? 'coherent') as CdMemory['kind'];
  return { kind, clean: boolOption(st, 'cd_clean') ?? DEFAULT_CD_MEMORY.clean };
}

export const attach = define({
  keyword: 'attach', section: 'driver',
  summary: 'Attach a stream as the driver does: abort, bypass, a stage-1 domain (CD, then STE) or a stage-2 domain',
  doc: 'Every STE and CD change goes through the kernel\'s entry writer (hitless when one qword decides, else V=0 first), ' +
    'each step followed by CFGI + CMD_SYNC; PREFETCH_CFG follows an STE write. cd_mem=cacheable puts the CD table in ' +
    'iommu-pages memory instead of dma_alloc_coherent; cd_clean=no then omits the clean a non-coherent SMMU needs.',
  examples: ['attach 5 s1 d1', 'attach 5:1 s1 d1 ssids=4 s1dss=bypass', 'attach 7 s2 g2 vmid=3', 'attach 5 bypass', 'attach 5 s1 d1 cd_mem=cacheable cd_clean=no'],
  params: [
    { name: 'stream', kind: 'stream', doc: 'StreamID[:SubstreamID]' },
    { name: 'kind', kind: 'word', words: ['abort', 'bypass', 's1', 's2'], doc: 'what to attach' },
    { name: 'domain', kind: 'name', optional: true, doc: 'the domain (for s1 and s2)' },
  ],
  options: {
    ssids: { kind: 'expr', doc: 's1: log2 of the CD table\'s size (STE.S1CDMax; default 0, or enough for the SubstreamID)' },
    s1dss: { kind: 'word', words: S1DSS_WORDS, doc: 's1 with substreams: what traffic without a SubstreamID does (default ssid0)' },
    asid: { kind: 'expr', doc: 's1: the ASID (default: allocated from 1)' },
    vmid: { kind: 'expr', doc: 's2: the VMID (default: allocated from 1)' },
    ats: { kind: 'bool', doc: 'ATS enabled (EATS=TRANS)' },
    stall: { kind: 'bool', doc: 's1: the master uses stalls (CD.S)' },
    cd_mem: { kind: 'word', words: ['coherent', 'cacheable'], doc: 's1: CD table memory (default coherent: dma_alloc_coherent)' },
    cd_clean: { kind: 'bool', doc: 's1 with cd_mem=cacheable: clean + DSB after each CD update step (default yes)' },
  },
  compile(st, cx) {
    const s = streamArg(st, 'stream')!;
    uses(cx, s.sid, s.ssid, exprArg(st, 'ssids'), exprArg(st, 'asid'), exprArg(st, 'vmid'));
    const kind = wordArg(st, 'kind')!;
    const d = wordArg(st, 'domain');
    if ((kind === 's1' || kind === 's2') && !d) cx.error(arg(st, 'kind')!.range, `'attach ... ${kind}' needs a domain`);
    if ((kind === 'abort' || kind === 'bypass') && d) cx.error(arg(st, 'domain')!.range, `'attach ... ${kind}' takes no domain`);
    if (d) cx.requireKind(d, 'domain', arg(st, 'domain')!.range);
    if (s.ssid && kind !== 's1') cx.error(s.range, 'a SubstreamID applies to stage-1 attachments');
    return {
      action: 'arm_smmu_attach_dev',
      *run(c) {
        const sid = addr(c, s.sid, 'the StreamID');
        const ats = boolOption(st, 'ats') ?? false;
        if (kind === 'abort' || kind === 'bypass') {
          record(c, st, 'ste', sid, undefined, yield* located(st, attachBlocking(c, sid, kind)));
          return;
        }
        if (kind === 's2') {
          const vmid = exprArg(st, 'vmid') ? addr(c, exprArg(st, 'vmid')!, 'the VMID') : undefined;
          record(c, st, 'ste', sid, undefined, yield* located(st, attachS2(c, sid, d!, vmid, ats)));
          return;
        }
        const ssid = s.ssid ? addr(c, s.ssid, 'the SubstreamID') : 0;
        const need = ssid === 0 ? 0 : Math.ceil(Math.log2(ssid + 1));
        const cdMax = exprArg(st, 'ssids') ? addr(c, exprArg(st, 'ssids')!, 'the CD table size') : need;
        const r = yield* located(st, attachS1(c, sid, d!, {
          ssid, cdMax, s1dss: (wordArg(st, 's1dss') ?? 'ssid0') as S1Dss, ats, stall: boolOption(st, 'stall') ?? false,
          asid: exprArg(st, 'asid') ? addr(c, exprArg(st, 'asid')!, 'the ASID') : undefined, mem: cdMemory(st),
        }));
        record(c, st, 'cd', sid, ssid, r.cd);
        record(c, st, 'ste', sid, undefined, r.ste);
      },
    };
  },
});

// ---- STE and CD updates --------------------------------------------------------------------

/** Words from `field=value` pairs, validated against the table's field names and values. */
function fieldsTarget(c: StepContext, st: Statement, layout: Layout): bigint[] {
  const values: Record<string, FieldInput> = {};
  for (const [k, a] of st.fields) {
    const f = findField(layout, k)!;
    const e = a.value.kind === 'expr' ? a.value.expr : undefined;
    if (e?.kind === 'name' && f.values?.some((v) => v.name.toLowerCase() === e.name.toLowerCase()) && c.env.constant(e.name) === undefined) {
      values[k] = e.name;
    } else if (e) {
      values[k] = evaluate(e, c.env);
    }
  }
  try {
    return encode(layout, values);
  } catch (e) {
    throw new ScenarioError(st.range, (e as Error).message);
  }
}

function checkFields(cx: CompileContext, st: Statement, layout: Layout): void {
  for (const [k, a] of st.fields) {
    const f = findField(layout, k);
    if (!f) {
      cx.error(a.range, `${layout.title} has no field '${k}'${didYouMean(k, fieldNames(layout))}`);
      continue;
    }
    const e = a.value.kind === 'expr' ? a.value.expr : undefined;
    if (e && !(e.kind === 'name' && f.values?.some((v) => v.name.toLowerCase() === e.name.toLowerCase()))) cx.checkNames(e);
  }
}

function wordsTarget(c: StepContext, st: Statement): bigint[] {
  const items = listArg(st, 'words') ?? [];
  if (items.length > 8) throw new ScenarioError(arg(st, 'words')!.range, `an entry has 8 qwords; got ${items.length}`);
  const w = items.map((e) => BigInt.asUintN(64, evaluate(e, c.env)));
  while (w.length < 8) w.push(0n);
  return w;
}

/** Write `target` without the kernel's writer: the qwords that differ, in order, no sync (to compare against it). */
function* rawWrite(c: StepContext, at: number, target: readonly bigint[], plain: boolean, what: string): Action<UpdateOutcome> {
  let writes = 0;
  for (let i = 0; i < target.length; i++) {
    if (c.machine.load(at + 8 * i, 8) === target[i]) continue;
    yield { op: 'store', addr: at + 8 * i, size: 8, value: target[i], unit: plain ? 4 : 8, what: `${what} qword ${i} (in place)` };
    writes++;
  }
  return { path: 'raw', critical: [], syncs: 0, writes };
}

const ENTRY_OPTIONS = {
  raw: 'write the changed qwords in place, in order, without the kernel\'s writer or any sync',
  plain: 'with raw: plain stores that may tear into 32-bit halves',
};

export const steWrite = define({
  keyword: 'ste', section: 'driver',
  summary: 'Set a StreamID\'s STE through the kernel\'s entry writer (or in place with `raw`)',
  doc: 'Targets: abort, bypass, s1 (a CD table: cdtable=, ssids=, s1dss=, fmt=), s2 DOMAIN, words W0, W1..., fields FIELD=VALUE.... ' +
    'The writer decides between a hitless update (one critical qword) and a breaking one (V=0 first) and syncs after each step.',
  examples: ['ste 5 <- bypass', 'ste 5 <- s1 cdtable=cdt s1dss=bypass', 'ste 5 <- s2 g2 vmid=3', 'ste 5 <- words 0x4800_f00b, 0xd6', 'ste 5 <- fields V=1 Config=BYPASS', 'ste 5 <- bypass raw'],
  params: [
    { name: 'sid', kind: 'expr', doc: 'the StreamID' },
    { name: 'target', kind: 'word', words: ['abort', 'bypass', 's1', 's2', 'words', 'fields'], after: '<-', doc: 'the new STE' },
    { name: 'domain', kind: 'name', optional: true, doc: 's2: the domain' },
    { name: 'words', kind: 'list', optional: true, doc: 'words: the qwords' },
  ],
  options: {
    cdtable: { kind: 'expr', doc: 's1: the CD table (default: the stream\'s CD table from `attach`)' },
    ssids: { kind: 'expr', doc: 's1: S1CDMax (default: the table\'s)' },
    fmt: { kind: 'word', words: ['linear', '2lvl'], doc: 's1: S1Fmt (default: the table\'s)' },
    s1dss: { kind: 'word', words: S1DSS_WORDS, doc: 's1: S1DSS (default ssid0)' },
    vmid: { kind: 'expr', doc: 's2: the VMID' },
    ats: { kind: 'bool', doc: 'EATS=TRANS' },
  },
  flags: ENTRY_OPTIONS,
  fields: 'with `fields`: STE fields by name',
  compile(st, cx) {
    uses(cx, exprArg(st, 'sid'), exprArg(st, 'cdtable'), exprArg(st, 'ssids'), exprArg(st, 'vmid'), ...(listArg(st, 'words') ?? []));
    const target = wordArg(st, 'target')!;
    const d = wordArg(st, 'domain');
    if (target === 's2' && !d) cx.error(arg(st, 'target')!.range, '`ste ... <- s2` needs a domain');
    if (d) cx.requireKind(d, 'domain', arg(st, 'domain')!.range);
    if (target === 'words' && !listArg(st, 'words')) cx.error(arg(st, 'target')!.range, '`<- words` needs the qwords: words W0, W1, ...');
    if (target === 'fields') checkFields(cx, st, STE);
    else if (st.fields.size) cx.error([...st.fields.values()][0].range, 'FIELD=VALUE pairs go with `<- fields`');
    return {
      action: st.flags.has('raw') ? 'STE store (raw)' : 'arm_smmu_write_ste',
      *run(c) {
        const sid = addr(c, exprArg(st, 'sid')!, 'the StreamID');
        const f = c.machine.smmu.features;
        const ats = boolOption(st, 'ats') ?? false;
        let t: bigint[];
        switch (target) {
          case 'abort': t = abortSte(); break;
          case 'bypass': t = bypassSte({ attrTypesOvr: f.attrTypesOverride }); break;
          case 's2': {
            const dom = domainOf(c, d!);
            t = s2SteFor(c, dom, vmidOf(c, dom, exprArg(st, 'vmid') ? addr(c, exprArg(st, 'vmid')!, 'the VMID') : undefined), ats);
            break;
          }
          case 's1': {
            const table = c.kernel.cdTables.get(cdTableName(sid));
            const base = exprArg(st, 'cdtable') ? addr(c, exprArg(st, 'cdtable')!, 'the CD table') : table?.base;
            if (base === undefined) throw new ScenarioError(st.range, `StreamID ${hex(sid)} has no CD table yet: give cdtable= or attach it to a stage-1 domain first`);
            const fmt = wordArg(st, 'fmt') ?? table?.fmt ?? 'linear';
            t = cdTableSte({
              cdTable: base, s1fmt: fmt === 'linear' ? 0 : 2,
              s1cdmax: exprArg(st, 'ssids') ? addr(c, exprArg(st, 'ssids')!, 'S1CDMax') : table?.cdMax ?? 0,
              s1dss: (wordArg(st, 's1dss') ?? 'ssid0') as S1Dss, ats, stallsSupported: f.stallModel !== 1, masterStalls: false,
              e2h: false, attrTypesOvr: f.attrTypesOverride,
            });
            break;
          }
          case 'words': t = wordsTarget(c, st); break;
          default: t = fieldsTarget(c, st, STE);
        }
        let r: UpdateOutcome;
        if (st.flags.has('raw')) {
          const at = steAddress(c.machine, sid);
          if ('error' in at) throw new ScenarioError(st.range, `cannot find the STE: ${at.error}`);
          r = yield* rawWrite(c, at.addr, t, st.flags.has('plain'), 'STE');
        } else {
          r = yield* located(st, installSte(c, sid, t));
        }
        record(c, st, 'ste', sid, undefined, r);
      },
    };
  },
});

export const cdWrite = define({
  keyword: 'cd', section: 'driver',
  summary: 'Set a CD through the kernel\'s entry writer (or in place with `raw`)',
  doc: 'Targets: s1 DOMAIN (asid=), quiet (the SVA release CD: valid, TTB0 walks disabled), invalid (V=0), words, fields.',
  examples: ['cd 5:0 <- s1 d1', 'cd 5:1 <- quiet asid=3', 'cd 5:0 <- invalid', 'cd 5:0 <- fields V=1 AA64=1 EPD0=1 EPD1=1 ASID=2'],
  params: [
    { name: 'stream', kind: 'stream', doc: 'StreamID:SubstreamID' },
    { name: 'target', kind: 'word', words: ['s1', 'quiet', 'invalid', 'words', 'fields'], after: '<-', doc: 'the new CD' },
    { name: 'domain', kind: 'name', optional: true, doc: 's1: the domain' },
    { name: 'words', kind: 'list', optional: true, doc: 'words: the qwords' },
  ],
  options: {
    asid: { kind: 'expr', doc: 'the ASID (s1: default the domain\'s)' },
    ssids: { kind: 'expr', doc: 'log2 of the CD table size when it must be allocated' },
    cd_mem: { kind: 'word', words: ['coherent', 'cacheable'], doc: 'CD table memory when it must be allocated' },
    cd_clean: { kind: 'bool', doc: 'with cd_mem=cacheable: clean + DSB after each step (default yes)' },
  },
  flags: ENTRY_OPTIONS,
  fields: 'with `fields`: CD fields by name',
  compile(st, cx) {
    const s = streamArg(st, 'stream')!;
    uses(cx, s.sid, s.ssid, exprArg(st, 'asid'), exprArg(st, 'ssids'), ...(listArg(st, 'words') ?? []));
    const target = wordArg(st, 'target')!;
    const d = wordArg(st, 'domain');
    if (target === 's1' && !d) cx.error(arg(st, 'target')!.range, '`cd ... <- s1` needs a domain');
    if (d) cx.requireKind(d, 'domain', arg(st, 'domain')!.range);
    if (target === 'fields') checkFields(cx, st, CD);
    else if (st.fields.size) cx.error([...st.fields.values()][0].range, 'FIELD=VALUE pairs go with `<- fields`');
    return {
      action: st.flags.has('raw') ? 'CD store (raw)' : 'arm_smmu_write_cd_entry',
      *run(c) {
        const sid = addr(c, s.sid, 'the StreamID');
        const ssid = s.ssid ? addr(c, s.ssid, 'the SubstreamID') : 0;
        const asidOpt = exprArg(st, 'asid') ? addr(c, exprArg(st, 'asid')!, 'the ASID') : undefined;
        let t: bigint[];
        switch (target) {
          case 's1': {
            const dom = domainOf(c, d!);
            t = s1CdFor(dom, asidOf(c, dom, asidOpt));
            break;
          }
          case 'quiet': t = quietCd(asidOpt ?? 0); break;
          case 'invalid': t = new Array<bigint>(8).fill(0n); break;
          case 'words': t = wordsTarget(c, st); break;
          default: t = fieldsTarget(c, st, CD);
        }
        let r: UpdateOutcome;
        if (st.flags.has('raw')) {
          const at = cdAddress(c.machine, sid, ssid);
          if ('error' in at) throw new ScenarioError(st.range, `cannot find the CD: ${at.error}`);
          r = yield* rawWrite(c, at.addr, t, st.flags.has('plain'), 'CD');
        } else {
          const need = ssid === 0 ? 0 : Math.ceil(Math.log2(ssid + 1));
          const cdMax = exprArg(st, 'ssids') ? addr(c, exprArg(st, 'ssids')!, 'the CD table size') : need;
          r = yield* located(st, writeCd(c, sid, ssid, t, cdMemory(st), cdMax));
        }
        record(c, st, 'cd', sid, ssid, r);
      },
    };
  },
});

export const driverStatements: StatementDef[] = [smmuInit, domain, map, unmap, attach, steWrite, cdWrite];
