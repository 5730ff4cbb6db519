/** `smmu-debug inspect`: a memory dump's SMMU tables, decoded, with every live mapping. */
import { parseArgs } from 'node:util';
import { findStreamTables, strtabSearchText } from '../dump/findStrtab';
import { Dump, dumpMachine, openDump, openDumpMemory } from '../dump/load';
import { inspect, translateOne } from '../dump/inspect';
import { parseRegisterList, registerEntry } from '../dump/registers';
import { inspectionJson, inspectionText, translationJson, translationText } from '../dump/report';
import { rawSpecFile } from '../dump/raw';
import { DumpError, parseHex } from '../dump/source';
import { openFileSource } from './fileSource';
import { CliIo, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, writeReport } from './io';

export const INSPECT_USAGE = `usage: smmu-debug inspect (--core FILE | --raw FILE@BASE ...) --strtab-base HEX --strtab-base-cfg HEX
                         [--reg NAME=HEX ...] [--sid N] [--translate SID[:SSID]:IOVA] [--json] [--out FILE]
       smmu-debug inspect (--core FILE | --raw FILE@BASE ...) --find-strtab [--json] [--out FILE]

Reads a memory dump — an ELF core (kdump vmcore, QEMU dump-guest-memory), a kdump-compressed
dump (makedumpfile's default; zlib, LZO, Snappy or zstd pages; flattened or not) or raw images
at their physical bases — and the SMMU's registers, and lists every present stream: its L1
descriptor, its STE and CDs decoded, and every valid leaf of its stage-1 and stage-2 tables
(contiguous leaves with the same attributes on one line). The file is read only where the
tables are; it is never written.
  --core FILE             an ELF64 little-endian core, or a kdump-compressed dump (repeatable: the
                          parts of a makedumpfile --split dump)
  --raw FILE@BASE         a raw image whose first byte is at physical BASE (repeatable)
  --strtab-base HEX       SMMU_STRTAB_BASE (required)
  --strtab-base-cfg HEX   SMMU_STRTAB_BASE_CFG (required)
  --reg NAME=HEX          any other register: CR0 CR1 CR2 IDR0 IDR1 IDR3 IDR5 GBPA CMDQ_BASE
                          EVENTQ_BASE ... (repeatable; defaults: CR0 = SMMUEN, the ID registers
                          of a typical SMMUv3.2 with both stages and all granules)
  --sid N                 only StreamID N (shown even when its STE is not valid)
  --translate SID[:SSID]:IOVA
                          one translation (an unprivileged read) with every descriptor fetched
  --json                  {strtab, enabled, streams: {SID: {words, config, ...fields, mappings,
                          cds: {SSID: {words, ...fields, mappings}}}}, problems}
  --out FILE              write the report to FILE (written whole, or not at all) instead of the terminal
  --find-strtab           without the registers: search every page of the dump for stream tables
                          (level-1 descriptors over arrays of valid STEs; runs of valid STEs) and
                          print each candidate with the --strtab-base and --strtab-base-cfg that
                          inspect it. It reads the whole dump, so it takes time with its size.
Exit status: 0 shown, 1 no stream table found (--find-strtab), 2 bad input or a dump that
cannot be read (the message says where).
`;

function streamNumber(text: string, what: string): number {
  const n = Number(text.trim().replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** 32) throw new UsageError(`${what} '${text}': expected a number below 2^32 (decimal, or hex with 0x)`);
  return n;
}

/** `SID[:SSID]:IOVA`: the IOVA is hexadecimal, the IDs decimal or 0x-hex. */
function parseTranslate(text: string): { sid: number; ssid?: number; iova: bigint } {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) throw new UsageError(`--translate '${text}': expected SID[:SSID]:IOVA, e.g. 8:0x10000abc or 8:1:0x10000abc`);
  const iova = parseHex(parts[parts.length - 1], 'the IOVA');
  if (iova >= 1n << 64n) throw new UsageError(`--translate '${text}': the IOVA does not fit 64 bits`);
  return { sid: streamNumber(parts[0], 'the StreamID'), ssid: parts.length === 3 ? streamNumber(parts[1], 'the SubstreamID') : undefined, iova };
}

export function inspectCommand(args: string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        core: { type: 'string', multiple: true }, raw: { type: 'string', multiple: true },
        'strtab-base': { type: 'string' }, 'strtab-base-cfg': { type: 'string' }, reg: { type: 'string', multiple: true },
        sid: { type: 'string' }, translate: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        out: { type: 'string' }, 'find-strtab': { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${INSPECT_USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    io.out(INSPECT_USAGE);
    return EXIT_OK;
  }
  if (!v.core?.length && !v.raw?.length) throw new UsageError(`inspect needs a dump: --core FILE or --raw FILE@BASE\n\n${INSPECT_USAGE}`);
  try {
    const registers = parseRegisterList(v.reg ?? []);
    if (v['strtab-base'] !== undefined) registers.set(...registerEntry('STRTAB_BASE', parseHex(v['strtab-base'], '--strtab-base')));
    if (v['strtab-base-cfg'] !== undefined) registers.set(...registerEntry('STRTAB_BASE_CFG', parseHex(v['strtab-base-cfg'], '--strtab-base-cfg')));
    const tx = v.translate !== undefined ? parseTranslate(v.translate) : undefined;
    const sid = v.sid !== undefined ? streamNumber(v.sid, '--sid') : undefined;
    // The report goes to --out (never over a dump file), or to the terminal.
    const inputs = [...(v.core ?? []), ...(v.raw ?? []).map(rawSpecFile)];
    const out = (t: string): void => (v.out !== undefined ? writeReport(v.out, t, inputs) : io.out(t));
    if (v['find-strtab']) {
      const found = findStreamTables(openDumpMemory({ core: v.core, raw: v.raw }, (path) => openFileSource(path), { salvage: true }).memory);
      out(v.json ? JSON.stringify(found, null, 2) : strtabSearchText(found));
      return found.candidates.length ? EXIT_OK : EXIT_FAILED;
    }
    // A report shows what a damaged or cut-short dump still holds, and says what it lost.
    const dump: Dump = openDump({ core: v.core, raw: v.raw, registers }, (path) => openFileSource(path), undefined, { salvage: true });
    const m = dumpMachine(dump);
    if (tx) {
      const r = translateOne(m, tx.sid, tx.ssid, tx.iova);
      out(v.json ? JSON.stringify(translationJson(tx.sid, tx.ssid, tx.iova, r, dump.memory), null, 2)
        : translationText(tx.sid, tx.ssid, tx.iova, r, dump.memory));
      return EXIT_OK;
    }
    const ins = inspect(m, dump.memory, { sid });
    out(v.json ? JSON.stringify(inspectionJson(ins), null, 2) : inspectionText(ins, dump.memory, dump.notes));
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof DumpError)) throw e;
    io.err(`smmu-debug: ${e.message}`);
    return EXIT_USAGE;
  }
}
