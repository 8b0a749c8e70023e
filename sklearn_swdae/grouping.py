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
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.preprocessing import normalize as _normalize_rows
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state

from . import defaults
from ._clustering import _kmeans, _nearest_centroids
from ._deprecation import deprecate_positional_args
from ._item_embedding import (
    _SPECTRUM_RESIDUAL_WARN,
    _item_degrees,
    _relative_residuals,
    _top_right_singular,
)
from ._persistence import VersionedStateMixin
from ._validation import check_interactions

__all__ = ["ItemGrouper", "GroupedInteractions", "resolve_overlap"]


class GroupedInteractions(sp.csr_array):
    """Binary interactions that carry the connectivity learned from them.

    This is what :meth:`ItemGrouper.transform` returns: a plain
    :class:`scipy.sparse.csr_array` of shape (n_users, n_items) with one
    extra attribute, ``connectivity``, the grouper's (K, n_items) boolean mask.
    It lets ``make_pipeline(ItemGrouper(), SparseWideDAERecommender())`` hand
    the learned structure to the recommender without a side channel.  Any
    scipy operation (slicing, arithmetic) returns arrays without the
    attribute, so the recommender reads it before doing anything else.

    Examples
    --------
    >>> from sklearn_swdae import ItemGrouper
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, _ = make_interactions(100, 30, 3, density=0.2, random_state=0)
    >>> Xt = ItemGrouper(n_clusters=3, overlap=1, n_components=2, random_state=0).fit_transform(X)
    >>> type(Xt).__name__, Xt.shape, Xt.connectivity.shape
    ('GroupedInteractions', (100, 30), (3, 30))
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
        Between 1 and ``n_clusters`` for a float ``overlap``.

    Examples
    --------
    >>> from sklearn_swdae.grouping import resolve_overlap
    >>> resolve_overlap(0.1, 1000), resolve_overlap(3, 10), resolve_overlap(0.01, 20)
    (100, 3, 1)
    """
    if isinstance(overlap, (bool, np.bool_)):
        # True would read as 1 link and 1.0 as R = K: neither is what a
        # boolean means, so say so instead of picking one.
        raise ValueError(f"overlap must be an int (R) or a float in (0, 1] (R / K), got the bool {overlap!r}.")
    if isinstance(overlap, (Integral, np.integer)):
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


# below accepts the Pipeline-wide setting and documents that.
class ItemGrouper(
    VersionedStateMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Learn K overlapping item groups from implicit feedback (SW-DAE, section 3.1).

    Items are embedded in F dimensions, clustered into K groups with
    K-means, and each item is linked to its R nearest centroids.  The result,
    ``connectivity_``, is the K x n_items boolean mask of a sparse and wide
    autoencoder layer: hidden unit k is connected to the items of group k.

    .. versionchanged:: 0.1
       Parameters are keyword-only; passing them positionally is deprecated
       and will raise a ``TypeError`` in 0.2.

    Parameters
    ----------
    n_clusters : int or "auto", default="auto"
        K, the number of (overlapping) item groups, i.e. hidden units.  An
        int must not exceed the number of items.  ``"auto"`` is
        :func:`~sklearn_swdae.defaults.auto_n_clusters` of the numbers of
        items and users: 0.75 per item as in the paper (14,960 for ML-20M's
        20,108 items), but at most 10 R so that the layer is never sparser
        than the paper's R = 0.1 K.  Either way, K is lowered to the
        number of distinct item embeddings when that is smaller (items
        with the same co-occurrence profile embed to the same point, and
        K-means cannot make more groups than points); an explicit
        ``n_clusters`` that is lowered raises a warning.  The K used is
        ``n_clusters_``.
    overlap : int, float or "auto", default="auto"
        R, the number of nearest centroids each item links to.  An int is R
        itself; a float in (0, 1] is a fraction of K (rounded to the nearest
        integer, at least 1), so ``overlap=1`` is one link and
        ``overlap=1.0`` is all K; a bool is rejected.  The paper uses
        R = 0.1 K (10% of the connections of a fully connected layer).
        ``"auto"`` is :func:`~sklearn_swdae.defaults.auto_overlap`: at
        least 300 links (all of K below 300), which validation users
        preferred on small catalogues, growing with the number of users up
        to the paper's 0.1 K (R = 1,500 on ML-20M).  The R used is
        ``overlap_``.
    n_components : int or "auto", default="auto"
        F, the dimension of the item embedding.  An int must be smaller than
        both the number of items and the number of users.  ``"auto"`` is the
        paper's 50, capped below both
        (:func:`~sklearn_swdae.defaults.auto_n_components`).
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
        The default was chosen on validation users (K = 1000, the paper's
        other settings; ``benchmarks/RESULTS.md``): validation NDCG@100 with
        l2 / l1 was 0.378 / 0.377 on ML-1M, 0.370 / 0.376 on ML-100K and
        0.230 / 0.214 on ml-latest-small (multinomial loss), differences
        within one standard error, so the default is the normalization of
        the cited reference.
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
        Centroid initialization of K-means.  ``"k-means++"`` is the greedy
        k-means++ of :func:`sklearn.cluster.kmeans_plusplus` (2 + log K
        trials per center, same random draws) in a faster implementation:
        when K (2 + log K) exceeds the number of items and the item-item
        squared distances fit in 2 GiB as float32 (up to ~23,000 items;
        1.5 GiB for ML-20M's 20,108), they are computed once instead of at
        every step; that memory is released before Lloyd's iterations.
    kmeans_n_init : int, default=1
        Number of K-means restarts; the best inertia is kept.
    kmeans_max_iter : int, default=100
        Maximum number of Lloyd iterations.
    random_state : int, RandomState instance or None, default=None
        Seeds the solver's starting vector and K-means.  Pass an int for
        reproducible masks.
    binarize : bool, default=True
        Whether fit treats every positive value of X as 1 (implicit
        feedback).  False keeps the non-negative values, so the co-occurrence
        X^T X is weighted by them: this groups the hidden units of a trained
        SW-DAE by their activations on the training users (the "items" are
        then hidden units), as the stacked SW-DAE does (section 3.4; see
        ``stacked_layer_sizes`` of :class:`SparseWideDAERecommender`).

    Attributes
    ----------
    connectivity_ : scipy.sparse.csr_array of shape (K, n_items), dtype bool
        ``connectivity_[k, i]`` is True when item i belongs to group k, with
        K = ``n_clusters_``.  Every column has exactly ``overlap_`` True
        entries.
    embedding_ : ndarray of shape (n_items, n_components)
        The normalized item embedding that K-means clustered.
    spectrum_ : ndarray of shape (n_components,)
        Eigenvalues of Delta (``method="laplacian"``) or singular values of X
        (``method="svd"``), largest first.
    spectrum_residuals_ : ndarray of shape (n_components,)
        Residual ||A^T A v - s^2 v|| / s_1^2 of every spectral pair (s_1 the
        largest singular value), an accuracy check of the solver.
    n_clusters_ : int
        K, the number of groups made: ``n_clusters`` resolved (``"auto"``)
        and capped at the number of distinct item embeddings.
    n_components_ : int
        F, the embedding dimension used.
    cluster_centers_ : ndarray of shape (K, F)
        K-means centroids (K = ``n_clusters_``, F = ``n_components_``).
    labels_ : ndarray of shape (n_items,)
        The K-means cluster of every item: its nearest centroid, the first
        of its ``item_groups_``.
    item_groups_ : ndarray of shape (n_items, R)
        For every item, the indices of the R = ``overlap_`` groups it links
        to, nearest centroid first.
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
        "n_clusters": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        # RealNotInt: overlap=1 (one link) and overlap=1.0 (all K) differ.
        "overlap": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            StrOptions({"auto"}),
        ],
        "n_components": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "method": [StrOptions({"laplacian", "svd"})],
        "normalize": [StrOptions({"l2", "l1"}), None],
        "solver": [StrOptions({"arpack", "propack", "randomized"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "kmeans_init": [StrOptions({"k-means++", "random"})],
        "kmeans_n_init": [Interval(Integral, 1, None, closed="left")],
        "kmeans_max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "binarize": ["boolean"],
    }

    @deprecate_positional_args
    def __init__(
        self,
        *,
        n_clusters="auto",
        overlap="auto",
        n_components="auto",
        method="laplacian",
        normalize="l2",
        solver="arpack",
        tol=0.0,
        kmeans_init="k-means++",
        kmeans_n_init=1,
        kmeans_max_iter=100,
        random_state=None,
        binarize=True,
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
        self.binarize = binarize

    def _check_sizes(self, n_users, n_items):
        """(K, F) resolved from the parameters, before the embedding is known."""
        if self.n_clusters == "auto":
            K = defaults.auto_n_clusters(n_items, n_users)
        else:
            K = self.n_clusters
            if K > n_items:
                raise ValueError(
                    f"n_clusters={K} exceeds the number of items (n_features={n_items}); use n_clusters <= n_items."
                )
        if self.n_components == "auto":
            if min(n_users, n_items) < 2:
                raise ValueError(
                    f"ItemGrouper needs at least 2 users and 2 items to embed the items, got "
                    f"X of shape ({n_users}, {n_items})."
                )
            F = defaults.auto_n_components(n_users, n_items)
        else:
            F = self.n_components
            if F >= min(n_users, n_items):
                raise ValueError(
                    f"n_components={F} must be smaller than both the "
                    f"number of items (n_features={n_items}) and of users (n_samples={n_users})."
                )
        if self.overlap != "auto":
            resolve_overlap(self.overlap, K)  # fail before the embedding is computed
        return K, F

    def _resolve_groups(self, K, embedding, n_users):
        """(K, R) once the embedding is known: K at most its distinct points."""
        # Rounding merges points that differ by solver round-off only.
        n_distinct = len(np.unique(np.round(embedding, 10), axis=0))
        if K > n_distinct:
            if self.n_clusters != "auto":
                import warnings

                warnings.warn(
                    f"n_clusters={K} exceeds the {n_distinct} distinct item embeddings (items "
                    f"with the same co-occurrence profile embed to the same point), so "
                    f"{n_distinct} groups are made instead; n_clusters_ holds the number used.",
                    UserWarning,
                    stacklevel=3,
                )
            K = n_distinct
        n_items = embedding.shape[0]
        if self.overlap == "auto":
            R = defaults.auto_overlap(K, n_items, n_users)
        elif isinstance(self.overlap, Integral) and self.overlap > K:
            # Only reachable when K was lowered above: the warning said so.
            R = K
        else:
            R = resolve_overlap(self.overlap, K)
        return K, R

    def _embed(self, X, n_components, random_state):
        """Item embedding (before row normalization) and its spectrum."""
        degrees = _item_degrees(X)
        if self.method == "laplacian":
            scale = np.zeros_like(degrees)
            np.divide(1.0, np.sqrt(degrees), out=scale, where=degrees > 0)
            # Column scaling keeps A sparse: A^T A = D^-1/2 X^T X D^-1/2 = Delta.
            A = (X.astype(np.float64) @ sp.diags_array(scale)).tocsr()
        else:
            A = X.astype(np.float64)
        s, V = _top_right_singular(A, n_components, self.solver, self.tol, random_state)
        residuals = _relative_residuals(A, s, V)
        # Zero-degree items have a zero column in A (for both methods), hence
        # zero rows in V in exact arithmetic; force it so round-off (e.g. of
        # the randomized solver) cannot leak into them.
        V[degrees == 0] = 0.0
        if self.method == "laplacian":
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
            binarized (unless ``binarize=False``); negative, NaN or infinite
            values raise ValueError.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted grouper.
        """
        X = check_interactions(self, X, reset=True, binarize=self.binarize)
        n_users, n_items = X.shape
        K, F = self._check_sizes(n_users, n_items)
        random_state = check_random_state(self.random_state)
        timings = {}

        tic = time.perf_counter()
        embedding, spectrum, residuals, degrees = self._embed(X, F, random_state)
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

        K, R = self._resolve_groups(K, embedding, n_users)
        tic = time.perf_counter()
        kmeans = _kmeans(
            embedding,
            K,
            init=self.kmeans_init,
            n_init=self.kmeans_n_init,
            max_iter=self.kmeans_max_iter,
            random_state=random_state,
        )
        timings["kmeans"] = time.perf_counter() - tic

        tic = time.perf_counter()
        centers = kmeans.cluster_centers_
        item_groups = _nearest_centroids(embedding, centers, R)
        rows = item_groups.ravel()
        cols = np.repeat(np.arange(n_items), R)
        self.connectivity_ = sp.csr_array((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(K, n_items))
        timings["linking"] = time.perf_counter() - tic

        self.embedding_ = embedding
        self.spectrum_ = spectrum
        self.spectrum_residuals_ = residuals
        self.item_degrees_ = degrees
        self.cluster_centers_ = centers
        # The nearest centroid in X's precision: K-means' own labels, up to
        # the round-off of its float32 iterations (_kmeans).
        self.labels_ = item_groups[:, 0].astype(kmeans.labels_.dtype)
        self.item_groups_ = item_groups
        self.overlap_ = R
        self.n_clusters_ = K
        self.n_components_ = F
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

    def set_output(self, *, transform=None):
        """Accept an output container setting; the output stays sparse.

        ``Pipeline(...).set_output(transform="pandas")`` configures every
        step.  :meth:`transform` returns the interactions as a sparse
        :class:`GroupedInteractions` whatever is set here: the item groups
        travel on it to the next step, and pandas and polars containers
        cannot hold sparse data.  The items' names are
        :meth:`get_feature_names_out`.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            The requested container; recorded, not applied.

        Returns
        -------
        self : ItemGrouper
            This grouper, unchanged but for the recorded setting.

        Examples
        --------
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
        >>> pipe = make_pipeline(ItemGrouper(), SparseWideDAERecommender()).set_output(transform="pandas")
        >>> pipe[0].set_output(transform="pandas") is pipe[0]
        True
        """
        if transform not in (None, "default", "pandas", "polars"):
            raise ValueError(f"transform must be 'default', 'pandas', 'polars' or None, got {transform!r}.")
        if transform is not None:
            self._sklearn_output_config = {"transform": transform}
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    # Pickling: connectivity_ is item_groups_ in another layout, so it is
    # saved only when it cannot be rebuilt from it, and item_groups_ travels
    # as int32 (n_items x R of them: 4 bytes per link instead of 8 + 13).
    def __getstate__(self):
        state = super().__getstate__()
        groups, connectivity = state.get("item_groups_"), state.get("connectivity_")
        if (
            isinstance(groups, np.ndarray)
            and groups.ndim == 2
            and (groups.size == 0 or groups.min() >= 0)
            and sp.issparse(connectivity)
            and connectivity.shape[0] < 2**31
            and groups.size < 2**31
        ):
            rebuilt = _connectivity_from_groups(groups, connectivity.shape[0])
            if (
                connectivity.format == "csr"
                and rebuilt.shape == connectivity.shape
                and np.array_equal(rebuilt.indptr, connectivity.indptr)
                and np.array_equal(rebuilt.indices, connectivity.indices)
                and bool(connectivity.data.all())
            ):
                state["connectivity_"] = None
                state["_connectivity_rows"] = connectivity.shape[0]
            state["item_groups_"] = groups.astype(np.int32)
            state["_item_groups_dtype"] = groups.dtype.str
        return state

    def __setstate__(self, state):
        state = dict(state)
        n_rows = state.pop("_connectivity_rows", None)
        groups_dtype = state.pop("_item_groups_dtype", None)
        super().__setstate__(state)
        if n_rows is not None:
            self.connectivity_ = _connectivity_from_groups(self.item_groups_, n_rows)
        if groups_dtype is not None:
            self.item_groups_ = self.item_groups_.astype(np.dtype(groups_dtype))


def _connectivity_from_groups(item_groups, n_rows):
    """The (n_rows, n_items) CSR bool mask linking item i to ``item_groups[i]``.

    The same arrays as fit's COO-to-CSR conversion: every row's items in
    ascending order (a stable sort by group of the item-major links).
    """
    n_items, n_links = item_groups.shape
    groups = item_groups.ravel()
    order = np.argsort(groups, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(groups, minlength=n_rows), out=indptr[1:])
    indices = (order // n_links).astype(np.int32)
    return sp.csr_array((np.ones(groups.size, dtype=bool), indices, indptr), shape=(n_rows, n_items), copy=False)
