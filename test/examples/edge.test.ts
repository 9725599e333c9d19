// The edge example's API (examples/edge/handler.js) served three ways, each
// started as a child process on 127.0.0.1 and called over HTTP: the Cloudflare
// Worker in workerd (examples/edge/serve.mjs --config-only gives the config;
// the workerd binary is started directly), the Deno server and the Bun server.
// Each must give the same next-word suggestions as the model loaded in Node,
// seeded generation must repeat, and bad input must get the documented 4xx.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, loadModel, Predictor } from 'mnemo';
import { binary, freePort, makeModel, repo, startServer, type Server } from './servers.js';

const MODEL = join(repo, 'examples/models/brown-small.safetensors');
const tmp = mkdtempSync(join(tmpdir(), 'mnemo-edge-test-'));

const launchers: Record<string, (port: number) => [string, string[]]> = {
  workerd: (port) => {
    const config = execFileSync(process.execPath, ['examples/edge/serve.mjs', '--port', String(port), '--config-only'], { cwd: repo, encoding: 'utf8' });
    writeFileSync(join(tmp, 'config.capnp'), config);
    return [binary('workerd'), ['serve', '-I', repo, join(tmp, 'config.capnp')]];
  },
  deno: (port) => [binary('deno'), ['run', '--no-prompt', `--allow-read=${repo}`, '--allow-net=127.0.0.1', 'examples/deno/server.js', MODEL, '--port', String(port)]],
  bun: (port) => [binary('bun'), ['run', 'examples/bun/server.js', MODEL, '--port', String(port)]],
};

beforeAll(() => makeModel(), 200_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The reference: the same model file in Node, through the same Predictor. */
async function reference(text: string, k: number): Promise<{ token: string; prob: number }[]> {
  const rt = await init({ numThreads: 1 });
  const { model, tokenizer } = loadModel(rt, new Uint8Array(readFileSync(MODEL)));
  return new Predictor(model, tokenizer).predictNextText(text, { topK: k, partial: true }).map(({ token, prob }) => ({ token, prob }));
}

describe.each(Object.keys(launchers))('the edge API in %s', (runtime) => {
  let server: Server;
  beforeAll(async () => {
    const port = await freePort();
    const [file, args] = launchers[runtime]!(port);
    server = await startServer(file, args, `http://127.0.0.1:${port}/`);
  }, 60_000);
  afterAll(async () => { await server?.stop(); });

  const get = async (path: string) => {
    const r = await fetch(server.url.replace(/\/$/, '') + path);
    return { status: r.status, body: await r.json() as Record<string, any> };
  };
  const post = async (path: string, body: string, type = 'application/json') => {
    const r = await fetch(server.url.replace(/\/$/, '') + path, { method: 'POST', body, headers: { 'content-type': type } });
    return { status: r.status, body: await r.json() as Record<string, any> };
  };

  it('GET / describes the model and the build', async () => {
    const { status, body } = await get('/');
    expect(status).toBe(200);
    expect(['simd', 'relaxed']).toContain(body.build);
    expect(body.config.cell).toBe('lstm');
    console.log(`${runtime}: serving with the ${body.build} build`);
  });

  it('GET /predict gives the suggestions the model gives in Node', async () => {
    for (const text of ['The jury said that', 'It was the', 'He went to the sto']) {
      const { status, body } = await get(`/predict?text=${encodeURIComponent(text)}&k=5`);
      expect(status, JSON.stringify(body)).toBe(200);
      const want = await reference(text, 5);
      expect(body.suggestions.map((s: { token: string }) => s.token)).toEqual(want.map((s) => s.token));
      body.suggestions.forEach((s: { prob: number }, i: number) => expect(s.prob).toBeCloseTo(want[i]!.prob, 5));
      expect(body.ms).toBeGreaterThanOrEqual(0);
    }
    // A partly typed word: every suggestion completes it.
    const { body } = await get('/predict?text=In%20the%20th&k=3');
    expect(body.suggestions.length).toBeGreaterThan(0);
    for (const s of body.suggestions) expect(s.token.startsWith('th')).toBe(true);
  });

  it('POST /generate samples text, the same for the same seed', async () => {
    const req = JSON.stringify({ prompt: 'The', maxTokens: 12, seed: 7, temperature: 0.9 });
    const a = await post('/generate', req), b = await post('/generate', req);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body.text.split(/\s+/).filter(Boolean).length).toBeGreaterThanOrEqual(1);
    expect(b.body.text).toBe(a.body.text);
  });

  it('answers bad input with a 4xx naming what was wrong', async () => {
    const cases: [() => Promise<{ status: number; body: Record<string, any> }>, number, RegExp][] = [
      [() => get('/predict'), 400, /missing parameter text/],
      [() => get('/predict?text=a&k=0'), 400, /k must be in \[1, 20\]/],
      [() => get('/predict?text=a&k=abc'), 400, /k must be a number/],
      [() => get('/predict?text=a&k=2.5'), 400, /k must be an integer/],
      [() => get('/predict?text=a&foo=1'), 400, /unknown parameter "foo"/],
      [() => get(`/predict?text=${'a'.repeat(2049)}`), 413, /text is 2049 bytes; the limit is 2048/],
      [() => post('/generate', '{"prompt": "The",'), 400, /not valid JSON/],
      [() => post('/generate', '[1, 2]'), 400, /must be a JSON object/],
      [() => post('/generate', 'prompt=The', 'text/plain'), 415, /must be JSON/],
      [() => post('/generate', JSON.stringify({ prompt: 'x'.repeat(9000) })), 413, /body .*8192/],
      [() => post('/generate', JSON.stringify({ prompt: 'The', maxTokens: 1000 })), 400, /maxTokens must be in \[1, 200\]/],
      [() => post('/generate', JSON.stringify({ prompt: 'The', temperature: 0 })), 400, /temperature must be in \(0, 10\]/],
      [() => post('/generate', JSON.stringify({ prompt: 5 })), 400, /prompt must be a string, got number/],
      [() => post('/generate', JSON.stringify({ prompt: 'The', evil: true })), 400, /unknown field "evil"/],
      [() => get('/generate'), 405, /\/generate takes POST/],
      [() => get('/nope'), 404, /no such path \/nope/],
    ];
    for (const [call, status, message] of cases) {
      const r = await call();
      expect({ status: r.status, error: r.body.error }).toEqual({ status, error: expect.stringMatching(message) });
    }
    // Still serving after all that.
    expect((await get('/predict?text=The')).status).toBe(200);
  });
});
