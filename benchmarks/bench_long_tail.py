"""Where SW-DAE and EASE differ: held-out hits by item popularity, score blends, a popularity correction.

A diagnostic on the *validation users* of the accuracy benchmark's
strong-generalization split (test users are never scored).  It fits
SW-DAE at its defaults and EASE at ``--ease-alpha`` on the training
users, then prints three tables:

1. hits in the top 100 of each model, by how many training users saved
   the held-out item (the item's popularity bucket): which items one
   model finds and the other misses;
2. validation NDCG@100 of blends ``w * z(SW-DAE) + (1 - w) * z(EASE)`` of
   the per-user standardized scores: whether the two models' rankings
   carry information the other lacks (a blend above both) or one
   dominates;
3. validation NDCG@100 of SW-DAE's scores minus ``gamma * log(1 +
   popularity)``: whether its lists lean on popular items more than the
   validation users' held-out items do.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_long_tail.py --dataset citeulike-t --ease-alpha 50 --out tail.json

Nothing here selects a model: the tables explain a gap measured by
``bench_accuracy.py``, they do not close it.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from bench_accuracy import DEFAULT_DATA, load_dataset, log, summarize

from sklearn_swdae import EASERecommender, SparseWideDAERecommender
from sklearn_swdae.metrics import evaluate_rankings, top_k_items
from sklearn_swdae.model_selection import strong_generalization_split

METRIC = "ndcg@100"
TOP = 100


def standardized(scores):
    """Each row to zero mean and unit standard deviation (a blend of two models' scales)."""
    scores = np.asarray(scores, dtype=np.float64)
    spread = scores.std(axis=1, keepdims=True)
    return (scores - scores.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)


def validation_ndcg(scores, fold_in, held_out):
    """NDCG@100 of a dense (users, items) score matrix, seen items excluded."""
    # One batch of all the users, so the scoring function hands back the whole matrix.
    per_user = evaluate_rankings(
        lambda batch: scores, fold_in, held_out, (METRIC,), batch_size=max(1, fold_in.shape[0])
    )
    return summarize(per_user)[METRIC]


def hits_by_popularity(scores, fold_in, held_out, popularity, edges):
    """(hits in the top ``TOP``, held-out items) per popularity bucket ``[edges[i], edges[i + 1])``."""
    scores = np.array(scores, dtype=np.float64)
    rows, cols = fold_in.nonzero()
    scores[rows, cols] = -np.inf
    top = top_k_items(scores, min(TOP, scores.shape[1]))
    users, items = held_out.nonzero()
    found = (top[users] == items[:, None]).any(axis=1)
    bucket = np.digitize(popularity[items], edges) - 1
    n_buckets = len(edges) - 1
    return np.bincount(bucket, weights=found, minlength=n_buckets)[:n_buckets], np.bincount(
        bucket, minlength=n_buckets
    )[:n_buckets]


def _bucket_name(lo, hi):
    return f"{lo}+" if hi is None else (f"{lo}" if hi == lo + 1 else f"{lo}-{hi - 1}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="a folder name under --data-root, or 'synthetic'")
    parser.add_argument("--data-root", default=os.environ.get("SWDAE_SHARED_DATA", DEFAULT_DATA))
    parser.add_argument("--seed", type=int, default=0, help="SW-DAE's training seed")
    parser.add_argument("--ease-alpha", type=float, default=500.0, help="EASE's L2 penalty (its default: 500)")
    parser.add_argument(
        "--edges",
        type=int,
        nargs="+",
        default=[0, 1, 3, 10, 30, 100],
        help="lower bounds of the popularity buckets, from 0",
    )
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--gammas", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3, 0.5])
    parser.add_argument("--validation-users", type=float, default=0.1)
    parser.add_argument("--test-users", type=float, default=0.1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="write the figures to this JSON file")
    # load_dataset reads these MovieLens options of bench_accuracy.py.
    parser.set_defaults(min_rating=None, min_user_items=None, file=None)
    args = parser.parse_args(argv)
    if not args.ease_alpha > 0:
        parser.error(f"--ease-alpha must be > 0, got {args.ease_alpha}")
    if sorted(set(args.edges)) != args.edges or args.edges[0] != 0:
        parser.error(f"--edges must be increasing counts starting at 0 (every item in a bucket), got {args.edges}")
    if any(not 0.0 <= w <= 1.0 for w in args.weights):
        parser.error(f"--weights must lie in [0, 1], got {args.weights}")
    return args


def main(argv=None):
    args = parse_args(argv)
    label, X = load_dataset(args.dataset, args)
    split = strong_generalization_split(X, n_validation=args.validation_users, n_test=args.test_users)
    fold_in, held_out = split.validation_fold_in, split.validation_held_out
    log(f"{label}: {split.train.shape[0]} training users x {split.train.shape[1]} items")

    # Only the validation users' scores are kept: one fitted model at a
    # time (EASE's is an items x items matrix, 4.6 GB on citeulike-t).
    fitted = {}
    for name, make in (
        ("SW-DAE", lambda: SparseWideDAERecommender(device=args.device, random_state=args.seed)),
        ("EASE", lambda: EASERecommender(alpha=args.ease_alpha)),
    ):
        tic = time.perf_counter()
        model = make().fit(split.train)
        log(f"  {name} fitted in {time.perf_counter() - tic:.0f} s")
        fitted[name] = np.asarray(model.decision_function(fold_in), dtype=np.float64)
        del model

    popularity = np.asarray(split.train.sum(axis=0)).ravel()
    edges = list(args.edges) + [max(int(popularity.max()), args.edges[-1]) + 1]
    names = [_bucket_name(lo, hi) for lo, hi in zip(args.edges, args.edges[1:] + [None])]
    buckets = {
        name: hits_by_popularity(scores, fold_in, held_out, popularity, edges) for name, scores in fitted.items()
    }
    held = buckets["SW-DAE"][1]
    print(f"\nHeld-out items found in the top {TOP}, by the item's training users ({label}, validation users)\n")
    print("| training users of the item | held-out items | SW-DAE | EASE |")
    print("|---|---:|---:|---:|")
    for i, name in enumerate(names):
        print(f"| {name} | {held[i]} | {buckets['SW-DAE'][0][i]:.0f} | {buckets['EASE'][0][i]:.0f} |")

    z_swdae, z_ease = standardized(fitted["SW-DAE"]), standardized(fitted["EASE"])
    blends = {w: validation_ndcg(w * z_swdae + (1 - w) * z_ease, fold_in, held_out) for w in args.weights}
    print(f"\nBlends w * SW-DAE + (1 - w) * EASE (standardized scores): validation {METRIC}\n")
    print("| w | " + " | ".join(f"{w:g}" for w in blends) + " |")
    print("|---|" + "---:|" * len(blends))
    print(f"| {METRIC} | " + " | ".join(f"{v:.4f}" for v in blends.values()) + " |")

    log_popularity = np.log1p(popularity)
    corrected = {g: validation_ndcg(fitted["SW-DAE"] - g * log_popularity, fold_in, held_out) for g in args.gammas}
    print(f"\nSW-DAE's scores minus gamma * log(1 + popularity): validation {METRIC}\n")
    print("| gamma | " + " | ".join(f"{g:g}" for g in corrected) + " |")
    print("|---|" + "---:|" * len(corrected))
    print(f"| {METRIC} | " + " | ".join(f"{v:.4f}" for v in corrected.values()) + " |")

    record = {
        "dataset": label,
        "seed": args.seed,
        "ease_alpha": args.ease_alpha,
        "buckets": names,
        "held_out": held.tolist(),
        "hits": {name: hits.tolist() for name, (hits, _) in buckets.items()},
        "blends": {f"{w:g}": v for w, v in blends.items()},
        "popularity_correction": {f"{g:g}": v for g, v in corrected.items()},
        "command": " ".join(sys.argv),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if args.out:
        with open(args.out, "w") as f:
            json.dump(record, f, indent=1)
    return record


if __name__ == "__main__":
    main()
