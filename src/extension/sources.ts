/**
 * Scenario files for the inline debug adapter and the diagnostics, read through VS Code's
 * file system (so virtual workspaces and VS Code for the Web work): the scenario and every
 * file it includes are read first, then handed to the engine as a synchronous host.
 * Includes and dumps outside the workspace are refused (see filePolicy.ts).
 */
import * as vscode from 'vscode';
import type { SourceHost } from '../scenario/compiler';
import { dumpReferences, FetchedDump, webSizeRefusal } from './dumpFiles';
import { ALLOW_OUTSIDE_SETTING, fileRefusal, pathKind } from './filePolicy';

const INCLUDE = /^\s*include\s+"((?:[^"\\]|\\.)*)"/gm;
const MAX_FILES = 256;

/** A path or URI string as a Uri. */
export function toUri(pathOrUri: string): vscode.Uri {
  return /^[a-z][a-z0-9+.-]+:\/\//i.test(pathOrUri) ? vscode.Uri.parse(pathOrUri) : vscode.Uri.file(pathOrUri);
}

/** How the engine names a file: the file system path for files, the URI otherwise. */
export function toPath(uri: vscode.Uri): string {
  return uri.scheme === 'file' ? uri.fsPath : uri.toString();
}

/**
 * A path written in a scenario or a launch configuration, relative to the file `from`. An
 * absolute one stands for itself, as the command line's path.resolve takes it (joining
 * would put it under `from`'s folder): a URI as it is, a POSIX path on `from`'s file
 * system, a Windows path as a file.
 */
export function resolveInclude(from: string, rel: string): string {
  switch (pathKind(rel)) {
    case 'uri': return toPath(vscode.Uri.parse(rel));
    case 'posix': return toPath(toUri(from).with({ path: rel }));
    case 'windows': return toPath(vscode.Uri.file(rel));
    default: return toPath(vscode.Uri.joinPath(toUri(from), '..', rel));
  }
}

/** Why the scenario `program` may not read `path`, if it may not. */
export function fileRefusalFor(program: string, path: string): string | undefined {
  return fileRefusal(toUri(path).toString(), toUri(program).toString(), {
    trusted: vscode.workspace.isTrusted,
    allowOutside: vscode.workspace.getConfiguration().get<boolean>(ALLOW_OUTSIDE_SETTING, false),
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.toString()),
  });
}

/**
 * Read a scenario and its includes. `overrides` supplies texts of open editors (so
 * unsaved changes count).
 */
export async function prefetch(program: string, overrides: ReadonlyMap<string, string> = new Map()): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  const queue = program ? [program] : [];
  while (queue.length && texts.size < MAX_FILES) {
    const path = queue.shift()!;
    if (texts.has(path)) continue;
    let text = overrides.get(path);
    if (text === undefined) {
      try {
        text = new TextDecoder().decode(await vscode.workspace.fs.readFile(toUri(path)));
      } catch {
        continue;
      }
    }
    texts.set(path, text);
    for (const m of text.matchAll(INCLUDE)) {
      const target = resolveInclude(path, m[1].replace(/\\(.)/g, '$1'));
      if (!fileRefusalFor(program, target)) queue.push(target);
    }
  }
  return texts;
}

/**
 * For VS Code for the Web, which has no positional reads: the dumps the session may open,
 * read whole (see dumpFiles.ts). A dump the file policy refuses is not read (the `load`
 * statement says why); one that cannot be read is left out (the engine says it cannot open
 * it); one too large is recorded as refused, with the reason.
 */
export async function prefetchDumps(program: string, texts: ReadonlyMap<string, string>, config: { readonly core?: unknown; readonly raw?: unknown }): Promise<Map<string, FetchedDump>> {
  const files = new Map<string, FetchedDump>();
  for (const ref of dumpReferences(program, texts, config)) {
    const target = ref.from ? resolveInclude(ref.from, ref.path) : ref.path;
    if (files.has(target) || (ref.byScenario && fileRefusalFor(program, target))) continue;
    try {
      const uri = toUri(target);
      const refused = webSizeRefusal((await vscode.workspace.fs.stat(uri)).size);
      files.set(target, refused ? { refused } : { bytes: await vscode.workspace.fs.readFile(uri) });
    } catch {
      continue;
    }
  }
  return files;
}

/** A synchronous host over prefetched texts, and dump files where the host can read them, for the scenario `program`. */
export function hostFor(program: string, texts: ReadonlyMap<string, string>, readBinary?: SourceHost['readBinary'], checkOnly = false): SourceHost {
  return {
    read: (path) => texts.get(path),
    resolve: resolveInclude,
    allowed: (path) => fileRefusalFor(program, path),
    readBinary,
    checkOnly,
  };
}

/** Texts of open scenario editors, by path. */
export function openTexts(): Map<string, string> {
  const m = new Map<string, string>();
  for (const d of vscode.workspace.textDocuments) if (d.languageId === 'smmu-scenario') m.set(toPath(d.uri), d.getText());
  return m;
}
