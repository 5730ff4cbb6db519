/** The `smmu-debug` command line: parses the command and dispatches; `main.ts` runs it. */
import { HexInputError, KindError, FieldError } from '../arch';
import { decodeCommand, DECODE_USAGE } from './decodeCommand';
import { runCommand, RUN_USAGE } from './runCommand';
import { inspectCommand, INSPECT_USAGE } from './inspectCommand';
import { CliIo, EXIT_OK, EXIT_USAGE, UsageError } from './io';

declare const SMMU_DEBUG_VERSION: string | undefined;

const COMMANDS: Record<string, (args: string[], io: CliIo) => number | Promise<number>> = {
  decode: decodeCommand,
  run: runCommand,
  inspect: inspectCommand,
};

export const USAGE = `usage: smmu-debug <command> [arguments]

commands:
  run FILE...              run scenarios headless: updates, DMA results, expectations
  decode <kind> <hex>...   explain an STE, CD, L1 descriptor, page-table entry, command,
                           event record or register value field by field
  inspect --core FILE ...  a memory dump's SMMU tables: streams, STEs, CDs, live mappings
  help [command]           this text, or a command's options
  --version                the version

${RUN_USAGE}
${DECODE_USAGE}
${INSPECT_USAGE}`;

/** Runs the CLI and returns the exit status (0 ok, 1 failed checks, 2 bad input). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      const topic = args[0] && COMMANDS[args[0]];
      if (topic) return await topic(['--help'], io);
      io.out(USAGE);
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (command === '--version') {
      io.out(typeof SMMU_DEBUG_VERSION === 'string' ? SMMU_DEBUG_VERSION : 'development');
      return EXIT_OK;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command '${command}'; expected one of: ${Object.keys(COMMANDS).join(', ')}, help`);
    return await run(args, io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof HexInputError || e instanceof KindError || e instanceof FieldError) {
      io.err(`smmu-debug: ${e.message}`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
