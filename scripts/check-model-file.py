#!/usr/bin/env python3
"""Checks a mnemo language-model file (safetensors, format 'mnemo-lm/1').

    python3 scripts/check-model-file.py MODEL.safetensors [--torch] [--expect EXPECT.json]

Standard library only (json, struct, array). Prints each tensor's name, dtype
and shape, then checks that the names and shapes are exactly the state_dict of
PyTorch's word_language_model RNNModel for the config in __metadata__:

    encoder  = torch.nn.Embedding(vocabSize, embeddingDim)
    rnn      = torch.nn.LSTM | GRU | RNN(embeddingDim, hiddenSize, numLayers)
    decoder  = torch.nn.Linear(hiddenSize, vocabSize)

With tieWeights, 'decoder.weight' is not stored (it is 'encoder.weight'). Also
checks dtypes (F32), offsets, finite values and the tokenizer's vocabulary size.
Tensors named 'extra.*' (a checkpoint's own) are listed and otherwise ignored.

--torch      also builds those torch modules and loads the tensors with
             load_state_dict(strict=True) (needs torch, e.g. Debian's python3-torch:
             /usr/bin/python3), then checks every state_dict tensor equals the file's.
--expect F   (with --torch) runs the model in eval mode on F's "ids" ((T, B) token
             ids, from a zero state) and compares with F's "logits" ((T*B, V),
             flattened) within F's "tol".

Exit status: 0 when everything matches, 1 on a mismatch, 2 on a usage error or
an unreadable file.
"""

import array
import json
import math
import struct
import sys

FORMAT = 'mnemo-lm/1'
GATES = {'lstm': 4, 'gru': 3, 'rnn_tanh': 1, 'rnn_relu': 1}


def fail(msg, code=1):
    print(f'check-model-file: {msg}', file=sys.stderr)
    sys.exit(code)


def read(path):
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as e:
        fail(f'cannot read {path}: {e}', 2)
    if len(raw) < 8:
        fail(f'{path}: {len(raw)} bytes, too short for a safetensors file', 2)
    (n,) = struct.unpack('<Q', raw[:8])
    if n > len(raw) - 8:
        fail(f'{path}: header length {n} runs past the end of the file', 2)
    try:
        header = json.loads(raw[8:8 + n].decode('utf-8'))
    except ValueError as e:
        fail(f'{path}: the header is not valid JSON ({e})', 2)
    return header, raw[8 + n:]


def expected_shapes(c):
    V, E, H, L = c['vocabSize'], c['embeddingDim'], c['hiddenSize'], c['numLayers']
    G = GATES[c['cell']] * H
    out = [('encoder.weight', [V, E])]
    for l in range(L):
        out += [(f'rnn.weight_ih_l{l}', [G, E if l == 0 else H]), (f'rnn.weight_hh_l{l}', [G, H]),
                (f'rnn.bias_ih_l{l}', [G]), (f'rnn.bias_hh_l{l}', [G])]
    if not c.get('tieWeights', False):
        out.append(('decoder.weight', [V, H]))
    out.append(('decoder.bias', [V]))
    return out


def main(argv):
    args = [a for a in argv if not a.startswith('--')]
    use_torch = '--torch' in argv
    expect_path = None
    if '--expect' in argv:
        i = argv.index('--expect')
        if i + 1 >= len(argv):
            fail('--expect needs a file', 2)
        expect_path = argv[i + 1]
        args = [a for a in args if a != expect_path]
    unknown = [a for a in argv if a.startswith('--') and a not in ('--torch', '--expect')]
    if len(args) != 1 or unknown:
        fail('usage: check-model-file.py MODEL.safetensors [--torch] [--expect EXPECT.json]', 2)
    header, data = read(args[0])

    meta = header.pop('__metadata__', {})
    if meta.get('format') != FORMAT:
        fail(f"__metadata__.format is {meta.get('format')!r}, expected {FORMAT!r}")
    try:
        config = json.loads(meta['config'])
        tokenizer = json.loads(meta['tokenizer'])
    except (KeyError, ValueError) as e:
        fail(f'__metadata__.config / tokenizer missing or not JSON ({e})')
    for key in ('vocabSize', 'embeddingDim', 'hiddenSize', 'numLayers', 'cell'):
        if key not in config:
            fail(f'__metadata__.config.{key} is missing')
    if config['cell'] not in GATES:
        fail(f"__metadata__.config.cell {config['cell']!r} is not one of {sorted(GATES)}")
    print(f"config: {config['cell']}, V={config['vocabSize']} E={config['embeddingDim']} H={config['hiddenSize']} "
          f"L={config['numLayers']} tied={config.get('tieWeights', False)}; tokenizer: {tokenizer.get('level')} level")

    errors = []
    tensors = {}
    for name, entry in header.items():
        dtype, shape, (begin, end) = entry['dtype'], entry['shape'], entry['data_offsets']
        print(f'  {name:<24} {dtype} {shape}')
        count = math.prod(shape)
        if end - begin != 4 * count or end > len(data):
            errors.append(f'{name}: data_offsets [{begin}, {end}] do not hold {count} 4-byte elements')
            continue
        if name.startswith('extra.'):
            continue
        if dtype != 'F32':
            errors.append(f'{name}: dtype {dtype}, expected F32')
            continue
        values = array.array('f')
        values.frombytes(data[begin:end])
        if sys.byteorder != 'little':
            values.byteswap()
        if not all(math.isfinite(v) for v in values):
            errors.append(f'{name}: holds a non-finite value')
        tensors[name] = (shape, values)

    expected = expected_shapes(config)
    for name, shape in expected:
        if name not in tensors:
            errors.append(f'{name}: missing (expected shape {shape})')
        elif tensors[name][0] != shape:
            errors.append(f'{name}: shape {tensors[name][0]}, expected {shape}')
    names = {n for n, _ in expected}
    for name in tensors:
        if name not in names:
            errors.append(f'{name}: not a parameter of this config')
    tokens = tokenizer.get('vocab', {}).get('tokens', [])
    # Word level: one string of words separated by single spaces; character level: a list.
    vocab = len(tokens.split(' ')) if isinstance(tokens, str) else len(tokens)
    if vocab != config['vocabSize']:
        errors.append(f"tokenizer: {vocab} tokens, but vocabSize is {config['vocabSize']}")
    if errors:
        for e in errors:
            print(f'MISMATCH {e}', file=sys.stderr)
        sys.exit(1)
    print(f'OK: {len(expected)} tensors are the state_dict of the config' +
          (' (decoder.weight tied to encoder.weight)' if config.get('tieWeights') else ''))

    if use_torch:
        check_torch(config, tensors, expect_path)


def check_torch(config, tensors, expect_path):
    import torch
    from torch import nn

    V, E, H, L, cell = (config[k] for k in ('vocabSize', 'embeddingDim', 'hiddenSize', 'numLayers', 'cell'))

    class RNNModel(nn.Module):  # word_language_model's RNNModel, without dropout (eval)
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(V, E)
            if cell == 'lstm':
                self.rnn = nn.LSTM(E, H, L)
            elif cell == 'gru':
                self.rnn = nn.GRU(E, H, L)
            else:
                self.rnn = nn.RNN(E, H, L, nonlinearity='tanh' if cell == 'rnn_tanh' else 'relu')
            self.decoder = nn.Linear(H, V)
            if config.get('tieWeights'):
                self.decoder.weight = self.encoder.weight

        def forward(self, ids):
            out, _ = self.rnn(self.encoder(ids))
            return self.decoder(out).reshape(-1, V)

    model = RNNModel()
    state = {name: torch.frombuffer(bytearray(values.tobytes()), dtype=torch.float32).reshape(shape)
             for name, (shape, values) in tensors.items()}
    if config.get('tieWeights'):
        state['decoder.weight'] = state['encoder.weight']
    model.load_state_dict(state, strict=True)
    for name, t in model.state_dict().items():
        if not torch.equal(t, state[name]):
            fail(f'torch: {name} differs from the file after load_state_dict')
    print(f'OK torch {torch.__version__}: load_state_dict(strict=True) took all {len(model.state_dict())} tensors')

    if expect_path:
        with open(expect_path) as f:
            expect = json.load(f)
        model.eval()
        with torch.no_grad():
            logits = model(torch.tensor(expect['ids'], dtype=torch.long))
        ref = torch.tensor(expect['logits'], dtype=torch.float32).reshape(logits.shape)
        err = (logits - ref).abs().max().item()
        if not err <= expect['tol']:
            fail(f"torch: logits differ from mnemo's by {err:.3g} (tolerance {expect['tol']})")
        print(f"OK torch forward: logits {list(logits.shape)} match mnemo's, max |difference| {err:.3g}")


if __name__ == '__main__':
    main(sys.argv[1:])
