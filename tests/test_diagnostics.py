"""Spectral norm, stable rank and the generalization bound (section 5.5)."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_swdae import EASERecommender, FCDAERecommender, ItemGrouper, SparseWideDAERecommender
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.diagnostics import (
    WeightDiagnostics,
    generalization_bound,
    spectral_norm,
    stable_rank,
    weight_diagnostics,
    weight_matrices,
)
from sklearn_swdae.layers import DenoisingAutoencoder, MaskedLinear, StackedDenoisingAutoencoder


@pytest.fixture(scope="module")
def X():
    return make_interactions(200, 40, 4, density=0.1, random_state=0)[0]


@pytest.mark.parametrize("shape", [(5, 3), (3, 7), (6, 6)])
def test_spectral_norm_and_stable_rank_match_numpy(shape):
    W = np.random.RandomState(sum(shape)).normal(size=shape)
    singular = np.linalg.svd(W, compute_uv=False)
    assert spectral_norm(W) == pytest.approx(singular[0], rel=1e-10)
    assert stable_rank(W) == pytest.approx((singular**2).sum() / singular[0] ** 2, rel=1e-10)
    assert 1.0 <= stable_rank(W) <= np.linalg.matrix_rank(W) + 1e-12


def test_inputs_of_every_kind_agree():
    W = np.random.RandomState(0).normal(size=(4, 5))
    for variant in (W.tolist(), sp.csr_array(W), torch.from_numpy(W).float()):
        assert spectral_norm(variant) == pytest.approx(spectral_norm(W), rel=1e-6)


def test_rank_one_and_zero_matrices():
    assert stable_rank(np.outer([1.0, 2.0, 3.0], [4.0, 5.0])) == pytest.approx(1.0)
    assert stable_rank(np.zeros((3, 2))) == 0.0
    assert spectral_norm(np.zeros((3, 2))) == 0.0
    with pytest.raises(ValueError, match="2-D"):
        spectral_norm(np.ones(3))


def test_masked_layer_uses_its_effective_weights():
    weight = np.arange(1.0, 7.0).reshape(2, 3)
    mask = np.array([[True, False, True], [False, True, False]])
    layer = MaskedLinear(weight, mask)
    with torch.no_grad():  # a masked entry that drifted must still not count
        layer.weight[0, 1] = 100.0
    expected = np.linalg.svd(weight * mask, compute_uv=False)[0]
    assert spectral_norm(layer) == pytest.approx(expected, rel=1e-6)


def test_bound_formula_against_numpy():
    rng = np.random.RandomState(1)
    module = DenoisingAutoencoder(7, 4, rng.rand(4, 7) < 0.5, "sigmoid", 0.5, 0.2, rng)
    enc = (module.encoder.weight * module.encoder.mask).detach().double().numpy()
    dec = (module.decoder.weight * module.decoder.mask).detach().double().numpy()

    def parts(W):
        s = np.linalg.svd(W, compute_uv=False)
        return s[0] ** 2, (s**2).sum() / s[0] ** 2

    (e2, er), (d2, dr) = parts(enc), parts(dec)
    n = 50
    assert generalization_bound(module, n, part="encoder") == pytest.approx(math.sqrt(e2 * er / n), rel=1e-5)
    assert generalization_bound(module, n) == pytest.approx(math.sqrt(e2 * d2 * (er + dr) / n), rel=1e-5)
    values = weight_diagnostics(module, n)
    assert values["decoder_spectral_norm"] == pytest.approx(math.sqrt(d2), rel=1e-5)
    assert values["encoder_stable_rank"] == pytest.approx(er, rel=1e-5)
    assert values["bound"] == pytest.approx(math.sqrt(e2 * d2 * (er + dr) / n), rel=1e-5)
    # n = None leaves out the 1 / sqrt(n) factor
    assert weight_diagnostics(module)["bound"] == pytest.approx(values["bound"] * math.sqrt(n), rel=1e-9)


def test_stacked_decoder_runs_from_the_code_to_the_output():
    rng = np.random.RandomState(0)
    masks = [np.ones((4, 6), dtype=bool), np.ones((2, 4), dtype=bool)]
    module = StackedDenoisingAutoencoder(6, masks, "sigmoid", 0.5, 0.2, rng)
    shapes = [tuple(W.shape) for _, W in weight_matrices(module)]
    assert shapes == [(4, 6), (2, 4), (4, 2), (6, 4)]


def test_bad_arguments(X):
    module = DenoisingAutoencoder(6, 4, None, "sigmoid", 0.5, 0.2, np.random.RandomState(0))
    with pytest.raises(ValueError, match="part"):
        weight_matrices(module, part="middle")
    with pytest.raises(ValueError, match="n_samples"):
        generalization_bound(module, 0)
    with pytest.raises(ValueError, match="no torch module"):
        weight_diagnostics(EASERecommender().fit(X))
    with pytest.raises(ValueError, match="no MaskedLinear"):
        weight_matrices(torch.nn.Linear(3, 2))


def test_callback_records_every_epoch_into_history(X):
    model = FCDAERecommender(
        n_hidden=8, max_iter=3, callbacks=[WeightDiagnostics(n_samples=180)], device="cpu", random_state=0
    ).fit(X)
    keys = {"encoder_spectral_norm", "encoder_stable_rank", "decoder_bound", "bound"}
    assert all(keys <= set(record) for record in model.history_)
    # the last record describes the weights the model ended with (no validation: last epoch)
    model_no_val = FCDAERecommender(
        n_hidden=8,
        max_iter=3,
        validation_fraction=None,
        callbacks=[WeightDiagnostics(n_samples=200)],
        device="cpu",
        random_state=0,
    ).fit(X)
    assert model_no_val.history_[-1]["bound"] == pytest.approx(generalization_bound(model_no_val, 200), rel=1e-6)
    # the weights change during training, and so do the diagnostics
    assert len({round(r["encoder_spectral_norm"], 6) for r in model_no_val.history_}) > 1


def test_not_computed_without_the_callback(X):
    model = FCDAERecommender(n_hidden=8, max_iter=2, device="cpu", random_state=0).fit(X)
    assert not any("bound" in record for record in model.history_)


def test_sparse_model_has_a_sparse_encoder(X):
    grouper = ItemGrouper(n_clusters=8, overlap=2, n_components=4, random_state=0)
    model = SparseWideDAERecommender(grouper=grouper, max_iter=2, device="cpu", random_state=0).fit(X)
    ((_, W),) = weight_matrices(model, part="encoder")
    assert int((W != 0).sum()) <= model.connectivity_.nnz
