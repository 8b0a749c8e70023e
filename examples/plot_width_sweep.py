"""
Width sweep: SW-DAE against wide FC-DAE, Mult-DAE and Mult-VAE (Figure 5)
=========================================================================

The paper's section 5.3 asks whether SW-DAE gains only because it is wide.
Every model here has one hidden layer of K units: SW-DAE with K item groups
(R = 0.1 K), the fully connected FC-DAE of the same width, and Liang et al.'s
Mult-DAE and Mult-VAE widened to K.  Each is trained on the training users
and scored on the validation and test users
(:func:`sklearn_swdae.analysis.width_sweep`).

Run ``python examples/plot_width_sweep.py --fast`` for a seconds-long version
on generated data, or ``--dataset ml-100k`` for MovieLens 100K when
its folder ``ml-100k`` is in ``--data-home`` (default: the ``movielens``
folder of :func:`~sklearn_swdae.datasets.get_data_home`, where
``fetch_movielens("100k")`` downloads it).
"""

import argparse

import matplotlib.pyplot as plt

from sklearn_swdae.analysis import load_example_split, width_sweep

parser = argparse.ArgumentParser(description="Width sweep (Figure 5)")
parser.add_argument("--fast", action="store_true", help="small generated data, few epochs")
parser.add_argument("--dataset", default="generated", help="'generated' or a MovieLens folder, e.g. ml-100k")
parser.add_argument(
    "--data-home", default=None, help="folder holding the MovieLens folders (default: <data home>/movielens)"
)
parser.add_argument("--epochs", type=int, default=None, help="epochs per model (default 3 fast, else 50)")
parser.add_argument("--widths", type=int, nargs="+", default=None, help="values of K")
parser.add_argument("--output", default=None, help="save the figure to this PNG file")
args, _ = parser.parse_known_args()  # sphinx-gallery passes its own argv

split = load_example_split(args.dataset, fast=args.fast, data_home=args.data_home)
widths = args.widths or ([8, 32] if args.fast else [50, 200, 500, 1000])
epochs = args.epochs or (3 if args.fast else 50)
print(f"{split.name}: {split.train.shape[0]} training users x {split.train.shape[1]} items, {epochs} epochs")

# %%
# Fit every model at every width; score validation and test users
records = width_sweep(
    split.train,
    (split.validation_fold_in, split.validation_held_out),
    (split.test_fold_in, split.test_held_out),
    widths,
    # Small data: batches of 100 users give more optimizer steps per epoch.
    estimator_params={"max_iter": epochs, "batch_size": 100},
)
print(f"\n{'model':<10}{'K':>6}{'val NDCG@100':>14}{'test NDCG@100':>15}{'test Recall@20':>16}{'seconds':>9}")
for r in records:
    print(
        f"{r['model']:<10}{r['n_clusters']:>6}{r['validation_ndcg@100']:>14.4f}"
        f"{r['test_ndcg@100']:>15.4f}{r['test_recall@20']:>16.4f}{r['fit_time']:>9.1f}"
    )

# %%
# NDCG@100 and Recall@20 against the width
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
panels = [
    ("validation_ndcg@100", "validation NDCG@100"),
    ("test_ndcg@100", "test NDCG@100"),
    ("test_recall@20", "test Recall@20"),
]
for ax, (key, label) in zip(axes, panels):
    for model in dict.fromkeys(r["model"] for r in records):
        rows = [r for r in records if r["model"] == model]
        ax.plot([r["n_clusters"] for r in rows], [r[key] for r in rows], marker="o", label=model)
    ax.set_xscale("log")
    ax.set_xlabel("hidden units K")
    ax.set_title(label)
axes[0].legend()
fig.suptitle(f"Width sweep on {split.name} ({epochs} epochs per model)")
if args.output:
    fig.savefig(args.output, dpi=110)
    print(f"figure saved to {args.output}")
