/** The example's title: its first comment line without the number ("# 01 - Minimal ..."). */
export function exampleTitle(text: string): string {
  const first = /^#\s*(.+)$/m.exec(text)?.[1] ?? '';
  return first.replace(/^\d+\s*(\([^)]*\))?\s*[-–—]\s*/, '').trim();
}
