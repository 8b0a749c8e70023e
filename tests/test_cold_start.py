"""Tests of the cold-start evaluation (paper section 5.8, Table 7)."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_swdae import EASERecommender, PopularityRecommender
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.metrics import evaluate_cold_start, evaluate_rankings
from sklearn_swdae.model_selection import strong_generalization_split

METRICS = ["recall@5", "recall@20", "ndcg@10"]


@pytest.fixture(scope="module")
def split():
    # Dispersed activity: many test users with short fold-ins, some long.
    X, _ = make_interactions(600, 80, 6, density=0.08, activity_dispersion=1.2, random_state=0)
    return strong_generalization_split(X, n_validation=0, n_test=200, random_state=0)


@pytest.fixture(scope="module")
def popularity(split):
    return PopularityRecommender().fit(split.train)


@pytest.mark.parametrize("max_history, min_history", [(4, 0), (8, 0), (12, 6), (1000, 0)])
def test_keeps_exactly_the_users_in_the_activity_band(split, popularity, max_history, min_history):
    fold_in = split.test_fold_in.toarray()
    held_out = split.test_held_out.toarray()
    expected = [
        u
        for u in range(fold_in.shape[0])
        if min_history <= (fold_in[u] > 0).sum() <= max_history and (held_out[u] > 0).any()
    ]
    assert expected, "the fixture must have users in every band tested"
    cold = evaluate_cold_start(
        popularity,
        split.test_fold_in,
        split.test_held_out,
        max_history=max_history,
        min_history=min_history,
        metrics=METRICS,
    )
    assert cold.users.tolist() == expected
    assert cold.n_users == len(expected)
    np.testing.assert_array_equal(cold.history_length, (fold_in[expected] > 0).sum(axis=1))


def test_threshold_removes_active_users(split, popularity):
    short = evaluate_cold_start(popularity, split.test_fold_in, split.test_held_out, max_history=5)
    everyone = evaluate_cold_start(popularity, split.test_fold_in, split.test_held_out, max_history=10**6)
    assert 0 < short.n_users < everyone.n_users
    assert set(short.users) < set(everyone.users)


@pytest.mark.parametrize("make_model", [PopularityRecommender, lambda: EASERecommender(alpha=50.0)])
def test_equals_evaluate_rankings_on_the_subset(split, make_model):
    model = make_model().fit(split.train)
    cold = evaluate_cold_start(model, split.test_fold_in, split.test_held_out, max_history=7, metrics=METRICS)
    full = evaluate_rankings(model.decision_function, split.test_fold_in, split.test_held_out, METRICS)
    for name in METRICS:
        np.testing.assert_allclose(cold.per_user[name], full[name][cold.users])
        values = full[name][cold.users]
        assert cold.mean[name] == pytest.approx(values.mean())
        assert cold.sem[name] == pytest.approx(values.std(ddof=1) / np.sqrt(values.size))


def test_accepts_a_score_function(split, popularity):
    by_model = evaluate_cold_start(popularity, split.test_fold_in, split.test_held_out, max_history=6)
    by_fn = evaluate_cold_start(popularity.decision_function, split.test_fold_in, split.test_held_out, max_history=6)
    for name in by_model.mean:
        np.testing.assert_array_equal(by_model.per_user[name], by_fn.per_user[name])


def test_single_user_has_nan_standard_error():
    fold_in = sp.csr_array(np.array([[1, 0, 0, 0], [1, 1, 1, 0]]))
    held_out = sp.csr_array(np.array([[0, 1, 0, 0], [0, 0, 0, 1]]))

    def scores(X):
        return np.tile([4.0, 3.0, 2.0, 1.0], (X.shape[0], 1))

    cold = evaluate_cold_start(scores, fold_in, held_out, max_history=1, metrics=["recall@1"])
    assert cold.users.tolist() == [0]
    assert cold.mean["recall@1"] == 1.0  # item 0 is seen, item 1 is ranked first
    assert np.isnan(cold.sem["recall@1"])


def test_bad_input(split, popularity):
    args = (popularity, split.test_fold_in, split.test_held_out)
    with pytest.raises(ValueError, match="min_history=5 must not exceed max_history=2"):
        evaluate_cold_start(*args, max_history=2, min_history=5)
    with pytest.raises(ValueError, match="No user has between"):
        evaluate_cold_start(*args, max_history=0)
    with pytest.raises(ValueError, match="Metric names look like"):
        evaluate_cold_start(*args, metrics=["recall20"])
    with pytest.raises(ValueError, match="same shape"):
        evaluate_cold_start(popularity, split.test_fold_in, split.test_held_out[:, :-1])
    with pytest.raises(ValueError, match="decision_function"):
        evaluate_cold_start(object(), split.test_fold_in, split.test_held_out)
    with pytest.raises(ValueError, match="max_history"):
        evaluate_cold_start(*args, max_history=-1)
