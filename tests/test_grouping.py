"""Tests of ItemGrouper (SW-DAE section 3.1, Algorithms 1 and 2)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import subspace_angles
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_swdae import GroupedInteractions, ItemGrouper
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.grouping import resolve_overlap

# sklearn's common checks fit on tiny data (down to one feature or one
# sample), so the grouper gets the smallest valid structure.  Every check
# passes with it: no expected failures are needed.  F = 1 normalized to unit
# rows would put every item at +1 (the leading eigenvector is positive),
# one point for K-means' 2 clusters; unnormalized, items stay distinct.
_EXPECTED_FAILED: dict = {}


@parametrize_with_checks(
    [ItemGrouper(n_clusters=2, overlap=1, n_components=1, normalize=None, random_state=0)],
    expected_failed_checks=lambda est: _EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _planted_blocks(seed, sizes=(8, 12, 16, 20, 24), p_in=(0.5, 0.4, 0.35, 0.3, 0.25), p_out=0.02, n_users=400):
    """Dense binary data whose items form blocks of different sizes and
    densities: the co-occurrence spectrum then has len(sizes) leading
    eigenvalues that are well separated from the rest."""
    rng = np.random.RandomState(seed)
    item_block = np.repeat(np.arange(len(sizes)), sizes)
    user_block = rng.randint(len(sizes), size=n_users)
    p = np.where(user_block[:, None] == item_block[None, :], np.asarray(p_in)[user_block][:, None], p_out)
    return (rng.random_sample((n_users, item_block.size)) < p).astype(np.float64)


def _top_eigh(M, F):
    w, V = np.linalg.eigh(M)
    return w[::-1], V[:, ::-1][:, :F]


@pytest.mark.parametrize("solver", ["arpack", "propack"])
@pytest.mark.parametrize("method", ["laplacian", "svd"])
@pytest.mark.parametrize("seed", [0, 1])
def test_spectrum_matches_dense_eigh(method, solver, seed):
    X = _planted_blocks(seed)
    F = 5
    Y = X.T @ X
    if method == "laplacian":
        d = Y.sum(axis=1)
        assert d.min() > 0
        M = Y / np.sqrt(np.outer(d, d))  # Delta = D^-1/2 X^T X D^-1/2
    else:
        M = Y  # X^T X, whose eigenvalues are the squared singular values of X
    w, V = _top_eigh(M, F)
    # The test is only meaningful if the F-dimensional subspace is well
    # defined: check the gap between eigenvalues F and F + 1.
    assert (w[F - 1] - w[F]) / w[0] > 0.1

    grouper = ItemGrouper(
        n_clusters=3, overlap=1, n_components=F, method=method, solver=solver, normalize=None, random_state=0
    ).fit(X)
    assert grouper.embedding_.shape == (X.shape[1], F)
    # method="svd" embeds as V_F Sigma_F, which spans the same subspace.
    angles = subspace_angles(grouper.embedding_, V)
    assert angles.max() < 1e-6
    expected = w[:F] if method == "laplacian" else np.sqrt(w[:F])
    np.testing.assert_allclose(grouper.spectrum_, expected, rtol=1e-8)
    assert np.all(np.diff(grouper.spectrum_) <= 0)  # largest first
    assert grouper.spectrum_residuals_.shape == (F,)
    assert grouper.spectrum_residuals_.max() < 1e-8
    if method == "laplacian":
        # The top eigenvalue of a normalized co-occurrence matrix is 1.
        assert grouper.spectrum_[0] == pytest.approx(1.0, abs=1e-10)
        # Unnormalized embedding is the eigenvector matrix itself: orthonormal.
        np.testing.assert_allclose(grouper.embedding_.T @ grouper.embedding_, np.eye(F), atol=1e-10)
    else:
        # P = V_F Sigma_F: the columns have the singular values as norms.
        np.testing.assert_allclose(np.linalg.norm(grouper.embedding_, axis=0), expected, rtol=1e-8)


def test_item_degrees_are_cooccurrence_row_sums():
    X = _planted_blocks(0)
    grouper = ItemGrouper(n_clusters=3, overlap=1, n_components=2, random_state=0).fit(sp.csr_array(X))
    np.testing.assert_allclose(grouper.item_degrees_, (X.T @ X).sum(axis=1))


@pytest.mark.parametrize("method", ["laplacian", "svd"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_planted_disjoint_groups(method, seed):
    n_groups = 8
    X, groups = make_interactions(2000, 320, n_groups, density=0.05, item_overlap=0, noise=0.05, random_state=seed)
    truth = groups.toarray().argmax(axis=0)
    assert np.all(groups.sum(axis=0) == 1)  # disjoint planted groups
    R = 3
    grouper = ItemGrouper(n_clusters=n_groups, overlap=R, n_components=n_groups, method=method, random_state=seed).fit(
        X
    )
    assert adjusted_rand_score(truth, grouper.labels_) >= 0.9

    n_items = X.shape[1]
    C = grouper.connectivity_
    assert sp.issparse(C) and C.dtype == bool and C.shape == (n_groups, n_items)
    np.testing.assert_array_equal(np.asarray(C.sum(axis=0)).ravel(), np.full(n_items, R))
    assert grouper.overlap_ == R
    G = grouper.item_groups_
    assert G.shape == (n_items, R)
    # Each item links to R distinct groups, and those are the True entries of its column.
    assert np.all(np.sort(G, axis=1)[:, 1:] != np.sort(G, axis=1)[:, :-1])
    dense = C.toarray()
    for i in range(n_items):
        np.testing.assert_array_equal(np.flatnonzero(dense[:, i]), np.sort(G[i]))
    # Nearest centroid first, and the first link is the K-means cluster.
    dist = ((grouper.embedding_[:, None, :] - grouper.cluster_centers_[None, :, :]) ** 2).sum(axis=2)
    linked = np.take_along_axis(dist, G, axis=1)
    assert np.all(np.diff(linked, axis=1) >= -1e-12)
    np.testing.assert_allclose(linked[:, -1], np.sort(dist, axis=1)[:, R - 1], atol=1e-12)
    np.testing.assert_array_equal(G[:, 0], grouper.labels_)
    assert grouper.cluster_centers_.shape == (n_groups, n_groups)
    assert set(grouper.timings_) == {"spectrum", "kmeans", "linking"}


@pytest.mark.parametrize("normalize", ["l2", "l1"])
def test_embedding_rows_are_normalized(normalize):
    X, _ = make_interactions(300, 60, 4, density=0.1, random_state=0)
    grouper = ItemGrouper(n_clusters=4, overlap=1, n_components=4, normalize=normalize, random_state=0).fit(X)
    ord_ = 2 if normalize == "l2" else 1
    np.testing.assert_allclose(np.linalg.norm(grouper.embedding_, ord=ord_, axis=1), 1.0)


def test_overlap_equal_to_n_clusters_links_everything():
    X, _ = make_interactions(300, 60, 4, density=0.1, random_state=0)
    grouper = ItemGrouper(n_clusters=5, overlap=5, n_components=3, random_state=0).fit(X)
    assert grouper.connectivity_.toarray().all()


def test_same_random_state_same_connectivity():
    X, _ = make_interactions(800, 150, 6, density=0.05, random_state=0)
    params = dict(n_clusters=12, overlap=3, n_components=6)
    first = ItemGrouper(**params, random_state=42).fit(X)
    second = ItemGrouper(**params, random_state=42).fit(X)
    assert (first.connectivity_ != second.connectivity_).nnz == 0
    np.testing.assert_array_equal(first.item_groups_, second.item_groups_)
    np.testing.assert_array_equal(first.embedding_, second.embedding_)
    for seed in [0, 1, np.random.RandomState(3)]:
        other = ItemGrouper(**params, random_state=seed).fit(X)
        np.testing.assert_array_equal(np.asarray(other.connectivity_.sum(axis=0)).ravel(), 3)


@pytest.mark.parametrize("solver", ["arpack", "propack", "randomized"])
@pytest.mark.parametrize("normalize", ["l2", "l1", None])
@pytest.mark.parametrize("method", ["laplacian", "svd"])
def test_zero_degree_items(method, normalize, solver):
    X, _ = make_interactions(500, 60, 4, density=0.1, random_state=0)
    X = X.toarray()
    zero = [3, 17, 40]
    X[:, zero] = 0
    R = 2
    grouper = ItemGrouper(
        n_clusters=6,
        overlap=R,
        n_components=4,
        method=method,
        normalize=normalize,
        solver=solver,
        random_state=0,
    ).fit(X)
    assert np.all(np.isfinite(grouper.embedding_))
    assert np.all(np.isfinite(grouper.cluster_centers_))
    np.testing.assert_array_equal(grouper.item_degrees_[zero], 0)
    assert np.all(np.delete(grouper.item_degrees_, zero) > 0)
    # Documented behaviour: items nobody consumed sit exactly at the origin ...
    np.testing.assert_array_equal(grouper.embedding_[zero], 0.0)
    # ... still get exactly R links ...
    np.testing.assert_array_equal(np.asarray(grouper.connectivity_.sum(axis=0)).ravel(), R)
    # ... namely to the R centroids nearest the origin, nearest first.
    nearest_origin = np.argsort((grouper.cluster_centers_**2).sum(axis=1), kind="stable")[:R]
    for i in zero:
        np.testing.assert_array_equal(grouper.item_groups_[i], nearest_origin)


def test_all_items_zero_degree_but_one_user():
    # Degenerate but valid: a single consumed item among zero-degree items.
    X = np.zeros((5, 6))
    X[:, 0] = 1
    grouper = ItemGrouper(n_clusters=2, overlap=1, n_components=1, random_state=0).fit(X)
    assert np.all(np.isfinite(grouper.embedding_))
    np.testing.assert_array_equal(np.asarray(grouper.connectivity_.sum(axis=0)).ravel(), 1)


@pytest.fixture(scope="module")
def small_data():
    X, _ = make_interactions(200, 40, 4, density=0.1, random_state=0)
    return X


_SMALL = dict(n_clusters=4, overlap=2, n_components=3, random_state=0)


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda X: -X, "[Nn]egative"),
        (lambda X: np.where(X > 0, np.nan, 0.0), "NaN"),
        (lambda X: np.where(X > 0, np.inf, 0.0), "infinity"),
    ],
    ids=["negative", "nan", "inf"],
)
@pytest.mark.filterwarnings("ignore:Can't check dok:UserWarning")
@pytest.mark.filterwarnings("ignore:Constructing a DIA:scipy.sparse.SparseEfficiencyWarning")
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc", "coo", "bsr", "dia", "lil", "dok"])
def test_bad_values_raise(small_data, bad, match, fmt):
    X = bad(small_data.toarray())
    if fmt != "dense":
        X = sp.csr_array(X).asformat(fmt)
    with pytest.raises(ValueError, match=match) as excinfo:
        ItemGrouper(**_SMALL).fit(X)
    assert "X" in str(excinfo.value)


def test_single_negative_entry_raises(small_data):
    X = small_data.toarray()
    X[0, 0] = -1e-3
    with pytest.raises(ValueError, match="[Nn]egative"):
        ItemGrouper(**_SMALL).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_clusters=41), "n_clusters"),
        (dict(n_clusters=4, overlap=5), "overlap"),
        (dict(n_components=40), "n_components"),
        (dict(n_components=45), "n_components"),
        (dict(method="spectral"), "method"),
        (dict(normalize="max"), "normalize"),
        (dict(solver="lobpcg"), "solver"),
        (dict(overlap=1.5), "overlap"),
        (dict(overlap=0.0), "overlap"),
        (dict(n_clusters=0), "n_clusters"),
        (dict(n_components=0), "n_components"),
        (dict(kmeans_init="kmeans"), "kmeans_init"),
    ],
)
def test_bad_parameters_raise(small_data, params, match):
    with pytest.raises(ValueError, match=match):
        ItemGrouper(**{**_SMALL, **params}).fit(small_data)


def test_n_components_bounded_by_users():
    X, _ = make_interactions(10, 40, 2, density=0.3, random_state=0)
    with pytest.raises(ValueError, match="n_components"):
        ItemGrouper(n_clusters=2, overlap=1, n_components=10).fit(X)
    ItemGrouper(n_clusters=2, overlap=1, n_components=9, random_state=0).fit(X)


def test_limits_are_inclusive(small_data):
    n_items = small_data.shape[1]
    grouper = ItemGrouper(n_clusters=n_items, overlap=n_items, n_components=n_items - 1, random_state=0)
    grouper.fit(small_data)
    assert grouper.connectivity_.shape == (n_items, n_items)


_FORMATS = ["csr", "csc", "coo", "dok", "lil", "bsr", "dia"]


@pytest.mark.filterwarnings("ignore:Can't check dok:UserWarning")
@pytest.mark.filterwarnings("ignore:Constructing a DIA:scipy.sparse.SparseEfficiencyWarning")
@pytest.mark.parametrize("container", ["matrix", "array"])
@pytest.mark.parametrize("fmt", _FORMATS)
def test_sparse_formats_and_dense_give_the_same_mask(small_data, fmt, container):
    dense = small_data.toarray()
    reference = ItemGrouper(**_SMALL).fit(dense)
    # Any positive value means "consumed": scaling the data changes nothing.
    values = dense * np.random.RandomState(0).randint(1, 6, size=dense.shape)
    X = (sp.csr_matrix if container == "matrix" else sp.csr_array)(values).asformat(fmt)
    grouper = ItemGrouper(**_SMALL).fit(X)
    assert (grouper.connectivity_ != reference.connectivity_).nnz == 0
    np.testing.assert_array_equal(grouper.item_groups_, reference.item_groups_)


def test_list_and_integer_input(small_data):
    dense = small_data.toarray()
    reference = ItemGrouper(**_SMALL).fit(dense)
    for X in [dense.astype(np.int64), dense.astype(bool), dense.tolist(), dense.astype(np.float32)]:
        grouper = ItemGrouper(**_SMALL).fit(X)
        assert (grouper.connectivity_ != reference.connectivity_).nnz == 0


@pytest.mark.parametrize(
    "overlap, n_clusters, expected",
    [
        (0.1, 1000, 100),
        (0.1, 15000, 1500),
        (0.5, 4, 2),
        (0.25, 6, 2),
        (0.01, 20, 1),
        (1.0, 7, 7),
        (3, 10, 3),
        (np.int64(2), 5, 2),
    ],
)
def test_resolve_overlap(overlap, n_clusters, expected):
    assert resolve_overlap(overlap, n_clusters) == expected


def test_resolve_overlap_rounds_halves_up():
    assert resolve_overlap(0.5, 3) == 2  # 1.5 -> 2
    assert resolve_overlap(0.25, 10) == 3  # 2.5 -> 3


def test_resolve_overlap_too_large():
    with pytest.raises(ValueError, match="overlap"):
        resolve_overlap(11, 10)


@pytest.mark.parametrize("overlap, expected", [(0.5, 2), (0.3, 1), (0.01, 1), (1.0, 4)])
def test_float_overlap_resolves_in_fit(small_data, overlap, expected):
    grouper = ItemGrouper(**{**_SMALL, "overlap": overlap}).fit(small_data)
    assert grouper.overlap_ == expected
    assert grouper.item_groups_.shape == (small_data.shape[1], expected)
    np.testing.assert_array_equal(np.asarray(grouper.connectivity_.sum(axis=0)).ravel(), expected)


def test_transform_attaches_connectivity(small_data):
    grouper = ItemGrouper(**_SMALL).fit(small_data)
    values = small_data.toarray() * 3.0
    out = grouper.transform(values)
    assert isinstance(out, GroupedInteractions)
    assert sp.issparse(out) and out.format == "csr" and out.shape == small_data.shape
    assert out.dtype == np.float32
    assert out.connectivity is grouper.connectivity_
    np.testing.assert_array_equal(out.toarray(), (values > 0).astype(np.float32))
    np.testing.assert_array_equal(np.unique(out.data), [1.0])

    fitted_out = clone(grouper).fit_transform(values)
    assert isinstance(fitted_out, GroupedInteractions)
    assert (fitted_out.connectivity != grouper.connectivity_).nnz == 0

    # Transforming other users (same items) keeps the fitted structure.
    other, _ = make_interactions(30, 40, 4, density=0.1, random_state=1)
    assert grouper.transform(other).connectivity is grouper.connectivity_


def test_transform_feature_mismatch_raises(small_data):
    grouper = ItemGrouper(**_SMALL).fit(small_data)
    with pytest.raises(ValueError, match="features"):
        grouper.transform(small_data[:, :-1])
    with pytest.raises(ValueError, match="[Nn]egative"):
        grouper.transform(-small_data.toarray())


def test_solver_residual_warning_is_quiet_for_lanczos(small_data, recwarn):
    ItemGrouper(**{**_SMALL, "solver": "arpack"}).fit(small_data)
    ItemGrouper(**{**_SMALL, "solver": "propack"}).fit(small_data)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# --- the fast K-means++ seeding and linking against their references -------


@pytest.mark.parametrize("cache_bytes", [None, 0], ids=["default", "no-cache"])
# (300, 40) computes distances step by step, (300, 120) precomputes them
# (K (2 + log K) >= n) unless the cache budget is 0.  With K close to n the
# sequences can part on round-off-level ties between candidates, so K << n.
@pytest.mark.parametrize("n_samples, n_clusters", [(300, 40), (300, 120)])
def test_kmeans_plusplus_matches_sklearn(monkeypatch, cache_bytes, n_samples, n_clusters):
    from sklearn.cluster import kmeans_plusplus

    import sklearn_swdae._clustering as clustering

    if cache_bytes is not None:
        monkeypatch.setattr(clustering, "_KMEANS_PP_CACHE_BYTES", cache_bytes)
    X = np.random.RandomState(0).normal(size=(n_samples, 5))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    for seed in range(3):
        expected, _ = kmeans_plusplus(X, n_clusters, random_state=seed)
        centers = clustering._kmeans_plusplus(X, n_clusters, np.random.RandomState(seed))
        np.testing.assert_array_equal(centers, expected)


def test_kmeans_matches_sklearn():
    # Lloyd's iterations run in float32 (_kmeans): the same clusters as
    # scikit-learn's float64 K-means on separated data, the centers equal
    # up to float32 round-off and returned in X's dtype.
    from sklearn.cluster import KMeans

    from sklearn_swdae._clustering import _kmeans

    X = np.random.RandomState(0).normal(size=(400, 6))
    for init in ["k-means++", "random"]:
        ours = _kmeans(X, 25, init, n_init=3, max_iter=50, random_state=np.random.RandomState(1))
        ref = KMeans(25, init=init, n_init=3, max_iter=50, random_state=np.random.RandomState(1)).fit(X)
        np.testing.assert_array_equal(ours.labels_, ref.labels_)
        assert ours.cluster_centers_.dtype == X.dtype
        np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-5, atol=1e-6)
        assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-5)


def test_kmeans_float32_iterations_keep_the_float64_seeds():
    # The k-means++ seeds are drawn from X in its own precision, so a
    # single Lloyd iteration starts from scikit-learn's own seeds.
    from sklearn.cluster import KMeans, kmeans_plusplus

    from sklearn_swdae._clustering import _kmeans

    X = np.random.RandomState(3).normal(size=(300, 5))
    seeds, _ = kmeans_plusplus(X, 20, random_state=np.random.RandomState(7))
    ours = _kmeans(X, 20, "k-means++", n_init=1, max_iter=1, random_state=np.random.RandomState(7))
    ref = KMeans(20, init=seeds, n_init=1, max_iter=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_cpus", [1, 3])
@pytest.mark.parametrize("n_links", [1, 4, 9, 12])
def test_nearest_centroids_brute_force(monkeypatch, n_cpus, n_links):
    import sklearn_swdae._clustering as clustering

    monkeypatch.setattr(clustering, "_LINK_BLOCK", 7)  # several blocks and a ragged last one
    monkeypatch.setattr(clustering, "_n_cpus", lambda: n_cpus)
    rng = np.random.RandomState(0)
    # Small integers (exact distances, many ties) and normal rows (no ties)
    # in the same blocks: only the tied rows take the stable re-ranking.
    X = np.vstack([rng.randint(0, 3, size=(50, 3)).astype(float), rng.normal(size=(20, 3))])
    X = X[rng.permutation(len(X))]
    centers = np.vstack([X[:8], X[:4]])  # duplicated centroids tie exactly
    got = clustering._nearest_centroids(X, centers, n_links)
    dist = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    expected = np.argsort(dist, axis=1, kind="stable")[:, :n_links]
    # Same distances in the same (nearest first) order ...
    np.testing.assert_array_equal(np.take_along_axis(dist, got, axis=1), np.take_along_axis(dist, expected, axis=1))
    # ... and ties broken by index among the selected centroids.
    for row, d in zip(got, dist):
        keys = list(zip(d[row], row))
        assert keys == sorted(keys)


@pytest.mark.parametrize("block", [1, 4, 256])
def test_sample_by_weight_is_searchsorted_of_the_cumulative_sum(monkeypatch, block):
    import sklearn_swdae._clustering as clustering

    monkeypatch.setattr(clustering, "_SAMPLING_BLOCK", block)
    rng = np.random.RandomState(0)
    weights = rng.rand(1001).astype(np.float32)
    weights[rng.rand(1001) < 0.3] = 0.0  # zero-weight items are never drawn
    weights[-5:] = 0.0
    total = weights.sum(dtype=np.float64)
    targets = np.concatenate([rng.uniform(size=200) * total, [total, total * (1 + 1e-9), 1e-30]])
    got = clustering._sample_by_weight(weights, targets)
    expected = np.clip(np.searchsorted(np.cumsum(weights, dtype=np.float64), targets), None, 1000)
    np.testing.assert_array_equal(got[:-2], expected[:-2])
    assert weights[got[:-2]].all()
    assert got[-2] == 1000  # beyond the total: clipped to the last item, as before
    assert got[-1] == np.flatnonzero(weights)[0]


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_row_block_operator_products(monkeypatch, n_threads):
    from sklearn_swdae import _item_embedding

    monkeypatch.setattr(_item_embedding, "_PRODUCT_BLOCK_NNZ", 50)  # many blocks, a ragged last one
    X, _ = make_interactions(120, 30, 4, density=0.1, random_state=0)
    A = sp.csr_array(X, dtype=np.float64) * np.linspace(0.5, 2.0, 30)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=30), rng.normal(size=120)
    with _item_embedding._RowBlockOperator(A, n_threads) as operator:
        assert len(operator._blocks) > 3
        np.testing.assert_allclose(operator.matvec(x), A @ x, rtol=1e-12)
        np.testing.assert_allclose(operator.rmatvec(y), A.T @ y, rtol=1e-12)
        np.testing.assert_allclose(operator.matmat(np.c_[x, 2 * x]), A @ np.c_[x, 2 * x], rtol=1e-12)
        np.testing.assert_allclose(operator.rmatmat(np.c_[y, -y]), A.T @ np.c_[y, -y], rtol=1e-12)


@pytest.mark.parametrize("solver", ["arpack", "propack"])
def test_blocked_spectrum_does_not_depend_on_the_thread_count(monkeypatch, solver):
    # The row blocks, hence the summation order, are fixed by the matrix:
    # one thread or several give the same embedding and mask.
    from sklearn_swdae import _item_embedding

    monkeypatch.setattr(_item_embedding, "_PRODUCT_BLOCK_NNZ", 200)
    X, _ = make_interactions(300, 60, 5, density=0.1, random_state=1)
    fits = []
    for n_cpus in (1, 2):
        monkeypatch.setattr(_item_embedding, "_n_cpus", lambda n=n_cpus: n)
        fits.append(ItemGrouper(n_clusters=8, overlap=2, n_components=5, solver=solver, random_state=0).fit(X))
    np.testing.assert_allclose(fits[0].embedding_, fits[1].embedding_, rtol=1e-10, atol=1e-12)
    assert (fits[0].connectivity_ != fits[1].connectivity_).nnz == 0
    assert fits[0].spectrum_residuals_.max() < 1e-8
