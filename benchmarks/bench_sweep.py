"""Wall time of a K x R x F sweep of SW-DAE: sequential, n_jobs, Dask.

The sweep is the package's first use: ``GridSearchCV`` over the item
grouper's K (``n_clusters``), R (``overlap``) and F (``n_components``) of a
``Pipeline(ItemGrouper, SparseWideDAERecommender)``, scored by NDCG@100 on
the held-out fold (2-fold CV, no refit).  The same 12-point grid runs

* sequentially (``n_jobs=1``): one fit at a time, torch and BLAS on every core;
* with ``n_jobs=N`` (joblib's loky backend): N worker processes, each limited
  to ``cpu_count // N`` threads (see ``sklearn_swdae._parallel``);
* on a ``LocalCluster`` of N worker processes with one thread each, through
  joblib's Dask backend (its start-up is timed separately).

The parallel sweeps run twice: the first ("cold") run includes starting the
loky workers and importing torch in the workers, as a user's first sweep
would; the second ("warm") reuses them.  The table gives wall seconds and the speedup
over the sequential run measured in the same invocation, and checks that the
three sweeps chose the same parameters (their scores differ at most by the
rounding of sums over different numbers of threads).

Usage::

    python benchmarks/bench_sweep.py                       # generated data
    python benchmarks/bench_sweep.py --dataset ml-100k     # shared/data/ml-100k
    python benchmarks/bench_sweep.py --quick               # smoke run
"""

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
from sklearn_swdae.datasets import load_movielens, make_interactions, preprocess_interactions


def _data(args):
    if args.dataset == "generated":
        X, _ = make_interactions(args.users, args.items, 40, density=0.05, noise=0.05, random_state=0)
        return X, f"generated, make_interactions({args.users}, {args.items}, 40, density=0.05)"
    root = Path(args.data_root or Path(__file__).resolve().parents[2] / "shared" / "data")
    bunch = load_movielens(root / args.dataset)
    X = preprocess_interactions(bunch.data, "ml-20m").data
    return X, f"{args.dataset} (ratings >= 4, users with >= 5)"


def _search(args, n_jobs):
    pipeline = Pipeline(
        [
            ("group", ItemGrouper(random_state=0)),
            (
                "dae",
                SparseWideDAERecommender(max_iter=args.epochs, device="cpu", random_state=0, validation_fraction=None),
            ),
        ]
    )
    grid = {
        "group__n_clusters": args.ks,
        "group__overlap": args.rs,
        "group__n_components": args.fs,
    }
    return GridSearchCV(pipeline, grid, cv=KFold(2, shuffle=True, random_state=0), refit=False, n_jobs=n_jobs)


def _timed_fit(search, X):
    tic = time.perf_counter()
    search.fit(X)
    return time.perf_counter() - tic, search


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="generated", help="'generated' or a MovieLens folder name")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--ks", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--rs", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--fs", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="small data and grid, 3 epochs")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.items, args.ks, args.epochs = 600, 120, [20, 40, 60], 3

    X, description = _data(args)
    n_points = len(args.ks) * len(args.rs) * len(args.fs)
    print(f"# {description}: {X.shape[0]} users x {X.shape[1]} items, {X.nnz} interactions")
    print(
        f"# grid K={args.ks} x R={args.rs} x F={args.fs} = {n_points} points, 2-fold CV "
        f"({2 * n_points} fits), {args.epochs} epochs each"
    )
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (joblib sees "
        f"{joblib.cpu_count()}), python {platform.python_version()}, {datetime.date.today()}"
    )
    sys.stdout.flush()

    rows = []
    seconds, sequential = _timed_fit(_search(args, 1), X)
    rows.append(("sequential (n_jobs=1)", seconds, sequential))
    seconds, loky = _timed_fit(_search(args, args.n_jobs), X)
    rows.append((f"n_jobs={args.n_jobs} (loky), cold: starts the workers", seconds, loky))
    seconds, loky = _timed_fit(_search(args, args.n_jobs), X)
    rows.append((f"n_jobs={args.n_jobs} (loky), warm: workers reused", seconds, loky))

    from distributed import Client, LocalCluster

    tic = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.n_jobs, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        startup = time.perf_counter() - tic
        with joblib.parallel_config(backend="dask"):
            for state in ("cold: first tasks import torch", "warm"):
                seconds, dask = _timed_fit(_search(args, -1), X)
                rows.append((f"Dask LocalCluster, {args.n_jobs} workers x 1 thread, {state}", seconds, dask))

    reference = sequential.cv_results_["mean_test_score"]
    print()
    print("| sweep | wall s | speedup vs sequential | best (K, R, F) | max abs score diff vs sequential |")
    print("|---|---:|---:|---|---:|")
    for name, seconds, search in rows:
        scores = search.cv_results_["mean_test_score"]
        best = search.cv_results_["params"][int(np.argmax(scores))]
        key = (best["group__n_clusters"], best["group__overlap"], best["group__n_components"])
        diff = float(np.max(np.abs(scores - reference)))
        print(f"| {name} | {seconds:.1f} | {rows[0][1] / seconds:.2f} | {key} | {diff:.1e} |")
    print(f"\nDask cluster start-up (not included above): {startup:.1f} s")


if __name__ == "__main__":
    main()
