// The MV3 extension (examples/extension), loaded unpacked into headless
// Chromium (--load-extension, headless=new): on a test page with a textarea,
// typed text gets a next-word suggestion from the bundled model and Tab inserts
// it; a partly typed word is completed; the options page fine-tunes the model
// on pasted text (its loss falls) and the suggestions then come from the
// fine-tuned model. Measures the suggestion latency per keystroke.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repo } from './servers.js';
import { serveStatic } from './static-server.js';

const chromiumPath = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();
const out = join(repo, 'test-output/examples');
const extension = join(repo, 'examples/extension');

describe.skipIf(!chromiumPath && !process.env.CI)('the next-word extension in Chromium', () => {
  let ctx: BrowserContext, page: Page, server: Awaited<ReturnType<typeof serveStatic>>, extensionId: string;
  const site = mkdtempSync(join(tmpdir(), 'mnemo-ext-site-'));
  const profile = mkdtempSync(join(tmpdir(), 'mnemo-ext-profile-'));

  beforeAll(async () => {
    execFileSync(process.execPath, ['examples/extension/build.mjs'], { cwd: repo, stdio: 'inherit', timeout: 200_000 });
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>notes</title><link rel="icon" href="data:,">'
      + '<h1>Notes</h1><textarea id="notes" rows="6" cols="60"></textarea>');
    server = await serveStatic(site, false);
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath, headless: false, ignoreDefaultArgs: ['--disable-extensions'],
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', `--disable-extensions-except=${extension}`, `--load-extension=${extension}`],
    });
    const sw = ctx.serviceWorkers()[0] ?? await ctx.waitForEvent('serviceworker', { timeout: 30_000 });
    extensionId = new URL(sw.url()).host;
    page = await ctx.newPage();
    mkdirSync(out, { recursive: true });
  }, 240_000);
  afterAll(async () => {
    await ctx?.close();
    await server?.close();
    rmSync(site, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });

  /** Types key by key; after each, waits for the answer for exactly this text; returns the last suggestion and the model's times. */
  async function typeAndRead(text: string): Promise<{ token: string | null; ms: number[]; roundTrip: number[] }> {
    const box = page.locator('#mnemo-suggestion');
    const ms: number[] = [], roundTrip: number[] = [];
    for (const ch of text) {
      await page.locator('#notes').press(ch === ' ' ? 'Space' : ch);
      const value = await page.locator('#notes').inputValue();
      await expect.poll(() => box.getAttribute('data-text'), { timeout: 10_000 }).toBe(value);
      expect(await box.getAttribute('data-error')).toBeNull();
      ms.push(Number(await box.getAttribute('data-model-ms')));
      roundTrip.push(Number(await box.getAttribute('data-ms')));
    }
    return { token: await box.getAttribute('data-token'), ms, roundTrip };
  }

  it('suggests the next word as a person types, and Tab inserts it', async () => {
    await page.goto(server.url);
    await page.click('#notes');
    const { token, ms, roundTrip } = await typeAndRead('It was the ');
    expect(token).toMatch(/^\S+$/);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    console.log(`extension: after "It was the " it suggests "${token}"; per keystroke, the model took median ${median(ms).toFixed(3)} ms ` +
      `(max ${Math.max(...ms).toFixed(3)}), the round trip content script → service worker → back median ${median(roundTrip).toFixed(3)} ms (max ${Math.max(...roundTrip).toFixed(3)}), over ${ms.length} keys`);
    expect(median(ms)).toBeLessThan(5);
    await page.screenshot({ path: join(out, 'extension-suggestion.png') });
    await page.locator('#notes').press('Tab');
    expect(await page.locator('#notes').inputValue()).toBe(`It was the ${token} `);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('notes'); // Tab did not move the focus

    // A partly typed word is completed.
    const { token: completion } = await typeAndRead('and th');
    expect(completion).toMatch(/^th\S+$/);
    await page.locator('#notes').press('Tab');
    expect(await page.locator('#notes').inputValue()).toBe(`It was the ${token} and ${completion} `);
  });

  it('fine-tunes on pasted text in the options page; suggestions then follow it', async () => {
    const options = await ctx.newPage();
    await options.goto(`chrome-extension://${extensionId}/options.html`);
    await expect.poll(() => options.locator('#source').textContent()).toMatch(/bundled/);
    const lesson = Array.from({ length: 60 }, () => 'the committee said that the money would be paid by the state .').join('\n');
    await options.fill('#text', lesson);
    await options.fill('#seconds', '4');
    await options.click('#tune');
    await expect.poll(() => options.locator('#status').getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    const first = Number(await options.locator('#status').getAttribute('data-first'));
    const last = Number(await options.locator('#status').getAttribute('data-last'));
    console.log(`extension: ${await options.locator('#status').textContent()}`);
    expect(last).toBeLessThan(first * 0.5);
    expect(await options.locator('#source').textContent()).toMatch(/fine-tuned/);
    await options.screenshot({ path: join(out, 'extension-options.png') });
    await options.close();

    await page.locator('#notes').fill('');
    const { token } = await typeAndRead('the money would be ');
    expect(token).toBe('paid');
  });
});
