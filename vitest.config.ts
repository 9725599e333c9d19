import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

function chromiumPath(): string | undefined {
  try {
    return execSync('command -v chromium', { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const chromium = chromiumPath();
if (!chromium && process.env.CI) throw new Error('chromium is not installed: .ci/run installs it with apt-get');

export default defineConfig({
  test: {
    // The JSON report gives .ci/run its closing "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: 'test-output/vitest.json' }]],
    projects: [
      {
        // Node: every test; 'mnemo' is the Node entry (reads the wasm from disk).
        resolve: { alias: { mnemo: here('./src/node.ts') } },
        test: { name: 'node', include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
      },
      ...(chromium ? [{
        // Chromium: the portable tests; 'mnemo' is the portable entry (fetches the wasm).
        resolve: { alias: { mnemo: here('./src/index.ts') } },
        // The corpus tests read ../shared/data (beside the clone, as in CI).
        // COOP + COEP make the test page cross-origin isolated, so the kernels
        // can run on shared memory with worker threads, as on a page that sets them.
        server: {
          fs: { allow: [here('.'), here('../shared')] },
          headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
        },
        test: {
          name: 'chromium',
          include: ['test/portable/**/*.test.ts'],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            instances: [{ browser: 'chromium' as const }],
            provider: playwright({
              launchOptions: {
                executablePath: chromium,
                args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--no-first-run'],
              },
            }),
          },
        },
      }] : []),
    ],
  },
});
