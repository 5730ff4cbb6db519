/**
 * Everything the engine reads for one run or debug session, as plain data: the scenario
 * and its includes (read beforehand through VS Code's file system), the file policy in
 * force, and, where dumps cannot be read lazily (the browser), the dumps read whole. Plain
 * data, so it can be posted to the browser's engine worker; pure, so it is tested without
 * VS Code.
 */
import type { SourceHost } from '../scenario/compiler';
import { fetchedReader, type FetchedDump } from './dumpFiles';
import type { FilePolicy } from './filePolicy';
import { refusalUnder, resolveInclude } from './scenarioPaths';

export interface HostSnapshot {
  /** The scenario the session runs ('' for a session on a dump alone). */
  readonly program: string;
  /** Each file's text, by path as the engine names it. */
  readonly texts: ReadonlyMap<string, string>;
  readonly policy: FilePolicy;
  /** Dumps read whole, by path; absent where the host reads them itself (desktop). */
  readonly dumps?: ReadonlyMap<string, FetchedDump>;
  /** Compiling to check only (see SourceHost.checkOnly). */
  readonly checkOnly?: boolean;
}

/** The synchronous source host over a snapshot; `readBinary` reads dumps where the host can (else the snapshot's dumps). */
export function hostFromSnapshot(s: HostSnapshot, readBinary?: SourceHost['readBinary']): SourceHost {
  return {
    read: (path) => s.texts.get(path),
    resolve: resolveInclude,
    allowed: (path) => refusalUnder(s.policy, s.program, path),
    readBinary: readBinary ?? (s.dumps ? fetchedReader(s.dumps) : undefined),
    checkOnly: s.checkOnly ?? false,
  };
}
