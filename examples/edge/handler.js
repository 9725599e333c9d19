// @ts-check
// The HTTP API of the edge example, shared by the Cloudflare Worker
// (worker.js), the Deno server (../deno/server.js) and the Bun server
// (../bun/server.js): a fetch-style handler over one loaded model.
//
//   GET  /predict?text=…&k=5     → { text, suggestions: [{ token, prob }], ms }
//   POST /generate  (JSON body { prompt, maxTokens?, temperature?, topK?, topP?, seed? })
//                                → { prompt, text, ms }
//   GET  /                       → { model: config, vocabSize, build }
//
// Input limits (LIMITS below) and bad input give a 4xx JSON { error } naming
// what was wrong: 400 bad parameter or JSON, 404 unknown path, 405 wrong method,
// 413 text or body too large, 415 body not JSON. Nothing user-sent reaches the
// model unchecked.

/** The limits of one request. */
export const LIMITS = Object.freeze({
  /** Longest `text` of /predict and `prompt` of /generate, in UTF-8 bytes. */
  maxTextBytes: 2048,
  /** Largest POST body, in bytes. */
  maxBodyBytes: 8192,
  /** Most suggestions (`k`). */
  maxK: 20,
  /** Most tokens /generate samples. */
  maxTokens: 200,
});

/** An error answered as a 4xx JSON response. */
export class RequestError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.name = 'RequestError';
    this.status = status;
  }
}

const encoder = new TextEncoder();

/** @param {number} status @param {unknown} body */
function json(status, body) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'access-control-allow-origin': '*' },
  });
}

/** Checks a text/prompt: a string within the byte limit. @param {unknown} v @param {string} name */
function checkText(v, name) {
  if (typeof v !== 'string') throw new RequestError(400, `${name} must be a string, got ${v === null ? 'null' : typeof v}`);
  const bytes = encoder.encode(v).length;
  if (bytes > LIMITS.maxTextBytes) throw new RequestError(413, `${name} is ${bytes} bytes; the limit is ${LIMITS.maxTextBytes}`);
  return v;
}

/**
 * A number parameter: undefined → the default; else a finite number in [min, max]
 * (an integer when `integer`).
 * @param {unknown} v @param {string} name @param {{ min: number, max: number, integer?: boolean, def?: number, minExclusive?: boolean }} o
 */
function checkNumber(v, name, o) {
  if (v === undefined) return o.def;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new RequestError(400, `${name} must be a number, got ${JSON.stringify(v)}`);
  if (o.integer && !Number.isInteger(n)) throw new RequestError(400, `${name} must be an integer, got ${n}`);
  if ((o.minExclusive ? n <= o.min : n < o.min) || n > o.max) {
    throw new RequestError(400, `${name} must be in ${o.minExclusive ? '(' : '['}${o.min}, ${o.max}], got ${n}`);
  }
  return n;
}

/** Reads a POST body as a JSON object, within the size limit. @param {Request} request */
async function readJson(request) {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new RequestError(415, `the body must be JSON (content-type: application/json), got ${JSON.stringify(type || 'none')}`);
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > LIMITS.maxBodyBytes) throw new RequestError(413, `the body is ${declared} bytes; the limit is ${LIMITS.maxBodyBytes}`);
  // Read at most maxBodyBytes + 1 bytes, whatever content-length said.
  const chunks = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > LIMITS.maxBodyBytes) {
        await reader.cancel();
        throw new RequestError(413, `the body is over ${LIMITS.maxBodyBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) { bytes.set(c, off); off += c.length; }
  let body;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new RequestError(400, `the body is not valid JSON: ${/** @type {Error} */ (e).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new RequestError(400, 'the body must be a JSON object');
  return body;
}

/**
 * Makes the request handler over a loaded model.
 * @param {any} predictor a mnemo Predictor over the model
 * @param {{ config: object, build: string }} info what GET / reports
 * @returns {(request: Request) => Promise<Response>}
 */
export function createHandler(predictor, info) {
  const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
  return async (request) => {
    try {
      const url = new URL(request.url);
      if (url.pathname === '/') {
        if (request.method !== 'GET') throw new RequestError(405, `${url.pathname} takes GET, not ${request.method}`);
        return json(200, { ...info, endpoints: ['GET /predict?text=…&k=5', 'POST /generate'], limits: LIMITS });
      }
      if (url.pathname === '/predict') {
        if (request.method !== 'GET') throw new RequestError(405, `/predict takes GET, not ${request.method}`);
        for (const key of url.searchParams.keys()) {
          if (key !== 'text' && key !== 'k') throw new RequestError(400, `unknown parameter ${JSON.stringify(key)} (text, k)`);
        }
        const raw = url.searchParams.get('text');
        if (raw === null) throw new RequestError(400, 'missing parameter text');
        const text = checkText(raw, 'text');
        const k = checkNumber(url.searchParams.get('k') ?? undefined, 'k', { min: 1, max: LIMITS.maxK, integer: true, def: 5 });
        const t0 = now();
        const suggestions = predictor.predictNextText(text, { topK: k, partial: true })
          .map((/** @type {{ token: string, prob: number }} */ p) => ({ token: p.token, prob: p.prob }));
        return json(200, { text, suggestions, ms: now() - t0 });
      }
      if (url.pathname === '/generate') {
        if (request.method !== 'POST') throw new RequestError(405, `/generate takes POST, not ${request.method}`);
        const body = await readJson(request);
        const allowed = ['prompt', 'maxTokens', 'temperature', 'topK', 'topP', 'seed'];
        for (const key of Object.keys(body)) {
          if (!allowed.includes(key)) throw new RequestError(400, `unknown field ${JSON.stringify(key)} (${allowed.join(', ')})`);
        }
        const prompt = checkText(body.prompt ?? '', 'prompt');
        const options = {
          maxTokens: checkNumber(body.maxTokens, 'maxTokens', { min: 1, max: LIMITS.maxTokens, integer: true, def: 30 }),
          temperature: checkNumber(body.temperature, 'temperature', { min: 0, max: 10, minExclusive: true, def: 0.8 }),
          topK: checkNumber(body.topK, 'topK', { min: 1, max: 1000, integer: true, def: 40 }),
          topP: checkNumber(body.topP, 'topP', { min: 0, max: 1, minExclusive: true, def: 0.95 }),
          seed: checkNumber(body.seed, 'seed', { min: 0, max: 2 ** 31 - 1, integer: true, def: 0 }),
        };
        const t0 = now();
        const text = predictor.generate(prompt, options);
        return json(200, { prompt, text, ms: now() - t0 });
      }
      throw new RequestError(404, `no such path ${url.pathname} (GET /predict, POST /generate)`);
    } catch (e) {
      if (e instanceof RequestError) return json(e.status, { error: e.message });
      return json(500, { error: `internal error: ${/** @type {Error} */ (e)?.message ?? e}` });
    }
  };
}

/**
 * Loads a model file and makes the handler.
 * @param {any} mnemo the mnemo module
 * @param {any} rt a mnemo Runtime
 * @param {Uint8Array} modelBytes a model file (safetensors, from `mnemo train`)
 */
export function handlerFromModel(mnemo, rt, modelBytes) {
  const { model, tokenizer, config } = mnemo.loadModel(rt, modelBytes);
  const predictor = new mnemo.Predictor(model, tokenizer);
  return createHandler(predictor, { config, build: rt.build });
}
