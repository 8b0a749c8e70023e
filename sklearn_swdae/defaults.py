"""Defaults that follow the shape of the data, and the paper's settings.

The paper sizes SW-DAE for data with a hundred thousand users (ML-20M:
116,677 training users, 20,108 items): batch 500, 100 epochs, K = 15,000
hidden units, R = 0.1 K links per item.  On a few thousand users the same
settings give one to ten Adam steps per epoch and a layer too sparse for a
small catalogue, and the model barely moves from popularity.  The "auto"
values of :class:`~sklearn_swdae.ItemGrouper` and
:class:`~sklearn_swdae.SparseWideDAERecommender` are resolved at fit by the
functions of this module, each a documented function of the training data's
shape (users, items) and never of a dataset's identity; on data of the
paper's size they give the paper's settings.  How each rule was chosen (on
validation users only) is in the user guide's hyperparameter page and in
``benchmarks/RESULTS.md``.

:func:`paper_settings` returns the paper's exact settings as constructor
arguments, for reproducing its Table 3.
"""

import math
from numbers import Integral

__all__ = [
    "auto_batch_size",
    "auto_hidden_dropout",
    "auto_n_clusters",
    "auto_n_components",
    "auto_overlap",
    "paper_settings",
]

#: K / n_items of the paper's models: K = 15,000 for ML-20M's 20,108 items
#: (60.3M parameters, its Table 2) and 13,000 for Netflix's 17,769.
CLUSTERS_PER_ITEM = 0.75

#: The paper's R / K (10% of a fully connected layer's weights).
PAPER_OVERLAP = 0.1

#: Fewest links per item that "auto" gives: below this R the validation
#: studies found the layer too sparse (ML-100K and ML-1M, K = 1,000:
#: R = 100 lost to R = 300 at both batch sizes; benchmarks/RESULTS.md).
MIN_LINKS = 300

#: Training users per link beyond MIN_LINKS: R grows with the evidence each
#: item's weights are estimated from, reaching the paper's R = 1,500 at
#: ML-20M's 116,677 training users (116,677 / 78 = 1,496).
USERS_PER_LINK = 78

#: Most live links (n_items x R) of one "auto" layer: the paper's ML-20M
#: model (20,108 items x R = 1,500), so that a larger catalogue gets fewer
#: links per item (the paper itself stopped at K = 9,000, R = 900, for MSD's
#: 41,140 items) instead of a memory and time that grow as n_items squared.
MAX_LINKS = 20_108 * 1_500

#: Adam steps per epoch that ``batch_size="auto"`` aims at; the paper's
#: batch of 500 gives 233 on ML-20M, and the rule never exceeds that batch.
STEPS_PER_EPOCH = 40

#: Batch bounds of ``batch_size="auto"``: the paper's 500 at the top; at the
#: bottom, mini-batches small enough to give 40 steps on 1,280 users but not
#: so small that one step's noise drowns the signal.
MIN_BATCH_SIZE, MAX_BATCH_SIZE = 32, 500

#: Hidden dropout of ``hidden_dropout="auto"``: the paper's 0.2 from
#: LARGE_DATA_USERS training users on, 0.5 up to SMALL_DATA_USERS.
PAPER_HIDDEN_DROPOUT, SMALL_DATA_HIDDEN_DROPOUT = 0.2, 0.5
SMALL_DATA_USERS, LARGE_DATA_USERS = 1_000, 3_000

#: The paper's embedding dimension F.
PAPER_N_COMPONENTS = 50


def _check_count(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    return int(value)


def _links_per_item(n_items, n_users):
    """R before K is known: at least MIN_LINKS, one per 78 users, within the link budget."""
    return max(1, min(max(MIN_LINKS, int(n_users / USERS_PER_LINK + 0.5)), MAX_LINKS // n_items))


def auto_n_clusters(n_items, n_users):
    """K, the number of item groups (hidden units), for ``n_clusters="auto"``.

    ``K = min(0.75 * n_items, 10 * R)``, rounded, where R is the links per
    item the data supports (``max(300, n_users / 78)`` within the link
    budget of :func:`auto_overlap`):

    - 0.75 items per group is the paper's ratio (K = 15,000 for ML-20M's
      20,108 items, 13,000 for Netflix's 17,769); a wide layer is cheap, as
      training time and memory grow with the links ``n_items * R``, not K;
    - but no wider than 10 R, so that the layer is never sparser than the
      paper's R = 0.1 K.  With few users per item R stays small, and a K of
      0.75 items would leave each group a sliver of any history: on
      citeulike-t's validation users (5,219 users, 24,103 articles)
      K = 17,663 at R = 300 trained slower and ended lower than K = 3,000
      (``benchmarks/RESULTS.md``).  On the paper's three datasets the cap
      gives its own K (ML-20M 14,960; Netflix 13,327; MSD 7,330 where the
      paper used 9,000 at R = 900).

    :class:`~sklearn_swdae.ItemGrouper` lowers K to the number of distinct
    item embeddings when that is smaller.

    Parameters
    ----------
    n_items, n_users : int
        Columns and rows of the matrix the groups are learned from.

    Returns
    -------
    n_clusters : int
        Between 1 and ``n_items``; :class:`~sklearn_swdae.ItemGrouper` may
        lower it further (see above).

    Examples
    --------
    >>> from sklearn_swdae.defaults import auto_n_clusters
    >>> auto_n_clusters(20_108, 116_677), auto_n_clusters(3_496, 6_034)
    (14960, 2622)
    >>> auto_n_clusters(24_103, 5_219), auto_n_clusters(3, 10)
    (3000, 2)
    """
    n_items = _check_count("n_items", n_items)
    n_users = _check_count("n_users", n_users)
    K = min(int(CLUSTERS_PER_ITEM * n_items + 0.5), int(_links_per_item(n_items, n_users) / PAPER_OVERLAP + 0.5))
    return max(1, K)


def auto_overlap(n_clusters, n_items, n_users):
    """R, the links per item, for ``overlap="auto"``.

    ``R = max(min(300, K), min(0.1 K, n_users / 78))``, then at most
    ``30,162,000 / n_items`` and at most K:

    - at least 300 links (all K when K < 300): on small catalogues the
      paper's 0.1 K leaves items too few hidden units (validation users of
      ML-100K and ML-1M preferred R = 300 to R = 100 at K = 1,000);
    - beyond that, one link per 78 users, up to the paper's 0.1 K: the
      paper's R = 1,500 at ML-20M's 116,677 users, and 0.1 K on larger data;
    - a budget of links, the paper's ML-20M model (20,108 x 1,500), that
      keeps memory and time from growing as n_items squared.

    Parameters
    ----------
    n_clusters : int
        K.
    n_items : int
        Number of items.
    n_users : int
        Number of users the groups are learned from.

    Returns
    -------
    R : int
        Between 1 and ``n_clusters``.

    Examples
    --------
    >>> from sklearn_swdae.defaults import auto_overlap
    >>> auto_overlap(15_081, 20_108, 116_677), auto_overlap(2622, 3496, 6034)
    (1496, 300)
    >>> auto_overlap(20, 30, 500), auto_overlap(30_855, 41_140, 571_355)
    (20, 733)
    """
    K = _check_count("n_clusters", n_clusters)
    n_items = _check_count("n_items", n_items)
    n_users = _check_count("n_users", n_users)
    # max(min(300, K), min(0.1 K, users / 78)) within the budget, written as
    # the links the data supports capped by the paper's share of K.
    paper_share = max(min(MIN_LINKS, K), int(PAPER_OVERLAP * K + 0.5))
    return max(1, min(K, paper_share, _links_per_item(n_items, n_users)))


def auto_n_components(n_users, n_items):
    """F, the embedding dimension, for ``n_components="auto"``.

    The paper's F = 50, capped below the number of users and of items (a
    truncated SVD of an n x m matrix has fewer than min(n, m) components).

    Examples
    --------
    >>> from sklearn_swdae.defaults import auto_n_components
    >>> auto_n_components(6040, 3706), auto_n_components(30, 12)
    (50, 11)
    """
    n_users = _check_count("n_users", n_users)
    n_items = _check_count("n_items", n_items)
    return max(1, min(PAPER_N_COMPONENTS, min(n_users, n_items) - 1))


def auto_batch_size(n_users):
    """Users per mini-batch for ``batch_size="auto"``.

    ``n_users / 40`` rounded, within [32, 500]: about 40 Adam steps per
    epoch on small data, the paper's batch of 500 from 20,000 training users
    on (ML-20M gets 500, 233 steps per epoch).  Small data needs the steps:
    at batch 500, 700 training users make two steps per epoch and 200 in
    all, too few for the sparse layer's weights, each of which sees only
    the users of its item's groups.

    Parameters
    ----------
    n_users : int
        Users the model trains on (after the validation hold-out).

    Returns
    -------
    batch_size : int
        Between ``MIN_BATCH_SIZE`` and ``MAX_BATCH_SIZE``.

    Examples
    --------
    >>> from sklearn_swdae.defaults import auto_batch_size
    >>> [auto_batch_size(n_users) for n_users in (116_677, 4_345, 483)]
    [500, 109, 32]
    """
    n_users = _check_count("n_users", n_users)
    return int(min(MAX_BATCH_SIZE, max(MIN_BATCH_SIZE, round(n_users / STEPS_PER_EPOCH))))


def auto_hidden_dropout(n_users):
    """Dropout on SW-DAE's hidden layer for ``hidden_dropout="auto"``.

    0.5 up to 1,000 training users, the paper's 0.2 from 3,000 on, and in
    between a straight line in the logarithm of the users (0.41 at 1,400
    users, 0.31 at 2,000).  Fewer users means fewer histories per weight,
    and a wide layer then overfits them sooner: paired by training seed on
    validation users (``benchmarks/RESULTS.md``, ninth session), dropout 0.5
    instead of 0.2 gained 0.005 NDCG@100 on ML-100K (677 users; 4 of 5
    seeds) and on ml-latest-small (435 users; 2 of 2) and changed little on
    citeulike-t (3,759 users: +0.0005) and ML-1M (4,349 users: -0.0006 and
    -0.0011).  Where between 1,000 and 3,000 users the gain ends was not
    measured; the line splits the difference.

    Parameters
    ----------
    n_users : int
        Users the model trains on (after the validation hold-out).

    Returns
    -------
    hidden_dropout : float
        Between 0.2 and 0.5.

    Examples
    --------
    >>> from sklearn_swdae.defaults import auto_hidden_dropout
    >>> [auto_hidden_dropout(n_users) for n_users in (435, 1_000, 2_000, 3_000, 116_677)]
    [0.5, 0.5, 0.31, 0.2, 0.2]
    """
    n_users = _check_count("n_users", n_users)
    if n_users <= SMALL_DATA_USERS:
        return SMALL_DATA_HIDDEN_DROPOUT
    if n_users >= LARGE_DATA_USERS:
        return PAPER_HIDDEN_DROPOUT
    share = math.log(n_users / SMALL_DATA_USERS) / math.log(LARGE_DATA_USERS / SMALL_DATA_USERS)
    # Two decimals: the value is a setting users read and reuse, not a fit.
    return round(SMALL_DATA_HIDDEN_DROPOUT - share * (SMALL_DATA_HIDDEN_DROPOUT - PAPER_HIDDEN_DROPOUT), 2)


def paper_settings(n_clusters=1000, *, n_components=PAPER_N_COMPONENTS):
    """The paper's settings of SW-DAE, as constructor arguments.

    Section 4.3 of Khawar et al. (WWW 2020): sigmoid hidden units, input
    dropout 0.6, hidden dropout 0.2, Adam with learning rate 1e-3, batch
    500, all of 100 epochs (the best one kept on validation users; no
    early stopping), F = 50,
    R = 0.1 K, K searched in multiples of 1,000, and the trained weights
    themselves (no averaging).  Use it to reproduce
    Table 3; the package's defaults differ where validation users said so.

    Parameters
    ----------
    n_clusters : int, default=1000
        K (the paper searches it; 15,000 for ML-20M).
    n_components : int, default=50
        F.

    Returns
    -------
    params : dict
        Keyword arguments of :class:`~sklearn_swdae.SparseWideDAERecommender`
        (its ``grouper`` included).

    Examples
    --------
    >>> from sklearn_swdae import SparseWideDAERecommender
    >>> from sklearn_swdae.defaults import paper_settings
    >>> model = SparseWideDAERecommender(**paper_settings(n_clusters=3000), random_state=0)
    >>> model.batch_size, model.grouper.overlap
    (500, 0.1)
    """
    from .grouping import ItemGrouper  # grouping imports this module

    n_clusters = _check_count("n_clusters", n_clusters)
    n_components = _check_count("n_components", n_components)
    return {
        "grouper": ItemGrouper(n_clusters=n_clusters, overlap=PAPER_OVERLAP, n_components=n_components),
        "activation": "sigmoid",
        "loss": "multinomial",
        "input_dropout": 0.6,
        "hidden_dropout": PAPER_HIDDEN_DROPOUT,
        "alpha": 0.0,
        "learning_rate": 1e-3,
        "batch_size": 500,
        "max_iter": 100,
        "n_iter_no_change": None,
        "average_half_life": None,
    }
