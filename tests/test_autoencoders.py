"""Tests of SparseWideDAERecommender, the shared training engine and composition."""

import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from conftest import recommender_expected_failed_checks
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_swdae import ItemGrouper, PopularityRecommender, SparseWideDAERecommender
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.layers import DenoisingAutoencoder
from sklearn_swdae.metrics import recommendation_scorers
from sklearn_swdae.model_selection import strong_generalization_split
from sklearn_swdae.training import BestEpoch, Callback, EarlyStopping, TrainingEngine


def _small_model(**params):
    """A model that fits in a fraction of a second, even on the tiny data of
    scikit-learn's common checks (a single feature or sample)."""
    defaults = dict(
        grouper=ItemGrouper(n_clusters=2, overlap=1, n_components=1, random_state=0),
        max_iter=2,
        batch_size=16,
        device="cpu",
        random_state=0,
    )
    defaults.update(params)
    return SparseWideDAERecommender(**defaults)


@parametrize_with_checks(
    [
        # On the checks' 1-3 items a one-dimensional embedding normalized to
        # unit rows puts every item at +1, one point for K-means' 2 clusters;
        # unnormalized, the items keep distinct coordinates.  With 20 users
        # or fewer there is no validation set to hold out.
        _small_model(
            grouper=ItemGrouper(n_clusters=2, overlap=1, n_components=1, normalize=None, random_state=0),
            validation_fraction=None,
        ),
        PopularityRecommender(),
    ],
    expected_failed_checks=recommender_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _quick_model(**params):
    """A small model for the planted data below."""
    params.setdefault("grouper", ItemGrouper(n_clusters=6, overlap=2, n_components=3, random_state=0))
    return _small_model(**params)


@pytest.fixture(scope="module")
def planted():
    X, groups = make_interactions(1500, 100, 10, density=0.08, groups_per_user=1, noise=0.05, random_state=0)
    return strong_generalization_split(X, n_validation=100, n_test=300, random_state=0)


@pytest.fixture(scope="module")
def fitted(planted):
    model = SparseWideDAERecommender(
        grouper=ItemGrouper(n_clusters=30, overlap=0.1, n_components=10, random_state=0),
        batch_size=50,
        learning_rate=0.01,
        max_iter=8,
        device="cpu",
        random_state=0,
    )
    return model.fit(planted.train)


def test_beats_popularity_on_planted_groups(planted, fitted):
    swdae = fitted.score(planted.test_fold_in, planted.test_held_out)
    popularity = PopularityRecommender().fit(planted.train)
    pop = popularity.score(planted.test_fold_in, planted.test_held_out)
    assert swdae > pop + 0.1, (swdae, pop)


def test_masked_weights_are_zero_at_init_and_after_training(planted):
    grouper = ItemGrouper(n_clusters=20, overlap=3, n_components=5, random_state=0).fit(planted.train)
    mask = grouper.connectivity_.toarray()
    model = SparseWideDAERecommender(connectivity=mask, max_iter=1, device="cpu", random_state=0)
    model.fit(planted.train)
    built = model._build_module(planted.train.shape[1], np.random.RandomState(0))
    for module in (built, model.module_):
        encoder = module.encoder.weight.detach().numpy()
        decoder = module.decoder.weight.detach().numpy()
        assert encoder.shape == mask.shape and decoder.shape == mask.T.shape
        assert np.all(encoder[~mask] == 0.0) and np.all(decoder[~mask.T] == 0.0)
    # ...and training did move the live weights.
    trained = model.module_.encoder.weight.detach().numpy()
    initial = built.encoder.weight.detach().numpy()
    assert np.abs(trained[mask] - initial[mask]).max() > 0


def test_history_best_epoch_and_validation(fitted):
    assert fitted.n_iter_ == 8 == len(fitted.history_)
    keys = {"epoch", "train_loss", "ndcg@100", "recall@20", "recall@50", "dur"}
    assert keys <= set(fitted.history_[0])
    best = max(fitted.history_, key=lambda r: r["ndcg@100"])
    assert fitted.best_epoch_ == best["epoch"]
    assert fitted.connectivity_.shape == (30, fitted.n_features_in_)
    assert fitted.grouper_ is not None and fitted.grouper_ is not fitted.grouper


def test_early_stopping_stops_before_max_iter(planted):
    model = SparseWideDAERecommender(
        grouper=ItemGrouper(n_clusters=10, overlap=2, n_components=5, random_state=0),
        max_iter=50,
        n_iter_no_change=2,
        tol=1.0,  # no improvement can reach it: stops after 1 + 2 epochs
        device="cpu",
        random_state=0,
    ).fit(planted.train)
    assert model.n_iter_ == 3
    # The best epoch is still kept, even if it improved by less than tol.
    best = max(model.history_, key=lambda r: r["ndcg@100"])
    assert model.best_epoch_ == best["epoch"]


def test_callback_observes_and_can_stop(planted):
    class StopAtTwo(Callback):
        def __init__(self):
            self.seen = []

        def on_epoch_end(self, engine, record):
            self.seen.append(record["epoch"])
            if record["epoch"] == 2:
                engine.stop_training = True

    callback = StopAtTwo()
    model = _quick_model(max_iter=10, callbacks=[callback], validation_fraction=None)
    model.fit(planted.train)
    assert callback.seen == [1, 2]
    assert model.n_iter_ == 2 and model.best_epoch_ == 2


def test_predict_excludes_seen_items_and_is_sorted(planted, fitted):
    X = planted.test_fold_in
    items, scores = fitted.recommend(X, top_n=20, return_scores=True)
    assert items.shape == (X.shape[0], 20)
    dense = X.toarray() > 0
    for u in range(X.shape[0]):
        assert not dense[u, items[u][items[u] < X.shape[1]]].any()
    assert np.all(np.diff(scores, axis=1) <= 0)
    decision = fitted.decision_function(X)
    np.testing.assert_allclose(np.take_along_axis(decision, items, axis=1), scores, rtol=1e-6)
    assert fitted.predict(X).shape == (X.shape[0], fitted.top_n)
    with_seen = fitted.recommend(X, top_n=5, exclude_seen=False)
    np.testing.assert_array_equal(with_seen, np.argsort(-decision, axis=1, kind="stable")[:, :5])


@pytest.mark.parametrize("top_n", [0, -1, 101, 2.5, True])
def test_recommend_rejects_bad_top_n(fitted, planted, top_n):
    with pytest.raises(ValueError, match="top_n"):
        fitted.recommend(planted.test_fold_in, top_n=top_n)


def test_predict_rejects_wrong_number_of_items(fitted):
    with pytest.raises(ValueError, match="features"):
        fitted.predict(sp.csr_array(np.ones((2, fitted.n_features_in_ + 1))))


def test_same_seed_same_model(planted):
    a = _quick_model(max_iter=2).fit(planted.train)
    b = _quick_model(max_iter=2).fit(planted.train)
    np.testing.assert_array_equal(a.connectivity_.toarray(), b.connectivity_.toarray())
    np.testing.assert_array_equal(a.decision_function(planted.test_fold_in), b.decision_function(planted.test_fold_in))


@pytest.mark.parametrize("loss", ["multinomial", "bernoulli"])
def test_both_losses_train(planted, loss):
    model = _quick_model(loss=loss, max_iter=3, validation_fraction=None).fit(planted.train)
    losses = [r["train_loss"] for r in model.history_]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_pickle_and_joblib_round_trip(tmp_path, planted, fitted):
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(planted.test_fold_in), fitted.predict(planted.test_fold_in))
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        again.decision_function(planted.test_fold_in), fitted.decision_function(planted.test_fold_in)
    )
    # Pickling must not alter the live model.
    assert fitted.module_ is not None


def test_clone_and_params():
    model = SparseWideDAERecommender(grouper=ItemGrouper(n_clusters=7), max_iter=3)
    params = model.get_params()
    assert params["grouper__n_clusters"] == 7 and params["max_iter"] == 3
    cloned = clone(model).set_params(grouper__n_clusters=9, loss="bernoulli")
    assert cloned.grouper.n_clusters == 9 and model.grouper.n_clusters == 7


def test_connectivity_parameter_validation(planted):
    n_items = planted.train.shape[1]
    with pytest.raises(ValueError, match="shape"):
        _quick_model(grouper=None, connectivity=np.ones((3, n_items + 1), bool)).fit(planted.train)
    mask = np.ones((3, n_items), bool)
    mask[:, 5] = False
    with pytest.raises(ValueError, match="without any link"):
        _quick_model(grouper=None, connectivity=mask).fit(planted.train)


@pytest.mark.parametrize("device", ["tpu", "cuda:x", 3])
def test_bad_device_raises(planted, device):
    with pytest.raises(ValueError, match="device"):
        _quick_model(device=device).fit(planted.train)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without a GPU")
def test_cuda_without_gpu_is_a_clear_error(planted):
    with pytest.raises(ValueError, match="no CUDA device"):
        _quick_model(device="cuda").fit(planted.train)


def test_auto_device_falls_back_to_cpu(planted):
    model = _quick_model(device="auto", max_iter=1).fit(planted.train)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device_.type == expected


def test_pipeline_with_grouper_step_and_memory(tmp_path, planted):
    pipe = make_pipeline(
        ItemGrouper(n_clusters=10, overlap=2, n_components=5, random_state=0),
        SparseWideDAERecommender(max_iter=2, device="cpu", random_state=0),
        memory=joblib.Memory(tmp_path, verbose=0),
    )
    pipe.fit(planted.train)
    model = pipe[-1]
    np.testing.assert_array_equal(model.connectivity_.toarray(), pipe[0].connectivity_.toarray())
    assert model.grouper_ is None  # the structure came from the pipeline step
    assert pipe.predict(planted.test_fold_in).shape == (planted.test_fold_in.shape[0], 100)
    assert 0 <= pipe.score(planted.validation_fold_in) <= 1

    # Changing only model parameters must reuse the cached grouper.
    fits = []
    original_fit = ItemGrouper.fit

    def counting_fit(self, X, y=None):
        fits.append(1)
        return original_fit(self, X, y)

    ItemGrouper.fit = counting_fit
    try:
        pipe.set_params(sparsewidedaerecommender__max_iter=1).fit(planted.train)
        assert fits == []
        pipe.set_params(itemgrouper__n_clusters=11).fit(planted.train)
        assert fits == [1]
    finally:
        ItemGrouper.fit = original_fit


def test_grouper_in_pipeline_and_parameter_conflict(planted):
    pipe = make_pipeline(
        ItemGrouper(n_clusters=10, overlap=2, n_components=5, random_state=0),
        SparseWideDAERecommender(grouper=ItemGrouper(n_clusters=4), max_iter=1, device="cpu"),
    )
    with pytest.raises(ValueError, match="grouper"):
        pipe.fit(planted.train)


def test_grid_search_over_grouper_params(planted):
    search = GridSearchCV(
        _quick_model(grouper=ItemGrouper(n_components=5, random_state=0), max_iter=1),
        {"grouper__n_clusters": [5, 10], "grouper__overlap": [1, 0.2], "grouper__n_components": [3]},
        cv=KFold(2),
        scoring=recommendation_scorers(),
        refit="ndcg@100",
    )
    search.fit(planted.train)
    assert len(search.cv_results_["params"]) == 4
    assert {"mean_test_recall@20", "mean_test_recall@50", "mean_test_ndcg@100"} <= set(search.cv_results_)
    assert search.best_estimator_.connectivity_.shape[0] == search.best_params_["grouper__n_clusters"]


def test_grid_search_over_pipeline(planted):
    pipe = make_pipeline(
        ItemGrouper(n_components=5, random_state=0),
        SparseWideDAERecommender(max_iter=1, device="cpu", random_state=0),
    )
    search = GridSearchCV(
        pipe,
        {
            "itemgrouper__n_clusters": [6, 12],
            "itemgrouper__overlap": [2],
            "itemgrouper__n_components": [4, 5],
            "sparsewidedaerecommender__hidden_dropout": [0.2],
        },
        cv=KFold(2),
    )
    search.fit(planted.train)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.predict(planted.test_fold_in).shape[0] == planted.test_fold_in.shape[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a CPU-only machine")
def test_model_saved_on_gpu_loads_on_cpu(planted, fitted):
    # A GPU-trained model pickles its weights as CPU tensors and records its
    # device; on a machine without CUDA it must come back on the CPU.
    state = fitted.__getstate__()
    state["device_"] = "cuda:0"
    loaded = SparseWideDAERecommender.__new__(SparseWideDAERecommender)
    loaded.__setstate__(state)
    assert loaded.device_.type == "cpu"
    np.testing.assert_array_equal(loaded.predict(planted.test_fold_in), fitted.predict(planted.test_fold_in))


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: EarlyStopping(0, 1e-4), ValueError, "n_iter_no_change == 0, must be >= 1"),
        (lambda: EarlyStopping(2.5, 1e-4), TypeError, "n_iter_no_change must be an instance of int"),
        (lambda: EarlyStopping(3, -1.0), ValueError, "tol == -1.0, must be >= 0"),
        (lambda: EarlyStopping(3, 1e-4, metric="ndcg@10"), ValueError, "metric must be one of"),
        (lambda: BestEpoch(metric="loss"), ValueError, "metric must be one of"),
    ],
)
def test_selection_callbacks_reject_bad_parameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_adam_is_fused_where_supported_and_falls_back(monkeypatch):
    import torch

    from sklearn_swdae import training

    def parameters():
        torch.manual_seed(0)
        return [torch.nn.Parameter(torch.randn(50)), torch.nn.Parameter(torch.randn(4, 5))]

    def run(optimizer_params):
        optimizer = training._adam(optimizer_params, 1e-2, 1e-4)
        for _ in range(3):
            optimizer.zero_grad()
            sum((p**2).sum() for p in optimizer_params).backward()
            optimizer.step()
        return optimizer

    fused_params, plain_params = parameters(), parameters()
    fused = run(fused_params)
    real_adam = torch.optim.Adam

    def no_fused_kernel(params, **kwargs):
        if kwargs.get("fused"):
            raise RuntimeError("fused=True requires all the params to be ... of supported devices")
        return real_adam(params, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", no_fused_kernel)
    plain = run(plain_params)
    assert not plain.defaults.get("fused")
    # The fused kernel is the same update up to round-off.
    for a, b in zip(fused_params, plain_params):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    supported = True
    try:
        real_adam([torch.nn.Parameter(torch.zeros(1))], fused=True)
    except (RuntimeError, TypeError, ValueError):
        supported = False
    assert bool(fused.defaults.get("fused")) == supported


class _RecordingEngine(TrainingEngine):
    """Keeps a copy of the trained weights after every step."""

    def train_step(self, batch):
        loss = super().train_step(batch)
        self.trained.append([p.detach().clone() for p in self.module.parameters()])
        return loss


def _recording_engine(X, half_life, max_iter=3):
    rng = np.random.RandomState(0)
    module = DenoisingAutoencoder(X.shape[1], 8, None, "tanh", 0.5, 0.0, rng)

    def loss(output, targets):
        return -(torch.log_softmax(output.logits, 1) * targets).sum(1).mean()

    engine = _RecordingEngine(
        module, loss, device=torch.device("cpu"), learning_rate=1e-2, alpha=0.0, batch_size=30,
        max_iter=max_iter, n_iter_no_change=None, tol=0.0, callbacks=[], random_state=rng,
        average_half_life=half_life,
    )  # fmt: skip
    engine.trained = []
    initial = [p.detach().clone() for p in module.parameters()]
    return engine, initial


def test_weight_average_follows_its_definition_and_is_what_the_module_keeps():
    X, _ = make_interactions(100, 20, 2, density=0.2, random_state=0)
    engine, average = _recording_engine(X, half_life=0.5)
    engine.fit(X)
    steps_per_epoch = 4  # ceil(100 / 30)
    decay = 0.5 ** (1 / (0.5 * steps_per_epoch))
    for step, trained in enumerate(engine.trained):
        weight = 1 - min(decay, (1 + step) / (10 + step))
        average = [a + weight * (t - a) for a, t in zip(average, trained)]
    assert len(engine.trained) == 3 * steps_per_epoch
    # Without validation the module ends with the last average, not the
    # last step's weights.
    for kept, expected, last in zip(engine.module.parameters(), average, engine.trained[-1]):
        np.testing.assert_allclose(kept.detach().numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
        assert not torch.allclose(kept.detach(), last)


def test_validation_scores_and_keeps_the_averaged_weights():
    X, _ = make_interactions(240, 30, 3, density=0.2, random_state=0)
    split = strong_generalization_split(X, n_validation=60, n_test=1, random_state=0)
    validation = (split.validation_fold_in, split.validation_held_out)
    averaged, _ = _recording_engine(split.train, half_life=1.0, max_iter=4)
    averaged.fit(split.train, validation)
    plain, _ = _recording_engine(split.train, half_life=None, max_iter=4)
    plain.fit(split.train, validation)
    # Averaging never changes the training trajectory ...
    for a, b in zip(averaged.trained[-1], plain.trained[-1]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        [r["train_loss"] for r in averaged.history], [r["train_loss"] for r in plain.history], rtol=1e-5
    )
    # ... only what is scored and kept: the module ends with the weights
    # that scored the best epoch's record.
    assert [r["ndcg@100"] for r in averaged.history] != [r["ndcg@100"] for r in plain.history]
    best = averaged.history[averaged.best_epoch - 1]
    assert averaged.validate(*validation)["ndcg@100"] == pytest.approx(best["ndcg@100"], abs=1e-6)


def test_swdae_averages_by_default_and_the_paper_settings_do_not(planted):
    from sklearn_swdae.defaults import paper_settings

    assert SparseWideDAERecommender().average_half_life == 1.0
    assert paper_settings()["average_half_life"] is None
    averaged = _quick_model(max_iter=3, average_half_life=2.0).fit(planted.train)
    plain = _quick_model(max_iter=3, average_half_life=None).fit(planted.train)
    np.testing.assert_allclose(
        [r["train_loss"] for r in averaged.history_], [r["train_loss"] for r in plain.history_], rtol=1e-5
    )
    assert not np.allclose(
        averaged.decision_function(planted.test_fold_in), plain.decision_function(planted.test_fold_in)
    )


@pytest.mark.parametrize("value", [0, -1.0, "1"])
def test_average_half_life_is_validated(planted, value):
    with pytest.raises((ValueError, TypeError), match="average_half_life"):
        _quick_model(average_half_life=value).fit(planted.train)


@pytest.mark.parametrize(
    "value, error, match",
    [
        (0, ValueError, "average_half_life == 0, must be > 0"),
        (-1.0, ValueError, "average_half_life == -1.0, must be > 0"),
        (float("inf"), ValueError, "average_half_life must be a finite number"),
        ("1", TypeError, "average_half_life must be an instance of"),
    ],
)
def test_engine_rejects_bad_average_half_life(value, error, match):
    X, _ = make_interactions(60, 20, 2, density=0.2, random_state=0)
    with pytest.raises(error, match=match):
        _recording_engine(X, half_life=value)
