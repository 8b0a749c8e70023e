"""Tests of sklearn_swdae.datasets: readers, fetcher, preprocessing, splits.

Everything runs offline on tiny generated files, except the tests marked
``real data``, which read the evaluation copies in ``shared/data`` (located
through $SWDAE_SHARED_DATA or next to the repository) and are skipped when
those are absent.  The data files are never copied into the repository.
"""

import contextlib
import csv
import gzip
import hashlib
import http.server
import io
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_swdae.datasets import (
    PREPROCESSING_PRESETS,
    SPLIT_PRESETS,
    _fetch,
    _parsing,
    fetch_movielens,
    load_interactions,
    load_movielens,
    load_msd_taste_profile,
    load_netflix,
    make_interactions,
    paper_split,
    preprocess_interactions,
)
from sklearn_swdae.datasets import _preprocessing as preprocessing_module
from sklearn_swdae.model_selection import DEFAULT_SPLIT_SEED, strong_generalization_split


def write(path, text, encoding="utf-8"):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def small_chunks(monkeypatch):
    """Parse in blocks of a few lines to exercise the block boundaries."""
    monkeypatch.setattr(_parsing, "_CHUNK_BYTES", 40)


# --------------------------------------------------------------------------
# MovieLens
# --------------------------------------------------------------------------

U_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "2|GoldenEye (1995)|01-Jan-1995||http://y|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0\n"
    "3|Unrated (1995)|01-Jan-1995||http://z|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
)


def make_ml100k(folder, genre_file=True):
    write(folder / "u.data", "196\t1\t3\t881250949\n186\t2\t3\t891717742\n22\t1\t1\t878887116\n196\t2\t5\t1\n")
    write(folder / "u.item", U_ITEM, "latin-1")
    if genre_file:
        names = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                 "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
                 "Thriller", "War", "Western"]  # fmt: skip
        write(folder / "u.genre", "".join(f"{name}|{i}\n" for i, name in enumerate(names)) + "\n")
    return folder


def test_load_movielens_100k(tmp_path):
    ml = load_movielens(make_ml100k(tmp_path))
    assert ml.variant == "100k"
    assert isinstance(ml.data, sp.csr_array) and ml.data.dtype == np.float32
    assert ml.user_ids.tolist() == [22, 186, 196]
    assert ml.item_ids.tolist() == [1, 2]  # movie 3 is unrated: not a column
    np.testing.assert_array_equal(ml.data.toarray(), [[1, 0], [0, 3], [3, 5]])
    assert ml.item_titles.tolist() == ["Toy Story (1995)", "GoldenEye (1995)"]
    assert len(ml.genre_names) == 19 and ml.genre_names[0] == "unknown"
    toy_story = ml.genre_names[ml.item_genres[0]].tolist()
    assert toy_story == ["Animation", "Children's", "Comedy"]
    assert ml.genre_names[ml.item_genres[1]].tolist() == ["Action", "Adventure", "Thriller"]


def test_load_movielens_100k_without_genre_or_item_file(tmp_path):
    ml = load_movielens(make_ml100k(tmp_path, genre_file=False))
    assert ml.genre_names[ml.item_genres[0]].tolist() == ["Animation", "Children's", "Comedy"]
    (tmp_path / "u.item").unlink()
    ml = load_movielens(tmp_path)
    assert ml.item_titles is None and ml.item_genres is None and ml.genre_names is None
    assert ml.data.nnz == 4


def test_load_movielens_dat_latin1(tmp_path):
    write(tmp_path / "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
    write(
        tmp_path / "movies.dat",
        "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
        "1193::Cité des enfants perdus, La (1995)::Adventure|Sci-Fi\n",
        "latin-1",
    )
    write(tmp_path / "users.dat", "1::F::1::10::48067\n")
    ml = load_movielens(tmp_path)
    assert ml.variant == "1m"
    assert ml.item_ids.tolist() == [661, 1193]
    np.testing.assert_array_equal(ml.data.toarray(), [[3, 5], [0, 4]])
    assert ml.item_titles[1] == "Cité des enfants perdus, La (1995)"
    assert ml.genre_names.tolist() == ["Adventure", "Animation", "Children's", "Musical", "Sci-Fi"]
    (tmp_path / "users.dat").unlink()
    assert load_movielens(tmp_path).variant == "10m"
    assert load_movielens(tmp_path, variant="ml-10m").data.nnz == 3


def test_load_movielens_csv_crlf_quotes_and_no_genres(tmp_path):
    folder = tmp_path / "ml-latest-small"
    write(folder / "ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4.0,9\r\n1,3,0.5,9\r\n5,1,3.5,9\r\n")
    write(
        folder / "movies.csv",
        "movieId,title,genres\r\n1,Toy Story (1995),Adventure|Animation\r\n2,Jumanji (1995),Fantasy\r\n"
        '3,"American President, The (1995)",(no genres listed)\r\n',
    )
    ml = load_movielens(folder)
    assert ml.variant == "latest-small"
    np.testing.assert_array_equal(ml.data.toarray(), [[4.0, 0.5], [3.5, 0]])
    assert ml.item_titles.tolist() == ["Toy Story (1995)", "American President, The (1995)"]
    assert ml.genre_names.tolist() == ["Adventure", "Animation", "Fantasy"]
    np.testing.assert_array_equal(ml.item_genres, [[True, True, False], [False, False, False]])


def test_load_movielens_reconstructed_1m(tmp_path):
    with gzip.open(tmp_path / "ratings_reconstructed.csv.gz", "wt") as f:
        f.write("userId,movieId,rating\n1,1193,5\n1,661,\n2,661,4\n")
    write(tmp_path / "movies.dat", "661::Peach (1996)::Animation\n1193::Cuckoo (1975)::Drama\n")
    ml = load_movielens(tmp_path)
    assert ml.variant == "1m"
    assert ml.data.nnz == 3  # the unknown rating is still an interaction
    assert np.isnan(ml.data[0, 0]) and ml.data[0, 1] == 5
    assert ml.item_titles.tolist() == ["Peach (1996)", "Cuckoo (1975)"]
    dataset = preprocess_interactions(ml.data, min_rating=4)
    X = dataset.data
    np.testing.assert_array_equal(X.toarray(), [[0, 1], [1, 0]])


def test_load_movielens_duplicates_keep_last(tmp_path):
    write(tmp_path / "u.data", "1\t1\t3\t0\n1\t2\t4\t0\n1\t1\t5\t0\n")
    np.testing.assert_array_equal(load_movielens(tmp_path).data.toarray(), [[5, 4]])


def test_load_movielens_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such MovieLens folder"):
        load_movielens(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="holds no MovieLens ratings file"):
        load_movielens(tmp_path)
    write(tmp_path / "u.data", "1\t1\t3\t0\n2\t1\t4\n")
    with pytest.raises(ValueError, match=r"u\.data, line 2: expected 4 fields"):
        load_movielens(tmp_path)
    with pytest.raises(ValueError, match="must be the folder"):
        load_movielens(tmp_path / "u.data")
    with pytest.raises(ValueError, match="variant must be one of"):
        load_movielens(tmp_path, variant="5m")
    with pytest.raises(FileNotFoundError, match="has no ratings.csv"):
        load_movielens(tmp_path, variant="20m")
    write(tmp_path / "u.data", "1\t1\t3\t0\n1\t2\tgood\t0\n")
    with pytest.raises(ValueError, match=r"line 2: rating 'good' is not a number"):
        load_movielens(tmp_path)
    write(tmp_path / "u.data", "1\tx1\t3\t0\n")
    with pytest.raises(ValueError, match="movie ids must be integers"):
        load_movielens(tmp_path)
    write(tmp_path / "u.data", "")
    with pytest.raises(ValueError, match="is empty"):
        load_movielens(tmp_path)
    write(tmp_path / "u.data", "1\t1\t3\t0\n")
    write(tmp_path / "u.item", "1|Toy Story|x||y|0|1\n")
    with pytest.raises(ValueError, match=r"u\.item, line 1: expected 5 fields and 19 genre flags"):
        load_movielens(tmp_path)


def test_load_movielens_header_only(tmp_path):
    write(tmp_path / "ratings.csv", "userId,movieId,rating,timestamp\n")
    with pytest.raises(ValueError, match="has no data rows"):
        load_movielens(tmp_path)
    write(tmp_path / "ratings.csv", "user,movie,rating,timestamp\n1,2,3,4\n")
    with pytest.raises(ValueError, match="user_col='userId' is not a column"):
        load_movielens(tmp_path)


# --------------------------------------------------------------------------
# Netflix
# --------------------------------------------------------------------------


def test_load_netflix_combined(tmp_path):
    write(tmp_path / "combined_data_1.txt", "1:\n30878,4,2005-12-26\n2647871,1,2005-12-30\n")
    write(tmp_path / "combined_data_2.txt", "2:\r\n30878,5,2005-07-12\r\n\r\n3:\r\n7,3,2004-01-01\r\n")
    write(tmp_path / "movie_titles.txt", "1,2003,Dinosaur Planet\n2,NULL,Isle of Man, The\n", "latin-1")
    netflix = load_netflix(tmp_path)
    assert netflix.user_ids.tolist() == [7, 30878, 2647871]
    assert netflix.item_ids.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(netflix.data.toarray(), [[0, 0, 3], [4, 5, 0], [1, 0, 0]])
    assert netflix.item_titles.tolist() == ["Dinosaur Planet", "Isle of Man, The", ""]
    single = load_netflix(tmp_path / "combined_data_1.txt")
    assert single.data.nnz == 2 and single.item_titles is not None


def test_load_netflix_combined_across_blocks(tmp_path, small_chunks):
    lines = []
    for movie in (5, 9):
        lines.append(f"{movie}:")
        lines += [f"{user},{(user + movie) % 5 + 1},2005-01-01" for user in range(1, 30)]
    write(tmp_path / "combined_data_1.txt", "\n".join(lines) + "\n")
    netflix = load_netflix(tmp_path)
    assert netflix.data.shape == (29, 2) and netflix.data.nnz == 58
    assert netflix.data[3, 1] == (4 + 9) % 5 + 1


def test_load_netflix_training_set(tmp_path, monkeypatch):
    training = tmp_path / "training_set"
    write(training / "mv_0000001.txt", "1:\n6,3,2005-09-06\n8,4,2005-05-13\n")
    write(training / "mv_0000002.txt", "2:\n8,5,2005-05-13")
    write(training / "mv_0000003.txt", "3:\n6,1,2005-05-13\n")
    expected = [[3, 0, 1], [4, 5, 0]]
    for chunk_bytes in (2**20, 10):  # one batch, or one batch per file
        monkeypatch.setattr(_parsing, "_CHUNK_BYTES", chunk_bytes)
        for path in (tmp_path, training, training / "mv_0000001.txt"):
            netflix = load_netflix(path)
            if path.name.startswith("mv_"):
                assert netflix.data.nnz == 2
            else:
                np.testing.assert_array_equal(netflix.data.toarray(), expected)
                assert netflix.item_ids.tolist() == [1, 2, 3]


def test_load_netflix_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such Netflix"):
        load_netflix(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="neither combined_data"):
        load_netflix(tmp_path)
    path = write(tmp_path / "combined_data_1.txt", "1:\n6,3,2005-09-06\n6,3\n")
    with pytest.raises(ValueError, match=r"combined_data_1\.txt, line 3: expected 'MovieID:'"):
        load_netflix(tmp_path)
    write(path, "6,3,2005-09-06\n")
    with pytest.raises(ValueError, match="line 1: a rating line comes before any 'MovieID:'"):
        load_netflix(tmp_path)
    write(path, "1:\n6,x,2005-09-06\n")
    with pytest.raises(ValueError, match="line 2: the rating of '6,x,2005-09-06' is not a number"):
        load_netflix(tmp_path)
    write(path, "")
    with pytest.raises(ValueError, match="is empty"):
        load_netflix(tmp_path)
    path.unlink()
    write(tmp_path / "training_set" / "mv_0000001.txt", "1:\n6,3,2005-09-06\n")
    write(tmp_path / "training_set" / "mv_0000002.txt", "6,3,2005-09-06\n")
    with pytest.raises(ValueError, match=r"mv_0000002\.txt, line 1: a training_set file must start"):
        load_netflix(tmp_path)


# --------------------------------------------------------------------------
# Million Song Dataset
# --------------------------------------------------------------------------

USER_A = "b80344d063b5ccb3212f76538f3d9e43d87dca9e"
USER_B = "85c1f87fea955d09b4bec2e36aee110927aedf9a"


def test_load_msd_taste_profile(tmp_path):
    path = write(
        tmp_path / "train_triplets.txt",
        f"{USER_A}\tSOAKIMP12A8C130995\t1\n{USER_A}\tSOBBMDR12A8C13253B\t2\n"
        f"{USER_B}\tSOAKIMP12A8C130995\t12\n{USER_A}\tSOAKIMP12A8C130995\t4\n",
    )
    for where in (path, tmp_path):
        msd = load_msd_taste_profile(where)
        assert msd.user_ids.tolist() == [USER_B, USER_A]
        assert msd.item_ids.tolist() == ["SOAKIMP12A8C130995", "SOBBMDR12A8C13253B"]
        np.testing.assert_array_equal(msd.data.toarray(), [[12, 0], [5, 2]])  # repeated pair summed


def test_load_msd_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file"):
        load_msd_taste_profile(tmp_path)
    path = write(tmp_path / "train_triplets.txt", f"{USER_A}\tSOAKIMP12A8C130995\t1\n{USER_A}\tSOBB\n")
    with pytest.raises(ValueError, match=r"train_triplets\.txt, line 2: expected 3 fields separated by '\\t'"):
        load_msd_taste_profile(path)
    write(path, f"{USER_A}\tSOAKIMP12A8C130995\t1\n\tSOBB\t3\n")
    with pytest.raises(ValueError, match="line 2: the user id is empty"):
        load_msd_taste_profile(path)


# --------------------------------------------------------------------------
# Generic logs
# --------------------------------------------------------------------------


def test_load_interactions_csv_string_ids(tmp_path):
    path = write(tmp_path / "log.csv", "item,user,score\nb,u2,1.5\na,u1,2\nb,u1,3\n")
    log = load_interactions(path, "user", "item", "score")
    assert log.user_ids.tolist() == ["u1", "u2"] and log.item_ids.tolist() == ["a", "b"]
    np.testing.assert_array_equal(log.data.toarray(), [[2, 3], [0, 1.5]])
    by_position = load_interactions(path, 1, 0, 2)
    np.testing.assert_array_equal(by_position.data.toarray(), log.data.toarray())


def test_load_interactions_counts_and_duplicates(tmp_path):
    path = write(tmp_path / "log.tsv", "u\ti\tr\n1\t1\t2\n1\t1\t5\n1\t1\t3\n2\t1\t1\n")
    assert load_interactions(path, "u", "i").data.toarray().tolist() == [[3], [1]]
    expected = {"last": 3, "first": 2, "max": 5, "sum": 10}
    for duplicates, value in expected.items():
        log = load_interactions(path, "u", "i", "r", duplicates=duplicates)
        assert log.data.toarray().tolist() == [[value], [1]], duplicates
    assert load_interactions(path, "u", "i", "r").data[0, 0] == 3  # default "last"
    with pytest.raises(ValueError, match="duplicates must be one of"):
        load_interactions(path, "u", "i", duplicates="mean")


def test_load_interactions_formats_and_separators(tmp_path):
    text = "user::item::rating\n10::20::4\n11::20::5\n"
    log = load_interactions(write(tmp_path / "log.dat", text), "user", "item", "rating")  # sniffed
    np.testing.assert_array_equal(log.data.toarray(), [[4], [5]])
    log = load_interactions(write(tmp_path / "log.txt", text.replace("::", ";")), "user", "item", sep=";")
    assert log.data.nnz == 2
    log = load_interactions(write(tmp_path / "log.data", text.replace("::", "|")), "user", "item", format="csv",
                            sep="|")  # fmt: skip
    assert log.user_ids.tolist() == [10, 11]
    with gzip.open(tmp_path / "log.csv.gz", "wt") as f:
        f.write(text.replace("::", ","))
    log = load_interactions(tmp_path / "log.csv.gz", "user", "item", "rating")
    np.testing.assert_array_equal(log.data.toarray(), [[4], [5]])
    with pytest.raises(ValueError, match="format must be one of"):
        load_interactions(tmp_path / "log.dat", "user", "item", format="xlsx")
    with pytest.raises(ValueError, match="Cannot infer the format"):
        load_interactions(write(tmp_path / "log.bin", "useritem\n"), "user", "item")
    with pytest.raises(ValueError, match="sep cannot be used with format='parquet'"):
        load_interactions(tmp_path / "log.dat", "user", "item", format="parquet", sep=",")
    with pytest.raises(ValueError, match="sep must be"):
        load_interactions(tmp_path / "log.dat", "user", "item", sep='"')


def test_load_interactions_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file"):
        load_interactions(tmp_path / "missing.csv", "u", "i")
    with pytest.raises(ValueError, match="is not a file"):
        load_interactions(tmp_path, "u", "i")
    with pytest.raises(ValueError, match="is empty"):
        load_interactions(write(tmp_path / "empty.csv", ""), "u", "i")
    with pytest.raises(ValueError, match="has no data rows"):
        load_interactions(write(tmp_path / "header.csv", "u,i\n\n"), "u", "i")
    path = write(tmp_path / "log.csv", "u,i,r\n1,2,3\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"log\.csv, line 3: expected 3 fields separated by ',', found 4"):
        load_interactions(path, "u", "i")
    with pytest.raises(ValueError, match=r"item_col='x' is not a column of .*\['u', 'i', 'r'\]"):
        load_interactions(path, "u", "x")
    with pytest.raises(ValueError, match="rating_col=7 is out of range"):
        load_interactions(path, "u", "i", 7)
    path = write(tmp_path / "log.csv", "u,i,r\n1,2,3\n1,,3\n")
    with pytest.raises(ValueError, match="line 3: the item id is empty"):
        load_interactions(path, "u", "i")
    path = write(tmp_path / "log.csv", "u,i,r\n1,2,3\n1,3,4..5\n")
    with pytest.raises(ValueError, match=r"line 3: rating '4\.\.5' is not a number"):
        load_interactions(path, "u", "i", "r")
    path = write(tmp_path / "log.csv", 'u,i,r\n1,2,3\n"1,3,4\n')
    with pytest.raises(ValueError, match=r"log\.csv, line 3"):
        load_interactions(path, "u", "i", "r")


def test_load_interactions_quoted_fields_and_empty_values(tmp_path):
    path = write(tmp_path / "log.csv", 'user,item,rating\n"Doe, Jane",1,\n"Roe, Rick",2,2.5\r\n\n"Doe, Jane",2,1\n')
    log = load_interactions(path, "user", "item", "rating")
    assert log.user_ids.tolist() == ["Doe, Jane", "Roe, Rick"]
    assert log.item_ids.tolist() == [1, 2]
    assert np.isnan(log.data[0, 0]) and log.data[0, 1] == 1 and log.data[1, 1] == 2.5


def test_load_interactions_ids_with_leading_zeros_stay_text(tmp_path):
    path = write(tmp_path / "log.csv", "u,i\n007,1\n7,1\n0,2\n")
    log = load_interactions(path, "u", "i")
    assert log.user_ids.tolist() == ["0", "007", "7"]
    assert log.item_ids.dtype == np.int64


def test_load_interactions_mixed_ids_across_blocks(tmp_path, small_chunks):
    rows = [f"{u},{i}" for u in range(1, 12) for i in (5, 6)] + ["alice,5", "bob,7"]
    path = write(tmp_path / "log.csv", "u,i\n" + "\n".join(rows) + "\n")
    log = load_interactions(path, "u", "i")
    assert log.user_ids.dtype == object
    assert sorted(log.user_ids.tolist()) == log.user_ids.tolist()
    assert set(log.user_ids.tolist()) == {str(u) for u in range(1, 12)} | {"alice", "bob"}
    assert log.item_ids.tolist() == [5, 6, 7]
    row = log.user_ids.tolist().index("11")
    assert log.data[[row]].toarray().tolist() == [[1, 1, 0]]
    assert log.data.nnz == len(rows)


def test_load_interactions_error_line_numbers_across_blocks(tmp_path, small_chunks):
    rows = [f"{u},{u % 7},{u % 5}.5" for u in range(40)]
    rows[33] = "33,4"
    path = write(tmp_path / "log.csv", "u,i,r\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"log\.csv, line 35: expected 3 fields"):
        load_interactions(path, "u", "i", "r")


def test_parsers_match_python_on_random_text(tmp_path, small_chunks):
    rng = np.random.default_rng(0)
    numbers = ["0", "7", "10", "3.5", "0.25", ".5", "2.", "12345678901234", "1e3", "-2", "4.0", "1.000000001",
               "nan", "0.1", "99999.99999"]  # fmt: skip
    users = rng.integers(0, 10**12, 300)
    rows = [(str(users[k % 300]), f"i{rng.integers(0, 50)}", numbers[rng.integers(len(numbers))]) for k in range(900)]
    rows = list({(u, i): (u, i, r) for u, i, r in rows}.values())  # unique pairs
    path = write(tmp_path / "log.csv", "u,i,r\n" + "".join(f"{u},{i},{r}\n" for u, i, r in rows))
    log = load_interactions(path, "u", "i", "r")
    row_of = {u: k for k, u in enumerate(log.user_ids.tolist())}
    col_of = {i: k for k, i in enumerate(log.item_ids.tolist())}
    dense = log.data.toarray()
    for u, i, r in rows:
        got, expected = dense[row_of[int(u)], col_of[i]], np.float32(float(r))
        assert got == expected or (np.isnan(got) and np.isnan(expected)), (u, i, r)
    assert log.data.nnz == len(rows)


def test_load_interactions_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"user": ["a", "b", "a"], "item": [3, 1, 1], "rating": [4.0, None, 2.5]})
    pq.write_table(table, tmp_path / "log.parquet")
    log = load_interactions(tmp_path / "log.parquet", "user", "item", "rating")
    assert log.user_ids.tolist() == ["a", "b"] and log.item_ids.tolist() == [1, 3]
    assert log.data[0, 0] == 2.5 and log.data[0, 1] == 4 and np.isnan(log.data[1, 0])
    assert load_interactions(tmp_path / "log.parquet", "user", "item").data.nnz == 3
    with pytest.raises(ValueError, match="is not a column"):
        load_interactions(tmp_path / "log.parquet", "user", "song")
    write(tmp_path / "bad.parquet", "not parquet")
    with pytest.raises(ValueError, match="is not a readable parquet file"):
        load_interactions(tmp_path / "bad.parquet", "user", "item")


def test_load_interactions_parquet_without_pyarrow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    write(tmp_path / "log.parquet", "whatever")
    with pytest.raises(ImportError, match="pip install pyarrow"):
        load_interactions(tmp_path / "log.parquet", "user", "item")


# --------------------------------------------------------------------------
# fetch_movielens over loopback HTTP
# --------------------------------------------------------------------------


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


GOOD_ZIP = zip_bytes(
    {
        "ml-100k/u.data": "1\t1\t5\t0\n2\t1\t3\t0\n2\t2\t4\t0\n",
        "ml-100k/u.item": U_ITEM,
        "ml-100k/README": "test archive\n",
    }
)


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving ``server.files`` and counting requests."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = server_state.files.get(self.path)
            server_state.requests.append(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state = type("State", (), {})()
    server_state.files, server_state.requests = {}, []
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server_state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def serve_archive(server, monkeypatch, body, *, sha256="auto", md5=None, size="auto"):
    server.files["/ml-100k.zip"] = body
    sha256 = hashlib.sha256(GOOD_ZIP).hexdigest() if sha256 == "auto" else sha256
    size = len(GOOD_ZIP) if size == "auto" else size
    archive = _fetch._Archive(f"{server.url}/ml-100k.zip", size, sha256, md5)
    monkeypatch.setitem(_fetch._MOVIELENS_ARCHIVES, "100k", archive)


def leftovers(folder):
    return sorted(p.name for p in folder.rglob(".*")) if folder.exists() else []


def test_fetch_movielens_downloads_once(tmp_path, server, monkeypatch):
    serve_archive(server, monkeypatch, GOOD_ZIP, md5=hashlib.md5(GOOD_ZIP).hexdigest())
    ml = fetch_movielens("ml-100k", data_home=tmp_path)
    np.testing.assert_array_equal(ml.data.toarray(), [[5, 0], [3, 4]])
    assert ml.item_titles.tolist() == ["Toy Story (1995)", "GoldenEye (1995)"]
    assert (tmp_path / "movielens" / "ml-100k" / "u.data").is_file()
    assert leftovers(tmp_path) == [] and not list((tmp_path / "movielens").glob("*.zip"))
    assert server.requests == ["/ml-100k.zip"]
    again = fetch_movielens("100k", data_home=tmp_path, download_if_missing=False)
    assert server.requests == ["/ml-100k.zip"]  # served from the cache
    np.testing.assert_array_equal(again.data.toarray(), ml.data.toarray())


def test_fetch_movielens_data_home_from_environment(tmp_path, server, monkeypatch):
    serve_archive(server, monkeypatch, GOOD_ZIP)
    monkeypatch.setenv("SKLEARN_SWDAE_DATA", str(tmp_path / "cache"))
    assert fetch_movielens("100k").data.nnz == 3
    assert (tmp_path / "cache" / "movielens" / "ml-100k").is_dir()


def test_fetch_movielens_not_cached(tmp_path, server, monkeypatch):
    serve_archive(server, monkeypatch, GOOD_ZIP)
    with pytest.raises(OSError, match="download_if_missing is False"):
        fetch_movielens("100k", data_home=tmp_path, download_if_missing=False)
    assert server.requests == []


@pytest.mark.parametrize(
    "body, checks, message",
    [
        (GOOD_ZIP[:-10] + b"x" * 10, {}, "has sha256"),
        (GOOD_ZIP + b"x", {}, "has size"),
        (GOOD_ZIP, {"md5": "0" * 32}, "has md5"),
        (b"not a zip at all", {"sha256": None, "size": None}, "not a valid zip file"),
    ],
)
def test_fetch_movielens_corrupted_archive(tmp_path, server, monkeypatch, body, checks, message):
    serve_archive(server, monkeypatch, body, **checks)
    unverified = checks.get("sha256", "") is None and checks.get("size", "") is None
    with pytest.warns(UserWarning, match="No checksum") if unverified else contextlib.nullcontext():
        with pytest.raises(OSError, match=message):
            fetch_movielens("100k", data_home=tmp_path)
    assert not (tmp_path / "movielens" / "ml-100k").exists() and leftovers(tmp_path) == []
    # The cache is not poisoned: the good archive is fetched next time.
    serve_archive(server, monkeypatch, GOOD_ZIP)
    assert fetch_movielens("100k", data_home=tmp_path).data.nnz == 3


def test_fetch_movielens_unreachable(tmp_path, server, monkeypatch):
    serve_archive(server, monkeypatch, GOOD_ZIP)
    server.files.clear()
    with pytest.raises(OSError, match="Could not download"):
        fetch_movielens("100k", data_home=tmp_path)
    assert leftovers(tmp_path) == []


def test_fetch_movielens_variants_and_table():
    with pytest.raises(ValueError, match="variant must be one of"):
        fetch_movielens("100m")
    assert set(_fetch._MOVIELENS_ARCHIVES) == {"100k", "1m", "10m", "20m", "25m", "latest-small"}
    for variant, archive in _fetch._MOVIELENS_ARCHIVES.items():
        assert archive.url == f"https://files.grouplens.org/datasets/movielens/ml-{variant}.zip"
        assert archive.sha256 is None or len(archive.sha256) == 64
        assert archive.md5 is None or len(archive.md5) == 32
        assert archive.sha256 is not None or archive.md5 is not None


# --------------------------------------------------------------------------
# Preprocessing and split presets
# --------------------------------------------------------------------------


def test_preprocess_ml20m_preset_hand_computed():
    ratings = sp.csr_array(
        np.array(
            [
                [5, 4, 4.5, 4, 4, 0, 0],  # 5 positives: kept
                [5, 5, 3.5, 4, 0, 0, 0],  # 3 positives: dropped
                [4, 0, 4, 5, 4, 5, 1],  # 5 positives: kept
                [3.5, 3, 2, 1, 0.5, 3, 3],  # no positive: dropped
                [4, 4, 4, 4, 4, 4, 4],  # 7 positives: kept
            ]
        )
    )
    dataset = preprocess_interactions(ratings, "ml-20m")
    X, users, items = dataset.data, dataset.user_indices, dataset.item_indices
    assert users.tolist() == [0, 2, 4]
    assert items.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert X.dtype == np.float32 and X.nnz == 5 + 5 + 7
    assert set(X.data.tolist()) == {1.0}
    np.testing.assert_array_equal(X.toarray()[1], [1, 0, 1, 1, 1, 1, 0])
    assert preprocess_interactions(ratings, "netflix").data.nnz == 17
    # Free parameters override the preset.
    dataset = preprocess_interactions(ratings, "ml-20m", min_rating=3.5, min_user_items=4)
    X, users, items = dataset.data, dataset.user_indices, dataset.item_indices
    assert users.tolist() == [0, 1, 2, 4] and X.nnz == 5 + 4 + 5 + 7
    dataset = preprocess_interactions(ratings.toarray(), min_rating=5)
    X, users, items = dataset.data, dataset.user_indices, dataset.item_indices
    assert users.tolist() == [0, 1, 2] and items.tolist() == [0, 1, 3, 5] and X.nnz == 1 + 2 + 2


def test_preprocess_filters_items_then_users_once():
    counts = np.array(
        [
            [1, 1, 1, 0],
            [1, 1, 0, 0],
            [1, 0, 0, 2],
            [0, 0, 9, 0],
        ]
    )
    # Item users: 3, 2, 2, 1 -> with min_item_users=2 item 3 goes first;
    # then user 2 has one item left and user 3 one: both dropped (min 2).
    dataset = preprocess_interactions(counts, min_item_users=2, min_user_items=2)
    X, users, items = dataset.data, dataset.user_indices, dataset.item_indices
    assert users.tolist() == [0, 1] and items.tolist() == [0, 1, 2]
    # Not iterated: item 2 keeps a single user although min_item_users=2.
    assert X.sum(axis=0).tolist() == [2, 2, 1]
    # Users first would have kept user 2 (2 items) and dropped item 3 later.
    dataset = preprocess_interactions(counts, min_user_items=2)
    X, users, items = dataset.data, dataset.user_indices, dataset.item_indices
    assert users.tolist() == [0, 1, 2] and items.tolist() == [0, 1, 2, 3]


def test_preprocess_msd_preset_equals_its_thresholds():
    rng = np.random.default_rng(0)
    played = rng.random((600, 80)) < np.linspace(0.2, 0.5, 80)  # 120 to 300 users per song
    counts = sp.csr_array(played * rng.integers(1, 50, (600, 80)))
    dataset = preprocess_interactions(counts, "msd")
    X, users, items = dataset.data, dataset.user_indices, dataset.item_indices
    assert PREPROCESSING_PRESETS["msd"] == {"min_rating": None, "min_user_items": 20, "min_item_users": 200}
    item_users = np.bincount(counts.indices, minlength=80)
    kept_items = np.flatnonzero(item_users >= 200)
    per_user = (counts[:, kept_items] > 0).sum(axis=1)
    assert 0 < kept_items.size < 80 and 0 < (per_user >= 20).sum() < 600
    assert users.tolist() == np.flatnonzero(per_user >= 20).tolist()
    assert items.tolist() == kept_items.tolist()  # none became empty here
    np.testing.assert_array_equal(X.toarray(), (counts[users][:, items] > 0).toarray())


def test_preprocess_values():
    with pytest.raises(ValueError, match="negative values"):
        preprocess_interactions(np.array([[1, -1]]))
    X = preprocess_interactions(np.array([[1, -1]]), min_rating=0).data
    assert X.toarray().tolist() == [[1]]
    dataset = preprocess_interactions(sp.csr_array(np.array([[np.nan, 2.0], [0, 0]])))
    X, users = dataset.data, dataset.user_indices
    assert X.nnz == 2 and users.tolist() == [0]  # NaN: an interaction of unknown rating
    with pytest.raises(ValueError, match="preset"):
        preprocess_interactions(np.ones((2, 2)), "ml-1m")
    with pytest.raises(ValueError, match="2D"):
        preprocess_interactions(np.ones(3))
    with pytest.raises(TypeError):
        PREPROCESSING_PRESETS["msd"]["min_user_items"] = 1


def test_paper_split_uses_table_1_sizes(monkeypatch):
    assert SPLIT_PRESETS == {"ml-20m": 10_000, "netflix": 40_000, "msd": 50_000}
    X, _ = make_interactions(20_050, 40, 4, density=0.1, random_state=0)
    split = paper_split(X, "ml-20m")
    assert split.validation_users.size == split.test_users.size == 10_000
    assert split.train_users.size == 50
    reference = strong_generalization_split(X, n_validation=10_000, n_test=10_000, random_state=DEFAULT_SPLIT_SEED)
    np.testing.assert_array_equal(split.test_users, reference.test_users)
    assert (split.test_held_out != reference.test_held_out).nnz == 0
    calls = []
    monkeypatch.setattr(preprocessing_module, "strong_generalization_split", lambda X, **kw: calls.append(kw))
    paper_split(X, "netflix")
    paper_split(X, "msd", random_state=3)
    assert calls == [
        {"n_validation": 40_000, "n_test": 40_000, "random_state": DEFAULT_SPLIT_SEED},
        {"n_validation": 50_000, "n_test": 50_000, "random_state": 3},
    ]
    with pytest.raises(ValueError, match="dataset"):
        paper_split(X, "ml-1m")


# --------------------------------------------------------------------------
# make_interactions
# --------------------------------------------------------------------------


def test_make_interactions_shapes_and_determinism():
    X, groups = make_interactions(300, 120, 6, density=0.05, random_state=0)
    assert X.shape == (300, 120) and groups.shape == (6, 120)
    assert isinstance(X, sp.csr_array) and X.dtype == np.float32 and groups.dtype == bool
    assert set(X.data.tolist()) == {1.0}
    assert np.diff(X.indptr).min() >= 1
    X2, groups2 = make_interactions(300, 120, 6, density=0.05, random_state=0)
    assert (X != X2).nnz == 0 and (groups != groups2).nnz == 0
    X3, _ = make_interactions(300, 120, 6, density=0.05, random_state=1)
    assert (X != X3).nnz > 0
    assert (groups.sum(axis=0) >= 1).all()  # every item has a primary group


@pytest.mark.parametrize("density", [0.02, 0.05, 0.1])
def test_make_interactions_density(density):
    X, _ = make_interactions(1000, 300, 5, density=density, random_state=0)
    assert X.nnz / (1000 * 300) == pytest.approx(density, rel=0.15)


def test_make_interactions_disjoint_groups():
    _, groups = make_interactions(200, 101, 7, item_overlap=0.0, random_state=0)
    np.testing.assert_array_equal(groups.sum(axis=0), np.ones(101))
    sizes = groups.sum(axis=1)
    assert sizes.max() - sizes.min() <= 1
    _, groups = make_interactions(200, 101, 7, item_overlap=1.0, random_state=0)
    np.testing.assert_array_equal(groups.sum(axis=0), np.full(101, 2))


# --------------------------------------------------------------------------
# Real data (shared/data), skipped when absent
# --------------------------------------------------------------------------


from conftest import real_folder  # noqa: E402

# (name, users, items, ratings, rating histogram, after ratings >= 4 and
# users >= 5: users, items, interactions).  The raw counts are those of each
# PROVENANCE.md; the preprocessed counts were checked with awk.
REAL_DATASETS = [
    ("ml-100k", 943, 1682, 100_000, {1: 6110, 2: 11370, 3: 27145, 4: 34174, 5: 21201}, (938, 1447, 55_361)),
    ("ml-latest-small", 610, 9724, 100_836, {0.5: 1370, 4.0: 26818, 5.0: 13211}, (603, 6298, 48_562)),
    ("ml-1m", 6040, 3706, 1_000_209, {1: 56172, 2: 107556, 3: 261196, 4: 348970, 5: 226309}, (6034, 3532, 575_270)),
]


@pytest.mark.parametrize("name, n_users, n_items, n_ratings, histogram, preprocessed", REAL_DATASETS)
def test_real_movielens(name, n_users, n_items, n_ratings, histogram, preprocessed):
    ml = load_movielens(real_folder(name))
    assert ml.data.shape == (n_users, n_items) and ml.data.nnz == n_ratings
    assert ml.user_ids.size == n_users and ml.item_ids.size == n_items
    assert np.all(np.diff(ml.user_ids) > 0) and np.all(np.diff(ml.item_ids) > 0)
    for value, count in histogram.items():
        assert np.count_nonzero(ml.data.data == value) == count
    assert np.isnan(ml.data.data).sum() == (6 if name == "ml-1m" else 0)
    assert ml.item_titles[0] == "Toy Story (1995)"
    assert ml.item_genres.shape == (n_items, ml.genre_names.size) and ml.item_genres.any(axis=1).mean() > 0.99
    dataset = preprocess_interactions(ml.data, "ml-20m")
    X, users, items = dataset.data, dataset.user_indices, dataset.item_indices
    assert (X.shape[0], X.shape[1], X.nnz) == preprocessed
    # The kept indices map back to the original ratings.
    kept = ml.data[users][:, items]
    assert np.all((kept.toarray() >= 4) == (X.toarray() == 1))


def test_real_ml100k_matches_csv_module():
    folder = real_folder("ml-100k")
    ml = load_movielens(folder)
    with open(folder / "u.data", newline="") as f:
        rows = [(int(u), int(i), float(r)) for u, i, r, _ in csv.reader(f, delimiter="\t")]
    row_of = {u: k for k, u in enumerate(ml.user_ids.tolist())}
    col_of = {i: k for k, i in enumerate(ml.item_ids.tolist())}
    expected = sp.csr_array(
        ([r for _, _, r in rows], ([row_of[u] for u, _, _ in rows], [col_of[i] for _, i, _ in rows])),
        shape=ml.data.shape,
    )
    assert abs(expected - ml.data).max() == 0
