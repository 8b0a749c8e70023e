"""
Going deeper: stacked SW-DAE with one, two and three hidden layers (section 3.4)
================================================================================

The paper builds deeper SW-DAEs greedily: train the one-hidden-layer model,
encode the training users, group the K hidden units by their activations
with the same procedure as the items, train the next sparse layer on the
activations, and so on; then copy the layers' weights into one stacked
network and fine-tune it end to end.  ``stacked_layer_sizes`` of
:class:`~sklearn_swdae.SparseWideDAERecommender` does this; the paper
reports that one hidden layer worked best.

Run ``python examples/plot_stacked.py --fast`` for a seconds-long version on
generated data, or ``--dataset ml-100k`` for MovieLens 100K when
its folder ``ml-100k`` is in ``--data-home`` (default: the ``movielens``
folder of :func:`~sklearn_swdae.datasets.get_data_home`, where
``fetch_movielens("100k")`` downloads it).
"""

import argparse

import matplotlib.pyplot as plt

from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
from sklearn_swdae.analysis import load_example_split

parser = argparse.ArgumentParser(description="Stacked SW-DAE (section 3.4)")
parser.add_argument("--fast", action="store_true", help="small generated data, few epochs")
parser.add_argument("--dataset", default="generated", help="'generated' or a MovieLens folder, e.g. ml-100k")
parser.add_argument(
    "--data-home", default=None, help="folder holding the MovieLens folders (default: <data home>/movielens)"
)
parser.add_argument("--epochs", type=int, default=None, help="epochs per training run (default 3 fast, else 50)")
parser.add_argument(
    "--layers",
    type=int,
    nargs=3,
    default=None,
    metavar="K",
    help="K_1 K_2 K_3 (default 32 16 8 fast, else 1000 200 50)",
)
parser.add_argument("--output", default=None, help="save the figure to this PNG file")
args, _ = parser.parse_known_args()  # sphinx-gallery passes its own argv

split = load_example_split(args.dataset, fast=args.fast, data_home=args.data_home)
n_users, n_items = split.train.shape
K1, K2, K3 = args.layers or ((32, 16, 8) if args.fast else (min(1000, n_items), 200, 50))
epochs = args.epochs or (3 if args.fast else 50)
print(f"{split.name}: {n_users} training users x {n_items} items, {epochs} epochs per training run")

# %%
# One model per depth; each layer is pretrained, then the stack is fine-tuned
models = {}
for sizes in [(), (K2,), (K2, K3)]:
    name = " - ".join(str(k) for k in (K1, *sizes))
    model = SparseWideDAERecommender(
        grouper=ItemGrouper(n_clusters=K1, n_components=min(50, n_items - 1), random_state=0),
        stacked_layer_sizes=sizes,
        max_iter=epochs,
        n_iter_no_change=None,  # every epoch of every training run
        batch_size=100,  # small data: more optimizer steps per epoch
        random_state=0,
    ).fit(split.train)
    models[name] = model
    print(
        f"hidden layers {name:<16} masks {[c.shape for c in model.connectivities_]}, "
        f"{model.n_parameters_} parameters, best epoch {model.best_epoch_}, "
        f"test NDCG@100 {model.score(split.test_fold_in, split.test_held_out):.4f}"
    )

# %%
# Validation NDCG@100 of the fine-tuning and test NDCG@100 by depth
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
for name, model in models.items():
    axes[0].plot([r["epoch"] for r in model.history_], [r["ndcg@100"] for r in model.history_], label=name)
axes[0].set_xlabel("epoch (fine-tuning; the first layer's own training for one layer)")
axes[0].set_title("validation NDCG@100")
axes[0].legend(title="hidden layers")
test = [model.score(split.test_fold_in, split.test_held_out) for model in models.values()]
axes[1].bar(range(len(models)), test, tick_label=list(models))
axes[1].set_ylim(min(test) * 0.9, max(test) * 1.02)
axes[1].set_title("test NDCG@100")
axes[1].set_xlabel("hidden layers")
fig.suptitle(f"Stacked SW-DAE on {split.name} ({epochs} epochs per training run)")
if args.output:
    fig.savefig(args.output, dpi=110)
    print(f"figure saved to {args.output}")
