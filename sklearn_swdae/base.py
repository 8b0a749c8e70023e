"""The prediction convention shared by every recommender of the package.

Every recommender is fit on a users x items implicit-feedback matrix and is
then queried with the histories of (possibly new) users, one row each:

- ``decision_function(X)``: (n_users, n_items) scores, higher is better;
- ``recommend(X, top_n=100, exclude_seen=True, return_scores=False)``: the
  ``top_n`` best item indices per user, best first, items already in X
  excluded by default;
- ``predict(X)``: ``recommend(X, top_n=self.top_n)``;
- ``score(X, y=None)``: mean NDCG@100 under the paper's protocol (see
  :func:`sklearn_swdae.metrics.score_recommender`).

Scores are produced in user batches of at most 1000 users and 128 MiB of
scores (fewer users when the catalog is large), so ``recommend``,
``predict`` and ``score`` hold one batch of dense scores at a time whatever
the number of users; only ``decision_function`` returns the full matrix.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._persistence import VersionedStateMixin
from ._validation import check_interactions
from .metrics import score_recommender, top_k_items

__all__ = ["BaseRecommender"]


class BaseRecommender(VersionedStateMixin, BaseEstimator):
    """Mixin-style base class implementing the prediction convention.

    Subclasses implement ``fit`` (which must call
    :func:`~sklearn_swdae._validation.check_interactions` with
    ``reset=True``) and ``_score_batch(X_batch)``, returning dense float
    scores for a CSR batch of binary histories.
    """

    #: Most users scored at once by decision_function / recommend / score.
    _prediction_batch_size = 1000
    #: Bytes of dense scores one prediction batch may hold; with many items
    #: the batch shrinks so that memory stays bounded whatever the catalog.
    _prediction_batch_bytes = 1 << 27

    def _score_batch(self, X_batch):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_query(self, X):
        check_is_fitted(self)
        return check_interactions(self, X, reset=False)

    def _batch_rows(self, n_items):
        """Users per prediction batch: at most 1000 and 128 MiB of float32 scores."""
        return int(max(1, min(self._prediction_batch_size, self._prediction_batch_bytes // (4 * n_items))))

    def _iter_batches(self, X):
        step = self._batch_rows(X.shape[1])
        for start in range(0, X.shape[0], step):
            yield start, X[start : start + step]

    def _iter_score_batches(self, X):
        for start, batch in self._iter_batches(X):
            yield start, batch, np.asarray(self._score_batch(batch), dtype=np.float32)

    def _top_n_batch(self, X_batch, top_n, exclude_seen):
        """Best ``top_n`` items and their scores for one CSR batch.

        Subclasses that score on an accelerator override this to select on
        the device and copy only the lists back.
        """
        scores = np.asarray(self._score_batch(X_batch), dtype=np.float32)
        if exclude_seen:
            rows, cols = X_batch.nonzero()
            scores[rows, cols] = -np.inf
        top = top_k_items(scores, top_n)
        return top, np.take_along_axis(scores, top, axis=1)

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

    def recommend(self, X, top_n=100, exclude_seen=True, return_scores=False):
        """Top-N recommendations for every user of X, best first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Users' histories.
        top_n : int, default=100
            Number of items per user, 1 <= top_n <= n_items.
        exclude_seen : bool, default=True
            Never recommend an item already in the user's row of X.  When a
            user has fewer than ``top_n`` unseen items, the list is padded
            with -1 (and score -inf).
        return_scores : bool, default=False
            Also return the scores of the recommended items.

        Returns
        -------
        items : ndarray of shape (n_users, top_n), dtype int64
        scores : ndarray of shape (n_users, top_n), dtype float32
            Only when ``return_scores`` is True.
        """
        X = self._check_query(X)
        n_items = X.shape[1]
        if isinstance(top_n, bool) or not isinstance(top_n, Integral) or not 1 <= top_n <= n_items:
            raise ValueError(f"top_n must be an integer in [1, n_items={n_items}], got {top_n!r}.")
        items = np.empty((X.shape[0], top_n), dtype=np.int64)
        item_scores = np.empty((X.shape[0], top_n), dtype=np.float32)
        for start, batch in self._iter_batches(X):
            top, top_scores = self._top_n_batch(batch, top_n, exclude_seen)
            top[np.isneginf(top_scores)] = -1
            stop = start + batch.shape[0]
            items[start:stop], item_scores[start:stop] = top, top_scores
        return (items, item_scores) if return_scores else items

    def predict(self, X):
        """The ``top_n`` best unseen items of every user, best first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Users' histories.

        Returns
        -------
        items : ndarray of shape (n_users, top_n), dtype int64
            Item indices; -1 pads users with fewer unseen items than top_n.
        """
        check_is_fitted(self)
        return self.recommend(X, top_n=min(self.top_n, self.n_features_in_))

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
                "y must be None or a held-out interaction matrix of X's shape, got an "
                f"object of shape {np.shape(y)}."
            )
        return score_recommender(self, X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.target_tags.required = False
        return tags
