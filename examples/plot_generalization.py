"""
Spectral norm, stable rank and the generalization bound of SW-DAE and FC-DAE (Figure 4)
=======================================================================================

Section 5.5 of the paper explains SW-DAE's generalization by the spectral
norm of its weight matrices and the bound
O(sqrt(prod_j ||W_j||_2^2 * sum_j srank(W_j) / n)) of Neyshabur et al.
(stable rank srank(W) = ||W||_F^2 / ||W||_2^2).  SW-DAE and an FC-DAE of the
same width, activation, dropout and loss are trained with a
:class:`~sklearn_swdae.diagnostics.WeightDiagnostics` callback, which records
these quantities of the masked weights after every epoch into ``history_``.

Run ``python examples/plot_generalization.py --fast`` for a seconds-long
version on generated data, or ``--dataset ml-100k`` for MovieLens 100K when
its folder ``ml-100k`` is in ``--data-home`` (default: the ``movielens``
folder of :func:`~sklearn_swdae.datasets.get_data_home`, where
``fetch_movielens("100k")`` downloads it).
"""

import argparse

import matplotlib.pyplot as plt

from sklearn_swdae import FCDAERecommender, ItemGrouper, SparseWideDAERecommender
from sklearn_swdae.analysis import load_example_split
from sklearn_swdae.diagnostics import WeightDiagnostics

parser = argparse.ArgumentParser(description="Generalization diagnostics (Figure 4)")
parser.add_argument("--fast", action="store_true", help="small generated data, few epochs")
parser.add_argument("--dataset", default="generated", help="'generated' or a MovieLens folder, e.g. ml-100k")
parser.add_argument(
    "--data-home", default=None, help="folder holding the MovieLens folders (default: <data home>/movielens)"
)
parser.add_argument("--epochs", type=int, default=None, help="epochs per model (default 4 fast, else 50)")
parser.add_argument("--n-clusters", type=int, default=None, help="K (default 32 fast, else 1000)")
parser.add_argument("--output", default=None, help="save the figure to this PNG file")
args, _ = parser.parse_known_args()  # sphinx-gallery passes its own argv

split = load_example_split(args.dataset, fast=args.fast, data_home=args.data_home)
n_users, n_items = split.train.shape
K = args.n_clusters or (32 if args.fast else min(1000, n_items))
epochs = args.epochs or (4 if args.fast else 50)
# The models hold out 10% of the training users to select the epoch; n is
# the number of users the weights are trained on.
n_samples = n_users - int(round(0.1 * n_users))
print(f"{split.name}: {n_users} training users x {n_items} items, K={K}, {epochs} epochs")

# %%
# Train both models, recording the diagnostics every epoch
# Every epoch of both models, and one hidden dropout for both (FC-DAE's,
# the paper's 0.2; SW-DAE's "auto" would give a few hundred users 0.5), so
# that the diagnostics compare the structures rather than the regularization.
common = dict(max_iter=epochs, n_iter_no_change=None, batch_size=100, hidden_dropout=0.2, random_state=0)
models = {
    "SW-DAE": SparseWideDAERecommender(
        # The paper's R = 0.1 K: the analysis of its section 5.5.
        grouper=ItemGrouper(n_clusters=K, overlap=0.1, n_components=min(50, n_items - 1), random_state=0),
        callbacks=[WeightDiagnostics(n_samples=n_samples)],
        **common,
    ),
    "FC-DAE": FCDAERecommender(n_hidden=K, callbacks=[WeightDiagnostics(n_samples=n_samples)], **common),
}
for name, model in models.items():
    model.fit(split.train)
    last = model.history_[-1]
    print(
        f"{name}: {model.n_parameters_} parameters, last epoch: encoder spectral norm "
        f"{last['encoder_spectral_norm']:.2f}, stable rank {last['encoder_stable_rank']:.1f}, "
        f"bound {last['bound']:.3g}, validation NDCG@100 {last['ndcg@100']:.4f}; "
        f"test NDCG@100 {model.score(split.test_fold_in, split.test_held_out):.4f}"
    )

# %%
# (a) encoder spectral norm, (b) bound of the network, (c) loss, (d) validation NDCG@100
fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), constrained_layout=True)
for name, model in models.items():
    epochs_run = [r["epoch"] for r in model.history_]
    axes[0].plot(epochs_run, [r["encoder_spectral_norm"] for r in model.history_], label=name)
    axes[1].plot(epochs_run, [r["bound"] for r in model.history_], label=name)
    axes[2].plot(epochs_run, [r["train_loss"] for r in model.history_], label=name)
    axes[3].plot(epochs_run, [r["ndcg@100"] for r in model.history_], label=name)
axes[1].set_yscale("log")
titles = [
    "(a) encoder spectral norm",
    "(b) generalization bound (encoder + decoder)",
    "(c) training loss",
    "(d) validation NDCG@100",
]
for ax, title in zip(axes, titles):
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.legend()
fig.suptitle(f"Weight diagnostics on {split.name} (K={K}, {epochs} epochs, n={n_samples})")
if args.output:
    fig.savefig(args.output, dpi=110)
    print(f"figure saved to {args.output}")
