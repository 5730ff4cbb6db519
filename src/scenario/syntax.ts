/**
 * The shape of the statement table: what each statement takes. The parser, the
 * documentation, completion, hover and snippets all read it.
 */

export type ParamKind =
  /** A number expression (`0x1000 + 4K`, a constant, a region name). */
  | 'expr'
  /** A name being defined or referred to (a region, a domain, a constant, a register). */
  | 'name'
  /** A StreamID, optionally with a SubstreamID: `5` or `5:3`. */
  | 'stream'
  /** A quoted string. */
  | 'string'
  /** One keyword from `words`. */
  | 'word'
  /** One or more expressions separated by commas. */
  | 'list';

export interface ParamSpec {
  readonly name: string;
  readonly kind: ParamKind;
  readonly words?: readonly string[];
  readonly optional?: boolean;
  /** A token that introduces the parameter (`->`, `<-`, `==`). */
  readonly after?: string;
  readonly doc: string;
}

export interface OptionSpec {
  readonly kind: 'expr' | 'word' | 'bool' | 'name' | 'list' | 'string';
  readonly words?: readonly string[];
  readonly doc: string;
}

export interface StatementSyntax {
  /** One word, or two for statement families (`expect dma`, `cfgi ste`). */
  readonly keyword: string;
  /** One line for completion and hover. */
  readonly summary: string;
  /** Longer explanation for the documentation. */
  readonly doc?: string;
  /** At least one complete example line. */
  readonly examples: readonly string[];
  readonly params: readonly ParamSpec[];
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Bare words allowed after the parameters, with what each means. */
  readonly flags?: Readonly<Record<string, string>>;
  /** Accepts arbitrary `Field=value` pairs (structure fields, validated when compiled). */
  readonly fields?: string;
  /** Grouping for the documentation. */
  readonly section: 'platform' | 'memory' | 'driver' | 'raw' | 'commands' | 'devices' | 'expectations' | 'kho' | 'structure';
}

/** The syntax line shown in docs and hovers: `map DOMAIN IOVA -> PA size=SIZE [prot=...]`. */
export function syntaxLine(s: StatementSyntax): string {
  const parts = [s.keyword];
  for (const p of s.params) {
    let t = p.kind === 'word' && p.words ? p.words.join('|') : p.name.toUpperCase();
    if (p.kind === 'stream') t = `${p.name.toUpperCase()}[:SSID]`;
    if (p.after) t = `${p.after} ${t}`;
    parts.push(p.optional ? `[${t}]` : t);
  }
  for (const [k, o] of Object.entries(s.options ?? {})) {
    parts.push(o.kind === 'bool' ? `[${k}]` : `[${k}=${o.kind === 'word' && o.words ? o.words.join('|') : k.toUpperCase()}]`);
  }
  for (const f of Object.keys(s.flags ?? {})) parts.push(`[${f}]`);
  if (s.fields) parts.push('[FIELD=VALUE...]');
  return parts.join(' ');
}
