"""
Interpretable item groups: the genres of SW-DAE's hidden units
==============================================================

Every hidden unit of SW-DAE is linked to one overlapping group of items, so
it can be described by the items' metadata.  Following section 5.10 of the
paper, this example

1. lists the top three genres of a few units, with the percentage of the
   group's movies that have each genre (the paper's Table 8), using
   :func:`~sklearn_swdae.interpretation.group_genre_composition` and
   :func:`~sklearn_swdae.interpretation.top_genres_of_units`;
2. picks the 25 units with the largest share of a genre
   (:func:`~sklearn_swdae.interpretation.top_units_for_genre`) and draws the
   shares of every genre in their groups as heat maps (the paper's
   Figure 8, :func:`~sklearn_swdae.interpretation.plot_genre_heatmap`);
3. explains one test user's top recommendation: the units whose
   contribution to the item's logit is largest, and the user's items in
   their groups (:func:`~sklearn_swdae.interpretation.explain_recommendation`).

Run ``python examples/plot_item_groups_genres.py --fast`` for a
seconds-long version on generated data, whose "genres" are the planted item
groups of :func:`~sklearn_swdae.datasets.make_interactions` plus random
tags; or on MovieLens with its genres, e.g.
``python examples/plot_item_groups_genres.py --dataset ml-100k --out genres.png``.
"""

import argparse
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
from sklearn_swdae.datasets import get_data_home, load_movielens, make_interactions, preprocess_interactions
from sklearn_swdae.interpretation import (
    explain_recommendation,
    group_genre_composition,
    plot_genre_heatmap,
    top_genres_of_units,
    top_units_for_genre,
)
from sklearn_swdae.model_selection import strong_generalization_split

parser = argparse.ArgumentParser(description="Genres of SW-DAE's item groups (paper section 5.10)")
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
parser.add_argument("--max-iter", type=int, default=None, help="epochs of SW-DAE")
parser.add_argument("--device", default="auto", help='torch device: "auto" (CUDA if available), "cpu", "cuda"')
parser.add_argument("--out", default=None, help="save the figure to this PNG file")
args, _ = parser.parse_known_args()  # sphinx-gallery passes its own argv

# %%
# Data, item metadata and split
# -----------------------------
if args.dataset is None:
    n_users, n_items, n_groups = (1500, 200, 8) if args.fast else (6000, 1000, 18)
    X, planted = make_interactions(
        n_users, n_items, n_groups, density=0.1, item_overlap=0.3, noise=0.05, random_state=0
    )
    # Synthetic genres: an item has the genre of each planted group it is in,
    # and every other genre with probability 0.05, like noisy tags.
    rng = np.random.RandomState(0)
    item_genres = planted.T.toarray() | (rng.random_sample((n_items, n_groups)) < 0.05)
    genre_names = np.array([f"genre {g}" for g in range(n_groups)], dtype=object)
    titles = np.array([f"item {i}" for i in range(n_items)], dtype=object)
    source = f"generated data ({n_users} users, {n_items} items)"
    K, n_components, min_group_size = 4 * n_groups, n_groups, 5
    max_iter, learning_rate = args.max_iter or (20 if args.fast else 30), 0.03
    shown_genres = ["genre 0", "genre 1", "genre 2"]
    described = ["genre 3", "genre 4", "genre 5", "genre 6"]
else:
    movielens = load_movielens(Path(args.data_root) / args.dataset)
    # The Bunch keeps the titles and genres of the items that survive the filters.
    dataset = preprocess_interactions(movielens, "ml-20m")
    X, item_genres, genre_names = dataset.data, dataset.item_genres, dataset.genre_names
    titles = dataset.item_titles
    source = args.dataset
    K, n_components, min_group_size = min(1000, X.shape[1]), 50, 20
    max_iter, learning_rate = args.max_iter or 100, 1e-3
    # The genres of the paper's Figure 8 and Table 8, as MovieLens names them.
    shown_genres = ["Musical", "Romance", "Sci-Fi"]
    described = ["Documentary", "Horror", "Drama", "Children's"]
split = strong_generalization_split(X, n_validation=0.1, n_test=0.1)
# Columns that no training user consumed were dropped by the split.
item_genres, titles = item_genres[split.item_indices], titles[split.item_indices]
print(f"{source}: {split.train.shape[0]} training users x {split.train.shape[1]} items, {len(genre_names)} genres")

# %%
# The item groups
# ---------------
# The hidden units of SW-DAE are the groups of an :class:`ItemGrouper`
# with the paper's sparsity: each item links to R = 0.1 K of the K groups.
# The groups alone say what the units are about; SW-DAE is trained on them
# below, to explain a recommendation.
tic = time.perf_counter()
grouper = ItemGrouper(n_clusters=K, overlap=0.1, n_components=n_components, random_state=0)
grouper.fit(split.train)
sizes = np.asarray(grouper.connectivity_.sum(axis=1)).ravel()
print(
    f"ItemGrouper: K={K} groups, R={grouper.overlap_} links per item, group sizes "
    f"{sizes.min()}..{sizes.max()} (median {np.median(sizes):.0f}), "
    f"{time.perf_counter() - tic:.1f}s"
)

# %%
# Table 8: the top three genres of a few units
# --------------------------------------------
# For each genre of the paper's Table 8, the unit (with at least
# ``min_group_size`` items) whose group has the largest share of it.
composition = group_genre_composition(grouper, item_genres)
units = [
    int(
        top_units_for_genre(
            grouper, item_genres, genre, n_units=1, genre_names=genre_names, min_group_size=min_group_size
        )[0]
    )
    for genre in described
]
print(f"\n{'genre':<14}{'unit':>6}{'items':>7}  top three genres (% of the group's items)")
for genre, (unit, top) in zip(described, top_genres_of_units(composition, genre_names, units).items()):
    cells = ", ".join(f"{name} ({100 * share:.0f}%)" for name, share in top)
    print(f"{genre:<14}{unit:>6}{sizes[unit]:>7}  {cells}")

# %%
# Figure 8: the 25 units with the largest share of a genre
# --------------------------------------------------------
fig, axes = plt.subplots(1, len(shown_genres), figsize=(5.2 * len(shown_genres), 6.5))
for ax, genre in zip(axes, shown_genres):
    top = top_units_for_genre(
        grouper, item_genres, genre, n_units=25, genre_names=genre_names, min_group_size=min_group_size
    )
    plot_genre_heatmap(composition, top, genre_names, ax=ax, title=f"top {top.size} units: {genre}")
fig.suptitle(f"Genre composition of SW-DAE's item groups on {source} (K={K}, R=0.1 K)", fontsize=10)
fig.tight_layout()
if args.out:
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")

# %%
# Why was an item recommended?
# ----------------------------
# SW-DAE on those groups; the first test user with held-out items has their
# top recommendation explained by the units that add the most to its logit.
model = SparseWideDAERecommender(
    connectivity=grouper.connectivity_,
    max_iter=max_iter,
    n_iter_no_change=None,  # every epoch, as the figures were made
    learning_rate=learning_rate,
    device=args.device,
    random_state=0,
)
tic = time.perf_counter()
model.fit(split.train)
print(f"\nSW-DAE: {max_iter} epochs in {time.perf_counter() - tic:.1f}s, best epoch {model.best_epoch_}")
user = int(np.flatnonzero(np.diff(split.test_held_out.indptr) > 0)[0])
why = explain_recommendation(model, split.test_fold_in[[user]], n_units=3)
print(
    f"\ntest user {user} ({split.test_fold_in[[user]].nnz} items seen): top recommendation "
    f"{titles[why.item]!r}, logit {why.logit:.3f} = bias {why.bias:.3f} + "
    f"{why.contributions.sum():.3f} from the units"
)
for unit, share, seen in zip(why.units, why.unit_contributions, why.unit_history):
    leading = ", ".join(name for name, _ in top_genres_of_units(composition, genre_names, [unit])[unit])
    examples = "; ".join(str(t) for t in titles[seen[:3]])
    print(f"  unit {unit} ({leading}): {share:+.3f}; the user's {seen.size} items in it, e.g. {examples}")
