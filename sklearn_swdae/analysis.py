"""Width and sparsity sweeps of the paper (Figures 5, 6 and 7).

:func:`sweep` fits any family of recommenders over a grid of values of one
hyperparameter and scores every fit on validation and test users under the
strong-generalization protocol; :func:`width_sweep` (the number K of hidden
units, Figure 5) and :func:`sparsity_sweep` (the overlap R / K, Figures 6
and 7) build the paper's model families on top of it.  Results are a list
of flat records (dicts), one per fit, ready for ``pandas.DataFrame`` or a
plot.

:func:`load_example_split` gives the data the example scripts run on:
generated interactions, or a MovieLens folder when present.
"""

import time
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from ._docstrings import doc_filler
from .autoencoders import (
    FCDAERecommender,
    MultDAERecommender,
    MultVAERecommender,
    SparseWideDAERecommender,
)
from .grouping import ItemGrouper, resolve_overlap
from .metrics import evaluate_rankings
from .model_selection import strong_generalization_split

__all__ = ["sweep", "width_sweep", "sparsity_sweep", "load_example_split", "DEFAULT_SWEEP_METRICS"]

#: Metrics of every sweep record, on validation and on test users.
DEFAULT_SWEEP_METRICS = ("ndcg@100", "recall@20", "recall@50")


def _check_pair(pair, name):
    if pair is None:
        return None
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
        raise ValueError(f"{name} must be a (fold_in, held_out) pair of matrices or None, got {type(pair).__name__}.")
    return pair


def sweep(
    models, values, X_train, validation, test=None, *, parameter="value", metrics=DEFAULT_SWEEP_METRICS, verbose=0
):
    """Fit every model at every value and score it on held-out users.

    Parameters
    ----------
    models : dict of str to callable
        ``models[name](value)`` returns an unfitted recommender (any
        estimator of the package, or anything with ``fit`` and
        ``decision_function``).
    values : sequence
        The grid of the swept hyperparameter.
    X_train : {array-like, sparse matrix} of shape (n_users, n_items)
        Training users' histories.
    validation, test : tuple (fold_in, held_out) or None
        Users scored after each fit: their fold-in histories and held-out
        items (e.g. ``split.validation_fold_in, split.validation_held_out``
        of :func:`~sklearn_swdae.model_selection.strong_generalization_split`).
    parameter : str, default="value"
        Key of the swept value in the records.
    metrics : sequence of str, default=("ndcg@100", "recall@20", "recall@50")
        Metrics averaged over the users with held-out items.
    verbose : int, default=0
        Print one line per fit when positive.

    Returns
    -------
    records : list of dict
        One per (value, model), in that order: ``model`` (its name),
        ``parameter`` (the value), ``validation_<metric>`` and
        ``test_<metric>`` for the given sets, ``fit_time`` (seconds) and
        ``n_parameters`` (the model's ``n_parameters_``, or None).

    Examples
    --------
    >>> from sklearn_swdae import FCDAERecommender, PopularityRecommender
    >>> from sklearn_swdae.analysis import load_example_split, sweep
    >>> split = load_example_split(fast=True)
    >>> records = sweep(
    ...     {"FC-DAE": lambda k: FCDAERecommender(n_hidden=k, max_iter=2, device="cpu"),
    ...      "Popularity": lambda k: PopularityRecommender()},
    ...     [4, 8], split.train, (split.validation_fold_in, split.validation_held_out),
    ...     parameter="width", metrics=["ndcg@100"],
    ... )
    >>> [(r["model"], r["width"]) for r in records]
    [('FC-DAE', 4), ('Popularity', 4), ('FC-DAE', 8), ('Popularity', 8)]
    >>> sorted(records[0])
    ['fit_time', 'model', 'n_parameters', 'validation_ndcg@100', 'width']
    """
    if not isinstance(models, dict) or not models or not all(callable(f) for f in models.values()):
        raise ValueError("models must be a non-empty dict of name -> callable(value) returning an estimator.")
    values = list(values)
    if not values:
        raise ValueError("values must hold at least one value to sweep.")
    pairs = (("validation", _check_pair(validation, "validation")), ("test", _check_pair(test, "test")))
    held_out_sets = [(name, pair) for name, pair in pairs if pair is not None]
    records = []
    for value in values:
        for name, factory in models.items():
            estimator = factory(value)
            tic = time.perf_counter()
            estimator.fit(X_train)
            record = {"model": name, parameter: value, "fit_time": time.perf_counter() - tic}
            for set_name, (fold_in, held_out) in held_out_sets:
                results = evaluate_rankings(estimator.decision_function, fold_in, held_out, metrics)
                record.update({f"{set_name}_{m}": float(np.nanmean(v)) for m, v in results.items()})
            record["n_parameters"] = getattr(estimator, "n_parameters_", None)
            records.append(record)
            if verbose:
                scores = "  ".join(f"{k} {v:.4f}" for k, v in record.items() if k.endswith(tuple(metrics)))
                print(f"{name:<10} {parameter}={value!s:<8} {scores}  ({record['fit_time']:.1f}s)", flush=True)
    return records


def _with_params(estimator, params):
    """Set the entries of ``params`` that the estimator has."""
    own = estimator.get_params(deep=False)
    return estimator.set_params(**{k: v for k, v in (params or {}).items() if k in own})


def _n_components(X_train, n_components):
    return max(1, min(n_components, min(X_train.shape) - 1))


def _swdae_factory(X_train, n_clusters, overlap, n_components, params, random_state):
    def make(n_clusters=n_clusters, overlap=overlap):
        grouper = ItemGrouper(
            n_clusters=n_clusters,
            overlap=overlap,
            n_components=_n_components(X_train, n_components),
            random_state=random_state,
        )
        # Every model of an analysis trains the same epochs: SW-DAE's default
        # patience is off here, as the other models' is (estimator_params
        # may set one for all of them).
        swdae = SparseWideDAERecommender(grouper=grouper, n_iter_no_change=None, random_state=random_state)
        return _with_params(swdae, params)

    return make


def _resolve_models(models, defaults):
    if isinstance(models, dict):
        return models
    models = [models] if isinstance(models, str) else list(models)
    unknown = [name for name in models if name not in defaults]
    if unknown or not models:
        raise ValueError(f"models must be names among {sorted(defaults)} or a dict of name -> factory; got {models!r}.")
    return {name: defaults[name] for name in models}


# The data parameters of the paper's sweeps.
_fill_sweep_doc = doc_filler(
    {
        "data_parameters": """X_train : {array-like, sparse matrix} of shape (n_users, n_items)
    Training users.
validation, test : tuple (fold_in, held_out) or None
    Held-out users scored after every fit."""
    }
)


@_fill_sweep_doc
def width_sweep(
    X_train,
    validation,
    test,
    widths,
    *,
    models=("SW-DAE", "FC-DAE", "Mult-DAE", "Mult-VAE"),
    overlap=0.1,
    n_components=50,
    estimator_params=None,
    metrics=DEFAULT_SWEEP_METRICS,
    random_state=0,
    verbose=0,
):
    """Performance against the width K of the hidden layer (the paper's Figure 5).

    Every model has one hidden layer of K units: SW-DAE with K item groups
    (``ItemGrouper(n_clusters=K, overlap=overlap)``), FC-DAE and Mult-DAE
    with ``n_hidden=K``, Mult-VAE with ``n_hidden=K`` and a latent code of
    ``max(1, K // 3)`` dimensions (the 600 / 200 ratio of Liang et al.).

    Parameters
    ----------
    {data_parameters}
    widths : sequence of int
        The values of K (each at most the number of items for SW-DAE).
    models : sequence of str or dict, default=("SW-DAE", "FC-DAE", "Mult-DAE", "Mult-VAE")
        Names of the model families above, or a dict of name -> factory
        ``f(K)`` returning an unfitted estimator.
    overlap : int or float, default=0.1
        R of SW-DAE (a float is R / K, 10% in the paper).
    n_components : int, default=50
        F of SW-DAE's grouper, capped below the numbers of users and items.
    estimator_params : dict or None, default=None
        Parameters set on every default model that has them, e.g.
        ``{"max_iter": 50, "device": "cpu", "learning_rate": 3e-3}``.
    metrics : sequence of str, default=("ndcg@100", "recall@20", "recall@50")
    random_state : int, default=0
        Seed of every model (and of SW-DAE's grouper).
    verbose : int, default=0
        Print one line per fit when positive.

    Returns
    -------
    records : list of dict
        See :func:`sweep`; the swept key is ``"n_clusters"`` (K).

    Examples
    --------
    >>> from sklearn_swdae.analysis import load_example_split, width_sweep
    >>> split = load_example_split(fast=True)
    >>> records = width_sweep(
    ...     split.train, (split.validation_fold_in, split.validation_held_out),
    ...     (split.test_fold_in, split.test_held_out), [4, 8], models=["SW-DAE", "FC-DAE"],
    ...     n_components=4, estimator_params={"max_iter": 2, "device": "cpu"},
    ... )
    >>> [(r["model"], r["n_clusters"]) for r in records]
    [('SW-DAE', 4), ('FC-DAE', 4), ('SW-DAE', 8), ('FC-DAE', 8)]
    """
    params = estimator_params or {}

    def fc_dae(k):
        return _with_params(FCDAERecommender(n_hidden=k, random_state=random_state), params)

    def mult_dae(k):
        return _with_params(MultDAERecommender(n_hidden=k, random_state=random_state), params)

    def mult_vae(k):
        return _with_params(MultVAERecommender(n_hidden=k, n_latent=max(1, k // 3), random_state=random_state), params)

    swdae = _swdae_factory(X_train, None, overlap, n_components, params, random_state)
    defaults = {
        "SW-DAE": lambda k: swdae(n_clusters=k),
        "FC-DAE": fc_dae,
        "Mult-DAE": mult_dae,
        "Mult-VAE": mult_vae,
    }
    widths = list(widths)
    if not widths or not all(isinstance(k, Integral) and not isinstance(k, bool) and k >= 1 for k in widths):
        raise ValueError(f"widths must be a non-empty sequence of positive ints, got {widths!r}.")
    return sweep(
        _resolve_models(models, defaults),
        widths,
        X_train,
        validation,
        test,
        parameter="n_clusters",
        metrics=metrics,
        verbose=verbose,
    )


@_fill_sweep_doc
def sparsity_sweep(
    X_train,
    validation,
    test,
    overlaps,
    *,
    n_clusters=1000,
    models=("SW-DAE",),
    n_components=50,
    estimator_params=None,
    metrics=DEFAULT_SWEEP_METRICS,
    random_state=0,
    verbose=0,
):
    """Performance against the sparsity level R / K of SW-DAE (Figures 6 and 7).

    SW-DAE is fit with ``ItemGrouper(n_clusters=n_clusters, overlap=R)``
    for every R of ``overlaps``: each item links to R of the K hidden units,
    so R / K is the fraction of the connections of a fully connected layer
    that the network keeps (``overlap=1.0`` is fully connected).

    Parameters
    ----------
    {data_parameters}
    overlaps : sequence of int or float
        R values: an int is R, a float in (0, 1] is R / K.
    n_clusters : int, default=1000
        K, the same for every fit (at most the number of items).
    models : sequence of str or dict, default=("SW-DAE",)
        ``"SW-DAE"``, or a dict of name -> factory ``f(overlap)``.
    n_components : int, default=50
        F of the grouper, capped below the numbers of users and items.
    estimator_params : dict or None, default=None
        Parameters set on SW-DAE, e.g. ``{"max_iter": 50}``.
    metrics : sequence of str, default=("ndcg@100", "recall@20", "recall@50")
    random_state : int, default=0
        Seed of the models and groupers.
    verbose : int, default=0
        Print one line per fit when positive.

    Returns
    -------
    records : list of dict
        See :func:`sweep`; the swept key is ``"overlap"`` (as given), and
        every record also has ``"sparsity"``, the resolved R / K.

    Examples
    --------
    >>> from sklearn_swdae.analysis import load_example_split, sparsity_sweep
    >>> split = load_example_split(fast=True)
    >>> records = sparsity_sweep(
    ...     split.train, None, (split.test_fold_in, split.test_held_out), [1, 0.5],
    ...     n_clusters=8, n_components=4, estimator_params={"max_iter": 2, "device": "cpu"},
    ... )
    >>> [(r["overlap"], r["sparsity"]) for r in records]
    [(1, 0.125), (0.5, 0.5)]
    """
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, Integral) or n_clusters < 1:
        raise ValueError(f"n_clusters must be a positive int, got {n_clusters!r}.")
    overlaps = list(overlaps)
    if not overlaps:
        raise ValueError("overlaps must hold at least one R.")
    for overlap in overlaps:
        if isinstance(overlap, bool) or not isinstance(overlap, Real):
            raise ValueError(f"overlaps must hold ints (R) or floats (R / K), got {overlap!r}.")
        resolve_overlap(overlap, n_clusters)  # R in [1, K], else a ValueError naming overlap
    swdae = _swdae_factory(X_train, n_clusters, None, n_components, estimator_params, random_state)
    defaults = {"SW-DAE": lambda overlap: swdae(overlap=overlap)}
    records = sweep(
        _resolve_models(models, defaults),
        overlaps,
        X_train,
        validation,
        test,
        parameter="overlap",
        metrics=metrics,
        verbose=verbose,
    )
    for record in records:
        record["sparsity"] = resolve_overlap(record["overlap"], n_clusters) / n_clusters
    return records


def _default_data_home():
    from .datasets import get_data_home

    return Path(get_data_home()) / "movielens"


def load_example_split(dataset="generated", *, fast=False, data_home=None, n_held_out=0.1, random_state=0):
    """The data of the example scripts, split by the strong-generalization protocol.

    Parameters
    ----------
    dataset : str, default="generated"
        ``"generated"``: :func:`~sklearn_swdae.datasets.make_interactions`
        with planted overlapping item groups.  Otherwise the name of a
        MovieLens folder under ``data_home`` (e.g. ``"ml-100k"``), read by
        :func:`~sklearn_swdae.datasets.load_movielens` and preprocessed as
        the paper's ML-20M (ratings of 4 or more, users with at least 5).
    fast : bool, default=False
        Smaller generated data (seconds-long examples).
    data_home : str or path-like or None, default=None
        Folder of the MovieLens folders; None means the ``movielens``
        folder of :func:`~sklearn_swdae.datasets.get_data_home`, where
        :func:`~sklearn_swdae.datasets.fetch_movielens` stores them.
    n_held_out : int or float, default=0.1
        Number (or fraction) of validation users, and of test users.
    random_state : int, default=0
        Seed of the generator and of the split.

    Returns
    -------
    split : :class:`~sklearn.utils.Bunch`
        See :func:`~sklearn_swdae.model_selection.strong_generalization_split`;
        plus ``name`` (a label for titles) and, for MovieLens, ``item_ids``
        (the kept movies' ids).

    Examples
    --------
    >>> from sklearn_swdae.analysis import load_example_split
    >>> split = load_example_split(fast=True)
    >>> split.name, split.train.shape
    ('generated 1000 x 150', (800, 150))
    """
    from .datasets import load_movielens, make_interactions, preprocess_interactions

    if dataset == "generated":
        n_users, n_items, n_groups = (1000, 150, 10) if fast else (4000, 600, 30)
        X, _ = make_interactions(
            n_users, n_items, n_groups, density=0.05, groups_per_user=2, noise=0.05, random_state=random_state
        )
        split = strong_generalization_split(X, n_validation=n_held_out, n_test=n_held_out, random_state=random_state)
        split["name"] = f"generated {n_users} x {n_items}"
        return split
    folder = Path(data_home) if data_home is not None else _default_data_home()
    folder = folder / dataset
    if not folder.is_dir():
        raise ValueError(f"dataset={dataset!r}: no folder {folder}; use 'generated' or a MovieLens folder name.")
    bunch = load_movielens(folder)
    kept = preprocess_interactions(bunch, "ml-20m")
    X = kept.data
    split = strong_generalization_split(X, n_validation=n_held_out, n_test=n_held_out, random_state=random_state)
    split["name"] = dataset
    split["item_ids"] = kept.item_ids[split.item_indices]
    return split
