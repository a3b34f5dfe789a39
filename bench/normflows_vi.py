#!/usr/bin/env python3
"""normflows' planar flow fitted by reverse KL to the energies U1-U4 of
Rezende & Mohamed (2015) (defined in bench/vi_targets.py), for the
comparison with the Rust `cli vi` (issue 13).

Run (from the repository root; set-up: `pip install torch normflows`):

    python bench/normflows_vi.py                       # U1-U4 x seeds 0,1,2, normflows' protocol
    python bench/normflows_vi.py --targets u2 --seeds 0 --iters 2000   # a quick one
    python bench/normflows_vi.py --sanity              # KL machinery check only
    python bench/normflows_vi.py --summarize           # median table of the runs in --out

Flags: --targets u1,u2,u3,u4  --seeds 0,1,2  --layers 32  --iters 20000
--samples 1024  --threads 2  --anneal-iters 10000  --lr 1e-3
--weight-decay 1e-3  --trainable-base 1|0  --eval-samples 100000
--out bench/results/normflows_vi.jsonl (append; "-" = don't write).

The runs recorded in bench/results/normflows_vi.jsonl were cut to half the
notebook's length to fit a one-hour slot on the shared 2-core machine, and
use one thread (1 thread was ~1.5x faster per iteration than 2 here: 14 vs
22 ms per iteration for K = 32, batch 1024):

    python bench/normflows_vi.py --targets u1,u2,u3,u4 --seeds 0 --iters 10000 --anneal-iters 5000 --threads 1
    python bench/normflows_vi.py --targets u1,u2,u3,u4 --seeds 1 --iters 10000 --anneal-iters 5000 --threads 1

(run at the same time as each other and as other work: load average ~5, so
train_seconds is inflated ~2-3x; train_cpu_seconds is the cleaner number).

What it does, per (target, seed):
  * model: nf.NormalizingFlow(q0=nf.distributions.DiagGaussian(2), flows=[nf.flows.Planar((2,))] * K,
    p=VITarget(name)), VITarget an nf.distributions.Target subclass whose
    log_prob is -U(z) from vi_targets.py; float32, CPU.
  * training protocol = normflows' examples/comparison_plan_rad_aff.ipynb
    (its planar runs with K in {2, 8, 32}): Adam(lr=1e-3, weight_decay=1e-3),
    20000 iterations, 1024 samples per iteration,
    loss = nfm.reverse_kld(1024, beta=min(1, 0.01 + it / 10000)), and a step is
    skipped when the loss is NaN or inf (as that notebook does). The
    trainable DiagGaussian base is the notebook's default (--trainable-base 0
    for a fixed N(0, I) base). One difference from the notebook: it turns
    annealing off for its sinusoidal targets (anneal_iter = 1); here every
    target is annealed over --anneal-iters, as in the paper.
  * seed: torch.manual_seed(seed) before building the model (init and the
    training samples); the evaluation samples use torch.manual_seed(10^6 + seed).
  * timing: time.perf_counter() around the training loop only (train_seconds);
    time.process_time() over the same loop (train_cpu_seconds: with one thread,
    about what the wall time would be on an idle machine) and the 1-minute
    load average at the end of training are recorded too.
  * order: seed-major (all targets for the first seed, then the next seed).
  * evaluation (after training, the model cast to float64): M = --eval-samples
    draws x ~ q with log q(x); log p~(x) = -U(x);
    KL(q||p) = mean(log q - log p~) + log Z (log Z by quadrature, vi_targets.py),
    SE = std(log q - log p~) / sqrt(M); ELBO = -mean(log q - log p~);
    IS log Z = logmeanexp(log p~ - log q); ESS = (sum w)^2 / sum w^2 / M.
  * prints one JSON line per run (and appends it to --out), then a table of
    medians over seeds per target (KL and its SE are both medians; wall s =
    train_seconds, cpu s = train_cpu_seconds).
"""
import argparse
import copy
import json
import math
import os
import statistics
import sys
import time

if "--threads" in sys.argv:
    _n = sys.argv[sys.argv.index("--threads") + 1]
else:
    _n = "2"
os.environ.setdefault("OMP_NUM_THREADS", _n)
os.environ.setdefault("MKL_NUM_THREADS", _n)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import normflows as nf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vi_targets  # noqa: E402


class VITarget(nf.distributions.Target):
    """normflows target with log_prob = -U(z) (unnormalized)."""

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.n_dims = 2

    def log_prob(self, z):
        return vi_targets.log_p_torch(self.name, z)


def build(name, layers, trainable_base):
    flows = [nf.flows.Planar((2,)) for _ in range(layers)]
    q0 = nf.distributions.DiagGaussian(2, trainable=trainable_base)
    return nf.NormalizingFlow(q0=q0, flows=flows, p=VITarget(name))


@torch.no_grad()
def evaluate(nfm, name, m, seed, log_z, chunk=25_000):
    model = copy.deepcopy(nfm).double()
    torch.manual_seed(10**6 + seed)
    lq, lp = [], []
    for i in range(0, m, chunk):
        x, log_q = model.sample(min(chunk, m - i))
        lq.append(log_q.numpy())
        lp.append(vi_targets.log_p_torch(name, x).numpy())
    return vi_targets.vi_stats(np.concatenate(lq), np.concatenate(lp), log_z)


def run(name, seed, args, log_z):
    torch.manual_seed(seed)
    np.random.seed(seed)
    nfm = build(name, args.layers, bool(args.trainable_base))
    opt = torch.optim.Adam(nfm.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    skipped = 0
    losses = []
    t0 = time.perf_counter()
    c0 = time.process_time()
    for it in range(args.iters):
        opt.zero_grad()
        beta = min(1.0, 0.01 + it / args.anneal_iters) if args.anneal_iters > 0 else 1.0
        loss = nfm.reverse_kld(args.samples, beta=beta)
        if torch.isfinite(loss):
            loss.backward()
            opt.step()
        else:
            skipped += 1
        if (it + 1) % max(1, args.iters // 20) == 0:
            losses.append(round(float(loss.detach()), 4))
    train_s = time.perf_counter() - t0
    train_cpu = time.process_time() - c0
    stats = evaluate(nfm, name, args.eval_samples, seed, log_z)
    return {
        "tool": "normflows", "normflows_version": getattr(nf, "__version__", "?"),
        "torch_version": torch.__version__, "target": name, "seed": seed,
        "flow": "planar", "layers": args.layers, "iters": args.iters,
        "samples": args.samples, "anneal_iters": args.anneal_iters,
        "beta_schedule": "min(1, 0.01 + it/anneal_iters)", "lr": args.lr,
        "weight_decay": args.weight_decay, "optimizer": "Adam",
        "trainable_base": bool(args.trainable_base), "threads": torch.get_num_threads(),
        "train_seconds": train_s, "train_cpu_seconds": train_cpu,
        "load_avg_1min": os.getloadavg()[0], "skipped_steps": skipped,
        "log_z_quadrature": log_z, **stats, "loss_trace": losses,
        "cmd": " ".join(["python"] + sys.argv),
    }


def main():
    ap = argparse.ArgumentParser(description="normflows planar-flow VI on U1-U4")
    ap.add_argument("--targets", default="u1,u2,u3,u4")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--anneal-iters", type=int, default=10000,
                    help="beta = min(1, 0.01 + it/A); 0 = no annealing")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-3)
    ap.add_argument("--trainable-base", type=int, default=1)
    ap.add_argument("--eval-samples", type=int, default=100_000)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "results", "normflows_vi.jsonl"))
    ap.add_argument("--sanity", action="store_true", help="only the KL machinery check")
    ap.add_argument("--summarize", action="store_true",
                    help="only print the median table of the runs already in --out")
    args = ap.parse_args()
    if args.summarize:
        with open(args.out) as f:
            summarize([json.loads(line) for line in f if line.strip()])
        return
    torch.set_num_threads(args.threads)

    sanity = vi_targets.sanity_checks()
    # the same check through normflows' own objects: q = fixed N(0, I), no flows
    q = nf.NormalizingFlow(q0=nf.distributions.DiagGaussian(2, trainable=False), flows=[],
                           p=VITarget("gauss"))
    sanity["normflows_q_std_normal"] = evaluate(q, "gauss", args.eval_samples, 0,
                                                sanity["gauss_log_z_quadrature"])
    print("sanity:", json.dumps(sanity), flush=True)
    if args.sanity:
        return

    targets = args.targets.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    log_zs = {name: vi_targets.log_z_quadrature(name, 7.0, 0.005) for name in targets}
    for seed in seeds:  # seed-major: a stopped run still has every target for the first seeds
        for name in targets:
            r = run(name, seed, args, log_zs[name])
            rows.append(r)
            line = json.dumps(r)
            print(line, flush=True)
            if args.out != "-":
                os.makedirs(os.path.dirname(args.out), exist_ok=True)
                with open(args.out, "a") as f:
                    f.write(line + "\n")

    print(f"\nmedians over seeds {args.seeds}")
    summarize(rows)


def summarize(rows):
    """Table of medians over seeds, grouped by (target, layers, iters, samples, threads, lr)."""
    keys = []
    for r in rows:
        k = (r["target"], r["layers"], r["iters"], r["samples"], r["threads"], r["lr"])
        if k not in keys:
            keys.append(k)
    print(f"{'target':6s} {'K':>3s} {'iters':>6s} {'batch':>5s} {'thr':>3s} {'lr':>6s} {'seeds':>5s} "
          f"{'log Z':>7s} {'KL':>7s} {'± SE':>6s} {'ELBO':>7s} {'IS logZ':>7s} {'ESS':>5s} "
          f"{'wall s':>6s} {'cpu s':>6s}  KL per seed")
    for k in keys:
        rs = [r for r in rows if (r["target"], r["layers"], r["iters"], r["samples"], r["threads"], r["lr"]) == k]
        med = lambda f: statistics.median(r.get(f, float("nan")) for r in rs)  # noqa: E731
        per = " ".join(f"{r['seed']}:{r['kl']:.4f}" for r in rs)
        print(f"{k[0]:6s} {k[1]:3d} {k[2]:6d} {k[3]:5d} {k[4]:3d} {k[5]:6g} {len(rs):5d} "
              f"{rs[0]['log_z_quadrature']:7.4f} {med('kl'):7.4f} {med('kl_se'):6.4f} "
              f"{med('elbo'):7.4f} {med('is_log_z'):7.4f} {med('ess'):5.3f} "
              f"{med('train_seconds'):6.0f} {med('train_cpu_seconds'):6.0f}  {per}")

if __name__ == "__main__":
    main()
