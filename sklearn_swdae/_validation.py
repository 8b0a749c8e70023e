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
    """
    X = validate_data(
        estimator,
        X,
        accept_sparse=_ACCEPT_SPARSE,
        dtype=(np.float64, np.float32),
        ensure_all_finite=True,
        ensure_min_samples=1,
        ensure_min_features=1,
        reset=reset,
    )
    return _binarize_interactions(X, name=name, binarize=binarize)


__all__ = ["check_interactions"]
