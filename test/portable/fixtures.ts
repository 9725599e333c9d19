// Loads a PyTorch parity fixture from test/fixtures/ (written by scripts/make-fixtures.py),
// the way this runtime can: node:fs in Node, fetch from the test server in browsers.
import { readSafetensors } from 'mnemo';

/** Reads and parses test/fixtures/<name> (e.g. 'lstm.safetensors'). */
export async function loadFixture(name: string): Promise<ReturnType<typeof readSafetensors>> {
  const url = new URL('../fixtures/' + name, import.meta.url);
  if (typeof process !== 'undefined' && process.versions?.node) {
    const fs = await import('node:fs/promises');
    return readSafetensors(new Uint8Array(await fs.readFile(url)));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fixture ${name}: HTTP ${response.status} from ${url.href}`);
  return readSafetensors(new Uint8Array(await response.arrayBuffer()));
}
