/**
 * Which files a scenario may make VS Code read (`include`d scenarios, `load`ed dumps): those
 * in the workspace folders, or, for a scenario opened outside any folder, those under its
 * own folder — as the command line keeps a run under the scenario's folder. A scenario from
 * elsewhere must not be able to pull, and print pieces of, arbitrary files. In a trusted
 * workspace the user may lift this with a setting; in an untrusted one it always holds.
 * Pure (URIs as strings), so it is tested without VS Code.
 */

export interface FilePolicy {
  /** Whether the workspace is trusted. */
  readonly trusted: boolean;
  /** The user's setting `smmuDebug.files.allowOutsideWorkspace` (honoured only when trusted). */
  readonly allowOutside: boolean;
  /** The workspace folders' URIs. */
  readonly workspaceFolders: readonly string[];
}

export const ALLOW_OUTSIDE_SETTING = 'smmuDebug.files.allowOutsideWorkspace';

const withSlash = (uri: string): string => (uri.endsWith('/') ? uri : uri + '/');
const folderOf = (uri: string): string => uri.slice(0, uri.lastIndexOf('/') + 1);
const under = (uri: string, folder: string): boolean => uri.startsWith(withSlash(folder));

/**
 * Why `target` may not be read for the scenario `program` (both URIs), or undefined when it may.
 * A path with `..` segments must be normalised by the caller (VS Code's Uri.joinPath does).
 */
export function fileRefusal(target: string, program: string, policy: FilePolicy): string | undefined {
  if (policy.trusted && policy.allowOutside) return undefined;
  const inFolders = policy.workspaceFolders.filter((f) => under(program, f));
  const roots = inFolders.length ? policy.workspaceFolders : [folderOf(program)];
  if (roots.some((r) => under(target, r))) return undefined;
  const where = inFolders.length ? 'the workspace folders' : `${folderOf(program)}, the folder of the scenario (it is in no workspace folder)`;
  const lift = policy.trusted
    ? `; set "${ALLOW_OUTSIDE_SETTING}" to allow it`
    : ' (this workspace is not trusted)';
  return `it is outside ${where}, where a scenario may read files${lift}`;
}

/** How a path in a scenario or launch configuration is written: a URI, an absolute POSIX or Windows path, or relative. */
export function pathKind(path: string): 'uri' | 'posix' | 'windows' | 'relative' {
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(path)) return 'uri';
  if (/^[a-z]:[\\/]/i.test(path) || path.startsWith('\\\\')) return 'windows';
  if (path.startsWith('/')) return 'posix';
  return 'relative';
}
