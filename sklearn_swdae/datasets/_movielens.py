"""Loader of the MovieLens datasets (GroupLens folders): ratings, titles and genres."""

import csv
import io
from pathlib import Path

import numpy as np

from ._readers import (
    _interactions_bunch,
    _lines,
    _movie_id,
    _read_log,
    _read_text,
)

__all__ = ["load_movielens"]

#: The 19 genres of ``u.item`` (ML-100K), in column order, as in ``u.genre``.
_ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

_NO_GENRES = "(no genres listed)"

_MOVIELENS_VARIANTS = ("100k", "1m", "10m", "20m", "25m", "latest", "latest-small")


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
    The ratings file is parsed by the vectorized reader of
    :func:`load_interactions`; ``benchmarks/RESULTS.md`` ("Dataset
    loaders") has its measured throughput.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_swdae.datasets import load_movielens
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
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
