"""Data in, ids out: preprocess_interactions' Bunch, the data home, no internal paths in docs."""

import ast
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils import Bunch

from sklearn_swdae.datasets import get_data_home, load_interactions, load_movielens, preprocess_interactions

ROOT = Path(__file__).resolve().parents[1]

RATINGS = np.array(
    [
        [5, 4, 4, 4, 4, 1],
        [5, 5, 0, 3, 0, 0],
        [4, 4, 5, 5, 4, 0],
    ]
)


def _movielens_100k(folder):
    """A tiny ML-100K layout: u.data, u.item, u.genre."""
    folder.mkdir()
    (folder / "u.data").write_text(
        "".join(f"{u}\t{i}\t{r}\t0\n" for u, i, r in [
            (1, 1, 5), (1, 2, 4), (1, 3, 1), (2, 1, 4), (2, 2, 5), (2, 4, 4), (3, 3, 5), (3, 4, 5),
        ])
    )  # fmt: skip
    genres = ["unknown", "Action", "Comedy"]
    (folder / "u.genre").write_text("".join(f"{g}|{k}\n" for k, g in enumerate(genres)))
    flags = {1: "0|1|0", 2: "0|0|1", 3: "0|1|1", 4: "1|0|0"}
    titles = {1: "Toy Story (1995)", 2: "GoldenEye (1995)", 3: "Four Rooms (1995)", 4: "Get Shorty (1995)"}
    (folder / "u.item").write_text("".join(f"{i}|{titles[i]}|01-Jan-1995||http://x|{flags[i]}\n" for i in titles))
    return folder


def test_preprocess_returns_a_bunch_with_positions_as_ids():
    dataset = preprocess_interactions(RATINGS, "ml-20m")
    assert isinstance(dataset, Bunch)
    assert dataset.user_indices.tolist() == [0, 2] and dataset.item_indices.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(dataset.user_ids, dataset.user_indices)
    np.testing.assert_array_equal(dataset.item_ids, dataset.item_indices)
    assert dataset.data.shape == (2, 5) and dataset.data.dtype == np.float32
    with pytest.raises(ValueError, match="too many values to unpack"):
        X, users, items = preprocess_interactions(RATINGS, "ml-20m")  # the old tuple: fails loudly


def test_preprocess_keeps_movielens_ids_titles_and_genres(tmp_path):
    ml = load_movielens(_movielens_100k(tmp_path / "ml-100k"))
    dataset = preprocess_interactions(ml, min_rating=4, min_user_items=2)
    # Movie 3 has a single rating >= 4 (user 3) and user 3 keeps two items.
    kept = dataset.item_ids.tolist()
    assert kept == [1, 2, 3, 4]
    dataset = preprocess_interactions(ml, min_rating=4, min_item_users=2)
    assert dataset.item_ids.tolist() == [1, 2, 4]
    assert dataset.item_titles.tolist() == ["Toy Story (1995)", "GoldenEye (1995)", "Get Shorty (1995)"]
    assert dataset.genre_names.tolist() == ["unknown", "Action", "Comedy"]
    np.testing.assert_array_equal(dataset.item_genres, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert dataset.user_ids.tolist() == [1, 2, 3]
    # The ids index the original matrix: data[k, j] is the rating of user_ids[k] on item_ids[j].
    original = ml.data[dataset.user_indices][:, dataset.item_indices].toarray() >= 4
    np.testing.assert_array_equal(dataset.data.toarray() > 0, original)
    assert dataset.variant == "100k" and "MovieLens" in dataset.DESCR


def test_preprocess_keeps_the_ids_of_an_interaction_log(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user,item\nann,x\nann,y\nbob,y\nbob,z\ncid,z\n")
    log = load_interactions(path, "user", "item")
    dataset = preprocess_interactions(log, min_user_items=2)
    assert dataset.user_ids.tolist() == ["ann", "bob"]
    assert dataset.item_ids.tolist() == ["x", "y", "z"]
    assert "item_titles" not in dataset


def test_preprocess_reads_a_dataframe_index_and_columns():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(RATINGS, index=["a", "b", "c"], columns=[11, 12, 13, 14, 15, 16])
    dataset = preprocess_interactions(df, "ml-20m")
    assert dataset.user_ids.tolist() == ["a", "c"] and dataset.item_ids.tolist() == [11, 12, 13, 14, 15]


def test_preprocess_rejects_inconsistent_ids():
    with pytest.raises(ValueError, match="item_ids has 2 entries for the 6 items"):
        preprocess_interactions(Bunch(data=RATINGS, item_ids=np.arange(2)))
    with pytest.raises(ValueError, match="dataset Bunch with a 'data' matrix"):
        preprocess_interactions({"ratings": RATINGS})
    assert preprocess_interactions(Bunch(data=sp.csr_array(RATINGS))).data.nnz == 14


def test_data_home_follows_argument_environment_then_scikit_learn(tmp_path, monkeypatch):
    assert get_data_home(tmp_path / "a") == str(tmp_path / "a") and (tmp_path / "a").is_dir()
    monkeypatch.setenv("SKLEARN_SWDAE_DATA", str(tmp_path / "b"))
    assert get_data_home() == str(tmp_path / "b") and (tmp_path / "b").is_dir()
    monkeypatch.delenv("SKLEARN_SWDAE_DATA")
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "c"))
    assert get_data_home() == str(tmp_path / "c")


def _docstrings(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)))]
    return [ast.get_docstring(node) or "" for node in nodes]


def test_public_docstrings_and_examples_name_no_internal_folder():
    offenders = []
    for path in sorted((ROOT / "sklearn_swdae").rglob("*.py")):
        offenders += [path.name for text in _docstrings(path) if "shared/data" in text]
    for path in sorted((ROOT / "examples").glob("*.py")):
        if "shared/data" in path.read_text(encoding="utf-8"):
            offenders.append(path.name)
    assert offenders == []
