"""Where SW-DAE's prediction spends its time on the CPU: the encoder's three paths, the decoder, recommend.

A SW-DAE with a random uniform mask (exactly R = ``--link-fraction`` x K
links per item, what ItemGrouper makes) is fitted for one epoch on 2,000
users, then, for ``--users`` other users of the matrix:

* the encoder's sparse-input product, by each of its three prediction
  paths (``_kernels._host_sparse_input_product``): the bag sums of a dense
  (items, K) weight table (timed with the table's one-off construction, and
  without it), the gather of whole weight rows of a uniform mask, and
  scipy's sparse-times-sparse product; each is checked against the first;
* the decoder alone on those users' hidden activations;
* ``recommend(X, top_n=100)`` in users per second, for each
  ``--block-users`` (users per bag sum of the decoder, ``_kernels._BLOCK_USERS``).

Each figure is the best of ``--repeats`` calls.  The dense table is only
used by the package when it has at most ``_DENSE_TABLE_ENTRIES`` entries
and at most ``_DENSE_TABLE_MAX_RATIO`` times the live weights; here it is
timed whatever its size, so that the bound can be checked.

Usage::

    python benchmarks/bench_prediction.py --cache ml-1m.npz --k 2622 --link-fraction 0.1144 --users 1000
    python benchmarks/bench_prediction.py --cache X.npz --k 1000 --users 5000 --block-users 64 128 256
"""

import argparse
import os
import time

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from _common import cpu_description, ml20m_shaped
from bench_training import _random_mask

from sklearn_swdae import SparseWideDAERecommender, _kernels
from sklearn_swdae._torch_utils import csr_to_torch


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - tic)
    return best


# Tables past this many entries (1 GiB of float32) are not timed.
_LARGEST_TIMED_TABLE = 1 << 28


def _encoder_paths(encoder, x, repeats):
    """Seconds of each path of the encoder's prediction product, checked against the gather."""

    def unbounded_table():
        # The package's bounds lifted: the table is timed at any size.
        bounds = _kernels._DENSE_TABLE_ENTRIES, _kernels._DENSE_TABLE_MAX_RATIO
        _kernels._DENSE_TABLE_ENTRIES, _kernels._DENSE_TABLE_MAX_RATIO = float("inf"), float("inf")
        try:
            return _kernels._dense_table(encoder)
        finally:
            _kernels._DENSE_TABLE_ENTRIES, _kernels._DENSE_TABLE_MAX_RATIO = bounds

    def scipy_product():
        degree, encoder._uniform_in_degree = encoder._uniform_in_degree, None
        try:
            return _kernels._host_sparse_input_product(encoder, x) - encoder.bias
        finally:
            encoder._uniform_in_degree = degree

    paths = {
        "gather (uniform mask)": lambda: _kernels._host_uniform_product(encoder, x),
        "scipy SMMP": scipy_product,
    }
    rows, inputs = x.indices()
    offsets = torch.searchsorted(rows, torch.arange(x.shape[0], dtype=rows.dtype))
    n_out, n_in = encoder._shape
    if n_out * n_in <= _LARGEST_TIMED_TABLE:
        with torch.no_grad(), _kernels.frozen_weights(encoder):
            table = unbounded_table()
        paths["dense table"] = lambda: F.embedding_bag(
            inputs, table, offsets, mode="sum", per_sample_weights=x.values()
        )
    seconds = {}
    # Inside one block, as in a prediction call: the input-major weights
    # are derived once, not per timed call.
    with torch.no_grad(), _kernels.frozen_weights(encoder):
        reference = paths["gather (uniform mask)"]()
        for name, fn in paths.items():
            torch.testing.assert_close(fn(), reference, rtol=1e-4, atol=1e-5)
            seconds[name] = _best(fn, repeats)
    if "dense table" in paths:
        seconds["dense table, with its construction"] = _best(unbounded_table, repeats) + seconds["dense table"]
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help=".npz matrix to read (or to write the ML-20M shape to)")
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--link-fraction", type=float, default=0.1, help="R / K")
    parser.add_argument("--users", type=int, default=5000, help="users scored (the last rows of the matrix)")
    parser.add_argument("--block-users", type=int, nargs="+", default=[_kernels._BLOCK_USERS])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    for name in ("k", "users", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if min(args.block_users) < 1:
        parser.error(f"--block-users must be positive integers, got {args.block_users}")
    if not 0 < args.link_fraction <= 1:
        parser.error(f"--link-fraction must be in (0, 1], got {args.link_fraction}")

    if args.cache and os.path.exists(args.cache):
        X = sp.csr_array(sp.load_npz(args.cache))
    else:
        X = ml20m_shaped()
        if args.cache:
            sp.save_npz(args.cache, sp.csr_matrix(X), compressed=False)
    X = X.astype(np.float32)
    n_users, n_items = X.shape
    if n_users < args.users + 2000:
        parser.error(f"--users {args.users} leaves fewer than 2,000 of the {n_users} users to fit on")
    R = max(1, round(args.link_fraction * args.k))
    mask = _random_mask(args.k, n_items, R)
    model = SparseWideDAERecommender(
        connectivity=mask, max_iter=1, batch_size=500, validation_fraction=None, device="cpu", random_state=0
    ).fit(X[:2000])
    query = X[-args.users :]
    print(f"{cpu_description()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{n_users} users x {n_items} items; K = {args.k}, R = {R}; {args.users} users, {query.nnz} non-zeros")

    model.module_.eval()
    encoder = model.module_.encoder
    x = csr_to_torch(query, torch.device("cpu"))
    seconds = _encoder_paths(encoder, x, args.repeats)
    with torch.no_grad(), _kernels.frozen_weights(model.module_):
        hidden = model.module_.encode(x)
        seconds["decoder alone"] = _best(lambda: model.module_.decoder(hidden), args.repeats)
    model.recommend(query[:100], top_n=100)  # one-off allocations
    default_block = _kernels._BLOCK_USERS
    try:
        for block in args.block_users:
            _kernels._BLOCK_USERS = block
            seconds[f"recommend, decoder blocks of {block} users"] = _best(
                lambda: model.recommend(query, top_n=100), args.repeats
            )
    finally:
        _kernels._BLOCK_USERS = default_block
    print("\n| step | ms | users/s |")
    print("|---|---:|---:|")
    for name, value in seconds.items():
        print(f"| {name} | {1e3 * value:.1f} | {args.users / value:,.0f} |")


if __name__ == "__main__":
    main()
