"""Input validation shared by every estimator of the package."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

_ACCEPT_SPARSE = ("csr", "csc", "coo", "dok", "lil", "bsr", "dia")


def as_interaction_matrix(X, name="X", *, check_values=True, eliminate_zeros=True, binarize=False):
    """Return a users x items matrix as a CSR copy: the package's one conversion.

    Every public entry point that takes interactions (estimators, splitters,
    preprocessing, scorers) goes through here, so that they agree on what a
    valid matrix is and say the same thing when it is not.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Interactions.
    name : str, default="X"
        Name of the parameter, used in error messages.
    check_values : bool, default=True
        Reject NaN, infinite and negative values.  Implicit feedback only
        says whether a user consumed an item, so every positive value means
        "consumed" and zero means "not observed"; negative values have no
        meaning there and usually betray centred explicit ratings or a
        corrupt file, so they are rejected rather than silently dropped.
        False leaves them to the caller (preprocessing, where NaN marks an
        unknown rating and ratings are thresholded).
    eliminate_zeros : bool, default=True
        Drop explicitly stored zeros.
    binarize : bool, default=False
        Replace the stored values by float32 ones.

    Returns
    -------
    X : scipy.sparse.csr_array of shape (n_users, n_items)
        A copy with summed duplicates and sorted indices; float32 ones when
        ``binarize``, else the input's values and dtype.
    """
    if sp.issparse(X):
        X = sp.csr_array(X, copy=True)
    else:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2D (n_users, n_items), got an array of shape {X.shape}.")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got dtype {X.dtype}.")
        X = sp.csr_array(X)
    X.sum_duplicates()
    if check_values:
        # scikit-learn's finiteness check cannot see inside LIL or DOK storage.
        if not np.isfinite(X.data).all():
            raise ValueError(
                f"{name} contains NaN or infinity. Implicit feedback must be finite: drop or fill those entries first."
            )
        if X.nnz and X.data.min() < 0:
            # The first words are scikit-learn's, which its estimator checks look for.
            raise ValueError(
                f"Negative values in data passed to {name}: {name} contains negative values "
                f"(min {X.data.min():g}). Implicit feedback must be non-negative: positive "
                "entries mean 'consumed', zeros mean 'not observed'. Binarize or clip your "
                "data first."
            )
    if eliminate_zeros:
        X.eliminate_zeros()
    if binarize:
        X.data = np.ones_like(X.data, dtype=np.float32)
        X = X.astype(np.float32, copy=False)
    return X


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
        # as_interaction_matrix checks finiteness with a message about feedback.
        ensure_all_finite=False,
        ensure_min_samples=1,
        ensure_min_features=1,
        reset=reset,
    )
    X = as_interaction_matrix(X, name=name, binarize=binarize)
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


__all__ = ["as_interaction_matrix", "check_interactions"]
