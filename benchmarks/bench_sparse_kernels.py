"""Why the sparse decoder uses ``embedding_bag``: torch's CSR product against it.

Times, on one device, the two products of a sparse decoder layer of shape
(n_items, K) with R = 0.1 K random links per item and a batch of 500 users:

* forward, ``out^T = W h^T``: ``torch.sparse.mm`` on the CSR weight against
  ``F.embedding_bag`` over the columns of h (what ``MaskedLinear`` uses);
* input gradient, ``grad_h^T = W^T g^T``: the same two over the transposed
  links;

and prints milliseconds per call and the ratio CSR / embedding_bag.

Usage::

    python benchmarks/bench_sparse_kernels.py --ks 1000 4000 --threads 1
"""

import argparse
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F


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
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    m, b = args.n_items, args.batch
    print(f"items {m}, batch {b}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print("| K | product | CSR sparse.mm (ms) | embedding_bag (ms) | CSR / embedding_bag |")
    print("|---|---|---|---|---|")
    for k in args.ks:
        r = max(1, k // 10)
        rng = np.random.default_rng(0)
        units = np.sort(np.argpartition(rng.random((m, k), dtype=np.float32), r - 1, axis=1)[:, :r], 1)
        rows = torch.arange(m).repeat_interleave(r)
        cols = torch.from_numpy(units.ravel().astype(np.int64))
        values = torch.randn(m * r)
        crow = torch.arange(0, m * r + 1, r)
        order = torch.from_numpy(np.lexsort((rows.numpy(), cols.numpy())))
        t_crow = torch.zeros(k + 1, dtype=torch.long)
        t_crow[1:] = torch.cumsum(torch.bincount(cols, minlength=k), 0)
        weight = torch.sparse_csr_tensor(crow, cols, values, (m, k))
        weight_t = torch.sparse_csr_tensor(t_crow, rows[order], values[order], (k, m))
        h_columns = torch.randn(k, b)
        g_columns = torch.randn(m, b)
        cases = {
            "forward": (
                lambda: torch.sparse.mm(weight, h_columns),
                lambda: F.embedding_bag(cols, h_columns, crow[:-1], mode="sum", per_sample_weights=values),
            ),
            "input gradient": (
                lambda: torch.sparse.mm(weight_t, g_columns),
                lambda: F.embedding_bag(
                    rows[order], g_columns, t_crow[:-1], mode="sum", per_sample_weights=values[order]
                ),
            ),
        }
        for name, (csr, bag) in cases.items():
            torch.testing.assert_close(csr(), bag(), rtol=1e-4, atol=1e-3)  # same product
            t_csr, t_bag = _time(csr, args.repeats), _time(bag, args.repeats)
            print(f"| {k} | {name} | {t_csr:.0f} | {t_bag:.0f} | {t_csr / t_bag:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
