/**
 * Sections of a scenario: a comment line `# ---- Title ----` starts one, and it runs to the
 * next such line. The editor's outline and folding use them (a language configuration can
 * only fold between a start and an end marker, not from one marker to the next).
 */

export interface ScenarioSection {
  /** The text between the hyphens; empty for a bare `# ----` line. */
  readonly title: string;
  /** 1-based line of the marker. */
  readonly line: number;
  /** 1-based last line that belongs to it (blank lines before the next section excluded). */
  readonly endLine: number;
}

/** `# ---- Title ----`: four or more hyphens after the `#` (or `//`). */
const MARKER = /^\s*(?:#|\/\/)\s*-{4,}\s*(.*?)\s*-*\s*$/;
/** `# region Title` ... `# endregion`, as in other languages. */
const REGION_START = /^\s*(?:#|\/\/)\s*region\b/;
const REGION_END = /^\s*(?:#|\/\/)\s*endregion\b/;

export function scenarioSections(text: string): ScenarioSection[] {
  const lines = text.split(/\r?\n/);
  const starts: { title: string; line: number }[] = [];
  lines.forEach((l, i) => {
    const m = MARKER.exec(l);
    if (m) starts.push({ title: m[1], line: i + 1 });
  });
  return starts.map((s, k) => {
    let end = (starts[k + 1]?.line ?? lines.length + 1) - 1;
    while (end > s.line && lines[end - 1].trim() === '') end--;
    return { ...s, endLine: end };
  });
}

/** Folding ranges (1-based, inclusive): sections with more than their marker line, and `# region` blocks. */
export function foldingRanges(text: string): { start: number; end: number }[] {
  const ranges = scenarioSections(text).filter((s) => s.endLine > s.line).map((s) => ({ start: s.line, end: s.endLine }));
  const open: number[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    if (REGION_START.test(l)) open.push(i + 1);
    else if (REGION_END.test(l) && open.length) ranges.push({ start: open.pop()!, end: i + 1 });
  });
  return ranges.sort((a, b) => a.start - b.start || b.end - a.end);
}
