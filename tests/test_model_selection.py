"""Tests of the strong-generalization protocol (paper section 4.1)."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_swdae.datasets import make_interactions
from sklearn_swdae.model_selection import (
    DEFAULT_SPLIT_SEED,
    split_fold_in,
    split_users,
    strong_generalization_split,
)


def _counts_matrix(seed=0, n_users=60, n_items=30, density=0.3):
    """Non-binary interactions with users of every size, some below 5 items."""
    rng = np.random.RandomState(seed)
    X = (rng.random_sample((n_users, n_items)) < density) * rng.randint(1, 4, size=(n_users, n_items))
    X = X.astype(np.float64)
    for u, n in enumerate([0, 1, 2, 3, 4, 5, 6, 9, 10, 14, 15, 30]):
        n = min(n, n_items)
        X[u] = 0
        X[u, rng.choice(n_items, n, replace=False)] = rng.randint(1, 4, size=n)
    return X


def _row_counts(M):
    return np.diff(sp.csr_array(M).indptr)


def _assert_same(A, B):
    np.testing.assert_array_equal(sp.csr_array(A).toarray(), sp.csr_array(B).toarray())


# --------------------------------------------------------------------------
# split_fold_in
# --------------------------------------------------------------------------


@pytest.mark.parametrize("held_out_fraction, min_items", [(0.2, 5), (0.5, 1), (0.3, 3)])
def test_split_fold_in_sizes_and_disjoint(held_out_fraction, min_items):
    X = _counts_matrix()
    fold_in, held_out = split_fold_in(X, held_out_fraction=held_out_fraction, min_items=min_items, random_state=0)
    assert isinstance(fold_in, sp.csr_array) and isinstance(held_out, sp.csr_array)
    assert fold_in.shape == held_out.shape == X.shape
    # The parts sum to X (values preserved) and do not overlap.
    np.testing.assert_array_equal((fold_in + held_out).toarray(), X)
    assert (fold_in.multiply(held_out)).nnz == 0
    assert not np.any((fold_in.toarray() > 0) & (held_out.toarray() > 0))
    # No stored zeros: nnz counts the items of each part.
    assert np.all(fold_in.data != 0) and np.all(held_out.data != 0)

    counts = (X > 0).sum(axis=1)
    expected = [math.floor(held_out_fraction * n) if n >= min_items else 0 for n in counts]
    np.testing.assert_array_equal(_row_counts(held_out), expected)
    np.testing.assert_array_equal(_row_counts(fold_in), counts - np.array(expected))


def test_split_fold_in_paper_defaults():
    # floor(0.2 n) held out for users with at least 5 items, none otherwise.
    X = _counts_matrix()
    fold_in, held_out = split_fold_in(X)
    counts = (X > 0).sum(axis=1)
    for n, n_held in zip(counts, _row_counts(held_out)):
        assert n_held == (n // 5 if n >= 5 else 0)
    # Hand-picked boundary users of _counts_matrix: 4 -> 0, 5 -> 1, 9 -> 1,
    # 10 -> 2, 14 -> 2, 15 -> 3, 30 -> 6.
    np.testing.assert_array_equal(_row_counts(held_out)[:12], [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 6])


def test_split_fold_in_deterministic_and_seed_dependent():
    X = _counts_matrix()
    a = split_fold_in(X, random_state=3)
    b = split_fold_in(X, random_state=3)
    _assert_same(a[0], b[0])
    _assert_same(a[1], b[1])
    # Default seed is fixed, so the default split is reproducible too.
    d1, d2 = split_fold_in(X), split_fold_in(X)
    _assert_same(d1[1], d2[1])
    _assert_same(d1[1], split_fold_in(X, random_state=DEFAULT_SPLIT_SEED)[1])
    # Another seed, another split (same sizes though).
    c = split_fold_in(X, random_state=4)
    assert (a[1] != c[1]).nnz > 0
    np.testing.assert_array_equal(_row_counts(a[1]), _row_counts(c[1]))


def test_split_fold_in_held_out_items_are_random():
    # Each of the 10 items of a user is held out about equally often over seeds
    # (a split that always held out, say, the first items would fail).
    X = np.ones((1, 10))
    freq = np.zeros(10)
    for seed in range(200):
        freq += split_fold_in(X, random_state=seed)[1].toarray()[0]
    assert freq.sum() == 200 * 2
    assert freq.min() > 10 and freq.max() < 80


@pytest.mark.parametrize("fmt", ["csr_array", "csr_matrix", "csc_array", "coo_matrix", "list"])
def test_split_fold_in_dense_and_sparse_agree(fmt):
    X = _counts_matrix(1)
    if fmt == "list":
        other = X.tolist()
    else:
        other = getattr(sp, fmt)(X)
    dense = split_fold_in(X, random_state=0)
    converted = split_fold_in(other, random_state=0)
    _assert_same(dense[0], converted[0])
    _assert_same(dense[1], converted[1])


def test_split_fold_in_sparse_with_stored_zeros_and_unsorted_indices():
    X = _counts_matrix(2)
    reference = split_fold_in(X, random_state=5)
    # Same matrix with explicit zeros stored and the column indices reversed
    # within each row.
    full = sp.csr_array(np.ones_like(X))
    full.data = X.ravel().copy()
    rows = []
    for u in range(X.shape[0]):
        start, stop = full.indptr[u], full.indptr[u + 1]
        rows.append((full.indices[start:stop][::-1], full.data[start:stop][::-1]))
    weird = sp.csr_array(
        (np.concatenate([d for _, d in rows]), np.concatenate([i for i, _ in rows]), full.indptr),
        shape=X.shape,
    )
    assert not weird.has_sorted_indices or weird.nnz == X.size
    before = weird.copy()
    result = split_fold_in(weird, random_state=5)
    _assert_same(result[0], reference[0])
    _assert_same(result[1], reference[1])
    # The input is not modified.
    assert weird.nnz == before.nnz
    np.testing.assert_array_equal(weird.indices, before.indices)


def test_split_fold_in_negative_values_raise():
    X = _counts_matrix()
    X[3, 4] = -1
    with pytest.raises(ValueError, match="negative"):
        split_fold_in(X)
    with pytest.raises(ValueError, match="negative"):
        split_fold_in(sp.csr_array(X))


def test_split_fold_in_invalid_parameters():
    X = _counts_matrix()
    for kwargs in ({"held_out_fraction": 0.0}, {"held_out_fraction": 1.0}, {"min_items": 0}):
        with pytest.raises(ValueError):
            split_fold_in(X, **kwargs)
    with pytest.raises(ValueError, match="2D"):
        split_fold_in(np.ones(5))


# --------------------------------------------------------------------------
# split_users
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n_users, n_validation, n_test, sizes",
    [
        (100, 10, 20, (70, 10, 20)),
        (100, 0.1, 0.2, (70, 10, 20)),
        (25, 0.1, 3, (20, 2, 3)),  # floor(2.5) = 2
        (10, 0, 0, (10, 0, 0)),
        (10, 4, 5, (1, 4, 5)),
        (7, 0.5, 0.3, (2, 3, 2)),  # floor(3.5) = 3, floor(2.1) = 2
    ],
)
def test_split_users_sizes(n_users, n_validation, n_test, sizes):
    train, val, test = split_users(n_users, n_validation=n_validation, n_test=n_test, random_state=0)
    assert (len(train), len(val), len(test)) == sizes
    for part in (train, val, test):
        assert part.dtype == np.int64
        np.testing.assert_array_equal(part, np.sort(part))
    everything = np.concatenate([train, val, test])
    assert len(np.unique(everything)) == n_users
    np.testing.assert_array_equal(np.sort(everything), np.arange(n_users))


def test_split_users_random_and_reproducible():
    a = split_users(200, n_validation=20, n_test=20, random_state=0)
    b = split_users(200, n_validation=20, n_test=20, random_state=0)
    c = split_users(200, n_validation=20, n_test=20, random_state=1)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[2], c[2])
    # Not simply the last users.
    assert not np.array_equal(a[2], np.arange(180, 200))
    d = split_users(200, n_validation=20, n_test=20)
    e = split_users(200, n_validation=20, n_test=20, random_state=DEFAULT_SPLIT_SEED)
    for x, y in zip(d, e):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    "n_users, n_validation, n_test",
    [(10, 5, 5), (10, 6, 6), (10, 0.5, 0.5), (10, 10, 0), (10, 0.6, 4), (1, 0, 1)],
)
def test_split_users_too_many_held_out_users(n_users, n_validation, n_test):
    with pytest.raises(ValueError, match="leave no training users") as excinfo:
        split_users(n_users, n_validation=n_validation, n_test=n_test)
    message = str(excinfo.value)
    assert f"n_validation={n_validation}" in message
    assert f"n_test={n_test}" in message
    assert str(n_users) in message


def test_split_users_invalid_parameters():
    with pytest.raises(ValueError):
        split_users(10, n_validation=-1, n_test=1)
    with pytest.raises(ValueError):
        split_users(10, n_validation=1.5, n_test=1)
    with pytest.raises(ValueError):
        split_users(0, n_validation=0, n_test=0)


# --------------------------------------------------------------------------
# strong_generalization_split
# --------------------------------------------------------------------------


def test_strong_generalization_split_drops_items_unseen_in_training():
    X = _counts_matrix(3, n_users=50, n_items=20, density=0.5)
    base = strong_generalization_split(X, n_validation=8, n_test=8, random_state=0)
    test_user = base.test_users[0]
    val_user = base.validation_users[0]
    # Append three items: one only a test user consumed, one only a
    # validation user consumed, one a training user consumed.
    extra = np.zeros((X.shape[0], 3))
    extra[test_user, 0] = 1
    extra[val_user, 1] = 2
    extra[base.train_users[0], 2] = 1
    X2 = np.hstack([X, extra])
    n = X.shape[1]
    split = strong_generalization_split(X2, n_validation=8, n_test=8, random_state=0)
    # The user split depends only on the number of users and the seed.
    np.testing.assert_array_equal(split.test_users, base.test_users)
    np.testing.assert_array_equal(split.validation_users, base.validation_users)
    items = split.item_indices
    assert n not in items and n + 1 not in items
    assert n + 2 in items
    # items are exactly the columns some training user consumed
    consumed = np.flatnonzero((X2[split.train_users] > 0).any(axis=0))
    np.testing.assert_array_equal(items, consumed)
    n_kept = len(items)
    for name in ("train", "validation_fold_in", "validation_held_out", "test_fold_in", "test_held_out"):
        assert split[name].shape[1] == n_kept, name


@pytest.mark.parametrize("sparse_input", [False, True])
def test_strong_generalization_split_structure(sparse_input):
    X = _counts_matrix(4, n_users=80, n_items=40, density=0.15)
    # Column 7 consumed by one test user only (the user split depends only
    # on the number of users and the seed, so a first split tells who).
    test_user = strong_generalization_split(X, n_validation=0.25, n_test=10, random_state=1).test_users[3]
    X[:, 7] = 0
    X[test_user, 7] = 1
    X_in = sp.csr_array(X) if sparse_input else X
    split = strong_generalization_split(X_in, n_validation=0.25, n_test=10, random_state=1)

    train_users, val_users, test_users = split.train_users, split.validation_users, split.test_users
    assert (len(train_users), len(val_users), len(test_users)) == (50, 20, 10)
    assert not set(train_users) & set(val_users)
    assert not set(train_users) & set(test_users)
    assert not set(val_users) & set(test_users)
    np.testing.assert_array_equal(np.sort(np.concatenate([train_users, val_users, test_users])), np.arange(80))

    items = split.item_indices
    assert items.dtype.kind == "i"
    np.testing.assert_array_equal(items, np.sort(items))
    np.testing.assert_array_equal(items, np.flatnonzero((X[train_users] > 0).any(axis=0)))
    assert test_user in test_users
    assert 7 not in items

    # items maps back to X's columns.
    assert isinstance(split.train, sp.csr_array)
    np.testing.assert_array_equal(split.train.toarray(), X[train_users][:, items])
    for name, users in (("validation", val_users), ("test", test_users)):
        fold_in, held_out = split[f"{name}_fold_in"], split[f"{name}_held_out"]
        assert fold_in.shape == held_out.shape == (len(users), len(items))
        restricted = X[users][:, items]
        np.testing.assert_array_equal((fold_in + held_out).toarray(), restricted)
        assert not np.any((fold_in.toarray() > 0) & (held_out.toarray() > 0))
        # min_items and the 20% apply to the history over the kept items.
        counts = (restricted > 0).sum(axis=1)
        np.testing.assert_array_equal(_row_counts(held_out), np.where(counts >= 5, np.floor(0.2 * counts), 0))


def test_strong_generalization_split_reproducible():
    X, _ = make_interactions(120, 40, 4, density=0.15, random_state=0)
    a = strong_generalization_split(X, n_validation=15, n_test=15)
    b = strong_generalization_split(X, n_validation=15, n_test=15)
    c = strong_generalization_split(X, n_validation=15, n_test=15, random_state=DEFAULT_SPLIT_SEED)
    other = strong_generalization_split(X, n_validation=15, n_test=15, random_state=1)
    for key in ("train_users", "validation_users", "test_users", "item_indices"):
        np.testing.assert_array_equal(a[key], b[key])
        np.testing.assert_array_equal(a[key], c[key])
    for key in ("train", "validation_fold_in", "validation_held_out", "test_fold_in", "test_held_out"):
        _assert_same(a[key], b[key])
        _assert_same(a[key], c[key])
    assert not np.array_equal(a.test_users, other.test_users)
    # The docstring example.
    split = strong_generalization_split(X, n_validation=20, n_test=20, random_state=0)
    assert (split.train.shape[0], split.test_fold_in.shape[0]) == (80, 20)


def test_strong_generalization_split_negative_and_too_many_users():
    X = _counts_matrix()
    with pytest.raises(ValueError, match="leave no training users"):
        strong_generalization_split(X, n_validation=30, n_test=30)
    X[0, 0] = -2
    with pytest.raises(ValueError, match="negative"):
        strong_generalization_split(X, n_validation=5, n_test=5)
