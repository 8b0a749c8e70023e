"""A generator of implicit feedback with planted, overlapping item groups."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params


@validate_params(
    {
        "n_users": [Interval(Integral, 1, None, closed="left")],
        "n_items": [Interval(Integral, 1, None, closed="left")],
        "n_groups": [Interval(Integral, 1, None, closed="left")],
        "density": [Interval(Real, 0, 1, closed="neither")],
        "item_overlap": [Interval(Real, 0, 1, closed="both")],
        "groups_per_user": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, 1, closed="both")],
        "popularity_exponent": [Interval(Real, 0, None, closed="left")],
        "activity_dispersion": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_interactions(
    n_users=1000,
    n_items=500,
    n_groups=10,
    *,
    density=0.01,
    item_overlap=0.2,
    groups_per_user=2,
    noise=0.1,
    popularity_exponent=0.8,
    activity_dispersion=1.0,
    random_state=None,
):
    """Generate a users x items implicit-feedback matrix with planted item groups.

    Every item belongs to one primary group (groups have equal size up to
    one item) and, with probability ``item_overlap``, to a second one.  Item
    popularity follows a power law (Zipf with ``popularity_exponent``) over a
    random order of the items.  Every user likes ``groups_per_user`` groups;
    each of their interactions picks one of those groups and draws an item
    of it in proportion to popularity, except for a fraction ``noise`` of
    interactions drawn from all items by popularity.  User activity is
    log-normal with ``activity_dispersion`` as the standard deviation of its
    log, scaled to reach ``density``.  Vectorized: the ML-20M shape
    (136,677 x 20,108 at density 0.0036) takes a few seconds.

    Parameters
    ----------
    n_users : int, default=1000
        Number of users (rows).
    n_items : int, default=500
        Number of items (columns).
    n_groups : int, default=10
        Number of planted item groups.
    density : float in (0, 1), default=0.01
        Target fraction of non-zero entries.  Repeated draws of the same
        (user, item) pair are merged, so the realized density is a little
        lower, more so for skewed popularity.
    item_overlap : float in [0, 1], default=0.2
        Probability that an item also belongs to a second group.  0 gives
        disjoint groups.
    groups_per_user : int, default=2
        Number of groups each user draws from.
    noise : float in [0, 1], default=0.1
        Fraction of interactions drawn from all items, ignoring groups.
    popularity_exponent : float >= 0, default=0.8
        Exponent of the Zipf law of item popularity; 0 is uniform.
    activity_dispersion : float >= 0, default=1.0
        Standard deviation of the log of user activity; 0 gives every user
        the same number of draws.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : scipy.sparse.csr_array of shape (n_users, n_items), dtype float32
        Binary interactions.  Every user has at least one item.
    groups : scipy.sparse.csr_array of shape (n_groups, n_items), dtype bool
        The planted membership: ``groups[g, i]`` is True when item i belongs
        to group g.  Its ``argmax(axis=0)`` is each item's primary group.

    Examples
    --------
    >>> from sklearn_swdae.datasets import make_interactions
    >>> X, groups = make_interactions(100, 40, 4, density=0.1, random_state=0)
    >>> X.shape, groups.shape
    ((100, 40), (4, 40))
    >>> bool(X.sum(axis=1).min() >= 1)
    True
    """
    rng = check_random_state(random_state)
    n_groups = min(n_groups, n_items)

    # Planted membership: balanced primary groups plus optional second ones.
    primary = rng.permutation(np.arange(n_items) % n_groups)
    has_second = rng.random_sample(n_items) < item_overlap if n_groups > 1 else np.zeros(n_items, bool)
    second = (primary + rng.randint(1, max(n_groups, 2), size=n_items)) % n_groups
    member_group = np.concatenate([primary, second[has_second]])
    member_item = np.concatenate([np.arange(n_items), np.flatnonzero(has_second)])
    groups = sp.csr_array(
        (np.ones(member_item.size, dtype=bool), (member_group, member_item)),
        shape=(n_groups, n_items),
    )

    popularity = np.empty(n_items)
    popularity[rng.permutation(n_items)] = 1.0 / np.arange(1, n_items + 1) ** popularity_exponent

    # Per-group inverse CDFs laid end to end: group g owns the interval
    # [g, g + 1), so one searchsorted call samples items for every draw.
    order = np.lexsort((member_item, member_group))
    member_group, member_item = member_group[order], member_item[order]
    weights = popularity[member_item]
    group_sizes = np.bincount(member_group, minlength=n_groups)
    cumulative = np.cumsum(weights)
    before_group = np.concatenate([[0.0], cumulative[np.cumsum(group_sizes)[:-1] - 1]])
    group_totals = np.bincount(member_group, weights=weights, minlength=n_groups)
    cdf = member_group + (cumulative - before_group[member_group]) / group_totals[member_group]
    global_cdf = np.cumsum(popularity) / popularity.sum()

    mean_draws = density * n_items
    activity = rng.lognormal(0.0, activity_dispersion, size=n_users)
    activity *= mean_draws / activity.mean()
    n_draws = np.maximum(1, rng.poisson(activity))
    n_draws = np.minimum(n_draws, n_items)
    liked = rng.randint(0, n_groups, size=(n_users, groups_per_user))

    def draw(users):
        draw_group = liked[users, rng.randint(0, groups_per_user, size=users.size)]
        u = draw_group + rng.random_sample(users.size) * (1 - 1e-12)
        items = member_item[np.minimum(np.searchsorted(cdf, u, side="right"), member_item.size - 1)]
        is_noise = rng.random_sample(users.size) < noise
        items[is_noise] = np.minimum(
            np.searchsorted(global_cdf, rng.random_sample(is_noise.sum()), side="right"), n_items - 1
        )
        return items

    # Repeated draws of a popular item merge into one interaction; top up the
    # missing ones for a few rounds so the realized density meets the target.
    users = np.repeat(np.arange(n_users), n_draws)
    X = sp.csr_array((np.ones(users.size, np.float32), (users, draw(users))), shape=(n_users, n_items))
    for _ in range(8):
        X.sum_duplicates()
        missing = n_draws - np.diff(X.indptr)
        if missing.sum() <= 0.001 * n_draws.sum():
            break
        users = np.repeat(np.arange(n_users), np.maximum(missing, 0))
        extra = sp.csr_array((np.ones(users.size, np.float32), (users, draw(users))), shape=(n_users, n_items))
        X = X + extra
    X.sum_duplicates()
    X.data[:] = 1.0
    X = X.astype(np.float32)
    return X, groups
