/**
 * The numbers a launch configuration may set, checked before the engine sees them: any DAP
 * client (or a hand-edited launch.json) can send any JSON, and a value the model cannot
 * take must be an error that names the attribute and what would be right — not an
 * exception from deep inside the machine that leaves the launch unanswered.
 */

export interface LaunchNumbers {
  readonly lineSize?: unknown;
  readonly wbGranule?: unknown;
  readonly maxOps?: unknown;
  readonly maxPages?: unknown;
  readonly observableBound?: unknown;
  readonly requestTimeout?: unknown;
}

/** Seconds a reverse-continue searches backwards before it gives up (launch option "requestTimeout"). */
export const DEFAULT_REQUEST_TIMEOUT = 30;

const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : String(JSON.stringify(v) ?? v));

/** What is wrong with the launch configuration's numbers, or undefined. */
export function launchOptionError(a: LaunchNumbers): string | undefined {
  const lineSizes = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
  if (a.lineSize !== undefined && !lineSizes.includes(a.lineSize as number)) {
    return `"lineSize" ${show(a.lineSize)}: expected the CPU cache line size in bytes, a power of two from 16 to 4096 (Arm cores have 64)`;
  }
  if (a.wbGranule !== undefined && ![1, 2, 4, 8].includes(a.wbGranule as number)) {
    return `"wbGranule" ${show(a.wbGranule)}: expected 1, 2, 4 or 8 (bytes a write-back keeps together)`;
  }
  for (const name of ['maxOps', 'maxPages', 'observableBound'] as const) {
    const v = a[name];
    if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) > 0)) return `"${name}" ${show(v)}: expected a positive integer`;
  }
  const t = a.requestTimeout;
  if (t !== undefined && !(typeof t === 'number' && t > 0 && Number.isFinite(t))) return `"requestTimeout" ${show(t)}: expected a positive number of seconds`;
  return undefined;
}
