/** Devices: one-off DMA, and background traffic that keeps going while later statements run. */
import { Expr, Statement, StreamRef } from '../ast';
import { arg, exprArg, evaluate, listArg, streamArg, wordArg } from '../compile-context';
import { ScenarioError } from '../diagnostics';
import { StepContext, TrafficSource } from '../program';
import { define } from './def';
import { addr, uses } from './memory';
import { TranslateResult } from '../../model/smmu/smmu';
import { Transaction } from '../../model/smmu/types';

export const ACCESS = ['read', 'write', 'exec'] as const;

/** An input address: a 64-bit value. */
function iovaOf(c: StepContext, e: Expr): bigint {
  const iova = evaluate(e, c.env);
  if (iova < 0n || iova >= 1n << 64n) throw new ScenarioError(e.range, `IOVA ${iova} is not a 64-bit address`);
  return iova;
}

/** A stream's IDs, no wider than the architecture's: 32-bit StreamIDs, 20-bit SubstreamIDs (event records hold no more). */
function streamIds(c: StepContext, s: StreamRef): { sid: number; ssid?: number } {
  const sid = addr(c, s.sid, 'the StreamID');
  if (sid >= 2 ** 32) throw new ScenarioError(s.sid.range, `StreamID 0x${sid.toString(16)} is wider than 32 bits`);
  const ssid = s.ssid ? addr(c, s.ssid, 'the SubstreamID') : undefined;
  if (ssid !== undefined && ssid >= 2 ** 20) throw new ScenarioError(s.ssid!.range, `SubstreamID 0x${ssid.toString(16)} is wider than 20 bits`);
  return { sid, ssid };
}

/** The transaction a `dma`-like statement describes. */
export function transaction(c: StepContext, st: Statement): Transaction {
  const s = streamArg(st, 'stream')!;
  const iova = iovaOf(c, exprArg(st, 'iova')!);
  return {
    ...streamIds(c, s),
    iova,
    access: wordArg(st, 'access') as Transaction['access'],
    priv: st.flags.has('priv'),
  };
}

export function outcomeText(r: TranslateResult): string {
  switch (r.outcome) {
    case 'ok': return `→ 0x${r.pa!.toString(16)}`;
    case 'bypass': return `bypass → 0x${r.pa!.toString(16)}`;
    case 'abort': return `abort (${r.reason})`;
    case 'fault': return `fault ${r.event!.name}${r.event!.recorded ? '' : ' (not recorded)'}: ${r.reason}`;
  }
}

export const dma = define({
  keyword: 'dma', section: 'devices',
  summary: 'A device transaction through the SMMU',
  examples: ['dma 5 read 0x1000_0000', 'dma 5:1 write 0x2000 priv'],
  params: [
    { name: 'stream', kind: 'stream', doc: 'StreamID[:SubstreamID]' },
    { name: 'access', kind: 'word', words: ACCESS, doc: 'read, write or exec' },
    { name: 'iova', kind: 'expr', doc: 'the input address' },
  ],
  flags: { priv: 'a privileged transaction (PnU=1)' },
  compile(st, cx) {
    const s = streamArg(st, 'stream')!;
    uses(cx, s.sid, s.ssid, exprArg(st, 'iova'));
    return {
      action: 'dma',
      *run(c) {
        const tx = transaction(c, st);
        const r = (yield { op: 'dma', tx }) as TranslateResult;
        c.record.dma({
          range: st.range, sid: tx.sid, ssid: tx.ssid, iova: tx.iova, access: tx.access,
          result: r.outcome, pa: r.pa, event: r.event?.name, reason: r.reason,
        });
      },
    };
  },
});

export const traffic = define({
  keyword: 'traffic', section: 'devices',
  summary: 'Background DMA: the device keeps accessing these addresses while the following statements run',
  doc: 'Each address is accessed after every CPU step until `stop`. The run reports when an address\'s result changes; ' +
    'the hazard checker judges every value the SMMU could read for the streams in use.',
  examples: ['traffic nic 5 read 0x1000, 0x2000', 'traffic gpu 7:1 write 0x8000_0000'],
  params: [
    { name: 'name', kind: 'name', doc: 'a name for the traffic (for stop)' },
    { name: 'stream', kind: 'stream', doc: 'StreamID[:SubstreamID]' },
    { name: 'access', kind: 'word', words: ACCESS, doc: 'read, write or exec' },
    { name: 'iovas', kind: 'list', doc: 'input addresses, comma-separated' },
  ],
  flags: { priv: 'privileged transactions' },
  compile(st, cx) {
    const s = streamArg(st, 'stream')!;
    uses(cx, s.sid, s.ssid, ...(listArg(st, 'iovas') ?? []));
    const name = wordArg(st, 'name')!;
    cx.define(name, 'traffic', arg(st, 'name')!.range);
    return {
      action: 'traffic',
      // eslint-disable-next-line require-yield
      *run(c) {
        const src: TrafficSource = {
          name, ...streamIds(c, s),
          access: wordArg(st, 'access') as Transaction['access'], priv: st.flags.has('priv'),
          iovas: listArg(st, 'iovas')!.map((e) => iovaOf(c, e)), range: st.range,
        };
        c.scenario.traffic.set(name, src);
      },
    };
  },
});

export const stop = define({
  keyword: 'stop', section: 'devices',
  summary: 'Stop background traffic',
  examples: ['stop nic'],
  params: [{ name: 'name', kind: 'name', doc: 'the traffic' }],
  compile(st, cx) {
    const name = wordArg(st, 'name')!;
    cx.requireKind(name, 'traffic', arg(st, 'name')!.range);
    return {
      action: 'stop',
      // eslint-disable-next-line require-yield
      *run(c) {
        c.scenario.traffic.delete(name);
      },
    };
  },
});
