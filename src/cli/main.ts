/** Entry point of the `smmu-debug` bundle. */
import { runCli } from './cli';
import { processIo } from './io';

runCli(process.argv.slice(2), processIo).then(
  (status) => { process.exitCode = status; },
  (e: unknown) => {
    processIo.err(`smmu-debug: internal error: ${(e as Error)?.stack ?? String(e)}`);
    process.exitCode = 70;
  });
