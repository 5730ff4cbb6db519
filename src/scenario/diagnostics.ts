/** Located messages about a scenario: every error says where (file:line:col) and what would be right. */

export interface Position {
  /** 1-based line and column, as editors and compilers print them. */
  readonly line: number;
  readonly col: number;
}

export interface Range {
  readonly file: string;
  readonly start: Position;
  /** Exclusive end. */
  readonly end: Position;
}

export type DiagnosticSeverity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  readonly range: Range;
  readonly severity: DiagnosticSeverity;
  readonly message: string;
  /** A replacement that would fix it, when one is clear ("did you mean"). */
  readonly suggestion?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.range.file}:${d.range.start.line}:${d.range.start.col}: ${d.severity}: ${d.message}`;
}

/** Thrown while running a scenario for an error located in it (a failed driver call, a bad address). */
export class ScenarioError extends Error {
  constructor(readonly range: Range, message: string) {
    super(message);
    this.name = 'ScenarioError';
  }

  get diagnostic(): Diagnostic {
    return { range: this.range, severity: 'error', message: this.message };
  }
}

export function rangeText(r: Range): string {
  return `${r.file}:${r.start.line}:${r.start.col}`;
}
