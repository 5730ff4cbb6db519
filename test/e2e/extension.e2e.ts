/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * End-to-end: the packaged extension in a real VS Code (code-server 1.100.3) in Chromium,
 * doing what a user does — F5 on an example, read the SMMU Tables and Cache Lines views,
 * step, stop on a hazard, hover hex in a C file, walk an address. Screenshots of each stage
 * go to test-output/e2e/ for a person to look at.
 */
import { strict as assert } from 'node:assert';
import { Locator, Page } from 'playwright-core';
import { collapsePane, expandPane, expandRow, goToLine, openFile, row, runCommand, waitForPause, widenSideBar } from './ui';
import { DISPLAY_NAME, startWorkbench, Workbench } from './workbench';

const EXAMPLE = '03-cd-table-cacheable-noncoherent.smmu';

/** The labels of the rows a pane shows now. */
async function labels(p: Locator): Promise<string[]> {
  return (await p.locator('.monaco-list-row .label-name').allInnerTexts()).map((t) => t.trim());
}

async function rowText(r: Locator): Promise<string> {
  return (await r.innerText()).replace(/\s+/g, ' ').trim();
}

/**
 * In the page: the call stack's state label and top frame. Given `before`, whether the run
 * has stopped again since (they changed) for a reason matching `re`.
 */
function stopProbe(a: { before: string | null; re: string }): string | boolean {
  const label = document.querySelector('.debug-call-stack .state.label')?.textContent ?? '';
  const frame = document.querySelector('.debug-call-stack .monaco-list-row.selected')?.textContent ?? '';
  const now = `${label}|${frame}`;
  if (a.before === null) return now;
  return now !== a.before && new RegExp(a.re, 'i').test(label);
}

async function continueTo(page: Page, reason: RegExp): Promise<string> {
  const before = (await page.evaluate(stopProbe, { before: null, re: '' })) as string;
  await page.keyboard.press('F5');
  await page.waitForFunction(stopProbe, { before, re: reason.source }, { timeout: 60_000 });
  return waitForPause(page);
}

/** The same user journey in each extension host the extension ships for. */
for (const host of ['node', 'web'] as const) describe(`end to end in VS Code (code-server), ${host === 'node' ? 'Node' : 'web worker'} extension host`, function () {
  this.timeout(600_000);
  let wb: Workbench;
  let page: Page;

  before(async () => {
    wb = await startWorkbench(host);
    page = wb.page;
  });

  it(`runs in the ${host === 'node' ? 'Node' : 'web worker'} extension host`, async () => {
    // Opening a scenario activates the extension; the Running Extensions editor says where it runs.
    await openFile(page, EXAMPLE);
    await runCommand(page, 'Developer: Show Running Extensions');
    const ours = page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: DISPLAY_NAME }).first();
    await ours.waitFor({ timeout: 30_000 });
    // code-server names its own extension host by its address; the browser's is "web worker".
    const where = host === 'web' ? /web worker/ : /127\.0\.0\.1:\d+/;
    let text = '';
    for (let i = 0; i < 60 && !where.test(text); i++) {
      if (i) await page.waitForTimeout(500);
      text = await ours.innerText();
    }
    assert.match(text, where);
    assert.match(text, /Activation/);
    await runCommand(page, 'View: Close Editor');
  });

  after(async () => {
    await wb?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.shot(`failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
  });

  it('highlights a scenario and offers Run/Debug code lenses', async () => {
    await openFile(page, EXAMPLE);
    const lens = page.locator('.contentWidgets .codelens-decoration', { hasText: 'Debug scenario' }).first();
    await lens.waitFor({ timeout: 30_000 });
    // The grammar colours keywords differently from plain text: 'attach' and 'd1' differ.
    const line = page.locator('.view-line', { hasText: 'attach 5 s1 d1 cd_mem=cacheable' }).first();
    await line.waitFor();
    const colours = await line.locator('span > span').evaluateAll((spans) => spans.map((s) => [s.textContent, getComputedStyle(s).color]));
    const colourOf = (text: string): string | undefined => colours.find(([t]) => t?.trim() === text)?.[1] ?? undefined;
    assert.ok(colourOf('attach'), `no token 'attach' in ${JSON.stringify(colours)}`);
    assert.notEqual(colourOf('attach'), colourOf('d1'));
    assert.equal(await page.locator('.statusbar-item', { hasText: 'SMMU Scenario' }).count() > 0, true);
    await wb.shot('01-scenario-editor');
  });

  it(`Run scenario: the headless run${host === 'web' ? ' (in the engine worker)' : ''} reports in the SMMU Scenario output`, async () => {
    await page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Run scenario' }).first().click();
    const out = page.locator('.part.panel .view-lines', { hasText: /statements,\s\d+\soperations/ }).first();
    await out.waitFor({ timeout: 60_000 });
    // The example expects each of its three hazards (its three `expect hazard` lines) and all its expectations hold.
    // (The editor shows spaces as no-break spaces.)
    assert.match((await out.innerText()).replace(/\s+/g, ' '), new RegExp(`${EXAMPLE.replace(/\./g, '\\.')}: ok — \\d+ statements, \\d+ operations, (\\d+)/\\1 expectations, 3 hazard\\(s\\)`));
    await wb.shot('01b-run-scenario');
    await runCommand(page, 'View: Hide Panel');
  });

  it('F5 with no launch.json stops on entry; the views show an empty machine', async () => {
    await page.keyboard.press('F5');
    assert.match(await waitForPause(page), /entry/i);
    await widenSideBar(page, 620);
    const tables = await expandPane(page, 'SMMU Tables');
    await row(tables, 'stream table').waitFor({ timeout: 30_000 });
    assert.match(await rowText(row(tables, 'stream table')), /not programmed/);
    const lines = await expandPane(page, 'Cache Lines');
    await row(lines, /No dirty lines/).waitFor({ timeout: 30_000 });
    await wb.shot('02-stopped-on-entry');
  });

  it('stops on the hazards of the uncleaned CD table and lists them in the Hazards view', async () => {
    // A breakpoint after the attach, set the way a user does: go to the line, F9.
    await goToLine(page, 31);
    await page.keyboard.press('F9');
    // Hazard breakpoints are on by default: the kernel's missing barrier first, then the stale fetch.
    assert.match(await continueTo(page, /hazard missing-barrier/), /missing-barrier/i);
    assert.match(await continueTo(page, /hazard stale-fetch/), /stale-fetch/i);
    const widget = page.locator('.zone-widget .exception-widget, .exception-widget').first();
    await widget.waitFor({ timeout: 15_000 });
    assert.match(await widget.innerText(), /CD table[\s\S]*never cleaned to PoC/);
    const hazards = await expandPane(page, 'Hazards');
    await row(hazards, /^stale-fetch \(line 30\)/).waitFor({ timeout: 30_000 });
    assert.deepEqual((await labels(hazards)).filter((l) => /line 30/.test(l)).sort(), ['missing-barrier (line 30)', 'stale-fetch (line 30)']);
    await wb.shot('03-hazard-stop');
  });

  it('SMMU Tables: the stream in use → STE 5 → CD table → CD, decoded', async () => {
    assert.match(await continueTo(page, /breakpoint/), /breakpoint/i);
    for (const title of ['Variables', 'Watch', 'Breakpoints', 'Cache Lines', 'Hazards']) await collapsePane(page, title);
    const tables = await expandPane(page, 'SMMU Tables');
    const inUse = await expandRow(tables, /^streams in use$/);
    assert.match(await rowText(inUse), /1 STE not aborting: 0x5/);
    const ste = await expandRow(tables, /^STE 0x5$/);
    assert.match(await rowText(ste), /stage-1 translate/);
    await expandRow(tables, /^CD table$/);
    const cd = await expandRow(tables, /^CD 0x5:0$|^CD 0$/);
    // The CPU wrote a valid CD; a non-coherent SMMU still reads zeroes at PoC.
    assert.match(await rowText(cd), /valid: ASID 1, TTB0 0x[0-9a-f]+/);
    assert.match(await rowText(cd), /SMMU reads different bytes/);
    await row(tables, /^as the SMMU reads it$/).waitFor({ timeout: 15_000 });
    assert.match(await rowText(row(tables, /^as the SMMU reads it$/)), /invalid/);
    await wb.shot('04-smmu-tables');
  });

  /** Continues, through hazard stops, to the next breakpoint. */
  async function continueToBreakpoint(): Promise<void> {
    for (let i = 0; i < 6; i++) {
      if (/breakpoint/i.test(await continueTo(page, /breakpoint|hazard/))) return;
    }
    throw new Error('no breakpoint reached');
  }

  it('Cache Lines: the CD line is dirty, its bytes against PoC; a write-back cleans it', async () => {
    await collapsePane(page, 'SMMU Tables');
    await collapsePane(page, 'Call Stack');
    const lines = await expandPane(page, 'Cache Lines');
    // The CD's line: all 64 bytes written by the CPU (the entry writer's stores), none cleaned.
    const cdLine = lines.locator('.monaco-list-row', { hasText: '64 dirty bytes' }).first();
    await cdLine.waitFor({ timeout: 30_000 });
    const base = (await cdLine.locator('.label-name').innerText()).trim();
    assert.match(base, /^0x[0-9a-f]+$/);
    await cdLine.click();
    await page.mouse.move(800, 120);
    await lines.locator('.monaco-list-row .highlight').first().waitFor({ timeout: 15_000 });
    await wb.shot('05-cache-lines');
    // The call stack says when the run stops again.
    await expandPane(page, 'Call Stack');
    // Line 69, just after `writeback cd_addr(5, 0) 64`: the hardware wrote the line back.
    await goToLine(page, 69);
    await page.keyboard.press('F9');
    await continueToBreakpoint();
    await page.waitForFunction((b) => ![...document.querySelectorAll('.monaco-list-row .label-name')].some((e) => e.textContent?.trim() === b), base, { timeout: 30_000 });
    await wb.shot('06-cache-lines-after-writeback');
  });

  it('walks an address: the SMMU\'s cached CD disagrees with memory, and the picture says so', async () => {
    // Line 80, the cfgi not yet done: the SMMU still holds the invalid CD the DMA at line 72 used.
    await goToLine(page, 80);
    await page.keyboard.press('F9');
    await continueToBreakpoint();
    await runCommand(page, 'SMMU: Walk an Address…');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill('5 0x10000010');
    await page.keyboard.press('Enter');
    // The webview's page lives in nested frames: find the one with the picture.
    let f: import('playwright-core').Frame | undefined;
    for (let i = 0; i < 150 && !f; i++) {
      for (const x of page.frames()) if (await x.locator('#columns .column').count().catch(() => 0)) f = x;
      if (!f) await page.waitForTimeout(200);
    }
    assert.ok(f, 'the walk webview did not draw');
    const now = f.locator('.column').nth(0);
    const fresh = f.locator('.column').nth(1);
    // Now: the invalid CD from the configuration cache, so the transaction faults.
    assert.match(await now.locator('.outcome').innerText(), /C_BAD_CD/);
    assert.match(await now.locator('.box', { hasText: 'CD' }).last().innerText(), /config cache/);
    // Fetched afresh: the whole walk, to the page.
    assert.deepEqual(await fresh.locator('.box .kind').allInnerTexts(), ['L1STD', 'STE', 'CD', 'S1 L0', 'S1 L1', 'S1 L2', 'S1 L3']);
    assert.match(await fresh.locator('.outcome').innerText(), /translated → 0x800000010/);
    assert.match(await f.locator('#status').innerText(), /disagrees with memory/);
    await wb.shot('07-walk-picture');
    await page.keyboard.press('Shift+F5');
  });

  it('hovers a hex value in a C file and decodes it as an STE', async () => {
    await openFile(page, 'trace.c');
    // The token itself (the innermost span), not the whole line.
    const word = page.locator('.view-line span > span', { hasText: /^0x000000004000700b$/ }).first();
    await word.waitFor();
    const hover = page.locator('.monaco-hover:not(.hidden)').first();
    // A hover only starts on a mouse move over the token once the editor has settled: move away and back until it shows.
    for (let i = 0; i < 5 && !(await hover.isVisible()); i++) {
      await page.mouse.move(700, 400);
      await page.waitForTimeout(500);
      await word.hover();
      await hover.waitFor({ timeout: 3_000 }).catch(() => undefined);
    }
    await hover.waitFor({ timeout: 5_000 });
    const text = await hover.innerText();
    // 0x4000700b: V=1 (bit 0), Config bits 3:1 = 0b101 stage-1 translate, S1ContextPtr bits 51:6 = 0x40007000;
    // the word 'ste' in ste_words puts the STE first.
    assert.match(text, /^Stream Table Entry — stage-1 translate, stage 2 bypass; 1 CD at 0x40007000/);
    assert.match(text, /the word "ste"/);
    await wb.shot('08-hover-c-file');
  });

  it('debugs a scenario that starts from a kdump-compressed dump (read whole in the web worker host)', async () => {
    await openFile(page, 'from-dump.smmu');
    // The editor's checking accepts the load (desktop opens the dump's headers; the browser checks the arguments).
    await page.locator('.view-line', { hasText: 'expect dma 2:0' }).waitFor();
    await page.waitForTimeout(1500);
    assert.equal(await page.locator('.view-overlays .squiggly-error').count(), 0);
    await page.keyboard.press('F5');
    assert.match(await waitForPause(page), /entry/i);
    const tables = await expandPane(page, 'SMMU Tables');
    await row(tables, 'stream table').waitFor({ timeout: 30_000 });
    assert.match(await rowText(row(tables, 'stream table')), /not programmed/);
    // Over the load: the SMMU's registers and memory are the dump's.
    await page.keyboard.press('F10');
    await waitForPause(page);
    // The views refresh after the stop: the stream table and the streams in use are the dump's.
    await tables.locator('.monaco-list-row', { hasText: '2-level' }).waitFor({ timeout: 30_000 });
    assert.match(await rowText(row(tables, 'stream table')), /2-level, 256 L1 descriptors at 0x40000000, SPLIT 8/);
    assert.match(await rowText(row(tables, 'streams in use')), /0x1, 0x2, 0x3, 0x4, 0x100/);
    await wb.shot('09-from-kdump');
    // The expectations on the dump's STE and translation hold: the run ends without stopping.
    await page.keyboard.press('F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 60_000 });
  });
});
