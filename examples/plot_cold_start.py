"""
Cold start: recommenders on test users with a short history
===========================================================

Section 5.8 of the paper (Table 7) compares SW-DAE with Mult-DAE and
Mult-VAE on *cold-start* users: test users whose fold-in (the 80% of their
history that the model sees) is short.  This example trains the four
models on the training users of a strong-generalization split, then scores
them with :func:`~sklearn_swdae.metrics.evaluate_cold_start` on the test
users whose fold-in has at most ``max_history`` items, for a range of
thresholds, and draws NDCG@100 and Recall@20 (mean ± standard error)
against the threshold.

Run ``python examples/plot_cold_start.py --fast`` for a seconds-long
version on generated data, or on MovieLens (ratings >= 4, users with at
least 5, as in the paper), e.g.
``python examples/plot_cold_start.py --dataset ml-100k --out cold_start.png``.
"""

import argparse
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sklearn_swdae import (
    ItemGrouper,
    MultDAERecommender,
    MultVAERecommender,
    PopularityRecommender,
    SparseWideDAERecommender,
)
from sklearn_swdae.datasets import get_data_home, load_movielens, make_interactions, preprocess_interactions
from sklearn_swdae.metrics import evaluate_cold_start
from sklearn_swdae.model_selection import strong_generalization_split

parser = argparse.ArgumentParser(description="Cold-start evaluation (paper section 5.8)")
parser.add_argument("--fast", action="store_true", help="small generated data, few epochs")
parser.add_argument(
    "--dataset",
    choices=["ml-100k", "ml-1m", "ml-latest-small"],
    default=None,
    help="a MovieLens folder of --data-root (default: generated data)",
)
parser.add_argument(
    "--data-root",
    default=Path(get_data_home()) / "movielens",
    help="folder holding the MovieLens folders (default: the movielens folder of "
    "sklearn_swdae.datasets.get_data_home(), where fetch_movielens stores them)",
)
parser.add_argument("--max-iter", type=int, default=None, help="epochs of every autoencoder")
parser.add_argument("--test-fraction", type=float, default=0.1, help="share of test users")
parser.add_argument("--device", default="auto", help='torch device: "auto" (CUDA if available), "cpu", "cuda"')
parser.add_argument("--out", default=None, help="save the figure to this PNG file")
args, _ = parser.parse_known_args()  # sphinx-gallery passes its own argv

# %%
# Data and split
# --------------
# Test users are new to the models: they are scored from their fold-in.
if args.dataset is None:
    n_users, n_items, n_groups = (1500, 200, 10) if args.fast else (6000, 1000, 40)
    X, _ = make_interactions(
        n_users,
        n_items,
        n_groups,
        density=0.1,
        activity_dispersion=1.0,
        noise=0.05,
        random_state=0,
    )
    source = f"generated ({n_users} users, {n_items} items)"
    K, n_components = 4 * n_groups, n_groups
    max_iter = args.max_iter or (20 if args.fast else 30)
    learning_rate = 0.03  # small data: few optimizer steps per epoch
else:
    ratings = load_movielens(Path(args.data_root) / args.dataset).data
    X = preprocess_interactions(ratings, "ml-20m").data
    source = args.dataset
    K, n_components = min(1000, X.shape[1]), 50
    max_iter = args.max_iter or 100
    learning_rate = 1e-3  # the paper's
split = strong_generalization_split(X, n_validation=0.1, n_test=args.test_fraction)
# Users with fewer than 5 items have no held-out items and are never scored.
history = np.diff(split.test_fold_in.indptr)[np.diff(split.test_held_out.indptr) > 0]
print(
    f"{source}: {X.shape[0]} users x {X.shape[1]} items; {split.train.shape[0]} training and "
    f"{history.size} scored test users, fold-in sizes {history.min()}..{history.max()} "
    f"(median {np.median(history):.0f})"
)

# %%
# The models
# ----------
# SW-DAE with the paper's sparsity (R = 0.1 K), and the paper's cold-start
# baselines with the same number of epochs.  Popularity ignores the history.
# Every model trains all its epochs (SW-DAE's default patience is off).
training = dict(
    max_iter=max_iter, n_iter_no_change=None, learning_rate=learning_rate, device=args.device, random_state=0
)
models = {
    "SW-DAE": SparseWideDAERecommender(
        grouper=ItemGrouper(n_clusters=K, overlap=0.1, n_components=n_components, random_state=0),
        **training,
    ),
    "Mult-DAE": MultDAERecommender(n_hidden=200 if args.dataset else 40, **training),
    "Mult-VAE": MultVAERecommender(
        n_hidden=600 if args.dataset else 60, n_latent=200 if args.dataset else 20, **training
    ),
    "Popularity": PopularityRecommender(),
}
for name, model in models.items():
    tic = time.perf_counter()
    model.fit(split.train)
    print(f"fitted {name} in {time.perf_counter() - tic:.1f}s")

# %%
# Evaluate on cold-start users
# ----------------------------
# Thresholds at quantiles of the test users' fold-in sizes; the last keeps
# every test user (the usual evaluation).
thresholds = np.unique(np.ceil(np.percentile(history, [10, 25, 50, 75, 100])).astype(int))
metrics = ("recall@20", "ndcg@100")
results = {
    name: [
        evaluate_cold_start(model, split.test_fold_in, split.test_held_out, max_history=int(t), metrics=metrics)
        for t in thresholds
    ]
    for name, model in models.items()
}

print(f"\n{'fold-in <=':>10}{'users':>7}  " + "".join(f"{name:>22}" for name in models))
for metric in metrics:
    print(metric)
    for j, t in enumerate(thresholds):
        cells = "".join(f"{r[j].mean[metric]:>14.4f} ± {r[j].sem[metric]:.4f}" for r in results.values())
        print(f"{t:>10}{results['SW-DAE'][j].n_users:>7}  {cells}")

# %%
# Plot
# ----
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
n_kept = [r.n_users for r in results["SW-DAE"]]
for ax, metric in zip(axes, ("ndcg@100", "recall@20")):
    for offset, (name, rows) in zip(np.linspace(-0.06, 0.06, len(results)), results.items()):
        means = [r.mean[metric] for r in rows]
        sems = [r.sem[metric] for r in rows]
        ax.errorbar(np.arange(len(thresholds)) + offset, means, yerr=sems, marker="o", capsize=3, label=name)
    ax.set_xticks(range(len(thresholds)), [f"<= {t}\n({n} users)" for t, n in zip(thresholds, n_kept)], fontsize=8)
    ax.set_xlabel("test users' fold-in size")
    ax.set_ylabel(f"{metric} (mean ± s.e.)")
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
fig.suptitle(f"Cold start on {source}: test users with a short fold-in ({max_iter} epochs)", fontsize=10)
fig.tight_layout()
if args.out:
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
