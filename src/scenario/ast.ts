/** Syntax trees of scenario statements and expressions. */
import { Range } from './diagnostics';

export type Expr =
  | { readonly kind: 'num'; readonly value: bigint; readonly range: Range }
  | { readonly kind: 'name'; readonly name: string; readonly range: Range }
  | { readonly kind: 'member'; readonly object: Expr; readonly field: string; readonly range: Range }
  | { readonly kind: 'index'; readonly object: Expr; readonly index: Expr; readonly range: Range }
  | { readonly kind: 'unary'; readonly op: '-' | '~'; readonly operand: Expr; readonly range: Range }
  | { readonly kind: 'binary'; readonly op: string; readonly left: Expr; readonly right: Expr; readonly range: Range }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Expr[]; readonly range: Range };

/** A StreamID with an optional SubstreamID: `5` or `5:3`. */
export interface StreamRef {
  readonly sid: Expr;
  readonly ssid?: Expr;
  readonly range: Range;
}

export type ArgValue =
  | { readonly kind: 'expr'; readonly expr: Expr }
  | { readonly kind: 'word'; readonly word: string }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'stream'; readonly stream: StreamRef }
  | { readonly kind: 'list'; readonly items: readonly Expr[] };

export interface Arg {
  readonly value: ArgValue;
  readonly range: Range;
}

/** One statement as parsed against its syntax in the statement table. */
export interface Statement {
  /** The statement's key in the table (`map`, `expect dma`, `cfgi ste`). */
  readonly keyword: string;
  readonly range: Range;
  readonly keywordRange: Range;
  /** Positional parameters by name. */
  readonly args: ReadonlyMap<string, Arg>;
  /** `key=value` options by key (lower case). */
  readonly options: ReadonlyMap<string, Arg>;
  /** Bare words from the statement's flag list. */
  readonly flags: ReadonlySet<string>;
  /** For statements that take arbitrary `field=value` pairs (structure fields). */
  readonly fields: ReadonlyMap<string, Arg>;
  /** The source text of the statement. */
  readonly text: string;
}
