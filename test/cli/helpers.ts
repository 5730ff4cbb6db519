import { runCli } from '../../src/cli/cli';
import { CliIo } from '../../src/cli/io';

/** Run the CLI in-process, capturing what it prints. */
export async function cli(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => { out += t + '\n'; }, err: (t) => { err += t + '\n'; } };
  const status = await runCli(argv, io);
  return { status, out, err };
}
