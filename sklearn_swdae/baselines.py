"""Non-neural reference recommenders, in the package's prediction convention.

Every fitted model reports ``n_parameters_`` and ``n_flops_`` (floating-point
operations to score one user from a dense history, two per multiply-add: the
convention of :func:`sklearn_swdae.layers.count_flops` and of the paper's
Table 2).
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from scipy.linalg import lapack
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from threadpoolctl import threadpool_limits

from ._deprecation import RenamedParametersMixin, deprecate_positional_args, renamed_parameter
from ._docstrings import fill_doc
from ._memory import check_ease_memory
from ._similarities import cosine_similarities
from .base import BaseRecommender

__all__ = ["EASERecommender", "PopularityRecommender", "SLIMRecommender", "WMFRecommender"]


@fill_doc
class PopularityRecommender(BaseRecommender):
    """Recommend the items most users consumed, the same list for everyone.

    The floor every personalized recommender must clear.  It has no
    ``similar_items``: it keeps one number per item, nothing about
    pairs of items (item co-occurrence is an item-item model of its own,
    which :class:`EASERecommender` learns properly).

    {keyword_only_note}

    Parameters
    ----------
    {top_n_parameter}

    Attributes
    ----------
    item_popularity_ : ndarray of shape (n_items,)
        Fraction of training users who consumed each item.
    n_parameters_ : int
        ``n_items`` (the popularity of each item).
    n_flops_ : int
        0: the scores do not depend on the user.
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

    @deprecate_positional_args
    def __init__(self, *, top_n=100):
        self.top_n = top_n

    def _fit_interactions(self, X):
        self.item_popularity_ = np.asarray(X.sum(axis=0)).ravel() / X.shape[0]
        self.n_parameters_, self.n_flops_ = X.shape[1], 0
        return self

    def _score_batch(self, X_batch):
        return np.broadcast_to(self.item_popularity_, X_batch.shape).astype(np.float32)


def _spd_inverse(matrix):
    """Inverse of a symmetric positive definite float64 matrix, in its memory.

    Cholesky (LAPACK potrf/potri) rather than ``np.linalg.inv``'s LU: half
    the flops, no second n x n array, and ``np.linalg.inv`` crashed
    (segmentation fault inside OpenBLAS) on the 24,103-item Gram matrix of
    CiteULike-t on a 2-core machine.  ``matrix`` is overwritten.
    """
    # A C-ordered symmetric matrix is its own Fortran-ordered transpose, so
    # LAPACK works on it in place; it fills one triangle, copied to the other.
    factor, info = lapack.dpotrf(matrix.T, lower=True, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(
            f"the regularized Gram matrix is not positive definite (potrf info {info}): increase alpha."
        )
    inverse, info = lapack.dpotri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"the regularized Gram matrix is singular (potri info {info}): increase alpha.")
    inverse = inverse.T  # C order again; its upper triangle holds the inverse
    n = inverse.shape[0]
    step = max(1, (1 << 24) // max(n, 1))
    for start in range(0, n, step):
        stop = min(start + step, n)
        # Rows start:stop of the lower triangle from columns start:stop above.
        inverse[start:stop, :start] = inverse[:start, start:stop].T
        block = inverse[start:stop, start:stop]
        block[np.tril_indices(stop - start, -1)] = block.T[np.tril_indices(stop - start, -1)]
    return inverse


@fill_doc
class EASERecommender(RenamedParametersMixin, BaseRecommender):
    """EASE: the closed-form linear item-item autoencoder of Steck (2019).

    Solves ``min_B ||X - X B||_F^2 + alpha ||B||_F^2`` subject to
    ``diag(B) = 0`` in closed form: with ``P = (X^T X + alpha I)^-1``,
    ``B = I - P diag(1 / diag(P))``, that is ``B_ij = -P_ij / P_jj`` off the
    diagonal.  A user's scores are ``x B``.

    The item-item matrices are dense: fit holds about three
    ``n_items x n_items`` float64 arrays (24 bytes per item pair, e.g.
    2.4 GB for 10,000 items) and inverts one in O(n_items^3) time; the
    fitted ``coef_`` is kept in float32.

    {keyword_only_note}

    Parameters
    ----------
    alpha : float, default=500.0
        L2 regularization strength (Steck's lambda; 500 on ML-20M).
    {l2_parameter}
    {top_n_parameter}

    Attributes
    ----------
    coef_ : ndarray of shape (n_items, n_items), dtype float32
        The item-item weights B, with a zero diagonal.
    n_parameters_ : int
        ``n_items * (n_items - 1)``, the off-diagonal weights.
    n_flops_ : int
        ``2 * n_parameters_``.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae import EASERecommender
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 1, 1]])
    >>> model = EASERecommender(alpha=1.0).fit(X)
    >>> model.predict([[1, 0, 0, 0]])[0, 0]
    np.int64(1)
    >>> bool(np.all(np.diag(model.coef_) == 0))
    True
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "l2": [Interval(Real, 0, None, closed="neither"), Hidden(StrOptions({"deprecated"}))],
        "top_n": [Interval(Integral, 1, None, closed="left")],
    }

    _renamed_parameters = {"l2": "alpha"}

    # Former positional order: (l2, top_n).
    @deprecate_positional_args(names=("alpha", "top_n"))
    def __init__(self, *, alpha=500.0, l2="deprecated", top_n=100):
        self.alpha = alpha
        self.l2 = l2
        self.top_n = top_n

    def _fit_interactions(self, X):
        alpha = renamed_parameter(self, "alpha", "l2")
        check_ease_memory(X.shape[1])
        gram = (X.T @ X).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += alpha
        # In place: the Gram matrix becomes its inverse, then the weights.
        coef = _spd_inverse(gram)
        coef /= -np.diag(coef).copy()
        coef[np.diag_indices_from(coef)] = 0.0
        self.coef_ = coef.astype(np.float32)
        self.n_parameters_ = X.shape[1] * (X.shape[1] - 1)
        self.n_flops_ = 2 * self.n_parameters_
        return self

    def _score_batch(self, X_batch):
        return np.asarray(X_batch @ self.coef_, dtype=np.float32)

    def _item_similarities(self, items):
        # Row i of B: the score each item gets from a history of item i alone.
        return self.coef_[items]


# SLIM's problem (W >= 0, no intercept), solved on a copy of X that is the
# worker's own, so ElasticNet need not copy it again.
_ELASTIC_NET_SETTINGS = {"positive": True, "fit_intercept": False, "copy_X": False, "precompute": False}


def _slim_columns(X, items, alpha, l1_ratio, max_iter, tol):
    """SLIM's regressions for the target ``items``: (rows, cols, values) of W.

    X is CSC.  Each item's column is zeroed in a private copy while it is the
    target, which imposes ``W_jj = 0`` without copying X once per item.
    """
    X = X.copy()
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, max_iter=max_iter, tol=tol, **_ELASTIC_NET_SETTINGS)
    y = np.zeros(X.shape[0])
    rows, cols, values = [], [], []
    for j in items:
        start, stop = X.indptr[j], X.indptr[j + 1]
        saved = X.data[start:stop].copy()
        y[:] = 0.0
        y[X.indices[start:stop]] = saved
        X.data[start:stop] = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y, check_input=False)  # X and y are already CSC / float64
        X.data[start:stop] = saved
        nonzero = np.flatnonzero(model.coef_)
        rows.append(nonzero)
        cols.append(np.full(nonzero.size, j))
        values.append(model.coef_[nonzero])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(values)


@fill_doc
class SLIMRecommender(RenamedParametersMixin, BaseRecommender):
    """SLIM: sparse linear item-item model (Ning and Karypis 2011).

    Learns a sparse, non-negative item-item matrix W with a zero diagonal,
    one elastic-net regression per item::

        min_w  1/2 ||x_j - X w||^2 + alpha/2 ||w||^2 + l1 ||w||_1,
        w >= 0, w_j = 0

    (scikit-learn's :class:`~sklearn.linear_model.ElasticNet` with
    ``positive=True``, ElasticNet's ``alpha = (l1 + alpha) / n_users`` and
    ``l1_ratio = l1 / (l1 + alpha)``, the same problem divided by
    ``n_users``).  A user's scores are ``x W``.  The regressions run in
    ``n_jobs`` worker processes (joblib's default backend; scikit-learn's
    sparse coordinate descent holds the GIL, so threads would not help),
    each on one copy of X.

    {keyword_only_note}

    Parameters
    ----------
    l1 : float, default=1.0
        L1 penalty (SLIM's lambda); the paper searches {0.1, 0.5, 1, 5}.
    alpha : float, default=1.0
        L2 penalty (SLIM's beta).
    {l2_parameter}
    max_iter : int, default=100
        Coordinate-descent iterations per regression.
    tol : float, default=1e-4
        Tolerance of each regression (scikit-learn's duality-gap test).
    n_jobs : int or None, default=None
        Processes for the regressions, as in scikit-learn: None means 1 (no
        worker process) unless in a :func:`joblib.parallel_backend` context,
        -1 means all cores.
    {top_n_parameter}

    Attributes
    ----------
    coef_ : scipy.sparse.csr_array of shape (n_items, n_items), dtype float32
        W: ``coef_[i, j]`` is the weight of item i in the score of item j.
        Non-negative, zero diagonal.
    n_features_in_ : int
        Number of items.
    n_parameters_ : int
        Non-zero weights ``coef_.nnz``.
    n_flops_ : int
        ``2 * coef_.nnz``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae import SLIMRecommender
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 1, 1]])
    >>> model = SLIMRecommender(l1=0.1, alpha=0.1).fit(X)
    >>> model.predict([[1, 0, 0, 0]])[0, 0]
    np.int64(1)
    >>> bool(model.coef_.diagonal().max() == 0 and model.coef_.min() >= 0)
    True
    """

    _parameter_constraints: dict = {
        "l1": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left"), Hidden(StrOptions({"deprecated"}))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "top_n": [Interval(Integral, 1, None, closed="left")],
    }

    _renamed_parameters = {"l2": "alpha"}

    # Former positional order: (l1, l2).
    @deprecate_positional_args(names=("l1", "alpha"))
    def __init__(self, *, l1=1.0, alpha=1.0, l2="deprecated", max_iter=100, tol=1e-4, n_jobs=None, top_n=100):
        self.l1 = l1
        self.alpha = alpha
        self.l2 = l2
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs
        self.top_n = top_n

    def _fit_interactions(self, X):
        alpha = renamed_parameter(self, "alpha", "l2")
        n_users, n_items = X.shape
        X_csc = sp.csc_array(X, dtype=np.float64)
        # ElasticNet accepts only 32-bit sparse indices.
        X_csc.indices, X_csc.indptr = X_csc.indices.astype(np.int32), X_csc.indptr.astype(np.int32)
        # ElasticNet's parametrization: total strength and L1 share.
        net_alpha = (self.l1 + alpha) / n_users
        l1_ratio = self.l1 / (self.l1 + alpha)
        n_chunks = min(n_items, effective_n_jobs(self.n_jobs))
        # Processes: scikit-learn's sparse coordinate descent holds the GIL.
        with threadpool_limits(1):
            parts = Parallel(n_jobs=n_chunks)(
                delayed(_slim_columns)(X_csc, items, net_alpha, l1_ratio, self.max_iter, self.tol)
                for items in np.array_split(np.arange(n_items), n_chunks)
            )
        rows, cols, values = (np.concatenate(arrays) for arrays in zip(*parts))
        self.coef_ = sp.csr_array((values.astype(np.float32), (rows, cols)), shape=(n_items, n_items))
        self.n_parameters_ = int(self.coef_.nnz)
        self.n_flops_ = 2 * self.n_parameters_
        return self

    def _score_batch(self, X_batch):
        return np.asarray((X_batch @ self.coef_).toarray(), dtype=np.float32)

    def _item_similarities(self, items):
        # Row i of W: the score each item gets from a history of item i alone.
        return self.coef_[items].toarray()


@fill_doc
class WMFRecommender(RenamedParametersMixin, BaseRecommender):
    """Weighted matrix factorization (Hu, Koren and Volinsky 2008) via ``implicit``.

    Fits user and item factors by alternating least squares with the
    ``implicit`` package (an optional dependency:
    ``pip install sklearn-swdae[wmf]``): a consumed item has confidence
    ``weight``, any other item confidence 1 and preference 0.

    Under strong generalization the users scored are new, so their factors
    are folded in: each user's factor is the exact weighted least-squares
    solution given the trained item factors (``implicit``'s
    ``recalculate_user``, one batch of users at a time), and the scores are
    its dot products with the item factors.  The training users' own
    factors are not kept.

    {keyword_only_note}

    Parameters
    ----------
    n_factors : int, default=100
        Latent dimension (the paper searches {100, 200}).
    weight : float, default=10.0
        Confidence of a consumption event (``implicit``'s ``alpha``; the
        paper searches {2, 5, 10, 30, 50, 100}).
    alpha : float, default=0.01
        L2 regularization of the factors (``implicit``'s ``regularization``).
    {l2_parameter}
    max_iter : int, default=15
        ALS iterations.
    n_jobs : int or None, default=None
        Threads of ``implicit``, as in scikit-learn: None means 1 unless in
        a :func:`joblib.parallel_backend` context, -1 means every core.

        .. versionchanged:: 0.1
           None meant every core; it now means one thread, like ``n_jobs``
           everywhere else.  Pass ``n_jobs=-1`` for the former default.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial factors.
    {top_n_parameter}

    Attributes
    ----------
    item_factors_ : ndarray of shape (n_items, n_factors), dtype float32
        The trained item factors.
    model_ : implicit.cpu.als.AlternatingLeastSquares
        The fitted ``implicit`` model (it folds new users in).
    n_parameters_ : int
        ``n_items * n_factors``: the item factors, all a new user needs.
    n_flops_ : int
        ``2 * n_items * n_factors`` to score one user from its factor; the
        fold-in solve (about ``n_factors^3 / 3 + nnz * n_factors^2``
        multiply-adds per user) is not counted.
    n_features_in_ : int
        Number of items.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae import WMFRecommender
    >>> X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 1, 1]] * 5)
    >>> model = WMFRecommender(n_factors=2, random_state=0).fit(X)
    >>> model.predict([[1, 0, 0, 0]])[0, 0]
    np.int64(1)
    """

    _parameter_constraints: dict = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "weight": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left"), Hidden(StrOptions({"deprecated"}))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "top_n": [Interval(Integral, 1, None, closed="left")],
    }

    _renamed_parameters = {"l2": "alpha"}

    # Former positional order: (n_factors, weight, l2).
    @deprecate_positional_args(names=("n_factors", "weight", "alpha"))
    def __init__(
        self,
        *,
        n_factors=100,
        weight=10.0,
        alpha=0.01,
        l2="deprecated",
        max_iter=15,
        n_jobs=None,
        random_state=None,
        top_n=100,
    ):
        self.n_factors = n_factors
        self.weight = weight
        self.alpha = alpha
        self.l2 = l2
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.top_n = top_n

    def _fit_interactions(self, X):
        try:
            from implicit.cpu.als import AlternatingLeastSquares
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "WMFRecommender needs the optional 'implicit' package: "
                "pip install 'sklearn-swdae[wmf]' (or pip install implicit)."
            ) from exc
        regularization = renamed_parameter(self, "alpha", "l2")
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        n_threads = effective_n_jobs(self.n_jobs)
        # implicit warns unless BLAS is single-threaded; its own threads do the work.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.n_factors,
                regularization=regularization,
                alpha=self.weight,
                iterations=self.max_iter,
                num_threads=n_threads,
                random_state=seed,
            )
            model.fit(sp.csr_matrix(X, dtype=np.float32), show_progress=False)
        model.user_factors = None  # training users are never scored again
        self.model_ = model
        self.item_factors_ = model.item_factors
        self.n_parameters_ = int(self.item_factors_.size)
        self.n_flops_ = 2 * self.n_parameters_
        return self

    def _score_batch(self, X_batch):
        model = self.model_
        if not model.item_factors.flags.writeable:
            # Loaded from a read-only memory map: implicit's solver needs
            # writeable buffers.
            model.item_factors = self.item_factors_ = model.item_factors.copy()
            model._YtY = None
        X_batch = sp.csr_matrix(X_batch, dtype=np.float32)
        with threadpool_limits(1, "blas"):
            factors = model.recalculate_user(np.arange(X_batch.shape[0]), X_batch)
        return factors @ self.item_factors_.T

    def _item_similarities(self, items):
        return cosine_similarities(self.item_factors_, items)
