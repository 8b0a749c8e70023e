"""The paper's preprocessing (section 4.1) and held-out split sizes (Table 1)."""

from collections.abc import Mapping
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._validation import as_interaction_matrix
from ..model_selection import DEFAULT_SPLIT_SEED, strong_generalization_split

__all__ = ["PREPROCESSING_PRESETS", "SPLIT_PRESETS", "paper_split", "preprocess_interactions"]

#: Thresholds of the paper's three datasets, which follow Liang et al.
#: (2018).  ``min_rating=None`` keeps every stored (non-zero) value.
PREPROCESSING_PRESETS = MappingProxyType(
    {
        "ml-20m": MappingProxyType({"min_rating": 4.0, "min_user_items": 5, "min_item_users": 0}),
        "netflix": MappingProxyType({"min_rating": 4.0, "min_user_items": 5, "min_item_users": 0}),
        "msd": MappingProxyType({"min_rating": None, "min_user_items": 20, "min_item_users": 200}),
    }
)

#: Number of validation users, and of test users, of Table 1 of the paper.
SPLIT_PRESETS = MappingProxyType({"ml-20m": 10_000, "netflix": 40_000, "msd": 50_000})


def _labels(X):
    """(matrix, user ids, item ids, other fields) of a Bunch, DataFrame or matrix."""
    if isinstance(X, Mapping):
        if "data" not in X:
            raise ValueError(
                "X must be a matrix or a dataset Bunch with a 'data' matrix (as load_movielens "
                f"returns); got a mapping with the keys {sorted(X)}."
            )
        fields = {key: value for key, value in X.items() if key != "data"}
        return X["data"], fields.pop("user_ids", None), fields.pop("item_ids", None), fields
    columns = getattr(X, "columns", None)
    if columns is not None:  # a pandas DataFrame: users are its index, items its columns
        if hasattr(X, "sparse"):
            try:
                return X.sparse.to_coo(), np.asarray(X.index), np.asarray(columns), {}
            except AttributeError:  # not every column is sparse
                pass
        return X.to_numpy(), np.asarray(X.index), np.asarray(columns), {}
    return X, None, None, {}


@validate_params(
    {
        "X": [Mapping, "array-like", "sparse matrix"],
        "preset": [StrOptions(set(PREPROCESSING_PRESETS)), None],
        "min_rating": [Real, None],
        "min_user_items": [Interval(Integral, 0, None, closed="left"), None],
        "min_item_users": [Interval(Integral, 0, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def preprocess_interactions(X, preset=None, *, min_rating=None, min_user_items=None, min_item_users=None):
    """Binarize and filter a users x items matrix as in the paper.

    The paper (section 4.1) reuses the preprocessing of Liang et al. (2018,
    "Variational autoencoders for collaborative filtering"):

    1. An entry is a positive interaction when its value is at least
       ``min_rating`` (ML-20M and Netflix: ratings of 4 or more; Liang's
       code keeps ``rating > 3.5``, the same on these half-star and
       whole-star scales).  Without ``min_rating`` (MSD), every stored
       non-zero value is positive (play counts are binarized).
    2. Items with fewer than ``min_item_users`` positive users are removed
       (MSD: 200).
    3. Then users with fewer than ``min_user_items`` positives among the
       remaining items are removed (all three datasets: 5 for ML-20M and
       Netflix, 20 for MSD).

    The filters run once, items first then users, exactly as Liang's
    ``filter_triplets``; they are not iterated to a fixed point, so after
    step 3 a few items may have fewer than ``min_item_users`` users.  As in
    Liang's triplet-based code, users and items left without any positive
    entry are always dropped.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items), or Bunch
        Ratings or counts.  A dataset :class:`~sklearn.utils.Bunch` of this
        package's loaders (e.g. ``load_movielens(...)``) is read with its
        ids and item metadata; a pandas DataFrame's index and columns are
        taken as the user and item ids.  NaN entries (unknown ratings) fail
        any ``min_rating`` test; without ``min_rating`` they count as
        interactions.
    preset : {"ml-20m", "netflix", "msd"}, default=None
        Thresholds of one of the paper's datasets (see
        ``PREPROCESSING_PRESETS``).  None applies only the thresholds given.
    min_rating : float, default=None
        Smallest value counted as positive.  Overrides the preset; pass 0
        to keep every non-negative value under a preset that has one.  None
        (and no preset value) keeps every non-zero value and then requires
        ``X`` to be non-negative.
    min_user_items : int, default=None
        Smallest number of positives a user needs to be kept.  Overrides
        the preset; None without preset means 0 (only empty users dropped).
    min_item_users : int, default=None
        Smallest number of positive users an item needs to be kept.
        Overrides the preset; None without preset means 0.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        As scikit-learn's dataset fetchers return, with the fields:

        - ``data``: scipy.sparse.csr_array of shape (n_kept_users,
          n_kept_items), dtype float32, 1 for the kept positive
          interactions.
        - ``user_ids``, ``item_ids``: the ids of the kept rows and columns
          (those of the Bunch or DataFrame given; for a plain matrix, its
          row and column numbers).
        - ``user_indices``, ``item_indices``: int64 row and column numbers
          of ``X`` of the kept users and items (``data[k]`` is row
          ``user_indices[k]`` of X).
        - for a loader's Bunch, its per-user and per-item fields (those
          named ``user_*`` and ``item_*``, such as ``item_titles`` and
          ``item_genres``) restricted to the kept users and items, and its
          other fields (``genre_names``, ``variant``, ``DESCR``) unchanged.

        A Bunch, not a tuple: where earlier development versions unpacked
        ``X, users, items = ...``, use ``data``, ``user_indices`` and
        ``item_indices`` (tuple unpacking now raises ``ValueError``).

    Notes
    -----
    Counts on three public MovieLens datasets with the ``"ml-20m"`` preset
    (ratings >= 4, users with >= 5 of them), checked independently with
    ``awk``:

    ================  ======  =====  ============
    dataset           users   items  interactions
    ================  ======  =====  ============
    ML-100K              938  1,447        55,361
    ML-1M (recon.)     6,034  3,532       575,270
    ml-latest-small      603  6,298        48,562
    ================  ======  =====  ============

    The 6 unknown ratings of the reconstructed ML-1M are dropped.  Table 1
    of the paper gives, on the full datasets: ML-20M 136,677 users x 20,108
    items (10.0M interactions), Netflix 463,435 x 17,769 (56.9M) and MSD
    571,355 x 41,140 (33.6M); those files were not available to check.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.datasets import preprocess_interactions
    >>> ratings = np.array([[5, 4, 4, 4, 4, 1],
    ...                     [5, 5, 0, 3, 0, 0],
    ...                     [4, 4, 5, 5, 4, 0]])
    >>> dataset = preprocess_interactions(ratings, "ml-20m")
    >>> dataset.user_indices.tolist(), dataset.item_indices.tolist()
    ([0, 2], [0, 1, 2, 3, 4])
    >>> dataset.data.toarray()
    array([[1., 1., 1., 1., 1.],
           [1., 1., 1., 1., 1.]], dtype=float32)

    A loader's Bunch keeps its ids (and, for MovieLens, titles and genres):

    >>> from sklearn.utils import Bunch
    >>> log = Bunch(data=ratings, user_ids=np.array([10, 20, 30]),
    ...             item_ids=np.array([101, 102, 103, 104, 105, 106]))
    >>> preprocess_interactions(log, "ml-20m").item_ids.tolist()
    [101, 102, 103, 104, 105]
    """
    settings = dict(PREPROCESSING_PRESETS[preset]) if preset is not None else {}
    for name, value in (
        ("min_rating", min_rating),
        ("min_user_items", min_user_items),
        ("min_item_users", min_item_users),
    ):
        if value is not None:
            settings[name] = value
    min_rating = settings.get("min_rating")
    min_user_items = settings.get("min_user_items") or 0
    min_item_users = settings.get("min_item_users") or 0

    X, user_ids, item_ids, fields = _labels(X)
    # NaN (an unknown rating), infinities and negative ratings are judged below,
    # against min_rating.
    X = as_interaction_matrix(X, check_values=False, eliminate_zeros=False)
    for ids, what, size in ((user_ids, "user_ids", X.shape[0]), (item_ids, "item_ids", X.shape[1])):
        if ids is not None and len(ids) != size:
            raise ValueError(f"{what} has {len(ids)} entries for the {size} {what[:4]}s of the data.")
    if np.isinf(X.data).any():
        raise ValueError(
            "X contains infinite values; ratings and counts must be finite (NaN marks an "
            "unknown rating). Fix or drop those entries first."
        )
    if min_rating is None:
        if X.nnz and np.nanmin(X.data, initial=0) < 0:
            raise ValueError(
                "X has negative values; without min_rating every non-zero value counts as an "
                "interaction. Pass min_rating to threshold ratings."
            )
        positive = X.data != 0
    else:
        positive = X.data >= min_rating
    B = sp.csr_array((positive.astype(np.float32), X.indices, X.indptr), shape=X.shape)
    B.eliminate_zeros()

    items = np.arange(B.shape[1])
    if min_item_users > 0:
        items = np.flatnonzero(np.bincount(B.indices, minlength=B.shape[1]) >= min_item_users)
        B = B[:, items]
    users = np.flatnonzero(np.diff(B.indptr) >= max(min_user_items, 1))
    B = B[users]
    nonempty = np.flatnonzero(np.bincount(B.indices, minlength=B.shape[1]) > 0)
    B = B[:, nonempty]
    items = items[nonempty]
    B.sort_indices()
    users, items = users.astype(np.int64), items.astype(np.int64)
    # Per-user and per-item fields (e.g. item_titles, item_genres) follow
    # the kept rows and columns.
    for key, value in fields.items():
        for prefix, size, kept in (("user_", X.shape[0], users), ("item_", X.shape[1], items)):
            if key.startswith(prefix) and value is not None and np.ndim(value) >= 1 and len(value) == size:
                fields[key] = np.asarray(value)[kept]
    return Bunch(
        **fields,
        data=B.astype(np.float32),
        user_ids=users if user_ids is None else np.asarray(user_ids)[users],
        item_ids=items if item_ids is None else np.asarray(item_ids)[items],
        user_indices=users,
        item_indices=items,
    )


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "dataset": [StrOptions(set(SPLIT_PRESETS))],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def paper_split(X, dataset, *, random_state=DEFAULT_SPLIT_SEED):
    """Split a preprocessed dataset with the held-out sizes of the paper.

    Calls :func:`sklearn_swdae.model_selection.strong_generalization_split`
    with the numbers of validation and test users of Table 1 (10,000 for
    ML-20M, 40,000 for Netflix, 50,000 for MSD; see ``SPLIT_PRESETS``) and
    the package's fixed seed.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        The output of :func:`preprocess_interactions` with the same preset.
    dataset : {"ml-20m", "netflix", "msd"}
        Which of the paper's datasets ``X`` is.
    random_state : int, RandomState instance or None, default=98765
        Seed of the split (``DEFAULT_SPLIT_SEED`` by default).

    Returns
    -------
    split : :class:`~sklearn.utils.Bunch`
        See :func:`~sklearn_swdae.model_selection.strong_generalization_split`.

    Examples
    --------
    >>> from sklearn_swdae.datasets import make_interactions, paper_split
    >>> X, _ = make_interactions(20_100, 100, 5, density=0.05, random_state=0)
    >>> split = paper_split(X, "ml-20m")
    >>> split.train.shape[0], split.validation_users.size, split.test_users.size
    (100, 10000, 10000)
    """
    n_held_out = SPLIT_PRESETS[dataset]
    return strong_generalization_split(X, n_validation=n_held_out, n_test=n_held_out, random_state=random_state)
