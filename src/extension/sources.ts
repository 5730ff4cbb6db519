/**
 * Scenario files for the inline debug adapter and the diagnostics, read through VS Code's
 * file system (so virtual workspaces and VS Code for the Web work): the scenario and every
 * file it includes are read first, then handed to the engine as a synchronous host.
 * Includes outside the workspace are refused in untrusted workspaces.
 */
import * as vscode from 'vscode';
import type { SourceHost } from '../scenario/compiler';

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

export function resolveInclude(from: string, rel: string): string {
  return toPath(vscode.Uri.joinPath(toUri(from), '..', rel));
}

function inWorkspace(uri: vscode.Uri): boolean {
  return (vscode.workspace.workspaceFolders ?? []).some((f) => uri.toString().startsWith(f.uri.toString() + '/'));
}

/** Why a path may not be included, if it may not. */
export function includeRefusal(path: string): string | undefined {
  if (vscode.workspace.isTrusted) return undefined;
  return inWorkspace(toUri(path)) ? undefined : 'in an untrusted workspace only files inside the workspace can be included';
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
      if (!includeRefusal(target)) queue.push(target);
    }
  }
  return texts;
}

/** A synchronous host over prefetched texts, and dump files where the host can read them. */
export function hostFor(texts: ReadonlyMap<string, string>, readBinary?: SourceHost['readBinary']): SourceHost {
  return {
    read: (path) => texts.get(path),
    resolve: resolveInclude,
    allowed: includeRefusal,
    readBinary,
  };
}

/** Texts of open scenario editors, by path. */
export function openTexts(): Map<string, string> {
  const m = new Map<string, string>();
  for (const d of vscode.workspace.textDocuments) if (d.languageId === 'smmu-scenario') m.set(toPath(d.uri), d.getText());
  return m;
}
