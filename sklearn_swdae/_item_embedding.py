"""The item embedding of the grouping stage: the spectrum of the co-occurrence matrix (Algorithms 1 and 2)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, svds
from sklearn.utils.extmath import randomized_svd, svd_flip
from sklearn.utils.validation import check_random_state
from threadpoolctl import threadpool_limits

from ._clustering import _n_cpus

# Stored entries per row block of the Lanczos solvers' products.  The
# blocks are fixed by the matrix alone, not by the number of CPUs, so that
# the summation order, hence the embedding, is the same on any machine.
_PRODUCT_BLOCK_NNZ = 1 << 20

# Above this residual the spectral solver is considered not converged and
# fit warns; ARPACK and PROPACK reach ~1e-10, randomized SVD ~1e-3..1e-5.
_SPECTRUM_RESIDUAL_WARN = 1e-2


def _item_degrees(X):
    """Degrees of the item co-occurrence graph, X^T (X 1), without X^T X."""
    return np.asarray(X.T @ np.asarray(X.sum(axis=1)).ravel(), dtype=np.float64).ravel()


class _RowBlockOperator(LinearOperator):
    """A sparse CSR matrix whose products run by blocks of rows, one thread per CPU.

    The Lanczos solvers spend nearly all their time in ``A @ x`` and
    ``A.T @ y`` (about 560 of each for 50 vectors of the ML-20M shape);
    scipy's sparse products are single-threaded but release the GIL, so
    blocks of rows on several threads use every core.  ``A.T @ y`` adds
    the blocks' partial products in block order.
    """

    def __init__(self, A, n_threads):
        A = sp.csr_array(A)
        super().__init__(A.dtype, A.shape)
        # Row boundaries at (about) every _PRODUCT_BLOCK_NNZ stored entries;
        # the blocks are views of A's arrays, not copies.
        cuts = np.searchsorted(A.indptr, np.arange(_PRODUCT_BLOCK_NNZ, A.nnz, _PRODUCT_BLOCK_NNZ))
        bounds = np.unique(np.concatenate([[0], cuts, [A.shape[0]]]))
        self._rows = list(zip(bounds[:-1], bounds[1:]))
        self._blocks = []
        for start, stop in self._rows:
            lo, hi = A.indptr[start], A.indptr[stop]
            parts = (A.data[lo:hi], A.indices[lo:hi], A.indptr[start : stop + 1] - lo)
            self._blocks.append(sp.csr_array(parts, shape=(stop - start, A.shape[1])))
        self._n_threads = max(1, min(n_threads, len(self._blocks)))
        self._pool = None

    def __enter__(self):
        if self._n_threads > 1:
            self._pool = ThreadPoolExecutor(max_workers=self._n_threads)
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _map(self, function):
        if self._pool is None:
            return [function(i) for i in range(len(self._blocks))]
        return list(self._pool.map(function, range(len(self._blocks))))

    def _matmat(self, X):
        return np.concatenate(self._map(lambda i: self._blocks[i] @ X))

    def _rmatmat(self, Y):
        partial = self._map(lambda i: self._blocks[i].T @ Y[slice(*self._rows[i])])
        total = partial[0]
        for block in partial[1:]:
            total += block
        return total

    def _matvec(self, x):
        return self._matmat(x)

    def _rmatvec(self, y):
        return self._rmatmat(y)


def _top_right_singular(A, k, solver, tol, random_state):
    """Top-k right singular vectors and values of a sparse matrix, best first.

    The sign of every vector is fixed (largest absolute component positive)
    so that the embedding does not depend on the solver's arbitrary signs.
    """
    if solver == "randomized":
        u, s, vt = randomized_svd(A, k, n_oversamples=max(10, k), n_iter=7, random_state=random_state)
    else:
        rng = check_random_state(random_state)
        # ARPACK iterates on the smaller Gram matrix, PROPACK on A's rows.
        v0 = rng.uniform(-1, 1, size=min(A.shape) if solver == "arpack" else A.shape[0])
        # The Lanczos solvers spend their time in the sparse products (run by
        # row blocks on one thread per CPU) and in BLAS level-1/2 calls on
        # vectors of length n_items; BLAS threads only add synchronization
        # to those (never faster in the measurements of
        # benchmarks/RESULTS.md), so BLAS runs single-threaded.
        with threadpool_limits(limits=1, user_api="blas"), _RowBlockOperator(A, _n_cpus()) as operator:
            u, s, vt = svds(operator, k=k, tol=tol, solver=solver, v0=v0)
    order = np.argsort(s)[::-1]
    u, s, vt = u[:, order], s[order], vt[order]
    u, vt = svd_flip(u, vt, u_based_decision=False)
    return s, vt.T


def _relative_residuals(A, s, V):
    """||A^T A v - s^2 v|| / s_1^2 per vector: how well each pair is converged.

    Scaled by the largest eigenvalue (the norm of A^T A) rather than each
    pair's own, so that pairs with a (numerically) zero eigenvalue of a
    rank-deficient X do not report huge relative errors.
    """
    AtAV = A.T @ (A @ V)
    lam = s**2
    scale = lam.max(initial=0.0)
    return np.linalg.norm(AtAV - V * lam, axis=0) / (scale if scale > 0 else 1.0)
