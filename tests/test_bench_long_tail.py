"""benchmarks/bench_long_tail.py: hits are counted in the right popularity
bucket, blends and corrections score the models they say they score."""

import json

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_long_tail")


def test_hits_fall_in_the_held_out_items_popularity_bucket(bench, monkeypatch):
    monkeypatch.setattr(bench, "TOP", 1)
    fold_in = sp.csr_array(np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0]]))
    held_out = sp.csr_array(np.array([[0, 0, 1, 1, 0], [0, 0, 0, 0, 1]]))
    popularity = np.array([50, 40, 0, 2, 30])
    # User 0's best unseen item is 3 (held out, 2 training users); item 0 is
    # seen and must not count.  User 1's best is 2, not its held-out item 4.
    scores = np.array([[9.0, 0.0, 1.0, 5.0, 0.0], [0.0, 9.0, 5.0, 0.0, 1.0]])
    hits, held = bench.hits_by_popularity(scores, fold_in, held_out, popularity, [0, 1, 3, 10, 51])
    np.testing.assert_array_equal(held, [1, 1, 0, 1])
    np.testing.assert_array_equal(hits, [0, 1, 0, 0])


def test_standardized_rows_and_constant_rows(bench):
    z = bench.standardized(np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]]))
    np.testing.assert_allclose(z.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(z[0].std(), 1.0)
    np.testing.assert_array_equal(z[1], 0.0)


def test_end_to_end_on_synthetic_data(bench, tmp_path, capsys):
    out = tmp_path / "tail.json"
    record = bench.main(["--dataset", "synthetic", "--ease-alpha", "10", "--gammas", "0", "0.5", "--out", str(out)])
    assert json.loads(out.read_text()) == record
    assert record["buckets"][0] == "0" and record["buckets"][-1] == "100+"
    assert sum(record["held_out"]) > 0
    for hits in record["hits"].values():
        assert all(0 <= h <= n for h, n in zip(hits, record["held_out"]))
    # w = 1 is SW-DAE alone, as is gamma = 0; w = 0 is EASE alone.
    assert record["blends"]["1"] == pytest.approx(record["popularity_correction"]["0"])
    assert record["blends"]["0"] != pytest.approx(record["blends"]["1"])
    assert 0 < record["blends"]["0.5"] <= 1
    printed = capsys.readouterr().out
    assert "| training users of the item | held-out items | SW-DAE | EASE |" in printed


@pytest.mark.parametrize(
    "argv, option",
    [
        (["--ease-alpha", "0"], "--ease-alpha"),
        (["--edges", "1", "3"], "--edges"),
        (["--edges", "0", "5", "3"], "--edges"),
        (["--weights", "1.5"], "--weights"),
    ],
)
def test_bad_options_are_usage_errors(bench, argv, option, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--dataset", "synthetic", *argv])
    assert option in capsys.readouterr().err
