"""Training and inference speed of SW-DAE against FC-DAE and Mult-VAE, CPU or GPU.

Data: the ML-20M-shaped synthetic matrix (136,677 users x 20,108 items,
~9.4 M interactions; ``_common.ml20m_shaped``).  Every configuration runs in
a fresh subprocess that loads the matrix from disk and reports:

* seconds of one training epoch (batch 500, the paper's settings, or
  ``--batch-size``), on the
  same fixed subset of users for every model (``--train-users``; all users
  by default on a GPU), timed as the last of ``--epochs`` epochs so that
  one-off allocations are excluded (``history_[-1]["dur"]``);
* the ratio of that epoch to FC-DAE's epoch of the same K in the same run;
* top-100 inference throughput (``recommend(X, top_n=100)``, users per
  second) on ``--inference-users`` users;
* peak memory of training and of inference: on the CPU the resident set
  high-water mark (VmHWM, reset before each phase; it includes the
  interpreter, libraries and the loaded matrix), on CUDA
  ``torch.cuda.max_memory_allocated``;
* for SW-DAE, the FLOPs of the masked layers counted on live weights only
  (encoder 4 E R, decoder 6 n L per epoch: E interactions, R links per
  item, n users, L = R x items live weights per layer) divided by the epoch
  time, and that rate as a fraction of a dense float32 matrix product's
  rate measured in the same run at the same precision.

The mask of SW-DAE is drawn at random with exactly R = 0.1 K links per item
(what ItemGrouper produces, without its 25-50 s of grouping at this scale);
speed depends on the number of links, not on which units they reach.
``--link-fractions`` times other values of R / K (denser masks), e.g. with
``--backends dense sparse`` to find where the sparse layers stop paying.

Usage::

    python benchmarks/bench_training.py                       # CPU, K = 1000 4000 15000
    python benchmarks/bench_training.py --quick               # smoke run, ~1 min
    python benchmarks/bench_training.py --device cuda --backends auto dense sparse \\
        --precisions float32 tf32 bfloat16
    python benchmarks/bench_training.py --ks 1000 --models swdae --backends dense sparse \\
        --link-fractions 0.1 0.2 0.35 0.5
    # small steps, as the "auto" batch size gives on small data, on a matrix of your own
    # (--cache reads an existing .npz instead of generating the ML-20M shape)
    python benchmarks/bench_training.py --cache ml1m.npz --ks 2622 --link-fractions 0.114 \
        --models swdae fcdae --batch-size 109 --train-users 0
    # before/after in one run: every configuration first with the package of
    # another commit (``git archive COMMIT sklearn_swdae | tar -x -C /tmp/base``)
    python benchmarks/bench_training.py --ks 15000 --models swdae --baseline-src /tmp/base
    # on a shared VM, several rounds with the codes taking turns; medians are shown
    python benchmarks/bench_training.py --ks 1000 --models swdae --baseline-src /tmp/base --rounds 3
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

from _common import cpu_description, median_rows, ml20m_shaped, reset_peak_rss, rss_kib

QUICK_SHAPE = (20000, 3000)


def _random_mask(n_hidden, n_items, n_links, seed=0):
    """A (K, m) CSR mask with exactly ``n_links`` random units per item."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    # argpartition of random keys: n_links distinct units per item, vectorized.
    units = np.argpartition(rng.random((n_items, n_hidden), dtype=np.float32), n_links - 1, axis=1)[:, :n_links]
    cols = np.repeat(np.arange(n_items), n_links)
    return sp.csr_array((np.ones(cols.size, bool), (units.ravel(), cols)), shape=(n_hidden, n_items))


def _dense_matmul_rate(device, precision):
    """FLOP/s of a 4096^3 float32 matrix product at ``precision`` on ``device``."""
    import torch

    from sklearn_swdae.training import precision_context

    n = 4096 if device.type == "cuda" else 2048
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    with precision_context(device, precision):
        for _ in range(2):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        repeats = 20 if device.type == "cuda" else 3
        tic = time.perf_counter()
        for _ in range(repeats):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - tic)


def _build(args, n_items):
    from sklearn_swdae import FCDAERecommender, MultVAERecommender, SparseWideDAERecommender

    common = dict(
        max_iter=args.epochs,
        batch_size=args.batch_size,
        validation_fraction=None,
        device=args.device,
        precision=args.precision,
        random_state=0,
    )
    if args.model == "swdae":
        mask = _random_mask(args.k, n_items, max(1, round(args.link_fraction * args.k)))
        return SparseWideDAERecommender(connectivity=mask, layer_backend=args.backend, **common), mask
    if args.model == "fcdae":
        return FCDAERecommender(n_hidden=args.k, **common), None
    return MultVAERecommender(**common), None


class _PeakMemory:
    """Peak memory of a phase: CUDA allocations, or the process's RSS."""

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        else:
            self.reset = reset_peak_rss()
        return self

    def __exit__(self, *exc):
        import resource

        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.gib = torch.cuda.max_memory_allocated() / 2**30
            self.kind = "CUDA max_memory_allocated"
        elif self.reset:
            self.gib, self.kind = rss_kib("VmHWM") / 2**20, "VmHWM"
        else:
            self.gib, self.kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "ru_maxrss"


def worker(args):
    """One configuration in this process; prints a JSON line."""
    import numpy as np
    import scipy.sparse as sp
    import torch

    from sklearn_swdae._torch_utils import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    X = sp.csr_array(sp.load_npz(args.data))
    order = np.random.default_rng(0).permutation(X.shape[0])
    train = X[np.sort(order[: args.train_users])] if args.train_users else X
    query = X[np.sort(order[-args.inference_users :])]
    model, mask = _build(args, X.shape[1])
    with _PeakMemory(device) as train_memory:
        tic = time.perf_counter()
        model.fit(train)
        fit_wall = time.perf_counter() - tic
    epoch = model.history_[-1]["dur"]
    # Training figures first, in case inference fails or runs out of time.
    print(json.dumps({"model": args.model, "k": args.k, "epoch_s": epoch, "fit_wall_s": fit_wall}), flush=True)
    model.recommend(query[:500], top_n=100)  # warm-up
    with _PeakMemory(device) as inference_memory:
        tic = time.perf_counter()
        model.recommend(query, top_n=100)
        if device.type == "cuda":
            torch.cuda.synchronize()
        inference = time.perf_counter() - tic
    record = {
        "model": args.model,
        "k": args.k if args.model != "multvae" else 600,
        "link_fraction": args.link_fraction if args.model == "swdae" else None,
        "backend": "/".join(getattr(model, "layer_backends_", ("dense", "dense"))),
        "precision": args.precision,
        "device": str(device),
        "train_users": train.shape[0],
        "batch_size": args.batch_size,
        "interactions": int(train.nnz),
        "epoch_s": epoch,
        "fit_wall_s": fit_wall,
        "train_peak_gib": train_memory.gib,
        "inference_users_per_s": query.shape[0] / inference,
        "inference_peak_gib": inference_memory.gib,
        "memory_kind": train_memory.kind,
        "n_parameters": int(model.n_parameters_),
        "threads": torch.get_num_threads(),
    }
    if mask is not None:
        links = mask.nnz / X.shape[1]
        live_flops = 4 * train.nnz * links + 6 * train.shape[0] * mask.nnz
        record["live_gflop_per_s"] = live_flops / epoch / 1e9
        record["dense_matmul_gflop_per_s"] = _dense_matmul_rate(device, args.precision) / 1e9
        record["fraction_of_dense_rate"] = record["live_gflop_per_s"] / record["dense_matmul_gflop_per_s"]
    print(json.dumps(record), flush=True)


#: Fields of a worker's record that vary from run to run (timings, memory).
_MEASURED = (
    "epoch_s", "fit_wall_s", "train_peak_gib", "inference_users_per_s", "inference_peak_gib",
    "live_gflop_per_s", "dense_matmul_gflop_per_s", "fraction_of_dense_rate",
)  # fmt: skip


def _median_rows(rows):
    """The median of every measured field over the rounds of each configuration and code."""
    keys = ("model", "k", "link_fraction", "backend", "precision", "code")
    return median_rows(rows, keys, _MEASURED)


def _table(rows):
    head = (
        "| model | K | R / K | backend (enc/dec) | precision | users | batch | s / epoch | vs FC-DAE same K "
        "| train peak (GiB) | top-100 users/s | inference peak (GiB) | live GFLOP/s | of dense rate | code |"
    )
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    fc = {(r["k"], r["precision"], r.get("code")): r["epoch_s"] for r in rows if r["model"] == "fcdae"}
    names = {"swdae": "SW-DAE", "fcdae": "FC-DAE", "multvae": "Mult-VAE 600-200"}
    for r in rows:
        base = fc.get((r["k"], r["precision"], r.get("code")))
        ratio = f"{r['epoch_s'] / base:.3f}x" if base and r["model"] != "multvae" else "-"
        if r["model"] == "multvae":
            ratio = " / ".join(
                f"{r['epoch_s'] / v:.2f}x (K={k})"
                for (k, p, code), v in fc.items()
                if p == r["precision"] and code == r.get("code")
            )
            ratio = ratio or "-"
        rate = f"{r['live_gflop_per_s']:.1f}" if "live_gflop_per_s" in r else "-"
        frac = f"{100 * r['fraction_of_dense_rate']:.1f}%" if "fraction_of_dense_rate" in r else "-"
        lines.append(
            f"| {names[r['model']]} | {r['k'] if r['model'] != 'multvae' else '-'} "
            f"| {r.get('link_fraction') or '-'} | {r['backend']} "
            f"| {r['precision']} | {r['train_users']} | {r.get('batch_size', 500)} | {r['epoch_s']:.2f} | {ratio} "
            f"| {r['train_peak_gib']:.2f} | {r['inference_users_per_s']:.0f} | {r['inference_peak_gib']:.2f} "
            f"| {rate} | {frac} | {r.get('code', 'working tree')} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--ks", type=int, nargs="+", default=[1000, 4000, 15000])
    parser.add_argument("--models", nargs="+", default=["swdae", "fcdae", "multvae"])
    parser.add_argument("--backends", nargs="+", default=["auto"], help="SW-DAE layer_backend values")
    parser.add_argument(
        "--link-fractions", type=float, nargs="+", default=[0.1], help="SW-DAE's R / K (the paper's 0.1)"
    )
    parser.add_argument("--precisions", nargs="+", default=["float32"])
    parser.add_argument("--epochs", type=int, default=2, help="epochs per fit; the last one is timed")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every configuration this many times, the codes taking turns; the table shows medians",
    )
    parser.add_argument(
        "--train-users", type=int, default=None, help="fixed user subset (default: 5000 on CPU, all on GPU)"
    )
    parser.add_argument("--inference-users", type=int, default=20000)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=500,
        help="users per training step (the paper's 500; the 'auto' rule gives 32 to 500 on small data)",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run on a {QUICK_SHAPE} matrix")
    parser.add_argument("--out", help="also write the markdown table with run details here")
    parser.add_argument("--jsonl", help="append one JSON record per configuration here")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per configuration")
    parser.add_argument("--cache", help="keep the generated matrix in this .npz file and reuse it")
    parser.add_argument(
        "--baseline-src",
        help="a folder holding another version's sklearn_swdae package, run before the working tree's "
        "for every configuration (same data, same run)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--precision", help=argparse.SUPPRESS)
    parser.add_argument("--link-fraction", type=float, default=0.1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch-size must be an int >= 1 (users per training step), got {args.batch_size}")
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1 (runs of each configuration), got {args.rounds}")
    bad = [f for f in args.link_fractions if not 0 < f <= 1]
    if bad:
        parser.error(f"--link-fractions must lie in (0, 1], got {bad}")
    if args.worker:
        return worker(args)

    import scipy.sparse as sp
    import torch

    shape = QUICK_SHAPE if args.quick else None
    if args.quick:
        args.ks = [max(10, k * QUICK_SHAPE[1] // 20108) for k in args.ks]
        args.inference_users = min(args.inference_users, 5000)
    if args.train_users is None:
        args.train_users = 0 if args.device.startswith("cuda") else 5000
    tic = time.perf_counter()
    if args.cache and os.path.exists(args.cache):
        X = sp.csr_array(sp.load_npz(args.cache))
    else:
        X = ml20m_shaped(shape) if shape else ml20m_shaped()
        if args.cache:
            sp.save_npz(args.cache, sp.csr_matrix(X), compressed=False)
    print(f"X: {X.shape[0]} users x {X.shape[1]} items, {X.nnz} interactions, {time.perf_counter() - tic:.1f} s")
    gpu = torch.cuda.get_device_name(0) if args.device.startswith("cuda") and torch.cuda.is_available() else None
    machine = cpu_description() + (f"; GPU {gpu}" if gpu else "")
    print(f"Machine: {machine}; torch {torch.__version__}; load {os.getloadavg()[0]:.2f}", flush=True)

    configs = []
    for precision in args.precisions:
        for k in args.ks:
            if "fcdae" in args.models:
                configs.append(("fcdae", k, "dense", precision, None))
            if "swdae" in args.models:
                configs += [
                    ("swdae", k, backend, precision, fraction)
                    for fraction in args.link_fractions
                    for backend in args.backends
                ]
        if "multvae" in args.models:
            configs.append(("multvae", 600, "dense", precision, None))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "X.npz")
        sp.save_npz(path, sp.csr_matrix(X), compressed=False)
        del X
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        codes = [("working tree", here)]
        if args.baseline_src:
            codes.insert(0, ("baseline " + os.path.basename(os.path.normpath(args.baseline_src)), args.baseline_src))
        runs = [(c, code) for c in configs for _ in range(args.rounds) for code in codes]
        for (model, k, backend, precision, fraction), (label, src) in runs:
            env = {**os.environ, "PYTHONPATH": src}
            cmd = [
                sys.executable, os.path.abspath(__file__), "--worker", "--data", path, "--model", model,
                "--k", str(k), "--backend", backend, "--precision", precision, "--device", args.device,
                "--epochs", str(args.epochs), "--train-users", str(args.train_users),
                "--batch-size", str(args.batch_size),
                "--inference-users", str(args.inference_users), "--threads", str(args.threads),
            ] + (["--link-fraction", str(fraction)] if fraction else [])  # fmt: skip
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
            except subprocess.TimeoutExpired:
                print(f"{model} K={k} {backend} {precision}: timed out after {args.timeout} s", flush=True)
                continue
            if proc.returncode != 0:
                print(f"{model} K={k} {backend} {precision}: failed\n{proc.stdout}{proc.stderr[-3000:]}", flush=True)
                continue
            row = {**json.loads(proc.stdout.strip().splitlines()[-1]), "code": label}
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.jsonl:
                with open(args.jsonl, "a") as f:
                    f.write(json.dumps({**row, "machine": machine, "date": datetime.date.today().isoformat()}) + "\n")
    table = _table(_median_rows(rows))
    print()
    if args.rounds > 1:
        table = f"Median of {args.rounds} rounds per configuration and code.\n\n" + table
    print(table)
    if args.out:
        command = "python benchmarks/bench_training.py " + " ".join(argv if argv is not None else sys.argv[1:])
        with open(args.out, "w") as f:
            f.write(f"Command: `{command.strip()}`\n\nMachine: {machine}; torch {torch.__version__}\n\n")
            f.write(f"Date: {datetime.date.today().isoformat()}\n\n{table}\n")


if __name__ == "__main__":
    main()
