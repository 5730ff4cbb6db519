/**
 * An inspection as people and scripts read it. Text: streams with their STE and CDs
 * decoded, runs of abort/bypass StreamIDs folded into one line, contiguous mappings with the
 * same attributes coalesced. JSON: `{strtab, enabled, streams: {SID: {words, config,
 * ...fields, mappings, cds: {SSID: {words, ...fields, mappings}}}}, problems}` with every
 * leaf listed on its own; addresses are hex strings, other values numbers.
 */
import { Decoded, hex, wordsHex } from '../arch/codec';
import type { TranslateResult } from '../model/smmu/smmu';
import type { Permissions } from '../model/smmu/types';
import { DumpMemory } from './dumpMemory';
import { CdReport, Inspection, Mapping, StreamReport, TableRange } from './inspect';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json | undefined };

const SH = ['NSH', 'reserved SH', 'OSH', 'ISH'];

/** A size in the largest unit that divides it: 4 KB, 2 MB, 512 GB. */
export function sizeText(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let u = 0;
  let n = bytes;
  while (u < units.length - 1 && n >= 1024 && n % 1024 === 0) {
    n /= 1024;
    u++;
  }
  return `${n} ${units[u]}`;
}

function permsText(p: Permissions | undefined, stage: 1 | 2): string {
  if (!p) return '';
  const x = p.execPriv || p.execUnpriv ? 'X' : '-';
  const rwx = `${p.read ? 'R' : '-'}${p.write ? 'W' : '-'}${x}`;
  if (stage === 2) return rwx;
  return `${rwx} ${p.user ? 'user' : 'priv-only'}${x === 'X' && p.execPriv !== p.execUnpriv ? (p.execPriv ? ' PX-only' : ' UX-only') : ''}`;
}

// ---- JSON ----------------------------------------------------------------------------------

function numJson(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : hex(v);
}

/** The fields the configuration uses, by name: addresses as hex strings, other values as numbers. */
function fieldsJson(d: Decoded): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const f of d.fields) {
    if (f.spec.kind === 'reserved' || !f.relevant) continue;
    out[f.spec.name] = f.spec.kind === 'address' ? hex(f.value) : numJson(f.value);
  }
  return out;
}

function mappingJson(m: Mapping): Json {
  return {
    iova: hex(m.iova), pa: hex(m.pa), size: m.size, level: m.level, stage: m.stage, range: m.range, type: m.type,
    output: m.output === 'ipa' ? 'ipa' : undefined,
    ...(m.perms ? { read: m.perms.read, write: m.perms.write, execPriv: m.perms.execPriv, execUnpriv: m.perms.execUnpriv, user: m.perms.user } : {}),
    attrIndx: m.attrIndx, mair: m.mair !== undefined ? hex(m.mair) : undefined, memAttr: m.memAttr, memory: m.memory, sh: m.sh,
    af: m.af, nG: m.nG, contiguous: m.contiguous, desc: hex(m.desc), descAddr: hex(m.descAddr), fault: m.fault,
  };
}

const words = (w: readonly bigint[]): string[] => w.map((x) => hex(x, 16));

function cdJson(c: CdReport): Json {
  return {
    addr: hex(c.addr), words: wordsHex(c.decoded.layout, c.decoded.words), valid: c.invalid === undefined, invalid: c.invalid, ...fieldsJson(c.decoded),
    mappings: c.ranges.flatMap((r) => r.mappings.map(mappingJson)),
  };
}

function streamJson(s: StreamReport): Json {
  return {
    addr: hex(s.addr),
    l1: s.l1 && { index: s.l1.index, addr: hex(s.l1.addr), word: hex(s.l1.word), span: s.l1.span },
    words: wordsHex(s.decoded.layout, s.decoded.words), config: s.config, invalid: s.invalid, ...fieldsJson(s.decoded),
    mappings: s.s2?.mappings.map(mappingJson),
    cds: Object.fromEntries(s.cds.map((c) => [String(c.ssid), cdJson(c)])),
    problems: s.problems.length ? s.problems : undefined,
  };
}

export function inspectionJson(ins: Inspection): Json {
  return {
    strtab: { base: hex(ins.strtab.base), fmt: ins.strtab.fmt, split: ins.strtab.split, log2size: ins.strtab.log2size },
    enabled: ins.enabled,
    streams: Object.fromEntries(ins.streams.map((s) => [String(s.sid), streamJson(s)])),
    problems: ins.problems,
  };
}

export function translationJson(sid: number, ssid: number | undefined, iova: bigint, r: TranslateResult, dump?: DumpMemory): Json {
  const inDump = (addr: number, len: number): boolean | undefined => (dump ? dump.firstUncovered(addr, len) === undefined : undefined);
  const t = r.translation;
  return {
    sid, ssid, iova: hex(iova), outcome: r.outcome, pa: r.pa !== undefined ? hex(r.pa) : undefined, reason: r.reason,
    event: r.event && { name: r.event.name, words: words(r.event.words) },
    config: r.config.map((c) => ({ what: c.what, addr: hex(c.addr), words: words(c.words), inDump: inDump(c.addr, c.words.length * 8) })),
    walk: r.walk.map((w) => ({
      stage: w.stage, level: w.level, descAddr: hex(w.descAddr), desc: hex(w.desc), type: w.type, forTable: w.forTable, inDump: inDump(w.descAddr, 8),
    })),
    translation: t && {
      inputBase: hex(BigInt.asUintN(64, BigInt(t.inputBase))), outputBase: hex(t.outputBase), size: t.size, level: t.level,
      read: t.perms.read, write: t.perms.write, execPriv: t.perms.execPriv, execUnpriv: t.perms.execUnpriv, user: t.perms.user,
      attrIndx: t.attrIndx, memAttr: t.memAttr, sh: t.sh,
    },
  };
}

// ---- text ----------------------------------------------------------------------------------

/** The fields the configuration uses, compactly: enums by name, addresses in hex, other non-zero values. */
function fieldsText(d: Decoded): string {
  const parts: string[] = [];
  for (const f of d.fields) {
    if (f.spec.kind === 'reserved' || !f.relevant) continue;
    if (f.spec.kind === 'enum') parts.push(`${f.spec.name}=${f.valueName ?? hex(f.raw)}`);
    else if (f.value !== 0n) parts.push(`${f.spec.name}=${f.spec.kind === 'address' || f.value > 9n ? hex(f.value) : f.value}`);
  }
  return parts.join(' ');
}

function problemLines(d: Decoded, indent: string): string[] {
  return d.problems.map((p) => `${indent}⚠ ${p.severity}: ${p.field ? p.field + ': ' : ''}${p.message}`);
}

/** Runs of mappings contiguous in input and output with the same attributes. */
function coalesce(ms: readonly Mapping[]): Mapping[][] {
  const runs: Mapping[][] = [];
  const key = (m: Mapping): string => `${permsText(m.perms, m.stage)}|${m.memory}|${m.sh}|${m.af}|${m.nG}|${m.fault ?? ''}`;
  for (const m of ms) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (last && last.iova + BigInt(last.size) === m.iova && last.pa + last.size === m.pa && key(last) === key(m)) run.push(m);
    else runs.push([m]);
  }
  return runs;
}

function runText(run: readonly Mapping[]): string {
  const first = run[0];
  const total = run.reduce((a, m) => a + m.size, 0);
  const counts = new Map<string, number>();
  for (const m of run) {
    const k = `${sizeText(m.size)} ${m.type} (level ${m.level})`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const pieces = [...counts].map(([k, n]) => `${n} × ${k}`).join(' + ');
  const end = first.iova + BigInt(total);
  const attrs = first.fault
    ? `fault: ${first.fault}`
    : [permsText(first.perms, first.stage), first.memory, SH[first.sh] ?? '', first.af ? '' : 'AF=0', first.nG ? 'nG' : ''].filter((x) => x).join('  ');
  return `${hex(first.iova)}..${hex(end)} → ${first.output === 'ipa' ? 'IPA ' : ''}${hex(first.pa)}  ${sizeText(total)}: ${pieces}  ${attrs}`;
}

/** `more` added to `lines` one by one: a report can run to millions of lines, too many for a spread's arguments. */
function append(lines: string[], more: readonly string[]): void {
  for (const l of more) lines.push(l);
}

function rangeLines(r: TableRange, indent: string): string[] {
  const lines = [`${indent}${r.name}: ${r.granule} KB granule, ${r.inputBits}-bit inputs, level-${r.startLevel} table at ${hex(r.ttb)}, ` +
    `${r.mappings.length} leaf descriptor${r.mappings.length === 1 ? '' : 's'}`];
  for (const run of coalesce(r.mappings)) lines.push(`${indent}  ${runText(run)}`);
  return lines;
}

function cdLines(c: CdReport, indent: string): string[] {
  const lines = [`${indent}CD ${c.ssid} at ${hex(c.addr)}: ${c.invalid ? `INVALID (${c.invalid})` : c.decoded.summary}`,
    `${indent}  words ${words(c.words).join(' ')}`, `${indent}  ${fieldsText(c.decoded)}`, ...problemLines(c.decoded, indent + '  ')];
  for (const r of c.ranges) append(lines, rangeLines(r, indent + '  '));
  return lines;
}

function streamLines(s: StreamReport): string[] {
  const lines = [`  StreamID ${hex(s.sid)}: STE at ${hex(s.addr)}: ${s.invalid ? `INVALID (${s.invalid})` : s.decoded.summary}`,
    `    words ${words(s.words).join(' ')}`, `    ${fieldsText(s.decoded)}`, ...problemLines(s.decoded, '    ')];
  if (s.s2) append(lines, rangeLines(s.s2, '    '));
  for (const c of s.cds) append(lines, cdLines(c, '    '));
  if (s.config === 's1' || s.config === 'nested') {
    if (s.cds.length === 0) lines.push('    no valid CD');
  }
  for (const p of s.problems) lines.push(`    ⚠ ${p}`);
  return lines;
}

const folds = (s: StreamReport): boolean => (s.config === 'abort' || s.config === 'bypass') && s.problems.length === 0 && s.decoded.problems.length === 0;

export function inspectionText(ins: Inspection, dump?: DumpMemory, notes: readonly string[] = []): string {
  const st = ins.strtab;
  const lines: string[] = [];
  if (dump) lines.push(`dump: ${dump.describe().join('; ')}`);
  for (const n of notes) lines.push(`note: ${n}`);
  const lost = dump?.unreadable() ?? 0;
  if (lost) lines.push(`note: ${lost} ${lost === 1 ? 'page' : 'pages'} of the dump could not be read (damaged or past its end): the tables there are named below as not in the dump, with the reason`);
  const sids = st.fmt === '2-level' ? `SPLIT ${st.split}, ` : '';
  lines.push(`stream table: ${st.fmt} at ${hex(st.base)}, ${sids}LOG2SIZE ${st.log2size}; SMMU ${ins.enabled ? 'enabled' : 'DISABLED (CR0.SMMUEN=0): traffic bypasses or aborts per GBPA, whatever the tables say'}`);
  let l1 = -1;
  for (let i = 0; i < ins.streams.length; i++) {
    const s = ins.streams[i];
    if (s.l1 && s.l1.index !== l1) {
      l1 = s.l1.index;
      lines.push(`L1STD ${l1} at ${hex(s.l1.addr)}: ${s.l1.decoded.summary}`);
    }
    if (folds(s)) {
      let j = i;
      while (j + 1 < ins.streams.length && folds(ins.streams[j + 1]) && ins.streams[j + 1].config === s.config &&
        ins.streams[j + 1].sid === ins.streams[j].sid + 1 && ins.streams[j + 1].l1?.index === s.l1?.index) j++;
      const last = ins.streams[j];
      lines.push(j === i ? `  StreamID ${hex(s.sid)}: ${s.config}` : `  StreamIDs ${hex(s.sid)}..${hex(last.sid)}: ${s.config} (${j - i + 1} STEs)`);
      i = j;
      continue;
    }
    append(lines, streamLines(s));
  }
  if (ins.streams.length === 0) lines.push('no valid STE');
  for (const p of ins.problems) lines.push(`⚠ ${p}`);
  return lines.join('\n');
}

export function translationText(sid: number, ssid: number | undefined, iova: bigint, r: TranslateResult, dump?: DumpMemory): string {
  const absent = (addr: number, len: number): string => (dump && dump.firstUncovered(addr, len) !== undefined ? '  (not in the dump: read as zero)' : '');
  const lines = [`StreamID ${hex(sid)}${ssid !== undefined ? ` SubstreamID ${hex(ssid)}` : ''} IOVA ${hex(iova)}, an unprivileged read, as the SMMU would walk it now:`];
  for (const c of r.config) lines.push(`  ${c.what.toUpperCase()} at ${hex(c.addr)}: ${words(c.words).join(' ')}${absent(c.addr, c.words.length * 8)}`);
  for (const w of r.walk) {
    lines.push(`  stage ${w.stage} level ${w.level}${w.forTable ? ' (for a table address)' : ''}: ${hex(w.desc, 16)} at ${hex(w.descAddr)} (${w.type})${absent(w.descAddr, 8)}`);
  }
  const t = r.translation;
  if (r.outcome === 'ok' && t) {
    lines.push(`  → ${hex(t.pa)}: ${sizeText(t.size)} at level ${t.level}, ${permsText(t.perms, t.attrIndx === undefined ? 2 : 1)}`);
  } else if (r.outcome === 'fault') {
    lines.push(`  → fault ${r.event?.name}: ${r.reason}`);
  } else {
    lines.push(`  → ${r.outcome}${r.pa !== undefined ? ` ${hex(r.pa)}` : ''}: ${r.reason}`);
  }
  return lines.join('\n');
}
