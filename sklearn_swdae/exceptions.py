"""Warnings and errors specific to sklearn-swdae.

Like :mod:`sklearn.exceptions`, these classes let callers filter or catch
the package's own conditions precisely.
"""

__all__ = ["InconsistentVersionWarning", "InsufficientMemoryError"]


class InconsistentVersionWarning(UserWarning):
    """A pickled estimator was saved by another version of sklearn-swdae.

    Loading still proceeds, but fitted attributes or their meaning may have
    changed between versions: refit, or load with the version that saved
    the model.  (scikit-learn's own
    :class:`sklearn.exceptions.InconsistentVersionWarning` covers the
    scikit-learn version.)

    Parameters
    ----------
    estimator_name : str
        Class of the unpickled estimator.
    original_version : str or None
        sklearn-swdae version that pickled it; None for files saved before
        the version was recorded.
    current_version : str
        The running version.

    Examples
    --------
    >>> from sklearn_swdae.exceptions import InconsistentVersionWarning
    >>> warning = InconsistentVersionWarning(
    ...     estimator_name="ItemGrouper", original_version="0.0.1", current_version="0.1.0"
    ... )
    >>> str(warning)[:60]
    'Trying to unpickle ItemGrouper from sklearn-swdae 0.0.1 when'
    """

    def __init__(self, *, estimator_name, original_version, current_version):
        self.estimator_name = estimator_name
        self.original_version = original_version
        self.current_version = current_version

    def __str__(self):
        saved = "an unknown version" if self.original_version is None else self.original_version
        return (
            f"Trying to unpickle {self.estimator_name} from sklearn-swdae {saved} when using "
            f"version {self.current_version}. This might lead to breaking code or invalid "
            "results: refit the model, or load it with the version that saved it."
        )


class InsufficientMemoryError(MemoryError):
    """Training or prediction would not fit in the memory of the device.

    Raised before the work starts when the estimated need exceeds the
    memory available, and when torch reports that a device ran out of
    memory, instead of letting the process be killed.  The message says what
    was needed and how to proceed (a smaller ``batch_size``, a smaller
    model, or another device).

    Examples
    --------
    >>> from sklearn_swdae.exceptions import InsufficientMemoryError
    >>> issubclass(InsufficientMemoryError, MemoryError)
    True
    """
