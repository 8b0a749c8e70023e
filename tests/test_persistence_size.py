"""Saved models are compact and models saved by earlier code still load.

A sparse layer's index structure is rebuilt from the mask rather than
saved, CSR attributes are saved with 32-bit indices, and an ItemGrouper
saves its groups once (as int32 ``item_groups_``).
"""

import io
import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_swdae import ItemGrouper, SparseWideDAERecommender, _initialization, layers
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.layers import DenoisingAutoencoder, MaskedLinear, count_parameters

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def interactions():
    X, _ = make_interactions(300, 200, 5, density=0.08, random_state=0)
    return sp.csr_array(X)


@pytest.fixture(scope="module")
def fitted(interactions):
    grouper = ItemGrouper(n_clusters=40, overlap=8, n_components=10, random_state=0)
    return SparseWideDAERecommender(
        grouper=grouper, layer_backend="sparse", max_iter=2, batch_size=100, device="cpu", random_state=0
    ).fit(interactions)


@pytest.mark.parametrize("backend", ["sparse", "dense"])
def test_models_saved_by_earlier_code_load_and_score_the_same(backend):
    # Pickled by the code of commit 9a6bc00 (tests/data/make_fixtures_9a6bc00.py):
    # the sparse layers' int64 index buffers were part of the saved state.
    model = joblib.load(DATA / f"swdae_{backend}_9a6bc00.pkl.z")
    saved = np.load(DATA / "swdae_9a6bc00_scores.npz")
    X = sp.csr_array((saved["X_data"], saved["X_indices"], saved["X_indptr"]), shape=tuple(saved["X_shape"]))
    assert model.layer_backends_ == (backend, backend)
    scores = model.decision_function(X)
    np.testing.assert_allclose(scores, saved[f"{backend}_scores"], rtol=1e-5, atol=1e-6)
    # Same ranking up to ties within round-off: the items recommended score
    # what the saved top items scored.
    top = model.recommend(X, top_n=10)
    np.testing.assert_allclose(
        np.take_along_axis(scores, top, axis=1),
        np.take_along_axis(saved[f"{backend}_scores"], saved[f"{backend}_top"], axis=1),
        rtol=1e-5,
        atol=1e-6,
    )
    # Saved again by this code, it still scores the same.
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.decision_function(X), scores)


def test_saved_model_is_weights_plus_int32_catalogue_arrays(fitted):
    data = pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)
    n_links = fitted.connectivity_.nnz
    weight_bytes = 4 * count_parameters(fitted.module_)
    # Catalogue-sized arrays at 4 bytes per index: the estimator's mask
    # (indices and bool data), the grouper's item_groups_ and its embedding.
    catalogue_bytes = 5 * n_links + 4 * n_links + fitted.grouper_.embedding_.nbytes
    # (The code of 9a6bc00 also saved four int64 arrays per link and layer:
    # over four times this bound.)
    assert len(data) <= 1.5 * (weight_bytes + catalogue_bytes)


def test_sparse_layer_state_holds_weights_only():
    rng = np.random.RandomState(0)
    mask = rng.rand(9, 13) < 0.3
    layer = MaskedLinear(rng.randn(9, 13), mask, backend="sparse")
    assert set(layer.state_dict()) == {"values", "bias"}
    # Buffers still move with the module (they are not persistent, not gone).
    assert {name for name, _ in layer.named_buffers()} >= set(layers._STRUCTURE_BUFFERS)


def test_state_dicts_with_the_structure_load_and_are_checked():
    rng = np.random.RandomState(1)
    mask = rng.rand(9, 13) < 0.3
    layer = MaskedLinear(rng.randn(9, 13), mask, backend="sparse")
    # As saved then: the structure and the row of every link, all int64.
    legacy = {**layer.state_dict(), **{name: getattr(layer, name).long() for name in layers._SAVED_STRUCTURE}}
    assert "row_indices" in legacy and legacy["col_indices"].dtype == torch.int64
    legacy["values"] = legacy["values"] + 1.0
    other = MaskedLinear(np.zeros((9, 13)), mask, backend="sparse")
    other.load_state_dict(legacy)
    torch.testing.assert_close(other.values, layer.values + 1.0)

    shuffled = dict(legacy)
    shuffled["col_indices"] = torch.roll(shuffled["col_indices"], 1)
    with pytest.raises(RuntimeError, match="col_indices.*another connectivity"):
        other.load_state_dict(shuffled)
    shuffled = dict(legacy)
    shuffled["row_indices"] = torch.roll(shuffled["row_indices"], 1)
    with pytest.raises(RuntimeError, match="row_indices.*another connectivity"):
        other.load_state_dict(shuffled)


def test_sparse_initial_weights_are_the_dense_draws(monkeypatch):
    # Drawn a few rows at a time, the live weights are the same numbers as
    # the masked entries of one dense draw from the same generator.
    monkeypatch.setattr(_initialization, "_DRAW_BLOCK", 50)
    mask = np.random.RandomState(2).rand(12, 30) < 0.25
    mask[0, :] = True  # every input has a link
    sparse = DenoisingAutoencoder(30, 12, mask, "sigmoid", 0.0, 0.0, np.random.RandomState(5), backends=("sparse",) * 2)
    dense = DenoisingAutoencoder(30, 12, mask, "sigmoid", 0.0, 0.0, np.random.RandomState(5))
    assert torch.equal(sparse.encoder.weight, dense.encoder.effective_weight())
    assert torch.equal(sparse.decoder.weight, dense.decoder.effective_weight())


def test_modules_for_loading_draw_nothing():
    mask = np.eye(4, 6, dtype=bool) | np.eye(4, 6, k=2, dtype=bool)
    state = _initialization.WeightsToBeLoaded()
    module = DenoisingAutoencoder(6, 4, mask, "sigmoid", 0.0, 0.0, state, backends=("sparse", "dense"))
    assert not module.encoder.values.any() and not module.decoder.weight.any()
    assert state.uniform() == np.random.RandomState(0).uniform()  # the stream was not touched


def test_grouper_saves_its_groups_once(interactions):
    grouper = ItemGrouper(n_clusters=30, overlap=4, n_components=8, random_state=0).fit(interactions)
    state = grouper.__getstate__()
    assert state["connectivity_"] is None and state["item_groups_"].dtype == np.int32
    loaded = pickle.loads(pickle.dumps(grouper))
    assert loaded.item_groups_.dtype == grouper.item_groups_.dtype
    np.testing.assert_array_equal(loaded.item_groups_, grouper.item_groups_)
    assert (loaded.connectivity_ != grouper.connectivity_).nnz == 0
    assert loaded.connectivity_.shape == grouper.connectivity_.shape
    np.testing.assert_array_equal(loaded.connectivity_.indices, grouper.connectivity_.indices)
    np.testing.assert_array_equal(loaded.connectivity_.indptr, grouper.connectivity_.indptr)


def test_grouper_keeps_a_connectivity_that_its_groups_do_not_give(interactions):
    grouper = ItemGrouper(n_clusters=30, overlap=4, n_components=8, random_state=0).fit(interactions)
    edited = grouper.connectivity_.tolil()
    edited[0, 0] = not edited[0, 0]
    grouper.connectivity_ = sp.csr_array(edited)
    loaded = pickle.loads(pickle.dumps(grouper))
    assert (loaded.connectivity_ != grouper.connectivity_).nnz == 0
    np.testing.assert_array_equal(loaded.item_groups_, grouper.item_groups_)


def test_int32_indices_when_saved_and_shared_matrices_stay_shared(fitted, interactions):
    assert fitted.connectivities_[0] is fitted.connectivity_
    state = fitted.__getstate__()
    assert state["connectivity_"].indices.dtype == np.int32
    assert state["connectivities_"][0] is state["connectivity_"]
    # The live model is not altered.
    assert fitted.connectivities_[0] is fitted.connectivity_
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    assert (loaded.connectivity_ != fitted.connectivity_).nnz == 0
    np.testing.assert_array_equal(
        loaded.decision_function(interactions[:30]), fitted.decision_function(interactions[:30])
    )
