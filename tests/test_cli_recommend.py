"""``swdae recommend``: titles next to ids, unknown ids named, users with no known item."""

import csv
import io
import json

import numpy as np
import pytest

from sklearn_swdae.cli import main
from sklearn_swdae.datasets import make_interactions

SMALL_MODEL = [
    "--n-clusters",
    "8",
    "--overlap",
    "2",
    "--n-components",
    "4",
    "--max-iter",
    "2",
    "--device",
    "cpu",
    "--verbose",
    "0",
]
N_USERS, N_ITEMS = 300, 40


def _movie_id(i):
    return 1000 + 7 * i


@pytest.fixture(scope="module")
def movielens(tmp_path_factory):
    """A MovieLens folder (ratings.csv + movies.csv) and a model fitted on it."""
    X, _ = make_interactions(N_USERS, N_ITEMS, 4, density=0.15, random_state=0)
    folder = tmp_path_factory.mktemp("ml") / "ml-latest-small"
    folder.mkdir()
    rows, cols = X.nonzero()
    with open(folder / "ratings.csv", "w") as fh:
        fh.write("userId,movieId,rating,timestamp\n")
        for u, i in zip(rows, cols):
            fh.write(f"{u + 1},{_movie_id(i)},5.0,0\n")
    with open(folder / "movies.csv", "w") as fh:
        fh.write("movieId,title,genres\n")
        for i in range(N_ITEMS):
            fh.write(f'{_movie_id(i)},"Movie {i}, The (2000)",Drama\n')
    model = folder.parent / "model.joblib"
    assert main(["fit", "--data", str(folder), "--format", "movielens", "--out", str(model), *SMALL_MODEL]) == 0
    return folder, model


def _records(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_recommend_prints_the_titles_saved_by_fit(tmp_path, movielens, capsys):
    _, model = movielens
    history = tmp_path / "history.csv"
    history.write_text(f"user,item\nalice,{_movie_id(0)}\nalice,{_movie_id(1)}\n")
    capsys.readouterr()
    assert main(["recommend", "--model", str(model), "--history", str(history), "--top-n", "4"]) == 0
    records = _records(capsys.readouterr().out)
    assert list(records[0]) == ["user", "rank", "item", "score", "title"] and len(records) == 4
    for record in records:
        i = (int(record["item"]) - 1000) // 7
        assert record["title"] == f"Movie {i}, The (2000)"  # a quoted title with a comma survives


def test_item_names_file_for_a_generic_log(tmp_path, capsys):
    X, _ = make_interactions(N_USERS, N_ITEMS, 4, density=0.15, random_state=0)
    log = tmp_path / "log.csv"
    rows, cols = X.nonzero()
    log.write_text("user,item\n" + "".join(f"u{u},sku{i}\n" for u, i in zip(rows, cols)))
    model = tmp_path / "model.joblib"
    assert (
        main(
            [
                "fit",
                "--data",
                str(log),
                "--format",
                "csv",
                "--user-col",
                "user",
                "--item-col",
                "item",
                "--out",
                str(model),
                *SMALL_MODEL,
            ]
        )
        == 0
    )
    names = tmp_path / "names.csv"
    names.write_text("item,name\n" + "".join(f"sku{i},Product {i}\n" for i in range(N_ITEMS)))
    history = tmp_path / "history.csv"
    history.write_text("user,item\nann,sku1\n")
    capsys.readouterr()
    assert (
        main(
            [
                "recommend",
                "--model",
                str(model),
                "--history",
                str(history),
                "--top-n",
                "3",
                "--item-names",
                str(names),
                "--output-format",
                "json",
            ]
        )
        == 0
    )
    records = json.loads(capsys.readouterr().out)
    assert [r["title"] for r in records] == [f"Product {r['item'][3:]}" for r in records]
    # Without --item-names, a generic log has no titles: the output keeps its four columns.
    assert main(["recommend", "--model", str(model), "--history", str(history), "--top-n", "3"]) == 0
    assert list(_records(capsys.readouterr().out)[0]) == ["user", "rank", "item", "score"]
    # A names file that names none of the model's items is an error, not an empty column.
    names.write_text("item,name\nother,Nothing\n")
    assert main(["recommend", "--model", str(model), "--history", str(history), "--item-names", str(names)]) == 2
    assert "names none of the model's item ids" in capsys.readouterr().err


def test_item_names_from_a_movielens_folder(tmp_path, movielens, capsys):
    folder, model = movielens
    (folder.parent / "other").mkdir(exist_ok=True)
    renamed = folder.parent / "other" / "movies.csv"
    renamed.write_text(
        "movieId,title,genres\n" + "".join(f"{_movie_id(i)},Renamed {i},Drama\n" for i in range(N_ITEMS))
    )
    history = tmp_path / "history.csv"
    history.write_text(f"user,item\nalice,{_movie_id(2)}\n")
    capsys.readouterr()
    assert (
        main(
            [
                "recommend",
                "--model",
                str(model),
                "--history",
                str(history),
                "--top-n",
                "2",
                "--item-names",
                str(renamed.parent),
            ]
        )
        == 0
    )
    titles = [r["title"] for r in _records(capsys.readouterr().out)]
    assert len(titles) == 2 and all(t.startswith("Renamed ") for t in titles)


def test_unknown_ids_are_named_and_unknown_histories_flagged(tmp_path, movielens, capsys):
    _, model = movielens
    history = tmp_path / "history.csv"
    history.write_text(
        f"user,item\nalice,{_movie_id(0)}\nalice,424242\nbob,999999\nbob,888888\n"
        + "".join(f"carol,{7_000_000 + k}\n" for k in range(7))
    )
    capsys.readouterr()
    assert main(["recommend", "--model", str(model), "--history", str(history), "--top-n", "3"]) == 0
    captured = capsys.readouterr()
    err = captured.err
    assert "10 item id(s) of the history are unknown" in err
    assert "ignored: 424242, 7000000, 7000001, 7000002, 7000003 and 5 more" in err  # the first few
    assert "2 user(s) have no item known to the model (bob, carol)" in err
    assert "not personalized" in err
    assert {r["user"] for r in _records(captured.out)} == {"alice", "bob", "carol"}


def test_padding_never_prints_an_item(tmp_path, movielens, capsys):
    """A user who has seen all items but one gets one line, not padded rows."""
    _, model = movielens
    history = tmp_path / "history.csv"
    history.write_text("user,item\n" + "".join(f"dave,{_movie_id(i)}\n" for i in range(1, N_ITEMS)))
    capsys.readouterr()
    assert main(["recommend", "--model", str(model), "--history", str(history), "--top-n", "5"]) == 0
    records = _records(capsys.readouterr().out)
    items = {int(r["item"]) for r in records}
    assert items <= {_movie_id(0)} and np.all([r["user"] == "dave" for r in records])
