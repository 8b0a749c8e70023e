"""Training budget of SW-DAE: what more epochs or early stopping buy on validation users.

One long fit per dataset at the package's defaults (``max_iter`` raised to
``--max-iter``) on the training users of the accuracy benchmark's
strong-generalization split.  The engine selects the epoch on its own
holdout (``validation_fraction`` of the training users) as in any fit; at
every epoch the holdout improves, a callback also scores the weights of
that epoch (the averaged ones, as the engine keeps them) on the split's
*validation users*, the users the benchmark selects models by.  Test users
are never scored.

Nothing at the defaults depends on ``max_iter`` (no schedule), so the first
M epochs of the long run are exactly a fit with ``max_iter=M``.  Each rule
``M:P`` (at most M epochs, stop after P epochs without an improvement of
the holdout by more than ``tol``; P = 0 never stops early) is replayed on
the run's history with the engine's own ``EarlyStopping``: the table gives
the epoch the rule stops at, the epoch it keeps (the best holdout epoch so
far) and that epoch's validation-user NDCG@100.

Usage::

    python benchmarks/bench_epochs.py --dataset ml-100k --max-iter 200
    python benchmarks/bench_epochs.py --dataset ml-1m --max-iter 200 --rules 100:0 200:0 200:20
"""

import argparse
import json
import os
import sys
import time

import torch
from bench_accuracy import DEFAULT_DATA, load_dataset, log

from sklearn_swdae import SparseWideDAERecommender
from sklearn_swdae.model_selection import strong_generalization_split
from sklearn_swdae.training import Callback, EarlyStopping

METRIC = "ndcg@100"


class _ScoreImprovingEpochs(Callback):
    """Validation-user scores of the epochs the engine flags as its best so far."""

    def __init__(self, fold_in, held_out):
        self.fold_in, self.held_out = fold_in, held_out
        self.scores = {}

    def on_epoch_end(self, engine, record):
        if record.get("best"):
            self.scores[record["epoch"]] = engine.validate(self.fold_in, self.held_out)[METRIC]
            log(
                f"  epoch {record['epoch']}: holdout {record[METRIC]:.4f}, validation users {self.scores[record['epoch']]:.4f}"
            )


def replay(history, scores, max_iter, patience, tol):
    """(stop epoch, kept epoch, its validation-user score) of one rule."""
    stopping = EarlyStopping(patience, tol) if patience else None
    kept = None
    for end, record in enumerate(history[:max_iter], start=1):
        if record.get("best"):
            kept = record["epoch"]
        if stopping is not None and stopping.epochs_since_improvement(history[:end]) >= patience:
            break
    return end, kept, scores[kept]


def _rule(text):
    """MAX_ITER:PATIENCE (or MAX_ITER alone: no early stopping) as two ints."""
    max_iter, _, patience = text.partition(":")
    try:
        rule = int(max_iter), int(patience or 0)
    except ValueError:
        rule = None
    if rule is None or rule[0] < 1 or rule[1] < 0:
        raise argparse.ArgumentTypeError(
            f"expected MAX_ITER:PATIENCE with MAX_ITER >= 1 and PATIENCE >= 0 (0: none), got {text!r}"
        )
    return rule


def run(name, args):
    label, X = load_dataset(name, args)
    split = strong_generalization_split(X, n_validation=args.validation_users, n_test=args.test_users)
    scorer = _ScoreImprovingEpochs(split.validation_fold_in, split.validation_held_out)
    model = SparseWideDAERecommender(
        max_iter=args.max_iter, callbacks=[scorer], device=args.device, random_state=args.seed
    )
    log(f"{label}: {split.train.shape[0]} training users x {split.train.shape[1]} items, {args.max_iter} epochs")
    tic = time.perf_counter()
    model.fit(split.train)
    seconds = time.perf_counter() - tic
    rows = []
    for max_iter, patience in args.rules:
        stop, kept, score = replay(model.history_, scorer.scores, max_iter, patience, model.tol)
        rows.append(
            {
                "max_iter": max_iter,
                "patience": patience,
                "stops_at": stop,
                "kept_epoch": kept,
                "validation_ndcg@100": score,
            }
        )
    return {
        "dataset": label,
        "train_users": int(split.train.shape[0]),
        "items": int(split.train.shape[1]),
        "resolved": {
            "n_clusters": int(model.grouper_.n_clusters_),
            "overlap": int(model.grouper_.overlap_),
            "batch_size": int(model.batch_size_),
        },
        "fit_seconds": seconds,
        "holdout_best_epoch": int(model.best_epoch_),
        "scores": {str(k): v for k, v in scorer.scores.items()},
        "rules": rows,
        "command": " ".join(sys.argv),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def print_table(result):
    print(
        f"\n{result['dataset']}: K = {result['resolved']['n_clusters']}, R = {result['resolved']['overlap']}, "
        f"batch {result['resolved']['batch_size']}; fit {result['fit_seconds']:.0f} s"
    )
    print("| max_iter | patience | stops at | kept epoch | validation NDCG@100 |")
    print("|---:|---:|---:|---:|---:|")
    for row in result["rules"]:
        patience = row["patience"] or "none"
        print(
            f"| {row['max_iter']} | {patience} | {row['stops_at']} | {row['kept_epoch']} | "
            f"{row['validation_ndcg@100']:.4f} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="a folder name under --data-root, or 'synthetic'")
    parser.add_argument("--data-root", default=os.environ.get("SWDAE_SHARED_DATA", DEFAULT_DATA))
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument(
        "--rules",
        type=_rule,
        nargs="+",
        default=None,
        help="MAX_ITER:PATIENCE pairs to replay (default: 100, 150 and --max-iter epochs without"
        " early stopping; 100 and --max-iter epochs with patience 10 and 20)",
    )
    parser.add_argument("--validation-users", type=float, default=0.1)
    parser.add_argument("--test-users", type=float, default=0.1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="append the result as one JSON line to this file")
    # load_dataset reads these MovieLens options of bench_accuracy.py.
    parser.set_defaults(min_rating=None, min_user_items=None, file=None)
    args = parser.parse_args(argv)
    if args.rules is None:
        args.rules = [
            (100, 0),
            (150, 0),
            (args.max_iter, 0),
            (100, 10),
            (100, 20),
            (args.max_iter, 10),
            (args.max_iter, 20),
        ]
        args.rules = sorted(set(rule for rule in args.rules if rule[0] <= args.max_iter))
    if args.max_iter < 1:
        parser.error(f"--max-iter must be a positive number of epochs, got {args.max_iter}")
    too_long = [m for m, _ in args.rules if m > args.max_iter]
    if too_long:
        parser.error(f"--rules ask for {max(too_long)} epochs, more than --max-iter {args.max_iter}")
    result = run(args.dataset, args)
    print_table(result)
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(result) + "\n")
    return result


if __name__ == "__main__":
    main()
