#!/usr/bin/python3
"""PyTorch parity fixtures for mnemo.

Regenerate (from the repository root, with Debian's python3-torch; the pyenv
`python3` on PATH has no torch):

    /usr/bin/python3 scripts/make-fixtures.py

Writes safetensors files into test/fixtures/ (the format is written by hand
below, so the `safetensors` Python package is not needed):

  rnn_tanh.safetensors, rnn_relu.safetensors, lstm.safetensors, gru.safetensors
      Recurrent layer parity: forward outputs, final states, and the gradients
      of loss = sum(output*grad_output) + sum(h_n*grad_h_n) [+ sum(c_n*grad_c_n)]
      with respect to the input, the initial states and every parameter.
      The cases are described in __metadata__['cases'], a JSON array of
      {id, cell, nonlinearity (rnn only), inputSize, hiddenSize, numLayers,
      bidirectional, batchFirst, bias, seqLen, batch}. Case ids:
      l1_uni_bf0 l1_uni_bf1 l1_bi_bf0 l1_bi_bf1 l2_uni_bf0 l2_bi_bf0 l1_uni_bf0_nobias
      Tensors, all F32, named '<case id>/<name>' (D = 2 if bidirectional, L = layers):
        weight_ih_l{k}[_reverse], weight_hh_l{k}[_reverse],
        bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse]   PyTorch's parameters
        input        (T, B, I), or (B, T, I) when batchFirst
        h0, c0       (L*D, B, H) whatever batchFirst says; c0 for LSTM only
        grad_output  same shape as output
        grad_h_n, grad_c_n                                (L*D, B, H)
        output       (T, B, D*H), or (B, T, D*H) when batchFirst
        h_n, c_n     (L*D, B, H)
        grad_input, grad_h0, grad_c0                      shapes of input, h0, c0
        grad.<parameter name>                             e.g. grad.weight_ih_l0

  optim.safetensors
      Optimizer parity: nn.LSTM(5, 7), 10 steps of zero_grad, forward,
      backward, clip_grad_norm_(max_norm=0.5), step() for Adam, AdamW,
      SGD+momentum and SGD+Nesterov+weight decay. Described in
      __metadata__['runs'] and __metadata__['problem']. Tensors:
        init/<parameter>            initial parameters (every run starts here)
        input (T=4, B=2, 5), grad_output (4, 2, 7)   loss = sum(output*grad_output)
        <run>/step1/<parameter>, <run>/step10/<parameter>   after optimizer.step()
        <run>/grad_norm (10,)       total norm returned by clip_grad_norm_ (before clipping)
        <run>/loss (10,)            loss at each step (before that step's update)
      with <run> in adam, adamw, sgd_momentum, sgd_nesterov_wd.

Deterministic: float32 everywhere, one thread, every case seeded on its own.
Running it twice gives byte-identical files on the same PyTorch build.
"""

import json
import os
import struct

import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


# ---------------------------------------------------------------- safetensors

def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, tensor) in file order; metadata: dict str -> str."""
    header = {}
    chunks = []
    offset = 0
    for name, t in tensors:
        assert name not in header, f'duplicate tensor name {name}'
        t = t.detach().contiguous()
        if t.dtype == torch.float32:
            dtype, fmt = 'F32', 'f'
        elif t.dtype == torch.int32:
            dtype, fmt = 'I32', 'i'
        else:
            raise TypeError(f'{name}: unsupported dtype {t.dtype}')
        values = t.reshape(-1).tolist()
        raw = struct.pack(f'<{len(values)}{fmt}', *values)
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    for k, v in metadata.items():
        assert isinstance(k, str) and isinstance(v, str), 'metadata must map str to str'
    header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)  # pad with spaces so the data starts 8-byte aligned
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


# ---------------------------------------------------------- recurrent layers

I, B, T = 13, 3, 7

CELLS = {
    'rnn_tanh': dict(cls=torch.nn.RNN, cell='rnn', nonlinearity='tanh'),
    'rnn_relu': dict(cls=torch.nn.RNN, cell='rnn', nonlinearity='relu'),
    'lstm': dict(cls=torch.nn.LSTM, cell='lstm'),
    'gru': dict(cls=torch.nn.GRU, cell='gru'),
}

# (case id, numLayers, bidirectional, batchFirst, bias, hiddenSize)
# H=37 where the kernels are under test; H=17 (also odd, also a SIMD tail) for the
# 2-layer and batch-first cases, which test wiring and layout, to keep the files small.
CASES = [
    ('l1_uni_bf0', 1, False, False, True, 37),
    ('l1_uni_bf1', 1, False, True, True, 17),
    ('l1_bi_bf0', 1, True, False, True, 37),
    ('l1_bi_bf1', 1, True, True, True, 17),
    ('l2_uni_bf0', 2, False, False, True, 17),
    ('l2_bi_bf0', 2, True, False, True, 17),
    ('l1_uni_bf0_nobias', 1, False, False, False, 37),
]


def reference_forward(cell, nonlinearity, named, x, h0, c0, num_layers, bidirectional, batch_first, bias):
    """The conventions the fixtures rely on, written out in float64 (checked against PyTorch below):
    gate order LSTM i,f,g,o and GRU r,z,n with b_hn inside r*(W_hn h + b_hn); h0/h_n are
    (layers*directions, B, H) with index layer*D + direction, never batch-first; the reverse
    direction reads t = T-1..0 and its h_n is its state after t = 0; output is [forward, reverse]
    along the last axis; layer l > 0 reads the previous layer's output (D*H wide).
    Returns output, h_n, c_n and the smallest |pre-activation| of a plain RNN."""
    p = {n: t.double() for n, t in named}
    D = 2 if bidirectional else 1
    inp = (x.transpose(0, 1) if batch_first else x).double()
    h_n, c_n, min_pre = [], [], float('inf')
    for l in range(num_layers):
        outs = []
        for d, sfx in enumerate(['', '_reverse'][:D]):
            w_ih, w_hh = p[f'weight_ih_l{l}{sfx}'], p[f'weight_hh_l{l}{sfx}']
            b_ih = p[f'bias_ih_l{l}{sfx}'] if bias else 0.0
            b_hh = p[f'bias_hh_l{l}{sfx}'] if bias else 0.0
            h = h0[l * D + d].double()
            c = c0[l * D + d].double() if c0 is not None else None
            ys = [None] * inp.shape[0]
            for t in (range(inp.shape[0]) if d == 0 else reversed(range(inp.shape[0]))):
                gi, gh = inp[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
                if cell == 'rnn':
                    a = gi + gh
                    min_pre = min(min_pre, a.abs().min().item())
                    h = torch.tanh(a) if nonlinearity == 'tanh' else torch.relu(a)
                elif cell == 'lstm':
                    i, f, g, o = (gi + gh).chunk(4, 1)
                    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                    h = torch.sigmoid(o) * torch.tanh(c)
                else:
                    (i_r, i_z, i_n), (h_r, h_z, h_n_) = gi.chunk(3, 1), gh.chunk(3, 1)
                    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
                    h = (1 - z) * torch.tanh(i_n + r * h_n_) + z * h
                ys[t] = h
            outs.append(torch.stack(ys))
            h_n.append(h)
            c_n.append(c)
        inp = torch.cat(outs, 2)
    output = inp.transpose(0, 1) if batch_first else inp
    return output, torch.stack(h_n), (torch.stack(c_n) if c0 is not None else None), min_pre


def recurrent_case(spec, seed, case_id, num_layers, bidirectional, batch_first, bias, H):
    torch.manual_seed(seed)
    kwargs = dict(input_size=I, hidden_size=H, num_layers=num_layers, bias=bias,
                  batch_first=batch_first, dropout=0.0, bidirectional=bidirectional)
    if spec['cell'] == 'rnn':
        kwargs['nonlinearity'] = spec['nonlinearity']
    layer = spec['cls'](**kwargs)  # PyTorch's default init: U(-1/sqrt(H), 1/sqrt(H))
    is_lstm = spec['cell'] == 'lstm'
    D = 2 if bidirectional else 1

    x_shape = (B, T, I) if batch_first else (T, B, I)
    y_shape = (B, T, D * H) if batch_first else (T, B, D * H)
    state_shape = (num_layers * D, B, H)  # never batch-first, whatever batch_first says
    x = torch.randn(x_shape).requires_grad_()
    h0 = (0.5 * torch.randn(state_shape)).requires_grad_()
    c0 = (0.5 * torch.randn(state_shape)).requires_grad_() if is_lstm else None
    grad_output = torch.randn(y_shape)
    grad_h_n = torch.randn(state_shape)
    grad_c_n = torch.randn(state_shape) if is_lstm else None

    params = list(layer.named_parameters())  # weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse, ..._l1
    inputs = [(n, p.detach().clone()) for n, p in params]  # before backward touches anything

    if is_lstm:
        output, (h_n, c_n) = layer(x, (h0, c0))
        loss = (output * grad_output).sum() + (h_n * grad_h_n).sum() + (c_n * grad_c_n).sum()
    else:
        output, h_n = layer(x, h0)
        loss = (output * grad_output).sum() + (h_n * grad_h_n).sum()
    loss.backward()

    # Self-check: the documented conventions reproduce PyTorch's forward; a ReLU unit whose
    # pre-activation sits at the kink would make the gradient parity depend on rounding.
    ref_out, ref_h, ref_c, min_pre = reference_forward(
        spec['cell'], spec.get('nonlinearity'), inputs, x.detach(), h0.detach(), c0.detach() if is_lstm else None,
        num_layers, bidirectional, batch_first, bias)
    err = max((ref_out - output.double()).abs().max().item(), (ref_h - h_n.double()).abs().max().item())
    if is_lstm:
        err = max(err, (ref_c - c_n.double()).abs().max().item())
    assert err < 1e-5, f'{case_id}: reference forward differs from PyTorch by {err}'
    assert min_pre > 1e-5, f'{case_id}: a pre-activation is {min_pre}, too close to the ReLU kink; change the seed'

    out = [(f'{case_id}/{n}', t) for n, t in inputs]
    out += [(f'{case_id}/input', x), (f'{case_id}/h0', h0)]
    if is_lstm:
        out.append((f'{case_id}/c0', c0))
    out += [(f'{case_id}/grad_output', grad_output), (f'{case_id}/grad_h_n', grad_h_n)]
    if is_lstm:
        out.append((f'{case_id}/grad_c_n', grad_c_n))
    out += [(f'{case_id}/output', output), (f'{case_id}/h_n', h_n)]
    if is_lstm:
        out.append((f'{case_id}/c_n', c_n))
    out += [(f'{case_id}/grad_input', x.grad), (f'{case_id}/grad_h0', h0.grad)]
    if is_lstm:
        out.append((f'{case_id}/grad_c0', c0.grad))
    out += [(f'{case_id}/grad.{n}', p.grad) for n, p in params]

    desc = {'id': case_id, 'cell': spec['cell']}
    if spec['cell'] == 'rnn':
        desc['nonlinearity'] = spec['nonlinearity']
    desc.update(inputSize=I, hiddenSize=H, numLayers=num_layers, bidirectional=bidirectional,
                batchFirst=batch_first, bias=bias, seqLen=T, batch=B)
    return out, desc


def make_recurrent_fixtures():
    for file_index, (fname, spec) in enumerate(CELLS.items()):
        tensors, descs = [], []
        for case_index, case in enumerate(CASES):
            t, d = recurrent_case(spec, 1000 * (file_index + 1) + case_index, *case)
            tensors += t
            descs.append(d)
        meta = {
            'format': 'mnemo-fixture-v1',
            'generator': 'scripts/make-fixtures.py',
            'torch': torch.__version__,
            'loss': 'sum(output*grad_output) + sum(h_n*grad_h_n)' + (' + sum(c_n*grad_c_n)' if spec['cell'] == 'lstm' else ''),
            'cases': json.dumps(descs),
        }
        write_safetensors(os.path.join(OUT, f'{fname}.safetensors'), tensors, meta)


# ----------------------------------------------------------------- optimizers

OPT_I, OPT_H, OPT_T, OPT_B, STEPS, MAX_NORM = 5, 7, 4, 2, 10, 0.5

RUNS = [
    ('adam', 'Adam', dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)),
    ('adamw', 'AdamW', dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, amsgrad=False)),
    ('sgd_momentum', 'SGD', dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)),
    ('sgd_nesterov_wd', 'SGD', dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=1e-3, nesterov=True)),
]


def make_optim_fixture():
    torch.manual_seed(7)
    init = torch.nn.LSTM(OPT_I, OPT_H)
    init_state = {n: p.detach().clone() for n, p in init.named_parameters()}
    x = torch.randn(OPT_T, OPT_B, OPT_I)
    G = torch.randn(OPT_T, OPT_B, OPT_H)

    tensors = [(f'init/{n}', t) for n, t in init_state.items()]
    tensors += [('input', x), ('grad_output', G)]
    runs = []
    for run_id, cls_name, hp in RUNS:
        model = torch.nn.LSTM(OPT_I, OPT_H)
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(init_state[n])
        opt = getattr(torch.optim, cls_name)(model.parameters(), **hp)
        norms, losses = [], []
        for step in range(1, STEPS + 1):
            opt.zero_grad()
            output, _ = model(x)  # h0 = c0 = 0
            loss = (output * G).sum()
            loss.backward()
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=MAX_NORM).item())
            losses.append(loss.item())
            opt.step()
            if step in (1, STEPS):
                tensors += [(f'{run_id}/step{step}/{n}', p.detach().clone()) for n, p in model.named_parameters()]
        tensors.append((f'{run_id}/grad_norm', torch.tensor(norms, dtype=torch.float32)))
        tensors.append((f'{run_id}/loss', torch.tensor(losses, dtype=torch.float32)))
        hp_json = {k: (list(v) if isinstance(v, tuple) else v) for k, v in hp.items()}
        hp_json['maximize'] = False
        runs.append({'id': run_id, 'optimizer': cls_name, 'hyperparameters': hp_json})

    problem = {
        'model': {'cell': 'lstm', 'inputSize': OPT_I, 'hiddenSize': OPT_H, 'numLayers': 1, 'bidirectional': False,
                  'batchFirst': False, 'bias': True},
        'seqLen': OPT_T, 'batch': OPT_B, 'steps': STEPS, 'savedSteps': [1, STEPS],
        'initialState': 'zeros',
        'loss': 'sum(output*grad_output)',
        'clipGradNorm': {'maxNorm': MAX_NORM, 'normType': 2, 'eps': 1e-6,
                         'rule': 'g *= min(1, maxNorm / (totalNorm + 1e-6)), totalNorm before clipping'},
        'stepOrder': 'zero_grad, forward, backward, clip_grad_norm_, step',
    }
    meta = {
        'format': 'mnemo-fixture-v1',
        'generator': 'scripts/make-fixtures.py',
        'torch': torch.__version__,
        'problem': json.dumps(problem),
        'runs': json.dumps(runs),
    }
    write_safetensors(os.path.join(OUT, 'optim.safetensors'), tensors, meta)


def main():
    os.makedirs(OUT, exist_ok=True)
    make_recurrent_fixtures()
    make_optim_fixture()
    total = 0
    for name in sorted(os.listdir(OUT)):
        if name.endswith('.safetensors'):
            size = os.path.getsize(os.path.join(OUT, name))
            total += size
            print(f'{name:28s} {size:>9,d} bytes')
    print(f'{"total":28s} {total:>9,d} bytes')


if __name__ == '__main__':
    main()
