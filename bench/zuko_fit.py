#!/usr/bin/env python3
"""Fit a zuko normalizing flow to TRAIN.csv and report the NLL of TEST.csv.

    python bench/zuko_fit.py TRAIN.csv TEST.csv --flow nsf|maf|realnvp \
        [--steps 5000] [--seed 0] [--transforms 5] [--hidden auto] \
        [--batch 256] [--lr 1e-3] [--eval-every 50] [--patience 20] \
        [--max-seconds 300] [--threads 1]

What it does (the choices, all defaults of this script):

* Data: columns standardized with the mean and population std (ddof=0) of all
  TRAIN rows; the reported NLLs are corrected by + sum_d log sigma_d, so they
  are mean nats per point in the CSV's raw coordinates (comparable with the
  Rust tool's summary and ``eval``).
* Split: 10 % of the TRAIN rows (random, by --seed) are held out for early
  stopping; the flow is trained on the other 90 %. TEST is never looked at
  until the end.
* Architecture: zuko 1.6 ``zuko.flows.NSF`` (autoregressive monotonic
  rational-quadratic splines, 8 bins, bound [-5, 5], zuko's default),
  ``zuko.flows.MAF`` (masked autoregressive affine) or ``zuko.flows.RealNVP``
  (affine coupling, alternating masks), each with ``transforms=5`` (zuko's
  default is 3) and zuko's default conditioner MLP: two hidden layers, ReLU.
  Hidden width: zuko's default 64 for data of dim <= 16; 128 for wider data
  (digits: 61 columns) so that the MADE layers are wider than the input.
  (NSF on 61-D runs at ~9 steps/s on one thread: torch's CPU softmax over the
  8 bins is slow; the 300 s cap ends such runs.)
  Base N(0, I). Autoregressive flows alternate the order (zuko default).
* Training: Adam, lr 1e-3, constant; minibatches of 256 drawn from shuffled
  epochs (full batch when the fit split has <= 256 rows); at most --steps
  steps; every --eval-every steps the held-out NLL is computed and the best
  weights are kept; training stops after --patience evaluations without
  improvement (20 x 50 = 1000 steps) or after --max-seconds of training.
  Test NLL is that of the best weights, evaluated in float64.
* Threads: torch.set_num_threads(--threads), default 1.

Prints one JSON line with test_nll, val_nll, train_nll, best_step, steps,
stopped ("patience" | "steps" | "time"), train_seconds, total_seconds, ...
"""
import argparse
import copy
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
T0 = time.time()

import numpy as np
import torch
import zuko

from data import standardized

FLOWS = {"nsf": zuko.flows.NSF, "maf": zuko.flows.MAF, "realnvp": zuko.flows.RealNVP}


@torch.no_grad()
def mean_nll(flow, x, chunk=65536):
    total = 0.0
    for i in range(0, len(x), chunk):
        total += -flow().log_prob(x[i:i + chunk]).sum().item()
    return total / len(x)


def main():
    ap = argparse.ArgumentParser(description="zuko flow baseline")
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--flow", choices=sorted(FLOWS), required=True)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--transforms", type=int, default=5)
    ap.add_argument("--hidden", default="auto", help="width of the 2 hidden layers, or auto")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--patience", type=int, default=20, help="in evaluations")
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.RandomState(a.seed)

    z, zte, log_det = standardized(a.train, a.test)
    n, d = z.shape

    perm = rng.permutation(n)
    n_val = max(1, int(round(0.1 * n)))
    zval, zfit = z[perm[:n_val]], z[perm[n_val:]]
    f32 = lambda v: torch.tensor(v, dtype=torch.float32)
    xfit, xval = f32(zfit), f32(zval)

    hidden = (64 if d <= 16 else 128) if a.hidden == "auto" else int(a.hidden)
    flow = FLOWS[a.flow](d, transforms=a.transforms, hidden_features=(hidden, hidden))
    n_params = sum(p.numel() for p in flow.parameters())
    opt = torch.optim.Adam(flow.parameters(), lr=a.lr)
    batch = min(a.batch, len(xfit))

    best = (float("inf"), 0, copy.deepcopy(flow.state_dict()))
    bad, stopped, step = 0, "steps", 0
    order, pos = torch.randperm(len(xfit)), 0
    t_train = time.time()
    while step < a.steps:
        if pos + batch > len(xfit):
            order, pos = torch.randperm(len(xfit)), 0
        xb = xfit[order[pos:pos + batch]]
        pos += batch
        loss = -flow().log_prob(xb).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % a.eval_every == 0 or step == a.steps:
            v = mean_nll(flow, xval)
            if v < best[0]:
                best, bad = (v, step, copy.deepcopy(flow.state_dict())), 0
            else:
                bad += 1
            if not np.isfinite(loss.item()):
                stopped = "nonfinite"
                break
            if bad >= a.patience:
                stopped = "patience"
                break
            if time.time() - t_train > a.max_seconds:
                stopped = "time"
                break
    train_seconds = time.time() - t_train

    flow.load_state_dict(best[2])
    flow = flow.double()
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)
    out = {
        "flow": a.flow,
        "test_nll": mean_nll(flow, f64(zte)) + log_det,
        "val_nll": mean_nll(flow, f64(zval)) + log_det,
        "train_nll": mean_nll(flow, f64(zfit)) + log_det,
        "best_step": best[1],
        "steps": step,
        "max_steps": a.steps,
        "stopped": stopped,
        "train_seconds": round(train_seconds, 2),
        "total_seconds": round(time.time() - T0, 2),
        "steps_per_s": round(step / train_seconds, 1),
        "n_fit": len(zfit), "n_val": len(zval), "n_test": len(zte), "dim": d,
        "transforms": a.transforms, "hidden": hidden, "batch": batch, "lr": a.lr,
        "params": n_params, "seed": a.seed, "threads": a.threads,
        "torch": torch.__version__, "zuko": zuko.__version__,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
