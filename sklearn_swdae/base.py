"""The prediction convention shared by every recommender of the package.

Every recommender is fit on a users x items implicit-feedback matrix and is
then queried with the histories of (possibly new) users, one row each:

- ``decision_function(X)``: (n_users, n_items) scores, higher is better;
- ``recommend(X, top_n=None, *, exclude_seen=True, filter_items=None,
  items=None, return_scores=False, return_ids=False)``: the ``top_n`` best
  item indices per user, best first, items already in X excluded by
  default; ``filter_items`` are never recommended and ``items`` restricts
  the ranking to a candidate list.  X may also be one user's 1-D history;
- ``predict(X)``: ``recommend(X)``, lists of ``top_n`` (the estimator's
  parameter) items;
- ``similar_items(items, top_n=None)``: the items most like each given item
  (on the models that define an item similarity);
- ``score(X, y=None)``: mean NDCG@100 under the paper's protocol (see
  :func:`sklearn_swdae.metrics.score_recommender`).

The functions :func:`recommend` and :func:`similar_items` call the same
methods through a fitted :class:`~sklearn.pipeline.Pipeline` (for example
``make_pipeline(ItemGrouper(), SparseWideDAERecommender())``) or a fitted
search such as :class:`~sklearn.model_selection.GridSearchCV`.

**Padding.**  When a user has fewer items left than the list length (after
``exclude_seen``, ``filter_items`` and ``items``), the list ends with the
index ``n_items`` (one past the last item, so using it to index an item
array raises ``IndexError`` instead of silently naming the last item),
score ``-inf``, and id ``None`` with ``return_ids=True``.  Valid entries
are exactly ``items < n_items``.

Scores are produced in user batches of at most 1000 users and 24 MiB of
scores on the CPU, 128 MiB on an accelerator (fewer users when the catalog
is large), so ``recommend``,
``predict``, ``similar_items`` and ``score`` hold one batch of dense scores
at a time whatever the number of users; only ``decision_function`` returns
the full matrix.
"""

import contextlib
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted

from ._docstrings import fill_doc
from ._persistence import VersionedStateMixin

# Re-exported under its former name for autoencoders.py, which imports it from
# here until the autoencoder family moves to its subpackage.
from ._validation import check_interactions
from .metrics import score_recommender, top_k_items

__all__ = ["BaseRecommender", "recommend", "similar_items"]

#: How many offending values an error message lists.
_SHOWN = 5


def _listing(values):
    values = list(values)
    text = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:_SHOWN])
    return text + (f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else "")


def _check_item_indices(indices, name, n_items, *, unique):
    """``indices`` as a 1-D int64 array of columns in [0, n_items)."""
    array = np.asarray(indices)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D list of item indices, got an array of shape {array.shape}.")
    if array.size == 0:
        return np.empty(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(
            f"{name} must hold integer item indices (columns of X, 0 to {n_items - 1}), got dtype "
            f"{array.dtype}: map item ids to their columns first."
        )
    bad = array[(array < 0) | (array >= n_items)]
    if bad.size:
        raise ValueError(f"{name} must be item indices in [0, {n_items - 1}]; got {_listing(np.unique(bad))}.")
    if unique and np.unique(array).size != array.size:
        values, counts = np.unique(array, return_counts=True)
        raise ValueError(f"{name} lists items more than once: {_listing(values[counts > 1])}.")
    return array.astype(np.int64)


def _check_top_n(top_n, default, n_rankable, what):
    """The list length: ``default`` (capped to what can be ranked) or a valid ``top_n``."""
    if top_n is None:
        return int(min(default, n_rankable))
    if isinstance(top_n, bool) or not isinstance(top_n, Integral) or not 1 <= top_n <= n_rankable:
        raise ValueError(f"top_n must be an integer in [1, {what}={n_rankable}] or None, got {top_n!r}.")
    return int(top_n)


def _ids_of(indices, ids):
    """Map item indices to ids, None where the list is padded (index n_items)."""
    out = np.full(indices.shape, None, dtype=object)
    valid = indices < len(ids)
    out[valid] = np.asarray(ids, dtype=object)[indices[valid]]
    return out


@fill_doc
class BaseRecommender(VersionedStateMixin, BaseEstimator):
    """Mixin-style base class implementing the prediction convention.

    Subclasses implement ``_fit_interactions(X)``, which :meth:`fit` calls
    with the validated CSR histories (or override ``fit``, which must then
    call :func:`~sklearn_swdae._validation.check_interactions` with
    ``reset=True``), and ``_score_batch(X_batch)``, returning dense float
    scores for a CSR batch of binary histories.  Those that define an item
    similarity implement ``_item_similarities(items)``, returning the dense
    (len(items), n_items) similarities of the given items to every item
    (higher is more similar), which makes :meth:`similar_items` available.
    """

    #: Most users scored at once by decision_function / recommend / score.
    _prediction_batch_size = 1000
    #: Bytes of dense scores one prediction batch may hold; with many items
    #: the batch shrinks so that memory stays bounded whatever the catalog.
    #: Under 32 MiB, the largest block glibc's malloc recycles instead of
    #: mapping fresh pages at every call, so that a batch does not pay the
    #: page faults of fresh memory again (benchmarks/RESULTS.md, issue 19,
    #: "Sixth session").
    _prediction_batch_bytes = 3 << 23
    #: The same bound for models that score on an accelerator (``device_``),
    #: where larger batches mean fewer kernel launches.
    _device_prediction_batch_bytes = 1 << 27
    #: check_interactions records the column labels of a fitted DataFrame.
    _records_item_ids = True

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to the training users' histories.

        {fit_parameters}
        """
        return self._fit_interactions(check_interactions(self, X, reset=True))

    def _fit_interactions(self, X):  # pragma: no cover - abstract
        """Fit the model to the validated CSR histories ``X``; returns self."""
        raise NotImplementedError

    def _score_batch(self, X_batch):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_query(self, X):
        check_is_fitted(self)
        return check_interactions(self, X, reset=False)

    def _batch_rows(self, n_items):
        """Users per prediction batch: at most 1000 and 24 MiB of float32 scores (128 MiB on an accelerator)."""
        device = getattr(self, "device_", None)
        on_host = device is None or getattr(device, "type", "cpu") == "cpu"
        limit = self._prediction_batch_bytes if on_host else self._device_prediction_batch_bytes
        return int(max(1, min(self._prediction_batch_size, limit // (4 * n_items))))

    def _iter_batches(self, X):
        step = self._batch_rows(X.shape[1])
        with self._prediction_context():
            for start in range(0, X.shape[0], step):
                yield start, X[start : start + step]

    def _prediction_context(self):
        """A context for the batches of one prediction call, in which the model does not change.

        Models whose scoring derives arrays from their parameters (the
        autoencoders' sparse layers) reuse them across the batches.
        """
        return contextlib.nullcontext()

    def _iter_score_batches(self, X):
        for start, batch in self._iter_batches(X):
            yield start, batch, np.asarray(self._score_batch(batch), dtype=np.float32)

    def _top_n_batch(self, X_batch, top_n, exclude_seen, candidates=None, excluded=None):
        """Best ``top_n`` items and their scores for one CSR batch.

        ``excluded`` items (and with ``exclude_seen`` each user's own) score
        ``-inf``; ``candidates``, when given, are the only items ranked.
        Subclasses that score on an accelerator override this to select on
        the device and copy only the lists back.
        """
        # A copy: _score_batch may return an array the model keeps.
        scores = np.array(self._score_batch(X_batch), dtype=np.float32)
        return self._select_top_n(scores, X_batch, top_n, exclude_seen, candidates, excluded)

    @staticmethod
    def _select_top_n(scores, X_batch, top_n, exclude_seen, candidates, excluded):
        """The selection of ``_top_n_batch`` from a float32 score array, which it overwrites."""
        if exclude_seen:
            rows, cols = X_batch.nonzero()
            scores[rows, cols] = -np.inf
        if excluded is not None and excluded.size:
            scores[:, excluded] = -np.inf
        if candidates is not None:
            scores = scores[:, candidates]
        top = top_k_items(scores, top_n)
        top_scores = np.take_along_axis(scores, top, axis=1)
        return (top if candidates is None else candidates[top]), top_scores

    def _item_ids(self):
        ids = getattr(self, "item_ids_", None)
        if ids is None:
            raise ValueError(
                f"return_ids=True needs item ids, but this {type(self).__name__} was not fitted on a "
                "pandas DataFrame whose columns are the item ids; map the indices with your own ids "
                "instead (e.g. the item_ids of preprocess_interactions)."
            )
        return ids

    def decision_function(self, X):
        """Scores of every item for every user, from the users' histories.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Each row is one user's history (the fold-in): positive entries
            are consumed items.  Users need not have been seen in fit.

        Returns
        -------
        scores : ndarray of shape (n_users, n_items), dtype float32
            Higher means more recommended.  Seen items are not masked here.
        """
        X = self._check_query(X)
        scores = np.empty(X.shape, dtype=np.float32)
        for start, batch, batch_scores in self._iter_score_batches(X):
            scores[start : start + batch.shape[0]] = batch_scores
        return scores

    def recommend(
        self,
        X,
        top_n=None,
        *,
        exclude_seen=True,
        filter_items=None,
        items=None,
        return_scores=False,
        return_ids=False,
    ):
        """Top-N recommendations for every user of X, best first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items) or (n_items,)
            Users' histories, one row each; a 1-D array (dense, a 1-D
            scipy sparse array, or a pandas Series indexed by the item ids)
            is one user, and the results are 1-D.
        top_n : int, default=None
            Length of the lists, 1 <= top_n <= the number of items ranked
            (``n_items``, or ``len(items)``).  None uses the estimator's
            ``top_n`` parameter, capped to the number of items ranked, as
            :meth:`predict` does.
        exclude_seen : bool, default=True
            Never recommend an item already in the user's row of X.
        filter_items : array-like of int, default=None
            Column indices of items never recommended to anyone in this call
            (for example items out of stock).
        items : array-like of int, default=None
            Column indices of the only items to rank (a candidate list,
            without repeats); None ranks every item.  The scores are still
            computed one bounded batch of users at a time.
        return_scores : bool, default=False
            Also return the scores of the recommended items.
        return_ids : bool, default=False
            Return item ids instead of column indices: the column labels of
            the pandas DataFrame the model was fitted on (``item_ids_``).

        Returns
        -------
        items : ndarray of shape (n_users, top_n) or (top_n,)
            Column indices (int64), best first.  When a user has fewer
            items left than ``top_n``, the list is padded with ``n_items``
            (an index one past the last item, never a valid column).  With
            ``return_ids``, an object array of ids padded with None.
        scores : ndarray of shape (n_users, top_n) or (top_n,), dtype float32
            Only when ``return_scores`` is True; ``-inf`` where padded.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_swdae import PopularityRecommender
        >>> X = np.array([[1, 1, 0, 0], [0, 1, 0, 1], [0, 1, 1, 1]])
        >>> model = PopularityRecommender().fit(X)
        >>> model.recommend([1, 0, 0, 0])  # one user, 1-D; top_n capped to the 4 items
        array([1, 3, 2, 4])

        Item 0 was seen, so 3 items are left: the last entry, 4 (n_items),
        is padding.
        >>> model.recommend([[1, 0, 0, 0]], filter_items=[3], top_n=2)
        array([[1, 2]])
        >>> model.recommend([1, 0, 0, 0], items=[0, 2, 3], top_n=2)
        array([3, 2])
        """
        check_is_fitted(self)
        n_items = self.n_features_in_
        X, single = _as_batch(X)
        if return_ids:
            ids = self._item_ids()
        candidates = None if items is None else _check_item_indices(items, "items", n_items, unique=True)
        if candidates is not None and candidates.size == 0:
            raise ValueError("items must list at least one item to rank, got an empty list.")
        excluded = None
        if filter_items is not None:
            excluded = _check_item_indices(filter_items, "filter_items", n_items, unique=False)
        n_rankable, what = (n_items, "n_items") if candidates is None else (candidates.size, "len(items)")
        top_n = _check_top_n(top_n, getattr(self, "top_n", 100), n_rankable, what)
        X = self._check_query(X)
        found = np.empty((X.shape[0], top_n), dtype=np.int64)
        found_scores = np.empty((X.shape[0], top_n), dtype=np.float32)
        for start, batch in self._iter_batches(X):
            top, top_scores = self._top_n_batch(batch, top_n, exclude_seen, candidates, excluded)
            top[np.isneginf(top_scores)] = n_items
            stop = start + batch.shape[0]
            found[start:stop], found_scores[start:stop] = top, top_scores
        if return_ids:
            found = _ids_of(found, ids)
        if single:
            found, found_scores = found[0], found_scores[0]
        return (found, found_scores) if return_scores else found

    def predict(self, X):
        """The ``top_n`` best unseen items of every user, best first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Users' histories.

        Returns
        -------
        items : ndarray of shape (n_users, min(top_n, n_items)), dtype int64
            Item indices; ``n_items`` pads users with fewer unseen items
            than the list length (see :meth:`recommend`).
        """
        check_is_fitted(self)
        if _as_batch(X)[1]:
            # predict keeps scikit-learn's convention (2-D in, 2-D out): this
            # raises its error; recommend takes one user's 1-D row.
            check_interactions(self, X, reset=False)
        return self.recommend(X)

    def _has_item_similarity(self):
        return callable(getattr(self, "_item_similarities", None))

    @available_if(_has_item_similarity)
    def similar_items(self, items, top_n=None, *, return_scores=False, return_ids=False):
        """The items most similar to each given item, most similar first.

        What "similar" means depends on the model (see its
        ``_item_similarities`` and the user guide): the cosine of the items'
        decoder weights for the autoencoders and of the item factors for
        WMF, the item-item weights for EASE and SLIM.  An item is never
        listed as similar to itself.

        Parameters
        ----------
        items : int or array-like of int
            Column index of one item, or a 1-D list of them.
        top_n : int, default=None
            Length of the lists, 1 <= top_n <= n_items - 1.  None uses the
            estimator's ``top_n`` parameter capped to ``n_items - 1``.
        return_scores : bool, default=False
            Also return the similarities.
        return_ids : bool, default=False
            Return item ids (``item_ids_``) instead of column indices.

        Returns
        -------
        similar : ndarray of shape (len(items), top_n) or (top_n,)
            Column indices (int64) best first, 1-D for a single item; with
            ``return_ids``, an object array of ids.
        scores : ndarray of the same shape, dtype float32
            Only when ``return_scores`` is True.

        Examples
        --------
        >>> from sklearn_swdae import EASERecommender
        >>> model = EASERecommender(alpha=1.0).fit([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 1, 1]])
        >>> model.similar_items(0, top_n=1), model.similar_items([0, 3], top_n=1)
        (array([1]), array([[1],
               [2]]))
        """
        check_is_fitted(self)
        n_items = self.n_features_in_
        single = np.ndim(items) == 0
        queries = _check_item_indices(items, "items", n_items, unique=False)
        if n_items < 2:
            raise ValueError("similar_items needs a model fitted on at least 2 items.")
        top_n = _check_top_n(top_n, getattr(self, "top_n", 100), n_items - 1, "n_items - 1")
        found = np.empty((queries.size, top_n), dtype=np.int64)
        found_scores = np.empty((queries.size, top_n), dtype=np.float32)
        step = self._batch_rows(n_items)
        for start in range(0, queries.size, step):
            chunk = queries[start : start + step]
            scores = np.array(self._item_similarities(chunk), dtype=np.float32)
            scores[np.isnan(scores)] = -np.inf
            scores[np.arange(chunk.size), chunk] = -np.inf
            top = top_k_items(scores, top_n)
            found[start : start + chunk.size] = top
            found_scores[start : start + chunk.size] = np.take_along_axis(scores, top, axis=1)
        if return_ids:
            found = _ids_of(found, self._item_ids())
        if single:
            found, found_scores = found[0], found_scores[0]
        return (found, found_scores) if return_scores else found

    def score(self, X, y=None):
        """Mean NDCG@100 under the strong-generalization protocol.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            With ``y``: the users' fold-in histories.  Without ``y``: their
            full histories, split here into 80% fold-in and 20% held-out with
            a fixed seed (users with fewer than 5 items are not scored), as
            the paper does for validation and test users.
        y : {array-like, sparse matrix} of shape (n_users, n_items), default=None
            Held-out items of the same users.

        Returns
        -------
        score : float
            Mean NDCG@100 over users with held-out items.  This is what
            ``GridSearchCV`` maximizes by default.
        """
        X = self._check_query(X)
        if y is not None and not (sp.issparse(y) or np.ndim(y) == 2):
            raise ValueError(
                f"y must be None or a held-out interaction matrix of X's shape, got an object of shape {np.shape(y)}."
            )
        return score_recommender(self, X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.target_tags.required = False
        return tags


def _as_batch(X):
    """(X as a batch, whether X was one 1-D user row)."""
    if sp.issparse(X):
        if X.ndim == 1:
            return sp.csr_array(X.reshape(1, -1)), True
        return X, False
    if hasattr(X, "columns"):  # a DataFrame: scikit-learn checks its column names
        return X, False
    if hasattr(X, "to_frame") and np.ndim(X) == 1:  # a Series indexed by item ids
        return X.to_frame().T, True
    if np.ndim(X) == 1:
        return np.asarray(X).reshape(1, -1), True
    return X, False


def _unwrap(estimator, X=None):
    """(final recommender, X transformed by the steps before it, item ids or None).

    A fitted search (``best_estimator_``) is replaced by its best estimator
    and a Pipeline by its last step, X going through the other steps'
    ``transform`` (a 1-D row as a batch of one).
    """
    from sklearn.pipeline import Pipeline

    while hasattr(estimator, "best_estimator_"):
        estimator = estimator.best_estimator_
    ids = None
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        ids = getattr(estimator, "feature_names_in_", None)
        if X is not None:
            X, _ = _as_batch(X)
            for _, step in estimator.steps[:-1]:
                if step is not None and step != "passthrough":
                    X = step.transform(X)
        estimator = estimator._final_estimator
    if not hasattr(estimator, "recommend"):
        raise TypeError(
            f"{type(estimator).__name__} is not a recommender of sklearn_swdae, nor a Pipeline or "
            "search whose final estimator is one."
        )
    return estimator, X, getattr(estimator, "item_ids_", ids)


def recommend(estimator, X, top_n=None, **kwargs):
    """Top-N recommendations from a recommender, a Pipeline or a fitted search.

    ``recommend(model, X, ...)`` is ``model.recommend(X, ...)``.  For a
    fitted :class:`~sklearn.pipeline.Pipeline` (for example
    ``make_pipeline(ItemGrouper(), SparseWideDAERecommender())``), X goes
    through the ``transform`` of every step but the last, whose
    ``recommend`` ranks the items; a fitted
    :class:`~sklearn.model_selection.GridSearchCV` (or any object with a
    ``best_estimator_``) recommends with its best estimator.

    Parameters
    ----------
    estimator : fitted recommender, Pipeline or search
        Its final estimator must have a ``recommend`` method.
    X : {array-like, sparse matrix} of shape (n_users, n_items) or (n_items,)
        Users' histories; a 1-D array is one user.
    top_n : int, default=None
        See :meth:`BaseRecommender.recommend`.
    **kwargs : dict
        ``exclude_seen``, ``filter_items``, ``items``, ``return_scores``,
        ``return_ids``: see :meth:`BaseRecommender.recommend`.  Through a
        Pipeline, ids are the recommender's ``item_ids_`` or else the
        Pipeline's ``feature_names_in_`` (string column labels).

    Returns
    -------
    items : ndarray
        As :meth:`BaseRecommender.recommend`, with scores when
        ``return_scores`` is True.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_swdae import ItemGrouper, SparseWideDAERecommender, recommend
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(200, 30, 3, density=0.2, random_state=0)
    >>> pipe = make_pipeline(
    ...     ItemGrouper(n_clusters=6, overlap=2, n_components=3, random_state=0),
    ...     SparseWideDAERecommender(max_iter=2, device="cpu", random_state=0),
    ... ).fit(X)
    >>> recommend(pipe, X[:2], top_n=5).shape
    (2, 5)
    """
    return_ids = kwargs.pop("return_ids", False)
    single = _as_batch(X)[1]
    model, Xt, ids = _unwrap(estimator, X)
    if return_ids and ids is None:
        model._item_ids()  # raises the explanation
    result = model.recommend(Xt, top_n, **kwargs)
    found, scores = result if kwargs.get("return_scores") else (result, None)
    if single and found.ndim == 2:  # a Pipeline's steps saw the row as a batch of one
        found, scores = found[0], None if scores is None else scores[0]
    if return_ids:
        found = _ids_of(found, ids)
    return found if scores is None else (found, scores)


def similar_items(estimator, items, top_n=None, **kwargs):
    """:meth:`BaseRecommender.similar_items` of a recommender, Pipeline or search.

    Parameters
    ----------
    estimator : fitted recommender, Pipeline or search
        Unwrapped as by :func:`recommend`.
    items : int or array-like of int
        Column index of one item, or a 1-D list of them.
    top_n : int, default=None
        See :meth:`BaseRecommender.similar_items`.
    **kwargs : dict
        ``return_scores``, ``return_ids``.

    Returns
    -------
    similar : ndarray
        As :meth:`BaseRecommender.similar_items`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae import EASERecommender, similar_items
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 1, 1]])
    >>> similar_items(EASERecommender(alpha=1.0).fit(X), 3, top_n=1)
    array([2])
    """
    return_ids = kwargs.pop("return_ids", False)
    model, _, ids = _unwrap(estimator)
    if not hasattr(model, "similar_items"):
        raise TypeError(f"{type(model).__name__} defines no item similarity (it has no similar_items).")
    if return_ids and ids is None:
        model._item_ids()  # raises the explanation
    result = model.similar_items(items, top_n, **kwargs)
    if not return_ids:
        return result
    if kwargs.get("return_scores"):
        return _ids_of(result[0], ids), result[1]
    return _ids_of(result, ids)
