"""The paper's accuracy comparison (its Table 3) on one or several datasets.

For each dataset: the paper's preprocessing (ratings >= 4 are positives,
users need 5 of them; ``preprocess_interactions(..., "ml-20m")``), the
strong-generalization split (``strong_generalization_split`` with its fixed
seed: 10% validation and 10% test users, 80/20 fold-in / held-out), then for
every model a small hyperparameter search scored on the *validation* users
only (NDCG@100), and a single evaluation of the selected configuration on
the test users.  Each autoencoder also keeps its best epoch on 10% of the
training users (``validation_fraction=0.1``), never on test users.

Three settings (``--settings``):

- ``paper`` (default): the searches below, at the paper's settings
  (section 4); this reproduces the paper's Table 3.
- ``defaults``: every model once, at the package's defaults (no tuning by
  the user: SW-DAE's data-shaped "auto" rules, the others' own defaults),
  plus ``swdae-paper``, SW-DAE at the paper's settings with K =
  ``--paper-k``, side by side with fit times.
- ``validated``: the searches below plus, for every autoencoder (SW-DAE,
  FC-DAE, Mult-VAE, Mult-DAE, CDAE), its package defaults as one more
  candidate; each model keeps whichever configuration its validation users
  prefer.  For SW-DAE this puts the data-shaped rules (K, R, batch size,
  learning rate) in competition with the paper's K grid, and adds the
  defaults with the SVD embedding (Algorithm 2, ``ItemGrouper(method="svd")``)
  in place of the Laplacian one: the paper offers both, and neither is
  ahead on every dataset's validation users (``benchmarks/RESULTS.md``).

Next to Recall and NDCG the tables report how personal the test users'
top-20 lists are: the catalogue coverage (share of items in at least one
list) and the mean popularity rank of the listed items (1 = most
consumed).  CiteULike folders (``users.dat``) are read with
``load_citeulike`` and keep users with 5 or more saves.

Models and searches (``--models``; the paper's settings, section 4):

- ``swdae``: SW-DAE, K over ``--k-grid`` (K <= n_items), R = 0.1 K
  (``--overlap``), F = 50.
- ``swdae-p``: SW-DAE with Mult-VAE's number of parameters at R = 0.1 K
  (``n_clusters_for_parameters``); reported as not reachable when that needs
  more groups than items.
- ``fc-prune``: the best FC-DAE width, pruned to 50% / 90% sparsity and
  retrained (Han et al.; the paper's FC-Prune).
- ``fc-reg``: the best FC-DAE width with an L1 penalty on the hidden
  activations, lambda in {1e-4, 1e-3, 1e-2} (Table 5's best region).
- ``fcdae``: FC-DAE (SW-DAE's settings, fully connected), width over
  ``--fc-grid``.
- ``multvae`` / ``multdae``: Liang et al.'s 600-200 / 200 architectures,
  input dropout 0.5; Mult-VAE's KL weight reaches its cap 0.2 after 80% of
  the updates (Liang's 200,000-step schedule scaled to the data).
- ``cdae``: CDAE with 200 hidden units (new users: zero user vector).
- ``ease``: EASE, L2 over {10, 50, 100, 200, 500, 1000} (``--ease-grid``).
- ``slim``: SLIM, L1 in {0.1, 0.5, 1, 5} (the paper's grid) with L2 = L1.
- ``wmf``: WMF (``implicit``, optional), confidence weight in
  {2, 5, 10, 30, 50, 100} x factors in {100, 200} (the paper's grid).
- ``popularity``: the same list for everyone.

Outputs, per dataset, in ``--out``: ``<dataset>.md`` (the table), ``<dataset>.json``
(the table, every validated configuration, the data and the machine) and
``<dataset>.png`` (test NDCG@100 against parameters; skipped with a message
when matplotlib is missing).

Examples::

    python benchmarks/bench_accuracy.py --datasets ml-100k ml-latest-small ml-1m --device cuda --out results/
    python benchmarks/bench_accuracy.py --dataset ml-100k --quick --device cpu --out /tmp/acc
    python benchmarks/bench_accuracy.py --file ratings.csv --user-col userId --item-col movieId \\
        --rating-col rating --out results/

``--dataset synthetic`` uses generated data (no files needed).
"""

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone

from sklearn_swdae import (
    CDAERecommender,
    EASERecommender,
    FCDAERecommender,
    ItemGrouper,
    MultDAERecommender,
    MultVAERecommender,
    PopularityRecommender,
    PrunedDAERecommender,
    SLIMRecommender,
    SparseWideDAERecommender,
    WMFRecommender,
    n_clusters_for_parameters,
)
from sklearn_swdae._torch_utils import resolve_device
from sklearn_swdae.datasets import (
    load_citeulike,
    load_interactions,
    load_movielens,
    make_interactions,
    preprocess_interactions,
)
from sklearn_swdae.defaults import paper_settings
from sklearn_swdae.metrics import catalog_coverage, evaluate_rankings, mean_popularity_rank, top_k_items
from sklearn_swdae.model_selection import strong_generalization_split

METRICS = ("recall@20", "recall@50", "ndcg@100")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ALL_MODELS = (
    "swdae",
    "swdae-paper",
    "swdae-p",
    "fc-prune",
    "fc-reg",
    "fcdae",
    "multvae",
    "multdae",
    "cdae",
    "ease",
    "slim",
    "wmf",
    "popularity",
)
LABELS = {
    "swdae": "SW-DAE",
    "swdae-paper": "SW-DAE (paper)",
    "swdae-p": "SW-DAE-p",
    "fc-prune": "FC-Prune",
    "fc-reg": "FC-reg",
    "fcdae": "FC-DAE",
    "multvae": "Mult-VAE",
    "multdae": "Mult-DAE",
    "cdae": "CDAE",
    "ease": "EASE",
    "slim": "SLIM",
    "wmf": "WMF",
    "popularity": "Popularity",
}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- data --------------------------------------------------------------------


def _is_citeulike(folder):
    """A CiteULike folder: users.dat of integer lines (MovieLens' users.dat
    holds '::'-separated demographics)."""
    users = folder / "users.dat"
    if not users.is_file():
        return False
    with open(users) as f:
        first = f.readline().split()
    return bool(first) and all(field.isdigit() for field in first)


def load_dataset(name, args):
    """(label, binary users x items matrix) of a dataset name or --file."""
    if name == "synthetic":
        X, _ = make_interactions(600, 120, 8, density=0.08, groups_per_user=2, noise=0.1, random_state=0)
        return "synthetic", X
    if name == "file":
        bunch = load_interactions(args.file, args.user_col, args.item_col, args.rating_col)
        label = Path(args.file).name
    elif _is_citeulike(Path(args.data_root) / name):
        # CiteULike: binary saves; the paper's user filter (5 or more) only.
        bunch = load_citeulike(Path(args.data_root) / name)
        X = preprocess_interactions(bunch.data, min_user_items=args.min_user_items or 5).data
        return name, X
    else:
        bunch = load_movielens(Path(args.data_root) / name)
        label = name
    preset = None if args.min_rating is not None else "ml-20m"
    X = preprocess_interactions(bunch.data, preset, min_rating=args.min_rating, min_user_items=args.min_user_items).data
    return label, X


def summarize(per_user):
    out = {}
    for name, values in per_user.items():
        values = values[~np.isnan(values)]
        out[name] = float(values.mean())
        out[name + "_se"] = float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else 0.0
        out["n_users"] = int(values.size)
    return out


def evaluate(model, fold_in, held_out):
    return summarize(evaluate_rankings(model.decision_function, fold_in, held_out, METRICS))


def personalisation(model, fold_in, X_train, top_n=20, batch_size=1000):
    """Catalogue coverage and mean popularity rank of the top-``top_n`` lists
    (seen items excluded) of the users of ``fold_in``."""
    lists = []
    for start in range(0, fold_in.shape[0], batch_size):
        batch = fold_in[start : start + batch_size]
        scores = np.array(model.decision_function(batch), dtype=np.float64)
        rows, cols = batch.nonzero()
        scores[rows, cols] = -np.inf
        lists.append(top_k_items(scores, top_n))
    lists = np.vstack(lists)
    return {
        f"coverage@{top_n}": catalog_coverage(lists, fold_in.shape[1]),
        f"popularity_rank@{top_n}": mean_popularity_rank(lists, X_train),
    }


# --- the searches --------------------------------------------------------------


class Context:
    """What the searches share: the split, the settings, and earlier picks."""

    def __init__(self, split, args, device):
        self.split = split
        self.args = args
        self.device = device
        self.n_items = split.train.shape[1]
        self.selected = {}  # model key -> (config, fitted model)

    def autoencoder_params(self, **extra):
        return dict(
            max_iter=self.args.epochs,
            batch_size=self.args.batch_size,
            learning_rate=self.args.learning_rate,
            device=self.device,
            random_state=self.args.seed,
            **extra,
        )

    def updates(self):
        """Adam updates of an autoencoder fit (90% of the training users)."""
        n_fit = self.split.train.shape[0] - round(0.1 * self.split.train.shape[0])
        return self.args.epochs * math.ceil(n_fit / self.args.batch_size)


def multvae_params(ctx, anneal_cap=0.2):
    return ctx.autoencoder_params(
        anneal_cap=anneal_cap, total_anneal_steps=max(1, int(0.8 * ctx.updates() / anneal_cap))
    )


def links(ctx, K):
    return max(1, int(ctx.args.overlap * K + 0.5))


def grouper(ctx, K):
    n_components = max(1, min(50, min(ctx.split.train.shape) - 1))
    return ItemGrouper(n_clusters=K, overlap=ctx.args.overlap, n_components=n_components, random_state=ctx.args.seed)


# Every model at its own defaults (``--settings defaults``): only the device,
# the seed and, for the models that run workers, --n-jobs are set.
_DEFAULT_MODELS = {
    "swdae": SparseWideDAERecommender,
    "fcdae": FCDAERecommender,
    "multvae": MultVAERecommender,
    "multdae": MultDAERecommender,
    "cdae": CDAERecommender,
    "fc-prune": PrunedDAERecommender,
    "ease": EASERecommender,
    "slim": SLIMRecommender,
    "wmf": WMFRecommender,
    "popularity": PopularityRecommender,
}


def default_candidate(key, ctx):
    """The one (config, estimator) pair of ``--settings defaults``."""
    if key == "swdae-paper":
        K = min(ctx.args.paper_k, ctx.n_items)
        params = paper_settings(n_clusters=K, n_components=max(1, min(50, min(ctx.split.train.shape) - 1)))
        params["grouper"].set_params(random_state=ctx.args.seed)
        if ctx.args.quick:
            params["max_iter"] = ctx.args.epochs
        return [
            ({"paper": True, "K": K}, SparseWideDAERecommender(**params, device=ctx.device, random_state=ctx.args.seed))
        ]
    if key not in _DEFAULT_MODELS:
        raise LookupError("no default configuration (it is defined relative to another model's pick)")
    cls = _DEFAULT_MODELS[key]
    if key == "wmf":
        try:
            import implicit  # noqa: F401
        except ImportError:
            raise LookupError("the optional 'implicit' package is not installed") from None
    params = cls().get_params()
    kwargs = {
        name: value
        for name, value in (("device", ctx.device), ("random_state", ctx.args.seed), ("n_jobs", ctx.args.n_jobs))
        if name in params
    }
    if ctx.args.quick and "max_iter" in params:
        kwargs["max_iter"] = ctx.args.epochs
    return [({"defaults": True}, cls(**kwargs))]


# The models whose own defaults join the paper's grid in ``--settings
# validated``: the autoencoders, whose defaults differ from the paper's
# training settings (the linear baselines' defaults lie in their grids).
_VALIDATED_WITH_DEFAULTS = ("swdae", "fcdae", "multvae", "multdae", "cdae")


def candidates(key, ctx):
    """(config, estimator) pairs searched for model ``key``; may raise
    ``LookupError`` with a reason when the model does not apply."""
    if ctx.args.settings == "defaults":
        return default_candidate(key, ctx)
    grid = paper_candidates(key, ctx)
    if ctx.args.settings == "validated" and key in _VALIDATED_WITH_DEFAULTS:
        defaults = default_candidate(key, ctx)
        grid += defaults
        if key == "swdae":
            grid += _svd_embedding_candidate(defaults[0][1])
    return grid


def _svd_embedding_candidate(defaults):
    """SW-DAE's defaults with Algorithm 2's embedding: the one structural
    choice the defaults leave to the user (see ``ItemGrouper``'s ``method``)."""
    model = clone(defaults).set_params(grouper=ItemGrouper(method="svd"))
    return [({"defaults": True, "method": "svd"}, model)]


# The paper's SW-DAE grid trains at paper_settings() but for the grouper,
# which it builds per K, and what --epochs, --batch-size and --learning-rate
# set (their defaults are the paper's).  Taken from paper_settings() rather
# than listed, so that a package default that comes to differ from the paper
# (hidden_dropout="auto" did) cannot leak into the reproduction.
PAPER_TRAINING = {
    key: value
    for key, value in paper_settings(n_clusters=1).items()
    if key not in ("grouper", "max_iter", "batch_size", "learning_rate")
}


def paper_candidates(key, ctx):
    """The paper's search for model ``key`` (``--settings paper``)."""
    args, quick = ctx.args, ctx.args.quick
    if key == "swdae-paper":
        raise LookupError(
            f"'swdae-paper' belongs to --settings defaults; with --settings {args.settings} the 'swdae' "
            "row searches the paper's settings"
        )
    if key == "swdae":
        ks = [k for k in args.k_grid if k <= ctx.n_items]
        if not ks:
            raise LookupError(f"every K of --k-grid {args.k_grid} exceeds the {ctx.n_items} items")
        return [
            (
                {"K": K, "R": links(ctx, K)},
                SparseWideDAERecommender(grouper=grouper(ctx, K), **ctx.autoencoder_params(), **PAPER_TRAINING),
            )
            for K in ks
        ]
    if key == "swdae-p":
        if "multvae" in ctx.selected:
            budget = ctx.selected["multvae"][1].n_parameters_
        else:
            m = ctx.n_items
            budget = (m + 1) * 600 + 601 * 400 + 201 * 600 + 601 * m
        try:
            K = n_clusters_for_parameters(budget, ctx.n_items, overlap=ctx.args.overlap)
        except ValueError:
            m = ctx.n_items
            most = 2 * m * links(ctx, m) + 2 * m
            raise LookupError(
                f"Mult-VAE's {budget:,} parameters need K > n_items = {m} at R = {ctx.args.overlap:g} K "
                f"(K = {m} gives {most:,})"
            ) from None
        return [
            (
                {"K": K, "R": links(ctx, K), "budget": budget},
                SparseWideDAERecommender(grouper=grouper(ctx, K), **ctx.autoencoder_params(), **PAPER_TRAINING),
            )
        ]
    if key == "fcdae":
        return [({"n_hidden": h}, FCDAERecommender(n_hidden=h, **ctx.autoencoder_params())) for h in args.fc_grid]
    if key in ("fc-prune", "fc-reg"):
        if "fcdae" in ctx.selected:
            width = ctx.selected["fcdae"][1].n_hidden  # the pick may be FC-DAE's defaults
        else:
            width = args.fc_grid[0]
        if key == "fc-prune":
            grid = [0.5] if quick else [0.5, 0.9]
            return [
                (
                    {"n_hidden": width, "sparsity": s},
                    PrunedDAERecommender(n_hidden=width, sparsity=s, **ctx.autoencoder_params()),
                )
                for s in grid
            ]
        grid = [1e-3] if quick else [1e-4, 1e-3, 1e-2]
        return [
            (
                {"n_hidden": width, "activity_l1": lam},
                FCDAERecommender(n_hidden=width, activity_l1=lam, **ctx.autoencoder_params()),
            )
            for lam in grid
        ]
    if key == "multvae":
        return [
            ({"n_hidden": 600, "n_latent": 200, "anneal_cap": 0.2}, MultVAERecommender(600, 200, **multvae_params(ctx)))
        ]
    if key == "multdae":
        # Liang et al.'s L2 of 0.01 / batch_size as Adam weight decay (see the docstring).
        return [({"n_hidden": 200, "alpha": 4e-5}, MultDAERecommender(200, **ctx.autoencoder_params(alpha=4e-5)))]
    if key == "cdae":
        return [({"n_hidden": 200}, CDAERecommender(200, **ctx.autoencoder_params()))]
    if key == "ease":
        grid = args.ease_grid or ([100.0, 500.0] if quick else [10.0, 50.0, 100.0, 200.0, 500.0, 1000.0])
        return [({"alpha": alpha}, EASERecommender(alpha=alpha)) for alpha in grid]
    if key == "slim":
        grid = [1.0] if quick else [0.1, 0.5, 1.0, 5.0]
        return [({"l1": v, "alpha": v}, SLIMRecommender(l1=v, alpha=v, n_jobs=args.n_jobs)) for v in grid]
    if key == "wmf":
        try:
            import implicit  # noqa: F401
        except ImportError:
            raise LookupError("the optional 'implicit' package is not installed") from None
        weights = [10.0] if quick else [2.0, 5.0, 10.0, 30.0, 50.0, 100.0]
        factors = [100] if quick else [100, 200]
        return [
            (
                {"n_factors": k, "weight": w},
                WMFRecommender(n_factors=k, weight=w, n_jobs=args.n_jobs, random_state=args.seed),
            )
            for k in factors
            for w in weights
        ]
    if key == "popularity":
        return [({}, PopularityRecommender())]
    raise ValueError(f"unknown model {key!r}; choose from {', '.join(ALL_MODELS)}")


def resolved_settings(model):
    """What a fitted SW-DAE resolved from the data (K, R, batch), for the table."""
    out = {}
    if getattr(model, "grouper_", None) is not None:
        out["K"] = int(model.grouper_.n_clusters_)
        out["R"] = int(model.grouper_.overlap_)
    if getattr(model, "batch_size", None) == "auto":
        out["batch"] = int(model.batch_size_)
    return out


def search(key, ctx):
    """Fit every candidate, keep the best on validation, evaluate it on test."""
    split = ctx.split
    try:
        grid = candidates(key, ctx)
    except LookupError as reason:
        log(f"  {LABELS[key]}: skipped ({reason})")
        return {"model": LABELS[key], "key": key, "skipped": str(reason)}
    tried, best = [], None
    # Candidates are popped off the grid so that a loser's last reference
    # goes with ``model`` before the next fit: a fitted EASE on citeulike-t's
    # 24,103 items holds gigabytes, and a grid that kept them all was killed
    # for memory.
    grid.reverse()
    while grid:
        config, model = grid.pop()
        tic = time.perf_counter()
        model.fit(split.train)
        seconds = time.perf_counter() - tic
        config = {**config, **resolved_settings(model)}
        validation = evaluate(model, split.validation_fold_in, split.validation_held_out)
        record = {
            "config": config,
            "fit_seconds": seconds,
            "validation": validation,
            "best_epoch": getattr(model, "best_epoch_", None),
        }
        tried.append(record)
        log(
            f"  {LABELS[key]:<10} {json.dumps(config):<42} val NDCG@100 {validation['ndcg@100']:.4f}"
            f"  fit {seconds:6.1f}s"
        )
        if best is None or validation["ndcg@100"] > best[1]["validation"]["ndcg@100"]:
            best = (model, record)
        del model  # a loser is freed here (host and GPU memory), the best lives on in ``best``
    model, record = best
    ctx.selected[key] = (record["config"], model)
    result = {}
    if not ctx.args.validation_only:
        test = result["test"] = evaluate(model, split.test_fold_in, split.test_held_out)
        test.update(personalisation(model, split.test_fold_in, split.train))
        log(
            f"  {LABELS[key]:<10} selected {json.dumps(record['config'])}: test NDCG@100 "
            f"{test['ndcg@100']:.4f} ± {test['ndcg@100_se']:.4f}"
        )
    return {
        "model": LABELS[key],
        "key": key,
        "selected": record["config"],
        "validation": record["validation"],
        **result,
        "n_parameters": int(model.n_parameters_),
        "n_flops": int(model.n_flops_),
        "fit_seconds": record["fit_seconds"],
        "search_seconds": sum(r["fit_seconds"] for r in tried),
        "best_epoch": record["best_epoch"],
        "tried": tried,
    }


# Searches that reuse another model's pick run after it.
_ORDER = (
    "popularity",
    "ease",
    "slim",
    "wmf",
    "multvae",
    "multdae",
    "cdae",
    "fcdae",
    "fc-prune",
    "fc-reg",
    "swdae",
    "swdae-paper",
    "swdae-p",
)


def warm_up(device):
    """Pay torch's one-time start-up costs (kernels, CUDA context, optimizer
    imports: seconds) before any timed fit, so fit times compare."""
    X, _ = make_interactions(100, 30, 3, density=0.2, random_state=0)
    FCDAERecommender(n_hidden=8, max_iter=2, batch_size=50, device=device, random_state=0).fit(X)


def run_dataset(name, args, device):
    label, X = load_dataset(name, args)
    split = strong_generalization_split(X, n_validation=args.validation_users, n_test=args.test_users)
    meta = {
        "dataset": label,
        "users": int(X.shape[0]),
        "items": int(split.train.shape[1]),
        "interactions": int(X.nnz),
        "train_users": int(split.train.shape[0]),
        "validation_users": int(split.validation_fold_in.shape[0]),
        "test_users": int(split.test_fold_in.shape[0]),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "settings": args.settings,
        "k_grid": args.k_grid,
        "overlap": args.overlap,
        "quick": args.quick,
        "validation_only": args.validation_only,
        "device": str(device),
        "cuda_device": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "command": " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    log(
        f"{label}: {meta['users']} users x {meta['items']} items, {meta['interactions']} interactions; "
        f"{meta['train_users']} train / {meta['validation_users']} validation / {meta['test_users']} test users"
    )
    ctx = Context(split, args, device)
    rows = []
    tic = time.perf_counter()
    for key in [k for k in _ORDER if k in args.models]:
        rows.append(search(key, ctx))
    meta["total_seconds"] = time.perf_counter() - tic
    order = {k: i for i, k in enumerate(ALL_MODELS)}
    rows.sort(key=lambda row: order[row["key"]])
    return meta, rows


# --- reporting --------------------------------------------------------------------


def _config_text(config):
    if config.get("paper"):
        return "paper's settings (" + _config_text({k: v for k, v in config.items() if k != "paper"}) + ")"
    if config.get("defaults"):
        rest = {k: v for k, v in config.items() if k != "defaults"}
        return "defaults" + (f" ({_config_text(rest)})" if rest else "")
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in config.items() if k != "budget")


def _millions(n):
    return f"{n / 1e6:.3f}"


def _reported(meta):
    """Which users the table reports: test users, or validation users only."""
    return ("validation", "validation_users") if meta["validation_only"] else ("test", "test_users")


def markdown_table(meta, rows):
    part, count = _reported(meta)
    lines = [
        f"### {meta['dataset']}: {meta[count]} {part} users ({meta['users']} users x {meta['items']} items)",
        "",
        "| model | selected on validation | Recall@20 | Recall@50 | NDCG@100 | coverage@20 "
        "| popularity rank@20 | parameters (M) | flops (M) | fit (s) | validation NDCG@100 |",
        "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if "skipped" in row:
            lines.append(f"| {row['model']} | not run: {row['skipped']} | | | | | | | | | |")
            continue
        t = row[part]
        cells = [f"{t[m]:.4f} ± {t[m + '_se']:.4f}" for m in METRICS]
        cells += [f"{t[m]:.3f}" if m in t else "" for m in ("coverage@20",)]
        cells += [f"{t[m]:.0f}" if m in t else "" for m in ("popularity_rank@20",)]
        lines.append(
            f"| {row['model']} | {_config_text(row['selected'])} | {' | '.join(cells)} | "
            f"{_millions(row['n_parameters'])} | {_millions(row['n_flops'])} | {row['fit_seconds']:.1f} | "
            f"{row['validation']['ndcg@100']:.4f} |"
        )
    run = [r for r in rows if "skipped" not in r]
    if run:
        best = max(run, key=lambda r: r[part]["ndcg@100"])
        lines += ["", f"Best {part} NDCG@100: {best['model']} ({best[part]['ndcg@100']:.4f})."]
    return "\n".join(lines) + "\n"


def plot(meta, rows, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plot (pip install matplotlib)")
        return None
    part, count = _reported(meta)
    run = [r for r in rows if "skipped" not in r and r["n_parameters"] > 0]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for row in run:
        t = row[part]
        ax.errorbar(row["n_parameters"], t["ndcg@100"], yerr=t["ndcg@100_se"], fmt="o", capsize=3)
        ax.annotate(
            row["model"], (row["n_parameters"], t["ndcg@100"]), textcoords="offset points", xytext=(5, 4), fontsize=8
        )
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel(f"{part} NDCG@100 (± s.e.)")
    ax.set_title(f"{meta['dataset']}: {meta[count]} {part} users")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_outputs(meta, rows, out):
    out.mkdir(parents=True, exist_ok=True)
    stem = meta["dataset"]
    table = markdown_table(meta, rows)
    (out / f"{stem}.md").write_text(table)
    (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    plot(meta, rows, out / f"{stem}.png")
    log(f"wrote {out / stem}.md / .json / .png")
    print(table, flush=True)
    return table


# --- command line -------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", help="one dataset: a folder name under --data-root, or 'synthetic'")
    parser.add_argument("--datasets", nargs="+", default=None, help="several datasets, run one after another")
    parser.add_argument("--data-root", default=os.environ.get("SWDAE_SHARED_DATA", DEFAULT_DATA))
    parser.add_argument("--file", help="your own interaction log (csv, tsv or parquet) instead of --dataset")
    parser.add_argument("--user-col", default="userId")
    parser.add_argument("--item-col", default="movieId")
    parser.add_argument("--rating-col", default=None, help="omit for binary logs (then --min-rating 0)")
    parser.add_argument("--min-rating", type=float, default=None, help="default: the paper's 4 (ML-20M preset)")
    parser.add_argument("--min-user-items", type=int, default=None)
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        choices=ALL_MODELS,
        help="default: every model ('swdae-paper' with --settings defaults only)",
    )
    parser.add_argument(
        "--settings",
        choices=["paper", "defaults", "validated"],
        default="paper",
        help="'paper': the paper's settings and grids (Table 3); 'defaults': every model "
        "once, at the package's defaults; 'validated': the paper's grids plus every "
        "autoencoder's defaults, selected on validation users",
    )
    parser.add_argument(
        "--paper-k",
        type=int,
        default=1000,
        help="K of the 'swdae-paper' row of --settings defaults (SW-DAE at the paper's "
        "settings, for a side-by-side fit time and accuracy)",
    )
    parser.add_argument(
        "--k-grid",
        type=int,
        nargs="+",
        default=[1000, 2000, 3000, 4000, 5000, 6000],
        help="SW-DAE's K values (paper: multiples of 1000); K > n_items are dropped",
    )
    parser.add_argument("--overlap", type=float, default=0.1, help="SW-DAE's R / K (paper: 0.1)")
    parser.add_argument(
        "--ease-grid",
        type=float,
        nargs="+",
        default=None,
        help="EASE's L2 penalties (default 10 50 100 200 500 1000; with --quick 100 500)",
    )
    parser.add_argument("--fc-grid", type=int, nargs="+", default=[200, 600, 1000], help="FC-DAE widths")
    parser.add_argument("--epochs", type=int, default=100, help="epochs of every autoencoder (paper: 100)")
    parser.add_argument("--batch-size", type=int, default=500, help="users per mini-batch (paper: 500)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate (paper: 1e-3)")
    parser.add_argument("--validation-users", type=float, default=0.1)
    parser.add_argument("--test-users", type=float, default=0.1)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--n-jobs", type=int, default=-1, help="worker processes of SLIM, threads of WMF (-1: all cores)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 3 epochs, one K (40) and one FC width (32) unless given, one or two configs per model",
    )
    parser.add_argument(
        "--validation-only",
        action="store_true",
        help="configuration studies: report validation users, never evaluate test users",
    )
    parser.add_argument("--out", default="bench_accuracy_results", help="output folder")
    args = parser.parse_args(argv)
    names = list(args.datasets or [])
    if args.dataset:
        names.insert(0, args.dataset)
    if args.file:
        names.append("file")
    if not names:
        parser.error("give --dataset, --datasets or --file")
    args.names = names
    # EASE would reject a bad penalty only when the search reaches it, after
    # the models before it have trained.
    if args.ease_grid and min(args.ease_grid) <= 0:
        parser.error(f"--ease-grid: EASE's L2 penalties must be positive, got {args.ease_grid}")
    if args.models is None:
        args.models = [m for m in ALL_MODELS if m != "swdae-paper" or args.settings == "defaults"]
    for name in ("validation_users", "test_users"):
        value = getattr(args, name)
        setattr(args, name, int(value) if value >= 1 else value)
    if args.rating_col is None and args.file and args.min_rating is None:
        args.min_rating = 0.0
    if args.quick:
        args.epochs = min(args.epochs, 3)
        args.k_grid = [min(args.k_grid)] if args.k_grid != parser.get_default("k_grid") else [40]
        args.fc_grid = [min(args.fc_grid)] if args.fc_grid != parser.get_default("fc_grid") else [32]
    return args


def main(argv=None):
    args = parse_args(argv)
    device = resolve_device(args.device)
    log(
        f"device {device}{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}; "
        f"datasets {', '.join(args.names)}; models {', '.join(args.models)}"
    )
    warm_up(device)
    out = Path(args.out)
    tables = []
    for name in args.names:
        meta, rows = run_dataset(name, args, device)
        tables.append(write_outputs(meta, rows, out))
        log(f"{meta['dataset']} done in {meta['total_seconds']:.0f}s")
    if len(tables) > 1:
        (out / "all.md").write_text("\n".join(tables))
    return tables


if __name__ == "__main__":
    main()
