"""Data-shaped defaults ("auto") and the paper's settings (sklearn_swdae.defaults)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.defaults import (
    auto_batch_size,
    auto_hidden_dropout,
    auto_n_clusters,
    auto_n_components,
    auto_overlap,
    paper_settings,
)
from sklearn_swdae.metrics import RecommendationScorer, catalog_coverage, mean_popularity_rank
from sklearn_swdae.training import EarlyStopping

# ML-20M as the paper uses it: 116,677 training users, 20,108 items.
ML20M_USERS, ML20M_ITEMS = 116_677, 20_108


def test_rules_give_the_papers_settings_at_its_scale():
    K = auto_n_clusters(ML20M_ITEMS, ML20M_USERS)
    assert 14_500 <= K <= 15_500  # the paper's K = 15,000 (60.3M parameters)
    R = auto_overlap(K, ML20M_ITEMS, ML20M_USERS)
    assert abs(R - 1500) <= 15 and abs(R - 0.1 * K) <= 15  # R = 0.1 K = 1,500
    assert auto_batch_size(round(0.9 * ML20M_USERS)) == 500
    assert auto_n_components(ML20M_USERS, ML20M_ITEMS) == 50
    assert auto_hidden_dropout(round(0.9 * ML20M_USERS)) == paper_settings()["hidden_dropout"] == 0.2


def test_rules_on_small_data():
    # More steps per epoch and more links per item than the paper's on small data.
    assert auto_batch_size(677) < 500
    assert 677 / auto_batch_size(677) >= 20
    K = auto_n_clusters(1417, 943)
    assert 1 <= K <= 1417
    assert auto_overlap(K, 1417, 943) > round(0.1 * K)


def test_hidden_dropout_grows_as_users_shrink():
    users = [1, 400, 1_000, 1_001, 1_500, 2_000, 2_999, 3_000, 4_349, 10**6]
    rates = [auto_hidden_dropout(n) for n in users]
    assert all(0.2 <= rate <= 0.5 for rate in rates)
    assert rates == sorted(rates, reverse=True)
    assert rates[:3] == [0.5, 0.5, 0.5] and rates[-3:] == [0.2, 0.2, 0.2]
    assert 0.2 < auto_hidden_dropout(2_000) < 0.5


@pytest.mark.parametrize("n_items", [1, 2, 10, 1000, 20_108, 41_140, 250_000])
def test_rules_stay_in_range(n_items):
    for n_users in (2, 1000, 10**6):
        K = auto_n_clusters(n_items, n_users)
        assert 1 <= K <= n_items
        R = auto_overlap(K, n_items, n_users)
        assert 1 <= R <= K


@pytest.mark.parametrize(
    "n_items, n_users",
    [(24_103, 5_219), (9_724, 610), (3_496, 6_034), (20_108, 116_677), (17_769, 463_435), (41_140, 571_355)],
)
def test_layer_is_never_sparser_than_the_papers(n_items, n_users):
    # R / K >= the paper's 0.1 (up to rounding) whatever the shape: few users
    # per item keep R small, so K must come down with it.
    K = auto_n_clusters(n_items, n_users)
    R = auto_overlap(K, n_items, n_users)
    assert R >= 0.1 * K - 1
    assert K <= round(0.75 * n_items)


def test_k_follows_the_links_on_sparse_catalogues():
    # citeulike-t's shape: 24,103 items, ~5,000 users; the paper's ratio alone
    # would give 18,077 groups for 300 links per item.
    assert auto_n_clusters(24_103, 5_219) == 3_000
    assert auto_n_clusters(3_496, 10**6) == round(0.75 * 3_496)  # many users: the ratio alone


def test_link_budget_bounds_large_catalogues():
    # A catalogue twice ML-20M's does not get twice its links.
    small, large = ML20M_ITEMS, 2 * ML20M_ITEMS
    links = [n * auto_overlap(auto_n_clusters(n, 10**6), n, 10**6) for n in (small, large)]
    assert links[1] <= 1.01 * links[0]


@pytest.mark.parametrize(
    "rule, args",
    [
        (auto_n_clusters, (0, 10)),
        (auto_batch_size, (0,)),
        (auto_hidden_dropout, (0,)),
        (auto_hidden_dropout, (1.5,)),
        (auto_overlap, (0, 10, 10)),
        (auto_n_components, (10, True)),
        (auto_n_clusters, (2.5, 10)),
        (auto_n_clusters, (10, 0)),
    ],
)
def test_rules_reject_bad_counts(rule, args):
    with pytest.raises(ValueError, match="must be an int"):
        rule(*args)


@pytest.fixture(scope="module")
def data():
    X, _ = make_interactions(400, 60, 6, density=0.1, random_state=0)
    return X


def test_grouper_records_what_auto_chose(data):
    grouper = ItemGrouper(random_state=0).fit(data)
    assert grouper.n_clusters_ == grouper.connectivity_.shape[0]
    assert grouper.n_clusters_ <= auto_n_clusters(60, 400)
    assert grouper.overlap_ == auto_overlap(grouper.n_clusters_, 60, 400)
    assert grouper.n_components_ == auto_n_components(*data.shape)
    assert (grouper.connectivity_.sum(axis=0) == grouper.overlap_).all()


def _duplicated_items(n_distinct=8, copies=3, n_users=300, seed=0):
    """Items that come in identical copies: only n_distinct embeddings."""
    rng = np.random.RandomState(seed)
    base = (rng.random_sample((n_users, n_distinct)) < 0.3).astype(np.float64)
    return sp.csr_array(np.repeat(base, copies, axis=1))


def test_k_above_distinct_embeddings_is_capped_with_our_warning():
    X = _duplicated_items()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grouper = ItemGrouper(n_clusters=20, overlap=2, n_components=5, random_state=0).fit(X)
    messages = [str(w.message) for w in caught]
    # Our warning says what was done; scikit-learn's raw one never shows.
    assert any("n_clusters=20 exceeds the 8 distinct item embeddings" in m for m in messages), messages
    assert not any("Number of distinct clusters" in m for m in messages), messages
    assert grouper.n_clusters_ == 8
    assert grouper.connectivity_.shape == (8, 24)
    # No empty group: every hidden unit has items.
    assert (grouper.connectivity_.sum(axis=1) > 0).all()


def test_auto_k_is_capped_silently():
    X = _duplicated_items()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # F below the rank of X (8): the embedding cannot tell copies apart.
        grouper = ItemGrouper(n_components=5, random_state=0).fit(X)
    assert grouper.n_clusters_ <= 8


@pytest.mark.parametrize("overlap", [True, False, np.True_])
def test_bool_overlap_is_rejected(data, overlap):
    with pytest.raises((ValueError, TypeError), match="overlap"):
        ItemGrouper(n_clusters=4, overlap=overlap, n_components=3).fit(data)


def test_int_and_float_overlap_differ(data):
    one = ItemGrouper(n_clusters=4, overlap=1, n_components=3, random_state=0).fit(data)
    every = ItemGrouper(n_clusters=4, overlap=1.0, n_components=3, random_state=0).fit(data)
    assert (one.overlap_, every.overlap_) == (1, 4)


def test_auto_n_components_on_tiny_data():
    X = sp.csr_array(np.eye(6, 5) + np.eye(6, 5, k=1))
    grouper = ItemGrouper(random_state=0).fit(X)
    assert grouper.n_components_ == 4


def test_grouper_feature_names_and_set_output(data):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(data.toarray(), columns=[f"item{i}" for i in range(60)])
    grouper = ItemGrouper(n_clusters=5, overlap=2, n_components=3, random_state=0).fit(frame)
    assert list(grouper.get_feature_names_out()) == list(frame.columns)
    assert grouper.set_output(transform="pandas") is grouper
    Xt = grouper.transform(frame)
    assert sp.issparse(Xt) and Xt.connectivity.shape == (5, 60)
    with pytest.raises(ValueError, match="transform"):
        grouper.set_output(transform="arrow")


def test_pipeline_set_output_pandas_keeps_the_groups(data):
    pytest.importorskip("pandas")
    pipe = make_pipeline(
        ItemGrouper(n_clusters=5, overlap=2, n_components=3, random_state=0),
        SparseWideDAERecommender(max_iter=2, device="cpu", random_state=0),
    ).set_output(transform="pandas")
    pipe.fit(data)
    recommender = pipe[-1]
    assert recommender.grouper_ is None  # the Pipeline's grouper made the mask
    assert recommender.connectivity_.shape == (5, 60)


def test_set_params_on_default_grouper():
    model = SparseWideDAERecommender()
    assert model.grouper is None
    model.set_params(grouper__n_clusters=5, grouper__overlap=2)
    assert isinstance(model.grouper, ItemGrouper)
    assert (model.grouper.n_clusters, model.grouper.overlap) == (5, 2)
    assert model.grouper.n_components == ItemGrouper().n_components  # the rest stays default


def test_grid_search_over_k_r_f_on_the_default_estimator(data):
    search = GridSearchCV(
        SparseWideDAERecommender(max_iter=2, device="cpu", random_state=0),
        {"grouper__n_clusters": [4, 8], "grouper__overlap": [1, 2], "grouper__n_components": [3]},
        scoring=RecommendationScorer(),
        cv=2,
    ).fit(data)
    assert set(search.cv_results_["param_grouper__n_clusters"]) == {4, 8}
    best = search.best_estimator_
    assert best.connectivity_.shape[0] == best.grouper.n_clusters


def test_default_fit_records_its_choices(data, capsys):
    model = SparseWideDAERecommender(max_iter=2, device="cpu", random_state=0, verbose=1).fit(data)
    n_train = data.shape[0] - round(0.1 * data.shape[0])
    assert model.batch_size_ == auto_batch_size(n_train)
    assert model.grouper_.n_clusters_ == model.connectivity_.shape[0]
    out = capsys.readouterr().out
    assert f"batch_size={model.batch_size_} (auto)" in out
    assert f"n_clusters={model.grouper_.n_clusters_} (auto)" in out
    assert f"overlap={model.grouper_.overlap_} (auto)" in out
    assert model.hidden_dropout_ == auto_hidden_dropout(n_train) == 0.5  # 360 training users
    assert f"hidden_dropout={model.hidden_dropout_} (auto)" in out
    assert model.module_.hidden_dropout == 0.5


def test_explicit_hidden_dropout_is_kept(data, capsys):
    model = SparseWideDAERecommender(hidden_dropout=0.1, max_iter=1, device="cpu", random_state=0, verbose=1)
    model.fit(data)
    assert model.hidden_dropout_ == model.module_.hidden_dropout == 0.1
    out = capsys.readouterr().out
    assert "hidden_dropout=0.1" in out and "hidden_dropout=0.1 (auto)" not in out


@pytest.mark.parametrize("value", ["half", 1.0, -0.1])
def test_bad_hidden_dropout_is_rejected(data, value):
    with pytest.raises(ValueError, match="hidden_dropout"):
        SparseWideDAERecommender(hidden_dropout=value, max_iter=1, device="cpu").fit(data)


def test_paper_settings_splat():
    model = SparseWideDAERecommender(**paper_settings(n_clusters=3000))
    assert (model.batch_size, model.max_iter, model.learning_rate) == (500, 100, 1e-3)
    assert (model.activation, model.input_dropout, model.hidden_dropout) == ("sigmoid", 0.6, 0.2)
    assert (model.grouper.n_clusters, model.grouper.overlap, model.grouper.n_components) == (3000, 0.1, 50)
    assert model.n_iter_no_change is None


def test_paper_settings_fit(data):
    params = paper_settings(n_clusters=10, n_components=5)
    model = SparseWideDAERecommender(**{**params, "max_iter": 2}, device="cpu", random_state=0).fit(data)
    assert model.batch_size_ == 500
    assert model.connectivity_.shape == (10, 60)
    assert model.grouper_.overlap_ == 1


def test_default_fit_stops_after_20_epochs_without_improvement(data):
    # Patience 20 by default (validation users: the same epoch as all 100
    # on every dataset measured, in less time); the paper's settings train
    # every epoch.
    model = SparseWideDAERecommender(max_iter=300, device="cpu", random_state=0).fit(data)
    assert model.n_iter_no_change == 20
    assert model.n_iter_ < 300
    assert EarlyStopping(20, model.tol).epochs_since_improvement(model.history_) == 20
    assert model.best_epoch_ >= model.n_iter_ - 20
    paper = SparseWideDAERecommender(**{**paper_settings(n_clusters=10, n_components=5), "max_iter": 30}, device="cpu")
    assert paper.fit(data).n_iter_ == 30


def test_explicit_batch_size_is_kept(data):
    model = SparseWideDAERecommender(batch_size=64, max_iter=1, device="cpu", random_state=0).fit(data)
    assert model.batch_size_ == 64


def test_coverage_and_popularity_rank():
    X = np.array([[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0]])
    same = [[0, 1], [0, 1]]
    personal = [[0, 1], [2, 3]]
    assert catalog_coverage(same, 4) == 0.5 < catalog_coverage(personal, 4) == 1.0
    assert mean_popularity_rank(same, X) == 1.5 < mean_popularity_rank(personal, X)
    assert catalog_coverage([[0, 4]], 4) == 0.25  # recommend's padding (n_items) ignored
    assert mean_popularity_rank([[0, 4]], X) == 1.0
    with pytest.raises(ValueError, match="top_items"):
        catalog_coverage([[0, 5]], 4)
    with pytest.raises(ValueError, match="n_items"):
        catalog_coverage([[0]], 0)


def test_models_saved_before_auto_hidden_dropout_load(data):
    # A pickle of an earlier version has the float parameter and no
    # hidden_dropout_; the module it rebuilds must score as before.
    model = SparseWideDAERecommender(hidden_dropout=0.3, max_iter=1, device="cpu", random_state=0).fit(data)
    state = model.__getstate__()
    del state["hidden_dropout_"]
    old = SparseWideDAERecommender.__new__(SparseWideDAERecommender)
    old.__setstate__(state)
    assert old.hidden_dropout_ == 0.3
    np.testing.assert_allclose(old.decision_function(data[:20]), model.decision_function(data[:20]), rtol=1e-6)
