"""SW-DAE variants against its defaults, on validation users only, over training seeds.

The studies behind the package's defaults compare one change at a time on
the *validation users* of the accuracy benchmark's strong-generalization
split (test users are never scored).  One training seed moves validation
NDCG@100 by about 0.01 on the small datasets, as much as most changes do,
so every variant is fitted with the same seeds as the defaults and the
table gives, next to each mean, the mean of the per-seed differences from
the defaults (the same split, the same seeds: a paired comparison).

A variant is ``NAME=JSON``: keyword arguments of
``SparseWideDAERecommender``, where ``n_clusters``, ``overlap``,
``n_components`` and ``method`` go to its default ``ItemGrouper`` instead
(the first three numbers, or a number times the "auto" value:
``{"n_clusters": "x0.5"}`` halves the K the rules give; ``{"method":
"svd"}`` embeds the items by Algorithm 2).

Usage::

    python benchmarks/bench_variants.py --dataset ml-100k --seeds 0 1 2 \\
        --variant 'lr6e-3={"learning_rate": 6e-3}' --variant 'in0.5={"input_dropout": 0.5}'

Each fit is appended to ``--out`` as one JSON line as soon as it ends, so
a study can be split over several processes and summarized later with
``--summarize FILE``.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from bench_accuracy import DEFAULT_DATA, evaluate, load_dataset, log

from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
from sklearn_swdae.defaults import auto_n_clusters, auto_overlap
from sklearn_swdae.model_selection import strong_generalization_split

METRIC = "ndcg@100"
_GROUPER_KEYS = ("n_clusters", "overlap", "n_components", "method")
DEFAULTS = "defaults"


def _variant(text):
    """NAME=JSON as (name, dict)."""
    name, sep, params = text.partition("=")
    try:
        params = json.loads(params) if sep else None
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--variant {text!r}: the part after '=' is not JSON ({exc})") from None
    if not name or not isinstance(params, dict):
        raise argparse.ArgumentTypeError(f"--variant expects NAME={{...}} (a JSON object), got {text!r}")
    if name == DEFAULTS:
        raise argparse.ArgumentTypeError(f"--variant: the name {DEFAULTS!r} is the defaults' own row")
    return name, params


def _scaled(value, auto_value, key):
    """A number, or 'xF': F times the rule's value."""
    if not isinstance(value, str):
        return value
    try:
        factor = float(value[1:]) if value.startswith("x") else None
    except ValueError:
        factor = None
    if factor is None or not factor > 0:
        raise ValueError(f"{key}: expected a number or 'xF' with F > 0 (F times the auto value), got {value!r}")
    return max(1, int(factor * auto_value + 0.5))


def _check_variants(variants):
    """Unique names and known parameters, before any data is loaded."""
    known = set(SparseWideDAERecommender().get_params()) | set(_GROUPER_KEYS)
    names = [name for name, _ in variants]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"--variant names must be unique (fits are paired by name and seed); repeated: {repeated}")
    for name, params in variants:
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(
                f"--variant {name!r}: unknown parameters {unknown}; use SparseWideDAERecommender's"
                f" parameters or the grouper's {list(_GROUPER_KEYS)}"
            )


def build_model(params, X, seed, device):
    """The defaults' estimator with ``params`` changed (grouper keys resolved against X's shape)."""
    params = dict(params)
    grouping = {key: params.pop(key) for key in _GROUPER_KEYS if key in params}
    n_users, n_items = X.shape
    if "n_clusters" in grouping:
        grouping["n_clusters"] = _scaled(grouping["n_clusters"], auto_n_clusters(n_items, n_users), "n_clusters")
    if "overlap" in grouping:
        K = grouping.get("n_clusters", auto_n_clusters(n_items, n_users))
        grouping["overlap"] = _scaled(grouping["overlap"], auto_overlap(K, n_items, n_users), "overlap")
    # Unseeded, so that the estimator seeds it from its own random stream as
    # it seeds its default grouper, and the weights and dropout then draw
    # what the defaults' draw.  A grouper seeded apart left that stream
    # untouched, so a variant also trained from other draws than the
    # defaults: ML-100K's SVD embedding, seed 0, scored 0.4642 that way and
    # 0.4610 paired (bench_accuracy.py's validated search).
    grouper = ItemGrouper(**grouping) if grouping else None
    return SparseWideDAERecommender(grouper=grouper, device=device, random_state=seed, **params)


def fit_one(name, params, split, seed, args):
    model = build_model(params, split.train, seed, args.device)
    tic = time.perf_counter()
    model.fit(split.train)
    seconds = time.perf_counter() - tic
    scores = evaluate(model, split.validation_fold_in, split.validation_held_out)
    return {
        "dataset": args.label,
        "variant": name,
        "params": params,
        "seed": seed,
        "validation_ndcg@100": scores[METRIC],
        "validation_se": scores[METRIC + "_se"],
        "validation_users": scores["n_users"],
        "n_clusters": int(model.connectivity_.shape[0]),
        "overlap": int(np.asarray(model.connectivity_.sum(axis=0)).max()),
        "batch_size": int(model.batch_size_),
        "best_epoch": int(model.best_epoch_),
        "epochs": len(model.history_),
        # the hold-out curve shows whether a fit was still improving when it stopped
        "holdout_curve": [round(r[METRIC], 5) for r in model.history_ if METRIC in r],
        "fit_seconds": seconds,
        "command": " ".join(sys.argv),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def summarize(records):
    """Per dataset and variant: mean score, mean paired difference from the defaults, seeds."""
    by_key = {}
    for r in records:
        by_key.setdefault((r["dataset"], r["variant"]), {})[r["seed"]] = r
    rows = []
    for (dataset, variant), runs in sorted(by_key.items(), key=lambda kv: (kv[0][0], kv[0][1] != DEFAULTS, kv[0][1])):
        base = by_key.get((dataset, DEFAULTS), {})
        paired = [runs[s]["validation_ndcg@100"] - base[s]["validation_ndcg@100"] for s in runs if s in base]
        scores = [r["validation_ndcg@100"] for r in runs.values()]
        rows.append(
            {
                "dataset": dataset,
                "variant": variant,
                "seeds": sorted(runs),
                "mean": float(np.mean(scores)),
                "paired_difference": float(np.mean(paired)) if paired and variant != DEFAULTS else None,
                "paired_seeds": len(paired),
                "wins": sum(d > 0 for d in paired),
                "K": sorted({r["n_clusters"] for r in runs.values()}),
                "R": sorted({r["overlap"] for r in runs.values()}),
                "best_epochs": [runs[s]["best_epoch"] for s in sorted(runs)],
                "fit_seconds": float(np.mean([r["fit_seconds"] for r in runs.values()])),
                "se": float(np.mean([r["validation_se"] for r in runs.values()])),
            }
        )
    return rows


def print_table(rows):
    print(
        "| dataset | variant | K | R | seeds | validation NDCG@100 (mean) | minus defaults (paired) | wins | best epochs | fit (s) |"
    )
    print("|---|---|---:|---:|---|---:|---:|---:|---|---:|")
    for row in rows:
        diff = "" if row["paired_difference"] is None else f"{row['paired_difference']:+.4f}"
        wins = "" if row["paired_difference"] is None else f"{row['wins']}/{row['paired_seeds']}"
        print(
            f"| {row['dataset']} | {row['variant']} | {'/'.join(map(str, row['K']))} | "
            f"{'/'.join(map(str, row['R']))} | {' '.join(map(str, row['seeds']))} | {row['mean']:.4f} "
            f"(s.e. {row['se']:.4f}) | {diff} | {wins} | {' '.join(map(str, row['best_epochs']))} | "
            f"{row['fit_seconds']:.0f} |"
        )


def read_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="a folder name under --data-root, or 'synthetic'")
    parser.add_argument("--data-root", default=os.environ.get("SWDAE_SHARED_DATA", DEFAULT_DATA))
    parser.add_argument("--variant", type=_variant, action="append", default=[], help="NAME=JSON (repeatable)")
    parser.add_argument("--no-defaults", action="store_true", help="skip the defaults' own fits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--validation-users", type=float, default=0.1)
    parser.add_argument("--test-users", type=float, default=0.1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="append each fit as one JSON line to this file")
    parser.add_argument("--summarize", metavar="FILE", help="print the table of FILE's records and exit")
    # load_dataset reads these MovieLens options of bench_accuracy.py.
    parser.set_defaults(min_rating=None, min_user_items=None, file=None)
    args = parser.parse_args(argv)
    if args.summarize:
        rows = summarize(read_records(args.summarize))
        print_table(rows)
        return rows
    if not args.dataset:
        parser.error("--dataset is required unless --summarize is given")
    variants = ([] if args.no_defaults else [(DEFAULTS, {})]) + args.variant
    if not variants:
        parser.error("nothing to fit: --no-defaults and no --variant")
    try:
        _check_variants(variants)
    except ValueError as exc:
        parser.error(str(exc))
    args.label, X = load_dataset(args.dataset, args)
    split = strong_generalization_split(X, n_validation=args.validation_users, n_test=args.test_users)
    log(f"{args.label}: {split.train.shape[0]} training users x {split.train.shape[1]} items")
    records = []
    for seed in args.seeds:
        for name, params in variants:
            record = fit_one(name, params, split, seed, args)
            log(
                f"  {name} seed {seed}: validation {record['validation_ndcg@100']:.4f}, "
                f"best epoch {record['best_epoch']}, fit {record['fit_seconds']:.0f} s"
            )
            records.append(record)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(record) + "\n")
    rows = summarize(records)
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
