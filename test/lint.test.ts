/**
 * The lint rules against eval run over every file ESLint sees, not only src/: a string
 * turned into code in a test, a build script or the webview's page script is as much a
 * hole. (no-implied-eval only knows globals it is told about: the timers are declared.)
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = join(__dirname, '..', '..');

describe('lint: no eval anywhere', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: root });

  const rulesHit = async (file: string, code: string): Promise<string[]> => {
    const [r] = await eslint.lintText(code, { filePath: join(root, file) });
    return [...new Set(r.messages.map((m) => m.ruleId ?? ''))].filter((id) => /eval|new-func/.test(id)).sort();
  };

  for (const file of ['src/arch/x.ts', 'test/x.test.ts', 'scripts/x.mjs', 'media/x.js']) {
    it(`${file}: eval, new Function and a string given to a timer are errors`, async () => {
      const code = 'export const a = (s) => eval(s);\nexport const b = new Function("x", "return x");\nexport const c = () => setTimeout("a(1)", 0);\n';
      // The webview page is a script, not a module.
      const text = file.startsWith('media/') ? code.replace(/export /g, '') : code;
      assert.deepEqual(await rulesHit(file, text), ['no-eval', 'no-implied-eval', 'no-new-func']);
    });
  }
});
