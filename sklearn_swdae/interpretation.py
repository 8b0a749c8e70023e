"""What the learned item groups mean, and why an item was recommended.

Section 5.10 of Khawar, Poon and Zhang (WWW 2020) reads every hidden unit of
SW-DAE as the group of items it is linked to, and describes a group by the
genres of its movies: Table 8 lists the top genres of a few units, with the
percentage of the group's movies that have each genre; Figure 8 takes the 25
units with the largest share of one genre and draws, as a heat map, the
shares of every other genre in their groups.

This module computes those tables for any connectivity (a fitted
:class:`~sklearn_swdae.SparseWideDAERecommender` or
:class:`~sklearn_swdae.ItemGrouper`, or the mask itself) and any binary item
metadata, e.g. the ``item_genres`` that
:func:`~sklearn_swdae.datasets.load_movielens` returns, and it explains one
recommendation: the decoder's logit of an item is a sum over hidden units,
so the units (item groups) that add the most to it are its explanation.
The heat map needs matplotlib (the ``plot`` extra).
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from ._torch_utils import csr_to_torch
from .metrics import top_k_items

__all__ = [
    "explain_recommendation",
    "group_genre_composition",
    "plot_genre_heatmap",
    "top_genres_of_units",
    "top_units_for_genre",
]

_NORMALIZE = ("items", "genres", None)


def _as_connectivity(connectivity):
    """The (K, n_items) boolean CSR mask of an estimator or of a mask."""
    mask = connectivity
    if hasattr(connectivity, "fit"):
        mask = getattr(connectivity, "connectivity_", None)
        if mask is None:
            raise ValueError(
                f"connectivity: this {type(connectivity).__name__} has no connectivity_; pass "
                "a fitted SparseWideDAERecommender or ItemGrouper, or the mask itself."
            )
    if not sp.issparse(mask) and np.ndim(mask) != 2:
        raise ValueError(f"connectivity must be 2D (K, n_items), got shape {np.shape(mask)}.")
    mask = sp.csr_array(mask) if sp.issparse(mask) else sp.csr_array(np.asarray(mask))
    if mask.ndim != 2:
        raise ValueError(f"connectivity must be 2D (K, n_items), got shape {mask.shape}.")
    return (mask != 0).astype(bool)


def _as_item_genres(item_genres, n_items):
    genres = item_genres.toarray() if sp.issparse(item_genres) else np.asarray(item_genres)
    if genres.ndim != 2 or genres.shape[0] != n_items:
        raise ValueError(f"item_genres must have shape (n_items={n_items}, n_genres), got {genres.shape}.")
    if genres.dtype.kind not in "biuf":
        raise ValueError(f"item_genres must be boolean or numeric, got dtype {genres.dtype}.")
    return (genres != 0).astype(np.float64)


def group_genre_composition(connectivity, item_genres, *, normalize="items"):
    """Genre composition of every hidden unit's item group.

    Parameters
    ----------
    connectivity : {array-like, sparse matrix} of shape (K, n_items), or fitted estimator
        ``connectivity[k, i]`` is True when item i belongs to the group of
        unit k; a fitted :class:`~sklearn_swdae.SparseWideDAERecommender`
        or :class:`~sklearn_swdae.ItemGrouper` gives its ``connectivity_``.
    item_genres : {array-like, sparse matrix} of shape (n_items, n_genres)
        Binary metadata: True when the item has the genre.  An item may have
        several genres, or none.
    normalize : {"items", "genres"} or None, default="items"
        ``"items"``: the fraction of the group's items that have the genre,
        the percentages of the paper's Table 8 and Figure 8; since an item
        may have several genres a row can sum to more than 1.
        ``"genres"``: every item shares one unit of weight equally among its
        genres (items without a genre are left out), so each row sums to 1.
        None: the number of the group's items with the genre.

    Returns
    -------
    composition : ndarray of shape (K, n_genres), dtype float64
        Rows of units whose group is empty (or, with ``"genres"``, holds no
        item with a genre) are zero.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.interpretation import group_genre_composition
    >>> connectivity = np.array([[1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)
    >>> genres = np.array([[1, 0], [1, 1], [0, 1], [0, 1]], dtype=bool)
    >>> group_genre_composition(connectivity, genres)
    array([[1.        , 0.5       ],
           [0.33333333, 1.        ]])
    >>> group_genre_composition(connectivity, genres, normalize="genres").sum(axis=1)
    array([1., 1.])
    """
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be 'items', 'genres' or None, got {normalize!r}.")
    mask = _as_connectivity(connectivity)
    genres = _as_item_genres(item_genres, mask.shape[1])
    if normalize == "genres":
        per_item = genres.sum(axis=1, keepdims=True)
        genres = np.divide(genres, per_item, out=np.zeros_like(genres), where=per_item > 0)
    weights = np.asarray(mask.astype(np.float64) @ genres)
    if normalize is None:
        return weights
    if normalize == "items":
        totals = np.asarray(mask.sum(axis=1), dtype=np.float64).reshape(-1, 1)
    else:
        totals = weights.sum(axis=1, keepdims=True)
    return np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)


def _genre_index(genre, genre_names, n_genres):
    if isinstance(genre, Integral) and not isinstance(genre, bool):
        if not 0 <= genre < n_genres:
            raise ValueError(f"genre must be in [0, n_genres={n_genres}), got {genre}.")
        return int(genre)
    if genre_names is None:
        raise ValueError(f"genre {genre!r} is a name: pass genre_names, or give its column index.")
    names = [str(name) for name in genre_names]
    if len(names) != n_genres:
        raise ValueError(f"genre_names has {len(names)} names for {n_genres} genre columns.")
    if str(genre) not in names:
        raise ValueError(f"genre {genre!r} is not one of genre_names {names}.")
    return names.index(str(genre))


def top_units_for_genre(connectivity, item_genres, genre, *, n_units=25, min_group_size=1, genre_names=None):
    """The hidden units whose item groups hold the largest share of one genre.

    The selection of the paper's Figure 8: units ranked by the fraction of
    their group's items that have ``genre`` (ties: the larger group first,
    then the smaller unit index).

    Parameters
    ----------
    connectivity : {array-like, sparse matrix} of shape (K, n_items), or fitted estimator
        As for :func:`group_genre_composition`.
    item_genres : {array-like, sparse matrix} of shape (n_items, n_genres)
        Binary item metadata.
    genre : int or str
        Column of ``item_genres``, or its name in ``genre_names``.
    n_units : int, default=25
        Largest number of units returned (25 in the paper).
    min_group_size : int, default=1
        Units with smaller groups are skipped: a group of one item has
        0% or 100% of every genre, which says little.
    genre_names : sequence of str, default=None
        Names of the columns of ``item_genres``; needed when ``genre`` is a
        name.

    Returns
    -------
    units : ndarray of int64
        At most ``n_units`` unit indices, best first; units whose group has
        no item of the genre are never returned.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.interpretation import top_units_for_genre
    >>> connectivity = np.array([[1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 1, 1]], dtype=bool)
    >>> genres = np.array([[1, 0], [1, 1], [0, 1], [0, 1]], dtype=bool)
    >>> top_units_for_genre(connectivity, genres, "drama", genre_names=["drama", "comedy"])
    array([0, 1])
    """
    if isinstance(n_units, bool) or not isinstance(n_units, Integral) or n_units < 1:
        raise ValueError(f"n_units must be a positive integer, got {n_units!r}.")
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, Integral) or min_group_size < 1:
        raise ValueError(f"min_group_size must be a positive integer, got {min_group_size!r}.")
    mask = _as_connectivity(connectivity)
    composition = group_genre_composition(mask, item_genres, normalize="items")
    column = _genre_index(genre, genre_names, composition.shape[1])
    share = composition[:, column]
    sizes = np.asarray(mask.sum(axis=1)).ravel()
    candidates = np.flatnonzero((sizes >= min_group_size) & (share > 0))
    order = np.lexsort((candidates, -sizes[candidates], -share[candidates]))
    return candidates[order][:n_units].astype(np.int64)


def top_genres_of_units(composition, genre_names, units=None, *, n_genres=3):
    """The leading genres of each unit, as in the paper's Table 8.

    Parameters
    ----------
    composition : ndarray of shape (K, n_genres)
        From :func:`group_genre_composition`.
    genre_names : sequence of str of length n_genres
        Names of the genre columns.
    units : sequence of int, default=None
        Units to describe; None describes all of them.
    n_genres : int, default=3
        Genres listed per unit.

    Returns
    -------
    table : dict of int to list of (str, float)
        For each unit, its ``n_genres`` genres of largest value, largest
        first (ties: the genre listed first in ``genre_names``), with the
        value; genres with value 0 are left out.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.interpretation import top_genres_of_units
    >>> composition = np.array([[0.2, 0.9, 0.0], [0.5, 0.5, 0.1]])
    >>> top_genres_of_units(composition, ["Comedy", "Horror", "War"], n_genres=2)
    {0: [('Horror', 0.9), ('Comedy', 0.2)], 1: [('Comedy', 0.5), ('Horror', 0.5)]}
    """
    composition = np.asarray(composition, dtype=np.float64)
    names = [str(name) for name in genre_names]
    if composition.ndim != 2 or composition.shape[1] != len(names):
        raise ValueError(
            f"composition must have shape (K, {len(names)}) to match genre_names, got {composition.shape}."
        )
    if isinstance(n_genres, bool) or not isinstance(n_genres, Integral) or n_genres < 1:
        raise ValueError(f"n_genres must be a positive integer, got {n_genres!r}.")
    units = range(composition.shape[0]) if units is None else [int(u) for u in units]
    table = {}
    for unit in units:
        if not 0 <= unit < composition.shape[0]:
            raise ValueError(f"units must be in [0, K={composition.shape[0]}), got {unit}.")
        row = composition[unit]
        best = top_k_items(row[None, :], n_genres)[0]
        table[unit] = [(names[g], float(row[g])) for g in best if row[g] > 0]
    return table


def plot_genre_heatmap(composition, units, genre_names, *, ax=None, cmap="viridis", title=None):
    """Heat map of the genre composition of some units (the paper's Figure 8).

    Parameters
    ----------
    composition : ndarray of shape (K, n_genres)
        From :func:`group_genre_composition` (fractions in [0, 1]).
    units : sequence of int
        Units to draw, one row each, in this order (e.g. from
        :func:`top_units_for_genre`).
    genre_names : sequence of str of length n_genres
        Column labels.
    ax : matplotlib Axes, default=None
        Where to draw; None creates a figure.
    cmap : str, default="viridis"
        Colormap.
    title : str, default=None
        Axes title.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_swdae.interpretation import plot_genre_heatmap
    >>> ax = plot_genre_heatmap(np.array([[0.2, 0.9], [0.5, 0.1]]), [1, 0], ["Comedy", "Horror"])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['unit 1', 'unit 0']
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plot_genre_heatmap needs matplotlib: pip install 'sklearn-swdae[plot]'.") from exc
    composition = np.asarray(composition, dtype=np.float64)
    units = [int(u) for u in units]
    names = [str(name) for name in genre_names]
    if composition.ndim != 2 or composition.shape[1] != len(names):
        raise ValueError(
            f"composition must have shape (K, {len(names)}) to match genre_names, got {composition.shape}."
        )
    if not units:
        raise ValueError("units is empty: there is nothing to draw.")
    if min(units) < 0 or max(units) >= composition.shape[0]:
        raise ValueError(f"units must be in [0, K={composition.shape[0]}), got {units}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * len(names) + 2.5, 0.25 * len(units) + 1.8))
    image = ax.imshow(composition[units], aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(units)), [f"unit {u}" for u in units], fontsize=7)
    ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02, label="fraction of the group's items")
    if title is not None:
        ax.set_title(title, fontsize=9)
    return ax


def _decoder_parts(estimator):
    """(module, decoder weight (n_items, K), decoder bias) of a fitted DAE."""
    check_is_fitted(estimator, "module_")
    module = estimator.module_
    if not (hasattr(module, "encode") and hasattr(module, "decoder")):
        raise ValueError(
            f"{type(estimator).__name__} has no single hidden layer whose units explain a score; "
            "explain_recommendation needs a one-hidden-layer autoencoder (SW-DAE, FC-DAE, "
            "Mult-DAE)."
        )
    with torch.no_grad():
        weight = module.decoder.effective_weight().detach().cpu().double().numpy()
        bias = module.decoder.bias.detach().cpu().double().numpy()
    return module, weight, bias


def explain_recommendation(estimator, x, item=None, *, n_units=5):
    """Which hidden units (item groups) made an item's score for one user.

    The decoder's logit of item i for a user with history x is
    ``b_i + sum_k h_k(x) * W_dec[i, k]``, where ``h(x)`` is the hidden
    layer (no dropout) and, in SW-DAE, ``W_dec[i, k]`` is zero unless item
    i belongs to the group of unit k.  The contribution of unit k is
    ``h_k(x) * W_dec[i, k]``; the units of largest contribution, with the
    items of their groups and the user's consumed items among them, explain
    the recommendation ("recommended because you watched these movies,
    which the unit links to it").

    Parameters
    ----------
    estimator : fitted SparseWideDAERecommender, FCDAERecommender or MultDAERecommender
        A one-hidden-layer autoencoder recommender.
    x : {array-like, sparse matrix} of shape (n_items,) or (1, n_items)
        The user's history.
    item : int, default=None
        The item to explain; None explains the user's top recommendation
        (best item not in x).
    n_units : int, default=5
        Number of units returned, largest contribution first.  Only units
        linked to the item are candidates, so fewer may be returned.

    Returns
    -------
    explanation : :class:`~sklearn.utils.Bunch`
        - ``item``: the explained item.
        - ``logit``: its score (what ``decision_function`` returns).
        - ``bias``: the decoder bias ``b_i``.
        - ``activations``: ndarray of shape (K,), ``h(x)``.
        - ``contributions``: ndarray of shape (K,); ``bias +
          contributions.sum()`` equals ``logit``; zero for units not linked
          to the item.
        - ``units``: int64 array, the top units.
        - ``unit_contributions``: their contributions.
        - ``unit_items``: list of int64 arrays, the items of each top unit's
          group (None for a fully connected model, whose units link to all
          items).
        - ``unit_history``: list of int64 arrays, the user's items among
          them (all the user's items for a fully connected model).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> from sklearn_swdae.interpretation import explain_recommendation
    >>> X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    >>> grouper = ItemGrouper(n_clusters=12, overlap=0.25, n_components=6, random_state=0)
    >>> model = SparseWideDAERecommender(grouper, max_iter=5, device="cpu", random_state=0).fit(X)
    >>> why = explain_recommendation(model, X[[0]], n_units=2)
    >>> bool(why.item == model.recommend(X[[0]], top_n=1)[0, 0])
    True
    >>> bool(np.isclose(why.bias + why.contributions.sum(), why.logit, atol=1e-4))
    True
    >>> len(why.units) <= 2 and all(model.connectivity_[u, why.item] for u in why.units)
    True
    """
    if isinstance(n_units, bool) or not isinstance(n_units, Integral) or n_units < 1:
        raise ValueError(f"n_units must be a positive integer, got {n_units!r}.")
    module, weight, bias = _decoder_parts(estimator)
    if not sp.issparse(x) and np.ndim(x) == 1:
        x = np.asarray(x)[None, :]
    x = estimator._check_query(x)
    if x.shape[0] != 1:
        raise ValueError(f"x must be the history of one user (one row), got {x.shape[0]} rows.")
    n_items = x.shape[1]
    if item is None:
        item = int(estimator.recommend(x, top_n=1)[0, 0])
        if item >= n_items:  # the padding index: no unseen item left
            raise ValueError("The user has consumed every item: there is nothing to explain.")
    elif isinstance(item, bool) or not isinstance(item, Integral) or not 0 <= item < n_items:
        raise ValueError(f"item must be an integer in [0, n_items={n_items}), got {item!r}.")
    item = int(item)
    module.eval()
    with torch.no_grad():
        hidden = module.encode(csr_to_torch(x, estimator.device_))
    hidden = hidden.detach().cpu().double().numpy()[0]
    contributions = hidden * weight[item]
    logit = float(estimator.decision_function(x)[0, item])

    mask = getattr(estimator, "connectivity_", None)
    mask = None if mask is None else _as_connectivity(mask)
    live = np.ones(hidden.size, bool) if mask is None else mask[:, [item]].toarray().ravel()
    candidates = np.flatnonzero(live)
    order = np.lexsort((candidates, -contributions[candidates]))
    units = candidates[order][:n_units].astype(np.int64)
    history = x.indices.astype(np.int64)
    if mask is None:
        unit_items = [None] * units.size
        unit_history = [history.copy() for _ in units]
    else:
        unit_items = [mask[[u]].indices.astype(np.int64) for u in units]
        unit_history = [np.intersect1d(group, history) for group in unit_items]
    return Bunch(
        item=item,
        logit=logit,
        bias=float(bias[item]),
        activations=hidden,
        contributions=contributions,
        units=units,
        unit_contributions=contributions[units],
        unit_items=unit_items,
        unit_history=unit_history,
    )
