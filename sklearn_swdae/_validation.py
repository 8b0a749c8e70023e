"""Input validation shared by every estimator of the package."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

_ACCEPT_SPARSE = ("csr", "csc", "coo", "dok", "lil", "bsr", "dia")


def _binarize_interactions(X, name="X", binarize=True):
    """Return X as a float32 CSR array whose stored entries are all one.

    With ``binarize=False`` the same checks apply but the non-negative
    values are kept (e.g. hidden activations grouped by ItemGrouper).

    Implicit feedback only says whether a user consumed an item, so every
    positive value means "consumed" and zero means "not observed".  Negative
    values have no meaning in that model; they are rejected rather than
    silently dropped because they usually betray explicit ratings that were
    centred, or a corrupt file.
    """
    if sp.issparse(X):
        X = sp.csr_array(X)
        values = X.data
    else:
        values = np.asarray(X)
    # scikit-learn's finiteness check cannot see inside LIL or DOK storage.
    if not np.isfinite(values).all():
        raise ValueError(
            f"Input {name} contains NaN or infinity. Implicit feedback must be finite: "
            "drop or fill those entries first."
        )
    if values.size and values.min() < 0:
        raise ValueError(
            f"Negative values in data passed to {name} (min {values.min():g}). Implicit "
            "feedback must be non-negative: positive entries mean 'consumed', "
            "zeros mean 'not observed'. Binarize or clip your data first."
        )
    if not binarize:
        X = sp.csr_array(X, copy=True)
        X.eliminate_zeros()
        X.sum_duplicates()
        return X
    if sp.issparse(X):
        X = X.copy()
        X.eliminate_zeros()
        X.sum_duplicates()
        X.data = np.ones_like(X.data, dtype=np.float32)
        return X.astype(np.float32, copy=False)
    return sp.csr_array((np.asarray(X) > 0).astype(np.float32))


def check_interactions(estimator, X, *, reset, name="X", binarize=True):
    """Validate a users x items implicit-feedback matrix and binarize it.

    Parameters
    ----------
    estimator : estimator instance
        Used for ``n_features_in_`` bookkeeping (``reset=True`` sets it,
        ``reset=False`` checks it).
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Any non-negative values; positive means consumed.
    reset : bool
        Whether this call comes from ``fit``.
    name : str, default="X"
        Name used in error messages.
    binarize : bool, default=True
        False keeps the (non-negative, finite) values instead of ones.

    Returns
    -------
    X : scipy.sparse.csr_array of shape (n_users, n_items), dtype float32
        Binary interactions (float32 or float64 values when not ``binarize``).

    Raises
    ------
    ValueError
        When X is not 2D, has no user or no item, contains negative, NaN or
        infinite values, has (outside fit) another number of items than in
        fit, or (in fit) has no interaction at all.  Users (rows) without
        interactions are allowed everywhere.
    """
    if not reset:
        _check_n_items(estimator, X)
        _check_item_ids(estimator, X)
    elif getattr(estimator, "_records_item_ids", False):
        _record_item_ids(estimator, X)
    X = validate_data(
        estimator,
        X,
        accept_sparse=_ACCEPT_SPARSE,
        dtype=(np.float64, np.float32),
        # _binarize_interactions checks finiteness with a message about feedback.
        ensure_all_finite=False,
        ensure_min_samples=1,
        ensure_min_features=1,
        reset=reset,
    )
    X = _binarize_interactions(X, name=name, binarize=binarize)
    if reset and X.nnz == 0:
        # Nothing to learn from: the spectral embedding, the loss and the
        # item statistics are all undefined on an all-zero matrix.
        raise ValueError(
            f"{name} has no interactions (every entry is zero or missing): fit needs at "
            "least one positive entry. Users without interactions are allowed, but not "
            "a matrix without any; check the data loading and filtering steps."
        )
    return X


def _check_n_items(estimator, X):
    """The number of items of a prediction-time X must be that of fit.

    Checked before scikit-learn's own check so the message can say what the
    columns are and how to align them; its first sentence is scikit-learn's.
    """
    expected = getattr(estimator, "n_features_in_", None)
    # Only objects with a shape: lists are left to scikit-learn's check.
    shape = getattr(X, "shape", None)
    if expected is None or shape is None or len(shape) != 2 or shape[1] == expected:
        return
    raise ValueError(
        f"X has {shape[1]} features, but {type(estimator).__name__} is expecting "
        f"{expected} features as input. Columns are items: pass histories over the "
        f"{expected} items seen in fit, in the same order (map item ids to the training "
        "columns and drop items unseen in fit), or refit on the new item set."
    )


def _record_item_ids(estimator, X):
    """``item_ids_``: the column labels of a DataFrame, whatever their type.

    scikit-learn's ``feature_names_in_`` keeps string labels only, while
    item ids are often integers (MovieLens movie ids).
    """
    columns = getattr(X, "columns", None)
    if columns is None:
        estimator.__dict__.pop("item_ids_", None)
    else:
        estimator.item_ids_ = np.asarray(columns)


def _check_item_ids(estimator, X):
    """A DataFrame queried after fit on a DataFrame must have the same columns."""
    expected, columns = getattr(estimator, "item_ids_", None), getattr(X, "columns", None)
    if expected is None or columns is None or len(columns) != len(expected):
        return
    columns = np.asarray(columns)
    if np.array_equal(columns, expected) or all(isinstance(c, str) for c in columns.tolist()):
        return  # string labels: scikit-learn's own feature-name check applies
    present = set(columns.tolist())
    missing = [item for item in expected.tolist() if item not in present]
    detail = f"items of fit missing: {missing[:5]}" if missing else "the same items in another order"
    raise ValueError(
        f"X's columns are not the item ids seen in fit ({detail}); reorder them as "
        f"{type(estimator).__name__}.item_ids_."
    )


__all__ = ["check_interactions"]
