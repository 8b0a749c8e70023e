"""The sparse and dense backends of MaskedLinear compute the same function,
on the CPU and (when present) on CUDA; SW-DAE trains and predicts with
either, and on a GPU as on the CPU."""

import contextlib
import os
import time

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from conftest import assert_same_rankings, random_mask

from sklearn_swdae import FCDAERecommender, ItemGrouper, SparseWideDAERecommender, _kernels
from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.layers import MaskedLinear, count_parameters, resolve_layer_backend

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("transpose", [False, True], ids=["encoder", "decoder"])
@pytest.mark.parametrize("sparse_input", [True, False])
def test_sparse_backend_matches_dense_forward_and_gradients(device, uniform, transpose, sparse_input):
    rng = np.random.RandomState(0)
    mask = random_mask(rng, 7, 11, uniform)
    weight = rng.randn(7, 11).astype(np.float32)
    if transpose:
        mask, weight = mask.T, np.ascontiguousarray(weight.T)
    dense = MaskedLinear(weight, mask, "dense").to(device)
    sparse = MaskedLinear(weight, mask, "sparse").to(device)
    with torch.no_grad():
        sparse.bias.copy_(torch.randn(weight.shape[0]))
        dense.bias.copy_(sparse.bias)
    values = (rng.rand(5, weight.shape[1]) < 0.4) * rng.rand(5, weight.shape[1])
    x = torch.tensor(values, dtype=torch.float32, device=device)
    x_dense = x.clone().requires_grad_(not sparse_input)
    x_sparse = x.clone().requires_grad_(not sparse_input)
    inputs = (x.to_sparse().coalesce(),) * 2 if sparse_input else (x_dense, x_sparse)
    out_dense, out_sparse = dense(inputs[0]), sparse(inputs[1])
    torch.testing.assert_close(out_sparse, out_dense, rtol=1e-5, atol=1e-5)
    upstream = torch.randn_like(out_dense)
    (out_dense * upstream).sum().backward()
    (out_sparse * upstream).sum().backward()
    grad = np.zeros(mask.shape, dtype=np.float32)
    grad[mask] = sparse.values.grad.cpu().numpy()  # values are in CSR (row-major) order
    np.testing.assert_allclose(grad, dense.weight.grad.cpu().numpy(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(sparse.bias.grad, dense.bias.grad, rtol=1e-5, atol=1e-5)
    if not sparse_input:
        torch.testing.assert_close(x_sparse.grad, x_dense.grad, rtol=1e-4, atol=1e-5)


@pytest.fixture
def torch_threads():
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.mark.parametrize("tile_units", [1024, 16])
def test_cpu_sparse_kernels_match_dense_over_many_blocks_and_any_thread_count(torch_threads, tile_units, monkeypatch):
    # 200 users span several 64-user blocks of the bag sums and, with tiles
    # of 16 input units, the weight gradient runs over four tiles of
    # inputs; the results must not depend on either or on the threads.
    monkeypatch.setattr(_kernels, "_WEIGHT_GRAD_TILE_UNITS", tile_units)
    monkeypatch.setattr(_kernels, "_WEIGHT_GRAD_TILE_BATCH", 1)  # the same tiles at any batch
    rng = np.random.RandomState(1)
    mask = random_mask(rng, 300, 50, uniform=False)  # decoder: 300 outputs (items), 50 inputs
    weight = rng.randn(300, 50).astype(np.float32)
    dense = MaskedLinear(weight, mask, "dense")
    h = torch.tensor(rng.rand(200, 50), dtype=torch.float32)
    upstream = torch.randn(200, 300, generator=torch.Generator().manual_seed(0))
    results = []
    for threads in (1, 2):
        torch_threads(threads)
        sparse = MaskedLinear(weight, mask, "sparse")
        x = h.clone().requires_grad_()
        out = sparse(x)
        (out * upstream).sum().backward()
        results.append((out.detach(), x.grad, sparse.values.grad, sparse.bias.grad))
    for one, two in zip(*results):
        assert torch.equal(one, two)
    x = h.clone().requires_grad_()
    out = dense(x)
    (out * upstream).sum().backward()
    out_sparse, grad_x, grad_values, grad_bias = results[0]
    torch.testing.assert_close(out_sparse, out.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad_x, x.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(grad_values, dense.weight.grad[torch.as_tensor(mask)], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(grad_bias, dense.bias.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("uniform", [True, False])
def test_live_weight_permutations_split_across_threads_give_the_same_bits(torch_threads, uniform, monkeypatch):
    # The permutations between the (out, in) and the transposed order of
    # the live weights (the encoder's forward and weight gradient, the
    # decoder's input gradient) run by blocks on torch's threads; with
    # blocks of 97 positions here, they must move the same bits as one call.
    rng = np.random.RandomState(3)
    mask = random_mask(rng, 60, 90, uniform=uniform)
    encoder = MaskedLinear(rng.randn(60, 90).astype(np.float32), mask, "sparse")
    decoder = MaskedLinear(np.ascontiguousarray(rng.randn(60, 90).astype(np.float32).T), mask.T, "sparse")
    values = (rng.rand(40, 90) < 0.2) * rng.rand(40, 90)
    x = torch.tensor(values, dtype=torch.float32).to_sparse().coalesce()
    upstream = torch.randn(40, 90, generator=torch.Generator().manual_seed(1))

    def run():
        encoder.zero_grad(set_to_none=True)
        decoder.zero_grad(set_to_none=True)
        out = decoder(torch.sigmoid(encoder(x)))
        (out * upstream).sum().backward()
        by_input = _kernels._to_input_major(encoder, encoder.values.detach())
        return out.detach(), encoder.values.grad, decoder.values.grad, by_input

    torch_threads(1)
    whole = run()
    torch_threads(2)
    monkeypatch.setattr(_kernels, "_PERMUTE_BLOCK", 97)
    split = run()
    for one, two in zip(whole, split):
        assert torch.equal(one, two)
    by_input = split[-1]
    assert torch.equal(by_input, encoder.values.detach()[encoder.t_order.long()])
    assert torch.equal(_kernels._to_output_major(encoder, by_input), encoder.values.detach())


def test_sparse_decoder_input_gradient_with_frozen_weights():
    # Only the input needs a gradient: the backward pass skips the weight
    # gradient and still returns grad_out W.
    rng = np.random.RandomState(6)
    mask = random_mask(rng, 120, 20, uniform=False)
    weight = rng.randn(120, 20).astype(np.float32)
    sparse, dense = MaskedLinear(weight, mask, "sparse"), MaskedLinear(weight, mask, "dense")
    sparse.values.requires_grad_(False)
    sparse.bias.requires_grad_(False)
    x_sparse = torch.rand(90, 20, requires_grad=True)
    x_dense = x_sparse.detach().clone().requires_grad_()
    upstream = torch.randn(90, 120)
    (sparse(x_sparse) * upstream).sum().backward()
    (dense(x_dense) * upstream).sum().backward()
    assert sparse.values.grad is None
    torch.testing.assert_close(x_sparse.grad, x_dense.grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("frozen", [True, False])
@pytest.mark.parametrize("uniform", [True, False])
def test_encoder_prediction_path_matches_training_path(torch_threads, uniform, frozen, monkeypatch):
    # Without autograd a CPU sparse batch is multiplied by bag sums of a
    # dense weight table inside a frozen_weights block, else by blocks of
    # users (a gather per non-zero for a uniform mask, scipy otherwise);
    # with autograd, by torch's gather-scatter.  All give the training
    # path's numbers, also with users of no non-zero and over many chunks.
    from sklearn_swdae import _kernels

    monkeypatch.setattr(_kernels, "_CHUNK_TERMS", 64)
    rng = np.random.RandomState(2)
    encoder = MaskedLinear(rng.randn(20, 90).astype(np.float32), random_mask(rng, 20, 90, uniform=uniform), "sparse")
    values = (rng.rand(150, 90) < 0.1) * rng.rand(150, 90)
    values[[0, 7, 8, 149]] = 0.0
    x = torch.tensor(values, dtype=torch.float32).to_sparse().coalesce()
    training = encoder(x)
    assert training.requires_grad
    for threads in (1, 2):
        torch_threads(threads)
        block = _kernels.frozen_weights(encoder) if frozen else contextlib.nullcontext()
        with torch.no_grad(), block:
            torch.testing.assert_close(encoder(x), training.detach(), rtol=1e-6, atol=1e-6)
            assert (_kernels._dense_input_major(encoder) is not None) == frozen


def test_dense_weight_table_only_for_small_and_not_too_sparse_layers(monkeypatch):
    rng = np.random.RandomState(3)
    mask = random_mask(rng, 20, 90, uniform=True)  # 20 units, a few links per input
    encoder = MaskedLinear(rng.randn(20, 90).astype(np.float32), mask, "sparse")
    ratio = 20 * 90 / mask.sum()  # dense multiply-adds per live weight
    for entries, max_ratio, expected in [
        (20 * 90, ratio, True),
        (20 * 90 - 1, ratio, False),
        (20 * 90, ratio - 0.5, False),
    ]:
        monkeypatch.setattr(_kernels, "_DENSE_TABLE_ENTRIES", entries)
        monkeypatch.setattr(_kernels, "_DENSE_TABLE_MAX_RATIO", max_ratio)
        with _kernels.frozen_weights(encoder):
            table = _kernels._dense_input_major(encoder)
            assert (table is not None) == expected
            if expected:
                np.testing.assert_array_equal(table.numpy(), encoder.effective_weight().detach().numpy().T)


def _blocks_seen():
    from sklearn_swdae._kernels import run_blocks

    seen = []

    def block(start, stop):
        time.sleep(0.05)  # keeps both of the pool's threads busy at once
        seen.append((start, stop))

    run_blocks(block, 10, 3)
    return sorted(seen)


def _blocks_in_child():
    # torch itself cannot run multithreaded kernels after a fork (OpenMP),
    # so the child runs only the package's thread pool, on plain Python work.
    torch.set_num_threads(2)
    assert _blocks_seen() == [(0, 3), (3, 6), (6, 9), (9, 10)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_host_thread_pool_works_in_a_forked_child(torch_threads):
    import multiprocessing

    torch_threads(2)
    assert _blocks_seen() == [(0, 3), (3, 6), (6, 9), (9, 10)]  # the parent's pool now exists
    child = multiprocessing.get_context("fork").Process(target=_blocks_in_child)
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung in the host thread pool")
    assert child.exitcode == 0


def test_weight_gradient_tiles_give_the_same_bits():
    rng = np.random.RandomState(7)
    mask = random_mask(rng, 40, 70, uniform=False)
    layer = MaskedLinear(rng.randn(40, 70).astype(np.float32), mask, "sparse")
    h, grad_out = torch.rand(30, 70), torch.randn(30, 40)
    whole = _kernels._sampled_weight_gradient(layer, grad_out, h)  # 70 inputs: one call
    tiles = _kernels.column_tiles(layer, 16)
    assert [(start, stop) for start, stop, *_ in tiles] == [(0, 16), (16, 32), (32, 48), (48, 64), (64, 70)]
    assert sorted(torch.cat([positions for _, _, positions, _, _ in tiles]).tolist()) == list(range(int(mask.sum())))
    tiled = _kernels._sampled_weight_gradient(layer, grad_out, h, tile_units=16)
    assert torch.equal(tiled, whole)
    dense = (grad_out.t() @ h)[torch.as_tensor(mask)]
    torch.testing.assert_close(whole, dense, rtol=1e-5, atol=1e-5)


def test_host_caches_are_not_pickled(monkeypatch):
    import pickle

    monkeypatch.setattr(_kernels, "_WEIGHT_GRAD_TILE_UNITS", 3)
    monkeypatch.setattr(_kernels, "_WEIGHT_GRAD_TILE_BATCH", 1)  # the same tiles at any batch
    rng = np.random.RandomState(3)
    layer = MaskedLinear(rng.randn(30, 8).astype(np.float32), random_mask(rng, 30, 8, uniform=False), "sparse")
    x = torch.rand(4, 8, requires_grad=True)
    layer(x).sum().backward()  # fills the weight gradient's tiles
    assert layer.__dict__["_host_cache"]
    clone = pickle.loads(pickle.dumps(layer))
    assert "_host_cache" not in clone.__dict__
    torch.testing.assert_close(clone(x), layer(x))


def test_multinomial_loss_reads_sparse_targets_like_dense_ones():
    from sklearn_swdae.autoencoders._losses import MultinomialLoss
    from sklearn_swdae.layers import AutoencoderOutput

    _multinomial_loss = MultinomialLoss()

    rng = np.random.RandomState(4)
    logits = torch.randn(6, 15, requires_grad=True)
    targets = torch.tensor((rng.rand(6, 15) < 0.3) * rng.rand(6, 15), dtype=torch.float32)
    dense_loss = _multinomial_loss(AutoencoderOutput(logits), targets)
    (dense_grad,) = torch.autograd.grad(dense_loss, logits)
    sparse_loss = _multinomial_loss(AutoencoderOutput(logits), targets.to_sparse().coalesce())
    (sparse_grad,) = torch.autograd.grad(sparse_loss, logits)
    torch.testing.assert_close(sparse_loss, dense_loss)
    torch.testing.assert_close(sparse_grad, dense_grad)


def test_sparse_backend_stores_live_weights_only():
    mask = sp.random(40, 60, density=0.1, random_state=0, format="csr") != 0
    layer = MaskedLinear(np.ones((40, 60)), mask, "sparse")
    assert layer.values.numel() == mask.nnz == layer.n_live
    assert count_parameters(layer) == mask.nnz + 40
    assert all(p.numel() < 40 * 60 for p in layer.parameters())
    np.testing.assert_array_equal(layer.weight.detach().numpy(), mask.toarray().astype(np.float32))


def test_backend_validation():
    with pytest.raises(ValueError, match="backend must be 'dense' or 'sparse'"):
        MaskedLinear(np.ones((2, 2)), np.eye(2, dtype=bool), "csr")
    with pytest.raises(ValueError, match="sparse backend needs a mask"):
        MaskedLinear(np.ones((2, 2)), None, "sparse")
    with pytest.raises(ValueError, match="layer_backend must be one of"):
        resolve_layer_backend("fast", 0.1, torch.device("cpu"), True)
    with pytest.raises(ValueError, match="layer_backend"):
        SparseWideDAERecommender(layer_backend="fast").fit(np.eye(5))


@pytest.mark.parametrize(
    "density, device, sparse_input, expected",
    [
        (0.1, "cpu", True, "sparse"),
        (0.1, "cpu", False, "sparse"),
        (0.1, "cuda", True, "sparse"),
        (0.1, "cuda", False, "dense"),
        (0.5, "cpu", True, "dense"),
        (None, "cpu", True, "dense"),
    ],
)
def test_auto_rule(density, device, sparse_input, expected):
    assert resolve_layer_backend("auto", density, torch.device(device), sparse_input) == expected


@pytest.fixture(scope="module")
def data():
    X, _ = make_interactions(300, 80, 8, density=0.08, random_state=0)
    grouper = ItemGrouper(n_clusters=20, overlap=0.2, n_components=8, random_state=0).fit(X)
    return X, grouper.connectivity_


def _fit(X, mask, backend, device="cpu", **params):
    model = SparseWideDAERecommender(
        connectivity=mask, layer_backend=backend, max_iter=3, batch_size=64, device=device,
        validation_fraction=None, random_state=0, **params,
    )  # fmt: skip
    return model.fit(X)


def test_backends_train_to_the_same_model_on_cpu(data):
    X, mask = data
    dense, sparse = _fit(X, mask, "dense"), _fit(X, mask, "sparse")
    assert dense.layer_backends_ == ("dense", "dense") and sparse.layer_backends_ == ("sparse", "sparse")
    assert dense.n_parameters_ == sparse.n_parameters_
    # Same initial weights, same dropout draws, same updates: equal up to
    # float summation order.
    np.testing.assert_allclose(
        sparse.module_.encoder.weight.detach().numpy(), dense.module_.encoder.weight.detach().numpy(), atol=1e-5
    )
    dense_scores = dense.decision_function(X)
    np.testing.assert_allclose(sparse.decision_function(X), dense_scores, rtol=1e-4, atol=1e-4)
    # Items whose scores differ by less than that may come in either order.
    assert_same_rankings(sparse.predict(X[:50]), dense.predict(X[:50]), dense_scores[:50], rtol=1e-4, atol=1e-4)


def test_fitted_backend_survives_pickling(data):
    import pickle

    X, mask = data
    model = _fit(X, mask, "sparse")
    clone = pickle.loads(pickle.dumps(model))
    assert clone.layer_backends_ == ("sparse", "sparse")
    np.testing.assert_array_equal(clone.decision_function(X), model.decision_function(X))


def test_prediction_batches_are_bounded(data, monkeypatch):
    X, mask = data
    model = _fit(X, mask, "auto")
    expected, scores = model.recommend(X, top_n=10), model.decision_function(X)
    # 80 items x 4 bytes x 7 users fits 2,300 bytes: batches of 7 users.
    monkeypatch.setattr(SparseWideDAERecommender, "_prediction_batch_bytes", 2300)
    assert model._batch_rows(X.shape[1]) == 7
    seen = []
    original = SparseWideDAERecommender._score_batch
    monkeypatch.setattr(
        SparseWideDAERecommender, "_score_batch", lambda self, b: seen.append(b.shape[0]) or original(self, b)
    )
    # Other batches, other float32 rounding: the same lists up to near ties.
    assert_same_rankings(model.recommend(X, top_n=10), expected, scores)
    assert max(seen) == 7 and sum(seen) == X.shape[0]


@pytest.mark.parametrize("precision", ["float32", "tf32", "bfloat16"])
def test_precisions_train_and_predict(data, precision):
    X, mask = data
    model = _fit(X, mask, "auto", precision=precision)
    scores = model.decision_function(X[:20])
    assert np.isfinite(scores).all()
    if precision != "bfloat16":  # tf32 is plain float32 on the CPU
        reference = _fit(X, mask, "auto")
        np.testing.assert_allclose(scores, reference.decision_function(X[:20]), rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("backend", ["auto", "dense", "sparse"])
def test_cuda_training_and_on_device_top_n(data, backend):
    X, mask = data
    model = _fit(X, mask, backend, device="cuda")
    assert model.device_.type == "cuda"
    dense = model.module_.encoder.weight.detach().cpu().numpy()
    assert np.all(dense[~mask.toarray()] == 0.0)
    items, scores = model.recommend(X, top_n=10, return_scores=True)
    # Seen items are never recommended, and the lists are those of the scores.
    rows = np.repeat(np.arange(X.shape[0]), 10)
    assert not np.asarray(X[rows, items.ravel()]).any()
    full = model.decision_function(X)
    np.testing.assert_allclose(np.take_along_axis(full, items, axis=1), scores, rtol=1e-5, atol=1e-5)
    # The on-device selection agrees with the CPU selection of the same scores.
    cpu_items, _ = super(SparseWideDAERecommender, model)._top_n_batch(X, 10, True)
    np.testing.assert_array_equal(np.sort(items, axis=1), np.sort(cpu_items, axis=1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_and_cpu_training_agree_statistically(data):
    X, mask = data
    cpu = _fit(X, mask, "auto")
    gpu = _fit(X, mask, "auto", device="cuda")
    # Not bit-identical (different kernels and random streams), but both learn.
    assert abs(cpu.history_[-1]["train_loss"] - gpu.history_[-1]["train_loss"]) < 0.1 * cpu.history_[0]["train_loss"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fc_dae_on_cuda(data):
    X, _ = data
    model = FCDAERecommender(n_hidden=16, max_iter=2, device="cuda", random_state=0, precision="bfloat16").fit(X)
    assert np.isfinite(model.decision_function(X[:5])).all()


def test_models_saved_before_layer_backends_load_as_dense(data):
    X, mask = data
    model = _fit(X, mask, "dense")
    state = model.__getstate__()
    del state["layer_backends_"]  # what a pickle of an earlier version holds
    old = SparseWideDAERecommender.__new__(SparseWideDAERecommender)
    old.__setstate__(state)
    assert old.layer_backends_ == ("dense", "dense")
    np.testing.assert_array_equal(old.decision_function(X[:20]), model.decision_function(X[:20]))


def test_frozen_weights_keeps_the_input_major_weights_for_the_block_only():
    from sklearn_swdae._kernels import _input_major_values, frozen_weights

    rng = np.random.RandomState(4)
    encoder = MaskedLinear(rng.randn(12, 40).astype(np.float32), random_mask(rng, 12, 40, uniform=True), "sparse")
    x = torch.tensor((rng.rand(30, 40) < 0.2) * 1.0, dtype=torch.float32).to_sparse().coalesce()
    module = torch.nn.Sequential(encoder)
    with frozen_weights(module):
        with frozen_weights(module):  # nested: the inner block leaves the outer cache alone
            first = _input_major_values(encoder)
        assert _input_major_values(encoder) is first
        with torch.no_grad():
            before = encoder(x)
    assert "frozen" not in encoder.__dict__["_host_cache"]
    # A change of the weights after the block is seen by the next prediction.
    with torch.no_grad():
        encoder.values.mul_(2.0)
        with frozen_weights(module):
            after = encoder(x)
    torch.testing.assert_close(after - encoder.bias, 2.0 * (before - encoder.bias), rtol=1e-5, atol=1e-5)


def test_predictions_follow_weights_changed_between_calls():
    rng = np.random.RandomState(5)
    X, _ = make_interactions(60, 40, 4, density=0.15, random_state=5)
    mask = random_mask(rng, 10, 40, uniform=True)
    model = SparseWideDAERecommender(connectivity=mask, max_iter=1, device="cpu", random_state=0).fit(X)
    first = model.decision_function(X)
    with torch.no_grad():
        model.module_.encoder.values.mul_(-1.0)
    second = model.decision_function(X)
    with torch.no_grad():
        model.module_.encoder.values.mul_(-1.0)
    np.testing.assert_allclose(model.decision_function(X), first, rtol=1e-5, atol=1e-6)
    assert not np.allclose(second, first)
