"""The sparse MaskedLinear's structure in int32, and the sparse-input
product made a chunk of non-zeros at a time, compute what the int64
structure and one pass over the batch computed."""

import numpy as np
import pytest
import torch
from conftest import random_mask

from sklearn_swdae import _kernels
from sklearn_swdae.layers import _STRUCTURE_BUFFERS, MaskedLinear


def _sparse_batch(rng, n_rows, n_cols, values_require_grad=False):
    dense = torch.tensor((rng.rand(n_rows, n_cols) < 0.2) * rng.rand(n_rows, n_cols), dtype=torch.float32)
    x = dense.to_sparse().coalesce()
    values = x.values().clone().requires_grad_(values_require_grad)
    return torch.sparse_coo_tensor(x.indices(), values, x.shape, is_coalesced=True, check_invariants=False), values


def _with_int64_structure(layer):
    # What a layer built before int32 buffers (or one too large for them) holds.
    for name in _STRUCTURE_BUFFERS:
        setattr(layer, name, getattr(layer, name).long())
    layer.__dict__.pop("_host_cache", None)
    return layer


def test_index_dtype_is_int32_only_when_every_index_fits():
    assert _kernels.index_dtype((20, 30), 100) == torch.int32
    assert _kernels.index_dtype((20, 2**31 - 1), 100) == torch.int32
    assert _kernels.index_dtype((20, 2**31), 100) == torch.int64
    assert _kernels.index_dtype((20, 30), 2**31) == torch.int64


def test_structure_is_int32_and_rows_are_derived():
    rng = np.random.RandomState(0)
    mask = random_mask(rng, 9, 13, uniform=False)
    layer = MaskedLinear(rng.randn(9, 13), mask, backend="sparse")
    assert {getattr(layer, name).dtype for name in _STRUCTURE_BUFFERS} == {torch.int32}
    assert "row_indices" not in dict(layer.named_buffers())
    np.testing.assert_array_equal(layer.row_indices.numpy(), np.nonzero(mask)[0])
    np.testing.assert_array_equal(layer.col_indices.numpy(), np.nonzero(mask)[1])
    # The dense view reads the derived rows.
    weight = layer.effective_weight().detach().numpy()
    np.testing.assert_array_equal(weight[mask], layer.values.detach().numpy())
    assert not weight[~mask].any()


@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("sparse_input", [True, False], ids=["encoder", "decoder"])
def test_int32_structure_gives_the_int64_outputs_and_gradients(uniform, sparse_input, monkeypatch):
    # Tiles of 16 input units: the weight gradient runs over int32 tile positions too.
    monkeypatch.setattr(_kernels, "_WEIGHT_GRAD_TILE_UNITS", 16)
    monkeypatch.setattr(_kernels, "_WEIGHT_GRAD_TILE_BATCH", 1)  # the same tiles at any batch
    rng = np.random.RandomState(1)
    n_out, n_in = (20, 60) if sparse_input else (60, 40)
    mask = random_mask(rng, n_out, n_in, uniform)
    weight = rng.randn(n_out, n_in).astype(np.float32)
    layers = [MaskedLinear(weight, mask, "sparse"), _with_int64_structure(MaskedLinear(weight, mask, "sparse"))]
    assert layers[1].col_indices.dtype == torch.int64
    x = (
        _sparse_batch(rng, 30, n_in)[0]
        if sparse_input
        else torch.rand(30, n_in, generator=torch.Generator().manual_seed(0))
    )
    upstream = torch.randn(30, n_out, generator=torch.Generator().manual_seed(1))
    results = []
    for layer in layers:
        with torch.no_grad():
            prediction = layer(x)  # the host product (scipy) for a sparse batch
        inputs = x if sparse_input else x.clone().requires_grad_()
        out = layer(inputs)
        (out * upstream).sum().backward()
        results.append((prediction, out.detach(), layer.values.grad, layer.bias.grad))
        if not sparse_input:
            results[-1] += (inputs.grad,)
    for mine, theirs in zip(*results):
        torch.testing.assert_close(mine, theirs, rtol=1e-6, atol=1e-6)


def test_sparse_input_chunks_give_the_same_bits(monkeypatch):
    rng = np.random.RandomState(2)
    mask = random_mask(rng, 25, 80, uniform=True)
    weight = rng.randn(25, 80).astype(np.float32)
    x, _ = _sparse_batch(rng, 40, 80)
    upstream = torch.randn(40, 25, generator=torch.Generator().manual_seed(2))
    results = []
    # 7 terms per chunk: two non-zeros of 3 links each, over a hundred chunks.
    for chunk_terms in (_kernels._CHUNK_TERMS, 7):
        monkeypatch.setattr(_kernels, "_CHUNK_TERMS", chunk_terms)
        layer = MaskedLinear(weight, mask, "sparse")
        out = layer(x)
        (out * upstream).sum().backward()
        results.append((out.detach(), layer.values.grad, layer.bias.grad))
    assert len(_kernels._term_chunks(x._nnz(), 3, x.device)) > 100
    for whole, chunked in zip(*results):
        assert torch.equal(whole, chunked)


def test_sparse_input_with_a_gradient_to_its_values():
    # A batch whose values need a gradient goes through the autograd graph
    # of the same operations; both paths agree, and the values get one.
    rng = np.random.RandomState(3)
    mask = random_mask(rng, 15, 50, uniform=True)
    weight = rng.randn(15, 50).astype(np.float32)
    upstream = torch.randn(20, 15, generator=torch.Generator().manual_seed(3))
    x, values = _sparse_batch(rng, 20, 50, values_require_grad=True)
    results = []
    for batch in (x.detach(), x):
        layer = MaskedLinear(weight, mask, "sparse")
        out = layer(batch)
        (out * upstream).sum().backward()
        results.append((out.detach(), layer.values.grad, layer.bias.grad))
    for one, other in zip(*results):
        torch.testing.assert_close(one, other, rtol=1e-6, atol=1e-6)
    rows, cols = x.indices()
    expected = (upstream[rows] * torch.from_numpy(weight * mask).t()[cols]).sum(1)
    torch.testing.assert_close(values.grad, expected, rtol=1e-5, atol=1e-5)
