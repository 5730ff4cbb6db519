/**
 * Scenario files for the inline debug adapter and the diagnostics, read through VS Code's
 * file system (so virtual workspaces and VS Code for the Web work): the scenario and every
 * file it includes are read first, then handed to the engine as a snapshot (hostSnapshot.ts).
 * Includes and dumps outside the workspace are refused (see filePolicy.ts).
 */
import * as vscode from 'vscode';
import { dumpReferences, FetchedDump, webSizeRefusal } from './dumpFiles';
import { ALLOW_OUTSIDE_SETTING, pathKind, type FilePolicy } from './filePolicy';
import type { HostSnapshot } from './hostSnapshot';
import { refusalUnder, resolveInclude } from './scenarioPaths';

const INCLUDE = /^\s*include\s+"((?:[^"\\]|\\.)*)"/gm;
const MAX_FILES = 256;

/** A path or URI string as a Uri. */
export function toUri(pathOrUri: string): vscode.Uri {
  return pathKind(pathOrUri) === 'uri' ? vscode.Uri.parse(pathOrUri) : vscode.Uri.file(pathOrUri);
}

/** How the engine names a file: the file system path for files, the URI otherwise. */
export function toPath(uri: vscode.Uri): string {
  return uri.scheme === 'file' ? uri.fsPath : uri.toString();
}

/** The file policy in force now: workspace trust, the user's setting, the workspace folders. */
export function currentPolicy(): FilePolicy {
  return {
    trusted: vscode.workspace.isTrusted,
    allowOutside: vscode.workspace.getConfiguration().get<boolean>(ALLOW_OUTSIDE_SETTING, false),
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.toString()),
  };
}

/**
 * Read a scenario and its includes. `overrides` supplies texts of open editors (so
 * unsaved changes count).
 */
export async function prefetch(program: string, overrides: ReadonlyMap<string, string> = new Map()): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  const policy = currentPolicy();
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
      if (!refusalUnder(policy, program, target)) queue.push(target);
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
  const policy = currentPolicy();
  for (const ref of dumpReferences(program, texts, config)) {
    const target = ref.from ? resolveInclude(ref.from, ref.path) : ref.path;
    if (files.has(target) || (ref.byScenario && refusalUnder(policy, program, target))) continue;
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

/** What the engine reads for the scenario `program`: prefetched texts (and dumps, in the browser) under the policy in force now. */
export function snapshotFor(program: string, texts: ReadonlyMap<string, string>, more: Pick<HostSnapshot, 'dumps' | 'checkOnly'> = {}): HostSnapshot {
  return { program, texts, policy: currentPolicy(), ...more };
}

/** Texts of open scenario editors, by path. */
export function openTexts(): Map<string, string> {
  const m = new Map<string, string>();
  for (const d of vscode.workspace.textDocuments) if (d.languageId === 'smmu-scenario') m.set(toPath(d.uri), d.getText());
  return m;
}
