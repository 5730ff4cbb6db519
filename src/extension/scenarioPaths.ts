/**
 * How the extension names and resolves the files a scenario reads, on strings, without
 * VS Code: the extension host and the browser's engine worker (which has no `vscode`
 * module) must resolve an `include` or a `load` to the same path. `vscode-uri` is the Uri
 * class VS Code itself uses, so these agree with `vscode.Uri`.
 */
import { URI, Utils } from 'vscode-uri';
import { fileRefusal, pathKind, type FilePolicy } from './filePolicy';

/** A path or URI string as a URI. */
export function uriOf(pathOrUri: string): URI {
  return pathKind(pathOrUri) === 'uri' ? URI.parse(pathOrUri) : URI.file(pathOrUri);
}

/** How the engine names a file: the file system path for files, the URI otherwise. */
export function pathOf(uri: URI): string {
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
    case 'uri': return pathOf(URI.parse(rel));
    case 'posix': return pathOf(uriOf(from).with({ path: rel }));
    case 'windows': return pathOf(URI.file(rel));
    default: return pathOf(Utils.joinPath(uriOf(from), '..', rel));
  }
}

/** Why the scenario `program` may not read `path` under `policy`, if it may not. */
export function refusalUnder(policy: FilePolicy, program: string, path: string): string | undefined {
  return fileRefusal(uriOf(path).toString(), uriOf(program).toString(), policy);
}
