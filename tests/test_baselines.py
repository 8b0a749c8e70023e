"""Tests of the baselines of the paper's comparison: FC-DAE, Mult-DAE,
Mult-VAE and EASE, and of n_parameters_ for every autoencoder (the other
baselines' own tests are in test_structure_learning.py and
test_linear_baselines.py; every baseline passes the common checks here)."""

import warnings

import joblib
import numpy as np
import pytest
import torch
from conftest import recommender_expected_failed_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

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
from sklearn_swdae.autoencoders._losses import AnnealedNegativeELBO
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.layers import (
    AutoencoderOutput,
    DenoisingAutoencoder,
    VariationalAutoencoder,
    l2_normalize_rows,
    sparse_dropout,
)
from sklearn_swdae.model_selection import strong_generalization_split

# The common checks fit on 20 users or fewer: too few for a validation set
# (that case warns, see test_too_few_validation_items_warns_and_keeps_the_last_epoch).
_SMALL = dict(max_iter=2, batch_size=16, device="cpu", random_state=0, validation_fraction=None)


@parametrize_with_checks(
    [
        FCDAERecommender(n_hidden=4, **_SMALL),
        MultDAERecommender(n_hidden=4, **_SMALL),
        MultVAERecommender(n_hidden=4, n_latent=2, **_SMALL),
        EASERecommender(),
        FCDAERecommender(n_hidden=4, activity_l1=1e-3, **_SMALL),
        PrunedDAERecommender(n_hidden=4, sparsity=0.5, retrain_iter=1, **_SMALL),
        CDAERecommender(n_hidden=4, **_SMALL),
        SLIMRecommender(l1=0.1, alpha=0.1),
        WMFRecommender(n_factors=2, max_iter=2, n_jobs=1, random_state=0),
    ],
    expected_failed_checks=recommender_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_too_few_validation_items_warns_and_keeps_the_last_epoch():
    # 20 users of 3 items: the 2 validation users cannot spare 5 items each.
    X = np.zeros((20, 6), dtype=np.float32)
    X[:, :3] = 1.0
    model = FCDAERecommender(n_hidden=4, max_iter=2, batch_size=16, device="cpu", random_state=0)
    with pytest.warns(UserWarning, match="None of the 2 validation users has the 5 items"):
        model.fit(X)
    assert model.best_epoch_ == model.n_iter_ == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.set_params(validation_fraction=None).fit(X)


@pytest.fixture(scope="module")
def planted():
    X, _ = make_interactions(1500, 100, 10, density=0.08, groups_per_user=1, noise=0.05, random_state=0)
    return strong_generalization_split(X, n_validation=100, n_test=300, random_state=0)


def _autoencoders(**params):
    params = {**dict(batch_size=100, learning_rate=0.01, device="cpu", random_state=0), **params}
    return [
        FCDAERecommender(n_hidden=16, **params),
        MultDAERecommender(n_hidden=16, **params),
        MultVAERecommender(n_hidden=32, n_latent=8, total_anneal_steps=50, **params),
        SparseWideDAERecommender(
            grouper=ItemGrouper(n_clusters=10, overlap=2, n_components=5, random_state=0), **params
        ),
    ]


@pytest.fixture(scope="module")
def trained(planted):
    return [model.fit(planted.train) for model in _autoencoders(max_iter=5, validation_fraction=None)]


# --- EASE -------------------------------------------------------------------


def test_ease_matches_explicit_closed_form():
    X = (np.random.RandomState(0).rand(30, 8) < 0.3).astype(float)
    l2 = 2.0
    model = EASERecommender(alpha=l2).fit(X)
    # Steck (2019): B = I - P diagMat(1 / diag(P)), P = (X^T X + l2 I)^-1.
    P = np.linalg.solve(X.T @ X + l2 * np.eye(8), np.eye(8))
    B = np.eye(8) - P / np.diag(P)
    np.testing.assert_allclose(np.diag(B), 0.0, atol=1e-12)
    np.testing.assert_allclose(model.coef_, B, rtol=1e-5, atol=1e-6)
    assert np.all(np.diag(model.coef_) == 0)
    np.testing.assert_allclose(model.decision_function(X), X @ B, rtol=1e-4, atol=1e-5)


def test_ease_beats_popularity(planted):
    ease = EASERecommender(alpha=10.0).fit(planted.train)
    pop = PopularityRecommender().fit(planted.train)
    ease_score = ease.score(planted.test_fold_in, planted.test_held_out)
    pop_score = pop.score(planted.test_fold_in, planted.test_held_out)
    assert ease_score > pop_score + 0.1, (ease_score, pop_score)


# --- structure and n_parameters_ ----------------------------------------------


def test_fcdae_is_fully_connected(trained):
    model = trained[0]
    K, m = 16, model.n_features_in_
    assert model.module_.encoder.mask is None and model.module_.decoder.mask is None
    assert model.n_parameters_ == 2 * K * m + K + m


def test_swdae_counts_only_live_weights(trained):
    model = trained[3]
    K, m = model.connectivity_.shape
    assert model.n_parameters_ == 2 * model.connectivity_.nnz + K + m
    assert model.n_parameters_ < 2 * K * m + K + m


def test_multvae_parameter_count(trained):
    model = trained[2]
    m, H, L = model.n_features_in_, 32, 8
    assert model.n_parameters_ == (m + 1) * H + (H + 1) * 2 * L + (L + 1) * H + (H + 1) * m


# --- Mult-DAE input normalization -----------------------------------------------


def test_l2_normalize_rows_sparse_and_dense():
    dense = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [3.0, 0.0, 4.0]])
    sparse = l2_normalize_rows(dense.to_sparse().coalesce()).to_dense()
    expected = torch.tensor([[2**-0.5, 2**-0.5, 0.0], [0.0, 0.0, 0.0], [0.6, 0.0, 0.8]])
    torch.testing.assert_close(sparse, expected)
    torch.testing.assert_close(l2_normalize_rows(dense), expected)


def test_multdae_normalizes_before_dropout(monkeypatch):
    import sklearn_swdae.layers as layers

    seen = []

    def spy(x, p, generator):
        seen.append(x.to_dense().norm(dim=1))
        return sparse_dropout(x, p, generator)

    monkeypatch.setattr(layers, "sparse_dropout", spy)
    rng = np.random.RandomState(0)
    module = DenoisingAutoencoder(6, 3, None, "tanh", 0.5, 0.0, rng, normalize_input=True)
    module.generator = torch.Generator().manual_seed(0)
    x = torch.tensor([[1.0, 1.0, 1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]]).to_sparse()
    module.train()(x)
    torch.testing.assert_close(seen[0], torch.ones(2))
    # Prediction normalizes too: the scores do not depend on the row's scale.
    module.eval()
    torch.testing.assert_close(module(x), module((2 * x.to_dense()).to_sparse()))


# --- Mult-VAE ----------------------------------------------------------------


def test_kl_annealing_schedule():
    loss = AnnealedNegativeELBO(anneal_cap=0.2, total_anneal_steps=10)
    logits, targets = torch.zeros(2, 4), torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]])
    nll = float(-torch.log_softmax(logits, 1)[0, 0])
    betas = []
    for step in range(5):
        value = loss(AutoencoderOutput(logits, kl=torch.tensor(3.0)), targets)
        betas.append(loss.beta)
        assert float(value) == pytest.approx(nll + min(0.2, step / 10) * 3.0)
    assert betas == pytest.approx([0.0, 0.1, 0.2, 0.2, 0.2])


def test_multvae_records_anneal_state(trained, planted):
    model = trained[2]
    n_batches = -(-planted.train.shape[0] // 100)
    assert model.n_updates_ == 5 * n_batches
    assert model.beta_ == pytest.approx(min(0.2, (model.n_updates_ - 1) / 50))


def test_multvae_predicts_from_the_mean(trained, planted):
    model = trained[2]
    X = planted.test_fold_in
    np.testing.assert_array_equal(model.decision_function(X), model.decision_function(X))
    mu, _ = model.module_.encode(torch.as_tensor(X.toarray()))
    with torch.no_grad():
        expected = model.module_.decode(mu).numpy()
    np.testing.assert_allclose(model.decision_function(X), expected, rtol=1e-5, atol=1e-5)


def test_vae_training_forward_samples_and_records_kl():
    module = VariationalAutoencoder(5, 4, 2, "tanh", 0.0, np.random.RandomState(0))
    x = torch.ones(3, 5).to_sparse()
    module.generator = torch.Generator().manual_seed(0)
    output = module.train().forward_output(x)
    first = output.logits
    assert output.kl is not None and float(output.kl.detach()) >= 0
    assert "kl" not in vars(module)  # the forward pass leaves nothing on the module
    module.generator = torch.Generator().manual_seed(1)
    assert not torch.allclose(first, module(x))
    module.generator = torch.Generator().manual_seed(0)
    torch.testing.assert_close(first, module(x))


def test_multvae_same_seed_same_model(planted):
    fit = lambda: MultVAERecommender(  # noqa: E731
        n_hidden=16, n_latent=4, max_iter=2, batch_size=200, device="cpu", random_state=3
    ).fit(planted.train)
    np.testing.assert_array_equal(
        fit().decision_function(planted.test_fold_in), fit().decision_function(planted.test_fold_in)
    )


# --- all autoencoders ------------------------------------------------------------


@pytest.mark.parametrize("index", range(4), ids=["fcdae", "multdae", "multvae", "swdae"])
def test_training_loss_decreases(trained, index):
    losses = [record["train_loss"] for record in trained[index].history_]
    assert len(losses) == 5 and losses[-1] < losses[0], losses


@pytest.mark.parametrize("index", range(4), ids=["fcdae", "multdae", "multvae", "swdae"])
def test_joblib_round_trip(tmp_path, trained, planted, index):
    model = trained[index]
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(planted.test_fold_in), model.predict(planted.test_fold_in))
    assert loaded.n_parameters_ == model.n_parameters_


def test_ease_joblib_round_trip(tmp_path, planted):
    model = EASERecommender(alpha=10.0).fit(planted.train)
    joblib.dump(model, tmp_path / "ease.joblib")
    loaded = joblib.load(tmp_path / "ease.joblib")
    np.testing.assert_array_equal(loaded.predict(planted.test_fold_in), model.predict(planted.test_fold_in))
