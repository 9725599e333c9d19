"""PyTorch side of mnemo's benchmark (bench/pytorch.js runs it).

Reads a JSON list of tasks on stdin, prints one JSON object per task on
stdout. The models and steps mirror bench/mnemo-models.js:

  train  Embedding -> LSTM/GRU (L layers) -> Linear -> cross-entropy (mean over
         T*B tokens); one step = zero_grad, forward, backward,
         clip_grad_norm_(5), Adam(lr 1e-3, eps 1e-8); the final state is
         detached and carried to the next window (truncated BPTT).
  infer  next-token latency: batch 1, eval mode, no_grad, state carried:
         Embedding -> one LSTM step -> Linear -> log_softmax over V.

Each task: {"kind": "train"|"infer", "cell", "L", "V", "E", "H", "T", "B",
"threads", "seconds"}. Timing: 2 warm-up steps, then steps for `seconds`;
the result carries the best and the median step time.
"""
import json
import sys
import time

import torch
import torch.nn as nn


class LM(nn.Module):
    def __init__(self, cell, V, E, H, L):
        super().__init__()
        self.encoder = nn.Embedding(V, E)
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(E, H, L)
        self.decoder = nn.Linear(H, V)

    def forward(self, ids, state):
        out, state = self.rnn(self.encoder(ids), state)
        return self.decoder(out), state


def zero_state(cell, L, B, H):
    h = torch.zeros(L, B, H)
    return h if cell == "gru" else (h, torch.zeros(L, B, H))


def detach(state):
    return state.detach() if isinstance(state, torch.Tensor) else tuple(s.detach() for s in state)


def timed(step, seconds):
    step()
    step()
    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start >= seconds and len(times) >= 3:
            break
    times.sort()
    return times[0], times[len(times) // 2], len(times)


def train_task(t):
    torch.manual_seed(1)
    V, E, H, T, B, L = t["V"], t["E"], t["H"], t["T"], t["B"], t["L"]
    model = LM(t["cell"], V, E, H, L)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(1000)
    batches = [(torch.randint(V, (T, B), generator=g), torch.randint(V, (T * B,), generator=g)) for _ in range(8)]
    state = [zero_state(t["cell"], L, B, H)]
    k = [0]

    def step():
        ids, targets = batches[k[0] % len(batches)]
        k[0] += 1
        opt.zero_grad()
        logits, st = model(ids, state[0])
        loss = loss_fn(logits.view(-1, V), targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        state[0] = detach(st)

    best, med, n = timed(step, t["seconds"])
    return {"msPerStep": best * 1e3, "medianMsPerStep": med * 1e3, "samples": n, "tokensPerSec": T * B / best}


def infer_task(t):
    torch.manual_seed(1)
    V, E, H = t["V"], t["E"], t["H"]
    model = LM(t.get("cell", "lstm"), V, E, H, t.get("L", 1)).eval()
    state = [zero_state(t.get("cell", "lstm"), t.get("L", 1), 1, H)]
    ids = torch.randint(V, (4096,), generator=torch.Generator().manual_seed(4242))
    k = [0]

    def step():
        with torch.no_grad():
            x = ids[k[0] & 4095].view(1, 1)
            k[0] += 1
            logits, state[0] = model(x, state[0])
            torch.log_softmax(logits.view(-1), 0)

    best, med, n = timed(step, t["seconds"])
    return {"msPerToken": best * 1e3, "medianMsPerToken": med * 1e3, "samples": n}


def main():
    tasks = json.load(sys.stdin)
    for t in tasks:
        torch.set_num_threads(t["threads"])
        out = train_task(t) if t["kind"] == "train" else infer_task(t)
        out.update({"task": t, "torch": torch.__version__, "threads": torch.get_num_threads()})
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
