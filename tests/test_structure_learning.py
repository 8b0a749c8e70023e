"""Tests of the other structure-learning baselines of the paper (section 5.6):
FC-Prune (PrunedDAERecommender), FC-reg (activity_l1), CDAE, SW-DAE-p
(n_clusters_for_parameters) and the flops count of every autoencoder."""

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone

from sklearn_swdae import (
    CDAERecommender,
    FCDAERecommender,
    ItemGrouper,
    MultDAERecommender,
    MultVAERecommender,
    PrunedDAERecommender,
    SparseWideDAERecommender,
    n_clusters_for_parameters,
)
from sklearn_swdae.autoencoders._fully_connected import _magnitude_mask
from sklearn_swdae.autoencoders._losses import ActivityL1Loss, MultinomialLoss
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.layers import DenoisingAutoencoder, count_flops
from sklearn_swdae.model_selection import strong_generalization_split
from sklearn_swdae.training import Callback

_FAST = dict(batch_size=100, learning_rate=0.01, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def planted():
    X, _ = make_interactions(800, 80, 8, density=0.08, groups_per_user=1, noise=0.05, random_state=0)
    return strong_generalization_split(X, n_validation=80, n_test=160, random_state=0)


# --- FC-Prune ------------------------------------------------------------------


def test_magnitude_mask_keeps_the_largest_entries():
    weight = torch.tensor([[0.1, -3.0, 0.5], [2.0, -0.2, 0.05]])
    mask = _magnitude_mask(weight, sparsity=0.5)
    np.testing.assert_array_equal(mask, [[False, True, True], [True, False, False]])
    assert _magnitude_mask(weight, sparsity=0.99).sum() == 1  # never prunes everything


@pytest.fixture(scope="module")
def pruned(planted):
    model = PrunedDAERecommender(n_hidden=10, sparsity=0.7, max_iter=4, retrain_iter=3, **_FAST)
    return model.fit(planted.train)


def test_pruning_removes_the_sparsity_fraction_of_each_layer(pruned, planted):
    K, m = 10, planted.train.shape[1]
    assert pruned.encoder_mask_.shape == (K, m) and pruned.decoder_mask_.shape == (m, K)
    n_keep = round(0.3 * K * m)
    assert pruned.encoder_mask_.nnz == pruned.decoder_mask_.nnz == n_keep
    assert pruned.n_parameters_ == 2 * n_keep + K + m
    assert pruned.n_flops_ == 4 * n_keep
    # Pruned per layer: the decoder's mask is not the encoder's transpose.
    assert (pruned.encoder_mask_.T != pruned.decoder_mask_).nnz > 0


def test_pruned_weights_stay_zero_and_the_rest_trains(pruned):
    for name in ("encoder", "decoder"):
        layer = getattr(pruned.module_, name)
        mask = torch.from_numpy(getattr(pruned, name + "_mask_").toarray())
        weight = layer.effective_weight().detach()
        assert torch.all(weight[~mask] == 0)
        assert torch.count_nonzero(weight[mask]) == mask.sum()


def test_pruning_has_two_engine_phases(pruned):
    assert len(pruned.pretrain_history_) == 4 and len(pruned.history_) == 3
    assert pruned.n_iter_ == 7
    assert 1 <= pruned.pretrain_best_epoch_ <= 4 and 1 <= pruned.best_epoch_ <= 3


def test_retraining_starts_from_the_pruned_trained_weights(planted):
    class Snapshots(Callback):
        def __init__(self):
            self.begin, self.end = [], []

        def on_train_begin(self, engine):
            self.begin.append(engine.module.encoder.effective_weight().detach().clone())

        def on_train_end(self, engine):
            self.end.append(engine.module.encoder.effective_weight().detach().clone())

    snapshots = Snapshots()
    model = PrunedDAERecommender(
        n_hidden=6, sparsity=0.6, max_iter=3, retrain_iter=2, callbacks=[snapshots], **_FAST
    ).fit(planted.train)
    assert len(snapshots.begin) == len(snapshots.end) == 2
    mask = torch.from_numpy(model.encoder_mask_.toarray())
    # Phase 2 begins with phase 1's kept (best-epoch) weights, the others zeroed.
    torch.testing.assert_close(snapshots.begin[1], snapshots.end[0] * mask)
    kept = snapshots.end[0].abs()[mask]
    assert kept.min() >= snapshots.end[0].abs()[~mask].max()


def test_refit_forgets_the_previous_masks(planted):
    model = PrunedDAERecommender(n_hidden=5, sparsity=0.5, max_iter=1, retrain_iter=1, **_FAST)
    model.fit(planted.train)
    first = model.encoder_mask_.nnz
    model.set_params(sparsity=0.9).fit(planted.train)
    assert model.encoder_mask_.nnz < first
    assert model.encoder_mask_.nnz == round(0.1 * 5 * planted.train.shape[1])


def test_pruned_joblib_round_trip(tmp_path, pruned, planted):
    joblib.dump(pruned, tmp_path / "pruned.joblib")
    loaded = joblib.load(tmp_path / "pruned.joblib")
    np.testing.assert_array_equal(
        loaded.decision_function(planted.test_fold_in), pruned.decision_function(planted.test_fold_in)
    )
    assert loaded.n_parameters_ == pruned.n_parameters_


# --- FC-reg ----------------------------------------------------------------------


def test_activity_l1_loss_adds_the_penalty():
    rng = np.random.RandomState(0)
    module = DenoisingAutoencoder(5, 3, None, "sigmoid", 0.0, 0.0, rng)
    x = torch.tensor([[1.0, 0, 1, 0, 0], [0, 1, 0, 0, 1]]).to_sparse()
    output = module.train().forward_output(x)
    targets = x.to_dense()
    hidden = torch.sigmoid(module.encoder(x))
    torch.testing.assert_close(output.hidden, hidden)
    expected = MultinomialLoss()(output, targets) + 0.5 * hidden.abs().sum(1).mean()
    torch.testing.assert_close(ActivityL1Loss(MultinomialLoss(), 0.5)(output, targets), expected)
    assert ActivityL1Loss(MultinomialLoss(), 0.5).sparse_targets
    assert "hidden" not in vars(module)  # the forward pass leaves no graph on the module


def test_activity_l1_sparsifies_the_hidden_layer(planted):
    params = dict(n_hidden=16, max_iter=5, validation_fraction=None, **_FAST)
    plain = FCDAERecommender(**params).fit(planted.train)
    sparse = FCDAERecommender(activity_l1=1.0, **params).fit(planted.train)
    x = torch.as_tensor(planted.test_fold_in.toarray())

    def mean_activation(model):
        with torch.no_grad():
            return float(model.module_.eval().encode(x).abs().mean())

    assert mean_activation(sparse) < 0.75 * mean_activation(plain)
    assert "hidden" not in vars(sparse.module_) and sparse.n_parameters_ == plain.n_parameters_


# --- CDAE -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdae(planted):
    return CDAERecommender(n_hidden=12, max_iter=4, **_FAST).fit(planted.train)


def test_cdae_has_one_node_per_training_user(cdae, planted):
    n_train = planted.train.shape[0] - round(0.1 * planted.train.shape[0])
    m, K = planted.train.shape[1], 12
    assert cdae.n_train_users_ == n_train
    assert tuple(cdae.module_.user_weights.shape) == (n_train, K)
    assert cdae.n_parameters_ == 2 * K * m + K * n_train + K + m
    assert cdae.n_flops_ == 4 * K * m  # the user node is a lookup


def test_cdae_new_users_get_a_zero_user_vector(cdae, planted):
    X = planted.test_fold_in
    module = cdae.module_
    with torch.no_grad():
        x = torch.as_tensor(X.toarray())
        expected = module.decoder(torch.sigmoid(module.encoder(x))).numpy()
    np.testing.assert_allclose(cdae.decision_function(X), expected, rtol=1e-5, atol=1e-5)


def test_cdae_user_node_enters_training_and_is_never_dropped(cdae):
    module = cdae.module_
    m = cdae.n_features_in_
    # User 3 with one item, input dropout that drops every item entry.
    x = torch.sparse_coo_tensor([[0, 0], [1, m + 3]], [1.0, 1.0], (1, m + 7), check_invariants=True).coalesce()
    module.train()
    module.input_dropout, module.generator = 1.0 - 1e-9, torch.Generator().manual_seed(0)
    try:
        hidden = module.encode(x)
    finally:
        module.input_dropout, module.generator = 0.5, None
        module.eval()
    expected = torch.sigmoid(module.encoder.bias + module.user_weights[3])
    torch.testing.assert_close(hidden[0], expected)


def test_cdae_training_loss_decreases_and_round_trips(tmp_path, cdae, planted):
    losses = [record["train_loss"] for record in cdae.history_]
    assert losses[-1] < losses[0]
    joblib.dump(cdae, tmp_path / "cdae.joblib")
    loaded = joblib.load(tmp_path / "cdae.joblib")
    np.testing.assert_array_equal(loaded.predict(planted.test_fold_in), cdae.predict(planted.test_fold_in))


# --- flops and SW-DAE-p --------------------------------------------------------------


def test_flops_of_every_autoencoder(planted):
    X = planted.train
    m = X.shape[1]
    params = dict(max_iter=1, validation_fraction=None, **_FAST)
    fc = FCDAERecommender(n_hidden=7, **params).fit(X)
    assert fc.n_flops_ == 2 * (7 * m + m * 7)
    dae = MultDAERecommender(n_hidden=5, **params).fit(X)
    assert dae.n_flops_ == 2 * (5 * m + m * 5)
    vae = MultVAERecommender(n_hidden=6, n_latent=3, **params).fit(X)
    assert vae.n_flops_ == 2 * (m * 6 + 6 * 2 * 3 + 3 * 6 + 6 * m)
    sw = SparseWideDAERecommender(
        grouper=ItemGrouper(n_clusters=8, overlap=2, n_components=4, random_state=0), **params
    ).fit(X)
    assert sw.n_flops_ == 4 * sw.connectivity_.nnz == 4 * 2 * m
    assert count_flops(sw.module_) == sw.n_flops_


@pytest.mark.parametrize("overlap", [0.1, 0.25, 6])
def test_n_clusters_for_parameters_meets_the_budget(planted, overlap):
    X = planted.train
    m = X.shape[1]
    budget = 2 * m * 6 + 60 + m  # e.g. another model's n_parameters_
    K = n_clusters_for_parameters(budget, m, overlap=overlap, rtol=0.05)
    model = SparseWideDAERecommender(
        grouper=ItemGrouper(n_clusters=K, overlap=overlap, n_components=4, random_state=0),
        max_iter=1,
        validation_fraction=None,
        **_FAST,
    ).fit(X)
    links = (lambda k: overlap) if isinstance(overlap, int) else (lambda k: max(1, int(np.floor(overlap * k + 0.5))))
    counts = {k: 2 * m * links(k) + k + m for k in range(1, m + 1) if links(k) <= k}
    assert model.n_parameters_ == counts[K]
    assert abs(counts[K] - budget) == min(abs(c - budget) for c in counts.values())
    assert abs(model.n_parameters_ - budget) <= 0.05 * budget


def test_n_clusters_for_parameters_rejects_unreachable_budgets():
    with pytest.raises(ValueError, match="No K <= max_clusters=100"):
        n_clusters_for_parameters(10**7, 100)
    with pytest.raises(ValueError, match="n_parameters"):
        n_clusters_for_parameters(0, 100)
    assert n_clusters_for_parameters(10**6, 100, overlap=1.0, max_clusters=10**4) > 100


def test_clone_keeps_the_new_parameters():
    model = PrunedDAERecommender(n_hidden=3, sparsity=0.8, retrain_iter=2, activity_l1=0.01)
    assert clone(model).get_params()["sparsity"] == 0.8
    assert clone(model).get_params()["activity_l1"] == 0.01
    with pytest.raises(ValueError, match="sparsity"):
        PrunedDAERecommender(sparsity=1.0).fit(np.eye(3))
    with pytest.raises(ValueError, match="activity_l1"):
        FCDAERecommender(activity_l1=-1.0).fit(np.eye(3))
