/** The walk command's input, "SID[:SSID] IOVA [read|write|exec]", parsed (no vscode: tested in Node). */

export interface WalkRequest {
  sid: string;
  ssid?: string;
  iova: string;
  access: 'read' | 'write' | 'exec';
}

/** Parses "SID[:SSID] IOVA [read|write|exec]" as typed in the input box. */
export function parseWalkInput(text: string): WalkRequest | string {
  const parts = text.trim().split(/\s+/).filter((p) => p);
  if (parts.length < 2 || parts.length > 3) return 'type SID[:SSID] IOVA [read|write|exec], e.g. "5 0x10000000" or "5:1 0x10000000 write"';
  const [ids, iova, access = 'read'] = parts;
  const [sid, ssid] = ids.split(':');
  const num = /^(0x[0-9a-f_]+|[0-9_]+)$/i;
  if (!num.test(sid) || (ssid !== undefined && !num.test(ssid))) return `'${ids}' is not SID or SID:SSID (decimal or 0x hex)`;
  if (!num.test(iova)) return `'${iova}' is not an address (decimal or 0x hex)`;
  if (!['read', 'write', 'exec'].includes(access)) return `'${access}' is not read, write or exec`;
  return { sid, ssid, iova, access: access as WalkRequest['access'] };
}
