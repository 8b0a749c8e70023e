"""Non-neural reference recommenders, in the package's prediction convention."""

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from ._validation import check_interactions
from .base import BaseRecommender

__all__ = ["PopularityRecommender"]


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
