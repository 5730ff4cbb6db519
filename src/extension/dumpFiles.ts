/**
 * Dumps in VS Code for the Web. The engine reads a dump through synchronous positional
 * reads, which only Node gives; in the browser a dump is read whole, before the session
 * starts, from the files the session can name: the launch configuration's `core` and
 * `raw`, and the `load` statements of the scenario and its includes. Pure (paths and
 * texts in, no VS Code), so it is tested without VS Code.
 */
import { rawSpecFile } from '../dump/raw';
import { ByteSource, bytesSource, DumpError } from '../dump/source';

/** A dump file named somewhere: `path` as written, relative to `from` (a scenario), or as it is when `from` is undefined. */
export interface DumpReference {
  readonly from: string | undefined;
  readonly path: string;
  /** Named by a scenario's `load` (which the file policy governs), not by the user's launch configuration. */
  readonly byScenario: boolean;
}

/** The largest dump read whole into the browser's memory. */
export const WEB_DUMP_LIMIT = 512 * 2 ** 20;

const LOAD = /^[ \t]*load\b([^\n]*)$/gm;
const ATTRIBUTE = /\b(core|raw)\s*=\s*"((?:[^"\\]|\\.)*)"/g;

/** Every dump file the session may open: from the launch configuration, then from each scenario's `load` statements. */
export function dumpReferences(program: string, texts: ReadonlyMap<string, string>, config: { readonly core?: unknown; readonly raw?: unknown }): DumpReference[] {
  const refs: DumpReference[] = [];
  const from = program || undefined;
  const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  for (const c of strings(config.core)) refs.push({ from, path: c, byScenario: false });
  for (const r of strings(config.raw)) refs.push({ from, path: rawSpecFile(r), byScenario: false });
  for (const [file, text] of texts) {
    for (const line of text.matchAll(LOAD)) {
      for (const [, kind, value] of line[1].matchAll(ATTRIBUTE)) {
        const unquoted = value.replace(/\\(.)/g, '$1');
        const paths = kind === 'core' ? [unquoted] : unquoted.split(/[\s,]+/).filter((x) => x !== '').map(rawSpecFile);
        for (const path of paths) refs.push({ from: file, path, byScenario: true });
      }
    }
  }
  return refs;
}

/** What reading a named dump gave: its bytes, or why there are none. */
export type FetchedDump = { readonly bytes: Uint8Array } | { readonly refused: string };

/** The `readBinary` of a source host over dumps read beforehand (paths as the engine resolves them). */
export function fetchedReader(files: ReadonlyMap<string, FetchedDump>): (path: string) => ByteSource | undefined {
  return (path) => {
    const f = files.get(path);
    if (!f) return undefined;
    if ('refused' in f) throw new DumpError(`cannot open ${path}: ${f.refused}`);
    return bytesSource(path, f.bytes);
  };
}

/** Why a dump of `size` bytes is not read in the browser, or undefined when it is. */
export function webSizeRefusal(size: number): string | undefined {
  if (size <= WEB_DUMP_LIMIT) return undefined;
  const mib = (n: number): string => `${Math.round(n / 2 ** 20)} MiB`;
  return `it is ${mib(size)}, and VS Code for the Web reads a dump whole, up to ${mib(WEB_DUMP_LIMIT)}: ` +
    'open it in desktop VS Code or with `smmu-debug inspect`, or make it smaller (makedumpfile -d 31 keeps the SMMU\'s tables)';
}
