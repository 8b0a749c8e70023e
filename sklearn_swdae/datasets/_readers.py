"""Shared pieces of the dataset loaders: delimited logs to a CSR Bunch, text files, ids."""

import itertools
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from ._parsing import (
    _decode_header,
    _IdColumn,
    _iter_chunks,
    _parse_float_column,
    _split_fields,
    _split_header,
)

_DUPLICATES = ("sum", "last", "first", "max")


def _to_csr(rows, cols, values, shape, duplicates):
    """Build the float32 CSR matrix, resolving repeated (row, col) pairs.

    One stable sort of the (row, col) keys orders the entries (it is close
    to linear for logs already sorted by user, like MovieLens) and exposes
    the repeated pairs, merged by ``duplicates``: "sum", or the "first",
    "last" or "max" value in file order.
    """
    n_rows, n_cols = shape
    values = np.asarray(values, dtype=np.float32)
    key = rows.astype(np.int64) * n_cols + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    new_pair = np.empty(key.size, dtype=bool)
    new_pair[:1] = True
    np.not_equal(key[1:], key[:-1], out=new_pair[1:])
    if new_pair.all():
        data = values[order]
    else:
        starts = np.flatnonzero(new_pair)
        if duplicates == "sum":
            data = np.add.reduceat(values[order], starts)
        elif duplicates == "max":
            data = np.fmax.reduceat(values[order], starts)
        elif duplicates == "first":
            data = values[order[starts]]
        else:
            data = values[order[np.append(starts[1:], key.size) - 1]]
        key = key[starts]
    index_dtype = np.int32 if max(n_cols, key.size) < 2**31 else np.int64
    indices = (key % n_cols).astype(index_dtype)
    indptr = np.zeros(n_rows + 1, dtype=index_dtype)
    np.cumsum(np.bincount(key // n_cols, minlength=n_rows), out=indptr[1:])
    X = sp.csr_array((data.astype(np.float32, copy=False), indices, indptr), shape=shape)
    X.has_canonical_format = True  # sorted indices, no repeated pair
    return X


def _check_duplicates(duplicates):
    if duplicates not in _DUPLICATES:
        raise ValueError(f"duplicates must be one of {_DUPLICATES}, got {duplicates!r}.")


def _resolve_column(column, names, path, what):
    """Index of a column given by name (str) or position (int)."""
    if isinstance(column, (int, np.integer)) and not isinstance(column, bool):
        if not 0 <= column < len(names):
            raise ValueError(f"{what}={column} is out of range: '{path}' has {len(names)} columns {names}.")
        return int(column)
    if column not in names:
        raise ValueError(f"{what}={column!r} is not a column of '{path}'; its header has the columns {names}.")
    return names.index(column)


def _read_log(path, sep, *, users, items, values, header, n_fields=None, value_what="rating"):
    """Read a delimited interaction log.

    ``users``, ``items`` and ``values`` are column names (header files) or
    indices (``header=False``, where ``n_fields`` gives the field count);
    ``values`` may be None.  Returns ``(user_ids, user_codes, item_ids,
    item_codes, values)`` where values is float64 (None when not read).
    """
    chunks = _iter_chunks(path)
    first = next(chunks)
    if header:
        line, first = first.pop_first_line()
        names = _split_header(_decode_header(line), sep)
        if len(names) < 2:
            raise ValueError(
                f"{path}, line 1: the header {names} has fewer than two columns separated by {sep!r}; "
                "is the separator right?"
            )
        n_fields = len(names)
        users = _resolve_column(users, names, path, "user_col")
        items = _resolve_column(items, names, path, "item_col")
        if values is not None:
            values = _resolve_column(values, names, path, "rating_col")
    user_column, item_column = _IdColumn("user id"), _IdColumn("item id")
    value_parts = []
    n_rows = 0
    for chunk in itertools.chain([first], chunks):
        if not chunk.data:
            continue
        fields = _split_fields(chunk, sep, n_fields)
        if not len(fields):
            continue
        user_column.add_fields(fields, users)
        item_column.add_fields(fields, items)
        if values is not None:
            value_parts.append(_parse_float_column(fields, values, value_what))
        n_rows += len(fields)
    if n_rows == 0:
        raise ValueError(f"'{path}' has no data rows.")
    user_ids, user_codes = user_column.finish()
    item_ids, item_codes = item_column.finish()
    read_values = np.concatenate(value_parts) if values is not None else None
    return user_ids, user_codes, item_ids, item_codes, read_values


def _interactions_bunch(user_ids, user_codes, item_ids, item_codes, values, duplicates, **extra):
    if values is None:
        values = np.ones(user_codes.size, dtype=np.float32)
    X = _to_csr(user_codes, item_codes, values, (user_ids.size, item_ids.size), duplicates)
    return Bunch(data=X, user_ids=user_ids, item_ids=item_ids, **extra)


def _read_text(path):
    """Text of a small file: UTF-8 if it decodes, else Latin-1."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _lines(text):
    """(line number, line) of the non-empty lines of a text."""
    return [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _movie_id(text, path, number):
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{path}, line {number}: movie id {text!r} is not an integer.") from None
