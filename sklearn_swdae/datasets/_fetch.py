"""Download and cache the official MovieLens archives."""

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
from collections import namedtuple
from pathlib import Path

from sklearn.datasets import get_data_home as get_sklearn_data_home

from ._movielens import _normalize_variant, load_movielens

__all__ = ["fetch_movielens", "get_data_home"]

_Archive = namedtuple("_Archive", ["url", "size", "sha256", "md5"])

# The official GroupLens archives.  No sum below could be checked against a
# download here (the machine that wrote this module had no internet access),
# so they are *recorded* sums from two independent public sources:
#
# - size and sha256: TensorFlow Datasets, file
#   tensorflow_datasets/url_checksums/movielens.txt (github.com/tensorflow/datasets,
#   commit 1c076ac3c19c8ea83e1d1a75e0623c9a699e0d7c), which records the sums
#   of the archives its maintainers downloaded.  It has no entry for ml-10m.
# - md5: as recorded in github.com/eli-osherovich/papers_with_code
#   (datasets/movielens/dl_config.py), presumably copied from the ``.zip.md5``
#   files GroupLens publishes next to the archives (not checked).  There is
#   none for ml-latest-small.
#
# shared/data/*/PROVENANCE.md lists sha256 sums of the extracted ml-100k and
# ml-latest-small files, not of the archives, so it cannot confirm these.
# Every download is checked against every sum known for it; a mismatch
# raises and leaves nothing in the cache.
_MOVIELENS_ARCHIVES = {
    "100k": _Archive(
        "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        4924029,
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        "0e33842e24a9c977be4e0107933c0723",
    ),
    "1m": _Archive(
        "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        5917549,
        "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        "c4d9eecfca2ab87c1945afe126590906",
    ),
    "10m": _Archive(
        "https://files.grouplens.org/datasets/movielens/ml-10m.zip",
        None,
        None,
        "ce571fd55effeba0271552578f2648bd",
    ),
    "20m": _Archive(
        "https://files.grouplens.org/datasets/movielens/ml-20m.zip",
        198702078,
        "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
        "cd245b17a1ae2cc31bb14903e1204af3",
    ),
    "25m": _Archive(
        "https://files.grouplens.org/datasets/movielens/ml-25m.zip",
        261978986,
        "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
        "6b51fb2759a8657d3bfcbfc42b592ada",
    ),
    "latest-small": _Archive(
        "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        978202,
        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        None,
    ),
}

_TIMEOUT_S = 60
_BLOCK_BYTES = 2**20


def get_data_home(data_home=None):
    """The folder where this package's datasets are cached.

    As :func:`sklearn.datasets.get_data_home`, with an environment variable
    of the package's own: ``data_home`` if given, else the
    ``SKLEARN_SWDAE_DATA`` environment variable if set, else
    scikit-learn's data home (``$SCIKIT_LEARN_DATA`` or
    ``~/scikit_learn_data``).  The folder is created if missing.
    :func:`fetch_movielens` stores MovieLens ``ml-<variant>`` folders in
    its ``movielens`` sub-folder, where the example scripts look for them.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use; None applies the rule above.

    Returns
    -------
    data_home : str
        The path of the folder.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_swdae.datasets import get_data_home
    >>> tmp = tempfile.TemporaryDirectory()
    >>> get_data_home(tmp.name) == tmp.name
    True
    >>> os.environ["SKLEARN_SWDAE_DATA"] = tmp.name
    >>> get_data_home() == tmp.name
    True
    >>> del os.environ["SKLEARN_SWDAE_DATA"]
    >>> tmp.cleanup()
    """
    if data_home is None:
        data_home = os.environ.get("SKLEARN_SWDAE_DATA") or None
    if data_home is None:
        return get_sklearn_data_home()
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _data_home(data_home):
    return Path(get_data_home(data_home))


def _download(archive, folder):
    """Download ``archive.url`` into ``folder``, check it, return its path.

    The file is written under a temporary name in ``folder`` and only
    returned once every known sum matched; on any failure it is deleted.
    """
    fd, part = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".part")
    try:
        sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(archive.url, timeout=_TIMEOUT_S) as response:
            while block := response.read(_BLOCK_BYTES):
                out.write(block)
                sha256.update(block)
                md5.update(block)
                size += len(block)
        checks = (("size", archive.size, size), ("sha256", archive.sha256, sha256.hexdigest()))
        checks += (("md5", archive.md5, md5.hexdigest()),)
        for what, expected, actual in checks:
            if expected is not None and expected != actual:
                raise OSError(
                    f"The archive downloaded from {archive.url} has {what} {actual}, expected {expected}: "
                    "it is corrupted or was changed by the publisher. Nothing was cached; try again, or "
                    "download and extract the archive yourself and read it with load_movielens."
                )
        if all(expected is None for _, expected, _ in checks):
            warnings.warn(
                f"No checksum is known for {archive.url}; its content was not verified (sha256 {sha256.hexdigest()}).",
                UserWarning,
                stacklevel=3,
            )
        return Path(part)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def _extract(zip_path, folder, target):
    """Extract the archive and move its data folder to ``target`` atomically."""
    scratch = Path(tempfile.mkdtemp(dir=folder, prefix=".extract-"))
    try:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(scratch)  # checks every member's CRC
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise OSError(f"The downloaded archive is not a valid zip file ({exc}); nothing was cached.") from None
        entries = [entry for entry in scratch.iterdir() if not entry.name.startswith(("__MACOSX", "."))]
        # The official archives hold one folder (e.g. ml-10M100K/); move it.
        source = entries[0] if len(entries) == 1 and entries[0].is_dir() else scratch
        try:
            os.replace(source, target)
        except OSError:
            if not target.is_dir():  # pragma: no cover - unexpected file system error
                raise
            # Another process cached it first; keep theirs.
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def fetch_movielens(variant, *, data_home=None, download_if_missing=True):
    """Download (once) and load a MovieLens dataset from GroupLens.

    The official archive ``files.grouplens.org/datasets/movielens/ml-<variant>.zip``
    is downloaded to a temporary file, checked against its known size and
    checksums, extracted, and moved into the cache folder with an atomic
    rename, so an interrupted or corrupted download never leaves a partial
    dataset behind.  Later calls load the cached folder without network
    access.  Loading is done by :func:`load_movielens`.

    Please respect the GroupLens terms of use: research use, cite Harper &
    Konstan (2015), do not redistribute.

    Parameters
    ----------
    variant : {"100k", "1m", "10m", "20m", "25m", "latest-small"}
        The dataset; a leading ``"ml-"`` is allowed.  The paper uses
        ``"20m"``.
    data_home : str or path-like, default=None
        Cache folder.  None uses :func:`get_data_home`: the
        ``SKLEARN_SWDAE_DATA`` environment variable if set, else
        scikit-learn's data home (``$SCIKIT_LEARN_DATA`` or
        ``~/scikit_learn_data``).  The dataset is stored in
        ``<data_home>/movielens/ml-<variant>/``.
    download_if_missing : bool, default=True
        If False, raise an OSError instead of downloading when the dataset
        is not cached.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        As returned by :func:`load_movielens`.

    Raises
    ------
    OSError
        If the dataset is not cached and ``download_if_missing`` is False,
        if the download fails, or if the archive does not match its
        checksums or is not a valid zip file (the download is deleted).

    Notes
    -----
    The archive sums are recorded from TensorFlow Datasets (size and
    sha256; none for ML-10M) and from a copy of GroupLens's ``.md5`` sums
    (none for ml-latest-small).  They could not be re-checked against a
    download when this function was written; see the table in the source.
    Should the publisher change an archive, download and extract it by hand
    and use :func:`load_movielens`.

    Examples
    --------
    >>> from sklearn_swdae.datasets import fetch_movielens
    >>> ml = fetch_movielens("20m")  # doctest: +SKIP
    >>> ml.data.shape[0], ml.data.nnz  # doctest: +SKIP
    (138493, 20000263)
    """
    variant = _normalize_variant(variant, tuple(_MOVIELENS_ARCHIVES))
    archive = _MOVIELENS_ARCHIVES[variant]
    folder = _data_home(data_home) / "movielens"
    target = folder / f"ml-{variant}"
    if not target.is_dir():
        if not download_if_missing:
            raise OSError(f"MovieLens {variant} is not in the cache '{target}' and download_if_missing is False.")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            zip_path = _download(archive, folder)
        except (urllib.error.URLError, TimeoutError) as exc:
            raise OSError(f"Could not download {archive.url}: {exc}") from exc
        try:
            _extract(zip_path, folder, target)
        finally:
            zip_path.unlink(missing_ok=True)
    return load_movielens(target, variant=variant)
