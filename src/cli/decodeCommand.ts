/** `smmu-debug decode <kind> [REGISTER] <hex>...`: explain words field by field. */
import { parseArgs } from 'node:util';
import { decodeText, describe, Granule, KINDS, KindOptions, toJson } from '../arch';
import { CliIo, EXIT_OK, UsageError } from './io';

export const DECODE_USAGE = `usage: smmu-debug decode <kind> <hex>... [options]
       smmu-debug decode reg <NAME> <hex>

kinds:
${KINDS.map((k) => `  ${k.kind.padEnd(7)} ${k.title}`).join('\n')}

Words are hexadecimal, with or without 0x and '_' separators, given separately (word 0
first) or as one long dump; missing trailing words are zero.

options:
  --stage 1|2              pte: translation stage (default 1)
  --granule 4k|16k|64k     pte: translation granule (default 4k)
  --level 0|1|2|3          pte: lookup level (default 3)
  --ds                     pte: 52-bit output address, 4K/16K LPA2 form
  --pa52                   pte: 52-bit output address, 64K form
  --json                   print {kind, words, fields, summary, problems} as JSON
`;

const GRANULES: Record<string, Granule> = { '4k': 4, '16k': 16, '64k': 64 };

function choice<T>(name: string, value: string | undefined, table: Record<string, T>): T | undefined {
  if (value === undefined) return undefined;
  const v = table[value.toLowerCase()];
  if (v === undefined) throw new UsageError(`--${name} ${value}: expected one of ${Object.keys(table).join(', ')}`);
  return v;
}

export function decodeCommand(args: string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        stage: { type: 'string' },
        granule: { type: 'string' },
        level: { type: 'string' },
        ds: { type: 'boolean' },
        pa52: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${DECODE_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(DECODE_USAGE);
    return EXIT_OK;
  }
  const [kind, ...rest] = positionals;
  if (!kind) throw new UsageError(`decode needs a kind and hex words\n\n${DECODE_USAGE}`);
  const opts: { -readonly [K in keyof KindOptions]: KindOptions[K] } = {
    stage: choice('stage', values.stage, { 1: 1, 2: 2 } as Record<string, 1 | 2>),
    granule: choice('granule', values.granule, GRANULES),
    level: choice('level', values.level, { 0: 0, 1: 1, 2: 2, 3: 3 } as Record<string, 0 | 1 | 2 | 3>),
    ds: values.ds,
    pa52: values.pa52,
  };
  let words = rest;
  if (kind.toLowerCase() === 'reg') {
    opts.register = rest[0];
    words = rest.slice(1);
  }
  const decoded = decodeText(kind, words, opts);
  io.out(values.json ? JSON.stringify(toJson(decoded), null, 2) : describe(decoded));
  return EXIT_OK;
}
