"""
Quick start: item groups and a sparse-wide autoencoder on generated data
========================================================================

Generate implicit feedback with planted, overlapping item groups, split the
users as the paper does (strong generalization: train / validation / test
users, 80/20 fold-in / held-out), learn the item groups with
:class:`~sklearn_swdae.ItemGrouper`, train a
:class:`~sklearn_swdae.SparseWideDAERecommender` on them, and compare it
with a popularity ranking on the test users.

Run ``python examples/quickstart.py --fast`` for a seconds-long version.
"""

import argparse
import time

import numpy as np

from sklearn_swdae import ItemGrouper, PopularityRecommender, SparseWideDAERecommender
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.metrics import evaluate_rankings
from sklearn_swdae.model_selection import strong_generalization_split

parser = argparse.ArgumentParser(description="Quick start: SW-DAE on generated data")
parser.add_argument("--fast", action="store_true", help="smaller data and fewer epochs")
args, _ = parser.parse_known_args()  # sphinx-gallery passes its own argv

n_users, n_items, n_groups, epochs = (1500, 200, 10, 10) if args.fast else (6000, 1000, 40, 30)

# %%
# Data and split
X, planted = make_interactions(n_users, n_items, n_groups, density=0.05, groups_per_user=2, noise=0.05, random_state=0)
split = strong_generalization_split(X, n_validation=0.1, n_test=0.1)
print(f"{X.shape[0]} users x {X.shape[1]} items, {X.nnz} interactions")
print(f"train users {split.train.shape[0]}, test users {split.test_fold_in.shape[0]}")

# %%
# Learn the overlapping item groups (Algorithm 1), then the autoencoder
tic = time.perf_counter()
grouper = ItemGrouper(n_clusters=4 * n_groups, overlap=0.1, n_components=n_groups, random_state=0)
grouper.fit(split.train)
print(
    f"ItemGrouper: K={grouper.connectivity_.shape[0]} groups, R={grouper.overlap_} links per item, "
    f"{grouper.connectivity_.nnz} of {np.prod(grouper.connectivity_.shape)} connections "
    f"({time.perf_counter() - tic:.1f}s)"
)

model = SparseWideDAERecommender(
    connectivity=grouper.connectivity_,
    learning_rate=0.01,  # small data: few optimizer steps per epoch
    max_iter=epochs,
    random_state=0,
)
tic = time.perf_counter()
model.fit(split.train)
print(
    f"SW-DAE: {model.n_iter_} epochs on {model.device_}, best epoch {model.best_epoch_} "
    f"({time.perf_counter() - tic:.1f}s)"
)

# %%
# Evaluate on the test users: rank from the fold-in, judge on the held-out
popularity = PopularityRecommender().fit(split.train)
print(f"\n{'model':<12}{'Recall@20':>11}{'Recall@50':>11}{'NDCG@100':>11}")
for name, recommender in [("SW-DAE", model), ("Popularity", popularity)]:
    results = evaluate_rankings(recommender.decision_function, split.test_fold_in, split.test_held_out)
    row = "".join(f"{np.nanmean(results[m]):>11.4f}" for m in ("recall@20", "recall@50", "ndcg@100"))
    print(f"{name:<12}{row}")

# %%
# Recommendations for two test users, best first, seen items excluded
items = model.recommend(split.test_fold_in[:2], top_n=10)
for user, row in enumerate(items):
    print(f"test user {user}: {row.tolist()}")
