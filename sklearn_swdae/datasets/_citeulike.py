"""Reader of the CiteULike user libraries (citeulike-a, citeulike-t)."""

from pathlib import Path

import numpy as np

from ._readers import _interactions_bunch


def load_citeulike(path):
    """Load a CiteULike dataset (citeulike-a or citeulike-t) of saved articles.

    The file ``users.dat`` (Wang et al., IJCAI 2013; Wang and Blei, KDD
    2011) holds one line per user, ``count article article ...``, with
    0-based article ids; an empty line is a user with no saves.  Every saved article is a positive interaction
    (binary data: use ``preprocess_interactions(bunch.data, min_rating=0)``
    or the ``"ml-20m"`` preset, which keeps users with 5 or more saves).

    Parameters
    ----------
    path : str or path-like
        The dataset folder, or the ``users.dat`` file itself.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        ``data``: float32 CSR array of shape (n_users, n_articles) of ones,
        the columns being the articles that at least one user saved;
        ``user_ids``: line numbers (0-based) of the users; ``item_ids``: the
        article ids of the columns, ascending.

    Raises
    ------
    FileNotFoundError
        When there is no ``users.dat``.
    ValueError
        When a line is not a count followed by that many integer ids.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_swdae.datasets import load_citeulike
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "users.dat").write_text("2 0 5\\n1 5\\n")
    >>> bunch = load_citeulike(folder)
    >>> bunch.data.toarray().tolist(), bunch.item_ids.tolist()
    ([[1.0, 1.0], [0.0, 1.0]], [0, 5])
    """
    path = Path(path)
    file = path / "users.dat" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"No CiteULike users.dat at '{file}'.")
    user_codes, articles = [], []
    for number, line in enumerate(file.read_text().splitlines(), start=1):
        fields = line.split()
        try:
            values = [int(field) for field in fields]
        except ValueError:
            raise ValueError(f"'{file}' line {number}: expected integers, got {line[:60]!r}.") from None
        if not values:  # an empty library
            continue
        if values[0] != len(values) - 1 or min(values) < 0:
            raise ValueError(
                f"'{file}' line {number}: expected a count followed by that many "
                f"non-negative article ids, got {line[:60]!r}."
            )
        user_codes.append(np.full(values[0], number - 1, dtype=np.int64))
        articles.append(np.asarray(values[1:], dtype=np.int64))
    if not articles:
        raise ValueError(f"'{file}' has no users.")
    user_codes, articles = np.concatenate(user_codes), np.concatenate(articles)
    item_ids, item_codes = np.unique(articles, return_inverse=True)
    user_ids = np.arange(number, dtype=np.int64)
    return _interactions_bunch(user_ids, user_codes, item_ids, item_codes, None, "max")
