"""CPU and GPU kernels of the sparse :class:`~sklearn_swdae.layers.MaskedLinear` backend.

The model (which connections exist, what a layer computes) is in
:mod:`sklearn_swdae.layers`; this module holds how the sparse products are
made fast: a process-global host thread pool, blocking of users and tiling
of input units for cache locality, the scipy host path of the sparse-input
product and the custom autograd function of the dense-input product.  Every
kernel computes the same sums in the same order whatever the blocking or
the number of threads, so results do not depend on them.  Timings behind
the block and tile sizes are in ``benchmarks/RESULTS.md``.
"""

import contextlib
import os
import warnings

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

__all__ = [
    "SparseWeightProduct",
    "column_tiles",
    "csr_rows",
    "csr_structure",
    "csr_tensor",
    "index_dtype",
    "run_blocks",
    "sparse_input_product",
]


def index_dtype(shape, n_entries):
    """int32 when every index, count and position of a structure fits in it, else int64."""
    return torch.int32 if max(tuple(shape) + (n_entries,)) < 2**31 else torch.int64


def csr_structure(mask):
    """CSR row pointers and column indices of a bool mask.

    Both int32 when every index and entry count fits (:func:`index_dtype`),
    else int64: at K = 15,000 hidden units and 20,108 items int64 columns
    alone took 241 MB per layer.  Indices already in that dtype are shared
    with the mask, not copied (the estimators' masks are their own copies,
    never modified).
    """
    mask = sp.csr_array(mask, dtype=bool)
    mask.sort_indices()
    dtype = np.int32 if index_dtype(mask.shape, mask.nnz) == torch.int32 else np.int64
    return (
        torch.from_numpy(mask.indptr.astype(dtype, copy=False)),
        torch.from_numpy(mask.indices.astype(dtype, copy=False)),
    )


def csr_rows(crow):
    """The row of every entry of a CSR structure, in the dtype of ``crow``."""
    return torch.repeat_interleave(
        torch.arange(crow.numel() - 1, dtype=crow.dtype, device=crow.device), crow.diff(), output_size=int(crow[-1])
    )


def csr_tensor(crow, col, values, shape):
    # torch flags every CSR tensor as "beta"; the operations used here
    # (CSR times dense, sampled_addmm) are covered by the package's tests.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


_HOST_POOL = None  # (pid, ThreadPoolExecutor)

#: Users per bag sum of the sparse products on the CPU (see _bag_product).
_BLOCK_USERS = 64

#: Input units per tile of the sampled weight gradient on the CPU at a
#: batch of _WEIGHT_GRAD_TILE_BATCH users (see _sampled_weight_gradient).
_WEIGHT_GRAD_TILE_UNITS = 1024

#: The batch _WEIGHT_GRAD_TILE_UNITS was measured at (the paper's 500).  A
#: smaller batch reads fewer activations per input unit, so its tiles are
#: wider in proportion: at the "auto" batch of small data (32 users) one
#: call covers 16,000 units instead of tiles set up at every step (the
#: epoch times are in benchmarks/RESULTS.md, issue 19, sixth session).
_WEIGHT_GRAD_TILE_BATCH = 500


def _host_pool():
    """A thread pool for host-side products (scipy releases the GIL in them).

    Made again in a forked child process, whose copy of the parent's pool
    has no threads behind it.
    """
    global _HOST_POOL
    if _HOST_POOL is None or _HOST_POOL[0] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor

        _HOST_POOL = (os.getpid(), ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)))
    return _HOST_POOL[1]


def run_blocks(function, n_rows, block_rows):
    """``function(start, stop)`` over row blocks, on at most torch's number of threads.

    The thread budget is torch's (which follows the joblib worker limit in
    parallel sweeps, :mod:`sklearn_swdae._parallel`): the blocks are dealt
    to that many tasks, each running its share in order.  The blocks run
    without autograd, on the pool's threads as on the caller's: what is
    dealt here (bag sums and permutations inside autograd Functions,
    prediction) builds no graph, and a new thread starts with autograd on.
    """
    bounds = list(range(0, n_rows, block_rows)) + [n_rows]
    blocks = list(zip(bounds[:-1], bounds[1:]))
    n_tasks = min(torch.get_num_threads(), len(blocks))

    def task(share):
        with torch.no_grad():
            for start, stop in share:
                function(start, stop)

    if n_tasks <= 1:
        task(blocks)
        return
    shares = [blocks[i::n_tasks] for i in range(n_tasks)]
    for future in [_host_pool().submit(task, share) for share in shares]:
        future.result()


def _bag_product(a, crow, col, weights, n_out):
    """a S^T, shape (batch, n_out), for a dense a and a CSR S of shape (n_out, in).

    ``F.embedding_bag`` over the columns of a: output unit i sums the
    columns of a at its links, weighted.  On the CPU this runs a block of
    users at a time so that the gathered rows of a^T (in x block) stay in
    cache at large K; the measurements that chose this over one bag sum and
    over scipy's CSC product are in ``benchmarks/RESULTS.md``
    (``benchmarks/bench_sparse_kernels.py``).  The blocks are dealt to
    torch's threads (:func:`run_blocks`) because writing a block's
    (n_out, block) result into its rows of the row-major output is a
    transposed copy that torch runs on one thread (timings in
    ``benchmarks/RESULTS.md``, issue 19, seventh session).  A GPU gets the whole
    batch in one call.  Every output entry is one bag's sum in link order,
    so the result does not depend on the blocks or the number of threads.
    """
    if a.device.type != "cpu":
        block = F.embedding_bag(col, a.t().contiguous(), crow[:-1], mode="sum", per_sample_weights=weights)
        return block.t().contiguous()
    out = a.new_empty((a.shape[0], n_out))
    offsets = crow[:-1]

    def users(start, stop):
        block = F.embedding_bag(col, a[start:stop].t().contiguous(), offsets, mode="sum", per_sample_weights=weights)
        out[start:stop] = block.t()

    run_blocks(users, a.shape[0], _BLOCK_USERS)
    return out


#: Positions per block of a permutation of live weights on the CPU (4 MiB
#: of float32): blocks are dealt to torch's threads, and a block bounds the
#: int64 copy of its positions that the scatter needs.
_PERMUTE_BLOCK = 1 << 20


def _to_input_major(layer, values):
    """``values[layer.t_order]``: live weights from the layer's (out, in) order to its transposed order.

    A gather of every live weight with little locality, bound by memory
    latency rather than bandwidth, twice per training step of SW-DAE (the
    encoder's forward pass, the decoder's input gradient): on the CPU the
    positions are split across torch's threads.  A gather, so the values
    are the same bits however it is split.
    """
    order = layer.t_order
    if values.device.type != "cpu":
        return values.index_select(0, order)
    out = values.new_empty(order.shape)
    run_blocks(lambda a, b: torch.index_select(values, 0, order[a:b], out=out[a:b]), order.numel(), _PERMUTE_BLOCK)
    return out


def _to_output_major(layer, by_input):
    """The inverse of :func:`_to_input_major`: ``out[layer.t_order] = by_input``.

    ``t_order`` is a permutation, so this is a scatter to distinct
    positions: no zeroed buffer, no accumulation, and threads that write
    disjoint positions.
    """
    order = layer.t_order
    out = by_input.new_empty(order.shape)
    if by_input.device.type != "cpu":
        return out.index_copy_(0, order.long(), by_input)
    # index_copy_ takes int64 positions only: a block's worth at a time.
    run_blocks(lambda a, b: out.index_copy_(0, order[a:b].long(), by_input[a:b]), order.numel(), _PERMUTE_BLOCK)
    return out


def _sampled_weight_gradient(layer, grad_out, h, tile_units=None):
    """(grad_out^T h) at the live entries of the layer, in ``values`` order.

    ``torch.sparse.sampled_addmm`` computes each live entry as one dot
    product over the batch, reading a row of h^T per link.  On the CPU the
    input units are cut into tiles of ``tile_units`` (default
    ``_WEIGHT_GRAD_TILE_UNITS`` at a batch of 500, wider in proportion at
    smaller batches; one call when the layer has no more inputs than that)
    so that the rows a tile reads (about 2 MB) stay in
    cache (timings in ``benchmarks/RESULTS.md``); the dot products are the
    same, so are the bits.  No dense (out, in) tensor is allocated either
    way.
    """
    tile_units = tile_units or _WEIGHT_GRAD_TILE_UNITS * max(1, _WEIGHT_GRAD_TILE_BATCH // max(h.shape[0], 1))
    grad_columns = grad_out.t().contiguous()
    h = h.contiguous()
    if h.device.type != "cpu" or layer.in_features <= tile_units:
        pattern = layer._csr(grad_columns.new_zeros(layer.values.shape))
        return torch.sparse.sampled_addmm(pattern, grad_columns, h, beta=0.0).values()
    grad = grad_columns.new_empty(layer.values.shape)
    for start, stop, positions, crow, col in _iter_column_tiles(layer, tile_units):
        pattern = csr_tensor(crow, col, grad.new_zeros(col.shape), (layer.out_features, stop - start))
        tile = torch.sparse.sampled_addmm(pattern, grad_columns, h[:, start:stop], beta=0.0)
        # index_put_ rather than index_copy_, which takes int64 positions only.
        grad.index_put_((positions,), tile.values())
    return grad


class SparseWeightProduct(torch.autograd.Function):
    """y = h W^T + b for a dense h and a CSR weight given by its live values.

    The forward pass and the input gradient are bag sums
    (:func:`_bag_product`) over W's structure and over its transpose; the
    output is row-major, the layout the loss and the top-N selection read
    row by row.  The weight gradient is the dense product sampled at the
    live entries only (:func:`_sampled_weight_gradient`).  No (out, in)
    dense tensor is ever allocated.
    """

    @staticmethod
    def forward(ctx, h, values, bias, layer):
        ctx.save_for_backward(h, values)
        ctx.layer = layer
        out = _bag_product(h, layer.crow_indices, layer.col_indices, values, layer.out_features)
        return out.add_(bias.to(out.dtype))

    @staticmethod
    def backward(ctx, grad_out):
        h, values = ctx.saved_tensors
        layer = ctx.layer
        grad_h = grad_values = grad_bias = None
        if ctx.needs_input_grad[0]:
            # Input unit j sums the output gradients of its links.
            grad_h = _bag_product(
                grad_out,
                layer.t_crow_indices,
                layer.t_col_indices,
                _to_input_major(layer, values),
                layer.in_features,
            )
        if ctx.needs_input_grad[1]:
            grad_values = _sampled_weight_gradient(layer, grad_out, h)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_out.sum(0)
        return grad_h, grad_values, grad_bias, None


#: Index buffers of a sparse MaskedLinear, all rebuilt from its mask.


def _cached(layer, key, build):
    """``build()``, computed once per layer (the structure never changes)."""
    cache = layer.__dict__.setdefault("_host_cache", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def _host_indices(layer, *names):
    """numpy views (or copies) of index buffers for scipy, in its index dtype, cached.

    scipy would otherwise convert int64 buffers on every product; int32
    buffers (:func:`csr_structure`) are shared, not copied.
    """
    dtype = np.int32 if index_dtype(layer._shape, layer.values.numel()) == torch.int32 else np.int64
    return _cached(
        layer,
        ("numpy", names),
        lambda: tuple(getattr(layer, name).cpu().numpy().astype(dtype, copy=False) for name in names),
    )


def column_tiles(layer, width):
    """The CSR structure cut into tiles of ``width`` input units.

    A list of (start, stop, positions, crow, col): the tile's own CSR
    structure (columns counted from ``start``) and where its entries sit
    in ``values``, in the dtype of the layer's indices.  Each row's links
    are sorted by column, so every tile keeps the rows' order.  Only the
    row pointers are cached (:func:`_tile_rows`); the positions and
    columns, 8 bytes per live weight in int32 (241 MB at K = 15,000 with
    R = 0.1 K on 20,108 items), are made again on every call.
    """
    return list(_iter_column_tiles(layer, width))


def _iter_column_tiles(layer, width):
    """:func:`column_tiles` one tile at a time, so that one tile's indices exist at once."""
    col = layer.col_indices.cpu()
    for start, stop, crow, first in _tile_rows(layer, width):
        counts = crow.diff()
        n_entries = int(crow[-1])
        # A row's links in the tile are contiguous in ``values`` from ``first``.
        positions = torch.repeat_interleave(first - crow[:-1], counts, output_size=n_entries)
        positions.add_(torch.arange(n_entries, dtype=positions.dtype))
        yield start, stop, positions, crow, col.index_select(0, positions).sub_(start)


def _tile_rows(layer, width):
    """Per tile of ``width`` input units: (start, stop, crow, first), cached.

    ``crow`` is the tile's row pointers and ``first[r]`` the position in
    ``values`` of row r's first link in the tile: 2 (out + 1) integers per
    tile.
    """

    def build():
        crow, col = layer.crow_indices.cpu(), layer.col_indices.cpu()
        rows = layer.row_indices.cpu()
        first = crow[:-1].clone()
        tiles = []
        for start in range(0, layer.in_features, width):
            stop = min(start + width, layer.in_features)
            counts = torch.bincount(rows[(col >= start) & (col < stop)], minlength=layer.out_features)
            tile_crow = torch.zeros(layer.out_features + 1, dtype=torch.int64)
            tile_crow[1:] = torch.cumsum(counts, 0)
            tiles.append((start, stop, tile_crow.to(crow.dtype), first.clone()))
            first += counts.to(first.dtype)
        return tiles

    return _cached(layer, ("tiles", width), build)


def _host_sparse_input_product(layer, x):
    """x W^T + b for a coalesced CPU COO batch without autograd (prediction).

    Three ways, each making the same sums, fastest first:

    * inside a :func:`frozen_weights` block, when the layer's weights fit a
      dense (in, out) table of at most ``_DENSE_TABLE_ENTRIES`` entries and
      that table's rows hold at most ``_DENSE_TABLE_MAX_RATIO`` times the
      links of an input: one weighted bag sum of whole table rows per user
      (``embedding_bag``, contiguous rows, torch's threads), the table
      written once per block (:func:`_dense_input_major`);
    * a uniform mask (every input with the same number of links, as
      ItemGrouper makes): users split across threads, each gathering whole
      rows of its (in, degree) table of weights per non-zero and adding
      them into its row (:func:`_host_uniform_product`);
    * any other mask: scipy's sparse-times-sparse product (SMMP with a
      dense row accumulator), by blocks of users across threads.

    On 1,000 ML-1M users (K = 2,622, R = 300) the bag sums took 15 ms
    (27 ms with the table's construction), SMMP 19 ms and the gather
    104 ms; on 5,000 users of the ML-20M shape (K = 1,000, R = 100, whose
    table exceeds the bound) the gather took 109 ms and SMMP 147 ms; on
    1,000 citeulike-t users (K = 3,000, R = 300, also over the bound) 22 and
    44 ms (``benchmarks/bench_prediction.py``; benchmarks/RESULTS.md,
    issue 19, sixth and seventh sessions).
    """
    table = _dense_input_major(layer)
    if table is not None:
        batch_rows, inputs = x.indices()
        offsets = torch.searchsorted(batch_rows, torch.arange(x.shape[0], dtype=batch_rows.dtype))
        return F.embedding_bag(inputs, table, offsets, mode="sum", per_sample_weights=x.values()) + layer.bias
    if layer._uniform_in_degree is not None:
        return _host_uniform_product(layer, x) + layer.bias
    t_crow, t_col = _host_indices(layer, "t_crow_indices", "t_col_indices")
    weight_t = sp.csr_array(
        (_input_major_values(layer).numpy(), t_col, t_crow),
        shape=(layer.in_features, layer.out_features),
        copy=False,
    )
    batch_rows, inputs = x.indices()
    indptr = np.zeros(x.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(batch_rows.numpy(), minlength=x.shape[0]), out=indptr[1:])
    batch = sp.csr_array((x.values().numpy(), inputs.numpy(), indptr), shape=tuple(x.shape), copy=False)
    out = np.empty((x.shape[0], layer.out_features), dtype=weight_t.dtype)

    def users(start, stop):
        out[start:stop] = (batch[start:stop] @ weight_t).toarray()

    run_blocks(users, x.shape[0], max(1, -(-x.shape[0] // torch.get_num_threads())))
    return torch.from_numpy(out) + layer.bias


def _host_uniform_product(layer, x):
    """x W^T (without the bias) of a uniform mask, by blocks of users on torch's threads.

    The non-zeros of a coalesced batch are sorted by user, so a block of
    users owns a contiguous run of them and a block of output rows: the
    threads write disjoint rows, and each output sums its terms in
    non-zero order whatever the blocks, as one call would.
    """
    degree, n_out = layer._uniform_in_degree, layer._shape[0]
    by_input = _input_major_values(layer).view(-1, degree)
    batch_rows, inputs = x.indices()
    x_values = x.values()
    n_rows = x.shape[0]
    out = by_input.new_zeros((n_rows, n_out))
    # first[u]: the position of user u's first non-zero.
    first = torch.searchsorted(batch_rows, torch.arange(n_rows + 1, dtype=batch_rows.dtype)).tolist()

    def users(start, stop):
        lo, hi = first[start], first[stop]
        block = out[start:stop].view(-1)
        for a, b in _term_chunks(hi - lo, degree, out.device):
            rows, cols = batch_rows[lo + a : lo + b] - start, inputs[lo + a : lo + b]
            terms = by_input.index_select(0, cols).mul_(x_values[lo + a : lo + b, None])
            units = layer.t_col_indices.view(-1, degree).index_select(0, cols).to(rows.dtype)
            block.index_add_(0, units.add_(rows[:, None] * n_out).view(-1), terms.view(-1))

    run_blocks(users, n_rows, max(1, -(-n_rows // torch.get_num_threads())))
    return out


#: Largest dense (in, out) weight table a frozen block writes out for the
#: sparse-input product on the CPU (64 MiB of float32): ML-1M's 3,532 items
#: x 2,622 units fit, ML-20M's 20,108 items x 1,000 units do not.
_DENSE_TABLE_ENTRIES = 1 << 24

#: ...and only while a table row holds at most this many times an input's
#: links: a bag sum of dense rows costs out multiply-adds per non-zero
#: against degree scattered terms, each about 15 to 40 times dearer.
_DENSE_TABLE_MAX_RATIO = 16


def _dense_input_major(layer):
    """W^T as a dense (in, out) table, once per :func:`frozen_weights` block; None where not worth it.

    Outside a block there is nothing to amortize writing the table over,
    and a large or very sparse layer keeps its gather (see
    :func:`_host_sparse_input_product`).
    """
    if _frozen_cache(layer) is None:
        return None
    return _per_block(layer, "dense_input_major", lambda: _dense_table(layer))


def _dense_table(layer):
    n_out, n_in = layer._shape
    n_live = layer.values.numel()
    if n_in * n_out > _DENSE_TABLE_ENTRIES or n_out * n_in > _DENSE_TABLE_MAX_RATIO * n_live:
        return None
    table = layer.values.new_zeros(n_in * n_out)
    inputs = csr_rows(layer.t_crow_indices).long()
    table[inputs * n_out + layer.t_col_indices.long()] = _input_major_values(layer)
    return table.view(n_in, n_out)


def _input_major_values(layer):
    """The live weights in input-major (transposed) order, once per :func:`frozen_weights` block.

    A prediction of many batches would otherwise permute all the weights
    again for every batch.
    """
    return _per_block(layer, "input_major", lambda: _to_input_major(layer, layer.values.detach()))


def _frozen_cache(layer):
    return layer.__dict__.get("_host_cache", {}).get("frozen")


def _per_block(layer, key, build):
    """``build()``, kept until the enclosing :func:`frozen_weights` block ends (made anew outside one)."""
    cache = _frozen_cache(layer)
    if cache is None:
        return build()
    if key not in cache:
        cache[key] = build()
    return cache[key]


@contextlib.contextmanager
def frozen_weights(module):
    """A block in which the weights of ``module`` do not change (prediction, validation).

    The sparse layers may keep what they derive from their weights for the
    length of the block (:func:`_input_major_values`); it is dropped on
    exit, so nothing outlives a change of the weights.  Nested blocks share
    the outermost one's cache.
    """
    opened = []
    for layer in module.modules():
        if getattr(layer, "t_order", None) is not None:
            cache = layer.__dict__.setdefault("_host_cache", {})
            if "frozen" not in cache:
                cache["frozen"] = {}
                opened.append(cache)
    try:
        yield module
    finally:
        for cache in opened:
            cache.pop("frozen", None)


#: Terms (non-zero x link) per chunk of the sparse-input product on the CPU
#: (see _UniformSparseInputProduct).
_CHUNK_TERMS = 1 << 21


def _term_chunks(n_nonzeros, degree, device):
    """(start, stop) ranges of non-zeros of at most ``_CHUNK_TERMS`` terms; one on a GPU."""
    step = max(1, _CHUNK_TERMS // max(degree, 1)) if device.type == "cpu" else max(n_nonzeros, 1)
    return [(start, min(start + step, n_nonzeros)) for start in range(0, n_nonzeros, step)]


class _UniformSparseInputProduct(torch.autograd.Function):
    """x W^T (without the bias) for a COO batch when every input has ``degree`` links.

    Every input's links sit contiguously in the transposed order, so the
    non-zeros gather whole rows of (in, degree) tables: one term per
    (non-zero, link), summed into the flat (batch, out) output by
    ``index_add_``.  The terms are made a chunk of non-zeros at a time
    (one chunk on a GPU) and the backward pass makes them again rather than
    keeping them: an autograd graph of the same operations kept a flat
    index of every term and held the terms, their gather and their
    gradients at once, 1.5 GB at K = 15,000 with 500 users of the ML-20M
    shape.  ``index_add_`` on the CPU adds in index order, so each output
    and each weight gradient sums its terms in the same order as one call
    over the batch would.
    """

    @staticmethod
    def forward(ctx, values, batch_rows, inputs, x_values, n_rows, layer):
        ctx.save_for_backward(batch_rows, inputs, x_values)
        ctx.layer, ctx.n_rows = layer, n_rows
        degree, n_out = layer._uniform_in_degree, layer._shape[0]
        by_input = _to_input_major(layer, values).view(-1, degree)
        out = values.new_zeros(n_rows * n_out)
        for start, stop in _term_chunks(inputs.numel(), degree, values.device):
            terms = by_input.index_select(0, inputs[start:stop]).mul_(x_values[start:stop, None])
            out.index_add_(0, _flat_outputs(layer, batch_rows, inputs, start, stop, n_rows), terms.view(-1))
        return out.view(n_rows, n_out)

    @staticmethod
    def backward(ctx, grad_out):
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None
        batch_rows, inputs, x_values = ctx.saved_tensors
        layer, n_rows = ctx.layer, ctx.n_rows
        degree = layer._uniform_in_degree
        grad_flat = grad_out.contiguous().view(-1)
        grad_by_input = grad_flat.new_zeros((layer.in_features, degree))
        for start, stop in _term_chunks(inputs.numel(), degree, grad_out.device):
            flat = _flat_outputs(layer, batch_rows, inputs, start, stop, n_rows)
            grad_terms = grad_flat.index_select(0, flat).view(-1, degree).mul_(x_values[start:stop, None])
            grad_by_input.index_add_(0, inputs[start:stop], grad_terms)
        grad_values = _to_output_major(layer, grad_by_input.view(-1))
        return grad_values, None, None, None, None, None


def _flat_outputs(layer, batch_rows, inputs, start, stop, n_rows):
    """Flat (batch, out) positions of the terms of non-zeros ``start:stop``.

    int32 when they fit (``index_add_`` and ``index_select`` take either).
    """
    dtype = index_dtype((), n_rows * layer._shape[0])
    units = layer.t_col_indices.view(-1, layer._uniform_in_degree).index_select(0, inputs[start:stop]).to(dtype)
    return units.add_(batch_rows[start:stop].to(dtype)[:, None] * layer._shape[0]).view(-1)


def sparse_input_product(layer, x):
    """x W^T for a coalesced COO batch: one term per (non-zero, link)."""
    if (
        x.device.type == "cpu"
        and not (torch.is_grad_enabled() and layer.values.requires_grad)
        and x.dtype == layer.values.dtype
        and x.dtype in (torch.float32, torch.float64)
    ):
        return _host_sparse_input_product(layer, x)
    batch_rows, inputs = x.indices()
    x_values = x.values()
    degree = layer._uniform_in_degree
    if degree is not None and not x_values.requires_grad and x_values.dtype == layer.values.dtype:
        out = _UniformSparseInputProduct.apply(layer.values, batch_rows, inputs, x_values, x.shape[0], layer)
        return out + layer.bias
    if degree is not None:
        # Every input has ``degree`` links stored contiguously in the
        # transposed order: gather whole rows of (in, degree) tables
        # rather than one term at a time.
        by_input = layer.values.index_select(0, layer.t_order).view(-1, degree)
        weights = by_input.index_select(0, inputs)
        units = layer.t_col_indices.view(-1, degree).index_select(0, inputs)
        terms = (x_values[:, None] * weights).reshape(-1)
        flat = (batch_rows[:, None] * layer._shape[0] + units.long()).reshape(-1)
    else:
        counts = layer.t_crow_indices[inputs + 1] - layer.t_crow_indices[inputs]
        total = int(counts.sum())  # one synchronization: uneven masks only
        first = torch.cumsum(counts, 0) - counts
        positions = torch.repeat_interleave(
            layer.t_crow_indices[inputs] - first, counts, output_size=total
        ) + torch.arange(total, device=x.device)
        term_rows = torch.repeat_interleave(batch_rows, counts, output_size=total)
        term_x = torch.repeat_interleave(x_values, counts, output_size=total)
        # index_select rather than advanced indexing: its backward is an
        # index_add into the live weights' gradient rather than an
        # accumulating index_put.
        terms = term_x * layer.values.index_select(0, layer.t_order.index_select(0, positions))
        flat = term_rows * layer._shape[0] + layer.t_col_indices.index_select(0, positions)
    out = terms.new_zeros(x.shape[0] * layer._shape[0]).index_add_(0, flat, terms)
    return out.view(x.shape[0], layer._shape[0]) + layer.bias
