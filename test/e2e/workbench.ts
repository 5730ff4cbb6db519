/**
 * A real VS Code for the end-to-end tests: code-server (VS Code 1.100.3) with the packaged
 * extension installed into a fresh profile, serving on a loopback port, driven by Chromium
 * through playwright-core. Everything it starts it stops, by the process ids it got.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Browser, chromium, Page } from 'playwright-core';

export const ROOT = join(__dirname, '..', '..', '..');
export const SHOTS = join(ROOT, 'test-output', 'e2e');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string; displayName: string };
const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;
export const DISPLAY_NAME = manifest.displayName;

/** The code-server launcher: $SMMU_E2E_CODE_SERVER, or installed by scripts/install-code-server.sh. */
function codeServer(): string {
  const given = process.env.SMMU_E2E_CODE_SERVER;
  if (given) return given;
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'install-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

function chromiumPath(): string {
  if (process.env.SMMU_E2E_CHROMIUM) return process.env.SMMU_E2E_CHROMIUM;
  return execFileSync('bash', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, ms: number, proc: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode}:\n${log()}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer at ${url} within ${ms} ms:\n${log()}`);
}

/**
 * Where the extension runs: `node`, the extension host code-server starts beside it
 * (`main`, as in desktop VS Code); `web`, the browser's web worker extension host
 * (`browser`, as in VS Code for the Web), chosen with the `remote.extensionKind` setting.
 */
export type ExtensionHost = 'node' | 'web';

export interface Workbench {
  readonly page: Page;
  readonly host: ExtensionHost;
  readonly workspace: string;
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Files of the test workspace: bundled examples and a C file with hex values to hover. */
function makeWorkspace(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['01-minimal-stage1.smmu', '03-cd-table-cacheable-noncoherent.smmu']) copyFileSync(join(ROOT, 'examples', f), join(dir, f));
  writeFileSync(join(dir, 'trace.c'), [
    '/* The STE the driver wrote for StreamID 5, from a debug print. */',
    'static const u64 ste_words[] = {',
    '\t0x000000004000700b, 0x0000000000000000,',
    '};',
    '',
  ].join('\n'));
  // QEMU's kdump-compressed dump of a guest holding the dump fixture's tables, and a scenario that starts from it.
  mkdirSync(join(dir, 'dumps'));
  writeFileSync(join(dir, 'dumps', 'guest.kdump'), gunzipSync(readFileSync(join(ROOT, 'test', 'fixtures', 'dumps', 'qemu-virt-zlib.kdump.gz'))));
  writeFileSync(join(dir, 'from-dump.smmu'), [
    '# The SMMU tables of a QEMU guest, from its kdump-compressed dump.',
    'load core="dumps/guest.kdump" strtab_base=0x4000_0000 strtab_base_cfg=0x10210',
    'expect ste 2 Config == 5',
    'expect dma 2:0 read 0x1000_0abc -> 0x8_0000_0abc',
    '',
  ].join('\n'));
}

export async function startWorkbench(host: ExtensionHost = 'node'): Promise<Workbench> {
  const vsix = join(ROOT, 'smmu-debug.vsix');
  if (!existsSync(vsix)) throw new Error(`${vsix} is missing: run npm run package first`);
  const bin = codeServer();
  const base = mkdtempSync(join(tmpdir(), 'smmu-e2e-'));
  const userData = join(base, 'user-data');
  const extensions = join(base, 'extensions');
  const workspace = join(base, 'workspace');
  makeWorkspace(workspace);
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'editor.hover.delay': 150,
    'editor.minimap.enabled': false,
    'window.commandCenter': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'chat.commandCenter.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'debug.toolBarLocation': 'docked',
    ...(host === 'web' ? { 'remote.extensionKind': { [EXTENSION_ID]: ['web'] } } : {}),
  }, null, 2));
  execFileSync(bin, ['--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix], { stdio: 'pipe' });

  const port = await freePort();
  let output = '';
  const server = spawn(bin, [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--user-data-dir', userData, '--extensions-dir', extensions, workspace,
  ], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d) => (output += d));
  server.stderr!.on('data', (d) => (output += d));
  let browser: Browser | undefined;
  const stopServer = (): void => {
    // Its own process group: code-server and the extension host it started, nothing else.
    try {
      if (server.pid && server.exitCode === null) process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, server, () => output);
    browser = await chromium.launch({
      executablePath: chromiumPath(), headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const shots = host === 'web' ? join(SHOTS, 'web') : SHOTS;
    mkdirSync(shots, { recursive: true });
    return {
      page, host, workspace,
      async shot(name) {
        const path = join(shots, `${name}.png`);
        await page.screenshot({ path });
        return path;
      },
      async close() {
        await browser?.close().catch(() => undefined);
        stopServer();
        rmSync(base, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await browser?.close().catch(() => undefined);
    stopServer();
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
}
