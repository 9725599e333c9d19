// The browser demo (examples/browser), end to end in headless Chromium: builds
// it with Vite, serves the build cross-origin isolated on 127.0.0.1, and drives
// the page as a person would: picks the sample text, trains for a few seconds
// (in the Worker, on threads; the page's main thread must keep ticking), types
// a sentence key by key and reads the suggestions after each key, accepts one
// with Tab, generates text, saves the model file and loads it back (same
// suggestions). Screenshots go to test-output/examples/.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
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

describe.skipIf(!chromiumPath && !process.env.CI)('the browser demo in Chromium', () => {
  let browser: Browser, page: Page, server: Awaited<ReturnType<typeof serveStatic>>;
  const errors: string[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'examples/browser', '--logLevel', 'warn'], { cwd: repo, stdio: 'inherit', timeout: 120_000 });
    server = await serveStatic(join(repo, 'examples/browser/dist'), true);
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 900, height: 1100 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    mkdirSync(out, { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('trains in a Worker on threads, suggests per keystroke, accepts with Tab, generates, saves and loads', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.locator('#runtime').getAttribute('data-threads'), { timeout: 30_000 }).not.toBeNull();
    const threads = Number(await page.locator('#runtime').getAttribute('data-threads'));
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    // Cross-origin isolated: the Worker trains on all cores but one (one is left to the page).
    expect(threads).toBe(Math.max(1, await page.evaluate(() => navigator.hardwareConcurrency) - 1));
    console.log(`browser demo: ${await page.locator('#runtime').textContent()}`);

    await page.selectOption('#sample', 'farm');
    await page.fill('#seconds', '8');
    // The main thread ticks every 20 ms; the largest gap while training says whether the page froze.
    await page.evaluate(() => {
      const w = window as unknown as { maxGap: number; last: number };
      w.maxGap = 0; w.last = performance.now();
      setInterval(() => { const t = performance.now(); w.maxGap = Math.max(w.maxGap, t - w.last); w.last = t; }, 20);
    });
    const t0 = Date.now();
    await page.click('#train');
    // While it trains, the page keeps answering and showing progress (read from the page itself).
    const shown = new Set<string>();
    while (await page.locator('#status').getAttribute('data-state') !== 'trained' && Date.now() - t0 < 60_000) {
      shown.add((await page.locator('#status').textContent()) ?? '');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await page.locator('#status').getAttribute('data-state')).toBe('trained');
    const progressShown = [...shown].filter((t) => /^step \d+ · loss/.test(t)).length;
    console.log(`browser demo: ${progressShown} distinct progress lines seen while training`);
    expect(progressShown).toBeGreaterThanOrEqual(3);
    const maxGap = await page.evaluate(() => (window as unknown as { maxGap: number }).maxGap);
    const status = await page.locator('#status').textContent();
    console.log(`browser demo: ${status} (wall ${(Date.now() - t0) / 1000} s; the page's largest timer gap while training: ${maxGap.toFixed(0)} ms)`);
    // The page never freezes: with all cores training (2 here) its thread starved for seconds
    // under load; with one core left to it, the largest gap measured 33 ms under load 5.
    // The bound leaves room for a busy CI machine, far below a freeze.
    expect(maxGap).toBeLessThan(1500);
    // The loss curve fell: the chart's data are in the page.
    const steps = Number(/(\d+) steps/.exec(status ?? '')?.[1]);
    expect(steps).toBeGreaterThan(20);
    await page.screenshot({ path: join(out, 'browser-trained.png') });

    // Type key by key; after each key the suggestions are for exactly the text typed.
    const typed = 'the cat sleeps in the ';
    const seen: string[][] = [];
    for (const ch of typed) {
      await page.locator('#typing').press(ch === ' ' ? 'Space' : ch);
      const value = await page.locator('#typing').inputValue();
      await expect.poll(() => page.locator('#suggestions').getAttribute('data-text')).toBe(value);
      seen.push(await page.locator('#suggestions li').evaluateAll((lis) => lis.map((li) => li.firstChild?.textContent ?? '')));
    }
    expect(seen.every((s) => s.length > 0)).toBe(true);
    expect(new Set(seen.map((s) => s.join())).size).toBeGreaterThan(3); // they change as the text changes
    // After "the cat sleeps in the", a model of these sentences suggests a place.
    const last = seen.at(-1)!;
    expect(['garden', 'house', 'field', 'forest', 'river', 'barn']).toContain(last[0]);
    // After a partly typed word, the suggestions complete it.
    await page.locator('#typing').pressSequentially('gar');
    await expect.poll(() => page.locator('#suggestions').getAttribute('data-text')).toBe(typed + 'gar');
    expect(await page.locator('#suggestions li').first().evaluate((li) => li.firstChild?.textContent)).toBe('garden');
    await page.locator('#typing').press('Tab');
    expect(await page.locator('#typing').inputValue()).toBe(typed + 'garden ');
    const ms = Number(await page.locator('#suggestions').getAttribute('data-ms'));
    console.log(`browser demo: suggestions per keystroke; the last took ${ms} ms in the Worker`);

    await page.click('#generate');
    await expect.poll(() => page.locator('#generated').textContent()).toMatch(/^the cat sleeps in the garden \S+/);
    const before = await page.locator('#suggestions li').evaluateAll((lis) => lis.map((li) => li.textContent));
    await page.screenshot({ path: join(out, 'browser-demo.png') });

    // Save, then load the file back: the same suggestions.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const file = join(out, 'browser-model.safetensors');
    await download.saveAs(file);
    expect(readFileSync(file).length).toBeGreaterThan(1000);
    await page.setInputFiles('#load', file);
    await expect.poll(() => page.locator('#status').getAttribute('data-state')).toBe('loaded');
    await page.locator('#typing').press('End');
    await page.locator('#typing').press('Backspace');
    await page.locator('#typing').press('Space');
    await expect.poll(() => page.locator('#suggestions li').evaluateAll((lis) => lis.map((li) => li.textContent))).toEqual(before);
    expect(errors).toEqual([]);
  });
});
