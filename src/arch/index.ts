/**
 * The format tables by kind: what the CLI, the hover and the debugger's `decode` use to
 * find the table for "ste", "cd", "pte", "cmd", "event", "reg NAME" and so on.
 */
import { decode, Decoded } from './codec';
import { ArchContext, Granule, Layout } from './field';
import { STE, L1STD } from './ste';
import { CD, L1CD } from './cd';
import { commandLayoutFor, COMMANDS } from './commands';
import { eventLayoutFor, EVENTS, PRI_RECORD } from './events';
import { GATOS_PAR_FAULT, registerByName, registerLayoutFor, RegisterLayout, REGISTERS } from './registers';
import { Level, pteLayout, pteLayoutFor, Stage } from './pte';
import { parseHexWords } from './hexinput';
import { didYouMean } from './suggest';

export * from './field';
export * from './codec';
export { HexInputError, parseHexWords } from './hexinput';

/** Options that pick a layout where the words alone do not say which. */
export interface KindOptions {
  /** Translation table descriptors: stage, granule and level (default stage 1, 4K, level 3). */
  readonly stage?: Stage;
  readonly granule?: Granule;
  readonly level?: Level;
  /** 52-bit output addresses: LPA2 form for 4K/16K (`ds`), or the 64K form (`pa52`). */
  readonly ds?: boolean;
  readonly pa52?: boolean;
  /** For `reg`: the register's name. */
  readonly register?: string;
}

export interface KindInfo {
  readonly kind: string;
  readonly title: string;
  /** Width and number of words expected from the user. */
  readonly wordBits: (o: KindOptions) => 32 | 64;
  readonly words: (o: KindOptions) => number;
  /** The layout for these words (commands and events pick theirs from an id field). */
  readonly layout: (words: readonly bigint[], o: KindOptions) => Layout;
}

const fixed = (l: Layout): Pick<KindInfo, 'wordBits' | 'words' | 'layout'> => ({
  wordBits: () => l.wordBits, words: () => l.words, layout: () => l,
});

/** Thrown when a kind or register name is unknown; the message lists what is known. */
export class KindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KindError';
  }
}

function register(o: KindOptions): RegisterLayout {
  if (!o.register) {
    throw new KindError(`'reg' needs a register name, e.g. 'reg IDR0'; known: ${REGISTERS.map((r) => r.name).join(', ')}`);
  }
  const r = registerByName(o.register);
  if (!r) {
    throw new KindError(`unknown register '${o.register}'${didYouMean(o.register, REGISTERS.map((x) => x.name))}; ` +
      `known: ${REGISTERS.map((x) => x.name).join(', ')}`);
  }
  return r;
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'ste', title: 'Stream Table Entry (8 qwords)', ...fixed(STE) },
  { kind: 'cd', title: 'Context Descriptor (8 qwords)', ...fixed(CD) },
  { kind: 'l1std', title: 'Level 1 Stream Table Descriptor (1 qword)', ...fixed(L1STD) },
  { kind: 'l1cd', title: 'Level 1 Context Descriptor (1 qword)', ...fixed(L1CD) },
  {
    kind: 'pte', title: 'Translation table descriptor (1 qword; --stage, --granule, --level)',
    wordBits: () => 64, words: () => 1,
    layout: (w, o) => pteLayoutFor(w[0] ?? 0n, {
      stage: o.stage ?? 1, granule: o.granule ?? 4, level: o.level ?? 3, ds: o.ds, pa52: o.pa52,
    }),
  },
  { kind: 'cmd', title: 'Command queue entry (2 qwords)', wordBits: () => 64, words: () => 2, layout: (w) => commandLayoutFor(w) },
  { kind: 'event', title: 'Event queue record (4 qwords)', wordBits: () => 64, words: () => 4, layout: (w) => eventLayoutFor(w) },
  { kind: 'pri', title: 'PRI queue record (2 qwords)', ...fixed(PRI_RECORD) },
  {
    kind: 'reg', title: 'Register (reg NAME)',
    wordBits: (o) => register(o).wordBits, words: () => 1, layout: (w, o) => registerLayoutFor(register(o), w[0] ?? 0n),
  },
];

export function kindInfo(kind: string): KindInfo {
  const k = KINDS.find((x) => x.kind === kind.toLowerCase());
  if (!k) {
    throw new KindError(`unknown kind '${kind}'${didYouMean(kind, KINDS.map((x) => x.kind))}; ` +
      `expected one of: ${KINDS.map((x) => x.kind).join(', ')}`);
  }
  return k;
}

/**
 * Decode user-typed hex as a kind: parse the words (throws HexInputError), pick the
 * layout (throws KindError), decode. Missing trailing words are zero.
 */
export function decodeText(kind: string, tokens: readonly string[], o: KindOptions = {}, ctx: ArchContext = {}): Decoded {
  const k = kindInfo(kind);
  const count = k.words(o);
  const words = parseHexWords(tokens, k.wordBits(o), count, `${k.kind === 'reg' ? register(o).name : kind.toUpperCase()}`);
  return decode(k.layout(words, o), words, ctx);
}

/** Every layout of every table, for tests, completion and documentation. */
export function allLayouts(): Layout[] {
  const layouts: Layout[] = [STE, L1STD, CD, L1CD, ...COMMANDS, ...EVENTS, PRI_RECORD, ...REGISTERS, GATOS_PAR_FAULT];
  for (const stage of [1, 2] as const) {
    for (const granule of [4, 16, 64] as const) {
      for (const level of [0, 1, 2, 3] as const) {
        for (const wide of [{}, granule === 64 ? { pa52: true } : { ds: true }]) {
          for (const type of ['invalid', 'table', 'block', 'page', 'reserved'] as const) {
            const l = pteLayout({ stage, granule, level, ...wide }, type);
            if (!layouts.includes(l)) layouts.push(l);
          }
        }
      }
    }
  }
  return layouts;
}
