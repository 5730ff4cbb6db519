/** Small, named steps in the workbench UI, so the tests read as what a user does. */
import { Locator, Page } from 'playwright-core';

/** Runs a command from the command palette by its title. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  // The row whose label is exactly the title (fuzzy matching may rank another first).
  const exact = page.locator('.quick-input-list .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) }),
  }).first();
  await exact.waitFor({ timeout: 15_000 });
  await exact.click();
}

/** Opens a workspace file through Quick Open. */
export async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator(`.tab[aria-label^="${name}"]`).first().waitFor({ timeout: 15_000 });
  await page.locator('.monaco-editor .view-lines').first().waitFor();
}

/** Moves the cursor to a line of the active editor. */
export async function goToLine(page: Page, line: number): Promise<void> {
  // Go to Line is an editor command: focus the editor first (a tree may have focus).
  await page.keyboard.press('Control+1');
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
}

/** A view pane in the side bar, by its title. */
export function pane(page: Page, title: string): Locator {
  return page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: new RegExp(`^\\s*${title}`, 'i') }) }).first();
}

/** Makes sure a pane is expanded. */
export async function expandPane(page: Page, title: string): Promise<Locator> {
  const p = pane(page, title);
  await p.waitFor({ timeout: 30_000 });
  const header = p.locator('.pane-header').first();
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
  return p;
}

/** Collapses a pane, to give the others room. */
export async function collapsePane(page: Page, title: string): Promise<void> {
  const header = pane(page, title).locator('.pane-header').first();
  if ((await header.count()) && (await header.getAttribute('aria-expanded')) === 'true') await header.click();
}

/** A tree row in a pane, by the start of its label. */
export function row(p: Locator, label: string | RegExp): Locator {
  return p.locator('.monaco-list-row').filter({ has: p.page().locator('.label-name, .monaco-highlighted-label', { hasText: label }) }).first();
}

/** Expands a row (clicks its twistie when collapsed). */
export async function expandRow(p: Locator, label: string | RegExp): Promise<Locator> {
  const r = row(p, label);
  await r.waitFor({ timeout: 30_000 });
  if ((await r.getAttribute('aria-expanded')) === 'false') await r.click();
  // Away from the row, so its tooltip does not cover the rows below.
  await p.page().mouse.move(800, 120);
  return r;
}

/** Waits until the debugger shows it is paused, and returns the reason the call stack gives. */
export async function waitForPause(page: Page, timeout = 60_000): Promise<string> {
  const state = page.locator('.debug-call-stack .state.label, .debug-call-stack .monaco-list-row .state');
  await state.first().waitFor({ timeout });
  return (await state.first().innerText()).trim();
}

/** Drags the side bar's edge so tree descriptions have room (for the reader of the screenshots). */
export async function widenSideBar(page: Page, width: number): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box || box.width >= width) return;
  const edge = box.x + box.width;
  await page.mouse.move(edge + 1, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + width, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
}
