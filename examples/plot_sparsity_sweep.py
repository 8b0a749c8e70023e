"""
Sparsity sweep: SW-DAE against the fraction R / K of its connections (Figures 6 and 7)
======================================================================================

Section 5.9 of the paper links every item to R of the K hidden units and
varies the sparsity level R / K: 1.0 is a fully connected layer, the paper's
default 0.1 keeps 10% of the connections.  Each SW-DAE is scored on the
validation users (NDCG@100) and on the test users (NDCG@100, Recall@20,
Recall@50) (:func:`sklearn_swdae.analysis.sparsity_sweep`).

Run ``python examples/plot_sparsity_sweep.py --fast`` for a seconds-long
version on generated data, or ``--dataset ml-100k`` for MovieLens 100K when
its folder ``ml-100k`` is in ``--data-home`` (default: the ``movielens``
folder of :func:`~sklearn_swdae.datasets.get_data_home`, where
``fetch_movielens("100k")`` downloads it).
"""

import argparse

import matplotlib.pyplot as plt

from sklearn_swdae.analysis import load_example_split, sparsity_sweep

parser = argparse.ArgumentParser(description="Sparsity sweep (Figures 6 and 7)")
parser.add_argument("--fast", action="store_true", help="small generated data, few epochs")
parser.add_argument("--dataset", default="generated", help="'generated' or a MovieLens folder, e.g. ml-100k")
parser.add_argument(
    "--data-home", default=None, help="folder holding the MovieLens folders (default: <data home>/movielens)"
)
parser.add_argument("--epochs", type=int, default=None, help="epochs per model (default 3 fast, else 50)")
parser.add_argument("--n-clusters", type=int, default=None, help="K (default 32 fast, else 1000)")
parser.add_argument("--output", default=None, help="save the figure to this PNG file")
args, _ = parser.parse_known_args()  # sphinx-gallery passes its own argv

split = load_example_split(args.dataset, fast=args.fast, data_home=args.data_home)
K = args.n_clusters or (32 if args.fast else min(1000, split.train.shape[1]))
overlaps = [1, 0.1, 0.25, 0.5, 1.0] if args.fast else [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
epochs = args.epochs or (3 if args.fast else 50)
print(f"{split.name}: {split.train.shape[0]} training users x {split.train.shape[1]} items, K={K}, {epochs} epochs")

# %%
# One SW-DAE per sparsity level
records = sparsity_sweep(
    split.train,
    (split.validation_fold_in, split.validation_held_out),
    (split.test_fold_in, split.test_held_out),
    overlaps,
    n_clusters=K,
    # Small data: batches of 100 users give more optimizer steps per epoch.
    estimator_params={"max_iter": epochs, "batch_size": 100},
)
print(f"\n{'R/K':>7}{'val NDCG@100':>14}{'test NDCG@100':>15}{'test Recall@20':>16}{'test Recall@50':>16}")
for r in records:
    print(
        f"{r['sparsity']:>7.3f}{r['validation_ndcg@100']:>14.4f}{r['test_ndcg@100']:>15.4f}"
        f"{r['test_recall@20']:>16.4f}{r['test_recall@50']:>16.4f}"
    )

# %%
# Figure 6 (NDCG@100, validation and test) and Figure 7 (test recalls)
sparsity = [r["sparsity"] for r in records]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
for key, label in (("validation_ndcg@100", "validation"), ("test_ndcg@100", "test")):
    axes[0].plot(sparsity, [r[key] for r in records], marker="o", label=label)
axes[0].set_title("NDCG@100")
for key, label in (("test_recall@20", "test Recall@20"), ("test_recall@50", "test Recall@50")):
    axes[1].plot(sparsity, [r[key] for r in records], marker="o", label=label)
axes[1].set_title("test recall")
for ax in axes:
    ax.set_xscale("log")
    ax.set_xlabel("sparsity level R / K (1 = fully connected)")
    ax.legend()
fig.suptitle(f"Sparsity sweep on {split.name} (K={K}, {epochs} epochs per model)")
if args.output:
    fig.savefig(args.output, dpi=110)
    print(f"figure saved to {args.output}")
