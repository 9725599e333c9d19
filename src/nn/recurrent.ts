// RNN, LSTM and GRU layers with PyTorch's arguments, shapes, parameter names
// and layouts, stacked (numLayers) and bidirectional, on the fused window
// kernels of assembly/rnn.ts, lstm.ts and gru.ts.
//
// forward(input, state?) → { output, h, c? }   output (T, B, D·H) ((B, T, D·H) with batchFirst),
//                                               h and c (D·L, B, H)
// backward(gradOutput, gradState?) → { input, h, c? }: gradients w.r.t. the
// input and the initial states; parameter gradients are accumulated.
//
// Per layer and direction: one GEMM projects the whole window's input (plus
// biases), the kernel runs the time loop with W_hh packed once, and backward
// forms dW_ih, dW_hh and dx with one GEMM each after its time loop. Returned
// tensors are buffers of the layer, valid until its next forward/backward.

import { MnemoError, ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { Random } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Module, type Parameter } from './module.js';

/** Options shared by RNN, LSTM and GRU (PyTorch's names and defaults). */
export interface RecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training mode. */
  dropout?: number;
  bidirectional?: boolean;
  /** Seed of the initialisation (U(±1/√hiddenSize)) and of the dropout masks. */
  seed?: number;
}

/** Options of RNN: also the nonlinearity. */
export interface RNNOptions extends RecurrentOptions {
  nonlinearity?: 'tanh' | 'relu';
}

/** Initial or final states: h (and c for LSTM), each (D·numLayers, B, H). */
export interface RecurrentState {
  h: Tensor;
  c?: Tensor;
}

/** What forward returns. */
export interface RecurrentOutput extends RecurrentState {
  output: Tensor;
}

/** What backward returns: gradients w.r.t. the input and the initial states. */
export interface RecurrentGrad extends RecurrentState {
  input: Tensor;
}

type Cell = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';

interface Weights { wih: Parameter; whh: Parameter; bih?: Parameter; bhh?: Parameter }

const FLOAT = 4;

/** The shared machinery of RNN, LSTM and GRU. */
export abstract class RecurrentBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** Gates per unit: 1 (RNN), 4 (LSTM), 3 (GRU). */
  private readonly gates: number;
  private readonly weights: Weights[] = [];
  private readonly dropoutSeed: number;
  /** Position of the between-layer dropout masks (advances with every masked element); save and restore it for a bit-exact resume. */
  dropoutCounter = 0;
  private saved?: { t: number; b: number; input: Tensor; dropped: boolean[] };

  protected constructor(runtime: Runtime, private readonly cell: Cell, options: RecurrentOptions) {
    super(runtime);
    const { inputSize, hiddenSize } = options;
    const numLayers = options.numLayers ?? 1, dropout = options.dropout ?? 0;
    for (const [name, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize], ['numLayers', numLayers]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${name} must be a positive integer, got ${v}`);
    }
    if (!(dropout >= 0 && dropout < 1)) throw new MnemoError(`dropout must be in [0, 1), got ${dropout}`);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = dropout;
    this.bidirectional = options.bidirectional ?? false;
    this.gates = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
    const rng = new Random(options.seed ?? 0);
    this.dropoutSeed = rng.nextUint32();
    const k = 1 / Math.sqrt(hiddenSize);
    const init = (v: Float32Array): void => rng.fillUniform(v, -k, k);
    const D = this.directions, G = this.gates * hiddenSize;
    for (let l = 0; l < numLayers; l++) {
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const inDim = l === 0 ? inputSize : D * hiddenSize;
        const w: Weights = {
          wih: this.addParameter(`weight_ih${sfx}`, [G, inDim], init),
          whh: this.addParameter(`weight_hh${sfx}`, [G, hiddenSize], init),
        };
        if (this.bias) {
          w.bih = this.addParameter(`bias_ih${sfx}`, [G], init);
          w.bhh = this.addParameter(`bias_hh${sfx}`, [G], init);
        }
        this.weights.push(w);
      }
    }
  }

  /** 2 when bidirectional, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  private get isLstm(): boolean {
    return this.cell === 'lstm';
  }

  /** Runs the layers over a window. input (T, B, inputSize), or (B, T, inputSize) with batchFirst. */
  forward(input: Tensor, state?: RecurrentState): RecurrentOutput {
    const rt = this.runtime, k = rt.kernels;
    rt.check(input, `${this.constructor.name}.forward: input`);
    if (input.shape.length !== 3 || input.shape[2] !== this.inputSize) {
      throw new ShapeError(`${this.constructor.name}.forward: input must be ${this.batchFirst ? '(B, T, ' : '(T, B, '}` +
        `${this.inputSize}), got [${input.shape.join(', ')}]`);
    }
    const [t, b] = this.batchFirst ? [input.shape[1]!, input.shape[0]!] : [input.shape[0]!, input.shape[1]!];
    if (t === 0 || b === 0) throw new ShapeError(`${this.constructor.name}.forward: empty input [${input.shape.join(', ')}]`);
    const H = this.hiddenSize, D = this.directions, L = this.numLayers, G = this.gates * H;
    const stateShape = [D * L, b, H];
    this.checkState(state?.h, stateShape, 'state.h');
    if (this.isLstm) this.checkState(state?.c, stateShape, 'state.c');
    else if (state?.c) throw new ShapeError(`${this.constructor.name}.forward: state.c is only for LSTM`);

    const x0 = this.batchFirst ? this.swapTB(input, this.buffer('input_tb', [t, b, this.inputSize])) : input;
    // Initial states, copied: backward needs them, and the caller may reuse its tensors.
    const h0s = this.buffer('h0', stateShape), c0s = this.isLstm ? this.buffer('c0', stateShape) : undefined;
    if (state) h0s.data.set(state.h.data); else h0s.data.fill(0);
    if (c0s) { if (state?.c) c0s.data.set(state.c.data); else c0s.data.fill(0); }
    const hN = this.buffer('h_n', stateShape);
    const cN = this.isLstm ? this.buffer('c_n', stateShape) : undefined;
    const zeros = this.buffer('zeros', [G]); // b_hh of a bias-less GRU
    zeros.data.fill(0);
    const dropped: boolean[] = [];
    let x = x0;
    for (let l = 0; l < L; l++) {
      const inDim = l === 0 ? this.inputSize : D * H;
      const out = this.buffer(`out_l${l}`, [t, b, D * H]);
      for (let d = 0; d < D; d++) {
        const w = this.weights[l * D + d]!, idx = l * D + d, tag = `l${l}d${d}`;
        const g = this.buffer(`gates_${tag}`, [t * b, G]);
        // Input projection for the whole window, plus the biases (GRU keeps b_hh for the cell).
        k.gemm_nt(t * b, G, inDim, 1, x.offset, inDim, w.wih.value.offset, inDim, 0, g.offset, G, rt.gemmWork);
        if (w.bih) k.bias_add_rows(g.offset, G, w.bih.value.offset, t * b, G);
        if (w.bhh && this.cell !== 'gru') k.bias_add_rows(g.offset, G, w.bhh.value.offset, t * b, G);
        const packed = b > 1 ? this.buffer(`pack_${tag}`, [k.gemm_packed_b_floats(H, G)]) : undefined;
        if (packed) k.gemm_pack_b(1, H, G, w.whh.value.offset, H, packed.offset);
        const h0 = h0s.offset + idx * b * H * FLOAT;
        const outD = out.offset + d * H * FLOAT, rev = d;
        const p = packed?.offset ?? 0;
        if (this.cell === 'lstm') {
          const c0 = c0s!.offset + idx * b * H * FLOAT;
          const cs = this.buffer(`cs_${tag}`, [t, b, H]);
          k.lstm_forward(t, b, H, g.offset, w.whh.value.offset, p, h0, c0, outD, D * H, cs.offset, rev, rt.gemmWork);
          cN!.data.set(cs.data.subarray((rev ? 0 : t - 1) * b * H, (rev ? 1 : t) * b * H), idx * b * H);
        } else if (this.cell === 'gru') {
          const hn = this.buffer(`hn_${tag}`, [t, b, H]), gh = this.buffer('gh', [b, G]);
          const bhh = w.bhh?.value.offset ?? zeros.offset;
          k.gru_forward(t, b, H, g.offset, w.whh.value.offset, p, bhh, gh.offset, hn.offset, h0, outD, D * H, rev, rt.gemmWork);
        } else {
          k.rnn_forward(t, b, H, g.offset, w.whh.value.offset, p, h0, outD, D * H, this.cell === 'rnn_relu' ? 1 : 0, rev, rt.gemmWork);
        }
        // h_n: the state after the last processed step (t = T−1 forward, t = 0 reverse).
        copyRows(out.data, ((rev ? 0 : t - 1) * b) * D * H + d * H, D * H, hN.data, idx * b * H, H, b, H);
      }
      dropped.push(l < L - 1 && this.training && this.dropout > 0);
      x = dropped[l] ? this.applyDropout(out, `drop_l${l}`) : out;
    }
    this.saved = { t, b, input: x0, dropped };
    const last = this.buffer(`out_l${L - 1}`, [t, b, D * H]);
    const output = this.batchFirst ? this.swapTB(last, this.buffer('output_bt', [b, t, D * H])) : last;
    return cN ? { output, h: hN, c: cN } : { output, h: hN };
  }

  /**
   * Backpropagation through the window of the last forward. gradOutput has the
   * output's shape; gradState (optional) holds gradients w.r.t. the final h (and c).
   */
  backward(gradOutput: Tensor, gradState?: Partial<RecurrentState>): RecurrentGrad {
    const rt = this.runtime, k = rt.kernels;
    const saved = this.saved;
    if (!saved) throw new MnemoError(`${this.constructor.name}.backward: call forward first`);
    rt.check(gradOutput, `${this.constructor.name}.backward: gradOutput`);
    const { t, b } = saved;
    const H = this.hiddenSize, D = this.directions, L = this.numLayers, G = this.gates * H;
    const outShape = this.batchFirst ? [b, t, D * H] : [t, b, D * H];
    if (gradOutput.shape.join() !== outShape.join()) {
      throw new ShapeError(`${this.constructor.name}.backward: gradOutput must be [${outShape.join(', ')}], got [${gradOutput.shape.join(', ')}]`);
    }
    const stateShape = [D * L, b, H];
    this.checkState(gradState?.h, stateShape, 'gradState.h');
    if (this.isLstm) this.checkState(gradState?.c, stateShape, 'gradState.c');
    const gH0 = this.buffer('grad_h0', stateShape);
    const gC0 = this.isLstm ? this.buffer('grad_c0', stateShape) : undefined;
    if (gradState?.h) gH0.data.set(gradState.h.data); else gH0.data.fill(0);
    if (gC0) { if (gradState?.c) gC0.data.set(gradState.c.data); else gC0.data.fill(0); }

    let dOut = this.batchFirst ? this.swapTB(gradOutput, this.buffer('grad_out_tb', [t, b, D * H])) : gradOutput;
    for (let l = L - 1; l >= 0; l--) {
      const inDim = l === 0 ? this.inputSize : D * H;
      const x = l === 0 ? saved.input : saved.dropped[l - 1] ? this.buffer(`drop_l${l - 1}`, [t, b, D * H]) : this.buffer(`out_l${l - 1}`, [t, b, D * H]);
      const out = this.buffer(`out_l${l}`, [t, b, D * H]);
      const dX = this.buffer(l === 0 ? 'grad_input_tb' : `grad_x_l${l}`, [t, b, inDim]);
      for (let d = 0; d < D; d++) {
        const w = this.weights[l * D + d]!, idx = l * D + d, tag = `l${l}d${d}`, rev = d;
        const g = this.buffer(`gates_${tag}`, [t * b, G]);
        const packedT = b > 1 ? this.buffer(`packT_${tag}`, [k.gemm_packed_b_floats(G, H)]) : undefined;
        if (packedT) k.gemm_pack_b(0, G, H, w.whh.value.offset, H, packedT.offset);
        const p = packedT?.offset ?? 0;
        const dh0 = gH0.offset + idx * b * H * FLOAT;
        const h0 = this.buffer('h0', stateShape).offset + idx * b * H * FLOAT;
        const dOutD = dOut.offset + d * H * FLOAT, outD = out.offset + d * H * FLOAT;
        let dGh = g; // gradient of the hidden-side pre-activations
        if (this.cell === 'lstm') {
          const cs = this.buffer(`cs_${tag}`, [t, b, H]);
          const c0 = this.buffer('c0', stateShape).offset + idx * b * H * FLOAT;
          k.lstm_backward(t, b, H, g.offset, cs.offset, c0, dOutD, D * H, w.whh.value.offset, p,
            dh0, gC0!.offset + idx * b * H * FLOAT, rev, rt.gemmWork);
        } else if (this.cell === 'gru') {
          const hn = this.buffer(`hn_${tag}`, [t, b, H]);
          dGh = this.buffer('dgh', [t * b, G]);
          k.gru_backward(t, b, H, g.offset, hn.offset, h0, outD, D * H, dOutD, D * H, w.whh.value.offset, p,
            dGh.offset, dh0, rev, rt.gemmWork);
        } else {
          k.rnn_backward(t, b, H, g.offset, outD, D * H, dOutD, D * H, w.whh.value.offset, p, dh0,
            this.cell === 'rnn_relu' ? 1 : 0, rev, rt.gemmWork);
        }
        // dW_ih += dGᵀ·x   (G, T·B)·(T·B, inDim)
        k.gemm_tn(G, inDim, t * b, 1, g.offset, G, x.offset, inDim, 1, w.wih.grad.offset, inDim, rt.gemmWork);
        // dW_hh += dGhᵀ·h_prev: h_prev is out shifted by one step, and h0 at the first processed step.
        const rows = (t - 1) * b, first = rev ? t - 1 : 0;
        if (rows > 0) {
          const gRows = dGh.offset + (rev ? 0 : b) * G * FLOAT;
          const hRows = outD + (rev ? b : 0) * D * H * FLOAT;
          k.gemm_tn(G, H, rows, 1, gRows, G, hRows, D * H, 1, w.whh.grad.offset, H, rt.gemmWork);
        }
        k.gemm_tn(G, H, b, 1, dGh.offset + first * b * G * FLOAT, G, h0, H, 1, w.whh.grad.offset, H, rt.gemmWork);
        if (w.bih) k.bias_grad_rows(g.offset, G, w.bih.grad.offset, t * b, G);
        if (w.bhh) k.bias_grad_rows(dGh.offset, G, w.bhh.grad.offset, t * b, G);
        // dx (+)= dG·W_ih   (T·B, G)·(G, inDim)
        k.gemm_nn(t * b, inDim, G, 1, g.offset, G, w.wih.value.offset, inDim, d === 0 ? 0 : 1, dX.offset, inDim, rt.gemmWork);
      }
      if (l > 0) dOut = saved.dropped[l - 1] ? this.dropoutBackward(dX, `drop_l${l - 1}`) : dX;
      else dOut = dX;
    }
    const input = this.batchFirst ? this.swapTB(dOut, this.buffer('grad_input_bt', [b, t, this.inputSize])) : dOut;
    return gC0 ? { input, h: gH0, c: gC0 } : { input, h: gH0 };
  }

  private checkState(s: Tensor | undefined, shape: number[], what: string): void {
    if (s === undefined) return;
    this.runtime.check(s, `${this.constructor.name}: ${what}`);
    if (s.shape.join() !== shape.join()) {
      throw new ShapeError(`${this.constructor.name}: ${what} must be [${shape.join(', ')}] (D·numLayers, B, H), got [${s.shape.join(', ')}]`);
    }
  }

  /** Copies x (A, B, F) into y (B, A, F). */
  private swapTB(x: Tensor, y: Tensor): Tensor {
    const [a, b, f] = x.shape as [number, number, number];
    const src = x.data, dst = y.data;
    for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) dst.set(src.subarray((i * b + j) * f, (i * b + j + 1) * f), (j * a + i) * f);
    return y;
  }

  private applyDropout(x: Tensor, name: string): Tensor {
    const y = this.buffer(name, x.shape), mask = this.buffer(`${name}_mask`, x.shape);
    this.runtime.kernels.dropout_forward(x.offset, y.offset, mask.offset, x.size, this.dropout, this.dropoutSeed, this.dropoutCounter);
    this.dropoutCounter = (this.dropoutCounter + x.size) >>> 0;
    return y;
  }

  private dropoutBackward(dy: Tensor, name: string): Tensor {
    const mask = this.buffer(`${name}_mask`, dy.shape);
    this.runtime.kernels.dropout_backward(dy.offset, dy.offset, mask.offset, dy.size);
    return dy;
  }
}

/** Copies `rows` rows of `cols` floats from src (start, stride ss) to dst (start, stride ds). */
function copyRows(src: Float32Array, s0: number, ss: number, dst: Float32Array, d0: number, ds: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) dst.set(src.subarray(s0 + r * ss, s0 + r * ss + cols), d0 + r * ds);
}

/** Elman RNN (tanh or ReLU), as torch.nn.RNN. */
export class RNN extends RecurrentBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(runtime: Runtime, options: RNNOptions) {
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new MnemoError(`nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(nl)}`);
    super(runtime, nl === 'relu' ? 'rnn_relu' : 'rnn_tanh', options);
    this.nonlinearity = nl;
  }
}

/** Long short-term memory, as torch.nn.LSTM (gates i, f, g, o). */
export class LSTM extends RecurrentBase {
  constructor(runtime: Runtime, options: RecurrentOptions) {
    super(runtime, 'lstm', options);
  }
}

/** Gated recurrent unit, as torch.nn.GRU (gates r, z, n; b_hn inside the reset product). */
export class GRU extends RecurrentBase {
  constructor(runtime: Runtime, options: RecurrentOptions) {
    super(runtime, 'gru', options);
  }
}
