"""The sparse decoder's kernels: torch's CSR product, embedding_bag and a host scatter.

Times, on one device, the two products of a sparse decoder layer of shape
(n_items, K) with R = 0.1 K random links per item and a batch of 500 users:

* forward, ``out^T = W h^T``: ``torch.sparse.mm`` on the CSR weight against
  ``F.embedding_bag`` over the columns of h, in one call (as is, and with
  the copy to the row-major (batch, items) layout the loss and the top-N
  read) and, as ``MaskedLinear`` does, in blocks of 64 users with a
  row-major result;
* input gradient, ``grad_h^T = W^T g^T``: the same two over the transposed
  links (a gather: each hidden unit reads scattered rows of the large
  (n_items, batch) gradient), and, on the CPU, the scatter that
  ``MaskedLinear`` uses there (``layers._host_transposed_product``: scipy's
  CSC product, one pass over the gradient rows into a cache-sized block of
  users, blocks on threads);

and prints milliseconds per call and each kernel's time relative to
``embedding_bag``.

Usage::

    python benchmarks/bench_sparse_kernels.py --ks 1000 4000 --threads 1
    python benchmarks/bench_sparse_kernels.py --ks 1000 4000 --threads 2
"""

import argparse
import time

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from sklearn_swdae.layers import MaskedLinear, _csr_tensor, _host_transposed_product, _SparseWeightProduct


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
    print("| K | product | kernel | ms | / embedding_bag |")
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
        zero_bias = torch.zeros(m)
        g_columns = torch.randn(m, b)
        cases = {
            "forward": {
                "CSR sparse.mm": lambda: torch.sparse.mm(weight, h_columns),
                "embedding_bag": lambda: F.embedding_bag(
                    layer.col_indices, h_columns, layer.crow_indices[:-1], mode="sum", per_sample_weights=values
                ),
                "embedding_bag, then row-major copy": lambda: F.embedding_bag(
                    layer.col_indices, h_columns, layer.crow_indices[:-1], mode="sum", per_sample_weights=values
                )
                .t()
                .contiguous()
                .t(),
                "embedding_bag, 64-user blocks": lambda: _SparseWeightProduct.apply(
                    h_rows, values, zero_bias, layer
                ).t(),
            },
            "input gradient": {
                "CSR sparse.mm": lambda: torch.sparse.mm(weight_t, g_columns),
                "embedding_bag": lambda: F.embedding_bag(
                    layer.t_col_indices,
                    g_columns,
                    layer.t_crow_indices[:-1],
                    mode="sum",
                    per_sample_weights=values[layer.t_order],
                ),
                "host CSC scatter": lambda: _host_transposed_product(layer, values, g_columns.t()).t(),
            },
        }
        for name, kernels in cases.items():
            reference = kernels["embedding_bag"]()
            times = {}
            for kernel, fn in kernels.items():
                torch.testing.assert_close(fn(), reference, rtol=1e-4, atol=1e-3)  # same product
                times[kernel] = _time(fn, args.repeats)
            for kernel, ms in times.items():
                print(f"| {k} | {name} | {kernel} | {ms:.0f} | {ms / times['embedding_bag']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
