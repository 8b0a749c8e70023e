"""Top-N ranking metrics of the paper (section 4.2) and scorers for model selection.

Recall@R divides the hits in the top R by ``min(R, |I_u|)`` so that its maximum
is one; NDCG@R divides DCG@R by the DCG of the ideal ranking.  Both are
computed per user from a score matrix; users without any relevant item are
left out of the average (their value is NaN when ``average=False``).
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ._docstrings import doc_filler
from ._validation import as_interaction_matrix

__all__ = [
    "recall_at_k",
    "ndcg_at_k",
    "top_k_items",
    "evaluate_rankings",
    "evaluate_cold_start",
    "catalog_coverage",
    "mean_popularity_rank",
    "RecommendationScorer",
    "recommendation_scorers",
]


def _partition_top_k(scores, k):
    """The k best items of every row, in no particular order, and the rows tied at the cut.

    Selects the k + 1 best of each row: a row is tied at the cut when its
    k-th and (k + 1)-th best scores are equal, so that which of the tied
    items make the list is not decided by the selection (the caller breaks
    those ties).  This needs no pass over the whole score matrix beyond the
    selection itself.  torch's top-k selection replaces numpy's
    argpartition on float rows (it was the faster of the two in a profile
    of ``recommend`` and it is multithreaded).

    Returns the (n_rows, k) items and the indices of the tied rows.
    """
    if scores.dtype in (np.float32, np.float64) and scores.size:
        if not (scores.flags.c_contiguous and scores.flags.writeable):
            scores = np.array(scores, order="C")  # top-k over contiguous rows was faster in a profile
        values, items = torch.topk(torch.from_numpy(scores), k + 1, dim=1, sorted=True)
        values, items = values.numpy(), items.numpy()
    else:
        items = np.argpartition(-scores, k, axis=1)[:, : k + 1]
        values = np.take_along_axis(scores, items, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        items, values = np.take_along_axis(items, order, axis=1), np.take_along_axis(values, order, axis=1)
    return items[:, :k], np.flatnonzero(values[:, k - 1] == values[:, k])


def top_k_items(scores, k):
    """Indices of the ``k`` highest scores of every row, best first.

    Ties are broken by the smaller item index, so the ranking is
    deterministic.  ``-inf`` marks items that must not be recommended; they
    come last.

    Parameters
    ----------
    scores : ndarray of shape (n_users, n_items)
        Scores, higher is better.
    k : int
        Number of items to return, at most n_items.

    Returns
    -------
    top : ndarray of shape (n_users, k), dtype int64

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.metrics import top_k_items
    >>> top_k_items(np.array([[0.1, 0.9, 0.5, 0.9]]), 3)
    array([[1, 3, 2]])
    """
    scores = np.asarray(scores)
    n_items = scores.shape[1]
    k = min(int(k), n_items)
    if k < n_items:
        part, tied = _partition_top_k(scores, k)
        # The selection is not stable: items tied with the k-th score may be
        # cut arbitrarily.  In the rows where ties straddle the cut, keep the
        # k best of the items scoring >= the k-th best, by (score, index);
        # only those rows and those items are sorted (a stable sort of whole
        # batches was most of the time of ``recommend`` on float32 scores,
        # where such ties are common among 20,000 items).
        if tied.size:
            part = np.array(part)
            kth = np.take_along_axis(scores[tied], part[tied], axis=1).min(axis=1)
            for row, cut in zip(tied, kth):
                at_least = np.flatnonzero(scores[row] >= cut)
                part[row] = at_least[np.lexsort((at_least, -scores[row, at_least]))[:k]]
    else:
        part = np.broadcast_to(np.arange(n_items), scores.shape)
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    return np.take_along_axis(part, order, axis=1).astype(np.int64)


def _relevance_of(y_true, top):
    """Boolean (n_users, k) matrix: is the item ranked r relevant?

    y_true is densified as booleans: callers pass one user batch at a time,
    whose dense scores are already as large.
    """
    dense = y_true.toarray() if sp.issparse(y_true) else np.asarray(y_true)
    return dense[np.arange(top.shape[0])[:, None], top] > 0


def _n_relevant(y_true):
    if sp.issparse(y_true):
        return np.asarray((sp.csr_array(y_true) > 0).sum(axis=1)).ravel()
    return (np.asarray(y_true) > 0).sum(axis=1)


def _check_pair(y_true, y_score):
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_score.ndim != 2:
        raise ValueError(f"y_score must be 2D (n_users, n_items), got shape {y_score.shape}.")
    # np.shape, not y_true.shape: y_true may be a nested list (array-like).
    if tuple(np.shape(y_true)) != y_score.shape:
        raise ValueError(
            f"y_true and y_score must have the same shape, got {tuple(np.shape(y_true))} and {y_score.shape}."
        )
    if 0 in y_score.shape:
        raise ValueError(f"y_true and y_score are empty (shape {y_score.shape}); pass at least one user and one item.")
    if np.isnan(y_score).any():
        raise ValueError("y_score contains NaN; scores must be numbers (-inf excludes an item).")
    true_values = sp.csr_array(y_true).data if sp.issparse(y_true) else np.asarray(y_true, dtype=np.float64)
    if not np.isfinite(true_values).all() or (true_values < 0).any():
        raise ValueError(
            "y_true must be finite and non-negative: relevant (held-out) items are its "
            "positive entries, the others zero."
        )
    return y_score


def _recall(hits, n_relevant, k):
    with np.errstate(invalid="ignore", divide="ignore"):
        values = hits[:, :k].sum(axis=1) / np.minimum(k, n_relevant)
    return np.where(n_relevant > 0, values, np.nan)


def _ndcg(hits, n_relevant, k):
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits[:, :k] * discounts[: hits[:, :k].shape[1]]).sum(axis=1)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(n_relevant, k)]
    with np.errstate(invalid="ignore", divide="ignore"):
        values = dcg / ideal
    return np.where(n_relevant > 0, values, np.nan)


_METRICS = {"recall": _recall, "ndcg": _ndcg}


_METRIC_PARAMS = {
    "y_true": ["array-like", "sparse matrix"],
    "y_score": ["array-like"],
    "k": [Interval(Integral, 1, None, closed="left")],
    "average": ["boolean"],
}


def _average(values, average):
    if not average:
        return values
    if np.all(np.isnan(values)):
        raise ValueError(
            "No user has a relevant item in y_true, so the metric is undefined. "
            "Check that the held-out matrix is not empty."
        )
    return float(np.nanmean(values))


# The parameters recall_at_k and ndcg_at_k share.
_fill_metric_doc = doc_filler(
    {
        "ranking_parameters": """y_true : {array-like, sparse matrix} of shape (n_users, n_items)
    Relevant (held-out) items are the positive entries.
y_score : array-like of shape (n_users, n_items)
    Scores; ``-inf`` excludes an item from the ranking (e.g. the fold-in
    history).""",
        "average_parameter": """average : bool, default=True
    Return the mean over users with at least one relevant item; False
    returns one value per user (NaN for users without relevant items).""",
    }
)


@validate_params(_METRIC_PARAMS, prefer_skip_nested_validation=True)
@_fill_metric_doc
def recall_at_k(y_true, y_score, *, k=20, average=True):
    """Recall@k as in the paper: hits in the top k over ``min(k, |I_u|)``.

    Parameters
    ----------
    {ranking_parameters}
    k : int, default=20
        Cut-off: the length of the list whose hits count.
    {average_parameter}

    Returns
    -------
    recall : float or ndarray of shape (n_users,)
        In [0, 1]; 1 when the top k holds ``min(k, |I_u|)`` relevant items.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.metrics import recall_at_k
    >>> y_true = np.array([[1, 0, 1, 0]])
    >>> y_score = np.array([[0.9, 0.8, 0.1, 0.0]])
    >>> recall_at_k(y_true, y_score, k=2)
    0.5
    """
    return _metric_at_k("recall", y_true, y_score, k, average)


@validate_params(_METRIC_PARAMS, prefer_skip_nested_validation=True)
@_fill_metric_doc
def ndcg_at_k(y_true, y_score, *, k=100, average=True):
    """NDCG@k with binary relevance, as in the paper.

    DCG@k = sum_{r=1}^{k} 1[item at r is relevant] / log(r + 1), divided by
    the DCG of the ideal ranking, which puts all ``min(k, |I_u|)`` relevant items
    first.  The base of the logarithm cancels.

    Parameters
    ----------
    {ranking_parameters}
    k : int, default=100
        Cut-off: relevant items ranked below k add nothing.
    {average_parameter}

    Returns
    -------
    ndcg : float or ndarray of shape (n_users,)
        In [0, 1]; 1 for the ideal ranking.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.metrics import ndcg_at_k
    >>> relevant = np.array([[0, 1, 0]])  # the one relevant item is ranked second
    >>> round(ndcg_at_k(relevant, np.array([[0.9, 0.8, 0.1]]), k=3), 4)  # 1/log2(3)
    0.6309
    """
    return _metric_at_k("ndcg", y_true, y_score, k, average)


def _metric_at_k(kind, y_true, y_score, k, average):
    y_score = _check_pair(y_true, y_score)
    top = top_k_items(y_score, k)
    return _average(_METRICS[kind](_relevance_of(y_true, top), _n_relevant(y_true), k), average)


def _parse_metric(name):
    """'ndcg@100' -> ('ndcg', 100)."""
    try:
        kind, k = name.lower().split("@")
        k = int(k)
    except ValueError:
        raise ValueError(f"Metric names look like 'recall@20' or 'ndcg@100', got {name!r}.") from None
    if kind not in _METRICS or k < 1:
        raise ValueError(f"Unknown metric {name!r}: use 'recall@K' or 'ndcg@K' with a positive K.")
    return kind, k


def evaluate_rankings(
    score_fn,
    X_fold_in,
    X_held_out,
    metrics=("recall@20", "recall@50", "ndcg@100"),
    *,
    batch_size=1000,
    exclude_seen=True,
):
    """Per-user ranking metrics of a scoring function, computed in user batches.

    This is the evaluation step of the strong-generalization protocol: the
    model sees each user's fold-in items, ranks all items not in the
    fold-in, and is judged on the held-out items.  Only ``batch_size`` rows
    of scores exist at a time.

    Parameters
    ----------
    score_fn : callable
        Maps a CSR batch of fold-in rows to a dense (batch, n_items) score
        array, e.g. a fitted recommender's ``decision_function``.
    X_fold_in, X_held_out : sparse matrices of shape (n_users, n_items)
        Fold-in histories and held-out items of the same users.
    metrics : sequence of str, default=("recall@20", "recall@50", "ndcg@100")
        Metric names of the form ``"recall@K"`` or ``"ndcg@K"``.
    batch_size : int, default=1000
        Users scored at once.
    exclude_seen : bool, default=True
        Rank only items outside the fold-in history, as the paper does.

    Returns
    -------
    results : dict of str to ndarray of shape (n_users,)
        One value per user; NaN for users without held-out items.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> from sklearn_swdae.metrics import evaluate_rankings
    >>> fold_in = sparse.csr_array(np.array([[1, 0, 0, 0]]))
    >>> held_out = sparse.csr_array(np.array([[0, 0, 1, 0]]))
    >>> popularity = lambda X: np.tile([4.0, 3.0, 2.0, 1.0], (X.shape[0], 1))
    >>> evaluate_rankings(popularity, fold_in, held_out, ["recall@1", "ndcg@3"])
    {'recall@1': array([0.]), 'ndcg@3': array([0.63092975])}
    """
    parsed = [(name, *_parse_metric(name)) for name in metrics]
    X_fold_in = sp.csr_array(X_fold_in)
    X_held_out = sp.csr_array(X_held_out)
    if X_fold_in.shape != X_held_out.shape:
        raise ValueError(
            f"X_fold_in and X_held_out must have the same shape, got {X_fold_in.shape} and {X_held_out.shape}."
        )
    n_users, n_items = X_fold_in.shape
    max_k = min(max(k for _, _, k in parsed), n_items)
    results = {name: np.empty(n_users) for name, _, _ in parsed}
    for start in range(0, n_users, batch_size):
        stop = min(start + batch_size, n_users)
        fold_in = X_fold_in[start:stop]
        scores = np.array(score_fn(fold_in), dtype=np.float64, copy=True)
        if exclude_seen:
            rows, cols = fold_in.nonzero()
            scores[rows, cols] = -np.inf
        held_out = X_held_out[start:stop]
        top = top_k_items(scores, max_k)
        hits = _relevance_of(held_out, top)
        n_relevant = _n_relevant(held_out)
        for name, kind, k in parsed:
            results[name][start:stop] = _METRICS[kind](hits, n_relevant, min(k, n_items))
    return results


def _check_lists(top_items, n_items):
    top_items = np.asarray(top_items)
    if top_items.ndim != 2 or not np.issubdtype(top_items.dtype, np.integer):
        raise ValueError(
            f"top_items must be a 2-D integer array (one list per user), got shape "
            f"{top_items.shape} and dtype {top_items.dtype}."
        )
    # recommend() pads short lists with n_items; negative entries are padding too.
    listed = top_items[(top_items >= 0) & (top_items != n_items)]
    if listed.size and listed.max() > n_items:
        raise ValueError(f"top_items holds item {listed.max()}, beyond the {n_items} items.")
    return listed


def catalog_coverage(top_items, n_items):
    """Fraction of the catalogue that appears in at least one list.

    A model that shows everyone the same popular items covers
    ``top_n / n_items``; personal lists cover more.

    Parameters
    ----------
    top_items : array-like of shape (n_users, top_n) of int
        Recommended item indices per user; entries equal to ``n_items``
        (the padding of short lists by ``recommend``) or negative are ignored.
    n_items : int
        Size of the catalogue.

    Returns
    -------
    coverage : float
        In [0, 1].

    Examples
    --------
    >>> from sklearn_swdae.metrics import catalog_coverage
    >>> catalog_coverage([[0, 1], [0, 2]], n_items=10)
    0.3
    """
    if isinstance(n_items, bool) or not isinstance(n_items, Integral) or n_items < 1:
        raise ValueError(f"n_items must be a positive int, got {n_items!r}.")
    listed = _check_lists(top_items, n_items)
    return float(np.unique(listed).size / n_items)


def mean_popularity_rank(top_items, X_train):
    """Mean popularity rank of the recommended items (1 = most consumed).

    Items are ranked by how many training users consumed them (ties share
    their mean rank).  A popularity ranking scores close to
    ``(top_n + 1) / 2``; higher values mean lists that reach further into
    the catalogue's long tail.

    Parameters
    ----------
    top_items : array-like of shape (n_users, top_n) of int
        Recommended item indices per user; entries equal to ``n_items``
        (padding) or negative are ignored.
    X_train : {array-like, sparse matrix} of shape (n_train_users, n_items)
        The training interactions that define popularity.

    Returns
    -------
    rank : float
        NaN when no item is listed.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.metrics import mean_popularity_rank
    >>> X = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1]])
    >>> mean_popularity_rank([[0, 2]], X)
    2.0
    """
    from scipy.stats import rankdata

    counts = np.asarray((sp.csr_array(X_train) > 0).sum(axis=0)).ravel()
    listed = _check_lists(top_items, counts.size)
    if listed.size == 0:
        return float("nan")
    ranks = rankdata(-counts, method="average")
    return float(ranks[listed].mean())


class RecommendationScorer:
    """A scorer for ``GridSearchCV(scoring=...)`` under the paper's protocol.

    Called as ``scorer(estimator, X, y=None)``.  With ``y`` (a held-out
    matrix of X's shape) the estimator ranks from X and is judged on y.
    Without ``y`` each user's items of X are split into fold-in and held-out
    by :func:`~sklearn_swdae.model_selection.split_fold_in` with a fixed
    seed, exactly as :meth:`SparseWideDAERecommender.score` does.

    Parameters
    ----------
    metric : str, default="ndcg@100"
        ``"recall@K"`` or ``"ndcg@K"``.
    held_out_fraction : float, default=0.2
        Fraction of each user's items held out when ``y`` is None.
    min_items : int, default=5
        Users with fewer items keep them all as fold-in and are not scored.
    random_state : int, default=0
        Seed of the fold-in / held-out split.

    Examples
    --------
    >>> from sklearn_swdae.metrics import RecommendationScorer
    >>> RecommendationScorer("recall@20")
    RecommendationScorer(metric='recall@20')
    """

    def __init__(self, metric="ndcg@100", *, held_out_fraction=0.2, min_items=5, random_state=0):
        _parse_metric(metric)
        self.metric = metric
        self.held_out_fraction = held_out_fraction
        self.min_items = min_items
        self.random_state = random_state

    def __repr__(self):
        return f"RecommendationScorer(metric={self.metric!r})"

    def __call__(self, estimator, X, y=None):
        return score_recommender(
            estimator,
            X,
            y,
            metric=self.metric,
            held_out_fraction=self.held_out_fraction,
            min_items=self.min_items,
            random_state=self.random_state,
        )


def score_recommender(estimator, X, y=None, *, metric="ndcg@100", held_out_fraction=0.2, min_items=5, random_state=0):
    """Mean ranking metric of a fitted recommender on users X (and held-out y).

    The shared implementation of every recommender's ``score`` and of
    :class:`RecommendationScorer`.  See :class:`RecommendationScorer` for the
    meaning of the arguments.

    Returns
    -------
    score : float
        Mean over the users that have held-out items.
    """
    from .model_selection import split_fold_in

    if y is None:
        fold_in, held_out = split_fold_in(
            X, held_out_fraction=held_out_fraction, min_items=min_items, random_state=random_state
        )
    else:
        fold_in, held_out = X, y
        if sp.issparse(held_out) or hasattr(held_out, "shape"):
            if tuple(held_out.shape) != tuple(fold_in.shape):
                raise ValueError(
                    f"y must be a held-out matrix of X's shape {tuple(fold_in.shape)}, got {tuple(held_out.shape)}."
                )
        held_out = as_interaction_matrix(held_out, name="y", binarize=True)
    values = evaluate_rankings(estimator.decision_function, fold_in, held_out, [metric])[metric]
    if np.all(np.isnan(values)):
        raise ValueError(
            "No user has held-out items to evaluate: with y=None each user needs at least "
            f"min_items={min_items} items (and held_out_fraction={held_out_fraction} of them "
            "rounded down must be >= 1). Pass a held-out matrix as y or more data."
        )
    return float(np.nanmean(values))


@validate_params({"metrics": ["array-like"]}, prefer_skip_nested_validation=True)
def recommendation_scorers(metrics=("recall@20", "recall@50", "ndcg@100")):
    """A ``scoring`` dict for :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    metrics : sequence of str, default=("recall@20", "recall@50", "ndcg@100")
        Metric names; the paper reports these three.

    Returns
    -------
    scoring : dict of str to RecommendationScorer

    Examples
    --------
    >>> from sklearn_swdae.metrics import recommendation_scorers
    >>> sorted(recommendation_scorers())
    ['ndcg@100', 'recall@20', 'recall@50']
    """
    return {name: RecommendationScorer(name) for name in metrics}


@validate_params(
    {
        "estimator": "no_validation",
        "X_fold_in": ["array-like", "sparse matrix"],
        "X_held_out": ["array-like", "sparse matrix"],
        "max_history": [Interval(Integral, 0, None, closed="left")],
        "min_history": [Interval(Integral, 0, None, closed="left")],
        "metrics": ["array-like"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def evaluate_cold_start(
    estimator,
    X_fold_in,
    X_held_out,
    *,
    max_history=5,
    min_history=0,
    metrics=("recall@20", "recall@50", "ndcg@100"),
    batch_size=1000,
):
    """Ranking metrics restricted to cold-start users: those with a short fold-in.

    Section 5.8 of the paper (Table 7): the test users' histories are split
    80/20 into fold-in and held-out as usual; the *activity* of a user is
    the number of items in their fold-in, and only the users whose activity
    is at most ``max_history`` are scored.  Everything else is the protocol
    of :func:`evaluate_rankings` (fold-in items are not ranked), applied to
    those users only, so any recommender of the package can be compared.

    Parameters
    ----------
    estimator : fitted recommender or callable
        Anything with a ``decision_function`` (every recommender of the
        package), or a ``score_fn`` as taken by :func:`evaluate_rankings`.
    X_fold_in, X_held_out : {array-like, sparse matrix} of shape (n_users, n_items)
        Fold-in histories and held-out items of the same users, e.g.
        ``split.test_fold_in`` and ``split.test_held_out``.
    max_history : int, default=5
        Largest fold-in size of a cold-start user (inclusive).
    min_history : int, default=0
        Smallest fold-in size kept (inclusive), to evaluate a band of
        activity such as 6 to 10 items.
    metrics : sequence of str, default=("recall@20", "recall@50", "ndcg@100")
        Metric names of the form ``"recall@K"`` or ``"ndcg@K"``.
    batch_size : int, default=1000
        Users scored at once.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        - ``users``: int64 array, the rows of ``X_fold_in`` that were
          scored: fold-in size in ``[min_history, max_history]`` and at
          least one held-out item.
        - ``n_users``: their number.
        - ``history_length``: their fold-in sizes.
        - ``per_user``: dict of metric name to the per-user values,
          aligned with ``users``.
        - ``mean``, ``sem``: dicts of metric name to the mean over those
          users and its standard error ``std(ddof=1) / sqrt(n_users)``
          (NaN with a single user).

    Raises
    ------
    ValueError
        When no user has a fold-in in the range and a held-out item.

    Examples
    --------
    >>> from sklearn_swdae import PopularityRecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> from sklearn_swdae.metrics import evaluate_cold_start
    >>> from sklearn_swdae.model_selection import strong_generalization_split
    >>> X, _ = make_interactions(400, 50, 5, density=0.2, random_state=0)
    >>> split = strong_generalization_split(X, n_validation=0, n_test=100, random_state=0)
    >>> model = PopularityRecommender().fit(split.train)
    >>> cold = evaluate_cold_start(model, split.test_fold_in, split.test_held_out, max_history=6)
    >>> bool(cold.history_length.max() <= 6), cold.n_users == cold.users.size
    (True, True)
    >>> sorted(cold.mean)
    ['ndcg@100', 'recall@20', 'recall@50']
    """
    for name in metrics:
        _parse_metric(name)
    if min_history > max_history:
        raise ValueError(f"min_history={min_history} must not exceed max_history={max_history}.")
    score_fn = getattr(estimator, "decision_function", estimator)
    if not callable(score_fn):
        raise ValueError(
            "estimator must be a fitted recommender (with decision_function) or a callable "
            f"score_fn, got {type(estimator).__name__}."
        )
    X_fold_in = sp.csr_array(X_fold_in)
    X_held_out = sp.csr_array(X_held_out)
    if X_fold_in.shape != X_held_out.shape:
        raise ValueError(
            f"X_fold_in and X_held_out must have the same shape, got {X_fold_in.shape} and {X_held_out.shape}."
        )
    history = _n_relevant(X_fold_in)
    keep = (history >= min_history) & (history <= max_history) & (_n_relevant(X_held_out) > 0)
    users = np.flatnonzero(keep).astype(np.int64)
    if users.size == 0:
        raise ValueError(
            f"No user has between min_history={min_history} and max_history={max_history} "
            "fold-in items and at least one held-out item; raise max_history."
        )
    # Only the cold-start users are scored: their rows are a small share of
    # the test users, and scores of the others would be thrown away.
    values = evaluate_rankings(score_fn, X_fold_in[users], X_held_out[users], list(metrics), batch_size=batch_size)
    n = users.size
    with np.errstate(invalid="ignore", divide="ignore"):
        sem = {name: float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan") for name, v in values.items()}
    return Bunch(
        users=users,
        n_users=int(n),
        history_length=history[users],
        per_user=values,
        mean={name: float(v.mean()) for name, v in values.items()},
        sem=sem,
    )
