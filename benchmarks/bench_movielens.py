"""SW-DAE on real MovieLens data under the paper's strong-generalization protocol.

Fits SW-DAE for every combination of ``--k`` (hidden units K, with
R = 0.1 K and F = 50 as in section 4.3), ``--losses`` (multinomial vs
Bernoulli likelihood) and ``--normalizations`` (row normalization before
K-means: l2 vs l1), records each one's validation Recall@20, Recall@50 and
NDCG@100, selects the combination with the best validation NDCG@100, and
evaluates it once on the test users, next to a popularity ranking (mean and
standard error over test users).  Test users play no part in any choice, and
the per-combination validation figures are what the package's defaults for
the loss and the normalization were chosen from.

Data: ratings >= 4 are positive and users need 5 of them (the paper's ML-20M
preprocessing, ``preprocess_interactions(..., "ml-20m")``); 10% of the users
are validation users and 10% test users (``strong_generalization_split``
with its fixed default seed), 80/20 fold-in / held-out.

Example::

    python benchmarks/bench_movielens.py --dataset ml-1m --k 1000 2000 --out results.jsonl
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from sklearn_swdae import ItemGrouper, PopularityRecommender, SparseWideDAERecommender
from sklearn_swdae.datasets import load_movielens, preprocess_interactions
from sklearn_swdae.metrics import evaluate_rankings
from sklearn_swdae.model_selection import strong_generalization_split

METRICS = ("recall@20", "recall@50", "ndcg@100")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load_split(dataset, data_root):
    bunch = load_movielens(Path(data_root) / dataset)
    X = preprocess_interactions(bunch.data, "ml-20m").data
    split = strong_generalization_split(X, n_validation=0.1, n_test=0.1)
    return X, split


def summarize(per_user):
    out = {}
    for name, values in per_user.items():
        values = values[~np.isnan(values)]
        out[name] = float(values.mean())
        out[name + "_se"] = float(values.std(ddof=1) / np.sqrt(values.size))
        out["n_users"] = int(values.size)
    return out


def evaluate(model, fold_in, held_out):
    return summarize(evaluate_rankings(model.decision_function, fold_in, held_out, METRICS))


def fit_swdae(train, n_clusters, seed, max_iter, **params):
    grouper_params = {k[8:]: params.pop(k) for k in list(params) if k.startswith("grouper_")}
    model = SparseWideDAERecommender(
        grouper=ItemGrouper(n_clusters=n_clusters, random_state=seed, **grouper_params),
        max_iter=max_iter,
        random_state=seed,
        **params,
    )
    tic = time.perf_counter()
    model.fit(train)
    return model, time.perf_counter() - tic


def log(record, out):
    print(json.dumps(record), flush=True)
    if out:
        with open(out, "a") as fh:
            fh.write(json.dumps(record) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ml-1m", help="folder name under --data-root")
    parser.add_argument("--data-root", default=os.environ.get("SWDAE_SHARED_DATA", DEFAULT_DATA))
    parser.add_argument("--k", type=int, nargs="+", default=[1000], help="K values (hidden units)")
    parser.add_argument("--losses", nargs="+", default=["multinomial", "bernoulli"])
    parser.add_argument("--normalizations", nargs="+", default=["l2", "l1"])
    parser.add_argument("--max-iter", type=int, default=100, help="epochs (paper: 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument(
        "--precisions", nargs="+", default=["float32"], help="float32, tf32, bfloat16 (GPU speed options)"
    )
    parser.add_argument("--out", default=None, help="append one JSON record per line here")
    parser.add_argument("--validation-only", action="store_true", help="compare configurations; never touch test users")
    args = parser.parse_args(argv)

    X, split = load_split(args.dataset, args.data_root)
    meta = {
        "dataset": args.dataset,
        "users": X.shape[0],
        "items_after_split": split.train.shape[1],
        "train_users": split.train.shape[0],
        "validation_users": split.validation_fold_in.shape[0],
        "test_users": split.test_fold_in.shape[0],
        "interactions": int(X.nnz),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
    }
    log({"meta": meta}, args.out)

    best = None
    for K in args.k:
        for loss in args.losses:
            for normalize in args.normalizations:
                for precision in args.precisions:
                    model, seconds = fit_swdae(
                        split.train, K, args.seed, args.max_iter, loss=loss, grouper_normalize=normalize,
                        device=args.device, precision=precision,
                    )  # fmt: skip
                    validation = evaluate(model, split.validation_fold_in, split.validation_held_out)
                    config = {"K": K, "loss": loss, "normalize": normalize, "precision": precision}
                    log({"model": "SW-DAE", **config, "device": str(model.device_),
                         "best_epoch": model.best_epoch_, "fit_seconds": round(seconds, 1),
                         "validation": validation}, args.out)  # fmt: skip
                    if best is None or validation["ndcg@100"] > best[1]["ndcg@100"]:
                        best = (model, validation, config, seconds)
    if args.validation_only:
        return
    model, validation, config, seconds = best
    log(
        {
            "model": "SW-DAE",
            "selected": config,
            "fit_seconds": round(seconds, 1),
            "validation": validation,
            "test": evaluate(model, split.test_fold_in, split.test_held_out),
        },
        args.out,
    )
    tic = time.perf_counter()
    popularity = PopularityRecommender().fit(split.train)
    seconds = time.perf_counter() - tic
    log(
        {
            "model": "Popularity",
            "fit_seconds": round(seconds, 3),
            "validation": evaluate(popularity, split.validation_fold_in, split.validation_held_out),
            "test": evaluate(popularity, split.test_fold_in, split.test_held_out),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
