/** How a statement is defined: its syntax (see syntax.ts) and how it compiles to a step. */
import type { Action } from '../../driver/ops';
import type { Statement } from '../ast';
import type { CompileContext } from '../compile-context';
import type { StepContext } from '../program';
import type { StatementSyntax } from '../syntax';

export interface Compiled {
  /** The driver function the step performs (function breakpoints, the call stack). */
  readonly action: string;
  readonly run: (cx: StepContext) => Action<void>;
}

export interface StatementDef extends StatementSyntax {
  /**
   * Check the statement against what is defined so far and return the step to run, or
   * nothing for statements that only configure the compile (platform settings).
   */
  compile(st: Statement, cx: CompileContext): Compiled | undefined;
}

export function define(def: StatementDef): StatementDef {
  return def;
}

/** The kernel's barrier vocabulary. */
export const BARRIERS = ['dma_wmb', 'dma_rmb', 'wmb', 'rmb', 'mb', 'dmb', 'dsb'] as const;
