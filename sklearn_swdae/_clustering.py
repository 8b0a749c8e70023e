"""K-means for many clusters and the linking of every item to its nearest centroids.

The grouping stage clusters the embedded items into K groups (K in the
thousands) and links each item to its R nearest centroids; these are the
blocked, threaded kernels that keep both steps within memory and time.
"""

import mmap
import threading
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from ._parallel import worker_thread_limit

# Item rows processed per block when linking items to centroids: bounds the
# (block, K) float64 distance matrix to ~31 MB at K = 15,000.
_LINK_BLOCK = 256

# At large K, k-means++ seeding precomputes all item-item squared distances
# (float32) when they fit in this budget: up to about 23,000 items (ML-20M
# has 20,108: 1.5 GiB).  Larger item sets compute them step by step.
_KMEANS_PP_CACHE_BYTES = 2 * 1024**3


def _n_cpus():
    """CPUs this process may use (affinity and cgroup quotas included), and
    no more than a parallel sweep gives its worker process."""
    return max(1, min(joblib.cpu_count(), worker_thread_limit() or joblib.cpu_count()))


def _run_blocks(process, starts, *, serial_blas_threads):
    """Call ``process(start)`` for every start, on one thread per CPU.

    With several threads BLAS is single-threaded, so they do not
    oversubscribe the cores; run on one thread, BLAS gets
    ``serial_blas_threads`` (None: no limit).
    """
    n_threads = min(_n_cpus(), len(starts))
    with threadpool_limits(limits=1 if n_threads > 1 else serial_blas_threads, user_api="blas"):
        if n_threads > 1:
            with ThreadPoolExecutor(max_workers=n_threads) as pool:
                list(pool.map(process, starts))
        else:
            for start in starts:
                process(start)


def _nearest_centroids(embedding, centers, n_links):
    """Indices of the ``n_links`` nearest centroids of every row, nearest first.

    Ties are broken by the lower centroid index (within the ``n_links``
    selected; which of several centroids tied at the boundary is selected
    is not specified).  Blocks of ``_LINK_BLOCK`` items are processed by one
    thread per CPU: numpy's partition and sort release the GIL.
    """
    n_items, n_clusters = embedding.shape[0], centers.shape[0]
    out = np.empty((n_items, n_links), dtype=np.int64)
    # Squared distances up to the per-item constant ||x||^2, which does not
    # change the ranking of the centroids of an item, by one product of the
    # augmented rows [x, 1] . [-2c, ||c||^2] (no passes over the result).
    left = np.hstack([embedding, np.ones((n_items, 1))])
    center_sq = np.einsum("ij,ij->i", centers, centers)[:, None]
    right = np.ascontiguousarray(np.hstack([-2.0 * centers, center_sq]).T)
    local = threading.local()

    def link(start):
        block = left[start : start + _LINK_BLOCK]
        if not hasattr(local, "buffer"):
            # Reused: fresh (block, K) arrays would cost page faults every time.
            local.buffer = np.empty((_LINK_BLOCK, n_clusters))
        dist = np.dot(block, right, out=local.buffer[: len(block)])
        out[start : start + len(block)] = _rank_nearest(dist, n_links)

    _run_blocks(link, range(0, n_items, _LINK_BLOCK), serial_blas_threads=None)
    return out


def _rank_nearest(dist, n_links):
    """Column indices of the ``n_links`` smallest entries of every row, smallest first.

    Ties are broken by the lower column index.  numpy's default sort ranks
    every row and the stable one re-ranks only the rows where a distance
    ties among those selected: the linking that sorted every selection by
    index and then stably by distance (with a sampled bound at large K)
    took 1.4x as long at K = 15,000 (benchmarks/RESULTS.md, issue 19,
    eighth session).
    """
    if n_links < dist.shape[1]:
        part = np.argpartition(dist, n_links - 1, axis=1)[:, :n_links]
    else:
        part = np.broadcast_to(np.arange(dist.shape[1]), dist.shape)
    part_dist = np.take_along_axis(dist, part, axis=1)
    order = np.argsort(part_dist, axis=1)
    ranked = np.take_along_axis(part_dist, order, axis=1)
    nearest = np.take_along_axis(part, order, axis=1)
    tied = np.flatnonzero((ranked[:, 1:] == ranked[:, :-1]).any(axis=1))
    if tied.size:
        # Ascending index first, so that the stable sort breaks ties by index.
        by_index = np.sort(part[tied], axis=1)
        tied_dist = np.take_along_axis(dist[tied], by_index, axis=1)
        nearest[tied] = np.take_along_axis(by_index, np.argsort(tied_dist, axis=1, kind="stable"), axis=1)
    return nearest


class _SquaredDistances:
    """Squared Euclidean distances from rows of X to all rows, as float32.

    One matrix product of the augmented rows [x, ||x||^2, 1] . [-2y, 1, ||y||^2]
    gives ||x||^2 + ||y||^2 - 2 x.y in float64 without further passes over
    the result; it is clipped at zero and rounded to float32 on the way out.
    """

    def __init__(self, X):
        sq = np.einsum("ij,ij->i", X, X)[:, None]
        ones = np.ones_like(sq)
        self.left = np.hstack([X, sq, ones])
        self.right = np.ascontiguousarray(np.hstack([-2.0 * X, ones, sq]).T)

    def __call__(self, rows, out=None, buffer=None):
        left = self.left[rows]
        product = np.dot(left, self.right, out=None if buffer is None else buffer[: len(left)])
        if out is None:
            out = np.empty(product.shape, dtype=np.float32)
        return np.maximum(product, 0.0, out=out, casting="same_kind")


def _fresh_pages(shape, dtype):
    """An uninitialized array in memory of its own, mapped in small pages.

    numpy asks the kernel for transparent huge pages on large arrays; where
    the kernel's policy is "madvise" and memory is fragmented, the kernel
    then compacts memory to make each 2 MB page on the first write, which
    for the 1.6 GB of ML-20M's item-item distances took longer than the
    small pages' faults (benchmarks/RESULTS.md, issue 19, sixth session).
    """
    n_bytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    flags = getattr(mmap, "MAP_PRIVATE", None)
    if flags is None or not hasattr(mmap, "MAP_ANONYMOUS") or n_bytes == 0:
        return np.empty(shape, dtype=dtype)  # not a POSIX system
    buffer = mmap.mmap(-1, n_bytes, flags=flags | mmap.MAP_ANONYMOUS)
    return np.frombuffer(buffer, dtype=dtype).reshape(shape)


def _all_squared_distances(squared_distances, n_samples):
    """The (n, n) float32 squared distances, by blocks of rows on one thread per CPU.

    Each block is one float64 product with single-threaded BLAS (numpy
    releases the GIL in it and in the rounding to float32), so the threads
    share nothing: on the busy 2-core machine this took 0.4-0.6 of the time
    of the same blocks computed in order by two-threaded BLAS.
    """
    all_dist = _fresh_pages((n_samples, n_samples), np.float32)
    local = threading.local()

    def block(start):
        if not hasattr(local, "buffer"):
            local.buffer = np.empty((min(_LINK_BLOCK, n_samples), n_samples))
        rows = slice(start, start + _LINK_BLOCK)
        squared_distances(rows, out=all_dist[rows], buffer=local.buffer)

    _run_blocks(block, range(0, n_samples, _LINK_BLOCK), serial_blas_threads=1)
    np.fill_diagonal(all_dist, 0.0)  # exact, not round-off
    return all_dist


#: Items per block of the sampling sums of :func:`_kmeans_plusplus`.
_SAMPLING_BLOCK = 256


def _sample_by_weight(weights, targets):
    """``np.searchsorted(np.cumsum(weights, dtype=float64), targets)``, clipped to the items.

    A cumulative sum of all the weights is a sequential pass that took about
    a quarter of the k-means++ step loop; here only the float64 sums of
    blocks of ``_SAMPLING_BLOCK`` weights (pairwise summation, vectorized)
    and the cumulative sums of the blocks the targets fall in are computed.
    The partial sums are rounded differently from one sequential pass (at the
    1e-16 relative level), which can only matter for a target at that
    distance from a boundary.
    """
    n = weights.shape[0]
    n_blocks = -(-n // _SAMPLING_BLOCK)
    padded = np.zeros(n_blocks * _SAMPLING_BLOCK, dtype=weights.dtype)
    padded[:n] = weights
    blocks = padded.reshape(n_blocks, _SAMPLING_BLOCK)
    ends = np.cumsum(blocks.sum(axis=1, dtype=np.float64))
    block_ids = np.minimum(np.searchsorted(ends, targets), n_blocks - 1)
    before = np.where(block_ids > 0, ends[block_ids - 1], 0.0)
    within = before[:, None] + np.cumsum(blocks[block_ids], axis=1, dtype=np.float64)
    offsets = np.minimum((within < targets[:, None]).sum(axis=1), _SAMPLING_BLOCK - 1)
    return np.minimum(block_ids * _SAMPLING_BLOCK + offsets, n - 1)


def _kmeans_plusplus(X, n_clusters, random_state):
    """Greedy k-means++ seeding of dense X; returns the initial centers.

    The algorithm and its random draws are those of
    :func:`sklearn.cluster.kmeans_plusplus` (Arthur and Vassilvitskii 2007
    with 2 + log(K) local trials per center, uniform sample weights): every
    step draws the trials in proportion to the current squared distance to
    the nearest center and keeps the one that reduces the potential most.
    It is faster at large K (``benchmarks/RESULTS.md``, "Grouping speed",
    has the figures):

    * with (2 + log K) * K draws among n points, most points are drawn many
      times, so when that number exceeds n and the n x n squared distances
      fit in ``_KMEANS_PP_CACHE_BYTES`` as float32 (n up to about 23,000),
      they are computed once, in float64 by large matrix products on one
      thread per CPU (:func:`_all_squared_distances`), and every step only
      gathers the rows of its candidates;
    * otherwise each step computes its candidates' rows with BLAS
      single-threaded (the products are too small to share);
    * in both cases the distances are rounded to float32, so the result does
      not depend on the path; the relative rounding (6e-8) only moves
      sampling boundaries, by far less than the sampling noise;
    * the draws search block sums rather than one cumulative sum
      (:func:`_sample_by_weight`), and the candidates' potentials are
      summed in float64 as before.
    """
    n_samples, n_features = X.shape
    n_local_trials = 2 + int(np.log(n_clusters))
    squared_distances = _SquaredDistances(X)
    precompute = (n_clusters - 1) * n_local_trials >= n_samples and (4 * n_samples**2 <= _KMEANS_PP_CACHE_BYTES)
    if precompute:
        all_dist = _all_squared_distances(squared_distances, n_samples)

    def distances_from(ids):
        if precompute:
            return np.take(all_dist, ids, axis=0)  # a copy, faster than all_dist[ids]
        dist = squared_distances(ids)
        dist[np.arange(ids.size), ids] = 0.0
        return dist

    # The distances are float32 values, so their minima are too: ``closest``
    # is exact in float32, and the sums are accumulated in float64.
    centers = np.empty((n_clusters, n_features), dtype=X.dtype)
    with threadpool_limits(limits=1, user_api="blas"):
        first = random_state.choice(n_samples, p=np.full(n_samples, 1.0 / n_samples))
        centers[0] = X[first]
        closest = distances_from(np.array([first]))[0]
        current_pot = closest.sum(dtype=np.float64)
        for c in range(1, n_clusters):
            rand_vals = random_state.uniform(size=n_local_trials) * current_pot
            candidate_ids = _sample_by_weight(closest, rand_vals)
            to_candidates = distances_from(candidate_ids)  # a fresh array: updated in place
            np.minimum(to_candidates, closest, out=to_candidates)
            candidates_pot = to_candidates.sum(axis=1, dtype=np.float64)
            best = np.argmin(candidates_pot)
            current_pot = candidates_pot[best]
            closest = to_candidates[best]
            centers[c] = X[candidate_ids[best]]
    return centers


def _kmeans(X, n_clusters, init, n_init, max_iter, random_state):
    """K-means of dense X: the best of ``n_init`` runs of Lloyd's algorithm.

    The same runs as ``KMeans(n_clusters, init=init, n_init=n_init,
    max_iter=max_iter, random_state=random_state)`` with two differences
    that make it faster at large K (``benchmarks/RESULTS.md``, "Grouping
    speed" and issue 19's "Sixth session"):

    * the k-means++ seeding is :func:`_kmeans_plusplus` (scikit-learn's
      greedy k-means++ makes K (2 + log K) small BLAS calls, most of the
      time of K-means at large K); it runs on X as given, so the seeds are
      scikit-learn's;
    * Lloyd's iterations run on X rounded to float32: each is an (n, K)
      distance product, and single precision halves the bytes it moves.
      Rounding moves every coordinate by at most 6e-8 of its value, so a
      label can differ from float64's only for a point within round-off
      of two centroids.  The centers are returned in X's dtype.
    """
    X32 = np.asarray(X, dtype=np.float32)
    if init != "k-means++":
        best = KMeans(
            n_clusters=n_clusters, init=init, n_init=n_init, max_iter=max_iter, random_state=random_state
        ).fit(X32)
    else:
        best = None
        for _ in range(n_init):
            centers = _kmeans_plusplus(X, n_clusters, random_state).astype(np.float32)
            kmeans = KMeans(
                n_clusters=n_clusters, init=centers, n_init=1, max_iter=max_iter, random_state=random_state
            ).fit(X32)
            if best is None or kmeans.inertia_ < best.inertia_:
                best = kmeans
    best.cluster_centers_ = best.cluster_centers_.astype(X.dtype)
    return best


# auto_wrap_output_keys=None: transform's output is sparse and carries the
# connectivity, which no pandas or polars container could hold; set_output
