"""recommend / similar_items as users of implicit, Cornac and RecBole expect them.

Per-call ``filter_items`` and ``items``, one user as a 1-D row, a ``top_n``
default that works on small catalogues, safe padding, ``similar_items``,
recommendations through Pipelines and grid searches, and item ids.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_swdae import (
    CDAERecommender,
    EASERecommender,
    FCDAERecommender,
    ItemGrouper,
    MultDAERecommender,
    MultVAERecommender,
    PopularityRecommender,
    PrunedDAERecommender,
    SLIMRecommender,
    SparseWideDAERecommender,
    WMFRecommender,
    recommend,
    similar_items,
)
from sklearn_swdae.base import BaseRecommender
from sklearn_swdae.datasets import make_interactions

N_USERS, N_ITEMS = 200, 30


@pytest.fixture(scope="module")
def X():
    return make_interactions(N_USERS, N_ITEMS, 3, density=0.2, random_state=0)[0]


@pytest.fixture(scope="module")
def ease(X):
    return EASERecommender(alpha=10.0).fit(X)


def _small_grouper():
    return ItemGrouper(n_clusters=6, overlap=2, n_components=3, random_state=0)


def _ranking(scores, k):
    """Best k columns of one score row, ties by index (the package's rule).

    Columns scored -inf are never recommended: they become the padding index.
    """
    best = np.lexsort((np.arange(scores.size), -scores))[:k]
    return np.where(np.isneginf(scores[best]), scores.size, best)


# --------------------------------------------------------------------------
# filter_items and items


def test_filter_items_are_never_recommended(ease, X):
    banned = [0, 3, 7, 12]
    top = ease.recommend(X[:20], top_n=10, filter_items=banned)
    assert not np.isin(top, banned).any()
    scores = ease.decision_function(X[:20])
    scores[X[:20].toarray() > 0] = -np.inf
    scores[:, banned] = -np.inf
    for u in range(20):
        np.testing.assert_array_equal(top[u], _ranking(scores[u], 10))


def test_items_ranks_only_the_candidates(ease, X):
    candidates = np.array([25, 4, 17, 9, 1, 28])
    top, top_scores = ease.recommend(X[:20], top_n=4, items=candidates, return_scores=True)
    scores = ease.decision_function(X[:20])
    seen = X[:20].toarray() > 0
    for u in range(20):
        allowed = candidates[~seen[u, candidates]]
        listed = top[u][top[u] < N_ITEMS]
        assert set(listed) <= set(allowed)
        assert listed.size == min(4, allowed.size)
        order = allowed[_ranking(scores[u, allowed], listed.size)]
        np.testing.assert_array_equal(listed, order)
    finite = np.where(np.isfinite(top_scores), top_scores, -1e30)
    assert np.all(np.diff(finite, axis=1) <= 0)


def test_items_and_filter_items_together(ease, X):
    top = ease.recommend(X[:10], items=[1, 2, 3, 4], filter_items=[2], exclude_seen=False)
    assert top.shape == (10, 4)  # top_n defaults to the number of candidates
    assert not (top == 2).any()
    assert np.all(top[:, -1] == N_ITEMS)  # item 2 filtered: one slot left empty


def test_filtered_recommendations_keep_the_bounded_batches(X):
    """filter_items / items never build the users x items matrix at once."""
    model = EASERecommender(alpha=10.0).fit(X)
    expected = model.recommend(X, top_n=5, filter_items=[0, 1], items=np.arange(2, 20))
    model._prediction_batch_size = 7
    seen_rows = []
    score_batch = model._score_batch

    def recording(batch):
        seen_rows.append(batch.shape[0])
        return score_batch(batch)

    model._score_batch = recording
    model.decision_function = None  # recommend must not need the full matrix
    got = model.recommend(X, top_n=5, filter_items=[0, 1], items=np.arange(2, 20))
    assert max(seen_rows) == 7 and sum(seen_rows) == N_USERS
    # Same users, other batch compositions: compare the lists, not the scores.
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"filter_items": [N_ITEMS]}, r"filter_items must be item indices in \[0, 29\]; got 30"),
        ({"filter_items": [-1]}, "filter_items must be item indices"),
        ({"filter_items": [0.5]}, "filter_items must hold integer item indices"),
        ({"filter_items": [[0, 1]]}, "filter_items must be a 1-D list"),
        ({"items": [3, 3, 4]}, "items lists items more than once: 3"),
        ({"items": []}, "items must list at least one item"),
        ({"items": [1, 2], "top_n": 3}, r"top_n must be an integer in \[1, len\(items\)=2\]"),
        ({"items": ["a"]}, "items must hold integer item indices"),
    ],
)
def test_item_lists_are_validated(ease, X, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ease.recommend(X[:2], **kwargs)


# --------------------------------------------------------------------------
# One user as a 1-D row


@pytest.mark.parametrize("kind", ["list", "ndarray", "sparse"])
def test_one_user_as_a_1d_row(ease, X, kind):
    row = X[3].toarray().ravel() if hasattr(X[3], "toarray") else np.asarray(X[3]).ravel()
    query = {"list": row.tolist(), "ndarray": row, "sparse": sp.csr_array(row)}[kind]
    if kind == "sparse":
        assert query.ndim == 1
    top, scores = ease.recommend(query, top_n=6, filter_items=[0], return_scores=True)
    assert top.shape == (6,) and scores.shape == (6,)
    batch_top = ease.recommend(row[None, :], top_n=6, filter_items=[0])
    np.testing.assert_array_equal(top, batch_top[0])


def test_predict_keeps_the_2d_convention(ease, X):
    with pytest.raises(ValueError, match="2D"):
        ease.predict(X[3].toarray().ravel())


# --------------------------------------------------------------------------
# top_n default and padding


def test_default_top_n_works_on_a_small_catalogue():
    X, _ = make_interactions(60, 12, 2, density=0.3, random_state=0)
    model = PopularityRecommender().fit(X)  # top_n=100 > 12 items
    top = model.recommend(X)
    assert top.shape == (60, 12)
    np.testing.assert_array_equal(top, model.predict(X))
    with pytest.raises(ValueError, match=r"top_n must be an integer in \[1, n_items=12\]"):
        model.recommend(X, top_n=13)


def test_short_lists_are_padded_with_an_invalid_index():
    X = np.array([[1, 1, 0, 0], [0, 1, 0, 1], [1, 1, 1, 0]])
    model = PopularityRecommender().fit(X)
    top, scores = model.recommend([[1, 1, 1, 0]], top_n=4, return_scores=True)
    np.testing.assert_array_equal(top, [[3, 4, 4, 4]])
    assert np.isfinite(scores[0, 0]) and np.isneginf(scores[0, 1:]).all()
    item_ids = np.array([10, 20, 30, 40])
    with pytest.raises(IndexError):  # -1 would have silently named item 40
        item_ids[top]


# --------------------------------------------------------------------------
# similar_items


def test_ease_and_slim_similar_items_are_the_item_item_weights(X):
    for model in (EASERecommender(alpha=10.0).fit(X), SLIMRecommender(l1=0.1, alpha=0.1).fit(X)):
        coef = model.coef_.toarray() if sp.issparse(model.coef_) else model.coef_
        similar, scores = model.similar_items([0, 5], top_n=4, return_scores=True)
        for row, item in enumerate([0, 5]):
            weights = coef[item].astype(np.float32).copy()
            weights[item] = -np.inf
            np.testing.assert_array_equal(similar[row], _ranking(weights, 4))
            np.testing.assert_allclose(scores[row], weights[similar[row]])


@pytest.mark.parametrize(
    "make",
    [
        lambda: SparseWideDAERecommender(grouper=_small_grouper(), max_iter=2, device="cpu", random_state=0),
        lambda: FCDAERecommender(n_hidden=8, max_iter=2, device="cpu", random_state=0),
        lambda: PrunedDAERecommender(n_hidden=8, max_iter=2, device="cpu", random_state=0),
        lambda: CDAERecommender(n_hidden=8, max_iter=2, device="cpu", random_state=0),
        lambda: MultDAERecommender(n_hidden=8, max_iter=2, device="cpu", random_state=0),
        lambda: MultVAERecommender(n_hidden=8, n_latent=4, max_iter=2, device="cpu", random_state=0),
    ],
    ids=["SW-DAE", "FC-DAE", "FC-Prune", "CDAE", "Mult-DAE", "Mult-VAE"],
)
def test_autoencoders_have_similar_items(X, make):
    model = make().fit(X)
    similar, scores = model.similar_items(np.arange(N_ITEMS), top_n=5, return_scores=True)
    assert similar.shape == (N_ITEMS, 5)
    assert not (similar == np.arange(N_ITEMS)[:, None]).any()  # never the item itself
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    assert np.all((scores >= -1.0001) & (scores <= 1.0001))  # cosines
    one, one_scores = model.similar_items(7, top_n=5, return_scores=True)
    assert one.shape == (5,)
    # One query against a chunk of 30: BLAS may round differently, so the
    # similarities are compared with a tolerance (near-ties may swap).
    np.testing.assert_allclose(one_scores, scores[7], rtol=1e-5, atol=1e-6)


def test_swdae_similar_items_share_a_group(X):
    model = SparseWideDAERecommender(grouper=_small_grouper(), max_iter=2, device="cpu", random_state=0).fit(X)
    mask = model.connectivity_.toarray() if sp.issparse(model.connectivity_) else model.connectivity_
    shares = (mask.T.astype(int) @ mask.astype(int)) > 0  # items x items: a common hidden unit
    similar, scores = model.similar_items(np.arange(N_ITEMS), top_n=N_ITEMS - 1, return_scores=True)
    for item in range(N_ITEMS):
        apart = ~shares[item, similar[item]]
        # Items of no common group have similarity exactly 0: no weight in common.
        assert np.all(scores[item][apart] == 0)


def test_wmf_similar_items_are_factor_cosines(X):
    pytest.importorskip("implicit")
    model = WMFRecommender(n_factors=4, max_iter=3, random_state=0).fit(X)
    factors = model.item_factors_ / np.linalg.norm(model.item_factors_, axis=1, keepdims=True)
    similar, scores = model.similar_items(2, top_n=3, return_scores=True)
    np.testing.assert_allclose(scores, factors[similar] @ factors[2], rtol=1e-4, atol=1e-6)
    assert 2 not in similar


def test_popularity_has_no_similar_items(X):
    model = PopularityRecommender().fit(X)
    assert not hasattr(model, "similar_items")
    with pytest.raises(TypeError, match="no item similarity"):
        similar_items(model, 0)


def test_similar_items_validates_its_input(ease):
    with pytest.raises(ValueError, match="items must be item indices"):
        ease.similar_items(N_ITEMS)
    with pytest.raises(ValueError, match=r"top_n must be an integer in \[1, n_items - 1=29\]"):
        ease.similar_items(0, top_n=N_ITEMS)
    assert ease.similar_items(0).shape == (N_ITEMS - 1,)  # default top_n capped


# --------------------------------------------------------------------------
# Pipelines and grid searches


@pytest.fixture(scope="module")
def pipe(X):
    return make_pipeline(_small_grouper(), SparseWideDAERecommender(max_iter=2, device="cpu", random_state=0)).fit(X)


def test_recommend_through_a_pipeline(pipe, X):
    direct = pipe[-1].recommend(pipe[:-1].transform(X[:10]), top_n=5, filter_items=[1])
    np.testing.assert_array_equal(recommend(pipe, X[:10], top_n=5, filter_items=[1]), direct)
    one = recommend(pipe, X[4].toarray().ravel(), top_n=5, filter_items=[1])
    np.testing.assert_array_equal(one, direct[4])
    assert similar_items(pipe, 3, top_n=4).shape == (4,)


def test_recommend_through_a_grid_search(X):
    pipe = make_pipeline(_small_grouper(), SparseWideDAERecommender(max_iter=1, device="cpu", random_state=0))
    search = GridSearchCV(pipe, {"itemgrouper__n_clusters": [3, 6]}, cv=2).fit(X)
    top = recommend(search, X[:5], top_n=4)
    np.testing.assert_array_equal(recommend(search.best_estimator_, X[:5], top_n=4), top)
    assert top.shape == (5, 4)
    with pytest.raises(TypeError, match="not a recommender"):
        recommend(make_pipeline(_small_grouper()).fit(X), X)


def test_recommend_function_on_a_plain_recommender(ease, X):
    np.testing.assert_array_equal(recommend(ease, X[:3], top_n=4), ease.recommend(X[:3], top_n=4))


# --------------------------------------------------------------------------
# Item ids


def test_return_ids_needs_ids(ease, X):
    with pytest.raises(ValueError, match="not fitted on a pandas DataFrame"):
        ease.recommend(X[:2], return_ids=True)


@pytest.mark.parametrize("ids", [[100 + 7 * j for j in range(N_ITEMS)], [f"item{j}" for j in range(N_ITEMS)]])
def test_a_model_fitted_on_a_dataframe_returns_its_ids(X, ids):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X.toarray(), columns=ids)
    model = EASERecommender(alpha=10.0).fit(df)
    np.testing.assert_array_equal(model.item_ids_, ids)
    top = model.recommend(df.iloc[:5], top_n=4)
    named = model.recommend(df.iloc[:5], top_n=4, return_ids=True)
    assert named.dtype == object
    np.testing.assert_array_equal(named, np.asarray(ids, dtype=object)[top])
    # One user as a Series indexed by the ids.
    np.testing.assert_array_equal(model.recommend(df.iloc[0], top_n=4, return_ids=True), named[0])
    similar = model.similar_items(0, top_n=3, return_ids=True)
    assert set(similar) <= set(ids) and ids[0] not in set(similar)
    # Padding is None, never an id.
    full = np.ones((1, N_ITEMS))
    full[0, 0] = 0
    padded = model.recommend(pd.DataFrame(full, columns=ids), top_n=3, return_ids=True)
    assert padded[0, 0] == ids[0] and padded[0, 1] is None and padded[0, 2] is None
    # Columns out of order are refused rather than silently misread.
    # (scikit-learn's own check for string labels, the package's for others).
    with pytest.raises(ValueError, match="not the item ids seen in fit|same order as they were in fit"):
        model.recommend(df[list(reversed(ids))])


def test_ids_through_a_pipeline_with_string_columns(X):
    pd = pytest.importorskip("pandas")
    ids = [f"m{j}" for j in range(N_ITEMS)]
    df = pd.DataFrame(X.toarray(), columns=ids)
    pipe = make_pipeline(_small_grouper(), SparseWideDAERecommender(max_iter=1, device="cpu", random_state=0))
    pipe.fit(df)
    top = recommend(pipe, df.iloc[:3], top_n=4)
    np.testing.assert_array_equal(recommend(pipe, df.iloc[:3], top_n=4, return_ids=True), np.asarray(ids)[top])


def test_refit_without_a_dataframe_forgets_the_ids(X):
    pd = pytest.importorskip("pandas")
    model = EASERecommender(alpha=10.0).fit(pd.DataFrame(X.toarray(), columns=[f"i{j}" for j in range(N_ITEMS)]))
    assert hasattr(model, "item_ids_")
    assert not hasattr(clone(model).fit(X), "item_ids_")
    assert not hasattr(model.fit(X), "item_ids_")


def test_autoencoder_host_selection_matches_its_scores(X):
    """On the CPU an autoencoder selects in place in its fresh scores: same lists as ranking them."""
    model = SparseWideDAERecommender(grouper=_small_grouper(), max_iter=2, device="cpu", random_state=0).fit(X)
    banned, candidates = [0, 4, 9], np.arange(2, 25)
    top, top_scores = model.recommend(X[:30], top_n=5, filter_items=banned, items=candidates, return_scores=True)
    scores = model.decision_function(X[:30])
    seen = X[:30].toarray() > 0
    for u in range(30):
        allowed = np.setdiff1d(candidates[~seen[u, candidates]], banned)
        expected = allowed[_ranking(scores[u, allowed], min(5, allowed.size))]
        listed = top[u][top[u] < N_ITEMS]
        np.testing.assert_array_equal(listed, expected)
        np.testing.assert_allclose(top_scores[u, : listed.size], scores[u, listed], rtol=1e-6)
    # The model's own scores are untouched by the selection.
    np.testing.assert_allclose(model.decision_function(X[:30]), scores, rtol=1e-6)


def test_the_accelerator_selection_path_matches_the_host_path(X):
    """The autoencoders' on-device top-N (used on a GPU) applies the same masks.

    Run with torch tensors on the CPU: the model is told its device is not
    the CPU, and its scores are the host path's, as a tensor.
    """
    import types

    import torch

    model = FCDAERecommender(n_hidden=8, max_iter=2, device="cpu", random_state=0).fit(X)
    options = {"top_n": 6, "filter_items": [0, 4, 9], "items": np.arange(2, 25)}
    expected, expected_scores = model.recommend(X[:40], return_scores=True, **options)
    scores = model.decision_function(X[:40])  # one prediction batch

    def device_scores(batch):
        assert batch.shape[0] == 40
        return torch.from_numpy(scores.copy())

    model._device_scores = device_scores
    model.device_ = types.SimpleNamespace(type="accelerator")
    # The memory check sizes the device; the base class's check validates only.
    model._check_query = lambda Q: BaseRecommender._check_query(model, Q)
    got, got_scores = model.recommend(X[:40], return_scores=True, **options)
    # torch.topk breaks ties in its own order: compare scores, and items where not tied.
    np.testing.assert_allclose(got_scores, expected_scores, rtol=1e-6)
    untied = np.ones_like(got, dtype=bool)
    untied[:, 1:] &= got_scores[:, 1:] != got_scores[:, :-1]
    untied[:, :-1] &= got_scores[:, :-1] != got_scores[:, 1:]
    np.testing.assert_array_equal(got[untied], expected[untied])
    assert not np.isin(got, [0, 4, 9]).any()
    assert np.all((got == N_ITEMS) | ((got >= 2) & (got < 25)))


def test_prediction_batches_are_larger_on_an_accelerator(X):
    import types

    model = FCDAERecommender(n_hidden=8, max_iter=1, device="cpu", random_state=0).fit(X)
    n_items = 100_000  # large enough that both bounds are under 1,000 users
    # 24 MiB of float32 scores on the host, 128 MiB on an accelerator.
    assert model._batch_rows(n_items) == (3 << 23) // (4 * n_items)
    model.device_ = types.SimpleNamespace(type="cuda")
    assert model._batch_rows(n_items) == (1 << 27) // (4 * n_items)
    assert EASERecommender().fit(X)._batch_rows(n_items) == (3 << 23) // (4 * n_items)
