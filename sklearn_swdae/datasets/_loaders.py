"""Readers of public recommender datasets and of generic interaction logs."""

import csv
import io
import itertools
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from . import _parsing
from ._parsing import (
    _check_file,
    _Chunk,
    _decode_header,
    _IdColumn,
    _iter_chunks,
    _line_bounds,
    _padded_buffer,
    _parse_decimals,
    _parse_float_column,
    _parse_ints,
    _split_fields,
    _split_header,
)

__all__ = ["load_interactions", "load_movielens", "load_msd_taste_profile", "load_netflix"]

_DUPLICATES = ("sum", "last", "first", "max")

#: The 19 genres of ``u.item`` (ML-100K), in column order, as in ``u.genre``.
_ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

_NO_GENRES = "(no genres listed)"

_MOVIELENS_VARIANTS = ("100k", "1m", "10m", "20m", "25m", "latest", "latest-small")


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


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


def _item_metadata(item_ids, movies, genre_names):
    """Titles and the boolean genre matrix aligned with ``item_ids``.

    ``movies`` maps a movie id to ``(title, [genre, ...])``.  Rated movies
    missing from the movies file get an empty title and no genre.
    """
    column_of = {name: j for j, name in enumerate(genre_names)}
    titles = np.empty(item_ids.size, dtype=object)
    genres = np.zeros((item_ids.size, len(genre_names)), dtype=bool)
    for i, movie in enumerate(item_ids.tolist()):
        title, movie_genres = movies.get(movie, ("", ()))
        titles[i] = title
        for genre in movie_genres:
            genres[i, column_of[genre]] = True
    return titles, genres, np.asarray(genre_names, dtype=object)


def _movie_id(text, path, number):
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{path}, line {number}: movie id {text!r} is not an integer.") from None


# --------------------------------------------------------------------------
# MovieLens
# --------------------------------------------------------------------------


def _read_u_item(folder):
    """ML-100K ``u.item`` (pipe-separated, 19 genre flags) and ``u.genre``."""
    genre_names = list(_ML100K_GENRES)
    genre_file = folder / "u.genre"
    if genre_file.is_file():
        pairs = []
        for number, line in _lines(_read_text(genre_file)):
            name, _, index = line.rpartition("|")
            if not name or not index.strip().isdigit():
                raise ValueError(f"{genre_file}, line {number}: expected 'genre|index', got {line!r}.")
            pairs.append((int(index), name))
        genre_names = [name for _, name in sorted(pairs)]
    path = folder / "u.item"
    movies = {}
    n_genres = len(genre_names)
    for number, line in _lines(_read_text(path)):
        fields = line.split("|")
        if len(fields) != 5 + n_genres or any(flag not in ("0", "1") for flag in fields[5:]):
            raise ValueError(
                f"{path}, line {number}: expected 5 fields and {n_genres} genre flags (0/1) "
                f"separated by '|', got {line[:80]!r}."
            )
        flags = fields[5:]
        movies[_movie_id(fields[0], path, number)] = (
            fields[1],
            [genre_names[j] for j in range(n_genres) if flags[j] == "1"],
        )
    return movies, genre_names


def _read_movies_dat(path):
    """ML-1M / ML-10M ``movies.dat``: ``MovieID::Title::Genre|Genre``."""
    movies = {}
    for number, line in _lines(_read_text(path)):
        fields = line.split("::")
        if len(fields) != 3:
            raise ValueError(f"{path}, line {number}: expected 'MovieID::Title::Genres', got {line[:80]!r}.")
        movies[_movie_id(fields[0], path, number)] = (fields[1], _genre_list(fields[2]))
    return movies, _genre_names(movies)


def _read_movies_csv(path):
    """ML-20M / 25M / latest ``movies.csv``: ``movieId,title,genres`` (quoted)."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    header = next(reader, None)
    if header is None:
        raise ValueError(f"'{path}' is empty.")
    header = [name.strip() for name in header]
    missing = {"movieId", "title", "genres"} - set(header)
    if missing:
        raise ValueError(f"{path}, line 1: the header {header} lacks the columns {sorted(missing)}.")
    id_col, title_col, genre_col = (header.index(name) for name in ("movieId", "title", "genres"))
    movies = {}
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"{path}, line {reader.line_num}: expected {len(header)} fields, got {len(row)}: {row}.")
        movie = _movie_id(row[id_col], path, reader.line_num)
        movies[movie] = (row[title_col], _genre_list(row[genre_col]))
    return movies, _genre_names(movies)


def _genre_list(text):
    text = text.strip()
    if not text or text == _NO_GENRES:
        return []
    return text.split("|")


def _genre_names(movies):
    return sorted({genre for _, genres in movies.values() for genre in genres})


def _detect_movielens(folder):
    """(variant, ratings file, format) from the files of a MovieLens folder."""
    name = folder.name.lower()
    if (folder / "u.data").is_file():
        return "100k", folder / "u.data", "u.data"
    if (folder / "ratings.dat").is_file():
        variant = "1m" if (folder / "users.dat").is_file() or name == "ml-1m" else "10m"
        return variant, folder / "ratings.dat", "dat"
    if (folder / "ratings_reconstructed.csv.gz").is_file():
        return "1m", folder / "ratings_reconstructed.csv.gz", "csv"
    if (folder / "ratings.csv").is_file():
        known = {"ml-20m": "20m", "ml-25m": "25m", "ml-latest-small": "latest-small", "ml-latest": "latest"}
        return known.get(name, "latest"), folder / "ratings.csv", "csv"
    return None, None, None


def _normalize_variant(variant, allowed):
    if not isinstance(variant, str):
        raise ValueError(f"variant must be one of {allowed}, got {variant!r}.")
    key = variant.lower().strip()
    key = key[3:] if key.startswith("ml-") else key
    key = {"10m100k": "10m"}.get(key, key)
    if key not in allowed:
        raise ValueError(f"variant must be one of {allowed} (optionally prefixed with 'ml-'), got {variant!r}.")
    return key


def load_movielens(path, variant=None):
    """Load a MovieLens dataset from an extracted GroupLens folder.

    Reads the ratings into a users x items matrix and, when the folder has
    the movies file, the titles and genres of the rated movies.  Supported
    layouts (the official archives, extracted):

    - ML-100K: ``u.data`` (tab-separated ``user item rating timestamp``)
      and ``u.item`` (pipe-separated, Latin-1, 19 genre flags) with the
      genre names of ``u.genre``.
    - ML-1M, ML-10M: ``ratings.dat`` (``UserID::MovieID::Rating::Timestamp``)
      and ``movies.dat`` (``MovieID::Title::Genre|Genre``, Latin-1).
    - ML-20M, ML-25M, ml-latest, ml-latest-small: ``ratings.csv``
      (header ``userId,movieId,rating,timestamp``) and ``movies.csv``
      (``movieId,title,genres``, quoted CSV).
    - A reconstructed ML-1M (a folder holding
      ``ratings_reconstructed.csv.gz``, gzip CSV with the header
      ``userId,movieId,rating``) where 6 of the 1,000,209 ratings are
      unknown (empty); they are stored as NaN, see ``data`` below.

    Parameters
    ----------
    path : str or path-like
        The folder (for example ``ml-20m/``).
    variant : {"100k", "1m", "10m", "20m", "25m", "latest", "latest-small"}, default=None
        Which layout to read; a leading ``"ml-"`` is allowed.  None detects
        it from the files: ``u.data``, then ``ratings.dat``, then
        ``ratings_reconstructed.csv.gz``, then ``ratings.csv``.  The
        variant only selects the file format; the counts are not checked.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        - ``data``: scipy.sparse.csr_array of shape (n_users, n_items),
          dtype float32, holding the ratings (0.5 to 5).  Only rated
          pairs are stored.  A pair rated twice (no official release has
          one) keeps its last rating in file order.  Unknown ratings (the
          reconstructed ML-1M only) are stored as NaN: the pair is an
          interaction whose rating is unknown; a ``min_rating`` threshold of
          :func:`preprocess_interactions` drops them.
        - ``user_ids``, ``item_ids``: int64 arrays, sorted: row ``i`` is
          user ``user_ids[i]`` and column ``j`` is movie ``item_ids[j]``.
          Only movies with a rating are columns.
        - ``item_titles``: object array of str, the title of each column
          (``""`` for a rated movie missing from the movies file), or None
          when the folder has no movies file.
        - ``item_genres``: bool array of shape (n_items, n_genres),
          ``item_genres[j, g]`` is True when movie ``item_ids[j]`` has genre
          ``genre_names[g]`` (None without a movies file).  Movies tagged
          ``(no genres listed)`` have no genre.
        - ``genre_names``: object array of str; ML-100K keeps the 19 genres
          of ``u.genre`` in file order (including ``unknown``), the others
          list the genres of the movies file sorted alphabetically.
        - ``variant``: the variant read.
        - ``DESCR``: a short description.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or holds no ratings file.
    ValueError
        For an unknown ``variant``, an empty file, or a malformed line (the
        message names the file and the line).

    See Also
    --------
    fetch_movielens : Download the official archive and load it.
    preprocess_interactions : The paper's binarization and filtering.

    Notes
    -----
    The ratings file is parsed by a vectorized reader (see
    :func:`load_interactions` for its throughput): a file of ML-20M's size
    loads in about 15 seconds on a small machine.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_swdae.datasets import load_movielens
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)
    >>> _ = (folder / "ratings.csv").write_text(
    ...     "userId,movieId,rating,timestamp\\n1,10,4.0,0\\n1,20,2.5,0\\n7,20,5.0,0\\n")
    >>> _ = (folder / "movies.csv").write_text(
    ...     'movieId,title,genres\\n10,"Heat, The (1995)",Action|Crime\\n20,Up (2009),Animation\\n')
    >>> ml = load_movielens(folder)
    >>> ml.data.toarray()
    array([[4. , 2.5],
           [0. , 5. ]], dtype=float32)
    >>> ml.user_ids.tolist(), ml.item_ids.tolist(), ml.item_titles.tolist()
    ([1, 7], [10, 20], ['Heat, The (1995)', 'Up (2009)'])
    >>> ml.genre_names.tolist(), ml.item_genres.astype(int).tolist()
    (['Action', 'Animation', 'Crime'], [[1, 0, 1], [0, 1, 0]])
    >>> tmp.cleanup()
    """
    folder = Path(path).expanduser()
    if not folder.exists():
        raise FileNotFoundError(f"No such MovieLens folder: '{folder}'.")
    if not folder.is_dir():
        raise ValueError(f"path must be the folder of a MovieLens dataset, got the file '{folder}'.")
    detected, ratings, kind = _detect_movielens(folder)
    if variant is None:
        if detected is None:
            raise FileNotFoundError(
                f"'{folder}' holds no MovieLens ratings file (u.data, ratings.dat, "
                "ratings_reconstructed.csv.gz or ratings.csv)."
            )
        variant = detected
    else:
        variant = _normalize_variant(variant, _MOVIELENS_VARIANTS)
        expected = {"100k": ("u.data",), "1m": ("ratings.dat", "ratings_reconstructed.csv.gz"), "10m": ("ratings.dat",)}
        names = expected.get(variant, ("ratings.csv",))
        found = [folder / name for name in names if (folder / name).is_file()]
        if not found:
            raise FileNotFoundError(f"'{folder}' has no {' or '.join(names)} for MovieLens variant {variant!r}.")
        ratings = found[0]
        kind = {"u.data": "u.data", "ratings.dat": "dat"}.get(ratings.name, "csv")

    if kind == "u.data":
        read = _read_log(ratings, "\t", users=0, items=1, values=2, header=False, n_fields=4)
    elif kind == "dat":
        read = _read_log(ratings, "::", users=0, items=1, values=2, header=False, n_fields=4)
    else:
        read = _read_log(ratings, ",", users="userId", items="movieId", values="rating", header=True)
    user_ids, user_codes, item_ids, item_codes, values = read
    for ids, what in ((user_ids, "user"), (item_ids, "movie")):
        if ids.dtype == object:
            raise ValueError(f"'{ratings}': MovieLens {what} ids must be integers, found {ids[0]!r}.")

    movies = None
    if kind == "u.data":
        if (folder / "u.item").is_file():
            movies, genre_names = _read_u_item(folder)
    else:
        readers = [("movies.dat", _read_movies_dat), ("movies.csv", _read_movies_csv)]
        for name, reader in readers if kind == "dat" else readers[::-1]:
            if (folder / name).is_file():
                movies, genre_names = reader(folder / name)
                break
    if movies is None:
        titles = genres = names = None
    else:
        titles, genres, names = _item_metadata(item_ids, movies, genre_names)
    return _interactions_bunch(
        user_ids,
        user_codes,
        item_ids,
        item_codes,
        values,
        "last",
        item_titles=titles,
        item_genres=genres,
        genre_names=names,
        variant=variant,
        DESCR=f"MovieLens {variant} ratings read from '{ratings}' (GroupLens Research, grouplens.org).",
    )


# --------------------------------------------------------------------------
# Netflix Prize
# --------------------------------------------------------------------------


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
    FileNotFoundError
        If ``path`` does not exist or holds no Netflix file.
    ValueError
        For an empty file or a malformed line (named with its line number).

    Notes
    -----
    The reader is vectorized: a synthetic 5-million-rating file read at
    about 1.3 million ratings per second on a shared 2-core machine, so the
    full training set (100,480,507 ratings, 480,189 customers, 17,770
    movies) should take one to two minutes and a few GB of memory while
    loading (0.8 GB for the result).

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


# --------------------------------------------------------------------------
# Million Song Dataset, Echo Nest Taste Profile subset
# --------------------------------------------------------------------------


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
    Text ids are hashed to 64-bit keys to be sorted quickly.  A synthetic
    file of 2 million lines read at about 550,000 lines per second on a
    shared 2-core machine, so the full file (48,373,586 lines, 2.9 GB)
    should take about one and a half minutes and a few GB of memory.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_swdae.datasets import load_msd_taste_profile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> file = Path(tmp.name) / "train_triplets.txt"
    >>> _ = file.write_text("b80344d063b5ccb3212f76538f3d9e43d87dca9e\\tSOAKIMP12A8C130995\\t1\\n"
    ...                     "b80344d063b5ccb3212f76538f3d9e43d87dca9e\\tSOBBMDR12A8C13253B\\t2\\n")
    >>> msd = load_msd_taste_profile(file)
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


# --------------------------------------------------------------------------
# Generic logs
# --------------------------------------------------------------------------

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
    Text files are parsed in 32 MiB blocks by vectorized numpy code.
    Measured on a 2-core virtual machine shared with other jobs (load
    average 5 to 7): ml-latest-small's ``ratings.csv`` (100,836 rows) in
    0.08 s, and a synthetic ``ratings.csv`` of ML-20M's size (20 million
    rows, 540 MB) in 13.5 s when sorted by user like ML-20M (16 s unsorted),
    that is 1.3 to 1.5 million rows per second, including building the
    matrix.  On the same machine :func:`numpy.loadtxt` read 0.85 million
    rows per second (numbers only, no matrix) and the :mod:`csv` module
    about 0.3 million.  Blocks containing double quotes fall back to the
    slower :mod:`csv` module, which handles quoted fields (but not newlines
    inside them).  Carriage returns are ignored, so CRLF files read like LF
    files.  Empty lines are skipped.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_swdae.datasets import load_interactions
    >>> tmp = tempfile.TemporaryDirectory()
    >>> log = Path(tmp.name) / "plays.tsv"
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
