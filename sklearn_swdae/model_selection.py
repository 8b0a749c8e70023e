"""The strong-generalization protocol of the paper (section 4.1).

Users, not interactions, are split into training, validation and test sets.
Models are trained on the training users only.  For validation and test
users, a random 80% of each history (the fold-in) is shown to the model and
the other 20% (the held-out) is what it must rank highly.  Following Liang et
al. (2018), whose splits the paper reuses, users with fewer than five items
keep all of them as fold-in, and items never consumed by a training user are
removed from validation and test users.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._validation import as_interaction_matrix

__all__ = ["split_fold_in", "split_users", "strong_generalization_split", "DEFAULT_SPLIT_SEED"]

#: Seed used by default for every split of the protocol, so that two runs
#: (and two users of the package) evaluate on the same users.  It is the seed
#: of Liang et al.'s published preprocessing code.
DEFAULT_SPLIT_SEED = 98765


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "held_out_fraction": [Interval(Real, 0, 1, closed="neither")],
        "min_items": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def split_fold_in(X, *, held_out_fraction=0.2, min_items=5, random_state=DEFAULT_SPLIT_SEED):
    """Split every user's items into fold-in and held-out parts.

    A user with at least ``min_items`` items has ``floor(held_out_fraction *
    n)`` of them, drawn at random, held out; the rest is the fold-in.  A user
    with fewer items keeps all of them in the fold-in and has no held-out
    items, so evaluation skips them (as in Liang et al. 2018).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Interactions of the users to split.
    held_out_fraction : float in (0, 1), default=0.2
        Fraction of each history held out (the paper's 20%).
    min_items : int, default=5
        Users with fewer items are not split.
    random_state : int, RandomState instance or None, default=98765
        Seed; the fixed default makes the split reproducible.

    Returns
    -------
    X_fold_in : scipy.sparse.csr_array of shape (n_users, n_items)
    X_held_out : scipy.sparse.csr_array of shape (n_users, n_items)
        Disjoint, and their sum is X.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.model_selection import split_fold_in
    >>> X = np.array([[1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]])
    >>> fold_in, held_out = split_fold_in(X, random_state=0)
    >>> held_out.sum(axis=1).tolist(), fold_in.sum(axis=1).tolist()
    ([1, 0], [4, 2])
    """
    X = as_interaction_matrix(X)
    rng = check_random_state(random_state)
    counts = np.diff(X.indptr)
    n_held = np.where(counts >= min_items, np.floor(held_out_fraction * counts).astype(np.int64), 0)
    # One random key per stored entry; within each row the entries with the
    # n_held smallest keys are held out.  Vectorized over all users.
    keys = rng.random_sample(X.nnz)
    row_of = np.repeat(np.arange(X.shape[0]), counts)
    order = np.lexsort((keys, row_of))
    rank_in_row = np.empty(X.nnz, dtype=np.int64)
    rank_in_row[order] = np.arange(X.nnz) - np.repeat(X.indptr[:-1], counts)
    held = rank_in_row < np.repeat(n_held, counts)
    held_out = X.copy()
    held_out.data = np.where(held, X.data, 0).astype(X.data.dtype)
    fold_in = X.copy()
    fold_in.data = np.where(held, 0, X.data).astype(X.data.dtype)
    held_out.eliminate_zeros()
    fold_in.eliminate_zeros()
    return fold_in, held_out


@validate_params(
    {
        "n_users": [Interval(Integral, 1, None, closed="left")],
        "n_validation": [Interval(Integral, 0, None, closed="left"), Interval(Real, 0, 1, closed="neither")],
        "n_test": [Interval(Integral, 0, None, closed="left"), Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def split_users(n_users, *, n_validation, n_test, random_state=DEFAULT_SPLIT_SEED):
    """Randomly assign users to training, validation and test sets.

    Parameters
    ----------
    n_users : int
        Number of users.
    n_validation, n_test : int or float
        Number of validation / test users, or a fraction of ``n_users``
        (rounded down).
    random_state : int, RandomState instance or None, default=98765
        Seed of the permutation.

    Returns
    -------
    train, validation, test : ndarray of int64
        Sorted, disjoint user indices covering ``range(n_users)``.

    Examples
    --------
    >>> from sklearn_swdae.model_selection import split_users
    >>> train, val, test = split_users(10, n_validation=2, n_test=0.2, random_state=0)
    >>> len(train), len(val), len(test)
    (6, 2, 2)
    """
    sizes = []
    for value in (n_validation, n_test):
        size = int(value) if isinstance(value, Integral) else int(np.floor(value * n_users))
        sizes.append(size)
    if sum(sizes) >= n_users:
        raise ValueError(
            f"n_validation={n_validation} and n_test={n_test} leave no training users "
            f"out of {n_users}; use smaller held-out sets."
        )
    perm = check_random_state(random_state).permutation(n_users)
    n_val, n_te = sizes
    test = np.sort(perm[n_users - n_te :])
    validation = np.sort(perm[n_users - n_te - n_val : n_users - n_te])
    train = np.sort(perm[: n_users - n_te - n_val])
    return train, validation, test


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "n_validation": [Interval(Integral, 0, None, closed="left"), Interval(Real, 0, 1, closed="neither")],
        "n_test": [Interval(Integral, 0, None, closed="left"), Interval(Real, 0, 1, closed="neither")],
        "held_out_fraction": [Interval(Real, 0, 1, closed="neither")],
        "min_items": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def strong_generalization_split(
    X,
    *,
    n_validation,
    n_test,
    held_out_fraction=0.2,
    min_items=5,
    random_state=DEFAULT_SPLIT_SEED,
):
    """The paper's strong-generalization split of a users x items matrix.

    Users are split by :func:`split_users`; columns (items) that no training
    user consumed are dropped from every matrix, since no model trained on
    the training users can learn them; then each validation and test user's
    history is split by :func:`split_fold_in`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        All interactions (binary or counts; positive means consumed).
    n_validation, n_test : int or float
        Number (or fraction) of validation and test users.
    held_out_fraction : float, default=0.2
        Held-out share of each validation / test history.
    min_items : int, default=5
        Validation / test users with fewer items are not split (not scored).
    random_state : int, RandomState instance or None, default=98765
        Seed of both the user and the fold-in splits.

    Returns
    -------
    split : :class:`~sklearn.utils.Bunch`
        ``train``, ``validation_fold_in``, ``validation_held_out``,
        ``test_fold_in``, ``test_held_out`` (CSR arrays over the kept items),
        ``train_users``, ``validation_users``, ``test_users`` (row indices
        into X) and ``item_indices`` (column indices of X that were kept).

    Examples
    --------
    >>> from sklearn_swdae.datasets import make_interactions
    >>> from sklearn_swdae.model_selection import strong_generalization_split
    >>> X, _ = make_interactions(200, 50, 5, density=0.2, random_state=0)
    >>> split = strong_generalization_split(X, n_validation=20, n_test=20, random_state=0)
    >>> split.train.shape[0], split.test_fold_in.shape[0]
    (160, 20)
    """
    X = as_interaction_matrix(X)
    rng = check_random_state(random_state)
    train_users, val_users, test_users = split_users(
        X.shape[0], n_validation=n_validation, n_test=n_test, random_state=rng
    )
    train = X[train_users]
    items = np.flatnonzero(np.asarray(train.sum(axis=0)).ravel() > 0)
    split = Bunch(
        train=train[:, items],
        train_users=train_users,
        validation_users=val_users,
        test_users=test_users,
        item_indices=items,
    )
    for name, users in (("validation", val_users), ("test", test_users)):
        fold_in, held_out = split_fold_in(
            X[users][:, items], held_out_fraction=held_out_fraction, min_items=min_items, random_state=rng
        )
        split[f"{name}_fold_in"] = fold_in
        split[f"{name}_held_out"] = held_out
    return split
