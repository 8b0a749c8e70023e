"""The item embedding of the grouping stage: the spectrum of the co-occurrence matrix (Algorithms 1 and 2)."""

import numpy as np
from scipy.sparse.linalg import svds
from sklearn.utils.extmath import randomized_svd, svd_flip
from sklearn.utils.validation import check_random_state
from threadpoolctl import threadpool_limits

# Above this residual the spectral solver is considered not converged and
# fit warns; ARPACK and PROPACK reach ~1e-10, randomized SVD ~1e-3..1e-5.
_SPECTRUM_RESIDUAL_WARN = 1e-2


def _item_degrees(X):
    """Degrees of the item co-occurrence graph, X^T (X 1), without X^T X."""
    return np.asarray(X.T @ np.asarray(X.sum(axis=1)).ravel(), dtype=np.float64).ravel()


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
        # The Lanczos solvers spend their time in single-threaded sparse
        # products and in BLAS level-1/2 calls on vectors of length n_items;
        # BLAS threads only add synchronization to those (never faster in
        # the measurements of benchmarks/RESULTS.md), so they run
        # single-threaded.
        with threadpool_limits(limits=1, user_api="blas"):
            u, s, vt = svds(A, k=k, tol=tol, solver=solver, v0=v0)
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
