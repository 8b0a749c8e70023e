"""Draw the connectivity that a fitted ItemGrouper gives SW-DAE (the user guide's figure).

Generates implicit feedback with planted, overlapping item groups
(``sklearn_swdae.datasets.make_interactions``), fits an ``ItemGrouper`` on it
and draws, in the style of Figure 3 of Khawar et al. (WWW 2020):

(a) three hidden units and the items of their groups: the masked encoder
    links an input item to unit k when ``connectivity_[k, i]`` is True, and
    the decoder uses the same links, transposed;
(b) the whole ``connectivity_`` mask, items ordered by their planted group.

The data are generated, not real.  Run from the repository root::

    python docs/_scripts/plot_item_groups.py

It writes ``docs/_static/item_groups.png`` (and takes a few seconds).
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sklearn_swdae import ItemGrouper
from sklearn_swdae.datasets import make_interactions

OUT = Path(__file__).resolve().parents[1] / "_static" / "item_groups.png"
N_USERS, N_ITEMS, N_PLANTED = 3000, 40, 5
K, R, F = 8, 2, 5
COLORS = ["#1b9e77", "#d95f02", "#7570b3"]


def pick_units(mask, n=3):
    """n hidden units whose item groups overlap, as in the paper's Figure 3."""
    shared = mask.astype(int) @ mask.T.astype(int)
    np.fill_diagonal(shared, -1)
    first, second = np.unravel_index(np.argmax(shared), shared.shape)
    units = [int(first), int(second)]
    while len(units) < n:
        score = shared[units].sum(axis=0).astype(float)
        score[units] = -np.inf
        units.append(int(np.argmax(score)))
    return units


def main():
    X, planted = make_interactions(
        N_USERS, N_ITEMS, N_PLANTED, density=0.1, item_overlap=0.2, noise=0.05, random_state=0
    )
    grouper = ItemGrouper(n_clusters=K, overlap=R, n_components=F, random_state=0).fit(X)
    mask = grouper.connectivity_.toarray()  # (K, n_items), bool
    primary = planted.toarray().argmax(axis=0)  # planted primary group of each item

    fig, (ax_net, ax_mask) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.55, 1]})

    # (a) input items -> hidden units -> output items, for three units.
    units = pick_units(mask)
    items = np.flatnonzero(mask[units].any(axis=0))
    items = items[np.lexsort((items, primary[items]))]
    x_item = np.linspace(0, 1, items.size)
    x_unit = np.linspace(0.2, 0.8, len(units))
    y_in, y_hidden, y_out = 0.0, 0.5, 1.0
    for color, unit, xu in zip(COLORS, units, x_unit):
        for xi, item in zip(x_item, items):
            if mask[unit, item]:
                ax_net.plot([xi, xu], [y_in, y_hidden], color=color, lw=0.9, alpha=0.75, zorder=1)
                ax_net.plot([xu, xi], [y_hidden, y_out], color=color, lw=0.9, alpha=0.75, zorder=1)
        ax_net.scatter([xu], [y_hidden], s=320, color=color, edgecolor="black", zorder=3)
        ax_net.annotate(
            f"h{unit}", (xu, y_hidden), ha="center", va="center", fontsize=8, color="white", fontweight="bold", zorder=4
        )
    for y in (y_in, y_out):
        ax_net.scatter(x_item, np.full(items.size, y), s=60, color="white", edgecolor="black", zorder=3)
    for xi, item in zip(x_item, items):
        ax_net.annotate(f"{item}", (xi, y_in - 0.07), ha="center", va="top", fontsize=6.5, rotation=90)
    ax_net.text(-0.04, y_in, "input items", ha="right", va="center", fontsize=9)
    ax_net.text(-0.04, y_hidden, "hidden units", ha="right", va="center", fontsize=9)
    ax_net.text(-0.04, y_out, "output items", ha="right", va="center", fontsize=9)
    ax_net.text(0.5, 0.25, "encoder: connectivity_", ha="center", fontsize=8, style="italic")
    ax_net.text(0.5, 0.75, "decoder: connectivity_.T", ha="center", fontsize=8, style="italic")
    ax_net.set_xlim(-0.3, 1.03)
    ax_net.set_ylim(-0.22, 1.08)
    ax_net.axis("off")
    ax_net.set_title(f"(a) {len(units)} of the K={K} hidden units and their {items.size} items", fontsize=10)

    # (b) the whole mask, items ordered by planted group.
    order = np.lexsort((np.arange(N_ITEMS), primary))
    ax_mask.imshow(mask[:, order], aspect="auto", cmap="Greys", interpolation="nearest")
    for color, unit in zip(COLORS, units):
        ax_mask.add_patch(plt.Rectangle((-0.5, unit - 0.5), N_ITEMS, 1, fill=False, edgecolor=color, lw=2))
    bounds = np.flatnonzero(np.diff(primary[order])) + 0.5
    for b in bounds:
        ax_mask.axvline(b, color="#bbbbbb", lw=0.8, ls="--")
    ax_mask.set_yticks(range(K), [f"h{k}" for k in range(K)], fontsize=7)
    ax_mask.set_xticks([])
    ax_mask.set_xlabel(f"{N_ITEMS} items, ordered by planted group (dashed boundaries)", fontsize=8)
    ax_mask.set_title(f"(b) connectivity_: K={K} x {N_ITEMS} items, R={R} links per item", fontsize=10)

    fig.suptitle(
        f"ItemGrouper(n_clusters={K}, overlap={R}, n_components={F}) fitted on generated data "
        f"(make_interactions: {N_USERS} users, {N_ITEMS} items, {N_PLANTED} planted groups)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(OUT, dpi=100)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
