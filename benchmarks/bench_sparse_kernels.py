"""The sparse decoder's kernels: torch's CSR product, embedding_bag, blocks and tiles.

Times, on one device, the three products of a sparse decoder layer of shape
(n_items, K) with R = 0.1 K random links per item and a batch of 500 users:

* forward, ``out^T = W h^T``: ``torch.sparse.mm`` on the CSR weight against
  ``F.embedding_bag`` over the columns of h, in one call (as is, and with
  the copy to the row-major (batch, items) layout the loss and the top-N
  read) and, as ``MaskedLinear`` does on the CPU, in blocks of 64 users
  with a row-major result (``_kernels._bag_product``), the blocks dealt to
  torch's threads, against the same blocks one after another (the CPU
  path before the seventh session of issue 19);
* input gradient, ``grad_h^T = W^T g^T``: the same over the transposed
  links (each hidden unit reads scattered rows of the large (n_items,
  batch) gradient), and a scatter by scipy's CSC product (one pass over
  the gradient rows into a block of users, what ``MaskedLinear`` used on
  the CPU before the blocked gather replaced it);
* weight gradient, ``g^T h`` at the live entries: ``sampled_addmm`` in one
  call against, as ``MaskedLinear`` does on the CPU, tiles of 1,024 input
  units (``_kernels._sampled_weight_gradient``);
* the permutations of the live weights between the layer's order and the
  transposed order (twice per training step: the encoder's forward pass
  and the decoder's input gradient; back once: the encoder's weight
  gradient): one ``index_select`` and an ``index_add_`` into zeros against
  the blocks on torch's threads that ``MaskedLinear`` uses
  (``_kernels._to_input_major``, ``_kernels._to_output_major``);

and prints milliseconds per call and each kernel's time relative to the
first kernel of its product.  Every kernel is checked against that first
one before it is timed.

Usage::

    python benchmarks/bench_sparse_kernels.py --ks 1000 4000 15000
    python benchmarks/bench_sparse_kernels.py --ks 1000 4000 --threads 1
"""

import argparse
import time

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from sklearn_swdae import _kernels
from sklearn_swdae._kernels import _bag_product, _sampled_weight_gradient
from sklearn_swdae._kernels import csr_tensor as _csr_tensor
from sklearn_swdae.layers import MaskedLinear


def _csc_scatter(weight_t, grad_columns):
    """W^T g^T by scipy's CSC product ``weight_t`` (what the CPU path was before).

    Blocks of users whose (in, users) accumulator fills at most 2 MB, dealt
    to torch's number of threads.
    """
    out = np.empty((weight_t.shape[0], grad_columns.shape[1]), dtype=np.float32)

    def users(start, stop):
        out[:, start:stop] = weight_t @ grad_columns[:, start:stop].numpy()

    n_users = grad_columns.shape[1]
    fitting = max(32, (2 << 20) // (4 * weight_t.shape[0]))
    _kernels.run_blocks(users, n_users, min(fitting, -(-n_users // torch.get_num_threads())))
    return torch.from_numpy(out)


def _blocks_in_turn(a, crow, col, weights, n_out):
    """``_kernels._bag_product``'s CPU path before its blocks went to threads: one block after another."""
    out = a.new_empty((a.shape[0], n_out))
    for start in range(0, a.shape[0], _kernels._BLOCK_USERS):
        stop = start + _kernels._BLOCK_USERS
        block = F.embedding_bag(col, a[start:stop].t().contiguous(), crow[:-1], mode="sum", per_sample_weights=weights)
        out[start:stop] = block.t()
    return out


def _time(fn, repeats):
    fn()
    tic = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - tic) / repeats * 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--n-items", type=int, default=20108)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    m, b = args.n_items, args.batch
    print(f"items {m}, batch {b}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print("| K | product | kernel | ms | / first kernel |")
    print("|---|---|---|---|---|")
    for k in args.ks:
        r = max(1, k // 10)
        rng = np.random.default_rng(0)
        units = np.sort(np.argpartition(rng.random((m, k), dtype=np.float32), r - 1, axis=1)[:, :r], 1)
        mask = sp.csr_array((np.ones(m * r, bool), (np.repeat(np.arange(m), r), units.ravel())), shape=(m, k))
        layer = MaskedLinear(rng.standard_normal((m, k)).astype(np.float32), mask, backend="sparse")
        values = layer.values.detach()
        weight = _csr_tensor(layer.crow_indices, layer.col_indices, values, (m, k))
        weight_t = _csr_tensor(layer.t_crow_indices, layer.t_col_indices, values[layer.t_order], (k, m))
        h_columns = torch.randn(k, b)
        h_rows = h_columns.t().contiguous()
        g_columns = torch.randn(m, b)
        g_rows = g_columns.t().contiguous()
        t_values = values[layer.t_order]
        # W^T in CSC form is W's CSR arrays (indices in scipy's int32, built once).
        csc = sp.csc_array(
            (values.numpy(), layer.col_indices.numpy().astype(np.int32), layer.crow_indices.numpy().astype(np.int32)),
            shape=(k, m),
        )
        cases = {
            "forward": {
                "embedding_bag": lambda: F.embedding_bag(
                    layer.col_indices, h_columns, layer.crow_indices[:-1], mode="sum", per_sample_weights=values
                ),
                "CSR sparse.mm": lambda: torch.sparse.mm(weight, h_columns),
                "embedding_bag, then row-major copy": lambda: (
                    F.embedding_bag(
                        layer.col_indices, h_columns, layer.crow_indices[:-1], mode="sum", per_sample_weights=values
                    )
                    .t()
                    .contiguous()
                    .t()
                ),
                "embedding_bag, 64-user blocks in turn": lambda: _blocks_in_turn(
                    h_rows, layer.crow_indices, layer.col_indices, values, m
                ).t(),
                "embedding_bag, 64-user blocks on threads": lambda: _bag_product(
                    h_rows, layer.crow_indices, layer.col_indices, values, m
                ).t(),
            },
            "input gradient": {
                "embedding_bag": lambda: F.embedding_bag(
                    layer.t_col_indices, g_columns, layer.t_crow_indices[:-1], mode="sum", per_sample_weights=t_values
                ),
                "CSR sparse.mm": lambda: torch.sparse.mm(weight_t, g_columns),
                "host CSC scatter": lambda: _csc_scatter(csc, g_columns),
                "embedding_bag, 64-user blocks in turn": lambda: _blocks_in_turn(
                    g_rows, layer.t_crow_indices, layer.t_col_indices, t_values, k
                ).t(),
                "embedding_bag, 64-user blocks on threads": lambda: _bag_product(
                    g_rows, layer.t_crow_indices, layer.t_col_indices, t_values, k
                ).t(),
            },
            "to input-major": {
                "index_select, one call": lambda: values.index_select(0, layer.t_order),
                "index_select, blocks on threads": lambda: _kernels._to_input_major(layer, values),
            },
            "back to output-major": {
                "index_add_ into zeros, one call": lambda: values.new_zeros(values.shape).index_add_(
                    0, layer.t_order, t_values
                ),
                "index_copy_, blocks on threads": lambda: _kernels._to_output_major(layer, t_values),
            },
            "weight gradient": {
                "sampled_addmm, one call": lambda: _sampled_weight_gradient(layer, g_rows, h_rows, tile_units=k),
                f"sampled_addmm, tiles of {_kernels._WEIGHT_GRAD_TILE_UNITS} inputs": lambda: _sampled_weight_gradient(
                    layer, g_rows, h_rows
                ),
            },
        }
        for name, kernels in cases.items():
            first, reference = None, None
            times = {}
            for kernel, fn in kernels.items():
                if reference is None:
                    first, reference = kernel, fn()
                torch.testing.assert_close(fn(), reference, rtol=1e-4, atol=1e-3)  # same product
                times[kernel] = _time(fn, args.repeats)
            for kernel, ms in times.items():
                print(f"| {k} | {name} | {kernel} | {ms:.0f} | {ms / times[first]:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
