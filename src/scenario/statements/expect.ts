/**
 * Expectations: what the run must show. A failed expectation is reported at its line and
 * the run goes on; the CLI exits 1 when any failed.
 */
import { decode, fieldNames, findField, hex } from '../../arch/codec';
import { CD } from '../../arch/cd';
import { eventByName, EVENTS } from '../../arch/events';
import { Layout } from '../../arch/field';
import { registerByName, REGISTERS } from '../../arch/registers';
import { STE } from '../../arch/ste';
import { didYouMean } from '../../arch/suggest';
import { cdAddress, read64, steAddress, View } from '../../model/locate';
import { TranslateResult } from '../../model/smmu/smmu';
import { Expr, Statement } from '../ast';
import { arg, CompileContext, exprArg, evaluate, streamArg, wordArg } from '../compile-context';
import { ScenarioError } from '../diagnostics';
import { StepContext } from '../program';
import { define, StatementDef } from './def';
import { ACCESS, outcomeText, transaction } from './devices';
import { addr, uses } from './memory';

function check(c: StepContext, st: Statement, ok: boolean, message: string): void {
  c.record.expectation({ range: st.range, ok, message: ok ? message : `expectation failed: ${message}` });
}

type DmaExpect = { kind: 'pa'; expr: Expr } | { kind: 'abort' } | { kind: 'bypass' } | { kind: 'fault'; event?: string };

function dmaExpectation(e: Expr, cx: CompileContext): DmaExpect {
  if (e.kind === 'name' && !cx.kindOf(e.name)) {
    const n = e.name.toLowerCase();
    if (n === 'abort' || n === 'bypass') return { kind: n };
    if (n === 'fault') return { kind: 'fault' };
    const ev = eventByName(e.name);
    if (ev) return { kind: 'fault', event: ev.name };
    cx.error(e.range, `'${e.name}' is neither a defined name nor an outcome; expected a PA, abort, bypass, fault or an event name` +
      didYouMean(e.name, ['abort', 'bypass', 'fault', ...EVENTS.map((x) => x.name)]));
    return { kind: 'fault' };
  }
  cx.checkNames(e);
  return { kind: 'pa', expr: e };
}

export const expectDma = define({
  keyword: 'expect dma', section: 'expectations',
  summary: 'Perform a DMA and check its outcome: a PA, abort, bypass, fault or a named fault event',
  examples: ['expect dma 5 read 0x1000_0abc -> 0x8_0000_0abc', 'expect dma 5 write 0x1000 -> F_PERMISSION', 'expect dma 7 read 0 -> abort'],
  params: [
    { name: 'stream', kind: 'stream', doc: 'StreamID[:SubstreamID]' },
    { name: 'access', kind: 'word', words: ACCESS, doc: 'read, write or exec' },
    { name: 'iova', kind: 'expr', doc: 'the input address' },
    { name: 'result', kind: 'expr', after: '->', doc: 'the expected PA, abort, bypass, fault or an event name (F_TRANSLATION, C_BAD_STE, ...)' },
  ],
  flags: { priv: 'a privileged transaction' },
  compile(st, cx) {
    const s = streamArg(st, 'stream')!;
    uses(cx, s.sid, s.ssid, exprArg(st, 'iova'));
    const want = dmaExpectation(exprArg(st, 'result')!, cx);
    return {
      action: 'dma',
      *run(c) {
        const tx = transaction(c, st);
        const r = (yield { op: 'dma', tx }) as TranslateResult;
        c.record.dma({ range: st.range, sid: tx.sid, ssid: tx.ssid, iova: tx.iova, access: tx.access, result: r.outcome, pa: r.pa, event: r.event?.name, reason: r.reason });
        const got = outcomeText(r);
        const what = `DMA ${tx.access} SID ${hex(tx.sid)}${tx.ssid !== undefined ? `:${hex(tx.ssid)}` : ''} IOVA ${hex(tx.iova)}`;
        switch (want.kind) {
          case 'pa': {
            const pa = evaluate(want.expr, c.env);
            const ok = (r.outcome === 'ok' || r.outcome === 'bypass') && BigInt(r.pa!) === pa;
            check(c, st, ok, `${what}: expected → ${hex(pa)}, got ${got}`);
            break;
          }
          case 'abort':
          case 'bypass':
            check(c, st, r.outcome === want.kind, `${what}: expected ${want.kind}, got ${got}`);
            break;
          case 'fault':
            check(c, st, r.outcome === 'fault' && (!want.event || r.event?.name === want.event),
              `${what}: expected ${want.event ?? 'a fault'}, got ${got}`);
        }
      },
    };
  },
});

const VIEW = { kind: 'word' as const, words: ['cpu', 'poc', 'smmu'], doc: 'whose view: cpu (default), poc, or what the smmu reads now' };

function readView(c: StepContext, a: number, size: number, view: string): bigint {
  const bytes = view === 'poc' ? c.machine.mem.pocRead(a, size) : view === 'smmu' ? c.machine.mem.smmuRead(a, size) : c.machine.mem.cpuRead(a, size);
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

export const expectMem = define({
  keyword: 'expect mem', section: 'expectations',
  summary: 'Check memory as the CPU, PoC or the SMMU sees it',
  examples: ['expect mem cdt == 0x0001_e205_c000_2010', 'expect mem pte_addr(d1, 0x1000, 3) == 0 view=smmu'],
  params: [
    { name: 'address', kind: 'expr', doc: 'where' },
    { name: 'value', kind: 'expr', after: '==', doc: 'the expected value' },
  ],
  options: { size: { kind: 'expr', doc: 'bytes: 8 (default), 4, 2, 1' }, view: VIEW },
  compile(st, cx) {
    uses(cx, exprArg(st, 'address'), exprArg(st, 'value'), exprArg(st, 'size'));
    const view = wordArg(st, 'view') ?? 'cpu';
    return {
      action: 'expect',
      // eslint-disable-next-line require-yield
      *run(c) {
        const a = addr(c, exprArg(st, 'address')!);
        const size = exprArg(st, 'size') ? addr(c, exprArg(st, 'size')!, 'the size') : 8;
        if (![1, 2, 4, 8].includes(size)) throw new ScenarioError(arg(st, 'size')!.range, `size ${size}: expected 1, 2, 4 or 8`);
        const want = BigInt.asUintN(size * 8, evaluate(exprArg(st, 'value')!, c.env));
        const got = readView(c, a, size, view);
        check(c, st, got === want, `${view} view of ${hex(a)}: expected ${hex(want)}, got ${hex(got)}`);
      },
    };
  },
});

/** The expected value of a field: an enumerated value's name, or an expression. */
function fieldValue(c: StepContext, layout: Layout, field: string, e: Expr): bigint {
  const f = findField(layout, field);
  if (e.kind === 'name' && f?.values) {
    const v = f.values.find((x) => x.name.toLowerCase() === e.name.toLowerCase());
    if (v && c.env.constant(e.name) === undefined) return BigInt(v.value);
  }
  return evaluate(e, c.env);
}

function checkField(cx: CompileContext, st: Statement, layout: Layout): string | undefined {
  const name = wordArg(st, 'field')!;
  if (!findField(layout, name)) {
    cx.error(arg(st, 'field')!.range, `${layout.title} has no field '${name}'${didYouMean(name, fieldNames(layout))}`);
    return undefined;
  }
  const v = exprArg(st, 'value')!;
  const f = findField(layout, name)!;
  if (!(v.kind === 'name' && f.values?.some((x) => x.name.toLowerCase() === v.name.toLowerCase()))) cx.checkNames(v);
  return name;
}

function expectEntry(keyword: 'expect ste' | 'expect cd', layout: Layout): StatementDef {
  const isSte = keyword === 'expect ste';
  return define({
    keyword, section: 'expectations',
    summary: `Check a field of ${isSte ? 'a StreamID\'s STE' : 'a CD'} (located through the stream table)`,
    examples: isSte ? ['expect ste 5 Config == S1_TRANS', 'expect ste 5 S1DSS == BYPASS view=smmu'] : ['expect cd 5:0 ASID == 3'],
    params: [
      { name: 'stream', kind: 'stream', doc: isSte ? 'the StreamID' : 'StreamID:SubstreamID' },
      { name: 'field', kind: 'name', doc: 'the field (architecture or kernel spelling)' },
      { name: 'value', kind: 'expr', after: '==', doc: 'the value, or an enumerated value\'s name' },
    ],
    options: { view: { ...VIEW, words: ['cpu', 'smmu'] } },
    compile(st, cx) {
      const s = streamArg(st, 'stream')!;
      uses(cx, s.sid, s.ssid);
      const field = checkField(cx, st, layout);
      const view = (wordArg(st, 'view') ?? 'cpu') as View;
      return {
        action: 'expect',
        // eslint-disable-next-line require-yield
        *run(c) {
          const sid = addr(c, s.sid, 'the StreamID');
          const ssid = s.ssid ? addr(c, s.ssid, 'the SubstreamID') : 0;
          const at = isSte ? steAddress(c.machine, sid, view) : cdAddress(c.machine, sid, ssid, view);
          if ('error' in at) {
            check(c, st, false, `cannot find the ${isSte ? 'STE' : 'CD'}: ${at.error}`);
            return;
          }
          const words = Array.from({ length: 8 }, (_, i) => read64(c.machine, at.addr + 8 * i, view));
          const d = decode(layout, words);
          const got = d.field(field!)!;
          const want = fieldValue(c, layout, field!, exprArg(st, 'value')!);
          const wantText = got.spec.values?.find((v) => BigInt(v.value) === want)?.name ?? hex(want);
          check(c, st, got.value === want, `${isSte ? 'STE' : 'CD'} ${hex(sid)}${isSte ? '' : ':' + hex(ssid)} ${got.spec.name}: expected ${wantText}, got ${got.text}`);
        },
      };
    },
  });
}

export const expectSte = expectEntry('expect ste', STE);
export const expectCd = expectEntry('expect cd', CD);

export const expectReg = define({
  keyword: 'expect reg', section: 'expectations',
  summary: 'Check an SMMU register, or one of its fields',
  examples: ['expect reg CMDQ_CONS == 2', 'expect reg GERROR CMDQ_ERR == 0'],
  params: [
    { name: 'register', kind: 'name', doc: 'the register' },
    { name: 'field', kind: 'name', optional: true, doc: 'a field of it' },
    { name: 'value', kind: 'expr', after: '==', doc: 'the expected value' },
  ],
  compile(st, cx) {
    uses(cx);
    const name = wordArg(st, 'register')!;
    const r = registerByName(name);
    if (!r) {
      cx.error(arg(st, 'register')!.range, `unknown SMMU register '${name}'${didYouMean(name, REGISTERS.map((x) => x.name))}`);
      return undefined;
    }
    const field = wordArg(st, 'field');
    if (field) checkField(cx, st, r);
    else cx.checkNames(exprArg(st, 'value')!);
    return {
      action: 'expect',
      // eslint-disable-next-line require-yield
      *run(c) {
        const v = c.machine.smmu.read(r.name);
        if (field) {
          const d = decode(r, [v]).field(field)!;
          const want = fieldValue(c, r, field, exprArg(st, 'value')!);
          check(c, st, d.value === want, `${r.name}.${d.spec.name}: expected ${hex(want)}, got ${d.text}`);
        } else {
          const want = evaluate(exprArg(st, 'value')!, c.env);
          check(c, st, v === want, `${r.name}: expected ${hex(want)}, got ${hex(v)}`);
        }
      },
    };
  },
});

export const expectUpdate = define({
  keyword: 'expect update', section: 'expectations',
  summary: 'Check how the driver\'s entry writer performed the last STE/CD update: hitless, breaking or unchanged, and its CMD_SYNCs',
  examples: ['expect update hitless syncs=1', 'expect update breaking'],
  params: [{ name: 'path', kind: 'word', words: ['hitless', 'breaking', 'unchanged', 'raw'], doc: 'the path the writer took (raw: written in place without it)' }],
  options: { syncs: { kind: 'expr', doc: 'the number of CMD_SYNCs it issued' } },
  compile(st, cx) {
    uses(cx, exprArg(st, 'syncs'));
    const path = wordArg(st, 'path')!;
    return {
      action: 'expect',
      // eslint-disable-next-line require-yield
      *run(c) {
        const last = c.record.updates[c.record.updates.length - 1];
        if (!last) {
          check(c, st, false, 'no STE or CD update has happened yet');
          return;
        }
        const where = `${last.target.toUpperCase()} ${hex(last.sid)}${last.ssid !== undefined ? ':' + hex(last.ssid) : ''} (line ${last.range.start.line})`;
        const syncs = exprArg(st, 'syncs') ? addr(c, exprArg(st, 'syncs')!, 'the count') : undefined;
        const ok = last.path === path && (syncs === undefined || syncs === last.syncs);
        check(c, st, ok, `update of ${where}: expected ${path}${syncs !== undefined ? ` with ${syncs} syncs` : ''}, ` +
          `got ${last.path} with ${last.syncs} sync${last.syncs === 1 ? '' : 's'}`);
      },
    };
  },
});

/** Rule ids are written with underscores in scenarios (`torn_update`) and hyphens in reports. */
function ruleId(word: string): string {
  return word.toLowerCase().replace(/_/g, '-');
}

function checkRule(st: Statement, cx: CompileContext): string | undefined {
  const a = arg(st, 'rule');
  if (!a || a.value.kind !== 'word') return undefined;
  const id = ruleId(a.value.word);
  if (cx.hazardRules && !cx.hazardRules.includes(id)) {
    const names = cx.hazardRules.map((r) => r.replace(/-/g, '_'));
    cx.error(a.range, `unknown hazard rule '${a.value.word}'${didYouMean(a.value.word, names)}; rules: ${names.join(', ')}`);
  }
  return id;
}

/**
 * Hazards found since the last hazard expectation (which this one becomes); a run of hazard
 * expectations with nothing between them all look at the same hazards.
 */
function sinceMark(c: StepContext, rule: string | undefined): { all: number; matching: { rule: string; message: string; index: number }[] } {
  const hs = c.record.hazards();
  const s = c.scenario;
  const start = s.hazardWindow.step === c.step.index - 1 ? s.hazardWindow.start : s.hazardMark;
  s.hazardMark = hs.length;
  s.hazardWindow = { start, step: c.step.index };
  const fresh = hs.slice(start).map((h, i) => ({ ...h, index: start + i }));
  return { all: fresh.length, matching: fresh.filter((h) => !rule || h.rule === rule) };
}

export const expectHazard = define({
  keyword: 'expect hazard', section: 'expectations',
  summary: 'Check that the hazard checker found this rule since the previous hazard expectation (consecutive ones share a window)',
  examples: ['expect hazard torn_update', 'expect hazard stale_fetch'],
  params: [{ name: 'rule', kind: 'name', doc: 'the rule (torn_update, stale_fetch, missing_barrier, ...)' }],
  compile(st, cx) {
    uses(cx);
    const rule = checkRule(st, cx)!;
    return {
      action: 'expect',
      // eslint-disable-next-line require-yield
      *run(c) {
        const { matching, all } = sinceMark(c, rule);
        // The hazards this expectation names are what the scenario shows on purpose: they do not fail it.
        c.record.acceptHazards(matching.map((h) => h.index));
        check(c, st, matching.length > 0, matching.length
          ? `hazard ${rule} found: ${matching[0].message}`
          : `expected a ${rule} hazard since the previous hazard expectation; found ${all ? `only other hazards (${all})` : 'none'}`);
      },
    };
  },
});

export const expectNoHazard = define({
  keyword: 'expect no_hazard', section: 'expectations',
  summary: 'Check that the hazard checker found nothing (or nothing of this rule) since the previous hazard expectation',
  examples: ['expect no_hazard', 'expect no_hazard torn_update'],
  params: [{ name: 'rule', kind: 'name', optional: true, doc: 'only this rule' }],
  compile(st, cx) {
    uses(cx);
    const rule = checkRule(st, cx);
    return {
      action: 'expect',
      // eslint-disable-next-line require-yield
      *run(c) {
        const { matching } = sinceMark(c, rule);
        check(c, st, matching.length === 0, matching.length
          ? `expected no ${rule ?? ''} hazard, found ${matching.length}: ${matching[0].rule}: ${matching[0].message}`
          : `no ${rule ? rule + ' ' : ''}hazard since the previous hazard expectation`);
      },
    };
  },
});

export const expectStatements: StatementDef[] = [expectDma, expectMem, expectSte, expectCd, expectReg, expectUpdate, expectHazard, expectNoHazard];
