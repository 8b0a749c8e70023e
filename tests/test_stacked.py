"""The stacked SW-DAE of section 3.4: greedy layer-wise structure, pretraining, fine-tuning."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_swdae import ItemGrouper, SparseWideDAERecommender
from sklearn_swdae._torch_utils import csr_to_torch
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.layers import DenoisingAutoencoder, StackedDenoisingAutoencoder
from sklearn_swdae.training import Callback


def _grouper():
    return ItemGrouper(n_clusters=12, overlap=0.25, n_components=6, random_state=0)


def _model(**params):
    defaults = dict(grouper=_grouper(), max_iter=3, batch_size=100, device="cpu", random_state=0)
    defaults.update(params)
    return SparseWideDAERecommender(**defaults)


@pytest.fixture(scope="module")
def X():
    return make_interactions(300, 60, 6, density=0.1, groups_per_user=1, random_state=0)[0]


@pytest.fixture(scope="module")
def stacked(X):
    return _model(stacked_layer_sizes=(6, 4), validation_fraction=None).fit(X)


def _same_mask(a, b):
    return a.shape == b.shape and (sp.csr_array(a) != sp.csr_array(b)).nnz == 0


def test_every_layer_mask_comes_from_its_own_grouping(X, stacked):
    # Layer 1 groups the items; the stacked fit trains it exactly as a
    # one-layer fit does, so that fit's codes are layer 2's input, and so on.
    assert [c.shape for c in stacked.connectivities_] == [(12, 60), (6, 12), (4, 6)]
    assert _same_mask(stacked.connectivities_[0], _grouper().fit(X).connectivity_)
    single = _model(validation_fraction=None).fit(X)
    with torch.no_grad():
        H1 = single.module_.eval().encode(csr_to_torch(X, torch.device("cpu"))).numpy()
    expected = ItemGrouper(n_clusters=6, overlap=0.25, n_components=6, random_state=0, binarize=False).fit(H1)
    assert _same_mask(stacked.connectivities_[1], expected.connectivity_)
    assert _same_mask(stacked.connectivities_[1], stacked.hidden_groupers_[0].connectivity_)
    # grouping the binarized activations (all ones) would give another structure
    assert np.ptp(H1) > 0.1
    # layer 3: the grouper fit on layer 2's codes, with n_components capped below K_2 = 6
    assert stacked.hidden_groupers_[1].n_components == 5
    assert _same_mask(stacked.connectivities_[2], stacked.hidden_groupers_[1].connectivity_)
    # R = 0.25 K per layer, every unit of the layer below linked
    for mask, K in zip(stacked.connectivities_, (12, 6, 4)):
        links = np.asarray(mask.sum(axis=0)).ravel()
        assert (links == max(1, int(np.floor(0.25 * K + 0.5)))).all()


def test_decoder_masks_are_the_transposes_and_stay_zero(stacked):
    module = stacked.module_
    assert isinstance(module, StackedDenoisingAutoencoder)
    for level, mask in enumerate(stacked.connectivities_):
        dense = torch.from_numpy(mask.toarray())
        assert torch.equal(module.encoders[level].mask.bool(), dense)
        assert torch.equal(module.decoders[level].mask.bool(), dense.T)
        assert (module.encoders[level].weight[~dense] == 0).all()
        assert (module.decoders[level].weight[~dense.T] == 0).all()
    assert stacked.n_parameters_ == sum(2 * m.nnz for m in stacked.connectivities_) + 60 + 2 * (12 + 6) + 4


def test_fine_tuning_starts_from_the_pretrained_layers(X):
    pretrained = []

    class Capture(Callback):
        def on_train_begin(self, engine):
            module = engine.module
            if isinstance(module, StackedDenoisingAutoencoder):
                pretrained.append({k: v.clone() for k, v in module.state_dict().items()})

        def on_train_end(self, engine):
            if isinstance(engine.module, DenoisingAutoencoder):
                pretrained.append(engine.module)

    model = _model(stacked_layer_sizes=(6,), validation_fraction=None, callbacks=[Capture()]).fit(X)
    layer1, layer2, start = pretrained
    for level, layer in enumerate((layer1, layer2)):
        assert torch.equal(start[f"encoders.{level}.weight"], layer.encoder.weight.detach())
        assert torch.equal(start[f"decoders.{level}.bias"], layer.decoder.bias.detach())
    # fine-tuning moved them
    assert not torch.equal(model.module_.encoders[0].weight.detach(), start["encoders.0.weight"])
    assert len(model.pretraining_histories_) == 2 and model.n_iter_ == 3


def test_one_layer_reproduces_the_current_model(X):
    default = _model().fit(X)
    for sizes in (None, ()):
        same = _model(stacked_layer_sizes=sizes).fit(X)
        assert isinstance(same.module_, DenoisingAutoencoder)
        np.testing.assert_array_equal(same.decision_function(X[:20]), default.decision_function(X[:20]))
        assert same.history_ == [dict(r, dur=s["dur"]) for r, s in zip(default.history_, same.history_)]
        assert len(same.connectivities_) == 1 and same.pretraining_histories_ == []


def test_stacked_module_with_one_layer_is_the_denoising_autoencoder():
    rng = np.random.RandomState(0)
    mask = rng.rand(5, 9) < 0.4
    mask[0] = True
    dae = DenoisingAutoencoder(9, 5, mask, "sigmoid", 0.5, 0.2, np.random.RandomState(1)).eval()
    stack = StackedDenoisingAutoencoder(9, [mask], "sigmoid", 0.5, 0.2, np.random.RandomState(1)).eval()
    x = torch.from_numpy((rng.rand(4, 9) < 0.5).astype(np.float32))
    torch.testing.assert_close(stack(x.to_sparse()), dae(x.to_sparse()))  # same initial draws
    stack.load_pretrained([dae])
    torch.testing.assert_close(stack(x), dae(x))


def test_predictions_validation_and_pickling(X):
    model = _model(stacked_layer_sizes=(6,)).fit(X)
    assert model.predict(X[:7]).shape == (7, 60)
    assert "ndcg@100" in model.history_[0] and 1 <= model.best_epoch_ <= 3
    restored = pickle.loads(pickle.dumps(model))
    assert isinstance(restored.module_, StackedDenoisingAutoencoder)
    np.testing.assert_array_equal(restored.decision_function(X[:10]), model.decision_function(X[:10]))
    assert model.score(X) > 0


def test_reproducible(X):
    a = _model(stacked_layer_sizes=(6,)).fit(X).decision_function(X[:5])
    b = _model(stacked_layer_sizes=(6,)).fit(X).decision_function(X[:5])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(stacked_layer_sizes=(13,)), r"stacked_layer_sizes\[0\]=13 exceeds"),
        (dict(stacked_layer_sizes=(6, 8)), r"stacked_layer_sizes\[1\]=8 exceeds"),
        (dict(stacked_layer_sizes=(0,)), "positive ints"),
        (dict(stacked_layer_sizes=(2.5,)), "positive ints"),
        (dict(stacked_layer_sizes=(6,), activation="tanh"), "activation='sigmoid'"),
    ],
)
def test_bad_stacked_layer_sizes(X, params, match):
    with pytest.raises(ValueError, match=match):
        _model(**params).fit(X)


def test_grouper_keeps_values_when_not_binarizing():
    rng = np.random.RandomState(0)
    H = rng.rand(80, 10)
    weighted = ItemGrouper(n_clusters=3, overlap=1, n_components=2, random_state=0, binarize=False).fit(H)
    binary = ItemGrouper(n_clusters=3, overlap=1, n_components=2, random_state=0).fit(H)
    # all-positive values binarize to a matrix of ones: one degree for every column
    assert np.unique(binary.item_degrees_).size == 1
    np.testing.assert_allclose(weighted.item_degrees_, H.T @ H.sum(axis=1))
    with pytest.raises(ValueError, match="Negative"):
        ItemGrouper(n_clusters=3, n_components=2, binarize=False).fit(H - 0.5)
