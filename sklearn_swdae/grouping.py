"""Overlapping item groups: the structure-learning stage of SW-DAE.

Section 3.1 of Khawar, Poon and Zhang (WWW 2020) learns the connectivity of
the autoencoder in two steps: embed the items spectrally (Algorithm 1, the
normalized co-occurrence Laplacian, or Algorithm 2, a truncated SVD), then
cluster the embedded items with K-means and link every item to its R nearest
centroids.  Each centroid becomes one hidden unit of the network.
"""

import time
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize as _normalize_rows
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import randomized_svd, svd_flip
from sklearn.utils.validation import check_is_fitted, check_random_state

from ._validation import check_interactions

__all__ = ["ItemGrouper", "GroupedInteractions", "resolve_overlap"]

# Above this residual the spectral solver is considered not converged and
# fit warns; ARPACK and PROPACK reach ~1e-10, randomized SVD ~1e-3..1e-5.
_SPECTRUM_RESIDUAL_WARN = 1e-2

# Item rows processed per block when linking items to centroids: bounds the
# (block, K) distance matrix to ~64 MB at K = 15,000.
_LINK_BLOCK = 1024


class GroupedInteractions(sp.csr_array):
    """Binary interactions that carry the connectivity learned from them.

    This is what :meth:`ItemGrouper.transform` returns: a plain
    :class:`scipy.sparse.csr_array` of shape (n_users, n_items) with one
    extra attribute, ``connectivity``, the grouper's (K, n_items) boolean mask.
    It lets ``make_pipeline(ItemGrouper(), SparseWideDAERecommender())`` hand
    the learned structure to the recommender without a side channel.  Any
    scipy operation (slicing, arithmetic) returns arrays without the
    attribute, so the recommender reads it before doing anything else.
    """

    connectivity = None


def resolve_overlap(overlap, n_clusters):
    """Number of centroids R each item links to.

    Parameters
    ----------
    overlap : int or float
        An int is R itself; a float in (0, 1] is a fraction of ``n_clusters``
        rounded to the nearest integer (halves round up), and at least 1.
    n_clusters : int
        K, the number of clusters.

    Returns
    -------
    R : int

    Examples
    --------
    >>> from sklearn_swdae.grouping import resolve_overlap
    >>> resolve_overlap(0.1, 1000), resolve_overlap(3, 10), resolve_overlap(0.01, 20)
    (100, 3, 1)
    """
    if isinstance(overlap, (Integral, np.integer)) and not isinstance(overlap, bool):
        R = int(overlap)
    else:
        R = max(1, int(np.floor(float(overlap) * n_clusters + 0.5)))
    if R < 1:
        raise ValueError(f"overlap must give R >= 1 links per item, got overlap={overlap!r}.")
    if R > n_clusters:
        raise ValueError(
            f"overlap={overlap!r} asks for R={R} links per item, more than "
            f"n_clusters={n_clusters}. Use R <= K (a float overlap in (0, 1] is a "
            "fraction of n_clusters)."
        )
    return R


def _item_degrees(X):
    """Degrees of the item co-occurrence graph, X^T (X 1), without X^T X."""
    return np.asarray(X.T @ np.asarray(X.sum(axis=1)).ravel(), dtype=np.float64).ravel()


def _top_right_singular(A, k, solver, tol, random_state):
    """Top-k right singular vectors and values of a sparse matrix, best first.

    The sign of every vector is fixed (largest absolute component positive)
    so that the embedding does not depend on the solver's arbitrary signs.
    """
    if solver == "randomized":
        u, s, vt = randomized_svd(
            A, k, n_oversamples=max(10, k), n_iter=7, random_state=random_state
        )
    else:
        rng = check_random_state(random_state)
        # ARPACK iterates on the smaller Gram matrix, PROPACK on A's rows.
        v0 = rng.uniform(-1, 1, size=min(A.shape) if solver == "arpack" else A.shape[0])
        u, s, vt = svds(A, k=k, tol=tol, solver=solver, v0=v0)
    order = np.argsort(s)[::-1]
    u, s, vt = u[:, order], s[order], vt[order]
    u, vt = svd_flip(u, vt, u_based_decision=False)
    return s, vt.T


def _relative_residuals(A, s, V):
    """||A^T A v - s^2 v|| / s^2 per vector: how well each pair is converged."""
    AtAV = A.T @ (A @ V)
    lam = s**2
    safe = np.where(lam > 0, lam, 1.0)
    return np.linalg.norm(AtAV - V * lam, axis=0) / safe


def _nearest_centroids(embedding, centers, n_links):
    """Indices of the ``n_links`` nearest centroids of every row, nearest first."""
    n_items, n_clusters = embedding.shape[0], centers.shape[0]
    out = np.empty((n_items, n_links), dtype=np.int64)
    center_sq = np.einsum("ij,ij->i", centers, centers)
    for start in range(0, n_items, _LINK_BLOCK):
        block = embedding[start : start + _LINK_BLOCK]
        # Squared distances up to the per-row constant ||x||^2, which does not
        # change the ranking of centroids for a given item.
        dist = center_sq[None, :] - 2.0 * (block @ centers.T)
        if n_links < n_clusters:
            part = np.argpartition(dist, n_links - 1, axis=1)[:, :n_links]
        else:
            part = np.broadcast_to(np.arange(n_clusters), dist.shape)
        part_dist = np.take_along_axis(dist, part, axis=1)
        # Stable sort on (distance, index) keeps ties deterministic.
        order = np.lexsort((part, part_dist), axis=1)
        out[start : start + len(block)] = np.take_along_axis(part, order, axis=1)
    return out


class ItemGrouper(TransformerMixin, BaseEstimator):
    """Learn K overlapping item groups from implicit feedback (SW-DAE, section 3.1).

    Items are embedded in F dimensions, clustered into K groups with
    K-means, and each item is linked to its R nearest centroids.  The result,
    ``connectivity_``, is the K x n_items boolean mask of a sparse and wide
    autoencoder layer: hidden unit k is connected to the items of group k.

    Parameters
    ----------
    n_clusters : int, default=1000
        K, the number of (overlapping) item groups, i.e. hidden units.
        Must not exceed the number of items.
    overlap : int or float, default=0.1
        R, the number of nearest centroids each item links to.  An int is R
        itself; a float in (0, 1] is a fraction of K (rounded to the nearest
        integer, at least 1).  The paper uses R = 0.1 K (10% of the
        connections of a fully connected layer).
    n_components : int, default=50
        F, the dimension of the item embedding.  Must be smaller than both
        the number of items and the number of users.
    method : {"laplacian", "svd"}, default="laplacian"
        ``"laplacian"`` is Algorithm 1: the top-F eigenvectors of the
        normalized co-occurrence matrix Delta = D^-1/2 X^T X D^-1/2, where D
        holds the item degrees of the co-occurrence graph.  X^T X is never
        formed: Delta = (X D^-1/2)^T (X D^-1/2), so its eigenvectors are the
        right singular vectors of the column-scaled X and its eigenvalues the
        squared singular values.  ``"svd"`` is Algorithm 2: the items are
        projected as P = U_F Sigma_F from the top-F singular triplets of X^T.
    normalize : {"l2", "l1"} or None, default="l2"
        Row normalization of the embedding before K-means.  ``"l2"`` scales
        every item to unit length as in Ng, Jordan and Weiss (2002), whom the
        paper cites for this step; ``"l1"`` makes the absolute values of
        every row sum to one, the closest well-defined reading of the paper's
        "each row sums to one" (a signed row sum can be zero or negative for
        eigenvector coordinates, which would divide by zero or mirror the
        item through the origin).  ``None`` keeps the raw embedding.
    solver : {"arpack", "propack", "randomized"}, default="arpack"
        Truncated SVD solver for the spectrum.  ``"arpack"`` and
        ``"propack"`` are Lanczos methods (the paper uses Lanczos
        bidiagonalization) accurate to ``tol``; ``"randomized"`` (Halko et
        al.) is approximate.  The residual of every returned pair is stored
        in ``spectrum_residuals_`` and a warning is raised above 1e-2.
    tol : float, default=0.0
        Convergence tolerance of the Lanczos solvers; 0 means machine
        precision.
    kmeans_init : {"k-means++", "random"}, default="k-means++"
        Centroid initialization of K-means.
    kmeans_n_init : int, default=1
        Number of K-means restarts; the best inertia is kept.
    kmeans_max_iter : int, default=100
        Maximum number of Lloyd iterations.
    random_state : int, RandomState instance or None, default=None
        Seeds the solver's starting vector and K-means.  Pass an int for
        reproducible masks.

    Attributes
    ----------
    connectivity_ : scipy.sparse.csr_array of shape (n_clusters, n_items), dtype bool
        ``connectivity_[k, i]`` is True when item i belongs to group k.  Every
        column has exactly ``overlap_`` True entries.
    embedding_ : ndarray of shape (n_items, n_components)
        The normalized item embedding that K-means clustered.
    spectrum_ : ndarray of shape (n_components,)
        Eigenvalues of Delta (``method="laplacian"``) or singular values of X
        (``method="svd"``), largest first.
    spectrum_residuals_ : ndarray of shape (n_components,)
        Relative residual ||A^T A v - s^2 v|| / s^2 of every spectral pair, an
        accuracy check of the solver.
    cluster_centers_ : ndarray of shape (n_clusters, n_components)
        K-means centroids.
    labels_ : ndarray of shape (n_items,)
        The K-means cluster of every item.
    item_groups_ : ndarray of shape (n_items, overlap_)
        For every item, the indices of the groups it links to, nearest
        centroid first.
    overlap_ : int
        R, the resolved number of links per item.
    item_degrees_ : ndarray of shape (n_items,)
        Degree of each item in the co-occurrence graph (row sums of X^T X).
        Items nobody consumed have degree 0: their embedding is the zero
        vector (no NaN), so they share one point at the origin, take part in
        K-means as such, and link to the R centroids nearest the origin.
    timings_ : dict
        Seconds spent in the ``"spectrum"``, ``"kmeans"`` and ``"linking"``
        phases.
    n_features_in_ : int
        Number of items seen during fit.

    See Also
    --------
    SparseWideDAERecommender : The autoencoder that uses this connectivity.

    References
    ----------
    F. Khawar, L. Poon and N. L. Zhang. "Learning the Structure of
    Auto-Encoding Recommenders." The Web Conference (WWW), 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> from sklearn_swdae import ItemGrouper
    >>> rng = np.random.RandomState(0)
    >>> X = sparse.random(200, 60, density=0.1, format="csr", random_state=rng)
    >>> grouper = ItemGrouper(n_clusters=6, overlap=2, n_components=5, random_state=0)
    >>> grouper.fit(X).connectivity_.shape
    (6, 60)
    >>> grouper.connectivity_.sum(axis=0).min(), grouper.connectivity_.sum(axis=0).max()
    (np.int64(2), np.int64(2))
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "overlap": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="right"),
        ],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"laplacian", "svd"})],
        "normalize": [StrOptions({"l2", "l1"}), None],
        "solver": [StrOptions({"arpack", "propack", "randomized"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "kmeans_init": [StrOptions({"k-means++", "random"})],
        "kmeans_n_init": [Interval(Integral, 1, None, closed="left")],
        "kmeans_max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_clusters=1000,
        overlap=0.1,
        n_components=50,
        method="laplacian",
        normalize="l2",
        solver="arpack",
        tol=0.0,
        kmeans_init="k-means++",
        kmeans_n_init=1,
        kmeans_max_iter=100,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.overlap = overlap
        self.n_components = n_components
        self.method = method
        self.normalize = normalize
        self.solver = solver
        self.tol = tol
        self.kmeans_init = kmeans_init
        self.kmeans_n_init = kmeans_n_init
        self.kmeans_max_iter = kmeans_max_iter
        self.random_state = random_state

    def _check_sizes(self, n_users, n_items):
        if self.n_clusters > n_items:
            raise ValueError(
                f"n_clusters={self.n_clusters} exceeds the number of items "
                f"(n_features={n_items}); use n_clusters <= n_items."
            )
        if self.n_components >= min(n_users, n_items):
            raise ValueError(
                f"n_components={self.n_components} must be smaller than both the "
                f"number of items (n_features={n_items}) and of users (n_samples={n_users})."
            )
        return resolve_overlap(self.overlap, self.n_clusters)

    def _embed(self, X, random_state):
        """Item embedding (before row normalization) and its spectrum."""
        degrees = _item_degrees(X)
        if self.method == "laplacian":
            scale = np.zeros_like(degrees)
            np.divide(1.0, np.sqrt(degrees), out=scale, where=degrees > 0)
            # Column scaling keeps A sparse: A^T A = D^-1/2 X^T X D^-1/2 = Delta.
            A = (X.astype(np.float64) @ sp.diags_array(scale)).tocsr()
        else:
            A = X.astype(np.float64)
        s, V = _top_right_singular(A, self.n_components, self.solver, self.tol, random_state)
        residuals = _relative_residuals(A, s, V)
        if self.method == "laplacian":
            # Zero-degree items have a zero column in A, hence exactly zero
            # rows in V; force it so round-off cannot leak into them.
            V[degrees == 0] = 0.0
            embedding, spectrum = V, s**2
        else:
            embedding, spectrum = V * s, s  # P = U_F Sigma_F of X^T
        return embedding, spectrum, residuals, degrees

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the overlapping item groups.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Implicit feedback.  Positive values mean consumed and are
            binarized; negative, NaN or infinite values raise ValueError.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted grouper.
        """
        X = check_interactions(self, X, reset=True)
        n_users, n_items = X.shape
        R = self._check_sizes(n_users, n_items)
        random_state = check_random_state(self.random_state)
        timings = {}

        tic = time.perf_counter()
        embedding, spectrum, residuals, degrees = self._embed(X, random_state)
        if self.normalize is not None:
            embedding = _normalize_rows(embedding, norm=self.normalize)
        timings["spectrum"] = time.perf_counter() - tic
        worst = float(residuals.max(initial=0.0))
        if worst > _SPECTRUM_RESIDUAL_WARN:
            import warnings

            warnings.warn(
                f"The {self.solver!r} solver returned spectral pairs with relative "
                f"residual up to {worst:.2e}; the embedding may be inaccurate. Use "
                "solver='arpack' or a smaller n_components.",
                RuntimeWarning,
                stacklevel=2,
            )

        tic = time.perf_counter()
        kmeans = KMeans(
            n_clusters=self.n_clusters,
            init=self.kmeans_init,
            n_init=self.kmeans_n_init,
            max_iter=self.kmeans_max_iter,
            random_state=random_state,
        ).fit(embedding)
        timings["kmeans"] = time.perf_counter() - tic

        tic = time.perf_counter()
        centers = kmeans.cluster_centers_
        item_groups = _nearest_centroids(embedding, centers, R)
        rows = item_groups.ravel()
        cols = np.repeat(np.arange(n_items), R)
        self.connectivity_ = sp.csr_array(
            (np.ones(rows.size, dtype=bool), (rows, cols)), shape=(self.n_clusters, n_items)
        )
        timings["linking"] = time.perf_counter() - tic

        self.embedding_ = embedding
        self.spectrum_ = spectrum
        self.spectrum_residuals_ = residuals
        self.item_degrees_ = degrees
        self.cluster_centers_ = centers
        self.labels_ = kmeans.labels_
        self.item_groups_ = item_groups
        self.overlap_ = R
        self.timings_ = timings
        return self

    def transform(self, X):
        """Binarize X and attach the learned connectivity to it.

        The output is what :class:`SparseWideDAERecommender` expects as the
        next step of a :class:`~sklearn.pipeline.Pipeline`: the same
        interactions, binarized, as a :class:`GroupedInteractions` sparse
        array whose ``connectivity`` attribute is ``connectivity_``.  The
        recommender then builds its masked layers from it instead of fitting
        a grouper of its own.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Implicit feedback over the items seen in fit.

        Returns
        -------
        X_grouped : GroupedInteractions of shape (n_users, n_items)
            Binary float32 interactions with a ``connectivity`` attribute.
        """
        check_is_fitted(self)
        X = check_interactions(self, X, reset=False)
        X_grouped = GroupedInteractions(X)
        X_grouped.connectivity = self.connectivity_
        return X_grouped

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = []
        return tags
