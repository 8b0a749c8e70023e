"""Loader of generic interaction logs: CSV, TSV and Parquet files with named columns."""

import numpy as np

from ._parsing import (
    _check_file,
    _IdColumn,
)
from ._readers import (
    _check_duplicates,
    _interactions_bunch,
    _read_log,
    _resolve_column,
)

__all__ = ["load_interactions"]

_FORMATS = ("csv", "tsv", "parquet")


def _infer_format(path, format, sep):
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if format is None:
        if sep is not None:
            format = "csv"
        else:
            format = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}.get(suffix)
    elif format not in _FORMATS:
        raise ValueError(f"format must be one of {_FORMATS} or None, got {format!r}.")
    if format == "parquet":
        if sep is not None:
            raise ValueError("sep cannot be used with format='parquet'.")
        return "parquet", None
    if sep is None and format is not None:
        sep = "\t" if format == "tsv" else ","
    if sep is None:
        # Unknown extension: sniff the header line.
        with open(path, "rb") as f:
            head = f.readline(65536)
        if head[:2] == b"\x1f\x8b":
            raise ValueError(f"Cannot infer the format of '{path}'; pass format='csv' or 'tsv', or sep.")
        for candidate in ("\t", ",", ";", "::", "|"):
            if candidate.encode() in head:
                sep = candidate
                break
        else:
            raise ValueError(
                f"Cannot infer the format of '{path}' from its extension or header; pass format={_FORMATS} or sep."
            )
    if not isinstance(sep, str) or not sep or "\n" in sep or "\r" in sep or '"' in sep:
        raise ValueError(f"sep must be a non-empty string without quotes or newlines, got {sep!r}.")
    return "text", sep


def _read_parquet(path, user_col, item_col, rating_col):
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"Reading the parquet file '{path}' needs pyarrow, an optional dependency: pip install pyarrow"
        ) from exc
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"'{path}' is not a readable parquet file: {exc}") from None
    columns = {}
    for what, column in (("user_col", user_col), ("item_col", item_col), ("rating_col", rating_col)):
        if column is not None:
            columns[what] = names[_resolve_column(column, names, path, what)]
    table = pq.read_table(path, columns=list(dict.fromkeys(columns.values())))
    if table.num_rows == 0:
        raise ValueError(f"'{path}' has no data rows.")
    ids = []
    for what in ("user_col", "item_col"):
        column = table.column(columns[what])
        if column.null_count:
            row = int(np.argmax(column.is_null().to_numpy(zero_copy_only=False)))
            raise ValueError(f"'{path}', row {row}: the {what} column {columns[what]!r} is null.")
        ids.append(_factorize_arrow(column, pa, pc))
    values = None
    if rating_col is not None:
        column = table.column(columns["rating_col"])
        try:
            values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowException as exc:
            raise ValueError(f"'{path}': the rating column {columns['rating_col']!r} is not numeric: {exc}") from None
    (user_ids, user_codes), (item_ids, item_codes) = ids
    return user_ids, user_codes, item_ids, item_codes, values


def _factorize_arrow(column, pa, pc):
    """Sorted unique ids and codes of a pyarrow column (no nulls)."""
    if pa.types.is_integer(column.type):
        values = column.to_numpy(zero_copy_only=False)
        if values.size == 0 or values.min() >= 0:
            accumulator = _IdColumn("id")
            accumulator.add_values(values)
            return accumulator.finish()
    encoded = pc.cast(column, pa.string()).combine_chunks().dictionary_encode()
    uniques = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return uniques[order], rank[encoded.indices.to_numpy(zero_copy_only=False)]


def load_interactions(path, user_col, item_col, rating_col=None, sep=None, format=None, *, duplicates=None):
    """Load a users x items matrix from a CSV, TSV or parquet interaction log.

    The file must have a header row naming its columns (parquet files
    always do).  Each row is one interaction of ``user_col`` with
    ``item_col``, optionally with a value in ``rating_col``.

    Parameters
    ----------
    path : str or path-like
        The file.  CSV and TSV files may be gzipped.
    user_col, item_col : str or int
        Name (or 0-based position) of the user and item columns.
    rating_col : str or int, default=None
        Name (or position) of a numeric column (rating, play count, ...).
        Empty fields are read as NaN.  None counts every row as one
        interaction.
    sep : str, default=None
        Field separator of a text file (one or more characters, e.g.
        ``"::"``).  None uses ``","`` for ``format="csv"``, ``"\\t"`` for
        ``"tsv"``, and otherwise sniffs the header line (tab, comma,
        semicolon, ``::`` or pipe).
    format : {"csv", "tsv", "parquet"}, default=None
        None infers it from the extension (``.csv``, ``.tsv``/``.tab``,
        ``.parquet``/``.pq``, optionally followed by ``.gz``).  Parquet needs
        the optional ``pyarrow`` package.
    duplicates : {"sum", "last", "first", "max"}, default=None
        How rows repeating a (user, item) pair are merged: summed, or the
        last / first / largest value in file order kept.  None means
        ``"sum"`` without ``rating_col`` (the value is then the number of
        rows of the pair) and ``"last"`` with it.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        - ``data``: scipy.sparse.csr_array of shape (n_users, n_items),
          dtype float32.
        - ``user_ids``, ``item_ids``: sorted arrays; row ``i`` is user
          ``user_ids[i]`` and column ``j`` is item ``item_ids[j]``.  When
          every id of a column is a non-negative integer written without
          leading zeros they are int64, otherwise object arrays of str.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For an unknown format or column, an empty file, a file with only a
        header, or a malformed row: a wrong number of fields, an empty id,
        or a value that is not a number (the message names the file and the
        line).
    ImportError
        For a parquet file when pyarrow is not installed.

    Notes
    -----
    Text files are parsed in 32 MiB blocks by vectorized numpy code, several
    times faster than :func:`numpy.loadtxt` or the :mod:`csv` module
    (``benchmarks/RESULTS.md``, "Dataset loaders", has the measured
    throughput).  Blocks containing double quotes fall back to the
    slower :mod:`csv` module, which handles quoted fields (but not newlines
    inside them).  Carriage returns are ignored, so CRLF files read like LF
    files.  Empty lines are skipped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_swdae.datasets import load_interactions
    >>> tmp = tempfile.TemporaryDirectory()
    >>> log = pathlib.Path(tmp.name) / "plays.tsv"
    >>> _ = log.write_text("user\\tsong\\tcount\\nann\\ts1\\t3\\nbob\\ts2\\t1\\nann\\ts2\\t2\\n")
    >>> plays = load_interactions(log, "user", "song", "count")
    >>> plays.user_ids.tolist(), plays.item_ids.tolist()
    (['ann', 'bob'], ['s1', 's2'])
    >>> plays.data.toarray()
    array([[3., 2.],
           [0., 1.]], dtype=float32)
    >>> tmp.cleanup()
    """
    path = _check_file(path)
    if duplicates is None:
        duplicates = "sum" if rating_col is None else "last"
    _check_duplicates(duplicates)
    kind, sep = _infer_format(path, format, sep)
    if kind == "parquet":
        read = _read_parquet(path, user_col, item_col, rating_col)
    else:
        read = _read_log(path, sep, users=user_col, items=item_col, values=rating_col, header=True)
    return _interactions_bunch(*read, duplicates)
