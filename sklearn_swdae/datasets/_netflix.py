"""Loader of the Netflix Prize training set (combined_data_*.txt or training_set/)."""

from pathlib import Path

import numpy as np

from . import _parsing
from ._parsing import (
    _check_file,
    _Chunk,
    _IdColumn,
    _iter_chunks,
    _line_bounds,
    _padded_buffer,
    _parse_decimals,
    _parse_ints,
)
from ._readers import (
    _interactions_bunch,
    _lines,
    _movie_id,
    _read_text,
)

__all__ = ["load_netflix"]


def _netflix_files(path):
    """(files, one_movie_per_file, titles file or None) of a Netflix folder."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No such Netflix Prize file or folder: '{path}'.")
    if path.is_file():
        folder = path.parent
        files, per_file = [path], path.name.startswith("mv_")
    else:
        folder = path
        files = sorted(path.glob("combined_data_*.txt"))
        per_file = False
        if not files:
            training = path / "training_set" if (path / "training_set").is_dir() else path
            files = sorted(training.glob("mv_*.txt"))
            per_file = True
            if training is path:
                folder = path.parent
        if not files:
            raise FileNotFoundError(
                f"'{path}' holds neither combined_data_*.txt files nor a training_set/ folder of mv_*.txt files."
            )
    titles = None
    for candidate in (folder / "movie_titles.txt", folder / "movie_titles.csv"):
        if candidate.is_file():
            titles = candidate
            break
    return files, per_file, titles


def _netflix_chunks(files, per_file):
    """Chunks of the Netflix files; one-movie files are batched together."""
    if not per_file:
        for file in files:
            yield from _iter_chunks(file)
        return
    pieces, sources, n_lines, n_bytes = [], [], 0, 0
    for file in files:
        data = _check_file(file).read_bytes().replace(b"\r", b"")
        if not data.strip():
            raise ValueError(f"'{file}' is empty.")
        if not data.endswith(b"\n"):
            data += b"\n"
        sources.append((n_lines, file, 1))
        pieces.append(data)
        n_lines += data.count(b"\n")
        n_bytes += len(data)
        if n_bytes >= _parsing._CHUNK_BYTES:
            yield _Chunk(b"".join(pieces), sources, n_lines)
            pieces, sources, n_lines, n_bytes = [], [], 0, 0
    if pieces:
        yield _Chunk(b"".join(pieces), sources, n_lines)


def _parse_netflix_chunk(chunk, current_movie, per_file, users):
    """Parse one chunk of 'MovieID:' and 'CustomerID,Rating,Date' lines.

    Adds the customers to ``users`` and returns ``(movies, ratings,
    current_movie)``.
    """
    buf = _padded_buffer(chunk.data)
    body = buf[: len(chunk.data)]
    line_starts, newlines = _line_bounds(body)
    nonempty = newlines > line_starts
    commas = np.flatnonzero(body == ord(","))
    per_line = np.diff(np.searchsorted(commas, newlines), prepend=0)
    last_char = body[np.maximum(newlines - 1, 0)]
    is_header = nonempty & (per_line == 0) & (last_char == ord(":"))
    is_data = nonempty & (per_line == 2)
    bad = nonempty & ~is_header & ~is_data
    if bad.any():
        line = int(np.argmax(bad))
        raise ValueError(
            f"{chunk.where(line)}: expected 'MovieID:' or 'CustomerID,Rating,Date', got {chunk.line_text(line)!r}."
        )
    if per_file:
        for first_index, _, _ in chunk.sources:
            if not is_header[first_index]:
                raise ValueError(f"{chunk.where(first_index)}: a training_set file must start with 'MovieID:'.")
    header_lines = np.flatnonzero(is_header)
    movie_ids, ok = _parse_ints(buf, line_starts[header_lines], newlines[header_lines] - 1)
    if not ok.all():
        line = int(header_lines[np.argmin(ok)])
        raise ValueError(f"{chunk.where(line)}: the movie id of {chunk.line_text(line)!r} is not an integer.")
    data_lines = np.flatnonzero(is_data)
    owner = np.searchsorted(header_lines, data_lines) - 1
    if data_lines.size and owner[0] < 0 and current_movie is None:
        line = int(data_lines[0])
        raise ValueError(f"{chunk.where(line)}: a rating line comes before any 'MovieID:' line.")
    movies = np.full(data_lines.size, -1 if current_movie is None else current_movie, dtype=np.int64)
    owned = owner >= 0
    movies[owned] = movie_ids[owner[owned]]
    if header_lines.size:
        current_movie = int(movie_ids[-1])
    commas = commas.reshape(-1, 2)
    customer_starts, customer_ends = line_starts[data_lines], commas[:, 0]
    empty = customer_ends == customer_starts
    if empty.any():
        line = int(data_lines[np.argmax(empty)])
        raise ValueError(f"{chunk.where(line)}: the customer id is empty.")
    users.add_range(buf, customer_starts, customer_ends)
    ratings, bad = _parse_decimals(buf, commas[:, 0] + 1, commas[:, 1])
    bad |= np.isnan(ratings)
    if bad.any():
        row = int(np.argmax(bad))
        line = int(data_lines[row])
        raise ValueError(f"{chunk.where(line)}: the rating of {chunk.line_text(line)!r} is not a number.")
    return movies, ratings, current_movie


def _read_netflix_titles(path):
    """``movie_titles.txt``: ``MovieID,YearOfRelease,Title`` (Latin-1)."""
    titles = {}
    for number, line in _lines(_read_text(path)):
        fields = line.split(",", 2)
        if len(fields) != 3:
            raise ValueError(f"{path}, line {number}: expected 'MovieID,YearOfRelease,Title', got {line[:80]!r}.")
        titles[_movie_id(fields[0], path, number)] = fields[2]
    return titles


def load_netflix(path):
    """Load the Netflix Prize training set.

    Two layouts of the same data are accepted: the four
    ``combined_data_*.txt`` files of the Kaggle copy, or the original
    ``training_set/`` folder of 17,770 ``mv_*.txt`` files.  Both hold
    blocks of a ``MovieID:`` line followed by ``CustomerID,Rating,Date``
    lines.  Dates are not read.

    Parameters
    ----------
    path : str or path-like
        A folder holding ``combined_data_*.txt`` files, a ``training_set/``
        folder or the ``mv_*.txt`` files themselves, or a single such file.
        A ``movie_titles.txt`` next to them (or next to ``training_set/``)
        gives the titles.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        - ``data``: scipy.sparse.csr_array of shape (n_users, n_items),
          dtype float32, the ratings (1 to 5).  A (customer, movie) pair
          given twice keeps its last rating in file order (the official
          data has none).
        - ``user_ids``: int64 array of the sorted customer ids (rows).
        - ``item_ids``: int64 array of the sorted movie ids (columns).
        - ``item_titles``: object array of the titles of the columns
          (``""`` where unknown), or None without ``movie_titles.txt``.
        - ``DESCR``: a short description.

    Raises
    ------
    ValueError
        For an empty file or a malformed line (named with its line number).
    FileNotFoundError
        If ``path`` does not exist or holds no Netflix file.

    Notes
    -----
    The reader is vectorized (``benchmarks/RESULTS.md``, "Dataset loaders",
    has the measured throughput).  The full training set (100,480,507
    ratings, 480,189 customers, 17,770 movies) takes a few GB of memory
    while loading (0.8 GB for the result).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_swdae.datasets import load_netflix
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = (Path(tmp.name) / "combined_data_1.txt").write_text(
    ...     "1:\\n30878,4,2005-12-26\\n2647871,1,2005-12-30\\n2:\\n30878,5,2005-07-12\\n")
    >>> netflix = load_netflix(tmp.name)
    >>> netflix.user_ids.tolist(), netflix.item_ids.tolist()
    ([30878, 2647871], [1, 2])
    >>> netflix.data.toarray()
    array([[4., 5.],
           [1., 0.]], dtype=float32)
    >>> tmp.cleanup()
    """
    files, per_file, titles_file = _netflix_files(path)
    users, items = _IdColumn("customer id"), _IdColumn("movie id")
    ratings_parts = []
    current_movie = None
    for chunk in _netflix_chunks(files, per_file):
        if per_file:
            current_movie = None
        movies, ratings, current_movie = _parse_netflix_chunk(chunk, current_movie, per_file, users)
        items.add_values(movies)
        ratings_parts.append(ratings)
    n_ratings = sum(part.size for part in ratings_parts)
    if n_ratings == 0:
        raise ValueError(f"'{path}' holds no ratings.")
    user_ids, user_codes = users.finish()
    item_ids, item_codes = items.finish()
    titles = None
    if titles_file is not None:
        known = _read_netflix_titles(titles_file)
        titles = np.array([known.get(movie, "") for movie in item_ids.tolist()], dtype=object)
    return _interactions_bunch(
        user_ids,
        user_codes,
        item_ids,
        item_codes,
        np.concatenate(ratings_parts),
        "last",
        item_titles=titles,
        DESCR=f"Netflix Prize training set ratings read from '{path}'.",
    )
