"""SW-DAE on real MovieLens data under the paper's strong-generalization protocol.

Two studies, both selecting on validation users only:

``--study defaults``
    Compares the choices the package must make a default for (the loss:
    multinomial vs Bernoulli; the row normalization before K-means: l2 vs
    l1) at one K, and reports validation NDCG@100 / Recall@20 / Recall@50.
    Test users are not looked at.
``--study evaluate``
    Fits SW-DAE with the package defaults for every K of ``--k``, selects K
    on validation NDCG@100, and evaluates the selected model and a
    popularity ranking once on the test users (mean and standard error).

Data: ratings >= 4 are positive and users need 5 of them (the paper's ML-20M
preprocessing, ``preprocess_interactions(..., "ml-20m")``); 10% of the users
are validation users and 10% test users (``strong_generalization_split``
with its fixed default seed), 80/20 fold-in / held-out.

Example::

    python benchmarks/bench_movielens.py --dataset ml-1m --study evaluate --k 1000 2000
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
    X, _, _ = preprocess_interactions(bunch.data, "ml-20m")
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
    parser.add_argument("--study", choices=["defaults", "evaluate"], default="evaluate")
    parser.add_argument("--k", type=int, nargs="+", default=[1000], help="K values (hidden units)")
    parser.add_argument("--max-iter", type=int, default=100, help="epochs (paper: 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="append one JSON record per line here")
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

    if args.study == "defaults":
        for K in args.k:
            for loss in ("multinomial", "bernoulli"):
                for normalize in ("l2", "l1"):
                    model, seconds = fit_swdae(
                        split.train, K, args.seed, args.max_iter, loss=loss, grouper_normalize=normalize
                    )
                    record = {
                        "study": "defaults",
                        "K": K,
                        "loss": loss,
                        "normalize": normalize,
                        "best_epoch": model.best_epoch_,
                        "fit_seconds": round(seconds, 1),
                        "validation": evaluate(model, split.validation_fold_in, split.validation_held_out),
                    }
                    log(record, args.out)
        return

    best = None
    for K in args.k:
        model, seconds = fit_swdae(split.train, K, args.seed, args.max_iter)
        validation = evaluate(model, split.validation_fold_in, split.validation_held_out)
        log({"study": "evaluate", "model": "SW-DAE", "K": K, "fit_seconds": round(seconds, 1),
             "best_epoch": model.best_epoch_, "validation": validation}, args.out)
        if best is None or validation["ndcg@100"] > best[1]["ndcg@100"]:
            best = (model, validation, K, seconds)
    model, validation, K, seconds = best
    log({"study": "evaluate", "model": "SW-DAE", "selected_K": K, "fit_seconds": round(seconds, 1),
         "test": evaluate(model, split.test_fold_in, split.test_held_out)}, args.out)
    tic = time.perf_counter()
    popularity = PopularityRecommender().fit(split.train)
    seconds = time.perf_counter() - tic
    log({"study": "evaluate", "model": "Popularity", "fit_seconds": round(seconds, 3),
         "validation": evaluate(popularity, split.validation_fold_in, split.validation_held_out),
         "test": evaluate(popularity, split.test_fold_in, split.test_held_out)}, args.out)


if __name__ == "__main__":
    main()
