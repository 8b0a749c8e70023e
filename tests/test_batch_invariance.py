"""What users see does not depend on how their rows are batched.

scikit-learn's ``check_methods_sample_order_invariance`` and
``check_methods_subset_invariance`` compare scores of permuted or one-row
batches at about one float32 rounding step, which float32 matrix products
cannot promise (see ``FLOAT32_BATCH_ROUNDING_CHECKS`` in conftest.py).  These
tests check the property users rely on, for every recommender: the order of
the users, the batches they are scored in and the number of threads change
the scores by no more than float32 rounding and the top-N lists only where
two items are tied up to that rounding.
"""

import numpy as np
import pytest
import torch
from conftest import assert_same_rankings
from sklearn.base import clone
from threadpoolctl import threadpool_limits

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
)
from sklearn_swdae.datasets import make_interactions

_TRAINING = dict(max_iter=2, batch_size=32, device="cpu", random_state=0, validation_fraction=None)
# float32 rounding of sums of a few dozen terms, relative to the largest score.
_RTOL = 1e-5
_TOP_N = 10


def _grouper():
    return ItemGrouper(n_clusters=8, overlap=2, n_components=4, random_state=0)


ESTIMATORS = {
    "swdae-dense": SparseWideDAERecommender(grouper=_grouper(), layer_backend="dense", **_TRAINING),
    "swdae-sparse": SparseWideDAERecommender(grouper=_grouper(), layer_backend="sparse", **_TRAINING),
    "fcdae": FCDAERecommender(n_hidden=16, **_TRAINING),
    "fc-reg": FCDAERecommender(n_hidden=16, activity_l1=1e-3, **_TRAINING),
    "fc-prune": PrunedDAERecommender(n_hidden=16, sparsity=0.5, retrain_iter=1, **_TRAINING),
    "cdae": CDAERecommender(n_hidden=16, **_TRAINING),
    "multdae": MultDAERecommender(n_hidden=16, **_TRAINING),
    "multvae": MultVAERecommender(n_hidden=16, n_latent=4, **_TRAINING),
    "popularity": PopularityRecommender(),
    "ease": EASERecommender(alpha=10.0),
    "slim": SLIMRecommender(l1=0.1, alpha=0.1),
    "wmf": WMFRecommender(n_factors=4, max_iter=2, n_jobs=1, random_state=0),
}


@pytest.fixture(scope="module")
def data():
    X, _ = make_interactions(300, 60, 6, density=0.1, random_state=0)
    return X[:240], X[240:]


@pytest.fixture(scope="module", params=list(ESTIMATORS), ids=list(ESTIMATORS))
def fitted(request, data):
    if request.param == "wmf":
        pytest.importorskip("implicit")
    train, _ = data
    return clone(ESTIMATORS[request.param]).fit(train)


def _assert_close_scores(actual, expected):
    atol = _RTOL * np.abs(expected).max()
    np.testing.assert_allclose(actual, expected, rtol=_RTOL, atol=atol)


def test_scores_and_rankings_do_not_depend_on_the_order_of_users(fitted, data):
    _, Q = data
    perm = np.random.RandomState(0).permutation(Q.shape[0])
    scores = fitted.decision_function(Q)
    _assert_close_scores(fitted.decision_function(Q[perm]), scores[perm])
    items = fitted.recommend(Q, top_n=_TOP_N)
    assert_same_rankings(fitted.recommend(Q[perm], top_n=_TOP_N), items[perm], scores[perm], rtol=_RTOL)
    # predict ranks every unseen item (top_n is capped at the catalogue).
    assert_same_rankings(fitted.predict(Q[perm]), fitted.predict(Q)[perm], scores[perm], rtol=_RTOL)


def test_scores_and_rankings_do_not_depend_on_the_batches(fitted, data):
    _, Q = data
    scores = fitted.decision_function(Q)
    items = fitted.recommend(Q, top_n=_TOP_N)
    for size in (1, 7):
        starts = range(0, Q.shape[0], size)
        by_batch = np.vstack([fitted.decision_function(Q[s : s + size]) for s in starts])
        _assert_close_scores(by_batch, scores)
        lists = np.vstack([fitted.recommend(Q[s : s + size], top_n=_TOP_N) for s in starts])
        assert_same_rankings(lists, items, scores, rtol=_RTOL)


def test_scores_and_rankings_do_not_depend_on_the_number_of_threads(fitted, data):
    _, Q = data
    scores = fitted.decision_function(Q)
    items = fitted.recommend(Q, top_n=_TOP_N)
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with threadpool_limits(limits=1):
            one_thread_scores = fitted.decision_function(Q)
            one_thread_items = fitted.recommend(Q, top_n=_TOP_N)
    finally:
        torch.set_num_threads(previous)
    _assert_close_scores(one_thread_scores, scores)
    assert_same_rankings(one_thread_items, items, scores, rtol=_RTOL)


def test_rankings_comparison_admits_near_ties_only():
    rng = np.random.RandomState(0)
    scores = rng.standard_normal((5, 12)).astype(np.float32)
    items = np.argsort(-scores, axis=1)[:, :4]
    assert_same_rankings(items, items, scores)
    # Two items tied up to float32 rounding may come in either order...
    tied = scores.copy()
    tied[0, items[0, 2]] = np.nextafter(tied[0, items[0, 1]], np.float32(-np.inf))
    swapped = items.copy()
    swapped[0, [1, 2]] = swapped[0, [2, 1]]
    assert_same_rankings(swapped, items, tied)
    # ...but not items whose scores differ, nor the lists of other users,
    # nor padding at other places.
    with pytest.raises(AssertionError):
        assert_same_rankings(swapped, items, scores)
    with pytest.raises(AssertionError):
        assert_same_rankings(np.roll(items, 1, axis=0), items, scores)
    padded = items.copy()
    padded[0, -1] = scores.shape[1]  # the padding index of recommend
    with pytest.raises(AssertionError):
        assert_same_rankings(padded, items, scores)
