"""Non-neural reference recommenders, in the package's prediction convention."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from ._memory import check_ease_memory
from ._validation import check_interactions
from .base import BaseRecommender

__all__ = ["EASERecommender", "PopularityRecommender"]


class PopularityRecommender(BaseRecommender):
    """Recommend the items most users consumed, the same list for everyone.

    The floor every personalized recommender must clear.

    Parameters
    ----------
    top_n : int, default=100
        Length of the lists returned by :meth:`predict`.

    Attributes
    ----------
    item_popularity_ : ndarray of shape (n_items,)
        Fraction of training users who consumed each item.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae import PopularityRecommender
    >>> X = np.array([[1, 1, 0, 0], [0, 1, 0, 1], [0, 1, 0, 1]])
    >>> PopularityRecommender(top_n=2).fit(X).predict([[0, 1, 0, 0]])
    array([[3, 0]])
    """

    _parameter_constraints: dict = {"top_n": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, top_n=100):
        self.top_n = top_n

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Count how many users consumed each item.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Implicit feedback.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X = check_interactions(self, X, reset=True)
        self.item_popularity_ = np.asarray(X.sum(axis=0)).ravel() / X.shape[0]
        return self

    def _score_batch(self, X_batch):
        return np.broadcast_to(self.item_popularity_, X_batch.shape).astype(np.float32)


class EASERecommender(BaseRecommender):
    """EASE: the closed-form linear item-item autoencoder of Steck (2019).

    Solves ``min_B ||X - X B||_F^2 + l2 ||B||_F^2`` subject to
    ``diag(B) = 0`` in closed form: with ``P = (X^T X + l2 I)^-1``,
    ``B = I - P diag(1 / diag(P))``, that is ``B_ij = -P_ij / P_jj`` off the
    diagonal.  A user's scores are ``x B``.

    The item-item matrices are dense: fit holds about three
    ``n_items x n_items`` float64 arrays (24 bytes per item pair, e.g.
    2.4 GB for 10,000 items) and inverts one in O(n_items^3) time; the
    fitted ``coef_`` is kept in float32.

    Parameters
    ----------
    l2 : float, default=500.0
        L2 regularization strength (Steck's lambda; 500 on ML-20M).
    top_n : int, default=100
        Length of the lists returned by :meth:`predict`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_items, n_items), dtype float32
        The item-item weights B, with a zero diagonal.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae import EASERecommender
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 1, 1]])
    >>> model = EASERecommender(l2=1.0).fit(X)
    >>> model.predict([[1, 0, 0, 0]])[0, 0]
    np.int64(1)
    >>> bool(np.all(np.diag(model.coef_) == 0))
    True
    """

    _parameter_constraints: dict = {
        "l2": [Interval(Real, 0, None, closed="neither")],
        "top_n": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, l2=500.0, top_n=100):
        self.l2 = l2
        self.top_n = top_n

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the item-item weights in closed form.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Implicit feedback.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X = check_interactions(self, X, reset=True)
        check_ease_memory(X.shape[1])
        gram = (X.T @ X).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        precision = np.linalg.inv(gram)
        coef = precision / -np.diag(precision)
        coef[np.diag_indices_from(coef)] = 0.0
        self.coef_ = coef.astype(np.float32)
        return self

    def _score_batch(self, X_batch):
        return np.asarray(X_batch @ self.coef_, dtype=np.float32)
