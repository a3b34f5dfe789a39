#!/usr/bin/env python3
"""The "seeds' reference" RealNVP in plain PyTorch, for a speed comparison.

    python bench/torch_reference.py [--threads 1] [--epochs 30] [--repeats 5] \
        [--warmup 5] [--precision f32|f64] [--points 3000] [--hidden 128] [--seed 0]
    python bench/torch_reference.py --infer N [--threads 1] [--precision f32] [--hidden 128]

Model: 6 affine coupling layers with alternating binary masks m = (1,0),
(0,1), ... (the masked formulation of Dinh et al.):

    y = m*x + (1-m)*(x*exp(s(m*x)) + t(m*x)),   log|det| = sum((1-m)*s(m*x)),

with separate s and t networks, each D -> H -> H -> D (H = --hidden = 128),
ReLU, and tanh on the output of s. No ActNorm, no permutations beyond the
alternating masks. Base N(0, I).

Data: --points (3000) points of sklearn make_moons(noise=0.05,
random_state=--seed), standardized with their own mean and population std.

Training mode: full batch, Adam lr 1e-3. --warmup epochs are run untimed, then
--repeats x --epochs epochs are timed one by one (an epoch is one full-batch
step: forward, backward, Adam update). The same model keeps training through
the warm-up and all repeats. Prints one JSON line with the median, p10 and p90
of the per-epoch times (over all repeats x epochs), the per-repeat mean ms,
and final_nll (full-batch NLL of the standardized training points after the
last epoch, nats per point; final_nll_raw adds sum log sigma for raw
coordinates).

--infer N: times log_prob of N fresh standardized moons points (chunks of
65536, torch.no_grad) and sampling N points (the inverse pass, same chunks),
on a freshly initialized model (timing does not depend on the weights).
Prints {"eval_s", "sample_s", ...}.
"""
import argparse
import json
import os
import sys
import time

if "--threads" in sys.argv:
    os.environ.setdefault("OMP_NUM_THREADS", sys.argv[sys.argv.index("--threads") + 1])

import numpy as np
import torch
from torch import nn
from sklearn.datasets import make_moons


def mlp(d, h, out_tanh):
    layers = [nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, d)]
    if out_tanh:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class RealNVP(nn.Module):
    def __init__(self, d=2, hidden=128, layers=6):
        super().__init__()
        masks = torch.stack([(torch.arange(d) + i) % 2 == 0 for i in range(layers)])
        self.register_buffer("masks", masks.to(torch.get_default_dtype()))
        self.s = nn.ModuleList([mlp(d, hidden, True) for _ in range(layers)])
        self.t = nn.ModuleList([mlp(d, hidden, False) for _ in range(layers)])
        self.d = d

    def forward(self, x):
        """x -> z and log|det dz/dx|."""
        log_det = torch.zeros(len(x), dtype=x.dtype)
        for m, s_net, t_net in zip(self.masks, self.s, self.t):
            xm = x * m
            s = s_net(xm) * (1 - m)
            t = t_net(xm) * (1 - m)
            x = xm + (1 - m) * (x * torch.exp(s) + t)
            log_det = log_det + s.sum(dim=1)
        return x, log_det

    def inverse(self, z):
        for m, s_net, t_net in zip(reversed(self.masks), reversed(self.s), reversed(self.t)):
            zm = z * m
            s = s_net(zm) * (1 - m)
            t = t_net(zm) * (1 - m)
            z = zm + (1 - m) * (z - t) * torch.exp(-s)
        return z

    def log_prob(self, x):
        z, log_det = self(x)
        return -0.5 * (z * z).sum(dim=1) - 0.5 * self.d * np.log(2 * np.pi) + log_det


def moons(n, seed):
    x, _ = make_moons(n_samples=n, noise=0.05, random_state=seed)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    return (x - mu) / sd, float(np.log(sd).sum())


def main():
    ap = argparse.ArgumentParser(description="seeds' reference RealNVP timing")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--precision", choices=["f32", "f64"], default="f32")
    ap.add_argument("--points", type=int, default=3000)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--infer", type=int, default=0, metavar="N")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    dtype = torch.float32 if a.precision == "f32" else torch.float64
    torch.set_default_dtype(dtype)
    torch.manual_seed(a.seed)
    model = RealNVP(hidden=a.hidden)
    common = {"threads": a.threads, "precision": a.precision, "hidden": a.hidden,
              "torch": torch.__version__}

    if a.infer:
        chunk = 65536
        x = torch.tensor(moons(a.infer, a.seed + 1)[0], dtype=dtype)
        with torch.no_grad():
            model.log_prob(x[:1024])  # warm-up
            t0 = time.perf_counter()
            total = 0.0
            for i in range(0, a.infer, chunk):
                total += model.log_prob(x[i:i + chunk]).sum().item()
            eval_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            for i in range(0, a.infer, chunk):
                z = torch.randn(min(chunk, a.infer - i), 2)
                model.inverse(z)
            sample_s = time.perf_counter() - t0
        print(json.dumps({"eval_s": eval_s, "sample_s": sample_s, "n": a.infer,
                          "chunk": chunk, "mean_nll_untrained": -total / a.infer, **common}))
        return

    z, log_sd = moons(a.points, a.seed)
    x = torch.tensor(z, dtype=dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        loss = -model.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        epoch()
    times, repeat_means = [], []
    for _ in range(a.repeats):
        rep = []
        for _ in range(a.epochs):
            t0 = time.perf_counter()
            epoch()
            rep.append(time.perf_counter() - t0)
        times += rep
        repeat_means.append(1e3 * float(np.mean(rep)))
    with torch.no_grad():
        final = float(-model.log_prob(x).mean())
    ms = 1e3 * np.array(times)
    print(json.dumps({
        "ms_per_epoch_median": float(np.median(ms)),
        "p10": float(np.percentile(ms, 10)),
        "p90": float(np.percentile(ms, 90)),
        "repeat_mean_ms": repeat_means,
        "epochs": a.epochs, "repeats": a.repeats, "warmup": a.warmup,
        "points": a.points,
        "final_nll": final, "final_nll_raw": final + log_sd,
        "total_epochs": a.warmup + a.epochs * a.repeats,
        "params": sum(p.numel() for p in model.parameters()),
        **common,
    }))


if __name__ == "__main__":
    main()
