// The worker test/runtimes/workerd.mjs runs in workerd: its test() handler runs
// the shared GEMM and LM checks on the built package with both builds imported as
// precompiled wasm modules, tries init() with no `wasm` and with plain bytes
// (workerd refuses to compile bytes), and logs the report as one marked line.

import * as mnemo from '../../dist/src/index.js';
import simd from '../../dist/build/mnemo-simd.wasm';
import relaxed from '../../dist/build/mnemo-relaxed.wasm';
import { report, tryInit } from './report.js';

/** Prefix of the line that carries the report; workerd.mjs looks for it. */
const MARK = 'MNEMO_REPORT ';

export default {
  /** @param {unknown} _controller @param {{ RUNTIME_VERSION: string, SIMD_BYTES: ArrayBuffer, LSTM_FIXTURE: ArrayBuffer }} env */
  async test(_controller, env) {
    const result = await report(mnemo, 'workerd', env.RUNTIME_VERSION, { simd, relaxed }, new Uint8Array(env.LSTM_FIXTURE));
    const bytesInit = await tryInit(mnemo, { build: 'simd', wasm: env.SIMD_BYTES });
    console.log(MARK + JSON.stringify({ ...result, bytesInit }));
  },
};
