import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Where a CLI command writes; tests pass their own to capture output. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
};

/** A usage error: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * Write a report the user asked for (--out FILE) all at once: to a temporary file beside it,
 * then renamed over it, so a reader never sees half a file and an interrupted run leaves
 * the old one. Never over one of the inputs: the tool does not modify what the user wrote.
 */
export function writeReport(path: string, text: string, inputs: readonly string[]): void {
  const target = resolve(path);
  if (inputs.some((i) => resolve(i) === target)) throw new UsageError(`--out ${path} is one of the inputs: the tool never writes over them; name another file`);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text.endsWith('\n') ? text : text + '\n', { flag: 'wx' });
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new UsageError(`cannot write --out ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
