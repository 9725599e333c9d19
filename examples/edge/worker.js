// @ts-check
// A Cloudflare Worker serving next-word predictions and generated text from a
// bundled model (see handler.js for the API and its limits). workerd cannot
// compile wasm from bytes, so the wasm builds are imported as modules and
// passed to init(); the model file is imported as a data module (an ArrayBuffer).
// One thread: workerd has no workers. The model is loaded on the first request
// (a Worker's global scope may not do asynchronous work) and kept for the
// isolate's life.

import { init, loadModel, Predictor } from 'mnemo';
import simd from 'mnemo/wasm/simd.wasm';
import relaxed from 'mnemo/wasm/relaxed.wasm';
import modelFile from './model.safetensors';
import { handlerFromModel } from './handler.js';

/** @type {Promise<(request: Request) => Promise<Response>> | undefined} */
let ready;

export default {
  /** @param {Request} request */
  async fetch(request) {
    ready ??= init({ wasm: { simd, relaxed }, numThreads: 1 })
      .then((rt) => handlerFromModel({ loadModel, Predictor }, rt, new Uint8Array(modelFile)));
    return (await ready)(request);
  },
};
