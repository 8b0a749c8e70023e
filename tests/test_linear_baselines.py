"""Tests of the linear baselines SLIM and WMF, and of the parameter and flops
counts of every non-neural baseline."""

import joblib
import numpy as np
import pytest
from sklearn.linear_model import ElasticNet

from sklearn_swdae import EASERecommender, PopularityRecommender, SLIMRecommender, WMFRecommender
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.model_selection import strong_generalization_split


@pytest.fixture(scope="module")
def planted():
    X, _ = make_interactions(800, 60, 6, density=0.1, groups_per_user=1, noise=0.05, random_state=0)
    return strong_generalization_split(X, n_validation=80, n_test=160, random_state=0)


@pytest.fixture(scope="module")
def popularity_score(planted):
    model = PopularityRecommender().fit(planted.train)
    return model.score(planted.test_fold_in, planted.test_held_out)


# --- SLIM -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def slim(planted):
    return SLIMRecommender(l1=0.5, alpha=1.0).fit(planted.train)


def test_slim_solves_one_constrained_elastic_net_per_item(slim, planted):
    X = planted.train.toarray().astype(float)
    n_users = X.shape[0]
    for j in (0, 17, 59):
        features = X.copy()
        features[:, j] = 0.0  # w_jj = 0
        # SLIM's objective divided by n_users, solved independently on dense X.
        reference = ElasticNet(
            alpha=1.5 / n_users, l1_ratio=0.5 / 1.5, positive=True, fit_intercept=False, tol=1e-10, max_iter=10000
        ).fit(features, X[:, j])
        np.testing.assert_allclose(slim.coef_[:, [j]].toarray().ravel(), reference.coef_, atol=2e-3)


def test_slim_weights_are_sparse_non_negative_with_zero_diagonal(slim):
    assert slim.coef_.min() >= 0
    assert np.all(slim.coef_.diagonal() == 0)
    assert 0 < slim.coef_.nnz < 0.5 * slim.coef_.shape[0] ** 2
    assert slim.n_parameters_ == slim.coef_.nnz and slim.n_flops_ == 2 * slim.coef_.nnz


@pytest.mark.slow  # starting the worker processes (which import torch) takes seconds
def test_slim_parallel_workers_give_the_same_weights(slim, planted):
    parallel = SLIMRecommender(l1=0.5, alpha=1.0, n_jobs=2).fit(planted.train)
    np.testing.assert_array_equal(parallel.coef_.toarray(), slim.coef_.toarray())


def test_slim_beats_popularity_and_round_trips(tmp_path, slim, planted, popularity_score):
    assert slim.score(planted.test_fold_in, planted.test_held_out) > popularity_score + 0.1
    joblib.dump(slim, tmp_path / "slim.joblib")
    loaded = joblib.load(tmp_path / "slim.joblib")
    np.testing.assert_array_equal(loaded.predict(planted.test_fold_in), slim.predict(planted.test_fold_in))


def test_slim_stronger_l1_is_sparser(planted):
    weak = SLIMRecommender(l1=0.1, alpha=0.1).fit(planted.train)
    strong = SLIMRecommender(l1=50.0, alpha=0.1).fit(planted.train)
    assert strong.coef_.nnz < weak.coef_.nnz


# --- WMF --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wmf(planted):
    pytest.importorskip("implicit")
    return WMFRecommender(n_factors=8, weight=5.0, alpha=0.1, n_jobs=1, random_state=0).fit(planted.train)


def test_wmf_folds_new_users_in_by_exact_least_squares(wmf, planted):
    X = planted.test_fold_in
    Y = wmf.item_factors_.astype(np.float64)
    scores = wmf.decision_function(X[:5])
    for u in range(5):
        x = X[[u]].toarray().ravel()
        # Hu et al.: confidence `weight` on consumed items, 1 elsewhere; preference = x.
        confidence = np.where(x > 0, 5.0, 1.0)
        A = Y.T @ (confidence[:, None] * Y) + 0.1 * np.eye(8)
        p = np.linalg.solve(A, Y.T @ (confidence * x))
        np.testing.assert_allclose(scores[u], Y @ p, rtol=1e-3, atol=1e-4)


def test_wmf_counts_and_beats_popularity(wmf, planted, popularity_score):
    m = planted.train.shape[1]
    assert wmf.item_factors_.shape == (m, 8)
    assert wmf.n_parameters_ == 8 * m and wmf.n_flops_ == 16 * m
    assert wmf.model_.user_factors is None  # training users are not kept
    assert wmf.score(planted.test_fold_in, planted.test_held_out) > popularity_score + 0.1


def test_wmf_round_trip_and_seed(tmp_path, wmf, planted):
    joblib.dump(wmf, tmp_path / "wmf.joblib")
    loaded = joblib.load(tmp_path / "wmf.joblib", mmap_mode="r")
    np.testing.assert_allclose(
        loaded.decision_function(planted.test_fold_in), wmf.decision_function(planted.test_fold_in), rtol=1e-5
    )
    again = WMFRecommender(n_factors=8, weight=5.0, alpha=0.1, n_jobs=1, random_state=0).fit(planted.train)
    np.testing.assert_array_equal(again.item_factors_, wmf.item_factors_)


# --- counts of the other baselines -------------------------------------------------


def test_ease_and_popularity_counts(planted):
    m = planted.train.shape[1]
    ease = EASERecommender(alpha=10.0).fit(planted.train)
    assert ease.n_parameters_ == m * (m - 1) and ease.n_flops_ == 2 * m * (m - 1)
    pop = PopularityRecommender().fit(planted.train)
    assert pop.n_parameters_ == m and pop.n_flops_ == 0
