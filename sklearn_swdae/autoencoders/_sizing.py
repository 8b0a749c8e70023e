"""Sizing SW-DAE to a parameter budget (the paper's SW-DAE-p)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["n_clusters_for_parameters"]


@validate_params(
    {
        "n_parameters": [Interval(Integral, 1, None, closed="left")],
        "n_items": [Interval(Integral, 1, None, closed="left")],
        "overlap": [Interval(Integral, 1, None, closed="left"), Interval(Real, 0, 1, closed="right")],
        "max_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "rtol": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def n_clusters_for_parameters(n_parameters, n_items, *, overlap=0.1, max_clusters=None, rtol=0.01):
    """The K that gives SW-DAE a parameter budget (the paper's SW-DAE-p).

    With every item linked to R of K
    groups, SW-DAE has ``2 * n_items * R + K + n_items`` parameters (the
    encoder's and decoder's live weights, then the biases).  This returns
    the K whose count is closest to ``n_parameters``, e.g. the
    ``n_parameters_`` of a fitted :class:`MultVAERecommender`, as for
    SW-DAE-p in Table 2 of the paper (ML-20M: about 24.2M parameters, K =
    6,000 at R = 0.1 K; the 600-200 Mult-VAE of this package has
    24,511,308 on ML-20M's 20,108 items, which gives K = 6,085).

    Parameters
    ----------
    n_parameters : int
        The parameter budget.
    n_items : int
        Number of items.
    overlap : int or float, default=0.1
        R, or a fraction of K, as ``ItemGrouper(overlap=...)``.
    max_clusters : int or None, default=None
        Largest K allowed; None means ``n_items`` (K-means needs at least
        as many items as clusters).
    rtol : float, default=0.01
        Largest relative distance to the budget accepted.

    Returns
    -------
    n_clusters : int
        K for ``ItemGrouper(n_clusters=K, overlap=overlap)``.

    Raises
    ------
    ValueError
        When no K up to ``max_clusters`` comes within ``rtol`` of the
        budget; the message gives the closest count.  On data with few
        items a budget such as Mult-VAE's may need K > n_items at R = 0.1 K:
        a larger ``overlap`` reaches it.

    Examples
    --------
    >>> from sklearn_swdae import n_clusters_for_parameters
    >>> n_clusters_for_parameters(24_511_308, 20108)
    6085
    >>> K = n_clusters_for_parameters(50_000, 500)
    >>> K, 2 * 500 * 49 + K + 500
    (494, 49994)
    """
    max_clusters = n_items if max_clusters is None else max_clusters
    if isinstance(overlap, Integral):
        candidates = np.arange(int(overlap), max_clusters + 1)
        links = np.full(candidates.shape, int(overlap))
    else:
        candidates = np.arange(1, max_clusters + 1)
        links = np.maximum(1, np.floor(float(overlap) * candidates + 0.5)).astype(np.int64)
    if candidates.size == 0:
        raise ValueError(f"overlap={overlap!r} needs more than max_clusters={max_clusters} clusters.")
    counts = 2 * n_items * links + candidates + n_items
    best = int(np.argmin(np.abs(counts - n_parameters)))
    K = int(candidates[best])
    if abs(counts[best] - n_parameters) > rtol * n_parameters:
        raise ValueError(
            f"No K <= max_clusters={max_clusters} gives SW-DAE about n_parameters={n_parameters} "
            f"with overlap={overlap!r} on {n_items} items: the closest is K={K} with "
            f"{int(counts[best])} parameters. Use a larger overlap (R) or max_clusters."
        )
    return K
