"""Loader of the Million Song Dataset's Echo Nest Taste Profile subset (play counts)."""

from pathlib import Path

from ._readers import (
    _interactions_bunch,
    _read_log,
)

__all__ = ["load_msd_taste_profile"]


def load_msd_taste_profile(path):
    """Load the Echo Nest Taste Profile subset of the Million Song Dataset.

    Reads ``train_triplets.txt``: one ``user \\t song \\t play count`` line
    per (user, song) pair, with 40-character user hashes and song ids
    such as ``SOAKIMP12A8C130995``.

    Parameters
    ----------
    path : str or path-like
        The ``train_triplets.txt`` file (gzipped or not), or its folder.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        - ``data``: scipy.sparse.csr_array of shape (n_users, n_items),
          dtype float32, the play counts.  Repeated (user, song) lines are
          summed (the official file has none).
        - ``user_ids``, ``item_ids``: object arrays of str, sorted; row
          ``i`` is user ``user_ids[i]``, column ``j`` is song ``item_ids[j]``.
        - ``DESCR``: a short description.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For an empty file or a malformed line (named with its line number).

    Notes
    -----
    Text ids are hashed to 64-bit keys to be sorted quickly.  The full file
    has 48,373,586 lines (2.9 GB); reading it takes a few GB of memory
    (``benchmarks/RESULTS.md``, "Dataset loaders", has the measured
    throughput).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_swdae.datasets import load_msd_taste_profile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = (pathlib.Path(tmp.name) / "train_triplets.txt").write_text(
    ...     "b80344d063b5ccb3212f76538f3d9e43d87dca9e\\tSOAKIMP12A8C130995\\t1\\n"
    ...     "b80344d063b5ccb3212f76538f3d9e43d87dca9e\\tSOBBMDR12A8C13253B\\t2\\n")
    >>> msd = load_msd_taste_profile(tmp.name)  # the folder, or the file itself
    >>> msd.data.toarray(), msd.item_ids.tolist()
    (array([[1., 2.]], dtype=float32), ['SOAKIMP12A8C130995', 'SOBBMDR12A8C13253B'])
    >>> tmp.cleanup()
    """
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / "train_triplets.txt"
    read = _read_log(path, "\t", users=0, items=1, values=2, header=False, n_fields=3, value_what="play count")
    return _interactions_bunch(
        *read, "sum", DESCR=f"Million Song Dataset Taste Profile play counts read from '{path}'."
    )
