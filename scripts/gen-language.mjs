// Generates the scenario language's editor files from the statement table, so they never
// drift from what the parser accepts:
//   syntaxes/smmu.tmLanguage.json   the TextMate grammar
//   snippets/smmu.code-snippets     a snippet per statement, and a few multi-statement ones
//   docs/scenario-language.md       the "Statement reference" between its GENERATED markers
// The content comes from src/scenario/reference.ts (the test suite calls the same code to
// check the committed files are current). It is bundled with esbuild from the sources, so
// no prior `tsc` is needed and the output never comes from stale compiled files.
// Usage: node scripts/gen-language.mjs [--check]   (--check: write nothing, exit 1 if out of date)
import { buildSync } from 'esbuild';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

function loadReference() {
  const dir = mkdtempSync(join(tmpdir(), 'smmu-gen-language-'));
  const outfile = join(dir, 'reference.cjs');
  try {
    buildSync({
      // The reference generator and the checker's rules, which it is handed (the scenario layer does not import the checker).
      stdin: {
        contents: "export * from './src/scenario/reference'; export { RULES } from './src/check/rules';",
        resolveDir: root, loader: 'ts', sourcefile: 'language-entry.ts',
      },
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'es2022',
      logLevel: 'warning',
      absWorkingDir: root,
    });
    return createRequire(import.meta.url)(outfile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ref = loadReference();
const files = ref.generateLanguageFiles(ref.RULES);
const docsPath = join(root, ref.OUTPUTS.docs);
const docs = ref.spliceReference(readFileSync(docsPath, 'utf8'), files.reference);
const outputs = [
  [ref.OUTPUTS.grammar, files.grammar],
  [ref.OUTPUTS.snippets, files.snippets],
  [ref.OUTPUTS.docs, docs],
];

const stale = [];
for (const [rel, text] of outputs) {
  const path = join(root, rel);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (current === text) continue;
  stale.push(rel);
  if (!check) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}

if (check) {
  if (stale.length) {
    console.error(`out of date: ${stale.join(', ')}; run npm run gen-language`);
    process.exit(1);
  }
  console.log('language files are up to date');
} else {
  console.log(stale.length ? `wrote ${stale.join(', ')}` : 'language files are up to date');
}
