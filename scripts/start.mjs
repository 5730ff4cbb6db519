// `npm start`: the main job. Runs every bundled example scenario headless, with the hazard
// checker, and prints what each one shows: its question, the STE/CD updates and how they
// went, what the checker found and where, and whether every claim (`expect`) held.
// Exit status 1 when any example fails. `smmu-debug run FILE --trace` shows one in full.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const dir = join(root, 'examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.smmu')).sort().map((f) => join(dir, f));

/** The example's title and question, from its header comment. */
function header(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const title = (lines[0] ?? '').replace(/^#\s*/, '');
  const q = [];
  const at = lines.findIndex((l) => /^#\s*Question:/.test(l));
  if (at >= 0) {
    for (let i = at; i < lines.length && /^#/.test(lines[i]) && lines[i].trim() !== '#'; i++) q.push(lines[i].replace(/^#\s?/, ''));
  }
  return { title, question: q.join(' ').replace(/^Question:\s*/, '').replace(/\s+/g, ' ') };
}

const short = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

let reports;
try {
  // Exit status 1 (a failing example) still prints the JSON; anything else is a real error.
  reports = JSON.parse(execFileSync(process.execPath, [cli, 'run', '--json', ...files], { encoding: 'utf8', maxBuffer: 64 << 20 }));
} catch (e) {
  if (e.status === 1 && e.stdout) reports = JSON.parse(e.stdout);
  else throw e;
}

const totals = { examples: 0, ok: 0, expectations: 0, hazards: 0, errors: 0, updates: 0 };
console.log('SMMU Table Debugger: the bundled examples, run headless with the hazard checker\n');
for (const r of reports) {
  const { title, question } = header(r.file);
  totals.examples++;
  if (r.ok) totals.ok++;
  const held = r.expectations.filter((e) => e.ok).length;
  totals.expectations += held;
  totals.updates += r.updates.length;
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${relative(root, r.file)}: ${title}`);
  if (question) console.log(`     Q: ${short(question, 160)}`);
  const paths = {};
  for (const u of r.updates) paths[u.path] = (paths[u.path] ?? 0) + 1;
  const upd = Object.entries(paths).map(([p, n]) => `${n} ${p}`).join(', ');
  console.log(`     ${r.steps} statements, ${r.operations} micro-operations; ${r.updates.length} STE/CD updates${upd ? ` (${upd})` : ''}; ` +
    `${r.dma.length} DMAs; ${held}/${r.expectations.length} expectations hold`);
  for (const h of r.hazards) {
    totals.hazards++;
    if (h.severity === 'error') totals.errors++;
    console.log(`     ${h.severity === 'error' ? '✗' : '!'} line ${h.line}: ${h.rule}${h.expected ? ' (expected)' : ''}: ${short(h.message, 150)}`);
  }
  for (const e of r.expectations.filter((x) => !x.ok)) console.log(`     ✗ line ${e.line}: ${e.message}`);
  for (const e of r.errors ?? []) console.log(`     ✗ ${typeof e === 'string' ? e : e.message ?? JSON.stringify(e)}`);
  if (r.hazards.length === 0) console.log('     no hazards: the checker found nothing the SMMU could observe going wrong');
  console.log('');
}
console.log(`${totals.ok}/${totals.examples} examples ok: ${totals.expectations} expectations held, ${totals.updates} STE/CD updates judged, ` +
  `${totals.hazards} hazards found (${totals.errors} errors, each in an example that shows a bug; its -fixed twin runs clean).`);
console.log('One example in full: node dist/cli.js run examples/03-cd-table-cacheable-noncoherent.smmu --trace');
process.exitCode = totals.ok === totals.examples ? 0 : 1;
