// ESLint flat config: typescript-eslint's recommended rules, plus the project's rules
// (no eval or Function constructor anywhere; only src/extension may import vscode).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-output/**', '.vscode-test/**', '*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The timer functions are declared so no-implied-eval sees them (it only checks known globals): a string
    // passed to setTimeout is eval too. The rules apply to every file linted: src, test, scripts, media, bin.
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { setTimeout: 'readonly', setInterval: 'readonly', execScript: 'readonly', globalThis: 'readonly' } },
    rules: {
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The engine runs in Node and in the browser: nothing outside src/extension imports vscode.
    files: ['src/**/*.ts'],
    ignores: ['src/extension/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'Only src/extension/ may import vscode (DESIGN.md §2).' }] }],
    },
  },
  {
    // The engine must also run in VS Code for the Web: no Node built-ins in the engine layers.
    files: ['src/arch/**/*.ts', 'src/model/**/*.ts', 'src/driver/**/*.ts', 'src/check/**/*.ts', 'src/scenario/**/*.ts', 'src/dump/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Only src/extension/ may import vscode (DESIGN.md §2).' }],
        patterns: [{ group: ['node:*', 'fs', 'path', 'os', 'child_process'], message: 'The engine runs in the browser too: no Node built-ins.' }],
      }],
    },
  },
  {
    // The walk webview's page script runs in the webview, a browser page.
    files: ['media/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { acquireVsCodeApi: 'readonly', document: 'readonly', window: 'readonly' } },
  },
  {
    files: ['scripts/**/*.mjs', 'bin/**/*.js', '.ci/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', __dirname: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
